"""Indexing ops against numpy (hand-computed where PyTorch differs from numpy)."""
import numpy as np
import pytest

import rt_tensor as rtt

ALL = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
       "float64", "complex64", "complex128"]
NUMERIC = ALL[1:]
REAL = ALL[1:10]


def npv(t):
    """numpy copy of a tensor (bfloat16 through float32)."""
    if t.dtype == rtt.bfloat16:
        t = t.float()
    return np.array(t.numpy())


def make(shape, dtype, layout="contiguous", seed=0):
    """A tensor of small exact values in dtype; layouts: contiguous, transposed, sliced."""
    rng = np.random.default_rng(seed)
    d = getattr(rtt, dtype)
    if layout == "transposed":
        base = rng.integers(-5, 6, size=tuple(reversed(shape)))
        t = rtt.tensor(base.astype(np.float64), dtype=d)
        return t.permute(*reversed(range(len(shape)))) if len(shape) > 1 else t
    if layout == "sliced":
        big = rng.integers(-5, 6, size=tuple(s * 2 for s in shape))
        t = rtt.tensor(big.astype(np.float64), dtype=d)
        return t[tuple(slice(None, None, 2) for _ in shape)]
    a = rng.integers(-5, 6, size=shape)
    if dtype == "bool":
        a = a > 0
    elif dtype == "uint8":
        a = np.abs(a)
    return rtt.tensor(a.astype(np.float64) if dtype != "bool" else a, dtype=d)


def idx(values):
    return rtt.tensor(np.asarray(values, dtype=np.int64))


LAYOUTS = ["contiguous", "transposed", "sliced"]


# ---- advanced __getitem__ ------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_getitem_int_tensor_all_dtypes(dtype, layout):
    t = make((4, 5, 3), dtype, layout)
    a = npv(t)
    for index in [idx([0, 3, -1, 2]), (slice(None), idx([[1, 0], [4, -5]])),
                  (idx([1, 2]), slice(None), idx([0, 2])), (Ellipsis, idx([2, 2, 0]))]:
        np_index = tuple(x.numpy() if isinstance(x, rtt.Tensor) else x for x in
                         (index if isinstance(index, tuple) else (index,)))
        r = t[index]
        assert r.dtype == t.dtype
        np.testing.assert_array_equal(npv(r), a[np_index])


@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_getitem_bool_mask(dtype, layout):
    t = make((4, 3), dtype, layout)
    a = npv(t)
    m = np.array([[True, False, True], [False, False, False], [True, True, True], [False, True, False]])
    np.testing.assert_array_equal(npv(t[rtt.tensor(m)]), a[m])
    np.testing.assert_array_equal(npv(t[rtt.tensor(m[:, 0])]), a[m[:, 0]])
    np.testing.assert_array_equal(npv(t[:, rtt.tensor([True, False, True])]), a[:, [True, False, True]])
    np.testing.assert_array_equal(npv(t[m]), a[m])                 # numpy mask
    np.testing.assert_array_equal(npv(t[[True, False, True, True]]), a[[True, False, True, True]])


def test_getitem_lists_and_numpy():
    a = np.arange(60).reshape(3, 4, 5)
    t = rtt.tensor(a)
    np.testing.assert_array_equal(t[[0, 2]].numpy(), a[[0, 2]])
    # a list holding lists is a tuple of indices in PyTorch (numpy would make it one array)
    np.testing.assert_array_equal(t[[[0, 2], [1, 1]]].numpy(), a[[0, 2], [1, 1]])
    np.testing.assert_array_equal(t[np.array([[0, 2], [1, 1]])].numpy(), a[np.array([[0, 2], [1, 1]])])
    np.testing.assert_array_equal(t[np.array([2, -3])].numpy(), a[[2, -3]])
    np.testing.assert_array_equal(t[[0, 1], [1, 2]].numpy(), a[[0, 1], [1, 2]])
    np.testing.assert_array_equal(t[1:, [3, 0], ::2].numpy(), a[1:, [3, 0], ::2])
    # a list holding a slice is a tuple (PyTorch's treatSequenceAsTuple)
    np.testing.assert_array_equal(t[[slice(None), 1]].numpy(), a[:, 1])


def test_getitem_broadcast_and_placement():
    a = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    t = rtt.tensor(a)
    i0 = np.array([[0], [1]])
    i1 = np.array([0, 2, 1])
    # adjacent: in place
    r = t[:, idx(i0), idx(i1)]
    assert r.shape == (2, 2, 3, 5)
    np.testing.assert_array_equal(r.numpy(), a[:, i0, i1])
    # separated by a slice: to the front
    r = t[idx(i0), :, idx(i1)]
    assert r.shape == (2, 3, 3, 5)
    np.testing.assert_array_equal(r.numpy(), a[i0, :, i1])
    # separated by None: to the front as well
    np.testing.assert_array_equal(t[idx([0, 1]), None, idx([1, 2])].numpy(),
                                  a[[0, 1], None, [1, 2]])
    # PyTorch applies ints first (a select), unlike numpy: x[0, :, [0, 1]] is (4, 2) here
    r = t[0, :, idx([0, 1])]
    assert r.shape == (3, 2, 5)
    np.testing.assert_array_equal(r.numpy(), a[0][:, [0, 1]])


def test_getitem_python_bools_and_0d():
    a = np.arange(6).reshape(2, 3)
    t = rtt.tensor(a)
    assert t[True].shape == (1, 2, 3)
    assert t[False].shape == (0, 2, 3)
    np.testing.assert_array_equal(t[True, [0, 1]].numpy(), a[True, [0, 1]])
    np.testing.assert_array_equal(t[:, False].numpy(), a[:, False])
    s = rtt.tensor(5)
    assert s[True].shape == (1,) and s[True].tolist() == [5]
    assert s[rtt.tensor(False)].shape == (0,)
    # a 0-d integer tensor selects: a view
    v = t[rtt.tensor(1)]
    assert v.shape == (3,)
    v[0] = 100
    assert t[1, 0].item() == 100


def test_getitem_is_copy():
    t = rtt.tensor([1, 2, 3])
    r = t[[0, 1]]
    r[0] = 99
    assert t.tolist() == [1, 2, 3]


def test_getitem_empty():
    a = np.arange(12).reshape(3, 4)
    t = rtt.tensor(a)
    assert t[[]].shape == (0, 4)
    assert t[idx(np.zeros((0, 2)))].shape == (0, 2, 4)
    assert t[:, idx(np.zeros((2, 0)))].shape == (3, 2, 0)
    e = rtt.tensor(np.zeros((0, 3)))
    assert e[:, [0, 2]].shape == (0, 2)
    assert e[rtt.tensor(np.zeros((0, 3), dtype=bool))].shape == (0,)


def test_getitem_noncontiguous_index():
    a = np.arange(20).reshape(4, 5)
    t = rtt.tensor(a)
    ib = idx(np.array([[0, 1, 2], [3, 2, 1]]))
    it = ib.t()                            # transposed index
    np.testing.assert_array_equal(t[it].numpy(), a[ib.numpy().T])
    isl = idx(np.arange(10) % 4)[::3]       # step-sliced index
    np.testing.assert_array_equal(t[:, isl].numpy(), a[:, (np.arange(10) % 4)[::3]])
    i32 = rtt.tensor(np.array([3, -1], dtype=np.int32))
    np.testing.assert_array_equal(t[i32].numpy(), a[[3, -1]])


def test_getitem_errors():
    t = rtt.tensor(np.zeros((3, 4)))
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 3"):
        t[[5]]
    with pytest.raises(IndexError, match="index -4 is out of bounds for dimension 0 with size 3"):
        t[[-4]]
    with pytest.raises(IndexError, match=r"The shape of the mask \[2\] at index 0 does not match "
                                         r"the shape of the indexed tensor \[3, 4\] at index 0"):
        t[rtt.tensor([True, False])]
    with pytest.raises(IndexError, match="too many indices"):
        t[[0], [0], [0]]
    with pytest.raises(IndexError, match="shape mismatch"):
        t[idx([0, 1]), idx([0, 1, 2])]
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool"):
        t[rtt.tensor([0.0, 1.0])]
    with pytest.raises(IndexError, match="tensors used as indices"):
        t[rtt.tensor(np.array([0], dtype=np.int16))]


def test_uint8_mask_deprecated():
    t = rtt.tensor([1, 2, 3])
    with pytest.warns(UserWarning, match="uint8 is now deprecated"):
        r = t[rtt.tensor(np.array([1, 0, 1], dtype=np.uint8))]
    assert r.tolist() == [1, 3]


# ---- advanced __setitem__ / index_put_ -----------------------------------------------------

@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_setitem_all_dtypes(dtype, layout):
    t = make((4, 3), dtype, layout)
    a = npv(t).copy()
    v = make((2, 3), dtype, seed=3)
    t[idx([3, 0])] = v
    a[[3, 0]] = npv(v)
    np.testing.assert_array_equal(npv(t), a)
    m = np.array([True, False, True])
    t[:, rtt.tensor(m)] = 1
    a[:, m] = 1
    np.testing.assert_array_equal(npv(t), a)
    t[idx([1, 2]), idx([0, 2])] = make((2,), dtype, seed=5)
    a[[1, 2], [0, 2]] = npv(make((2,), dtype, seed=5))
    np.testing.assert_array_equal(npv(t), a)


def test_setitem_broadcast_and_convert():
    a = np.zeros((3, 4))
    t = rtt.tensor(a)
    t[[0, 2]] = rtt.tensor([1, 2, 3, 4])            # int64 value into float64, broadcast
    a[[0, 2]] = [1, 2, 3, 4]
    np.testing.assert_array_equal(t.numpy(), a)
    t[rtt.tensor([True, False, True])] = [[5.0], [6.0]]     # list value
    a[[True, False, True]] = [[5.0], [6.0]]
    np.testing.assert_array_equal(t.numpy(), a)
    t[[1]] = rtt.tensor([[[7.0]]])                  # leading 1s are dropped
    a[[1]] = 7.0
    np.testing.assert_array_equal(t.numpy(), a)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        t[[0, 1]] = rtt.tensor([1.0, 2.0, 3.0])


def test_setitem_value_aliases_destination():
    a = np.arange(6.0)
    t = rtt.tensor(a)
    t[[1, 2, 3]] = t[0:3]                  # value is a view of t
    a[[1, 2, 3]] = a[0:3].copy()
    np.testing.assert_array_equal(t.numpy(), a)
    t2 = rtt.tensor(np.arange(6.0))
    t2[[5, 4, 3, 2, 1, 0]] = t2
    np.testing.assert_array_equal(t2.numpy(), np.arange(6.0)[::-1])


def test_setitem_basic_and_errors():
    t = rtt.tensor(np.zeros((3, 3)))
    with pytest.raises(IndexError, match="index 3 is out of bounds"):
        t[[3]] = 1.0
    t[rtt.tensor(1), [0, 2]] = 4.0
    assert t.tolist() == [[0, 0, 0], [4, 0, 4], [0, 0, 0]]
    e = rtt.tensor(np.zeros(3))
    e[[]] = 5.0
    assert e.tolist() == [0, 0, 0]


@pytest.mark.parametrize("dtype", NUMERIC + ["bool"])
def test_index_put_accumulate(dtype):
    t = make((5,), dtype)
    a = npv(t).copy()
    ix = np.array([0, 2, 0, 4, 0])
    v = make((5,), dtype, seed=9)
    r = rtt.index_put(t, (idx(ix),), v, accumulate=True)
    if dtype == "bool":
        np.logical_or.at(a, ix, npv(v))
    else:
        np.add.at(a, ix, npv(v))
    np.testing.assert_array_equal(npv(r), a)
    assert r is not t
    r2 = t.index_put_((idx(ix),), v, True)
    assert r2 is t
    np.testing.assert_array_equal(npv(t), a)


def test_index_put_2d_mask_and_errors():
    t = rtt.tensor(np.zeros((2, 3)))
    m = rtt.tensor(np.array([[True, False, True], [False, True, False]]))
    t.index_put_((m,), rtt.tensor([1.0, 2.0, 3.0], dtype=rtt.float64))
    assert t.tolist() == [[1, 0, 2], [0, 3, 0]]
    with pytest.raises(RuntimeError, match="Index put requires the source and destination dtypes match"):
        t.index_put_((idx([0]),), rtt.tensor([1.0], dtype=rtt.float32))
    t.index_put_((None, idx([1])), rtt.tensor(9.0, dtype=rtt.float64))
    assert t.tolist() == [[1, 9, 2], [0, 9, 0]]


# ---- index_select / gather / take / take_along_dim -----------------------------------------

@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_index_select(dtype, layout):
    t = make((3, 4, 2), dtype, layout)
    a = npv(t)
    for dim in range(3):
        ix = np.array([0, t.shape[dim] - 1, 1, 0])
        for it in (idx(ix), rtt.tensor(ix.astype(np.int32))):
            r = rtt.index_select(t, dim, it)
            np.testing.assert_array_equal(npv(r), np.take(a, ix, axis=dim))
        np.testing.assert_array_equal(npv(t.index_select(-1, idx([1]))), a[..., [1]])


def test_index_select_edge_and_errors():
    t = rtt.tensor([[1, 2], [3, 4]])
    assert rtt.index_select(t, 0, rtt.tensor(1)).tolist() == [[3, 4]]
    assert rtt.index_select(t, 1, idx([])).shape == (2, 0)
    assert rtt.index_select(rtt.tensor(7), 0, idx([0])).tolist() == 7
    with pytest.raises(IndexError, match="index out of range in self"):
        rtt.index_select(t, 0, idx([2]))
    with pytest.raises(IndexError, match="index out of range in self"):
        rtt.index_select(t, 0, idx([-1]))
    with pytest.raises(IndexError, match="Index is supposed to be a vector"):
        rtt.index_select(t, 0, idx([[0]]))
    with pytest.raises(RuntimeError, match="Expected dtype int32 or int64 for index"):
        rtt.index_select(t, 0, rtt.tensor([0], dtype=rtt.int16))
    with pytest.raises(IndexError, match="Dimension out of range"):
        rtt.index_select(t, 2, idx([0]))


@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_gather(dtype, layout):
    t = make((3, 4), dtype, layout)
    a = npv(t)
    rng = np.random.default_rng(1)
    ix0 = rng.integers(0, 3, size=(2, 4))
    np.testing.assert_array_equal(npv(rtt.gather(t, 0, idx(ix0))), np.take_along_axis(a, ix0, 0))
    ix1 = rng.integers(0, 4, size=(3, 6))
    np.testing.assert_array_equal(npv(t.gather(1, idx(ix1))), np.take_along_axis(a, ix1, 1))
    # smaller index than self in the other dim, non-contiguous index
    ix2 = rng.integers(0, 4, size=(4, 2))
    r = rtt.gather(t, 1, idx(ix2).t())
    np.testing.assert_array_equal(npv(r), np.take_along_axis(a[:2], ix2.T, 1))


def test_gather_errors_and_edges():
    t = rtt.tensor([[1, 2], [3, 4]])
    with pytest.raises(RuntimeError, match="gather\\(\\): Expected dtype int64 for index"):
        rtt.gather(t, 0, rtt.tensor([[0]], dtype=rtt.int32))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        rtt.gather(t, 0, idx([0]))
    with pytest.raises(RuntimeError, match="Size does not match at dimension 1"):
        rtt.gather(t, 0, idx([[0, 0, 0]]))
    with pytest.raises(RuntimeError, match="index 2 is out of bounds for dimension 0 with size 2"):
        rtt.gather(t, 0, idx([[2]]))
    with pytest.raises(RuntimeError, match="index -1 is out of bounds"):
        rtt.gather(t, 1, idx([[-1]]))
    assert rtt.gather(t, 0, idx(np.zeros((0, 2)))).shape == (0, 2)
    assert rtt.gather(rtt.tensor(5), 0, rtt.tensor(0)).tolist() == 5


@pytest.mark.parametrize("dtype", ALL)
def test_take(dtype):
    t = make((3, 4), dtype, "transposed")
    a = npv(t)
    ix = np.array([[0, -1], [5, 11]])
    np.testing.assert_array_equal(npv(rtt.take(t, idx(ix))), np.take(a, ix))
    np.testing.assert_array_equal(npv(t.take(idx([3]))), np.take(a, [3]))
    with pytest.raises(IndexError, match="out of range: tried to access index 12 on a tensor of 12 elements"):
        rtt.take(t, idx([12]))
    with pytest.raises(RuntimeError, match="Expected a long tensor for index"):
        rtt.take(t, rtt.tensor([1], dtype=rtt.int32))


def test_take_along_dim():
    a = np.arange(12.0).reshape(3, 4)
    t = rtt.tensor(a)
    ix = np.array([[0, 3], [1, 1], [2, 0]])
    np.testing.assert_array_equal(rtt.take_along_dim(t, idx(ix), 1).numpy(), np.take_along_axis(a, ix, 1))
    # broadcasting of the other dims
    ixb = np.array([[2], [0]])[None].reshape(1, 2)
    np.testing.assert_array_equal(t.take_along_dim(idx(ixb), dim=1).numpy(),
                                  np.take_along_axis(a, np.broadcast_to(ixb, (3, 2)), 1))
    np.testing.assert_array_equal(rtt.take_along_dim(t, idx([11, 0])).numpy(), a.ravel()[[11, 0]])
    np.testing.assert_array_equal(rtt.take_along_dim(t, idx(np.argsort(a, 0)), 0).numpy(),
                                  np.take_along_axis(a, np.argsort(a, 0), 0))
    with pytest.raises(RuntimeError, match="dtype of indices should be Long"):
        rtt.take_along_dim(t, rtt.tensor([[0]], dtype=rtt.int32), 1)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        rtt.take_along_dim(t, idx([0]), 1)


# ---- scatter family --------------------------------------------------------------------------

@np.errstate(over="ignore")
def np_scatter(a, dim, ix, src, op=None):
    a = a.copy()
    for pos in np.ndindex(*ix.shape):
        tgt = list(pos)
        tgt[dim] = ix[pos]
        tgt = tuple(tgt)
        v = src[pos] if isinstance(src, np.ndarray) else src
        if op is None:
            a[tgt] = v
        elif op == "add":
            a[tgt] = (a[tgt] or v) if a.dtype == bool else a[tgt] + v
        elif op == "mul":
            a[tgt] = (a[tgt] and v) if a.dtype == bool else a[tgt] * v
        elif op == "amax":
            a[tgt] = max(a[tgt], v)
        elif op == "amin":
            a[tgt] = min(a[tgt], v)
    return a


@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_scatter(dtype, layout):
    t = make((3, 4), dtype, layout)
    a = npv(t)
    src = make((2, 5), dtype, "sliced", seed=4)
    ix = np.array([[0, 1, 2, 0], [2, 0, 1, 1]])     # unique per column: deterministic
    r = rtt.scatter(t, 0, idx(ix), src)
    np.testing.assert_array_equal(npv(r), np_scatter(a, 0, ix, npv(src)))
    r = t.scatter(1, idx([[3, 0], [1, 2]]), 1)
    np.testing.assert_array_equal(npv(r), np_scatter(a, 1, np.array([[3, 0], [1, 2]]), 1))
    np.testing.assert_array_equal(npv(t), a)         # out-of-place left t alone


@pytest.mark.parametrize("dtype", NUMERIC + ["bool"])
def test_scatter_add_duplicates(dtype):
    t = make((4, 3), dtype, "transposed")
    a = npv(t)
    src = make((6, 3), dtype, seed=2)
    ix = np.array([[0, 1, 0], [0, 0, 0], [3, 3, 1], [0, 2, 1], [1, 1, 1], [3, 0, 0]])
    r = rtt.scatter_add(t, 0, idx(ix), src)
    np.testing.assert_array_equal(npv(r), np_scatter(a, 0, ix, npv(src), "add"))
    r2 = t.clone()
    r2.scatter_add_(0, idx(ix), src)
    np.testing.assert_array_equal(npv(r2), npv(r))
    with pytest.warns(UserWarning, match="reduce argument of torch.scatter with Tensor src is deprecated"):
        r3 = rtt.scatter(t, 0, idx(ix), src, reduce="add")
    np.testing.assert_array_equal(npv(r3), npv(r))
    with pytest.warns(UserWarning, match="deprecated"):
        r4 = rtt.scatter(t, 0, idx(ix), src, reduce="multiply")
    np.testing.assert_array_equal(npv(r4), np_scatter(a, 0, ix, npv(src), "mul"))


def test_scatter_add_large_parallel():
    n = 200_000
    rng = np.random.default_rng(0)
    ix = rng.integers(0, 10, size=n)
    src = np.ones(n, dtype=np.float64)
    r = rtt.scatter_add(rtt.tensor(np.zeros(10)), 0, idx(ix), rtt.tensor(src))
    np.testing.assert_array_equal(r.numpy(), np.bincount(ix, minlength=10).astype(np.float64))
    r = rtt.index_add(rtt.tensor(np.zeros(10)), 0, idx(ix), rtt.tensor(src))
    np.testing.assert_array_equal(r.numpy(), np.bincount(ix, minlength=10).astype(np.float64))


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dtype", ["int32", "int64", "float16", "bfloat16", "float32", "float64"])
def test_scatter_reduce(reduce, include_self, dtype):
    t = make((4,), dtype)
    src = make((6,), dtype, seed=8)
    ix = np.array([0, 0, 2, 2, 2, 0])
    a, s = npv(t).astype(np.float64), npv(src).astype(np.float64)
    exp = a.copy()
    for k in range(4):
        vals = list(s[ix == k])
        if not vals:
            continue
        if include_self:
            vals.append(a[k])
        f = {"sum": np.sum, "prod": np.prod, "mean": np.mean, "amax": np.max, "amin": np.min}[reduce]
        exp[k] = f(vals)
        if reduce == "mean" and dtype.startswith("int"):
            exp[k] = np.floor(np.sum(vals) / len(vals))
    r = rtt.scatter_reduce(t, 0, idx(ix), src, reduce, include_self=include_self)
    tol = 1e-2 if dtype in ("float16", "bfloat16") else 1e-6
    np.testing.assert_allclose(npv(r).astype(np.float64), exp, rtol=tol)


def test_scatter_reduce_nan_and_errors():
    t = rtt.tensor([0.0, 0.0])
    r = rtt.scatter_reduce(t, 0, idx([0, 0]), rtt.tensor([float("nan"), 1.0]), "amax")
    assert np.isnan(r[0].item())
    with pytest.raises(RuntimeError, match="reduce argument must be either sum, prod, mean, amax or amin"):
        rtt.scatter_reduce(t, 0, idx([0]), rtt.tensor([1.0]), "max")
    with pytest.raises(RuntimeError, match="reduce argument must be either add or multiply"):
        rtt.scatter(t, 0, idx([0]), 1.0, reduce="sum")


def test_scatter_errors():
    t = rtt.tensor(np.zeros((2, 3)))
    with pytest.raises(RuntimeError, match="scatter\\(\\): Expected dtype int64 for index"):
        t.scatter_(0, rtt.tensor([[0]], dtype=rtt.int32), rtt.tensor([[1.0]], dtype=rtt.float64))
    with pytest.raises(RuntimeError, match="Expected self.dtype to be equal to src.dtype"):
        t.scatter_(0, idx([[0]]), rtt.tensor([[1.0]], dtype=rtt.float32))
    with pytest.raises(RuntimeError, match="index 2 is out of bounds for dimension 0 with size 2"):
        t.scatter_(0, idx([[2]]), rtt.tensor([[1.0]], dtype=rtt.float64))
    with pytest.raises(RuntimeError, match="to be no larger than self"):
        t.scatter_(0, idx([[0, 0, 0, 0]]), 1.0)
    with pytest.raises(RuntimeError, match="no larger size than src"):
        t.scatter_(0, idx([[0, 0]]), rtt.tensor([[1.0]], dtype=rtt.float64))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        t.scatter_(0, idx([0]), rtt.tensor([1.0], dtype=rtt.float64))
    with pytest.raises(RuntimeError, match="scatter_add\\(\\): Expected dtype int64"):
        t.scatter_add_(0, rtt.tensor([[0]], dtype=rtt.int32), rtt.tensor([[1.0]], dtype=rtt.float64))
    assert t.tolist() == [[0] * 3] * 2
    # scatter with value= and empty index
    t.scatter_(1, idx([[2]]), value=7)
    assert t.tolist() == [[0, 0, 7], [0, 0, 0]]
    t.scatter_(1, idx(np.zeros((0, 0))), rtt.tensor(np.zeros((0, 0))))


# ---- index_add / index_copy / index_fill ----------------------------------------------------

@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_index_add_copy_fill(dtype, layout):
    t = make((4, 3), dtype, layout)
    a = npv(t)
    src = make((4, 2), dtype, "transposed", seed=6)
    s = npv(src)
    ix = np.array([2, 0])
    exp = a.copy()
    for k, j in enumerate(ix):
        exp[:, j] = (exp[:, j] | s[:, k]) if dtype == "bool" else exp[:, j] + s[:, k]
    np.testing.assert_array_equal(npv(rtt.index_add(t, 1, idx(ix), src)), exp)
    exp = a.copy()
    exp[:, ix] = s
    np.testing.assert_array_equal(npv(rtt.index_copy(t, 1, idx(ix), src)), exp)
    exp = a.copy()
    exp[[1, 3]] = 1
    np.testing.assert_array_equal(npv(t.index_fill(0, idx([1, -1]), 1)), exp)
    np.testing.assert_array_equal(npv(t), a)


def test_index_add_alpha_duplicates_int32():
    t = rtt.tensor(np.zeros((3, 2)))
    src = rtt.tensor(np.arange(8.0).reshape(4, 2))
    t.index_add_(0, rtt.tensor(np.array([0, 2, 0, 0], dtype=np.int32)), src, alpha=0.5)
    exp = np.zeros((3, 2))
    np.add.at(exp, [0, 2, 0, 0], 0.5 * np.arange(8.0).reshape(4, 2))
    np.testing.assert_array_equal(t.numpy(), exp)
    ti = rtt.tensor([1, 2, 3])
    ti.index_add_(0, idx([1]), rtt.tensor([5]), alpha=-2)
    assert ti.tolist() == [1, -8, 3]
    with pytest.raises(RuntimeError, match="alpha must not be a floating point"):
        ti.index_add_(0, idx([1]), rtt.tensor([5]), alpha=0.5)


def test_index_add_copy_fill_errors():
    t = rtt.tensor(np.zeros((2, 3)))
    with pytest.raises(IndexError, match="index out of range in self"):
        t.index_add_(0, idx([2]), rtt.tensor(np.zeros((1, 3))))
    with pytest.raises(IndexError, match="index out of range in self"):
        t.index_add_(0, idx([-1]), rtt.tensor(np.zeros((1, 3))))
    with pytest.raises(RuntimeError, match="must have the same scalar type"):
        t.index_add_(0, idx([0]), rtt.tensor(np.zeros((1, 3)), dtype=rtt.float32))
    with pytest.raises(RuntimeError, match="source tensor shape must match self tensor shape"):
        t.index_add_(0, idx([0]), rtt.tensor(np.zeros((1, 2))))
    with pytest.raises(RuntimeError, match="Number of indices"):
        t.index_copy_(0, idx([0, 1]), rtt.tensor(np.zeros((1, 3))))
    with pytest.raises(IndexError, match="index_copy_\\(\\): index 5 is out of bounds for dimension 1 with size 3"):
        t.index_copy_(1, idx([5]), rtt.tensor(np.zeros((2, 1))))
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 1 with size 3"):
        t.index_fill_(1, idx([3]), 1.0)
    with pytest.raises(RuntimeError, match="0-dimensional value tensor"):
        t.index_fill_(1, idx([0]), rtt.tensor([1.0]))
    t.index_fill_(1, idx([0]), rtt.tensor(2.0))
    assert t.tolist() == [[2, 0, 0], [2, 0, 0]]


# ---- masked ops --------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_masked_fill(dtype, layout):
    t = make((3, 4), dtype, layout)
    a = npv(t)
    m = np.array([True, False, False, True])
    r = rtt.masked_fill(t, rtt.tensor(m), 1)
    exp = a.copy()
    exp[:, m] = 1
    np.testing.assert_array_equal(npv(r), exp)
    r = t.clone()
    r.masked_fill_(rtt.tensor(m[None, :].repeat(3, 0)), rtt.tensor(0))
    exp[:, m] = 0
    np.testing.assert_array_equal(npv(r), exp)


def test_masked_fill_broadcast_result_and_errors():
    t = rtt.tensor([1.0, 2.0, 3.0])
    m = rtt.tensor(np.array([[True], [False]]))
    r = rtt.masked_fill(t, m, -1.0)
    assert r.shape == (2, 3)
    assert r.tolist() == [[-1, -1, -1], [1, 2, 3]]
    with pytest.raises(RuntimeError):
        t.masked_fill_(m, -1.0)                # the in-place form needs mask -> self's shape
    with pytest.raises(RuntimeError, match="only supports boolean masks"):
        t.masked_fill_(rtt.tensor([1, 0, 1]), 0.0)
    with pytest.raises(RuntimeError, match="0-dimensional value tensor"):
        t.masked_fill_(rtt.tensor([True, False, True]), rtt.tensor([1.0]))
    e = rtt.tensor(np.zeros((0, 3)))
    assert e.masked_fill(rtt.tensor([True, False, True]), 1.0).shape == (0, 3)


@pytest.mark.parametrize("dtype", ALL)
def test_masked_select(dtype):
    t = make((3, 4), dtype, "sliced")
    a = npv(t)
    m = np.array([[True, False, True, False], [False] * 4, [True] * 4])
    np.testing.assert_array_equal(npv(rtt.masked_select(t, rtt.tensor(m))), a[m])
    mr = np.array([False, True, True, False])
    np.testing.assert_array_equal(npv(t.masked_select(rtt.tensor(mr))), a[:, mr].ravel())
    # broadcasting input against the mask
    mb = np.array([[True], [False]])[:, :, None] * np.ones((1, 1, 4), dtype=bool)
    r = rtt.masked_select(t[0], rtt.tensor(mb))
    np.testing.assert_array_equal(npv(r), np.broadcast_to(a[0], (2, 1, 4))[mb])
    assert rtt.masked_select(rtt.tensor(3.0), rtt.tensor(True)).tolist() == [3.0]
    with pytest.raises(RuntimeError, match="expected BoolTensor for mask"):
        rtt.masked_select(t, rtt.tensor([1, 0, 1, 0]))


@pytest.mark.parametrize("dtype", ALL)
def test_masked_scatter(dtype):
    t = make((3, 4), dtype, "transposed")
    a = npv(t)
    m = np.array([[True, False, True, False], [False] * 4, [True] * 4])
    src = make((10,), dtype, seed=7)
    exp = a.copy()
    exp[m] = npv(src)[:m.sum()]
    np.testing.assert_array_equal(npv(rtt.masked_scatter(t, rtt.tensor(m), src)), exp)
    r = t.clone()
    r.masked_scatter_(rtt.tensor(m[0]), src.reshape(2, 5))
    exp = a.copy()
    exp[np.broadcast_to(m[0], (3, 4))] = npv(src)[:6]
    np.testing.assert_array_equal(npv(r), exp)
    with pytest.raises(RuntimeError, match="at least as many elements"):
        t.masked_scatter_(rtt.tensor(m), src[:3])


# ---- where / nonzero / argwhere ---------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL)
def test_where_all_dtypes(dtype):
    x = make((3, 4), dtype, "transposed")
    y = make((4,), dtype, seed=2)
    c = np.array([[True, False, True, True], [False] * 4, [True] * 4])
    r = rtt.where(rtt.tensor(c), x, y)
    assert r.dtype == x.dtype
    np.testing.assert_array_equal(npv(r), np.where(c, npv(x), npv(y)))
    r = x.where(rtt.tensor(c[:, :1]), y)             # the method: where(cond, self, other)
    np.testing.assert_array_equal(npv(r), np.where(c[:, :1], npv(x), npv(y)))


def test_where_promotion_and_scalars():
    c = rtt.tensor([True, False])
    i = rtt.tensor([1, 2])
    f = rtt.tensor([1.5, 2.5], dtype=rtt.float32)
    assert rtt.where(c, i, f).dtype == rtt.float32
    assert rtt.where(c, i, 2.5).dtype == rtt.float32          # a Python float: default dtype
    assert rtt.where(c, i, 2.5).tolist() == [1.0, 2.5]
    assert rtt.where(c, i, 7).dtype == rtt.int64
    assert rtt.where(c, 1.0, 0).dtype == rtt.float32
    assert rtt.where(c, rtt.tensor([1], dtype=rtt.int8), rtt.tensor(1000)).dtype == rtt.int8
    assert rtt.where(c, rtt.tensor([1], dtype=rtt.int8), rtt.tensor(1.0)).dtype == rtt.float32
    assert rtt.where(c, True, False).dtype == rtt.bool
    assert rtt.where(c, 1j, f).dtype == rtt.complex64
    assert rtt.where(rtt.tensor(True), rtt.tensor(1), rtt.tensor(2)).shape == ()
    r = rtt.where(rtt.tensor(np.array([[True], [False]])), rtt.tensor([1, 2, 3]), 0)
    assert r.tolist() == [[1, 2, 3], [0, 0, 0]]
    with pytest.raises(RuntimeError, match="where expected condition to be a boolean tensor"):
        rtt.where(rtt.tensor([1, 0]), i, i)
    with pytest.raises(RuntimeError, match="must match"):
        rtt.where(c, rtt.tensor([1, 2, 3]), 0)


@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_nonzero(dtype, layout):
    t = make((3, 4, 2), dtype, layout)
    a = npv(t)
    r = rtt.nonzero(t)
    assert r.dtype == rtt.int64
    np.testing.assert_array_equal(r.numpy(), np.argwhere(a))
    np.testing.assert_array_equal(rtt.argwhere(t).numpy(), np.argwhere(a))
    tup = t.nonzero(as_tuple=True)
    assert len(tup) == 3
    for x, y in zip(tup, np.nonzero(a)):
        np.testing.assert_array_equal(x.numpy(), y)
    for x, y in zip(rtt.where(rtt.tensor(a != 0)), np.nonzero(a)):
        np.testing.assert_array_equal(x.numpy(), y)


def test_nonzero_edge():
    assert rtt.nonzero(rtt.tensor(5)).shape == (1, 0)
    assert rtt.nonzero(rtt.tensor(0)).shape == (0, 0)
    (z,) = rtt.nonzero(rtt.tensor(5), as_tuple=True)
    assert z.tolist() == [0]
    assert rtt.nonzero(rtt.tensor(np.zeros((0, 3)))).shape == (0, 2)
    f = rtt.tensor([0.0, -0.0, float("nan"), 1e-30])
    assert rtt.nonzero(f).tolist() == [[2], [3]]
    c = rtt.tensor([0j, 1j, 0j])
    assert rtt.nonzero(c).tolist() == [[1]]


# ---- put ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL)
def test_put(dtype):
    t = make((3, 4), dtype, "transposed")
    a = npv(t).copy()
    src = make((2, 2), dtype, seed=5)
    ix = np.array([[0, -1], [5, 7]])
    r = rtt.put(t, idx(ix), src)
    exp = a.copy()
    np.put(exp, ix, npv(src))
    np.testing.assert_array_equal(npv(r), exp)
    t.put_(idx(ix), src)
    np.testing.assert_array_equal(npv(t), exp)


def test_put_accumulate_and_errors():
    t = rtt.tensor(np.zeros((2, 2)))
    t.put_(idx([0, 0, 3]), rtt.tensor([1.0, 2.0, 3.0], dtype=rtt.float64), accumulate=True)
    assert t.tolist() == [[3, 0], [0, 3]]
    with pytest.raises(IndexError, match="out of range: tried to access index 4 on a tensor of 4 elements"):
        t.put_(idx([4]), rtt.tensor([1.0], dtype=rtt.float64))
    with pytest.raises(RuntimeError, match="same number of elements"):
        t.put_(idx([0, 1]), rtt.tensor([1.0], dtype=rtt.float64))
    with pytest.raises(RuntimeError, match="same dtype"):
        t.put_(idx([0]), rtt.tensor([1.0], dtype=rtt.float32))


def test_version_counter_bumps():
    t = rtt.tensor([1.0, 2.0, 3.0])
    v = t._version
    t[[0]] = 5.0
    t.index_fill_(0, idx([1]), 0.0)
    t.masked_fill_(rtt.tensor([True, False, False]), 1.0)
    assert t._version >= v + 3


def test_expanded_destination_raises():
    t = rtt.tensor([1.0]).expand(3)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        t[[0]] = 2.0
    with pytest.raises(RuntimeError, match="more than one element"):
        t.masked_fill_(rtt.tensor([True, False, True]), 0.0)


# ---- scalar conversion, large (threaded) inputs ------------------------------------------------

def test_scalar_values_convert_like_pytorch():
    t = rtt.tensor([1, 2, 3])
    assert rtt.masked_fill(t, rtt.tensor([True, False, True]), 2.7).tolist() == [2, 2, 2]
    t[[0]] = True
    assert t.tolist() == [1, 2, 3]
    b = rtt.tensor([False, False])
    b[[1]] = 5
    assert b.tolist() == [False, True]
    with pytest.raises(TypeError):
        t[[0]] = 1j
    f = rtt.tensor([0.0, 0.0], dtype=rtt.float16)
    f[[1]] = 1e5                       # overflows to inf in float16, as a cast does
    assert np.isinf(f.float().numpy()[1])
    assert rtt.where(rtt.tensor([True, False]), 2 ** 40, 0).tolist() == [2 ** 40, 0]
    assert t[[True, False, True]].tolist() == [1, 3]      # a list of bools is a mask


@pytest.mark.parametrize("threads", [1, 2])
def test_large_inputs_threads(threads):
    old = rtt.get_num_threads()
    rtt.set_num_threads(threads)
    try:
        rng = np.random.default_rng(0)
        a = rng.standard_normal((400, 300)).astype(np.float32)
        t = rtt.tensor(a)
        ix = rng.integers(-400, 400, size=5000)
        np.testing.assert_array_equal(t[idx(ix)].numpy(), a[ix])
        np.testing.assert_array_equal(t.t()[:, idx(ix)].numpy(), a.T[:, ix])
        m = a > 0
        np.testing.assert_array_equal(t[rtt.tensor(m)].numpy(), a[m])
        np.testing.assert_array_equal(rtt.where(rtt.tensor(m), t, 0.0).numpy(), np.where(m, a, 0))
        np.testing.assert_array_equal(rtt.masked_fill(t, rtt.tensor(m), 1.0).numpy(), np.where(m, 1, a))
        np.testing.assert_array_equal(rtt.nonzero(rtt.tensor(m)).numpy(), np.argwhere(m))
        g = rng.integers(0, 400, size=(400, 300))
        np.testing.assert_array_equal(rtt.gather(t, 0, idx(g)).numpy(), np.take_along_axis(a, g, 0))
        c = t.clone()
        c[rtt.tensor(m)] = 0.0
        np.testing.assert_array_equal(c.numpy(), np.where(m, 0, a))
    finally:
        rtt.set_num_threads(old)


@pytest.mark.parametrize("threads", [1, 2])
def test_index_add_large_slices_threads(threads):
    old = rtt.get_num_threads()
    rtt.set_num_threads(threads)
    try:
        rng = np.random.default_rng(1)
        src = rng.standard_normal((6, 300, 250))
        ix = np.array([1, 0, 1, 3, 1, 0])
        t = rtt.tensor(np.zeros((4, 300, 250)))
        t.index_add_(0, idx(ix), rtt.tensor(src), alpha=2.0)
        exp = np.zeros((4, 300, 250))
        np.add.at(exp, ix, 2.0 * src)
        np.testing.assert_allclose(t.numpy(), exp, rtol=1e-12, atol=1e-12)
        t2 = rtt.tensor(np.zeros((250, 4, 300)))
        t2.index_add_(1, idx(ix), rtt.tensor(src).permute(2, 0, 1))
        np.testing.assert_allclose(t2.numpy(), exp.transpose(2, 0, 1) / 2.0, rtol=1e-12, atol=1e-12)
    finally:
        rtt.set_num_threads(old)
