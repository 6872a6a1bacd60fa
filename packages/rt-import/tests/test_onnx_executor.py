"""The ONNX executor (``OnnxModule``'s generated graph function) and the converters' prepared
forms (``registry.preparer``). Both are optimizations only, so the oracle everywhere is the
plain converter call ``fn(node, *inputs)``: the same numbers bit for bit, the same
gradients, the same errors; and the executor must hand every node the values the graph
says, whatever the graph's shape (shared values, unused outputs, outputs that are inputs).
"""
import copy
import functools
import io

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

import rt_autograd as rt
import rt_nn
from rt_import import FormatError, export_onnx, load_onnx
from rt_import.onnx import OnnxModule
from rt_import.onnx import registry
from rt_import.onnx.registry import compile_node

RNG = np.random.default_rng(7)


def _arr(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def _one_node(op, n_inputs, attrs=None, opset=17, n_outputs=1):
    names = [f"i{k}" for k in range(n_inputs)]
    node = helper.make_node(op, names, [f"y{k}" for k in range(n_outputs)], **(attrs or {}))
    graph = helper.make_graph(
        [node], "g", [helper.make_value_info(n, onnx.TypeProto()) for n in names],
        [helper.make_value_info(f"y{k}", onnx.TypeProto()) for k in range(n_outputs)])
    return OnnxModule(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]))


def _np(t):
    return t.detach().float().numpy() if t.dtype == rt.bfloat16 else t.detach().numpy()


def _same(a, b):
    a = a if isinstance(a, (tuple, list)) else (a,)
    b = b if isinstance(b, (tuple, list)) else (b,)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.dtype == y.dtype and tuple(x.shape) == tuple(y.shape)
        np.testing.assert_array_equal(_np(x), _np(y))      # bit for bit (NaNs equal)


# (op, attrs, opset, n_outputs, [input shapes per call...], dtype): every prepared converter,
# on its fast path and on the cases it hands back to the converter
CASES = [
    ("Conv", {"pads": [1, 1, 1, 1]}, 17, 1, [[(1, 3, 8, 8), (4, 3, 3, 3), (4,)],
                                              [(5, 3, 6, 7), (4, 3, 3, 3), (4,)]], np.float32),
    ("Conv", {"pads": [0, 1, 2, 1], "strides": [2, 1]}, 17, 1,
     [[(2, 2, 7, 6), (3, 2, 3, 2)], [(1, 2, 9, 5), (3, 2, 3, 2)]], np.float32),
    ("Conv", {"auto_pad": "SAME_UPPER", "strides": [2, 2]}, 17, 1,
     [[(1, 2, 7, 8), (2, 2, 4, 3), (2,)], [(1, 2, 8, 7), (2, 2, 4, 3), (2,)]], np.float32),
    ("Conv", {"group": 2, "dilations": [2]}, 11, 1, [[(2, 4, 11), (6, 2, 3), (6,)]],
     np.float64),
    ("Conv", {"kernel_shape": [2, 2, 2]}, 22, 1, [[(1, 2, 4, 4, 4), (2, 2, 2, 2, 2)]],
     np.float32),
    ("MaxPool", {"kernel_shape": [2, 2], "strides": [2, 2]}, 17, 1,
     [[(1, 4, 8, 8)], [(3, 4, 6, 10)], [(1, 4, 8, 8)]], np.float32),
    ("MaxPool", {"kernel_shape": [3, 2], "strides": [2, 1], "pads": [1, 0, 1, 0],
                 "ceil_mode": 1}, 17, 1, [[(2, 3, 9, 7)]], np.float64),
    ("MaxPool", {"kernel_shape": [3], "pads": [1, 1], "dilations": [2]}, 12, 1,
     [[(2, 3, 10)]], np.float32),
    ("MaxPool", {"kernel_shape": [2, 2], "auto_pad": "SAME_LOWER"}, 17, 2, [[(1, 2, 5, 5)]],
     np.float32),
    ("MaxPool", {"kernel_shape": [2, 2]}, 12, 1, [[(1, 2, 4, 4)]], np.int8),
    ("AveragePool", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "count_include_pad": 1},
     17, 1, [[(2, 3, 7, 7)], [(1, 3, 5, 9)]], np.float32),
    ("AveragePool", {"kernel_shape": [2, 2, 2], "strides": [2, 2, 2], "ceil_mode": 1}, 19, 1,
     [[(1, 2, 5, 5, 5)]], np.float32),
    ("AveragePool", {"kernel_shape": [2], "strides": [1]}, 19, 1, [[(2, 2, 6)]], np.float16),
    ("Gemm", {"transB": 1}, 13, 1, [[(1, 5), (3, 5), (3,)], [(7, 5), (3, 5), (3,)],
                                    [(4, 5), (3, 5)], [(2, 5), (3, 5), (1, 3)]], np.float32),
    ("Gemm", {"transB": 1, "alpha": 0.5}, 13, 1, [[(2, 4), (3, 4), (3,)]], np.float64),
    ("Gemm", {"transA": 1, "transB": 1}, 13, 1, [[(4, 2), (3, 4), (3,)]], np.float32),
    ("Gemm", {}, 13, 1, [[(2, 4), (4, 3), (2, 3)]], np.float16),
    ("BatchNormalization", {"epsilon": 1e-3}, 15, 1,
     [[(2, 3, 4, 4), (3,), (3,), (3,), (3,)], [(5, 3), (3,), (3,), (3,), (3,)]], np.float32),
    ("BatchNormalization", {}, 9, 1, [[(2, 3, 5), (3,), (3,), (3,), (3,)]], np.float16),
    ("BatchNormalization", {"training_mode": 1}, 15, 3,
     [[(4, 3, 2, 2), (3,), (3,), (3,), (3,)]], np.float32),
    ("Relu", {}, 14, 1, [[(3, 4)], [(2,)]], np.float32),
    ("Relu", {}, 14, 1, [[(3, 4)]], np.int32),
    ("Flatten", {}, 13, 1, [[(2, 3, 4)], [(5,)], [(0, 3, 2)], [(1, 2, 0)]], np.float32),
    ("Flatten", {"axis": 1}, 21, 1, [[(3, 1, 2, 2)]], np.int64),
    ("Flatten", {"axis": -2}, 13, 1, [[(2, 3, 4)]], np.float32),
]


def _inputs(shapes, dtype, op):
    out = []
    for k, s in enumerate(shapes):
        a = _arr(*s, dtype=np.float64) * (3 if np.issubdtype(dtype, np.integer) else 1)
        if op == "BatchNormalization" and k == 4:
            a = np.abs(a) + 0.5                          # a variance
        out.append(rt.tensor(a.astype(dtype)))
    return out


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]}-{c[5].__name__}")
def test_prepared_converters_equal_the_converters(case):
    op, attrs, opset, n_out, calls, dtype = case
    m = _one_node(op, len(calls[0]), attrs, opset, n_out)
    fn, ctx = m._plan[0]
    run = compile_node(fn, ctx)
    for shapes in calls + calls:                 # twice: plans cached per shape are reused
        args = _inputs(shapes, dtype, op)
        _same(run(*args), fn(ctx, *args))
    if op in ("Conv", "MaxPool", "AveragePool", "Gemm", "BatchNormalization", "Relu",
              "Flatten") and not (op == "Gemm" and attrs != {"transB": 1}) and \
            "training_mode" not in attrs and attrs.get("axis", 1) == 1:
        assert not isinstance(run, functools.partial), f"{op} should have a prepared form"


@pytest.mark.parametrize("case", [c for c in CASES if c[5] in (np.float32, np.float64)],
                         ids=lambda c: f"{c[0]}-{c[1]}")
def test_prepared_converters_give_the_converters_gradients(case):
    op, attrs, opset, n_out, calls, dtype = case
    m = _one_node(op, len(calls[0]), attrs, opset, n_out)
    fn, ctx = m._plan[0]
    run = compile_node(fn, ctx)
    grads = []
    values = [a.numpy() for a in _inputs(calls[0], dtype, op)]
    for f in (run, functools.partial(fn, ctx)):
        args = [rt.tensor(v).requires_grad_(True) for v in values]
        out = f(*args)
        y = out[0] if isinstance(out, tuple) else out
        (y * y).sum().backward()
        grads.append([a.grad for a in args])
    for g1, g2 in zip(*grads):
        assert (g1 is None) == (g2 is None)
        if g1 is not None:
            _same(g1, g2)


@pytest.mark.parametrize("op, attrs, shapes, dtypes", [
    ("Conv", {"group": 2}, [(1, 3, 5, 5), (4, 3, 3, 3)], None),
    ("Conv", {"kernel_shape": [2, 2]}, [(1, 3, 5, 5), (4, 3, 3, 3)], None),
    ("Conv", {}, [(1, 3, 2, 2), (4, 3, 3, 3)], None),
    ("MaxPool", {"kernel_shape": [4, 4]}, [(1, 1, 3, 3)], None),
    ("MaxPool", {"kernel_shape": [2]}, [(1, 1, 3, 3)], None),
    ("AveragePool", {"kernel_shape": [2, 2]}, [(1, 1, 3, 3)], [np.int64]),
    ("Gemm", {"transB": 1}, [(2, 4), (3, 5), (3,)], None),
    ("Gemm", {"transB": 1}, [(2, 4), (3, 4), (3,)], [np.float32, np.float64, np.float32]),
    ("Gemm", {"transB": 1}, [(2, 4), (3, 4), (2,)], None),
    ("BatchNormalization", {}, [(2, 3, 4), (4,), (3,), (3,), (3,)], None),
    ("Relu", {}, [(2, 2)], [np.uint8]),
    ("Flatten", {}, [()], None),
])
def test_prepared_converters_raise_the_converters_errors(op, attrs, shapes, dtypes):
    m = _one_node(op, len(shapes), attrs)
    fn, ctx = m._plan[0]
    run = compile_node(fn, ctx)
    dtypes = dtypes or [np.float32] * len(shapes)
    if len(dtypes) == 1:
        dtypes = dtypes * len(shapes)
    args = [rt.tensor((np.abs(_arr(*s)) * 2).astype(d)) for s, d in zip(shapes, dtypes)]
    with pytest.raises(FormatError) as plain:
        fn(ctx, *args)
    with pytest.raises(FormatError) as prepared:
        run(*args)
    assert str(prepared.value) == str(plain.value)
    with pytest.raises(FormatError):             # a failed plan is not kept
        run(*args)


@pytest.mark.parametrize("attrs, prepared", [
    ({"value": numpy_helper.from_array(np.arange(3, dtype=np.int64))}, True),
    ({"value_ints": [1, 2]}, False), ({"value_float": 2.5}, False)])
def test_prepared_constant_is_the_converters_tensor(attrs, prepared):
    node = helper.make_node("Constant", [], ["y"], **attrs)
    g = helper.make_graph([node], "g", [], [helper.make_value_info("y", onnx.TypeProto())])
    m = OnnxModule(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]))
    fn, ctx = m._plan[0]
    run = compile_node(fn, ctx)
    assert isinstance(run, functools.partial) != prepared
    _same(run(), fn(ctx))
    if prepared:
        assert run() is fn(ctx) is m()          # the attribute's tensor, as before


@pytest.mark.parametrize("opset, attrs", [(13, {}), (19, {}), (19, {"start": 1}),
                                          (19, {"end": -1})])
def test_prepared_shape_equals_the_converter(opset, attrs):
    m = _one_node("Shape", 1, attrs, opset)
    fn, ctx = m._plan[0]
    run = compile_node(fn, ctx)
    assert isinstance(run, functools.partial) == bool(attrs)
    for x in (rt.ones(2, 3, 4), rt.ones(()), rt.ones(0, 5)):
        _same(run(x), fn(ctx, x))


def test_prepare_leaves_malformed_attributes_to_the_converter():
    m = _one_node("Gemm", 3, {"alpha": "x", "transB": 1})      # a STRING alpha
    fn, ctx = m._plan[0]
    assert isinstance(compile_node(fn, ctx), functools.partial)
    with pytest.raises(ValueError):
        m(rt.ones(2, 3), rt.ones(4, 3), rt.ones(4))


# ---- the executor ---------------------------------------------------------------------------

def _graph(nodes, inputs, outputs, initializers=(), opset=17):
    g = helper.make_graph(nodes, "g", [helper.make_value_info(n, onnx.TypeProto())
                                       for n in inputs],
                          [helper.make_value_info(n, onnx.TypeProto()) for n in outputs],
                          list(initializers))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def test_values_read_by_several_nodes_and_outputs_that_are_inputs_or_initializers():
    w = numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(2, 3), "w")
    model = _graph([helper.make_node("Relu", ["x"], ["r"]),
                    helper.make_node("Mul", ["r", "r"], ["sq"]),
                    helper.make_node("Split", ["sq"], ["a", "unused", "c"], axis=1),
                    helper.make_node("Add", ["a", "r"], ["s"]),
                    helper.make_node("Neg", ["r"], ["n"])],
                   ["x"], ["s", "n", "r", "x", "w", "c"], [w])
    m = OnnxModule(model)
    x = _arr(2, 3)
    got = m(rt.tensor(x))
    ref = ReferenceEvaluator(model).run(None, {"x": x})
    assert len(got) == 6
    for g, r in zip(got, ref):
        np.testing.assert_array_equal(_np(g), r)
    assert got[4] is m.w                              # an initializer output is the parameter


def test_a_name_defined_twice_reads_its_latest_value():
    # not SSA (the checker refuses it, OnnxModule runs it as written, in order)
    model = _graph([helper.make_node("Neg", ["x"], ["t"]),
                    helper.make_node("Relu", ["t"], ["r"]),
                    helper.make_node("Neg", ["r"], ["t"]),
                    helper.make_node("Add", ["t", "x"], ["y"])],
                   ["x"], ["y", "r"])
    x = _arr(3, 2)
    y, r = OnnxModule(model)(rt.tensor(x))
    np.testing.assert_array_equal(_np(r), np.maximum(-x, 0))
    np.testing.assert_array_equal(_np(y), -np.maximum(-x, 0) + x)


def test_a_node_that_returns_too_few_outputs_is_a_format_error(monkeypatch):
    def two(node, x):
        return (x,)
    monkeypatch.setitem(registry._CONVERTERS, ("test.rt", "Two"), [(1, two)])
    g = helper.make_graph([helper.make_node("Two", ["x"], ["a", "b"], domain="test.rt"),
                           helper.make_node("Neg", ["b"], ["y"])], "g",
                          [helper.make_value_info("x", onnx.TypeProto())],
                          [helper.make_value_info("y", onnx.TypeProto())])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                                helper.make_opsetid("test.rt", 1)])
    with pytest.raises(FormatError, match="produced no output 1"):
        OnnxModule(model)(rt.ones(2))
    # an output nothing reads may be missing
    g.output[0].name = "a"
    del g.node[1]
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                                helper.make_opsetid("test.rt", 1)])
    assert OnnxModule(model)(rt.ones(2)).tolist() == [1.0, 1.0]


def _conv_relu_model(extra_nodes=(), outputs=("y",)):
    rng = np.random.default_rng(5)                     # the same weights in every call
    w = numpy_helper.from_array(rng.standard_normal((4, 2, 3, 3)).astype(np.float32),
                                "conv.weight")
    b = numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "conv.bias")
    return _graph([helper.make_node("Conv", ["x", "conv.weight", "conv.bias"], ["c"],
                                    pads=[1, 1, 1, 1]),
                   helper.make_node("Relu", ["c"], ["y"])] + list(extra_nodes),
                  ["x"], list(outputs), [w, b])


def _absorbed(m):
    return [(ctx.op_type, ctx.absorbed_ops or None, ctx.absorbed_into) for _, ctx in m._plan]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_absorbs_the_relu_that_alone_reads_it(dtype):
    model = _conv_relu_model()
    if dtype == np.float64:
        for init in model.graph.initializer:
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init).astype(dtype),
                                                  init.name))
    m = OnnxModule(model)
    assert _absorbed(m) == [("Conv", ("Relu",), False), ("Relu", None, True)]
    x = _arr(2, 2, 5, 6, dtype=dtype)
    ref = ReferenceEvaluator(model).run(None, {"x": x})[0]
    tol = 1e-12 if dtype == np.float64 else 1e-5
    with rt.no_grad():                                  # the kernel's fused epilogue
        np.testing.assert_allclose(_np(m(rt.tensor(x))), ref, rtol=tol, atol=tol)
    # with autograd: conv then relu as two recorded ops, the same numbers and gradients
    xt = rt.tensor(x, requires_grad=True)
    y = m(xt)
    assert y.grad_fn.name() == "ReluBackward0"
    np.testing.assert_allclose(_np(y), ref, rtol=tol, atol=tol)
    y.sum().backward()
    unfused_model = _conv_relu_model(outputs=("y", "c"))        # c returned: not absorbed
    for init, src in zip(unfused_model.graph.initializer, model.graph.initializer):
        init.CopyFrom(src)
    unfused = OnnxModule(unfused_model)
    assert _absorbed(unfused)[0][1] is None
    xu = rt.tensor(x, requires_grad=True)
    unfused(xu)[0].sum().backward()
    np.testing.assert_array_equal(_np(xt.grad), _np(xu.grad))
    np.testing.assert_array_equal(_np(m.conv.weight.grad), _np(unfused.conv.weight.grad))


def test_conv_keeps_its_relu_when_the_value_is_needed_elsewhere():
    # read by a second node, returned, or defined twice: Conv and Relu stay two nodes
    read_twice = _conv_relu_model([helper.make_node("Neg", ["c"], ["n"])], ("y", "n"))
    redefined = _graph([helper.make_node("Conv", ["x", "w"], ["c"]),
                        helper.make_node("Neg", ["x"], ["c"]),
                        helper.make_node("Relu", ["c"], ["y"])], ["x", "w"], ["y"])
    for model in (read_twice, _conv_relu_model(outputs=("c", "y")), redefined):
        m = OnnxModule(model)
        assert all(a is None and not into for _, a, into in _absorbed(m))
    x = _arr(1, 2, 4, 4)
    w = _arr(3, 2, 1, 1)
    with rt.no_grad():
        y, n = OnnxModule(read_twice)(rt.tensor(x))
    ref_y, ref_n = ReferenceEvaluator(read_twice).run(None, {"x": x})
    np.testing.assert_allclose(_np(y), ref_y, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_np(n), ref_n, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(_np(OnnxModule(redefined)(rt.tensor(x), rt.tensor(w))),
                                  np.maximum(-x, 0))


def _conv_chain_model(chain, pool_attrs=None, n_pool_outputs=1):
    """x -> Conv (4 -> 6 channels, 3x3, pads 1) -> the ops of ``chain`` -> y (and the pool's
    Indices when asked), the weights the same in every call."""
    rng = np.random.default_rng(7)
    inits = [numpy_helper.from_array(rng.standard_normal((6, 4, 3, 3)).astype(np.float32), "w"),
             numpy_helper.from_array(rng.standard_normal(6).astype(np.float32), "b")]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["t0"], pads=[1, 1, 1, 1])]
    outputs = []
    for k, op in enumerate(chain):
        out = "y" if k == len(chain) - 1 else f"t{k + 1}"
        if op == "MaxPool":
            attrs = pool_attrs if pool_attrs is not None else {"kernel_shape": [2, 2],
                                                                "strides": [2, 2]}
            names = [out] + (["idx"] if n_pool_outputs == 2 else [])
            outputs += names[1:]
            nodes.append(helper.make_node("MaxPool", [f"t{k}"], names, **attrs))
        else:
            nodes.append(helper.make_node(op, [f"t{k}"], [out]))
    return _graph(nodes, ["x"], ["y"] + outputs, inits)


@pytest.mark.parametrize("chain, fused", [
    (("Relu", "MaxPool"), ("Relu", "MaxPool")), (("MaxPool",), ("MaxPool",)),
    (("MaxPool", "Relu"), ("MaxPool",)), (("Relu", "Relu"), ("Relu",)),
    (("Relu", "MaxPool", "Relu"), ("Relu", "MaxPool"))])
@pytest.mark.parametrize("size", [(2, 4, 8, 10), (1, 4, 7, 5), (3, 4, 1, 3)])
def test_conv_absorbs_relu_then_a_2x2_max_pool(chain, fused, size):
    model = _conv_chain_model(chain)
    m = OnnxModule(model)
    assert m._plan[0][1].absorbed_ops == fused
    x = RNG.standard_normal(size).astype(np.float32)
    x[0, 0, 0, :2] = np.nan                              # NaN reaches some windows
    # the fused kernel's bits are those of the same nodes run one by one (no absorption)
    unfused = OnnxModule(_conv_chain_model(chain))
    for _, ctx in unfused._plan:
        ctx.absorbed, ctx.absorbed_into = (), False
    unfused._compile()
    if size[2] == 1 and "MaxPool" in chain:              # a 1x3 output: no 2x2 window fits
        for module in (m, unfused):
            with rt.no_grad(), pytest.raises(FormatError, match="does not fit the padded"):
                module(rt.tensor(x))
        return
    ref = ReferenceEvaluator(model).run(None, {"x": x})[0]
    with rt.no_grad():
        got = _np(m(rt.tensor(x)))
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)
    with rt.no_grad():
        np.testing.assert_array_equal(_np(unfused(rt.tensor(x))), got)
    # with autograd: the unfused ops, the same gradients
    xt, xu = rt.tensor(x, requires_grad=True), rt.tensor(x, requires_grad=True)
    gy = RNG.standard_normal(ref.shape).astype(np.float32)
    (m(xt) * rt.tensor(gy)).nan_to_num().sum().backward()
    (unfused(xu) * rt.tensor(gy)).nan_to_num().sum().backward()
    np.testing.assert_array_equal(_np(xt.grad), _np(xu.grad))
    np.testing.assert_array_equal(_np(m.w.grad), _np(unfused.w.grad))


@pytest.mark.parametrize("attrs, n_outputs", [
    ({"kernel_shape": [2, 2]}, 1),                                   # stride 1
    ({"kernel_shape": [2, 2], "strides": [2, 2], "pads": [0, 0, 1, 1]}, 1),
    ({"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}, 1),
    ({"kernel_shape": [2, 2], "strides": [2, 2], "dilations": [2, 2]}, 1),
    ({"kernel_shape": [3, 3], "strides": [2, 2]}, 1),
    ({"kernel_shape": [2, 2], "strides": [2, 2], "auto_pad": "SAME_UPPER"}, 1),
    ({"kernel_shape": [2, 2], "strides": [2, 2]}, 2),                # Indices asked for
])
def test_conv_leaves_other_max_pools_alone(attrs, n_outputs):
    model = _conv_chain_model(("Relu", "MaxPool"), attrs, n_outputs)
    m = OnnxModule(model)
    assert m._plan[0][1].absorbed_ops == ("Relu",)
    x = RNG.standard_normal((2, 4, 9, 8)).astype(np.float32)
    with rt.no_grad():
        got = m(rt.tensor(x))
    ref = ReferenceEvaluator(model).run(None, {"x": x})
    got = got if isinstance(got, tuple) else (got,)
    for g, r in zip(got, ref):
        np.testing.assert_allclose(_np(g), r, rtol=1e-5, atol=1e-5)


def test_conv_keeps_its_relu_when_a_sub_graph_reads_the_value(monkeypatch):
    # a node holding a sub-graph (If/Loop style) that reads the Conv's output by name
    def body_op(node, x):
        return x
    monkeypatch.setitem(registry._CONVERTERS, ("test.rt", "Body"), [(1, body_op)])
    body = helper.make_graph([helper.make_node("Identity", ["c"], ["inner"])], "body", [],
                             [helper.make_value_info("inner", onnx.TypeProto())])
    g = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["c"]),
                           helper.make_node("Relu", ["c"], ["y"]),
                           helper.make_node("Body", ["x"], ["z"], domain="test.rt", body=body)],
                          "g", [helper.make_value_info(n, onnx.TypeProto()) for n in "xw"],
                          [helper.make_value_info(n, onnx.TypeProto()) for n in "yz"])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                                helper.make_opsetid("test.rt", 1)])
    assert all(a is None and not into for _, a, into in _absorbed(OnnxModule(model)))
    del model.graph.node[2].attribute[:]       # no sub-graph: the Relu is absorbed
    assert _absorbed(OnnxModule(model))[:2] == [("Conv", ("Relu",), False),
                                                ("Relu", None, True)]


def _mlp_model():
    w1 = numpy_helper.from_array(_arr(4, 3), "fc1.weight")
    b1 = numpy_helper.from_array(_arr(4), "fc1.bias")
    shape = numpy_helper.from_array(np.array([-1, 2, 2], np.int64), "shape")
    return _graph([helper.make_node("Gemm", ["x", "fc1.weight", "fc1.bias"], ["h"], transB=1),
                   helper.make_node("Relu", ["h"], ["r"]),
                   helper.make_node("Reshape", ["r", "shape"], ["y"])],
                  ["x"], ["y"], [w1, b1, shape])


def test_replaced_parameters_and_buffers_are_used():
    m = OnnxModule(_mlp_model())
    x = rt.tensor(_arr(5, 3))
    before = _np(m(x))
    m.fc1.weight = rt_nn.Parameter(m.fc1.weight.detach() * 2)
    m.fc1.bias = rt_nn.Parameter(m.fc1.bias.detach() * 2)
    np.testing.assert_allclose(_np(m(x)), 2 * before, rtol=1e-6)
    m.load_state_dict({"fc1.weight": m.fc1.weight.detach() / 2,
                       "fc1.bias": m.fc1.bias.detach() / 2, "shape": rt.tensor([-1, 4, 1])})
    np.testing.assert_allclose(_np(m(x)), before.reshape(5, 4, 1), rtol=1e-6)
    m.shape = rt.tensor([5, 2, 2])                   # a buffer replaced
    assert tuple(m(x).shape) == (5, 2, 2)
    # a parameter turned into a buffer under the same name
    w = m.fc1.weight.detach()
    del m.fc1.weight
    m.fc1.register_buffer("weight", w * 0)
    np.testing.assert_array_equal(_np(m(x)), np.broadcast_to(
        np.maximum(_np(m.fc1.bias), 0).reshape(1, 2, 2), (5, 2, 2)))


def test_gradients_reach_the_named_parameters():
    m = OnnxModule(_mlp_model())
    m(rt.tensor(_arr(5, 3))).sum().backward()
    assert m.fc1.weight.grad is not None and m.fc1.bias.grad is not None
    assert sorted(n for n, _ in m.named_parameters()) == ["fc1.bias", "fc1.weight"]


def test_a_deep_copy_runs_its_own_parameters():
    m = OnnxModule(_mlp_model())
    x = rt.tensor(_arr(2, 3))
    c = copy.deepcopy(m)
    with rt.no_grad():
        c.fc1.bias.add_(100.0)
    assert np.all(_np(c(x)) > _np(m(x)))
    np.testing.assert_array_equal(_np(copy.deepcopy(m)(x)), _np(m(x)))


def test_wrong_input_count_is_a_type_error():
    m = OnnxModule(_mlp_model())
    with pytest.raises(TypeError, match="takes 1 input"):
        m(rt.ones(2, 3), rt.ones(2, 3))
    assert m(np.ones((2, 3), np.float32)).shape == (2, 2, 2)     # arrays are converted


def test_an_imported_model_exports_after_running_and_runs_after_exporting():
    # plans cached by a real call must not leak into a trace with symbolic sizes, and a
    # trace's plans must not be reused afterwards
    model = rt_nn.Sequential(rt_nn.Conv2d(2, 3, 3, padding=1), rt_nn.ReLU(),
                             rt_nn.MaxPool2d(2), rt_nn.Flatten(), rt_nn.Linear(3 * 4 * 4, 5))
    model.eval()
    x = rt.randn(2, 2, 8, 8)
    buf = io.BytesIO()
    export_onnx(model, x, buf, input_names=["x"], dynamic_axes={"x": [0]})
    imported = load_onnx(buf.getvalue()).eval()
    # Conv absorbed ReLU and MaxPool(2): the fused kernel's numbers are exported and checked
    assert imported._plan[0][1].absorbed_ops == ("Relu", "MaxPool")
    with rt.no_grad():
        first = imported(x)
    for batch in (3, 1):
        again = io.BytesIO()
        export_onnx(imported, rt.randn(batch, 2, 8, 8), again, input_names=["x"],
                    dynamic_axes={"x": [0]})
        y = _arr(4, 2, 8, 8)
        got = ReferenceEvaluator(onnx.load_from_string(again.getvalue())).run(None, {"x": y})
        with rt.no_grad():
            np.testing.assert_allclose(got[0], _np(imported(rt.tensor(y))), rtol=1e-5,
                                       atol=1e-6)
    with rt.no_grad():
        _same(imported(x), first)


def test_hostile_value_names_never_reach_the_generated_code(tmp_path):
    """The graph function is generated source: names from the file must never be spliced
    into it (initializer and value names below are Python code; nothing may run)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    import rt_import

    marker = tmp_path / "pwned"
    evil = f"a')+__import__('os').system('touch {marker}')+('"
    w = numpy_helper.from_array(np.full((2,), 3.0, np.float32), evil)
    g = helper.make_graph(
        [helper.make_node("Mul", ["x;import os", evil], ["y\n__import__('os')"]),
         helper.make_node("Relu", ["y\n__import__('os')"], ["out"])],
        "g", [helper.make_tensor_value_info("x;import os", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [2])], [w])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    m = rt_import.load_onnx(model.SerializeToString())
    out = m(np.array([1.0, -2.0], np.float32))
    assert out.tolist() == [3.0, 0.0]
    assert not marker.exists()


def test_a_deep_copy_has_its_own_parameters_and_follows_its_own_training_flag():
    # Dropout without a training_mode input follows module.training; a deep copy (e.g. the
    # "best model" snapshot of a training loop) must follow the copy's flag, not the original's
    from onnx import TensorProto
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 1000])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 1000])
    w = helper.make_tensor("w", TensorProto.FLOAT, [1000], np.ones(1000, np.float32))
    r = helper.make_tensor("r", TensorProto.FLOAT, [], [0.5])
    graph = helper.make_graph([helper.make_node("Mul", ["x", "w"], ["h"]),
                               helper.make_node("Dropout", ["h", "r"], ["y"])],
                              "g", [x], [y], [w, r])
    original = load_onnx(helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)]))
    clone = copy.deepcopy(original)
    ones = rt.ones(4, 1000)
    original.eval()
    clone.train()
    assert (original(ones) == 1).all().item()
    assert (clone(ones) == 0).any().item()
    original.train()
    clone.eval()
    assert (original(ones) == 0).any().item()
    assert (clone(ones) == 1).all().item()
    with rt.no_grad():
        for p in clone.parameters():
            if p.numel() == 1000:          # w (the ratio is an initializer too)
                p.fill_(2.0)
    original.eval()
    np.testing.assert_array_equal(clone(ones).detach().numpy(), np.full((4, 1000), 2.0, np.float32))
    np.testing.assert_array_equal(original(ones).detach().numpy(), np.ones((4, 1000), np.float32))
