"""Lion, "EvoLved Sign Momentum" (Chen et al., "Symbolic Discovery of Optimization
Algorithms", NeurIPS 2023, arXiv:2302.06675, Algorithm 2). Not in PyTorch; its arguments
follow PyTorch's conventions (``maximize``, ``foreach``, ``differentiable``)."""
import rt_autograd as rt

from rt_optim import _common, _fused_adaptive
from rt_optim.optimizer import Optimizer, _check_betas, _check_hyper

__all__ = ["Lion", "lion_reference"]


class Lion(Optimizer):
    """Lion (Chen et al. 2023, Algorithm 2). Per parameter, with d the gradient (negated with
    ``maximize``):

        c = beta1 · m + (1 - beta1) · d
        p -= lr · (sign(c) + weight_decay · p)        (decoupled weight decay, as the paper)
        m = beta2 · m + (1 - beta2) · d

    Every coordinate moves by exactly lr (plus the decay), so the paper advises a learning
    rate 3-10x smaller than AdamW's and a weight decay 3-10x larger; the defaults are the
    paper's: ``lr=1e-4``, ``betas=(0.9, 0.99)``, ``weight_decay=0.0``. As ``torch.sign``,
    sign(0) = 0 (and sign(NaN) = 0).

    A complex parameter is updated as the pairs of reals it holds (as PyTorch's optimizers do).
    State per parameter: ``exp_avg`` (m) only; Lion needs no step count.
    ``foreach`` is accepted for symmetry with PyTorch's optimizers (one kernel call already
    updates a whole group); ``differentiable=True`` runs the tensor-op formula under autograd.

    >>> import rt_autograd as rt, rt_optim
    >>> w = rt.zeros(3, requires_grad=True)
    >>> opt = rt_optim.Lion([w], lr=0.1)
    >>> w.grad = rt.tensor([0.5, -2.0, 0.0])
    >>> opt.step()
    >>> [round(v, 4) for v in w.tolist()]
    [-0.1, 0.1, 0.0]
    """

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, *,
                 maximize=False, foreach=None, differentiable=False):
        _check_hyper("learning rate", lr)
        _check_betas(betas)
        _check_hyper("weight_decay value", weight_decay)
        defaults = dict(lr=lr, betas=betas, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, group, param, state):
        state["exp_avg"] = rt.zeros_like(param)

    def _update_group(self, group, params, grads, states):
        beta1, beta2 = (_common.scalar(b) for b in group["betas"])
        lists = [params, grads, [s["exp_avg"] for s in states]]
        hyper = dict(lr=_common.scalar(group["lr"]), beta1=beta1, beta2=beta2,
                     weight_decay=group["weight_decay"], maximize=group["maximize"])
        _common.run(_fused_adaptive.lion, lion_reference, group, lists,
                    tuple(hyper.values()), hyper)


def lion_reference(params, grads, exp_avgs, *, lr, beta1, beta2, weight_decay, maximize):
    """The readable formula (tensor ops) that the fused kernel ``_fused_adaptive.lion``
    computes."""
    for i, (param, grad) in enumerate(zip(params, grads)):
        d = -grad if maximize else grad
        if weight_decay != 0:
            param.mul_(1 - lr * weight_decay)
        update = exp_avgs[i].lerp(d, 1 - beta1).sign_()
        param.add_(update, alpha=-lr)
        exp_avgs[i].lerp_(d, 1 - beta2)
