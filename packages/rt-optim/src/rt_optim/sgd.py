"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum, weight decay and
maximize, as ``torch.optim.SGD`` (PyTorch 2.x; Nesterov momentum after Sutskever et al.,
"On the importance of initialization and momentum in deep learning", ICML 2013)."""
import rt_autograd as rt

from rt_optim import _common, _fused
from rt_optim.optimizer import Optimizer, _check_hyper

__all__ = ["SGD", "sgd_reference"]


class SGD(Optimizer):
    """``torch.optim.SGD``: p -= lr · d, where d is the gradient (negated with ``maximize``)
    plus ``weight_decay`` · p, replaced by the momentum buffer
    ``buf = momentum · buf + (1 - dampening) · d`` (``buf = d`` on the first step) or by
    ``d + momentum · buf`` with ``nesterov``.

    State per parameter: ``momentum_buffer`` (only when momentum is not 0).

    >>> import rt_autograd as rt, rt_optim
    >>> w = rt.ones(2, requires_grad=True)
    >>> opt = rt_optim.SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     w.grad = rt.ones(2)
    ...     opt.step()
    >>> [round(v, 4) for v in w.tolist()]
    [0.71, 0.71]
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        _check_hyper("learning rate", lr)
        _check_hyper("momentum value", momentum)
        _check_hyper("weight_decay value", weight_decay)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def _state_for(self, group, param):
        # PyTorch keeps no state entry at all for SGD without momentum
        return super()._state_for(group, param) if group["momentum"] != 0 else {}

    def _update_group(self, group, params, grads, states):
        momentum = _common.scalar(group["momentum"])
        bufs = fresh = None
        if momentum != 0:
            fresh = []
            bufs = []
            for p, s in zip(params, states):
                buf = s.get("momentum_buffer")
                if buf is None:
                    buf = s["momentum_buffer"] = rt.empty_like(p)
                    fresh.append(True)
                else:
                    fresh.append(False)
                bufs.append(buf)
        _common.run(_fused.sgd, sgd_reference, group, [params, grads, bufs, fresh],
                    (_common.scalar(group["lr"]), momentum, group["dampening"],
                     group["weight_decay"], group["nesterov"], group["maximize"]),
                    dict(lr=_common.scalar(group["lr"]), momentum=momentum,
                         dampening=group["dampening"], weight_decay=group["weight_decay"],
                         nesterov=group["nesterov"], maximize=group["maximize"]))


def sgd_reference(params, grads, momentum_buffers, fresh, *, lr, momentum, dampening,
                  weight_decay, nesterov, maximize):
    """The readable formula (tensor ops) that the fused kernel ``_fused.sgd`` computes."""
    for i, (param, grad) in enumerate(zip(params, grads)):
        d = -grad if maximize else grad
        if weight_decay != 0:
            d = d.add(param, alpha=weight_decay)
        if momentum != 0:
            buf = momentum_buffers[i]
            if fresh[i]:
                buf.copy_(d)
            else:
                buf.mul_(momentum).add_(d, alpha=1 - dampening)
            d = d.add(buf, alpha=momentum) if nesterov else buf
        param.add_(d, alpha=-lr)
