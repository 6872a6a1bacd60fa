"""RMSprop (Tieleman & Hinton, "Lecture 6.5 - rmsprop: Divide the gradient by a running average
of its recent magnitude", COURSERA: Neural Networks for Machine Learning, 2012; the centered
form from Graves, "Generating Sequences With Recurrent Neural Networks", arXiv:1308.0850),
as ``torch.optim.RMSprop`` (PyTorch 2.x)."""
import rt_autograd as rt

from rt_optim import _common, _fused_classic
from rt_optim.optimizer import Optimizer, _check_hyper

__all__ = ["RMSprop", "rmsprop_reference"]


class RMSprop(Optimizer):
    """``torch.optim.RMSprop``. Per parameter, with d the gradient (negated with
    ``maximize``) plus ``weight_decay`` · p:

        v = alpha · v + (1 - alpha) · d²
        avg = sqrt(v) + eps          (centered: g = alpha · g + (1 - alpha) · d,
                                      avg = sqrt(v - g²) + eps)
        p -= lr · d / avg            (momentum > 0: buf = momentum · buf + d / avg,
                                      p -= lr · buf)

    As PyTorch, eps is added after the square root (TensorFlow adds it inside).
    State per parameter: ``step`` (0-d float32 tensor), ``square_avg``, ``momentum_buffer``
    (momentum > 0), ``grad_avg`` (centered).

    >>> import rt_autograd as rt, rt_optim
    >>> w = rt.zeros(2, requires_grad=True)
    >>> opt = rt_optim.RMSprop([w], lr=0.01, alpha=0.75)
    >>> w.grad = rt.tensor([1.0, -2.0])
    >>> opt.step()                      # v = 0.25 · d², so each weight moves by 2 · lr
    >>> [round(v, 4) for v in w.tolist()]
    [-0.02, 0.02]
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        _check_hyper("learning rate", lr)
        _check_hyper("epsilon value", eps)
        _check_hyper("momentum value", momentum)
        _check_hyper("weight_decay value", weight_decay)
        _check_hyper("alpha value", alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, group, param, state):
        state["step"] = _common.step_tensor()
        state["square_avg"] = rt.zeros_like(param)
        if group["momentum"] > 0:
            state["momentum_buffer"] = rt.zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = rt.zeros_like(param)

    def _update_group(self, group, params, grads, states):
        momentum = group["momentum"]
        centered = group["centered"]
        lists = [params, grads, [s["square_avg"] for s in states],
                 [s["grad_avg"] for s in states] if centered else None,
                 [s["momentum_buffer"] for s in states] if momentum > 0 else None,
                 [s["step"] for s in states]]
        hyper = dict(lr=_common.scalar(group["lr"]), alpha=group["alpha"], eps=group["eps"],
                     weight_decay=group["weight_decay"], momentum=momentum,
                     centered=centered, maximize=group["maximize"])
        _common.run(_fused_classic.rmsprop, rmsprop_reference, group, lists,
                    tuple(hyper.values()), hyper)


def rmsprop_reference(params, grads, square_avgs, grad_avgs, momentum_buffers, steps, *, lr,
                      alpha, eps, weight_decay, momentum, centered, maximize):
    """The readable formula (tensor ops) that the fused kernel ``_fused_classic.rmsprop``
    computes."""
    for i, (param, grad) in enumerate(zip(params, grads)):
        d = -grad if maximize else grad
        steps[i] += 1
        if weight_decay != 0:
            d = d.add(param, alpha=weight_decay)
        square_avg = square_avgs[i]
        square_avg.mul_(alpha).addcmul_(d, d, value=1 - alpha)
        if centered:
            grad_avg = grad_avgs[i]
            grad_avg.lerp_(d, 1 - alpha)
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
        else:
            avg = square_avg.sqrt()
        avg = avg.add(eps)
        if momentum > 0:
            buf = momentum_buffers[i]
            buf.mul_(momentum).addcdiv_(d, avg)
            param.add_(buf, alpha=-lr)
        else:
            param.addcdiv_(d, avg, value=-lr)
