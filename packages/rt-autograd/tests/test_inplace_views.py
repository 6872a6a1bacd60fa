"""In-place operations on views (rt_autograd/_ops/_util.inplace and CopySlices): the base of a
view modified in place gets the write in its history, chains of views, __setitem__ on leaves
that do not require grad / non-leaf tensors / views of non-leaf tensors, the in-place ops of
the view and indexing families applied to views, version counters, and PyTorch's errors for
leaves that require grad."""
import numpy as np
import pytest

import rt_autograd as rt
from rt_autograd.testing import gradcheck, gradgradcheck

I = rt.tensor
D = rt.float64


def leaf(shape, seed=0, dtype=D):
    gen = np.random.default_rng(seed)
    n = int(np.prod(shape)) if shape else 1
    arr = (np.linspace(0.3, 2.0, n)[gen.permutation(n)] * gen.choice([-1.0, 1.0], n)).reshape(shape)
    return rt.tensor(arr, dtype=dtype, requires_grad=True)


def _np(t):
    return t.detach().numpy()


def test_mul_on_view_updates_base_history():
    x = rt.ones(3, 2, dtype=D, requires_grad=True)
    y = x * 1
    v = y[1:]
    v.mul_(2)
    assert y.grad_fn.name() == "CopySlices"
    np.testing.assert_array_equal(_np(y), [[1, 1], [2, 2], [2, 2]])
    (y * I([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=D)).sum().backward()
    np.testing.assert_array_equal(_np(x.grad), [[1, 2], [6, 8], [10, 12]])
    # the view's own history now goes through the base
    x.grad = None
    y = x * 1
    v = y[1:]
    v.mul_(3)
    v.sum().backward()
    np.testing.assert_array_equal(_np(x.grad), [[0, 0], [3, 3], [3, 3]])


def test_gradcheck_inplace_on_views():
    def f(x, w):
        y = x * 1
        y[1:].mul_(w)
        return y

    def g(x, w):
        y = x.t() * 1              # y is not contiguous
        v = y[:, 1:]
        v.add_(w[:2] ** 2)
        return y, v

    def h(x, w):
        y = x * 1
        y.select(1, 2).copy_(w[:3])
        return y.sum(0)

    def k(x, w):
        b = x * 2
        b.view(12).narrow(0, 4, 4).div_(w)
        return b

    x, w = leaf((3, 4)), leaf((4,), seed=1)
    for fn in (f, g, h, k):
        assert gradcheck(fn, (x, w))


def test_chain_of_views():
    def f(x, w):
        y = x * 1
        v = y[1:]               # view of y
        u = v[:, 1:3]           # view of a view: same base
        u.mul_(w[:2])
        return y

    x, w = leaf((3, 4)), leaf((4,), seed=2)
    y = f(x, w)
    expected = _np(x).copy()
    expected[1:, 1:3] *= _np(w)[:2]
    np.testing.assert_allclose(_np(y), expected)
    assert gradcheck(f, (x, w))

    def f2(x, w):
        y = x * 1
        u = y.t()[1:3].diagonal()
        u.add_(w[:2])
        u2 = y[0]
        u2.mul_(w)
        return y

    assert gradcheck(f2, (x, w))


def test_inplace_on_view_then_use_of_the_view():
    def f(x):
        y = x * 1
        v = y[0]
        v.mul_(2)
        return v * v

    assert gradcheck(f, (leaf((2, 3)),))


def test_leaf_errors():
    x = leaf((3, 4))
    with pytest.raises(RuntimeError, match="^a leaf Variable that requires grad is being used in "
                                           "an in-place operation.$"):
        x.mul_(2)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        x[0] = 1.0
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        x.index_fill_(0, I([0]), 1.0)
    with pytest.raises(RuntimeError, match="^a view of a leaf Variable that requires grad is being "
                                           "used in an in-place operation.$"):
        x[0].mul_(2)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable"):
        x[1:][0] = 2.0
    with pytest.raises(RuntimeError, match="a view of a leaf Variable"):
        x.t().tril_()
    with pytest.raises(RuntimeError, match="a view of a leaf Variable"):
        x.diagonal().copy_(I([1.0, 2.0, 3.0], dtype=D))
    with pytest.raises(RuntimeError, match="a view of a leaf Variable"):
        x.unsqueeze(0).masked_fill_(I(True), 0.0)
    # without grad mode the leaf may be written (its version moves)
    v0 = x._version
    with rt.no_grad():
        x[0] = 5.0
        x.narrow(1, 0, 1).mul_(2)
    assert x._version > v0
    assert _np(x)[0, 1] == 5.0 and _np(x)[0, 0] == 10.0


def test_setitem_on_leaf_not_requiring_grad_with_grad_value():
    w = leaf((4,), seed=3)

    def f(w):
        z = rt.zeros(3, 4, dtype=D)
        z[1] = w
        z[2, 1:] = w[:3] * 2
        return z

    z = f(w)
    assert z.requires_grad and z.grad_fn.name() == "CopySlices"
    np.testing.assert_array_equal(_np(z)[1], _np(w))
    assert gradcheck(f, (w,))
    assert gradgradcheck(f, (w,))

    def g(w):
        z = rt.zeros(3, 4, dtype=D)
        z[[0, 2], 1:3] = w[:2]            # advanced index, broadcast value
        z[I([[True, False, False, False]] * 3)] = w[3]
        return z * 2

    assert gradcheck(g, (w,))
    assert gradgradcheck(g, (w,))


def test_setitem_value_dtypes_and_scalars():
    w32 = rt.ones(2, requires_grad=True)          # float32 value into a float64 tensor

    z = rt.zeros(2, 2, dtype=D)
    z[0] = w32
    z[1] = 3
    (z * I([[1.0, 2.0], [3.0, 4.0]], dtype=D)).sum().backward()
    assert w32.grad.dtype == rt.float32
    np.testing.assert_array_equal(_np(w32.grad), [1, 2])
    np.testing.assert_array_equal(_np(z), [[1, 1], [3, 3]])


def test_setitem_on_non_leaf():
    def f(x, w):
        y = x * 2
        y[0, 1:3] = w[:2]
        y[-1] = 0.0
        y[:, 0] += w[1:]
        return y

    x, w = leaf((3, 4)), leaf((4,), seed=4)
    y = f(x, w)
    e = _np(x) * 2
    e[0, 1:3] = _np(w)[:2]
    e[-1] = 0
    e[:, 0] += _np(w)[1:]
    np.testing.assert_allclose(_np(y), e)
    assert gradcheck(f, (x, w))


def test_setitem_on_view_of_non_leaf():
    def f(x, w):
        y = x * 1
        v = y[1]                 # a view
        v[1:3] = w[:2]           # setitem on the view: y sees the write
        return y

    x, w = leaf((3, 4)), leaf((4,), seed=5)
    y = f(x, w)
    assert y.grad_fn.name() == "CopySlices"
    e = _np(x).copy()
    e[1, 1:3] = _np(w)[:2]
    np.testing.assert_array_equal(_np(y), e)
    assert gradcheck(f, (x, w))

    def g(x, w):
        y = x * 1
        v = y.t()[2:]
        v[[0, 1], 0] = w[:2]     # advanced setitem on a view
        return y

    assert gradcheck(g, (x, w))


def test_inplace_family_ops_on_views():
    idx = I([0, 0, 2])
    ops = [
        lambda v, w: v.index_add_(0, idx, w[:3]),
        lambda v, w: v.index_fill_(0, I([1]), w[0]),
        lambda v, w: v.masked_fill_(v > 0, w[1]),
        lambda v, w: v.scatter_add_(0, idx, w[:3]),
        lambda v, w: v.put_(I([2]), w[:1], True),
        lambda v, w: v.copy_(w[1:]),
        lambda v, w: v.masked_scatter_(I([True, False, True]), w),
    ]
    x, w = leaf((3, 4)), leaf((4,), seed=6)
    for op in ops:
        def f(x, w, op=op):
            y = x * 1
            op(y[:, 1], w)       # a strided (non-contiguous) view
            return y
        y = f(x, w)
        expected = (_np(x)).copy()
        col = expected[:, 1].copy()
        t = I(col, dtype=D)
        op(t, w.detach())
        expected[:, 1] = _np(t)
        np.testing.assert_allclose(_np(y), expected)
        assert gradcheck(f, (x, w))


def test_views_of_tensors_written_in_place_keep_version_checks():
    x = leaf((3,))
    y = x * 1
    z = y * y                    # saves y
    y[0] = 2.0                   # bumps the version of y's storage
    with pytest.raises(RuntimeError, match="one of the variables needed for gradient computation "
                                           "has been modified by an inplace operation"):
        z.sum().backward()
    x2 = leaf((3,))
    y2 = x2 * 1
    z2 = y2 * y2
    y2[1:].mul_(0)               # in place through a view of the saved tensor
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z2.sum().backward()


def test_version_counter_shared_by_views():
    y = leaf((3, 4)) * 1
    v = y[1:]
    before = y._version
    v.mul_(2)
    assert y._version == v._version and y._version > before


def test_gather_after_inplace_on_view_of_source():
    def f(x, w):
        y = x * 1
        y[:, :2].mul_(w[:2])
        return y.gather(1, I([[0, 3], [1, 1], [2, 0]]))

    assert gradcheck(f, (leaf((3, 4)), leaf((4,), seed=7)))


def test_copy_into_view_broadcast_and_cast():
    def f(x, w):
        y = x * 1
        y[1:].copy_(w)               # broadcast over rows
        return y

    assert gradcheck(f, (leaf((3, 4)), leaf((4,), seed=8)))
    w32 = rt.ones(4, requires_grad=True)
    y = rt.zeros(2, 4, dtype=D, requires_grad=True) * 1
    y[0].copy_(w32)
    y.sum().backward()
    assert w32.grad.dtype == rt.float32
    np.testing.assert_array_equal(_np(w32.grad), [1, 1, 1, 1])
