"""Shape and join ops (cat/stack family, tril/triu, flip, roll, repeat/tile, repeat_interleave,
rot90, broadcasting, meshgrid, atleast_*d, diag family) against numpy, over all dtypes and
non-contiguous, empty and 0-d inputs; PyTorch's errors."""
import itertools
import warnings

import numpy as np
import pytest

import rt_tensor as rtt

DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64", "complex64", "complex128")
LAYOUTS = ("contiguous", "transposed", "sliced")


def np_of(t):
    """numpy copy of an rt tensor's values (bfloat16 as float32)."""
    if t.dtype == rtt.bfloat16:
        return t.float().numpy().copy()
    return t.numpy().copy()


def make(shape, dtype_name="float32", layout="contiguous", seed=0):
    """(rt tensor, numpy array) with the same values; layout gives the rt strides."""
    rng = np.random.default_rng(seed)
    if layout == "transposed" and len(shape) >= 2:
        full = tuple(shape[:-2]) + (shape[-1], shape[-2])
    elif layout == "sliced":
        full = tuple(2 * s for s in shape)
    else:
        full = tuple(shape)
    a = rng.integers(-5, 6, size=full)
    if dtype_name == "bool":
        a = a > 0
    elif dtype_name == "uint8":
        a = np.abs(a)
    elif dtype_name.startswith("complex"):
        a = a + 1j * rng.integers(-5, 6, size=full)
    t = rtt.tensor(a.astype(np.float32 if dtype_name == "bfloat16" else dtype_name))
    t = t.to(getattr(rtt, dtype_name))
    if layout == "transposed" and len(shape) >= 2:
        t = t.transpose(-1, -2)
    elif layout == "sliced":
        t = t[tuple(slice(None, None, 2) for _ in shape)]
    return t, np_of(t)


def check(t, expected, dtype=None):
    assert isinstance(t, rtt.Tensor)
    if dtype is not None:
        assert t.dtype == dtype, (t.dtype, dtype)
    got = np_of(t)
    assert got.shape == np.asarray(expected).shape, (got.shape, np.asarray(expected).shape)
    np.testing.assert_array_equal(got, np.asarray(expected).astype(got.dtype))


# ---------------------------------------------------------------------------------------
# cat / stack

@pytest.mark.parametrize("dtype_name", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_cat_all_dtypes_and_layouts(dtype_name, layout):
    a, na = make((3, 4), dtype_name, layout, 1)
    b, nb = make((2, 4), dtype_name, layout, 2)
    c, nc = make((3, 5), dtype_name, layout, 3)
    d = getattr(rtt, dtype_name)
    check(rtt.cat([a, b]), np.concatenate([na, nb]), d)
    check(rtt.cat((a, c), dim=1), np.concatenate([na, nc], 1), d)
    check(rtt.cat([a, c], -1), np.concatenate([na, nc], 1), d)
    check(rtt.concat([a, a, a]), np.concatenate([na, na, na]), d)
    check(rtt.concatenate([a]), na, d)


def test_cat_is_a_copy():
    a = rtt.tensor([1.0, 2.0])
    r = rtt.cat([a])
    r[0] = 5.0
    assert a[0].item() == 1.0


@pytest.mark.parametrize("d1,d2", [("int32", "float32"), ("int8", "uint8"), ("bool", "int16"),
                                   ("float16", "bfloat16"), ("int64", "complex64"),
                                   ("float64", "float16")])
def test_cat_promotes(d1, d2):
    a, na = make((2, 3), d1)
    b, nb = make((1, 3), d2)
    expected = rtt.promote_types(getattr(rtt, d1), getattr(rtt, d2))
    r = rtt.cat([a, b])
    assert r.dtype == expected
    np.testing.assert_array_equal(np_of(r).astype(np.complex128),
                                  np.concatenate([na, nb]).astype(np.complex128))


def test_cat_skips_legacy_empty_and_handles_empty():
    a, na = make((2, 3))
    e = rtt.tensor([])                     # shape (0,), float32
    check(rtt.cat([e, a, e]), na)
    r = rtt.cat([a.to(rtt.int64), e])      # skipped tensors still take part in promotion
    assert r.dtype == rtt.float32
    assert tuple(rtt.cat([e, e]).shape) == (0,)
    z = rtt.zeros(0, 3)
    check(rtt.cat([z, a, z]), na)
    check(rtt.cat([rtt.zeros(2, 0), a], 1), na)
    assert tuple(rtt.cat([rtt.zeros(2, 0), rtt.zeros(2, 0)], 1).shape) == (2, 0)


def test_cat_errors():
    a = rtt.zeros(2, 2)
    with pytest.raises(RuntimeError, match=r"^Sizes of tensors must match except in dimension 1\. "
                       r"Expected size 2 but got size 3 for tensor number 1 in the list\.$"):
        rtt.cat([a, rtt.zeros(3, 2)], 1)
    with pytest.raises(RuntimeError, match=r"zero-dimensional tensor \(at position 0\) cannot be "
                       "concatenated"):
        rtt.cat([rtt.tensor(1.0), rtt.tensor(2.0)])
    with pytest.raises(RuntimeError, match="expected a non-empty list of Tensors"):
        rtt.cat([])
    with pytest.raises(RuntimeError, match="Tensors must have same number of dimensions: got 2 and 3"):
        rtt.cat([a, rtt.zeros(2, 2, 2)])
    with pytest.raises(IndexError, match="Dimension out of range"):
        rtt.cat([a, a], 2)
    with pytest.raises(TypeError, match="must be tuple of Tensors"):
        rtt.cat(a)
    with pytest.raises(TypeError):
        rtt.cat([a, 1])


def test_cat_out():
    a, na = make((2, 3), "int32")
    out = rtt.empty(4, 3, dtype=rtt.int32)
    assert rtt.cat([a, a], out=out) is out
    check(out, np.concatenate([na, na]))
    out64 = rtt.empty(4, 3, dtype=rtt.float64)      # a wider out dtype is fine
    rtt.cat([a, a], out=out64)
    check(out64, np.concatenate([na, na]))
    empty_out = rtt.empty(0, dtype=rtt.int32)       # resized silently when it has no elements
    rtt.cat([a, a], 1, out=empty_out)
    check(empty_out, np.concatenate([na, na], 1))
    wrong = rtt.empty(2, dtype=rtt.int32)
    with pytest.warns(UserWarning, match="was resized"):
        rtt.cat([a, a], out=wrong)
    check(wrong, np.concatenate([na, na]))
    with pytest.raises(RuntimeError, match="can't be cast"):
        rtt.cat([a.float()], out=rtt.empty(2, 3, dtype=rtt.int32))
    with pytest.raises(RuntimeError, match="single memory location"):
        rtt.cat([out, out], out=out)


@pytest.mark.parametrize("dtype_name", DTYPES)
def test_stack(dtype_name):
    a, na = make((2, 3), dtype_name, "transposed", 1)
    b, nb = make((2, 3), dtype_name, "sliced", 2)
    for dim in (0, 1, 2, -1, -3):
        check(rtt.stack([a, b], dim), np.stack([na, nb], dim), getattr(rtt, dtype_name))


def test_stack_zero_dim_and_errors():
    check(rtt.stack([rtt.tensor(1), rtt.tensor(2)]), np.array([1, 2]), rtt.int64)
    check(rtt.stack([rtt.zeros(0, 2)] * 3, 1), np.zeros((0, 3, 2)))
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got "
                       r"\[2\] at entry 0 and \[3\] at entry 1"):
        rtt.stack([rtt.zeros(2), rtt.zeros(3)])
    with pytest.raises(RuntimeError, match="stack expects a non-empty TensorList"):
        rtt.stack([])
    with pytest.raises(IndexError):
        rtt.stack([rtt.zeros(2)], 2)
    out = rtt.empty(2, 2)
    assert rtt.stack([rtt.ones(2), rtt.zeros(2)], out=out) is out
    check(out, np.array([[1, 1], [0, 0]]))


@pytest.mark.parametrize("shapes", [[(3,), (2,)], [(2, 3), (2, 1)], [(), ()], [(2, 2, 2), (2, 1, 2)]])
def test_hstack(shapes):
    ts = [make(s, "int32", seed=i) for i, s in enumerate(shapes)]
    check(rtt.hstack([t for t, _ in ts]), np.hstack([a for _, a in ts]))


@pytest.mark.parametrize("shapes", [[(3,), (3,)], [(2, 3), (1, 3)], [(), ()], [(2, 2, 2), (1, 2, 2)]])
def test_vstack_row_stack(shapes):
    ts = [make(s, "float64", seed=i) for i, s in enumerate(shapes)]
    check(rtt.vstack([t for t, _ in ts]), np.vstack([a for _, a in ts]))
    check(rtt.row_stack([t for t, _ in ts]), np.vstack([a for _, a in ts]))


@pytest.mark.parametrize("shapes", [[(3,), (3,)], [(2, 3), (2, 3)], [(), ()], [(2, 2, 1), (2, 2, 3)]])
def test_dstack(shapes):
    ts = [make(s, "int16", seed=i) for i, s in enumerate(shapes)]
    check(rtt.dstack([t for t, _ in ts]), np.dstack([a for _, a in ts]))


@pytest.mark.parametrize("shapes", [[(3,), (3,)], [(3,), (3, 2)], [(), ()], [(2, 2), (2,)]])
def test_column_stack(shapes):
    ts = [make(s, "int64", seed=i) for i, s in enumerate(shapes)]
    check(rtt.column_stack([t for t, _ in ts]), np.column_stack([a for _, a in ts]))


def test_stack_family_errors():
    for fn in (rtt.hstack, rtt.vstack, rtt.dstack, rtt.column_stack):
        with pytest.raises(RuntimeError, match="non-empty TensorList"):
            fn([])


# ---------------------------------------------------------------------------------------
# tril / triu

@pytest.mark.parametrize("dtype_name", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_tril_triu(dtype_name, layout):
    t, a = make((2, 3, 4), dtype_name, layout)
    for k in (-4, -1, 0, 1, 2, 5):
        check(rtt.tril(t, k), np.tril(a, k))
        check(rtt.triu(t, diagonal=k), np.triu(a, k))
        check(t.tril(k), np.tril(a, k))
        check(t.triu(k), np.triu(a, k))
    check(t, a)     # inputs untouched


@pytest.mark.parametrize("layout", LAYOUTS)
def test_tril_triu_inplace(layout):
    for name, ref in (("tril_", np.tril), ("triu_", np.triu)):
        base, a = make((4, 5), "float32", layout)
        r = getattr(base, name)(1)
        assert r is base
        check(base, ref(a, 1))


def test_tril_triu_inplace_on_a_view_writes_the_base():
    base = rtt.ones(4, 4)
    base.t().triu_()
    check(base, np.tril(np.ones((4, 4))))


def test_tril_out_and_errors():
    t, a = make((3, 3))
    out = rtt.empty(3, 3)
    assert rtt.tril(t, out=out) is out
    check(out, np.tril(a))
    with pytest.raises(RuntimeError, match="tril: input tensor must have at least 2 dimensions"):
        rtt.tril(rtt.zeros(3))
    with pytest.raises(RuntimeError, match="triu: input tensor must have at least 2 dimensions"):
        rtt.zeros(()).triu()
    check(rtt.tril(rtt.zeros(0, 3)), np.zeros((0, 3)))


def test_tril_large_parallel():
    t = rtt.ones(300, 400)
    check(t.tril(-3), np.tril(np.ones((300, 400)), -3))
    check(t.triu(7), np.triu(np.ones((300, 400)), 7))


# ---------------------------------------------------------------------------------------
# flip / roll / rot90

@pytest.mark.parametrize("dtype_name", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_flip(dtype_name, layout):
    t, a = make((2, 3, 4), dtype_name, layout)
    for dims in ([0], [1], [2], [0, 2], [-1, 0, 1], (1,), []):
        check(rtt.flip(t, dims), np.flip(a, tuple(dims)) if dims else a)
        check(t.flip(dims), np.flip(a, tuple(dims)) if dims else a)
    r = t.flip([0])
    assert r.is_contiguous() and not r._is_view_of(t)


def test_flip_special():
    check(rtt.flip(rtt.tensor(3.0), [0]), np.array(3.0))
    check(rtt.flip(rtt.zeros(0, 2), [0, 1]), np.zeros((0, 2)))
    e = rtt.ones(3, 1).expand(3, 4)
    check(e.flip(1), np.ones((3, 4)))
    x = rtt.tensor(np.arange(100000, dtype=np.float32).reshape(100, 1000))
    check(x.flip(1), np.arange(100000, dtype=np.float32).reshape(100, 1000)[:, ::-1])
    with pytest.raises(RuntimeError, match="dims has duplicates"):
        rtt.flip(rtt.zeros(2, 2), [0, -2])
    with pytest.raises(IndexError):
        rtt.flip(rtt.zeros(2, 2), [2])


def test_fliplr_flipud():
    t, a = make((3, 4, 2), "int8", "sliced")
    check(rtt.fliplr(t), np.fliplr(a))
    check(rtt.flipud(t), np.flipud(a))
    check(t.fliplr(), np.fliplr(a))
    with pytest.raises(RuntimeError, match="Input must be >= 2-d."):
        rtt.fliplr(rtt.zeros(3))
    with pytest.raises(RuntimeError, match="Input must be >= 1-d."):
        rtt.flipud(rtt.zeros(()))


@pytest.mark.parametrize("dtype_name", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_roll(dtype_name, layout):
    t, a = make((3, 4, 5), dtype_name, layout)
    for shifts, dims in ((1, 0), (-2, 1), (7, -1), ((1, 2), (0, 2)), ((5, -3, 1), (0, 1, 2)),
                         (0, 0), ((1, 1), (1, 1))):
        check(rtt.roll(t, shifts, dims), np.roll(a, shifts, dims))
        check(t.roll(shifts, dims), np.roll(a, shifts, dims))
    for shifts in (0, 3, -4, 61):
        check(rtt.roll(t, shifts), np.roll(a, shifts))
        check(t.roll((shifts,)), np.roll(a, shifts))


def test_roll_special_and_errors():
    check(rtt.roll(rtt.tensor(5), 3), np.array(5))
    check(rtt.roll(rtt.tensor(5), 3, 0), np.array(5))
    check(rtt.roll(rtt.zeros(0, 3), 2, 1), np.zeros((0, 3)))
    with pytest.raises(RuntimeError, match="shifts and dimensions must align. shifts: 2, dims:1"):
        rtt.roll(rtt.zeros(2, 2), (1, 1), 0)
    with pytest.raises(IndexError):
        rtt.roll(rtt.zeros(2, 2), 1, 2)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_rot90(layout):
    t, a = make((3, 4, 2), "int64", layout)
    for k in range(-5, 6):
        for dims in ((0, 1), (1, 0), (0, 2), (-1, -2)):
            check(rtt.rot90(t, k, dims), np.rot90(a, k, dims))
            check(t.rot90(k, dims), np.rot90(a, k, dims))
    check(rtt.rot90(t), np.rot90(a))


def test_rot90_errors():
    with pytest.raises(RuntimeError, match="expected total rotation dims == 2, but got dims = 3"):
        rtt.rot90(rtt.zeros(2, 2, 2), 1, (0, 1, 2))
    with pytest.raises(RuntimeError, match="expected total dims >= 2, but got total dims = 1"):
        rtt.rot90(rtt.zeros(2))
    with pytest.raises(RuntimeError, match="expected rotation dims to be different"):
        rtt.rot90(rtt.zeros(2, 2), 1, (0, -2))


# ---------------------------------------------------------------------------------------
# repeat / tile / repeat_interleave

@pytest.mark.parametrize("dtype_name", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_repeat(dtype_name, layout):
    t, a = make((2, 3), dtype_name, layout)
    for sizes in ((1, 1), (2, 3), (3, 1, 2), (2, 1, 1, 1), (0, 2), (1, 4)):
        check(t.repeat(*sizes), np.tile(a, sizes))
        check(t.repeat(sizes), np.tile(a, sizes))
    r = t.repeat(1, 1)
    assert not r._is_view_of(t)


def test_repeat_special_and_errors():
    check(rtt.tensor(7).repeat(3), np.array([7, 7, 7]))
    check(rtt.tensor(7).repeat(()), np.array(7))
    check(rtt.ones(3, 1).expand(3, 2).repeat(2, 2), np.ones((6, 4)))
    # many dims: more than 32 view dims are split in steps
    x = rtt.ones(*([1] * 20))
    assert tuple(x.repeat(*([2] * 20)).shape) == (2,) * 20
    with pytest.raises(RuntimeError, match="Number of dimensions of repeat dims can not be smaller "
                       "than number of dimensions of tensor"):
        rtt.zeros(2, 2).repeat(2)
    with pytest.raises(RuntimeError, match="negative dimension"):
        rtt.zeros(2).repeat(-1)


def test_tile():
    t, a = make((2, 3), "float32", "transposed")
    for dims in ((2,), (2, 2), (1, 2, 3), (), 3):
        check(rtt.tile(t, dims), np.tile(a, dims))
        check(t.tile(dims), np.tile(a, dims))


@pytest.mark.parametrize("dtype_name", DTYPES)
def test_repeat_interleave(dtype_name):
    t, a = make((2, 3), dtype_name, "transposed")
    check(rtt.repeat_interleave(t, 2), np.repeat(a, 2))
    check(t.repeat_interleave(3, dim=1), np.repeat(a, 3, 1))
    check(t.repeat_interleave(2, 0), np.repeat(a, 2, 0))
    reps = rtt.tensor([1, 0, 2])
    check(t.repeat_interleave(reps, 1), np.repeat(a, [1, 0, 2], 1))
    check(rtt.repeat_interleave(t, rtt.tensor([2]), 1), np.repeat(a, 2, 1))
    check(rtt.repeat_interleave(t, rtt.tensor([1, 2, 3, 0, 1, 1])), np.repeat(a, [1, 2, 3, 0, 1, 1]))
    check(rtt.repeat_interleave(t, 0, 1), np.repeat(a, 0, 1))


def test_repeat_interleave_single_tensor_and_errors():
    check(rtt.repeat_interleave(rtt.tensor([1, 2, 0, 3])), np.array([0, 1, 1, 3, 3, 3]), rtt.int64)
    check(rtt.repeat_interleave(rtt.tensor(5), 2), np.array([5, 5]))
    with pytest.raises(RuntimeError, match=r"repeats must have the same size as input along dim, but "
                       r"got repeats.size\(0\) = 3 and input.size\(0\) = 2"):
        rtt.repeat_interleave(rtt.zeros(2), rtt.tensor([1, 2, 3]))
    with pytest.raises(RuntimeError, match="repeats can not be negative"):
        rtt.repeat_interleave(rtt.zeros(2), -1)
    with pytest.raises(RuntimeError, match="repeats can not be negative"):
        rtt.repeat_interleave(rtt.zeros(2), rtt.tensor([1, -1]))
    with pytest.raises(RuntimeError, match="repeats has to be Long or Int tensor"):
        rtt.repeat_interleave(rtt.zeros(2), rtt.tensor([1.0, 1.0]))


# ---------------------------------------------------------------------------------------
# broadcasting, meshgrid, atleast

def test_broadcast_tensors_views():
    a, na = make((3, 1), "int32")
    b, nb = make((4,), "int32", seed=1)
    ra, rb = rtt.broadcast_tensors(a, b)
    ea, eb = np.broadcast_arrays(na, nb)
    check(ra, ea)
    check(rb, eb)
    assert ra._is_view_of(a) and rb._is_view_of(b)
    assert rb.stride() == (0, 1)
    with pytest.raises(RuntimeError, match=r"\[3, 1\].*\[2, 2\]|\[2, 2\].*\[3, 1\]"):
        rtt.broadcast_tensors(a, rtt.zeros(2, 2))


def test_broadcast_shapes_and_to():
    assert rtt.broadcast_shapes((2, 1), (3,), ()) == (2, 3)
    assert rtt.broadcast_shapes(3, (2, 1)) == (2, 3)
    assert isinstance(rtt.broadcast_shapes((1,)), rtt.Size)
    assert rtt.broadcast_shapes() == ()
    with pytest.raises(RuntimeError, match=r"\[2, 3\].*\[4\]"):
        rtt.broadcast_shapes((2, 3), (4,))
    t = rtt.tensor([1, 2, 3])
    r = rtt.broadcast_to(t, (2, 3))
    assert r._is_view_of(t) and r.stride() == (0, 1)
    check(r, np.broadcast_to(np.array([1, 2, 3]), (2, 3)))
    with pytest.raises(RuntimeError):
        rtt.broadcast_to(t, (2, 2))


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid(indexing):
    x, nx = make((3,), "float32")
    y, ny = make((4,), "float32", seed=1)
    z, nz = make((2,), "float32", seed=2)
    for args, nargs in (((x, y), (nx, ny)), ((x, y, z), (nx, ny, nz)), ((x,), (nx,))):
        got = rtt.meshgrid(*args, indexing=indexing)
        exp = np.meshgrid(*nargs, indexing=indexing)
        assert len(got) == len(exp)
        for g, e in zip(got, exp):
            check(g, e)
        got = rtt.meshgrid(list(args), indexing=indexing)
        for g, e in zip(got, exp):
            check(g, e)
    g = rtt.meshgrid(x, rtt.tensor(5.0), indexing=indexing)
    assert g[0]._is_view_of(x)


def test_meshgrid_warns_and_errors():
    with pytest.warns(UserWarning, match="indexing argument"):
        rtt.meshgrid(rtt.zeros(2), rtt.zeros(3))
    with pytest.raises(RuntimeError, match="Expected 0D or 1D tensor"):
        rtt.meshgrid(rtt.zeros(2, 2), indexing="ij")
    with pytest.raises(RuntimeError, match="same dtype"):
        rtt.meshgrid(rtt.zeros(2), rtt.zeros(2, dtype=rtt.int64), indexing="ij")
    with pytest.raises(RuntimeError, match="indexing must be one of"):
        rtt.meshgrid(rtt.zeros(2), indexing="ab")


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 4), (1, 2, 3, 4)])
def test_atleast(shape):
    t, a = make(shape, "int64")
    for fn, ref in ((rtt.atleast_1d, np.atleast_1d), (rtt.atleast_2d, np.atleast_2d),
                    (rtt.atleast_3d, np.atleast_3d)):
        r = fn(t)
        check(r, ref(a))
        assert r._is_view_of(t)
        rs = fn(t, t)
        assert isinstance(rs, tuple) and len(rs) == 2
        rl = fn([t, t])
        assert isinstance(rl, tuple) and len(rl) == 2


# ---------------------------------------------------------------------------------------
# diag family, block_diag, cartesian_prod

@pytest.mark.parametrize("dtype_name", DTYPES)
def test_diag(dtype_name):
    v, nv = make((3,), dtype_name, "sliced")
    m, nm = make((3, 4), dtype_name, "transposed")
    for k in (-2, -1, 0, 1, 3):
        check(rtt.diag(v, k), np.diag(nv, k))
        check(v.diag(k), np.diag(nv, k))
        check(rtt.diag(m, k), np.diag(nm, k))
    r = rtt.diag(m)
    assert not r._is_view_of(m)
    check(rtt.diagflat(m, 1), np.diagflat(nm, 1))
    check(rtt.diagflat(rtt.tensor(2)), np.diagflat(2))
    with pytest.raises(RuntimeError, match=r"diag\(\): Supports 1D or 2D tensors. Got 3D"):
        rtt.diag(rtt.zeros(2, 2, 2))
    out = rtt.empty(0)
    rtt.diag(rtt.ones(2), out=out)
    check(out, np.eye(2))


def test_diag_embed():
    t, a = make((2, 3), "float32", "transposed")

    def ref(a, offset, d1, d2):
        n = a.shape[-1] + abs(offset)
        out = np.zeros(a.shape[:-1] + (n, n), a.dtype)
        idx = np.arange(a.shape[-1])
        r, c = (idx, idx + offset) if offset >= 0 else (idx - offset, idx)
        out[..., r, c] = a
        nd = out.ndim
        d1, d2 = d1 % nd, d2 % nd
        # move the two new dims (the last two) to d1, d2
        return np.moveaxis(out, (-2, -1), (d1, d2))

    for offset, d1, d2 in ((0, -2, -1), (1, 0, 2), (-1, 2, 0), (2, 1, 0)):
        check(rtt.diag_embed(t, offset, d1, d2), ref(a, offset, d1, d2))
        check(t.diag_embed(offset, d1, d2), ref(a, offset, d1, d2))
    with pytest.raises(RuntimeError, match="diagonal dimensions cannot be identical"):
        rtt.diag_embed(t, 0, 1, 1)


def test_block_diag():
    a = rtt.tensor([[1, 2], [3, 4]])
    b = rtt.tensor([5.0, 6.0, 7.0])
    c = rtt.tensor(8)
    r = rtt.block_diag(a, b, c)
    assert r.dtype == rtt.float32
    check(r, np.array([[1, 2, 0, 0, 0, 0], [3, 4, 0, 0, 0, 0], [0, 0, 5, 6, 7, 0],
                       [0, 0, 0, 0, 0, 8]]))
    check(rtt.block_diag(a.t(), rtt.zeros(0, 2, dtype=rtt.int64)),
          np.array([[1, 3, 0, 0], [2, 4, 0, 0]]))
    with pytest.raises(RuntimeError, match="Input 1 has 3 dimensions"):
        rtt.block_diag(a, rtt.zeros(1, 1, 1))


def test_cartesian_prod():
    a = rtt.tensor([1, 2, 3])
    b = rtt.tensor([4, 5])
    c = rtt.tensor([6, 7])
    check(rtt.cartesian_prod(a, b, c), np.array(list(itertools.product([1, 2, 3], [4, 5], [6, 7]))))
    check(rtt.cartesian_prod(a), np.array([1, 2, 3]))


# ---------------------------------------------------------------------------------------
# functional forms of the view methods

def test_functional_view_wrappers():
    t, a = make((2, 3, 4), "float32")
    pairs = [
        (rtt.reshape(t, (4, 6)), a.reshape(4, 6)),
        (rtt.reshape(t, (-1,)), a.reshape(-1)),
        (rtt.flatten(t, 1), a.reshape(2, 12)),
        (rtt.unflatten(t, 2, (2, 2)), a.reshape(2, 3, 2, 2)),
        (rtt.squeeze(t[:, :1], 1), a[:, 0]),
        (rtt.unsqueeze(t, -1), a[..., None]),
        (rtt.transpose(t, 0, 2), a.transpose(2, 1, 0)),
        (rtt.swapaxes(t, 0, 1), a.swapaxes(0, 1)),
        (rtt.swapdims(t, 1, 2), a.swapaxes(1, 2)),
        (rtt.permute(t, (2, 0, 1)), a.transpose(2, 0, 1)),
        (rtt.movedim(t, 0, -1), np.moveaxis(a, 0, -1)),
        (rtt.moveaxis(t, (0, 1), (2, 0)), np.moveaxis(a, (0, 1), (2, 0))),
        (rtt.t(t[0]), a[0].T),
        (rtt.narrow(t, 2, 1, 2), a[:, :, 1:3]),
        (rtt.select(t, 1, -1), a[:, -1]),
        (rtt.diagonal(t, 1, 1, 2), np.diagonal(a, 1, 1, 2)),
        (rtt.as_strided(t, (2, 2), (1, 4), 1), np.lib.stride_tricks.as_strided(
            a.reshape(-1)[1:], (2, 2), (4, 16))),
    ]
    for r, e in pairs:
        check(r, e)
        assert r._is_view_of(t)
    for got, exp in ((rtt.unbind(t, 1), [a[:, i] for i in range(3)]),
                     (rtt.split(t, 3, 2), [a[..., :3], a[..., 3:]]),
                     (rtt.split(t, [1, 3], 2), [a[..., :1], a[..., 1:]]),
                     (rtt.chunk(t, 2, 1), [a[:, :2], a[:, 2:]]),
                     (rtt.tensor_split(t, 3, 2), np.array_split(a, 3, 2)),
                     (rtt.tensor_split(t, [1, 3], 2), np.split(a, [1, 3], 2))):
        assert len(got) == len(exp)
        for g, e in zip(got, exp):
            check(g, e)
    c = rtt.clone(t.t() if t.ndim == 2 else t.transpose(0, 2))
    assert c.is_contiguous() and not c._is_view_of(t)
    assert rtt.numel(t) == 24
    assert rtt.is_tensor(t) and not rtt.is_tensor(a)
    assert rtt.is_floating_point(t) and not rtt.is_floating_point(t.long())
    assert rtt.is_complex(t.to(rtt.complex64)) and not rtt.is_complex(t)


def test_is_nonzero():
    assert rtt.is_nonzero(rtt.tensor([1]))
    assert not rtt.is_nonzero(rtt.tensor(0.0))
    assert rtt.tensor([True]).is_nonzero()
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with no values is ambiguous"):
        rtt.is_nonzero(rtt.tensor([]))
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"):
        rtt.is_nonzero(rtt.tensor([1, 2]))


def test_no_unexpected_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rtt.cat([rtt.ones(2), rtt.ones(3)])
        rtt.meshgrid(rtt.ones(2), indexing="ij")


def test_huge_sizes_raise_instead_of_allocating():
    for fn in (lambda: rtt.ones(2).repeat(2 ** 40, 2 ** 40),
               lambda: rtt.diag(rtt.ones(2), 2 ** 40),
               lambda: rtt.repeat_interleave(rtt.ones(3), 2 ** 62),
               lambda: rtt.diag_embed(rtt.ones(2), 2 ** 40),
               lambda: rtt.tile(rtt.ones(2), (2 ** 31, 2 ** 31))):
        with pytest.raises(RuntimeError, match="overflowed|negative dimension"):
            fn()
    check(rtt.tril(rtt.ones(2, 3), 2 ** 63 - 1), np.ones((2, 3)))
    check(rtt.triu(rtt.ones(2, 3), -2 ** 63), np.ones((2, 3)))


def test_bad_arguments_raise():
    t = rtt.ones(2, 2)
    for fn in (lambda: rtt.flip(t, None), lambda: rtt.flip(t, "a"), lambda: rtt.roll(t, None),
               lambda: rtt.tril(t, None), lambda: rtt.cat(None), lambda: rtt.stack([t, None]),
               lambda: t.repeat("a"), lambda: rtt.rot90(t, 1, None), lambda: rtt.diag(None),
               lambda: rtt.meshgrid(None, indexing="ij"), lambda: rtt.broadcast_shapes("ab"),
               lambda: rtt.repeat_interleave(t, None, 0), lambda: rtt.block_diag(t, 3)):
        with pytest.raises((TypeError, RuntimeError, IndexError, ValueError)):
            fn()


def test_roll_many_dims():
    a = np.arange(2 ** 10).reshape((2,) * 10)
    t = rtt.tensor(a)
    dims = tuple(range(10))
    check(rtt.roll(t, (1,) * 10, dims), np.roll(a, (1,) * 10, dims))
    check(rtt.roll(t.permute(*reversed(dims)), (1, 0, 1, 1, 0, 1, 1, 1, 1, 3), dims),
          np.roll(a.transpose(), (1, 0, 1, 1, 0, 1, 1, 1, 1, 3), dims))
