"""Dtypes and PyTorch's type promotion, checked against hand-written cases from PyTorch's
documentation (torch.result_type / type promotion docs)."""
import pytest

import rt_tensor as rtt

D = rtt


@pytest.mark.parametrize("a,b,expected", [
    (D.uint8, D.int8, D.int16), (D.uint8, D.int64, D.int64), (D.int8, D.int16, D.int16),
    (D.bool, D.int32, D.int32), (D.bool, D.float16, D.float16), (D.int64, D.float16, D.float16),
    (D.float16, D.bfloat16, D.float32), (D.float32, D.float64, D.float64),
    (D.float64, D.complex64, D.complex128), (D.float16, D.complex64, D.complex64),
    (D.int64, D.complex64, D.complex64), (D.complex64, D.complex128, D.complex128),
    (D.bfloat16, D.float32, D.float32), (D.uint8, D.bool, D.uint8),
])
def test_promote_types(a, b, expected):
    assert rtt.promote_types(a, b) == expected
    assert rtt.promote_types(b, a) == expected


def test_dtype_attributes():
    assert rtt.float32.itemsize == 4 and rtt.complex128.itemsize == 16 and rtt.bool.itemsize == 1
    assert rtt.float16.is_floating_point and not rtt.int32.is_floating_point
    assert rtt.complex64.is_complex and rtt.complex64.to_real() == rtt.float32
    assert rtt.float64.to_complex() == rtt.complex128
    assert rtt.uint8.is_signed is False and rtt.int8.is_signed
    assert repr(rtt.bfloat16) == "rt_tensor.bfloat16"
    assert rtt.half is rtt.float16 and rtt.long is rtt.int64 and rtt.double is rtt.float64
    import pickle
    assert pickle.loads(pickle.dumps(rtt.int16)) is rtt.int16


@pytest.mark.parametrize("make,expected", [
    (lambda: rtt.tensor([1, 2], dtype=rtt.int32) + 1, rtt.int32),        # scalar int: no raise
    (lambda: rtt.tensor([1, 2], dtype=rtt.int32) + 1.5, rtt.float32),    # scalar float: default
    (lambda: rtt.tensor([1, 2], dtype=rtt.uint8) + True, rtt.uint8),
    (lambda: rtt.tensor([True]) + 1, rtt.int64),
    (lambda: rtt.tensor([1.0], dtype=rtt.float16) + 2.5, rtt.float16),
    (lambda: rtt.tensor([1.0]) + rtt.tensor(2.0, dtype=rtt.float64), rtt.float32),   # 0-d same kind
    (lambda: rtt.tensor([1], dtype=rtt.int32) + rtt.tensor(2.0, dtype=rtt.float64), rtt.float64),
    (lambda: rtt.tensor([1], dtype=rtt.int32) + rtt.tensor(2, dtype=rtt.int64), rtt.int32),
    (lambda: rtt.tensor([1.0]) + 1j, rtt.complex64),
    (lambda: rtt.tensor([1.0], dtype=rtt.float64) + 1j, rtt.complex128),
    (lambda: rtt.tensor([3]) / rtt.tensor([2]), rtt.float32),             # int/int true division
    (lambda: rtt.tensor([3]) // 2, rtt.int64),
    (lambda: rtt.tensor([1.0]) < 2, rtt.bool),
    (lambda: rtt.tensor([2], dtype=rtt.int16) ** 2, rtt.int16),
    (lambda: rtt.exp(rtt.tensor([1])), rtt.float32),
])
def test_result_dtypes(make, expected):
    assert make().dtype == expected


def test_default_dtype():
    assert rtt.get_default_dtype() == rtt.float32
    try:
        rtt.set_default_dtype(rtt.float64)
        assert rtt.tensor([1.5]).dtype == rtt.float64
        assert (rtt.tensor([1]) + 1.5).dtype == rtt.float64
        assert rtt.tensor([1j]).dtype == rtt.complex128
    finally:
        rtt.set_default_dtype(rtt.float32)
    with pytest.raises(TypeError):
        rtt.set_default_dtype(rtt.int32)


def test_can_cast():
    assert rtt.can_cast(rtt.int32, rtt.float32)
    assert not rtt.can_cast(rtt.float32, rtt.int32)
    assert not rtt.can_cast(rtt.complex64, rtt.float64)
    assert not rtt.can_cast(rtt.int8, rtt.bool)
    assert rtt.can_cast(rtt.bool, rtt.int8)


def test_bad_dtype_is_a_type_error():
    with pytest.raises(TypeError, match="dtype must be an rt_tensor dtype"):
        rtt.tensor([1.0]).to(dtype="float128")
    with pytest.raises(RuntimeError, match="only supports the CPU device"):
        rtt.tensor([1.0]).to("float128")          # a string is a device, as in PyTorch
    with pytest.raises(TypeError):
        rtt.promote_types(rtt.float32, 3)
