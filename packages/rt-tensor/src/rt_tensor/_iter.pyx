# cython: language_level=3
"""N-d strided iteration: broadcasting by stride 0, dimension coalescing, and splitting the
flat index range across the thread pool (see _iter.pxd for the contract)."""
include "build_stamp.pxi"
from libc.string cimport memset
from rt_tensor._types cimport index_t, MAX_DIMS
from rt_tensor._dtype cimport ITEMSIZE
from rt_tensor._tensor cimport Tensor
from rt_tensor._parallel cimport parallel_for


cdef void iter_init(NdIter* it, int ndim, const index_t* shape) noexcept nogil:
    cdef int d
    it.ndim = ndim
    it.nop = 0
    it.numel = 1
    for d in range(ndim):
        it.shape[d] = shape[d]
        it.numel *= shape[d]


cdef void iter_add_raw(NdIter* it, char* data, int ndim, const index_t* shape,
                       const index_t* elem_strides, int itemsize) noexcept nogil:
    cdef int k = it.nop, d, lead = it.ndim - ndim
    it.data[k] = data
    for d in range(it.ndim):
        if d < lead or shape[d - lead] == 1:
            it.strides[k][d] = 0
        else:
            it.strides[k][d] = elem_strides[d - lead] * itemsize
    it.nop += 1


cdef void iter_add(NdIter* it, Tensor t) noexcept:
    iter_add_raw(it, t.ptr(), t._ndim, t._shape, t._strides, ITEMSIZE[t._dtype])


cdef void iter_coalesce(NdIter* it) noexcept nogil:
    cdef int d, e, k, nd = 0, nop = it.nop
    cdef index_t tmp
    cdef bint can
    if it.numel == 0:
        return
    # drop size-1 dims
    for d in range(it.ndim):
        if it.shape[d] != 1:
            it.shape[nd] = it.shape[d]
            for k in range(nop):
                it.strides[k][nd] = it.strides[k][d]
            nd += 1
    it.ndim = nd
    # order dims so the output's strides decrease (memory order for permuted outputs);
    # a stable insertion sort on |stride| of operand 0
    for d in range(1, nd):
        e = d
        while e > 0 and _abs(it.strides[0][e - 1]) < _abs(it.strides[0][e]) and it.strides[0][e] != 0:
            tmp = it.shape[e]; it.shape[e] = it.shape[e - 1]; it.shape[e - 1] = tmp
            for k in range(nop):
                tmp = it.strides[k][e]; it.strides[k][e] = it.strides[k][e - 1]; it.strides[k][e - 1] = tmp
            e -= 1
    # merge a dim into the next inner one when every operand steps through both as one
    if nd <= 1:
        return
    e = 0
    for d in range(1, nd):
        can = True
        for k in range(nop):
            if it.strides[k][e] != it.strides[k][d] * it.shape[d]:
                can = False
                break
        if can:
            it.shape[e] *= it.shape[d]
            for k in range(nop):
                it.strides[k][e] = it.strides[k][d]
        else:
            e += 1
            it.shape[e] = it.shape[d]
            for k in range(nop):
                it.strides[k][e] = it.strides[k][d]
    it.ndim = e + 1


cdef inline index_t _abs(index_t x) noexcept nogil:
    return -x if x < 0 else x


cdef struct RunCtx:
    NdIter* it
    inner_loop_t fn
    void* extra


cdef void _run_range(void* vctx, index_t begin, index_t end) noexcept nogil:
    cdef RunCtx* ctx = <RunCtx*>vctx
    cdef NdIter* it = ctx.it
    cdef int nd = it.ndim, nop = it.nop, d, k
    cdef index_t idx[MAX_DIMS]
    cdef char* ptrs[MAX_OPERANDS]
    cdef index_t inner_strides[MAX_OPERANDS]
    cdef index_t rem, n, inner_size
    if nd == 0:
        for k in range(nop):
            inner_strides[k] = 0
        ctx.fn(it.data, inner_strides, 1, ctx.extra)
        return
    rem = begin
    for d in range(nd - 1, -1, -1):
        idx[d] = rem % it.shape[d]
        rem = rem // it.shape[d]
    for k in range(nop):
        ptrs[k] = it.data[k]
        for d in range(nd):
            ptrs[k] += idx[d] * it.strides[k][d]
        inner_strides[k] = it.strides[k][nd - 1]
    inner_size = it.shape[nd - 1]
    while begin < end:
        n = inner_size - idx[nd - 1]
        if n > end - begin:
            n = end - begin
        ctx.fn(ptrs, inner_strides, n, ctx.extra)
        begin += n
        if begin >= end:
            break
        # the row is finished: move to the start of the next one
        for k in range(nop):
            ptrs[k] -= idx[nd - 1] * it.strides[k][nd - 1]
        idx[nd - 1] = 0
        d = nd - 2
        while d >= 0:
            idx[d] += 1
            for k in range(nop):
                ptrs[k] += it.strides[k][d]
            if idx[d] < it.shape[d]:
                break
            for k in range(nop):
                ptrs[k] -= it.shape[d] * it.strides[k][d]
            idx[d] = 0
            d -= 1


cdef void iter_run(NdIter* it, inner_loop_t fn, void* extra, index_t grain) noexcept nogil:
    cdef RunCtx ctx
    if it.numel == 0:
        return
    ctx.it = it
    ctx.fn = fn
    ctx.extra = extra
    if it.numel - grain < grain:        # numel < 2 * grain, without overflow for huge grains
        _run_range(&ctx, 0, it.numel)
    else:
        parallel_for(it.numel, grain, _run_range, &ctx)


cdef str _fmt(int n, const index_t* s):
    return "[" + ", ".join([str(s[i]) for i in range(n)]) + "]"


cdef int broadcast_shapes(int na, const index_t* a, int nb, const index_t* b, index_t* out) except -1:
    cdef int n = na if na > nb else nb, i, ia, ib
    cdef index_t sa, sb
    for i in range(n - 1, -1, -1):
        ia = i - (n - na)
        ib = i - (n - nb)
        sa = a[ia] if ia >= 0 else 1
        sb = b[ib] if ib >= 0 else 1
        if sa == sb or sb == 1:
            out[i] = sa
        elif sa == 1:
            out[i] = sb
        else:
            raise RuntimeError(f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) "
                               f"at non-singleton dimension {i} (shapes {_fmt(na, a)} and {_fmt(nb, b)})")
    return n
