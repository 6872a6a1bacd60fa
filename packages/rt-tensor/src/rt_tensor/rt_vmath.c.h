/* The array kernels of rt_vmath.h; included once, by _elementwise.pyx. Each has a clone
 * per instruction set (RT_MULTIVERSION). in and out may be the same array (in place). */
#include "rt_vmath.h"
RT_MULTIVERSION void rt_vexp_f32(const float *in, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = rt_expf(in[i]);
}
RT_MULTIVERSION void rt_vlog_f32(const float *in, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = rt_logf(in[i]);
}
RT_MULTIVERSION void rt_vtanh_f32(const float *in, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = rt_tanhf(in[i]);
}
RT_MULTIVERSION void rt_vsigmoid_f32(const float *in, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = rt_sigmoidf(in[i]);
}

/* Contiguous binary arithmetic for float32/float64, vectorised per instruction set: at sizes
 * that live in the caches the vector width, not memory, is the limit. Operands may alias
 * the output (in-place ops); `s` variants take a scalar second operand. */
#define RT_VBINARY(NAME, T, OP)                                                            \
RT_MULTIVERSION_MEM void NAME(const T *a, const T *b, T *out, int64_t n) {                  \
    for (int64_t i = 0; i < n; i++) out[i] = a[i] OP b[i];                                 \
}                                                                                           \
RT_MULTIVERSION_MEM void NAME##_scalar(const T *a, const T *b, T *out, int64_t n) {        \
    const T s = b[0];                                                                       \
    for (int64_t i = 0; i < n; i++) out[i] = a[i] OP s;                                    \
}
RT_VBINARY(rt_vadd_f32, float, +)
RT_VBINARY(rt_vsub_f32, float, -)
RT_VBINARY(rt_vmul_f32, float, *)
RT_VBINARY(rt_vdiv_f32, float, /)
RT_VBINARY(rt_vadd_f64, double, +)
RT_VBINARY(rt_vsub_f64, double, -)
RT_VBINARY(rt_vmul_f64, double, *)
RT_VBINARY(rt_vdiv_f64, double, /)
