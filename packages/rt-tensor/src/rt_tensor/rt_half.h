/* float16 and bfloat16 <-> float32 conversions, round-to-nearest-even, NaN-preserving.
 * Both are stored as their raw 16 bits; kernels compute in float32 (DESIGN.md).
 * Branch-light so loops that call them vectorise. */
#ifndef RT_HALF_H
#define RT_HALF_H
#include <stdint.h>
#include <string.h>

static inline uint32_t rt_f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float rt_bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* bfloat16 is the top half of a float32. */
static inline float rt_bf16_to_f32(uint16_t h) { return rt_bits_f32(((uint32_t)h) << 16); }
static inline uint16_t rt_f32_to_bf16(float f) {
    uint32_t u = rt_f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);                                            /* RNE */
    return (uint16_t)(u >> 16);
}

/* IEEE binary16, after the method of Fabian Giesen's "half to float done quick". */
static inline float rt_f16_to_f32(uint16_t h) {
    const uint32_t magic = 113u << 23;
    const uint32_t shifted_exp = 0x7c00u << 13;
    uint32_t o = ((uint32_t)(h & 0x7fffu)) << 13;
    uint32_t exp = shifted_exp & o;
    o += (127u - 15u) << 23;
    if (exp == shifted_exp) {
        o += (128u - 16u) << 23;                 /* Inf/NaN */
    } else if (exp == 0) {
        o += 1u << 23;                           /* zero/denormal */
        o = rt_f32_bits(rt_bits_f32(o) - rt_bits_f32(magic));
    }
    o |= ((uint32_t)(h & 0x8000u)) << 16;
    return rt_bits_f32(o);
}

static inline uint16_t rt_f32_to_f16(float f) {
    uint32_t x = rt_f32_bits(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t ax = x & 0x7fffffffu;
    uint16_t r;
    if (ax >= 0x7f800000u) {                     /* Inf or NaN */
        r = (uint16_t)(ax > 0x7f800000u ? 0x7e00u : 0x7c00u);
    } else if (ax >= 0x477ff000u) {              /* overflows to Inf after rounding */
        r = 0x7c00u;
    } else if (ax < 0x38800000u) {               /* result is subnormal or zero */
        /* add 0.5 and let the FPU round-to-nearest-even the mantissa */
        float v = rt_bits_f32(ax) + 0.5f;
        r = (uint16_t)(rt_f32_bits(v) - 0x3f000000u);
    } else {
        uint32_t mant_odd = (ax >> 13) & 1u;
        ax += ((uint32_t)(15 - 127) << 23) + 0xfffu;
        ax += mant_odd;
        r = (uint16_t)(ax >> 13);
    }
    return (uint16_t)(r | sign);
}
#endif
