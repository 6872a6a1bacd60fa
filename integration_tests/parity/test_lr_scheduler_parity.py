"""rt_optim.lr_scheduler against torch.optim.lr_scheduler 2.13: the same scheduler
configuration on the same optimizer kind (torch.optim.SGD/Adam vs rt_optim.SGD/Adam, two
parameter groups), stepped the same way for STEPS steps; ``get_last_lr()``, every group's
``lr`` and, where the scheduler cycles it, ``momentum`` / ``betas`` must agree to 1e-12
relative at every step. The state_dict has PyTorch's keys, in PyTorch's order, with the same
values; a state saved by torch (optimizer and scheduler) continues identically in rt. The
errors and warnings are PyTorch's (type and message).

One line of CONFIGS per configuration: (id, optimizer, optimizer kwargs, builder, stepper).
The builder gets the scheduler module (torch's or rt's) and the optimizer; the stepper, if
not None, gets (scheduler, step index) and performs that step (default: ``step()``).
"""
import copy
import math
import warnings
from collections import Counter

import numpy as np
import pytest

import rt_autograd as rt
import rt_optim
import rt_optim.lr_scheduler as rt_sched

torch = pytest.importorskip("torch", reason="PyTorch cannot be imported; the parity suite "
                                            "runs in `tox -e parity` (torch==2.13.0)")
import torch.optim.lr_scheduler as torch_sched  # noqa: E402

STEPS = 40
RTOL = 1e-12

# validation losses for ReduceLROnPlateau: improvements, plateaus, noise, relapses
METRICS = [5.0, 4.0, 3.5, 3.5, 3.5, 3.49999, 3.6, 3.0, 3.0, 3.2, 3.1, 2.9, 2.9, 2.9, 2.9,
           2.9, 2.5, 2.6, 2.7, 2.4, 2.4, 2.4, 2.41, 2.39, 2.2, 2.2, 2.2, 2.2, 2.2, 2.2, 1.9,
           1.95, 1.9, 1.9, 1.9, 1.8, 1.8, 1.81, 1.8, 1.8, 1.8]
RISING = [-m for m in METRICS]       # the same story for mode='max'


class Warmup:
    """A callable object: its __dict__ goes into the state_dict (functions do not)."""

    def __init__(self, epochs):
        self.epochs = epochs

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.epochs)


class HalfLife:
    """A callable scale_fn object for CyclicLR."""

    def __init__(self, half):
        self.half = half

    def __call__(self, x):
        return 0.5 ** (x / self.half)


def _metric(s, i):
    s.step(METRICS[i])


def _rising(s, i):
    s.step(RISING[i])


def _epoch_steps(s, i):
    """The deprecated step(epoch): jump by 2 epochs at a time through the closed form."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        s.step(2 * (i + 1))


SGD_M = dict(lr=0.1, momentum=0.9)
ADAM = dict(lr=0.01, betas=(0.9, 0.99))

CONFIGS = [
    ("LambdaLR-fn", "SGD", {}, lambda L, o: L.LambdaLR(o, lambda e: 0.95 ** e), None),
    ("LambdaLR-list", "Adam", ADAM,
     lambda L, o: L.LambdaLR(o, [lambda e: 1 / (1 + e), Warmup(8)]), None),
    ("MultiplicativeLR", "SGD", SGD_M,
     lambda L, o: L.MultiplicativeLR(o, lambda e: 0.9 if e % 3 else 1.05), None),
    ("MultiplicativeLR-list", "Adam", ADAM,
     lambda L, o: L.MultiplicativeLR(o, [lambda e: 0.97, Warmup(4)]), None),
    ("StepLR", "SGD", {}, lambda L, o: L.StepLR(o, step_size=4, gamma=0.5), None),
    ("StepLR-default-gamma", "Adam", ADAM, lambda L, o: L.StepLR(o, step_size=7), None),
    ("StepLR-epoch", "SGD", {}, lambda L, o: L.StepLR(o, step_size=3, gamma=0.7), _epoch_steps),
    ("MultiStepLR", "SGD", SGD_M,
     lambda L, o: L.MultiStepLR(o, milestones=[3, 10, 10, 25], gamma=0.3), None),
    ("MultiStepLR-epoch", "Adam", ADAM,
     lambda L, o: L.MultiStepLR(o, milestones=[5, 9, 30]), _epoch_steps),
    ("ConstantLR-default", "SGD", {}, lambda L, o: L.ConstantLR(o), None),
    ("ConstantLR", "Adam", ADAM, lambda L, o: L.ConstantLR(o, factor=0.25, total_iters=12),
     None),
    ("LinearLR-default", "SGD", {}, lambda L, o: L.LinearLR(o), None),
    ("LinearLR-up", "Adam", ADAM,
     lambda L, o: L.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=20), None),
    ("LinearLR-down", "SGD", SGD_M,
     lambda L, o: L.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=30), None),
    ("LinearLR-epoch", "SGD", {},
     lambda L, o: L.LinearLR(o, start_factor=0.2, total_iters=25), _epoch_steps),
    ("ExponentialLR", "SGD", SGD_M, lambda L, o: L.ExponentialLR(o, gamma=0.9), None),
    ("ExponentialLR-epoch", "Adam", ADAM, lambda L, o: L.ExponentialLR(o, gamma=0.95),
     _epoch_steps),
    ("PolynomialLR-default", "SGD", {}, lambda L, o: L.PolynomialLR(o), None),
    ("PolynomialLR-square", "Adam", ADAM, lambda L, o: L.PolynomialLR(o, total_iters=25,
                                                                       power=2.0), None),
    ("PolynomialLR-sqrt", "SGD", SGD_M, lambda L, o: L.PolynomialLR(o, total_iters=33,
                                                                     power=0.5), None),
    ("PolynomialLR-epoch", "SGD", {}, lambda L, o: L.PolynomialLR(o, total_iters=30,
                                                                   power=1.5), _epoch_steps),
    ("CosineAnnealingLR-past-Tmax", "SGD", SGD_M, lambda L, o: L.CosineAnnealingLR(o, T_max=10),
     None),
    ("CosineAnnealingLR-eta_min", "Adam", ADAM,
     lambda L, o: L.CosineAnnealingLR(o, T_max=7, eta_min=0.001), None),
    ("CosineAnnealingLR-epoch", "SGD", {},
     lambda L, o: L.CosineAnnealingLR(o, T_max=30, eta_min=0.002), _epoch_steps),
    ("CosineAnnealingWarmRestarts", "SGD", SGD_M,
     lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=5), None),
    ("CosineAnnealingWarmRestarts-Tmult", "Adam", ADAM,
     lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.001), None),
    ("CosineAnnealingWarmRestarts-fractional", "SGD", {},
     lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2, eta_min=0.01),
     lambda s, i: s.step((i + 1) / 4)),
    ("CosineAnnealingWarmRestarts-fractional-Tmult", "Adam", ADAM,
     lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=1, T_mult=3),
     lambda s, i: s.step(i * 0.7 + 0.3)),
    ("CyclicLR-triangular", "SGD", SGD_M,
     lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5), None),
    ("CyclicLR-triangular2", "SGD", SGD_M,
     lambda L, o: L.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=[0.1, 0.3], step_size_up=4,
                             step_size_down=6, mode="triangular2", base_momentum=[0.8, 0.7],
                             max_momentum=[0.95, 0.9]), None),
    ("CyclicLR-exp_range", "SGD", SGD_M,
     lambda L, o: L.CyclicLR(o, base_lr=0.001, max_lr=0.05, step_size_up=3, mode="exp_range",
                             gamma=0.97), None),
    ("CyclicLR-scale_fn-cycle", "SGD", SGD_M,
     lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=4, scale_fn=lambda x: 1 / x), None),
    ("CyclicLR-scale_fn-iterations", "SGD", SGD_M,
     lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=3, step_size_down=2,
                             scale_fn=HalfLife(10.0), scale_mode="iterations"), None),
    ("CyclicLR-no-momentum", "SGD", {},
     lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=6, cycle_momentum=False), None),
    ("CyclicLR-betas", "Adam", ADAM,
     lambda L, o: L.CyclicLR(o, 0.001, 0.01, step_size_up=5, step_size_down=3), None),
    ("CyclicLR-AdamW-betas", "AdamW", dict(lr=0.01),
     lambda L, o: L.CyclicLR(o, 0.001, 0.01, step_size_up=4, mode="triangular2",
                             base_momentum=0.85, max_momentum=0.95), None),
    ("OneCycleLR-cos", "SGD", SGD_M, lambda L, o: L.OneCycleLR(o, max_lr=0.5, total_steps=STEPS),
     None),
    ("OneCycleLR-linear", "SGD", SGD_M,
     lambda L, o: L.OneCycleLR(o, max_lr=[0.5, 0.2], total_steps=STEPS, pct_start=0.25,
                               anneal_strategy="linear"), None),
    ("OneCycleLR-three-phase", "SGD", SGD_M,
     lambda L, o: L.OneCycleLR(o, max_lr=1.0, epochs=4, steps_per_epoch=10, three_phase=True,
                               div_factor=10.0, final_div_factor=100.0), None),
    ("OneCycleLR-betas", "Adam", ADAM,
     lambda L, o: L.OneCycleLR(o, max_lr=0.01, total_steps=STEPS, base_momentum=[0.8, 0.85],
                               max_momentum=0.95), None),
    ("OneCycleLR-three-phase-linear-AdamW", "AdamW", dict(lr=0.01),
     lambda L, o: L.OneCycleLR(o, max_lr=0.02, total_steps=STEPS + 5, three_phase=True,
                               anneal_strategy="linear"), None),
    ("OneCycleLR-no-momentum", "Adam", ADAM,
     lambda L, o: L.OneCycleLR(o, max_lr=0.01, total_steps=STEPS, cycle_momentum=False), None),
    ("ReduceLROnPlateau-min-rel", "SGD", SGD_M,
     lambda L, o: L.ReduceLROnPlateau(o, patience=2, factor=0.5), _metric),
    ("ReduceLROnPlateau-min-abs-cooldown", "Adam", ADAM,
     lambda L, o: L.ReduceLROnPlateau(o, patience=1, factor=0.3, threshold=0.05,
                                      threshold_mode="abs", cooldown=3), _metric),
    ("ReduceLROnPlateau-max-rel-min_lr", "SGD", {},
     lambda L, o: L.ReduceLROnPlateau(o, mode="max", patience=0, factor=0.5,
                                      min_lr=[0.01, 0.004]), _rising),
    ("ReduceLROnPlateau-max-abs", "SGD", SGD_M,
     lambda L, o: L.ReduceLROnPlateau(o, mode="max", patience=1, threshold=0.1,
                                      threshold_mode="abs", min_lr=0.002), _rising),
    ("ReduceLROnPlateau-eps", "Adam", ADAM,
     lambda L, o: L.ReduceLROnPlateau(o, patience=0, factor=0.9, eps=5e-4), _metric),
    ("SequentialLR-warmup-cosine", "SGD", SGD_M,
     lambda L, o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.1, total_iters=5),
                                     L.CosineAnnealingLR(o, T_max=20)], milestones=[5]), None),
    ("SequentialLR-three", "Adam", ADAM,
     lambda L, o: L.SequentialLR(o, [L.ConstantLR(o, factor=0.5, total_iters=10),
                                     L.ExponentialLR(o, gamma=0.9),
                                     L.MultiplicativeLR(o, lambda e: 0.95)],
                                 milestones=[4, 15]), None),
    ("SequentialLR-steplr-poly", "SGD", {},
     lambda L, o: L.SequentialLR(o, [L.StepLR(o, step_size=3, gamma=0.5),
                                     L.PolynomialLR(o, total_iters=20, power=2.0)],
                                 milestones=[12]), None),
    ("ChainedScheduler", "SGD", SGD_M,
     lambda L, o: L.ChainedScheduler([L.ConstantLR(o, factor=0.1, total_iters=20),
                                      L.ExponentialLR(o, gamma=0.9)]), None),
    ("ChainedScheduler-three-optimizer", "Adam", ADAM,
     lambda L, o: L.ChainedScheduler([L.LinearLR(o, start_factor=0.5, total_iters=8),
                                      L.StepLR(o, step_size=5, gamma=0.8),
                                      L.CosineAnnealingLR(o, T_max=12, eta_min=1e-4)],
                                     optimizer=o), None),
    ("ExponentialLR-tensor-lr", "SGD", dict(lr="tensor"),
     lambda L, o: L.ExponentialLR(o, gamma=0.93), None),
    ("CosineAnnealingLR-tensor-lr", "SGD", dict(lr="tensor", momentum=0.9),
     lambda L, o: L.CosineAnnealingLR(o, T_max=9, eta_min=0.001), None),
    ("StepLR-tensor-lr", "Adam", dict(lr="tensor"),
     lambda L, o: L.StepLR(o, step_size=4, gamma=0.6), None),
]
IDS = [c[0] for c in CONFIGS]


# --- the two worlds -------------------------------------------------------------------------
class World:
    def __init__(self, optim, sched, tensor):
        self.optim, self.sched, self.tensor = optim, sched, tensor


TORCH = World(torch.optim, torch_sched, lambda v: torch.tensor(v, dtype=torch.float64))
RT = World(rt_optim, rt_sched, lambda v: rt.tensor(v, dtype=rt.float64))


def _optimizer(world, opt_name, opt_kwargs):
    """Two parameter groups, the second with its own (smaller) learning rate."""
    kwargs = dict(opt_kwargs)
    base_lr = kwargs.pop("lr", 0.1)
    lr = (lambda v: world.tensor(v)) if base_lr == "tensor" else (lambda v: v)
    base = 0.1 if base_lr == "tensor" else base_lr
    params = [world.tensor(np.ones(3)).requires_grad_(), world.tensor(np.ones(2)).requires_grad_()]
    groups = [{"params": [params[0]]}, {"params": [params[1]], "lr": lr(base / 4)}]
    return getattr(world.optim, opt_name)(groups, lr=lr(base), **kwargs)


def _value(v):
    if isinstance(v, (torch.Tensor, rt.Tensor)):
        return float(v.item())
    return v


def _snapshot(sched, opt):
    """What the scheduler controls: get_last_lr, each group's lr, momentum and betas."""
    return {
        "last_lr": [_value(v) for v in sched.get_last_lr()],
        "lr": [_value(g["lr"]) for g in opt.param_groups],
        "momentum": [g.get("momentum") for g in opt.param_groups],
        "betas": [tuple(_value(b) for b in g["betas"]) if "betas" in g else None
                  for g in opt.param_groups],
    }


def _run(world, config, steps=STEPS, start=0, state=None):
    """Build the configuration in ``world`` and step it; with ``state`` (a torch optimizer
    and scheduler state, converted), load it first and continue from step ``start``."""
    _, opt_name, opt_kwargs, build, stepper = config
    opt = _optimizer(world, opt_name, opt_kwargs)
    sched = build(world.sched, opt)
    if state is not None:
        opt.load_state_dict(state[0])
        sched.load_state_dict(state[1])
    trace = [] if state is not None else [_snapshot(sched, opt)]
    for i in range(start, steps):
        opt.step()
        if stepper is None:
            sched.step()
        else:
            stepper(sched, i)
        trace.append(_snapshot(sched, opt))
    return trace, opt, sched


def _close(a, b, path):
    if isinstance(a, float) or isinstance(b, float):
        assert math.isclose(a, b, rel_tol=RTOL, abs_tol=0.0) or a == b, f"{path}: {a} vs {b}"
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), f"{path}: {a} vs {b}"
        for i, (x, y) in enumerate(zip(a, b)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), f"{path}: keys {list(a)} vs {list(b)}"
        for k in a:
            _close(a[k], b[k], f"{path}.{k}")
    else:
        assert a == b, f"{path}: {a!r} vs {b!r}"


def _comparable(obj):
    """A state value with tensors as floats (both libraries' tensors)."""
    if isinstance(obj, (torch.Tensor, rt.Tensor)):
        return _value(obj)
    if isinstance(obj, dict):
        return {k: _comparable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_comparable(v) for v in obj)
    return obj


def _to_rt(obj):
    """A torch state (optimizer or scheduler) with rt tensors; containers keep their type
    (MultiStepLR's milestones are a Counter)."""
    if isinstance(obj, torch.Tensor):
        return rt.tensor(obj.detach().numpy().copy())
    if isinstance(obj, dict):
        return type(obj)({k: _to_rt(v) for k, v in obj.items()})
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_rt(v) for v in obj)
    return obj


# --- the tests --------------------------------------------------------------------------------
@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_schedule_matches_torch(config):
    t_trace, t_opt, t_sched = _run(TORCH, config)
    r_trace, r_opt, r_sched = _run(RT, config)
    assert len(r_trace) == STEPS + 1
    for step, (t, r) in enumerate(zip(t_trace, r_trace)):
        _close(t, r, f"step {step}")
    # the groups hold the same scheduler keys (initial_lr, max_lr, max_momentum, ...)
    for tg, rg in zip(t_opt.param_groups, r_opt.param_groups):
        assert sorted(rg) == sorted(tg)
        for key in ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"):
            if key in tg:
                _close(_value(tg[key]), _value(rg[key]), key)


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_state_dict_has_torchs_keys_and_values(config):
    _, _, t_sched = _run(TORCH, config, steps=STEPS // 2)
    _, _, r_sched = _run(RT, config, steps=STEPS // 2)
    _close(_comparable(t_sched.state_dict()), _comparable(r_sched.state_dict()), "state")


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_torch_state_dict_continues_identically_in_rt(config):
    half = STEPS // 2 - 3
    t_full, _, _ = _run(TORCH, config)
    _, t_opt, t_sched = _run(TORCH, config, steps=half)
    state = (_to_rt(t_opt.state_dict()), _to_rt(copy.deepcopy(t_sched.state_dict())))
    r_rest, _, _ = _run(RT, config, start=half, state=state)
    for step, (t, r) in enumerate(zip(t_full[half + 1:], r_rest)):
        _close(t, r, f"step {half + 1 + step}")


# Resuming: a fresh optimizer gets torch's groups after RESUME_AT steps (initial_lr, max_lr,
# ... included) and the scheduler is built with last_epoch=RESUME_AT.
RESUME_AT = 7
RESUME = [
    ("LambdaLR", "SGD", {}, lambda L, o, e: L.LambdaLR(o, lambda k: 0.9 ** k, last_epoch=e)),
    ("MultiplicativeLR", "SGD", {},
     lambda L, o, e: L.MultiplicativeLR(o, lambda k: 0.9, last_epoch=e)),
    ("StepLR", "SGD", {}, lambda L, o, e: L.StepLR(o, 4, 0.5, last_epoch=e)),
    ("StepLR-on-boundary", "SGD", {}, lambda L, o, e: L.StepLR(o, 8, 0.5, last_epoch=e)),
    ("MultiStepLR", "SGD", {}, lambda L, o, e: L.MultiStepLR(o, [8, 12], last_epoch=e)),
    ("ConstantLR", "SGD", {}, lambda L, o, e: L.ConstantLR(o, 0.5, 10, last_epoch=e)),
    ("LinearLR", "SGD", {}, lambda L, o, e: L.LinearLR(o, 0.2, 1.0, 15, last_epoch=e)),
    ("ExponentialLR", "SGD", {}, lambda L, o, e: L.ExponentialLR(o, 0.9, last_epoch=e)),
    ("PolynomialLR", "SGD", {}, lambda L, o, e: L.PolynomialLR(o, 20, 2.0, last_epoch=e)),
    ("CosineAnnealingLR", "SGD", {},
     lambda L, o, e: L.CosineAnnealingLR(o, 12, 0.001, last_epoch=e)),
    ("CosineAnnealingWarmRestarts", "SGD", {},
     lambda L, o, e: L.CosineAnnealingWarmRestarts(o, 5, 2, last_epoch=e)),
    ("CyclicLR", "SGD", SGD_M, lambda L, o, e: L.CyclicLR(o, 0.01, 0.1, 4, last_epoch=e)),
    ("OneCycleLR", "Adam", ADAM,
     lambda L, o, e: L.OneCycleLR(o, 0.05, total_steps=STEPS, last_epoch=e)),
]


@pytest.mark.parametrize("config", RESUME, ids=[c[0] for c in RESUME])
def test_resuming_with_last_epoch_matches_torch(config):
    _, opt_name, opt_kwargs, build = config
    first = (config[0], opt_name, opt_kwargs, lambda L, o: build(L, o, -1), None)
    _, t_opt, _ = _run(TORCH, first, steps=RESUME_AT)
    saved = t_opt.state_dict()
    traces = []
    for world in (TORCH, RT):
        opt = _optimizer(world, opt_name, opt_kwargs)
        opt.load_state_dict(copy.deepcopy(saved) if world is TORCH else _to_rt(saved))
        sched = build(world.sched, opt, RESUME_AT)
        trace = [_snapshot(sched, opt)]
        for _ in range(STEPS - RESUME_AT - 1):
            opt.step()
            sched.step()
            trace.append(_snapshot(sched, opt))
        traces.append((trace, sched.last_epoch))
    (t_trace, t_epoch), (r_trace, r_epoch) = traces
    assert r_epoch == t_epoch
    for step, (t, r) in enumerate(zip(t_trace, r_trace)):
        _close(t, r, f"step {step}")


def _outcome(build, world):
    opt = _optimizer(world, "SGD", dict(momentum=0.9))
    try:
        build(world.sched, opt)
    except Exception as exc:      # noqa: BLE001 - the exception is the result compared
        return type(exc).__name__, str(exc)
    return None


BAD = [
    lambda L, o: L.StepLR(object(), step_size=2),
    lambda L, o: L.ConstantLR(o, factor=1.5),
    lambda L, o: L.LinearLR(o, start_factor=0.0),
    lambda L, o: L.LinearLR(o, end_factor=1.5),
    lambda L, o: L.LambdaLR(o, [lambda e: 1.0]),
    lambda L, o: L.MultiplicativeLR(o, 0.5),
    lambda L, o: L.MultiplicativeLR(o, [lambda e: 1.0]),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=0),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2.0),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2, eta_min="0"),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2).step(-1),
    lambda L, o: L.CyclicLR(o, 0.01, 0.1, mode="square"),
    lambda L, o: L.CyclicLR(o, [0.01], 0.1),
    lambda L, o: L.OneCycleLR(o, max_lr=0.1),
    lambda L, o: L.OneCycleLR(o, max_lr=0.1, total_steps=0),
    lambda L, o: L.OneCycleLR(o, max_lr=0.1, epochs=0, steps_per_epoch=3),
    lambda L, o: L.OneCycleLR(o, max_lr=0.1, epochs=2, steps_per_epoch=-3),
    lambda L, o: L.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1.5),
    lambda L, o: L.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1),
    lambda L, o: L.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="exp"),
    lambda L, o: L.OneCycleLR(o, max_lr=[0.1, 0.2, 0.3], total_steps=10),
    lambda L, o: [L.OneCycleLR(o, max_lr=0.1, total_steps=2).step() for _ in range(3)],
    lambda L, o: L.ReduceLROnPlateau(o, factor=1.0),
    lambda L, o: L.ReduceLROnPlateau(o, mode="up"),
    lambda L, o: L.ReduceLROnPlateau(o, threshold_mode="ratio"),
    lambda L, o: L.ReduceLROnPlateau(o, min_lr=[0.1]),
    lambda L, o: L.ExponentialLR(o, gamma=0.9, last_epoch=3),
    lambda L, o: L.SequentialLR(o, [], milestones=[]),
    lambda L, o: L.SequentialLR(o, [L.StepLR(o, 2), L.StepLR(o, 3)], milestones=[]),
    lambda L, o: L.SequentialLR(o, [L.StepLR(o, 2), L.ReduceLROnPlateau(o)], milestones=[2]),
    lambda L, o: L.SequentialLR(o, [L.StepLR(o, 2), 3], milestones=[2]),
    lambda L, o: L.ChainedScheduler([]),
    lambda L, o: L.ChainedScheduler([L.StepLR(o, 2), L.ReduceLROnPlateau(o)]),
    lambda L, o: L.LRScheduler(o),
]


@pytest.mark.parametrize("build", BAD, ids=[f"bad-{i}" for i in range(len(BAD))])
def test_errors_match_torch(build):
    expected = _outcome(build, TORCH)
    assert expected is not None
    got = _outcome(build, RT)
    assert got is not None
    assert got[0] == expected[0]
    if expected[0] != "NotImplementedError":     # torch's message is empty; rt's explains
        assert got[1] == expected[1]


def _warnings_of(world, action):
    opt = _optimizer(world, "SGD", dict(momentum=0.9))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        action(world.sched, opt)
    return [(w.category.__name__, str(w.message)) for w in caught]


WARNING_CASES = {
    "scheduler-before-optimizer": lambda L, o: L.StepLR(o, 2).step(),
    "optimizer-then-scheduler": lambda L, o: (lambda s: (o.step(), s.step()))(L.StepLR(o, 2)),
    "optimizer-stepped-before-scheduler-existed":
        lambda L, o: (o.step(), L.ExponentialLR(o, 0.9).step()),
    "second-scheduler-after-an-optimizer-step":
        lambda L, o: (L.StepLR(o, 2), o.step(), L.ExponentialLR(o, 0.9).step()),
    "epoch-argument": lambda L, o: (lambda s: (o.step(), s.step(3)))(L.StepLR(o, 2)),
    "epoch-argument-plateau": lambda L, o: L.ReduceLROnPlateau(o).step(1.0, 2),
    "get_lr-outside-step": lambda L, o: L.CosineAnnealingLR(o, 10).get_lr(),
    "warm-restarts-with-epoch": lambda L, o: L.CosineAnnealingWarmRestarts(o, 3).step(1.5),
    "twice-without-optimizer": lambda L, o: (lambda s: (s.step(), s.step()))(L.LinearLR(o)),
}


@pytest.mark.parametrize("action", WARNING_CASES.values(), ids=WARNING_CASES.keys())
def test_warnings_match_torch(action):
    assert _warnings_of(RT, action) == _warnings_of(TORCH, action)


def test_the_module_exports_torchs_names():
    assert sorted(rt_sched.__all__) == sorted(torch_sched.__all__)
    assert issubclass(rt_sched._LRScheduler, rt_sched.LRScheduler)
    assert rt_sched.EPOCH_DEPRECATION_WARNING == torch_sched.EPOCH_DEPRECATION_WARNING


def test_milestones_counter_survives_the_round_trip():
    opt = _optimizer(RT, "SGD", {})
    sched = rt_sched.MultiStepLR(opt, milestones=[2, 2, 5])
    assert isinstance(_to_rt(sched.state_dict())["milestones"], Counter)
