"""rt_import.export_onnx: traced graphs that pass onnx.checker's full check and compute what rt
computes. The oracles are the ONNX reference implementation (onnx.reference.ReferenceEvaluator)
and the round trip through rt_import.load_onnx; onnxruntime runs the same kinds of models in
integration_tests/parity/test_onnx_export_parity.py."""
import io
import os
import threading

import numpy as np
import onnx
import pytest
from onnx.reference import ReferenceEvaluator

import rt_autograd as rt
import rt_nn as nn
import rt_nn.functional as F
import rt_tensor as rtt
import rt_import
from rt_import import OnnxExportError, export_onnx, load_onnx
from rt_import.onnx import _trace


class Fn(nn.Module):
    """A module around a function (for op-level cases)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *args):
        return self.fn(*args)


def _leaves(out):
    if isinstance(out, (tuple, list)):
        return [y for o in out for y in _leaves(o)]
    return [out]


def _np(t):
    return t.detach().numpy()


def _rt_outputs(model, inputs):
    kwargs = {}
    if inputs and isinstance(inputs[-1], dict):
        inputs, kwargs = inputs[:-1], inputs[-1]
    model.eval()
    with rt.no_grad():
        return [_np(o) for o in _leaves(model(*inputs, **kwargs))]


def _tensors(inputs):
    out = []
    for x in inputs:
        out.extend(_tensors(list(x.values())) if isinstance(x, dict) else
                   _tensors(x) if isinstance(x, (list, tuple)) else [x])
    return [x for x in out if isinstance(x, rt.Tensor)]


def check(model, inputs, opset=17, rtol=1e-5, atol=1e-6, round_trip=True, **kw):
    """Export, run onnx.checker (full), compare the reference evaluator and the load_onnx round
    trip with rt's outputs; returns the ModelProto."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,)
    buf = io.BytesIO()
    flags = [m.training for m in model.modules()]
    proto = export_onnx(model, inputs, buf, opset=opset, **kw)
    assert [m.training for m in model.modules()] == flags      # eval only during the trace
    assert buf.getvalue() == proto.SerializeToString()
    onnx.checker.check_model(proto, full_check=True)
    want = _rt_outputs(model, inputs)
    feeds = {i.name: _np(x) for i, x in zip(proto.graph.input, _tensors(inputs))}
    with np.errstate(all="ignore"):          # x / 0 in the reference's numpy
        got = ReferenceEvaluator(proto).run(None, feeds)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)
    if round_trip:
        imported = load_onnx(buf.getvalue())
        imported.eval()
        with rt.no_grad():
            back = _leaves(imported(*_tensors(inputs)))
        for g, w in zip(back, want):
            np.testing.assert_allclose(_np(g), w, rtol=rtol, atol=atol)
    return proto


def ops(proto):
    return [n.op_type for n in proto.graph.node]


# ---- the models the exporter is for --------------------------------------------------------

@pytest.mark.parametrize("act", [nn.ReLU, nn.GELU, nn.Sigmoid, nn.Tanh])
def test_mlp(act):
    rt.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), act(), nn.Dropout(0.3), nn.Linear(16, 4),
                          nn.LogSoftmax(dim=1))
    proto = check(model, rt.randn(5, 6))
    assert [i.name for i in proto.graph.initializer] == list(model.state_dict())
    assert ops(proto)[0] == "Gemm" and "Dropout" not in ops(proto)


def test_mlp_softmax_and_names():
    rt.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.Softmax(dim=-1))
    proto = check(model, rt.randn(2, 3), input_names=["features"], output_names=["probs"])
    assert [i.name for i in proto.graph.input] == ["features"]
    assert [o.name for o in proto.graph.output] == ["probs"]
    assert ops(proto) == ["Gemm", "Relu", "Gemm", "Softmax"]
    assert proto.producer_name == "rt_import"


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, stride=2, padding=2, dilation=2, groups=4, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.avg = nn.AvgPool2d(2, stride=1)
        self.gap = nn.AdaptiveAvgPool2d((1, 1))
        self.flat = nn.Flatten()
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.pool(y)
        z = self.bn2(self.conv2(y))
        z = z + self.avg(F.pad(z, (0, 1, 0, 1)))             # a residual add
        z = rt.cat([z, y[:, :, ::2, ::2]], dim=1)
        h = self.flat(self.gap(z))
        h = h.view(h.size(0), -1)
        return self.fc(h)


def _trained_bn(model):
    """BatchNorm running statistics that are not the defaults."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(rt.randn(m.num_features) * 0.1)
            m.running_var.copy_(rt.rand(m.num_features) + 0.5)
            with rt.no_grad():
                m.weight.copy_(rt.rand(m.num_features) + 0.5)
                m.bias.copy_(rt.randn(m.num_features) * 0.1)
    return model


def test_cnn():
    rt.manual_seed(2)
    model = _trained_bn(SmallCNN())
    proto = check(model, rt.randn(2, 3, 16, 16), rtol=1e-4, atol=1e-5)
    kinds = ops(proto)
    for op in ("Conv", "BatchNormalization", "MaxPool", "AveragePool", "GlobalAveragePool",
               "Flatten", "Concat", "Add", "Gemm", "Pad"):
        assert op in kinds, op
    conv2 = next(n for n in proto.graph.node if n.name == "/conv2/Conv")
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in conv2.attribute}
    assert attrs["group"] == 4 and attrs["strides"] == [2, 2] and attrs["dilations"] == [2, 2]
    assert attrs["pads"] == [2, 2, 2, 2]
    names = {i.name for i in proto.graph.initializer}
    assert names == set(model.state_dict()) - {"bn1.num_batches_tracked",
                                               "bn2.num_batches_tracked"}


def test_conv1d_and_layernorm_transformer_block():
    rt.manual_seed(3)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(4, 4, 3, padding=1, groups=2)
            self.ln = nn.LayerNorm(4)
            self.q = nn.Linear(4, 4)

        def forward(self, x):                      # x: (N, C, L)
            h = self.conv(x).permute(0, 2, 1)       # (N, L, C)
            h = self.ln(h)
            q = self.q(h)
            att = (q @ h.transpose(1, 2)) * 0.5
            att = F.softmax(att, dim=-1)
            return (att @ h).transpose(1, 2) + x

    proto = check(Block(), rt.randn(2, 4, 7), rtol=1e-4, atol=1e-5)
    assert "LayerNormalization" in ops(proto) and "MatMul" in ops(proto)


def test_elementwise_with_tensors_and_scalars():
    def f(a, b):
        y = (a + b) * 2.0 - 1 / (b.abs() + 1) + a ** 2 - (3 - a) / 4
        y = y + rt.maximum(a, b) - rt.minimum(a, 0.5 * b)
        return y.exp().log1p(), rt.sqrt(a.abs()), -a, a.clamp(-0.5, 0.5), a.sigmoid().tanh()
    rt.manual_seed(4)
    check(Fn(f), (rt.randn(3, 4), rt.randn(4)))


def test_integer_and_comparison_ops():
    def f(a, b):
        return (a // b, a % b, a * 3 - b, a.div(b, rounding_mode="trunc"), a / b,
                (a > b) & (a != 0), rt.where(a >= b, a, b), (a == b).float())
    a = rt.tensor([[7, -7, 5], [-3, 0, 9]])
    b = rt.tensor([2, 3, -4])
    check(Fn(f), (a, b))


def test_shape_ops():
    def f(x):
        return (x.view(3, -1), x.reshape(-1), x.flatten(1), x.permute(2, 0, 1),
                x.transpose(0, 2), x.unsqueeze(1).squeeze(1), x[:, 0], x[..., 1:3],
                x[None, :, ::2], x.expand(2, 3, 4, 5), x.repeat(1, 2, 1), x.flip(1),
                x.chunk(2, 1)[1], x.split([1, 3], 1)[0], rt.stack([x, x], 1), x.mT, x.t()
                if x.dim() == 2 else x.movedim(0, 2), x.narrow(2, 1, 3), x.select(1, 2))
    check(Fn(f), rt.randn(3, 4, 5))


def test_reductions_and_indexing():
    def f(x, i):
        return (x.sum(), x.sum(1), x.mean((0, 2), keepdim=True), x.amax(-1), x.max(1)[0],
                x.max(1)[1], x.argmax(), x.var(1), x.std(), x.logsumexp(1), x.norm(),
                x.cumsum(1), x[i], x.index_select(1, i), x.softmax(2), x.log_softmax(0))
    rt.manual_seed(5)
    check(Fn(f), (rt.randn(3, 4, 5), rt.tensor([2, 0])), rtol=1e-5, atol=1e-5)


def test_more_ops():
    def f(a, b, i):
        return (a.trunc(), rt.isposinf(a / 0), rt.nan_to_num(a / 0), rt.addcmul(a, a, b),
                rt.addcdiv(a, a, b.abs() + 1, value=2), rt.lerp(a, b, 0.25),
                rt.take_along_dim(a, i.view(1, -1).expand(4, 2), 1), a.roll((1, -2), (0, 1)),
                (a > 0).all(0), (a > 0).any(), rt.var_mean(a, 1), a.norm(3, dim=0),
                rt.clamp(a, b[:1], b[1:2]), a.new_full((2, 2), 3.0), a[[0, 2]],
                a[:, [1, 1, 0]], F.rrelu(a), F.instance_norm(a.unsqueeze(0)),
                F.pixel_shuffle(rt.cat([a, a], 0).reshape(1, 2, 4, 2, 3), 2),
                F.pixel_unshuffle(a.reshape(1, 4, 6), 2), a.masked_fill(a > 0, b[0, 0]),
                F.interpolate(a[None], scale_factor=2), rt.tril(a, -1), rt.triu(a, 2),
                rt.xlogy(a.clamp(min=0), b.abs()),
                F.kl_div(F.log_softmax(a, 1), F.softmax(b, 1), reduction="batchmean"))
    rt.manual_seed(12)
    for opset in (11, 17):
        check(Fn(f), (rt.randn(4, 6), rt.randn(4, 6), rt.tensor([2, 0])), opset=opset)


def test_data_dependent_shapes_and_sorting():
    # NonZero's output shape comes from the data; TopK gives sort, argsort and topk
    def f(a):
        return a.nonzero(), a.argsort(1), a.sort(0, descending=True)[0], a.topk(2)[1]
    rt.manual_seed(13)
    check(Fn(f), rt.randn(4, 6), round_trip=False)


def test_bitwise_needs_opset_18():
    f = Fn(lambda a, b: (a & b, a | b, a ^ b, ~a))
    a, b = rt.tensor([[7, 3], [1, 12]]), rt.tensor([5, 6])
    with pytest.raises(OnnxExportError, match="opset 18"):
        export_onnx(f, (a, b), io.BytesIO())
    check(f, (a, b), opset=18)


def test_embedding_mixed_dtypes():
    rt.manual_seed(6)

    class Emb(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10, 4)
            self.fc = nn.Linear(4, 2).double()

        def forward(self, idx):
            return self.fc(self.emb(idx).double()).mean(1)
    proto = check(Emb(), rt.tensor([[1, 2, 3], [9, 0, 4]]))
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    assert proto.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE


@pytest.mark.parametrize("opset", [11, 13, 14, 17, 18, 20, 21])
def test_opsets(opset):
    rt.manual_seed(7)

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 4, 3, padding=1)
            self.ln = nn.LayerNorm(4)
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            y = F.gelu(self.conv(x)).mean((2, 3))
            y = self.ln(y).unsqueeze(1).squeeze(1)
            z = F.hardswish(y).split(2, 1)[0]
            return F.log_softmax(self.fc(y), dim=0), z.sum(1), rt.tril(y @ y.t())
    proto = check(M(), rt.randn(3, 2, 5, 5), opset=opset, rtol=1e-4, atol=1e-5)
    assert proto.opset_import[0].version == opset
    assert proto.ir_version == onnx.helper.find_min_ir_version_for(list(proto.opset_import))
    if opset >= 17:
        assert "LayerNormalization" in ops(proto)
    if opset >= 20:
        assert "Gelu" in ops(proto)


# ---- dynamic axes --------------------------------------------------------------------------

def test_dynamic_batch():
    rt.manual_seed(8)
    model = _trained_bn(SmallCNN())
    buf = io.BytesIO()
    proto = export_onnx(model, rt.randn(2, 3, 16, 16), buf, input_names=["image"],
                        output_names=["logits"], dynamic_axes={"image": {0: "batch"},
                                                               "logits": [0]})
    onnx.checker.check_model(proto, full_check=True)
    in_dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert in_dims[0].dim_param == "batch" and [d.dim_value for d in in_dims[1:]] == [3, 16, 16]
    out_dims = proto.graph.output[0].type.tensor_type.shape.dim
    assert out_dims[0].dim_param == "logits_dynamic_axes_1" and out_dims[1].dim_value == 5
    reshape_shapes = [n for n in proto.graph.node if n.op_type == "Reshape"]
    for batch in (1, 5):
        x = rt.randn(batch, 3, 16, 16)
        got = ReferenceEvaluator(proto).run(None, {"image": _np(x)})[0]
        np.testing.assert_allclose(got, _rt_outputs(model, (x,))[0], rtol=1e-4, atol=1e-5)
    assert reshape_shapes                          # h.view(h.size(0), -1) copies dim 0


def test_dynamic_axes_symbolic_outputs_and_flatten():
    model = Fn(lambda x: (x.flatten(0, 1), x.reshape(x.shape[0], 2, -1).sum(2)))
    x = rt.randn(4, 3, 6)
    proto = export_onnx(model, x, io.BytesIO(), input_names=["x"],
                        dynamic_axes={"x": {0: "n"}})
    dims = [[d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim]
            for o in proto.graph.output]
    assert dims[1] == ["n", 2]
    y = rt.randn(7, 3, 6)
    got = ReferenceEvaluator(proto).run(None, {"x": _np(y)})
    want = _rt_outputs(model, (y,))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_sizes_read_from_symbolic_dims_are_computed():
    def f(x):
        n, t = x.shape[0], x.size(1)
        pos = rt.arange(t).float().unsqueeze(-1)
        flat = x.reshape(n * t, -1)
        return (x + pos, rt.zeros(n, 3), flat[: n * t // 2], x.new_ones(n, 2),
                x[:, :1].expand(n, t, 4), x.narrow(1, 1, t - 1), rt.full((n,), 2.0) * x.numel())
    model = Fn(f)
    proto = export_onnx(model, rt.randn(2, 5, 4), io.BytesIO(), input_names=["x"],
                        dynamic_axes={"x": {0: "n", 1: "t"}})
    onnx.checker.check_model(proto, full_check=True)
    assert {"Range", "ConstantOfShape", "Shape"} <= set(ops(proto))
    dims = [[d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim]
            for o in proto.graph.output]
    assert dims[0] == ["n", "t", 4] and dims[1] == ["n", 3] and dims[3] == ["n", 2]
    for shape in ((2, 5, 4), (3, 7, 4), (1, 2, 4)):
        y = rt.randn(*shape)
        got = ReferenceEvaluator(proto).run(None, {"x": _np(y)})
        for g, w in zip(got, _rt_outputs(model, (y,))):
            assert g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_transformer_dynamic_batch_and_sequence():
    rt.manual_seed(11)
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    proto = export_onnx(layer, rt.randn(2, 5, 8), io.BytesIO(), input_names=["x"],
                        dynamic_axes={"x": {0: "batch", 1: "seq"}})
    out = proto.graph.output[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in out] == ["batch", "seq", 8]
    for shape in ((1, 3, 8), (4, 7, 8)):
        y = rt.randn(*shape)
        got = ReferenceEvaluator(proto).run(None, {"x": _np(y)})[0]
        np.testing.assert_allclose(got, _rt_outputs(layer, (y,))[0], rtol=1e-4, atol=1e-5)


def test_dynamic_axes_errors():
    m = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="not a graph input or output"):
        export_onnx(m, rt.randn(2, 3), io.BytesIO(), dynamic_axes={"nope": [0]})
    with pytest.raises(ValueError, match="out of range"):
        export_onnx(m, rt.randn(2, 3), io.BytesIO(), input_names=["x"],
                    dynamic_axes={"x": [2]})
    with pytest.raises(TypeError):
        export_onnx(m, rt.randn(2, 3), io.BytesIO(), input_names=["x"],
                    dynamic_axes={"x": {0: 5}})


# ---- files ---------------------------------------------------------------------------------

def test_writes_file_atomically_and_round_trips(tmp_path):
    rt.manual_seed(9)
    model = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 1))
    path = tmp_path / "m.onnx"
    proto = export_onnx(model, rt.randn(3, 4), path)
    assert path.read_bytes() == proto.SerializeToString()
    assert os.listdir(tmp_path) == ["m.onnx"]
    assert rt_import.detect_format(path) == "onnx"
    imported = load_onnx(path)
    assert set(imported.state_dict()) == set(model.state_dict())
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(_np(imported.state_dict()[k]), _np(v))
    x = rt.randn(6, 4)
    with rt.no_grad():
        np.testing.assert_allclose(_np(imported(x)), _np(model(x)), rtol=1e-6, atol=1e-6)


def test_failed_export_leaves_existing_file(tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"old")
    bad = Fn(lambda x: x.cummax(0)[0])
    with pytest.raises(OnnxExportError):
        export_onnx(bad, rt.randn(3), str(path))
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["m.onnx"]


# ---- what the tracer refuses, by name -------------------------------------------------------

def test_unsupported_op_is_named():
    with pytest.raises(OnnxExportError, match="cummax"):
        export_onnx(Fn(lambda x: x.cummax(0)[0] + 1), rt.randn(3, 2), io.BytesIO())
    with pytest.raises(OnnxExportError, match="lgamma"):
        export_onnx(Fn(lambda x: rt.lgamma(x.abs() + 1)), rt.randn(3), io.BytesIO())


def test_rnn_layer_is_refused_with_its_node():
    with pytest.raises(OnnxExportError, match="RNN"):
        export_onnx(nn.GRU(3, 4), rt.randn(2, 1, 3), io.BytesIO())


def test_data_dependent_python_values_are_refused():
    def branch(x):
        if x.sum() > 0:                            # bool(tensor)
            return x + 1
        return x - 1
    with pytest.raises(OnnxExportError, match=r"bool\(x\)"):
        export_onnx(Fn(branch), rt.randn(3), io.BytesIO())
    with pytest.raises(OnnxExportError, match=r"x\.item\(\)"):
        export_onnx(Fn(lambda x: x * x.max().item()), rt.randn(3), io.BytesIO())
    with pytest.raises(OnnxExportError, match="numpy"):
        export_onnx(Fn(lambda x: rt.tensor(x.numpy()) + x), rt.randn(3), io.BytesIO())
    with pytest.raises(OnnxExportError, match="numpy reads a traced value"):
        export_onnx(Fn(lambda x: rt.from_numpy(np.exp(x)) + x), rt.randn(3), io.BytesIO())
    with pytest.raises(OnnxExportError, match="rt_autograd.tensor"):
        export_onnx(Fn(lambda x: rt.tensor(x) + x), rt.randn(3), io.BytesIO())


def test_data_dependent_shapes_from_masks_are_refused():
    with pytest.raises(OnnxExportError, match="Tensor.__getitem__.*bool mask"):
        export_onnx(Fn(lambda x: x[x > 0]), rt.randn(4), io.BytesIO())
    with pytest.raises(OnnxExportError, match="where\\(condition\\)"):
        export_onnx(Fn(lambda x: rt.where(x > 0)[0]), rt.randn(4), io.BytesIO())
    proto = check(Fn(lambda x: x[x.argmax()] + x[[0, 2]].sum()), rt.randn(4))
    assert "ArgMax" in ops(proto)


def test_random_ops_and_training_dropout_are_refused():
    with pytest.raises(OnnxExportError, match="random"):
        export_onnx(Fn(lambda x: x + rt.rand_like(x)), rt.randn(3), io.BytesIO())
    with pytest.raises(OnnxExportError, match="training"):
        export_onnx(Fn(lambda x: F.dropout(x, 0.5, training=True)), rt.randn(3), io.BytesIO())


def test_in_place_write_through_an_alias_is_refused():
    def f(x):
        y = x * 1
        v = y[0]                                   # a view of y
        y.add_(1)                                  # changes v too
        return v * 2
    with pytest.raises(OnnxExportError, match="in-place op Tensor.add_"):
        export_onnx(Fn(f), rt.randn(2, 3), io.BytesIO())


def test_in_place_ops_without_aliases_export():
    def f(x):
        y = x * 1
        y.add_(1).mul_(2)
        y[0, 1:] = 0.5
        y += x
        return F.relu(y, inplace=True), x
    x = rt.randn(2, 3)
    proto = check(Fn(f), x)
    assert "ScatterND" in ops(proto)


def test_untraced_computation_is_refused():
    def f(x):
        c = rt.zeros(3)
        c.add_(x)                                  # a method of an untraced tensor
        return c * 2
    with pytest.raises(OnnxExportError, match="autograd node MulBackward0"):
        export_onnx(Fn(f), rt.randn(3), io.BytesIO())


def test_constants_made_in_forward_are_constants():
    def f(x):
        table = rt.arange(6.0).reshape(2, 3)
        return x * table + rt.ones(3), rt.zeros_like(x)
    proto = check(Fn(f), rt.randn(2, 3))
    assert "Constant" in ops(proto) and not proto.graph.initializer


def test_argument_errors():
    m = nn.Linear(3, 2)
    with pytest.raises(TypeError, match="rt_nn.Module"):
        export_onnx(lambda x: x, rt.randn(2, 3), io.BytesIO())
    with pytest.raises(ValueError, match="opset 9"):
        export_onnx(m, rt.randn(2, 3), io.BytesIO(), opset=9)
    with pytest.raises(ValueError, match="2 input_names"):
        export_onnx(m, rt.randn(2, 3), io.BytesIO(), input_names=["a", "b"])
    with pytest.raises(ValueError, match="parameter or buffer"):
        export_onnx(m, rt.randn(2, 3), io.BytesIO(), input_names=["weight"])
    with pytest.raises(OnnxExportError, match="returned no tensor"):
        export_onnx(Fn(lambda x: None), rt.randn(2, 3), io.BytesIO())
    with pytest.raises(OnnxExportError, match="out="):
        export_onnx(Fn(lambda x: rt.add(x, 1, out=rt.empty(2, 3))), rt.randn(2, 3),
                    io.BytesIO())


# ---- inputs, outputs, parameters ------------------------------------------------------------

def test_kwargs_nested_inputs_and_constant_arguments():
    class M(nn.Module):
        def forward(self, pair, scale, *, bias):
            a, b = pair
            return a * scale + b + bias

    a, b, bias = rt.randn(2, 3), rt.randn(2, 3), rt.randn(3)
    proto = export_onnx(M(), ([a, b], 2.5, {"bias": bias}), io.BytesIO())
    assert [i.name for i in proto.graph.input] == ["pair_0", "pair_1", "bias"]
    got = ReferenceEvaluator(proto).run(None, {"pair_0": _np(a), "pair_1": _np(b),
                                               "bias": _np(bias)})[0]
    np.testing.assert_allclose(got, _np(a * 2.5 + b + bias), rtol=1e-6)


def test_outputs_that_are_inputs_or_repeated():
    def f(x):
        y = x * 2
        return x, y, y
    proto = check(Fn(f), rt.randn(2))
    assert [o.name for o in proto.graph.output] == ["output_0", "output_1", "output_2"]
    assert ops(proto).count("Identity") == 2


def test_tied_and_unused_parameters():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 3)
            self.b = nn.Linear(3, 3)
            self.b.weight = self.a.weight
            self.unused = nn.Linear(2, 2)

        def forward(self, x):
            return self.b(self.a(x))
    proto = check(Tied(), rt.randn(2, 3))
    assert [i.name for i in proto.graph.initializer] == ["a.weight", "a.bias", "b.bias"]


def test_state_is_restored_even_after_a_failure():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(), Fn(lambda x: x.cummax(0)[0]))
    model.train()
    params = [id(p) for p in model.parameters()]
    relu = F.relu
    with pytest.raises(OnnxExportError):
        export_onnx(model, rt.randn(3, 2), io.BytesIO())
    assert all(m.training for m in model.modules())
    assert [id(p) for p in model.parameters()] == params
    assert type(model[0].weight) is nn.Parameter
    assert F.relu is relu and nn.modules.conv.Conv2d._conv.__name__ == "conv2d"
    assert not model[0]._forward_hooks and not model[0]._forward_pre_hooks
    x = rt.randn(3, 2, requires_grad=True)
    model[0](x).sum().backward()                   # autograd untouched
    assert x.grad is not None


def test_other_threads_run_untraced_during_an_export():
    results = []

    class Slow(nn.Module):
        def forward(self, x):
            t = threading.Thread(target=lambda: results.append(F.relu(rt.ones(2) * -1)))
            t.start()
            t.join()
            return F.relu(x)
    proto = check(Slow(), rt.randn(3))
    assert ops(proto) == ["Relu"]
    assert results and results[0].tolist() == [0.0, 0.0]


def test_node_names_follow_modules():
    model = nn.Sequential(nn.Sequential(nn.Linear(2, 2), nn.ReLU()), nn.Linear(2, 1))
    proto = export_onnx(model, rt.randn(1, 2), io.BytesIO())
    assert [n.name for n in proto.graph.node] == ["/0/0/Gemm", "/0/1/Relu", "/1/Gemm"]
    assert proto.graph.node[0].doc_string == "rt_nn.functional.linear"


def test_functional_ops_held_in_attributes_are_traced():
    class Act(nn.Module):
        def __init__(self):
            super().__init__()
            self.activation = F.gelu              # an instance attribute, as in Transformers

        def forward(self, x):
            return self.activation(x)
    proto = check(Act(), rt.randn(4))
    assert "Erf" in ops(proto) or "Gelu" in ops(proto)


_ACTIVATIONS = {"gelu": F.gelu, "silu": F.silu}     # a table of ops, as model code keeps


def test_ops_held_in_a_module_level_table_are_traced():
    class Act(nn.Module):
        def forward(self, x):
            return _ACTIVATIONS["silu"](x) + _ACTIVATIONS["gelu"](x)
    proto = check(Act(), rt.randn(5))
    assert "Sigmoid" in ops(proto)
    assert _ACTIVATIONS["gelu"] is F.gelu                # restored


def test_an_imported_model_exports_again():
    rt.manual_seed(14)
    model = _trained_bn(nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4),
                                      nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                      nn.Linear(4, 2), nn.Softmax(1)))
    x = rt.randn(2, 3, 8, 8)
    first = io.BytesIO()
    export_onnx(model, x, first, input_names=["x"], dynamic_axes={"x": [0]})
    imported = load_onnx(first.getvalue())       # runs the graph with rt ops: traced again
    proto = check(imported, x, input_names=["x"], dynamic_axes={"x": [0]})
    assert {i.name for i in proto.graph.initializer} == \
        set(model.state_dict()) - {"1.num_batches_tracked"}
    y = rt.randn(5, 3, 8, 8)
    got = ReferenceEvaluator(proto).run(None, {"x": _np(y)})[0]
    np.testing.assert_allclose(got, _rt_outputs(model, (y,))[0], rtol=1e-5, atol=1e-6)


def test_attention_with_masks():
    def f(q, k, v, m):
        return (F.scaled_dot_product_attention(q, k, v, attn_mask=m),
                F.scaled_dot_product_attention(q, k, v, is_causal=True),
                F.scaled_dot_product_attention(q, k, v, attn_mask=m.float() * -1e9, scale=0.3))
    rt.manual_seed(15)
    q, k, v = rt.randn(2, 3, 5, 8), rt.randn(2, 3, 6, 8), rt.randn(2, 3, 6, 8)
    m = rt.rand(5, 6) > 0.4
    m[0] = False                               # a row with every key masked gives zeros
    check(Fn(f), (q, k, v, m))
    proto = check(Fn(f), (q, k, v, m), input_names=["q", "k", "v", "m"],
                  dynamic_axes={"q": [0, 2], "k": [0, 2], "v": [0, 2], "m": [0, 1]})
    q, k, v = rt.randn(1, 3, 4, 8), rt.randn(1, 3, 9, 8), rt.randn(1, 3, 9, 8)
    m = rt.rand(4, 9) > 0.5
    got = ReferenceEvaluator(proto).run(None, {"q": _np(q), "k": _np(k), "v": _np(v),
                                               "m": _np(m)})
    for g_, w in zip(got, _rt_outputs(Fn(f), (q, k, v, m))):
        np.testing.assert_allclose(g_, w, rtol=1e-5, atol=1e-6)


def test_encoder_layer_with_padding_mask():
    rt.manual_seed(16)
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    x = rt.randn(2, 5, 8)
    pad = rt.tensor([[False] * 3 + [True] * 2, [False] * 5])
    proto = check(layer, (x, {"src_key_padding_mask": pad}), rtol=1e-4, atol=1e-5)
    assert [i.name for i in proto.graph.input] == ["src", "src_key_padding_mask"]


def test_transformer_encoder_layer():
    rt.manual_seed(10)
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    proto = check(layer, rt.randn(2, 5, 8), rtol=1e-4, atol=1e-5)
    assert "Softmax" in ops(proto) and "LayerNormalization" in ops(proto)


# ---- verification: the graph must reproduce the module --------------------------------------

_UNTRACED = {
    # an rt_tensor kernel called directly: a plain tensor the tracer takes for a constant
    "kernel": lambda x: rtt.Tensor.add(x, 1),
    "kernel_mixed": lambda x: rtt.Tensor.mul(x, 2) * x + x,
    # numpy round trips through unbound base-class methods
    "numpy": lambda x: rt.from_numpy(np.exp(rt.Tensor.detach(x).numpy())) + x,
    "numpy_clone": lambda x: rt.tensor(np.tanh(rtt.Tensor.clone(x).numpy())),
}


@pytest.mark.parametrize("case", sorted(_UNTRACED))
def test_untraced_computation_fails_verification_and_writes_nothing(case, tmp_path):
    model = Fn(_UNTRACED[case])
    x = rt.randn(3, 4)
    path = tmp_path / "m.onnx"
    with pytest.raises(OnnxExportError, match="does not reproduce the module on other inputs") \
            as info:
        export_onnx(model, x, path, output_names=["y"])
    message = str(info.value)
    assert "output 'y' differs by up to" in message and "not traced" in message
    assert "verify=False" in message
    assert os.listdir(tmp_path) == []                  # no file, no temporary left behind
    path.write_bytes(b"old")
    with pytest.raises(OnnxExportError):
        export_onnx(model, x, str(path))
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["m.onnx"]
    buf = io.BytesIO()
    with pytest.raises(OnnxExportError):
        export_onnx(model, x, buf)
    assert buf.getvalue() == b""


def test_verify_false_skips_the_check():
    calls = []

    class Leaky(nn.Module):
        def forward(self, x):
            calls.append(1)
            return rtt.Tensor.add(x, 1)
    x = rt.randn(3)
    buf = io.BytesIO()
    proto = export_onnx(Leaky(), x, buf, verify=False)
    assert len(calls) == 1 and buf.getvalue() == proto.SerializeToString()
    assert ops(proto) == ["Constant"]                  # the example's x + 1, frozen
    got = ReferenceEvaluator(proto).run(None, {"x": _np(rt.randn(3))})[0]
    np.testing.assert_allclose(got, _np(x) + 1)
    with pytest.raises(TypeError, match="verify must be a bool"):
        export_onnx(Leaky(), x, io.BytesIO(), verify=1)


def test_kernel_writes_into_traced_values_are_refused():
    def f(x):
        y = x * 2
        rtt.Tensor.add_(y, 1)                          # bumps y's version, unrecorded
        return y * 3
    with pytest.raises(OnnxExportError, match="changed in place"):
        export_onnx(Fn(f), rt.randn(3), io.BytesIO(), verify=False)
    # an op without an exporter whose implementation writes its result with a kernel
    with pytest.raises(OnnxExportError, match="index_put cannot be exported"):
        export_onnx(Fn(lambda x, i: x.index_put((i,), rt.ones(2))),
                    (rt.randn(5), rt.tensor([1, 3])), io.BytesIO(), verify=False)


def test_a_graph_that_misses_the_traced_outputs_is_refused(monkeypatch, tmp_path):
    # an exporter with other semantics than rt's (here: Relu exported as Sigmoid)
    monkeypatch.setitem(_trace.EXPORTERS, "F.relu", lambda g, x, inplace=False:
                        g.op("Sigmoid", [g.v(x)]))
    path = tmp_path / "m.onnx"
    with pytest.raises(OnnxExportError, match="does not reproduce what rt computed while "
                                              "tracing the example inputs: output 'output'"):
        export_onnx(nn.Sequential(nn.Linear(3, 3), nn.ReLU()), rt.randn(2, 3), path)
    assert not path.exists()
    proto = export_onnx(nn.Sequential(nn.Linear(3, 3), nn.ReLU()), rt.randn(2, 3),
                        io.BytesIO(), verify=False)
    assert "Sigmoid" in ops(proto)


def test_verification_inputs():
    """Floats: new values in the example's range, non-finite ones kept; integer and bool
    inputs: the example's values shuffled; Python values as given; rt's generator, the
    example inputs and the training flags untouched."""
    seen = []

    class Spy(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10, 4)

        def forward(self, x, m, idx, scale, c):
            seen.append((x, m, idx, scale, c))
            return (x + c).masked_fill(m, 0.0) * scale + self.emb(idx).sum()

    x = rt.rand(3, 4) * 4 + 1                          # values in [1, 5)
    x[0, 0] = float("-inf")
    m = rt.tensor([[True, False, False, True]] * 3)
    idx = rt.tensor([[1, 2, 3], [9, 0, 4]])
    c = rt.full((4,), 2.0)
    copies = [t.clone() for t in (x, m, idx, c)]
    model = Spy()
    model.train()
    rt.manual_seed(3)
    expected_draw = rt.rand(2)
    rt.manual_seed(3)
    check(model, (x, m, idx, 1.5, c))                  # (asserts the flags are restored)
    assert rt.equal(rt.rand(2), expected_draw)          # the generator was not used
    for t, copy in zip((x, m, idx, c), copies):
        assert rt.equal(t, copy)
    vx, vm, vidx, vscale, vc = seen[1]                 # [0] is the trace
    ax, ex = _np(vx), _np(x)
    assert ax[0, 0] == -np.inf and vx.dtype == rt.float32
    fin = np.isfinite(ex)
    assert ((ax[fin] >= ex[fin].min()) & (ax[fin] <= ex[fin].max())).all()
    assert not np.isclose(ax[fin], ex[fin]).any()
    for new, old in ((vm, m), (vidx, idx)):
        assert new.dtype == old.dtype and new.shape == old.shape
        assert not rt.equal(new, old)
        assert sorted(_np(new).ravel().tolist()) == sorted(_np(old).ravel().tolist())
    assert vscale == 1.5
    ac = _np(vc)                                       # one value c: between c/2 and 3c/2
    assert ((ac >= 1.0) & (ac <= 3.0)).all() and not (ac == 2.0).all()


def test_integer_inputs_the_module_refuses_shuffled_keep_their_values():
    calls = []

    def f(x, b):
        calls.append(b)
        return x * (6 // (b - rt.tensor([1, 0])))      # b = [1, 2] would divide by zero
    b = rt.tensor([2, 1])
    export_onnx(Fn(f), (rt.randn(2), b), io.BytesIO())
    assert len(calls) == 3                             # trace, shuffled (fails), as given
    assert calls[1].tolist() == [1, 2] and calls[2].tolist() == [2, 1]


def test_inputs_written_in_place_by_forward():
    # the graph is verified against the example's values from before the trace
    def f(x):
        x.mul_(2)
        return x + 1
    x = rt.randn(4)
    before = _np(x).copy()
    proto = export_onnx(Fn(f), x, io.BytesIO())
    np.testing.assert_allclose(_np(x), before * 2)    # the trace ran forward on x
    got = ReferenceEvaluator(proto).run(None, {proto.graph.input[0].name: before})[0]
    np.testing.assert_allclose(got, before * 2 + 1, rtol=1e-6)


@pytest.mark.parametrize("dtype", [rt.float16, rt.bfloat16, rt.float64])
def test_verification_across_float_dtypes(dtype):
    rt.manual_seed(17)
    model = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.LayerNorm(16),
                          nn.Linear(16, 4)).to(dtype)
    proto = export_onnx(model, rt.randn(3, 8).to(dtype), io.BytesIO())
    assert proto.graph.output[0].type.tensor_type.elem_type == \
        _trace.RT_TO_ONNX_DTYPE[dtype]
    with pytest.raises(OnnxExportError, match="float16|bfloat16|float64"):
        export_onnx(Fn(lambda x: rtt.Tensor.add(x, 1) * x), rt.randn(3, 4).to(dtype),
                    io.BytesIO())


def test_padding_mask_is_computed_in_the_graph():
    # rt_nn turns a bool padding mask into -inf with a constant's in-place masked_fill_,
    # which the tracer records as one op (the graph follows the mask input)
    rt.manual_seed(18)
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    x = rt.randn(2, 5, 8)
    pad = rt.tensor([[False] * 3 + [True] * 2, [False] * 5])
    proto = export_onnx(layer, (x, {"src_key_padding_mask": pad}), io.BytesIO())
    other = rt.tensor([[False] * 5, [False] * 2 + [True] * 3])
    got = ReferenceEvaluator(proto).run(None, {"src": _np(x),
                                               "src_key_padding_mask": _np(other)})[0]
    want = _rt_outputs(layer, (x, {"src_key_padding_mask": other}))[0]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
