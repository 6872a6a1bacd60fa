"""Type stubs for rt_tensor._shape_ops: join, triangle, flip/roll, repeat, broadcasting and
diag ops, and the functional forms of the Tensor view methods (PyTorch's signatures)."""
from typing import Optional, Sequence, Tuple, Union

from rt_tensor._tensor import Tensor, Size

_Dims = Union[int, Sequence[int]]

def cat(tensors: Sequence[Tensor], dim: int = 0, *, out: Optional[Tensor] = None) -> Tensor:
    """Concatenate along an existing dim; inputs promoted to a common dtype; legacy 1-D
    empty tensors skipped."""
def concat(tensors: Sequence[Tensor], dim: int = 0, *, out: Optional[Tensor] = None) -> Tensor:
    """Alias of ``cat``."""
def concatenate(tensors: Sequence[Tensor], dim: int = 0, *, out: Optional[Tensor] = None) -> Tensor:
    """Alias of ``cat``."""
def stack(tensors: Sequence[Tensor], dim: int = 0, *, out: Optional[Tensor] = None) -> Tensor:
    """Join tensors of one shape along a new dim."""
def hstack(tensors: Sequence[Tensor], *, out: Optional[Tensor] = None) -> Tensor:
    """Concatenate along dim 0 for 1-D inputs, else dim 1."""
def vstack(tensors: Sequence[Tensor], *, out: Optional[Tensor] = None) -> Tensor:
    """``cat`` of ``atleast_2d`` inputs along dim 0."""
def row_stack(tensors: Sequence[Tensor], *, out: Optional[Tensor] = None) -> Tensor:
    """Alias of ``vstack``."""
def dstack(tensors: Sequence[Tensor], *, out: Optional[Tensor] = None) -> Tensor:
    """``cat`` of ``atleast_3d`` inputs along dim 2."""
def column_stack(tensors: Sequence[Tensor], *, out: Optional[Tensor] = None) -> Tensor:
    """0-d and 1-D inputs become columns, then ``hstack``."""
def tril(input: Tensor, diagonal: int = 0, *, out: Optional[Tensor] = None) -> Tensor:
    """Keep elements with ``j <= i + diagonal`` in the last two dims; zero the rest."""
def triu(input: Tensor, diagonal: int = 0, *, out: Optional[Tensor] = None) -> Tensor:
    """Keep elements with ``j >= i + diagonal`` in the last two dims; zero the rest."""
def tril_(input: Tensor, diagonal: int = 0) -> Tensor:
    """In-place ``tril``."""
def triu_(input: Tensor, diagonal: int = 0) -> Tensor:
    """In-place ``triu``."""
def flip(input: Tensor, dims: _Dims) -> Tensor:
    """A copy reversed along ``dims``."""
def fliplr(input: Tensor) -> Tensor:
    """``flip(input, [1])`` for tensors of at least 2 dims."""
def flipud(input: Tensor) -> Tensor:
    """``flip(input, [0])`` for tensors of at least 1 dim."""
def roll(input: Tensor, shifts: _Dims, dims: Optional[_Dims] = None) -> Tensor:
    """Roll along ``dims`` (the flattened tensor when ``dims`` is None)."""
def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``dims``."""
def repeat(input: Tensor, *sizes: int) -> Tensor:
    """``Tensor.repeat``: tile ``sizes[i]`` times along each dim."""
def tile(input: Tensor, dims: _Dims) -> Tensor:
    """``repeat`` with ``dims`` padded with leading ones."""
def repeat_interleave(input: Tensor, repeats: Union[int, Tensor, None] = None,
                      dim: Optional[int] = None, *, output_size: Optional[int] = None) -> Tensor:
    """Repeat each element ``repeats`` times along ``dim`` (flattened when None)."""
def broadcast_shapes(*shapes: Union[int, Sequence[int]]) -> Size:
    """The common broadcast shape; RuntimeError naming both shapes on mismatch."""
def broadcast_tensors(*tensors: Tensor) -> Tuple[Tensor, ...]:
    """Views expanded to the common broadcast shape."""
def broadcast_to(input: Tensor, size: Sequence[int]) -> Tensor:
    """``input.expand(size)``."""
def meshgrid(*tensors: Tensor, indexing: Optional[str] = None) -> Tuple[Tensor, ...]:
    """Coordinate grids (expanded views); ``indexing`` is 'ij' or 'xy'."""
def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Cartesian product of 1-D tensors, one row per combination."""
def atleast_1d(*tensors: Tensor) -> Union[Tensor, Tuple[Tensor, ...]]:
    """Views with at least 1 dim."""
def atleast_2d(*tensors: Tensor) -> Union[Tensor, Tuple[Tensor, ...]]:
    """Views with at least 2 dims."""
def atleast_3d(*tensors: Tensor) -> Union[Tensor, Tuple[Tensor, ...]]:
    """Views with at least 3 dims."""
def diag(input: Tensor, diagonal: int = 0, *, out: Optional[Tensor] = None) -> Tensor:
    """1-D: a matrix with ``input`` on a diagonal; 2-D: a copy of a diagonal."""
def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices (in dims dim1, dim2) with the last dim of ``input`` on a diagonal."""
def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """``diag(input.flatten(), offset)``."""
def block_diag(*tensors: Tensor) -> Tensor:
    """Block-diagonal matrix of (at most 2-D) tensors."""
def reshape(input: Tensor, shape: Sequence[int]) -> Tensor: ...
def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor: ...
def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor: ...
def squeeze(input: Tensor, dim: Optional[_Dims] = None) -> Tensor: ...
def unsqueeze(input: Tensor, dim: int) -> Tensor: ...
def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor: ...
def swapaxes(input: Tensor, dim0: int, dim1: int) -> Tensor: ...
def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor: ...
def permute(input: Tensor, dims: Sequence[int]) -> Tensor: ...
def movedim(input: Tensor, source: _Dims, destination: _Dims) -> Tensor: ...
def moveaxis(input: Tensor, source: _Dims, destination: _Dims) -> Tensor: ...
def t(input: Tensor) -> Tensor: ...
def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor: ...
def select(input: Tensor, dim: int, index: int) -> Tensor: ...
def unbind(input: Tensor, dim: int = 0) -> Tuple[Tensor, ...]: ...
def split(tensor: Tensor, split_size_or_sections: Union[int, Sequence[int]], dim: int = 0) -> Tuple[Tensor, ...]: ...
def chunk(input: Tensor, chunks: int, dim: int = 0) -> Tuple[Tensor, ...]: ...
def tensor_split(input: Tensor, indices_or_sections: Union[int, Sequence[int]], dim: int = 0) -> Tuple[Tensor, ...]: ...
def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor: ...
def as_strided(input: Tensor, size: Sequence[int], stride: Sequence[int], storage_offset: Optional[int] = None) -> Tensor: ...
def clone(input: Tensor, *, memory_format: object = None) -> Tensor: ...
def numel(input: Tensor) -> int: ...
def is_tensor(obj: object) -> bool: ...
def is_floating_point(input: Tensor) -> bool: ...
def is_complex(input: Tensor) -> bool: ...
def is_nonzero(input: Tensor) -> bool:
    """The truth value of a one-element tensor (RuntimeError otherwise)."""

TENSOR_METHODS: dict
