"""rt_optim.lr_scheduler: every scheduler and option against an independent oracle (the
closed-form schedule, or a hand-computed sequence, written here and never calling the
scheduler code) over STEPS steps; state_dict round trips that continue identically;
PyTorch's warnings, errors, 'initial_lr' and last_epoch rules.

One line of CASES per configuration: (id, optimizer factory, scheduler factory, oracle,
stepper, momentum oracle). The optimizers have two parameter groups (lr 0.1 and 0.025 unless
the line says otherwise); an oracle maps the epoch e (0 = right after construction) to the
two groups' expected learning rates; a stepper, when given, performs step i (default:
``scheduler.step()``); a momentum oracle gives the expected momentum (or beta1).
"""
import copy
import math
import warnings
from collections import Counter

import pytest
import rt_autograd as rt

import rt_optim
from rt_optim import lr_scheduler as L

STEPS = 40
BASE = (0.1, 0.025)          # the two groups' learning rates


# --- optimizers -------------------------------------------------------------------------------
def _groups(lrs=BASE, tensor_lr=False):
    lr = (lambda v: rt.tensor(v, dtype=rt.float64)) if tensor_lr else (lambda v: v)
    params = [rt.zeros(3, requires_grad=True), rt.zeros(2, requires_grad=True)]
    return [{"params": [params[0]], "lr": lr(lrs[0])}, {"params": [params[1]], "lr": lr(lrs[1])}]


def sgd(**kwargs):
    return lambda: rt_optim.SGD(_groups(), **kwargs)


def adam(**kwargs):
    return lambda: rt_optim.Adam(_groups(), **kwargs)


class Plain(rt_optim.Optimizer):
    """A user-defined optimizer without momentum or betas: plain gradient descent."""

    def __init__(self, params, lr=0.1):
        super().__init__(params, dict(lr=lr))

    def _update_group(self, group, params, grads, states):
        with rt.no_grad():
            for p, g in zip(params, grads):
                p.sub_(g * group["lr"])


# --- oracles (closed forms) -------------------------------------------------------------------
def per_group(fn):
    """An oracle giving each group's rate from its base rate: fn(base, e)."""
    return lambda e: [fn(b, e) for b in BASE]


def cosine(base, eta_min, t, period):
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / period)) / 2


def sgdr_position(epoch, t0, t_mult):
    """(epochs since the last restart, length of the current period) by walking the
    periods T_0, T_0·T_mult, ..."""
    start, period = 0, t0
    while epoch >= start + period:
        start += period
        period *= t_mult
    return epoch - start, period


def cyclic_fraction(e, up, down):
    """Where iteration e sits on the triangle: 0 at the cycle start, 1 at the peak."""
    total = up + down
    p = e % total
    return p / up if p <= up else (total - p) / down


def cyclic_lr(base, peak, up, down, scale):
    """scale(cycle, e) -> amplitude factor; cycles are numbered from 1."""
    def oracle(e):
        cycle = e // (up + down) + 1
        return base + (peak - base) * cyclic_fraction(e, up, down) * scale(cycle, e)
    return oracle


def cyclic_momentum(low, high, up, down, scale):
    def oracle(e):
        cycle = e // (up + down) + 1
        return high - (high - low) * cyclic_fraction(e, up, down) * scale(cycle, e)
    return oracle


def anneal(kind, start, end, pct):
    if kind == "cos":
        return end + (start - end) * (1 + math.cos(math.pi * pct)) / 2
    return start + (end - start) * pct


def one_cycle(e, kind, total, pct_start, start, peak, low, three_phase=False):
    """The 1cycle value at step e: (start -> peak -> low), or with three phases
    (start -> peak -> start -> low). Works for rates and for momenta."""
    up_end = pct_start * total - 1
    if not three_phase:
        if e <= up_end:
            return anneal(kind, start, peak, e / up_end)
        return anneal(kind, peak, low, (e - up_end) / (total - 1 - up_end))
    down_end = 2 * pct_start * total - 2
    if e <= up_end:
        return anneal(kind, start, peak, e / up_end)
    if e <= down_end:
        return anneal(kind, peak, start, (e - up_end) / (down_end - up_end))
    return anneal(kind, start, low, (e - down_end) / (total - 1 - down_end))


def one_cycle_lrs(kind, total, pct_start, max_lrs, div=25.0, final_div=1e4, three_phase=False):
    def oracle(e):
        return [one_cycle(e, kind, total, pct_start, m / div, m, m / div / final_div,
                          three_phase) for m in max_lrs]
    return oracle


def plateau(metrics, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
            cooldown=0, min_lrs=(0, 0), eps=1e-8):
    """ReduceLROnPlateau's rule, simulated step by step from its documentation: returns the
    oracle over the epochs of ``metrics``."""
    sign = 1 if mode == "min" else -1
    lrs = [list(BASE)]
    best, bad, cool = None, 0, 0
    for m in metrics:
        if best is None:
            improved = True
        elif threshold_mode == "rel":
            improved = sign * m < sign * best * (1 - sign * threshold)
        else:
            improved = sign * m < sign * best - threshold
        if improved:
            best, bad = m, 0
        else:
            bad += 1
        if cool > 0:
            cool -= 1
            bad = 0
        current = list(lrs[-1])
        if bad > patience:
            for i, lr in enumerate(current):
                new = max(lr * factor, min_lrs[i])
                if lr - new > eps:
                    current[i] = new
            cool, bad = cooldown, 0
        lrs.append(current)
    return lambda e: lrs[e]


def warned_epoch_step(s, i):
    """The deprecated step(epoch), jumping two epochs per call; it must warn."""
    with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)`"):
        s.step(2 * (i + 1))


def at_epochs(fn):
    """Oracle for epoch-jumping steppers: step i lands on epoch 2(i + 1)."""
    return lambda e: fn(0 if e == 0 else 2 * e)


class Warmup:
    """A callable object: its __dict__ is saved by state_dict (functions are not)."""

    def __init__(self, epochs):
        self.epochs = epochs

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.epochs)


class HalfLife:
    def __init__(self, half):
        self.half = half

    def __call__(self, x):
        return 0.5 ** (x / self.half)


def _mult(e):
    return 0.9 if e % 3 else 1.05


def _product(fn, e):
    out = 1.0
    for k in range(1, e + 1):
        out *= fn(k)
    return out


FLAT = [1.0] * STEPS
METRICS = [5.0, 4.0, 3.5, 3.5, 3.5, 3.49999, 3.6, 3.0, 3.0, 3.2, 3.1, 2.9, 2.9, 2.9, 2.9, 2.9,
           2.5, 2.6, 2.7, 2.4, 2.4, 2.4, 2.41, 2.39, 2.2, 2.2, 2.2, 2.2, 2.2, 2.2, 1.9, 1.95,
           1.9, 1.9, 1.9, 1.8, 1.8, 1.81, 1.8, 1.8]
RISING = [-m for m in METRICS]


def metric_stepper(values):
    def stepper(s, i):
        s.step(values[i])
    return stepper


# Hand-computed: a flat metric with patience=2 reduces on every third step (bad epochs 1, 2, 3
# -> reduce, counter reset), halving 0.1 until min_lr=0.001 clamps it: 0.1 for epochs 0-3,
# 0.05 for 4-6, ... 0.0015625 for 19-21, then 0.001 (0.00078125 clamped) for good. The second
# group starts at 0.025 and reaches its clamp (0.001) after five halvings (0.00078125).
FLAT_EXPECTED = ([0.1] * 4 + [0.05] * 3 + [0.025] * 3 + [0.0125] * 3 + [0.00625] * 3
                 + [0.003125] * 3 + [0.0015625] * 3 + [0.001] * (STEPS + 1 - 22))
FLAT_EXPECTED_2 = ([0.025] * 4 + [0.0125] * 3 + [0.00625] * 3 + [0.003125] * 3
                   + [0.0015625] * 3 + [0.001] * (STEPS + 1 - 16))

CASES = [
    ("LambdaLR", sgd(), lambda o: L.LambdaLR(o, lambda e: 0.95 ** e),
     per_group(lambda b, e: b * 0.95 ** e), None, None),
    ("LambdaLR-per-group", adam(), lambda o: L.LambdaLR(o, [lambda e: 1 / (1 + e), Warmup(8)]),
     lambda e: [0.1 / (1 + e), 0.025 * min(1.0, (e + 1) / 8)], None, None),
    ("MultiplicativeLR", sgd(momentum=0.9), lambda o: L.MultiplicativeLR(o, _mult),
     per_group(lambda b, e: b * _product(_mult, e)), None, None),
    ("MultiplicativeLR-per-group", adam(),
     lambda o: L.MultiplicativeLR(o, [lambda e: 0.97, Warmup(4)]),
     lambda e: [0.1 * 0.97 ** e, 0.025 * _product(Warmup(4), e)], None, None),
    ("StepLR", sgd(), lambda o: L.StepLR(o, step_size=4, gamma=0.5),
     per_group(lambda b, e: b * 0.5 ** (e // 4)), None, None),
    ("StepLR-default-gamma", adam(), lambda o: L.StepLR(o, step_size=7),
     per_group(lambda b, e: b * 0.1 ** (e // 7)), None, None),
    ("StepLR-epoch", sgd(), lambda o: L.StepLR(o, step_size=3, gamma=0.7),
     at_epochs(per_group(lambda b, e: b * 0.7 ** (e // 3))), warned_epoch_step, None),
    ("MultiStepLR", sgd(momentum=0.9), lambda o: L.MultiStepLR(o, [3, 10, 10, 25], gamma=0.3),
     per_group(lambda b, e: b * 0.3 ** sum(m <= e for m in [3, 10, 10, 25])), None, None),
    ("MultiStepLR-epoch", adam(), lambda o: L.MultiStepLR(o, [5, 9, 30]),
     at_epochs(per_group(lambda b, e: b * 0.1 ** sum(m <= e for m in [5, 9, 30]))),
     warned_epoch_step, None),
    ("ConstantLR-default", sgd(), lambda o: L.ConstantLR(o),
     per_group(lambda b, e: b / 3 if e < 5 else b), None, None),
    ("ConstantLR", adam(), lambda o: L.ConstantLR(o, factor=0.25, total_iters=12),
     per_group(lambda b, e: b * 0.25 if e < 12 else b), None, None),
    ("ConstantLR-epoch", sgd(), lambda o: L.ConstantLR(o, factor=0.5, total_iters=9),
     at_epochs(per_group(lambda b, e: b * 0.5 if e < 9 else b)), warned_epoch_step, None),
    ("LinearLR-default", sgd(), lambda o: L.LinearLR(o),
     per_group(lambda b, e: b * (1 / 3 + (2 / 3) * min(e, 5) / 5)), None, None),
    ("LinearLR-up", adam(), lambda o: L.LinearLR(o, start_factor=0.1, end_factor=0.9,
                                                 total_iters=20),
     per_group(lambda b, e: b * (0.1 + 0.8 * min(e, 20) / 20)), None, None),
    ("LinearLR-down", sgd(), lambda o: L.LinearLR(o, start_factor=1.0, end_factor=0.05,
                                                  total_iters=30),
     per_group(lambda b, e: b * (1.0 - 0.95 * min(e, 30) / 30)), None, None),
    ("LinearLR-epoch", sgd(), lambda o: L.LinearLR(o, start_factor=0.2, total_iters=25),
     at_epochs(per_group(lambda b, e: b * (0.2 + 0.8 * min(e, 25) / 25))), warned_epoch_step,
     None),
    ("ExponentialLR", sgd(momentum=0.9), lambda o: L.ExponentialLR(o, gamma=0.9),
     per_group(lambda b, e: b * 0.9 ** e), None, None),
    ("ExponentialLR-epoch", adam(), lambda o: L.ExponentialLR(o, gamma=0.95),
     at_epochs(per_group(lambda b, e: b * 0.95 ** e)), warned_epoch_step, None),
    ("PolynomialLR-default", sgd(), lambda o: L.PolynomialLR(o),
     per_group(lambda b, e: b * (1 - min(e, 5) / 5)), None, None),
    ("PolynomialLR-square", adam(), lambda o: L.PolynomialLR(o, total_iters=25, power=2.0),
     per_group(lambda b, e: b * (1 - min(e, 25) / 25) ** 2), None, None),
    ("PolynomialLR-sqrt", sgd(), lambda o: L.PolynomialLR(o, total_iters=33, power=0.5),
     per_group(lambda b, e: b * (1 - min(e, 33) / 33) ** 0.5), None, None),
    ("PolynomialLR-epoch", sgd(), lambda o: L.PolynomialLR(o, total_iters=30, power=1.5),
     at_epochs(per_group(lambda b, e: b * (1 - min(e, 30) / 30) ** 1.5)), warned_epoch_step,
     None),
    # past T_max the recursion keeps following the cosine: back up to the base rate at 2·T_max
    ("CosineAnnealingLR-past-T_max", sgd(momentum=0.9), lambda o: L.CosineAnnealingLR(o, 10),
     per_group(lambda b, e: cosine(b, 0.0, e, 10)), None, None),
    ("CosineAnnealingLR-eta_min", adam(), lambda o: L.CosineAnnealingLR(o, 7, eta_min=0.001),
     per_group(lambda b, e: cosine(b, 0.001, e, 7)), None, None),
    ("CosineAnnealingLR-epoch", sgd(), lambda o: L.CosineAnnealingLR(o, 30, eta_min=0.002),
     at_epochs(per_group(lambda b, e: cosine(b, 0.002, e, 30))), warned_epoch_step, None),
    ("CosineAnnealingWarmRestarts", sgd(momentum=0.9),
     lambda o: L.CosineAnnealingWarmRestarts(o, T_0=5),
     per_group(lambda b, e: cosine(b, 0.0, *sgdr_position(e, 5, 1))), None, None),
    ("CosineAnnealingWarmRestarts-T_mult", adam(),
     lambda o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.001),
     per_group(lambda b, e: cosine(b, 0.001, *sgdr_position(e, 3, 2))), None, None),
    # step(epoch + batch / 4): fractional epochs, no deprecation warning
    ("CosineAnnealingWarmRestarts-fractional", sgd(),
     lambda o: L.CosineAnnealingWarmRestarts(o, T_0=2, eta_min=0.01),
     per_group(lambda b, e: cosine(b, 0.01, *sgdr_position(e / 4, 2, 1))),
     lambda s, i: s.step((i + 1) / 4), None),
    ("CosineAnnealingWarmRestarts-fractional-T_mult", adam(),
     lambda o: L.CosineAnnealingWarmRestarts(o, T_0=1, T_mult=3),
     per_group(lambda b, e: cosine(b, 0.0, *sgdr_position(0 if e == 0 else (e - 1) * 0.7 + 0.3, 1,
                                                          3))),
     lambda s, i: s.step(i * 0.7 + 0.3), None),
    ("CyclicLR-triangular", sgd(momentum=0.9),
     lambda o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5),
     lambda e: [cyclic_lr(0.01, 0.1, 5, 5, lambda c, i: 1.0)(e)] * 2, None,
     lambda e: [cyclic_momentum(0.8, 0.9, 5, 5, lambda c, i: 1.0)(e)] * 2),
    ("CyclicLR-triangular2-per-group", sgd(momentum=0.9),
     lambda o: L.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=[0.1, 0.3], step_size_up=4,
                          step_size_down=6, mode="triangular2", base_momentum=[0.8, 0.7],
                          max_momentum=[0.95, 0.9]),
     lambda e: [cyclic_lr(0.01, 0.1, 4, 6, lambda c, i: 0.5 ** (c - 1))(e),
                cyclic_lr(0.02, 0.3, 4, 6, lambda c, i: 0.5 ** (c - 1))(e)], None,
     lambda e: [cyclic_momentum(0.8, 0.95, 4, 6, lambda c, i: 0.5 ** (c - 1))(e),
                cyclic_momentum(0.7, 0.9, 4, 6, lambda c, i: 0.5 ** (c - 1))(e)]),
    ("CyclicLR-exp_range", sgd(momentum=0.9),
     lambda o: L.CyclicLR(o, 0.001, 0.05, step_size_up=3, mode="exp_range", gamma=0.97),
     lambda e: [cyclic_lr(0.001, 0.05, 3, 3, lambda c, i: 0.97 ** i)(e)] * 2, None,
     lambda e: [cyclic_momentum(0.8, 0.9, 3, 3, lambda c, i: 0.97 ** i)(e)] * 2),
    ("CyclicLR-scale_fn-cycle", sgd(momentum=0.5),
     lambda o: L.CyclicLR(o, 0.01, 0.1, step_size_up=4, scale_fn=lambda x: 1 / x),
     lambda e: [cyclic_lr(0.01, 0.1, 4, 4, lambda c, i: 1 / c)(e)] * 2, None,
     lambda e: [cyclic_momentum(0.8, 0.9, 4, 4, lambda c, i: 1 / c)(e)] * 2),
    ("CyclicLR-scale_fn-iterations", sgd(momentum=0.5),
     lambda o: L.CyclicLR(o, 0.01, 0.1, step_size_up=3, step_size_down=2,
                          scale_fn=HalfLife(10.0), scale_mode="iterations"),
     lambda e: [cyclic_lr(0.01, 0.1, 3, 2, lambda c, i: 0.5 ** (i / 10))(e)] * 2, None,
     lambda e: [cyclic_momentum(0.8, 0.9, 3, 2, lambda c, i: 0.5 ** (i / 10))(e)] * 2),
    ("CyclicLR-no-momentum", sgd(),
     lambda o: L.CyclicLR(o, 0.01, 0.1, step_size_up=6, cycle_momentum=False),
     lambda e: [cyclic_lr(0.01, 0.1, 6, 6, lambda c, i: 1.0)(e)] * 2, None,
     lambda e: [0, 0]),
    ("CyclicLR-betas", adam(betas=(0.9, 0.99)),
     lambda o: L.CyclicLR(o, 0.001, 0.01, step_size_up=5, step_size_down=3),
     lambda e: [cyclic_lr(0.001, 0.01, 5, 3, lambda c, i: 1.0)(e)] * 2, None,
     lambda e: [cyclic_momentum(0.8, 0.9, 5, 3, lambda c, i: 1.0)(e)] * 2),
    ("CyclicLR-custom-optimizer-no-momentum", lambda: Plain(_groups()),
     lambda o: L.CyclicLR(o, 0.01, 0.1, step_size_up=4, cycle_momentum=False),
     lambda e: [cyclic_lr(0.01, 0.1, 4, 4, lambda c, i: 1.0)(e)] * 2, None, None),
    ("OneCycleLR-cos", sgd(momentum=0.9), lambda o: L.OneCycleLR(o, 0.5, total_steps=STEPS),
     one_cycle_lrs("cos", STEPS, 0.3, [0.5, 0.5]), None,
     lambda e: [one_cycle(e, "cos", STEPS, 0.3, 0.95, 0.85, 0.95)] * 2),
    ("OneCycleLR-linear-per-group", sgd(momentum=0.9),
     lambda o: L.OneCycleLR(o, [0.5, 0.2], total_steps=STEPS, pct_start=0.25,
                            anneal_strategy="linear"),
     one_cycle_lrs("linear", STEPS, 0.25, [0.5, 0.2]), None,
     lambda e: [one_cycle(e, "linear", STEPS, 0.25, 0.95, 0.85, 0.95)] * 2),
    ("OneCycleLR-three-phase", sgd(momentum=0.9),
     lambda o: L.OneCycleLR(o, 1.0, epochs=4, steps_per_epoch=10, three_phase=True,
                            div_factor=10.0, final_div_factor=100.0),
     one_cycle_lrs("cos", 40, 0.3, [1.0, 1.0], div=10.0, final_div=100.0, three_phase=True),
     None, lambda e: [one_cycle(e, "cos", 40, 0.3, 0.95, 0.85, 0.95, three_phase=True)] * 2),
    ("OneCycleLR-betas", adam(betas=(0.9, 0.99)),
     lambda o: L.OneCycleLR(o, 0.01, total_steps=STEPS, base_momentum=[0.8, 0.85],
                            max_momentum=0.95),
     one_cycle_lrs("cos", STEPS, 0.3, [0.01, 0.01]), None,
     lambda e: [one_cycle(e, "cos", STEPS, 0.3, 0.95, 0.8, 0.95),
                one_cycle(e, "cos", STEPS, 0.3, 0.95, 0.85, 0.95)]),
    ("OneCycleLR-three-phase-linear-betas", adam(),
     lambda o: L.OneCycleLR(o, 0.02, total_steps=STEPS + 5, three_phase=True,
                            anneal_strategy="linear"),
     one_cycle_lrs("linear", STEPS + 5, 0.3, [0.02, 0.02], three_phase=True), None,
     lambda e: [one_cycle(e, "linear", STEPS + 5, 0.3, 0.95, 0.85, 0.95, True)] * 2),
    ("OneCycleLR-no-momentum", adam(),
     lambda o: L.OneCycleLR(o, 0.01, total_steps=STEPS, cycle_momentum=False),
     one_cycle_lrs("cos", STEPS, 0.3, [0.01, 0.01]), None, lambda e: [0.9, 0.9]),
    ("ReduceLROnPlateau-hand-computed", sgd(),
     lambda o: L.ReduceLROnPlateau(o, patience=2, factor=0.5, min_lr=0.001),
     lambda e: [FLAT_EXPECTED[e], FLAT_EXPECTED_2[e]], metric_stepper(FLAT), None),
    ("ReduceLROnPlateau-min-rel", sgd(momentum=0.9),
     lambda o: L.ReduceLROnPlateau(o, patience=2, factor=0.5),
     plateau(METRICS, patience=2, factor=0.5), metric_stepper(METRICS), None),
    ("ReduceLROnPlateau-min-abs-cooldown", adam(),
     lambda o: L.ReduceLROnPlateau(o, patience=1, factor=0.3, threshold=0.05,
                                   threshold_mode="abs", cooldown=3),
     plateau(METRICS, patience=1, factor=0.3, threshold=0.05, threshold_mode="abs",
             cooldown=3), metric_stepper(METRICS), None),
    ("ReduceLROnPlateau-max-rel-min_lr-list", sgd(),
     lambda o: L.ReduceLROnPlateau(o, mode="max", patience=0, factor=0.5,
                                   min_lr=[0.01, 0.004]),
     plateau(RISING, mode="max", patience=0, factor=0.5, min_lrs=(0.01, 0.004)),
     metric_stepper(RISING), None),
    ("ReduceLROnPlateau-max-abs", sgd(momentum=0.9),
     lambda o: L.ReduceLROnPlateau(o, mode="max", patience=1, threshold=0.1,
                                   threshold_mode="abs", min_lr=0.002),
     plateau(RISING, mode="max", patience=1, threshold=0.1, threshold_mode="abs",
             min_lrs=(0.002, 0.002)), metric_stepper(RISING), None),
    ("ReduceLROnPlateau-eps", adam(),
     lambda o: L.ReduceLROnPlateau(o, patience=0, factor=0.9, eps=5e-4),
     plateau(METRICS, patience=0, factor=0.9, eps=5e-4), metric_stepper(METRICS), None),
    ("ReduceLROnPlateau-tensor-metric", sgd(),
     lambda o: L.ReduceLROnPlateau(o, patience=1, factor=0.5),
     plateau(METRICS, patience=1, factor=0.5),
     lambda s, i: s.step(rt.tensor(METRICS[i], dtype=rt.float64)), None),
    ("SequentialLR-warmup-cosine", sgd(momentum=0.9),
     lambda o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.1, total_iters=5),
                                  L.CosineAnnealingLR(o, T_max=20)], milestones=[5]),
     per_group(lambda b, e: b * (0.1 + 0.9 * e / 5) if e < 5 else cosine(b, 0.0, e - 5, 20)),
     None, None),
    # the third scheduler (no closed form) restarts from the current rate: ·0.95 per epoch
    ("SequentialLR-three", adam(),
     lambda o: L.SequentialLR(o, [L.ConstantLR(o, factor=0.5, total_iters=10),
                                  L.ExponentialLR(o, gamma=0.9),
                                  L.MultiplicativeLR(o, lambda e: 0.95)], milestones=[4, 15]),
     per_group(lambda b, e: b * 0.5 if e < 4 else
               b * 0.9 ** (e - 4) if e < 15 else b * 0.9 ** 10 * 0.95 ** (e - 14)),
     None, None),
    ("ChainedScheduler", sgd(momentum=0.9),
     lambda o: L.ChainedScheduler([L.ConstantLR(o, factor=0.1, total_iters=20),
                                   L.ExponentialLR(o, gamma=0.9)]),
     per_group(lambda b, e: b * 0.9 ** e * (0.1 if e < 20 else 1.0)), None, None),
    ("ChainedScheduler-optimizer", adam(),
     lambda o: L.ChainedScheduler([L.LinearLR(o, start_factor=0.5, total_iters=8),
                                   L.StepLR(o, step_size=5, gamma=0.8)], optimizer=o),
     per_group(lambda b, e: b * (0.5 + 0.5 * min(e, 8) / 8) * 0.8 ** (e // 5)), None, None),
    ("ExponentialLR-tensor-lr", lambda: rt_optim.SGD(_groups(tensor_lr=True), lr=0.1),
     lambda o: L.ExponentialLR(o, gamma=0.93), per_group(lambda b, e: b * 0.93 ** e), None,
     None),
    ("CosineAnnealingLR-tensor-lr",
     lambda: rt_optim.SGD(_groups(tensor_lr=True), lr=0.1, momentum=0.9),
     lambda o: L.CosineAnnealingLR(o, T_max=9, eta_min=0.001),
     per_group(lambda b, e: cosine(b, 0.001, e, 9)), None, None),
]
IDS = [c[0] for c in CASES]


def _float(v):
    return v.item() if isinstance(v, rt.Tensor) else v


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def _snapshot(sched, opt):
    return ([_float(v) for v in sched.get_last_lr()],
            [_float(g["lr"]) for g in opt.param_groups], _momenta(opt))


def _run(case, steps=STEPS, start=0, opt=None, sched=None):
    _, make_opt, make_sched, _, stepper, _ = case
    if opt is None:
        opt = make_opt()
        sched = make_sched(opt)
    trace = [_snapshot(sched, opt)] if start == 0 else []
    for i in range(start, steps):
        opt.step()
        if stepper is None:
            sched.step()
        else:
            stepper(sched, i)
        trace.append(_snapshot(sched, opt))
    return trace, opt, sched


def _assert_close(got, want, what):
    assert len(got) == len(want), what
    for g, w in zip(got, want):
        assert math.isclose(g, w, rel_tol=1e-10, abs_tol=1e-15), f"{what}: {got} != {want}"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_schedule_matches_the_closed_form(case):
    _, _, _, oracle, _, momentum = case
    trace, _, _ = _run(case)
    assert len(trace) == STEPS + 1
    for e, (last_lr, group_lr, momenta) in enumerate(trace):
        _assert_close(last_lr, oracle(e), f"get_last_lr at epoch {e}")
        _assert_close(group_lr, oracle(e), f"group lr at epoch {e}")
        if momentum is not None:
            _assert_close(momenta, momentum(e), f"momentum at epoch {e}")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_state_dict_round_trip_continues_identically(case):
    full, _, _ = _run(case)
    half = 13
    _, opt, sched = _run(case, steps=half)
    opt_state = copy.deepcopy(opt.state_dict())
    sched_state = copy.deepcopy(sched.state_dict())
    assert "optimizer" not in sched_state
    # a fresh optimizer and scheduler (built before loading, as PyTorch advises)
    fresh_opt = case[1]()
    fresh = case[2](fresh_opt)
    fresh_opt.load_state_dict(opt_state)
    fresh.load_state_dict(sched_state)
    rest, _, _ = _run(case, start=half, opt=fresh_opt, sched=fresh)
    assert rest == full[half + 1:]


# --- the base class: initial_lr, last_epoch, get_last_lr, any Optimizer ---------------------------
def _opt():
    return rt_optim.SGD(_groups(), lr=0.1, momentum=0.9)


def test_initial_lr_is_recorded_once_and_base_lrs_come_from_it():
    opt = _opt()
    first = L.ExponentialLR(opt, gamma=0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == list(BASE)
    assert first.base_lrs == list(BASE)
    opt.step()
    first.step()
    second = L.StepLR(opt, step_size=3)       # does not overwrite initial_lr
    assert [g["initial_lr"] for g in opt.param_groups] == list(BASE)
    assert second.base_lrs == list(BASE)
    assert second.get_last_lr() == [0.05, 0.0125]


def test_resuming_needs_initial_lr():
    opt = _opt()
    with pytest.raises(KeyError, match=r"param 'initial_lr' is not specified in "
                                       r"param_groups\[0\] when resuming scheduler"):
        L.StepLR(opt, step_size=2, last_epoch=4)


def test_resuming_with_last_epoch_continues_the_schedule():
    # LambdaLR is closed-form: built at last_epoch=k it takes its first step to epoch k+1
    opt = _opt()
    for g in opt.param_groups:
        g["initial_lr"] = g["lr"]
    sched = L.LambdaLR(opt, lambda e: 0.5 ** e, last_epoch=4)
    assert sched.last_epoch == 5
    _assert_close(sched.get_last_lr(), [b * 0.5 ** 5 for b in BASE], "resumed")
    opt.step()
    sched.step()
    _assert_close(sched.get_last_lr(), [b * 0.5 ** 6 for b in BASE], "next")
    # recursive schedulers keep the optimizer's current rate on construction
    opt = _opt()
    for g in opt.param_groups:
        g["initial_lr"] = g["lr"] * 4
    sched = L.ExponentialLR(opt, gamma=0.5, last_epoch=2)
    assert sched.base_lrs == [b * 4 for b in BASE]
    assert sched.get_last_lr() == list(BASE)
    opt.step()
    sched.step()
    assert sched.get_last_lr() == [b * 0.5 for b in BASE]


def test_get_last_lr_is_a_copy():
    opt = rt_optim.SGD(_groups(tensor_lr=True), lr=0.1)
    lr_tensor = opt.param_groups[0]["lr"]
    sched = L.ExponentialLR(opt, gamma=0.5)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] is lr_tensor           # filled in place
    last = sched.get_last_lr()
    assert last[0] is not lr_tensor
    last[0].fill_(7.0)
    assert lr_tensor.item() == 0.05
    floats = L.StepLR(_opt(), step_size=2)
    floats.get_last_lr()[0] = 3.0
    assert floats.optimizer.param_groups[0]["lr"] == 0.1


def test_any_rt_optimizer_is_accepted_and_nothing_else():
    opt = Plain(_groups())
    sched = L.MultiStepLR(opt, milestones=[1])
    w = opt.param_groups[0]["params"][0]
    w.grad = rt.ones(3)
    opt.step()
    sched.step()
    assert w.tolist() == pytest.approx([-0.1, -0.1, -0.1])     # float32
    assert sched.get_last_lr() == pytest.approx([0.01, 0.0025])

    class Impostor:
        param_groups = [{"lr": 0.1, "params": []}]
        defaults = {"lr": 0.1, "momentum": 0}

    for make in (lambda o: L.StepLR(o, 2), lambda o: L.LambdaLR(o, lambda e: 1.0),
                 lambda o: L.CyclicLR(o, 0.01, 0.1), lambda o: L.OneCycleLR(o, 0.1, 10),
                 lambda o: L.ReduceLROnPlateau(o), lambda o: L.CosineAnnealingWarmRestarts(o, 2)):
        with pytest.raises(TypeError, match="^Impostor is not an Optimizer$"):
            make(Impostor())


def test_state_dict_is_dunder_dict_without_optimizer_in_torch_order():
    sched = L.StepLR(_opt(), step_size=3)
    assert list(sched.state_dict()) == ["step_size", "gamma", "base_lrs", "last_epoch",
                                        "_step_count", "_is_initial",
                                        "_get_lr_called_within_step", "_last_lr"]
    plateau_sched = L.ReduceLROnPlateau(_opt())
    assert list(plateau_sched.state_dict()) == [
        "factor", "default_min_lr", "min_lrs", "patience", "cooldown", "eps", "last_epoch",
        "_last_lr", "mode_worse", "mode", "threshold", "threshold_mode", "best",
        "cooldown_counter", "num_bad_epochs"]
    assert plateau_sched.state_dict()["mode_worse"] == math.inf


def test_lambda_state_keeps_callable_objects_only():
    opt = _opt()
    warm = Warmup(8)
    sched = L.LambdaLR(opt, [lambda e: 1.0, warm])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [None, {"epochs": 8}]
    assert list(state)[-1] == "lr_lambdas"
    warm.epochs = 3                               # e.g. changed during training
    saved = copy.deepcopy(sched.state_dict())
    other_warm = Warmup(8)
    other = L.LambdaLR(_opt(), [lambda e: 1.0, other_warm])
    other.load_state_dict(saved)
    assert other_warm.epochs == 3
    assert saved["lr_lambdas"] == [None, {"epochs": 3}]       # the caller's dict is intact
    mult = L.MultiplicativeLR(_opt(), Warmup(5))
    assert mult.state_dict()["lr_lambdas"] == [{"epochs": 5}, {"epochs": 5}]


def test_cyclic_state_drops_the_policy_function_and_keeps_a_scale_object():
    exp = L.CyclicLR(_opt(), 0.01, 0.1, step_size_up=3, mode="exp_range", gamma=0.9)
    state = exp.state_dict()
    assert "_scale_fn_ref" not in state
    assert state["_scale_fn_custom"] is None
    assert L.CyclicLR(_opt(), 0.01, 0.1, scale_fn=lambda x: 1.0).state_dict()[
        "_scale_fn_custom"] is None
    half = HalfLife(4.0)
    obj = L.CyclicLR(_opt(), 0.01, 0.1, scale_fn=half, scale_mode="iterations")
    half.half = 2.0
    saved = copy.deepcopy(obj.state_dict())
    assert saved["_scale_fn_custom"] == {"half": 2.0}
    other_half = HalfLife(4.0)
    other = L.CyclicLR(_opt(), 0.01, 0.1, scale_fn=other_half, scale_mode="iterations")
    other.load_state_dict(saved)
    assert other_half.half == 2.0
    # a triangular scheduler loading an exp_range state rebuilds the policy from it
    tri = L.CyclicLR(_opt(), 0.01, 0.1, step_size_up=3)
    tri.load_state_dict(copy.deepcopy(state))
    assert tri.scale_fn(2) == pytest.approx(0.81)


def test_sequential_and_chained_states_nest():
    opt = _opt()
    seq = L.SequentialLR(opt, [L.ConstantLR(opt, 0.5, 3), L.ExponentialLR(opt, 0.9)], [3])
    state = seq.state_dict()
    assert list(state) == ["_milestones", "last_epoch", "_last_lr", "_schedulers"]
    assert [list(s)[:2] for s in state["_schedulers"]] == [["factor", "total_iters"],
                                                           ["gamma", "base_lrs"]]
    chained = L.ChainedScheduler([L.ConstantLR(opt, 0.5, 3)])
    assert list(chained.state_dict()) == ["_last_lr", "_schedulers"]


def test_multistep_milestones_are_a_counter():
    sched = L.MultiStepLR(_opt(), milestones=[4, 2, 4])
    assert sched.milestones == Counter({4: 2, 2: 1})


# --- schedulers with their own rules ----------------------------------------------------------
def test_cosine_annealing_past_t_max_and_the_additive_branch():
    opt = rt_optim.SGD(_groups((1.0, 1.0)), lr=1.0)
    sched = L.CosineAnnealingLR(opt, T_max=4)
    seen = []
    for _ in range(12):
        opt.step()
        sched.step()
        seen.append(sched.get_last_lr()[0])
    # back at the base rate after 2·T_max, at the minimum at 3·T_max
    assert seen[4 - 1] == 0.0 and seen[12 - 1] == pytest.approx(0.0, abs=1e-15)
    assert seen[8 - 1] == pytest.approx(1.0, rel=1e-12)
    assert seen[5 - 1] == pytest.approx((1 - math.cos(math.pi / 4)) / 2, rel=1e-12)


def test_warm_restarts_mix_plain_and_epoch_steps():
    opt = rt_optim.SGD(_groups(), lr=0.1)
    sched = L.CosineAnnealingWarmRestarts(opt, T_0=10)
    for _ in range(20):
        opt.step()
        sched.step()
    sched.step(26)
    assert (sched.T_cur, sched.T_i, sched.last_epoch) == (6, 10, 26)
    sched.step()
    assert (sched.T_cur, sched.last_epoch) == (7, 27)
    _assert_close(sched.get_last_lr(), [cosine(b, 0.0, 7, 10) for b in BASE], "epoch 27")
    sched.step(2.5)
    assert (sched.T_cur, sched.last_epoch) == (2.5, 2)
    mult = L.CosineAnnealingWarmRestarts(rt_optim.SGD(_groups(), lr=0.1), T_0=2, T_mult=2)
    mult.step(9.5)                     # periods 2, 4, 8: the third started at 6
    assert (mult.T_cur, mult.T_i) == (3.5, 8)


def test_one_cycle_stops_after_total_steps():
    opt = _opt()
    sched = L.OneCycleLR(opt, max_lr=0.1, total_steps=5)
    for _ in range(5):
        opt.step()
        sched.step()
    opt.step()
    with pytest.raises(ValueError, match="^Tried to step 6 times. The specified number of "
                                         "total steps is 5$"):
        sched.step()


def test_one_cycle_records_its_bounds_in_the_groups():
    opt = rt_optim.Adam(_groups(), betas=(0.9, 0.99))
    L.OneCycleLR(opt, max_lr=[0.5, 0.2], total_steps=10, div_factor=10.0, final_div_factor=5.0)
    g0, g1 = opt.param_groups
    assert (g0["initial_lr"], g0["max_lr"], g0["min_lr"]) == (0.05, 0.5, 0.01)
    assert g1["max_lr"] == 0.2 and g1["initial_lr"] == pytest.approx(0.02)
    assert (g0["max_momentum"], g0["base_momentum"]) == (0.95, 0.85)
    assert g0["betas"] == (0.95, 0.99)       # beta2 untouched


def test_cyclic_sets_the_groups_to_base_lr_and_max_momentum():
    opt = _opt()
    sched = L.CyclicLR(opt, base_lr=[0.001, 0.002], max_lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.001, 0.002]
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.9]
    assert sched.base_lrs == [0.001, 0.002]
    assert opt.param_groups[0]["base_momentum"] == 0.8


def test_plateau_min_lr_follows_new_groups():
    opt = _opt()
    sched = L.ReduceLROnPlateau(opt, patience=0, min_lr=0.02)
    opt.add_param_group({"params": [rt.zeros(1, requires_grad=True)], "lr": 1.0})
    for metric in (1.0, 2.0, 3.0):
        sched.step(metric)
    assert sched.min_lrs == [0.02, 0.02, 0.02]
    # 0.1 -> 0.02 (clamped), 0.025 -> 0.02 (clamped), 1.0 -> 0.1 -> 0.02
    assert sched.get_last_lr() == pytest.approx([0.02, 0.02, 0.02])
    listed = L.ReduceLROnPlateau(_opt(), patience=0, min_lr=[0.0, 0.0])
    listed.optimizer.add_param_group({"params": [rt.zeros(1, requires_grad=True)]})
    listed.step(1.0)
    with pytest.raises(RuntimeError, match=r"^The number of param groups in the `optimizer` "
                                           r"\(3\) differs from when `ReduceLROnPlateau` was "
                                           r"initialized \(2\)"):
        listed.step(2.0)


def test_plateau_cooldown_and_load_state():
    opt = _opt()
    sched = L.ReduceLROnPlateau(opt, mode="max", patience=0, cooldown=2, factor=0.5)
    for metric in (1.0, 0.5):                 # a bad epoch: reduce, then cool down
        sched.step(metric)
    assert sched.in_cooldown and sched.cooldown_counter == 2
    state = copy.deepcopy(sched.state_dict())
    other = L.ReduceLROnPlateau(_opt())        # mode min
    other.load_state_dict(state)
    assert other.mode == "max" and other.mode_worse == -math.inf and other.best == 1.0
    assert other._is_better(2.0, 1.0) and not other._is_better(0.9, 1.0)


def test_chained_and_sequential_check_their_schedulers():
    opt, other = _opt(), _opt()
    mine, theirs = L.StepLR(opt, 2), L.StepLR(other, 2)
    with pytest.raises(ValueError, match="^ChainedScheduler expects all schedulers to belong "
                                         "to the same optimizer, but got scheduler StepLR at "
                                         "index 1 has "):
        L.ChainedScheduler([mine, theirs])
    with pytest.raises(ValueError, match="^SequentialLR expects all schedulers to belong"):
        L.SequentialLR(opt, [mine, theirs], milestones=[2])


# --- warnings ---------------------------------------------------------------------------------
STEP_ORDER = r"^Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`. In PyTorch"


def test_scheduler_step_before_optimizer_step_warns_once():
    opt = _opt()
    sched = L.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match=STEP_ORDER):
        sched.step()
    sched.step()                               # only the first call is checked
    opt.step()
    sched.step()


def test_no_warning_in_the_right_order():
    opt = _opt()
    sched = L.StepLR(opt, step_size=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        sched.step()
        second = L.ExponentialLR(opt, gamma=0.9)    # the optimizer has stepped since the first
        second.step()


def test_an_optimizer_step_before_any_scheduler_does_not_count():
    opt = _opt()
    opt.step()
    sched = L.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match=STEP_ORDER):
        sched.step()


def test_optimizer_step_replaced_after_the_scheduler_warns():
    opt = _opt()
    sched = L.StepLR(opt, step_size=2)
    opt.step = lambda closure=None: None
    with pytest.warns(UserWarning, match=r"^Seems like `optimizer.step\(\)` has been "
                                         r"overridden after learning rate scheduler"):
        sched.step()


def test_epoch_argument_warns_except_for_warm_restarts():
    opt = _opt()
    sched = L.StepLR(opt, step_size=2)
    opt.step()
    with pytest.warns(UserWarning, match=r"^The epoch parameter in `scheduler.step\(\)` was not "
                                         r"necessary and is being deprecated"):
        sched.step(4)
    assert sched.last_epoch == 4 and sched.get_last_lr() == pytest.approx([0.001, 0.00025])
    with pytest.warns(UserWarning, match="The epoch parameter"):
        L.ReduceLROnPlateau(opt).step(1.0, 3)
    L.CosineAnnealingWarmRestarts(opt, T_0=3).step(1.5)      # no warning (filterwarnings=error)


def test_get_lr_outside_step_warns():
    sched = L.CosineAnnealingLR(_opt(), T_max=10)
    with pytest.warns(UserWarning, match=r"^To get the last learning rate computed by the "
                                         r"scheduler, please use `get_last_lr\(\)`.$"):
        sched.get_lr()


# --- errors -----------------------------------------------------------------------------------
def _raise_past_total(o):
    sched = L.OneCycleLR(o, 0.1, total_steps=1)
    o.step()
    sched.step()
    sched.step()


ERRORS = [
    (lambda o: L.ConstantLR(o, factor=1.5), ValueError,
     "Constant multiplicative factor expected to be between 0 and 1."),
    (lambda o: L.ConstantLR(o, factor=-0.1), ValueError,
     "Constant multiplicative factor expected to be between 0 and 1."),
    (lambda o: L.LinearLR(o, start_factor=0.0), ValueError,
     "Starting multiplicative factor expected to be greater than 0 and less or equal to 1."),
    (lambda o: L.LinearLR(o, end_factor=1.5), ValueError,
     "Ending multiplicative factor expected to be between 0 and 1."),
    (lambda o: L.LambdaLR(o, [lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas, but got 1"),
    (lambda o: L.MultiplicativeLR(o, 0.5), TypeError,
     "lr_lambda should be a function, but got float"),
    (lambda o: L.MultiplicativeLR(o, (lambda e: 1.0,)), ValueError,
     "Expected 2 lr_lambdas, but got 1"),
    (lambda o: L.CosineAnnealingWarmRestarts(o, T_0=0), ValueError,
     "Expected positive integer T_0, but got 0"),
    (lambda o: L.CosineAnnealingWarmRestarts(o, T_0=2.0), ValueError,
     "Expected positive integer T_0, but got 2.0"),
    (lambda o: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0), ValueError,
     "Expected integer T_mult >= 1, but got 0"),
    (lambda o: L.CosineAnnealingWarmRestarts(o, T_0=2, eta_min="0"), ValueError,
     "Expected float or int eta_min, but got 0 of type <class 'str'>"),
    (lambda o: L.CosineAnnealingWarmRestarts(o, T_0=2).step(-1), ValueError,
     "Expected non-negative epoch, but got -1"),
    (lambda o: L.CyclicLR(o, 0.01, 0.1, mode="square"), ValueError,
     "mode is invalid and scale_fn is None"),
    (lambda o: L.CyclicLR(o, [0.01], 0.1), ValueError,
     "base_lr must have the same length as optimizer.param_groups. base_lr has 1 values, "
     "param_groups has 2."),
    (lambda o: L.CyclicLR(Plain(_groups()), 0.01, 0.1), ValueError,
     "optimizer must support momentum or beta1 with `cycle_momentum` option enabled"),
    (lambda o: L.OneCycleLR(o, max_lr=0.1), ValueError,
     "You must define either total_steps OR (epochs AND steps_per_epoch)"),
    (lambda o: L.OneCycleLR(o, 0.1, total_steps=0), ValueError,
     "Expected positive integer total_steps, but got 0"),
    (lambda o: L.OneCycleLR(o, 0.1, total_steps=10.0), ValueError,
     "Expected positive integer total_steps, but got 10.0"),
    (lambda o: L.OneCycleLR(o, 0.1, epochs=0, steps_per_epoch=3), ValueError,
     "Expected positive integer epochs, but got 0"),
    (lambda o: L.OneCycleLR(o, 0.1, epochs=2, steps_per_epoch=-3), ValueError,
     "Expected positive integer steps_per_epoch, but got -3"),
    (lambda o: L.OneCycleLR(o, 0.1, total_steps=10, pct_start=1.5), ValueError,
     "Expected float between 0 and 1 pct_start, but got 1.5"),
    (lambda o: L.OneCycleLR(o, 0.1, total_steps=10, pct_start=1), ValueError,
     "Expected float between 0 and 1 pct_start, but got 1"),
    (lambda o: L.OneCycleLR(o, 0.1, total_steps=10, anneal_strategy="exp"), ValueError,
     "anneal_strategy must be one of 'cos' or 'linear', instead got exp"),
    (lambda o: L.OneCycleLR(o, [0.1, 0.2, 0.3], total_steps=10), ValueError,
     "max_lr must have the same length as optimizer.param_groups. max_lr has 3 values, "
     "param_groups has 2."),
    (lambda o: L.OneCycleLR(Plain(_groups()), 0.1, total_steps=10), ValueError,
     "optimizer must support momentum or beta1 with `cycle_momentum` option enabled"),
    (_raise_past_total, ValueError,
     "Tried to step 2 times. The specified number of total steps is 1"),
    (lambda o: L.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0."),
    (lambda o: L.ReduceLROnPlateau(o, mode="up"), ValueError, "mode up is unknown!"),
    (lambda o: L.ReduceLROnPlateau(o, threshold_mode="ratio"), ValueError,
     "threshold mode ratio is unknown!"),
    (lambda o: L.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs, got 1"),
    (lambda o: L.SequentialLR(o, [], milestones=[]), ValueError,
     "SequentialLR expects at least one scheduler, but got no scheduler."),
    (lambda o: L.SequentialLR(o, [L.StepLR(o, 2), L.StepLR(o, 3)], milestones=[]), ValueError,
     "Sequential Schedulers expects number of schedulers provided to be one more than the "
     "number of milestone points, but got number of schedulers 2 and the number of "
     "milestones to be equal to 0"),
    (lambda o: L.SequentialLR(o, [L.StepLR(o, 2), L.ReduceLROnPlateau(o)], milestones=[2]),
     ValueError, "SequentialLR does not support `ReduceLROnPlateau` scheduler as it requires "
     "additional kwargs to be specified when calling `step`, but got one at index 1 in the "
     "given schedulers sequence."),
    (lambda o: L.SequentialLR(o, [L.StepLR(o, 2), 3], milestones=[2]), TypeError,
     "SequentialLR at index 1 should have `optimizer` as its attribute."),
    (lambda o: L.ChainedScheduler([]), ValueError,
     "ChainedScheduler expects at least one scheduler to be chained, but got no scheduler."),
    (lambda o: L.ChainedScheduler([L.StepLR(o, 2), L.ReduceLROnPlateau(o)]), ValueError,
     "ChainedScheduler does not support `ReduceLROnPlateau` scheduler as it requires "
     "additional kwargs to be specified when calling `step`, but got one at index 1 in the "
     "given schedulers sequence."),
    (lambda o: L.LRScheduler(o), NotImplementedError,
     "LRScheduler must implement get_lr (LRScheduler is the abstract base of the schedulers)"),
]


@pytest.mark.parametrize("make,error,message", ERRORS, ids=[f"error-{i}" for i in
                                                            range(len(ERRORS))])
def test_errors_as_pytorch(make, error, message):
    with pytest.raises(error) as info:
        make(_opt())
    assert str(info.value) == message


def test_exports():
    assert set(L.__all__) == {
        "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
        "ExponentialLR", "SequentialLR", "CosineAnnealingLR", "ChainedScheduler",
        "ReduceLROnPlateau", "CyclicLR", "CosineAnnealingWarmRestarts", "OneCycleLR",
        "PolynomialLR", "LRScheduler"}
    assert all(hasattr(L, name) for name in L.__all__)
    assert issubclass(L._LRScheduler, L.LRScheduler) and L._LRScheduler.__name__ == "_LRScheduler"
    assert rt_optim.lr_scheduler is L
    for name in L.__all__:
        if name != "LRScheduler":
            assert issubclass(getattr(L, name), L.LRScheduler)
