"""Adagrad (Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and
Stochastic Optimization", JMLR 12, 2011), as ``torch.optim.Adagrad`` (PyTorch 2.x)."""
import rt_autograd as rt

from rt_optim import _common, _fused_classic
from rt_optim.optimizer import Optimizer, _check_hyper

__all__ = ["Adagrad", "adagrad_reference"]


class Adagrad(Optimizer):
    """``torch.optim.Adagrad``. Per parameter, with t the step count and d the gradient
    (negated with ``maximize``) plus ``weight_decay`` · p:

        clr = lr / (1 + (t - 1) · lr_decay)
        sum += d²
        p -= clr · d / (sqrt(sum) + eps)

    As PyTorch, the state of every parameter is created in ``__init__`` (``step`` = 0 and
    ``sum`` filled with ``initial_accumulator_value``), so ``state`` and ``state_dict()``
    list every parameter even before the first step; a parameter added later with
    ``add_param_group`` gets its state on its first step, from the constructor's
    ``initial_accumulator_value`` (``defaults``), as in PyTorch.
    State per parameter: ``step`` (0-d float32 tensor), ``sum``.

    ``fused=True`` (PyTorch's fused CPU kernel) is accepted; rt always runs its fused kernel
    for float32/float64 unless ``fused=False`` or ``differentiable=True``.

    >>> import rt_autograd as rt, rt_optim
    >>> w = rt.zeros(2, requires_grad=True)
    >>> opt = rt_optim.Adagrad([w], lr=0.5)
    >>> w.grad = rt.tensor([1.0, -2.0])
    >>> opt.step()                      # sum = d², so each weight moves by lr
    >>> [round(v, 4) for v in w.tolist()]
    [-0.5, 0.5]
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_hyper("learning rate", lr)
        _check_hyper("lr_decay value", lr_decay)
        _check_hyper("weight_decay value", weight_decay)
        _check_hyper("initial_accumulator_value value", initial_accumulator_value)
        _check_hyper("epsilon value", eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        # PyTorch fills every parameter's state here, with the constructor's value even for
        # a group that sets its own initial_accumulator_value
        for group in self.param_groups:
            for p in group["params"]:
                self._fill_state(p, self.state[p], initial_accumulator_value)

    @staticmethod
    def _fill_state(param, state, initial_value):
        state["step"] = _common.step_tensor()
        # a complex parameter is two independent reals: both parts start at the value
        state["sum"] = rt.full_like(param, complex(initial_value, initial_value)
                                    if param.is_complex() else initial_value)

    def _init_state(self, group, param, state):
        self._fill_state(param, state, self.defaults["initial_accumulator_value"])

    def _update_group(self, group, params, grads, states):
        lists = [params, grads, [s["sum"] for s in states], [s["step"] for s in states]]
        hyper = dict(lr=_common.scalar(group["lr"]), lr_decay=group["lr_decay"],
                     weight_decay=group["weight_decay"], eps=group["eps"],
                     maximize=group["maximize"])
        _common.run(_fused_classic.adagrad, adagrad_reference, group, lists,
                    tuple(hyper.values()), hyper)


def adagrad_reference(params, grads, state_sums, steps, *, lr, lr_decay, weight_decay, eps,
                      maximize):
    """The readable formula (tensor ops) that the fused kernel ``_fused_classic.adagrad``
    computes."""
    for i, (param, grad) in enumerate(zip(params, grads)):
        steps[i] += 1
        step = steps[i].item()
        d = -grad if maximize else grad
        if weight_decay != 0:
            d = d.add(param, alpha=weight_decay)
        clr = lr / (1 + (step - 1) * lr_decay)
        state_sums[i].addcmul_(d, d, value=1)
        std = state_sums[i].sqrt().add(eps)
        param.addcdiv_(d, std, value=-clr)
