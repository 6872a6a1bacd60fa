"""Factories: rt_tensor's, plus ``requires_grad=`` (only float and complex dtypes)."""
import functools

from rt_autograd._ops._registry import register
from rt_autograd._ops._util import rtt

# rt_tensor factories that take PyTorch's requires_grad argument
FACTORIES = ["tensor", "zeros", "ones", "empty", "full", "arange", "range", "linspace",
             "logspace", "eye", "rand", "randn", "randint", "randperm", "zeros_like",
             "ones_like", "empty_like", "full_like", "rand_like", "randn_like", "randint_like",
             "empty_strided", "scalar_tensor", "asarray", "frombuffer"]


def _with_requires_grad(fn):
    @functools.wraps(fn)
    def factory(*args, requires_grad=False, **kwargs):
        t = fn(*args, **kwargs)
        if requires_grad:
            t.requires_grad_(True)
        return t
    return factory


for _name in FACTORIES:
    if hasattr(rtt, _name):
        register(_name, method=False)(_with_requires_grad(getattr(rtt, _name)))
