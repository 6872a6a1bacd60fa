# cython: language_level=3, binding=True
"""Elementwise math: the binary and unary ops of the table in codegen/elementwise_ops.py.

One dispatcher per arity does what PyTorch's TensorIterator does: promote dtypes (Python
scalars and 0-d tensors count less, c10's ResultTypeState), broadcast shapes by stride 0,
pick the compute dtype, convert operands whose dtype differs (the small, un-broadcast
operand, never the broadcast result), check ``out=``/in-place outputs (castable dtype, shape,
no internal or partial overlap), then run the generated inner loop through the N-d
iterator. A contiguous same-dtype fast path keeps the per-op cost of tiny ops low.
"""
include "build_stamp.pxi"
import numbers
import warnings

import numpy as np

from libc.string cimport memcpy
from libc.stdint cimport INT8_MIN, INT8_MAX, INT16_MIN, INT16_MAX, INT32_MIN, INT32_MAX
from rt_tensor._types cimport *
from rt_tensor._dtype cimport (dtype, dtype_of, ITEMSIZE, category, can_cast_code,
                               default_float_code, default_complex_code, to_real_code,
                               ResultState, state_init, state_update_tensor, state_update_scalar,
                               state_result, as_dtype)
from rt_tensor._tensor cimport (Tensor, new_tensor, register_elementwise_hooks, copy_into,
                                shape_tuple, resize_out)
from rt_tensor._iter cimport (NdIter, inner_loop_t, iter_init, iter_add, iter_add_raw,
                              iter_coalesce, iter_run, broadcast_shapes)
from rt_tensor._copy cimport copy_loop, check_no_internal_overlap, overlap_status
from rt_tensor._parallel cimport parallel_for, GRAIN_ELEMENTWISE
from rt_tensor._opcodes cimport *

cdef extern from "<math.h>" nogil:
    float expf(float)
    float exp2f(float)
    float expm1f(float)
    float logf(float)
    float log2f(float)
    float log10f(float)
    float log1pf(float)
    float sqrtf(float)
    float sinf(float)
    float cosf(float)
    float tanf(float)
    float asinf(float)
    float acosf(float)
    float atanf(float)
    float sinhf(float)
    float coshf(float)
    float tanhf(float)
    float asinhf(float)
    float acoshf(float)
    float atanhf(float)
    float erff(float)
    float erfcf(float)
    float lgammaf(float)
    float floorf(float)
    float ceilf(float)
    float nearbyintf(float)
    float truncf(float)
    float fabsf(float)
    float powf(float, float)
    float fmodf(float, float)
    float fmaxf(float, float)
    float fminf(float, float)
    float atan2f(float, float)
    float hypotf(float, float)
    float copysignf(float, float)
    double exp(double)
    double exp2(double)
    double expm1(double)
    double log(double)
    double log2(double)
    double log10(double)
    double log1p(double)
    double sqrt(double)
    double sin(double)
    double cos(double)
    double tan(double)
    double asin(double)
    double acos(double)
    double atan(double)
    double sinh(double)
    double cosh(double)
    double tanh(double)
    double asinh(double)
    double acosh(double)
    double atanh(double)
    double erf(double)
    double erfc(double)
    double lgamma(double)
    double floor(double)
    double ceil(double)
    double nearbyint(double)
    double trunc(double)
    double fabs(double)
    double pow_c "pow"(double, double)
    double fmod(double, double)
    double fmax(double, double)
    double fmin(double, double)
    double atan2(double, double)
    double hypot(double, double)
    double copysign(double, double)
    bint isinf(double)
    bint isfinite(double)
    int signbit(double)

cdef extern from "<complex.h>" nogil:
    float complex cexpf(float complex)
    float complex clogf(float complex)
    float complex csqrtf(float complex)
    float complex csinf(float complex)
    float complex ccosf(float complex)
    float complex ctanf(float complex)
    float complex casinf(float complex)
    float complex cacosf(float complex)
    float complex catanf(float complex)
    float complex csinhf(float complex)
    float complex ccoshf(float complex)
    float complex ctanhf(float complex)
    float complex casinhf(float complex)
    float complex cacoshf(float complex)
    float complex catanhf(float complex)
    float complex conjf(float complex)
    float cabsf(float complex)
    float cargf(float complex)
    double complex cexp(double complex)
    double complex clog(double complex)
    double complex csqrt(double complex)
    double complex csin(double complex)
    double complex ccos(double complex)
    double complex ctan(double complex)
    double complex casin(double complex)
    double complex cacos(double complex)
    double complex catan(double complex)
    double complex csinh(double complex)
    double complex ccosh(double complex)
    double complex ctanh(double complex)
    double complex casinh(double complex)
    double complex cacosh(double complex)
    double complex catanh(double complex)
    double complex conj(double complex)
    double cabs(double complex)
    double carg(double complex)

cdef extern from *:
    """
    #include <math.h>
    #include <complex.h>
    #include <stdint.h>
    /* Python/PyTorch floor division and remainder (sign of the divisor). Integer division
     * by zero sets *flag (the caller raises ZeroDivisionError, as PyTorch does); b == -1 is
     * handled apart because INT64_MIN / -1 traps on x86. */
    static inline long long _floordiv_int(long long a, long long b, int *flag) {
        if (b == 0) { *flag = 1; return 0; }
        if (b == -1) return (long long)(0ULL - (unsigned long long)a);
        long long q = a / b;
        if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1;
        return q;
    }
    static inline unsigned long long _floordiv_uint(unsigned long long a, unsigned long long b, int *flag) {
        if (b == 0) { *flag = 1; return 0; }
        return a / b;
    }
    static inline long long _truncdiv_int(long long a, long long b, int *flag) {
        if (b == 0) { *flag = 1; return 0; }
        if (b == -1) return (long long)(0ULL - (unsigned long long)a);
        return a / b;
    }
    static inline long long _rem_int(long long a, long long b, int *flag) {
        if (b == 0) { *flag = 1; return 0; }
        if (b == -1) return 0;
        long long r = a % b;
        if (r != 0 && ((r < 0) != (b < 0))) r += b;
        return r;
    }
    static inline unsigned long long _rem_uint(unsigned long long a, unsigned long long b, int *flag) {
        if (b == 0) { *flag = 1; return 0; }
        return a % b;
    }
    static inline long long _fmod_int(long long a, long long b, int *flag) {
        if (b == 0) { *flag = 1; return 0; }
        if (b == -1) return 0;
        return a % b;
    }
    /* PyTorch's div_floor_floating (aten/src/ATen/native/BinaryOps.h) */
    #define RT_FLOORDIV_FLOAT(NAME, T, FMOD, FLOOR, COPYSIGN)                        \\
    static inline T NAME(T a, T b) {                                                 \\
        if (b == 0) return a / b;                                                    \\
        T mod = FMOD(a, b);                                                          \\
        T div = (a - mod) / b;                                                       \\
        if ((mod != 0) && ((b < 0) != (mod < 0))) div -= 1;                          \\
        T floordiv;                                                                  \\
        if (div != 0) { floordiv = FLOOR(div); if (div - floordiv > (T)0.5) floordiv += 1; } \\
        else floordiv = COPYSIGN((T)0, a / b);                                       \\
        return floordiv;                                                             \\
    }
    RT_FLOORDIV_FLOAT(_floordiv_float, float, fmodf, floorf, copysignf)
    RT_FLOORDIV_FLOAT(_floordiv_double, double, fmod, floor, copysign)
    static inline float _rem_float(float a, float b) {
        float m = fmodf(a, b);
        if (m != 0 && ((b < 0) != (m < 0))) m += b;
        return m;
    }
    static inline double _rem_double(double a, double b) {
        double m = fmod(a, b);
        if (m != 0 && ((b < 0) != (m < 0))) m += b;
        return m;
    }
    /* integer power by squaring, wrapping like C++'s integer arithmetic; negative
     * exponents give 0 except for bases 1 and -1 (PyTorch's powi) */
    static inline long long _ipow_signed(long long a, long long b) {
        if (b < 0) { if (a == 1) return 1; if (a == -1) return (b & 1) ? -1 : 1; return 0; }
        unsigned long long r = 1, x = (unsigned long long)a;
        while (b) { if (b & 1) r *= x; x *= x; b >>= 1; }
        return (long long)r;
    }
    static inline unsigned long long _ipow_unsigned(unsigned long long a, unsigned long long b) {
        unsigned long long r = 1;
        while (b) { if (b & 1) r *= a; a *= a; b >>= 1; }
        return r;
    }
    static inline float _logaddexp_float(float a, float b) {
        if (isinf(a) && a == b) return a;
        float m = a > b ? a : b;
        return m + log1pf(expf(-fabsf(a - b)));
    }
    static inline double _logaddexp_double(double a, double b) {
        if (isinf(a) && a == b) return a;
        double m = a > b ? a : b;
        return m + log1p(exp(-fabs(a - b)));
    }
    static inline float _xlogy_float(float x, float y) {
        if (isnan(y)) return NAN;
        if (x == 0) return 0;
        return x * logf(y);
    }
    static inline double _xlogy_double(double x, double y) {
        if (isnan(y)) return NAN;
        if (x == 0) return 0;
        return x * log(y);
    }
    static inline float _Complex _cpowf(float _Complex a, float _Complex b) { return cpowf(a, b); }
    static inline double _Complex _cpow(double _Complex a, double _Complex b) { return cpow(a, b); }
    static inline float _Complex _csgnf(float _Complex z) { float r = cabsf(z); return r == 0 ? 0 : z / r; }
    static inline double _Complex _csgn(double _Complex z) { double r = cabs(z); return r == 0 ? 0 : z / r; }
    /* shifts: PyTorch gives 0 (or -1 for negative signed values shifted right) when the
     * shift is negative or at least the width; C would be undefined there */
    #define RT_SHIFTS(NAME, T, UT, BITS, SIGNED)                                                   \\
    static inline T _lshift_##NAME(T a, T b) { return ((long long)b < 0 || (long long)b >= BITS) ? 0 : (T)((UT)a << b); } \\
    static inline T _rshift_##NAME(T a, T b) { return ((long long)b < 0 || (long long)b >= BITS) ? ((SIGNED && a < 0) ? (T)-1 : 0) : (T)(a >> b); }
    RT_SHIFTS(uint8, uint8_t, uint8_t, 8, 0)
    RT_SHIFTS(int8, int8_t, uint8_t, 8, 1)
    RT_SHIFTS(int16, int16_t, uint16_t, 16, 1)
    RT_SHIFTS(int32, int32_t, uint32_t, 32, 1)
    RT_SHIFTS(int64, int64_t, uint64_t, 64, 1)
    """
    long long _floordiv_int(long long a, long long b, int* flag) nogil
    unsigned long long _floordiv_uint(unsigned long long a, unsigned long long b, int* flag) nogil
    long long _truncdiv_int(long long a, long long b, int* flag) nogil
    long long _rem_int(long long a, long long b, int* flag) nogil
    unsigned long long _rem_uint(unsigned long long a, unsigned long long b, int* flag) nogil
    long long _fmod_int(long long a, long long b, int* flag) nogil
    float _floordiv_float(float a, float b) nogil
    double _floordiv_double(double a, double b) nogil
    float _rem_float(float a, float b) nogil
    double _rem_double(double a, double b) nogil
    long long _ipow_signed(long long a, long long b) nogil
    unsigned long long _ipow_unsigned(unsigned long long a, unsigned long long b) nogil
    float _logaddexp_float(float a, float b) nogil
    double _logaddexp_double(double a, double b) nogil
    float _xlogy_float(float a, float b) nogil
    double _xlogy_double(double a, double b) nogil
    float complex _cpowf(float complex a, float complex b) nogil
    double complex _cpow(double complex a, double complex b) nogil
    float complex _csgnf(float complex a) nogil
    double complex _csgn(double complex a) nogil
    uint8_t _lshift_uint8(uint8_t a, uint8_t b) nogil
    int8_t _lshift_int8(int8_t a, int8_t b) nogil
    int16_t _lshift_int16(int16_t a, int16_t b) nogil
    int32_t _lshift_int32(int32_t a, int32_t b) nogil
    int64_t _lshift_int64(int64_t a, int64_t b) nogil
    uint8_t _rshift_uint8(uint8_t a, uint8_t b) nogil
    int8_t _rshift_int8(int8_t a, int8_t b) nogil
    int16_t _rshift_int16(int16_t a, int16_t b) nogil
    int32_t _rshift_int32(int32_t a, int32_t b) nogil
    int64_t _rshift_int64(int64_t a, int64_t b) nogil

cdef extern from "rt_vmath.c.h" nogil:
    float rt_expf(float)
    float rt_logf(float)
    float rt_tanhf(float)
    float rt_sigmoidf(float)
    void rt_vexp_f32(const float* inp, float* out, int64_t n)
    void rt_vlog_f32(const float* inp, float* out, int64_t n)
    void rt_vtanh_f32(const float* inp, float* out, int64_t n)
    void rt_vsigmoid_f32(const float* inp, float* out, int64_t n)
    void rt_vadd_f32(const float* a, const float* b, float* out, int64_t n)
    void rt_vsub_f32(const float* a, const float* b, float* out, int64_t n)
    void rt_vmul_f32(const float* a, const float* b, float* out, int64_t n)
    void rt_vdiv_f32(const float* a, const float* b, float* out, int64_t n)
    void rt_vadd_f64(const double* a, const double* b, double* out, int64_t n)
    void rt_vsub_f64(const double* a, const double* b, double* out, int64_t n)
    void rt_vmul_f64(const double* a, const double* b, double* out, int64_t n)
    void rt_vdiv_f64(const double* a, const double* b, double* out, int64_t n)
    void rt_vadd_f32_scalar(const float* a, const float* b, float* out, int64_t n)
    void rt_vsub_f32_scalar(const float* a, const float* b, float* out, int64_t n)
    void rt_vmul_f32_scalar(const float* a, const float* b, float* out, int64_t n)
    void rt_vdiv_f32_scalar(const float* a, const float* b, float* out, int64_t n)
    void rt_vadd_f64_scalar(const double* a, const double* b, double* out, int64_t n)
    void rt_vsub_f64_scalar(const double* a, const double* b, double* out, int64_t n)
    void rt_vmul_f64_scalar(const double* a, const double* b, double* out, int64_t n)
    void rt_vdiv_f64_scalar(const double* a, const double* b, double* out, int64_t n)

include "_elementwise_loops.pxi"

cdef dict _BIDX = {name: k for k, name in enumerate(BINARY_NAMES)}
cdef dict _UIDX = {name: k for k, name in enumerate(UNARY_NAMES)}
cdef int B_DIV = _BIDX["div"], B_DIV_TRUNC = _BIDX["div_trunc"], B_ATAN2 = _BIDX["atan2"]
cdef int B_HYPOT = _BIDX["hypot"], B_COPYSIGN = _BIDX["copysign"], B_LOGADDEXP = _BIDX["logaddexp"]
cdef int B_XLOGY = _BIDX["xlogy"], B_LAND = _BIDX["logical_and"], B_LOR = _BIDX["logical_or"]
cdef int B_LXOR = _BIDX["logical_xor"], B_MAXIMUM = _BIDX["maximum"], B_MINIMUM = _BIDX["minimum"]
cdef int B_FMOD = _BIDX["fmod"]
cdef int U_LOGICAL_NOT = _UIDX["logical_not"]
cdef int U_SQRT = _UIDX["sqrt"], U_RSQRT = _UIDX["rsqrt"], U_RECIPROCAL = _UIDX["reciprocal"]

# ops whose integer/bool inputs compute in the default float dtype
cdef bint FLOAT_BINARY[NUM_EW_BINARY]
cdef bint FLOAT_UNARY[NUM_EW_UNARY]
for _k in range(NUM_EW_BINARY):
    FLOAT_BINARY[_k] = BINARY_NAMES[_k] in ("div", "atan2", "hypot", "copysign", "logaddexp", "xlogy")
for _k in range(NUM_EW_UNARY):
    FLOAT_UNARY[_k] = UNARY_NAMES[_k] in (
        "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sin", "cos",
        "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
        "sigmoid", "erf", "erfc", "lgamma", "reciprocal", "frac", "angle")

# PyTorch's kernel names in "not implemented for" messages
cdef dict _KERNEL_NAME = {"add": "add", "sub": "sub", "mul": "mul", "div": "div_true",
                          "floor_divide": "div_floor", "remainder": "remainder", "pow": "pow",
                          "bitwise_and": "bitwise_and", "neg": "neg", "abs": "abs"}


# ---------------------------------------------------------------------------------------
# operands

cdef inline bint _is_number(object x):
    return isinstance(x, (int, float, complex)) or isinstance(x, np.generic) and not isinstance(x, np.ndarray)


cdef int _scalar_code(object x) except -1:
    if isinstance(x, (bool, np.bool_)):
        return DT_BOOL
    if isinstance(x, (int, np.integer)):
        return DT_INT64
    if isinstance(x, (float, np.floating)):
        return DT_FLOAT64
    if isinstance(x, (complex, np.complexfloating)):
        return DT_COMPLEX128
    raise TypeError(f"unsupported operand type: {type(x).__name__}")


cdef void _write_scalar(char* buf, int dt, object x) except *:
    """Store the Python number x as one element of dtype dt. As in PyTorch, integers wrap
    around to the dtype (uint8 + 300 adds 44) and floats overflow to inf; only integers
    beyond 64 bits raise."""
    cdef long long iv
    cdef double dv
    cdef int cat = category(dt)
    if cat == 3:
        cv = complex(x)
        if dt == DT_COMPLEX64:
            (<float*>buf)[0] = cv.real
            (<float*>buf)[1] = cv.imag
        else:
            (<double*>buf)[0] = cv.real
            (<double*>buf)[1] = cv.imag
        return
    if cat == 2:
        dv = float(x.real if isinstance(x, (complex, np.complexfloating)) else x)
        if dt == DT_FLOAT64:
            (<double*>buf)[0] = dv
        elif dt == DT_FLOAT32:
            (<float*>buf)[0] = <float>dv
        elif dt == DT_FLOAT16:
            (<uint16_t*>buf)[0] = rt_f32_to_f16(<float>dv)
        else:
            (<uint16_t*>buf)[0] = rt_f32_to_bf16(<float>dv)
        return
    if cat == 0:
        (<bool_t*>buf)[0] = 1 if x else 0
        return
    py = int(x)
    if py < -2**63 or py >= 2**64:
        raise OverflowError("int too big to convert")
    iv = <long long>(py - 2**64 if py >= 2**63 else py)
    if dt == DT_UINT8:
        (<uint8_t*>buf)[0] = <uint8_t>iv
    elif dt == DT_INT8:
        (<int8_t*>buf)[0] = <int8_t>iv
    elif dt == DT_INT16:
        (<int16_t*>buf)[0] = <int16_t>iv
    elif dt == DT_INT32:
        (<int32_t*>buf)[0] = <int32_t>iv
    else:
        (<int64_t*>buf)[0] = <int64_t>iv


cdef Tensor _as_dtype_tensor(Tensor t, int dt):
    """t converted to dtype dt (t itself when it already is): a copy of t's own shape,
    not of the broadcast shape."""
    if t._dtype == dt:
        return t
    cdef Tensor c = new_tensor(dt, t._ndim, t._shape, False)
    cdef NdIter it
    iter_init(&it, t._ndim, t._shape)
    iter_add(&it, c)
    iter_add(&it, t)
    iter_coalesce(&it)
    with nogil:
        iter_run(&it, copy_loop(t._dtype, dt), NULL, GRAIN_ELEMENTWISE)
    return c


cdef str _fmt_shape(int nd, const index_t* s):
    return "[" + ", ".join([str(s[i]) for i in range(nd)]) + "]"


cdef Tensor _prepare_output(Tensor out, bint inplace, int od, int nd, const index_t* shape,
                            str opname):
    """Validate an in-place or out= target; returns it, or a new tensor when out is None."""
    cdef int i
    if out is None:
        return new_tensor(od, nd, shape, False)
    if not can_cast_code(od, out._dtype):
        raise RuntimeError(f"result type {dtype_of(od).scalar_name} can't be cast to the desired "
                           f"output type {dtype_of(out._dtype).scalar_name}")
    if inplace:
        same = out._ndim == nd
        if same:
            for i in range(nd):
                if out._shape[i] != shape[i]:
                    same = False
                    break
        if not same:
            raise RuntimeError(f"output with shape {_fmt_shape(out._ndim, out._shape)} doesn't "
                               f"match the broadcast shape {_fmt_shape(nd, shape)}")
    else:
        resize_out(out, nd, shape)
    check_no_internal_overlap(out)
    return out


cdef Tensor _guard_overlap(Tensor inp, Tensor out):
    """An input that partly overlaps the output: an error where PyTorch raises (both
    contiguous), a private copy where the overlap is too complex to reason about."""
    cdef int status = overlap_status(out, inp)
    if status == 2:
        raise RuntimeError("unsupported operation: some elements of the input tensor and the "
                           "written-to tensor refer to a single memory location. Please clone() "
                           "the tensor before performing the operation.")
    if status == 3:
        return inp.clone()
    return inp


cdef str _not_implemented(str opname, int dt):
    # PyTorch raises these (a dtype its kernel was not compiled for) as NotImplementedError
    return f"\"{_KERNEL_NAME.get(opname, opname)}_cpu\" not implemented for '{dtype_of(dt).scalar_name}'"


cdef struct ScalarBuf:
    double data[2]


# ---------------------------------------------------------------------------------------
# the binary dispatcher

cdef Tensor _pow_special(Tensor a, object exponent):
    """a ** exponent without pow() for a real floating tensor and the exponents PyTorch
    computes so (ATen's pow_tensor_scalar_optimized_kernel): 2 -> a*a, 3 -> a*a*a,
    0.5 -> sqrt, -0.5 -> rsqrt, -1 -> reciprocal, -2 -> 1/(a*a), 1 -> a copy. The same
    numbers as PyTorch (sqrt(-0.) is -0., as in PyTorch) at memory speed, where libm's pow
    costs ~10 ns an element. None for every other case."""
    if category(a._dtype) != 2 or isinstance(exponent, bool) \
            or not isinstance(exponent, (int, float)):
        return None
    cdef double e = exponent
    if e == 2.0:
        return binary_op(OP_MUL, a, a, None, False)
    if e == 3.0:
        return binary_op(OP_MUL, binary_op(OP_MUL, a, a, None, False), a, None, False)
    if e == 0.5:
        return unary_op(U_SQRT, a, None, False)
    if e == -0.5:
        return unary_op(U_RSQRT, a, None, False)
    if e == -1.0:
        return unary_op(U_RECIPROCAL, a, None, False)
    if e == -2.0:
        return unary_op(U_RECIPROCAL, binary_op(OP_MUL, a, a, None, False), None, False)
    if e == 1.0:
        return a.clone()
    return None


cdef object binary_op(int k, object a, object b, Tensor out, bint inplace):
    cdef Tensor ta = None, tb = None, result, target
    cdef ResultState st
    cdef int rd, cd, od, nd, i, flag = 0
    cdef index_t shape[MAX_DIMS]
    cdef ScalarBuf sa, sb
    cdef NdIter it
    cdef char* data[3]
    cdef index_t strides[3]
    cdef inner_loop_t loop
    cdef str opname

    # fast path: same dtype, same shape, contiguous, new output
    if out is None and isinstance(a, Tensor) and isinstance(b, Tensor):
        ta = <Tensor>a
        tb = <Tensor>b
        if (ta._dtype == tb._dtype and ta._ndim == tb._ndim and BINARY_OUT[k] == 0
                and not FLOAT_BINARY[k] and k != B_LAND and k != B_LOR and k != B_LXOR
                and BINARY_LOOPS[k][ta._dtype] != NULL and ta.is_contig() and tb.is_contig()):
            for i in range(ta._ndim):
                if ta._shape[i] != tb._shape[i]:
                    break
            else:
                result = new_tensor(ta._dtype, ta._ndim, ta._shape, False)
                if ta._numel == 0:
                    return result
                loop = BINARY_LOOPS[k][ta._dtype]
                data[0] = result.ptr()
                data[1] = ta.ptr()
                data[2] = tb.ptr()
                strides[0] = strides[1] = strides[2] = ITEMSIZE[ta._dtype]
                if ta._numel < 2 * GRAIN_ELEMENTWISE:
                    loop(data, strides, ta._numel, &flag)
                else:
                    iter_init(&it, 1, &ta._numel)
                    iter_add(&it, result)
                    it.data[1] = data[1]
                    it.data[2] = data[2]
                    it.strides[1][0] = it.strides[2][0] = ITEMSIZE[ta._dtype]
                    it.nop = 3
                    with nogil:
                        iter_run(&it, loop, &flag, GRAIN_ELEMENTWISE)
                if flag:
                    raise RuntimeError("ZeroDivisionError")
                return result

    if k == OP_POW and out is None and isinstance(a, Tensor) and not isinstance(b, Tensor):
        result = _pow_special(<Tensor>a, b)
        if result is not None:
            return result

    # operands and the result dtype
    state_init(&st)
    if isinstance(a, Tensor):
        ta = <Tensor>a
        state_update_tensor(&st, ta._dtype, ta._ndim)
    elif _is_number(a):
        ta = None
        state_update_scalar(&st, _scalar_code(a))
    else:
        return NotImplemented if not inplace else _type_error(k, a, b)
    if isinstance(b, Tensor):
        tb = <Tensor>b
        state_update_tensor(&st, tb._dtype, tb._ndim)
    elif _is_number(b):
        tb = None
        state_update_scalar(&st, _scalar_code(b))
    else:
        return NotImplemented if not inplace else _type_error(k, a, b)
    if ta is None and tb is None:
        raise TypeError(f"{BINARY_NAMES[k]}(): expected at least one tensor argument")
    rd = state_result(&st)
    opname = BINARY_NAMES[k]
    if (k == OP_POW and ta is not None and tb is None and category(ta._dtype) <= 1
            and isinstance(b, (int, np.integer)) and not isinstance(b, (bool, np.bool_)) and b < 0):
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    cd = rd
    if FLOAT_BINARY[k] and category(rd) < 2:
        cd = default_float_code()
    elif k == B_LAND or k == B_LOR or k == B_LXOR:
        cd = DT_BOOL
    if BINARY_OUT[k] == 1:
        od = DT_BOOL
    elif BINARY_OUT[k] == 2:
        od = to_real_code(cd)
    else:
        od = cd
    loop = BINARY_LOOPS[k][cd]
    if loop == NULL:
        _raise_unsupported_binary(k, cd, ta, tb)

    # shapes
    if ta is not None and tb is not None:
        nd = broadcast_shapes(ta._ndim, ta._shape, tb._ndim, tb._shape, shape)
    elif ta is not None:
        nd = ta._ndim
        for i in range(nd):
            shape[i] = ta._shape[i]
    else:
        nd = tb._ndim
        for i in range(nd):
            shape[i] = tb._shape[i]

    target = _prepare_output(out, inplace, od, nd, shape, opname)
    if target._dtype != od:
        result = new_tensor(od, nd, shape, False)
    else:
        result = target
        if ta is not None:
            ta = _guard_overlap(ta, result)
        if tb is not None:
            tb = _guard_overlap(tb, result)

    iter_init(&it, nd, shape)
    iter_add(&it, result)
    if ta is not None:
        ta = _as_dtype_tensor(ta, cd)
        iter_add(&it, ta)
    else:
        _write_scalar(<char*>sa.data, cd, a)
        iter_add_raw(&it, <char*>sa.data, 0, NULL, NULL, 0)
    if tb is not None:
        tb = _as_dtype_tensor(tb, cd)
        iter_add(&it, tb)
    else:
        _write_scalar(<char*>sb.data, cd, b)
        iter_add_raw(&it, <char*>sb.data, 0, NULL, NULL, 0)
    iter_coalesce(&it)
    with nogil:
        iter_run(&it, loop, &flag, GRAIN_ELEMENTWISE)
    if flag:
        raise RuntimeError("ZeroDivisionError")
    if result is not target:
        copy_into(target, result)
    elif out is not None:
        target._storage.version += 1
    return target


cdef object _type_error(int k, a, b):
    raise TypeError(f"{BINARY_NAMES[k]}(): unsupported operand types: '{type(a).__name__}' and "
                    f"'{type(b).__name__}'")


cdef void _raise_unsupported_binary(int k, int cd, Tensor ta, Tensor tb) except *:
    name = BINARY_NAMES[k]
    if name == "sub" and cd == DT_BOOL:
        both = ta is not None and tb is not None and ta._dtype == DT_BOOL and tb._dtype == DT_BOOL
        if both:
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                               "supported. Use the `^` or `logical_xor()` operator instead.")
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    if name in ("lt", "le", "gt", "ge", "maximum", "minimum", "fmax", "fmin") and category(cd) == 3:
        raise RuntimeError(f"{name} is not supported for complex tensors")
    raise NotImplementedError(_not_implemented(name, cd))


# ---------------------------------------------------------------------------------------
# the unary dispatcher

cdef object unary_op(int k, Tensor a, Tensor out, bint inplace):
    cdef int cd, od, flag = 0, i
    cdef Tensor result, target, src
    cdef NdIter it
    cdef char* data[2]
    cdef index_t strides[2]
    cdef inner_loop_t loop
    cd = a._dtype
    if FLOAT_UNARY[k] and category(cd) < 2:
        cd = default_float_code()
    elif k == U_LOGICAL_NOT:
        cd = DT_BOOL
    loop = UNARY_LOOPS[k][cd]
    if loop == NULL:
        name = UNARY_NAMES[k]
        if name == "neg" and cd == DT_BOOL:
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                               "you are trying to invert a mask, use the `~` or `logical_not()` "
                               "operator instead.")
        raise NotImplementedError(_not_implemented(name, cd))
    od = DT_BOOL if UNARY_OUT[k] == 1 else (to_real_code(cd) if UNARY_OUT[k] == 2 else cd)
    if out is None and a._dtype == cd and a.is_contig():
        result = new_tensor(od, a._ndim, a._shape, False)
        if a._numel == 0:
            return result
        data[0] = result.ptr()
        data[1] = a.ptr()
        strides[0] = ITEMSIZE[od]
        strides[1] = ITEMSIZE[cd]
        if a._numel < 2 * GRAIN_ELEMENTWISE:
            loop(data, strides, a._numel, &flag)
            return result
        src = a
        target = result
    else:
        target = _prepare_output(out, inplace, od, a._ndim, a._shape, UNARY_NAMES[k])
        result = target if target._dtype == od else new_tensor(od, a._ndim, a._shape, False)
        src = _as_dtype_tensor(_guard_overlap(a, result), cd)
    iter_init(&it, a._ndim, a._shape)
    iter_add(&it, result)
    iter_add(&it, src)
    iter_coalesce(&it)
    with nogil:
        iter_run(&it, loop, &flag, GRAIN_ELEMENTWISE)
    if result is not target:
        copy_into(target, result)
    elif out is not None:
        target._storage.version += 1
    return target


cdef object _operator_binary(int op, object a, object b, object out, bint inplace):
    return binary_op(op, a, b, None if out is None else <Tensor?>out, inplace)


cdef object _operator_unary(int op, object a, object out, bint inplace):
    return unary_op(op, <Tensor>a, None if out is None else <Tensor?>out, inplace)


register_elementwise_hooks(_operator_binary, _operator_unary)


# ---------------------------------------------------------------------------------------
# Python-facing functions

cdef inline Tensor _check_out(object out):
    if out is None:
        return None
    if not isinstance(out, Tensor):
        raise TypeError(f"argument 'out' must be Tensor, not {type(out).__name__}")
    return <Tensor>out


cdef inline Tensor _tensor_arg(object x, str fname, str argname="input"):
    if isinstance(x, Tensor):
        return <Tensor>x
    raise TypeError(f"{fname}(): argument '{argname}' (position 1) must be Tensor, not "
                    f"{type(x).__name__}")


cdef object _scale(object other, object alpha, object input, str fname):
    """other * alpha for add/sub's alpha, with PyTorch's checks on alpha's type."""
    if alpha is None or (not isinstance(alpha, bool) and alpha == 1):
        return other
    cdef int cd
    cdef ResultState st
    state_init(&st)
    for x in (input, other):
        if isinstance(x, Tensor):
            state_update_tensor(&st, (<Tensor>x)._dtype, (<Tensor>x)._ndim)
        else:
            state_update_scalar(&st, _scalar_code(x))
    cd = state_result(&st)
    if category(cd) <= 1 and isinstance(alpha, (float, np.floating)):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")
    if category(cd) == 0 and not isinstance(alpha, bool):
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if category(cd) < 3 and isinstance(alpha, complex):
        raise RuntimeError("For non-complex input tensors, argument alpha must not be a complex number.")
    if isinstance(other, Tensor):
        return binary_op(2, other, alpha, None, False)
    return other * alpha


# ---- fused a + alpha * b: one pass instead of a multiply pass and an add pass (optimizer
# updates and SGD steps are this op); same rounding as the two passes (no FMA) --------------

ctypedef struct _AxpyCtx:
    char* out
    const char* a
    const char* b
    double alpha
    int dt


cdef void _axpy_task(void* vctx, index_t begin, index_t end) noexcept nogil:
    cdef _AxpyCtx* c = <_AxpyCtx*>vctx
    cdef index_t i
    cdef float af
    cdef float* of
    cdef const float* xf
    cdef const float* yf
    cdef double* od
    cdef const double* xd
    cdef const double* yd
    if c.dt == DT_FLOAT32:
        af = <float>c.alpha
        of = <float*>c.out
        xf = <const float*>c.a
        yf = <const float*>c.b
        for i in range(begin, end):
            of[i] = xf[i] + af * yf[i]
    else:
        od = <double*>c.out
        xd = <const double*>c.a
        yd = <const double*>c.b
        for i in range(begin, end):
            od[i] = xd[i] + c.alpha * yd[i]


cdef object _axpy_fast(object input, object other, object alpha, Tensor out, bint inplace):
    """``input + alpha * other`` for two contiguous float32/float64 tensors of one shape and
    dtype and a real alpha; None when that does not apply (the general path handles it)."""
    if not (isinstance(input, Tensor) and isinstance(other, Tensor)):
        return None
    if isinstance(alpha, (bool, complex)) or not isinstance(alpha, (int, float)):
        return None
    cdef Tensor a = <Tensor>input
    cdef Tensor b = <Tensor>other
    if a._dtype != b._dtype or (a._dtype != DT_FLOAT32 and a._dtype != DT_FLOAT64):
        return None
    if a._ndim != b._ndim or not a.is_contig() or not b.is_contig():
        return None
    cdef int i
    for i in range(a._ndim):
        if a._shape[i] != b._shape[i]:
            return None
    cdef Tensor o
    if inplace:
        o = a
        if b._storage is a._storage and b.ptr() != a.ptr():
            return None         # partial overlap: the general path decides
    elif out is None:
        o = new_tensor(a._dtype, a._ndim, a._shape, False)
    else:
        return None
    cdef _AxpyCtx c
    c.out = o.ptr()
    c.a = a.ptr()
    c.b = b.ptr()
    c.alpha = <double>alpha
    c.dt = a._dtype
    with nogil:
        if a._numel >= 2 * GRAIN_ELEMENTWISE:
            parallel_for(a._numel, GRAIN_ELEMENTWISE, _axpy_task, &c)
        else:
            _axpy_task(&c, 0, a._numel)
    if inplace:
        o._storage.version += 1
    return o


def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, with broadcasting and type promotion (``torch.add``)."""
    if alpha != 1 and out is None:
        r = _axpy_fast(input, other, alpha, None, False)
        if r is not None:
            return r
    return binary_op(0, input, _scale(other, alpha, input, "add"), _check_out(out), False)


def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other (``torch.sub``)."""
    if alpha != 1 and out is None and isinstance(alpha, (int, float)) and not isinstance(alpha, bool):
        r = _axpy_fast(input, other, -alpha, None, False)
        if r is not None:
            return r
    return binary_op(1, input, _scale(other, alpha, input, "sub"), _check_out(out), False)


def mul(input, other, *, out=None):
    """input * other (``torch.mul``)."""
    return binary_op(2, input, other, _check_out(out), False)


def div(input, other, *, rounding_mode=None, out=None):
    """input / other: true division (integers give the default float dtype), or rounded
    with ``rounding_mode='trunc'`` or ``'floor'`` (``torch.div``)."""
    if rounding_mode is None:
        return binary_op(B_DIV, input, other, _check_out(out), False)
    if rounding_mode == "floor":
        return binary_op(4, input, other, _check_out(out), False)
    if rounding_mode == "trunc":
        return binary_op(B_DIV_TRUNC, input, other, _check_out(out), False)
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                       f"found '{rounding_mode}'")


def floor_divide(input, other, *, out=None):
    """Floor of input / other, Python's ``//`` (``torch.floor_divide``)."""
    return binary_op(4, input, other, _check_out(out), False)


def remainder(input, other, *, out=None):
    """Python's modulus: the result has the sign of the divisor (``torch.remainder``)."""
    return binary_op(5, input, other, _check_out(out), False)


def pow(input, exponent, *, out=None):
    """input ** exponent (``torch.pow``); input may be a number when exponent is a tensor.
    Integer tensors to negative integer scalar powers raise, as in PyTorch."""
    if (isinstance(input, Tensor) and category((<Tensor>input)._dtype) <= 1
            and isinstance(exponent, (int, np.integer)) and not isinstance(exponent, bool)
            and exponent < 0):
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return binary_op(6, input, exponent, _check_out(out), False)


def float_power(input, exponent, *, out=None):
    """input ** exponent computed in float64 (complex128 for complex inputs)."""
    cplx = (isinstance(input, Tensor) and (<Tensor>input).is_complex()) or \
           (isinstance(exponent, Tensor) and (<Tensor>exponent).is_complex()) or \
           isinstance(input, complex) or isinstance(exponent, complex)
    d = dtype_of(DT_COMPLEX128 if cplx else DT_FLOAT64)
    x = input.to(d) if isinstance(input, Tensor) else input
    e = exponent.to(d) if isinstance(exponent, Tensor) else exponent
    return binary_op(6, x, e, _check_out(out), False)


def _make_binary(str name, int k, str doc):
    def fn(input, other, *, out=None):
        return binary_op(k, input, other, _check_out(out), False)
    fn.__name__ = name
    fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def _make_unary(str name, int k, str doc):
    def fn(input, *, out=None):
        return unary_op(k, _tensor_arg(input, name), _check_out(out), False)
    fn.__name__ = name
    fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def _binary_inplace(int k, str name):
    def fn(self, other):
        return binary_op(k, self, other, _tensor_arg(self, name + "_", "self"), True)
    fn.__name__ = name + "_"
    return fn


def _unary_inplace(int k, str name):
    def fn(self):
        return unary_op(k, _tensor_arg(self, name + "_", "self"), self, True)
    fn.__name__ = name + "_"
    return fn


_BINARY_DOCS = {
    "eq": "input == other, elementwise (a bool tensor).",
    "ne": "input != other, elementwise.", "lt": "input < other, elementwise.",
    "le": "input <= other, elementwise.", "gt": "input > other, elementwise.",
    "ge": "input >= other, elementwise.",
    "bitwise_and": "Bitwise AND of integer or bool tensors.",
    "bitwise_or": "Bitwise OR of integer or bool tensors.",
    "bitwise_xor": "Bitwise XOR of integer or bool tensors.",
    "bitwise_left_shift": "input << other (0 when the shift is negative or too wide).",
    "bitwise_right_shift": "input >> other, arithmetic for signed types.",
    "maximum": "Elementwise maximum; NaN propagates.", "minimum": "Elementwise minimum; NaN propagates.",
    "fmax": "Elementwise maximum ignoring NaN.", "fmin": "Elementwise minimum ignoring NaN.",
    "fmod": "C's fmod: the remainder has the sign of the dividend.",
    "atan2": "atan2(input, other), the angle of (other, input).",
    "hypot": "sqrt(input**2 + other**2).", "copysign": "|input| with the sign of other.",
    "logaddexp": "log(exp(input) + exp(other)), computed stably.",
    "xlogy": "input * log(other), 0 where input is 0.",
    "logical_and": "Logical AND of the truth values (a bool tensor).",
    "logical_or": "Logical OR of the truth values (a bool tensor).",
    "logical_xor": "Logical XOR of the truth values (a bool tensor).",
}

_PUBLIC_BINARY = ["eq", "ne", "lt", "le", "gt", "ge", "bitwise_and", "bitwise_or", "bitwise_xor",
                  "bitwise_left_shift", "bitwise_right_shift", "maximum", "minimum", "fmax",
                  "fmin", "fmod", "atan2", "hypot", "copysign", "logaddexp", "xlogy",
                  "logical_and", "logical_or", "logical_xor"]
for _name in _PUBLIC_BINARY:
    globals()[_name] = _make_binary(_name, _BIDX[_name], _BINARY_DOCS[_name])

_PUBLIC_UNARY = [n for n in UNARY_NAMES if n not in ("real_part", "imag_part")]
for _name in _PUBLIC_UNARY:
    globals()[_name] = _make_unary(_name, _UIDX[_name],
                                   f"Elementwise {_name} (``torch.{_name}``); integer inputs of "
                                   "float functions give the default float dtype.")


def round(input, *, decimals=0, out=None):
    """Round half to even (``torch.round``); ``decimals`` rounds to that many digits."""
    cdef Tensor t = _tensor_arg(input, "round")
    if decimals == 0:
        return unary_op(_UIDX["round"], t, _check_out(out), False)
    if category(t._dtype) < 2:
        raise RuntimeError("round_cpu: decimals argument is only supported for floating point")
    scale = 10.0 ** decimals
    if decimals > 0:
        r = unary_op(_UIDX["round"], binary_op(2, t, scale, None, False), None, False)
        return binary_op(B_DIV, r, scale, _check_out(out), False)
    r = unary_op(_UIDX["round"], binary_op(B_DIV, t, 10.0 ** -decimals, None, False), None, False)
    return binary_op(2, r, 10.0 ** -decimals, _check_out(out), False)


def real(input):
    """The real part: a view for complex tensors (as PyTorch), the tensor itself otherwise."""
    cdef Tensor t = _tensor_arg(input, "real")
    if category(t._dtype) != 3:
        return t
    return _complex_part_view(t, 0)


def imag(input):
    """The imaginary part of a complex tensor, as a view."""
    cdef Tensor t = _tensor_arg(input, "imag")
    if category(t._dtype) != 3:
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return _complex_part_view(t, 1)


cdef Tensor _complex_part_view(Tensor t, int part):
    cdef Tensor v = t.alias()
    cdef int i
    v._dtype = to_real_code(t._dtype)
    for i in range(t._ndim):
        v._strides[i] = t._strides[i] * 2
    v._offset = t._offset * 2 + part
    return v


def clamp(input, min=None, max=None, *, out=None):
    """Limit input to [min, max] (numbers or tensors, broadcast); NaN stays NaN. When
    min > max every element becomes max, as in PyTorch (``torch.clamp``)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    cdef Tensor t = _tensor_arg(input, "clamp")
    o = _check_out(out)
    if max is None:
        return binary_op(B_MAXIMUM, t, min, o, False)
    if min is None:
        return binary_op(B_MINIMUM, t, max, o, False)
    return binary_op(B_MINIMUM, binary_op(B_MAXIMUM, t, min, None, False), max, o, False)


def clamp_(self, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    cdef Tensor t = _tensor_arg(self, "clamp_", "self")
    if min is not None:
        binary_op(B_MAXIMUM, t, min, t, True)
    if max is not None:
        binary_op(B_MINIMUM, t, max, t, True)
    return t


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


def lerp(input, end, weight, *, out=None):
    """input + weight * (end - input), with PyTorch's two-sided formula for accuracy."""
    cdef Tensor t = _tensor_arg(input, "lerp")
    diff = binary_op(1, end, t, None, False)
    if isinstance(weight, Tensor):
        from rt_tensor._index import where
        low = binary_op(0, t, binary_op(2, weight, diff, None, False), None, False)
        high = binary_op(1, end, binary_op(2, diff, binary_op(1, 1, weight, None, False), None, False), None, False)
        r = where(binary_op(9, binary_op(0, weight, 0, None, False).abs(), 0.5, None, False), low, high)
        r = where(binary_op(_BIDX["lt"], weight, 0.5, None, False), low, high)
        if out is not None:
            copy_into(_check_out(out), r)
            return out
        return r
    if abs(weight) < 0.5:
        return binary_op(0, t, binary_op(2, diff, weight, None, False), _check_out(out), False)
    return binary_op(1, end, binary_op(2, diff, 1 - weight, None, False), _check_out(out), False)


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 * tensor2."""
    prod = binary_op(2, tensor1, tensor2, None, False)
    return add(input, prod, alpha=value, out=out)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 / tensor2."""
    if (isinstance(tensor1, Tensor) and category((<Tensor>tensor1)._dtype) <= 1 and
            isinstance(tensor2, Tensor) and category((<Tensor>tensor2)._dtype) <= 1):
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future "
                           "release addcdiv will perform a true division of tensor1 and tensor2. "
                           "The historic addcdiv behavior can be implemented as (input + value * "
                           "torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and "
                           "as (input + value * tensor1 / tensor2) for float inputs. The future "
                           "addcdiv behavior is just the latter implementation: (input + value * "
                           "tensor1 / tensor2), for all dtypes.")
    quot = binary_op(B_DIV, tensor1, tensor2, None, False)
    return add(input, quot, alpha=value, out=out)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other|, elementwise; infinities must be equal;
    NaNs are equal only with equal_nan (``torch.isclose``)."""
    cdef Tensor a = _tensor_arg(input, "isclose"), b = _tensor_arg(other, "isclose", "other")
    if a._dtype != b._dtype:
        raise RuntimeError(f"{dtype_of(a._dtype).scalar_name} did not match {dtype_of(b._dtype).scalar_name}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    eq = binary_op(7, a, b, None, False)
    if category(a._dtype) <= 1:
        if category(a._dtype) == 0:
            return eq
        # integers: compare exactly in float64 like PyTorch's cast
        a = a.to(dtype_of(DT_FLOAT64))
        b = b.to(dtype_of(DT_FLOAT64))
    if equal_nan:
        eq = binary_op(_BIDX["logical_or"], eq,
                       binary_op(_BIDX["logical_and"], unary_op(_UIDX["isnan"], a, None, False),
                                 unary_op(_UIDX["isnan"], b, None, False), None, False), None, False)
    diff = unary_op(2, binary_op(1, a, b, None, False), None, False)
    bound = binary_op(0, binary_op(2, unary_op(2, b, None, False), rtol, None, False), atol, None, False)
    finite = binary_op(_BIDX["logical_and"], unary_op(_UIDX["isfinite"], a, None, False),
                       unary_op(_UIDX["isfinite"], b, None, False), None, False)
    close = binary_op(_BIDX["logical_and"], finite, binary_op(_BIDX["le"], diff, bound, None, False), None, False)
    return binary_op(_BIDX["logical_or"], eq, close, None, False)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when every element is close (``torch.allclose``)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input, other):
    """True when both have the same shape and the same elements (``torch.equal``)."""
    cdef Tensor a = _tensor_arg(input, "equal"), b = _tensor_arg(other, "equal", "other")
    if shape_tuple(a) != shape_tuple(b):
        return False
    return bool(binary_op(7, a, b, None, False).all())


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """Replace NaN by ``nan`` and infinities by ``posinf``/``neginf`` (default: the dtype's
    largest/lowest finite values)."""
    cdef Tensor t = _tensor_arg(input, "nan_to_num")
    if category(t._dtype) < 2:
        r = t.clone()
    else:
        from rt_tensor._index import where
        real_dt = to_real_code(t._dtype)
        info = {DT_FLOAT16: 65504.0, DT_BFLOAT16: 3.3895313892515355e38,
                DT_FLOAT32: 3.4028234663852886e38, DT_FLOAT64: 1.7976931348623157e308}[real_dt]
        hi = info if posinf is None else posinf
        lo = -info if neginf is None else neginf
        if category(t._dtype) == 3:
            return binary_op(0, nan_to_num(real(t), nan, posinf, neginf),
                             binary_op(2, nan_to_num(imag(t), nan, posinf, neginf), 1j, None, False),
                             _check_out(out), False)
        r = where(unary_op(_UIDX["isnan"], t, None, False), nan, t)
        r = where(unary_op(_UIDX["isposinf"], t, None, False), hi, r)
        r = where(unary_op(_UIDX["isneginf"], t, None, False), lo, r).to(dtype_of(t._dtype))
    if out is not None:
        copy_into(_check_out(out), r)
        return out
    return r


def deg2rad(input, *, out=None):
    return binary_op(2, input, 3.141592653589793 / 180.0, _check_out(out), False) \
        if category(_tensor_arg(input, "deg2rad")._dtype) >= 2 else \
        binary_op(2, (<Tensor>input).to(dtype_of(default_float_code())), 3.141592653589793 / 180.0, _check_out(out), False)


def rad2deg(input, *, out=None):
    return binary_op(2, input, 180.0 / 3.141592653589793, _check_out(out), False) \
        if category(_tensor_arg(input, "rad2deg")._dtype) >= 2 else \
        binary_op(2, (<Tensor>input).to(dtype_of(default_float_code())), 180.0 / 3.141592653589793, _check_out(out), False)


def square_(self):
    return binary_op(2, self, self, _tensor_arg(self, "square_", "self"), True)


# aliases PyTorch has
subtract = sub
multiply = mul
divide = div
true_divide = div
negative = globals()["neg"]
absolute = globals()["abs"]
arcsin = globals()["asin"]
arccos = globals()["acos"]
arctan = globals()["atan"]
arcsinh = globals()["asinh"]
arccosh = globals()["acosh"]
arctanh = globals()["atanh"]
arctan2 = globals()["atan2"]
fix = globals()["trunc"]
clip = clamp
clip_ = clamp_
greater = globals()["gt"]
greater_equal = globals()["ge"]
less = globals()["lt"]
less_equal = globals()["le"]
not_equal = globals()["ne"]


__all__ = (["add", "sub", "mul", "div", "floor_divide", "remainder", "pow", "float_power", "round",
            "real", "imag", "clamp", "clamp_min", "clamp_max", "lerp", "addcmul", "addcdiv",
            "isclose", "allclose", "equal", "nan_to_num", "deg2rad", "rad2deg",
            "subtract", "multiply", "divide", "true_divide", "negative", "absolute", "arcsin",
            "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "arctan2", "fix", "clip",
            "greater", "greater_equal", "less", "less_equal", "not_equal"]
           + _PUBLIC_BINARY + [n for n in _PUBLIC_UNARY if n != "round"])


def _method_binary_with_alpha(fn):
    return fn


TENSOR_METHODS = {name: globals()[name] for name in __all__
                  if name not in ("allclose", "equal", "isclose")}
TENSOR_METHODS.update(isclose=isclose, allclose=allclose, equal=equal)
for _name in ["add", "sub", "mul", "div", "floor_divide", "remainder", "pow"] + _PUBLIC_BINARY:
    if _name in ("logical_and", "logical_or", "logical_xor"):
        pass
    TENSOR_METHODS[_name + "_"] = _binary_inplace(_BIDX[_name] if _name in _BIDX else
                                                  {"add": 0, "sub": 1, "mul": 2, "div": B_DIV}.get(_name), _name)
for _name in _PUBLIC_UNARY:
    TENSOR_METHODS[_name + "_"] = _unary_inplace(_UIDX[_name], _name)
TENSOR_METHODS.update(clamp_=clamp_, clip_=clamp_, square_=square_)


def add_(self, other, *, alpha=1):
    if alpha != 1:
        r = _axpy_fast(self, other, alpha, None, True)
        if r is not None:
            return r
    return binary_op(0, self, _scale(other, alpha, self, "add_"), _tensor_arg(self, "add_", "self"), True)


def sub_(self, other, *, alpha=1):
    if alpha != 1 and isinstance(alpha, (int, float)) and not isinstance(alpha, bool):
        r = _axpy_fast(self, other, -alpha, None, True)
        if r is not None:
            return r
    return binary_op(1, self, _scale(other, alpha, self, "sub_"), _tensor_arg(self, "sub_", "self"), True)


def div_(self, other, *, rounding_mode=None):
    if rounding_mode is None:
        k = B_DIV
    elif rounding_mode == "floor":
        k = 4
    elif rounding_mode == "trunc":
        k = B_DIV_TRUNC
    else:
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                           f"found '{rounding_mode}'")
    return binary_op(k, self, other, _tensor_arg(self, "div_", "self"), True)


def lerp_(self, end, weight):
    return _tensor_arg(self, "lerp_", "self").copy_(lerp(self, end, weight))


def addcmul_(self, tensor1, tensor2, *, value=1):
    return add_(self, binary_op(2, tensor1, tensor2, None, False), alpha=value)


def addcdiv_(self, tensor1, tensor2, *, value=1):
    return add_(self, binary_op(B_DIV, tensor1, tensor2, None, False), alpha=value)


def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
    return _tensor_arg(self, "nan_to_num_", "self").copy_(nan_to_num(self, nan, posinf, neginf))


TENSOR_METHODS.update(add_=add_, sub_=sub_, subtract_=sub_, mul_=TENSOR_METHODS["mul_"],
                      multiply_=TENSOR_METHODS["mul_"], div_=div_, divide_=div_, true_divide_=div_,
                      lerp_=lerp_, addcmul_=addcmul_, addcdiv_=addcdiv_, nan_to_num_=nan_to_num_,
                      neg_=TENSOR_METHODS["neg_"], negative_=TENSOR_METHODS["neg_"],
                      abs_=TENSOR_METHODS["abs_"], absolute_=TENSOR_METHODS["abs_"],
                      fix_=TENSOR_METHODS["trunc_"], clamp_min_=lambda self, min: clamp_(self, min=min),
                      clamp_max_=lambda self, max: clamp_(self, max=max),
                      float_power_=lambda self, e: self.copy_(float_power(self, e)),
                      logical_not_=TENSOR_METHODS["logical_not_"])
