# cython: language_level=3
"""Reductions: sum, mean, prod, max/min, amax/amin, argmax/argmin, var/std, norm, logsumexp,
all/any, count_nonzero, median, and the scans cumsum/cumprod/cummax/cummin/logcumsumexp.

Two engines, both nogil over strided input (any strides, including stride 0):

* accumulating reductions (sum, prod, max, all, ...) over any set of dims: the kept dims are
  ordered by input stride and coalesced, the reduced dims likewise. When the reduced dims are
  the inner ones in memory, each output reduces its block with a row kernel (8 accumulators,
  float32 accumulated in float64); when a kept dim is innermost (``sum(dim=0)`` of a
  C-contiguous matrix) a column kernel adds whole rows into a block of accumulators.
  Work is split over outputs, or, when there are few outputs, over a fixed number of chunks
  of the reduced range whose partials are combined in order: the chunking does not depend on
  the thread count, so results are identical for any number of threads.
* row kernels with outputs of their own (argmax, median, var, logsumexp, the scans): the
  reduced dims are moved last (copied only when they do not merge into one dim) and every
  output runs one kernel over its row.

Kernels come from _reduce_loops.pxi.in (Tempita, dtype table in codegen/kernel_table.py).
"""
include "build_stamp.pxi"
import collections
import warnings

from libc.math cimport INFINITY, NAN, exp, log, log1p, sqrt, fabs, hypot, pow
from libc.stdlib cimport malloc, free
from libc.string cimport memset
from libc.stdint cimport INT64_MIN, INT64_MAX
from rt_tensor._types cimport *
from rt_tensor._dtype cimport (dtype, dtype_of, ITEMSIZE, as_dtype, category, to_real_code,
                               default_float_code, can_cast_code)
from rt_tensor._tensor cimport (Tensor, new_tensor, make_view, wrap_dim, copy_into,
                                contiguous_tensor, shape_numel, resize_out)
from rt_tensor._parallel cimport parallel_for

__all__ = ["sum", "nansum", "mean", "nanmean", "prod", "max", "min", "amax", "amin", "aminmax",
           "argmax", "argmin", "var", "std", "var_mean", "std_mean", "norm", "logsumexp", "all",
           "any", "count_nonzero", "median", "nanmedian", "cumsum", "cumprod", "cummax",
           "cummin", "logcumsumexp", "trace"]

ctypedef void (*red_fn_t)(const char* p, index_t n, index_t s, void* acc, void* extra) noexcept nogil
ctypedef void (*col4_fn_t)(const char* p, index_t n, index_t s, index_t rs, index_t k, void* acc, void* extra) noexcept nogil
ctypedef void (*comb_fn_t)(void* dst, const void* src, index_t n) noexcept nogil
ctypedef void (*init_fn_t)(void* acc, index_t n) noexcept nogil
ctypedef void (*row2_fn_t)(const char* p, index_t n, index_t s, char* o0, index_t os0,
                           char* o1, index_t os1, void* extra) noexcept nogil

cdef extern from "rt_reduce_simd.h" nogil:
    float rt_row_maxmin_f32(const float* x, int64_t n, float acc, int is_max)
    double rt_row_maxmin_f64(const double* x, int64_t n, double acc, int is_max)
    double rt_row_sum_f32(const float* x, int64_t n)
    void rt_col_maxmin_f32(const float* x, int64_t n, float* a, int is_max)
    void rt_col_maxmin_f64(const double* x, int64_t n, double* a, int is_max)
    void rt_col4_maxmin_f32(const char* p, int64_t n, int64_t rs, float* a, int is_max)
    void rt_col4_maxmin_f64(const char* p, int64_t n, int64_t rs, double* a, int is_max)

cdef inline const double* sqdev_means(void* acc, void* extra) noexcept nogil:
    """The means for the accumulators starting at acc (partials repeat the layout)."""
    cdef SqdevExtra* e = <SqdevExtra*>extra
    return e.mean + ((<char*>acc - e.accbase) // 8) % e.nout


cdef struct VarExtra:
    double correction
    int take_sqrt

include "_reduce_loops.pxi"

cdef enum:
    GRAIN = 32768          # elements of work below which a task is not split further
    MAX_CHUNKS = 64        # chunks of the reduced range when there are few outputs
    JBLOCK = 4096           # accumulators per column-kernel block

from rt_tensor import return_types

_max_rt = return_types.max
_min_rt = return_types.min
_median_rt = return_types.median
_nanmedian_rt = return_types.nanmedian
_cummax_rt = return_types.cummax
_cummin_rt = return_types.cummin
_aminmax_rt = return_types.aminmax


# =======================================================================================
# engine 1: accumulating reductions
# =======================================================================================

cdef struct RedCtx:
    red_fn_t fn
    col4_fn_t col4
    void* extra
    char* base
    char* acc            # the accumulators (K == 1) or the partials (K > 1), [k][nout]
    index_t accsz
    int no
    index_t oshape[MAX_DIMS]
    index_t ostr[MAX_DIMS]     # input byte strides of the kept dims (outer -> inner)
    index_t nout
    int nr
    index_t rshape[MAX_DIMS]
    index_t rstr[MAX_DIMS]     # input byte strides of the reduced dims (outer -> inner)
    index_t nred
    index_t K
    index_t rchunk
    # column mode: the innermost kept dim is split into blocks of jblock
    index_t nj
    index_t sj
    index_t njb
    index_t nouter


cdef inline char* _offset_of(index_t o, int nd, const index_t* shape, const index_t* strides,
                             char* base) noexcept nogil:
    cdef int d
    cdef index_t q
    for d in range(nd - 1, -1, -1):
        q = o % shape[d]
        o = o // shape[d]
        base += q * strides[d]
    return base


cdef void _row_range(RedCtx* c, char* p, index_t rb, index_t re, void* accp) noexcept nogil:
    """Reduce the flat range [rb, re) of the reduced block at p into accp (row kernels)."""
    cdef int nr = c.nr, d
    cdef index_t idx[MAX_DIMS]
    cdef index_t rem = rb, n, L = c.rshape[nr - 1], rs = c.rstr[nr - 1]
    cdef char* q = p
    for d in range(nr - 1, -1, -1):
        idx[d] = rem % c.rshape[d]
        rem = rem // c.rshape[d]
        q += idx[d] * c.rstr[d]
    while rb < re:
        n = L - idx[nr - 1]
        if n > re - rb:
            n = re - rb
        c.fn(q, n, rs, accp, c.extra)
        rb += n
        if rb >= re:
            break
        q -= idx[nr - 1] * rs
        idx[nr - 1] = 0
        d = nr - 2
        while d >= 0:
            idx[d] += 1
            q += c.rstr[d]
            if idx[d] < c.rshape[d]:
                break
            q -= c.rshape[d] * c.rstr[d]
            idx[d] = 0
            d -= 1


cdef void _col_range(RedCtx* c, char* p, index_t rb, index_t re, index_t n, void* accp) noexcept nogil:
    """Add every reduced position in [rb, re) of the block at p, n kept elements wide."""
    cdef int nr = c.nr, d
    cdef index_t idx[MAX_DIMS]
    cdef index_t rem = rb, m, k, L = c.rshape[nr - 1], rs = c.rstr[nr - 1]
    cdef char* q = p
    for d in range(nr - 1, -1, -1):
        idx[d] = rem % c.rshape[d]
        rem = rem // c.rshape[d]
        q += idx[d] * c.rstr[d]
    while rb < re:
        # a run along the innermost reduced dim: four rows per pass over the accumulators
        m = L - idx[nr - 1]
        if m > re - rb:
            m = re - rb
        k = 0
        while k + 8 <= m:
            c.col4(q + k * rs, n, c.sj, rs, 8, accp, c.extra)
            k += 8
        while k + 4 <= m:
            c.col4(q + k * rs, n, c.sj, rs, 4, accp, c.extra)
            k += 4
        while k < m:
            c.fn(q + k * rs, n, c.sj, accp, c.extra)
            k += 1
        rb += m
        if rb >= re:
            break
        q -= idx[nr - 1] * rs
        idx[nr - 1] = 0
        d = nr - 2
        while d >= 0:
            idx[d] += 1
            q += c.rstr[d]
            if idx[d] < c.rshape[d]:
                break
            q -= c.rshape[d] * c.rstr[d]
            idx[d] = 0
            d -= 1


cdef void _inner_task(void* vctx, index_t b, index_t e) noexcept nogil:
    cdef RedCtx* c = <RedCtx*>vctx
    cdef index_t t, k, o, rb, re
    for t in range(b, e):
        k = t // c.nout
        o = t - k * c.nout
        rb = k * c.rchunk
        re = rb + c.rchunk
        if re > c.nred:
            re = c.nred
        _row_range(c, _offset_of(o, c.no, c.oshape, c.ostr, c.base), rb, re,
                   c.acc + t * c.accsz)


cdef void _col_task(void* vctx, index_t b, index_t e) noexcept nogil:
    cdef RedCtx* c = <RedCtx*>vctx
    cdef index_t t, k, rest, outer, jb, rb, re, n, per = c.nouter * c.njb
    cdef char* p
    for t in range(b, e):
        k = t // per
        rest = t - k * per
        outer = rest // c.njb
        jb = rest - outer * c.njb
        rb = k * c.rchunk
        re = rb + c.rchunk
        if re > c.nred:
            re = c.nred
        n = c.nj - jb * JBLOCK
        if n > JBLOCK:
            n = JBLOCK
        p = _offset_of(outer, c.no - 1, c.oshape, c.ostr, c.base) + jb * JBLOCK * c.sj
        _col_range(c, p, rb, re, n,
                   c.acc + (k * c.nout + outer * c.nj + jb * JBLOCK) * c.accsz)


cdef void _sort_dims(int n, int* dims, const index_t* strides) noexcept:
    """Stable insertion sort of dims by stride, largest first."""
    cdef int i, j, t
    for i in range(1, n):
        j = i
        while j > 0 and strides[dims[j - 1]] < strides[dims[j]]:
            t = dims[j]; dims[j] = dims[j - 1]; dims[j - 1] = t
            j -= 1


cdef int _coalesce(int n, index_t* shape, index_t* strides) noexcept:
    """Drop size-1 dims and merge neighbours that step as one; returns the new count."""
    cdef int i, m = 0
    for i in range(n):
        if shape[i] == 1:
            continue
        if m > 0 and strides[m - 1] == strides[i] * shape[i]:
            shape[m - 1] *= shape[i]
            strides[m - 1] = strides[i]
            continue
        shape[m] = shape[i]
        strides[m] = strides[i]
        m += 1
    return m


cdef Tensor reduce_acc(Tensor x, int op, const bint* rmask, void* extra):
    """Run accumulating reduction `op` of x over the dims where rmask is set. Returns the
    accumulators as a tensor of the acc dtype shaped as the kept dims (in x's order; the
    strides may be permuted)."""
    cdef int dt = x._dtype, accdt = RED_ACC[op][dt]
    cdef int nd = x._ndim, i, d, q, nko = 0, nkr = 0
    cdef int odims[MAX_DIMS]
    cdef int rdims[MAX_DIMS]
    cdef index_t isz = ITEMSIZE[dt]
    cdef index_t bstr[MAX_DIMS]
    cdef index_t accshape[MAX_DIMS]
    cdef index_t accstr_sorted[MAX_DIMS]
    cdef index_t vshape[MAX_DIMS]
    cdef index_t vstr[MAX_DIMS]
    cdef RedCtx c
    cdef Tensor acc, view
    cdef index_t ntasks, work, grain, r_inner, partial_n
    cdef bint column = False
    cdef char* partials = NULL
    cdef comb_fn_t comb = RED_COMB[op][dt]
    cdef init_fn_t init = RED_INIT[op][dt]
    cdef index_t accsz = ITEMSIZE[accdt] if accdt >= 0 else 0
    if RED_ROW[op][dt] == NULL:
        raise RuntimeError(f"reduction {op} is not implemented for '{_sname(dt)}'")
    for d in range(nd):
        bstr[d] = x._strides[d] * isz
        if rmask[d]:
            rdims[nkr] = d
            nkr += 1
        else:
            odims[nko] = d
            nko += 1
    _sort_dims(nko, odims, bstr)
    _sort_dims(nkr, rdims, bstr)
    # the accumulators are contiguous in the sorted order of the kept dims
    for i in range(nko):
        accshape[i] = x._shape[odims[i]]
    acc = new_tensor(accdt, nko, accshape, False)
    for i in range(nko):
        accstr_sorted[i] = acc._strides[i]
    # the view in x's order of the kept dims
    i = 0
    for d in range(nd):
        if not rmask[d]:
            vshape[i] = x._shape[d]
            i += 1
    for i in range(nko):
        # odims[i] is the i-th kept dim in sorted order; find its position in x's order
        d = 0
        for q in range(odims[i]):
            if not rmask[q]:
                d += 1
        vstr[d] = accstr_sorted[i]
    view = make_view(acc, nko, vshape, vstr, 0)
    if acc._numel == 0:
        return view
    c.fn = RED_ROW[op][dt]
    c.extra = extra
    c.base = x.ptr()
    c.accsz = accsz
    for i in range(nko):
        c.oshape[i] = x._shape[odims[i]]
        c.ostr[i] = bstr[odims[i]]
    c.no = _coalesce(nko, c.oshape, c.ostr)
    for i in range(nkr):
        c.rshape[i] = x._shape[rdims[i]]
        c.rstr[i] = bstr[rdims[i]]
    c.nred = 1
    for i in range(nkr):
        c.nred *= c.rshape[i]
    c.nr = _coalesce(nkr, c.rshape, c.rstr)
    if c.nr == 0:
        c.nr = 1
        c.rshape[0] = 1
        c.rstr[0] = 0
    c.nout = acc._numel
    if c.nred == 0:
        init(acc.ptr(), c.nout)
        return view
    with nogil:
        r_inner = c.rshape[c.nr - 1]
        if c.no >= 1 and c.oshape[c.no - 1] >= 8 and (c.ostr[c.no - 1] < c.rstr[c.nr - 1] or r_inner < 4):
            column = True
            c.fn = RED_COL[op][dt]
            c.col4 = RED_COL4[op][dt]
            c.nj = c.oshape[c.no - 1]
            c.sj = c.ostr[c.no - 1]
            c.njb = (c.nj + JBLOCK - 1) // JBLOCK
            c.nouter = c.nout // c.nj
            ntasks = c.nouter * c.njb
            work = (c.nj if c.nj < JBLOCK else JBLOCK) * c.nred
        else:
            ntasks = c.nout
            work = c.nred
        # few independent tasks and much work: also split the reduced range
        c.K = 1
        if ntasks < 8 and work >= 2 * GRAIN and c.nred > 1:
            c.K = work // GRAIN
            if c.K > MAX_CHUNKS:
                c.K = MAX_CHUNKS
            if c.K > c.nred:
                c.K = c.nred
        c.rchunk = (c.nred + c.K - 1) // c.K
        c.K = (c.nred + c.rchunk - 1) // c.rchunk
        if c.K > 1:
            work = work // c.K + 1
            partial_n = c.K * c.nout
            partials = <char*>malloc(partial_n * accsz)
            if partials == NULL:
                with gil:
                    raise MemoryError("reduction: out of memory for partial results")
            init(partials, partial_n)
            c.acc = partials
        else:
            init(acc.ptr(), c.nout)
            c.acc = acc.ptr()
        if op == R_SQDEV:
            (<SqdevExtra*>extra).accbase = c.acc
            (<SqdevExtra*>extra).nout = c.nout
        ntasks = ntasks * c.K
        grain = GRAIN // work if work > 0 else 1
        if grain < 1:
            grain = 1
        if ntasks * work < 2 * GRAIN:
            if column:
                _col_task(&c, 0, ntasks)
            else:
                _inner_task(&c, 0, ntasks)
        elif column:
            parallel_for(ntasks, grain, _col_task, &c)
        else:
            parallel_for(ntasks, grain, _inner_task, &c)
        if c.K > 1:
            init(acc.ptr(), c.nout)
            for i in range(c.K):
                comb(acc.ptr(), partials + i * c.nout * accsz, c.nout)
            free(partials)
    return view


# =======================================================================================
# engine 2: one kernel per row
# =======================================================================================

cdef struct RowCtx:
    row2_fn_t fn
    void* extra
    char* base
    int no
    index_t oshape[MAX_DIMS]
    index_t ostr[MAX_DIMS]
    index_t n
    index_t s
    char* o0
    index_t o0step      # bytes from one output index to the next
    index_t os0         # bytes along the row (scans)
    char* o1
    index_t o1step
    index_t os1


cdef void _row2_task(void* vctx, index_t b, index_t e) noexcept nogil:
    cdef RowCtx* c = <RowCtx*>vctx
    cdef index_t o
    for o in range(b, e):
        c.fn(_offset_of(o, c.no, c.oshape, c.ostr, c.base), c.n, c.s,
             c.o0 + o * c.o0step if c.o0 != NULL else NULL, c.os0,
             c.o1 + o * c.o1step if c.o1 != NULL else NULL, c.os1, c.extra)


cdef void run_rows(Tensor rows, row2_fn_t fn, Tensor o0, Tensor o1, bint scan, void* extra) except *:
    """rows: (kept..., R) with any strides; o0/o1 contiguous, shaped (kept...) or, for scans,
    (kept..., R). Calls fn once per kept index."""
    cdef RowCtx c
    cdef int i, nd = rows._ndim
    cdef index_t isz = ITEMSIZE[rows._dtype], nout = 1, grain
    if fn == NULL:
        raise RuntimeError(f"this reduction is not implemented for '{_sname(rows._dtype)}'")
    c.fn = fn
    c.extra = extra
    c.base = rows.ptr()
    c.no = nd - 1
    for i in range(nd - 1):
        c.oshape[i] = rows._shape[i]
        c.ostr[i] = rows._strides[i] * isz
        nout *= rows._shape[i]
    c.n = rows._shape[nd - 1]
    c.s = rows._strides[nd - 1] * isz
    c.o0 = o0.ptr() if o0 is not None else NULL
    c.o1 = o1.ptr() if o1 is not None else NULL
    c.o0step = c.o1step = c.os0 = c.os1 = 0
    if o0 is not None:
        c.os0 = ITEMSIZE[o0._dtype] if scan else 0
        c.o0step = ITEMSIZE[o0._dtype] * (c.n if scan else 1)
    if o1 is not None:
        c.os1 = ITEMSIZE[o1._dtype] if scan else 0
        c.o1step = ITEMSIZE[o1._dtype] * (c.n if scan else 1)
    if nout == 0 or (scan and c.n == 0):
        return
    grain = GRAIN // c.n if c.n > 0 else GRAIN
    if grain < 1:
        grain = 1
    with nogil:
        if nout < 2 * grain:
            _row2_task(&c, 0, nout)
        else:
            parallel_for(nout, grain, _row2_task, &c)


# =======================================================================================
# argument handling
# =======================================================================================

cdef str _sname(int code):
    return dtype_of(code).scalar_name


cdef int parse_dims(Tensor x, object dim, bint* mask, str fname, bint empty_is_all=True) except -1:
    """Fill mask[0..ndim) from dim (None, int, or a sequence of ints); returns the number of
    reduced dims. None and (when empty_is_all) an empty sequence mean every dim."""
    cdef int nd = x._ndim, d, i, count = 0
    for i in range(nd):
        mask[i] = False
    if dim is None:
        for i in range(nd):
            mask[i] = True
        return nd
    if isinstance(dim, (tuple, list)):
        if len(dim) == 0 and empty_is_all:
            for i in range(nd):
                mask[i] = True
            return nd
        for item in dim:
            if isinstance(item, bool) or not isinstance(item, int):
                if isinstance(item, Tensor) or hasattr(item, "__index__"):
                    item = item.__index__()
                else:
                    raise TypeError(f"{fname}(): argument 'dim' must be tuple of ints, but found "
                                    f"element of type {type(item).__name__}")
            d = wrap_dim(item, nd)
            if nd == 0:
                continue
            if mask[d]:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
            mask[d] = True
            count += 1
        return count
    if isinstance(dim, bool) or not (isinstance(dim, int) or hasattr(dim, "__index__")):
        raise TypeError(f"{fname}(): argument 'dim' must be int or tuple of ints, not "
                        f"{type(dim).__name__}")
    d = wrap_dim(dim.__index__(), nd)
    if nd > 0:
        mask[d] = True
        count = 1
    return count


cdef int single_dim(Tensor x, object dim, str fname) except -100:
    if isinstance(dim, bool) or not (isinstance(dim, int) or hasattr(dim, "__index__")):
        raise TypeError(f"{fname}(): argument 'dim' must be int, not {type(dim).__name__}")
    return wrap_dim(dim.__index__(), x._ndim)


cdef Tensor _keep(Tensor r, Tensor x, const bint* mask, bint keepdim):
    """r is shaped as the kept dims; with keepdim, insert the reduced dims as size 1."""
    cdef index_t shape[MAX_DIMS]
    cdef index_t strides[MAX_DIMS]
    cdef int d, j = 0
    if not keepdim:
        return r
    for d in range(x._ndim):
        if mask[d]:
            shape[d] = 1
            strides[d] = 0
        else:
            shape[d] = r._shape[j]
            strides[d] = r._strides[j]
            j += 1
    return make_view(r, x._ndim, shape, strides, r._offset)


cdef Tensor _ensure_tensor(object x, str fname):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(x).__name__}")
    return <Tensor>x


cdef object finish(Tensor r, int res_dtype, object out, str fname):
    """r (any strides, any dtype) -> a contiguous result of res_dtype, or written into out."""
    cdef Tensor o, res
    if out is None:
        if r._dtype == res_dtype and r.is_contig() and r._offset == 0:
            return r
        res = new_tensor(res_dtype, r._ndim, r._shape, False)
        copy_into(res, r)
        return res
    if not isinstance(out, Tensor):
        raise TypeError(f"{fname}(): argument 'out' must be Tensor, not {type(out).__name__}")
    o = <Tensor>out
    if o._dtype != res_dtype:
        raise RuntimeError(f"Expected out tensor to have dtype {dtype_of(res_dtype)}, but got "
                           f"{dtype_of(o._dtype)} instead")
    resize_out(o, r._ndim, r._shape)
    copy_into(o, r)
    return o


cdef Tensor _cast(Tensor x, int code):
    if x._dtype == code:
        return x
    cdef Tensor res = new_tensor(code, x._ndim, x._shape, False)
    copy_into(res, x)
    return res


cdef int _opt_dtype(object d) except -2:
    if d is None:
        return -1
    return as_dtype(d).code


cdef inline bint _is_int_kind(int code) noexcept:
    return category(code) <= 1


cdef void _scale(Tensor acc, double f) noexcept:
    """acc *= f for a float64/complex128 accumulator tensor (contiguous data, any view)."""
    cdef index_t i, n = shape_numel(acc._ndim, acc._shape)
    cdef double* d
    cdef complex128_t* z
    # accumulator views are permutations of a contiguous buffer: walk the buffer
    if acc._dtype == DT_FLOAT64:
        d = <double*>acc.ptr()
        for i in range(n):
            d[i] = d[i] * f
    elif acc._dtype == DT_COMPLEX128:
        z = <complex128_t*>acc.ptr()
        for i in range(n):
            z[i] = z[i] * f


cdef index_t _count(Tensor x, const bint* mask):
    cdef index_t n = 1
    cdef int d
    for d in range(x._ndim):
        if mask[d]:
            n *= x._shape[d]
    return n


# =======================================================================================
# sum, nansum, mean, nanmean, prod
# =======================================================================================

def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum of the elements over ``dim`` (``torch.sum``). Bool and integer inputs sum to int64
    unless ``dtype`` is given; float16/bfloat16/float32 accumulate in float64."""
    cdef Tensor x = _ensure_tensor(input, "sum")
    cdef bint mask[MAX_DIMS]
    cdef int dt = _opt_dtype(dtype), res
    if isinstance(dim, Tensor):
        raise TypeError("sum(): argument 'dim' must be tuple of ints, not Tensor")
    parse_dims(x, dim, mask, "sum")
    if dt >= 0:
        x = _cast(x, dt)
        res = dt
    elif out is not None and isinstance(out, Tensor):
        res = (<Tensor>out)._dtype
    else:
        res = DT_INT64 if _is_int_kind(x._dtype) else x._dtype
    r = reduce_acc(x, R_SUM, mask, NULL)
    return finish(_keep(r, x, mask, keepdim), res, out, "sum")


def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum treating NaN as zero (``torch.nansum``)."""
    cdef Tensor x = _ensure_tensor(input, "nansum")
    cdef bint mask[MAX_DIMS]
    cdef int dt = _opt_dtype(dtype), res
    parse_dims(x, dim, mask, "nansum")
    if dt >= 0:
        x = _cast(x, dt)
    if category(x._dtype) == 3:
        raise RuntimeError("nansum does not support complex inputs")
    res = dt if dt >= 0 else (DT_INT64 if _is_int_kind(x._dtype) else x._dtype)
    r = reduce_acc(x, R_NANSUM, mask, NULL)
    return finish(_keep(r, x, mask, keepdim), res, out, "nansum")


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Arithmetic mean over ``dim`` (``torch.mean``); floating point and complex only."""
    cdef Tensor x = _ensure_tensor(input, "mean")
    cdef bint mask[MAX_DIMS]
    cdef int dt = _opt_dtype(dtype)
    cdef Tensor r
    parse_dims(x, dim, mask, "mean")
    if dt < 0 and _is_int_kind(x._dtype):
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {_sname(x._dtype)}")
    if dt >= 0:
        if _is_int_kind(dt):
            raise RuntimeError("mean(): could not infer output dtype. Optional dtype must be "
                               f"either a floating point or complex dtype. Got: {_sname(dt)}")
        x = _cast(x, dt)
    r = reduce_acc(x, R_SUM, mask, NULL)
    cdef index_t n = _count(x, mask)
    _scale(r, 1.0 / n if n > 0 else NAN)
    return finish(_keep(r, x, mask, keepdim), x._dtype, out, "mean")


def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean of the non-NaN elements (``torch.nanmean``)."""
    cdef Tensor x = _ensure_tensor(input, "nanmean")
    cdef bint mask[MAX_DIMS]
    cdef int dt = _opt_dtype(dtype)
    cdef Tensor s, c
    cdef index_t i, n
    parse_dims(x, dim, mask, "nanmean")
    if dt >= 0:
        x = _cast(x, dt)
    if _is_int_kind(x._dtype):
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype "
                           f"but got {_sname(x._dtype)}")
    if category(x._dtype) == 3:
        s = reduce_acc(x, R_SUM, mask, NULL)   # (complex NaN handling: as sum)
    else:
        s = reduce_acc(x, R_NANSUM, mask, NULL)
    c = reduce_acc(x, R_CNN, mask, NULL)
    # both accumulators are laid out identically (same dims, same order)
    n = shape_numel(s._ndim, s._shape)
    cdef double* sd = <double*>s.ptr()
    cdef complex128_t* sz = <complex128_t*>s.ptr()
    cdef int64_t* cd = <int64_t*>c.ptr()
    for i in range(n):
        if s._dtype == DT_FLOAT64:
            sd[i] = sd[i] / <double>cd[i] if cd[i] > 0 else NAN
        else:
            sz[i] = sz[i] / <double>cd[i] if cd[i] > 0 else NAN
    return finish(_keep(s, x, mask, keepdim), x._dtype, out, "nanmean")


def prod(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Product of the elements (``torch.prod``); ``dim`` is a single int. Bool and integer
    inputs give int64 unless ``dtype`` is given."""
    cdef Tensor x = _ensure_tensor(input, "prod")
    cdef bint mask[MAX_DIMS]
    cdef int dt = _opt_dtype(dtype), res
    if dim is not None and (isinstance(dim, (tuple, list, bool)) or not hasattr(dim, "__index__")):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    parse_dims(x, dim, mask, "prod")
    if dt >= 0:
        x = _cast(x, dt)
        res = dt
    else:
        res = DT_INT64 if _is_int_kind(x._dtype) else x._dtype
    r = reduce_acc(x, R_PROD, mask, NULL)
    return finish(_keep(r, x, mask, keepdim), res, out, "prod")


def trace(input):
    """Sum of the main diagonal of a 2-D tensor (``torch.trace``)."""
    cdef Tensor x = _ensure_tensor(input, "trace")
    if x._ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x._ndim}")
    return sum(x.diagonal())


# =======================================================================================
# max, min, amax, amin, aminmax, argmax, argmin
# =======================================================================================

cdef void _check_not_complex(Tensor x, str fname) except *:
    if category(x._dtype) == 3:
        raise RuntimeError(f"{fname} is not yet implemented for complex tensors.")


cdef void _zero_numel_check(Tensor x, const bint* mask, int nred, str fname) except *:
    """PyTorch's zero_numel_check_dims for reductions without an identity."""
    cdef int d
    if x._numel != 0:
        return
    if nred == 0 and x._ndim > 0:
        raise RuntimeError(f"{fname}: Expected reduction dim to be specified for "
                           "input.numel() == 0. Specify the reduction dim with the 'dim' argument.")
    for d in range(x._ndim):
        if mask[d] and x._shape[d] == 0:
            raise IndexError(f"{fname}: Expected reduction dim {d} to have non-zero size.")


cdef object _minmax_all(Tensor x, int op, str fname):
    cdef bint mask[MAX_DIMS]
    _check_not_complex(x, fname)
    if x._numel == 0:
        raise RuntimeError(f"{fname}(): Expected reduction dim to be specified for input.numel() "
                           "== 0. Specify the reduction dim with the 'dim' argument.")
    parse_dims(x, None, mask, fname)
    return finish(reduce_acc(x, op, mask, NULL), x._dtype, None, fname)


cdef object _minmax_dim(Tensor x, object dim, bint keepdim, object out, bint is_max):
    cdef str fname = "max" if is_max else "min"
    cdef int d, i
    cdef row2_fn_t* table = &ARGMIN_FN[0]
    if is_max:
        table = &ARGMAX_FN[0]
    cdef bint mask[MAX_DIMS]
    _check_not_complex(x, fname)
    d = single_dim(x, dim, fname)
    for i in range(x._ndim):
        mask[i] = (i == d)
    if x._ndim > 0 and x._shape[d] == 0:
        raise IndexError(f"{fname}(): Expected reduction dim {d} to have non-zero size.")
    values, indices = _arg_rows(x, mask, table, True)
    values = _keep(values, x, mask, keepdim)
    indices = _keep(indices, x, mask, keepdim)
    if out is not None:
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError(f"{fname}(): argument 'out' must be a tuple of 2 Tensors")
        values = finish(values, x._dtype, out[0], fname)
        indices = finish(indices, DT_INT64, out[1], fname)
    else:
        values = finish(values, x._dtype, None, fname)
        indices = finish(indices, DT_INT64, None, fname)
    return (_max_rt if is_max else _min_rt)(values, indices)


cdef tuple _arg_rows(Tensor x, const bint* mask, row2_fn_t* table, bint want_values):
    """(values or None, int64 indices) shaped as the kept dims, one row per kept index over
    the masked dims (flattened in x's order)."""
    cdef Tensor rows = _as_rows(x, mask)
    cdef Tensor vals = None, idx
    cdef int nd = rows._ndim
    idx = new_tensor(DT_INT64, nd - 1, rows._shape, False)
    if want_values:
        vals = new_tensor(x._dtype, nd - 1, rows._shape, False)
    run_rows(rows, table[x._dtype], vals, idx, False, NULL)
    return vals, idx


cdef Tensor _as_rows(Tensor x, const bint* mask):
    """x with the masked dims moved last and merged into one: (kept..., R). A view when the
    strides allow, else a copy."""
    cdef list perm = [], kept = []
    cdef int d
    cdef index_t R = 1
    for d in range(x._ndim):
        if not mask[d]:
            perm.append(d)
            kept.append(x._shape[d])
    for d in range(x._ndim):
        if mask[d]:
            perm.append(d)
            R *= x._shape[d]
    kept.append(R)
    if x._ndim == 0:
        return x.reshape(1)
    return x.permute(*perm).reshape(*kept)


def max(input, dim=None, keepdim=False, *, out=None):
    """``torch.max``: the largest element (a 0-d tensor); with ``dim``, a namedtuple
    ``(values, indices)`` (first occurrence); with a tensor second argument, the elementwise
    maximum. NaN propagates."""
    cdef Tensor x = _ensure_tensor(input, "max")
    if isinstance(dim, Tensor):
        from rt_tensor import _elementwise
        if out is None:
            return _elementwise.maximum(x, dim)
        return _elementwise.maximum(x, dim, out=out)
    if dim is None:
        if out is not None:
            return finish(_minmax_all(x, R_MAX, "max"), x._dtype, out, "max")
        return _minmax_all(x, R_MAX, "max")
    return _minmax_dim(x, dim, keepdim, out, True)


def min(input, dim=None, keepdim=False, *, out=None):
    """``torch.min``: the smallest element; with ``dim``, ``(values, indices)``; with a tensor
    second argument, the elementwise minimum. NaN propagates."""
    cdef Tensor x = _ensure_tensor(input, "min")
    if isinstance(dim, Tensor):
        from rt_tensor import _elementwise
        if out is None:
            return _elementwise.minimum(x, dim)
        return _elementwise.minimum(x, dim, out=out)
    if dim is None:
        if out is not None:
            return finish(_minmax_all(x, R_MIN, "min"), x._dtype, out, "min")
        return _minmax_all(x, R_MIN, "min")
    return _minmax_dim(x, dim, keepdim, out, False)


cdef object _amaxmin(object input, object dim, bint keepdim, object out, int op, str fname):
    cdef Tensor x = _ensure_tensor(input, fname)
    cdef bint mask[MAX_DIMS]
    cdef int nred
    _check_not_complex(x, fname)
    nred = parse_dims(x, dim, mask, fname)
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        nred = 0
    _zero_numel_check(x, mask, nred if dim is not None else 0, fname + "()")
    r = reduce_acc(x, op, mask, NULL)
    return finish(_keep(r, x, mask, keepdim), x._dtype, out, fname)


def amax(input, dim=(), keepdim=False, *, out=None):
    """Largest elements over ``dim`` (``torch.amax``; ``dim=()`` means all). NaN propagates."""
    return _amaxmin(input, dim, keepdim, out, R_MAX, "amax")


def amin(input, dim=(), keepdim=False, *, out=None):
    """Smallest elements over ``dim`` (``torch.amin``; ``dim=()`` means all)."""
    return _amaxmin(input, dim, keepdim, out, R_MIN, "amin")


def aminmax(input, *, dim=None, keepdim=False, out=None):
    """``(min, max)`` over ``dim`` (or all elements) as a namedtuple (``torch.aminmax``)."""
    cdef Tensor x = _ensure_tensor(input, "aminmax")
    cdef bint mask[MAX_DIMS]
    _check_not_complex(x, "aminmax")
    if dim is None:
        if x._numel == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                               "operation has no identity.")
        if keepdim:
            parse_dims(x, None, mask, "aminmax")
        else:
            for d in range(x._ndim):
                mask[d] = True
    else:
        d = single_dim(x, dim, "aminmax")
        for i in range(x._ndim):
            mask[i] = (i == d)
        if x._ndim > 0 and x._shape[d] == 0:
            raise IndexError(f"aminmax(): Expected reduction dim {d} to have non-zero size.")
    lo = _keep(reduce_acc(x, R_MIN, mask, NULL), x, mask, keepdim)
    hi = _keep(reduce_acc(x, R_MAX, mask, NULL), x, mask, keepdim)
    if out is not None:
        return _aminmax_rt(finish(lo, x._dtype, out[0], "aminmax"),
                           finish(hi, x._dtype, out[1], "aminmax"))
    return _aminmax_rt(finish(lo, x._dtype, None, "aminmax"), finish(hi, x._dtype, None, "aminmax"))


cdef object _argmaxmin(object input, object dim, bint keepdim, bint is_max, object out):
    cdef str fname = "argmax" if is_max else "argmin"
    cdef Tensor x = _ensure_tensor(input, fname)
    cdef bint mask[MAX_DIMS]
    cdef int d, i
    cdef row2_fn_t* table = &ARGMIN_FN[0]
    if is_max:
        table = &ARGMAX_FN[0]
    _check_not_complex(x, fname)
    if dim is None:
        if x._numel == 0:
            raise IndexError(f"{fname}(): Expected reduction dim to be specified for "
                             "input.numel() == 0.")
        for i in range(x._ndim):
            mask[i] = True
    else:
        d = single_dim(x, dim, fname)
        for i in range(x._ndim):
            mask[i] = (i == d)
        if x._ndim > 0 and x._shape[d] == 0:
            raise IndexError(f"{fname}(): Expected reduction dim {d} to have non-zero size.")
    _, idx = _arg_rows(x, mask, table, False)
    return finish(_keep(idx, x, mask, keepdim), DT_INT64, out, fname)


def argmax(input, dim=None, keepdim=False, *, out=None):
    """Index of the largest element (flattened when ``dim`` is None), first occurrence; a NaN
    counts as the largest (``torch.argmax``)."""
    if isinstance(input, Tensor) and (<Tensor>input)._dtype == DT_BOOL:
        raise RuntimeError("argmax(): does not support bool input")
    return _argmaxmin(input, dim, keepdim, True, out)


def argmin(input, dim=None, keepdim=False, *, out=None):
    """Index of the smallest element (``torch.argmin``)."""
    if isinstance(input, Tensor) and (<Tensor>input)._dtype == DT_BOOL:
        raise RuntimeError("argmin(): does not support bool input")
    return _argmaxmin(input, dim, keepdim, False, out)


# =======================================================================================
# all, any, count_nonzero
# =======================================================================================

cdef object _allany(object input, object dim, bint keepdim, object out, int op, str fname):
    cdef Tensor x = _ensure_tensor(input, fname)
    cdef bint mask[MAX_DIMS]
    parse_dims(x, dim, mask, fname)
    r = reduce_acc(x, op, mask, NULL)
    return finish(_keep(r, x, mask, keepdim), DT_UINT8 if x._dtype == DT_UINT8 else DT_BOOL,
                  out, fname)


def all(input, dim=None, keepdim=False, *, out=None):
    """True where every element over ``dim`` is nonzero (``torch.all``; uint8 in, uint8 out)."""
    return _allany(input, dim, keepdim, out, R_ALL, "all")


def any(input, dim=None, keepdim=False, *, out=None):
    """True where some element over ``dim`` is nonzero (``torch.any``)."""
    return _allany(input, dim, keepdim, out, R_ANY, "any")


def count_nonzero(input, dim=None):
    """Number of nonzero elements over ``dim`` (int64; ``torch.count_nonzero``)."""
    cdef Tensor x = _ensure_tensor(input, "count_nonzero")
    cdef bint mask[MAX_DIMS]
    parse_dims(x, dim, mask, "count_nonzero")
    return finish(reduce_acc(x, R_CNZ, mask, NULL), DT_INT64, None, "count_nonzero")


# =======================================================================================
# var, std, var_mean, std_mean
# =======================================================================================

cdef tuple _var_impl(object input, object dim, object unbiased, object keepdim, object correction,
                     bint take_sqrt, bint want_mean, object out, str fname):
    cdef Tensor x = _ensure_tensor(input, fname)
    cdef bint mask[MAX_DIMS]
    cdef VarExtra e
    cdef Tensor rows, v, m = None
    cdef int real
    cdef index_t n, nout
    if isinstance(dim, bool):          # var(input, unbiased)
        if unbiased is not None and not isinstance(unbiased, bool):
            keepdim = unbiased
        unbiased = dim
        dim = None
    if _is_int_kind(x._dtype):
        raise RuntimeError(f"{fname}(): std and var only support floating point and complex "
                           f"dtypes")
    if correction is not None and unbiased is not None:
        raise RuntimeError(f"{fname}(): cannot specify both unbiased and correction")
    if correction is None:
        e.correction = 0.0 if unbiased is False else 1.0
    else:
        e.correction = float(correction)
    e.take_sqrt = take_sqrt
    parse_dims(x, dim, mask, fname)
    n = _count(x, mask)
    nout = x._numel // n if n > 0 else 0
    if n - e.correction <= 0 and nout > 0:
        warnings.warn(f"{fname}(): degrees of freedom is <= 0. Correction should be strictly "
                      "less than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=3)
    real = to_real_code(x._dtype)
    if category(x._dtype) == 2:
        return _var_real(x, mask, n, &e, want_mean, keepdim, out, fname, real)
    rows = _as_rows(x, mask)
    v = new_tensor(DT_FLOAT64, rows._ndim - 1, rows._shape, False)
    if want_mean:
        m = new_tensor(DT_COMPLEX128 if category(x._dtype) == 3 else DT_FLOAT64,
                       rows._ndim - 1, rows._shape, False)
    if n == 0:
        _fill_nan(v)
        if m is not None:
            _fill_nan(m)
    else:
        run_rows(rows, VAR_FN[x._dtype], v, m, False, &e)
    rv = finish(_keep(v, x, mask, keepdim), real, out, fname)
    if want_mean:
        return rv, finish(_keep(m, x, mask, keepdim), x._dtype, None, fname)
    return rv, None


cdef tuple _var_real(Tensor x, const bint* mask, index_t n, VarExtra* e, bint want_mean,
                     bint keepdim, object out, str fname, int real):
    """Two passes through the accumulating engine (parallel, any dims, no copy): the mean,
    then the sum of squared deviations from it."""
    cdef SqdevExtra se
    cdef Tensor m = reduce_acc(x, R_SUM, mask, NULL)
    cdef Tensor v
    cdef index_t i, k
    cdef double d, *vd
    _scale(m, 1.0 / n if n > 0 else NAN)
    se.mean = <double*>m.ptr()
    v = reduce_acc(x, R_SQDEV, mask, &se)
    d = <double>n - e.correction
    if d < 0:
        d = 0
    vd = <double*>v.ptr()
    k = shape_numel(v._ndim, v._shape)
    for i in range(k):
        vd[i] = vd[i] / d
        if e.take_sqrt:
            vd[i] = sqrt(vd[i])
    rv = finish(_keep(v, x, mask, keepdim), real, out, fname)
    if want_mean:
        return rv, finish(_keep(m, x, mask, keepdim), x._dtype, None, fname)
    return rv, None


cdef void _fill_nan(Tensor t) noexcept:
    cdef index_t i, n = t._numel
    cdef double* d = <double*>t.ptr()
    cdef complex128_t* z = <complex128_t*>t.ptr()
    for i in range(n):
        if t._dtype == DT_FLOAT64:
            d[i] = NAN
        else:
            z[i] = NAN


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Variance over ``dim`` with ``correction`` (default 1, Bessel's); ``unbiased`` is the
    legacy spelling (``torch.var``). Complex input gives a real result."""
    return _var_impl(input, dim, unbiased, keepdim, correction, False, False, out, "var")[0]


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Standard deviation over ``dim`` (``torch.std``)."""
    return _var_impl(input, dim, unbiased, keepdim, correction, True, False, out, "std")[0]


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` in one pass over the data (``torch.var_mean``)."""
    return _var_impl(input, dim, unbiased, keepdim, correction, False, True, None, "var_mean")


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std, mean)`` (``torch.std_mean``)."""
    return _var_impl(input, dim, unbiased, keepdim, correction, True, True, None, "std_mean")


# =======================================================================================
# norm, logsumexp
# =======================================================================================

cdef object _vector_norm(Tensor x, double p, object dim, bint keepdim, object dtype, object out,
                         str fname):
    cdef bint mask[MAX_DIMS]
    cdef int dt = _opt_dtype(dtype), res
    cdef Tensor r
    cdef index_t i, n
    cdef double* a
    cdef double inv
    cdef int d
    if dt >= 0:
        if _is_int_kind(dt):
            raise RuntimeError(f"{fname}: dtype should be floating point or complex, but got "
                               f"{_sname(dt)}")
        if category(dt) == 2 and category(x._dtype) == 3:
            raise RuntimeError(f"{fname}: dtype should be complex for complex input, but got "
                               f"{_sname(dt)}")
        x = _cast(x, dt)
    if _is_int_kind(x._dtype):
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as input. "
                           f"Got {_sname(x._dtype)}")
    parse_dims(x, dim, mask, fname)
    res = to_real_code(x._dtype)
    if p == INFINITY or p == -INFINITY:
        if x._numel == 0:
            for d in range(x._ndim):
                if mask[d] and x._shape[d] == 0:
                    raise RuntimeError(f"{fname} cannot compute the {'inf' if p > 0 else '-inf'} "
                                       "norm on an empty tensor because the operation does not "
                                       "have an identity")
        r = reduce_acc(x, R_NMAXABS if p > 0 else R_NMINABS, mask, NULL)
    elif p == 0:
        r = reduce_acc(x, R_CNZ, mask, NULL)
    elif p == 1:
        r = reduce_acc(x, R_NABS, mask, NULL)
    elif p == 2:
        r = reduce_acc(x, R_NSQ, mask, NULL)
        a = <double*>r.ptr()
        n = shape_numel(r._ndim, r._shape)
        for i in range(n):
            a[i] = sqrt(a[i])
    else:
        r = reduce_acc(x, R_NPOW, mask, &p)
        a = <double*>r.ptr()
        n = shape_numel(r._ndim, r._shape)
        inv = 1.0 / p
        for i in range(n):
            a[i] = pow(a[i], inv)
    return finish(_keep(r, x, mask, keepdim), res, out, fname)


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """Vector norm over ``dim`` (``torch.norm``): ``p`` is 'fro' (2-norm over the dims), a
    number, ``inf`` or ``-inf``; 0 counts nonzeros. Complex input gives a real result."""
    cdef Tensor x = _ensure_tensor(input, "norm")
    cdef double pv
    if p is None or (isinstance(p, str) and p == "fro"):
        pv = 2.0
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {tuple(dim)}")
    elif isinstance(p, str):
        if p == "nuc":
            raise RuntimeError("norm(): the nuclear norm needs linalg (not in rt_tensor yet)")
        raise RuntimeError(f"linalg.matrix_norm: Order {p} not supported.")
    else:
        pv = float(p)
    return _vector_norm(x, pv, dim, keepdim, dtype, out, "linalg.vector_norm")


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """``torch.linalg.vector_norm``: ``ord`` any real number, inf or -inf."""
    cdef Tensor t = _ensure_tensor(x, "linalg.vector_norm")
    if isinstance(ord, str):
        raise TypeError("linalg.vector_norm(): argument 'ord' must be Number, not str")
    return _vector_norm(t, float(ord), dim, keepdim, dtype, out, "linalg.vector_norm")


def logsumexp(input, dim, keepdim=False, *, out=None):
    """``log(sum(exp(x)))`` over ``dim``, computed stably (the max is subtracted first);
    integers promote to the default float dtype (``torch.logsumexp``)."""
    cdef Tensor x = _ensure_tensor(input, "logsumexp")
    cdef bint mask[MAX_DIMS]
    cdef Tensor rows, r
    if _is_int_kind(x._dtype):
        x = _cast(x, default_float_code())
    if category(x._dtype) == 3:
        raise RuntimeError("logsumexp(): Expected floating point type for result tensor, but got: "
                           f"{_sname(x._dtype)}")
    parse_dims(x, dim, mask, "logsumexp", False)
    rows = _as_rows(x, mask)
    r = new_tensor(DT_FLOAT64, rows._ndim - 1, rows._shape, False)
    if rows._shape[rows._ndim - 1] == 0:
        _fill_value(r, -INFINITY)
    else:
        run_rows(rows, LOGSUMEXP_FN[x._dtype], r, None, False, NULL)
    return finish(_keep(r, x, mask, keepdim), x._dtype, out, "logsumexp")


cdef void _fill_value(Tensor t, double v) noexcept:
    cdef index_t i
    cdef double* d = <double*>t.ptr()
    for i in range(t._numel):
        d[i] = v


# =======================================================================================
# median, nanmedian
# =======================================================================================

cdef object _median_impl(object input, object dim, bint keepdim, bint nan, object out):
    cdef str fname = "nanmedian" if nan else "median"
    cdef Tensor x = _ensure_tensor(input, fname)
    cdef bint mask[MAX_DIMS]
    cdef Tensor rows, vals, idx
    cdef int d, i
    _check_not_complex(x, fname)
    if dim is None:
        if x._numel == 0:
            # PyTorch: a NaN converted to the input dtype
            r = new_tensor(x._dtype, 0, x._shape, False)
            copy_into(r, _nan_scalar())
            return r
        for i in range(x._ndim):
            mask[i] = True
    else:
        d = single_dim(x, dim, fname)
        for i in range(x._ndim):
            mask[i] = (i == d)
        if x._ndim > 0 and x._shape[d] == 0:
            raise IndexError(f"{fname}(): Expected reduction dim {d} to have non-zero size.")
    rows = _as_rows(x, mask)
    vals = new_tensor(x._dtype, rows._ndim - 1, rows._shape, False)
    idx = new_tensor(DT_INT64, rows._ndim - 1, rows._shape, False)
    run_rows(rows, MEDIAN_FN[x._dtype], vals, idx, False, <void*><size_t>1 if nan else NULL)
    if dim is None:
        return vals
    vals = _keep(vals, x, mask, keepdim)
    idx = _keep(idx, x, mask, keepdim)
    if out is not None:
        return (_nanmedian_rt if nan else _median_rt)(finish(vals, x._dtype, out[0], fname),
                                                      finish(idx, DT_INT64, out[1], fname))
    return (_nanmedian_rt if nan else _median_rt)(finish(vals, x._dtype, None, fname),
                                                  finish(idx, DT_INT64, None, fname))


cdef Tensor _nan_scalar():
    cdef Tensor t = new_tensor(DT_FLOAT64, 0, NULL, False)
    (<double*>t.ptr())[0] = NAN
    return t


def median(input, dim=None, keepdim=False, *, out=None):
    """``torch.median``: the lower of the two middle values of all elements (NaN if any is
    NaN); with ``dim``, a namedtuple ``(values, indices)``."""
    return _median_impl(input, dim, keepdim, False, out)


def nanmedian(input, dim=None, keepdim=False, *, out=None):
    """``torch.nanmedian``: the median ignoring NaNs (NaN only where all are NaN)."""
    return _median_impl(input, dim, keepdim, True, out)


# =======================================================================================
# scans: cumsum, cumprod, cummax, cummin, logcumsumexp
# =======================================================================================

cdef tuple _scan(Tensor x, int d, row2_fn_t fn, bint with_idx):
    """Run a scan along dim d; returns (values, indices or None) shaped like x."""
    cdef bint mask[MAX_DIMS]
    cdef int i, nd = x._ndim
    cdef Tensor rows, vals, idx = None
    cdef index_t shape[MAX_DIMS]
    cdef list perm = []
    for i in range(nd):
        mask[i] = (i == d)
    rows = _as_rows(x, mask)
    vals = new_tensor(x._dtype, rows._ndim, rows._shape, False)
    if with_idx:
        idx = new_tensor(DT_INT64, rows._ndim, rows._shape, False)
    run_rows(rows, fn, vals, idx, True, NULL)
    if nd == 0:
        return vals.reshape(()), (idx.reshape(()) if idx is not None else None)
    # (kept..., n) -> x's dim order
    for i in range(nd):
        if i != d:
            perm.append(i)
    perm.append(d)
    inv = [0] * nd
    for i in range(nd):
        inv[perm[i]] = i
    vals = vals.reshape(*[x._shape[p] for p in perm]).permute(*inv)
    if idx is not None:
        idx = idx.reshape(*[x._shape[p] for p in perm]).permute(*inv)
    return vals, idx


cdef object _cum(object input, object dim, object dtype, object out, bint is_sum):
    cdef str fname = "cumsum" if is_sum else "cumprod"
    cdef Tensor x = _ensure_tensor(input, fname)
    cdef int dt = _opt_dtype(dtype), d
    d = single_dim(x, dim, fname)
    if dt >= 0:
        x = _cast(x, dt)
    elif out is not None and isinstance(out, Tensor):
        x = _cast(x, (<Tensor>out)._dtype)
    elif _is_int_kind(x._dtype):
        x = _cast(x, DT_INT64)
    vals, _ = _scan(x, d, CUMSUM_FN[x._dtype] if is_sum else CUMPROD_FN[x._dtype], False)
    return finish(vals, x._dtype, out, fname)


def cumsum(input, dim, *, dtype=None, out=None):
    """Cumulative sum along ``dim`` (``torch.cumsum``); bool and integers give int64."""
    return _cum(input, dim, dtype, out, True)


def cumprod(input, dim, *, dtype=None, out=None):
    """Cumulative product along ``dim`` (``torch.cumprod``); bool and integers give int64."""
    return _cum(input, dim, dtype, out, False)


cdef object _cumext(object input, object dim, object out, bint is_max):
    cdef str fname = "cummax" if is_max else "cummin"
    cdef Tensor x = _ensure_tensor(input, fname)
    cdef int d
    _check_not_complex(x, fname)
    d = single_dim(x, dim, fname)
    vals, idx = _scan(x, d, CUMMAX_FN[x._dtype] if is_max else CUMMIN_FN[x._dtype], True)
    if out is not None:
        vals = finish(vals, x._dtype, out[0], fname)
        idx = finish(idx, DT_INT64, out[1], fname)
    else:
        vals = finish(vals, x._dtype, None, fname)
        idx = finish(idx, DT_INT64, None, fname)
    return (_cummax_rt if is_max else _cummin_rt)(vals, idx)


def cummax(input, dim, *, out=None):
    """Running maximum along ``dim`` and its index (``torch.cummax``; ties move the index
    forward, NaN propagates)."""
    return _cumext(input, dim, out, True)


def cummin(input, dim, *, out=None):
    """Running minimum along ``dim`` and its index (``torch.cummin``)."""
    return _cumext(input, dim, out, False)


def logcumsumexp(input, dim, *, out=None):
    """``log(cumsum(exp(x)))`` along ``dim``, computed stably (``torch.logcumsumexp``)."""
    cdef Tensor x = _ensure_tensor(input, "logcumsumexp")
    cdef int d = single_dim(x, dim, "logcumsumexp")
    if category(x._dtype) != 2:
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for '{_sname(x._dtype)}'")
    vals, _ = _scan(x, d, LOGCUMSUMEXP_FN[x._dtype], False)
    return finish(vals, x._dtype, out, "logcumsumexp")


TENSOR_METHODS = {
    "sum": sum, "nansum": nansum, "mean": mean, "nanmean": nanmean, "prod": prod,
    "max": max, "min": min, "amax": amax, "amin": amin, "aminmax": aminmax,
    "argmax": argmax, "argmin": argmin, "var": var, "std": std, "norm": norm,
    "logsumexp": logsumexp, "all": all, "any": any, "count_nonzero": count_nonzero,
    "median": median, "nanmedian": nanmedian, "cumsum": cumsum, "cumprod": cumprod,
    "cummax": cummax, "cummin": cummin, "logcumsumexp": logcumsumexp, "trace": trace,
}
