"""``autograd.Function``: user-defined differentiable operations, PyTorch's API.

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            y, = ctx.saved_tensors
            return grad * y

    z = Exp.apply(x)

``ctx`` is the graph node itself (a ``FunctionNode``): ``save_for_backward``,
``saved_tensors``, ``needs_input_grad``, ``mark_dirty``, ``mark_non_differentiable``,
``set_materialize_grads``, and any attribute you set. rt's own ops are Functions too
(rt_autograd/_ops), so this is the one pattern for adding a differentiable op.
"""
import functools

from rt_autograd._autograd import FunctionNode, function_apply

__all__ = ["Function", "FunctionCtx", "once_differentiable"]

FunctionCtx = FunctionNode


class FunctionMeta(type):
    """Gives each Function subclass its node class, named ``<Name>Backward`` as in PyTorch
    (or the class's ``node_name``)."""

    def __init__(cls, name, bases, attrs):
        node_name = attrs.get("node_name") or name + "Backward"
        cls._backward_cls = type(node_name, (FunctionNode,), {"__module__": cls.__module__})
        super().__init__(name, bases, attrs)


class Function(metaclass=FunctionMeta):
    """Base class of differentiable operations: define ``forward(ctx, *args)`` and
    ``backward(ctx, *grad_outputs)`` as static methods, call ``apply(*args)``."""

    node_name = None

    def __init__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is "
                           "deprecated. Please use new-style autograd function with static "
                           "forward method. (Example: "
                           "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        if kwargs:
            # PyTorch passes keyword arguments to forward as well; they get no gradient
            return function_apply(_KwForward(cls, kwargs), cls._backward_cls, args)
        return function_apply(cls, cls._backward_cls, args)


class _KwForward:
    __slots__ = ("cls", "kwargs")

    def __init__(self, cls, kwargs):
        self.cls = cls
        self.kwargs = kwargs

    def forward(self, ctx, *args):
        return self.cls.forward(ctx, *args, **self.kwargs)

    def backward(self, ctx, *grads):
        return self.cls.backward(ctx, *grads)

    @property
    def node_name(self):
        return self.cls.node_name


def once_differentiable(fn):
    """Decorate a ``backward`` that is not itself differentiable: it runs without recording,
    and a second-order use of its result raises."""
    from rt_autograd.grad_mode import no_grad

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            outputs = fn(ctx, *args)
        return outputs
    return wrapper
