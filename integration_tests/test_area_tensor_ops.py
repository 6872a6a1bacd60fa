"""Compatibility area "tensor operations": the ops a PyTorch user reaches for, through
``rt_autograd`` (the torch-like top level) and ``rt_tensor`` (the same names without
autograd), checked value by value against numpy in float64 (or exactly, where the result is
exact): broadcasting elementwise math, reductions with ``dim``/``keepdim``, the matmul family
and einsum, indexing (basic, advanced, boolean masks, gather/scatter), shape ops, sorting and
searching.

Example of the contract under test::

    >>> x = rt.tensor([[1., 2.], [3., 4.]])
    >>> x.sum(dim=0, keepdim=True).tolist()
    [[4.0, 6.0]]
"""
import numpy as np
import pytest

import rt_autograd as rt
import rt_tensor as rtt


def _rand(*shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("lib", [rt, rtt], ids=["rt_autograd", "rt_tensor"])
@pytest.mark.parametrize("name,fn", [
    ("add_broadcast", lambda L, a, b: a + b),
    ("sub_scalar", lambda L, a, b: 2.5 - a),
    ("mul_div", lambda L, a, b: a * b / (b * b + 1.0)),
    ("pow", lambda L, a, b: L.abs(a) ** 1.5),
    ("exp_log", lambda L, a, b: L.log(L.exp(a) + 1.0)),
    ("tanh_sigmoid", lambda L, a, b: L.tanh(a) * L.sigmoid(b)),
    ("where", lambda L, a, b: L.where(a > b, a, b)),
    ("clamp", lambda L, a, b: L.clamp(a, min=-0.5, max=0.7)),
    ("maximum", lambda L, a, b: L.maximum(a, b)),
    ("atan2", lambda L, a, b: L.atan2(a, b)),
])
def test_elementwise_with_broadcasting_matches_numpy(lib, name, fn):
    an, bn = _rand(4, 1, 5, seed=1), _rand(3, 1, seed=2)       # a op b broadcasts to (4, 3, 5)
    np_lib = type("np_as_torch", (), {
        "abs": staticmethod(np.abs), "log": staticmethod(np.log), "exp": staticmethod(np.exp),
        "tanh": staticmethod(np.tanh), "sigmoid": staticmethod(lambda x: 1 / (1 + np.exp(-x))),
        "where": staticmethod(np.where), "maximum": staticmethod(np.maximum),
        "atan2": staticmethod(np.arctan2),
        "clamp": staticmethod(lambda x, min, max: np.clip(x, min, max))})
    got = fn(lib, lib.from_numpy(an), lib.from_numpy(bn))
    want = fn(np_lib, an, bn)
    assert tuple(got.shape) == np.shape(want)
    assert got.dtype == lib.float64
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("op", ["sum", "mean", "prod", "amax", "amin", "var", "std"])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), ((0, 2), False),
                                         (-1, True)])
def test_reductions_match_numpy(op, dim, keepdim):
    an = _rand(3, 4, 5, seed=3)
    x = rt.from_numpy(an)
    kwargs = {} if dim is None else {"dim": dim, "keepdim": keepdim}
    if op == "prod" and isinstance(dim, tuple):
        with pytest.raises(TypeError):          # PyTorch's prod takes one int dim only
            x.prod(**kwargs)
        return
    got = getattr(x, op)(**kwargs)
    np_op = {"amax": np.max, "amin": np.min, "var": np.var, "std": np.std}.get(op) \
        or getattr(np, op)
    np_kwargs = {} if dim is None else {"axis": dim, "keepdims": keepdim}
    if op in ("var", "std"):
        np_kwargs["ddof"] = 1              # PyTorch's default: Bessel's correction
    want = np_op(an, **np_kwargs)
    assert tuple(got.shape) == np.shape(want)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-14)


def test_max_with_dim_returns_values_and_first_index_of_ties():
    x = rt.tensor([[1.0, 7.0, 7.0, 2.0], [5.0, 5.0, -1.0, 0.0]])
    values, indices = x.max(dim=1)
    assert values.tolist() == [7.0, 5.0]
    assert indices.tolist() == [1, 0]          # PyTorch (like numpy) picks the first maximum
    assert indices.dtype == rt.int64
    assert x.argmin().item() == 6              # flat index, as numpy's argmin
    assert rt.tensor([3, 1, 2]).sum().dtype == rt.int64     # integer sums widen to int64


def test_float32_sum_is_accurate():
    # a million float32 values whose naive float32 running sum loses ~1e-3 relative
    an = np.full(1_000_000, 0.1, dtype=np.float32)
    got = rtt.from_numpy(an).sum().item()
    exact = float(np.sum(an.astype(np.float64)))
    assert abs(got - exact) / exact < 1e-6


@pytest.mark.parametrize("shapes", [((5, 7), (7, 3)), ((7,), (7, 3)), ((5, 7), (7,)),
                                    ((2, 5, 7), (7, 3)), ((2, 1, 5, 7), (3, 7, 4))])
def test_matmul_broadcasting_matches_numpy(shapes):
    an, bn = _rand(*shapes[0], seed=4), _rand(*shapes[1], seed=5)
    got = rt.matmul(rt.from_numpy(an), rt.from_numpy(bn))
    np.testing.assert_allclose(got.numpy(), np.matmul(an, bn), rtol=1e-12, atol=1e-13)


def test_matmul_on_transposed_views_and_float32():
    an, bn = _rand(64, 48, seed=6, dtype=np.float32), _rand(64, 32, seed=7, dtype=np.float32)
    a, b = rt.from_numpy(an), rt.from_numpy(bn)
    got = a.t() @ b                            # a transposed view goes to BLAS without a copy
    want = an.astype(np.float64).T @ bn.astype(np.float64)
    assert got.dtype == rt.float32
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-5)
    bmm = rt.bmm(rt.from_numpy(_rand(3, 4, 5, seed=8)), rt.from_numpy(_rand(3, 5, 2, seed=9)))
    np.testing.assert_allclose(bmm.numpy(), _rand(3, 4, 5, seed=8) @ _rand(3, 5, 2, seed=9),
                               rtol=1e-12)


@pytest.mark.parametrize("eq,shapes", [("ij,jk->ik", [(3, 4), (4, 5)]),
                                       ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
                                       ("ii->i", [(4, 4)]), ("ij->", [(3, 4)]),
                                       ("i,j->ij", [(3,), (4,)]),
                                       ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)])])
def test_einsum_matches_numpy(eq, shapes):
    arrays = [_rand(*s, seed=10 + i) for i, s in enumerate(shapes)]
    got = rt.einsum(eq, *[rt.from_numpy(a) for a in arrays])
    np.testing.assert_allclose(got.numpy(), np.einsum(eq, *arrays), rtol=1e-12, atol=1e-13)


def test_basic_and_advanced_indexing_match_numpy():
    an = np.arange(60, dtype=np.int64).reshape(3, 4, 5)
    x = rt.from_numpy(an.copy())
    cases = [
        (lambda a: a[1], None), (lambda a: a[:, 1:3, ::2], None), (lambda a: a[..., -1], None),
        (lambda a: a[None, 1, :, 2], None), (lambda a: a[[0, 2, 2]], None),
        (lambda a: a[:, [3, 0], [1, 4]], None), (lambda a: a[a % 7 == 0], None),
        (lambda a: a[1, [0, 0, 3]], None),
    ]
    for fn, _ in cases:
        got, want = fn(x), fn(an)
        assert tuple(got.shape) == want.shape
        np.testing.assert_array_equal(got.numpy(), want)
    # index_put with accumulate: repeated indices add up (numpy's np.add.at)
    y = rt.zeros(5, dtype=rt.float64)
    y.index_put_((rt.tensor([0, 2, 2, 4]),), rt.tensor([1.0, 2.0, 3.0, 4.0], dtype=rt.float64),
                 accumulate=True)
    ref = np.zeros(5)
    np.add.at(ref, [0, 2, 2, 4], [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(y.numpy(), ref)


def test_setitem_with_mask_and_slices():
    an = _rand(4, 6, seed=11)
    x = rt.from_numpy(an.copy())
    ref = an.copy()
    x[x < 0] = 0.0
    ref[ref < 0] = 0.0
    x[1:3, ::2] = rt.tensor([7.0, 8.0, 9.0], dtype=rt.float64)   # broadcast over rows
    ref[1:3, ::2] = [7.0, 8.0, 9.0]
    np.testing.assert_array_equal(x.numpy(), ref)


def test_gather_scatter_match_numpy():
    an = _rand(3, 5, seed=12)
    idx = np.array([[0, 4, 4], [1, 1, 0], [3, 2, 1]])
    got = rt.gather(rt.from_numpy(an), 1, rt.from_numpy(idx))
    np.testing.assert_array_equal(got.numpy(), np.take_along_axis(an, idx, axis=1))
    src = _rand(3, 3, seed=13)
    out = rt.zeros(3, 5, dtype=rt.float64).scatter_add(1, rt.from_numpy(idx), rt.from_numpy(src))
    ref = np.zeros((3, 5))
    for i in range(3):
        np.add.at(ref[i], idx[i], src[i])
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-15)


def test_shape_ops_match_numpy():
    an, bn = _rand(2, 3, seed=14), _rand(2, 3, seed=15)
    a, b = rt.from_numpy(an), rt.from_numpy(bn)
    np.testing.assert_array_equal(rt.cat([a, b], dim=1).numpy(), np.concatenate([an, bn], 1))
    np.testing.assert_array_equal(rt.stack([a, b], dim=0).numpy(), np.stack([an, bn]))
    parts = rt.split(rt.from_numpy(np.arange(10.0)), [3, 7])
    assert [p.tolist() for p in parts] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]]
    assert [tuple(c.shape) for c in rt.arange(10).chunk(3)] == [(4,), (4,), (2,)]
    cn = np.arange(24.0).reshape(2, 3, 4)
    c = rt.from_numpy(cn)
    np.testing.assert_array_equal(c.permute(2, 0, 1).reshape(4, -1).numpy(),
                                  cn.transpose(2, 0, 1).reshape(4, -1))
    np.testing.assert_array_equal(rt.flip(c, [0, 2]).numpy(), cn[::-1, :, ::-1])
    np.testing.assert_array_equal(rt.roll(c, 1, 2).numpy(), np.roll(cn, 1, 2))
    assert tuple(c.unsqueeze(1).squeeze().shape) == (2, 3, 4)
    np.testing.assert_array_equal(rt.tril(rt.ones(3, 3)).numpy(), np.tril(np.ones((3, 3))))


def test_sort_topk_unique_cumsum_match_numpy():
    an = np.array([[3.0, 1.0, 2.0, 1.0], [0.5, -2.0, 9.0, 0.5]])
    x = rt.from_numpy(an)
    values, indices = rt.sort(x, dim=1, stable=True)
    np.testing.assert_array_equal(values.numpy(), np.sort(an, axis=1, kind="stable"))
    np.testing.assert_array_equal(indices.numpy(), np.argsort(an, axis=1, kind="stable"))
    top_v, top_i = rt.topk(x, 2, dim=1)
    assert top_v.tolist() == [[3.0, 2.0], [9.0, 0.5]] and top_i.tolist()[0] == [0, 2]
    uniq, inverse, counts = rt.unique(x, return_inverse=True, return_counts=True)
    ru, ri, rc = np.unique(an, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(uniq.numpy(), ru)
    np.testing.assert_array_equal(inverse.numpy().ravel(), ri.ravel())
    np.testing.assert_array_equal(counts.numpy(), rc)
    np.testing.assert_allclose(rt.cumsum(x, dim=1).numpy(), np.cumsum(an, axis=1))
    s = rt.tensor([1.0, 3.0, 5.0, 7.0])
    assert rt.searchsorted(s, rt.tensor([0.0, 3.0, 6.0, 8.0])).tolist() == [0, 1, 3, 4]


def test_factories_and_linspace():
    np.testing.assert_allclose(rt.linspace(-1, 1, 5).numpy(),
                               np.linspace(-1, 1, 5, dtype=np.float32))
    assert rt.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
    assert rt.arange(5).dtype == rt.int64 and rt.arange(5.0).dtype == rt.float32
    np.testing.assert_array_equal(rt.eye(3, 4).numpy(), np.eye(3, 4, dtype=np.float32))
    assert rt.full((2, 2), 7).dtype == rt.int64 and rt.full((2,), 1.5).dtype == rt.float32
    assert rt.zeros_like(rt.ones(2, 3, dtype=rt.float64)).dtype == rt.float64


def test_errors_are_pytorchs_types():
    with pytest.raises(RuntimeError):
        rt.ones(2, 3) + rt.ones(4, 3)                   # shapes do not broadcast
    with pytest.raises(RuntimeError):
        rt.ones(2, 3) @ rt.ones(2, 3)                   # inner sizes differ
    with pytest.raises(IndexError):
        rt.ones(2, 3)[5]
    with pytest.raises(RuntimeError):
        rt.ones(6).view(4, 2)                           # wrong element count
