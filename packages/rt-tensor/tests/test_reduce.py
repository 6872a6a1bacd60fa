"""Reductions and scans (rt_tensor/_reduce.pyx) against numpy, beyond the op table:
tuple/negative dims on 3-D views, the column and chunked (threaded) kernel paths, out=,
errors, NaN, accuracy and thread agreement."""
import math
import warnings

import numpy as np
import pytest

import rt_tensor as rtt


def T(a):
    return rtt.from_numpy(np.array(a, copy=True, order="C"))


def N(t):
    if t.dtype == rtt.bfloat16:
        return t.float().numpy()
    return t.numpy()


@pytest.fixture
def threads():
    old = rtt.get_num_threads()
    yield
    rtt.set_num_threads(old)


def views(shape, dtype=np.float32, seed=0):
    """(name, rt view, numpy view) over several layouts of the same values."""
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind in "iub":
        base = rng.integers(-5, 6, size=(2 * shape[0],) + shape[1:]).astype(dtype)
    else:
        base = rng.standard_normal((2 * shape[0],) + shape[1:]).astype(dtype)
    t = T(base)
    out = [("contiguous", t[: shape[0]], base[: shape[0]]),
           ("sliced", t[::2], base[::2])]
    if len(shape) >= 2:
        perm = tuple(reversed(range(len(shape))))
        c = np.ascontiguousarray(base[: shape[0]].transpose(perm))
        out.append(("permuted", T(c).permute(*perm), c.transpose(perm)))
        e = base[:1]
        out.append(("expanded", T(e).expand(*shape), np.broadcast_to(e, shape)))
    return out


DIM_CASES = [None, 0, 1, 2, -1, (0, 2), (-1, 0), (0, 1, 2), [1], ()]


@pytest.mark.parametrize("dim", DIM_CASES)
@pytest.mark.parametrize("keepdim", [False, True])
def test_sum_mean_amax_dims_3d(dim, keepdim):
    for name, t, a in views((5, 6, 7)):
        ax = None if dim is None or dim == () else (tuple(dim) if isinstance(dim, list) else dim)
        ctx = f"{name} dim={dim} keepdim={keepdim}"
        np.testing.assert_allclose(N(rtt.sum(t, dim, keepdim)), a.sum(axis=ax, keepdims=keepdim),
                                   rtol=1e-5, atol=1e-5, err_msg=ctx)
        np.testing.assert_allclose(N(t.mean(dim, keepdim=keepdim)),
                                   a.mean(axis=ax, keepdims=keepdim), rtol=1e-5, atol=1e-5,
                                   err_msg=ctx)
        np.testing.assert_array_equal(N(rtt.amax(t, () if dim is None else dim, keepdim)),
                                      a.max(axis=ax, keepdims=keepdim), err_msg=ctx)
        np.testing.assert_array_equal(N(rtt.amin(t, () if dim is None else dim, keepdim)),
                                      a.min(axis=ax, keepdims=keepdim), err_msg=ctx)
        np.testing.assert_array_equal(N(rtt.any(t, dim, keepdim)),
                                      np.any(a, axis=ax, keepdims=keepdim), err_msg=ctx)
        np.testing.assert_allclose(N(rtt.var(t, dim, keepdim=keepdim)),
                                   a.var(axis=ax, keepdims=keepdim, ddof=1), rtol=1e-4,
                                   atol=1e-5, err_msg=ctx)
        np.testing.assert_allclose(N(rtt.norm(t, 2, dim, keepdim)),
                                   np.sqrt((a.astype(np.float64) ** 2).sum(axis=ax, keepdims=keepdim)),
                                   rtol=1e-5, err_msg=ctx)
        if dim is not None and dim != ():
            np.testing.assert_allclose(
                N(rtt.logsumexp(t, dim, keepdim)),
                np.log(np.exp(a.astype(np.float64)).sum(axis=ax, keepdims=keepdim)),
                rtol=1e-5, err_msg=ctx)


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8, np.bool_, np.float64,
                                   np.complex64])
def test_int_and_other_dtypes_3d(dtype):
    for name, t, a in views((4, 5, 6), dtype=dtype, seed=3):
        for dim in [None, 0, (1, 2), -1]:
            ax = dim
            r = rtt.sum(t, dim)
            exp = a.sum(axis=ax)
            if np.dtype(dtype).kind in "iub":
                assert r.dtype == rtt.int64
                np.testing.assert_array_equal(N(r), exp.astype(np.int64), err_msg=name)
                np.testing.assert_array_equal(N(rtt.count_nonzero(t, dim)),
                                              np.count_nonzero(a, axis=ax), err_msg=name)
            else:
                np.testing.assert_allclose(N(r), exp, rtol=1e-5, atol=1e-5, err_msg=name)
            np.testing.assert_array_equal(N(rtt.all(t, dim)), np.all(a, axis=ax), err_msg=name)
            np.testing.assert_array_equal(N(rtt.any(t, dim)), np.any(a, axis=ax), err_msg=name)
            if np.dtype(dtype).kind != "c":
                np.testing.assert_array_equal(N(rtt.amax(t, () if dim is None else dim)),
                                              a.max(axis=ax), err_msg=name)
        for dim in [0, 1, 2]:
            if np.dtype(dtype).kind != "c":
                v, i = rtt.max(t, dim)
                np.testing.assert_array_equal(N(v), a.max(axis=dim), err_msg=name)
                np.testing.assert_array_equal(N(i), a.argmax(axis=dim), err_msg=name)
                if dtype != np.bool_:      # argmin/argmax refuse bool, as PyTorch
                    np.testing.assert_array_equal(N(rtt.argmin(t, dim)), a.argmin(axis=dim))
            np.testing.assert_allclose(N(rtt.cumsum(t, dim)), np.cumsum(a, axis=dim), rtol=1e-5,
                                       atol=1e-5)
            np.testing.assert_allclose(N(rtt.prod(t, dim)), np.prod(a, axis=dim), rtol=1e-5,
                                       atol=1e-5)


@pytest.mark.parametrize("shape,dim", [((300, 200), 0), ((300, 200), 1), ((200, 300), (0, 1)),
                                       ((7, 50, 64), 1), ((7, 50, 64), (0, 1)), ((3, 100000), 0),
                                       ((100000, 3), 0), ((100000, 3), 1), ((2, 600000), 1),
                                       ((1000, 1000), 0), ((9, 3, 200, 5), (1, 3)),
                                       ((100000, 16), 0), ((4, 30000, 16), (0, 1)),
                                       ((64, 3000, 2), (0, 2))])
@pytest.mark.parametrize("transpose", [False, True])
def test_kernel_paths_large(shape, dim, transpose, threads):
    """Column mode, inner mode, chunked partials; 1 and 2 threads agree exactly."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal(shape).astype(np.float32)
    t = T(a)
    if transpose:
        t = t.transpose(0, -1)
        a = a.swapaxes(0, -1)
    results = []
    for nt in (1, 2):
        rtt.set_num_threads(nt)
        s = rtt.sum(t, dim)
        results.append(N(s))
        np.testing.assert_allclose(N(s), a.astype(np.float64).sum(axis=dim), rtol=1e-5, atol=1e-4)
        np.testing.assert_array_equal(N(rtt.amax(t, dim)), a.max(axis=dim))
        np.testing.assert_allclose(N(rtt.var(t, dim)), a.astype(np.float64).var(axis=dim, ddof=1),
                                   rtol=1e-5)
        v, m = rtt.std_mean(t, dim, keepdim=True)
        np.testing.assert_allclose(N(m), a.astype(np.float64).mean(axis=dim, keepdims=True),
                                   rtol=1e-5, atol=1e-6)
        ai = (rng.integers(-100, 100, size=a.shape)).astype(np.int32)
        ti = T(ai)
        np.testing.assert_array_equal(N(rtt.sum(ti, dim)), ai.sum(axis=dim))
    np.testing.assert_array_equal(results[0], results[1])


def test_float32_accuracy_1e7():
    rng = np.random.default_rng(7)
    a = (rng.random(10 ** 7) * 10).astype(np.float32)
    t = T(a)
    exact = a.astype(np.float64).sum()
    assert abs(float(rtt.sum(t)) - exact) <= 1e-6 * abs(exact)
    assert abs(float(rtt.mean(t)) - exact / a.size) <= 1e-6 * abs(exact / a.size)
    # a column of 1e7 (dim=0 of an (N, 2) tensor) and a transposed view
    b = a.reshape(-1, 2)
    r = N(rtt.sum(T(b), 0))
    np.testing.assert_allclose(r, b.astype(np.float64).sum(0), rtol=1e-6)
    r = N(rtt.sum(T(b).t(), 1))
    np.testing.assert_allclose(r, b.astype(np.float64).sum(0), rtol=1e-6)


def test_threads_agree(threads):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((2000, 3000)).astype(np.float32)
    t = T(a)
    res = {}
    for nt in (1, 2):
        rtt.set_num_threads(nt)
        res[nt] = [N(rtt.sum(t)), N(rtt.sum(t, 0)), N(rtt.sum(t, 1)), N(rtt.mean(t.t(), 1)),
                   N(rtt.var(t, 1)), N(rtt.norm(t)), N(rtt.prod(t[:2], 1)),
                   N(rtt.argmax(t, 0)), N(rtt.cumsum(t, 1))]
    for x, y in zip(res[1], res[2]):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=0)


def test_half_types_accumulate_in_float():
    a = np.full(100000, 0.1, dtype=np.float32)
    for dt in (rtt.float16, rtt.bfloat16):
        t = T(a).to(dt)
        r = rtt.sum(t)
        assert r.dtype == dt
        exact = float(t.float().numpy().astype(np.float64).sum())
        assert abs(float(r) - exact) <= 0.01 * exact    # a float16 accumulator would stall at 256
        assert rtt.mean(t).dtype == dt
        assert rtt.sum(t, dtype=rtt.float32).dtype == rtt.float32


def test_result_dtypes():
    i8 = T(np.arange(6, dtype=np.int8).reshape(2, 3))
    assert rtt.sum(i8).dtype == rtt.int64
    assert rtt.prod(i8).dtype == rtt.int64
    assert rtt.cumsum(i8, 0).dtype == rtt.int64
    assert rtt.sum(i8, dtype=rtt.float64).dtype == rtt.float64
    assert rtt.mean(i8, dtype=rtt.float32).dtype == rtt.float32
    assert rtt.sum(T(np.array([True, True, False]))).item() == 2
    assert rtt.all(T(np.array([1, 2], dtype=np.uint8))).dtype == rtt.uint8
    assert rtt.any(T(np.array([1.0, 0.0]))).dtype == rtt.bool
    assert rtt.count_nonzero(T(np.array([1.0, 0.0]))).dtype == rtt.int64
    c = T(np.array([1 + 1j, 2 - 1j], dtype=np.complex64))
    assert rtt.sum(c).dtype == rtt.complex64
    assert complex(rtt.sum(c)) == 3 + 0j
    assert complex(rtt.prod(c)) == (1 + 1j) * (2 - 1j)
    assert rtt.var(c).dtype == rtt.float32
    assert rtt.norm(c).dtype == rtt.float32
    assert rtt.logsumexp(T(np.array([1, 2])), 0).dtype == rtt.float32
    assert rtt.argmax(T(np.array([1.0, 3.0]))).dtype == rtt.int64


def test_empty():
    e = T(np.zeros((0, 3), dtype=np.float32))
    assert float(rtt.sum(e)) == 0
    assert float(rtt.prod(e)) == 1
    assert math.isnan(float(rtt.mean(e)))
    assert rtt.sum(e, 0).shape == (3,)
    assert rtt.sum(e, 1).shape == (0,)
    assert rtt.sum(e, 0, keepdim=True).shape == (1, 3)
    assert N(rtt.prod(e, 0)).tolist() == [1, 1, 1]
    assert rtt.amax(e, 1).shape == (0,)
    assert rtt.max(e, 1).values.shape == (0,)
    assert bool(rtt.all(e)) is True and bool(rtt.any(e)) is False
    assert rtt.cumsum(e, 0).shape == (0, 3)
    assert float(rtt.logsumexp(e, 0)[0]) == -math.inf
    assert math.isnan(float(rtt.median(e)))


def test_errors():
    e = T(np.zeros((0, 3), dtype=np.float32))
    with pytest.raises(RuntimeError, match=r"max\(\): Expected reduction dim to be specified for input.numel\(\) == 0"):
        rtt.max(e)
    with pytest.raises(IndexError, match=r"max\(\): Expected reduction dim 0 to have non-zero size"):
        rtt.max(e, 0)
    with pytest.raises(RuntimeError, match=r"amax\(\): Expected reduction dim to be specified"):
        rtt.amax(e)
    with pytest.raises(IndexError, match=r"amax\(\): Expected reduction dim 0 to have non-zero size"):
        rtt.amax(e, 0)
    with pytest.raises(IndexError, match=r"argmax\(\): Expected reduction dim to be specified"):
        rtt.argmax(e)
    with pytest.raises(IndexError, match="argmin"):
        rtt.argmin(e, 0)
    x = T(np.arange(6).reshape(2, 3))
    with pytest.raises(RuntimeError, match=r"mean\(\): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: Long"):
        rtt.mean(x)
    with pytest.raises(IndexError, match="Dimension out of range"):
        rtt.sum(x, 2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.sum(-3)
    with pytest.raises(RuntimeError, match="appears multiple times"):
        rtt.sum(x, (0, -2))
    with pytest.raises(TypeError):
        rtt.prod(x, (0, 1))
    with pytest.raises(TypeError):
        rtt.sum(x, "a")
    with pytest.raises(RuntimeError, match="std and var only support floating point"):
        rtt.var(x)
    with pytest.raises(RuntimeError):
        rtt.max(T(np.array([1j])))
    with pytest.raises(RuntimeError):
        rtt.argmax(T(np.array([1j])))
    with pytest.raises(RuntimeError, match="nansum does not support complex"):
        rtt.nansum(T(np.array([1j])))
    with pytest.raises(RuntimeError, match="inf norm on an empty tensor"):
        rtt.norm(e, float("inf"))
    with pytest.raises(TypeError):
        rtt.sum([1, 2])
    with pytest.raises(RuntimeError, match="Long"):
        rtt.logcumsumexp(x, 0)


def test_nan_propagation():
    a = np.array([[1.0, np.nan, 3.0, 7.0], [2.0, 5.0, np.nan, np.nan]], dtype=np.float32)
    t = T(a)
    assert math.isnan(float(rtt.max(t)))
    assert math.isnan(float(rtt.min(t)))
    assert math.isnan(float(rtt.amax(t)))
    np.testing.assert_array_equal(N(rtt.amax(t, 1)), [np.nan, np.nan])
    np.testing.assert_array_equal(N(rtt.amax(t, 0)), [2.0, np.nan, np.nan, np.nan])
    v, i = rtt.max(t, 1)
    assert np.isnan(N(v)).all() and N(i).tolist() == [1, 2]
    v, i = rtt.min(t, 0)
    assert N(i).tolist() == [0, 0, 1, 1]
    assert int(rtt.argmax(t)) == 1 and int(rtt.argmin(t)) == 1
    assert N(rtt.argmax(t, 1)).tolist() == [1, 2]
    assert float(rtt.nansum(t)) == 18.0
    np.testing.assert_allclose(N(rtt.nanmean(t, 1)), [11 / 3, 3.5])
    assert math.isnan(float(rtt.median(t)))
    assert float(rtt.nanmedian(t)) == 3.0
    v, i = rtt.nanmedian(t, 1)
    assert N(v).tolist() == [3.0, 2.0] and N(i).tolist() == [2, 0]
    cv, ci = rtt.cummax(t, 1)
    np.testing.assert_array_equal(N(cv), [[1, np.nan, np.nan, np.nan], [2, 5, np.nan, np.nan]])
    assert N(ci).tolist() == [[0, 1, 1, 1], [0, 1, 2, 3]]
    assert math.isnan(float(rtt.logsumexp(t, (0, 1))))
    # large magnitude: stable
    big = T(np.array([1000.0, 1000.0], dtype=np.float32))
    assert abs(float(rtt.logsumexp(big, 0)) - (1000 + math.log(2))) < 1e-3
    np.testing.assert_allclose(N(rtt.logcumsumexp(big, 0)), [1000, 1000 + math.log(2)], rtol=1e-6)
    inf = T(np.array([-np.inf, -np.inf]))
    assert float(rtt.logsumexp(inf, 0)) == -math.inf


def test_max_first_occurrence_and_namedtuple():
    t = T(np.array([[3, 1, 3], [0, 0, -1]]))
    r = rtt.max(t, 1)
    assert type(r).__name__ == "max" and r._fields == ("values", "indices")
    assert r.values.tolist() == [3, 0] and r.indices.tolist() == [0, 0]
    assert r[0].tolist() == [3, 0]
    r = t.min(dim=1, keepdim=True)
    assert r.values.shape == (2, 1) and r.indices.tolist() == [[1], [2]]
    mm = rtt.aminmax(t)
    assert mm.min.item() == -1 and mm.max.item() == 3
    mm = rtt.aminmax(t, dim=0, keepdim=True)
    assert mm.min.tolist() == [[0, 0, -1]] and mm.max.tolist() == [[3, 1, 3]]
    assert int(t.argmax()) == 0
    assert rtt.argmax(t, keepdim=True).shape == (1, 1)
    assert t.argmax(1, keepdim=True).tolist() == [[0], [0]]


def test_max_elementwise_delegates():
    if not hasattr(rtt, "maximum"):
        pytest.skip("elementwise maximum not available yet")
    a = T(np.array([1.0, 5.0]))
    b = T(np.array([3.0, 2.0]))
    assert rtt.max(a, b).tolist() == [3.0, 5.0]
    assert rtt.min(a, b).tolist() == [1.0, 2.0]


def test_out():
    x = T(np.arange(12, dtype=np.float32).reshape(3, 4))
    o = T(np.zeros(4, dtype=np.float32))
    assert rtt.sum(x, 0, out=o) is o
    assert o.tolist() == [12, 15, 18, 21]
    o = T(np.zeros((3, 1), dtype=np.float32))
    assert rtt.mean(x, 1, keepdim=True, out=o) is o
    np.testing.assert_allclose(N(o)[:, 0], [1.5, 5.5, 9.5])
    v = T(np.zeros(3, dtype=np.float32))
    i = T(np.zeros(3, dtype=np.int64))
    r = rtt.max(x, 1, out=(v, i))
    assert r.values is v and r.indices is i and i.tolist() == [3, 3, 3]
    o = T(np.zeros((3, 4), dtype=np.float32))
    assert rtt.cumsum(x, 1, out=o) is o
    assert o[2].tolist() == [8, 17, 27, 38]
    wrong = T(np.zeros(3, dtype=np.float32))
    with pytest.warns(UserWarning, match="was resized"):      # PyTorch resizes out=, warning
        assert rtt.sum(x, 0, out=wrong) is wrong
    np.testing.assert_allclose(wrong.numpy(), x.numpy().sum(0), rtol=1e-6)
    empty = rtt.empty(0)
    rtt.sum(x, 0, out=empty)                                 # an empty out resizes silently
    assert empty.shape == wrong.shape
    with pytest.raises(RuntimeError):
        rtt.amax(x, 0, out=T(np.zeros(4, dtype=np.int64)))


def test_var_std_options():
    a = np.random.default_rng(4).standard_normal((4, 6))
    t = T(a)
    np.testing.assert_allclose(N(t.var()), a.var(ddof=1))
    np.testing.assert_allclose(N(rtt.var(t, 1, unbiased=False)), a.var(1))
    np.testing.assert_allclose(N(rtt.var(t, False)), a.var())
    np.testing.assert_allclose(N(rtt.std(t, (0, 1), correction=2)), a.std(ddof=2))
    np.testing.assert_allclose(N(t.std(0, keepdim=True)), a.std(0, ddof=1, keepdims=True))
    v, m = rtt.var_mean(t, 1)
    np.testing.assert_allclose(N(v), a.var(1, ddof=1))
    np.testing.assert_allclose(N(m), a.mean(1))
    s, m = rtt.std_mean(t, dim=0, correction=0, keepdim=True)
    np.testing.assert_allclose(N(s), a.std(0, keepdims=True))
    np.testing.assert_allclose(N(m), a.mean(0, keepdims=True))
    c = a[:, :3] + 1j * a[:, 3:]
    np.testing.assert_allclose(N(rtt.var(T(c), 0)), c.var(0, ddof=1))
    with pytest.warns(UserWarning, match="degrees of freedom"):
        r = rtt.var(T(np.array([1.0])))
    assert math.isnan(float(r))


def test_norm_variants():
    a = np.random.default_rng(5).standard_normal((3, 5)).astype(np.float32)
    t = T(a)
    np.testing.assert_allclose(float(t.norm()), np.linalg.norm(a), rtol=1e-6)
    np.testing.assert_allclose(N(rtt.norm(t, 1, 1)), np.abs(a).sum(1), rtol=1e-6)
    np.testing.assert_allclose(N(rtt.norm(t, float("inf"), 0)), np.abs(a).max(0), rtol=1e-6)
    np.testing.assert_allclose(N(rtt.norm(t, -float("inf"), 0)), np.abs(a).min(0), rtol=1e-6)
    np.testing.assert_allclose(float(rtt.norm(t, 0)), np.count_nonzero(a))
    np.testing.assert_allclose(N(rtt.norm(t, 3, (0, 1))), (np.abs(a.astype(np.float64)) ** 3).sum() ** (1 / 3), rtol=1e-6)
    np.testing.assert_allclose(N(rtt.norm(t, "fro", (0, 1), keepdim=True)), np.linalg.norm(a).reshape(1, 1), rtol=1e-6)
    assert rtt.norm(t, dtype=rtt.float64).dtype == rtt.float64
    with pytest.raises(RuntimeError):
        rtt.norm(T(np.arange(3)))


def test_median():
    a = np.array([[4, 1, 3, 2], [9, 9, 7, 7]], dtype=np.int32)
    t = T(a)
    assert int(rtt.median(t)) == 4       # lower of the middle pair (4, 7)
    r = rtt.median(t, 1)
    assert type(r).__name__ == "median"
    assert r.values.tolist() == [2, 7]
    idx = r.indices.tolist()
    assert a[0, idx[0]] == 2 and a[1, idx[1]] == 7
    r = t.median(0, keepdim=True)
    assert r.values.tolist() == [[4, 1, 3, 2]]
    rng = np.random.default_rng(6)
    b = rng.standard_normal((5, 8, 7))
    for dim in range(3):
        v, i = rtt.median(T(b), dim)
        exp = np.sort(b, axis=dim).take((b.shape[dim] - 1) // 2, axis=dim)
        np.testing.assert_array_equal(N(v), exp)
        np.testing.assert_array_equal(np.take_along_axis(b, np.expand_dims(N(i), dim), dim)[..., ],
                                      np.expand_dims(exp, dim))
    assert float(rtt.median(T(b).permute(2, 0, 1))) == np.sort(b.ravel())[(b.size - 1) // 2]


def test_scans():
    a = np.random.default_rng(8).standard_normal((4, 5)).astype(np.float64)
    t = T(a)
    for d in (0, 1, -1):
        np.testing.assert_allclose(N(rtt.cumsum(t, d)), np.cumsum(a, axis=d))
        np.testing.assert_allclose(N(t.cumprod(d)), np.cumprod(a, axis=d))
        np.testing.assert_allclose(N(rtt.cumsum(t.t(), d)), np.cumsum(a.T, axis=d))
        np.testing.assert_allclose(N(rtt.logcumsumexp(t, d)), np.logaddexp.accumulate(a, axis=d))
        v, i = rtt.cummin(t, d)
        np.testing.assert_allclose(N(v), np.minimum.accumulate(a, axis=d))
    assert rtt.cumsum(T(np.array(3.0)), 0).shape == ()
    assert rtt.cumsum(t, 1, dtype=rtt.float32).dtype == rtt.float32
    r = rtt.cummax(T(np.array([1, 3, 3, 2])), 0)
    assert type(r).__name__ == "cummax"
    assert r.values.tolist() == [1, 3, 3, 3] and r.indices.tolist() == [0, 1, 2, 2]


def test_zero_dim():
    s = T(np.array(2.5, dtype=np.float32))
    assert rtt.sum(s).shape == () and float(rtt.sum(s, 0)) == 2.5
    assert float(rtt.sum(s, -1, keepdim=True)) == 2.5
    v, i = rtt.max(s, 0)
    assert float(v) == 2.5 and int(i) == 0
    assert int(rtt.argmax(s)) == 0
    assert float(rtt.median(s)) == 2.5
    assert rtt.cummax(s, 0).values.shape == ()
    with pytest.raises(IndexError):
        rtt.sum(s, 1)


def test_trace():
    a = np.arange(12).reshape(3, 4)
    assert rtt.trace(T(a)).item() == np.trace(a)
    assert rtt.trace(T(a)).dtype == rtt.int64
    with pytest.raises(RuntimeError):
        rtt.trace(T(np.arange(3)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_simd_paths(dtype):
    """Long contiguous rows and columns go through the SIMD max/min kernels."""
    rng = np.random.default_rng(9)
    for pos in [0, 5, 63, 64, 100, 199]:
        a = rng.standard_normal((3, 200)).astype(dtype)
        a[1, pos] = np.nan
        t = T(a)
        for fn, npfn, argfn in ((rtt.amax, np.max, np.argmax), (rtt.amin, np.min, np.argmin)):
            np.testing.assert_array_equal(N(fn(t, 1)), npfn(a, axis=1))
            np.testing.assert_array_equal(N(fn(t.t(), 0)), npfn(a, axis=1))     # column kernel
            np.testing.assert_array_equal(N(fn(T(a.T.copy()), 0)), npfn(a, axis=1))
            assert math.isnan(float(fn(t)))
        v, i = rtt.max(t, 1)
        np.testing.assert_array_equal(N(i), [np.argmax(a[0]), pos, np.argmax(a[2])])
        v, i = rtt.min(t, 1)
        np.testing.assert_array_equal(N(i), [np.argmin(a[0]), pos, np.argmin(a[2])])
        assert int(rtt.argmax(t)) == 200 + pos
        assert int(rtt.argmin(t)) == 200 + pos
    b = rng.standard_normal(1000).astype(dtype)
    b[[10, 500]] = b.max() + 1          # ties: the first occurrence
    assert int(rtt.argmax(T(b))) == 10
    b[[20, 600]] = b.min() - 1
    assert int(rtt.argmin(T(b))) == 20
    assert float(rtt.amax(T(b))) == b.max() and float(rtt.amin(T(b))) == b.min()
    inf = np.full(100, -np.inf, dtype=dtype)
    assert float(rtt.amax(T(inf))) == -np.inf and int(rtt.argmax(T(inf))) == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int32])
def test_column_kernel_nan_and_values(dtype):
    rng = np.random.default_rng(10)
    a = (rng.standard_normal((203, 41)) * 10).astype(dtype)
    if np.dtype(dtype).kind == "f":
        a[[0, 5, 202], [3, 40, 17]] = np.nan
        a[7, 9] = np.inf
        a[8, 10] = -np.inf
    t = T(a)
    for fn, ref in ((rtt.amax, np.max), (rtt.amin, np.min)):
        np.testing.assert_array_equal(N(fn(t, 0)), ref(a, axis=0))
        np.testing.assert_array_equal(N(fn(t[1:], 0)), ref(a[1:], axis=0))
    np.testing.assert_allclose(N(rtt.sum(t, 0)), a.astype(np.float64).sum(0), rtol=2e-3)
    np.testing.assert_array_equal(N(rtt.nansum(t, 0)) if np.dtype(dtype).kind == "i" else 0, 
                                  a.astype(np.int64).sum(0) if np.dtype(dtype).kind == "i" else 0)


def test_bool_inputs_refused_like_pytorch():
    b = rtt.tensor([True, False, True])
    with pytest.raises(RuntimeError, match="argmax\\(\\): does not support bool input"):
        b.argmax()
    with pytest.raises(RuntimeError, match="argmin\\(\\): does not support bool input"):
        rtt.argmin(b, 0)
