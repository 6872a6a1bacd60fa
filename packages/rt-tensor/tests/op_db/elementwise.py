"""Op table lines for elementwise ops (see tests/opinfo.py)."""
import numpy as np

from opinfo import (OpInfo, ALL, BOOL, INTS, SIGNED_INTS, FLOATS, COMPLEX, NUMERIC, REAL,
                    FLOAT_AND_COMPLEX, INTEGRAL)

NONBOOL = NUMERIC
ARITH = INTS + FLOATS + COMPLEX


def _floor_divide(a, b):
    with np.errstate(all="ignore"):
        return np.floor_divide(a, b)


def _sign(a):
    return np.sign(a) if a.dtype != bool else a


def _relu(a):
    return np.where(a > 0, a, np.zeros_like(a)) if a.dtype.kind != "f" else np.where(a > 0, a, 0).astype(a.dtype)


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _frac(a):
    return a - np.trunc(a)


def _rsqrt(a):
    return 1 / np.sqrt(a)


def _int_pow(a, b):
    return np.power(a, b)


POSITIVE = (0.1, 4.0)
UNIT = (-0.95, 0.95)

OPS = [
    # binary arithmetic
    OpInfo("add", np.add, arity=2, dtypes=ALL, inplace=True, out=True),
    OpInfo("sub", np.subtract, arity=2, dtypes=NUMERIC, inplace=True, out=True),
    OpInfo("mul", np.multiply, arity=2, dtypes=ALL, inplace=True, out=True),
    OpInfo("div", np.true_divide, arity=2, dtypes=FLOATS + COMPLEX, inplace=True, out=True,
           domain=(0.5, 3.0)),
    OpInfo("div", np.true_divide, arity=2, dtypes=INTS, result="float", int_domain=(1, 10)),
    OpInfo("floor_divide", _floor_divide, arity=2, dtypes=REAL, inplace=True, int_domain=(1, 10),
           domain=(0.5, 3.0), tol={"float16": (1e-3, 1e-2), "bfloat16": (1e-2, 1.1)}),
    OpInfo("remainder", np.remainder, arity=2, dtypes=("int8", "int16", "int32", "int64", "float32", "float64"),
           inplace=True, int_domain=(1, 10), domain=(0.5, 3.0), tol={"float32": (1e-5, 1e-5)}),
    OpInfo("fmod", np.fmod, arity=2, dtypes=("int8", "int16", "int32", "int64", "float32", "float64"),
           int_domain=(1, 10), domain=(0.5, 3.0)),
    OpInfo("pow", np.power, arity=2, dtypes=("float32", "float64", "complex128"), domain=(0.5, 2.0)),
    OpInfo("pow", _int_pow, arity=2, dtypes=("int32", "int64"), int_domain=(0, 5)),
    OpInfo("maximum", np.maximum, arity=2, dtypes=REAL + BOOL),
    OpInfo("minimum", np.minimum, arity=2, dtypes=REAL + BOOL),
    OpInfo("fmax", np.fmax, arity=2, dtypes=REAL),
    OpInfo("fmin", np.fmin, arity=2, dtypes=REAL),
    OpInfo("atan2", np.arctan2, arity=2, dtypes=FLOATS),
    OpInfo("hypot", np.hypot, arity=2, dtypes=FLOATS),
    OpInfo("copysign", np.copysign, arity=2, dtypes=FLOATS),
    OpInfo("logaddexp", np.logaddexp, arity=2, dtypes=("float32", "float64")),
    # comparisons and logic
    OpInfo("eq", np.equal, arity=2, dtypes=ALL, result="bool", inplace=False),
    OpInfo("ne", np.not_equal, arity=2, dtypes=ALL, result="bool"),
    OpInfo("lt", np.less, arity=2, dtypes=REAL + BOOL, result="bool"),
    OpInfo("le", np.less_equal, arity=2, dtypes=REAL + BOOL, result="bool"),
    OpInfo("gt", np.greater, arity=2, dtypes=REAL + BOOL, result="bool"),
    OpInfo("ge", np.greater_equal, arity=2, dtypes=REAL + BOOL, result="bool"),
    OpInfo("logical_and", np.logical_and, arity=2, dtypes=ALL, result="bool"),
    OpInfo("logical_or", np.logical_or, arity=2, dtypes=ALL, result="bool"),
    OpInfo("logical_xor", np.logical_xor, arity=2, dtypes=ALL, result="bool"),
    OpInfo("bitwise_and", np.bitwise_and, arity=2, dtypes=INTEGRAL, inplace=True),
    OpInfo("bitwise_or", np.bitwise_or, arity=2, dtypes=INTEGRAL, inplace=True),
    OpInfo("bitwise_xor", np.bitwise_xor, arity=2, dtypes=INTEGRAL, inplace=True),
    OpInfo("bitwise_left_shift", np.left_shift, arity=2, dtypes=("int16", "int32", "int64"), int_domain=(0, 6)),
    OpInfo("bitwise_right_shift", np.right_shift, arity=2, dtypes=SIGNED_INTS, int_domain=(0, 6)),
    # unary
    OpInfo("neg", np.negative, dtypes=NUMERIC, inplace=True, out=True),
    OpInfo("abs", np.abs, dtypes=REAL, inplace=True, out=True),
    OpInfo("abs", np.abs, dtypes=COMPLEX, result=lambda d: d.to_real()),
    OpInfo("sign", _sign, dtypes=BOOL + REAL),
    OpInfo("bitwise_not", np.invert, dtypes=INTEGRAL),
    OpInfo("logical_not", np.logical_not, dtypes=ALL, result="bool"),
    OpInfo("exp", np.exp, dtypes=ALL, result="float", inplace=True, out=True),
    OpInfo("exp2", np.exp2, dtypes=FLOATS + INTS, result="float"),
    OpInfo("expm1", np.expm1, dtypes=FLOATS, result="float"),
    OpInfo("log", np.log, dtypes=FLOATS + COMPLEX, domain=POSITIVE, inplace=True),
    OpInfo("log", np.log, dtypes=INTS, result="float", int_domain=(1, 10)),
    OpInfo("log2", np.log2, dtypes=FLOATS, domain=POSITIVE),
    OpInfo("log10", np.log10, dtypes=FLOATS, domain=POSITIVE),
    OpInfo("log1p", np.log1p, dtypes=FLOATS, domain=POSITIVE),
    OpInfo("sqrt", np.sqrt, dtypes=FLOATS + COMPLEX, domain=POSITIVE, inplace=True),
    OpInfo("sqrt", np.sqrt, dtypes=INTS, result="float", int_domain=(0, 10)),
    OpInfo("rsqrt", _rsqrt, dtypes=FLOATS, domain=POSITIVE),
    OpInfo("sin", np.sin, dtypes=FLOATS + COMPLEX),
    OpInfo("cos", np.cos, dtypes=FLOATS + COMPLEX),
    OpInfo("tan", np.tan, dtypes=FLOATS, domain=(-1.2, 1.2), tol={"float16": (2e-3, 2e-3)}),
    OpInfo("asin", np.arcsin, dtypes=FLOATS, domain=UNIT),
    OpInfo("acos", np.arccos, dtypes=FLOATS, domain=UNIT),
    OpInfo("atan", np.arctan, dtypes=FLOATS),
    OpInfo("sinh", np.sinh, dtypes=FLOATS),
    OpInfo("cosh", np.cosh, dtypes=FLOATS),
    OpInfo("tanh", np.tanh, dtypes=FLOATS + COMPLEX, inplace=True),
    OpInfo("asinh", np.arcsinh, dtypes=FLOATS),
    OpInfo("acosh", np.arccosh, dtypes=FLOATS, domain=(1.0, 4.0)),
    OpInfo("atanh", np.arctanh, dtypes=FLOATS, domain=UNIT),
    OpInfo("sigmoid", _sigmoid, dtypes=FLOATS, inplace=True),
    OpInfo("relu", _relu, dtypes=REAL),
    OpInfo("floor", np.floor, dtypes=REAL, inplace=True),
    OpInfo("ceil", np.ceil, dtypes=REAL),
    OpInfo("round", np.round, dtypes=REAL),
    OpInfo("trunc", np.trunc, dtypes=REAL),
    OpInfo("frac", _frac, dtypes=FLOATS, tol={"bfloat16": (1.6e-2, 2e-2)}),
    OpInfo("reciprocal", np.reciprocal, dtypes=FLOATS + COMPLEX, domain=(0.5, 3.0)),
    OpInfo("square", np.square, dtypes=NUMERIC),
    OpInfo("isnan", np.isnan, dtypes=ALL, result="bool"),
    OpInfo("isinf", np.isinf, dtypes=ALL, result="bool"),
    OpInfo("isfinite", np.isfinite, dtypes=ALL, result="bool"),
    OpInfo("signbit", np.signbit, dtypes=REAL, result="bool"),
]
