"""Gradients of reductions and scans (rt_autograd/_ops/reduce.py): forward against rt_tensor
and numpy, gradcheck on contiguous / transposed / sliced / broadcast (expanded) / non-contiguous
leaf float64 inputs, gradgradcheck, complex128 where PyTorch differentiates complex inputs,
and hand-computed subgradient cases (ties, NaN, zeros) as PyTorch defines them."""
import math

import numpy as np
import pytest

import rt_autograd as rt
import rt_tensor as rtt
from rt_autograd.testing import gradcheck, gradgradcheck

INF = math.inf
NAN = math.nan


def _values(shape, seed, dtype=rt.float64):
    """Distinct values bounded away from zero (|x| in [0.3, 2]), so that the finite
    differences never cross a tie, a zero or a kink."""
    gen = np.random.default_rng(seed)
    n = int(np.prod(shape)) if shape else 1
    mags = np.linspace(0.3, 2.0, n)
    gen.shuffle(mags)
    arr = (mags * gen.choice([-1.0, 1.0], n)).reshape(shape)
    if dtype == rt.complex128:
        arr = arr + 1j * (np.linspace(0.4, 1.7, n)[gen.permutation(n)]
                          * gen.choice([-1.0, 1.0], n)).reshape(shape)
    return arr


def leaf(arr, dtype=rt.float64):
    return rt.tensor(np.asarray(arr), dtype=dtype, requires_grad=True)


# Input variants: (leaf shape, how the (3, 4) operand is made from the leaf)
VARIANTS = {
    "contiguous": ((3, 4), lambda x: x),
    "transposed": ((4, 3), lambda x: x.transpose(0, 1)),
    "sliced": ((3, 8), lambda x: x[:, ::2]),
    "broadcast_rows": ((1, 4), lambda x: x.expand(3, 4)),
    "broadcast_cols": ((3, 1), lambda x: x.expand(3, 4)),
}

# std over a broadcast dim is std of equal values: 0, a kink (PyTorch's subgradient 0 there is
# what test_var_std_edge_cases checks; finite differences cannot)
DEGENERATE = {("std_dim_keepdim", "broadcast_rows"), ("std_mean", "broadcast_rows"),
              ("std_correction0", "broadcast_cols")}


def _noncontiguous_leaf(seed, dtype=rt.float64):
    """A leaf whose own storage is non-contiguous (a transposed view, detached)."""
    base = rt.tensor(_values((4, 3), seed, dtype), dtype=dtype)
    x = base.transpose(0, 1).detach()
    assert not x.is_contiguous()
    return x.requires_grad_(True)


def _first(r):
    return r[0] if isinstance(r, tuple) else r


# name: (function of a (3, 4) tensor, numpy reference of the (first) output or None)
OPS = {
    "sum": (lambda x: x.sum(), lambda a: a.sum()),
    "sum_dim": (lambda x: rt.sum(x, 1), lambda a: a.sum(1)),
    "sum_negdim_keepdim": (lambda x: x.sum(-2, keepdim=True), lambda a: a.sum(0, keepdims=True)),
    "sum_tuple": (lambda x: rt.sum(x, (0, -1)), lambda a: a.sum()),
    "sum_none_keepdim": (lambda x: rt.sum(x, None, True), lambda a: a.sum(keepdims=True)),
    "sum_dtype": (lambda x: x.sum(dtype=rt.float64), lambda a: a.sum()),
    "nansum": (lambda x: rt.nansum(x), lambda a: np.nansum(a)),
    "nansum_dim": (lambda x: x.nansum(-1, keepdim=True), lambda a: np.nansum(a, -1, keepdims=True)),
    "mean": (lambda x: x.mean(), lambda a: a.mean()),
    "mean_dim": (lambda x: rt.mean(x, -1), lambda a: a.mean(-1)),
    "mean_tuple_keepdim": (lambda x: x.mean((1, 0), keepdim=True), lambda a: a.mean(keepdims=True)),
    "nanmean": (lambda x: rt.nanmean(x), lambda a: np.nanmean(a)),
    "nanmean_dim": (lambda x: x.nanmean(0, True), lambda a: np.nanmean(a, 0, keepdims=True)),
    "prod": (lambda x: x.prod(), lambda a: a.prod()),
    "prod_dim": (lambda x: rt.prod(x, 1), lambda a: a.prod(1)),
    "prod_negdim_keepdim": (lambda x: x.prod(-2, keepdim=True), lambda a: a.prod(0, keepdims=True)),
    "max": (lambda x: x.max(), lambda a: a.max()),
    "max_dim": (lambda x: rt.max(x, 1), lambda a: a.max(1)),
    "max_negdim_keepdim": (lambda x: x.max(-2, True), lambda a: a.max(0, keepdims=True)),
    "min": (lambda x: rt.min(x), lambda a: a.min()),
    "min_dim": (lambda x: x.min(dim=-1), lambda a: a.min(-1)),
    "amax": (lambda x: rt.amax(x), lambda a: a.max()),
    "amax_dim": (lambda x: x.amax(-1), lambda a: a.max(-1)),
    "amax_tuple_keepdim": (lambda x: rt.amax(x, (0, 1), True), lambda a: a.max(keepdims=True)),
    "amin": (lambda x: x.amin(), lambda a: a.min()),
    "amin_dim": (lambda x: rt.amin(x, 0, keepdim=True), lambda a: a.min(0, keepdims=True)),
    "aminmax": (lambda x: rt.aminmax(x), lambda a: a.min()),
    "aminmax_dim": (lambda x: x.aminmax(dim=-1, keepdim=True), lambda a: a.min(-1, keepdims=True)),
    "median": (lambda x: x.median(), lambda a: np.sort(a.ravel())[(a.size - 1) // 2]),
    "median_dim": (lambda x: rt.median(x, 1), None),
    "median_negdim_keepdim": (lambda x: x.median(-2, keepdim=True), None),
    "nanmedian": (lambda x: rt.nanmedian(x), lambda a: np.sort(a.ravel())[(a.size - 1) // 2]),
    "nanmedian_dim": (lambda x: x.nanmedian(0), None),
    "var": (lambda x: x.var(), lambda a: a.var(ddof=1)),
    "var_dim": (lambda x: rt.var(x, 1), lambda a: a.var(1, ddof=1)),
    "var_unbiased_false": (lambda x: x.var(-1, False, True), lambda a: a.var(-1, keepdims=True)),
    "var_correction": (lambda x: rt.var(x, (0, 1), correction=2), lambda a: a.var(ddof=2)),
    "var_legacy_unbiased": (lambda x: rt.var(x, False), lambda a: a.var()),
    "std": (lambda x: rt.std(x), lambda a: a.std(ddof=1)),
    "std_dim_keepdim": (lambda x: x.std(0, keepdim=True),
                        lambda a: a.std(0, ddof=1, keepdims=True)),
    "std_correction0": (lambda x: rt.std(x, -1, correction=0), lambda a: a.std(-1)),
    "var_mean": (lambda x: rt.var_mean(x, 1), lambda a: a.var(1, ddof=1)),
    "var_mean_all": (lambda x: rt.var_mean(x, correction=0), lambda a: a.var()),
    "std_mean": (lambda x: rt.std_mean(x, -2, keepdim=True),
                 lambda a: a.std(0, ddof=1, keepdims=True)),
    "std_mean_all": (lambda x: rt.std_mean(x), lambda a: a.std(ddof=1)),
    "norm": (lambda x: x.norm(), lambda a: np.sqrt((a * a).sum())),
    "norm_fro_dim": (lambda x: rt.norm(x, "fro", 1), lambda a: np.sqrt((a * a).sum(1))),
    "norm_2_keepdim": (lambda x: rt.norm(x, 2, -1, True),
                       lambda a: np.sqrt((a * a).sum(-1, keepdims=True))),
    "norm_1": (lambda x: rt.norm(x, 1, 0), lambda a: np.abs(a).sum(0)),
    "norm_inf": (lambda x: rt.norm(x, INF, 1), lambda a: np.abs(a).max(1)),
    "norm_neginf": (lambda x: x.norm(-INF), lambda a: np.abs(a).min()),
    "norm_0": (lambda x: rt.norm(x, 0, 1), lambda a: (a != 0).sum(1).astype(float)),
    "norm_3": (lambda x: rt.norm(x, 3, (0, 1)), lambda a: (np.abs(a) ** 3).sum() ** (1 / 3)),
    "norm_1.5": (lambda x: rt.norm(x, 1.5, -1), lambda a: (np.abs(a) ** 1.5).sum(-1) ** (1 / 1.5)),
    "norm_0.5": (lambda x: rt.norm(x, 0.5, 0), lambda a: (np.abs(a) ** 0.5).sum(0) ** 2),
    "norm_-1": (lambda x: rt.norm(x, -1, 1), lambda a: (np.abs(a) ** -1.0).sum(1) ** -1.0),
    "logsumexp": (lambda x: rt.logsumexp(x, 1), lambda a: np.log(np.exp(a).sum(1))),
    "logsumexp_tuple_keepdim": (lambda x: x.logsumexp((0, -1), keepdim=True),
                                lambda a: np.log(np.exp(a).sum(keepdims=True))),
    "trace": (lambda x: x.trace(), lambda a: np.trace(a)),
    "cumsum": (lambda x: rt.cumsum(x, 1), lambda a: np.cumsum(a, 1)),
    "cumsum_negdim": (lambda x: x.cumsum(-2), lambda a: np.cumsum(a, 0)),
    "cumprod": (lambda x: rt.cumprod(x, 1), lambda a: np.cumprod(a, 1)),
    "cumprod_negdim": (lambda x: x.cumprod(-2), lambda a: np.cumprod(a, 0)),
    "logcumsumexp": (lambda x: rt.logcumsumexp(x, 1), lambda a: np.log(np.cumsum(np.exp(a), 1))),
    "logcumsumexp_negdim": (lambda x: x.logcumsumexp(-2),
                            lambda a: np.log(np.cumsum(np.exp(a), 0))),
    "cummax": (lambda x: rt.cummax(x, 1), lambda a: np.maximum.accumulate(a, 1)),
    "cummax_negdim": (lambda x: x.cummax(-2), lambda a: np.maximum.accumulate(a, 0)),
    "cummin": (lambda x: x.cummin(1), lambda a: np.minimum.accumulate(a, 1)),
}

# ops whose second derivative is checked on complex inputs too (PyTorch differentiates these
# for complex tensors)
COMPLEX_OPS = ["sum", "sum_dim", "sum_tuple", "mean", "mean_dim", "prod", "prod_dim",
               "prod_negdim_keepdim", "var", "var_dim", "std", "std_dim_keepdim", "var_mean",
               "std_mean", "norm", "norm_fro_dim", "norm_1", "norm_inf", "norm_3", "norm_1.5",
               "norm_0.5", "trace", "cumsum", "cumsum_negdim", "cumprod", "cumprod_negdim"]


@pytest.mark.parametrize("name", sorted(OPS))
def test_forward_matches_rt_tensor_and_numpy(name):
    fn, ref = OPS[name]
    arr = _values((3, 4), 1)
    x = leaf(arr)
    out = fn(x)
    plain = fn(x.detach())           # the rt_tensor path (no graph)
    outs = out if isinstance(out, tuple) else (out,)
    plains = plain if isinstance(plain, tuple) else (plain,)
    assert len(outs) == len(plains)
    for o, p in zip(outs, plains):
        assert tuple(o.shape) == tuple(p.shape) and o.dtype == p.dtype
        np.testing.assert_allclose(o.detach().numpy(), p.numpy(), rtol=1e-12, atol=1e-12)
    if isinstance(out, tuple):
        assert type(out) is type(plain)      # the same named tuple (return_types)
    first = _first(out)
    assert first.requires_grad and first.grad_fn is not None
    for o in outs[1:]:
        if o.dtype == rt.int64:
            assert not o.requires_grad       # indices
    if ref is not None:
        np.testing.assert_allclose(first.detach().numpy(), ref(arr), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, variant", [(n, v) for n in sorted(OPS) for v in sorted(VARIANTS)
                                           if (n, v) not in DEGENERATE])
def test_gradcheck(name, variant):
    fn, _ = OPS[name]
    shape, make = VARIANTS[variant]
    x = leaf(_values(shape, 2))
    assert gradcheck(lambda t: fn(make(t)), (x,))


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck_noncontiguous_leaf(name):
    fn, _ = OPS[name]
    assert gradcheck(fn, (_noncontiguous_leaf(3),))


@pytest.mark.parametrize("variant", ["contiguous", "transposed"])
@pytest.mark.parametrize("name", sorted(OPS))
def test_gradgradcheck(name, variant):
    fn, _ = OPS[name]
    shape, make = VARIANTS[variant]
    x = leaf(_values(shape, 4))
    assert gradgradcheck(lambda t: fn(make(t)), (x,))


@pytest.mark.parametrize("name", COMPLEX_OPS)
def test_complex_gradcheck_and_gradgradcheck(name):
    fn, _ = OPS[name]
    x = leaf(_values((3, 4), 5, rt.complex128), rt.complex128)
    assert gradcheck(fn, (x,))
    xt = leaf(_values((4, 3), 6, rt.complex128), rt.complex128)
    assert gradcheck(lambda t: fn(t.transpose(0, 1)), (xt,))
    assert gradgradcheck(fn, (x,))


ZERO_DIM_OPS = {
    "sum": lambda x: x.sum(), "sum_dim0": lambda x: x.sum(0), "sum_dim-1": lambda x: rt.sum(x, -1),
    "mean": lambda x: x.mean(), "mean_dim": lambda x: x.mean(0), "nansum": lambda x: x.nansum(),
    "prod": lambda x: x.prod(), "prod_dim": lambda x: x.prod(0), "max": lambda x: x.max(),
    "max_dim": lambda x: x.max(0), "min_dim": lambda x: rt.min(x, -1, True),
    "amax": lambda x: x.amax(),
    "aminmax": lambda x: rt.aminmax(x), "median": lambda x: x.median(),
    "median_dim": lambda x: x.median(0), "nanmedian": lambda x: x.nanmedian(),
    "std_correction0": lambda x: x.std(correction=0), "norm": lambda x: x.norm(),
    "norm_3": lambda x: x.norm(3), "norm_inf": lambda x: rt.norm(x, INF),
    "logsumexp": lambda x: rt.logsumexp(x, 0), "cumsum": lambda x: x.cumsum(0),
    "cumprod": lambda x: x.cumprod(0), "logcumsumexp": lambda x: x.logcumsumexp(0),
    "cummax": lambda x: x.cummax(0), "cummin": lambda x: rt.cummin(x, -1),
}


@pytest.mark.parametrize("name", sorted(ZERO_DIM_OPS))
def test_zero_dim_input(name):
    fn = ZERO_DIM_OPS[name]
    x = leaf(-1.3)
    out = fn(x)
    np.testing.assert_allclose(_first(out).detach().numpy(), _first(fn(x.detach())).numpy())
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "logcumsumexp", "cummax", "cummin",
                                  "sum_dim", "prod_dim", "logsumexp", "norm_fro_dim"])
def test_1d_and_3d_inputs(name):
    fn = {"cumsum": lambda x, d: x.cumsum(d), "cumprod": lambda x, d: x.cumprod(d),
          "logcumsumexp": lambda x, d: x.logcumsumexp(d), "cummax": lambda x, d: x.cummax(d)[0],
          "cummin": lambda x, d: x.cummin(d)[0], "sum_dim": lambda x, d: x.sum(d),
          "prod_dim": lambda x, d: x.prod(d), "logsumexp": lambda x, d: x.logsumexp(d),
          "norm_fro_dim": lambda x, d: x.norm(dim=d)}[name]
    x1 = leaf(_values((5,), 7))
    assert gradcheck(lambda t: fn(t, 0), (x1,))
    x3 = leaf(_values((2, 3, 2), 8))
    for d in (0, 1, -1):
        assert gradcheck(lambda t: fn(t.transpose(0, 2), d), (x3,))
    assert gradgradcheck(lambda t: fn(t, 1), (x3,))


# ---- grad_fn names (PyTorch's) ---------------------------------------------------------------

@pytest.mark.parametrize("expr, node", [
    (lambda x: x.sum(), "SumBackward0"), (lambda x: x.sum(1), "SumBackward1"),
    (lambda x: rt.nansum(x), "NansumBackward0"), (lambda x: x.mean(), "MeanBackward0"),
    (lambda x: x.mean(0), "MeanBackward1"), (lambda x: x.nanmean(), "DivBackward0"),
    (lambda x: x.prod(), "ProdBackward0"), (lambda x: x.prod(0), "ProdBackward1"),
    (lambda x: x.max(), "MaxBackward1"), (lambda x: x.max(0)[0], "MaxBackward0"),
    (lambda x: x.min(), "MinBackward1"), (lambda x: x.min(0)[0], "MinBackward0"),
    (lambda x: x.amax(0), "AmaxBackward0"), (lambda x: x.amin(), "AminBackward0"),
    (lambda x: x.median(), "MedianBackward0"), (lambda x: x.median(0)[0], "MedianBackward1"),
    (lambda x: x.nanmedian(), "NanmedianBackward0"),
    (lambda x: x.nanmedian(1)[0], "NanmedianBackward1"),
    (lambda x: x.var(), "VarBackward0"), (lambda x: x.std(0), "StdBackward0"),
    (lambda x: rt.var_mean(x)[0], "VarMeanBackward0"),
    (lambda x: rt.std_mean(x)[1], "StdMeanBackward0"),
    (lambda x: x.norm(), "LinalgVectorNormBackward0"),
    (lambda x: x.logsumexp(1), "LogsumexpBackward0"), (lambda x: x.trace(), "TraceBackward0"),
    (lambda x: x.cumsum(0), "CumsumBackward0"), (lambda x: x.cumprod(0), "CumprodBackward0"),
    (lambda x: x.logcumsumexp(0), "LogcumsumexpBackward0"),
    (lambda x: x.cummax(0)[0], "CummaxBackward0"), (lambda x: x.cummin(0)[0], "CumminBackward0"),
])
def test_grad_fn_names(expr, node):
    x = leaf(_values((3, 4), 9))
    assert expr(x).grad_fn.name() == node


# ---- hand-computed subgradients ------------------------------------------------------------

def grad_of(fn, data, dtype=rt.float64, create_graph=False):
    x = leaf(data, dtype)
    y = fn(x)
    y = _first(y)
    g, = rt.autograd.grad(y.sum(), x, create_graph=create_graph)
    return g.detach().numpy()


def close(a, b):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-12,
                               atol=1e-12, equal_nan=True)


def test_max_min_full_ties_share_evenly():
    close(grad_of(lambda x: x.max(), [1.0, 3.0, 3.0, 2.0]), [0, 0.5, 0.5, 0])
    close(grad_of(lambda x: rt.min(x), [[1.0, 3.0], [1.0, 1.0]]), [[1 / 3, 0], [1 / 3, 1 / 3]])
    # NaN result: the NaNs share the gradient
    close(grad_of(lambda x: x.max(), [1.0, NAN, 3.0, NAN]), [0, 0.5, 0, 0.5])


def test_max_min_dim_gradient_to_returned_index():
    x = leaf([[1.0, 3.0, 3.0], [2.0, 0.0, 0.0]])
    r = rt.max(x, 1)
    assert isinstance(r, rtt.return_types.max) and r._fields == ("values", "indices")
    assert r.values.requires_grad and not r.indices.requires_grad
    r.values.sum().backward()
    idx = r.indices.numpy()
    expected = np.zeros((2, 3))
    expected[[0, 1], idx] = 1
    close(x.grad.numpy(), expected)
    x = leaf([[1.0, 3.0, 3.0], [2.0, 0.0, 0.0]])
    r = x.min(1, keepdim=True)
    assert isinstance(r, rtt.return_types.min) and tuple(r.values.shape) == (2, 1)
    (r.values * rt.tensor([[2.0], [5.0]], dtype=rt.float64)).sum().backward()
    expected = np.zeros((2, 3))
    expected[[0, 1], r.indices.numpy()[:, 0]] = [2, 5]
    close(x.grad.numpy(), expected)


def test_amax_amin_ties_share_evenly_per_slice():
    data = [[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]
    close(grad_of(lambda x: rt.amax(x, 1), data), [[0, 0.5, 0.5], [0.5, 0.5, 0]])
    close(grad_of(lambda x: x.amax(), data), [[0, 0.5, 0.5], [0, 0, 0]])
    close(grad_of(lambda x: x.amin(0, keepdim=True), data), [[1, 0, 0], [0, 1, 1]])
    close(grad_of(lambda x: rt.amin(x, (0, 1)), [[1.0, 1.0], [1.0, 2.0]]),
          [[1 / 3, 1 / 3], [1 / 3, 0]])
    # a slice whose maximum is NaN: PyTorch's scale_grad_by_count gives NaN there
    close(grad_of(lambda x: x.amax(1), [[1.0, NAN, 2.0], [1.0, 2.0, 2.0]]),
          [[NAN, NAN, NAN], [0, 0.5, 0.5]])


def test_aminmax_ties_and_single_output():
    x = leaf([[1.0, 3.0, 3.0], [1.0, 1.0, 2.0]])
    r = rt.aminmax(x, dim=1)
    assert isinstance(r, rtt.return_types.aminmax) and r._fields == ("min", "max")
    (r.min.sum() + 10 * r.max.sum()).backward()
    close(x.grad.numpy(), [[1, 5, 5], [0.5, 0.5, 10]])
    # only max used: NaN-free gradient even though min's slice would be NaN-shared
    x = leaf([2.0, 5.0, 5.0])
    rt.aminmax(x).max.backward()
    close(x.grad.numpy(), [0, 0.5, 0.5])


def test_median_full_ties_share_evenly_and_dim_to_index():
    close(grad_of(lambda x: x.median(), [1.0, 2.0, 2.0, 3.0]), [0, 0.5, 0.5, 0])
    close(grad_of(lambda x: rt.median(x), [4.0, 1.0, 2.0, 3.0]), [0, 0, 1, 0])  # lower middle
    close(grad_of(lambda x: x.median(), [1.0, NAN, 2.0]), [0, 1, 0])
    x = leaf([[2.0, 2.0, 1.0], [5.0, 4.0, 6.0]])
    r = x.median(1)
    assert isinstance(r, rtt.return_types.median) and not r.indices.requires_grad
    r.values.sum().backward()
    expected = np.zeros((2, 3))
    expected[[0, 1], r.indices.numpy()] = 1
    close(x.grad.numpy(), expected)
    close(expected[1], [1, 0, 0])


def test_nanmedian_subgradients():
    close(grad_of(lambda x: x.nanmedian(), [NAN, 3.0, 1.0, 2.0]), [0, 0, 0, 1])
    close(grad_of(lambda x: x.nanmedian(), [NAN, NAN]), [0.5, 0.5])
    close(grad_of(lambda x: x.nanmedian(), [1.0, 2.0, 2.0, NAN]), [0, 0.5, 0.5, 0])
    x = leaf([[NAN, 3.0, 1.0], [2.0, 1.0, 0.0]])
    r = rt.nanmedian(x, 1)
    assert isinstance(r, rtt.return_types.nanmedian)
    r.values.sum().backward()
    close(x.grad.numpy(), [[0, 0, 1], [0, 1, 0]])


def test_nansum_nanmean_ignore_nan():
    close(grad_of(lambda x: rt.nansum(x), [1.0, NAN, 2.0]), [1, 0, 1])
    close(grad_of(lambda x: x.nanmean(), [1.0, NAN, 2.0, 3.0]), [1 / 3, 0, 1 / 3, 1 / 3])
    close(grad_of(lambda x: x.nanmean(1), [[1.0, NAN], [1.0, 2.0]]), [[1, 0], [0.5, 0.5]])


def test_prod_with_zeros():
    close(grad_of(lambda x: x.prod(), [2.0, 0.0, 3.0]), [0, 6, 0])
    close(grad_of(lambda x: x.prod(), [0.0, 0.0, 3.0]), [0, 0, 0])
    close(grad_of(lambda x: x.prod(), [0.0, 0.0, 3.0], create_graph=True), [0, 0, 0])
    close(grad_of(lambda x: x.prod(), [[2.0, 0.0], [3.0, 4.0]]), [[0, 24], [0, 0]])
    close(grad_of(lambda x: x.prod(1), [[2.0, 0.0, 3.0], [0.0, 0.0, 1.0], [1.0, 2.0, 3.0]]),
          [[0, 6, 0], [0, 0, 0], [6, 3, 2]])
    close(grad_of(lambda x: x.prod(0, keepdim=True), [[2.0, 0.0], [0.0, 5.0]]), [[0, 5], [2, 0]])


def test_prod_second_derivative_with_zeros():
    # f = x0 x1 x2 at (0, 0, 3): the Hessian's row 0 is (0, x2, x1) = (0, 3, 0)
    x = leaf([0.0, 0.0, 3.0])
    g, = rt.autograd.grad(x.prod(), x, create_graph=True)
    close(g.detach().numpy(), [0, 0, 0])
    h, = rt.autograd.grad(g[0], x)
    close(h.numpy(), [0, 3, 0])
    x = leaf([[0.0, 2.0, 3.0]])
    g, = rt.autograd.grad(x.prod(1).sum(), x, create_graph=True)
    close(g.detach().numpy(), [[6, 0, 0]])
    h, = rt.autograd.grad(g[0, 0], x)
    close(h.numpy(), [[0, 3, 2]])
    for data in ([0.0, 0.0, 3.0, 1.5], [2.0, 0.0, -1.0, 0.5]):
        assert gradgradcheck(lambda t: t.prod(), (leaf(data),))
        assert gradgradcheck(lambda t: t.reshape(2, 2).prod(-1), (leaf(data),))


@pytest.mark.parametrize("create_graph", [False, True])
def test_cumprod_with_zeros(create_graph):
    # y = (x0, x0 x1, x0 x1 x2, x0 x1 x2 x3): d sum(y) / dx at (2, 0, 3, 4) = (1, 32, 0, 0)
    close(grad_of(lambda x: x.cumprod(0), [2.0, 0.0, 3.0, 4.0], create_graph=create_graph),
          [1, 32, 0, 0])
    close(grad_of(lambda x: x.cumprod(0), [2.0, 0.0, 3.0, 0.0], create_graph=create_graph),
          [1, 8, 0, 0])
    close(grad_of(lambda x: x.cumprod(0), [0.0, 2.0, 3.0], create_graph=create_graph),
          [1 + 2 + 6, 0, 0])
    close(grad_of(lambda x: x.cumprod(-1), [[1.0, 2.0, 0.0], [0.0, 0.0, 5.0]],
                  create_graph=create_graph), [[1 + 2, 1, 2], [1, 0, 0]])
    x = leaf([[2.0, 0.0, 3.0, 0.0, 2.0], [0.0, 1.0, 2.0, 3.0, 4.0]])
    w = rt.tensor(_values((2, 5), 10), dtype=rt.float64)
    assert gradcheck(lambda t: (t.cumprod(1) * w), (x,))
    assert gradgradcheck(lambda t: t.cumprod(1), (x,))
    assert gradgradcheck(lambda t: t.transpose(0, 1).cumprod(0), (x,))


def test_cumsum_reversed():
    close(grad_of(lambda x: x.cumsum(0), [1.0, 2.0, 3.0]), [3, 2, 1])
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    (x.cumsum(1) * rt.tensor([[1.0, 10.0], [100.0, 1000.0]], dtype=rt.float64)).sum().backward()
    close(x.grad.numpy(), [[11, 10], [1100, 1000]])


def test_cumsum_dtype_and_inplace():
    x = leaf([1.0, 2.0, 3.0], rt.float32)
    y = x.cumsum(0, dtype=rt.float64)
    assert y.dtype == rt.float64
    y.sum().backward()
    assert x.grad.dtype == rt.float32
    close(x.grad.numpy(), [3, 2, 1])
    x = leaf([1.0, 2.0, 3.0])
    y = x * 1
    y.cumsum_(0)
    close(y.detach().numpy(), [1, 3, 6])
    assert y.grad_fn is not None
    y.sum().backward()
    close(x.grad.numpy(), [3, 2, 1])
    x = leaf([1.0, 2.0, 3.0])
    y = x * 1
    y.cumprod_(0)
    close(y.detach().numpy(), [1, 2, 6])
    y.sum().backward()
    close(x.grad.numpy(), [1 + 2 + 6, 1 + 3, 2])
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf([1.0, 2.0]).cumsum_(0)
    plain = rt.tensor([1.0, 2.0])
    plain.cumsum_(0)
    close(plain.numpy(), [1, 3])


def test_cummax_cummin_accumulate_at_running_index():
    x = leaf([1.0, 3.0, 3.0, 2.0])
    r = rt.cummax(x, 0)
    assert isinstance(r, rtt.return_types.cummax) and not r.indices.requires_grad
    close(r.values.detach().numpy(), [1, 3, 3, 3])
    r.values.sum().backward()
    expected = np.zeros(4)
    np.add.at(expected, r.indices.numpy(), 1)
    close(x.grad.numpy(), expected)
    x = leaf([[3.0, 1.0, 2.0, 0.5]])
    r = x.cummin(1)
    assert isinstance(r, rtt.return_types.cummin)
    (r.values * rt.tensor([[1.0, 2.0, 4.0, 8.0]], dtype=rt.float64)).sum().backward()
    close(x.grad.numpy(), [[1, 6, 0, 8]])


def test_logsumexp_and_logcumsumexp_values():
    close(grad_of(lambda x: rt.logsumexp(x, 0), [0.0, math.log(3.0)]), [0.25, 0.75])
    # large inputs stay finite (the backward is computed in log space)
    g = grad_of(lambda x: x.logcumsumexp(0), [1000.0, 1000.0, -1000.0])
    close(g, [1 + 0.5 + 0.5, 0.5 + 0.5, 0])
    x = leaf([0.5, -1.0, 2.0])
    w = rt.tensor([1.0, -2.0, 0.0], dtype=rt.float64)     # mixed-sign and zero gradients
    (x.logcumsumexp(0) * w).sum().backward()
    a = np.array([0.5, -1.0, 2.0])
    y = np.log(np.cumsum(np.exp(a)))
    expected = [sum(w.numpy()[j] * np.exp(a[k] - y[j]) for j in range(k, 3)) for k in range(3)]
    close(x.grad.numpy(), expected)


def test_var_std_edge_cases():
    close(grad_of(lambda x: x.var(), [1.0, 2.0, 4.0]), [2 * (1 - 7 / 3) / 2, 2 * (2 - 7 / 3) / 2,
                                                        2 * (4 - 7 / 3) / 2])
    close(grad_of(lambda x: x.std(), [2.0, 2.0, 2.0]), [0, 0, 0])        # std == 0: subgradient 0
    close(grad_of(lambda x: x.std(1), [[2.0, 2.0], [1.0, 3.0]]),
          [[0, 0], [-1 / math.sqrt(2), 1 / math.sqrt(2)]])
    with pytest.warns(UserWarning, match="degrees of freedom"):
        g = grad_of(lambda x: x.var(), [1.5])                         # dof = 0: NaN (x == mean)
    close(g, [NAN])
    with pytest.warns(UserWarning, match="degrees of freedom"):
        g = grad_of(lambda x: x.var(1), [[1.5], [2.0]])
    close(g, [[NAN], [NAN]])


def test_var_mean_std_mean_partial_outputs():
    x = leaf([1.0, 2.0, 4.0])
    v, m = rt.var_mean(x)
    m.backward()
    close(x.grad.numpy(), [1 / 3] * 3)
    x = leaf([1.0, 2.0, 4.0])
    s, m = rt.std_mean(x, correction=0)
    (s + m).backward()
    mu, sd = 7 / 3, np.std([1.0, 2.0, 4.0])
    close(x.grad.numpy(), [(a - mu) / (3 * sd) + 1 / 3 for a in (1.0, 2.0, 4.0)])


def test_norm_subgradients():
    z = [0.0, 0.0, 0.0]
    for p in (2, "fro", 1, 3, 1.5, INF, -INF):
        close(grad_of(lambda x: rt.norm(x, p), z), [0, 0, 0])
    close(grad_of(lambda x: x.norm(dim=1), [[0.0, 0.0], [3.0, 4.0]]), [[0, 0], [0.6, 0.8]])
    close(grad_of(lambda x: x.norm(1), [2.0, 0.0, -3.0]), [1, 0, -1])
    close(grad_of(lambda x: rt.norm(x, INF), [3.0, -3.0, 1.0]), [0.5, -0.5, 0])
    close(grad_of(lambda x: rt.norm(x, -INF), [3.0, -1.0, 1.0]), [0, -0.5, 0.5])
    # p = 0: PyTorch's backward gives an undefined gradient: .grad stays None
    x = leaf([3.0, -1.0, 0.0])
    rt.norm(x, 0).backward()
    assert x.grad is None
    x = leaf([3.0, -1.0, 0.0])
    (rt.norm(x, 0) + x.sum()).backward()
    close(x.grad.numpy(), [1, 1, 1])
    # second derivative at a zero norm: NaN, as PyTorch's (0 / 0 in the backward's backward)
    x = leaf([0.0, 0.0])
    g, = rt.autograd.grad(x.norm(), x, create_graph=True)
    close(g.detach().numpy(), [0, 0])
    h, = rt.autograd.grad(g.sum(), x)
    close(h.numpy(), [NAN, NAN])
    close(grad_of(lambda x: rt.norm(x, 0.5), [4.0, 0.0, 1.0]), [3 / 2, 0, 3])   # 3 / sqrt(x)


def test_norm_dtype_argument():
    x = leaf([3.0, 4.0], rt.float32)
    y = rt.norm(x, dtype=rt.float64)
    assert y.dtype == rt.float64
    y.backward()
    assert x.grad.dtype == rt.float32
    np.testing.assert_allclose(x.grad.numpy(), [0.6, 0.8], rtol=1e-6)


def test_trace_non_square():
    close(grad_of(lambda x: x.trace(), np.ones((2, 3))), [[1, 0, 0], [0, 1, 0]])
    x = leaf(_values((3, 2), 11))
    assert gradcheck(lambda t: t.trace(), (x,))
    assert gradgradcheck(lambda t: (t * t).trace(), (x,))


def test_sum_dtype_cast_back():
    x = leaf([1.0, 2.0], rt.float32)
    y = x.sum(dtype=rt.float64)
    assert y.dtype == rt.float64 and y.grad_fn.name() == "SumBackward0"
    y.backward()
    assert x.grad.dtype == rt.float32
    close(x.grad.numpy(), [1, 1])


def test_mean_sum_gradients_broadcast_shapes():
    x = leaf(np.arange(6.0).reshape(2, 3))
    (x.mean(1) * rt.tensor([1.0, 2.0], dtype=rt.float64)).sum().backward()
    close(x.grad.numpy(), [[1 / 3] * 3, [2 / 3] * 3])


def test_max_with_other_is_elementwise():
    a = leaf([1.0, 5.0])
    b = rt.tensor([3.0, 2.0], dtype=rt.float64)
    close(rt.max(a, b).detach().numpy(), [3, 5])
    close(a.min(b).detach().numpy(), [1, 2])


@pytest.mark.parametrize("call", [
    lambda x, o: rt.sum(x, out=o), lambda x, o: rt.mean(x, 0, out=o),
    lambda x, o: rt.prod(x, out=o), lambda x, o: rt.cumsum(x, 0, out=o),
    lambda x, o: rt.amax(x, out=o), lambda x, o: rt.norm(x, out=o),
    lambda x, o: rt.logsumexp(x, 0, out=o), lambda x, o: rt.var(x, out=o),
])
def test_out_refused_when_grad_needed(call):
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="out=... arguments don't support automatic"):
        call(x, rt.empty(0, dtype=rt.float64))
    o = rt.empty(0, dtype=rt.float64)
    r = call(x.detach(), o)
    assert r is o


def test_max_out_tuple_without_grad():
    x = rt.tensor([[1.0, 4.0], [3.0, 2.0]])
    v, i = rt.empty(0), rt.empty(0, dtype=rt.int64)
    rt.max(x, 1, out=(v, i))
    close(v.numpy(), [4, 3])
    close(i.numpy(), [1, 0])


def test_no_grad_path_records_nothing():
    x = leaf([1.0, 2.0, 3.0])
    with rt.no_grad():
        for y in (x.sum(), x.prod(), x.max(), x.cumsum(0), x.norm(), x.var(), x.logsumexp(0)):
            assert not y.requires_grad and y.grad_fn is None
        v, i = x.max(0)
        assert not v.requires_grad
