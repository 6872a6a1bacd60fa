"""Lesson 4, exercise 2, worked solution: AdaBelief the way rt-optim adds an optimizer.

The class holds no math: it checks its arguments, sets PyTorch-style ``defaults``, creates
the state on a parameter's first step and hands each group to the reference formula. The
base class ``rt_optim.Optimizer`` does the rest (groups, ``zero_grad``, ``step(closure)``,
``state_dict``, schedulers).
"""
import math

import rt_autograd as rt
import rt_optim


def adabelief_reference(params, grads, exp_avgs, exp_avg_vars, steps, *, lr, beta1, beta2,
                        eps):
    for param, grad, m, s, t in zip(params, grads, exp_avgs, exp_avg_vars, steps):
        m.mul_(beta1).add_(grad, alpha=1 - beta1)
        residual = grad - m
        s.mul_(beta2).addcmul_(residual, residual, value=1 - beta2).add_(eps)
        bias_correction1 = 1 - beta1 ** t
        bias_correction2 = 1 - beta2 ** t
        denominator = (s / bias_correction2).sqrt().add_(eps)
        param.addcdiv_(m, denominator, value=-lr / bias_correction1)


class AdaBelief(rt_optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-16):
        if not lr >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"Invalid betas: {betas}")
        if not eps >= 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    def _init_state(self, group, param, state):
        state["step"] = 0
        state["exp_avg"] = rt.zeros_like(param)
        state["exp_avg_var"] = rt.zeros_like(param)

    def _update_group(self, group, params, grads, states):
        for state in states:
            state["step"] += 1
        beta1, beta2 = group["betas"]
        adabelief_reference(params, grads, [s["exp_avg"] for s in states],
                            [s["exp_avg_var"] for s in states], [s["step"] for s in states],
                            lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"])
