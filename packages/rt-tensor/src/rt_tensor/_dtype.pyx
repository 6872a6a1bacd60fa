# cython: language_level=3
"""Dtypes and PyTorch's type promotion (c10/core/ScalarType.h, TensorIterator's
ResultTypeState). The promotion table is built from the rules below, not typed in."""
include "build_stamp.pxi"
import numpy as np

from rt_tensor._types cimport *

cdef int UNDEF = -1

cdef class dtype:
    """A tensor element type, like ``torch.dtype``. Compare with ``==``; hashable."""

    def __repr__(self):
        return f"rt_tensor.{self.name}"

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    def to_real(self):
        """The real counterpart of a complex dtype (complex64 -> float32); others as is."""
        return dtype_of(to_real_code(self.code))

    def to_complex(self):
        """The complex counterpart of a floating dtype (float64 -> complex128)."""
        if not (self.is_floating_point or self.is_complex):
            raise RuntimeError(f"to_complex: expected a floating point dtype, got {self!r}")
        return dtype_of(to_complex_code(self.code))

    @property
    def is_integer(self):
        return category(self.code) == 1


cdef list _DTYPES = [None] * NUM_DTYPES

cdef dtype dtype_of(int code):
    return <dtype>_DTYPES[code]


cdef dtype _make(int code, str name, str scalar_name, int itemsize, bint fp, bint cplx, bint signed):
    cdef dtype d = dtype.__new__(dtype)
    d.code = code
    d.name = name
    d.scalar_name = scalar_name
    d.itemsize = itemsize
    d.is_floating_point = fp
    d.is_complex = cplx
    d.is_signed = signed
    _DTYPES[code] = d
    ITEMSIZE[code] = itemsize
    return d


bool_ = _make(DT_BOOL, "bool", "Bool", 1, False, False, False)
uint8 = _make(DT_UINT8, "uint8", "Byte", 1, False, False, False)
int8 = _make(DT_INT8, "int8", "Char", 1, False, False, True)
int16 = _make(DT_INT16, "int16", "Short", 2, False, False, True)
int32 = _make(DT_INT32, "int32", "Int", 4, False, False, True)
int64 = _make(DT_INT64, "int64", "Long", 8, False, False, True)
float16 = _make(DT_FLOAT16, "float16", "Half", 2, True, False, True)
bfloat16 = _make(DT_BFLOAT16, "bfloat16", "BFloat16", 2, True, False, True)
float32 = _make(DT_FLOAT32, "float32", "Float", 4, True, False, True)
float64 = _make(DT_FLOAT64, "float64", "Double", 8, True, False, True)
complex64 = _make(DT_COMPLEX64, "complex64", "ComplexFloat", 8, False, True, True)
complex128 = _make(DT_COMPLEX128, "complex128", "ComplexDouble", 16, False, True, True)

all_dtypes = tuple(dtype_of(i) for i in range(NUM_DTYPES))
_BY_NAME = {d.name: d for d in all_dtypes}
# PyTorch's aliases
_BY_NAME.update(half=float16, float=float32, double=float64, long=int64, int=int32,
                short=int16, cfloat=complex64, cdouble=complex128, bool_=bool_)


def _dtype_by_name(name):
    return _BY_NAME[name]


cdef int category(int code) noexcept nogil:
    if code == DT_BOOL:
        return 0
    if code <= DT_INT64:
        return 1
    if code <= DT_FLOAT64:
        return 2
    return 3


cdef int to_real_code(int code) noexcept nogil:
    if code == DT_COMPLEX64:
        return DT_FLOAT32
    if code == DT_COMPLEX128:
        return DT_FLOAT64
    return code


cdef int to_complex_code(int code) noexcept nogil:
    if code == DT_FLOAT64 or code == DT_COMPLEX128:
        return DT_COMPLEX128
    return DT_COMPLEX64


cdef int _promote_rule(int a, int b) noexcept nogil:
    cdef int ca = category(a), cb = category(b), t
    if a == b:
        return a
    if ca == 0:
        return b
    if cb == 0:
        return a
    if ca != cb:
        if ca < cb:
            t = a; a = b; b = t
            t = ca; ca = cb; cb = t
        # a is of the higher category
        if ca == 3 and cb == 2 and b == DT_FLOAT64:
            return DT_COMPLEX128
        return a
    if ca == 1:
        # uint8 with a signed type: the smallest signed type holding both
        if a == DT_UINT8 or b == DT_UINT8:
            t = b if a == DT_UINT8 else a
            return DT_INT16 if t == DT_INT8 else t
        return a if a > b else b
    if ca == 2:
        if (a == DT_FLOAT16 and b == DT_BFLOAT16) or (a == DT_BFLOAT16 and b == DT_FLOAT16):
            return DT_FLOAT32
        return a if a > b else b
    return a if a > b else b


cdef int PROMOTE[12][12]
cdef int _i, _j
for _i in range(NUM_DTYPES):
    for _j in range(NUM_DTYPES):
        PROMOTE[_i][_j] = _promote_rule(_i, _j)


cdef int promote_types_code(int a, int b) noexcept nogil:
    if a == UNDEF:
        return b
    if b == UNDEF:
        return a
    return PROMOTE[a][b]


cdef bint can_cast_code(int src, int dst) noexcept nogil:
    # c10::canCast: no complex -> non-complex, no float -> integral, no non-bool -> bool
    cdef int cs = category(src), cd = category(dst)
    if cs == 3 and cd != 3:
        return False
    if cs == 2 and cd < 2:
        return False
    if cs != 0 and cd == 0:
        return False
    return True


cdef int _default_float = DT_FLOAT32

cdef int default_float_code() noexcept nogil:
    return _default_float

cdef int default_complex_code() noexcept nogil:
    return DT_COMPLEX128 if _default_float == DT_FLOAT64 else DT_COMPLEX64


def get_default_dtype():
    """The dtype of float tensors made from Python floats (``torch.get_default_dtype``)."""
    return dtype_of(_default_float)


def set_default_dtype(d):
    """Set the default floating dtype; only float32 and float64 are allowed, as in PyTorch."""
    global _default_float
    cdef dtype dt = as_dtype(d)
    if dt.code != DT_FLOAT32 and dt.code != DT_FLOAT64:
        raise TypeError(f"only floating-point types are supported as the default type, got {dt!r}")
    _default_float = dt.code


def promote_types(type1, type2):
    """The smallest dtype both can be converted to (``torch.promote_types``)."""
    return dtype_of(promote_types_code(as_dtype(type1).code, as_dtype(type2).code))


def can_cast(from_, to):
    """Whether PyTorch's casting rules allow ``from_`` -> ``to`` (``torch.can_cast``)."""
    return can_cast_code(as_dtype(from_).code, as_dtype(to).code)


_NUMPY_TO_CODE = {
    np.dtype(np.bool_): DT_BOOL, np.dtype(np.uint8): DT_UINT8, np.dtype(np.int8): DT_INT8,
    np.dtype(np.int16): DT_INT16, np.dtype(np.int32): DT_INT32, np.dtype(np.int64): DT_INT64,
    np.dtype(np.float16): DT_FLOAT16, np.dtype(np.float32): DT_FLOAT32,
    np.dtype(np.float64): DT_FLOAT64, np.dtype(np.complex64): DT_COMPLEX64,
    np.dtype(np.complex128): DT_COMPLEX128,
}
NUMPY_DTYPES = [np.dtype(np.bool_), np.dtype(np.uint8), np.dtype(np.int8), np.dtype(np.int16),
                np.dtype(np.int32), np.dtype(np.int64), np.dtype(np.float16), None,
                np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.complex64),
                np.dtype(np.complex128)]


def from_numpy_dtype(npdtype):
    """rt dtype for a numpy dtype; TypeError for types rt has no counterpart of."""
    try:
        return dtype_of(_NUMPY_TO_CODE[np.dtype(npdtype).newbyteorder("=")])
    except (KeyError, TypeError):
        raise TypeError(f"can't convert np.ndarray of type {np.dtype(npdtype)}. The only "
                        "supported types are: float64, float32, float16, complex64, complex128, "
                        "int64, int32, int16, int8, uint8, and bool.") from None


def to_numpy_dtype(d):
    cdef dtype dt = as_dtype(d)
    nd = NUMPY_DTYPES[dt.code]
    if nd is None:
        raise TypeError(f"Got unsupported ScalarType {dt.scalar_name}: numpy has no {dt.name}")
    return nd


cdef dtype as_dtype(object obj):
    if type(obj) is dtype:
        return <dtype>obj
    if obj is float:
        return dtype_of(_default_float)
    if obj is int:
        return dtype_of(DT_INT64)
    if obj is bool:
        return dtype_of(DT_BOOL)
    if obj is complex:
        return dtype_of(default_complex_code())
    if isinstance(obj, str):
        d = _BY_NAME.get(obj)
        if d is not None:
            return d
        raise TypeError(f"dtype must be an rt_tensor dtype, got the string {obj!r}")
    if isinstance(obj, (np.dtype, type)):
        try:
            return from_numpy_dtype(obj)
        except TypeError:
            pass
    raise TypeError(f"dtype must be an rt_tensor dtype (such as rt_tensor.float32), "
                    f"got {obj!r} of type {type(obj).__name__}")


def _as_dtype(obj):
    return as_dtype(obj)


cdef void state_init(ResultState* st) noexcept nogil:
    st.dim_result = UNDEF
    st.zero_result = UNDEF
    st.wrapped_result = UNDEF


cdef void state_update_tensor(ResultState* st, int code, int ndim) noexcept nogil:
    if ndim > 0:
        st.dim_result = promote_types_code(st.dim_result, code)
    else:
        st.zero_result = promote_types_code(st.zero_result, code)


cdef void state_update_scalar(ResultState* st, int code) noexcept nogil:
    # Python floats and complexes count as the default dtypes
    if category(code) == 3:
        code = default_complex_code()
    elif category(code) == 2:
        code = _default_float
    st.wrapped_result = promote_types_code(st.wrapped_result, code)


cdef inline bint _is_float(int c) noexcept nogil:
    return c != UNDEF and category(c) == 2

cdef inline bint _is_complex(int c) noexcept nogil:
    return c != UNDEF and category(c) == 3


cdef int _combine_categories(int higher, int lower) noexcept nogil:
    if _is_complex(higher):
        return higher
    if _is_complex(lower):
        if _is_float(higher):
            return to_complex_code(higher)
        return lower
    if _is_float(higher):
        return higher
    if higher == DT_BOOL or _is_float(lower):
        return promote_types_code(higher, lower)
    if higher != UNDEF:
        return higher
    return lower


cdef int state_result(ResultState* st) noexcept nogil:
    return _combine_categories(st.dim_result,
                               _combine_categories(st.zero_result, st.wrapped_result))
