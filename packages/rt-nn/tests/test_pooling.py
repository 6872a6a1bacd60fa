"""Pooling layers and functions: forward against numpy references (windows, -inf padding,
dilation, ceil_mode, count_include_pad, divisor_override, adaptive windows), indices,
gradcheck/gradgradcheck in float64, dtypes, module table, repr, errors."""
import math

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
import rt_nn.functional as F
from rt_autograd.testing import gradcheck, gradgradcheck


def _rng(seed=0):
    return np.random.default_rng(seed)


# ---- numpy references ----------------------------------------------------------------------------

def _out_size(n, k, p, s, d, ceil):
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    return out


def ref_max_pool2d(x, k, s, p, d, ceil):
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = k, s, p, d
    H, W = x.shape[-2:]
    oh, ow = _out_size(H, kh, ph, sh, dh, ceil), _out_size(W, kw, pw, sw, dw, ceil)
    lead = x.shape[:-2]
    out = np.full(lead + (oh, ow), -np.inf, x.dtype)
    idx = np.zeros(lead + (oh, ow), np.int64)
    for i in range(oh):
        for j in range(ow):
            best = np.full(lead, -np.inf)
            bidx = np.full(lead, -1, np.int64)
            for a in range(kh):
                for b in range(kw):
                    h, w = i * sh - ph + a * dh, j * sw - pw + b * dw
                    if 0 <= h < H and 0 <= w < W:
                        v = x[..., h, w]
                        better = (v > best) | (bidx < 0)
                        best = np.where(better, v, best)
                        bidx = np.where(better, h * W + w, bidx)
            out[..., i, j] = best
            idx[..., i, j] = bidx
    return out, idx


def ref_avg_pool2d(x, k, s, p, ceil, count_include_pad, divisor):
    (kh, kw), (sh, sw), (ph, pw) = k, s, p
    H, W = x.shape[-2:]
    oh, ow = _out_size(H, kh, ph, sh, 1, ceil), _out_size(W, kw, pw, sw, 1, ceil)
    out = np.zeros(x.shape[:-2] + (oh, ow), x.dtype)
    for i in range(oh):
        for j in range(ow):
            h0, w0 = i * sh - ph, j * sw - pw
            h1, w1 = min(h0 + kh, H + ph), min(w0 + kw, W + pw)
            pool = (h1 - h0) * (w1 - w0)
            h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, H), min(w1, W)
            if h0 >= h1 or w0 >= w1:
                continue
            div = divisor or (pool if count_include_pad else (h1 - h0) * (w1 - w0))
            out[..., i, j] = x[..., h0:h1, w0:w1].sum(axis=(-1, -2)) / div
    return out


def _bounds(i, out, n):
    return (i * n) // out, -((-(i + 1) * n) // out)


def ref_adaptive(x, oh, ow, op):
    H, W = x.shape[-2:]
    out = np.zeros(x.shape[:-2] + (oh, ow), x.dtype)
    idx = np.zeros(x.shape[:-2] + (oh, ow), np.int64)
    for i in range(oh):
        h0, h1 = _bounds(i, oh, H)
        for j in range(ow):
            w0, w1 = _bounds(j, ow, W)
            win = x[..., h0:h1, w0:w1]
            if op == "avg":
                out[..., i, j] = win.mean(axis=(-1, -2))
            else:
                flat = win.reshape(win.shape[:-2] + (-1,))
                a = flat.argmax(-1)
                out[..., i, j] = flat.max(-1)
                idx[..., i, j] = (h0 + a // (w1 - w0)) * W + w0 + a % (w1 - w0)
    return out, idx


# ---- max pooling ---------------------------------------------------------------------------------

MAX_CASES = [
    # (shape, kernel, stride, padding, dilation, ceil_mode)
    ((2, 3, 8, 8), (2, 2), (2, 2), (0, 0), (1, 1), False),
    ((2, 3, 7, 9), (3, 2), (2, 1), (1, 1), (1, 1), False),
    ((1, 2, 9, 7), (3, 3), (2, 2), (1, 0), (2, 1), True),
    ((3, 5, 5), (2, 3), (2, 2), (1, 1), (1, 2), True),     # unbatched (C, H, W)
    ((2, 2, 6, 6), (3, 3), (3, 3), (0, 0), (1, 1), True),   # ceil adds a partial window
    ((1, 1, 5, 5), (2, 2), (2, 2), (1, 1), (1, 1), True),   # last window would start in padding
    ((1, 1, 1, 1), (1, 1), (1, 1), (0, 0), (1, 1), False),
]


@pytest.mark.parametrize("shape,k,s,p,d,ceil", MAX_CASES)
@pytest.mark.parametrize("dtype", [rt.float32, rt.float64])
def test_max_pool2d_forward_and_indices(shape, k, s, p, d, ceil, dtype):
    x = _rng().standard_normal(shape)
    values, indices = F.max_pool2d(rt.tensor(x, dtype=dtype), k, s, p, d, ceil, True)
    ref_v, ref_i = ref_max_pool2d(x, k, s, p, d, ceil)
    assert values.dtype == dtype and indices.dtype == rt.int64
    np.testing.assert_allclose(values.numpy(), ref_v, rtol=1e-6)
    np.testing.assert_array_equal(indices.numpy(), ref_i)


def test_max_pool_ties_first_wins_and_nan_propagates():
    x = rt.tensor([[[[1.0, 1.0], [0.0, 1.0]]]])
    v, i = F.max_pool2d(x, 2, return_indices=True)
    assert v.item() == 1.0 and i.item() == 0
    x = rt.tensor([[[[1.0, float("nan")], [5.0, 1.0]]]])
    v, i = F.max_pool2d(x, 2, return_indices=True)
    assert math.isnan(v.item()) and i.item() == 1


def test_max_pool_output_sizes_ceil_mode():
    x = rt.zeros(1, 1, 5, 5)
    assert F.max_pool2d(x, 2).shape == (1, 1, 2, 2)
    assert F.max_pool2d(x, 2, ceil_mode=True).shape == (1, 1, 3, 3)
    # the last window must start inside the input or the left padding
    assert F.max_pool2d(rt.zeros(1, 1, 4, 4), 2, 2, 1, ceil_mode=True).shape == (1, 1, 3, 3)
    assert F.max_pool1d(rt.zeros(1, 1, 6), 3, 2, 1, 1, True).shape == (1, 1, 4)


@pytest.mark.parametrize("dtype", [rt.float32, rt.float64])
def test_max_pool1d(dtype):
    x = _rng(1).standard_normal((2, 3, 11))
    v, i = F.max_pool1d(rt.tensor(x, dtype=dtype), 3, 2, 1, 2, True, True)
    ref_v, ref_i = ref_max_pool2d(x[:, :, None, :], (1, 3), (1, 2), (0, 1), (1, 2), True)
    np.testing.assert_allclose(v.numpy(), ref_v[:, :, 0], rtol=1e-6)
    np.testing.assert_array_equal(i.numpy(), ref_i[:, :, 0])
    assert F.max_pool1d(rt.tensor(x[0]), 2).shape == (3, 5)          # (C, L)


def test_max_pool_integer_and_half_dtypes():
    x = rt.tensor([[[[1, 5], [3, 2]]]])
    assert F.max_pool2d(x, 2).tolist() == [[[[5]]]] and F.max_pool2d(x, 2).dtype == rt.int64
    h = rt.tensor([[[[1.0, 5.0], [3.0, 2.0]]]], dtype=rt.float16)
    assert F.max_pool2d(h, 2).dtype == rt.float16 and F.max_pool2d(h, 2).item() == 5.0
    with pytest.raises(NotImplementedError, match="max_pool1d_impl"):
        F.max_pool1d(rt.tensor([[[1, 2]]]), 2)


# ---- average pooling -----------------------------------------------------------------------------

AVG_CASES = [
    ((2, 3, 8, 8), (2, 2), (2, 2), (0, 0), False, True, None),
    ((2, 3, 7, 9), (3, 2), (2, 1), (1, 1), False, True, None),
    ((2, 3, 7, 9), (3, 2), (2, 1), (1, 1), False, False, None),
    ((1, 2, 9, 7), (3, 3), (2, 2), (1, 0), True, True, None),
    ((1, 2, 9, 7), (3, 3), (2, 2), (1, 1), True, False, None),
    ((3, 6, 5), (2, 3), (1, 2), (1, 1), True, True, 4),
    ((2, 2, 5, 5), (4, 4), (3, 3), (2, 2), True, True, None),
]


@pytest.mark.parametrize("shape,k,s,p,ceil,cip,div", AVG_CASES)
@pytest.mark.parametrize("dtype", [rt.float32, rt.float64])
def test_avg_pool2d_forward(shape, k, s, p, ceil, cip, div, dtype):
    x = _rng(2).standard_normal(shape)
    y = F.avg_pool2d(rt.tensor(x, dtype=dtype), k, s, p, ceil, cip, div)
    np.testing.assert_allclose(y.numpy(), ref_avg_pool2d(x, k, s, p, ceil, cip, div),
                               rtol=1e-5, atol=1e-6)


def test_avg_pool1d_forward():
    x = _rng(3).standard_normal((2, 3, 10))
    y = F.avg_pool1d(rt.tensor(x), 3, 2, 1, True, False)
    ref = ref_avg_pool2d(x[:, :, None], (1, 3), (1, 2), (0, 1), True, False, None)[:, :, 0]
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-12)


def test_avg_pool_int64_truncates():
    x = rt.tensor([[[[1, 2], [2, 2]]]])
    assert F.avg_pool2d(x, 2).tolist() == [[[[1]]]]
    assert F.avg_pool2d(-x, 2).tolist() == [[[[-1]]]]


# ---- adaptive pooling ----------------------------------------------------------------------------

@pytest.mark.parametrize("shape,out", [((2, 3, 7, 9), (3, 4)), ((2, 3, 5, 5), (5, 5)),
                                       ((1, 2, 4, 6), (7, 9)), ((3, 10, 3), (4, 2)),
                                       ((2, 2, 6, 6), (1, 1))])
@pytest.mark.parametrize("dtype", [rt.float32, rt.float64])
def test_adaptive_pool2d(shape, out, dtype):
    x = _rng(4).standard_normal(shape)
    y = F.adaptive_avg_pool2d(rt.tensor(x, dtype=dtype), out)
    np.testing.assert_allclose(y.numpy(), ref_adaptive(x, *out, "avg")[0], rtol=1e-5, atol=1e-6)
    v, i = F.adaptive_max_pool2d(rt.tensor(x, dtype=dtype), out, return_indices=True)
    ref_v, ref_i = ref_adaptive(x, *out, "max")
    np.testing.assert_allclose(v.numpy(), ref_v, rtol=1e-6)
    np.testing.assert_array_equal(i.numpy(), ref_i)


def test_adaptive_none_and_1d():
    x = _rng(5).standard_normal((2, 3, 7, 9))
    assert F.adaptive_avg_pool2d(rt.tensor(x), (None, 4)).shape == (2, 3, 7, 4)
    assert F.adaptive_max_pool2d(rt.tensor(x), (3, None)).shape == (2, 3, 3, 9)
    x1 = x[:, :, 0]
    np.testing.assert_allclose(F.adaptive_avg_pool1d(rt.tensor(x1), 4).numpy(),
                               ref_adaptive(x1[:, :, None], 1, 4, "avg")[0][:, :, 0], rtol=1e-12)
    v, i = F.adaptive_max_pool1d(rt.tensor(x1), 4, return_indices=True)
    rv, ri = ref_adaptive(x1[:, :, None], 1, 4, "max")
    np.testing.assert_array_equal(v.numpy(), rv[:, :, 0])
    np.testing.assert_array_equal(i.numpy(), ri[:, :, 0])
    assert F.adaptive_avg_pool2d(rt.zeros(2, 3, 4, 4), 0).shape == (2, 3, 0, 0)
    # (1, 1) is a mean in PyTorch: an empty plane gives NaN, not an error
    assert np.isnan(F.adaptive_avg_pool2d(rt.zeros(2, 3, 0, 4), 1).numpy()).all()


# ---- gradients -----------------------------------------------------------------------------------

GRAD_CASES = [
    ("max_pool2d", lambda t: F.max_pool2d(t, 3, 2, 1, ceil_mode=True), (1, 2, 6, 5)),
    ("max_pool2d dil", lambda t: F.max_pool2d(t, 2, 1, 1, 2), (1, 2, 5, 5)),
    ("max_pool1d", lambda t: F.max_pool1d(t, 3, 2, 1), (2, 2, 7)),
    ("avg_pool2d", lambda t: F.avg_pool2d(t, 3, 2, 1, True, False), (1, 2, 6, 5)),
    ("avg_pool2d div", lambda t: F.avg_pool2d(t, 2, 1, 1, divisor_override=3), (2, 4, 4)),
    ("avg_pool1d", lambda t: F.avg_pool1d(t, 3, 2, 1), (2, 2, 7)),
    ("adaptive_avg_pool2d", lambda t: F.adaptive_avg_pool2d(t, (3, 4)), (1, 2, 5, 7)),
    ("global_avg_pool2d", lambda t: F.adaptive_avg_pool2d(t, 1), (2, 3, 4, 5)),
    ("adaptive_avg_pool1d", lambda t: F.adaptive_avg_pool1d(t, 3), (2, 2, 7)),
    ("adaptive_max_pool2d", lambda t: F.adaptive_max_pool2d(t, (2, 3)), (1, 2, 5, 7)),
    ("adaptive_max_pool1d", lambda t: F.adaptive_max_pool1d(t, 3), (2, 2, 7)),
    ("lp_pool2d", lambda t: F.lp_pool2d(t + 0.5, 2, 2), (1, 2, 4, 4)),
]


@pytest.mark.parametrize("name,fn,shape", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradcheck(name, fn, shape):
    # distinct values so that max pooling has no ties within gradcheck's eps
    x = rt.tensor(_rng(6).permutation(np.prod(shape)).reshape(shape) / 7.0,
                  dtype=rt.float64, requires_grad=True)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_max_pool_gradient_goes_to_argmax():
    x = rt.tensor([[[[1.0, 2.0, 0.0], [4.0, 3.0, 0.0], [0.0, 0.0, 9.0]]]], requires_grad=True)
    F.max_pool2d(x, 2, 1).sum().backward()
    assert x.grad.tolist() == [[[[0.0, 0.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]]]]
    assert F.max_pool2d(x, 2).grad_fn.name() == "MaxPool2DWithIndicesBackward0"


def test_gradient_through_noncontiguous_input():
    base = rt.tensor(_rng(7).standard_normal((2, 5, 6, 3)), requires_grad=True)
    x = base.permute(0, 3, 1, 2)                       # (2, 3, 5, 6), not contiguous
    y = F.avg_pool2d(x, 2) + F.max_pool2d(x, 2)
    y.sum().backward()
    assert base.grad.shape == base.shape


# ---- modules -------------------------------------------------------------------------------------

MODULES = [
    # (constructor, input shape, output shape, repr)
    (lambda: nn.MaxPool1d(3, 2), (2, 3, 9), (2, 3, 4),
     "MaxPool1d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=False)"),
    (lambda: nn.MaxPool2d(2), (2, 3, 8, 6), (2, 3, 4, 3),
     "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"),
    (lambda: nn.MaxPool2d((3, 2), 1, (1, 0), ceil_mode=True), (3, 5, 5), (3, 5, 4),
     "MaxPool2d(kernel_size=(3, 2), stride=1, padding=(1, 0), dilation=1, ceil_mode=True)"),
    (lambda: nn.AvgPool1d(2), (2, 3, 9), (2, 3, 4),
     "AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))"),
    (lambda: nn.AvgPool2d(3, 2, 1), (2, 3, 8, 6), (2, 3, 4, 3),
     "AvgPool2d(kernel_size=3, stride=2, padding=1)"),
    (lambda: nn.AdaptiveAvgPool1d(5), (2, 3, 9), (2, 3, 5), "AdaptiveAvgPool1d(output_size=5)"),
    (lambda: nn.AdaptiveAvgPool2d((None, 2)), (2, 3, 8, 6), (2, 3, 8, 2),
     "AdaptiveAvgPool2d(output_size=(None, 2))"),
    (lambda: nn.AdaptiveMaxPool1d(4), (3, 9), (3, 4), "AdaptiveMaxPool1d(output_size=4)"),
    (lambda: nn.AdaptiveMaxPool2d(3), (2, 3, 8, 6), (2, 3, 3, 3),
     "AdaptiveMaxPool2d(output_size=3)"),
    (lambda: nn.LPPool2d(2, 2), (2, 3, 8, 6), (2, 3, 4, 3),
     "LPPool2d(norm_type=2, kernel_size=2, stride=None, ceil_mode=False)"),
    (lambda: nn.LPPool1d(1.5, 3, 1), (2, 3, 8), (2, 3, 6),
     "LPPool1d(norm_type=1.5, kernel_size=3, stride=1, ceil_mode=False)"),
]


@pytest.mark.parametrize("ctor,shape,out_shape,text", MODULES, ids=[m[3] for m in MODULES])
def test_module_table(ctor, shape, out_shape, text):
    m = ctor()
    assert repr(m) == text
    assert m.state_dict() == {} and list(m.parameters()) == []
    x = rt.tensor(_rng(8).standard_normal(shape) ** 2 + 0.1, dtype=rt.float32, requires_grad=True)
    y = m(x)
    assert tuple(y.shape) == out_shape and y.dtype == rt.float32
    y.sum().backward()
    assert x.grad.shape == x.shape
    # float64 after .double() (no parameters: the input dtype decides)
    assert m.double()(x.detach().double()).dtype == rt.float64
    assert m.eval()(x).shape == y.shape


def test_module_return_indices():
    v, i = nn.MaxPool2d(2, return_indices=True)(rt.arange(16.0).reshape(1, 1, 4, 4))
    assert v.tolist() == [[[[5.0, 7.0], [13.0, 15.0]]]] and i.tolist() == [[[[5, 7], [13, 15]]]]
    v, i = nn.AdaptiveMaxPool2d(1, return_indices=True)(rt.arange(4.0).reshape(1, 2, 2))
    assert i.tolist() == [[[3]]]


@pytest.mark.parametrize("ctor,match", [
    (lambda: nn.MaxPool2d(0), "kernel_size"),
    (lambda: nn.MaxPool2d(2, stride=(1, 0)), "stride"),
    (lambda: nn.MaxPool1d(2, padding=-1), "padding"),
    (lambda: nn.MaxPool2d(2, dilation=0), "dilation"),
    (lambda: nn.AvgPool2d(-1), "kernel_size"),
    (lambda: nn.AvgPool2d(2, divisor_override=0), "divisor_override"),
    (lambda: nn.AdaptiveAvgPool2d((-1, 2)), "output_size"),
    (lambda: nn.AdaptiveMaxPool1d(-3), "output_size"),
])
def test_module_constructor_errors(ctor, match):
    with pytest.raises(ValueError, match=match):
        ctor()


# ---- functional errors (PyTorch's types and messages) --------------------------------------------

@pytest.mark.parametrize("call,exc,match", [
    (lambda: F.max_pool2d(rt.zeros(3, 7), 2), RuntimeError,
     "non-empty 3D or 4D \\(batch mode\\) tensor expected for input"),
    (lambda: F.max_pool2d(rt.zeros(2, 3, 5, 5), 6), RuntimeError,
     "Given input size: \\(3x5x5\\). Calculated output size: \\(3x0x0\\). Output size is too "
     "small"),
    (lambda: F.max_pool2d(rt.zeros(2, 3, 5, 5), 2, 1, 2), RuntimeError,
     "pad should be at most half of effective kernel size"),
    (lambda: F.max_pool2d(rt.zeros(2, 3, 5, 5), 0, 1), RuntimeError,
     "kernel size should be greater than zero, but got kH: 0 kW: 0"),
    (lambda: F.max_pool2d(rt.zeros(2, 3, 5, 5), 2.0), TypeError,
     "must be tuple of ints, not float"),
    (lambda: F.max_pool1d(rt.zeros(2, 3, 5, 5), 2), RuntimeError,
     "max_pool1d: Expected 2D or 3D"),
    (lambda: F.max_pool1d(rt.zeros(2, 3, 7), 8), RuntimeError,
     "max_pool1d\\(\\) Invalid computed output size: 0"),
    (lambda: F.avg_pool2d(rt.zeros(2, 3, 5, 5), 2, divisor_override=0), RuntimeError,
     "divisor must be not zero"),
    (lambda: F.avg_pool1d(rt.zeros(2, 3, 5, 5), 2), RuntimeError,
     "Expected 2 to 3 dimensions, but got 4-dimensional tensor"),
    (lambda: F.adaptive_avg_pool2d(rt.zeros(3, 7), 2), RuntimeError,
     "adaptive_avg_pool2d\\(\\): Expected 3D or 4D tensor, but got \\[3, 7\\]"),
    (lambda: F.adaptive_avg_pool2d(rt.zeros(2, 3, 0, 4), 2), RuntimeError,
     "with dimension 2 being empty"),
    (lambda: F.adaptive_max_pool2d(rt.zeros(2, 3, 4, 4), (1, 2, 3)), RuntimeError,
     "output_size.size\\(\\) must be 2"),
    (lambda: F.adaptive_avg_pool2d(rt.zeros(2, 3, 4, 4), (None, 2, 2, 2, 2)), ValueError,
     "Input dimension should be at least 6"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_empty_batch():
    assert F.max_pool2d(rt.zeros(0, 2, 4, 4), 2).shape == (0, 2, 2, 2)
    assert F.avg_pool2d(rt.zeros(0, 2, 4, 4), 2).shape == (0, 2, 2, 2)
    assert F.adaptive_max_pool2d(rt.zeros(0, 3, 4, 4), 2).shape == (0, 3, 2, 2)


def test_kernel_validation():
    """The private kernels refuse what could crash, whatever the caller passes."""
    from rt_tensor import _nn_pool as k
    x = rt.zeros(1, 1, 4, 4)
    with pytest.raises(TypeError):
        k.max_pool2d(rt.zeros(1, 1, 4, 4, dtype=rt.int64), 2, 2, 2, 2, 0, 0, 1, 1, 2, 2)
    with pytest.raises(ValueError):
        k.max_pool2d(x.transpose(2, 3), 2, 2, 2, 2, 0, 0, 1, 1, 2, 2)
    with pytest.raises(ValueError):
        k.max_pool2d(x, 0, 2, 2, 2, 0, 0, 1, 1, 2, 2)
    g = rt.ones(1, 1, 2, 2)
    with pytest.raises(IndexError):
        k.max_pool_backward(g, rt.full((1, 1, 2, 2), 16, dtype=rt.int64), 4, 4)
    with pytest.raises(IndexError):
        k.max_pool_gather(x, rt.full((1, 1, 2, 2), -5, dtype=rt.int64))
    with pytest.raises(ValueError):
        k.max_pool_backward(g, rt.zeros(1, 1, 2, 3, dtype=rt.int64), 4, 4)
    with pytest.raises(ValueError):
        k.upsample_bilinear2d(rt.zeros(1, 1, 0, 3), 4, 4)
    # windows that start past the input (nonsense sizes) stay in bounds
    v, i = k.max_pool2d(x, 2, 2, 2, 2, 0, 0, 1, 1, 5, 5)
    assert v.shape == (1, 1, 5, 5)
    # a huge padding is stepped over arithmetically (no loop of 10**12 steps)
    v, i = k.max_pool2d(x, 2, 2, 1, 1, 10**12, 10**12, 1, 1, 2, 2)
    assert np.isneginf(v.numpy()).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("args", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                  dict(kernel_size=2, stride=1, dilation=2),
                                  dict(kernel_size=3, stride=2, ceil_mode=True)])
def test_max_pool2d_without_indices_matches_the_argmax_path(dtype, args):
    # F.max_pool2d of a tensor that needs no gradient runs a values-only kernel; its values
    # (NaN propagation included) must be the ones the argmax kernel gathers
    r = np.random.default_rng(0)
    a = r.standard_normal((2, 3, 9, 10)).astype(dtype)
    a[0, 1, 4, 5] = np.nan
    a[1, 2, 0, 0] = np.nan
    values = F.max_pool2d(rt.from_numpy(a), **args).numpy()
    expected, idx = F.max_pool2d(rt.from_numpy(a), return_indices=True, **args)
    np.testing.assert_array_equal(values, expected.numpy())
    planes = a.reshape(6, -1)
    gathered = np.take_along_axis(planes, idx.numpy().reshape(6, -1), axis=1)
    np.testing.assert_array_equal(values.reshape(6, -1), gathered)
    assert np.isnan(values).any()
