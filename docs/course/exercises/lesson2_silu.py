"""Lesson 2, exercise 1: SiLU, ``x * sigmoid(x)``, as an ``rt.autograd.Function``.

Write ``forward`` (compute the result, save what ``backward`` needs with
``ctx.save_for_backward``) and ``backward`` (turn the gradient of the output into the
gradient of ``x``). With s = sigmoid(x): d/dx [x * s] = s * (1 + x * (1 - s)).
Check your work with ``python docs/course/_runner.py check 2``.
"""
import rt_autograd as rt


class SiLU(rt.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        """``x * sigmoid(x)``, elementwise."""
        raise NotImplementedError("exercise: the forward of SiLU, x * sigmoid(x)")

    @staticmethod
    def backward(ctx, grad_output):
        """``grad_output * s * (1 + x * (1 - s))`` with ``s = sigmoid(x)``."""
        raise NotImplementedError("exercise: the backward of SiLU")


def silu(x):
    """SiLU of a tensor, through the Function (so that it has a SiLUBackward node)."""
    return SiLU.apply(x)
