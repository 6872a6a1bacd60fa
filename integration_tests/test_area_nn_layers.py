"""Compatibility area "nn layers": rt_nn's layers as a PyTorch user builds them, with their
default initialisation replaced by known weights, checked against numpy float64 oracles
written from PyTorch's documented formulas: Linear, Conv2d (stride, padding, dilation,
groups), BatchNorm2d (batch statistics in training, running statistics with the unbiased
variance and ``momentum``, then eval), LayerNorm, MaxPool2d/AvgPool2d, Embedding with
``padding_idx`` (its row gets no gradient), Dropout (scaling by 1/(1-p), identity in eval),
LSTM (gate order i, f, g, o), MultiheadAttention and CrossEntropyLoss with label smoothing;
then the Module API (state_dict names, hooks, train/eval, parameter counts).

Example of the contract under test::

    >>> lin = rt_nn.Linear(3, 2)
    >>> list(lin.state_dict())
    ['weight', 'bias']
"""
import math

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
import rt_nn.functional as F


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _set(module, **arrays):
    """Overwrite the named parameters/buffers of ``module`` with float64 numpy arrays."""
    with rt.no_grad():
        for name, value in arrays.items():
            getattr(module, name).copy_(rt.from_numpy(np.asarray(value, dtype=np.float64)))
    return module


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _conv2d_ref(x, w, b, stride, padding, dilation, groups):
    """Direct convolution (cross-correlation, as PyTorch) by loops over the output."""
    n, cin, h, wd = x.shape
    cout, cin_g, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    ow = (wd + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    out = np.zeros((n, cout, oh, ow))
    cout_g = cout // groups
    for o in range(cout):
        g = o // cout_g
        for i in range(oh):
            for j in range(ow):
                patch = xp[:, g * cin_g:(g + 1) * cin_g,
                           i * stride:i * stride + dilation * (kh - 1) + 1:dilation,
                           j * stride:j * stride + dilation * (kw - 1) + 1:dilation]
                out[:, o, i, j] = (patch * w[o]).sum(axis=(1, 2, 3)) + b[o]
    return out


def test_linear_forward_and_gradients():
    w, b, x = _rand(4, 3, seed=1), _rand(4, seed=2), _rand(5, 3, seed=3)
    lin = _set(nn.Linear(3, 4).double(), weight=w, bias=b)
    xt = rt.from_numpy(x.copy()).requires_grad_()
    y = lin(xt)
    np.testing.assert_allclose(y.detach().numpy(), x @ w.T + b, rtol=1e-13)
    g = _rand(5, 4, seed=4)
    y.backward(rt.from_numpy(g))
    np.testing.assert_allclose(lin.weight.grad.numpy(), g.T @ x, rtol=1e-12)
    np.testing.assert_allclose(lin.bias.grad.numpy(), g.sum(0), rtol=1e-12)
    np.testing.assert_allclose(xt.grad.numpy(), g @ w, rtol=1e-12)


@pytest.mark.parametrize("stride,padding,dilation,groups", [(1, 0, 1, 1), (2, 1, 1, 1),
                                                           (1, 2, 2, 1), (1, 1, 1, 2)])
def test_conv2d_matches_direct_convolution(stride, padding, dilation, groups):
    x, w, b = _rand(2, 4, 7, 6, seed=5), _rand(6, 4 // groups, 3, 3, seed=6), _rand(6, seed=7)
    conv = nn.Conv2d(4, 6, 3, stride=stride, padding=padding, dilation=dilation,
                     groups=groups).double()
    _set(conv, weight=w, bias=b)
    got = conv(rt.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(got, _conv2d_ref(x, w, b, stride, padding, dilation, groups),
                               rtol=1e-12, atol=1e-12)


def test_conv2d_weight_gradient_is_the_correlation_of_input_and_output_gradient():
    x, w = _rand(2, 3, 5, 5, seed=8), _rand(4, 3, 3, 3, seed=9)
    conv = _set(nn.Conv2d(3, 4, 3, bias=False).double(), weight=w)
    g = _rand(2, 4, 3, 3, seed=10)
    conv(rt.from_numpy(x)).backward(rt.from_numpy(g))
    ref = np.zeros_like(w)
    for i in range(3):
        for j in range(3):
            ref[:, :, i, j] = np.einsum("nohw,nchw->oc", g, x[:, :, i:i + 3, j:j + 3])
    np.testing.assert_allclose(conv.weight.grad.numpy(), ref, rtol=1e-12)


def test_batchnorm2d_training_running_stats_and_eval():
    bn = nn.BatchNorm2d(3, momentum=0.2).double()
    gamma, beta = _rand(3, seed=11), _rand(3, seed=12)
    _set(bn, weight=gamma, bias=beta)
    run_mean, run_var = np.zeros(3), np.ones(3)
    for step in range(3):
        x = _rand(4, 3, 5, 5, seed=20 + step) * 2 + 1
        y = bn(rt.from_numpy(x)).detach().numpy()
        mean = x.mean(axis=(0, 2, 3))
        var = x.var(axis=(0, 2, 3))                         # biased: used to normalise
        ref = (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5)
        np.testing.assert_allclose(y, ref * gamma[:, None, None] + beta[:, None, None],
                                   rtol=1e-10, atol=1e-12)
        n = x.size // 3
        run_mean = 0.8 * run_mean + 0.2 * mean
        run_var = 0.8 * run_var + 0.2 * var * n / (n - 1)   # unbiased in the running estimate
    np.testing.assert_allclose(bn.running_mean.numpy(), run_mean, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), run_var, rtol=1e-12)
    assert bn.num_batches_tracked.item() == 3
    bn.eval()
    x = _rand(2, 3, 4, 4, seed=30)
    ref = (x - run_mean[:, None, None]) / np.sqrt(run_var[:, None, None] + 1e-5)
    np.testing.assert_allclose(bn(rt.from_numpy(x)).detach().numpy(),
                               ref * gamma[:, None, None] + beta[:, None, None], rtol=1e-10)


def test_layernorm_and_its_input_gradient():
    x, gamma, beta = _rand(3, 4, 6, seed=31), _rand(6, seed=32), _rand(6, seed=33)
    ln = _set(nn.LayerNorm(6).double(), weight=gamma, bias=beta)
    xt = rt.from_numpy(x.copy()).requires_grad_()
    y = ln(xt)
    mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    xhat = (x - mu) / np.sqrt(var + 1e-5)
    np.testing.assert_allclose(y.detach().numpy(), xhat * gamma + beta, rtol=1e-10, atol=1e-12)
    g = _rand(3, 4, 6, seed=34)
    y.backward(rt.from_numpy(g))
    gx = g * gamma
    ref = (gx - gx.mean(-1, keepdims=True) - xhat * (gx * xhat).mean(-1, keepdims=True)) \
        / np.sqrt(var + 1e-5)
    np.testing.assert_allclose(xt.grad.numpy(), ref, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(ln.weight.grad.numpy(), (g * xhat).sum((0, 1)), rtol=1e-10)


def test_max_and_avg_pool2d():
    x = _rand(2, 3, 6, 7, seed=35)
    got_max = nn.MaxPool2d(2, stride=2)(rt.from_numpy(x)).numpy()
    got_avg = nn.AvgPool2d(3, stride=2, padding=1)(rt.from_numpy(x)).numpy()
    ref_max = x[:, :, :6, :6].reshape(2, 3, 3, 2, 3, 2).max(axis=(3, 5))
    np.testing.assert_array_equal(got_max, ref_max)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))       # zeros count (count_include_pad)
    ref_avg = np.array([[[[xp[n, c, 2 * i:2 * i + 3, 2 * j:2 * j + 3].mean()
                           for j in range(4)] for i in range(3)] for c in range(3)]
                        for n in range(2)])
    np.testing.assert_allclose(got_avg, ref_avg, rtol=1e-12)
    # the max's gradient goes to the arg-max of each window only
    xt = rt.from_numpy(x.copy()).requires_grad_()
    nn.MaxPool2d(2)(xt).sum().backward()
    assert xt.grad.sum().item() == 2 * 3 * 3 * 3
    assert set(np.unique(xt.grad.numpy())) <= {0.0, 1.0}


def test_embedding_with_padding_idx():
    emb = nn.Embedding(5, 3, padding_idx=0).double()
    table = _rand(5, 3, seed=36)
    _set(emb, weight=table)
    idx = rt.tensor([[0, 2, 4], [2, 2, 1]])
    out = emb(idx)
    np.testing.assert_array_equal(out.detach().numpy(), table[idx.numpy()])
    out.sum().backward()
    counts = np.bincount(idx.numpy().ravel(), minlength=5).astype(np.float64)
    counts[0] = 0.0                                          # padding_idx gets no gradient
    np.testing.assert_array_equal(emb.weight.grad.numpy(), np.repeat(counts[:, None], 3, 1))
    assert np.all(nn.Embedding(4, 2, padding_idx=1).weight[1].detach().numpy() == 0.0)


def test_dropout_scales_kept_values_and_is_identity_in_eval():
    rt.manual_seed(0)
    drop = nn.Dropout(p=0.25)
    x = rt.ones(200_000)
    y = drop(x).numpy()
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.005              # 0.25 +- ~5 standard errors
    drop.eval()
    assert rt.equal(drop(x), x)


def test_lstm_one_layer_matches_the_gate_equations():
    lstm = nn.LSTM(3, 4, batch_first=True).double()
    w_ih, w_hh = _rand(16, 3, seed=37), _rand(16, 4, seed=38)
    b_ih, b_hh = _rand(16, seed=39), _rand(16, seed=40)
    _set(lstm, weight_ih_l0=w_ih, weight_hh_l0=w_hh, bias_ih_l0=b_ih, bias_hh_l0=b_hh)
    x = _rand(2, 5, 3, seed=41)
    out, (h_n, c_n) = lstm(rt.from_numpy(x))
    h, c = np.zeros((2, 4)), np.zeros((2, 4))
    outs = []
    for t in range(5):
        gates = x[:, t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        i, f, g, o = np.split(gates, 4, axis=1)             # PyTorch's order: i, f, g, o
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        outs.append(h)
    np.testing.assert_allclose(out.detach().numpy(), np.stack(outs, 1), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h_n.detach().numpy()[0], h, rtol=1e-10)
    np.testing.assert_allclose(c_n.detach().numpy()[0], c, rtol=1e-10)


def test_multihead_attention_matches_scaled_dot_product_formula():
    E, H = 8, 2
    mha = nn.MultiheadAttention(E, H, batch_first=True).double()
    w_in, b_in = _rand(3 * E, E, seed=42) * 0.3, _rand(3 * E, seed=43)
    w_out, b_out = _rand(E, E, seed=44) * 0.3, _rand(E, seed=45)
    _set(mha, in_proj_weight=w_in, in_proj_bias=b_in)
    _set(mha.out_proj, weight=w_out, bias=b_out)
    q, kv = _rand(2, 3, E, seed=46), _rand(2, 5, E, seed=47)
    out, weights = mha(rt.from_numpy(q), rt.from_numpy(kv), rt.from_numpy(kv))
    wq, wk, wv = np.split(w_in, 3)
    bq, bk, bv = np.split(b_in, 3)
    Q, K, V = q @ wq.T + bq, kv @ wk.T + bk, kv @ wv.T + bv
    d = E // H
    heads, attn = [], []
    for h in range(H):
        s = slice(h * d, (h + 1) * d)
        a = _softmax(Q[..., s] @ K[..., s].transpose(0, 2, 1) / np.sqrt(d))
        attn.append(a)
        heads.append(a @ V[..., s])
    ref = np.concatenate(heads, -1) @ w_out.T + b_out
    np.testing.assert_allclose(out.detach().numpy(), ref, rtol=1e-10, atol=1e-12)
    # default: the attention weights averaged over heads
    np.testing.assert_allclose(weights.detach().numpy(), np.mean(attn, 0), rtol=1e-10)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_with_label_smoothing_and_its_gradient(smoothing):
    logits, target = _rand(6, 4, seed=48), np.array([0, 3, 1, 1, 2, 3])
    lt = rt.from_numpy(logits.copy()).requires_grad_()
    loss = nn.CrossEntropyLoss(label_smoothing=smoothing)(lt, rt.from_numpy(target))
    logp = np.log(_softmax(logits))
    q = np.full((6, 4), smoothing / 4)
    q[np.arange(6), target] += 1 - smoothing
    np.testing.assert_allclose(loss.item(), -(q * logp).sum(1).mean(), rtol=1e-12)
    loss.backward()
    np.testing.assert_allclose(lt.grad.numpy(), (_softmax(logits) - q) / 6, rtol=1e-10,
                               atol=1e-14)


def test_module_api_as_a_user_meets_it():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),
                          nn.Linear(2 * 4 * 4, 3))
    assert list(model.state_dict()) == [
        "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
        "1.num_batches_tracked", "4.weight", "4.bias"]
    assert sum(p.numel() for p in model.parameters()) == 2 * 9 + 2 + 2 + 2 + 32 * 3 + 3
    seen = []
    handle = model[2].register_forward_hook(lambda m, inp, out: seen.append(tuple(out.shape)))
    out = model(rt.randn(5, 1, 6, 6))
    assert tuple(out.shape) == (5, 3) and seen == [(5, 2, 4, 4)]
    handle.remove()
    model(rt.randn(1, 1, 6, 6))
    assert len(seen) == 1
    model.eval()
    assert not any(m.training for m in model.modules())
    missing = model.load_state_dict({k: v for k, v in model.state_dict().items()
                                     if k != "4.bias"}, strict=False)
    assert missing.missing_keys == ["4.bias"] and missing.unexpected_keys == []
    with pytest.raises(RuntimeError, match="4.bias"):
        model.load_state_dict({k: v for k, v in model.state_dict().items() if k != "4.bias"})


def test_functional_and_module_forms_agree():
    x = rt.from_numpy(_rand(3, 5, seed=49))
    assert rt.equal(nn.GELU()(x), F.gelu(x))
    assert rt.equal(nn.Softmax(dim=1)(x), F.softmax(x, dim=1))
    exact_gelu = [[v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in row]
                  for row in x.numpy()]
    np.testing.assert_allclose(F.gelu(x).numpy(), exact_gelu, rtol=1e-12)
    np.testing.assert_allclose(F.log_softmax(x, dim=1).numpy(),
                               np.log(_softmax(x.numpy(), axis=1)), rtol=1e-12)
