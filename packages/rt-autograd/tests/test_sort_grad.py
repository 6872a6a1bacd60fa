"""Gradients of sort, msort, topk and kthvalue (rt_autograd/_ops/sort.py): the values get the
gradient at their indices, the indices are not differentiable."""
import numpy as np
import pytest

import rt_autograd as rt
import rt_tensor as rtt
from rt_autograd.testing import gradcheck, gradgradcheck


def _values(shape, seed):
    gen = np.random.default_rng(seed)
    n = int(np.prod(shape)) if shape else 1
    mags = np.linspace(0.3, 2.0, n)
    gen.shuffle(mags)
    return (mags * gen.choice([-1.0, 1.0], n)).reshape(shape)


def leaf(arr, dtype=rt.float64):
    return rt.tensor(np.asarray(arr), dtype=dtype, requires_grad=True)


VARIANTS = {
    "contiguous": ((3, 4), lambda x: x),
    "transposed": ((4, 3), lambda x: x.transpose(0, 1)),
    "sliced": ((3, 8), lambda x: x[:, ::2]),
    "broadcast_rows": ((1, 4), lambda x: x.expand(3, 4)),
    "broadcast_cols": ((3, 1), lambda x: x.expand(3, 4)),
}

# name: (function of a (3, 4) tensor, numpy reference of the values or None)
OPS = {
    "sort": (lambda x: rt.sort(x), lambda a: np.sort(a, -1)),
    "sort_dim0": (lambda x: x.sort(0), lambda a: np.sort(a, 0)),
    "sort_descending": (lambda x: x.sort(-1, True), lambda a: -np.sort(-a, -1)),
    "sort_stable_negdim": (lambda x: rt.sort(x, dim=-2, stable=True), lambda a: np.sort(a, 0)),
    "msort": (lambda x: rt.msort(x), lambda a: np.sort(a, 0)),
    "msort_method": (lambda x: x.msort(), lambda a: np.sort(a, 0)),
    "topk": (lambda x: rt.topk(x, 2), lambda a: -np.sort(-a, -1)[:, :2]),
    "topk_smallest_dim0": (lambda x: x.topk(2, 0, largest=False), lambda a: np.sort(a, 0)[:2]),
    "topk_unsorted": (lambda x: rt.topk(x, 3, -1, True, False), None),
    "topk_all": (lambda x: x.topk(4), lambda a: -np.sort(-a, -1)),
    "kthvalue": (lambda x: rt.kthvalue(x, 2), lambda a: np.sort(a, -1)[:, 1]),
    "kthvalue_dim0_keepdim": (lambda x: x.kthvalue(3, 0, True), lambda a: np.sort(a, 0)[2:3]),
    "kthvalue_negdim": (lambda x: rt.kthvalue(x, 1, -2), lambda a: np.sort(a, 0)[0]),
}

RETURN_TYPES = {"sort": rtt.return_types.sort, "topk": rtt.return_types.topk,
                "kthvalue": rtt.return_types.kthvalue}


def _first(r):
    return r[0] if isinstance(r, tuple) else r


@pytest.mark.parametrize("name", sorted(OPS))
def test_forward_matches_rt_tensor_and_numpy(name):
    fn, ref = OPS[name]
    arr = _values((3, 4), 1)
    x = leaf(arr)
    out = fn(x)
    plain = fn(x.detach())
    if isinstance(out, tuple):
        assert type(out) is type(plain) is RETURN_TYPES[name.split("_")[0]]
        assert out.values.requires_grad and not out.indices.requires_grad
        np.testing.assert_array_equal(out.indices.numpy(), plain.indices.numpy())
        # the values are the input at the indices
        dim = {"sort": -1, "sort_dim0": 0, "sort_descending": -1, "sort_stable_negdim": 0,
               "topk": -1, "topk_smallest_dim0": 0, "topk_unsorted": -1, "topk_all": -1,
               "kthvalue": -1, "kthvalue_dim0_keepdim": 0, "kthvalue_negdim": 0}[name]
        idx = out.indices.numpy()
        if idx.ndim < 2:
            idx = np.expand_dims(idx, dim)
        vals = out.values.detach().numpy()
        np.testing.assert_array_equal(np.take_along_axis(arr, idx, dim).reshape(vals.shape),
                                      vals)
    else:
        assert out.requires_grad
    np.testing.assert_array_equal(_first(out).detach().numpy(), _first(plain).numpy())
    if ref is not None:
        np.testing.assert_array_equal(_first(out).detach().numpy(), ref(arr))


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck(name, variant):
    fn, _ = OPS[name]
    shape, make = VARIANTS[variant]
    x = leaf(_values(shape, 2))
    assert gradcheck(lambda t: fn(make(t)), (x,))


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck_noncontiguous_leaf(name):
    fn, _ = OPS[name]
    x = rt.tensor(_values((4, 3), 3), dtype=rt.float64).transpose(0, 1).detach()
    assert not x.is_contiguous()
    assert gradcheck(fn, (x.requires_grad_(True),))


@pytest.mark.parametrize("variant", ["contiguous", "transposed"])
@pytest.mark.parametrize("name", sorted(OPS))
def test_gradgradcheck(name, variant):
    fn, _ = OPS[name]
    shape, make = VARIANTS[variant]
    x = leaf(_values(shape, 4))
    assert gradgradcheck(lambda t: fn(make(t)), (x,))


@pytest.mark.parametrize("fn", [lambda x: x.sort(0), lambda x: rt.msort(x),
                                lambda x: x.topk(1), lambda x: rt.kthvalue(x, 1, 0),
                                lambda x: x.kthvalue(1, -1, True)])
def test_zero_dim_input(fn):
    x = leaf(-0.7)
    np.testing.assert_array_equal(_first(fn(x)).detach().numpy(), -0.7)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("fn", [lambda x, d: x.sort(d), lambda x, d: x.topk(2, d),
                                lambda x, d: x.kthvalue(2, d), lambda x, d: x.sort(d, True)])
def test_3d_inputs(fn):
    x = leaf(_values((2, 3, 4), 5))
    for d in (0, 1, 2, -1):
        assert gradcheck(lambda t: fn(t.transpose(0, 2), d), (x,))
    assert gradgradcheck(lambda t: fn(t, 1), (x,))


def test_sort_ties_gradient_follows_indices():
    x = leaf([3.0, 1.0, 3.0, 2.0])
    r = x.sort(stable=True)
    np.testing.assert_array_equal(r.indices.numpy(), [1, 3, 0, 2])
    (r.values * rt.tensor([1.0, 2.0, 3.0, 4.0], dtype=rt.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 1, 4, 2])


def test_topk_and_kthvalue_ties_gradient_to_returned_indices():
    x = leaf([[1.0, 3.0, 3.0, 2.0]])
    r = rt.topk(x, 2)
    (r.values * rt.tensor([[10.0, 100.0]], dtype=rt.float64)).sum().backward()
    expected = np.zeros((1, 4))
    expected[0, r.indices.numpy()[0]] = [10, 100]
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    assert sorted(r.indices.numpy()[0].tolist()) == [1, 2]
    x = leaf([[2.0, 1.0, 2.0], [5.0, 5.0, 5.0]])
    r = x.kthvalue(2, 1)
    r.values.sum().backward()
    expected = np.zeros((2, 3))
    expected[[0, 1], r.indices.numpy()] = 1
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_msort_grad_fn_and_names():
    x = leaf(_values((3, 2), 6))
    assert rt.msort(x).grad_fn.name() == "SortBackward0"
    assert x.sort().values.grad_fn.name() == "SortBackward0"
    assert x.sort(stable=True).values.grad_fn.name() == "SortBackward1"   # sort.stable
    assert x.topk(1).values.grad_fn.name() == "TopkBackward0"
    assert x.kthvalue(1).values.grad_fn.name() == "KthvalueBackward0"


def test_second_order_through_sort():
    # d/dx sum(sort(x)^2 * w) = 2 x w[rank]; its derivative is diagonal 2 w[rank]
    x = leaf([0.5, -1.0, 2.0])
    w = rt.tensor([1.0, 2.0, 3.0], dtype=rt.float64)
    g, = rt.autograd.grad((x.sort().values ** 2 * w).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [2 * 0.5 * 2, 2 * -1.0 * 1, 2 * 2.0 * 3])
    h, = rt.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), [4, 2, 6])


def test_out_refused_when_grad_needed_and_plain_out():
    x = leaf([2.0, 1.0])
    with pytest.raises(RuntimeError, match="out=... arguments don't support automatic"):
        rt.sort(x, out=(rt.empty(0, dtype=rt.float64), rt.empty(0, dtype=rt.int64)))
    with pytest.raises(RuntimeError, match="out=... arguments don't support automatic"):
        rt.msort(x, out=rt.empty(0, dtype=rt.float64))
    v, i = rt.empty(0, dtype=rt.float64), rt.empty(0, dtype=rt.int64)
    rt.topk(x.detach(), 1, out=(v, i))
    np.testing.assert_array_equal(v.numpy(), [2.0])
    np.testing.assert_array_equal(i.numpy(), [0])


def test_no_grad_path():
    x = leaf([2.0, 1.0, 3.0])
    with rt.no_grad():
        for r in (x.sort(), x.topk(2), x.kthvalue(1)):
            assert not r.values.requires_grad and r.values.grad_fn is None
        assert not rt.msort(x).requires_grad
