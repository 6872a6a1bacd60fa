"""Convolution family: Conv1d/2d/3d, ConvTranspose1d/2d/3d, Fold, Unfold and
F.conv1d/2d/3d, F.conv_transpose1d/2d/3d, F.unfold, F.fold: forward against direct numpy
loops, gradcheck and gradgradcheck through inputs and parameters (stride, padding, dilation,
groups, output_padding), padding modes and 'same', unbatched inputs, default initialisation,
state_dict keys, repr, threads, and PyTorch's errors."""
import itertools
import math

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
import rt_nn.functional as F
import rt_tensor as rtt
from rt_autograd.testing import gradcheck, gradgradcheck
from rt_nn._functional import conv as _conv_impl
from rt_tensor import _nn_conv as K


def _np(t):
    return np.array(t.detach().numpy(), copy=True)


def _rand(*shape, seed=0, dtype=rt.float64, requires_grad=False):
    a = np.random.default_rng(seed).standard_normal(shape)
    return rt.tensor(a, dtype=dtype).requires_grad_(requires_grad)


# ---- numpy references: direct loops over kernel offsets -------------------------------------

def _tup(v, d):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * d


def conv_ref(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation of x (N, C, *S) with w (Co, C/g, *K), zero padding."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    D = x.ndim - 2
    s, p, d = _tup(stride, D), _tup(padding, D), _tup(dilation, D)
    N, C = x.shape[:2]
    Co, Cg = w.shape[:2]
    Cog = Co // groups
    ks = w.shape[2:]
    xp = np.pad(x, [(0, 0), (0, 0)] + [(q, q) for q in p])
    out = [(x.shape[2 + i] + 2 * p[i] - d[i] * (ks[i] - 1) - 1) // s[i] + 1 for i in range(D)]
    y = np.zeros((N, Co, *out))
    for n, co in itertools.product(range(N), range(Co)):
        g = co // Cog
        for pos in itertools.product(*[range(o) for o in out]):
            acc = 0.0
            for ci in range(Cg):
                for k in itertools.product(*[range(kk) for kk in ks]):
                    idx = tuple(pos[i] * s[i] + k[i] * d[i] for i in range(D))
                    acc += xp[(n, g * Cg + ci) + idx] * w[(co, ci) + k]
            y[(n, co) + pos] = acc
    if b is not None:
        y += np.asarray(b, np.float64).reshape((1, -1) + (1,) * D)
    return y


def conv_transpose_ref(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1,
                       dilation=1):
    """Scatter form: every input element adds w * x into the (cropped) output."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    D = x.ndim - 2
    s, p, d = _tup(stride, D), _tup(padding, D), _tup(dilation, D)
    op = _tup(output_padding, D)
    N, Cin = x.shape[:2]
    Cgi, Cog = Cin // groups, w.shape[1]
    ks = w.shape[2:]
    out = [(x.shape[2 + i] - 1) * s[i] - 2 * p[i] + d[i] * (ks[i] - 1) + op[i] + 1
           for i in range(D)]
    y = np.zeros((N, Cog * groups, *out))
    for n, ci in itertools.product(range(N), range(Cin)):
        g = ci // Cgi
        for pos in itertools.product(*[range(v) for v in x.shape[2:]]):
            for co in range(Cog):
                for k in itertools.product(*[range(kk) for kk in ks]):
                    idx = tuple(pos[i] * s[i] - p[i] + k[i] * d[i] for i in range(D))
                    if all(0 <= idx[i] < out[i] for i in range(D)):
                        y[(n, g * Cog + co) + idx] += x[(n, ci) + pos] * w[(ci, co) + k]
    if b is not None:
        y += np.asarray(b, np.float64).reshape((1, -1) + (1,) * D)
    return y


def unfold_ref(x, k, d=1, p=0, s=1):
    x = np.asarray(x, np.float64)
    k, d, p, s = _tup(k, 2), _tup(d, 2), _tup(p, 2), _tup(s, 2)
    N, C, H, W = x.shape
    xp = np.pad(x, [(0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])])
    oh = (H + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (W + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    out = np.zeros((N, C * k[0] * k[1], oh * ow))
    for c, i, j, a, b in itertools.product(range(C), range(k[0]), range(k[1]), range(oh),
                                           range(ow)):
        out[:, (c * k[0] + i) * k[1] + j, a * ow + b] = xp[:, c, a * s[0] + i * d[0],
                                                          b * s[1] + j * d[1]]
    return out


def fold_ref(cols, size, k, d=1, p=0, s=1):
    cols = np.asarray(cols, np.float64)
    k, d, p, s = _tup(k, 2), _tup(d, 2), _tup(p, 2), _tup(s, 2)
    N, CK, L = cols.shape
    C = CK // (k[0] * k[1])
    H, W = size
    oh = (H + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (W + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    out = np.zeros((N, C, H + 2 * p[0], W + 2 * p[1]))
    for c, i, j, a, b in itertools.product(range(C), range(k[0]), range(k[1]), range(oh),
                                           range(ow)):
        out[:, c, a * s[0] + i * d[0], b * s[1] + j * d[1]] += cols[:, (c * k[0] + i) * k[1] + j,
                                                                      a * ow + b]
    return out[:, :, p[0]:p[0] + H, p[1]:p[1] + W]


# ---- the module table: constructor, input shape, reference ------------------------------------

def _conv_module_ref(m, x):
    xin = _np(x)
    unbatched = xin.ndim == len(m.kernel_size) + 1
    if unbatched:
        xin = xin[None]
    b = None if m.bias is None else _np(m.bias)
    if m.transposed:
        y = conv_transpose_ref(xin, _np(m.weight), b, m.stride, m.padding, m.output_padding,
                               m.groups, m.dilation)
    else:
        pad = m.padding
        if isinstance(pad, str):
            lr = m._reversed_padding_repeated_twice
            nd = len(m.kernel_size)
            widths = [(lr[2 * (nd - 1 - i)], lr[2 * (nd - 1 - i) + 1]) for i in range(nd)]
            xin = np.pad(xin, [(0, 0), (0, 0)] + widths)
            pad = 0
        elif m.padding_mode != "zeros":
            mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[m.padding_mode]
            xin = np.pad(xin, [(0, 0), (0, 0)] + [(q, q) for q in m.padding], mode=mode)
            pad = 0
        y = conv_ref(xin, _np(m.weight), b, m.stride, pad, m.dilation, m.groups)
    return y[0] if unbatched else y


MODULES = [
    ("Conv1d", lambda: nn.Conv1d(3, 4, 3), (2, 3, 7)),
    ("Conv1d-s2p1d2g", lambda: nn.Conv1d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2),
     (2, 4, 9)),
    ("Conv1d-nobias-unbatched", lambda: nn.Conv1d(2, 3, 2, bias=False), (2, 6)),
    ("Conv1d-same", lambda: nn.Conv1d(2, 3, 3, padding="same", dilation=2), (2, 2, 7)),
    ("Conv1d-valid", lambda: nn.Conv1d(2, 3, 3, padding="valid"), (2, 2, 7)),
    ("Conv1d-reflect", lambda: nn.Conv1d(2, 3, 3, padding=2, padding_mode="reflect"),
     (2, 2, 6)),
    ("Conv2d", lambda: nn.Conv2d(3, 4, 3), (2, 3, 6, 5)),
    ("Conv2d-s-p-d", lambda: nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 2),
                                       dilation=(1, 2)), (2, 3, 7, 6)),
    ("Conv2d-groups", lambda: nn.Conv2d(4, 6, 3, padding=1, groups=2), (2, 4, 5, 5)),
    ("Conv2d-depthwise", lambda: nn.Conv2d(3, 6, 3, padding=1, groups=3), (2, 3, 5, 4)),
    ("Conv2d-1x1", lambda: nn.Conv2d(3, 5, 1), (2, 3, 4, 4)),
    ("Conv2d-1x1-s2", lambda: nn.Conv2d(3, 5, 1, stride=2), (2, 3, 5, 5)),
    ("Conv2d-big-pad", lambda: nn.Conv2d(2, 3, 2, padding=3, stride=3), (1, 2, 4, 5)),
    ("Conv2d-same-odd", lambda: nn.Conv2d(2, 3, 3, padding="same"), (2, 2, 5, 6)),
    ("Conv2d-reflect", lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
     (2, 2, 5, 5)),
    ("Conv2d-replicate", lambda: nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode="replicate"),
     (2, 2, 4, 5)),
    ("Conv2d-circular", lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular"),
     (2, 2, 4, 5)),
    ("Conv2d-unbatched", lambda: nn.Conv2d(2, 3, 3, padding=1), (2, 4, 4)),
    ("Conv2d-nobias", lambda: nn.Conv2d(2, 3, 3, bias=False), (1, 2, 4, 4)),
    ("Conv3d", lambda: nn.Conv3d(2, 3, (2, 3, 2), stride=(1, 2, 1), padding=(1, 0, 1)),
     (2, 2, 3, 5, 4)),
    ("Conv3d-groups-dil", lambda: nn.Conv3d(2, 4, 2, groups=2, dilation=2, padding=1),
     (1, 2, 4, 4, 4)),
    ("Conv3d-unbatched", lambda: nn.Conv3d(2, 2, 2), (2, 3, 3, 3)),
    ("ConvTranspose1d", lambda: nn.ConvTranspose1d(3, 2, 3), (2, 3, 5)),
    ("ConvTranspose1d-s-p-op-g", lambda: nn.ConvTranspose1d(4, 6, 3, stride=3, padding=1,
                                                            output_padding=2, groups=2),
     (2, 4, 4)),
    ("ConvTranspose1d-unbatched", lambda: nn.ConvTranspose1d(2, 3, 2, bias=False), (2, 4)),
    ("ConvTranspose2d", lambda: nn.ConvTranspose2d(3, 2, 3), (2, 3, 4, 3)),
    ("ConvTranspose2d-s2-op", lambda: nn.ConvTranspose2d(3, 4, (3, 2), stride=2, padding=1,
                                                         output_padding=1), (2, 3, 3, 4)),
    ("ConvTranspose2d-dil-groups", lambda: nn.ConvTranspose2d(4, 2, 3, dilation=2, groups=2,
                                                              padding=(0, 1)), (1, 4, 3, 3)),
    ("ConvTranspose2d-op-dil", lambda: nn.ConvTranspose2d(2, 2, 2, stride=1, dilation=3,
                                                          output_padding=2), (1, 2, 3, 3)),
    ("ConvTranspose2d-unbatched", lambda: nn.ConvTranspose2d(2, 3, 2, stride=2), (2, 3, 3)),
    ("ConvTranspose3d", lambda: nn.ConvTranspose3d(2, 3, 2, stride=(2, 1, 2),
                                                   output_padding=(1, 0, 0)), (1, 2, 2, 3, 2)),
]
IDS = [c[0] for c in MODULES]


@pytest.mark.parametrize("name,make,shape", MODULES, ids=IDS)
def test_forward_matches_numpy(name, make, shape):
    m = make().double()
    x = _rand(*shape)
    out = m(x)
    ref = _conv_module_ref(m, x)
    assert tuple(out.shape) == ref.shape and out.dtype == rt.float64
    np.testing.assert_allclose(_np(out), ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,make,shape", MODULES, ids=IDS)
def test_forward_float32(name, make, shape):
    m = make()
    x = _rand(*shape, dtype=rt.float32)
    out = m(x)
    assert out.dtype == rt.float32 and out.is_contiguous()
    np.testing.assert_allclose(_np(out), _conv_module_ref(m, x), rtol=1e-5, atol=1e-5)


def _functional_of(m):
    """The module's math with its parameters as arguments (for gradcheck)."""
    def fn(x, *ps):
        w, b = ps[0], (ps[1] if len(ps) > 1 else None)
        return m._conv_forward(x, w, b) if not m.transposed else \
            type(m)._conv(x, w, b, m.stride, m.padding, m.output_padding, m.groups, m.dilation)
    return fn


@pytest.mark.parametrize("name,make,shape", MODULES, ids=IDS)
def test_gradcheck_inputs_and_parameters(name, make, shape):
    m = make().double()
    x = _rand(*shape, requires_grad=True)
    ins = (x,) + tuple(p.detach().clone().requires_grad_(True) for p in m.parameters())
    fn = _functional_of(m)
    assert gradcheck(fn, ins)
    assert gradgradcheck(fn, ins)


@pytest.mark.parametrize("name,make,shape", MODULES, ids=IDS)
def test_module_backward_fills_parameter_grads(name, make, shape):
    m = make().double()
    x = _rand(*shape, requires_grad=True)
    out = m(x)
    out.sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape
    for p in m.parameters():
        assert p.grad is not None and p.grad.shape == p.shape and p.grad.is_contiguous()


@pytest.mark.parametrize("name,make,shape", MODULES, ids=IDS)
def test_state_dict_keys_and_round_trip(name, make, shape):
    a, b = make(), make()
    keys = ["weight", "bias"] if a.bias is not None else ["weight"]
    assert list(a.state_dict()) == keys
    b.load_state_dict(a.state_dict())
    x = _rand(*shape, dtype=rt.float32)
    assert rt.equal(a(x), b(x))


def test_conv_gradients_against_numpy_adjoint():
    # <conv(x, w), g> = <x, dx> = <w, dw>; db = sum of g
    x = _rand(2, 4, 6, 7, requires_grad=True)
    w = _rand(6, 2, 3, 2, seed=1, requires_grad=True)
    b = _rand(6, seed=2, requires_grad=True)
    y = F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=2)
    g = _rand(*y.shape, seed=3)
    y.backward(g)
    eye_x = _rand(*x.shape, seed=4)
    lhs = (conv_ref(_np(eye_x), _np(w), None, (2, 1), 1, (1, 2), 2) * _np(g)).sum()
    assert abs(lhs - (_np(eye_x) * _np(x.grad)).sum()) < 1e-9
    eye_w = _rand(*w.shape, seed=5)
    lhs = (conv_ref(_np(x), _np(eye_w), None, (2, 1), 1, (1, 2), 2) * _np(g)).sum()
    assert abs(lhs - (_np(eye_w) * _np(w.grad)).sum()) < 1e-9
    np.testing.assert_allclose(_np(b.grad), _np(g).sum((0, 2, 3)), rtol=1e-12)


def test_grad_fn_names_and_no_grad_path():
    x = rt.randn(1, 2, 5, 5)
    m = nn.Conv2d(2, 3, 3)
    assert m(x).grad_fn.name() == "ConvolutionBackward0"
    assert nn.ConvTranspose2d(2, 3, 3)(x).grad_fn.name() == "ConvolutionBackward0"
    with rt.no_grad():
        y = m(x)
    assert y.grad_fn is None and not y.requires_grad and isinstance(y, rt.Tensor)
    assert F.unfold(x.requires_grad_(), 2).grad_fn.name() == "Im2ColBackward0"
    cols = rt.randn(1, 8, 16, requires_grad=True)
    assert F.fold(cols, (5, 5), 2).grad_fn.name() == "Col2ImBackward0"


def test_only_needed_gradients():
    x = _rand(2, 3, 5, 5)                       # the input needs no gradient
    m = nn.Conv2d(3, 4, 3).double()
    m(x).sum().backward()
    assert x.grad is None and m.weight.grad is not None and m.bias.grad is not None
    m.weight.requires_grad_(False)
    m.bias.grad = None
    m(x).sum().backward()
    assert m.bias.grad is not None


def test_double_backward_through_module():
    m = nn.Conv2d(2, 3, 3, padding=1).double()
    x = _rand(1, 2, 4, 4, requires_grad=True)
    y = m(x)
    gx, = rt.autograd.grad(y.pow(2).sum(), x, create_graph=True)
    gx.sum().backward()
    assert m.weight.grad is not None and x.grad is not None


# ---- functional forms -------------------------------------------------------------------------

CONV_CASES = [
    # (fn, x shape, w shape, kwargs)
    (F.conv1d, (2, 4, 9), (6, 2, 3), dict(stride=2, padding=2, dilation=1, groups=2)),
    (F.conv1d, (1, 3, 8), (2, 3, 4), dict(padding="same", dilation=3)),
    (F.conv2d, (2, 3, 6, 6), (4, 3, 2, 2), dict(padding="same")),
    (F.conv2d, (2, 3, 6, 6), (4, 3, 4, 3), dict(padding="same", dilation=(1, 2))),
    (F.conv2d, (1, 6, 5, 5), (6, 1, 3, 3), dict(padding=1, groups=6)),
    (F.conv2d, (2, 2, 7, 6), (3, 2, 3, 3), dict(stride=3, padding=(2, 1))),
    (F.conv3d, (1, 2, 4, 5, 3), (2, 2, 2, 2, 2), dict(stride=(2, 1, 1), dilation=(1, 2, 1))),
]


@pytest.mark.parametrize("fn,xs,ws,kw", CONV_CASES)
def test_functional_conv_forward_and_gradcheck(fn, xs, ws, kw, recwarn):
    x, w, b = _rand(*xs, requires_grad=True), _rand(*ws, seed=1, requires_grad=True), \
        _rand(ws[0], seed=2, requires_grad=True)
    y = fn(x, w, b, **kw)
    pad = kw.get("padding", 0)
    xin = _np(x)
    if pad == "same":
        D = len(xs) - 2
        dil = _tup(kw.get("dilation", 1), D)
        widths = []
        for i in range(D):
            total = dil[i] * (ws[2 + i] - 1)
            widths.append((total // 2, total - total // 2))
        xin = np.pad(xin, [(0, 0), (0, 0)] + widths)
        pad = 0
        assert tuple(y.shape[2:]) == tuple(xs[2:])
    ref = conv_ref(xin, _np(w), _np(b), kw.get("stride", 1), pad, kw.get("dilation", 1),
                   kw.get("groups", 1))
    np.testing.assert_allclose(_np(y), ref, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda *a: fn(*a, **kw), (x, w, b))
    assert gradgradcheck(lambda *a: fn(*a, **kw), (x, w, b))


def test_same_padding_even_kernel_warns_once():
    _conv_impl._same_warned = False
    x, w = rt.randn(1, 2, 5, 5), rt.randn(3, 2, 2, 2)
    with pytest.warns(UserWarning, match="even kernel lengths and odd dilation"):
        F.conv2d(x, w, padding="same")
    F.conv2d(x, w, padding="same")              # warned once only (warnings are errors here)


TRANSPOSE_CASES = [
    (F.conv_transpose1d, (2, 4, 5), (4, 3, 3), dict(stride=2, padding=1, output_padding=1,
                                                   groups=2)),
    (F.conv_transpose2d, (2, 3, 3, 4), (3, 2, 3, 2), dict(stride=(2, 3), padding=(1, 0),
                                                         output_padding=(1, 2),
                                                         dilation=(1, 2))),
    (F.conv_transpose2d, (1, 2, 4, 4), (2, 3, 3, 3), dict(padding=1)),
    (F.conv_transpose2d, (1, 4, 3, 3), (4, 1, 2, 2), dict(groups=4, stride=2)),
    (F.conv_transpose3d, (1, 2, 2, 3, 2), (2, 2, 2, 3, 2), dict(stride=2, padding=(0, 1, 0))),
]


@pytest.mark.parametrize("fn,xs,ws,kw", TRANSPOSE_CASES)
def test_functional_conv_transpose_forward_and_gradcheck(fn, xs, ws, kw):
    groups = kw.get("groups", 1)
    x, w = _rand(*xs, requires_grad=True), _rand(*ws, seed=1, requires_grad=True)
    b = _rand(ws[1] * groups, seed=2, requires_grad=True)
    y = fn(x, w, b, **kw)
    ref = conv_transpose_ref(_np(x), _np(w), _np(b), kw.get("stride", 1), kw.get("padding", 0),
                             kw.get("output_padding", 0), groups, kw.get("dilation", 1))
    np.testing.assert_allclose(_np(y), ref, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda *a: fn(*a, **kw), (x, w, b))
    assert gradgradcheck(lambda *a: fn(*a, **kw), (x, w, b))


def test_conv_transpose_is_the_input_gradient_of_conv():
    x = _rand(2, 3, 7, 6, requires_grad=True)
    w = _rand(4, 3, 3, 2, seed=1)
    y = F.conv2d(x, w, stride=2, padding=1, dilation=(1, 2))
    g = _rand(*y.shape, seed=2)
    y.backward(g)
    op = [7 - ((y.shape[2] - 1) * 2 - 2 + 2 + 1), 6 - ((y.shape[3] - 1) * 2 - 2 + 2 * 1 + 1)]
    t = F.conv_transpose2d(g, w, stride=2, padding=1, output_padding=op, dilation=(1, 2))
    np.testing.assert_allclose(_np(t), _np(x.grad), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kw", [dict(), dict(dilation=(1, 2), padding=1, stride=(2, 1)),
                                dict(stride=3), dict(padding=(2, 0))])
def test_unfold_fold_match_numpy_and_gradcheck(kw):
    x = _rand(2, 3, 5, 6, requires_grad=True)
    cols = F.unfold(x, (2, 3), **kw)
    ref = unfold_ref(_np(x), (2, 3), kw.get("dilation", 1), kw.get("padding", 0),
                     kw.get("stride", 1))
    np.testing.assert_allclose(_np(cols), ref, rtol=0, atol=0)
    c = _rand(*cols.shape, seed=1, requires_grad=True)
    img = F.fold(c, (5, 6), (2, 3), **kw)
    np.testing.assert_allclose(_np(img), fold_ref(_np(c), (5, 6), (2, 3), kw.get("dilation", 1),
                                                  kw.get("padding", 0), kw.get("stride", 1)),
                               rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda t: F.unfold(t, (2, 3), **kw), (x,))
    assert gradgradcheck(lambda t: F.unfold(t, (2, 3), **kw), (x,))
    assert gradcheck(lambda t: F.fold(t, (5, 6), (2, 3), **kw), (c,))
    assert gradgradcheck(lambda t: F.fold(t, (5, 6), (2, 3), **kw), (c,))


def test_fold_unfold_modules_and_unbatched():
    x = _rand(3, 4, 5)
    u = nn.Unfold(kernel_size=2, padding=1, stride=2)
    assert repr(u) == "Unfold(kernel_size=2, dilation=1, padding=1, stride=2)"
    cols = u(x)
    np.testing.assert_allclose(_np(cols), unfold_ref(_np(x)[None], 2, 1, 1, 2)[0])
    f = nn.Fold(output_size=(4, 5), kernel_size=2, padding=1, stride=2)
    assert repr(f) == "Fold(output_size=(4, 5), kernel_size=2, dilation=1, padding=1, stride=2)"
    img = f(cols)
    assert img.shape == (3, 4, 5)
    np.testing.assert_allclose(_np(img), fold_ref(_np(cols)[None], (4, 5), 2, 1, 1, 2)[0])
    assert list(u.state_dict()) == [] and list(f.state_dict()) == []


# ---- shapes, dtypes, threads, layouts -----------------------------------------------------------

def test_zero_batch_and_zero_channels():
    m = nn.Conv2d(3, 4, 3, padding=1)
    y = m(rt.randn(0, 3, 5, 5))
    assert y.shape == (0, 4, 5, 5)
    w = rt.randn(4, 0, 3, 3)
    b = rt.randn(4)
    y = F.conv2d(rt.randn(2, 0, 5, 5), w, b)
    np.testing.assert_allclose(_np(y), np.broadcast_to(_np(b)[None, :, None, None], (2, 4, 3, 3)))
    x = rt.randn(0, 3, 5, 5, requires_grad=True)
    m(x).sum().backward()
    assert x.grad.shape == x.shape and float(m.weight.grad.abs().sum()) == 0.0


def test_non_contiguous_inputs():
    x = _rand(2, 3, 6, 5).transpose(2, 3)
    w = _rand(4, 3, 2, 2, seed=1).transpose(2, 3)
    np.testing.assert_allclose(_np(F.conv2d(x, w, padding=1)),
                               conv_ref(_np(x), _np(w), None, 1, 1), rtol=1e-12, atol=1e-12)
    # a broadcast (stride-0) output gradient, as sum() gives
    xg = _rand(2, 3, 6, 5, requires_grad=True)
    F.conv2d(xg, w).sum().backward()
    assert xg.grad.shape == xg.shape


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_threads_give_the_same_result(threads):
    old = rtt.get_num_threads()
    try:
        x = _rand(5, 8, 12, 12, dtype=rt.float32, requires_grad=True)
        w = _rand(16, 4, 3, 3, seed=1, dtype=rt.float32, requires_grad=True)
        rtt.set_num_threads(1)
        y1 = F.conv2d(x, w, padding=1, groups=2)
        y1.backward(rt.ones_like(y1))
        gx1, gw1 = _np(x.grad), _np(w.grad)
        x.grad = w.grad = None
        rtt.set_num_threads(threads)
        y2 = F.conv2d(x, w, padding=1, groups=2)
        y2.backward(rt.ones_like(y2))
        np.testing.assert_array_equal(_np(y1), _np(y2))
        np.testing.assert_allclose(_np(x.grad), gx1, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(_np(w.grad), gw1, rtol=1e-5, atol=1e-5)
        # one image: the work is split inside it
        x1 = _rand(1, 16, 20, 20, seed=3, dtype=rt.float32)
        w1 = _rand(32, 16, 3, 3, seed=4, dtype=rt.float32)
        np.testing.assert_allclose(_np(F.conv2d(x1, w1, padding=1)),
                                   conv_ref(_np(x1), _np(w1), None, 1, 1), rtol=1e-4, atol=1e-4)
    finally:
        rtt.set_num_threads(old)


def test_larger_shapes_against_numpy_float32():
    x = _rand(4, 16, 16, 16, dtype=rt.float32)
    w = _rand(24, 16, 3, 3, seed=1, dtype=rt.float32)
    b = _rand(24, seed=2, dtype=rt.float32)
    y = F.conv2d(x, w, b, padding=1)
    # a vectorised numpy reference (the loop one is too slow here)
    xp = np.pad(_np(x).astype(np.float64), [(0, 0), (0, 0), (1, 1), (1, 1)])
    ref = np.zeros((4, 24, 16, 16)) + _np(b)[None, :, None, None]
    for i, j in itertools.product(range(3), range(3)):
        ref += np.einsum("nchw,oc->nohw", xp[:, :, i:i + 16, j:j + 16], _np(w)[:, :, i, j])
    np.testing.assert_allclose(_np(y), ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", [rt.float16, rt.bfloat16])
def test_half_precision_computes_in_float32(dtype):
    x = _rand(2, 3, 5, 5, dtype=dtype)
    w = _rand(4, 3, 3, 3, seed=1, dtype=dtype)
    y = F.conv2d(x, w, padding=1)
    assert y.dtype == dtype
    ref = conv_ref(_np(x.float()), _np(w.float()), None, 1, 1)
    np.testing.assert_allclose(_np(y.float()), ref, rtol=2e-2, atol=5e-2)


def test_module_double_and_dtype_argument():
    m = nn.Conv2d(2, 3, 3, dtype=rt.float64)
    assert m.weight.dtype == rt.float64 and m.bias.dtype == rt.float64
    m = nn.ConvTranspose1d(2, 3, 3).double()
    assert m(_rand(1, 2, 4)).dtype == rt.float64


# ---- construction: attributes, init, repr, errors ------------------------------------------------

def test_attributes_and_weight_shapes():
    m = nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, dilation=(1, 2), groups=2)
    assert m.kernel_size == (3, 2) and m.stride == (2, 2) and m.padding == (1, 1)
    assert m.dilation == (1, 2) and m.output_padding == (0, 0) and m.transposed is False
    assert m.weight.shape == (6, 2, 3, 2) and m.bias.shape == (6,)
    assert m._reversed_padding_repeated_twice == (1, 1, 1, 1)
    m = nn.Conv2d(4, 6, (3, 4), padding="same", dilation=(2, 1))
    assert m._reversed_padding_repeated_twice == [1, 2, 2, 2]
    t = nn.ConvTranspose2d(4, 6, 3, groups=2, output_padding=1, stride=2)
    assert t.weight.shape == (4, 3, 3, 3) and t.transposed and t.output_padding == (1, 1)
    assert nn.Conv1d(2, 4, 3).weight.shape == (4, 2, 3)
    assert nn.Conv3d(2, 4, 3).kernel_size == (3, 3, 3)
    assert nn.ConvTranspose3d(2, 4, 3).weight.shape == (2, 4, 3, 3, 3)


@pytest.mark.parametrize("make,fan_in", [
    (lambda: nn.Conv2d(8, 16, 3), 8 * 9),
    (lambda: nn.Conv1d(6, 4, 5, groups=2), 3 * 5),
    (lambda: nn.Conv3d(2, 4, 2), 2 * 8),
    (lambda: nn.ConvTranspose2d(8, 12, 3, groups=4), 3 * 9),     # weight (8, 3, 3, 3)
])
def test_default_init_bounds(make, fan_in):
    rt.manual_seed(0)
    m = make()
    bound = 1 / math.sqrt(fan_in)
    w, b = _np(m.weight), _np(m.bias)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.8 * bound
    assert abs(w.mean()) < 0.2 * bound


def test_seeded_init_is_reproducible():
    rt.manual_seed(3)
    a = nn.Conv2d(3, 4, 3)
    rt.manual_seed(3)
    b = nn.Conv2d(3, 4, 3)
    assert rt.equal(a.weight, b.weight) and rt.equal(a.bias, b.bias)


@pytest.mark.parametrize("m,text", [
    (lambda: nn.Conv2d(4, 6, 3), "Conv2d(4, 6, kernel_size=(3, 3), stride=(1, 1))"),
    (lambda: nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, dilation=2, groups=2, bias=False,
                       padding_mode="reflect"),
     "Conv2d(4, 6, kernel_size=(3, 2), stride=(2, 2), padding=(1, 1), dilation=(2, 2), "
     "groups=2, bias=False, padding_mode=reflect)"),
    (lambda: nn.Conv2d(4, 6, 3, padding="same"),
     "Conv2d(4, 6, kernel_size=(3, 3), stride=(1, 1), padding=same)"),
    (lambda: nn.Conv1d(4, 6, 3, padding="valid"),
     "Conv1d(4, 6, kernel_size=(3,), stride=(1,), padding=valid)"),
    (lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, output_padding=1),
     "ConvTranspose2d(4, 6, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1))"),
    (lambda: nn.Conv3d(4, 6, 3, padding=(1, 2, 0)),
     "Conv3d(4, 6, kernel_size=(3, 3, 3), stride=(1, 1, 1), padding=(1, 2, 0))"),
])
def test_repr(m, text):
    assert repr(m()) == text


@pytest.mark.parametrize("make,msg", [
    (lambda: nn.Conv2d(4, 6, 3, groups=4), "out_channels must be divisible by groups"),
    (lambda: nn.Conv2d(4, 6, 3, groups=3), "in_channels must be divisible by groups"),
    (lambda: nn.Conv2d(4, 6, 3, groups=0), "groups must be a positive integer"),
    (lambda: nn.Conv2d(4, 6, 3, padding_mode="foo"), "padding_mode must be one of"),
    (lambda: nn.Conv2d(4, 6, 3, padding="foo"), "Invalid padding string 'foo'"),
    (lambda: nn.Conv2d(4, 6, 3, padding="same", stride=2),
     "padding='same' is not supported for strided convolutions"),
    (lambda: nn.ConvTranspose2d(4, 6, 3, padding_mode="reflect"),
     'Only "zeros" padding mode is supported for ConvTranspose2d'),
])
def test_constructor_value_errors(make, msg):
    with pytest.raises(ValueError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        make()


@pytest.mark.parametrize("call,msg", [
    (lambda: F.conv2d(rt.randn(2, 4, 5, 5), rt.randn(6, 3, 3, 3)),
     "Given groups=1, weight of size [6, 3, 3, 3], expected input[2, 4, 5, 5] to have 3 "
     "channels, but got 4 channels instead"),
    (lambda: F.conv2d(rt.randn(4, 5, 5), rt.randn(6, 3, 3, 3)),
     "Given groups=1, weight of size [6, 3, 3, 3], expected input[1, 4, 5, 5] to have 3 "
     "channels, but got 4 channels instead"),
    (lambda: F.conv2d(rt.randn(2, 2, 4, 5, 5), rt.randn(6, 3, 3, 3)),
     "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: "
     "[2, 2, 4, 5, 5]"),
    (lambda: F.conv1d(rt.randn(2, 3, 5, 5), rt.randn(6, 3, 3)),
     "Expected 2D (unbatched) or 3D (batched) input to conv1d, but got input of size: "
     "[2, 3, 5, 5]"),
    (lambda: F.conv2d(rt.randn(2, 6, 5, 5), rt.randn(5, 3, 3, 3), groups=2),
     "Given groups=2, expected weight to be divisible by 2 at dimension 0, but got weight of "
     "size [[5, 3, 3, 3]] instead"),
    (lambda: F.conv2d(rt.randn(2, 3, 2, 2), rt.randn(6, 3, 3, 3)),
     "Calculated padded input size per channel: (2 x 2). Kernel size: (3 x 3). Kernel size "
     "can't be greater than actual input size"),
    (lambda: F.conv2d(rt.randn(2, 3, 5, 5), rt.randn(6, 3, 3, 3), bias=rt.randn(5)),
     "Given weight of size [6, 3, 3, 3], expected bias to be 1-dimensional with 6 elements, "
     "but got bias of size [5] instead"),
    (lambda: F.conv2d(rt.randn(2, 3, 5, 5), rt.randn(6, 3, 3, 3), stride=0),
     "non-positive stride is not supported"),
    (lambda: F.conv2d(rt.randn(2, 3, 5, 5), rt.randn(6, 3, 3, 3), padding=-1),
     "negative padding is not supported"),
    (lambda: F.conv2d(rt.randn(2, 3, 5, 5), rt.randn(6, 3, 3, 3), dilation=0),
     "non-positive dilation is not supported"),
    (lambda: F.conv2d(rt.randn(2, 3, 5, 5), rt.randn(6, 3, 3, 3), groups=0),
     "non-positive groups is not supported"),
    (lambda: F.conv2d(rt.randn(2, 3, 5, 5), rt.randn(6, 3, 3, 3), padding="same", stride=2),
     "padding='same' is not supported for strided convolutions"),
    (lambda: F.conv2d(rt.randn(2, 3, 5, 5), rt.randn(6, 3, 3, 3), padding="foo"),
     "Invalid padding string: 'foo'"),
    (lambda: F.conv2d(rt.randn(2, 3, 5, 5), rt.randn(6, 3, 3, 3), stride=(1, 1, 1)),
     "expected stride to be a single integer value or a list of 2 values to match the "
     "convolution dimensions, but got stride=[1, 1, 1]"),
    (lambda: F.conv2d(rt.randn(2, 3, 5, 5), rt.randn(6, 3, 3, 3, dtype=rt.float64)),
     "Input type (torch.FloatTensor) and weight type (torch.DoubleTensor) should be the same"),
    (lambda: F.conv2d(rt.randn(2, 3, 5, 5, dtype=rt.float64), rt.randn(6, 3, 3, 3)),
     "expected scalar type Double but found Float"),
    (lambda: F.conv2d(rt.randn(2, 3, 5, 5), rt.randn(6, 3, 3, 3),
                      rt.randn(6, dtype=rt.float64)),
     "Input type (float) and bias type (double) should be the same"),
    (lambda: F.conv_transpose2d(rt.randn(2, 3, 5, 5), rt.randn(6, 3, 3, 3)),
     "Given transposed=1, weight of size [6, 3, 3, 3], expected input[2, 3, 5, 5] to have 6 "
     "channels, but got 3 channels instead"),
    (lambda: F.conv_transpose2d(rt.randn(2, 6, 5, 5), rt.randn(6, 3, 3, 3), bias=rt.randn(6)),
     "Given transposed=1, weight of size [6, 3, 3, 3], expected bias to be 1-dimensional with "
     "3 elements, but got bias of size [6] instead"),
    (lambda: F.conv_transpose2d(rt.randn(2, 6, 5, 5), rt.randn(6, 3, 3, 3), output_padding=1),
     "output padding must be smaller than either stride or dilation, but got "
     "output_padding_height: 1 output_padding_width: 1 stride_height: 1 stride_width: 1 "
     "dilation_height: 1 dilation_width: 1"),
    (lambda: F.conv_transpose1d(rt.randn(2, 3, 5), rt.randn(3, 2, 3), output_padding=1),
     "output padding must be smaller than either stride or dilation, but got "
     "output_padding_height: 0 output_padding_width: 1 stride_height: 1 stride_width: 1 "
     "dilation_height: 1 dilation_width: 1"),
    (lambda: F.conv_transpose2d(rt.randn(2, 6, 5, 5), rt.randn(6, 3, 3, 3), padding=5),
     "Given input size per channel: (5 x 5). Calculated output size per channel: (-3 x -3). "
     "Output size is too small"),
    (lambda: F.conv_transpose2d(rt.randn(2, 6, 5, 5), rt.randn(6, 3, 3, 3), groups=7),
     "Given groups=7, expected weight to be at least 7 at dimension 0, but got weight of size "
     "[6, 3, 3, 3] instead"),
    (lambda: F.conv2d(rt.randn(2, 3, 0, 5), rt.randn(6, 3, 3, 3), padding=2),
     "Only zero batch or zero channel inputs are supported, but got input shape: [2, 3, 0, 5]"),
    (lambda: F.unfold(rt.randn(2, 3, 5, 6), 7),
     "Given input with spatial size (5, 6), kernel_size=(7, 7), dilation=(1, 1), padding=(0, 0), "
     "calculated shape of the array of sliding blocks as (-1, 0), but its components must be "
     "at least one."),
    (lambda: F.unfold(rt.randn(2, 3, 5, 6), 0),
     "kernel size should be greater than zero, but got kernel_height: 0 kernel_width: 0"),
    (lambda: F.unfold(rt.randn(2, 2, 3, 5, 5), 2),
     "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
     "dimensions for input, but got: [2, 2, 3, 5, 5]"),
    (lambda: F.fold(rt.randn(2, 12, 20), (5, 6), 3),
     "Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
     "got input.size(1)=12 and kernel_size=(3, 3)"),
    (lambda: F.fold(rt.randn(2, 12, 20), (6, 6), 2),
     "Given output_size=(6, 6), kernel_size=(2, 2), dilation=(1, 1), padding=(0, 0), "
     "stride=(1, 1), expected size of input's dimension 2 to match the calculated number of "
     "sliding blocks 5 * 5 = 25, but got input.size(2)=20."),
])
def test_functional_errors(call, msg):
    with pytest.raises(RuntimeError) as info:
        call()
    assert msg in str(info.value)


def test_type_errors():
    with pytest.raises(TypeError):
        F.conv2d([1.0], rt.randn(6, 3, 3, 3))
    with pytest.raises(TypeError):
        F.conv2d(rt.randn(2, 3, 5, 5), rt.randn(6, 3, 3, 3), stride=1.5)
    with pytest.raises(TypeError):
        F.unfold(rt.randn(2, 3, 5, 5), 2.5)
    with pytest.raises(NotImplementedError):
        F.unfold(rt.randn(2, 3, 5, 5).long(), 2)


def test_module_wrong_input_shape():
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input "
                                           r"to conv2d, but got input of size: \[4, 5\]"):
        nn.Conv2d(4, 6, 3)(rt.randn(4, 5))


def test_conv_transpose_output_size():
    ct = nn.ConvTranspose2d(4, 6, 3, stride=2)
    x = rt.randn(1, 4, 5, 5)
    assert ct(x, output_size=[12, 12]).shape == (1, 6, 12, 12)
    assert ct(x, output_size=[1, 6, 11, 12]).shape == (1, 6, 11, 12)
    assert ct(rt.randn(4, 5, 5), output_size=[12, 12]).shape == (6, 12, 12)
    with pytest.raises(ValueError, match=r"requested an output size of \[13, 12\], but valid "
                                         r"sizes range from \[11, 11\] to \[12, 12\]"):
        ct(x, output_size=[13, 12])
    with pytest.raises(ValueError, match="ConvTranspose2D: for 4D input, output_size must have "
                                         r"2 or 4 elements \(got 3\)"):
        ct(x, output_size=[1, 2, 3])


# ---- the kernels' own checks (no input may crash the process) -----------------------------------

def test_kernel_entry_points_validate():
    x, w = rt.randn(2, 3, 5, 5), rt.randn(4, 3, 3, 3)
    with pytest.raises(RuntimeError):
        K.conv_forward(x, rt.randn(4, 2, 3, 3), None, (1, 1), (0, 0), (1, 1), 1)
    with pytest.raises(RuntimeError):
        K.conv_forward(x, w, rt.randn(3), (1, 1), (0, 0), (1, 1), 1)
    with pytest.raises(RuntimeError):
        K.conv_forward(x, w, None, (0, 1), (0, 0), (1, 1), 1)
    with pytest.raises(RuntimeError):
        K.conv_forward(x, w, None, (1, 1), (0,), (1, 1), 1)
    with pytest.raises(RuntimeError):
        K.conv_forward(x.long(), w.long(), None, (1, 1), (0, 0), (1, 1), 1)
    with pytest.raises(RuntimeError):
        K.conv_forward(x, w.double(), None, (1, 1), (0, 0), (1, 1), 1)
    with pytest.raises(RuntimeError):
        K.conv_forward(rt.randn(2, 3, 2, 2), w, None, (1, 1), (0, 0), (1, 1), 1)
    with pytest.raises(RuntimeError):
        K.conv_backward_input(rt.randn(2, 4, 4, 4), w, (5, 5), (1, 1), (0, 0), (1, 1), 1)
    with pytest.raises(RuntimeError):
        K.conv_backward_weight(x, rt.randn(2, 4, 4, 4), (3, 3), (1, 1), (0, 0), (1, 1), 1)
    with pytest.raises(RuntimeError):
        K.col2im(rt.randn(2, 13, 20), (5, 6), (2, 2), (1, 1), (0, 0), (1, 1))
    with pytest.raises(TypeError):
        K.im2col([1, 2], (2, 2), (1, 1), (0, 0), (1, 1))


# ---- the Winograd F(2x2, 3x3) path (3x3, stride 1, dilation 1, >= 16 channels by default) ----

@pytest.fixture
def tuning():
    saved = K._tuning()
    yield K._tuning
    K._tuning(winograd=saved["winograd"], wino_min_channels=saved["wino_min_channels"])


WINO_SHAPES = [  # N, C, Co, H, W, padding, groups
    (2, 16, 16, 5, 7, 1, 1), (3, 32, 16, 8, 8, 0, 1), (1, 32, 32, 9, 6, 2, 2),
    (2, 16, 32, 3, 3, 1, 1), (2, 16, 16, 1, 1, 1, 1), (1, 16, 16, 4, 4, 3, 1),
    (4, 64, 64, 16, 16, 1, 1), (1, 16, 48, 33, 17, 1, 1),
]


@pytest.mark.parametrize("shape", WINO_SHAPES)
@pytest.mark.parametrize("dtype", [rt.float64, rt.float32])
@pytest.mark.parametrize("threads", [1, 2])
def test_winograd_matches_im2col(shape, dtype, threads, tuning):
    n, c, co, h, w, p, g = shape
    old = rtt.get_num_threads()
    rtt.set_num_threads(threads)
    try:
        x = _rand(n, c, h, w, dtype=dtype)
        wt = _rand(co, c // g, 3, 3, seed=1, dtype=dtype)
        b = _rand(co, seed=2, dtype=dtype)
        oh, ow = h + 2 * p - 2, w + 2 * p - 2
        gy = _rand(n, co, oh, ow, seed=3, dtype=dtype)
        res = {}
        for wino in (True, False):
            tuning(winograd=wino)
            res[wino] = [_np(K.conv_forward(x, wt, b, (1, 1), (p, p), (1, 1), g)),
                         _np(K.conv_backward_input(gy, wt, (h, w), (1, 1), (p, p), (1, 1), g)),
                         _np(K.conv_backward_weight(x, gy, (3, 3), (1, 1), (p, p), (1, 1), g))]
        tol = 1e-12 if dtype == rt.float64 else 2e-5
        for a, r in zip(res[True], res[False]):
            scale = max(1.0, float(np.abs(r).max()))
            np.testing.assert_allclose(a, r, rtol=tol, atol=tol * scale)
    finally:
        rtt.set_num_threads(old)


def test_winograd_gradcheck(tuning):
    tuning(wino_min_channels=1)          # Winograd on a shape small enough for gradcheck
    x = _rand(2, 2, 5, 4, requires_grad=True)
    w = _rand(3, 2, 3, 3, seed=1, requires_grad=True)
    b = _rand(3, seed=2, requires_grad=True)
    y = F.conv2d(x, w, b, padding=1)
    np.testing.assert_allclose(_np(y), conv_ref(_np(x), _np(w), _np(b), 1, 1), rtol=1e-12,
                               atol=1e-12)
    assert gradcheck(lambda *a: F.conv2d(*a, padding=1), (x, w, b))
    assert gradgradcheck(lambda *a: F.conv2d(*a, padding=1), (x, w, b))
    assert gradcheck(lambda *a: F.conv_transpose2d(*a, padding=1), (x[:, :, :, :].detach()
                     .requires_grad_(), _rand(2, 3, 3, 3, seed=4, requires_grad=True), b))


# ---- the depthwise path (one input channel per group) -------------------------------------------

DW_CASES = [  # x shape, multiplier, kernel, stride, padding, dilation
    ((2, 4, 9), 1, (3,), (1,), (1,), (1,)),
    ((2, 3, 9, 8), 2, (3, 3), (2, 1), (1, 2), (1, 2)),
    ((3, 5, 12, 11), 1, (5, 4), (1, 1), (2, 0), (1, 1)),
    ((1, 3, 4, 5, 6), 3, (2, 3, 2), (1, 2, 1), (1, 0, 1), (2, 1, 1)),
    ((2, 8, 16, 16), 1, (3, 3), (1, 1), (1, 1), (1, 1)),
    ((2, 4, 7, 9), 1, (3, 3), (2, 1), (2, 2), (2, 2)),
    ((1, 4, 5, 6, 7), 1, (3, 3, 1), (1, 1, 1), (1, 1, 0), (1, 1, 1)),
    ((1, 4, 5, 6, 7), 2, (1, 3, 3), (2, 1, 1), (0, 1, 1), (1, 2, 2)),
]


@pytest.mark.parametrize("xs,mult,k,s,p,d", DW_CASES)
def test_depthwise_matches_numpy_and_gradcheck(xs, mult, k, s, p, d):
    c = xs[1]
    fn = {3: F.conv1d, 4: F.conv2d, 5: F.conv3d}[len(xs)]
    x = _rand(*xs, requires_grad=True)
    w = _rand(c * mult, 1, *k, seed=1, requires_grad=True)
    b = _rand(c * mult, seed=2, requires_grad=True)
    y = fn(x, w, b, s, p, d, c)
    np.testing.assert_allclose(_np(y), conv_ref(_np(x), _np(w), _np(b), s, p, d, c),
                               rtol=1e-12, atol=1e-12)
    g = _rand(*y.shape, seed=3)
    y.backward(g)
    w2 = _rand(*w.shape, seed=4)
    lhs = (conv_ref(_np(x), _np(w2), None, s, p, d, c) * _np(g)).sum()
    assert abs(lhs - (_np(w2) * _np(w.grad)).sum()) < 1e-9
    if x.numel() <= 300:
        assert gradcheck(lambda *a: fn(*a, s, p, d, c), (x, w, b))
        assert gradgradcheck(lambda *a: fn(*a, s, p, d, c), (x, w, b))


@pytest.mark.parametrize("groups", [1, 4])
@pytest.mark.parametrize("padding", [(1, 1, 1), (0, 1, 1), (2, 0, 1)])
def test_flat_3d_kernels_take_the_right_paths(groups, padding, tuning):
    # a 3-d convolution with depth-1 input and kernel looks 2-d to the Winograd and depthwise
    # paths; depth padding must keep it off them (or be handled)
    tuning(wino_min_channels=1)
    x = _rand(2, 4, 1, 6, 7, requires_grad=True)
    w = _rand(4, 4 // groups, 1, 3, 3, seed=1, requires_grad=True)
    b = _rand(4, seed=2, requires_grad=True)
    y = F.conv3d(x, w, b, padding=padding, groups=groups)
    np.testing.assert_allclose(_np(y), conv_ref(_np(x), _np(w), _np(b), 1, padding, 1, groups),
                               rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda *a: F.conv3d(*a, padding=padding, groups=groups), (x, w, b))


# ---- conv_forward(relu=True): the inference epilogue, on every forward path ---------------------

RELU_CASES = [  # x shape, weight shape, stride, padding, dilation, groups, tuning
    ((2, 3, 9, 8), (5, 3, 3, 3), (1, 1), (1, 1), (1, 1), 1, {}),           # im2col + GEMM
    ((2, 4, 6, 5), (6, 4, 1, 1), (1, 1), (0, 0), (1, 1), 1, {}),           # pointwise
    ((1, 1, 28, 28), (16, 1, 3, 3), (1, 1), (1, 1), (1, 1), 1, {}),        # one input channel
    ((2, 4, 7, 9), (8, 2, 3, 3), (2, 1), (2, 1), (1, 2), 2, {}),           # strided, groups
    ((2, 16, 7, 9), (16, 16, 3, 3), (1, 1), (1, 1), (1, 1), 1,
     {"winograd": True, "wino_min_channels": 1}),                          # Winograd
    ((2, 3, 9, 8), (6, 1, 3, 3), (1, 1), (1, 1), (1, 1), 3, {}),           # depthwise 3x3
    ((2, 4, 9), (4, 1, 5), (2,), (2,), (1,), 4, {}),                       # depthwise 1-d
    ((1, 2, 3, 4, 5), (3, 2, 2, 2, 2), (1, 1, 1), (1, 0, 1), (1, 1, 1), 1, {}),   # 3-d
]


@pytest.mark.parametrize("xs,ws,s,p,d,g,tune", RELU_CASES)
@pytest.mark.parametrize("dtype", [rt.float64, rt.float32, rt.bfloat16])
@pytest.mark.parametrize("with_bias", [True, False])
def test_conv_forward_relu_epilogue(xs, ws, s, p, d, g, tune, dtype, with_bias, tuning):
    if tune:
        tuning(**tune)
    x = _rand(*xs).to(dtype)
    w = _rand(*ws, seed=1).to(dtype)
    b = _rand(ws[0], seed=2).to(dtype) if with_bias else None
    plain = _np(K.conv_forward(x, w, b, s, p, d, g).double())
    fused = K.conv_forward(x, w, b, s, p, d, g, relu=True)
    assert fused.dtype == dtype and not fused.requires_grad
    # the oracle: numpy's max(0, .) of the plain convolution (same kernel, same rounding)
    np.testing.assert_array_equal(_np(fused.double()), np.maximum(plain, 0))
    ref = conv_ref(_np(x.double()), _np(w.double()), None if b is None else _np(b.double()),
                   s, p, d, g)
    tol = {rt.float64: 1e-12, rt.float32: 1e-5, rt.bfloat16: 5e-2}[dtype]
    np.testing.assert_allclose(_np(fused.double()), np.maximum(ref, 0), rtol=tol,
                               atol=tol * max(1.0, float(np.abs(ref).max())))


def test_conv_forward_relu_keeps_nan():
    # PyTorch's relu is clamp_min(x, 0): relu(nan) = nan; negatives become 0
    x = rt.full((1, 1, 3, 3), 2.0, dtype=rt.float64)
    x[0, 0, 1, 1] = float("nan")
    w = rt.ones(2, 1, 1, 1, dtype=rt.float64)
    w[1] = -1.0
    y = _np(K.conv_forward(x, w, rt.tensor([0.5, 1.0], dtype=rt.float64), (1, 1), (0, 0),
                           (1, 1), 1, relu=True))
    assert np.isnan(y[0, 0, 1, 1]) and np.isnan(y[0, 1, 1, 1])
    assert y[0, 0, 0, 0] == 2.5 and y[0, 1, 0, 0] == 0.0


# ---- conv_forward(pool2=True): relu (if asked) and a 2x2 stride-2 max pool in the epilogue ----

POOL2_CASES = [  # x shape, weight shape, padding, groups, tuning
    ((2, 3, 9, 8), (5, 3, 3, 3), 1, 1, {}),                                # im2col, odd rows
    ((1, 1, 28, 28), (16, 1, 3, 3), 1, 1, {}),
    ((2, 4, 6, 7), (6, 4, 1, 1), 0, 1, {}),                                # pointwise
    ((2, 16, 12, 11), (16, 16, 3, 3), 1, 1,
     {"winograd": True, "wino_min_channels": 1}),                          # Winograd: unfused
    ((2, 3, 9, 8), (6, 1, 3, 3), 1, 3, {}),                                # depthwise: unfused
    ((3, 4, 15, 9), (6, 2, 3, 3), 1, 2, {"col_bytes": 1}),                 # one line per part
    ((2, 4, 13, 10), (6, 4, 3, 3), 2, 1, {"col_bytes": 3000}),             # odd parts, rounded up
]


@pytest.mark.parametrize("xs,ws,p,g,tune", POOL2_CASES)
@pytest.mark.parametrize("dtype", [rt.float64, rt.float32])
@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize("threads", [1, 2])
def test_conv_forward_pool2_epilogue(xs, ws, p, g, tune, dtype, relu, threads, tuning):
    saved = K._tuning()
    old = rtt.get_num_threads()
    rtt.set_num_threads(threads)
    try:
        K._tuning(**{k: v for k, v in tune.items() if k in ("col_bytes",)})
        tuning(**{k: v for k, v in tune.items() if k != "col_bytes"})
        x = _rand(*xs, dtype=dtype)
        x[0, 0, 1, :3] = float("nan")                    # NaN in some windows
        w = _rand(*ws, seed=1, dtype=dtype)
        b = _rand(ws[0], seed=2, dtype=dtype)
        args = ((1, 1), (p, p), (1, 1), g)
        fused = K.conv_forward(x, w, b, *args, relu=relu, pool2=True)
        # the oracle: max_pool2d of the unfused kernel's output (bit for bit), and numpy's
        full = K.conv_forward(x, w, b, *args, relu=relu)
        if "col_bytes" not in tune:
            np.testing.assert_array_equal(_np(fused), _np(F.max_pool2d(full, 2)))
        # (parts of an odd number of lines are rounded up to pairs: other GEMM widths, so the
        # last bits may differ there; numpy's oracle below covers those cases)
        ref = conv_ref(_np(x), _np(w), _np(b), 1, p, 1, g)
        ref = np.maximum(ref, 0) if relu else ref
        n, c, h, wd = ref.shape
        ref = ref[:, :, :h // 2 * 2, :wd // 2 * 2].reshape(n, c, h // 2, 2, wd // 2, 2)
        with np.errstate(invalid="ignore"):
            ref = ref.max(axis=(3, 5))                   # numpy's max propagates NaN
        tol = 1e-12 if dtype == rt.float64 else 1e-5
        np.testing.assert_allclose(_np(fused), ref, rtol=tol, atol=tol * 10)
    finally:
        K._tuning(col_bytes=saved["col_bytes"])
        rtt.set_num_threads(old)


def test_conv_forward_pool2_edges():
    w = _rand(3, 2, 3, 3, seed=1)
    # an output smaller than a window pools to an empty tensor, as max_pool2d's floor mode
    y = K.conv_forward(_rand(1, 2, 3, 5), w, None, (1, 1), (0, 0), (1, 1), 1, pool2=True)
    assert tuple(y.shape) == (1, 3, 0, 1)
    with pytest.raises(RuntimeError, match="pool2 needs a 2-d convolution"):
        K.conv_forward(_rand(1, 2, 5), _rand(3, 2, 3), None, (1,), (0,), (1,), 1, pool2=True)
