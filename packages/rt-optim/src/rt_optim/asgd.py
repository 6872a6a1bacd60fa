"""ASGD, averaged stochastic gradient descent (Polyak & Juditsky, "Acceleration of Stochastic
Approximation by Averaging", SIAM J. Control and Optimization 30(4), 1992), as
``torch.optim.ASGD`` (PyTorch 2.x)."""
import rt_autograd as rt

from rt_optim import _common, _fused_classic
from rt_optim.optimizer import Optimizer, _check_hyper

__all__ = ["ASGD", "asgd_reference"]


class ASGD(Optimizer):
    """``torch.optim.ASGD``. Per parameter, with t the step count and d the gradient (negated
    with ``maximize``) plus ``weight_decay`` · p:

        p = p · (1 - lambd · eta) - eta · d
        ax = p                      while mu == 1 (steps t <= t0 + 2)
        ax += mu · (p - ax)         afterwards: the running average of the iterates
        eta = lr / (1 + lambd · lr · t)^alpha        mu = 1 / max(1, t - t0)

    The parameter follows the SGD iterates; ``state[p]['ax']`` holds their average (from
    step t0 on), the estimate the paper recommends using. ``eta`` and ``mu`` are 0-d float32
    tensors, as PyTorch keeps them; their values are rounded to float32, also for float64
    parameters and after ``load_state_dict`` made them float64 (as in PyTorch).
    State per parameter: ``step`` (0-d float32 tensor), ``eta``, ``mu``, ``ax``.

    >>> import rt_autograd as rt, rt_optim
    >>> w = rt.ones(2, dtype=rt.float64, requires_grad=True)
    >>> opt = rt_optim.ASGD([w], lr=0.1, lambd=0.0, t0=0)
    >>> for _ in range(3):
    ...     w.grad = rt.ones(2, dtype=rt.float64)
    ...     opt.step()
    >>> # p: 0.9, 0.8, 0.7; ax copies p for two steps, then averages 0.8 and 0.7
    >>> round(w[0].item(), 6), round(opt.state[w]["ax"][0].item(), 6)
    (0.7, 0.75)
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        _check_hyper("learning rate", lr)
        _check_hyper("weight_decay value", weight_decay)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, group, param, state):
        state["step"] = _common.step_tensor()
        state["eta"] = rt.tensor(_common.scalar(group["lr"]), dtype=rt.float32)
        state["mu"] = rt.ones((), dtype=rt.float32)
        state["ax"] = rt.zeros_like(param)

    def _update_group(self, group, params, grads, states):
        lists = [params, grads, [s["ax"] for s in states], [s["mu"] for s in states],
                 [s["eta"] for s in states], [s["step"] for s in states]]
        hyper = dict(lr=_common.scalar(group["lr"]), lambd=group["lambd"],
                     alpha=group["alpha"], t0=group["t0"], weight_decay=group["weight_decay"],
                     maximize=group["maximize"])
        _common.run(_fused_classic.asgd, asgd_reference, group, lists, tuple(hyper.values()),
                    hyper)


def asgd_reference(params, grads, axs, mus, etas, steps, *, lr, lambd, alpha, t0,
                   weight_decay, maximize):
    """The readable formula (tensor ops) that the fused kernel ``_fused_classic.asgd``
    computes."""
    for i, (param, grad) in enumerate(zip(params, grads)):
        d = -grad if maximize else grad
        steps[i] += 1
        if weight_decay != 0:
            d = d.add(param, alpha=weight_decay)
        eta = etas[i].item()
        param.mul_(1 - lambd * eta)
        param.add_(d, alpha=-eta)
        ax = axs[i]
        if mus[i].item() != 1:
            ax.add_(param.sub(ax).mul_(mus[i]))
        else:
            ax.copy_(param)
        step = steps[i].item()
        # as PyTorch: a tensor of the default dtype (float32) made from the Python float, then
        # copied in, so the value is rounded to float32 even when eta is float64 (after
        # load_state_dict cast it to a float64 parameter's dtype)
        etas[i].copy_(rt.tensor(lr / ((1 + lambd * lr * step) ** alpha)))
        mus[i].copy_(rt.tensor(1 / max(1, step - t0)))
