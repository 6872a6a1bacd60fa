/* SIMD max/min for float32/float64 reductions (_reduce.pyx). gcc does not vectorise a
 * NaN-propagating max written in C (x > a ? x : a is not MAX_EXPR without -ffast-math), so
 * the contiguous loops use SSE2 directly: per lane a = isnan(v) ? v : max(v, a); a NaN lane
 * stays NaN because maxps returns its second operand when either is NaN. Other targets get
 * the scalar loop. */
#ifndef RT_REDUCE_SIMD_H
#define RT_REDUCE_SIMD_H
#include <stdint.h>
#include <math.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* acc[0] = max/min(acc[0], x[0..n)) with NaN propagation */
static inline float rt_row_maxmin_f32(const float *x, int64_t n, float acc, int is_max) {
    int64_t i = 0;
#if defined(__SSE2__)
    if (n >= 16) {
        __m128 a0 = _mm_set1_ps(acc), a1 = a0, a2 = a0, a3 = a0;
        __m128 f = _mm_setzero_ps();
        if (is_max) {
            for (; i + 16 <= n; i += 16) {
                __m128 v0 = _mm_loadu_ps(x + i), v1 = _mm_loadu_ps(x + i + 4);
                __m128 v2 = _mm_loadu_ps(x + i + 8), v3 = _mm_loadu_ps(x + i + 12);
                a0 = _mm_max_ps(v0, a0); a1 = _mm_max_ps(v1, a1);
                a2 = _mm_max_ps(v2, a2); a3 = _mm_max_ps(v3, a3);
                f = _mm_or_ps(f, _mm_or_ps(_mm_or_ps(_mm_cmpunord_ps(v0, v0), _mm_cmpunord_ps(v1, v1)),
                                           _mm_or_ps(_mm_cmpunord_ps(v2, v2), _mm_cmpunord_ps(v3, v3))));
            }
            a0 = _mm_max_ps(a0, a1); a2 = _mm_max_ps(a2, a3); a0 = _mm_max_ps(a0, a2);
        } else {
            for (; i + 16 <= n; i += 16) {
                __m128 v0 = _mm_loadu_ps(x + i), v1 = _mm_loadu_ps(x + i + 4);
                __m128 v2 = _mm_loadu_ps(x + i + 8), v3 = _mm_loadu_ps(x + i + 12);
                a0 = _mm_min_ps(v0, a0); a1 = _mm_min_ps(v1, a1);
                a2 = _mm_min_ps(v2, a2); a3 = _mm_min_ps(v3, a3);
                f = _mm_or_ps(f, _mm_or_ps(_mm_or_ps(_mm_cmpunord_ps(v0, v0), _mm_cmpunord_ps(v1, v1)),
                                           _mm_or_ps(_mm_cmpunord_ps(v2, v2), _mm_cmpunord_ps(v3, v3))));
            }
            a0 = _mm_min_ps(a0, a1); a2 = _mm_min_ps(a2, a3); a0 = _mm_min_ps(a0, a2);
        }
        float r[4];
        _mm_storeu_ps(r, a0);
        if (_mm_movemask_ps(f) || acc != acc) return NAN;
        for (int k = 0; k < 4; k++) {
            if (is_max ? r[k] > acc : r[k] < acc) acc = r[k];
        }
    }
#endif
    for (; i < n; i++) {
        float v = x[i];
        if (v != v) return v;
        if (is_max ? v > acc : v < acc) acc = v;
    }
    return acc;
}

static inline double rt_row_maxmin_f64(const double *x, int64_t n, double acc, int is_max) {
    int64_t i = 0;
#if defined(__SSE2__)
    if (n >= 8) {
        __m128d a0 = _mm_set1_pd(acc), a1 = a0, a2 = a0, a3 = a0;
        __m128d f = _mm_setzero_pd();
        if (is_max) {
            for (; i + 8 <= n; i += 8) {
                __m128d v0 = _mm_loadu_pd(x + i), v1 = _mm_loadu_pd(x + i + 2);
                __m128d v2 = _mm_loadu_pd(x + i + 4), v3 = _mm_loadu_pd(x + i + 6);
                a0 = _mm_max_pd(v0, a0); a1 = _mm_max_pd(v1, a1);
                a2 = _mm_max_pd(v2, a2); a3 = _mm_max_pd(v3, a3);
                f = _mm_or_pd(f, _mm_or_pd(_mm_or_pd(_mm_cmpunord_pd(v0, v0), _mm_cmpunord_pd(v1, v1)),
                                           _mm_or_pd(_mm_cmpunord_pd(v2, v2), _mm_cmpunord_pd(v3, v3))));
            }
            a0 = _mm_max_pd(a0, a1); a2 = _mm_max_pd(a2, a3); a0 = _mm_max_pd(a0, a2);
        } else {
            for (; i + 8 <= n; i += 8) {
                __m128d v0 = _mm_loadu_pd(x + i), v1 = _mm_loadu_pd(x + i + 2);
                __m128d v2 = _mm_loadu_pd(x + i + 4), v3 = _mm_loadu_pd(x + i + 6);
                a0 = _mm_min_pd(v0, a0); a1 = _mm_min_pd(v1, a1);
                a2 = _mm_min_pd(v2, a2); a3 = _mm_min_pd(v3, a3);
                f = _mm_or_pd(f, _mm_or_pd(_mm_or_pd(_mm_cmpunord_pd(v0, v0), _mm_cmpunord_pd(v1, v1)),
                                           _mm_or_pd(_mm_cmpunord_pd(v2, v2), _mm_cmpunord_pd(v3, v3))));
            }
            a0 = _mm_min_pd(a0, a1); a2 = _mm_min_pd(a2, a3); a0 = _mm_min_pd(a0, a2);
        }
        double r[2];
        _mm_storeu_pd(r, a0);
        if (_mm_movemask_pd(f) || acc != acc) return NAN;
        for (int k = 0; k < 2; k++) {
            if (is_max ? r[k] > acc : r[k] < acc) acc = r[k];
        }
    }
#endif
    for (; i < n; i++) {
        double v = x[i];
        if (v != v) return v;
        if (is_max ? v > acc : v < acc) acc = v;
    }
    return acc;
}

/* a[i] = max/min(a[i], x[i]) for i < n, NaN propagating */
static inline void rt_col_maxmin_f32(const float *x, int64_t n, float *a, int is_max) {
    int64_t i = 0;
#if defined(__SSE2__)
    for (; i + 4 <= n; i += 4) {
        __m128 v = _mm_loadu_ps(x + i), w = _mm_loadu_ps(a + i);
        __m128 m = is_max ? _mm_max_ps(v, w) : _mm_min_ps(v, w);
        __m128 nan = _mm_cmpunord_ps(v, v);
        _mm_storeu_ps(a + i, _mm_or_ps(_mm_and_ps(nan, v), _mm_andnot_ps(nan, m)));
    }
#endif
    for (; i < n; i++) {
        float v = x[i];
        if (v != v || (is_max ? v > a[i] : v < a[i])) a[i] = v;
    }
}

static inline void rt_col_maxmin_f64(const double *x, int64_t n, double *a, int is_max) {
    int64_t i = 0;
#if defined(__SSE2__)
    for (; i + 2 <= n; i += 2) {
        __m128d v = _mm_loadu_pd(x + i), w = _mm_loadu_pd(a + i);
        __m128d m = is_max ? _mm_max_pd(v, w) : _mm_min_pd(v, w);
        __m128d nan = _mm_cmpunord_pd(v, v);
        _mm_storeu_pd(a + i, _mm_or_pd(_mm_and_pd(nan, v), _mm_andnot_pd(nan, m)));
    }
#endif
    for (; i < n; i++) {
        double v = x[i];
        if (v != v || (is_max ? v > a[i] : v < a[i])) a[i] = v;
    }
}
/* four rows x0 + k*rs (bytes) into a[i], one pass over the accumulators */
static inline void rt_col4_maxmin_f32(const char *p, int64_t n, int64_t rs, float *a, int is_max) {
    const float *x0 = (const float *)p, *x1 = (const float *)(p + rs);
    const float *x2 = (const float *)(p + 2 * rs), *x3 = (const float *)(p + 3 * rs);
    int64_t i = 0;
#if defined(__SSE2__)
    const __m128 qnan = _mm_set1_ps(NAN);
    for (; i + 4 <= n; i += 4) {
        __m128 v0 = _mm_loadu_ps(x0 + i), v1 = _mm_loadu_ps(x1 + i);
        __m128 v2 = _mm_loadu_ps(x2 + i), v3 = _mm_loadu_ps(x3 + i), w = _mm_loadu_ps(a + i);
        __m128 m = is_max ? _mm_max_ps(_mm_max_ps(v0, v1), _mm_max_ps(v2, v3))
                          : _mm_min_ps(_mm_min_ps(v0, v1), _mm_min_ps(v2, v3));
        m = is_max ? _mm_max_ps(m, w) : _mm_min_ps(m, w);
        __m128 nan = _mm_or_ps(_mm_or_ps(_mm_cmpunord_ps(v0, v0), _mm_cmpunord_ps(v1, v1)),
                               _mm_or_ps(_mm_cmpunord_ps(v2, v2), _mm_cmpunord_ps(v3, v3)));
        _mm_storeu_ps(a + i, _mm_or_ps(_mm_and_ps(nan, qnan), _mm_andnot_ps(nan, m)));
    }
#endif
    if (i < n) {
        rt_col_maxmin_f32(x0 + i, n - i, a + i, is_max);
        rt_col_maxmin_f32(x1 + i, n - i, a + i, is_max);
        rt_col_maxmin_f32(x2 + i, n - i, a + i, is_max);
        rt_col_maxmin_f32(x3 + i, n - i, a + i, is_max);
    }
}

static inline void rt_col4_maxmin_f64(const char *p, int64_t n, int64_t rs, double *a, int is_max) {
    const double *x0 = (const double *)p, *x1 = (const double *)(p + rs);
    const double *x2 = (const double *)(p + 2 * rs), *x3 = (const double *)(p + 3 * rs);
    int64_t i = 0;
#if defined(__SSE2__)
    const __m128d qnan = _mm_set1_pd(NAN);
    for (; i + 2 <= n; i += 2) {
        __m128d v0 = _mm_loadu_pd(x0 + i), v1 = _mm_loadu_pd(x1 + i);
        __m128d v2 = _mm_loadu_pd(x2 + i), v3 = _mm_loadu_pd(x3 + i), w = _mm_loadu_pd(a + i);
        __m128d m = is_max ? _mm_max_pd(_mm_max_pd(v0, v1), _mm_max_pd(v2, v3))
                           : _mm_min_pd(_mm_min_pd(v0, v1), _mm_min_pd(v2, v3));
        m = is_max ? _mm_max_pd(m, w) : _mm_min_pd(m, w);
        __m128d nan = _mm_or_pd(_mm_or_pd(_mm_cmpunord_pd(v0, v0), _mm_cmpunord_pd(v1, v1)),
                                _mm_or_pd(_mm_cmpunord_pd(v2, v2), _mm_cmpunord_pd(v3, v3)));
        _mm_storeu_pd(a + i, _mm_or_pd(_mm_and_pd(nan, qnan), _mm_andnot_pd(nan, m)));
    }
#endif
    if (i < n) {
        rt_col_maxmin_f64(x0 + i, n - i, a + i, is_max);
        rt_col_maxmin_f64(x1 + i, n - i, a + i, is_max);
        rt_col_maxmin_f64(x2 + i, n - i, a + i, is_max);
        rt_col_maxmin_f64(x3 + i, n - i, a + i, is_max);
    }
}
/* Sum of a contiguous float32 row, for sum/mean (the 4096x4096 benchmark's hot loop).
 * Cascade summation (as PyTorch's cascade_sum): blocks of 2048 elements are summed in 32
 * float32 lanes, which the compiler turns into AVX-512/AVX2/SSE accumulators, and the block
 * sums are added in float64. Each float32 lane adds only 64 values, so over 1e7 elements the
 * result stays within about 1e-7 relative of a float64 sum. Compiled once per instruction
 * set (RT_MULTIVERSION_MEM, rt_vmath.h), chosen at load time. */
#include "rt_vmath.h"
#define RT_SUM_LANES 32
#define RT_SUM_BLOCK 2048
RT_MULTIVERSION_MEM double rt_row_sum_f32(const float *x, int64_t n) {
    double total = 0.0;
    int64_t i = 0;
    for (; i + RT_SUM_BLOCK <= n; i += RT_SUM_BLOCK) {
        float lanes[RT_SUM_LANES] = {0};
        for (int64_t j = 0; j < RT_SUM_BLOCK; j += RT_SUM_LANES)
            for (int k = 0; k < RT_SUM_LANES; k++) lanes[k] += x[i + j + k];
        double block = 0.0;
        for (int k = 0; k < RT_SUM_LANES; k++) block += lanes[k];
        total += block;
    }
    if (n - i >= RT_SUM_LANES) {
        /* the rest of the row in lanes too (a row shorter than a block used to be summed
         * one element at a time through one double dependency chain: 20x slower) */
        float lanes[RT_SUM_LANES] = {0};
        for (; i + RT_SUM_LANES <= n; i += RT_SUM_LANES)
            for (int k = 0; k < RT_SUM_LANES; k++) lanes[k] += x[i + k];
        double block = 0.0;
        for (int k = 0; k < RT_SUM_LANES; k++) block += lanes[k];
        total += block;
    }
    for (; i < n; i++) total += x[i];
    return total;
}
#endif
