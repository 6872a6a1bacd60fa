"""Lesson 4, exercise 3: a warm-up + cosine learning-rate schedule in closed form.

A common schedule starts with a linear warm-up and then decays along a half cosine. In
rt-optim (as in PyTorch) it is two schedulers in a row::

    SequentialLR(optimizer, [LinearLR(optimizer, start_factor, total_iters=warmup_steps),
                             CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps,
                                               eta_min=eta_min)],
                 milestones=[warmup_steps])

Write ``warmup_cosine_lr(step, base_lr, warmup_steps, total_steps, start_factor=0.1,
eta_min=0.0)``, the learning rate that schedule gives at ``step`` (0 .. total_steps), from
the documented formulas (https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.LinearLR.html
and .../CosineAnnealingLR.html):

- during the warm-up (step < warmup_steps) the factor goes linearly from ``start_factor``
  to 1: ``base_lr * (start_factor + (1 - start_factor) * step / warmup_steps)``;
- then, with T = total_steps - warmup_steps and k = step - warmup_steps:
  ``eta_min + (base_lr - eta_min) * (1 + cos(pi * k / T)) / 2``.

Check it:  python docs/course/_runner.py check 4
"""
import math


def warmup_cosine_lr(step, base_lr, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    raise NotImplementedError("exercise: write warmup_cosine_lr")
