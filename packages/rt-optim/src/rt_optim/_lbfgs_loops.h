/* Element loops of _lbfgs.pyx: the passes of one L-BFGS iteration over flat float32/float64
 * vectors (rt_optim_loops.h explains the pattern: multiversioned, flags as constants).
 *
 * Every loop works on the elements [b, e) of one block and writes its reductions (dot
 * products, largest magnitude) to out[0..2]; the caller adds the blocks' partial sums in
 * block order, so the results are the same bits for any thread count. Within a block a dot
 * product accumulates in T over the lanes of two 64-byte vectors (32 float32 or 16 float64
 * lanes, as BLAS's sdot/ddot accumulate in lanes of T), the lanes then added in double. The
 * element updates round in T exactly as the tensor ops of lbfgs.py's reference path do
 * (q + alpha*v, then q*H: no contraction into FMA). */
#include <stddef.h>
#include <string.h>
#include "rt_optim_loops.h"

/* The loops are written on GCC's vector types of 64 bytes (16 floats, 8 doubles), two
 * accumulators each: every clone (AVX-512, AVX2, SSE) runs the same lanes in the same order,
 * so the bits do not depend on the machine. (gcc does not vectorize a reduction written in
 * scalar C without reassociating it, i.e. -ffast-math, which the build never uses.) */
typedef float rto_lb_vfloat __attribute__((vector_size(64)));
typedef double rto_lb_vdouble __attribute__((vector_size(64)));
typedef int32_t rto_lb_ifloat __attribute__((vector_size(64)));   /* same lanes, as bits */
typedef int64_t rto_lb_idouble __attribute__((vector_size(64)));
#define RTO_LB_W_float 16
#define RTO_LB_W_double 8
#define RTO_LB_MASK_float 0x7fffffff
#define RTO_LB_MASK_double 0x7fffffffffffffffLL

/* unaligned vector load / store (memcpy: one vmovups) */
#define RTO_LB_VLOAD(T, ptr) ({ rto_lb_v##T v_; memcpy(&v_, (ptr), sizeof v_); v_; })
#define RTO_LB_VSTORE(ptr, v) do { __typeof__(v) v_ = (v); memcpy((ptr), &v_, sizeof v_); } while (0)

/* max|x| as integers: with the sign bit cleared, a float's bits order as its magnitude, and
 * every NaN's bits exceed infinity's, so an integer max (which vectorizes, where a
 * NaN-propagating float max does not) is NaN when any element is. */
#define RTO_LB_VMAG(T, x) (((rto_lb_i##T)(x)) & RTO_LB_MASK_##T)
#define RTO_LB_VMAX(a, b) ({ __typeof__(a) a_ = (a), b_ = (b), m_ = a_ > b_; \
                             (m_ & a_) | (~m_ & b_); })

static inline double rto_lb_bits_float(int64_t b) { int32_t i = (int32_t)b; float x; memcpy(&x, &i, 4); return x; }
static inline double rto_lb_bits_double(int64_t b) { double x; memcpy(&x, &b, 8); return x; }
static inline int64_t rto_lb_mag_float(float x) { int32_t i; memcpy(&i, &x, 4); return i & RTO_LB_MASK_float; }
static inline int64_t rto_lb_mag_double(double x) { int64_t i; memcpy(&i, &x, 8); return i & RTO_LB_MASK_double; }

/* the lanes of two accumulators in double, as a fixed tree (short dependency chains) */
#define RTO_LB_HSUM(T, a, b) ({ double t_[RTO_LB_W_##T]; \
    for (int l_ = 0; l_ < RTO_LB_W_##T; l_++) t_[l_] = (double)(a)[l_] + (double)(b)[l_]; \
    for (int h_ = RTO_LB_W_##T / 2; h_ >= 1; h_ /= 2) \
        for (int l_ = 0; l_ < h_; l_++) t_[l_] += t_[l_ + h_]; \
    t_[0]; })
#define RTO_LB_HMAX(T, a, b) ({ int64_t m_ = 0; \
    for (int l_ = 0; l_ < RTO_LB_W_##T; l_++) { if ((a)[l_] > m_) m_ = (a)[l_]; \
                                                if ((b)[l_] > m_) m_ = (b)[l_]; } m_; })

/* ---- flags of the two-loop pass (rto_lb_pass):
 *   1  start from -src (else from src)
 *   2  q = q + alpha*v
 *   4  q = q*H (after 2)
 *   8  out[0] = w.q (the new q)
 *  16  out[1] = g.q and out[2] = max|q| (the direction's last pass)
 * q may alias src (each element is read before it is written). The combinations used: 1|8
 * (first pass), 1|4|16 (no history), 2|8 (a middle pass of either loop), 2|4|8 (the turn
 * between the loops), 2|16 (the last pass). */
#define RTO_LB_PASS(T) \
RTO_BODY void rto_lb_pass_body_##T(const T* src, T* q, const T* v, const T* w, const T* g, \
                                   T alpha, T H, int64_t b, int64_t e, double* out, \
                                   const int flags) { \
    enum { W = RTO_LB_W_##T }; \
    rto_lb_v##T zero = {0}, a0 = zero, b0 = zero, a1 = zero, b1 = zero; \
    rto_lb_i##T izero = {0}, ma = izero, mb = izero; \
    rto_lb_v##T va = zero + alpha, vh = zero + H; \
    int64_t i = b; \
    for (; i + 2 * W <= e; i += 2 * W) { \
        rto_lb_v##T x = RTO_LB_VLOAD(T, src + i), y = RTO_LB_VLOAD(T, src + i + W); \
        if (flags & 1) { x = -x; y = -y; } \
        if (flags & 2) { x = x + va * RTO_LB_VLOAD(T, v + i); \
                         y = y + va * RTO_LB_VLOAD(T, v + i + W); } \
        if (flags & 4) { x = x * vh; y = y * vh; } \
        RTO_LB_VSTORE(q + i, x); \
        RTO_LB_VSTORE(q + i + W, y); \
        if (flags & 8) { a0 = a0 + RTO_LB_VLOAD(T, w + i) * x; \
                         b0 = b0 + RTO_LB_VLOAD(T, w + i + W) * y; } \
        if (flags & 16) { a1 = a1 + RTO_LB_VLOAD(T, g + i) * x; \
                          b1 = b1 + RTO_LB_VLOAD(T, g + i + W) * y; \
                          ma = RTO_LB_VMAX(RTO_LB_VMAG(T, x), ma); \
                          mb = RTO_LB_VMAX(RTO_LB_VMAG(T, y), mb); } \
    } \
    double s0 = RTO_LB_HSUM(T, a0, b0), s1 = RTO_LB_HSUM(T, a1, b1); \
    int64_t m = RTO_LB_HMAX(T, ma, mb); \
    for (; i < e; i++) { \
        T x = src[i]; \
        if (flags & 1) x = -x; \
        if (flags & 2) x = x + alpha * v[i]; \
        if (flags & 4) x = x * H; \
        q[i] = x; \
        if (flags & 8) s0 += (double)(w[i] * x); \
        if (flags & 16) { s1 += (double)(g[i] * x); \
                          int64_t mi = rto_lb_mag_##T(x); if (mi > m) m = mi; } \
    } \
    out[0] = s0; \
    out[1] = s1; \
    out[2] = rto_lb_bits_##T(m); \
} \
RTO_MV static void rto_lb_pass_##T(const T* src, T* q, const T* v, const T* w, const T* g, \
                                   T alpha, T H, int flags, int64_t b, int64_t e, \
                                   double* out) { \
    switch (flags) { \
    case 9: rto_lb_pass_body_##T(src, q, v, w, g, alpha, H, b, e, out, 9); break; \
    case 21: rto_lb_pass_body_##T(src, q, v, w, g, alpha, H, b, e, out, 21); break; \
    case 10: rto_lb_pass_body_##T(src, q, v, w, g, alpha, H, b, e, out, 10); break; \
    case 14: rto_lb_pass_body_##T(src, q, v, w, g, alpha, H, b, e, out, 14); break; \
    case 18: rto_lb_pass_body_##T(src, q, v, w, g, alpha, H, b, e, out, 18); break; \
    default: break; \
    } \
}

/* ---- the curvature pair y = g - prev, s = d*t (d, t: the last iteration's direction and
 * step), flags:
 *   1  out[0] = y.s, out[1] = y.y (nothing written)
 *   6  y and s written, q = -g written, out[0] = s.q: the first pass of the two-loop
 *      recursion when (y, s) has just become the newest pair */
#define RTO_LB_PAIR(T) \
RTO_BODY void rto_lb_pair_body_##T(const T* g, const T* prev, const T* d, T t, T* q, T* y, \
                                   T* s, int64_t b, int64_t e, double* out, const int flags) { \
    enum { W = RTO_LB_W_##T }; \
    rto_lb_v##T zero = {0}, a0 = zero, b0 = zero, a1 = zero, b1 = zero, vt = zero + t; \
    int64_t i = b; \
    for (; i + 2 * W <= e; i += 2 * W) { \
        rto_lb_v##T g0 = RTO_LB_VLOAD(T, g + i), g1 = RTO_LB_VLOAD(T, g + i + W); \
        rto_lb_v##T y0 = g0 - RTO_LB_VLOAD(T, prev + i); \
        rto_lb_v##T y1 = g1 - RTO_LB_VLOAD(T, prev + i + W); \
        rto_lb_v##T s0 = RTO_LB_VLOAD(T, d + i) * vt, s1 = RTO_LB_VLOAD(T, d + i + W) * vt; \
        if (flags & 1) { \
            a0 = a0 + y0 * s0; b0 = b0 + y1 * s1; \
            a1 = a1 + y0 * y0; b1 = b1 + y1 * y1; \
        } else { \
            RTO_LB_VSTORE(y + i, y0); \
            RTO_LB_VSTORE(y + i + W, y1); \
            RTO_LB_VSTORE(s + i, s0); \
            RTO_LB_VSTORE(s + i + W, s1); \
            g0 = -g0; g1 = -g1; \
            RTO_LB_VSTORE(q + i, g0); \
            RTO_LB_VSTORE(q + i + W, g1); \
            a0 = a0 + s0 * g0; b0 = b0 + s1 * g1; \
        } \
    } \
    double r0 = RTO_LB_HSUM(T, a0, b0), r1 = RTO_LB_HSUM(T, a1, b1); \
    for (; i < e; i++) { \
        T yi = g[i] - prev[i], si = d[i] * t; \
        if (flags & 1) { \
            r0 += (double)(yi * si); \
            r1 += (double)(yi * yi); \
        } else { \
            T qi = -g[i]; \
            y[i] = yi; \
            s[i] = si; \
            q[i] = qi; \
            r0 += (double)(si * qi); \
        } \
    } \
    out[0] = r0; \
    out[1] = r1; \
    out[2] = 0.0; \
} \
RTO_MV static void rto_lb_pair_##T(const T* g, const T* prev, const T* d, T t, T* q, T* y, \
                                   T* s, int flags, int64_t b, int64_t e, double* out) { \
    if (flags == 1) rto_lb_pair_body_##T(g, prev, d, t, q, y, s, b, e, out, 1); \
    else rto_lb_pair_body_##T(g, prev, d, t, q, y, s, b, e, out, 6); \
}

/* ---- gather: dst = src (a gradient into its slice of the flat vector, or zeros when src is
 * NULL); out[2] = max|src|. With prev and d (not NULL), also the curvature sums of the pair
 * y = dst - prev, s = d*t: out[0] = y.s, out[1] = y.y (the next iteration's, computed while
 * the gradient passes through) */
#define RTO_LB_GATHER(T) \
RTO_MV static void rto_lb_gather_##T(const T* src, T* dst, const T* prev, const T* d, T t, \
                                     int64_t b, int64_t e, double* out) { \
    enum { W = RTO_LB_W_##T }; \
    out[0] = out[1] = out[2] = 0.0; \
    if (src == NULL) { \
        memset(dst + b, 0, (size_t)(e - b) * sizeof(T)); \
        if (prev != NULL) rto_lb_pair_body_##T(dst, prev, d, t, NULL, NULL, NULL, b, e, out, 1); \
        return; \
    } \
    rto_lb_i##T izero = {0}, ma = izero, mb = izero; \
    rto_lb_v##T zero = {0}, a0 = zero, b0 = zero, a1 = zero, b1 = zero, vt = zero + t; \
    const int pair = prev != NULL; \
    int64_t i = b; \
    for (; i + 2 * W <= e; i += 2 * W) { \
        rto_lb_v##T x = RTO_LB_VLOAD(T, src + i), y = RTO_LB_VLOAD(T, src + i + W); \
        RTO_LB_VSTORE(dst + i, x); \
        RTO_LB_VSTORE(dst + i + W, y); \
        ma = RTO_LB_VMAX(RTO_LB_VMAG(T, x), ma); \
        mb = RTO_LB_VMAX(RTO_LB_VMAG(T, y), mb); \
        if (pair) { \
            rto_lb_v##T y0 = x - RTO_LB_VLOAD(T, prev + i); \
            rto_lb_v##T y1 = y - RTO_LB_VLOAD(T, prev + i + W); \
            rto_lb_v##T s0 = RTO_LB_VLOAD(T, d + i) * vt; \
            rto_lb_v##T s1 = RTO_LB_VLOAD(T, d + i + W) * vt; \
            a0 = a0 + y0 * s0; b0 = b0 + y1 * s1; \
            a1 = a1 + y0 * y0; b1 = b1 + y1 * y1; \
        } \
    } \
    int64_t m = RTO_LB_HMAX(T, ma, mb); \
    double r0 = RTO_LB_HSUM(T, a0, b0), r1 = RTO_LB_HSUM(T, a1, b1); \
    for (; i < e; i++) { \
        T x = src[i]; \
        dst[i] = x; \
        int64_t mi = rto_lb_mag_##T(x); if (mi > m) m = mi; \
        if (pair) { \
            T yi = x - prev[i], si = d[i] * t; \
            r0 += (double)(yi * si); \
            r1 += (double)(yi * yi); \
        } \
    } \
    out[0] = r0; \
    out[1] = r1; \
    out[2] = rto_lb_bits_##T(m); \
}

/* ---- the move: p = p + t*d (a parameter and its slice of the direction) */
#define RTO_LB_AXPY(T) \
RTO_MV static void rto_lb_axpy_##T(T* restrict p, const T* restrict d, T t, int64_t b, \
                                   int64_t e) { \
    for (int64_t i = b; i < e; i++) p[i] = p[i] + t * d[i]; \
}

RTO_LB_PASS(float)
RTO_LB_PASS(double)
RTO_LB_PAIR(float)
RTO_LB_PAIR(double)
RTO_LB_GATHER(float)
RTO_LB_GATHER(double)
RTO_LB_AXPY(float)
RTO_LB_AXPY(double)
