"""LBFGS's fused kernels (``rt_optim._lbfgs``) on vectors long enough for their vector loops,
blocks and tails: each kernel against numpy (the two-loop recursion written from Nocedal &
Wright, Algorithm 7.4), the elementwise results bit for bit; whole steps against the numpy
L-BFGS of test_lbfgs.py and against LBFGS's tensor-op path; NaN and infinity; the thread
count."""
import numpy as np
import pytest
import rt_autograd as rt
import rt_tensor

import rt_optim
from rt_optim import _lbfgs, lbfgs as lbfgs_module
from test_lbfgs import numpy_lbfgs

N = 3 * 8192 + 1000 + 13          # three full blocks, a partial one, a tail after the lanes
DTYPES = {"float32": (rt.float32, np.float32), "float64": (rt.float64, np.float64)}


def _vec(a, dtype):
    return rt.tensor(np.ascontiguousarray(a), dtype=dtype)


def numpy_two_loop(g, pairs, H):
    """(d, alphas): d = -H·g by the two-loop recursion over pairs (s, y, rho), oldest first."""
    q = -g.copy()
    alphas = [0.0] * len(pairs)
    for i in range(len(pairs) - 1, -1, -1):
        s, y, rho = pairs[i]
        alphas[i] = rho * (s @ q)
        q = q - alphas[i] * y
    r = H * q
    for i, (s, y, rho) in enumerate(pairs):
        beta = rho * (y @ r)
        r = r + (alphas[i] - beta) * s
    return r, alphas


# --- the kernels ---------------------------------------------------------------------------------
def test_the_kernels_take_contiguous_float32_or_float64_parameters_of_one_dtype():
    a, b = rt.zeros((3, 4)), rt.zeros(5)
    code, numel = _lbfgs.flat_dtype([a, b])
    assert numel == 17
    assert _lbfgs.flat_dtype([a.double(), b.double()])[0] != code
    assert _lbfgs.flat_dtype([a, b.double()]) is None                  # two dtypes
    assert _lbfgs.flat_dtype([a.t(), b]) is None                       # not contiguous
    assert _lbfgs.flat_dtype([a.half()]) is None
    assert _lbfgs.flat_dtype([rt.zeros(2, dtype=rt.complex64)]) is None


@pytest.mark.parametrize("name", ["float32", "float64"])
@pytest.mark.parametrize("m", [0, 1, 3])
def test_direction_is_the_two_loop_recursion(name, m):
    dtype, np_dtype = DTYPES[name]
    rng = np.random.default_rng(m)
    g = rng.standard_normal(N).astype(np_dtype)
    pairs64 = []
    for _ in range(m):
        s = rng.standard_normal(N)
        y = s * rng.uniform(0.5, 2.0, N)          # s'y > 0, as a kept pair has
        s, y = s.astype(np_dtype), y.astype(np_dtype)
        pairs64.append((s.astype(np.float64), y.astype(np.float64),
                        float(np_dtype(1.0) / np_dtype(y.astype(np.float64) @ s))))
    H = 0.75
    d = rt.empty(N, dtype=dtype)
    al = [None] * 5
    res = _lbfgs.direction(_vec(g, dtype), [_vec(p[1], dtype) for p in pairs64],
                           [_vec(p[0], dtype) for p in pairs64],
                           [rt.tensor(p[2], dtype=dtype) for p in pairs64], al, H, d,
                           lambda: rt.zeros((), dtype=dtype))
    expected, alphas = numpy_two_loop(g.astype(np.float64), pairs64, H)
    gtd, d_max = res
    rtol = 1e-12 if name == "float64" else 2e-5
    scale = np.abs(expected).max()
    np.testing.assert_allclose(d.numpy(), expected, rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(gtd, g.astype(np.float64) @ expected, rtol=rtol * 10)
    assert d_max == np.abs(d.numpy()).max()
    for i in range(5):
        if i < m:
            assert isinstance(al[i], rt.Tensor) and al[i].dtype == dtype and al[i].shape == ()
            np.testing.assert_allclose(al[i].item(), alphas[i], rtol=rtol * 10)
        else:
            assert al[i] is None


def test_direction_without_history_is_minus_h_times_g_exactly():
    g = np.random.default_rng(1).standard_normal(N).astype(np.float32)
    d = rt.empty(N, dtype=rt.float32)
    gtd, d_max = _lbfgs.direction(_vec(g, rt.float32), [], [], [], [], 1.0, d, None)
    np.testing.assert_array_equal(d.numpy(), -g)
    assert d_max == np.abs(g).max()
    np.testing.assert_allclose(gtd, -(g.astype(np.float64) @ g), rtol=1e-6)


def test_direction_refuses_what_it_cannot_take():
    g = rt.ones(40, dtype=rt.float64)
    d = rt.empty(40, dtype=rt.float64)
    y = rt.ones(40, dtype=rt.float64)
    ro = [rt.tensor(1.0, dtype=rt.float64)]
    # a history vector of another dtype, a strided one, a ro that is not a tensor
    for dirs, stps, rho in [([y.float()], [y], ro), ([y], [rt.ones(80, dtype=rt.float64)[::2]], ro),
                            ([y], [y], [1.0])]:
        al = [None]
        assert _lbfgs.direction(g, dirs, stps, rho, al, 1.0, d, None) is None
        assert al == [None]
    assert _lbfgs.direction(g.half(), [], [], [], [], 1.0, d.half(), None) is None


@pytest.mark.parametrize("name", ["float32", "float64"])
def test_curvature_sums(name):
    dtype, np_dtype = DTYPES[name]
    rng = np.random.default_rng(2)
    g, prev, d = (rng.standard_normal(N).astype(np_dtype) for _ in range(3))
    t = 0.3
    ys, yy = _lbfgs.curvature(_vec(g, dtype), _vec(prev, dtype), _vec(d, dtype), t)
    y64, s64 = (g - prev).astype(np.float64), (d * np_dtype(t)).astype(np.float64)
    rtol = 1e-13 if name == "float64" else 1e-6
    np.testing.assert_allclose(ys, y64 @ s64, rtol=rtol)
    np.testing.assert_allclose(yy, y64 @ y64, rtol=rtol)
    assert ys == float(np_dtype(ys)) and yy == float(np_dtype(yy))     # rounded to the type
    assert _lbfgs.curvature(_vec(g, dtype), _vec(prev, dtype)[:-1].contiguous(),
                            _vec(d, dtype), t) is None
    # the gather computes the same sums while the gradient passes through
    p = rt.zeros(N, dtype=dtype, requires_grad=True)
    p.grad = _vec(g, dtype)
    flat = rt.empty(N, dtype=dtype)
    largest, ys2, yy2 = _lbfgs.gather([p], flat, _vec(prev, dtype), _vec(d, dtype), t)
    assert (ys2, yy2) == (ys, yy) and largest == np.abs(g).max()
    assert _lbfgs.gather([p], flat)[1:] == (None, None)


@pytest.mark.parametrize("name", ["float32", "float64"])
def test_direction_writes_a_new_pair_in_its_first_pass(name):
    # fill=(prev, d_old, t): the newest pair's vectors are written as y = g - prev,
    # s = d_old·t, exactly, and the direction is the one computed with them written first
    dtype, np_dtype = DTYPES[name]
    rng = np.random.default_rng(7)
    g, prev, d_old, s0 = (rng.standard_normal(N).astype(np_dtype) for _ in range(4))
    y0 = s0 * np_dtype(1.5)
    t = 0.6
    y_new, s_new = g - prev, d_old * np_dtype(t)
    ro = [rt.tensor(1 / (y0.astype(np.float64) @ s0), dtype=dtype),
          rt.tensor(1 / (y_new.astype(np.float64) @ s_new), dtype=dtype)]
    y, s = rt.empty(N, dtype=dtype), rt.empty(N, dtype=dtype)
    d1, d2 = rt.empty(N, dtype=dtype), rt.empty(N, dtype=dtype)
    res1 = _lbfgs.direction(_vec(g, dtype), [_vec(y0, dtype), y], [_vec(s0, dtype), s], ro,
                            [None, None], 0.8, d1, lambda: rt.zeros((), dtype=dtype),
                            (_vec(prev, dtype), _vec(d_old, dtype), t))
    np.testing.assert_array_equal(y.numpy(), y_new)
    np.testing.assert_array_equal(s.numpy(), s_new)
    res2 = _lbfgs.direction(_vec(g, dtype), [_vec(y0, dtype), _vec(y_new, dtype)],
                            [_vec(s0, dtype), _vec(s_new, dtype)], ro, [None, None], 0.8, d2,
                            lambda: rt.zeros((), dtype=dtype))
    assert res1 == res2
    np.testing.assert_array_equal(d1.numpy(), d2.numpy())


def _params_with_grads(shapes, np_dtype, seed=3):
    rng = np.random.default_rng(seed)
    params, grads = [], []
    for shape in shapes:
        p = rt.tensor(rng.standard_normal(shape).astype(np_dtype), requires_grad=True)
        if shape is not None:
            grad = rng.standard_normal(shape).astype(np_dtype)
            p.grad = rt.tensor(grad)
            grads.append(grad.reshape(-1))
        params.append(p)
    return params, grads


def test_gather_copies_every_gradient_and_finds_the_largest_magnitude():
    params, grads = _params_with_grads([(130, 97), (97,), (13,)], np.float32)
    unused = rt.zeros((5, 7), dtype=rt.float32, requires_grad=True)     # no gradient: zeros
    params.insert(1, unused)
    grads.insert(1, np.zeros(35, dtype=np.float32))
    total = sum(p.numel() for p in params)
    flat = rt.empty(total, dtype=rt.float32)
    largest, ys, yy = _lbfgs.gather(params, flat)
    whole = np.concatenate(grads)
    np.testing.assert_array_equal(flat.numpy(), whole)
    assert largest == np.abs(whole).max() and ys is None and yy is None
    # with the previous gradient and direction: the curvature sums across the slices (the
    # parameter without a gradient included)
    rng = np.random.default_rng(8)
    prev, d = (rng.standard_normal(total).astype(np.float32) for _ in range(2))
    _, ys, yy = _lbfgs.gather(params, flat, _vec(prev, rt.float32), _vec(d, rt.float32), 0.5)
    y, s = (whole - prev).astype(np.float64), (d * np.float32(0.5)).astype(np.float64)
    np.testing.assert_allclose([ys, yy], [y @ s, y @ y], rtol=1e-6)
    # a previous gradient of another size: no sums, the gather itself done
    assert _lbfgs.gather(params, flat, _vec(prev[1:], rt.float32), _vec(d, rt.float32),
                         0.5)[1:] == (None, None)


@pytest.mark.parametrize("value,expected", [(np.nan, "nan"), (np.inf, np.inf), (-np.inf, np.inf),
                                            (-1e30, 1e30)])
@pytest.mark.parametrize("where", [5, 4000, 12609])   # in the lanes, in another block, the tail
def test_gather_largest_magnitude_propagates_nan(value, expected, where):
    params, _ = _params_with_grads([(12610,)], np.float64)
    params[0].grad[where] = value
    flat = rt.empty(12610, dtype=rt.float64)
    largest = _lbfgs.gather(params, flat)[0]
    if expected == "nan":
        assert np.isnan(largest)
    else:
        assert largest == expected


def test_gather_refuses_a_gradient_it_cannot_take():
    params, _ = _params_with_grads([(50, 40)], np.float64)
    params[0].grad = rt.tensor(np.ones((40, 50))).t()              # not contiguous
    flat = rt.zeros(2000, dtype=rt.float64)
    assert _lbfgs.gather(params, flat) is None
    assert flat.sum().item() == 0
    assert _lbfgs.gather(params, rt.zeros(2000, dtype=rt.float32)) is None   # another dtype


def test_move_adds_t_times_the_direction_slices():
    params, _ = _params_with_grads([(130, 97), (97,), (13,)], np.float32)
    before = [p.detach().numpy().copy() for p in params]
    d = np.random.default_rng(4).standard_normal(sum(b.size for b in before)).astype(np.float32)
    assert _lbfgs.move(params, 0.37, _vec(d, rt.float32))
    offset = 0
    for p, b in zip(params, before):
        np.testing.assert_array_equal(
            p.detach().numpy(), b + np.float32(0.37) * d[offset:offset + b.size].reshape(b.shape))
        offset += b.size
    assert not _lbfgs.move(params, 0.37, _vec(d[:-1], rt.float32))   # sizes do not add up
    assert not _lbfgs.move([p.double() for p in params], 0.37, _vec(d, rt.float32))


# --- whole steps ---------------------------------------------------------------------------------
class Separable:
    """f(x) = ½ Σ a_i (x_i - c_i)² + ¼ Σ b_i (x_i - c_i)⁴ over parameters of several shapes
    (one flat vector of N values): cheap to evaluate at any size, not quadratic, so the
    history and H_diag change every iteration."""

    def __init__(self, shapes=((130, 97), (97,), (13, 2), (N - 130 * 97 - 97 - 26,)), seed=5):
        rng = np.random.default_rng(seed)
        self.shapes = shapes
        n = sum(int(np.prod(s)) for s in shapes)
        self.a = rng.uniform(1.0, 4.0, n)
        self.b = rng.uniform(0.0, 0.5, n)
        self.c = rng.standard_normal(n)
        self.x0 = self.c + rng.standard_normal(n)

    def numpy(self, x):
        e = x - self.c
        return 0.5 * self.a @ e ** 2 + 0.25 * self.b @ e ** 4, self.a * e + self.b * e ** 3

    def params(self, dtype):
        out, offset = [], 0
        for shape in self.shapes:
            size = int(np.prod(shape))
            out.append(rt.tensor(self.x0[offset:offset + size].reshape(shape), dtype=dtype,
                                 requires_grad=True))
            offset += size
        return out

    def optimizer(self, dtype=rt.float64, **kwargs):
        params = self.params(dtype)
        opt = rt_optim.LBFGS(params, **kwargs)
        log = []

        def closure():
            opt.zero_grad()
            x = np.concatenate([p.detach().double().numpy().reshape(-1) for p in params])
            loss, grad = self.numpy(x)
            offset = 0
            for p in params:
                p.grad = rt.tensor(grad[offset:offset + p.numel()].reshape(tuple(p.shape)),
                                   dtype=dtype)
                offset += p.numel()
            log.append((loss, x))
            return rt.tensor(loss, dtype=dtype)

        return params, opt, closure, log


def test_steps_match_the_numpy_lbfgs_on_a_long_vector():
    problem = Separable()
    params, opt, closure, log = problem.optimizer(max_iter=4, history_size=3, lr=0.8)
    for _ in range(4):
        opt.step(closure)
    expected, final = numpy_lbfgs(problem.numpy, problem.x0, max_iter=16, max_eval=100,
                                  history_size=3, lr=0.8)
    assert len(log) == len(expected)
    for i, ((loss, x), (e_loss, e_x)) in enumerate(zip(log, expected)):
        np.testing.assert_allclose(x, e_x, rtol=1e-9, atol=1e-12, err_msg=f"evaluation {i}")
        np.testing.assert_allclose(loss, e_loss, rtol=1e-9, err_msg=f"evaluation {i}")
    got = np.concatenate([p.detach().numpy().reshape(-1) for p in params])
    np.testing.assert_allclose(got, final, rtol=1e-9, atol=1e-12)
    assert len(opt.state[params[0]]["old_dirs"]) == 3


def _run_both_paths(monkeypatch, dtype, steps=3, **kwargs):
    """The same run by the kernels and by the tensor ops (the kernels switched off)."""
    problem = Separable()
    runs = []
    for kernels in (True, False):
        with monkeypatch.context() as m:
            if not kernels:
                m.setattr(lbfgs_module._lbfgs, "flat_dtype", lambda params: None)
            params, opt, closure, log = problem.optimizer(dtype, **kwargs)
            for _ in range(steps):
                opt.step(closure)
        runs.append((params, opt.state[params[0]], log))
    return runs


def _kind(value):
    if isinstance(value, rt.Tensor):
        return ("tensor", str(value.dtype), tuple(value.shape))
    return type(value).__name__


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("name", ["float32", "float64"])
def test_the_kernels_follow_the_tensor_op_path(monkeypatch, name, line_search_fn):
    dtype = DTYPES[name][0]
    (k_params, k_state, k_log), (o_params, o_state, o_log) = _run_both_paths(
        monkeypatch, dtype, max_iter=5, history_size=4, line_search_fn=line_search_fn)
    # float32: the two paths sum the dot products in other orders; the losses are compared
    # to the first loss's scale (near the optimum they are differences of large terms)
    rtol = 1e-10 if name == "float64" else 1e-4
    assert len(k_log) == len(o_log)
    for (k_loss, k_x), (o_loss, o_x) in zip(k_log, o_log):
        np.testing.assert_allclose(k_loss, o_loss, rtol=rtol, atol=rtol * o_log[0][0])
        np.testing.assert_allclose(k_x, o_x, rtol=rtol, atol=rtol)
    assert set(k_state) == set(o_state)
    for key in k_state:
        k_value, o_value = k_state[key], o_state[key]
        if isinstance(o_value, list):
            assert [_kind(v) for v in k_value] == [_kind(v) for v in o_value], key
        else:
            assert _kind(k_value) == _kind(o_value), key
    for key in ("func_evals", "n_iter"):
        assert k_state[key] == o_state[key]
    # the last direction and gradient, near the optimum: gradients there carry the rounding
    # noise of the parameters they were computed at (about eps times the starting gradient
    # per entry), so they are compared as vectors, relative to their norm
    for key in ("d", "prev_flat_grad"):
        k_value, o_value = k_state[key].numpy(), o_state[key].numpy()
        assert np.linalg.norm(k_value - o_value) <= 10 * rtol * np.linalg.norm(o_value), key


def test_a_nan_gradient_takes_the_same_course_as_the_tensor_ops(monkeypatch):
    problem = Separable()
    outcomes = []
    for kernels in (True, False):
        with monkeypatch.context() as m:
            if not kernels:
                m.setattr(lbfgs_module._lbfgs, "flat_dtype", lambda params: None)
            params, opt, closure, log = problem.optimizer(max_iter=6)
            calls = []

            def poisoned():
                loss = closure()
                calls.append(1)
                if len(calls) == 3:
                    params[0].grad[7, 11] = float("nan")
                return loss

            opt.step(poisoned)
            state = opt.state[params[0]]
            outcomes.append((state["func_evals"], state["n_iter"], len(state["old_dirs"]),
                             bool(np.isnan(params[0].detach().numpy()).any())))
    assert outcomes[0] == outcomes[1]


def test_the_bits_do_not_depend_on_the_thread_count():
    # the passes run on the pool from a length set low here (1M elements by default)
    problem = Separable(seed=6)
    finals = []
    threads = rt_tensor.get_num_threads()
    previous = _lbfgs.parallel_min(1000)
    try:
        for n in (1, 2):
            rt_tensor.set_num_threads(n)
            params, opt, closure, _ = problem.optimizer(rt.float32, max_iter=4, history_size=3)
            for _ in range(2):
                opt.step(closure)
            finals.append(np.concatenate([p.detach().numpy().reshape(-1) for p in params]))
    finally:
        rt_tensor.set_num_threads(threads)
        _lbfgs.parallel_min(previous)
    np.testing.assert_array_equal(finals[0], finals[1])
