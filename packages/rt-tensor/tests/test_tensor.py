"""Tensor metadata, views (never copies), basic indexing, numpy interop and conversions."""
import numpy as np
import pytest

import rt_tensor as rtt


def arange_tensor(*shape, dtype=np.float32):
    n = int(np.prod(shape)) if shape else 1
    return rtt.from_numpy(np.arange(n, dtype=dtype).reshape(shape))


def test_metadata():
    t = arange_tensor(2, 3, 4)
    assert t.shape == (2, 3, 4) and isinstance(t.shape, rtt.Size)
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.stride() == (12, 4, 1) and t.stride(0) == 12
    assert t.ndim == 3 and t.dim() == 3 and t.numel() == 24 and t.nelement() == 24
    assert t.dtype == rtt.float32 and t.element_size() == 4 and t.itemsize == 4
    assert t.nbytes == 96 and t.is_contiguous() and t.storage_offset() == 0
    assert t.data_ptr() == t.numpy().ctypes.data
    assert repr(t.shape) == "rt_tensor.Size([2, 3, 4])" and t.shape.numel() == 24
    assert str(t.device) == "cpu" and not t.is_cuda


def test_zero_dim_and_empty():
    s = rtt.tensor(3.5)
    assert s.shape == () and s.ndim == 0 and s.numel() == 1 and s.item() == 3.5
    assert s.tolist() == 3.5 and float(s) == 3.5 and s.stride() == ()
    e = rtt.tensor(np.zeros((0, 3), np.float32))
    assert e.shape == (0, 3) and e.numel() == 0 and e.tolist() == []
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        e.item()
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(s)


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int16", "int32", "int64", "float16",
                                   "bfloat16", "float32", "float64", "complex64", "complex128"])
def test_item_and_tolist_every_dtype(dtype):
    values = [[0, 1], [1, 0]] if dtype == "bool" else [[1, 2], [3, 4]]
    t = rtt.tensor(values, dtype=getattr(rtt, dtype))
    expected = [[bool(v) for v in row] for row in values] if dtype == "bool" else values
    assert t.tolist() == expected
    item = t[1, 0].item()
    assert item == expected[1][0]
    kind = {"bool": bool, "complex64": complex, "complex128": complex}.get(
        dtype, float if "float" in dtype else int)
    assert type(item) is kind


def test_views_share_storage_and_strides():
    t = arange_tensor(3, 4)
    tt = t.t()
    assert tt.shape == (4, 3) and tt.stride() == (1, 4) and not tt.is_contiguous()
    assert tt.data_ptr() == t.data_ptr()
    tt[0, 1] = 100.0
    assert t[1, 0].item() == 100.0
    p = arange_tensor(2, 3, 4).permute(2, 0, 1)
    assert p.shape == (4, 2, 3) and p.stride() == (1, 12, 4)
    e = rtt.tensor([1.0, 2.0]).expand(3, 2)
    assert e.stride() == (0, 1) and e.shape == (3, 2)
    n = t.narrow(1, 1, 2)
    assert n.shape == (3, 2) and n.storage_offset() == 1 and n.data_ptr() == t.data_ptr() + 4
    d = arange_tensor(3, 3).diagonal()
    assert d.tolist() == [0.0, 4.0, 8.0] and d.stride() == (4,)
    u = t.unsqueeze(0).unsqueeze(-1)
    assert u.shape == (1, 3, 4, 1) and u.squeeze().shape == (3, 4)
    assert t.unsqueeze(1).squeeze(1).shape == (3, 4)
    a = t.as_strided((2, 2), (1, 4), 1)
    assert a.tolist() == [[1.0, 5.0], [2.0, 6.0]]
    assert [x.tolist() for x in arange_tensor(5).split(2)] == [[0.0, 1.0], [2.0, 3.0], [4.0]]
    assert [x.shape[0] for x in arange_tensor(5).chunk(3)] == [2, 2, 1]
    assert [x.tolist() for x in arange_tensor(2, 2).unbind(1)] == [[0.0, 2.0], [1.0, 3.0]]
    assert arange_tensor(2, 3, 4).movedim(0, -1).shape == (3, 4, 2)
    assert arange_tensor(2, 3, 4).mT.shape == (2, 4, 3)
    assert arange_tensor(2, 3, 4).T.shape == (4, 3, 2)
    assert arange_tensor(2, 6).unflatten(1, (2, -1)).shape == (2, 2, 3)
    assert arange_tensor(2, 3, 4).flatten(1).shape == (2, 12)
    w = arange_tensor(6).unfold(0, 2, 2)
    assert w.tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]


def test_view_and_reshape_rules():
    t = arange_tensor(2, 3, 4)
    v = t.view(6, 4)
    assert v.data_ptr() == t.data_ptr() and v.stride() == (4, 1)
    assert t.view(-1).shape == (24,)
    tt = t.transpose(0, 2)
    with pytest.raises(RuntimeError, match="Use .reshape"):
        tt.view(24)
    r = tt.reshape(24)
    assert r.is_contiguous() and r.data_ptr() != t.data_ptr()
    assert np.array_equal(r.numpy(), t.numpy().transpose(2, 1, 0).reshape(24))
    # a permuted tensor whose merged dims are still compatible gives a view
    s = t[:, :, ::2]
    assert s.reshape(6, 2).data_ptr() == s.data_ptr()
    with pytest.raises(RuntimeError, match="invalid for input of size 24"):
        t.view(5, -1)
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        t.view(-1, -1)
    assert rtt.tensor(1.0).view(1, 1).shape == (1, 1)


def test_basic_indexing_matches_numpy():
    a = np.arange(60, dtype=np.float64).reshape(3, 4, 5)
    t = rtt.from_numpy(a)
    for index in [0, -1, (1, 2), (slice(None), 1), (Ellipsis, 2), (None, 1), (slice(1, None, 2),),
                  (slice(None, None, 3), None, slice(-3, None)), (1, Ellipsis, None),
                  (slice(10, 20),), (0, slice(4, 1))]:
        view = t[index]
        assert view.shape == a[index].shape, index
        assert np.array_equal(view.numpy(), a[index]), index
        if view.numel():
            assert view.untyped_storage() is t.untyped_storage()
    with pytest.raises(IndexError, match="out of bounds"):
        t[3]
    with pytest.raises(IndexError, match="too many indices"):
        t[0, 0, 0, 0]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        t[::-1]


def test_setitem_broadcasts_and_converts():
    t = rtt.tensor(np.zeros((3, 4), np.float32))
    t[1] = 5
    t[:, 0] = rtt.tensor([1, 2, 3])
    t[2, 1:3] = rtt.tensor([7.5])
    expected = np.zeros((3, 4), np.float32)
    expected[1] = 5
    expected[:, 0] = [1, 2, 3]
    expected[2, 1:3] = 7.5
    assert np.array_equal(t.numpy(), expected)
    with pytest.raises(RuntimeError, match="must match the existing size"):
        t[0] = rtt.tensor([1.0, 2.0, 3.0])


def test_overlapping_writes_raise_like_pytorch():
    t = rtt.tensor([1.0, 2.0, 3.0, 4.0])
    with pytest.raises(RuntimeError, match="refer to a single memory location"):
        t[1:] = t[:-1]
    e = rtt.tensor([1.0]).expand(3)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        e.add_(1)
    # identical source and destination is fine
    t[:] = t
    assert t.tolist() == [1.0, 2.0, 3.0, 4.0]


def test_copy_and_conversions():
    t = arange_tensor(2, 3)
    c = t.clone()
    assert c.data_ptr() != t.data_ptr() and c.tolist() == t.tolist() and c._version == 0
    assert t.contiguous() is t
    assert t.t().contiguous().stride() == (2, 1)
    assert t.to(rtt.float32) is t
    assert t.to(rtt.float32, copy=True) is not t
    assert t.int().dtype == rtt.int32 and t.long().dtype == rtt.int64 and t.double().dtype == rtt.float64
    assert t.half().dtype == rtt.float16 and t.bfloat16().dtype == rtt.bfloat16 and t.bool().dtype == rtt.bool
    f = rtt.tensor([1.7, -1.7, 300.0])
    assert f.to(rtt.int64).tolist() == [1, -1, 300]
    assert rtt.tensor([0.0, 0.5]).bool().tolist() == [False, True]
    assert rtt.tensor([1.0, 2.0]).to(rtt.bfloat16).float().tolist() == [1.0, 2.0]
    assert rtt.tensor([65504.0, 1e-8]).half().float().tolist() == [65504.0, 0.0]
    with pytest.warns(UserWarning, match="discards the imaginary part"):
        rtt.tensor([1 + 2j]).to(rtt.float32)
    z = rtt.tensor(np.zeros(3, np.float32))
    z.copy_(rtt.tensor([1, 2, 3]))
    assert z.tolist() == [1.0, 2.0, 3.0] and z._version == 1
    z.fill_(2)
    z.zero_()
    assert z.tolist() == [0.0, 0.0, 0.0]


def test_numpy_zero_copy_both_ways():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = rtt.from_numpy(a)
    a[0, 0] = 42
    assert t[0, 0].item() == 42
    n = t.numpy()
    n[1, 2] = -1
    assert a[1, 2] == -1 and n.ctypes.data == a.ctypes.data
    assert np.asarray(t).ctypes.data == a.ctypes.data
    tt = t.t()
    assert np.shares_memory(tt.numpy(), a) and np.array_equal(tt.numpy(), a.T)
    strided = rtt.from_numpy(a[:, ::2])
    assert strided.stride() == (3, 2)
    with pytest.raises(ValueError, match="negative"):
        rtt.from_numpy(a[:, ::-1])
    with pytest.raises(TypeError, match="can't convert np.ndarray of type"):
        rtt.from_numpy(np.array(["a"]))
    with pytest.raises(TypeError, match="BFloat16"):
        rtt.tensor([1.0]).to(rtt.bfloat16).numpy()
    # the array stays alive as long as the tensor
    t2 = rtt.from_numpy(np.ones(1000))
    import gc
    gc.collect()
    assert float(t2.numpy().sum()) == 1000.0


def test_view_dtype_and_errors():
    t = rtt.tensor([1.0, 2.0])
    assert t.view(rtt.int32).tolist() == [1065353216, 1073741824]
    with pytest.raises(IndexError, match="Dimension out of range"):
        t.sum if False else t.transpose(0, 3)
    with pytest.raises(RuntimeError, match="The expanded size of the tensor"):
        rtt.tensor([1.0, 2.0]).expand(3, 3)
    with pytest.raises(TypeError):
        t.view("nonsense")


def test_bool_conversion_ambiguity():
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(rtt.tensor([1, 2]))
    assert bool(rtt.tensor([1])) is True
    assert 2 in rtt.tensor([1, 2, 3])


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int64", "float16", "bfloat16", "float64", "complex64"])
def test_pickle_round_trip(dtype):
    import pickle
    src = rtt.tensor([[1, 0, 2], [3, 4, 5]], dtype=getattr(rtt, dtype)).t()
    back = pickle.loads(pickle.dumps(src))
    assert back.dtype == src.dtype and back.shape == src.shape and back.is_contiguous()
    assert back.to(rtt.float64).tolist() == src.to(rtt.float64).tolist() if dtype not in ("complex64",) \
        else back.tolist() == src.tolist()
    with pytest.raises(ValueError):
        rtt._tensor._rebuild_tensor(b"abc", 8, (2,))


def test_legacy_constructor():
    assert rtt.Tensor(2, 3).shape == (2, 3) and rtt.Tensor(2, 3).dtype == rtt.float32
    assert rtt.Tensor([1, 2]).tolist() == [1.0, 2.0] and rtt.Tensor([1, 2]).dtype == rtt.float32
    assert rtt.Tensor().shape == (0,)


def test_resize_():
    t = rtt.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    ptr = t.data_ptr()
    assert t.resize_(2, 3) is t and t.shape == (2, 3) and t.stride() == (3, 1)
    assert t.data_ptr() == ptr and t.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    t.resize_(0)
    assert t.shape == (0,)
    t.resize_(10)
    assert t.shape == (10,)
    with pytest.raises(RuntimeError, match="negative dimension"):
        t.resize_(-1)
