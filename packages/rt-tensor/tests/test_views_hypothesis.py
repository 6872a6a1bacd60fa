"""Hypothesis property tests for views and broadcasting.

Random shapes and random chains of view ops are applied to an rt tensor and to its numpy
twin. The base holds ``arange`` values, so every element of a view names the base element it
reads. After each step: same values, same shape, strides as PyTorch computes them, memory
shared with the base (a write through the view is seen in the base), and ``reshape`` is a
view exactly when ``view`` succeeds, which is exactly when numpy can reshape without a copy.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck
from hypothesis.extra import numpy as hnp

import rt_tensor as rtt

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

OPS = ("transpose", "permute", "slice", "narrow", "select", "unsqueeze", "squeeze", "expand",
       "diagonal", "reshape", "flatten", "unflatten", "movedim", "split", "chunk", "t", "view")


def contiguous_strides(shape):
    strides, acc = [], 1
    for s in reversed(shape):
        strides.append(acc)
        acc *= max(s, 1)
    return tuple(reversed(strides))


def divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0] if n > 0 else [0, 1]


def apply_op(data, t, a):
    """One random view op on (rt tensor t, numpy twin a); returns (t, a, viewed) where viewed
    is False when rt had to copy (reshape of non-viewable strides)."""
    nd = t.ndim
    shape = tuple(t.shape)
    op = data.draw(st.sampled_from(OPS))
    if op == "transpose" and nd >= 1:
        d0 = data.draw(st.integers(-nd, nd - 1))
        d1 = data.draw(st.integers(-nd, nd - 1))
        return t.transpose(d0, d1), np.swapaxes(a, d0, d1), True
    if op == "t" and nd <= 2:
        return t.t(), a.T, True
    if op == "permute" and nd >= 1:
        perm = data.draw(st.permutations(range(nd)))
        return t.permute(*perm), a.transpose(perm), True
    if op == "movedim" and nd >= 1:
        src = data.draw(st.integers(-nd, nd - 1))
        dst = data.draw(st.integers(-nd, nd - 1))
        return t.movedim(src, dst), np.moveaxis(a, src, dst), True
    if op == "slice" and nd >= 1:
        idx = []
        for s in shape:
            start = data.draw(st.integers(-s - 1, s + 1))
            stop = data.draw(st.integers(-s - 1, s + 1) | st.none())
            step = data.draw(st.integers(1, 3))
            idx.append(slice(start, stop, step))
        k = data.draw(st.integers(0, nd))
        idx = tuple(idx[:k])
        return t[idx], a[idx], True
    if op == "narrow" and nd >= 1:
        d = data.draw(st.integers(0, nd - 1))
        start = data.draw(st.integers(0, shape[d]))
        length = data.draw(st.integers(0, shape[d] - start))
        sl = [slice(None)] * nd
        sl[d] = slice(start, start + length)
        return t.narrow(d, start, length), a[tuple(sl)], True
    if op == "select" and nd >= 1:
        d = data.draw(st.integers(0, nd - 1))
        if shape[d] == 0:
            return t, a, True
        i = data.draw(st.integers(-shape[d], shape[d] - 1))
        sl = [slice(None)] * nd
        sl[d] = i
        return t.select(d, i), a[tuple(sl)], True
    if op == "unsqueeze" and nd < 6:
        d = data.draw(st.integers(-nd - 1, nd))
        return t.unsqueeze(d), np.expand_dims(a, d), True
    if op == "squeeze":
        ones = [i for i, s in enumerate(shape) if s == 1]
        if ones and data.draw(st.booleans()):
            d = data.draw(st.sampled_from(ones))
            return t.squeeze(d), np.squeeze(a, d), True
        return t.squeeze(), a.reshape([s for s in shape if s != 1]), True
    if op == "expand" and nd <= 4:
        lead = data.draw(st.integers(0, 2))
        new = [data.draw(st.integers(0, 3)) for _ in range(lead)]
        for s in shape:
            new.append(data.draw(st.sampled_from([s, -1] + ([0, 2, 3] if s == 1 else []))))
        target = tuple(n if n != -1 else s for n, s in zip(new[lead:], shape))
        target = tuple(new[:lead]) + target
        return t.expand(*new), np.broadcast_to(a, target), True
    if op == "diagonal" and nd >= 2:
        d1 = data.draw(st.integers(0, nd - 1))
        d2 = data.draw(st.integers(0, nd - 1).filter(lambda x: x != d1))
        off = data.draw(st.integers(-4, 4))
        return t.diagonal(off, d1, d2), np.diagonal(a, off, d1, d2), True
    if op in ("reshape", "view", "flatten", "unflatten"):
        n = t.numel()
        if op == "flatten" and nd >= 1:
            s = data.draw(st.integers(0, nd - 1))
            e = data.draw(st.integers(s, nd - 1))
            new = shape[:s] + (int(np.prod(shape[s:e + 1])),) + shape[e + 1:]
            r = t.flatten(s, e)
        elif op == "unflatten" and nd >= 1:
            d = data.draw(st.integers(0, nd - 1))
            first = data.draw(st.sampled_from(divisors(shape[d])))
            if shape[d] == 0 and first == 0:
                sizes = (0, data.draw(st.integers(1, 3)))
            else:
                sizes = (first, shape[d] // first if first else 0)
            new = shape[:d] + sizes + shape[d + 1:]
            try:
                r = t.unflatten(d, sizes)
            except RuntimeError:
                assert not _np_viewable(t, new)
                return t, a, True
        else:
            dims = []
            rest = n
            for _ in range(data.draw(st.integers(0, 4))):
                dv = data.draw(st.sampled_from(divisors(rest)))
                dims.append(dv)
                rest = rest // dv if dv else rest
            new = tuple(dims) + ((rest,) if n else ())
            if n == 0 and 0 not in new:
                new = new + (0,)
            if int(np.prod(new)) != n:
                return t, a, True
            if op == "view":
                try:
                    r = t.view(new)
                except RuntimeError as e:
                    assert "reshape" in str(e)
                    assert not _np_viewable(t, new)
                    return t, a, True
            else:
                r = t.reshape(new)
        viewable = _np_viewable(t, new)
        try:
            t.view(new)
            view_ok = True
        except RuntimeError:
            view_ok = False
        assert view_ok == viewable, (shape, t.stride(), new)
        assert r._is_view_of(t) == view_ok or n == 0
        return r, a.reshape(new), view_ok
    if op in ("split", "chunk") and nd >= 1:
        d = data.draw(st.integers(0, nd - 1))
        size = shape[d]
        if op == "split":
            step = data.draw(st.integers(1, 4))
            pieces = t.split(step, d)
            starts = list(range(0, size, step)) or [0]
            lens = [min(step, size - s) for s in starts]
        else:
            chunks = data.draw(st.integers(1, 4))
            pieces = t.chunk(chunks, d)
            step = -(-size // chunks) if size else 0
            starts = list(range(0, size, step)) if step else [0]
            lens = [min(step, size - s) for s in starts]
        assert len(pieces) == len(starts)
        j = data.draw(st.integers(0, len(pieces) - 1))
        sl = [slice(None)] * nd
        sl[d] = slice(starts[j], starts[j] + lens[j])
        return pieces[j], a[tuple(sl)], True
    return t, a, True


def _np_viewable(t, new):
    """Whether numpy can give ``new`` as a view of t's strides (its no-copy reshape rule)."""
    if t.numel() == 0:
        return True
    arr = t.numpy().view()
    try:
        arr.shape = new
        return True
    except AttributeError:
        return False


def check_strides(t, a):
    """Strides of dims longer than 1 agree with numpy's twin (size-0/1 dims carry no rule)."""
    if t.numel() == 0:
        return
    itemsize = a.itemsize
    for s, rs, ns in zip(t.shape, t.stride(), a.strides):
        if s > 1:
            assert rs * itemsize == ns, (tuple(t.shape), t.stride(), a.strides)


@SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5),
       dtype_name=st.sampled_from(["int64", "float32", "int16", "bool", "complex64"]))
def test_random_view_chains(data, shape, dtype_name):
    n = int(np.prod(shape))
    ids = np.arange(n, dtype=np.int64).reshape(shape)
    base = rtt.tensor(ids)
    twin = ids
    t, a = base, twin
    all_views = True
    for _ in range(data.draw(st.integers(1, 6))):
        t, a, viewed = apply_op(data, t, a)
        all_views = all_views and viewed
        assert tuple(t.shape) == a.shape
        assert len(t.stride()) == t.ndim
        np.testing.assert_array_equal(t.numpy(), a)
        if viewed and all_views:
            check_strides(t, a)
        assert t.numel() == 0 or t.is_contiguous() == (t.numel() <= 1 or tuple(
            st_ for s, st_ in zip(t.shape, t.stride()) if s != 1) == tuple(
            cs for s, cs in zip(t.shape, contiguous_strides(tuple(t.shape))) if s != 1))
    # memory is shared: a write through the view is seen in the base
    assert t._is_view_of(base) == all_views or t.numel() == 0
    touched = np.unique(a)
    no_overlap = t.numel() == touched.size
    if all_views and t.numel() and no_overlap:
        t.fill_(-1)
        expected = ids.copy()
        expected.reshape(-1)[touched] = -1
        np.testing.assert_array_equal(base.numpy(), expected)
    elif all_views and t.numel() and not no_overlap:
        with pytest.raises(RuntimeError, match="single memory location"):
            t.fill_(-1)
    # clone: contiguous strides, own memory, same values
    c = t.clone()
    assert c.stride() == contiguous_strides(tuple(t.shape))
    assert (c.is_contiguous() or c.numel() == 0) and not c._is_view_of(base)
    np.testing.assert_array_equal(c.numpy(), t.numpy())
    # the dtype survives a view chain
    typed = rtt.tensor(ids).to(getattr(rtt, dtype_name))
    assert typed.reshape(-1).dtype == typed.dtype


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=4, max_side=4))
def test_broadcast_shapes_match_numpy(shapes):
    ins, result = shapes
    assert rtt.broadcast_shapes(*ins) == result
    assert np.broadcast_shapes(*ins) == result
    tensors = [rtt.tensor(np.arange(int(np.prod(s)), dtype=np.int32).reshape(s)) for s in ins]
    outs = rtt.broadcast_tensors(*tensors)
    exp = np.broadcast_arrays(*[t.numpy() for t in tensors])
    for o, e, t in zip(outs, exp, tensors):
        assert tuple(o.shape) == result
        np.testing.assert_array_equal(o.numpy(), e)
        assert o._is_view_of(t)
        for s, os_, in_s in zip(result[::-1], o.stride()[::-1], t.stride()[::-1] + (0,) * 8):
            pass
        # the new (broadcast) dims have stride 0
        for k in range(len(result) - t.ndim):
            assert o.stride()[k] == 0 or result[k] <= 1


@SETTINGS
@given(a=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4),
       b=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))
def test_broadcast_mismatch_is_runtime_error_naming_both_shapes(a, b):
    try:
        expected = np.broadcast_shapes(a, b)
    except ValueError:
        expected = None
    if expected is not None:
        assert rtt.broadcast_shapes(a, b) == expected
        ra, rb = rtt.broadcast_tensors(rtt.zeros(a), rtt.zeros(b))
        assert tuple(ra.shape) == expected == tuple(rb.shape)
        return
    for fn in (lambda: rtt.broadcast_shapes(a, b),
               lambda: rtt.broadcast_tensors(rtt.zeros(a), rtt.zeros(b)),
               lambda: rtt.zeros(a).expand_as(rtt.zeros(b)) if len(a) <= len(b) else
               rtt.broadcast_tensors(rtt.zeros(b), rtt.zeros(a))):
        with pytest.raises(RuntimeError) as info:
            fn()
        msg = str(info.value)
        if "must match the size" in msg and "shapes" in msg:
            assert str(list(a)) in msg and str(list(b)) in msg


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=4), data=st.data())
def test_cat_split_roundtrip(shape, data):
    ids = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    t = rtt.tensor(ids)
    d = data.draw(st.integers(0, len(shape) - 1))
    step = data.draw(st.integers(1, 3))
    pieces = t.split(step, d)
    np.testing.assert_array_equal(rtt.cat(pieces, d).numpy(), ids)
    perm = data.draw(st.permutations(range(len(shape))))
    tp = t.permute(*perm)
    np.testing.assert_array_equal(rtt.stack(tp.unbind(0), 0).numpy(), ids.transpose(perm)) \
        if tp.shape[0] else None
    np.testing.assert_array_equal(tp.flip(list(range(tp.ndim))).numpy(),
                                  ids.transpose(perm)[(slice(None, None, -1),) * tp.ndim])


def test_empty_tensors_are_contiguous():
    # PyTorch: a tensor without elements is contiguous whatever its strides
    assert rtt.tensor(5).expand(0).is_contiguous()
    assert rtt.zeros(3, 0).t().is_contiguous()
