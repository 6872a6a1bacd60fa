"""Attention: F.scaled_dot_product_attention, F.multi_head_attention_forward and
MultiheadAttention. Forward against a numpy reference (one line per configuration: masks
bool/float, 2-D/3-D, key padding, causal, scale, GQA, bias_kv, zero_attn, kdim/vdim,
batch_first, unbatched, need_weights, per-head weights), mask semantics, gradcheck and
gradgradcheck through inputs and parameters, train/eval (attention dropout), state_dict keys,
default initialisation, repr and PyTorch's errors."""
import math

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
import rt_nn.functional as F
from rt_autograd.testing import gradcheck, gradgradcheck


def _np(t):
    return np.array(t.detach().numpy(), dtype=np.float64, copy=True)


def _rand(*shape, seed=0, dtype=rt.float64, requires_grad=False):
    a = np.random.default_rng(seed).standard_normal(shape)
    return rt.tensor(a, dtype=dtype).requires_grad_(requires_grad)


def _bool(*shape, seed=0, p=0.3, keep_first=True):
    m = np.random.default_rng(seed).random(shape) < p
    if keep_first:
        m[..., 0] = False
    return m


def _np_softmax(x):
    with np.errstate(invalid="ignore"):
        e = np.exp(x - x.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)


# ---- scaled_dot_product_attention ----------------------------------------------------------

def _np_sdpa(q, k, v, mask=None, causal=False, scale=None, gqa=False):
    """mask: numpy bool (True = attend) or float (added)."""
    if gqa and q.ndim >= 3 and k.shape[-3] != q.shape[-3]:
        k = np.repeat(k, q.shape[-3] // k.shape[-3], axis=-3)
        v = np.repeat(v, q.shape[-3] // v.shape[-3], axis=-3)
    L, S = q.shape[-2], k.shape[-2]
    s = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    att = q @ np.swapaxes(k, -1, -2) * s
    bias = np.zeros((L, S))
    if causal:
        bias = np.where(np.tril(np.ones((L, S), bool)), 0.0, -np.inf)
    elif mask is not None:
        bias = np.where(mask, 0.0, -np.inf) if mask.dtype == bool else mask
    att = att + bias
    dead = np.all(np.broadcast_to(bias, att.shape) == -np.inf, axis=-1, keepdims=True)
    w = np.where(dead, 0.0, _np_softmax(np.where(dead, 0.0, att)))
    return w @ v


SDPA = [
    # name, q, k, v shapes, mask (None | "bool" shape | "float" shape), kwargs
    ("4d", (2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5), None, {}),
    ("3d", (3, 4, 8), (3, 6, 8), (3, 6, 8), None, {}),
    ("2d", (4, 8), (6, 8), (6, 3), None, {}),
    ("broadcast-batch", (2, 3, 4, 8), (1, 3, 6, 8), (2, 1, 6, 8), None, {}),
    ("bool-mask", (2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 8), ("bool", (4, 6)), {}),
    ("bool-mask-4d", (2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 8), ("bool", (2, 1, 4, 6)), {}),
    ("float-mask", (2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 8), ("float", (2, 3, 4, 6)), {}),
    ("causal-square", (2, 3, 5, 8), (2, 3, 5, 8), (2, 3, 5, 8), None, {"is_causal": True}),
    ("causal-LneS", (2, 2, 3, 8), (2, 2, 6, 8), (2, 2, 6, 8), None, {"is_causal": True}),
    ("scale", (2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 8), None, {"scale": 0.3}),
    ("gqa", (2, 4, 3, 8), (2, 2, 5, 8), (2, 1, 5, 8), None, {"enable_gqa": True}),
]


def _sdpa_inputs(qs, ks, vs, mask, dtype=rt.float64, requires_grad=False):
    q = _rand(*qs, seed=1, dtype=dtype, requires_grad=requires_grad)
    k = _rand(*ks, seed=2, dtype=dtype, requires_grad=requires_grad)
    v = _rand(*vs, seed=3, dtype=dtype, requires_grad=requires_grad)
    m = None
    if mask is not None:
        kind, shape = mask
        m = rt.tensor(_bool(*shape, seed=4)) if kind == "bool" else _rand(*shape, seed=4,
                                                                          dtype=dtype)
    return q, k, v, m


@pytest.mark.parametrize("dtype", [rt.float64, rt.float32])
@pytest.mark.parametrize("name,qs,ks,vs,mask,kw", SDPA, ids=[s[0] for s in SDPA])
def test_sdpa_matches_numpy(name, qs, ks, vs, mask, kw, dtype):
    q, k, v, m = _sdpa_inputs(qs, ks, vs, mask, dtype)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=m, **kw)
    ref = _np_sdpa(_np(q), _np(k), _np(v), None if m is None else m.numpy(),
                   causal=kw.get("is_causal", False), scale=kw.get("scale"),
                   gqa=kw.get("enable_gqa", False))
    tol = 1e-12 if dtype == rt.float64 else 2e-5
    assert out.dtype == dtype and tuple(out.shape) == ref.shape
    np.testing.assert_allclose(_np(out), ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("name,qs,ks,vs,mask,kw", SDPA, ids=[s[0] for s in SDPA])
def test_sdpa_gradcheck(name, qs, ks, vs, mask, kw):
    small = lambda s: s[:-2] + (min(s[-2], 3), min(s[-1], 3))  # noqa: E731
    qs, ks, vs = small(qs), small(ks), small(vs)
    if mask is not None:
        mask = (mask[0], mask[1][:-2] + (qs[-2], ks[-2]))
    if kw.get("is_causal"):
        ks = ks[:-2] + (max(ks[-2], qs[-2]),) + ks[-1:]
        vs = vs[:-2] + (ks[-2],) + vs[-1:]
    q, k, v, m = _sdpa_inputs(qs, ks, vs, mask, requires_grad=True)
    inputs = [q, k, v]
    if m is not None and m.dtype == rt.float64:
        inputs.append(m.requires_grad_())
        fn = lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m, **kw)  # noqa: E731
    else:
        fn = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, m, **kw)  # noqa: E731
    assert gradcheck(fn, tuple(inputs))
    assert gradgradcheck(fn, tuple(inputs))


def test_sdpa_mask_semantics():
    """bool True = may attend; a row with nothing to attend to gives zeros (and zero
    gradients), as PyTorch's _safe_softmax; -inf float entries behave as False."""
    q = _rand(1, 3, 4, requires_grad=True)
    k = _rand(1, 5, 4, seed=1, requires_grad=True)
    v = _rand(1, 5, 2, seed=2, requires_grad=True)
    m = np.ones((3, 5), bool)
    m[0, 2:] = False
    m[1] = False
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=rt.tensor(m))
    # row 0 only sees keys 0 and 1
    w = _np_softmax(_np(q)[0, 0] @ _np(k)[0, :2].T / 2.0)
    np.testing.assert_allclose(_np(out)[0, 0], w @ _np(v)[0, :2], rtol=1e-12)
    np.testing.assert_array_equal(_np(out)[0, 1], 0.0)
    out.sum().backward()
    assert np.isfinite(_np(q.grad)).all()
    np.testing.assert_array_equal(_np(q.grad)[0, 1], 0.0)
    fm = np.where(m, 0.0, -np.inf)
    out_f = F.scaled_dot_product_attention(q, k, v, attn_mask=rt.tensor(fm))
    np.testing.assert_allclose(_np(out_f), _np(out), rtol=1e-12)


def test_sdpa_dropout():
    q, k, v, _ = _sdpa_inputs((2, 2, 4, 8), (2, 2, 6, 8), (2, 2, 6, 8), None)
    rt.manual_seed(0)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    rt.manual_seed(0)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    c = F.scaled_dot_product_attention(q, k, v)
    np.testing.assert_array_equal(_np(a), _np(b))
    assert np.abs(_np(a) - _np(c)).max() > 1e-3
    z = F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    np.testing.assert_array_equal(_np(z), 0.0)


@pytest.mark.parametrize("call,msg", [
    (lambda: F.scaled_dot_product_attention(rt.randn(4), rt.randn(4), rt.randn(4)),
     "Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: 1 "
     "key.dim: 1 and value.dim: 1 instead."),
    (lambda: F.scaled_dot_product_attention(rt.randn(3, 4), rt.randn(3, 4),
                                            rt.randn(3, 4).double()),
     "Expected query, key, and value to have the same dtype, but got query.dtype: float "
     "key.dtype: float and value.dtype: double instead."),
    (lambda: F.scaled_dot_product_attention(rt.randn(3, 4), rt.randn(5, 4), rt.randn(5, 4),
                                            attn_mask=rt.zeros(3, 5, dtype=rt.int64)),
     "Expected attn_mask dtype to be bool or float or to match query dtype, but got "
     "attn_mask.dtype: long int and  query.dtype: float instead."),
    (lambda: F.scaled_dot_product_attention(rt.randn(3, 4), rt.randn(5, 4), rt.randn(5, 4),
                                            dropout_p=1.5),
     "dropout probability has to be between 0 and 1, but got 1.5"),
    (lambda: F.scaled_dot_product_attention(rt.randn(3, 4), rt.randn(5, 4), rt.randn(5, 4),
                                            attn_mask=rt.ones(3, 5, dtype=rt.bool),
                                            is_causal=True),
     "_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True"),
    (lambda: F.scaled_dot_product_attention(rt.randn(1, 3, 3, 4), rt.randn(1, 2, 5, 4),
                                            rt.randn(1, 2, 5, 4), enable_gqa=True),
     "Number of heads in key and value must divide the number of heads in"),
])
def test_sdpa_errors(call, msg):
    with pytest.raises(RuntimeError) as info:
        call()
    assert msg in str(info.value)


# ---- multi-head attention: numpy reference ----------------------------------------------------

def _np_mha(m, query, key, value, key_padding_mask=None, attn_mask=None, need_weights=True,
            average=True, is_causal=False):
    """MultiheadAttention's math (eval mode) in float64 numpy, from the module's parameters."""
    q, k, v = _np(query), _np(key), _np(value)
    unbatched = q.ndim == 2
    if unbatched:
        q, k, v = q[:, None], k[:, None], v[:, None]
    elif m.batch_first:
        q, k, v = (a.transpose(1, 0, 2) for a in (q, k, v))
    E, H = m.embed_dim, m.num_heads
    hd = E // H
    L, N, S = q.shape[0], q.shape[1], k.shape[0]
    if m._qkv_same_embed_dim:
        wq, wk, wv = np.split(_np(m.in_proj_weight), 3)
    else:
        wq, wk, wv = _np(m.q_proj_weight), _np(m.k_proj_weight), _np(m.v_proj_weight)
    bq = bk = bv = 0
    if m.in_proj_bias is not None:
        bq, bk, bv = np.split(_np(m.in_proj_bias), 3)
    Q, K, V = q @ wq.T + bq, k @ wk.T + bk, v @ wv.T + bv
    if m.bias_k is not None:
        K = np.concatenate([K, np.broadcast_to(_np(m.bias_k), (1, N, E))])
        V = np.concatenate([V, np.broadcast_to(_np(m.bias_v), (1, N, E))])
    Q = Q.reshape(L, N, H, hd).transpose(1, 2, 0, 3)          # N, H, L, hd
    K = K.reshape(K.shape[0], N, H, hd).transpose(1, 2, 0, 3)
    V = V.reshape(V.shape[0], N, H, hd).transpose(1, 2, 0, 3)
    if m.add_zero_attn:
        K = np.concatenate([K, np.zeros((N, H, 1, hd))], axis=2)
        V = np.concatenate([V, np.zeros((N, H, 1, hd))], axis=2)
    Sk = K.shape[2]
    bias = np.zeros((N, H, L, Sk))
    if attn_mask is not None:
        am = attn_mask.numpy()
        am = np.where(am, -np.inf, 0.0) if am.dtype == bool else am.astype(np.float64)
        if am.ndim == 3:
            am = am.reshape(N, H, L, S)
        full = np.zeros(bias.shape[:-1] + (Sk,))
        full[..., :S] = am
        bias = bias + full
    if key_padding_mask is not None:
        kp = key_padding_mask.numpy()
        if unbatched:
            kp = kp[None]
        kp = np.where(kp, -np.inf, 0.0) if kp.dtype == bool else kp.astype(np.float64)
        full = np.zeros((N, Sk))
        full[:, :S] = kp
        bias = bias + full[:, None, None, :]
    att = Q @ K.transpose(0, 1, 3, 2) / math.sqrt(hd) + bias
    w = _np_softmax(att)
    if not need_weights:
        dead = np.all(bias == -np.inf, axis=-1, keepdims=True)
        w = np.where(dead, 0.0, w)
    out = (w @ V).transpose(2, 0, 1, 3).reshape(L, N, E)
    out = out @ _np(m.out_proj.weight).T
    if m.out_proj.bias is not None:
        out = out + _np(m.out_proj.bias)
    if unbatched:
        out = out[:, 0]
    elif m.batch_first:
        out = out.transpose(1, 0, 2)
    if not need_weights:
        return out, None
    weights = w.mean(1) if average else w
    if unbatched:
        weights = weights[0]
    return out, weights


# name, constructor kwargs, (L, S, N), call options
MHA = [
    ("basic", dict(embed_dim=8, num_heads=2), {}),
    ("self", dict(embed_dim=8, num_heads=2), {"self": True}),
    ("batch_first", dict(embed_dim=8, num_heads=2, batch_first=True), {}),
    ("batch_first-self", dict(embed_dim=8, num_heads=4, batch_first=True), {"self": True}),
    ("kdim-vdim", dict(embed_dim=8, num_heads=2, kdim=5, vdim=3), {}),
    ("nobias", dict(embed_dim=8, num_heads=2, bias=False), {}),
    ("bias_kv-zero_attn", dict(embed_dim=8, num_heads=4, add_bias_kv=True, add_zero_attn=True),
     {"kpm": "bool", "am": "bool2"}),
    ("kpm-bool", dict(embed_dim=8, num_heads=2), {"kpm": "bool"}),
    ("kpm-float", dict(embed_dim=8, num_heads=2), {"kpm": "float", "am": "float2"}),
    ("am-bool-2d", dict(embed_dim=8, num_heads=2), {"am": "bool2"}),
    ("am-float-3d", dict(embed_dim=8, num_heads=2), {"am": "float3"}),
    ("per-head", dict(embed_dim=8, num_heads=2), {"am": "float2", "avg": False}),
    ("no-weights", dict(embed_dim=8, num_heads=2), {"am": "bool2", "kpm": "bool", "nw": False}),
    ("causal", dict(embed_dim=8, num_heads=2), {"self": True, "am": "causal", "nw": False,
                                                "causal": True}),
    ("causal-weights", dict(embed_dim=8, num_heads=2), {"self": True, "am": "causal",
                                                        "causal": True}),
    ("unbatched", dict(embed_dim=8, num_heads=2), {"unbatched": True, "kpm": "bool"}),
    ("unbatched-3d-mask", dict(embed_dim=8, num_heads=2), {"unbatched": True, "am": "float3"}),
]


def _mha_case(ctor, opts, dtype=rt.float64, requires_grad=False):
    rt.manual_seed(0)
    m = nn.MultiheadAttention(**ctor).to(dtype)
    L, S, N = 4, 6, 3
    if opts.get("self") or opts.get("am") == "causal":
        S = L
    E, kd, vd = ctor["embed_dim"], ctor.get("kdim", ctor["embed_dim"]), ctor.get("vdim",
                                                                                 ctor["embed_dim"])
    if opts.get("unbatched"):
        shp = lambda s, e: (s, e)  # noqa: E731
        N = 1
    elif ctor.get("batch_first"):
        shp = lambda s, e: (N, s, e)  # noqa: E731
    else:
        shp = lambda s, e: (s, N, e)  # noqa: E731
    q = _rand(*shp(L, E), seed=1, dtype=dtype, requires_grad=requires_grad)
    if opts.get("self"):
        k = v = q
    else:
        k = _rand(*shp(S, kd), seed=2, dtype=dtype, requires_grad=requires_grad)
        v = _rand(*shp(S, vd), seed=3, dtype=dtype, requires_grad=requires_grad)
    kw = {}
    kpm = opts.get("kpm")
    kshape = (S,) if opts.get("unbatched") else (N, S)
    if kpm == "bool":
        kw["key_padding_mask"] = rt.tensor(_bool(*kshape, seed=5))
    elif kpm == "float":
        kw["key_padding_mask"] = _rand(*kshape, seed=5, dtype=dtype)
    am = opts.get("am")
    heads = ctor["num_heads"]
    if am == "bool2":
        kw["attn_mask"] = rt.tensor(_bool(L, S, seed=6))
    elif am == "float2":
        kw["attn_mask"] = _rand(L, S, seed=6, dtype=dtype)
    elif am == "float3":
        kw["attn_mask"] = _rand(N * heads, L, S, seed=6, dtype=dtype)
    elif am == "causal":
        kw["attn_mask"] = nn.Transformer.generate_square_subsequent_mask(L, dtype=dtype)
    if "nw" in opts:
        kw["need_weights"] = opts["nw"]
    if "avg" in opts:
        kw["average_attn_weights"] = opts["avg"]
    if opts.get("causal"):
        kw["is_causal"] = True
    return m.eval(), q, k, v, kw


@pytest.mark.parametrize("dtype", [rt.float64, rt.float32])
@pytest.mark.parametrize("name,ctor,opts", MHA, ids=[c[0] for c in MHA])
def test_mha_matches_numpy(name, ctor, opts, dtype):
    m, q, k, v, kw = _mha_case(ctor, opts, dtype)
    out, w = m(q, k, v, **kw)
    ref_out, ref_w = _np_mha(m, q, k, v, kw.get("key_padding_mask"), kw.get("attn_mask"),
                             kw.get("need_weights", True), kw.get("average_attn_weights", True))
    tol = 1e-12 if dtype == rt.float64 else 2e-5
    assert out.dtype == dtype and tuple(out.shape) == ref_out.shape
    np.testing.assert_allclose(_np(out), ref_out, rtol=tol, atol=tol)
    if ref_w is None:
        assert w is None
    else:
        assert tuple(w.shape) == ref_w.shape
        np.testing.assert_allclose(_np(w), ref_w, rtol=tol, atol=tol)


@pytest.mark.parametrize("name,ctor,opts", [c for c in MHA if c[0] in (
    "basic", "self", "kdim-vdim", "bias_kv-zero_attn", "kpm-float", "no-weights", "unbatched",
    "batch_first-self")], ids=lambda c: c if isinstance(c, str) else "")
def test_mha_gradcheck_inputs_and_parameters(name, ctor, opts):
    m, q, k, v, kw = _mha_case(ctor, opts, requires_grad=True)
    names = [n for n, _ in m.named_parameters()]
    params = [p.detach().clone().requires_grad_() for _, p in m.named_parameters()]
    same = opts.get("self")

    def fn(q, k, v, *ps):
        d = dict(zip(names, ps))
        sep = not m._qkv_same_embed_dim
        if m.batch_first and q.dim() == 3:
            q, k, v = q.transpose(0, 1), (q if same else k).transpose(0, 1), \
                (q if same else v).transpose(0, 1)
            if same:
                k = v = q
        elif same:
            k = v = q
        out, w = F.multi_head_attention_forward(
            q, k, v, m.embed_dim, m.num_heads, d.get("in_proj_weight"), d.get("in_proj_bias"),
            d.get("bias_k"), d.get("bias_v"), m.add_zero_attn, 0.0, d["out_proj.weight"],
            d.get("out_proj.bias"), training=False, use_separate_proj_weight=sep,
            q_proj_weight=d.get("q_proj_weight"), k_proj_weight=d.get("k_proj_weight"),
            v_proj_weight=d.get("v_proj_weight"), **kw)
        return (out,) if w is None else (out, w)
    inputs = (q, k, v, *params)
    assert gradcheck(fn, inputs)


def test_mha_gradgradcheck():
    m, q, k, v, kw = _mha_case(dict(embed_dim=4, num_heads=2), {"kpm": "bool"},
                               requires_grad=True)
    w_in = m.in_proj_weight.detach().clone().requires_grad_()
    w_out = m.out_proj.weight.detach().clone().requires_grad_()

    def fn(q, k, v, w_in, w_out):
        return F.multi_head_attention_forward(q, k, v, 4, 2, w_in, None, None, None, False, 0.0,
                                              w_out, None, training=False, **kw)[0]
    q, k, v = (t.detach()[:2, :2].clone().requires_grad_() for t in (q, k, v))
    kw["key_padding_mask"] = kw["key_padding_mask"][:2, :2]
    assert gradgradcheck(fn, (q, k, v, w_in, w_out))


def test_mha_module_backward_reaches_parameters():
    m = nn.MultiheadAttention(8, 2, kdim=5, vdim=3, add_bias_kv=True)
    out, w = m(_rand(4, 2, 8, dtype=rt.float32), _rand(6, 2, 5, seed=1, dtype=rt.float32),
               _rand(6, 2, 3, seed=2, dtype=rt.float32))
    out.sum().backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and tuple(p.grad.shape) == tuple(p.shape), name


def test_mha_dropout_train_only():
    m, q, k, v, kw = _mha_case(dict(embed_dim=8, num_heads=2, dropout=0.5), {})
    ref, _ = _np_mha(m, q, k, v)
    np.testing.assert_allclose(_np(m.eval()(q, k, v)[0]), ref, rtol=1e-12, atol=1e-12)
    m.train()
    rt.manual_seed(3)
    a, wa = m(q, k, v)
    rt.manual_seed(3)
    b, _ = m(q, k, v, need_weights=False)
    assert np.abs(_np(a) - ref).max() > 1e-3
    np.testing.assert_allclose(_np(a), _np(b), rtol=1e-12, atol=1e-12)
    # dropped weights are zero, kept ones scaled by 2
    w_eval = _np_mha(m, q, k, v)[1]
    assert np.abs(_np(wa) - w_eval).max() > 1e-3


def test_mha_key_padding_semantics():
    """bool True = ignore that key: the same as removing the key."""
    m = nn.MultiheadAttention(8, 2).double()
    q, k, v = _rand(4, 1, 8), _rand(6, 1, 8, seed=1), _rand(6, 1, 8, seed=2)
    kpm = np.zeros((1, 6), bool)
    kpm[0, 4:] = True
    a, wa = m(q, k, v, key_padding_mask=rt.tensor(kpm))
    b, wb = m(q, k[:4], v[:4])
    np.testing.assert_allclose(_np(a), _np(b), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(_np(wa)[..., 4:], 0.0)
    np.testing.assert_allclose(_np(wa)[..., :4], _np(wb), rtol=1e-12)


def test_mha_mismatched_mask_types_warn():
    m = nn.MultiheadAttention(8, 2)
    q = _rand(4, 2, 8, dtype=rt.float32)
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask "
                                         "is deprecated"):
        m(q, q, q, key_padding_mask=rt.zeros(2, 4, dtype=rt.bool), attn_mask=rt.zeros(4, 4))


@pytest.mark.parametrize("ctor,keys", [
    (dict(embed_dim=4, num_heads=2),
     ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]),
    (dict(embed_dim=4, num_heads=2, kdim=3, vdim=5, add_bias_kv=True),
     ["q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "bias_k", "bias_v",
      "out_proj.weight", "out_proj.bias"]),
    (dict(embed_dim=4, num_heads=2, bias=False), ["in_proj_weight", "out_proj.weight"]),
])
def test_mha_state_dict_keys(ctor, keys):
    m = nn.MultiheadAttention(**ctor)
    assert list(m.state_dict()) == keys
    m2 = nn.MultiheadAttention(**ctor)
    m2.load_state_dict(m.state_dict())


def test_mha_default_init():
    rt.manual_seed(0)
    m = nn.MultiheadAttention(64, 4)
    w = _np(m.in_proj_weight)
    bound = math.sqrt(6.0 / (64 + 3 * 64))       # xavier_uniform_ on (3E, E)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    np.testing.assert_array_equal(_np(m.in_proj_bias), 0.0)
    np.testing.assert_array_equal(_np(m.out_proj.bias), 0.0)
    assert np.abs(_np(m.out_proj.weight)).max() <= 1 / math.sqrt(64)
    m2 = nn.MultiheadAttention(64, 4, add_bias_kv=True)
    std = math.sqrt(2.0 / (1 + 64))                  # xavier_normal_ on (1, 1, E)
    assert abs(_np(m2.bias_k).std() - std) < 0.4 * std
    assert type(m.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert isinstance(m.out_proj, nn.Linear)


def test_mha_repr_and_attributes():
    m = nn.MultiheadAttention(4, 2, dropout=0.5, kdim=3)
    assert repr(m) == ("MultiheadAttention(\n  (out_proj): NonDynamicallyQuantizableLinear("
                       "in_features=4, out_features=4, bias=True)\n)")
    assert (m.embed_dim, m.kdim, m.vdim, m.num_heads, m.head_dim, m.dropout) == \
        (4, 3, 4, 2, 2, 0.5)
    assert m._qkv_same_embed_dim is False and m.in_proj_weight is None


def test_mha_merge_masks():
    m = nn.MultiheadAttention(4, 2, batch_first=True)
    q = rt.zeros(3, 5, 4)
    kpm = rt.zeros(3, 5)
    am = rt.ones(5, 5)
    merged, kind = m.merge_masks(am, kpm, q)
    assert kind == 2 and tuple(merged.shape) == (3, 2, 5, 5)
    assert m.merge_masks(None, kpm, q)[1] == 1
    assert m.merge_masks(None, None, q) == (None, None)


@pytest.mark.parametrize("call,exc,msg", [
    (lambda: nn.MultiheadAttention(5, 2), AssertionError, "embed_dim must be divisible by "
                                                          "num_heads"),
    (lambda: nn.MultiheadAttention(0, 2), ValueError,
     "embed_dim and num_heads must be greater than 0, got embed_dim=0 and num_heads=2 instead"),
    (lambda: nn.MultiheadAttention(4, 2)(rt.randn(3, 2, 4), rt.randn(3, 2, 4), rt.randn(3, 2, 4),
                                         attn_mask=rt.zeros(3, 3, dtype=rt.int64)),
     AssertionError, "only bool and floating types of attn_mask are supported"),
    (lambda: nn.MultiheadAttention(4, 2)(rt.randn(3, 2, 4), rt.randn(3, 2, 4), rt.randn(3, 2, 4),
                                         attn_mask=rt.zeros(3, 4)),
     RuntimeError, "The shape of the 2D attn_mask is rt_tensor.Size([3, 4]), but should be "
                   "(3, 3)."),
    (lambda: nn.MultiheadAttention(4, 2)(rt.randn(3, 2, 4), rt.randn(3, 2, 4), rt.randn(3, 2, 4),
                                         attn_mask=rt.zeros(5, 3, 3)),
     RuntimeError, "The shape of the 3D attn_mask is rt_tensor.Size([5, 3, 3]), but should be "
                   "(4, 3, 3)."),
    (lambda: nn.MultiheadAttention(4, 2)(rt.randn(3, 2, 4), rt.randn(3, 2, 4), rt.randn(3, 2, 4),
                                         is_causal=True),
     RuntimeError, "Need attn_mask if specifying the is_causal hint."),
    (lambda: nn.MultiheadAttention(4, 2)(rt.randn(3, 2, 4), rt.randn(3, 2, 4), rt.randn(3, 2, 4),
                                         key_padding_mask=rt.zeros(2, 4, dtype=rt.bool)),
     AssertionError, "Expected key_padded_mask.shape[1] to be 3, but got 4"),
    (lambda: nn.MultiheadAttention(4, 2)(rt.randn(3, 2, 4), rt.randn(3, 2, 5), rt.randn(3, 2, 4)),
     AssertionError, "does not match value shape"),
    (lambda: nn.MultiheadAttention(4, 2)(rt.randn(3, 2, 6), rt.randn(3, 2, 6), rt.randn(3, 2, 6)),
     AssertionError, "was expecting embedding dimension of 4, but got 6"),
    (lambda: nn.MultiheadAttention(4, 2)(rt.randn(3, 4), rt.randn(3, 2, 4), rt.randn(3, 2, 4)),
     AssertionError, "For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but "
                     "found 3-D and 3-D tensors respectively"),
    (lambda: nn.MultiheadAttention(4, 2)(rt.randn(1, 3, 2, 4), rt.randn(3, 2, 4),
                                         rt.randn(3, 2, 4)),
     AssertionError, "query should be unbatched 2D or batched 3D tensor but received 4-D query "
                     "tensor"),
])
def test_mha_errors(call, exc, msg):
    with pytest.raises(exc) as info:
        call()
    assert msg in str(info.value)
