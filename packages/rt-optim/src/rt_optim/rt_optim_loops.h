/* Shared machinery of the optimizers' element loops (the `*_loops.h` headers of the fused
 * kernel modules).
 *
 * Why C and not Cython loops: each loop is compiled for AVX-512, AVX2 and the baseline and the
 * best one is picked when the module loads (target_clones), as rt-tensor's vector math does
 * (rt_vmath.h), so no -march flag reaches the shared object (BUILD-NOTES.md). A Cython
 * function cannot carry that attribute.
 *
 * Why a switch over the flags: a loop body is written once, as an always-inline function of
 * its option bits; RTO_CASES* call it with each bit pattern as a compile-time constant, so
 * every instance is a branch-free loop the compiler vectorizes, and the options cost nothing
 * per element.
 *
 * Float semantics: the build never contracts a*b+c into FMA (-ffp-contract=off), sqrtf is the
 * correctly rounded square root (vsqrtps), so results do not depend on the clone that runs.
 */
#ifndef RT_OPTIM_LOOPS_H
#define RT_OPTIM_LOOPS_H

#include <math.h>
#include <stdint.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define RTO_MV __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define RTO_MV
#endif
#define RTO_BODY static inline __attribute__((always_inline))

/* call BODY(ARGS..., k) with k a constant for every k of the flag word's range */
#define RTO_CASE(BODY, k, ...) case k: BODY(__VA_ARGS__, k); break;
#define RTO_CASES4(BODY, flags, ...) switch (flags) { \
    RTO_CASE(BODY, 0, __VA_ARGS__) RTO_CASE(BODY, 1, __VA_ARGS__) \
    RTO_CASE(BODY, 2, __VA_ARGS__) RTO_CASE(BODY, 3, __VA_ARGS__) default: break; }
#define RTO_CASES8(BODY, flags, ...) switch (flags) { \
    RTO_CASE(BODY, 0, __VA_ARGS__) RTO_CASE(BODY, 1, __VA_ARGS__) \
    RTO_CASE(BODY, 2, __VA_ARGS__) RTO_CASE(BODY, 3, __VA_ARGS__) \
    RTO_CASE(BODY, 4, __VA_ARGS__) RTO_CASE(BODY, 5, __VA_ARGS__) \
    RTO_CASE(BODY, 6, __VA_ARGS__) RTO_CASE(BODY, 7, __VA_ARGS__) default: break; }
#define RTO_CASES16(BODY, flags, ...) switch (flags) { \
    RTO_CASE(BODY, 0, __VA_ARGS__) RTO_CASE(BODY, 1, __VA_ARGS__) \
    RTO_CASE(BODY, 2, __VA_ARGS__) RTO_CASE(BODY, 3, __VA_ARGS__) \
    RTO_CASE(BODY, 4, __VA_ARGS__) RTO_CASE(BODY, 5, __VA_ARGS__) \
    RTO_CASE(BODY, 6, __VA_ARGS__) RTO_CASE(BODY, 7, __VA_ARGS__) \
    RTO_CASE(BODY, 8, __VA_ARGS__) RTO_CASE(BODY, 9, __VA_ARGS__) \
    RTO_CASE(BODY, 10, __VA_ARGS__) RTO_CASE(BODY, 11, __VA_ARGS__) \
    RTO_CASE(BODY, 12, __VA_ARGS__) RTO_CASE(BODY, 13, __VA_ARGS__) \
    RTO_CASE(BODY, 14, __VA_ARGS__) RTO_CASE(BODY, 15, __VA_ARGS__) default: break; }

static inline float rto_sqrt_float(float x) { return sqrtf(x); }
static inline double rto_sqrt_double(double x) { return sqrt(x); }

/* PyTorch's lerp (ATen Lerp.h): exact at the nearer end; `big` (|weight| >= 0.5) is known
 * per call, so it is one of the flag bits */
#define RTO_LERP(T, start, end, weight, big) \
    ((big) ? (end) - ((end) - (start)) * ((T)1 - (weight)) : (start) + (weight) * ((end) - (start)))

/* torch.maximum: NaN wins */
#define RTO_MAX_NAN(a, b) (((a) > (b) || (a) != (a)) ? (a) : (b))

#endif
