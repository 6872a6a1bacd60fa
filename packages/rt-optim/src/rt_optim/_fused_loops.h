/* Element loops of _fused.pyx: SGD and Adam/AdamW (rt_optim_loops.h explains the pattern).
 * Each body does per element what the reference formula in sgd.py / adam.py does with
 * tensor ops, in the same order of float operations. h[] holds the hyper-parameters (double,
 * rounded to T here as PyTorch rounds a Python scalar to the tensor's type). */
#include "rt_optim_loops.h"

/* ---- SGD: h = lr, momentum, dampening, weight_decay, grad sign (-1 with maximize)
 * flags: 1 weight decay, 2 momentum, 4 first step (buf = d), 8 nesterov */
#define RTO_SGD(T) \
RTO_BODY void rto_sgd_body_##T(T* restrict p, const T* restrict g, T* restrict buf, \
                               const double* h, int64_t b, int64_t e, const int flags) { \
    const T lr = (T)h[0], momentum = (T)h[1], damp = (T)(1.0 - h[2]), wd = (T)h[3]; \
    const T sign = (T)h[4]; \
    for (int64_t i = b; i < e; i++) { \
        T d = g[i] * sign; \
        if (flags & 1) d = d + wd * p[i]; \
        if (flags & 2) { \
            T bi = (flags & 4) ? d : buf[i] * momentum + damp * d; \
            buf[i] = bi; \
            d = (flags & 8) ? d + momentum * bi : bi; \
        } \
        p[i] = p[i] + (-lr) * d; \
    } \
} \
RTO_MV static void rto_sgd_##T(T* p, const T* g, T* buf, const double* h, int flags, \
                               int64_t b, int64_t e) { \
    RTO_CASES16(rto_sgd_body_##T, flags, p, g, buf, h, b, e) \
}
RTO_SGD(float)
RTO_SGD(double)

/* ---- Adam / AdamW: h = 1-beta1, beta2, 1-beta2, weight_decay (L2 form), decay factor
 * (1 - lr*wd when decoupled, else 1: p*1 is exact), sqrt(bias_correction2), eps,
 * -lr/bias_correction1, grad sign (-1 with maximize)
 * flags: 1 L2 weight decay, 2 amsgrad, 4 lerp weight >= 0.5 */
#define RTO_ADAM(T) \
RTO_BODY void rto_adam_body_##T(T* restrict p, const T* restrict g, T* restrict m, \
                                T* restrict v, T* restrict vmax, const double* h, \
                                int64_t b, int64_t e, const int flags) { \
    const T w1 = (T)h[0], beta2 = (T)h[1], w2 = (T)h[2], wd = (T)h[3], decay = (T)h[4]; \
    const T bc2_sqrt = (T)h[5], eps = (T)h[6], neg_step = (T)h[7], sign = (T)h[8]; \
    for (int64_t i = b; i < e; i++) { \
        T d = g[i] * sign; \
        T pi = p[i] * decay; \
        if (flags & 1) d = d + wd * pi; \
        T mi = RTO_LERP(T, m[i], d, w1, flags & 4); \
        m[i] = mi; \
        T vi = v[i] * beta2 + w2 * d * d; \
        v[i] = vi; \
        if (flags & 2) { \
            vi = RTO_MAX_NAN(vi, vmax[i]); \
            vmax[i] = vi; \
        } \
        T denom = rto_sqrt_##T(vi) / bc2_sqrt + eps; \
        p[i] = pi + neg_step * mi / denom; \
    } \
} \
RTO_MV static void rto_adam_##T(T* p, const T* g, T* m, T* v, T* vmax, const double* h, \
                                int flags, int64_t b, int64_t e) { \
    RTO_CASES8(rto_adam_body_##T, flags, p, g, m, v, vmax, h, b, e) \
}
RTO_ADAM(float)
RTO_ADAM(double)
