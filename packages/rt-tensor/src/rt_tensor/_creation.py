"""Factories: ``tensor``, ``as_tensor``, ``asarray``, ``zeros``, ``ones``, ``full``, ``empty``,
the ``*_like`` and ``new_*`` forms, ``arange``, ``linspace``, ``logspace``, ``eye``,
``empty_strided``, ``complex``, ``polar`` (PyTorch 2.x names, arguments and defaults).

Data from Python goes through numpy once (one C loop), then into a pool-backed tensor.
Fills run in the nogil kernels of _creation_kernels (zeros come from a zeroed pool block).
"""
import builtins
import math
import numbers

import numpy as np

from rt_tensor import _copy
from rt_tensor import _creation_kernels as _k
from rt_tensor._dtype import (_as_dtype, get_default_dtype, from_numpy_dtype, to_numpy_dtype,
                              promote_types, bool_, int64, float32, complex64, complex128,
                              bfloat16, float64, float16)
from rt_tensor._tensor import Tensor, from_numpy, _check_device, Size

__all__ = ["tensor", "as_tensor", "asarray", "scalar_tensor", "empty", "zeros", "ones", "full",
           "empty_like", "zeros_like", "ones_like", "full_like", "empty_strided", "arange",
           "range", "linspace", "logspace", "eye", "complex", "polar", "frombuffer"]

_py_range = builtins.range
_py_complex = builtins.complex


def _default_complex():
    return complex128 if get_default_dtype() == float64 else complex64


def _check_grad(requires_grad):
    if requires_grad:
        raise RuntimeError("rt_tensor has no autograd; use rt_autograd")


def _dtype_or(dtype, default):
    return default if dtype is None else _as_dtype(dtype)


def _size(args, fname):
    """Sizes given as f(2, 3), f((2, 3)), f([2, 3]) or f(Size) -> a tuple of ints."""
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)) and not (
            isinstance(args[0], Tensor) and args[0].ndim == 0):
        if isinstance(args[0], (tuple, list, Size)):
            args = tuple(args[0])
        elif hasattr(args[0], "__index__"):
            args = (args[0],)
        else:
            raise TypeError(f"{fname}(): argument 'size' must be tuple of ints, but found element "
                            f"of type {type(args[0]).__name__}")
    out = []
    for a in args:
        if isinstance(a, bool) or not hasattr(a, "__index__") or (
                isinstance(a, Tensor) and (a.numel() != 1 or a.is_floating_point())):
            raise TypeError(f"{fname}(): argument 'size' must be tuple of ints, but found element "
                            f"of type {type(a).__name__}")
        out.append(a.__index__())
    if len(out) > 32:
        raise RuntimeError(f"{fname}: rt_tensor supports at most 32 dimensions, got {len(out)}")
    for s in out:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {out}")
    return tuple(out)


def _finish(result, out):
    """Copy result into out (resized as PyTorch does) when out= is given."""
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"argument 'out' must be Tensor, not {type(out).__name__}")
    if out.dtype != result.dtype:
        raise RuntimeError(f"Expected out tensor to have dtype {result.dtype}, but got "
                           f"{out.dtype} instead")
    _k.resize_out(out, tuple(result.shape))
    out.copy_(result)
    return out


def _out_dtype(out, dtype, default):
    if dtype is not None:
        return _as_dtype(dtype)
    if out is not None and isinstance(out, Tensor):
        return out.dtype
    return default


# ---------------------------------------------------------------------------------------
# tensor / as_tensor / asarray

def _leaf_dtype(item):
    if isinstance(item, (bool, np.bool_)):
        return bool_
    if isinstance(item, Tensor):
        return item.dtype
    if isinstance(item, (np.ndarray, np.generic)):
        return from_numpy_dtype(item.dtype)
    if isinstance(item, numbers.Integral):
        return int64
    if isinstance(item, numbers.Real):
        return get_default_dtype()
    if isinstance(item, numbers.Complex):
        return _default_complex()
    raise TypeError(f"Could not infer dtype of {type(item).__name__}")


def _infer_dtype(data):
    """PyTorch's infer_scalar_type: promote_types over the leaves, where Python bool/int/
    float/complex count as bool/int64/default float/default complex, and tensors, numpy
    arrays and numpy scalars with their own dtype. An empty sequence gives the default."""
    return _infer(data)[0]


def _infer(data):
    """(dtype, whether a Tensor occurs inside data)."""
    if isinstance(data, (list, tuple)):
        result = None
        has_tensor = False
        default = None
        for item in data:
            t = type(item)
            if t is float:
                d = default = default or get_default_dtype()
            elif t is int:
                d = int64
            elif t is bool:
                d = bool_
            else:
                d, ht = _infer(item)
                has_tensor = has_tensor or ht
            if result is None:
                result = d
            elif result is not d:
                result = promote_types(result, d)
        return (get_default_dtype() if result is None else result), has_tensor
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    return _leaf_dtype(data), isinstance(data, Tensor)


def _to_nested(data):
    """Replace tensors inside nested sequences by numpy arrays (for np.array)."""
    if isinstance(data, Tensor):
        return data.numpy(force=True) if data.dtype != bfloat16 else data.float().numpy(force=True)
    if isinstance(data, (list, tuple)):
        return [_to_nested(x) for x in data]
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    return data


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (nested sequences, a number, a numpy array or
    a tensor), with PyTorch's dtype inference (``torch.tensor``).

    >>> tensor([[1, 2], [3, 4]]).dtype
    rt_tensor.int64
    """
    _check_device(device)
    _check_grad(requires_grad)
    if isinstance(data, Tensor):
        d = data.dtype if dtype is None else _as_dtype(dtype)
        return _copy.cast(data, d)
    if isinstance(data, np.ndarray):
        d = from_numpy_dtype(data.dtype) if dtype is None else _as_dtype(dtype)
        return _from_array(data, d)
    if isinstance(data, (bool, int, float, _py_complex)):
        if isinstance(data, int) and not -2**63 <= data < 2**63:
            _overflow()
        d = _leaf_dtype(data) if dtype is None else _as_dtype(dtype)
        try:
            return _k.full_new(d.code, (), data)
        except RuntimeError:
            pass    # out of range for a narrower dtype: PyTorch wraps around (numpy path)
    if dtype is None:
        d, has_tensor = _infer(data)
    else:
        d = _as_dtype(dtype)
        has_tensor = True
    np_target = np.float32 if d in (bfloat16, float16) else to_numpy_dtype(d)
    nested = _to_nested(data) if has_tensor else data
    try:
        if d.is_complex or d.is_floating_point or d is bool_:
            arr = np.array(nested, dtype=np_target)
        else:
            arr = np.array(nested)
    except OverflowError:
        _overflow()
    except (ValueError, TypeError) as exc:
        raise ValueError(f"expected sequence of equal-length sequences (could not build a "
                         f"tensor from the data: {exc})") from None
    kind = arr.dtype.kind
    if kind == "O" or (kind == "u" and arr.dtype.itemsize == 8):
        if kind == "O" and any(isinstance(x, (list, tuple, np.ndarray, Tensor))
                                       for x in arr.reshape(-1)):
            raise ValueError("expected sequence of equal-length sequences (ragged nested data)")
        _overflow()
    return _from_array(arr, d)


def _overflow():
    raise RuntimeError("Overflow when unpacking long")


def _from_array(arr, d):
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"can't convert np.ndarray of type {arr.dtype}. The only supported "
                        "types are: float64, float32, float16, complex64, complex128, int64, "
                        "int32, int16, int8, uint8, and bool.")
    if arr.dtype.kind == "u" and arr.dtype.itemsize != 1:
        arr = arr.astype(np.int64)
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if not arr.flags.c_contiguous:
        arr = arr.copy(order="C")      # (np.ascontiguousarray would make 0-d arrays 1-d)
    src_dtype = from_numpy_dtype(arr.dtype)
    t = _k.array_copy(arr, src_dtype.code)
    return t if src_dtype == d else _copy.cast(t, d)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory when possible: a tensor of the same dtype is
    returned as is and a numpy array of a supported dtype is wrapped without a copy."""
    _check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None or _as_dtype(dtype) == data.dtype else data.to(dtype)
    if isinstance(data, np.ndarray) and data.dtype.isnative:
        try:
            t = from_numpy(data)
        except (TypeError, ValueError):
            return tensor(data, dtype=dtype)
        return t if dtype is None or _as_dtype(dtype) == t.dtype else t.to(dtype)
    return tensor(data, dtype=dtype)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """``torch.asarray``: a tensor from a tensor, numpy array, DLPack or buffer-protocol
    object, or nested sequence. Shares memory when possible unless ``copy=True``;
    ``copy=False`` raises ValueError when a copy is needed."""
    _check_device(device)
    _check_grad(requires_grad)
    d = None if dtype is None else _as_dtype(dtype)
    shared = None
    if isinstance(obj, Tensor):
        shared = obj
    elif isinstance(obj, np.ndarray):
        try:
            shared = from_numpy(obj)
        except (TypeError, ValueError):
            shared = None
    elif hasattr(obj, "__dlpack__") and not isinstance(obj, (list, tuple)):
        from rt_tensor._dlpack import from_dlpack
        try:
            shared = from_dlpack(obj)
        except (BufferError, RuntimeError, TypeError):
            shared = None
    elif not isinstance(obj, (list, tuple, numbers.Number, np.generic, str, bytes)):
        try:
            mv = memoryview(obj)
        except TypeError:
            mv = None
        if mv is not None:
            arr = np.frombuffer(obj, dtype=np.uint8 if d is None else
                                (np.float32 if d == bfloat16 else to_numpy_dtype(d)))
            if d == bfloat16:
                arr = arr.view(np.uint16)
            shared = from_numpy(arr) if d != bfloat16 else from_numpy(arr).view(bfloat16)
            d = None
    if shared is not None:
        if d is not None and d != shared.dtype:
            if copy is False:
                raise ValueError(f"asarray(): can't convert {shared.dtype} to {d} without a copy "
                                 "but copy=False")
            return _copy.cast(shared, d)
        if copy:
            return shared.clone()
        return shared
    if copy is False:
        raise ValueError("asarray(): the object's memory can't be shared (copy=False)")
    return tensor(obj, dtype=d)


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-d tensor sharing memory with an object that has the buffer protocol: the bytes
    after ``offset`` read as ``count`` elements (all when -1) of ``dtype``
    (``torch.frombuffer``). Read-only buffers give a warning, as in PyTorch."""
    import warnings
    _check_grad(requires_grad)
    d = _as_dtype(dtype)
    np_dt = np.int16 if d == bfloat16 else to_numpy_dtype(d)
    try:
        nbytes = memoryview(buffer).nbytes
    except TypeError:
        raise TypeError(f"frombuffer(): object of type {type(buffer).__name__} does not "
                        "implement the buffer protocol") from None
    isz = d.itemsize
    if offset < 0 or offset > nbytes - (1 if nbytes else 0) and not (nbytes == 0 and offset == 0):
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than "
                         f"buffer length ({nbytes} bytes) minus 1")
    if count == 0 or (count < 0 and (nbytes - offset) == 0):
        raise ValueError("both buffer length (0) and count (-1) must not be 0")
    if count < 0:
        if (nbytes - offset) % isz:
            raise ValueError(f"buffer length ({nbytes - offset} bytes) after offset ({offset} "
                             f"bytes) must be a multiple of element size ({isz})")
    elif offset + count * isz > nbytes:
        raise ValueError(f"requested buffer length ({count} * {isz} bytes) after offset "
                         f"({offset} bytes) must not be greater than actual buffer length "
                         f"({nbytes} bytes)")
    arr = np.frombuffer(buffer, dtype=np_dt, count=count, offset=offset)
    if not arr.flags.writeable:
        warnings.warn("The given buffer is not writable, and PyTorch does not support "
                      "non-writable tensors. This means you can write to the underlying "
                      "(supposedly non-writable) buffer using the tensor.", UserWarning,
                      stacklevel=2)
    import warnings as _w
    with _w.catch_warnings():
        _w.simplefilter("ignore")
        t = from_numpy(arr)
    return t.view(bfloat16) if d == bfloat16 else t


def scalar_tensor(value, dtype=None, *, device=None, requires_grad=False, layout=None,
                  pin_memory=False):
    """A 0-d tensor holding ``value`` (default dtype: the default float dtype)."""
    _check_device(device)
    _check_grad(requires_grad)
    d = get_default_dtype() if dtype is None else _as_dtype(dtype)
    if isinstance(value, Tensor):
        return _copy.cast(value.reshape(()), d)
    return _k.full_new(d.code, (), value)


def scalar_or_tensor(value, d):
    """The value to assign in ``t[...] = value``: numbers become a 0-d tensor of t's dtype
    (PyTorch casts numbers; a complex number into a real tensor raises), sequences a tensor."""
    if isinstance(value, numbers.Number):
        if isinstance(value, _py_complex) and not d.is_complex:
            raise TypeError(f"can't assign a complex number to a tensor of dtype {d!r}")
        if isinstance(value, float) and not d.is_floating_point and not d.is_complex:
            if math.isnan(value) or math.isinf(value):
                return tensor(value, dtype=d)
            return _k.full_new(d.code, (), int(value) if d != bool_ else value)
        try:
            return _k.full_new(d.code, (), value)
        except RuntimeError:
            return tensor(value, dtype=d)   # wrap-around cast like PyTorch's copy_
    return tensor(value)


# ---------------------------------------------------------------------------------------
# filled tensors

def empty(*args, size=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None):
    """An uninitialised tensor of the given size (``torch.empty``)."""
    _check_device(device)
    _check_grad(requires_grad)
    shape = _size(args if size is None else (size,), "empty")
    d = _out_dtype(out, dtype, get_default_dtype())
    if out is not None:
        _k.resize_out(out, shape)
        return out
    return _k.empty_new(d.code, shape)


def zeros(*args, size=None, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of zeros (``torch.zeros``)."""
    _check_device(device)
    _check_grad(requires_grad)
    shape = _size(args if size is None else (size,), "zeros")
    d = _out_dtype(out, dtype, get_default_dtype())
    if out is not None:
        return _k.fill_contiguous(_k.resize_out(out, shape), 0) if out.is_contiguous() else out.fill_(0)
    return _k.full_new(d.code, shape, 0)


def ones(*args, size=None, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of ones (``torch.ones``)."""
    _check_device(device)
    _check_grad(requires_grad)
    shape = _size(args if size is None else (size,), "ones")
    d = _out_dtype(out, dtype, get_default_dtype())
    if out is not None:
        return _k.fill_contiguous(_k.resize_out(out, shape), 1) if out.is_contiguous() else out.fill_(1)
    return _k.full_new(d.code, shape, 1)


def _fill_dtype(fill_value):
    # a Scalar argument: numpy scalars count as the Python number of their kind
    if isinstance(fill_value, Tensor):
        return fill_value.dtype
    if isinstance(fill_value, np.generic):
        kind = fill_value.dtype.kind
        return (bool_ if kind == "b" else int64 if kind in "iu" else
                _default_complex() if kind == "c" else get_default_dtype())
    return _leaf_dtype(fill_value)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False):
    """A tensor filled with ``fill_value``; the dtype is inferred from it (bool -> bool,
    int -> int64, float -> default, complex -> default complex) unless given."""
    _check_device(device)
    _check_grad(requires_grad)
    shape = _size((size,), "full")
    if isinstance(fill_value, Tensor) and fill_value.ndim != 0:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{fill_value.ndim} dimensions.")
    d = _out_dtype(out, dtype, _fill_dtype(fill_value))
    if out is not None:
        _k.resize_out(out, shape)
        return out.fill_(fill_value)
    return _k.full_new(d.code, shape, fill_value)


def _like_layout(input, d):
    """An uninitialised tensor shaped like input with preserve_format strides: input's own
    strides when it is dense (a permutation of a contiguous layout), else contiguous."""
    if not isinstance(input, Tensor):
        raise TypeError(f"expected a Tensor as input, got {type(input).__name__}")
    shape = tuple(input.shape)
    if input.is_contiguous() or input.ndim < 2:
        return _k.empty_new(d.code, shape)
    strides = input.stride()
    order = sorted(_py_range(input.ndim), key=lambda i: (-strides[i], -i))
    expected = 1
    dense = True
    for i in reversed(order):
        if shape[i] != 1 and strides[i] != expected:
            dense = False
            break
        expected *= shape[i]
    if not dense:
        return _k.empty_new(d.code, shape)
    base = _k.empty_new(d.code, tuple(shape[i] for i in order))
    inverse = [0] * input.ndim
    for pos, i in enumerate(order):
        inverse[i] = pos
    return base.permute(inverse)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    """An uninitialised tensor with input's shape (and dtype unless given)."""
    _check_device(device)
    _check_grad(requires_grad)
    return _like_layout(input, _dtype_or(dtype, input.dtype))


def _filled_like(input, value, dtype):
    d = _dtype_or(dtype, input.dtype)
    if input.is_contiguous():
        return _k.full_new(d.code, tuple(input.shape), value)
    t = _like_layout(input, d)
    return t.fill_(value)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    """Zeros with input's shape (and dtype unless given)."""
    _check_device(device)
    _check_grad(requires_grad)
    return _filled_like(input, 0, dtype)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    """Ones with input's shape (and dtype unless given)."""
    _check_device(device)
    _check_grad(requires_grad)
    return _filled_like(input, 1, dtype)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    """``fill_value`` with input's shape and dtype (unless given)."""
    _check_device(device)
    _check_grad(requires_grad)
    return _filled_like(input, fill_value, dtype)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """An uninitialised tensor with the given sizes and strides (in elements)."""
    _check_device(device)
    _check_grad(requires_grad)
    shape = _size((size,), "empty_strided")
    strides = tuple(int(s) for s in stride)
    if len(strides) != len(shape):
        raise RuntimeError(f"mismatch in length of strides and shape")
    if any(s < 0 for s in strides):
        raise RuntimeError(f"empty_strided: negative strides are not supported, got {list(strides)}")
    d = _dtype_or(dtype, get_default_dtype())
    return _k.empty_for_strides(d.code, shape, strides)


# ---------------------------------------------------------------------------------------
# sequences

def _number(v, fname, argname):
    if isinstance(v, Tensor):
        if v.numel() != 1:
            raise RuntimeError(f"{fname}(): argument '{argname}' must be a number, got a tensor "
                               f"with {v.numel()} elements")
        return v.item()
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        return float(v)
    if isinstance(v, numbers.Complex):
        raise TypeError(f"{fname}(): argument '{argname}' must be a real number, got complex")
    raise TypeError(f"{fname}(): argument '{argname}' must be Number, not {type(v).__name__}")


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """Values from ``start`` (inclusive) to ``end`` (exclusive) every ``step``:
    ``arange(end)``, ``arange(start, end)``, ``arange(start, end, step)``. Integer
    arguments give int64, any float argument the default float dtype."""
    _check_device(device)
    _check_grad(requires_grad)
    if end is None:
        start, end = 0, start
    s = _number(start, "arange", "start")
    e = _number(end, "arange", "end")
    st = _number(step, "arange", "step")
    integer_args = all(isinstance(x, int) for x in (s, e, st))
    if dtype is None and out is not None:
        d = out.dtype
    else:
        d = _dtype_or(dtype, int64 if integer_args else get_default_dtype())
    for v, name in ((s, "start"), (e, "end")):
        if isinstance(v, float) and not math.isfinite(v):
            raise RuntimeError(f"unsupported range: {s} -> {e}")
    if st == 0:
        raise RuntimeError("step must be nonzero")
    if (st > 0 and e < s) or (st < 0 and e > s):
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if integer_args:
        n = -((s - e) // st)       # ceil((end - start) / step), exact for ints
    else:
        n = math.ceil((e - s) / st)
    n = max(int(n), 0)
    if n >= 2**62:
        raise RuntimeError(f"invalid size, possible overflow? size={n}")
    if d == bool_:
        raise NotImplementedError("\"arange_cpu\" not implemented for 'Bool'")
    result = _k.empty_new(d.code, (n,))
    integer_fill = integer_args and not d.is_floating_point and not d.is_complex
    _k.arange_fill(result, s if integer_fill else float(s), st if integer_fill else float(st),
                   integer_fill)
    return _finish(result, out)


def range(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
          requires_grad=False):
    """Deprecated ``torch.range``: like arange but includes ``end``; default float dtype."""
    import warnings
    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    _check_device(device)
    _check_grad(requires_grad)
    if end is None:
        start, end = 0, start
    s = float(_number(start, "range", "start"))
    e = float(_number(end, "range", "end"))
    st = float(_number(step, "range", "step"))
    if st == 0:
        raise RuntimeError("step must be nonzero")
    if (st > 0 and e < s) or (st < 0 and e > s):
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    d = _out_dtype(out, dtype, get_default_dtype())
    n = int(math.floor((e - s) / st)) + 1
    result = _k.empty_new(d.code, (n,))
    _k.arange_fill(result, s, st, False)
    return _finish(result, out)


def _steps(steps, fname):
    if isinstance(steps, Tensor):
        steps = steps.item()
    if isinstance(steps, bool) or not hasattr(steps, "__index__"):
        raise TypeError(f"{fname}(): argument 'steps' must be int, not {type(steps).__name__}")
    steps = steps.__index__()
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    return steps


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    _check_device(device)
    _check_grad(requires_grad)
    n = _steps(steps, "linspace")
    s, e = _number(start, "linspace", "start"), _number(end, "linspace", "end")
    d = _out_dtype(out, dtype, get_default_dtype())
    if d.is_complex:
        re = linspace(_py_complex(s).real, _py_complex(e).real, n, dtype=d.to_real())
        return _finish(re.to(d), out)
    result = _k.empty_new(d.code, (n,))
    _k.linspace_fill(result, float(s), float(e), 10.0, False)
    return _finish(result, out)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    """``base ** linspace(start, end, steps)``."""
    _check_device(device)
    _check_grad(requires_grad)
    n = _steps(steps, "logspace")
    s, e = _number(start, "logspace", "start"), _number(end, "logspace", "end")
    d = _out_dtype(out, dtype, get_default_dtype())
    if d.is_complex:
        re = logspace(s, e, n, base, dtype=d.to_real())
        return _finish(re.to(d), out)
    result = _k.empty_new(d.code, (n,))
    _k.linspace_fill(result, float(s), float(e), float(base), True)
    return _finish(result, out)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A 2-d tensor with ones on the diagonal: ``n`` rows, ``m`` (default n) columns."""
    _check_device(device)
    _check_grad(requires_grad)
    n = int(n) if not isinstance(n, Tensor) else int(n.item())
    m = n if m is None else (int(m) if not isinstance(m, Tensor) else int(m.item()))
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    d = _out_dtype(out, dtype, get_default_dtype())
    result = _k.full_new(d.code, (n, m), 0)
    _k.eye_fill(result)
    return _finish(result, out)


# ---------------------------------------------------------------------------------------
# complex construction

def _np_float(t):
    return t.float().numpy(force=True) if t.dtype == bfloat16 else t.numpy(force=True)


def complex(real, imag, *, out=None):
    """A complex tensor from real and imaginary parts of the same float dtype (float32 ->
    complex64, float64 -> complex128), broadcast together."""
    if not isinstance(real, Tensor) or not isinstance(imag, Tensor):
        raise TypeError("complex(): argument 'real' and 'imag' must be Tensor")
    if real.dtype != imag.dtype:
        raise RuntimeError(f"Expected object of scalar type {real.dtype.scalar_name} but got "
                           f"scalar type {imag.dtype.scalar_name} for second argument")
    if real.dtype not in (float32, float64):
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got "
                           f"{real.dtype.scalar_name} and {imag.dtype.scalar_name}")
    try:
        r, i = np.broadcast_arrays(_np_float(real), _np_float(imag))
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({list(real.shape)}) must match the size of "
                           f"tensor b ({list(imag.shape)})") from None
    arr = np.empty(r.shape, dtype=np.complex64 if real.dtype == float32 else np.complex128)
    arr.real = r
    arr.imag = i
    return _finish(from_numpy(arr), out)


def polar(abs, angle, *, out=None):
    """``abs * (cos(angle) + i sin(angle))`` (float32 -> complex64, float64 -> complex128)."""
    if not isinstance(abs, Tensor) or not isinstance(angle, Tensor):
        raise TypeError("polar(): argument 'abs' and 'angle' must be Tensor")
    if abs.dtype != angle.dtype:
        raise RuntimeError(f"Expected object of scalar type {abs.dtype.scalar_name} but got "
                           f"scalar type {angle.dtype.scalar_name} for second argument")
    if abs.dtype not in (float32, float64):
        raise RuntimeError(f"Expected both inputs to be Float or Double tensors but got "
                           f"{abs.dtype.scalar_name} and {angle.dtype.scalar_name}")
    try:
        a, t = np.broadcast_arrays(_np_float(abs), _np_float(angle))
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({list(abs.shape)}) must match the size of "
                           f"tensor b ({list(angle.shape)})") from None
    arr = np.empty(a.shape, dtype=np.complex64 if abs.dtype == float32 else np.complex128)
    arr.real = a * np.cos(t)
    arr.imag = a * np.sin(t)
    return _finish(from_numpy(arr), out)


# ---------------------------------------------------------------------------------------
# Tensor.new_* methods: same dtype as self unless given

def _new_empty(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
               pin_memory=False):
    return empty(*size, dtype=_dtype_or(dtype, self.dtype), device=device,
                 requires_grad=requires_grad)


def _new_zeros(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
               pin_memory=False):
    return zeros(*size, dtype=_dtype_or(dtype, self.dtype), device=device,
                 requires_grad=requires_grad)


def _new_ones(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
              pin_memory=False):
    return ones(*size, dtype=_dtype_or(dtype, self.dtype), device=device,
                requires_grad=requires_grad)


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False,
              layout=None, pin_memory=False):
    return full(size, fill_value, dtype=_dtype_or(dtype, self.dtype), device=device,
                requires_grad=requires_grad)


def _new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False,
                       layout=None, pin_memory=False):
    return empty_strided(size, stride, dtype=_dtype_or(dtype, self.dtype), device=device,
                         requires_grad=requires_grad)


def _new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, layout=None,
                pin_memory=False):
    return tensor(data, dtype=_dtype_or(dtype, self.dtype), device=device,
                  requires_grad=requires_grad)


_new_empty.__name__ = "new_empty"
_new_zeros.__name__ = "new_zeros"
_new_ones.__name__ = "new_ones"
_new_full.__name__ = "new_full"
_new_empty_strided.__name__ = "new_empty_strided"
_new_tensor.__name__ = "new_tensor"

TENSOR_METHODS = {"new_empty": _new_empty, "new_zeros": _new_zeros, "new_ones": _new_ones,
                  "new_full": _new_full, "new_empty_strided": _new_empty_strided,
                  "new_tensor": _new_tensor}
