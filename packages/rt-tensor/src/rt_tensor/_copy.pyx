# cython: language_level=3
"""Copy with broadcasting and dtype conversion: ``copy_``, ``contiguous``, ``to(dtype)``,
``__setitem__`` all end here. The loops are generated from _copy_loops.pxi.in."""
include "build_stamp.pxi"
import warnings

from libc.string cimport memcpy
from rt_tensor._types cimport *
from rt_tensor._dtype cimport ITEMSIZE, dtype_of, category
from rt_tensor._tensor cimport (Tensor, register_copy_hook, new_tensor, shape_numel)
from rt_tensor._iter cimport (NdIter, inner_loop_t, iter_init, iter_add, iter_coalesce, iter_run,
                              broadcast_shapes)
from rt_tensor._parallel cimport parallel_for, GRAIN_ELEMENTWISE

include "_copy_loops.pxi"


cdef inner_loop_t copy_loop(int src_dtype, int dst_dtype) noexcept nogil:
    return COPY_LOOPS[src_dtype][dst_dtype]


cdef str _fmt(Tensor t):
    return "[" + ", ".join([str(t._shape[i]) for i in range(t._ndim)]) + "]"


cdef void check_no_internal_overlap(Tensor t) except *:
    cdef int i
    for i in range(t._ndim):
        if t._strides[i] == 0 and t._shape[i] > 1:
            raise RuntimeError("unsupported operation: more than one element of the written-to "
                               "tensor refers to a single memory location. Please clone() the "
                               "tensor before performing the operation.")


cdef inline void _extent(Tensor t, index_t* lo, index_t* hi) noexcept:
    """Byte range [lo, hi) touched by t in its storage."""
    cdef index_t span = 0
    cdef int i
    for i in range(t._ndim):
        span += (t._shape[i] - 1) * t._strides[i]
    lo[0] = t._offset * ITEMSIZE[t._dtype]
    hi[0] = (t._offset + span + 1) * ITEMSIZE[t._dtype]


cdef int overlap_status(Tensor a, Tensor b) noexcept:
    cdef index_t alo, ahi, blo, bhi
    cdef int i
    if a._storage is not b._storage or a._numel == 0 or b._numel == 0:
        return 0
    _extent(a, &alo, &ahi)
    _extent(b, &blo, &bhi)
    if ahi <= blo or bhi <= alo:
        return 0
    if a._offset == b._offset and a._dtype == b._dtype and a._ndim == b._ndim:
        for i in range(a._ndim):
            if a._shape[i] != b._shape[i] or (a._shape[i] > 1 and a._strides[i] != b._strides[i]):
                break
        else:
            return 1
    if a.is_contig() and b.is_contig():
        return 2
    return 3


cdef struct MemcpyCtx:
    char* dst
    char* src
    index_t itemsize


cdef void _memcpy_range(void* vctx, index_t begin, index_t end) noexcept nogil:
    cdef MemcpyCtx* c = <MemcpyCtx*>vctx
    memcpy(c.dst + begin * c.itemsize, c.src + begin * c.itemsize, (end - begin) * c.itemsize)


cdef void copy_tensor(Tensor dst, Tensor src) except *:
    """dst[...] = src, broadcasting src to dst's shape and converting its dtype."""
    cdef index_t shape[MAX_DIMS]
    cdef int nd, i, status
    cdef NdIter it
    cdef MemcpyCtx mc
    if dst._ndim < src._ndim:
        # sizes of 1 in front broadcast away, as in PyTorch's expand
        nd = src._ndim - dst._ndim
        for i in range(nd):
            if src._shape[i] != 1:
                raise RuntimeError(f"The expanded size of the tensor ({dst._shape[0] if dst._ndim else 1}) "
                                   f"must match the existing size ({src._shape[i]}) at non-singleton "
                                   f"dimension 0.  Target sizes: {_fmt(dst)}.  Tensor sizes: {_fmt(src)}")
        src = src.reshape(tuple([src._shape[i] for i in range(nd, src._ndim)]))
    for i in range(src._ndim):
        j = i + dst._ndim - src._ndim
        if src._shape[i] != 1 and src._shape[i] != dst._shape[j]:
            raise RuntimeError(f"The expanded size of the tensor ({dst._shape[j]}) must match the "
                               f"existing size ({src._shape[i]}) at non-singleton dimension {j}.  "
                               f"Target sizes: {_fmt(dst)}.  Tensor sizes: {_fmt(src)}")
    if dst._numel == 0:
        return
    check_no_internal_overlap(dst)
    status = overlap_status(dst, src)
    if status == 1 and src._dtype == dst._dtype:
        dst._storage.version += 1
        return
    if status == 2:
        raise RuntimeError("unsupported operation: some elements of the input tensor and the "
                           "written-to tensor refer to a single memory location. Please clone() "
                           "the tensor before performing the operation.")
    if status == 3:
        src = src.clone()   # rt is stricter than PyTorch here: never a racy in-place copy
    if category(src._dtype) == 3 and category(dst._dtype) in (1, 2):   # not for bool, as PyTorch
        warnings.warn("Casting complex values to real discards the imaginary part",
                      UserWarning, stacklevel=3)
    dst._storage.version += 1
    if (src._dtype == dst._dtype and src._numel == dst._numel and src.is_contig()
            and dst.is_contig()):
        mc.dst = dst.ptr()
        mc.src = src.ptr()
        mc.itemsize = ITEMSIZE[dst._dtype]
        with nogil:
            if dst._numel >= 2 * GRAIN_ELEMENTWISE * 4:
                parallel_for(dst._numel, GRAIN_ELEMENTWISE * 4, _memcpy_range, &mc)
            else:
                memcpy(mc.dst, mc.src, dst._numel * mc.itemsize)
        return
    iter_init(&it, dst._ndim, dst._shape)
    iter_add(&it, dst)
    iter_add(&it, src)
    iter_coalesce(&it)
    with nogil:
        iter_run(&it, COPY_LOOPS[src._dtype][dst._dtype], NULL, GRAIN_ELEMENTWISE)


def copy_(Tensor dst, Tensor src):
    """``dst.copy_(src)``: broadcast and convert src into dst; returns dst."""
    copy_tensor(dst, src)
    return dst


def cast(Tensor src, dtype):
    """A contiguous copy of src converted to dtype."""
    from rt_tensor._dtype import _as_dtype
    cdef int code = _as_dtype(dtype).code
    cdef Tensor out = new_tensor(code, src._ndim, src._shape, False)
    copy_tensor(out, src)
    out._storage.version = 0
    return out


register_copy_hook(copy_tensor)
