# cython: language_level=3
"""Fused time loops of RNN/LSTM/GRU layers (private; rt_nn's recurrent layers call them).

Each entry point runs ONE layer and direction over the whole sequence: per time step one
recurrent product and one fused gate loop, with no Python in the loop. The input projections
of all steps are computed before the call (one large GEMM by the caller), so ``xg[t]``
already holds ``W_ih x_t + b_ih (+ b_hh)``.

- Recurrent product: float32 packs W_hh once per call into column panels and runs a
  register-blocked FMA kernel (AVX-512F or AVX2, chosen at run time) every step: BLAS would
  repack the same weights on every call (~25% of a 32x128x512 product). Other widths,
  float64 and other CPUs use BLAS (scipy-openblas32, the library rt_tensor._linalg loads).
- Gate loops: vectorised exp/tanh built on rt_vmath.h's polynomials for float32 (one clone
  per instruction set), libm for float64.
- Threads: batch rows are independent recurrences that share the weights, so the threads
  split the batch once for the whole sequence (``parallel_for`` over row blocks, each block
  runs every step): no synchronisation per step.

Layouts (all C-contiguous, float32 or float64, one dtype):
  xg (T, B, G) gates in; on return the activated gates (LSTM i f g o, GRU r z n)
  w_hh (G, H); h0, c0 (B, H); out (T, B, H): the hidden state after each step, in time
  order (a reverse layer walks t = T-1 .. 0). Backward entry points take the saved tensors
  and the incoming gradients and write gradients of the gate pre-activations; the caller
  turns those into weight and input gradients with large GEMMs.
"""
include "build_stamp.pxi"


from libc.string cimport memcpy, memset
from rt_tensor._types cimport *
from rt_tensor._tensor cimport Tensor, new_tensor
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

from rt_tensor._linalg cimport blas_gemm

cdef extern from *:
    """
    #include <math.h>
    #include "rt_vmath.h"

    /* Gate loops over `rows` batch rows. float32: vectorisable exp/tanh (below), one clone
     * per instruction set; float64: libm. T is the element type, SIG/TANH its functions. Each
     * row is an inline function with restrict operands (one per gate), which gcc vectorises. */
    static inline double rt_nn_sigmoid_d(double x) { return 1.0 / (1.0 + exp(-x)); }

    /* float32 exp for the gates: rt_vmath's Cephes polynomial on an argument clamped to
     * [-87, 88], so 2**n is one normal scale factor (no subnormal results: sigmoid and tanh
     * saturate long before); ~15% faster than rt_expf, the same values in that range. */
    static inline float rt_nn_expf(float x) {
        const float log2e = 1.44269504088896341f;
        const float ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;
        float xc = x > 88.0f ? 88.0f : x;
        xc = xc < -87.0f ? -87.0f : xc;
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
        return p * rt_vm_bits2f((uint32_t)((int32_t)n + 127) << 23);
    }
    static inline float rt_nn_sigmoidf(float x) {
        float y = 1.0f / (1.0f + rt_nn_expf(-x));
        return x != x ? x : y;
    }
    /* rt_tanhf with rt_nn_expf: odd polynomial below 0.625, else 1 - 2/(exp(2|x|) + 1) */
    static inline float rt_nn_tanhf(float x) {
        float ax = x < 0 ? -x : x;
        float z = x * x;
        float p = -5.70498872745e-3f;
        p = p * z + 2.06390887954e-2f;
        p = p * z - 5.37397155531e-2f;
        p = p * z + 1.33314422036e-1f;
        p = p * z - 3.33332819422e-1f;
        float small = p * z * x + x;
        float e = rt_nn_expf(2.0f * (ax > 9.0f ? 9.0f : ax));
        float big = 1.0f - 2.0f / (e + 1.0f);
        big = ax > 9.0f ? 1.0f : big;
        big = x < 0 ? -big : big;
        float r = ax < 0.625f ? small : big;
        return x != x ? x : r;
    }

    #define RT_NN_RNN_KERNELS(SFX, T, SIG, TANH, MV)                                          \\
    static inline void rt_nn_lstm_fw_row_##SFX(T *restrict gi, T *restrict gf, T *restrict gg, \\
            T *restrict go, const T *restrict cp, T *restrict c, T *restrict h, int64_t H) {  \\
        for (int64_t j = 0; j < H; j++) {                                                     \\
            T i = SIG(gi[j]), f = SIG(gf[j]), gv = TANH(gg[j]), o = SIG(go[j]);               \\
            T cv = f * cp[j] + i * gv;                                                        \\
            gi[j] = i; gf[j] = f; gg[j] = gv; go[j] = o;                                      \\
            c[j] = cv; h[j] = o * TANH(cv);                                                   \\
        }                                                                                     \\
    }                                                                                         \\
    /* LSTM forward: g (rows x 4H) pre-activations in, activated gates out */                 \\
    MV void rt_nn_lstm_fw_##SFX(T *g, const T *cp, T *c, T *h, int64_t rows, int64_t H) {     \\
        for (int64_t r = 0; r < rows; r++) {                                                  \\
            T *gr = g + r * 4 * H;                                                            \\
            rt_nn_lstm_fw_row_##SFX(gr, gr + H, gr + 2 * H, gr + 3 * H, cp + r * H, c + r * H, \\
                                    h + r * H, H);                                            \\
        }                                                                                     \\
    }                                                                                         \\
    static inline void rt_nn_lstm_bw_row_##SFX(const T *restrict gi, const T *restrict gf,    \\
            const T *restrict gg, const T *restrict go, const T *restrict c, const T *restrict cp, \\
            const T *restrict gout, const T *restrict dhr, T *restrict dc, T *restrict di,    \\
            T *restrict df, T *restrict dgg, T *restrict dgo, int64_t H) {                    \\
        for (int64_t j = 0; j < H; j++) {                                                     \\
            T i = gi[j], f = gf[j], gv = gg[j], o = go[j];                                    \\
            T tc = TANH(c[j]);                                                                \\
            T dh = gout[j] + dhr[j];                                                          \\
            T dcv = dc[j] + dh * o * (1 - tc * tc);                                           \\
            di[j] = dcv * gv * i * (1 - i);                                                   \\
            df[j] = dcv * cp[j] * f * (1 - f);                                                \\
            dgg[j] = dcv * i * (1 - gv * gv);                                                 \\
            dgo[j] = dh * tc * o * (1 - o);                                                   \\
            dc[j] = dcv * f;                                                                  \\
        }                                                                                     \\
    }                                                                                         \\
    /* LSTM backward of one step: dh = gout + dhr (the gradient reaching h_t); dc in: from step \\
     * t+1, out: to c_{t-1}; dg: gradients of the 4 pre-activations */                        \\
    MV void rt_nn_lstm_bw_##SFX(const T *g, const T *c, const T *cp, const T *gout,           \\
                                const T *dhr, T *dc, T *dg, int64_t rows, int64_t H) {        \\
        for (int64_t r = 0; r < rows; r++) {                                                  \\
            const T *gr = g + r * 4 * H;                                                      \\
            T *dgr = dg + r * 4 * H;                                                          \\
            rt_nn_lstm_bw_row_##SFX(gr, gr + H, gr + 2 * H, gr + 3 * H, c + r * H, cp + r * H, \\
                                    gout + r * H, dhr + r * H, dc + r * H, dgr, dgr + H,      \\
                                    dgr + 2 * H, dgr + 3 * H, H);                             \\
        }                                                                                     \\
    }                                                                                         \\
    static inline void rt_nn_gru_fw_row_##SFX(T *restrict xr, T *restrict xz, T *restrict xn, \\
            const T *restrict hr, const T *restrict hz, const T *restrict hnn,                \\
            const T *restrict hp, T *restrict h, T *restrict hns, int64_t H) {                \\
        for (int64_t j = 0; j < H; j++) {                                                     \\
            T rv = SIG(xr[j] + hr[j]), zv = SIG(xz[j] + hz[j]);                               \\
            T hnv = hnn[j];                                                                   \\
            T nv = TANH(xn[j] + rv * hnv);                                                    \\
            xr[j] = rv; xz[j] = zv; xn[j] = nv; hns[j] = hnv;                                 \\
            h[j] = (hp[j] - nv) * zv + nv;                                                    \\
        }                                                                                     \\
    }                                                                                         \\
    /* GRU forward: xg (rows x 3H) input parts in, r z n out; hg (rows x 3H) recurrent parts  \\
     * (W_hh h + b_hh); hn saves hg's n part for the backward */                              \\
    MV void rt_nn_gru_fw_##SFX(T *xg, const T *hg, const T *hp, T *h, T *hn,                  \\
                               int64_t rows, int64_t H) {                                     \\
        for (int64_t r = 0; r < rows; r++) {                                                  \\
            T *x = xg + r * 3 * H;                                                            \\
            const T *y = hg + r * 3 * H;                                                      \\
            rt_nn_gru_fw_row_##SFX(x, x + H, x + 2 * H, y, y + H, y + 2 * H, hp + r * H, h + r * H, \\
                                   hn + r * H, H);                                            \\
        }                                                                                     \\
    }                                                                                         \\
    static inline void rt_nn_gru_bw_row_##SFX(const T *restrict gr, const T *restrict gz,     \\
            const T *restrict gn, const T *restrict hn, const T *restrict hp,                 \\
            const T *restrict gout, T *restrict dhr, T *restrict ir, T *restrict iz,          \\
            T *restrict in_, T *restrict hr, T *restrict hz, T *restrict hnn, int64_t H) {    \\
        for (int64_t j = 0; j < H; j++) {                                                     \\
            T rv = gr[j], zv = gz[j], nv = gn[j];                                             \\
            T dh = gout[j] + dhr[j];                                                          \\
            T dn = dh * (1 - zv) * (1 - nv * nv);                                             \\
            T dz = dh * (hp[j] - nv) * zv * (1 - zv);                                         \\
            T dr = dn * hn[j] * rv * (1 - rv);                                                \\
            ir[j] = dr; iz[j] = dz; in_[j] = dn;                                              \\
            hr[j] = dr; hz[j] = dz; hnn[j] = dn * rv;                                         \\
            dhr[j] = dh * zv;                                                                 \\
        }                                                                                     \\
    }                                                                                         \\
    /* GRU backward of one step: dh = gout + dhr; dgi: gradients of the input parts (r z n),  \\
     * dgh: of the recurrent parts; dhr out: the direct part dh*z of the gradient to h_{t-1}  \\
     * (the caller adds dgh @ W_hh) */                                                        \\
    MV void rt_nn_gru_bw_##SFX(const T *g, const T *hn, const T *hp, const T *gout, T *dhr,   \\
                               T *dgi, T *dgh, int64_t rows, int64_t H) {                     \\
        for (int64_t r = 0; r < rows; r++) {                                                  \\
            const T *x = g + r * 3 * H;                                                       \\
            T *a = dgi + r * 3 * H, *b = dgh + r * 3 * H;                                     \\
            rt_nn_gru_bw_row_##SFX(x, x + H, x + 2 * H, hn + r * H, hp + r * H, gout + r * H, \\
                                   dhr + r * H, a, a + H, a + 2 * H, b, b + H, b + 2 * H, H); \\
        }                                                                                     \\
    }                                                                                         \\
    /* Elman RNN forward: h = act(g) (relu keeps NaN) */                                      \\
    MV void rt_nn_rnn_fw_##SFX(const T *restrict g, T *restrict h, int64_t n, int relu) {     \\
        if (relu) { for (int64_t j = 0; j < n; j++) h[j] = g[j] > 0 ? g[j] : (g[j] != g[j] ? g[j] : 0); } \\
        else { for (int64_t j = 0; j < n; j++) h[j] = TANH(g[j]); }                           \\
    }                                                                                         \\
    /* Elman RNN backward: dg = (gout + dhr) * act'(h) */                                     \\
    MV void rt_nn_rnn_bw_##SFX(const T *restrict h, const T *restrict gout, const T *restrict dhr, \\
                               T *restrict dg, int64_t n, int relu) {                         \\
        if (relu) { for (int64_t j = 0; j < n; j++) dg[j] = h[j] > 0 ? gout[j] + dhr[j] : 0; } \\
        else { for (int64_t j = 0; j < n; j++) dg[j] = (gout[j] + dhr[j]) * (1 - h[j] * h[j]); } \\
    }

    RT_NN_RNN_KERNELS(f32, float, rt_nn_sigmoidf, rt_nn_tanhf, RT_MULTIVERSION)
    RT_NN_RNN_KERNELS(f64, double, rt_nn_sigmoid_d, tanh, )

    /* Recurrent products with the weights packed once per sequence. BLAS packs its operands on
     * every call; for the per-step product (batch x H) @ (H x G) of a recurrent layer that
     * repacking is ~25% of the call, and the weights never change over the sequence. So the
     * weights are packed once into panels of NR columns (Bp[p][kk][c] = B(kk, NR*p + c)) and a
     * register-blocked kernel (6 rows x NR columns of accumulators, FMA) runs each step:
     * AVX-512F (NR = 32) or AVX2+FMA (NR = 16), chosen at run time; otherwise BLAS. */
    #if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    #include <immintrin.h>

    static int rt_nn_isa_cached = -1;
    static int rt_nn_isa_forced = -1;

    /* 2: AVX-512F, 1: AVX2 + FMA, 0: none (BLAS) */
    static int rt_nn_isa(void) {
        if (rt_nn_isa_forced >= 0) return rt_nn_isa_forced;
        if (rt_nn_isa_cached < 0) {
            __builtin_cpu_init();
            rt_nn_isa_cached = __builtin_cpu_supports("avx512f") ? 2 :
                (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 1 : 0;
        }
        return rt_nn_isa_cached;
    }

    #define RT_NN_ACC6(OP) OP(0) OP(1) OP(2) OP(3) OP(4) OP(5)
    #define RT_NN_ACC3(OP) OP(0) OP(1) OP(2)

    __attribute__((target("avx512f")))
    static void rt_nn_gemm_pk512(int64_t m, int64_t n, int64_t k, const float *A, int64_t lda,
                                 const float *Bp, float *C, int64_t ldc, int beta0) {
        for (int64_t p = 0; p < n / 32; p++) {
            const float *B = Bp + p * k * 32;
            float *Cp = C + 32 * p;
            int64_t i = 0;
            for (; i + 6 <= m; i += 6) {
                const float *a = A + i * lda;
                float *c = Cp + i * ldc;
                __m512 x0, y0, x1, y1, x2, y2, x3, y3, x4, y4, x5, y5;
    #define RT_NN_LD(r) if (beta0) { x##r = _mm512_setzero_ps(); y##r = _mm512_setzero_ps(); } \\
                else { x##r = _mm512_loadu_ps(c + r * ldc); y##r = _mm512_loadu_ps(c + r * ldc + 16); }
                RT_NN_ACC6(RT_NN_LD)
    #undef RT_NN_LD
                for (int64_t kk = 0; kk < k; kk++) {
                    __m512 b0 = _mm512_loadu_ps(B + kk * 32), b1 = _mm512_loadu_ps(B + kk * 32 + 16);
                    __m512 s;
    #define RT_NN_FMA(r) s = _mm512_set1_ps(a[r * lda + kk]);                                 \\
                    x##r = _mm512_fmadd_ps(s, b0, x##r); y##r = _mm512_fmadd_ps(s, b1, y##r);
                    RT_NN_ACC6(RT_NN_FMA)
    #undef RT_NN_FMA
                }
    #define RT_NN_ST(r) _mm512_storeu_ps(c + r * ldc, x##r); _mm512_storeu_ps(c + r * ldc + 16, y##r);
                RT_NN_ACC6(RT_NN_ST)
    #undef RT_NN_ST
            }
            for (; i + 3 <= m; i += 3) {
                const float *a = A + i * lda;
                float *c = Cp + i * ldc;
                __m512 x0, y0, x1, y1, x2, y2;
    #define RT_NN_LD(r) if (beta0) { x##r = _mm512_setzero_ps(); y##r = _mm512_setzero_ps(); } \\
                else { x##r = _mm512_loadu_ps(c + r * ldc); y##r = _mm512_loadu_ps(c + r * ldc + 16); }
                RT_NN_ACC3(RT_NN_LD)
    #undef RT_NN_LD
                for (int64_t kk = 0; kk < k; kk++) {
                    __m512 b0 = _mm512_loadu_ps(B + kk * 32), b1 = _mm512_loadu_ps(B + kk * 32 + 16);
                    __m512 s;
    #define RT_NN_FMA(r) s = _mm512_set1_ps(a[r * lda + kk]);                                 \\
                    x##r = _mm512_fmadd_ps(s, b0, x##r); y##r = _mm512_fmadd_ps(s, b1, y##r);
                    RT_NN_ACC3(RT_NN_FMA)
    #undef RT_NN_FMA
                }
    #define RT_NN_ST(r) _mm512_storeu_ps(c + r * ldc, x##r); _mm512_storeu_ps(c + r * ldc + 16, y##r);
                RT_NN_ACC3(RT_NN_ST)
    #undef RT_NN_ST
            }
            for (; i < m; i++) {
                const float *a = A + i * lda;
                float *c = Cp + i * ldc;
                __m512 x = beta0 ? _mm512_setzero_ps() : _mm512_loadu_ps(c);
                __m512 y = beta0 ? _mm512_setzero_ps() : _mm512_loadu_ps(c + 16);
                for (int64_t kk = 0; kk < k; kk++) {
                    __m512 s = _mm512_set1_ps(a[kk]);
                    x = _mm512_fmadd_ps(s, _mm512_loadu_ps(B + kk * 32), x);
                    y = _mm512_fmadd_ps(s, _mm512_loadu_ps(B + kk * 32 + 16), y);
                }
                _mm512_storeu_ps(c, x);
                _mm512_storeu_ps(c + 16, y);
            }
        }
    }

    __attribute__((target("avx2,fma")))
    static void rt_nn_gemm_pk256(int64_t m, int64_t n, int64_t k, const float *A, int64_t lda,
                                 const float *Bp, float *C, int64_t ldc, int beta0) {
        for (int64_t p = 0; p < n / 16; p++) {
            const float *B = Bp + p * k * 16;
            float *Cp = C + 16 * p;
            int64_t i = 0;
            for (; i + 6 <= m; i += 6) {
                const float *a = A + i * lda;
                float *c = Cp + i * ldc;
                __m256 x0, y0, x1, y1, x2, y2, x3, y3, x4, y4, x5, y5;
    #define RT_NN_LD(r) if (beta0) { x##r = _mm256_setzero_ps(); y##r = _mm256_setzero_ps(); } \\
                else { x##r = _mm256_loadu_ps(c + r * ldc); y##r = _mm256_loadu_ps(c + r * ldc + 8); }
                RT_NN_ACC6(RT_NN_LD)
    #undef RT_NN_LD
                for (int64_t kk = 0; kk < k; kk++) {
                    __m256 b0 = _mm256_loadu_ps(B + kk * 16), b1 = _mm256_loadu_ps(B + kk * 16 + 8);
                    __m256 s;
    #define RT_NN_FMA(r) s = _mm256_broadcast_ss(a + r * lda + kk);                           \\
                    x##r = _mm256_fmadd_ps(s, b0, x##r); y##r = _mm256_fmadd_ps(s, b1, y##r);
                    RT_NN_ACC6(RT_NN_FMA)
    #undef RT_NN_FMA
                }
    #define RT_NN_ST(r) _mm256_storeu_ps(c + r * ldc, x##r); _mm256_storeu_ps(c + r * ldc + 8, y##r);
                RT_NN_ACC6(RT_NN_ST)
    #undef RT_NN_ST
            }
            for (; i + 3 <= m; i += 3) {
                const float *a = A + i * lda;
                float *c = Cp + i * ldc;
                __m256 x0, y0, x1, y1, x2, y2;
    #define RT_NN_LD(r) if (beta0) { x##r = _mm256_setzero_ps(); y##r = _mm256_setzero_ps(); } \\
                else { x##r = _mm256_loadu_ps(c + r * ldc); y##r = _mm256_loadu_ps(c + r * ldc + 8); }
                RT_NN_ACC3(RT_NN_LD)
    #undef RT_NN_LD
                for (int64_t kk = 0; kk < k; kk++) {
                    __m256 b0 = _mm256_loadu_ps(B + kk * 16), b1 = _mm256_loadu_ps(B + kk * 16 + 8);
                    __m256 s;
    #define RT_NN_FMA(r) s = _mm256_broadcast_ss(a + r * lda + kk);                           \\
                    x##r = _mm256_fmadd_ps(s, b0, x##r); y##r = _mm256_fmadd_ps(s, b1, y##r);
                    RT_NN_ACC3(RT_NN_FMA)
    #undef RT_NN_FMA
                }
    #define RT_NN_ST(r) _mm256_storeu_ps(c + r * ldc, x##r); _mm256_storeu_ps(c + r * ldc + 8, y##r);
                RT_NN_ACC3(RT_NN_ST)
    #undef RT_NN_ST
            }
            for (; i < m; i++) {
                const float *a = A + i * lda;
                float *c = Cp + i * ldc;
                __m256 x = beta0 ? _mm256_setzero_ps() : _mm256_loadu_ps(c);
                __m256 y = beta0 ? _mm256_setzero_ps() : _mm256_loadu_ps(c + 8);
                for (int64_t kk = 0; kk < k; kk++) {
                    __m256 s = _mm256_broadcast_ss(a + kk);
                    x = _mm256_fmadd_ps(s, _mm256_loadu_ps(B + kk * 16), x);
                    y = _mm256_fmadd_ps(s, _mm256_loadu_ps(B + kk * 16 + 8), y);
                }
                _mm256_storeu_ps(c, x);
                _mm256_storeu_ps(c + 8, y);
            }
        }
    }
    #else
    static int rt_nn_isa_forced = -1;
    static int rt_nn_isa(void) { return 0; }
    static void rt_nn_gemm_pk512(int64_t m, int64_t n, int64_t k, const float *A, int64_t lda,
                                 const float *Bp, float *C, int64_t ldc, int beta0) {}
    static void rt_nn_gemm_pk256(int64_t m, int64_t n, int64_t k, const float *A, int64_t lda,
                                 const float *Bp, float *C, int64_t ldc, int beta0) {}
    #endif

    /* Panel width for this machine (0: no packed kernel). */
    static int rt_nn_panel(void) {
        int isa = rt_nn_isa();
        return isa == 2 ? 32 : (isa == 1 ? 16 : 0);
    }

    static void rt_nn_set_isa(int isa) { rt_nn_isa_forced = isa; }

    /* Bp[p][kk][c] = B(kk, nr*p + c) for the k x n matrix B: B(kk, j) = W[j*ldw + kk] (trans,
     * B = W^T with W n x k) or W[kk*ldw + j]. n % nr == 0. */
    static void rt_nn_pack(const float *W, int64_t ldw, int trans, int64_t k, int64_t n, int nr,
                           float *Bp) {
        for (int64_t p = 0; p < n / nr; p++)
            for (int64_t kk = 0; kk < k; kk++) {
                float *dst = Bp + (p * k + kk) * nr;
                for (int c = 0; c < nr; c++) {
                    int64_t j = nr * p + c;
                    dst[c] = trans ? W[j * ldw + kk] : W[kk * ldw + j];
                }
            }
    }

    /* C (m x n, ldc) = A (m x k, lda) @ B (+ C unless beta0), B packed for panel width nr */
    static void rt_nn_gemm_packed(int nr, int64_t m, int64_t n, int64_t k, const float *A,
                                  int64_t lda, const float *Bp, float *C, int64_t ldc, int beta0) {
        if (nr == 32) rt_nn_gemm_pk512(m, n, k, A, lda, Bp, C, ldc, beta0);
        else rt_nn_gemm_pk256(m, n, k, A, lda, Bp, C, ldc, beta0);
    }
    """
    void rt_nn_lstm_fw_f32(float* g, const float* cp, float* c, float* h, int64_t rows, int64_t H) nogil
    void rt_nn_lstm_fw_f64(double* g, const double* cp, double* c, double* h, int64_t rows, int64_t H) nogil
    void rt_nn_lstm_bw_f32(const float* g, const float* c, const float* cp, const float* gout,
                           const float* dhr, float* dc, float* dg, int64_t rows, int64_t H) nogil
    void rt_nn_lstm_bw_f64(const double* g, const double* c, const double* cp, const double* gout,
                           const double* dhr, double* dc, double* dg, int64_t rows, int64_t H) nogil
    void rt_nn_gru_fw_f32(float* xg, const float* hg, const float* hp, float* h, float* hn,
                          int64_t rows, int64_t H) nogil
    void rt_nn_gru_fw_f64(double* xg, const double* hg, const double* hp, double* h, double* hn,
                          int64_t rows, int64_t H) nogil
    void rt_nn_gru_bw_f32(const float* g, const float* hn, const float* hp, const float* gout,
                          float* dhr, float* dgi, float* dgh, int64_t rows, int64_t H) nogil
    void rt_nn_gru_bw_f64(const double* g, const double* hn, const double* hp, const double* gout,
                          double* dhr, double* dgi, double* dgh, int64_t rows, int64_t H) nogil
    void rt_nn_rnn_fw_f32(const float* g, float* h, int64_t n, int relu) nogil
    void rt_nn_rnn_fw_f64(const double* g, double* h, int64_t n, int relu) nogil
    void rt_nn_rnn_bw_f32(const float* h, const float* gout, const float* dhr, float* dg,
                          int64_t n, int relu) nogil
    void rt_nn_rnn_bw_f64(const double* h, const double* gout, const double* dhr, double* dg,
                          int64_t n, int relu) nogil
    int rt_nn_isa() nogil
    int rt_nn_panel() nogil
    void rt_nn_set_isa(int isa) nogil
    void rt_nn_pack(const float* W, int64_t ldw, int trans, int64_t k, int64_t n, int nr,
                    float* Bp) nogil
    void rt_nn_gemm_packed(int nr, int64_t m, int64_t n, int64_t k, const float* A, int64_t lda,
                           const float* Bp, float* C, int64_t ldc, int beta0) nogil

__all__ = []

# ---------------------------------------------------------------------------------------
# BLAS: _linalg's (one library, single-threaded)

cdef rt_sgemm_t _sgemm = NULL
cdef rt_dgemm_t _dgemm = NULL


cdef int _ensure_blas() except -1:
    global _sgemm, _dgemm
    if _sgemm == NULL:
        _sgemm = <rt_sgemm_t>blas_gemm(DT_FLOAT32)
        _dgemm = <rt_dgemm_t>blas_gemm(DT_FLOAT64)
    return 0


cdef inline void _gemm(int dt, int tb, index_t m, index_t n, index_t k, const char* a,
                       index_t lda, const char* b, index_t ldb, double beta, char* c,
                       index_t ldc) noexcept nogil:
    """c (m x n) = a (m x k) @ op(b) + beta * c, row-major, a not transposed."""
    if m <= 0:
        return
    if dt == DT_FLOAT32:
        _sgemm(RT_ROW_MAJOR, RT_NO_TRANS, tb, <int>m, <int>n, <int>k, 1.0, <const float*>a,
               <int>lda, <const float*>b, <int>ldb, <float>beta, <float*>c, <int>ldc)
    else:
        _dgemm(RT_ROW_MAJOR, RT_NO_TRANS, tb, <int>m, <int>n, <int>k, 1.0, <const double*>a,
               <int>lda, <const double*>b, <int>ldb, beta, <double*>c, <int>ldc)


# ---------------------------------------------------------------------------------------
# argument checks (def-level entry points must not crash on bad input)

cdef int _check(Tensor t, str name, int dt, tuple shape) except -1:
    if t is None:
        raise TypeError(f"_nn_rnn: {name} must be a Tensor")
    if t._dtype != dt:
        raise RuntimeError(f"_nn_rnn: {name} has dtype code {t._dtype}, expected {dt}")
    if not t.is_contig():
        raise RuntimeError(f"_nn_rnn: {name} must be contiguous")
    if tuple(t.shape) != shape:
        raise RuntimeError(f"_nn_rnn: {name} has shape {tuple(t.shape)}, expected {shape}")
    return 0


cdef int _check_float(Tensor t) except -1:
    if t is None or (t._dtype != DT_FLOAT32 and t._dtype != DT_FLOAT64):
        raise RuntimeError("_nn_rnn: expected float32 or float64 tensors")
    if t._ndim != 3:
        raise RuntimeError("_nn_rnn: expected a (T, B, G) gates tensor")
    return 0


cdef struct Seq:
    int dt
    int isz
    index_t T, B, H, G
    bint reverse
    int relu
    char* xg          # (T, B, G)
    char* whh         # (G, H)
    char* h0          # (B, H)
    char* c0          # (B, H)
    char* out         # (T, B, H)
    char* cs          # (T, B, H)   LSTM cell states
    char* aux         # GRU: hn save (T, B, H)
    char* scratch     # GRU: (B, G) recurrent parts
    char* bhh         # GRU: (G,)
    # backward
    char* gout        # (T, B, H)
    char* dhr         # (B, H): gradient reaching h from the later step; ends as dh0
    char* dc          # (B, H): LSTM, ends as dc0
    char* dg          # (T, B, G)
    char* dgh         # (T, B, G) GRU
    # float32: W_hh packed for the recurrent product (nr: panel width, 0 = use BLAS)
    char* packed
    int nr


cdef inline void _rgemm(Seq* s, int tb, index_t m, index_t n, index_t k, const char* a,
                        index_t lda, double beta, char* c, index_t ldc) noexcept nogil:
    """The recurrent product with W_hh: c = a @ op(W_hh) + beta * c (beta 0 or 1), through
    the packed kernel when W_hh was packed, else BLAS."""
    if s.nr > 0:
        rt_nn_gemm_packed(s.nr, m, n, k, <const float*>a, lda, <const float*>s.packed,
                          <float*>c, ldc, beta == 0.0)
    else:
        _gemm(s.dt, tb, m, n, k, a, lda, s.whh, s.H, beta, c, ldc)


cdef Tensor _pack(Seq* s, Tensor w_hh, bint trans):
    """float32: packs W_hh (G, H) once for the whole sequence, for h @ W_hh^T (trans, the
    forward) or dg @ W_hh (the backward), when this machine has a packed kernel and the
    product's width is a multiple of its panel. Returns the buffer (keep it alive)."""
    s.nr = 0
    s.packed = NULL
    if s.dt != DT_FLOAT32:
        return None
    cdef int nr = rt_nn_panel()
    cdef index_t n = s.G if trans else s.H
    cdef index_t k = s.H if trans else s.G
    if nr == 0 or n % nr != 0:
        return None
    cdef index_t size = n * k
    cdef Tensor buf = new_tensor(DT_FLOAT32, 1, &size, False)
    with nogil:
        rt_nn_pack(<const float*>w_hh.ptr(), s.H, trans, k, n, nr, <float*>buf.ptr())
    s.nr = nr
    s.packed = buf.ptr()
    return buf


def _set_isa(int isa):
    """Tests: force the packed kernel's instruction set (2 AVX-512F, 1 AVX2+FMA, 0 BLAS only;
    -1 back to detection). Returns the one now in use."""
    if isa < -1 or isa > 2:
        raise ValueError("_set_isa: expected -1, 0, 1 or 2")
    rt_nn_set_isa(isa)
    return rt_nn_isa()


def _isa():
    """The packed kernel's instruction set on this machine (2 AVX-512F, 1 AVX2+FMA, 0 none)."""
    return rt_nn_isa()


cdef inline index_t _step(Seq* s, index_t k) noexcept nogil:
    """The time index of the k-th step in processing order."""
    return s.T - 1 - k if s.reverse else k


cdef inline index_t _grain(index_t B) noexcept nogil:
    # the configured count: the batch split decides BLAS block shapes, hence the bits
    cdef index_t nt = configured_threads()
    if nt < 1:
        nt = 1
    return (B + nt - 1) // nt


# ---- LSTM ------------------------------------------------------------------------------

cdef void _lstm_fw_task(void* ctx, index_t b0, index_t b1) noexcept nogil:
    cdef Seq* s = <Seq*>ctx
    cdef index_t k, t, tp, rows = b1 - b0, H = s.H, G = s.G, B = s.B
    cdef index_t isz = s.isz
    cdef char* hp
    cdef char* cp
    cdef char* g
    cdef index_t ldh
    for k in range(s.T):
        t = _step(s, k)
        if k == 0:
            hp = s.h0 + b0 * H * isz
            cp = s.c0 + b0 * H * isz
        else:
            tp = _step(s, k - 1)
            hp = s.out + (tp * B + b0) * H * isz
            cp = s.cs + (tp * B + b0) * H * isz
        g = s.xg + (t * B + b0) * G * isz
        _rgemm(s, RT_TRANS, rows, G, H, hp, H, 1.0, g, G)
        if s.dt == DT_FLOAT32:
            rt_nn_lstm_fw_f32(<float*>g, <const float*>cp, <float*>(s.cs + (t * B + b0) * H * isz),
                              <float*>(s.out + (t * B + b0) * H * isz), rows, H)
        else:
            rt_nn_lstm_fw_f64(<double*>g, <const double*>cp,
                              <double*>(s.cs + (t * B + b0) * H * isz),
                              <double*>(s.out + (t * B + b0) * H * isz), rows, H)


cdef void _lstm_bw_task(void* ctx, index_t b0, index_t b1) noexcept nogil:
    cdef Seq* s = <Seq*>ctx
    cdef index_t k, t, tp, rows = b1 - b0, H = s.H, G = s.G, B = s.B
    cdef index_t isz = s.isz
    cdef char* cp
    cdef char* dhr = s.dhr + b0 * H * isz
    cdef char* dc = s.dc + b0 * H * isz
    cdef char* dg
    for k in range(s.T - 1, -1, -1):
        t = _step(s, k)
        if k == 0:
            cp = s.c0 + b0 * H * isz
        else:
            tp = _step(s, k - 1)
            cp = s.cs + (tp * B + b0) * H * isz
        dg = s.dg + (t * B + b0) * G * isz
        if s.dt == DT_FLOAT32:
            rt_nn_lstm_bw_f32(<const float*>(s.xg + (t * B + b0) * G * isz),
                              <const float*>(s.cs + (t * B + b0) * H * isz), <const float*>cp,
                              <const float*>(s.gout + (t * B + b0) * H * isz),
                              <const float*>dhr, <float*>dc, <float*>dg, rows, H)
        else:
            rt_nn_lstm_bw_f64(<const double*>(s.xg + (t * B + b0) * G * isz),
                              <const double*>(s.cs + (t * B + b0) * H * isz), <const double*>cp,
                              <const double*>(s.gout + (t * B + b0) * H * isz),
                              <const double*>dhr, <double*>dc, <double*>dg, rows, H)
        # gradient reaching h_{t-1} through the recurrent product: dg (rows x G) @ W_hh (G x H)
        _rgemm(s, RT_NO_TRANS, rows, H, G, dg, G, 0.0, dhr, H)


def lstm_forward(Tensor xg, Tensor w_hh, Tensor h0, Tensor c0, Tensor out, Tensor cs,
                 Tensor hN, bint reverse):
    """Runs an LSTM layer over the sequence. xg (T, B, 4H): input projections plus both
    biases; on return the activated gates. Writes out (T, B, H), the cell states cs
    (T, B, H) and h_T into hN (B, H)."""
    _check_float(xg)
    cdef int dt = xg._dtype
    cdef index_t T = xg._shape[0], B = xg._shape[1], G = xg._shape[2], H = G // 4
    if H * 4 != G or T < 1 or B < 1 or H < 1:
        raise RuntimeError("_nn_rnn.lstm_forward: bad gates shape")
    _check(xg, "xg", dt, (T, B, G))
    _check(w_hh, "w_hh", dt, (G, H))
    _check(h0, "h0", dt, (B, H))
    _check(c0, "c0", dt, (B, H))
    _check(out, "out", dt, (T, B, H))
    _check(cs, "cs", dt, (T, B, H))
    _check(hN, "hN", dt, (B, H))
    _ensure_blas()
    cdef Seq s
    memset(&s, 0, sizeof(Seq))
    s.dt = dt
    s.isz = 4 if dt == DT_FLOAT32 else 8
    s.T, s.B, s.H, s.G, s.reverse = T, B, H, G, reverse
    s.xg, s.whh, s.h0, s.c0, s.out, s.cs = xg.ptr(), w_hh.ptr(), h0.ptr(), c0.ptr(), out.ptr(), cs.ptr()
    cdef Tensor packed = _pack(&s, w_hh, True)
    with nogil:
        parallel_for(B, _grain(B), _lstm_fw_task, &s)
    _last(out, hN, reverse)


def lstm_backward(Tensor gates, Tensor cs, Tensor c0, Tensor w_hh, Tensor gout, Tensor dh,
                  Tensor dc, Tensor dgates, bint reverse):
    """Backpropagation through time of lstm_forward. gates/cs: what it saved; gout (T, B, H)
    the gradient of out; dh/dc (B, H): in, the gradients of h_T/c_T, out, of h0/c0. Writes
    dgates (T, B, 4H), the gradients of the gate pre-activations."""
    _check_float(gates)
    cdef int dt = gates._dtype
    cdef index_t T = gates._shape[0], B = gates._shape[1], G = gates._shape[2], H = G // 4
    if H * 4 != G or T < 1 or B < 1 or H < 1:
        raise RuntimeError("_nn_rnn.lstm_backward: bad gates shape")
    for t, name, shp in ((gates, "gates", (T, B, G)), (cs, "cs", (T, B, H)), (c0, "c0", (B, H)),
                         (w_hh, "w_hh", (G, H)), (gout, "gout", (T, B, H)), (dh, "dh", (B, H)),
                         (dc, "dc", (B, H)), (dgates, "dgates", (T, B, G))):
        _check(t, name, dt, shp)
    _ensure_blas()
    cdef Seq s
    memset(&s, 0, sizeof(Seq))
    s.dt = dt
    s.isz = 4 if dt == DT_FLOAT32 else 8
    s.T, s.B, s.H, s.G, s.reverse = T, B, H, G, reverse
    s.xg, s.whh, s.c0, s.cs = gates.ptr(), w_hh.ptr(), c0.ptr(), cs.ptr()
    s.gout, s.dhr, s.dc, s.dg = gout.ptr(), dh.ptr(), dc.ptr(), dgates.ptr()
    cdef Tensor packed = _pack(&s, w_hh, False)
    with nogil:
        parallel_for(B, _grain(B), _lstm_bw_task, &s)


# ---- GRU -------------------------------------------------------------------------------

cdef void _gru_fw_task(void* ctx, index_t b0, index_t b1) noexcept nogil:
    cdef Seq* s = <Seq*>ctx
    cdef index_t k, t, tp, r, rows = b1 - b0, H = s.H, G = s.G, B = s.B
    cdef index_t isz = s.isz
    cdef char* hp
    cdef char* hg = s.scratch + b0 * G * isz
    for k in range(s.T):
        t = _step(s, k)
        if k == 0:
            hp = s.h0 + b0 * H * isz
        else:
            tp = _step(s, k - 1)
            hp = s.out + (tp * B + b0) * H * isz
        for r in range(rows):
            memcpy(hg + r * G * isz, s.bhh, G * isz)
        _rgemm(s, RT_TRANS, rows, G, H, hp, H, 1.0, hg, G)
        if s.dt == DT_FLOAT32:
            rt_nn_gru_fw_f32(<float*>(s.xg + (t * B + b0) * G * isz), <const float*>hg,
                             <const float*>hp, <float*>(s.out + (t * B + b0) * H * isz),
                             <float*>(s.aux + (t * B + b0) * H * isz), rows, H)
        else:
            rt_nn_gru_fw_f64(<double*>(s.xg + (t * B + b0) * G * isz), <const double*>hg,
                             <const double*>hp, <double*>(s.out + (t * B + b0) * H * isz),
                             <double*>(s.aux + (t * B + b0) * H * isz), rows, H)


cdef void _gru_bw_task(void* ctx, index_t b0, index_t b1) noexcept nogil:
    cdef Seq* s = <Seq*>ctx
    cdef index_t k, t, tp, rows = b1 - b0, H = s.H, G = s.G, B = s.B
    cdef index_t isz = s.isz
    cdef char* hp
    cdef char* dhr = s.dhr + b0 * H * isz
    cdef char* dgh
    for k in range(s.T - 1, -1, -1):
        t = _step(s, k)
        if k == 0:
            hp = s.h0 + b0 * H * isz
        else:
            tp = _step(s, k - 1)
            hp = s.out + (tp * B + b0) * H * isz
        dgh = s.dgh + (t * B + b0) * G * isz
        if s.dt == DT_FLOAT32:
            rt_nn_gru_bw_f32(<const float*>(s.xg + (t * B + b0) * G * isz),
                             <const float*>(s.aux + (t * B + b0) * H * isz), <const float*>hp,
                             <const float*>(s.gout + (t * B + b0) * H * isz), <float*>dhr,
                             <float*>(s.dg + (t * B + b0) * G * isz), <float*>dgh, rows, H)
        else:
            rt_nn_gru_bw_f64(<const double*>(s.xg + (t * B + b0) * G * isz),
                             <const double*>(s.aux + (t * B + b0) * H * isz), <const double*>hp,
                             <const double*>(s.gout + (t * B + b0) * H * isz), <double*>dhr,
                             <double*>(s.dg + (t * B + b0) * G * isz), <double*>dgh, rows, H)
        _rgemm(s, RT_NO_TRANS, rows, H, G, dgh, G, 1.0, dhr, H)


def gru_forward(Tensor xg, Tensor w_hh, Tensor b_hh, Tensor h0, Tensor out, Tensor hn,
                Tensor hN, bint reverse):
    """Runs a GRU layer over the sequence. xg (T, B, 3H): input projections plus b_ih; on
    return the activated gates r z n. b_hh (3H,) enters the recurrent product. Writes out
    (T, B, H), hn (T, B, H) = W_hn h + b_hn of each step, and h_T into hN (B, H)."""
    _check_float(xg)
    cdef int dt = xg._dtype
    cdef index_t T = xg._shape[0], B = xg._shape[1], G = xg._shape[2], H = G // 3
    if H * 3 != G or T < 1 or B < 1 or H < 1:
        raise RuntimeError("_nn_rnn.gru_forward: bad gates shape")
    _check(xg, "xg", dt, (T, B, G))
    _check(w_hh, "w_hh", dt, (G, H))
    _check(b_hh, "b_hh", dt, (G,))
    _check(h0, "h0", dt, (B, H))
    _check(out, "out", dt, (T, B, H))
    _check(hn, "hn", dt, (T, B, H))
    _check(hN, "hN", dt, (B, H))
    _ensure_blas()
    cdef index_t shp[2]
    shp[0] = B
    shp[1] = G
    cdef Tensor scratch = new_tensor(dt, 2, shp, False)
    cdef Seq s
    memset(&s, 0, sizeof(Seq))
    s.dt = dt
    s.isz = 4 if dt == DT_FLOAT32 else 8
    s.T, s.B, s.H, s.G, s.reverse = T, B, H, G, reverse
    s.xg, s.whh, s.h0, s.out, s.aux = xg.ptr(), w_hh.ptr(), h0.ptr(), out.ptr(), hn.ptr()
    s.scratch, s.bhh = scratch.ptr(), b_hh.ptr()
    cdef Tensor packed = _pack(&s, w_hh, True)
    with nogil:
        parallel_for(B, _grain(B), _gru_fw_task, &s)
    _last(out, hN, reverse)


def gru_backward(Tensor gates, Tensor hn, Tensor h0, Tensor out, Tensor w_hh, Tensor gout,
                 Tensor dh, Tensor dgates, Tensor dgh, bint reverse):
    """Backpropagation through time of gru_forward. dh (B, H): in, the gradient of h_T; out,
    of h0. Writes dgates (T, B, 3H), gradients of the input parts of the gates, and dgh
    (T, B, 3H), of the recurrent parts (b_hh included)."""
    _check_float(gates)
    cdef int dt = gates._dtype
    cdef index_t T = gates._shape[0], B = gates._shape[1], G = gates._shape[2], H = G // 3
    if H * 3 != G or T < 1 or B < 1 or H < 1:
        raise RuntimeError("_nn_rnn.gru_backward: bad gates shape")
    for t, name, shp in ((gates, "gates", (T, B, G)), (hn, "hn", (T, B, H)), (h0, "h0", (B, H)),
                         (out, "out", (T, B, H)), (w_hh, "w_hh", (G, H)),
                         (gout, "gout", (T, B, H)), (dh, "dh", (B, H)),
                         (dgates, "dgates", (T, B, G)), (dgh, "dgh", (T, B, G))):
        _check(t, name, dt, shp)
    _ensure_blas()
    cdef Seq s
    memset(&s, 0, sizeof(Seq))
    s.dt = dt
    s.isz = 4 if dt == DT_FLOAT32 else 8
    s.T, s.B, s.H, s.G, s.reverse = T, B, H, G, reverse
    s.xg, s.aux, s.h0, s.out, s.whh = gates.ptr(), hn.ptr(), h0.ptr(), out.ptr(), w_hh.ptr()
    s.gout, s.dhr, s.dg, s.dgh = gout.ptr(), dh.ptr(), dgates.ptr(), dgh.ptr()
    cdef Tensor packed = _pack(&s, w_hh, False)
    with nogil:
        parallel_for(B, _grain(B), _gru_bw_task, &s)


# ---- Elman RNN -------------------------------------------------------------------------

cdef void _rnn_fw_task(void* ctx, index_t b0, index_t b1) noexcept nogil:
    cdef Seq* s = <Seq*>ctx
    cdef index_t k, t, tp, rows = b1 - b0, H = s.H, B = s.B
    cdef index_t isz = s.isz
    cdef char* hp
    cdef char* g
    for k in range(s.T):
        t = _step(s, k)
        if k == 0:
            hp = s.h0 + b0 * H * isz
        else:
            tp = _step(s, k - 1)
            hp = s.out + (tp * B + b0) * H * isz
        g = s.xg + (t * B + b0) * H * isz
        _rgemm(s, RT_TRANS, rows, H, H, hp, H, 1.0, g, H)
        if s.dt == DT_FLOAT32:
            rt_nn_rnn_fw_f32(<const float*>g, <float*>(s.out + (t * B + b0) * H * isz),
                             rows * H, s.relu)
        else:
            rt_nn_rnn_fw_f64(<const double*>g, <double*>(s.out + (t * B + b0) * H * isz),
                             rows * H, s.relu)


cdef void _rnn_bw_task(void* ctx, index_t b0, index_t b1) noexcept nogil:
    cdef Seq* s = <Seq*>ctx
    cdef index_t k, t, rows = b1 - b0, H = s.H, B = s.B
    cdef index_t isz = s.isz
    cdef char* dhr = s.dhr + b0 * H * isz
    cdef char* dg
    for k in range(s.T - 1, -1, -1):
        t = _step(s, k)
        dg = s.dg + (t * B + b0) * H * isz
        if s.dt == DT_FLOAT32:
            rt_nn_rnn_bw_f32(<const float*>(s.out + (t * B + b0) * H * isz),
                             <const float*>(s.gout + (t * B + b0) * H * isz),
                             <const float*>dhr, <float*>dg, rows * H, s.relu)
        else:
            rt_nn_rnn_bw_f64(<const double*>(s.out + (t * B + b0) * H * isz),
                             <const double*>(s.gout + (t * B + b0) * H * isz),
                             <const double*>dhr, <double*>dg, rows * H, s.relu)
        _rgemm(s, RT_NO_TRANS, rows, H, H, dg, H, 0.0, dhr, H)


def rnn_forward(Tensor xg, Tensor w_hh, Tensor h0, Tensor out, Tensor hN, bint relu,
                bint reverse):
    """Runs an Elman RNN layer (tanh or relu) over the sequence. xg (T, B, H): input
    projections plus both biases (overwritten with the pre-activations). Writes out
    (T, B, H) and h_T into hN (B, H)."""
    _check_float(xg)
    cdef int dt = xg._dtype
    cdef index_t T = xg._shape[0], B = xg._shape[1], H = xg._shape[2]
    if T < 1 or B < 1 or H < 1:
        raise RuntimeError("_nn_rnn.rnn_forward: bad gates shape")
    _check(xg, "xg", dt, (T, B, H))
    _check(w_hh, "w_hh", dt, (H, H))
    _check(h0, "h0", dt, (B, H))
    _check(out, "out", dt, (T, B, H))
    _check(hN, "hN", dt, (B, H))
    _ensure_blas()
    cdef Seq s
    memset(&s, 0, sizeof(Seq))
    s.dt = dt
    s.isz = 4 if dt == DT_FLOAT32 else 8
    s.T, s.B, s.H, s.G, s.reverse, s.relu = T, B, H, H, reverse, relu
    s.xg, s.whh, s.h0, s.out = xg.ptr(), w_hh.ptr(), h0.ptr(), out.ptr()
    cdef Tensor packed = _pack(&s, w_hh, True)
    with nogil:
        parallel_for(B, _grain(B), _rnn_fw_task, &s)
    _last(out, hN, reverse)


def rnn_backward(Tensor out, Tensor w_hh, Tensor gout, Tensor dh, Tensor dgates, bint relu,
                 bint reverse):
    """Backpropagation through time of rnn_forward. dh (B, H): in, the gradient of h_T; out,
    of h0. Writes dgates (T, B, H), the gradients of the pre-activations."""
    _check_float(out)
    cdef int dt = out._dtype
    cdef index_t T = out._shape[0], B = out._shape[1], H = out._shape[2]
    if T < 1 or B < 1 or H < 1:
        raise RuntimeError("_nn_rnn.rnn_backward: bad shape")
    for t, name, shp in ((out, "out", (T, B, H)), (w_hh, "w_hh", (H, H)),
                         (gout, "gout", (T, B, H)), (dh, "dh", (B, H)),
                         (dgates, "dgates", (T, B, H))):
        _check(t, name, dt, shp)
    _ensure_blas()
    cdef Seq s
    memset(&s, 0, sizeof(Seq))
    s.dt = dt
    s.isz = 4 if dt == DT_FLOAT32 else 8
    s.T, s.B, s.H, s.G, s.reverse, s.relu = T, B, H, H, reverse, relu
    s.whh, s.out, s.gout, s.dhr, s.dg = w_hh.ptr(), out.ptr(), gout.ptr(), dh.ptr(), dgates.ptr()
    cdef Tensor packed = _pack(&s, w_hh, False)
    with nogil:
        parallel_for(B, _grain(B), _rnn_bw_task, &s)


# ---------------------------------------------------------------------------------------

cdef void _last(Tensor out, Tensor hN, bint reverse):
    """hN = the hidden state after the last processed step (out[0] for a reverse layer)."""
    cdef index_t T = out._shape[0]
    cdef index_t t = 0 if reverse else T - 1
    cdef index_t n = out._shape[1] * out._shape[2]
    cdef int isz = 4 if out._dtype == DT_FLOAT32 else 8
    memcpy(hN.ptr(), out.ptr() + t * n * isz, n * isz)
