"""interpolate / Upsample (nearest, nearest-exact, linear, bilinear, area) and pixel shuffle:
forward against numpy references of PyTorch's index formulas, gradcheck/gradgradcheck in
float64, modules, repr, errors."""
import warnings

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
import rt_nn.functional as F
from rt_autograd.testing import gradcheck, gradgradcheck


def _rng(seed=0):
    return np.random.default_rng(seed)


# ---- numpy references ------------------------------------------------------------------------

def ref_nearest_index(n_in, n_out, scale=None, exact=False):
    s = np.float32(1.0 / scale) if scale else np.float32(n_in) / np.float32(n_out)
    if not exact and n_out == n_in:
        return np.arange(n_out)
    if not exact and n_out == 2 * n_in:
        return np.arange(n_out) >> 1
    i = np.arange(n_out, dtype=np.float32)
    src = np.floor((i + np.float32(0.5)) * s if exact else i * s).astype(np.int64)
    return np.minimum(src, n_in - 1)


def ref_linear_weights(n_in, n_out, align_corners, scale=None):
    """(i0, i1, l0, l1) per output index, in float64."""
    if n_out == n_in:
        i = np.arange(n_out)
        return i, i, np.ones(n_out), np.zeros(n_out)
    if align_corners:
        ratio = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        src = ratio * np.arange(n_out)
    else:
        ratio = 1.0 / scale if scale else n_in / n_out
        src = np.maximum(ratio * (np.arange(n_out) + 0.5) - 0.5, 0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    lam = np.clip(src - i0, 0, 1)
    i1 = np.where(i0 < n_in - 1, i0 + 1, i0)
    return i0, i1, 1 - lam, lam


def ref_bilinear(x, oh, ow, align_corners, scales=(None, None)):
    h0, h1, a0, a1 = ref_linear_weights(x.shape[-2], oh, align_corners, scales[0])
    w0, w1, b0, b1 = ref_linear_weights(x.shape[-1], ow, align_corners, scales[1])
    a0, a1 = a0[:, None], a1[:, None]
    r0, r1 = x[..., h0, :], x[..., h1, :]
    return a0 * (b0 * r0[..., w0] + b1 * r0[..., w1]) + a1 * (b0 * r1[..., w0] + b1 * r1[..., w1])


# ---- forward ---------------------------------------------------------------------------------

@pytest.mark.parametrize("in_hw,kw", [
    ((4, 5), {"size": (8, 10)}), ((4, 5), {"size": (7, 3)}), ((5, 5), {"scale_factor": 2}),
    ((5, 7), {"scale_factor": 1.5}), ((6, 6), {"scale_factor": 0.5}),
    ((5, 7), {"scale_factor": (2.3, 0.7)}), ((3, 3), {"size": 3}),
    ((5, 7), {"scale_factor": 1.5, "recompute_scale_factor": True}),
])
@pytest.mark.parametrize("exact", [False, True])
@pytest.mark.parametrize("dtype", [rt.float32, rt.float64])
def test_nearest(in_hw, kw, exact, dtype):
    x = _rng(1).standard_normal((2, 3) + in_hw)
    mode = "nearest-exact" if exact else "nearest"
    y = F.interpolate(rt.tensor(x, dtype=dtype), mode=mode, **kw)
    if "size" in kw:
        size = kw["size"] if isinstance(kw["size"], tuple) else (kw["size"],) * 2
        scales = (None, None)
    else:
        sf = kw["scale_factor"] if isinstance(kw["scale_factor"], tuple) else \
            (kw["scale_factor"],) * 2
        size = tuple(int(n * s) for n, s in zip(in_hw, sf))
        scales = (None, None) if kw.get("recompute_scale_factor") else sf
    ih = ref_nearest_index(in_hw[0], size[0], scales[0], exact)
    iw = ref_nearest_index(in_hw[1], size[1], scales[1], exact)
    assert y.dtype == dtype and tuple(y.shape) == (2, 3) + size
    np.testing.assert_array_equal(y.numpy(), x[:, :, ih][:, :, :, iw].astype(y.numpy().dtype))


@pytest.mark.parametrize("in_hw,size,ac", [((4, 5), (8, 10), False), ((4, 5), (8, 10), True),
                                           ((6, 3), (4, 7), False), ((6, 3), (4, 7), True),
                                           ((3, 3), (3, 3), False), ((5, 4), (1, 1), True),
                                           ((1, 4), (3, 9), False)])
@pytest.mark.parametrize("dtype", [rt.float32, rt.float64])
def test_bilinear(in_hw, size, ac, dtype):
    x = _rng(2).standard_normal((2, 3) + in_hw)
    y = F.interpolate(rt.tensor(x, dtype=dtype), size=size, mode="bilinear", align_corners=ac)
    tol = 1e-5 if dtype == rt.float32 else 1e-12
    np.testing.assert_allclose(y.numpy(), ref_bilinear(x, *size, ac), rtol=tol, atol=tol)


def test_bilinear_scale_factor_is_used_as_given():
    x = _rng(3).standard_normal((1, 1, 5, 7))
    y = F.interpolate(rt.tensor(x), scale_factor=1.7, mode="bilinear")
    np.testing.assert_allclose(y.numpy(), ref_bilinear(x, 8, 11, False, (1.7, 1.7)), rtol=1e-12)
    y = F.interpolate(rt.tensor(x), scale_factor=1.7, mode="bilinear",
                      recompute_scale_factor=True)
    np.testing.assert_allclose(y.numpy(), ref_bilinear(x, 8, 11, False), rtol=1e-12)


def test_linear_and_area_1d():
    x = _rng(4).standard_normal((2, 3, 6))
    y = F.interpolate(rt.tensor(x), size=9, mode="linear", align_corners=True)
    ref = ref_bilinear(x[:, :, None], 1, 9, True)[:, :, 0]
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-12)
    y = F.interpolate(rt.tensor(x), size=3, mode="area")
    np.testing.assert_allclose(y.numpy(), x.reshape(2, 3, 3, 2).mean(-1), rtol=1e-12)
    y = F.interpolate(rt.tensor(x), scale_factor=2, mode="nearest")
    np.testing.assert_array_equal(y.numpy(), np.repeat(x, 2, axis=-1))


def test_area_2d_is_adaptive_average():
    x = _rng(5).standard_normal((1, 2, 6, 8))
    y = F.interpolate(rt.tensor(x), scale_factor=0.5, mode="area")
    np.testing.assert_allclose(y.numpy(), x.reshape(1, 2, 3, 2, 4, 2).mean((3, 5)), rtol=1e-12)


def test_uint8_and_half():
    x = rt.tensor([[[[1, 2], [3, 4]]]], dtype=rt.uint8)
    y = F.interpolate(x, scale_factor=2)
    assert y.dtype == rt.uint8 and y.tolist()[0][0][0] == [1, 1, 2, 2]
    h = rt.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=rt.bfloat16)
    assert F.interpolate(h, size=3, mode="bilinear").dtype == rt.bfloat16
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        F.interpolate(rt.tensor([[[[1, 2]]]]), scale_factor=2)


# ---- gradients -------------------------------------------------------------------------------

GRAD_CASES = [
    ("nearest", dict(size=(5, 7), mode="nearest"), (1, 2, 3, 4)),
    ("nearest down", dict(scale_factor=0.6, mode="nearest"), (1, 2, 5, 6)),
    ("nearest-exact", dict(size=(5, 3), mode="nearest-exact"), (1, 2, 3, 4)),
    ("bilinear", dict(size=(5, 7), mode="bilinear"), (1, 2, 3, 4)),
    ("bilinear ac", dict(size=(2, 7), mode="bilinear", align_corners=True), (1, 2, 3, 4)),
    ("bilinear sf", dict(scale_factor=1.7, mode="bilinear"), (1, 2, 3, 4)),
    ("linear", dict(size=7, mode="linear"), (2, 2, 4)),
    ("nearest 1d", dict(scale_factor=2.5, mode="nearest"), (2, 2, 4)),
    ("area", dict(size=(2, 3), mode="area"), (1, 2, 5, 7)),
]


@pytest.mark.parametrize("name,kw,shape", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradcheck(name, kw, shape):
    x = rt.tensor(_rng(6).standard_normal(shape), requires_grad=True)
    fn = lambda t: F.interpolate(t, **kw)  # noqa: E731
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_grad_fn_names():
    x = rt.zeros(1, 1, 2, 2, requires_grad=True)
    assert F.interpolate(x, scale_factor=2).grad_fn.name() == "UpsampleNearest2DBackward0"
    assert F.interpolate(x, size=3, mode="bilinear").grad_fn.name() == \
        "UpsampleBilinear2DBackward0"


# ---- pixel shuffle ---------------------------------------------------------------------------

def ref_pixel_shuffle(x, r):
    *lead, c, h, w = x.shape
    oc = c // (r * r)
    y = x.reshape(*lead, oc, r, r, h, w)
    n = len(lead)
    y = y.transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return y.reshape(*lead, oc, h * r, w * r)


@pytest.mark.parametrize("shape,r", [((2, 8, 3, 4), 2), ((9, 2, 2), 3), ((2, 2, 4, 1, 1), 2)])
def test_pixel_shuffle_roundtrip(shape, r):
    x = _rng(7).standard_normal(shape)
    y = F.pixel_shuffle(rt.tensor(x), r)
    np.testing.assert_array_equal(y.numpy(), ref_pixel_shuffle(x, r))
    np.testing.assert_array_equal(F.pixel_unshuffle(y, r).numpy(), x)
    xt = rt.tensor(x, requires_grad=True)
    assert gradcheck(lambda t: F.pixel_shuffle(t, r), (xt,))
    assert gradcheck(lambda t: F.pixel_unshuffle(t, r), (rt.tensor(y.numpy(), requires_grad=True),))


# ---- modules ---------------------------------------------------------------------------------

MODULES = [
    (lambda: nn.Upsample(scale_factor=2), (2, 3, 4, 5), (2, 3, 8, 10),
     "Upsample(scale_factor=2.0, mode='nearest')"),
    (lambda: nn.Upsample(size=(3, 4), mode="bilinear"), (2, 3, 4, 5), (2, 3, 3, 4),
     "Upsample(size=(3, 4), mode='bilinear')"),
    (lambda: nn.Upsample(scale_factor=(2, 3), mode="nearest-exact"), (1, 1, 2, 2), (1, 1, 4, 6),
     "Upsample(scale_factor=(2.0, 3.0), mode='nearest-exact')"),
    (lambda: nn.Upsample(size=7, mode="linear", align_corners=True), (2, 3, 4), (2, 3, 7),
     "Upsample(size=7, mode='linear')"),
    (lambda: nn.UpsamplingNearest2d(scale_factor=2), (1, 2, 3, 3), (1, 2, 6, 6),
     "UpsamplingNearest2d(scale_factor=2.0, mode='nearest')"),
    (lambda: nn.UpsamplingBilinear2d(size=5), (1, 2, 3, 3), (1, 2, 5, 5),
     "UpsamplingBilinear2d(size=5, mode='bilinear')"),
    (lambda: nn.PixelShuffle(2), (2, 8, 3, 4), (2, 2, 6, 8), "PixelShuffle(upscale_factor=2)"),
    (lambda: nn.PixelUnshuffle(2), (2, 2, 6, 8), (2, 8, 3, 4),
     "PixelUnshuffle(downscale_factor=2)"),
]


@pytest.mark.parametrize("ctor,shape,out_shape,text", MODULES, ids=[m[3] for m in MODULES])
def test_module_table(ctor, shape, out_shape, text):
    m = ctor()
    assert repr(m) == text and m.state_dict() == {}
    x = rt.tensor(_rng(8).standard_normal(shape), dtype=rt.float32, requires_grad=True)
    y = m(x)
    assert tuple(y.shape) == out_shape and y.dtype == rt.float32
    y.sum().backward()
    assert x.grad.shape == x.shape
    assert m.double()(x.detach().double()).dtype == rt.float64


def test_module_constructor_errors():
    with pytest.raises(ValueError, match="mode"):
        nn.Upsample(scale_factor=2, mode="cubic")
    with pytest.raises(ValueError, match="upscale_factor"):
        nn.PixelShuffle(0)
    with pytest.raises(ValueError, match="downscale_factor"):
        nn.PixelUnshuffle(-1)


def test_deprecated_functions_warn():
    x = rt.zeros(1, 1, 2, 2)
    with pytest.warns(UserWarning, match="upsample_bilinear` is deprecated"):
        assert F.upsample_bilinear(x, scale_factor=2).shape == (1, 1, 4, 4)
    with pytest.warns(UserWarning, match="upsample_nearest` is deprecated"):
        F.upsample_nearest(x, size=3)
    with pytest.warns(UserWarning, match="`nn.functional.upsample` is deprecated"):
        F.upsample(x, size=3)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: F.interpolate(rt.zeros(3, 7), size=4), NotImplementedError,
     "Only 3D, 4D and 5D input Tensors supported \\(got 2D\\)"),
    (lambda: F.interpolate(rt.zeros(1, 1, 4, 4), size=4, scale_factor=2), ValueError,
     "only one of size or scale_factor should be defined"),
    (lambda: F.interpolate(rt.zeros(1, 1, 4, 4)), ValueError,
     "either size or scale_factor should be defined"),
    (lambda: F.interpolate(rt.zeros(1, 1, 4, 4), size=4, align_corners=True), ValueError,
     "align_corners option can only be set with the interpolating modes"),
    (lambda: F.interpolate(rt.zeros(1, 1, 4, 4), size=(4, 4, 4)), ValueError,
     "Input and output must have the same number of spatial dimensions"),
    (lambda: F.interpolate(rt.zeros(1, 1, 5, 5), scale_factor=0.1), RuntimeError,
     "Input and output sizes should be greater than 0, but got input \\(H: 5, W: 5\\) output "
     "\\(H: 0, W: 0\\)"),
    (lambda: F.interpolate(rt.zeros(2, 0, 4, 4), size=8), RuntimeError,
     "Non-empty 4D data tensor expected but got a tensor with sizes \\[2, 0, 4, 4\\]"),
    (lambda: F.interpolate(rt.zeros(1, 1, 4), size=8, mode="bilinear"), NotImplementedError,
     "Got 3D input, but bilinear mode needs 4D input"),
    (lambda: F.interpolate(rt.zeros(1, 1, 4, 4), size=8, mode="bicubic"), NotImplementedError,
     "not implemented in rt"),
    (lambda: F.pixel_shuffle(rt.zeros(2, 3, 5, 5), 2), RuntimeError,
     "divisible by the square of upscale_factor, but input.size\\(-3\\)=3 is not divisible by 4"),
    (lambda: F.pixel_unshuffle(rt.zeros(1, 1, 4, 5), 2), RuntimeError,
     "pixel_unshuffle expects width to be divisible by downscale_factor"),
    (lambda: F.pixel_shuffle(rt.zeros(3, 7), 2), RuntimeError,
     "pixel_shuffle expects input to have at least 3 dimensions"),
])
def test_errors(call, exc, match):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(exc, match=match):
            call()


def test_empty_batch():
    assert F.interpolate(rt.zeros(0, 3, 4, 4), size=8).shape == (0, 3, 8, 8)
    assert F.interpolate(rt.zeros(0, 3, 4, 4), size=8, mode="bilinear").shape == (0, 3, 8, 8)
