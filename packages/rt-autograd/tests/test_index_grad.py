"""Gradients of indexing (rt_autograd/_ops/index.py): t[index] (basic and advanced, repeated
indices accumulate), t[index] = value, gather / scatter (src and value forms, reduce=) /
scatter_add / scatter_reduce (every reduction, include_self, PyTorch's tie rule), index_select
/ index_add / index_copy / index_fill / index_put(_), masked_fill / masked_select /
masked_scatter, where, take, take_along_dim, put, and the in-place forms. Forward against
rt_tensor and numpy, gradcheck (also on non-contiguous leaves), gradgradcheck, complex128 for a
subset, hand-computed cases."""
import numpy as np
import pytest

import rt_autograd as rt
from rt_autograd.testing import gradcheck, gradgradcheck

I = rt.tensor


def _values(shape, seed, dtype=rt.float64):
    """Distinct values bounded away from zero (no ties, no zeros)."""
    gen = np.random.default_rng(seed)
    n = int(np.prod(shape)) if shape else 1
    arr = (np.linspace(0.3, 2.0, n)[gen.permutation(n)] * gen.choice([-1.0, 1.0], n)).reshape(shape)
    if dtype == rt.complex128:
        arr = arr + 1j * np.linspace(0.4, 1.7, n)[gen.permutation(n)].reshape(shape)
    return arr


def leaf(shape, seed=0, dtype=rt.float64, noncontiguous=False):
    if noncontiguous and len(shape):
        base = rt.tensor(_values(tuple(shape) + (2,), seed, dtype), dtype=dtype)
        x = base[..., 0].detach()
        assert not x.is_contiguous() or x.numel() <= 1
        return x.requires_grad_(True)
    return rt.tensor(_values(shape, seed, dtype), dtype=dtype, requires_grad=True)


def _np(t):
    return t.detach().numpy()


MASK = I([[True, False, True, False], [False, False, True, True], [True, True, False, False]])
ROW_MASK = I([True, False, True, True])
IDX_G = I([[0, 0, 3], [1, 3, 3], [2, 0, 1]])          # gather: repeats allowed
IDX_S = I([[2, 0, 1, 2], [0, 2, 0, 1]])               # along dim 0 of (3, 4): unique per column
IDX_R = I([[0, 0, 3, 3], [1, 1, 1, 2], [2, 0, 2, 0]])  # scatter_reduce along dim 1: repeats


def _np_gather(a, dim, idx):
    return np.take_along_axis(a, idx, dim)


# name: (function of the leaves, leaf shapes, numpy reference of the output or None)
OPS = {
    # t[index]
    "getitem_int": (lambda x: x[1], [(3, 4)], lambda a: a[1]),
    "getitem_neg": (lambda x: x[-1, -2], [(3, 4)], lambda a: a[-1, -2]),
    "getitem_slice_step": (lambda x: x[::2, 1::2], [(3, 4)], lambda a: a[::2, 1::2]),
    "getitem_none_ellipsis": (lambda x: x[None, ..., 1], [(3, 4)], lambda a: a[None, ..., 1]),
    "getitem_full": (lambda x: x[:], [(3, 4)], lambda a: a[:]),
    "getitem_list": (lambda x: x[[2, 0, 2]], [(3, 4)], lambda a: a[[2, 0, 2]]),
    "getitem_tensor": (lambda x: x[:, I([[3, 3], [0, 1]])], [(3, 4)],
                       lambda a: a[:, np.array([[3, 3], [0, 1]])]),
    "getitem_two_adv": (lambda x: x[I([0, 2, 0]), I([1, 3, 1])], [(3, 4)],
                        lambda a: a[[0, 2, 0], [1, 3, 1]]),
    "getitem_separated_adv": (lambda x: x[[0, 1], :, [2, 2]], [(2, 3, 4)],
                              lambda a: a[[0, 1], :, [2, 2]]),
    "getitem_mask": (lambda x: x[MASK], [(3, 4)], lambda a: a[_np(MASK)]),
    "getitem_row_mask": (lambda x: x[:, ROW_MASK], [(3, 4)], lambda a: a[:, _np(ROW_MASK)]),
    "getitem_bool": (lambda x: x[True], [(3, 4)], lambda a: a[None]),
    "getitem_int_and_list": (lambda x: x[1, [0, 0, 3]], [(3, 4)], lambda a: a[1, [0, 0, 3]]),
    # gather / scatter
    "gather": (lambda x: x.gather(1, IDX_G), [(3, 4)], lambda a: _np_gather(a, 1, _np(IDX_G))),
    "gather_dim0": (lambda x: rt.gather(x, 0, IDX_S), [(3, 4)],
                    lambda a: _np_gather(a, 0, _np(IDX_S))),
    "gather_small_index": (lambda x: x.gather(-1, I([[1], [0]])), [(3, 4)],
                           lambda a: _np_gather(a[:2], 1, np.array([[1], [0]]))),
    "scatter_src": (lambda x, s: x.scatter(0, IDX_S, s), [(3, 4), (2, 4)], None),
    "scatter_src_larger": (lambda x, s: rt.scatter(x, 0, IDX_S[:, :3], s), [(3, 4), (3, 5)], None),
    "scatter_value": (lambda x: x.scatter(0, IDX_S, 1.5), [(3, 4)], None),
    "scatter_value_kw": (lambda x: rt.scatter(x, 1, I([[0], [3], [1]]), value=-2.0), [(3, 4)],
                         None),
    "scatter_add": (lambda x, s: x.scatter_add(1, IDX_R, s), [(3, 4), (3, 4)], None),
    "scatter_add_larger": (lambda x, s: rt.scatter_add(x, 1, IDX_R[:2, :3], s), [(3, 4), (3, 5)],
                           None),
    "scatter_value_add": (lambda x: x.scatter(1, IDX_R, 2.0, reduce="add"), [(3, 4)], None),
    "scatter_value_multiply": (lambda x: x.scatter(1, IDX_R, 1.5, reduce="multiply"), [(3, 4)],
                               None),
    # index_select / add / copy / fill / put
    "index_select": (lambda x: x.index_select(1, I([3, 0, 3])), [(3, 4)],
                     lambda a: a[:, [3, 0, 3]]),
    "index_select_int32": (lambda x: rt.index_select(x, 0, I([2, 2], dtype=rt.int32)), [(3, 4)],
                           lambda a: a[[2, 2]]),
    "index_select_0d": (lambda x: x[1, 2].index_select(0, I(0)), [(3, 4)], lambda a: a[1, 2]),
    "index_add": (lambda x, s: x.index_add(1, I([3, 0, 3]), s), [(3, 4), (3, 3)], None),
    "index_add_alpha": (lambda x, s: rt.index_add(x, 0, I([2, 2]), s, alpha=-1.5),
                        [(3, 4), (2, 4)], None),
    "index_copy": (lambda x, s: x.index_copy(1, I([3, 0]), s), [(3, 4), (3, 2)], None),
    "index_fill": (lambda x: x.index_fill(1, I([3, 0, 3]), 2.5), [(3, 4)], None),
    "index_fill_tensor": (lambda x, v: rt.index_fill(x, 0, I([-1, 2, 0]), v), [(3, 4), ()], None),
    "index_put": (lambda x, v: x.index_put((I([0, 2]), I([1, 3])), v), [(3, 4), (2,)], None),
    "index_put_acc": (lambda x, v: rt.index_put(x, (I([0, 0, 2]),), v, accumulate=True),
                      [(3, 4), (3, 4)], None),
    "index_put_bcast": (lambda x, v: x.index_put((I([1]), None), v), [(3, 4), (4,)], None),
    "index_put_mask": (lambda x, v: x.index_put((MASK,), v), [(3, 4), ()], None),
    # masked ops, where
    "masked_fill": (lambda x: x.masked_fill(MASK, -1.0), [(3, 4)],
                    lambda a: np.where(_np(MASK), -1.0, a)),
    "masked_fill_bcast": (lambda x: rt.masked_fill(x, ROW_MASK, 0.5), [(3, 4)],
                          lambda a: np.where(_np(ROW_MASK), 0.5, a)),
    "masked_fill_bigger": (lambda x: x[0].masked_fill(MASK, 0.5), [(3, 4)],
                           lambda a: np.where(_np(MASK), 0.5, a[0])),
    "masked_fill_tensor": (lambda x, v: x.masked_fill(MASK, v), [(3, 4), ()], None),
    "masked_select": (lambda x: x.masked_select(MASK), [(3, 4)], lambda a: a[_np(MASK)]),
    "masked_select_bcast": (lambda x: rt.masked_select(x[:1], MASK), [(3, 4)],
                            lambda a: np.broadcast_to(a[:1], (3, 4))[_np(MASK)]),
    "masked_scatter": (lambda x, s: x.masked_scatter(MASK, s), [(3, 4), (2, 5)], None),
    "masked_scatter_bcast": (lambda x, s: rt.masked_scatter(x, ROW_MASK, s), [(3, 4), (9,)], None),
    "where": (lambda x, y: rt.where(MASK, x, y), [(3, 4), (3, 4)],
              lambda a, b: np.where(_np(MASK), a, b)),
    "where_bcast": (lambda x, y: rt.where(ROW_MASK, x, y[:, :1]), [(3, 4), (3, 4)],
                    lambda a, b: np.where(_np(ROW_MASK), a, b[:, :1])),
    "where_scalar": (lambda x: rt.where(MASK, x, 0.5), [(3, 4)],
                     lambda a: np.where(_np(MASK), a, 0.5)),
    "where_scalar_first": (lambda x: rt.where(MASK, -2.0, x), [(3, 4)],
                           lambda a: np.where(_np(MASK), -2.0, a)),
    "where_method": (lambda x, y: x.where(MASK, y), [(3, 4), (4,)],
                     lambda a, b: np.where(_np(MASK), a, b)),
    # take / put / take_along_dim
    "take": (lambda x: x.take(I([[0, 11], [11, 5]])), [(3, 4)],
             lambda a: np.take(a, [[0, 11], [11, 5]])),
    "take_neg": (lambda x: rt.take(x.t(), I([-1, 0, -1])), [(3, 4)],
                 lambda a: np.take(a.T, [-1, 0, -1])),
    "put": (lambda x, s: x.put(I([0, 11, 5]), s), [(3, 4), (3,)], None),
    "put_acc": (lambda x, s: rt.put(x, I([[0, 5], [5, 0]]), s, accumulate=True),
                [(3, 4), (4,)], None),
    "take_along_dim": (lambda x: rt.take_along_dim(x, I([[0], [3], [1]]), 1), [(3, 4)],
                       lambda a: np.take_along_axis(a, np.array([[0], [3], [1]]), 1)),
    "take_along_dim_bcast": (lambda x: x.take_along_dim(I([[2], [0]]), 0), [(3, 4)], None),
    "take_along_dim_flat": (lambda x: rt.take_along_dim(x, I([7, 0, 7])), [(3, 4)],
                            lambda a: a.reshape(-1)[[7, 0, 7]]),
}

# scatter_reduce: every reduction, with and without self
for _red in ("sum", "prod", "mean", "amax", "amin"):
    for _inc in (True, False):
        OPS[f"scatter_reduce_{_red}_{_inc}"] = (
            (lambda r, i: lambda x, s: x.scatter_reduce(1, IDX_R, s, r, include_self=i))(
                _red, _inc),
            [(3, 4), (3, 4)], None)
OPS["scatter_reduce_fn_larger_src"] = (
    lambda x, s: rt.scatter_reduce(x, 0, IDX_S[:, :3], s, "prod"), [(3, 4), (3, 5)], None)
OPS["scatter_src_multiply"] = (lambda x, s: x.scatter(1, IDX_R, s, reduce="multiply"),
                               [(3, 4), (3, 4)], None)
OPS["scatter_src_add"] = (lambda x, s: x.scatter(1, IDX_R, s, reduce="add"),
                          [(3, 4), (3, 4)], None)

_WARNS = {"scatter_src_multiply", "scatter_src_add"}

COMPLEX_OPS = ["getitem_slice_step", "getitem_two_adv", "getitem_mask", "gather", "scatter_src",
               "scatter_add", "index_select", "index_add_alpha", "index_copy",
               "index_fill_tensor", "index_put_acc", "masked_fill_tensor", "masked_select",
               "masked_scatter", "where", "take", "put_acc", "take_along_dim_bcast"]


def _call(name, fn, xs):
    if name in _WARNS:
        with pytest.warns(UserWarning, match="The reduce argument of torch.scatter with Tensor "
                                             "src is deprecated"):
            return fn(*xs)
    return fn(*xs)


def _wrapped(name, fn):
    if name not in _WARNS:
        return fn

    def run(*xs):
        with pytest.warns(UserWarning):
            return fn(*xs)
    return run


@pytest.mark.parametrize("name", sorted(OPS))
def test_forward(name):
    fn, shapes, ref = OPS[name]
    xs = [leaf(s, seed=i + 1) for i, s in enumerate(shapes)]
    out = _call(name, fn, xs)
    plain = _call(name, fn, [x.detach() for x in xs])
    assert out.shape == plain.shape and out.dtype == plain.dtype
    np.testing.assert_array_equal(_np(out), _np(plain))
    assert out.requires_grad and out.grad_fn is not None and not plain.requires_grad
    if ref is not None:
        np.testing.assert_array_equal(_np(out), ref(*[_np(x) for x in xs]))


@pytest.mark.parametrize("noncontiguous", [False, True])
@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck(name, noncontiguous):
    fn, shapes, _ = OPS[name]
    xs = tuple(leaf(s, seed=i + 10, noncontiguous=noncontiguous) for i, s in enumerate(shapes))
    assert gradcheck(_wrapped(name, fn), xs)


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradgradcheck(name):
    fn, shapes, _ = OPS[name]
    xs = tuple(leaf(s, seed=i + 20) for i, s in enumerate(shapes))
    assert gradgradcheck(_wrapped(name, fn), xs)


@pytest.mark.parametrize("name", COMPLEX_OPS)
def test_complex(name):
    fn, shapes, _ = OPS[name]
    xs = tuple(leaf(s, seed=i + 30, dtype=rt.complex128) for i, s in enumerate(shapes))
    assert gradcheck(fn, xs)
    assert gradgradcheck(fn, xs)


# ---- hand-computed cases ------------------------------------------------------------------------

def test_getitem_repeated_indices_accumulate():
    x = rt.zeros(4, dtype=rt.float64, requires_grad=True)
    x[[0, 2, 0, 0]].sum().backward()
    np.testing.assert_array_equal(_np(x.grad), [3, 0, 1, 0])
    y = rt.zeros(2, 3, dtype=rt.float64, requires_grad=True)
    (y[I([1, 1]), I([2, 2])] * I([2.0, 5.0], dtype=rt.float64)).sum().backward()
    np.testing.assert_array_equal(_np(y.grad), [[0, 0, 0], [0, 0, 7]])


def test_getitem_grad_fn_names():
    x = leaf((3, 4))
    assert x[1].grad_fn.name() == "SelectBackward0"
    assert x[0, :].grad_fn.name() == "SelectBackward0"
    assert x[1:].grad_fn.name() == "SliceBackward0"
    assert x[:, 1].grad_fn.name() == "SelectBackward0"
    assert x[1, 1:].grad_fn.name() == "SliceBackward0"
    assert x[None].grad_fn.name() == "UnsqueezeBackward0"
    assert x[...].grad_fn.name() == "AliasBackward0"
    assert x[[0, 1]].grad_fn.name() == "IndexBackward0"
    assert x[MASK].grad_fn.name() == "IndexBackward0"


def test_basic_indexing_returns_views():
    x = leaf((3, 4)) * 1
    for v in (x[1], x[1:, ::2], x[None], x[...]):
        assert v._is_view() and v._base is x
    assert not x[[0, 1]]._is_view()


def test_gather_scatter_gradients_by_hand():
    x = rt.tensor([[1.0, 2.0, 3.0]], dtype=rt.float64, requires_grad=True)
    x.gather(1, I([[2, 2, 0]])).sum().backward()
    np.testing.assert_array_equal(_np(x.grad), [[1, 0, 2]])
    s = rt.tensor([[5.0, 6.0]], dtype=rt.float64, requires_grad=True)
    x.grad = None
    out = x.scatter(1, I([[1, 2]]), s)
    np.testing.assert_array_equal(_np(out), [[1, 5, 6]])
    (out * I([[1.0, 10.0, 100.0]], dtype=rt.float64)).sum().backward()
    np.testing.assert_array_equal(_np(x.grad), [[1, 0, 0]])     # overwritten positions: 0
    np.testing.assert_array_equal(_np(s.grad), [[10, 100]])


def test_scatter_reduce_amax_ties_share_gradient():
    # PyTorch: the gradient is split evenly between self and src values equal to the result
    x = rt.tensor([1.0, 5.0], dtype=rt.float64, requires_grad=True)
    s = rt.tensor([5.0, 5.0, 2.0], dtype=rt.float64, requires_grad=True)
    out = x.scatter_reduce(0, I([1, 1, 0]), s, "amax")
    np.testing.assert_array_equal(_np(out), [2, 5])
    out.sum().backward()
    np.testing.assert_allclose(_np(x.grad), [0, 1 / 3])
    np.testing.assert_allclose(_np(s.grad), [1 / 3, 1 / 3, 1])
    # include_self=False: self's value still counts in the split (PyTorch's formula), then
    # self's gradient is zeroed at the scattered positions
    x.grad = s.grad = None
    out = x.scatter_reduce(0, I([1, 1, 0]), s, "amin", include_self=False)
    np.testing.assert_array_equal(_np(out), [2, 5])
    out.sum().backward()
    np.testing.assert_allclose(_np(x.grad), [0, 0])
    np.testing.assert_allclose(_np(s.grad), [1 / 3, 1 / 3, 1])


def test_scatter_reduce_prod_with_zeros():
    x = rt.tensor([2.0, 3.0], dtype=rt.float64, requires_grad=True)
    s = rt.tensor([0.0, 4.0, 5.0], dtype=rt.float64, requires_grad=True)
    out = x.scatter_reduce(0, I([0, 0, 1]), s, "prod")       # [2*0*4, 3*5]
    np.testing.assert_array_equal(_np(out), [0, 15])
    out.sum().backward()
    np.testing.assert_array_equal(_np(x.grad), [0, 5])
    np.testing.assert_array_equal(_np(s.grad), [8, 0, 3])     # d/ds0 = 2*4


def test_scatter_reduce_mean_counts():
    x = rt.tensor([1.0, 1.0, 1.0], dtype=rt.float64, requires_grad=True)
    s = rt.tensor([2.0, 4.0, 6.0], dtype=rt.float64, requires_grad=True)
    out = x.scatter_reduce(0, I([0, 0, 2]), s, "mean")
    np.testing.assert_allclose(_np(out), [7 / 3, 1, 3.5])
    out.sum().backward()
    np.testing.assert_allclose(_np(x.grad), [1 / 3, 1, 0.5])
    np.testing.assert_allclose(_np(s.grad), [1 / 3, 1 / 3, 0.5])


def test_scatter_reduce_complex_raises():
    x = leaf((3,), dtype=rt.complex128)
    with pytest.raises(RuntimeError, match="scatter_reduce does not support automatic "
                                           "differentiation for outputs with complex dtype"):
        x.scatter_reduce(0, I([0]), x[:1], "sum")


def test_index_fill_tensor_value_counts_each_position_once():
    x = rt.zeros(2, 3, dtype=rt.float64, requires_grad=True)
    v = rt.tensor(2.0, dtype=rt.float64, requires_grad=True)
    out = x.index_fill(1, I([0, 0, -1, 2]), v)
    (out * rt.arange(6.0, dtype=rt.float64).reshape(2, 3)).sum().backward()
    np.testing.assert_array_equal(_np(v.grad), 0 + 2 + 3 + 5)
    np.testing.assert_array_equal(_np(x.grad), [[0, 1, 0], [0, 4, 0]])


def test_index_add_and_put_accumulate_by_hand():
    x = rt.zeros(3, dtype=rt.float64, requires_grad=True)
    s = rt.tensor([1.0, 2.0, 3.0], dtype=rt.float64, requires_grad=True)
    w = rt.tensor([1.0, 10.0, 100.0], dtype=rt.float64)
    (x.index_add(0, I([2, 2, 0]), s, alpha=2) * w).sum().backward()
    np.testing.assert_array_equal(_np(x.grad), [1, 10, 100])
    np.testing.assert_array_equal(_np(s.grad), [200, 200, 2])
    x.grad = s.grad = None
    out = x.put(I([1, 1, 2]), s, accumulate=True)
    np.testing.assert_array_equal(_np(out), [0, 3, 3])
    (out * w).sum().backward()
    np.testing.assert_array_equal(_np(s.grad), [10, 10, 100])
    np.testing.assert_array_equal(_np(x.grad), [1, 10, 100])
    x.grad = s.grad = None
    (x.put(I([1, 2, 0]), s) * w).sum().backward()
    np.testing.assert_array_equal(_np(x.grad), [0, 0, 0])


def test_masked_fill_tensor_value_and_masked_scatter_by_hand():
    x = rt.zeros(2, 2, dtype=rt.float64, requires_grad=True)
    v = rt.tensor(3.0, dtype=rt.float64, requires_grad=True)
    m = I([[True, False], [True, True]])
    w = rt.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=rt.float64)
    (x.masked_fill(m, v) * w).sum().backward()
    np.testing.assert_array_equal(_np(v.grad), 8)
    np.testing.assert_array_equal(_np(x.grad), [[0, 2], [0, 0]])
    s = rt.tensor([5.0, 6.0, 7.0, 8.0, 9.0], dtype=rt.float64, requires_grad=True)
    x.grad = None
    out = x.masked_scatter(m, s)
    np.testing.assert_array_equal(_np(out), [[5, 0], [6, 7]])
    (out * w).sum().backward()
    np.testing.assert_array_equal(_np(s.grad), [1, 3, 4, 0, 0])
    np.testing.assert_array_equal(_np(x.grad), [[0, 2], [0, 0]])


def test_where_gradients_and_dtypes():
    a = rt.ones(3, dtype=rt.float32, requires_grad=True)
    b = rt.ones(3, dtype=rt.float64, requires_grad=True)
    c = I([True, False, True])
    out = rt.where(c, a, b)
    assert out.dtype == rt.float64
    out.sum().backward()
    assert a.grad.dtype == rt.float32
    np.testing.assert_array_equal(_np(a.grad), [1, 0, 1])
    np.testing.assert_array_equal(_np(b.grad), [0, 1, 0])
    assert [t.tolist() for t in rt.where(c)] == [[0, 2]]


# ---- in-place forms -----------------------------------------------------------------------------

INPLACE = {
    "scatter_": (lambda y, s: y.scatter_(0, IDX_S, s[:2]), lambda y, s: y.scatter(0, IDX_S, s[:2])),
    "scatter_value_": (lambda y, s: y.scatter_(0, IDX_S, 2.0),
                       lambda y, s: y.scatter(0, IDX_S, 2.0)),
    "scatter_add_": (lambda y, s: y.scatter_add_(1, IDX_R, s),
                     lambda y, s: y.scatter_add(1, IDX_R, s)),
    "scatter_reduce_": (lambda y, s: y.scatter_reduce_(1, IDX_R, s, "amax", include_self=False),
                        lambda y, s: y.scatter_reduce(1, IDX_R, s, "amax", include_self=False)),
    "index_add_": (lambda y, s: y.index_add_(0, I([2, 2, 0]), s, alpha=3),
                   lambda y, s: y.index_add(0, I([2, 2, 0]), s, alpha=3)),
    "index_copy_": (lambda y, s: y.index_copy_(0, I([2, 0]), s[:2]),
                    lambda y, s: y.index_copy(0, I([2, 0]), s[:2])),
    "index_fill_": (lambda y, s: y.index_fill_(1, I([1]), s[0, 0]),
                    lambda y, s: y.index_fill(1, I([1]), s[0, 0])),
    "index_put_": (lambda y, s: y.index_put_((I([0, 0]),), s[:2], accumulate=True),
                   lambda y, s: y.index_put((I([0, 0]),), s[:2], accumulate=True)),
    "index_put_fn": (lambda y, s: rt.index_put_(y, (I([1]), I([2])), s[0, 0]),
                     lambda y, s: rt.index_put(y, (I([1]), I([2])), s[0, 0])),
    "masked_fill_": (lambda y, s: y.masked_fill_(MASK, s[1, 1]),
                     lambda y, s: y.masked_fill(MASK, s[1, 1])),
    "masked_scatter_": (lambda y, s: y.masked_scatter_(MASK, s),
                        lambda y, s: y.masked_scatter(MASK, s)),
    "put_": (lambda y, s: y.put_(I([0, 5]), s[0, :2]), lambda y, s: y.put(I([0, 5]), s[0, :2])),
    "put_acc_": (lambda y, s: y.put_(I([5, 5]), s[0, :2], True),
                 lambda y, s: y.put(I([5, 5]), s[0, :2], True)),
    "setitem": (lambda y, s: y.__setitem__((slice(None), 1), s[:, 0]),
                lambda y, s: rt.cat([y[:, :1], s[:, :1], y[:, 2:]], 1)),
    "tril_": (lambda y, s: y.tril_(), lambda y, s: y.tril()),
    "triu_": (lambda y, s: y.triu_(1), lambda y, s: y.triu(1)),
    "copy_": (lambda y, s: y.copy_(s[0]), lambda y, s: s[0].expand(3, 4) + 0 * y),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_forms(name):
    op_, op = INPLACE[name]

    def f_inplace(x, s):
        y = x * 1
        r = op_(y, s)
        assert r is None or r is y
        return y

    def f_out(x, s):
        return op(x * 1, s)

    x, s = leaf((3, 4), seed=40), leaf((3, 4), seed=41)
    np.testing.assert_array_equal(_np(f_inplace(x, s)), _np(f_out(x, s)))
    # the in-place result on plain tensors is rt_tensor's
    y = x.detach().clone()
    op_(y, s.detach())
    np.testing.assert_array_equal(_np(y), _np(f_out(x, s)))
    assert gradcheck(f_inplace, (x, s))
    assert gradgradcheck(f_inplace, (x, s))
    # a leaf that requires grad refuses
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in "
                                           "an in-place operation."):
        op_(leaf((3, 4)), s)


def test_inplace_on_leaf_not_requiring_grad_with_grad_source():
    s = leaf((3, 4), seed=3)
    y = rt.zeros(3, 4, dtype=rt.float64)
    y.index_add_(1, I([0, 0, 1, 3]), s)
    assert y.requires_grad and y.grad_fn.name() == "IndexAddBackward0"
    y.sum().backward()
    np.testing.assert_array_equal(_np(s.grad), np.ones((3, 4)))
    z = rt.zeros(3, 4, dtype=rt.float64)
    z.masked_scatter_(MASK, s)
    z.sum().backward()
    np.testing.assert_array_equal(_np(s.grad), np.ones((3, 4)) + (np.arange(12) < 6).reshape(3, 4))


def test_out_arguments_refuse_grad():
    x = leaf((3, 4))
    with pytest.raises(RuntimeError, match="gather\\(\\): functions with out=... arguments"):
        rt.gather(x, 1, IDX_G, out=rt.empty(3, 3, dtype=rt.float64))
    with pytest.raises(RuntimeError, match="functions with out=... arguments"):
        rt.index_select(x, 0, I([0]), out=rt.empty(1, 4, dtype=rt.float64))
    with pytest.raises(RuntimeError, match="functions with out=... arguments"):
        rt.masked_select(x, MASK, out=rt.empty(6, dtype=rt.float64))
    with pytest.raises(RuntimeError, match="functions with out=... arguments"):
        rt.where(MASK, x, 0.0, out=rt.empty(3, 4, dtype=rt.float64))
    out = rt.empty(3, 3, dtype=rt.float64)
    with rt.no_grad():
        rt.gather(x, 1, IDX_G, out=out)
    np.testing.assert_array_equal(_np(out), _np_gather(_np(x), 1, _np(IDX_G)))


def test_errors_are_rt_tensors():
    x = leaf((3, 4))
    with pytest.raises(RuntimeError, match="gather\\(\\): Expected dtype int64 for index"):
        x.gather(1, I([[0]], dtype=rt.int32))
    with pytest.raises(RuntimeError, match="Expected self.dtype to be equal to src.dtype"):
        x.scatter(0, IDX_S, rt.zeros(2, 4))
    with pytest.raises(IndexError):
        x[5]
    with pytest.raises(IndexError):
        x[[0, 7]]
    with pytest.raises(RuntimeError, match="masked_fill_ only supports boolean masks"):
        x.masked_fill(I([1, 0, 1, 0]), 1.0)
    with pytest.raises(RuntimeError, match="reduce argument must be either sum, prod, mean, amax "
                                           "or amin"):
        x.scatter_reduce(1, IDX_R, x, "max")


def test_no_grad_and_index_tensors_get_no_gradient():
    x = leaf((3, 4))
    with rt.no_grad():
        assert not x.gather(1, IDX_G).requires_grad
        assert not x[[0, 1]].requires_grad
        assert not rt.where(MASK, x, x).requires_grad
    out = x.gather(1, IDX_G)
    assert out.grad_fn.next_functions[1][0] is None or len(out.grad_fn.next_functions) == 2
