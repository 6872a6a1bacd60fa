"""Adamax, the infinity-norm variant of Adam (Kingma & Ba, "Adam: A Method for Stochastic
Optimization", ICLR 2015, section 7.1), as ``torch.optim.Adamax`` (PyTorch 2.x)."""
import rt_autograd as rt

from rt_optim import _common, _fused_adaptive
from rt_optim.optimizer import Optimizer, _check_betas, _check_hyper

__all__ = ["Adamax", "adamax_reference"]


class Adamax(Optimizer):
    """``torch.optim.Adamax``. Per parameter, with t the step count and d the gradient
    (negated with ``maximize``) plus ``weight_decay`` · p:

        m = beta1 · m + (1 - beta1) · d           u = max(beta2 · u, |d| + eps)
        p -= lr / (1 - beta1^t) · m / u

    A complex parameter is updated as the pairs of reals it holds (as PyTorch does).
    State per parameter: ``step`` (0-d float32 tensor), ``exp_avg`` (m), ``exp_inf`` (u).
    ``foreach`` and ``capturable`` are accepted for PyTorch compatibility; the fused kernel
    already updates every tensor of a group in one call, and there is no graph capture on
    the CPU. ``differentiable=True`` runs the tensor-op formula under autograd.

    >>> import rt_autograd as rt, rt_optim
    >>> w = rt.zeros(2, requires_grad=True)
    >>> opt = rt_optim.Adamax([w], lr=0.1)
    >>> w.grad = rt.tensor([1.0, -2.0])
    >>> opt.step()
    >>> [round(v, 4) for v in w.tolist()]     # the first step moves each weight by lr
    [-0.1, 0.1]
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _check_hyper("learning rate", lr)
        _check_hyper("epsilon value", eps)
        _check_betas(betas)
        _check_hyper("weight_decay value", weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, group, param, state):
        state["step"] = _common.step_tensor()
        state["exp_avg"] = rt.zeros_like(param)
        state["exp_inf"] = rt.zeros_like(param)

    def _update_group(self, group, params, grads, states):
        beta1, beta2 = (_common.scalar(b) for b in group["betas"])
        lists = [params, grads, [s["exp_avg"] for s in states],
                 [s["exp_inf"] for s in states], [s["step"] for s in states]]
        hyper = dict(lr=_common.scalar(group["lr"]), beta1=beta1, beta2=beta2,
                     eps=group["eps"], weight_decay=group["weight_decay"],
                     maximize=group["maximize"])
        _common.run(_fused_adaptive.adamax, adamax_reference, group, lists,
                    tuple(hyper.values()), dict(hyper, differentiable=group["differentiable"]))


def adamax_reference(params, grads, exp_avgs, exp_infs, steps, *, lr, beta1, beta2, eps,
                     weight_decay, maximize, differentiable=False):
    """The readable formula (tensor ops) that the fused kernel ``_fused_adaptive.adamax``
    computes, in PyTorch's order of operations."""
    for i, (param, grad) in enumerate(zip(params, grads)):
        d = -grad if maximize else grad
        steps[i] += 1
        step = steps[i].item()
        if weight_decay != 0:
            d = d.add(param, alpha=weight_decay)
        exp_avgs[i].lerp_(d, 1 - beta1)
        exp_inf = exp_infs[i].mul_(beta2)
        bound = d.abs().add(eps)
        if differentiable:
            # maximum(out=) would overwrite a tensor autograd saved: reduce a stacked copy
            exp_inf.copy_(rt.amax(rt.cat([exp_inf.unsqueeze(0), bound.unsqueeze(0)], 0), 0))
        else:
            rt.maximum(exp_inf, bound, out=exp_inf)
        param.addcdiv_(exp_avgs[i], exp_infs[i], value=-(lr / (1 - beta1 ** step)))
