"""The rt_optim names that test_coverage.py found without a parity case:

* ``Optimizer`` (the base class): a custom optimizer written once against the namespace's
  ``optim.Optimizer`` (PyTorch's recipe: ``defaults``, ``param_groups``, ``self.state[p]``,
  an overridden ``step(closure)``) runs in torch and in rt with the same parameter
  trajectory, the same ``state_dict`` (structure, indices, values), the same
  ``add_param_group`` defaults and errors, and step/state_dict hooks called alike; a state
  saved by torch continues identically in rt;
* ``OptimizerFactory`` (rt only): every suggestion builds, through ``create``, an optimizer
  whose trajectory is torch's optimizer of that name with those hyper-parameters;
* ``Lion`` and ``LAMB``: PyTorch 2.13 has neither, so their oracle is a float64 numpy
  transcription of the papers' algorithms (Chen et al. 2023, Algorithm 2; You et al. 2020,
  Algorithm 2, as rt's docstrings state them), run on the same gradient sequence; state
  names and the state_dict round trip as PyTorch optimizers have them.
"""
import copy
import re
import warnings

import numpy as np
import pytest

import rt_autograd as rt
import rt_optim

torch = pytest.importorskip("torch", reason="PyTorch cannot be imported; the parity suite "
                                            "runs in `tox -e parity` (torch==2.13.0)")

STEPS = 20
SHAPES = [(4, 3), (5,), ()]


def _grads(seed, shapes=SHAPES, steps=STEPS):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s) for s in shapes] for _ in range(steps)]


def _init(seed, shapes=SHAPES):
    rng = np.random.default_rng(seed + 1000)
    return [rng.standard_normal(s) for s in shapes]


def _lib_params(L, arrays, dtype=np.float64):
    return [L.from_numpy(np.array(a, dtype=dtype)).requires_grad_() for a in arrays]


def _np(t):
    return np.array(t.detach().numpy(), copy=True)


# -- a custom optimizer on the Optimizer base class, written once ------------------------------
def make_custom_optimizer(optim, L):
    """SGD with a decaying trace of gradient signs and per-group ``scale``, PyTorch's way."""

    class SignMomentum(optim.Optimizer):
        def __init__(self, params, lr=0.01, beta=0.9, scale=1.0):
            if lr < 0:
                raise ValueError(f"Invalid learning rate: {lr}")
            super().__init__(params, dict(lr=lr, beta=beta, scale=scale))

        def step(self, closure=None):
            loss = None
            if closure is not None:
                with L.enable_grad():
                    loss = closure()
            with L.no_grad():
                for group in self.param_groups:
                    for p in group["params"]:
                        if p.grad is None:
                            continue
                        state = self.state[p]
                        if len(state) == 0:
                            state["step"] = 0
                            state["trace"] = L.zeros_like(p)
                        state["step"] += 1
                        trace = state["trace"]
                        trace.mul_(group["beta"]).add_(L.sign(p.grad), alpha=1 - group["beta"])
                        p.add_(trace * group["scale"] + p.grad, alpha=-group["lr"])
            return loss

    return SignMomentum


def _run_custom(L, optim, init, grads, groups):
    params = _lib_params(L, init)
    cls = make_custom_optimizer(optim, L)
    opt = cls([{"params": params[:2], **groups[0]}, {"params": params[2:], **groups[1]}],
              lr=0.05)
    calls = []
    opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", o is opt, kwargs)))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", o is opt, kwargs)))
    path = []
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = L.from_numpy(g.copy())
        opt.step()
        path.append([_np(p) for p in params])
    return opt, params, path, calls


def test_custom_optimizer_on_the_base_class_matches_torch():
    init, grads = _init(1), _grads(1)
    groups = [{"beta": 0.8}, {"scale": 0.5}]
    t_opt, _, t_path, t_calls = _run_custom(torch, torch.optim, init, grads, groups)
    r_opt, _, r_path, r_calls = _run_custom(rt, rt_optim, init, grads, groups)
    for step, (a, b) in enumerate(zip(r_path, t_path)):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=1e-13, atol=1e-15, err_msg=f"step {step}")
    assert r_calls == t_calls == [("pre", True, {}), ("post", True, {})] * STEPS
    # param_groups: defaults filled in, the group's own values kept
    strip = [{k: v for k, v in g.items() if k != "params"} for g in t_opt.param_groups]
    assert [{k: v for k, v in g.items() if k != "params"} for g in r_opt.param_groups] == strip
    assert strip[0] == {"lr": 0.05, "beta": 0.8, "scale": 1.0}
    # state_dict: PyTorch's structure (integer ids in group order) and values
    t_sd, r_sd = t_opt.state_dict(), r_opt.state_dict()
    assert r_sd["param_groups"] == t_sd["param_groups"]
    assert sorted(r_sd["state"]) == sorted(t_sd["state"]) == [0, 1, 2]
    for i in t_sd["state"]:
        assert r_sd["state"][i]["step"] == t_sd["state"][i]["step"] == STEPS
        np.testing.assert_allclose(_np(r_sd["state"][i]["trace"]),
                                   _np(t_sd["state"][i]["trace"]), rtol=1e-13, atol=1e-15)


def test_custom_optimizer_state_saved_by_torch_continues_in_rt():
    init, grads = _init(2), _grads(2)
    groups = [{}, {"lr": 0.2}]
    t_opt, t_params, _, _ = _run_custom(torch, torch.optim, init, grads[:10], groups)
    sd = t_opt.state_dict()
    converted = copy.deepcopy(sd)
    for s in converted["state"].values():
        s["trace"] = rt.from_numpy(_np(s["trace"]))
    r_params = _lib_params(rt, [_np(p) for p in t_params])
    r_opt = make_custom_optimizer(rt_optim, rt)([{"params": r_params[:2]},
                                                 {"params": r_params[2:]}], lr=0.05)
    r_opt.load_state_dict(converted)
    assert r_opt.param_groups[1]["lr"] == 0.2
    for step_grads in grads[10:]:
        for L, params, opt in ((torch, t_params, t_opt), (rt, r_params, r_opt)):
            for p, g in zip(params, step_grads):
                p.grad = L.from_numpy(g.copy())
            opt.step()
    for a, b in zip(r_params, t_params):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-13, atol=1e-15)


def test_base_class_errors_match_torch():
    cls_t = make_custom_optimizer(torch.optim, torch)
    cls_r = make_custom_optimizer(rt_optim, rt)
    pt = torch.zeros(2, requires_grad=True)
    pr = rt.zeros(2, requires_grad=True)
    cases = [
        (lambda C, p: C([]), "empty parameter list"),
        (lambda C, p: C(p), "a tensor instead of an iterable"),
        (lambda C, p: C([p, p]), "duplicate parameters (a UserWarning in torch)"),
        (lambda C, p: C([p]).add_param_group({"params": [p]}), "a parameter in two groups"),
        (lambda C, p: C([p], lr=-1.0), "the subclass's own check"),
    ]
    for build, what in cases:
        assert _outcome(lambda: build(cls_r, pr)) == _outcome(lambda: build(cls_t, pt)), what


def _outcome(fn):
    """('raises', type name, message) or ('warns', [(category, message), ...]); tensor type
    names normalised (torch.FloatTensor / rt_tensor.FloatTensor)."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        try:
            fn()
        except Exception as exc:
            return ("raises", type(exc).__name__, re.sub(r"rt_tensor\.", "torch.", str(exc)))
    return ("warns", [(w.category, str(w.message)) for w in record])


def test_step_hooks_receive_the_optimizer_in_args_like_torch():
    def run(L, optim):
        p = L.ones(2, requires_grad=True)
        opt = optim.SGD([p], lr=0.1)
        seen = []
        opt.register_step_pre_hook(lambda o, a, k: seen.append((len(a), bool(a) and a[0] is o)))
        opt.register_step_post_hook(lambda o, a, k: seen.append((len(a), bool(a) and a[0] is o)))
        p.grad = L.ones(2)
        opt.step()
        opt.step(lambda: L.tensor(1.0))
        return seen

    assert run(torch, torch.optim) == [(1, True), (1, True), (2, True), (2, True)]
    assert run(rt, rt_optim) == run(torch, torch.optim)


def test_state_dict_hooks_are_called_like_torchs():
    def run(L, optim):
        p = L.ones(2, requires_grad=True)
        opt = make_custom_optimizer(optim, L)([p])
        seen = []
        opt.register_state_dict_pre_hook(lambda o: seen.append("sd-pre"))
        opt.register_state_dict_post_hook(lambda o, sd: (seen.append("sd-post"), sd)[1])
        opt.register_load_state_dict_pre_hook(lambda o, sd: seen.append("load-pre"))
        opt.register_load_state_dict_post_hook(lambda o: seen.append("load-post"))
        opt.load_state_dict(opt.state_dict())
        return seen

    assert run(rt, rt_optim) == run(torch, torch.optim) == ["sd-pre", "sd-post", "load-pre",
                                                            "load-post"]


# -- OptimizerFactory ------------------------------------------------------------------------
SUGGESTIONS = [(task, n) for task in ("classification", "regression", "language_model",
                                      "fine_tuning", "small_model")
               for n in (1_000, 1_000_000, 10 ** 9)]


@pytest.mark.parametrize("task,n", SUGGESTIONS, ids=[f"{t}-{n}" for t, n in SUGGESTIONS])
def test_factory_suggestions_build_torchs_optimizer(task, n):
    s = rt_optim.OptimizerFactory.suggest(task, n)
    name, hp = s["optimizer"], s["hyperparameters"]
    assert set(s["reasons"]) == set(hp)
    init = _init(3)
    t_params, r_params = _lib_params(torch, init), _lib_params(rt, init)
    t_opt = getattr(torch.optim, name)(t_params, **hp)
    r_opt = rt_optim.OptimizerFactory.create(name.upper(), r_params, **hp)
    assert type(r_opt) is getattr(rt_optim, name)
    if name == "LBFGS":
        target = [np.full(s, 0.5) for s in SHAPES]
        for L, params, opt in ((torch, t_params, t_opt), (rt, r_params, r_opt)):
            tgt = [L.from_numpy(t) for t in target]

            def closure(params=params, opt=opt, tgt=tgt):
                opt.zero_grad()
                loss = sum(((p - t) ** 4).sum() + ((p - t) ** 2).sum()
                           for p, t in zip(params, tgt))
                loss.backward()
                return loss
            for _ in range(3):
                opt.step(closure)
        rtol = 1e-9          # see test_lbfgs_parity.py: line searches amplify last bits
    else:
        for step_grads in _grads(3):
            for L, params, opt in ((torch, t_params, t_opt), (rt, r_params, r_opt)):
                for p, g in zip(params, step_grads):
                    p.grad = L.from_numpy(g.copy())
                opt.step()
        rtol = 1e-12
    for a, b in zip(r_params, t_params):
        np.testing.assert_allclose(_np(a), _np(b), rtol=rtol, atol=1e-14)


def test_factory_lists_and_refuses_like_its_docstring():
    names = rt_optim.OptimizerFactory.available()
    assert "Lion" in names and "LAMB" in names and "SGD" in names
    for name in names:
        if hasattr(torch.optim, name):
            assert getattr(rt_optim, name).__name__ == getattr(torch.optim, name).__name__
    with pytest.raises(ValueError, match="AdamW"):
        rt_optim.OptimizerFactory.create("adamv", [rt.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError):
        rt_optim.OptimizerFactory.suggest("poetry", 10)
    with pytest.raises((TypeError, ValueError)):
        rt_optim.OptimizerFactory.suggest("classification", 0)


# -- Lion and LAMB against the papers ----------------------------------------------------------
def lion_reference(init, grads, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, maximize=False):
    params = [p.copy() for p in init]
    m = [np.zeros_like(p) for p in init]
    path = []
    for step_grads in grads:
        for i, g in enumerate(step_grads):
            d = -g if maximize else g
            c = betas[0] * m[i] + (1 - betas[0]) * d
            params[i] = params[i] - lr * (np.sign(c) + weight_decay * params[i])
            m[i] = betas[1] * m[i] + (1 - betas[1]) * d
        path.append([p.copy() for p in params])
    return path, m


def lamb_reference(init, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0,
                   maximize=False):
    params = [p.copy() for p in init]
    m = [np.zeros_like(p) for p in init]
    v = [np.zeros_like(p) for p in init]
    path = []
    for t, step_grads in enumerate(grads, start=1):
        for i, g in enumerate(step_grads):
            d = -g if maximize else g
            m[i] = betas[0] * m[i] + (1 - betas[0]) * d
            v[i] = betas[1] * v[i] + (1 - betas[1]) * d * d
            r = (m[i] / (1 - betas[0] ** t)) / (np.sqrt(v[i] / (1 - betas[1] ** t)) + eps) \
                + weight_decay * params[i]
            pn, rn = np.linalg.norm(params[i]), np.linalg.norm(r)
            trust = pn / rn if pn > 0 and rn > 0 else 1.0
            params[i] = params[i] - lr * trust * r
        path.append([p.copy() for p in params])
    return path, (m, v)


PAPER_CASES = [
    ("Lion", {}), ("Lion", dict(lr=0.01, betas=(0.8, 0.95), weight_decay=0.1)),
    ("Lion", dict(lr=0.003, maximize=True, weight_decay=0.01)),
    ("LAMB", {}), ("LAMB", dict(lr=0.02, betas=(0.8, 0.9), eps=1e-8, weight_decay=0.01)),
    ("LAMB", dict(lr=0.01, maximize=True)),
]


def _rt_trajectory(name, kwargs, init, grads, dtype):
    params = _lib_params(rt, init, dtype)
    opt = getattr(rt_optim, name)(params, **kwargs)
    path = []
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = rt.from_numpy(g.astype(dtype))
        opt.step()
        path.append([_np(p) for p in params])
    return opt, params, path


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,kwargs", PAPER_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(PAPER_CASES)])
def test_lion_and_lamb_follow_the_papers(name, kwargs, dtype):
    # a zero-initialised tensor (a bias) exercises LAMB's trust ratio of 1
    init = _init(4)[:2] + [np.zeros(3)]
    grads = _grads(4, shapes=[(4, 3), (5,), (3,)])
    ref = lion_reference if name == "Lion" else lamb_reference
    want, _ = ref(init, grads, **kwargs)
    opt, _, got = _rt_trajectory(name, kwargs, init, grads, np.dtype(dtype).type)
    # float32: the update is computed in float32 (Lion's sign is exact, its decay and LAMB's
    # moments are rounded at 6e-8 per op over 20 steps)
    rtol, atol = (1e-12, 1e-14) if dtype == "float64" else (2e-5, 2e-6)
    for step, (a, b) in enumerate(zip(got, want)):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=f"step {step + 1}")
    keys = ["exp_avg"] if name == "Lion" else ["step", "exp_avg", "exp_avg_sq"]
    sd = opt.state_dict()
    assert all(sorted(s) == sorted(keys) for s in sd["state"].values())
    if name == "LAMB":
        assert sd["state"][0]["step"].item() == STEPS and sd["state"][0]["step"].dtype == rt.float32


@pytest.mark.parametrize("name", ["Lion", "LAMB"])
def test_lion_and_lamb_state_dict_round_trip_continues_identically(name):
    init, grads = _init(5), _grads(5)
    opt, params, _ = _rt_trajectory(name, dict(lr=0.01), init, grads[:10], np.float64)
    twin = [rt.from_numpy(_np(p)).requires_grad_() for p in params]
    twin_opt = getattr(rt_optim, name)(twin, lr=0.5)
    twin_opt.load_state_dict(opt.state_dict())
    for step_grads in grads[10:]:
        for ps, o in ((params, opt), (twin, twin_opt)):
            for p, g in zip(ps, step_grads):
                p.grad = rt.from_numpy(g.copy())
            o.step()
    for a, b in zip(params, twin):
        assert rt.equal(a, b)
    # and the reference after all 20 steps
    ref = lion_reference if name == "Lion" else lamb_reference
    want, _ = ref(init, grads, lr=0.01)
    for a, b in zip(params, want[-1]):
        np.testing.assert_allclose(_np(a), b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["Lion", "LAMB"])
def test_complex_parameters_are_updated_as_pairs_of_reals(name):
    rng = np.random.default_rng(6)
    z0 = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    gz = [rng.standard_normal(4) + 1j * rng.standard_normal(4) for _ in range(8)]
    p = rt.from_numpy(z0.copy()).requires_grad_()
    opt = getattr(rt_optim, name)([p], lr=0.01)
    for g in gz:
        p.grad = rt.from_numpy(g.copy())
        opt.step()
    as_real = np.stack([z0.real, z0.imag], -1)
    ref = lion_reference if name == "Lion" else lamb_reference
    want, _ = ref([as_real], [[np.stack([g.real, g.imag], -1)] for g in gz], lr=0.01)
    got = _np(p)
    np.testing.assert_allclose(np.stack([got.real, got.imag], -1), want[-1][0], rtol=1e-12)
