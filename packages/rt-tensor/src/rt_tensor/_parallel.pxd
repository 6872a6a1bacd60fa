# The process-wide thread pool (rt_parallel.h). Kernels split work with parallel_for:
#   parallel_for(n, grain, fn, ctx) calls fn(ctx, begin, end) over disjoint ranges of [0, n).
from rt_tensor._types cimport index_t

ctypedef void (*task_fn)(void* ctx, index_t begin, index_t end) noexcept nogil

cdef void parallel_for(index_t n, index_t grain, task_fn fn, void* ctx) noexcept nogil
# Threads a kernel should plan its split for now (1 while the pool backs off because its
# workers found no CPU time); set_num_threads' value otherwise.
cdef int num_threads() noexcept nogil
# set_num_threads' value, always: for kernels whose results depend on their split (a GEMM
# split into row blocks), so the bits depend only on the setting, never on the back-off.
cdef int configured_threads() noexcept nogil

# Work below this many elements runs on the calling thread: a parallel region costs
# about 1-2 µs (BUILD-NOTES.md).
cdef enum:
    GRAIN_ELEMENTWISE = 32768
