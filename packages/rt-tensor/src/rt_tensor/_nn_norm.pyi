"""Normalization kernels for rt_nn (private). float32/float64, contiguous tensors."""
from typing import Optional, Tuple

from rt_tensor import Tensor

def batch_norm_forward(input: Tensor, weight: Optional[Tensor], bias: Optional[Tensor],
                       running_mean: Optional[Tensor], running_var: Optional[Tensor],
                       training: bool, momentum: float, eps: float) -> Tuple[Tensor, Tensor, Tensor]:
    """(output, save_mean, save_invstd); in training, running_mean/running_var (when given)
    are updated in place with the unbiased batch variance."""
def batch_norm_backward(grad_out: Tensor, input: Tensor, mean: Tensor, invstd: Tensor,
                        weight: Optional[Tensor], training: bool, need_input: bool,
                        need_weight: bool, need_bias: bool
                        ) -> Tuple[Optional[Tensor], Optional[Tensor], Optional[Tensor]]:
    """(grad_input, grad_weight, grad_bias), None where not asked."""
def layer_norm_forward(input: Tensor, D: int, weight: Optional[Tensor], bias: Optional[Tensor],
                       eps: float) -> Tuple[Tensor, Tensor, Tensor]:
    """(output, mean, rstd) over rows of the last D elements."""
def layer_norm_backward(grad_out: Tensor, input: Tensor, mean: Tensor, rstd: Tensor,
                        weight: Optional[Tensor], D: int, need_input: bool, need_weight: bool,
                        need_bias: bool
                        ) -> Tuple[Optional[Tensor], Optional[Tensor], Optional[Tensor]]:
    """(grad_input, grad_weight, grad_bias), None where not asked."""
def rms_norm_forward(input: Tensor, D: int, weight: Optional[Tensor],
                     eps: float) -> Tuple[Tensor, Tensor]:
    """(output, rstd) over rows of the last D elements."""
def rms_norm_backward(grad_out: Tensor, input: Tensor, rstd: Tensor, weight: Optional[Tensor],
                      D: int, need_input: bool, need_weight: bool
                      ) -> Tuple[Optional[Tensor], Optional[Tensor]]:
    """(grad_input, grad_weight), None where not asked."""
def group_norm_forward(input: Tensor, G: int, weight: Optional[Tensor], bias: Optional[Tensor],
                       eps: float) -> Tuple[Tensor, Tensor, Tensor]:
    """(output, mean, rstd), statistics per (sample, group)."""
def group_norm_backward(grad_out: Tensor, input: Tensor, mean: Tensor, rstd: Tensor,
                        weight: Optional[Tensor], G: int, need_input: bool, need_weight: bool,
                        need_bias: bool
                        ) -> Tuple[Optional[Tensor], Optional[Tensor], Optional[Tensor]]:
    """(grad_input, grad_weight, grad_bias), None where not asked."""
