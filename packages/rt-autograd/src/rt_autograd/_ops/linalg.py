"""Differentiable matrix products."""
from rt_autograd._ops._registry import register
from rt_autograd._ops._util import Function, check_out, conj_if_complex, needs_grad, rtt


def _mH(t):
    return conj_if_complex(t.transpose(-2, -1))


class Matmul(Function):
    """``matmul`` with PyTorch's 1-D and batch-broadcasting rules; the gradient of each
    operand is the product with the other's conjugate transpose, reduced over broadcast
    batch dims by the engine."""
    node_name = "MmBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        ctx.a_dim, ctx.b_dim = a.dim(), b.dim()
        return rtt.matmul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ad, bd = ctx.a_dim, ctx.b_dim
        ga = gb = None
        if ad == 1 and bd == 1:
            ga = g * conj_if_complex(b) if ctx.needs_input_grad[0] else None
            gb = g * conj_if_complex(a) if ctx.needs_input_grad[1] else None
            return ga, gb
        # promote 1-D operands to matrices as matmul does, then undo
        g2 = g
        a2 = a.unsqueeze(0) if a is not None and ad == 1 else a
        b2 = b.unsqueeze(-1) if b is not None and bd == 1 else b
        if ad == 1:
            g2 = g2.unsqueeze(-2)
        if bd == 1:
            g2 = g2.unsqueeze(-1)
        if ctx.needs_input_grad[0]:
            ga = g2 @ _mH(b2)
            if ad == 1:
                ga = ga.squeeze(-2)
                if ga.dim() > 1:
                    ga = ga.reshape(-1, ga.shape[-1]).sum(0)
        if ctx.needs_input_grad[1]:
            gb = _mH(a2) @ g2
            if bd == 1:
                gb = gb.squeeze(-1)
                if gb.dim() > 1:
                    gb = gb.reshape(-1, gb.shape[-1]).sum(0)
        return ga, gb


@register("matmul")
def matmul(input, other, *, out=None):
    if out is None and needs_grad(input, other):
        return Matmul.apply(input, other)
    check_out("matmul", out, input, other)
    return rtt.matmul(input, other, out=out)
