"""safetensors read and write with numpy only (no ``safetensors`` package needed).

The format (https://github.com/huggingface/safetensors, README "Format"): an 8-byte
little-endian unsigned header size N, N bytes of UTF-8 JSON, then the data buffer. The JSON
is an object mapping each tensor name to ``{"dtype", "shape", "data_offsets": [begin, end]}``
(offsets relative to the start of the data buffer) plus an optional ``"__metadata__"``
object of string to string. Data is little-endian, C order; the tensors' byte ranges must
tile the buffer exactly (no gap, no overlap, nothing after the last one).

Every check the reference implementation (``safetensors`` 0.8, ``Metadata::validate``)
makes is made here, before anything is allocated from the file:

- the file holds at least the 8 size bytes; N is at most 100,000,000 (the reference's
  ``MAX_HEADER_SIZE``) and ``8 + N`` is within the file;
- the header is valid UTF-8 JSON (no NaN/Infinity, no lone surrogates), an object;
  ``__metadata__`` is absent, ``null`` or an object of strings;
- every entry has ``dtype`` (one of the 22 spec dtypes), ``shape`` (non-negative integers)
  and ``data_offsets`` (exactly two non-negative integers); other keys are ignored, as the
  reference ignores them;
- sorted by offsets, each tensor starts where the previous one ended, ``end >= begin``,
  ``prod(shape) * itemsize == end - begin`` (without overflowing 64 bits) and the last one
  ends at the end of the file.

One deliberate difference: a name that appears twice in the header is refused. The spec
says "duplicate keys are disallowed"; the reference keeps the last one, which lets two
readers of one file see different tensors.

Loading from a path memory-maps the file (copy-on-write): each tensor is a zero-copy view
of the mapping when its data is aligned to its element size, else a copy. Writes to a
loaded tensor never reach the file. The mapping lives as long as any tensor of it.

>>> import rt_autograd as rt
>>> blob = save_safetensors_bytes({"w": rt.ones(2, 3)}, metadata={"format": "pt"})
>>> load_safetensors_bytes(blob)["w"].shape
rt_tensor.Size([2, 3])
"""
import json
import mmap as _mmap
import os
import stat
import sys
from collections.abc import Mapping

import numpy as np

import rt_autograd as rt
import rt_tensor

from rt_import._atomic import atomic_write
from rt_import.errors import FormatError

__all__ = ["load_safetensors", "save_safetensors", "load_safetensors_bytes",
           "save_safetensors_bytes", "load_safetensors_metadata", "SAFETENSORS_DTYPES",
           "MAX_HEADER_SIZE"]

#: The reference implementation's limit on the JSON header (``MAX_HEADER_SIZE``).
MAX_HEADER_SIZE = 100_000_000

_U64_MAX = 2 ** 64 - 1
_MAX_DIMS = 32          # rt_tensor's MAX_DIMS (_types.pxd)

# Every dtype of the spec, in the order of the reference's ``Dtype`` enum (which its writer
# sorts by, largest first), with its size in bits.
_SPEC_DTYPES = {
    "BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8,
    "F8_E4M3": 8, "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8, "I16": 16, "U16": 16,
    "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "C64": 64, "F64": 64, "I64": 64,
    "U64": 64,
}
_SPEC_ORDER = {name: i for i, name in enumerate(_SPEC_DTYPES)}

# The spec dtypes rt has, with the little-endian numpy dtype their bytes read as (bfloat16
# reads as int16 and is reinterpreted, numpy having no bfloat16).
_TO_RT = {
    "F64": (rt.float64, "<f8"), "F32": (rt.float32, "<f4"), "F16": (rt.float16, "<f2"),
    "BF16": (rt.bfloat16, "<i2"), "I64": (rt.int64, "<i8"), "I32": (rt.int32, "<i4"),
    "I16": (rt.int16, "<i2"), "I8": (rt.int8, "<i1"), "U8": (rt.uint8, "<u1"),
    "BOOL": (rt.bool, "|b1"), "C64": (rt.complex64, "<c8"),
}
_FROM_RT = {dt: name for name, (dt, _) in _TO_RT.items()}

#: safetensors dtype name -> rt dtype, for every dtype both have.
SAFETENSORS_DTYPES = {name: dt for name, (dt, _) in _TO_RT.items()}


# ---- header ------------------------------------------------------------------------------
def _no_duplicates(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise FormatError(f"safetensors: the header names {key!r} twice (the spec "
                              "disallows duplicate keys)")
        out[key] = value
    return out


def _no_constant(name):
    raise FormatError(f"safetensors: the header holds {name}, which is not JSON")


def _utf8(s, what):
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        raise FormatError(f"safetensors: {what} {s!r} is not valid UTF-8 (a lone surrogate "
                          "escape)") from None
    return s


def _uint(value, what):
    # serde's usize: a JSON integer (not a float, not a boolean) in [0, 2**64)
    if type(value) is not int or not 0 <= value <= _U64_MAX:
        raise FormatError(f"safetensors: {what} must be an integer in [0, 2**64), got "
                          f"{value!r:.60}")
    return value


def _parse_header(head, total):
    """Validate a header. ``head`` is the first ``min(total, ...)`` bytes accessor: a
    callable ``head(start, stop) -> bytes``; ``total`` the size of the whole file/blob.
    Returns ``(metadata, entries, data_start)``; entries are ``(name, dtype, shape, begin,
    end)`` in the order of their data."""
    if total < 8:
        raise FormatError(f"safetensors: the data is {total} bytes, too short for the 8-byte "
                          "header size")
    n = int.from_bytes(head(0, 8), "little")
    if n > MAX_HEADER_SIZE:
        raise FormatError(f"safetensors: the header size {n} is above the limit of "
                          f"{MAX_HEADER_SIZE} bytes")
    if 8 + n > total:
        raise FormatError(f"safetensors: the header size {n} runs past the end of the data "
                          f"({total} bytes)")
    raw = head(8, 8 + n)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"safetensors: the header is not valid UTF-8 ({exc})") from None
    try:
        top = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except FormatError:
        raise
    except (ValueError, RecursionError) as exc:   # JSONDecodeError, digit limit, nesting
        raise FormatError(f"safetensors: the header is not valid JSON ({exc})") from None
    if not isinstance(top, dict):
        raise FormatError(f"safetensors: the header is a JSON {type(top).__name__}, not an "
                          "object")
    metadata = top.pop("__metadata__", None)
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise FormatError("safetensors: __metadata__ must be an object of strings, got "
                              f"{type(metadata).__name__}")
        for k, v in metadata.items():
            _utf8(k, "the metadata key")
            if not isinstance(v, str):
                raise FormatError(f"safetensors: __metadata__[{k!r}] must be a string, got "
                                  f"{type(v).__name__}")
            _utf8(v, "the metadata value")
    entries = []
    for name, info in top.items():
        _utf8(name, "the tensor name")
        if not isinstance(info, dict):
            raise FormatError(f"safetensors: the entry for tensor {name!r} is a "
                              f"{type(info).__name__}, not an object")
        for field in ("dtype", "shape", "data_offsets"):
            if field not in info:
                raise FormatError(f"safetensors: tensor {name!r} has no {field!r}")
        dtype = info["dtype"]
        if not isinstance(dtype, str) or dtype not in _SPEC_DTYPES:
            raise FormatError(f"safetensors: tensor {name!r} has unknown dtype {dtype!r:.40} "
                              f"(the spec's are {', '.join(_SPEC_DTYPES)})")
        shape, offsets = info["shape"], info["data_offsets"]
        if not isinstance(shape, list):
            raise FormatError(f"safetensors: the shape of tensor {name!r} is not a list")
        if len(shape) > _MAX_DIMS:
            raise FormatError(f"safetensors: tensor {name!r} has {len(shape)} dimensions; rt "
                              f"tensors have at most {_MAX_DIMS}")
        shape = tuple(_uint(d, f"each dimension of tensor {name!r}") for d in shape)
        if not isinstance(offsets, list) or len(offsets) != 2:
            raise FormatError(f"safetensors: data_offsets of tensor {name!r} must be a list of "
                              "two integers")
        begin, end = (_uint(o, f"data_offsets of tensor {name!r}") for o in offsets)
        entries.append((name, dtype, shape, begin, end))
    # Metadata::validate: sorted by offsets, the byte ranges tile [0, len(data)) exactly
    entries.sort(key=lambda e: (e[3], e[4]))
    data_len = total - 8 - n
    position = 0
    for name, dtype, shape, begin, end in entries:
        if begin != position or end < begin:
            what = ("overlaps the tensor before it" if begin < position else
                    "leaves a gap after the tensor before it" if begin > position else
                    "ends before it begins")
            raise FormatError(f"safetensors: tensor {name!r} has data_offsets [{begin}, {end}] "
                              f"and {what} (expected it to begin at {position})")
        nbits = _SPEC_DTYPES[dtype]
        for d in shape:          # checked multiplication, as the reference's try_fold
            nbits *= d
            if nbits > _U64_MAX:
                break
        if nbits > _U64_MAX:
            raise FormatError(f"safetensors: the size of tensor {name!r} (shape "
                              f"{list(shape)}, {dtype}) overflows 64 bits")
        if nbits % 8:
            raise FormatError(f"safetensors: tensor {name!r} ({dtype}, shape {list(shape)}) "
                              "does not end on a byte boundary")
        if end - begin != nbits // 8:
            raise FormatError(f"safetensors: tensor {name!r} is {dtype} of shape "
                              f"{list(shape)}, {nbits // 8} bytes, but its data_offsets "
                              f"[{begin}, {end}] span {end - begin} bytes")
        if end > data_len:
            raise FormatError(f"safetensors: tensor {name!r} ends at byte {end} of the data "
                              f"buffer, which has {data_len} bytes")
        position = end
    if position != data_len:
        raise FormatError(f"safetensors: the tensors cover {position} bytes of the "
                          f"{data_len}-byte data buffer (the buffer must be covered exactly)")
    for name, dtype, *_ in entries:
        if dtype not in _TO_RT:
            raise FormatError(f"safetensors: tensor {name!r} has dtype {dtype}, which rt has no "
                              f"dtype for (rt reads {', '.join(_TO_RT)})")
    return metadata, entries, 8 + n


# ---- reading -----------------------------------------------------------------------------
def _check_device(device):
    if device is None:
        return
    kind = device.type if isinstance(device, rt.device) else device
    if not isinstance(kind, str) or kind.split(":")[0] != "cpu":
        raise RuntimeError(f"rt only supports the CPU device, got device={device!r}")


def _finish(arr, dtype, shape):
    """The tensor for a flat little-endian array ``arr`` of ``dtype``: native byte order,
    aligned, bool bytes normalised to 0/1, shaped."""
    rt_dtype, _ = _TO_RT[dtype]
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    elif not arr.flags.aligned:
        arr = arr.copy()        # a misaligned view would give the kernels misaligned loads
    if dtype == "BOOL" and arr.size and arr.view(np.uint8).max() > 1:
        arr = arr.view(np.uint8) != 0      # only 0 and 1 are bools (numpy and rt assume it)
    t = rt.from_numpy(arr.reshape(shape))
    return t.view(rt.bfloat16) if rt_dtype == rt.bfloat16 else t


def _build(entries, read_array):
    out = {}
    for name, dtype, shape, begin, end in entries:
        npdt = np.dtype(_TO_RT[dtype][1])
        count = (end - begin) // npdt.itemsize
        if count == 0:
            arr = np.empty(0, npdt.newbyteorder("="))
        else:
            arr = read_array(npdt, count, begin)
        out[name] = _finish(arr, dtype, shape)
    return out


def _open_regular(path):
    f = open(os.fspath(path), "rb")
    try:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise FormatError(f"{os.fspath(path)!r} is not a regular file")
    except BaseException:
        f.close()
        raise
    return f, st.st_size


def _file_header(f, size):
    def head(start, stop):
        f.seek(start)
        data = f.read(stop - start)
        if len(data) != stop - start:
            raise FormatError("safetensors: the file ended early (was it truncated while "
                              "being read?)")
        return data
    return _parse_header(head, size)


def load_safetensors(path, device="cpu", *, mmap=True):
    """Load every tensor of a safetensors file: ``{name: rt tensor}`` in the order of their
    data (``safetensors.torch.load_file``).

    ``mmap=True`` maps the file copy-on-write and returns zero-copy views of it (copies for
    data that is not aligned to its element size); writes to the tensors never reach the
    file, and the file must not be truncated while the tensors live (as with any mapping).
    ``mmap=False`` reads each tensor into its own memory. ``device`` must be the CPU.

    Raises FormatError, naming the reason, for a file that is not valid safetensors or that
    holds a dtype rt does not have (U16, U32, U64, the 8/6/4-bit floats); nothing is
    allocated from a size the file does not hold.

    >>> import rt_autograd as rt, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "m.safetensors")
    >>> save_safetensors({"w": rt.arange(4.0)}, p)
    >>> load_safetensors(p)["w"]
    tensor([0., 1., 2., 3.])
    """
    _check_device(device)
    f, size = _open_regular(path)
    with f:
        _, entries, data_start = _file_header(f, size)
        if not entries:
            return {}
        if mmap and size > 0:
            try:
                mapping = _mmap.mmap(f.fileno(), 0, access=_mmap.ACCESS_COPY)
            except (OSError, ValueError):
                mapping = None        # a file system without mmap: read instead
            if mapping is not None:
                if len(mapping) != size:
                    raise FormatError("safetensors: the file changed size while being read")
                return _build(entries, lambda npdt, count, begin: np.frombuffer(
                    mapping, dtype=npdt, count=count, offset=data_start + begin))

        def read(npdt, count, begin):
            arr = np.empty(count, npdt)
            f.seek(data_start + begin)
            view = memoryview(arr.reshape(-1).view(np.uint8))
            got = f.readinto(view)
            if got != view.nbytes:
                raise FormatError(f"safetensors: the file ended early ({got} of {view.nbytes} "
                                  "bytes of a tensor); was it truncated while being read?")
            return arr
        return _build(entries, read)



def load_safetensors_bytes(data):
    """``load_safetensors`` for safetensors bytes in memory (``safetensors.torch.load``):
    any object with the buffer protocol. Each tensor owns a copy of its data.

    >>> import rt_autograd as rt
    >>> load_safetensors_bytes(save_safetensors_bytes({"b": rt.tensor([True])}))
    {'b': tensor([True])}
    """
    try:
        view = memoryview(data).cast("B")
    except TypeError:
        raise TypeError(f"load_safetensors_bytes() needs bytes or another buffer, got "
                        f"{type(data).__name__}") from None
    _, entries, data_start = _parse_header(lambda a, b: bytes(view[a:b]), view.nbytes)
    return _build(entries, lambda npdt, count, begin: np.frombuffer(
        view, dtype=npdt, count=count, offset=data_start + begin).copy())


def load_safetensors_metadata(path_or_bytes):
    """The ``__metadata__`` strings of a safetensors file (a path) or blob (bytes), or None
    when it has none. Only the header is read, and it is fully validated.

    >>> load_safetensors_metadata(save_safetensors_bytes({}, metadata={"format": "pt"}))
    {'format': 'pt'}
    """
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        view = memoryview(path_or_bytes).cast("B")
        return _parse_header(lambda a, b: bytes(view[a:b]), view.nbytes)[0]
    f, size = _open_regular(path_or_bytes)
    with f:
        return _file_header(f, size)[0]


# ---- writing -----------------------------------------------------------------------------
def _prepare(tensors, metadata):
    """The header bytes (padded to 8) and the arrays to write after it, in order."""
    if not isinstance(tensors, Mapping):
        raise TypeError(f"expected a dict of name -> tensor, got {type(tensors).__name__}")
    if metadata is not None:
        if not isinstance(metadata, Mapping):
            raise TypeError(f"metadata must be a dict of str -> str, got "
                            f"{type(metadata).__name__}")
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError(f"metadata must map str to str, got {k!r}: {v!r}")
    items = []
    for name, t in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"tensor names must be str, got {name!r}")
        if name == "__metadata__":
            raise ValueError("'__metadata__' is reserved by the safetensors format and cannot "
                             "name a tensor")
        if not isinstance(t, rt_tensor.Tensor):
            raise TypeError(f"tensor {name!r} is a {type(t).__name__}, not an rt tensor")
        if t.dtype not in _FROM_RT:
            raise FormatError(f"tensor {name!r} has dtype {t.dtype}, which safetensors cannot "
                              f"store (it stores {', '.join(sorted(map(str, _FROM_RT)))})")
        items.append((name, _FROM_RT[t.dtype], t))
    # the reference writer's order: largest dtype first (its enum order), then by name, so
    # that with the 8-byte header padding every tensor is aligned to its element size
    items.sort(key=lambda item: (-_SPEC_ORDER[item[1]], item[0]))
    header = {}
    if metadata is not None:
        header["__metadata__"] = dict(metadata)
    arrays, offset = [], 0
    for name, dtype, t in items:
        t = t.detach() if t.requires_grad else t
        if t.dtype == rt.bfloat16:
            t = t.view(rt.int16)
        arr = np.ascontiguousarray(t.numpy(force=True))
        if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and
                                          sys.byteorder == "big"):
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
        arrays.append(arr)
    try:
        text = json.dumps(header, ensure_ascii=False, separators=(",", ":"))
        blob = text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("tensor names and metadata must be valid Unicode (no lone "
                         "surrogates)") from None
    blob += b" " * (-len(blob) % 8)
    return len(blob).to_bytes(8, "little") + blob, arrays


def _raw(arr):
    return memoryview(arr.reshape(-1).view(np.uint8))


def save_safetensors_bytes(tensors, metadata=None):
    """``tensors`` (a dict of name -> rt tensor) as safetensors bytes
    (``safetensors.torch.save``); ``metadata`` an optional dict of str -> str.

    The layout is the reference writer's: header padded with spaces to a multiple of 8,
    tensors ordered by dtype size (largest first) then name. Tensors are written by value
    in C order (views and non-contiguous tensors included; shared storage is written once
    per name). A dtype safetensors lacks (complex128) raises FormatError.

    >>> import rt_autograd as rt
    >>> save_safetensors_bytes({"a": rt.zeros(1)})[8:]
    b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}  \\x00\\x00\\x00\\x00'
    """
    head, arrays = _prepare(tensors, metadata)
    out = bytearray(head)
    for arr in arrays:
        out += _raw(arr)
    return bytes(out)


def save_safetensors(tensors, path, metadata=None):
    """Write ``tensors`` (a dict of name -> rt tensor) to ``path`` as safetensors
    (``safetensors.torch.save_file``), atomically: the file appears complete or not at all.
    See ``save_safetensors_bytes`` for the layout and errors.

    >>> import rt_autograd as rt, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "m.safetensors")
    >>> save_safetensors({"w": rt.eye(2)}, p, metadata={"format": "pt"})
    >>> load_safetensors_metadata(p)
    {'format': 'pt'}
    """
    head, arrays = _prepare(tensors, metadata)
    with atomic_write(path) as f:
        f.write(head)
        for arr in arrays:
            f.write(_raw(arr))
