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

from rt_autograd._autograd import FunctionNode, _apply_classmethod, function_apply

__all__ = ["Function", "FunctionCtx", "once_differentiable"]

FunctionCtx = FunctionNode


class FunctionMeta(type):
    """Gives each Function subclass its node class, named ``<Name>Backward`` as in PyTorch
    (or the class's ``node_name``)."""

    def __init__(cls, name, bases, attrs):
        node_name = attrs.get("node_name") or name + "Backward"
        cls._backward_cls = type(node_name, (FunctionNode,), {"__module__": cls.__module__})
        super().__init__(name, bases, attrs)
        if "setup_context" in attrs and bases:
            # PyTorch 2 style: forward(*args) without ctx, then setup_context(ctx, inputs,
            # output) fills ctx
            cls.apply = classmethod(_apply_setup_context)


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
    def setup_context(ctx, inputs, output):
        """PyTorch 2 style: define this (and ``forward(*args)`` without ctx) to fill ctx from
        the inputs and the output."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    # apply(*args, **kwargs): Cython (the per-op cost of recording is a measured target)
    apply = classmethod(_apply_classmethod)

    @classmethod
    def _apply_with_kwargs(cls, args, kwargs):
        # PyTorch passes keyword arguments to forward as well; they get no gradient
        return function_apply(_KwForward(cls, kwargs), cls._backward_cls, args)


def _apply_setup_context(cls, *args, **kwargs):
    return function_apply(_SetupContextForward(cls, kwargs), cls._backward_cls, args)


class _SetupContextForward:
    __slots__ = ("cls", "kwargs")

    def __init__(self, cls, kwargs):
        self.cls = cls
        self.kwargs = kwargs

    def forward(self, ctx, *args):
        output = self.cls.forward(*args, **self.kwargs)
        self.cls.setup_context(ctx, args, output)
        return output

    def backward(self, ctx, *grads):
        return self.cls.backward(ctx, *grads)

    @property
    def node_name(self):
        return self.cls.node_name


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
    """Decorate a ``backward`` that is not itself differentiable: it runs without recording;
    when a graph of the gradient was asked for (``create_graph=True``), its results get a
    node that raises if differentiated (PyTorch's DelayedError)."""
    from rt_autograd._autograd import Tensor
    from rt_autograd.grad_mode import is_grad_enabled, no_grad

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            outputs = fn(ctx, *args)
        if not is_grad_enabled():
            return outputs
        if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            return outputs
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs

        def fake_requires_grad(v):
            if isinstance(v, Tensor):
                v = v.detach()
                v.requires_grad = True
            return v
        wrapped = _DelayedError.apply(*[fake_requires_grad(v) for v in outs])
        return wrapped if single or isinstance(wrapped, tuple) else (wrapped,)
    return wrapper


class _DelayedError(Function):
    node_name = "torch::autograd::Error"

    @staticmethod
    def forward(ctx, *outputs):
        return tuple(o.detach() if isinstance(o, Tensor_) else o for o in outputs) \
            if len(outputs) != 1 else (outputs[0].detach() if isinstance(outputs[0], Tensor_) else outputs[0])

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("trying to differentiate twice a function that was marked with "
                           "@once_differentiable")


from rt_autograd._autograd import Tensor as Tensor_  # noqa: E402
