"""Type stubs for rt_tensor._sort: sorting and searching (PyTorch's signatures). NaN is the
largest value; sorts are stable."""
from typing import Optional, Tuple, Union

from rt_tensor._tensor import Tensor

class _ValuesIndices(Tuple[Tensor, Tensor]):
    @property
    def values(self) -> Tensor: ...
    @property
    def indices(self) -> Tensor: ...

class return_types:
    sort: type
    topk: type
    kthvalue: type

def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False, *,
         out: Optional[Tuple[Tensor, Tensor]] = None) -> _ValuesIndices:
    """(values, indices) sorted along ``dim``; NaN last ascending, first descending."""
def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """int64 indices that sort ``input`` along ``dim``."""
def msort(input: Tensor, *, out: Optional[Tensor] = None) -> Tensor:
    """``sort(input, 0).values``."""
def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True, *,
         out: Optional[Tuple[Tensor, Tensor]] = None) -> _ValuesIndices:
    """The k largest (smallest) elements along ``dim`` and their indices."""
def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False, *,
             out: Optional[Tuple[Tensor, Tensor]] = None) -> _ValuesIndices:
    """The k-th smallest element (1-based) along ``dim`` and its index."""
def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: Optional[int] = None) -> Union[Tensor, Tuple[Tensor, ...]]:
    """Sorted unique elements (or slices along ``dim``), optional inverse and counts."""
def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: Optional[int] = None) -> Union[Tensor, Tuple[Tensor, ...]]:
    """Collapse runs of equal consecutive elements (or slices along ``dim``)."""
def searchsorted(sorted_sequence: Tensor, input: Union[Tensor, float], *, out_int32: bool = False,
                 right: bool = False, side: Optional[str] = None, sorter: Optional[Tensor] = None,
                 out: Optional[Tensor] = None) -> Tensor:
    """Insertion indices into the innermost dim of ``sorted_sequence``."""
def bucketize(input: Union[Tensor, float], boundaries: Tensor, *, out_int32: bool = False,
              right: bool = False, out: Optional[Tensor] = None) -> Tensor:
    """``searchsorted(boundaries, input, right=right)`` for 1-D boundaries."""
def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0, *,
          out: Optional[Tensor] = None) -> Tensor:
    """Histogram with equal-width bins (floating dtypes)."""

TENSOR_METHODS: dict
