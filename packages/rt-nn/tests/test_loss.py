"""Losses and distances: every functional against a numpy reference over its options
(reductions, weights, ignore_index, label smoothing, margins, p, ...), gradcheck and
gradgradcheck (float64) for the input and the target where it is differentiable, the loss
modules (one line per module: constructor, inputs, functional form), PyTorch's errors and
warnings, and the fused cross-entropy kernels directly."""
import math
import warnings

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
import rt_nn.functional as F
import rt_tensor as rtt
from rt_autograd.testing import gradcheck, gradgradcheck
from rt_tensor import _nn_softmax as K

REDS = ("none", "mean", "sum")


def _np(t):
    return np.array(t.detach().numpy(), copy=True)


def _t(a, grad=False):
    t = rt.from_numpy(np.array(a, copy=True))
    return t.requires_grad_() if grad else t


def _rng(k=0):
    return np.random.default_rng(k)


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _log_softmax(a, axis):
    m = a.max(axis=axis, keepdims=True)
    return (a - m) - np.log(np.exp(a - m).sum(axis=axis, keepdims=True))


# ---- numpy references --------------------------------------------------------------------------

def ref_cross_entropy(x, t, w=None, ignore_index=-100, reduction="mean", ls=0.0):
    """PyTorch's cross_entropy for class indices (x [N, C, ...] or [C])."""
    if x.ndim == 1:
        x, t = x[None], np.asarray(t).reshape(1)
        out = ref_cross_entropy(x, t, w, ignore_index, reduction, ls)
        return out.reshape(()) if reduction == "none" else out
    c = x.shape[1]
    lp = _log_softmax(x, 1)
    w = np.ones(c) if w is None else w
    valid = t != ignore_index
    tc = np.where(valid, t, 0)
    wt = w[tc] * valid
    picked = np.take_along_axis(lp, tc[:, None], 1)[:, 0]
    nll = -picked * wt
    wshape = [1, c] + [1] * (x.ndim - 2)
    smooth = -(lp * w.reshape(wshape)).sum(1) * valid
    loss = (1 - ls) * nll + ls / c * smooth
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / wt.sum()


def ref_nll(x, t, w=None, ignore_index=-100, reduction="mean"):
    if x.ndim == 1:
        out = ref_nll(x[None], np.asarray(t).reshape(1), w, ignore_index, reduction)
        return out.reshape(()) if reduction == "none" else out
    c = x.shape[1]
    w = np.ones(c) if w is None else w
    valid = t != ignore_index
    tc = np.where(valid, t, 0)
    wt = w[tc] * valid
    loss = -np.take_along_axis(x, tc[:, None], 1)[:, 0] * wt
    if reduction == "mean":
        return loss.sum() / wt.sum()
    return _reduce(loss, reduction)


def ref_cross_entropy_prob(x, p, w=None, reduction="mean", ls=0.0):
    cd = 0 if x.ndim == 1 else 1
    c = x.shape[cd]
    lp = _log_softmax(x, cd)
    if ls > 0:
        p = p * (1 - ls) + ls / c
    prod = lp * p
    if w is not None:
        prod = prod * (w.reshape([1, c] + [1] * (x.ndim - 2)) if x.ndim > 1 else w)
    if reduction == "mean":
        return -prod.sum() / (x.size // c)
    if reduction == "sum":
        return -prod.sum()
    return -prod.sum(cd)


def ref_bce(x, y, w=None):
    loss = -(y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log(1 - x), -100))
    return loss * w if w is not None else loss


def ref_bce_logits(x, y, w=None, pw=None):
    log_sig = -np.logaddexp(0, -x)
    log_sig_neg = -np.logaddexp(0, x)
    pw = 1.0 if pw is None else pw
    loss = -(pw * y * log_sig + (1 - y) * log_sig_neg)
    return loss * w if w is not None else loss


def ref_pdist(a, b, p=2.0, eps=1e-6, keepdim=False):
    d = np.abs(a - b + eps)
    if math.isinf(p):
        out = d.max(-1, keepdims=keepdim)
    else:
        out = (d ** p).sum(-1, keepdims=keepdim) ** (1 / p)
    return out


def ref_cossim(a, b, dim=1, eps=1e-8):
    a, b = np.broadcast_arrays(a, b)
    na = np.maximum(np.sqrt((a * a).sum(dim, keepdims=True)), eps)
    nb = np.maximum(np.sqrt((b * b).sum(dim, keepdims=True)), eps)
    return ((a / na) * (b / nb)).sum(dim)


def ref_cosemb(a, b, t, margin=0.0):
    d = t.ndim
    cos = (a * b).sum(d) / np.sqrt(((a * a).sum(d) + 1e-12) * ((b * b).sum(d) + 1e-12))
    return np.where(t == 1, 1 - cos, 0) + np.where(t == -1, np.maximum(cos - margin, 0), 0)


def ref_gauss(x, y, v, full=False, eps=1e-6):
    v = np.maximum(v, eps)
    loss = 0.5 * (np.log(v) + (x - y) ** 2 / v)
    return loss + 0.5 * math.log(2 * math.pi) if full else loss


def ref_poisson(x, y, log_input=True, full=False, eps=1e-8):
    loss = np.exp(x) - y * x if log_input else x - y * np.log(x + eps)
    if full:
        with np.errstate(all="ignore"):
            st = y * np.log(y) - y + 0.5 * np.log(2 * math.pi * y)
        loss = loss + np.where(y > 1, st, 0)
    return loss


# ---- functional forward against numpy ------------------------------------------------------------

CE_SHAPES = [(4, 5), (5,), (2, 3, 4), (2, 3, 2, 2), (2, 3, 2, 1, 2), (3, 70, 2)]


def _ce_inputs(shape, seed, ignore=None):
    rng = _rng(seed)
    x = rng.normal(size=shape) * 2
    c = shape[0] if len(shape) == 1 else shape[1]
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    t = np.asarray(rng.integers(0, c, tshape))
    if ignore is not None and t.ndim:
        t.reshape(-1)[::3] = ignore
    return x, t, c


@pytest.mark.parametrize("shape", CE_SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", REDS)
@pytest.mark.parametrize("ls", [0.0, 0.25])
@pytest.mark.parametrize("ignore_index", [-100, 1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_indices(shape, weighted, reduction, ls, ignore_index, dtype):
    x, t, c = _ce_inputs(shape, 1, ignore_index if ignore_index >= 0 else None)
    w = np.linspace(0.5, 2.0, c) if weighted else None
    out = F.cross_entropy(_t(x.astype(dtype)), _t(t), weight=None if w is None else
                          _t(w.astype(dtype)), ignore_index=ignore_index, reduction=reduction,
                          label_smoothing=ls)
    assert out.dtype == (rt.float32 if dtype == np.float32 else rt.float64)
    ref = ref_cross_entropy(x, t, w, ignore_index, reduction, ls)
    assert tuple(out.shape) == np.shape(ref)
    tol = 1e-5 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(_np(out), ref, rtol=tol, atol=tol)
    nll = F.nll_loss(_t(_log_softmax(x, 0 if x.ndim == 1 else 1)), _t(t),
                     weight=None if w is None else _t(w), ignore_index=ignore_index,
                     reduction=reduction)
    lsm = _log_softmax(x, 0 if x.ndim == 1 else 1)
    np.testing.assert_allclose(_np(nll), ref_nll(lsm, t, w, ignore_index, reduction),
                               rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("shape", [(4, 5), (5,), (2, 3, 4), (2, 3, 2, 2)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", REDS)
@pytest.mark.parametrize("ls", [0.0, 0.3])
def test_cross_entropy_probabilities(shape, weighted, reduction, ls):
    rng = _rng(2)
    x = rng.normal(size=shape)
    p = _log_softmax(rng.normal(size=shape), 0 if len(shape) == 1 else 1)
    p = np.exp(p)
    c = shape[0] if len(shape) == 1 else shape[1]
    w = np.linspace(0.5, 2.0, c) if weighted else None
    out = F.cross_entropy(_t(x), _t(p), weight=None if w is None else _t(w),
                          reduction=reduction, label_smoothing=ls)
    np.testing.assert_allclose(_np(out), ref_cross_entropy_prob(x, p, w, reduction, ls),
                               rtol=1e-11, atol=1e-12)


def test_cross_entropy_edge_cases():
    x = _t(_rng(3).normal(size=(3, 4)))
    t = _t(np.array([2, 2, 2]))
    assert math.isnan(float(F.cross_entropy(x, t, ignore_index=2)))      # 0 / 0 as PyTorch
    assert float(F.cross_entropy(x, t, ignore_index=2, reduction="sum")) == 0.0
    assert math.isnan(float(F.cross_entropy(rt.zeros(0, 4), rt.zeros(0).long())))
    assert float(F.cross_entropy(rt.zeros(0, 4), rt.zeros(0).long(), reduction="sum")) == 0
    # uint8 targets and a 1-element 1-d target for 1-d input
    np.testing.assert_allclose(_np(F.cross_entropy(x, _t(np.array([1, 0, 3], np.uint8)))),
                               ref_cross_entropy(_np(x), np.array([1, 0, 3])), rtol=1e-12)
    v = _rng(4).normal(size=5)
    np.testing.assert_allclose(_np(F.cross_entropy(_t(v), _t(np.array([3])))),
                               ref_cross_entropy(v, np.array(3)), rtol=1e-12)
    # negative label smoothing is ignored (PyTorch only checks > 0)
    assert float(F.cross_entropy(x, _t(np.array([1, 0, 3])), label_smoothing=-0.5)) == \
        float(F.cross_entropy(x, _t(np.array([1, 0, 3]))))
    # large logits stay finite
    big = _t(np.array([[1000.0, -1000.0, 0.0]]))
    np.testing.assert_allclose(_np(F.cross_entropy(big, _t(np.array([0])))), 0.0, atol=1e-12)
    # float16 input computes in float32
    h = F.cross_entropy(_t(_np(x).astype(np.float16)), _t(np.array([1, 0, 3])))
    assert h.dtype == rt.float16


REG = [
    # name, fn(x, y, **kw), numpy reference
    ("mse", lambda x, y, r: F.mse_loss(x, y, reduction=r), lambda x, y: (x - y) ** 2),
    ("l1", lambda x, y, r: F.l1_loss(x, y, reduction=r), lambda x, y: np.abs(x - y)),
    ("smooth_l1", lambda x, y, r: F.smooth_l1_loss(x, y, reduction=r, beta=0.7),
     lambda x, y: np.where(np.abs(x - y) < 0.7, 0.5 * (x - y) ** 2 / 0.7, np.abs(x - y) - 0.35)),
    ("smooth_l1_beta0", lambda x, y, r: F.smooth_l1_loss(x, y, reduction=r, beta=0.0),
     lambda x, y: np.abs(x - y)),
    ("huber", lambda x, y, r: F.huber_loss(x, y, reduction=r, delta=0.7),
     lambda x, y: np.where(np.abs(x - y) < 0.7, 0.5 * (x - y) ** 2,
                           0.7 * (np.abs(x - y) - 0.35))),
    ("bce", lambda x, y, r: F.binary_cross_entropy(x.sigmoid(), y.sigmoid(), reduction=r),
     lambda x, y: ref_bce(1 / (1 + np.exp(-x)), 1 / (1 + np.exp(-y)))),
    ("bce_logits", lambda x, y, r: F.binary_cross_entropy_with_logits(x, y.sigmoid(),
                                                                      reduction=r),
     lambda x, y: ref_bce_logits(x, 1 / (1 + np.exp(-y)))),
    ("kl", lambda x, y, r: F.kl_div(x, y.sigmoid(), reduction=r),
     lambda x, y: (1 / (1 + np.exp(-y))) * (np.log(1 / (1 + np.exp(-y))) - x)),
    ("kl_log_target", lambda x, y, r: F.kl_div(x, y, reduction=r, log_target=True),
     lambda x, y: np.exp(y) * (y - x)),
    ("poisson", lambda x, y, r: F.poisson_nll_loss(x, y.abs() * 3, reduction=r),
     lambda x, y: ref_poisson(x, np.abs(y) * 3)),
    ("poisson_full", lambda x, y, r: F.poisson_nll_loss(x.abs() + 0.1, y.abs() * 3,
                                                        log_input=False, full=True, reduction=r),
     lambda x, y: ref_poisson(np.abs(x) + 0.1, np.abs(y) * 3, False, True)),
    ("gauss", lambda x, y, r: F.gaussian_nll_loss(x, y, (x * y).abs() + 0.05, reduction=r),
     lambda x, y: ref_gauss(x, y, np.abs(x * y) + 0.05)),
    ("gauss_full_float", lambda x, y, r: F.gaussian_nll_loss(x, y, 0.4, full=True, reduction=r),
     lambda x, y: ref_gauss(x, y, 0.4, True)),
    ("soft_margin", lambda x, y, r: F.soft_margin_loss(x, y.sign(), reduction=r),
     lambda x, y: np.log1p(np.exp(-np.sign(y) * x))),
    ("hinge", lambda x, y, r: F.hinge_embedding_loss(x, y.sign(), margin=0.5, reduction=r),
     lambda x, y: np.where(np.sign(y) == 1, x, np.maximum(0.5 - x, 0))),
]


@pytest.mark.parametrize("name,fn,ref", REG, ids=[r[0] for r in REG])
@pytest.mark.parametrize("reduction", REDS)
def test_pointwise_losses(name, fn, ref, reduction):
    rng = _rng(5)
    x, y = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # kl_div's 'mean' warning
        out = fn(_t(x), _t(y), reduction)
    np.testing.assert_allclose(_np(out), _reduce(ref(x, y), reduction), rtol=1e-10, atol=1e-12)
    out32 = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out32 = fn(_t(x.astype(np.float32)), _t(y.astype(np.float32)), reduction)
    assert out32.dtype == rt.float32
    np.testing.assert_allclose(_np(out32), _reduce(ref(x, y), reduction), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name,fn,ref", REG, ids=[r[0] for r in REG])
def test_pointwise_losses_gradcheck(name, fn, ref):
    rng = _rng(6)
    # away from the kinks (|x - y| == beta/delta, x == y)
    x = rng.uniform(0.2, 1.2, size=(3, 4)) * rng.choice([-1, 1], size=(3, 4))
    y = rng.uniform(-2, 2, size=(3, 4))
    for r in ("none", "mean", "sum"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert gradcheck(lambda a, b: fn(a, b, r), (_t(x, True), _t(y, True)))
            if name not in ("soft_margin", "hinge"):       # sign(y): no second derivative in y
                assert gradgradcheck(lambda a, b: fn(a, b, r), (_t(x, True), _t(y, True)))


def test_weighted_regression_losses():
    rng = _rng(7)
    x, y, w = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.uniform(0.1, 2, (3, 4))
    for fname, e in (("mse_loss", (x - y) ** 2), ("l1_loss", np.abs(x - y))):
        fn = getattr(F, fname)
        np.testing.assert_allclose(_np(fn(_t(x), _t(y), weight=_t(w))), (e * w).sum() / w.sum())
        np.testing.assert_allclose(_np(fn(_t(x), _t(y), weight=_t(w), reduction="sum")),
                                   (e * w).sum())
        np.testing.assert_allclose(_np(fn(_t(x), _t(y), weight=_t(w), reduction="none")), e * w)
        assert gradcheck(lambda a, b: fn(a, b, weight=_t(w)), (_t(x, True), _t(y, True)))
    hub = np.where(np.abs(x - y) < 1, 0.5 * (x - y) ** 2, np.abs(x - y) - 0.5)
    np.testing.assert_allclose(_np(F.huber_loss(_t(x), _t(y), weight=_t(w))), (hub * w).mean())
    with pytest.raises(ValueError, match="Weights and input must have the same size."):
        F.mse_loss(_t(x), _t(y), weight=rt.ones(4))


def test_broadcasting_regression_warns():
    with pytest.warns(UserWarning, match=r"Using a target size \(rt_tensor.Size\(\[3\]\)\) that "
                                         r"is different to the input size"):
        out = F.mse_loss(rt.ones(3, 1), rt.zeros(3))
    assert tuple(out.shape) == ()
    with pytest.raises(RuntimeError, match="must match the size"), \
            pytest.warns(UserWarning):
        F.l1_loss(rt.ones(3, 2), rt.zeros(3))


@pytest.mark.parametrize("reduction", REDS)
def test_bce_weights_and_clamp(reduction):
    rng = _rng(8)
    x, y = rng.uniform(0.05, 0.95, (3, 4)), rng.uniform(0, 1, (3, 4))
    w = rng.uniform(0.5, 2, 4)
    out = F.binary_cross_entropy(_t(x), _t(y), weight=_t(w), reduction=reduction)
    np.testing.assert_allclose(_np(out), _reduce(ref_bce(x, y, w), reduction), rtol=1e-12)
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b, weight=_t(w), reduction=reduction),
                     (_t(x, True), _t(y, True)))
    assert gradgradcheck(lambda a, b: F.binary_cross_entropy(a, b, weight=_t(w),
                                                              reduction=reduction),
                         (_t(x, True), _t(y, True)))
    # logs clamped at -100; the gradient's denominator at 1e-12 (float32 1e-12 as in ATen)
    xs = _t(np.array([0.0, 1.0]), True)
    loss = F.binary_cross_entropy(xs, _t(np.array([1.0, 0.0])), reduction="sum")
    assert float(loss) == 200.0
    loss.backward()
    np.testing.assert_allclose(_np(xs.grad), [-1 / float(np.float32(1e-12)),
                                              1 / float(np.float32(1e-12))], rtol=1e-12)
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(rt.tensor([1.5]), rt.tensor([1.0]))


@pytest.mark.parametrize("reduction", REDS)
def test_bce_with_logits_weights(reduction):
    rng = _rng(9)
    x, y = rng.normal(size=(2, 3, 4)) * 3, rng.uniform(0, 1, (2, 3, 4))
    w, pw = rng.uniform(0.5, 2, (3, 4)), rng.uniform(0.5, 3, 4)
    out = F.binary_cross_entropy_with_logits(_t(x), _t(y), weight=_t(w), pos_weight=_t(pw),
                                             reduction=reduction)
    np.testing.assert_allclose(_np(out), _reduce(ref_bce_logits(x, y, w, pw), reduction),
                               rtol=1e-12)
    fn = (lambda a, b: F.binary_cross_entropy_with_logits(a, b, weight=_t(w), pos_weight=_t(pw),
                                                          reduction=reduction))
    assert gradcheck(fn, (_t(x, True), _t(y, True)))
    assert gradgradcheck(fn, (_t(x, True), _t(y, True)))
    # stable at large logits, exact gradient at 0
    big = F.binary_cross_entropy_with_logits(_t(np.array([800.0, -800.0])),
                                             _t(np.array([0.0, 1.0])), reduction="none")
    np.testing.assert_allclose(_np(big), [800.0, 800.0])
    z = _t(np.array([0.0]), True)
    F.binary_cross_entropy_with_logits(z, _t(np.array([1.0]))).backward()
    assert float(z.grad) == -0.5


@pytest.mark.parametrize("reduction", REDS + ("batchmean",))
def test_kl_div_reductions(reduction):
    rng = _rng(10)
    x, p = rng.normal(size=(3, 4)), rng.uniform(0, 1, (3, 4))
    p[0, 0] = 0.0                                   # 0 log 0 = 0
    ctx = pytest.warns(UserWarning, match="reduction: 'mean' divides the total loss") \
        if reduction == "mean" else warnings.catch_warnings()
    with ctx:
        out = F.kl_div(_t(x), _t(p), reduction=reduction)
    e = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1)) - x), 0)
    ref = e.sum() / 3 if reduction == "batchmean" else _reduce(e, reduction)
    np.testing.assert_allclose(_np(out), ref, rtol=1e-12)


def test_gaussian_nll_var_shapes():
    rng = _rng(11)
    x, y = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    for vshape, bshape in [((2, 3, 4), (2, 3, 4)), ((2, 3), (2, 3, 1)), ((2, 1, 4), (2, 1, 4))]:
        v = rng.uniform(0.1, 2, vshape)
        out = F.gaussian_nll_loss(_t(x), _t(y), _t(v), reduction="none")
        np.testing.assert_allclose(_np(out), ref_gauss(x, y, v.reshape(bshape)), rtol=1e-12)
        assert gradcheck(lambda a, b, c: F.gaussian_nll_loss(a, b, c),
                         (_t(x, True), _t(y, True), _t(v, True)))
    # eps clamps the variance without blocking its gradient (PyTorch's no_grad clamp_)
    v = _t(np.full((2, 3, 4), 1e-9), True)
    F.gaussian_nll_loss(_t(x), _t(y), v, eps=1e-3, reduction="sum").backward()
    np.testing.assert_allclose(_np(v.grad), 0.5 * (1 / 1e-3 - (x - y) ** 2 / 1e-6), rtol=1e-9)
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(_t(x), _t(y), rt.ones(2))
    with pytest.raises(ValueError, match="var has negative entry/entries"):
        F.gaussian_nll_loss(_t(x), _t(y), -1.0)
    with pytest.raises(ValueError, match="x is not valid"):
        F.gaussian_nll_loss(_t(x), _t(y), 1.0, reduction="x")


MARGIN = [
    ("cosine_embedding", lambda a, b, c, r: F.cosine_embedding_loss(
        a, b, _t(np.array([1.0, -1.0, 1.0, -1.0, -1.0])), margin=0.1, reduction=r),
     lambda a, b, c: ref_cosemb(a, b, np.array([1.0, -1.0, 1.0, -1.0, -1.0]), 0.1)),
    ("margin_ranking", lambda a, b, c, r: F.margin_ranking_loss(
        a[:, 0], b[:, 0], _t(np.array([1.0, -1.0, 1.0, -1.0, 1.0])), margin=0.2, reduction=r),
     lambda a, b, c: np.maximum(-np.array([1.0, -1, 1, -1, 1]) * (a[:, 0] - b[:, 0]) + 0.2, 0)),
    ("triplet_p2", lambda a, b, c, r: F.triplet_margin_loss(a, b, c, margin=0.5, reduction=r),
     lambda a, b, c: np.maximum(ref_pdist(a, b) - ref_pdist(a, c) + 0.5, 0)),
    ("triplet_p3_swap", lambda a, b, c, r: F.triplet_margin_loss(a, b, c, margin=0.5, p=3,
                                                                 swap=True, reduction=r),
     lambda a, b, c: np.maximum(ref_pdist(a, b, 3) - np.minimum(ref_pdist(a, c, 3),
                                                               ref_pdist(b, c, 3)) + 0.5, 0)),
    ("triplet_distance_fn", lambda a, b, c, r: F.triplet_margin_with_distance_loss(
        a, b, c, distance_function=lambda u, v: (u - v).abs().sum(-1), reduction=r),
     lambda a, b, c: np.maximum(np.abs(a - b).sum(-1) - np.abs(a - c).sum(-1) + 1.0, 0)),
    ("multilabel_soft_margin", lambda a, b, c, r: F.multilabel_soft_margin_loss(
        a, (c > 0).to(rt.float64), reduction=r),
     lambda a, b, c: -((c > 0) * -np.logaddexp(0, -a) + (c <= 0) * -np.logaddexp(0, a)).mean(1)),
]


@pytest.mark.parametrize("name,fn,ref", MARGIN, ids=[m[0] for m in MARGIN])
@pytest.mark.parametrize("reduction", REDS)
def test_margin_losses(name, fn, ref, reduction):
    rng = _rng(12)
    a, b, c = (rng.normal(size=(5, 4)) for _ in range(3))
    out = fn(_t(a), _t(b), _t(c), reduction)
    np.testing.assert_allclose(_np(out), _reduce(ref(a, b, c), reduction), rtol=1e-11,
                               atol=1e-12)
    assert gradcheck(lambda x, y, z: fn(x, y, z, reduction), (_t(a, True), _t(b, True),
                                                               _t(c, True)))
    assert gradgradcheck(lambda x, y, z: fn(x, y, z, reduction), (_t(a, True), _t(b, True),
                                                                   _t(c, True)))


def test_multi_margin_and_multilabel_margin():
    rng = _rng(13)
    x = rng.normal(size=(4, 5))
    t = np.array([0, 4, 2, 2])
    w = np.linspace(0.5, 2, 5)
    z = np.maximum(0.9 - x[np.arange(4), t][:, None] + x, 0) ** 2 * w[t][:, None]
    z[np.arange(4), t] = 0
    out = F.multi_margin_loss(_t(x), _t(t), p=2, margin=0.9, weight=_t(w), reduction="none")
    np.testing.assert_allclose(_np(out), z.sum(1) / 5, rtol=1e-12)
    assert gradcheck(lambda a: F.multi_margin_loss(a, _t(t)), (_t(x, True),))
    tt = np.array([[3, 0, -1, 1], [0, 1, 2, 3], [-1, 0, 0, 0]])
    xs = x[:3, :4]
    ref = []
    for i in range(3):
        tg = []
        for k in tt[i]:
            if k < 0:
                break
            tg.append(k)
        s = sum(max(0, 1 - (xs[i, j] - xs[i, k])) for j in tg for k in range(4) if k not in tg)
        ref.append(s / 4)
    np.testing.assert_allclose(_np(F.multilabel_margin_loss(_t(xs), _t(tt), reduction="none")),
                               ref, rtol=1e-12)


# ---- gradcheck of the class-index losses ---------------------------------------------------------

@pytest.mark.parametrize("shape", [(3, 4), (4,), (2, 3, 2), (2, 3, 2, 2), (2, 3, 1, 2, 2)])
@pytest.mark.parametrize("reduction", REDS)
@pytest.mark.parametrize("opts", [{}, {"weight": True}, {"label_smoothing": 0.2},
                                  {"weight": True, "label_smoothing": 0.3, "ignore_index": 1}])
def test_cross_entropy_and_nll_gradcheck(shape, reduction, opts):
    opts = dict(opts)
    x, t, c = _ce_inputs(shape, 14, opts.get("ignore_index"))
    if t.ndim == 0:
        t = np.asarray(0)                  # not the ignored class: the mean is not 0 / 0
    if opts.pop("weight", False):
        opts["weight"] = _t(np.linspace(0.5, 2.0, c))
    ce = (lambda a: F.cross_entropy(a, _t(t), reduction=reduction, **opts))
    assert gradcheck(ce, (_t(x, True),))
    assert gradgradcheck(ce, (_t(x, True),))
    opts.pop("label_smoothing", None)
    nl = (lambda a: F.nll_loss(a, _t(t), reduction=reduction, **opts))
    assert gradcheck(nl, (_t(x, True),))
    assert gradgradcheck(nl, (_t(x, True),))


@pytest.mark.parametrize("reduction", REDS)
def test_cross_entropy_probabilities_gradcheck(reduction):
    rng = _rng(15)
    x, p = rng.normal(size=(3, 4)), rng.uniform(0, 1, (3, 4))
    fn = (lambda a, b: F.cross_entropy(a, b, weight=_t(np.linspace(1, 2, 4)),
                                       reduction=reduction, label_smoothing=0.1))
    assert gradcheck(fn, (_t(x, True), _t(p, True)))
    assert gradgradcheck(fn, (_t(x, True), _t(p, True)))


def test_cross_entropy_float32_backward_matches_reference():
    x, t, c = _ce_inputs((64, 10), 16, 3)
    xx = _t(x.astype(np.float32), True)
    F.cross_entropy(xx, _t(t), ignore_index=3, label_smoothing=0.1).backward()
    p = np.exp(_log_softmax(x, 1))
    valid = t != 3
    onehot = np.eye(c)[np.where(valid, t, 0)]
    g = (0.9 * (p - onehot) + 0.1 / c * (c * p - 1)) * valid[:, None] / valid.sum()
    np.testing.assert_allclose(_np(xx.grad), g, rtol=1e-5, atol=1e-7)
    assert type(F.cross_entropy(xx, _t(t)).grad_fn).__name__ == "NllLossBackward0"


# ---- distances -----------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, float("inf")])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance(p, keepdim):
    rng = _rng(17)
    a, b = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    np.testing.assert_allclose(_np(F.pairwise_distance(_t(a), _t(b), p=p, keepdim=keepdim)),
                               ref_pdist(a, b, p, 1e-6, keepdim), rtol=1e-12)
    assert gradcheck(lambda x, y: F.pairwise_distance(x, y, p=p), (_t(a, True), _t(b, True)))
    m = nn.PairwiseDistance(p=p, keepdim=keepdim)
    np.testing.assert_allclose(_np(m(_t(a), _t(b))), ref_pdist(a, b, p, 1e-6, keepdim))
    # broadcast over the last dim of the larger input; 1-d inputs give a scalar
    np.testing.assert_allclose(_np(F.pairwise_distance(_t(a), _t(b[0]), p=p)),
                               ref_pdist(a, b[0], p), rtol=1e-12)
    assert F.pairwise_distance(_t(a[0]), _t(b[0])).shape == ()


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cosine_similarity(dim):
    rng = _rng(18)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    np.testing.assert_allclose(_np(F.cosine_similarity(_t(a), _t(b), dim=dim)),
                               ref_cossim(a, b, dim), rtol=1e-12)
    assert gradcheck(lambda x, y: F.cosine_similarity(x, y, dim=dim), (_t(a, True), _t(b, True)))
    assert gradgradcheck(lambda x, y: F.cosine_similarity(x, y, dim=dim),
                         (_t(a, True), _t(b, True)))
    np.testing.assert_allclose(_np(nn.CosineSimilarity(dim=dim)(_t(a), _t(b))),
                               ref_cossim(a, b, dim), rtol=1e-12)
    # broadcasting, a tiny vector (norm clamped at eps), integer and float mixed
    np.testing.assert_allclose(_np(F.cosine_similarity(_t(a), _t(b[0]), dim=-1)),
                               ref_cossim(a, b[0], -1), rtol=1e-12)
    np.testing.assert_allclose(_np(F.cosine_similarity(_t(a * 1e-10), _t(b))),
                               ref_cossim(a * 1e-10, b), rtol=1e-9)
    assert float(F.cosine_similarity(rt.tensor([1, 2]), rt.tensor([1.0, 2.0]), dim=0)) == \
        pytest.approx(1.0)
    with pytest.raises(RuntimeError, match="expected common dtype to be floating point, yet "
                                           "common dtype is Long"):
        F.cosine_similarity(rt.tensor([1, 2]), rt.tensor([1, 2]), dim=0)


@pytest.mark.parametrize("p,dim", [(2.0, 1), (1.0, 0), (3.0, -1)])
def test_normalize(p, dim):
    a = _rng(19).normal(size=(3, 4))
    n = np.maximum((np.abs(a) ** p).sum(dim, keepdims=True) ** (1 / p), 1e-12)
    np.testing.assert_allclose(_np(F.normalize(_t(a), p=p, dim=dim)), a / n, rtol=1e-12)
    assert gradcheck(lambda x: F.normalize(x, p=p, dim=dim), (_t(a, True),))
    out = rt.empty(3, 4, dtype=rt.float64)
    F.normalize(_t(a), p=p, dim=dim, out=out)
    np.testing.assert_allclose(_np(out), a / n, rtol=1e-12)
    np.testing.assert_array_equal(_np(F.normalize(rt.zeros(2, 3))), np.zeros((2, 3)))


# ---- modules -------------------------------------------------------------------------------------

def _ce_args():
    return (_t(_rng(20).normal(size=(3, 4))), _t(np.array([1, 0, 3])))


W4 = np.linspace(0.5, 2.0, 4)
X34 = _rng(21).normal(size=(3, 4))
Y34 = _rng(22).normal(size=(3, 4))
P34 = 1 / (1 + np.exp(-Y34))

# module, its functional form, inputs, state_dict keys
MODULES = [
    (lambda: nn.L1Loss(reduction="sum"), lambda *a: F.l1_loss(*a, reduction="sum"),
     lambda: (_t(X34), _t(Y34)), []),
    (lambda: nn.MSELoss(), F.mse_loss, lambda: (_t(X34), _t(Y34)), []),
    (lambda: nn.SmoothL1Loss(beta=0.5), lambda *a: F.smooth_l1_loss(*a, beta=0.5),
     lambda: (_t(X34), _t(Y34)), []),
    (lambda: nn.HuberLoss(delta=0.5, reduction="none"),
     lambda *a: F.huber_loss(*a, delta=0.5, reduction="none"), lambda: (_t(X34), _t(Y34)), []),
    (lambda: nn.CrossEntropyLoss(weight=_t(W4), ignore_index=0, label_smoothing=0.1),
     lambda *a: F.cross_entropy(*a, weight=_t(W4), ignore_index=0, label_smoothing=0.1),
     _ce_args, ["weight"]),
    (lambda: nn.CrossEntropyLoss(), F.cross_entropy, _ce_args, []),
    (lambda: nn.NLLLoss(weight=_t(W4)), lambda *a: F.nll_loss(*a, weight=_t(W4)), _ce_args,
     ["weight"]),
    (lambda: nn.NLLLoss2d(), F.nll_loss,
     lambda: (_t(_rng(23).normal(size=(2, 3, 2, 2))), rt.zeros(2, 2, 2).long()), []),
    (lambda: nn.BCELoss(weight=_t(W4)), lambda *a: F.binary_cross_entropy(*a, weight=_t(W4)),
     lambda: (_t(P34), _t(P34[::-1].copy())), ["weight"]),
    (lambda: nn.BCEWithLogitsLoss(pos_weight=_t(W4)),
     lambda *a: F.binary_cross_entropy_with_logits(*a, pos_weight=_t(W4)),
     lambda: (_t(X34), _t(P34)), ["pos_weight"]),
    (lambda: nn.BCEWithLogitsLoss(weight=_t(W4), pos_weight=_t(W4)),
     lambda *a: F.binary_cross_entropy_with_logits(*a, weight=_t(W4), pos_weight=_t(W4)),
     lambda: (_t(X34), _t(P34)), ["pos_weight", "weight"]),
    (lambda: nn.KLDivLoss(reduction="batchmean"), lambda *a: F.kl_div(*a, reduction="batchmean"),
     lambda: (_t(X34), _t(P34)), []),
    (lambda: nn.PoissonNLLLoss(log_input=False, full=True, eps=1e-6),
     lambda *a: F.poisson_nll_loss(*a, log_input=False, full=True, eps=1e-6),
     lambda: (_t(P34), _t(np.abs(Y34) * 3)), []),
    (lambda: nn.GaussianNLLLoss(full=True), lambda *a: F.gaussian_nll_loss(*a, full=True),
     lambda: (_t(X34), _t(Y34), _t(P34)), []),
    (lambda: nn.CosineEmbeddingLoss(margin=0.2),
     lambda *a: F.cosine_embedding_loss(*a, margin=0.2),
     lambda: (_t(X34), _t(Y34), _t(np.array([1.0, -1.0, 1.0]))), []),
    (lambda: nn.MarginRankingLoss(margin=0.3), lambda *a: F.margin_ranking_loss(*a, margin=0.3),
     lambda: (_t(X34[0]), _t(Y34[0]), _t(np.array([1.0, -1.0, 1.0, -1.0]))), []),
    (lambda: nn.TripletMarginLoss(margin=0.5, p=1.0, swap=True),
     lambda *a: F.triplet_margin_loss(*a, margin=0.5, p=1.0, swap=True),
     lambda: (_t(X34), _t(Y34), _t(P34)), []),
    (lambda: nn.TripletMarginWithDistanceLoss(swap=True),
     lambda *a: F.triplet_margin_with_distance_loss(*a, swap=True),
     lambda: (_t(X34), _t(Y34), _t(P34)), []),
    (lambda: nn.HingeEmbeddingLoss(margin=0.5), lambda *a: F.hinge_embedding_loss(*a, margin=0.5),
     lambda: (_t(X34), _t(np.sign(Y34))), []),
    (lambda: nn.SoftMarginLoss(), F.soft_margin_loss, lambda: (_t(X34), _t(np.sign(Y34))), []),
    (lambda: nn.MultiLabelSoftMarginLoss(weight=_t(W4)),
     lambda *a: F.multilabel_soft_margin_loss(*a, weight=_t(W4)),
     lambda: (_t(X34), _t((Y34 > 0).astype(float))), ["weight"]),
    (lambda: nn.MultiMarginLoss(p=2, margin=0.5), lambda *a: F.multi_margin_loss(*a, p=2,
                                                                                 margin=0.5),
     _ce_args, []),
    (lambda: nn.MultiLabelMarginLoss(), F.multilabel_margin_loss,
     lambda: (_t(X34), _t(np.array([[1, 0, -1, 2]] * 3))), []),
    (lambda: nn.PairwiseDistance(p=3.0), lambda *a: F.pairwise_distance(*a, p=3.0),
     lambda: (_t(X34), _t(Y34)), []),
    (lambda: nn.CosineSimilarity(dim=0), lambda *a: F.cosine_similarity(*a, dim=0),
     lambda: (_t(X34), _t(Y34)), []),
]


@pytest.mark.parametrize("make,fn,inputs,keys", MODULES,
                         ids=[type(m[0]()).__name__ + str(i) for i, m in enumerate(MODULES)])
def test_module_table(make, fn, inputs, keys):
    m = make()
    name = type(m).__name__
    if name == "TripletMarginWithDistanceLoss":         # its distance function is a child
        assert repr(m) == f"{name}(\n  (distance_function): PairwiseDistance()\n)"
    else:
        assert repr(m) == f"{name}()"                  # PyTorch's losses have no extra_repr
    assert sorted(m.state_dict()) == keys
    assert list(m.parameters()) == []
    args = inputs()
    np.testing.assert_allclose(_np(m(*args)), _np(fn(*args)), rtol=1e-12)
    # differentiable through the module
    x = args[0].detach().requires_grad_()
    m(x, *args[1:]).sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape
    # buffers follow .double() / .float()
    m.float()
    for k in keys:
        assert getattr(m, k).dtype == rt.float32


def test_module_attributes_and_legacy_args():
    m = nn.CrossEntropyLoss(ignore_index=3, reduction="sum", label_smoothing=0.2)
    assert (m.ignore_index, m.reduction, m.label_smoothing, m.weight) == (3, "sum", 0.2, None)
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated, "
                                         "please use reduction='sum' instead."):
        assert nn.MSELoss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert nn.NLLLoss(reduce=False).reduction == "none"
    with pytest.warns(UserWarning, match="reduction='mean'"):
        out = F.l1_loss(_t(X34), _t(Y34), size_average=True)
    np.testing.assert_allclose(_np(out), np.abs(X34 - Y34).mean())
    with pytest.warns(UserWarning, match="reduction='elementwise_mean' is deprecated"):
        F.mse_loss(_t(X34), _t(Y34), reduction="elementwise_mean")
    t = nn.TripletMarginLoss()
    assert (t.margin, t.p, t.eps, t.swap) == (1.0, 2.0, 1e-6, False)
    p = nn.PairwiseDistance()
    assert (p.norm, p.eps, p.keepdim) == (2.0, 1e-6, False)
    g = nn.GaussianNLLLoss()
    assert (g.full, g.eps, g.reduction) == (False, 1e-6, "mean")
    with pytest.raises(TypeError):
        nn.GaussianNLLLoss(True)                         # keyword-only, as PyTorch
    with pytest.raises(ValueError, match="TripletMarginLoss: expected margin to be greater "
                                         "than 0, got 0 instead"):
        nn.TripletMarginLoss(margin=0)
    with pytest.raises(TypeError, match="delta must be a float or int"):
        nn.HuberLoss(delta="1")
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        nn.MultiMarginLoss(p=3)
    sd = nn.CrossEntropyLoss(weight=_t(W4)).state_dict()
    m2 = nn.CrossEntropyLoss(weight=rt.zeros(4, dtype=rt.float64))
    m2.load_state_dict(sd)
    np.testing.assert_array_equal(_np(m2.weight), W4)


# ---- errors (PyTorch's types and messages) ------------------------------------------------------

ERRORS = [
    (lambda: F.cross_entropy(rt.randn(3, 4), rt.tensor([1, 0])), ValueError,
     r"Expected input batch_size \(3\) to match target batch_size \(2\)\."),
    (lambda: F.cross_entropy(rt.randn(3, 4), rt.zeros(3, 2).long()), RuntimeError,
     "0D or 1D target tensor expected, multi-target not supported"),
    (lambda: F.cross_entropy(rt.randn(3, 4), rt.tensor([1, 5, 0])), IndexError,
     "Target 5 is out of bounds."),
    (lambda: F.nll_loss(rt.randn(2, 3, 4), rt.tensor([[0, 1, 2, -1], [0, 0, 0, 0]])), IndexError,
     "Target -1 is out of bounds."),
    (lambda: F.cross_entropy(rt.randn(3, 4), rt.tensor([1.0, 2.0, 0.0])), RuntimeError,
     "expected target dtype to be Long or Byte, but got Float"),
    (lambda: F.cross_entropy(rt.randn(3, 4), rt.zeros(3, 4).long()), RuntimeError,
     "Expected floating point type for target with class probabilities, got Long"),
    (lambda: F.cross_entropy(rt.randn(3, 4), rt.randn(3, 4), ignore_index=0), RuntimeError,
     "ignore_index is not supported for floating point target"),
    (lambda: F.cross_entropy(rt.randn(3, 4), rt.tensor([1, 0, 2]), label_smoothing=1.5),
     RuntimeError, r"label_smoothing must be between 0\.0 and 1\.0\. Got: 1\.5"),
    (lambda: F.cross_entropy(rt.randn(3, 4), rt.tensor([1, 0, 2]), weight=rt.ones(3)),
     RuntimeError, r"weight tensor should be defined either for all 4 classes or no classes but "
                   r"got weight tensor of shape: \[3\]"),
    (lambda: F.cross_entropy(rt.randn(2, 3, 4), rt.zeros(2, 5).long()), RuntimeError,
     r"Expected target size \[2, 4\], got \[2, 5\]"),
    (lambda: F.cross_entropy(rt.randn(2, 3, 4, 5), rt.zeros(2, 4, 6).long()), RuntimeError,
     r"size mismatch \(got input: \[2, 3, 4, 5\] , target: \[2, 4, 6\]"),
    (lambda: F.cross_entropy(rt.randn(2, 3, 4, 5), rt.zeros(2, 4).long()), RuntimeError,
     r"only batches of spatial targets supported \(3D tensors\) but got targets of dimension: 2"),
    (lambda: F.cross_entropy(rt.tensor([[1, 2]]), rt.tensor([1])), NotImplementedError,
     "\"log_softmax_lastdim_kernel_impl\" not implemented for 'Long'"),
    (lambda: F.nll_loss(rt.tensor(1.0), rt.tensor(1)), ValueError,
     r"Expected 1 or more dimensions \(got 0\)"),
    (lambda: F.nll_loss(rt.randn(4), rt.tensor([1, 2])), ValueError,
     "For 1D input, 1D target must have size 1, but got target size: 2"),
    (lambda: F.mse_loss(rt.randn(3), rt.randn(3), reduction="avg"), ValueError,
     "avg is not a valid value for reduction"),
    (lambda: F.mse_loss(rt.tensor([1, 2]), rt.tensor([1, 2])), NotImplementedError,
     "\"mse_cpu\" not implemented for 'Long'"),
    (lambda: F.binary_cross_entropy(rt.rand(3), rt.rand(3, 1)), ValueError,
     r"Using a target size \(rt_tensor.Size\(\[3, 1\]\)\) that is different to the input size "
     r"\(rt_tensor.Size\(\[3\]\)\) is deprecated. Please ensure they have the same size."),
    (lambda: F.binary_cross_entropy_with_logits(rt.rand(3), rt.rand(3, 1)), ValueError,
     r"Target size \(rt_tensor.Size\(\[3, 1\]\)\) must be the same as input size"),
    (lambda: F.smooth_l1_loss(rt.randn(3), rt.randn(3), beta=-1.0), RuntimeError,
     "smooth_l1_loss does not support negative values for beta."),
    (lambda: F.huber_loss(rt.randn(3), rt.randn(3), delta=0.0), RuntimeError,
     "huber_loss does not support non-positive values for delta."),
    (lambda: F.kl_div(rt.randn(3), rt.tensor([1, 0, 1]), reduction="sum"), RuntimeError,
     "kl_div: Integral inputs not supported."),
    (lambda: F.margin_ranking_loss(rt.randn(3), rt.randn(3), rt.randn(3, 1)), RuntimeError,
     "margin_ranking_loss : All input tensors should have same dimension"),
    (lambda: F.cosine_embedding_loss(rt.randn(3, 4), rt.randn(3, 4), rt.ones(3, 1)),
     RuntimeError, "0D or 1D target tensor expected, multi-target not supported"),
    (lambda: F.cosine_embedding_loss(rt.randn(4), rt.randn(4), rt.ones(3)), RuntimeError,
     r"1D target tensor expects 2D input tensors, but found inputs with sizes \[4\] and \[4\]\."),
    (lambda: F.triplet_margin_loss(rt.randn(3, 4), rt.randn(3, 4), rt.randn(4)), RuntimeError,
     "The anchor, positive, and negative tensors are expected to have the same number of "
     "dimensions, but got: anchor 2D, positive 2D, and negative 1D inputs"),
    (lambda: F.triplet_margin_loss(rt.randn(3, 4), rt.randn(3, 4), rt.randn(3, 4), margin=-1),
     ValueError, "margin must be greater than 0, got -1"),
    (lambda: F.poisson_nll_loss(rt.randn(3), rt.randn(3), reduction="x"), ValueError,
     "x is not a valid value for reduction"),
]


@pytest.mark.parametrize("fn,exc,msg", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_errors(fn, exc, msg):
    with pytest.raises(exc, match=msg):
        fn()


# ---- the fused kernels directly ------------------------------------------------------------------

def test_cross_entropy_kernel_threads_and_validation():
    x, t, c = _ce_inputs((512, 300), 24, 7)
    x = x.astype(np.float32)
    n = rtt.get_num_threads()
    res = []
    try:
        for threads in (1, 4):
            rtt.set_num_threads(threads)
            out, lse, tw = K.cross_entropy_forward(rtt.from_numpy(x), rtt.from_numpy(t), None, 7,
                                                   0.1, 0)
            g = K.cross_entropy_backward(rtt.from_numpy(np.ones(512, np.float32)),
                                         rtt.from_numpy(x), rtt.from_numpy(t), None, lse, 7, 0.1,
                                         0, tw)
            res.append((_np(out), _np(g)))
    finally:
        rtt.set_num_threads(n)
    np.testing.assert_array_equal(res[0][0], res[1][0])
    np.testing.assert_array_equal(res[0][1], res[1][1])
    np.testing.assert_allclose(res[0][0], ref_cross_entropy(x.astype(np.float64), t, None, 7,
                                                            "none", 0.1), rtol=2e-5, atol=2e-6)
    xs, ts = rtt.zeros(2, 3), rtt.tensor([0, 1])
    with pytest.raises(TypeError):
        K.cross_entropy_forward(xs, rtt.tensor([0, 1], dtype=rtt.int32), None, -100, 0.0, 1)
    with pytest.raises(RuntimeError):
        K.cross_entropy_forward(xs, rtt.tensor([0, 1, 2]), None, -100, 0.0, 1)
    with pytest.raises(RuntimeError):
        K.cross_entropy_forward(xs, ts, rtt.ones(2), -100, 0.0, 1)
    with pytest.raises(RuntimeError):
        K.nll_loss_forward(rtt.zeros(3), rtt.tensor([0, 1, 2]), None, -100, 1)
    with pytest.raises(TypeError):
        K.nll_loss_forward(xs, None, None, -100, 1)
    with pytest.raises(IndexError, match="Target 3 is out of bounds."):
        K.nll_loss_backward(rtt.ones(()), xs, rtt.tensor([0, 3]), None, -100, 1, 2.0)
