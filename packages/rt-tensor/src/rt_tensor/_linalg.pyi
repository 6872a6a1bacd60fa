"""Linear algebra: matrix products through BLAS (scipy-openblas32), einsum, tensordot."""
from typing import Optional, Sequence, Union

from rt_tensor._tensor import Tensor

Number = Union[bool, int, float, complex]

def matmul(input: Tensor, other: Tensor, *, out: Optional[Tensor] = None) -> Tensor:
    """Matrix product with PyTorch's rules: 1-D @ 1-D is a dot product (0-d result), 2-D @ 1-D a
    matrix-vector product, a 1-D first operand is a row vector (its dim is dropped), and batch
    dims broadcast. Operands must share a dtype; bool raises; 0-d operands raise."""
def mm(input: Tensor, mat2: Tensor, *, out: Optional[Tensor] = None) -> Tensor:
    """Product of two 2-D tensors: (n, m) @ (m, p) -> (n, p)."""
def bmm(input: Tensor, mat2: Tensor, *, out: Optional[Tensor] = None) -> Tensor:
    """Batched product of two 3-D tensors: (b, n, m) @ (b, m, p) -> (b, n, p); no broadcasting."""
def mv(input: Tensor, vec: Tensor, *, out: Optional[Tensor] = None) -> Tensor:
    """Matrix-vector product: (n, m) @ (m,) -> (n,)."""
def dot(input: Tensor, tensor: Tensor, *, out: Optional[Tensor] = None) -> Tensor:
    """Dot product of two 1-D tensors of the same size and dtype (no conjugation)."""
def vdot(input: Tensor, other: Tensor, *, out: Optional[Tensor] = None) -> Tensor:
    """Dot product that conjugates the first vector (complex)."""
def inner(input: Tensor, other: Tensor, *, out: Optional[Tensor] = None) -> Tensor:
    """Sum of products over the last dims: result shape input.shape[:-1] + other.shape[:-1];
    a 0-d operand multiplies."""
def outer(input: Tensor, vec2: Tensor, *, out: Optional[Tensor] = None) -> Tensor:
    """Outer product of two vectors, (n,) x (m,) -> (n, m); dtypes promote like ``*``."""
def ger(input: Tensor, vec2: Tensor, *, out: Optional[Tensor] = None) -> Tensor:
    """Alias of :func:`outer`."""
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Number = 1, alpha: Number = 1,
          out: Optional[Tensor] = None) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2); input broadcasts to (n, p); beta=0 ignores input."""
def addmm_(self: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Number = 1, alpha: Number = 1) -> Tensor:
    """In-place :func:`addmm` (self must have the result's shape)."""
def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Number = 1, alpha: Number = 1,
          out: Optional[Tensor] = None) -> Tensor:
    """beta * input + alpha * (mat @ vec)."""
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Number = 1, alpha: Number = 1,
            out: Optional[Tensor] = None) -> Tensor:
    """beta * input + alpha * bmm(batch1, batch2); input broadcasts to (b, n, p)."""
def baddbmm_(self: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Number = 1,
             alpha: Number = 1) -> Tensor:
    """In-place :func:`baddbmm`."""
def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Number = 1, alpha: Number = 1,
           out: Optional[Tensor] = None) -> Tensor:
    """beta * input + alpha * sum_i batch1[i] @ batch2[i] (one GEMM over the stacked batches)."""
def addbmm_(self: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Number = 1,
            alpha: Number = 1) -> Tensor:
    """In-place :func:`addbmm`."""
def tensordot(a: Tensor, b: Tensor, dims: Union[int, Sequence[Sequence[int]], Tensor] = 2,
              out: Optional[Tensor] = None) -> Tensor:
    """Contract the last ``dims`` dims of a with the first of b, or the listed dims pairs."""
def kron(input: Tensor, other: Tensor, *, out: Optional[Tensor] = None) -> Tensor:
    """Kronecker product."""
def einsum(equation: str, *operands: Tensor) -> Tensor:
    """Einstein summation: explicit ('ij,jk->ik') and implicit ('ij,jk') output, '...', repeated
    labels (diagonals), sums, outer products, any number of operands (contracted left to right
    with batched matrix products), the list form einsum(eq, [a, b]) and the sublist form
    einsum(a, [0, 1], b, [1, 2], [0, 2])."""
