# cython: language_level=3
"""Linear algebra: matmul and friends through BLAS (scipy-openblas32), einsum, tensordot.

GEMM design (measured in benchmarks/bench_blas_choice.py):
- float32/float64/complex64/complex128 go to OpenBLAS's cblas_?gemm, found with dlopen/dlsym
  on the first product (``import rt_tensor`` loads no BLAS), called from Cython with no
  Python in the loop. float16/bfloat16 are converted to float32, multiplied, rounded back.
  Integer dtypes use the loop below (wrap-around like PyTorch); bool raises.
- OpenBLAS runs single-threaded (openblas_set_num_threads(1) right after loading: its own
  pool never gets work). Large products are split into blocks of
  rows (or columns) on rt's own pool (parallel_for): one pool per process, so no two pools
  spin against each other, and a thread that another process holds up costs at most one
  block. Small products (under ~2 MFLOP) are one direct GEMM call on the calling thread.
- Batches: when each product is small, batches are spread over the pool; otherwise the
  batches run in turn and each product is split.
- Operands are never copied when BLAS can read them: a matrix with unit column stride is
  passed as is (NoTrans, ld = row stride), one with unit row stride as transposed (Trans,
  ld = column stride). Only other layouts are copied. Broadcast batch dims are strides in a
  per-batch offset table, never materialised.
"""
include "build_stamp.pxi"

import os

from libc.stdlib cimport malloc, free
from libc.string cimport memset
from libc.stdint cimport uint64_t, int64_t
from rt_tensor._types cimport *
from rt_tensor._dtype cimport dtype, dtype_of, ITEMSIZE, category, promote_types_code
from rt_tensor._tensor cimport (Tensor, new_tensor, make_view, contiguous_tensor, copy_into,
                                contiguous_strides, shape_numel, wrap_dim, resize_out)
from rt_tensor._memory cimport new_storage
from rt_tensor._parallel cimport parallel_for, configured_threads

cdef extern from "rt_blas.h" nogil:
    enum:
        RT_ROW_MAJOR
        RT_NO_TRANS
        RT_TRANS
    ctypedef void (*rt_sgemm_t)(int order, int ta, int tb, int m, int n, int k, float alpha,
                                const float* a, int lda, const float* b, int ldb, float beta,
                                float* c, int ldc) noexcept nogil
    ctypedef void (*rt_dgemm_t)(int order, int ta, int tb, int m, int n, int k, double alpha,
                                const double* a, int lda, const double* b, int ldb, double beta,
                                double* c, int ldc) noexcept nogil
    ctypedef void (*rt_cgemm_t)(int order, int ta, int tb, int m, int n, int k, const void* alpha,
                                const void* a, int lda, const void* b, int ldb, const void* beta,
                                void* c, int ldc) noexcept nogil
    ctypedef void (*rt_set_threads_t)(int n) noexcept nogil
    ctypedef float (*rt_sdot_t)(int n, const float* x, int incx, const float* y, int incy) noexcept nogil
    ctypedef double (*rt_ddot_t)(int n, const double* x, int incx, const double* y, int incy) noexcept nogil
    ctypedef void (*rt_sgemv_t)(int order, int trans, int m, int n, float alpha, const float* a,
                                int lda, const float* x, int incx, float beta, float* y,
                                int incy) noexcept nogil
    ctypedef void (*rt_dgemv_t)(int order, int trans, int m, int n, double alpha,
                                const double* a, int lda, const double* x, int incx, double beta,
                                double* y, int incy) noexcept nogil
    void* dlopen(const char* filename, int flag)
    void* dlsym(void* handle, const char* symbol)
    char* dlerror()
    int RTLD_NOW
    int RTLD_LOCAL

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm",
           "addmv", "addbmm", "baddbmm", "tensordot", "einsum", "kron"]

# ---------------------------------------------------------------------------------------
# BLAS loading

cdef rt_sgemm_t _sgemm = NULL
cdef rt_dgemm_t _dgemm = NULL
cdef rt_cgemm_t _cgemm = NULL
cdef rt_cgemm_t _zgemm = NULL
cdef rt_sdot_t _sdot = NULL
cdef rt_ddot_t _ddot = NULL
cdef rt_sgemv_t _sgemv = NULL
cdef rt_dgemv_t _dgemv = NULL
cdef bint _blas_ready = False
cdef object _blas_path = None


cdef void* _sym(void* h, bytes name) except NULL:
    cdef void* p = dlsym(h, name)
    if p == NULL:
        raise RuntimeError(f"rt_tensor: symbol {name.decode()} not found in {_blas_path}")
    return p


cdef int _load_blas() except -1:
    """dlopen scipy-openblas32 once, single-threaded; keep the function pointers."""
    global _sgemm, _dgemm, _cgemm, _zgemm, _sdot, _ddot, _sgemv, _dgemv, _blas_ready, _blas_path
    if _blas_ready:
        return 0
    try:
        import scipy_openblas32 as so
    except ImportError:
        raise RuntimeError("rt_tensor needs the scipy-openblas32 package for matrix products "
                           "(pip install scipy-openblas32)") from None
    _blas_path = os.path.join(so.get_lib_dir(), so.get_library(True))
    cdef bytes path = os.fsencode(_blas_path)
    cdef void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL)
    if h == NULL:
        raise RuntimeError(f"rt_tensor: cannot load {_blas_path}: {(<bytes>dlerror()).decode()}")
    # OpenBLAS computes on the calling thread only; rt's pool does the splitting
    cdef rt_set_threads_t set_threads = <rt_set_threads_t>_sym(h, b"scipy_openblas_set_num_threads")
    set_threads(1)
    _sgemm = <rt_sgemm_t>_sym(h, b"scipy_cblas_sgemm")
    _dgemm = <rt_dgemm_t>_sym(h, b"scipy_cblas_dgemm")
    _cgemm = <rt_cgemm_t>_sym(h, b"scipy_cblas_cgemm")
    _zgemm = <rt_cgemm_t>_sym(h, b"scipy_cblas_zgemm")
    _sdot = <rt_sdot_t>_sym(h, b"scipy_cblas_sdot")
    _ddot = <rt_ddot_t>_sym(h, b"scipy_cblas_ddot")
    _sgemv = <rt_sgemv_t>_sym(h, b"scipy_cblas_sgemv")
    _dgemv = <rt_dgemv_t>_sym(h, b"scipy_cblas_dgemv")
    _blas_ready = True
    return 0


cdef void* blas_gemm(int dt) except NULL:
    _load_blas()
    if dt == DT_FLOAT32:
        return <void*>_sgemm
    if dt == DT_FLOAT64:
        return <void*>_dgemm
    raise TypeError(f"blas_gemm: no real GEMM for dtype code {dt}")


def _blas_info():
    """(library path, loaded) of the BLAS used for products (for benchmarks and tests)."""
    return _blas_path, bool(_blas_ready)


# ---------------------------------------------------------------------------------------
# the product kernel: C[b] = alpha * A[b] @ B[b] + beta * C[b] over a table of batches

cdef struct Plan:
    int dt                 # dtype code of A, B, C (a BLAS dtype or an integer dtype)
    int isz
    index_t m, n, k
    char* a                # element 0 of A (batch offsets are added)
    char* b
    char* c
    int ta, tb             # RT_NO_TRANS / RT_TRANS (BLAS dtypes)
    index_t lda, ldb, ldc  # leading dimensions in elements
    index_t ars, acs, brs, bcs   # element strides (integer loop)
    index_t nbatch
    index_t* aoff          # byte offsets per batch (NULL: all zero)
    index_t* boff
    index_t cstride        # bytes between batches of C
    double alpha[2]
    double beta[2]
    bint split_rows        # when splitting one product: rows (True) or columns
    index_t block          # ... in blocks of this many rows (columns); the last may be short
    index_t dim            # rows (columns) in all


cdef inline bint _is_blas(int dt) noexcept nogil:
    return dt == DT_FLOAT32 or dt == DT_FLOAT64 or dt == DT_COMPLEX64 or dt == DT_COMPLEX128


cdef inline int64_t _load_int(const char* p, int dt) noexcept nogil:
    if dt == DT_INT64:
        return (<const int64_t*>p)[0]
    if dt == DT_INT32:
        return (<const int32_t*>p)[0]
    if dt == DT_INT16:
        return (<const int16_t*>p)[0]
    if dt == DT_INT8:
        return (<const int8_t*>p)[0]
    return (<const uint8_t*>p)[0]


cdef inline void _store_int(char* p, int dt, uint64_t v) noexcept nogil:
    if dt == DT_INT64:
        (<int64_t*>p)[0] = <int64_t>v
    elif dt == DT_INT32:
        (<int32_t*>p)[0] = <int32_t>v
    elif dt == DT_INT16:
        (<int16_t*>p)[0] = <int16_t>v
    elif dt == DT_INT8:
        (<int8_t*>p)[0] = <int8_t>v
    else:
        (<uint8_t*>p)[0] = <uint8_t>v


cdef void _int_block(Plan* p, char* a, char* b, char* c, index_t i0, index_t i1,
                     index_t j0, index_t j1) noexcept nogil:
    """Integer product of rows [i0, i1) and columns [j0, j1): sums in 64-bit unsigned
    arithmetic (wraps like the dtype's own, no undefined overflow), stored truncated."""
    cdef int dt = p.dt, isz = p.isz
    cdef index_t nn = j1 - j0, i, j, q
    cdef uint64_t* acc = <uint64_t*>malloc(sizeof(uint64_t) * (nn if nn > 0 else 1))
    cdef uint64_t av, alpha = <uint64_t><int64_t>p.alpha[0], beta = <uint64_t><int64_t>p.beta[0]
    cdef char* brow
    cdef char* cp
    if acc == NULL:
        return
    for i in range(i0, i1):
        memset(acc, 0, sizeof(uint64_t) * nn)
        for q in range(p.k):
            av = <uint64_t>_load_int(a + (i * p.ars + q * p.acs) * isz, dt)
            if av == 0:
                continue
            brow = b + (q * p.brs + j0 * p.bcs) * isz
            if dt == DT_INT64 and p.bcs == 1:
                for j in range(nn):
                    acc[j] += av * <uint64_t>(<int64_t*>brow)[j]
            elif dt == DT_INT32 and p.bcs == 1:
                for j in range(nn):
                    acc[j] += av * <uint64_t><int64_t>(<int32_t*>brow)[j]
            else:
                for j in range(nn):
                    acc[j] += av * <uint64_t>_load_int(brow + j * p.bcs * isz, dt)
        cp = c + (i * p.ldc + j0) * isz
        for j in range(nn):
            if beta == 0:
                _store_int(cp + j * isz, dt, alpha * acc[j])
            else:
                _store_int(cp + j * isz, dt, alpha * acc[j] +
                           beta * <uint64_t>_load_int(cp + j * isz, dt))
    free(acc)


cdef void _gemv_block(Plan* p, char* a, char* b, char* c, index_t m, index_t n) noexcept nogil:
    """A block of one row or one column as a matrix-vector product: OpenBLAS's GEMM takes a
    1 x k @ k x n product through its general path (a batch-1 Linear 1x4096 @ 4096x1024:
    2.8 ms, 10x PyTorch's), its GEMV streams the matrix once (~0.3 ms)."""
    cdef int trans, rows, cols, inc, incy, lda
    cdef char* mat
    cdef char* vec
    if m == 1:
        # c (1 x n) = a (1 x k) @ B: y = B^T a over B as stored
        mat, vec, lda, incy = b, a, <int>p.ldb, 1
        inc = 1 if p.ta == RT_NO_TRANS else <int>p.lda
        if p.tb == RT_NO_TRANS:          # B row-major k x n
            trans, rows, cols = RT_TRANS, <int>p.k, <int>n
        else:                            # B stored as n x k
            trans, rows, cols = RT_NO_TRANS, <int>n, <int>p.k
    else:
        # c (m x 1) = A @ b (k x 1): y = A b over A as stored; y strided by ldc
        mat, vec, lda, incy = a, b, <int>p.lda, <int>p.ldc
        inc = <int>p.ldb if p.tb == RT_NO_TRANS else 1
        if p.ta == RT_NO_TRANS:          # A row-major m x k
            trans, rows, cols = RT_NO_TRANS, <int>m, <int>p.k
        else:                            # A stored as k x m
            trans, rows, cols = RT_TRANS, <int>p.k, <int>m
    if p.dt == DT_FLOAT32:
        _sgemv(RT_ROW_MAJOR, trans, rows, cols, <float>p.alpha[0], <float*>mat, lda,
               <float*>vec, inc, <float>p.beta[0], <float*>c, incy)
    else:
        _dgemv(RT_ROW_MAJOR, trans, rows, cols, p.alpha[0], <double*>mat, lda, <double*>vec,
               inc, p.beta[0], <double*>c, incy)


cdef void _gemm_block(Plan* p, index_t batch, index_t i0, index_t i1, index_t j0,
                      index_t j1) noexcept nogil:
    """C[i0:i1, j0:j1] of one batch, with one BLAS call."""
    cdef char* a = p.a
    cdef char* b = p.b
    cdef char* c = p.c + batch * p.cstride
    cdef int isz = p.isz
    cdef index_t m = i1 - i0, n = j1 - j0
    cdef float fal[2]
    cdef float fbe[2]
    if m <= 0 or n <= 0:
        return
    if p.aoff != NULL:
        a += p.aoff[batch]
    if p.boff != NULL:
        b += p.boff[batch]
    if not _is_blas(p.dt):
        _int_block(p, a, b, c, i0, i1, j0, j1)
        return
    # move to the block: rows of A / C, columns of B / C
    if p.ta == RT_NO_TRANS:
        a += i0 * p.lda * isz
    else:
        a += i0 * isz
    if p.tb == RT_NO_TRANS:
        b += j0 * isz
    else:
        b += j0 * p.ldb * isz
    c += (i0 * p.ldc + j0) * isz
    if (m == 1 or n == 1) and p.k > 0 and (p.dt == DT_FLOAT32 or p.dt == DT_FLOAT64):
        _gemv_block(p, a, b, c, m, n)
        return
    if p.dt == DT_FLOAT32:
        _sgemm(RT_ROW_MAJOR, p.ta, p.tb, <int>m, <int>n, <int>p.k, <float>p.alpha[0],
               <float*>a, <int>p.lda, <float*>b, <int>p.ldb, <float>p.beta[0], <float*>c, <int>p.ldc)
    elif p.dt == DT_FLOAT64:
        _dgemm(RT_ROW_MAJOR, p.ta, p.tb, <int>m, <int>n, <int>p.k, p.alpha[0],
               <double*>a, <int>p.lda, <double*>b, <int>p.ldb, p.beta[0], <double*>c, <int>p.ldc)
    elif p.dt == DT_COMPLEX64:
        fal[0] = <float>p.alpha[0]
        fal[1] = <float>p.alpha[1]
        fbe[0] = <float>p.beta[0]
        fbe[1] = <float>p.beta[1]
        _cgemm(RT_ROW_MAJOR, p.ta, p.tb, <int>m, <int>n, <int>p.k, fal, a, <int>p.lda,
               b, <int>p.ldb, fbe, c, <int>p.ldc)
    else:
        _zgemm(RT_ROW_MAJOR, p.ta, p.tb, <int>m, <int>n, <int>p.k, p.alpha, a, <int>p.lda,
               b, <int>p.ldb, p.beta, c, <int>p.ldc)


cdef void _task_blocks(void* ctx, index_t begin, index_t end) noexcept nogil:
    """Blocks [begin, end) of rows (or columns), one BLAS call per block: the block
    boundaries are fixed by the plan, never by how the pool hands out the range (a serial
    fallback gets the whole range), and BLAS edge paths depend on them, so a product gives
    the same bits from run to run at a given thread count."""
    cdef Plan* p = <Plan*>ctx
    cdef index_t bt, blk, lo, hi
    for blk in range(begin, end):
        lo = blk * p.block
        hi = lo + p.block
        if hi > p.dim:
            hi = p.dim
        for bt in range(p.nbatch):
            if p.split_rows:
                _gemm_block(p, bt, lo, hi, 0, p.n)
            else:
                _gemm_block(p, bt, 0, p.m, lo, hi)


cdef void _task_batches(void* ctx, index_t begin, index_t end) noexcept nogil:
    cdef Plan* p = <Plan*>ctx
    cdef index_t bt
    for bt in range(begin, end):
        _gemm_block(p, bt, 0, p.m, 0, p.n)


# Products below this many multiply-adds run as one call on the calling thread: a 64x64
# product (262K) takes ~3 us, less than waking a worker is worth.
cdef index_t SERIAL_MACS = 1 << 20
# A thin product (a row or a few: a batch-1 Linear layer) only streams its weight matrix, so
# splitting pays from fewer multiply-adds: 1x784 @ 784x256 takes 9.3 us on one thread and
# 6.3 us split in two (4 rows: 16.3 -> 12.1 us).
cdef index_t THIN_SERIAL_MACS = 1 << 17
cdef index_t THIN_ROWS = 8
# Rows (or columns) per block of a split product: OpenBLAS packs the whole other operand for
# every call, so a 64-row block of a 1024 product runs at ~78% of a whole call, 256 rows at
# ~96%, 512 at ~99% (measured with single-threaded sgemm on this machine).
cdef index_t MIN_BLOCK = 128
cdef index_t MAX_BLOCK = 512


def _gemm_tuning(serial_macs=None, min_block=None, max_block=None, thin_serial_macs=None):
    """Read (and, for experiments such as benchmarks/bench_blas_choice.py, set) the GEMM
    split thresholds: products under serial_macs multiply-adds (thin_serial_macs for a
    product of at most 8 rows or columns) run on the calling thread; a split product gets
    blocks of min_block..max_block rows (or columns)."""
    global SERIAL_MACS, MIN_BLOCK, MAX_BLOCK, THIN_SERIAL_MACS
    if serial_macs is not None:
        SERIAL_MACS = max(1, int(serial_macs))
    if thin_serial_macs is not None:
        THIN_SERIAL_MACS = max(1, int(thin_serial_macs))
    if min_block is not None:
        MIN_BLOCK = max(1, int(min_block))
    if max_block is not None:
        MAX_BLOCK = max(MIN_BLOCK, int(max_block))
    return {"serial_macs": SERIAL_MACS, "min_block": MIN_BLOCK, "max_block": MAX_BLOCK,
            "thin_serial_macs": THIN_SERIAL_MACS}


cdef void _run_plan(Plan* p) noexcept nogil:
    cdef index_t macs = p.m * p.n * p.k
    # the configured count, not num_threads(): while the pool backs off the plan stays the
    # same (parallel_for then runs its blocks serially), so the result's bits do too
    cdef int nt = configured_threads()
    cdef index_t dim, grain, per
    cdef index_t serial = SERIAL_MACS
    if p.nbatch <= 0 or p.m <= 0 or p.n <= 0:
        return
    if p.nbatch == 1 and (p.m <= THIN_ROWS or p.n <= THIN_ROWS):
        serial = THIN_SERIAL_MACS
    if nt <= 1 or macs * p.nbatch < serial:
        _task_batches(p, 0, p.nbatch)
        return
    if p.nbatch > 1 and (macs < 16 * SERIAL_MACS or p.nbatch >= 4 * nt):
        # many small products: spread the batches
        per = SERIAL_MACS // (macs if macs > 0 else 1)
        parallel_for(p.nbatch, per if per > 1 else 1, _task_batches, p)
        return
    if macs < serial:
        _task_batches(p, 0, p.nbatch)
        return
    # one product at a time, split into row (or column) blocks on the pool
    p.split_rows = p.m >= p.n
    dim = p.m if p.split_rows else p.n
    grain = dim // (2 * nt)          # about two blocks per thread ...
    if grain > MAX_BLOCK:
        grain = MAX_BLOCK
    if grain < MIN_BLOCK:            # ... but none so thin that packing dominates
        grain = MIN_BLOCK
    if dim < 2 * grain:              # mid-size products: two halves
        grain = dim // 2
    if grain < 1 or grain < MIN_BLOCK // 4:
        _task_batches(p, 0, p.nbatch)
        return
    p.dim = dim
    p.block = grain
    parallel_for((dim + grain - 1) // grain, 1, _task_blocks, p)


# ---------------------------------------------------------------------------------------
# operand layout for BLAS

cdef inline bint _blas_layout(index_t rows, index_t cols, index_t rs, index_t cs,
                              int* trans, index_t* ld) noexcept:
    """Can BLAS read this rows x cols matrix in place? Sets trans and ld."""
    cdef index_t r, c
    # as stored (row-major, NoTrans): unit column stride
    r = rs if rows > 1 else (cols if cols > 1 else 1)
    c = cs if cols > 1 else 1
    if c == 1 and r >= (cols if cols > 1 else 1):
        trans[0] = RT_NO_TRANS
        ld[0] = r
        return True
    # transposed storage (Trans): unit row stride
    r = rs if rows > 1 else 1
    c = cs if cols > 1 else (rows if rows > 1 else 1)
    if r == 1 and c >= (rows if rows > 1 else 1):
        trans[0] = RT_TRANS
        ld[0] = c
        return True
    return False


cdef str _fmt(Tensor t):
    return "[" + ", ".join([str(t._shape[i]) for i in range(t._ndim)]) + "]"


cdef list _CXX_NAMES = ["bool", "unsigned char", "signed char", "short int", "int", "long int",
                        "c10::Half", "c10::BFloat16", "float", "double", "c10::complex<float>",
                        "c10::complex<double>"]


cdef inline str _sname(int dt):
    return dtype_of(dt).scalar_name


cdef int _check_not_bool(Tensor t, str kernel) except -1:
    if t._dtype == DT_BOOL:
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')
    return 0


cdef int _check_same_mm(Tensor a, Tensor b) except -1:
    if a._dtype != b._dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_CXX_NAMES[a._dtype]} != {_CXX_NAMES[b._dtype]}")
    return 0


cdef Tensor _to_dtype(Tensor t, int dt):
    """A contiguous copy of t in dtype dt (t's own shape)."""
    cdef Tensor r = new_tensor(dt, t._ndim, t._shape, False)
    copy_into(r, t)
    return r


cdef object _scalar_arg(object v, int dt, str name):
    if isinstance(v, Tensor):
        v = v.item()
    if category(dt) <= 1:
        if isinstance(v, complex) or (isinstance(v, float) and not float(v).is_integer()):
            raise RuntimeError(f"For integral input tensors, argument {name} must not be a "
                               "floating point number.")
        return complex(int(v))
    if category(dt) == 2 and isinstance(v, complex):
        raise RuntimeError(f"For non-complex input tensors, argument {name} must not be "
                           "complex.")
    return complex(v)


cdef Tensor _core(Tensor a, Tensor b, int nb, const index_t* bshape, Tensor c,
                  double complex alpha, double complex beta):
    """c[...] = alpha * a @ b + beta * c over broadcast batch dims bshape (nb dims).

    a: (..., M, K), b: (..., K, N) with batch dims right-aligned to bshape (size 1 or equal);
    c: contiguous (bshape..., M, N) of a's dtype, which is a BLAS or an integer dtype.
    Returns c."""
    cdef int dt = a._dtype
    cdef index_t M = a._shape[a._ndim - 2], K = a._shape[a._ndim - 1]
    cdef index_t N = b._shape[b._ndim - 1]
    cdef Plan p
    cdef int i, ta = RT_NO_TRANS, tb = RT_NO_TRANS
    cdef index_t lda = 1, ldb = 1, nbatch = 1, bt, rem, idx, aoff, boff
    cdef index_t* offs = NULL
    cdef index_t astr[MAX_DIMS]
    cdef index_t bstr[MAX_DIMS]
    cdef int isz = ITEMSIZE[dt]
    for i in range(nb):
        nbatch *= bshape[i]
    if nbatch == 0 or M == 0 or N == 0:
        return c
    if K == 0:
        if beta == 0:
            memset(c.ptr(), 0, c._numel * isz)
        elif beta != 1:
            _scale(c, beta)
        return c
    if _is_blas(dt):
        _load_blas()
        if M > 0x7fffffff or N > 0x7fffffff or K > 0x7fffffff:
            raise RuntimeError("matrix dimensions above 2**31-1 are not supported")
        if not _blas_layout(M, K, a._strides[a._ndim - 2], a._strides[a._ndim - 1], &ta, &lda):
            a = contiguous_tensor_clone(a)
            _blas_layout(M, K, a._strides[a._ndim - 2], a._strides[a._ndim - 1], &ta, &lda)
        if not _blas_layout(K, N, b._strides[b._ndim - 2], b._strides[b._ndim - 1], &tb, &ldb):
            b = contiguous_tensor_clone(b)
            _blas_layout(K, N, b._strides[b._ndim - 2], b._strides[b._ndim - 1], &tb, &ldb)
        if lda > 0x7fffffff or ldb > 0x7fffffff:
            raise RuntimeError("matrix strides above 2**31-1 are not supported")
    memset(&p, 0, sizeof(Plan))
    p.dt = dt
    p.isz = isz
    p.m = M
    p.n = N
    p.k = K
    p.a = a.ptr()
    p.b = b.ptr()
    p.c = c.ptr()
    p.ta = ta
    p.tb = tb
    p.lda = lda
    p.ldb = ldb
    p.ldc = N
    p.ars = a._strides[a._ndim - 2]
    p.acs = a._strides[a._ndim - 1]
    p.brs = b._strides[b._ndim - 2]
    p.bcs = b._strides[b._ndim - 1]
    p.nbatch = nbatch
    p.cstride = M * N * isz
    p.alpha[0] = alpha.real
    p.alpha[1] = alpha.imag
    p.beta[0] = beta.real
    p.beta[1] = beta.imag
    if nbatch > 1:
        # batch strides of a and b aligned to bshape (0 where broadcast)
        for i in range(nb):
            astr[i] = 0
            bstr[i] = 0
        for i in range(a._ndim - 2):
            if a._shape[i] != 1:
                astr[nb - (a._ndim - 2) + i] = a._strides[i]
        for i in range(b._ndim - 2):
            if b._shape[i] != 1:
                bstr[nb - (b._ndim - 2) + i] = b._strides[i]
        offs = <index_t*>malloc(2 * nbatch * sizeof(index_t))
        if offs == NULL:
            raise MemoryError()
        for bt in range(nbatch):
            rem = bt
            aoff = 0
            boff = 0
            for i in range(nb - 1, -1, -1):
                idx = rem % bshape[i]
                rem //= bshape[i]
                aoff += idx * astr[i]
                boff += idx * bstr[i]
            offs[bt] = aoff * isz
            offs[nbatch + bt] = boff * isz
        p.aoff = offs
        p.boff = offs + nbatch
    with nogil:
        _run_plan(&p)
    free(offs)
    return c


cdef Tensor contiguous_tensor_clone(Tensor t):
    cdef Tensor r = new_tensor(t._dtype, t._ndim, t._shape, False)
    copy_into(r, t)
    return r


cdef void _scale(Tensor c, double complex beta) except *:
    """c *= beta for a contiguous tensor c (BLAS or integer dtype)."""
    cdef index_t i, n = c._numel
    cdef char* p = c.ptr()
    cdef float complex fb = beta
    if c._dtype == DT_FLOAT32:
        for i in range(n):
            (<float*>p)[i] *= <float>beta.real
    elif c._dtype == DT_FLOAT64:
        for i in range(n):
            (<double*>p)[i] *= beta.real
    elif c._dtype == DT_COMPLEX64:
        for i in range(n):
            (<float complex*>p)[i] = (<float complex*>p)[i] * fb
    elif c._dtype == DT_COMPLEX128:
        for i in range(n):
            (<double complex*>p)[i] = (<double complex*>p)[i] * beta
    else:
        for i in range(n):
            _store_int(p + i * ITEMSIZE[c._dtype], c._dtype,
                       <uint64_t><int64_t>beta.real *
                       <uint64_t>_load_int(p + i * ITEMSIZE[c._dtype], c._dtype))


cdef inline bint _is_half(int dt) noexcept nogil:
    return dt == DT_FLOAT16 or dt == DT_BFLOAT16


cdef bint _overlaps(Tensor out, Tensor x):
    return x is not None and out._storage is x._storage


cdef Tensor _product(Tensor a, Tensor b, int nb, const index_t* bshape, int rnd,
                     const index_t* rshape, Tensor out, Tensor init, double complex alpha,
                     double complex beta):
    """The result of alpha * a @ b + beta * init (init broadcast to the result), in a's dtype,
    shaped rshape (the batch dims bshape + (M, N), possibly with 1-D dims dropped), written
    into out when given. a and b have the same dtype (checked by the caller)."""
    cdef int dt = a._dtype, cdt
    cdef index_t full[MAX_DIMS]
    cdef int i, fnd = nb + 2
    cdef Tensor c, result
    cdef bint direct
    for i in range(nb):
        full[i] = bshape[i]
    full[nb] = a._shape[a._ndim - 2]
    full[nb + 1] = b._shape[b._ndim - 1]
    if init is None or beta == 0:
        beta = 0
        init = None
    cdt = DT_FLOAT32 if _is_half(dt) else dt
    if out is not None:
        if out._dtype != dt:
            raise RuntimeError(f"Expected out tensor to have dtype {_CXX_NAMES[dt]}, but got "
                               f"{_CXX_NAMES[out._dtype]} instead")
        out = resize_out(out, rnd, rshape)
        direct = (cdt == dt and out.is_contig() and not _overlaps(out, a)
                  and not _overlaps(out, b) and (init is out or not _overlaps(out, init)))
    else:
        direct = cdt == dt
    if direct:
        c = out if out is not None else new_tensor(dt, rnd, rshape, False)
        # the kernel sees c as (bshape..., M, N): same contiguous memory
        c = _as_shape(c, fnd, full)
    else:
        c = new_tensor(cdt, fnd, full, False)
    if init is not None and not (direct and init is out):
        copy_into(c, init)
    if _is_half(dt):
        a = _to_dtype(a, DT_FLOAT32)
        b = _to_dtype(b, DT_FLOAT32)
    _core(a, b, nb, bshape, c, alpha, beta)
    if direct:
        result = out if out is not None else _as_shape(c, rnd, rshape)
        if out is not None:
            out._storage.version += 1
        return result
    c = _as_shape(c, rnd, rshape)
    if out is None:
        result = new_tensor(dt, rnd, rshape, False)
        copy_into(result, c)
        return result
    copy_into(out, c)
    return out


cdef Tensor _as_shape(Tensor c, int nd, const index_t* shape):
    """A contiguous view of contiguous c with another shape of the same numel."""
    cdef index_t strides[MAX_DIMS]
    contiguous_strides(nd, shape, strides)
    return make_view(c, nd, shape, strides, c._offset)


cdef inline Tensor _tensor_arg(object x, str fname, str argname, int pos):
    if isinstance(x, Tensor):
        return <Tensor>x
    raise TypeError(f"{fname}(): argument '{argname}' (position {pos}) must be Tensor, not "
                    f"{type(x).__name__}")


cdef Tensor _unsq(Tensor t, int where):
    """t with a size-1 dim inserted at where (a view)."""
    cdef index_t shape[MAX_DIMS]
    cdef index_t strides[MAX_DIMS]
    cdef int i, j = 0
    for i in range(t._ndim + 1):
        if i == where:
            shape[i] = 1
            strides[i] = 1
        else:
            shape[i] = t._shape[j]
            strides[i] = t._strides[j]
            j += 1
    return make_view(t, t._ndim + 1, shape, strides, t._offset)


# ---------------------------------------------------------------------------------------
# public functions

def matmul(input, other, *, out=None):
    """Matrix product with PyTorch's rules (``torch.matmul``): 1-D @ 1-D is a dot product,
    2-D @ 1-D a matrix-vector product, a 1-D first operand is a row vector, and batch dims
    broadcast."""
    cdef Tensor a = _tensor_arg(input, "matmul", "input", 1)
    cdef Tensor b = _tensor_arg(other, "matmul", "other", 2)
    cdef Tensor o = None if out is None else _tensor_arg(out, "matmul", "out", 3)
    cdef int da = a._ndim, db = b._ndim
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{da}D and {db}D")
    if da == 1 and db == 1:
        return _dot_impl(a, b, o, False, "dot")
    if da == 2 and db == 2:
        return _mm_impl(a, b, o)
    return _matmul_nd(a, b, o)


cdef Tensor _mm_impl(Tensor a, Tensor b, Tensor o):
    _check_same_mm(a, b)
    if a._shape[1] != b._shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a._shape[0]}x"
                           f"{a._shape[1]} and {b._shape[0]}x{b._shape[1]})")
    _check_not_bool(a, "addmm_impl_cpu_")
    cdef index_t rshape[2]
    rshape[0] = a._shape[0]
    rshape[1] = b._shape[1]
    cdef Tensor c
    cdef int dt = a._dtype
    if o is None and _is_blas(dt):
        # the common case, kept short
        c = new_tensor(dt, 2, rshape, False)
        return _core(a, b, 0, NULL, c, 1, 0)
    return _product(a, b, 0, NULL, 2, rshape, o, None, 1, 0)


cdef Tensor _matmul_nd(Tensor a, Tensor b, Tensor o):
    """matmul where one operand has more than 2 dims or one is 1-D and the other 2-D+."""
    cdef int da = a._ndim, db = b._ndim
    cdef bint a_vec = da == 1, b_vec = db == 1
    cdef Tensor a2 = _unsq(a, 0) if a_vec else a
    cdef Tensor b2 = _unsq(b, 1) if b_vec else b
    cdef int na = a2._ndim - 2, nb_ = b2._ndim - 2, nb, i, ia, ib
    cdef index_t bshape[MAX_DIMS]
    cdef index_t rshape[MAX_DIMS]
    cdef index_t sa, sb, M, K, N, K2, folded
    nb = na if na > nb_ else nb_
    M = a2._shape[na]
    K = a2._shape[na + 1]
    K2 = b2._shape[nb_]
    N = b2._shape[nb_ + 1]
    if a._dtype != b._dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_CXX_NAMES[a._dtype]} != {_CXX_NAMES[b._dtype]}")
    if K != K2:
        if da == 2 and b_vec:
            raise RuntimeError(f"size mismatch, got input ({M}), mat ({M}x{K}), vec ({K2})")
        if a_vec and db == 2:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied (1x{K} and {K2}x{N})")
        if db <= 2 and da >= 3:
            folded = M
            for i in range(na):
                folded *= a2._shape[i]
            if b_vec:
                raise RuntimeError(f"size mismatch, got input ({folded}), mat ({folded}x{K}), "
                                   f"vec ({K2})")
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({folded}x{K} and "
                               f"{K2}x{N})")
    for i in range(nb):
        ia = i - (nb - na)
        ib = i - (nb - nb_)
        sa = a2._shape[ia] if ia >= 0 else 1
        sb = b2._shape[ib] if ib >= 0 else 1
        if sa != sb and sa != 1 and sb != 1:
            raise RuntimeError(f"The size of tensor a ({sa}) must match the size of tensor b "
                               f"({sb}) at non-singleton dimension {i}")
        bshape[i] = sa if sb == 1 else sb
    if K != K2:
        folded = 1
        for i in range(nb):
            folded *= bshape[i]
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{folded}, {K}] but got: [{folded}, {K2}].")
    if a._dtype == DT_BOOL:
        raise NotImplementedError("\"addmv_impl_cpu\" not implemented for 'Bool'" if b_vec and da == 2
                           else "\"addmm_impl_cpu_\" not implemented for 'Bool'" if nb == 0 or db <= 2
                           else "\"bmm\" not implemented for 'Bool'")
    # result shape: batch dims, then M unless a was 1-D, then N unless b was 1-D
    cdef int rnd = 0
    for i in range(nb):
        rshape[rnd] = bshape[i]
        rnd += 1
    if not a_vec:
        rshape[rnd] = M
        rnd += 1
    if not b_vec:
        rshape[rnd] = N
        rnd += 1
    # fold a's batch dims into rows when b has no batch dims and a's rows can be merged
    if nb_ == 0 and na > 0 and not a_vec:
        a2 = _fold_rows(a2)
        if a2 is not None:
            return _product(a2, b2, 0, NULL, rnd, rshape, o, None, 1, 0)
        a2 = _unsq(a, 0) if a_vec else a
    return _product(a2, b2, nb, bshape, rnd, rshape, o, None, 1, 0)


cdef Tensor _fold_rows(Tensor a):
    """(..., M, K) viewed as (prod(...)*M, K) when the strides allow, else None."""
    cdef int i, nd = a._ndim
    cdef index_t rows = 1, stride = 0, expect = -1
    cdef index_t shape[2]
    cdef index_t strides[2]
    for i in range(nd - 2, -1, -1):
        if a._shape[i] == 1:
            continue
        if expect == -1:
            stride = a._strides[i]
        elif a._strides[i] != expect:
            return None
        expect = a._strides[i] * a._shape[i]
        rows *= a._shape[i]
    if expect == -1:
        stride = a._shape[nd - 1] if a._shape[nd - 1] > 1 else 1
    shape[0] = rows
    shape[1] = a._shape[nd - 1]
    strides[0] = stride
    strides[1] = a._strides[nd - 1]
    return make_view(a, 2, shape, strides, a._offset)


def mm(input, mat2, *, out=None):
    """Product of two matrices (``torch.mm``)."""
    cdef Tensor a = _tensor_arg(input, "mm", "input", 1)
    cdef Tensor b = _tensor_arg(mat2, "mm", "mat2", 2)
    if a._ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b._ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return _mm_impl(a, b, None if out is None else _tensor_arg(out, "mm", "out", 3))


cdef int _check_bmm(Tensor a, Tensor b) except -1:
    if a._ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b._ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if b._shape[0] != a._shape[0] or b._shape[1] != a._shape[2]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{a._shape[0]}, {a._shape[2]}] but got: [{b._shape[0]}, "
                           f"{b._shape[1]}].")
    if a._dtype != b._dtype:
        raise RuntimeError(f"expected scalar type {_sname(a._dtype)} but found "
                           f"{_sname(b._dtype)}")
    return 0


def bmm(input, mat2, *, out=None):
    """Batched matrix product of two 3-D tensors (``torch.bmm``)."""
    cdef Tensor a = _tensor_arg(input, "bmm", "input", 1)
    cdef Tensor b = _tensor_arg(mat2, "bmm", "mat2", 2)
    _check_bmm(a, b)
    _check_not_bool(a, "bmm")
    cdef index_t rshape[3]
    rshape[0] = a._shape[0]
    rshape[1] = a._shape[1]
    rshape[2] = b._shape[2]
    return _product(a, b, 1, rshape, 3, rshape,
                    None if out is None else _tensor_arg(out, "bmm", "out", 3), None, 1, 0)


cdef int _check_mv(Tensor m, Tensor v, Tensor init) except -1:
    if m._ndim != 2 or v._ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got "
                           f"{1 if init is None else init._ndim}, {m._ndim}, {v._ndim}")
    if m._shape[1] != v._shape[0]:
        raise RuntimeError(f"size mismatch, got input ({m._shape[0]}), mat "
                           f"({m._shape[0]}x{m._shape[1]}), vec ({v._shape[0]})")
    if m._dtype != v._dtype:
        raise RuntimeError(f"expected scalar type {_sname(m._dtype)} but found "
                           f"{_sname(v._dtype)}")
    _check_not_bool(m, "addmv_impl_cpu")
    return 0


def mv(input, vec, *, out=None):
    """Matrix-vector product (``torch.mv``)."""
    cdef Tensor m = _tensor_arg(input, "mv", "input", 1)
    cdef Tensor v = _tensor_arg(vec, "mv", "vec", 2)
    _check_mv(m, v, None)
    cdef index_t rshape[1]
    rshape[0] = m._shape[0]
    return _product(m, _unsq(v, 1), 0, NULL, 1, rshape,
                    None if out is None else _tensor_arg(out, "mv", "out", 3), None, 1, 0)


cdef enum:
    DOT_BLOCK = 16384      # elements per block of a parallel dot (a fixed size: same bits
                           # for every thread count)

cdef struct DotJob:
    int dt
    char* a
    char* b
    index_t inca, incb, n, nblocks
    double* partial


cdef void _dot_blocks(void* ctx, index_t begin, index_t end) noexcept nogil:
    cdef DotJob* j = <DotJob*>ctx
    cdef index_t k, start, count
    for k in range(begin, end):
        start = k * DOT_BLOCK
        count = j.n - start
        if count > DOT_BLOCK:
            count = DOT_BLOCK
        if j.dt == DT_FLOAT32:
            j.partial[k] = _sdot(<int>count, <const float*>j.a + start * j.inca, <int>j.inca,
                                 <const float*>j.b + start * j.incb, <int>j.incb)
        else:
            j.partial[k] = _ddot(<int>count, <const double*>j.a + start * j.inca, <int>j.inca,
                                 <const double*>j.b + start * j.incb, <int>j.incb)


cdef Tensor _dot_impl(Tensor a, Tensor b, Tensor o, bint conj, str name):
    if a._ndim != 1 or b._ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a._ndim}D and {b._ndim}D tensors")
    if a._dtype != b._dtype:
        raise RuntimeError(f"{name} : expected both vectors to have same dtype, but found "
                           f"{_sname(a._dtype)} and {_sname(b._dtype)}")
    if a._shape[0] != b._shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a._shape[0]}] and src "
                           f"[{b._shape[0]}] to have the same number of elements, but got "
                           f"{a._shape[0]} and {b._shape[0]} elements respectively")
    _check_not_bool(a, name)
    if conj and category(a._dtype) == 3:
        a = _conj_copy(a)
    cdef index_t one = 1
    cdef index_t n = a._shape[0]
    cdef Tensor r
    cdef DotJob job
    cdef double total
    cdef index_t k
    # float32/float64 with positive strides: BLAS ?dot (a 1xK @ Kx1 GEMM costs 4x more: 42 µs
    # for 100k floats), over fixed blocks on the thread pool, the blocks' sums added in order
    # in double: the same bits for any thread count, and with 2 threads each core reads the
    # half of the vectors that the neighbouring parallel ops keep in its cache
    if (o is None and (a._dtype == DT_FLOAT32 or a._dtype == DT_FLOAT64) and 0 < n < 2**31
            and 0 < a._strides[0] < 2**31 and 0 < b._strides[0] < 2**31):
        _load_blas()
        r = new_tensor(a._dtype, 0, &one, False)
        job.dt = a._dtype
        job.a = a.ptr()
        job.b = b.ptr()
        job.inca = a._strides[0]
        job.incb = b._strides[0]
        job.n = n
        job.nblocks = (n + DOT_BLOCK - 1) // DOT_BLOCK
        job.partial = <double*>malloc(job.nblocks * sizeof(double))
        if job.partial == NULL:
            raise MemoryError()
        with nogil:
            parallel_for(job.nblocks, 2, _dot_blocks, &job)
            total = 0.0
            for k in range(job.nblocks):
                total += job.partial[k]
        free(job.partial)
        if a._dtype == DT_FLOAT32:
            (<float*>r.ptr())[0] = <float>total
        else:
            (<double*>r.ptr())[0] = total
        return r
    # (1, K) @ (K, 1): one GEMM
    return _product(_unsq(a, 0), _unsq(b, 1), 0, NULL, 0, &one, o, None, 1, 0)


cdef Tensor _conj_copy(Tensor a):
    cdef Tensor r = contiguous_tensor_clone(a)
    cdef index_t i
    cdef char* p = r.ptr()
    if r._dtype == DT_COMPLEX64:
        for i in range(r._numel):
            (<float*>p)[2 * i + 1] = -(<float*>p)[2 * i + 1]
    else:
        for i in range(r._numel):
            (<double*>p)[2 * i + 1] = -(<double*>p)[2 * i + 1]
    return r


def dot(input, tensor, *, out=None):
    """Dot product of two 1-D tensors (``torch.dot``); no conjugation."""
    return _dot_impl(_tensor_arg(input, "dot", "input", 1), _tensor_arg(tensor, "dot", "tensor", 2),
                     None if out is None else _tensor_arg(out, "dot", "out", 3), False, "dot")


def vdot(input, other, *, out=None):
    """Dot product conjugating the first vector (``torch.vdot``)."""
    return _dot_impl(_tensor_arg(input, "vdot", "input", 1), _tensor_arg(other, "vdot", "other", 2),
                     None if out is None else _tensor_arg(out, "vdot", "out", 3), True, "vdot")


def outer(input, vec2, *, out=None):
    """Outer product of two vectors (``torch.outer``; ``ger`` is an alias). The dtypes
    promote like ``*``."""
    cdef Tensor a = _tensor_arg(input, "outer", "input", 1)
    cdef Tensor b = _tensor_arg(vec2, "outer", "vec2", 2)
    cdef Tensor o = None if out is None else _tensor_arg(out, "outer", "out", 3)
    if a._ndim != 1 or b._ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {a._ndim}-D"
                           if a._ndim != 1 else
                           f"outer: Expected 1-D argument vec2, but got {b._ndim}-D")
    cdef int dt = promote_types_code(a._dtype, b._dtype)
    cdef int kdt = DT_UINT8 if dt == DT_BOOL else dt
    if a._dtype != kdt:
        a = _to_dtype(a, kdt)
    if b._dtype != kdt:
        b = _to_dtype(b, kdt)
    cdef index_t rshape[2]
    rshape[0] = a._shape[0]
    rshape[1] = b._shape[0]
    cdef Tensor r = _product(_unsq(a, 1), _unsq(b, 0), 0, NULL, 2, rshape,
                             o if (o is not None and o._dtype == dt and kdt == dt) else None, None, 1, 0)
    if o is not None and r is o:
        return o
    if kdt != dt and o is None:
        o = new_tensor(dt, 2, rshape, False)
    if o is not None:
        o = resize_out(o, 2, rshape)
        copy_into(o, r)
        return o
    return r


def ger(input, vec2, *, out=None):
    """Alias of ``outer``."""
    return outer(input, vec2, out=out)


cdef Tensor _expand_init(Tensor init, int nd, const index_t* shape, str fname):
    """init broadcast (a view with stride 0) to shape; RuntimeError when it does not fit."""
    cdef index_t st[MAX_DIMS]
    cdef int i, j
    if init._ndim > nd:
        raise RuntimeError(f"The expanded size of the tensor must match the existing size for "
                           f"{fname}: input {_fmt(init)}")
    for i in range(nd):
        j = i - (nd - init._ndim)
        if j < 0:
            st[i] = 0
        elif init._shape[j] == shape[i]:
            st[i] = init._strides[j]
        elif init._shape[j] == 1:
            st[i] = 0
        else:
            raise RuntimeError(f"The expanded size of the tensor ({shape[i]}) must match the "
                               f"existing size ({init._shape[j]}) at non-singleton dimension {i}."
                               f"  Target sizes: {[shape[k] for k in range(nd)]}.  Tensor sizes: "
                               f"{list(init.shape)}")
    return make_view(init, nd, shape, st, init._offset)


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat1 @ mat2)`` (``torch.addmm``); input broadcasts to the
    result; with beta=0 input is ignored (NaN in it does not propagate)."""
    cdef Tensor c = _tensor_arg(input, "addmm", "input", 1)
    cdef Tensor a = _tensor_arg(mat1, "addmm", "mat1", 2)
    cdef Tensor b = _tensor_arg(mat2, "addmm", "mat2", 3)
    return _addmm(c, a, b, beta, alpha, None if out is None else _tensor_arg(out, "addmm", "out", 4),
                  False)


cdef Tensor _addmm(Tensor c, Tensor a, Tensor b, beta, alpha, Tensor o, bint inplace):
    if c._dtype != b._dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {_sname(c._dtype)} "
                           f"and {_sname(b._dtype)}")
    if a._dtype != b._dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_sname(a._dtype)} "
                           f"and {_sname(b._dtype)}")
    if a._ndim != 2:
        raise RuntimeError(f"mat1 must be a matrix, got {a._ndim}-D tensor")
    if b._ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {b._ndim}-D tensor")
    if a._shape[1] != b._shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a._shape[0]}x"
                           f"{a._shape[1]} and {b._shape[0]}x{b._shape[1]})")
    _check_not_bool(a, "addmm_impl_cpu_")
    cdef double complex be = _scalar_arg(beta, a._dtype, "beta")
    cdef double complex al = _scalar_arg(alpha, a._dtype, "alpha")
    cdef index_t rshape[2]
    rshape[0] = a._shape[0]
    rshape[1] = b._shape[1]
    if inplace:
        if c._ndim != 2 or c._shape[0] != rshape[0] or c._shape[1] != rshape[1]:
            raise RuntimeError(f"The input tensor must be a matrix with size {rshape[0]}x"
                               f"{rshape[1]}, but got a {c._ndim}-D tensor with size "
                               + "x".join(str(s) for s in c.shape))
        return _product(a, b, 0, NULL, 2, rshape, c, c, al, be)
    cdef Tensor init = _expand_init(c, 2, rshape, "addmm")
    return _product(a, b, 0, NULL, 2, rshape, o, init, al, be)


def addmm_(self, mat1, mat2, *, beta=1, alpha=1):
    """In-place ``addmm``: self = beta * self + alpha * (mat1 @ mat2)."""
    cdef Tensor c = _tensor_arg(self, "addmm_", "self", 1)
    _addmm(c, _tensor_arg(mat1, "addmm_", "mat1", 2), _tensor_arg(mat2, "addmm_", "mat2", 3),
           beta, alpha, None, True)
    return c


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat @ vec)`` (``torch.addmv``)."""
    cdef Tensor c = _tensor_arg(input, "addmv", "input", 1)
    cdef Tensor m = _tensor_arg(mat, "addmv", "mat", 2)
    cdef Tensor v = _tensor_arg(vec, "addmv", "vec", 3)
    if m._ndim != 2 or v._ndim != 1 or c._ndim > 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {c._ndim}, {m._ndim}, "
                           f"{v._ndim}")
    _check_mv(m, v, c)
    if c._dtype != m._dtype:
        raise RuntimeError(f"expected scalar type {_sname(m._dtype)} but found "
                           f"{_sname(c._dtype)}")
    cdef double complex be = _scalar_arg(beta, m._dtype, "beta")
    cdef double complex al = _scalar_arg(alpha, m._dtype, "alpha")
    cdef index_t rshape[2]
    rshape[0] = m._shape[0]
    rshape[1] = 1
    if c._ndim == 1 and c._shape[0] != rshape[0] and c._shape[0] != 1:
        raise RuntimeError(f"size mismatch, got input ({c._shape[0]}), mat "
                           f"({m._shape[0]}x{m._shape[1]}), vec ({v._shape[0]})")
    cdef Tensor init = _expand_init(_unsq(c, 1) if c._ndim == 1 else c, 2, rshape, "addmv")
    return _product(m, _unsq(v, 1), 0, NULL, 1, rshape,
                    None if out is None else _tensor_arg(out, "addmv", "out", 4), init, al, be)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * bmm(batch1, batch2)`` (``torch.baddbmm``)."""
    cdef Tensor c = _tensor_arg(input, "baddbmm", "input", 1)
    cdef Tensor a = _tensor_arg(batch1, "baddbmm", "batch1", 2)
    cdef Tensor b = _tensor_arg(batch2, "baddbmm", "batch2", 3)
    return _baddbmm(c, a, b, beta, alpha,
                    None if out is None else _tensor_arg(out, "baddbmm", "out", 4), False)


cdef Tensor _baddbmm(Tensor c, Tensor a, Tensor b, beta, alpha, Tensor o, bint inplace):
    if a._ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b._ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    cdef index_t rshape[3]
    rshape[0] = a._shape[0]
    rshape[1] = a._shape[1]
    rshape[2] = b._shape[2]
    cdef Tensor init = _expand_init(c, 3, rshape, "baddbmm") if not inplace else c
    if c._dtype != a._dtype or b._dtype != a._dtype:
        raise RuntimeError(f"Input dtypes must be the same, got: input {_CXX_NAMES[c._dtype]}, "
                           f"batch1: {_CXX_NAMES[a._dtype]}, batch2: {_CXX_NAMES[b._dtype]}")
    _check_bmm(a, b)
    _check_not_bool(a, "baddbmm_with_gemm")
    if inplace and (c._ndim != 3 or c._shape[0] != rshape[0] or c._shape[1] != rshape[1]
                    or c._shape[2] != rshape[2]):
        raise RuntimeError(f"Expected an input tensor shape with shape "
                           f"{[rshape[0], rshape[1], rshape[2]]} but got shape: {list(c.shape)}")
    cdef double complex be = _scalar_arg(beta, a._dtype, "beta")
    cdef double complex al = _scalar_arg(alpha, a._dtype, "alpha")
    if inplace:
        return _product(a, b, 1, rshape, 3, rshape, c, c, al, be)
    return _product(a, b, 1, rshape, 3, rshape, o, init, al, be)


def baddbmm_(self, batch1, batch2, *, beta=1, alpha=1):
    """In-place ``baddbmm``."""
    cdef Tensor c = _tensor_arg(self, "baddbmm_", "self", 1)
    _baddbmm(c, _tensor_arg(batch1, "baddbmm_", "batch1", 2),
             _tensor_arg(batch2, "baddbmm_", "batch2", 3), beta, alpha, None, True)
    return c


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * sum_i batch1[i] @ batch2[i]`` (``torch.addbmm``)."""
    cdef Tensor c = _tensor_arg(input, "addbmm", "input", 1)
    cdef Tensor a = _tensor_arg(batch1, "addbmm", "batch1", 2)
    cdef Tensor b = _tensor_arg(batch2, "addbmm", "batch2", 3)
    if a._ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b._ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if a._shape[0] != b._shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got "
                           f"{a._shape[0]} and {b._shape[0]}")
    if a._shape[2] != b._shape[1]:
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({a._shape[1]}x{a._shape[2]} "
                           f"and {b._shape[1]}x{b._shape[2]})")
    if c._dtype != a._dtype or b._dtype != a._dtype:
        raise RuntimeError(f"expected scalar type {_sname(a._dtype)} but found "
                           f"{_sname(b._dtype if b._dtype != a._dtype else c._dtype)}")
    _check_not_bool(a, "addbmm_impl_cpu_")
    cdef double complex be = _scalar_arg(beta, a._dtype, "beta")
    cdef double complex al = _scalar_arg(alpha, a._dtype, "alpha")
    cdef index_t rshape[2]
    rshape[0] = a._shape[1]
    rshape[1] = b._shape[2]
    cdef Tensor init = _expand_init(c, 2, rshape, "addbmm")
    # sum_i A_i B_i = [A_0 A_1 ...] @ [B_0; B_1; ...]: one GEMM with K = batches * k
    cdef Tensor acat = a.permute(1, 0, 2).reshape(a._shape[1], a._shape[0] * a._shape[2])
    cdef Tensor bcat = b.reshape(b._shape[0] * b._shape[1], b._shape[2])
    return _product(acat, bcat, 0, NULL, 2, rshape,
                    None if out is None else _tensor_arg(out, "addbmm", "out", 4), init, al, be)


def addbmm_(self, batch1, batch2, *, beta=1, alpha=1):
    """In-place ``addbmm``."""
    cdef Tensor c = _tensor_arg(self, "addbmm_", "self", 1)
    r = addbmm(c, batch1, batch2, beta=beta, alpha=alpha)
    if tuple(r.shape) != tuple(c.shape):
        raise RuntimeError(f"The input tensor must have shape {list(r.shape)}, got "
                           f"{list(c.shape)}")
    copy_into(c, <Tensor>r)
    return c


def inner(input, other, *, out=None):
    """Inner product over the last dims (``torch.inner``); a 0-d operand multiplies."""
    cdef Tensor a = _tensor_arg(input, "inner", "input", 1)
    cdef Tensor b = _tensor_arg(other, "inner", "other", 2)
    cdef Tensor o = None if out is None else _tensor_arg(out, "inner", "out", 3)
    if a._ndim == 0 or b._ndim == 0:
        r = _mul_scalar(a, b)
        if o is not None:
            o = resize_out(o, r.ndim, (<Tensor>r)._shape)
            copy_into(o, <Tensor>r)
            return o
        return r
    if a._shape[a._ndim - 1] != b._shape[b._ndim - 1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got "
                           f"shapes {list(a.shape)} and {list(b.shape)}")
    r = tensordot(a, b, dims=([a._ndim - 1], [b._ndim - 1]))
    if o is not None:
        o = resize_out(o, (<Tensor>r)._ndim, (<Tensor>r)._shape)
        copy_into(o, <Tensor>r)
        return o
    return r


cdef Tensor _mul_scalar(Tensor a, Tensor b):
    """a * b where one is 0-d, with * 's type promotion (through outer's kernel)."""
    cdef Tensor big = b if a._ndim == 0 else a
    cdef Tensor r = outer(a.reshape(-1), b.reshape(-1))
    return r.reshape(big.shape)


def tensordot(a, b, dims=2, out=None):
    """Contract dims of a with dims of b (``torch.tensordot``): dims is an int (the last
    dims of a with the first of b) or a pair of lists."""
    cdef Tensor x = _tensor_arg(a, "tensordot", "a", 1)
    cdef Tensor y = _tensor_arg(b, "tensordot", "b", 2)
    cdef list da, db
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > x._ndim or dims > y._ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da = list(range(x._ndim - dims, x._ndim))
        db = list(range(dims))
    else:
        if len(dims) != 2:
            raise RuntimeError("tensordot expects dims to be a pair of lists of dims")
        d0, d1 = dims
        da = [d0] if isinstance(d0, int) else list(d0)
        db = [d1] if isinstance(d1, int) else list(d1)
        if len(da) != len(db):
            raise RuntimeError(f"both dimension lists should have same length")
    da = [wrap_dim(d, x._ndim) for d in da]
    db = [wrap_dim(d, y._ndim) for d in db]
    if x._dtype != y._dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_CXX_NAMES[x._dtype]} != {_CXX_NAMES[y._dtype]}")
    cdef index_t K = 1
    for i in range(len(da)):
        if x._shape[da[i]] != y._shape[db[i]]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{x._shape[da[i]]} in dim {da[i]} and second has size "
                               f"{y._shape[db[i]]} in dim {db[i]}")
        K *= x._shape[da[i]]
    fa = [d for d in range(x._ndim) if d not in da]
    fb = [d for d in range(y._ndim) if d not in db]
    out_shape = [x._shape[d] for d in fa] + [y._shape[d] for d in fb]
    cdef index_t P = 1, Q = 1
    for d in fa:
        P *= x._shape[d]
    for d in fb:
        Q *= y._shape[d]
    cdef Tensor xm = x.permute(*(fa + da)).reshape(P, K)
    cdef Tensor ym = y.permute(*(db + fb)).reshape(K, Q)
    r = mm(xm, ym).reshape(out_shape)
    if out is not None:
        o = _tensor_arg(out, "tensordot", "out", 4)
        o = resize_out(o, (<Tensor>r)._ndim, (<Tensor>r)._shape)
        copy_into(o, <Tensor>r)
        return o
    return r


def kron(input, other, *, out=None):
    """Kronecker product (``torch.kron``)."""
    cdef Tensor a = _tensor_arg(input, "kron", "input", 1)
    cdef Tensor b = _tensor_arg(other, "kron", "other", 2)
    cdef int nd = a._ndim if a._ndim > b._ndim else b._ndim
    sa = [1] * (nd - a._ndim) + list(a.shape)
    sb = [1] * (nd - b._ndim) + list(b.shape)
    # outer product of the flattened operands, then interleave the dims
    r = outer(a.reshape(-1), b.reshape(-1)).reshape(sa + sb)
    perm = []
    for i in range(nd):
        perm += [i, nd + i]
    r = r.permute(*perm).reshape([sa[i] * sb[i] for i in range(nd)])
    if out is not None:
        o = _tensor_arg(out, "kron", "out", 3)
        o = resize_out(o, (<Tensor>r)._ndim, (<Tensor>r)._shape)
        copy_into(o, <Tensor>r)
        return o
    return r


_einsum_impl = None


def einsum(equation, *operands):
    """Einstein summation (``torch.einsum``): permutes, diagonals and sums, with the
    contractions done as batched matrix products (broadcast dims are never materialised)."""
    global _einsum_impl
    if _einsum_impl is None:
        from rt_tensor._einsum import einsum as impl
        _einsum_impl = impl
    return _einsum_impl(equation, *operands)


def _bmm_broadcast(Tensor a, Tensor b):
    """matmul of (..., M, K) and (..., K, N) with broadcast batch dims, no 1-D rules
    (used by einsum)."""
    return _matmul_nd(a, b, None) if (a._ndim > 2 or b._ndim > 2) else _mm_impl(a, b, None)


TENSOR_METHODS = {
    "matmul": matmul, "mm": mm, "bmm": bmm, "mv": mv, "dot": dot, "vdot": vdot,
    "inner": inner, "outer": outer, "ger": ger, "addmm": addmm, "addmm_": addmm_,
    "addmv": addmv, "baddbmm": baddbmm, "baddbmm_": baddbmm_, "addbmm": addbmm,
    "addbmm_": addbmm_, "kron": kron,
}


# ---- cimportable entry points (_linalg.pxd) ----
cdef Tensor matmul_tensors(Tensor a, Tensor b):
    return matmul(a, b)


cdef Tensor mm_tensors(Tensor a, Tensor b):
    if a._ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b._ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return _mm_impl(a, b, None)


cdef Tensor addmm_inplace(Tensor c, Tensor a, Tensor b, double complex beta, double complex alpha):
    return _addmm(c, a, b, beta if beta.imag != 0 else (beta.real if category(a._dtype) > 1 else int(beta.real)),
                  alpha if alpha.imag != 0 else (alpha.real if category(a._dtype) > 1 else int(alpha.real)),
                  None, True)
