"""rt_optim against torch.optim 2.13: the same optimizer configuration, the same initial
parameters and the same gradient sequence in both; the parameter trajectories (every step),
the final state (PyTorch's keys and values) and the state_dict structure must agree, in
float64 (tight) and float32 (to float32 rounding). A state_dict saved by torch, converted
tensor by tensor, continues identically in rt.

One line of CASES per configuration (optimizer name, keyword arguments).
"""
import numpy as np
import pytest

import rt_autograd as rt
import rt_optim

torch = pytest.importorskip("torch", reason="PyTorch cannot be imported; the parity suite "
                                            "runs in `tox -e parity` (torch==2.13.0)")

SHAPES = [(5,), (3, 4), ()]
STEPS = 30

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.2, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, maximize=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.01, maximize=True, decoupled_weight_decay=True, weight_decay=0.05)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, amsgrad=True, weight_decay=0.3)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1, centered=True)),
    ("RMSprop", dict(lr=0.005, momentum=0.9, maximize=True)),
    ("RMSprop", dict(lr=0.005, alpha=0.8, momentum=0.5, centered=True, weight_decay=0.01)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.05, initial_accumulator_value=0.1)),
    ("Adagrad", dict(lr=0.05, eps=1e-6, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.95, eps=1e-5, weight_decay=0.1)),
    ("Adadelta", dict(lr=2.0, rho=0.5, maximize=True)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.02, etas=(0.3, 1.5), step_sizes=(1e-3, 0.05))),
    ("Rprop", dict(lr=0.01, step_sizes=(0.005, 1.0), maximize=True)),
    ("ASGD", dict()),
    ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=3, weight_decay=0.01)),
    ("ASGD", dict(lr=0.02, lambd=1e-3, t0=0.5, maximize=True)),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("Adamax", dict(lr=0.01, weight_decay=0.05, maximize=True)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("NAdam", dict(lr=0.02, momentum_decay=0.0)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
]
IDS = [f"{n}-{i}" for i, (n, _) in enumerate(CASES)]


def _data(dtype, seed=0):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(STEPS)]
    for t in range(1, STEPS, 4):
        grads[t][1] = None           # a parameter without a gradient on some steps
    return init, grads


def _trajectory(lib, name, kwargs, init, grads, tensor):
    params = [tensor(a.copy()).requires_grad_() for a in init]
    opt = getattr(lib, name)(params, **kwargs)
    out = []
    for row in grads:
        for p, g in zip(params, row):
            p.grad = None if g is None else tensor(g.copy())
        opt.step()
        out.append([p.detach().numpy().copy() for p in params])
    return out, opt, params


def _torch_tensor(a):
    return torch.from_numpy(np.asarray(a))


def _rt_tensor(a):
    return rt.tensor(np.asarray(a))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_trajectory_and_state_match_torch(name, kwargs, dtype):
    init, grads = _data(dtype)
    t_traj, t_opt, t_params = _trajectory(torch.optim, name, kwargs, init, grads, _torch_tensor)
    r_traj, r_opt, r_params = _trajectory(rt_optim, name, kwargs, init, grads, _rt_tensor)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-6)
    for step, (tp, rp) in enumerate(zip(t_traj, r_traj)):
        for a, b in zip(tp, rp):
            np.testing.assert_allclose(b, a, **tol, err_msg=f"step {step}")
    t_sd, r_sd = t_opt.state_dict(), r_opt.state_dict()
    assert list(r_sd["param_groups"][0]) == list(t_sd["param_groups"][0])
    assert sorted(r_sd["state"]) == sorted(t_sd["state"])
    for idx, t_state in t_sd["state"].items():
        r_state = r_sd["state"][idx]
        assert sorted(r_state) == sorted(t_state), idx
        for key, value in t_state.items():
            if isinstance(value, torch.Tensor):
                assert str(r_state[key].dtype).split(".")[-1] == str(value.dtype).split(".")[-1]
                np.testing.assert_allclose(r_state[key].numpy(), value.numpy(), **tol,
                                           err_msg=key)
            else:
                assert r_state[key] == value, key


def _to_rt(obj):
    if isinstance(obj, torch.Tensor):
        return rt.tensor(obj.detach().numpy().copy())
    if isinstance(obj, dict):
        return {k: _to_rt(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_rt(v) for v in obj)
    return obj


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_a_torch_state_dict_continues_identically_in_rt(name, kwargs):
    init, grads = _data(np.float64, seed=1)
    half = STEPS // 2
    t_params = [torch.from_numpy(a.copy()).requires_grad_() for a in init]
    t_opt = getattr(torch.optim, name)(t_params, **kwargs)
    for row in grads[:half]:
        for p, g in zip(t_params, row):
            p.grad = None if g is None else torch.from_numpy(g.copy())
        t_opt.step()
    r_params = [rt.tensor(p.detach().numpy().copy()).requires_grad_() for p in t_params]
    r_opt = getattr(rt_optim, name)(r_params, **kwargs)
    r_opt.load_state_dict(_to_rt(t_opt.state_dict()))
    for row in grads[half:]:
        for tp, rp, g in zip(t_params, r_params, row):
            tp.grad = None if g is None else torch.from_numpy(g.copy())
            rp.grad = None if g is None else rt.tensor(g.copy())
        t_opt.step()
        r_opt.step()
    for tp, rp in zip(t_params, r_params):
        np.testing.assert_allclose(rp.detach().numpy(), tp.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_complex_parameters_match_torch(name, kwargs):
    """PyTorch updates a complex parameter as the pairs of reals it holds; so does rt."""
    rng = np.random.default_rng(5)
    z = (rng.standard_normal(6) + 1j * rng.standard_normal(6)).astype(np.complex128)
    tp = torch.from_numpy(z.copy()).requires_grad_()
    rp = rt.tensor(z.copy(), requires_grad=True)
    t_opt = getattr(torch.optim, name)([tp], **kwargs)
    r_opt = getattr(rt_optim, name)([rp], **kwargs)
    for _ in range(8):
        g = rng.standard_normal(6) + 1j * rng.standard_normal(6)
        tp.grad = torch.from_numpy(g.copy())
        rp.grad = rt.tensor(g.copy())
        t_opt.step()
        r_opt.step()
    np.testing.assert_allclose(rp.detach().numpy(), tp.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
