"""ONNX import against PyTorch 2.13: models exported with ``torch.onnx.export`` (the
TorchScript exporter, ``dynamo=False``; the dynamo exporter needs onnxscript, which the
parity env does not install) at opsets 11, 13 and 17 load with ``rt_import.load_onnx`` and

- give torch's outputs (float32 tolerance), also at a batch size other than the exported one
  (the batch axis is dynamic, so Shape/Gather/Concat/Reshape plumbing runs);
- hold torch's parameters as Parameters named after the graph's initializers (which are
  torch's ``state_dict`` keys);
- give torch's gradients for the same loss (the eval-mode graph: BatchNorm normalises with
  its running statistics, which receive no gradient), and one SGD step through the imported
  MLP changes its parameters as torch's step does.

Models: an MLP (Gemm, Relu, Tanh), a ResNet-style CNN (Conv, BatchNormalization, Relu,
MaxPool, residual Add, AveragePool with ceil_mode, GlobalAveragePool, Flatten, Gemm), a
MobileNet-style block (strided and depthwise Conv, BatchNormalization, ReLU6 as Clip,
Hardswish as HardSigmoid * x before opset 14, residual Add, ReduceMean) and an
``nn.TransformerEncoder`` in eval mode (the exporter supports it from opset 14: opset 11 lacks
``aten::unflatten`` and 13 ``scaled_dot_product_attention``; LayerNormalization is one node
from opset 17) and a UNet-style encoder-decoder (MaxPool, Resize nearest, bilinear with
align_corners and bicubic, Concat). Also the training-parity models (models.py: MLP, CNN
with BatchNorm, TransformerEncoder with tokens and a padding mask as two inputs), trained in
torch first.
"""
import io
import warnings

import numpy as np
import pytest

import rt_autograd as rt
import rt_optim

torch = pytest.importorskip("torch", reason="PyTorch cannot be imported; the parity suite "
                                            "runs in `tox -e parity` (torch==2.13.0)")
onnx = pytest.importorskip("onnx", reason="rt-import depends on onnx")

from rt_import import load_onnx  # noqa: E402

nn = torch.nn


class _Block(nn.Module):
    """A ResNet basic block: conv-bn-relu-conv-bn plus the identity, then relu."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(x + self.bn2(self.conv2(y)))


class ResNetStyle(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)
        self.block = _Block(8)
        self.avg = nn.AvgPool2d(2, ceil_mode=True)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn(self.stem(x))))
        x = self.avg(self.block(x))
        return self.fc(torch.flatten(self.gap(x), 1))


class MobileNetStyle(nn.Module):
    """A strided stem with ReLU6, an inverted-residual-like depthwise/pointwise pair with
    Hardswish, a residual add and a mean-pooled linear head."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8),
                                  nn.ReLU6())
        self.dw = nn.Sequential(nn.Conv2d(8, 8, 3, 1, 1, groups=8, bias=False),
                                nn.BatchNorm2d(8), nn.Hardswish())
        self.pw = nn.Sequential(nn.Conv2d(8, 8, 1, bias=False), nn.BatchNorm2d(8))
        self.head = nn.Linear(8, 4)

    def forward(self, x):
        x = self.stem(x)
        x = x + self.pw(self.dw(x))
        return self.head(x.mean((2, 3)))


class UNetStyle(nn.Module):
    """Encoder-decoder resampling: MaxPool, nearest upsampling (Resize asymmetric/floor), a
    skip Concat, bilinear with align_corners and a scale that gives no whole length (9.6 ->
    9) and bicubic to a size (Resize half_pixel)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.conv3 = nn.Conv2d(8, 4, 3, padding=1)
        self.head = nn.Conv2d(4, 2, 1)

    def forward(self, x):
        F = nn.functional
        a = torch.relu(self.conv1(x))
        b = torch.relu(self.conv2(F.max_pool2d(a, 2)))
        b = F.interpolate(b, scale_factor=2.0, mode="nearest")
        c = torch.relu(self.conv3(torch.cat([a, b], 1)))
        c = F.interpolate(c, scale_factor=0.6, mode="bilinear", align_corners=True)
        c = F.interpolate(c, size=(7, 9), mode="bicubic", align_corners=False)
        return self.head(c)


def _mlp():
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(),
                         nn.Linear(16, 4))


def _encoder():
    layer = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True)
    return nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)


# name: (factory, input shape (batch first), opsets)
MODELS = {
    "mlp": (_mlp, (3, 8), (11, 13, 17)),
    "resnet": (ResNetStyle, (2, 3, 16, 16), (11, 13, 17)),
    "mobilenet": (MobileNetStyle, (2, 3, 16, 16), (11, 13, 17)),
    "transformer": (_encoder, (2, 5, 16), (14, 17)),
    "unet": (UNetStyle, (2, 3, 16, 16), (11, 13, 17)),
}

CASES = [(name, opset) for name, (_, _, opsets) in MODELS.items() for opset in opsets]

PARAMS = [pytest.param(n, o, id=f"{n}-opset{o}") for n, o in CASES]


def _build(name):
    """The torch model (eval mode, seeded; every parameter perturbed and the normalisation
    statistics and affine parameters randomised, so none is the identity and no two
    initializers are equal) and an input."""
    factory, shape, _ = MODELS[name]
    torch.manual_seed(sum(map(ord, name)))
    model = factory()
    with torch.no_grad():
        # TransformerEncoder deep-copies its layer: without this the layers' weights are equal
        # and the exporter keeps one initializer for both (Identity nodes), tying them
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
            if isinstance(m, nn.LayerNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    model.eval()
    x = torch.randn(*shape)
    return model, x


def _export(model, x, opset):
    f = io.BytesIO()
    with warnings.catch_warnings():
        # the TorchScript exporter's DeprecationWarning and tracer warnings
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), f, dynamo=False, opset_version=opset,
                          input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
                          training=torch.onnx.TrainingMode.PRESERVE,
                          do_constant_folding=False)
    return f.getvalue()


_CACHE = {}


def _imported(name, opset):
    """(torch model, input, ONNX bytes, rt module), exported once per case."""
    key = (name, opset)
    if key not in _CACHE:
        model, x = _build(name)
        data = _export(model, x, opset)
        _CACHE[key] = (model, x, data)
    model, x, data = _CACHE[key]
    mod = load_onnx(data)
    mod.eval()
    return model, x, data, mod


def _rt(x):
    return rt.tensor(x.detach().numpy().copy())


@pytest.mark.parametrize("name, opset", PARAMS)
def test_outputs_match_torch(name, opset):
    model, x, data, mod = _imported(name, opset)
    ops = {n.op_type for n in onnx.load_from_string(data).graph.node}
    if name in ("resnet", "mobilenet"):
        assert {"Conv", "BatchNormalization"} <= ops         # BatchNorm was not folded away
    for batch in (x.shape[0], 5):
        xb = torch.randn((batch,) + tuple(x.shape[1:]), generator=torch.Generator()
                         .manual_seed(batch))
        with torch.no_grad():
            want = model(xb).numpy()
        with rt.no_grad():
            got = mod(_rt(xb)).numpy()
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-5)


@pytest.mark.parametrize("name, opset", PARAMS)
def test_parameters_are_named_after_the_graph(name, opset):
    model, _, data, mod = _imported(name, opset)
    graph = onnx.load_from_string(data).graph
    floats = {i.name for i in graph.initializer
              if i.data_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE)}
    params = dict(mod.named_parameters())
    torch_params = dict(model.named_parameters())
    # every trainable tensor of the torch model is an initializer under its state_dict key,
    # and the imported module holds it as a Parameter of that name with the same values
    in_graph = [k for k in torch_params if k in floats]
    assert sorted(in_graph) == sorted(torch_params), sorted(floats)
    for key in in_graph:
        assert key in params, (key, sorted(params))
        np.testing.assert_array_equal(params[key].detach().numpy(),
                                      torch_params[key].detach().numpy())
    # torch's running statistics are buffers of the imported module too, with their values
    buffers = dict(model.named_buffers())
    rt_buffers = dict(mod.named_buffers())
    for key in ("bn.running_mean", "block.bn1.running_var"):
        if key in buffers and key in floats:
            assert key not in params
            np.testing.assert_array_equal(rt_buffers[key].numpy(), buffers[key].numpy())


@pytest.mark.parametrize("name, opset", PARAMS)
def test_gradients_match_torch(name, opset):
    model, x, _, mod = _imported(name, opset)
    target = torch.randn(model(x).shape, generator=torch.Generator().manual_seed(7))
    model.zero_grad()
    ((model(x) - target) ** 2).mean().backward()
    loss = ((mod(_rt(x)) - _rt(target)) ** 2).mean()
    loss.backward()
    params = dict(mod.named_parameters())
    checked = 0
    for key, p in model.named_parameters():
        if key not in params:
            continue
        assert params[key].grad is not None, key
        np.testing.assert_allclose(params[key].grad.numpy(), p.grad.numpy(), rtol=1e-3,
                                   atol=1e-5, err_msg=key)
        checked += 1
    assert checked
    for key in params:             # BatchNorm statistics are constants of the eval graph
        if key.endswith(("running_mean", "running_var")):
            assert params[key].grad is None, key


@pytest.mark.parametrize("opset", [11, 13, 17])
def test_one_sgd_step_through_the_imported_mlp(opset):
    model, x, _, mod = _imported("mlp", opset)
    model = _build("mlp")[0]                 # a fresh copy: this test steps it
    mod = load_onnx(_export(model, x, opset))
    target = torch.randn(3, 4, generator=torch.Generator().manual_seed(3))
    before = {k: v.detach().numpy().copy() for k, v in mod.named_parameters()}
    opt_t = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    opt_r = rt_optim.SGD(mod.parameters(), lr=0.1, momentum=0.9)
    for _ in range(2):
        opt_t.zero_grad()
        ((model(x) - target) ** 2).mean().backward()
        opt_t.step()
        opt_r.zero_grad()
        loss = ((mod(_rt(x)) - _rt(target)) ** 2).mean()
        loss.backward()
        opt_r.step()
    after = dict(mod.named_parameters())
    assert sorted(after) == sorted(k for k, _ in model.named_parameters())
    for key, p in model.named_parameters():
        assert not np.array_equal(before[key], after[key].detach().numpy()), key
        np.testing.assert_allclose(after[key].detach().numpy(), p.detach().numpy(),
                                   rtol=1e-4, atol=1e-6, err_msg=key)
    with torch.no_grad():
        want = model(x).numpy()
    np.testing.assert_allclose(mod(_rt(x)).detach().numpy(), want, rtol=1e-4, atol=1e-5)


def test_default_export_options_fold_batchnorm_and_still_match():
    """What most users run: torch.onnx.export's defaults (eval mode, constant folding, which
    folds BatchNorm into the convolutions) at opset 17."""
    model, x = _build("resnet")
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), f, dynamo=False, opset_version=17)
    mod = load_onnx(f.getvalue())
    with torch.no_grad():
        want = model(x).numpy()
    with rt.no_grad():
        got = mod(_rt(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-5)


# -- models.py, trained in torch, exported, imported --------------------------------------------


@pytest.mark.parametrize("arch", ["mlp", "cnn-bn", "transformer-padding-mask"])
def test_torch_trained_training_models_export_and_import(arch):
    """The training-parity models (models.py), trained 8 steps in torch so BatchNorm's
    running statistics are not the defaults, exported with torch.onnx.export (eval mode,
    several inputs for the transformer: tokens and a bool padding mask), imported with
    load_onnx: the same outputs on the training inputs and on held-out ones at another batch
    size (dynamic batch axis)."""
    import rt_parity_models as PM  # conftest.py registers models.py
    T = PM.torch_namespace()
    build, batches = {
        "mlp": (PM.make_mlp, PM.classification_batches(20, 9, 16, 20, 5)),
        "cnn-bn": (PM.make_cnn, PM.classification_batches(21, 9, 8, (1, 12, 12), 4)),
        "transformer-padding-mask": (PM.make_transformer, PM.token_batches(22, 9, 8, 7, 11, 3)),
    }[arch]
    torch.manual_seed(9)
    model = build(T)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for *inputs, target in batches[:8]:
        opt.zero_grad()
        T.F.cross_entropy(model(*(torch.from_numpy(a) for a in inputs)),
                          torch.from_numpy(target)).backward()
        opt.step()
    model.eval()
    example = tuple(torch.from_numpy(a) for a in batches[0][:-1])
    names = [f"input{i}" for i in range(len(example))]
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # the TorchScript exporter's warnings
        torch.onnx.export(model, example, f, dynamo=False, opset_version=17,
                          input_names=names, output_names=["logits"],
                          dynamic_axes={**{n: {0: "batch"} for n in names},
                                        "logits": {0: "batch"}})
    imported = load_onnx(f.getvalue())
    held_out = batches[8][:-1]
    for arrays in (batches[0][:-1], tuple(a[:5] for a in held_out)):
        with torch.no_grad():
            want = model(*(torch.from_numpy(a) for a in arrays)).numpy()
        got = imported(*(rt.from_numpy(a) for a in arrays))
        assert tuple(got.shape) == want.shape
        np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-4, atol=1e-5)
