"""File formats: detection by content, numpy ``.npy``/``.npz`` loading, and the
compatibility matrix that ``docs/formats.md`` is generated from.

``detect_format(path)`` looks at what a file holds, never at its name:

=================  ===========================================================================
``pytorch-zip``    a zip archive (``PK\\x03\\x04`` at byte 0) with a ``data.pkl`` member at its
                   top or in its one folder (what ``torch.save`` writes since PyTorch 1.6)
``pytorch-legacy`` a pickle whose first object is the int 0x1950a86a20f9469cfc6c, the magic
                   number ``torch.save(..., _use_new_zipfile_serialization=False)`` writes
                   first (``torch/serialization.py``, ``MAGIC_NUMBER``)
``safetensors``    an 8-byte little-endian header size within the file and the 100 MB limit,
                   followed by that many bytes of JSON holding an object
``onnx``           a protobuf that parses as an ``onnx.ModelProto`` with a ``graph`` field that
                   parses as a ``GraphProto`` (the first two levels of the wire format are
                   checked, to the last byte of the file)
``npy``            numpy's magic ``\\x93NUMPY`` (NEP 1)
``npz``            a zip archive whose members are all ``.npy`` files (``numpy.savez``)
=================  ===========================================================================

Anything else raises ``FormatError``. Checks are ordered so that no file matches two.

>>> import numpy as np, tempfile, os
>>> p = os.path.join(tempfile.mkdtemp(), "weights.bin")
>>> with open(p, "wb") as f:
...     np.save(f, np.arange(3))
>>> detect_format(p)
'npy'
>>> load_numpy(p)
tensor([0, 1, 2])
"""
import ast
import io
import json
import mmap
import os
import pickletools
import stat
import struct
import warnings
import zipfile
from collections import namedtuple

import numpy as np

import rt_autograd as rt

from rt_import.errors import FormatError

__all__ = ["detect_format", "load_numpy", "FORMATS", "FormatInfo", "formats_markdown",
           "FORMAT_NAMES"]

# ---- the compatibility matrix ------------------------------------------------------------
FormatInfo = namedtuple("FormatInfo", "name description detected_by load save weights graph "
                                      "trainable")
FormatInfo.__doc__ = """One row of the compatibility matrix. ``load``/``save`` name the
rt_import function (None: not provided); ``weights``/``graph`` say whether the file carries
tensors / the computation; ``trainable`` says how what loads is trained in rt."""

_VIA_STATE_DICT = "yes, in your `rt_nn` module (`load_state_dict`)"

FORMATS = (
    FormatInfo("pytorch-zip", "`torch.save` files since PyTorch 1.6 (`.pt`, `.pth`, `.bin`)",
               "zip archive with a `data.pkl` member", "load", "save", True, False,
               _VIA_STATE_DICT),
    FormatInfo("pytorch-legacy", "`torch.save(..., _use_new_zipfile_serialization=False)`, "
                                 "and PyTorch before 1.6",
               "pickle whose first object is the int 0x1950a86a20f9469cfc6c", "load", None,
               True, False, _VIA_STATE_DICT),
    FormatInfo("safetensors", "Hugging Face safetensors (`.safetensors`)",
               "8-byte header size, then a JSON object", "load_safetensors",
               "save_safetensors", True, False, _VIA_STATE_DICT),
    FormatInfo("onnx", "ONNX models (`.onnx`), opsets 11 to 21",
               "protobuf `ModelProto` with a `GraphProto`", "load_onnx", "export_onnx", True,
               True, "yes, as loaded: an `rt_nn.Module` whose initializers are Parameters"),
    FormatInfo("npy", "one numpy array (`numpy.save`)", "magic `\\x93NUMPY`", "load_numpy",
               None, True, False, _VIA_STATE_DICT),
    FormatInfo("npz", "named numpy arrays (`numpy.savez`, `numpy.savez_compressed`)",
               "zip archive of `.npy` members only", "load_numpy", None, True, False,
               _VIA_STATE_DICT),
)

#: The names ``detect_format`` returns.
FORMAT_NAMES = tuple(f.name for f in FORMATS)


def _cell(value):
    if value is True:
        return "yes"
    if value is False or value is None:
        return "no"
    if value in {f.load for f in FORMATS} | {f.save for f in FORMATS}:
        return f"`rt_import.{value}`"
    return value


def formats_markdown():
    """The text of ``docs/formats.md``: the compatibility matrix rendered from ``FORMATS``
    (a test checks the file equals it; regenerate with
    ``python -c "import rt_import.formats as f; print(f.formats_markdown(), end='')"``)."""
    head = ("| Format | What | Detected by | Load | Save | Weights | Graph | Trainable |\n"
            "|---|---|---|---|---|---|---|---|\n")
    rows = "".join(f"| `{f.name}` | {f.description} | {f.detected_by} | {_cell(f.load)} | "
                   f"{_cell(f.save)} | {_cell(f.weights)} | {_cell(f.graph)} | "
                   f"{_cell(f.trainable)} |\n" for f in FORMATS)
    return (
        "# File formats\n\n"
        "<!-- Generated by rt_import.formats.formats_markdown() from the FORMATS table; edit "
        "the table, not this file. -->\n\n"
        "What rt-import reads and writes. `rt_import.detect_format(path)` names the format "
        "of a file from its content (magic bytes, zip members, header), never from its "
        "extension, and raises `rt_import.FormatError` for anything else.\n\n"
        + head + rows +
        "\n- **Weights**: the file carries tensors. **Graph**: it carries the computation "
        "too, so no Python definition of the model is needed. **Trainable**: how what loads "
        "is trained in rt.\n"
        "- Nothing rt-import reads runs code: PyTorch pickles go through an allow-list "
        "unpickler (`rt_import.UnsafeCheckpointError` otherwise), numpy files are read with "
        "`allow_pickle=False` semantics (object arrays are refused), and every size a file "
        "declares is checked against the file before anything is allocated.\n"
        "- Everything rt-import writes is written to a temporary file and renamed, so a "
        "failure never leaves a partial file.\n"
        "- safetensors: every dtype rt has (F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL C64); "
        "U16, U32, U64 and the 8/6/4-bit float types are refused with `FormatError`, and "
        "complex128 cannot be saved (the format has no such dtype). Loading memory-maps the "
        "file.\n"
        "- npy/npz: bool, uint8, int8, int16, int32, int64, float16, float32, float64, "
        "complex64, complex128 in either byte order and C or Fortran order; `.npy` files "
        "are memory-mapped. Write them with numpy (`numpy.save(path, t.numpy())`).\n"
        "- PyTorch: the legacy format is read only; `rt_import.save` writes the zip format "
        "that `torch.load(path, weights_only=True)` reads.\n"
        "- ONNX: `rt_import.export_onnx(module, example_inputs, path, opset=17)` traces rt "
        "ops into an ONNX graph.\n"
        "- Pretrained models: `rt_import.PRETRAINED` maps a name to its format, download "
        "address, sha256 and file name; `rt_import.load_pretrained(name, cache_dir)` loads "
        "the file from the local cache after checking its sha256 (it never downloads).\n")


# ---- detection ---------------------------------------------------------------------------
_TORCH_LEGACY_MAGIC = 0x1950a86a20f9469cfc6c      # torch/serialization.py MAGIC_NUMBER
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")      # a local file header; an empty archive
_NPY_MAGIC = b"\x93NUMPY"
_MAX_SAFETENSORS_HEADER = 100_000_000


class _Source:
    """A path or a seekable binary file, read at absolute offsets."""

    def __init__(self, source):
        self.owned = not hasattr(source, "read")
        if self.owned:
            self.f = open(os.fspath(source), "rb")
            self.name = os.fspath(source)
            try:
                st = os.fstat(self.f.fileno())
                if not stat.S_ISREG(st.st_mode):
                    raise FormatError(f"{self.name!r} is not a regular file")
            except BaseException:
                self.f.close()
                raise
            self.size = st.st_size
        else:
            self.f = source
            self.name = getattr(source, "name", "<file>")
            self.start = source.tell()
            self.size = source.seek(0, io.SEEK_END)
            source.seek(0)

    def read(self, start, n):
        self.f.seek(start)
        return self.f.read(n)

    def close(self):
        if self.owned:
            self.f.close()
        else:
            self.f.seek(self.start)


def _zip_kind(src):
    try:
        src.f.seek(0)
        with zipfile.ZipFile(src.f) as zf:
            names = zf.namelist()
    except Exception as exc:             # BadZipFile, struct/Unicode/Overflow errors, ...
        if isinstance(exc, (FormatError, MemoryError)):
            raise
        raise FormatError(f"{src.name!r} starts like a zip archive but its directory cannot "
                          f"be read ({type(exc).__name__}: {exc})") from None
    for n in names:
        parts = n.split("/")
        if parts[-1] == "data.pkl" and len(parts) <= 2:
            return "pytorch-zip"
    if all(n.endswith(".npy") for n in names):
        return "npz"
    raise FormatError(f"{src.name!r} is a zip archive with neither a data.pkl member (PyTorch) "
                      f"nor only .npy members (numpy .npz); its members start with "
                      f"{names[:5]!r}")


def _is_safetensors(src, head):
    if len(head) < 8:
        return False
    n = int.from_bytes(head[:8], "little")
    if n < 2 or n > _MAX_SAFETENSORS_HEADER or 8 + n > src.size:
        return False
    first = head[8:8 + 64].lstrip(b" \t\r\n")
    if not first.startswith(b"{"):
        return False
    try:
        return isinstance(json.loads(src.read(8, n).decode("utf-8")), dict)
    except (ValueError, RecursionError):
        return False


def _is_torch_legacy(head):
    # the first pickle of a legacy file is the magic number alone: [PROTO] [FRAME] an int
    # opcode [memo ops] STOP, in any pickle protocol (torch's default is 2: LONG1)
    try:
        ops = []
        for op, arg, _ in pickletools.genops(io.BytesIO(head)):
            ops.append((op.name, arg))
            if op.name == "STOP" or len(ops) > 6:
                break
    except Exception:                    # truncated or not a pickle: genops raises ValueError
        return False
    if not ops or ops[-1][0] != "STOP":
        return False
    ints = [arg for name, arg in ops if name in ("LONG1", "LONG4", "LONG", "INT")]
    rest = [name for name, _ in ops if name not in ("LONG1", "LONG4", "LONG", "INT", "PROTO",
                                                   "FRAME", "MEMOIZE", "PUT", "BINPUT",
                                                   "LONG_BINPUT", "STOP")]
    return ints == [_TORCH_LEGACY_MAGIC] and not rest


# protobuf wire types by FieldDescriptor type: varint 0, fixed64 1, length-delimited 2,
# fixed32 5 (https://protobuf.dev/programming-guides/encoding/)
_WIRE = {1: 1, 6: 1, 16: 1, 2: 5, 7: 5, 15: 5, 9: 2, 11: 2, 12: 2,
         3: 0, 4: 0, 5: 0, 8: 0, 13: 0, 14: 0, 17: 0, 18: 0}


def _varint(buf, pos, end):
    result = shift = 0
    while True:
        if pos >= end or shift > 63:
            raise ValueError("bad varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _scan_message(buf, pos, end, descriptor):
    """Walk the fields of one protobuf message in ``buf[pos:end]`` without decoding their
    contents; check each known field's wire type. Returns {field number: [(start, stop)]}
    for length-delimited fields."""
    fields = {f.number: _WIRE.get(f.type) for f in descriptor.fields}
    spans = {}
    while pos < end:
        key, pos = _varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0 or (number in fields and fields[number] != wire):
            raise ValueError(f"field {number} with wire type {wire}")
        if wire == 0:
            _, pos = _varint(buf, pos, end)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            length, pos = _varint(buf, pos, end)
            spans.setdefault(number, []).append((pos, pos + length))
            pos += length
        else:                            # groups (3, 4) and 6, 7 have no place in ONNX
            raise ValueError(f"wire type {wire}")
        if pos > end:
            raise ValueError("field runs past the end")
    return spans


def _is_onnx(src):
    if src.size == 0:
        return False
    import onnx
    try:
        f = src.f
        f.seek(0)
        try:
            buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            buf = src.read(0, src.size)
        try:
            spans = _scan_message(buf, 0, src.size, onnx.ModelProto.DESCRIPTOR)
            if len(spans.get(7, ())) != 1:
                return False
            start, stop = spans[7][0]
            _scan_message(buf, start, stop, onnx.GraphProto.DESCRIPTOR)
        finally:
            if isinstance(buf, mmap.mmap):
                buf.close()
    except ValueError:
        return False
    return True


def detect_format(path):
    """The format of a file from its content: one of ``'pytorch-zip'``,
    ``'pytorch-legacy'``, ``'safetensors'``, ``'onnx'``, ``'npy'``, ``'npz'`` (see the
    module docstring for what each check looks at). ``path`` is a path or a seekable binary
    file (its position is restored). The extension is never looked at. Raises FormatError
    for anything else (an empty file, a zip of other things, unknown bytes).

    >>> import rt_autograd as rt, tempfile, os
    >>> from rt_import import save_safetensors
    >>> p = os.path.join(tempfile.mkdtemp(), "model.onnx")     # the name does not matter
    >>> save_safetensors({"w": rt.zeros(2)}, p)
    >>> detect_format(p)
    'safetensors'
    """
    src = _Source(path)
    try:
        if src.size == 0:
            raise FormatError(f"{src.name!r} is empty")
        head = src.read(0, 64)
        if head[:4] in _ZIP_MAGICS:
            return _zip_kind(src)
        if head.startswith(_NPY_MAGIC):
            return "npy"
        if _is_safetensors(src, head):
            return "safetensors"
        if _is_torch_legacy(head):
            return "pytorch-legacy"
        if _is_onnx(src):
            return "onnx"
        raise FormatError(f"{src.name!r} is none of the formats rt-import reads "
                          f"({', '.join(FORMAT_NAMES)}); it starts with {head[:16]!r}")
    finally:
        src.close()


# ---- numpy -------------------------------------------------------------------------------
_NPY_MAX_HEADER = 10000        # numpy.load's default max_header_size
_NPY_KINDS = {("b", 1), ("u", 1), ("i", 1), ("i", 2), ("i", 4), ("i", 8), ("f", 2), ("f", 4),
              ("f", 8), ("c", 8), ("c", 16)}
_MAX_DIMS = 32                 # rt_tensor's MAX_DIMS (_types.pxd)
_CHUNK = 1 << 24


def _npy_header(read, where):
    """Parse a .npy header (NEP 1; numpy/lib/format.py) with ``read(n) -> bytes``. Returns
    (dtype, shape, fortran_order, header_bytes)."""
    magic = read(8)
    if len(magic) < 8 or not magic.startswith(_NPY_MAGIC):
        raise FormatError(f"{where}: not a .npy file (magic {magic[:6]!r})")
    version = (magic[6], magic[7])
    if version == (1, 0):
        raw = read(2)
        size_len = 2
    elif version in ((2, 0), (3, 0)):
        raw = read(4)
        size_len = 4
    else:
        raise FormatError(f"{where}: unknown .npy format version {version[0]}.{version[1]}")
    if len(raw) < size_len:
        raise FormatError(f"{where}: the .npy header is truncated")
    n = int.from_bytes(raw, "little")
    if n > _NPY_MAX_HEADER:
        raise FormatError(f"{where}: the .npy header is {n} bytes, above numpy's "
                          f"{_NPY_MAX_HEADER}-byte limit for files not trusted with pickle")
    text = read(n)
    if len(text) < n:
        raise FormatError(f"{where}: the .npy header is truncated ({len(text)} of {n} bytes)")
    try:
        text = text.decode("utf-8" if version == (3, 0) else "latin1")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # SyntaxWarning for odd escapes in strings
            d = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError,
            UnicodeDecodeError) as exc:
        raise FormatError(f"{where}: the .npy header {text!r:.80} cannot be parsed "
                          f"({type(exc).__name__})") from None
    if not isinstance(d, dict) or set(d) != {"descr", "fortran_order", "shape"}:
        raise FormatError(f"{where}: the .npy header must be a dict with keys descr, "
                          f"fortran_order and shape, got {d!r:.80}")
    shape, fortran = d["shape"], d["fortran_order"]
    if (not isinstance(shape, tuple) or not all(type(s) is int and s >= 0 for s in shape)):
        raise FormatError(f"{where}: the .npy shape {shape!r:.80} is not a tuple of "
                          "non-negative integers")
    if len(shape) > _MAX_DIMS:
        raise FormatError(f"{where}: the array has {len(shape)} dimensions; rt tensors have "
                          f"at most {_MAX_DIMS}")
    if not isinstance(fortran, bool):
        raise FormatError(f"{where}: fortran_order {fortran!r:.40} is not a bool")
    try:
        dtype = np.lib.format.descr_to_dtype(d["descr"])
    except Exception as exc:          # TypeError/ValueError/... for a malformed descr
        if isinstance(exc, MemoryError):
            raise
        raise FormatError(f"{where}: the .npy dtype {d['descr']!r:.80} is invalid "
                          f"({type(exc).__name__})") from None
    if dtype.hasobject:
        raise FormatError(f"{where}: the array holds Python objects, which need pickle; "
                          "rt-import never unpickles numpy data (allow_pickle=False)")
    if dtype.fields is not None or dtype.subdtype is not None or (
            (dtype.kind, dtype.itemsize) not in _NPY_KINDS):
        raise FormatError(f"{where}: the .npy dtype {dtype.str!r} has no rt dtype (rt reads "
                          "bool, uint8, int8, int16, int32, int64, float16, float32, "
                          "float64, complex64, complex128)")
    return dtype, shape, fortran, 8 + size_len + n


def _nbytes(dtype, shape):
    count = 1
    for s in shape:
        count *= s
    return count, count * dtype.itemsize


def _to_tensor(flat, dtype, shape, fortran):
    """A flat array of the file's bytes as an rt tensor of ``shape``."""
    if not dtype.isnative:
        flat = flat.astype(dtype.newbyteorder("="))
    elif not flat.flags.aligned:
        flat = flat.copy()
    if dtype.kind == "b" and flat.size and flat.view(np.uint8).max() > 1:
        flat = flat.view(np.uint8) != 0
    arr = flat.reshape(shape[::-1]).transpose() if fortran else flat.reshape(shape)
    return rt.from_numpy(arr)


def _load_npy(path, size):
    with open(path, "rb") as f:
        where = repr(os.fspath(path))
        dtype, shape, fortran, offset = _npy_header(f.read, where)
        count, nbytes = _nbytes(dtype, shape)
        if offset + nbytes > size:
            raise FormatError(f"{where}: the array is declared as {dtype.str} of shape "
                              f"{shape}, {nbytes} bytes, but the file holds "
                              f"{size - offset} bytes of data")
        if count == 0:
            return _to_tensor(np.empty(0, dtype), dtype, shape, fortran)
        try:
            mapping = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
        except (OSError, ValueError):
            mapping = None
        if mapping is not None and len(mapping) >= offset + nbytes:
            flat = np.frombuffer(mapping, dtype=dtype, count=count, offset=offset)
        else:
            flat = np.empty(count, dtype)
            f.seek(offset)
            if f.readinto(memoryview(flat.view(np.uint8))) != nbytes:
                raise FormatError(f"{where}: the file ended early")
        return _to_tensor(flat, dtype, shape, fortran)


# The most a member can expand: stored members not at all; deflate at most about 1032:1
# (a 258-byte match costs at least 2 bits, RFC 1951 3.2.5).
_BOUND = {zipfile.ZIP_STORED: lambda c: c, zipfile.ZIP_DEFLATED: lambda c: 1032 * c + 64}


def _read_exact(fp, count, dtype, nbytes, bounded, where):
    if bounded:
        flat = np.empty(count, dtype)
        view = memoryview(flat.view(np.uint8))
        got = 0
        while got < nbytes:
            data = fp.read(min(_CHUNK, nbytes - got))
            if not data:
                break
            view[got:got + len(data)] = data
            got += len(data)
    else:
        # another compression (bzip2, lzma): grow with what actually decompresses, never
        # with what the member declares
        buf = bytearray()
        while len(buf) < nbytes:
            data = fp.read(min(_CHUNK, nbytes - len(buf)))
            if not data:
                break
            buf += data
        got = len(buf)
        flat = np.frombuffer(buf, dtype=dtype, count=got // dtype.itemsize) if got else None
    if got != nbytes:
        raise FormatError(f"{where}: the member ended after {got} of its {nbytes} bytes of "
                          "array data")
    return flat


# xz's largest preset (-9) uses a 64 MiB dictionary; liblzma allocates the dictionary a
# member's header asks for, so a larger one is refused rather than allocated.
_MAX_LZMA_DICTIONARY = 64 << 20


def _check_lzma_dictionary(path, info, where):
    """A zip LZMA member starts with a 4-byte version/size prefix and the 5 LZMA properties
    bytes (APPNOTE 5.8.8), the last 4 being the dictionary size."""
    with open(os.fspath(path), "rb") as f:
        f.seek(info.header_offset)
        local = f.read(30)
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise FormatError(f"{where}: the member's local header is missing")
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        f.seek(info.header_offset + 30 + name_len + extra_len)
        props = f.read(9)
    if len(props) < 9 or int.from_bytes(props[2:4], "little") != 5:
        raise FormatError(f"{where}: the LZMA properties are malformed")
    dictionary = int.from_bytes(props[5:9], "little")
    if dictionary > _MAX_LZMA_DICTIONARY:
        raise FormatError(f"{where}: the LZMA member asks for a {dictionary}-byte dictionary "
                          f"(at most {_MAX_LZMA_DICTIONARY} is accepted)")


def _load_npz(path, size):
    out = {}
    where_file = repr(os.fspath(path))
    try:
        with zipfile.ZipFile(os.fspath(path)) as zf:
            infos = zf.infolist()
            seen = set()
            for info in infos:
                where = f"{where_file}, member {info.filename!r}"
                if not info.filename.endswith(".npy"):
                    raise FormatError(f"{where}: an .npz holds only .npy members")
                key = info.filename[:-4]
                if key in seen:
                    raise FormatError(f"{where}: the archive holds two members of this name")
                seen.add(key)
                if info.compress_size > size:
                    raise FormatError(f"{where}: declares {info.compress_size} compressed "
                                      f"bytes in a {size}-byte file")
                bound = _BOUND.get(info.compress_type)
                if info.compress_type == zipfile.ZIP_LZMA:
                    _check_lzma_dictionary(path, info, where)
                with zf.open(info) as fp:
                    dtype, shape, fortran, offset = _npy_header(fp.read, where)
                    count, nbytes = _nbytes(dtype, shape)
                    if offset + nbytes > info.file_size or (
                            bound is not None and offset + nbytes > bound(info.compress_size)):
                        raise FormatError(f"{where}: the array is declared as {dtype.str} of "
                                          f"shape {shape}, {nbytes} bytes, more than the "
                                          f"member holds ({info.file_size} bytes, "
                                          f"{info.compress_size} compressed)")
                    if count:
                        flat = _read_exact(fp, count, dtype, nbytes, bound is not None, where)
                    else:
                        flat = np.empty(0, dtype)
                    # read to the end so that zipfile checks the member's CRC-32
                    while fp.read(_CHUNK):
                        pass
                out[key] = _to_tensor(flat, dtype, shape, fortran)
    except FormatError:
        raise
    except MemoryError:
        raise
    except Exception as exc:    # BadZipFile (CRC, headers), zlib.error, EOFError, encrypted...
        raise FormatError(f"{where_file}: the .npz archive is corrupt "
                          f"({type(exc).__name__}: {exc})") from None
    return out


def load_numpy(path):
    """Load a numpy file as rt tensors: a ``.npy`` file gives one tensor, an ``.npz``
    archive a dict of name -> tensor (``numpy.load(path, allow_pickle=False)``, with the
    kind told by content, not extension).

    ``.npy`` data is memory-mapped copy-on-write (zero-copy; writes never reach the file).
    Object arrays (which need pickle), structured/string/datetime dtypes and dtypes rt does
    not have (uint16, uint32, uint64, longdouble) raise FormatError naming the dtype, as do
    truncated, corrupt or inconsistent files; a declared size larger than the file is
    refused before anything is allocated.

    >>> import numpy as np, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "arrays")
    >>> np.savez(p, w=np.eye(2, dtype=np.float32), step=np.int64(3))
    >>> sorted(load_numpy(p + ".npz").items())
    [('step', tensor(3)), ('w', tensor([[1., 0.],
            [0., 1.]]))]
    """
    with open(os.fspath(path), "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise FormatError(f"{os.fspath(path)!r} is not a regular file")
        head = f.read(8)
    if head.startswith(_NPY_MAGIC):
        return _load_npy(path, st.st_size)
    if head[:4] in _ZIP_MAGICS:
        return _load_npz(path, st.st_size)
    raise FormatError(f"{os.fspath(path)!r} is neither a .npy file nor an .npz archive (it "
                      f"starts with {head!r})")


# ---- loading by format (used by load_pretrained) ------------------------------------------
def _load_detected(path, expected=None):
    """Detect ``path``'s format (checking it is ``expected`` when given) and load it with
    the matrix's loader. Returns what that loader returns."""
    import rt_import
    fmt = detect_format(path)
    if expected is not None and fmt != expected:
        raise FormatError(f"{os.fspath(path)!r} is registered as {expected} but its content "
                          f"is {fmt}")
    name = next(f.load for f in FORMATS if f.name == fmt)
    loader = getattr(rt_import, name, None)
    if loader is None:
        raise FormatError(f"rt_import.{name}, which loads {fmt} files, is not available")
    return loader(path)
