"""``torch.autograd.function``: where ``Function``, ``FunctionCtx`` and
``once_differentiable`` live."""
from rt_autograd.function import Function, FunctionCtx, once_differentiable

__all__ = ["Function", "FunctionCtx", "once_differentiable"]
