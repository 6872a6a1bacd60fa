"""Indexing ops (rt_tensor._index): advanced indexing, gather/scatter, masked ops, where."""
from typing import Literal, Optional, Sequence, Tuple, Union

from rt_tensor._tensor import Tensor

Number = Union[bool, int, float, complex]

def getitem(t: Tensor, index: object) -> Tensor:
    """``t[index]`` for indices holding int/bool tensors, lists, numpy arrays or Python bools
    (PyTorch semantics; a copy). Ints are applied first as selects; adjacent advanced indices
    keep their place, separated ones go to the front."""
def setitem(t: Tensor, index: object, value: Union[Tensor, Number, Sequence]) -> None:
    """``t[index] = value`` with ``index_put_`` semantics (value broadcast and converted)."""
def index_put_(input: Tensor, indices: Sequence[Optional[Tensor]], values: Tensor,
               accumulate: bool = False) -> Tensor:
    """In place ``input[indices] = values`` (``+=`` with duplicates summed if accumulate)."""
def index_put(input: Tensor, indices: Sequence[Optional[Tensor]], values: Tensor,
              accumulate: bool = False) -> Tensor:
    """Out-of-place ``index_put_``."""
def index_select(input: Tensor, dim: int, index: Tensor, *, out: Optional[Tensor] = None) -> Tensor:
    """Entries of ``input`` along ``dim`` at the 1-D int32/int64 ``index`` (no negative
    indices: IndexError "index out of range in self")."""
def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False,
           out: Optional[Tensor] = None) -> Tensor:
    """``out[i][j] = input[index[i][j]][j]`` (dim 0); index is int64 with input's ndim."""
def take(input: Tensor, index: Tensor) -> Tensor:
    """``input`` read as 1-D at the int64 ``index`` (negatives wrap); index's shape."""
def take_along_dim(input: Tensor, indices: Tensor, dim: Optional[int] = None) -> Tensor:
    """``gather`` with broadcasting of the non-``dim`` dims; flattened when dim is None."""
def scatter_(self: Tensor, dim: int, index: Tensor, src: Union[Tensor, Number, None] = None, *,
             value: Optional[Number] = None,
             reduce: Optional[Literal["add", "multiply"]] = None) -> Tensor:
    """In place ``self[index[i][j]][j] = src[i][j]`` (dim 0); src a tensor or a number."""
def scatter(input: Tensor, dim: int, index: Tensor, src: Union[Tensor, Number, None] = None, *,
            value: Optional[Number] = None,
            reduce: Optional[Literal["add", "multiply"]] = None) -> Tensor:
    """Out-of-place ``scatter_``."""
def scatter_add_(self: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """In place ``self[index[i][j]][j] += src[i][j]``; duplicates accumulate."""
def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """Out-of-place ``scatter_add_``."""
def scatter_reduce_(self: Tensor, dim: int, index: Tensor, src: Tensor,
                    reduce: Literal["sum", "prod", "mean", "amax", "amin"], *,
                    include_self: bool = True) -> Tensor:
    """In place reduction of ``src`` into ``self`` at ``index`` along ``dim``."""
def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor,
                   reduce: Literal["sum", "prod", "mean", "amax", "amin"], *,
                   include_self: bool = True) -> Tensor:
    """Out-of-place ``scatter_reduce_``."""
def index_add_(self: Tensor, dim: int, index: Tensor, source: Tensor, *,
               alpha: Number = 1) -> Tensor:
    """In place ``self[..., index[k], ...] += alpha * source[..., k, ...]`` along ``dim``."""
def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *,
              alpha: Number = 1) -> Tensor:
    """Out-of-place ``index_add_``."""
def index_copy_(self: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """In place ``self[..., index[k], ...] = source[..., k, ...]`` along ``dim``."""
def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """Out-of-place ``index_copy_``."""
def index_fill_(self: Tensor, dim: int, index: Tensor, value: Union[Number, Tensor]) -> Tensor:
    """In place: entries whose ``dim`` coordinate is in ``index`` become ``value``."""
def index_fill(input: Tensor, dim: int, index: Tensor, value: Union[Number, Tensor]) -> Tensor:
    """Out-of-place ``index_fill_``."""
def masked_fill_(self: Tensor, mask: Tensor, value: Union[Number, Tensor]) -> Tensor:
    """In place: entries where the bool ``mask`` (broadcast to self) is True become ``value``."""
def masked_fill(input: Tensor, mask: Tensor, value: Union[Number, Tensor]) -> Tensor:
    """Out-of-place ``masked_fill_``; result shape = broadcast of input and mask."""
def masked_select(input: Tensor, mask: Tensor, *, out: Optional[Tensor] = None) -> Tensor:
    """1-D tensor of the entries of input where the bool mask is True (both broadcast)."""
def masked_scatter_(self: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """In place: True positions of mask get consecutive elements of source."""
def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """Out-of-place ``masked_scatter_``."""
def where(condition: Tensor, input: Union[Tensor, Number, None] = None,
          other: Union[Tensor, Number, None] = None, *,
          out: Optional[Tensor] = None) -> Union[Tensor, Tuple[Tensor, ...]]:
    """``input`` where the bool condition is True else ``other`` (broadcast; dtype = the
    promotion of input and other); ``where(condition)`` = ``nonzero(condition, as_tuple=True)``."""
def nonzero(input: Tensor, *, out: Optional[Tensor] = None,
            as_tuple: bool = False) -> Union[Tensor, Tuple[Tensor, ...]]:
    """(n, ndim) int64 coordinates of nonzero entries, or a tuple of ndim 1-D tensors."""
def argwhere(input: Tensor) -> Tensor:
    """``nonzero(input)``."""
def put_(self: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """In place: self read as 1-D gets source at the int64 index (negatives wrap)."""
def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """Out-of-place ``put_``."""
