"""RAdam, Adam with the variance of the adaptive learning rate rectified (Liu et al., "On the
Variance of the Adaptive Learning Rate and Beyond", ICLR 2020), optionally with AdamW's
decoupled weight decay (Loshchilov & Hutter, ICLR 2019), as ``torch.optim.RAdam``
(PyTorch 2.x)."""
import rt_autograd as rt

from rt_optim import _common, _fused_adaptive
from rt_optim._fused_adaptive import radam_rectification
from rt_optim.optimizer import Optimizer, _check_betas, _check_hyper

__all__ = ["RAdam", "radam_reference", "radam_rectification"]


class RAdam(Optimizer):
    """``torch.optim.RAdam``. Per parameter, with t the step count and d the gradient
    (negated with ``maximize``; plus ``weight_decay`` · p, or with
    ``decoupled_weight_decay`` p *= 1 - lr · weight_decay first):

        m = beta1 · m + (1 - beta1) · d           v = beta2 · v + (1 - beta2) · d²
        rho_inf = 2 / (1 - beta2) - 1             rho_t = rho_inf - 2·t·beta2^t / (1 - beta2^t)
        if rho_t > 5:
            r_t = sqrt((rho_t - 4)(rho_t - 2)·rho_inf / ((rho_inf - 4)(rho_inf - 2)·rho_t))
            p -= lr · m / (1 - beta1^t) · sqrt(1 - beta2^t) / (sqrt(v) + eps) · r_t
        else:
            p -= lr · m / (1 - beta1^t)                     (plain momentum SGD)

    With the default beta2 = 0.999, rho_t passes 5 at step 6: the first five steps are
    un-rectified (``radam_rectification(beta2, t)`` gives rho_t and r_t).
    A complex parameter is updated as the pairs of reals it holds (as PyTorch does).
    State per parameter: ``step`` (0-d float32 tensor), ``exp_avg``, ``exp_avg_sq``.
    ``foreach`` and ``capturable`` are accepted for PyTorch compatibility (one kernel call
    already updates a whole group; no graph capture on the CPU); ``differentiable=True`` runs
    the tensor-op formula under autograd.

    >>> import rt_autograd as rt, rt_optim
    >>> w = rt.zeros(2, requires_grad=True)
    >>> opt = rt_optim.RAdam([w], lr=0.1)
    >>> w.grad = rt.tensor([1.0, -2.0])
    >>> opt.step()                 # un-rectified: p -= lr · m / (1 - beta1) = lr · g
    >>> [round(v, 4) for v in w.tolist()]
    [-0.1, 0.2]
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        _check_hyper("learning rate", lr)
        _check_hyper("epsilon value", eps)
        _check_betas(betas)
        _check_hyper("weight_decay value", weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, group, param, state):
        state["step"] = _common.step_tensor()
        state["exp_avg"] = rt.zeros_like(param)
        state["exp_avg_sq"] = rt.zeros_like(param)

    def _update_group(self, group, params, grads, states):
        beta1, beta2 = (_common.scalar(b) for b in group["betas"])
        lists = [params, grads, [s["exp_avg"] for s in states],
                 [s["exp_avg_sq"] for s in states], [s["step"] for s in states]]
        hyper = dict(lr=_common.scalar(group["lr"]), beta1=beta1, beta2=beta2,
                     weight_decay=group["weight_decay"], eps=group["eps"],
                     decoupled=group["decoupled_weight_decay"], maximize=group["maximize"])
        _common.run(_fused_adaptive.radam, radam_reference, group, lists,
                    tuple(hyper.values()), hyper)


def radam_reference(params, grads, exp_avgs, exp_avg_sqs, steps, *, lr, beta1, beta2,
                    weight_decay, eps, decoupled, maximize):
    """The readable formula (tensor ops) that the fused kernel ``_fused_adaptive.radam``
    computes, in PyTorch's order of operations."""
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
        update = exp_avgs[i] / (1 - beta1 ** step) * lr
        _, rect = radam_rectification(beta2, step)
        if rect is not None:
            # PyTorch writes sqrt(1 - beta2^t) / (sqrt(v) + eps): a reciprocal times a number
            inverse_denom = exp_avg_sqs[i].sqrt().add(eps).reciprocal()
            adaptive_lr = inverse_denom * (1 - beta2 ** step) ** 0.5
            update = update * adaptive_lr * rect
        param.sub_(update)
