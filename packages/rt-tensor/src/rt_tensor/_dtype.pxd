from rt_tensor._types cimport DType

cdef class dtype:
    cdef readonly int code
    cdef readonly int itemsize
    cdef readonly str name           # "float32"
    cdef readonly str scalar_name    # PyTorch's ScalarType name, for messages: "Float"
    cdef readonly bint is_floating_point
    cdef readonly bint is_complex
    cdef readonly bint is_signed

cdef dtype dtype_of(int code)        # the dtype object of a code
cdef int ITEMSIZE[12]

cdef int promote_types_code(int a, int b) noexcept nogil
cdef int category(int code) noexcept nogil   # 0 bool, 1 integer, 2 floating, 3 complex
cdef bint can_cast_code(int src, int dst) noexcept nogil
cdef int default_float_code() noexcept nogil
cdef int default_complex_code() noexcept nogil
cdef int to_real_code(int code) noexcept nogil
cdef int to_complex_code(int code) noexcept nogil
cdef dtype as_dtype(object obj)      # dtype, numpy dtype, or Python type -> dtype (TypeError)

# PyTorch's ResultTypeState: dimensioned tensors, 0-d tensors and Python scalars each
# accumulate promotions; a lower-priority group only matters if its category is higher.
cdef struct ResultState:
    int dim_result
    int zero_result
    int wrapped_result

cdef void state_init(ResultState* st) noexcept nogil
cdef void state_update_tensor(ResultState* st, int code, int ndim) noexcept nogil
cdef void state_update_scalar(ResultState* st, int code) noexcept nogil   # bool/int64/float/complex
cdef int state_result(ResultState* st) noexcept nogil
