# cython: language_level=3
"""DLPack interop (https://dmlc.github.io/dlpack/latest/): ``Tensor.__dlpack__`` exports a
tensor as a PyCapsule without copying; ``from_dlpack`` wraps any producer's memory (numpy,
PyTorch, ...) in a Storage whose release calls the producer's deleter.

Both the legacy ``DLManagedTensor`` ("dltensor") and, when the consumer asks for
``max_version >= (1, 0)``, ``DLManagedTensorVersioned`` ("dltensor_versioned") are supported.
"""
include "build_stamp.pxi"
import warnings

from cpython.pycapsule cimport (PyCapsule_New, PyCapsule_IsValid, PyCapsule_GetPointer,
                                PyCapsule_SetName, PyCapsule_GetName,
                                PyCapsule_Destructor)
from cpython.ref cimport Py_INCREF, Py_DECREF, PyObject
from libc.stdlib cimport malloc, free
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from rt_tensor._types cimport *
from rt_tensor._dtype cimport ITEMSIZE, dtype_of
from rt_tensor._memory cimport Storage, external_storage
from rt_tensor._tensor cimport Tensor, wrap_storage

__all__ = ["from_dlpack"]
TENSOR_METHODS = {}

cdef extern from "Python.h":
    ctypedef int PyGILState_STATE
    PyGILState_STATE PyGILState_Ensure() noexcept nogil
    void PyGILState_Release(PyGILState_STATE) noexcept nogil
    int Py_IsInitialized() noexcept nogil
    void rt_decref "Py_DecRef"(PyObject*) noexcept nogil

cdef extern from *:
    """
    typedef struct { int32_t device_type; int32_t device_id; } RtDLDevice;
    typedef struct { uint8_t code; uint8_t bits; uint16_t lanes; } RtDLDataType;
    typedef struct {
        void* data; RtDLDevice device; int32_t ndim; RtDLDataType dtype;
        int64_t* shape; int64_t* strides; uint64_t byte_offset;
    } RtDLTensor;
    typedef struct RtDLManagedTensor {
        RtDLTensor dl_tensor; void* manager_ctx;
        void (*deleter)(struct RtDLManagedTensor*);
    } RtDLManagedTensor;
    typedef struct { uint32_t major; uint32_t minor; } RtDLPackVersion;
    typedef struct RtDLManagedTensorVersioned {
        RtDLPackVersion version; void* manager_ctx;
        void (*deleter)(struct RtDLManagedTensorVersioned*);
        uint64_t flags; RtDLTensor dl_tensor;
    } RtDLManagedTensorVersioned;
    """
    ctypedef struct RtDLDevice:
        int32_t device_type
        int32_t device_id
    ctypedef struct RtDLDataType:
        uint8_t code
        uint8_t bits
        uint16_t lanes
    ctypedef struct RtDLTensor:
        void* data
        RtDLDevice device
        int32_t ndim
        RtDLDataType dtype
        int64_t* shape
        int64_t* strides
        uint64_t byte_offset
    ctypedef struct RtDLManagedTensor:
        RtDLTensor dl_tensor
        void* manager_ctx
        void (*deleter)(RtDLManagedTensor*) noexcept nogil
    ctypedef struct RtDLPackVersion:
        uint32_t major
        uint32_t minor
    ctypedef struct RtDLManagedTensorVersioned:
        RtDLPackVersion version
        void* manager_ctx
        void (*deleter)(RtDLManagedTensorVersioned*) noexcept nogil
        uint64_t flags
        RtDLTensor dl_tensor

cdef enum:
    kDLCPU = 1
    kDLInt = 0
    kDLUInt = 1
    kDLFloat = 2
    kDLBfloat = 4
    kDLComplex = 5
    kDLBool = 6
    FLAG_READ_ONLY = 1
    FLAG_IS_COPIED = 2

# rt dtype code -> (DLPack type code, bits)
cdef uint8_t DL_CODE[12]
cdef uint8_t DL_BITS[12]
DL_CODE[:] = [kDLBool, kDLUInt, kDLInt, kDLInt, kDLInt, kDLInt, kDLFloat, kDLBfloat, kDLFloat,
              kDLFloat, kDLComplex, kDLComplex]
DL_BITS[:] = [8, 8, 8, 16, 32, 64, 16, 16, 32, 64, 64, 128]


# ---------------------------------------------------------------------------------------
# export

cdef struct ExportCtx:
    PyObject* tensor          # a strong reference, dropped by the deleter
    int64_t shape[MAX_DIMS]
    int64_t strides[MAX_DIMS]


cdef void _release_ctx(ExportCtx* ctx) noexcept nogil:
    cdef PyGILState_STATE st
    if ctx == NULL:
        return
    if Py_IsInitialized():
        st = PyGILState_Ensure()
        rt_decref(ctx.tensor)
        PyGILState_Release(st)
    free(ctx)


cdef void _deleter_legacy(RtDLManagedTensor* m) noexcept nogil:
    if m == NULL:
        return
    _release_ctx(<ExportCtx*>m.manager_ctx)
    free(m)


cdef void _deleter_versioned(RtDLManagedTensorVersioned* m) noexcept nogil:
    if m == NULL:
        return
    _release_ctx(<ExportCtx*>m.manager_ctx)
    free(m)


cdef void _capsule_destructor_legacy(object capsule) noexcept:
    # Runs when the capsule dies; a consumer renames it to "used_dltensor" and then owns it.
    cdef RtDLManagedTensor* m
    if PyCapsule_IsValid(capsule, b"dltensor"):
        m = <RtDLManagedTensor*>PyCapsule_GetPointer(capsule, b"dltensor")
        if m != NULL and m.deleter != NULL:
            m.deleter(m)


cdef void _capsule_destructor_versioned(object capsule) noexcept:
    cdef RtDLManagedTensorVersioned* m
    if PyCapsule_IsValid(capsule, b"dltensor_versioned"):
        m = <RtDLManagedTensorVersioned*>PyCapsule_GetPointer(capsule, b"dltensor_versioned")
        if m != NULL and m.deleter != NULL:
            m.deleter(m)


cdef void _fill_dltensor(RtDLTensor* dl, Tensor t, ExportCtx* ctx) noexcept:
    cdef int i
    dl.data = <void*>t.ptr()
    dl.device.device_type = kDLCPU
    dl.device.device_id = 0
    dl.ndim = t._ndim
    dl.dtype.code = DL_CODE[t._dtype]
    dl.dtype.bits = DL_BITS[t._dtype]
    dl.dtype.lanes = 1
    for i in range(t._ndim):
        ctx.shape[i] = t._shape[i]
        ctx.strides[i] = t._strides[i]
    dl.shape = ctx.shape
    dl.strides = ctx.strides
    dl.byte_offset = 0


def to_dlpack(Tensor t, *, stream=None, max_version=None, dl_device=None, copy=None):
    """A DLPack capsule sharing t's memory (``Tensor.__dlpack__``): "dltensor_versioned"
    when ``max_version >= (1, 0)``, else the legacy "dltensor". ``copy=True`` exports a
    copy; ``dl_device`` must be the CPU ``(1, 0)``; ``stream`` must be None (or -1)."""
    if stream is not None and stream != -1:
        raise ValueError(f"__dlpack__: stream must be None for CPU tensors, got {stream!r}")
    if dl_device is not None:
        dev = tuple(dl_device)
        if len(dev) != 2 or int(dev[0]) != kDLCPU:
            raise BufferError(f"__dlpack__: rt_tensor can only export to the CPU device (1, 0), "
                              f"got dl_device={dl_device!r}")
    cdef bint copied = False
    if copy:
        t = t.clone()
        copied = True
    cdef bint versioned = False
    if max_version is not None:
        mv = tuple(max_version)
        versioned = len(mv) >= 1 and int(mv[0]) >= 1
    cdef ExportCtx* ctx = <ExportCtx*>malloc(sizeof(ExportCtx))
    if ctx == NULL:
        raise MemoryError("__dlpack__: out of memory")
    cdef RtDLManagedTensor* m
    cdef RtDLManagedTensorVersioned* mv2
    Py_INCREF(t)
    ctx.tensor = <PyObject*>t
    if versioned:
        mv2 = <RtDLManagedTensorVersioned*>malloc(sizeof(RtDLManagedTensorVersioned))
        if mv2 == NULL:
            _release_ctx(ctx)
            raise MemoryError("__dlpack__: out of memory")
        mv2.version.major = 1
        mv2.version.minor = 0
        mv2.manager_ctx = ctx
        mv2.deleter = _deleter_versioned
        mv2.flags = FLAG_IS_COPIED if copied else 0
        _fill_dltensor(&mv2.dl_tensor, t, ctx)
        try:
            return PyCapsule_New(mv2, b"dltensor_versioned",
                                 <PyCapsule_Destructor>_capsule_destructor_versioned)
        except BaseException:
            _deleter_versioned(mv2)
            raise
    m = <RtDLManagedTensor*>malloc(sizeof(RtDLManagedTensor))
    if m == NULL:
        _release_ctx(ctx)
        raise MemoryError("__dlpack__: out of memory")
    m.manager_ctx = ctx
    m.deleter = _deleter_legacy
    _fill_dltensor(&m.dl_tensor, t, ctx)
    try:
        return PyCapsule_New(m, b"dltensor", <PyCapsule_Destructor>_capsule_destructor_legacy)
    except BaseException:
        _deleter_legacy(m)
        raise


# ---------------------------------------------------------------------------------------
# import

cdef int _rt_code(RtDLDataType dt) except -2:
    if dt.lanes != 1:
        raise BufferError(f"from_dlpack: vector dtypes (lanes={dt.lanes}) are not supported")
    cdef int code = dt.code, bits = dt.bits
    if code == kDLBool and bits == 8:
        return DT_BOOL
    if code == kDLUInt and bits == 8:
        return DT_UINT8
    if code == kDLInt:
        if bits == 8:
            return DT_INT8
        if bits == 16:
            return DT_INT16
        if bits == 32:
            return DT_INT32
        if bits == 64:
            return DT_INT64
    if code == kDLFloat:
        if bits == 16:
            return DT_FLOAT16
        if bits == 32:
            return DT_FLOAT32
        if bits == 64:
            return DT_FLOAT64
    if code == kDLBfloat and bits == 16:
        return DT_BFLOAT16
    if code == kDLComplex:
        if bits == 64:
            return DT_COMPLEX64
        if bits == 128:
            return DT_COMPLEX128
    names = {kDLInt: "int", kDLUInt: "uint", kDLFloat: "float", kDLBfloat: "bfloat",
             kDLComplex: "complex", kDLBool: "bool"}
    raise BufferError(f"from_dlpack: unsupported DLPack dtype {names.get(code, f'code {code}')}"
                      f"{bits}; rt_tensor supports bool, uint8, int8-int64, float16, bfloat16, "
                      "float32, float64, complex64 and complex128")


cdef Tensor _wrap(RtDLTensor* dl, void* managed, int versioned, uint64_t flags, object capsule,
                  const char* used_name):
    """Validate dl, then rename the capsule and wrap the memory (the Storage owns
    `managed` and calls its deleter on release)."""
    cdef int code, i, nd = dl.ndim
    cdef index_t shape[MAX_DIMS]
    cdef index_t strides[MAX_DIMS]
    cdef index_t hi = 0, expected = 1
    cdef bint empty = False
    if dl.device.device_type != kDLCPU:
        raise BufferError(f"from_dlpack: rt_tensor only supports CPU memory, the producer's "
                          f"tensor is on DLPack device type {dl.device.device_type}")
    if nd < 0 or nd > MAX_DIMS:
        raise BufferError(f"from_dlpack: at most {MAX_DIMS} dimensions are supported, got {nd}")
    code = _rt_code(dl.dtype)
    for i in range(nd - 1, -1, -1):
        shape[i] = dl.shape[i]
        if dl.strides != NULL:
            strides[i] = dl.strides[i]
        else:
            strides[i] = expected
        expected *= shape[i] if shape[i] > 0 else 1
        if shape[i] == 0:
            empty = True
    for i in range(nd):
        if strides[i] < 0 and shape[i] > 1:
            raise BufferError("from_dlpack: negative strides are not supported by rt_tensor")
        if shape[i] > 0:
            hi += (shape[i] - 1) * (strides[i] if strides[i] > 0 else 0)
    if flags & FLAG_READ_ONLY:
        warnings.warn("The given DLPack tensor is read-only, and rt_tensor does not support "
                      "read-only tensors. Writing to this tensor is undefined behavior.",
                      UserWarning, stacklevel=3)
    cdef char* data = <char*>dl.data + dl.byte_offset
    cdef index_t nbytes = 0 if empty else (hi + 1) * ITEMSIZE[code]
    for i in range(nd):
        if strides[i] < 0:
            strides[i] = 0        # a size-1 (or 0) dim: the stride is never used
    PyCapsule_SetName(capsule, used_name)
    cdef Storage s = external_storage(data, nbytes, None)
    s.dl_managed = managed
    s.dl_versioned = versioned
    return wrap_storage(s, code, nd, shape, strides, 0)


def _from_capsule(capsule):
    cdef RtDLManagedTensor* m
    cdef RtDLManagedTensorVersioned* mv
    if PyCapsule_IsValid(capsule, b"dltensor_versioned"):
        mv = <RtDLManagedTensorVersioned*>PyCapsule_GetPointer(capsule, b"dltensor_versioned")
        if mv.version.major > 1:
            raise BufferError(f"from_dlpack: DLPack version {mv.version.major}."
                              f"{mv.version.minor} is newer than rt_tensor supports (1.x)")
        return _wrap(&mv.dl_tensor, mv, 1, mv.flags, capsule, b"used_dltensor_versioned")
    if PyCapsule_IsValid(capsule, b"dltensor"):
        m = <RtDLManagedTensor*>PyCapsule_GetPointer(capsule, b"dltensor")
        return _wrap(&m.dl_tensor, m, 0, 0, capsule, b"used_dltensor")
    if PyCapsule_IsValid(capsule, b"used_dltensor") or PyCapsule_IsValid(
            capsule, b"used_dltensor_versioned"):
        raise BufferError("from_dlpack: this DLPack capsule has already been consumed")
    raise TypeError("from_dlpack: expected a DLPack capsule named 'dltensor' or "
                    "'dltensor_versioned'")


def from_dlpack(ext_tensor):
    """A tensor sharing memory with ``ext_tensor``: any object with ``__dlpack__`` and
    ``__dlpack_device__`` (numpy arrays, PyTorch tensors, ...) or a DLPack capsule
    (``torch.from_dlpack``). CPU memory only; the producer's memory stays alive as long as
    the tensor. A read-only producer gives a warning (writes would go to its memory)."""
    if hasattr(ext_tensor, "__dlpack__"):
        if hasattr(ext_tensor, "__dlpack_device__"):
            dev = ext_tensor.__dlpack_device__()
            if int(dev[0]) != kDLCPU:
                raise BufferError(f"from_dlpack: rt_tensor only supports CPU memory, the object "
                                  f"is on DLPack device {tuple(dev)}")
        try:
            capsule = ext_tensor.__dlpack__(max_version=(1, 0))
        except TypeError:
            capsule = ext_tensor.__dlpack__()
        return _from_capsule(capsule)
    if type(ext_tensor).__name__ == "PyCapsule":
        return _from_capsule(ext_tensor)
    raise TypeError(f"from_dlpack: expected an object with __dlpack__ or a DLPack capsule, got "
                    f"{type(ext_tensor).__name__}")


def to_dlpack_capsule(Tensor t):
    """The legacy ``torch.utils.dlpack.to_dlpack``: a "dltensor" capsule of t."""
    return to_dlpack(t)
