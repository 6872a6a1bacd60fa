"""Compatibility area "dtypes": the dtype rules a PyTorch user relies on, checked against
hand-written tables from PyTorch's documentation and numpy arithmetic: inference of
``tensor(...)`` dtypes and the default dtype, type promotion (categories first, 0-d tensors
and Python scalars do not widen within a category), integer true division, floor division
and wrap-around, casts (truncation toward zero), float16 rounding (numpy's float16) and
bfloat16 rounding (round to nearest even on the top 16 bits of a float32, computed here
bit by bit), complex arithmetic, and models run in float64, float16 and bfloat16.

Example of the contract under test::

    >>> (rt.tensor([1, 2]) / 2).dtype          # integer true division gives the default float
    rt_tensor.float32
"""
import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
import rt_tensor as rtt


def test_tensor_infers_pytorchs_dtypes():
    assert rt.tensor([1, 2]).dtype == rt.int64
    assert rt.tensor([1, 2.5]).dtype == rt.float32
    assert rt.tensor([True, False]).dtype == rt.bool
    assert rt.tensor([1 + 2j]).dtype == rt.complex64
    assert rt.tensor(np.array([1.0])).dtype == rt.float64       # numpy's dtype is kept
    old = rt.get_default_dtype()
    try:
        rt.set_default_dtype(rt.float64)
        assert rt.tensor([1.5]).dtype == rt.float64 and rt.randn(2).dtype == rt.float64
        assert rt.tensor([1 + 2j]).dtype == rt.complex128
    finally:
        rt.set_default_dtype(old)
    assert rt.tensor([1.5]).dtype == rt.float32


# (a dtype, b dtype, result) from PyTorch's type promotion documentation
PROMOTION = [
    ("int8", "uint8", "int16"), ("uint8", "int16", "int16"), ("int32", "int64", "int64"),
    ("bool", "int8", "int8"), ("bool", "float16", "float16"), ("int64", "float16", "float16"),
    ("float16", "bfloat16", "float32"), ("float16", "float32", "float32"),
    ("float32", "float64", "float64"), ("float64", "complex64", "complex128"),
    ("float32", "complex64", "complex64"), ("int64", "complex64", "complex64"),
]


@pytest.mark.parametrize("a,b,want", PROMOTION)
def test_tensor_tensor_promotion(a, b, want):
    x = rt.ones(2, dtype=getattr(rt, a))
    y = rt.ones(2, dtype=getattr(rt, b))
    assert rt.promote_types(getattr(rt, a), getattr(rt, b)) == getattr(rt, want)
    assert (x + y).dtype == getattr(rt, want)
    assert (y * x).dtype == getattr(rt, want)


def test_zero_dim_tensors_and_scalars_do_not_widen_within_a_category():
    i8 = rt.tensor([1, 2], dtype=rt.int8)
    f16 = rt.tensor([1, 2], dtype=rt.float16)
    assert (i8 + 1000).dtype == rt.int8                       # a Python int: same category
    assert (i8 + rt.tensor(5, dtype=rt.int64)).dtype == rt.int8   # 0-d: same category
    assert (i8 + 2.5).dtype == rt.float32                     # a higher category: default float
    assert (f16 * rt.tensor(2.0, dtype=rt.float64)).dtype == rt.float16
    assert (f16 + 1j).dtype == rt.complex64                   # rt has no complex32
    assert (rt.tensor([True]) + True).dtype == rt.bool
    assert (rt.tensor([True]) + 1).dtype == rt.int64


def test_integer_division_and_wrap_around_match_numpy():
    an = np.array([-7, -3, 0, 3, 7], dtype=np.int32)
    bn = np.array([2, -2, 5, 2, -3], dtype=np.int32)
    a, b = rt.from_numpy(an), rt.from_numpy(bn)
    q = a / b
    assert q.dtype == rt.float32
    np.testing.assert_allclose(q.numpy(), (an / bn).astype(np.float32), rtol=1e-7)
    np.testing.assert_array_equal((a // b).numpy(), an // bn)         # floors, like Python
    np.testing.assert_array_equal((a % b).numpy(), an % bn)           # sign of the divisor
    np.testing.assert_array_equal(rt.fmod(a, b).numpy(), np.fmod(an, bn))
    big = rt.tensor([127, -128, 100], dtype=rt.int8)
    np.testing.assert_array_equal((big + 1).numpy(),
                                  np.array([127, -128, 100], dtype=np.int8) + np.int8(1))
    u = rt.tensor([0, 255], dtype=rt.uint8)
    assert (u - 1).tolist() == [255, 254]
    with pytest.raises(RuntimeError):
        rt.tensor([1, 2]) // 0                                          # integer division by zero


def test_casts_truncate_toward_zero_and_bool_is_nonzero():
    vals = np.array([-2.7, -0.5, 0.0, 0.5, 2.7, 300.9], dtype=np.float32)
    x = rt.from_numpy(vals)
    np.testing.assert_array_equal(x.to(rt.int32).numpy(), vals.astype(np.int32))
    np.testing.assert_array_equal(x.to(rt.bool).numpy(), vals != 0)
    assert x[:5].to(rt.int8).tolist() == [-2, 0, 0, 0, 2]
    assert rt.tensor([1.5 + 2j]).real.dtype == rt.float32
    assert x.double().dtype == rt.float64 and x.long().dtype == rt.int64
    assert x.half().dtype == rt.float16


def test_float16_rounding_matches_numpy():
    vals = np.random.default_rng(0).standard_normal(10_000).astype(np.float32) * 100
    vals = np.concatenate([vals, [65504.0, 65520.0, 1e-8, 6e-5, -0.0]]).astype(np.float32)
    got = rt.from_numpy(vals).to(rt.float16).numpy()
    with np.errstate(over="ignore"):               # 65520 rounds to inf, as it should
        want = vals.astype(np.float16)
    np.testing.assert_array_equal(got.view(np.uint16), want.view(np.uint16))   # bit for bit


def _bfloat16_bits(x):
    """Round float32 -> bfloat16 to nearest, ties to even, by integer arithmetic on the bits."""
    bits = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    lsb = (bits >> 16) & 1
    rounded = ((bits + 0x7FFF + lsb) >> 16).astype(np.uint16)
    nan = np.isnan(x)
    rounded[nan] = 0x7FC0
    return rounded


def test_bfloat16_rounding_is_round_to_nearest_even():
    rng = np.random.default_rng(1)
    vals = (rng.standard_normal(10_000) * 10.0 ** rng.integers(-5, 5, 10_000)).astype(np.float32)
    # exact ties: the 17th bit set and nothing below, with an even and an odd kept part
    ties = np.array([0x3F808000, 0x3F818000], dtype=np.uint32).view(np.float32)
    vals = np.concatenate([vals, ties])
    bf = rt.from_numpy(vals).to(rt.bfloat16)
    got_f32 = bf.float().numpy()
    want = (_bfloat16_bits(vals).astype(np.uint32) << 16).view(np.float32)
    np.testing.assert_array_equal(got_f32, want)
    assert bf[-2:].float().tolist() == [1.0, 1.015625]      # both ties go to the even value


def test_complex_arithmetic_matches_numpy():
    rng = np.random.default_rng(2)
    an = (rng.standard_normal(6) + 1j * rng.standard_normal(6)).astype(np.complex128)
    bn = (rng.standard_normal(6) + 1j * rng.standard_normal(6)).astype(np.complex128)
    a, b = rt.from_numpy(an), rt.from_numpy(bn)
    for got, want in [(a * b, an * bn), (a / b, an / bn), (rt.exp(a), np.exp(an)),
                      (a.abs(), np.abs(an)), (a.conj(), np.conj(an)), (rt.angle(a), np.angle(an)),
                      (a @ b, an @ bn), (rt.sqrt(a), np.sqrt(an))]:
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-14)
    assert a.abs().dtype == rt.float64


def test_float64_model_matches_float32_model_to_float32_precision():
    rt.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 4))
    twin = nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 4)).double()
    twin.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    assert all(p.dtype == rt.float64 for p in twin.parameters())
    x = rt.randn(8, 16)
    y32, y64 = model(x), twin(x.double())
    assert y32.dtype == rt.float32 and y64.dtype == rt.float64
    np.testing.assert_allclose(y32.detach().numpy(), y64.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype,tol", [("float16", 5e-3), ("bfloat16", 4e-2)])
def test_half_precision_model_forward_and_backward(dtype, tol):
    rt.manual_seed(1)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    half = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2)).to(getattr(rt, dtype))
    half.load_state_dict(model.state_dict())                  # load_state_dict casts
    x = rt.randn(4, 8)
    y = half(x.to(getattr(rt, dtype)))
    assert y.dtype == getattr(rt, dtype)
    np.testing.assert_allclose(y.float().detach().numpy(), model(x).detach().numpy(),
                               rtol=tol, atol=tol)
    y.float().sum().backward()
    assert half[0].weight.grad.dtype == getattr(rt, dtype)


def test_mixed_float_operands_of_matmul_are_refused_like_pytorch():
    with pytest.raises(RuntimeError):
        rt.ones(2, 3) @ rt.ones(3, 2, dtype=rt.float64)
    with pytest.raises(RuntimeError):
        nn.Linear(3, 2)(rt.ones(1, 3, dtype=rt.float64))


def test_rt_tensor_and_rt_autograd_share_dtypes():
    assert rtt.float32 is rt.float32 and rtt.bfloat16 is rt.bfloat16
    assert rtt.tensor([1, 2], dtype=rtt.int16).dtype == rt.int16
    assert rt.float32.itemsize == 4 and rt.bfloat16.itemsize == 2 and rt.complex128.itemsize == 16
    assert rt.float16.is_floating_point and not rt.int8.is_floating_point
    assert rt.complex64.is_complex
