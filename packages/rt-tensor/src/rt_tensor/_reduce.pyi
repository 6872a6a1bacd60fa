"""Reductions and scans (PyTorch 2.x names, arguments, defaults, result dtypes, errors)."""
from typing import NamedTuple, Optional, Sequence, Union

from rt_tensor._tensor import Tensor
from rt_tensor._dtype import dtype as _dtype

_Dims = Union[int, Sequence[int], None]

class _ValuesIndices(NamedTuple):
    values: Tensor
    indices: Tensor

class _MinMax(NamedTuple):
    min: Tensor
    max: Tensor

def sum(input: Tensor, dim: _Dims = None, keepdim: bool = False, *, dtype: Optional[_dtype] = None,
        out: Optional[Tensor] = None) -> Tensor:
    """Sum over ``dim`` (all when None or ()). Bool/int inputs give int64; float16, bfloat16
    and float32 accumulate in float64; ``dtype`` casts the input first."""
def nansum(input: Tensor, dim: _Dims = None, keepdim: bool = False, *,
           dtype: Optional[_dtype] = None, out: Optional[Tensor] = None) -> Tensor:
    """Sum treating NaN as zero; complex input raises RuntimeError."""
def mean(input: Tensor, dim: _Dims = None, keepdim: bool = False, *,
         dtype: Optional[_dtype] = None, out: Optional[Tensor] = None) -> Tensor:
    """Mean over ``dim``; floating/complex only (RuntimeError for integers unless ``dtype``).
    Empty: NaN."""
def nanmean(input: Tensor, dim: _Dims = None, keepdim: bool = False, *,
            dtype: Optional[_dtype] = None, out: Optional[Tensor] = None) -> Tensor:
    """Mean of the non-NaN elements."""
def prod(input: Tensor, dim: Optional[int] = None, keepdim: bool = False, *,
         dtype: Optional[_dtype] = None, out: Optional[Tensor] = None) -> Tensor:
    """Product over one ``dim`` (an int) or all; ints -> int64. Empty: 1."""
def max(input: Tensor, dim: Union[int, Tensor, None] = None, keepdim: bool = False, *,
        out=None) -> Union[Tensor, _ValuesIndices]:
    """No dim: the largest element (0-d; RuntimeError on empty input). With ``dim``:
    ``(values, indices)`` (first occurrence). With a Tensor: elementwise maximum. NaN
    propagates; complex raises."""
def min(input: Tensor, dim: Union[int, Tensor, None] = None, keepdim: bool = False, *,
        out=None) -> Union[Tensor, _ValuesIndices]:
    """Counterpart of :func:`max`."""
def amax(input: Tensor, dim: _Dims = (), keepdim: bool = False, *,
         out: Optional[Tensor] = None) -> Tensor:
    """Largest elements over ``dim`` (a tuple allowed; () means all)."""
def amin(input: Tensor, dim: _Dims = (), keepdim: bool = False, *,
         out: Optional[Tensor] = None) -> Tensor:
    """Smallest elements over ``dim``."""
def aminmax(input: Tensor, *, dim: Optional[int] = None, keepdim: bool = False,
            out=None) -> _MinMax:
    """``(min, max)`` namedtuple."""
def argmax(input: Tensor, dim: Optional[int] = None, keepdim: bool = False, *,
           out: Optional[Tensor] = None) -> Tensor:
    """Index of the largest element (of the flattened input when ``dim`` is None); first
    occurrence; a NaN counts as largest."""
def argmin(input: Tensor, dim: Optional[int] = None, keepdim: bool = False, *,
           out: Optional[Tensor] = None) -> Tensor:
    """Index of the smallest element."""
def var(input: Tensor, dim: _Dims = None, unbiased: Optional[bool] = None, keepdim: bool = False,
        *, correction: Optional[float] = None, out: Optional[Tensor] = None) -> Tensor:
    """Variance with ``correction`` (default 1); ``unbiased`` is the legacy spelling. Complex
    input gives a real result; UserWarning when the degrees of freedom are <= 0."""
def std(input: Tensor, dim: _Dims = None, unbiased: Optional[bool] = None, keepdim: bool = False,
        *, correction: Optional[float] = None, out: Optional[Tensor] = None) -> Tensor:
    """Standard deviation (see :func:`var`)."""
def var_mean(input: Tensor, dim: _Dims = None, unbiased: Optional[bool] = None,
             keepdim: bool = False, *, correction: Optional[float] = None) -> tuple:
    """``(var, mean)``."""
def std_mean(input: Tensor, dim: _Dims = None, unbiased: Optional[bool] = None,
             keepdim: bool = False, *, correction: Optional[float] = None) -> tuple:
    """``(std, mean)``."""
def norm(input: Tensor, p: Union[str, float, None] = "fro", dim: _Dims = None,
         keepdim: bool = False, out: Optional[Tensor] = None,
         dtype: Optional[_dtype] = None) -> Tensor:
    """Vector norm: p in 'fro', any real number, inf, -inf (0 counts nonzeros)."""
def vector_norm(x: Tensor, ord: float = 2, dim: _Dims = None, keepdim: bool = False, *,
                dtype: Optional[_dtype] = None, out: Optional[Tensor] = None) -> Tensor:
    """``torch.linalg.vector_norm``."""
def logsumexp(input: Tensor, dim: _Dims, keepdim: bool = False, *,
              out: Optional[Tensor] = None) -> Tensor:
    """Stable log-sum-exp; integers promote to the default float dtype."""
def all(input: Tensor, dim: _Dims = None, keepdim: bool = False, *,
        out: Optional[Tensor] = None) -> Tensor:
    """Bool result (uint8 for uint8 input)."""
def any(input: Tensor, dim: _Dims = None, keepdim: bool = False, *,
        out: Optional[Tensor] = None) -> Tensor:
    """Bool result (uint8 for uint8 input)."""
def count_nonzero(input: Tensor, dim: _Dims = None) -> Tensor:
    """int64 count of nonzero elements."""
def median(input: Tensor, dim: Optional[int] = None, keepdim: bool = False, *,
           out=None) -> Union[Tensor, _ValuesIndices]:
    """Lower median of all elements (NaN if any NaN); with ``dim``, ``(values, indices)``."""
def nanmedian(input: Tensor, dim: Optional[int] = None, keepdim: bool = False, *,
              out=None) -> Union[Tensor, _ValuesIndices]:
    """Median ignoring NaN."""
def cumsum(input: Tensor, dim: int, *, dtype: Optional[_dtype] = None,
           out: Optional[Tensor] = None) -> Tensor:
    """Cumulative sum; ints -> int64."""
def cumprod(input: Tensor, dim: int, *, dtype: Optional[_dtype] = None,
            out: Optional[Tensor] = None) -> Tensor:
    """Cumulative product; ints -> int64."""
def cummax(input: Tensor, dim: int, *, out=None) -> _ValuesIndices:
    """Running max and its index (ties move forward; NaN propagates)."""
def cummin(input: Tensor, dim: int, *, out=None) -> _ValuesIndices:
    """Running min and its index."""
def logcumsumexp(input: Tensor, dim: int, *, out: Optional[Tensor] = None) -> Tensor:
    """Stable running log-sum-exp (floating point input)."""
def trace(input: Tensor) -> Tensor:
    """Sum of the main diagonal of a matrix."""
