"""Activations: every module and its functional form against numpy (float64 and float32),
gradcheck and gradgradcheck (float64, away from kinks), PyTorch's subgradients at the kinks,
in-place variants, extra_repr, PReLU's parameter, dtypes and PyTorch's errors."""
import math

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
import rt_nn.functional as F
from rt_autograd.testing import gradcheck, gradgradcheck

_erf = np.vectorize(math.erf)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _np(t):
    return np.array(t.detach().numpy(), copy=True)


def _sig(a):
    return 1 / (1 + np.exp(-a))


def _softplus(a, beta=1.0, threshold=20.0):
    with np.errstate(over="ignore"):
        return np.where(a * beta > threshold, a, np.log1p(np.exp(a * beta)) / beta)


def _gelu_tanh(a):
    return 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a ** 3)))


def _glu(a, dim=-1):
    x1, x2 = np.split(a, 2, axis=dim)
    return x1 * _sig(x2)


def _prelu_ref(m, a):
    w = _np(m.weight)
    w = w.reshape((-1,) + (1,) * (a.ndim - 2)) if w.size > 1 else w.reshape(())
    return np.where(a > 0, a, w * a)


# name, constructor, input shape, numpy reference of forward, kinks (inputs avoid them for
# gradcheck)
ACTS = [
    ("ReLU", lambda: nn.ReLU(), (3, 4), lambda m, a: np.maximum(a, 0), [0]),
    ("ReLU6", lambda: nn.ReLU6(), (3, 4), lambda m, a: np.clip(a, 0, 6), [0, 6]),
    ("LeakyReLU", lambda: nn.LeakyReLU(0.2), (3, 4), lambda m, a: np.where(a > 0, a, 0.2 * a),
     [0]),
    ("PReLU", lambda: nn.PReLU(), (3, 4), _prelu_ref, [0]),
    ("PReLU-channels", lambda: nn.PReLU(3, init=0.1), (2, 3, 4), _prelu_ref, [0]),
    ("PReLU-channels-kernel", lambda: nn.PReLU(3, init=0.1), (2, 3, 4, 5), _prelu_ref, [0]),
    ("PReLU-one-kernel", lambda: nn.PReLU(), (2, 3, 4, 5), _prelu_ref, [0]),
    ("ELU", lambda: nn.ELU(), (3, 4), lambda m, a: np.where(a > 0, a, np.expm1(a)), [0]),
    ("ELU-alpha", lambda: nn.ELU(alpha=0.5), (3, 4),
     lambda m, a: np.where(a > 0, a, 0.5 * np.expm1(a)), [0]),
    ("SELU", lambda: nn.SELU(), (3, 4),
     lambda m, a: SELU_SCALE * np.where(a > 0, a, SELU_ALPHA * np.expm1(a)), [0]),
    ("CELU", lambda: nn.CELU(alpha=2.0), (3, 4),
     lambda m, a: np.maximum(a, 0) + np.minimum(0, 2.0 * np.expm1(a / 2.0)), [0]),
    ("GELU", lambda: nn.GELU(), (3, 4), lambda m, a: 0.5 * a * (1 + _erf(a / math.sqrt(2))), []),
    ("GELU-tanh", lambda: nn.GELU(approximate="tanh"), (3, 4), lambda m, a: _gelu_tanh(a), []),
    ("SiLU", lambda: nn.SiLU(), (3, 4), lambda m, a: a * _sig(a), []),
    ("Mish", lambda: nn.Mish(), (3, 4), lambda m, a: a * np.tanh(np.log1p(np.exp(a))), []),
    ("Softplus", lambda: nn.Softplus(), (3, 4), lambda m, a: _softplus(a), []),
    ("Softplus-beta", lambda: nn.Softplus(beta=2.0, threshold=3.0), (3, 4),
     lambda m, a: _softplus(a, 2.0, 3.0), [1.5]),
    ("Softsign", lambda: nn.Softsign(), (3, 4), lambda m, a: a / (1 + np.abs(a)), [0]),
    ("Hardtanh", lambda: nn.Hardtanh(-0.5, 1.5), (3, 4), lambda m, a: np.clip(a, -0.5, 1.5),
     [-0.5, 1.5]),
    ("Hardswish", lambda: nn.Hardswish(), (3, 4), lambda m, a: a * np.clip(a + 3, 0, 6) / 6,
     [-3, 3]),
    ("Hardsigmoid", lambda: nn.Hardsigmoid(), (3, 4), lambda m, a: np.clip(a + 3, 0, 6) / 6,
     [-3, 3]),
    ("Sigmoid", lambda: nn.Sigmoid(), (3, 4), lambda m, a: _sig(a), []),
    ("Tanh", lambda: nn.Tanh(), (3, 4), lambda m, a: np.tanh(a), []),
    ("Threshold", lambda: nn.Threshold(0.1, 20.0), (3, 4),
     lambda m, a: np.where(a > 0.1, a, 20.0), [0.1]),
    ("GLU", lambda: nn.GLU(), (3, 4), lambda m, a: _glu(a), []),
    ("GLU-dim0", lambda: nn.GLU(dim=0), (4, 3), lambda m, a: _glu(a, 0), []),
    ("LogSigmoid", lambda: nn.LogSigmoid(), (3, 4),
     lambda m, a: np.minimum(a, 0) - np.log1p(np.exp(-np.abs(a))), []),
    ("Tanhshrink", lambda: nn.Tanhshrink(), (3, 4), lambda m, a: a - np.tanh(a), []),
    ("Softshrink", lambda: nn.Softshrink(0.3), (3, 4),
     lambda m, a: np.where(a > 0.3, a - 0.3, np.where(a < -0.3, a + 0.3, 0)), [-0.3, 0.3]),
    ("Hardshrink", lambda: nn.Hardshrink(0.3), (3, 4),
     lambda m, a: np.where(np.abs(a) > 0.3, a, 0), [-0.3, 0.3]),
    ("RReLU-eval", lambda: nn.RReLU().eval(), (3, 4),
     lambda m, a: np.where(a >= 0, a, a * (1 / 8 + 1 / 3) / 2), [0]),
]
IDS = [c[0] for c in ACTS]


def _input(shape, kinks, seed=0, dtype=rt.float64, requires_grad=False, spread=3.0):
    a = np.random.default_rng(seed).uniform(-spread, spread, shape)
    for k in kinks:                         # keep finite differences off the kinks
        near = np.abs(a - k) < 0.05
        a = np.where(near, k + 0.1 * np.sign(a - k + 1e-12), a)
    return rt.tensor(a, dtype=dtype).requires_grad_(requires_grad)


@pytest.mark.parametrize("name,make,shape,ref,kinks", ACTS, ids=IDS)
def test_forward_matches_numpy(name, make, shape, ref, kinks):
    m = make().double()
    x = _input(shape, [], spread=6.0)
    np.testing.assert_allclose(_np(m(x)), ref(m, _np(x)), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name,make,shape,ref,kinks", ACTS, ids=IDS)
def test_forward_float32(name, make, shape, ref, kinks):
    m = make()
    x = _input(shape, [], dtype=rt.float32, spread=6.0)
    out = m(x)
    assert out.dtype == rt.float32 and out.shape == (ref(m, _np(x)).shape)
    np.testing.assert_allclose(_np(out), ref(m, _np(x).astype(np.float64)), rtol=2e-6,
                               atol=1e-6)


@pytest.mark.parametrize("name,make,shape,ref,kinks", ACTS, ids=IDS)
def test_gradcheck_and_gradgradcheck(name, make, shape, ref, kinks):
    m = make().double()
    x = _input(shape, kinks, requires_grad=True)
    params = list(m.parameters())
    assert gradcheck(lambda x, *p: m(x), (x, *params))
    assert gradgradcheck(lambda x, *p: m(x), (x, *params))


@pytest.mark.parametrize("name,make,shape,ref,kinks", ACTS, ids=IDS)
def test_non_contiguous_input(name, make, shape, ref, kinks):
    m = make().double()
    x = _input(shape[::-1], [], spread=5.0).t() if len(shape) == 2 else None
    if x is None:
        return
    assert not x.is_contiguous()
    np.testing.assert_allclose(_np(m(x)), ref(m, _np(x)), rtol=1e-12, atol=1e-14)


def test_large_inputs_threaded_and_extremes():
    # sizes above the kernels' parallel grain, and values where exp over/underflows
    a = np.concatenate([np.linspace(-100, 100, 40001), [0.0, -0.0, 1e-30, -1e-30]])
    x = rt.tensor(a)
    np.testing.assert_allclose(_np(F.softplus(x)), _softplus(a), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(_np(F.logsigmoid(x)),
                               np.minimum(a, 0) - np.log1p(np.exp(-np.abs(a))), rtol=1e-12)
    np.testing.assert_allclose(_np(F.silu(x)), a * _sig(a), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(_np(F.elu(x)), np.where(a > 0, a, np.expm1(a)), rtol=1e-12)
    np.testing.assert_allclose(_np(F.mish(x)), a * np.tanh(np.log1p(np.exp(np.minimum(a, 700)))),
                               rtol=1e-12, atol=1e-300)
    xf = x.float()
    af = a.astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(_np(F.softplus(xf)), _softplus(af), rtol=2e-6, atol=1e-30)
    np.testing.assert_allclose(_np(F.gelu(xf)), 0.5 * af * (1 + _erf(af / math.sqrt(2))),
                               rtol=2e-6, atol=1e-6)
    np.testing.assert_allclose(_np(F.elu(xf)), np.where(af > 0, af, np.expm1(af)), rtol=2e-6,
                               atol=1e-30)
    nan = rt.tensor([float("nan")])
    for f in (F.gelu, F.silu, F.mish, F.elu, F.softplus, F.logsigmoid, F.hardswish, F.hardtanh,
              F.leaky_relu, F.relu6, F.hardsigmoid):
        assert math.isnan(float(f(nan))) and math.isnan(float(f(nan.float())))


def _grad(f, values, dtype=rt.float64):
    x = rt.tensor(values, dtype=dtype, requires_grad=True)
    f(x).sum().backward()
    return _np(x.grad).tolist()


def test_subgradients_at_kinks_match_pytorch():
    assert _grad(F.relu, [0.0, -1.0, 1.0]) == [0.0, 0.0, 1.0]
    assert _grad(F.relu6, [0.0, 6.0, 3.0]) == [0.0, 0.0, 1.0]
    assert _grad(lambda t: F.hardtanh(t, -3.0, 3.0), [-3.0, 3.0, 0.0]) == [0.0, 0.0, 1.0]
    assert _grad(F.hardswish, [-3.0, 3.0, 0.0]) == [0.0, 1.0, 0.5]
    # PyTorch multiplies by 1/6 rounded to float32, in float64 too
    assert _grad(F.hardsigmoid, [-3.0, 3.0, 0.0]) == [0.0, 0.0, float(np.float32(1 / 6))]
    assert _grad(lambda t: F.softshrink(t, 3.0), [-3.0, 3.0, 3.5]) == [0.0, 0.0, 1.0]
    assert _grad(lambda t: F.hardshrink(t, 3.0), [-3.0, 3.0, 3.5]) == [0.0, 0.0, 1.0]
    assert _grad(lambda t: F.threshold(t, 3.0, 0.0), [3.0, 3.5]) == [0.0, 1.0]
    assert _grad(F.leaky_relu, [0.0]) == [0.01]
    assert _grad(F.elu, [0.0]) == [1.0]
    assert _grad(lambda t: F.prelu(t, rt.tensor([0.25], dtype=rt.float64)), [0.0]) == [0.25]
    # NaN inputs: PyTorch passes the gradient through where the kink test is false
    nan = float("nan")
    assert _grad(F.hardtanh, [nan]) == [1.0] and _grad(F.hardswish, [nan]) == [1.0]
    assert _grad(F.leaky_relu, [nan]) == [0.01]


def test_gradients_against_numpy_float32():
    a = np.random.default_rng(1).uniform(-4, 4, 1000).astype(np.float32)
    x = rt.tensor(a, requires_grad=True)
    F.gelu(x).sum().backward()
    a64 = a.astype(np.float64)
    cdf = 0.5 * (1 + _erf(a64 / math.sqrt(2)))
    pdf = np.exp(-0.5 * a64 ** 2) / math.sqrt(2 * math.pi)
    np.testing.assert_allclose(_np(x.grad), cdf + a64 * pdf, rtol=1e-5, atol=1e-6)
    x.grad = None
    F.silu(x).sum().backward()
    s = _sig(a64)
    np.testing.assert_allclose(_np(x.grad), s * (1 + a64 * (1 - s)), rtol=1e-5, atol=1e-6)


# ---- in-place ---------------------------------------------------------------------------------

INPLACE = [
    ("relu", lambda t: F.relu(t, inplace=True), lambda t: F.relu(t)),
    ("relu_", F.relu_, F.relu),
    ("relu6", lambda t: F.relu6(t, inplace=True), F.relu6),
    ("leaky_relu", lambda t: F.leaky_relu(t, 0.2, True), lambda t: F.leaky_relu(t, 0.2)),
    ("leaky_relu_", lambda t: F.leaky_relu_(t, 0.2), lambda t: F.leaky_relu(t, 0.2)),
    ("elu", lambda t: F.elu(t, 0.5, True), lambda t: F.elu(t, 0.5)),
    ("elu_", F.elu_, F.elu),
    ("selu", lambda t: F.selu(t, True), F.selu),
    ("selu_", F.selu_, F.selu),
    ("celu", lambda t: F.celu(t, 2.0, True), lambda t: F.celu(t, 2.0)),
    ("celu_", F.celu_, F.celu),
    ("silu", lambda t: F.silu(t, True), F.silu),
    ("mish", lambda t: F.mish(t, True), F.mish),
    ("hardswish", lambda t: F.hardswish(t, True), F.hardswish),
    ("hardsigmoid", lambda t: F.hardsigmoid(t, True), F.hardsigmoid),
    ("hardtanh", lambda t: F.hardtanh(t, -0.5, 0.5, True), lambda t: F.hardtanh(t, -0.5, 0.5)),
    ("hardtanh_", F.hardtanh_, F.hardtanh),
    ("threshold", lambda t: F.threshold(t, 0.1, 2.0, True), lambda t: F.threshold(t, 0.1, 2.0)),
    ("threshold_", lambda t: F.threshold_(t, 0.1, 2.0), lambda t: F.threshold(t, 0.1, 2.0)),
    ("rrelu-eval", lambda t: F.rrelu(t, inplace=True), F.rrelu),
    ("rrelu_", F.rrelu_, F.rrelu),
]


@pytest.mark.parametrize("name,inplace_fn,fn", INPLACE, ids=[c[0] for c in INPLACE])
def test_inplace_variants(name, inplace_fn, fn):
    a = np.random.default_rng(2).uniform(-3, 3, (3, 5))
    # no graph: writes into the tensor (contiguous and not), returns it
    for x in (rt.tensor(a), rt.tensor(a.T.copy()).t()):
        v = x._version
        y = inplace_fn(x)
        assert y is x and x._version > v
        np.testing.assert_allclose(_np(x), _np(fn(rt.tensor(a))), rtol=1e-15)
    # with a graph: gradient of the in-place op on a non-leaf equals the out-of-place one
    leaf = rt.tensor(a, requires_grad=True)
    y = inplace_fn(leaf * 1.0)
    g = rt.tensor(np.random.default_rng(3).standard_normal((3, 5)))
    y.backward(g)
    leaf2 = rt.tensor(a, requires_grad=True)
    fn(leaf2 * 1.0).backward(g)
    np.testing.assert_allclose(_np(leaf.grad), _np(leaf2.grad), rtol=1e-15)
    # a leaf that requires grad cannot be modified in place
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        inplace_fn(rt.tensor(a, requires_grad=True))


def test_inplace_modules():
    x = rt.randn(4, 3)
    before = _np(x)
    y = nn.ReLU(inplace=True)(x)
    assert y is x and (_np(x) == np.maximum(before, 0)).all()
    x = rt.randn(4, 3)
    assert nn.ELU(inplace=True)(x) is x and nn.SiLU(inplace=True)(x) is x
    assert nn.Hardswish(inplace=True)(x) is x and nn.Threshold(0.0, 1.0, True)(x) is x


# ---- modules ---------------------------------------------------------------------------------

def test_extra_repr():
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    assert repr(nn.ReLU6(True)) == "ReLU6(inplace=True)"
    assert repr(nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(nn.LeakyReLU(0.2, True)) == "LeakyReLU(negative_slope=0.2, inplace=True)"
    assert repr(nn.PReLU(3)) == "PReLU(num_parameters=3)"
    assert repr(nn.ELU()) == "ELU(alpha=1.0)"
    assert repr(nn.ELU(inplace=True)) == "ELU(alpha=1.0, inplace=True)"
    assert repr(nn.CELU(2.0)) == "CELU(alpha=2.0)"
    assert repr(nn.SELU()) == "SELU()" and repr(nn.SELU(True)) == "SELU(inplace=True)"
    assert repr(nn.GELU()) == "GELU(approximate='none')"
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    assert repr(nn.SiLU()) == "SiLU()" and repr(nn.Mish(True)) == "Mish(inplace=True)"
    assert repr(nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    assert repr(nn.Hardtanh()) == "Hardtanh(min_val=-1.0, max_val=1.0)"
    assert repr(nn.Hardswish()) == "Hardswish()" and repr(nn.Hardsigmoid()) == "Hardsigmoid()"
    assert repr(nn.Threshold(0.1, 20)) == "Threshold(threshold=0.1, value=20)"
    assert repr(nn.Threshold(0.1, 20, True)) == "Threshold(threshold=0.1, value=20, inplace=True)"
    assert repr(nn.GLU()) == "GLU(dim=-1)"
    assert repr(nn.Softshrink()) == "Softshrink(0.5)" and repr(nn.Hardshrink(0.3)) == \
        "Hardshrink(0.3)"
    assert repr(nn.LogSigmoid()) == "LogSigmoid()" and repr(nn.Tanhshrink()) == "Tanhshrink()"
    assert repr(nn.RReLU()) == "RReLU(lower=0.125, upper=0.3333333333333333)"
    assert repr(nn.Sigmoid()) == "Sigmoid()" and repr(nn.Tanh()) == "Tanh()"


def test_prelu_parameter():
    m = nn.PReLU(4, init=0.1)
    assert list(m.state_dict()) == ["weight"] and m.weight.shape == (4,)
    np.testing.assert_allclose(_np(m.weight), [0.1] * 4, rtol=1e-7)
    x = rt.randn(2, 4, 3)
    m(x).sum().backward()
    a = _np(x)
    np.testing.assert_allclose(_np(m.weight.grad), np.where(a > 0, 0, a).sum((0, 2)), rtol=1e-5)
    assert nn.PReLU().weight.shape == (1,)
    # one parameter applies to any input shape; 1-d input with one parameter per position
    assert nn.PReLU()(rt.randn(3)).shape == (3,)
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel "
                                           "size. Found parameter numbers = 4 and channel size "
                                           "= 3."):
        m(rt.randn(2, 3))


def test_prelu_kernel_large_and_nan():
    # above the kernel's row grain, one weight (chunks) and one per channel (rows)
    rng = np.random.default_rng(4)
    for n, shape in ((1, (3, 5, 3000)), (5, (3, 5, 40, 50))):
        a = rng.standard_normal(shape)
        a.reshape(-1)[:3] = [np.nan, 0.0, -0.0]
        w = rng.uniform(0.1, 0.5, n)
        x = rt.tensor(a, requires_grad=True)
        wt = rt.tensor(w, requires_grad=True)
        g = rng.standard_normal(shape)
        y = F.prelu(x, wt)
        y.backward(rt.tensor(g))
        wb = w.reshape((-1,) + (1,) * (len(shape) - 2)) if n > 1 else w[0]
        np.testing.assert_allclose(_np(y), np.where(a > 0, a, wb * a), rtol=1e-14)
        np.testing.assert_allclose(_np(x.grad), np.where(a > 0, g, wb * g), rtol=1e-14)
        contrib = np.where(a > 0, 0, a * g)
        ref = contrib.sum() if n == 1 else contrib.sum((0, 2, 3))
        np.testing.assert_allclose(_np(wt.grad), np.atleast_1d(ref), rtol=1e-10)
        assert np.isnan(_np(wt.grad)).any()          # NaN input: x * g enters, as PyTorch


def test_rrelu_training_slopes():
    rt.manual_seed(0)
    x = rt.tensor(np.linspace(-3, 3, 200))
    y = _np(F.rrelu(x, 0.1, 0.3, training=True))
    a = _np(x)
    np.testing.assert_array_equal(y[a >= 0], a[a >= 0])
    slopes = y[a < 0] / a[a < 0]
    assert (slopes >= 0.1).all() and (slopes <= 0.3).all() and slopes.std() > 0


def test_dtypes():
    for dt in (rt.float16, rt.bfloat16):
        x = rt.randn(8).to(dt)
        for f in (F.gelu, F.silu, F.elu, F.softplus, F.hardswish, F.leaky_relu, F.mish):
            y = f(x)
            assert y.dtype == dt
            np.testing.assert_allclose(_np(y.float()), _np(f(x.float())), rtol=1e-2, atol=1e-2)
    xi = rt.tensor([-2, 0, 3, 7])
    assert _np(F.relu6(xi)).tolist() == [0, 0, 3, 6] and F.relu6(xi).dtype == rt.int64
    assert _np(F.hardtanh(xi, -1, 1)).tolist() == [-1, 0, 1, 1]
    assert _np(F.threshold(xi, 1, 5)).tolist() == [5, 5, 3, 7]
    for f, kernel in ((F.gelu, "GeluKernelImpl"), (F.elu, "elu_cpu"), (F.silu, "silu_cpu"),
                      (F.softplus, "softplus_cpu"), (F.leaky_relu, "leaky_relu_cpu"),
                      (F.logsigmoid, "log_sigmoid_cpu"), (F.hardshrink, "hardshrink_cpu")):
        with pytest.raises(NotImplementedError, match=f'"{kernel}" not implemented for '
                                                      "'Long'"):
            f(xi)
    assert F.gelu(rt.randn(3, 4)).dtype == rt.float32


def test_grad_fn_names():
    x = rt.randn(3, requires_grad=True)
    names = {F.gelu: "GeluBackward0", F.silu: "SiluBackward0", F.elu: "EluBackward0",
             F.selu: "EluBackward0", F.softplus: "SoftplusBackward0",
             F.leaky_relu: "LeakyReluBackward0", F.hardtanh: "HardtanhBackward0",
             F.relu6: "HardtanhBackward0", F.mish: "MishBackward0",
             F.logsigmoid: "LogSigmoidBackward0", F.hardswish: "HardswishBackward0"}
    for f, n in names.items():
        assert f(x).grad_fn.name() == n
    with rt.no_grad():
        assert F.gelu(x).grad_fn is None


def test_errors():
    x = rt.randn(3, 4)
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(x, approximate="fast")
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(x, 2.0, 1.0)
    with pytest.raises(AssertionError, match=r"max_val \(1.0\) must be greater than min_val"):
        nn.Hardtanh(1.0, 1.0)
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 is "
                                           "size 5"):
        F.glu(rt.randn(3, 5))
    with pytest.raises(RuntimeError, match="glu does not support scalars"):
        F.glu(rt.tensor(1.0))
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.glu(x, dim=2)
    with pytest.raises(RuntimeError, match=r"lambda must be in range \[0, 3.40282e\+38\] for "
                                           "input dtype Float, but found -0.5"):
        F.softshrink(x, -0.5)
    with pytest.raises(RuntimeError, match="alpha cannot be 0 for CELU"):
        F.celu(x, 0.0)
    with pytest.raises(RuntimeError, match="Expected `weight` to be a scalar or 1D tensor"):
        F.prelu(x, rt.ones(1, 4))
    with pytest.raises(ValueError, match="num_parameters"):
        nn.PReLU(-1)
    with pytest.raises(TypeError, match="must be Tensor"):
        F.gelu([1.0, 2.0])
    with pytest.warns(FutureWarning, match="min_value"):
        nn.Hardtanh(min_value=-2.0)
