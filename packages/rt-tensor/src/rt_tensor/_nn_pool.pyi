"""Pooling and upsampling kernels for rt_nn (private). Inputs are contiguous float32/float64
tensors whose last two dims are a plane (H, W); the leading dims are planes, split over rt's
thread pool. Formulas are PyTorch's CPU ones (indices: flat offsets within each plane)."""
from rt_tensor import Tensor

def max_pool2d(input: Tensor, kH: int, kW: int, sH: int, sW: int, pH: int, pW: int, dH: int,
               dW: int, oH: int, oW: int, indices: bool = True) -> tuple[Tensor, Tensor | None]:
    """(values, int64 indices), each shaped input.shape[:-2] + (oH, oW); padding is -inf.
    indices=False: (values, None), without the argmax bookkeeping (inference)."""

def max_pool_backward(grad_output: Tensor, indices: Tensor, H: int, W: int) -> Tensor:
    """zeros(grad_output.shape[:-2] + (H, W)) with grad_output added at the plane indices."""

def max_pool_gather(input: Tensor, indices: Tensor) -> Tensor:
    """input's plane values at ``indices`` (shaped like ``indices``)."""

def avg_pool2d(input: Tensor, kH: int, kW: int, sH: int, sW: int, pH: int, pW: int, oH: int,
               oW: int, count_include_pad: bool = ..., divisor_override: int = ...) -> Tensor:
    """Average pooling (divisor_override 0: none)."""

def avg_pool2d_backward(grad_output: Tensor, H: int, W: int, kH: int, kW: int, sH: int, sW: int,
                        pH: int, pW: int, count_include_pad: bool = ...,
                        divisor_override: int = ...) -> Tensor:
    """The gradient of avg_pool2d for an input with planes (H, W)."""

def adaptive_avg_pool2d(input: Tensor, oH: int, oW: int) -> Tensor:
    """Adaptive average pooling to (oH, oW)."""

def adaptive_avg_pool2d_backward(grad_output: Tensor, H: int, W: int) -> Tensor:
    """The gradient of adaptive_avg_pool2d for an input with planes (H, W)."""

def adaptive_max_pool2d(input: Tensor, oH: int, oW: int) -> tuple[Tensor, Tensor]:
    """Adaptive max pooling to (oH, oW): (values, int64 indices)."""

def upsample_nearest2d(input: Tensor, oH: int, oW: int, scale_h: float = ..., scale_w: float = ...,
                       exact: bool = ...) -> Tensor:
    """Nearest resampling to (oH, oW); scale_* > 0: the user's scale factor; exact:
    'nearest-exact'."""

def upsample_nearest2d_backward(grad_output: Tensor, H: int, W: int, scale_h: float = ...,
                                scale_w: float = ..., exact: bool = ...) -> Tensor:
    """The gradient of upsample_nearest2d for an input with planes (H, W)."""

def upsample_bilinear2d(input: Tensor, oH: int, oW: int, align_corners: bool = ...,
                        scale_h: float = ..., scale_w: float = ...) -> Tensor:
    """Bilinear resampling to (oH, oW) (PyTorch's source-index formula)."""

def upsample_bilinear2d_backward(grad_output: Tensor, H: int, W: int, align_corners: bool = ...,
                                 scale_h: float = ..., scale_w: float = ...) -> Tensor:
    """The gradient of upsample_bilinear2d for an input with planes (H, W)."""
