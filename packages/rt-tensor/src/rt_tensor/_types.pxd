# The one place that names the C types used by every rt_tensor kernel (the scikit-learn
# `_typedefs.pxd` pattern). Other packages cimport from here, never redefine.
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

ctypedef int64_t index_t          # sizes, strides (in elements), offsets
ctypedef uint8_t bool_t           # storage of rt_tensor.bool: one byte, 0 or 1
ctypedef uint16_t half_bits_t     # storage of float16 and bfloat16
ctypedef float complex complex64_t
ctypedef double complex complex128_t

# Dtype codes: the order is the promotion order within a kind, and the index into
# the tables in _dtype.pyx. Keep in sync with _dtype.DTYPES.
cdef enum DType:
    DT_BOOL = 0
    DT_UINT8 = 1
    DT_INT8 = 2
    DT_INT16 = 3
    DT_INT32 = 4
    DT_INT64 = 5
    DT_FLOAT16 = 6
    DT_BFLOAT16 = 7
    DT_FLOAT32 = 8
    DT_FLOAT64 = 9
    DT_COMPLEX64 = 10
    DT_COMPLEX128 = 11


cdef enum:
    NUM_DTYPES = 12
    MAX_DIMS = 32      # the most dimensions a Tensor may have

cdef extern from "rt_half.h" nogil:
    float rt_f16_to_f32(uint16_t h)
    uint16_t rt_f32_to_f16(float f)
    float rt_bf16_to_f32(uint16_t h)
    uint16_t rt_f32_to_bf16(float f)
