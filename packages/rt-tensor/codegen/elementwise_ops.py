"""The elementwise op table (build time): one line per op; _elementwise_loops.pxi.in
generates an inner loop per (op, dtype) from it.

An expression is written in terms of `a` (and `b`) of the compute type (float for
float16/bfloat16). Keys of an op's dict: a dtype name, f32/f64/c64/c128, or a kind group:
b bool, u unsigned, i signed, h 16-bit float, f float, c complex, int (bool+ints),
float (h+f), num (all but bool), real (all but complex), all_but_c, all. An op has no loop
for a dtype none of whose keys it lists (the Python layer then raises PyTorch's
"not implemented for" error). `out` is "same", "bool" or "real" (complex -> its real type).
"""
from kernel_table import DTYPES

# The elementwise op table: one line per op; Tempita generates an inner loop per op and
# dtype. An expression is written in terms of `a` (and `b`) of the compute type `T`
# (float for float16/bfloat16). Kinds: b bool, u unsigned, i signed, h 16-bit float,
# f float, c complex; a kind missing from an op's dict means the op does not support it.
# `out` is the output kind: "same", "bool" or "real" (complex -> its real type).
def fl(name, f32, f64=None, c64=None, c128=None):
    """Expressions for a float function given its float and double C names."""
    f64 = f64 or f32[:-1]
    d = {"h": f32 + "(a)", "f32": f32 + "(a)", "f64": f64 + "(a)"}
    if c64:
        d["c64"] = c64 + "(a)"
        d["c128"] = c128 + "(a)"
    return d

INT_KINDS = ("u", "i")
BINARY = [
    # name, opcode, {kind or dtype name: expression}, out
    ("add", "OP_ADD", {"b": "a | b", "num": "a + b"}, "same",
     {"float32": "rt_vadd_f32", "float64": "rt_vadd_f64"}),
    ("sub", "OP_SUB", {"num": "a - b"}, "same", {"float32": "rt_vsub_f32", "float64": "rt_vsub_f64"}),
    ("mul", "OP_MUL", {"b": "a & b", "num": "a * b"}, "same",
     {"float32": "rt_vmul_f32", "float64": "rt_vmul_f64"}),
    ("div", "OP_DIV", {"h": "a / b", "f": "a / b", "c": "a / b"}, "same",
     {"float32": "rt_vdiv_f32", "float64": "rt_vdiv_f64"}),
    ("floor_divide", "OP_FLOOR_DIV", {"i": "_floordiv_int(a, b, flag)", "u": "_floordiv_uint(a, b, flag)",
                                      "h": "_floordiv_float(a, b)", "f32": "_floordiv_float(a, b)",
                                      "f64": "_floordiv_double(a, b)"}, "same"),
    ("remainder", "OP_REMAINDER", {"i": "_rem_int(a, b, flag)", "u": "_rem_uint(a, b, flag)",
                                   "h": "_rem_float(a, b)", "f32": "_rem_float(a, b)",
                                   "f64": "_rem_double(a, b)"}, "same"),
    ("pow", "OP_POW", {"i": "_ipow_signed(a, b)", "u": "_ipow_unsigned(a, b)", "h": "powf(a, b)",
                       "f32": "powf(a, b)", "f64": "pow_c(a, b)", "c64": "_cpowf(a, b)",
                       "c128": "_cpow(a, b)"}, "same"),
    ("eq", "OP_EQ", {"all": "a == b"}, "bool"),
    ("ne", "OP_NE", {"all": "a != b"}, "bool"),
    ("lt", "OP_LT", {"real": "a < b"}, "bool"),
    ("le", "OP_LE", {"real": "a <= b"}, "bool"),
    ("gt", "OP_GT", {"real": "a > b"}, "bool"),
    ("ge", "OP_GE", {"real": "a >= b"}, "bool"),
    ("bitwise_and", "OP_AND", {"b": "a & b", "u": "a & b", "i": "a & b"}, "same"),
    ("bitwise_or", "OP_OR", {"b": "a | b", "u": "a | b", "i": "a | b"}, "same"),
    ("bitwise_xor", "OP_XOR", {"b": "a ^ b", "u": "a ^ b", "i": "a ^ b"}, "same"),
    ("bitwise_left_shift", "OP_LSHIFT", {"u": "_lshift_T(a, b)", "i": "_lshift_T(a, b)"}, "same"),
    ("bitwise_right_shift", "OP_RSHIFT", {"u": "_rshift_T(a, b)", "i": "_rshift_T(a, b)"}, "same"),
    # ops without an operator: opcodes numbered after the operator ones
    ("maximum", "OP_MAXIMUM", {"b": "a | b", "u": "(a if a > b else b)", "i": "(a if a > b else b)",
                               "float": "(a if ((a > b) | (a != a)) else b)"}, "same"),
    ("minimum", "OP_MINIMUM", {"b": "a & b", "u": "(a if a < b else b)", "i": "(a if a < b else b)",
                               "float": "(a if ((a < b) | (a != a)) else b)"}, "same"),
    ("fmax", "OP_FMAX", {"b": "a | b", "u": "(a if a > b else b)", "i": "(a if a > b else b)",
                         "h": "fmaxf(a, b)", "f32": "fmaxf(a, b)", "f64": "fmax(a, b)"}, "same"),
    ("fmin", "OP_FMIN", {"b": "a & b", "u": "(a if a < b else b)", "i": "(a if a < b else b)",
                         "h": "fminf(a, b)", "f32": "fminf(a, b)", "f64": "fmin(a, b)"}, "same"),
    ("fmod", "OP_FMOD", {"i": "_fmod_int(a, b, flag)", "u": "_fmod_int(a, b, flag)", "h": "fmodf(a, b)",
                         "f32": "fmodf(a, b)", "f64": "fmod(a, b)"}, "same"),
    ("atan2", "OP_ATAN2", {"h": "atan2f(a, b)", "f32": "atan2f(a, b)", "f64": "atan2(a, b)"}, "same"),
    ("hypot", "OP_HYPOT", {"h": "hypotf(a, b)", "f32": "hypotf(a, b)", "f64": "hypot(a, b)"}, "same"),
    ("copysign", "OP_COPYSIGN", {"h": "copysignf(a, b)", "f32": "copysignf(a, b)", "f64": "copysign(a, b)"}, "same"),
    ("logaddexp", "OP_LOGADDEXP", {"h": "_logaddexp_float(a, b)", "f32": "_logaddexp_float(a, b)",
                                   "f64": "_logaddexp_double(a, b)"}, "same"),
    ("div_trunc", "OP_DIV_TRUNC", {"i": "_truncdiv_int(a, b, flag)", "u": "_truncdiv_int(a, b, flag)",
                                   "h": "truncf(a / b)", "f32": "truncf(a / b)", "f64": "trunc(a / b)"}, "same"),
    ("logical_and", "OP_LOGICAL_AND", {"b": "a & b"}, "bool"),
    ("logical_or", "OP_LOGICAL_OR", {"b": "a | b"}, "bool"),
    ("logical_xor", "OP_LOGICAL_XOR", {"b": "a ^ b"}, "bool"),
    ("xlogy", "OP_XLOGY", {"h": "_xlogy_float(a, b)", "f32": "_xlogy_float(a, b)", "f64": "_xlogy_double(a, b)"}, "same"),
]

UNARY = [
    ("neg", "OP_NEG", {"num": "-a"}, "same"),
    ("positive", "OP_POS", {"all": "a"}, "same"),
    ("abs", "OP_ABS", {"u": "a", "i": "(a if a >= 0 else -a)", "h": "fabsf(a)", "f32": "fabsf(a)",
                       "f64": "fabs(a)", "c64": "cabsf(a)", "c128": "cabs(a)"}, "real"),
    ("bitwise_not", "OP_INVERT", {"b": "(not a)", "u": "~a", "i": "~a"}, "same"),
    ("sign", "OP_SIGN", {"b": "a", "u": "(a > 0)", "i": "((a > 0) - (a < 0))",
                         "float": "((0 < a) - (a < 0))"}, "same"),
    ("sgn", "OP_SGN", {"b": "a", "u": "(a > 0)", "i": "((a > 0) - (a < 0))",
                       "float": "((0 < a) - (a < 0))", "c": "_csgn_T(a)"}, "same"),
    ("exp", "OP_EXP", dict(fl("exp", "expf", c64="cexpf", c128="cexp"), h="rt_expf(a)", f32="rt_expf(a)"),
     "same", {"float32": "rt_vexp_f32"}),
    ("exp2", "OP_EXP2", fl("exp2", "exp2f"), "same"),
    ("expm1", "OP_EXPM1", fl("expm1", "expm1f"), "same"),
    ("log", "OP_LOG", dict(fl("log", "logf", c64="clogf", c128="clog"), h="rt_logf(a)", f32="rt_logf(a)"),
     "same", {"float32": "rt_vlog_f32"}),
    ("log2", "OP_LOG2", fl("log2", "log2f"), "same"),
    ("log10", "OP_LOG10", fl("log10", "log10f"), "same"),
    ("log1p", "OP_LOG1P", fl("log1p", "log1pf"), "same"),
    ("sqrt", "OP_SQRT", fl("sqrt", "sqrtf", c64="csqrtf", c128="csqrt"), "same"),
    ("rsqrt", "OP_RSQRT", {"h": "_ONE_T / sqrtf(a)", "f32": "_ONE_T / sqrtf(a)", "f64": "1.0 / sqrt(a)"}, "same"),
    ("sin", "OP_SIN", fl("sin", "sinf", c64="csinf", c128="csin"), "same"),
    ("cos", "OP_COS", fl("cos", "cosf", c64="ccosf", c128="ccos"), "same"),
    ("tan", "OP_TAN", fl("tan", "tanf", c64="ctanf", c128="ctan"), "same"),
    ("asin", "OP_ASIN", fl("asin", "asinf", c64="casinf", c128="casin"), "same"),
    ("acos", "OP_ACOS", fl("acos", "acosf", c64="cacosf", c128="cacos"), "same"),
    ("atan", "OP_ATAN", fl("atan", "atanf", c64="catanf", c128="catan"), "same"),
    ("sinh", "OP_SINH", fl("sinh", "sinhf", c64="csinhf", c128="csinh"), "same"),
    ("cosh", "OP_COSH", fl("cosh", "coshf", c64="ccoshf", c128="ccosh"), "same"),
    ("tanh", "OP_TANH", dict(fl("tanh", "tanhf", c64="ctanhf", c128="ctanh"), h="rt_tanhf(a)", f32="rt_tanhf(a)"),
     "same", {"float32": "rt_vtanh_f32"}),
    ("asinh", "OP_ASINH", fl("asinh", "asinhf", c64="casinhf", c128="casinh"), "same"),
    ("acosh", "OP_ACOSH", fl("acosh", "acoshf", c64="cacoshf", c128="cacosh"), "same"),
    ("atanh", "OP_ATANH", fl("atanh", "atanhf", c64="catanhf", c128="catanh"), "same"),
    ("sigmoid", "OP_SIGMOID", {"h": "rt_sigmoidf(a)", "f32": "rt_sigmoidf(a)",
                               "f64": "1.0 / (1.0 + exp(-a))", "c64": "_ONE_T / (_ONE_T + cexpf(-a))",
                               "c128": "1.0 / (1.0 + cexp(-a))"}, "same", {"float32": "rt_vsigmoid_f32"}),
    ("relu", "OP_RELU", {"u": "a", "i": "(a if a > 0 else 0)", "float": "(0 if a <= 0 else a)"}, "same"),
    ("erf", "OP_ERF", fl("erf", "erff"), "same"),
    ("erfc", "OP_ERFC", fl("erfc", "erfcf"), "same"),
    ("lgamma", "OP_LGAMMA", fl("lgamma", "lgammaf"), "same"),
    ("floor", "OP_FLOOR", {"int": "a", "h": "floorf(a)", "f32": "floorf(a)", "f64": "floor(a)"}, "same"),
    ("ceil", "OP_CEIL", {"int": "a", "h": "ceilf(a)", "f32": "ceilf(a)", "f64": "ceil(a)"}, "same"),
    ("round", "OP_ROUND", {"int": "a", "h": "nearbyintf(a)", "f32": "nearbyintf(a)", "f64": "nearbyint(a)"}, "same"),
    ("trunc", "OP_TRUNC", {"int": "a", "h": "truncf(a)", "f32": "truncf(a)", "f64": "trunc(a)"}, "same"),
    ("frac", "OP_FRAC", {"h": "a - truncf(a)", "f32": "a - truncf(a)", "f64": "a - trunc(a)"}, "same"),
    ("reciprocal", "OP_RECIPROCAL", {"h": "_ONE_T / a", "f32": "_ONE_T / a", "f64": "1.0 / a",
                                     "c": "_ONE_T / a"}, "same"),
    ("square", "OP_SQUARE", {"num": "a * a"}, "same"),
    ("isnan", "OP_ISNAN", {"int": "0", "float": "a != a", "c": "(a.real != a.real or a.imag != a.imag)"}, "bool"),
    ("isinf", "OP_ISINF", {"int": "0", "h": "isinf(a)", "f32": "isinf(a)", "f64": "isinf(a)",
                           "c": "(isinf(a.real) or isinf(a.imag))"}, "bool"),
    ("isfinite", "OP_ISFINITE", {"int": "1", "h": "isfinite(a)", "f32": "isfinite(a)", "f64": "isfinite(a)",
                                 "c": "(isfinite(a.real) and isfinite(a.imag))"}, "bool"),
    ("isposinf", "OP_ISPOSINF", {"int": "0", "float": "(isinf(a) and a > 0)"}, "bool"),
    ("isneginf", "OP_ISNEGINF", {"int": "0", "float": "(isinf(a) and a < 0)"}, "bool"),
    ("signbit", "OP_SIGNBIT", {"b": "0", "u": "0", "i": "a < 0", "h": "copysignf(_ONE_T, a) < 0",
                                 "f32": "copysignf(_ONE_T, a) < 0", "f64": "copysign(_ONE_T, a) < 0"}, "bool"),
    ("logical_not", "OP_LOGICAL_NOT", {"b": "(not a)"}, "bool"),
    ("conj", "OP_CONJ", {"all_but_c": "a", "c64": "conjf(a)", "c128": "conj(a)"}, "same"),
    ("angle", "OP_ANGLE", {"float": "(0 if a >= 0 else (_PI_T if a < 0 else a))",
                           "c64": "cargf(a)", "c128": "carg(a)"}, "real"),
    ("real_part", "OP_REAL", {"c": "a.real"}, "real"),
    ("imag_part", "OP_IMAG", {"c": "a.imag"}, "real"),
]

def expr_for(table_entry, name, kind):
    """The expression of an op for dtype `name` of `kind`, or None when unsupported."""
    exprs = table_entry[2]
    keys = [name, kind]
    if name == "float32": keys.append("f32")
    if name == "float64": keys.append("f64")
    if name == "complex64": keys.append("c64")
    if name == "complex128": keys.append("c128")
    if kind in ("u", "i"): keys.append("int")
    if kind == "b": keys.append("int")
    if kind in ("h", "f"): keys.append("float")
    if kind in ("u", "i", "h", "f", "c"): keys.append("num")
    if kind != "c": keys.append("real")
    if kind != "c": keys.append("all_but_c")
    keys.append("all")
    for k in keys:
        if k in exprs:
            e = exprs[k]
            if name == "bool" and "int" in keys and k == "int" and e == "a":
                pass
            return e
    return None

def specialise(expr, name):
    t = {"float16": "float", "bfloat16": "float", "float32": "float", "float64": "double",
         "complex64": "float", "complex128": "double"}.get(name, "")
    suffix = {"float": "f", "double": ""}.get(t, "")
    return (expr.replace("_csgn_T", "_csgn" + suffix)
                .replace("_ONE_T", "(<%s>1)" % t)
                .replace("_PI_T", "(<%s>3.14159265358979323846)" % t)
                .replace("_lshift_T", "_lshift_" + name).replace("_rshift_T", "_rshift_" + name))

def vector_fn(entry, dname):
    """A contiguous-array kernel (rt_vmath.h) for this op and dtype, or None."""
    return entry[4].get(dname) if len(entry) > 4 else None

def out_code(entry):
    return {"same": 0, "bool": 1, "real": 2}[entry[3]]

def loop_name(entry, di):
    d = DTYPES[di]
    return "%s_%s" % (entry[0], d[0]) if expr_for(entry, d[0], d[3]) is not None else "NULL"

def out_type(entry, dname, dctype, dkind):
    """(C storage type of the output, store function name or None, compute->out cast)."""
    out = entry[3]
    if out == "bool":
        return "bool_t", None
    if out == "real" and dkind == "c":
        return ("float" if dname == "complex64" else "double"), None
    return dctype, dname
