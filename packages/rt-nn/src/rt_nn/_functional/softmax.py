"""Softmax family of ``torch.nn.functional``: ``softmax``, ``log_softmax``, ``softmin``.

The math (kernels and their gradients) is rt_autograd's ``softmax``/``log_softmax``
(rt_autograd/_ops/softmax.py); this module adds PyTorch's deprecated implicit ``dim``.
"""
import warnings

from rt_autograd._ops.softmax import _Softmax, _wrap_dim  # noqa: F401  (used by loss.py)
from rt_autograd._ops.softmax import apply_softmax as _apply

__all__ = ["softmax", "log_softmax", "softmin"]


def _get_softmax_dim(name, ndim, stacklevel):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. "
                  "Change the call to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    r"""Softmax over ``dim``: :math:`\exp(x_i) / \sum_j \exp(x_j)`. ``dtype`` casts the input
    first. ``dim=None`` is PyTorch's deprecated implicit choice (0 for 0-, 1- and 3-d inputs,
    else 1), with its warning."""
    if dim is None:
        dim = _get_softmax_dim("softmax", input.dim(), _stacklevel)
    return _apply(input, dim, dtype, False)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) over ``dim``, computed as ``x - max - log(sum(exp(x - max)))``."""
    if dim is None:
        dim = _get_softmax_dim("log_softmax", input.dim(), _stacklevel)
    return _apply(input, dim, dtype, True)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) over ``dim``."""
    if dim is None:
        dim = _get_softmax_dim("softmin", input.dim(), _stacklevel)
    return _apply(-input, dim, dtype, False)
