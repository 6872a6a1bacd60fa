# The Tensor: storage + dtype + shape + strides (in elements) + offset (DESIGN.md).
# Other modules and packages cimport this to read and build tensors without Python calls.
from rt_tensor._types cimport index_t, MAX_DIMS
from rt_tensor._memory cimport Storage

cdef class Tensor:
    cdef Storage _storage
    cdef int _dtype               # a DType code (_types.pxd)
    cdef int _ndim
    cdef index_t _offset          # in elements
    cdef index_t _numel
    cdef index_t _shape[MAX_DIMS]
    cdef index_t _strides[MAX_DIMS]
    cdef object __weakref__

    cdef inline char* ptr(self) noexcept nogil
    cdef bint is_contig(self) noexcept nogil

# ---- construction (all return plain rt_tensor.Tensor) ----
cdef Tensor new_tensor(int dtype, int ndim, const index_t* shape, bint zero)     # contiguous, from the pool
cdef Tensor new_tensor_from_tuple(int dtype, tuple shape, bint zero)
cdef Tensor make_view(Tensor base, int ndim, const index_t* shape, const index_t* strides, index_t offset)
cdef Tensor wrap_storage(Storage s, int dtype, int ndim, const index_t* shape, const index_t* strides, index_t offset)
cdef void contiguous_strides(int ndim, const index_t* shape, index_t* strides) noexcept nogil
cdef index_t shape_numel(int ndim, const index_t* shape) noexcept nogil
cdef tuple shape_tuple(Tensor t)

# ---- argument helpers shared by the Python-facing layer ----
cdef int wrap_dim(index_t dim, int ndim, bint allow_scalar=*) except -100
cdef int parse_shape(object args, index_t* out, str fname) except -1     # (*size) or (size,) -> ndim
cdef Tensor to_tensor(object obj)           # Tensor as is; scalars/lists/numpy -> new Tensor
cdef Tensor contiguous_tensor(Tensor t)     # t if contiguous else a contiguous copy
# PyTorch's out= rule: out as is when it has the shape, else resized in place to it (new
# contiguous storage), warning when it had
# elements. Every op with out= uses this.
cdef Tensor resize_out(Tensor out, int nd, const index_t* shape)

# ---- hooks: kernels live in modules imported after this one ----
ctypedef object (*binary_hook_t)(int op, object a, object b, object out, bint inplace)
ctypedef object (*unary_hook_t)(int op, object a, object out, bint inplace)
ctypedef void (*copy_hook_t)(Tensor dst, Tensor src) except *
cdef void register_elementwise_hooks(binary_hook_t binary, unary_hook_t unary)
cdef void register_copy_hook(copy_hook_t copy)
cdef void copy_into(Tensor dst, Tensor src) except *   # broadcasting, dtype-converting copy
