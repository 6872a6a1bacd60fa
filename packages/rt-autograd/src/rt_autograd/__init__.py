"""rt_autograd: the torch-like top level of rt. ``import rt_autograd as rt`` gives what
``import torch`` gives for CPU tensors: rt_tensor's factories, ops and dtypes, with
gradients. ``rt_autograd.Tensor`` subclasses ``rt_tensor.Tensor``; once this package is
imported every op returns it.

    >>> import rt_autograd as rt
    >>> x = rt.tensor(2.0, requires_grad=True)
    >>> y = rt.tensor(3.0, requires_grad=True)
    >>> z = x * y + x ** 2
    >>> z.backward()
    >>> x.grad, y.grad
    (tensor(7.), tensor(2.))
"""
import rt_tensor as _rtt
from rt_tensor import *  # noqa: F401,F403  (every factory, op and dtype of rt_tensor)
from rt_tensor import _tensor as _rtt_tensor

from rt_autograd._autograd import (Tensor, _install_methods, _register_operator_functions,
                                   _register_operator_ops)

# every rt_tensor op now creates rt_autograd Tensors
_rtt_tensor._set_tensor_class(Tensor)

from rt_autograd import _ops  # noqa: E402
from rt_autograd import autograd, testing  # noqa: E402
from rt_autograd.autograd import Variable  # noqa: E402
from rt_autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled,  # noqa: E402
                                   is_inference_mode_enabled, no_grad, set_grad_enabled)

_install_methods(dict(_ops.METHODS))
_register_operator_ops({**_ops.FUNCTIONS, **_ops.METHODS})
# `a + b` and friends apply their Function directly: the per-op cost of recording is a
# first-class figure (docs/performance.md)
_register_operator_functions({
    "add": (_ops.arith.Add, (1,)), "sub": (_ops.arith.Sub, (1,)), "mul": (_ops.arith.Mul, ()),
    "div": (_ops.arith.Div, (None,)), "pow": (_ops.arith.Pow, ()),
    "neg": (_ops.arith.Neg, ()), "matmul": (_ops.linalg.Matmul, ())})
globals().update({k: v for k, v in _ops.FUNCTIONS.items() if not k.startswith("_")})

__version__ = "0.1.0"

__all__ = sorted(set(_rtt.__all__) | {k for k in _ops.FUNCTIONS if not k.startswith("_")} | {
    "Tensor", "autograd", "testing", "Variable", "no_grad", "enable_grad", "set_grad_enabled",
    "inference_mode", "is_grad_enabled", "is_inference_mode_enabled"})
