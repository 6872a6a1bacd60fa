/* Element loops of _fused_classic.pyx: RMSprop, Adagrad, Adadelta, Rprop and ASGD
 * (rt_optim_loops.h explains the pattern). Each body does per element what the reference
 * formula in rmsprop.py / adagrad.py / adadelta.py / rprop.py / asgd.py does with tensor ops,
 * in the same order of float operations. h[] holds the hyper-parameters (double, rounded to T
 * here as PyTorch rounds a Python scalar to the tensor's type); the last one of each is the
 * grad sign (-1 with maximize: g * -1 is exact). Data-dependent choices (Rprop's factor,
 * clamp and sign) are selects, which vectorize as blends. */
#include "rt_optim_loops.h"

/* ---- RMSprop: h = alpha, 1-alpha, eps, weight_decay, momentum, -lr, grad sign
 * flags: 1 centered, 2 momentum buffer, 4 weight decay, 8 lerp weight (1-alpha) >= 0.5 */
#define RTO_RMSPROP(T) \
RTO_BODY void rto_rmsprop_body_##T(T* restrict p, const T* restrict g, T* restrict sq, \
                                   T* restrict gavg, T* restrict buf, const double* h, \
                                   int64_t b, int64_t e, const int flags) { \
    const T alpha = (T)h[0], w = (T)h[1], eps = (T)h[2], wd = (T)h[3]; \
    const T momentum = (T)h[4], neg_lr = (T)h[5], sign = (T)h[6]; \
    for (int64_t i = b; i < e; i++) { \
        T d = g[i] * sign; \
        if (flags & 4) d = d + wd * p[i]; \
        T si = sq[i] * alpha + w * d * d; \
        sq[i] = si; \
        T avg; \
        if (flags & 1) { \
            T ai = RTO_LERP(T, gavg[i], d, w, flags & 8); \
            gavg[i] = ai; \
            avg = rto_sqrt_##T(si + (T)-1 * ai * ai); \
        } else { \
            avg = rto_sqrt_##T(si); \
        } \
        avg = avg + eps; \
        if (flags & 2) { \
            T bi = buf[i] * momentum + d / avg; \
            buf[i] = bi; \
            p[i] = p[i] + neg_lr * bi; \
        } else { \
            p[i] = p[i] + neg_lr * d / avg; \
        } \
    } \
} \
RTO_MV static void rto_rmsprop_##T(T* p, const T* g, T* sq, T* gavg, T* buf, const double* h, \
                                   int flags, int64_t b, int64_t e) { \
    RTO_CASES16(rto_rmsprop_body_##T, flags, p, g, sq, gavg, buf, h, b, e) \
}
RTO_RMSPROP(float)
RTO_RMSPROP(double)

/* ---- Adagrad: h = weight_decay, eps, -clr (the decayed learning rate), grad sign
 * flags: 1 weight decay */
#define RTO_ADAGRAD(T) \
RTO_BODY void rto_adagrad_body_##T(T* restrict p, const T* restrict g, T* restrict acc, \
                                   const double* h, int64_t b, int64_t e, const int flags) { \
    const T wd = (T)h[0], eps = (T)h[1], neg_clr = (T)h[2], sign = (T)h[3]; \
    for (int64_t i = b; i < e; i++) { \
        T d = g[i] * sign; \
        if (flags & 1) d = d + wd * p[i]; \
        T ai = acc[i] + d * d; \
        acc[i] = ai; \
        T std = rto_sqrt_##T(ai) + eps; \
        p[i] = p[i] + neg_clr * d / std; \
    } \
} \
RTO_MV static void rto_adagrad_##T(T* p, const T* g, T* acc, const double* h, int flags, \
                                   int64_t b, int64_t e) { \
    RTO_CASES4(rto_adagrad_body_##T, flags, p, g, acc, h, b, e) \
}
RTO_ADAGRAD(float)
RTO_ADAGRAD(double)

/* ---- Adadelta: h = rho, 1-rho, eps, weight_decay, -lr, grad sign
 * flags: 1 weight decay */
#define RTO_ADADELTA(T) \
RTO_BODY void rto_adadelta_body_##T(T* restrict p, const T* restrict g, T* restrict sq, \
                                    T* restrict acc, const double* h, int64_t b, int64_t e, \
                                    const int flags) { \
    const T rho = (T)h[0], w = (T)h[1], eps = (T)h[2], wd = (T)h[3], neg_lr = (T)h[4]; \
    const T sign = (T)h[5]; \
    for (int64_t i = b; i < e; i++) { \
        T d = g[i] * sign; \
        if (flags & 1) d = d + wd * p[i]; \
        T si = sq[i] * rho + w * d * d; \
        sq[i] = si; \
        T std = rto_sqrt_##T(si + eps); \
        T delta = rto_sqrt_##T(acc[i] + eps); \
        delta = delta / std; \
        delta = delta * d; \
        acc[i] = acc[i] * rho + w * delta * delta; \
        p[i] = p[i] + neg_lr * delta; \
    } \
} \
RTO_MV static void rto_adadelta_##T(T* p, const T* g, T* sq, T* acc, const double* h, \
                                    int flags, int64_t b, int64_t e) { \
    RTO_CASES4(rto_adadelta_body_##T, flags, p, g, sq, acc, h, b, e) \
}
RTO_ADADELTA(float)
RTO_ADADELTA(double)

/* ---- Rprop: h = etaplus, etaminus, step_size_min, step_size_max, grad sign; no flags.
 * PyTorch builds a tensor of factors in the parameter's dtype: sign(d·prev) (0 for NaN), then
 * >0 -> etaplus, <0 -> etaminus, ==0 -> 1, and zeroes d where the factor equals etaminus; the
 * same sequence on the rounded factors keeps its edge cases (an etaminus that rounds to 0 or
 * 1 in float32). The clamp lets NaN through as torch.clamp does. */
#define RTO_RPROP(T) \
RTO_MV static void rto_rprop_##T(T* restrict p, const T* restrict g, T* restrict prev, \
                                 T* restrict step_size, const double* h, \
                                 int64_t b, int64_t e) { \
    const T etaplus = (T)h[0], etaminus = (T)h[1], lo = (T)h[2], hi = (T)h[3]; \
    const T sign = (T)h[4]; \
    for (int64_t i = b; i < e; i++) { \
        T d = g[i] * sign; \
        T prod = d * prev[i]; \
        T factor = prod > 0 ? etaplus : (prod < 0 ? etaminus : (T)0); \
        factor = factor == 0 ? (T)1 : factor; \
        T size = step_size[i] * factor; \
        size = size < lo ? lo : size; \
        size = size > hi ? hi : size; \
        step_size[i] = size; \
        d = factor == etaminus ? (T)0 : d; \
        T sgn = d > 0 ? (T)1 : (d < 0 ? (T)-1 : (T)0); \
        p[i] = p[i] + (T)-1 * sgn * size; \
        prev[i] = d; \
    } \
}
RTO_RPROP(float)
RTO_RPROP(double)

/* ---- ASGD: h = weight_decay, decay factor 1-lambd·eta, -eta, mu, grad sign
 * flags: 1 weight decay, 2 averaging (mu != 1; else ax = p) */
#define RTO_ASGD(T) \
RTO_BODY void rto_asgd_body_##T(T* restrict p, const T* restrict g, T* restrict ax, \
                                const double* h, int64_t b, int64_t e, const int flags) { \
    const T wd = (T)h[0], decay = (T)h[1], neg_eta = (T)h[2], mu = (T)h[3]; \
    const T sign = (T)h[4]; \
    for (int64_t i = b; i < e; i++) { \
        T d = g[i] * sign; \
        if (flags & 1) d = d + wd * p[i]; \
        T pi = p[i] * decay; \
        pi = pi + neg_eta * d; \
        p[i] = pi; \
        ax[i] = (flags & 2) ? ax[i] + (pi - ax[i]) * mu : pi; \
    } \
} \
RTO_MV static void rto_asgd_##T(T* p, const T* g, T* ax, const double* h, int flags, \
                                int64_t b, int64_t e) { \
    RTO_CASES4(rto_asgd_body_##T, flags, p, g, ax, h, b, e) \
}
RTO_ASGD(float)
RTO_ASGD(double)
