"""``torch.autograd`` for rt: ``backward``, ``grad``, ``Function``, grad-mode switches,
``gradcheck``/``gradgradcheck`` and ``Variable``."""
import rt_tensor as _rtt

from rt_autograd._autograd import Node, Tensor, run_backward
from rt_autograd.function import Function, FunctionCtx, once_differentiable
from rt_autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled,
                                   is_inference_mode_enabled, no_grad, set_grad_enabled)
from rt_autograd.autograd import function, graph

__all__ = ["backward", "grad", "Function", "FunctionCtx", "once_differentiable", "Variable",
           "no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled", "gradcheck", "gradgradcheck", "graph", "function"]


def _as_tuple(x):
    if x is None:
        return None
    if isinstance(x, _rtt.Tensor):
        return (x,)
    return tuple(x)


def _make_grads(outputs, grads, is_grads_batched=False):
    """PyTorch's _make_grads: implicit ones for scalar outputs, shape and dtype checks for
    given ones."""
    from rt_autograd._autograd import as_autograd_tensor
    if grads is None:
        grads = (None,) * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError(f"Mismatch in number of gradients: got {len(grads)} gradients for "
                           f"{len(outputs)} outputs")
    result = []
    for i, (out, g) in enumerate(zip(outputs, grads)):
        if g is None:
            if out.requires_grad:
                if out.numel() != 1:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs")
                if not out.dtype.is_floating_point:
                    raise RuntimeError(f"grad can be implicitly created only for real scalar "
                                       f"outputs but got {out.dtype}")
                result.append(as_autograd_tensor(_rtt.ones_like(out)))
            else:
                result.append(None)
            continue
        if not isinstance(g, _rtt.Tensor):
            if isinstance(g, (int, float, bool, complex)):
                g = _rtt.tensor(g, dtype=out.dtype)
            else:
                raise TypeError(f"gradients can be either Tensors or None, but got "
                                f"{type(g).__name__}")
        if tuple(g.shape) != tuple(out.shape):
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                               f"{_size(g)} and output[{i}] has a shape of {_size(out)}.")
        if g.dtype.is_complex != out.dtype.is_complex:
            raise RuntimeError(f"For complex Tensors, both grad_output and output are required "
                               f"to have the same dtype. Mismatch in dtype: grad_output[{i}] "
                               f"has a dtype of {g.dtype} and output[{i}] has a dtype of "
                               f"{out.dtype}.")
        result.append(as_autograd_tensor(g))
    return tuple(result)


def _size(t):
    return "torch.Size([" + ", ".join(str(s) for s in t.shape) + "])"


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """Accumulate into the leaves' ``.grad`` the gradients of ``tensors`` (weighted by
    ``grad_tensors``), as ``torch.autograd.backward``."""
    if (grad_tensors is None and grad_variables is None and inputs is None
            and not create_graph and isinstance(tensors, _rtt.Tensor)
            and tensors.requires_grad and tensors.numel() == 1
            and tensors.dtype.is_floating_point):
        # loss.backward(): the one call of every training step, without the general path's
        # tuples and checks (they all pass for a scalar float output that requires grad)
        from rt_autograd._autograd import as_autograd_tensor
        run_backward((tensors,), (as_autograd_tensor(_rtt.ones_like(tensors)),),
                     bool(retain_graph), False, None, True, True)
        return
    if grad_variables is not None:
        if grad_tensors is not None:
            raise RuntimeError("'grad_tensors' and 'grad_variables' (deprecated) arguments "
                               "both passed to backward(). Please only use 'grad_tensors'.")
        grad_tensors = grad_variables
    tensors = _as_tuple(tensors)
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if len(inputs) == 0:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    grads = _make_grads(tensors, _as_tuple(grad_tensors))
    if retain_graph is None:
        retain_graph = create_graph
    roots = tuple(t for t, g in zip(tensors, grads) if g is not None or t.requires_grad)
    grads = tuple(g for t, g in zip(tensors, grads) if g is not None or t.requires_grad)
    if len(roots) != len(tensors):
        for i, t in enumerate(tensors):
            if not t.requires_grad:
                raise RuntimeError(f"element {i} of tensors does not require grad and does not "
                                   f"have a grad_fn")
    results = run_backward(roots, grads, bool(retain_graph), bool(create_graph), inputs,
                           True, True)
    if inputs is not None:
        # non-leaf inputs get their gradient accumulated into .grad too, as PyTorch does
        for t, g in zip(inputs, results):
            if g is None or t.grad_fn is None:
                continue
            if t._grad_or_none() is None:
                t.grad = g if create_graph else g.detach().clone()
            else:
                t.grad = t._grad_or_none() + g


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` w.r.t. ``inputs`` as a tuple, without touching ``.grad``
    (``torch.autograd.grad``)."""
    if is_grads_batched:
        raise RuntimeError("grad: is_grads_batched=True is not supported by rt_autograd")
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    if allow_unused is None:
        allow_unused = materialize_grads
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    grads = _make_grads(outputs, _as_tuple(grad_outputs))
    if retain_graph is None:
        retain_graph = create_graph
    for i, t in enumerate(outputs):
        if not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not "
                               f"have a grad_fn")
    results = run_backward(outputs, grads, bool(retain_graph), bool(create_graph), inputs,
                           bool(allow_unused), False)
    if materialize_grads:
        results = [_rtt.zeros_like(t) if g is None else g for t, g in zip(inputs, results)]
    return tuple(results)


def Variable(data, requires_grad=False, volatile=False):
    """Older code's ``Variable(t, requires_grad=...)``: returns a Tensor (a leaf sharing
    ``data``'s memory)."""
    from rt_autograd._autograd import Tensor as _T, as_autograd_tensor
    if not isinstance(data, _rtt.Tensor):
        raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
    t = as_autograd_tensor(data).detach()
    if requires_grad:
        t.requires_grad_(True)
    return t


def gradcheck(*args, **kwargs):
    from rt_autograd.testing import gradcheck as _gc
    return _gc(*args, **kwargs)


def gradgradcheck(*args, **kwargs):
    from rt_autograd.testing import gradgradcheck as _ggc
    return _ggc(*args, **kwargs)
