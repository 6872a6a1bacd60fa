/* Element loops of _fused_adaptive.pyx: Adamax, NAdam, RAdam, Lion and LAMB's two passes
 * (rt_optim_loops.h explains the pattern). Each body does per element what the reference
 * formula in adamax.py / nadam.py / radam.py / lion.py / lamb.py does with tensor ops, in the
 * same order of float operations. h[] holds the hyper-parameters (double, rounded to T here as
 * PyTorch rounds a Python scalar to the tensor's type).
 *
 * Conventions of this file: the gradient sign (-1 with maximize) is a factor, g·(±1) being
 * exact; a decoupled decay factor is 1 when there is no decoupled decay (p·1 is exact). The
 * lerp form (RTO_LERP's `big`) is not passed by the caller: each wrapper derives it from the
 * lerp weight rounded to T, as PyTorch's lerp tests |weight| < 0.5 on the weight in the
 * tensor's type, and adds it to the flags (RTOA_LERP_FLAG). */
#include "rt_optim_loops.h"

static inline float rtoa_fabs_float(float x) { return fabsf(x); }
static inline double rtoa_fabs_double(double x) { return fabs(x); }

/* `bit` when lerp(., ., w) takes the |w| >= 0.5 form (not |w| < 0.5, so a NaN weight too) */
#define RTOA_LERP_FLAG(T, w, bit) (!(fabs((T)(w)) < 0.5) ? (bit) : 0)

/* ---- Adamax: h = 1-beta1, beta2, eps, weight_decay, -lr/(1-beta1^t), grad sign
 * flags: 1 L2 weight decay; 2 lerp form (set here) */
#define RTO_ADAMAX(T) \
RTO_BODY void rto_adamax_body_##T(T* restrict p, const T* restrict g, T* restrict m, \
                                  T* restrict u, const double* h, int64_t b, int64_t e, \
                                  const int flags) { \
    const T w1 = (T)h[0], beta2 = (T)h[1], eps = (T)h[2], wd = (T)h[3], neg_clr = (T)h[4]; \
    const T sign = (T)h[5]; \
    for (int64_t i = b; i < e; i++) { \
        T d = g[i] * sign; \
        if (flags & 1) d = d + wd * p[i]; \
        T mi = RTO_LERP(T, m[i], d, w1, flags & 2); \
        m[i] = mi; \
        T decayed = u[i] * beta2; \
        T bound = rtoa_fabs_##T(d) + eps; \
        T ui = RTO_MAX_NAN(decayed, bound); \
        u[i] = ui; \
        p[i] = p[i] + neg_clr * mi / ui; \
    } \
} \
RTO_MV static void rto_adamax_##T(T* p, const T* g, T* m, T* u, const double* h, int flags, \
                                  int64_t b, int64_t e) { \
    flags |= RTOA_LERP_FLAG(T, h[0], 2); \
    RTO_CASES4(rto_adamax_body_##T, flags, p, g, m, u, h, b, e) \
}
RTO_ADAMAX(float)
RTO_ADAMAX(double)

/* ---- NAdam: h = 1-beta1, beta2, 1-beta2, weight_decay (L2 form), decay factor (1 - lr·wd
 * when decoupled, else 1), 1-beta2^t, eps, coefficient of the gradient, coefficient of the
 * momentum, grad sign
 * flags: 1 L2 weight decay; 2 lerp form (set here) */
#define RTO_NADAM(T) \
RTO_BODY void rto_nadam_body_##T(T* restrict p, const T* restrict g, T* restrict m, \
                                 T* restrict v, const double* h, int64_t b, int64_t e, \
                                 const int flags) { \
    const T w1 = (T)h[0], beta2 = (T)h[1], w2 = (T)h[2], wd = (T)h[3], decay = (T)h[4]; \
    const T bc2 = (T)h[5], eps = (T)h[6], c_grad = (T)h[7], c_avg = (T)h[8]; \
    const T sign = (T)h[9]; \
    for (int64_t i = b; i < e; i++) { \
        T d = g[i] * sign; \
        T pi = p[i] * decay; \
        if (flags & 1) d = d + wd * pi; \
        T mi = RTO_LERP(T, m[i], d, w1, flags & 2); \
        m[i] = mi; \
        T vi = v[i] * beta2 + w2 * d * d; \
        v[i] = vi; \
        T denom = rto_sqrt_##T(vi / bc2) + eps; \
        /* two addcdiv_ in PyTorch: the parameter rounds after each */ \
        pi = pi + c_grad * d / denom; \
        p[i] = pi + c_avg * mi / denom; \
    } \
} \
RTO_MV static void rto_nadam_##T(T* p, const T* g, T* m, T* v, const double* h, int flags, \
                                 int64_t b, int64_t e) { \
    flags |= RTOA_LERP_FLAG(T, h[0], 2); \
    RTO_CASES4(rto_nadam_body_##T, flags, p, g, m, v, h, b, e) \
}
RTO_NADAM(float)
RTO_NADAM(double)

/* ---- RAdam: h = 1-beta1, beta2, 1-beta2, weight_decay (L2 form), decay factor (1 - lr·wd
 * when decoupled, else 1), 1-beta1^t, lr, eps, sqrt(1-beta2^t), rectification r_t, grad sign
 * flags: 1 L2 weight decay, 4 rectified step (rho_t > 5); 2 lerp form (set here) */
#define RTO_RADAM(T) \
RTO_BODY void rto_radam_body_##T(T* restrict p, const T* restrict g, T* restrict m, \
                                 T* restrict v, const double* h, int64_t b, int64_t e, \
                                 const int flags) { \
    const T w1 = (T)h[0], beta2 = (T)h[1], w2 = (T)h[2], wd = (T)h[3], decay = (T)h[4]; \
    const T bc1 = (T)h[5], lr = (T)h[6], eps = (T)h[7], bc2_sqrt = (T)h[8], rect = (T)h[9]; \
    const T sign = (T)h[10]; \
    for (int64_t i = b; i < e; i++) { \
        T d = g[i] * sign; \
        T pi = p[i] * decay; \
        if (flags & 1) d = d + wd * pi; \
        T mi = RTO_LERP(T, m[i], d, w1, flags & 2); \
        m[i] = mi; \
        T vi = v[i] * beta2 + w2 * d * d; \
        v[i] = vi; \
        T x = mi / bc1 * lr; \
        if (flags & 4) { \
            /* PyTorch: sqrt(1 - beta2^t) / (sqrt(v) + eps) is Tensor.__rtruediv__, a \
             * reciprocal times the number */ \
            x = x * (((T)1 / (rto_sqrt_##T(vi) + eps)) * bc2_sqrt); \
            x = x * rect; \
        } \
        p[i] = pi - x; \
    } \
} \
RTO_MV static void rto_radam_##T(T* p, const T* g, T* m, T* v, const double* h, int flags, \
                                 int64_t b, int64_t e) { \
    flags |= RTOA_LERP_FLAG(T, h[0], 2); \
    RTO_CASES8(rto_radam_body_##T, flags, p, g, m, v, h, b, e) \
}
RTO_RADAM(float)
RTO_RADAM(double)

/* ---- Lion: h = -lr, 1-beta1, 1-beta2, decay factor (1 - lr·wd; 1 without weight decay),
 * grad sign
 * flags: 1 lerp form of 1-beta1, 2 lerp form of 1-beta2 (both set here; no caller flags) */
#define RTO_LION(T) \
RTO_BODY void rto_lion_body_##T(T* restrict p, const T* restrict g, T* restrict m, \
                                const double* h, int64_t b, int64_t e, const int flags) { \
    const T neg_lr = (T)h[0], w1 = (T)h[1], w2 = (T)h[2], decay = (T)h[3], sign = (T)h[4]; \
    for (int64_t i = b; i < e; i++) { \
        T d = g[i] * sign; \
        T pi = p[i] * decay; \
        T c = RTO_LERP(T, m[i], d, w1, flags & 1); \
        /* torch.sign: 0 for ±0 and NaN */ \
        T s = c > 0 ? (T)1 : (c < 0 ? (T)-1 : (T)0); \
        p[i] = pi + neg_lr * s; \
        m[i] = RTO_LERP(T, m[i], d, w2, flags & 2); \
    } \
} \
RTO_MV static void rto_lion_##T(T* p, const T* g, T* m, const double* h, int flags, \
                                int64_t b, int64_t e) { \
    flags |= RTOA_LERP_FLAG(T, h[1], 1) | RTOA_LERP_FLAG(T, h[2], 2); \
    RTO_CASES4(rto_lion_body_##T, flags, p, g, m, h, b, e) \
}
RTO_LION(float)
RTO_LION(double)

/* ---- LAMB, two passes over a tensor (the loop over blocks is _fused_adaptive.pyx's):
 * rto_lamb_moments_T updates m and v over [b, e) (one block) and writes sums[0] = sum p²,
 * sums[1] = sum r² (in double), r the update before the trust ratio; rto_lamb_apply_T
 * recomputes r from the updated moments (the same float operations, so the same r) and does
 * p += h[7]·r.
 * h = 1-beta1, beta2, 1-beta2, 1-beta1^t, 1-beta2^t, eps, weight_decay, -lr·trust (pass 2),
 * grad sign
 * flags: 1 weight decay; 2 lerp form (set here, pass 1 only)
 * The sums: element b + j goes to accumulator j mod RTOA_LANES, and the accumulators are added
 * pairwise in a fixed tree at the end. The order depends only on the block bounds (fixed by the
 * caller), never on the thread count or the clone that runs, and the independent
 * accumulators let the loop vectorize (a single running sum would be one long chain of
 * dependent double additions). */
#define RTOA_LANES 16
/* one element j of pass 1, its sums into lane k (inside rto_lamb_moments_body_T) */
#define RTOA_LAMB_ELEMENT(T, j, k) { \
    T d = g[j] * sign; \
    T mi = RTO_LERP(T, m[j], d, w1, flags & 2); \
    m[j] = mi; \
    T vi = v[j] * beta2 + w2 * d * d; \
    v[j] = vi; \
    T r = rto_lamb_r_##T(p[j], mi, vi, bc1, bc2, eps, wd, flags); \
    sp[k] += (double)p[j] * (double)p[j]; \
    sr[k] += (double)r * (double)r; \
}
#define RTO_LAMB(T) \
RTO_BODY T rto_lamb_r_##T(T p, T m, T v, T bc1, T bc2, T eps, T wd, const int flags) { \
    T r = (m / bc1) / (rto_sqrt_##T(v / bc2) + eps); \
    if (flags & 1) r = r + wd * p; \
    return r; \
} \
RTO_BODY void rto_lamb_moments_body_##T(const T* restrict p, const T* restrict g, \
                                        T* restrict m, T* restrict v, const double* h, \
                                        int64_t b, int64_t e, double* sums, const int flags) { \
    const T w1 = (T)h[0], beta2 = (T)h[1], w2 = (T)h[2], bc1 = (T)h[3], bc2 = (T)h[4]; \
    const T eps = (T)h[5], wd = (T)h[6], sign = (T)h[8]; \
    double sp[RTOA_LANES] = {0}, sr[RTOA_LANES] = {0}; \
    int64_t i = b; \
    for (; i + RTOA_LANES <= e; i += RTOA_LANES) \
        for (int k = 0; k < RTOA_LANES; k++) RTOA_LAMB_ELEMENT(T, i + k, k) \
    for (int k = 0; i < e; i++, k++) RTOA_LAMB_ELEMENT(T, i, k) \
    for (int w = RTOA_LANES / 2; w > 0; w /= 2) \
        for (int k = 0; k < w; k++) { sp[k] += sp[k + w]; sr[k] += sr[k + w]; } \
    sums[0] = sp[0]; \
    sums[1] = sr[0]; \
} \
RTO_MV static void rto_lamb_moments_##T(const T* p, const T* g, T* m, T* v, const double* h, \
                                        int flags, int64_t b, int64_t e, double* sums) { \
    flags |= RTOA_LERP_FLAG(T, h[0], 2); \
    RTO_CASES4(rto_lamb_moments_body_##T, flags, p, g, m, v, h, b, e, sums) \
} \
RTO_BODY void rto_lamb_apply_body_##T(T* restrict p, const T* restrict m, \
                                      const T* restrict v, const double* h, \
                                      int64_t b, int64_t e, const int flags) { \
    const T bc1 = (T)h[3], bc2 = (T)h[4], eps = (T)h[5], wd = (T)h[6], neg_step = (T)h[7]; \
    for (int64_t i = b; i < e; i++) \
        p[i] = p[i] + neg_step * rto_lamb_r_##T(p[i], m[i], v[i], bc1, bc2, eps, wd, flags); \
} \
RTO_MV static void rto_lamb_apply_##T(T* p, const T* m, const T* v, const double* h, \
                                      int flags, int64_t b, int64_t e) { \
    if (flags & 1) rto_lamb_apply_body_##T(p, m, v, h, b, e, 1); \
    else rto_lamb_apply_body_##T(p, m, v, h, b, e, 0); \
}
RTO_LAMB(float)
RTO_LAMB(double)
