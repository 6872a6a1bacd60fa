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

__all__ = [
    # core
    'Tensor', 'Size', 'device', 'dtype', 'from_numpy', 'memory', 'return_types',
    'set_num_threads', 'get_num_threads', 'get_default_dtype', 'set_default_dtype',
    'promote_types', 'can_cast', 'bool', 'uint8', 'int8', 'int16', 'int32', 'int64', 'float16',
    'bfloat16', 'float32', 'float64', 'complex64', 'complex128', 'half', 'float', 'double',
    'long', 'int', 'short', 'cfloat', 'cdouble',
    # creation
    'tensor', 'as_tensor', 'asarray', 'scalar_tensor', 'empty', 'zeros', 'ones', 'full',
    'empty_like', 'zeros_like', 'ones_like', 'full_like', 'empty_strided', 'arange', 'range',
    'linspace', 'logspace', 'eye', 'complex', 'polar', 'frombuffer',
    # random
    'Generator', 'default_generator', 'manual_seed', 'seed', 'initial_seed', 'get_rng_state',
    'set_rng_state', 'rand', 'randn', 'randint', 'randperm', 'normal', 'bernoulli',
    'multinomial', 'poisson', 'rand_like', 'randn_like', 'randint_like',
    # printing
    'set_printoptions', 'get_printoptions', 'printoptions',
    # dlpack
    'from_dlpack',
    # elementwise
    'add', 'sub', 'mul', 'div', 'floor_divide', 'remainder', 'pow', 'float_power', 'round',
    'real', 'imag', 'clamp', 'clamp_min', 'clamp_max', 'lerp', 'addcmul', 'addcdiv', 'isclose',
    'allclose', 'equal', 'nan_to_num', 'deg2rad', 'rad2deg', 'subtract', 'multiply', 'divide',
    'true_divide', 'negative', 'absolute', 'arcsin', 'arccos', 'arctan', 'arcsinh', 'arccosh',
    'arctanh', 'arctan2', 'fix', 'clip', 'greater', 'greater_equal', 'less', 'less_equal',
    'not_equal', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'bitwise_and', 'bitwise_or', 'bitwise_xor',
    'bitwise_left_shift', 'bitwise_right_shift', 'maximum', 'minimum', 'fmax', 'fmin', 'fmod',
    'atan2', 'hypot', 'copysign', 'logaddexp', 'xlogy', 'logical_and', 'logical_or',
    'logical_xor', 'neg', 'positive', 'abs', 'bitwise_not', 'sign', 'sgn', 'exp', 'exp2',
    'expm1', 'log', 'log2', 'log10', 'log1p', 'sqrt', 'rsqrt', 'sin', 'cos', 'tan', 'asin',
    'acos', 'atan', 'sinh', 'cosh', 'tanh', 'asinh', 'acosh', 'atanh', 'sigmoid', 'relu', 'erf',
    'erfc', 'lgamma', 'floor', 'ceil', 'trunc', 'frac', 'reciprocal', 'square', 'isnan',
    'isinf', 'isfinite', 'isposinf', 'isneginf', 'signbit', 'logical_not', 'conj', 'angle',
    # reductions
    'sum', 'nansum', 'mean', 'nanmean', 'prod', 'max', 'min', 'amax', 'amin', 'aminmax',
    'argmax', 'argmin', 'var', 'std', 'var_mean', 'std_mean', 'norm', 'logsumexp', 'all', 'any',
    'count_nonzero', 'median', 'nanmedian', 'cumsum', 'cumprod', 'cummax', 'cummin',
    'logcumsumexp', 'trace',
    # indexing
    'index_select', 'gather', 'scatter', 'scatter_add', 'scatter_reduce', 'index_add',
    'index_copy', 'index_fill', 'index_put', 'index_put_', 'masked_fill', 'masked_select',
    'masked_scatter', 'where', 'nonzero', 'argwhere', 'take', 'take_along_dim', 'put',
    # shape and join
    'cat', 'concat', 'concatenate', 'stack', 'hstack', 'vstack', 'row_stack', 'dstack',
    'column_stack', 'tril', 'triu', 'flip', 'fliplr', 'flipud', 'roll', 'tile',
    'repeat_interleave', 'rot90', 'broadcast_tensors', 'broadcast_shapes', 'broadcast_to',
    'meshgrid', 'atleast_1d', 'atleast_2d', 'atleast_3d', 'diag', 'diag_embed', 'diagflat',
    'block_diag', 'cartesian_prod', 'reshape', 'flatten', 'unflatten', 'squeeze', 'unsqueeze',
    'transpose', 'swapaxes', 'swapdims', 'permute', 'movedim', 'moveaxis', 't', 'narrow',
    'select', 'unbind', 'split', 'chunk', 'tensor_split', 'diagonal', 'as_strided', 'clone',
    'numel', 'is_tensor', 'is_floating_point', 'is_complex', 'is_nonzero',
    # sorting
    'sort', 'argsort', 'msort', 'topk', 'kthvalue', 'unique', 'unique_consecutive',
    'searchsorted', 'bucketize', 'histc',
    # linear algebra
    'matmul', 'mm', 'bmm', 'mv', 'dot', 'vdot', 'inner', 'outer', 'ger', 'addmm', 'addmv',
    'addbmm', 'baddbmm', 'tensordot', 'einsum', 'kron',
]

del _mod, _name
