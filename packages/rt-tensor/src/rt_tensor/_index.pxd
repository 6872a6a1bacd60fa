# Indexing helpers other kernels may cimport (sort/unique/reductions that need the
# coordinates of nonzero elements).
from rt_tensor._tensor cimport Tensor

cdef Tensor _to_bool_contig(Tensor t)     # t != 0 as a contiguous bool tensor (t itself if it is one)
cdef Tensor _nonzero_2d(Tensor t)         # (n, ndim) int64 coordinates, row-major order
cdef tuple _nonzero_tuple(Tensor t)       # ndim 1-D int64 tensors (one for a 0-d t)
