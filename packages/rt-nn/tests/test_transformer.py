"""Transformer family: TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder,
TransformerDecoder, Transformer. Forward against a numpy reference built from the layers'
parameters (post-norm and pre-norm, relu/gelu/callable activation, masks, batch_first,
unbatched), gradcheck through inputs and parameters, train/eval (dropout), deep copies of the
layer, state_dict keys, init, the causal mask, PyTorch's warnings and errors."""
import importlib.util
import math
import pathlib

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
import rt_nn.functional as F
from rt_autograd.testing import gradcheck


def _load_attention_reference():
    """The numpy MultiheadAttention reference of test_attention.py (tests are not a package)."""
    path = pathlib.Path(__file__).with_name("test_attention.py")
    spec = importlib.util.spec_from_file_location("_rt_nn_attention_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._np_mha


_np_mha = _load_attention_reference()


def _np(t):
    return np.array(t.detach().numpy(), dtype=np.float64, copy=True)


def _rand(*shape, seed=0, dtype=rt.float64, requires_grad=False):
    a = np.random.default_rng(seed).standard_normal(shape)
    return rt.tensor(a, dtype=dtype).requires_grad_(requires_grad)


# TransformerEncoder warns as PyTorch does when nested tensors could not be used; the tests
# that build a whole Transformer accept that warning
_NESTED = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")


def _np_ln(x, ln):
    mu = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    y = (x - mu) / np.sqrt(var + ln.eps)
    if ln.weight is not None:
        y = y * _np(ln.weight)
    if getattr(ln, "bias", None) is not None:
        y = y + _np(ln.bias)
    return y


def _np_lin(x, lin):
    y = x @ _np(lin.weight).T
    return y if lin.bias is None else y + _np(lin.bias)


_ACT = {"relu": lambda x: np.maximum(x, 0),
        "gelu": lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))}


def _np_ff(layer, x, act):
    return _np_lin(_ACT[act](_np_lin(x, layer.linear1)), layer.linear2)


def _attn(mha, q, k, v, kpm, mask):
    """_np_mha on (S, N, E) arrays whatever the module's batch_first."""
    bf = mha.batch_first and q.ndim == 3
    q, k, v = (rt.tensor(a.transpose(1, 0, 2) if bf else a) for a in (q, k, v))
    out = _np_mha(mha, q, k, v, kpm, mask, need_weights=False)[0]
    return out.transpose(1, 0, 2) if bf else out


def _np_encoder_layer(layer, x, act="relu", mask=None, kpm=None):
    def sa(h):
        return _attn(layer.self_attn, h, h, h, kpm, mask)
    if layer.norm_first:
        x = x + sa(_np_ln(x, layer.norm1))
        return x + _np_ff(layer, _np_ln(x, layer.norm2), act)
    x = _np_ln(x + sa(x), layer.norm1)
    return _np_ln(x + _np_ff(layer, x, act), layer.norm2)


def _np_decoder_layer(layer, x, mem, act="relu", tgt_mask=None, mem_kpm=None):
    def sa(h):
        return _attn(layer.self_attn, h, h, h, None, tgt_mask)

    def ca(h):
        return _attn(layer.multihead_attn, h, mem, mem, mem_kpm, None)
    if layer.norm_first:
        x = x + sa(_np_ln(x, layer.norm1))
        x = x + ca(_np_ln(x, layer.norm2))
        return x + _np_ff(layer, _np_ln(x, layer.norm3), act)
    x = _np_ln(x + sa(x), layer.norm1)
    x = _np_ln(x + ca(x), layer.norm2)
    return _np_ln(x + _np_ff(layer, x, act), layer.norm3)


def _kpm(N, S, seed=3):
    m = np.random.default_rng(seed).random((N, S)) < 0.3
    m[:, 0] = False
    return rt.tensor(m)


# name, constructor kwargs, input layout ("sbe" / "bse" / "se"), activation name, masks
ENC = [
    ("post-relu", dict(), "sbe", "relu", {}),
    ("post-gelu-str", dict(activation="gelu"), "sbe", "gelu", {"kpm": True}),
    ("post-gelu-fn", dict(activation=F.gelu), "sbe", "gelu", {"mask": True}),
    ("pre-norm", dict(norm_first=True), "sbe", "relu", {"kpm": True, "mask": "bool"}),
    ("batch_first", dict(batch_first=True), "bse", "relu", {"kpm": True}),
    ("nobias", dict(bias=False), "sbe", "relu", {}),
    ("eps", dict(layer_norm_eps=1e-3), "sbe", "relu", {}),
    ("unbatched", dict(), "se", "relu", {}),
]


def _layout(layout, S, N, E, seed, dtype=rt.float64, requires_grad=False):
    shape = {"sbe": (S, N, E), "bse": (N, S, E), "se": (S, E)}[layout]
    return _rand(*shape, seed=seed, dtype=dtype, requires_grad=requires_grad)


def _to_sbe(a, layout):
    return a.transpose(1, 0, 2) if layout == "bse" else (a[:, None] if layout == "se" else a)


def _from_sbe(a, layout):
    return a.transpose(1, 0, 2) if layout == "bse" else (a[:, 0] if layout == "se" else a)


@pytest.mark.parametrize("dtype", [rt.float64, rt.float32])
@pytest.mark.parametrize("name,kw,layout,act,masks", ENC, ids=[e[0] for e in ENC])
def test_encoder_layer_matches_numpy(name, kw, layout, act, masks, dtype):
    rt.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, **kw).to(dtype).eval()
    S, N = 5, 3
    x = _layout(layout, S, N, 8, seed=1, dtype=dtype)
    mask = None
    if masks.get("mask") == "bool":
        mask = rt.tensor(np.triu(np.ones((S, S), bool), 1))
    elif masks.get("mask"):
        mask = nn.Transformer.generate_square_subsequent_mask(S, dtype=dtype)
    kpm = _kpm(N, S) if masks.get("kpm") else None
    out = layer(x, src_mask=mask, src_key_padding_mask=kpm)
    ref = _np_encoder_layer(layer, _to_sbe(_np(x), layout), act, mask, kpm)
    tol = 1e-10 if dtype == rt.float64 else 5e-5
    assert out.dtype == dtype
    np.testing.assert_allclose(_np(out), _from_sbe(ref, layout), rtol=tol, atol=tol)


DEC = [
    ("post", dict(), "sbe", "relu"),
    ("pre-norm-gelu", dict(norm_first=True, activation="gelu"), "sbe", "gelu"),
    ("batch_first", dict(batch_first=True), "bse", "relu"),
    ("unbatched", dict(), "se", "relu"),
]


@pytest.mark.parametrize("name,kw,layout,act", DEC, ids=[d[0] for d in DEC])
def test_decoder_layer_matches_numpy(name, kw, layout, act):
    rt.manual_seed(0)
    layer = nn.TransformerDecoderLayer(8, 2, 16, **kw).double().eval()
    T, S, N = 4, 5, 3
    tgt = _layout(layout, T, N, 8, seed=1)
    mem = _layout(layout, S, N, 8, seed=2)
    tgt_mask = nn.Transformer.generate_square_subsequent_mask(T, dtype=rt.float64)
    mem_kpm = None if layout == "se" else _kpm(N, S)
    out = layer(tgt, mem, tgt_mask=tgt_mask, memory_key_padding_mask=mem_kpm)
    ref = _np_decoder_layer(layer, _to_sbe(_np(tgt), layout), _to_sbe(_np(mem), layout), act,
                            tgt_mask, mem_kpm)
    np.testing.assert_allclose(_np(out), _from_sbe(ref, layout), rtol=1e-10, atol=1e-10)


@_NESTED
def test_stacks_and_transformer_match_numpy():
    rt.manual_seed(0)
    model = nn.Transformer(8, 2, 2, 2, 16).double().eval()
    src, tgt = _rand(5, 3, 8, seed=1), _rand(4, 3, 8, seed=2)
    tgt_mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=rt.float64)
    kpm = _kpm(3, 5)
    out = model(src, tgt, tgt_mask=tgt_mask, src_key_padding_mask=kpm,
                memory_key_padding_mask=kpm)
    mem = _np(src)
    for layer in model.encoder.layers:
        mem = _np_encoder_layer(layer, mem, kpm=kpm)
    mem = _np_ln(mem, model.encoder.norm)
    y = _np(tgt)
    for layer in model.decoder.layers:
        y = _np_decoder_layer(layer, y, mem, tgt_mask=tgt_mask, mem_kpm=kpm)
    y = _np_ln(y, model.decoder.norm)
    np.testing.assert_allclose(_np(out), y, rtol=1e-10, atol=1e-10)


def test_encoder_layer_gradcheck():
    rt.manual_seed(0)
    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0).double()
    names = [n for n, _ in layer.named_parameters()]
    params = [p.detach().clone().requires_grad_() for _, p in layer.named_parameters()]
    x = _rand(3, 2, 4, seed=1, requires_grad=True)
    kpm = _kpm(2, 3)

    def fn(x, *ps):
        for (n, _), p in zip(layer.named_parameters(), ps):
            mod, attr = layer.get_submodule(n.rpartition(".")[0]), n.rpartition(".")[2]
            mod._parameters[attr] = p
        return layer(x, src_key_padding_mask=kpm)
    assert gradcheck(fn, (x, *params))
    assert len(names) == 12


def test_decoder_layer_gradcheck_inputs():
    rt.manual_seed(0)
    layer = nn.TransformerDecoderLayer(4, 2, 6, dropout=0.0, norm_first=True).double()
    tgt = _rand(3, 2, 4, seed=1, requires_grad=True)
    mem = _rand(2, 2, 4, seed=2, requires_grad=True)
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=rt.float64)
    assert gradcheck(lambda t, m: layer(t, m, tgt_mask=mask), (tgt, mem))


@_NESTED
def test_backward_reaches_every_parameter():
    model = nn.Transformer(8, 2, 1, 1, 16, dropout=0.0)
    out = model(_rand(5, 2, 8, dtype=rt.float32), _rand(4, 2, 8, seed=1, dtype=rt.float32))
    out.sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name


# ---- train / eval ------------------------------------------------------------------------------

def test_dropout_in_training_only():
    rt.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.3).double()
    x = _rand(5, 3, 8, seed=1)
    ref = _np_encoder_layer(layer, _np(x))
    rt.manual_seed(1)
    a = layer(x)
    rt.manual_seed(1)
    b = layer(x)
    np.testing.assert_array_equal(_np(a), _np(b))
    assert np.abs(_np(a) - ref).max() > 1e-3
    layer.eval()
    np.testing.assert_allclose(_np(layer(x)), ref, rtol=1e-10, atol=1e-10)


# ---- structure ------------------------------------------------------------------------------------

def test_encoder_deep_copies_the_layer():
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    enc = nn.TransformerEncoder(layer, 3, nn.LayerNorm(8), enable_nested_tensor=False)
    assert enc.num_layers == 3 and len(enc.layers) == 3
    assert all(lay is not layer for lay in enc.layers)
    assert enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight
    np.testing.assert_array_equal(_np(enc.layers[2].linear1.weight), _np(layer.linear1.weight))
    with rt.no_grad():
        enc.layers[0].linear1.weight.fill_(0.0)
    assert np.abs(_np(enc.layers[1].linear1.weight)).sum() > 0
    dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16), 2)
    assert dec.norm is None and dec.layers[0] is not dec.layers[1]


@_NESTED
def test_state_dict_keys():
    layer = nn.TransformerDecoderLayer(4, 2, 8)
    assert list(layer.state_dict()) == [
        "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
        "self_attn.out_proj.bias", "multihead_attn.in_proj_weight", "multihead_attn.in_proj_bias",
        "multihead_attn.out_proj.weight", "multihead_attn.out_proj.bias", "linear1.weight",
        "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias",
        "norm2.weight", "norm2.bias", "norm3.weight", "norm3.bias"]
    model = nn.Transformer(4, 2, 1, 1, 8)
    keys = list(model.state_dict())
    assert len(keys) == 34
    assert keys[:3] == ["encoder.layers.0.self_attn.in_proj_weight",
                        "encoder.layers.0.self_attn.in_proj_bias",
                        "encoder.layers.0.self_attn.out_proj.weight"]
    assert "encoder.norm.weight" in keys and keys[-1] == "decoder.norm.bias"
    assert list(nn.TransformerEncoderLayer(4, 2, 8, bias=False).state_dict()) == [
        "self_attn.in_proj_weight", "self_attn.out_proj.weight", "linear1.weight",
        "linear2.weight", "norm1.weight", "norm2.weight"]


@_NESTED
def test_transformer_xavier_init():
    rt.manual_seed(0)
    model = nn.Transformer(16, 2, 1, 1, 32)
    w = _np(model.encoder.layers[0].linear1.weight)          # (32, 16)
    bound = math.sqrt(6 / (16 + 32))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    # 1-D parameters keep their own init (LayerNorm ones, zero attention biases)
    np.testing.assert_array_equal(_np(model.decoder.norm.weight), 1.0)


@_NESTED
def test_repr_and_attributes():
    layer = nn.TransformerEncoderLayer(4, 2, 8)
    assert repr(layer) == (
        "TransformerEncoderLayer(\n"
        "  (self_attn): MultiheadAttention(\n"
        "    (out_proj): NonDynamicallyQuantizableLinear(in_features=4, out_features=4, "
        "bias=True)\n"
        "  )\n"
        "  (linear1): Linear(in_features=4, out_features=8, bias=True)\n"
        "  (dropout): Dropout(p=0.1, inplace=False)\n"
        "  (linear2): Linear(in_features=8, out_features=4, bias=True)\n"
        "  (norm1): LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)\n"
        "  (norm2): LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)\n"
        "  (dropout1): Dropout(p=0.1, inplace=False)\n"
        "  (dropout2): Dropout(p=0.1, inplace=False)\n"
        ")")
    assert layer.activation is F.relu and layer.activation_relu_or_gelu == 1
    assert nn.TransformerEncoderLayer(4, 2, activation="gelu").activation_relu_or_gelu == 2
    assert nn.TransformerEncoderLayer(4, 2, activation=nn.GELU()).activation_relu_or_gelu == 2
    assert nn.TransformerEncoderLayer(4, 2, activation=rt.tanh).activation_relu_or_gelu == 0
    assert nn.TransformerEncoderLayer(4, 2).linear1.out_features == 2048
    model = nn.Transformer(4, 2, 1, 1, 8, batch_first=True)
    assert (model.d_model, model.nhead, model.batch_first) == (4, 2, True)


def test_callable_activation():
    rt.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, activation=rt.tanh).double().eval()
    x = _rand(5, 3, 8)
    _ACT["tanh"] = np.tanh
    try:
        ref = _np_encoder_layer(layer, _np(x), act="tanh")
    finally:
        del _ACT["tanh"]
    np.testing.assert_allclose(_np(layer(x)), ref, rtol=1e-10, atol=1e-10)


def test_generate_square_subsequent_mask():
    m = nn.Transformer.generate_square_subsequent_mask(3)
    assert m.dtype == rt.float32
    np.testing.assert_array_equal(m.numpy(), [[0, -np.inf, -np.inf], [0, 0, -np.inf],
                                              [0, 0, 0]])
    assert nn.Transformer.generate_square_subsequent_mask(2, dtype=rt.float64).dtype == \
        rt.float64


def test_causal_mask_detected_and_equivalent_to_is_causal():
    rt.manual_seed(0)
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2,
                                enable_nested_tensor=False).double().eval()
    x = _rand(5, 2, 8)
    mask = nn.Transformer.generate_square_subsequent_mask(5, dtype=rt.float64)
    a = enc(x, mask=mask)
    b = enc(x, mask=mask, is_causal=True)
    np.testing.assert_allclose(_np(a), _np(b), rtol=1e-12, atol=1e-12)
    bool_mask = rt.tensor(np.triu(np.ones((5, 5), bool), 1))
    np.testing.assert_allclose(_np(enc(x, mask=bool_mask)), _np(a), rtol=1e-12, atol=1e-12)


def test_nested_tensor_warning_as_pytorch():
    with pytest.warns(UserWarning, match="enable_nested_tensor is True, but "
                                         "self.use_nested_tensor is False because "
                                         "encoder_layer.self_attn.batch_first was not True"):
        enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8), 2)
    assert enc.use_nested_tensor is False
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8, batch_first=True), 2)


@pytest.mark.parametrize("call,exc,msg", [
    pytest.param(lambda: nn.Transformer(4, 2, 1, 1, 8)(rt.randn(3, 2, 4), rt.randn(3, 3, 4)),
                 RuntimeError, "the batch number of src and tgt must be equal", marks=_NESTED),
    (lambda: nn.Transformer(4, 2, 1, 1, 8, batch_first=True)(rt.randn(2, 3, 4),
                                                             rt.randn(3, 3, 4)),
     RuntimeError, "the batch number of src and tgt must be equal"),
    pytest.param(lambda: nn.Transformer(4, 2, 1, 1, 8)(rt.randn(3, 2, 4), rt.randn(3, 2, 5)),
                 RuntimeError, "the feature number of src and tgt must be equal to d_model",
                 marks=_NESTED),
    (lambda: nn.TransformerEncoderLayer(4, 2, 8, activation="tanh"), RuntimeError,
     "activation should be relu/gelu, not tanh"),
    (lambda: nn.TransformerEncoderLayer(5, 2), AssertionError,
     "embed_dim must be divisible by num_heads"),
    (lambda: nn.TransformerEncoderLayer(4, 2, 8)(rt.randn(3, 2, 4),
                                                 src_mask=rt.zeros(3, 3, dtype=rt.int64)),
     AssertionError, "only bool and floating types of src_mask are supported"),
])
def test_errors(call, exc, msg):
    with pytest.raises(exc) as info:
        call()
    assert msg in str(info.value)
