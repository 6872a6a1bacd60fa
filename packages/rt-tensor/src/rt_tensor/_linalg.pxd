# Matrix products for other Cython modules (conv via im2col, nn layers): the same kernels as
# rt_tensor.matmul / mm / addmm_, without Python argument parsing. Operands are validated
# like the Python functions (RuntimeError on shape/dtype mismatch).
from rt_tensor._tensor cimport Tensor

cdef Tensor matmul_tensors(Tensor a, Tensor b)          # torch.matmul(a, b)
cdef Tensor mm_tensors(Tensor a, Tensor b)              # torch.mm(a, b)
# c = beta * c + alpha * (a @ b) in place (c: (M, N), same dtype); returns c
cdef Tensor addmm_inplace(Tensor c, Tensor a, Tensor b, double complex beta, double complex alpha)

# The loaded scipy-openblas32 GEMM (cblas_sgemm for DT_FLOAT32, cblas_dgemm for DT_FLOAT64),
# single-threaded; the library is loaded on first use. The one place rt loads BLAS.
cdef void* blas_gemm(int dt) except NULL
