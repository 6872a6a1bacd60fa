"""Gradient clipping (``torch.nn.utils.clip_grad``): ``clip_grad_norm_`` (returns the total
norm), ``clip_grad_value_``, ``get_total_norm``, ``clip_grads_with_norm_``. ``foreach`` is
accepted and ignored (rt has one CPU path)."""
import functools
import types
import warnings

import rt_autograd as rt

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_"]


def _no_grad(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with rt.no_grad():
            return func(*args, **kwargs)
    return wrapper


def _as_list(tensors):
    if isinstance(tensors, rt.Tensor):
        return [tensors]
    return list(tensors)


@_no_grad
def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of all ``tensors`` together (as if concatenated into one
    vector): the norm of the per-tensor norms. A 0-D tensor of the tensors' dtype (float32
    0.0 for none)."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if len(tensors) == 0:
        return rt.tensor(0.0)
    first = tensors[0]
    norms = [rt.norm(t, norm_type) for t in tensors]
    total_norm = rt.norm(rt.stack([n.to(first.dtype) for n in norms]), norm_type)
    if error_if_nonfinite and bool(total_norm.isnan() | total_norm.isinf()):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    return total_norm


@_no_grad
def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scales every gradient by min(1, max_norm / (total_norm + 1e-6)), in place."""
    parameters = _as_list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    max_norm = float(max_norm)
    if len(grads) == 0:
        return
    clip_coef = max_norm / (total_norm + 1e-6)
    clip_coef_clamped = rt.clamp(clip_coef, max=1.0)
    for g in grads:
        g.mul_(clip_coef_clamped.to(g.dtype))


@_no_grad
def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Clips the gradients of ``parameters`` (a tensor or an iterable of tensors) so that
    their total ``norm_type``-norm (``math.inf`` for the max-abs norm) is at most ``max_norm``;
    returns the total norm before clipping. Non-finite totals raise when
    ``error_if_nonfinite``.

    >>> p = rt.zeros(2, requires_grad=True); p.grad = rt.tensor([3.0, 4.0])
    >>> float(clip_grad_norm_([p], 1.0))
    5.0
    """
    if isinstance(parameters, rt.Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and len(parameters) == 0:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                          stacklevel=3)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                   foreach=None):
    """Deprecated: use :func:`clip_grad_norm_`."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


@_no_grad
def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamps every gradient of ``parameters`` to [-clip_value, clip_value], in place."""
    if isinstance(parameters, rt.Tensor):
        parameters = [parameters]
    clip_value = float(clip_value)
    for p in parameters:
        if p.grad is not None:
            p.grad.clamp_(min=-clip_value, max=clip_value)


