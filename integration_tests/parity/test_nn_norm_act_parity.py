"""Normalization layers and activations against PyTorch 2.13: every module built with the
same arguments in torch.nn and rt_nn, the same weights, the same input (float32 and
float64); outputs, input gradients and parameter gradients must agree, and for layers with
running statistics, the buffers after 3 training steps and the eval output after them.
Second derivatives (autograd.grad with create_graph=True, then the gradient of sum(g * v))
are compared for the functional forms."""
import zlib

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
import rt_nn.functional as F

torch = pytest.importorskip("torch", reason="PyTorch cannot be imported; the parity suite "
                                            "runs in `tox -e parity` (torch==2.13.0)")
TF = torch.nn.functional

TOL = {"float32": dict(rtol=2e-5, atol=2e-5), "float64": dict(rtol=1e-10, atol=1e-12)}
DTYPES = {"float32": (rt.float32, torch.float32, np.float32),
          "float64": (rt.float64, torch.float64, np.float64)}


def _rng(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def _np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy().copy()
    return np.array(t.detach().numpy(), copy=True)


def _copy_params(rt_mod, torch_mod, rng, dtype):
    """The same (random, non-trivial) parameters in both modules."""
    names = [n for n, _ in torch_mod.named_parameters()]
    assert names == [n for n, _ in rt_mod.named_parameters()]
    with torch.no_grad(), rt.no_grad():
        for (n, tp), (_, rp) in zip(torch_mod.named_parameters(), rt_mod.named_parameters()):
            a = (rng.standard_normal(tuple(tp.shape)) * 0.5 + 1.0).astype(dtype)
            tp.copy_(torch.from_numpy(a))
            rp.copy_(rt.tensor(a))


# name, args, kwargs, input shape, input scale/shift (norm layers see shifted data)
NORMS = [
    ("BatchNorm1d", (3,), {}, (8, 3)),
    ("BatchNorm1d", (3,), {}, (4, 3, 7)),
    ("BatchNorm1d", (4,), {"momentum": None}, (3, 4, 40)),
    ("BatchNorm1d", (3,), {"affine": False}, (6, 3)),
    ("BatchNorm1d", (3,), {"track_running_stats": False}, (6, 3, 2)),
    ("BatchNorm1d", (3,), {"bias": False, "eps": 1e-3}, (6, 3)),
    ("BatchNorm2d", (4,), {}, (2, 4, 5, 6)),
    ("BatchNorm2d", (4,), {"momentum": 0.3}, (3, 4, 8, 8)),
    ("BatchNorm2d", (2,), {"momentum": None, "affine": False}, (2, 2, 3, 3)),
    ("BatchNorm3d", (2,), {}, (2, 2, 3, 2, 4)),
    ("LayerNorm", (5,), {}, (4, 5)),
    ("LayerNorm", ([3, 4],), {}, (2, 3, 4)),
    ("LayerNorm", (6,), {"elementwise_affine": False}, (2, 3, 6)),
    ("LayerNorm", (6,), {"bias": False, "eps": 1e-3}, (3, 6)),
    ("LayerNorm", (96,), {}, (5, 96)),
    ("GroupNorm", (2, 4), {}, (3, 4, 5)),
    ("GroupNorm", (3, 6), {}, (2, 6, 4, 3)),
    ("GroupNorm", (1, 3), {"affine": False}, (2, 3, 7)),
    ("GroupNorm", (4, 4), {"eps": 1e-3}, (2, 4, 6)),
    ("GroupNorm", (2, 6), {}, (5, 6)),
    ("InstanceNorm1d", (3,), {}, (2, 3, 6)),
    ("InstanceNorm1d", (3,), {"affine": True}, (2, 3, 6)),
    ("InstanceNorm1d", (3,), {"affine": True, "track_running_stats": True}, (2, 3, 6)),
    ("InstanceNorm1d", (3,), {}, (3, 6)),
    ("InstanceNorm2d", (2,), {}, (2, 2, 4, 3)),
    ("InstanceNorm2d", (2,), {"affine": True, "track_running_stats": True, "momentum": 0.2},
     (3, 2, 3, 3)),
    ("InstanceNorm3d", (2,), {"affine": True}, (1, 2, 2, 3, 2)),
    ("RMSNorm", (5,), {}, (4, 5)),
    ("RMSNorm", ([2, 3],), {"eps": 1e-4}, (4, 2, 3)),
    ("RMSNorm", (4,), {"elementwise_affine": False}, (3, 4)),
    ("LocalResponseNorm", (3,), {}, (2, 5, 4)),
    ("LocalResponseNorm", (2,), {"alpha": 1e-2, "beta": 0.5, "k": 2.0}, (2, 4, 3, 3)),
]

ACTS = [
    ("ReLU", (), {}), ("ReLU6", (), {}), ("LeakyReLU", (0.2,), {}), ("PReLU", (), {}),
    ("PReLU", (4,), {"init": 0.1}), ("ELU", (), {}), ("ELU", (0.5,), {}), ("SELU", (), {}),
    ("CELU", (2.0,), {}), ("GELU", (), {}), ("GELU", (), {"approximate": "tanh"}),
    ("SiLU", (), {}), ("Mish", (), {}), ("Softplus", (), {}),
    ("Softplus", (), {"beta": 2.0, "threshold": 3.0}), ("Softsign", (), {}),
    ("Hardtanh", (-0.5, 1.5), {}), ("Hardswish", (), {}), ("Hardsigmoid", (), {}),
    ("Sigmoid", (), {}), ("Tanh", (), {}), ("Threshold", (0.1, 20.0), {}), ("GLU", (), {}),
    ("GLU", (1,), {}), ("LogSigmoid", (), {}), ("Tanhshrink", (), {}), ("Softshrink", (0.3,), {}),
    ("Hardshrink", (0.3,), {}),
]
INPLACE = [("ReLU", (), {"inplace": True}), ("ReLU6", (), {"inplace": True}),
           ("LeakyReLU", (0.2, True), {}), ("ELU", (), {"inplace": True}),
           ("SELU", (), {"inplace": True}), ("CELU", (2.0, True), {}),
           ("SiLU", (), {"inplace": True}), ("Mish", (), {"inplace": True}),
           ("Hardtanh", (-0.5, 1.5, True), {}), ("Hardswish", (), {"inplace": True}),
           ("Hardsigmoid", (), {"inplace": True}), ("Threshold", (0.1, 20.0, True), {})]


def _ids(cases):
    return [f"{c[0]}-{i}" for i, c in enumerate(cases)]


def _run_step(rmod, tmod, a, g, dt):
    rdt, tdt, _ = DTYPES[dt]
    xr = rt.tensor(a, requires_grad=True)
    xt = torch.tensor(a, requires_grad=True)
    yr, yt = rmod(xr), tmod(xt)
    assert yr.dtype == rdt and yt.dtype == tdt
    np.testing.assert_allclose(_np(yr), _np(yt), **TOL[dt])
    yr.backward(rt.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(_np(xr.grad), _np(xt.grad), **TOL[dt])
    for (n, rp), (_, tp) in zip(rmod.named_parameters(), tmod.named_parameters()):
        np.testing.assert_allclose(_np(rp.grad), _np(tp.grad), err_msg=n, **TOL[dt])


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("name,args,kwargs,shape", NORMS, ids=_ids(NORMS))
def test_norm_modules(name, args, kwargs, shape, dt):
    rng = _rng(f"{name}{args}{kwargs}{shape}")
    npdt = DTYPES[dt][2]
    tmod = getattr(torch.nn, name)(*args, **kwargs).to(DTYPES[dt][1])
    rmod = getattr(nn, name)(*args, **kwargs).to(DTYPES[dt][0])
    assert repr(rmod) == repr(tmod)
    assert list(rmod.state_dict()) == list(tmod.state_dict())
    _copy_params(rmod, tmod, rng, npdt)
    # 3 training steps: outputs and gradients each step, then the buffers
    for step in range(3):
        a = (rng.standard_normal(shape) * (1 + step) + step - 0.5).astype(npdt)
        g = rng.standard_normal(shape).astype(npdt)
        rmod.zero_grad()
        tmod.zero_grad()
        _run_step(rmod, tmod, a, g, dt)
    for (n, rb), (_, tb) in zip(rmod.named_buffers(), tmod.named_buffers()):
        assert rb.dtype == DTYPES[dt][0] or n == "num_batches_tracked"
        np.testing.assert_allclose(_np(rb), _np(tb), err_msg=n, **TOL[dt])
    # eval (running statistics where tracked)
    rmod.eval()
    tmod.eval()
    a = (rng.standard_normal(shape) + 0.3).astype(npdt)
    g = rng.standard_normal(shape).astype(npdt)
    rmod.zero_grad()
    tmod.zero_grad()
    _run_step(rmod, tmod, a, g, dt)
    for (n, rb), (_, tb) in zip(rmod.named_buffers(), tmod.named_buffers()):
        np.testing.assert_allclose(_np(rb), _np(tb), err_msg=n, **TOL[dt])


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("name,args,kwargs", ACTS, ids=_ids(ACTS))
def test_activation_modules(name, args, kwargs, dt):
    rng = _rng(f"{name}{args}{kwargs}")
    npdt = DTYPES[dt][2]
    tmod = getattr(torch.nn, name)(*args, **kwargs).to(DTYPES[dt][1])
    rmod = getattr(nn, name)(*args, **kwargs).to(DTYPES[dt][0])
    assert repr(rmod) == repr(tmod)
    assert list(rmod.state_dict()) == list(tmod.state_dict())
    _copy_params(rmod, tmod, rng, npdt)
    shape = (4, 4, 6)
    # wide range (saturation, exp overflow), the kinks themselves, and random values
    special = np.array([0.0, -0.0, 1.0, -1.0, 3.0, -3.0, 6.0, 0.3, -0.3, 0.1, 1.5, -0.5,
                        20.0, -20.0, 30.0, -30.0, 90.0, -90.0])
    a = rng.uniform(-6, 6, shape)
    a.reshape(-1)[:special.size] = special
    a = a.astype(npdt)
    out_shape = tuple(tmod(torch.from_numpy(a)).shape)
    g = rng.standard_normal(out_shape).astype(npdt)
    _run_step(rmod, tmod, a, g, dt)


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("num,shape", [(1, (4, 3, 6, 6)), (3, (4, 3, 6, 6)), (3, (2, 3, 40)),
                                       (1, (5000,))])
def test_prelu_kernel_shapes(num, shape, dt):
    rng = _rng(f"prelu{num}{shape}")
    npdt = DTYPES[dt][2]
    tmod = torch.nn.PReLU(num).to(DTYPES[dt][1])
    rmod = nn.PReLU(num).to(DTYPES[dt][0])
    _copy_params(rmod, tmod, rng, npdt)
    a = rng.standard_normal(shape).astype(npdt)
    g = rng.standard_normal(shape).astype(npdt)
    _run_step(rmod, tmod, a, g, dt)


@pytest.mark.parametrize("name,args,kwargs", INPLACE, ids=_ids(INPLACE))
def test_inplace_activation_modules(name, args, kwargs):
    rng = _rng(name)
    a = rng.uniform(-4, 4, (3, 5))
    g = rng.standard_normal((3, 5))
    tmod = getattr(torch.nn, name)(*args, **kwargs)
    rmod = getattr(nn, name)(*args, **kwargs)
    assert repr(rmod) == repr(tmod)
    xr = rt.tensor(a, requires_grad=True)
    xt = torch.tensor(a, requires_grad=True)
    hr, ht = xr * 2.0, xt * 2.0
    yr, yt = rmod(hr), tmod(ht)
    assert yr is hr and yt is ht
    np.testing.assert_allclose(_np(yr), _np(yt), **TOL["float64"])
    yr.backward(rt.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(_np(xr.grad), _np(xt.grad), **TOL["float64"])


# ---- functional forms, with second derivatives ------------------------------------------------

FUNCS = [
    ("batch_norm-train", lambda Fn, x, w, b: Fn.batch_norm(x, None, None, w, b, True),
     [(4, 3, 5), (3,), (3,)]),
    ("batch_norm-2d", lambda Fn, x, w, b: Fn.batch_norm(x, None, None, w, b, True,
                                                                    0.1, 1e-3),
     [(6, 3), (3,), (3,)]),
    ("layer_norm", lambda Fn, x, w, b: Fn.layer_norm(x, (4,), w, b),
     [(3, 4), (4,), (4,)]),
    ("layer_norm-2", lambda Fn, x, w, b: Fn.layer_norm(x, (2, 3), w, b, 1e-3),
     [(2, 2, 3), (2, 3), (2, 3)]),
    ("group_norm", lambda Fn, x, w, b: Fn.group_norm(x, 2, w, b),
     [(2, 4, 3), (4,), (4,)]),
    ("instance_norm", lambda Fn, x, w, b: Fn.instance_norm(x, None, None, w, b),
     [(2, 3, 4), (3,), (3,)]),
    ("rms_norm", lambda Fn, x, w: Fn.rms_norm(x, (4,), w), [(3, 4), (4,)]),
    ("rms_norm-eps", lambda Fn, x, w: Fn.rms_norm(x, (2, 2), w, 1e-3),
     [(3, 2, 2), (2, 2)]),
    ("gelu", lambda Fn, x: Fn.gelu(x), [(3, 4)]),
    ("gelu-tanh", lambda Fn, x: Fn.gelu(x, approximate="tanh"), [(3, 4)]),
    ("silu", lambda Fn, x: Fn.silu(x), [(3, 4)]),
    ("mish", lambda Fn, x: Fn.mish(x), [(3, 4)]),
    ("elu", lambda Fn, x: Fn.elu(x, 0.7), [(3, 4)]),
    ("selu", lambda Fn, x: Fn.selu(x), [(3, 4)]),
    ("celu", lambda Fn, x: Fn.celu(x, 1.5), [(3, 4)]),
    ("softplus", lambda Fn, x: Fn.softplus(x, 2.0, 3.0), [(3, 4)]),
    ("logsigmoid", lambda Fn, x: Fn.logsigmoid(x), [(3, 4)]),
    ("hardswish", lambda Fn, x: Fn.hardswish(x), [(3, 4)]),
    ("leaky_relu", lambda Fn, x: Fn.leaky_relu(x, 0.1), [(3, 4)]),
    ("prelu", lambda Fn, x, w: Fn.prelu(x, w), [(2, 3, 4), (3,)]),
    ("glu", lambda Fn, x: Fn.glu(x, 0), [(4, 3)]),
    ("softsign", lambda Fn, x: Fn.softsign(x), [(3, 4)]),
]


@pytest.mark.parametrize("name,fn,shapes", FUNCS, ids=[c[0] for c in FUNCS])
def test_functional_first_and_second_derivatives(name, fn, shapes):
    rng = _rng(name)
    arrays = [rng.standard_normal(s) * (1.5 if i == 0 else 0.5) + (0.2 if i == 0 else 1.0)
              for i, s in enumerate(shapes)]
    rin = [rt.tensor(a, requires_grad=True) for a in arrays]
    tin = [torch.tensor(a, requires_grad=True) for a in arrays]
    yr, yt = fn(F, *rin), fn(TF, *tin)
    tol = TOL["float64"]
    np.testing.assert_allclose(_np(yr), _np(yt), **tol)
    g = rng.standard_normal(tuple(yt.shape))
    dr = rt.autograd.grad(yr, rin, rt.tensor(g), create_graph=True)
    dt_ = torch.autograd.grad(yt, tin, torch.tensor(g), create_graph=True)
    for a, b in zip(dr, dt_):
        np.testing.assert_allclose(_np(a), _np(b), **tol)
    v = [rng.standard_normal(tuple(t.shape)) for t in tin]
    sr = sum((d * rt.tensor(vv)).sum() for d, vv in zip(dr, v))
    st = sum((d * torch.tensor(vv)).sum() for d, vv in zip(dt_, v))
    hr = rt.autograd.grad(sr, rin, allow_unused=True)
    ht = torch.autograd.grad(st, tin, allow_unused=True)
    for a, b in zip(hr, ht):
        if a is None or b is None:
            assert all(t is None or np.allclose(_np(t), 0) for t in (a, b))
        else:
            np.testing.assert_allclose(_np(a), _np(b), rtol=1e-8, atol=1e-10)


def test_functional_batch_norm_running_stats_and_eval():
    rng = _rng("bn-functional")
    rm_r, rv_r = rt.zeros(3, dtype=rt.float64), rt.ones(3, dtype=rt.float64)
    rm_t, rv_t = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    for step in range(3):
        a = rng.standard_normal((5, 3, 4)) * (step + 1) + step
        yr = F.batch_norm(rt.tensor(a), rm_r, rv_r, training=True, momentum=0.25)
        yt = TF.batch_norm(torch.tensor(a), rm_t, rv_t, training=True, momentum=0.25)
        np.testing.assert_allclose(_np(yr), _np(yt), **TOL["float64"])
    np.testing.assert_allclose(_np(rm_r), _np(rm_t), **TOL["float64"])
    np.testing.assert_allclose(_np(rv_r), _np(rv_t), **TOL["float64"])
    a = rng.standard_normal((5, 3, 4))
    np.testing.assert_allclose(_np(F.batch_norm(rt.tensor(a), rm_r, rv_r)),
                               _np(TF.batch_norm(torch.tensor(a), rm_t, rv_t)), **TOL["float64"])


def test_functional_instance_norm_running_stats():
    rng = _rng("in-functional")
    rm_r, rv_r = rt.zeros(3, dtype=rt.float64), rt.ones(3, dtype=rt.float64)
    rm_t, rv_t = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    for step in range(3):
        a = rng.standard_normal((2, 3, 6)) + step
        F.instance_norm(rt.tensor(a), rm_r, rv_r, momentum=0.3)
        TF.instance_norm(torch.tensor(a), rm_t, rv_t, momentum=0.3)
    np.testing.assert_allclose(_np(rm_r), _np(rm_t), **TOL["float64"])
    np.testing.assert_allclose(_np(rv_r), _np(rv_t), **TOL["float64"])


@pytest.mark.parametrize("dt", ["float16", "bfloat16"])
def test_half_precision(dt):
    rng = _rng(dt)
    a = rng.standard_normal((4, 3, 5)).astype(np.float32)
    xr = rt.tensor(a).to(getattr(rt, dt))
    xt = torch.tensor(a).to(getattr(torch, dt))
    pairs = [(lambda Fn, x: Fn.layer_norm(x, (5,))),
             (lambda Fn, x: Fn.group_norm(x, 3)),
             (lambda Fn, x: Fn.gelu(x)), (lambda Fn, x: Fn.silu(x)),
             (lambda Fn, x: Fn.softplus(x)), (lambda Fn, x: Fn.elu(x))]
    for f in pairs:
        yr, yt = f(F, xr), f(TF, xt)
        assert str(yr.dtype).split(".")[-1] == str(yt.dtype).split(".")[-1]
        np.testing.assert_allclose(_np(yr.float()), _np(yt.float()), rtol=1e-2, atol=1e-2)


def test_error_messages_match():
    cases = [
        (lambda L, Fn: getattr(L.nn, "BatchNorm1d")(3)(L.randn(2, 3, 4, 4)), ValueError),
        (lambda L, Fn: getattr(L.nn, "BatchNorm2d")(3)(L.randn(2, 3, 4)), ValueError),
        (lambda L, Fn: Fn.layer_norm(L.randn(4, 3), (4,)), RuntimeError),
        (lambda L, Fn: Fn.layer_norm(L.randn(4, 3), (3,), L.ones(4)), RuntimeError),
        (lambda L, Fn: Fn.rms_norm(L.randn(4, 3), (4,)), RuntimeError),
        (lambda L, Fn: Fn.group_norm(L.randn(2, 6, 4), 4), RuntimeError),
        (lambda L, Fn: L.nn.GroupNorm(4, 6), ValueError),
        (lambda L, Fn: Fn.batch_norm(L.randn(4, 3), L.zeros(4), L.ones(4),
                                              training=True), RuntimeError),
        (lambda L, Fn: Fn.batch_norm(L.randn(4, 3), None, None), RuntimeError),
        (lambda L, Fn: Fn.gelu(L.randn(3), approximate="x"), RuntimeError),
        (lambda L, Fn: Fn.glu(L.randn(3, 5)), RuntimeError),
        (lambda L, Fn: Fn.prelu(L.randn(2, 3), L.ones(4)), RuntimeError),
        (lambda L, Fn: Fn.hardtanh(L.randn(3), 2.0, 1.0), ValueError),
        (lambda L, Fn: Fn.softshrink(L.randn(3), -1.0), RuntimeError),
        (lambda L, Fn: Fn.elu(L.ones(3, dtype=L.int64)), NotImplementedError),
        (lambda L, Fn: Fn.gelu(L.ones(3, dtype=L.int64)), NotImplementedError),
    ]

    class _Lib:
        pass

    rlib = _Lib()
    rlib.nn, rlib.randn, rlib.zeros, rlib.ones, rlib.int64 = nn, rt.randn, rt.zeros, rt.ones, \
        rt.int64
    for make, exc in cases:
        with pytest.raises(exc) as er:
            make(rlib, F)
        with pytest.raises(exc) as et:
            make(torch, TF)
        assert str(er.value) == str(et.value)
