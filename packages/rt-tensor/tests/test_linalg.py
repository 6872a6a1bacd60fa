"""Linear algebra (rt_tensor._linalg, _einsum) against numpy: matmul's 1-D and broadcasting
rules, mm/bmm/mv/dot/vdot/inner/outer/addmm/addmv/addbmm/baddbmm/tensordot/kron/einsum,
every dtype PyTorch supports, strided operands, empty dims, out=, alpha/beta, errors, and
results that do not depend on the thread count."""
import numpy as np
import pytest

import rt_tensor as rtt

BLAS = ("float32", "float64", "complex64", "complex128")
HALF = ("float16", "bfloat16")
INTS = ("uint8", "int8", "int16", "int32", "int64")
ALL = BLAS + HALF + INTS
TOL = {"float32": 2e-5, "float64": 1e-12, "complex64": 2e-5, "complex128": 1e-12,
       "float16": 2e-3, "bfloat16": 1.6e-2}


def make(shape, dt, rng):
    """(rt tensor, numpy array of the same values in a wide dtype)."""
    if dt in INTS:
        lo = 0 if dt == "uint8" else -4
        a = rng.integers(lo, 5, size=shape).astype(np.int64)
        return rtt.tensor(a).to(getattr(rtt, dt)), a
    if dt in ("complex64", "complex128"):
        a = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
        t = rtt.tensor(a.astype(dt))
        return t, t.numpy().astype(np.complex128)
    a = rng.standard_normal(shape).astype(np.float32)
    t = rtt.tensor(a).to(getattr(rtt, dt))
    return t, t.to(rtt.float64).numpy().copy()


def check(result, expected, dt):
    assert result.dtype == getattr(rtt, dt), (result.dtype, dt)
    assert tuple(result.shape) == np.shape(expected), (tuple(result.shape), np.shape(expected))
    got = result.to(rtt.complex128 if dt.startswith("complex") else rtt.float64).numpy() \
        if dt not in INTS else result.numpy()
    if dt in INTS:
        exp = np.asarray(expected).astype(np.int64).astype(dt)
        np.testing.assert_array_equal(got, exp)
    else:
        tol = TOL[dt]
        scale = max(1.0, float(np.max(np.abs(expected))) if np.size(expected) else 1.0)
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol * scale)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# ---- matmul: every rank combination ---------------------------------------------------------
SHAPES = [
    ((5,), (5,)), ((3, 5), (5,)), ((5,), (5, 4)), ((3, 5), (5, 4)),
    ((2, 3, 5), (5, 4)), ((3, 5), (2, 5, 4)), ((2, 3, 5), (5,)), ((5,), (2, 5, 4)),
    ((2, 3, 5), (2, 5, 4)), ((2, 1, 3, 5), (4, 5, 2)), ((1, 3, 5), (6, 5, 2)),
    ((2, 1, 3, 5), (1, 4, 5, 2)), ((7, 1, 5), (7, 5, 1)),
]


@pytest.mark.parametrize("dt", ALL)
@pytest.mark.parametrize("sa,sb", SHAPES)
def test_matmul_shapes_dtypes(sa, sb, dt, rng):
    a, an = make(sa, dt, rng)
    b, bn = make(sb, dt, rng)
    check(rtt.matmul(a, b), np.matmul(an, bn), dt)
    check(a @ b, np.matmul(an, bn), dt)
    check(a.matmul(b), np.matmul(an, bn), dt)


@pytest.mark.parametrize("dt", BLAS + ("int64", "float16"))
def test_matmul_strided_operands(dt, rng):
    a, an = make((6, 8), dt, rng)
    b, bn = make((8, 10), dt, rng)
    # transposed views go to BLAS as trans flags; step slices need a copy
    check(a.t() @ a, an.T @ an, dt)
    check(b @ b.t(), bn @ bn.T, dt)
    check(a.t().t() @ b, an @ bn, dt)
    check(a[::2, ::2] @ b[::2, 1::2], an[::2, ::2] @ bn[::2, 1::2], dt)
    check(a[1:4] @ b[:, 2:7], an[1:4] @ bn[:, 2:7], dt)
    check(a[1, :] @ b[::1, 3], an[1, :] @ bn[:, 3], dt)
    check(a[:, 1] @ a[:, 2], an[:, 1] @ an[:, 2], dt)
    # broadcast (stride 0) batch dims and matrix dims
    x, xn = make((1, 4, 8), dt, rng)
    check(x.expand(3, 4, 8) @ b, np.broadcast_to(xn, (3, 4, 8)) @ bn, dt)
    v, vn = make((8,), dt, rng)
    check(v.expand(5, 8) @ b, np.broadcast_to(vn, (5, 8)) @ bn, dt)
    p, pn = make((3, 8, 6), dt, rng)
    check(p.transpose(1, 2) @ b, pn.transpose(0, 2, 1) @ bn, dt)
    check(p.permute(2, 0, 1)[:, 0] @ b, pn.transpose(2, 0, 1)[:, 0] @ bn, dt)


@pytest.mark.parametrize("dt", BLAS + HALF)
def test_matmul_large_parallel_path(dt, rng):
    # big enough to be split into blocks on the pool, with odd sizes
    a, an = make((300, 257), dt, rng)
    b, bn = make((257, 131), dt, rng)
    check(a @ b, an @ bn, dt)
    check(b.t() @ a.t(), bn.T @ an.T, dt)
    w, wn = make((37, 700), dt, rng)
    u, un = make((700, 520), dt, rng)
    check(w @ u, wn @ un, dt)          # wide: split by columns


def test_matmul_batched_parallel_path(rng):
    a, an = make((64, 20, 30), "float32", rng)
    b, bn = make((64, 30, 10), "float32", rng)
    check(a @ b, an @ bn, "float32")
    a, an = make((3, 200, 150), "float64", rng)
    b, bn = make((150, 170), "float64", rng)
    check(a @ b, an @ bn, "float64")
    check(a.transpose(1, 2).transpose(1, 2) @ b, an @ bn, "float64")
    check(a[:, ::2] @ b, an[:, ::2] @ bn, "float64")
    check(a @ b.expand(3, 150, 170), an @ bn, "float64")
    # many small products spread over the pool; few big ones split by rows
    a, an = make((64, 40, 50), "float32", rng)
    b, bn = make((64, 50, 30), "float32", rng)
    check(a @ b, an @ bn, "float32")
    check(a.transpose(1, 2).contiguous().transpose(1, 2) @ b, an @ bn, "float32")
    a, an = make((2, 300, 260), "float64", rng)
    b, bn = make((260, 250), "float64", rng)
    check(a @ b.expand(2, 260, 250), an @ bn, "float64")
    check(rtt.bmm(a, b.expand(2, 260, 250)), an @ bn, "float64")
    a, an = make((5, 3, 2), "int32", rng)
    b, bn = make((5, 2, 4), "int32", rng)
    check(a @ b, an @ bn, "int32")
    a, an = make((40, 60, 70), "int64", rng)
    b, bn = make((70, 50), "int64", rng)
    check(a @ b, an @ bn, "int64")
    check(a.transpose(0, 1) @ b, an.transpose(1, 0, 2) @ bn, "int64")


@pytest.mark.parametrize("dt", ("float32", "complex128", "int16", "bfloat16"))
def test_forced_split_paths(dt, rng):
    """Every product split into tiny row/column/batch blocks on the pool gives numpy's result."""
    from rt_tensor import _linalg
    saved = _linalg._gemm_tuning()
    n0 = rtt.get_num_threads()
    try:
        rtt.set_num_threads(2)
        _linalg._gemm_tuning(serial_macs=1, min_block=1, max_block=2)
        for sa, sb in [((9, 5), (5, 4)), ((3, 5), (5, 11)), ((6, 7, 5), (5, 3)),
                       ((2, 9, 5), (2, 5, 8)), ((40, 2, 3), (40, 3, 2))]:
            a, an = make(sa, dt, rng)
            b, bn = make(sb, dt, rng)
            check(a @ b, an @ bn, dt)
            check(a.transpose(-1, -2).contiguous().transpose(-1, -2) @ b, an @ bn, dt)
    finally:
        _linalg._gemm_tuning(**saved)
        rtt.set_num_threads(n0)


def test_thread_count_independence(rng):
    a, _ = make((4, 300, 257), "float32", rng)
    b, _ = make((257, 411), "float32", rng)
    c, _ = make((513, 700), "float64", rng)
    d, _ = make((700, 301), "float64", rng)
    n0 = rtt.get_num_threads()
    try:
        rtt.set_num_threads(1)
        r1, s1 = (a @ b).numpy().copy(), (c @ d).numpy().copy()
        rtt.set_num_threads(2)
        r2, s2 = (a @ b).numpy().copy(), (c @ d).numpy().copy()
    finally:
        rtt.set_num_threads(n0)
    np.testing.assert_allclose(r1, r2, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(s1, s2, rtol=1e-12, atol=1e-10)


# ---- empty dims ------------------------------------------------------------------------------
@pytest.mark.parametrize("dt", ("float32", "complex128", "int32", "bfloat16"))
@pytest.mark.parametrize("sa,sb", [((0, 3), (3, 4)), ((3, 0), (0, 4)), ((3, 4), (4, 0)),
                                   ((0,), (0,)), ((2, 0, 3), (3, 5)), ((2, 3, 0), (2, 0, 5)),
                                   ((0, 3, 4), (4, 2)), ((0,), (0, 4))])
def test_matmul_empty(sa, sb, dt, rng):
    a, an = make(sa, dt, rng)
    b, bn = make(sb, dt, rng)
    check(a @ b, np.matmul(an, bn), dt)


def test_addmm_k_zero_scales_input():
    c = rtt.tensor([[1.0, 2.0], [3.0, 4.0]])
    a = rtt.tensor(np.zeros((2, 0), np.float32))
    b = rtt.tensor(np.zeros((0, 2), np.float32))
    np.testing.assert_allclose(rtt.addmm(c, a, b, beta=2).numpy(), [[2, 4], [6, 8]])
    np.testing.assert_allclose(rtt.addmm(c, a, b, beta=0).numpy(), np.zeros((2, 2)))


# ---- out= ------------------------------------------------------------------------------------
def test_out(rng):
    a, an = make((3, 5), "float32", rng)
    b, bn = make((5, 4), "float32", rng)
    out = rtt.tensor(np.zeros((3, 4), np.float32))
    r = rtt.matmul(a, b, out=out)
    assert r is out
    check(out, an @ bn, "float32")
    # non-contiguous out
    base = rtt.tensor(np.zeros((4, 3), np.float32))
    r = rtt.mm(a, b, out=base.t())
    check(base.t(), an @ bn, "float32")
    # wrong shape: resized with PyTorch's warning; empty: silently
    out = rtt.tensor(np.zeros((2, 2), np.float32))
    with pytest.warns(UserWarning, match="resized"):
        r = rtt.matmul(a, b, out=out)
    assert r is out and tuple(out.shape) == (3, 4)
    check(out, an @ bn, "float32")
    out = rtt.tensor(np.zeros((0,), np.float32))
    rtt.matmul(a, b, out=out)
    check(out, an @ bn, "float32")
    # out dtype must match
    with pytest.raises(RuntimeError, match="dtype"):
        rtt.matmul(a, b, out=rtt.tensor(np.zeros((3, 4), np.float64)))
    # 1-D and batched
    v, vn = make((5,), "float32", rng)
    out = rtt.tensor(np.zeros((3,), np.float32))
    assert rtt.matmul(a, v, out=out) is out
    check(out, an @ vn, "float32")
    out = rtt.tensor(np.zeros((), np.float32))
    assert rtt.dot(v, v, out=out) is out
    check(out, vn @ vn, "float32")
    x, xn = make((2, 3, 5), "float16", rng)
    y, yn = make((2, 5, 4), "float16", rng)
    out = rtt.tensor(np.zeros((2, 3, 4), np.float16))
    assert rtt.bmm(x, y, out=out) is out
    check(out, xn @ yn, "float16")
    # out aliasing an input is computed into a temporary first
    sq, sqn = make((4, 4), "float64", rng)
    rtt.matmul(sq, sq, out=sq)
    check(sq, sqn @ sqn, "float64")


# ---- mm, bmm, mv, dot, vdot, inner, outer -------------------------------------------------------
@pytest.mark.parametrize("dt", ALL)
def test_mm_bmm_mv(dt, rng):
    a, an = make((3, 4), dt, rng)
    b, bn = make((4, 5), dt, rng)
    check(rtt.mm(a, b), an @ bn, dt)
    check(a.mm(b), an @ bn, dt)
    x, xn = make((2, 3, 4), dt, rng)
    y, yn = make((2, 4, 5), dt, rng)
    check(rtt.bmm(x, y), xn @ yn, dt)
    check(x.bmm(y), xn @ yn, dt)
    check(rtt.bmm(x, y.transpose(1, 2).contiguous().transpose(1, 2)), xn @ yn, dt)
    v, vn = make((4,), dt, rng)
    check(rtt.mv(a, v), an @ vn, dt)
    check(a.mv(v), an @ vn, dt)
    check(rtt.mv(a.t().contiguous().t(), v), an @ vn, dt)


@pytest.mark.parametrize("dt", ALL)
def test_dot_vdot_inner_outer(dt, rng):
    v, vn = make((6,), dt, rng)
    w, wn = make((6,), dt, rng)
    check(rtt.dot(v, w), np.dot(vn, wn), dt)
    check(v.dot(w), np.dot(vn, wn), dt)
    check(rtt.vdot(v, w), np.vdot(vn, wn), dt)
    check(v.vdot(w), np.vdot(vn, wn), dt)
    check(rtt.dot(v[::2], w[1::2]), np.dot(vn[::2], wn[1::2]), dt)
    u, un = make((4,), dt, rng)
    check(rtt.outer(v, u), np.outer(vn, un), dt)
    check(rtt.ger(v, u), np.outer(vn, un), dt)
    check(v.outer(u), np.outer(vn, un), dt)
    check(v.ger(u), np.outer(vn, un), dt)
    a, an = make((2, 3, 6), dt, rng)
    b, bn = make((4, 6), dt, rng)
    check(rtt.inner(a, b), np.inner(an, bn), dt)
    check(a.inner(b), np.inner(an, bn), dt)
    check(rtt.inner(v, w), np.inner(vn, wn), dt)


def test_outer_promotes_and_bool(rng):
    i = rtt.tensor([1, 2, 3])
    f = rtt.tensor([0.5, 2.0])
    r = rtt.outer(i, f)
    assert r.dtype == rtt.float32
    np.testing.assert_allclose(r.numpy(), np.outer([1, 2, 3], [0.5, 2.0]))
    bt = rtt.tensor([True, False, True])
    r = rtt.outer(bt, rtt.tensor([True, True]))
    assert r.dtype == rtt.bool
    np.testing.assert_array_equal(r.numpy(), np.outer([True, False, True], [True, True]))
    r = rtt.inner(rtt.tensor(2.0), rtt.tensor([[1.0, 2.0]]))
    np.testing.assert_allclose(r.numpy(), [[2.0, 4.0]])


def test_vdot_conjugates_first():
    a = rtt.tensor([1 + 2j, 3 - 1j])
    b = rtt.tensor([2 - 1j, 1j])
    assert complex(rtt.vdot(a, b).item()) == pytest.approx(np.vdot([1 + 2j, 3 - 1j], [2 - 1j, 1j]))
    assert complex(rtt.dot(a, b).item()) == pytest.approx(np.dot([1 + 2j, 3 - 1j], [2 - 1j, 1j]))


def test_integer_wraparound():
    a = rtt.tensor([[100, 100]], dtype=rtt.int8)
    b = rtt.tensor([[2], [1]], dtype=rtt.int8)
    assert (a @ b).item() == np.int8(np.int64(300).astype(np.int8))
    a = rtt.tensor([[2 ** 62, 2 ** 62]], dtype=rtt.int64)
    b = rtt.tensor([[2], [1]], dtype=rtt.int64)
    assert (a @ b).item() == np.int64(-(2 ** 62))


# ---- addmm family ------------------------------------------------------------------------------
@pytest.mark.parametrize("dt", ALL)
def test_addmm_addmv_baddbmm_addbmm(dt, rng):
    cplx = dt.startswith("complex")
    ints = dt in INTS
    beta, alpha = (2, 3) if ints else ((0.5 - 1j, 2 + 0.5j) if cplx else (0.5, 2.0))
    a, an = make((3, 4), dt, rng)
    b, bn = make((4, 5), dt, rng)
    c, cn = make((3, 5), dt, rng)
    r1, r1n = make((5,), dt, rng)
    check(rtt.addmm(c, a, b), cn + an @ bn, dt)
    check(rtt.addmm(c, a, b, beta=beta, alpha=alpha), beta * cn + alpha * (an @ bn), dt)
    check(rtt.addmm(r1, a, b, beta=beta, alpha=alpha), beta * r1n + alpha * (an @ bn), dt)
    check(c.addmm(a, b, alpha=alpha), cn + alpha * (an @ bn), dt)
    cc = c.clone()
    assert cc.addmm_(a, b, beta=beta, alpha=alpha) is cc
    check(cc, beta * cn + alpha * (an @ bn), dt)
    v, vn = make((4,), dt, rng)
    y, yn = make((3,), dt, rng)
    check(rtt.addmv(y, a, v, beta=beta, alpha=alpha), beta * yn + alpha * (an @ vn), dt)
    check(y.addmv(a, v), yn + an @ vn, dt)
    x, xn = make((2, 3, 4), dt, rng)
    z, zn = make((2, 4, 5), dt, rng)
    s, sn = make((2, 3, 5), dt, rng)
    check(rtt.baddbmm(s, x, z, beta=beta, alpha=alpha), beta * sn + alpha * (xn @ zn), dt)
    check(rtt.baddbmm(c, x, z), cn + xn @ zn, dt)          # input broadcasts
    check(s.baddbmm(x, z), sn + xn @ zn, dt)
    ss = s.clone()
    assert ss.baddbmm_(x, z, beta=beta, alpha=alpha) is ss
    check(ss, beta * sn + alpha * (xn @ zn), dt)
    check(rtt.addbmm(c, x, z, beta=beta, alpha=alpha), beta * cn + alpha * (xn @ zn).sum(0), dt)
    check(c.addbmm(x, z), cn + (xn @ zn).sum(0), dt)


def test_beta_zero_ignores_nan(rng):
    a, an = make((3, 4), "float32", rng)
    b, bn = make((4, 5), "float32", rng)
    c = rtt.tensor(np.full((3, 5), np.nan, np.float32))
    check(rtt.addmm(c, a, b, beta=0), an @ bn, "float32")
    x, xn = make((2, 3, 4), "float64", rng)
    z, zn = make((2, 4, 5), "float64", rng)
    s = rtt.tensor(np.full((2, 3, 5), np.nan))
    check(rtt.baddbmm(s, x, z, beta=0, alpha=2), 2 * (xn @ zn), "float64")


def test_addmm_out(rng):
    a, an = make((3, 4), "float64", rng)
    b, bn = make((4, 5), "float64", rng)
    c, cn = make((5,), "float64", rng)
    out = rtt.tensor(np.zeros((3, 5)))
    assert rtt.addmm(c, a, b, alpha=2, out=out) is out
    check(out, cn + 2 * (an @ bn), "float64")


# ---- tensordot, kron ---------------------------------------------------------------------------
@pytest.mark.parametrize("dt", ("float32", "float64", "complex64", "int32", "bfloat16"))
def test_tensordot(dt, rng):
    a, an = make((3, 4, 5), dt, rng)
    b, bn = make((4, 5, 6), dt, rng)
    check(rtt.tensordot(a, b), np.tensordot(an, bn), dt)
    check(rtt.tensordot(a, b, dims=2), np.tensordot(an, bn, axes=2), dt)
    check(rtt.tensordot(a, b, dims=([1, 2], [0, 1])), np.tensordot(an, bn, axes=([1, 2], [0, 1])), dt)
    c, cn = make((5, 3), dt, rng)
    check(rtt.tensordot(a, c, dims=([0, 2], [1, 0])), np.tensordot(an, cn, axes=([0, 2], [1, 0])), dt)
    check(rtt.tensordot(a, c, dims=0), np.tensordot(an, cn, axes=0), dt)
    check(rtt.tensordot(a.transpose(0, 2), c, dims=([0], [0])),
          np.tensordot(an.transpose(2, 1, 0), cn, axes=([0], [0])), dt)


def test_kron(rng):
    a, an = make((2, 3), "float64", rng)
    b, bn = make((4, 2), "float64", rng)
    check(rtt.kron(a, b), np.kron(an, bn), "float64")
    v, vn = make((3,), "float64", rng)
    check(rtt.kron(a, v), np.kron(an, vn), "float64")


# ---- einsum ------------------------------------------------------------------------------------
EINSUM = [
    ("ij->ji", [(3, 4)]), ("ii->i", [(4, 4)]), ("ii", [(4, 4)]), ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]), ("ijk->kji", [(2, 3, 4)]), ("iij->j", [(3, 3, 4)]), ("ba", [(2, 3)]),
    ("ij,jk->ik", [(3, 4), (4, 5)]), ("ij,jk", [(3, 4), (4, 5)]), ("ij,kj->ik", [(3, 4), (5, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("i,j->ij", [(3,), (4,)]), ("i,i->", [(5,), (5,)]),
    ("i,i", [(5,), (5,)]), ("ij,ij->ij", [(3, 4), (3, 4)]), ("ij,ij->", [(3, 4), (3, 4)]),
    ("ij,j->i", [(3, 4), (4,)]), ("ab,cd->abcd", [(2, 3), (4, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]), ("bhqk,bhkd->bqhd", [(2, 3, 4, 6), (2, 3, 6, 5)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]), ("...ii->...i", [(2, 3, 3)]),
    ("...,...->...", [(3, 1), (1, 4)]), ("i...->...", [(3, 2, 2)]), ("...ij->...ji", [(2, 3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]), ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("ij,jk->ik", [(3, 1), (4, 5)]), ("ijk,ikl->ijl", [(2, 0, 3), (2, 3, 4)]),
    ("ij,jk->ik", [(3, 0), (0, 5)]), ("iji->j", [(3, 4, 3)]),
]


@pytest.mark.parametrize("dt", ("float32", "float64", "complex128", "int64"))
@pytest.mark.parametrize("eq,shapes", EINSUM)
def test_einsum(eq, shapes, dt, rng):
    pairs = [make(s, dt, rng) for s in shapes]
    r = rtt.einsum(eq, *[p[0] for p in pairs])
    check(r, np.einsum(eq, *[p[1] for p in pairs]), dt)


def test_einsum_forms_and_views(rng):
    a, an = make((3, 4), "float64", rng)
    b, bn = make((4, 5), "float64", rng)
    check(rtt.einsum("ij,jk->ik", [a, b]), an @ bn, "float64")
    check(rtt.einsum(a, [0, 1], b, [1, 2], [0, 2]), an @ bn, "float64")
    check(rtt.einsum("i j , j k -> i k", a, b), an @ bn, "float64")
    # a permutation is a view, as in PyTorch
    t = rtt.einsum("ij->ji", a)
    assert t._is_view_of(a)
    # strided and broadcast operands
    x, xn = make((1, 4, 6), "float32", rng)
    check(rtt.einsum("bij,jk->bik", x.expand(3, 4, 6), rtt.tensor(np.ones((6, 2), np.float32))),
          np.einsum("bij,jk->bik", np.broadcast_to(xn, (3, 4, 6)), np.ones((6, 2))), "float32")
    check(rtt.einsum("ij,jk->ik", a.t().t(), b[::1, ::2]), an @ bn[:, ::2], "float64")


def test_einsum_errors(rng):
    a, _ = make((3, 4), "float32", rng)
    b, _ = make((5, 6), "float32", rng)
    with pytest.raises(RuntimeError, match="operands"):
        rtt.einsum("ij,jk->ik", a)
    with pytest.raises(RuntimeError, match="more operands"):
        rtt.einsum("ij->ij", a, b)
    with pytest.raises(RuntimeError, match="number of subscripts"):
        rtt.einsum("ijk->i", a)
    with pytest.raises(RuntimeError, match="does not appear"):
        rtt.einsum("ij->iz", a)
    with pytest.raises(RuntimeError, match="more than once"):
        rtt.einsum("ij->ii", a)
    with pytest.raises(RuntimeError, match="subscripts must be in"):
        rtt.einsum("i1->i", a)
    with pytest.raises(RuntimeError, match="broadcast"):
        rtt.einsum("ij,jk->ik", a, b)
    with pytest.raises(RuntimeError, match="repeated"):
        rtt.einsum("ii->i", a)


# ---- errors ------------------------------------------------------------------------------------
def test_errors(rng):
    a, _ = make((2, 3), "float32", rng)
    b, _ = make((4, 5), "float32", rng)
    s = rtt.tensor(2.0)
    with pytest.raises(RuntimeError, match="both arguments to matmul need to be at least 1D, "
                                           "but they are 0D and 2D"):
        rtt.matmul(s, a)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"):
        a @ b
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"):
        rtt.mm(a, b)
    with pytest.raises(RuntimeError, match=r"size mismatch, got input \(2\), mat \(2x3\), vec \(4\)"):
        rtt.mv(a, rtt.tensor(np.zeros(4, np.float32)))
    with pytest.raises(RuntimeError, match=r"size mismatch"):
        a @ rtt.tensor(np.zeros(4, np.float32))
    with pytest.raises(RuntimeError, match="inconsistent tensor size"):
        rtt.dot(rtt.tensor([1.0, 2.0]), rtt.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match="1D tensors expected, but got 2D and 1D tensors"):
        rtt.dot(a, rtt.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype, but got: "
                                           "float != double"):
        a @ rtt.tensor(np.zeros((3, 2)))
    with pytest.raises(RuntimeError, match="dot : expected both vectors to have same dtype, but "
                                           "found Float and Double"):
        rtt.dot(rtt.tensor([1.0]), rtt.tensor([1.0], dtype=rtt.float64))
    with pytest.raises(RuntimeError, match="self must be a matrix"):
        rtt.mm(rtt.tensor([1.0]), a)
    with pytest.raises(RuntimeError, match="batch1 must be a 3D tensor"):
        rtt.bmm(a, a)
    with pytest.raises(RuntimeError, match="Expected size for first two dimensions of batch2"):
        rtt.bmm(rtt.tensor(np.zeros((2, 3, 4), np.float32)), rtt.tensor(np.zeros((2, 5, 4), np.float32)))
    with pytest.raises(RuntimeError, match="Expected size for first two dimensions of batch2"):
        rtt.tensor(np.zeros((2, 3, 4), np.float32)) @ rtt.tensor(np.zeros((2, 5, 4), np.float32))
    with pytest.raises(RuntimeError, match="must match the size of tensor b"):
        rtt.tensor(np.zeros((2, 3, 4), np.float32)) @ rtt.tensor(np.zeros((3, 4, 4), np.float32))
    with pytest.raises(RuntimeError, match="not implemented for 'Bool'"):
        rtt.tensor([[True]]) @ rtt.tensor([[True]])
    with pytest.raises(RuntimeError, match="not implemented for 'Bool'"):
        rtt.dot(rtt.tensor([True]), rtt.tensor([True]))
    with pytest.raises(RuntimeError, match="not implemented for 'Bool'"):
        rtt.bmm(rtt.tensor([[[True]]]), rtt.tensor([[[True]]]))
    with pytest.raises(RuntimeError, match="not implemented for 'Bool'"):
        rtt.mv(rtt.tensor([[True]]), rtt.tensor([True]))
    with pytest.raises(TypeError, match="must be Tensor"):
        rtt.matmul([[1.0]], a)
    with pytest.raises(RuntimeError, match="expanded size"):
        rtt.addmm(rtt.tensor(np.zeros(4, np.float32)), a, rtt.tensor(np.zeros((3, 5), np.float32)))
    with pytest.raises(RuntimeError, match="same dtype"):
        rtt.addmm(rtt.tensor(np.zeros(5)), a, rtt.tensor(np.zeros((3, 5), np.float32)))
    with pytest.raises(RuntimeError, match="floating point"):
        rtt.addmm(rtt.tensor([[1]]), rtt.tensor([[1]]), rtt.tensor([[1]]), alpha=0.5)
    with pytest.raises(RuntimeError, match="contracted dimensions need to match"):
        rtt.tensordot(a, b, dims=1)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n,step", [(0, 1), (1, 1), (7, 1), (100_003, 1), (3001, 3), (500, -1)])
def test_dot_through_blas_matches_numpy(dtype, n, step):
    """Float vectors (contiguous, strided, reversed) against numpy's float64 dot."""
    rng = np.random.default_rng(n)
    a = rng.standard_normal(n * abs(step)).astype(dtype)
    b = rng.standard_normal(n * abs(step)).astype(dtype)
    x, y = rtt.from_numpy(a), rtt.from_numpy(b)
    if step < 0:
        x, y, a, b = rtt.flip(x, [0]), rtt.flip(y, [0]), a[::-1], b[::-1]
    else:
        x, y, a, b = x[::step], y[::step], a[::step], b[::step]
    got = rtt.dot(x, y)
    assert got.shape == () and got.dtype == x.dtype
    want = float(np.dot(a.astype(np.float64), b.astype(np.float64)))
    tol = 1e-4 * max(1.0, np.sqrt(n)) if dtype == "float32" else 1e-10 * max(1.0, np.sqrt(n))
    assert abs(got.item() - want) <= tol


# ---- one row or one column: the matrix-vector (GEMV) path of a product ----------------------
@pytest.mark.parametrize("dt", ("float32", "float64"))
@pytest.mark.parametrize("threads", (1, 2))
def test_single_row_or_column_products(dt, threads, rng):
    """1 x k @ k x n and m x k @ k x 1 (each operand as stored, transposed or strided; alpha and
    beta through addmm; batched; split over the pool) against numpy."""
    from rt_tensor import _linalg
    saved = _linalg._gemm_tuning()
    n0 = rtt.get_num_threads()
    try:
        rtt.set_num_threads(threads)
        _linalg._gemm_tuning(thin_serial_macs=1)         # split even these small products
        for m, k, n in ((1, 37, 300), (1, 300, 1), (260, 19, 1), (1, 1, 5), (3, 8, 1)):
            for ta in (False, True):
                for tb in (False, True):
                    a, an = make((k, m) if ta else (m, k), dt, rng)
                    b, bn = make((n, k) if tb else (k, n), dt, rng)
                    a, an = (a.t(), an.T) if ta else (a, an)
                    b, bn = (b.t(), bn.T) if tb else (b, bn)
                    check(a @ b, an @ bn, dt)
                    c, cn = make((m, n), dt, rng)
                    check(rtt.addmm(c, a, b, beta=0.5, alpha=-2.0), 0.5 * cn - 2.0 * (an @ bn),
                          dt)
            # strided (every other element) operands and a strided result
            a, an = make((m, 2 * k), dt, rng)
            b, bn = make((k, 2 * n), dt, rng)
            out = rtt.zeros((m, 2 * n), dtype=getattr(rtt, dt))
            rtt.matmul(a[:, ::2], b[:, ::2], out=out[:, ::2])
            check(out[:, ::2], an[:, ::2] @ bn[:, ::2], dt)
            # batched
            a, an = make((3, m, k), dt, rng)
            b, bn = make((3, k, n), dt, rng)
            check(a @ b, an @ bn, dt)
        # beta = 0 never reads the result (NaN in it stays out)
        out = rtt.full((1, 4), float("nan"), dtype=getattr(rtt, dt))
        a, an = make((1, 6), dt, rng)
        b, bn = make((6, 4), dt, rng)
        rtt.matmul(a, b, out=out)
        check(out, an @ bn, dt)
    finally:
        _linalg._gemm_tuning(**saved)
        rtt.set_num_threads(n0)
