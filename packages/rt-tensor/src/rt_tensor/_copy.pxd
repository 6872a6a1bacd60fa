from rt_tensor._tensor cimport Tensor
from rt_tensor._iter cimport inner_loop_t

cdef inner_loop_t copy_loop(int src_dtype, int dst_dtype) noexcept nogil
cdef void check_no_internal_overlap(Tensor t) except *
# 0 none, 1 identical (same elements, same layout), 2 partial overlap of contiguous ranges,
# 3 overlapping ranges that are too hard to compare (non-contiguous)
cdef int overlap_status(Tensor a, Tensor b) noexcept
cdef void copy_tensor(Tensor dst, Tensor src) except *
