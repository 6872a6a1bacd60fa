"""rt_nn's convolutions against PyTorch 2.13: F.conv1d/2d/3d, F.conv_transpose1d/2d/3d,
F.unfold/F.fold and the modules Conv1d/2d/3d, ConvTranspose1d/2d/3d, Fold, Unfold.

For each case the same computation runs in torch and in rt on the same inputs: forward values
(float64 and float32), the gradients of input, weight and bias for the same output gradient,
and second derivatives (``autograd.grad(create_graph=True)`` then the gradient of
``sum(g * v)``). The modules are built with the same arguments, get torch's weights, and must
give the same outputs and parameter gradients, repr and state_dict keys. Errors: the same
exception type and message.
"""
import itertools
import re
import warnings
import zlib

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn
import rt_nn.functional as RF
import rt_tensor as rtt

torch = pytest.importorskip("torch", reason="PyTorch cannot be imported; the parity suite "
                                            "runs in `tox -e parity` (torch==2.13.0)")
import torch.nn.functional as TF  # noqa: E402

RTOL, ATOL = 1e-10, 1e-11


def _rng(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def _to(L, a, grad=False, dtype=None):
    a = np.array(a, copy=True)
    if dtype is not None:
        a = a.astype(dtype)
    t = torch.from_numpy(a) if L is torch else rt.from_numpy(a)
    return t.requires_grad_() if grad else t


def _np(t):
    if t is None:
        return None
    return np.array(t.detach().numpy(), copy=True)


def _cmp(what, r, t, rtol=RTOL, atol=ATOL):
    if r is None or t is None:
        assert r is None and t is None, f"{what}: rt {r is None}, torch {t is None} (None?)"
        return
    assert r.shape == t.shape, f"{what}: shape {r.shape} != torch {t.shape}"
    np.testing.assert_allclose(r, t, rtol=rtol, atol=atol, err_msg=what)


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


# ---- functional cases ------------------------------------------------------------------------
# (name, function name, x shape, w shape, bias?, kwargs)

CASES = []


def _add(fname, xs, ws, bias, kw):
    name = f"{fname}{xs}{ws}b{int(bias)}" + "".join(f"_{k}{v}" for k, v in sorted(kw.items()))
    CASES.append((name, fname, xs, ws, bias, kw))


for D, fname in ((1, "conv1d"), (2, "conv2d"), (3, "conv3d")):
    spatial = {1: (9,), 2: (7, 6), 3: (5, 6, 5)}[D]
    kern = {1: (3,), 2: (3, 2), 3: (2, 3, 2)}[D]
    for stride, padding, dilation, groups, bias in itertools.product(
            (1, 2), (0, 1, "same", "valid"), (1, 2), (1, 2), (True, False)):
        if padding == "same" and stride != 1:
            continue
        if D == 3 and (dilation == 2 and stride == 2):
            continue
        xs = (2, 4) + spatial
        ws = (6, 4 // groups) + kern
        _add(fname, xs, ws, bias, dict(stride=stride, padding=padding, dilation=dilation,
                                       groups=groups))
    # per-dim tuples, unbatched, depthwise, 1x1, big padding
    _add(fname, (3,) + spatial, (2, 3) + kern, True, dict(padding=1))
    _add(fname, (2, 3) + spatial, (6, 1) + kern, True, dict(groups=3, padding=1))
    _add(fname, (2, 3) + spatial, (5, 3) + (1,) * D, True, dict())
    _add(fname, (2, 3) + spatial, (5, 3) + (1,) * D, False, dict(stride=2))
    _add(fname, (1, 2) + spatial, (3, 2) + kern, True,
         dict(stride=tuple(range(1, D + 1)), padding=tuple(range(D)),
              dilation=tuple(range(D, 0, -1))))
    _add(fname, (1, 2) + spatial, (3, 2) + kern, True, dict(padding=3, stride=3))
    _add(fname, (1, 2) + spatial, (3, 2) + tuple(k + 1 for k in kern), True,
         dict(padding="same"))                            # even kernels: extra right padding

for D, fname in ((1, "conv_transpose1d"), (2, "conv_transpose2d"), (3, "conv_transpose3d")):
    spatial = {1: (6,), 2: (4, 5), 3: (3, 2, 3)}[D]
    kern = {1: (3,), 2: (3, 2), 3: (2, 3, 2)}[D]
    for stride, padding, output_padding, dilation, groups, bias in itertools.product(
            (1, 2, 3), (0, 1), (0, 1, 2), (1, 2), (1, 2), (True, False)):
        if output_padding >= stride and output_padding >= dilation:
            continue
        if D == 3 and groups == 2 and bias:
            continue
        xs = (2, 4) + spatial
        ws = (4, 6 // groups) + kern
        _add(fname, xs, ws, bias, dict(stride=stride, padding=padding,
                                       output_padding=output_padding, dilation=dilation,
                                       groups=groups))
    _add(fname, (4,) + spatial, (4, 2) + kern, True, dict(stride=2))
    _add(fname, (2, 4) + spatial, (4, 1) + kern, True, dict(groups=4, stride=2, padding=1))


def _fn(L, fname, kw):
    F = TF if L is torch else RF
    return lambda x, w, b=None: getattr(F, fname)(x, w, b, **kw)


@pytest.mark.parametrize("name,fname,xs,ws,bias,kw", CASES, ids=[c[0] for c in CASES])
def test_functional_parity(name, fname, xs, ws, bias, kw):
    rng = _rng(name)
    groups = kw.get("groups", 1)
    arrays = [rng.uniform(-1, 1, xs), rng.uniform(-1, 1, ws)]
    if bias:
        arrays.append(rng.uniform(-1, 1, (ws[1] * groups if "transpose" in fname else ws[0],)))
    outs, grads, g = {}, {}, None
    for L in (torch, rt):
        ins = [_to(L, a, grad=True) for a in arrays]
        out = _quiet(_fn(L, fname, kw), *ins)
        if g is None:
            g = rng.uniform(-1, 1, tuple(out.shape))
        outs[L] = _np(out)
        out.backward(_to(L, g))
        grads[L] = [_np(t.grad) for t in ins]
    _cmp(f"{name}: output", outs[rt], outs[torch])
    for i, (r, t) in enumerate(zip(grads[rt], grads[torch])):
        _cmp(f"{name}: grad {i}", r, t)
    # float32
    o32 = {}
    for L in (torch, rt):
        o32[L] = _np(_quiet(_fn(L, fname, kw), *[_to(L, a, dtype=np.float32) for a in arrays]))
    _cmp(f"{name}: float32 output", o32[rt], o32[torch], rtol=1e-4, atol=1e-5)
    # second derivatives
    vs = [rng.uniform(-1, 1, a.shape) for a in arrays]
    sec = {}
    for L in (torch, rt):
        ins = [_to(L, a, grad=True) for a in arrays]
        out = _quiet(_fn(L, fname, kw), *ins)
        gs = L.autograd.grad([out], ins, [_to(L, g)], create_graph=True, allow_unused=True)
        s = sum((gi * _to(L, v)).sum() for gi, v in zip(gs, vs)
                if gi is not None and gi.requires_grad)
        second = L.autograd.grad(s, ins, allow_unused=True)
        sec[L] = [np.zeros(a.shape) if t is None else _np(t) for t, a in zip(second, arrays)]
    for i, (r, t) in enumerate(zip(sec[rt], sec[torch])):
        _cmp(f"{name}: second derivative {i}", r, t, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("threads", [1, 2])
def test_larger_float32_parity(threads):
    old = rtt.get_num_threads()
    rtt.set_num_threads(threads)
    try:
        rng = _rng(f"large{threads}")
        for xs, ws, kw in [((8, 16, 20, 20), (32, 16, 3, 3), dict(padding=1)),
                           ((3, 32, 17, 15), (48, 8, 3, 3), dict(stride=2, groups=4)),
                           ((1, 24, 30, 30), (24, 24, 5, 5), dict(padding=2, dilation=1)),
                           ((4, 64, 8, 8), (64, 64, 1, 1), dict())]:
            x, w, b = (rng.standard_normal(s).astype(np.float32) for s in (xs, ws, ws[:1]))
            res = {}
            for L in (torch, rt):
                xt, wt, bt = (_to(L, a, grad=True) for a in (x, w, b))
                F = TF if L is torch else RF
                y = F.conv2d(xt, wt, bt, **kw)
                y.backward(L.ones_like(y))
                res[L] = [_np(y), _np(xt.grad), _np(wt.grad), _np(bt.grad)]
            for what, r, t in zip(("out", "gx", "gw", "gb"), res[rt], res[torch]):
                scale = max(1.0, float(np.abs(t).max()))
                np.testing.assert_allclose(r, t, rtol=1e-4, atol=1e-4 * scale, err_msg=what)
    finally:
        rtt.set_num_threads(old)


# ---- unfold / fold ---------------------------------------------------------------------------

FOLD_CASES = [((2, 3, 5, 6), (2, 3), dict()),
              ((2, 3, 5, 6), 2, dict(dilation=(1, 2), padding=1, stride=(2, 1))),
              ((3, 5, 6), (3, 2), dict(stride=2)),
              ((1, 2, 7, 7), 3, dict(padding=(2, 0), dilation=2)),
              ((0, 2, 4, 4), 2, dict())]


@pytest.mark.parametrize("xs,k,kw", FOLD_CASES)
def test_unfold_fold_parity(xs, k, kw):
    rng = _rng(f"fold{xs}{k}{kw}")
    x = rng.uniform(-1, 1, xs)
    res = {}
    for L in (torch, rt):
        F = TF if L is torch else RF
        xt = _to(L, x, grad=True)
        cols = F.unfold(xt, k, **kw)
        ct = _to(L, _np(cols) * 0.5 + 0.25, grad=True)
        img = F.fold(ct, xs[-2:], k, **kw)
        (cols.sum() + (img * img).sum()).backward()
        res[L] = [_np(cols), _np(img), _np(xt.grad), _np(ct.grad)]
    for what, r, t in zip(("unfold", "fold", "grad unfold", "grad fold"), res[rt], res[torch]):
        _cmp(what, r, t)


# ---- modules ---------------------------------------------------------------------------------

MODULES = [
    ("Conv1d", (3, 4, 3), {}, (2, 3, 9)),
    ("Conv1d", (4, 6, 3), dict(stride=2, padding=2, dilation=2, groups=2, bias=False), (2, 4, 11)),
    ("Conv1d", (2, 3, 4), dict(padding="same"), (2, 2, 7)),
    ("Conv1d", (2, 3, 3), dict(padding=2, padding_mode="circular"), (3, 2, 6)),
    ("Conv2d", (3, 4, 3), {}, (2, 3, 6, 5)),
    ("Conv2d", (4, 6, (3, 2)), dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
     (2, 4, 7, 6)),
    ("Conv2d", (2, 3, 3), dict(padding="same", dilation=2), (1, 2, 6, 6)),
    ("Conv2d", (2, 3, (2, 4)), dict(padding="same"), (1, 2, 6, 6)),
    ("Conv2d", (2, 3, 3), dict(padding="valid"), (2, 6, 6)),
    ("Conv2d", (2, 3, 3), dict(padding=1, padding_mode="reflect"), (2, 2, 5, 5)),
    ("Conv2d", (2, 3, 3), dict(padding=(1, 2), padding_mode="replicate"), (2, 2, 4, 5)),
    ("Conv2d", (2, 3, 3), dict(padding=1, padding_mode="circular"), (2, 2, 4, 5)),
    ("Conv2d", (2, 4, 3), dict(padding="same", padding_mode="reflect"), (2, 2, 5, 5)),
    ("Conv2d", (3, 6, 3), dict(groups=3, padding=1, bias=False), (2, 3, 5, 4)),
    ("Conv3d", (2, 3, (2, 3, 2)), dict(stride=(1, 2, 1), padding=(1, 0, 1)), (2, 2, 3, 5, 4)),
    ("Conv3d", (2, 4, 2), dict(groups=2, dilation=2, padding=1, padding_mode="replicate"),
     (1, 2, 4, 4, 4)),
    ("ConvTranspose1d", (3, 2, 3), {}, (2, 3, 5)),
    ("ConvTranspose1d", (4, 6, 3), dict(stride=3, padding=1, output_padding=2, groups=2),
     (2, 4, 4)),
    ("ConvTranspose2d", (3, 4, (3, 2)), dict(stride=2, padding=1, output_padding=1),
     (2, 3, 3, 4)),
    ("ConvTranspose2d", (4, 2, 3), dict(dilation=2, groups=2, padding=(0, 1), bias=False),
     (1, 4, 3, 3)),
    ("ConvTranspose2d", (2, 2, 2), dict(stride=1, dilation=3, output_padding=2), (1, 2, 3, 3)),
    ("ConvTranspose2d", (2, 3, 2), dict(stride=2), (2, 3, 3)),
    ("ConvTranspose3d", (2, 3, 2), dict(stride=(2, 1, 2), output_padding=(1, 0, 0)),
     (1, 2, 2, 3, 2)),
]


def _pair_modules(kind, args, kwargs):
    torch.manual_seed(0)
    tm = getattr(torch.nn, kind)(*args, **kwargs)
    rm = getattr(rt_nn, kind)(*args, **kwargs)
    with rt.no_grad():
        for (tn, tp), (rn, rp) in zip(tm.named_parameters(), rm.named_parameters()):
            assert tn == rn and tuple(tp.shape) == tuple(rp.shape)
            rp.copy_(rt.from_numpy(tp.detach().numpy().copy()))
    return tm, rm


@pytest.mark.parametrize("kind,args,kwargs,xs", MODULES,
                         ids=[f"{m[0]}-{i}" for i, m in enumerate(MODULES)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_module_parity(kind, args, kwargs, xs, dtype):
    tm, rm = _pair_modules(kind, args, kwargs)
    assert repr(rm) == repr(tm)
    assert list(rm.state_dict()) == list(tm.state_dict())
    assert rm._reversed_padding_repeated_twice == tm._reversed_padding_repeated_twice or \
        tuple(rm._reversed_padding_repeated_twice) == tuple(tm._reversed_padding_repeated_twice)
    if dtype == "float64":
        tm, rm = tm.double(), rm.double()
    np_dt = np.float64 if dtype == "float64" else np.float32
    rtol, atol = (1e-10, 1e-11) if dtype == "float64" else (1e-4, 1e-5)
    x = _rng(f"{kind}{args}{kwargs}").uniform(-1, 1, xs).astype(np_dt)
    res = {}
    for L, m in ((torch, tm), (rt, rm)):
        xt = _to(L, x, grad=True)
        y = _quiet(m, xt)
        (y * y).sum().backward()
        res[L] = [_np(y), _np(xt.grad)] + [_np(p.grad) for p in m.parameters()]
        m.zero_grad()
    for i, (r, t) in enumerate(zip(res[rt], res[torch])):
        _cmp(f"{kind}{args}{kwargs}: {i}", r, t, rtol=rtol, atol=atol)


def test_conv_transpose_output_size_parity():
    tm, rm = _pair_modules("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1))
    x = _rng("ct_os").uniform(-1, 1, (1, 4, 5, 5)).astype(np.float32)
    for size in ([9, 9], [10, 10], [1, 6, 10, 9]):
        _cmp(f"output_size {size}", _np(rm(_to(rt, x), output_size=size)),
             _np(tm(_to(torch, x), output_size=size)), rtol=1e-5, atol=1e-6)
    for size in ([11, 9], [1, 2, 3]):
        with pytest.raises(ValueError) as tr:
            tm(_to(torch, x), output_size=size)
        with pytest.raises(ValueError) as rr:
            rm(_to(rt, x), output_size=size)
        assert str(rr.value).replace("rt_tensor.Size", "torch.Size") == str(tr.value)


@pytest.mark.parametrize("kind,args,kwargs", [
    ("Conv2d", (16, 32, 3), {}), ("Conv1d", (6, 8, 5), dict(groups=2)),
    ("Conv3d", (4, 8, 2), {}), ("ConvTranspose2d", (16, 8, 4), dict(groups=4)),
])
def test_default_init_distribution(kind, args, kwargs):
    torch.manual_seed(0)
    tm = getattr(torch.nn, kind)(*args, **kwargs)
    rt.manual_seed(0)
    rm = getattr(rt_nn, kind)(*args, **kwargs)
    fan_in = tm.weight.shape[1] * int(np.prod(tm.weight.shape[2:]))
    bound = 1 / np.sqrt(fan_in)        # kaiming_uniform_(a=sqrt(5)) and the bias: U(-b, b)
    for (name, tp), (_, rp) in zip(tm.named_parameters(), rm.named_parameters()):
        t, r = _np(tp), _np(rp)
        assert t.shape == r.shape
        assert np.abs(t).max() <= bound and np.abs(r).max() <= bound, name
        if t.size >= 500:              # the weights: the whole interval, uniformly
            assert np.abs(r).max() >= 0.95 * bound, name
            assert abs(r.std() - t.std()) < 0.1 * t.std(), name


def test_fold_unfold_modules_parity():
    assert repr(rt_nn.Fold((4, 5), 2)) == repr(torch.nn.Fold((4, 5), 2))
    assert repr(rt_nn.Unfold(2, dilation=1, padding=1, stride=2)) == \
        repr(torch.nn.Unfold(2, dilation=1, padding=1, stride=2))
    x = _rng("unfold_mod").uniform(-1, 1, (2, 3, 4, 5))
    _cmp("Unfold", _np(rt_nn.Unfold((2, 3), padding=1)(_to(rt, x))),
         _np(torch.nn.Unfold((2, 3), padding=1)(_to(torch, x))))


# ---- errors ------------------------------------------------------------------------------------

def _E(L):
    F = TF if L is torch else RF
    r = (lambda *s, **k: L.randn(*s, **k)) if L is torch else (lambda *s, **k: rt.randn(*s, **k))
    return F, r, L


ERRORS = [
    ("channels", lambda F, r, L: F.conv2d(r(2, 4, 5, 5), r(6, 3, 3, 3))),
    ("channels-unbatched", lambda F, r, L: F.conv2d(r(4, 5, 5), r(6, 3, 3, 3))),
    ("rank", lambda F, r, L: F.conv2d(r(2, 2, 4, 5, 5), r(6, 3, 3, 3))),
    ("rank1d", lambda F, r, L: F.conv1d(r(2, 3, 5, 5), r(6, 3, 3))),
    ("rank3d", lambda F, r, L: F.conv3d(r(2, 3, 5, 5), r(6, 3, 3, 3, 3))),
    ("groups-channels", lambda F, r, L: F.conv2d(r(2, 3, 5, 5), r(6, 3, 3, 3), groups=2)),
    ("groups-divisible", lambda F, r, L: F.conv2d(r(2, 6, 5, 5), r(5, 3, 3, 3), groups=2)),
    ("groups-atleast", lambda F, r, L: F.conv_transpose2d(r(2, 6, 5, 5), r(6, 3, 3, 3),
                                                          groups=7)),
    ("kernel-too-big", lambda F, r, L: F.conv2d(r(2, 3, 2, 2), r(6, 3, 3, 3))),
    ("kernel-too-big-1d", lambda F, r, L: F.conv1d(r(2, 3, 2), r(6, 3, 3))),
    ("kernel-too-big-dil", lambda F, r, L: F.conv2d(r(2, 3, 3, 3), r(6, 3, 3, 3), dilation=2)),
    ("bias-size", lambda F, r, L: F.conv2d(r(2, 3, 5, 5), r(6, 3, 3, 3), r(5))),
    ("bias-2d", lambda F, r, L: F.conv2d(r(2, 3, 5, 5), r(6, 3, 3, 3), r(6, 1))),
    ("stride0", lambda F, r, L: F.conv2d(r(2, 3, 5, 5), r(6, 3, 3, 3), stride=0)),
    ("padneg", lambda F, r, L: F.conv2d(r(2, 3, 5, 5), r(6, 3, 3, 3), padding=-1)),
    ("dil0", lambda F, r, L: F.conv2d(r(2, 3, 5, 5), r(6, 3, 3, 3), dilation=0)),
    ("groups0", lambda F, r, L: F.conv2d(r(2, 3, 5, 5), r(6, 3, 3, 3), groups=0)),
    ("groups0-padneg", lambda F, r, L: F.conv2d(r(2, 3, 5, 5), r(6, 3, 3, 3), padding=-1,
                                                groups=0)),
    ("padneg-stride0", lambda F, r, L: F.conv2d(r(2, 3, 5, 5), r(6, 3, 3, 3), padding=-1,
                                                stride=0)),
    ("stride-len", lambda F, r, L: F.conv2d(r(2, 3, 5, 5), r(6, 3, 3, 3), stride=(1, 1, 1))),
    ("padding-len", lambda F, r, L: F.conv2d(r(2, 3, 5, 5), r(6, 3, 3, 3), padding=[1, 2, 3])),
    ("stride-empty", lambda F, r, L: F.conv2d(r(2, 3, 5, 5), r(6, 3, 3, 3), stride=[])),
    ("weight-rank", lambda F, r, L: F.conv2d(r(2, 3, 5, 5), r(6, 3, 3))),
    ("same-strided", lambda F, r, L: F.conv2d(r(2, 3, 5, 5), r(6, 3, 3, 3), padding="same",
                                              stride=2)),
    ("same-stride-len", lambda F, r, L: F.conv2d(r(2, 3, 5, 5), r(6, 3, 3, 3), padding="same",
                                                 stride=(1, 1, 1))),
    ("same-dil0", lambda F, r, L: F.conv2d(r(2, 3, 5, 5), r(6, 3, 7, 7), padding="same",
                                           dilation=0)),
    ("same-groups0", lambda F, r, L: F.conv2d(r(2, 3, 5, 5), r(6, 3, 3, 3), padding="same",
                                              groups=0)),
    ("same-channels", lambda F, r, L: F.conv2d(r(2, 3, 5, 5), r(6, 4, 3, 3), padding="same")),
    ("valid-channels", lambda F, r, L: F.conv2d(r(2, 3, 5, 5), r(6, 4, 3, 3), padding="valid")),
    ("bad-string", lambda F, r, L: F.conv2d(r(2, 3, 5, 5), r(6, 3, 3, 3), padding="foo")),
    ("dtype-weight", lambda F, r, L: F.conv2d(r(2, 3, 5, 5), r(6, 3, 3, 3, dtype=L.float64))),
    ("dtype-input", lambda F, r, L: F.conv2d(r(2, 3, 5, 5, dtype=L.float64), r(6, 3, 3, 3))),
    ("dtype-bias", lambda F, r, L: F.conv2d(r(2, 3, 5, 5), r(6, 3, 3, 3), r(6, dtype=L.float64))),
    ("dtype-bias2", lambda F, r, L: F.conv2d(r(2, 3, 5, 5, dtype=L.float64),
                                             r(6, 3, 3, 3, dtype=L.float64), r(6))),
    ("empty-spatial", lambda F, r, L: F.conv2d(r(2, 3, 0, 5), r(6, 3, 3, 3), padding=2)),
    ("t-channels", lambda F, r, L: F.conv_transpose2d(r(2, 3, 5, 5), r(6, 3, 3, 3))),
    ("t-channels-unbatched", lambda F, r, L: F.conv_transpose2d(r(2, 6, 5), r(6, 3, 3, 3))),
    ("t-bias", lambda F, r, L: F.conv_transpose2d(r(2, 6, 5, 5), r(6, 3, 3, 3), r(6))),
    ("t-groups", lambda F, r, L: F.conv_transpose2d(r(2, 6, 5, 5), r(6, 3, 3, 3), groups=4)),
    ("t-op", lambda F, r, L: F.conv_transpose2d(r(2, 6, 5, 5), r(6, 3, 3, 3), output_padding=1)),
    ("t-op-2", lambda F, r, L: F.conv_transpose2d(r(2, 6, 5, 5), r(6, 3, 3, 3),
                                                  output_padding=2, stride=2)),
    ("t-op-1d", lambda F, r, L: F.conv_transpose1d(r(2, 3, 5), r(3, 2, 3), output_padding=1)),
    ("t-op-3d", lambda F, r, L: F.conv_transpose3d(r(2, 3, 5, 5, 5), r(3, 2, 3, 3, 3),
                                                   output_padding=1)),
    ("t-op-neg", lambda F, r, L: F.conv_transpose2d(r(2, 3, 5, 5), r(3, 2, 3, 3),
                                                    output_padding=-1)),
    ("t-op-len", lambda F, r, L: F.conv_transpose2d(r(2, 6, 5, 5), r(6, 3, 3, 3),
                                                    output_padding=(0, 1, 1), stride=2)),
    ("t-stride0", lambda F, r, L: F.conv_transpose2d(r(2, 6, 5, 5), r(6, 3, 3, 3), stride=0)),
    ("t-groups0", lambda F, r, L: F.conv_transpose2d(r(2, 6, 5, 5), r(6, 3, 3, 3), groups=0)),
    ("t-padneg", lambda F, r, L: F.conv_transpose2d(r(2, 6, 5, 5), r(6, 3, 3, 3), padding=-1)),
    ("unfold-big", lambda F, r, L: F.unfold(r(2, 3, 5, 6), 7)),
    ("unfold-k0", lambda F, r, L: F.unfold(r(2, 3, 5, 6), 0)),
    ("unfold-s0", lambda F, r, L: F.unfold(r(2, 3, 5, 6), 2, stride=0)),
    ("unfold-d0", lambda F, r, L: F.unfold(r(2, 3, 5, 6), 2, dilation=0)),
    ("unfold-pneg", lambda F, r, L: F.unfold(r(2, 3, 5, 6), 2, padding=-1)),
    ("unfold-rank", lambda F, r, L: F.unfold(r(2, 2, 3, 5, 5), 2)),
    ("unfold-zero-ch", lambda F, r, L: F.unfold(r(2, 0, 5, 5), 2)),
    ("unfold-klen", lambda F, r, L: F.unfold(r(2, 3, 5, 6), (2, 2, 2))),
    ("unfold-2d", lambda F, r, L: F.unfold(r(3, 5), 2)),
    ("unfold-long", lambda F, r, L: F.unfold(r(2, 3, 5, 6).long(), 2)),
    ("fold-kdiv", lambda F, r, L: F.fold(r(2, 12, 20), (5, 6), 3)),
    ("fold-blocks", lambda F, r, L: F.fold(r(2, 12, 20), (6, 6), 2)),
    ("fold-zero-size", lambda F, r, L: F.fold(r(2, 12, 20), (0, 6), 2)),
    ("fold-small", lambda F, r, L: F.fold(r(2, 12, 20), (1, 1), 2)),
    ("fold-s0", lambda F, r, L: F.fold(r(2, 12, 20), (5, 6), 2, stride=0)),
    ("fold-k0", lambda F, r, L: F.fold(r(2, 12, 20), (5, 6), 0)),
    ("fold-pneg", lambda F, r, L: F.fold(r(2, 12, 20), (5, 6), 2, padding=-1)),
    ("fold-d0", lambda F, r, L: F.fold(r(2, 12, 20), (5, 6), 2, dilation=0)),
    ("fold-rank", lambda F, r, L: F.fold(r(2, 2, 12, 20), (5, 6), 2)),
    ("fold-zero", lambda F, r, L: F.fold(r(2, 0, 20), (5, 6), 2)),
    ("fold-len", lambda F, r, L: F.fold(r(2, 12, 20), (5, 6, 7), 2)),
    ("fold-long", lambda F, r, L: F.fold(r(2, 12, 20).long(), (5, 6), 2)),
    ("module-rank", lambda F, r, L: (torch.nn if L is torch else rt_nn).Conv2d(4, 6, 3)(r(4, 5))),
    ("module-dtype", lambda F, r, L: (torch.nn if L is torch else rt_nn).Conv2d(4, 6, 3).double()(
        r(1, 4, 5, 5))),
]


@pytest.mark.parametrize("name,call", ERRORS, ids=[e[0] for e in ERRORS])
def test_error_parity(name, call):
    with pytest.raises(Exception) as tinfo:
        _quiet(call, *_E(torch))
    with pytest.raises(Exception) as rinfo:
        _quiet(call, *_E(rt))
    assert issubclass(rinfo.type, tinfo.type) or rinfo.type is tinfo.type, \
        f"{name}: rt {rinfo.type.__name__}, torch {tinfo.type.__name__}"
    tmsg = str(tinfo.value).split("\n")[0]
    assert str(rinfo.value).split("\n")[0] == tmsg, name


def _sorted_sets(msg):
    """A message with the items of every {...} set sorted: a set's order varies by process."""
    return re.sub(r"\{([^{}]*)\}", lambda m: "{" + ", ".join(sorted(m.group(1).split(", ")))
                  + "}", msg)


CONSTRUCTOR_ERRORS = [
    ("Conv2d", (4, 6, 3), dict(groups=4)),
    ("Conv2d", (4, 6, 3), dict(groups=3)),
    ("Conv2d", (4, 6, 3), dict(groups=0)),
    ("Conv2d", (4, 6, 3), dict(padding_mode="foo")),
    ("Conv1d", (4, 6, 3), dict(padding="foo")),
    ("Conv3d", (4, 6, 3), dict(padding="same", stride=2)),
    ("ConvTranspose2d", (4, 6, 3), dict(padding_mode="reflect")),
    ("ConvTranspose1d", (4, 6, 3), dict(groups=4)),
]


@pytest.mark.parametrize("kind,args,kwargs", CONSTRUCTOR_ERRORS)
def test_constructor_error_parity(kind, args, kwargs):
    with pytest.raises(ValueError) as tinfo:
        getattr(torch.nn, kind)(*args, **kwargs)
    with pytest.raises(ValueError) as rinfo:
        getattr(rt_nn, kind)(*args, **kwargs)
    assert _sorted_sets(str(rinfo.value)) == _sorted_sets(str(tinfo.value))
