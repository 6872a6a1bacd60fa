"""Gradients of elementwise math (rt_autograd/_ops/arith.py, unary.py, complex_ops.py).

One table per arity, one line per op (like PyTorch's OpInfo): forward against numpy and
rt_tensor, ``gradcheck`` on non-contiguous and broadcast float64 inputs (complex128 where
PyTorch differentiates the op for complex), ``gradgradcheck``, the method and in-place
forms. Then PyTorch's subgradient choices by hand, digamma against reference values, complex
ops, and the error paths.
"""
import math

import numpy as np
import pytest

import rt_autograd as rt
import rt_tensor as rtt
from rt_autograd._ops import _registry
from rt_autograd.testing import gradcheck, gradgradcheck

F64 = rt.float64
C128 = rt.complex128


def _data(shape, lo, hi, cplx, seed):
    g = np.random.default_rng(seed)
    d = g.uniform(lo, hi, shape)
    if cplx:
        d = d + 1j * g.uniform(lo, hi, shape)
    return d


def leaf(shape, lo=-1.0, hi=1.0, cplx=False, seed=0, layout="contiguous"):
    """A float64 / complex128 leaf that requires grad: contiguous, transposed (built as the
    transpose of a (shape[::-1]) tensor) or sliced (every other column of a wider one)."""
    dtype = C128 if cplx else F64
    if layout == "transposed":
        base = rt.tensor(_data(tuple(shape[::-1]), lo, hi, cplx, seed), dtype=dtype)
        t = base.transpose(0, 1) if len(shape) == 2 else base
    elif layout == "sliced":
        wide = tuple(shape[:-1]) + (2 * shape[-1],)
        base = rt.tensor(_data(wide, lo, hi, cplx, seed), dtype=dtype)
        t = base[..., ::2]
    else:
        t = rt.tensor(_data(shape, lo, hi, cplx, seed), dtype=dtype)
    t.requires_grad_(True)
    assert t.is_leaf
    return t


def npy(t):
    return t.detach().numpy()


def _sgn_ref(x):
    if np.iscomplexobj(x):
        a = np.abs(x)
        return np.where(a == 0, 0, x / np.where(a == 0, 1, a))
    return np.sign(x)


_vec = np.vectorize

# ---- unary table ------------------------------------------------------------------------------
# name, domain (lo, hi), complex128 gradients checked, numpy reference
UNARY = [
    ("abs", (-1, 1), True, np.abs),
    ("absolute", (-1, 1), True, np.abs),
    ("sgn", (-1, 1), True, _sgn_ref),
    ("sign", (-1, 1), False, np.sign),
    ("sqrt", (0.2, 2), True, np.sqrt),
    ("rsqrt", (0.2, 2), False, lambda x: 1 / np.sqrt(x)),
    ("sin", (-2, 2), True, np.sin),
    ("cos", (-2, 2), True, np.cos),
    ("tan", (-1, 1), True, np.tan),
    ("asin", (-0.8, 0.8), True, np.arcsin),
    ("arcsin", (-0.8, 0.8), True, np.arcsin),
    ("acos", (-0.8, 0.8), True, np.arccos),
    ("arccos", (-0.8, 0.8), True, np.arccos),
    ("atan", (-2, 2), True, np.arctan),
    ("arctan", (-2, 2), True, np.arctan),
    ("sinh", (-2, 2), True, np.sinh),
    ("cosh", (-2, 2), True, np.cosh),
    ("tanh", (-2, 2), True, np.tanh),
    ("asinh", (-2, 2), True, np.arcsinh),
    ("arcsinh", (-2, 2), True, np.arcsinh),
    ("acosh", (1.2, 3), True, np.arccosh),
    ("arccosh", (1.2, 3), True, np.arccosh),
    ("atanh", (-0.8, 0.8), True, np.arctanh),
    ("arctanh", (-0.8, 0.8), True, np.arctanh),
    ("sigmoid", (-2, 2), True, lambda x: 1 / (1 + np.exp(-x))),
    ("relu", (-1, 1), False, lambda x: np.maximum(x, 0)),
    ("erf", (-2, 2), False, _vec(math.erf)),
    ("erfc", (-2, 2), False, _vec(math.erfc)),
    ("lgamma", (0.2, 4), False, _vec(math.lgamma)),
    ("digamma", (0.3, 4), False, None),
    ("exp", (-1, 1), True, np.exp),
    ("exp2", (-2, 2), False, np.exp2),
    ("expm1", (-2, 2), False, np.expm1),
    ("log", (0.2, 2), True, np.log),
    ("log2", (0.2, 3), False, np.log2),
    ("log10", (0.2, 3), False, np.log10),
    ("log1p", (-0.5, 2), False, np.log1p),
    ("reciprocal", (0.3, 2), True, lambda x: 1 / x),
    ("round", (-2, 2), False, np.round),
    ("floor", (-2, 2), False, np.floor),
    ("ceil", (-2, 2), False, np.ceil),
    ("trunc", (-2, 2), False, np.trunc),
    ("fix", (-2, 2), False, np.trunc),
    ("frac", (-2, 2), False, lambda x: x - np.trunc(x)),
    ("deg2rad", (-2, 2), False, np.deg2rad),
    ("rad2deg", (-2, 2), False, np.rad2deg),
    ("square", (-1, 1), True, np.square),
    ("positive", (-1, 1), True, lambda x: x),
    ("nan_to_num", (-1, 1), False, np.nan_to_num),
    ("angle", (-1, 1), True, np.angle),
    ("conj", (-1, 1), True, np.conj),
    ("neg", (-1, 1), True, np.negative),
    ("negative", (-1, 1), True, np.negative),
]
# zero-gradient ops: the gradient is exactly zero (not None)
ZERO_GRAD = {"sign", "round", "floor", "ceil", "trunc", "fix"}
# rt_tensor's in-place kernels exist for these (plus digamma_, PyTorch's)
NO_INPLACE = {"arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "deg2rad",
              "rad2deg"}
UNARY_IDS = [c[0] for c in UNARY]


@pytest.mark.parametrize("name,dom,cplx,ref", UNARY, ids=UNARY_IDS)
def test_unary_forward(name, dom, cplx, ref):
    x = leaf((2, 3), *dom, layout="transposed")
    y = getattr(rt, name)(x)
    assert y.requires_grad
    # positive, and conj of a real tensor, return the input itself (as PyTorch)
    assert y.grad_fn is not None or (name in ("positive", "conj") and y is x)
    if hasattr(rtt, name):       # rt_tensor has no digamma (checked against values below)
        plain = getattr(rtt, name)(rtt.tensor(npy(x)))
        np.testing.assert_allclose(npy(y), plain.numpy(), rtol=1e-14, atol=1e-14)
    if ref is not None:
        np.testing.assert_allclose(npy(y), ref(npy(x)), rtol=1e-12, atol=1e-12)
    # without grad: rt_tensor's result, no graph
    with rt.no_grad():
        z = getattr(rt, name)(x)
    assert not z.requires_grad and z.grad_fn is None
    np.testing.assert_allclose(z.numpy(), npy(y))
    # the method records too
    m = getattr(x, name)()
    assert m.requires_grad
    np.testing.assert_allclose(npy(m), npy(y))


@pytest.mark.parametrize("layout", ["transposed", "sliced"])
@pytest.mark.parametrize("name,dom,cplx,ref", UNARY, ids=UNARY_IDS)
def test_unary_gradcheck(name, dom, cplx, ref, layout):
    x = leaf((2, 3), *dom, layout=layout, seed=1)
    assert not x.is_contiguous()
    fn = getattr(rt, name)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name,dom,cplx,ref", [c for c in UNARY if c[2]],
                         ids=[c[0] for c in UNARY if c[2]])
def test_unary_complex(name, dom, cplx, ref):
    lo, hi = dom
    if name in ("acosh", "arccosh"):
        lo, hi = 1.2, 2.0
    else:
        lo, hi = max(lo, -0.7), min(hi, 0.7)
    z = leaf((2, 2), lo, hi, cplx=True, seed=2, layout="transposed")
    fn = getattr(rt, name)
    y = fn(z)
    if ref is not None:
        np.testing.assert_allclose(npy(y), ref(npy(z)), rtol=1e-12, atol=1e-12)
    assert gradcheck(fn, (z,))
    assert gradgradcheck(fn, (z,))


@pytest.mark.parametrize("name,dom,cplx,ref", [c for c in UNARY if c[0] not in NO_INPLACE],
                         ids=[c[0] for c in UNARY if c[0] not in NO_INPLACE])
def test_unary_inplace(name, dom, cplx, ref):
    x = leaf((2, 3), *dom, seed=3)
    y = x * 1
    out = getattr(y, name + "_")()
    assert out is y
    assert y.grad_fn is not None
    w = rt.tensor(_data((2, 3), -1, 1, False, 4), dtype=F64)
    (y * w).sum().backward()
    g_inplace = x.grad.clone()
    x.grad = None
    (getattr(rt, name)(x) * w).sum().backward()
    np.testing.assert_allclose(npy(g_inplace), npy(x.grad), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(npy(y), npy(getattr(rt, name)(x)), rtol=1e-14, atol=1e-14)
    # a leaf that requires grad refuses in-place ops, as PyTorch
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        getattr(x, name + "_")()
    # without grad: rt_tensor's kernel
    with rt.no_grad():
        v = x.detach().clone()
        getattr(v, name + "_")()
        np.testing.assert_allclose(v.numpy(), npy(y), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("name", sorted(ZERO_GRAD))
def test_zero_grad_ops(name):
    x = leaf((5,), -2, 2, seed=5)
    y = getattr(rt, name)(x)
    assert y.requires_grad and y.grad_fn is not None
    y.sum().backward()
    assert x.grad is not None
    assert npy(x.grad).tolist() == [0.0] * 5


def test_round_decimals():
    x = leaf((4,), -2, 2, seed=6)
    y = rt.round(x, decimals=2)
    np.testing.assert_allclose(npy(y), np.round(npy(x), 2))
    assert y.grad_fn.name() == "RoundBackward1"
    y.sum().backward()
    assert npy(x.grad).tolist() == [0.0] * 4
    z = x * 1
    z.round_(decimals=1)
    np.testing.assert_allclose(npy(z), np.round(npy(x), 1))


def test_frac_identity_grad_and_angle_real_zero():
    x = leaf((4,), -3, 3, seed=7)
    rt.frac(x).sum().backward()
    assert npy(x.grad).tolist() == [1.0] * 4
    x.grad = None
    rt.angle(x).sum().backward()
    assert npy(x.grad).tolist() == [0.0] * 4


# ---- binary table ----------------------------------------------------------------------------
# name, fn, domain a, domain b, complex, numpy reference, torch accepts a scalar `other`
BINARY = [
    ("add", lambda a, b: rt.add(a, b, alpha=2), (-1, 1), (-1, 1), True, lambda a, b: a + 2 * b,
     True),
    ("sub", lambda a, b: rt.sub(a, b, alpha=0.5), (-1, 1), (-1, 1), True,
     lambda a, b: a - 0.5 * b, True),
    ("subtract", rt.subtract, (-1, 1), (-1, 1), True, np.subtract, True),
    ("mul", rt.mul, (-1, 1), (-1, 1), True, np.multiply, True),
    ("multiply", rt.multiply, (-1, 1), (-1, 1), True, np.multiply, True),
    ("div", rt.div, (-1, 1), (0.5, 2), True, np.divide, True),
    ("true_divide", rt.true_divide, (-1, 1), (0.5, 2), True, np.divide, True),
    ("pow", rt.pow, (0.5, 2), (-1, 1), True, np.power, True),
    ("float_power", rt.float_power, (0.5, 2), (-1, 1), True, np.power, True),
    ("remainder", rt.remainder, (-3, 3), (0.7, 1.3), False, np.mod, True),
    ("fmod", rt.fmod, (-3, 3), (0.7, 1.3), False, np.fmod, True),
    ("atan2", rt.atan2, (-1, 1), (-1, 1), False, np.arctan2, False),
    ("arctan2", rt.arctan2, (-1, 1), (-1, 1), False, np.arctan2, False),
    ("hypot", rt.hypot, (-1, 1), (-1, 1), False, np.hypot, False),
    ("maximum", rt.maximum, (-1, 1), (-1, 1), False, np.maximum, False),
    ("minimum", rt.minimum, (-1, 1), (-1, 1), False, np.minimum, False),
    ("fmax", rt.fmax, (-1, 1), (-1, 1), False, np.fmax, False),
    ("fmin", rt.fmin, (-1, 1), (-1, 1), False, np.fmin, False),
    ("copysign", rt.copysign, (-1, 1), (-1, 1), False, np.copysign, True),
    ("xlogy", rt.xlogy, (-1, 1), (0.5, 2), False, lambda a, b: a * np.log(b), True),
    ("logaddexp", rt.logaddexp, (-1, 1), (-1, 1), False, np.logaddexp, False),
    ("clamp_min", rt.clamp_min, (-1, 1), (-1, 1), False, np.maximum, True),
    ("clamp_max", rt.clamp_max, (-1, 1), (-1, 1), False, np.minimum, True),
    ("lerp_scalar", lambda a, b: rt.lerp(a, b, 0.3), (-1, 1), (-1, 1), True,
     lambda a, b: a + 0.3 * (b - a), False),
]
BINARY_IDS = [c[0] for c in BINARY]


@pytest.mark.parametrize("name,fn,da,db,cplx,ref,scalar", BINARY, ids=BINARY_IDS)
def test_binary_forward(name, fn, da, db, cplx, ref, scalar):
    a = leaf((2, 3), *da, layout="transposed")
    b = leaf((3,), *db, seed=1)
    y = fn(a, b)
    assert y.requires_grad and y.grad_fn is not None
    np.testing.assert_allclose(npy(y), ref(npy(a), npy(b)), rtol=1e-12, atol=1e-12)
    with rt.no_grad():
        z = fn(a, b)
    assert not z.requires_grad
    np.testing.assert_allclose(z.numpy(), npy(y))


@pytest.mark.parametrize("shapes", [((2, 3), (3,)), ((2, 1), (1, 3)), ((3,), (2, 3))],
                         ids=["row", "outer", "left"])
@pytest.mark.parametrize("name,fn,da,db,cplx,ref,scalar", BINARY, ids=BINARY_IDS)
def test_binary_gradcheck(name, fn, da, db, cplx, ref, scalar, shapes):
    sa, sb = shapes
    a = leaf(sa, *da, seed=2, layout="transposed" if len(sa) == 2 and sa[1] > 1 else "sliced")
    b = leaf(sb, *db, seed=3, layout="sliced")
    assert gradcheck(fn, (a, b))
    assert gradgradcheck(fn, (a, b))
    # only one input requiring grad
    b2 = b.detach()
    assert gradcheck(lambda a: fn(a, b2), (a,))


@pytest.mark.parametrize("name,fn,da,db,cplx,ref,scalar", [c for c in BINARY if c[6]],
                         ids=[c[0] for c in BINARY if c[6]])
def test_binary_scalar_other(name, fn, da, db, cplx, ref, scalar):
    a = leaf((2, 3), *da, seed=4, layout="transposed")
    s = 0.5 * (db[0] + db[1]) + 0.05
    y = fn(a, s)
    np.testing.assert_allclose(npy(y), ref(npy(a), s), rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda a: fn(a, s), (a,))
    assert gradgradcheck(lambda a: fn(a, s), (a,))


@pytest.mark.parametrize("fn,ref", [
    (lambda s, b: rt.pow(s, b), np.power),
    (lambda s, b: rt.float_power(s, b), np.power),
    (lambda s, b: rt.xlogy(s, b), lambda s, b: s * np.log(b)),
    (lambda s, b: rt.remainder(s, b), np.mod),
    (lambda s, b: s ** b, np.power),
    (lambda s, b: s - b, np.subtract),
    (lambda s, b: s / b, np.divide),
    (lambda s, b: s % b, np.mod),
], ids=["pow", "float_power", "xlogy", "remainder", "rpow", "rsub", "rdiv", "rmod"])
def test_binary_scalar_self(fn, ref):
    b = leaf((2, 3), 0.6, 1.4, seed=5, layout="transposed")
    y = fn(1.7, b)
    np.testing.assert_allclose(npy(y), ref(1.7, npy(b)), rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda b: fn(1.7, b), (b,))
    assert gradgradcheck(lambda b: fn(1.7, b), (b,))


@pytest.mark.parametrize("name,fn,da,db,cplx,ref,scalar", [c for c in BINARY if c[4]],
                         ids=[c[0] for c in BINARY if c[4]])
def test_binary_complex(name, fn, da, db, cplx, ref, scalar):
    a = leaf((2, 2), -0.9, 0.9, cplx=True, seed=6, layout="transposed")
    b = leaf((2,), -0.9, 0.9, cplx=True, seed=7)
    np.testing.assert_allclose(npy(fn(a, b)), ref(npy(a), npy(b)), rtol=1e-12, atol=1e-12)
    assert gradcheck(fn, (a, b))
    assert gradgradcheck(fn, (a, b))
    # mixed real / complex operands: the real one gets a real gradient
    x = leaf((2,), 0.5, 1.5, seed=8)
    for args in ((x, b), (a, x)):
        out = fn(*args)
        assert out.dtype == C128
        assert gradcheck(fn, args)
        assert gradgradcheck(fn, args)
        g = rt.autograd.grad(out.abs().sum(), x)[0]
        assert g.dtype == F64
    # complex Python scalars
    if name != "lerp_scalar":
        c = 0.7 - 0.2j
        assert gradcheck(lambda a: fn(a, c), (a,))
        assert gradgradcheck(lambda a: fn(a, c), (a,))
        assert gradcheck(lambda b: fn(c, b), (b,))


BINARY_INPLACE = [c for c in BINARY if c[0] not in ("lerp_scalar", "arctan2")
                  and hasattr(rtt.Tensor, c[0] + "_")]


@pytest.mark.parametrize("name,fn,da,db,cplx,ref,scalar", BINARY_INPLACE,
                         ids=[c[0] for c in BINARY_INPLACE])
def test_binary_inplace(name, fn, da, db, cplx, ref, scalar):
    method = name + "_"
    a = leaf((2, 3), *da, seed=9)
    b = leaf((3,), *db, seed=10)
    y = a * 1
    kwargs = {"alpha": 2} if name == "add" else {"alpha": 0.5} if name == "sub" else {}
    assert getattr(y, method)(b, **kwargs) is y
    w = rt.tensor(_data((2, 3), -1, 1, False, 11), dtype=F64)
    ga, gb = rt.autograd.grad((y * w).sum(), (a, b))
    ea, eb = rt.autograd.grad((fn(a, b) * w).sum(), (a, b))
    np.testing.assert_allclose(npy(ga), npy(ea), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(npy(gb), npy(eb), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(npy(y), npy(fn(a, b)), rtol=1e-14)


# ---- ternary ---------------------------------------------------------------------------------

TERNARY = [
    ("lerp", rt.lerp, lambda a, e, w: a + w * (e - a), (0, 1)),
    ("addcmul", lambda a, t1, t2: rt.addcmul(a, t1, t2, value=0.5),
     lambda a, t1, t2: a + 0.5 * t1 * t2, (-1, 1)),
    ("addcdiv", lambda a, t1, t2: rt.addcdiv(a, t1, t2, value=-1.5),
     lambda a, t1, t2: a - 1.5 * t1 / t2, (0.5, 2)),
    ("clamp", lambda a, lo, hi: rt.clamp(a, lo - 0.5, hi + 0.5),
     lambda a, lo, hi: np.minimum(np.maximum(a, lo - 0.5), hi + 0.5), (-1, 1)),
    ("clip", lambda a, lo, hi: rt.clip(a, lo - 0.5, hi + 0.5),
     lambda a, lo, hi: np.minimum(np.maximum(a, lo - 0.5), hi + 0.5), (-1, 1)),
]


@pytest.mark.parametrize("name,fn,ref,dom3", TERNARY, ids=[c[0] for c in TERNARY])
def test_ternary(name, fn, ref, dom3):
    a = leaf((2, 3), seed=12, layout="transposed")
    b = leaf((3,), seed=13)
    c = leaf((2, 1), *dom3, seed=14)
    y = fn(a, b, c)
    np.testing.assert_allclose(npy(y), ref(npy(a), npy(b), npy(c)), rtol=1e-12, atol=1e-12)
    assert gradcheck(fn, (a, b, c))
    assert gradgradcheck(fn, (a, b, c))


@pytest.mark.parametrize("name,fn", [
    ("addcmul", lambda a, t1, t2: rt.addcmul(a, t1, t2, value=0.5j)),
    ("addcdiv", lambda a, t1, t2: rt.addcdiv(a, t1, t2 + 3, value=0.5 - 1j)),
    ("lerp_scalar_weight", lambda a, e, w: rt.lerp(a, e, 0.3 + 0.2j) * w),
])
def test_ternary_complex(name, fn):
    a = leaf((2, 2), cplx=True, seed=15, layout="transposed")
    b = leaf((2,), cplx=True, seed=16)
    c = leaf((2, 1), cplx=True, seed=17)
    assert gradcheck(fn, (a, b, c))
    assert gradgradcheck(fn, (a, b, c))


@pytest.mark.parametrize("name,args,kw", [
    ("lerp_", lambda: (leaf((3,), seed=20), leaf((3,), 0, 1, seed=21)), {}),
    ("addcmul_", lambda: (leaf((3,), seed=20), leaf((3,), seed=21)), {"value": 2}),
    ("addcdiv_", lambda: (leaf((3,), seed=20), leaf((3,), 1, 2, seed=21)), {"value": 2}),
    ("clamp_", lambda: (-0.3, 0.4), {}),
    ("clip_", lambda: (-0.3, None), {}),
    ("clamp_min_", lambda: (leaf((3,), seed=20),), {}),
    ("clamp_max_", lambda: (0.1,), {}),
    ("nan_to_num_", lambda: (), {}),
    ("float_power_", lambda: (2.5,), {}),
    ("square_", lambda: (), {}),
    ("positive_", lambda: (), {}),
])
def test_more_inplace(name, args, kw):
    x = leaf((3,), 0.1, 0.9, seed=22)
    extra = args()
    y = x * 1
    getattr(y, name)(*extra, **kw)
    tensors = (x,) + tuple(e for e in extra if isinstance(e, rt.Tensor))
    got = rt.autograd.grad(y.sum(), tensors)
    exp = rt.autograd.grad(getattr(rt, name[:-1])(x, *extra, **kw).sum(), tensors)
    for g, e in zip(got, exp):
        np.testing.assert_allclose(npy(g), npy(e), rtol=1e-12, atol=1e-12)


# ---- subgradients by hand ----------------------------------------------------------------------

def _grads(fn, *vals):
    ts = [rt.tensor(v, dtype=F64, requires_grad=True) for v in vals]
    out = fn(*ts)
    out.sum().backward()
    return [t.grad.tolist() for t in ts]


def test_maximum_minimum_ties_split():
    assert _grads(rt.maximum, [1.0, 2.0, 3.0], [1.0, 0.0, 5.0]) == \
        [[0.5, 1.0, 0.0], [0.5, 0.0, 1.0]]
    assert _grads(rt.minimum, [1.0, 2.0, 3.0], [1.0, 0.0, 5.0]) == \
        [[0.5, 0.0, 1.0], [0.5, 1.0, 0.0]]


def test_fmax_fmin_ties_and_nan():
    # ties go to self; where other is nan self gets it; where self is nan other gets it
    nan = float("nan")
    assert _grads(rt.fmax, [1.0, 2.0, nan, 1.0], [1.0, nan, 3.0, 4.0]) == \
        [[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]
    assert _grads(rt.fmin, [1.0, 2.0, nan, 1.0], [1.0, nan, 3.0, 4.0]) == \
        [[1.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0]]


def test_clamp_passes_gradient_at_bounds():
    x = [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert _grads(lambda t: rt.clamp(t, -0.5, 0.5), x) == [[0.0, 1.0, 1.0, 1.0, 0.0]]
    assert _grads(lambda t: rt.clamp(t, min=-0.5), x) == [[0.0, 1.0, 1.0, 1.0, 1.0]]
    assert _grads(lambda t: rt.clamp(t, max=0.5), x) == [[1.0, 1.0, 1.0, 1.0, 0.0]]
    assert _grads(lambda t: t.clamp_min(0.0), x) == [[0.0, 0.0, 1.0, 1.0, 1.0]]
    assert _grads(lambda t: t.clamp_max(0.0), x) == [[1.0, 1.0, 1.0, 0.0, 0.0]]
    # min > max: the result is max everywhere; no gradient for self
    assert _grads(lambda t: rt.clamp(t, 0.5, -0.5), x) == [[0.0] * 5]


def test_clamp_tensor_bounds():
    # self gets it where min <= x <= max, min where x < min (and min < max), max where
    # x > max (or max < min)
    x = [-1.0, -0.5, 0.0, 0.5, 1.0, 0.0]
    lo = [-0.5, -0.5, -0.5, -0.5, -0.5, 0.3]
    hi = [0.5, 0.5, 0.5, 0.5, 0.5, 0.1]
    gx, glo, ghi = _grads(rt.clamp, x, lo, hi)
    assert gx == [0.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    assert glo == [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert ghi == [0.0, 0.0, 0.0, 0.0, 1.0, 1.0]
    gx, glo = _grads(lambda t, m: rt.clamp(t, min=m), x, lo)
    assert gx == [0.0, 1.0, 1.0, 1.0, 1.0, 0.0] and glo == [1.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    gx, ghi = _grads(lambda t, m: rt.clamp_max(t, m), x, hi)
    assert gx == [1.0, 1.0, 1.0, 1.0, 0.0, 1.0] and ghi == [0.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    # a scalar and a tensor bound
    gx, ghi = _grads(lambda t, m: rt.clamp(t, -0.5, m), x, hi)
    assert gx == [0.0, 1.0, 1.0, 1.0, 0.0, 1.0] and ghi == [0.0, 0.0, 0.0, 0.0, 1.0, 0.0]


def test_relu_abs_sign_at_zero():
    x = [-1.0, 0.0, 2.0]
    assert _grads(rt.relu, x) == [[0.0, 0.0, 1.0]]
    assert _grads(rt.abs, x) == [[-1.0, 0.0, 1.0]]
    assert _grads(lambda t: abs(t), x) == [[-1.0, 0.0, 1.0]]
    assert _grads(rt.sign, x) == [[0.0, 0.0, 0.0]]
    assert _grads(rt.sgn, x) == [[0.0, 0.0, 0.0]]
    z = rt.tensor([0j, 3 + 4j], dtype=C128, requires_grad=True)
    z.abs().sum().backward()
    np.testing.assert_allclose(npy(z.grad), [0, 0.6 + 0.8j])


def test_pow_special_points():
    # x ** 0: zero gradient even at 0; 0 ** b: the exponent gets 0 for b >= 0
    assert _grads(lambda t: t ** 0, [0.0, 2.0]) == [[0.0, 0.0]]
    ga, gb = _grads(rt.pow, [0.0, 0.0, 2.0], [0.0, 2.0, 0.0])
    assert ga == [0.0, 0.0, 0.0]
    assert gb == [0.0, 0.0, math.log(2.0)]
    b = rt.tensor([0.0, 1.5], dtype=F64, requires_grad=True)
    rt.pow(0.0, b).sum().backward()
    assert b.grad.tolist() == [0.0, 0.0]
    # x ** 2 == square; square records PowBackward0
    assert _grads(rt.square, [3.0]) == [[6.0]]
    assert rt.square(rt.tensor([1.0], requires_grad=True)).grad_fn.name() == "PowBackward0"


def test_xlogy_at_zero():
    # self gets 0 where self == 0 and other <= 0 (PyTorch's choice); other gets self/other
    gx, gy = _grads(rt.xlogy, [0.0, 0.0, 2.0], [-1.0, 2.0, 2.0])
    assert gx == [0.0, math.log(2.0), math.log(2.0)]
    assert gy == [-0.0, 0.0, 1.0]
    assert _grads(lambda t: rt.xlogy(t, 0.0), [0.0, 1.0]) == [[0.0, -math.inf]]


def test_copysign_gradients():
    gx, gy = _grads(rt.copysign, [1.0, -2.0, 0.0], [-1.0, -1.0, 1.0])
    assert gx == [-1.0, 1.0, 0.0]
    assert gy == [0.0, 0.0, 0.0]        # a zero tensor, as PyTorch's zeros_like(other)


def test_nan_to_num_masks_non_finite():
    x = rt.tensor([1.0, math.nan, math.inf, -math.inf], dtype=F64, requires_grad=True)
    y = rt.nan_to_num(x, nan=0.5, posinf=2.0, neginf=-2.0)
    assert y.tolist() == [1.0, 0.5, 2.0, -2.0]
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0, 0.0]


def test_remainder_fmod_other_gradient():
    gx, gy = _grads(rt.remainder, [5.5, -5.5], [2.0, 2.0])
    assert gx == [1.0, 1.0] and gy == [-2.0, 3.0]
    gx, gy = _grads(rt.fmod, [5.5, -5.5], [2.0, 2.0])
    assert gx == [1.0, 1.0] and gy == [-2.0, 2.0]
    x = rt.tensor([5.5], dtype=F64, requires_grad=True)
    assert (x % 2.0).grad_fn.name() == "RemainderBackward0"


def test_floor_divide_has_no_derivative():
    x = rt.tensor([3.0, 4.0], requires_grad=True)
    y = rt.floor_divide(x, 2.0)
    assert y.tolist() == [1.0, 2.0] and y.requires_grad
    with pytest.raises(RuntimeError, match="derivative for aten::floor_divide is not implemented"):
        y.sum().backward()
    with rt.no_grad():
        assert not rt.floor_divide(x, 2.0).requires_grad


def test_lerp_weight_gradient():
    ga, ge, gw = _grads(rt.lerp, [1.0], [3.0], [0.25])
    assert ga == [0.75] and ge == [0.25] and gw == [2.0]


def test_atan2_hypot_values():
    ga, gb = _grads(rt.atan2, [1.0], [2.0])
    assert ga == pytest.approx([2.0 / 5.0]) and gb == pytest.approx([-1.0 / 5.0])
    ga, gb = _grads(rt.hypot, [3.0], [4.0])
    assert ga == pytest.approx([0.6]) and gb == pytest.approx([0.8])


# ---- digamma / lgamma -------------------------------------------------------------------------

# (x, digamma(x), trigamma(x)), 20 significant digits (mpmath)
DIGAMMA_REF = [
    (1.0, -0.57721566490153286061, 1.6449340668482264365),
    (0.5, -1.9635100260214234794, 4.9348022005446793094),
    (-0.5, 0.036489973978576520559, 8.9348022005446793094),
    (10.0, 2.2517525890667211076, 0.10516633568168574612),
    (-2.5, 1.1031566406452431872, 9.5392466449891237539),
    (1e-08, -100000000.57721564636, 10000000000000001.226),
    (200.5, 5.2983184082101461125, 0.0049999895834244773647),
    (-7.3, 4.3373073055100501422, 14.951383181433921153),
    (0.1, -10.423754940411076232, 101.4332991507927477),
    (3.7, 1.1671535393615114409, 0.31003785767003830216),
    (100000.0, 11.512920464961895087, 0.000010000050000166666667),
    (0.0025, -400.57311082571915407, 160001.63894401127653),
    (0.9, -0.7549269499470513492, 1.9225399594772034454),
    (7.25, 1.9104535268837360284, 0.14787923315893216965),
    (-10.6, 1.3865174753531619459, 10.821536931965267488),
    (50.0, 3.901989673427892197, 0.020201333226697125806),
]


def test_digamma_reference_values():
    xs = [r[0] for r in DIGAMMA_REF]
    x = rt.tensor(xs, dtype=F64, requires_grad=True)
    y = rt.digamma(x)
    y.sum().backward()
    for i, (v, psi, tri) in enumerate(DIGAMMA_REF):
        assert abs(y[i].item() - psi) <= 1e-12 * max(1.0, abs(psi)), v
        # the derivative of the composite is trigamma
        assert abs(x.grad[i].item() - tri) <= 1e-11 * abs(tri), v
    # without grad, as a method, and for integer input (float32 result, as PyTorch)
    with rt.no_grad():
        np.testing.assert_allclose(rt.digamma(x).numpy(), npy(y), rtol=0, atol=0)
    np.testing.assert_allclose(npy(x.detach().digamma()), npy(y), rtol=0, atol=0)
    yi = rt.digamma(rt.tensor([1, 2, 3]))
    assert yi.dtype == rt.float32
    np.testing.assert_allclose(yi.numpy(), [-0.5772157, 0.4227843, 0.9227843], rtol=1e-6)


def test_digamma_special_values():
    x = rt.tensor([0.0, -0.0, -1.0, -4.0, math.inf, math.nan], dtype=F64)
    y = rt.digamma(x).tolist()
    assert y[0] == -math.inf and y[1] == math.inf
    assert math.isnan(y[2]) and math.isnan(y[3])
    assert y[4] == math.inf and math.isnan(y[5])


def test_digamma_matches_lgamma_finite_differences():
    xs = [0.3, 1.7, 4.2, 12.5, -0.3, -1.6, -3.4]
    y = rt.digamma(rt.tensor(xs, dtype=F64)).tolist()
    h = 1e-5
    for v, got in zip(xs, y):
        fd = (math.lgamma(v + h) - math.lgamma(v - h)) / (2 * h)
        assert got == pytest.approx(fd, rel=1e-8, abs=1e-8)


def test_digamma_out_and_inplace():
    x = rt.tensor([0.5, 2.0], dtype=F64)
    out = rt.empty(2, dtype=F64)
    assert rt.digamma(x, out=out) is out
    np.testing.assert_allclose(out.numpy(), [-1.9635100260214235, 0.42278433509846713],
                               rtol=1e-14)
    v = x.clone()
    assert v.digamma_() is v
    np.testing.assert_allclose(v.numpy(), out.numpy())
    w = leaf((2,), 0.5, 2.0, seed=30)
    y = w * 1
    y.digamma_()
    g, = rt.autograd.grad(y.sum(), w)
    e, = rt.autograd.grad(rt.digamma(w).sum(), w)
    np.testing.assert_allclose(npy(g), npy(e), rtol=1e-14)


def test_lgamma_gradient_is_digamma():
    x = leaf((4,), 0.2, 6.0, seed=31)
    g, = rt.autograd.grad(rt.lgamma(x).sum(), x)
    h = 1e-6
    for v, got in zip(npy(x).tolist(), npy(g).tolist()):
        assert got == pytest.approx((math.lgamma(v + h) - math.lgamma(v - h)) / (2 * h),
                                    rel=1e-7)
    # twice differentiable (through the digamma composite): trigamma
    x2 = rt.tensor([1.0, 0.5], dtype=F64, requires_grad=True)
    g, = rt.autograd.grad(rt.lgamma(x2).sum(), x2, create_graph=True)
    gg, = rt.autograd.grad(g.sum(), x2)
    np.testing.assert_allclose(npy(gg), [1.6449340668482264, 4.934802200544679], rtol=1e-12)
    assert gradgradcheck(rt.lgamma, (leaf((3,), 0.3, 3.0, seed=32),))
    assert gradgradcheck(rt.digamma, (leaf((3,), -2.7, 3.0, seed=33),))


# ---- complex ------------------------------------------------------------------------------------

def test_real_imag_properties_and_functions():
    z = leaf((2, 2), cplx=True, seed=40, layout="transposed")
    r, i = z.real, z.imag
    np.testing.assert_array_equal(npy(r), npy(z).real)
    np.testing.assert_array_equal(npy(i), npy(z).imag)
    assert r.dtype == F64 and r.grad_fn is not None and i.grad_fn is not None
    np.testing.assert_array_equal(npy(rt.real(z)), npy(r))
    np.testing.assert_array_equal(npy(rt.imag(z)), npy(i))
    (3 * r + 5 * i).sum().backward()
    np.testing.assert_array_equal(npy(z.grad), np.full((2, 2), 3 + 5j))
    assert gradcheck(lambda z: z.real * z.imag, (z,))
    assert gradgradcheck(lambda z: z.real * z.imag, (z,))
    assert gradcheck(rt.imag, (z,)) and gradgradcheck(rt.real, (z,))
    # a real tensor's real part is itself; imag refuses
    x = leaf((2,), seed=41)
    assert x.real is x and rt.real(x) is x
    with pytest.raises(RuntimeError):
        x.imag
    # views, assignable as in PyTorch
    q = rt.tensor([1 + 2j, 3 - 4j])
    q.real = rt.tensor([7.0, 8.0])
    q.imag = rt.tensor([9.0, 0.5])
    assert q.tolist() == [7 + 9j, 8 + 0.5j]
    q.real[0] = 0.0
    assert q.tolist() == [9j, 8 + 0.5j]


def test_conj_angle():
    z = leaf((2, 2), cplx=True, seed=42, layout="transposed")
    np.testing.assert_array_equal(npy(rt.conj(z)), np.conj(npy(z)))
    assert rt.conj(z).grad_fn.name() == "ConjBackward0"
    for fn in (rt.conj, rt.angle, lambda t: t.conj() * t, lambda t: t.angle() * t.abs()):
        assert gradcheck(fn, (z,))
        assert gradgradcheck(fn, (z,))
    np.testing.assert_allclose(npy(rt.angle(z)), np.angle(npy(z)), rtol=1e-14)
    # angle's gradient is 0 at 0
    w = rt.tensor([0j, 1j], dtype=C128, requires_grad=True)
    rt.angle(w).sum().backward()
    np.testing.assert_allclose(npy(w.grad), [0, -1 + 0j])
    # conj of a real tensor is the tensor itself
    x = leaf((2,), seed=43)
    assert rt.conj(x) is x
    y = z * 1
    y.conj_()
    g, = rt.autograd.grad(y.real.sum(), z)
    np.testing.assert_allclose(npy(g), np.ones((2, 2)))


def test_polar_complex():
    r = leaf((3,), 0.5, 2.0, seed=44)
    th = leaf((3,), -2.0, 2.0, seed=45)
    y = rt.polar(r, th)
    np.testing.assert_allclose(npy(y), npy(r) * np.exp(1j * npy(th)), rtol=1e-14)
    assert gradcheck(rt.polar, (r, th)) and gradgradcheck(rt.polar, (r, th))
    c = rt.complex(r, th)
    np.testing.assert_array_equal(npy(c), npy(r) + 1j * npy(th))
    assert gradcheck(rt.complex, (r, th)) and gradgradcheck(rt.complex, (r, th))
    g = rt.autograd.grad(rt.complex(r, th).abs().sum(), (r, th))
    assert all(t.dtype == F64 for t in g)


def test_complex_arithmetic_chain():
    a = leaf((2, 2), cplx=True, seed=46, layout="transposed")
    b = leaf((2,), 0.5, 1.0, cplx=True, seed=47)

    def f(a, b):
        return rt.exp(a * b) / (b - 2) + rt.log(a + 3) ** b - a.abs() * 1j

    assert gradcheck(f, (a, b))
    assert gradgradcheck(f, (a, b))


# ---- dispatch, names, errors ------------------------------------------------------------------

MY_NAMES = sorted({c[0] for c in UNARY} | {c[0] for c in BINARY if c[0] != "lerp_scalar"} | {
    "lerp", "addcmul", "addcdiv", "clamp", "clip", "real", "imag", "polar", "complex",
    "add", "sub", "mul", "div"})


@pytest.mark.parametrize("name", MY_NAMES)
def test_registered_function_method_and_inplace(name):
    fn = _registry.FUNCTIONS.get(name)
    assert fn is not None and getattr(rt, name) is fn
    if hasattr(rtt.Tensor, name) and name not in ("polar", "complex"):
        assert name in _registry.METHODS
        assert rt.Tensor.__dict__[name] is _registry.METHODS[name]
    if hasattr(rtt.Tensor, name + "_"):
        assert rt.Tensor.__dict__[name + "_"] is _registry.METHODS[name + "_"]


def test_grad_fn_names():
    x = rt.tensor([0.5, 0.25], dtype=F64, requires_grad=True)
    y = rt.tensor([2.0, 3.0], dtype=F64, requires_grad=True)
    names = {
        "SinBackward0": x.sin(), "PowBackward0": x ** 2, "PowBackward1": x ** y,
        "PowBackward2": 2 ** x, "ClampBackward1": x.clamp(0, 1),
        "ClampBackward0": x.clamp(y - 2, y), "MaximumBackward0": rt.maximum(x, y),
        "RemainderBackward1": x % y, "AbsBackward0": abs(x), "ReluBackward0": x.relu(),
        "SigmoidBackward0": x.sigmoid(), "LerpBackward1": rt.lerp(x, y, x),
        "LerpBackward0": rt.lerp(x, y, 0.5), "XlogyBackward0": rt.xlogy(x, y),
        "FloorBackward0": x.floor(), "Log1PBackward0": x.log1p(),
    }
    for name, t in names.items():
        assert t.grad_fn.name() == name


def test_operators_dispatch_to_registered_ops():
    x = leaf((3,), 0.5, 1.5, seed=50)
    y = leaf((3,), 0.5, 1.5, seed=51)
    assert gradcheck(lambda a, b: a % b + abs(a - b) + a ** b + 1.5 ** a, (x, y))
    assert gradgradcheck(lambda a, b: a % b + abs(a - b) + a ** b + 1.5 ** a, (x, y))


@pytest.mark.parametrize("call", [
    lambda x, o: rt.sin(x, out=o), lambda x, o: rt.atan2(x, x, out=o),
    lambda x, o: rt.clamp(x, 0, 1, out=o), lambda x, o: rt.lerp(x, x, 0.5, out=o),
    lambda x, o: rt.digamma(x, out=o), lambda x, o: rt.angle(x, out=o),
], ids=["sin", "atan2", "clamp", "lerp", "digamma", "angle"])
def test_out_with_grad_raises(call):
    x = leaf((2,), seed=52)
    with pytest.raises(RuntimeError, match="out=... arguments don't support automatic"):
        call(x, rt.empty(2, dtype=F64))
    with rt.no_grad():
        o = rt.empty(2, dtype=F64)
        assert call(x, o) is o


def test_clamp_without_bounds_raises():
    x = leaf((2,), seed=53)
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max' must not be None"):
        rt.clamp(x)


def test_no_grad_path_has_no_graph():
    x = leaf((3,), 0.2, 0.8, seed=54)
    y = leaf((3,), 0.2, 0.8, seed=55)
    with rt.no_grad():
        for out in (rt.sin(x), rt.maximum(x, y), rt.clamp(x, 0.3), rt.lerp(x, y, x),
                    rt.pow(x, y), rt.complex(x, y).real, rt.digamma(x), rt.square(x)):
            assert not out.requires_grad and out.grad_fn is None
    # inputs that do not require grad: no graph either
    a = x.detach()
    assert rt.sin(a).grad_fn is None and rt.atan2(a, a).grad_fn is None


def test_float_power_dtypes_and_grad():
    x = rt.tensor([1.5, 2.0], dtype=rt.float32, requires_grad=True)
    y = rt.float_power(x, 2)
    assert y.dtype == F64
    y.sum().backward()
    assert x.grad.dtype == rt.float32
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])
    z = rt.float_power(x, rt.tensor([1j, 2.0]))
    assert z.dtype == C128


def test_inplace_version_check():
    x = leaf((3,), 0.2, 0.8, seed=56)
    y = x * 1
    z = y.sin()              # saves y
    y.cos_()                 # modifies it
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


@pytest.mark.parametrize("cls,extra", [("Add", (2,)), ("Sub", (0.5,)), ("Mul", ()),
                                       ("Div", (None,)), ("Pow", ())])
def test_arith_function_classes(cls, extra):
    # the core's operator table applies these classes directly (rt_autograd/__init__.py)
    from rt_autograd._ops import arith
    fn = getattr(arith, cls)
    a = leaf((2, 3), 0.5, 1.5, seed=60, layout="transposed")
    b = leaf((3,), 0.5, 1.5, seed=61)
    z = leaf((3,), 0.5, 1.5, cplx=True, seed=62)
    for args in ((a, b), (a, z), (a, 1.5), (1.5, b)):
        assert gradcheck(lambda *t: fn.apply(*t, *extra), args)
        assert gradgradcheck(lambda *t: fn.apply(*t, *extra), args)
    neg = arith.Neg.apply(z)
    np.testing.assert_array_equal(npy(neg), -npy(z))
    assert gradgradcheck(arith.Neg.apply, (z,))
    zero = arith.Div.apply(a, b, "floor")
    np.testing.assert_array_equal(npy(zero), np.floor_divide(npy(a), npy(b)))
    assert rt.autograd.grad(zero.sum(), a)[0].tolist() == [[0.0] * 3] * 2
