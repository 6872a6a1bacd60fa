# cython: language_level=3
"""Pooling and upsampling kernels for rt_nn (private: not in rt_tensor.__all__).

Every kernel works on contiguous float32/float64 tensors whose last two dims are a plane
(H, W) and whose leading dims (batch, channels, ...) are flattened into a count of planes;
1-d ops are the 2-d ones on (..., 1, L). Work is split over planes with ``parallel_for``.
The index and window formulas are PyTorch's CPU ones (aten/src/ATen/native/cpu/
MaxPoolKernel.cpp, AvgPoolKernel.cpp, AdaptiveAvgPoolKernel.cpp, AdaptiveMaxPoolKernel.cpp,
UpSampleKernel.cpp), so the numbers are PyTorch's: max-pool indices are flat offsets within
each (n, c) plane, the first maximum wins and NaN propagates.

The ``def`` entry points check what could crash (dtype, contiguity, dims, sizes, index
ranges); rt_nn.functional checks the arguments and gives PyTorch's messages.
"""
include "build_stamp.pxi"

from libc.math cimport floorf, fma, INFINITY
from libc.stdlib cimport malloc, free
from rt_tensor._types cimport *
from rt_tensor._tensor cimport Tensor, new_tensor
from rt_tensor._parallel cimport parallel_for, task_fn

__all__ = []
TENSOR_METHODS = {}

ctypedef fused real_t:
    float
    double

cdef enum:
    WORK_GRAIN = 32768        # element-visits per task, about


cdef inline index_t _grain(index_t per_plane) noexcept nogil:
    if per_plane < 1:
        per_plane = 1
    cdef index_t g = WORK_GRAIN // per_plane
    return g if g > 0 else 1


cdef inline real_t _fma(real_t a, real_t b, real_t c) noexcept nogil:
    # a * b + c rounded once: PyTorch's CPU kernels are compiled with FMA contraction, and
    # the interpolation sums follow its evaluation order to give its numbers. float: the
    # product of two floats is exact in double, so one double add and the final rounding
    # give the fused result (bar double-rounding ties, ~2**-29 of cases) without a libm call
    if real_t is float:
        return <float>(<double>a * <double>b + <double>c)
    else:
        return fma(a, b, c)


cdef inline index_t _min(index_t a, index_t b) noexcept nogil:
    return a if a < b else b


cdef inline index_t _max(index_t a, index_t b) noexcept nogil:
    return a if a > b else b


# ---------------------------------------------------------------------------------------
# argument checks shared by the entry points

cdef Tensor _float_input(object obj, str name, int min_dims):
    if not isinstance(obj, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(obj).__name__}")
    cdef Tensor t = <Tensor>obj
    if t._dtype != DT_FLOAT32 and t._dtype != DT_FLOAT64:
        raise TypeError(f"{name}: expected a float32 or float64 tensor, got {t.dtype}")
    if not t.is_contig():
        raise ValueError(f"{name}: expected a contiguous tensor")
    if t._ndim < min_dims:
        raise ValueError(f"{name}: expected at least {min_dims} dims, got {t._ndim}")
    return t


cdef Tensor _index_input(object obj, Tensor like, str name):
    if not isinstance(obj, Tensor):
        raise TypeError(f"{name}: expected a Tensor of indices, got {type(obj).__name__}")
    cdef Tensor t = <Tensor>obj
    cdef int i
    if t._dtype != DT_INT64:
        raise TypeError(f"{name}: expected int64 indices, got {t.dtype}")
    if not t.is_contig():
        raise ValueError(f"{name}: expected contiguous indices")
    if t._ndim != like._ndim:
        raise ValueError(f"{name}: indices and values differ in shape")
    for i in range(t._ndim):
        if t._shape[i] != like._shape[i]:
            raise ValueError(f"{name}: indices and values differ in shape")
    return t


cdef Tensor _result(Tensor like, index_t h, index_t w, int dtype, bint zero):
    """A contiguous tensor shaped like ``like`` with its last two dims replaced by (h, w)."""
    cdef index_t shape[MAX_DIMS]
    cdef int i, nd = like._ndim
    if h < 0 or w < 0:
        raise ValueError(f"negative output size ({h}, {w})")
    for i in range(nd - 2):
        shape[i] = like._shape[i]
    shape[nd - 2] = h
    shape[nd - 1] = w
    return new_tensor(dtype, nd, shape, zero)


cdef inline index_t _planes(Tensor t) noexcept nogil:
    cdef index_t n = 1
    cdef int i
    for i in range(t._ndim - 2):
        n *= t._shape[i]
    return n


cdef int _positive(str name, long v) except -1:
    if v <= 0:
        raise ValueError(f"{name} must be positive, got {v}")
    return 0


# ---------------------------------------------------------------------------------------
# max pooling (with indices) and the scatter/gather by indices behind its gradients

cdef struct MaxPoolCtx:
    char* x
    char* y
    int64_t* idx
    index_t H, W, oH, oW
    index_t kH, kW, sH, sW, pH, pW, dH, dW


cdef extern from *:
    """
    /* 2x2 stride-2 max pooling (no padding or dilation, every window inside the plane): the
     * windows of an output row are the column pairs of two input rows. Per vector of
     * outputs: load both rows, split each into its even and odd columns, then
     *   h0 = row0 even (+) row0 odd,  h1 = row1 even (+) row1 odd,  y = h0 (+) h1
     * where x (+) v = (v > x || v is NaN) ? v : x, the scalar kernel's update. (+) keeps the
     * first of equal values and the last NaN, i.e. it takes the larger of a strict order on
     * (value, position), so this grouping gives the scalar walk's result bit for bit (the
     * sign of a zero and which NaN included). The tail of a row is the last full vector
     * again, overlapping (outputs are written, never accumulated); rows narrower than a
     * vector take the next narrower unit, then the scalar loop. AVX2 is chosen at run time
     * (the build's baseline is x86-64-v2: SSE4.1 is always there on x86-64). */
    #include <stdint.h>
    #include <string.h>
    #include <math.h>
    #if (defined(__x86_64__) || defined(_M_X64)) && defined(__GNUC__) && defined(__SSE4_1__)
    #define RT_MP2_X86 1
    #include <immintrin.h>
    #else
    #define RT_MP2_X86 0
    #endif

    #define RT_MP2_UPD(v, k) do { int t_ = ((v) > m) | ((v) != (v)); \
        m = t_ ? (v) : m; mk = t_ ? (k) : mk; } while (0)
    /* outputs [lo, oW) of one row, scalar; idx may be NULL */
    #define RT_MP2_SCALAR(T, NAME) \
    static inline void NAME(const T* r0, const T* r1, T* yr, int64_t* ir, int64_t lo, \
                            int64_t oW, int64_t k0, int64_t W) { \
        for (int64_t ow = lo; ow < oW; ow++) { \
            int64_t k = k0 + 2 * ow, mk = k; \
            T m = -INFINITY; \
            RT_MP2_UPD(r0[2 * ow], k); \
            RT_MP2_UPD(r0[2 * ow + 1], k + 1); \
            RT_MP2_UPD(r1[2 * ow], k + W); \
            RT_MP2_UPD(r1[2 * ow + 1], k + W + 1); \
            yr[ow] = m; \
            if (ir) ir[ow] = mk; \
        } \
    }
    RT_MP2_SCALAR(float, rt_mp2_scalar_f)
    RT_MP2_SCALAR(double, rt_mp2_scalar_d)

    #if RT_MP2_X86
    /* ---- SSE4.1: 4 floats / 2 doubles a vector */
    #define RT_MP2_COMB_PS(x, v) _mm_blendv_ps(_mm_max_ps(v, x), v, _mm_cmpunord_ps(v, v))
    #define RT_MP2_COMB_PD(x, v) _mm_blendv_pd(_mm_max_pd(v, x), v, _mm_cmpunord_pd(v, v))
    #define RT_MP2_SEL_PS(x, v) _mm_or_ps(_mm_cmpgt_ps(v, x), _mm_cmpunord_ps(v, v))
    #define RT_MP2_SEL_PD(x, v) _mm_or_pd(_mm_cmpgt_pd(v, x), _mm_cmpunord_pd(v, v))

    static inline void rt_mp2_sse_vals_f(const float* r0, const float* r1, float* yr,
                                         int64_t ow) {
        __m128 a0 = _mm_loadu_ps(r0 + 2 * ow), b0 = _mm_loadu_ps(r0 + 2 * ow + 4);
        __m128 a1 = _mm_loadu_ps(r1 + 2 * ow), b1 = _mm_loadu_ps(r1 + 2 * ow + 4);
        __m128 h0 = RT_MP2_COMB_PS(_mm_shuffle_ps(a0, b0, 0x88), _mm_shuffle_ps(a0, b0, 0xDD));
        __m128 h1 = RT_MP2_COMB_PS(_mm_shuffle_ps(a1, b1, 0x88), _mm_shuffle_ps(a1, b1, 0xDD));
        _mm_storeu_ps(yr + ow, RT_MP2_COMB_PS(h0, h1));
    }
    static inline void rt_mp2_sse_vals_d(const double* r0, const double* r1, double* yr,
                                         int64_t ow) {
        __m128d a0 = _mm_loadu_pd(r0 + 2 * ow), b0 = _mm_loadu_pd(r0 + 2 * ow + 2);
        __m128d a1 = _mm_loadu_pd(r1 + 2 * ow), b1 = _mm_loadu_pd(r1 + 2 * ow + 2);
        __m128d h0 = RT_MP2_COMB_PD(_mm_shuffle_pd(a0, b0, 0), _mm_shuffle_pd(a0, b0, 3));
        __m128d h1 = RT_MP2_COMB_PD(_mm_shuffle_pd(a1, b1, 0), _mm_shuffle_pd(a1, b1, 3));
        _mm_storeu_pd(yr + ow, RT_MP2_COMB_PD(h0, h1));
    }
    /* the index of each output: k0 + 2 * ow + (row ? W : 0) + (col ? 1 : 0); the selection
     * masks are all-ones or zero, so (row & W) - col */
    static inline void rt_mp2_sse_idx_f(const float* r0, const float* r1, float* yr,
                                        int64_t* ir, int64_t ow, int64_t k0, int64_t W) {
        __m128 a0 = _mm_loadu_ps(r0 + 2 * ow), b0 = _mm_loadu_ps(r0 + 2 * ow + 4);
        __m128 a1 = _mm_loadu_ps(r1 + 2 * ow), b1 = _mm_loadu_ps(r1 + 2 * ow + 4);
        __m128 e0 = _mm_shuffle_ps(a0, b0, 0x88), o0 = _mm_shuffle_ps(a0, b0, 0xDD);
        __m128 e1 = _mm_shuffle_ps(a1, b1, 0x88), o1 = _mm_shuffle_ps(a1, b1, 0xDD);
        __m128 c0 = RT_MP2_SEL_PS(e0, o0), c1 = RT_MP2_SEL_PS(e1, o1);
        __m128 h0 = _mm_blendv_ps(e0, o0, c0), h1 = _mm_blendv_ps(e1, o1, c1);
        __m128 rs = RT_MP2_SEL_PS(h0, h1);
        _mm_storeu_ps(yr + ow, _mm_blendv_ps(h0, h1, rs));
        __m128i col = _mm_castps_si128(_mm_blendv_ps(c0, c1, rs)), row = _mm_castps_si128(rs);
        __m128i wv = _mm_set1_epi64x(W);
        __m128i base = _mm_add_epi64(_mm_set1_epi64x(k0 + 2 * ow), _mm_set_epi64x(2, 0));
        __m128i i0 = _mm_sub_epi64(_mm_and_si128(_mm_cvtepi32_epi64(row), wv),
                                   _mm_cvtepi32_epi64(col));
        __m128i i1 = _mm_sub_epi64(_mm_and_si128(_mm_cvtepi32_epi64(_mm_srli_si128(row, 8)), wv),
                                   _mm_cvtepi32_epi64(_mm_srli_si128(col, 8)));
        _mm_storeu_si128((__m128i*)(ir + ow), _mm_add_epi64(base, i0));
        _mm_storeu_si128((__m128i*)(ir + ow + 2),
                         _mm_add_epi64(_mm_add_epi64(base, _mm_set1_epi64x(4)), i1));
    }
    static inline void rt_mp2_sse_idx_d(const double* r0, const double* r1, double* yr,
                                        int64_t* ir, int64_t ow, int64_t k0, int64_t W) {
        __m128d a0 = _mm_loadu_pd(r0 + 2 * ow), b0 = _mm_loadu_pd(r0 + 2 * ow + 2);
        __m128d a1 = _mm_loadu_pd(r1 + 2 * ow), b1 = _mm_loadu_pd(r1 + 2 * ow + 2);
        __m128d e0 = _mm_shuffle_pd(a0, b0, 0), o0 = _mm_shuffle_pd(a0, b0, 3);
        __m128d e1 = _mm_shuffle_pd(a1, b1, 0), o1 = _mm_shuffle_pd(a1, b1, 3);
        __m128d c0 = RT_MP2_SEL_PD(e0, o0), c1 = RT_MP2_SEL_PD(e1, o1);
        __m128d h0 = _mm_blendv_pd(e0, o0, c0), h1 = _mm_blendv_pd(e1, o1, c1);
        __m128d rs = RT_MP2_SEL_PD(h0, h1);
        _mm_storeu_pd(yr + ow, _mm_blendv_pd(h0, h1, rs));
        __m128i col = _mm_castpd_si128(_mm_blendv_pd(c0, c1, rs)), row = _mm_castpd_si128(rs);
        __m128i base = _mm_add_epi64(_mm_set1_epi64x(k0 + 2 * ow), _mm_set_epi64x(2, 0));
        _mm_storeu_si128((__m128i*)(ir + ow), _mm_add_epi64(base, _mm_sub_epi64(
            _mm_and_si128(row, _mm_set1_epi64x(W)), col)));
    }

    /* ---- AVX2: 8 floats / 4 doubles a vector. The in-lane shuffles leave the outputs in
     * 64-bit chunks 0 2 1 3; one permute (0xD8) puts them back in order. */
    #define RT_MP2_COMB8(x, v) _mm256_blendv_ps(_mm256_max_ps(v, x), v, _mm256_cmp_ps(v, v, _CMP_UNORD_Q))
    #define RT_MP2_COMB4(x, v) _mm256_blendv_pd(_mm256_max_pd(v, x), v, _mm256_cmp_pd(v, v, _CMP_UNORD_Q))
    #define RT_MP2_SEL8(x, v) _mm256_or_ps(_mm256_cmp_ps(v, x, _CMP_GT_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q))
    #define RT_MP2_SEL4(x, v) _mm256_or_pd(_mm256_cmp_pd(v, x, _CMP_GT_OQ), _mm256_cmp_pd(v, v, _CMP_UNORD_Q))
    #define RT_MP2_FIX8(v) _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), 0xD8))

    __attribute__((target("avx2"))) static inline void
    rt_mp2_avx2_vals_f(const float* r0, const float* r1, float* yr, int64_t ow) {
        __m256 a0 = _mm256_loadu_ps(r0 + 2 * ow), b0 = _mm256_loadu_ps(r0 + 2 * ow + 8);
        __m256 a1 = _mm256_loadu_ps(r1 + 2 * ow), b1 = _mm256_loadu_ps(r1 + 2 * ow + 8);
        __m256 h0 = RT_MP2_COMB8(_mm256_shuffle_ps(a0, b0, 0x88), _mm256_shuffle_ps(a0, b0, 0xDD));
        __m256 h1 = RT_MP2_COMB8(_mm256_shuffle_ps(a1, b1, 0x88), _mm256_shuffle_ps(a1, b1, 0xDD));
        _mm256_storeu_ps(yr + ow, RT_MP2_FIX8(RT_MP2_COMB8(h0, h1)));
    }
    __attribute__((target("avx2"))) static inline void
    rt_mp2_avx2_vals_d(const double* r0, const double* r1, double* yr, int64_t ow) {
        __m256d a0 = _mm256_loadu_pd(r0 + 2 * ow), b0 = _mm256_loadu_pd(r0 + 2 * ow + 4);
        __m256d a1 = _mm256_loadu_pd(r1 + 2 * ow), b1 = _mm256_loadu_pd(r1 + 2 * ow + 4);
        __m256d h0 = RT_MP2_COMB4(_mm256_shuffle_pd(a0, b0, 0), _mm256_shuffle_pd(a0, b0, 15));
        __m256d h1 = RT_MP2_COMB4(_mm256_shuffle_pd(a1, b1, 0), _mm256_shuffle_pd(a1, b1, 15));
        _mm256_storeu_pd(yr + ow, _mm256_permute4x64_pd(RT_MP2_COMB4(h0, h1), 0xD8));
    }
    __attribute__((target("avx2"))) static inline void
    rt_mp2_avx2_idx_f(const float* r0, const float* r1, float* yr, int64_t* ir, int64_t ow,
                      int64_t k0, int64_t W) {
        __m256 a0 = _mm256_loadu_ps(r0 + 2 * ow), b0 = _mm256_loadu_ps(r0 + 2 * ow + 8);
        __m256 a1 = _mm256_loadu_ps(r1 + 2 * ow), b1 = _mm256_loadu_ps(r1 + 2 * ow + 8);
        __m256 e0 = _mm256_shuffle_ps(a0, b0, 0x88), o0 = _mm256_shuffle_ps(a0, b0, 0xDD);
        __m256 e1 = _mm256_shuffle_ps(a1, b1, 0x88), o1 = _mm256_shuffle_ps(a1, b1, 0xDD);
        __m256 c0 = RT_MP2_SEL8(e0, o0), c1 = RT_MP2_SEL8(e1, o1);
        __m256 h0 = _mm256_blendv_ps(e0, o0, c0), h1 = _mm256_blendv_ps(e1, o1, c1);
        __m256 rs = RT_MP2_SEL8(h0, h1);
        _mm256_storeu_ps(yr + ow, RT_MP2_FIX8(_mm256_blendv_ps(h0, h1, rs)));
        __m256i col = _mm256_castps_si256(RT_MP2_FIX8(_mm256_blendv_ps(c0, c1, rs)));
        __m256i row = _mm256_castps_si256(RT_MP2_FIX8(rs));
        __m256i wv = _mm256_set1_epi64x(W);
        __m256i base = _mm256_add_epi64(_mm256_set1_epi64x(k0 + 2 * ow),
                                        _mm256_set_epi64x(6, 4, 2, 0));
        __m256i i0 = _mm256_sub_epi64(
            _mm256_and_si256(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(row)), wv),
            _mm256_cvtepi32_epi64(_mm256_castsi256_si128(col)));
        __m256i i1 = _mm256_sub_epi64(
            _mm256_and_si256(_mm256_cvtepi32_epi64(_mm256_extracti128_si256(row, 1)), wv),
            _mm256_cvtepi32_epi64(_mm256_extracti128_si256(col, 1)));
        _mm256_storeu_si256((__m256i*)(ir + ow), _mm256_add_epi64(base, i0));
        _mm256_storeu_si256((__m256i*)(ir + ow + 4),
                            _mm256_add_epi64(_mm256_add_epi64(base, _mm256_set1_epi64x(8)), i1));
    }
    __attribute__((target("avx2"))) static inline void
    rt_mp2_avx2_idx_d(const double* r0, const double* r1, double* yr, int64_t* ir, int64_t ow,
                      int64_t k0, int64_t W) {
        __m256d a0 = _mm256_loadu_pd(r0 + 2 * ow), b0 = _mm256_loadu_pd(r0 + 2 * ow + 4);
        __m256d a1 = _mm256_loadu_pd(r1 + 2 * ow), b1 = _mm256_loadu_pd(r1 + 2 * ow + 4);
        __m256d e0 = _mm256_shuffle_pd(a0, b0, 0), o0 = _mm256_shuffle_pd(a0, b0, 15);
        __m256d e1 = _mm256_shuffle_pd(a1, b1, 0), o1 = _mm256_shuffle_pd(a1, b1, 15);
        __m256d c0 = RT_MP2_SEL4(e0, o0), c1 = RT_MP2_SEL4(e1, o1);
        __m256d h0 = _mm256_blendv_pd(e0, o0, c0), h1 = _mm256_blendv_pd(e1, o1, c1);
        __m256d rs = RT_MP2_SEL4(h0, h1);
        _mm256_storeu_pd(yr + ow, _mm256_permute4x64_pd(_mm256_blendv_pd(h0, h1, rs), 0xD8));
        __m256i col = _mm256_castpd_si256(_mm256_permute4x64_pd(_mm256_blendv_pd(c0, c1, rs), 0xD8));
        __m256i row = _mm256_castpd_si256(_mm256_permute4x64_pd(rs, 0xD8));
        __m256i base = _mm256_add_epi64(_mm256_set1_epi64x(k0 + 2 * ow),
                                        _mm256_set_epi64x(6, 4, 2, 0));
        _mm256_storeu_si256((__m256i*)(ir + ow), _mm256_add_epi64(base, _mm256_sub_epi64(
            _mm256_and_si256(row, _mm256_set1_epi64x(W)), col)));
    }
    /* values without NaN (the usual case): the update is plain max_ps(v, x) (v > x ? v : x);
     * a vector whose loads hold a NaN (unordered pairs) takes the blend kernel above */
    __attribute__((target("avx2"))) static inline void
    rt_mp2_avx2_fast_f(const float* r0, const float* r1, float* yr, int64_t ow) {
        __m256 a0 = _mm256_loadu_ps(r0 + 2 * ow), b0 = _mm256_loadu_ps(r0 + 2 * ow + 8);
        __m256 a1 = _mm256_loadu_ps(r1 + 2 * ow), b1 = _mm256_loadu_ps(r1 + 2 * ow + 8);
        __m256 u = _mm256_or_ps(_mm256_cmp_ps(a0, b0, _CMP_UNORD_Q),
                                _mm256_cmp_ps(a1, b1, _CMP_UNORD_Q));
        if (__builtin_expect(!_mm256_testz_ps(u, u), 0)) {
            rt_mp2_avx2_vals_f(r0, r1, yr, ow);
            return;
        }
        __m256 h0 = _mm256_max_ps(_mm256_shuffle_ps(a0, b0, 0xDD), _mm256_shuffle_ps(a0, b0, 0x88));
        __m256 h1 = _mm256_max_ps(_mm256_shuffle_ps(a1, b1, 0xDD), _mm256_shuffle_ps(a1, b1, 0x88));
        _mm256_storeu_ps(yr + ow, RT_MP2_FIX8(_mm256_max_ps(h1, h0)));
    }
    __attribute__((target("avx2"))) static inline void
    rt_mp2_avx2_fast_d(const double* r0, const double* r1, double* yr, int64_t ow) {
        __m256d a0 = _mm256_loadu_pd(r0 + 2 * ow), b0 = _mm256_loadu_pd(r0 + 2 * ow + 4);
        __m256d a1 = _mm256_loadu_pd(r1 + 2 * ow), b1 = _mm256_loadu_pd(r1 + 2 * ow + 4);
        __m256d u = _mm256_or_pd(_mm256_cmp_pd(a0, b0, _CMP_UNORD_Q),
                                 _mm256_cmp_pd(a1, b1, _CMP_UNORD_Q));
        if (__builtin_expect(!_mm256_testz_pd(u, u), 0)) {
            rt_mp2_avx2_vals_d(r0, r1, yr, ow);
            return;
        }
        __m256d h0 = _mm256_max_pd(_mm256_shuffle_pd(a0, b0, 15), _mm256_shuffle_pd(a0, b0, 0));
        __m256d h1 = _mm256_max_pd(_mm256_shuffle_pd(a1, b1, 15), _mm256_shuffle_pd(a1, b1, 0));
        _mm256_storeu_pd(yr + ow, _mm256_permute4x64_pd(_mm256_max_pd(h1, h0), 0xD8));
    }
    #endif  /* RT_MP2_X86 */

    /* Planes [b, e), row by row. A row whose last vector, run past the row's end, stays
     * inside this task's input and output takes whole vectors: what lands past the row is
     * the start of the next rows, which are written after it (rows go in order); the last
     * rows of the task instead repeat the last full vector (overlapping), or take the
     * narrower unit, then the scalar loop. */
    #define RT_MP2_TAIL(VALS, IDX, VW) \
        for (; ow + VW <= oW; ow += VW) { \
            if (with_idx_c) IDX(r0, r1, yr, ir, ow, k0, W); else VALS(r0, r1, yr, ow); \
        } \
        if (ow < oW && oW >= VW) { \
            if (with_idx_c) IDX(r0, r1, yr, ir, oW - VW, k0, W); else VALS(r0, r1, yr, oW - VW); \
            ow = oW; \
        }
    #define RT_MP2_PLANES_1(T, S, NAME, ATTR, VW, VALS, IDX, TAIL, WITH_IDX) \
    ATTR static void NAME(const T* x, T* y, int64_t* idx, int64_t b, int64_t e, int64_t H, \
                          int64_t W, int64_t oH, int64_t oW) { \
        const int with_idx_c = WITH_IDX; \
        const int64_t span = (oW + VW - 1) / VW * VW; \
        const T* xend = x + e * H * W; \
        const T* yend = y + e * oH * oW; \
        (void)with_idx_c; \
        for (int64_t p = b; p < e; p++) { \
            const T* r0 = x + p * H * W; \
            T* yr = y + p * oH * oW; \
            int64_t* ir = WITH_IDX ? idx + p * oH * oW : 0; \
            int64_t oh = 0; \
            if (VW > 1) { \
                for (; oh < oH && yr + span <= yend && r0 + W + 2 * span <= xend; \
                     oh++, r0 += 2 * W, yr += oW, ir += WITH_IDX ? oW : 0) { \
                    const T* r1 = r0 + W; \
                    int64_t k0 = 2 * oh * W; \
                    (void)r1; (void)k0; \
                    for (int64_t ow = 0; ow < oW; ow += VW) { \
                        if (WITH_IDX) IDX(r0, r1, yr, ir, ow, k0, W); else VALS(r0, r1, yr, ow); \
                    } \
                } \
            } \
            for (; oh < oH; oh++, r0 += 2 * W, yr += oW, ir += WITH_IDX ? oW : 0) { \
                const T* r1 = r0 + W; \
                int64_t k0 = 2 * oh * W, ow = 0; \
                TAIL \
                if (ow < oW) rt_mp2_scalar_##S(r0, r1, yr, ir, ow, oW, k0, W); \
            } \
        } \
    }
    #define RT_MP2_PLANES(T, S, NAME, ATTR, VW, VALS, IDX, TAIL) \
    RT_MP2_PLANES_1(T, S, NAME##_vals, ATTR, VW, VALS, IDX, TAIL, 0) \
    RT_MP2_PLANES_1(T, S, NAME##_idx, ATTR, VW, VALS, IDX, TAIL, 1) \
    static void NAME(const T* x, T* y, int64_t* idx, int64_t b, int64_t e, int64_t H, \
                     int64_t W, int64_t oH, int64_t oW, int with_idx) { \
        if (with_idx) NAME##_idx(x, y, idx, b, e, H, W, oH, oW); \
        else NAME##_vals(x, y, idx, b, e, H, W, oH, oW); \
    }
    #if RT_MP2_X86
    RT_MP2_PLANES(float, f, rt_mp2_planes_avx2_f, __attribute__((target("avx2"))), 8,
        rt_mp2_avx2_fast_f, rt_mp2_avx2_idx_f,
        RT_MP2_TAIL(rt_mp2_avx2_fast_f, rt_mp2_avx2_idx_f, 8)
        RT_MP2_TAIL(rt_mp2_sse_vals_f, rt_mp2_sse_idx_f, 4))
    RT_MP2_PLANES(double, d, rt_mp2_planes_avx2_d, __attribute__((target("avx2"))), 4,
        rt_mp2_avx2_fast_d, rt_mp2_avx2_idx_d,
        RT_MP2_TAIL(rt_mp2_avx2_fast_d, rt_mp2_avx2_idx_d, 4)
        RT_MP2_TAIL(rt_mp2_sse_vals_d, rt_mp2_sse_idx_d, 2))
    RT_MP2_PLANES(float, f, rt_mp2_planes_sse_f, , 4, rt_mp2_sse_vals_f, rt_mp2_sse_idx_f,
        RT_MP2_TAIL(rt_mp2_sse_vals_f, rt_mp2_sse_idx_f, 4))
    RT_MP2_PLANES(double, d, rt_mp2_planes_sse_d, , 2, rt_mp2_sse_vals_d, rt_mp2_sse_idx_d,
        RT_MP2_TAIL(rt_mp2_sse_vals_d, rt_mp2_sse_idx_d, 2))
    static int rt_mp2_avx2 = -1;   /* -1: not asked yet (a benign race: every thread finds the same) */
    #define RT_MP2_DISPATCH(T, NAME, AVX2, SSE) \
    static void NAME(const T* x, T* y, int64_t* idx, int64_t b, int64_t e, int64_t H, \
                     int64_t W, int64_t oH, int64_t oW, int with_idx) { \
        if (rt_mp2_avx2 < 0) rt_mp2_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0; \
        if (rt_mp2_avx2) AVX2(x, y, idx, b, e, H, W, oH, oW, with_idx); \
        else SSE(x, y, idx, b, e, H, W, oH, oW, with_idx); \
    }
    RT_MP2_DISPATCH(float, rt_mp2_planes_f, rt_mp2_planes_avx2_f, rt_mp2_planes_sse_f)
    RT_MP2_DISPATCH(double, rt_mp2_planes_d, rt_mp2_planes_avx2_d, rt_mp2_planes_sse_d)
    #else
    #define RT_MP2_NOVEC(...) ((void)0)   /* VW 1: never called, the scalar loop does it all */
    RT_MP2_PLANES(float, f, rt_mp2_planes_f, , 1, RT_MP2_NOVEC, RT_MP2_NOVEC, )
    RT_MP2_PLANES(double, d, rt_mp2_planes_d, , 1, RT_MP2_NOVEC, RT_MP2_NOVEC, )
    #endif
    """


cdef extern from *:
    """
    /* Max pooling over planes [b, e): PyTorch's window walk (the first maximum wins, NaN
     * propagates), written in C with every parameter in a local (Python extensions build
     * with -fno-strict-aliasing, so struct fields would be reloaded after each store) and a
     * branch-free update (random data mispredicts a compare branch half of the time). */
    #define RT_MAX_UPDATE(v, k) do { int take_ = ((v) > m) | ((v) != (v)); \
        m = take_ ? (v) : m; maxk = take_ ? (k) : maxk; } while (0)
    /* the outputs [lo, hi) of a row whose window column at offset `off` is inside [0, W) */
    static inline void rt_pool_cols(int64_t off, int64_t sW, int64_t W, int64_t oW,
                                    int64_t* lo, int64_t* hi) {
        int64_t l = off < 0 ? (-off + sW - 1) / sW : 0;
        int64_t h = W - 1 - off < 0 ? 0 : (W - 1 - off) / sW + 1;
        *lo = l;
        *hi = h > oW ? oW : h;
    }
    /* WITH_IDX is a literal 0 or 1: the values-only instances (no gradient, no
     * return_indices) drop every index computation and store at compile time. The 2x2
     * stride-2 windows that lie inside the plane go to FAST (rt_mp2_planes_*, SIMD). */
    /* take ? v : m without a branch (random data mispredicts one half of the time; gcc
     * turns the plain ternary into a branch around the store) */
    static inline float rt_pool_sel_f(int take, float v, float m) {
        uint32_t a, b, k = (uint32_t)0 - (uint32_t)take;
        memcpy(&a, &v, 4); memcpy(&b, &m, 4);
        a = (a & k) | (b & ~k);
        memcpy(&v, &a, 4);
        return v;
    }
    static inline double rt_pool_sel_d(int take, double v, double m) {
        uint64_t a, b, k = (uint64_t)0 - (uint64_t)take;
        memcpy(&a, &v, 8); memcpy(&b, &m, 8);
        a = (a & k) | (b & ~k);
        memcpy(&v, &a, 8);
        return v;
    }
    #define RT_POOL_SEL(t, v, m) _Generic((v), float: rt_pool_sel_f, double: rt_pool_sel_d)(t, v, m)
    /* one output's window, walked in its row-major order (the offset walk's result) */
    #define RT_POOL_ONE(T, S) \
    static inline void rt_pool_one_##S(const T* xp, T* ym, int64_t* yk, int64_t ow, \
            int64_t hb, int64_t ih0, int64_t H, int64_t W, int64_t kH, int64_t kW, \
            int64_t sW, int64_t pW, int64_t dH, int64_t dW) { \
        int64_t wb = ow * sW - pW, iw0 = wb; \
        T m = -INFINITY; \
        if (!yk) { \
            /* values: a max chain (maxss), NaNs counted off it; a NaN walks again */ \
            int nan = 0; \
            for (int64_t a = 0; a < kH; a++) { \
                int64_t ih = hb + a * dH; \
                if (ih < 0 || ih >= H) continue; \
                for (int64_t bb = 0; bb < kW; bb++) { \
                    int64_t iw = wb + bb * dW; \
                    if (iw < 0 || iw >= W) continue; \
                    T v = xp[ih * W + iw]; \
                    nan |= v != v; \
                    m = v > m ? v : m; \
                } \
            } \
            if (!nan) { ym[ow] = m; return; } \
            m = -INFINITY; \
        } \
        if (iw0 < 0) iw0 += (-iw0 + dW - 1) / dW * dW; \
        int64_t mk = ih0 * W + iw0; \
        for (int64_t a = 0; a < kH; a++) { \
            int64_t ih = hb + a * dH; \
            if (ih < 0 || ih >= H) continue; \
            for (int64_t bb = 0; bb < kW; bb++) { \
                int64_t iw = wb + bb * dW; \
                if (iw < 0 || iw >= W) continue; \
                T v = xp[ih * W + iw]; \
                int take = (v > m) | (v != v); \
                m = RT_POOL_SEL(take, v, m); \
                mk = take ? ih * W + iw : mk; \
            } \
        } \
        ym[ow] = m; \
        if (yk) yk[ow] = mk; \
    }
    RT_POOL_ONE(float, f)
    RT_POOL_ONE(double, d)
    #define RT_MPG_NOROW()   /* no vectors: the scalar walk does the whole row */
    #define RT_DEFINE_MAX_POOL(T, S, NAME, WITH_IDX, FAST, ATTR, VEC) \
    ATTR static void NAME(const T* x, T* y, int64_t* idx, int64_t b, int64_t e, int64_t H, \
                     int64_t W, int64_t oH, int64_t oW, int64_t kH, int64_t kW, int64_t sH, \
                     int64_t sW, int64_t pH, int64_t pW, int64_t dH, int64_t dW) { \
        int64_t lo_buf[64], hi_buf[64]; \
        const int with_idx_c = WITH_IDX;  /* for VEC, whose text is an argument */ \
        (void)with_idx_c; \
        int fast2 = kH == 2 && kW == 2 && sH == 2 && sW == 2 && pH == 0 && pW == 0 && \
                    dH == 1 && dW == 1 && 2 * oH <= H && 2 * oW <= W; \
        if (fast2) { \
            FAST(x, y, idx, b, e, H, W, oH, oW, WITH_IDX); \
            return; \
        } \
        int64_t g_vlo = pW > 0 ? (pW + sW - 1) / sW : 0; \
        int64_t g_vhi = W - 1 - (kW - 1) * dW + pW; \
        g_vhi = g_vhi < 0 ? 0 : g_vhi / sW + 1; \
        if (g_vhi > oW) g_vhi = oW; \
        int64_t g_vhi_last = g_vhi > 0 && (g_vhi - 1) * sW + (kW - 1) * dW - pW + 1 > W - 1 \
                             ? g_vhi - 1 : g_vhi; \
        (void)g_vlo; (void)g_vhi_last; \
        for (int64_t p = b; p < e; p++) { \
            const T* xp = x + p * H * W; \
            T* yp = y + p * oH * oW; \
            int64_t* ip = WITH_IDX ? idx + p * oH * oW : 0; \
            if (p == b) { \
                for (int64_t bb = 0; bb < kW && bb < 64; bb++) \
                    rt_pool_cols(bb * dW - pW, sW, W, oW, &lo_buf[bb], &hi_buf[bb]); \
            } \
            /* generic windows, offset by offset: for each window offset (a, b) in the \
             * window's row-major order, update every output of the row; the outputs are \
             * independent, so there is no dependency chain from one compare to the next */ \
            for (int64_t oh = 0; oh < oH; oh++) { \
                int64_t hb = oh * sH - pH; \
                int64_t ih0 = hb; \
                if (ih0 < 0) ih0 += (-ih0 + dH - 1) / dH * dH; \
                T* ym = yp + oh * oW; \
                int64_t* yk = WITH_IDX ? ip + oh * oW : 0; \
                int64_t vlo = 0, vend = 0; \
                VEC() \
                if (vend > vlo) { \
                    /* the vectors did [vlo, vend); the few outputs at the edges */ \
                    for (int64_t ow = 0; ow < vlo; ow++) \
                        rt_pool_one_##S(xp, ym, yk, ow, hb, ih0, H, W, kH, kW, sW, pW, dH, dW); \
                    for (int64_t ow = vend; ow < oW; ow++) \
                        rt_pool_one_##S(xp, ym, yk, ow, hb, ih0, H, W, kH, kW, sW, pW, dH, dW); \
                    continue; \
                } \
                for (int64_t ow = 0; ow < oW; ow++) { \
                    int64_t iw0 = ow * sW - pW; \
                    if (iw0 < 0) iw0 += (-iw0 + dW - 1) / dW * dW; \
                    ym[ow] = -INFINITY; \
                    if (WITH_IDX) yk[ow] = ih0 * W + iw0; \
                } \
                for (int64_t a = 0; a < kH; a++) { \
                    int64_t ih = hb + a * dH; \
                    if (ih < 0 || ih >= H) continue; \
                    const T* row = xp + ih * W; \
                    for (int64_t bb = 0; bb < kW; bb++) { \
                        int64_t off = bb * dW - pW; \
                        int64_t lo, hi; \
                        if (bb < 64) { lo = lo_buf[bb]; hi = hi_buf[bb]; } \
                        else rt_pool_cols(off, sW, W, oW, &lo, &hi); \
                        for (int64_t ow = lo; ow < hi; ow++) { \
                            int64_t iw = ow * sW + off; \
                            T v = row[iw]; \
                            T m = ym[ow]; \
                            int take = (v > m) | (v != v); \
                            ym[ow] = RT_POOL_SEL(take, v, m); \
                            if (WITH_IDX) yk[ow] = take ? ih * W + iw : yk[ow]; \
                        } \
                    } \
                } \
            } \
        } \
    }
    #if RT_MP2_X86
    /* The generic walk's vectors (column strides 1 and 2): 8 floats / 4 doubles of an
     * output row whose windows lie inside the row's columns take every window offset in
     * the scalar walk's order, the maximum (and the offset's position, relative to the
     * window's corner) kept in registers; the same compare and select as the scalar loop,
     * so the same result. A stride-2 vector reads one column past its last window column,
     * so it stops before that would leave the row; float indices keep the relative
     * position in 32 bits, so only where it fits. Sets [vlo, vend): the outputs done. The
     * -inf start with the first offset's position is the scalar start (ih0, iw0). */
    /* [vlo, vhi): the outputs whose windows lie inside the row's columns (g_vlo, g_vhi,
     * computed once a call). The vectors step by VW and end with the last full vector
     * again (overlapping: each vector computes its outputs whole). A stride-2 vector also
     * reads the column after its last window column: past the row's end that is the next
     * row, which is there unless this is the task's last input row (g_vhi_last). vend =
     * vhi once they ran. */
    #define RT_MPG_RANGE(VW) \
            int64_t vhi = sW == 2 && p == e - 1 && hb + (kH - 1) * dH >= H - 1 ? g_vhi_last : g_vhi; \
            vlo = g_vlo;
    /* one offset's update of an accumulator (and its positions) */
    #define RT_MPG_STEP_F(acc, code, q) do { \
            __m256 v_ = sW == 1 ? _mm256_loadu_ps(q) : _mm256_shuffle_ps( \
                _mm256_loadu_ps(q), _mm256_loadu_ps((q) + 8), 0x88); \
            __m256 t_ = RT_MP2_SEL8(acc, v_); \
            acc = _mm256_blendv_ps(acc, v_, t_); \
            if (with_idx_c) code = _mm256_blendv_ps(code, relv, t_); \
        } while (0)
    #define RT_MPG_STORE_F(acc, code, ow) do { \
            if (sW == 2) { acc = RT_MP2_FIX8(acc); code = RT_MP2_FIX8(code); } \
            _mm256_storeu_ps(ym + (ow), acc); \
            if (with_idx_c) { \
                __m256i c_ = _mm256_castps_si256(code); \
                __m256i base_ = _mm256_add_epi64(_mm256_set1_epi64x(hb * W + (ow) * sW - pW), \
                    _mm256_set_epi64x(3 * sW, 2 * sW, sW, 0)); \
                _mm256_storeu_si256((__m256i*)(yk + (ow)), _mm256_add_epi64(base_, \
                    _mm256_cvtepi32_epi64(_mm256_castsi256_si128(c_)))); \
                _mm256_storeu_si256((__m256i*)(yk + (ow) + 4), _mm256_add_epi64( \
                    _mm256_add_epi64(base_, _mm256_set1_epi64x(4 * sW)), \
                    _mm256_cvtepi32_epi64(_mm256_extracti128_si256(c_, 1)))); \
            } \
        } while (0)
    /* values only: a plain max (v > acc ? v : acc, the same while no NaN comes) and a NaN
     * flag off the chain; a NaN redoes the vectors with the compare-and-select */
    #define RT_MPG_FSTEP_F(acc, nan, q) do { \
            __m256 v_ = sW == 1 ? _mm256_loadu_ps(q) : _mm256_shuffle_ps( \
                _mm256_loadu_ps(q), _mm256_loadu_ps((q) + 8), 0x88); \
            nan = _mm256_or_ps(nan, _mm256_cmp_ps(v_, v_, _CMP_UNORD_Q)); \
            acc = _mm256_max_ps(v_, acc); \
        } while (0)
    #define RT_MPG_STEP_D(acc, code, q) do { \
            __m256d v_ = sW == 1 ? _mm256_loadu_pd(q) : _mm256_shuffle_pd( \
                _mm256_loadu_pd(q), _mm256_loadu_pd((q) + 4), 0); \
            __m256d t_ = RT_MP2_SEL4(acc, v_); \
            acc = _mm256_blendv_pd(acc, v_, t_); \
            if (with_idx_c) code = _mm256_blendv_pd(code, relv, t_); \
        } while (0)
    #define RT_MPG_STORE_D(acc, code, ow) do { \
            if (sW == 2) { \
                acc = _mm256_permute4x64_pd(acc, 0xD8); \
                code = _mm256_permute4x64_pd(code, 0xD8); \
            } \
            _mm256_storeu_pd(ym + (ow), acc); \
            if (with_idx_c) \
                _mm256_storeu_si256((__m256i*)(yk + (ow)), _mm256_add_epi64( \
                    _mm256_add_epi64(_mm256_set1_epi64x(hb * W + (ow) * sW - pW), \
                                     _mm256_set_epi64x(3 * sW, 2 * sW, sW, 0)), \
                    _mm256_castpd_si256(code))); \
        } while (0)
    #define RT_MPG_FSTEP_D(acc, nan, q) do { \
            __m256d v_ = sW == 1 ? _mm256_loadu_pd(q) : _mm256_shuffle_pd( \
                _mm256_loadu_pd(q), _mm256_loadu_pd((q) + 4), 0); \
            nan = _mm256_or_pd(nan, _mm256_cmp_pd(v_, v_, _CMP_UNORD_Q)); \
            acc = _mm256_max_pd(v_, acc); \
        } while (0)
    /* two vectors at a time: each accumulator is a chain through the window, so two
     * independent chains keep the core busy (the second vector repeats the first when the
     * count is odd). One body for both types: S (F/D) picks the step and store macros, VT
     * and VW the vector type and width, SFX the intrinsics' suffix (ps/pd), CODE(x) a
     * vector of the window position x (32-bit lanes for float, 64-bit for double) and FITS
     * whether those positions fit the lanes. */
    #define RT_MPG_ROW(S, T, VT, VW, SFX, CODE, FITS) \
        if ((sW == 1 || sW == 2) && oW >= VW && kW * dW <= W + 2 * pW && (FITS)) { \
            RT_MPG_RANGE(VW) \
            int64_t nvec = vhi - vlo >= VW ? (vhi - vlo + VW - 1) / VW : 0; \
            VT code0 = CODE((ih0 - hb) * W); \
            for (int64_t iv = 0; iv < nvec; iv += 2) { \
                int64_t owa = vlo + iv * VW, owb = owa + VW; \
                if (owa + VW > vhi) owa = vhi - VW; \
                if (iv + 1 >= nvec) owb = owa; \
                else if (owb + VW > vhi) owb = vhi - VW; \
                VT acca = _mm256_set1_##SFX(-INFINITY), accb = acca; \
                VT codea = code0, codeb = code0; \
                int exact = with_idx_c; \
                if (!exact) { \
                    VT nana = _mm256_setzero_##SFX(), nanb = nana; \
                    for (int64_t a = 0; a < kH; a++) { \
                        int64_t ih = hb + a * dH; \
                        if (ih < 0 || ih >= H) continue; \
                        const T* row = xp + ih * W - pW; \
                        for (int64_t bb = 0; bb < kW; bb++) { \
                            const T* q = row + bb * dW; \
                            RT_MPG_FSTEP_##S(acca, nana, q + owa * sW); \
                            RT_MPG_FSTEP_##S(accb, nanb, q + owb * sW); \
                        } \
                    } \
                    nana = _mm256_or_##SFX(nana, nanb); \
                    if (!_mm256_testz_##SFX(nana, nana)) { \
                        exact = 1; \
                        acca = accb = _mm256_set1_##SFX(-INFINITY); \
                    } \
                } \
                if (exact) { \
                    for (int64_t a = 0; a < kH; a++) { \
                        int64_t ih = hb + a * dH; \
                        if (ih < 0 || ih >= H) continue; \
                        const T* row = xp + ih * W - pW; \
                        for (int64_t bb = 0; bb < kW; bb++) { \
                            VT relv = CODE(a * dH * W + bb * dW); \
                            (void)relv; \
                            const T* q = row + bb * dW; \
                            RT_MPG_STEP_##S(acca, codea, q + owa * sW); \
                            RT_MPG_STEP_##S(accb, codeb, q + owb * sW); \
                        } \
                    } \
                } \
                RT_MPG_STORE_##S(acca, codea, owa); \
                RT_MPG_STORE_##S(accb, codeb, owb); \
            } \
            if (nvec) vend = vhi; \
        }
    #define RT_MPG_CODE_F(x) _mm256_castsi256_ps(_mm256_set1_epi32((int32_t)(x)))
    #define RT_MPG_CODE_D(x) _mm256_castsi256_pd(_mm256_set1_epi64x(x))
    /* float positions are 32-bit: only where the window's span fits */
    #define RT_MPG_ROW_F() RT_MPG_ROW(F, float, __m256, 8, ps, RT_MPG_CODE_F, \
        !with_idx_c || (kH * dH + 1) * W + kW * dW < 2147483647)
    #define RT_MPG_ROW_D() RT_MPG_ROW(D, double, __m256d, 4, pd, RT_MPG_CODE_D, 1)
    #define RT_DEFINE_MAX_POOL_X86(T, S, NAME, WITH_IDX, FAST, VEC) \
        RT_DEFINE_MAX_POOL(T, S, NAME##_avx2, WITH_IDX, FAST, __attribute__((target("avx2"))), VEC) \
        RT_DEFINE_MAX_POOL(T, S, NAME##_base, WITH_IDX, FAST, , RT_MPG_NOROW) \
        static void NAME(const T* x, T* y, int64_t* idx, int64_t b, int64_t e, int64_t H, \
                         int64_t W, int64_t oH, int64_t oW, int64_t kH, int64_t kW, int64_t sH, \
                         int64_t sW, int64_t pH, int64_t pW, int64_t dH, int64_t dW) { \
            if (rt_mp2_avx2 < 0) rt_mp2_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0; \
            if (rt_mp2_avx2) NAME##_avx2(x, y, idx, b, e, H, W, oH, oW, kH, kW, sH, sW, pH, pW, dH, dW); \
            else NAME##_base(x, y, idx, b, e, H, W, oH, oW, kH, kW, sH, sW, pH, pW, dH, dW); \
        }
    RT_DEFINE_MAX_POOL_X86(float, f, rt_max_pool_f, 1, rt_mp2_planes_f, RT_MPG_ROW_F)
    RT_DEFINE_MAX_POOL_X86(double, d, rt_max_pool_d, 1, rt_mp2_planes_d, RT_MPG_ROW_D)
    RT_DEFINE_MAX_POOL_X86(float, f, rt_max_pool_values_f, 0, rt_mp2_planes_f, RT_MPG_ROW_F)
    RT_DEFINE_MAX_POOL_X86(double, d, rt_max_pool_values_d, 0, rt_mp2_planes_d, RT_MPG_ROW_D)
    #else
    RT_DEFINE_MAX_POOL(float, f, rt_max_pool_f, 1, rt_mp2_planes_f, , RT_MPG_NOROW)
    RT_DEFINE_MAX_POOL(double, d, rt_max_pool_d, 1, rt_mp2_planes_d, , RT_MPG_NOROW)
    RT_DEFINE_MAX_POOL(float, f, rt_max_pool_values_f, 0, rt_mp2_planes_f, , RT_MPG_NOROW)
    RT_DEFINE_MAX_POOL(double, d, rt_max_pool_values_d, 0, rt_mp2_planes_d, , RT_MPG_NOROW)
    #endif
    """
    void rt_max_pool_f(const float* x, float* y, int64_t* idx, index_t b, index_t e, index_t H,
                       index_t W, index_t oH, index_t oW, index_t kH, index_t kW, index_t sH,
                       index_t sW, index_t pH, index_t pW, index_t dH, index_t dW) noexcept nogil
    void rt_max_pool_d(const double* x, double* y, int64_t* idx, index_t b, index_t e, index_t H,
                       index_t W, index_t oH, index_t oW, index_t kH, index_t kW, index_t sH,
                       index_t sW, index_t pH, index_t pW, index_t dH, index_t dW) noexcept nogil
    void rt_max_pool_values_f(const float* x, float* y, int64_t* idx, index_t b, index_t e,
                              index_t H, index_t W, index_t oH, index_t oW, index_t kH,
                              index_t kW, index_t sH, index_t sW, index_t pH, index_t pW,
                              index_t dH, index_t dW) noexcept nogil
    void rt_max_pool_values_d(const double* x, double* y, int64_t* idx, index_t b, index_t e,
                              index_t H, index_t W, index_t oH, index_t oW, index_t kH,
                              index_t kW, index_t sH, index_t sW, index_t pH, index_t pW,
                              index_t dH, index_t dW) noexcept nogil


cdef void _max_pool_task_f(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef MaxPoolCtx* c = <MaxPoolCtx*>ctx
    rt_max_pool_f(<float*>c.x, <float*>c.y, c.idx, b, e, c.H, c.W, c.oH, c.oW, c.kH, c.kW,
                  c.sH, c.sW, c.pH, c.pW, c.dH, c.dW)


cdef void _max_pool_task_d(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef MaxPoolCtx* c = <MaxPoolCtx*>ctx
    rt_max_pool_d(<double*>c.x, <double*>c.y, c.idx, b, e, c.H, c.W, c.oH, c.oW, c.kH, c.kW,
                  c.sH, c.sW, c.pH, c.pW, c.dH, c.dW)


cdef void max_pool2x2_values(int dt, const void* x, void* y, index_t planes, index_t H,
                             index_t W) noexcept nogil:
    if dt == DT_FLOAT32:
        rt_max_pool_values_f(<const float*>x, <float*>y, NULL, 0, planes, H, W, H // 2, W // 2,
                             2, 2, 2, 2, 0, 0, 1, 1)
    else:
        rt_max_pool_values_d(<const double*>x, <double*>y, NULL, 0, planes, H, W, H // 2,
                             W // 2, 2, 2, 2, 2, 0, 0, 1, 1)


cdef void _max_pool_values_task_f(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef MaxPoolCtx* c = <MaxPoolCtx*>ctx
    rt_max_pool_values_f(<float*>c.x, <float*>c.y, NULL, b, e, c.H, c.W, c.oH, c.oW, c.kH,
                         c.kW, c.sH, c.sW, c.pH, c.pW, c.dH, c.dW)


cdef void _max_pool_values_task_d(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef MaxPoolCtx* c = <MaxPoolCtx*>ctx
    rt_max_pool_values_d(<double*>c.x, <double*>c.y, NULL, b, e, c.H, c.W, c.oH, c.oW, c.kH,
                         c.kW, c.sH, c.sW, c.pH, c.pW, c.dH, c.dW)


def max_pool2d(input, long kH, long kW, long sH, long sW, long pH, long pW, long dH, long dW,
               index_t oH, index_t oW, bint indices=True):
    """Max pooling over the last two dims of a contiguous float tensor: (values, int64
    indices), each shaped input.shape[:-2] + (oH, oW). Padding is implicit -inf.
    ``indices=False`` (inference: no gradient, no return_indices) returns (values, None)
    without the argmax bookkeeping."""
    cdef Tensor x = _float_input(input, "max_pool2d", 2)
    _positive("kernel_size", kH); _positive("kernel_size", kW)
    _positive("stride", sH); _positive("stride", sW)
    _positive("dilation", dH); _positive("dilation", dW)
    if pH < 0 or pW < 0:
        raise ValueError("padding must be non-negative")
    cdef Tensor y = _result(x, oH, oW, x._dtype, False)
    cdef Tensor idx = _result(x, oH, oW, DT_INT64, False) if indices else None
    cdef MaxPoolCtx c
    cdef index_t n = _planes(x)
    c.x = x.ptr(); c.y = y.ptr(); c.idx = <int64_t*>idx.ptr() if indices else NULL
    c.H = x._shape[x._ndim - 2]; c.W = x._shape[x._ndim - 1]; c.oH = oH; c.oW = oW
    c.kH = kH; c.kW = kW; c.sH = sH; c.sW = sW; c.pH = pH; c.pW = pW; c.dH = dH; c.dW = dW
    if y._numel == 0:
        return y, idx
    cdef task_fn task
    if indices:
        task = _max_pool_task_f if x._dtype == DT_FLOAT32 else _max_pool_task_d
    else:
        task = _max_pool_values_task_f if x._dtype == DT_FLOAT32 else _max_pool_values_task_d
    with nogil:
        parallel_for(n, _grain(oH * oW * kH * kW), task, &c)
    return y, idx


cdef struct ScatterCtx:
    char* src          # values at the indices' positions (grad_output)
    char* dst          # the planes indexed into (grad_input)
    int64_t* idx
    index_t n_src      # elements per plane of src / idx
    index_t n_dst      # elements per plane of dst
    int bad


cdef void _scatter_impl(real_t* src, real_t* dst, ScatterCtx* c, index_t b,
                        index_t e) noexcept nogil:
    cdef index_t n_src = c.n_src, n_dst = c.n_dst
    cdef int64_t* idx = c.idx
    cdef int bad = 0
    cdef index_t p, j, k
    cdef real_t* sp
    cdef real_t* dp
    cdef int64_t* ip
    for p in range(b, e):
        sp = src + p * n_src
        dp = dst + p * n_dst
        ip = idx + p * n_src
        for j in range(n_src):
            k = ip[j]
            if k >= 0 and k < n_dst:
                dp[k] += sp[j]
            elif k != -1:
                bad = 1
    if bad:
        c.bad = 1


cdef void _gather_impl(real_t* src, real_t* dst, ScatterCtx* c, index_t b,
                       index_t e) noexcept nogil:
    cdef index_t n_src = c.n_src, n_dst = c.n_dst
    cdef int64_t* idx = c.idx
    cdef int bad = 0
    # dst[j] = src_plane[idx[j]]; here ``dst`` has the indices' shape
    cdef index_t p, j, k
    cdef real_t* sp
    cdef real_t* dp
    cdef int64_t* ip
    for p in range(b, e):
        sp = src + p * n_dst
        dp = dst + p * n_src
        ip = idx + p * n_src
        for j in range(n_src):
            k = ip[j]
            if k >= 0 and k < n_dst:
                dp[j] = sp[k]
            else:
                dp[j] = 0
                if k != -1:
                    bad = 1
    if bad:
        c.bad = 1


cdef void _scatter_task_f(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef ScatterCtx* c = <ScatterCtx*>ctx
    _scatter_impl(<float*>c.src, <float*>c.dst, c, b, e)


cdef void _scatter_task_d(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef ScatterCtx* c = <ScatterCtx*>ctx
    _scatter_impl(<double*>c.src, <double*>c.dst, c, b, e)


cdef void _gather_task_f(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef ScatterCtx* c = <ScatterCtx*>ctx
    _gather_impl(<float*>c.dst, <float*>c.src, c, b, e)


cdef void _gather_task_d(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef ScatterCtx* c = <ScatterCtx*>ctx
    _gather_impl(<double*>c.dst, <double*>c.src, c, b, e)


def max_pool_backward(grad_output, indices, index_t H, index_t W):
    """The gradient of max pooling: a zero tensor shaped grad_output.shape[:-2] + (H, W)
    with each grad_output element added at its plane's flat index (index -1 is skipped)."""
    cdef Tensor g = _float_input(grad_output, "max_pool_backward", 2)
    cdef Tensor idx = _index_input(indices, g, "max_pool_backward")
    cdef Tensor gi = _result(g, H, W, g._dtype, True)
    cdef ScatterCtx c
    c.src = g.ptr(); c.dst = gi.ptr(); c.idx = <int64_t*>idx.ptr()
    c.n_src = g._shape[g._ndim - 2] * g._shape[g._ndim - 1]
    c.n_dst = H * W
    c.bad = 0
    if g._numel == 0 or gi._numel == 0:
        if g._numel and c.n_src:
            raise IndexError("max_pool_backward: index out of range")
        return gi
    with nogil:
        parallel_for(_planes(g), _grain(c.n_src + c.n_dst),
                     _scatter_task_f if g._dtype == DT_FLOAT32 else _scatter_task_d, &c)
    if c.bad:
        raise IndexError("max_pool_backward: index out of range")
    return gi


def max_pool_gather(input, indices):
    """out[..., i, j] = input_plane[indices[..., i, j]]: the values at max-pool indices (the
    double backward of max pooling). input (..., H, W), indices (..., oH, oW) int64."""
    cdef Tensor x = _float_input(input, "max_pool_gather", 2)
    if not isinstance(indices, Tensor):
        raise TypeError("max_pool_gather: expected a Tensor of indices")
    cdef Tensor ti = <Tensor>indices
    if ti._ndim != x._ndim:
        raise ValueError("max_pool_gather: input and indices differ in dims")
    cdef int i
    for i in range(x._ndim - 2):
        if ti._shape[i] != x._shape[i]:
            raise ValueError("max_pool_gather: input and indices differ in leading dims")
    cdef Tensor out = _result(x, ti._shape[ti._ndim - 2], ti._shape[ti._ndim - 1], x._dtype, False)
    cdef Tensor idx = _index_input(indices, out, "max_pool_gather")
    cdef ScatterCtx c
    c.src = out.ptr(); c.dst = x.ptr(); c.idx = <int64_t*>idx.ptr()
    c.n_src = out._shape[out._ndim - 2] * out._shape[out._ndim - 1]
    c.n_dst = x._shape[x._ndim - 2] * x._shape[x._ndim - 1]
    c.bad = 0
    if out._numel == 0:
        return out
    with nogil:
        parallel_for(_planes(out), _grain(c.n_src),
                     _gather_task_f if x._dtype == DT_FLOAT32 else _gather_task_d, &c)
    if c.bad:
        raise IndexError("max_pool_gather: index out of range")
    return out


# ---------------------------------------------------------------------------------------
# window pooling (average, adaptive average, adaptive max): each output (oh, ow) reads the
# input rectangle [h0[oh], h1[oh]) x [w0[ow], w1[ow]); the tables are computed once per call

cdef enum:
    DIV_PRODUCT = 0       # avg_pool2d: sum / (fh * fw), or / divisor_override
    DIV_TWICE = 1         # adaptive_avg_pool2d: sum / kh / kw (PyTorch divides twice)


cdef struct WinCtx:
    char* x               # forward: input; backward: grad_input
    char* y               # forward: output; backward: grad_output
    int64_t* idx
    index_t H, W, oH, oW
    index_t* h0           # one block: h0, h1, fh (oH each), w0, w1, fw (oW each)
    index_t* h1
    index_t* fh           # the row's share of the divisor
    index_t* w0
    index_t* w1
    index_t* fw
    int div_mode
    index_t divisor       # DIV_PRODUCT: 0 none (PyTorch allows any nonzero override)


cdef int _alloc_windows(WinCtx* c) except -1:
    cdef index_t* block = <index_t*>malloc((3 * (c.oH + c.oW) + 1) * sizeof(index_t))
    if block == NULL:
        raise MemoryError()
    c.h0 = block
    c.h1 = c.h0 + c.oH
    c.fh = c.h1 + c.oH
    c.w0 = c.fh + c.oH
    c.w1 = c.w0 + c.oW
    c.fw = c.w1 + c.oW
    return 0


cdef void _avg_table(index_t* t0, index_t* t1, index_t* f, index_t n_out, index_t n_in,
                     index_t k, index_t s, index_t pad, bint count_include_pad) noexcept nogil:
    # cpu_avg_pool: the window [i*s - pad, min(+k, n + pad)) counts padding; clamped to the input
    cdef index_t i, a, b
    for i in range(n_out):
        a = i * s - pad
        b = _min(a + k, n_in + pad)
        f[i] = b - a
        a = _max(a, 0)
        b = _min(b, n_in)
        t0[i] = a
        t1[i] = b
        if not count_include_pad:
            f[i] = b - a


cdef inline index_t _start_index(index_t a, index_t b, index_t c) noexcept nogil:
    return (a // b) * c + ((a % b) * c) // b


cdef inline index_t _end_index(index_t a, index_t b, index_t c) noexcept nogil:
    return 1 + ((a + 1) * c - 1) // b


cdef void _adaptive_table(index_t* t0, index_t* t1, index_t* f, index_t n_out,
                          index_t n_in) noexcept nogil:
    # window i of n_out over n_in: [floor(i*n_in/n_out), ceil((i+1)*n_in/n_out))
    cdef index_t i
    for i in range(n_out):
        t0[i] = _start_index(i, n_out, n_in)
        t1[i] = _end_index(i, n_out, n_in)
        f[i] = t1[i] - t0[i]


cdef real_t _plane_sum(real_t* x, index_t n) noexcept nogil:
    # 8 independent partial sums (a global average pool is latency-bound with one)
    cdef real_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0
    cdef index_t i = 0
    while i + 8 <= n:
        s0 = s0 + x[i]
        s1 = s1 + x[i + 1]
        s2 = s2 + x[i + 2]
        s3 = s3 + x[i + 3]
        s4 = s4 + x[i + 4]
        s5 = s5 + x[i + 5]
        s6 = s6 + x[i + 6]
        s7 = s7 + x[i + 7]
        i += 8
    while i < n:
        s0 = s0 + x[i]
        i += 1
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


cdef void _win_avg_impl(real_t* x, real_t* y, WinCtx* c, index_t b, index_t e) noexcept nogil:
    cdef index_t H = c.H, W = c.W, oH = c.oH, oW = c.oW, divisor = c.divisor
    cdef index_t* h0 = c.h0
    cdef index_t* h1 = c.h1
    cdef index_t* fh = c.fh
    cdef index_t* w0 = c.w0
    cdef index_t* w1 = c.w1
    cdef index_t* fw = c.fw
    cdef bint twice = c.div_mode == DIV_TWICE
    cdef index_t p, oh, ow, ih, iw, a0, a1, b0, b1
    cdef real_t s
    cdef real_t* xp
    cdef real_t* yp
    cdef real_t* row
    if twice and oH == 1 and oW == 1:
        # global average pooling: one window over the whole plane
        for p in range(b, e):
            y[p] = _plane_sum(x + p * H * W, H * W) / <real_t>H / <real_t>W
        return
    for p in range(b, e):
        xp = x + p * H * W
        yp = y + p * oH * oW
        for oh in range(oH):
            a0 = h0[oh]
            a1 = h1[oh]
            for ow in range(oW):
                b0 = w0[ow]
                b1 = w1[ow]
                if a0 >= a1 or b0 >= b1:
                    yp[oh * oW + ow] = 0
                    continue
                s = 0
                for ih in range(a0, a1):
                    row = xp + ih * W
                    for iw in range(b0, b1):
                        s = s + row[iw]
                if twice:
                    yp[oh * oW + ow] = s / <real_t>fh[oh] / <real_t>fw[ow]
                elif divisor:
                    yp[oh * oW + ow] = s / <real_t>divisor
                else:
                    yp[oh * oW + ow] = s / <real_t>(fh[oh] * fw[ow])


cdef void _win_avg_back_impl(real_t* gi, real_t* g, WinCtx* c, index_t b,
                             index_t e) noexcept nogil:
    cdef index_t H = c.H, W = c.W, oH = c.oH, oW = c.oW, divisor = c.divisor
    cdef index_t* h0 = c.h0
    cdef index_t* h1 = c.h1
    cdef index_t* fh = c.fh
    cdef index_t* w0 = c.w0
    cdef index_t* w1 = c.w1
    cdef index_t* fw = c.fw
    cdef bint twice = c.div_mode == DIV_TWICE
    cdef index_t p, oh, ow, ih, iw, a0, a1, b0, b1
    cdef real_t d
    cdef real_t* gp
    cdef real_t* gip
    cdef real_t* row
    for p in range(b, e):
        gp = g + p * oH * oW
        gip = gi + p * H * W
        for oh in range(oH):
            a0 = h0[oh]
            a1 = h1[oh]
            for ow in range(oW):
                b0 = w0[ow]
                b1 = w1[ow]
                if twice:
                    d = gp[oh * oW + ow] / <real_t>fh[oh] / <real_t>fw[ow]
                elif divisor:
                    d = gp[oh * oW + ow] / <real_t>divisor
                else:
                    d = gp[oh * oW + ow] / <real_t>(fh[oh] * fw[ow])
                for ih in range(a0, a1):
                    row = gip + ih * W
                    for iw in range(b0, b1):
                        row[iw] += d


cdef extern from *:
    """
    /* Adaptive max pooling over planes [b, e) with precomputed windows; the same update as
     * max pooling (first maximum wins, NaN propagates, branch-free). */
    #define RT_DEFINE_WIN_MAX(T, NAME) \
    static void NAME(const T* x, T* y, int64_t* idx, int64_t b, int64_t e, int64_t H, \
                     int64_t W, int64_t oH, int64_t oW, const int64_t* h0, const int64_t* h1, \
                     const int64_t* w0, const int64_t* w1) { \
        for (int64_t p = b; p < e; p++) { \
            const T* xp = x + p * H * W; \
            T* yp = y + p * oH * oW; \
            int64_t* ip = idx + p * oH * oW; \
            for (int64_t oh = 0; oh < oH; oh++) { \
                for (int64_t ow = 0; ow < oW; ow++) { \
                    T m = -INFINITY; \
                    int64_t maxk = h0[oh] * W + w0[ow]; \
                    for (int64_t ih = h0[oh]; ih < h1[oh]; ih++) { \
                        const T* row = xp + ih * W; \
                        for (int64_t iw = w0[ow]; iw < w1[ow]; iw++) { \
                            T v = row[iw]; \
                            RT_MAX_UPDATE(v, ih * W + iw); \
                        } \
                    } \
                    yp[oh * oW + ow] = m; \
                    ip[oh * oW + ow] = maxk; \
                } \
            } \
        } \
    }
    RT_DEFINE_WIN_MAX(float, rt_win_max_f)
    RT_DEFINE_WIN_MAX(double, rt_win_max_d)
    """
    void rt_win_max_f(const float* x, float* y, int64_t* idx, index_t b, index_t e, index_t H,
                      index_t W, index_t oH, index_t oW, const index_t* h0, const index_t* h1,
                      const index_t* w0, const index_t* w1) noexcept nogil
    void rt_win_max_d(const double* x, double* y, int64_t* idx, index_t b, index_t e, index_t H,
                      index_t W, index_t oH, index_t oW, const index_t* h0, const index_t* h1,
                      const index_t* w0, const index_t* w1) noexcept nogil


cdef void _win_avg_task_f(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef WinCtx* c = <WinCtx*>ctx
    _win_avg_impl(<float*>c.x, <float*>c.y, c, b, e)


cdef void _win_avg_task_d(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef WinCtx* c = <WinCtx*>ctx
    _win_avg_impl(<double*>c.x, <double*>c.y, c, b, e)


cdef void _win_avg_back_task_f(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef WinCtx* c = <WinCtx*>ctx
    _win_avg_back_impl(<float*>c.x, <float*>c.y, c, b, e)


cdef void _win_avg_back_task_d(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef WinCtx* c = <WinCtx*>ctx
    _win_avg_back_impl(<double*>c.x, <double*>c.y, c, b, e)


cdef void _win_max_task_f(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef WinCtx* c = <WinCtx*>ctx
    rt_win_max_f(<float*>c.x, <float*>c.y, c.idx, b, e, c.H, c.W, c.oH, c.oW, c.h0, c.h1,
                 c.w0, c.w1)


cdef void _win_max_task_d(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef WinCtx* c = <WinCtx*>ctx
    rt_win_max_d(<double*>c.x, <double*>c.y, c.idx, b, e, c.H, c.W, c.oH, c.oW, c.h0, c.h1,
                 c.w0, c.w1)


cdef inline index_t _win_work(WinCtx* c) noexcept nogil:
    # element visits per plane, about: every output reads its window, every input is read
    cdef index_t kh = (c.H + c.oH - 1) // c.oH + 1 if c.oH > 0 else 1
    cdef index_t kw = (c.W + c.oW - 1) // c.oW + 1 if c.oW > 0 else 1
    return c.oH * c.oW * kh * kw + c.H * c.W


cdef int _avg_tables(WinCtx* c, long kH, long kW, long sH, long sW, long pH, long pW,
                     bint count_include_pad, long divisor) except -1:
    _positive("kernel_size", kH); _positive("kernel_size", kW)
    _positive("stride", sH); _positive("stride", sW)
    if pH < 0 or pW < 0:
        raise ValueError("padding must be non-negative")
    c.div_mode = DIV_PRODUCT
    c.divisor = divisor
    _alloc_windows(c)
    _avg_table(c.h0, c.h1, c.fh, c.oH, c.H, kH, sH, pH, count_include_pad)
    _avg_table(c.w0, c.w1, c.fw, c.oW, c.W, kW, sW, pW, count_include_pad)
    return 0


cdef object _run_windows(WinCtx* c, int dtype, Tensor planes_of, task_fn tf, task_fn td):
    """Split the planes over the pool, then free the tables."""
    with nogil:
        parallel_for(_planes(planes_of), _grain(_win_work(c)),
                     tf if dtype == DT_FLOAT32 else td, c)
    free(c.h0)
    return None


def avg_pool2d(input, long kH, long kW, long sH, long sW, long pH, long pW, index_t oH,
               index_t oW, bint count_include_pad=True, long divisor_override=0):
    """Average pooling over the last two dims (divisor_override 0: none)."""
    cdef Tensor x = _float_input(input, "avg_pool2d", 2)
    cdef Tensor y = _result(x, oH, oW, x._dtype, False)
    cdef WinCtx c
    c.x = x.ptr(); c.y = y.ptr(); c.idx = NULL
    c.H = x._shape[x._ndim - 2]; c.W = x._shape[x._ndim - 1]; c.oH = oH; c.oW = oW
    _avg_tables(&c, kH, kW, sH, sW, pH, pW, count_include_pad, divisor_override)
    if y._numel == 0:
        free(c.h0)
        return y
    _run_windows(&c, x._dtype, x, _win_avg_task_f, _win_avg_task_d)
    return y


def avg_pool2d_backward(grad_output, index_t H, index_t W, long kH, long kW, long sH, long sW,
                        long pH, long pW, bint count_include_pad=True, long divisor_override=0):
    """The gradient of avg_pool2d for an input whose last two dims are (H, W)."""
    cdef Tensor g = _float_input(grad_output, "avg_pool2d_backward", 2)
    cdef Tensor gi = _result(g, H, W, g._dtype, True)
    cdef WinCtx c
    c.x = gi.ptr(); c.y = g.ptr(); c.idx = NULL
    c.H = H; c.W = W; c.oH = g._shape[g._ndim - 2]; c.oW = g._shape[g._ndim - 1]
    _avg_tables(&c, kH, kW, sH, sW, pH, pW, count_include_pad, divisor_override)
    if g._numel == 0 or gi._numel == 0:
        free(c.h0)
        return gi
    _run_windows(&c, g._dtype, g, _win_avg_back_task_f, _win_avg_back_task_d)
    return gi


cdef int _adaptive_tables(WinCtx* c) except -1:
    c.div_mode = DIV_TWICE
    c.divisor = 0
    _alloc_windows(c)
    _adaptive_table(c.h0, c.h1, c.fh, c.oH, c.H)
    _adaptive_table(c.w0, c.w1, c.fw, c.oW, c.W)
    return 0


def adaptive_avg_pool2d(input, index_t oH, index_t oW):
    """Adaptive average pooling of the last two dims to (oH, oW); they must be non-empty
    when the output is."""
    cdef Tensor x = _float_input(input, "adaptive_avg_pool2d", 2)
    cdef Tensor y = _result(x, oH, oW, x._dtype, False)
    cdef WinCtx c
    c.x = x.ptr(); c.y = y.ptr(); c.idx = NULL
    c.H = x._shape[x._ndim - 2]; c.W = x._shape[x._ndim - 1]; c.oH = oH; c.oW = oW
    if y._numel == 0:
        return y
    if c.H == 0 or c.W == 0:
        raise ValueError("adaptive_avg_pool2d: empty input plane")
    _adaptive_tables(&c)
    _run_windows(&c, x._dtype, x, _win_avg_task_f, _win_avg_task_d)
    return y


def adaptive_avg_pool2d_backward(grad_output, index_t H, index_t W):
    """The gradient of adaptive_avg_pool2d for an input whose last two dims are (H, W)."""
    cdef Tensor g = _float_input(grad_output, "adaptive_avg_pool2d_backward", 2)
    cdef Tensor gi = _result(g, H, W, g._dtype, True)
    cdef WinCtx c
    c.x = gi.ptr(); c.y = g.ptr(); c.idx = NULL
    c.H = H; c.W = W; c.oH = g._shape[g._ndim - 2]; c.oW = g._shape[g._ndim - 1]
    if g._numel == 0 or gi._numel == 0:
        return gi
    _adaptive_tables(&c)
    _run_windows(&c, g._dtype, g, _win_avg_back_task_f, _win_avg_back_task_d)
    return gi


def adaptive_max_pool2d(input, index_t oH, index_t oW):
    """Adaptive max pooling of the last two dims to (oH, oW): (values, int64 indices)."""
    cdef Tensor x = _float_input(input, "adaptive_max_pool2d", 2)
    cdef Tensor y = _result(x, oH, oW, x._dtype, False)
    cdef Tensor idx = _result(x, oH, oW, DT_INT64, False)
    cdef WinCtx c
    c.x = x.ptr(); c.y = y.ptr(); c.idx = <int64_t*>idx.ptr()
    c.H = x._shape[x._ndim - 2]; c.W = x._shape[x._ndim - 1]; c.oH = oH; c.oW = oW
    if y._numel == 0:
        return y, idx
    if c.H == 0 or c.W == 0:
        raise ValueError("adaptive_max_pool2d: empty input plane")
    _adaptive_tables(&c)
    _run_windows(&c, x._dtype, x, _win_max_task_f, _win_max_task_d)
    return y, idx


# ---------------------------------------------------------------------------------------
# upsampling: per-dim index (and weight) tables, then a gather (or scatter) per plane

cdef inline float _nearest_scale(index_t in_size, index_t out_size, double scale) noexcept nogil:
    # compute_scales_value<float>: 1/scale_factor when one was given, else in/out
    if scale > 0.0:
        return <float>(1.0 / scale)
    return (<float>in_size) / (<float>out_size)


cdef void _nearest_table(int64_t* t, index_t in_size, index_t out_size, double scale,
                         bint exact) noexcept nogil:
    cdef index_t i, k
    cdef float s
    if not exact and out_size == in_size:
        for i in range(out_size):
            t[i] = i
        return
    if not exact and out_size == 2 * in_size:
        for i in range(out_size):
            t[i] = i >> 1
        return
    s = _nearest_scale(in_size, out_size, scale)
    for i in range(out_size):
        if exact:
            k = <index_t>floorf((<float>i + 0.5) * s)
        else:
            k = <index_t>floorf(<float>i * s)
        t[i] = _max(_min(k, in_size - 1), 0)


cdef struct UpCtx:
    char* x
    char* y
    index_t H, W, oH, oW
    int64_t* th0
    int64_t* th1
    int64_t* tw0
    int64_t* tw1
    void* lh0
    void* lh1
    void* lw0
    void* lw1
    bint small         # bilinear: oH + oW <= 128 (PyTorch's other summation order)


cdef void _nearest_impl(real_t* x, real_t* y, UpCtx* c, index_t b, index_t e) noexcept nogil:
    cdef index_t H = c.H, W = c.W, oH = c.oH, oW = c.oW
    cdef int64_t* th0 = c.th0
    cdef int64_t* th1 = c.th1
    cdef int64_t* tw0 = c.tw0
    cdef int64_t* tw1 = c.tw1
    cdef bint small = c.small
    cdef index_t p, oh, ow
    cdef real_t* xp
    cdef real_t* yp
    cdef real_t* row
    for p in range(b, e):
        xp = x + p * H * W
        yp = y + p * oH * oW
        for oh in range(oH):
            row = xp + th0[oh] * W
            for ow in range(oW):
                yp[oh * oW + ow] = row[tw0[ow]]


cdef void _nearest_back_impl(real_t* g, real_t* gi, UpCtx* c, index_t b, index_t e) noexcept nogil:
    cdef index_t H = c.H, W = c.W, oH = c.oH, oW = c.oW
    cdef int64_t* th0 = c.th0
    cdef int64_t* th1 = c.th1
    cdef int64_t* tw0 = c.tw0
    cdef int64_t* tw1 = c.tw1
    cdef bint small = c.small
    cdef index_t p, oh, ow
    cdef real_t* gp
    cdef real_t* gip
    cdef real_t* row
    for p in range(b, e):
        gp = g + p * oH * oW
        gip = gi + p * H * W
        for oh in range(oH):
            row = gip + th0[oh] * W
            for ow in range(oW):
                row[tw0[ow]] += gp[oh * oW + ow]


cdef void _nearest_task_f(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef UpCtx* c = <UpCtx*>ctx
    _nearest_impl(<float*>c.x, <float*>c.y, c, b, e)


cdef void _nearest_task_d(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef UpCtx* c = <UpCtx*>ctx
    _nearest_impl(<double*>c.x, <double*>c.y, c, b, e)


cdef void _nearest_back_task_f(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef UpCtx* c = <UpCtx*>ctx
    _nearest_back_impl(<float*>c.y, <float*>c.x, c, b, e)


cdef void _nearest_back_task_d(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef UpCtx* c = <UpCtx*>ctx
    _nearest_back_impl(<double*>c.y, <double*>c.x, c, b, e)


cdef int64_t* _alloc_index(index_t n) except NULL:
    cdef int64_t* p = <int64_t*>malloc((n if n > 0 else 1) * sizeof(int64_t))
    if p == NULL:
        raise MemoryError()
    return p


def upsample_nearest2d(input, index_t oH, index_t oW, double scale_h=-1.0, double scale_w=-1.0,
                       bint exact=False):
    """Nearest upsampling of the last two dims to (oH, oW). scale_*: the user's scale
    factor (> 0) or none (<= 0: in/out). ``exact``: 'nearest-exact' (pixel centres)."""
    cdef Tensor x = _float_input(input, "upsample_nearest2d", 2)
    cdef Tensor y = _result(x, oH, oW, x._dtype, False)
    cdef UpCtx c
    c.x = x.ptr(); c.y = y.ptr()
    c.H = x._shape[x._ndim - 2]; c.W = x._shape[x._ndim - 1]; c.oH = oH; c.oW = oW
    if y._numel == 0:
        return y
    if c.H == 0 or c.W == 0:
        raise ValueError("upsample_nearest2d: empty input plane")
    c.th0 = _alloc_index(oH)
    try:
        c.tw0 = _alloc_index(oW)
    except MemoryError:
        free(c.th0)
        raise
    with nogil:
        _nearest_table(c.th0, c.H, oH, scale_h, exact)
        _nearest_table(c.tw0, c.W, oW, scale_w, exact)
        parallel_for(_planes(x), _grain(oH * oW), _nearest_task_f if x._dtype == DT_FLOAT32
                     else _nearest_task_d, &c)
    free(c.th0)
    free(c.tw0)
    return y


def upsample_nearest2d_backward(grad_output, index_t H, index_t W, double scale_h=-1.0,
                                double scale_w=-1.0, bint exact=False):
    """The gradient of upsample_nearest2d for an input whose last two dims are (H, W)."""
    cdef Tensor g = _float_input(grad_output, "upsample_nearest2d_backward", 2)
    cdef Tensor gi = _result(g, H, W, g._dtype, True)
    cdef UpCtx c
    c.x = gi.ptr(); c.y = g.ptr()
    c.H = H; c.W = W; c.oH = g._shape[g._ndim - 2]; c.oW = g._shape[g._ndim - 1]
    if g._numel == 0:
        return gi
    if H == 0 or W == 0:
        raise ValueError("upsample_nearest2d_backward: empty input plane")
    c.th0 = _alloc_index(c.oH)
    try:
        c.tw0 = _alloc_index(c.oW)
    except MemoryError:
        free(c.th0)
        raise
    with nogil:
        _nearest_table(c.th0, H, c.oH, scale_h, exact)
        _nearest_table(c.tw0, W, c.oW, scale_w, exact)
        parallel_for(_planes(g), _grain(c.oH * c.oW + H * W),
                     _nearest_back_task_f if g._dtype == DT_FLOAT32 else _nearest_back_task_d, &c)
    free(c.th0)
    free(c.tw0)
    return gi


cdef void _linear_table(real_t* dummy, int64_t* t0, int64_t* t1, real_t* l0, real_t* l1,
                        index_t in_size, index_t out_size, bint align_corners,
                        double scale) noexcept nogil:
    # compute_source_index_and_lambda (UpSample.h), in the op's math type
    cdef index_t i, k
    cdef real_t ratio, src, lam
    if out_size == in_size:
        for i in range(out_size):
            t0[i] = i
            t1[i] = i
            l0[i] = 1
            l1[i] = 0
        return
    if align_corners:
        ratio = <real_t>(in_size - 1) / <real_t>(out_size - 1) if out_size > 1 else 0
    elif scale > 0.0:
        ratio = <real_t>(1.0 / scale)
    else:
        ratio = <real_t>in_size / <real_t>out_size
    for i in range(out_size):
        if align_corners:
            src = ratio * <real_t>i
        else:
            # PyTorch writes `scale * (dst_index + 0.5) - 0.5`: double literals, so this
            # is computed in double (fused) and rounded to the op's type
            src = <real_t>fma(<double>ratio, <double>i + 0.5, -0.5)
            if src < 0:
                src = 0
        k = _min(<index_t>floorf(<float>src), in_size - 1)
        k = _max(k, 0)
        lam = src - <real_t>k
        if lam < 0:
            lam = 0
        if lam > 1:
            lam = 1
        t0[i] = k
        t1[i] = k + 1 if k < in_size - 1 else k
        l1[i] = lam
        l0[i] = <real_t>1 - lam


cdef void _bilinear_impl(real_t* x, real_t* y, UpCtx* c, index_t b, index_t e) noexcept nogil:
    cdef index_t H = c.H, W = c.W, oH = c.oH, oW = c.oW
    cdef int64_t* th0 = c.th0
    cdef int64_t* th1 = c.th1
    cdef int64_t* tw0 = c.tw0
    cdef int64_t* tw1 = c.tw1
    cdef bint small = c.small
    cdef index_t p, oh, ow, w0, w1
    cdef real_t* xp
    cdef real_t* yp
    cdef real_t* r0
    cdef real_t* r1
    cdef real_t* lh0 = <real_t*>c.lh0
    cdef real_t* lh1 = <real_t*>c.lh1
    cdef real_t* lw0 = <real_t*>c.lw0
    cdef real_t* lw1 = <real_t*>c.lw1
    cdef real_t a0, a1, b0, b1
    for p in range(b, e):
        xp = x + p * H * W
        yp = y + p * oH * oW
        for oh in range(oH):
            r0 = xp + th0[oh] * W
            r1 = xp + th1[oh] * W
            a0 = lh0[oh]
            a1 = lh1[oh]
            for ow in range(oW):
                w0 = tw0[ow]
                w1 = tw1[ow]
                b0 = lw0[ow]
                b1 = lw1[ow]
                if small:
                    # PyTorch's channels-last kernel (outputs with oH + oW <= 128):
                    # x00*w00 + x01*w01 + x10*w10 + x11*w11, contracted left to right
                    yp[oh * oW + ow] = _fma(r1[w1], a1 * b1, _fma(r1[w0], a1 * b0, _fma(
                        r0[w0], a0 * b0, r0[w1] * (a0 * b1))))
                else:
                    # the generic kernel: the W interpolation inside the H one
                    yp[oh * oW + ow] = _fma(_fma(r0[w0], b0, r0[w1] * b1), a0,
                                              _fma(r1[w0], b0, r1[w1] * b1) * a1)


cdef void _bilinear_back_impl(real_t* g, real_t* gi, UpCtx* c, index_t b, index_t e) noexcept nogil:
    cdef index_t H = c.H, W = c.W, oH = c.oH, oW = c.oW
    cdef int64_t* th0 = c.th0
    cdef int64_t* th1 = c.th1
    cdef int64_t* tw0 = c.tw0
    cdef int64_t* tw1 = c.tw1
    cdef bint small = c.small
    cdef index_t p, oh, ow, w0, w1
    cdef real_t* gp
    cdef real_t* gip
    cdef real_t* r0
    cdef real_t* r1
    cdef real_t* lh0 = <real_t*>c.lh0
    cdef real_t* lh1 = <real_t*>c.lh1
    cdef real_t* lw0 = <real_t*>c.lw0
    cdef real_t* lw1 = <real_t*>c.lw1
    cdef real_t a0, a1, b0, b1, v
    for p in range(b, e):
        gp = g + p * oH * oW
        gip = gi + p * H * W
        for oh in range(oH):
            r0 = gip + th0[oh] * W
            r1 = gip + th1[oh] * W
            a0 = lh0[oh]
            a1 = lh1[oh]
            for ow in range(oW):
                w0 = tw0[ow]
                w1 = tw1[ow]
                b0 = lw0[ow]
                b1 = lw1[ow]
                v = gp[oh * oW + ow]
                r0[w0] = _fma(a0 * b0, v, r0[w0])
                r0[w1] = _fma(a0 * b1, v, r0[w1])
                r1[w0] = _fma(a1 * b0, v, r1[w0])
                r1[w1] = _fma(a1 * b1, v, r1[w1])


cdef void _bilinear_task_f(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef UpCtx* c = <UpCtx*>ctx
    _bilinear_impl(<float*>c.x, <float*>c.y, c, b, e)


cdef void _bilinear_task_d(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef UpCtx* c = <UpCtx*>ctx
    _bilinear_impl(<double*>c.x, <double*>c.y, c, b, e)


cdef void _bilinear_back_task_f(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef UpCtx* c = <UpCtx*>ctx
    _bilinear_back_impl(<float*>c.y, <float*>c.x, c, b, e)


cdef void _bilinear_back_task_d(void* ctx, index_t b, index_t e) noexcept nogil:
    cdef UpCtx* c = <UpCtx*>ctx
    _bilinear_back_impl(<double*>c.y, <double*>c.x, c, b, e)


cdef int _linear_tables(UpCtx* c, int dtype, bint align_corners, double scale_h,
                        double scale_w) except -1:
    """Allocate and fill the index and weight tables of both dims (one block)."""
    cdef index_t n = c.oH + c.oW
    cdef size_t isz = 8
    cdef char* block = <char*>malloc((2 * n + 1) * sizeof(int64_t) + (2 * n + 1) * isz)
    if block == NULL:
        raise MemoryError()
    c.th0 = <int64_t*>block
    c.th1 = c.th0 + c.oH
    c.tw0 = c.th1 + c.oH
    c.tw1 = c.tw0 + c.oW
    cdef char* w = <char*>(c.tw1 + c.oW)
    if dtype == DT_FLOAT32:
        c.lh0 = w
        c.lh1 = <float*>c.lh0 + c.oH
        c.lw0 = <float*>c.lh1 + c.oH
        c.lw1 = <float*>c.lw0 + c.oW
        _linear_table(<float*>NULL, c.th0, c.th1, <float*>c.lh0, <float*>c.lh1, c.H, c.oH,
                      align_corners, scale_h)
        _linear_table(<float*>NULL, c.tw0, c.tw1, <float*>c.lw0, <float*>c.lw1, c.W, c.oW,
                      align_corners, scale_w)
    else:
        c.lh0 = w
        c.lh1 = <double*>c.lh0 + c.oH
        c.lw0 = <double*>c.lh1 + c.oH
        c.lw1 = <double*>c.lw0 + c.oW
        _linear_table(<double*>NULL, c.th0, c.th1, <double*>c.lh0, <double*>c.lh1, c.H, c.oH,
                      align_corners, scale_h)
        _linear_table(<double*>NULL, c.tw0, c.tw1, <double*>c.lw0, <double*>c.lw1, c.W, c.oW,
                      align_corners, scale_w)
    return 0


def upsample_bilinear2d(input, index_t oH, index_t oW, bint align_corners=False,
                        double scale_h=-1.0, double scale_w=-1.0):
    """Bilinear upsampling of the last two dims to (oH, oW), PyTorch's source-index formula
    (align_corners or pixel centres; scale_*: the user's scale factor, <= 0 for none)."""
    cdef Tensor x = _float_input(input, "upsample_bilinear2d", 2)
    cdef Tensor y = _result(x, oH, oW, x._dtype, False)
    cdef UpCtx c
    c.x = x.ptr(); c.y = y.ptr()
    c.H = x._shape[x._ndim - 2]; c.W = x._shape[x._ndim - 1]; c.oH = oH; c.oW = oW
    if y._numel == 0:
        return y
    if c.H == 0 or c.W == 0:
        raise ValueError("upsample_bilinear2d: empty input plane")
    c.small = oH + oW <= 128
    _linear_tables(&c, x._dtype, align_corners, scale_h, scale_w)
    with nogil:
        parallel_for(_planes(x), _grain(4 * oH * oW), _bilinear_task_f if x._dtype == DT_FLOAT32
                     else _bilinear_task_d, &c)
    free(c.th0)
    return y


def upsample_bilinear2d_backward(grad_output, index_t H, index_t W, bint align_corners=False,
                                 double scale_h=-1.0, double scale_w=-1.0):
    """The gradient of upsample_bilinear2d for an input whose last two dims are (H, W)."""
    cdef Tensor g = _float_input(grad_output, "upsample_bilinear2d_backward", 2)
    cdef Tensor gi = _result(g, H, W, g._dtype, True)
    cdef UpCtx c
    c.x = gi.ptr(); c.y = g.ptr()
    c.H = H; c.W = W; c.oH = g._shape[g._ndim - 2]; c.oW = g._shape[g._ndim - 1]
    if g._numel == 0:
        return gi
    if H == 0 or W == 0:
        raise ValueError("upsample_bilinear2d_backward: empty input plane")
    _linear_tables(&c, g._dtype, align_corners, scale_h, scale_w)
    with nogil:
        parallel_for(_planes(g), _grain(4 * c.oH * c.oW + H * W),
                     _bilinear_back_task_f if g._dtype == DT_FLOAT32 else _bilinear_back_task_d,
                     &c)
    free(c.th0)
    return gi
