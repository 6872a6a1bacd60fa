"""F.conv1d/2d/3d's fast path (rt_nn._functional.conv._convnd): for the plain argument forms it
takes, the same bits, gradients (first and second order) and autograd graph as the full path
(``_convnd_full``, the checked path, called directly as the oracle); every other form goes to
the full path; and every error keeps the full path's (PyTorch's) exception type and message,
including the forms that are hash-equal to plain ones (True, 1.0, numpy integers) and errors
found after the memo holds the plain form's entry."""
import enum

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
import rt_nn.functional as F
from rt_nn._functional import conv as C

FULL = C._convnd_full
NAMES = {1: "conv1d", 2: "conv2d", 3: "conv3d"}
FUNCS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def _np(t):
    return np.array(t.detach().float().numpy() if t.dtype in (rt.float16, rt.bfloat16)
                    else t.detach().numpy(), copy=True)


def _rand(*shape, seed=0, dtype=rt.float64):
    return rt.tensor(np.random.default_rng(seed).standard_normal(shape), dtype=dtype)


def _graph(fn, depth=6):
    """The autograd graph below fn as nested (name, children) (None for a missing edge)."""
    if fn is None or depth == 0:
        return None
    return (fn.name(), tuple(_graph(f, depth - 1) for f, _ in fn.next_functions))


@pytest.fixture
def full_path_calls(monkeypatch):
    """Count the calls that reach the full path through _convnd."""
    calls = []

    def spy(*args):
        calls.append(args)
        return FULL(*args)

    monkeypatch.setattr(C, "_convnd_full", spy)
    return calls


def _kwargs(stride, padding, dilation, groups):
    return dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


# (D, input shape, weight shape, bias, stride, padding, dilation, groups)
VALID = [
    (2, (2, 4, 7, 6), (6, 4, 3, 3), True, 1, 0, 1, 1),
    (2, (2, 4, 7, 6), (6, 4, 3, 3), True, 1, 1, 1, 1),
    (2, (2, 4, 7, 6), (6, 4, 3, 3), False, (2, 1), (1, 2), (1, 2), 1),
    (2, (2, 4, 7, 6), (6, 2, 3, 2), True, (2,), (1,), (2,), 2),
    (2, (2, 4, 7, 6), (4, 1, 3, 3), True, 1, (1, 1), 1, 4),        # depthwise
    (2, (4, 7, 6), (6, 4, 3, 3), True, 1, 1, 1, 1),                 # unbatched
    (2, (2, 4, 7, 6), (6, 4, 3, 3), True, 1, "valid", 1, 1),
    (2, (2, 4, 7, 6), (6, 4, 1, 1), True, 1, 0, 1, 1),              # pointwise
    (2, (2, 4, 7, 6), (6, 4, 7, 6), True, 1, 0, 1, 1),              # kernel = input
    (2, (2, 16, 6, 6), (16, 16, 3, 3), True, 1, 1, 1, 1),           # Winograd-sized
    (1, (2, 3, 9), (5, 3, 3), True, 1, 0, 1, 1),
    (1, (2, 3, 9), (6, 1, 2), False, 2, 1, 2, 3),
    (1, (3, 9), (5, 3, 3), True, (1,), (2,), (1,), 1),              # unbatched
    (1, (2, 3, 9), (5, 3, 3), True, 1, "valid", 2, 1),
    (3, (2, 2, 5, 4, 6), (4, 2, 3, 2, 3), True, 1, 1, 1, 1),
    (3, (2, 4, 5, 4, 6), (4, 2, 2, 2, 2), False, (1, 2, 1), (0, 1, 1), (2, 1, 1), 2),
    (3, (2, 5, 4, 6), (3, 2, 3, 3, 3), True, (2,), 1, 1, 1),        # unbatched
]


def _ids(case):
    D, xs, ws, bias, s, p, d, g = case
    return f"{D}d-x{xs}-w{ws}-b{int(bias)}-s{s}-p{p}-d{d}-g{g}".replace(" ", "")


@pytest.mark.parametrize("dtype", [rt.float64, rt.float32, rt.float16, rt.bfloat16])
@pytest.mark.parametrize("case", VALID, ids=_ids)
def test_fast_path_forward_is_the_full_paths(case, dtype, full_path_calls):
    D, xs, ws, bias, s, p, d, g = case
    x, w = _rand(*xs, seed=1, dtype=dtype), _rand(*ws, seed=2, dtype=dtype)
    b = _rand(ws[0], seed=3, dtype=dtype) if bias else None
    kw = _kwargs(s, p, d, g)
    y = FUNCS[D](x, w, b, **kw)
    assert not full_path_calls                     # the fast path took it
    ref = FULL(NAMES[D], D, x, w, b, s, p, d, g)
    assert y.dtype == ref.dtype and y.shape == ref.shape
    np.testing.assert_array_equal(_np(y), _np(ref))
    with rt.no_grad():
        np.testing.assert_array_equal(_np(FUNCS[D](x, w, b, **kw)), _np(ref))
    assert not full_path_calls


@pytest.mark.parametrize("case", VALID, ids=_ids)
def test_fast_path_grads_and_graph_are_the_full_paths(case, full_path_calls):
    D, xs, ws, bias, s, p, d, g = case
    results = []
    for fn in (lambda *a: FUNCS[D](*a, **_kwargs(s, p, d, g)),
               lambda *a: FULL(NAMES[D], D, *a, s, p, d, g)):
        x = _rand(*xs, seed=1).requires_grad_()
        w = nn.Parameter(_rand(*ws, seed=2))        # modules pass Parameters
        b = _rand(ws[0], seed=3).requires_grad_() if bias else None
        ins = [x, w] + ([b] if bias else [])
        y = fn(x, w, b)
        gy = _rand(*y.shape, seed=4)
        grads = rt.autograd.grad(y, ins, gy, create_graph=True)
        # second order: the gradient of <grads, v> w.r.t. the inputs and gy's path
        total = sum((gr * _rand(*gr.shape, seed=5 + i)).sum() for i, gr in enumerate(grads))
        grads2 = rt.autograd.grad(total, ins, allow_unused=True)
        results.append((y, _graph(y.grad_fn), grads, grads2))
    assert len(full_path_calls) == 0
    (y1, g1, d1, dd1), (y2, g2, d2, dd2) = results
    np.testing.assert_array_equal(_np(y1), _np(y2))
    assert g1 == g2 and g1[0] in ("ConvolutionBackward0", "SqueezeBackward1")
    for a, b in zip(d1 + dd1, d2 + dd2):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(_np(a), _np(b))


def test_fast_path_matches_numpy():
    """An independent check of one fast-path call: direct sums over the kernel offsets."""
    x, w, b = _rand(2, 3, 6, 5, seed=1), _rand(4, 3, 3, 2, seed=2), _rand(4, seed=3)
    y = F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2))
    xp = np.pad(_np(x), [(0, 0), (0, 0), (1, 1), (1, 1)])
    ref = np.zeros((2, 4, 3, 5))
    for i in range(3):
        for j in range(5):
            patch = xp[:, :, 2 * i:2 * i + 3, j:j + 3:2]
            ref[:, :, i, j] = np.einsum("nckl,ockl->no", patch, _np(w)) + _np(b)
    np.testing.assert_allclose(_np(y), ref, rtol=1e-12, atol=1e-12)


def test_module_call_takes_the_fast_path(full_path_calls):
    m = nn.Conv2d(4, 6, 3, stride=(2, 1), padding=1, groups=2).double()
    x = _rand(2, 4, 7, 6)
    y = m(x)
    assert not full_path_calls
    np.testing.assert_array_equal(_np(y), _np(FULL("conv2d", 2, x, m.weight, m.bias, m.stride,
                                                   m.padding, m.dilation, m.groups)))


class _Two(enum.IntEnum):
    TWO = 2


# valid forms that take the full path (same values as it always gave)
OTHER = [
    dict(stride=[1, 1]),                          # lists
    dict(padding=[1]),
    dict(stride=(np.int64(2), 1)),                # numpy integers in a tuple
    dict(stride=(_Two.TWO, 1)),                   # an int subclass in a tuple
    dict(stride=_Two.TWO),
    dict(groups=np.int64(1)),
    dict(padding="same"),
    dict(padding="same", dilation=2),
]


@pytest.mark.parametrize("kw", OTHER, ids=[str(k) for k in OTHER])
def test_other_forms_take_the_full_path(kw, full_path_calls):
    x, w, b = _rand(2, 3, 7, 6, seed=1), _rand(4, 3, 3, 3, seed=2), _rand(4, seed=3)
    y = F.conv2d(x, w, b, **kw)
    assert len(full_path_calls) == 1
    a = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, **kw}
    ref = FULL("conv2d", 2, x, w, b, a["stride"], a["padding"], a["dilation"], a["groups"])
    np.testing.assert_array_equal(_np(y), _np(ref))


def test_empty_sizes_take_the_full_path(full_path_calls):
    y = F.conv2d(_rand(0, 3, 5, 5), _rand(4, 3, 3, 3))   # zero batch: valid
    assert y.shape == (0, 4, 3, 3) and len(full_path_calls) == 1
    y = F.conv2d(_rand(2, 0, 5, 5), _rand(4, 0, 3, 3))   # zero channels: zeros
    assert y.shape == (2, 4, 3, 3) and len(full_path_calls) == 2
    np.testing.assert_array_equal(_np(y), np.zeros((2, 4, 3, 3)))


def _r(*s, dtype=rt.float32):
    return _rand(*s, dtype=dtype)


# (D, args, kwargs): each must raise exactly what the full path raises
ERRORS = [
    # hash-equal to plain forms: must not hit their memo entries
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3)), dict(stride=True)),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3)), dict(stride=(True, 1))),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3)), dict(padding=(1, False))),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3)), dict(dilation=(1.0, 1))),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3)), dict(dilation=1.0)),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3)), dict(padding=np.int64(1))),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3)), dict(groups=True)),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3)), dict(groups=1.0)),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3)), dict(stride=(1, 1), padding=(1, 1), dilation=True)),
    (1, (_r(2, 3, 5), _r(6, 3, 3)), dict(stride=(True,))),
    # not tensors
    (2, ([1.0], _r(6, 3, 3, 3)), {}),
    (2, (_r(2, 3, 5, 5), np.ones((6, 3, 3, 3), np.float32)), {}),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3), [0.0] * 6), {}),
    # values and lengths
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3)), dict(stride=0)),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3)), dict(stride=(1, -1))),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3)), dict(padding=-1)),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3)), dict(padding=-1, groups=0)),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3)), dict(dilation=(0, 1))),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3)), dict(groups=0)),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3)), dict(groups=-2)),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3)), dict(groups=2 ** 40)),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3)), dict(stride=2 ** 70)),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3)), dict(padding=2 ** 62)),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3)), dict(stride=(1, 1, 1))),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3)), dict(stride=())),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3)), dict(padding="foo")),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3)), dict(padding="same", stride=2)),
    # shapes: ranks, channels, groups, bias, kernel size
    (2, (_r(2, 2, 4, 5, 5), _r(6, 3, 3, 3)), {}),
    (2, (_r(5, 5), _r(6, 3, 3, 3)), {}),
    (1, (_r(2, 3, 5, 5), _r(6, 3, 3)), {}),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3)), {}),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3, 1)), {}),
    (2, (_r(2, 4, 5, 5), _r(6, 3, 3, 3)), {}),
    (2, (_r(4, 5, 5), _r(6, 3, 3, 3)), {}),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3)), dict(groups=2)),
    (2, (_r(2, 6, 5, 5), _r(5, 3, 3, 3)), dict(groups=2)),
    (2, (_r(2, 21, 5, 5), _r(6, 3, 3, 3)), dict(groups=7)),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3), _r(5)), {}),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3), _r(6, 1)), {}),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3), _r(1)), {}),
    (2, (_r(2, 3, 2, 2), _r(6, 3, 3, 3)), {}),
    (2, (_r(2, 3, 3, 3), _r(6, 3, 3, 3)), dict(dilation=2)),
    (2, (_r(2, 3, 3, 3), _r(6, 3, 3, 3)), dict(padding="valid", dilation=2)),
    (1, (_r(2, 3, 2), _r(6, 3, 3)), {}),
    (3, (_r(2, 3, 5, 5, 2), _r(6, 3, 3, 3, 3)), {}),
    (2, (_r(2, 3, 0, 5), _r(6, 3, 3, 3)), dict(padding=2)),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 0, 3)), {}),
    (2, (_r(2, 3, 5, 5), _r(0, 3, 3, 3)), {}),
    (2, (_r(2, 3, 5, 5), _r(0, 3, 3, 3)), dict(groups=3)),
    # dtypes
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3, dtype=rt.float64)), {}),
    (2, (_r(2, 3, 5, 5, dtype=rt.float64), _r(6, 3, 3, 3)), {}),
    (2, (_r(2, 3, 5, 5), _r(6, 3, 3, 3), _r(6, dtype=rt.float64)), {}),
    (2, (_r(2, 3, 5, 5, dtype=rt.float64), _r(6, 3, 3, 3, dtype=rt.float64), _r(6)), {}),
    (2, (_r(2, 3, 5, 5, dtype=rt.float16), _r(6, 3, 3, 3, dtype=rt.bfloat16)), {}),
    (2, (_r(2, 3, 5, 5).long(), _r(6, 3, 3, 3).long()), {}),
    (2, (_r(2, 3, 5, 5).int(), _r(6, 3, 3, 3).int(), _r(6).int()), {}),
    (2, (_r(2, 3, 5, 5) > 0, _r(6, 3, 3, 3) > 0), {}),
    (2, (_r(2, 3, 5, 5, dtype=rt.complex64), _r(6, 3, 3, 3, dtype=rt.complex64)), {}),
    (2, (_r(2, 3, 5, 5).long(), _r(6, 3, 3, 3)), {}),
]


def _outcome(call):
    try:
        call()
    except Exception as e:                          # noqa: BLE001 (the type is compared)
        return type(e), str(e)
    return None


def _err_ids(case):
    D, args, kw = case
    shapes = [tuple(a.shape) if isinstance(a, rt.Tensor) else type(a).__name__ for a in args]
    return f"{D}d-{shapes}-{kw}".replace(" ", "")


@pytest.mark.parametrize("case", ERRORS, ids=[_err_ids(c) for c in ERRORS])
@pytest.mark.parametrize("grad", [False, True])
def test_errors_are_the_full_paths(case, grad):
    D, args, kw = case
    if grad:
        args = tuple(a.detach().requires_grad_() if isinstance(a, rt.Tensor)
                     and a.dtype in (rt.float32, rt.float64) else a for a in args)
    # the plain forms' memo entries exist before the hash-equal forms come
    FUNCS[D](_r(*(2, 3) + (5,) * D), _r(*(4, 3) + (3,) * D), stride=1, padding=1, dilation=1,
             groups=1)
    FUNCS[D](_r(*(2, 3) + (5,) * D), _r(*(4, 3) + (3,) * D), stride=(1,) * D,
             padding=(1,) * D, dilation=(1,) * D)
    a = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, **kw}
    want = _outcome(lambda: FULL(NAMES[D], D, *(args + (None,) * (3 - len(args))),
                                 a["stride"], a["padding"], a["dilation"], a["groups"]))
    assert want is not None, "the case must be an error"
    got = _outcome(lambda: FUNCS[D](*args, **kw))
    assert got == want
    got = _outcome(lambda: FUNCS[D](*args, **kw))     # memoised now
    assert got == want
