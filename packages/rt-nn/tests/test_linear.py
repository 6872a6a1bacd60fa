"""Linear family: Identity, Linear, Bilinear, Flatten, Unflatten and F.linear / F.bilinear:
forward against numpy, gradcheck and gradgradcheck through inputs and parameters, default
initialisation bounds, state_dict keys, repr, dtypes and PyTorch's errors."""
import math

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
import rt_nn.functional as F
from rt_autograd.testing import gradcheck, gradgradcheck


def _np(t):
    return np.array(t.detach().numpy(), copy=True)


def _rand(*shape, seed=0, dtype=rt.float64, requires_grad=False):
    a = np.random.default_rng(seed).standard_normal(shape)
    return rt.tensor(a, dtype=dtype).requires_grad_(requires_grad)


# one line per module: constructor, input shapes, numpy reference of forward(module, *inputs)
def _linear_ref(m, x):
    out = _np(x) @ _np(m.weight).T
    return out + _np(m.bias) if m.bias is not None else out


def _bilinear_ref(m, x1, x2):
    out = np.einsum("...i,oij,...j->...o", _np(x1), _np(m.weight), _np(x2))
    return out + _np(m.bias) if m.bias is not None else out


MODULES = [
    ("Identity", lambda: nn.Identity(3, unused=True), [(2, 3)], lambda m, x: _np(x)),
    ("Linear", lambda: nn.Linear(4, 3), [(5, 4)], _linear_ref),
    ("Linear-nobias", lambda: nn.Linear(4, 3, bias=False), [(5, 4)], _linear_ref),
    ("Linear-1d", lambda: nn.Linear(4, 3), [(4,)], _linear_ref),
    ("Linear-3d", lambda: nn.Linear(4, 3), [(2, 5, 4)], _linear_ref),
    ("Linear-4d-nobias", lambda: nn.Linear(4, 2, bias=False), [(2, 1, 3, 4)], _linear_ref),
    ("Linear-wide-batch", lambda: nn.Linear(3, 40), [(6, 3)], _linear_ref),
    ("Linear-tall-batch", lambda: nn.Linear(3, 2), [(200, 3)], _linear_ref),
    ("Linear-0-batch", lambda: nn.Linear(3, 2), [(0, 3)], _linear_ref),
    ("Bilinear", lambda: nn.Bilinear(3, 4, 2), [(5, 3), (5, 4)], _bilinear_ref),
    ("Bilinear-nobias", lambda: nn.Bilinear(3, 4, 2, bias=False), [(5, 3), (5, 4)],
     _bilinear_ref),
    ("Bilinear-3d", lambda: nn.Bilinear(2, 3, 4), [(2, 3, 2), (2, 3, 3)], _bilinear_ref),
    ("Bilinear-1d", lambda: nn.Bilinear(2, 3, 4), [(2,), (3,)], _bilinear_ref),
    ("Flatten", lambda: nn.Flatten(), [(2, 3, 4)], lambda m, x: _np(x).reshape(2, 12)),
    ("Flatten-0-2", lambda: nn.Flatten(0, 1), [(2, 3, 4)], lambda m, x: _np(x).reshape(6, 4)),
    ("Unflatten", lambda: nn.Unflatten(1, (2, 3)), [(4, 6)],
     lambda m, x: _np(x).reshape(4, 2, 3)),
    ("Unflatten-neg", lambda: nn.Unflatten(-1, [2, -1]), [(4, 6)],
     lambda m, x: _np(x).reshape(4, 2, 3)),
]
IDS = [c[0] for c in MODULES]


@pytest.mark.parametrize("name,make,shapes,ref", MODULES, ids=IDS)
def test_forward_matches_numpy(name, make, shapes, ref):
    m = make().double()
    xs = [_rand(*s, seed=i) for i, s in enumerate(shapes)]
    out = m(*xs)
    np.testing.assert_allclose(_np(out), ref(m, *xs), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,make,shapes,ref", MODULES, ids=IDS)
def test_forward_float32(name, make, shapes, ref):
    m = make()
    xs = [_rand(*s, seed=i, dtype=rt.float32) for i, s in enumerate(shapes)]
    out = m(*xs)
    assert out.dtype == rt.float32
    np.testing.assert_allclose(_np(out), ref(m, *xs), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name,make,shapes,ref", MODULES, ids=IDS)
def test_gradcheck_inputs_and_parameters(name, make, shapes, ref):
    m = make().double()
    xs = [_rand(*s, seed=i, requires_grad=True) for i, s in enumerate(shapes)]
    params = list(m.parameters())

    def fn(*args):
        # the module's math through its functional, with the parameters as inputs
        xin, ps = args[:len(xs)], args[len(xs):]
        if name.startswith("Linear"):
            return F.linear(xin[0], ps[0], ps[1] if len(ps) > 1 else None)
        if name.startswith("Bilinear"):
            return F.bilinear(xin[0], xin[1], ps[0], ps[1] if len(ps) > 1 else None)
        return m(*xin)

    ins = tuple(xs) + tuple(p.detach().clone().requires_grad_(True) for p in params)
    if all(x.numel() > 0 for x in xs):
        assert gradcheck(fn, ins)
        assert gradgradcheck(fn, ins)


@pytest.mark.parametrize("name,make,shapes,ref", MODULES, ids=IDS)
def test_module_backward_fills_parameter_grads(name, make, shapes, ref):
    m = make().double()
    xs = [_rand(*s, seed=i, requires_grad=True) for i, s in enumerate(shapes)]
    out = m(*xs)
    out.sum().backward()
    for x in xs:
        assert x.grad is not None and x.grad.shape == x.shape
    for p in m.parameters():
        assert p.grad is not None and p.grad.shape == p.shape and p.grad.is_contiguous()


def test_linear_gradients_against_numpy():
    x = _rand(6, 4, requires_grad=True)
    w = _rand(3, 4, seed=1, requires_grad=True)
    b = _rand(3, seed=2, requires_grad=True)
    g = _rand(6, 3, seed=3)
    F.linear(x, w, b).backward(g)
    np.testing.assert_allclose(_np(x.grad), _np(g) @ _np(w), rtol=1e-12)
    np.testing.assert_allclose(_np(w.grad), _np(g).T @ _np(x), rtol=1e-12)
    np.testing.assert_allclose(_np(b.grad), _np(g).sum(0), rtol=1e-12)


def test_linear_only_needed_gradients():
    x = _rand(5, 4)                               # no grad for the input
    lin = nn.Linear(4, 3).double()
    lin(x).sum().backward()
    assert lin.weight.grad is not None and lin.bias.grad is not None and x.grad is None
    lin.weight.requires_grad_(False)
    lin.bias.grad = None
    lin(x).sum().backward()
    assert lin.bias.grad is not None


def test_linear_no_grad_path_and_grad_fn_name():
    lin = nn.Linear(4, 3)
    x = rt.randn(2, 4)
    assert lin(x).grad_fn.name() == "AddmmBackward0"
    with rt.no_grad():
        y = lin(x)
    assert y.grad_fn is None and not y.requires_grad
    np.testing.assert_allclose(_np(y), _linear_ref(lin, x), rtol=1e-5, atol=1e-6)


def test_linear_general_operands():
    # 1-D weight (matmul's vector semantics) and a 2-D bias, as torch.nn.functional.linear
    x = _rand(3, 4)
    w = _rand(4, seed=1)
    np.testing.assert_allclose(_np(F.linear(x, w)), _np(x) @ _np(w), rtol=1e-12)
    w2, b2 = _rand(2, 4, seed=2), _rand(3, 2, seed=3)
    np.testing.assert_allclose(_np(F.linear(x, w2, b2)), _np(x) @ _np(w2).T + _np(b2),
                               rtol=1e-12)


def test_linear_output_is_contiguous():
    for n in (1, 2, 32, 200):
        y = nn.Linear(8, 64)(rt.randn(n, 8))
        assert y.is_contiguous() and y.shape == (n, 64)
        y = nn.Linear(8, 64, bias=False)(rt.randn(n, 8))
        assert y.is_contiguous()


def test_linear_init_bounds_and_state_dict():
    rt.manual_seed(0)
    m = nn.Linear(50, 200)
    bound = 1 / math.sqrt(50)
    w, b = _np(m.weight), _np(m.bias)
    assert w.shape == (200, 50) and b.shape == (200,)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.95 * bound            # spread over the whole interval
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound * 3
    assert list(m.state_dict()) == ["weight", "bias"]
    assert list(nn.Linear(3, 2, bias=False).state_dict()) == ["weight"]
    assert nn.Linear(3, 2, bias=False).bias is None
    b2 = nn.Bilinear(9, 5, 4)
    assert list(b2.state_dict()) == ["weight", "bias"]
    assert b2.weight.shape == (4, 9, 5) and np.abs(_np(b2.weight)).max() <= 1 / 3
    assert np.abs(_np(b2.bias)).max() <= 1 / 3


def test_state_dict_round_trip():
    a, b = nn.Linear(4, 3), nn.Linear(4, 3)
    b.load_state_dict(a.state_dict())
    x = rt.randn(2, 4)
    assert rt.equal(a(x), b(x))
    c, d = nn.Bilinear(2, 3, 4), nn.Bilinear(2, 3, 4)
    d.load_state_dict(c.state_dict())
    x1, x2 = rt.randn(5, 2), rt.randn(5, 3)
    assert rt.equal(c(x1, x2), d(x1, x2))


def test_seeded_init_is_reproducible():
    rt.manual_seed(3)
    a = nn.Linear(5, 4)
    rt.manual_seed(3)
    b = nn.Linear(5, 4)
    assert rt.equal(a.weight, b.weight) and rt.equal(a.bias, b.bias)


def test_dtype_argument_and_double():
    m = nn.Linear(3, 2, dtype=rt.float64)
    assert m.weight.dtype == rt.float64 and m.bias.dtype == rt.float64
    m = nn.Bilinear(3, 2, 2).double()
    assert m(rt.randn(4, 3, dtype=rt.float64), rt.randn(4, 2, dtype=rt.float64)).dtype == \
        rt.float64


def test_repr():
    assert repr(nn.Linear(4, 2)) == "Linear(in_features=4, out_features=2, bias=True)"
    assert repr(nn.Linear(4, 2, bias=False)) == \
        "Linear(in_features=4, out_features=2, bias=False)"
    assert repr(nn.Bilinear(3, 4, 5)) == \
        "Bilinear(in1_features=3, in2_features=4, out_features=5, bias=True)"
    assert repr(nn.Identity(7)) == "Identity()"
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Unflatten(1, (2, 3))) == "Unflatten(dim=1, unflattened_size=(2, 3))"
    assert repr(nn.Sequential(nn.Flatten(), nn.Linear(2, 1))) == (
        "Sequential(\n  (0): Flatten(start_dim=1, end_dim=-1)\n"
        "  (1): Linear(in_features=2, out_features=1, bias=True)\n)")


def test_zero_features():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        m = nn.Linear(0, 3)
    assert m.bias.abs().max().item() == 0.0           # bound 0 when fan_in is 0, as PyTorch
    np.testing.assert_allclose(_np(m(rt.randn(2, 0))), np.broadcast_to(_np(m.bias), (2, 3)))


def test_errors():
    m = nn.Linear(3, 5)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied "
                                           r"\(2x4 and 3x5\)"):
        m(rt.randn(2, 4))
    with pytest.raises(RuntimeError, match=r"\(6x4 and 3x5\)"):
        m(rt.randn(2, 3, 4))
    with pytest.raises(RuntimeError, match=r"\(1x4 and 3x5\)"):
        m(rt.randn(4))
    with pytest.raises(RuntimeError, match="at least 1D"):
        m(rt.tensor(1.0))
    with pytest.raises(RuntimeError, match="expanded size of the tensor"):
        F.linear(rt.randn(2, 3), rt.randn(5, 3), rt.randn(4))
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(-1, 3)
    with pytest.raises(ValueError, match="out_features"):
        nn.Linear(3, -2)
    with pytest.raises(TypeError, match="in_features"):
        nn.Linear(2.5, 3)
    with pytest.raises(ValueError, match="in1_features must be > 0"):
        nn.Bilinear(0, 3, 4)
    with pytest.raises(ValueError, match="in2_features"):
        nn.Bilinear(2, -3, 4)
    with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints"):
        nn.Unflatten(1, 6)
    with pytest.raises(TypeError, match="found element of type float at pos 1"):
        nn.Unflatten(1, (2, 3.0))
    with pytest.raises(RuntimeError):
        nn.Unflatten(1, (2, 3))(rt.randn(2, 5))


BILINEAR_ERRORS = [
    ((2, 3), (3, 4), "input batch dimensions do not match at dim 0: got 2 and 3"),
    ((2, 3), (2, 5), "input2 size does not match weight size: got 5 but expected 4"),
    ((2, 2), (2, 4), "input1 size does not match weight size: got 2 but expected 3"),
    ((2, 3), (2, 1, 4), "input dimensions do not match: got 2 and 3"),
]


@pytest.mark.parametrize("s1,s2,msg", BILINEAR_ERRORS)
def test_bilinear_errors(s1, s2, msg):
    w = rt.randn(5, 3, 4)
    with pytest.raises(RuntimeError, match=msg):
        F.bilinear(rt.randn(*s1), rt.randn(*s2), w)


def test_bilinear_bias_error():
    with pytest.raises(RuntimeError, match="bias size does not match weight size: got 4 but "
                                           "expected 5"):
        F.bilinear(rt.randn(2, 3), rt.randn(2, 4), rt.randn(5, 3, 4), rt.randn(4))


def test_flatten_unflatten_are_views_and_differentiable():
    x = _rand(2, 3, 4, requires_grad=True)
    y = nn.Flatten()(x)
    assert y.shape == (2, 12)
    z = nn.Unflatten(1, (3, 4))(y)
    assert z.shape == x.shape
    assert gradcheck(lambda t: nn.Unflatten(1, (3, 4))(nn.Flatten()(t)), (x,))


def test_functional_exports():
    assert {"linear", "bilinear"} <= set(F.__all__)
    assert {"Identity", "Linear", "Bilinear", "Flatten", "Unflatten"} <= set(nn.__all__)


def test_dtype_errors_and_scalar_bias():
    x64, w32 = rt.ones(2, 3, dtype=rt.float64), rt.ones(4, 3)
    with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype, but "
                                           "got: double != float"):
        F.linear(x64, w32)
    with pytest.raises(RuntimeError, match="mat1 and mat2 must have the same dtype, but got "
                                           "Double and Float"):
        F.linear(x64, w32, rt.ones(4))
    with pytest.raises(RuntimeError, match="self and mat2 must have the same dtype, but got "
                                           "Double and Float"):
        F.linear(rt.ones(2, 3), w32, rt.ones(4, dtype=rt.float64))
    out = F.linear(rt.ones(2, 3), w32, rt.tensor(1.0))
    assert out.tolist() == [[4.0] * 4] * 2
    x = _rand(2, 3, requires_grad=True)
    b = rt.tensor(0.5, dtype=rt.float64, requires_grad=True)
    assert gradcheck(lambda t, c: F.linear(t, _rand(4, 3, seed=1), c), (x, b))
