"""Lesson 2, exercise 1: SiLU as an ``rt.autograd.Function`` (worked solution)."""
import rt_autograd as rt


class SiLU(rt.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        """``x * sigmoid(x)``, elementwise."""
        s = x.sigmoid()
        ctx.save_for_backward(x, s)       # keep sigmoid(x): backward needs it again
        return x * s

    @staticmethod
    def backward(ctx, grad_output):
        """``grad_output * s * (1 + x * (1 - s))`` with ``s = sigmoid(x)``."""
        x, s = ctx.saved_tensors
        return grad_output * s * (1 + x * (1 - s))


def silu(x):
    """SiLU of a tensor, through the Function (so that it has a SiLUBackward node)."""
    return SiLU.apply(x)
