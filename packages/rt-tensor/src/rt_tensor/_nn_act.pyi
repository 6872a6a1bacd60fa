"""Activation kernels for rt_nn (private). float32/float64, contiguous tensors."""
from typing import Dict, List, Optional, Tuple

from rt_tensor import Tensor

OP_NAMES: List[str]
OPS: Dict[str, int]

def act_forward(op: int, input: Tensor, p0: float = ..., p1: float = ..., p2: float = ...,
                out: Optional[Tensor] = ...) -> Tensor:
    """y = f(input) for activation ``op`` (an index of OP_NAMES); ``out`` may be ``input``."""
def act_backward(op: int, grad: Tensor, input: Tensor, p0: float = ..., p1: float = ...,
                 p2: float = ...) -> Tensor:
    """grad * f'(input)."""
def prelu_forward(input: Tensor, weight: Tensor, C: int, L: int) -> Tensor:
    """x if x > 0 else weight[c] * x; rows of L elements, channel (row index) % C."""
def prelu_backward(grad: Tensor, input: Tensor, weight: Tensor, C: int, L: int,
                   need_input: bool, need_weight: bool) -> Tuple[Optional[Tensor], Optional[Tensor]]:
    """(grad_input, grad_weight), None where not asked."""
