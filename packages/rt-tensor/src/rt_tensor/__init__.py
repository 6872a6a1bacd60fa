"""rt_tensor: fast PyTorch-shaped n-d tensors (bootstrap)."""
from rt_tensor import _parallel, _memory, _dtype, _tensor, _iter, _copy, _creation
from rt_tensor._tensor import Tensor, from_numpy
from rt_tensor._creation import tensor
from rt_tensor._dtype import *
_tensor._bind_modules(creation=_creation)
