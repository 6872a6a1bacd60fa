# cython: language_level=3, wraparound=True
"""Shape and join ops: ``cat``/``stack`` and friends, ``tril``/``triu``, ``flip``, ``roll``,
``repeat``/``tile``/``repeat_interleave``, ``rot90``, broadcasting helpers, ``meshgrid``,
``atleast_*d``, ``diag`` family, ``block_diag``, ``cartesian_prod``, and the functional forms
of the Tensor view methods (``torch.reshape``, ``torch.transpose``, ...).

Every copy goes through ``copy_into`` (the broadcasting, dtype-converting strided copy) into a
view of the output, or through the N-d iterator with a dtype-preserving copy loop (flip, whose
source is walked with negative strides that never escape this module). No Python runs per
element.
"""
include "build_stamp.pxi"
import itertools
import warnings

from libc.string cimport memset
from rt_tensor._types cimport *
from rt_tensor._dtype cimport (dtype, dtype_of, ITEMSIZE, promote_types_code, can_cast_code,
                               as_dtype)
from rt_tensor._tensor cimport (Tensor, new_tensor, new_tensor_from_tuple, make_view, wrap_storage, shape_tuple,
                                wrap_dim, parse_shape, to_tensor, copy_into, contiguous_strides,
                                shape_numel, resize_out)
from rt_tensor._memory cimport new_storage
from rt_tensor._iter cimport (NdIter, inner_loop_t, iter_init, iter_add, iter_add_raw, iter_coalesce, iter_run,
                              broadcast_shapes as _bshapes)
from rt_tensor._parallel cimport parallel_for, GRAIN_ELEMENTWISE
from rt_tensor._tensor import Size

__all__ = [
    "cat", "concat", "concatenate", "stack", "hstack", "vstack", "row_stack", "dstack",
    "column_stack", "tril", "triu", "flip", "fliplr", "flipud", "roll", "tile",
    "repeat_interleave", "rot90", "broadcast_tensors", "broadcast_shapes", "broadcast_to",
    "meshgrid", "atleast_1d", "atleast_2d", "atleast_3d", "diag", "diag_embed", "diagflat",
    "block_diag", "cartesian_prod",
    # functional forms of Tensor view methods
    "reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "transpose", "swapaxes",
    "swapdims", "permute", "movedim", "moveaxis", "t", "narrow", "select", "unbind", "split",
    "chunk", "tensor_split", "diagonal", "as_strided", "clone", "numel", "is_tensor",
    "is_floating_point", "is_complex", "is_nonzero",
]


# ---------------------------------------------------------------------------------------
# helpers

cdef str _fmt(int n, const index_t* s):
    return "[" + ", ".join([str(s[i]) for i in range(n)]) + "]"


cdef inline Tensor _as_t(object x, str fname, str argname):
    if isinstance(x, Tensor):
        return <Tensor>x
    raise TypeError(f"{fname}(): argument '{argname}' must be Tensor, not {type(x).__name__}")


cdef list _tensor_list(object tensors, str fname):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{fname}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        f"not {type(tensors).__name__}")
    cdef list out = []
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(f"{fname}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                            f"but found element of type {type(x).__name__} at pos {i}")
        out.append(x)
    return out


cdef Tensor _narrow_view(Tensor t, int d, index_t start, index_t length):
    cdef Tensor v = make_view(t, t._ndim, t._shape, t._strides, t._offset + start * t._strides[d])
    v._shape[d] = length
    v._numel = shape_numel(v._ndim, v._shape)
    return v


cdef void _check_size(int ndim, const index_t* shape) except *:
    """RuntimeError (never a wrapped-around allocation) for sizes whose bytes overflow."""
    cdef object n = 16
    cdef int i
    for i in range(ndim):
        if shape[i] < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {shape[i]}: "
                               f"{_fmt(ndim, shape)}")
        n *= shape[i]
    if n >= (1 << 62):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={_fmt(ndim, shape)}")


cdef Tensor _prepare_out(object out, int dt, int ndim, const index_t* shape, str fname):
    """A new result tensor, or ``out`` checked and resized as PyTorch's out= does."""
    cdef Tensor o
    _check_size(ndim, shape)
    if out is None:
        return new_tensor(dt, ndim, shape, False)
    o = _as_t(out, fname, "out")
    if not can_cast_code(dt, o._dtype):
        raise RuntimeError(f"result type {dtype_of(dt).scalar_name} can't be cast to the desired "
                           f"output type {dtype_of(o._dtype).scalar_name}")
    return resize_out(o, ndim, shape)


# ---------------------------------------------------------------------------------------
# cat / stack

def cat(tensors, dim=0, *, out=None):
    """Concatenate tensors along an existing dim (``torch.cat``). Inputs are promoted to a
    common dtype; 1-D empty tensors (legacy shape ``(0,)``) are skipped."""
    cdef list ts = _tensor_list(tensors, "cat")
    cdef int n = len(ts), i, j, k, nd, d, dt
    cdef Tensor t, ref = None, res
    cdef index_t shape[MAX_DIMS]
    cdef index_t total, off
    if n == 0:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    dt = (<Tensor>ts[0])._dtype
    for i in range(n):
        t = <Tensor>ts[i]
        if t._ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
        if i:
            dt = promote_types_code(dt, t._dtype)
    for i in range(n):
        t = <Tensor>ts[i]
        if not (t._ndim == 1 and t._numel == 0):
            ref = t
            k = i
            break
    if ref is None:
        shape[0] = 0
        return _prepare_out(out, dt, 1, shape, "cat")
    nd = ref._ndim
    d = wrap_dim(dim, nd)
    total = 0
    for i in range(n):
        t = <Tensor>ts[i]
        if t._ndim == 1 and t._numel == 0:
            continue
        if t._ndim != nd:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {nd} and {t._ndim}")
        for j in range(nd):
            if j != d and t._shape[j] != ref._shape[j]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected "
                                   f"size {ref._shape[j]} but got size {t._shape[j]} for tensor "
                                   f"number {i} in the list.")
        total += t._shape[d]
    for j in range(nd):
        shape[j] = ref._shape[j]
    shape[d] = total
    if out is not None:
        _as_t(out, "cat", "out")
        for i in range(n):
            if (<Tensor>ts[i])._storage is (<Tensor>out)._storage and (<Tensor>ts[i])._numel:
                raise RuntimeError("unsupported operation: some elements of the input tensor and "
                                   "the written-to tensor refer to a single memory location. Please "
                                   "clone() the tensor before performing the operation.")
    res = _prepare_out(out, dt, nd, shape, "cat")
    off = 0
    for i in range(n):
        t = <Tensor>ts[i]
        if t._ndim == 1 and t._numel == 0:
            continue
        if t._shape[d]:
            copy_into(_narrow_view(res, d, off, t._shape[d]), t)
        off += t._shape[d]
    return res


concat = cat
concatenate = cat


def stack(tensors, dim=0, *, out=None):
    """Join tensors of one shape along a new dim (``torch.stack``)."""
    cdef list ts = _tensor_list(tensors, "stack")
    cdef int n = len(ts), i, j, d
    cdef Tensor t, t0
    if n == 0:
        raise RuntimeError("stack expects a non-empty TensorList")
    t0 = <Tensor>ts[0]
    for i in range(1, n):
        t = <Tensor>ts[i]
        same = t._ndim == t0._ndim
        if same:
            for j in range(t._ndim):
                if t._shape[j] != t0._shape[j]:
                    same = False
        if not same:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{_fmt(t0._ndim, t0._shape)} at entry 0 and "
                               f"{_fmt(t._ndim, t._shape)} at entry {i}")
    d = wrap_dim(dim, t0._ndim + 1)
    return cat([x.unsqueeze(d) for x in ts], d, out=out)


def atleast_1d(*tensors):
    """Views with at least one dimension (a single tensor in, a single tensor out)."""
    if len(tensors) == 1 and not isinstance(tensors[0], Tensor):
        return tuple(atleast_1d(x) for x in tensors[0])
    if len(tensors) != 1:
        return tuple(atleast_1d(x) for x in tensors)
    cdef Tensor t = _as_t(tensors[0], "atleast_1d", "input")
    return t.reshape(1) if t._ndim == 0 else t


def atleast_2d(*tensors):
    """Views with at least two dimensions (1-D ``(n,)`` becomes ``(1, n)``)."""
    if len(tensors) == 1 and not isinstance(tensors[0], Tensor):
        return tuple(atleast_2d(x) for x in tensors[0])
    if len(tensors) != 1:
        return tuple(atleast_2d(x) for x in tensors)
    cdef Tensor t = _as_t(tensors[0], "atleast_2d", "input")
    if t._ndim == 0:
        return t.reshape(1, 1)
    if t._ndim == 1:
        return t.unsqueeze(0)
    return t


def atleast_3d(*tensors):
    """Views with at least three dimensions (``(n,)`` -> ``(1, n, 1)``, ``(m, n)`` ->
    ``(m, n, 1)``)."""
    if len(tensors) == 1 and not isinstance(tensors[0], Tensor):
        return tuple(atleast_3d(x) for x in tensors[0])
    if len(tensors) != 1:
        return tuple(atleast_3d(x) for x in tensors)
    cdef Tensor t = _as_t(tensors[0], "atleast_3d", "input")
    if t._ndim == 0:
        return t.reshape(1, 1, 1)
    if t._ndim == 1:
        return t.unsqueeze(0).unsqueeze(-1)
    if t._ndim == 2:
        return t.unsqueeze(-1)
    return t


def hstack(tensors, *, out=None):
    """Concatenate column-wise (along dim 0 for 1-D inputs, else dim 1)."""
    ts = _tensor_list(tensors, "hstack")
    if not ts:
        raise RuntimeError("hstack expects a non-empty TensorList")
    rep = [atleast_1d(x) for x in ts]
    return cat(rep, 0 if rep[0].ndim == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    """Concatenate row-wise after ``atleast_2d``."""
    ts = _tensor_list(tensors, "vstack")
    if not ts:
        raise RuntimeError("vstack expects a non-empty TensorList")
    return cat([atleast_2d(x) for x in ts], 0, out=out)


row_stack = vstack


def dstack(tensors, *, out=None):
    """Concatenate depth-wise (dim 2) after ``atleast_3d``."""
    ts = _tensor_list(tensors, "dstack")
    if not ts:
        raise RuntimeError("dstack expects a non-empty TensorList")
    return cat([atleast_3d(x) for x in ts], 2, out=out)


def column_stack(tensors, *, out=None):
    """Stack 0-d and 1-D tensors as columns, then ``hstack``."""
    ts = _tensor_list(tensors, "column_stack")
    if not ts:
        raise RuntimeError("column_stack expects a non-empty TensorList")
    rep = [x.reshape(x.numel(), 1) if x.ndim <= 1 else x for x in ts]
    return hstack(rep, out=out)


# ---------------------------------------------------------------------------------------
# tril / triu

cdef struct TriCtx:
    char* base
    index_t M
    index_t N
    index_t row_bytes
    index_t itemsize
    index_t k
    bint lower


cdef void _tri_rows(void* vctx, index_t begin, index_t end) noexcept nogil:
    cdef TriCtx* c = <TriCtx*>vctx
    cdef index_t r, i, lo, hi
    for r in range(begin, end):
        i = r % c.M
        if c.lower:          # keep j <= i + k: zero [i + k + 1, N)
            lo = i + c.k + 1
            hi = c.N
        else:                # keep j >= i + k: zero [0, i + k)
            lo = 0
            hi = i + c.k
        if lo < 0:
            lo = 0
        if hi > c.N:
            hi = c.N
        if hi > lo:
            memset(c.base + r * c.row_bytes + lo * c.itemsize, 0, (hi - lo) * c.itemsize)


cdef void _tri_zero(Tensor res, index_t k, bint lower) noexcept:
    """Zero the triangle outside the kept part, in a contiguous tensor of >= 2 dims."""
    cdef TriCtx c
    cdef index_t rows
    if res._numel == 0:
        return
    c.base = res.ptr()
    c.M = res._shape[res._ndim - 2]
    c.N = res._shape[res._ndim - 1]
    c.itemsize = ITEMSIZE[res._dtype]
    c.row_bytes = c.N * c.itemsize
    c.k = max(-(c.M + c.N), min(k, c.M + c.N))
    c.lower = lower
    rows = res._numel // c.N
    with nogil:
        if res._numel >= 2 * GRAIN_ELEMENTWISE and rows > 1:
            parallel_for(rows, max(1, GRAIN_ELEMENTWISE // c.N), _tri_rows, &c)
        else:
            _tri_rows(&c, 0, rows)


cdef object _tri(object input, object diagonal, object out, bint lower, bint inplace):
    cdef str name = ("tril" if lower else "triu") + ("_" if inplace else "")
    cdef Tensor t = _as_t(input, name, "input"), res
    cdef index_t k = diagonal
    if t._ndim < 2:
        raise RuntimeError(f"{'tril' if lower else 'triu'}: input tensor must have at least 2 dimensions")
    if inplace:
        if t.is_contig():
            t._storage.version += 1
            _tri_zero(t, k, lower)
            return t
        res = t.clone()
        _tri_zero(res, k, lower)
        copy_into(t, res)
        return t
    res = t.clone()
    _tri_zero(res, k, lower)
    if out is not None:
        o = _prepare_out(out, t._dtype, t._ndim, t._shape, name)
        copy_into(o, res)
        return o
    return res


def tril(input, diagonal=0, *, out=None):
    """The lower triangle of the last two dims (elements with ``j <= i + diagonal``); the rest
    is zero (``torch.tril``)."""
    return _tri(input, diagonal, out, True, False)


def triu(input, diagonal=0, *, out=None):
    """The upper triangle of the last two dims (elements with ``j >= i + diagonal``); the
    rest is zero (``torch.triu``)."""
    return _tri(input, diagonal, out, False, False)


def tril_(input, diagonal=0):
    return _tri(input, diagonal, None, True, True)


def triu_(input, diagonal=0):
    return _tri(input, diagonal, None, False, True)


# ---------------------------------------------------------------------------------------
# flip / roll / rot90

cdef list _dim_list(object dims, int ndim, str fname):
    if isinstance(dims, int) or hasattr(dims, "__index__"):
        dims = [dims]
    return [wrap_dim(d, ndim) for d in dims]



# flip: a dtype-blind copy by item size, whose source steps backwards in the flipped dims
cdef struct _b16:
    uint64_t lo
    uint64_t hi

cdef void _flip_loop_1(char** data, const index_t* st, index_t n, void* extra) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>data[0]
    cdef uint8_t* s = <uint8_t*>data[1]
    cdef index_t i, so = st[0], si = st[1]
    if so == 1 and si == -1:
        for i in range(n):
            o[i] = s[-i]
    elif so == 1 and si == 1:
        for i in range(n):
            o[i] = s[i]
    else:
        for i in range(n):
            (<uint8_t*>(data[0] + i * so))[0] = (<uint8_t*>(data[1] + i * si))[0]


cdef void _flip_loop_2(char** data, const index_t* st, index_t n, void* extra) noexcept nogil:
    cdef uint16_t* o = <uint16_t*>data[0]
    cdef uint16_t* s = <uint16_t*>data[1]
    cdef index_t i, so = st[0], si = st[1]
    if so == 2 and si == -2:
        for i in range(n):
            o[i] = s[-i]
    elif so == 2 and si == 2:
        for i in range(n):
            o[i] = s[i]
    else:
        for i in range(n):
            (<uint16_t*>(data[0] + i * so))[0] = (<uint16_t*>(data[1] + i * si))[0]


cdef void _flip_loop_4(char** data, const index_t* st, index_t n, void* extra) noexcept nogil:
    cdef uint32_t* o = <uint32_t*>data[0]
    cdef uint32_t* s = <uint32_t*>data[1]
    cdef index_t i, so = st[0], si = st[1]
    if so == 4 and si == -4:
        for i in range(n):
            o[i] = s[-i]
    elif so == 4 and si == 4:
        for i in range(n):
            o[i] = s[i]
    else:
        for i in range(n):
            (<uint32_t*>(data[0] + i * so))[0] = (<uint32_t*>(data[1] + i * si))[0]


cdef void _flip_loop_8(char** data, const index_t* st, index_t n, void* extra) noexcept nogil:
    cdef uint64_t* o = <uint64_t*>data[0]
    cdef uint64_t* s = <uint64_t*>data[1]
    cdef index_t i, so = st[0], si = st[1]
    if so == 8 and si == -8:
        for i in range(n):
            o[i] = s[-i]
    elif so == 8 and si == 8:
        for i in range(n):
            o[i] = s[i]
    else:
        for i in range(n):
            (<uint64_t*>(data[0] + i * so))[0] = (<uint64_t*>(data[1] + i * si))[0]


cdef void _flip_loop_16(char** data, const index_t* st, index_t n, void* extra) noexcept nogil:
    cdef _b16* o = <_b16*>data[0]
    cdef _b16* s = <_b16*>data[1]
    cdef index_t i, so = st[0], si = st[1]
    if so == 16 and si == -16:
        for i in range(n):
            o[i] = s[-i]
    elif so == 16 and si == 16:
        for i in range(n):
            o[i] = s[i]
    else:
        for i in range(n):
            (<_b16*>(data[0] + i * so))[0] = (<_b16*>(data[1] + i * si))[0]


cdef inline inner_loop_t _flip_loop(int itemsize) noexcept nogil:
    if itemsize == 1:
        return _flip_loop_1
    if itemsize == 2:
        return _flip_loop_2
    if itemsize == 4:
        return _flip_loop_4
    if itemsize == 8:
        return _flip_loop_8
    return _flip_loop_16


def flip(input, dims):
    """A copy with the order of elements reversed along ``dims`` (``torch.flip``)."""
    cdef Tensor t = _as_t(input, "flip", "input"), res
    cdef list ds = _dim_list(dims, t._ndim, "flip")
    cdef index_t strides[MAX_DIMS]
    cdef char* data
    cdef int i, d, isz
    cdef NdIter it
    if len(set(ds)) != len(ds):
        raise RuntimeError(f"dims has duplicates, original flip dims size={len(ds)}, but unique "
                           f"flip dims size={len(set(ds))}")
    res = new_tensor(t._dtype, t._ndim, t._shape, False)
    if t._numel == 0:
        return res
    isz = ITEMSIZE[t._dtype]
    data = t.ptr()
    for i in range(t._ndim):
        strides[i] = t._strides[i]
    for d in ds:
        if t._ndim == 0:
            break
        data += (t._shape[d] - 1) * t._strides[d] * isz
        strides[d] = -t._strides[d]
    iter_init(&it, t._ndim, t._shape)
    iter_add(&it, res)
    iter_add_raw(&it, data, t._ndim, t._shape, strides, isz)
    iter_coalesce(&it)
    with nogil:
        iter_run(&it, _flip_loop(isz), NULL, GRAIN_ELEMENTWISE)
    return res


def fliplr(input):
    """Flip the columns (dim 1) of a tensor of at least 2 dims."""
    cdef Tensor t = _as_t(input, "fliplr", "input")
    if t._ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(t, [1])


def flipud(input):
    """Flip the rows (dim 0) of a tensor of at least 1 dim."""
    cdef Tensor t = _as_t(input, "flipud", "input")
    if t._ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(t, [0])


cdef void _roll_into(Tensor dst, Tensor src, int d, index_t s):
    """dst = src rolled by s (0 <= s < size) along d."""
    cdef index_t n = src._shape[d]
    if s == 0:
        copy_into(dst, src)
        return
    copy_into(_narrow_view(dst, d, s, n - s), _narrow_view(src, d, 0, n - s))
    copy_into(_narrow_view(dst, d, 0, s), _narrow_view(src, d, n - s, s))


def roll(input, shifts, dims=None):
    """Roll elements along ``dims`` by ``shifts`` (elements moved past the end come back at
    the start); without ``dims`` the flattened tensor is rolled and the shape restored."""
    cdef Tensor t = _as_t(input, "roll", "input"), res, tmp, dst, src
    cdef index_t s, n
    cdef int d, i, k
    sh = [shifts] if isinstance(shifts, int) or hasattr(shifts, "__index__") else list(shifts)
    if dims is None:
        if len(sh) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(sh)}, dims:0")
        flat = t.flatten() if t._ndim != 1 else t
        return roll(flat, sh, [0]).view(shape_tuple(t))
    dl = [dims] if isinstance(dims, int) or hasattr(dims, "__index__") else list(dims)
    if len(sh) != len(dl):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(sh)}, dims:{len(dl)}")
    if len(dl) == 0:
        raise RuntimeError("`shifts` required")
    res = new_tensor(t._dtype, t._ndim, t._shape, False)
    if t._ndim == 0:
        for x in dl:
            wrap_dim(x, 0)
        copy_into(res, t)
        return res
    shift = {}
    for i in range(len(dl)):
        d = wrap_dim(dl[i], t._ndim)
        shift[d] = shift.get(d, 0) + int(sh[i])
    if t._numel == 0:
        return res
    # every rolled dim splits into two segments (dst start, src start, length); one copy per
    # combination of segments, straight from the input
    segs = []
    for d, v in shift.items():
        n = t._shape[d]
        s = v % n
        if s:
            segs.append((d, ((s, 0, n - s), (0, n - s, s))))
    if not segs:
        copy_into(res, t)
        return res
    if len(segs) > 8:
        for d, v in shift.items():
            tmp = res.clone() if d != next(iter(shift)) else t
            _roll_into(res, tmp, d, v % t._shape[d])
        return res
    for combo in itertools.product(*[pair for _, pair in segs]):
        dst = res
        src = t
        for k in range(len(segs)):
            d = segs[k][0]
            dst = _narrow_view(dst, d, combo[k][0], combo[k][2])
            src = _narrow_view(src, d, combo[k][1], combo[k][2])
        copy_into(dst, src)
    return res


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``dims`` (from the first towards the
    second)."""
    cdef Tensor t = _as_t(input, "rot90", "input")
    dl = list(dims)
    if len(dl) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dl)}")
    if t._ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {t._ndim}")
    d0 = wrap_dim(dl[0], t._ndim)
    d1 = wrap_dim(dl[1], t._ndim)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k = k % 4
    if k == 1:
        return flip(t, [d1]).transpose(d0, d1)
    if k == 2:
        return flip(t, [d0, d1])
    if k == 3:
        return flip(t, [d0]).transpose(d0, d1)
    return t.clone()


# ---------------------------------------------------------------------------------------
# repeat / tile / repeat_interleave

def repeat(input, *sizes):
    """``Tensor.repeat``: tile the tensor ``sizes[i]`` times along each dim (sizes may have
    more dims than the tensor; missing leading dims count as 1)."""
    cdef Tensor t = _as_t(input, "repeat", "self"), res, dst, src
    cdef index_t rep[MAX_DIMS]
    cdef index_t oshape[MAX_DIMS]
    cdef index_t vshape[MAX_DIMS]
    cdef index_t vdst[MAX_DIMS]
    cdef index_t vsrc[MAX_DIMS]
    cdef index_t ostr[MAX_DIMS]
    cdef int nr = parse_shape(sizes, rep, "repeat")
    cdef int lead, i, j, nv = 0
    cdef index_t sz, sstride
    if nr < t._ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    lead = nr - t._ndim
    for i in range(nr):
        if rep[i] < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {rep[i]}: "
                               f"{_fmt(nr, rep)}")
        sz = t._shape[i - lead] if i >= lead else 1
        if sz and rep[i] > (<index_t>1 << 62) // sz:
            raise RuntimeError(f"Storage size calculation overflowed with sizes="
                               f"{_fmt(nr, rep)} x {list(shape_tuple(t))}")
        oshape[i] = sz * rep[i]
    _check_size(nr, oshape)
    res = new_tensor(t._dtype, nr, oshape, False)
    if res._numel == 0:
        return res
    contiguous_strides(nr, oshape, ostr)
    # result viewed as (r0, s0, r1, s1, ...) with the repeat dims read at stride 0
    for i in range(nr):
        sz = t._shape[i - lead] if i >= lead else 1
        sstride = t._strides[i - lead] if i >= lead else 0
        if rep[i] != 1:
            if nv >= MAX_DIMS:
                break
            vshape[nv] = rep[i]
            vdst[nv] = ostr[i] * sz
            vsrc[nv] = 0
            nv += 1
        if nv >= MAX_DIMS:
            break
        vshape[nv] = sz
        vdst[nv] = ostr[i]
        vsrc[nv] = sstride
        nv += 1
    else:
        dst = make_view(res, nv, vshape, vdst, 0)
        src = make_view(t, nv, vshape, vsrc, t._offset)
        copy_into(dst, src)
        return res
    # too many dims for one view: repeat one dim at a time
    cur = t.reshape([1] * lead + list(shape_tuple(t))) if lead else t
    for i in range(nr):
        if rep[i] != 1:
            r = [1] * nr
            r[i] = rep[i]
            cur = repeat(cur, r)
    return cur


def tile(input, dims):
    """``torch.tile``: ``repeat`` with ``dims`` padded with leading ones to the tensor's
    ndim."""
    cdef Tensor t = _as_t(input, "tile", "input")
    dl = [dims] if isinstance(dims, int) else list(dims)
    if len(dl) < t._ndim:
        dl = [1] * (t._ndim - len(dl)) + dl
    return repeat(t, dl)


cdef void _check_shape_list(list shape) except *:
    cdef object n = 16
    for v in shape:
        n *= v
    if n >= (1 << 62):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={shape}")


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times (an int, or a tensor of per-element counts)
    along ``dim`` (the flattened tensor when ``dim`` is None). With a single tensor
    argument, ``repeat_interleave(r)`` gives ``arange(len(r))`` repeated by ``r``."""
    import numpy as np
    from rt_tensor._tensor import from_numpy
    cdef Tensor t, res, rt_
    cdef int d
    cdef index_t n, i, off, r, total
    if repeats is None:
        rt_ = _as_t(input, "repeat_interleave", "repeats")
        if rt_._ndim != 1 or (rt_._dtype != DT_INT64 and rt_._dtype != DT_INT32):
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        counts = rt_.numpy(force=True).astype(np.int64)
        if (counts < 0).any():
            raise RuntimeError("repeats can not be negative")
        return from_numpy(np.repeat(np.arange(len(counts), dtype=np.int64), counts)).clone()
    t = _as_t(input, "repeat_interleave", "input")
    if dim is None:
        t = t.flatten()
        d = 0
    else:
        d = wrap_dim(dim, t._ndim)
        if t._ndim == 0:
            t = t.reshape(1)
    n = t._shape[d]
    if isinstance(repeats, Tensor):
        rt_ = <Tensor>repeats
        if rt_._dtype != DT_INT64 and rt_._dtype != DT_INT32:
            raise RuntimeError("repeats has to be Long or Int tensor")
        if rt_._ndim > 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        if rt_._numel == 1:
            repeats = int(rt_.item())
        else:
            if rt_._shape[0] != n:
                raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                                   f"repeats.size(0) = {rt_._shape[0]} and input.size({d}) = {n}")
            counts = [int(x) for x in rt_.numpy(force=True)]
            if any(c < 0 for c in counts):
                raise RuntimeError("repeats can not be negative")
            shape = list(shape_tuple(t))
            shape[d] = sum(counts)
            _check_shape_list(shape)
            res = new_tensor_from_tuple(t._dtype, tuple(shape), False)
            off = 0
            for i in range(n):
                r = counts[i]
                if r:
                    copy_into(_narrow_view(res, d, off, r), _narrow_view(t, d, i, 1))
                    off += r
            return res
    r = int(repeats)
    if r < 0:
        raise RuntimeError("repeats can not be negative")
    shape = list(shape_tuple(t))
    exp_shape = shape[:d + 1] + [r] + shape[d + 1:]
    src = t.unsqueeze(d + 1).expand(exp_shape)
    shape[d] = int(n) * int(r)
    _check_shape_list(shape)
    res = new_tensor_from_tuple(t._dtype, tuple(shape), False)
    copy_into(res.view(exp_shape), src)
    return res


# ---------------------------------------------------------------------------------------
# broadcasting

def broadcast_shapes(*shapes):
    """The shape that all ``shapes`` broadcast to, as a Size. RuntimeError naming both shapes
    when two do not broadcast."""
    cdef index_t a[MAX_DIMS]
    cdef index_t b[MAX_DIMS]
    cdef index_t r[MAX_DIMS]
    cdef int na = 0, nb, i
    for s in shapes:
        if isinstance(s, int) or hasattr(s, "__index__") and not isinstance(s, Tensor):
            s = (s,)
        nb = parse_shape((tuple(s),), b, "broadcast_shapes")
        for i in range(nb):
            if b[i] < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension ({b[i]}): ({b[i]})")
        na = _bshapes(na, a, nb, b, r)
        for i in range(na):
            a[i] = r[i]
    return Size([a[i] for i in range(na)])


def broadcast_tensors(*tensors):
    """Views of the tensors expanded to their common broadcast shape."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    cdef index_t a[MAX_DIMS]
    cdef index_t r[MAX_DIMS]
    cdef int na = 0, i
    cdef Tensor t
    for x in tensors:
        t = _as_t(x, "broadcast_tensors", "tensors")
        na = _bshapes(na, a, t._ndim, t._shape, r)
        for i in range(na):
            a[i] = r[i]
    shape = tuple([a[i] for i in range(na)])
    return tuple(x.expand(shape) for x in tensors)


def broadcast_to(input, size):
    """``input.expand(size)``: a view broadcast to ``size``."""
    return _as_t(input, "broadcast_to", "input").expand(size)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D (or 0-d) tensors, as expanded views. ``indexing='ij'``
    (matrix, the default) or ``'xy'`` (Cartesian: the first two dims are swapped)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    if len(tensors) == 0:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    ts = []
    for i, x in enumerate(tensors):
        t = _as_t(x, "meshgrid", "tensors")
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got: {t.ndim}D tensor at position {i}")
        if t.dtype != tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
        ts.append(t)
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = [t.numel() for t in ts]
    n = len(ts)
    grids = []
    for i, t in enumerate(ts):
        view_shape = [1] * n
        view_shape[i] = -1
        grids.append(t.reshape(view_shape).expand(shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors):
    """The Cartesian product of 1-D tensors: one row per combination (``itertools.product``
    order)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for t in tensors:
        if _as_t(t, "cartesian_prod", "tensors").ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.flatten() for g in grids], 1)


# ---------------------------------------------------------------------------------------
# diag family

def diag(input, diagonal=0, *, out=None):
    """1-D input: a square matrix with ``input`` on the ``diagonal``-th diagonal. 2-D input:
    a copy of its ``diagonal``-th diagonal."""
    cdef Tensor t = _as_t(input, "diag", "input"), res
    cdef index_t k = diagonal, n
    cdef index_t shape[2]
    if t._ndim == 1:
        n = t._shape[0] + (k if k >= 0 else -k)
        shape[0] = n
        shape[1] = n
        res = _prepare_out(out, t._dtype, 2, shape, "diag")
        if res.is_contig():
            memset(res.ptr(), 0, res._numel * ITEMSIZE[res._dtype])
        else:
            res.zero_()
        copy_into(res.diagonal(k), t)
        return res
    if t._ndim == 2:
        dv = t.diagonal(k)
        if out is None:
            return dv.clone()
        res = _prepare_out(out, t._dtype, 1, (<Tensor>dv)._shape, "diag")
        copy_into(res, dv)
        return res
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {t._ndim}D")


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Tensors whose (dim1, dim2) planes have the last dim of ``input`` on their ``offset``
    diagonal and zeros elsewhere."""
    cdef Tensor t = _as_t(input, "diag_embed", "input"), res
    cdef int nd = t._ndim + 1, a, b, i, j
    cdef index_t k = offset, n
    cdef index_t shape[MAX_DIMS]
    a = wrap_dim(dim1, nd)
    b = wrap_dim(dim2, nd)
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    if nd > MAX_DIMS:
        raise RuntimeError(f"diag_embed: at most {MAX_DIMS} dimensions are supported")
    n = (t._shape[t._ndim - 1] if t._ndim else 1) + (k if k >= 0 else -k)
    j = 0
    for i in range(nd):
        if i == a or i == b:
            shape[i] = n
        else:
            shape[i] = t._shape[j]
            j += 1
    _check_size(nd, shape)
    res = new_tensor(t._dtype, nd, shape, True)
    if res._numel:
        copy_into(res.diagonal(k, a, b), t)
    return res


def diagflat(input, offset=0):
    """``diag(input.flatten(), offset)``: a 2-D matrix with the flattened input on a
    diagonal."""
    return diag(_as_t(input, "diagflat", "input").flatten(), offset)


def block_diag(*tensors):
    """A block-diagonal matrix of the (at most 2-D) tensors, promoted to a common dtype."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    cdef int dt = DT_BOOL, i
    cdef index_t rows = 0, cols = 0, r = 0, c = 0
    cdef index_t shape[2]
    cdef Tensor t, res
    mats = []
    for i, x in enumerate(tensors):
        t = _as_t(x, "block_diag", "tensors")
        if t._ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. "
                               f"Input {i} has {t._ndim} dimensions")
        if t._ndim == 0:
            t = t.reshape(1, 1)
        elif t._ndim == 1:
            t = t.unsqueeze(0)
        dt = promote_types_code(dt, t._dtype) if i else t._dtype
        rows += t._shape[0]
        cols += t._shape[1]
        mats.append(t)
    if not mats:
        dt = DT_FLOAT32
    shape[0] = rows
    shape[1] = cols
    _check_size(2, shape)
    res = new_tensor(dt, 2, shape, True)
    for x in mats:
        t = <Tensor>x
        if t._numel:
            copy_into(_narrow_view(_narrow_view(res, 0, r, t._shape[0]), 1, c, t._shape[1]), t)
        r += t._shape[0]
        c += t._shape[1]
    return res


# ---------------------------------------------------------------------------------------
# functional forms of Tensor view methods

def reshape(input, shape):
    return _as_t(input, "reshape", "input").reshape(shape)


def flatten(input, start_dim=0, end_dim=-1):
    return _as_t(input, "flatten", "input").flatten(start_dim, end_dim)


def unflatten(input, dim, sizes):
    return _as_t(input, "unflatten", "input").unflatten(dim, sizes)


def squeeze(input, dim=None):
    return _as_t(input, "squeeze", "input").squeeze(dim)


def unsqueeze(input, dim):
    return _as_t(input, "unsqueeze", "input").unsqueeze(dim)


def transpose(input, dim0, dim1):
    return _as_t(input, "transpose", "input").transpose(dim0, dim1)


swapaxes = transpose
swapdims = transpose


def permute(input, dims):
    return _as_t(input, "permute", "input").permute(dims)


def movedim(input, source, destination):
    return _as_t(input, "movedim", "input").movedim(source, destination)


moveaxis = movedim


def t(input):
    return _as_t(input, "t", "input").t()


def narrow(input, dim, start, length):
    return _as_t(input, "narrow", "input").narrow(dim, start, length)


def select(input, dim, index):
    return _as_t(input, "select", "input").select(dim, index)


def unbind(input, dim=0):
    return _as_t(input, "unbind", "input").unbind(dim)


def split(tensor, split_size_or_sections, dim=0):
    return _as_t(tensor, "split", "tensor").split(split_size_or_sections, dim)


def chunk(input, chunks, dim=0):
    return _as_t(input, "chunk", "input").chunk(chunks, dim)


def tensor_split(input, indices_or_sections, dim=0):
    return _as_t(input, "tensor_split", "input").tensor_split(indices_or_sections, dim)


def diagonal(input, offset=0, dim1=0, dim2=1):
    return _as_t(input, "diagonal", "input").diagonal(offset, dim1, dim2)


def as_strided(input, size, stride, storage_offset=None):
    return _as_t(input, "as_strided", "input").as_strided(size, stride, storage_offset)


def clone(input, *, memory_format=None):
    return _as_t(input, "clone", "input").clone()


def numel(input):
    return _as_t(input, "numel", "input")._numel


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return dtype_of(_as_t(input, "is_floating_point", "input")._dtype).is_floating_point


def is_complex(input):
    return dtype_of(_as_t(input, "is_complex", "input")._dtype).is_complex


def is_nonzero(input):
    cdef Tensor t = _as_t(input, "is_nonzero", "input")
    if t._numel == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if t._numel > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(t.item())


TENSOR_METHODS = {
    "tril": tril, "triu": triu, "tril_": tril_, "triu_": triu_, "flip": flip,
    "fliplr": fliplr, "flipud": flipud, "roll": roll, "repeat": repeat, "tile": tile,
    "repeat_interleave": repeat_interleave, "rot90": rot90, "diag": diag,
    "diag_embed": diag_embed, "diagflat": diagflat, "is_nonzero": is_nonzero,
}
