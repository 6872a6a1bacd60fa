"""Edge cases where numpy and PyTorch differ; PyTorch is the oracle."""
import numpy as np
import pytest

import rt_tensor as rtt

torch = pytest.importorskip("torch", reason="PyTorch cannot be imported; the parity suite "
                                            "runs in `tox -e parity` (torch==2.13.0)")


def _np(x):
    if isinstance(x, torch.Tensor):
        return (x.float() if x.dtype == torch.bfloat16 else x).numpy()
    return np.array((x.float() if x.dtype == rtt.bfloat16 else x).numpy())


def _name(dt):
    return str(dt).rsplit(".", 1)[-1]


def _same(r, t, rtol=1e-6):
    assert _name(r.dtype) == _name(t.dtype), f"rt {_name(r.dtype)} != torch {_name(t.dtype)}"
    assert tuple(r.shape) == tuple(t.shape)
    np.testing.assert_allclose(_np(r), _np(t), rtol=rtol, atol=0, equal_nan=True)


def _parity(rt_fn, torch_fn, rtol=1e-6):
    """Same dtype, shape and values as PyTorch, or the same exception type when it raises."""
    try:
        expected = torch_fn()
    except Exception as exc:
        with pytest.raises(type(exc)):
            rt_fn()
        return
    _same(rt_fn(), expected, rtol)


def _both(values, dtype):
    return rtt.tensor(values, dtype=getattr(rtt, dtype)), torch.tensor(values, dtype=getattr(torch, dtype))


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64", "bool"])
def test_integer_true_division_gives_float32(dtype):
    ra, ta = _both([1, 2, 3, 7] if dtype != "bool" else [True, False, True, True], dtype)
    rb, tb = _both([2, 2, 3, 2] if dtype != "bool" else [True, True, True, True], dtype)
    _same(ra / rb, ta / tb)
    assert (ra / rb).dtype == rtt.float32
    _same(rtt.div(ra, rb), torch.div(ta, tb))
    _same(ra / 2, ta / 2)


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int16", "int32", "int64"])
def test_sum_of_integers_is_int64(dtype):
    values = [[1, 0, 1], [1, 1, 0]] if dtype == "bool" else [[100, 100, 100], [27, 1, 2]]
    r, t = _both(values, dtype)
    _same(r.sum(), t.sum())
    _same(r.sum(dim=0), t.sum(dim=0))
    _same(r.sum(dim=1, keepdim=True), t.sum(dim=1, keepdim=True))
    assert r.sum().dtype == rtt.int64


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "float32", "float64"])
def test_remainder_and_floor_division_signs(dtype):
    """% has the sign of the divisor, // rounds toward minus infinity (Python's rules)."""
    a = [-7, 7, -7, 7, 0, -1, 6, -6]
    b = [2, -2, -2, 2, 3, 5, -4, 4]
    ra, ta = _both(a, dtype)
    rb, tb = _both(b, dtype)
    _same(ra % rb, ta % tb)
    _same(ra // rb, ta // tb)
    _same(rtt.remainder(ra, rb), torch.remainder(ta, tb))
    _same(rtt.fmod(ra, rb), torch.fmod(ta, tb))                  # fmod: sign of the dividend
    _same(rtt.floor_divide(ra, rb), torch.floor_divide(ta, tb))
    _same(ra % 3, ta % 3)
    _same(ra // -3, ta // -3)
    if dtype.startswith("float"):
        _same(ra % -2.5, ta % -2.5)


def test_float_remainder_special_values():
    r, t = _both([5.5, -5.5, 0.0, -0.0, float("inf")], "float32")
    _same(r % 2.0, t % 2.0)
    _same(r % -2.0, t % -2.0)


@pytest.mark.parametrize("expr", [
    pytest.param(lambda m, a: a + 1, id="int64+int"),
    pytest.param(lambda m, a: a + 1.5, id="int64+float"),
    pytest.param(lambda m, a: a.to(m.int8) + 100, id="int8+100"),
    pytest.param(lambda m, a: a.to(m.int8) + 1000, id="int8+1000_wraps"),
    pytest.param(lambda m, a: a.to(m.uint8) + 300, id="uint8+300_wraps"),
    pytest.param(lambda m, a: a.to(m.uint8) * -3, id="uint8*-3_wraps"),
    pytest.param(lambda m, a: a.to(m.float16) * 3.0, id="float16*float"),
    pytest.param(lambda m, a: a.to(m.int32) + m.tensor(2, dtype=m.int64), id="int32+0d_int64"),
    pytest.param(lambda m, a: a.to(m.int32) * m.tensor(2.5, dtype=m.float64), id="int32*0d_float64"),
    pytest.param(lambda m, a: a.to(m.float32) + m.tensor(2.5, dtype=m.float64), id="float32+0d_float64"),
    pytest.param(lambda m, a: a.to(m.bool) + a.to(m.bool), id="bool+bool"),
    pytest.param(lambda m, a: a.to(m.uint8) + a.to(m.int8), id="uint8+int8"),
    pytest.param(lambda m, a: a.to(m.float16) + a.to(m.bfloat16), id="float16+bfloat16"),
    pytest.param(lambda m, a: a.to(m.int64) * (1 + 1j), id="int64*complex"),
])
def test_scalar_and_zero_dim_promotion(expr):
    """Python scalars and 0-d tensors raise the result only to a higher kind (int < float <
    complex), never within one; an out-of-range Python int wraps around like PyTorch."""
    ra, ta = _both([1, 2, 3], "int64")
    _parity(lambda: expr(rtt, ra), lambda: expr(torch, ta), rtol=1e-3)


def test_division_by_zero():
    r, t = _both([1.0, -1.0, 0.0], "float32")
    _same(r / 0.0, t / 0.0)
    ri, ti = _both([1, -1, 0], "int64")
    _same(ri / 0, ti / 0)
    _parity(lambda: ri // 0, lambda: ti // 0)      # integer // 0 raises as in PyTorch
    _parity(lambda: ri % 0, lambda: ti % 0)
