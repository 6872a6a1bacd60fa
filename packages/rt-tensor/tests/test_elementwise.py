"""Elementwise semantics the op table does not cover: scalars, promotion corners, out= and
in-place rules, overlap, integer corner cases, special values (hand-computed oracles)."""
import math

import numpy as np
import pytest

import rt_tensor as rtt


def test_python_scalars_both_sides():
    t = rtt.tensor([1.0, 2.0, 4.0])
    assert (t + 1).tolist() == [2.0, 3.0, 5.0]
    assert (1 - t).tolist() == [0.0, -1.0, -3.0]
    assert (2 / t).tolist() == [2.0, 1.0, 0.5]
    assert (2 ** t).tolist() == [2.0, 4.0, 16.0]
    assert (t ** 2).tolist() == [1.0, 4.0, 16.0]
    assert rtt.pow(2, t).tolist() == [2.0, 4.0, 16.0]
    assert (np.float32(2) * t).tolist() == [2.0, 4.0, 8.0]


def test_floor_division_and_remainder_follow_python():
    a = rtt.tensor([7, -7, 7, -7])
    b = rtt.tensor([2, 2, -2, -2])
    assert (a // b).tolist() == [7 // 2, -7 // 2, 7 // -2, -7 // -2]
    assert (a % b).tolist() == [7 % 2, -7 % 2, 7 % -2, -7 % -2]
    assert rtt.fmod(a, b).tolist() == [1, -1, 1, -1]
    f = rtt.tensor([7.5, -7.5, 7.5, -7.5], dtype=rtt.float64)
    g = rtt.tensor([2.0, 2.0, -2.0, -2.0], dtype=rtt.float64)
    assert (f // g).tolist() == [7.5 // 2, -7.5 // 2, 7.5 // -2, -7.5 // -2]
    assert (f % g).tolist() == [7.5 % 2, -7.5 % 2, 7.5 % -2, -7.5 % -2]
    assert rtt.div(a, b, rounding_mode="trunc").tolist() == [3, -3, -3, 3]
    assert rtt.div(f, g, rounding_mode="floor").tolist() == [3.0, -4.0, -4.0, 3.0]
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        a // rtt.tensor([0, 1, 1, 1])
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        a % 0
    # the most negative int64 divided by -1 wraps instead of trapping
    m = rtt.tensor([-2**63])
    assert (m // -1).tolist() == [-2**63] and (m % -1).tolist() == [0]
    assert (rtt.tensor([1.0]) / 0).tolist() == [math.inf]


def test_integer_power_rules():
    assert (rtt.tensor([2, 3]) ** 3).tolist() == [8, 27]
    assert rtt.pow(rtt.tensor([2, 1, -1]), rtt.tensor([-1, -2, -3])).tolist() == [0, 1, -1]
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        rtt.tensor([2]) ** -1
    assert (rtt.tensor([4]) ** 0.5).tolist() == [2.0]


SPECIAL_VALUES = [0.0, -0.0, 1.5, -2.25, 3e-20, 7e30, np.inf, -np.inf, np.nan]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("exponent,expected", [
    (2, lambda x: x * x), (2.0, lambda x: x * x), (3, lambda x: x * x * x),
    (0.5, np.sqrt), (-0.5, lambda x: 1 / np.sqrt(x)), (-1, lambda x: 1 / x),
    (-2, lambda x: 1 / (x * x)), (1, lambda x: x), (2.5, lambda x: x ** 2.5),
])
def test_scalar_powers_computed_as_pytorch_does(dtype, exponent, expected):
    """x ** 2, 3, 0.5, -0.5, -1, -2, 1 are products, square roots and reciprocals, as in
    PyTorch (so sqrt(-0.) = -0. and (-inf) ** 0.5 = nan); other exponents use pow."""
    x = np.array(SPECIAL_VALUES + list(np.linspace(-3, 3, 40)), dtype=dtype)
    with np.errstate(all="ignore"):
        want = expected(x).astype(dtype)
    got = (rtt.from_numpy(x) ** exponent).numpy()
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(np.signbit(got[~np.isnan(got)]), np.signbit(want[~np.isnan(want)]))
    np.testing.assert_allclose(got, want, rtol=2e-7 if dtype == "float32" else 1e-15)
    strided = rtt.from_numpy(np.stack([x, x])).t()       # a non-contiguous operand
    np.testing.assert_allclose(rtt.pow(strided, exponent).numpy(), np.stack([want, want]).T,
                               rtol=2e-7 if dtype == "float32" else 1e-15)


def test_shifts_and_bitwise():
    a = rtt.tensor([1, -8, 3], dtype=rtt.int32)
    assert (a << 2).tolist() == [4, -32, 12]
    assert (a >> 1).tolist() == [0, -4, 1]
    assert (a << 40).tolist() == [0, 0, 0]            # shifts past the width give 0
    assert (a >> 40).tolist() == [0, -1, 0]
    assert (~rtt.tensor([True, False])).tolist() == [False, True]
    assert (~rtt.tensor([0, 5], dtype=rtt.uint8)).tolist() == [255, 250]
    with pytest.raises(RuntimeError, match="not implemented for 'Float'"):
        rtt.tensor([1.0]) & rtt.tensor([2.0])


def test_bool_arithmetic_errors_like_pytorch():
    b = rtt.tensor([True, False])
    assert (b + b).tolist() == [True, False] and (b * b).dtype == rtt.bool
    with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with two bool tensors"):
        b - b
    with pytest.raises(RuntimeError, match="Negation, the `-` operator, on a bool tensor"):
        -b


def test_out_and_inplace_rules():
    a = rtt.tensor([1.0, 2.0])
    out = rtt.empty(2)
    assert rtt.add(a, 1, out=out) is out and out.tolist() == [2.0, 3.0]
    out_int = rtt.empty(2, dtype=rtt.int64)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        rtt.add(a, 1, out=out_int)
    out_d = rtt.empty(2, dtype=rtt.float64)
    rtt.mul(a, 3, out=out_d)                     # float -> double output is allowed
    assert out_d.tolist() == [3.0, 6.0]
    with pytest.warns(UserWarning, match="was resized"):
        rtt.add(a, 1, out=rtt.empty(5))
    small = rtt.empty(0)
    rtt.add(a, 1, out=small)                     # empty outputs are resized silently
    assert small.shape == (2,)
    i = rtt.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        i += 1.5
    x = rtt.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        x.add_(rtt.tensor([[1.0], [2.0]]))
    y = rtt.tensor([[1.0, 2.0], [3.0, 4.0]])
    y_t = y.t()
    y_t.mul_(10)                                 # in place on a transposed view
    assert y.tolist() == [[10.0, 20.0], [30.0, 40.0]]
    v = y._version
    y.add_(1, alpha=2) if False else y.add_(1)
    assert y._version == v + 1
    z = rtt.tensor([1.0, 2.0, 3.0])
    assert rtt.add(z, rtt.tensor([1.0, 1.0, 1.0]), alpha=2).tolist() == [3.0, 4.0, 5.0]
    with pytest.raises(RuntimeError, match="alpha must not be a floating point"):
        rtt.add(rtt.tensor([1]), rtt.tensor([1]), alpha=0.5)


def test_out_of_range_scalars_wrap_like_pytorch():
    # PyTorch 2.13: tensor([1], uint8) + (-3) == 254, int8 + 1000 == -23, float16 + 1e6 == inf
    assert (rtt.tensor([1], dtype=rtt.uint8) + (-3)).tolist() == [254]
    assert (rtt.tensor([1], dtype=rtt.int8) + 1000).tolist() == [-23]
    assert (rtt.tensor([200], dtype=rtt.uint8) + 100).tolist() == [44]
    assert (rtt.tensor([1.0], dtype=rtt.float16) + 1e6).tolist() == [math.inf]
    with pytest.raises(OverflowError):
        rtt.tensor([1]) + 2**70


def test_nan_and_special_values():
    nan, inf = math.nan, math.inf
    t = rtt.tensor([nan, 1.0, -inf])
    assert np.isnan(rtt.maximum(t, rtt.tensor(0.0)).numpy()[0])
    assert rtt.fmax(t, rtt.tensor(0.0)).tolist() == [0.0, 1.0, 0.0]
    assert rtt.isnan(t).tolist() == [True, False, False]
    assert rtt.isinf(t).tolist() == [False, False, True]
    c = rtt.clamp(t, -1, 0.5).numpy()
    assert np.isnan(c[0]) and c[1] == 0.5 and c[2] == -1
    assert rtt.clamp(rtt.tensor([1.0, 5.0]), min=3, max=2).tolist() == [2.0, 2.0]
    assert rtt.exp(rtt.tensor([-inf, inf, 0.0])).tolist() == [0.0, inf, 1.0]
    lg = rtt.log(rtt.tensor([0.0, -1.0, 1.0])).numpy()
    assert lg[0] == -inf and np.isnan(lg[1]) and lg[2] == 0.0
    assert rtt.round(rtt.tensor([0.5, 1.5, 2.5, -0.5])).tolist() == [0.0, 2.0, 2.0, -0.0]
    assert rtt.round(rtt.tensor([1.2345]), decimals=2).tolist() == pytest.approx([1.23])
    assert rtt.relu(rtt.tensor([-1.0, 0.0, 2.0])).tolist() == [0.0, 0.0, 2.0]


def test_vectorised_float32_math_matches_float64_reference():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-87, 88, 100_000), rng.uniform(-5, 5, 100_000)]).astype(np.float32)
    for fn, ref, rtol in [(rtt.exp, np.exp, 3e-7), (rtt.tanh, np.tanh, 3e-7),
                          (rtt.sigmoid, lambda v: 1 / (1 + np.exp(-v)), 3e-7)]:
        got = fn(rtt.from_numpy(x)).numpy().astype(np.float64)
        want = ref(x.astype(np.float64))
        np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-37)
    pos = np.abs(x) + np.float32(1e-30)
    np.testing.assert_allclose(rtt.log(rtt.from_numpy(pos)).numpy(), np.log(pos.astype(np.float64)),
                               rtol=3e-7, atol=2e-7)


def test_complex_ops():
    z = rtt.tensor([1 + 2j, -3 + 0.5j])
    assert np.allclose((z * z).numpy(), np.array([1 + 2j, -3 + 0.5j]) ** 2)
    assert rtt.abs(z).dtype == rtt.float32
    assert np.allclose(rtt.exp(z).numpy(), np.exp(np.array([1 + 2j, -3 + 0.5j], np.complex64)))
    assert rtt.real(z).tolist() == [1.0, -3.0] and rtt.imag(z).tolist() == [2.0, 0.5]
    with pytest.raises(RuntimeError, match="not supported for complex"):
        z < z


def test_isclose_allclose_equal():
    a = rtt.tensor([1.0, math.nan, math.inf, 2.0])
    b = rtt.tensor([1.0 + 1e-7, math.nan, math.inf, 2.1])
    assert rtt.isclose(a, b).tolist() == [True, False, True, False]
    assert rtt.isclose(a, b, equal_nan=True).tolist() == [True, True, True, False]
    assert rtt.allclose(rtt.tensor([1.0]), rtt.tensor([1.0 + 1e-9]))
    assert rtt.equal(rtt.tensor([1, 2]), rtt.tensor([1, 2]))
    assert not rtt.equal(rtt.tensor([1, 2]), rtt.tensor([1, 2, 3]))


def test_lerp_addcmul_addcdiv():
    a = rtt.tensor([0.0, 10.0])
    b = rtt.tensor([10.0, 20.0])
    assert rtt.lerp(a, b, 0.25).tolist() == [2.5, 12.5]
    assert rtt.lerp(a, b, 0.75).tolist() == [7.5, 17.5]
    assert rtt.addcmul(a, b, b, value=0.5).tolist() == [50.0, 210.0]
    assert rtt.addcdiv(a, b, b, value=2).tolist() == [2.0, 12.0]


def test_broadcast_error_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"\(shapes \[2, 3\] and \[4\]\)"):
        rtt.empty(2, 3) + rtt.empty(4)


def test_wrong_operand_type():
    with pytest.raises(TypeError):
        rtt.tensor([1.0]) + "a"
    with pytest.raises(TypeError):
        rtt.exp([1.0])


@pytest.mark.parametrize("threads", [1, 2])
def test_thread_count_does_not_change_elementwise_results(threads):
    x = rtt.from_numpy(np.random.default_rng(1).standard_normal(300_001).astype(np.float32))
    prev = rtt.get_num_threads()
    try:
        rtt.set_num_threads(1)
        ref = [(x * 3 + 1).numpy().copy(), rtt.exp(x).numpy().copy(), rtt.tanh(x.t() if False else x).numpy().copy()]
        rtt.set_num_threads(threads)
        got = [(x * 3 + 1).numpy(), rtt.exp(x).numpy(), rtt.tanh(x).numpy()]
    finally:
        rtt.set_num_threads(prev)
    for r, g in zip(ref, got):
        assert np.array_equal(r, g)


def test_set_num_threads_validates():
    with pytest.raises(ValueError):
        rtt.set_num_threads(0)
    assert rtt.get_num_threads() >= 1


@pytest.mark.parametrize("op", ["bitwise_and", "bitwise_or", "bitwise_xor"])
def test_bitwise_ops_on_floats_raise_not_implemented_error_as_pytorch(op):
    a = rtt.zeros(3, dtype=rtt.float64)
    with pytest.raises(NotImplementedError, match=f"\"{op}_cpu\" not implemented for 'Double'"):
        getattr(rtt, op)(a, a)
    with pytest.raises(NotImplementedError, match="\"bitwise_not_cpu\" not implemented for 'Float'"):
        rtt.bitwise_not(rtt.zeros(3))
