"""rt_autograd's public tensor functions that test_coverage.py found without a parity case,
against PyTorch 2.13, forward only (test_autograd_parity.py compares gradients): the same
call in torch and in rt on the same inputs must give the same result type, dtype, shape and
values (exactly for integer and bool results and for float results computed by an exact
formula, to 1e-12 relative otherwise), or raise the same exception type.

Random functions (bernoulli, multinomial, poisson, rand_like, randint_like, randperm) draw
from each library's own generator (rt's is counter based; see docs/differences-from-
pytorch.md), so they are compared by what PyTorch guarantees: dtype, shape, support and
moments within five standard errors.

One line of CASES per call: (id, fn(L, *inputs), input specs). L is ``torch`` or
``rt_autograd``; an input spec is a numpy array or a string "<kind>:<shape>": f float64
normal, p positive float64, u float64 in (-0.9, 0.9), i int64 in [-5, 5), n int64 in
[0, 5), b bool, c complex128.
"""
import math
import zlib

import numpy as np
import pytest

import rt_autograd as rt

torch = pytest.importorskip("torch", reason="PyTorch cannot be imported; the parity suite "
                                            "runs in `tox -e parity` (torch==2.13.0)")

RTOL, ATOL = 1e-12, 1e-14


def _make(spec, rng):
    if isinstance(spec, np.ndarray):
        return spec
    kind, _, shape = spec.partition(":")
    shape = tuple(int(s) for s in shape.split(",") if s)
    if kind == "f":
        return rng.standard_normal(shape)
    if kind == "p":
        return rng.uniform(0.5, 3.0, shape)
    if kind == "u":
        return rng.uniform(-0.9, 0.9, shape)
    if kind == "i":
        return rng.integers(-5, 5, shape)
    if kind == "n":
        return rng.integers(0, 5, shape)
    if kind == "b":
        return rng.random(shape) < 0.5
    if kind == "c":
        return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    raise ValueError(spec)


def _dtype_name(dt):
    return str(dt).rsplit(".", 1)[-1]


def _compare(r, t, where="result"):
    if isinstance(t, torch.Tensor):
        assert isinstance(r, rt.Tensor), f"{where}: rt gave {type(r).__name__}"
        assert _dtype_name(r.dtype) == _dtype_name(t.dtype), \
            f"{where}: dtype rt {_dtype_name(r.dtype)} != torch {_dtype_name(t.dtype)}"
        assert tuple(r.shape) == tuple(t.shape), f"{where}: shape {tuple(r.shape)} != " \
                                                 f"{tuple(t.shape)}"
        rn = np.array(r.detach().numpy(), copy=True)
        tn = t.detach().resolve_conj().resolve_neg().numpy()
        if tn.dtype.kind in "fc":
            np.testing.assert_allclose(rn, tn, rtol=RTOL, atol=ATOL, equal_nan=True,
                                       err_msg=where)
        else:
            np.testing.assert_array_equal(rn, tn, err_msg=where)
    elif isinstance(t, (tuple, list)):
        assert isinstance(r, (tuple, list)) and len(r) == len(t), f"{where}: {r!r} vs {t!r}"
        for i, (a, b) in enumerate(zip(r, t)):
            _compare(a, b, f"{where}[{i}]")
        if hasattr(t, "_fields"):                    # named tuples: the same field names
            assert tuple(getattr(r, "_fields", ())) == t._fields, where
    else:
        assert r == t, f"{where}: rt {r!r} != torch {t!r}"


A34 = np.arange(12.0).reshape(3, 4)
SORTED = np.array([-2.0, -0.5, 0.0, 1.0, 1.0, 3.5])
SPECIAL = np.array([-np.inf, -2.5, -0.0, 0.0, 1.5, np.inf, np.nan])

CASES = [
    # trigonometric and hyperbolic aliases, special functions
    ("absolute", lambda L, x: L.absolute(x), ["f:3,4"]),
    ("acos", lambda L, x: L.acos(x), ["u:5"]),
    ("arccos", lambda L, x: L.arccos(x), ["u:5"]),
    ("arcsin", lambda L, x: L.arcsin(x), ["u:5"]),
    ("arctan", lambda L, x: L.arctan(x), ["f:5"]),
    ("arctan2", lambda L, x, y: L.arctan2(x, y), ["f:3,1", "f:4"]),
    ("acosh", lambda L, x: L.acosh(x + 1.0), ["p:5"]),
    ("arccosh", lambda L, x: L.arccosh(x + 1.0), ["p:5"]),
    ("asinh", lambda L, x: L.asinh(x), ["f:5"]),
    ("arcsinh", lambda L, x: L.arcsinh(x), ["f:5"]),
    ("atanh", lambda L, x: L.atanh(x), ["u:5"]),
    ("arctanh", lambda L, x: L.arctanh(x), ["u:5"]),
    ("cosh", lambda L, x: L.cosh(x), ["f:5"]),
    ("deg2rad", lambda L, x: L.deg2rad(x * 90), ["f:5"]),
    ("rad2deg", lambda L, x: L.rad2deg(x), ["f:5"]),
    ("digamma", lambda L, x: L.digamma(x), ["p:6"]),
    ("lgamma", lambda L, x: L.lgamma(x), [np.array([0.1, 0.5, 1.0, 2.5, 7.0, -0.5, -2.5])]),
    ("erfc", lambda L, x: L.erfc(x), ["f:6"]),
    ("exp2", lambda L, x: L.exp2(x), ["f:6"]),
    ("exp2-int", lambda L, x: L.exp2(x), [np.array([0, 3, -2])]),
    ("log10", lambda L, x: L.log10(x), ["p:6"]),
    ("fix", lambda L, x: L.fix(x * 3), ["f:6"]),
    ("sgn-complex", lambda L, x: L.sgn(x), ["c:5"]),
    ("sgn-real", lambda L, x: L.sgn(x), [SPECIAL[:-1]]),
    ("signbit", lambda L, x: L.signbit(x), [SPECIAL]),
    ("copysign", lambda L, x, y: L.copysign(x, y), ["f:3,4", SPECIAL[1:5]]),
    ("angle-real", lambda L, x: L.angle(x), [SPECIAL[1:-1]]),
    ("angle-complex", lambda L, x: L.angle(x), ["c:5"]),
    ("polar", lambda L, r, a: L.polar(r, a), ["p:4", "f:4"]),
    ("isfinite", lambda L, x: L.isfinite(x), [SPECIAL]),
    ("negative", lambda L, x: L.negative(x), ["i:5"]),
    ("positive", lambda L, x: L.positive(x), ["f:5"]),
    ("frac", lambda L, x: L.frac(x * 3), ["f:6"]),
    ("isinf", lambda L, x: L.isinf(x), [SPECIAL]),
    ("isnan", lambda L, x: L.isnan(x), [SPECIAL]),
    ("isneginf", lambda L, x: L.isneginf(x), [SPECIAL]),
    ("isposinf", lambda L, x: L.isposinf(x), [SPECIAL]),
    ("nan_to_num", lambda L, x: L.nan_to_num(x), [SPECIAL]),
    ("nan_to_num-values", lambda L, x: L.nan_to_num(x, nan=0.5, posinf=9.0, neginf=-9.0),
     [SPECIAL]),
    ("float_power", lambda L, x, y: L.float_power(x, y), ["p:4", "i:4"]),
    ("float_power-int", lambda L, x: L.float_power(x, 2), ["i:5"]),
    ("bitwise_not", lambda L, x: L.bitwise_not(x), ["i:6"]),
    ("bitwise_not-bool", lambda L, x: L.bitwise_not(x), ["b:6"]),
    ("complex", lambda L, x, y: L.complex(x, y), ["f:4", "f:4"]),
    ("conj", lambda L, x: L.conj(x), ["c:4"]),
    ("conj-real", lambda L, x: L.conj(x), ["f:4"]),
    ("is_floating_point", lambda L, x, y: (L.is_floating_point(x), L.is_floating_point(y)),
     ["f:2", "i:2"]),
    # arithmetic aliases and pow
    ("divide-floor", lambda L, x, y: L.divide(x, y, rounding_mode="floor"), ["f:4", "p:4"]),
    ("divide-trunc-int", lambda L, x, y: L.divide(x, y + 1, rounding_mode="trunc"),
     ["i:6", "n:6"]),
    ("true_divide-int", lambda L, x, y: L.true_divide(x, y + 1), ["i:6", "n:6"]),
    ("multiply", lambda L, x, y: L.multiply(x, y), ["f:3,4", "i:4"]),
    ("subtract-alpha", lambda L, x, y: L.subtract(x, y, alpha=2.5), ["f:3,4", "f:3,4"]),
    ("pow-tensor", lambda L, x, y: L.pow(x, y), ["p:3,4", "f:3,4"]),
    ("pow-scalar-base", lambda L, x: L.pow(2.0, x), ["f:5"]),
    ("pow-int", lambda L, x, y: L.pow(x, y), ["i:6", "n:6"]),
    ("fmax-nan", lambda L, x, y: L.fmax(x, y), [SPECIAL, SPECIAL[::-1]]),
    ("fmin-nan", lambda L, x, y: L.fmin(x, y), [SPECIAL, SPECIAL[::-1]]),
    ("clamp_max", lambda L, x: L.clamp_max(x, 0.3), ["f:3,4"]),
    ("clip", lambda L, x, lo: L.clip(x, min=lo, max=lo + 0.5), ["f:3,4", "u:4"]),
    ("clip-int", lambda L, x: L.clip(x, -2, 3), ["i:8"]),
    # comparisons and logic
    ("eq", lambda L, x, y: L.eq(x, y), ["i:3,4", "i:4"]),
    ("ne", lambda L, x, y: L.ne(x, y), ["i:3,4", "i:4"]),
    ("not_equal", lambda L, x, y: L.not_equal(x, y), ["i:6", "i:6"]),
    ("gt", lambda L, x, y: L.gt(x, y), ["f:3,4", "f:4"]),
    ("greater", lambda L, x: L.greater(x, 0.0), ["f:6"]),
    ("ge", lambda L, x, y: L.ge(x, y), ["i:6", "i:6"]),
    ("greater_equal", lambda L, x, y: L.greater_equal(x, y), ["i:6", "f:6"]),
    ("le", lambda L, x, y: L.le(x, y), ["f:6", "f:6"]),
    ("less", lambda L, x, y: L.less(x, y), ["i:6", "i:6"]),
    ("lt", lambda L, x, y: L.lt(x, y), ["f:3,4", "i:4"]),
    ("less_equal", lambda L, x: L.less_equal(x, 1), ["i:6"]),
    ("logical_and", lambda L, x, y: L.logical_and(x, y), ["b:3,4", "i:4"]),
    ("logical_or", lambda L, x, y: L.logical_or(x, y), ["b:6", "b:6"]),
    ("logical_xor", lambda L, x, y: L.logical_xor(x, y), ["f:6", "i:6"]),
    ("logical_not", lambda L, x: L.logical_not(x), ["i:6"]),
    ("bitwise_and", lambda L, x, y: L.bitwise_and(x, y), ["i:3,4", "i:4"]),
    ("bitwise_or", lambda L, x, y: L.bitwise_or(x, y), ["i:6", "n:6"]),
    ("bitwise_xor-bool", lambda L, x, y: L.bitwise_xor(x, y), ["b:6", "b:6"]),
    ("bitwise_left_shift", lambda L, x, y: L.bitwise_left_shift(x, y), ["i:6", "n:6"]),
    ("bitwise_right_shift", lambda L, x, y: L.bitwise_right_shift(x, y), ["i:6", "n:6"]),
    ("is_nonzero", lambda L, x: L.is_nonzero(x), [np.array([0.5])]),
    ("is_nonzero-zero", lambda L, x: L.is_nonzero(x), [np.array(0)]),
    ("is_tensor", lambda L, x: (L.is_tensor(x), L.is_tensor(1.0)), ["f:2"]),
    # reductions and scans
    ("aminmax", lambda L, x: L.aminmax(x, dim=1), ["f:3,4"]),
    ("amin", lambda L, x: L.amin(x, dim=(0, 2)), ["f:2,3,4"]),
    ("argmin", lambda L, x: L.argmin(x, dim=1, keepdim=True), ["i:3,5"]),
    ("argsort-stable", lambda L, x: L.argsort(x, dim=1, stable=True), ["i:3,6"]),
    ("argsort-descending", lambda L, x: L.argsort(x, descending=True), ["f:7"]),
    ("std_mean", lambda L, x: L.std_mean(x, dim=1), ["f:3,5"]),
    ("var_mean", lambda L, x: L.var_mean(x, dim=0, correction=0, keepdim=True), ["f:4,3"]),
    ("aminmax-all", lambda L, x: L.aminmax(x), ["i:3,4"]),
    ("count_nonzero", lambda L, x: L.count_nonzero(x, dim=0), ["n:4,3"]),
    ("count_nonzero-dims", lambda L, x: L.count_nonzero(x, dim=(0, 2)), ["n:2,3,4"]),
    ("cummax", lambda L, x: L.cummax(x, dim=1), ["i:3,5"]),
    ("cummin", lambda L, x: L.cummin(x, dim=0), ["f:4,3"]),
    ("logcumsumexp", lambda L, x: L.logcumsumexp(x, dim=1), ["f:3,5"]),
    ("kthvalue", lambda L, x: L.kthvalue(x, 2, dim=1), ["f:3,5"]),
    ("kthvalue-keepdim", lambda L, x: L.kthvalue(x, 3, 0, True), ["f:5,2"]),
    ("nanmean", lambda L, x: L.nanmean(x, dim=0), [np.array([[1.0, np.nan], [3.0, 4.0]])]),
    ("nansum", lambda L, x: L.nansum(x), [np.array([[1.0, np.nan], [3.0, 4.0]])]),
    ("nanmedian", lambda L, x: L.nanmedian(x, dim=1),
     [np.array([[1.0, np.nan, 2.0, 5.0], [np.nan, 0.5, np.nan, 1.0], [3.0, 1.0, 2.0, 0.0]])]),
    # an all-NaN row: the value is NaN; which NaN's index torch returns is not specified
    # (its selection algorithm's order), so only the values are compared
    ("nanmedian-all-nan", lambda L, x: L.nanmedian(x, dim=1).values,
     [np.array([[np.nan] * 4, [1.0, 2.0, np.nan, np.nan]])]),
    ("histc", lambda L, x: L.histc(x, bins=5, min=-2, max=2), ["f:40"]),
    ("msort", lambda L, x: L.msort(x), ["f:4,3"]),
    ("unique_consecutive", lambda L, x: L.unique_consecutive(x, return_inverse=True,
                                                             return_counts=True),
     [np.array([1, 1, 2, 2, 3, 1, 1, 2])]),
    ("bucketize", lambda L, x, b: L.bucketize(x, b), ["f:3,4", SORTED]),
    ("bucketize-right-int32", lambda L, x, b: L.bucketize(x, b, out_int32=True, right=True),
     ["f:6", SORTED]),
    # products
    ("addbmm", lambda L, m, a, b: L.addbmm(m, a, b, beta=0.5, alpha=2.0),
     ["f:3,4", "f:2,3,5", "f:2,5,4"]),
    ("addmv", lambda L, v, m, x: L.addmv(v, m, x, alpha=-1.0), ["f:3", "f:3,4", "f:4"]),
    ("mv", lambda L, m, x: L.mv(m, x), ["f:3,4", "f:4"]),
    ("baddbmm", lambda L, m, a, b: L.baddbmm(m, a, b, beta=0.25, alpha=-1.5),
     ["f:2,3,4", "f:2,3,5", "f:2,5,4"]),
    ("dot", lambda L, x, y: L.dot(x, y), ["f:5", "f:5"]),
    ("dot-int", lambda L, x, y: L.dot(x, y), ["i:5", "i:5"]),
    ("vdot-complex", lambda L, x, y: L.vdot(x, y), ["c:4", "c:4"]),
    ("inner", lambda L, x, y: L.inner(x, y), ["f:2,3", "f:4,3"]),
    ("ger", lambda L, x, y: L.ger(x, y), ["f:3", "f:4"]),
    ("kron", lambda L, x, y: L.kron(x, y), ["f:2,3", "i:2,2"]),
    ("tensordot", lambda L, x, y: L.tensordot(x, y, dims=([1, 2], [0, 1])),
     ["f:2,3,4", "f:3,4,5"]),
    ("tensordot-int", lambda L, x, y: L.tensordot(x, y, dims=1), ["f:2,3", "f:3,4"]),
    ("cartesian_prod", lambda L, x, y: L.cartesian_prod(x, y), ["i:3", "i:2"]),
    ("block_diag", lambda L, x, y: L.block_diag(x, y), ["f:2,3", "f:1,2"]),
    # construction
    ("as_tensor", lambda L, x: L.as_tensor(x.tolist(), dtype=L.float32), ["f:2,3"]),
    ("scalar_tensor", lambda L: L.scalar_tensor(2.5, dtype=L.float64), []),
    ("full_like", lambda L, x: L.full_like(x, 7), ["f:2,3"]),
    ("full_like-dtype", lambda L, x: L.full_like(x, 2.5, dtype=L.int32), ["f:2,3"]),
    ("logspace", lambda L: L.logspace(-2, 2, 5, dtype=L.float64), []),
    ("logspace-base2", lambda L: L.logspace(0, 4, 5, base=2.0), []),
    ("empty_strided", lambda L: L.empty_strided((2, 3), (1, 2)).stride(), []),
    ("frombuffer", lambda L: L.frombuffer(bytearray(np.arange(4, dtype=np.int16).tobytes()),
                                          dtype=L.int16), []),
    ("diagflat", lambda L, x: L.diagflat(x, offset=1), ["f:2,2"]),
    ("diag-vector", lambda L, x: L.diag(x, -1), ["f:3"]),
    ("diag-matrix", lambda L, x: L.diag(x, 1), ["f:3,4"]),
    ("empty_like", lambda L, x: (L.empty_like(x).shape, L.empty_like(x, dtype=L.int16).dtype
                                 == L.int16), ["f:2,3"]),
    ("from_dlpack-numpy", lambda L, x: L.from_dlpack(x.numpy()[:, ::2]), ["f:3,4"]),
    ("diag_embed", lambda L, x: L.diag_embed(x, offset=-1), ["f:2,3"]),
    ("atleast_1d", lambda L, x: L.atleast_1d(x), [np.array(3.0)]),
    ("atleast_2d", lambda L, x, y: L.atleast_2d(x, y), [np.array(3.0), "f:4"]),
    ("atleast_3d", lambda L, x, y: L.atleast_3d(x, y), ["f:4", "f:2,3"]),
    ("meshgrid-ij", lambda L, x, y: L.meshgrid(x, y, indexing="ij"), ["f:3", "f:2"]),
    ("meshgrid-xy", lambda L, x, y: L.meshgrid(x, y, indexing="xy"), ["f:3", "f:2"]),
    # shapes, joins and splits
    ("broadcast_shapes", lambda L: tuple(L.broadcast_shapes((3, 1), (1, 4), (4,))), []),
    ("broadcast_tensors", lambda L, x, y: L.broadcast_tensors(x, y), ["f:3,1", "f:4"]),
    ("broadcast_to", lambda L, x: L.broadcast_to(x, (2, 3, 4)), ["f:3,1"]),
    ("concat", lambda L, x, y: L.concat([x, y], dim=1), ["f:2,3", "f:2,1"]),
    ("column_stack", lambda L, x, y: L.column_stack([x, y]), ["f:3", "f:3,2"]),
    ("hstack", lambda L, x, y: L.hstack([x, y]), ["f:3", "f:2"]),
    ("vstack", lambda L, x, y: L.vstack([x, y]), ["f:3", "f:2,3"]),
    ("row_stack", lambda L, x, y: L.row_stack([x, y]), ["f:3", "f:3"]),
    ("dstack", lambda L, x, y: L.dstack([x, y]), ["f:2,3", "f:2,3"]),
    ("tensor_split-sections", lambda L, x: L.tensor_split(x, 3, dim=1), ["f:2,7"]),
    ("tensor_split-indices", lambda L, x: L.tensor_split(x, [1, 4]), ["f:6"]),
    ("moveaxis", lambda L, x: L.moveaxis(x, [0, 1], [2, 0]), ["f:2,3,4"]),
    ("movedim", lambda L, x: L.movedim(x, 2, 0), ["f:2,3,4"]),
    ("select", lambda L, x: L.select(x, 1, -1), ["f:2,3,4"]),
    ("unflatten", lambda L, x: L.unflatten(x, 1, (2, -1)), ["f:3,6"]),
    ("as_strided", lambda L, x: L.as_strided(x, (3, 2), (1, 3), 2), ["f:12"]),
    ("take_along_dim", lambda L, x: L.take_along_dim(x, L.argsort(x, dim=1), dim=1),
     ["f:3,4"]),
    ("take_along_dim-flat", lambda L, x: L.take_along_dim(x, L.tensor([0, 11, 3])), ["f:3,4"]),
    ("swapaxes", lambda L, x: L.swapaxes(x, 0, 2), ["f:2,3,4"]),
    ("swapdims", lambda L, x: L.swapdims(x, -1, 1), ["f:2,3,4"]),
    ("fliplr", lambda L, x: L.fliplr(x), ["f:3,4"]),
    ("flipud", lambda L, x: L.flipud(x), ["f:3,4"]),
    ("rot90", lambda L, x: L.rot90(x, 3, [1, 2]), ["f:2,3,4"]),
    ("tile", lambda L, x: L.tile(x, (2, 1, 3)), ["f:2,3"]),
    ("repeat_interleave", lambda L, x: L.repeat_interleave(x, 2, dim=0), ["f:2,3"]),
    ("repeat_interleave-tensor", lambda L, x, r: L.repeat_interleave(x, r, dim=1),
     ["f:2,3", np.array([1, 0, 3])]),
    ("constant_pad_nd", lambda L, x: L.constant_pad_nd(x, [1, 2, 0, 1], 9.0), ["f:2,3"]),
    ("argwhere", lambda L, x: L.argwhere(x), ["n:3,4"]),
    # indexing and scatter
    ("index_add", lambda L, x, s: L.index_add(x, 0, L.tensor([0, 2, 0]), s, alpha=2),
     ["f:3,4", "f:3,4"]),
    ("index_copy", lambda L, x, s: L.index_copy(x, 1, L.tensor([3, 0]), s), ["f:3,4", "f:3,2"]),
    ("index_fill", lambda L, x: L.index_fill(x, 1, L.tensor([1, 3]), -1.5), ["f:3,4"]),
    ("index_put-accumulate", lambda L, x, v: L.index_put(x, (L.tensor([0, 2, 0]),
                                                             L.tensor([1, 1, 1])), v, True),
     ["f:3,4", "f:3"]),
    ("index_put_", lambda L, x, v: L.index_put_(x.clone(), (L.tensor([2, 0]),), v),
     ["f:3,4", "f:4"]),
    ("masked_select", lambda L, x, m: L.masked_select(x, m), ["f:3,4", "b:4"]),
    ("masked_scatter", lambda L, x, m, s: L.masked_scatter(x, m, s), ["f:3,4", "b:3,4",
                                                                     "f:12"]),
    ("put", lambda L, x, s: L.put(x, L.tensor([0, 5, 11]), s), ["f:3,4", "f:3"]),
    ("put-accumulate", lambda L, x, s: L.put(x, L.tensor([1, 1, 2]), s, accumulate=True),
     ["f:2,2", "f:3"]),
    ("take", lambda L, x: L.take(x, L.tensor([[0, 11], [5, 5]])), ["f:3,4"]),
    ("scatter", lambda L, x, s: L.scatter(x, 1, L.tensor([[0, 3], [2, 1], [1, 1]]), s),
     ["f:3,4", "f:3,2"]),
    ("scatter-value-reduce", lambda L, x: L.scatter(x, 0, L.tensor([[2, 0, 1, 2]]), 1.5,
                                                    reduce="multiply"), ["f:3,4"]),
    ("scatter_add", lambda L, x, s: L.scatter_add(x, 0, L.tensor([[2, 0, 1, 2], [2, 2, 0, 0]]),
                                                  s), ["f:3,4", "f:2,4"]),
    ("scatter_reduce-amax", lambda L, x, s: L.scatter_reduce(
        x, 1, L.tensor([[0, 0, 3], [1, 2, 1]]), s, "amax"), ["f:2,4", "f:2,3"]),
    ("scatter_reduce-mean-noself", lambda L, x, s: L.scatter_reduce(
        x, 1, L.tensor([[0, 0, 3], [1, 2, 1]]), s, "mean", include_self=False),
     ["f:2,4", "f:2,3"]),
    ("scatter_reduce-prod", lambda L, x, s: L.scatter_reduce(
        x, 0, L.tensor([1, 1, 0]), s, "prod"), ["f:3", "f:3"]),
    # exceptions of PyTorch's type
    ("error-dot-sizes", lambda L, x, y: L.dot(x, y), ["f:3", "f:4"]),
    ("error-is_nonzero-many", lambda L, x: L.is_nonzero(x), ["f:2"]),
    ("error-kthvalue-k", lambda L, x: L.kthvalue(x, 9), ["f:3"]),
    ("error-tile-dims", lambda L, x: L.broadcast_to(x, (2,)), ["f:3"]),
    ("error-bitwise-float", lambda L, x, y: L.bitwise_and(x, y), ["f:3", "f:3"]),
]


KNOWN_BUGS = {}        # case id -> the rt bug it shows (strict xfail); none open


def _params(cases):
    return [pytest.param(*c, id=c[0], marks=[pytest.mark.xfail(strict=True,
                                                               reason=KNOWN_BUGS[c[0]])]
                         if c[0] in KNOWN_BUGS else []) for c in cases]


@pytest.mark.parametrize("name,fn,specs", _params(CASES))
def test_op_matches_pytorch(name, fn, specs):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    arrays = [_make(s, rng) for s in specs]
    try:
        want = fn(torch, *[torch.from_numpy(np.array(a, copy=True)) for a in arrays])
    except Exception as exc:
        assert name.startswith("error-"), f"torch raised {exc!r}"
        with pytest.raises(type(exc)):
            fn(rt, *[rt.from_numpy(np.array(a, copy=True)) for a in arrays])
        return
    assert not name.startswith("error-"), "torch did not raise"
    got = fn(rt, *[rt.from_numpy(np.array(a, copy=True)) for a in arrays])
    _compare(got, want)


@pytest.mark.parametrize("args,kwargs", [((1, 4, 0.5), {}), ((0, 6, 2), {"dtype": "int64"}),
                                         ((3, -1, -1.5), {})])
def test_deprecated_range_includes_its_end_and_warns_like_torch(args, kwargs):
    results = []
    for L in (torch, rt):
        kw = {k: getattr(L, v) for k, v in kwargs.items()}
        with pytest.warns(UserWarning) as record:
            out = L.range(*args, **kw)
        results.append((out, [str(w.message) for w in record]))
    (want, t_msgs), (got, r_msgs) = results
    _compare(got, want)
    assert r_msgs == t_msgs


@pytest.mark.parametrize("L", [torch, rt], ids=["torch", "rt"])
def test_default_dtype_governs_factories_like_torch(L):
    assert L.get_default_dtype() == L.float32
    try:
        L.set_default_dtype(L.float64)
        got = [_dtype_name(t.dtype) for t in (L.tensor([1.5]), L.zeros(2), L.arange(0.0, 1.0),
                                               L.tensor([1 + 1j]), L.tensor([1]),
                                               L.linspace(0, 1, 3), L.full((1,), 2.5))]
        assert got == ["float64", "float64", "float64", "complex128", "int64", "float64",
                       "float64"]
        assert L.get_default_dtype() == L.float64
        with pytest.raises(TypeError):
            L.set_default_dtype(L.int32)                # only floating types
    finally:
        L.set_default_dtype(L.float32)
    assert _dtype_name(L.tensor([1.5]).dtype) == "float32"


@pytest.mark.parametrize("L", [torch, rt], ids=["torch", "rt"])
def test_grad_mode_queries_like_torch(L):
    seen = [L.is_grad_enabled(), L.is_inference_mode_enabled()]
    with L.no_grad():
        seen += [L.is_grad_enabled(), L.is_inference_mode_enabled()]
        with L.enable_grad():
            seen.append(L.is_grad_enabled())
    with L.inference_mode():
        seen += [L.is_grad_enabled(), L.is_inference_mode_enabled()]
        with L.inference_mode(False):
            seen.append(L.is_inference_mode_enabled())
    with L.set_grad_enabled(False):
        seen.append(L.is_grad_enabled())
    seen.append(L.is_grad_enabled())
    assert seen == [True, False, False, False, True, False, True, False, False, True]


# -- random functions: same dtype, shape and support; moments within 5 standard errors ----------
def _moments_close(sample, mean, var, n):
    assert abs(sample.mean() - mean) < 5 * math.sqrt(var / n) + 1e-12, (sample.mean(), mean)
    assert abs(sample.var() - var) < 5 * math.sqrt(2 * var * var / n) + 0.05 * var, \
        (sample.var(), var)


@pytest.mark.parametrize("L", [torch, rt], ids=["torch", "rt"])
def test_random_functions_follow_their_distributions(L):
    L.manual_seed(0)
    n = 200_000
    p = L.full((n,), 0.3, dtype=L.float64)
    b = L.bernoulli(p)
    assert _dtype_name(b.dtype) == "float64" and set(np.unique(b.numpy())) == {0.0, 1.0}
    _moments_close(b.numpy(), 0.3, 0.21, n)
    rates = L.full((n,), 4.0)
    po = L.poisson(rates)
    assert _dtype_name(po.dtype) == "float32" and (po.numpy() == np.round(po.numpy())).all()
    _moments_close(po.numpy().astype(np.float64), 4.0, 4.0, n)
    weights = L.tensor([1.0, 0.0, 3.0])
    draws = L.multinomial(weights, 60_000, replacement=True)
    assert _dtype_name(draws.dtype) == "int64" and tuple(draws.shape) == (60_000,)
    freq = np.bincount(draws.numpy(), minlength=3) / 60_000
    assert freq[1] == 0 and abs(freq[0] - 0.25) < 0.01
    without = L.multinomial(L.tensor([[1.0, 2.0, 3.0, 4.0]]), 4)
    assert sorted(without.numpy()[0].tolist()) == [0, 1, 2, 3]    # a permutation, no repeats
    u = L.rand(n, dtype=L.float64)
    _moments_close(u.numpy(), 0.5, 1 / 12, n)
    g = L.randn_like(u)
    assert _dtype_name(g.dtype) == "float64"
    _moments_close(g.numpy(), 0.0, 1.0, n)
    ref = L.zeros(3, 4, dtype=L.float64)
    r = L.rand_like(ref)
    assert _dtype_name(r.dtype) == "float64" and tuple(r.shape) == (3, 4)
    assert (r.numpy() >= 0).all() and (r.numpy() < 1).all()
    ri = L.randint_like(ref, 3, 7)
    assert _dtype_name(ri.dtype) == "float64" and set(np.unique(ri.numpy())) <= {3, 4, 5, 6}
    perm = L.randperm(50)
    assert _dtype_name(perm.dtype) == "int64" and sorted(perm.numpy().tolist()) == list(range(50))
    assert _dtype_name(L.randperm(5, dtype=L.int32).dtype) == "int32"


def test_random_functions_are_reproducible_under_seeds():
    for fn in (lambda: rt.bernoulli(rt.full((100,), 0.5)), lambda: rt.randperm(30),
               lambda: rt.multinomial(rt.ones(5), 3), lambda: rt.poisson(rt.ones(10)),
               lambda: rt.rand_like(rt.zeros(4)), lambda: rt.randint_like(rt.zeros(4), 9)):
        rt.manual_seed(11)
        a = fn().numpy().copy()
        rt.manual_seed(11)
        assert np.array_equal(fn().numpy(), a)
