"""rt_nn.init against PyTorch's formulas: fans, gains, bounds and moments of every
distribution, seeding through ``generator=``, no_grad on parameters, the Dirac/eye/orthogonal
structures, trunc_normal_'s truncation, errors and the deprecated aliases."""
import math

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
from rt_nn import init


def _np(t):
    return np.array(t.detach().numpy(), dtype=np.float64, copy=True)


def _gen(seed=0):
    return rt.Generator().manual_seed(seed)


GAINS = [
    ("linear", None, 1), ("conv1d", None, 1), ("conv2d", None, 1), ("conv3d", None, 1),
    ("conv_transpose1d", None, 1), ("conv_transpose2d", None, 1),
    ("conv_transpose3d", None, 1), ("sigmoid", None, 1), ("tanh", None, 5.0 / 3),
    ("relu", None, math.sqrt(2.0)), ("leaky_relu", None, math.sqrt(2.0 / (1 + 0.01 ** 2))),
    ("leaky_relu", 0.2, math.sqrt(2.0 / 1.04)), ("leaky_relu", 1, 1.0),
    ("leaky_relu", math.sqrt(5), math.sqrt(2.0 / 6)), ("selu", None, 0.75),
]


@pytest.mark.parametrize("nl,param,expected", GAINS)
def test_calculate_gain(nl, param, expected):
    assert init.calculate_gain(nl, param) == pytest.approx(expected, rel=1e-15)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "0.1")


FANS = [((5, 3), (3, 5)), ((4, 2, 3), (6, 12)), ((8, 4, 3, 3), (36, 72)),
        ((2, 3, 1, 2, 2), (12, 8)), ((7, 0), (0, 7))]


@pytest.mark.parametrize("shape,fans", FANS)
def test_fans(shape, fans):
    assert init._calculate_fan_in_and_fan_out(rt.empty(shape)) == fans


def test_fans_need_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(rt.empty(5))


def _check_uniform(a, lo, hi):
    assert a.min() >= lo and a.max() <= hi
    assert a.min() < lo + 0.02 * (hi - lo) and a.max() > hi - 0.02 * (hi - lo)
    n = a.size
    mean, var = (lo + hi) / 2, (hi - lo) ** 2 / 12
    assert abs(a.mean() - mean) < 5 * math.sqrt(var / n)
    assert abs(a.var() - var) < 0.05 * var


def _check_normal(a, mean, std):
    n = a.size
    assert abs(a.mean() - mean) < 5 * std / math.sqrt(n)
    assert abs(a.std() - std) < 0.03 * std
    # tails: about 4.55% beyond 2 std
    assert abs(np.mean(np.abs(a - mean) > 2 * std) - 0.0455) < 0.01


SHAPE = (200, 100)     # fan_in 100, fan_out 200


@pytest.mark.parametrize("dtype", [rt.float32, rt.float64])
def test_uniform_normal_constant(dtype):
    t = rt.empty(SHAPE, dtype=dtype)
    _check_uniform(_np(init.uniform_(t, -2.0, 3.0, generator=_gen())), -2.0, 3.0)
    _check_uniform(_np(init.uniform_(t)), 0.0, 1.0)
    _check_normal(_np(init.normal_(t, 1.5, 0.5, generator=_gen())), 1.5, 0.5)
    assert (_np(init.constant_(t, 0.25)) == 0.25).all()
    assert (_np(init.ones_(t)) == 1).all() and (_np(init.zeros_(t)) == 0).all()
    assert init.zeros_(t) is t


@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_xavier(gain):
    t = rt.empty(SHAPE)
    std = gain * math.sqrt(2.0 / 300)
    a = math.sqrt(3.0) * std
    _check_uniform(_np(init.xavier_uniform_(t, gain=gain, generator=_gen())), -a, a)
    _check_normal(_np(init.xavier_normal_(t, gain, generator=_gen(1))), 0.0, std)


KAIMING = [(0, "fan_in", "leaky_relu"), (math.sqrt(5), "fan_in", "leaky_relu"),
           (0, "fan_out", "relu"), (0.1, "fan_out", "leaky_relu"), (0, "FAN_IN", "tanh"),
           (0, "fan_in", "selu"), (0, "fan_in", "linear")]


@pytest.mark.parametrize("a,mode,nl", KAIMING)
def test_kaiming(a, mode, nl):
    t = rt.empty(SHAPE)
    fan = 100 if mode.lower() == "fan_in" else 200
    std = init.calculate_gain(nl, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    _check_uniform(_np(init.kaiming_uniform_(t, a=a, mode=mode, nonlinearity=nl,
                                             generator=_gen())), -bound, bound)
    _check_normal(_np(init.kaiming_normal_(t, a, mode, nl, generator=_gen(2))), 0.0, std)


def test_kaiming_conv_shape_fans():
    t = rt.empty(64, 16, 3, 3)
    bound = math.sqrt(3.0) * math.sqrt(2.0) / math.sqrt(16 * 9)
    _check_uniform(_np(init.kaiming_uniform_(t, nonlinearity="relu")), -bound, bound)


def test_kaiming_errors_and_empty():
    with pytest.raises(ValueError, match=r"Mode fan_avg not supported, please use one of "
                                         r"\['fan_in', 'fan_out'\]"):
        init.kaiming_uniform_(rt.empty(3, 4), mode="fan_avg")
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init.kaiming_normal_(rt.empty(0, 4))


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -0.04, 0.04),
                                          (1.0, 2.0, 0.0, 5.0), (0.0, 1.0, 1.5, 3.0),
                                          (0.0, 1.0, -0.1, 0.1)])
def test_trunc_normal_moments(mean, std, a, b):
    t = init.trunc_normal_(rt.empty(300, 200, dtype=rt.float64), mean, std, a, b,
                           generator=_gen(4))
    x = _np(t)
    assert x.min() >= a and x.max() <= b
    # moments of the truncated normal
    al, be = (a - mean) / std, (b - mean) / std
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)    # noqa: E731
    Phi = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))          # noqa: E731
    Z = Phi(be) - Phi(al)
    m = mean + std * (phi(al) - phi(be)) / Z
    v = std ** 2 * (1 + (al * phi(al) - be * phi(be)) / Z - ((phi(al) - phi(be)) / Z) ** 2)
    assert abs(x.mean() - m) < 5 * math.sqrt(v / x.size)
    assert abs(x.var() - v) < 0.03 * v


def test_trunc_normal_float32_bounds_and_warning():
    x = _np(init.trunc_normal_(rt.empty(100, 100), std=0.02, a=-0.04, b=0.04))
    assert x.min() >= np.float32(-0.04) and x.max() <= np.float32(0.04)
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        init.trunc_normal_(rt.empty(10), mean=10.0, std=1.0, a=-2.0, b=2.0)


def test_eye_and_dirac():
    t = init.eye_(rt.empty(3, 5))
    assert _np(t).tolist() == np.eye(3, 5).tolist()
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(rt.empty(2, 2, 2))
    w = init.dirac_(rt.empty(4, 2, 3, 3))
    ref = np.zeros((4, 2, 3, 3))
    ref[0, 0, 1, 1] = ref[1, 1, 1, 1] = 1
    assert (_np(w) == ref).all()
    w = init.dirac_(rt.empty(6, 3, 5), groups=2)
    ref = np.zeros((6, 3, 5))
    for g in range(2):
        for d in range(3):
            ref[g * 3 + d, d, 2] = 1
    assert (_np(w) == ref).all()
    w = init.dirac_(rt.empty(2, 2, 3, 3, 3))
    assert _np(w).sum() == 2 and _np(w)[1, 1, 1, 1, 1] == 1
    # a Dirac conv kernel: output channels copy the input channels
    x = np.random.default_rng(0).standard_normal((2, 4))
    assert np.allclose(np.einsum("oic,ic->o", _np(init.dirac_(rt.empty(2, 2, 1))), x[:, :1]),
                       x[:, 0])
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions"):
        init.dirac_(rt.empty(2, 2))
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        init.dirac_(rt.empty(5, 2, 3), groups=2)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5), (8, 2, 3), (3, 2, 2, 2)])
@pytest.mark.parametrize("dtype", [rt.float32, rt.float64])
def test_orthogonal(shape, dtype):
    t = init.orthogonal_(rt.empty(shape, dtype=dtype), gain=2.0, generator=_gen())
    q = _np(t).reshape(shape[0], -1) / 2.0
    rows, cols = q.shape
    tol = 1e-5 if dtype == rt.float32 else 1e-12
    if rows >= cols:
        np.testing.assert_allclose(q.T @ q, np.eye(cols), atol=tol)
    else:
        np.testing.assert_allclose(q @ q.T, np.eye(rows), atol=tol)
    assert t.dtype == dtype


def test_orthogonal_is_haar_signed():
    # the sign correction makes the diagonal of Q's first column ~ symmetric around 0
    vals = [_np(init.orthogonal_(rt.empty(3, 3), generator=_gen(s)))[0, 0] for s in range(200)]
    assert abs(np.mean(vals)) < 0.15
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions"):
        init.orthogonal_(rt.empty(3))


def test_sparse():
    t = init.sparse_(rt.empty(10, 30), sparsity=0.3, std=0.5, generator=_gen())
    x = _np(t)
    assert ((x == 0).sum(axis=0) >= 3).all()
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.sparse_(rt.empty(3), 0.1)


def test_generator_reproducible_and_global_seed():
    a = _np(init.kaiming_uniform_(rt.empty(5, 7), generator=_gen(11)))
    b = _np(init.kaiming_uniform_(rt.empty(5, 7), generator=_gen(11)))
    assert (a == b).all()
    rt.manual_seed(5)
    c = _np(init.normal_(rt.empty(4)))
    rt.manual_seed(5)
    assert (_np(init.normal_(rt.empty(4))) == c).all()
    for fn in (init.xavier_uniform_, init.xavier_normal_, init.orthogonal_,
               init.kaiming_normal_):
        x = _np(fn(rt.empty(4, 6), generator=_gen(1)))
        assert (_np(fn(rt.empty(4, 6), generator=_gen(1))) == x).all()
    x = _np(init.trunc_normal_(rt.empty(50), generator=_gen(1)))
    assert (_np(init.trunc_normal_(rt.empty(50), generator=_gen(1))) == x).all()


def test_works_on_parameters_without_recording():
    p = nn.Parameter(rt.empty(4, 3))
    for fn in (init.uniform_, init.normal_, init.zeros_, init.ones_, init.xavier_uniform_,
               init.xavier_normal_, init.kaiming_uniform_, init.kaiming_normal_,
               init.orthogonal_, init.eye_, init.trunc_normal_, lambda t: init.constant_(t, 2),
               lambda t: init.sparse_(t, 0.5)):
        out = fn(p)
        assert out is p and p.is_leaf and p.grad_fn is None and p.requires_grad
    conv = nn.Parameter(rt.empty(2, 2, 3))
    assert init.dirac_(conv) is conv and conv.is_leaf


def test_deprecated_aliases_warn():
    with pytest.warns(FutureWarning, match=r"`nn.init.uniform` is now deprecated in favor of "
                                           r"`nn.init.uniform_`"):
        init.uniform(rt.empty(3))
    with pytest.warns(FutureWarning, match="xavier_normal_"):
        init.xavier_normal(rt.empty(3, 3))


def test_all_names():
    for name in ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
                 "zeros_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_",
                 "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_"]:
        assert name in init.__all__ and callable(getattr(init, name))
