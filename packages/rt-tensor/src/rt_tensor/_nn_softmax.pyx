# cython: language_level=3
"""Kernels for rt_nn's softmax family and cross-entropy (private: not in rt_tensor.__all__).

- ``softmax_forward(x, dim, log)`` / ``softmax_backward(grad, y, dim, log)``: softmax or
  log-softmax over one dimension of a float32/float64 tensor, seen as [outer, C, inner];
  numerically stable (the maximum is subtracted first), threads over rows (inner == 1) or
  over blocks of columns (inner > 1) with ``parallel_for``.
- ``cross_entropy_forward`` / ``cross_entropy_backward``: log-softmax and the negative
  log-likelihood of class indices in one pass (PyTorch's ``cross_entropy`` with ``weight``,
  ``ignore_index`` and ``label_smoothing``), saving only the per-sample log-sum-exp.
- ``nll_loss_forward`` / ``nll_loss_backward``: PyTorch's ``nll_loss`` on log-probabilities.

Layouts: the loss kernels take the input as [N, C, *rest] (ndim >= 2) and the target as int64
[N, *rest]; reductions are 0 none, 1 mean, 2 sum (PyTorch's enum). The functional layer
(rt_nn) gives PyTorch's error messages; these entry points only refuse what could crash.

The inner loops are C (below): float32 uses rt_vmath's vectorisable exp and is compiled per
instruction set (RT_MULTIVERSION); sums use several accumulators so that they vectorise
without -ffast-math.
"""
include "build_stamp.pxi"

from libc.math cimport log
from libc.string cimport memset
from rt_tensor._types cimport *
from rt_tensor._tensor cimport Tensor, new_tensor, contiguous_tensor
from rt_tensor._parallel cimport parallel_for, GRAIN_ELEMENTWISE

__all__ = []
TENSOR_METHODS = {}

cdef extern from * nogil:
    """
    #include <math.h>
    #include <stdint.h>
    #include "rt_vmath.h"
    #include "rt_reduce_simd.h"

    #define RT_NNSM_BLOCK 64          /* columns per block when inner > 1 */

    /* exp(x) for the x <= 0 (or NaN) that softmax produces (x - max, logp): Cephes' expf
     * polynomial (rt_vmath.h) without the overflow and subnormal paths, so 1.5x faster;
     * within 1.4 ulp, results below FLT_MIN flush to 0 (as PyTorch's softmax exp does) */
    static inline float rt_nnsm_exp_f32(float x) {
        const float log2e = 1.44269504088896341f, ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;
        float xc = x < -87.3365402f ? -87.3365402f : x;
        float n = __builtin_rintf(xc * log2e);
        float r = xc - n * ln2_hi;
        r = r - n * ln2_lo;
        float p = 1.9875691500e-4f;
        p = p * r + 1.3981999507e-3f;
        p = p * r + 8.3334519073e-3f;
        p = p * r + 4.1665795894e-2f;
        p = p * r + 1.6666665459e-1f;
        p = p * r + 5.0000001201e-1f;
        p = p * r * r + r + 1.0f;
        float y = p * rt_vm_bits2f((uint32_t)((int32_t)n + 127) << 23);
        return x < -87.3365402f ? 0.0f : y;
    }
    static inline double rt_nnsm_exp_f64(double x) { return exp(x); }
    /* one log per row: libm; per column in a block: rt_vmath's vectorisable logf */
    static inline float rt_nnsm_log_f32(float x) { return logf(x); }
    static inline double rt_nnsm_log_f64(double x) { return log(x); }
    static inline float rt_nnsm_vlog_f32(float x) { return rt_logf(x); }
    static inline double rt_nnsm_vlog_f64(double x) { return log(x); }
    static inline float rt_nnsm_rowmax_f32(const float *x, int64_t n) {
        return rt_row_maxmin_f32(x, n, -INFINITY, 1);
    }
    static inline double rt_nnsm_rowmax_f64(const double *x, int64_t n) {
        return rt_row_maxmin_f64(x, n, -INFINITY, 1);
    }

    #define RT_NNSM_DEFINE(T, S, ACC) \\
    /* sum(exp(x - m)) over a row; stores the exponentials into y when y != NULL */ \\
    static inline T rt_nnsm_sumexp_##S(const T *restrict x, T *restrict y, int64_t n, T m) { \\
        T acc[ACC]; \\
        int64_t i = 0; \\
        for (int k = 0; k < ACC; k++) acc[k] = 0; \\
        if (y) { \\
            for (; i + ACC <= n; i += ACC) \\
                for (int k = 0; k < ACC; k++) { \\
                    T e = rt_nnsm_exp_##S(x[i + k] - m); y[i + k] = e; acc[k] += e; \\
                } \\
        } else { \\
            for (; i + ACC <= n; i += ACC) \\
                for (int k = 0; k < ACC; k++) acc[k] += rt_nnsm_exp_##S(x[i + k] - m); \\
        } \\
        T s = 0; \\
        for (int k = 0; k < ACC; k++) s += acc[k]; \\
        for (; i < n; i++) { \\
            T e = rt_nnsm_exp_##S(x[i] - m); \\
            if (y) y[i] = e; \\
            s += e; \\
        } \\
        return s; \\
    } \\
    /* sum(a[i] * b[i]) (b == NULL: sum(a[i])) */ \\
    static inline T rt_nnsm_dot_##S(const T *restrict a, const T *restrict b, int64_t n) { \\
        T acc[ACC]; \\
        int64_t i = 0; \\
        for (int k = 0; k < ACC; k++) acc[k] = 0; \\
        if (b) { \\
            for (; i + ACC <= n; i += ACC) \\
                for (int k = 0; k < ACC; k++) acc[k] += a[i + k] * b[i + k]; \\
        } else { \\
            for (; i + ACC <= n; i += ACC) \\
                for (int k = 0; k < ACC; k++) acc[k] += a[i + k]; \\
        } \\
        T s = 0; \\
        for (int k = 0; k < ACC; k++) s += acc[k]; \\
        for (; i < n; i++) s += b ? a[i] * b[i] : a[i]; \\
        return s; \\
    } \\
    /* sum((x[i] - m) * w[i]) (w == NULL: sum(x[i] - m)) */ \\
    static inline T rt_nnsm_wdiff_##S(const T *restrict x, const T *restrict w, int64_t n, \\
        T m) { \\
        T acc[ACC]; \\
        int64_t i = 0; \\
        for (int k = 0; k < ACC; k++) acc[k] = 0; \\
        if (w) { \\
            for (; i + ACC <= n; i += ACC) \\
                for (int k = 0; k < ACC; k++) acc[k] += (x[i + k] - m) * w[i + k]; \\
        } else { \\
            for (; i + ACC <= n; i += ACC) \\
                for (int k = 0; k < ACC; k++) acc[k] += x[i + k] - m; \\
        } \\
        T s = 0; \\
        for (int k = 0; k < ACC; k++) s += acc[k]; \\
        for (; i < n; i++) s += w ? (x[i] - m) * w[i] : x[i] - m; \\
        return s; \\
    } \\
    /* softmax / log-softmax of `rows` contiguous rows of length n */ \\
    RT_MULTIVERSION void rt_nnsm_fwd_rows_##S(const T *restrict x, T *restrict y, int64_t rows, \\
        int64_t n, int logm) { \\
        for (int64_t r = 0; r < rows; r++) { \\
            const T *xr = x + r * n; \\
            T *yr = y + r * n; \\
            T m = rt_nnsm_rowmax_##S(xr, n); \\
            if (logm) { \\
                T ls = rt_nnsm_log_##S(rt_nnsm_sumexp_##S(xr, NULL, n, m)); \\
                for (int64_t i = 0; i < n; i++) yr[i] = (xr[i] - m) - ls; \\
            } else { \\
                T inv = (T)1 / rt_nnsm_sumexp_##S(xr, yr, n, m); \\
                for (int64_t i = 0; i < n; i++) yr[i] *= inv; \\
            } \\
        } \\
    } \\
    /* softmax: gx = y * (g - sum(g * y)); log-softmax: gx = g - exp(y) * sum(g) */ \\
    RT_MULTIVERSION void rt_nnsm_bwd_rows_##S(const T *restrict g, const T *restrict y, \\
        T *restrict gx, int64_t rows, int64_t n, int logm) { \\
        for (int64_t r = 0; r < rows; r++) { \\
            const T *gr = g + r * n, *yr = y + r * n; \\
            T *o = gx + r * n; \\
            if (logm) { \\
                T s = rt_nnsm_dot_##S(gr, NULL, n); \\
                for (int64_t i = 0; i < n; i++) o[i] = gr[i] - rt_nnsm_exp_##S(yr[i]) * s; \\
            } else { \\
                T s = rt_nnsm_dot_##S(gr, yr, n); \\
                for (int64_t i = 0; i < n; i++) o[i] = yr[i] * (gr[i] - s); \\
            } \\
        } \\
    } \\
    /* per column j < bw: max over the C classes (stride inner) and log(sum exp) */ \\
    static inline void rt_nnsm_col_stats_##S(const T *restrict x, int64_t C, int64_t inner, \\
        int64_t bw, T *restrict mx, T *restrict ls) { \\
        for (int64_t j = 0; j < bw; j++) mx[j] = x[j]; \\
        for (int64_t c = 1; c < C; c++) rt_col_maxmin_##S(x + c * inner, bw, mx, 1); \\
        for (int64_t j = 0; j < bw; j++) ls[j] = 0; \\
        for (int64_t c = 0; c < C; c++) { \\
            const T *xc = x + c * inner; \\
            for (int64_t j = 0; j < bw; j++) ls[j] += rt_nnsm_exp_##S(xc[j] - mx[j]); \\
        } \\
        for (int64_t j = 0; j < bw; j++) ls[j] = rt_nnsm_vlog_##S(ls[j]); \\
    } \\
    /* one [C, bw] block with class stride `inner` */ \\
    RT_MULTIVERSION void rt_nnsm_fwd_cols_##S(const T *restrict x, T *restrict y, int64_t C, \\
        int64_t inner, int64_t bw, int logm) { \\
        T mx[RT_NNSM_BLOCK], sm[RT_NNSM_BLOCK]; \\
        for (int64_t j = 0; j < bw; j++) mx[j] = x[j]; \\
        for (int64_t c = 1; c < C; c++) rt_col_maxmin_##S(x + c * inner, bw, mx, 1); \\
        for (int64_t j = 0; j < bw; j++) sm[j] = 0; \\
        if (logm) { \\
            for (int64_t c = 0; c < C; c++) { \\
                const T *xc = x + c * inner; \\
                for (int64_t j = 0; j < bw; j++) sm[j] += rt_nnsm_exp_##S(xc[j] - mx[j]); \\
            } \\
            for (int64_t j = 0; j < bw; j++) sm[j] = rt_nnsm_vlog_##S(sm[j]); \\
            for (int64_t c = 0; c < C; c++) { \\
                const T *xc = x + c * inner; \\
                T *yc = y + c * inner; \\
                for (int64_t j = 0; j < bw; j++) yc[j] = (xc[j] - mx[j]) - sm[j]; \\
            } \\
            return; \\
        } \\
        for (int64_t c = 0; c < C; c++) { \\
            const T *xc = x + c * inner; \\
            T *yc = y + c * inner; \\
            for (int64_t j = 0; j < bw; j++) { \\
                T e = rt_nnsm_exp_##S(xc[j] - mx[j]); yc[j] = e; sm[j] += e; \\
            } \\
        } \\
        for (int64_t j = 0; j < bw; j++) sm[j] = (T)1 / sm[j]; \\
        for (int64_t c = 0; c < C; c++) { \\
            T *yc = y + c * inner; \\
            for (int64_t j = 0; j < bw; j++) yc[j] *= sm[j]; \\
        } \\
    } \\
    RT_MULTIVERSION void rt_nnsm_bwd_cols_##S(const T *restrict g, const T *restrict y, \\
        T *restrict gx, int64_t C, int64_t inner, int64_t bw, int logm) { \\
        T sm[RT_NNSM_BLOCK]; \\
        for (int64_t j = 0; j < bw; j++) sm[j] = 0; \\
        for (int64_t c = 0; c < C; c++) { \\
            const T *gc = g + c * inner, *yc = y + c * inner; \\
            if (logm) for (int64_t j = 0; j < bw; j++) sm[j] += gc[j]; \\
            else for (int64_t j = 0; j < bw; j++) sm[j] += gc[j] * yc[j]; \\
        } \\
        for (int64_t c = 0; c < C; c++) { \\
            const T *gc = g + c * inner, *yc = y + c * inner; \\
            T *oc = gx + c * inner; \\
            if (logm) \\
                for (int64_t j = 0; j < bw; j++) oc[j] = gc[j] - rt_nnsm_exp_##S(yc[j]) * sm[j]; \\
            else \\
                for (int64_t j = 0; j < bw; j++) oc[j] = yc[j] * (gc[j] - sm[j]); \\
        } \\
    } \\
    /* cross-entropy of contiguous rows: loss[r] (0 where ignored), and the row's max smx[r] \\
     * and log(sum(exp(x - max))) sls[r] for the backward (log-softmax = (x - smx) - sls) */ \\
    RT_MULTIVERSION void rt_nnce_fwd_rows_##S(const T *restrict x, const int64_t *restrict t, \\
        const T *restrict w, T *restrict loss, T *restrict smx, T *restrict sls, int64_t rows, \\
        int64_t C, int64_t ignore, T eps) { \\
        T W = 0; \\
        if (eps > 0) W = w ? rt_nnsm_dot_##S(w, NULL, C) : (T)C; \\
        for (int64_t r = 0; r < rows; r++) { \\
            int64_t tr = t[r]; \\
            if (tr == ignore) { loss[r] = 0; smx[r] = 0; sls[r] = 0; continue; } \\
            const T *xr = x + r * C; \\
            T m = rt_nnsm_rowmax_##S(xr, C); \\
            T ls = rt_nnsm_log_##S(rt_nnsm_sumexp_##S(xr, NULL, C, m)); \\
            smx[r] = m; \\
            sls[r] = ls; \\
            T l = -((xr[tr] - m) - ls) * (w ? w[tr] : (T)1); \\
            if (eps > 0) { /* sum_c w_c logp_c = sum_c w_c (x_c - m) - ls W: no cancellation */ \\
                T sm = rt_nnsm_wdiff_##S(xr, w, C, m) - ls * W; \\
                l = ((T)1 - eps) * l + (eps / (T)C) * (-sm); \\
            } \\
            loss[r] = l; \\
        } \\
    } \\
    /* one [C, bw] block of sample n (class stride inner); t, loss, smx, sls at column j0 */ \\
    RT_MULTIVERSION void rt_nnce_fwd_cols_##S(const T *restrict x, const int64_t *restrict t, \\
        const T *restrict w, T *restrict loss, T *restrict smx, T *restrict sls, int64_t C, \\
        int64_t inner, int64_t bw, int64_t ignore, T eps) { \\
        T mx[RT_NNSM_BLOCK], ls[RT_NNSM_BLOCK], sm[RT_NNSM_BLOCK]; \\
        rt_nnsm_col_stats_##S(x, C, inner, bw, mx, ls); \\
        if (eps > 0) { \\
            for (int64_t j = 0; j < bw; j++) sm[j] = 0; \\
            for (int64_t c = 0; c < C; c++) { \\
                const T *xc = x + c * inner; \\
                T wc = w ? w[c] : (T)1; \\
                for (int64_t j = 0; j < bw; j++) sm[j] += ((xc[j] - mx[j]) - ls[j]) * wc; \\
            } \\
        } \\
        for (int64_t j = 0; j < bw; j++) { \\
            int64_t tj = t[j]; \\
            if (tj == ignore) { loss[j] = 0; smx[j] = 0; sls[j] = 0; continue; } \\
            smx[j] = mx[j]; \\
            sls[j] = ls[j]; \\
            T l = -((x[tj * inner + j] - mx[j]) - ls[j]) * (w ? w[tj] : (T)1); \\
            if (eps > 0) l = ((T)1 - eps) * l + (eps / (T)C) * (-sm[j]); \\
            loss[j] = l; \\
        } \\
    } \\
    /* gx = gs * (p * (k1 w_t + k2 W) - k1 w_t [c == t] - k2 w_c), p = exp((x - smx) - sls) */ \\
    RT_MULTIVERSION void rt_nnce_bwd_rows_##S(const T *restrict x, const int64_t *restrict t, \\
        const T *restrict w, const T *restrict smx, const T *restrict sls, \\
        const T *restrict gs, int64_t gs_step, T *restrict gx, int64_t rows, int64_t C, \\
        int64_t ignore, T k1, T k2, T W) { \\
        for (int64_t r = 0; r < rows; r++) { \\
            int64_t tr = t[r]; \\
            T *o = gx + r * C; \\
            if (tr == ignore) { for (int64_t c = 0; c < C; c++) o[c] = 0; continue; } \\
            const T *xr = x + r * C; \\
            T g = gs[r * gs_step], m = smx[r], l = sls[r]; \\
            T wt = w ? w[tr] : (T)1; \\
            T a = g * (k1 * wt + k2 * W); \\
            for (int64_t c = 0; c < C; c++) o[c] = rt_nnsm_exp_##S((xr[c] - m) - l) * a; \\
            if (k2 != 0) { \\
                T b = g * k2; \\
                if (w) for (int64_t c = 0; c < C; c++) o[c] -= b * w[c]; \\
                else for (int64_t c = 0; c < C; c++) o[c] -= b; \\
            } \\
            o[tr] -= g * k1 * wt; \\
        } \\
    } \\
    RT_MULTIVERSION void rt_nnce_bwd_cols_##S(const T *restrict x, const int64_t *restrict t, \\
        const T *restrict w, const T *restrict smx, const T *restrict sls, \\
        const T *restrict gs, int64_t gs_step, T *restrict gx, int64_t C, int64_t inner, \\
        int64_t bw, int64_t ignore, T k1, T k2, T W) { \\
        T a[RT_NNSM_BLOCK], g[RT_NNSM_BLOCK], m[RT_NNSM_BLOCK], l[RT_NNSM_BLOCK]; \\
        for (int64_t j = 0; j < bw; j++) { \\
            int64_t tj = t[j]; \\
            int ign = tj == ignore; \\
            g[j] = ign ? (T)0 : gs[j * gs_step]; \\
            m[j] = smx[j]; \\
            l[j] = sls[j]; \\
            a[j] = ign ? (T)0 : g[j] * (k1 * (w ? w[tj] : (T)1) + k2 * W); \\
        } \\
        for (int64_t c = 0; c < C; c++) { \\
            const T *xc = x + c * inner; \\
            T *oc = gx + c * inner; \\
            T b = k2 * (w ? w[c] : (T)1); \\
            for (int64_t j = 0; j < bw; j++) \\
                oc[j] = rt_nnsm_exp_##S((xc[j] - m[j]) - l[j]) * a[j] - g[j] * b; \\
        } \\
        for (int64_t j = 0; j < bw; j++) { \\
            int64_t tj = t[j]; \\
            if (tj != ignore) gx[tj * inner + j] -= g[j] * k1 * (w ? w[tj] : (T)1); \\
        } \\
    }

    RT_NNSM_DEFINE(float, f32, 16)
    RT_NNSM_DEFINE(double, f64, 8)
    """
    enum: RT_NNSM_BLOCK
    void rt_nnsm_fwd_rows_f32(const float* x, float* y, int64_t rows, int64_t n, int logm)
    void rt_nnsm_fwd_rows_f64(const double* x, double* y, int64_t rows, int64_t n, int logm)
    void rt_nnsm_bwd_rows_f32(const float* g, const float* y, float* gx, int64_t rows,
                              int64_t n, int logm)
    void rt_nnsm_bwd_rows_f64(const double* g, const double* y, double* gx, int64_t rows,
                              int64_t n, int logm)
    void rt_nnsm_fwd_cols_f32(const float* x, float* y, int64_t C, int64_t inner, int64_t bw,
                              int logm)
    void rt_nnsm_fwd_cols_f64(const double* x, double* y, int64_t C, int64_t inner, int64_t bw,
                              int logm)
    void rt_nnsm_bwd_cols_f32(const float* g, const float* y, float* gx, int64_t C,
                              int64_t inner, int64_t bw, int logm)
    void rt_nnsm_bwd_cols_f64(const double* g, const double* y, double* gx, int64_t C,
                              int64_t inner, int64_t bw, int logm)
    void rt_nnce_fwd_rows_f32(const float* x, const int64_t* t, const float* w, float* loss,
                              float* smx, float* sls, int64_t rows, int64_t C, int64_t ignore,
                              float eps)
    void rt_nnce_fwd_rows_f64(const double* x, const int64_t* t, const double* w, double* loss,
                              double* smx, double* sls, int64_t rows, int64_t C, int64_t ignore,
                              double eps)
    void rt_nnce_fwd_cols_f32(const float* x, const int64_t* t, const float* w, float* loss,
                              float* smx, float* sls, int64_t C, int64_t inner, int64_t bw,
                              int64_t ignore, float eps)
    void rt_nnce_fwd_cols_f64(const double* x, const int64_t* t, const double* w, double* loss,
                              double* smx, double* sls, int64_t C, int64_t inner, int64_t bw,
                              int64_t ignore, double eps)
    void rt_nnce_bwd_rows_f32(const float* x, const int64_t* t, const float* w, const float* smx,
                              const float* sls, const float* gs, int64_t gs_step, float* gx,
                              int64_t rows, int64_t C, int64_t ignore, float k1, float k2, float W)
    void rt_nnce_bwd_rows_f64(const double* x, const int64_t* t, const double* w,
                              const double* smx, const double* sls, const double* gs,
                              int64_t gs_step, double* gx, int64_t rows, int64_t C,
                              int64_t ignore, double k1, double k2, double W)
    void rt_nnce_bwd_cols_f32(const float* x, const int64_t* t, const float* w, const float* smx,
                              const float* sls, const float* gs, int64_t gs_step, float* gx,
                              int64_t C, int64_t inner, int64_t bw, int64_t ignore, float k1,
                              float k2, float W)
    void rt_nnce_bwd_cols_f64(const double* x, const int64_t* t, const double* w,
                              const double* smx, const double* sls, const double* gs,
                              int64_t gs_step, double* gx, int64_t C, int64_t inner, int64_t bw,
                              int64_t ignore, double k1, double k2, double W)


# ---------------------------------------------------------------------------------------------
# the split over the thread pool: one context per call, tasks over rows or (outer, block) units

cdef enum Kind:
    K_SM_FWD = 0
    K_SM_BWD = 1
    K_CE_FWD = 2
    K_CE_BWD = 3


cdef struct Ctx:
    int kind
    bint f64
    int logm
    index_t C
    index_t inner
    index_t nblocks
    char* a          # x (fwd) or grad (softmax bwd)
    char* b          # y (softmax bwd)
    char* out        # y / gx / ce loss
    char* lse        # ce: per-sample row max (fwd out, bwd in)
    char* lse2       # ce: per-sample log(sum(exp(x - max)))
    const int64_t* t
    char* w          # class weights or NULL
    char* gs         # ce bwd: grad scale per sample (gs_step 1) or one value (gs_step 0)
    index_t gs_step
    index_t ignore
    double eps
    double k1
    double k2
    double W


cdef void _task(void* vctx, index_t begin, index_t end) noexcept nogil:
    cdef Ctx* c = <Ctx*>vctx
    cdef index_t u, o, j0, bw, base, s
    cdef index_t C = c.C, inner = c.inner
    if inner == 1:                      # rows [begin, end): contiguous rows of C classes
        _block(c, begin * C, begin, end - begin, 0)
        return
    for u in range(begin, end):         # (o, block of RT_NNSM_BLOCK columns) units
        o = u // c.nblocks
        j0 = (u - o * c.nblocks) * RT_NNSM_BLOCK
        bw = inner - j0
        if bw > RT_NNSM_BLOCK:
            bw = RT_NNSM_BLOCK
        _block(c, o * C * inner + j0, o * inner + j0, 0, bw)


cdef inline void _block(Ctx* c, index_t base, index_t s, index_t rows, index_t bw) noexcept nogil:
    """One call of a kernel: ``rows`` contiguous rows (bw == 0) or one [C, bw] column block;
    ``base`` is the element offset of its first input element, ``s`` of its first sample."""
    cdef index_t C = c.C, inner = c.inner
    # (pointers a call does not use are NULL in the context: no arithmetic on them)
    cdef const int64_t* t = c.t + s if c.t != NULL else NULL
    cdef int kind = c.kind
    cdef double *ad, *bd, *od, *wd, *md, *ld, *gd
    cdef float *af, *bf, *of_, *wf, *mf, *lf, *gf
    if c.f64:
        ad = <double*>c.a + base
        bd = <double*>c.b + base if c.b != NULL else NULL
        od = <double*>c.out + base
        wd = <double*>c.w
        md = <double*>c.lse + s if c.lse != NULL else NULL
        ld = <double*>c.lse2 + s if c.lse2 != NULL else NULL
        gd = <double*>c.gs + s * c.gs_step if c.gs != NULL else NULL
        if kind == K_SM_FWD:
            if bw == 0:
                rt_nnsm_fwd_rows_f64(ad, od, rows, C, c.logm)
            else:
                rt_nnsm_fwd_cols_f64(ad, od, C, inner, bw, c.logm)
        elif kind == K_SM_BWD:
            if bw == 0:
                rt_nnsm_bwd_rows_f64(ad, bd, od, rows, C, c.logm)
            else:
                rt_nnsm_bwd_cols_f64(ad, bd, od, C, inner, bw, c.logm)
        elif kind == K_CE_FWD:
            od = <double*>c.out + s                 # the per-sample loss
            if bw == 0:
                rt_nnce_fwd_rows_f64(ad, t, wd, od, md, ld, rows, C, c.ignore, c.eps)
            else:
                rt_nnce_fwd_cols_f64(ad, t, wd, od, md, ld, C, inner, bw, c.ignore, c.eps)
        else:
            if bw == 0:
                rt_nnce_bwd_rows_f64(ad, t, wd, md, ld, gd, c.gs_step, od, rows, C, c.ignore,
                                     c.k1, c.k2, c.W)
            else:
                rt_nnce_bwd_cols_f64(ad, t, wd, md, ld, gd, c.gs_step, od, C, inner, bw,
                                     c.ignore, c.k1, c.k2, c.W)
        return
    af = <float*>c.a + base
    bf = <float*>c.b + base if c.b != NULL else NULL
    of_ = <float*>c.out + base
    wf = <float*>c.w
    mf = <float*>c.lse + s if c.lse != NULL else NULL
    lf = <float*>c.lse2 + s if c.lse2 != NULL else NULL
    gf = <float*>c.gs + s * c.gs_step if c.gs != NULL else NULL
    if kind == K_SM_FWD:
        if bw == 0:
            rt_nnsm_fwd_rows_f32(af, of_, rows, C, c.logm)
        else:
            rt_nnsm_fwd_cols_f32(af, of_, C, inner, bw, c.logm)
    elif kind == K_SM_BWD:
        if bw == 0:
            rt_nnsm_bwd_rows_f32(af, bf, of_, rows, C, c.logm)
        else:
            rt_nnsm_bwd_cols_f32(af, bf, of_, C, inner, bw, c.logm)
    elif kind == K_CE_FWD:
        of_ = <float*>c.out + s
        if bw == 0:
            rt_nnce_fwd_rows_f32(af, t, wf, of_, mf, lf, rows, C, c.ignore, <float>c.eps)
        else:
            rt_nnce_fwd_cols_f32(af, t, wf, of_, mf, lf, C, inner, bw, c.ignore, <float>c.eps)
    else:
        if bw == 0:
            rt_nnce_bwd_rows_f32(af, t, wf, mf, lf, gf, c.gs_step, of_, rows, C, c.ignore,
                                 <float>c.k1, <float>c.k2, <float>c.W)
        else:
            rt_nnce_bwd_cols_f32(af, t, wf, mf, lf, gf, c.gs_step, of_, C, inner, bw, c.ignore,
                                 <float>c.k1, <float>c.k2, <float>c.W)


cdef void _run(Ctx* c, index_t outer) noexcept nogil:
    """Splits [outer, C, inner] over the pool: rows when inner == 1, else (outer, block)."""
    cdef index_t units, per_unit, grain
    if c.inner == 1:
        units = outer
        per_unit = c.C
    else:
        c.nblocks = (c.inner + RT_NNSM_BLOCK - 1) // RT_NNSM_BLOCK
        units = outer * c.nblocks
        per_unit = c.C * RT_NNSM_BLOCK
    if units <= 0:
        return
    if per_unit < 1:
        per_unit = 1
    grain = GRAIN_ELEMENTWISE // per_unit
    if grain < 1:
        grain = 1
    if units <= grain:
        _task(c, 0, units)
    else:
        parallel_for(units, grain, _task, c)


# ---------------------------------------------------------------------------------------------
# argument checks (the functional layer gives PyTorch's messages; these keep the process safe)

cdef inline int _float_code(Tensor t, str what) except -1:
    if t._dtype != DT_FLOAT32 and t._dtype != DT_FLOAT64:
        raise TypeError(f"{what}: expected a float32 or float64 tensor, got {t.dtype}")
    return t._dtype


cdef inline void _split(Tensor t, int dim, index_t* outer, index_t* C, index_t* inner) noexcept:
    cdef int i
    outer[0] = 1
    inner[0] = 1
    for i in range(dim):
        outer[0] *= t._shape[i]
    for i in range(dim + 1, t._ndim):
        inner[0] *= t._shape[i]
    C[0] = t._shape[dim] if t._ndim > 0 else 1


cdef inline int _check_dim(Tensor t, int dim) except -1:
    cdef int nd = t._ndim if t._ndim > 0 else 1
    if dim < 0 or dim >= nd:
        raise IndexError(f"dim {dim} out of range for a tensor with {t._ndim} dimensions")
    return 0


cdef inline int _same_shape(Tensor a, Tensor b, str what) except -1:
    cdef int i
    if a._ndim != b._ndim:
        raise RuntimeError(f"{what}: shapes {tuple(a.shape)} and {tuple(b.shape)} differ")
    for i in range(a._ndim):
        if a._shape[i] != b._shape[i]:
            raise RuntimeError(f"{what}: shapes {tuple(a.shape)} and {tuple(b.shape)} differ")
    return 0


def softmax_forward(Tensor x not None, int dim, bint log=False):
    """Softmax (``log=False``) or log-softmax of a float32/float64 tensor over ``dim``
    (0 <= dim < max(ndim, 1)). Returns a new contiguous tensor."""
    _float_code(x, "softmax")
    _check_dim(x, dim)
    x = contiguous_tensor(x)
    cdef Tensor y = new_tensor(x._dtype, x._ndim, x._shape, False)
    cdef Ctx c
    memset(&c, 0, sizeof(Ctx))
    cdef index_t outer
    if x._numel == 0:
        return y
    _split(x, dim, &outer, &c.C, &c.inner)
    c.kind = K_SM_FWD
    c.f64 = x._dtype == DT_FLOAT64
    c.logm = log
    c.a = x.ptr()
    c.out = y.ptr()
    with nogil:
        _run(&c, outer)
    return y


def softmax_backward(Tensor grad not None, Tensor y not None, int dim, bint log=False):
    """The gradient of softmax (``y * (grad - sum(grad * y))``) or of log-softmax
    (``grad - exp(y) * sum(grad)``) over ``dim``, given the forward result ``y``."""
    _float_code(y, "softmax_backward")
    if grad._dtype != y._dtype:
        raise TypeError(f"softmax_backward: grad dtype {grad.dtype} != output dtype {y.dtype}")
    _same_shape(grad, y, "softmax_backward")
    _check_dim(y, dim)
    grad = contiguous_tensor(grad)
    y = contiguous_tensor(y)
    cdef Tensor gx = new_tensor(y._dtype, y._ndim, y._shape, False)
    cdef Ctx c
    memset(&c, 0, sizeof(Ctx))
    cdef index_t outer
    if y._numel == 0:
        return gx
    _split(y, dim, &outer, &c.C, &c.inner)
    c.kind = K_SM_BWD
    c.f64 = y._dtype == DT_FLOAT64
    c.logm = log
    c.a = grad.ptr()
    c.b = y.ptr()
    c.out = gx.ptr()
    with nogil:
        _run(&c, outer)
    return gx


# ---------------------------------------------------------------------------------------------
# losses over class indices

cdef inline int _check_loss_args(Tensor x, Tensor target, object weight, index_t* N,
                                 index_t* C, index_t* inner) except -1:
    cdef int i
    cdef Tensor w
    _float_code(x, "nll")
    if x._ndim < 2:
        raise RuntimeError(f"expected input of at least 2 dimensions [N, C, ...], got "
                           f"{tuple(x.shape)}")
    if target._dtype != DT_INT64:
        raise TypeError(f"expected an int64 target, got {target.dtype}")
    N[0] = x._shape[0]
    C[0] = x._shape[1]
    inner[0] = 1
    for i in range(2, x._ndim):
        inner[0] *= x._shape[i]
    if target._numel != N[0] * inner[0]:
        raise RuntimeError(f"target {tuple(target.shape)} does not match input {tuple(x.shape)}")
    if weight is not None:
        w = <Tensor?>weight
        if w._dtype != x._dtype or w._numel != C[0]:
            raise RuntimeError(f"weight must be a {x.dtype} tensor of {C[0]} elements, got "
                               f"{w.dtype} {tuple(w.shape)}")
    return 0


cdef double _validate_targets(const int64_t* t, index_t n, index_t C, index_t ignore,
                              Tensor w, int f64) except? -1.0:
    """Raises PyTorch's IndexError for an out-of-range class; returns the total weight of the
    samples that are not ignored (their count without weights)."""
    cdef index_t i, bad = -1
    cdef int64_t tv
    cdef double tw = 0
    cdef bint has_w = w is not None
    cdef const float* wf = NULL
    cdef const double* wd = NULL
    if has_w:
        if f64:
            wd = <const double*>w.ptr()
        else:
            wf = <const float*>w.ptr()
    with nogil:
        for i in range(n):
            tv = t[i]
            if tv == ignore:
                continue
            if tv < 0 or tv >= C:
                bad = i
                break
            if has_w:
                tw += wd[tv] if f64 else wf[tv]
            else:
                tw += 1
    if bad >= 0:
        raise IndexError(f"Target {t[bad]} is out of bounds.")
    return tw


cdef Tensor _scalar_like(int dt, double v):
    cdef Tensor r = new_tensor(dt, 0, NULL, False)
    if dt == DT_FLOAT64:
        (<double*>r.ptr())[0] = v
    else:
        (<float*>r.ptr())[0] = <float>v
    return r


cdef double _sum_values(Tensor t) noexcept:
    cdef index_t i, n = t._numel
    cdef double s = 0
    cdef const float* pf
    cdef const double* pd
    with nogil:
        if t._dtype == DT_FLOAT64:
            pd = <const double*>t.ptr()
            for i in range(n):
                s += pd[i]
        else:
            pf = <const float*>t.ptr()
            for i in range(n):
                s += pf[i]
    return s


cdef Tensor _reduce(Tensor per_sample, int reduction, double total_weight):
    if reduction == 0:
        return per_sample
    cdef double s = _sum_values(per_sample)
    if reduction == 1:
        if per_sample._numel == 0:
            s = float("nan")
        else:
            s = s / total_weight          # C division: 0/0 is NaN as in PyTorch
    return _scalar_like(per_sample._dtype, s)


def cross_entropy_forward(Tensor x not None, Tensor target not None, weight,
                          int64_t ignore_index, double label_smoothing, int reduction):
    """Fused log-softmax + NLL over dim 1 of ``x`` [N, C, *rest] with int64 class indices
    ``target`` [N, *rest] (PyTorch's cross_entropy for class indices). Returns
    ``(loss, stats, total_weight)``: ``loss`` has the target's shape for reduction 0, else
    0-d; ``stats`` [2, *target.shape] (each sample's row maximum and log-sum-exp of the
    shifted row) is saved for the backward."""
    cdef index_t N, C, inner
    _check_loss_args(x, target, weight, &N, &C, &inner)
    x = contiguous_tensor(x)
    target = contiguous_tensor(target)
    cdef Tensor w = None if weight is None else contiguous_tensor(<Tensor>weight)
    cdef int f64 = x._dtype == DT_FLOAT64
    cdef double tw = _validate_targets(<const int64_t*>target.ptr(), target._numel, C,
                                       ignore_index, w, f64)
    cdef Tensor loss = new_tensor(x._dtype, target._ndim, target._shape, False)
    cdef index_t sshape[MAX_DIMS]
    cdef int i
    if target._ndim + 1 > MAX_DIMS:
        raise RuntimeError("cross_entropy: too many dimensions")
    sshape[0] = 2
    for i in range(target._ndim):
        sshape[i + 1] = target._shape[i]
    # per sample: [0] the row maximum, [1] log(sum(exp(x - max))); log-softmax = (x - [0]) - [1]
    cdef Tensor lse = new_tensor(x._dtype, target._ndim + 1, sshape, False)
    cdef Ctx c
    memset(&c, 0, sizeof(Ctx))
    if target._numel > 0 and C > 0:
        c.kind = K_CE_FWD
        c.f64 = f64
        c.C = C
        c.inner = inner
        c.a = x.ptr()
        c.t = <const int64_t*>target.ptr()
        c.w = NULL if w is None else w.ptr()
        c.out = loss.ptr()
        c.lse = lse.ptr()
        c.lse2 = lse.ptr() + target._numel * (8 if f64 else 4)
        c.ignore = ignore_index
        c.eps = label_smoothing
        with nogil:
            _run(&c, N)
    elif target._numel > 0:
        memset(loss.ptr(), 0, loss._numel * (8 if f64 else 4))
        memset(lse.ptr(), 0, lse._numel * (8 if f64 else 4))
    return _reduce(loss, reduction, tw), lse, tw


cdef double _weight_total(Tensor w, index_t C):
    if w is None:
        return <double>C
    return _sum_values(w)


def cross_entropy_backward(Tensor grad not None, Tensor x not None, Tensor target not None,
                           weight, Tensor lse not None, int64_t ignore_index,
                           double label_smoothing, int reduction, double total_weight):
    """The gradient of ``cross_entropy_forward`` with respect to ``x``: ``grad`` has the
    target's shape for reduction 0 and one element otherwise."""
    cdef index_t N, C, inner
    _check_loss_args(x, target, weight, &N, &C, &inner)
    if grad._dtype != x._dtype or lse._dtype != x._dtype:
        raise TypeError("cross_entropy_backward: grad, lse and input must have one dtype")
    if lse._numel != 2 * target._numel:
        raise RuntimeError("cross_entropy_backward: lse does not match the target")
    if reduction == 0:
        if grad._numel != target._numel:
            raise RuntimeError(f"cross_entropy_backward: grad {tuple(grad.shape)} does not match "
                               f"target {tuple(target.shape)}")
    elif grad._numel != 1:
        raise RuntimeError("cross_entropy_backward: expected a single element grad")
    x = contiguous_tensor(x)
    target = contiguous_tensor(target)
    lse = contiguous_tensor(lse)
    grad = contiguous_tensor(grad)
    cdef Tensor w = None if weight is None else contiguous_tensor(<Tensor>weight)
    cdef int f64 = x._dtype == DT_FLOAT64
    cdef Tensor gx = new_tensor(x._dtype, x._ndim, x._shape, False)
    cdef Tensor gs = grad
    cdef double gv
    cdef Ctx c
    memset(&c, 0, sizeof(Ctx))
    if x._numel == 0:
        return gx
    if reduction != 0:
        gv = (<double*>grad.ptr())[0] if f64 else (<float*>grad.ptr())[0]
        if reduction == 1:
            gv = gv / total_weight
        gs = _scalar_like(x._dtype, gv)
    _validate_targets(<const int64_t*>target.ptr(), target._numel, C, ignore_index, None, f64)
    c.kind = K_CE_BWD
    c.f64 = f64
    c.C = C
    c.inner = inner
    c.a = x.ptr()
    c.t = <const int64_t*>target.ptr()
    c.w = NULL if w is None else w.ptr()
    c.lse = lse.ptr()
    c.lse2 = lse.ptr() + target._numel * (8 if f64 else 4)
    c.gs = gs.ptr()
    c.gs_step = 1 if reduction == 0 else 0
    c.out = gx.ptr()
    c.ignore = ignore_index
    c.k1 = 1.0 - label_smoothing
    c.k2 = label_smoothing / C if label_smoothing > 0 else 0.0
    c.W = _weight_total(w, C) if label_smoothing > 0 else 0.0
    with nogil:
        _run(&c, N)
    return gx


def nll_loss_forward(Tensor x not None, Tensor target not None, weight, int64_t ignore_index,
                     int reduction):
    """PyTorch's nll_loss over dim 1 of log-probabilities ``x`` [N, C, *rest] with int64
    targets [N, *rest]. Returns ``(loss, total_weight)``."""
    cdef index_t N, C, inner
    _check_loss_args(x, target, weight, &N, &C, &inner)
    x = contiguous_tensor(x)
    target = contiguous_tensor(target)
    cdef Tensor w = None if weight is None else contiguous_tensor(<Tensor>weight)
    cdef int f64 = x._dtype == DT_FLOAT64
    cdef double tw = _validate_targets(<const int64_t*>target.ptr(), target._numel, C,
                                       ignore_index, w, f64)
    cdef Tensor loss = new_tensor(x._dtype, target._ndim, target._shape, False)
    cdef const int64_t* t = <const int64_t*>target.ptr()
    cdef index_t n, j, s, tv
    cdef double wt
    cdef const double* xd = <const double*>x.ptr()
    cdef const float* xf = <const float*>x.ptr()
    cdef double* wd = NULL if w is None else <double*>w.ptr()
    cdef float* wf = NULL if w is None else <float*>w.ptr()
    cdef double* ld = <double*>loss.ptr()
    cdef float* lf = <float*>loss.ptr()
    with nogil:
        for n in range(N):
            for j in range(inner):
                s = n * inner + j
                tv = t[s]
                if tv == ignore_index:
                    if f64:
                        ld[s] = 0
                    else:
                        lf[s] = 0
                    continue
                if f64:
                    wt = 1.0 if wd == NULL else wd[tv]
                    ld[s] = -xd[(n * C + tv) * inner + j] * wt
                else:
                    lf[s] = -xf[(n * C + tv) * inner + j] * (1.0 if wf == NULL else wf[tv])
    return _reduce(loss, reduction, tw), tw


def nll_loss_backward(Tensor grad not None, Tensor x not None, Tensor target not None, weight,
                      int64_t ignore_index, int reduction, double total_weight):
    """The gradient of ``nll_loss_forward`` with respect to ``x`` (only ``x``'s shape and dtype
    are used)."""
    cdef index_t N, C, inner
    _check_loss_args(x, target, weight, &N, &C, &inner)
    if grad._dtype != x._dtype:
        raise TypeError("nll_loss_backward: grad and input must have one dtype")
    if reduction == 0:
        if grad._numel != target._numel:
            raise RuntimeError(f"nll_loss_backward: grad {tuple(grad.shape)} does not match "
                               f"target {tuple(target.shape)}")
    elif grad._numel != 1:
        raise RuntimeError("nll_loss_backward: expected a single element grad")
    target = contiguous_tensor(target)
    grad = contiguous_tensor(grad)
    cdef Tensor w = None if weight is None else contiguous_tensor(<Tensor>weight)
    cdef int f64 = x._dtype == DT_FLOAT64
    _validate_targets(<const int64_t*>target.ptr(), target._numel, C, ignore_index, None, f64)
    cdef Tensor gx = new_tensor(x._dtype, x._ndim, x._shape, True)
    cdef const int64_t* t = <const int64_t*>target.ptr()
    cdef index_t n, j, s, tv
    cdef double gv = 0, g, wt
    cdef double* wd = NULL if w is None else <double*>w.ptr()
    cdef float* wf = NULL if w is None else <float*>w.ptr()
    cdef const double* gd = <const double*>grad.ptr()
    cdef const float* gf = <const float*>grad.ptr()
    cdef double* od = <double*>gx.ptr()
    cdef float* of = <float*>gx.ptr()
    if x._numel == 0:
        return gx
    if reduction != 0:
        gv = gd[0] if f64 else gf[0]
        if reduction == 1:
            gv = gv / total_weight
    with nogil:
        for n in range(N):
            for j in range(inner):
                s = n * inner + j
                tv = t[s]
                if tv == ignore_index:
                    continue
                if reduction == 0:
                    g = gd[s] if f64 else gf[s]
                else:
                    g = gv
                if f64:
                    wt = 1.0 if wd == NULL else wd[tv]
                    od[(n * C + tv) * inner + j] = -wt * g
                else:
                    wt = 1.0 if wf == NULL else wf[tv]
                    of[(n * C + tv) * inner + j] = <float>(-wt * g)
    return gx
