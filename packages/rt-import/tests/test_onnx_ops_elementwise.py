"""Hand-written checks of the elementwise, activation, reduce and misc ONNX converters, beyond
the ONNX backend node cases: attribute defaults, old opset forms (broadcast/axis attributes,
Softmax's 2-D coercion, Reduce* axes attributes, Clip attributes), result dtypes,
broadcasting, errors, and gradients flowing through an imported graph."""
import math

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.helper import np_dtype_to_tensor_dtype

import rt_autograd as rt
from rt_autograd.testing import gradcheck

from rt_import.errors import FormatError
from rt_import.onnx.graph import OnnxModule
from rt_import.onnx.registry import registered


def make(op, inputs, opset, attrs=None, n_outputs=1, initializers=(), input_names=None):
    """A one-node model: ``inputs`` is a list of (name, numpy example or None for omitted);
    ``initializers`` are numpy arrays named after their input names."""
    names = input_names or [name for name, _ in inputs]
    node = helper.make_node(op, names, [f"y{i}" for i in range(n_outputs)], **(attrs or {}))
    init = [numpy_helper.from_array(a, name) for name, a in initializers]
    init_names = {name for name, _ in initializers}
    graph_inputs = [helper.make_tensor_value_info(name, np_dtype_to_tensor_dtype(a.dtype),
                                                  a.shape)
                    for name, a in inputs if a is not None and name not in init_names]
    outputs = [helper.make_tensor_value_info(f"y{i}", TensorProto.UNDEFINED, None)
               for i in range(n_outputs)]
    graph = helper.make_graph([node], "g", graph_inputs, outputs, init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    return OnnxModule(model)


def run(op, arrays, opset=17, attrs=None, n_outputs=1, train=False, omitted=()):
    """Run ``op`` on numpy ``arrays`` (positional inputs; indices in ``omitted`` are left
    out as empty names); returns numpy results."""
    names = [f"x{i}" if i not in omitted else "" for i in range(len(arrays))]
    inputs = [(n, a) for n, a in zip(names, arrays) if n]
    module = make(op, inputs, opset, attrs, n_outputs, input_names=names)
    module.train(train)
    with rt.no_grad():
        out = module(*[rt.tensor(a) for n, a in zip(names, arrays) if n])
    if not isinstance(out, tuple):
        out = (out,)
    res = tuple(o.numpy() for o in out)
    return res[0] if n_outputs == 1 else res


F32 = np.float32


# --- registration ---------------------------------------------------------------------------

@pytest.mark.parametrize("op, versions", [
    ("Add", [1, 6, 7, 13, 14]), ("Div", [1, 6, 7, 13, 14]), ("Pow", [1, 7, 12, 13, 15]),
    ("Softmax", [1, 11, 13]), ("ReduceSum", [1, 11, 13]), ("ReduceMean", [1, 11, 13, 18]),
    ("ReduceMax", [1, 11, 12, 13, 18, 20]), ("Clip", [1, 6, 11, 12, 13]),
    ("Dropout", [1, 6, 7, 10, 12, 13, 22]), ("Equal", [1, 7, 11, 13, 19]),
    ("Gelu", [20]), ("Trilu", [14]), ("CumSum", [11, 14]), ("ArgMax", [1, 11, 12, 13]),
])
def test_registered_versions(op, versions):
    assert registered()[("", op)] == versions


# --- arithmetic -----------------------------------------------------------------------------

def test_add_broadcasts_numpy_style_and_keeps_int8():
    a = np.array([[100], [-100]], np.int8)
    b = np.array([100, 1, 0], np.int8)
    out = run("Add", [a, b])
    assert out.dtype == np.int8
    np.testing.assert_array_equal(out, (a + b))      # wraps like numpy


def test_legacy_broadcast_axis_attribute():
    a = np.arange(24, dtype=F32).reshape(2, 3, 4)
    b = np.array([10, 20, 30], F32)
    out = run("Add", [a, b], opset=6, attrs={"broadcast": 1, "axis": 1})
    np.testing.assert_array_equal(out, a + b[:, None])
    # default: B aligned with A's trailing dimensions
    out = run("Mul", [a, np.arange(4, dtype=F32)], opset=6, attrs={"broadcast": 1})
    np.testing.assert_array_equal(out, a * np.arange(4, dtype=F32))
    with pytest.raises(FormatError, match="broadcast=1"):
        run("Sub", [a, b], opset=6)


def test_mixed_types_are_refused():
    with pytest.raises(FormatError, match="one element type"):
        run("Add", [np.ones(2, F32), np.ones(2, np.float64)])


def test_integer_div_truncates_toward_zero():
    a = np.array([7, -7, 7, -7, 0], np.int32)
    b = np.array([2, 2, -2, -2, 3], np.int32)
    out = run("Div", [a, b])
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [3, -3, -3, 3, 0])
    with pytest.raises(FormatError, match="division by zero"):
        run("Div", [a, np.zeros(5, np.int32)])


def test_float_div_and_division_by_zero():
    out = run("Div", [np.array([1, -1, 0], F32), np.zeros(3, F32)])
    assert np.isposinf(out[0]) and np.isneginf(out[1]) and np.isnan(out[2])


@pytest.mark.parametrize("x, y, expect", [
    (np.array([2.0, 3.0], F32), np.array([3, 2], np.int64), np.array([8.0, 9.0], F32)),
    (np.array([2, 3], np.int64), np.array([0.5, 2.0], F32), np.array([1, 9], np.int64)),
    (np.array([2.0, 4.0], F32), np.array([0.5, -1.0], np.float64), np.array([2 ** 0.5, 0.25], F32)),
    (np.array([2, -3], np.int32), np.array([3, 2], np.int32), np.array([8, 9], np.int32)),
])
def test_pow_result_has_the_base_type(x, y, expect):
    out = run("Pow", [x, y], opset=15)
    assert out.dtype == x.dtype
    np.testing.assert_allclose(out, expect, rtol=1e-6)


def test_pow_integer_negative_exponent_is_an_error():
    with pytest.raises(FormatError, match="negative integer power"):
        run("Pow", [np.array([2], np.int64), np.array([-1], np.int64)])


def test_mod_fmod_attribute():
    a = np.array([-5, 5, -5], np.int32)
    b = np.array([3, -3, -3], np.int32)
    np.testing.assert_array_equal(run("Mod", [a, b]), np.mod(a, b))
    np.testing.assert_array_equal(run("Mod", [a, b], attrs={"fmod": 1}), np.fmod(a, b))
    with pytest.raises(FormatError, match="Mod by zero"):
        run("Mod", [a, np.zeros(3, np.int32)])


def test_unary_math():
    x = np.array([-1.5, -0.5, 0.5, 2.5], F32)
    np.testing.assert_array_equal(run("Round", [x]), [-2, -0, 0, 2])       # half to even
    np.testing.assert_array_equal(run("Sign", [np.array([-3, 0, 4], np.int64)]), [-1, 0, 1])
    np.testing.assert_allclose(run("Reciprocal", [x]), 1 / x)
    assert run("Abs", [np.array([-128, 5], np.int8)]).dtype == np.int8


def test_isinf_detect_attributes():
    x = np.array([np.inf, -np.inf, 1.0, np.nan], F32)
    np.testing.assert_array_equal(run("IsInf", [x]), [1, 1, 0, 0])
    np.testing.assert_array_equal(run("IsInf", [x], attrs={"detect_negative": 0}), [1, 0, 0, 0])
    np.testing.assert_array_equal(run("IsInf", [x], attrs={"detect_positive": 0}), [0, 1, 0, 0])
    np.testing.assert_array_equal(run("IsNaN", [x]), [0, 0, 0, 1])


# --- comparisons, logic, variadic, Where ------------------------------------------------------

def test_comparisons_give_bool_and_broadcast():
    a = np.array([[1], [2], [3]], np.int64)
    b = np.array([2, 3], np.int64)
    for op, fn in (("Equal", np.equal), ("Less", np.less), ("Greater", np.greater),
                   ("LessOrEqual", np.less_equal), ("GreaterOrEqual", np.greater_equal)):
        out = run(op, [a, b])
        assert out.dtype == np.bool_ and out.shape == (3, 2)
        np.testing.assert_array_equal(out, fn(a, b))


def test_logic_needs_bool():
    a = np.array([True, False, True])
    b = np.array([True, True, False])
    np.testing.assert_array_equal(run("Xor", [a, b]), a ^ b)
    np.testing.assert_array_equal(run("Not", [a], opset=1), ~a)
    with pytest.raises(FormatError, match="bool"):
        run("And", [np.ones(2, np.int64), np.ones(2, np.int64)])


def test_variadic_min_max_sum_mean():
    a = np.array([[1.0, np.nan]], F32)
    b = np.array([[2.0], [-1.0]], F32)
    c = np.array([0.5, 0.5], F32)
    np.testing.assert_array_equal(run("Max", [a, b, c]), np.maximum(np.maximum(a, b), c))
    np.testing.assert_array_equal(run("Min", [a, b, c]), np.minimum(np.minimum(a, b), c))
    np.testing.assert_allclose(run("Sum", [a, b, c]), a + b + c)
    np.testing.assert_allclose(run("Mean", [a, b, c]), (a + b + c) / 3)
    np.testing.assert_array_equal(run("Max", [a]), a)
    with pytest.raises(FormatError, match="one shape"):
        run("Sum", [a, b], opset=6)


def test_where_broadcasts():
    cond = np.array([[True], [False]])
    out = run("Where", [cond, np.array([1, 2, 3], np.int32), np.array(0, np.int32)])
    np.testing.assert_array_equal(out, [[1, 2, 3], [0, 0, 0]])


# --- Clip -----------------------------------------------------------------------------------

def test_clip_inputs_and_attributes():
    x = np.array([-3.0, 0.5, 3.0, np.inf], F32)
    np.testing.assert_array_equal(run("Clip", [x, np.array(-1, F32), np.array(1, F32)]),
                                  [-1, 0.5, 1, 1])
    np.testing.assert_array_equal(run("Clip", [x, np.array(0, F32)]), [0, 0.5, 3, np.inf])
    np.testing.assert_array_equal(run("Clip", [x, None, np.array(1, F32)], omitted=(1,)),
                                  [-3, 0.5, 1, 1])
    np.testing.assert_array_equal(run("Clip", [x]), x)
    # min > max: everything becomes max (Clip-13 doc)
    np.testing.assert_array_equal(run("Clip", [x, np.array(2, F32), np.array(1, F32)]),
                                  [1, 1, 1, 1])
    # Clip-6 attributes, defaults of float32's range
    np.testing.assert_array_equal(run("Clip", [x], opset=6, attrs={"min": -1.0}),
                                  [-1, 0.5, 3, np.finfo(F32).max])
    ints = np.array([-5, 7], np.int8)
    out = run("Clip", [ints, np.array(-2, np.int8), np.array(2, np.int8)])
    assert out.dtype == np.int8
    np.testing.assert_array_equal(out, [-2, 2])


# --- Cast -----------------------------------------------------------------------------------

@pytest.mark.parametrize("src", [np.float32, np.float64, np.float16, np.int8, np.int16,
                                 np.int32, np.int64, np.uint8, np.bool_])
@pytest.mark.parametrize("dst", [TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16,
                                 TensorProto.INT8, TensorProto.INT16, TensorProto.INT32,
                                 TensorProto.INT64, TensorProto.UINT8, TensorProto.BOOL])
def test_cast_between_rt_dtypes(src, dst):
    x = np.array([0, 1, 3, 100], dtype=src) if src != np.bool_ else np.array([0, 1, 1, 0], bool)
    out = run("Cast", [x], attrs={"to": dst})
    want = x.astype(helper.tensor_dtype_to_np_dtype(dst))
    assert out.dtype == want.dtype
    np.testing.assert_array_equal(out, want)


def test_cast_float_to_int_truncates_and_to_bool_is_nonzero():
    x = np.array([-2.7, -0.5, 0.0, 0.5, 2.7, np.nan], F32)
    np.testing.assert_array_equal(run("Cast", [x[:5]], attrs={"to": TensorProto.INT32}),
                                  [-2, 0, 0, 0, 2])
    np.testing.assert_array_equal(run("Cast", [x], attrs={"to": TensorProto.BOOL}),
                                  [1, 1, 0, 1, 1, 1])


def test_cast_bfloat16_and_string_to_of_opset_1():
    x = np.array([1.0, 1.00390625, 3.0], F32)
    m = make("Cast", [("x", x)], 13, {"to": TensorProto.BFLOAT16})
    with rt.no_grad():
        out = m(rt.tensor(x))
    assert out.dtype == rt.bfloat16
    np.testing.assert_array_equal(out.float().numpy(), [1.0, 1.0, 3.0])   # rounds to 8 bits
    out = run("Cast", [x], opset=1, attrs={"to": "DOUBLE"})
    assert out.dtype == np.float64


def test_cast_to_a_type_rt_lacks_is_a_format_error():
    with pytest.raises(FormatError, match="FLOAT8E4M3FN"):
        run("Cast", [np.ones(2, F32)], opset=19, attrs={"to": TensorProto.FLOAT8E4M3FN})
    with pytest.raises(FormatError, match="STRING"):
        run("Cast", [np.ones(2, F32)], attrs={"to": TensorProto.STRING})


def test_castlike():
    out = run("CastLike", [np.array([1.5, -1.5], F32), np.array([0], np.int16)])
    assert out.dtype == np.int16
    np.testing.assert_array_equal(out, [1, -1])


# --- activations ----------------------------------------------------------------------------

X = np.linspace(-3, 3, 13).astype(F32)


@pytest.mark.parametrize("op, opset, attrs, ref", [
    ("Relu", 14, {}, lambda x: np.maximum(x, 0)),
    ("LeakyRelu", 16, {}, lambda x: np.where(x >= 0, x, 0.01 * x)),
    ("LeakyRelu", 16, {"alpha": 0.2}, lambda x: np.where(x >= 0, x, 0.2 * x)),
    ("Elu", 6, {}, lambda x: np.where(x > 0, x, np.exp(x) - 1)),
    ("Elu", 6, {"alpha": 0.5}, lambda x: np.where(x > 0, x, 0.5 * (np.exp(x) - 1))),
    ("Selu", 6, {}, lambda x: 1.05070102214813232421875 * np.where(
        x > 0, x, 1.67326319217681884765625 * (np.exp(x) - 1))),
    ("Celu", 12, {"alpha": 2.0}, lambda x: np.maximum(0, x) + np.minimum(0, 2 * (np.exp(x / 2) - 1))),
    ("ThresholdedRelu", 10, {}, lambda x: np.where(x > 1, x, 0)),
    ("HardSigmoid", 6, {}, lambda x: np.clip(0.2 * x + 0.5, 0, 1)),
    ("HardSigmoid", 6, {"alpha": 0.5, "beta": 0.1}, lambda x: np.clip(0.5 * x + 0.1, 0, 1)),
    ("HardSwish", 14, {}, lambda x: x * np.clip(x / 6 + 0.5, 0, 1)),
    ("Sigmoid", 13, {}, lambda x: 1 / (1 + np.exp(-x))),
    ("Softplus", 1, {}, lambda x: np.log1p(np.exp(x))),
    ("Softsign", 1, {}, lambda x: x / (1 + np.abs(x))),
    ("Mish", 18, {}, lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    ("Gelu", 20, {}, lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / np.sqrt(2)))),
    ("Gelu", 20, {"approximate": "tanh"}, lambda x: 0.5 * x * (1 + np.tanh(
        np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
    ("Shrink", 9, {"lambd": 1.0, "bias": 0.5}, lambda x: np.where(
        x < -1, x + 0.5, np.where(x > 1, x - 0.5, 0))),
])
def test_activation_defaults_and_attributes(op, opset, attrs, ref):
    out = run(op, [X], opset=opset, attrs=attrs)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ref(X.astype(np.float64)), rtol=1e-5, atol=1e-6)


def test_prelu_unidirectional_broadcast():
    x = np.arange(-6, 6, dtype=F32).reshape(2, 3, 2)
    slope = np.array([[0.1], [0.2], [0.3]], F32)
    np.testing.assert_allclose(run("PRelu", [x, slope], opset=16),
                               np.where(x < 0, x * slope, x))
    with pytest.raises(FormatError, match="broadcast"):
        run("PRelu", [x[0], np.ones((2, 3, 2), F32)], opset=16)


def test_activation_rejects_integers():
    with pytest.raises(FormatError, match="floating point"):
        run("Sigmoid", [np.array([1, 2], np.int32)])


def test_gelu_bad_approximate():
    with pytest.raises(FormatError, match="approximate"):
        run("Gelu", [X], opset=20, attrs={"approximate": "fast"})


def _np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_softmax_axis_semantics_before_and_after_opset_13():
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(F32)
    # opset 11, default axis 1: the input is coerced to [2, 12] and each row normalised
    got = run("Softmax", [x], opset=11)
    np.testing.assert_allclose(got, _np_softmax(x.reshape(2, 12), 1).reshape(2, 3, 4),
                               rtol=1e-5)
    got = run("LogSoftmax", [x], opset=11, attrs={"axis": 2})
    np.testing.assert_allclose(got, np.log(_np_softmax(x, 2)), rtol=1e-5, atol=1e-6)
    got = run("Softmax", [x], opset=11, attrs={"axis": 0})          # one row of 24
    np.testing.assert_allclose(got, _np_softmax(x.reshape(1, 24), 1).reshape(2, 3, 4),
                               rtol=1e-5)
    # opset 13: default axis -1, only along the axis
    np.testing.assert_allclose(run("Softmax", [x], opset=13), _np_softmax(x, -1), rtol=1e-5)
    np.testing.assert_allclose(run("Softmax", [x], opset=13, attrs={"axis": 1}),
                               _np_softmax(x, 1), rtol=1e-5)
    with pytest.raises(FormatError, match="out of range"):
        run("Softmax", [x], opset=13, attrs={"axis": 3})


def test_hardmax_first_maximum():
    x = np.array([[1, 3, 3], [2, 0, -1]], F32)
    np.testing.assert_array_equal(run("Hardmax", [x], opset=13), [[0, 1, 0], [1, 0, 0]])


# --- reductions ---------------------------------------------------------------------------

R = np.arange(24, dtype=F32).reshape(2, 3, 4) - 10


@pytest.mark.parametrize("op, ref", [
    ("ReduceSum", np.sum), ("ReduceMean", np.mean), ("ReduceMax", np.max),
    ("ReduceMin", np.min), ("ReduceProd", np.prod),
    ("ReduceL1", lambda x, axis, keepdims: np.sum(np.abs(x), axis=axis, keepdims=keepdims)),
    ("ReduceL2", lambda x, axis, keepdims: np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))),
    ("ReduceSumSquare", lambda x, axis, keepdims: np.sum(x * x, axis=axis, keepdims=keepdims)),
    ("ReduceLogSumExp", lambda x, axis, keepdims: np.log(np.sum(np.exp(x), axis=axis,
                                                                keepdims=keepdims))),
])
def test_reduce_axes_attribute_and_input_forms(op, ref):
    x = R / 10
    want = ref(x.astype(np.float64), axis=(0, 2), keepdims=True)
    got = run(op, [x], opset=11, attrs={"axes": [0, -1]})
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    got = run(op, [x, np.array([0, -1], np.int64)], opset=18)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    got = run(op, [x, np.array([1], np.int64)], opset=18, attrs={"keepdims": 0})
    np.testing.assert_allclose(got, ref(x.astype(np.float64), axis=1, keepdims=False),
                               rtol=1e-5, atol=1e-6)
    # no axes: every axis
    got = run(op, [x], opset=18, attrs={"keepdims": 0})
    assert got.shape == ()
    np.testing.assert_allclose(got, ref(x.astype(np.float64), axis=None, keepdims=False),
                               rtol=1e-5)


def test_reduce_sum_switches_to_the_axes_input_at_13():
    got = run("ReduceSum", [R, np.array([1], np.int64)], opset=13)
    np.testing.assert_array_equal(got, R.sum(axis=1, keepdims=True))
    got = run("ReduceMean", [R], opset=13, attrs={"axes": [1]})     # still an attribute
    np.testing.assert_array_equal(got, R.mean(axis=1, keepdims=True))


def test_noop_with_empty_axes():
    empty = np.array([], np.int64)
    np.testing.assert_array_equal(
        run("ReduceSum", [R, empty], opset=13, attrs={"noop_with_empty_axes": 1}), R)
    np.testing.assert_array_equal(
        run("ReduceL1", [R, empty], opset=18, attrs={"noop_with_empty_axes": 1}), np.abs(R))
    np.testing.assert_array_equal(
        run("ReduceSumSquare", [R, empty], opset=18, attrs={"noop_with_empty_axes": 1}), R * R)
    # without the flag an empty axes input reduces everything
    np.testing.assert_array_equal(run("ReduceSum", [R, empty], opset=13), R.sum(keepdims=True))


def test_reduce_keeps_integer_types():
    x = np.array([[1, 2], [3, 4]], np.int32)
    for op, want in (("ReduceSum", [3, 7]), ("ReduceProd", [2, 12]), ("ReduceMax", [2, 4]),
                     ("ReduceMean", [1, 3]), ("ReduceL1", [3, 7])):
        got = run(op, [x, np.array([1], np.int64)], opset=18, attrs={"keepdims": 0})
        assert got.dtype == np.int32, op
        np.testing.assert_array_equal(got, want, err_msg=op)
    # bool ReduceMax/ReduceMin (opset 20) are any/all
    b = np.array([[True, False], [False, False]])
    np.testing.assert_array_equal(run("ReduceMax", [b], opset=20, attrs={"keepdims": 0}), True)
    np.testing.assert_array_equal(run("ReduceMin", [b, np.array([1], np.int64)], opset=20),
                                  [[False], [False]])


def test_reduce_empty_set_identities():
    x = np.zeros((2, 0, 4), F32)
    axes = np.array([1], np.int64)
    assert (run("ReduceSum", [x, axes], opset=18) == 0).all()
    assert (run("ReduceProd", [x, axes], opset=18) == 1).all()
    assert np.isneginf(run("ReduceMax", [x, axes], opset=18)).all()
    assert np.isposinf(run("ReduceMin", [x, axes], opset=18)).all()
    assert np.isneginf(run("ReduceLogSumExp", [x, axes], opset=18)).all()
    assert run("ReduceMax", [x, axes], opset=18).shape == (2, 1, 4)
    i8 = np.zeros((0, 3), np.int8)
    np.testing.assert_array_equal(
        run("ReduceMax", [i8, np.array([0], np.int64)], opset=18, attrs={"keepdims": 0}),
        [-128, -128, -128])


def test_reduce_bad_axes():
    with pytest.raises(FormatError, match="out of range"):
        run("ReduceSum", [R, np.array([3], np.int64)], opset=13)
    with pytest.raises(FormatError, match="twice"):
        run("ReduceMax", [R], opset=13, attrs={"axes": [1, -2]})


def test_argmax_argmin_attributes():
    x = np.array([[1, 5, 5], [7, 7, 0]], F32)
    np.testing.assert_array_equal(run("ArgMax", [x], opset=13), [[1, 1, 0]])   # axis 0, keepdims
    got = run("ArgMax", [x], opset=13, attrs={"axis": -1, "keepdims": 0})
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, [1, 0])
    got = run("ArgMax", [x], opset=13, attrs={"axis": 1, "select_last_index": 1})
    np.testing.assert_array_equal(got, [[2], [1]])
    got = run("ArgMin", [x], opset=13, attrs={"axis": 1, "keepdims": 0,
                                              "select_last_index": 1})
    np.testing.assert_array_equal(got, [0, 2])
    with pytest.raises(FormatError, match="length 0"):
        run("ArgMax", [np.zeros((0, 2), F32)])


@pytest.mark.parametrize("exclusive", [0, 1])
@pytest.mark.parametrize("reverse", [0, 1])
def test_cumsum_exclusive_reverse(exclusive, reverse):
    x = np.array([[1, 2, 3], [4, 5, 6]], np.int32)
    got = run("CumSum", [x, np.array(1, np.int64)], opset=14,
              attrs={"exclusive": exclusive, "reverse": reverse})
    t = x[:, ::-1] if reverse else x
    want = np.cumsum(t, axis=1)
    if exclusive:
        want = np.concatenate([np.zeros((2, 1), np.int32), want[:, :-1]], axis=1)
    if reverse:
        want = want[:, ::-1]
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, want)


# --- misc -----------------------------------------------------------------------------------

def test_dropout_inference_is_identity_with_a_mask_of_ones():
    x = np.arange(6, dtype=F32)
    y, mask = run("Dropout", [x], opset=13, n_outputs=2)
    np.testing.assert_array_equal(y, x)
    assert mask.dtype == np.bool_ and mask.all()
    y, mask = run("Dropout", [x], opset=7, n_outputs=2, attrs={"ratio": 0.3})
    assert mask.dtype == np.float32 and (mask == 1).all()      # Dropout-7: mask of type T


def test_dropout_training():
    rt.manual_seed(0)
    x = np.ones(20000, F32)
    y, mask = run("Dropout", [x, np.array(0.25, F32), np.array(True)], opset=13, n_outputs=2)
    kept = mask.mean()
    assert 0.72 < kept < 0.78
    np.testing.assert_allclose(y[mask], 1 / 0.75, rtol=1e-6)
    assert (y[~mask] == 0).all()
    # training_mode=False: identity even in a training module
    y = run("Dropout", [x, np.array(0.5, F32), np.array(False)], opset=13, train=True)
    np.testing.assert_array_equal(y, x)
    # omitted training_mode follows module.training
    y = run("Dropout", [x], opset=13, train=True)
    assert 0.4 < (y == 0).mean() < 0.6
    # is_test=1 (opset 6) never drops
    np.testing.assert_array_equal(run("Dropout", [x], opset=6, train=True,
                                      attrs={"is_test": 1}), x)
    with pytest.raises(FormatError, match="ratio"):
        run("Dropout", [x, np.array(1.5, F32), np.array(True)], opset=13)


@pytest.mark.parametrize("start, limit, delta, dtype", [
    (1, 10, 3, np.int32), (10, 4, -3, np.int64), (3, 3, 1, np.int16), (0, 10, -1, np.int64),
    (0.5, 2.0, 0.3, np.float32), (1.0, -1.0, -0.5, np.float64),
])
def test_range(start, limit, delta, dtype):
    got = run("Range", [np.array(start, dtype), np.array(limit, dtype), np.array(delta, dtype)],
              opset=11)
    want = np.arange(start, limit, delta).astype(dtype)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_range_errors():
    z = np.array(0, np.int64)
    with pytest.raises(FormatError, match="delta"):
        run("Range", [z, np.array(5, np.int64), z])
    with pytest.raises(FormatError, match="elements"):
        run("Range", [z, np.array(2 ** 40, np.int64), np.array(1, np.int64)])


@pytest.mark.parametrize("upper", [0, 1])
@pytest.mark.parametrize("k", [None, -1, 2, 100])
def test_trilu(upper, k):
    x = np.arange(24, dtype=np.int64).reshape(2, 3, 4)
    arrays = [x] if k is None else [x, np.array(k, np.int64)]
    got = run("Trilu", arrays, opset=14, attrs={"upper": upper})
    kk = 0 if k is None else k
    want = np.triu(x, kk) if upper else np.tril(x, kk)
    np.testing.assert_array_equal(got, want)


def test_einsum():
    a = np.random.default_rng(1).standard_normal((2, 3, 4)).astype(F32)
    b = np.random.default_rng(2).standard_normal((2, 4, 5)).astype(F32)
    np.testing.assert_allclose(run("Einsum", [a, b], opset=12,
                                   attrs={"equation": "bij, bjk -> bik"}),
                               np.einsum("bij,bjk->bik", a, b), rtol=1e-5)
    np.testing.assert_allclose(run("Einsum", [a], opset=12, attrs={"equation": "...ij->...ji"}),
                               np.swapaxes(a, -1, -2))
    np.testing.assert_allclose(run("Einsum", [a[0]], opset=12, attrs={"equation": "ij"}),
                               a[0])
    with pytest.raises(FormatError, match="equation"):
        run("Einsum", [a, b], opset=12, attrs={"equation": "ij,jk->ik"})


def _constant(**attrs):
    m = make("Constant", [], 13, attrs)
    with rt.no_grad():
        return m().numpy()


def test_constant_forms():
    assert _constant(value_float=1.5).dtype == np.float32
    np.testing.assert_array_equal(_constant(value_ints=[1, 2, 3]), [1, 2, 3])
    assert _constant(value_int=7).shape == () and _constant(value_int=7).dtype == np.int64
    np.testing.assert_array_equal(_constant(value_floats=[0.5]), [0.5])
    v = np.array([[1, 2], [3, 4]], np.int16)
    np.testing.assert_array_equal(_constant(value=numpy_helper.from_array(v)), v)
    sparse = helper.make_sparse_tensor(
        numpy_helper.from_array(np.array([5.0, 6.0], F32), "values"),
        numpy_helper.from_array(np.array([1, 5], np.int64), "indices"), [2, 3])
    np.testing.assert_array_equal(_constant(sparse_value=sparse), [[0, 5, 0], [0, 0, 6]])
    with pytest.raises(FormatError, match="string"):
        _constant(value_string="hello")
    with pytest.raises(FormatError, match="exactly one"):
        _constant(value_int=1, value_float=2.0)


def test_constant_of_shape():
    got = run("ConstantOfShape", [np.array([2, 3], np.int64)], opset=9)
    assert got.dtype == np.float32 and got.shape == (2, 3) and (got == 0).all()
    got = run("ConstantOfShape", [np.array([4], np.int64)], opset=20,
              attrs={"value": numpy_helper.from_array(np.array([7], np.int32))})
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, [7, 7, 7, 7])
    assert run("ConstantOfShape", [np.array([0, 5], np.int64)], opset=9).shape == (0, 5)
    with pytest.raises(FormatError, match="negative"):
        run("ConstantOfShape", [np.array([-1], np.int64)], opset=9)
    with pytest.raises(FormatError, match="elements"):
        run("ConstantOfShape", [np.array([2 ** 20, 2 ** 20], np.int64)], opset=9)


def test_identity():
    x = np.arange(3, dtype=np.int8)
    np.testing.assert_array_equal(run("Identity", [x]), x)


# --- gradients ------------------------------------------------------------------------------

def _graph_fn(op, opset, attrs=None, extra=()):
    """A function of float64 rt tensors that runs a one-node graph (for gradcheck); ``extra``
    are constant numpy inputs appended after the differentiable ones."""
    def fn(*xs):
        arrays = [x.detach().numpy() for x in xs] + list(extra)
        names = [f"x{i}" for i in range(len(arrays))]
        module = make(op, list(zip(names, arrays)), opset, attrs)
        return module(*xs, *[rt.tensor(a) for a in extra])
    return fn


@pytest.mark.parametrize("op, opset, attrs, n, extra", [
    ("Add", 14, None, 2, ()), ("Sub", 14, None, 2, ()), ("Mul", 14, None, 2, ()),
    ("Div", 14, None, 2, ()), ("Pow", 15, None, 2, ()), ("Sqrt", 13, None, 1, ()),
    ("Exp", 13, None, 1, ()), ("Log", 13, None, 1, ()), ("Tanh", 13, None, 1, ()),
    ("Sigmoid", 13, None, 1, ()), ("Softmax", 13, None, 1, ()), ("Softmax", 11, None, 1, ()),
    ("LogSoftmax", 13, {"axis": 0}, 1, ()), ("Gelu", 20, None, 1, ()),
    ("Gelu", 20, {"approximate": "tanh"}, 1, ()), ("Elu", 6, None, 1, ()),
    ("Selu", 6, None, 1, ()), ("LeakyRelu", 16, None, 1, ()), ("PRelu", 16, None, 2, ()),
    ("HardSwish", 14, None, 1, ()), ("Erf", 13, None, 1, ()), ("Mish", 18, None, 1, ()),
    ("Max", 13, None, 3, ()), ("Mean", 13, None, 2, ()), ("Where", 16, None, 2, ()),
    ("ReduceMean", 18, None, 1, (np.array([1], np.int64),)),
    ("ReduceSum", 13, {"keepdims": 0}, 1, (np.array([0], np.int64),)),
    ("ReduceL2", 18, None, 1, ()), ("ReduceLogSumExp", 18, None, 1, ()),
    ("ReduceProd", 18, None, 1, (np.array([1, 0], np.int64),)),
    ("CumSum", 14, {"exclusive": 1, "reverse": 1}, 1, (np.array(1, np.int64),)),
    ("Clip", 13, None, 1, (np.array(-0.5), np.array(0.5))),
    ("Einsum", 12, {"equation": "ij,jk->ik"}, 2, ()), ("Trilu", 14, None, 1, ()),
    ("Cast", 13, {"to": TensorProto.FLOAT}, 1, ()),
])
def test_gradients_flow(op, opset, attrs, n, extra):
    rng = np.random.default_rng(3)
    shapes = {"Einsum": [(3, 4), (4, 2)], "PRelu": [(3, 4), (4,)]}.get(op, [(3, 4)] * n)
    arrays = [rng.uniform(0.2, 1.5, s) * rng.choice([-1, 1], s) for s in shapes]
    if op in ("Sqrt", "Log", "Pow"):
        arrays[0] = np.abs(arrays[0])
    if op == "Where":
        extra = ()
        cond = rng.random((3, 4)) > 0.5

        def fn(x, y):
            module = make(op, [("c", cond), ("x", x.detach().numpy()), ("y", y.detach().numpy())],
                          opset)
            return module(rt.tensor(cond), x, y)
    else:
        fn = _graph_fn(op, opset, attrs, extra)
    inputs = [rt.tensor(a, dtype=rt.float64, requires_grad=True) for a in arrays]
    if op == "Cast":            # float64 -> float32 -> back, for a float64 gradcheck
        cast = fn
        fn = lambda x: cast(x).to(rt.float64)     # noqa: E731
        assert gradcheck(fn, inputs, eps=1e-3, atol=1e-3, rtol=1e-3)
        return
    assert gradcheck(fn, inputs)


def test_imported_graph_trains():
    """Parameters of an imported graph get gradients and an optimizer step lowers the loss."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3)).astype(F32)
    nodes = [helper.make_node("Einsum", ["x", "w"], ["h"], equation="bi,ij->bj"),
             helper.make_node("Gelu", ["h"], ["g"]),
             helper.make_node("LogSoftmax", ["g"], ["p"], axis=-1),
             helper.make_node("ReduceMean", ["p", "axes"], ["loss"], keepdims=0)]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("loss", TensorProto.FLOAT, [])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.array([0], np.int64),
                                                                   "axes")])
    module = OnnxModule(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)]))
    module.train()
    x = rt.tensor(rng.standard_normal((2, 4)).astype(F32))
    loss = -module(x).sum()
    loss.backward()
    grad = module.w.grad
    assert grad is not None and grad.shape == (4, 3)
    assert np.abs(grad.numpy()).sum() > 0
    with rt.no_grad():
        module.w -= 0.1 * grad
        assert float(-module(x).sum()) < float(loss)
