# N-d strided iteration with broadcasting by stride 0 (never by materialising), shared by
# every elementwise-style kernel. Operand 0 is the output. A kernel supplies only an inner
# loop over one dimension: fn(data, byte_strides, n, extra), numpy's ufunc-loop contract.
from rt_tensor._types cimport index_t, MAX_DIMS
from rt_tensor._tensor cimport Tensor

cdef enum:
    MAX_OPERANDS = 4

ctypedef void (*inner_loop_t)(char** data, const index_t* strides, index_t n, void* extra) noexcept nogil

cdef struct NdIter:
    int ndim
    int nop
    index_t numel
    index_t shape[MAX_DIMS]
    index_t strides[MAX_OPERANDS][MAX_DIMS]    # bytes
    char* data[MAX_OPERANDS]

cdef void iter_init(NdIter* it, int ndim, const index_t* shape) noexcept nogil
# t is broadcast (right-aligned) to the iterator's shape; the caller has checked the shapes.
cdef void iter_add(NdIter* it, Tensor t) noexcept
cdef void iter_add_raw(NdIter* it, char* data, int ndim, const index_t* shape,
                       const index_t* elem_strides, int itemsize) noexcept nogil
cdef void iter_coalesce(NdIter* it) noexcept nogil
# Runs fn over every element, split across the thread pool when numel >= grain.
cdef void iter_run(NdIter* it, inner_loop_t fn, void* extra, index_t grain) noexcept nogil

# Broadcast shapes a and b into out; returns the result ndim. RuntimeError naming both
# shapes when they do not broadcast.
cdef int broadcast_shapes(int na, const index_t* a, int nb, const index_t* b, index_t* out) except -1
