"""Differentiable unary math (exp, log, trig, ...)."""
from rt_autograd._ops._registry import register
from rt_autograd._ops._util import (Function, check_out, conj_if_complex, inplace, needs_grad,
                                    rtt)


class Exp(Function):
    node_name = "ExpBackward0"

    @staticmethod
    def forward(ctx, a):
        y = rtt.exp(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * conj_if_complex(y)


class Log(Function):
    node_name = "LogBackward0"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return rtt.log(a)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return g / conj_if_complex(a)


@register("exp")
def exp(input, *, out=None):
    if out is None and needs_grad(input):
        return Exp.apply(input)
    check_out("exp", out, input)
    return rtt.exp(input, out=out)


@register("exp_", function=False)
def exp_(self):
    return inplace(self, exp, (), None, rtt.Tensor.exp_)


@register("log")
def log(input, *, out=None):
    if out is None and needs_grad(input):
        return Log.apply(input)
    check_out("log", out, input)
    return rtt.log(input, out=out)


@register("log_", function=False)
def log_(self):
    return inplace(self, log, (), None, rtt.Tensor.log_)
