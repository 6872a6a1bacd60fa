"""Adam (Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015; AMSGrad from
Reddi et al., "On the Convergence of Adam and Beyond", ICLR 2018) and AdamW (Loshchilov &
Hutter, "Decoupled Weight Decay Regularization", ICLR 2019), as ``torch.optim.Adam`` and
``torch.optim.AdamW`` (PyTorch 2.x)."""
import math

import rt_autograd as rt

from rt_optim import _common, _fused
from rt_optim.optimizer import Optimizer, _check_betas, _check_hyper

__all__ = ["Adam", "AdamW", "adam_reference"]


class Adam(Optimizer):
    """``torch.optim.Adam``. Per parameter, with t the step count and d the gradient
    (negated with ``maximize``; plus ``weight_decay`` · p unless the decay is decoupled, in
    which case p *= 1 - lr · weight_decay first):

        m = beta1 · m + (1 - beta1) · d           v = beta2 · v + (1 - beta2) · d²
        p -= lr / (1 - beta1^t) · m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    with ``amsgrad``, the running maximum of v replaces v in the denominator.
    State per parameter: ``step`` (0-d float32 tensor), ``exp_avg``, ``exp_avg_sq``,
    ``max_exp_avg_sq`` (amsgrad).

    >>> import rt_autograd as rt, rt_optim
    >>> w = rt.zeros(2, requires_grad=True)
    >>> opt = rt_optim.Adam([w], lr=0.1)
    >>> w.grad = rt.tensor([1.0, -2.0])
    >>> opt.step()
    >>> [round(v, 4) for v in w.tolist()]     # the first step moves each weight by lr
    [-0.1, 0.1]
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        _check_hyper("learning rate", lr)
        _check_hyper("epsilon value", eps)
        _check_betas(betas)
        _check_hyper("weight_decay value", weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _init_state(self, group, param, state):
        state["step"] = _common.step_tensor()
        state["exp_avg"] = rt.zeros_like(param)
        state["exp_avg_sq"] = rt.zeros_like(param)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = rt.zeros_like(param)

    def _update_group(self, group, params, grads, states):
        amsgrad = group["amsgrad"]
        beta1, beta2 = (_common.scalar(b) for b in group["betas"])
        lr = _common.scalar(group["lr"])
        lists = [params, grads, [s["exp_avg"] for s in states],
                 [s["exp_avg_sq"] for s in states],
                 [s["max_exp_avg_sq"] for s in states] if amsgrad else None,
                 [s["step"] for s in states]]
        hyper = dict(lr=lr, beta1=beta1, beta2=beta2, weight_decay=group["weight_decay"],
                     eps=group["eps"], amsgrad=amsgrad, maximize=group["maximize"],
                     decoupled=group["decoupled_weight_decay"])
        _common.run(_fused.adam, adam_reference, group, lists, tuple(hyper.values()), hyper)


class AdamW(Adam):
    """``torch.optim.AdamW``: Adam with decoupled weight decay (p *= 1 - lr · weight_decay
    before the Adam step), default ``weight_decay=1e-2``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)


def adam_reference(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, *, lr,
                   beta1, beta2, weight_decay, eps, amsgrad, maximize, decoupled):
    """The readable formula (tensor ops) that the fused kernel ``_fused.adam`` computes."""
    for i, (param, grad) in enumerate(zip(params, grads)):
        d = -grad if maximize else grad
        steps[i] += 1
        step = steps[i].item()
        if weight_decay != 0:
            if decoupled:
                param.mul_(1 - lr * weight_decay)
            else:
                d = d.add(param, alpha=weight_decay)
        exp_avgs[i].lerp_(d, 1 - beta1)
        exp_avg_sqs[i].mul_(beta2).addcmul_(d, d, value=1 - beta2)
        v = exp_avg_sqs[i]
        if amsgrad:
            rt.maximum(max_exp_avg_sqs[i], v, out=max_exp_avg_sqs[i])
            v = max_exp_avg_sqs[i]
        step_size = lr / (1 - beta1 ** step)
        denom = (v.sqrt() / math.sqrt(1 - beta2 ** step)).add_(eps)
        param.addcdiv_(exp_avgs[i], denom, value=-step_size)
