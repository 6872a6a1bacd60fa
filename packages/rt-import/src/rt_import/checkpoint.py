"""PyTorch checkpoints (``.pt``/``.pth``) in and out of rt, without running pickled code.

``load`` reads what ``torch.save`` writes:

* the zip format (PyTorch >= 1.6): ``<prefix>/data.pkl`` (the pickled object, tensors as
  persistent ids naming storages), ``<prefix>/data/<key>`` (raw storage bytes),
  ``byteorder``, ``version``, ``.format_version``, ``.storage_alignment`` and
  ``.data/serialization_id`` records; any prefix folder name;
* the legacy format (``_use_new_zipfile_serialization=False``, PyTorch < 1.6): five
  pickles back to back (magic number, protocol version 1001, sys_info, the object, the
  sorted list of storage keys) followed by each storage as an int64 element count and its
  little-endian bytes.

The pickle is interpreted by ``rt_import._unpickler`` with an allow-list (PyTorch's
``weights_only=True`` idea, ``torch/_weights_only_unpickler.py``): tensor rebuild functions,
storage types, dtypes, ``torch.Size``, ``torch.device``, ``Parameter``, ``OrderedDict``,
``Counter``, ``set``/``frozenset``/``complex``/``bytearray``/``_codecs.encode`` (how protocol 2
pickles those) and pickle's own containers, numbers and strings. Any other global raises
``UnsafeCheckpointError`` naming it; nothing is ever imported or run.

``save`` writes the zip format that ``torch.load(f, weights_only=True)`` reads, record for
record as ``torch.save`` lays it out (64-byte aligned storages, the same pickle opcodes and
globals), through a temporary file renamed into place.
"""
import concurrent.futures
import io
import mmap as _mmap
import os
import re
import struct
import sys
import zipfile
import zlib
from collections import Counter, OrderedDict

import numpy as np

import rt_autograd as rt
import rt_tensor as rtt
from rt_nn import Parameter

from rt_import._atomic import atomic_write
from rt_import._unpickler import SafeCallable, Source, Unpickler, _check_key
from rt_import.errors import FormatError, UnsafeCheckpointError

__all__ = ["load", "save"]

# torch/serialization.py
MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
_FILE_FORMAT_VERSION = b"3\n"          # what torch 2.x writes in the ``version`` record
_STORAGE_ALIGNMENT = 64                # torch.utils.serialization.config.save.storage_alignment
_MAX_DIMS = 32                         # rt_tensor's limit
_INT64_MAX = (1 << 63) - 1
_CHUNK = 1 << 24                       # bytes copied per step when reading/writing storages
# Members at least this large have their CRC-32 checked on a worker thread (zlib.crc32 drops
# the GIL), overlapping the read of the next storage: the check costs about as much as the
# read itself (4 GB/s against 10 GB/s from the page cache) and PyTorch's reader skips it.
_CRC_ON_WORKER_MIN = 1 << 20
# deflate cannot expand data more than ~1032:1 (RFC 1951 block limits); a member declaring
# more is a lie, refused before anything is allocated
_MAX_DEFLATE_RATIO = 1032

_DTYPES = (rt.bool, rt.uint8, rt.int8, rt.int16, rt.int32, rt.int64, rt.float16, rt.bfloat16,
           rt.float32, rt.float64, rt.complex64, rt.complex128)
# torch.<name> for each dtype rt has; str(torch.float32) == "torch.float32" is what pickles
_TORCH_DTYPE = {d.name: d for d in _DTYPES}
# legacy typed storages (torch.storage._dtype_to_storage_type_map): FloatStorage, ...
_STORAGE_DTYPE = {f"{d.scalar_name}Storage": d for d in _DTYPES}

# dtypes, storages and functions PyTorch's weights_only unpickler allows but rt cannot
# represent: refused with a FormatError that says why (not an UnsafeCheckpointError)
_UNSUPPORTED = {}
for _n in ("complex32", "uint16", "uint32", "uint64", "float8_e5m2", "float8_e4m3fn",
           "float8_e5m2fnuz", "float8_e4m3fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2",
           "bits8", "bits16", "bits1x8", "bits2x4", "bits4x2", "qint8", "qint32", "quint8",
           "quint4x2", "quint2x4", *(f"int{i}" for i in range(1, 8)),
           *(f"uint{i}" for i in range(1, 8))):
    _UNSUPPORTED[f"torch.{_n}"] = f"the dtype torch.{_n}, which rt does not have"
for _n in ("QInt8", "QInt32", "QUInt8", "QUInt4x2", "QUInt2x4"):
    for _m in ("torch", "torch.cuda"):
        _UNSUPPORTED[f"{_m}.{_n}Storage"] = "quantized storages, which rt does not have"
for _n in ("per_tensor_affine", "per_tensor_symmetric", "per_channel_affine",
           "per_channel_symmetric", "per_channel_affine_float_qparams"):
    _UNSUPPORTED[f"torch.{_n}"] = "quantized tensors, which rt does not have"
for _d in _DTYPES:
    for _m in ("torch", "torch.cuda"):
        _UNSUPPORTED[f"{_m}.{_d.scalar_name}Tensor"] = (
            "legacy tensor classes (pre-0.4 pickles), which rt does not rebuild")
_UNSUPPORTED.update({
    "torch._utils._rebuild_qtensor": "quantized tensors, which rt does not have",
    "torch._utils._rebuild_sparse_tensor": "sparse tensors, which rt does not have",
    "torch.serialization._get_layout": "sparse tensor layouts, which rt does not have",
    "torch._utils._rebuild_nested_tensor": "nested tensors, which rt does not have",
    "torch._utils._rebuild_meta_tensor_no_storage": "meta tensors, which hold no data",
    "torch._utils._rebuild_wrapper_subclass": "tensor subclasses without storage",
    "torch._utils._rebuild_device_tensor_from_numpy": "tensors pickled as numpy arrays",
    "torch.storage.TypedStorage": "a bare TypedStorage class",
})
# encodings _codecs.encode / bytearray may use: the ones pickle protocol 2 writes, all of
# which turn text into at most 4 bytes per character (no codec machinery by name)
_SAFE_ENCODINGS = {"latin1", "latin-1", "iso-8859-1", "iso8859-1", "ascii", "utf-8", "utf8"}
_DEVICE_RE = re.compile(r"^[a-z_][a-z0-9_]*(:\d+)?$")


class _StorageType:
    """Stands for ``torch.FloatStorage`` & co. (and ``UntypedStorage``, dtype uint8) in a
    persistent id; only its dtype matters."""

    __slots__ = ("name", "dtype")

    def __init__(self, name, dtype):
        self.name = name
        self.dtype = dtype

    def __repr__(self):
        return f"<storage type torch.{self.name}>"


class _TensorType:
    """Stands for ``torch.Tensor`` as the ``new_type`` of ``_rebuild_from_type_v2``."""

    def __repr__(self):
        return "<class torch.Tensor>"


_TENSOR_TYPE = _TensorType()
_UNTYPED = _StorageType("UntypedStorage", rt.uint8)


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------
def _byte_view(t):
    """A writable numpy uint8 array over the memory of a contiguous 1-d rt tensor."""
    t = t.detach()
    if t.dtype == rt.bfloat16:          # numpy has no bfloat16; same-size view
        t = t.view(rt.int16)
    return t.numpy().reshape(-1).view(np.uint8)


def _swap_bytes(t):
    """Reverse the byte order of every element of a contiguous 1-d tensor in place (complex
    numbers: each of the two parts)."""
    unit = t.dtype.itemsize // (2 if t.dtype.is_complex else 1)
    if unit > 1:
        _byte_view(t).view(f"u{unit}").byteswap(inplace=True)


def _is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def _int_tuple(x, what):
    if not isinstance(x, (tuple, list)) or not all(_is_int(v) for v in x):
        raise FormatError(f"a tensor's {what} must be a tuple of ints, got {x!r:.80}")
    return tuple(x)


def _ascii(x, what):
    if isinstance(x, bytes):
        try:
            return x.decode("ascii")
        except UnicodeDecodeError:
            raise FormatError(f"the storage {what} {x!r:.40} is not ASCII") from None
    if not isinstance(x, str):
        raise FormatError(f"the storage {what} must be a string, got {type(x).__name__}")
    return x


def _location_fn(map_location):
    """``map_location`` as PyTorch's ``torch.load`` takes it, as a function
    ``(storage, location) -> storage``. rt only has a CPU, so whatever the mapping says every
    storage stays in CPU memory; devices are still validated, and callables are called (and
    may return a replacement storage)."""
    def check_device(dev, what="map_location"):
        if isinstance(dev, bytes):
            dev = dev.decode("ascii", "replace")
        if isinstance(dev, str):
            if not _DEVICE_RE.match(dev):
                raise ValueError(f"{what}: invalid device string {dev!r}")
            return dev
        if isinstance(dev, rtt.device) or (hasattr(dev, "type") and
                                             isinstance(getattr(dev, "type"), str)):
            return str(dev)
        raise TypeError(f"{what}: expected a device string or device, got "
                        f"{type(dev).__name__}")

    if map_location is None:
        return lambda storage, location: storage
    if isinstance(map_location, dict):
        for k, v in map_location.items():
            check_device(k, "map_location key")
            check_device(v, "map_location value")
        return lambda storage, location: storage
    if isinstance(map_location, (str, bytes, rtt.device)) or (
            hasattr(map_location, "type") and not callable(map_location)):
        check_device(map_location)
        return lambda storage, location: storage
    if callable(map_location):
        def call(storage, location):
            result = map_location(storage, location)
            if result is None:
                return storage
            if (not isinstance(result, rtt.Tensor) or result.dtype != storage.dtype
                    or tuple(result.shape) != tuple(storage.shape)
                    or not result.is_contiguous()):
                raise TypeError("map_location: a callable must return None or a storage of "
                                f"the same dtype and size (an rt tensor of shape "
                                f"{tuple(storage.shape)} and dtype {storage.dtype}), got "
                                f"{type(result).__name__}")
            return result
        return call
    raise TypeError(f"map_location: expected None, a device string, a device, a dict or a "
                    f"callable, got {type(map_location).__name__}")


class _StorageInfo:
    __slots__ = ("tensor", "key", "dtype", "numel", "views")

    def __init__(self, tensor, key, dtype):
        self.tensor = tensor          # 1-d rt tensor over the whole storage (or a legacy view)
        self.key = key
        self.dtype = dtype
        self.numel = tensor.numel()   # elements the file declares
        self.views = {}               # dtype -> tensor reinterpreting the storage


# ----------------------------------------------------------------------------------------
# the loader: allow-list and rebuild functions
# ----------------------------------------------------------------------------------------
class _Loader:
    """State of one ``load``: the storages read so far and the allow-list bound to them."""

    def __init__(self, map_location):
        self.place = _location_fn(map_location)
        self.storages = {}            # key -> _StorageInfo (root storages)
        self.by_id = {}               # id(storage tensor) -> _StorageInfo
        self.legacy_views = {}        # view key -> _StorageInfo (legacy storage views)
        self.fixups = []              # run once every storage holds its data
        self.mapping = None           # the file mapped copy-on-write (load(mmap=True))
        self.allowed = self._allow_list()

    def release(self):
        """Drop the tables: the allow-list holds bound methods of the loader (a reference
        cycle), and through the storage tables the cycle would keep every loaded tensor
        alive, its memory out of the pool, until the garbage collector ran."""
        self.allowed = self.storages = self.by_id = self.legacy_views = None
        self.fixups = []

    # -- the allow-list ------------------------------------------------------------------
    def _allow_list(self):
        allowed = {}

        def fn(name, f):
            allowed[name] = SafeCallable(name, f)
            return allowed[name]

        for name in ("_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_tensor_v3",
                     "_rebuild_parameter", "_rebuild_parameter_with_state",
                     "_rebuild_device_tensor_from_cpu_tensor"):
            fn(f"torch._utils.{name}", getattr(self, name))
        fn("torch._tensor._rebuild_from_type_v2", self._rebuild_from_type_v2)
        self.parameter = fn("torch.nn.parameter.Parameter", _parameter)
        allowed["torch.nn.Parameter"] = self.parameter
        fn("collections.OrderedDict", _ordered_dict)
        fn("collections.Counter", _counter)
        fn("torch.Size", _size)
        fn("torch.device", _device)
        fn("builtins.set", _set)
        fn("builtins.frozenset", _frozenset)
        fn("builtins.complex", _complex)
        fn("builtins.bytearray", _bytearray)
        fn("_codecs.encode", _encode)
        allowed["torch.Tensor"] = _TENSOR_TYPE
        for name, d in _STORAGE_DTYPE.items():
            allowed[f"torch.{name}"] = allowed[f"torch.cuda.{name}"] = _StorageType(name, d)
        allowed["torch.storage.UntypedStorage"] = allowed["torch.UntypedStorage"] = _UNTYPED
        for name, d in _TORCH_DTYPE.items():
            allowed[f"torch.{name}"] = d
        return allowed

    def find_global(self, module, name):
        full = f"{module}.{name}"
        if len(full) > 200:
            full = full[:200] + "..."
        value = self.allowed.get(full)
        if value is not None:
            return value
        if full in _UNSUPPORTED:
            raise FormatError(f"the checkpoint uses {full}: {_UNSUPPORTED[full]}")
        raise UnsafeCheckpointError(
            f"the checkpoint asks for the global {full}, which is not on the allow-list "
            "(tensors, storages, dtypes, Parameter, containers, numbers, strings); refused "
            "without running anything from the file")

    def build(self, inst, state):
        """``BUILD``: attribute state for an OrderedDict/Counter (as PyTorch's weights_only
        unpickler allows) or a Parameter; nothing else."""
        if type(inst) in (OrderedDict, Counter):
            if state is None:
                return
            if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
                raise FormatError("BUILD state for an OrderedDict must be a dict of "
                                  "attribute names")
            inst.__dict__.update(state)
        elif isinstance(inst, Parameter):
            _set_obj_state(inst, state)
        else:
            raise UnsafeCheckpointError(f"BUILD of a {type(inst).__name__} is not allowed "
                                        "(only OrderedDict, Counter and Parameter state)")

    # -- storages ------------------------------------------------------------------------
    def storage_type(self, st):
        if not isinstance(st, _StorageType):
            raise FormatError(f"a persistent id names {st!r:.60} where a storage type "
                              "belongs")
        return st.dtype

    def register(self, tensor, key, dtype):
        info = _StorageInfo(tensor, key, dtype)
        self.by_id[id(tensor)] = info
        return info

    def _storage(self, storage, fname):
        info = self.by_id.get(id(storage))
        if info is None or info.tensor is not storage:
            raise FormatError(f"{fname}: the first argument must be a storage from the "
                              f"checkpoint, got {type(storage).__name__}")
        return info

    def _reinterpret(self, info, dtype):
        """The storage seen as ``dtype`` (``_rebuild_tensor_v3`` over an UntypedStorage).
        Same element size: a view sharing memory; otherwise a copy of the bytes made once
        the data is in (rt cannot view memory as a dtype of another size)."""
        if dtype == info.dtype:
            return info.tensor
        view = info.views.get(dtype)
        if view is not None:
            return view
        same_size = [v for d, v in ((info.dtype, info.tensor), *info.views.items())
                     if d.itemsize == dtype.itemsize]
        if same_size:
            view = same_size[0].view(dtype)
        else:
            nbytes = info.tensor.numel() * info.dtype.itemsize
            view = rt.empty(nbytes // dtype.itemsize, dtype=dtype)
            src = info.tensor

            def copy(src=src, dst=view, n=view.numel() * dtype.itemsize):
                _byte_view(dst)[:] = _byte_view(src)[:n]
            self.fixups.append(copy)
        info.views[dtype] = view
        # register so a tensor rebuilt from it finds its storage info too
        self.by_id[id(view)] = _StorageInfo(view, info.key, dtype)
        return view

    def _view(self, storage, offset, size, stride, fname, dtype=None):
        info = self._storage(storage, fname)
        base = info.tensor if dtype is None else self._reinterpret(info, dtype)
        if not _is_int(offset):
            raise FormatError(f"{fname}: storage offset must be an int, got {offset!r:.40}")
        size = _int_tuple(size, "size")
        stride = _int_tuple(stride, "stride")
        if len(size) != len(stride):
            raise FormatError(f"{fname}: size {size} and stride {stride} differ in length")
        if len(size) > _MAX_DIMS:
            raise FormatError(f"{fname}: {len(size)} dimensions (rt supports at most "
                              f"{_MAX_DIMS})")
        if any(s < 0 for s in size) or any(s < 0 for s in stride) or offset < 0:
            raise FormatError(f"{fname}: negative size, stride or offset (size {size}, "
                              f"stride {stride}, offset {offset})")
        numel = 1
        for s in size:
            numel *= s
        if numel > _INT64_MAX or offset > _INT64_MAX or any(s > _INT64_MAX for s in stride):
            raise FormatError(f"{fname}: size {size} / stride {stride} / offset {offset} out "
                              "of range")
        available = base.numel()
        if numel:
            extent = offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
            if extent > available:
                raise FormatError(
                    f"{fname}: a tensor of size {list(size)}, stride {list(stride)} at offset "
                    f"{offset} needs {extent} elements, its storage has {available}")
        else:
            offset = min(offset, available)
        with rt.no_grad():
            return base.detach().as_strided(size, stride, base.storage_offset() + offset)

    def _finish(self, t, requires_grad, backward_hooks, metadata, fname):
        if not isinstance(requires_grad, bool):
            raise FormatError(f"{fname}: requires_grad must be a bool")
        if backward_hooks is not None and not isinstance(backward_hooks, dict):
            raise FormatError(f"{fname}: backward_hooks must be a dict")
        # backward hooks are never pickled with content by PyTorch ("Don't serialize hooks");
        # an allow-listed pickle could only hold data there, which has no meaning: ignored
        if metadata:
            if not isinstance(metadata, dict):
                raise FormatError(f"{fname}: metadata must be a dict")
            conj = bool(metadata.get("conj", False))
            neg = bool(metadata.get("neg", False))
            if conj or neg:
                # PyTorch's lazy conjugate / negative bits: rt materialises the result
                # (a new tensor; it no longer shares the storage)
                out = rt.empty(tuple(t.shape), dtype=t.dtype)
                src = t

                def apply(src=src, out=out, conj=conj, neg=neg):
                    v = src
                    if conj:
                        v = rt.conj(v) if v.dtype.is_complex else v
                    if neg:
                        v = rt.neg(v)
                    out.copy_(v)
                self.fixups.append(apply)
                t = out
        if requires_grad:
            if not (t.dtype.is_floating_point or t.dtype.is_complex):
                raise FormatError(f"{fname}: a {t.dtype} tensor cannot require grad")
            t.requires_grad_(True)
        return t

    # -- rebuild functions (torch/_utils.py) --------------------------------------------
    def _rebuild_tensor(self, storage, storage_offset, size, stride):
        return self._view(storage, storage_offset, size, stride, "_rebuild_tensor")

    def _rebuild_tensor_v2(self, storage, storage_offset, size, stride, requires_grad,
                           backward_hooks, metadata=None):
        t = self._view(storage, storage_offset, size, stride, "_rebuild_tensor_v2")
        return self._finish(t, requires_grad, backward_hooks, metadata, "_rebuild_tensor_v2")

    def _rebuild_tensor_v3(self, storage, storage_offset, size, stride, requires_grad,
                           backward_hooks, dtype, metadata=None):
        if dtype not in _DTYPES:
            raise FormatError(f"_rebuild_tensor_v3: dtype must be a dtype, got {dtype!r:.40}")
        t = self._view(storage, storage_offset, size, stride, "_rebuild_tensor_v3", dtype)
        return self._finish(t, requires_grad, backward_hooks, metadata, "_rebuild_tensor_v3")

    def _rebuild_parameter(self, data, requires_grad, backward_hooks):
        return _parameter(data, requires_grad)

    def _rebuild_parameter_with_state(self, data, requires_grad, backward_hooks, state):
        p = _parameter(data, requires_grad)
        _set_obj_state(p, state)
        return p

    def _rebuild_device_tensor_from_cpu_tensor(self, data, dtype, device, requires_grad):
        if not isinstance(data, rtt.Tensor) or dtype not in _DTYPES:
            raise FormatError("_rebuild_device_tensor_from_cpu_tensor: expected a tensor and "
                              "a dtype")
        _device(device)
        with rt.no_grad():
            t = data.detach().to(dtype)
        return self._finish(t, requires_grad, None, None,
                            "_rebuild_device_tensor_from_cpu_tensor")

    def _rebuild_from_type_v2(self, func, new_type, args, state):
        rebuilders = {self.allowed[f"torch._utils.{n}"] for n in (
            "_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_tensor_v3",
            "_rebuild_parameter", "_rebuild_parameter_with_state",
            "_rebuild_device_tensor_from_cpu_tensor")}
        if func not in rebuilders:
            raise UnsafeCheckpointError(f"_rebuild_from_type_v2 of {func!r:.60}: only tensor "
                                        "rebuild functions are allowed")
        if new_type is not _TENSOR_TYPE and new_type is not self.parameter:
            raise UnsafeCheckpointError(f"_rebuild_from_type_v2 to {new_type!r:.60}: only "
                                        "torch.Tensor and Parameter are allowed")
        if not isinstance(args, tuple):
            raise FormatError("_rebuild_from_type_v2: arguments must be a tuple")
        t = func.fn(*args)
        if new_type is self.parameter and not isinstance(t, Parameter):
            t = _parameter(t, t.requires_grad)
        if isinstance(t, Parameter):
            _set_obj_state(t, state)
        else:
            # Python attributes set on a plain tensor: rt tensors have no __dict__, so
            # they are dropped (documented in ``load``); only their shape is checked
            _check_state(state)
        return t

    def run_fixups(self):
        with rt.no_grad():
            for fix in self.fixups:
                try:
                    fix()
                except (RuntimeError, TypeError, ValueError) as exc:
                    raise FormatError(f"cannot finish a tensor: {exc}") from None
        self.fixups.clear()


# allow-listed constructors: each validates its arguments (no allocation sized by the file)
def _parameter(data=None, requires_grad=True):
    if data is None:
        data = rt.empty(0)
    if not isinstance(data, rtt.Tensor):
        raise FormatError(f"Parameter: data must be a tensor, got {type(data).__name__}")
    if not isinstance(requires_grad, bool):
        raise FormatError("Parameter: requires_grad must be a bool")
    if requires_grad and not (data.dtype.is_floating_point or data.dtype.is_complex):
        raise FormatError(f"Parameter: a {data.dtype} tensor cannot require grad")
    return Parameter(data.detach(), requires_grad)


def _check_state(state):
    if state is None:
        return {}, {}
    slots = {}
    if isinstance(state, tuple) and len(state) == 2:
        state, slots = state
    state = state or {}
    slots = slots or {}
    if not isinstance(state, dict) or not isinstance(slots, dict):
        raise FormatError("an object's pickled state must be a dict (or a pair of dicts)")
    return state, slots


def _set_obj_state(obj, state):
    """``torch._utils._set_obj_state`` for a Parameter: Python attributes the user had set.
    Only names that would land in the instance ``__dict__`` (not dunder names or anything
    the class defines, such as ``data`` or ``grad``) are accepted."""
    state, slots = _check_state(state)
    for k, v in (*state.items(), *slots.items()):
        if not isinstance(k, str) or not k.isidentifier() or (
                k.startswith("__") and k.endswith("__")) or hasattr(type(obj), k):
            raise FormatError(f"Parameter state: attribute {k!r:.40} cannot be restored")
        obj.__dict__[k] = v
    return obj


def _ordered_dict(items=()):
    if isinstance(items, dict):
        items = list(items.items())
    if not isinstance(items, (list, tuple)):
        raise FormatError("OrderedDict: expected a list of pairs")
    out = OrderedDict()
    for pair in items:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise FormatError("OrderedDict: expected a list of pairs")
        _check_key(pair[0])
        out[pair[0]] = pair[1]
    return out


def _counter(items=None):
    if items is None:
        return Counter()
    if not isinstance(items, dict):
        raise FormatError("Counter: expected a dict")
    return Counter(items)


def _size(sizes=()):
    if not isinstance(sizes, (tuple, list)) or not all(_is_int(s) for s in sizes):
        raise FormatError(f"torch.Size: expected a tuple of ints, got {sizes!r:.60}")
    return rtt.Size(tuple(sizes))


def _device(type_or_str="cpu", index=None):
    """A device in the data (not a storage location): rt has only the CPU, so every device
    comes back as ``device(type='cpu')``."""
    if isinstance(type_or_str, rtt.device):
        return type_or_str
    if not isinstance(type_or_str, str) or not _DEVICE_RE.match(type_or_str) or not (
            index is None or _is_int(index)):
        raise FormatError(f"torch.device: invalid device {type_or_str!r:.40}")
    return rtt.device("cpu")


def _items(x, what):
    if not isinstance(x, (list, tuple, set, frozenset)):
        raise FormatError(f"{what}: expected a list, got {type(x).__name__}")
    for v in x:
        _check_key(v)
    return x


def _set(items=()):
    return set(_items(items, "set"))


def _frozenset(items=()):
    return frozenset(_items(items, "frozenset"))


def _complex(real=0.0, imag=0.0):
    for v in (real, imag):
        if not isinstance(v, (int, float)):
            raise FormatError("complex: expected two numbers")
    return complex(real, imag)


def _bytearray(source=b"", encoding=None):
    if isinstance(source, str):
        return bytearray(_encode(source, encoding or "utf-8"))
    if isinstance(source, (bytes, bytearray)):
        return bytearray(source)
    if isinstance(source, list) and all(_is_int(v) and 0 <= v < 256 for v in source):
        return bytearray(source)
    # never bytearray(n): that would allocate whatever size the file declares
    raise FormatError(f"bytearray: expected bytes, got {type(source).__name__}")


def _encode(obj, encoding="utf-8", errors="strict"):
    if not isinstance(obj, str) or not isinstance(encoding, str) or \
            encoding.lower() not in _SAFE_ENCODINGS or errors != "strict":
        raise FormatError(f"_codecs.encode: only text in {sorted(_SAFE_ENCODINGS)} is allowed")
    try:
        return obj.encode(encoding)
    except UnicodeEncodeError as exc:
        raise FormatError(f"_codecs.encode: {exc.reason}") from None


def _parse_pid(pid, nfields):
    if not isinstance(pid, tuple) or not pid:
        raise FormatError(f"a persistent id must be a tuple, got {type(pid).__name__}")
    typename = _ascii(pid[0], "persistent id type")
    if typename == "module":
        raise UnsafeCheckpointError("the checkpoint pickles a whole module class (legacy "
                                    "torch.save(model)); refused, save model.state_dict()")
    if typename != "storage":
        raise FormatError(f"unknown persistent id type {typename!r:.40}")
    if len(pid) != nfields + 1:
        raise FormatError(f"a storage persistent id has {len(pid) - 1} fields, expected "
                          f"{nfields}")
    return pid[1:]


def _storage_key(key):
    if _is_int(key):
        return str(key)
    return _ascii(key, "key")


def _check_numel(numel):
    if not _is_int(numel) or numel < 0 or numel > _INT64_MAX:
        raise FormatError(f"a storage size must be a non-negative int, got {numel!r:.40}")
    return numel


# ----------------------------------------------------------------------------------------
# the zip format
# ----------------------------------------------------------------------------------------
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, struct.error,
               NotImplementedError, UnicodeDecodeError, zlib.error, IndexError, KeyError,
               OverflowError, RuntimeError)


class _Zip:
    """The members of a zip archive, read and checked by hand (sizes against the archive
    before allocating, local headers against the central directory, CRC-32 after)."""

    def __init__(self, f, end):
        self.f = f
        self.end = end
        try:
            zf = zipfile.ZipFile(f)
            infos = zf.infolist()
        except _ZIP_ERRORS as exc:
            raise FormatError(f"not a readable zip archive: {exc}") from None
        except OSError as exc:
            raise FormatError(f"not a readable zip archive: {exc}") from None
        self.pending_crcs = []        # (member, future) checked in finish()
        self._executor = None
        self.members = {}
        for info in infos:
            if info.filename in self.members:
                raise FormatError(f"the zip archive has two members named {info.filename!r}")
            self.members[info.filename] = info
        self.order = [i.filename for i in infos]

    def _data_start(self, info):
        if info.flag_bits & 0x1:
            raise FormatError(f"{info.filename}: encrypted zip members are not supported")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise FormatError(f"{info.filename}: compression method {info.compress_type} is "
                              "not supported (PyTorch writes stored members)")
        if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
            raise FormatError(f"{info.filename}: a stored member with compressed size "
                              f"{info.compress_size} and size {info.file_size}")
        if info.compress_type == zipfile.ZIP_DEFLATED and \
                info.file_size > info.compress_size * _MAX_DEFLATE_RATIO + 1024:
            raise FormatError(f"{info.filename}: declares {info.file_size} bytes from "
                              f"{info.compress_size} compressed bytes, more than deflate can "
                              "produce")
        start = info.header_offset
        if start < 0 or start + 30 > self.end:
            raise FormatError(f"{info.filename}: local header offset {start} outside the "
                              "archive")
        self.f.seek(start)
        header = self.f.read(30)
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            raise FormatError(f"{info.filename}: bad local file header")
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        name = self.f.read(name_len)
        try:
            expected = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800
                                                 else "cp437")
        except UnicodeEncodeError:
            expected = None
        if name != expected:
            raise FormatError(f"{info.filename}: the local header names {name[:60]!r}")
        data = start + 30 + name_len + extra_len
        if data + info.compress_size > self.end:
            raise FormatError(f"{info.filename}: {info.compress_size} bytes at offset {data} "
                              f"run past the end of the archive ({self.end} bytes)")
        return data

    def check(self, info):
        """Validate a member's header and sizes (before anything is allocated for it)."""
        try:
            return self._data_start(info)
        except OSError as exc:
            raise FormatError(f"{info.filename}: {exc}") from None

    def read_into(self, info, out, defer_crc=False):
        """Fill ``out`` (a writable uint8 numpy array of exactly the member's size).

        ``defer_crc``: a large stored member's CRC-32 may be checked on a worker thread;
        then ``out`` must not change until ``finish()`` returned."""
        data = self.check(info)
        n = info.file_size
        if out.nbytes != n:
            raise FormatError(f"{info.filename}: holds {n} bytes, {out.nbytes} expected")
        mv = memoryview(out).cast("B") if n else memoryview(b"")
        crc = 0
        f = self.f
        f.seek(data)
        if info.compress_type == zipfile.ZIP_STORED:
            pos = 0
            readinto = getattr(f, "readinto", None)
            later = defer_crc and info.CRC and n >= _CRC_ON_WORKER_MIN
            while pos < n:
                step = min(_CHUNK, n - pos)
                if readinto is not None:
                    got = readinto(mv[pos:pos + step])
                else:
                    chunk = f.read(step)
                    got = len(chunk)
                    mv[pos:pos + got] = chunk
                if not got:
                    raise FormatError(f"{info.filename}: the archive ends inside the member")
                if not later:
                    crc = zlib.crc32(mv[pos:pos + got], crc)
                pos += got
            if later:
                if self._executor is None:
                    self._executor = concurrent.futures.ThreadPoolExecutor(
                        max_workers=min(4, os.cpu_count() or 1),
                        thread_name_prefix="rt_import-crc")
                self.pending_crcs.append((info, self._executor.submit(zlib.crc32, mv)))
                return
        else:
            dec = zlib.decompressobj(-15)
            left = info.compress_size
            pos = 0
            try:
                while pos < n:
                    if dec.unconsumed_tail:
                        chunk = dec.unconsumed_tail
                    else:
                        if not left:
                            break
                        chunk = f.read(min(_CHUNK, left))
                        if not chunk:
                            break
                        left -= len(chunk)
                    piece = dec.decompress(chunk, n - pos)
                    mv[pos:pos + len(piece)] = piece
                    crc = zlib.crc32(piece, crc)
                    pos += len(piece)
                    if dec.eof:
                        break
            except zlib.error as exc:
                raise FormatError(f"{info.filename}: corrupt deflate data ({exc})") from None
            if pos != n:
                raise FormatError(f"{info.filename}: decompresses to {pos} bytes, the archive "
                                  f"declares {n}")
        # PyTorch may be configured not to compute CRC-32s (then the field is 0)
        if info.CRC and crc != info.CRC:
            raise FormatError(f"{info.filename}: CRC-32 mismatch (the data is corrupt)")

    def finish(self):
        """Wait for the CRC-32 checks left to worker threads; raise FormatError on the first
        mismatch (so a corrupt member never reaches the caller)."""
        try:
            for info, future in self.pending_crcs:
                if future.result() != info.CRC:
                    raise FormatError(f"{info.filename}: CRC-32 mismatch (the data is corrupt)")
        finally:
            self.close()

    def close(self):
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        self.pending_crcs = []

    def read(self, info, limit=None):
        if limit is not None and info.file_size > limit:
            raise FormatError(f"{info.filename}: {info.file_size} bytes, more than the "
                              f"{limit} expected")
        self.check(info)
        out = np.empty(info.file_size, dtype=np.uint8)
        self.read_into(info, out)
        return out.tobytes()


def _mapped_storage(mapping, member, data_at, numel, dtype):
    """A storage as a zero-copy view of the memory-mapped file (``load(mmap=True)``), or None
    when the member cannot be mapped (compressed, or not aligned to its element size)."""
    if mapping is None or member.compress_type != zipfile.ZIP_STORED or numel == 0 or \
            data_at % dtype.itemsize or data_at + member.file_size > len(mapping):
        return None
    like = rt.int16 if dtype == rt.bfloat16 else dtype     # numpy has no bfloat16
    npdt = rt.empty(0, dtype=like).numpy().dtype
    tensor = rt.from_numpy(np.frombuffer(mapping, dtype=npdt, count=numel, offset=data_at))
    return tensor.view(rt.bfloat16) if dtype == rt.bfloat16 else tensor


def _load_zip(f, start, end, loader):
    z = _Zip(f, end)
    names = z.members
    # the archive's folder: PyTorch takes the first record's (the file stem when saved to a
    # path, "archive" for buffers); any name works
    candidates = [n[:-len("/data.pkl")] for n in z.order
                  if n.endswith("/data.pkl") and n.count("/") == 1]
    first = z.order[0].split("/")[0] if z.order else ""
    if not candidates:
        if any(n.endswith("/constants.pkl") for n in names):
            raise FormatError("a TorchScript archive (torch.jit.save), not a torch.save "
                              "checkpoint; TorchScript carries code and is not loaded")
        raise FormatError("a zip archive without a <folder>/data.pkl record: not a PyTorch "
                          "checkpoint")
    prefix = first if first in candidates else candidates[0]
    if f"{prefix}/constants.pkl" in names:
        raise FormatError("a TorchScript archive (torch.jit.save), not a torch.save "
                          "checkpoint; TorchScript carries code and is not loaded")
    byteorder = "little"      # torch's default for files without the record
    if f"{prefix}/byteorder" in names:
        raw = z.read(names[f"{prefix}/byteorder"], limit=16)
        if raw not in (b"little", b"big"):
            raise FormatError(f"unknown byteorder record {raw[:16]!r}")
        byteorder = raw.decode()
    if f"{prefix}/version" in names:
        raw = z.read(names[f"{prefix}/version"], limit=32).strip()
        if not raw.isdigit():
            raise FormatError(f"bad version record {raw[:32]!r}")
    swap = byteorder != sys.byteorder

    def persistent_load(pid):
        storage_type, key, location, numel = _parse_pid(pid, 4)
        dtype = loader.storage_type(storage_type)
        key = _storage_key(key)
        location = _ascii(location, "location")
        numel = _check_numel(numel)
        info = loader.storages.get(key)
        if info is not None:        # as torch: a key seen before gives the same storage
            return info.tensor
        member = names.get(f"{prefix}/data/{key}")
        if member is None:
            raise FormatError(f"storage {key!r}: the archive has no record "
                              f"{prefix}/data/{key}")
        nbytes = numel * dtype.itemsize
        if member.file_size != nbytes:
            raise FormatError(f"storage {key!r}: the record holds {member.file_size} bytes, "
                              f"the checkpoint declares {numel} x {dtype} = {nbytes}")
        data_at = z.check(member)                   # sizes fit the archive: allocate
        base = None if swap else _mapped_storage(loader.mapping, member, data_at, numel, dtype)
        if base is None:
            base = rt.empty(numel, dtype=dtype)
            # big-endian data is swapped in place at once: its CRC cannot wait
            z.read_into(member, _byte_view(base), defer_crc=not swap)
            if swap:
                _swap_bytes(base)
        base = loader.place(base, location)
        loader.storages[key] = loader.register(base, key, dtype)
        return base

    pkl = names[f"{prefix}/data.pkl"]
    try:
        data = z.read(pkl)
        src = Source(io.BytesIO(data), 0, len(data))
        result = Unpickler(src, loader.find_global, persistent_load, loader.build).load()
        z.finish()
    finally:
        z.close()
    loader.run_fixups()
    return result


# ----------------------------------------------------------------------------------------
# the legacy format
# ----------------------------------------------------------------------------------------
def _load_legacy(f, start, end, loader):
    src = Source(f, start, end)

    def plain():
        return Unpickler(src, None).load()

    try:
        magic = plain()
    except FormatError as exc:
        raise FormatError(f"not a PyTorch checkpoint: neither a zip archive nor a legacy "
                          f"torch.save pickle ({exc})") from None
    if magic != MAGIC_NUMBER:
        raise FormatError("not a PyTorch checkpoint: the legacy format's magic number is "
                          "missing")
    version = plain()
    if version != PROTOCOL_VERSION:
        raise FormatError(f"unsupported legacy protocol version {version!r:.40} (expected "
                          f"{PROTOCOL_VERSION})")
    sys_info = plain()
    if not isinstance(sys_info, dict):
        raise FormatError("corrupt legacy checkpoint: sys_info is not a dict")
    declared = [0]     # bytes of storage data the pickle has declared so far

    def persistent_load(pid):
        storage_type, key, location, numel, view_metadata = _parse_pid(pid, 5)
        dtype = loader.storage_type(storage_type)
        key = _storage_key(key)
        location = _ascii(location, "location")
        numel = _check_numel(numel)
        info = loader.storages.get(key)
        if info is None:
            nbytes = numel * dtype.itemsize
            declared[0] += nbytes + 8
            # the data follows the pickles: it cannot be larger than what is left
            if declared[0] > src.remaining():
                raise FormatError(f"storage {key!r} declares {numel} x {dtype}, more data "
                                  f"than the file holds ({src.remaining()} bytes left)")
            base = loader.place(rt.empty(numel, dtype=dtype), location)
            info = loader.storages[key] = loader.register(base, key, dtype)
        if view_metadata is None:
            return info.tensor
        # storage views (PyTorch < 0.4): (view_key, offset, size) in elements of the root
        if not isinstance(view_metadata, tuple) or len(view_metadata) != 3:
            raise FormatError("corrupt legacy checkpoint: bad storage view metadata")
        view_key, offset, size = view_metadata
        view_key = _storage_key(view_key)
        known = loader.legacy_views.get(view_key)
        if known is not None:
            return known.tensor
        if not (_is_int(offset) and _is_int(size) and offset >= 0 and size >= 0
                and offset + size <= info.tensor.numel()):
            raise FormatError(f"storage view {view_key!r} out of its storage's range")
        view = info.tensor[offset:offset + size]
        loader.legacy_views[view_key] = loader.register(view, view_key, info.dtype)
        return view

    result = Unpickler(src, loader.find_global, persistent_load, loader.build).load()
    keys = plain()
    if not isinstance(keys, list) or not all(isinstance(k, (str, int)) for k in keys):
        raise FormatError("corrupt legacy checkpoint: the storage key list is not a list of "
                          "strings")
    pos = src.tell()
    filled = set()
    for key in keys:
        key = _storage_key(key)
        info = loader.storages.get(key)
        if info is None:
            raise FormatError(f"corrupt legacy checkpoint: storage {key!r} has data but no "
                              "tensor uses it")
        if key in filled:
            raise FormatError(f"corrupt legacy checkpoint: storage {key!r} listed twice")
        numel = info.numel
        nbytes = numel * info.dtype.itemsize
        if pos + 8 + nbytes > end:
            raise FormatError(f"truncated legacy checkpoint: storage {key!r} needs {nbytes} "
                              f"bytes at offset {pos + 8}, the file has {end}")
        f.seek(pos)
        head = f.read(8)
        if len(head) != 8 or struct.unpack("<q", head)[0] != numel:
            raise FormatError(f"corrupt legacy checkpoint: storage {key!r} holds "
                              f"{struct.unpack('<q', head)[0] if len(head) == 8 else '?'} "
                              f"elements, the pickle declares {numel}")
        out = _byte_view(info.tensor)
        mv = memoryview(out).cast("B") if nbytes else memoryview(b"")
        done = 0
        while done < nbytes:
            step = min(_CHUNK, nbytes - done)
            got = f.readinto(mv[done:done + step]) if hasattr(f, "readinto") else None
            if got is None:
                chunk = f.read(step)
                got = len(chunk)
                mv[done:done + got] = chunk
            if not got:
                raise FormatError(f"truncated legacy checkpoint inside storage {key!r}")
            done += got
        if sys.byteorder == "big":      # legacy storages are always little-endian
            _swap_bytes(info.tensor)
        pos += 8 + nbytes
        filled.add(key)
    missing = sorted(set(loader.storages) - filled)
    if missing:
        raise FormatError(f"corrupt legacy checkpoint: no data for storage(s) {missing[:5]}")
    loader.run_fixups()
    return result


# ----------------------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------------------
def load(path_or_file, map_location=None, *, weights_only=True, mmap=False):
    """Load an object saved with ``torch.save`` (or ``rt_import.save``) into rt, safely.

    ``path_or_file`` is a path or a binary file object (read from its current position).
    Tensors come back as ``rt_autograd.Tensor`` with their dtype, shape, strides and storage
    offset; tensors that shared a storage in the file are views of one rt storage;
    ``torch.nn.Parameter`` comes back as ``rt_nn.Parameter``; ``requires_grad`` is kept.
    Containers (dict, ``OrderedDict``, list, tuple, set), numbers, strings and ``None``
    come back as themselves, so a ``state_dict`` or an optimizer's ``state_dict()`` loads as
    plain Python holding rt tensors. ``torch.Size`` -> ``rt_tensor.Size``, ``torch.float32``
    & co. -> rt dtypes, ``torch.device`` -> ``rt_tensor.device('cpu')``; a bare storage
    loads as a 1-d tensor of its dtype.

    ``map_location`` takes what ``torch.load`` takes: ``None``, a device string
    (``'cpu'``, ``'cuda:0'``), a device, a dict mapping locations, or a callable
    ``(storage, location) -> storage or None`` (``storage``: a 1-d rt tensor of the
    storage's dtype; a returned tensor of the same dtype and length replaces it). rt has
    only a CPU, so every storage is loaded to CPU memory whatever the mapping says, e.g. a
    checkpoint saved on ``cuda:0`` loads with no ``map_location`` at all.

    Refused (``UnsafeCheckpointError``, naming the global): any global outside the
    allow-list, e.g. ``os.system``, a pickled ``nn.Module`` class or a numpy array; nothing
    from the file runs. Refused with ``FormatError`` (saying why): truncated or corrupt
    files (sizes are checked against the file before anything is allocated; zip members'
    CRC-32s are verified), TorchScript archives, the pre-0.4 tar format, and what rt cannot
    represent (sparse, quantized, nested and meta tensors, dtypes such as ``uint16`` or
    ``float8``). Differences from PyTorch: lazy conjugate/negative views are materialised
    (a copy, no longer sharing storage); Python attributes set on a plain tensor are
    dropped (rt tensors have no ``__dict__``); a ``_rebuild_tensor_v3`` view of an untyped
    storage as a dtype of another element size is a copy.

    Pickles of protocols 1 to 5 are read (``torch.save(..., pickle_protocol=p)``;
    PyTorch's own weights_only loader reads 2 and 3); protocol 0 cannot hold PyTorch's
    persistent ids and is a ``FormatError``, as in PyTorch.

    ``weights_only`` is accepted for drop-in compatibility and must be True.

    ``mmap=True`` (as ``torch.load(mmap=True)``), for a zip checkpoint given by path:
    storages are zero-copy views of the file mapped copy-on-write (writing to a tensor never
    changes the file), so loading costs no copy; the data's CRC-32s are then not checked.
    The file must not be truncated or rewritten in place while the tensors live
    (``rt_import.save`` replaces files by renaming, which is safe).

    >>> import io, rt_autograd as rt, rt_import
    >>> buf = io.BytesIO()
    >>> w = rt.arange(6.0).reshape(2, 3)
    >>> rt_import.save({"w": w, "wt": w.t()}, buf)
    >>> _ = buf.seek(0)
    >>> sd = rt_import.load(buf)
    >>> sd["wt"].stride(), sd["w"].untyped_storage() is sd["wt"].untyped_storage()
    ((1, 3), True)
    """
    if weights_only is not True:
        raise ValueError("rt_import.load only loads with weights_only=True semantics: it "
                         "never runs code from a checkpoint")
    loader = _Loader(map_location)
    own = isinstance(path_or_file, (str, os.PathLike))
    if own:
        f = open(path_or_file, "rb")
    elif hasattr(path_or_file, "read"):
        f = path_or_file
    else:
        raise TypeError(f"load: expected a path or a binary file object, got "
                        f"{type(path_or_file).__name__}")
    try:
        if not (hasattr(f, "seek") and hasattr(f, "tell") and
                (not hasattr(f, "seekable") or f.seekable())):
            data = f.read()
            if not isinstance(data, (bytes, bytearray)):
                raise TypeError("load: the file must be opened in binary mode")
            f = io.BytesIO(data)
        start = f.tell()
        f.seek(0, os.SEEK_END)
        end = f.tell()
        f.seek(start)
        head = f.read(512)
        if not isinstance(head, (bytes, bytearray)):
            raise TypeError("load: the file must be opened in binary mode")
        if head[:4] == b"PK\x03\x04":
            if mmap and own and start == 0 and end > 0:
                try:
                    loader.mapping = _mmap.mmap(f.fileno(), 0, access=_mmap.ACCESS_COPY)
                except (OSError, ValueError):
                    loader.mapping = None      # a file system without mmap: read instead
            return _load_zip(f, start, end, loader)
        if len(head) >= 262 and head[257:262] == b"ustar":
            raise FormatError("the pre-0.4 tar checkpoint format is not supported (PyTorch's "
                              "weights_only loader refuses it too)")
        # anything else may be the legacy format, pickled with any protocol (0 and 1 have
        # no PROTO opcode): its first pickle must be the magic number
        return _load_legacy(f, start, end, loader)
    finally:
        loader.release()
        if own:
            f.close()


# ----------------------------------------------------------------------------------------
# save: a protocol-2 pickler limited to what torch.load(weights_only=True) reads
# ----------------------------------------------------------------------------------------
_DEFAULT_PROTOCOL = 2                  # torch.serialization.DEFAULT_PROTOCOL


class _Pickler:
    """Writes the pickle ``torch.save`` writes for tensors and containers, using only the
    opcodes and globals PyTorch's weights_only unpickler accepts."""

    def __init__(self):
        self.out = io.BytesIO()
        self.memo = {}             # id(obj) -> memo index
        self.keep = []             # objects whose ids are in memo (kept alive)
        self.globals = {}          # "module name" -> memo index
        self.storages = {}         # id(Storage) -> [key, storage, dtype, tensor]
        self.in_progress = set()   # ids of tuples being written (recursion check)

    def dump(self, obj):
        self.out.write(b"\x80" + bytes([_DEFAULT_PROTOCOL]))
        self._save(obj)
        self.out.write(b".")
        return self.out.getvalue()

    # -- primitives ----------------------------------------------------------------------
    def _put(self, obj):
        idx = len(self.memo) + len(self.globals)
        self.memo[id(obj)] = idx
        self.keep.append(obj)
        self._write_put(idx)

    def _write_put(self, idx):
        self.out.write(b"q" + bytes([idx]) if idx < 256 else b"r" + struct.pack("<I", idx))

    def _get(self, idx):
        self.out.write(b"h" + bytes([idx]) if idx < 256 else b"j" + struct.pack("<I", idx))

    def _global(self, module, name):
        key = f"{module} {name}"
        idx = self.globals.get(key)
        if idx is not None:
            self._get(idx)
            return
        self.out.write(b"c" + module.encode() + b"\n" + name.encode() + b"\n")
        idx = len(self.memo) + len(self.globals)
        self.globals[key] = idx
        self._write_put(idx)

    def _int(self, x):
        w = self.out.write
        if 0 <= x < 256:
            w(b"K" + bytes([x]))
        elif 0 <= x < 65536:
            w(b"M" + struct.pack("<H", x))
        elif -(1 << 31) <= x < (1 << 31):
            w(b"J" + struct.pack("<i", x))
        else:
            n = (x.bit_length() + 8) // 8     # two's complement, sign bit included
            data = x.to_bytes(n, "little", signed=True)
            if len(data) > 255:
                raise ValueError("save: integers above 2**2039 cannot be saved (PyTorch's "
                                 "weights_only unpickler reads LONG1 only)")
            w(b"\x8a" + bytes([len(data)]) + data)

    def _str(self, s):
        data = s.encode("utf-8", "surrogatepass")
        self.out.write(b"X" + struct.pack("<I", len(data)) + data)

    def _tuple_of(self, items):
        n = len(items)
        if n == 0:
            self.out.write(b")")
            return
        if n > 3:
            self.out.write(b"(")
        for v in items:
            self._save(v)
        self.out.write(b"t" if n > 3 else b"\x85\x86\x87"[n - 1:n])

    # -- dispatch ------------------------------------------------------------------------
    def _save(self, obj):
        w = self.out.write
        idx = self.memo.get(id(obj))
        if idx is not None:
            self._get(idx)
            return
        t = type(obj)
        if obj is None:
            w(b"N")
        elif t is bool:
            w(b"\x88" if obj else b"\x89")
        elif t is int:
            self._int(obj)
        elif t is float:
            w(b"G" + struct.pack(">d", obj))
        elif t is str:
            self._str(obj)
        elif isinstance(obj, Parameter):
            self._save_parameter(obj)
        elif isinstance(obj, rtt.Tensor):
            self._save_tensor(obj)
        elif t is rtt.Size:
            self._global("torch", "Size")
            self._tuple_of((tuple(int(s) for s in obj),))
            w(b"R")
            self._put(obj)
        elif t is tuple:
            if id(obj) in self.in_progress:
                raise ValueError("save: a tuple that contains itself (through a list or "
                                 "dict) cannot be saved")
            self.in_progress.add(id(obj))
            self._tuple_of(obj)
            self.in_progress.discard(id(obj))
            self._put(obj)
        elif t is list:
            w(b"]")
            self._put(obj)
            self._batched(obj, b"a", b"e", pairs=False)
        elif t is dict:
            w(b"}")
            self._put(obj)
            self._batched(list(obj.items()), b"s", b"u", pairs=True)
        elif t is OrderedDict:
            # OrderedDict.__reduce__ under protocol 2: OrderedDict() then SETITEMS
            self._global("collections", "OrderedDict")
            w(b")R")
            self._put(obj)
            self._batched(list(obj.items()), b"s", b"u", pairs=True)
        elif t is Counter:
            self._global("collections", "Counter")
            self._tuple_of((dict(obj),))
            w(b"R")
            self._put(obj)
        elif t is set:
            self._global("builtins", "set")
            self._tuple_of((list(obj),))
            w(b"R")
            self._put(obj)
        elif t is complex:
            self._global("builtins", "complex")
            self._tuple_of((obj.real, obj.imag))
            w(b"R")
        elif t is bytes:
            # protocol 2 pickles bytes as _codecs.encode(latin-1 text, 'latin1')
            self._global("_codecs", "encode")
            self._tuple_of((obj.decode("latin1"), "latin1"))
            w(b"R")
            self._put(obj)
        elif t is bytearray:
            self._global("builtins", "bytearray")
            self._tuple_of((bytes(obj),))
            w(b"R")
            self._put(obj)
        elif isinstance(obj, rtt.dtype):
            self._global("torch", obj.name)
        elif isinstance(obj, rtt.device):
            self._global("torch", "device")
            self._tuple_of((str(obj),))
            w(b"R")
        else:
            raise TypeError(
                f"save: cannot save an object of type {t.__module__}.{t.__qualname__}; "
                "rt_import.save writes what torch.load(weights_only=True) reads: tensors, "
                "Parameters, dtypes, Size, device, dict/OrderedDict/Counter/list/tuple/set, "
                "numbers, strings, bytes and None (save a module's state_dict())")

    def _batched(self, items, one, many, pairs):
        w = self.out.write
        for i in range(0, len(items), 1000):      # pickle's batch size
            batch = items[i:i + 1000]
            if len(batch) > 1:
                w(b"(")
            for item in batch:
                if pairs:
                    self._save(item[0])
                    self._save(item[1])
                else:
                    self._save(item)
            w(many if len(batch) > 1 else one)

    def _save_parameter(self, p):
        self._global("torch._utils", "_rebuild_parameter")
        w = self.out.write
        w(b"(")
        self._save_tensor(p.detach(), requires_grad=False, memoize=False)
        self._save(bool(p.requires_grad))
        self._global("collections", "OrderedDict")
        w(b")R")
        w(b"tR")
        self._put(p)

    def _save_tensor(self, t, requires_grad=None, memoize=True):
        if requires_grad is None:
            requires_grad = bool(getattr(t, "requires_grad", False))
        storage = t.untyped_storage()
        entry = self.storages.get(id(storage))
        if entry is None:
            entry = [str(len(self.storages)), storage, t.dtype, t]
            self.storages[id(storage)] = entry
        elif entry[2] != t.dtype:
            raise RuntimeError("Cannot save multiple tensors or storages that view the same "
                               "data as different types")
        key, _, dtype, _ = entry
        w = self.out.write
        self._global("torch._utils", "_rebuild_tensor_v2")
        w(b"(")
        self._write_pid(key, dtype, storage.nbytes // dtype.itemsize)
        self._int(t.storage_offset())
        self._tuple_of(tuple(int(s) for s in t.shape))
        self._tuple_of(tuple(int(s) for s in t.stride()))
        self._save(requires_grad)
        self._global("collections", "OrderedDict")
        w(b")R")
        w(b"tR")
        if memoize:
            self._put(t)


    def _write_pid(self, key, dtype, numel):
        # the zip format's persistent id: ('storage', torch.<Type>Storage, key, location,
        # numel); the legacy format adds a sixth field (storage view metadata, None)
        w = self.out.write
        w(b"(")
        self._str("storage")
        self._global("torch", f"{dtype.scalar_name}Storage")
        self._str(key)
        self._str("cpu")
        self._int(numel)
        w(b"tQ")


def _storage_bytes(entry):
    """A uint8 numpy array over a whole storage (shared memory, no copy)."""
    _, storage, dtype, t = entry
    n = storage.nbytes // dtype.itemsize
    with rt.no_grad():
        whole = t.detach().as_strided((n,), (1,), 0)
    return _byte_view(whole)


def _serialization_id():
    # torch writes 40 decimal digits (a random 64-bit number and a counter, zero-padded)
    rnd = int.from_bytes(os.urandom(8), "little")
    _serialization_id.counter += 1
    return f"{rnd:020d}{_serialization_id.counter:020d}".encode()


_serialization_id.counter = 0


def _write_zip(f, prefix, records):
    """Stored members with each member's data 64-byte aligned (PyTorch's
    ``storage_alignment``) through a padding extra field, as PyTorch's writer lays them."""
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, data in records:
            mv = memoryview(data).cast("B") if not isinstance(data, bytes) else data
            zi = zipfile.ZipInfo(f"{prefix}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_STORED
            zi.file_size = len(mv)
            # zipfile adds a 20-byte zip64 extra to the local header by this rule
            zip64 = zi.file_size * 1.05 > zipfile.ZIP64_LIMIT
            data_at = f.tell() + 30 + len(zi.filename.encode("utf-8")) + 4 + 20 * zip64
            pad = (-data_at) % _STORAGE_ALIGNMENT
            zi.extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad       # id "FB"
            with zf.open(zi, "w", force_zip64=zip64) as out:
                for i in range(0, len(mv), _CHUNK):
                    out.write(mv[i:i + _CHUNK])


def save(obj, path_or_file):
    """Save ``obj`` in PyTorch's zip checkpoint format, readable by
    ``torch.load(f, weights_only=True)`` and by ``rt_import.load``.

    ``obj`` may hold rt tensors of any dtype (with their shape, strides, storage offset and
    ``requires_grad``), ``rt_nn.Parameter``, rt dtypes, ``Size`` and ``device``, and dict,
    ``OrderedDict``, ``Counter``, list, tuple, set, int, float, complex, bool, str, bytes,
    bytearray and None, nested freely. Tensors that share an rt storage are written once
    and load as views of one storage in PyTorch too; each storage is written whole, as
    ``torch.save`` does (so saving a small slice of a big tensor writes the big storage).
    Anything else raises ``TypeError`` (a module: save its ``state_dict()``); tensors of
    different dtypes over one storage raise ``RuntimeError``, as in PyTorch.

    The layout is ``torch.save``'s: ``archive/data.pkl``, ``.format_version``,
    ``.storage_alignment``, ``byteorder``, ``data/0``, ``data/1``, ..., ``version``,
    ``.data/serialization_id``; storages start at 64-byte boundaries. A path is written
    through a temporary file renamed into place, so a failure leaves no partial file; a
    binary file object is written from its current position.

    >>> import io, rt_autograd as rt, rt_nn as nn, rt_import
    >>> buf = io.BytesIO()
    >>> rt_import.save(nn.Linear(3, 2).state_dict(), buf)
    >>> _ = buf.seek(0)
    >>> sorted(rt_import.load(buf))
    ['bias', 'weight']
    """
    pickler = _Pickler()
    data_pkl = pickler.dump(obj)
    entries = list(pickler.storages.values())

    def records():
        yield "data.pkl", data_pkl
        yield ".format_version", b"1"
        yield ".storage_alignment", str(_STORAGE_ALIGNMENT).encode()
        yield "byteorder", sys.byteorder.encode()
        for entry in entries:
            yield f"data/{entry[0]}", _storage_bytes(entry)
        yield "version", _FILE_FORMAT_VERSION
        yield ".data/serialization_id", _serialization_id()

    if isinstance(path_or_file, (str, os.PathLike)):
        with atomic_write(path_or_file) as f:
            _write_zip(f, "archive", records())
        return
    if not hasattr(path_or_file, "write"):
        raise TypeError(f"save: expected a path or a binary file object, got "
                        f"{type(path_or_file).__name__}")
    f = path_or_file
    if hasattr(f, "seekable") and f.seekable() and hasattr(f, "tell"):
        _write_zip(f, "archive", records())
    else:
        buf = io.BytesIO()
        _write_zip(buf, "archive", records())
        f.write(buf.getvalue())
