"""ONNX exporters of rt ops: one function per op (or family), registered with ``@exporter``
under the op's names. ``docs/adding-an-onnx-op.md`` has the pattern.

An exporter has the op's own signature after ``g``: it is called with the arguments the op
got (traced tensors, constant tensors, Python values), after the op ran for real, and returns
the ONNX name of each tensor output (a string, or a list in output order). ``g`` (``_Call`` in
``_trace.py``) gives:

* ``g.v(x, dtype=None)``: the ONNX name of a tensor or a Python number (cast to ``dtype``);
* ``g.op(op_type, inputs, outputs=1, **attributes)``: append a node, get its output name(s);
* ``g.const(value, dtype)``, ``g.ints([...])``: Constant nodes;
* ``g.outs``: the real output tensors (their dtype and shape are the truth to match);
* ``g.opset``, ``g.dynamic`` (symbolic dims requested), opset-aware helpers
  (``g.unsqueeze``, ``g.squeeze``, ``g.reduce``, ``g.split``, ``g.slice``, ``g.reshape``);
* ``g.fail(reason)``: the OnnxExportError to raise for arguments ONNX cannot express.

Each output name must carry the real output's dtype and shape: the export checks every value
against ONNX shape inference.

Formulas cite the ONNX operator (``onnx.defs.get_schema(op).doc``) and PyTorch's definition
(torch.nn.functional docs) where they differ.
"""
import math

import numpy as np

import rt_autograd as rt
import rt_tensor as rtt

from rt_import.onnx._trace import SymInt, exporter

INT64_MAX = 2 ** 63 - 1
INT64_MIN = -2 ** 63
_FLOATS = (rt.float16, rt.bfloat16, rt.float32, rt.float64)


# ---- helpers ------------------------------------------------------------------------------

def _is_tensor(x):
    return isinstance(x, rtt.Tensor)


def _out_dtype(g, i=0):
    return g.outs[i].dtype


def _finish(g, name, dtype, i=0):
    """``name`` (of rt dtype ``dtype``) cast to output ``i``'s dtype when they differ."""
    want = g.outs[i].dtype
    return name if dtype == want else g.cast(name, want)


def _promote(*operands):
    """The dtype PyTorch computes ``operands`` in (0-d tensors and numbers count as scalars):
    rt's own promotion, applied to one-element stand-ins of the same kinds."""
    result = None
    for o in operands:
        p = rtt.zeros((1,) if o.dim() else (), dtype=o.dtype) if _is_tensor(o) else o
        result = p if result is None else result + p
    return result.dtype if _is_tensor(result) else rtt.tensor(result).dtype


def _ints(v, n=None, what="argument"):
    """An int or a sequence of ints as a list (``n`` copies of a single int)."""
    if isinstance(v, rtt.Tensor):
        v = v.tolist() if v.dim() else [int(v.item())]
    if isinstance(v, (list, tuple)) or type(v).__name__ == "Size":
        out = [int(x) for x in v]
    else:
        out = [int(v)]
    if n is not None and len(out) == 1 and n > 1:
        out = out * n
    return out


def _size(v):
    return v if isinstance(v, SymInt) else int(v)


def _shape_args(args):
    """``view(2, 3)`` / ``view((2, 3))`` / ``view([2, 3])`` -> [2, 3] (symbolic sizes kept)."""
    if len(args) == 1 and not isinstance(args[0], int):
        return [_size(s) for s in args[0]]
    return [_size(s) for s in args]


def _dim(dim, rank):
    dim = int(dim)
    r = max(rank, 1)
    return dim + r if dim < 0 else dim


def _dims(dim, rank):
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)) or type(dim).__name__ == "Size":
        return sorted({_dim(d, rank) for d in dim})
    return [_dim(dim, rank)]


def _check_traced_int(g, value, what):
    if isinstance(value, rtt.Tensor):
        raise g.fail(f"{what} given as a tensor is data-dependent; give it as a Python int")


def _identity(g, input, *args, **kwargs):
    return g.v(input)


# ---- elementwise arithmetic -----------------------------------------------------------------

def _binary_names(g, a, b):
    dt = _out_dtype(g)
    return g.v(a, dt), g.v(b, dt), dt


@exporter("add", "__add__", "__iadd__")
def add(g, input, other, *, alpha=1, out=None):
    a, b, dt = _binary_names(g, input, other)
    if alpha != 1:
        b = g.op("Mul", [b, g.v(alpha, dt)])
    return g.op("Add", [a, b])


@exporter("__radd__")
def radd(g, self, other):
    return add(g, other, self)


@exporter("sub", "subtract", "__sub__", "__isub__")
def sub(g, input, other, *, alpha=1, out=None):
    a, b, dt = _binary_names(g, input, other)
    if alpha != 1:
        b = g.op("Mul", [b, g.v(alpha, dt)])
    return g.op("Sub", [a, b])


@exporter("__rsub__")
def rsub(g, self, other):
    return sub(g, other, self)


@exporter("mul", "multiply", "__mul__", "__imul__")
def mul(g, input, other, *, out=None):
    a, b, dt = _binary_names(g, input, other)
    if dt == rt.bool:
        return g.op("And", [a, b])
    return g.op("Mul", [a, b])


@exporter("__rmul__")
def rmul(g, self, other):
    return mul(g, other, self)


def _trunc(g, name):
    # ONNX has no Trunc: sign(x) * floor(|x|)
    return g.op("Mul", [g.op("Sign", [name]), g.op("Floor", [g.op("Abs", [name])])])


def _int_floor_div(g, a, b, dt):
    # ONNX integer Div truncates; floor division is one less where the signs differ and the
    # division is inexact
    q = g.op("Div", [a, b])
    r = g.op("Mod", [a, b], fmod=1)
    zero = g.v(0, dt)
    inexact = g.op("Not", [g.op("Equal", [r, zero])])
    signs = g.op("Xor", [g.op("Less", [a, zero]), g.op("Less", [b, zero])])
    fix = g.cast(g.op("And", [inexact, signs]), dt)
    return g.op("Sub", [q, fix])


@exporter("div", "divide", "true_divide", "__truediv__", "__itruediv__")
def div(g, input, other, *, rounding_mode=None, out=None):
    a, b, dt = _binary_names(g, input, other)
    if rounding_mode is None or dt not in _FLOATS and rounding_mode == "trunc":
        return g.op("Div", [a, b])
    if rounding_mode == "trunc":
        return _trunc(g, g.op("Div", [a, b]))
    if rounding_mode == "floor":
        if dt in _FLOATS:
            return g.op("Floor", [g.op("Div", [a, b])])
        return _int_floor_div(g, a, b, dt)
    raise g.fail(f"rounding_mode={rounding_mode!r}")


@exporter("__rtruediv__")
def rtruediv(g, self, other):
    return div(g, other, self)


@exporter("floor_divide", "__floordiv__", "__ifloordiv__")
def floor_divide(g, input, other, *, out=None):
    return div(g, input, other, rounding_mode="floor")


@exporter("__rfloordiv__")
def rfloordiv(g, self, other):
    return floor_divide(g, other, self)


@exporter("remainder", "__mod__", "__imod__")
def remainder(g, input, other, *, out=None):
    # torch.remainder has the divisor's sign (Python's %): ONNX Mod with fmod=0 for
    # integers; floats (where ONNX requires fmod=1) as a - floor(a / b) * b, PyTorch's formula
    a, b, dt = _binary_names(g, input, other)
    if dt in _FLOATS:
        q = g.op("Floor", [g.op("Div", [a, b])])
        return g.op("Sub", [a, g.op("Mul", [q, b])])
    return g.op("Mod", [a, b], fmod=0)


@exporter("__rmod__")
def rmod(g, self, other):
    return remainder(g, other, self)


@exporter("fmod")
def fmod(g, input, other, *, out=None):
    a, b, dt = _binary_names(g, input, other)
    return g.op("Mod", [a, b], fmod=1)


@exporter("pow", "__pow__", "__ipow__")
def pow_(g, input, exponent, *, out=None):
    dt = _out_dtype(g)
    a = g.v(input, dt)
    if not _is_tensor(exponent) and dt in _FLOATS:
        # the exact forms rt (and PyTorch) use for these exponents
        if exponent == 1:
            return g.op("Identity", [a])
        if exponent == 2:
            return g.op("Mul", [a, a])
        if exponent == 0.5:
            return g.op("Sqrt", [a])
        if exponent == -1:
            return g.op("Reciprocal", [a])
    return g.op("Pow", [a, g.v(exponent, dt)])


@exporter("__rpow__")
def rpow(g, self, other):
    return pow_(g, other, self)


@exporter("float_power")
def float_power(g, input, exponent, *, out=None):
    return pow_(g, input, exponent)


@exporter("maximum")
def maximum(g, input, other, *, out=None):
    a, b, dt = _binary_names(g, input, other)
    return g.op("Max", [a, b])


@exporter("minimum")
def minimum(g, input, other, *, out=None):
    a, b, dt = _binary_names(g, input, other)
    return g.op("Min", [a, b])


@exporter("addcmul")
def addcmul(g, input, tensor1, tensor2, *, value=1, out=None):
    dt = _out_dtype(g)
    prod = g.op("Mul", [g.v(tensor1, dt), g.v(tensor2, dt)])
    if value != 1:
        prod = g.op("Mul", [prod, g.v(value, dt)])
    return g.op("Add", [g.v(input, dt), prod])


@exporter("addcdiv")
def addcdiv(g, input, tensor1, tensor2, *, value=1, out=None):
    dt = _out_dtype(g)
    q = g.op("Div", [g.v(tensor1, dt), g.v(tensor2, dt)])
    if value != 1:
        q = g.op("Mul", [q, g.v(value, dt)])
    return g.op("Add", [g.v(input, dt), q])


@exporter("xlogy")
def xlogy(g, input, other, *, out=None):
    # torch.xlogy: 0 where input == 0 (unless other is NaN), else input * log(other)
    a, b, dt = _binary_names(g, input, other)
    y = g.op("Where", [g.op("Equal", [a, g.v(0, dt)]), g.v(0, dt),
                       g.op("Mul", [a, g.op("Log", [b])])])
    return g.op("Where", [g.op("IsNaN", [b]), b, y])


@exporter("lerp")
def lerp(g, input, end, weight, *, out=None):
    # input + weight * (end - input)
    dt = _out_dtype(g)
    a = g.v(input, dt)
    d = g.op("Sub", [g.v(end, dt), a])
    return g.op("Add", [a, g.op("Mul", [g.v(weight, dt), d])])


# ---- comparisons and logic ----------------------------------------------------------------

def _compare(op_type, negate=False):
    def fn(g, input, other, *, out=None):
        dt = _promote(input, other)
        a, b = g.v(input, dt), g.v(other, dt)
        if dt == rt.bool and op_type in ("Less", "Greater", "LessOrEqual", "GreaterOrEqual"):
            a, b = g.cast(a, rt.int32), g.cast(b, rt.int32)
        if op_type in ("LessOrEqual", "GreaterOrEqual") and g.opset < 12:
            strict = "Less" if op_type == "LessOrEqual" else "Greater"
            y = g.op("Or", [g.op(strict, [a, b]), g.op("Equal", [a, b])])
        else:
            y = g.op(op_type, [a, b])
        if negate:
            y = g.op("Not", [y])
        return _finish(g, y, rt.bool)
    return fn


exporter("eq", "__eq__")(_compare("Equal"))
exporter("ne", "not_equal", "__ne__")(_compare("Equal", negate=True))
exporter("lt", "less", "__lt__")(_compare("Less"))
exporter("gt", "greater", "__gt__")(_compare("Greater"))
exporter("le", "less_equal", "__le__")(_compare("LessOrEqual"))
exporter("ge", "greater_equal", "__ge__")(_compare("GreaterOrEqual"))


def _logical(op_type):
    def fn(g, input, other, *, out=None):
        y = g.op(op_type, [g.v(input, rt.bool), g.v(other, rt.bool)])
        return _finish(g, y, rt.bool)
    return fn


exporter("logical_and")(_logical("And"))
exporter("logical_or")(_logical("Or"))
exporter("logical_xor")(_logical("Xor"))


@exporter("logical_not")
def logical_not(g, input, *, out=None):
    return _finish(g, g.op("Not", [g.v(input, rt.bool)]), rt.bool)


def _bitwise(logic, bitwise):
    def fn(g, input, other, *, out=None):
        dt = _out_dtype(g)
        if dt == rt.bool:
            return g.op(logic, [g.v(input, dt), g.v(other, dt)])
        if g.opset < 18:
            raise g.fail(f"bitwise ops on integers need opset 18 ({bitwise})")
        return g.op(bitwise, [g.v(input, dt), g.v(other, dt)])
    return fn


exporter("bitwise_and", "__and__", "__iand__")(_bitwise("And", "BitwiseAnd"))
exporter("bitwise_or", "__or__", "__ior__")(_bitwise("Or", "BitwiseOr"))
exporter("bitwise_xor", "__xor__", "__ixor__")(_bitwise("Xor", "BitwiseXor"))
exporter("__rand__")(lambda g, self, other: _bitwise("And", "BitwiseAnd")(g, other, self))
exporter("__ror__")(lambda g, self, other: _bitwise("Or", "BitwiseOr")(g, other, self))
exporter("__rxor__")(lambda g, self, other: _bitwise("Xor", "BitwiseXor")(g, other, self))


@exporter("bitwise_not", "__invert__")
def bitwise_not(g, input, *, out=None):
    dt = _out_dtype(g)
    if dt == rt.bool:
        return g.op("Not", [g.v(input)])
    if g.opset < 18:
        raise g.fail("bitwise not on integers needs opset 18 (BitwiseNot)")
    return g.op("BitwiseNot", [g.v(input)])


@exporter("where")
def where(g, condition, input=None, other=None, *, out=None):
    if input is None and other is None:
        raise g.fail("where(condition) (the indices of nonzero elements) has a data-"
                     "dependent shape")
    dt = _out_dtype(g)
    return g.op("Where", [g.v(condition, rt.bool), g.v(input, dt), g.v(other, dt)])


@exporter("Tensor.where")
def tensor_where(g, self, condition, other):
    return where(g, condition, self, other)


@exporter("masked_fill")
def masked_fill(g, input, mask, value):
    dt = _out_dtype(g)
    return g.op("Where", [g.v(mask, rt.bool), g.v(value, dt), g.v(input, dt)])


# ---- unary --------------------------------------------------------------------------------

def _unary(op_type, int_identity=False):
    def fn(g, input, *args, **kwargs):
        dt = _out_dtype(g)
        if dt not in _FLOATS and int_identity:
            return g.op("Identity", [g.v(input, dt)])
        return g.op(op_type, [g.v(input, dt)])
    fn.__name__ = op_type.lower()
    return fn


for _names, _op, _int_id in [
        (("abs", "absolute", "__abs__"), "Abs", False),
        (("neg", "negative", "__neg__"), "Neg", False),
        (("exp",), "Exp", False), (("log",), "Log", False), (("sqrt",), "Sqrt", False),
        (("reciprocal",), "Reciprocal", False), (("sin",), "Sin", False),
        (("cos",), "Cos", False), (("tan",), "Tan", False),
        (("asin", "arcsin"), "Asin", False), (("acos", "arccos"), "Acos", False),
        (("atan", "arctan"), "Atan", False), (("sinh",), "Sinh", False),
        (("cosh",), "Cosh", False), (("asinh", "arcsinh"), "Asinh", False),
        (("acosh", "arccosh"), "Acosh", False), (("atanh", "arctanh"), "Atanh", False),
        (("tanh", "F.tanh"), "Tanh", False), (("sigmoid", "F.sigmoid"), "Sigmoid", False),
        (("erf",), "Erf", False), (("floor",), "Floor", True), (("ceil",), "Ceil", True),
        (("sign", "sgn"), "Sign", False)]:
    exporter(*_names)(_unary(_op, _int_id))


@exporter("round")
def round_(g, input, *, decimals=0, out=None):
    dt = _out_dtype(g)
    x = g.v(input, dt)
    if dt not in _FLOATS:
        return g.op("Identity", [x])
    if decimals == 0:
        return g.op("Round", [x])                  # half to even, as torch.round
    scale = g.v(10.0 ** decimals, dt)
    return g.op("Div", [g.op("Round", [g.op("Mul", [x, scale])]), scale])


@exporter("trunc", "fix")
def trunc(g, input, *, out=None):
    dt = _out_dtype(g)
    if dt not in _FLOATS:
        return g.op("Identity", [g.v(input)])
    return _trunc(g, g.v(input, dt))


@exporter("frac")
def frac(g, input, *, out=None):
    x = g.v(input, _out_dtype(g))
    return g.op("Sub", [x, _trunc(g, x)])


@exporter("relu", "F.relu", "F.relu_")
def relu(g, input, inplace=False):
    dt = _out_dtype(g)
    x = g.v(input, dt)
    if dt in _FLOATS or g.opset >= 14:
        return g.op("Relu", [x])
    return g.op("Max", [x, g.v(0, dt)])


@exporter("rsqrt")
def rsqrt(g, input, *, out=None):
    return g.op("Reciprocal", [g.op("Sqrt", [g.v(input, _out_dtype(g))])])


@exporter("square")
def square(g, input, *, out=None):
    x = g.v(input, _out_dtype(g))
    return g.op("Mul", [x, x])


@exporter("log1p")
def log1p(g, input, *, out=None):
    dt = _out_dtype(g)
    return g.op("Log", [g.op("Add", [g.v(input, dt), g.v(1, dt)])])


@exporter("expm1")
def expm1(g, input, *, out=None):
    dt = _out_dtype(g)
    return g.op("Sub", [g.op("Exp", [g.v(input, dt)]), g.v(1, dt)])


@exporter("log2")
def log2(g, input, *, out=None):
    dt = _out_dtype(g)
    return g.op("Div", [g.op("Log", [g.v(input, dt)]), g.v(math.log(2.0), dt)])


@exporter("log10")
def log10(g, input, *, out=None):
    dt = _out_dtype(g)
    return g.op("Div", [g.op("Log", [g.v(input, dt)]), g.v(math.log(10.0), dt)])


@exporter("exp2")
def exp2(g, input, *, out=None):
    dt = _out_dtype(g)
    return g.op("Pow", [g.v(2, dt), g.v(input, dt)])


@exporter("erfc")
def erfc(g, input, *, out=None):
    dt = _out_dtype(g)
    return g.op("Sub", [g.v(1, dt), g.op("Erf", [g.v(input, dt)])])


@exporter("deg2rad")
def deg2rad(g, input, *, out=None):
    dt = _out_dtype(g)
    return g.op("Mul", [g.v(input, dt), g.v(math.pi / 180.0, dt)])


@exporter("rad2deg")
def rad2deg(g, input, *, out=None):
    dt = _out_dtype(g)
    return g.op("Mul", [g.v(input, dt), g.v(180.0 / math.pi, dt)])


def _all_bool(g, input, value):
    from rt_import.onnx._trace import tensor_proto
    return g.op("ConstantOfShape", [g.op("Shape", [g.v(input)])],
                value=tensor_proto("", np.asarray([value]), rt.bool))


@exporter("isnan")
def isnan(g, input, *, out=None):
    if input.dtype not in _FLOATS:
        return _all_bool(g, input, False)
    return g.op("IsNaN", [g.v(input)])


@exporter("isinf")
def isinf(g, input, *, out=None):
    if input.dtype not in _FLOATS:
        return _all_bool(g, input, False)
    return g.op("IsInf", [g.v(input)])


@exporter("isposinf")
def isposinf(g, input, *, out=None):
    return g.op("IsInf", [g.v(input)], detect_negative=0)


@exporter("isneginf")
def isneginf(g, input, *, out=None):
    return g.op("IsInf", [g.v(input)], detect_negative=1, detect_positive=0)


@exporter("isfinite")
def isfinite(g, input, *, out=None):
    x = g.v(input)
    if input.dtype not in _FLOATS:
        return _all_bool(g, input, True)
    return g.op("Not", [g.op("Or", [g.op("IsNaN", [x]), g.op("IsInf", [x])])])


@exporter("positive", "__pos__", "contiguous", "detach", "alias", "detach_", "clone",
          "resolve_conj", "resolve_neg")
def alias(g, input, *args, **kwargs):
    return g.v(input)


@exporter("clamp", "clip")
def clamp(g, input, min=None, max=None, *, out=None):
    dt = _out_dtype(g)
    x = g.v(input, dt)
    if min is None and max is None:
        raise g.fail("at least one of min and max must be given")
    if (_is_tensor(min) and min.dim() > 0) or (_is_tensor(max) and max.dim() > 0) or \
            (g.opset < 12 and dt not in _FLOATS):
        # element-wise bounds: max then min, as torch.clamp
        if min is not None:
            x = g.op("Max", [x, g.v(min, dt)])
        if max is not None:
            x = g.op("Min", [x, g.v(max, dt)])
        return x
    lo = g.v(min, dt) if min is not None else ""
    hi = g.v(max, dt) if max is not None else ""
    return g.op("Clip", [x, lo, hi])


@exporter("clamp_min")
def clamp_min(g, input, min):
    return clamp(g, input, min=min)


@exporter("clamp_max")
def clamp_max(g, input, max):
    return clamp(g, input, max=max)


@exporter("nan_to_num")
def nan_to_num(g, input, nan=0.0, posinf=None, neginf=None, *, out=None):
    dt = _out_dtype(g)
    x = g.v(input, dt)
    if dt not in _FLOATS:
        return g.op("Identity", [x])
    info = np.finfo({rt.float16: np.float16, rt.float64: np.float64}.get(dt, np.float32))
    posinf = float(info.max) if posinf is None else posinf
    neginf = float(info.min) if neginf is None else neginf
    x = g.op("Where", [g.op("IsNaN", [x]), g.v(nan, dt), x])
    x = g.op("Where", [g.op("IsInf", [x], detect_negative=0), g.v(posinf, dt), x])
    return g.op("Where", [g.op("IsInf", [x], detect_positive=0), g.v(neginf, dt), x])


# ---- casts --------------------------------------------------------------------------------

@exporter("to", "type", "float", "double", "half", "bfloat16", "long", "int", "short", "bool",
          "byte", "char", "cfloat", "cdouble", "type_as")
def to(g, input, *args, **kwargs):
    if not g.outs:                      # x.type() with no dtype returns the type's name
        return []
    return g.v(input, _out_dtype(g))


# ---- linear algebra -----------------------------------------------------------------------

@exporter("matmul", "mm", "bmm", "mv", "dot", "__matmul__")
def matmul(g, input, other, *, out=None):
    dt = _out_dtype(g)
    return g.op("MatMul", [g.v(input, dt), g.v(other, dt)])


@exporter("__rmatmul__")
def rmatmul(g, self, other):
    return matmul(g, other, self)


@exporter("outer", "ger")
def outer(g, input, vec2, *, out=None):
    dt = _out_dtype(g)
    return g.op("Mul", [g.unsqueeze(g.v(input, dt), [1]), g.v(vec2, dt)])


@exporter("addmm")
def addmm(g, input, mat1, mat2, *, beta=1, alpha=1, out=None):
    dt = _out_dtype(g)
    if dt in (rt.float32, rt.float64, rt.float16, rt.bfloat16):
        ins = [g.v(mat1, dt), g.v(mat2, dt)]
        if beta != 0:
            ins.append(g.v(input, dt))
        return g.op("Gemm", ins, alpha=float(alpha), beta=float(beta))
    return _add_product(g, input, g.op("MatMul", [g.v(mat1, dt), g.v(mat2, dt)]),
                        [mat1.shape[0], mat2.shape[1]], beta, alpha, dt)


def _add_product(g, input, prod, prod_shape, beta, alpha, dt):
    """beta * input + alpha * prod (torch.addmm's family)."""
    if alpha != 1:
        prod = g.op("Mul", [prod, g.v(alpha, dt)])
    if beta == 0:
        # PyTorch ignores input when beta is 0 (its nan and inf do not propagate); only its
        # shape broadcasts
        out_shape = list(g.outs[0].shape)
        if list(prod_shape) == out_shape:
            return prod
        return g.op("Expand", [prod, g.ints(out_shape)])
    inp = g.v(input, dt)
    if beta != 1:
        inp = g.op("Mul", [inp, g.v(beta, dt)])
    return g.op("Add", [inp, prod])


@exporter("addmv", "baddbmm")
def addmv(g, input, a, b, *, beta=1, alpha=1, out=None):
    dt = _out_dtype(g)
    prod = g.op("MatMul", [g.v(a, dt), g.v(b, dt)])
    shape = list(a.shape[:-1]) + ([b.shape[-1]] if b.dim() > 1 else [])
    return _add_product(g, input, prod, shape, beta, alpha, dt)


@exporter("addbmm")
def addbmm(g, input, batch1, batch2, *, beta=1, alpha=1, out=None):
    dt = _out_dtype(g)
    prod = g.reduce("ReduceSum", g.op("MatMul", [g.v(batch1, dt), g.v(batch2, dt)]), [0],
                    False)
    return _add_product(g, input, prod, [batch1.shape[1], batch2.shape[2]], beta, alpha, dt)


@exporter("einsum")
def einsum(g, equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if g.opset < 12:
        raise g.fail("Einsum needs opset 12")
    dt = _out_dtype(g)
    return g.op("Einsum", [g.v(o, dt) for o in operands], equation=equation.replace(" ", ""))


@exporter("F.linear")
def linear(g, input, weight, bias=None):
    dt = _out_dtype(g)
    x = g.v(input, dt)
    w = g.v(weight, dt)
    if input.dim() == 2 and weight.dim() == 2 and dt in _FLOATS:
        ins = [x, w] + ([g.v(bias, dt)] if bias is not None else [])
        return g.op("Gemm", ins, transB=1)
    if weight.dim() == 2:
        w = g.op("Transpose", [w], perm=[1, 0])
    y = g.op("MatMul", [x, w])
    if bias is not None:
        y = g.op("Add", [y, g.v(bias, dt)])
    return y


@exporter("F.bilinear")
def bilinear(g, input1, input2, weight, bias=None):
    dt = _out_dtype(g)
    if g.opset >= 12:
        y = g.op("Einsum", [g.v(input1, dt), g.v(weight, dt), g.v(input2, dt)],
                 equation="...i,oij,...j->...o")
    else:
        # y[..., o] = sum_j (x1 @ W[o])[..., j] * x2[..., j], with W as an (I, O*J) matrix
        o, i, j = weight.shape
        w = g.op("Reshape", [g.op("Transpose", [g.v(weight, dt)], perm=[1, 0, 2]),
                             g.ints([i, o * j])])
        t = g.op("MatMul", [g.v(input1, dt), w])
        t = g.op("Reshape", [t, _shape_with(g, input1, input1.dim() - 1, [o, j],
                                            input1.dim())])
        y = g.reduce("ReduceSum", g.op("Mul", [t, g.unsqueeze(g.v(input2, dt),
                                                              [input2.dim() - 1])]),
                     [input1.dim()], False)
    if bias is not None:
        y = g.op("Add", [y, g.v(bias, dt)])
    return y


# ---- shapes -------------------------------------------------------------------------------

@exporter("view", "reshape")
def view(g, input, *shape):
    if len(shape) == 1 and isinstance(shape[0], rtt.dtype):
        raise g.fail("view(dtype) reinterprets the bytes, which ONNX cannot express")
    spec = _shape_args(shape)
    if g.has_sym(spec):
        # sizes read from symbolic dims: the shape is computed in the graph
        y = g.op("Reshape", [g.v(input), g.shape_tensor(spec)])
        g.hint(y, spec)
        return y
    out_shape = list(g.outs[0].shape)
    if -1 not in spec:
        spec = out_shape
    return g.reshape(g.v(input), list(input.shape), spec)


@exporter("view_as", "reshape_as")
def view_as(g, input, other):
    return g.op("Reshape", [g.v(input), g.op("Shape", [g.v(other)])])


def _shape_with(g, input, start, middle, end):
    """A shape tensor: input's dims [0, start), then ``middle`` (ints), then input's dims
    [end, rank) (dynamic-safe)."""
    parts = []
    x = g.v(input)
    rank = input.dim()
    if start > 0:
        parts.append(g.shape_of(x, 0, start))
    if middle:
        parts.append(g.shape_tensor(middle))
    if end < rank:
        parts.append(g.shape_of(x, end, rank))
    if len(parts) == 1:
        return parts[0]
    return g.op("Concat", parts, axis=0)


@exporter("flatten")
def flatten(g, input, start_dim=0, end_dim=-1):
    rank = input.dim()
    x = g.v(input)
    if rank == 0:
        return g.reshape(x, [], [1])
    s, e = _dim(start_dim, rank), _dim(end_dim, rank)
    if s == e:
        return x
    if e == rank - 1 and s == 1:
        return g.op("Flatten", [x], axis=1)
    if s == 0 and e == rank - 1:
        return g.op("Reshape", [x, g.ints([-1])])
    if not g.dynamic:
        return g.op("Reshape", [x, g.ints(g.outs[0].shape)])
    return g.op("Reshape", [x, _shape_with(g, input, s, [-1], e + 1)])


@exporter("unflatten")
def unflatten(g, input, dim, sizes):
    rank = input.dim()
    d = _dim(dim, rank)
    sizes = [_size(v) for v in sizes]
    if not g.dynamic:
        return g.op("Reshape", [g.v(input), g.ints(g.outs[0].shape)])
    return g.op("Reshape", [g.v(input), _shape_with(g, input, d, sizes, d + 1)])


@exporter("squeeze")
def squeeze(g, input, *dim):
    rank = input.dim()
    if len(dim) == 1:
        dim = dim[0]
    elif len(dim) == 0:
        dim = None
    shape = list(input.shape)
    dims = range(rank) if dim is None else _dims(dim, rank)
    axes = [d for d in dims if rank > 0 and shape[d] == 1]
    if not axes:
        return g.v(input)
    return g.squeeze(g.v(input), axes)


@exporter("unsqueeze")
def unsqueeze(g, input, dim):
    return g.unsqueeze(g.v(input), [_dim(dim, input.dim() + 1)])


def _transpose(g, input, perm):
    if list(perm) == list(range(len(perm))):
        return g.v(input)
    return g.op("Transpose", [g.v(input)], perm=[int(p) for p in perm])


@exporter("t")
def t(g, input):
    if input.dim() < 2:
        return g.v(input)
    return _transpose(g, input, [1, 0])


@exporter("T", "H")
def big_t(g, input):
    if input.dtype.is_complex and g.display.endswith(".H"):
        raise g.fail("conjugation of complex tensors")
    return _transpose(g, input, list(range(input.dim()))[::-1])


@exporter("mT", "mH")
def m_t(g, input):
    if input.dtype.is_complex and g.display.endswith(".mH"):
        raise g.fail("conjugation of complex tensors")
    r = input.dim()
    return _transpose(g, input, list(range(r - 2)) + [r - 1, r - 2])


@exporter("transpose", "swapaxes", "swapdims")
def transpose(g, input, dim0, dim1):
    r = input.dim()
    if r == 0:
        return g.v(input)
    perm = list(range(r))
    a, b = _dim(dim0, r), _dim(dim1, r)
    perm[a], perm[b] = perm[b], perm[a]
    return _transpose(g, input, perm)


@exporter("permute")
def permute(g, input, *dims):
    r = input.dim()
    return _transpose(g, input, [_dim(d, r) for d in _shape_args(dims)])


@exporter("movedim", "moveaxis")
def movedim(g, input, source, destination):
    r = input.dim()
    src = [_dim(d, r) for d in _ints(source)]
    dst = [_dim(d, r) for d in _ints(destination)]
    # the permutation np.moveaxis applies (distinct sizes identify the dims)
    probe = np.moveaxis(np.empty(tuple(range(2, r + 2)), dtype=np.uint8), src, dst)
    return _transpose(g, input, [s - 2 for s in probe.shape])


@exporter("expand", "broadcast_to")
def expand(g, input, *size):
    target = _shape_args(size)
    in_shape = list(input.shape)
    k = len(target) - len(in_shape)
    # a target dim equal to the aligned input dim is ONNX broadcasting's 1 (keep the dim):
    # exact for the example and it follows symbolic dims; symbolic sizes are computed
    spec = []
    for i, s in enumerate(target):
        j = i - k
        if isinstance(s, SymInt):
            spec.append(s)
        elif s == -1 or (j >= 0 and s == in_shape[j]):
            spec.append(1)
        else:
            spec.append(int(s))
    return g.op("Expand", [g.v(input), g.shape_tensor(spec)])


@exporter("expand_as")
def expand_as(g, input, other):
    return g.op("Expand", [g.v(input), g.op("Shape", [g.v(other)])])


@exporter("repeat")
def repeat(g, input, *sizes):
    reps = _shape_args(sizes)
    x = g.v(input)
    extra = len(reps) - input.dim()
    if extra > 0:
        x = g.unsqueeze(x, list(range(extra)))
    return g.op("Tile", [x, g.ints(reps)])


@exporter("tile")
def tile(g, input, *dims):
    reps = _shape_args(dims)
    r = input.dim()
    if len(reps) < r:
        reps = [1] * (r - len(reps)) + reps
    x = g.v(input)
    if len(reps) > r:
        x = g.unsqueeze(x, list(range(len(reps) - r)))
    return g.op("Tile", [x, g.ints(reps)])


@exporter("flip")
def flip(g, input, *dims):
    r = input.dim()
    axes = [_dim(d, r) for d in _shape_args(dims)]
    if not axes or r == 0:
        return g.v(input)
    n = len(axes)
    return g.slice(g.v(input), [-1] * n, [INT64_MIN] * n, axes, [-1] * n)


@exporter("narrow")
def narrow(g, input, dim, start, length):
    _check_traced_int(g, start, "narrow's start")
    r = input.dim()
    d = _dim(dim, r)
    start, length = _size(start), _size(length)
    if start < 0:
        start = start + input.shape[d]
    if g.has_sym([start, length]):
        return g.op("Slice", [g.v(input), g.shape_tensor([start]),
                              g.shape_tensor([start + length]), g.ints([d])])
    return g.slice(g.v(input), [start], [start + length], [d])


@exporter("select")
def select(g, input, dim, index):
    _check_traced_int(g, index, "select's index")
    d = _dim(dim, input.dim())
    return g.op("Gather", [g.v(input), g.const(np.array(int(index), np.int64))], axis=d)


@exporter("unbind")
def unbind(g, input, dim=0):
    d = _dim(dim, input.dim())
    n = input.shape[d]
    if n == 0:
        return []
    parts = g.split(g.v(input), [1] * n, d)
    if isinstance(parts, str):
        parts = [parts]
    return [g.squeeze(p, [d]) for p in parts]


@exporter("split", "split_with_sizes", "chunk", "tensor_split")
def split(g, input, sections, dim=0):
    d = _dim(dim, input.dim())
    sizes = [o.shape[d] for o in g.outs]
    if len(sizes) == 1:
        return [g.v(input)]
    parts = g.split(g.v(input), sizes, d)
    return parts


@exporter("broadcast_tensors")
def broadcast_tensors(g, *tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    return [expand(g, t, list(o.shape)) for t, o in zip(tensors, g.outs)]


@exporter("cat", "concat", "concatenate")
def cat(g, tensors, dim=0, *, out=None):
    dt = _out_dtype(g)
    rank = g.outs[0].dim()
    # PyTorch skips legacy empty 1-d inputs next to higher-rank ones
    items = [t for t in tensors if not (t.dim() == 1 and t.shape[0] == 0 and rank > 1)]
    if not items:
        items = list(tensors[:1])
    names = [g.v(t, dt) for t in items]
    if len(names) == 1:
        return g.op("Identity", names)
    return g.op("Concat", names, axis=_dim(dim, rank))


@exporter("stack")
def stack(g, tensors, dim=0, *, out=None):
    dt = _out_dtype(g)
    d = _dim(dim, tensors[0].dim() + 1)
    names = [g.unsqueeze(g.v(t, dt), [d]) for t in tensors]
    if len(names) == 1:
        return names[0]
    return g.op("Concat", names, axis=d)


def _index_item_kind(x):
    if x is None:
        return "none"
    if x is Ellipsis:
        return "ellipsis"
    if isinstance(x, slice):
        return "slice"
    if isinstance(x, bool):
        return "bool"
    if isinstance(x, (int, np.integer)):
        return "int"
    if isinstance(x, rtt.Tensor):
        return "tensor"
    if isinstance(x, (list, tuple)):
        # a list of bools is a mask in PyTorch
        return "other" if any(isinstance(v, bool) for v in x) else "list"
    return "other"


def _expand_index(g, input, index):
    items = list(index) if isinstance(index, tuple) else [index]
    kinds = [_index_item_kind(i) for i in items]
    if "other" in kinds or "bool" in kinds:
        raise g.fail("an index of bools (a mask) or of an unsupported type: its result "
                     "shape depends on the data")
    used = sum(1 for k, i in zip(kinds, items) if k in ("slice", "int", "list") or
               (k == "tensor" and not (i.dtype == rt.bool)))
    used += sum(i.dim() for k, i in zip(kinds, items) if k == "tensor" and i.dtype == rt.bool)
    if kinds.count("ellipsis") > 1:
        raise g.fail("an index can only have a single ellipsis")
    if "ellipsis" in kinds:
        e = kinds.index("ellipsis")
        fill = [slice(None)] * (input.dim() - used)
        items = items[:e] + fill + items[e + 1:]
    return items


@exporter("__getitem__")
def getitem(g, self, index):
    items = _expand_index(g, self, index)
    x = g.v(self)
    shape = list(self.shape)
    pending = []                # (axis, start, end, step) slices not emitted yet
    advanced = [i for i in items if _index_item_kind(i) in ("tensor", "list")]
    if advanced and (len(advanced) > 1 or any(_index_item_kind(i) == "tensor" and
                                              i.dtype == rt.bool for i in advanced)):
        raise g.fail("indexing with a bool mask or with several index tensors has a shape "
                     "ONNX Gather cannot express; use index_select or gather")

    def flush(x):
        if pending:
            axes = [p[0] for p in pending]
            starts, ends = [p[1] for p in pending], [p[2] for p in pending]
            steps = [p[3] for p in pending]
            if g.has_sym(starts + ends):
                x = g.op("Slice", [x, g.shape_tensor(starts), g.shape_tensor(ends),
                                   g.ints(axes), g.ints(steps)])
            else:
                x = g.slice(x, starts, ends, axes, steps)
            pending.clear()
        return x
    out_dim = 0
    in_dim = 0
    for item in items:
        kind = _index_item_kind(item)
        if kind == "none":
            x = flush(x)
            x = g.unsqueeze(x, [out_dim])
            out_dim += 1
        elif kind == "slice":
            start, stop, step = item.start, item.stop, item.step
            for v in (start, stop, step):
                _check_traced_int(g, v, "a slice bound")
            step = 1 if step is None else int(step)
            if step <= 0:
                raise g.fail("slice step must be positive")
            if not (start is None or (not isinstance(start, SymInt) and start == 0)) or \
                    stop is not None or step != 1:
                pending.append((out_dim, 0 if start is None else _size(start),
                                INT64_MAX if stop is None else _size(stop), step))
            out_dim += 1
            in_dim += 1
        elif kind == "int":
            x = flush(x)
            x = g.op("Gather", [x, g.const(np.array(int(item), np.int64))], axis=out_dim)
            in_dim += 1
        else:
            x = flush(x)
            idx = item if kind == "tensor" else np.asarray(item, dtype=np.int64)
            if kind == "tensor":
                if item.dtype not in (rt.int64, rt.int32, rt.int16, rt.int8, rt.uint8):
                    raise g.fail(f"index tensors of dtype {item.dtype}")
                name = g.v(idx, rt.int64)
                nd = item.dim()
            else:
                name = g.const(idx, rt.int64)
                nd = idx.ndim
            x = g.op("Gather", [x, name], axis=out_dim)
            out_dim += nd
            in_dim += 1
    x = flush(x)
    if x == g.v(self):
        return g.op("Identity", [x])
    return x


@exporter("__setitem__")
def setitem(g, self, index, value):
    if g.dynamic:
        raise g.fail("x[index] = value is exported with the example's static shape, which "
                     "dynamic_axes rules out; build the value out of place (torch.where, cat)")
    items = _expand_index(g, self, index)
    shape = list(self.shape)
    ranges = []
    view_shape = []             # the shape of self[index]: int indices drop their dim
    for item, n in zip(items + [slice(None)] * (len(shape) - len(items)), shape):
        kind = _index_item_kind(item)
        if kind == "slice":
            ranges.append(list(range(n))[item])
            view_shape.append(len(ranges[-1]))
        elif kind == "int":
            ranges.append([int(item) % n if n else 0])
        else:
            raise g.fail("x[index] = value with None, index tensors or lists")
    grid = np.stack(np.meshgrid(*[np.asarray(r, np.int64) for r in ranges], indexing="ij"),
                    axis=-1) if ranges else np.zeros((0,), np.int64)
    sub = list(grid.shape[:-1])
    dt = self.dtype
    # value broadcasts to self[index]'s shape, then takes the grid's (ints as 1-sized dims)
    upd = g.op("Expand", [g.v(value, dt), g.ints(view_shape)])
    if view_shape != sub:
        upd = g.op("Reshape", [upd, g.ints(sub)])
    g.write(self, g.op("ScatterND", [g.v(self), g.const(grid, rt.int64), upd]))
    return []


@exporter("index_select")
def index_select(g, input, dim, index, *, out=None):
    return g.op("Gather", [g.v(input), g.v(index, rt.int64)], axis=_dim(dim, input.dim()))


@exporter("gather")
def gather(g, input, dim, index, *, sparse_grad=False, out=None):
    return g.op("GatherElements", [g.v(input), g.v(index, rt.int64)],
                axis=_dim(dim, input.dim()))


@exporter("take_along_dim")
def take_along_dim(g, input, indices, dim=None):
    if dim is None:
        flat = g.op("Reshape", [g.v(input), g.ints([-1])])
        return g.op("GatherElements", [flat, g.op("Reshape", [g.v(indices, rt.int64),
                                                              g.ints([-1])])], axis=0)
    d = _dim(dim, input.dim())
    idx = g.op("Expand", [g.v(indices, rt.int64), g.ints(g.outs[0].shape)])
    x = g.op("Expand", [g.v(input), g.ints([1 if i == d else s for i, s in
                                             enumerate(g.outs[0].shape)])])
    return g.op("GatherElements", [x, idx], axis=d)


@exporter("nonzero")
def nonzero(g, input, *, out=None, as_tuple=False):
    if as_tuple:
        raise g.fail("nonzero(as_tuple=True)")
    return g.op("Transpose", [g.op("NonZero", [g.v(input)])], perm=[1, 0])


@exporter("roll")
def roll(g, input, shifts, dims=None):
    shifts = _ints(shifts)
    x = g.v(input)
    if dims is None:
        flat = g.op("Reshape", [x, g.ints([-1])])
        y = _roll_axis(g, flat, shifts[0], 0, input.numel())
        return g.op("Reshape", [y, g.op("Shape", [x])])
    for s, d in zip(shifts, _ints(dims)):
        d = _dim(d, input.dim())
        x = _roll_axis(g, x, s, d, input.shape[d])
    return x


def _roll_axis(g, x, shift, axis, n):
    if n == 0 or shift % n == 0:
        return x
    s = shift % n
    tail = g.slice(x, [n - s], [INT64_MAX], [axis])
    head = g.slice(x, [0], [n - s], [axis])
    return g.op("Concat", [tail, head], axis=axis)


@exporter("tril", "triu")
def trilu(g, input, diagonal=0, *, out=None):
    upper = int(g.display.endswith("triu"))
    if g.opset < 14:
        if g.dynamic:
            raise g.fail("with dynamic_axes it needs opset 14 (Trilu); before, the mask is "
                         "made for the example's sizes")
        # before Trilu: a mask of the (static) last two dims
        rows, cols = input.shape[-2:]
        keep = (np.triu if upper else np.tril)(np.ones((rows, cols), bool), int(diagonal))
        dt = _out_dtype(g)
        return g.op("Where", [g.const(keep, rt.bool), g.v(input), g.v(0, dt)])
    return g.op("Trilu", [g.v(input), g.const(np.array(int(diagonal), np.int64))],
                upper=upper)


def _flatten_sizes(args, kwargs):
    out = []
    for a in list(args) + [kwargs.get("size")]:
        if isinstance(a, (list, tuple)):
            out.extend(a)
        elif a is not None:
            out.append(a)
    return out


def _like(g, input, value):
    dt = _out_dtype(g)
    from rt_import.onnx._trace import tensor_proto
    return g.op("ConstantOfShape", [g.op("Shape", [g.v(input)])],
                value=tensor_proto("", np.asarray([value]), dt))


@exporter("zeros_like", "empty_like")
def zeros_like(g, input, *args, **kwargs):
    return _like(g, input, 0)


@exporter("ones_like")
def ones_like(g, input, *args, **kwargs):
    return _like(g, input, 1)


@exporter("full_like")
def full_like(g, input, fill_value, *args, **kwargs):
    _check_traced_int(g, fill_value, "full_like's fill value")
    return _like(g, input, fill_value)


@exporter("new_zeros", "new_ones", "new_full", "new_empty", "new_tensor", "new_empty_strided")
def new_constant(g, self, *args, **kwargs):
    name = g.display.rsplit(".", 1)[-1]
    if name in ("new_zeros", "new_ones", "new_empty") and g.has_sym(
            _flatten_sizes(args, kwargs)):
        return _filled(g, _factory_sizes(args or (kwargs.get("size"),)),
                       1 if name == "new_ones" else 0)
    if name == "new_full" and g.has_sym(_flatten_sizes(args[:1], kwargs)):
        size = args[0] if args else kwargs["size"]
        fill = args[1] if len(args) > 1 else kwargs["fill_value"]
        return _filled(g, _factory_sizes((size,)), fill)
    for a in list(args) + list(kwargs.values()):
        if isinstance(a, rtt.Tensor) and g.display.endswith("new_tensor"):
            raise g.fail("new_tensor(traced data) copies data into a constant")
    out = g.outs[0]
    if g.display.endswith("new_empty") or g.display.endswith("new_empty_strided"):
        return g.const(np.zeros(tuple(out.shape)), out.dtype)
    return g.const(out)


def _factory_sizes(size):
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        return [_size(v) for v in size[0]]
    return [_size(v) for v in size]


def _filled(g, sizes, value):
    dt = _out_dtype(g)
    from rt_import.onnx._trace import tensor_proto
    shape = g.shape_tensor(sizes)
    if isinstance(value, rtt.Tensor):
        y = g.op("Expand", [g.v(value, dt), shape])
    else:
        y = g.op("ConstantOfShape", [shape], value=tensor_proto("", np.asarray([value]), dt))
    g.hint(y, sizes)
    return y


# factories are recorded only when a size is symbolic (otherwise they are constants)
@exporter("zeros", "empty")
def zeros(g, *size, **kwargs):
    return _filled(g, _factory_sizes(size), 0)


@exporter("ones")
def ones(g, *size, **kwargs):
    return _filled(g, _factory_sizes(size), 1)


@exporter("full")
def full(g, size, fill_value, **kwargs):
    return _filled(g, _factory_sizes((size,)), fill_value)


@exporter("arange")
def arange(g, start, end=None, step=1, **kwargs):
    if end is None:
        start, end = 0, start
    dt = _out_dtype(g)

    def scalar(v):
        if isinstance(v, SymInt):
            return g.cast(g.op("Reshape", [g.sym(v), g.ints([])]), dt)
        return g.v(v, dt)
    y = g.op("Range", [scalar(start), scalar(end), scalar(step)])
    if not isinstance(start, SymInt) and start == 0 and not isinstance(step, SymInt) and \
            step == 1:
        g.hint(y, [end])
    return y


for _random in ("rand_like", "randn_like", "randint_like", "bernoulli", "multinomial",
                "normal_", "uniform_", "bernoulli_", "random_", "exponential_", "cauchy_",
                "log_normal_", "geometric_", "F.rrelu_"):
    def _refuse_random(g, *args, **kwargs):
        raise g.fail("random sampling cannot be exported (the ONNX graph would not give rt's "
                     "numbers); export runs the module in eval mode, where dropout is off")
    exporter(_random)(_refuse_random)


# ---- reductions ---------------------------------------------------------------------------

def _reduce_axes(dim, rank):
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)) and len(dim) == 0:
        return None
    return _dims(dim, rank)


def _reduce(op_type):
    def fn(g, input, dim=None, keepdim=False, *, dtype=None, out=None):
        dt = _out_dtype(g)
        x = g.v(input, dt)
        axes = _reduce_axes(dim, input.dim())
        if input.dim() == 0:
            return g.op("Identity", [x])
        if dt == rt.bool:
            y = g.reduce(op_type, g.cast(x, rt.int32), axes, keepdim)
            return g.cast(y, rt.bool)
        return g.reduce(op_type, x, axes, keepdim)
    return fn


exporter("sum")(_reduce("ReduceSum"))
exporter("mean")(_reduce("ReduceMean"))
exporter("amax")(_reduce("ReduceMax"))
exporter("amin")(_reduce("ReduceMin"))
exporter("prod")(_reduce("ReduceProd"))


def _max_min(reduce_op, arg_op, binary_op):
    def fn(g, input, dim=None, keepdim=False, *, out=None):
        if isinstance(dim, rtt.Tensor):             # max(a, b) is maximum
            a, b, dt = _binary_names(g, input, dim)
            return g.op(binary_op, [a, b])
        rank = input.dim()
        x = g.v(input)
        bool_in = input.dtype == rt.bool
        if bool_in:
            x = g.cast(x, rt.int32)
        if dim is None:
            y = g.reduce(reduce_op, x, None, False) if rank else g.op("Identity", [x])
            return g.cast(y, rt.bool) if bool_in else y
        d = _dim(dim, rank)
        if rank == 0:
            return [g.op("Identity", [g.v(input)]), g.const(np.array(0, np.int64))]
        values = g.reduce(reduce_op, x, [d], keepdim)
        if bool_in:
            values = g.cast(values, rt.bool)
        indices = g.op(arg_op, [x], axis=d, keepdims=int(bool(keepdim)))
        return [values, indices]
    return fn


exporter("max")(_max_min("ReduceMax", "ArgMax", "Max"))
exporter("min")(_max_min("ReduceMin", "ArgMin", "Min"))


def _arg(op_type):
    def fn(g, input, dim=None, keepdim=False):
        x = g.v(input)
        if input.dtype == rt.bool:
            x = g.cast(x, rt.int32)
        if dim is None:
            flat = g.op("Reshape", [x, g.ints([-1])])
            y = g.op(op_type, [flat], axis=0, keepdims=0)
            if g.outs[0].dim():
                y = g.op("Reshape", [y, g.ints(g.outs[0].shape)])
            return y
        if input.dim() == 0:
            return g.const(np.array(0, np.int64))
        return g.op(op_type, [x], axis=_dim(dim, input.dim()), keepdims=int(bool(keepdim)))
    return fn


exporter("argmax")(_arg("ArgMax"))
exporter("argmin")(_arg("ArgMin"))


def _all_any(op_type):
    def fn(g, input, dim=None, keepdim=False, *, out=None):
        x = g.cast(g.v(input, rt.bool), rt.int32)
        if input.dim() == 0:
            y = x
        else:
            y = g.reduce(op_type, x, _reduce_axes(dim, input.dim()), keepdim)
        return _finish(g, g.cast(y, rt.bool), rt.bool)
    return fn


exporter("all")(_all_any("ReduceMin"))
exporter("any")(_all_any("ReduceMax"))


def _var_parts(g, input, dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):                   # std(x, False): the old unbiased argument
        unbiased, dim = dim, None
    if correction is None:
        correction = 0 if unbiased is False else 1
    dt = input.dtype if input.dtype in _FLOATS else rt.get_default_dtype()
    rank = input.dim()
    axes = _reduce_axes(dim, rank)
    x = g.v(input, dt)
    n = 1
    for a in (range(rank) if axes is None else axes):
        n *= input.shape[a]
    if rank == 0:
        mean_k = x
        d = g.op("Sub", [x, x])
    else:
        mean_k = g.reduce("ReduceMean", x, axes, True)
        d = g.op("Sub", [x, mean_k])
    ss = g.reduce("ReduceSum", g.op("Mul", [d, d]), axes, keepdim) if rank else \
        g.op("Mul", [d, d])
    var = g.op("Div", [ss, g.v(float(max(n - correction, 0)), dt)])
    mean = mean_k if (keepdim or rank == 0) else g.squeeze(mean_k, axes if axes is not None
                                                           else list(range(rank)))
    return var, mean, dt


@exporter("var")
def var(g, input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    v, _, _ = _var_parts(g, input, dim, unbiased, keepdim, correction)
    return v


@exporter("std")
def std(g, input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    v, _, _ = _var_parts(g, input, dim, unbiased, keepdim, correction)
    return g.op("Sqrt", [v])


@exporter("var_mean")
def var_mean(g, input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    v, m, _ = _var_parts(g, input, dim, unbiased, keepdim, correction)
    return [v, m]


@exporter("std_mean")
def std_mean(g, input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    v, m, _ = _var_parts(g, input, dim, unbiased, keepdim, correction)
    return [g.op("Sqrt", [v]), m]


@exporter("logsumexp")
def logsumexp(g, input, dim, keepdim=False, *, out=None):
    dt = _out_dtype(g)
    x = g.v(input, dt)
    if input.dim() == 0:
        return g.op("Identity", [x])
    # max-shifted, as PyTorch: m + log(sum(exp(x - m))) with m = 0 where it is infinite
    axes = _reduce_axes(dim, input.dim())
    m = g.reduce("ReduceMax", x, axes, True)
    m = g.op("Where", [g.op("IsInf", [m]), g.v(0, dt), m])
    s = g.reduce("ReduceSum", g.op("Exp", [g.op("Sub", [x, m])]), axes, keepdim)
    mm = m if keepdim else g.squeeze(m, axes if axes is not None else
                                     list(range(input.dim())))
    return g.op("Add", [g.op("Log", [s]), mm])


@exporter("norm")
def norm(g, input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    dt = _out_dtype(g)
    x = g.v(input, dt)
    axes = _reduce_axes(dim, input.dim())
    if input.dim() == 0:
        return g.op("Abs", [x])
    if p in ("fro", 2, 2.0):
        return g.reduce("ReduceL2", x, axes, keepdim)
    if p in (1, 1.0):
        return g.reduce("ReduceL1", x, axes, keepdim)
    if p == math.inf:
        return g.reduce("ReduceMax", g.op("Abs", [x]), axes, keepdim)
    if p == -math.inf:
        return g.reduce("ReduceMin", g.op("Abs", [x]), axes, keepdim)
    if p == 0:
        nz = g.cast(g.op("Not", [g.op("Equal", [x, g.v(0, dt)])]), dt)
        return g.reduce("ReduceSum", nz, axes, keepdim)
    if isinstance(p, (int, float)):
        s = g.reduce("ReduceSum", g.op("Pow", [g.op("Abs", [x]), g.v(float(p), dt)]), axes,
                     keepdim)
        return g.op("Pow", [s, g.v(1.0 / float(p), dt)])
    raise g.fail(f"p={p!r}")


@exporter("cumsum")
def cumsum(g, input, dim, *, dtype=None, out=None):
    dt = _out_dtype(g)
    x = g.v(input, dt)
    if input.dim() == 0:
        return g.op("Identity", [x])
    return g.op("CumSum", [x, g.const(np.array(_dim(dim, input.dim()), np.int64))])


@exporter("topk")
def topk(g, input, k, dim=-1, largest=True, sorted=True, *, out=None):
    _check_traced_int(g, k, "topk's k")
    d = _dim(dim, input.dim())
    return g.op("TopK", [g.v(input), g.ints([int(k)])], 2, axis=d, largest=int(bool(largest)),
                sorted=1)


@exporter("sort")
def sort(g, input, dim=-1, descending=False, stable=False, *, out=None):
    d = _dim(dim, input.dim())
    if input.dim() == 0:
        return [g.v(input), g.const(np.array(0, np.int64))]
    n = input.shape[d]
    return g.op("TopK", [g.v(input), g.ints([n])], 2, axis=d, largest=int(bool(descending)),
                sorted=1)


@exporter("argsort")
def argsort(g, input, dim=-1, descending=False, stable=False):
    d = _dim(dim, input.dim())
    n = input.shape[d]
    return g.op("TopK", [g.v(input), g.ints([n])], 2, axis=d, largest=int(bool(descending)),
                sorted=1)[1]


# ---- softmax ------------------------------------------------------------------------------

def _softmax(g, op_type, input, dim, dtype):
    dt = _out_dtype(g)
    x = g.v(input, dt)
    rank = input.dim()
    if rank == 0:
        return g.squeeze(g.op(op_type, [g.unsqueeze(x, [0])], axis=0), [0])
    d = _dim(dim, rank)
    if g.opset >= 13 or d == rank - 1:
        return g.op(op_type, [x], axis=d)
    # before opset 13 Softmax works on the input flattened to 2-d at axis: move dim last
    perm = list(range(rank))
    perm[d], perm[-1] = perm[-1], perm[d]
    y = g.op(op_type, [g.op("Transpose", [x], perm=perm)], axis=rank - 1)
    return g.op("Transpose", [y], perm=perm)


def _implicit_dim(input, dim):
    # PyTorch's deprecated implicit dim (torch.nn.functional._get_softmax_dim)
    if dim is None:
        return 0 if input.dim() in (0, 1, 3) else 1
    return dim


@exporter("softmax")
def softmax(g, input, dim, dtype=None):
    return _softmax(g, "Softmax", input, dim, dtype)


@exporter("log_softmax")
def log_softmax(g, input, dim, dtype=None):
    return _softmax(g, "LogSoftmax", input, dim, dtype)


@exporter("F.softmax")
def f_softmax(g, input, dim=None, _stacklevel=3, dtype=None):
    return _softmax(g, "Softmax", input, _implicit_dim(input, dim), dtype)


@exporter("F.log_softmax")
def f_log_softmax(g, input, dim=None, _stacklevel=3, dtype=None):
    return _softmax(g, "LogSoftmax", input, _implicit_dim(input, dim), dtype)


@exporter("F.softmin")
def f_softmin(g, input, dim=None, _stacklevel=3, dtype=None):
    dt = _out_dtype(g)
    neg = g.op("Neg", [g.v(input, dt)])
    rank = input.dim()
    d = _implicit_dim(input, dim)
    if rank == 0:
        return g.squeeze(g.op("Softmax", [g.unsqueeze(neg, [0])], axis=0), [0])
    d = _dim(d, rank)
    if g.opset >= 13 or d == rank - 1:
        return g.op("Softmax", [neg], axis=d)
    perm = list(range(rank))
    perm[d], perm[-1] = perm[-1], perm[d]
    y = g.op("Softmax", [g.op("Transpose", [neg], perm=perm)], axis=rank - 1)
    return g.op("Transpose", [y], perm=perm)


# ---- attention ------------------------------------------------------------------------------

@exporter("F.scaled_dot_product_attention")
def scaled_dot_product_attention(g, query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(Q K^T * scale + bias) V, with PyTorch's safe softmax: rows whose every key is
    masked give zeros (rt applies it only when such a row exists; the graph always does,
    which is the same where none does)."""
    if dropout_p > 0:
        raise g.fail("dropout_p > 0 samples a random mask")
    if enable_gqa and query.dim() >= 3 and key.dim() >= 3 and not (
            query.shape[-3] == key.shape[-3] == value.shape[-3]):
        raise g.fail("enable_gqa with fewer key/value heads than query heads")
    dt = _out_dtype(g)
    q, k, v = g.v(query, dt), g.v(key, dt), g.v(value, dt)
    factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    r = key.dim()
    kt = g.op("Transpose", [k], perm=list(range(r - 2)) + [r - 1, r - 2])
    attn = g.op("MatMul", [g.op("Mul", [q, g.v(factor, dt)]), kt])
    neg_inf, zero = g.v(float("-inf"), dt), g.v(0.0, dt)
    bias = None
    if is_causal:
        # the top-left lower triangle of (L, S), sized from the graph
        sizes = g.op("Concat", [g.shape_of(q, query.dim() - 2, query.dim() - 1),
                                g.shape_of(k, r - 2, r - 1)], axis=0)
        ones = _constant_of_shape(g, sizes, 1.0, dt)
        if g.opset >= 14:
            allowed = g.op("Trilu", [ones], upper=0)
        elif g.dynamic:
            raise g.fail("is_causal with dynamic_axes needs opset 14 (Trilu)")
        else:
            keep = np.tril(np.ones((query.shape[-2], key.shape[-2]), bool))
            allowed = g.op("Where", [g.const(keep, rt.bool), ones, zero])
        bias = g.op("Where", [g.op("Equal", [allowed, zero]), neg_inf, zero])
    elif attn_mask is not None:
        if attn_mask.dtype == rt.bool:
            bias = g.op("Where", [g.v(attn_mask), zero, neg_inf])
        else:
            bias = g.v(attn_mask, dt)
    last = g.outs[0].dim() - 1                  # the scores' key axis
    if bias is None:
        return g.op("MatMul", [g.op("Softmax", [attn], axis=last), v])
    attn = g.op("Add", [attn, bias])
    # rows whose every key is masked (bias -inf along its last axis)
    masked = g.op("Equal", [bias, neg_inf])
    bias_rank = 2 if is_causal else attn_mask.dim()
    dead = masked if bias_rank == 0 else g.cast(
        g.reduce("ReduceMin", g.cast(masked, rt.int32), [bias_rank - 1], True), rt.bool)
    weights = g.op("Softmax", [g.op("Where", [dead, zero, attn])], axis=last)
    return g.op("MatMul", [g.op("Where", [dead, zero, weights]), v])


def _constant_of_shape(g, shape_name, value, dt):
    from rt_import.onnx._trace import tensor_proto
    return g.op("ConstantOfShape", [shape_name], value=tensor_proto("", np.asarray([value]), dt))


# ---- activations --------------------------------------------------------------------------

def _float_in(g, input):
    return g.v(input, _out_dtype(g))


@exporter("F.relu6")
def relu6(g, input, inplace=False):
    dt = _out_dtype(g)
    return g.op("Clip", [_float_in(g, input), g.v(0, dt), g.v(6, dt)])


@exporter("F.hardtanh", "F.hardtanh_")
def hardtanh(g, input, min_val=-1.0, max_val=1.0, inplace=False):
    dt = _out_dtype(g)
    return g.op("Clip", [_float_in(g, input), g.v(min_val, dt), g.v(max_val, dt)])


@exporter("F.leaky_relu", "F.leaky_relu_")
def leaky_relu(g, input, negative_slope=0.01, inplace=False):
    return g.op("LeakyRelu", [_float_in(g, input)], alpha=float(negative_slope))


@exporter("F.rrelu")
def rrelu(g, input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    if training:
        raise g.fail("rrelu in training mode samples random slopes")
    # eval: the mean slope (lower + upper) / 2, as torch.nn.functional.rrelu
    return g.op("LeakyRelu", [_float_in(g, input)], alpha=(float(lower) + float(upper)) / 2)


@exporter("F.prelu")
def prelu(g, input, weight):
    dt = _out_dtype(g)
    x = g.v(input, dt)
    w = g.v(weight, dt)
    r = input.dim()
    if weight.numel() > 1 and r > 2:
        # the slope runs along dim 1: (C,) -> (C, 1, ..., 1)
        w = g.unsqueeze(w, list(range(1, r - 1)))
    elif weight.numel() == 1 and weight.dim() != 1:
        w = g.op("Reshape", [w, g.ints([1])])
    return g.op("PRelu", [x, w])


@exporter("F.elu", "F.elu_")
def elu(g, input, alpha=1.0, inplace=False):
    return g.op("Elu", [_float_in(g, input)], alpha=float(alpha))


@exporter("F.selu", "F.selu_")
def selu(g, input, inplace=False):
    # PyTorch's constants (torch.nn.SELU), not ONNX's float32-rounded defaults
    return g.op("Selu", [_float_in(g, input)], alpha=1.6732632423543772848170429916717,
                gamma=1.0507009873554804934193349852946)


@exporter("F.celu", "F.celu_")
def celu(g, input, alpha=1.0, inplace=False):
    if g.opset >= 12:
        return g.op("Celu", [_float_in(g, input)], alpha=float(alpha))
    # max(0, x) + min(0, alpha * (exp(x / alpha) - 1))
    dt = _out_dtype(g)
    x = _float_in(g, input)
    a = g.v(float(alpha), dt)
    e = g.op("Mul", [a, g.op("Sub", [g.op("Exp", [g.op("Div", [x, a])]), g.v(1, dt)])])
    return g.op("Add", [g.op("Relu", [x]), g.op("Min", [e, g.v(0, dt)])])


@exporter("F.gelu")
def gelu(g, input, approximate="none"):
    dt = _out_dtype(g)
    x = _float_in(g, input)
    if g.opset >= 20:
        return g.op("Gelu", [x], approximate=approximate)
    half = g.v(0.5, dt)
    if approximate == "tanh":
        # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        x3 = g.op("Mul", [g.op("Mul", [x, x]), x])
        inner = g.op("Mul", [g.v(math.sqrt(2.0 / math.pi), dt),
                             g.op("Add", [x, g.op("Mul", [g.v(0.044715, dt), x3])])])
        return g.op("Mul", [g.op("Mul", [half, x]),
                            g.op("Add", [g.v(1, dt), g.op("Tanh", [inner])])])
    # 0.5 x (1 + erf(x / sqrt(2)))
    e = g.op("Erf", [g.op("Div", [x, g.v(math.sqrt(2.0), dt)])])
    return g.op("Mul", [g.op("Mul", [half, x]), g.op("Add", [g.v(1, dt), e])])


@exporter("F.silu")
def silu(g, input, inplace=False):
    x = _float_in(g, input)
    return g.op("Mul", [x, g.op("Sigmoid", [x])])


def _softplus(g, x, beta, threshold, dt):
    # torch.nn.functional.softplus: log(1 + exp(beta x)) / beta, and x where beta x > threshold
    bx = x if beta == 1 else g.op("Mul", [x, g.v(float(beta), dt)])
    sp = g.op("Softplus", [bx])
    if beta != 1:
        sp = g.op("Div", [sp, g.v(float(beta), dt)])
    return g.op("Where", [g.op("Greater", [bx, g.v(float(threshold), dt)]), x, sp])


@exporter("F.softplus")
def softplus(g, input, beta=1.0, threshold=20.0):
    dt = _out_dtype(g)
    return _softplus(g, _float_in(g, input), beta, threshold, dt)


@exporter("F.mish")
def mish(g, input, inplace=False):
    dt = _out_dtype(g)
    x = _float_in(g, input)
    return g.op("Mul", [x, g.op("Tanh", [_softplus(g, x, 1.0, 20.0, dt)])])


@exporter("F.logsigmoid")
def logsigmoid(g, input):
    # log(sigmoid(x)) = -softplus(-x)
    x = _float_in(g, input)
    return g.op("Neg", [g.op("Softplus", [g.op("Neg", [x])])])


@exporter("F.hardswish")
def hardswish(g, input, inplace=False):
    x = _float_in(g, input)
    if g.opset >= 14:
        return g.op("HardSwish", [x])
    return g.op("Mul", [x, g.op("HardSigmoid", [x], alpha=1.0 / 6, beta=0.5)])


@exporter("F.hardsigmoid")
def hardsigmoid(g, input, inplace=False):
    # relu6(x + 3) / 6
    return g.op("HardSigmoid", [_float_in(g, input)], alpha=1.0 / 6, beta=0.5)


@exporter("F.threshold", "F.threshold_")
def threshold(g, input, threshold, value, inplace=False):
    dt = _out_dtype(g)
    x = g.v(input, dt)
    return g.op("Where", [g.op("Greater", [x, g.v(threshold, dt)]), x, g.v(value, dt)])


@exporter("F.softshrink")
def softshrink(g, input, lambd=0.5):
    return g.op("Shrink", [_float_in(g, input)], lambd=float(lambd), bias=float(lambd))


@exporter("F.hardshrink")
def hardshrink(g, input, lambd=0.5):
    return g.op("Shrink", [_float_in(g, input)], lambd=float(lambd), bias=0.0)


@exporter("F.softsign")
def softsign(g, input):
    return g.op("Softsign", [_float_in(g, input)])


@exporter("F.tanhshrink")
def tanhshrink(g, input):
    x = _float_in(g, input)
    return g.op("Sub", [x, g.op("Tanh", [x])])


@exporter("F.glu")
def glu(g, input, dim=-1):
    d = _dim(dim, input.dim())
    half = input.shape[d] // 2
    a, b = g.split(_float_in(g, input), [half, half], d)
    return g.op("Mul", [a, g.op("Sigmoid", [b])])


# ---- dropout (identity in eval) -----------------------------------------------------------

@exporter("F.dropout", "F.dropout1d", "F.dropout2d", "F.dropout3d", "F.alpha_dropout",
          "F.feature_alpha_dropout")
def dropout(g, input, p=0.5, training=None, inplace=False):
    if training is None:
        training = not g.display.endswith("alpha_dropout")
    if training and p > 0:
        raise g.fail("dropout in training mode samples a random mask; export runs modules in "
                     "eval mode, so pass training=self.training (or False)")
    return g.v(input)


# ---- convolution --------------------------------------------------------------------------

def _batched(g, input, nd):
    """(name, unbatched): an unbatched input (C, *spatial) gets a batch dim of 1."""
    x = g.v(input, _out_dtype(g))
    if input.dim() == nd + 1:
        return g.unsqueeze(x, [0]), True
    return x, False


def _unbatch(g, y, unbatched):
    return g.squeeze(y, [0]) if unbatched else y


def _conv(nd):
    def fn(g, input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        dt = _out_dtype(g)
        k = list(weight.shape[2:])
        stride = _ints(stride, nd)
        dilation = _ints(dilation, nd)
        if isinstance(padding, str):
            if padding == "valid":
                begin = end = [0] * nd
            elif padding == "same":
                # PyTorch pads total = dilation * (kernel - 1), the extra one at the end
                total = [d * (kk - 1) for d, kk in zip(dilation, k)]
                begin = [t // 2 for t in total]
                end = [t - b for t, b in zip(total, begin)]
            else:
                raise g.fail(f"padding={padding!r}")
        else:
            begin = end = _ints(padding, nd)
        x, unbatched = _batched(g, input, nd)
        ins = [x, g.v(weight, dt)] + ([g.v(bias, dt)] if bias is not None else [])
        y = g.op("Conv", ins, kernel_shape=k, strides=stride, pads=list(begin) + list(end),
                 dilations=dilation, group=int(groups))
        return _unbatch(g, y, unbatched)
    return fn


exporter("F.conv1d")(_conv(1))
exporter("F.conv2d")(_conv(2))
exporter("F.conv3d")(_conv(3))


def _conv_transpose(nd):
    def fn(g, input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
           dilation=1):
        dt = _out_dtype(g)
        k = list(weight.shape[2:])
        pads = _ints(padding, nd)
        x, unbatched = _batched(g, input, nd)
        ins = [x, g.v(weight, dt)] + ([g.v(bias, dt)] if bias is not None else [])
        y = g.op("ConvTranspose", ins, kernel_shape=k, strides=_ints(stride, nd),
                 pads=pads + pads, output_padding=_ints(output_padding, nd),
                 dilations=_ints(dilation, nd), group=int(groups))
        return _unbatch(g, y, unbatched)
    return fn


exporter("F.conv_transpose1d")(_conv_transpose(1))
exporter("F.conv_transpose2d")(_conv_transpose(2))
exporter("F.conv_transpose3d")(_conv_transpose(3))


# ---- normalization ------------------------------------------------------------------------

def _channel_param(g, t, value, c, dt, rank):
    """A per-channel parameter (or ``value`` filled) shaped to broadcast along dim 1."""
    name = g.v(t, dt) if t is not None else g.const(np.full((c,), value), dt)
    if rank > 2:
        name = g.unsqueeze(name, list(range(1, rank - 1)))
    return name


def _normalize(g, x, axes, eps, dt):
    mean = g.reduce("ReduceMean", x, axes, True)
    d = g.op("Sub", [x, mean])
    var = g.reduce("ReduceMean", g.op("Mul", [d, d]), axes, True)
    return g.op("Div", [d, g.op("Sqrt", [g.op("Add", [var, g.v(float(eps), dt)])])])


@exporter("F.batch_norm")
def batch_norm(g, input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    dt = _out_dtype(g)
    rank = input.dim()
    c = input.shape[1] if rank > 1 else 1
    x = g.v(input, dt)
    if not training and running_mean is not None and running_var is not None:
        scale = g.v(weight, dt) if weight is not None else g.const(np.ones((c,)), dt)
        b = g.v(bias, dt) if bias is not None else g.const(np.zeros((c,)), dt)
        return g.op("BatchNormalization", [x, scale, b, g.v(running_mean, dt),
                                           g.v(running_var, dt)], epsilon=float(eps))
    # batch statistics (training=True, or no running statistics): the formula
    axes = [0] + list(range(2, rank))
    y = _normalize(g, x, axes, eps, dt)
    if weight is not None:
        y = g.op("Mul", [y, _channel_param(g, weight, 1.0, c, dt, rank)])
    if bias is not None:
        y = g.op("Add", [y, _channel_param(g, bias, 0.0, c, dt, rank)])
    return y


@exporter("F.instance_norm")
def instance_norm(g, input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    dt = _out_dtype(g)
    rank = input.dim()
    c = input.shape[1]
    x = g.v(input, dt)
    if not use_input_stats:
        return batch_norm(g, input, running_mean, running_var, weight, bias, False, momentum,
                          eps)
    scale = g.v(weight, dt) if weight is not None else g.const(np.ones((c,)), dt)
    b = g.v(bias, dt) if bias is not None else g.const(np.zeros((c,)), dt)
    if rank >= 3:
        return g.op("InstanceNormalization", [x, scale, b], epsilon=float(eps))
    return batch_norm(g, input, None, None, weight, bias, True, momentum, eps)


@exporter("F.layer_norm")
def layer_norm(g, input, normalized_shape, weight=None, bias=None, eps=1e-5):
    dt = _out_dtype(g)
    ns = _ints(normalized_shape)
    k = len(ns)
    x = g.v(input, dt)
    if g.opset >= 17:
        scale = g.v(weight, dt) if weight is not None else g.const(np.ones(ns), dt)
        ins = [x, scale] + ([g.v(bias, dt)] if bias is not None else [])
        return g.op("LayerNormalization", ins, axis=-k, epsilon=float(eps))
    rank = input.dim()
    y = _normalize(g, x, list(range(rank - k, rank)), eps, dt)
    if weight is not None:
        y = g.op("Mul", [y, g.v(weight, dt)])
    if bias is not None:
        y = g.op("Add", [y, g.v(bias, dt)])
    return y


@exporter("F.group_norm")
def group_norm(g, input, num_groups, weight=None, bias=None, eps=1e-5):
    dt = _out_dtype(g)
    rank = input.dim()
    c = input.shape[1]
    x = g.v(input, dt)
    grouped = g.reshape(x, list(input.shape),
                        [input.shape[0], int(num_groups), -1])
    y = _normalize(g, grouped, [2], eps, dt)
    y = g.op("Reshape", [y, g.op("Shape", [x])])
    if weight is not None:
        y = g.op("Mul", [y, _channel_param(g, weight, 1.0, c, dt, rank)])
    if bias is not None:
        y = g.op("Add", [y, _channel_param(g, bias, 0.0, c, dt, rank)])
    return y


@exporter("F.rms_norm")
def rms_norm(g, input, normalized_shape, weight=None, eps=None):
    dt = _out_dtype(g)
    ns = _ints(normalized_shape)
    rank = input.dim()
    if eps is None:
        eps = float(np.finfo({rt.float64: np.float64, rt.float16: np.float16}.get(
            dt, np.float32)).eps) if dt != rt.bfloat16 else 0.0078125
    x = g.v(input, dt)
    ms = g.reduce("ReduceMean", g.op("Mul", [x, x]), list(range(rank - len(ns), rank)), True)
    y = g.op("Mul", [x, g.op("Reciprocal", [g.op("Sqrt", [g.op("Add", [ms, g.v(eps, dt)])])])])
    if weight is not None:
        y = g.op("Mul", [y, g.v(weight, dt)])
    return y


@exporter("F.local_response_norm")
def local_response_norm(g, input, size, alpha=1e-4, beta=0.75, k=1.0):
    if size % 2 == 0:
        raise g.fail("an even size: PyTorch's channel window is not ONNX LRN's")
    if input.dim() < 3:
        raise g.fail("LRN needs an (N, C, ...) input")
    return g.op("LRN", [_float_in(g, input)], alpha=float(alpha), beta=float(beta),
                bias=float(k), size=int(size))


@exporter("F.normalize")
def normalize(g, input, p=2.0, dim=1, eps=1e-12, out=None):
    dt = _out_dtype(g)
    x = g.v(input, dt)
    axes = [_dim(dim, input.dim())]
    if p == 2:
        n = g.reduce("ReduceL2", x, axes, True)
    elif p == 1:
        n = g.reduce("ReduceL1", x, axes, True)
    elif p == math.inf:
        n = g.reduce("ReduceMax", g.op("Abs", [x]), axes, True)
    else:
        s = g.reduce("ReduceSum", g.op("Pow", [g.op("Abs", [x]), g.v(float(p), dt)]), axes,
                     True)
        n = g.op("Pow", [s, g.v(1.0 / float(p), dt)])
    return g.op("Div", [x, g.op("Max", [n, g.v(float(eps), dt)])])


# ---- pooling ------------------------------------------------------------------------------

def _pool_out(size, k, s, p, d, ceil_mode):
    # PyTorch's pooling_output_shape: a last window must start inside the input or its
    # left padding
    eff = d * (k - 1) + 1
    num = size + 2 * p - eff
    out = (num + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _pool_common(g, nd, input, kernel_size, stride, padding, dilation, ceil_mode):
    k = _ints(kernel_size, nd)
    s = _ints(stride, nd) if stride not in (None, [], ()) else list(k)
    p = _ints(padding, nd)
    d = _ints(dilation, nd)
    spatial = list(input.shape[-nd:])
    if ceil_mode:
        # ceil_mode changes nothing when no window starts past the floor-mode end
        floor = [_pool_out(n, kk, ss, pp, dd, False) for n, kk, ss, pp, dd in
                 zip(spatial, k, s, p, d)]
        if floor == list(g.outs[0].shape[-nd:]):
            ceil_mode = False
    return k, s, p, d, ceil_mode


def _max_pool(nd, with_indices_fn=False):
    def fn(g, input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
           return_indices=False):
        k, s, p, d, ceil = _pool_common(g, nd, input, kernel_size, stride, padding, dilation,
                                        ceil_mode)
        x, unbatched = _batched(g, input, nd)
        attrs = dict(kernel_shape=k, strides=s, pads=p + p, ceil_mode=int(ceil))
        if any(dd != 1 for dd in d):
            attrs["dilations"] = d
        want_idx = return_indices or with_indices_fn
        if not want_idx:
            return _unbatch(g, g.op("MaxPool", [x], **attrs), unbatched)
        values, flat = g.op("MaxPool", [x], 2, **attrs)
        # ONNX indices count over the whole tensor, PyTorch's within each (H, W) plane:
        # subtract each plane's first index (from a 1x1 MaxPool, which indexes every element)
        _, base = g.op("MaxPool", [x], 2, kernel_shape=[1] * nd, strides=[1] * nd)
        first = g.slice(base, [0] * nd, [1] * nd, list(range(2, 2 + nd)))
        idx = g.op("Sub", [flat, first])
        return [_unbatch(g, values, unbatched), _unbatch(g, idx, unbatched)]
    return fn


exporter("F.max_pool1d")(_max_pool(1))
exporter("F.max_pool2d")(_max_pool(2))
exporter("F.max_pool1d_with_indices")(_max_pool(1, True))
exporter("F.max_pool2d_with_indices")(_max_pool(2, True))


def _avg_pool(nd):
    def fn(g, input, kernel_size, stride=None, padding=0, ceil_mode=False,
           count_include_pad=True, divisor_override=None):
        k, s, p, d, ceil = _pool_common(g, nd, input, kernel_size, stride, padding, 1,
                                        ceil_mode)
        if ceil and count_include_pad and any(pp for pp in p):
            raise g.fail("ceil_mode with count_include_pad and padding: PyTorch's divisor for "
                         "the last window differs from ONNX AveragePool's")
        x, unbatched = _batched(g, input, nd)
        y = g.op("AveragePool", [x], kernel_shape=k, strides=s, pads=p + p,
                 ceil_mode=int(ceil), count_include_pad=int(bool(count_include_pad)))
        if divisor_override is not None:
            if ceil or (not count_include_pad and any(p)):
                raise g.fail("divisor_override with ceil_mode or count_include_pad=False and "
                             "padding")
            y = g.op("Mul", [y, g.v(float(np.prod(k)) / float(divisor_override),
                                    _out_dtype(g))])
        return _unbatch(g, y, unbatched)
    return fn


exporter("F.avg_pool1d")(_avg_pool(1))
exporter("F.avg_pool2d")(_avg_pool(2))


def _adaptive(nd, kind):
    pool, global_pool, reduce_op = (("AveragePool", "GlobalAveragePool", "ReduceMean")
                                    if kind == "avg" else
                                    ("MaxPool", "GlobalMaxPool", "ReduceMax"))

    def fn(g, input, output_size, return_indices=False):
        if return_indices:
            raise g.fail("return_indices=True")
        rank = input.dim()
        in_sp = list(input.shape[-nd:])
        out_sp = list(g.outs[0].shape[-nd:])
        x = _float_in(g, input)
        if all(o == 1 for o in out_sp):
            # whole-plane pooling: follows symbolic spatial sizes too
            if rank == nd + 2:
                return g.op(global_pool, [x])
            return g.reduce(reduce_op, x, list(range(rank - nd, rank)), True)
        if in_sp == out_sp:
            return g.op("Identity", [x])
        if all(o > 0 and i % o == 0 for i, o in zip(in_sp, out_sp)):
            k = [i // o for i, o in zip(in_sp, out_sp)]
            x, unbatched = _batched(g, input, nd)
            return _unbatch(g, g.op(pool, [x], kernel_shape=k, strides=k), unbatched)
        # PyTorch's windows [floor(i*in/out), ceil((i+1)*in/out)), one axis at a time (the
        # windows are products, so a separable mean/max is the same)
        for a in range(nd):
            axis = rank - nd + a
            n, o = in_sp[a], out_sp[a]
            if n == o:
                continue
            parts = []
            for i in range(o):
                start = (i * n) // o
                end = -((-(i + 1) * n) // o)
                parts.append(g.reduce(reduce_op, g.slice(x, [start], [end], [axis]), [axis],
                                      True))
            x = g.op("Concat", parts, axis=axis) if len(parts) > 1 else parts[0]
        return x
    return fn


exporter("F.adaptive_avg_pool1d")(_adaptive(1, "avg"))
exporter("F.adaptive_avg_pool2d")(_adaptive(2, "avg"))
exporter("F.adaptive_max_pool1d")(_adaptive(1, "max"))
exporter("F.adaptive_max_pool2d")(_adaptive(2, "max"))


# ---- padding, resampling, embedding -------------------------------------------------------

@exporter("F.pad", "constant_pad_nd")
def pad(g, input, pad, mode="constant", value=None):
    if mode is None:
        mode = "constant"
    rank = input.dim()
    pads = _ints(pad)
    begins = [0] * rank
    ends = [0] * rank
    for i in range(len(pads) // 2):
        axis = rank - 1 - i
        begins[axis] = pads[2 * i]
        ends[axis] = pads[2 * i + 1]
    x = g.v(input)
    # negative pads crop: a Slice first, then pad with the positive parts
    if any(b < 0 for b in begins) or any(e < 0 for e in ends):
        axes = [a for a in range(rank) if begins[a] < 0 or ends[a] < 0]
        x = g.slice(x, [max(-begins[a], 0) for a in axes],
                    [ends[a] if ends[a] < 0 else INT64_MAX for a in axes], axes)
        begins = [max(b, 0) for b in begins]
        ends = [max(e, 0) for e in ends]
    if not any(begins) and not any(ends):
        return g.op("Identity", [x])
    if mode == "circular":
        for a in range(rank):
            n = input.shape[a]
            if begins[a] or ends[a]:
                parts = []
                if begins[a]:
                    parts.append(g.slice(x, [-begins[a]], [INT64_MAX], [a]))
                parts.append(x)
                if ends[a]:
                    parts.append(g.slice(x, [0], [ends[a]], [a]))
                x = g.op("Concat", parts, axis=a)
        return x
    onnx_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}.get(mode)
    if onnx_mode is None:
        raise g.fail(f"mode={mode!r}")
    ins = [x, g.ints(begins + ends)]
    if onnx_mode == "constant":
        ins.append(g.v(0 if value is None else value, input.dtype))
    return g.op("Pad", ins, mode=onnx_mode)


@exporter("F.interpolate", "F.upsample")
def interpolate(g, input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    nd = input.dim() - 2
    out_sp = list(g.outs[0].shape[2:])
    if mode == "area":
        return _adaptive(nd, "avg")(g, input, out_sp)
    if antialias:
        raise g.fail("antialias=True")
    x = _float_in(g, input)
    if mode == "nearest":
        attrs = dict(mode="nearest", coordinate_transformation_mode="asymmetric",
                     nearest_mode="floor")
    elif mode == "nearest-exact":
        # src = floor((dst + 0.5) * in / out): half_pixel, rounding halves up
        attrs = dict(mode="nearest", coordinate_transformation_mode="half_pixel",
                     nearest_mode="round_prefer_ceil")
    elif mode in ("linear", "bilinear", "trilinear"):
        attrs = dict(mode="linear", coordinate_transformation_mode=(
            "align_corners" if align_corners else "pytorch_half_pixel"))
    else:
        raise g.fail(f"mode={mode!r}")
    empty = g.const(np.zeros((0,), np.float32), rt.float32)
    if scale_factor is not None and not recompute_scale_factor:
        scales = _floats(scale_factor, nd)
        ins = [x, "" if g.opset >= 13 else empty,
               g.const(np.asarray([1.0, 1.0] + scales, np.float32), rt.float32)]
    else:
        spatial = out_sp
        if size is not None:
            given = list(size) if isinstance(size, (list, tuple)) else [size] * nd
            if g.has_sym(given):
                spatial = [_size(v) for v in given]      # sizes read from symbolic dims
        sizes = g.op("Concat", [g.shape_of(x, 0, 2), g.shape_tensor(spatial)], axis=0)
        ins = [x, "" if g.opset >= 13 else empty, "" if g.opset >= 13 else empty, sizes]
    return g.op("Resize", ins, **attrs)


def _floats(v, n):
    if isinstance(v, (list, tuple)):
        return [float(x) for x in v]
    return [float(v)] * n


@exporter("F.upsample_nearest")
def upsample_nearest(g, input, size=None, scale_factor=None):
    return interpolate(g, input, size, scale_factor, "nearest")


@exporter("F.upsample_bilinear")
def upsample_bilinear(g, input, size=None, scale_factor=None):
    return interpolate(g, input, size, scale_factor, "bilinear", True)


@exporter("F.pixel_shuffle")
def pixel_shuffle(g, input, upscale_factor):
    r = int(upscale_factor)
    if input.dim() == 4:
        return g.op("DepthToSpace", [g.v(input)], blocksize=r, mode="CRD")
    *lead, c, h, w = input.shape
    x = g.reshape(g.v(input), list(input.shape), list(lead) + [c // (r * r), r, r, h, w])
    n = len(lead)
    perm = list(range(n)) + [n, n + 3, n + 1, n + 4, n + 2]
    x = g.op("Transpose", [x], perm=perm)
    return g.reshape(x, list(lead) + [c // (r * r), h, r, w, r], list(g.outs[0].shape))


@exporter("F.pixel_unshuffle")
def pixel_unshuffle(g, input, downscale_factor):
    r = int(downscale_factor)
    *lead, c, h, w = input.shape
    n = len(lead)
    x = g.reshape(g.v(input), list(input.shape), list(lead) + [c, h // r, r, w // r, r])
    perm = list(range(n)) + [n, n + 2, n + 4, n + 1, n + 3]
    x = g.op("Transpose", [x], perm=perm)
    return g.reshape(x, list(lead) + [c, r, r, h // r, w // r], list(g.outs[0].shape))


@exporter("F.embedding")
def embedding(g, input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    if max_norm is not None:
        raise g.fail("max_norm renormalizes the weight rows in place while looking them up")
    return g.op("Gather", [g.v(weight), g.v(input, rt.int64)], axis=0)


@exporter("F._neg_inf_where")
def _neg_inf_where(g, mask, dtype):
    """rt_nn's bool mask -> additive float mask (-inf where True, 0 elsewhere), as
    PyTorch's F._canonical_mask."""
    dt = _out_dtype(g)
    return g.op("Where", [g.v(mask, rt.bool), g.const(float("-inf"), dt), g.const(0.0, dt)])


@exporter("F.one_hot")
def one_hot(g, tensor, num_classes=-1):
    if num_classes == -1:
        raise g.fail("num_classes=-1 takes the class count from the data; give it")
    # depth as a scalar (the spec takes a scalar or one element; ONNX's reference
    # implementation only a scalar)
    return g.op("OneHot", [g.v(tensor, rt.int64), g.const(np.asarray(int(num_classes),
                                                                      np.int64), rt.int64),
                           g.const(np.array([0, 1], np.int64), rt.int64)], axis=-1)
