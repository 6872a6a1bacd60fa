"""Hand-written checks of the nn and shape ONNX converters (ops/nn.py, ops/shape.py), beyond
the ONNX backend node cases: attribute combinations those cases leave out, older opsets, the
Indices output, integer dtypes, gradients (imported graphs train) and the errors for
malformed nodes.

The oracle is ``onnx.reference.ReferenceEvaluator`` (the ONNX project's Python
implementation of the specification), or numpy where the reference is known to deviate from
the specification text.
"""
import warnings

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

import rt_autograd as rt
from rt_autograd.testing import gradcheck
from rt_import import FormatError
from rt_import.onnx import OnnxModule, lookup, registered

RNG = np.random.default_rng(0)

_NP_TO_ONNX = {np.dtype(k): v for k, v in {
    np.float32: TensorProto.FLOAT, np.float64: TensorProto.DOUBLE,
    np.float16: TensorProto.FLOAT16, np.int64: TensorProto.INT64,
    np.int32: TensorProto.INT32, np.int8: TensorProto.INT8, np.uint8: TensorProto.UINT8,
    np.bool_: TensorProto.BOOL}.items()}


def _fed(inputs, initializers):
    """The graph inputs: names not starting with "_" (an omitted optional input) and not
    initializers."""
    return {n: a for n, a in inputs.items() if not n.startswith("_") and n not in initializers}


def make_model(op, inputs, attrs=None, opset=17, n_outputs=1, initializers=None):
    """A one-node model; ``inputs`` maps names (in order; a name starting with "_" is an
    omitted optional input) to arrays, ``initializers`` (name -> array) become graph
    initializers."""
    initializers = initializers or {}
    names = ["" if n.startswith("_") else n for n in inputs]
    node = helper.make_node(op, names, [f"y{i}" for i in range(n_outputs)], **(attrs or {}))
    graph_inputs = [helper.make_tensor_value_info(n, _NP_TO_ONNX[np.asarray(a).dtype], None)
                    for n, a in _fed(inputs, initializers).items()]
    outputs = [helper.make_value_info(f"y{i}", onnx.TypeProto()) for i in range(n_outputs)]
    graph = helper.make_graph([node], "g", graph_inputs, outputs,
                              [numpy_helper.from_array(np.asarray(a), n)
                               for n, a in initializers.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def run_rt(model, inputs, initializers=None):
    feed = [np.asarray(a) for a in _fed(inputs, initializers or {}).values()]
    m = OnnxModule(model)
    m.eval()
    out = m(*feed)
    out = out if isinstance(out, tuple) else (out,)
    return [o.detach().numpy() for o in out]


def run_ref(model, inputs, initializers=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ReferenceEvaluator(model)
        return ref.run(None, {n: np.asarray(a)
                              for n, a in _fed(inputs, initializers or {}).items()})


def check(op, inputs, attrs=None, opset=17, n_outputs=1, rtol=1e-5, atol=1e-6,
          expected=None):
    """rt's outputs equal the reference's (or ``expected``) in shape, dtype and value."""
    model = make_model(op, inputs, attrs, opset, n_outputs)
    got = run_rt(model, inputs)
    want = expected if expected is not None else run_ref(model, inputs)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        w = np.asarray(w)
        assert g.shape == w.shape, (g.shape, w.shape)
        assert g.dtype == w.dtype, (g.dtype, w.dtype)
        if w.dtype.kind == "f":
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)
        else:
            np.testing.assert_array_equal(g, w)
    return got


def call(op, opset, *inputs, n_outputs=1, **attrs):
    """Run one converter directly on rt tensors (for 0-d inputs, which the graph's input
    conversion does not keep 0-d)."""
    from rt_import.onnx.graph import _attributes
    from rt_import.onnx.registry import NodeContext
    node = helper.make_node(op, [f"i{k}" for k in range(len(inputs))],
                            [f"o{k}" for k in range(n_outputs)], **attrs)
    ctx = NodeContext(node, opset, None, _attributes(node))
    return lookup("", op, opset)(ctx, *[None if a is None else rt.tensor(np.asarray(a))
                                         for a in inputs])


def conv_transpose_oracle(x, w, b, strides, dilations, group, begin, out_len):
    """ConvTranspose by definition: every input element scatters ``x * w`` into the full
    output (no padding), which is then cropped by ``begin`` (and zero-extended) to
    ``out_len`` per ONNX's output formula."""
    nd = x.ndim - 2
    n, c = x.shape[:2]
    m_g = w.shape[1]
    k = w.shape[2:]
    full = [s * (i - 1) + (kk - 1) * d + 1 for s, i, kk, d in zip(strides, x.shape[2:], k,
                                                                    dilations)]
    y = np.zeros((n, m_g * group, *full), np.float64)
    cg = c // group
    for ci in range(c):
        g = ci // cg
        for pos in np.ndindex(*x.shape[2:]):
            for kpos in np.ndindex(*k):
                o = tuple(p * s + kk * d for p, s, kk, d in zip(pos, strides, kpos, dilations))
                y[(slice(None), slice(g * m_g, (g + 1) * m_g)) + o] += \
                    x[(slice(None), ci) + pos][:, None] * w[(ci, slice(None)) + kpos][None, :]
    out = np.zeros((n, m_g * group, *out_len), np.float64)
    src = [slice(max(lo, 0), min(lo + o, f)) for lo, o, f in zip(begin, out_len, full)]
    dst = [slice(s.start - lo, s.stop - lo) for s, lo in zip(src, begin)]
    out[(slice(None), slice(None)) + tuple(dst)] = y[(slice(None), slice(None)) + tuple(src)]
    if b is not None:
        out += b.reshape((1, -1) + (1,) * nd)
    return out.astype(x.dtype)


def randn(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def i64(*v):
    return np.array(v, dtype=np.int64)


# ---- registry ------------------------------------------------------------------------------------

MY_OPS = ("MatMul Gemm Conv ConvTranspose BatchNormalization LayerNormalization "
          "InstanceNormalization MaxPool AveragePool GlobalAveragePool GlobalMaxPool Reshape "
          "Flatten Transpose Squeeze Unsqueeze Concat Split Slice Gather Shape Size Expand Tile "
          "Pad Resize GatherElements ScatterND DepthToSpace SpaceToDepth LRN").split()


def test_every_changed_version_from_11_to_21_is_registered():
    """Each since_version of the operator that is in effect at some opset in 11..21 has a
    converter registered at exactly that version."""
    from onnx import defs
    reg = registered()
    history = {}
    for s in defs.get_all_schemas_with_history():
        if s.domain == "" and s.name in MY_OPS:
            history.setdefault(s.name, []).append(s.since_version)
    for op in MY_OPS:
        versions = sorted(history[op])
        needed = {max(v for v in versions if v <= opset) for opset in range(11, 22)
                  if any(v <= opset for v in versions)}
        assert needed <= set(reg[("", op)]), (op, sorted(needed), reg[("", op)])
        for opset in range(11, 22):
            if any(v <= opset for v in versions):
                assert lookup("", op, opset) is not None


# ---- MatMul, Gemm --------------------------------------------------------------------------------

@pytest.mark.parametrize("a, b", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)),
                                  ((2, 1, 3, 4), (5, 4, 2)), ((5, 2, 3), (3, 4))])
def test_matmul_shapes(a, b):
    check("MatMul", {"a": randn(*a), "b": randn(*b)}, opset=13)


def test_matmul_int64():
    check("MatMul", {"a": RNG.integers(-5, 5, (2, 3)), "b": RNG.integers(-5, 5, (3, 2))},
          opset=13)


@pytest.mark.parametrize("ta", [0, 1])
@pytest.mark.parametrize("tb", [0, 1])
@pytest.mark.parametrize("alpha, beta", [(1.0, 1.0), (0.5, 2.0), (2.0, 0.0)])
@pytest.mark.parametrize("c_shape", [None, (), (1,), (4,), (3, 1), (3, 4)])
def test_gemm_attributes(ta, tb, alpha, beta, c_shape):
    a = randn(*((5, 3) if ta else (3, 5)))
    b = randn(*((4, 5) if tb else (5, 4)))
    inputs = {"a": a, "b": b}
    if c_shape is not None:
        inputs["c"] = randn(*c_shape)
    check("Gemm", inputs, {"transA": ta, "transB": tb, "alpha": alpha, "beta": beta},
          opset=13)


def test_gemm_opset9_and_11():
    a, b, c = randn(3, 5), randn(4, 5), randn(4)
    check("Gemm", {"a": a, "b": b, "c": c}, {"transB": 1}, opset=9)
    check("Gemm", {"a": a, "b": b}, {"transB": 1}, opset=11)


def test_gemm_rejects_bad_shapes():
    with pytest.raises(FormatError, match="A' is 3x5 but B' is 4x5"):
        run_rt(make_model("Gemm", {"a": randn(3, 5), "b": randn(4, 5)}),
               {"a": randn(3, 5), "b": randn(4, 5)})


# ---- Conv, ConvTranspose -------------------------------------------------------------------------

@pytest.mark.parametrize("attrs", [
    {},
    {"pads": [1, 1, 1, 1]},
    {"pads": [0, 1, 2, 1], "strides": [2, 1]},
    {"auto_pad": "SAME_UPPER", "strides": [2, 2]},
    {"auto_pad": "SAME_LOWER", "strides": [2, 2]},
    {"auto_pad": "SAME_UPPER", "dilations": [2, 2]},
    {"auto_pad": "VALID", "strides": [2, 3]},
    {"dilations": [2, 1], "pads": [2, 0, 2, 0]},
    {"kernel_shape": [3, 3], "pads": [1, 0, 0, 1], "dilations": [1, 2], "strides": [1, 2]},
])
def test_conv2d_padding_modes(attrs):
    check("Conv", {"x": randn(2, 4, 9, 8), "w": randn(6, 4, 3, 3), "b": randn(6)}, attrs,
          opset=11, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("group", [2, 4])
def test_conv_groups_and_depthwise(group):
    check("Conv", {"x": randn(1, 4, 7, 7), "w": randn(4, 4 // group, 3, 3)},
          {"group": group, "pads": [1, 1, 1, 1]}, opset=11, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("nd", [1, 3])
def test_conv_1d_3d(nd):
    x = randn(1, 2, *([6] * nd))
    w = randn(3, 2, *([3] * nd))
    check("Conv", {"x": x, "w": w}, {"auto_pad": "SAME_LOWER", "strides": [2] * nd},
          opset=22, rtol=1e-4, atol=1e-5)


def test_conv_kernel_shape_mismatch():
    inputs = {"x": randn(1, 1, 5, 5), "w": randn(1, 1, 3, 3)}
    with pytest.raises(FormatError, match="kernel_shape"):
        run_rt(make_model("Conv", inputs, {"kernel_shape": [2, 2]}), inputs)


@pytest.mark.parametrize("attrs, begin, out_len", [
    ({"strides": [2, 2]}, [0, 0], [11, 13]),
    ({"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]}, [1, 1], [10, 12]),
    ({"strides": [3, 2], "pads": [0, 1, 2, 0]}, [0, 1], [13, 12]),
    ({"strides": [2, 2], "auto_pad": "SAME_UPPER"}, [0, 0], [10, 12]),
    ({"strides": [2, 2], "auto_pad": "SAME_LOWER"}, [1, 1], [10, 12]),
    ({"dilations": [2, 2], "pads": [1, 2, 1, 2]}, [1, 2], [7, 6]),
    ({"strides": [2, 2], "output_padding": [1, 0]}, [0, 0], [12, 13]),
    ({"group": 2, "strides": [1, 2]}, [0, 0], [7, 13]),
    ({"strides": [2, 2], "output_shape": [11, 12]}, [0, 1], [11, 12]),
    ({"strides": [2, 2], "output_shape": [11, 12], "auto_pad": "SAME_UPPER"}, [0, 0],
     [11, 12]),
    ({"strides": [1, 1], "output_padding": [2, 0]}, [0, 0], [9, 8]),
    # an output_shape longer than the full output (11x13) extends it at the end in every mode
    ({"strides": [2, 2], "output_shape": [12, 14], "auto_pad": "SAME_UPPER"}, [0, 0],
     [12, 14]),
    ({"strides": [2, 2], "output_shape": [12, 14], "auto_pad": "SAME_LOWER"}, [0, 0],
     [12, 14]),
])
def test_conv_transpose(attrs, begin, out_len):
    """ConvTranspose-11's output formulas (pads, output_padding, output_shape with the odd
    padding element at the beginning unless SAME_UPPER, auto_pad) against the definition.
    output_padding beyond the stride is legal ONNX but not a PyTorch kernel argument."""
    group = attrs.get("group", 1)
    x, w, b = randn(1, 4, 5, 6), randn(4, 3, 3, 3), randn(3 * group)
    want = conv_transpose_oracle(x, w, b, attrs.get("strides", [1, 1]),
                                 attrs.get("dilations", [1, 1]), group, begin, out_len)
    check("ConvTranspose", {"x": x, "w": w, "b": b}, attrs, opset=11, rtol=1e-4, atol=1e-5,
          expected=[want])


@pytest.mark.parametrize("nd", [1, 3])
def test_conv_transpose_1d_3d(nd):
    x, w = randn(1, 2, *([3] * nd)), randn(2, 2, *([2] * nd))
    want = conv_transpose_oracle(x, w, None, [2] * nd, [1] * nd, 1, [1] * nd, [5] * nd)
    check("ConvTranspose", {"x": x, "w": w}, {"strides": [2] * nd, "pads": [1] * (2 * nd),
                                               "output_padding": [1] * nd},
          opset=22, rtol=1e-4, atol=1e-5, expected=[want])


# ---- pooling -------------------------------------------------------------------------------------

POOL_CASES = [
    {"kernel_shape": [3, 3]},
    {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1},
    {"kernel_shape": [2, 3], "strides": [2, 2], "pads": [1, 0, 0, 1]},
    {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": 1},
    {"kernel_shape": [3, 3], "auto_pad": "SAME_UPPER", "strides": [2, 2]},
    {"kernel_shape": [2, 2], "auto_pad": "VALID", "strides": [2, 2]},
    {"kernel_shape": [4, 4], "pads": [2, 2, 2, 2]},
]


@pytest.mark.parametrize("attrs", POOL_CASES + [
    {"kernel_shape": [2, 2], "dilations": [2, 2], "pads": [1, 1, 1, 1]},
    {"kernel_shape": [3, 3], "dilations": [2, 1], "strides": [2, 2], "ceil_mode": 1},
])
def test_max_pool(attrs):
    check("MaxPool", {"x": randn(2, 3, 9, 10)}, attrs, opset=12)


@pytest.mark.parametrize("attrs", POOL_CASES)
@pytest.mark.parametrize("count_include_pad", [0, 1])
def test_average_pool(attrs, count_include_pad):
    check("AveragePool", {"x": randn(2, 3, 9, 10)},
          dict(attrs, count_include_pad=count_include_pad), opset=11)


@pytest.mark.parametrize("count_include_pad", [0, 1])
@pytest.mark.parametrize("ceil_mode", [0, 1])
def test_average_pool_dilations_opset19(count_include_pad, ceil_mode):
    check("AveragePool", {"x": randn(1, 2, 11, 10)},
          {"kernel_shape": [3, 2], "dilations": [2, 3], "strides": [2, 2],
           "pads": [1, 2, 2, 1], "count_include_pad": count_include_pad,
           "ceil_mode": ceil_mode}, opset=19)


@pytest.mark.parametrize("op", ["MaxPool", "AveragePool"])
def test_pool_1d_and_3d(op):
    check(op, {"x": randn(2, 3, 11)}, {"kernel_shape": [3], "strides": [2], "pads": [1, 1]},
          opset=11)
    check(op, {"x": randn(1, 2, 5, 6, 7)},
          {"kernel_shape": [2, 3, 2], "strides": [2, 1, 2], "pads": [0, 1, 1, 1, 1, 0]},
          opset=11)


@pytest.mark.parametrize("op", ["MaxPool", "AveragePool"])
def test_pool_same_lower_equals_its_explicit_pads(op):
    """SAME_* output ceil(in / stride) (MaxPool-12 text; onnx.reference's MaxPool uses floor
    for SAME_LOWER): 9x10, kernel 3x2, strides 2x3 -> 5x4 with pads [1, 1, 1, 0]."""
    x = randn(2, 3, 9, 10)
    explicit = run_ref(make_model(op, {"x": x}, {"kernel_shape": [3, 2], "strides": [2, 3],
                                                 "pads": [1, 1, 1, 0]}, opset=12), {"x": x})
    got = check(op, {"x": x}, {"kernel_shape": [3, 2], "strides": [2, 3],
                               "auto_pad": "SAME_LOWER"}, opset=12, expected=explicit)
    assert got[0].shape == (2, 3, 5, 4)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8])
def test_max_pool_integers(dtype):
    """int8/uint8 (MaxPool-12); the padding never wins (onnx.reference pads integers with
    NaN, so the oracle is the float computation)."""
    x = RNG.integers(np.iinfo(dtype).min, np.iinfo(dtype).max, (1, 2, 6, 6)).astype(dtype)
    attrs = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "strides": [2, 1]}
    want = run_ref(make_model("MaxPool", {"x": x.astype(np.float32)}, attrs, opset=12),
                   {"x": x.astype(np.float32)})[0].astype(dtype)
    check("MaxPool", {"x": x}, attrs, opset=12, expected=[want])


@pytest.mark.parametrize("storage_order", [0, 1])
@pytest.mark.parametrize("attrs", [
    {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]},
    {"kernel_shape": [2, 2], "dilations": [2, 2], "strides": [1, 2]},
])
def test_max_pool_indices(storage_order, attrs):
    x = randn(2, 3, 7, 6)
    check("MaxPool", {"x": x}, dict(attrs, storage_order=storage_order), opset=12,
          n_outputs=2)


def test_max_pool_indices_3d_column_major():
    x = randn(2, 2, 4, 5, 6)
    model = make_model("MaxPool", {"x": x}, {"kernel_shape": [2, 2, 2], "strides": [2, 2, 2],
                                             "storage_order": 1}, opset=12, n_outputs=2)
    y, idx = run_rt(model, {"x": x})
    # Indices point at the maximum: flat index n*C*D*H*W + c*D*H*W + (d + h*D + w*D*H)
    n, c, d, h, w = x.shape
    for pos in np.ndindex(idx.shape):
        k = int(idx[pos])
        nc, sp = divmod(k, d * h * w)
        dd, hh, ww = np.unravel_index(sp, (d, h, w), order="F")
        assert x[nc // c, nc % c, dd, hh, ww] == y[pos]


@pytest.mark.parametrize("pads", [[0, 0, 1, 1], [0, 0, 0, 0]])
def test_max_pool_gradient_goes_to_the_first_maximum(pads):
    """Ties (zeros after a Relu) send each window's gradient to one element, the first
    maximum, as PyTorch's max_pool2d does: in the composed path (asymmetric pads) as in the
    kernel path."""
    mod = OnnxModule(make_model("MaxPool", {"x": np.zeros((1, 1, 4, 4), np.float32)},
                                {"kernel_shape": [2, 2], "strides": [2, 2], "pads": pads},
                                opset=12))
    x = rt.zeros(1, 1, 4, 4, requires_grad=True)
    mod(x).sum().backward()
    want = np.zeros((4, 4), np.float32)
    want[::2, ::2] = 1
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], want)


@pytest.mark.parametrize("op", ["GlobalAveragePool", "GlobalMaxPool"])
@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 4, 5), (1, 2, 3, 4, 2)])
def test_global_pools(op, shape):
    x = randn(*shape)
    f = np.mean if op == "GlobalAveragePool" else np.max
    check(op, {"x": x}, opset=11, expected=[f(x, axis=tuple(range(2, x.ndim)), keepdims=True)])


# ---- normalization -------------------------------------------------------------------------------

def _bn_inputs(c=3, shape=(2, 3, 4, 5)):
    return {"x": randn(*shape), "s": randn(c), "b": randn(c), "m": randn(c),
            "v": RNG.uniform(0.5, 2.0, c).astype(np.float32)}


@pytest.mark.parametrize("opset", [9, 14, 15])
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (2, 3, 4, 5)])
def test_batch_norm_inference(opset, shape):
    inputs = _bn_inputs(shape=shape)
    b = (-1,) + (1,) * (len(shape) - 2)
    want = ((inputs["x"] - inputs["m"].reshape(b)) / np.sqrt(inputs["v"].reshape(b) + 1e-3)
            * inputs["s"].reshape(b) + inputs["b"].reshape(b))
    check("BatchNormalization", inputs, {"epsilon": 1e-3}, opset=opset, rtol=1e-5,
          atol=1e-5, expected=[want])


def test_batch_norm_training_mode_outputs():
    check("BatchNormalization", _bn_inputs(), {"training_mode": 1, "momentum": 0.8},
          opset=15, n_outputs=3, rtol=1e-4, atol=1e-5)


def test_batch_norm_mixed_precision_opset15():
    inputs = _bn_inputs()
    inputs["x"] = inputs["x"].astype(np.float16)
    model = make_model("BatchNormalization", inputs, opset=15)
    got = run_rt(model, inputs)[0]
    x = inputs["x"].astype(np.float32)
    want = ((x - inputs["m"][:, None, None]) / np.sqrt(inputs["v"][:, None, None] + 1e-5)
            * inputs["s"][:, None, None] + inputs["b"][:, None, None])
    assert got.dtype == np.float16
    np.testing.assert_allclose(got.astype(np.float32), want, rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("axis", [-1, 1, 2, 0])
def test_layer_norm_with_statistics_outputs(axis):
    x = randn(2, 3, 4)
    ns = x.shape[axis:]
    check("LayerNormalization", {"x": x, "s": randn(*ns), "b": randn(*ns)},
          {"axis": axis, "epsilon": 1e-3}, opset=17, n_outputs=3, rtol=1e-4, atol=1e-5)


def test_layer_norm_broadcast_scale_and_no_bias():
    x = randn(2, 3, 4)
    check("LayerNormalization", {"x": x, "s": randn(1, 4)}, {"axis": 1}, opset=17,
          rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 3, 4, 5), (2, 3, 1, 1)])
def test_instance_norm(shape):
    check("InstanceNormalization", {"x": randn(*shape), "s": randn(3), "b": randn(3)},
          {"epsilon": 1e-4}, opset=11, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5])
def test_lrn_window_sizes(size):
    """LRN-13's window c - floor((size-1)/2) .. c + ceil((size-1)/2) (onnx.reference loops
    over the batch instead of the channels, so the oracle is written out)."""
    x = randn(2, 6, 3, 3)
    sq = np.zeros_like(x)
    for c in range(6):
        lo, hi = max(0, c - (size - 1) // 2), min(6, c + -(-(size - 1) // 2) + 1)
        sq[:, c] = (x[:, lo:hi] ** 2).sum(axis=1)
    want = x / (1.5 + 0.01 / size * sq) ** 0.7
    check("LRN", {"x": x}, {"size": size, "alpha": 0.01, "beta": 0.7, "bias": 1.5},
          opset=13, rtol=1e-5, expected=[want])


# ---- Reshape, Flatten, Transpose, Squeeze, Unsqueeze ---------------------------------------------

@pytest.mark.parametrize("shape, allowzero, want", [
    ((0, -1), 0, (2, 12)), ((-1,), 0, (24,)), ((4, 0, -1), 0, (4, 3, 2)),
    ((2, 3, 4), 1, (2, 3, 4)), ((), 0, None),
])
def test_reshape(shape, allowzero, want):
    x = randn(*(2, 3, 4)) if want is not None else randn(1, 1)
    got = check("Reshape", {"x": x, "s": np.array(shape, dtype=np.int64)},
                {"allowzero": allowzero}, opset=14)
    assert got[0].shape == (want if want is not None else ())


def test_reshape_allowzero_keeps_zero():
    x = np.zeros((0, 3), np.float32)
    got = check("Reshape", {"x": x, "s": i64(3, 0)}, {"allowzero": 1}, opset=14)
    assert got[0].shape == (3, 0)
    # without allowzero the 0 copies the input's dimension 1 (3)
    got = check("Reshape", {"x": x, "s": i64(0, 3)}, opset=13)
    assert got[0].shape == (0, 3)


@pytest.mark.parametrize("shape, allowzero, match", [
    ((-1, -1), 0, "more than one -1"), ((0, -1), 1, "both 0 and -1"),
    ((5, -1), 0, "cannot reshape"), ((7,), 0, "cannot reshape"), ((2, -3, 4), 0, "negative"),
])
def test_reshape_errors(shape, allowzero, match):
    inputs = {"x": randn(2, 3, 4), "s": np.array(shape, dtype=np.int64)}
    with pytest.raises(FormatError, match=match):
        run_rt(make_model("Reshape", inputs, {"allowzero": allowzero}, opset=14), inputs)


@pytest.mark.parametrize("axis", [0, 1, 2, 3, -1, -3])
def test_flatten(axis):
    check("Flatten", {"x": randn(2, 3, 4)}, {"axis": axis}, opset=13)


def test_transpose_default_and_perm():
    check("Transpose", {"x": randn(2, 3, 4)}, opset=13)
    check("Transpose", {"x": randn(2, 3, 4)}, {"perm": [1, 2, 0]}, opset=13)
    with pytest.raises(FormatError, match="not a permutation"):
        inputs = {"x": randn(2, 3)}
        run_rt(make_model("Transpose", inputs, {"perm": [0, 0]}), inputs)


def test_squeeze_unsqueeze_attribute_and_input_forms():
    x = randn(1, 3, 1, 2)
    check("Squeeze", {"x": x}, {"axes": [0, -2]}, opset=11)
    check("Squeeze", {"x": x, "a": i64(0, -2)}, opset=13)
    check("Squeeze", {"x": x}, opset=13)
    check("Unsqueeze", {"x": randn(3, 2)}, {"axes": [0, -1]}, opset=11)
    check("Unsqueeze", {"x": randn(3, 2), "a": i64(3, 0, 1)}, opset=13)
    with pytest.raises(FormatError, match="cannot squeeze axis 1"):
        run_rt(make_model("Squeeze", {"x": x, "a": i64(1)}, opset=13), {"x": x, "a": i64(1)})


# ---- Concat, Split, Slice ------------------------------------------------------------------------

def test_concat_negative_axis_and_empty_input():
    check("Concat", {"a": randn(2, 3), "b": randn(2, 0), "c": randn(2, 1)}, {"axis": -1},
          opset=13)


@pytest.mark.parametrize("opset", [11, 13, 18])
def test_split_with_explicit_sizes(opset):
    x = randn(7, 2)
    if opset == 11:
        check("Split", {"x": x}, {"split": [2, 0, 5]}, opset=11, n_outputs=3)
    else:
        check("Split", {"x": x, "s": i64(2, 0, 5)}, opset=opset, n_outputs=3)


@pytest.mark.parametrize("opset", [11, 13])
def test_split_equal_by_output_count(opset):
    check("Split", {"x": randn(2, 9)}, {"axis": -1}, opset=opset, n_outputs=3)


def test_split_num_outputs_uneven_opset18():
    got = check("Split", {"x": randn(7)}, {"num_outputs": 3}, opset=18, n_outputs=3)
    assert [g.shape[0] for g in got] == [3, 3, 1]


def test_split_errors():
    inputs = {"x": randn(7)}
    with pytest.raises(FormatError, match="equal parts"):
        run_rt(make_model("Split", inputs, opset=13, n_outputs=2), inputs)
    inputs = {"x": randn(7), "s": i64(3, 3)}
    with pytest.raises(FormatError, match="does not add up"):
        run_rt(make_model("Split", inputs, opset=13, n_outputs=2), inputs)


INT64_MAX, INT64_MIN = np.iinfo(np.int64).max, np.iinfo(np.int64).min


@pytest.mark.parametrize("starts, ends, axes, steps", [
    ((0, 1), (3, 4), None, None),
    ((-1,), (INT64_MIN,), (1,), (-1,)),
    ((4, -2), (0, -10), (-1, 0), (-2, -1)),
    ((10,), (-100,), (0,), (-3,)),
    ((1, 0), (INT64_MAX, INT64_MAX), (0, 2), (2, 3)),
    ((-100,), (100,), (-2,), (1,)),
    ((2,), (2,), (1,), (1,)),
])
def test_slice(starts, ends, axes, steps):
    inputs = {"x": randn(5, 6, 7), "s": np.array(starts, np.int64),
              "e": np.array(ends, np.int64)}
    if axes is not None:
        inputs["a"] = np.array(axes, np.int64)
    if steps is not None:
        inputs["t"] = np.array(steps, np.int64)
    check("Slice", inputs, opset=13)


def test_slice_negative_step_start_clamps_as_the_spec_says():
    # starts below -dim clamp to 0 for negative steps (Slice-13 text): one element
    x = np.arange(5, dtype=np.float32)
    got = check("Slice", {"x": x, "s": i64(-100), "e": i64(INT64_MIN), "a": i64(0),
                          "t": i64(-1)}, opset=13, expected=[x[:1]])
    assert got[0].tolist() == [0.0]


def test_slice_rejects_zero_step():
    inputs = {"x": randn(3), "s": i64(0), "e": i64(3), "a": i64(0), "t": i64(0)}
    with pytest.raises(FormatError, match="step of 0"):
        run_rt(make_model("Slice", inputs, opset=13), inputs)


# ---- Gather, GatherElements, ScatterND -----------------------------------------------------------

@pytest.mark.parametrize("axis, idx", [(1, np.array([[0, -1], [2, 1]])),
                                       (-1, np.array([3, 0, -4]))])
def test_gather(axis, idx):
    check("Gather", {"x": randn(3, 4, 4), "i": idx.astype(np.int64)}, {"axis": axis},
          opset=13)


def test_gather_scalar_index_drops_the_axis():
    x = randn(3, 4)
    y = call("Gather", 13, x, np.array(-1, np.int64), axis=0)
    assert tuple(y.shape) == (4,)
    np.testing.assert_array_equal(y.numpy(), x[-1])


def test_gather_int32_indices_and_out_of_range():
    check("Gather", {"x": randn(5, 2), "i": np.array([4, -5], np.int32)}, opset=13)
    inputs = {"x": randn(5, 2), "i": i64(5)}
    with pytest.raises(FormatError, match="out of range"):
        run_rt(make_model("Gather", inputs, opset=13), inputs)


def test_gather_elements():
    check("GatherElements", {"x": randn(3, 4), "i": RNG.integers(-4, 4, (3, 6))},
          {"axis": 1}, opset=13)
    # fewer rows than the data (torch.gather's rule; onnx.reference wants equal sizes)
    x, i = randn(3, 4), np.array([[2, -1]], np.int64)
    y = call("GatherElements", 13, x, i, axis=1)
    np.testing.assert_array_equal(y.numpy(), [[x[0, 2], x[0, 3]]])


@pytest.mark.parametrize("reduction", ["none", "add", "mul", "max", "min"])
def test_scatter_nd(reduction):
    data = randn(4, 3, 2)
    idx = np.array([[[1, 0]], [[3, 2]], [[1, 0]]], np.int64)
    if reduction == "none":
        idx = idx[:2]
    updates = randn(*idx.shape[:-1], 2)
    check("ScatterND", {"d": data, "i": idx, "u": updates}, {"reduction": reduction},
          opset=18)


# ---- Shape, Size, Expand, Tile -------------------------------------------------------------------

@pytest.mark.parametrize("start, end", [(None, None), (1, None), (-2, None), (0, -1),
                                        (-10, 10), (2, 1)])
def test_shape_start_end(start, end):
    attrs = {k: v for k, v in (("start", start), ("end", end)) if v is not None}
    check("Shape", {"x": randn(2, 3, 4)}, attrs, opset=15)


def test_size_and_shape_of_scalar():
    check("Size", {"x": randn(2, 3)}, opset=13)
    assert call("Size", 13, np.float32(2.0)).numpy().tolist() == 1
    shape = call("Shape", 15, np.float32(1.0))
    assert shape.dtype == rt.int64 and tuple(shape.shape) == (0,)


@pytest.mark.parametrize("x_shape, shape", [((3, 1), (2, 1, 6)), ((1,), (4,)),
                                            ((2, 3), (1, 1)), ((3,), ())])
def test_expand_bidirectional(x_shape, shape):
    check("Expand", {"x": randn(*x_shape), "s": np.array(shape, np.int64)}, opset=13)


def test_expand_and_tile_refuse_huge_outputs():
    inputs = {"x": randn(2), "s": i64(1 << 20, 1 << 20, 2)}
    with pytest.raises(FormatError, match="elements"):
        run_rt(make_model("Expand", inputs, opset=13), inputs)
    inputs = {"x": randn(2), "r": i64(1 << 40)}
    with pytest.raises(FormatError, match="elements"):
        run_rt(make_model("Tile", inputs, opset=13), inputs)


def test_tile():
    check("Tile", {"x": randn(2, 3), "r": i64(2, 3)}, opset=13)
    check("Tile", {"x": np.arange(4, dtype=np.int32).reshape(2, 2), "r": i64(1, 0)}, opset=13)


# ---- Pad -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["constant", "reflect", "edge", "wrap"])
@pytest.mark.parametrize("pads", [(0, 2, 1, 0, 1, 3), (1, 0, 0, 2, 3, 1)])
def test_pad_modes(mode, pads):
    check("Pad", {"x": randn(3, 4, 5), "p": np.array(pads, np.int64)}, {"mode": mode},
          opset=19)


def test_pad_constant_value_negative_pads_and_axes():
    x = np.arange(12, dtype=np.int32).reshape(3, 4)
    want = np.pad(x[:2, 1:], ((1, 0), (0, 2)), constant_values=7)
    check("Pad", {"x": x, "p": i64(1, -1, -1, 2), "v": np.array([7], np.int32)}, opset=13,
          expected=[want])
    check("Pad", {"x": randn(2, 3, 4), "p": i64(1, 2, 0, 3), "v": np.array(1.5, np.float32),
                  "a": i64(-1, 0)}, opset=18)


def test_pad_reflect_wider_than_input_follows_numpy():
    x = np.arange(3, dtype=np.float32)
    expected = np.pad(x, (5, 4), mode="reflect")
    check("Pad", {"x": x, "p": i64(5, 4)}, {"mode": "reflect"}, opset=13,
          expected=[expected])


def test_pad_negative_with_reflect_crops_first():
    x = randn(6, 5)
    model = make_model("Pad", {"x": x, "p": i64(-2, 2, 1, -1)}, {"mode": "reflect"}, opset=13)
    got = run_rt(model, {"x": x, "p": i64(-2, 2, 1, -1)})[0]
    # axis 0: crop 2 at the beginning, pad 1 at the end; axis 1: pad 2, crop 1
    np.testing.assert_array_equal(got, np.pad(x[2:, :4], ((0, 1), (2, 0)), mode="reflect"))


def test_pad_wrap_needs_opset_19():
    inputs = {"x": randn(3), "p": i64(1, 1)}
    with pytest.raises(FormatError, match="opset 19"):
        run_rt(make_model("Pad", inputs, {"mode": "wrap"}, opset=18), inputs)


# ---- Resize --------------------------------------------------------------------------------------

@pytest.mark.parametrize("nearest_mode", ["round_prefer_floor", "round_prefer_ceil", "floor",
                                          "ceil"])
@pytest.mark.parametrize("ctm", ["half_pixel", "pytorch_half_pixel", "align_corners",
                                 "asymmetric"])
def test_resize_nearest_modes(nearest_mode, ctm):
    x = randn(1, 2, 4, 5)
    attrs = {"mode": "nearest", "nearest_mode": nearest_mode,
             "coordinate_transformation_mode": ctm}
    expected = None
    if ctm == "align_corners":
        # 5 * float32(0.6) is 3.0000001: onnx.reference divides by 2.0000001 and floors
        # 1.9999999 to 1; the output length is 3 (see the test below), so the oracle is the
        # same resize given by sizes
        sized = {"x": x, "_r": None, "_s": None, "z": i64(1, 2, 6, 3)}
        expected = run_ref(make_model("Resize", sized, attrs, opset=13), sized)
    check("Resize", {"x": x, "_r": None, "s": np.array([1, 1, 1.7, 0.6], np.float32)},
          attrs, opset=13, expected=expected)


@pytest.mark.parametrize("ctm", ["half_pixel", "pytorch_half_pixel", "align_corners",
                                 "asymmetric", "half_pixel_symmetric"])
@pytest.mark.parametrize("mode", ["linear", "cubic"])
def test_resize_interpolating_modes(ctm, mode):
    x = randn(2, 3, 5, 4)
    attrs = {"mode": mode, "coordinate_transformation_mode": ctm}
    expected = None
    if ctm == "align_corners":
        # 5 * 2.5 = 12.5 -> 12: rt divides by the output length 12 - 1 (onnxruntime,
        # PyTorch), onnx.reference by 11.5, so the oracle is the same resize given by sizes
        sized = {"x": x, "_r": None, "_s": None, "z": i64(2, 3, 12, 3)}
        expected = run_ref(make_model("Resize", sized, attrs, opset=19), sized)
    check("Resize", {"x": x, "_r": None, "s": np.array([1, 1, 2.5, 0.75], np.float32)},
          attrs, opset=19, rtol=1e-4, atol=1e-5, expected=expected)


def test_resize_align_corners_divides_by_the_output_length():
    """PyTorch's interpolate(scale_factor=0.6, mode="bilinear", align_corners=True) on a
    4x6 input: a 2x3 output sampling rows 0, 3 and columns 0, 2.5, 5 (the source position
    is dst * (in - 1) / (out - 1)), which the torch exporter writes as Resize linear
    align_corners with scales 0.6."""
    x = np.arange(24, dtype=np.float32).reshape(1, 1, 4, 6)
    want = np.array([[[[0, 2.5, 5], [18, 20.5, 23]]]], np.float32)
    check("Resize", {"x": x, "_r": None, "s": np.array([1, 1, 0.6, 0.6], np.float32)},
          {"mode": "linear", "coordinate_transformation_mode": "align_corners"}, opset=13,
          expected=[want])


def test_resize_opset11_sizes_with_empty_roi_and_scales():
    x = randn(1, 1, 3, 4)
    inputs = {"x": x, "r": np.zeros(0, np.float32), "s": np.zeros(0, np.float32),
              "z": i64(1, 1, 7, 2)}
    check("Resize", inputs, {"mode": "linear", "coordinate_transformation_mode":
                             "pytorch_half_pixel"}, opset=11, rtol=1e-5)


def test_resize_tf_crop_and_resize_and_antialias():
    x = randn(1, 1, 6, 6)
    check("Resize", {"x": x, "r": np.array([0, 0, 0.2, 0.1, 1, 1, 0.9, 1.3], np.float32),
                     "_r": None, "z": i64(1, 1, 4, 5)},
          {"mode": "linear", "coordinate_transformation_mode": "tf_crop_and_resize",
           "extrapolation_value": -3.0}, opset=13, rtol=1e-5)
    check("Resize", {"x": x, "_r": None, "s": np.array([1, 1, 0.4, 0.6], np.float32)},
          {"mode": "cubic", "antialias": 1, "exclude_outside": 1}, opset=18, rtol=1e-4,
          atol=1e-5)


def test_resize_axes_and_aspect_policy():
    x = randn(1, 2, 4, 6)
    check("Resize", {"x": x, "_r": None, "_s": None, "z": i64(5, 3)},
          {"axes": [3, 2], "keep_aspect_ratio_policy": "not_smaller"}, opset=18)


def test_resize_integer_linear_rounds_and_saturates():
    x = np.array([[[[0, 255], [255, 0]]]], np.uint8)
    got = check("Resize", {"x": x, "_r": None, "s": np.array([1, 1, 2, 2], np.float32)},
                {"mode": "linear"}, opset=13)
    assert got[0].dtype == np.uint8


def test_resize_errors():
    x = randn(1, 1, 2, 2)
    inputs = {"x": x, "_r": None, "s": np.array([1, 1, 2, 2], np.float32), "z": i64(1, 1, 4, 4)}
    with pytest.raises(FormatError, match="exactly one"):
        run_rt(make_model("Resize", inputs, opset=13), inputs)
    inputs = {"x": x, "_r": None, "s": np.array([1, 1, -2, 2], np.float32)}
    with pytest.raises(FormatError, match="positive"):
        run_rt(make_model("Resize", inputs, opset=13), inputs)
    inputs = {"x": x, "_r": None, "s": np.array([1, 1, 1e6, 1e6], np.float32)}
    with pytest.raises(FormatError, match="elements"):
        run_rt(make_model("Resize", inputs, opset=13), inputs)


# ---- DepthToSpace, SpaceToDepth ------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["DCR", "CRD"])
def test_depth_space_round_trip(mode):
    x = randn(2, 8, 3, 4)
    check("DepthToSpace", {"x": x}, {"blocksize": 2, "mode": mode}, opset=13)
    y = run_rt(make_model("DepthToSpace", {"x": x}, {"blocksize": 2, "mode": mode}, opset=28),
               {"x": x})[0]
    back = run_rt(make_model("SpaceToDepth", {"x": y}, {"blocksize": 2, "mode": mode},
                             opset=28), {"x": y})[0]
    np.testing.assert_array_equal(back, x)


# ---- gradients: an imported graph trains ---------------------------------------------------------

GRAD_CASES = [
    # op, node inputs (shape: float64 array; otherwise the value), attributes, opset,
    # the inputs that are initializers (Parameters whose gradient is checked)
    ("Conv", {"x": (1, 2, 5, 5), "w": (2, 2, 3, 3), "b": (2,)},
     {"pads": [0, 1, 1, 0], "strides": [2, 1]}, 11, "wb"),
    ("ConvTranspose", {"x": (1, 2, 3, 3), "w": (2, 2, 3, 3), "b": (2,)},
     {"strides": [2, 2], "pads": [0, 1, 1, 0], "output_padding": [1, 1]}, 11, "wb"),
    ("ConvTranspose", {"x": (1, 2, 3), "w": (2, 1, 2), "b": (1,)},
     {"output_padding": [2]}, 11, "wb"),
    ("MaxPool", {"x": (1, 1, 5, 5)}, {"kernel_shape": [2, 2], "pads": [1, 0, 0, 1],
                                      "ceil_mode": 1, "strides": [2, 2]}, 12, ""),
    ("MaxPool", {"x": (1, 1, 4, 5)}, {"kernel_shape": [2, 2], "pads": [1, 1, 1, 1]}, 12, ""),
    ("AveragePool", {"x": (1, 1, 5, 5)}, {"kernel_shape": [3, 2], "dilations": [2, 1],
                                          "auto_pad": "SAME_UPPER"}, 19, ""),
    ("AveragePool", {"x": (1, 1, 5, 5)}, {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1],
                                          "strides": [2, 2]}, 11, ""),
    ("Gemm", {"a": (3, 4), "b": (4, 2), "c": (2,)}, {"alpha": 0.5, "beta": 2.0}, 13, "bc"),
    ("Gemm", {"a": (3, 4), "b": (2, 4), "c": (2,)}, {"transB": 1}, 13, "bc"),
    ("MatMul", {"a": (2, 3, 4), "b": (4, 2)}, {}, 13, "b"),
    ("BatchNormalization", {"x": (3, 2, 2), "s": (2,), "b": (2,), "m": (2,), "v": (2,)},
     {"training_mode": 1}, 15, "sbmv"),
    ("BatchNormalization", {"x": (3, 2, 2), "s": (2,), "b": (2,), "m": (2,), "v": (2,)},
     {}, 15, "sbmv"),
    ("LayerNormalization", {"x": (2, 3, 4), "s": (4,), "b": (1, 4)}, {}, 17, "sb"),
    ("LayerNormalization", {"x": (2, 3, 4), "s": (3, 4), "b": (3, 4)}, {"axis": 1}, 17, "sb"),
    ("InstanceNormalization", {"x": (1, 2, 1, 1), "s": (2,), "b": (2,)}, {}, 11, "sb"),
    ("InstanceNormalization", {"x": (2, 2, 3), "s": (2,), "b": (2,)}, {}, 11, "sb"),
    ("Resize", {"x": (1, 1, 3, 3), "_r": None, "sc": np.array([1, 1, 1.5, 0.7], np.float32)},
     {"mode": "cubic"}, 13, ""),
    ("Resize", {"x": (1, 1, 3, 3), "_r": None, "sc": np.array([1, 1, 2, 0.5], np.float32)},
     {"mode": "linear", "antialias": 1}, 18, ""),
    ("LRN", {"x": (1, 4, 2, 2)}, {"size": 2}, 13, ""),
]


@pytest.mark.parametrize("op, inputs, attrs, opset, params", GRAD_CASES,
                         ids=[c[0] for c in GRAD_CASES])
def test_gradients_flow_to_inputs_and_initializers(op, inputs, attrs, opset, params):
    """gradcheck through the imported module in its first input; one backward reaches every
    initializer except BatchNormalization's statistics (mean, var)."""
    arrays = {k: (RNG.uniform(0.5, 1.5, v) if isinstance(v, tuple) else v)
              for k, v in inputs.items()}
    inits = {k: arrays[k] for k in arrays if k in params}
    mod = OnnxModule(make_model(op, arrays, attrs, opset,
                                3 if attrs.get("training_mode") else 1, inits))
    feeds = list(_fed(arrays, inits))
    x = rt.tensor(arrays[feeds[0]], requires_grad=True)
    rest = [rt.tensor(arrays[k]) for k in feeds[1:]]

    def f(t):
        out = mod(t, *rest)
        return out[0] if isinstance(out, tuple) else out

    assert gradcheck(f, (x,), eps=1e-6, atol=1e-5, rtol=1e-3)
    f(x).sum().backward()
    for name, p in mod.named_parameters():
        if op == "BatchNormalization" and name in "mv":
            assert p.grad is None, name
        else:
            assert p.grad is not None and np.isfinite(p.grad.numpy()).all(), name


@pytest.mark.parametrize("op, inputs, attrs, opset", [
    ("Slice", {"x": (4, 5), "s": i64(3, -1), "e": i64(0, -6), "a": i64(0, 1),
               "t": i64(-1, -2)}, {}, 13),
    ("Pad", {"x": (3, 4), "p": i64(2, 1, 1, 3)}, {"mode": "reflect"}, 13),
    ("Pad", {"x": (3, 4), "p": i64(1, -1, 0, 2)}, {"mode": "constant"}, 13),
    ("Gather", {"x": (4, 3), "i": i64(3, -1, 0, 3)}, {"axis": 0}, 13),
    ("GatherElements", {"x": (3, 3), "i": np.array([[0, 2, 1], [2, 2, 0]])}, {"axis": 0}, 13),
    ("Expand", {"x": (3, 1), "s": i64(2, 3, 4)}, {}, 13),
    ("Tile", {"x": (2, 2), "r": i64(2, 1)}, {}, 13),
    ("Split", {"x": (5, 2), "s": i64(2, 3)}, {}, 13),
    ("ScatterND", {"x": (4, 2), "i": np.array([[1], [3]]), "u": (2, 2)},
     {"reduction": "add"}, 16),
    ("DepthToSpace", {"x": (1, 4, 2, 2)}, {"blocksize": 2, "mode": "CRD"}, 13),
])
def test_shape_ops_are_differentiable(op, inputs, attrs, opset):
    arrays = {k: (RNG.uniform(-1, 1, v) if isinstance(v, tuple) else v)
              for k, v in inputs.items()}
    model = make_model(op, arrays, attrs, opset, n_outputs=2 if op == "Split" else 1)
    mod = OnnxModule(model)
    floats = [k for k, v in arrays.items() if v.dtype.kind == "f"]
    tensors = {k: rt.tensor(v, requires_grad=k in floats) for k, v in arrays.items()}

    def f(*xs):
        feed = dict(tensors)
        feed.update(zip(floats, xs))
        out = mod(*[feed[k] for k in arrays])
        if isinstance(out, tuple):
            out = rt.cat([o.reshape(-1) for o in out])
        return out

    assert gradcheck(f, tuple(tensors[k] for k in floats), eps=1e-6, atol=1e-5, rtol=1e-3)


def test_small_cnn_graph_trains():
    """Conv -> BatchNorm -> Relu-free MaxPool -> Flatten -> Gemm: one SGD step through the
    imported graph changes every trainable initializer and lowers the loss."""
    rng = np.random.default_rng(1)
    inits = {"conv.weight": rng.standard_normal((4, 1, 3, 3)).astype(np.float32) * 0.3,
             "conv.bias": np.zeros(4, np.float32),
             "bn.weight": np.ones(4, np.float32), "bn.bias": np.zeros(4, np.float32),
             "bn.running_mean": np.zeros(4, np.float32),
             "bn.running_var": np.ones(4, np.float32),
             "fc.weight": rng.standard_normal((3, 16)).astype(np.float32) * 0.3,
             "fc.bias": np.zeros(3, np.float32), "shape": i64(0, -1)}
    nodes = [
        helper.make_node("Conv", ["x", "conv.weight", "conv.bias"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "bn.weight", "bn.bias",
                                                "bn.running_mean", "bn.running_var"], ["n"]),
        helper.make_node("MaxPool", ["n"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Reshape", ["p", "shape"], ["f"]),
        helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["y"], transB=1),
    ]
    graph = helper.make_graph(
        nodes, "cnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 1, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
        [numpy_helper.from_array(v, k) for k, v in inits.items()])
    from rt_import import load_onnx
    mod = load_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)]))
    assert {"conv.weight", "conv.bias", "bn.weight", "fc.weight", "fc.bias"} <= \
        set(dict(mod.named_parameters()))
    x = rt.tensor(rng.standard_normal((2, 1, 4, 4)).astype(np.float32))
    target = rt.tensor(rng.standard_normal((2, 3)).astype(np.float32))
    before = {k: v.detach().numpy().copy() for k, v in mod.named_parameters()}
    loss0 = ((mod(x) - target) ** 2).mean()
    loss0.backward()
    with rt.no_grad():
        for p in mod.parameters():
            if p.grad is not None:
                p.sub_(p.grad * 0.1)
    loss1 = ((mod(x) - target) ** 2).mean()
    assert float(loss1.item()) < float(loss0.item())
    for name in ("conv.weight", "bn.weight", "bn.bias", "fc.weight", "fc.bias"):
        assert not np.array_equal(before[name], dict(mod.named_parameters())[name]
                                  .detach().numpy()), name
    # the graph's statistics are buffers, as PyTorch's running statistics: not trained
    assert "bn.running_mean" not in dict(mod.named_parameters())
    buffers = dict(mod.named_buffers())
    assert {"bn.running_mean", "bn.running_var"} <= set(buffers)
    assert not buffers["bn.running_mean"].requires_grad


# ---- hostile attributes: errors, not allocations -------------------------------------------------

@pytest.mark.parametrize("op, attrs", [
    ("MaxPool", {"kernel_shape": [2, 2], "pads": [1 << 30, 0, 1 << 30, 0]}),
    ("AveragePool", {"kernel_shape": [2, 2], "pads": [0, 1 << 30, 0, 1 << 30]}),
    ("Conv", {"pads": [1 << 30, 0, 0, 1 << 30]}),
    ("Conv", {"pads": [1 << 30, 1 << 30, 1 << 30, 1 << 30]}),
    ("ConvTranspose", {"strides": [1 << 30, 1 << 30]}),
])
def test_huge_pads_and_strides_are_refused(op, attrs):
    inputs = {"x": randn(1, 1, 4, 4)}
    if op.startswith("Conv"):
        inputs["w"] = randn(1, 1, 3, 3)
    with pytest.raises(FormatError, match="elements"):
        run_rt(make_model(op, inputs, attrs, opset=11), inputs)


def test_lrn_huge_size_is_the_whole_channel_window():
    x = randn(1, 3, 2, 2)
    size = 1 << 40
    want = x / (1.0 + 1e-4 / size * (x ** 2).sum(axis=1, keepdims=True)) ** 0.75
    check("LRN", {"x": x}, {"size": size}, opset=13, expected=[want])
