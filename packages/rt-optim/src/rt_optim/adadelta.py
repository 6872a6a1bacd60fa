"""Adadelta (Zeiler, "ADADELTA: An Adaptive Learning Rate Method", arXiv:1212.5701, 2012), as
``torch.optim.Adadelta`` (PyTorch 2.x)."""
import rt_autograd as rt

from rt_optim import _common, _fused_classic
from rt_optim.optimizer import Optimizer, _check_hyper

__all__ = ["Adadelta", "adadelta_reference"]


class Adadelta(Optimizer):
    """``torch.optim.Adadelta``. Per parameter, with d the gradient (negated with
    ``maximize``) plus ``weight_decay`` · p:

        v = rho · v + (1 - rho) · d²
        Δ = sqrt(u + eps) / sqrt(v + eps) · d
        u = rho · u + (1 - rho) · Δ²
        p -= lr · Δ

    State per parameter: ``step`` (0-d float32 tensor), ``square_avg`` (v), ``acc_delta``
    (u).

    >>> import rt_autograd as rt, rt_optim
    >>> w = rt.zeros(2, requires_grad=True)
    >>> opt = rt_optim.Adadelta([w], lr=1.0, rho=0.0, eps=1e-4)
    >>> w.grad = rt.tensor([1.0, -2.0])
    >>> opt.step()                      # rho = 0: Δ = sqrt(eps) · d / sqrt(d² + eps)
    >>> [round(v, 4) for v in w.tolist()]
    [-0.01, 0.01]
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        _check_hyper("learning rate", lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_hyper("epsilon value", eps)
        _check_hyper("weight_decay value", weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, group, param, state):
        state["step"] = _common.step_tensor()
        state["square_avg"] = rt.zeros_like(param)
        state["acc_delta"] = rt.zeros_like(param)

    def _update_group(self, group, params, grads, states):
        lists = [params, grads, [s["square_avg"] for s in states],
                 [s["acc_delta"] for s in states], [s["step"] for s in states]]
        hyper = dict(lr=_common.scalar(group["lr"]), rho=group["rho"], eps=group["eps"],
                     weight_decay=group["weight_decay"], maximize=group["maximize"])
        _common.run(_fused_classic.adadelta, adadelta_reference, group, lists,
                    tuple(hyper.values()), hyper)


def adadelta_reference(params, grads, square_avgs, acc_deltas, steps, *, lr, rho, eps,
                       weight_decay, maximize):
    """The readable formula (tensor ops) that the fused kernel ``_fused_classic.adadelta``
    computes."""
    for i, (param, grad) in enumerate(zip(params, grads)):
        steps[i] += 1
        d = -grad if maximize else grad
        if weight_decay != 0:
            d = d.add(param, alpha=weight_decay)
        square_avg, acc_delta = square_avgs[i], acc_deltas[i]
        square_avg.mul_(rho).addcmul_(d, d, value=1 - rho)
        std = square_avg.add(eps).sqrt_()
        delta = acc_delta.add(eps).sqrt_().div(std).mul(d)
        acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        param.add_(delta, alpha=-lr)
