"""Convolution kernels for rt_nn (private: im2col + GEMM over rt's thread pool). float32 and
float64 (float16/bfloat16 computed in float32); 1 to 3 spatial dims. PyTorch's argument
checks and messages are rt_nn.functional's job; these check only what could crash."""
from typing import Sequence

from rt_tensor import Tensor

__all__: list[str]

def conv_forward(input: Tensor, weight: Tensor, bias: Tensor | None, stride: Sequence[int],
                 padding: Sequence[int], dilation: Sequence[int], groups: int,
                 output_size: Sequence[int] | None = ..., relu: bool = ...,
                 pool2: bool = ...) -> Tensor:
    """Convolution of input (N, C, *S) with weight (Cout, C/groups, *K) (+ bias): (N, Cout, *O),
    O = (S + 2p - d(K-1) - 1) // s + 1, or only the leading ``output_size`` part of it;
    ``relu=True``: max(0, .) of that, fused into the kernel (records no gradient);
    ``pool2=True`` (2-d): then its 2x2 stride-2 max pool, (N, Cout, O1 // 2, O2 // 2)."""

def conv_backward_input(grad_output: Tensor, weight: Tensor, input_size: Sequence[int],
                        stride: Sequence[int], padding: Sequence[int], dilation: Sequence[int],
                        groups: int, bias: Tensor | None = ...) -> Tensor:
    """Gradient of conv_forward w.r.t. its input (N, C, *input_size), plus bias per channel:
    the forward of a transposed convolution."""

def conv_backward_weight(input: Tensor, grad_output: Tensor, kernel_size: Sequence[int],
                         stride: Sequence[int], padding: Sequence[int],
                         dilation: Sequence[int], groups: int) -> Tensor:
    """Gradient of conv_forward w.r.t. its weight: (Cout, C/groups, *kernel_size)."""

def im2col(input: Tensor, kernel_size: Sequence[int], dilation: Sequence[int],
           padding: Sequence[int], stride: Sequence[int]) -> Tensor:
    """torch's unfold for (N, C, *S): (N, C * prod(K), L)."""

def col2im(input: Tensor, output_size: Sequence[int], kernel_size: Sequence[int],
           dilation: Sequence[int], padding: Sequence[int], stride: Sequence[int]) -> Tensor:
    """torch's fold: (N, C * prod(K), L) summed into (N, C, *output_size)."""

def _tuning(col_bytes: int | None = ..., serial_work: int | None = ...,
            chunks_per_thread: int | None = ..., winograd: bool | None = ...,
            wino_min_channels: int | None = ...) -> dict[str, int | bool]:
    """Read (and, for experiments and tests, set) the planning constants."""
