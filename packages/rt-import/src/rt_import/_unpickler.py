"""A restricted pickle interpreter: the machine behind ``rt_import.load``.

Python's ``pickle.Unpickler`` imports and calls whatever a file names; even with
``find_class`` overridden, the C unpickler sizes its memo from indices in the file (a
``LONG_BINPUT 4294967295`` asks for gigabytes) and calls ``append``/``extend``/``__setstate__``
on whatever object is on the stack. This module interprets the pickle opcodes itself (the
approach of PyTorch's ``torch/_weights_only_unpickler.py``, extended to protocols 0-5):

* ``GLOBAL``/``STACK_GLOBAL``/``INST``/``OBJ`` names are looked up by the caller's
  ``find_global(module, name)``, which returns a value from an allow-list or raises
  ``UnsafeCheckpointError`` naming the global; nothing is ever imported. Extension codes
  (``EXT1/2/4``) are refused the same way.
* Only ``SafeCallable`` objects (allow-listed functions that validate their arguments) can be
  called by ``REDUCE``/``NEWOBJ``/``NEWOBJ_EX``/``INST``/``OBJ``; ``BUILD`` goes to the caller's
  ``build`` hook; ``APPEND(S)`` work on lists only, ``SETITEM(S)`` on dicts only,
  ``ADDITEMS`` on sets only.
* The memo is a dict (no allocation sized by an index in the file); every read is bounded
  by the end of the pickle, so a declared length larger than the data raises ``FormatError``
  before anything is allocated; tuples used as dict keys or set items are checked for
  pathological nesting before they are hashed.

Structural problems (truncation, unknown opcodes, stack underflow, a missing memo entry,
bad UTF-8) raise ``FormatError``.

    >>> import io, pickle
    >>> from rt_import._unpickler import Unpickler, Source
    >>> data = pickle.dumps({"a": [1, 2.5, "x"]}, protocol=2)
    >>> Unpickler(Source(io.BytesIO(data), 0, len(data)), find_global=None).load()
    {'a': [1, 2.5, 'x']}
"""
import _compat_pickle
import codecs
import struct
import threading
from collections import Counter, OrderedDict

from rt_import.errors import FormatError, UnsafeCheckpointError

__all__ = ["Source", "SafeCallable", "Unpickler"]

_MAX_KEY_DEPTH = 64          # nesting allowed in a tuple that gets hashed
_KEY_BUDGET = 10_000_000     # tuple elements hashed (as keys / set items) in one load
_HASH_MODULUS = (1 << 61) - 1  # sys.hash_info.modulus on 64-bit CPython
_INF = float("inf")
_local = threading.local()
_MAX_LINE = 1 << 20          # a text-opcode line (protocol 0) longer than this is corrupt


class Source:
    """Bounded, buffered reads of the bytes ``[start, end)`` of a seekable binary file.

    ``read(n)`` returns exactly ``n`` bytes or raises ``FormatError`` (without reading or
    allocating anything when ``n`` exceeds what is left); ``tell()`` is the absolute offset of
    the next unread byte, so a caller can find where a pickle ended."""

    _CHUNK = 1 << 16

    def __init__(self, file, start, end):
        self._file = file
        self._end = end
        self._buf = b""
        self._pos = 0              # index of the next byte in _buf
        self._buf_start = start    # file offset of _buf[0]
        self._file_pos = start     # file offset just after _buf
        file.seek(start)

    def tell(self):
        return self._buf_start + self._pos

    def remaining(self):
        return self._end - self.tell()

    def _fill(self, n):
        """Make the buffer hold at least ``n`` unread bytes (FormatError if the data ends)."""
        head = self._buf[self._pos:]
        need = n - len(head)
        if need <= 0:
            return
        if n > self.remaining():
            raise FormatError(f"truncated pickle: {n} bytes needed at offset {self.tell()}, "
                              f"{self.remaining()} left")
        want = min(max(need, self._CHUNK), self._end - self._file_pos)
        self._file.seek(self._file_pos)
        more = self._file.read(want)
        if len(more) < need:
            raise FormatError(f"truncated file: {need} bytes needed at offset "
                              f"{self._file_pos}, the file ends first")
        self._buf_start = self._file_pos - len(head)
        self._file_pos += len(more)
        self._buf = head + more
        self._pos = 0

    def read(self, n):
        if n < 0:
            raise FormatError("corrupt pickle: negative length")
        pos = self._pos
        if pos + n > len(self._buf):
            self._fill(n)
            pos = self._pos
        self._pos = pos + n
        return self._buf[pos:pos + n]

    def readline(self):
        """The bytes up to and including the next newline (protocol-0 opcode arguments)."""
        while True:
            i = self._buf.find(b"\n", self._pos)
            if i >= 0:
                line = self._buf[self._pos:i + 1]
                self._pos = i + 1
                return line
            have = len(self._buf) - self._pos
            if have >= _MAX_LINE:
                raise FormatError(f"pickle text line longer than {_MAX_LINE} bytes at offset "
                                  f"{self.tell()}")
            if self.remaining() <= have:
                raise FormatError(f"truncated pickle: a line at offset {self.tell()} has no "
                                  "newline")
            # grow geometrically: a long line costs linear time, not quadratic
            self._fill(min(max(2 * have, have + self._CHUNK), self.remaining()))


class SafeCallable:
    """An allow-listed callable: ``fn`` validates its own arguments (so no call can allocate
    an amount of memory the file merely declares). ``name`` is the global it stands for."""

    __slots__ = ("name", "fn")

    def __init__(self, name, fn):
        self.name = name
        self.fn = fn

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def __repr__(self):
        return f"<allowed global {self.name}>"


class _Mark:
    __repr__ = lambda self: "<MARK>"  # noqa: E731


def _decode_long(data):
    return int.from_bytes(data, "little", signed=True)


def _key_error(what):
    return FormatError(f"{what} as a dict key or set item is not allowed (hashing such keys "
                       "can be made to collide or to recurse without bound)")


def _check_key(obj):
    """Refuse dict keys / set items whose hashing an attacker controls: tuples nested deeply
    enough to exhaust the C stack (tuple hashing recurses without a recursion guard), ints
    and floats of magnitude 2**61 and more (their hashes wrap modulo 2**61 - 1, so a file
    could fill a dict with colliding keys and make each insertion linear), complex numbers
    and frozensets (hashes that combine parts linearly or by XOR, collisions are easy to
    build). Tuple elements are checked by the same rules; the elements visited across one
    ``Unpickler.load`` are counted, since tuples do not cache their hash."""
    t = type(obj)
    if t is str or t is bytes or t is bool or obj is None:
        return
    if t is int:
        if not -_HASH_MODULUS < obj < _HASH_MODULUS:
            raise _key_error("an int of magnitude 2**61 or more")
        return
    if t is float:
        if obj == obj and abs(obj) != _INF and abs(obj) >= _HASH_MODULUS:
            raise _key_error("a float of magnitude 2**61 or more")
        return
    if t is complex or isinstance(obj, frozenset):
        raise _key_error(f"a {t.__name__}")
    if not isinstance(obj, tuple):
        return          # rt tensors, dtypes, devices: hashed by identity or a small code
    stack = [(obj, 1)]
    budget = _budget()
    while stack:
        o, depth = stack.pop()
        if depth > _MAX_KEY_DEPTH:
            raise FormatError(f"a dict key or set item nested more than {_MAX_KEY_DEPTH} "
                              "levels deep")
        budget[0] -= len(o)
        if budget[0] < 0:
            raise FormatError(f"more than {_KEY_BUDGET} tuple elements hashed as dict keys "
                              "or set items")
        for item in o:
            if isinstance(item, tuple):
                stack.append((item, depth + 1))
            else:
                _check_key(item)


def _budget():
    budget = getattr(_local, "budget", None)
    if budget is None:
        budget = _local.budget = [_KEY_BUDGET]
    return budget


class Unpickler:
    """Interprets one pickle from ``source`` (a ``Source``).

    ``find_global(module, name)`` -> the allow-listed object for a global (already mapped
    from Python 2 names), or raises ``UnsafeCheckpointError``; ``None`` refuses every global.
    ``persistent_load(pid)`` -> the object for a persistent id (``None``: refuse them).
    ``build(obj, state)`` applies a ``BUILD`` (``None``: refuse)."""

    def __init__(self, source, find_global, persistent_load=None, build=None,
                 encoding="utf-8"):
        self._src = source
        self._find_global = find_global
        self._persistent_load = persistent_load
        self._build = build
        self._encoding = encoding

    # -- helpers -----------------------------------------------------------------------
    def _pop(self):
        try:
            return self._stack.pop()
        except IndexError:
            raise FormatError("corrupt pickle: stack underflow") from None

    def _top(self):
        if not self._stack:
            raise FormatError("corrupt pickle: stack underflow")
        return self._stack[-1]

    def _pop_mark(self):
        items = self._stack
        if not self._metastack:
            raise FormatError("corrupt pickle: MARK expected")
        self._stack = self._metastack.pop()
        return items

    def _global(self, module, name):
        if not isinstance(module, str) or not isinstance(name, str):
            raise FormatError("corrupt pickle: a global's module and name must be strings")
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        if self._find_global is None:
            raise UnsafeCheckpointError(f"the pickle asks for the global {module}.{name}; no "
                                        "global is allowed here")
        return self._find_global(module, name)

    def _call(self, func, args, kwargs=None, what="REDUCE"):
        if not isinstance(func, SafeCallable):
            raise UnsafeCheckpointError(f"{what} of {_describe(func)}: only allow-listed "
                                        "functions and classes can be called")
        if not isinstance(args, tuple):
            raise FormatError(f"corrupt pickle: {what} arguments must be a tuple, got "
                              f"{type(args).__name__}")
        if kwargs is not None and not isinstance(kwargs, dict):
            raise FormatError(f"corrupt pickle: {what} keyword arguments must be a dict")
        try:
            return func.fn(*args, **(kwargs or {}))
        except (FormatError, UnsafeCheckpointError):
            raise
        except (TypeError, ValueError, OverflowError, IndexError, KeyError,
                RuntimeError) as exc:
            raise FormatError(f"invalid arguments for {func.name}: {exc}") from None

    def _line(self):
        line = self._src.readline()
        return line[:-1]

    def _text(self, data):
        try:
            return data.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError as exc:
            raise FormatError(f"corrupt pickle: invalid UTF-8 string ({exc.reason})") from None

    def _bytestring(self, data):
        # Python 2 ``str``: PyTorch's torch.load decodes these with encoding='utf-8'
        if self._encoding == "bytes":
            return data
        try:
            return data.decode(self._encoding, "strict")
        except UnicodeDecodeError as exc:
            raise FormatError(f"corrupt pickle: a Python 2 string is not valid "
                              f"{self._encoding} ({exc.reason})") from None

    def _memo_get(self, idx):
        try:
            return self._memo[idx]
        except KeyError:
            raise FormatError(f"corrupt pickle: memo entry {idx} used before it was "
                              "stored") from None

    # -- the loop ----------------------------------------------------------------------
    def load(self):
        """Interpret opcodes until STOP; the object on top of the stack."""
        self._stack = []
        self._metastack = []
        self._memo = {}
        _local.budget = [_KEY_BUDGET]
        read = self._src.read
        dispatch = _DISPATCH
        while True:
            key = read(1)[0]
            handler = dispatch.get(key)
            if handler is None:
                raise FormatError(f"corrupt pickle: unknown opcode 0x{key:02x} at offset "
                                  f"{self._src.tell() - 1}")
            if handler is _STOP:
                return self._pop()
            handler(self)

    # -- opcodes (CPython's Lib/pickle.py ``_Unpickler`` documents each) ---------------
    def _proto(self):
        proto = self._src.read(1)[0]
        if proto > 5:
            raise FormatError(f"unsupported pickle protocol {proto}")

    def _frame(self):
        size, = struct.unpack("<Q", self._src.read(8))
        if size > self._src.remaining():
            raise FormatError("truncated pickle: a frame is longer than the data")

    def _persid(self):
        pid = self._text(self._line())
        self._stack.append(self._persistent(pid))

    def _binpersid(self):
        self._stack.append(self._persistent(self._pop()))

    def _persistent(self, pid):
        if self._persistent_load is None:
            raise UnsafeCheckpointError("the pickle uses a persistent id where none is allowed")
        return self._persistent_load(pid)

    def _none(self):
        self._stack.append(None)

    def _false(self):
        self._stack.append(False)

    def _true(self):
        self._stack.append(True)

    def _int(self):
        data = self._line()
        if data == b"00":
            val = False
        elif data == b"01":
            val = True
        else:
            val = _parse(int, data, "INT")
        self._stack.append(val)

    def _binint(self):
        self._stack.append(struct.unpack("<i", self._src.read(4))[0])

    def _binint1(self):
        self._stack.append(self._src.read(1)[0])

    def _binint2(self):
        self._stack.append(struct.unpack("<H", self._src.read(2))[0])

    def _long(self):
        data = self._line()
        if data.endswith(b"L"):
            data = data[:-1]
        self._stack.append(_parse(int, data, "LONG"))

    def _long1(self):
        n = self._src.read(1)[0]
        self._stack.append(_decode_long(self._src.read(n)))

    def _long4(self):
        n, = struct.unpack("<i", self._src.read(4))
        if n < 0:
            raise FormatError("corrupt pickle: LONG4 with a negative byte count")
        self._stack.append(_decode_long(self._src.read(n)))

    def _float(self):
        self._stack.append(_parse(float, self._line(), "FLOAT"))

    def _binfloat(self):
        self._stack.append(struct.unpack(">d", self._src.read(8))[0])

    def _string(self):
        data = self._line()
        if len(data) >= 2 and data[0] == data[-1] and data[0] in b"\"'":
            data = data[1:-1]
        else:
            raise FormatError("corrupt pickle: the STRING opcode argument must be quoted")
        try:
            raw = codecs.escape_decode(data)[0]
        except ValueError as exc:
            raise FormatError(f"corrupt pickle: bad STRING escape ({exc})") from None
        self._stack.append(self._bytestring(raw))

    def _binstring(self):
        n, = struct.unpack("<i", self._src.read(4))
        if n < 0:
            raise FormatError("corrupt pickle: BINSTRING with a negative length")
        self._stack.append(self._bytestring(self._src.read(n)))

    def _short_binstring(self):
        n = self._src.read(1)[0]
        self._stack.append(self._bytestring(self._src.read(n)))

    def _binbytes(self):
        n, = struct.unpack("<I", self._src.read(4))
        self._stack.append(self._src.read(n))

    def _short_binbytes(self):
        n = self._src.read(1)[0]
        self._stack.append(self._src.read(n))

    def _binbytes8(self):
        n, = struct.unpack("<Q", self._src.read(8))
        self._stack.append(self._src.read(n))

    def _bytearray8(self):
        n, = struct.unpack("<Q", self._src.read(8))
        self._stack.append(bytearray(self._src.read(n)))

    def _out_of_band(self):
        raise FormatError("the pickle uses out-of-band buffers (protocol 5 NEXT_BUFFER / "
                          "READONLY_BUFFER), which a checkpoint cannot provide")

    def _unicode(self):
        data = self._line()
        try:
            text = data.decode("raw-unicode-escape")
        except UnicodeDecodeError as exc:
            raise FormatError(f"corrupt pickle: bad UNICODE argument ({exc.reason})") from None
        self._stack.append(text)

    def _binunicode(self):
        n, = struct.unpack("<I", self._src.read(4))
        self._stack.append(self._text(self._src.read(n)))

    def _short_binunicode(self):
        n = self._src.read(1)[0]
        self._stack.append(self._text(self._src.read(n)))

    def _binunicode8(self):
        n, = struct.unpack("<Q", self._src.read(8))
        self._stack.append(self._text(self._src.read(n)))

    def _tuple(self):
        items = tuple(self._pop_mark())      # (pops the mark first: the stack changes)
        self._stack.append(items)

    def _empty_tuple(self):
        self._stack.append(())

    def _tuple1(self):
        self._stack.append((self._pop(),))

    def _tuple2(self):
        b = self._pop()
        a = self._pop()
        self._stack.append((a, b))

    def _tuple3(self):
        c = self._pop()
        b = self._pop()
        a = self._pop()
        self._stack.append((a, b, c))

    def _empty_list(self):
        self._stack.append([])

    def _empty_dict(self):
        self._stack.append({})

    def _empty_set(self):
        self._stack.append(set())

    def _frozenset(self):
        items = self._pop_mark()
        for item in items:
            _check_key(item)
        self._stack.append(_hashing(frozenset, items))

    def _list(self):
        items = self._pop_mark()
        self._stack.append(items)

    def _dict(self):
        items = self._pop_mark()
        if len(items) % 2:
            raise FormatError("corrupt pickle: DICT with an odd number of items")
        d = {}
        for i in range(0, len(items), 2):
            _check_key(items[i])
            _hashing(d.__setitem__, items[i], items[i + 1])
        self._stack.append(d)

    def _inst(self):
        module = self._text(self._line())
        name = self._text(self._line())
        cls = self._global(module, name)
        args = tuple(self._pop_mark())
        self._stack.append(self._call(cls, args, what=f"INST {module}.{name}"))

    def _obj(self):
        args = self._pop_mark()
        if not args:
            raise FormatError("corrupt pickle: OBJ without a class")
        cls = args.pop(0)
        self._stack.append(self._call(cls, tuple(args), what="OBJ"))

    def _newobj(self):
        args = self._pop()
        cls = self._pop()
        self._stack.append(self._call(cls, args, what="NEWOBJ"))

    def _newobj_ex(self):
        kwargs = self._pop()
        args = self._pop()
        cls = self._pop()
        self._stack.append(self._call(cls, args, kwargs, what="NEWOBJ_EX"))

    def _global_op(self):
        module = self._text(self._line())
        name = self._text(self._line())
        self._stack.append(self._global(module, name))

    def _stack_global(self):
        name = self._pop()
        module = self._pop()
        self._stack.append(self._global(module, name))

    def _ext(self, code):
        raise UnsafeCheckpointError(f"the pickle names a global through extension code {code} "
                                    "(copyreg's extension registry); not allowed")

    def _ext1(self):
        self._ext(self._src.read(1)[0])

    def _ext2(self):
        self._ext(struct.unpack("<H", self._src.read(2))[0])

    def _ext4(self):
        self._ext(struct.unpack("<i", self._src.read(4))[0])

    def _reduce(self):
        args = self._pop()
        func = self._pop()
        self._stack.append(self._call(func, args))

    def _pop_op(self):
        if self._stack:
            self._stack.pop()
        else:
            self._pop_mark()

    def _dup(self):
        self._stack.append(self._top())

    def _pop_mark_op(self):
        self._pop_mark()

    def _get(self):
        self._stack.append(self._memo_get(_parse(int, self._line(), "GET")))

    def _binget(self):
        self._stack.append(self._memo_get(self._src.read(1)[0]))

    def _long_binget(self):
        self._stack.append(self._memo_get(struct.unpack("<I", self._src.read(4))[0]))

    def _put(self):
        idx = _parse(int, self._line(), "PUT")
        if idx < 0:
            raise FormatError("corrupt pickle: negative PUT index")
        self._memo[idx] = self._top()

    def _binput(self):
        self._memo[self._src.read(1)[0]] = self._top()

    def _long_binput(self):
        self._memo[struct.unpack("<I", self._src.read(4))[0]] = self._top()

    def _memoize(self):
        self._memo[len(self._memo)] = self._top()

    def _append(self):
        value = self._pop()
        target = self._top()
        if type(target) is not list:
            raise FormatError(f"corrupt pickle: APPEND to a {type(target).__name__} (only "
                              "lists are allowed)")
        target.append(value)

    def _appends(self):
        items = self._pop_mark()
        target = self._top()
        if type(target) is not list:
            raise FormatError(f"corrupt pickle: APPENDS to a {type(target).__name__} (only "
                              "lists are allowed)")
        target.extend(items)

    def _setitem(self):
        value = self._pop()
        key = self._pop()
        self._setitems_into(self._top(), [key, value], "SETITEM")

    def _setitems(self):
        items = self._pop_mark()
        if len(items) % 2:
            raise FormatError("corrupt pickle: SETITEMS with an odd number of items")
        self._setitems_into(self._top(), items, "SETITEMS")

    def _setitems_into(self, target, items, op):
        if type(target) not in (dict, OrderedDict, Counter):
            raise FormatError(f"corrupt pickle: {op} on a {type(target).__name__} (only dicts "
                              "are allowed)")
        for i in range(0, len(items), 2):
            _check_key(items[i])
            _hashing(target.__setitem__, items[i], items[i + 1])

    def _additems(self):
        items = self._pop_mark()
        target = self._top()
        if type(target) is not set:
            raise FormatError(f"corrupt pickle: ADDITEMS to a {type(target).__name__} (only "
                              "sets are allowed)")
        for item in items:
            _check_key(item)
            _hashing(target.add, item)

    def _build_op(self):
        state = self._pop()
        inst = self._top()
        if self._build is None:
            raise UnsafeCheckpointError(f"BUILD of a {type(inst).__name__} is not allowed")
        self._build(inst, state)

    def _mark(self):
        self._metastack.append(self._stack)
        self._stack = []


def _parse(kind, data, op):
    try:
        return kind(data.decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        raise FormatError(f"corrupt pickle: bad {op} argument {data[:40]!r}") from None


def _hashing(fn, *args):
    try:
        return fn(*args)
    except TypeError as exc:
        raise FormatError(f"corrupt pickle: unhashable dict key or set item ({exc})") from None


def _describe(obj):
    if isinstance(obj, type):
        return f"the class {obj.__module__}.{obj.__qualname__}"
    return f"a {type(obj).__name__} object"


_STOP = object()
_OPS = {
    b"(": Unpickler._mark, b".": _STOP, b"0": Unpickler._pop_op, b"1": Unpickler._pop_mark_op,
    b"2": Unpickler._dup, b"F": Unpickler._float, b"I": Unpickler._int,
    b"J": Unpickler._binint, b"K": Unpickler._binint1, b"L": Unpickler._long,
    b"M": Unpickler._binint2, b"N": Unpickler._none, b"P": Unpickler._persid,
    b"Q": Unpickler._binpersid, b"R": Unpickler._reduce, b"S": Unpickler._string,
    b"T": Unpickler._binstring, b"U": Unpickler._short_binstring, b"V": Unpickler._unicode,
    b"X": Unpickler._binunicode, b"a": Unpickler._append, b"b": Unpickler._build_op,
    b"c": Unpickler._global_op, b"d": Unpickler._dict, b"}": Unpickler._empty_dict,
    b"e": Unpickler._appends, b"g": Unpickler._get, b"h": Unpickler._binget,
    b"i": Unpickler._inst, b"j": Unpickler._long_binget, b"l": Unpickler._list,
    b"]": Unpickler._empty_list, b"o": Unpickler._obj, b"p": Unpickler._put,
    b"q": Unpickler._binput, b"r": Unpickler._long_binput, b"s": Unpickler._setitem,
    b"t": Unpickler._tuple, b")": Unpickler._empty_tuple, b"u": Unpickler._setitems,
    b"G": Unpickler._binfloat,
    # protocol 2
    b"\x80": Unpickler._proto, b"\x81": Unpickler._newobj, b"\x82": Unpickler._ext1,
    b"\x83": Unpickler._ext2, b"\x84": Unpickler._ext4, b"\x85": Unpickler._tuple1,
    b"\x86": Unpickler._tuple2, b"\x87": Unpickler._tuple3, b"\x88": Unpickler._true,
    b"\x89": Unpickler._false, b"\x8a": Unpickler._long1, b"\x8b": Unpickler._long4,
    # protocol 3
    b"B": Unpickler._binbytes, b"C": Unpickler._short_binbytes,
    # protocol 4
    b"\x8c": Unpickler._short_binunicode, b"\x8d": Unpickler._binunicode8,
    b"\x8e": Unpickler._binbytes8, b"\x8f": Unpickler._empty_set,
    b"\x90": Unpickler._additems, b"\x91": Unpickler._frozenset,
    b"\x92": Unpickler._newobj_ex, b"\x93": Unpickler._stack_global,
    b"\x94": Unpickler._memoize, b"\x95": Unpickler._frame,
    # protocol 5
    b"\x96": Unpickler._bytearray8, b"\x97": Unpickler._out_of_band,
    b"\x98": Unpickler._out_of_band,
}
_DISPATCH = {k[0]: v for k, v in _OPS.items()}
