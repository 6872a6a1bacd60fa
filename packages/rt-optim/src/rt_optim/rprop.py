"""Rprop, resilient backpropagation (Riedmiller & Braun, "A Direct Adaptive Method for Faster
Backpropagation Learning: The RPROP Algorithm", IEEE ICNN 1993), as ``torch.optim.Rprop``
(PyTorch 2.x)."""
import rt_autograd as rt

from rt_optim import _common, _fused_classic
from rt_optim.optimizer import Optimizer, _check_hyper

__all__ = ["Rprop", "rprop_reference"]


class Rprop(Optimizer):
    """``torch.optim.Rprop``. Per element, with d the gradient (negated with ``maximize``)
    and ``etas = (etaminus, etaplus)``, ``step_sizes = (min, max)``:

        d · prev > 0:  step_size = min(step_size · etaplus, max)
        d · prev < 0:  step_size = max(step_size · etaminus, min), and d = 0 (no move now,
                       and no sign change to react to on the next step)
        otherwise:     step_size unchanged (clamped to [min, max])
        p -= sign(d) · step_size;  prev = d

    Only the sign of the gradient is used. ``step_size`` starts at ``lr``.
    State per parameter: ``step`` (0-d float32 tensor), ``prev``, ``step_size``.

    >>> import rt_autograd as rt, rt_optim
    >>> w = rt.zeros(1, requires_grad=True)
    >>> opt = rt_optim.Rprop([w], lr=0.1)
    >>> for g in (3.0, 5.0, -1.0):      # same sign: the step grows by 1.2; a sign change
    ...     w.grad = rt.tensor([g])     # halves it and skips the move
    ...     opt.step()
    >>> round(w.item(), 4), round(opt.state[w]["step_size"].item(), 4)
    (-0.22, 0.06)
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_hyper("learning rate", lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, group, param, state):
        state["step"] = _common.step_tensor()
        state["prev"] = rt.zeros_like(param)
        # PyTorch shapes it after the gradient (the same shape and dtype as the parameter); a
        # complex parameter is two independent reals, so both parts start at lr
        lr = _common.scalar(group["lr"])
        state["step_size"] = rt.full_like(param.grad, complex(lr, lr) if param.is_complex()
                                          else lr)

    def _update_group(self, group, params, grads, states):
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        lists = [params, grads, [s["prev"] for s in states], [s["step_size"] for s in states],
                 [s["step"] for s in states]]
        hyper = dict(etaminus=etaminus, etaplus=etaplus, step_size_min=step_size_min,
                     step_size_max=step_size_max, maximize=group["maximize"])
        _common.run(_fused_classic.rprop, rprop_reference, group, lists, tuple(hyper.values()),
                    hyper)


def rprop_reference(params, grads, prevs, step_sizes, steps, *, etaminus, etaplus,
                    step_size_min, step_size_max, maximize):
    """The readable formula (tensor ops) that the fused kernel ``_fused_classic.rprop``
    computes."""
    for i, (param, grad) in enumerate(zip(params, grads)):
        d = -grad if maximize else grad
        steps[i] += 1
        prev, step_size = prevs[i], step_sizes[i]
        # the factor tensor in the parameter's dtype, built as PyTorch builds it
        factor = d.mul(prev).sign()
        factor = factor.masked_fill(factor.gt(0), etaplus)
        factor = factor.masked_fill(factor.lt(0), etaminus)
        factor = factor.masked_fill(factor.eq(0), 1)
        step_size.mul_(factor).clamp_(step_size_min, step_size_max)
        d = d.masked_fill(factor.eq(etaminus), 0)
        param.addcmul_(d.sign(), step_size, value=-1)
        prev.copy_(d)
