"""NAdam, Adam with Nesterov momentum (Dozat, "Incorporating Nesterov Momentum into Adam",
ICLR 2016 workshop), with the momentum schedule mu_t = beta1 · (1 - ½ · 0.96^(t·psi)) and
optionally AdamW's decoupled weight decay (Loshchilov & Hutter, ICLR 2019), as
``torch.optim.NAdam`` (PyTorch 2.x)."""
import rt_autograd as rt

from rt_optim import _common, _fused_adaptive
from rt_optim.optimizer import Optimizer, _check_betas, _check_hyper

__all__ = ["NAdam", "nadam_reference"]


class NAdam(Optimizer):
    """``torch.optim.NAdam``. Per parameter, with t the step count, psi ``momentum_decay``
    and d the gradient (negated with ``maximize``; plus ``weight_decay`` · p, or with
    ``decoupled_weight_decay`` p *= 1 - lr · weight_decay first):

        mu_t = beta1 · (1 - ½ · 0.96^(t·psi))      mu_product = mu_1 · ... · mu_t
        m = beta1 · m + (1 - beta1) · d             v = beta2 · v + (1 - beta2) · d²
        denom = sqrt(v / (1 - beta2^t)) + eps
        p -= lr · (1 - mu_t) / (1 - mu_product) · d / denom
        p -= lr · mu_{t+1} / (1 - mu_product · mu_{t+1}) · m / denom

    A complex parameter is updated as the pairs of reals it holds (as PyTorch does).
    State per parameter: ``step`` and ``mu_product`` (0-d float32 tensors, as PyTorch keeps
    them: the product is rounded to float32 after every step, which PyTorch's numbers
    include), ``exp_avg`` (m), ``exp_avg_sq`` (v). ``foreach`` and ``capturable`` are
    accepted for PyTorch compatibility (one kernel call already updates a whole group; no
    graph capture on the CPU); ``differentiable=True`` runs the tensor-op formula under
    autograd.

    >>> import rt_autograd as rt, rt_optim
    >>> w = rt.zeros(2, requires_grad=True)
    >>> opt = rt_optim.NAdam([w], lr=0.1)
    >>> w.grad = rt.tensor([1.0, -2.0])
    >>> opt.step()                 # lr, plus the look-ahead of the momentum
    >>> [round(v, 4) for v in w.tolist()]
    [-0.1056, 0.1056]
    >>> opt.state[w]["mu_product"].dtype == rt.float32
    True
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        _check_hyper("learning rate", lr)
        _check_hyper("epsilon value", eps)
        _check_betas(betas)
        _check_hyper("weight_decay value", weight_decay)
        _check_hyper("momentum_decay value", momentum_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, group, param, state):
        state["step"] = _common.step_tensor()
        state["mu_product"] = rt.ones((), dtype=rt.float32)
        state["exp_avg"] = rt.zeros_like(param)
        state["exp_avg_sq"] = rt.zeros_like(param)

    def _update_group(self, group, params, grads, states):
        beta1, beta2 = (_common.scalar(b) for b in group["betas"])
        lists = [params, grads, [s["exp_avg"] for s in states],
                 [s["exp_avg_sq"] for s in states], [s["mu_product"] for s in states],
                 [s["step"] for s in states]]
        hyper = dict(lr=_common.scalar(group["lr"]), beta1=beta1, beta2=beta2,
                     weight_decay=group["weight_decay"], momentum_decay=group["momentum_decay"],
                     eps=group["eps"], decoupled=group["decoupled_weight_decay"],
                     maximize=group["maximize"])
        _common.run(_fused_adaptive.nadam, nadam_reference, group, lists,
                    tuple(hyper.values()), dict(hyper, differentiable=group["differentiable"]))


def nadam_reference(params, grads, exp_avgs, exp_avg_sqs, mu_products, steps, *, lr, beta1,
                    beta2, weight_decay, momentum_decay, eps, decoupled, maximize,
                    differentiable=False):
    """The readable formula (tensor ops) that the fused kernel ``_fused_adaptive.nadam``
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
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
        mu_product = mu_products[i].mul_(mu).item()     # rounded in the tensor's dtype
        exp_avgs[i].lerp_(d, 1 - beta1)
        exp_avg_sqs[i].mul_(beta2).addcmul_(d, d, value=1 - beta2)
        denom = exp_avg_sqs[i].div(1 - beta2 ** step).sqrt().add(eps)
        if differentiable:
            # as PyTorch's differentiable path: the coefficients are 0-d tensors autograd
            # follows, computed in mu_product's dtype (float32), hence rounded there; a
            # number divided by a tensor is Tensor.__rtruediv__ in PyTorch, a reciprocal
            # times the number
            mu_product_next = mu_products[i] * mu_next
            grad_coeff = (1.0 - mu_products[i]).reciprocal() * (-lr * (1.0 - mu))
            avg_coeff = (1.0 - mu_product_next).reciprocal() * (-lr * mu_next)
            param.addcdiv_(d * grad_coeff, denom)
            param.addcdiv_(exp_avgs[i] * avg_coeff, denom)
        else:
            param.addcdiv_(d, denom, value=-lr * (1.0 - mu) / (1.0 - mu_product))
            param.addcdiv_(exp_avgs[i], denom,
                           value=(-lr * mu_next) / (1.0 - mu_product * mu_next))
