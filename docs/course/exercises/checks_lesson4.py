"""Checks of lesson 4's exercises: ``check_<topic>(module)`` runs on the template
(``exercises/lesson4_<topic>.py``) or on the worked solution (``solutions/...``).

The oracles: rt_optim.SGD and hand-computed numbers for Nesterov, a numpy loop of the
paper's algorithm for AdaBelief, rt-optim's schedulers and hand-computed values for the
schedule.
"""
import copy
import math

import numpy as np

import rt_autograd as rt
import rt_optim
from rt_optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR

# a quadratic bowl f(x) = 1/2 sum a (x - c)^2 with the gradient a (x - c) known in closed form
_A = np.array([1.0, 10.0, 0.1, 3.0, 0.5, 2.0])
_C = np.array([1.0, -2.0, 3.0, 0.5, -1.0, 0.25])


def _bowl(x):
    return 0.5 * (rt.tensor(_A) * (x - rt.tensor(_C)) ** 2).sum()


def check_nesterov(module):
    # by hand: param 1, gradient 1 at every step, lr 0.1, momentum 0.9
    param = rt.tensor([1.0], dtype=rt.float64, requires_grad=True)
    buffer = None
    for expected_param, expected_buffer in [(0.81, 1.0), (0.539, 1.9)]:
        param.grad = rt.ones(1, dtype=rt.float64)
        buffer = module.nesterov_step(param, buffer, 0.1, 0.9)
        assert math.isclose(param.item(), expected_param, rel_tol=1e-12), param.item()
        assert math.isclose(buffer.item(), expected_buffer, rel_tol=1e-12), buffer.item()
    assert param.is_leaf and param.grad_fn is None

    # next to rt_optim.SGD(nesterov=True), 30 steps on the bowl, float64
    mine = rt.zeros(6, dtype=rt.float64, requires_grad=True)
    theirs = rt.zeros(6, dtype=rt.float64, requires_grad=True)
    optimizer = rt_optim.SGD([theirs], lr=0.02, momentum=0.8, nesterov=True)
    buffer = None
    for step in range(30):
        mine.grad = None
        _bowl(mine).backward()
        buffer = module.nesterov_step(mine, buffer, 0.02, 0.8)
        optimizer.zero_grad()
        _bowl(theirs).backward()
        optimizer.step()
        assert rt.allclose(mine.detach(), theirs.detach(), rtol=1e-10, atol=1e-12), step
        assert rt.allclose(buffer, optimizer.state[theirs]["momentum_buffer"], rtol=1e-10,
                           atol=1e-12), step
    assert _bowl(mine).item() < _bowl(rt.zeros(6, dtype=rt.float64)).item() / 10


def _adabelief_numpy(x, steps, lr, beta1, beta2, eps):
    m, s = np.zeros_like(x), np.zeros_like(x)
    for t in range(1, steps + 1):
        g = _A * (x - _C)
        m = beta1 * m + (1 - beta1) * g
        s = beta2 * s + (1 - beta2) * (g - m) ** 2 + eps
        x = x - lr * (m / (1 - beta1 ** t)) / (np.sqrt(s / (1 - beta2 ** t)) + eps)
    return x, m, s


def check_adabelief(module):
    # the function alone, one step on one tensor
    p = rt.tensor([1.0, -2.0], dtype=rt.float64)
    g = rt.tensor([0.5, 3.0], dtype=rt.float64)
    m, s = rt.zeros(2, dtype=rt.float64), rt.zeros(2, dtype=rt.float64)
    module.adabelief_reference([p], [g], [m], [s], [1], lr=0.1, beta1=0.9, beta2=0.999,
                               eps=1e-8)
    m1 = 0.1 * np.array([0.5, 3.0])
    s1 = 0.001 * (np.array([0.5, 3.0]) - m1) ** 2 + 1e-8
    p1 = np.array([1.0, -2.0]) - 0.1 * (m1 / 0.1) / (np.sqrt(s1 / 0.001) + 1e-8)
    np.testing.assert_allclose(m.numpy(), m1, rtol=1e-12)
    np.testing.assert_allclose(s.numpy(), s1, rtol=1e-12)
    np.testing.assert_allclose(p.numpy(), p1, rtol=1e-12)

    # the optimizer: defaults, 100 steps against numpy, two groups, a parameter without grad
    x = rt.zeros(6, dtype=rt.float64, requires_grad=True)
    y = rt.zeros(6, dtype=rt.float64, requires_grad=True)
    idle = rt.ones(3, dtype=rt.float64, requires_grad=True)
    optimizer = module.AdaBelief([{"params": [x, idle]}, {"params": [y], "lr": 0.01}],
                                 lr=0.05, eps=1e-12)
    assert isinstance(optimizer, rt_optim.Optimizer)
    assert module.AdaBelief([rt.zeros(1, requires_grad=True)]).defaults == \
        {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-16}
    for _ in range(100):
        optimizer.zero_grad()
        (_bowl(x) + _bowl(y)).backward()
        optimizer.step()
    for param, lr in [(x, 0.05), (y, 0.01)]:
        expected, m, s = _adabelief_numpy(np.zeros(6), 100, lr, 0.9, 0.999, 1e-12)
        np.testing.assert_allclose(param.detach().numpy(), expected, rtol=1e-9, atol=1e-12)
        state = optimizer.state[param]
        assert state["step"] == 100
        np.testing.assert_allclose(state["exp_avg"].numpy(), m, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(state["exp_avg_var"].numpy(), s, rtol=1e-9, atol=1e-15)
    assert rt.equal(idle, rt.ones(3, dtype=rt.float64)) and idle not in optimizer.state
    assert np.abs(x.detach().numpy() - _C).max() < np.abs(_C).max() / 2     # on its way

    # the state dict (the base class's): save, continue, restore, continue identically
    saved_x = x.detach().clone()
    saved = copy.deepcopy(optimizer.state_dict())
    assert sorted(saved["state"][0]) == ["exp_avg", "exp_avg_var", "step"]

    def run(param, opt):
        for _ in range(10):
            opt.zero_grad()
            _bowl(param).backward()
            opt.step()
        return param.detach().clone()

    single = module.AdaBelief([x], lr=0.05, eps=1e-12)
    single.load_state_dict({"state": {0: saved["state"][0]},
                            "param_groups": [saved["param_groups"][0] | {"params": [0]}]})
    continued = run(x, single)
    restored = saved_x.clone().requires_grad_()
    again = module.AdaBelief([restored], lr=1.0)
    again.load_state_dict({"state": {0: saved["state"][0]},
                           "param_groups": [saved["param_groups"][0] | {"params": [0]}]})
    assert again.param_groups[0]["lr"] == 0.05
    assert rt.equal(run(restored, again), continued)


def check_schedule(module):
    lr = module.warmup_cosine_lr
    assert math.isclose(lr(0, 0.1, 5, 40, start_factor=0.1), 0.01, rel_tol=1e-12)
    assert math.isclose(lr(5, 0.1, 5, 40, start_factor=0.1), 0.1, rel_tol=1e-12)
    assert math.isclose(lr(40, 0.1, 5, 40, start_factor=0.1, eta_min=0.001), 0.001,
                        rel_tol=1e-12)
    assert math.isclose(lr(22.5, 0.1, 5, 40, eta_min=0.0), 0.05, rel_tol=1e-12)

    for base, warmup, total, start_factor, eta_min in [(0.1, 5, 40, 0.1, 0.001),
                                                       (3e-4, 10, 100, 0.01, 0.0),
                                                       (1.0, 1, 7, 0.5, 0.2)]:
        optimizer = rt_optim.SGD([rt.zeros(1, requires_grad=True)], lr=base)
        schedule = SequentialLR(optimizer, [
            LinearLR(optimizer, start_factor=start_factor, total_iters=warmup),
            CosineAnnealingLR(optimizer, T_max=total - warmup, eta_min=eta_min)],
            milestones=[warmup])
        for step in range(total + 1):
            expected = schedule.get_last_lr()[0]
            got = lr(step, base, warmup, total, start_factor=start_factor, eta_min=eta_min)
            assert math.isclose(got, expected, rel_tol=1e-9), (step, got, expected)
            optimizer.step()
            schedule.step()
