"""LAMB, layer-wise adaptive moments for large batches (You et al., "Large Batch Optimization
for Deep Learning: Training BERT in 76 minutes", ICLR 2020, arXiv:1904.00962, Algorithm 2,
with the identity as the scaling function phi). Not in PyTorch; its arguments follow
PyTorch's conventions (``maximize``, ``foreach``, ``differentiable``)."""
import rt_autograd as rt

from rt_optim import _common, _fused_adaptive
from rt_optim.optimizer import Optimizer, _check_betas, _check_hyper

__all__ = ["LAMB", "lamb_reference"]


class LAMB(Optimizer):
    """LAMB (You et al. 2020, Algorithm 2). Per parameter tensor (a "layer"), with t the step
    count and d the gradient (negated with ``maximize``):

        m = beta1 · m + (1 - beta1) · d           v = beta2 · v + (1 - beta2) · d²
        r = (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps) + weight_decay · p
        p -= lr · (‖p‖ / ‖r‖) · r

    The trust ratio ‖p‖ / ‖r‖ (Euclidean norms over the whole tensor) is 1 when either norm
    is 0, so a tensor initialised to zeros (a bias) still moves. Defaults as the paper's
    experiments: ``lr=1e-3``, ``betas=(0.9, 0.999)``, ``eps=1e-6``, ``weight_decay=0``.
    The fused kernel takes two passes over each tensor (moments and norms, then the update)
    and allocates nothing the size of a parameter; its norms are summed in double.

    A complex parameter is updated as the pairs of reals it holds (as PyTorch's optimizers do).
    State per parameter: ``step`` (0-d float32 tensor, as PyTorch's Adam), ``exp_avg`` (m),
    ``exp_avg_sq`` (v). ``foreach`` is accepted for symmetry with PyTorch's optimizers;
    ``differentiable=True`` runs the tensor-op formula under autograd.

    >>> import rt_autograd as rt, rt_optim
    >>> w = rt.tensor([3.0, 4.0], requires_grad=True)
    >>> opt = rt_optim.LAMB([w], lr=0.1)
    >>> w.grad = rt.tensor([1.0, 1.0])
    >>> opt.step()               # r ≈ (1, 1), trust = 5 / sqrt(2): each weight moves by ~0.354
    >>> [round(v, 3) for v in w.tolist()]
    [2.646, 3.646]
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0, *,
                 maximize=False, foreach=None, differentiable=False):
        _check_hyper("learning rate", lr)
        _check_hyper("epsilon value", eps)
        _check_betas(betas)
        _check_hyper("weight_decay value", weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, differentiable=differentiable)
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
                     eps=group["eps"], weight_decay=group["weight_decay"],
                     maximize=group["maximize"])
        _common.run(_fused_adaptive.lamb, lamb_reference, group, lists,
                    tuple(hyper.values()), dict(hyper, differentiable=group["differentiable"]))


def lamb_reference(params, grads, exp_avgs, exp_avg_sqs, steps, *, lr, beta1, beta2, eps,
                   weight_decay, maximize, differentiable=False):
    """The readable formula (tensor ops) that the fused kernel ``_fused_adaptive.lamb``
    computes (with ``differentiable``, the trust ratio is a tensor autograd follows)."""
    for i, (param, grad) in enumerate(zip(params, grads)):
        d = -grad if maximize else grad
        steps[i] += 1
        step = steps[i].item()
        exp_avgs[i].lerp_(d, 1 - beta1)
        exp_avg_sqs[i].mul_(beta2).addcmul_(d, d, value=1 - beta2)
        m_hat = exp_avgs[i] / (1 - beta1 ** step)
        update = m_hat / exp_avg_sqs[i].div(1 - beta2 ** step).sqrt().add(eps)
        if weight_decay != 0:
            update = update.add(param, alpha=weight_decay)
        # under autograd the norm keeps its input, and param changes in place below
        weight_norm = (param.clone() if differentiable else param).norm()
        update_norm = update.norm()
        if not (weight_norm.item() > 0 and update_norm.item() > 0):
            param.add_(update, alpha=-lr)
        elif differentiable:
            # the trust ratio stays in the graph
            param.sub_(update * (weight_norm / update_norm * lr))
        else:
            param.add_(update, alpha=-(lr * (weight_norm.item() / update_norm.item())))
