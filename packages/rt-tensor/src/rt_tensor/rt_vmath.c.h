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
