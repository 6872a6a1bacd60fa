"""Softmax family: softmax, log_softmax, softmin (functional and modules) against numpy over
dims, layouts and dtypes; stability; gradcheck/gradgradcheck; PyTorch's implicit-dim rule and
warning; errors; and the kernels of rt_tensor._nn_softmax directly (threads, validation)."""
import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
import rt_nn.functional as F
import rt_tensor as rtt
from rt_autograd.testing import gradcheck, gradgradcheck
from rt_tensor import _nn_softmax as K


def _np(t):
    return np.array(t.detach().numpy(), copy=True)


def _ref(a, dim, kind):
    a = np.asarray(a, dtype=np.float64)
    if kind == "softmin":
        a = -a
    m = a.max(axis=dim, keepdims=True)
    e = np.exp(a - m)
    s = e.sum(axis=dim, keepdims=True)
    if kind == "log_softmax":
        return (a - m) - np.log(s)
    return e / s


FNS = {"softmax": F.softmax, "log_softmax": F.log_softmax, "softmin": F.softmin}
SHAPES = [((5, 7), 1), ((5, 7), 0), ((3, 4, 5), -1), ((3, 4, 5), 1), ((2, 3, 4, 5), 1),
          ((6,), 0), ((2, 70, 3), 1), ((3, 130), 1), ((2, 3, 200), 1), ((1, 1), 1)]


@pytest.mark.parametrize("kind", sorted(FNS))
@pytest.mark.parametrize("shape,dim", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_numpy(kind, shape, dim, dtype):
    a = np.random.default_rng(0).normal(size=shape).astype(dtype) * 3
    y = FNS[kind](rt.from_numpy(a), dim)
    assert y.dtype == (rt.float32 if dtype == np.float32 else rt.float64)
    assert tuple(y.shape) == shape
    tol = dict(rtol=2e-6, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(_np(y), _ref(a, dim, kind), **tol)


@pytest.mark.parametrize("kind", sorted(FNS))
def test_non_contiguous_and_scalar(kind):
    a = np.random.default_rng(1).normal(size=(4, 6))
    x = rt.from_numpy(a).t()                      # transposed view
    np.testing.assert_allclose(_np(FNS[kind](x, 1)), _ref(a.T, 1, kind), rtol=1e-12)
    np.testing.assert_allclose(_np(FNS[kind](rt.from_numpy(a)[:, ::2], 0)),
                               _ref(a[:, ::2], 0, kind), rtol=1e-12)
    s = FNS[kind](rt.tensor(2.5, dtype=rt.float64), 0)
    assert s.shape == () and float(s) == (0.0 if kind == "log_softmax" else 1.0)
    e = FNS[kind](rt.zeros(0, 3), 1)
    assert tuple(e.shape) == (0, 3)


def test_stability_and_special_values():
    a = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1001.0, -1e4]])
    for dt in (np.float32, np.float64):
        y = _np(F.softmax(rt.from_numpy(a.astype(dt)), 1))
        assert np.isfinite(y).all()
        np.testing.assert_allclose(y, _ref(a, 1, "softmax"), rtol=1e-5)
        ly = _np(F.log_softmax(rt.from_numpy(a.astype(dt)), 1))
        np.testing.assert_allclose(ly, _ref(a, 1, "log_softmax"), rtol=1e-5)
    inf = float("inf")
    x = rt.tensor([[0.0, -inf, 1.0], [-inf, -inf, -inf], [0.0, float("nan"), 1.0]])
    y = _np(F.softmax(x, 1))
    np.testing.assert_allclose(y[0], [1 / (1 + np.e), 0.0, np.e / (1 + np.e)], rtol=1e-6)
    assert np.isnan(y[1]).all() and np.isnan(y[2]).all()     # as PyTorch
    ly = _np(F.log_softmax(x, 1))
    assert ly[0, 1] == -inf and np.isnan(ly[1]).all()


@pytest.mark.parametrize("kind", sorted(FNS))
@pytest.mark.parametrize("shape,dim", [((3, 4), 1), ((3, 4), 0), ((2, 3, 4), 1), ((5,), 0),
                                       ((2, 3, 2, 2), -3)])
def test_gradcheck(kind, shape, dim):
    x = rt.from_numpy(np.random.default_rng(2).normal(size=shape)).requires_grad_()
    assert gradcheck(lambda t: FNS[kind](t, dim), (x,))
    assert gradgradcheck(lambda t: FNS[kind](t, dim), (x,))


def test_grad_fn_names_and_float32_backward():
    x = rt.randn(4, 5, requires_grad=True)
    assert type(F.softmax(x, 1).grad_fn).__name__ == "SoftmaxBackward0"
    assert type(F.log_softmax(x, 1).grad_fn).__name__ == "LogSoftmaxBackward0"
    g = np.random.default_rng(3).normal(size=(4, 5)).astype(np.float32)
    F.softmax(x, 1).backward(rt.from_numpy(g))
    y = _ref(_np(x), 1, "softmax")
    np.testing.assert_allclose(_np(x.grad), y * (g - (g * y).sum(1, keepdims=True)),
                               rtol=1e-5, atol=1e-6)
    x.grad = None
    F.log_softmax(x, 1).backward(rt.from_numpy(g))
    np.testing.assert_allclose(_np(x.grad), g - np.exp(_ref(_np(x), 1, "log_softmax"))
                               * g.sum(1, keepdims=True), rtol=1e-5, atol=1e-6)


def test_implicit_dim_warns_and_follows_pytorch_rule():
    a = np.random.default_rng(4).normal(size=(2, 3, 4))
    for shape, dim in [((3,), 0), ((2, 3), 1), ((2, 3, 4), 0), ((2, 3, 4, 1), 1)]:
        b = a.reshape(-1)[:int(np.prod(shape))].reshape(shape)
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
            y = F.softmax(rt.from_numpy(b))
        np.testing.assert_allclose(_np(y), _ref(b, dim, "softmax"), rtol=1e-12)
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax"):
        F.log_softmax(rt.randn(2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        F.softmin(rt.randn(2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        nn.Softmax()(rt.randn(2, 3))


def test_dtype_argument_and_half_inputs():
    x = rt.tensor([[1, 2, 3]])
    y = F.softmax(x, 1, dtype=rt.float64)
    assert y.dtype == rt.float64
    np.testing.assert_allclose(_np(y), _ref([[1, 2, 3]], 1, "softmax"), rtol=1e-12)
    z = F.log_softmax(rt.randn(2, 3, dtype=rt.float64), 1, dtype=rt.float32)
    assert z.dtype == rt.float32
    assert F.softmin(x, 1, dtype=rt.float32).dtype == rt.float32
    for d in (rt.float16, rt.bfloat16):
        h = F.softmax(rt.tensor([[1.0, 2.0, 3.0]], dtype=d), 1)
        assert h.dtype == d
        np.testing.assert_allclose(_np(h.float()), _ref([[1, 2, 3]], 1, "softmax"), atol=1e-2)
    xh = rt.tensor([[1.0, 2.0]], dtype=rt.float16, requires_grad=True)
    F.softmax(xh, 1).sum().backward()
    assert xh.grad.dtype == rt.float16


def test_errors():
    with pytest.raises(NotImplementedError, match='"softmax_lastdim_kernel_impl" not '
                                                  "implemented for 'Long'"):
        F.softmax(rt.tensor([1, 2]), 0)
    with pytest.raises(NotImplementedError, match='"log_softmax_kernel_impl"'):
        F.log_softmax(rt.tensor([[1, 2]]), 0)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range "
                                         r"of \[-2, 1\], but got 2\)"):
        F.softmax(rt.randn(2, 3), 2)
    with pytest.raises(IndexError, match=r"range of \[-1, 0\], but got 1"):
        F.softmax(rt.tensor(1.0), 1)


MODULES = [
    ("Softmax", lambda: nn.Softmax(dim=1), "dim=1", "softmax", 1),
    ("LogSoftmax", lambda: nn.LogSoftmax(dim=-1), "dim=-1", "log_softmax", -1),
    ("Softmin", lambda: nn.Softmin(dim=0), "dim=0", "softmin", 0),
]


@pytest.mark.parametrize("name,make,rep,kind,dim", MODULES)
def test_modules(name, make, rep, kind, dim):
    m = make()
    assert repr(m) == f"{name}({rep})"
    assert list(m.parameters()) == [] and m.state_dict() == {}
    a = np.random.default_rng(5).normal(size=(3, 4))
    np.testing.assert_allclose(_np(m(rt.from_numpy(a))), _ref(a, dim, kind), rtol=1e-12)
    x = rt.from_numpy(a).requires_grad_()
    assert gradcheck(m, (x,))
    m.double()
    assert repr(make().__class__()) == f"{name}(dim=None)"


def test_softmax2d():
    m = nn.Softmax2d()
    assert repr(m) == "Softmax2d()"
    a = np.random.default_rng(6).normal(size=(2, 3, 4, 5))
    np.testing.assert_allclose(_np(m(rt.from_numpy(a))), _ref(a, 1, "softmax"), rtol=1e-12)
    np.testing.assert_allclose(_np(m(rt.from_numpy(a[0]))), _ref(a[0], 0, "softmax"),
                               rtol=1e-12)
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D"):
        m(rt.randn(2, 3))


# ---- the kernels directly ------------------------------------------------------------------------

@pytest.mark.parametrize("shape,dim", [((300, 257), 1), ((4, 64, 33, 35), 1), ((64, 5000), 0)])
@pytest.mark.parametrize("log", [False, True])
def test_kernel_threads_agree(shape, dim, log):
    a = np.random.default_rng(7).normal(size=shape).astype(np.float32)
    g = np.random.default_rng(8).normal(size=shape).astype(np.float32)
    n = rtt.get_num_threads()
    try:
        rtt.set_num_threads(1)
        y1 = _np(K.softmax_forward(rtt.from_numpy(a), dim, log))
        b1 = _np(K.softmax_backward(rtt.from_numpy(g), rtt.from_numpy(y1), dim, log))
        rtt.set_num_threads(4)
        y4 = _np(K.softmax_forward(rtt.from_numpy(a), dim, log))
        b4 = _np(K.softmax_backward(rtt.from_numpy(g), rtt.from_numpy(y1), dim, log))
    finally:
        rtt.set_num_threads(n)
    np.testing.assert_array_equal(y1, y4)
    np.testing.assert_array_equal(b1, b4)
    np.testing.assert_allclose(y1, _ref(a, dim, "log_softmax" if log else "softmax"),
                               rtol=3e-6, atol=3e-6)


def test_kernel_validation():
    x = rtt.zeros(2, 3)
    with pytest.raises(TypeError):
        K.softmax_forward(rtt.zeros(2, 3, dtype=rtt.int64), 1)
    with pytest.raises(IndexError):
        K.softmax_forward(x, 2)
    with pytest.raises(IndexError):
        K.softmax_forward(x, -1)
    with pytest.raises(RuntimeError):
        K.softmax_backward(rtt.zeros(3, 2), x, 1)
    with pytest.raises(TypeError):
        K.softmax_backward(rtt.zeros(2, 3, dtype=rtt.float64), x, 1)
    with pytest.raises(TypeError):
        K.softmax_forward(None, 0)
