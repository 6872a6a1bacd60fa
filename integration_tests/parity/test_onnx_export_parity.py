"""rt_import.export_onnx against onnxruntime: rt modules exported to ONNX run in onnxruntime
and give rt's outputs (float32 tolerance; bit-equal for integer and bool results), with the
same dtypes and shapes:

- model families: an MLP, a ResNet-style CNN, a MobileNet-style block (depthwise Conv,
  Hardswish, squeeze-excite), a VGG-style stack, a Transformer encoder layer, a UNet-style
  encoder-decoder (MaxPool, Resize, Concat);
- one case per exported op family (activations, convolutions, normalizations, pooling,
  resampling, padding, shape ops, indexing, reductions, comparisons, in-place ops);
- opsets 11, 13, 17 (default), 18 and 21 for the model families;
- a symbolic batch axis (``dynamic_axes``): the graph traced at batch 2 runs at batches 1 and 5;
- the training-parity models (models.py: MLP, CNN with BatchNorm, TransformerEncoder with a
  padding mask) trained in rt: onnxruntime gives rt's outputs and torch's (the same
  architecture holding rt's weights).

onnxruntime is optional: without it every test here is skipped with the reason below (the
`parity` tox env installs torch only; `pip install onnxruntime` adds this suite).
"""
import io

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
import rt_nn.functional as F

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed: the ONNX "
                                                "export parity suite runs where it is "
                                                "(pip install onnxruntime)")

from rt_import import export_onnx  # noqa: E402

OPSETS = [11, 13, 17, 18, 21]


class Fn(nn.Module):
    """``fn(*inputs)`` as a module; keyword modules become submodules, passed to ``fn`` as
    ``m`` (so their weights are made once and exported as initializers)."""

    def __init__(self, fn, **modules):
        super().__init__()
        self.fn = fn
        self.mods = nn.ModuleDict(modules)

    def forward(self, *args):
        return self.fn(self.mods, *args) if len(self.mods) else self.fn(*args)


def _leaves(out):
    if isinstance(out, (tuple, list)):
        return [y for o in out for y in _leaves(o)]
    return [] if out is None else [out]


def _rt(model, inputs):
    model.eval()
    with rt.no_grad():
        return [o.detach().numpy() for o in _leaves(model(*inputs))]


def _session(proto):
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    return ort.InferenceSession(proto.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])


def _compare(got, want, rtol, atol):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape, (g.shape, w.shape)
        assert g.dtype == w.dtype, (g.dtype, w.dtype)
        if w.dtype.kind in "biu":
            np.testing.assert_array_equal(g, w)
        else:
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def run(model, inputs, opset=17, rtol=1e-4, atol=1e-5, **kw):
    if not isinstance(inputs, tuple):
        inputs = (inputs,)
    proto = export_onnx(model, inputs, io.BytesIO(), opset=opset, **kw)
    sess = _session(proto)
    feeds = {i.name: x.numpy() for i, x in zip(sess.get_inputs(), inputs)}
    _compare(sess.run(None, feeds), _rt(model, inputs), rtol, atol)
    return proto, sess


# ---- model families ------------------------------------------------------------------------

def _bn_stats(model):
    g = np.random.default_rng(0)
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            c = m.num_features
            m.running_mean.copy_(rt.tensor(g.normal(0, 0.1, c).astype(np.float32)))
            m.running_var.copy_(rt.tensor(g.uniform(0.5, 1.5, c).astype(np.float32)))
            with rt.no_grad():
                m.weight.copy_(rt.tensor(g.uniform(0.5, 1.5, c).astype(np.float32)))
                m.bias.copy_(rt.tensor(g.normal(0, 0.1, c).astype(np.float32)))
    return model


def mlp():
    return nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 32),
                         nn.GELU(), nn.Linear(32, 16), nn.Tanh(), nn.Linear(16, 4),
                         nn.LogSoftmax(dim=1)), (2, 12)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)), inplace=True)
        y = self.bn2(self.conv2(y))
        identity = x if self.down is None else self.down(x)
        y += identity
        return F.relu(y)


class ResNetStyle(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 5, 2, 2, bias=False), nn.BatchNorm2d(8),
                                  nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        self.layer1 = BasicBlock(8, 8, 1)
        self.layer2 = BasicBlock(8, 16, 2)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        return self.fc(rt.flatten(self.pool(x), 1))


class MobileBlock(nn.Module):
    """Inverted residual with depthwise conv, Hardswish and squeeze-excite."""

    def __init__(self, c=8, e=16):
        super().__init__()
        self.expand = nn.Sequential(nn.Conv2d(c, e, 1, bias=False), nn.BatchNorm2d(e),
                                    nn.Hardswish())
        self.dw = nn.Sequential(nn.Conv2d(e, e, 3, 1, 1, groups=e, bias=False),
                                nn.BatchNorm2d(e), nn.ReLU6())
        self.se_fc1 = nn.Conv2d(e, 4, 1)
        self.se_fc2 = nn.Conv2d(4, e, 1)
        self.project = nn.Sequential(nn.Conv2d(e, c, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        y = self.dw(self.expand(x))
        s = F.adaptive_avg_pool2d(y, 1)
        s = F.hardsigmoid(self.se_fc2(F.relu(self.se_fc1(s))))
        return x + self.project(y * s)


class MobileNetStyle(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8),
                                  nn.Hardswish())
        self.blocks = nn.Sequential(MobileBlock(), MobileBlock())
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(8, 5))

    def forward(self, x):
        y = self.blocks(self.stem(x))
        return self.head(y.mean((2, 3), keepdim=True))


def vgg():
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2, 2), nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.MaxPool2d(2, 2), nn.AdaptiveAvgPool2d((2, 2)), nn.Flatten(), nn.Linear(64, 32),
        nn.ReLU(), nn.Dropout(), nn.Linear(32, 3)), (2, 3, 16, 16)


class UNetStyle(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU())
        self.enc2 = nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.ReLU())
        self.up = nn.ConvTranspose2d(8, 4, 2, stride=2)
        self.dec = nn.Conv2d(12, 2, 3, padding=1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        up = F.interpolate(e2, scale_factor=2, mode="nearest")
        skip = F.interpolate(e1, size=(16, 16), mode="bilinear", align_corners=False)
        return self.dec(rt.cat([self.up(e2), up[:, :4], skip], 1))


def transformer():
    return nn.TransformerEncoderLayer(16, 4, 32, dropout=0.1, batch_first=True), (2, 6, 16)


FAMILIES = {
    "mlp": lambda: mlp(),
    "resnet": lambda: (_bn_stats(ResNetStyle()), (2, 3, 32, 32)),
    "mobilenet": lambda: (_bn_stats(MobileNetStyle()), (2, 3, 16, 16)),
    "vgg": lambda: (lambda m: (_bn_stats(m[0]), m[1]))(vgg()),
    "unet": lambda: (UNetStyle(), (2, 1, 16, 16)),
    "transformer": lambda: transformer(),
}


@pytest.mark.parametrize("opset", OPSETS)
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_model_family(family, opset):
    rt.manual_seed(0)
    model, shape = FAMILIES[family]()
    run(model, rt.randn(*shape), opset=opset)


@pytest.mark.parametrize("family", ["mlp", "resnet", "mobilenet", "vgg", "unet",
                                    "transformer"])
def test_dynamic_batch(family):
    rt.manual_seed(1)
    model, shape = FAMILIES[family]()
    proto, sess = run(model, rt.randn(*shape), input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    for batch in (1, 5):
        x = rt.randn(batch, *shape[1:])
        _compare(sess.run(None, {"x": x.numpy()}), _rt(model, (x,)), 1e-4, 1e-5)


def test_transformer_dynamic_batch_and_sequence():
    """Sizes read from symbolic dims inside attention (x.size(0) * heads, ...) are computed
    in the graph, so the encoder runs at other batch sizes and sequence lengths."""
    rt.manual_seed(4)
    model, shape = transformer()
    proto, sess = run(model, rt.randn(*shape), input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch", 1: "seq"}})
    dims = proto.graph.output[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["batch", "seq", 16]
    for b, n in ((1, 6), (3, 2), (4, 11)):
        x = rt.randn(b, n, 16)
        _compare(sess.run(None, {"x": x.numpy()}), _rt(model, (x,)), 1e-4, 1e-5)


# ---- op families ---------------------------------------------------------------------------

def _setitem(a):
    b = a.clone()
    b[1:3, 0] = 5.0
    b[:, -1] = a[:, 0]
    return b


def _inplace(a):
    b = a * 1
    b.add_(1).mul_(0.5).clamp_(-1, 1)
    b += a
    return F.relu(b, inplace=True)


x4 = (2, 3, 8, 8)
v2 = (4, 6)
OPS = {
    "activations": (lambda: Fn(lambda a: (
        F.relu6(a), F.leaky_relu(a, 0.2), F.elu(a, 0.7), F.selu(a), F.celu(a, 1.3),
        F.gelu(a), F.gelu(a, approximate="tanh"), F.silu(a), F.mish(a),
        F.softplus(a, 2.0, 1.0), F.logsigmoid(a), F.hardswish(a), F.hardsigmoid(a),
        F.hardtanh(a, -0.5, 0.7), F.threshold(a, 0.1, 20.0), F.softshrink(a, 0.3),
        F.hardshrink(a, 0.3), F.softsign(a), F.tanhshrink(a), F.glu(a), a.sigmoid(),
        a.tanh())), [v2]),
    "prelu": (lambda: nn.PReLU(3), [x4]),
    "prelu_single": (lambda: nn.PReLU(), [v2]),
    "softmax": (lambda: Fn(lambda a: (F.softmax(a, 1), F.log_softmax(a, 0), F.softmin(a, -1),
                                      F.softmax(a, -3))), [x4]),
    "conv": (lambda: Fn(lambda m, a, b: (
        m["c1"](b), m["c2"](a), m["reflect"](a), m["circular"](a), m["replicate"](a),
        m["t2"](a), m["t1"](b), m["c3"](a.unsqueeze(2).expand(2, 3, 4, 8, 8))),
        c1=nn.Conv1d(3, 4, 3, stride=2, padding=1, dilation=2),
        c2=nn.Conv2d(3, 6, (3, 5), padding="same", groups=3, bias=False),
        reflect=nn.Conv2d(3, 4, 3, padding=2, padding_mode="reflect"),
        circular=nn.Conv2d(3, 4, 3, padding=1, padding_mode="circular"),
        replicate=nn.Conv2d(3, 4, 3, padding=1, padding_mode="replicate"),
        t2=nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1),
        t1=nn.ConvTranspose1d(3, 4, 3, stride=2, dilation=2),
        c3=nn.Conv3d(3, 2, 2, stride=(1, 2, 2))), [x4, (2, 3, 20)]),
    "norms": (lambda: Fn(lambda m, a, b: (
        m["bn1"](b), m["bn_plain"](a), m["bn_batch"](a), m["inorm"](a), m["gn"](a),
        m["ln"](a), m["ln_nobias"](b), m["rms"](b), m["lrn"](a), F.normalize(b, dim=1)),
        bn1=_bn_stats(nn.BatchNorm1d(6)), bn_plain=nn.BatchNorm2d(3, affine=False),
        bn_batch=nn.BatchNorm2d(3, track_running_stats=False),
        inorm=nn.InstanceNorm2d(3, affine=True), gn=nn.GroupNorm(3, 3),
        ln=nn.LayerNorm([8, 8]), ln_nobias=nn.LayerNorm(6, bias=False), rms=nn.RMSNorm(6),
        lrn=nn.LocalResponseNorm(3)), [x4, v2]),
    "pooling": (lambda: Fn(lambda a, c: (
        F.max_pool2d(c, 3, 2, ceil_mode=True), F.max_pool2d(a, 3, 1, 1, dilation=2),
        F.max_pool2d(a, 2, return_indices=True), F.max_pool1d(a.flatten(2), 3, 2),
        F.avg_pool2d(a, 3, 2, 1), F.avg_pool2d(a, 3, 2, 1, count_include_pad=False),
        F.avg_pool2d(c, 3, 2, ceil_mode=True), F.avg_pool2d(a, 2, divisor_override=3),
        F.adaptive_avg_pool2d(a, 1), F.adaptive_avg_pool2d(a, 4),
        F.adaptive_avg_pool2d(a, (3, 5)), F.adaptive_max_pool2d(a, 3),
        F.adaptive_max_pool1d(a.flatten(2), 1))), [x4, (1, 2, 8, 8)]),
    "resample": (lambda: Fn(lambda a, b: (
        F.interpolate(a, scale_factor=2), F.interpolate(a, scale_factor=2, mode="bilinear"),
        F.interpolate(a, size=(5, 11), mode="bilinear", align_corners=True),
        F.interpolate(a, size=(5, 13), mode="nearest-exact"),
        F.interpolate(b, scale_factor=1.5, mode="linear"),
        F.interpolate(a, size=(3, 4), mode="area"),
        F.pixel_shuffle(a.repeat(1, 4, 1, 1)[:, :8], 2), F.pixel_shuffle(a.repeat(1, 4, 1, 1), 2),
        F.pixel_unshuffle(a, 2))), [x4, (2, 3, 10)]),
    "padding": (lambda: Fn(lambda a, b: (
        F.pad(a, (1, 2, 0, 3)), F.pad(a, (1, -2, -1, 2), value=3.0),
        F.pad(a, (2, 2, 2, 2), mode="reflect"), F.pad(b, (2, 3), mode="replicate"),
        F.pad(a, (2, 2, 1, 1), mode="circular"))), [x4, (2, 3, 10)]),
    "embedding": (lambda: Fn(lambda m, i: (m["emb"](i), F.one_hot(i, 10)),
                             emb=nn.Embedding(10, 4)), [rt.tensor([[1, 2, 3], [9, 0, 4]])]),
    "arith": (lambda: Fn(lambda a, b: (
        (a + b * 2 - 3 / (b.abs() + 1)) ** 2 + 2 ** a - (1 - a) % 0.7 + a // 0.3,
        a.exp(), a.abs().log(), a.abs().sqrt(), a.sin(), a.cos(), a.erf(), a.floor(),
        a.ceil(), a.round(), a.sign(), a.abs().rsqrt(), a.reciprocal(), a.square(),
        a.abs().log1p(), a.expm1(), a.trunc(), a.frac(), a.clamp(-0.5, 0.5),
        a.clamp(min=0.1), rt.maximum(a, b), rt.minimum(a, b), rt.lerp(a, b, 0.3))),
        [v2, (6,)]),
    "integer": (lambda: Fn(lambda a, b: (a * 3 + b, a // b, a % b, -a, a.abs(),
                                         a.div(b, rounding_mode="trunc"), a / b, a.fmod(b))),
                [rt.tensor([[7, -7, 5], [-3, 0, 9]]), rt.tensor([2, 3, -4])]),
    "compare": (lambda: Fn(lambda a, b: (
        ((a > b) & (a < 1)) | (a == b) ^ (a >= 0.5), rt.where(a <= b, a, b), (a != b).float(),
        ~(a > 0), a.masked_fill(a > 0, -1.0), rt.isnan(a), rt.isinf(a / 0))), [v2, v2]),
    "reduce": (lambda: Fn(lambda a: (
        a.sum(), a.sum(1), a.mean((0, 2), keepdim=True), a.amax(-1), a.amin(0), a.max(),
        a.max(1), a.min(2).indices, a.argmax(), a.argmax(1), a.argmin(0, keepdim=True),
        a.var(1), a.std(), a.std(0, unbiased=False), a.logsumexp(1), a.norm(),
        a.norm(1, dim=1), a.prod(2), a.cumsum(1), a.all(), (a > 0).any(1),
        a.topk(2, 1))), [(3, 4, 5)]),
    "shape": (lambda: Fn(lambda a: (
        a.view(3, -1), a.reshape(-1), a.flatten(1), a.flatten(0, 1), a.permute(2, 0, 1),
        a.transpose(0, 2), a.mT, a.unsqueeze(1), a[:, 0].squeeze(), a.expand(2, 3, 4, 5),
        a.repeat(1, 2, 1), a.flip(1), a.narrow(2, 1, 3), a.select(1, 2), a.chunk(2, 1),
        a.split([1, 3], 1), rt.stack([a, a], 1), rt.cat([a, a * 2], 2), a.unflatten(2, (5, 1)),
        a.movedim(0, 2), a.contiguous(), a.to(rt.float64), a.long(), a.tril(), a.triu(1),
        a.roll(2, 1), a.unbind(1))), [(3, 4, 5)]),
    "index": (lambda: Fn(lambda a, i: (
        a[0], a[:, 1:3], a[..., -1], a[None, :, ::2], a[1, None, 2:], a[i], a[:, i],
        a.index_select(1, i), a.gather(1, i.view(1, -1, 1).expand(3, 2, 5)), a[-1, -2])),
        [(3, 4, 5), rt.tensor([2, 0])]),
    "linalg": (lambda: Fn(lambda m, a, b, c: (
        a @ b, a.mm(b), rt.bmm(c, c.transpose(1, 2)), rt.addmm(b[0], a, b, beta=0.5, alpha=2),
        rt.einsum("ij,jk->ik", a, b), rt.outer(a[0], b[0]), a.matmul(b[:, 0]),
        rt.baddbmm(c, c, c.transpose(1, 2)), m["bil"](a, a * 2 - 1)),
        bil=nn.Bilinear(4, 4, 3)), [(3, 4), (4, 5), (2, 3, 3)]),
    "inplace": (lambda: Fn(lambda a: (_inplace(a), _setitem(a))), [v2]),
    "misc": (lambda: Fn(lambda a, b, i: (
        a.trunc(), rt.isposinf(a / 0), rt.isneginf(a / 0), rt.nan_to_num(a / 0),
        rt.addcmul(a, a, b, value=0.5), rt.addcdiv(a, a, b.abs() + 1, value=2),
        rt.float_power(a.abs(), 2.5), rt.take_along_dim(a, i.view(1, -1).expand(4, 2), 1),
        rt.take_along_dim(a, i), a.nonzero(), a.roll(3), a.roll((1, -2), (0, 1)),
        a.argsort(1), (a > 0).max(), (a > 0).all(0), (a > 0).any(), rt.var_mean(a, 1),
        rt.std_mean(a, 0, keepdim=True), a.norm(float("inf")), a.norm(0), a.norm(3, dim=0),
        a.softmax(1, dtype=rt.float64), rt.clamp(a, b[:1], b[1:2]), a.new_full((2, 2), 3.0),
        a.new_tensor([1.0, 2.0]), rt.empty_like(a) * 0, a[[0, 2]], a[:, [1, 1, 0]],
        F.rrelu(a), F.instance_norm(a.unsqueeze(0)), rt.amax(a > 0, 1),
        F.pixel_shuffle(rt.cat([a, a], 0).reshape(1, 2, 4, 2, 3), 2),
        F.pixel_unshuffle(a.reshape(1, 4, 6), 2), rt.where(a > 0, 1.0, a),
        a.masked_fill(a > 0, b[0, 0]))), [v2, v2, rt.tensor([2, 0])]),
    "attention": (lambda: Fn(lambda m, q, k, v, mask: (
        F.scaled_dot_product_attention(q, k, v, is_causal=True),
        F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
        F.scaled_dot_product_attention(q, k, v, attn_mask=mask.float() * -1e9, scale=0.3),
        m["mha"](q, k, v), m["mha"](q, k, v, key_padding_mask=mask[:2], need_weights=False),
        m["enc"](q, src_key_padding_mask=mask[:2])),
        mha=nn.MultiheadAttention(8, 2, batch_first=True),
        enc=nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)),
        [(2, 5, 8), (2, 5, 8), (2, 5, 8), rt.tensor([[False] * 3 + [True] * 2, [False] * 5,
                                                     [True] * 5, [False, True] * 2 + [False],
                                                     [False] * 5])]),
}


def _inputs(specs):
    return tuple(s if isinstance(s, rt.Tensor) else rt.randn(*s) for s in specs)


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_family(name):
    rt.manual_seed(2)
    make, specs = OPS[name]
    model = make()
    run(model, _inputs(specs))


@pytest.mark.parametrize("opset", [18, 21])
def test_bitwise_integer_ops(opset):
    a, b = rt.tensor([[7, 3], [1, 12]]), rt.tensor([5, 6])
    run(Fn(lambda a, b: (a & b, a | b, a ^ b, ~a, rt.bitwise_not(a), (a > 2) & (b < 6))),
        (a, b), opset=opset)


@pytest.mark.parametrize("opset", [11, 13, 18, 21])
@pytest.mark.parametrize("name", ["activations", "softmax", "norms", "reduce", "shape",
                                  "resample", "padding", "pooling", "misc", "compare"])
def test_op_family_other_opsets(name, opset):
    rt.manual_seed(3)
    make, specs = OPS[name]
    run(make(), _inputs(specs), opset=opset)


# -- models.py, trained in rt, exported, run by onnxruntime and compared with torch too -------


@pytest.mark.parametrize("arch", ["mlp", "cnn-bn", "transformer-padding-mask"])
def test_rt_trained_training_models_run_in_onnxruntime(arch):
    """The training-parity models (models.py), trained 8 steps in rt with rt_optim (BatchNorm
    statistics updated), exported with export_onnx and a dynamic batch axis: onnxruntime
    gives rt's outputs, and those of the same torch architecture holding rt's weights, at
    the traced batch size and at another one."""
    import rt_optim
    import rt_parity_models as PM  # conftest.py registers models.py
    R = PM.rt_namespace()
    build, batches = {
        "mlp": (PM.make_mlp, PM.classification_batches(30, 9, 16, 20, 5)),
        "cnn-bn": (PM.make_cnn, PM.classification_batches(31, 9, 8, (1, 12, 12), 4)),
        "transformer-padding-mask": (PM.make_transformer, PM.token_batches(32, 9, 8, 7, 11, 3)),
    }[arch]
    rt.manual_seed(10)
    model = build(R)
    opt = rt_optim.Adam(model.parameters(), lr=3e-3)
    for *inputs, target in batches[:8]:
        opt.zero_grad()
        F.cross_entropy(model(*(rt.from_numpy(a) for a in inputs)),
                        rt.from_numpy(target)).backward()
        opt.step()
    model.eval()
    example = tuple(rt.from_numpy(a) for a in batches[0][:-1])
    names = [f"input{i}" for i in range(len(example))]
    f = io.BytesIO()
    export_onnx(model, example, f, input_names=names, output_names=["logits"],
                dynamic_axes={**{n: [0] for n in names}, "logits": [0]})
    session = ort.InferenceSession(f.getvalue(), providers=["CPUExecutionProvider"])
    import torch                                 # conftest.py: the suite needs torch
    twin = build(PM.torch_namespace())
    twin.load_state_dict({k: torch.from_numpy(PM.to_numpy(v))
                          for k, v in model.state_dict().items()})
    twin.eval()
    for arrays in (batches[0][:-1], tuple(a[:3] for a in batches[8][:-1])):
        want = model(*(rt.from_numpy(a) for a in arrays)).detach().numpy()
        (got,) = session.run(None, dict(zip(names, arrays)))
        assert got.shape == want.shape and got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
        with torch.no_grad():
            t_out = twin(*(torch.from_numpy(a) for a in arrays)).numpy()
        np.testing.assert_allclose(got, t_out, rtol=1e-4, atol=1e-5)
