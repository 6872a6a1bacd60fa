"""Sorting and searching: sort, argsort, msort, topk, kthvalue, unique, unique_consecutive,
searchsorted, bucketize, histc. Oracles: a plain-Python stable sort with PyTorch's NaN order
(NaN largest), numpy for the rest."""
import math

import numpy as np
import pytest

import rt_tensor as rtt

REAL = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
        "float64")
FLOATS = ("float16", "bfloat16", "float32", "float64")
LAYOUTS = ("contiguous", "transposed", "sliced")


def np_of(t):
    if t.dtype == rtt.bfloat16:
        return t.float().numpy().copy()
    return t.numpy().copy()


def make(shape, dtype_name, layout="contiguous", seed=0, nan=True):
    """Values with many ties (and NaN/inf for floats); rt strides given by layout."""
    rng = np.random.default_rng(seed)
    if layout == "transposed" and len(shape) >= 2:
        full = tuple(shape[:-2]) + (shape[-1], shape[-2])
    elif layout == "sliced":
        full = tuple(2 * s for s in shape)
    else:
        full = tuple(shape)
    a = rng.integers(-4, 5, size=full).astype(np.float64)
    if dtype_name == "bool":
        a = a > 0
    elif dtype_name == "uint8":
        a = np.abs(a)
    elif dtype_name in FLOATS:
        a = a / 2
        if nan and a.size:
            flat = a.reshape(-1)
            flat[rng.integers(0, flat.size, size=max(1, flat.size // 6))] = np.nan
            flat[rng.integers(0, flat.size, size=max(1, flat.size // 10))] = np.inf
            flat[rng.integers(0, flat.size, size=max(1, flat.size // 10))] = -np.inf
    t = rtt.tensor(a.astype(np.float32 if dtype_name == "bfloat16" else dtype_name))
    t = t.to(getattr(rtt, dtype_name))
    if layout == "transposed" and len(shape) >= 2:
        t = t.transpose(-1, -2)
    elif layout == "sliced":
        t = t[tuple(slice(None, None, 2) for _ in shape)]
    return t, np_of(t)


def _key(x, descending):
    if isinstance(x, (float, np.floating)) and math.isnan(x):
        return (0, 0.0) if descending else (1, 0.0)
    x = float(x)
    return (1, -x) if descending else (0, x)


def ref_argsort(a, dim, descending):
    """Stable argsort with NaN largest, row by row in plain Python."""
    moved = np.moveaxis(a, dim, -1)
    out = np.empty(moved.shape, np.int64)
    for idx in np.ndindex(moved.shape[:-1]):
        row = moved[idx]
        out[idx] = sorted(range(len(row)), key=lambda i: (_key(row[i], descending), i))
    return np.moveaxis(out, -1, dim)


def assert_same(got, exp):
    got = np.asarray(got)
    exp = np.asarray(exp)
    assert got.shape == exp.shape, (got.shape, exp.shape)
    np.testing.assert_array_equal(got, exp.astype(got.dtype))


# ---------------------------------------------------------------------------------------
# sort / argsort / msort

@pytest.mark.parametrize("dtype_name", REAL)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("descending", [False, True])
def test_sort_stable(dtype_name, layout, descending):
    t, a = make((3, 9), dtype_name, layout)
    for dim in (-1, 0):
        res = rtt.sort(t, dim=dim, descending=descending, stable=True)
        values, indices = res
        assert res.values is values and res.indices is indices
        assert values.dtype == t.dtype and indices.dtype == rtt.int64
        exp_idx = ref_argsort(a, dim, descending)
        assert_same(np_of(indices), exp_idx)
        assert_same(np_of(values), np.take_along_axis(a, exp_idx, dim))
        m = t.sort(dim, descending)
        assert_same(np_of(m.indices), exp_idx)
        assert_same(np_of(rtt.argsort(t, dim, descending, stable=True)), exp_idx)
        assert_same(np_of(t.argsort(dim=dim, descending=descending)), exp_idx)


def test_sort_nan_order():
    t = rtt.tensor([2.0, float("nan"), -1.0, float("inf"), float("nan"), -float("inf")])
    v, i = rtt.sort(t)
    assert_same(np_of(i), [5, 2, 0, 3, 1, 4])
    v, i = rtt.sort(t, descending=True)
    assert_same(np_of(i), [1, 4, 3, 0, 2, 5])
    assert math.isnan(v[0].item()) and math.isnan(v[1].item()) and v[2].item() == math.inf


def test_sort_zero_dim_empty_3d_and_large():
    v, i = rtt.sort(rtt.tensor(3.5))
    assert v.ndim == 0 and v.item() == 3.5 and i.item() == 0 and i.dtype == rtt.int64
    v, i = rtt.sort(rtt.zeros(0, 3), 0)
    assert tuple(v.shape) == (0, 3) and tuple(i.shape) == (0, 3)
    t, a = make((2, 3, 4), "float32", "sliced")
    exp = ref_argsort(a, 1, True)
    assert_same(np_of(t.sort(1, True).indices), exp)
    big = np.random.default_rng(0).standard_normal(200000).astype(np.float32)
    v, i = rtt.sort(rtt.tensor(big))
    assert_same(np_of(v), np.sort(big))
    assert_same(np_of(i), np.argsort(big, kind="stable"))


def test_sort_keyword_form_and_out():
    t, a = make((2, 5), "int32")
    r = rtt.sort(t, stable=True, dim=0, descending=True)
    assert_same(np_of(r.indices), ref_argsort(a, 0, True))
    vo = rtt.empty(0, dtype=rtt.int32)
    io = rtt.empty(0, dtype=rtt.int64)
    r = rtt.sort(t, out=(vo, io))
    assert r.values is vo and r.indices is io
    assert_same(np_of(io), ref_argsort(a, -1, False))
    assert "sort(\nvalues=" in repr(r)
    assert rtt.return_types.sort((vo, io)).indices is io


def test_sort_errors():
    with pytest.raises(RuntimeError, match="sort"):
        rtt.sort(rtt.zeros(3, dtype=rtt.complex64))
    with pytest.raises(RuntimeError, match="sort"):
        rtt.argsort(rtt.zeros(3, dtype=rtt.complex128))
    with pytest.raises(IndexError):
        rtt.sort(rtt.zeros(3), 1)
    with pytest.raises(TypeError):
        rtt.sort([3, 1, 2])


@pytest.mark.parametrize("dtype_name", REAL)
def test_msort(dtype_name):
    t, a = make((5, 3), dtype_name, "transposed")
    exp = np.take_along_axis(a, ref_argsort(a, 0, False), 0)
    assert_same(np_of(rtt.msort(t)), exp)
    assert_same(np_of(t.msort()), exp)


# ---------------------------------------------------------------------------------------
# topk / kthvalue

@pytest.mark.parametrize("dtype_name", [d for d in REAL if d != "bool"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_topk(dtype_name, layout):
    t, a = make((4, 40), dtype_name, layout)
    for k in (0, 1, 3, 40):
        for largest in (True, False):
            for dim in (-1, 0):
                if k > a.shape[dim]:
                    continue
                v, i = rtt.topk(t, k, dim=dim, largest=largest)
                assert v.dtype == t.dtype and i.dtype == rtt.int64
                order = ref_argsort(a, dim, largest)
                exp_v = np.take_along_axis(a, order, dim)
                exp_v = np.take(exp_v, np.arange(k), axis=dim)
                assert_same(np_of(v), exp_v)
                # the indices point at the values (ties may pick any equal element)
                assert_same(np.take_along_axis(a, np_of(i), dim), exp_v)
                # no index twice
                srt = np.sort(np_of(i), axis=dim)
                assert (np.diff(srt, axis=dim) > 0).all()


def test_topk_method_zero_dim_and_errors():
    t = rtt.tensor([1, 5, 3, 5])
    r = t.topk(2)
    assert_same(np_of(r.values), [5, 5])
    assert sorted(np_of(r.indices).tolist()) == [1, 3]
    v, i = rtt.topk(rtt.tensor(2.0), 1)
    assert v.ndim == 0 and v.item() == 2.0 and i.item() == 0
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        rtt.topk(t, 5)
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        rtt.topk(t, -1)
    with pytest.raises(RuntimeError, match="not implemented for 'ComplexFloat'"):
        rtt.topk(rtt.zeros(3, dtype=rtt.complex64), 1)


@pytest.mark.parametrize("dtype_name", [d for d in REAL if d != "bool"])
def test_kthvalue(dtype_name):
    t, a = make((3, 7), dtype_name, "sliced")
    for k in (1, 4, 7):
        for keepdim in (False, True):
            v, i = rtt.kthvalue(t, k, 1, keepdim)
            order = ref_argsort(a, 1, False)
            exp = np.take_along_axis(a, order[:, k - 1:k], 1)
            if not keepdim:
                exp = exp[:, 0]
            assert_same(np_of(v), exp)
            got_idx = np_of(i) if keepdim else np_of(i)[:, None]
            assert_same(np.take_along_axis(a, got_idx, 1), exp if keepdim else exp[:, None])
    v, i = t.kthvalue(2, 0)
    assert tuple(v.shape) == (7,)
    # PyTorch raises RuntimeError here (not IndexError)
    with pytest.raises(RuntimeError, match="kthvalue\\(\\): selected number k out of range"):
        rtt.kthvalue(t, 8)
    with pytest.raises(RuntimeError, match="out of range"):
        rtt.kthvalue(t, 0)


# ---------------------------------------------------------------------------------------
# unique / unique_consecutive

@pytest.mark.parametrize("dtype_name", REAL)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_unique(dtype_name, layout):
    t, a = make((4, 6), dtype_name, layout, nan=False)
    u, inv, cnt = rtt.unique(t, return_inverse=True, return_counts=True)
    eu, einv, ecnt = np.unique(a, return_inverse=True, return_counts=True)
    assert u.dtype == t.dtype and inv.dtype == rtt.int64 and cnt.dtype == rtt.int64
    assert_same(np_of(u), eu)
    assert_same(np_of(inv), einv.reshape(a.shape))
    assert_same(np_of(cnt), ecnt)
    assert_same(np_of(t.unique()), eu)
    u, c = rtt.unique(t, sorted=True, return_counts=True)
    assert_same(np_of(c), ecnt)


def test_unique_nan_and_empty():
    t = rtt.tensor([1.0, float("nan"), 1.0, float("nan")])
    u, c = rtt.unique(t, return_counts=True)
    assert np_of(u).shape == (3,)       # every NaN is distinct, as in PyTorch
    assert_same(np_of(c), [2, 1, 1])
    u, inv = rtt.unique(rtt.zeros(0, 2), return_inverse=True)
    assert tuple(u.shape) == (0,) and tuple(inv.shape) == (0, 2)
    assert_same(np_of(rtt.unique(rtt.tensor(3))), [3])


@pytest.mark.parametrize("dtype_name", ("bool", "int32", "float16", "bfloat16", "float64"))
def test_unique_dim(dtype_name):
    t, a = make((5, 3), dtype_name, "transposed", nan=False)
    t = rtt.cat([t, t[:2]], 0)
    a = np.concatenate([a, a[:2]], 0)
    for dim in (0, 1, -1):
        u, inv, cnt = rtt.unique(t, return_inverse=True, return_counts=True, dim=dim)
        eu, einv, ecnt = np.unique(a, return_inverse=True, return_counts=True, axis=dim % 2)
        assert_same(np_of(u), eu)
        assert_same(np_of(inv), einv.reshape(-1))
        assert_same(np_of(cnt), ecnt)


def test_unique_errors():
    with pytest.raises(RuntimeError, match="not implemented for 'ComplexFloat'"):
        rtt.unique(rtt.zeros(2, dtype=rtt.complex64))


def _ref_consecutive(a):
    vals, counts = [], []
    for x in a:
        if vals and vals[-1] == x:
            counts[-1] += 1
        else:
            vals.append(x)
            counts.append(1)
    inv = np.repeat(np.arange(len(vals)), counts)
    return np.array(vals, a.dtype), inv, np.array(counts)


@pytest.mark.parametrize("dtype_name", REAL)
def test_unique_consecutive(dtype_name):
    t, a = make((3, 8), dtype_name, "sliced", nan=False)
    u, inv, cnt = rtt.unique_consecutive(t, return_inverse=True, return_counts=True)
    eu, einv, ecnt = _ref_consecutive(a.reshape(-1))
    assert u.dtype == t.dtype
    assert_same(np_of(u), eu)
    assert_same(np_of(inv), einv.reshape(a.shape))
    assert_same(np_of(cnt), ecnt)
    assert_same(np_of(t.unique_consecutive()), eu)


def test_unique_consecutive_dim():
    t = rtt.tensor([[1, 1, 2, 2, 1], [3, 3, 4, 5, 3]])
    u, inv, cnt = rtt.unique_consecutive(t, True, True, dim=1)
    assert_same(np_of(u), [[1, 2, 2, 1], [3, 4, 5, 3]])
    assert_same(np_of(inv), [0, 0, 1, 2, 3])
    assert_same(np_of(cnt), [2, 1, 1, 1])
    assert_same(np_of(rtt.unique_consecutive(rtt.tensor([]))), np.zeros(0))


# ---------------------------------------------------------------------------------------
# searchsorted / bucketize / histc

@pytest.mark.parametrize("dtype_name", ("uint8", "int16", "int64", "float16", "bfloat16", "float32",
                                        "float64"))
def test_searchsorted_1d(dtype_name):
    seq = rtt.tensor([0, 1, 1, 3, 5, 8]).to(getattr(rtt, dtype_name))
    vals, a = make((3, 4), dtype_name, "transposed", nan=False)
    s = np_of(seq)
    for right in (False, True):
        r = rtt.searchsorted(seq, vals, right=right)
        assert r.dtype == rtt.int64
        assert_same(np_of(r), np.searchsorted(s, a, side="right" if right else "left"))
        r = rtt.searchsorted(seq, vals, side="right" if right else "left", out_int32=True)
        assert r.dtype == rtt.int32
        assert_same(np_of(r), np.searchsorted(s, a, side="right" if right else "left"))
    r = rtt.searchsorted(seq, 1)
    assert r.ndim == 0 and r.item() == 1
    assert rtt.searchsorted(seq, 1, right=True).item() == 3


def test_searchsorted_nd_sorter_and_errors():
    seq = rtt.tensor([[1, 3, 5], [2, 4, 6]])
    vals = rtt.tensor([[0, 3, 6, 5], [2, 2, 7, 4]])
    exp = np.stack([np.searchsorted([1, 3, 5], [0, 3, 6, 5]), np.searchsorted([2, 4, 6], [2, 2, 7, 4])])
    assert_same(np_of(rtt.searchsorted(seq, vals)), exp)
    unsorted = rtt.tensor([5, 1, 3])
    sorter = rtt.tensor([1, 2, 0])
    assert_same(np_of(rtt.searchsorted(unsorted, rtt.tensor([2, 4]), sorter=sorter)), [1, 2])
    with pytest.raises(RuntimeError, match="side and right can't be set to opposites"):
        rtt.searchsorted(seq, vals, right=True, side="left")
    with pytest.raises(RuntimeError, match="first N-1 dimensions"):
        rtt.searchsorted(seq, rtt.tensor([[1], [2], [3]]))
    with pytest.raises(RuntimeError, match="scalar only when"):
        rtt.searchsorted(seq, 1)
    out = rtt.empty(0, dtype=rtt.int64)
    assert rtt.searchsorted(seq, vals, out=out) is out
    assert_same(np_of(out), exp)


def test_bucketize():
    b = rtt.tensor([1, 3, 5, 7, 9])
    v = rtt.tensor([[3, 6, 9], [3, 6, 9]])
    assert_same(np_of(rtt.bucketize(v, b)), [[1, 3, 4], [1, 3, 4]])
    assert_same(np_of(rtt.bucketize(v, b, right=True)), [[2, 3, 5], [2, 3, 5]])
    assert rtt.bucketize(v, b, out_int32=True).dtype == rtt.int32
    with pytest.raises(RuntimeError, match="boundaries tensor must be 1 dimension"):
        rtt.bucketize(v, v)


@pytest.mark.parametrize("dtype_name", ("float32", "float64", "float16", "bfloat16"))
def test_histc(dtype_name):
    t = rtt.tensor([1.0, 2.0, 1.0, 4.0, 2.5, 0.0]).to(getattr(rtt, dtype_name))
    h = rtt.histc(t, bins=4, min=0, max=3)
    assert h.dtype == t.dtype
    assert_same(np_of(h), [1, 2, 1, 1])
    h = t.histc(4)
    assert_same(np_of(h), np.histogram([1, 2, 1, 4, 2.5, 0], 4, (0, 4))[0])
    assert_same(np_of(rtt.histc(rtt.tensor([2.0, 2.0]), 2)), [0, 2])
    with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
        rtt.histc(rtt.tensor([1, 2]))


def test_bad_arguments_raise():
    t = rtt.tensor([3.0, 1.0, 2.0])
    for fn in (lambda: rtt.sort(t, None), lambda: rtt.topk(t, None), lambda: rtt.topk(t, "a"),
               lambda: rtt.kthvalue(t, None), lambda: rtt.unique(t, dim="a"),
               lambda: rtt.searchsorted(None, t), lambda: rtt.searchsorted(t, "a"),
               lambda: rtt.bucketize(t, None), lambda: rtt.histc(t, bins=0),
               lambda: rtt.histc(t, bins=3, min=2, max=1), lambda: rtt.sort(t, out=(t,)),
               lambda: rtt.searchsorted(t, t, side="middle")):
        with pytest.raises((TypeError, RuntimeError, IndexError, ValueError)):
            fn()


def test_bool_inputs_refused_like_pytorch():
    b = rtt.tensor([True, False, True])
    with pytest.raises(RuntimeError, match="topk does not support bool dtypes on CPU"):
        rtt.topk(b, 1)
    with pytest.raises(RuntimeError, match="not implemented for 'Bool'"):
        rtt.kthvalue(b, 1)
    with pytest.raises(RuntimeError, match="not implemented for 'Bool'"):
        rtt.searchsorted(b, b)


def test_a_dtype_without_a_kernel_raises_not_implemented_error_as_pytorch():
    # PyTorch reports a dtype its kernel was not compiled for as NotImplementedError
    # ('"kthvalue_cpu" not implemented for 'Bool''), a RuntimeError subclass
    with pytest.raises(NotImplementedError, match="\"kthvalue_cpu\" not implemented for 'Bool'"):
        rtt.kthvalue(rtt.zeros(3, dtype=rtt.bool), 1)
    with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
        rtt.searchsorted(rtt.zeros(3, dtype=rtt.bool), rtt.zeros(1, dtype=rtt.bool))
