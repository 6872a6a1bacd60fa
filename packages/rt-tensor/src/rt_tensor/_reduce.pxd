# Reductions (see _reduce.pyx). Other kernel modules (softmax, losses, ...) can reuse the
# accumulating engine without Python calls:
#     acc = reduce_acc(x, R_SUM, mask, NULL)        # mask[d] set for the reduced dims
#     result = finish(acc, DT_FLOAT32, None, "name") # cast / copy into out=
from rt_tensor._tensor cimport Tensor

# accumulating ops (the order of RED_OPS in _reduce_loops.pxi.in)
cdef enum:
    R_SUM = 0
    R_NANSUM = 1
    R_PROD = 2
    R_MAX = 3
    R_MIN = 4
    R_ALL = 5
    R_ANY = 6
    R_CNZ = 7          # count of nonzero elements (int64)
    R_NABS = 8         # sum |x| (float64)
    R_NSQ = 9          # sum |x|^2 (float64)
    R_NPOW = 10        # sum |x|^p, extra = &p (double)
    R_NMAXABS = 11
    R_NMINABS = 12
    R_CNN = 13         # count of non-NaN elements (int64)
    R_SQDEV = 14       # sum (x - mean)^2, extra = SqdevExtra* (float64; real floats only)

cdef struct SqdevExtra:
    char* accbase      # set by reduce_acc
    Py_ssize_t nout    # set by reduce_acc
    double* mean       # laid out as reduce_acc(x, R_SUM, same mask) lays out its result

# Reduce x over the dims where rmask is set with op. Returns the accumulators (dtype:
# int64 for integer sums/products/counts, float64 for float sums and norms, complex128 for
# complex sums, the input dtype (float32 for 16-bit floats) for max/min, bool for all/any)
# shaped as the kept dims; the caller has checked that op supports x's dtype.
cdef Tensor reduce_acc(Tensor x, int op, const bint* rmask, void* extra)
# dim (None, int, or a sequence; None/() mean all) -> mask; returns the number of reduced dims
cdef int parse_dims(Tensor x, object dim, bint* mask, str fname, bint empty_is_all=*) except -1
# r -> a contiguous result of res_dtype, or copied into out (dtype and shape checked)
cdef object finish(Tensor r, int res_dtype, object out, str fname)
