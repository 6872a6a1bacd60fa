"""LBFGS: convergence on Rosenbrock's function and on quadratics (closed-form optimum), with
and without the strong Wolfe line search; the iterates of ``line_search_fn=None`` against an
independent numpy L-BFGS (Nocedal & Wright, "Numerical Optimization", 2nd ed., Algorithm 7.4
for the direction); state across steps, state_dict round trip, dtypes, errors."""
import copy

import numpy as np
import pytest
import rt_autograd as rt

import rt_optim

STATE_KEYS = {"func_evals", "n_iter", "d", "t", "old_dirs", "old_stps", "ro", "H_diag",
              "prev_flat_grad", "prev_loss", "al"}


# --- the problems, each as an rt loss and a numpy (loss, gradient) -------------------------------
def _spd(n, seed=0):
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((n, n))
    return m @ m.T / n + np.eye(n), rng.standard_normal(n)


class Quadratic:
    """f(x) = ½ x'Ax - b'x with A symmetric positive definite; the optimum is A⁻¹b."""

    def __init__(self, n=6, seed=0):
        self.A, self.b = _spd(n, seed)
        self.x0 = np.random.default_rng(seed + 1).standard_normal(n)
        self.optimum = np.linalg.solve(self.A, self.b)

    def rt_loss(self, x):
        A, b = rt.tensor(self.A, dtype=x.dtype), rt.tensor(self.b, dtype=x.dtype)
        return 0.5 * (x @ (A @ x)) - b @ x

    def numpy(self, x):
        return 0.5 * x @ self.A @ x - self.b @ x, self.A @ x - self.b


class Rosenbrock:
    """f(x) = Σ 100 (x[i+1] - x[i]²)² + (1 - x[i])²; the optimum is all ones."""

    def __init__(self, x0=(-1.2, 1.0, 0.8)):
        self.x0 = np.array(x0, dtype=np.float64)
        self.optimum = np.ones_like(self.x0)

    def rt_loss(self, x):
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()

    def numpy(self, x):
        a, b = x[:-1], x[1:]
        f = np.sum(100 * (b - a ** 2) ** 2 + (1 - a) ** 2)
        g = np.zeros_like(x)
        g[:-1] += -400 * a * (b - a ** 2) - 2 * (1 - a)
        g[1:] += 200 * (b - a ** 2)
        return f, g


def _optimizer(problem, dtype=rt.float64, **kwargs):
    """(parameter, optimizer, closure, log of (loss, parameters) per closure call)."""
    x = rt.tensor(problem.x0, dtype=dtype, requires_grad=True)
    opt = rt_optim.LBFGS([x], **kwargs)
    log = []

    def closure():
        opt.zero_grad()
        loss = problem.rt_loss(x)
        loss.backward()
        log.append((loss.item(), x.detach().double().numpy().copy()))
        return loss

    return x, opt, closure, log


# --- the numpy oracle -----------------------------------------------------------------------------
def numpy_lbfgs(fg, x0, *, lr=1.0, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                tolerance_change=1e-9, history_size=100):
    """One ``LBFGS.step`` without line search, written from Nocedal & Wright: the direction
    is -H·g from the two-loop recursion (Algorithm 7.4) over the last ``history_size``
    pairs (s, y) with s'y > 1e-10, H0 = γ·I with γ = s'y / y'y of the newest pair (eq. 7.20);
    the step is ``lr`` (min(1, 1/‖g‖₁)·lr on the first iteration). Returns the points where
    the function was evaluated (with their loss) and the final point."""
    max_eval = max_iter * 5 // 4 if max_eval is None else max_eval
    x = np.array(x0, dtype=np.float64)
    f, g = fg(x)
    evaluations = [(f, x.copy())]
    if np.max(np.abs(g)) <= tolerance_grad:
        return evaluations, x
    pairs = []                 # (s, y, rho), oldest first
    gamma = 1.0
    d = t = g_prev = None
    for k in range(max_iter):
        if k == 0:
            d = -g
        else:
            s, y = t * d, g - g_prev
            sy = y @ s
            if sy > 1e-10:
                pairs = (pairs + [(s, y, 1.0 / sy)])[-history_size:]
                gamma = sy / (y @ y)
            q = g.copy()
            alphas = []
            for s_i, y_i, rho_i in reversed(pairs):
                a_i = rho_i * (s_i @ q)
                q = q - a_i * y_i
                alphas.append(a_i)
            r = gamma * q
            for (s_i, y_i, rho_i), a_i in zip(pairs, reversed(alphas)):
                beta = rho_i * (y_i @ r)
                r = r + s_i * (a_i - beta)
            d = -r
        g_prev, f_prev = g, f
        t = min(1.0, 1.0 / np.sum(np.abs(g))) * lr if k == 0 else lr
        if g @ d > -tolerance_change:
            break
        x = x + t * d
        if k == max_iter - 1:
            break                        # the last move is not evaluated
        f, g = fg(x)
        evaluations.append((f, x.copy()))
        if (len(evaluations) >= max_eval or np.max(np.abs(g)) <= tolerance_grad
                or np.max(np.abs(t * d)) <= tolerance_change or abs(f - f_prev) < tolerance_change):
            break
    return evaluations, x


def _assert_same_evaluations(log, expected, rtol):
    assert len(log) == len(expected)
    for i, ((loss, x), (e_loss, e_x)) in enumerate(zip(log, expected)):
        np.testing.assert_allclose(x, e_x, rtol=rtol, atol=1e-14, err_msg=f"evaluation {i}")
        np.testing.assert_allclose(loss, e_loss, rtol=rtol, atol=1e-14,
                                   err_msg=f"evaluation {i}")


ORACLE_CASES = [
    (Quadratic(), dict()),
    (Quadratic(n=9, seed=3), dict(lr=0.7, history_size=2)),
    (Rosenbrock(), dict(lr=0.2, max_iter=12)),
    (Rosenbrock((0.5, -0.3)), dict(lr=0.1, history_size=1, max_iter=15)),
    (Quadratic(), dict(max_iter=30, max_eval=9)),
]


@pytest.mark.parametrize("problem,kwargs", ORACLE_CASES,
                         ids=[f"{type(p).__name__}-{i}" for i, (p, _) in enumerate(ORACLE_CASES)])
def test_iterates_match_the_numpy_two_loop_recursion(problem, kwargs):
    x, opt, closure, log = _optimizer(problem, **kwargs)
    loss = opt.step(closure)
    expected, final = numpy_lbfgs(problem.numpy, problem.x0, **kwargs)
    assert loss.item() == log[0][0]
    _assert_same_evaluations(log, expected, rtol=1e-9)
    np.testing.assert_allclose(x.detach().numpy(), final, rtol=1e-9, atol=1e-14)
    assert opt.state[x]["func_evals"] == len(expected)


def test_state_carries_the_history_across_steps():
    # three steps of 4 iterations evaluate the same points as one step of 12: the next
    # step's first evaluation is the previous step's last, unevaluated move
    problem = Quadratic(n=8, seed=5)
    x, opt, closure, log = _optimizer(problem, max_iter=4, history_size=3)
    for _ in range(3):
        opt.step(closure)
    expected, final = numpy_lbfgs(problem.numpy, problem.x0, max_iter=12, max_eval=100,
                                  history_size=3)
    _assert_same_evaluations(log, expected, rtol=1e-9)
    np.testing.assert_allclose(x.detach().numpy(), final, rtol=1e-9, atol=1e-14)
    state = opt.state[x]
    assert state["n_iter"] == 12 and state["func_evals"] == 12
    assert len(state["old_dirs"]) == len(state["old_stps"]) == len(state["ro"]) == 3
    assert len(state["al"]) == 3


# --- convergence --------------------------------------------------------------------------------
# The line search compares losses, which near the optimum differ only by rounding: it stops
# about sqrt(machine epsilon) from the optimum (as PyTorch's does); the fixed step uses only
# gradients and gets closer.
@pytest.mark.parametrize("line_search_fn,atol", [(None, 1e-10), ("strong_wolfe", 1e-7)])
def test_minimises_a_quadratic_to_its_closed_form_optimum(line_search_fn, atol):
    problem = Quadratic(n=10, seed=7)
    x, opt, closure, _ = _optimizer(problem, line_search_fn=line_search_fn, max_iter=100,
                                    tolerance_grad=1e-11, tolerance_change=0)
    opt.step(closure)
    np.testing.assert_allclose(x.detach().numpy(), problem.optimum, rtol=0, atol=atol)


@pytest.mark.parametrize("line_search_fn,lr", [(None, 0.5), ("strong_wolfe", 1)])
def test_minimises_the_rosenbrock_function(line_search_fn, lr):
    problem = Rosenbrock()
    x, opt, closure, log = _optimizer(problem, line_search_fn=line_search_fn, lr=lr,
                                      max_iter=500, max_eval=1000, tolerance_grad=1e-10,
                                      tolerance_change=1e-15)
    opt.step(closure)
    np.testing.assert_allclose(x.detach().numpy(), problem.optimum, atol=1e-5)
    assert log[-1][0] < 1e-9


def test_the_line_search_needs_fewer_evaluations_on_rosenbrock():
    evals = {}
    for line_search_fn, lr in [(None, 0.5), ("strong_wolfe", 1)]:
        x, opt, closure, log = _optimizer(Rosenbrock(), line_search_fn=line_search_fn, lr=lr,
                                          max_iter=500, max_eval=1000, tolerance_grad=1e-8)
        opt.step(closure)
        evals[line_search_fn] = len(log)
    assert evals["strong_wolfe"] < evals[None]


def test_strong_wolfe_steps_satisfy_the_wolfe_conditions():
    problem = Rosenbrock()
    # one iteration per step (max_eval as the default for 20: with max_iter=1 it would be 1,
    # leaving the line search no evaluation beyond its first trial)
    x, opt, closure, _ = _optimizer(problem, line_search_fn="strong_wolfe", max_iter=1,
                                    max_eval=25)
    for _ in range(8):
        before = x.detach().numpy().copy()
        f0, g0 = problem.numpy(before)
        opt.step(closure)
        state = opt.state[x]
        d = state["d"].numpy()
        t = float(state["t"])
        after = x.detach().numpy()
        np.testing.assert_allclose(after, before + t * d, rtol=1e-12, atol=1e-15)
        f1, g1 = problem.numpy(after)
        assert f1 <= f0 + 1e-4 * t * (g0 @ d) + 1e-12           # sufficient decrease
        assert abs(g1 @ d) <= 0.9 * abs(g0 @ d) + 1e-12          # curvature


# --- the step's contract -----------------------------------------------------------------------
def test_returns_the_first_loss_and_evaluates_with_gradients_enabled():
    problem = Quadratic()
    x = rt.tensor(problem.x0, requires_grad=True)
    opt = rt_optim.LBFGS([x], max_iter=3)
    results, modes = [], []

    def closure():
        modes.append(rt.is_grad_enabled())
        opt.zero_grad()
        loss = problem.rt_loss(x)
        loss.backward()
        results.append(loss)
        return loss

    with rt.no_grad():
        out = opt.step(closure)
    assert out is results[0]
    assert modes == [True, True, True]
    assert not x.grad.requires_grad


def test_stops_at_once_when_the_gradient_is_below_tolerance_grad():
    problem = Quadratic()
    x, opt, closure, log = _optimizer(problem, tolerance_grad=1e6)
    opt.step(closure)
    assert len(log) == 1
    np.testing.assert_array_equal(x.detach().numpy(), problem.x0)
    assert opt.state[x] == {"func_evals": 1, "n_iter": 0}


def test_max_eval_limits_the_line_search():
    x, opt, closure, log = _optimizer(Rosenbrock(), line_search_fn="strong_wolfe", max_iter=50,
                                      max_eval=7)
    opt.step(closure)
    assert opt.state[x]["func_evals"] == len(log) <= 7 + 1
    assert opt.defaults["max_eval"] == 7


def test_max_eval_defaults_to_five_quarters_of_max_iter():
    x = rt.zeros(2, requires_grad=True)
    assert rt_optim.LBFGS([x]).defaults["max_eval"] == 25
    assert rt_optim.LBFGS([x], max_iter=7).defaults["max_eval"] == 8
    assert list(rt_optim.LBFGS([x]).defaults) == [
        "lr", "max_iter", "max_eval", "tolerance_grad", "tolerance_change", "history_size",
        "line_search_fn"]


@pytest.mark.parametrize("kwargs", [dict(tolerance_change=1e-3), dict(tolerance_change=0.5),
                                    dict(tolerance_grad=0.05), dict(tolerance_change=1e-2, lr=0.3)],
                         ids=["change-1e-3", "change-0.5", "grad-0.05", "change-lr"])
def test_tolerances_stop_the_step_early_where_the_oracle_stops(kwargs):
    problem = Quadratic(n=8, seed=2)
    x, opt, closure, log = _optimizer(problem, max_iter=100, **kwargs)
    opt.step(closure)
    expected, final = numpy_lbfgs(problem.numpy, problem.x0, max_iter=100, **kwargs)
    assert 2 <= len(expected) < 100
    _assert_same_evaluations(log, expected, rtol=1e-9)
    np.testing.assert_allclose(x.detach().numpy(), final, rtol=1e-9, atol=1e-14)
    assert opt.state[x]["n_iter"] < 100


def test_history_size_bounds_the_memory():
    x, opt, closure, _ = _optimizer(Rosenbrock(), lr=0.1, max_iter=30, history_size=4)
    opt.step(closure)
    state = opt.state[x]
    assert len(state["old_dirs"]) == len(state["old_stps"]) == len(state["ro"]) == 4
    assert len(state["al"]) == 4


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_state_keys_and_types_as_pytorch(line_search_fn):
    x, opt, closure, _ = _optimizer(Rosenbrock(), line_search_fn=line_search_fn, lr=0.1,
                                    max_iter=5)
    opt.step(closure)
    state = opt.state[x]
    assert set(state) == STATE_KEYS
    assert list(opt.state) == [x]                    # all of it under the first parameter
    for key in ("d", "prev_flat_grad"):
        assert state[key].dtype == rt.float64 and state[key].shape == (3,)
    assert isinstance(state["prev_loss"], float)
    assert isinstance(state["func_evals"], int) and isinstance(state["n_iter"], int)
    assert all(isinstance(r, rt.Tensor) and r.shape == () for r in state["ro"])


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_state_dict_round_trip_continues_identically(line_search_fn):
    problem = Rosenbrock()
    a, opt_a, closure_a, _ = _optimizer(problem, line_search_fn=line_search_fn, lr=0.2,
                                        max_iter=4, history_size=3)
    for _ in range(2):
        opt_a.step(closure_a)
    saved = copy.deepcopy(opt_a.state_dict())
    assert sorted(saved["state"]) == [0]
    assert set(saved["state"][0]) == STATE_KEYS
    b, opt_b, closure_b, _ = _optimizer(problem, line_search_fn=line_search_fn, lr=0.2,
                                        max_iter=4, history_size=3)
    with rt.no_grad():
        b.copy_(a)
    opt_b.load_state_dict(saved)
    for _ in range(3):
        opt_a.step(closure_a)
        opt_b.step(closure_b)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert opt_b.state[b]["n_iter"] == opt_a.state[a]["n_iter"] == 20


# --- parameters ---------------------------------------------------------------------------------
def test_several_parameters_share_one_flat_vector():
    problem = Quadratic(n=6)
    whole, opt, closure, _ = _optimizer(problem, max_iter=8)
    opt.step(closure)
    first = rt.tensor(problem.x0[:2], requires_grad=True)
    second = rt.tensor(problem.x0[2:].reshape(2, 2), requires_grad=True)
    opt2 = rt_optim.LBFGS([first, second], max_iter=8)

    def closure2():
        opt2.zero_grad()
        loss = problem.rt_loss(rt.cat([first, second.reshape(-1)]))
        loss.backward()
        return loss

    opt2.step(closure2)
    got = np.concatenate([first.detach().numpy(), second.detach().numpy().reshape(-1)])
    np.testing.assert_allclose(got, whole.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert list(opt2.state) == [first]


def test_a_parameter_without_gradient_counts_as_zero_and_stays():
    problem = Quadratic()
    x, _, _, _ = _optimizer(problem)
    unused = rt.ones(3, requires_grad=True)
    opt = rt_optim.LBFGS([unused, x], max_iter=5)

    def closure():
        opt.zero_grad()
        loss = problem.rt_loss(x)
        loss.backward()
        return loss

    opt.step(closure)
    assert unused.tolist() == [1.0, 1.0, 1.0]
    assert opt.state[unused]["prev_flat_grad"].shape == (3 + 6,)
    assert problem.numpy(x.detach().numpy())[0] < problem.numpy(problem.x0)[0]


@pytest.mark.parametrize("dtype", [rt.float32, rt.float16, rt.bfloat16])
def test_lower_precision_parameters_keep_their_dtype(dtype):
    # (in float16, PyTorch's run of this problem turns to NaN after 7 iterations, when
    # s'y / y'y overflows; rt's does the same, so only the first iterations are checked)
    problem = Quadratic(n=4)
    x, opt, closure, log = _optimizer(problem, dtype=dtype, max_iter=5)
    opt.step(closure)
    state = opt.state[x]
    assert x.dtype == dtype
    assert state["d"].dtype == dtype and state["prev_flat_grad"].dtype == dtype
    assert state["H_diag"].dtype == dtype
    assert log[-1][0] < log[0][0] - 4


def test_float32_converges_like_float64():
    problem = Quadratic(n=6)
    x, opt, closure, _ = _optimizer(problem, dtype=rt.float32, line_search_fn="strong_wolfe",
                                    max_iter=50)
    opt.step(closure)
    np.testing.assert_allclose(x.detach().numpy(), problem.optimum, rtol=1e-4, atol=1e-4)


def test_a_complex_parameter_is_optimised_as_its_real_and_imaginary_parts():
    rng = np.random.default_rng(11)
    start = rng.standard_normal((3, 2))
    target = rng.standard_normal((3, 2))
    weights = rng.uniform(1, 5, (3, 2))

    def run(param, loss_of):
        opt = rt_optim.LBFGS([param], max_iter=6, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = loss_of(param)
            loss.backward()
            return loss

        opt.step(closure)
        return opt

    w = rt.tensor(start, requires_grad=True)
    real_target, real_weights = rt.tensor(target), rt.tensor(weights)
    run(w, lambda p: (real_weights * (p - real_target) ** 2).sum())
    z = rt.tensor(start[:, 0] + 1j * start[:, 1], requires_grad=True)
    c = rt.tensor(target[:, 0] + 1j * target[:, 1])
    wr, wi = rt.tensor(weights[:, 0]), rt.tensor(weights[:, 1])
    opt = run(z, lambda p: (wr * (p - c).real ** 2 + wi * (p - c).imag ** 2).sum())
    got = z.detach().numpy()
    np.testing.assert_allclose(np.stack([got.real, got.imag], 1), w.detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    assert opt.state[z]["d"].dtype == rt.float64 and opt.state[z]["d"].shape == (6,)


# --- errors -----------------------------------------------------------------------------------
def test_step_without_a_closure_raises_type_error():
    x = rt.zeros(2, requires_grad=True)
    opt = rt_optim.LBFGS([x])
    with pytest.raises(TypeError, match="requires a closure"):
        opt.step()
    with pytest.raises(TypeError, match="requires a closure"):
        opt.step(None)
    with pytest.raises(TypeError, match="must be callable"):
        opt.step(1.0)
    assert not opt.state


def test_parameter_groups_are_refused():
    a, b = rt.zeros(2, requires_grad=True), rt.zeros(2, requires_grad=True)
    message = r"LBFGS doesn't support per-parameter options \(parameter groups\)"
    with pytest.raises(ValueError, match=message):
        rt_optim.LBFGS([{"params": [a]}, {"params": [b], "lr": 0.1}])
    opt = rt_optim.LBFGS([{"params": [a], "lr": 0.5}])
    assert opt.param_groups[0]["lr"] == 0.5
    with pytest.raises(ValueError, match=message):
        opt.add_param_group({"params": [b]})
    assert len(opt.param_groups) == 1


def test_bad_arguments():
    x = rt.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        rt_optim.LBFGS([x], lr=-1)
    with pytest.raises(TypeError):
        rt_optim.LBFGS(x)
    with pytest.raises(ValueError, match="empty parameter list"):
        rt_optim.LBFGS([])


def test_an_unknown_line_search_raises_at_step_as_pytorch():
    x, opt, closure, _ = _optimizer(Quadratic(), line_search_fn="backtracking")
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)


def test_step_hooks_run_around_the_step():
    x, opt, closure, _ = _optimizer(Quadratic(), max_iter=2)
    calls = []
    opt.register_step_pre_hook(lambda o, args, kwargs: calls.append("pre"))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append("post"))
    opt.step(closure)
    assert calls == ["pre", "post"]
    assert opt._step_count == 1


def test_tensor_learning_rate():
    problem = Quadratic()
    x, opt, closure, log = _optimizer(problem, lr=rt.tensor(0.7, dtype=rt.float64), max_iter=5)
    opt.step(closure)
    expected, _ = numpy_lbfgs(problem.numpy, problem.x0, lr=0.7, max_iter=5)
    _assert_same_evaluations(log, expected, rtol=1e-9)
