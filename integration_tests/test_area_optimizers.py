"""Compatibility area "optimizers": rt_optim driving rt_nn models the way a PyTorch training
script does. Each optimizer's parameter trajectory on a fixed gradient sequence is checked in
float64 against a numpy transcription of the update in PyTorch's documentation (SGD with
momentum/dampening/nesterov/weight decay, Adam, AdamW, RMSprop centered, Adagrad with
lr_decay) and of the papers for the two optimizers PyTorch lacks (Lion, LAMB); schedulers
against their closed forms; and the optimizer API (param_groups with their own settings,
``zero_grad(set_to_none)``, ``step(closure)``, state_dict round trip, OptimizerFactory).

Example of the contract under test::

    >>> w = rt.tensor([1.0], requires_grad=True)
    >>> opt = rt_optim.SGD([w], lr=0.1)
    >>> w.grad = rt.tensor([2.0]); opt.step(); w.item()
    0.8
"""
import math

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
import rt_nn.functional as F
import rt_optim
from rt_optim import lr_scheduler

STEPS = 12


def _grads(shape, steps=STEPS, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for _ in range(steps)]


def _run_rt(name, kwargs, p0, grads):
    p = rt.from_numpy(p0.copy()).requires_grad_()
    opt = getattr(rt_optim, name)([p], **kwargs)
    path = []
    for g in grads:
        p.grad = rt.from_numpy(g.copy())
        opt.step()
        path.append(p.detach().numpy().copy())
    return path


# --- numpy transcriptions of the documented updates (one step, state in a dict) ----------
def sgd(p, g, s, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    g = g + weight_decay * p
    if momentum:
        s["b"] = g.copy() if "b" not in s else momentum * s["b"] + (1 - dampening) * g
        g = g + momentum * s["b"] if nesterov else s["b"]
    return p - lr * g


def adam(p, g, s, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    b1, b2 = betas
    s["t"] = s.get("t", 0) + 1
    if decoupled:
        p = p * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * p
    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
    mhat = s["m"] / (1 - b1 ** s["t"])
    vhat = s["v"] / (1 - b2 ** s["t"])
    return p - lr * mhat / (np.sqrt(vhat) + eps)


def rmsprop_centered(p, g, s, lr, alpha=0.99, eps=1e-8):
    s["v"] = alpha * s.get("v", 0.0) + (1 - alpha) * g * g
    s["ga"] = alpha * s.get("ga", 0.0) + (1 - alpha) * g
    return p - lr * g / (np.sqrt(s["v"] - s["ga"] ** 2) + eps)


def adagrad(p, g, s, lr, lr_decay=0.0, eps=1e-10):
    s["t"] = s.get("t", 0) + 1
    clr = lr / (1 + (s["t"] - 1) * lr_decay)
    s["sum"] = s.get("sum", 0.0) + g * g
    return p - clr * g / (np.sqrt(s["sum"]) + eps)


def lion(p, g, s, lr, betas=(0.9, 0.99), weight_decay=0.0):
    b1, b2 = betas
    m = s.get("m", np.zeros_like(p))
    c = b1 * m + (1 - b1) * g
    p = p - lr * (np.sign(c) + weight_decay * p)
    s["m"] = b2 * m + (1 - b2) * g
    return p


def lamb(p, g, s, lr, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0):
    b1, b2 = betas
    s["t"] = s.get("t", 0) + 1
    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
    r = (s["m"] / (1 - b1 ** s["t"])) / (np.sqrt(s["v"] / (1 - b2 ** s["t"])) + eps) \
        + weight_decay * p
    pn, rn = np.linalg.norm(p), np.linalg.norm(r)
    trust = pn / rn if pn > 0 and rn > 0 else 1.0
    return p - lr * trust * r


REFERENCES = [
    ("SGD", dict(lr=0.1), sgd, {}),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01), sgd, {}),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True), sgd, {}),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1), adam, {}),
    ("AdamW", dict(lr=0.01, weight_decay=0.1), adam, dict(decoupled=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True), rmsprop_centered, {}),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05), adagrad, {}),
    ("Lion", dict(lr=0.01, betas=(0.8, 0.95), weight_decay=0.1), lion, {}),
    ("LAMB", dict(lr=0.02, weight_decay=0.01), lamb, {}),
]


@pytest.mark.parametrize("name,kwargs,ref,extra", REFERENCES,
                         ids=[f"{r[0]}-{i}" for i, r in enumerate(REFERENCES)])
def test_trajectory_matches_the_documented_update(name, kwargs, ref, extra):
    p0 = np.random.default_rng(1).standard_normal((3, 4))
    grads = _grads((3, 4))
    got = _run_rt(name, kwargs, p0, grads)
    p, state = p0.copy(), {}
    ref_kwargs = {k: v for k, v in kwargs.items() if k != "centered"}
    for step, g in enumerate(grads):
        p = ref(p, g, state, **ref_kwargs, **extra)
        np.testing.assert_allclose(got[step], p, rtol=1e-12, atol=1e-14,
                                   err_msg=f"{name} step {step + 1}")


def test_param_groups_keep_their_own_settings():
    a = rt.zeros(2, dtype=rt.float64, requires_grad=True)
    b = rt.zeros(2, dtype=rt.float64, requires_grad=True)
    opt = rt_optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5, "momentum": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[0]["momentum"] == 0                 # the default fills in
    for _ in range(2):
        a.grad = rt.ones(2, dtype=rt.float64)
        b.grad = rt.ones(2, dtype=rt.float64)
        opt.step()
    assert a.tolist() == pytest.approx([-0.2, -0.2], abs=1e-15)
    assert b.tolist() == pytest.approx([-0.5 - 0.5 * 1.5] * 2, abs=1e-15)  # buf 1 then 1.5


def test_zero_grad_sets_to_none_by_default():
    w = rt.ones(3, requires_grad=True)
    opt = rt_optim.Adam([w])
    (w * 2).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0, 2.0]
    opt.zero_grad(set_to_none=False)
    assert w.grad.tolist() == [0.0, 0.0, 0.0]
    opt.zero_grad()
    assert w.grad is None


def test_step_with_closure_returns_the_loss_and_lbfgs_solves_least_squares():
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((30, 4)), rng.standard_normal(30)
    w = rt.zeros(4, dtype=rt.float64, requires_grad=True)
    Xt, yt = rt.from_numpy(X), rt.from_numpy(y)
    opt = rt_optim.LBFGS([w], lr=1, max_iter=100, tolerance_grad=1e-12, tolerance_change=1e-14,
                         line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = ((Xt @ w - yt) ** 2).mean()
        loss.backward()
        return loss

    first = opt.step(closure)
    assert first.item() == pytest.approx(float((y ** 2).mean()), rel=1e-12)  # loss at w = 0
    np.testing.assert_allclose(w.detach().numpy(), np.linalg.lstsq(X, y, rcond=None)[0],
                               rtol=1e-7, atol=1e-9)


def test_state_dict_round_trip_continues_identically():
    def make():
        rt.manual_seed(0)
        return nn.Linear(4, 2).double()

    x, y = rt.randn(8, 4, dtype=rt.float64), rt.randn(8, 2, dtype=rt.float64)
    model = make()
    opt = rt_optim.AdamW(model.parameters(), lr=0.01, amsgrad=True)
    for _ in range(3):
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        opt.step()
    twin = make()
    twin.load_state_dict(model.state_dict())
    twin_opt = rt_optim.AdamW(twin.parameters(), lr=0.5)
    twin_opt.load_state_dict(opt.state_dict())
    assert twin_opt.param_groups[0]["lr"] == 0.01                 # the saved lr wins
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert sorted(sd["state"][0]) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]
    for m, o in ((model, opt), (twin, twin_opt)):
        for _ in range(2):
            o.zero_grad()
            F.mse_loss(m(x), y).backward()
            o.step()
    for a, b in zip(model.parameters(), twin.parameters()):
        assert rt.equal(a, b)


def _lrs(make_sched, steps=15, base_lr=0.1):
    w = rt.zeros(1, requires_grad=True)
    opt = rt_optim.SGD([w], lr=base_lr)
    sched = make_sched(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


@pytest.mark.parametrize("name,make,closed_form", [
    ("StepLR", lambda o: lr_scheduler.StepLR(o, step_size=4, gamma=0.5),
     lambda t: 0.1 * 0.5 ** (t // 4)),
    ("MultiStepLR", lambda o: lr_scheduler.MultiStepLR(o, milestones=[3, 7], gamma=0.1),
     lambda t: 0.1 * 0.1 ** ((t >= 3) + (t >= 7))),
    ("ExponentialLR", lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9),
     lambda t: 0.1 * 0.9 ** t),
    ("CosineAnnealingLR", lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.01),
     lambda t: 0.01 + 0.09 * (1 + math.cos(math.pi * min(t, 10) / 10)) / 2 if t <= 10 else None),
    ("LinearLR", lambda o: lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=4),
     lambda t: 0.1 * (0.25 + 0.75 * min(t, 4) / 4)),
    ("PolynomialLR", lambda o: lr_scheduler.PolynomialLR(o, total_iters=10, power=2.0),
     lambda t: 0.1 * (1 - min(t, 10) / 10) ** 2),
    ("LambdaLR", lambda o: lr_scheduler.LambdaLR(o, lambda e: 1 / (1 + e)),
     lambda t: 0.1 / (1 + t)),
])
def test_scheduler_matches_its_closed_form(name, make, closed_form):
    got = _lrs(make)
    for t, lr in enumerate(got):
        want = closed_form(t)
        if want is not None:           # cosine past T_max follows PyTorch's recursion
            assert lr == pytest.approx(want, rel=1e-12, abs=1e-15), (name, t)


def test_one_cycle_peaks_at_max_lr_and_ends_near_zero():
    lrs = _lrs(lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=20), steps=20)
    assert lrs[0] == pytest.approx(1.0 / 25)                     # max_lr / div_factor
    peak = int(np.argmax(lrs))
    assert peak == round(0.3 * 20) - 1 and lrs[peak] == pytest.approx(1.0)
    assert lrs[-1] < 1e-3 and all(np.diff(lrs[peak:]) <= 0)


def test_reduce_lr_on_plateau_waits_patience_epochs():
    w = rt.zeros(1, requires_grad=True)
    opt = rt_optim.SGD([w], lr=1.0)
    sched = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2)
    lrs = []
    for metric in [5, 4, 4, 4, 4, 3, 3, 3, 3]:
        sched.step(metric)
        lrs.append(opt.param_groups[0]["lr"])
    # 4 is first seen at epoch 2 (index 1); three epochs without improvement -> halve
    assert lrs == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25]


def test_every_optimizer_trains_a_small_regression():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((64, 5))
    y = X @ rng.standard_normal(5) + 0.3
    Xt, yt = rt.from_numpy(X), rt.from_numpy(y[:, None])
    settings = {"SGD": dict(lr=0.05, momentum=0.9), "Adam": dict(lr=0.05),
                "AdamW": dict(lr=0.05), "RMSprop": dict(lr=0.01), "Adagrad": dict(lr=0.3),
                "Adadelta": dict(lr=5.0), "Rprop": dict(), "ASGD": dict(lr=0.05),
                "Adamax": dict(lr=0.1), "NAdam": dict(lr=0.05), "RAdam": dict(lr=0.05),
                "Lion": dict(lr=0.03), "LAMB": dict(lr=0.05)}
    for name, kwargs in settings.items():
        rt.manual_seed(0)
        model = nn.Linear(5, 1).double()
        opt = rt_optim.OptimizerFactory.create(name.lower(), model.parameters(), **kwargs)
        assert type(opt) is getattr(rt_optim, name)
        start = F.mse_loss(model(Xt), yt).item()
        for _ in range(150):
            opt.zero_grad()
            loss = F.mse_loss(model(Xt), yt)
            loss.backward()
            opt.step()
        assert loss.item() < 0.05 * start, (name, start, loss.item())
    with pytest.raises(ValueError, match="SGD"):
        rt_optim.OptimizerFactory.create("nosuch", model.parameters())


def test_invalid_hyper_parameters_raise_value_error():
    w = [rt.zeros(1, requires_grad=True)]
    with pytest.raises(ValueError):
        rt_optim.SGD(w, lr=-0.1)
    with pytest.raises(ValueError):
        rt_optim.Adam(w, betas=(1.0, 0.999))
    with pytest.raises(ValueError):
        rt_optim.SGD(w, lr=0.1, nesterov=True)          # nesterov needs momentum
