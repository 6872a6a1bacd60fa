"""rt_optim.LBFGS against torch.optim.LBFGS 2.13 on the same closures: every closure call
(the loss and the parameters it saw), the value ``step`` returns, the final parameters and
the final state (``func_evals``, ``n_iter``, ``d``, ``t``, the history lists, ``H_diag``,
``prev_flat_grad``, ``prev_loss``, ``al``) agree in float64 to 1e-9 relative, for
configurations with and without the strong Wolfe line search, a small history, max_iter and
max_eval limits, and tolerances that stop a step early. A state_dict saved by torch,
converted tensor by tensor, continues identically in rt.

The two libraries' kernels round differently in the last bit (dot products, a + alpha*b),
and L-BFGS amplifies such differences on ill-conditioned problems, so the problems here are
well conditioned and the runs stop while the trajectories agree to 1e-9 with a tenfold
margin (they still do at 1e-10). Parameters are compared relative to each tensor's scale;
the state's vectors and inner products near the optimum are compared beyond the rounding
noise they inherit from the gradients (see ``_compare_state``).
"""
import numpy as np
import pytest

import rt_autograd as rt
import rt_optim

torch = pytest.importorskip("torch", reason="PyTorch cannot be imported; the parity suite "
                                            "runs in `tox -e parity` (torch==2.13.0)")

RTOL = 1e-9
ATOL = 1e-13            # for values that converge to 0 (losses, gradients at the optimum)


class LeastSquares:
    """½‖X·W + c - Y‖² over a weight matrix and a bias (two parameters, one flat vector of
    39 values). Well conditioned on purpose: on an ill-conditioned quadratic, L-BFGS's
    directions after a few dozen iterations amplify last-bit differences (lost conjugacy,
    as in conjugate gradients) and two correct implementations drift apart."""

    def __init__(self, seed=0, n=60, d_in=12, d_out=3):
        rng = np.random.default_rng(seed)
        self.X = rng.standard_normal((n, d_in))
        self.Y = rng.standard_normal((n, d_out))
        self.init = [rng.standard_normal((d_in, d_out)), rng.standard_normal(d_out)]

    def loss(self, lib, params):
        weight, bias = params
        X, Y = lib.tensor(self.X).to(weight.dtype), lib.tensor(self.Y).to(weight.dtype)
        return 0.5 * ((X @ weight + bias - Y) ** 2).sum()


class Rosenbrock:
    """Σ 100 (x[i+1] - x[i]²)² + (1 - x[i])² over one vector."""

    def __init__(self, start=(-1.2, 1.0, 0.7, -0.4)):
        self.init = [np.array(start)]

    def loss(self, lib, params):
        (x,) = params
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


LSQ = LeastSquares()
ROSEN = Rosenbrock()

# (problem, LBFGS keyword arguments, number of step() calls)
CASES = [
    (LSQ, dict(), 2),
    (LSQ, dict(line_search_fn="strong_wolfe"), 2),
    (LSQ, dict(lr=0.6, history_size=2), 3),
    (LSQ, dict(line_search_fn="strong_wolfe", history_size=1), 3),
    (LSQ, dict(max_iter=4, max_eval=5, line_search_fn="strong_wolfe"), 4),
    (LSQ, dict(max_iter=3, lr=0.5), 5),
    (LSQ, dict(tolerance_change=1e-3), 2),
    (LSQ, dict(tolerance_grad=1e-2, line_search_fn="strong_wolfe"), 2),
    (ROSEN, dict(lr=0.1, max_iter=10), 3),
    (ROSEN, dict(line_search_fn="strong_wolfe", max_iter=25), 1),
    (ROSEN, dict(line_search_fn="strong_wolfe", lr=0.5, history_size=2, max_iter=10), 3),
    (ROSEN, dict(line_search_fn="strong_wolfe", max_iter=6, max_eval=8, history_size=3), 2),
]
IDS = [f"{type(p).__name__}-{i}" for i, (p, _, _) in enumerate(CASES)]


def _run(lib, problem, kwargs, steps, dtype="float64", init=None, state_dict=None):
    """Every closure call as (loss, parameters, gradients), the step results, the
    optimizer, the parameters."""
    tensor = torch.from_numpy if lib is torch else rt.tensor
    init = problem.init if init is None else init
    params = [tensor(np.array(a, dtype=dtype)).requires_grad_() for a in init]
    opt = lib.optim.LBFGS(params, **kwargs) if lib is torch else rt_optim.LBFGS(params, **kwargs)
    if state_dict is not None:
        opt.load_state_dict(state_dict)
    calls = []

    def closure():
        opt.zero_grad()
        loss = problem.loss(lib, params)
        loss.backward()
        calls.append((loss.item(), [p.detach().numpy().copy() for p in params],
                      [p.grad.numpy().copy() for p in params]))
        return loss

    results = [opt.step(closure).item() for _ in range(steps)]
    return calls, results, opt, params


def _real(values):
    values = np.asarray(values)
    return np.stack([values.real, values.imag]) if np.iscomplexobj(values) else values


def _close(actual, expected, what, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(_real(actual), _real(expected), rtol=rtol, atol=atol,
                               err_msg=what)


def _number(value):
    return value.item() if isinstance(value, (torch.Tensor, rt.Tensor)) else value


def _numpy(value):
    return np.asarray(value.detach().numpy() if isinstance(value, (torch.Tensor, rt.Tensor))
                      else value, dtype=np.float64)


def _compare_state(r_state, t_state, noise, rtol=RTOL):
    """The final L-BFGS state, kinds (tensor or number), dtypes and shapes exactly, values
    to ``rtol`` beyond the rounding noise they inherit. Near the optimum the gradients are
    differences of large terms: an entry carries an absolute error of about eps times the
    gradient's starting scale, whatever its size then. So vectors get the absolute
    tolerance ``noise`` (rtol times the first gradient's largest entry); s'y = 1/ro gets
    noise·‖s‖, and al = ro·s'q (q of the gradient's scale) noise·‖s‖·|ro|, the error that
    the gradient noise makes in those inner products."""
    assert set(r_state) == set(t_state)
    for key in ("func_evals", "n_iter"):
        assert r_state[key] == t_state[key], key
    for key, t_value in t_state.items():
        r_value = r_state[key]
        t_items = t_value if isinstance(t_value, list) else [t_value]
        r_items = r_value if isinstance(r_value, list) else [r_value]
        assert isinstance(r_value, list) == isinstance(t_value, list), key
        assert len(r_items) == len(t_items), key
        for i, (r_item, t_item) in enumerate(zip(r_items, t_items)):
            what = f"{key}[{i}]" if isinstance(t_value, list) else key
            # t and H_diag are numbers or 0-d tensors depending on the iteration: the same
            # kind in both
            assert (r_item is None) == (t_item is None), what
            assert isinstance(r_item, rt.Tensor) == isinstance(t_item, torch.Tensor), what
            if isinstance(t_item, torch.Tensor):
                assert str(r_item.dtype).split(".")[-1] == str(t_item.dtype).split(".")[-1]
                assert tuple(r_item.shape) == tuple(t_item.shape), what
            if t_item is None or key in ("func_evals", "n_iter"):
                continue
            if key == "ro":
                s_norm = np.linalg.norm(_numpy(t_state["old_stps"][i]))
                _close(1 / _number(r_item), 1 / _number(t_item), "1/" + what, rtol,
                       noise * s_norm)
            elif key == "al":
                s_norm = np.linalg.norm(_numpy(t_state["old_stps"][i]))
                _close(_number(r_item), _number(t_item), what, rtol,
                       noise * s_norm * abs(_number(t_state["ro"][i])))
            elif isinstance(t_item, torch.Tensor) and t_item.ndim:
                _close(_numpy(r_item), _numpy(t_item), what, rtol, noise)
            else:
                _close(_number(r_item), _number(t_item), what, rtol, ATOL)


def _compare_runs(r_run, t_run, rtol=RTOL, atol=ATOL):
    r_calls, r_results, r_opt, r_params = r_run
    t_calls, t_results, t_opt, t_params = t_run
    assert len(r_calls) == len(t_calls), "number of closure calls"
    for i, ((r_loss, r_ps, _), (t_loss, t_ps, _)) in enumerate(zip(r_calls, t_calls)):
        _close(r_loss, t_loss, f"loss of call {i}", rtol, atol)
        for j, (r_p, t_p) in enumerate(zip(r_ps, t_ps)):
            # relative to the tensor's scale: an entry that happens to be near 0 is not
            # held to 1e-9 of itself
            _close(r_p, t_p, f"parameter {j} at call {i}", rtol,
                   atol + rtol * np.max(np.abs(_real(t_p))))
    _close(r_results, t_results, "step results", rtol, atol)
    for j, (r_p, t_p) in enumerate(zip(r_params, t_params)):
        t_p = t_p.detach().numpy()
        _close(r_p.detach().numpy(), t_p, f"final parameter {j}", rtol,
               atol + rtol * np.max(np.abs(_real(t_p))))
    r_sd, t_sd = r_opt.state_dict(), t_opt.state_dict()
    assert r_sd["param_groups"] == t_sd["param_groups"]
    assert sorted(r_sd["state"]) == sorted(t_sd["state"]) == [0]
    first_gradient_scale = max(np.max(np.abs(_real(g))) for g in t_calls[0][2])
    _compare_state(r_sd["state"][0], t_sd["state"][0], rtol * first_gradient_scale, rtol)


@pytest.mark.parametrize("problem,kwargs,steps", CASES, ids=IDS)
def test_closure_calls_and_state_match_torch_float64(problem, kwargs, steps):
    t_run = _run(torch, problem, kwargs, steps)
    r_run = _run(rt, problem, kwargs, steps)
    _compare_runs(r_run, t_run)


def _counts_per_step(lib, problem, kwargs, steps):
    """(n_iter, func_evals) after each step() call."""
    tensor = torch.from_numpy if lib is torch else rt.tensor
    params = [tensor(np.array(a)).requires_grad_() for a in problem.init]
    opt = torch.optim.LBFGS(params, **kwargs) if lib is torch else rt_optim.LBFGS(params,
                                                                                   **kwargs)

    def closure():
        opt.zero_grad()
        loss = problem.loss(lib, params)
        loss.backward()
        return loss

    counts = []
    for _ in range(steps):
        opt.step(closure)
        counts.append((opt.state[params[0]]["n_iter"], opt.state[params[0]]["func_evals"]))
    return counts


def test_the_limits_and_tolerances_stop_the_same_steps_as_torch():
    # the configurations of CASES mean something only if they stop where intended
    def counts(index):
        problem, kwargs, steps = CASES[index]
        expected = _counts_per_step(torch, problem, kwargs, steps)
        assert _counts_per_step(rt, problem, kwargs, steps) == expected
        return expected

    # max_iter=4, max_eval=5: the first step's line searches use up the evaluations
    assert counts(4)[0] == (3, 5)
    # tolerance_change=1e-3: the first step stops before max_iter=20
    assert counts(6)[0][0] < 20
    # tolerance_grad=1e-2: the second step finds the gradient small and does not iterate
    first, second = counts(7)
    assert first[0] < 20 and second[0] == first[0] and second[1] == first[1] + 1
    # max_iter=6, max_eval=8 on Rosenbrock: both limits reached together in each step
    assert counts(11) == [(6, 8), (12, 16)]


def test_float32_follows_torch_to_float32_rounding():
    problem, kwargs = LSQ, dict(line_search_fn="strong_wolfe", max_iter=8)
    t_run = _run(torch, problem, kwargs, 1, dtype="float32")
    r_run = _run(rt, problem, kwargs, 1, dtype="float32")
    _compare_runs(r_run, t_run, rtol=2e-4, atol=2e-5)
    assert r_run[3][0].dtype == rt.float32


def test_a_complex_parameter_matches_torch():
    rng = np.random.default_rng(4)
    start = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    target = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    scale = rng.uniform(1, 4, 3)

    class ComplexProblem:
        init = [start]

        def loss(self, lib, params):
            (z,) = params
            diff = z - lib.tensor(target)
            return (lib.tensor(scale) * (diff.real ** 2 + 3 * diff.imag ** 2)).sum()

    kwargs = dict(line_search_fn="strong_wolfe", max_iter=6)
    t_run = _run(torch, ComplexProblem(), kwargs, 2, dtype="complex128")
    r_run = _run(rt, ComplexProblem(), kwargs, 2, dtype="complex128")
    _compare_runs(r_run, t_run)


def _to_rt(obj):
    if isinstance(obj, torch.Tensor):
        return rt.tensor(obj.detach().numpy().copy())
    if isinstance(obj, dict):
        return {k: _to_rt(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_rt(v) for v in obj)
    return obj


@pytest.mark.parametrize("kwargs", [dict(lr=0.6, history_size=3, max_iter=4),
                                    dict(line_search_fn="strong_wolfe", max_iter=3)],
                         ids=["fixed-step", "strong_wolfe"])
def test_a_torch_state_dict_continues_identically_in_rt(kwargs):
    problem = LSQ
    t_calls, _, t_opt, t_params = _run(torch, problem, kwargs, 2)
    middle = [p.detach().numpy().copy() for p in t_params]
    saved = _to_rt(t_opt.state_dict())
    t_continued = _run(torch, problem, kwargs, 2, init=middle,
                       state_dict=t_opt.state_dict())
    r_continued = _run(rt, problem, kwargs, 2, init=middle, state_dict=saved)
    _compare_runs(r_continued, t_continued)
