"""rt_nn against PyTorch 2.13 for the recurrent, attention and transformer families: the same
module built in both, torch's state_dict copied into rt's, the same inputs; outputs, final
states, attention weights and the gradients of the inputs and of every parameter must agree
(float64 tight, float32 loose). Models with dropout run in eval mode. A second table runs
torch's inference fast paths (eval + no_grad: fused multi-head attention and encoder layer)
against rt's composite forward.
"""
import dataclasses
import warnings
import zlib
from typing import Callable

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn

torch = pytest.importorskip("torch", reason="PyTorch cannot be imported; the parity suite "
                                            "runs in `tox -e parity` (torch==2.13.0)")

TOL = {"float64": (1e-9, 1e-10), "float32": (2e-4, 2e-5)}


@dataclasses.dataclass
class Case:
    name: str
    make: Callable          # make(nn) -> module (nn = torch.nn or rt_nn)
    inputs: tuple           # shapes of the float inputs (all require grad)
    call: Callable = None   # call(L, nn, module, *inputs) -> output structure; default m(*x)
    extra: Callable = None  # extra(rng) -> dict of numpy arrays passed as masks (no grad)


def _flatten(out):
    """Tensors of a (nested) output, in order."""
    if out is None:
        return []
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flatten(o)]
    return [out]


def _kpm(rng, n, s):
    m = rng.random((n, s)) < 0.3
    m[:, 0] = False
    return m


def _packed(nn, m, x, lengths, hx, enforce_sorted=False, batch_first=False):
    """The module on a PackedSequence; returns (padded output, final states)."""
    U = nn.utils.rnn
    packed = U.pack_padded_sequence(x, lengths, batch_first=batch_first,
                                    enforce_sorted=enforce_sorted)
    out, h = m(packed) if hx is None else m(packed, hx)
    return U.pad_packed_sequence(out, batch_first=batch_first)[0], h


CASES = [
    # ---- recurrent ----
    Case("RNN-tanh", lambda nn: nn.RNN(4, 5), ((6, 3, 4),)),
    Case("RNN-relu-2l-bi-h0", lambda nn: nn.RNN(4, 5, 2, nonlinearity="relu",
                                                 bidirectional=True),
         ((6, 3, 4), (4, 3, 5))),
    Case("RNN-bf-nobias", lambda nn: nn.RNN(4, 5, bias=False, batch_first=True), ((3, 6, 4),)),
    Case("LSTM", lambda nn: nn.LSTM(4, 5), ((6, 3, 4),)),
    Case("LSTM-2l-bi-bf-h0c0", lambda nn: nn.LSTM(4, 5, 2, batch_first=True, bidirectional=True),
         ((3, 6, 4), (4, 3, 5), (4, 3, 5)),
         call=lambda L, nn, m, x, h, c: m(x, (h, c))),
    Case("LSTM-proj-2l-bi", lambda nn: nn.LSTM(4, 6, 2, bidirectional=True, proj_size=3),
         ((6, 3, 4), (4, 3, 3), (4, 3, 6)), call=lambda L, nn, m, x, h, c: m(x, (h, c))),
    Case("LSTM-nobias-3l", lambda nn: nn.LSTM(4, 5, 3, bias=False), ((6, 2, 4),)),
    Case("LSTM-dropout-eval", lambda nn: nn.LSTM(4, 5, 3, dropout=0.5).eval(), ((6, 2, 4),)),
    Case("LSTM-unbatched", lambda nn: nn.LSTM(4, 5, bidirectional=True), ((6, 4),)),
    Case("GRU", lambda nn: nn.GRU(4, 5), ((6, 3, 4),)),
    Case("GRU-3l-bi-h0", lambda nn: nn.GRU(4, 5, 3, bidirectional=True),
         ((6, 3, 4), (6, 3, 5))),
    Case("GRU-bf-nobias-unbatched", lambda nn: nn.GRU(4, 5, bias=False, batch_first=True),
         ((6, 4), (1, 5))),
    Case("LSTM-large", lambda nn: nn.LSTM(32, 48, 2), ((20, 8, 32),)),
    Case("GRU-large-bi", lambda nn: nn.GRU(32, 48, bidirectional=True), ((20, 8, 32),)),
    Case("LSTM-packed-2l-bi-h0c0", lambda nn: nn.LSTM(4, 5, 2, bidirectional=True),
         ((6, 4, 4), (4, 4, 5), (4, 4, 5)), call=lambda L, nn, m, x, h, c: _packed(
             nn, m, x, [3, 6, 1, 4], (h, c))),
    Case("GRU-packed-bi-sorted", lambda nn: nn.GRU(4, 5, bidirectional=True), ((6, 3, 4),),
         call=lambda L, nn, m, x: _packed(nn, m, x, [6, 4, 2], None, enforce_sorted=True)),
    Case("RNN-packed-bf", lambda nn: nn.RNN(4, 5, 2, batch_first=True), ((4, 6, 4),),
         call=lambda L, nn, m, x: _packed(nn, m, x, [2, 6, 5, 1], None, batch_first=True)),
    Case("RNNCell", lambda nn: nn.RNNCell(4, 5), ((3, 4), (3, 5))),
    Case("RNNCell-relu-nohx", lambda nn: nn.RNNCell(4, 5, nonlinearity="relu"), ((3, 4),)),
    Case("LSTMCell", lambda nn: nn.LSTMCell(4, 5), ((3, 4), (3, 5), (3, 5)),
         call=lambda L, nn, m, x, h, c: m(x, (h, c))),
    Case("LSTMCell-unbatched-nobias", lambda nn: nn.LSTMCell(4, 5, bias=False), ((4,),)),
    Case("GRUCell", lambda nn: nn.GRUCell(4, 5), ((3, 4), (3, 5))),
    # ---- attention ----
    Case("MHA", lambda nn: nn.MultiheadAttention(8, 2), ((4, 3, 8), (6, 3, 8), (6, 3, 8))),
    Case("MHA-self-bf-kpm", lambda nn: nn.MultiheadAttention(8, 4, batch_first=True),
         ((3, 5, 8),), call=lambda L, nn, m, x, kpm: m(x, x, x, key_padding_mask=kpm),
         extra=lambda rng: {"kpm": _kpm(rng, 3, 5)}),
    Case("MHA-kdim-vdim-biaskv-zeroattn",
         lambda nn: nn.MultiheadAttention(8, 2, kdim=5, vdim=3, add_bias_kv=True,
                                          add_zero_attn=True),
         ((4, 3, 8), (6, 3, 5), (6, 3, 3)),
         call=lambda L, nn, m, q, k, v, am: m(q, k, v, attn_mask=am),
         extra=lambda rng: {"am": rng.random((4, 6)) < 0.3}),
    Case("MHA-float-3d-mask-per-head",
         lambda nn: nn.MultiheadAttention(8, 2, bias=False),
         ((4, 3, 8), (6, 3, 8), (6, 3, 8)),
         call=lambda L, nn, m, q, k, v, am: m(q, k, v, attn_mask=am,
                                              average_attn_weights=False),
         extra=lambda rng: {"am": rng.standard_normal((6, 4, 6))}),
    Case("MHA-no-weights-causal",
         lambda nn: nn.MultiheadAttention(8, 2), ((5, 2, 8),),
         call=lambda L, nn, m, x, am: m(x, x, x, attn_mask=am, need_weights=False,
                                        is_causal=True),
         extra=lambda rng: {"am": np.triu(np.full((5, 5), -np.inf), 1)}),
    Case("MHA-unbatched", lambda nn: nn.MultiheadAttention(8, 2),
         ((4, 8), (6, 8), (6, 8)),
         call=lambda L, nn, m, q, k, v, kpm: m(q, k, v, key_padding_mask=kpm),
         extra=lambda rng: {"kpm": _kpm(rng, 1, 6)[0]}),
    Case("MHA-dropout-eval", lambda nn: nn.MultiheadAttention(8, 2, dropout=0.5).eval(),
         ((4, 3, 8), (6, 3, 8), (6, 3, 8))),
    Case("SDPA-bool-mask", None, ((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5)),
         call=lambda L, nn, m, q, k, v, am: nn.functional.scaled_dot_product_attention(
             q, k, v, attn_mask=am),
         extra=lambda rng: {"am": rng.random((4, 6)) < 0.7}),
    Case("SDPA-float-mask-scale", None, ((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 8)),
         call=lambda L, nn, m, q, k, v, am: nn.functional.scaled_dot_product_attention(
             q, k, v, attn_mask=am, scale=0.2),
         extra=lambda rng: {"am": rng.standard_normal((2, 1, 4, 6))}),
    Case("SDPA-causal-gqa", None, ((2, 4, 5, 8), (2, 2, 5, 8), (2, 2, 5, 8)),
         call=lambda L, nn, m, q, k, v: nn.functional.scaled_dot_product_attention(
             q, k, v, is_causal=True, enable_gqa=True)),
    Case("SDPA-3d", None, ((3, 4, 8), (3, 6, 8), (3, 6, 2)),
         call=lambda L, nn, m, q, k, v: nn.functional.scaled_dot_product_attention(q, k, v)),
    # ---- transformers (dropout in eval) ----
    Case("EncoderLayer", lambda nn: nn.TransformerEncoderLayer(8, 2, 16).eval(), ((5, 3, 8),),
         call=lambda L, nn, m, x, kpm: m(x, src_key_padding_mask=kpm),
         extra=lambda rng: {"kpm": _kpm(rng, 3, 5)}),
    Case("EncoderLayer-prenorm-gelu-bf",
         lambda nn: nn.TransformerEncoderLayer(8, 2, 16, activation="gelu", norm_first=True,
                                               batch_first=True).eval(),
         ((3, 5, 8),), call=lambda L, nn, m, x, am: m(x, src_mask=am),
         extra=lambda rng: {"am": np.triu(np.full((5, 5), -np.inf), 1)}),
    Case("DecoderLayer", lambda nn: nn.TransformerDecoderLayer(8, 2, 16).eval(),
         ((4, 3, 8), (5, 3, 8)),
         call=lambda L, nn, m, t, s, am, kpm: m(t, s, tgt_mask=am,
                                                memory_key_padding_mask=kpm),
         extra=lambda rng: {"am": np.triu(np.full((4, 4), -np.inf), 1),
                            "kpm": _kpm(rng, 3, 5)}),
    Case("Encoder-stack-norm",
         lambda nn: nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2,
                                          nn.LayerNorm(8)).eval(),
         ((5, 3, 8),), call=lambda L, nn, m, x, am: m(x, mask=am),
         extra=lambda rng: {"am": np.triu(np.full((5, 5), -np.inf), 1)}),
    Case("Decoder-stack", lambda nn: nn.TransformerDecoder(
        nn.TransformerDecoderLayer(8, 2, 16, norm_first=True), 2).eval(),
        ((4, 3, 8), (5, 3, 8))),
    Case("Transformer", lambda nn: nn.Transformer(8, 2, 2, 2, 16).eval(),
         ((5, 3, 8), (4, 3, 8)),
         call=lambda L, nn, m, s, t, am, kpm: m(s, t, tgt_mask=am, src_key_padding_mask=kpm,
                                                memory_key_padding_mask=kpm),
         extra=lambda rng: {"am": np.triu(np.full((4, 4), -np.inf), 1),
                            "kpm": _kpm(rng, 3, 5)}),
    Case("Transformer-bf-nobias-prenorm",
         lambda nn: nn.Transformer(8, 2, 1, 1, 16, batch_first=True, bias=False,
                                   norm_first=True).eval(),
         ((3, 5, 8), (3, 4, 8))),
]


def _build(case, L, nn, dtype):
    if case.make is None:
        return None
    torch.manual_seed(0)
    rt.manual_seed(0)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="enable_nested_tensor is True")
        return case.make(nn).to(getattr(L, dtype))


def _run(case, L, nn, m, arrays, masks, dtype):
    xs = [L.tensor(a, dtype=getattr(L, dtype)).requires_grad_() for a in arrays]
    mk = {}
    for k, a in masks.items():
        mk[k] = L.tensor(a) if a.dtype == bool else L.tensor(a, dtype=getattr(L, dtype))
    if case.call is None:
        out = m(*xs)
    else:
        out = case.call(L, nn, m, *xs, **mk)
    return xs, _flatten(out)


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_parity(case, dtype):
    rtol, atol = TOL[dtype]
    rng = np.random.default_rng(zlib.crc32(case.name.encode()))
    arrays = [rng.standard_normal(s) for s in case.inputs]
    masks = case.extra(rng) if case.extra else {}
    tm = _build(case, torch, torch.nn, dtype)
    rm = _build(case, rt, rt_nn, dtype)
    if tm is not None:
        assert list(tm.state_dict()) == list(rm.state_dict())
        rm.load_state_dict({k: rt.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    tx, touts = _run(case, torch, torch.nn, tm, arrays, masks, dtype)
    rx, routs = _run(case, rt, rt_nn, rm, arrays, masks, dtype)
    assert len(touts) == len(routs)
    for t, r in zip(touts, routs):
        assert tuple(t.shape) == tuple(r.shape)
        np.testing.assert_allclose(r.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol)
    # gradients: the same random weighting of every output
    grng = np.random.default_rng(1)
    weights = [grng.standard_normal(tuple(t.shape)) for t in touts]
    tloss = sum((t * torch.tensor(w, dtype=t.dtype)).sum() for t, w in zip(touts, weights))
    rloss = sum((r * rt.tensor(w, dtype=r.dtype)).sum() for r, w in zip(routs, weights))
    tloss.backward()
    rloss.backward()
    for i, (a, b) in enumerate(zip(tx, rx)):
        assert (a.grad is None) == (b.grad is None), f"input {i}"
        if a.grad is not None:
            np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=rtol, atol=atol,
                                       err_msg=f"input {i}")
    if tm is not None:
        for (name, p), q in zip(tm.named_parameters(), rm.parameters()):
            assert (p.grad is None) == (q.grad is None), name
            if p.grad is not None:
                np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=rtol, atol=atol,
                                           err_msg=name)


# ---- torch's inference fast paths (eval + no_grad) against rt --------------------------------

FAST = [
    ("MHA-self-bf", lambda nn: nn.MultiheadAttention(16, 4, batch_first=True),
     lambda nn, m, x, kpm: m(x, x, x, key_padding_mask=kpm)),
    ("EncoderLayer-bf", lambda nn: nn.TransformerEncoderLayer(16, 4, 32, batch_first=True),
     lambda nn, m, x, kpm: m(x, src_key_padding_mask=kpm)),
    ("Encoder-bf-nested", lambda nn: nn.TransformerEncoder(
        nn.TransformerEncoderLayer(16, 4, 32, batch_first=True), 2),
     lambda nn, m, x, kpm: m(x, src_key_padding_mask=kpm)),
    ("LSTM", lambda nn: nn.LSTM(16, 32, 2), lambda nn, m, x, kpm: m(x)),
    ("GRU-bi", lambda nn: nn.GRU(16, 32, bidirectional=True), lambda nn, m, x, kpm: m(x)),
]


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors is in prototype stage")
@pytest.mark.parametrize("name,make,call", FAST, ids=[f[0] for f in FAST])
def test_inference_paths_float32(name, make, call):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    x = rng.standard_normal((3, 6, 16)).astype(np.float32)
    kpm = np.zeros((3, 6), bool)
    kpm[1, 4:] = True                 # left-aligned padding, as the nested path needs
    torch.manual_seed(0)
    tm = make(torch.nn).eval()
    rm = make(rt_nn).eval()
    rm.load_state_dict({k: rt.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    with torch.no_grad():
        tout = _flatten(call(torch.nn, tm, torch.tensor(x), torch.tensor(kpm)))
    with rt.no_grad():
        rout = _flatten(call(rt_nn, rm, rt.tensor(x), rt.tensor(kpm)))
    for t, r in zip(tout, rout):
        t = t.numpy()
        r = r.numpy()
        if name == "Encoder-bf-nested":
            # torch's nested path returns zeros at padded positions
            r = np.where(kpm[..., None], 0.0, r)
        np.testing.assert_allclose(r, t, rtol=1e-4, atol=2e-5)
