"""rt_tensor: fast PyTorch-shaped n-d tensors with Cython kernels and a caching memory pool.

``import rt_tensor as rtt`` gives what ``import torch`` gives for tensors without autograd:
the same names for dtypes, factories and ops, with the same defaults, result dtypes, shapes
and errors.
"""
__version__ = "0.1.0"

from rt_tensor import _parallel, _memory, _dtype, _tensor, _iter, _copy
from rt_tensor import (_creation, _random, _format, _dlpack, _elementwise, _reduce, _index,
                       _shape_ops, _sort, _linalg)
from rt_tensor import memory, return_types
from rt_tensor._dtype import (bool_ as bool, uint8, int8, int16, int32, int64, float16, bfloat16,
                              float32, float64, complex64, complex128, dtype, get_default_dtype,
                              set_default_dtype, promote_types, can_cast)
from rt_tensor._tensor import Tensor, Size, device, from_numpy
from rt_tensor._parallel import set_num_threads, get_num_threads

half = float16
float = float32
double = float64
long = int64
int = int32
short = int16
cfloat = complex64
cdouble = complex128

_OP_MODULES = (_creation, _random, _format, _dlpack, _elementwise, _reduce, _index, _shape_ops,
               _sort, _linalg)
for _mod in _OP_MODULES:
    for _name in _mod.__all__:
        globals()[_name] = getattr(_mod, _name)
    _tensor._register_methods(_mod.TENSOR_METHODS)

_tensor._bind_modules(creation=_creation, elementwise=_elementwise, reduce=_reduce,
                      index=_index, linalg=_linalg, sort=_sort, format=_format, random=_random,
                      shape_ops=_shape_ops, dlpack=_dlpack)

__all__ = (["Tensor", "Size", "device", "dtype", "from_numpy", "memory", "set_num_threads",
            "get_num_threads", "get_default_dtype", "set_default_dtype", "promote_types",
            "can_cast", "bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
            "float32", "float64", "complex64", "complex128", "half", "float", "double", "long",
            "int", "short", "cfloat", "cdouble"]
           + [n for m in _OP_MODULES for n in m.__all__])
del _mod, _name
