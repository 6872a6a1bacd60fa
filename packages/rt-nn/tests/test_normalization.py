"""Normalization family: BatchNorm1d/2d/3d, LayerNorm, GroupNorm, InstanceNorm1d/2d/3d,
RMSNorm and F.batch_norm / layer_norm / group_norm / instance_norm / rms_norm: forward
against numpy, running statistics after several steps against a numpy reimplementation of
PyTorch's rule, gradcheck and gradgradcheck (float64) through inputs and parameters,
train/eval, state_dict keys, repr and PyTorch's errors."""
import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
import rt_nn.functional as F
from rt_autograd.testing import gradcheck, gradgradcheck


def _np(t):
    return np.array(t.detach().numpy(), copy=True)


def _rand(*shape, seed=0, dtype=rt.float64, requires_grad=False, scale=1.0, shift=0.0):
    a = np.random.default_rng(seed).standard_normal(shape) * scale + shift
    return rt.tensor(a, dtype=dtype).requires_grad_(requires_grad)


def _randomize(m, seed=10):
    """Non-trivial affine parameters (the defaults are ones and zeros)."""
    rng = np.random.default_rng(seed)
    with rt.no_grad():
        for p in m.parameters():
            p.copy_(rt.tensor(rng.standard_normal(tuple(p.shape)) * 0.5 + 1.0, dtype=p.dtype))
    return m


# ---- numpy references ------------------------------------------------------------------------

def _affine(y, m, shape):
    w = getattr(m, "weight", None)
    b = getattr(m, "bias", None)
    if w is not None:
        y = y * _np(w).reshape(shape)
    if b is not None:
        y = y + _np(b).reshape(shape)
    return y


def _bn_ref(m, x, training=True):
    a = _np(x)
    dims = (0,) + tuple(range(2, a.ndim))
    shape = (1, a.shape[1]) + (1,) * (a.ndim - 2)
    if training:
        mean, var = a.mean(dims, keepdims=True), a.var(dims, keepdims=True)
    else:
        mean, var = _np(m.running_mean).reshape(shape), _np(m.running_var).reshape(shape)
    return _affine((a - mean) / np.sqrt(var + m.eps), m, shape)


def _ln_ref(m, x):
    a = _np(x)
    dims = tuple(range(a.ndim - len(m.normalized_shape), a.ndim))
    mean, var = a.mean(dims, keepdims=True), a.var(dims, keepdims=True)
    return _affine((a - mean) / np.sqrt(var + m.eps), m, m.normalized_shape)


def _rms_ref(m, x):
    a = _np(x)
    dims = tuple(range(a.ndim - len(m.normalized_shape), a.ndim))
    eps = m.eps if m.eps is not None else np.finfo(a.dtype).eps
    y = a / np.sqrt((a * a).mean(dims, keepdims=True) + eps)
    return y * _np(m.weight) if m.weight is not None else y


def _gn_ref(m, x):
    a = _np(x)
    n, c = a.shape[:2]
    g = a.reshape(n, m.num_groups, -1)
    y = ((g - g.mean(2, keepdims=True)) / np.sqrt(g.var(2, keepdims=True) + m.eps)).reshape(a.shape)
    return _affine(y, m, (1, c) + (1,) * (a.ndim - 2))


def _in_ref(m, x):
    a = _np(x)
    batched = a.ndim == m._get_no_batch_dim() + 1
    if not batched:
        a = a[None]
    dims = tuple(range(2, a.ndim))
    y = (a - a.mean(dims, keepdims=True)) / np.sqrt(a.var(dims, keepdims=True) + m.eps)
    y = _affine(y, m, (1, a.shape[1]) + (1,) * (a.ndim - 2))
    return y if batched else y[0]


def _lrn_ref(m, x):
    a = _np(x)
    c = a.shape[1]
    sq = np.pad(a * a, [(0, 0), (m.size // 2, (m.size - 1) // 2)] + [(0, 0)] * (a.ndim - 2))
    win = sum(sq[:, j:j + c] for j in range(m.size))
    return a / (m.k + m.alpha / m.size * win) ** m.beta


# ---- the module table: name, constructor, input shape, numpy reference, functional form ------

def _bn_fn(m):
    return lambda x, *p: F.batch_norm(x, None, None, p[0] if p else None,
                                      p[1] if len(p) > 1 else None, True, 0.1, m.eps)


def _ln_fn(m):
    return lambda x, *p: F.layer_norm(x, m.normalized_shape, p[0] if p else None,
                                      p[1] if len(p) > 1 else None, m.eps)


def _rms_fn(m):
    return lambda x, *p: F.rms_norm(x, m.normalized_shape, p[0] if p else None, m.eps)


def _gn_fn(m):
    return lambda x, *p: F.group_norm(x, m.num_groups, p[0] if p else None,
                                      p[1] if len(p) > 1 else None, m.eps)


def _in_fn(m):
    return lambda x, *p: F.instance_norm(x, None, None, p[0] if p else None,
                                         p[1] if len(p) > 1 else None, True, 0.1, m.eps)


MODULES = [
    ("BatchNorm1d-2d", lambda: nn.BatchNorm1d(3), (6, 3), _bn_ref, _bn_fn),
    ("BatchNorm1d-3d", lambda: nn.BatchNorm1d(3), (4, 3, 5), _bn_ref, _bn_fn),
    ("BatchNorm1d-long", lambda: nn.BatchNorm1d(2), (3, 2, 40), _bn_ref, _bn_fn),
    ("BatchNorm1d-noaffine", lambda: nn.BatchNorm1d(3, affine=False), (5, 3), _bn_ref, _bn_fn),
    ("BatchNorm1d-nobias", lambda: nn.BatchNorm1d(3, bias=False), (5, 3, 2), _bn_ref, _bn_fn),
    ("BatchNorm2d", lambda: nn.BatchNorm2d(3), (2, 3, 4, 5), _bn_ref, _bn_fn),
    ("BatchNorm2d-eps", lambda: nn.BatchNorm2d(2, eps=1e-2), (3, 2, 2, 3), _bn_ref, _bn_fn),
    ("BatchNorm3d", lambda: nn.BatchNorm3d(2), (2, 2, 2, 3, 2), _bn_ref, _bn_fn),
    ("LayerNorm", lambda: nn.LayerNorm(5), (3, 5), _ln_ref, _ln_fn),
    ("LayerNorm-2dims", lambda: nn.LayerNorm([3, 4]), (2, 3, 4), _ln_ref, _ln_fn),
    ("LayerNorm-1d-input", lambda: nn.LayerNorm(6), (6,), _ln_ref, _ln_fn),
    ("LayerNorm-noaffine", lambda: nn.LayerNorm(4, elementwise_affine=False), (2, 3, 4),
     _ln_ref, _ln_fn),
    ("LayerNorm-nobias", lambda: nn.LayerNorm(4, bias=False), (3, 4), _ln_ref, _ln_fn),
    ("LayerNorm-long", lambda: nn.LayerNorm(70, eps=1e-3), (2, 70), _ln_ref, _ln_fn),
    ("GroupNorm", lambda: nn.GroupNorm(2, 4), (3, 4, 5), _gn_ref, _gn_fn),
    ("GroupNorm-2d", lambda: nn.GroupNorm(3, 6), (2, 6, 2, 3), _gn_ref, _gn_fn),
    ("GroupNorm-noaffine", lambda: nn.GroupNorm(1, 3, affine=False), (2, 3, 4), _gn_ref, _gn_fn),
    ("GroupNorm-per-channel", lambda: nn.GroupNorm(4, 4), (2, 4, 3), _gn_ref, _gn_fn),
    ("GroupNorm-2d-input", lambda: nn.GroupNorm(2, 6), (4, 6), _gn_ref, _gn_fn),
    ("InstanceNorm1d", lambda: nn.InstanceNorm1d(3), (2, 3, 5), _in_ref, _in_fn),
    ("InstanceNorm1d-affine", lambda: nn.InstanceNorm1d(3, affine=True), (2, 3, 5), _in_ref,
     _in_fn),
    ("InstanceNorm1d-nobatch", lambda: nn.InstanceNorm1d(3), (3, 5), _in_ref, None),
    ("InstanceNorm2d", lambda: nn.InstanceNorm2d(2), (2, 2, 3, 3), _in_ref, _in_fn),
    ("InstanceNorm2d-affine", lambda: nn.InstanceNorm2d(2, affine=True), (2, 2, 3, 2), _in_ref,
     _in_fn),
    ("InstanceNorm3d", lambda: nn.InstanceNorm3d(2), (1, 2, 2, 2, 3), _in_ref, _in_fn),
    ("RMSNorm", lambda: nn.RMSNorm(5), (3, 5), _rms_ref, _rms_fn),
    ("RMSNorm-eps", lambda: nn.RMSNorm([2, 3], eps=1e-3), (4, 2, 3), _rms_ref, _rms_fn),
    ("RMSNorm-noaffine", lambda: nn.RMSNorm(4, elementwise_affine=False), (3, 4), _rms_ref,
     _rms_fn),
    ("LocalResponseNorm", lambda: nn.LocalResponseNorm(3), (2, 5, 4), _lrn_ref, None),
    ("LocalResponseNorm-2d", lambda: nn.LocalResponseNorm(2, 1e-2, 0.5, 2.0), (2, 4, 3, 2),
     _lrn_ref, None),
]
IDS = [c[0] for c in MODULES]


@pytest.mark.parametrize("name,make,shape,ref,fn", MODULES, ids=IDS)
def test_forward_matches_numpy(name, make, shape, ref, fn):
    m = _randomize(make().double())
    x = _rand(*shape, scale=2.0, shift=0.5)
    np.testing.assert_allclose(_np(m(x)), ref(m, x), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name,make,shape,ref,fn", MODULES, ids=IDS)
def test_forward_float32(name, make, shape, ref, fn):
    m = _randomize(make())
    x = _rand(*shape, dtype=rt.float32, scale=2.0, shift=0.5)
    out = m(x)
    assert out.dtype == rt.float32 and out.shape == x.shape
    np.testing.assert_allclose(_np(out), ref(m, x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name,make,shape,ref,fn", MODULES, ids=IDS)
def test_gradcheck_inputs_and_parameters(name, make, shape, ref, fn):
    m = _randomize(make().double())
    x = _rand(*shape, requires_grad=True)
    if fn is None:
        def f(x, *p):
            return m(x)
        ins = (x,) + tuple(m.parameters())
    else:
        f = fn(m)
        ins = (x,) + tuple(p.detach().clone().requires_grad_(True) for p in m.parameters())
    assert gradcheck(f, ins)
    assert gradgradcheck(f, ins)


@pytest.mark.parametrize("name,make,shape,ref,fn", MODULES, ids=IDS)
def test_module_backward_fills_parameter_grads(name, make, shape, ref, fn):
    m = _randomize(make().double())
    x = _rand(*shape, requires_grad=True)
    (m(x) * _rand(*shape, seed=3)).sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape
    for p in m.parameters():
        assert p.grad is not None and p.grad.shape == p.shape


def test_backward_matches_numpy_formulas():
    x = _rand(4, 3, 6, scale=3.0, shift=2.0, requires_grad=True)
    w = _rand(3, seed=1, requires_grad=True)
    b = _rand(3, seed=2, requires_grad=True)
    g = _rand(4, 3, 6, seed=3)
    F.batch_norm(x, None, None, w, b, True).backward(g)
    a, gn, wn = _np(x), _np(g), _np(w).reshape(1, 3, 1)
    mu, var = a.mean((0, 2), keepdims=True), a.var((0, 2), keepdims=True)
    xh = (a - mu) / np.sqrt(var + 1e-5)
    gxh = gn * wn
    gx = (gxh - gxh.mean((0, 2), keepdims=True) - xh * (gxh * xh).mean((0, 2), keepdims=True)) \
        / np.sqrt(var + 1e-5)
    np.testing.assert_allclose(_np(x.grad), gx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_np(w.grad), (gn * xh).sum((0, 2)), rtol=1e-10)
    np.testing.assert_allclose(_np(b.grad), gn.sum((0, 2)), rtol=1e-10)


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 40), (2, 3, 4, 5)])
@pytest.mark.parametrize("dtype", [rt.float32, rt.float64])
def test_batch_norm_backward_kernel_matches_composite(shape, dtype, affine):
    # the kernel backward (create_graph=False) and the differentiable one (create_graph=True)
    for training in (True, False):
        x = _rand(*shape, dtype=dtype, scale=2.0, shift=1.0, requires_grad=True)
        w = _rand(shape[1], seed=1, dtype=dtype, requires_grad=True) if affine else None
        b = _rand(shape[1], seed=2, dtype=dtype, requires_grad=True) if affine else None
        rm, rv = rt.zeros(shape[1], dtype=dtype) + 0.3, rt.ones(shape[1], dtype=dtype) * 2
        g = _rand(*shape, seed=3, dtype=dtype)
        y = F.batch_norm(x, rm, rv, w, b, training)
        ins = (x, w, b) if affine else (x,)
        k = rt.autograd.grad(y, ins, g, retain_graph=True)
        c = rt.autograd.grad(y, ins, g, create_graph=True)
        tol = 1e-4 if dtype == rt.float32 else 1e-10
        for a, e in zip(k, c):
            np.testing.assert_allclose(_np(a), _np(e), rtol=tol, atol=tol)


# ---- batch norm running statistics -----------------------------------------------------------

def _running_reference(batches, momentum, eps=1e-5):
    """PyTorch's rule, in numpy: unbiased batch variance into the running variance;
    momentum=None: cumulative average with factor 1 / num_batches_tracked."""
    c = batches[0].shape[1]
    rm, rv = np.zeros(c), np.ones(c)
    for i, a in enumerate(batches, 1):
        dims = (0,) + tuple(range(2, a.ndim))
        n = a.size // c
        f = 1.0 / i if momentum is None else momentum
        rm = (1 - f) * rm + f * a.mean(dims)
        rv = (1 - f) * rv + f * a.var(dims) * n / (n - 1)
    return rm, rv


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("cls,shape", [(nn.BatchNorm1d, (8, 3)), (nn.BatchNorm1d, (4, 3, 5)),
                                       (nn.BatchNorm1d, (2, 3, 50)),
                                       (nn.BatchNorm2d, (2, 3, 4, 4))])
def test_running_statistics_after_several_steps(momentum, cls, shape):
    m = cls(3, momentum=momentum).double()
    batches = [_np(_rand(*shape, seed=s, scale=1 + s, shift=s)) for s in range(4)]
    for a in batches:
        m(rt.tensor(a))
    rm, rv = _running_reference(batches, momentum)
    np.testing.assert_allclose(_np(m.running_mean), rm, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(_np(m.running_var), rv, rtol=1e-12)
    assert m.num_batches_tracked.dtype == rt.int64 and int(m.num_batches_tracked) == 4
    # eval uses the running statistics
    m.eval()
    x = _rand(*shape, seed=9)
    np.testing.assert_allclose(_np(m(x)), _bn_ref(m, x, training=False), rtol=1e-12)
    assert int(m.num_batches_tracked) == 4


def test_running_statistics_float32():
    m = nn.BatchNorm2d(4)
    batches = [_np(_rand(2, 4, 3, 3, seed=s, dtype=rt.float32)) for s in range(3)]
    for a in batches:
        m(rt.tensor(a))
    rm, rv = _running_reference([a.astype(np.float64) for a in batches], 0.1)
    np.testing.assert_allclose(_np(m.running_mean), rm, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(m.running_var), rv, rtol=1e-5)


def test_functional_batch_norm_updates_in_place_and_bumps_version():
    rm, rv = rt.zeros(3, dtype=rt.float64), rt.ones(3, dtype=rt.float64)
    v0 = rm._version
    x = _rand(5, 3)
    F.batch_norm(x, rm, rv, training=True, momentum=0.2)
    ref_m, ref_v = _running_reference([_np(x)], 0.2)
    np.testing.assert_allclose(_np(rm), ref_m, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(_np(rv), ref_v, rtol=1e-12)
    assert rm._version > v0
    # eval: running stats are used, not changed
    before = _np(rm)
    y = F.batch_norm(x, rm, rv, training=False)
    np.testing.assert_allclose(_np(rm), before)
    np.testing.assert_allclose(_np(y), (_np(x) - _np(rm)) / np.sqrt(_np(rv) + 1e-5), rtol=1e-12)


def test_training_without_running_stats_uses_batch_stats():
    x = _rand(6, 3, seed=4)
    y = F.batch_norm(x, None, None, training=True)
    a = _np(x)
    np.testing.assert_allclose(_np(y), (a - a.mean(0)) / np.sqrt(a.var(0) + 1e-5), rtol=1e-12)


def test_track_running_stats_false():
    m = nn.BatchNorm1d(3, track_running_stats=False).double()
    assert m.running_mean is None and m.running_var is None and m.num_batches_tracked is None
    assert list(m.state_dict()) == ["weight", "bias"]
    x = _rand(5, 3)
    m.eval()                       # no running statistics: batch statistics in eval too
    np.testing.assert_allclose(_np(m(x)), _bn_ref(m, x), rtol=1e-12)


def test_train_eval_differ():
    m = nn.BatchNorm1d(3).double()
    x = _rand(5, 3, shift=3.0)
    y_train = m(x)
    m.eval()
    y_eval = m(x)
    assert not np.allclose(_np(y_train), _np(y_eval))
    np.testing.assert_allclose(_np(y_eval), _bn_ref(m, x, training=False), rtol=1e-12)


def test_eval_backward():
    m = _randomize(nn.BatchNorm2d(2).double())
    m(_rand(2, 2, 3, 3, seed=5))
    m.eval()
    x = _rand(2, 2, 3, 3, requires_grad=True)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, m.running_mean, m.running_var, w, b, False),
                     (x, m.weight, m.bias))
    assert gradgradcheck(lambda x, w, b: F.batch_norm(x, m.running_mean, m.running_var, w, b,
                                                      False), (x, m.weight, m.bias))


def test_state_dict_keys_and_buffers():
    m = nn.BatchNorm2d(4)
    assert list(m.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                    "num_batches_tracked"]
    assert [n for n, _ in m.named_buffers()] == ["running_mean", "running_var",
                                                  "num_batches_tracked"]
    assert _np(m.running_mean).tolist() == [0.0] * 4 and _np(m.running_var).tolist() == [1.0] * 4
    assert m.num_batches_tracked.shape == () and m.num_batches_tracked.dtype == rt.int64
    assert list(nn.BatchNorm1d(2, affine=False).state_dict()) == [
        "running_mean", "running_var", "num_batches_tracked"]
    assert list(nn.LayerNorm(3).state_dict()) == ["weight", "bias"]
    assert list(nn.LayerNorm(3, bias=False).state_dict()) == ["weight"]
    assert list(nn.GroupNorm(1, 3).state_dict()) == ["weight", "bias"]
    assert list(nn.RMSNorm(3).state_dict()) == ["weight"]
    assert list(nn.InstanceNorm2d(3).state_dict()) == []
    assert list(nn.InstanceNorm2d(3, affine=True, track_running_stats=True).state_dict()) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"]


def test_state_dict_round_trip_and_old_checkpoints():
    a = nn.BatchNorm1d(3).double()
    for s in range(2):
        a(_rand(4, 3, seed=s))
    b = nn.BatchNorm1d(3).double()
    b.load_state_dict(a.state_dict())
    np.testing.assert_allclose(_np(b.running_var), _np(a.running_var))
    assert int(b.num_batches_tracked) == 2
    # a version-1 checkpoint has no num_batches_tracked: it is filled in
    sd = a.state_dict()
    del sd["num_batches_tracked"]
    sd._metadata[""]["version"] = 1
    nn.BatchNorm1d(3).double().load_state_dict(sd)
    # from version 2 on, the key is required
    sd._metadata[""]["version"] = 2
    with pytest.raises(RuntimeError, match='Missing key.*"num_batches_tracked"'):
        nn.BatchNorm1d(3).double().load_state_dict(sd)


def test_reset_parameters_and_running_stats():
    m = _randomize(nn.BatchNorm1d(3))
    m(rt.randn(4, 3))
    m.reset_parameters()
    assert _np(m.weight).tolist() == [1.0] * 3 and _np(m.bias).tolist() == [0.0] * 3
    assert _np(m.running_mean).tolist() == [0.0] * 3 and int(m.num_batches_tracked) == 0


def test_repr():
    assert repr(nn.BatchNorm2d(3)) == ("BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, "
                                       "bias=True, track_running_stats=True)")
    assert repr(nn.BatchNorm1d(3, momentum=None, affine=False, track_running_stats=False)) == (
        "BatchNorm1d(3, eps=1e-05, momentum=None, affine=False, bias=False, "
        "track_running_stats=False)")
    assert repr(nn.InstanceNorm2d(3)) == ("InstanceNorm2d(3, eps=1e-05, momentum=0.1, "
                                          "affine=False, bias=False, track_running_stats=False)")
    assert repr(nn.LayerNorm([2, 3], bias=False)) == (
        "LayerNorm((2, 3), eps=1e-05, elementwise_affine=True, bias=False)")
    assert repr(nn.GroupNorm(2, 4)) == "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"
    assert repr(nn.RMSNorm([2, 3], eps=1e-5)) == (
        "RMSNorm((2, 3), eps=1e-05, elementwise_affine=True)")
    assert repr(nn.LocalResponseNorm(2)) == "LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)"


def test_double_and_float_conversion():
    m = nn.BatchNorm1d(3).double()
    assert m.weight.dtype == rt.float64 and m.running_mean.dtype == rt.float64
    assert m.num_batches_tracked.dtype == rt.int64
    assert m(_rand(4, 3)).dtype == rt.float64
    m.float()
    assert m(_rand(4, 3, dtype=rt.float32)).dtype == rt.float32


def test_half_inputs_compute_in_float32():
    x = _rand(4, 3, 5, dtype=rt.float32)
    for dt in (rt.float16, rt.bfloat16):
        xh = x.to(dt)
        ref = F.layer_norm(xh.float(), (5,))
        out = F.layer_norm(xh, (5,))
        assert out.dtype == dt
        np.testing.assert_allclose(_np(out.float()), _np(ref), atol=2e-2)
        rm, rv = rt.zeros(3), rt.ones(3)
        y = F.batch_norm(xh, rm, rv, rt.ones(3), rt.zeros(3), True)
        assert y.dtype == dt and rm.dtype == rt.float32 and float(rm.abs().sum()) > 0
        assert F.group_norm(xh, 3).dtype == dt and F.rms_norm(xh, (5,)).dtype == dt


def test_non_contiguous_inputs():
    x = _rand(5, 3, 4).transpose(0, 2)          # (4, 3, 5), non-contiguous
    m = _randomize(nn.BatchNorm1d(3).double())
    np.testing.assert_allclose(_np(m(x)), _bn_ref(m, x), rtol=1e-12)
    ln = _randomize(nn.LayerNorm(5).double())
    np.testing.assert_allclose(_np(ln(x)), _ln_ref(ln, x), rtol=1e-12)
    assert gradcheck(lambda t: F.group_norm(t.transpose(0, 2), 1),
                     (_rand(5, 3, 2, requires_grad=True),))


def test_rms_norm_default_eps():
    x = _rand(3, 4, dtype=rt.float32) * 1e-4
    a = _np(x)
    ref = a / np.sqrt((a * a).mean(-1, keepdims=True) + np.finfo(np.float32).eps)
    np.testing.assert_allclose(_np(F.rms_norm(x, (4,))), ref, rtol=1e-5)


def test_instance_norm_running_stats():
    m = nn.InstanceNorm1d(3, track_running_stats=True, momentum=0.3).double()
    x = _rand(2, 3, 5, shift=1.0)
    m(x)
    a = _np(x)
    inst_mean, inst_var = a.mean(2), a.var(2) * 5 / 4
    np.testing.assert_allclose(_np(m.running_mean), (0.3 * inst_mean).mean(0), rtol=1e-12)
    np.testing.assert_allclose(_np(m.running_var), (0.7 + 0.3 * inst_var).mean(0), rtol=1e-12)
    m.eval()
    y = m(x)
    ref = (a - _np(m.running_mean)[:, None]) / np.sqrt(_np(m.running_var)[:, None] + 1e-5)
    np.testing.assert_allclose(_np(y), ref, rtol=1e-12)


def test_instance_norm_feature_mismatch():
    with pytest.raises(ValueError, match=r"expected input's size at dim=1 to match num_features"):
        nn.InstanceNorm1d(4, affine=True)(rt.randn(2, 3, 5))
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(4)(rt.randn(2, 3, 5))


# ---- errors ---------------------------------------------------------------------------------

def test_errors():
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3)(rt.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(rt.randn(2, 3, 4))
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        nn.InstanceNorm2d(3)(rt.randn(2, 3))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(rt.randn(1, 3))
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        F.instance_norm(rt.randn(2, 3, 1))
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 4"):
        F.batch_norm(rt.randn(4, 3), rt.zeros(4), rt.ones(4), training=True)
    with pytest.raises(RuntimeError, match="weight should contain 3 elements not 2"):
        F.batch_norm(rt.randn(4, 3), None, None, rt.ones(2), training=True)
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(rt.randn(4, 3), None, None)
    with pytest.raises(ValueError, match="eps must be positive during training"):
        F.batch_norm(rt.randn(4, 3), None, None, training=True, eps=0.0)
    with pytest.raises(RuntimeError, match="mixed dtype"):
        F.batch_norm(rt.randn(4, 3), None, None, rt.ones(3, dtype=rt.float64), training=True)
    with pytest.raises(NotImplementedError, match="\"batch_norm\" not implemented for 'Long'"):
        F.batch_norm(rt.ones(4, 3, dtype=rt.int64), None, None, training=True)
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input with "
                                           r"shape \[\*, 4\], but got input of size\[4, 3\]"):
        nn.LayerNorm(4)(rt.randn(4, 3))
    with pytest.raises(RuntimeError, match="Expected weight to be of same shape"):
        F.layer_norm(rt.randn(4, 3), (3,), rt.ones(4))
    with pytest.raises(RuntimeError, match=r"expected input with shape \[\*4\]"):
        F.rms_norm(rt.randn(4, 3), (4,))
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by num_groups "
                                         r"\(4\)"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="num_groups"):
        nn.GroupNorm(0, 6)
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(rt.randn(2, 6, 4), 4)
    with pytest.raises(RuntimeError, match="Expected at least 2 dimensions"):
        F.group_norm(rt.randn(6), 3)
    with pytest.raises(RuntimeError, match="Expected weight to be a vector of size equal"):
        F.group_norm(rt.randn(2, 6, 4), 3, rt.ones(5))
    with pytest.raises(ValueError, match="num_features"):
        nn.BatchNorm2d(-1)
    with pytest.raises(ValueError, match="normalized_shape"):
        nn.LayerNorm(-2)
    with pytest.raises(ValueError, match=r"Expected 3D or higher dimensionality input \(got 2 "
                                         r"dimensions\)"):
        F.local_response_norm(rt.randn(2, 3), 2)


def test_inference_no_graph():
    m = nn.BatchNorm1d(3)
    with rt.no_grad():
        y = m(rt.randn(4, 3))
    assert y.grad_fn is None and int(m.num_batches_tracked) == 1
    assert m(rt.randn(4, 3)).grad_fn.name() == "NativeBatchNormBackward0"
    assert nn.LayerNorm(3)(rt.randn(2, 3)).grad_fn.name() == "NativeLayerNormBackward0"
    assert nn.GroupNorm(1, 3)(rt.randn(2, 3)).grad_fn.name() == "NativeGroupNormBackward0"


def test_empty_batch():
    m = nn.BatchNorm1d(3)
    y = m(rt.randn(0, 3, 4))
    assert y.shape == (0, 3, 4)
    assert _np(m.running_mean).tolist() == [0.0] * 3 and _np(m.running_var).tolist() == [1.0] * 3
    assert nn.LayerNorm(4)(rt.randn(0, 4)).shape == (0, 4)


@pytest.mark.parametrize("threads", [1, 2])
def test_large_shapes_split_across_threads(threads):
    # sizes above the kernels' parallel grain: rows, columns and channel splits
    old = rt.get_num_threads()
    rt.set_num_threads(threads)
    try:
        for m, shape in ((nn.BatchNorm2d(8), (16, 8, 24, 24)), (nn.BatchNorm1d(300), (200, 300)),
                         (nn.BatchNorm1d(16), (64, 16, 20)), (nn.LayerNorm(256), (400, 256)),
                         (nn.GroupNorm(4, 16), (8, 16, 30, 30)), (nn.RMSNorm(100), (700, 100)),
                         (nn.InstanceNorm2d(8), (4, 8, 40, 40))):
            m = _randomize(m.double())
            x = _rand(*shape, scale=3.0, shift=1.0, requires_grad=True)
            ref = {nn.BatchNorm2d: _bn_ref, nn.BatchNorm1d: _bn_ref, nn.LayerNorm: _ln_ref,
                   nn.GroupNorm: _gn_ref, nn.RMSNorm: _rms_ref, nn.InstanceNorm2d: _in_ref}
            y = m(x)
            np.testing.assert_allclose(_np(y), ref[type(m)](m, x), rtol=1e-9, atol=1e-10)
            g = _rand(*shape, seed=7)
            y.backward(g)
            # the kernel gradients against the differentiable (create_graph) formulas
            ps = [x] + list(m.parameters())
            for p in ps:
                p.grad = None
            y = m(x)
            k = rt.autograd.grad(y, ps, g, retain_graph=True)
            c = rt.autograd.grad(y, ps, g, create_graph=True)
            for a, e in zip(k, c):
                np.testing.assert_allclose(_np(a), _np(e), rtol=1e-8, atol=1e-9)
    finally:
        rt.set_num_threads(old)
