"""Lesson 4, exercise 3, worked solution: warm-up + cosine in closed form.

PyTorch's chainable schedulers update the rate step by step (each from the previous one);
the closed form gives the same values up to float round-off, and can be evaluated at any
step without running the ones before it.
"""
import math


def warmup_cosine_lr(step, base_lr, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    if step < warmup_steps:
        return base_lr * (start_factor + (1 - start_factor) * step / warmup_steps)
    k, period = step - warmup_steps, total_steps - warmup_steps
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * k / period)) / 2
