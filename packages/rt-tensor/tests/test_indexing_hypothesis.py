"""Property tests: random shapes and index expressions (ints, slices with steps, None,
Ellipsis, int arrays, bool masks, Python bools, 0-d int tensors) for __getitem__ and
__setitem__ against numpy, and basic indices as views of the base.

PyTorch applies ints as selects before the advanced indices (numpy treats an int next to
an array index as advanced), so the numpy oracle runs in two steps: the basic part first
(ints, slices, None, ...; every advanced item replaced by full slices), then the advanced
items on that view, where numpy's rules and PyTorch's agree.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rt_tensor as rtt

DTYPES = ["bool", "uint8", "int32", "int64", "float16", "float32", "float64", "complex64"]
SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def npv(t):
    return np.array(t.numpy())


@st.composite
def shapes(draw, max_dims=4):
    nd = draw(st.integers(0, max_dims))
    return tuple(draw(st.integers(0, 4) if draw(st.booleans()) and nd else st.integers(1, 4))
                 for _ in range(nd))


def make_array(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(-4, 5, size=shape)
    if dtype == "bool":
        return np.asarray(a > 0)
    if dtype == "uint8":
        return np.asarray(np.abs(a).astype(np.uint8))
    return np.asarray(a.astype(dtype))


@st.composite
def index_exprs(draw, shape, basic_only=False):
    """(items for rt, items for the numpy oracle step 1, items for step 2 or None when the
    expression is basic). Items: ("int", v), ("slice", s), ("none",), ("ellipsis",),
    ("arr", np int array), ("mask", np bool array), ("pybool", b), ("t0", v)."""
    nd = len(shape)
    items = []
    d = 0
    # where (if anywhere) the Ellipsis goes, and how many dims it swallows
    use_ell = draw(st.booleans())
    ell_at = draw(st.integers(0, nd)) if use_ell else -1
    ell_len = draw(st.integers(0, nd - ell_at)) if use_ell else 0
    arr_shape = draw(st.sampled_from([(1,), (2,), (3,), (2, 1), (1, 3), (0,), ()]))
    while d <= nd:
        if d == ell_at:
            items.append(("ellipsis",))
            d += ell_len
            ell_at = -1
            continue
        if draw(st.integers(0, 6)) == 0:
            items.append(("none",))
        if not basic_only and draw(st.integers(0, 12)) == 0:
            items.append(("pybool", draw(st.booleans())))
        if d == nd:
            break
        if draw(st.integers(0, 5)) == 0 and ell_at < 0 and not use_ell:
            break                       # leave the remaining dims implicit
        size = shape[d]
        kinds = ["slice", "full"]
        if size > 0:
            kinds += ["int", "t0"] if not basic_only else ["int"]
        if not basic_only:
            kinds += ["arr", "mask"]
        kind = draw(st.sampled_from(kinds))
        if kind == "int":
            items.append(("int", draw(st.integers(-size, size - 1))))
        elif kind == "t0":
            items.append(("t0", draw(st.integers(-size, size - 1))))
        elif kind == "full":
            items.append(("slice", slice(None)))
        elif kind == "slice":
            start = draw(st.one_of(st.none(), st.integers(-size - 2, size + 2)))
            stop = draw(st.one_of(st.none(), st.integers(-size - 2, size + 2)))
            step = draw(st.one_of(st.none(), st.integers(1, 3)))
            items.append(("slice", slice(start, stop, step)))
        elif kind == "arr":
            if size == 0:
                a = np.zeros((0,), dtype=np.int64)
            else:
                n = int(np.prod(arr_shape))
                vals = draw(st.lists(st.integers(-size, size - 1), min_size=n, max_size=n))
                a = np.array(vals, dtype=np.int64).reshape(arr_shape)
            items.append(("arr", a))
        else:
            k = 2 if d + 1 < nd and d + 1 != ell_at and draw(st.booleans()) else 1
            mshape = shape[d:d + k]
            n = int(np.prod(mshape))
            bits = draw(st.lists(st.booleans(), min_size=n, max_size=n))
            items.append(("mask", np.array(bits, dtype=bool).reshape(mshape)))
            d += k
            continue
        d += 1
    return items


def to_rt(items):
    out = []
    for it in items:
        k = it[0]
        if k == "int":
            out.append(it[1])
        elif k == "t0":
            out.append(rtt.tensor(it[1]))
        elif k == "slice":
            out.append(it[1])
        elif k == "none":
            out.append(None)
        elif k == "ellipsis":
            out.append(Ellipsis)
        elif k == "pybool":
            out.append(it[1])
        elif k == "arr":
            out.append(rtt.tensor(it[1]) if it[1].ndim else rtt.tensor(it[1].reshape(1))[0:1].reshape(()))
        elif k == "mask":
            out.append(rtt.tensor(it[1]))
    return tuple(out)


def oracle_index(items, ndim):
    """(step-1 basic index, step-2 advanced index or None). In step 2 an Ellipsis becomes
    the full slices it stands for: numpy counts even an empty Ellipsis as separating two
    advanced indices, PyTorch (indices per dim) does not."""
    step1, step2, adv = [], [], False
    consumed = sum(1 if it[0] in ("int", "t0", "slice", "arr") else
                   it[1].ndim if it[0] == "mask" else 0 for it in items)
    for it in items:
        k = it[0]
        if k in ("int", "t0"):
            step1.append(it[1])
        elif k == "slice":
            step1.append(it[1])
            step2.append(slice(None))
        elif k == "none":
            step1.append(None)
            step2.append(slice(None))
        elif k == "ellipsis":
            step1.append(Ellipsis)
            step2.extend([slice(None)] * (ndim - consumed))
        elif k == "pybool":
            step1.append(None)
            step2.append(np.array([0] if it[1] else [], dtype=np.int64))
            adv = True
        elif k == "arr" and it[1].ndim == 0:
            step1.append(int(it[1]))            # a 0-d integer tensor selects, as an int
        elif k == "arr":
            step1.append(slice(None))
            step2.append(it[1])
            adv = True
        elif k == "mask":
            step1.extend([slice(None)] * it[1].ndim)
            step2.append(it[1])
            adv = True
    return tuple(step1), (tuple(step2) if adv else None)


def np_get(a, items):
    s1, s2 = oracle_index(items, a.ndim)
    v = a[s1]
    return v if s2 is None else v[s2]


def has_zero_d_arr(items):
    return any(it[0] == "arr" and it[1].ndim == 0 for it in items)


@SETTINGS
@given(data=st.data())
def test_getitem_matches_numpy(data):
    shape = data.draw(shapes())
    dtype = data.draw(st.sampled_from(DTYPES))
    a = make_array(shape, dtype, data.draw(st.integers(0, 1000)))
    t = rtt.tensor(a)
    if data.draw(st.booleans()) and t.ndim >= 2:         # a non-contiguous source
        a = np.ascontiguousarray(a.swapaxes(0, 1)).swapaxes(0, 1)
        t = rtt.tensor(np.ascontiguousarray(a.swapaxes(0, 1))).transpose(0, 1)
    items = data.draw(index_exprs(shape))
    try:
        exp = np_get(a, items)
    except IndexError:                  # index arrays that do not broadcast together
        with pytest.raises(IndexError, match="shape mismatch"):
            t[to_rt(items)]
        return
    r = t[to_rt(items)]
    assert r.dtype == t.dtype
    assert tuple(r.shape) == exp.shape, (items, r.shape, exp.shape)
    np.testing.assert_array_equal(npv(r), exp)


@SETTINGS
@given(data=st.data())
def test_setitem_matches_numpy(data):
    shape = data.draw(shapes())
    dtype = data.draw(st.sampled_from(DTYPES))
    a = make_array(shape, dtype, data.draw(st.integers(0, 1000)))
    t = rtt.tensor(a)
    items = data.draw(index_exprs(shape))
    s1, s2 = oracle_index(items, a.ndim)
    try:
        target_shape = np_get(a, items).shape
    except IndexError:
        with pytest.raises(IndexError, match="shape mismatch"):
            t[to_rt(items)] = 1
        return
    # which elements the expression touches; duplicates make a tensor value ambiguous
    pos = np_get(np.arange(a.size).reshape(a.shape), items)
    unique = len(np.unique(pos)) == pos.size
    if unique and data.draw(st.booleans()):
        vshape = tuple(1 if data.draw(st.booleans()) else s for s in target_shape)
        v = make_array(vshape, dtype, 7)
        value = rtt.tensor(v)
    else:
        v = make_array((), dtype, 3)
        value = v.item()
    exp = a.copy()
    if s2 is None:
        exp[s1] = v
    else:
        exp[s1][s2] = v
    t[to_rt(items)] = value
    np.testing.assert_array_equal(npv(t), exp)


@SETTINGS
@given(data=st.data())
def test_basic_index_is_view(data):
    shape = data.draw(shapes())
    a = make_array(shape, "int64", 1)
    t = rtt.tensor(a)
    items = data.draw(index_exprs(shape, basic_only=True))
    index = to_rt(items)
    s1, _ = oracle_index(items, a.ndim)
    r = t[index]
    np.testing.assert_array_equal(npv(r), a[s1])
    if r.numel() == 0:
        return
    assert r.data_ptr() >= t.data_ptr() or t.numel() == 0
    r[...] = 99                                   # writes through the view reach the base
    a[s1] = 99
    np.testing.assert_array_equal(npv(t), a)
    np.testing.assert_array_equal(npv(t[index]), a[s1])


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_gather_scatter_roundtrip(data):
    shape = data.draw(shapes(max_dims=3).filter(lambda s: len(s) >= 1 and 0 not in s))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    a = make_array(shape, "float64", 5)
    t = rtt.tensor(a)
    n = data.draw(st.integers(0, 4))
    ishape = list(data.draw(st.tuples(*[st.integers(1, s) for s in shape])))
    ishape[dim] = n
    ix = np.random.default_rng(n).integers(0, shape[dim], size=ishape)
    np.testing.assert_array_equal(rtt.gather(t, dim, rtt.tensor(ix)).numpy(),
                                  np.take_along_axis(a[tuple(slice(0, s) if i != dim % len(shape)
                                                             else slice(None)
                                                             for i, s in enumerate(ishape))],
                                                     ix, dim))
    # scatter_add against np.add.at over the same positions
    src = make_array(ishape, "float64", 9)
    exp = a.copy()
    coords = list(np.indices(ishape, sparse=False))
    coords[dim % len(shape)] = ix
    np.add.at(exp, tuple(coords), src)
    r = rtt.scatter_add(t, dim, rtt.tensor(ix), rtt.tensor(src))
    np.testing.assert_allclose(r.numpy(), exp)
