"""Factories: tensor/as_tensor/asarray, zeros/ones/full/empty and the *_like and new_* forms,
arange/linspace/logspace/eye, empty_strided, complex/polar (numpy and PyTorch's documented
results as the oracle)."""
import math

import numpy as np
import pytest

import rt_tensor as rtt

ALL_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
              "float32", "float64", "complex64", "complex128"]


def np_of(t):
    return t.float().numpy() if t.dtype == rtt.bfloat16 else t.numpy()


# ---- tensor ---------------------------------------------------------------------------

@pytest.mark.parametrize("data,dtype", [
    ([1, 2, 3], rtt.int64), ([1.0, 2], rtt.float32), ([True, False], rtt.bool),
    ([1, 2.5], rtt.float32), ([1, 2j], rtt.complex64), ([True, 1], rtt.int64),
    ([], rtt.float32), ([[1, 2], [3, 4]], rtt.int64), (3, rtt.int64), (3.5, rtt.float32),
    (True, rtt.bool), (1 + 1j, rtt.complex64), (np.float64(1.0), rtt.float64),
    ([np.float16(1)], rtt.float16), (np.int32(2), rtt.int32),
])
def test_tensor_dtype_inference(data, dtype):
    t = rtt.tensor(data)
    assert t.dtype == dtype
    np.testing.assert_array_equal(np_of(t), np.array(data).astype(np_of(t).dtype))


def test_tensor_shapes_and_values():
    t = rtt.tensor([[1, 2, 3], [4, 5, 6]])
    assert t.shape == (2, 3)
    assert t.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert rtt.tensor(5).shape == ()
    assert rtt.tensor(5).item() == 5
    assert rtt.tensor([]).shape == (0,)
    assert rtt.tensor([[]]).shape == (1, 0)


def test_tensor_inside_lists_promotes():
    a = rtt.tensor([1, 2], dtype=rtt.int32)
    assert rtt.tensor([a, a]).dtype == rtt.int32
    assert rtt.tensor([a, a]).shape == (2, 2)
    assert rtt.tensor([rtt.tensor(1, dtype=rtt.int32), 2]).dtype == rtt.int64
    assert rtt.tensor([rtt.tensor(1.0, dtype=rtt.float64), 2]).dtype == rtt.float64
    assert rtt.tensor([np.array([1, 2], dtype=np.int16)]).dtype == rtt.int16


def test_tensor_default_dtype_follows_setting():
    rtt.set_default_dtype(rtt.float64)
    try:
        assert rtt.tensor([1.0]).dtype == rtt.float64
        assert rtt.tensor([1j]).dtype == rtt.complex128
        assert rtt.zeros(2).dtype == rtt.float64
        assert rtt.arange(0.0, 1.0, 0.5).dtype == rtt.float64
    finally:
        rtt.set_default_dtype(rtt.float32)


def test_tensor_copies():
    a = np.arange(3.0)
    t = rtt.tensor(a)
    a[0] = 7
    assert t[0].item() == 0.0
    u = rtt.tensor(t)
    assert u.data_ptr() != t.data_ptr()


def test_tensor_explicit_dtype():
    assert rtt.tensor([1.7, -2.2], dtype=rtt.int32).tolist() == [1, -2]
    assert rtt.tensor([1, 2], dtype=rtt.bfloat16).dtype == rtt.bfloat16
    assert rtt.tensor([1, 2], dtype=rtt.float16).tolist() == [1.0, 2.0]
    assert rtt.tensor(300, dtype=rtt.uint8).item() == 44       # wraps like PyTorch
    assert rtt.tensor([0, 2], dtype=rtt.bool).tolist() == [False, True]


def test_tensor_errors():
    with pytest.raises(ValueError):
        rtt.tensor([[1, 2], [3]])
    with pytest.raises(TypeError):
        rtt.tensor("abc")
    with pytest.raises(TypeError):
        rtt.tensor([object()])
    with pytest.raises(RuntimeError, match="Overflow"):
        rtt.tensor(2**64)
    with pytest.raises(RuntimeError, match="autograd"):
        rtt.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError):
        rtt.tensor([1.0], device="cuda")
    assert rtt.tensor([1.0], requires_grad=False, device="cpu").tolist() == [1.0]


def test_as_tensor_shares():
    a = np.arange(4.0)
    t = rtt.as_tensor(a)
    a[1] = 10
    assert t[1].item() == 10
    assert rtt.as_tensor(t) is t
    assert rtt.as_tensor(t, dtype=rtt.float64).dtype == rtt.float64
    assert rtt.as_tensor([1, 2]).dtype == rtt.int64


def test_asarray():
    a = np.arange(4, dtype=np.int32)
    t = rtt.asarray(a)
    a[0] = 5
    assert t[0].item() == 5
    c = rtt.asarray(a, copy=True)
    a[0] = 6
    assert c[0].item() == 5
    x = rtt.arange(3)
    assert rtt.asarray(x) is x
    assert rtt.asarray(x, dtype=rtt.float32).dtype == rtt.float32
    with pytest.raises(ValueError):
        rtt.asarray(x, dtype=rtt.float32, copy=False)
    with pytest.raises(ValueError):
        rtt.asarray([1, 2], copy=False)
    assert rtt.asarray([[1, 2]]).shape == (1, 2)
    buf = bytearray(b"\x01\x02")
    b = rtt.asarray(buf)
    assert b.dtype == rtt.uint8 and b.tolist() == [1, 2]


# ---- filled tensors -------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_zeros_ones_full_all_dtypes(dtype):
    d = getattr(rtt, dtype)
    z = rtt.zeros(2, 3, dtype=d)
    o = rtt.ones((2, 3), dtype=d)
    f = rtt.full([2, 3], 1, dtype=d)
    for t, v in ((z, 0), (o, 1), (f, 1)):
        assert t.dtype == d and t.shape == (2, 3)
        assert (np_of(t) == v).all()
    assert rtt.empty(4, dtype=d).shape == (4,)


@pytest.mark.parametrize("args", [(2, 3), ((2, 3),), ([2, 3],), (rtt.Size([2, 3]),)])
def test_size_forms(args):
    assert rtt.zeros(*args).shape == (2, 3)
    assert rtt.ones(*args).shape == (2, 3)
    assert rtt.empty(*args).shape == (2, 3)


def test_size_keyword():
    assert rtt.zeros(size=(2, 3)).shape == (2, 3)
    assert rtt.ones(size=[4]).shape == (4,)
    assert rtt.empty(size=(1, 2), dtype=rtt.int8).dtype == rtt.int8
    assert rtt.rand(size=(2, 2)).shape == (2, 2)
    assert rtt.randn(size=(3,)).shape == (3,)


def test_full_numpy_scalar_fill_is_a_python_scalar():
    assert rtt.full((2,), np.float64(1.5)).dtype == rtt.float32
    assert rtt.full((2,), np.int32(3)).dtype == rtt.int64
    assert rtt.full((2,), np.bool_(True)).dtype == rtt.bool


def test_scalar_and_empty_shapes():
    assert rtt.zeros(()).shape == ()
    assert rtt.zeros([]).shape == ()
    assert rtt.ones(0, 3).shape == (0, 3)
    assert rtt.zeros().shape == ()


def test_negative_size_raises():
    for fn in (rtt.zeros, rtt.ones, rtt.empty):
        with pytest.raises(RuntimeError, match="negative dimension"):
            fn(2, -1)
    with pytest.raises(RuntimeError):
        rtt.full((-1,), 1.0)
    with pytest.raises(TypeError):
        rtt.zeros(2.5)


def test_full_dtype_inference():
    assert rtt.full((2,), True).dtype == rtt.bool
    assert rtt.full((2,), 3).dtype == rtt.int64
    assert rtt.full((2,), 3.0).dtype == rtt.float32
    assert rtt.full((2,), 1j).dtype == rtt.complex64
    assert rtt.full((2,), 7, dtype=rtt.float64).tolist() == [7.0, 7.0]
    assert rtt.full((2,), rtt.tensor(2.5)).tolist() == [2.5, 2.5]


def test_full_overflow_raises():
    with pytest.raises(RuntimeError, match="overflow"):
        rtt.full((2,), 300, dtype=rtt.uint8)
    with pytest.raises(RuntimeError, match="overflow"):
        rtt.full((2,), 1e10, dtype=rtt.float16)
    assert rtt.full((1,), float("inf"), dtype=rtt.float16).tolist() == [float("inf")]


def test_large_fill_is_right():
    n = 3_000_001
    t = rtt.full((n,), 2.5)
    a = t.numpy()
    assert a.shape == (n,) and (a == 2.5).all()
    z = rtt.zeros(n, dtype=rtt.complex128)
    assert (z.numpy() == 0).all()
    o = rtt.ones(n, dtype=rtt.int16)
    assert (o.numpy() == 1).all()


def test_out_argument():
    out = rtt.empty(2, 3)
    r = rtt.zeros(2, 3, out=out)
    assert r is out and (out.numpy() == 0).all()
    r = rtt.ones(2, 3, out=out)
    assert (out.numpy() == 1).all()
    o = rtt.empty(0, dtype=rtt.int64)
    rtt.arange(4, out=o)
    assert o.tolist() == [0, 1, 2, 3]
    with pytest.warns(UserWarning, match="resized"):
        rtt.zeros(5, out=rtt.empty(2))
    f = rtt.empty(3)
    assert rtt.arange(3, out=f).tolist() == [0.0, 1.0, 2.0]       # out's dtype decides
    with pytest.raises(RuntimeError, match="dtype"):
        rtt.arange(3, dtype=rtt.int64, out=rtt.empty(3))


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_like_functions(dtype):
    d = getattr(rtt, dtype)
    x = rtt.zeros(2, 3, dtype=d)
    for fn, v in ((rtt.zeros_like, 0), (rtt.ones_like, 1)):
        y = fn(x)
        assert y.dtype == d and y.shape == (2, 3) and (np_of(y) == v).all()
    assert rtt.empty_like(x).dtype == d
    assert rtt.full_like(x, 1).dtype == d
    assert rtt.zeros_like(x, dtype=rtt.float64).dtype == rtt.float64


def test_like_preserves_dense_strides():
    x = rtt.zeros(3, 4).t()
    for fn in (rtt.empty_like, rtt.zeros_like, rtt.ones_like):
        y = fn(x)
        assert y.stride() == x.stride() and y.shape == x.shape
    y = rtt.full_like(x, 2.0)
    assert y.stride() == x.stride() and (y.numpy() == 2).all()
    s = rtt.zeros(4, 4)[:, ::2]    # not dense: contiguous result
    assert rtt.empty_like(s).is_contiguous()


def test_new_methods():
    x = rtt.zeros(2, dtype=rtt.int32)
    assert x.new_zeros(3).dtype == rtt.int32
    assert x.new_ones((2, 2)).tolist() == [[1, 1], [1, 1]]
    assert x.new_empty([4]).shape == (4,)
    assert x.new_full((2,), 7).tolist() == [7, 7]
    assert x.new_full((2,), 7.9).dtype == rtt.int32
    assert x.new_tensor([1.5, 2.5]).dtype == rtt.int32
    assert x.new_zeros(2, dtype=rtt.float64).dtype == rtt.float64
    assert x.new_empty_strided((2, 2), (1, 2)).stride() == (1, 2)


def test_empty_strided():
    t = rtt.empty_strided((2, 3), (1, 2))
    assert t.shape == (2, 3) and t.stride() == (1, 2)
    t.copy_(rtt.tensor([[1.0, 2, 3], [4, 5, 6]]))
    assert t.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert rtt.empty_strided((0, 3), (3, 1)).numel() == 0
    with pytest.raises(RuntimeError):
        rtt.empty_strided((2, 3), (1,))


# ---- sequences ------------------------------------------------------------------------

@pytest.mark.parametrize("args", [(5,), (2, 9), (2, 9, 3), (10, 0, -3), (0, 0), (5, 2),
                                  (-5, 5, 2)])
def test_arange_int(args):
    if len(args) == 2 and args[1] < args[0]:
        with pytest.raises(RuntimeError):
            rtt.arange(*args)
        return
    t = rtt.arange(*args)
    assert t.dtype == rtt.int64
    np.testing.assert_array_equal(t.numpy(), np.arange(*args))


@pytest.mark.parametrize("args", [(5.0,), (0, 1, 0.1), (1, 2.5, 0.5), (0.5, -1.3, -0.3),
                                  (-1, 1, 0.25)])
def test_arange_float(args):
    t = rtt.arange(*args)
    assert t.dtype == rtt.float32
    np.testing.assert_allclose(t.numpy(), np.arange(*args, dtype=np.float64), rtol=1e-6,
                               atol=1e-6)


def test_arange_dtype_and_errors():
    assert rtt.arange(5, dtype=rtt.float64).dtype == rtt.float64
    assert rtt.arange(0, 5, 2, dtype=rtt.int8).tolist() == [0, 2, 4]
    assert rtt.arange(4, dtype=rtt.bfloat16).tolist() == [0, 1, 2, 3]
    assert rtt.arange(rtt.tensor(3)).tolist() == [0, 1, 2]
    assert rtt.arange(start=1, end=4).tolist() == [1, 2, 3]
    assert rtt.arange(2**40, 2**40 + 3).tolist() == [2**40, 2**40 + 1, 2**40 + 2]
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        rtt.arange(0, 5, 0)
    with pytest.raises(RuntimeError, match="inconsistent with step sign"):
        rtt.arange(0, 5, -1)
    with pytest.raises(RuntimeError, match="inconsistent with step sign"):
        rtt.arange(5, 0, 1)
    assert rtt.arange(0, 100001).numpy().sum() == 100000 * 100001 // 2


def test_range_deprecated():
    with pytest.warns(UserWarning, match="deprecated"):
        t = rtt.range(1, 4)
    assert t.dtype == rtt.float32 and t.tolist() == [1, 2, 3, 4]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("steps", [0, 1, 2, 5, 100, 70001])
def test_linspace(dtype, steps):
    d = getattr(rtt, dtype)
    t = rtt.linspace(-3, 10, steps, dtype=d)
    assert t.dtype == d and t.shape == (steps,)
    tol = {"float16": 1e-2, "bfloat16": 8e-2}.get(dtype, 1e-5)
    np.testing.assert_allclose(np_of(t), np.linspace(-3, 10, steps), rtol=tol, atol=tol)
    if steps > 0:
        assert np_of(t)[0] == -3
    if steps > 1:
        assert np_of(t)[-1] == 10


def test_linspace_int_and_errors():
    assert rtt.linspace(0, 10, 5, dtype=rtt.int64).tolist() == [0, 2, 5, 7, 10]
    assert rtt.linspace(0, 1, 3).dtype == rtt.float32
    with pytest.raises(RuntimeError, match="non-negative"):
        rtt.linspace(0, 1, -1)
    assert rtt.linspace(0, 1, 2, dtype=rtt.complex64).dtype == rtt.complex64


def test_logspace():
    np.testing.assert_allclose(rtt.logspace(0, 3, 4).numpy(), [1, 10, 100, 1000], rtol=1e-6)
    np.testing.assert_allclose(rtt.logspace(0, 3, 4, base=2).numpy(), [1, 2, 4, 8])
    np.testing.assert_allclose(rtt.logspace(-1, 1, 7, dtype=rtt.float64).numpy(),
                               np.logspace(-1, 1, 7), rtol=1e-12)


def test_eye():
    np.testing.assert_array_equal(rtt.eye(3).numpy(), np.eye(3, dtype=np.float32))
    np.testing.assert_array_equal(rtt.eye(2, 4, dtype=rtt.int64).numpy(), np.eye(2, 4))
    np.testing.assert_array_equal(rtt.eye(4, 2, dtype=rtt.bool).numpy(), np.eye(4, 2, dtype=bool))
    assert rtt.eye(0).shape == (0, 0)
    with pytest.raises(RuntimeError):
        rtt.eye(-1)


# ---- complex --------------------------------------------------------------------------

def test_complex_and_polar():
    re = rtt.tensor([1.0, 2.0])
    im = rtt.tensor([3.0, -4.0])
    c = rtt.complex(re, im)
    assert c.dtype == rtt.complex64
    np.testing.assert_array_equal(c.numpy(), np.array([1 + 3j, 2 - 4j], dtype=np.complex64))
    c2 = rtt.complex(re.double(), rtt.tensor(1.0, dtype=rtt.float64))
    assert c2.dtype == rtt.complex128 and c2.shape == (2,)
    with pytest.raises(RuntimeError):
        rtt.complex(re, im.double())
    with pytest.raises(RuntimeError):
        rtt.complex(rtt.tensor([1, 2]), rtt.tensor([1, 2]))
    p = rtt.polar(rtt.tensor([2.0]), rtt.tensor([math.pi / 2]))
    np.testing.assert_allclose(p.numpy(), [2j], atol=1e-6)


def test_scalar_tensor():
    assert rtt.scalar_tensor(3).dtype == rtt.float32
    assert rtt.scalar_tensor(3).item() == 3.0
    assert rtt.scalar_tensor(3, dtype=rtt.int32).dtype == rtt.int32
    assert rtt.scalar_tensor(True).shape == ()


def test_setitem_and_fill_use_scalars():
    t = rtt.zeros(3, dtype=rtt.int32)
    t[1] = 5
    t[2] = 2.7
    assert t.tolist() == [0, 5, 2]
    t.fill_(4)
    assert t.tolist() == [4, 4, 4]
    with pytest.raises(TypeError):
        t[0] = 1j


def test_frombuffer():
    import array
    buf = array.array("i", [1, 2, 3, 4])
    t = rtt.frombuffer(buf, dtype=rtt.int32)
    assert t.tolist() == [1, 2, 3, 4]
    buf[0] = 9
    assert t[0].item() == 9
    t2 = rtt.frombuffer(buf, dtype=rtt.int32, count=2, offset=4)
    assert t2.tolist() == [2, 3]
    with pytest.warns(UserWarning, match="not writable"):
        b = rtt.frombuffer(b"\x01\x02", dtype=rtt.uint8)
    assert b.tolist() == [1, 2]
    with pytest.raises(ValueError):
        rtt.frombuffer(bytearray(3), dtype=rtt.int16)
    with pytest.raises(ValueError):
        rtt.frombuffer(bytearray(4), dtype=rtt.int16, count=5)
    with pytest.raises(TypeError):
        rtt.frombuffer([1, 2], dtype=rtt.int8)
    bf = rtt.frombuffer(bytearray(4), dtype=rtt.bfloat16)
    assert bf.dtype == rtt.bfloat16 and bf.shape == (2,)
