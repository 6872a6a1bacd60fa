# cython: language_level=3
"""Kernels behind the factories in _creation.py: fills, arange, linspace/logspace, eye and
the ``out=`` resize. Fills of large tensors are split over rt's thread pool."""
include "build_stamp.pxi"
import warnings

from libc.string cimport memset, memcpy
from libc.math cimport pow, isfinite, isnan
from rt_tensor._types cimport *
from rt_tensor._scalar cimport store_double, store_int
from rt_tensor._dtype cimport ITEMSIZE, dtype_of, category
from rt_tensor._memory cimport Storage, new_storage
from rt_tensor._tensor cimport Tensor, new_tensor, contiguous_strides, shape_numel, wrap_storage
from rt_tensor._tensor cimport resize_out as _tensor_resize_out
from rt_tensor._parallel cimport parallel_for, GRAIN_ELEMENTWISE

__all__ = []
TENSOR_METHODS = {}

cdef enum:
    FILL_GRAIN = 1 << 18      # elements per task for plain stores (memory bound)


# ---------------------------------------------------------------------------------------
# fill with one element pattern

cdef struct FillCtx:
    char* dst
    int itemsize
    char pattern[16]


cdef void _fill_range(void* vctx, index_t begin, index_t end) noexcept nogil:
    cdef FillCtx* c = <FillCtx*>vctx
    cdef index_t i
    cdef char* p = c.dst + begin * c.itemsize
    cdef index_t n = end - begin
    cdef uint16_t v2
    cdef uint32_t v4
    cdef uint64_t v8
    cdef uint64_t w0, w1
    if c.itemsize == 1:
        memset(p, c.pattern[0], n)
    elif c.itemsize == 2:
        memcpy(&v2, c.pattern, 2)
        for i in range(n):
            (<uint16_t*>p)[i] = v2
    elif c.itemsize == 4:
        memcpy(&v4, c.pattern, 4)
        for i in range(n):
            (<uint32_t*>p)[i] = v4
    elif c.itemsize == 8:
        memcpy(&v8, c.pattern, 8)
        for i in range(n):
            (<uint64_t*>p)[i] = v8
    else:
        memcpy(&w0, c.pattern, 8)
        memcpy(&w1, c.pattern + 8, 8)
        for i in range(n):
            (<uint64_t*>p)[2 * i] = w0
            (<uint64_t*>p)[2 * i + 1] = w1


cdef void fill_raw(char* dst, index_t n, int itemsize, const char* pattern) noexcept nogil:
    cdef FillCtx c
    c.dst = dst
    c.itemsize = itemsize
    memcpy(c.pattern, pattern, itemsize)
    if n >= 2 * FILL_GRAIN:
        parallel_for(n, FILL_GRAIN, _fill_range, &c)
    else:
        _fill_range(&c, 0, n)


_INT_RANGE = {DT_UINT8: (0, 255), DT_INT8: (-128, 127), DT_INT16: (-32768, 32767),
              DT_INT32: (-2**31, 2**31 - 1), DT_INT64: (-2**63, 2**63 - 1)}
_C_NAME = {DT_UINT8: "uint8_t", DT_INT8: "int8_t", DT_INT16: "int16_t", DT_INT32: "int",
           DT_INT64: "int64_t", DT_FLOAT16: "c10::Half", DT_BFLOAT16: "c10::BFloat16",
           DT_FLOAT32: "float", DT_FLOAT64: "double", DT_BOOL: "bool"}


cdef int encode_scalar(object value, int dt, char* out) except -1:
    """Store a Python number as one element of dtype dt into out (PyTorch's checked scalar
    conversion: RuntimeError when the value overflows the type)."""
    cdef double d
    cdef float f
    cdef int64_t i
    cdef uint16_t h
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise RuntimeError(f"a Tensor with {value.numel()} elements cannot be converted to Scalar")
        value = value.item()
    if isinstance(value, complex) or (hasattr(value, "imag") and not isinstance(value, (int, float))
                                      and value.imag != 0):
        value = complex(value)
        if category(dt) != 3:
            if value.imag != 0:
                raise RuntimeError(f"value cannot be converted to type {_C_NAME[dt]} without overflow")
            value = value.real
    if dt == DT_BOOL:
        (<uint8_t*>out)[0] = 1 if value else 0
        return 0
    if category(dt) == 1:
        if isinstance(value, float) or not hasattr(value, "__index__"):
            d = float(value)
            if not isfinite(d):
                raise RuntimeError(f"value cannot be converted to type {_C_NAME[dt]} without overflow")
            value = int(d)
        else:
            value = value.__index__()
        lo, hi = _INT_RANGE[dt]
        if value < lo or value > hi:
            raise RuntimeError(f"value cannot be converted to type {_C_NAME[dt]} without overflow")
        i = value
        if dt == DT_UINT8:
            (<uint8_t*>out)[0] = <uint8_t>i
        elif dt == DT_INT8:
            (<int8_t*>out)[0] = <int8_t>i
        elif dt == DT_INT16:
            (<int16_t*>out)[0] = <int16_t>i
        elif dt == DT_INT32:
            (<int32_t*>out)[0] = <int32_t>i
        else:
            (<int64_t*>out)[0] = i
        return 0
    if category(dt) == 3:
        c = complex(value)
        if dt == DT_COMPLEX64:
            (<float*>out)[0] = <float>c.real
            (<float*>out)[1] = <float>c.imag
        else:
            (<double*>out)[0] = c.real
            (<double*>out)[1] = c.imag
        return 0
    try:
        d = float(value)
    except OverflowError:
        raise RuntimeError(f"value cannot be converted to type {_C_NAME[dt]} without overflow") from None
    if dt == DT_FLOAT64:
        (<double*>out)[0] = d
    elif dt == DT_FLOAT32:
        if isfinite(d) and (d > 3.4028234663852886e38 or d < -3.4028234663852886e38):
            raise RuntimeError("value cannot be converted to type float without overflow")
        (<float*>out)[0] = <float>d
    elif dt == DT_FLOAT16:
        if isfinite(d) and (d > 65504.0 or d < -65504.0):
            raise RuntimeError("value cannot be converted to type at::Half without overflow")
        (<uint16_t*>out)[0] = rt_f32_to_f16(<float>d)
    else:
        if isfinite(d) and (d > 3.3895313892515355e38 or d < -3.3895313892515355e38):
            raise RuntimeError("value cannot be converted to type at::BFloat16 without overflow")
        (<uint16_t*>out)[0] = rt_f32_to_bf16(<float>d)
    return 0


def fill_contiguous(Tensor t, value):
    """Fill a contiguous tensor with value (checked conversion); returns t."""
    cdef char pattern[16]
    encode_scalar(value, t._dtype, pattern)
    if t._numel == 0:
        return t
    cdef char* p = t.ptr()
    cdef index_t n = t._numel
    cdef int isz = ITEMSIZE[t._dtype]
    with nogil:
        fill_raw(p, n, isz, pattern)
    t._storage.version += 1
    return t


def full_new(int dt, tuple shape, value, bint zero_fast=True):
    """A new contiguous tensor of dtype code dt filled with value. Zeros come from a zeroed
    pool block."""
    cdef index_t sh[MAX_DIMS]
    cdef int nd = len(shape), i
    cdef char pattern[16]
    encode_scalar(value, dt, pattern)
    for i in range(nd):
        sh[i] = shape[i]
    cdef int isz = ITEMSIZE[dt]
    cdef bint allzero = True
    for i in range(isz):
        if pattern[i] != 0:
            allzero = False
            break
    cdef Tensor t = new_tensor(dt, nd, sh, allzero and zero_fast)
    if allzero and zero_fast:
        return t
    cdef char* p = t.ptr()
    cdef index_t n = t._numel
    with nogil:
        fill_raw(p, n, isz, pattern)
    return t


def empty_new(int dt, tuple shape):
    cdef index_t sh[MAX_DIMS]
    cdef int nd = len(shape), i
    for i in range(nd):
        sh[i] = shape[i]
    return new_tensor(dt, nd, sh, False)


def empty_for_strides(int dt, tuple shape, tuple strides):
    """An uninitialised tensor with the given shape and (non-negative) strides, its storage
    just large enough."""
    cdef index_t sh[MAX_DIMS]
    cdef index_t st[MAX_DIMS]
    cdef int nd = len(shape), i
    cdef index_t hi = 0
    cdef bint empty = False
    for i in range(nd):
        sh[i] = shape[i]
        st[i] = strides[i]
        if sh[i] == 0:
            empty = True
        else:
            hi += (sh[i] - 1) * st[i]
    cdef index_t nelem = 0 if empty else hi + 1
    cdef Storage s = new_storage(nelem * ITEMSIZE[dt], False)
    # through wrap_storage, so that it is the registered tensor class (rt_autograd's)
    return wrap_storage(s, dt, nd, sh, st, 0)


def resize_out(Tensor out, tuple shape):
    """PyTorch's out= resize for the Python-level factories (see _tensor.resize_out)."""
    cdef int nd = len(shape), i
    cdef index_t sh[MAX_DIMS]
    if nd > MAX_DIMS:
        raise RuntimeError(f"rt_tensor supports at most {MAX_DIMS} dimensions, got {nd}")
    for i in range(nd):
        sh[i] = shape[i]
    return _tensor_resize_out(out, nd, sh)


# ---------------------------------------------------------------------------------------
# arange / linspace / logspace: values computed in double (float dtypes) or int64

cdef struct SeqCtx:
    char* dst
    int dt
    int isz
    int mode            # 0 arange double, 1 arange int64, 2 linspace, 3 logspace
    double start
    double step
    double end
    double base
    int64_t istart
    int64_t istep
    index_t n
    index_t halfway


cdef void _seq_range(void* vctx, index_t begin, index_t end) noexcept nogil:
    cdef SeqCtx* c = <SeqCtx*>vctx
    cdef index_t i
    cdef double v
    cdef float fv, fstart, fend, fstep
    cdef int64_t* o64
    cdef float* o32
    cdef double* od
    if c.mode == 1 and c.dt == DT_INT64:
        o64 = <int64_t*>c.dst
        for i in range(begin, end):
            o64[i] = c.istart + i * c.istep
        return
    if c.mode == 0 and c.dt == DT_FLOAT32:
        o32 = <float*>c.dst
        for i in range(begin, end):
            o32[i] = <float>(c.start + i * c.step)
        return
    if c.mode == 0 and c.dt == DT_FLOAT64:
        od = <double*>c.dst
        for i in range(begin, end):
            od[i] = c.start + i * c.step
        return
    if c.mode == 2 and c.dt == DT_FLOAT32:
        o32 = <float*>c.dst
        fstart = <float>c.start
        fend = <float>c.end
        fstep = <float>c.step
        for i in range(begin, min(end, c.halfway)):
            o32[i] = fstart + fstep * <float>i
        for i in range(max(begin, c.halfway), end):
            o32[i] = fend - fstep * <float>(c.n - i - 1)
        return
    if c.mode == 2 and c.dt == DT_FLOAT64:
        od = <double*>c.dst
        for i in range(begin, min(end, c.halfway)):
            od[i] = c.start + c.step * i
        for i in range(max(begin, c.halfway), end):
            od[i] = c.end - c.step * (c.n - i - 1)
        return
    for i in range(begin, end):
        if c.mode == 0:
            store_double(c.dst + i * c.isz, c.dt, c.start + i * c.step)
        elif c.mode == 1:
            store_int(c.dst + i * c.isz, c.dt, c.istart + i * c.istep)
        else:
            if c.dt == DT_FLOAT32 or c.dt == DT_FLOAT16 or c.dt == DT_BFLOAT16:
                # PyTorch computes in the tensor's (accumulate) type: float
                fstart = <float>c.start
                fend = <float>c.end
                fstep = <float>c.step
                if i < c.halfway:
                    fv = fstart + fstep * <float>i
                else:
                    fv = fend - fstep * <float>(c.n - i - 1)
                v = fv
                if c.mode == 3:
                    v = <float>pow(<float>c.base, fv)
            else:
                if i < c.halfway:
                    v = c.start + c.step * i
                else:
                    v = c.end - c.step * (c.n - i - 1)
                if c.mode == 3:
                    v = pow(c.base, v)
            store_double(c.dst + i * c.isz, c.dt, v)


cdef void _run_seq(SeqCtx* c) noexcept nogil:
    if c.n >= 2 * GRAIN_ELEMENTWISE:
        parallel_for(c.n, GRAIN_ELEMENTWISE, _seq_range, c)
    else:
        _seq_range(c, 0, c.n)


def arange_fill(Tensor out, start, step, bint integer):
    """out[i] = start + i * step (out contiguous; int64 arithmetic when integer)."""
    cdef SeqCtx c
    c.dst = out.ptr()
    c.dt = out._dtype
    c.isz = ITEMSIZE[out._dtype]
    c.n = out._numel
    if integer:
        c.mode = 1
        c.istart = start
        c.istep = step
    else:
        c.mode = 0
        c.start = start
        c.step = step
    with nogil:
        _run_seq(&c)
    return out


def linspace_fill(Tensor out, double start, double end, double base, bint log):
    """PyTorch's linspace: the first half counts up from start, the second down from end."""
    cdef SeqCtx c
    cdef index_t n = out._numel
    c.dst = out.ptr()
    c.dt = out._dtype
    c.isz = ITEMSIZE[out._dtype]
    c.n = n
    c.mode = 3 if log else 2
    c.start = start
    c.end = end
    c.base = base
    c.step = (end - start) / (n - 1) if n > 1 else 0.0
    c.halfway = n // 2 if n > 1 else n
    with nogil:
        _run_seq(&c)
    return out


def eye_fill(Tensor out):
    """Set the main diagonal of a zeroed contiguous 2-d tensor to one."""
    cdef char pattern[16]
    encode_scalar(1, out._dtype, pattern)
    cdef index_t i, n = min(out._shape[0], out._shape[1])
    cdef index_t stride = (out._strides[0] + out._strides[1]) * ITEMSIZE[out._dtype]
    cdef int isz = ITEMSIZE[out._dtype]
    cdef char* p = out.ptr()
    with nogil:
        for i in range(n):
            memcpy(p + i * stride, pattern, isz)
    return out


# ---------------------------------------------------------------------------------------
# numpy array -> new tensor (one memcpy, no Python in between)

from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_C_CONTIGUOUS


def array_copy(object arr, int dt):
    """A new contiguous tensor of dtype code dt holding a copy of the C-contiguous buffer
    arr, whose elements must already be of dtype dt (a numpy array of the matching type)."""
    cdef Py_buffer view
    cdef index_t sh[MAX_DIMS]
    cdef int i, nd
    PyObject_GetBuffer(arr, &view, PyBUF_C_CONTIGUOUS)
    try:
        nd = view.ndim
        if nd > MAX_DIMS:
            raise RuntimeError(f"rt_tensor supports at most {MAX_DIMS} dimensions, got {nd}")
        for i in range(nd):
            sh[i] = view.shape[i]
        t = new_tensor(dt, nd, sh, False)
        if view.len != (<Tensor>t)._numel * ITEMSIZE[dt]:
            raise RuntimeError("array_copy: buffer size does not match the dtype")
        if view.len > 0:
            with nogil:
                memcpy((<Tensor>t).ptr(), view.buf, view.len)
    finally:
        PyBuffer_Release(&view)
    return t
