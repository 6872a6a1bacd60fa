"""Helpers shared by the optimizers: running the fused kernel with the reference formula as
the fallback, and the per-parameter state every Adam-like optimizer starts from."""
import rt_autograd as rt

from rt_optim import _fused


def use_reference(group):
    """The readable tensor-op formula instead of the fused kernel: asked for with
    ``fused=False``, or needed by ``differentiable=True`` (the update is then recorded by
    autograd)."""
    return group.get("fused") is False or group.get("differentiable", False)


def run(kernel, reference, group, lists, kernel_args, reference_kwargs):
    """Update one group: ``kernel(*lists, *kernel_args)`` for the tensors it takes, then
    ``reference(*sublists, **reference_kwargs)`` for those it skipped (not contiguous, not
    float32/float64) or for all of them when the group asks for the reference."""
    # PyTorch updates a complex parameter as the pairs of reals it holds (view_as_real of
    # parameter, gradient and state), for every optimizer
    lists = _fused.view_complex_as_real(lists)
    if use_reference(group):
        skipped = range(len(lists[0]))
    else:
        skipped = kernel(*lists, *kernel_args)
        if not skipped:
            return
    # grad mode is the step's: off, or on for a differentiable optimizer (Optimizer.step)
    sub = [None if lst is None else [lst[i] for i in skipped] for lst in lists]
    reference(*sub, **reference_kwargs)


def step_tensor():
    """``state['step']`` as PyTorch keeps it: a 0-d float32 tensor."""
    return rt.zeros((), dtype=rt.float32)


def scalar(value):
    """A hyper-parameter given as a 1-element tensor, as a Python float."""
    return value.item() if isinstance(value, rt.Tensor) else value
