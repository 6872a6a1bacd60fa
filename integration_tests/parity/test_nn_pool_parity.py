"""Pooling, upsampling, pixel shuffle, dropout and embedding against PyTorch 2.13: the same
modules and functions on the same inputs must give the same outputs, indices and gradients
(bit for bit where PyTorch's CPU formulas are reproduced: max/avg/adaptive pooling, nearest and
bilinear resampling), the same repr, and the same exception types and messages."""
import random
import warnings
import zlib

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn
import rt_nn.functional as F

torch = pytest.importorskip("torch", reason="PyTorch cannot be imported; the parity suite "
                                            "runs in `tox -e parity` (torch==2.13.0)")
TF = torch.nn.functional


def _rng(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def _pair(x, requires_grad=True):
    """The same array as an rt and a torch leaf."""
    a = rt.from_numpy(x.copy())
    b = torch.from_numpy(x.copy())
    if requires_grad and x.dtype.kind == "f":
        a.requires_grad_()
        b.requires_grad_()
    return a, b


def _np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return t.detach().numpy()


def _close(a, b, exact, dtype):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    if exact:
        np.testing.assert_array_equal(a, b)
    else:
        rtol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)


def _check_same(rt_fn, torch_fn, x, exact=True, name="case"):
    """Forward values (and indices), then input gradients for a random output gradient."""
    xr, xt = _pair(x)
    yr, yt = rt_fn(xr), torch_fn(xt)
    if isinstance(yt, tuple):
        np.testing.assert_array_equal(_np(yr[1]), _np(yt[1]))
        yr, yt = yr[0], yt[0]
    _close(_np(yr), _np(yt), exact, x.dtype)
    if yt.numel() == 0:
        return
    g = _rng(name + "g").standard_normal(tuple(yt.shape)).astype(x.dtype)
    yr.backward(rt.from_numpy(g.copy()))
    yt.backward(torch.from_numpy(g.copy()))
    _close(_np(xr.grad), _np(xt.grad), exact, x.dtype)


# ---- modules: one line each: (constructor args, input shape) -----------------------------------

MODULES = [
    ("MaxPool1d", (3,), {}, (2, 3, 10)),
    ("MaxPool1d", (3, 2, 1), {"dilation": 2, "ceil_mode": True}, (2, 3, 11)),
    ("MaxPool1d", (2,), {"return_indices": True}, (3, 9)),
    ("MaxPool2d", (2,), {}, (2, 3, 8, 8)),
    ("MaxPool2d", ((3, 2), (2, 1), (1, 0)), {"dilation": (1, 2), "ceil_mode": True},
     (2, 3, 9, 7)),
    ("MaxPool2d", (3, 2, 1), {"return_indices": True}, (3, 7, 6)),
    ("AvgPool1d", (3,), {}, (2, 3, 10)),
    ("AvgPool1d", (4, 3, 2), {"ceil_mode": True, "count_include_pad": False}, (2, 3, 11)),
    ("AvgPool2d", (2,), {}, (2, 3, 8, 8)),
    ("AvgPool2d", (3, 2, 1), {"ceil_mode": True, "count_include_pad": False}, (2, 2, 9, 7)),
    ("AvgPool2d", ((3, 2), 1, (1, 1)), {"divisor_override": 5}, (3, 6, 5)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 11)),
    ("AdaptiveAvgPool1d", (1,), {}, (2, 3, 11)),
    ("AdaptiveAvgPool2d", ((3, 4),), {}, (2, 3, 7, 9)),
    ("AdaptiveAvgPool2d", ((None, 5),), {}, (2, 3, 7, 9)),
    ("AdaptiveAvgPool2d", (1,), {}, (2, 3, 7, 9)),
    ("AdaptiveMaxPool1d", (4,), {"return_indices": True}, (2, 3, 11)),
    ("AdaptiveMaxPool2d", ((3, 4),), {}, (2, 3, 7, 9)),
    ("AdaptiveMaxPool2d", (5,), {"return_indices": True}, (3, 7, 9)),
    ("LPPool1d", (2, 3), {}, (2, 3, 10)),
    ("LPPool2d", (3, 2), {"stride": 1}, (2, 3, 6, 6)),
    ("Upsample", (), {"scale_factor": 2}, (2, 3, 4, 5)),
    ("Upsample", (), {"size": (7, 3), "mode": "nearest-exact"}, (2, 3, 4, 5)),
    ("Upsample", (), {"scale_factor": 1.7, "mode": "bilinear"}, (2, 3, 4, 5)),
    ("Upsample", (), {"size": 9, "mode": "bilinear", "align_corners": True}, (2, 3, 4, 5)),
    ("Upsample", (), {"scale_factor": 3, "mode": "linear"}, (2, 3, 5)),
    ("Upsample", (), {"size": 3, "mode": "area"}, (2, 3, 7, 8)),
    ("UpsamplingNearest2d", (), {"scale_factor": 2}, (1, 2, 3, 4)),
    ("UpsamplingBilinear2d", (), {"size": (5, 7)}, (1, 2, 3, 4)),
    ("PixelShuffle", (2,), {}, (2, 8, 3, 4)),
    ("PixelUnshuffle", (2,), {}, (2, 2, 6, 4)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,args,kwargs,shape", MODULES,
                         ids=[f"{m[0]}-{i}" for i, m in enumerate(MODULES)])
def test_module(name, args, kwargs, shape, dtype):
    mr = getattr(rt_nn, name)(*args, **kwargs)
    mt = getattr(torch.nn, name)(*args, **kwargs)
    assert repr(mr) == repr(mt)
    x = _rng(name + str(args)).standard_normal(shape).astype(dtype)
    if name.startswith("LPPool"):
        x = np.abs(x) + 0.1
    exact = not name.startswith("LPPool") and "area" not in str(kwargs) and \
        not (name.startswith("AdaptiveAvg") and args == (1,))      # a mean in PyTorch
    _check_same(mr, mt, x, exact=exact, name=name + str(args))


# ---- functional sweeps ---------------------------------------------------------------------------

def _pool_cases(seed, n):
    r = random.Random(seed)
    for _ in range(n):
        kh, kw = r.randint(1, 4), r.randint(1, 4)
        yield dict(H=r.randint(1, 12), W=r.randint(1, 12), k=(kh, kw),
                   s=(r.randint(1, 3), r.randint(1, 3)),
                   p=(r.randint(0, kh // 2), r.randint(0, kw // 2)),
                   d=(r.randint(1, 2), r.randint(1, 2)), ceil=r.random() < 0.5,
                   cip=r.random() < 0.5, div=r.choice([None, None, 3, -2]),
                   dtype=r.choice([np.float32, np.float64]))


@pytest.mark.parametrize("case", list(_pool_cases(1, 120)))
def test_max_avg_pool2d_sweep(case):
    c = case
    x = _rng(str(c)).standard_normal((2, 3, c["H"], c["W"])).astype(c["dtype"])
    if c["H"] * c["W"] > 4:
        x[0, 0].flat[3] = x[0, 0].flat[1]       # a tie: the first maximum wins
    args = (c["k"], c["s"], c["p"], c["d"], c["ceil"])
    try:
        TF.max_pool2d(torch.from_numpy(x), *args)
    except RuntimeError as e:
        with pytest.raises(RuntimeError, match=_re(e)):
            F.max_pool2d(rt.from_numpy(x), *args)
    else:
        _check_same(lambda t: F.max_pool2d(t, *args, return_indices=True),
                    lambda t: TF.max_pool2d(t, *args, return_indices=True), x, name=str(c))
    aargs = (c["k"], c["s"], c["p"], c["ceil"], c["cip"], c["div"])
    try:
        TF.avg_pool2d(torch.from_numpy(x), *aargs)
    except RuntimeError as e:
        with pytest.raises(RuntimeError, match=_re(e)):
            F.avg_pool2d(rt.from_numpy(x), *aargs)
    else:
        _check_same(lambda t: F.avg_pool2d(t, *aargs), lambda t: TF.avg_pool2d(t, *aargs), x,
                    name=str(c))


@pytest.mark.parametrize("case", list(_pool_cases(2, 60)))
def test_pool1d_sweep(case):
    c = case
    x = _rng(str(c)).standard_normal((2, 3, c["W"])).astype(c["dtype"])
    args = (c["k"][1], c["s"][1], c["p"][1], c["d"][1], c["ceil"])
    for with_grad in (False, True):
        for ri in (False, True):
            try:
                TF.max_pool1d(torch.from_numpy(x).requires_grad_(with_grad), *args,
                              return_indices=ri)
            except RuntimeError as e:
                with pytest.raises(RuntimeError, match=_re(e)):
                    F.max_pool1d(rt.from_numpy(x).requires_grad_(with_grad), *args,
                                 return_indices=ri)
            else:
                _check_same(lambda t: F.max_pool1d(t, *args, return_indices=ri),
                            lambda t: TF.max_pool1d(t, *args, return_indices=ri), x, name=str(c))
    aargs = (c["k"][1], c["s"][1], c["p"][1], c["ceil"], c["cip"])
    try:
        TF.avg_pool1d(torch.from_numpy(x), *aargs)
    except RuntimeError as e:
        with pytest.raises(RuntimeError, match=_re(e)):
            F.avg_pool1d(rt.from_numpy(x), *aargs)
    else:
        _check_same(lambda t: F.avg_pool1d(t, *aargs), lambda t: TF.avg_pool1d(t, *aargs), x,
                    name=str(c))


@pytest.mark.parametrize("seed", range(40))
def test_adaptive_sweep(seed):
    r = random.Random(seed)
    dtype = r.choice([np.float32, np.float64])
    H, W = r.randint(1, 13), r.randint(1, 13)
    oh, ow = r.randint(1, 15), r.randint(1, 15)
    x = _rng(f"ad{seed}").standard_normal((2, 3, H, W)).astype(dtype)
    _check_same(lambda t: F.adaptive_max_pool2d(t, (oh, ow), True),
                lambda t: TF.adaptive_max_pool2d(t, (oh, ow), True), x, name=f"am{seed}")
    _check_same(lambda t: F.adaptive_avg_pool2d(t, (oh, ow)),
                lambda t: TF.adaptive_avg_pool2d(t, (oh, ow)), x, exact=(oh, ow) != (1, 1),
                name=f"aa{seed}")
    x1 = x[:, :, 0]
    _check_same(lambda t: F.adaptive_max_pool1d(t, ow, True),
                lambda t: TF.adaptive_max_pool1d(t, ow, True), x1, name=f"am1{seed}")
    _check_same(lambda t: F.adaptive_avg_pool1d(t, ow), lambda t: TF.adaptive_avg_pool1d(t, ow),
                x1, exact=ow != 1, name=f"aa1{seed}")


def _interp_cases(n):
    r = random.Random(7)
    for _ in range(n):
        mode = r.choice(["nearest", "nearest-exact", "bilinear", "linear", "area"])
        nd = 3 if mode == "linear" else r.choice([3, 4]) if mode != "bilinear" else 4
        kw = {}
        if r.random() < 0.5:
            kw["size"] = r.randint(1, 20) if r.random() < 0.3 else \
                tuple(r.randint(1, 20) for _ in range(nd - 2))
        else:
            kw["scale_factor"] = r.choice([0.5, 0.7, 1.0, 1.5, 2.0, 2.3, 3.0, (1.5, 2.5)[:nd - 2]])
            if mode != "area" and r.random() < 0.3:
                kw["recompute_scale_factor"] = True
        if mode in ("bilinear", "linear"):
            kw["align_corners"] = r.random() < 0.5
        shape = (2, r.choice([1, 3, 9])) + tuple(r.randint(1, 9) for _ in range(nd - 2))
        yield mode, shape, kw, r.choice([np.float32, np.float64])


@pytest.mark.parametrize("mode,shape,kw,dtype", list(_interp_cases(150)))
def test_interpolate_sweep(mode, shape, kw, dtype):
    x = _rng(f"{mode}{shape}{kw}").standard_normal(shape).astype(dtype)
    try:
        TF.interpolate(torch.from_numpy(x), mode=mode, **kw)
    except (RuntimeError, ValueError) as e:
        with pytest.raises(type(e), match=_re(e)):
            F.interpolate(rt.from_numpy(x), mode=mode, **kw)
        return
    # nearest and the generic bilinear kernel are bit-exact; PyTorch's channels-last bilinear
    # kernel (small outputs) sums in a vector order that depends on C and the CPU
    exact = mode in ("nearest", "nearest-exact") or (mode == "bilinear" and shape[1] < 8)
    _check_same(lambda t: F.interpolate(t, mode=mode, **kw),
                lambda t: TF.interpolate(t, mode=mode, **kw), x, exact=exact and mode != "linear",
                name=f"{mode}{shape}{kw}")


@pytest.mark.parametrize("size", [(40, 100), (97, 33)])
@pytest.mark.parametrize("align_corners", [False, True])
def test_bilinear_large_output_bit_exact(size, align_corners):
    """oH + oW > 128: PyTorch's generic kernel, reproduced to the bit (FMA order included)."""
    for dtype in (np.float32, np.float64):
        x = _rng(f"big{size}").standard_normal((2, 9, 13, 11)).astype(dtype)
        _check_same(lambda t: F.interpolate(t, size=size, mode="bilinear",
                                            align_corners=align_corners),
                    lambda t: TF.interpolate(t, size=size, mode="bilinear",
                                             align_corners=align_corners), x, name=str(size))


def test_uint8_nearest():
    x = _rng("u8").integers(0, 255, (1, 2, 3, 5)).astype(np.uint8)
    np.testing.assert_array_equal(
        F.interpolate(rt.from_numpy(x), scale_factor=2.5).numpy(),
        TF.interpolate(torch.from_numpy(x), scale_factor=2.5).numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pixel_shuffle(dtype):
    x = _rng("ps").standard_normal((2, 3, 18, 4, 5)).astype(dtype)
    _check_same(lambda t: F.pixel_shuffle(t, 3), lambda t: TF.pixel_shuffle(t, 3), x)
    x = _rng("pu").standard_normal((3, 6, 4)).astype(dtype)
    _check_same(lambda t: F.pixel_unshuffle(t, 2), lambda t: TF.pixel_unshuffle(t, 2), x)


def test_integer_pools():
    x = _rng("int").integers(-50, 50, (2, 3, 7, 6)).astype(np.int64)
    a, b = rt.from_numpy(x), torch.from_numpy(x)
    np.testing.assert_array_equal(F.max_pool2d(a, 3, 2, 1).numpy(),
                                  TF.max_pool2d(b, 3, 2, 1).numpy())
    np.testing.assert_array_equal(F.avg_pool2d(a, 3, 2, 1).numpy(),
                                  TF.avg_pool2d(b, 3, 2, 1).numpy())
    assert F.avg_pool2d(a, 3).dtype == rt.int64


# ---- embedding, one_hot --------------------------------------------------------------------------

@pytest.mark.parametrize("padding_idx,sgbf", [(None, False), (2, False), (-1, True), (0, True)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding(padding_idx, sgbf, dtype):
    w = _rng("emb").standard_normal((6, 4)).astype(dtype)
    idx = np.array([[1, 2, 2, 5], [0, 5, 2, 3]])
    er = rt_nn.Embedding.from_pretrained(rt.from_numpy(w.copy()), freeze=False,
                                         padding_idx=padding_idx, scale_grad_by_freq=sgbf)
    et = torch.nn.Embedding.from_pretrained(torch.from_numpy(w.copy()), freeze=False,
                                            padding_idx=padding_idx, scale_grad_by_freq=sgbf)
    assert repr(er) == repr(et)
    yr, yt = er(rt.from_numpy(idx)), et(torch.from_numpy(idx))
    np.testing.assert_array_equal(_np(yr), _np(yt))
    g = _rng("embg").standard_normal(tuple(yt.shape)).astype(dtype)
    yr.backward(rt.from_numpy(g))
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(_np(er.weight.grad), _np(et.weight.grad), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5])
def test_embedding_max_norm(norm_type):
    w = (_rng("mn").standard_normal((7, 5)) * 2).astype(np.float32)
    idx = np.array([3, 1, 3, 6, 0])
    wr, wt = rt.from_numpy(w.copy()), torch.from_numpy(w.copy())
    yr = F.embedding(rt.from_numpy(idx), wr, max_norm=1.5, norm_type=norm_type)
    yt = TF.embedding(torch.from_numpy(idx), wt, max_norm=1.5, norm_type=norm_type)
    np.testing.assert_allclose(wr.numpy(), wt.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(_np(yr), _np(yt), rtol=1e-6, atol=1e-7)


def test_embedding_init_distribution():
    e = rt_nn.Embedding(2000, 50, padding_idx=3)
    w = e.weight.detach().numpy()
    assert (w[3] == 0).all()
    rest = np.delete(w, 3, axis=0)
    assert abs(rest.mean()) < 0.01 and abs(rest.std() - 1.0) < 0.01
    assert [k for k, _ in e.state_dict().items()] == \
        list(torch.nn.Embedding(3, 2).state_dict().keys())


@pytest.mark.parametrize("num_classes", [-1, 5, 7])
def test_one_hot(num_classes):
    x = np.array([[0, 3, 4], [1, 1, 2]])
    np.testing.assert_array_equal(F.one_hot(rt.from_numpy(x), num_classes).numpy(),
                                  TF.one_hot(torch.from_numpy(x), num_classes).numpy())
    assert F.one_hot(rt.from_numpy(x), num_classes).dtype == rt.int64


# ---- dropout -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["dropout", "dropout1d", "dropout2d", "dropout3d",
                                  "alpha_dropout", "feature_alpha_dropout"])
def test_dropout_deterministic_cases(name):
    shape = {"dropout1d": (2, 3, 4), "dropout2d": (2, 3, 4, 5), "dropout3d": (2, 3, 2, 4, 5)}
    x = _rng(name).standard_normal(shape.get(name, (2, 3, 4, 5)))
    for p, training in ((0.5, False), (0.0, True), (1.0, True)):
        yr = getattr(F, name)(rt.from_numpy(x), p, training)
        yt = getattr(TF, name)(torch.from_numpy(x), p, training)
        np.testing.assert_array_equal(_np(yr), _np(yt))


@pytest.mark.parametrize("name", ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
                                  "AlphaDropout", "FeatureAlphaDropout"])
def test_dropout_modules_repr_and_eval(name):
    mr, mt = getattr(rt_nn, name)(0.3), getattr(torch.nn, name)(0.3)
    assert repr(mr) == repr(mt)
    shape = {"Dropout1d": (2, 3, 4), "Dropout3d": (2, 3, 2, 4, 5)}.get(name, (2, 3, 4, 5))
    x = _rng(name).standard_normal(shape)
    xr = rt.from_numpy(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert mr.eval()(xr) is xr
    assert mt.eval()(torch.from_numpy(x)) is not None


def test_dropout_statistics_match():
    """Same distribution as PyTorch's: kept fraction 1-p, kept values scaled by 1/(1-p)."""
    rt.manual_seed(0)
    x = rt.ones(200000)
    y = F.dropout(x, 0.3).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.7)}
    assert abs((y != 0).mean() - 0.7) < 0.005
    a = F.alpha_dropout(rt.randn(200000, dtype=rt.float64), 0.2, True).numpy()
    assert abs(a.mean()) < 0.01 and abs(a.std() - 1) < 0.01


# ---- errors: the same exception type and message -------------------------------------------------

def _re(e):
    import re
    return "^" + re.escape(str(e)) + "$"


X4 = np.zeros((2, 3, 5, 5))
X3 = np.zeros((2, 3, 7))
X2 = np.zeros((3, 7))
ERRORS = [
    ("max_pool2d", (X4, 0), {}),
    ("max_pool2d", (X4, 0, 1), {}),
    ("max_pool2d", (X4, 2, -1), {}),
    ("max_pool2d", (X4, 2, 1, -1), {}),
    ("max_pool2d", (X4, 2, 1, 2), {}),
    ("max_pool2d", (X4, 3, 1, 2, 2), {}),
    ("max_pool2d", (X4, 2, 1, 0, 0), {}),
    ("max_pool2d", (X4, 6), {}),
    ("max_pool2d", (X2, 2), {}),
    ("max_pool2d", (np.zeros((2, 0, 4, 4)), 2), {}),
    ("max_pool2d", (X4, (2, 2, 2)), {}),
    ("max_pool2d", (X4, 2, (1, 1, 1)), {}),
    ("max_pool2d", (X4, 2.0), {}),
    ("max_pool2d", (X4, [2.0, 2]), {}),
    ("max_pool1d", (X3, 0), {}),
    ("max_pool1d", (X3, 2, 0), {}),
    ("max_pool1d", (X3, 2, 1, 2), {}),
    ("max_pool1d", (X3, 8), {}),
    ("max_pool1d", (X4, 2), {}),
    ("max_pool1d", (X3, (2, 2)), {}),
    ("max_pool1d", (X3, 8), {"return_indices": True}),
    ("max_pool1d", (X4, 2), {"return_indices": True}),
    ("max_pool1d", (X3, (2, 2)), {"return_indices": True}),
    ("avg_pool2d", (X4, 0), {}),
    ("avg_pool2d", (X4, 2, 1, 2), {}),
    ("avg_pool2d", (X4, 6), {}),
    ("avg_pool2d", (X2, 2), {}),
    ("avg_pool2d", (np.zeros((1, 1, 2, 4, 4)), 2), {}),
    ("avg_pool2d", (X4, 2), {"divisor_override": 0}),
    ("avg_pool1d", (X3, 8), {}),
    ("avg_pool1d", (X4, 2), {}),
    ("avg_pool1d", (X3, (2, 2)), {}),
    ("adaptive_avg_pool2d", (X2, 2), {}),
    ("adaptive_avg_pool2d", (X4, -1), {}),
    ("adaptive_avg_pool2d", (X4, (1, 2, 3)), {}),
    ("adaptive_avg_pool2d", (X2, (None, 2)), {}),
    ("adaptive_avg_pool2d", (np.zeros((2, 3, 0, 4)), 2), {}),
    ("adaptive_avg_pool1d", (X4, 2), {}),
    ("adaptive_avg_pool1d", (X3, -1), {}),
    ("adaptive_max_pool2d", (X2, 2), {}),
    ("adaptive_max_pool2d", (X4, -2), {}),
    ("adaptive_max_pool2d", (np.zeros((2, 3, 0, 4)), 2), {}),
    ("adaptive_max_pool1d", (X4, 2), {}),
    ("adaptive_max_pool1d", (X3, (2, 2)), {}),
    ("adaptive_max_pool1d", (np.zeros((2, 3, 0)), 2), {}),
    ("pixel_shuffle", (X2, 2), {}),
    ("pixel_shuffle", (X4, 2), {}),
    ("pixel_shuffle", (X4, 0), {}),
    ("pixel_unshuffle", (X4, 2), {}),
    ("pixel_unshuffle", (np.zeros((1, 1, 4, 5)), 2), {}),
    ("pixel_unshuffle", (X2, 2), {}),
    ("interpolate", (X2,), {"size": 4}),
    ("interpolate", (X4,), {"size": 4, "scale_factor": 2}),
    ("interpolate", (X4,), {}),
    ("interpolate", (X4,), {"size": 4, "align_corners": True}),
    ("interpolate", (X4,), {"size": (4, 4, 4)}),
    ("interpolate", (X4,), {"scale_factor": (2, 2, 2)}),
    ("interpolate", (X4,), {"size": (4.0, 4)}),
    ("interpolate", (X4,), {"size": 0}),
    ("interpolate", (X4,), {"scale_factor": 0.1, "mode": "bilinear"}),
    ("interpolate", (X3,), {"size": 0}),
    ("interpolate", (X3,), {"size": 4, "mode": "bilinear"}),
    ("interpolate", (X4,), {"size": 4, "mode": "linear"}),
    ("interpolate", (X4,), {"size": 4, "mode": "foo"}),
    ("interpolate", (X4,), {"size": 4, "recompute_scale_factor": True}),
    ("interpolate", (np.zeros((2, 0, 4, 4)),), {"size": 8}),
    ("interpolate", (np.zeros((2, 1, 0, 4)),), {"size": 8}),
    ("interpolate", (X4,), {"scale_factor": 2, "antialias": True}),
    ("dropout", (X4, 1.5), {}),
    ("dropout1d", (X4, 0.5), {}),
    ("alpha_dropout", (X4, -0.5), {}),
    ("one_hot", (np.array([1.0]), 3), {}),
    ("one_hot", (np.array([1], dtype=np.int32), 3), {}),
    ("one_hot", (np.array([-1]), 3), {}),
    ("one_hot", (np.array([3]), 3), {}),
    ("one_hot", (np.array([], dtype=np.int64),), {}),
    ("embedding", (np.array([1.0]), np.zeros((3, 2))), {}),
    ("embedding", (np.array([3]), np.zeros((3, 2))), {}),
    ("embedding", (np.array([1]), np.zeros(3)), {}),
    ("embedding", (np.array([1]), np.zeros((3, 2))), {"padding_idx": 3}),
    ("embedding", (np.array([1]), np.zeros((3, 2))), {"padding_idx": -4}),
]


@pytest.mark.parametrize("fname,args,kwargs", ERRORS,
                         ids=[f"{e[0]}-{i}" for i, e in enumerate(ERRORS)])
def test_errors(fname, args, kwargs):
    def conv(lib):
        return [lib(a) if isinstance(a, np.ndarray) else a for a in args]
    try:
        getattr(TF, fname)(*conv(torch.from_numpy), **kwargs)
    except Exception as e:
        expected = e
    else:
        pytest.fail("torch did not raise")
    with pytest.raises(type(expected), match=_re(expected)):
        getattr(F, fname)(*conv(rt.from_numpy), **kwargs)


def test_dropout2d_warnings():
    for shape in [(3, 4), (2, 3, 4)]:
        x = np.zeros(shape)
        with warnings.catch_warnings(record=True) as wt:
            warnings.simplefilter("always")
            TF.dropout2d(torch.from_numpy(x), 0.5, False)
        with warnings.catch_warnings(record=True) as wr:
            warnings.simplefilter("always")
            F.dropout2d(rt.from_numpy(x), 0.5, False)
        assert [str(w.message) for w in wr] == [str(w.message) for w in wt]
