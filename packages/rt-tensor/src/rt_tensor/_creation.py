"""Factories: ``tensor``, ``as_tensor``, ``zeros``, ``ones``, ``full``, ``empty`` and friends.

Data from Python goes through numpy once (one C loop), then into a pool-backed tensor.
"""
import numbers

import numpy as np

from rt_tensor import _copy
from rt_tensor._dtype import (_as_dtype, get_default_dtype, from_numpy_dtype, to_numpy_dtype,
                              bool_, int64, float32, complex64, complex128, bfloat16, float64)
from rt_tensor._tensor import Tensor, from_numpy, _check_device, Size

__all__ = ["tensor", "as_tensor", "scalar_tensor"]
TENSOR_METHODS = {}


def _default_complex():
    return complex128 if get_default_dtype() == float64 else complex64


def _infer_dtype(data):
    """PyTorch's inference: the highest category among the leaves decides; bool < int <
    float (default dtype) < complex (default complex). Tensors and numpy arrays inside
    lists count with their own dtype's category."""
    rank = -1   # 0 bool, 1 int, 2 float, 3 complex
    stack = [data]
    tensor_dtype = None
    while stack:
        item = stack.pop()
        if isinstance(item, bool) or isinstance(item, np.bool_):
            r = 0
        elif isinstance(item, numbers.Integral):
            r = 1
        elif isinstance(item, numbers.Real):
            r = 2
        elif isinstance(item, numbers.Complex):
            r = 3
        elif isinstance(item, Tensor):
            d = item.dtype
            r = 3 if d.is_complex else 2 if d.is_floating_point else 0 if d == bool_ else 1
            if item.ndim == 0 and tensor_dtype is None:
                tensor_dtype = d
            if item.ndim > 0:
                stack.extend(item.unbind(0)) if item.numel() < 64 else stack.append(item.flatten()[0])
                continue
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
            continue
        elif isinstance(item, np.ndarray):
            d = from_numpy_dtype(item.dtype)
            r = 3 if d.is_complex else 2 if d.is_floating_point else 0 if d == bool_ else 1
        else:
            raise TypeError(f"Could not infer dtype of {type(item).__name__}")
        rank = max(rank, r)
    if rank <= -1:
        return get_default_dtype()      # empty lists give the default float dtype
    return [bool_, int64, get_default_dtype(), _default_complex()][rank]


def _to_nested(data):
    """Replace tensors inside nested sequences by numpy arrays (for np.array)."""
    if isinstance(data, Tensor):
        return data.numpy() if data.dtype != bfloat16 else data.float().numpy()
    if isinstance(data, (list, tuple)):
        return [_to_nested(x) for x in data]
    return data


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (nested sequences, a number, a numpy array or
    a tensor), with PyTorch's dtype inference (``torch.tensor``).

    >>> tensor([[1, 2], [3, 4]]).dtype
    rt_tensor.int64
    """
    _check_device(device)
    if isinstance(data, Tensor):
        d = data.dtype if dtype is None else _as_dtype(dtype)
        return _copy.cast(data, d)
    if isinstance(data, np.ndarray):
        d = from_numpy_dtype(data.dtype) if dtype is None else _as_dtype(dtype)
        return _from_array(data, d)
    if isinstance(data, str) or isinstance(data, bytes):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    d = _infer_dtype(data) if dtype is None else _as_dtype(dtype)
    np_target = np.float32 if d == bfloat16 else to_numpy_dtype(d)
    try:
        arr = np.array(_to_nested(data), dtype=np_target if d.is_complex or d.is_floating_point
                       or np_target == np.bool_ else None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"tensor(): could not build a tensor from the data: {exc}") from None
    if arr.dtype == object:
        raise ValueError("expected sequence of equal-length sequences (ragged nested data)")
    return _from_array(arr, d)


def _from_array(arr, d):
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"can't convert np.ndarray of type {arr.dtype}")
    if arr.dtype.kind == "u" and arr.dtype != np.uint8:
        arr = arr.astype(np.int64)
    src = from_numpy(np.ascontiguousarray(arr) if arr.dtype.isnative else arr.astype(arr.dtype.newbyteorder("=")))
    return _copy.cast(src, d)


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


def scalar_tensor(value, dtype=None, *, device=None, requires_grad=False):
    """A 0-d tensor holding ``value`` (default dtype: the default float dtype)."""
    d = get_default_dtype() if dtype is None else _as_dtype(dtype)
    return tensor(value, dtype=d)


def scalar_or_tensor(value, d):
    """The value to assign in ``t[...] = value``: numbers become a 0-d tensor of t's dtype
    (PyTorch casts numbers; a complex number into a real tensor raises), sequences a tensor."""
    if isinstance(value, numbers.Number):
        if isinstance(value, complex) and not d.is_complex:
            raise TypeError(f"can't assign a complex number to a tensor of dtype {d!r}")
        return tensor(value, dtype=d)
    return tensor(value)
