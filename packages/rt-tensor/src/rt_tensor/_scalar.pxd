# Storing one C value as an element of any dtype: shared by the kernels that compute values
# in double or int64 (arange, linspace, random distributions). pxd-only inline functions.
from rt_tensor._types cimport *


cdef inline void store_double(char* p, int dt, double v) noexcept nogil:
    if dt == DT_FLOAT32:
        (<float*>p)[0] = <float>v
    elif dt == DT_FLOAT64:
        (<double*>p)[0] = v
    elif dt == DT_FLOAT16:
        (<uint16_t*>p)[0] = rt_f32_to_f16(<float>v)
    elif dt == DT_BFLOAT16:
        (<uint16_t*>p)[0] = rt_f32_to_bf16(<float>v)
    elif dt == DT_INT64:
        (<int64_t*>p)[0] = <int64_t>v
    elif dt == DT_INT32:
        (<int32_t*>p)[0] = <int32_t><int64_t>v
    elif dt == DT_INT16:
        (<int16_t*>p)[0] = <int16_t><int64_t>v
    elif dt == DT_INT8:
        (<int8_t*>p)[0] = <int8_t><int64_t>v
    elif dt == DT_UINT8:
        (<uint8_t*>p)[0] = <uint8_t><int64_t>v
    elif dt == DT_BOOL:
        (<uint8_t*>p)[0] = v != 0
    elif dt == DT_COMPLEX64:
        (<float*>p)[0] = <float>v
        (<float*>p)[1] = 0
    else:
        (<double*>p)[0] = v
        (<double*>p)[1] = 0


cdef inline void store_int(char* p, int dt, int64_t v) noexcept nogil:
    if dt == DT_INT64:
        (<int64_t*>p)[0] = v
    elif dt == DT_INT32:
        (<int32_t*>p)[0] = <int32_t>v
    elif dt == DT_INT16:
        (<int16_t*>p)[0] = <int16_t>v
    elif dt == DT_INT8:
        (<int8_t*>p)[0] = <int8_t>v
    elif dt == DT_UINT8:
        (<uint8_t*>p)[0] = <uint8_t>v
    else:
        store_double(p, dt, <double>v)
