"""``torch.nn.functional.pad``: constant, reflect, replicate and circular padding (the math is
rt_autograd's differentiable ``pad``)."""
from rt_autograd._ops.pad import pad

__all__ = ["pad"]
