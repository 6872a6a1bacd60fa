"""Every optimizer configuration of optim_cases.CASES against its numpy oracle, its own
reference formula, a state_dict round trip, the memory pool, and PyTorch's rules for
parameters without a gradient."""
import copy
import inspect

import numpy as np
import pytest
import rt_autograd as rt
import rt_tensor

import rt_optim
from numpy_reference import REFERENCES
from optim_cases import CASES

SHAPES = [(7,), (3, 4), ()]
IDS = [c.id for c in CASES]


def _make(case, params, **extra):
    return getattr(rt_optim, case.name)(params, **case.kwargs, **extra)


def _make_reference(case, params):
    """The same optimizer on its readable reference formula: ``fused=False`` where the class
    takes it (as PyTorch's SGD, Adam, Adagrad do); the others have no ``fused`` argument in
    PyTorch, so their groups get the flag that ``_common.use_reference`` reads."""
    cls = getattr(rt_optim, case.name)
    if "fused" in inspect.signature(cls).parameters:
        return _make(case, params, fused=False)
    opt = _make(case, params)
    for group in opt.param_groups:
        group["fused"] = False
    return opt


def _grads(steps, dtype=np.float64, seed=0, none_every=3):
    """grads[t][i]; parameter 2 gets no gradient on every ``none_every``-th step."""
    rng = np.random.default_rng(seed)
    out = []
    for t in range(steps):
        row = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
        if none_every and t % none_every == 1:
            row[2] = None
        out.append(row)
    return out


def _params(dtype=np.float64, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def _run(opt, params, grads):
    for row in grads:
        for p, g in zip(params, row):
            p.grad = None if g is None else rt.tensor(g)
        opt.step()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_the_numpy_oracle_after_100_steps_float64(case):
    init = _params()
    grads = _grads(100)
    params = [rt.tensor(a, requires_grad=True) for a in init]
    _run(_make(case, params), params, grads)
    expected = REFERENCES[case.name](init, grads, **case.kwargs)
    for p, e in zip(params, expected):
        np.testing.assert_allclose(p.detach().numpy(), e, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_fused_kernel_matches_the_reference_formula(case, dtype):
    init = _params(dtype)
    grads = _grads(30, dtype)
    fused = [rt.tensor(a, requires_grad=True) for a in init]
    plain = [rt.tensor(a, requires_grad=True) for a in init]
    _run(_make(case, fused), fused, grads)
    _run(_make_reference(case, plain), plain, grads)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    for a, b in zip(fused, plain):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **tol)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_non_contiguous_parameters_take_the_reference_path(case):
    base = np.random.default_rng(3).standard_normal((4, 6))
    grads = [[np.random.default_rng(t).standard_normal((6, 4))] for t in range(10)]
    p = rt.tensor(base).t().detach().requires_grad_()      # a leaf with strides (1, 6)
    assert not p.is_contiguous()
    _run(_make(case, [p]), [p], grads)
    expected = REFERENCES[case.name]([base.T], grads, **case.kwargs)[0]
    np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_state_dict_round_trip_continues_identically(case):
    init = _params(np.float32)
    grads = _grads(10, np.float32)
    a = [rt.tensor(x, requires_grad=True) for x in init]
    opt_a = _make(case, a)
    _run(opt_a, a, grads[:5])
    saved = copy.deepcopy(opt_a.state_dict())
    b = [p.detach().clone().requires_grad_() for p in a]
    opt_b = _make(case, b)
    opt_b.load_state_dict(saved)
    _run(opt_a, a, grads[5:])
    _run(opt_b, b, grads[5:])
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.detach().numpy(), y.detach().numpy())
    sd = opt_b.state_dict()
    assert sorted(sd["state"]) == sorted(opt_a.state_dict()["state"])
    assert sd["param_groups"][0]["params"] == [0, 1, 2]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_state_keys_and_step_as_pytorch_keeps_them(case):
    p = rt.zeros(4, requires_grad=True)
    opt = _make(case, [p])
    p.grad = rt.ones(4)
    opt.step()
    opt.step()
    state = opt.state[p]
    assert sorted(state) == sorted(case.state_keys)
    if "step" in state:
        assert state["step"].dtype == rt.float32 and state["step"].shape == ()
        assert state["step"].item() == 2.0
    for key, value in state.items():
        if key != "step" and isinstance(value, rt.Tensor) and value.ndim:
            assert value.shape == p.shape and value.dtype == p.dtype, key


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_step_after_the_first_allocates_nothing(case):
    params = [rt.randn(300, 40, requires_grad=True), rt.randn(40, requires_grad=True)]
    for p in params:
        p.grad = rt.randn(*p.shape)
    opt = _make(case, params)
    opt.step()
    before = rt_tensor.memory.stats()
    for _ in range(3):
        opt.step()
    after = rt_tensor.memory.stats()
    assert after["hits"] + after["misses"] == before["hits"] + before["misses"]
    assert after["in_use_bytes"] == before["in_use_bytes"]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_parameters_without_grad_are_skipped_entirely(case):
    used = rt.ones(3, requires_grad=True)
    unused = rt.ones(3, requires_grad=True)
    opt = _make(case, [used, unused])
    used.grad = rt.ones(3)
    opt.step()
    assert unused.tolist() == [1.0, 1.0, 1.0]
    if case.name == "Adagrad":
        # PyTorch's Adagrad creates every parameter's state in __init__: it stays as created
        initial = case.kwargs.get("initial_accumulator_value", 0)
        assert sorted(opt.state[unused]) == ["step", "sum"]
        assert opt.state[unused]["step"].item() == 0.0
        expected = rt.full((3,), initial, dtype=unused.dtype).tolist()
        assert opt.state[unused]["sum"].tolist() == expected
    else:
        assert unused not in opt.state or not opt.state[unused]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_kernel_bumps_the_version_as_an_inplace_op(case):
    p = rt.ones(3, requires_grad=True)
    opt = _make(case, [p])
    p.grad = rt.ones(3)
    v = p._version
    opt.step()
    assert p._version > v


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_complex_parameters_are_updated_as_pairs_of_reals(case):
    """PyTorch's optimizers treat a complex parameter as the real pairs it holds
    (view_as_real): the same steps on a complex64 parameter and on its float32 pair view."""
    z = np.array([1 + 2j, -0.5 + 1j, 0.25 - 3j], dtype=np.complex64)
    zc = rt.tensor(z, requires_grad=True)
    zr = rt.tensor(np.stack([z.real, z.imag], -1), requires_grad=True)
    opt_c, opt_r = _make(case, [zc]), _make(case, [zr])
    for t in range(5):
        g = (np.array([0.3 - 1j, 2 + 0.5j, -1 + 0.1j]) * (t + 1) * (-1) ** t).astype(np.complex64)
        zc.grad = rt.tensor(g)
        zr.grad = rt.tensor(np.stack([g.real, g.imag], -1))
        opt_c.step()
        opt_r.step()
    got = zc.detach().numpy()
    np.testing.assert_allclose(np.stack([got.real, got.imag], -1), zr.detach().numpy(),
                               rtol=1e-6, atol=1e-7)
