"""Recurrent family: RNN, LSTM, GRU and their cells. Forward against a step-by-step numpy
reference with the same weights (one line per configuration: multi-layer, bidirectional,
batch_first, proj_size, no bias, unbatched, given initial states), float32 and float64,
graph and no_grad paths; gradcheck and gradgradcheck through inputs, initial states and
parameters (the fused Cython time loop and the composite path); dropout between layers;
state_dict keys; init bounds; repr; PyTorch's errors; the kernel entry points' checks."""
import math
import warnings

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
import rt_tensor as rtt
from rt_autograd.testing import gradcheck, gradgradcheck
from rt_nn._functional import rnn as RF
from rt_nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def _np(t):
    return np.array(t.detach().numpy(), dtype=np.float64, copy=True)


def _rand(*shape, seed=0, dtype=rt.float64, requires_grad=False):
    a = np.random.default_rng(seed).standard_normal(shape)
    return rt.tensor(a, dtype=dtype).requires_grad_(requires_grad)


@pytest.fixture(params=["kernel", "composite"])
def path(request, monkeypatch):
    """Runs a test through the fused time loop and through the differentiable composite."""
    if request.param == "composite":
        monkeypatch.setattr(RF, "_K", None)
    return request.param


# ---- numpy reference ----------------------------------------------------------------------

def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def _np_cell(mode, x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr=None):
    gi = x @ w_ih.T + (0 if b_ih is None else b_ih)
    gh = h @ w_hh.T + (0 if b_hh is None else b_hh)
    if mode == "RNN_TANH":
        return np.tanh(gi + gh), None
    if mode == "RNN_RELU":
        return np.maximum(gi + gh, 0), None
    if mode == "LSTM":
        i, f, g, o = np.split(gi + gh, 4, axis=-1)
        c = _sig(f) * c + _sig(i) * np.tanh(g)
        h = _sig(o) * np.tanh(c)
        return (h if w_hr is None else h @ w_hr.T), c
    ir, iz, in_ = np.split(gi, 3, axis=-1)
    hr, hz, hn = np.split(gh, 3, axis=-1)
    r, z = _sig(ir + hr), _sig(iz + hz)
    n = np.tanh(in_ + r * hn)
    return (1 - z) * n + z * h, None


def _np_net(m, x, hx=None):
    """The module's math, one step at a time, in float64. x: the module's input layout."""
    x = _np(x)
    unbatched = x.ndim == 2
    if unbatched:
        x = x[:, None] if not m.batch_first else x[None]
    if m.batch_first:
        x = x.transpose(1, 0, 2)
    T, B = x.shape[:2]
    dirs = 2 if m.bidirectional else 1
    hsz = m.proj_size or m.hidden_size
    lstm = m.mode == "LSTM"
    if hx is None:
        h0 = np.zeros((m.num_layers * dirs, B, hsz))
        c0 = np.zeros((m.num_layers * dirs, B, m.hidden_size))
    else:
        h0, c0 = (_np(hx[0]), _np(hx[1])) if lstm else (_np(hx), None)
        if unbatched:
            h0 = h0[:, None]
            c0 = c0[:, None] if lstm else None
    hs, cs = [], []
    inp = x
    for layer in range(m.num_layers):
        outs = []
        for d in range(dirs):
            sfx = f"l{layer}" + ("_reverse" if d else "")
            p = {k: _np(v) for k, v in m.named_parameters() if k.endswith(sfx)}
            k = layer * dirs + d
            h, c = h0[k], (c0[k] if lstm else None)
            out = np.zeros((T, B, hsz))
            for t in (range(T - 1, -1, -1) if d else range(T)):
                h, c = _np_cell(m.mode, inp[t], h, c, p[f"weight_ih_{sfx}"],
                                p[f"weight_hh_{sfx}"], p.get(f"bias_ih_{sfx}"),
                                p.get(f"bias_hh_{sfx}"), p.get(f"weight_hr_{sfx}"))
                out[t] = h
            outs.append(out)
            hs.append(h)
            cs.append(c)
        inp = np.concatenate(outs, axis=2)
    out = inp.transpose(1, 0, 2) if m.batch_first else inp
    h_n = np.stack(hs)
    c_n = np.stack(cs) if lstm else None
    if unbatched:
        out = out[:, 0] if not m.batch_first else out[0]
        h_n = h_n[:, 0]
        c_n = c_n[:, 0] if lstm else None
    return out, h_n, c_n


# one line per configuration: name, constructor, input shape, with initial states
NETS = [
    ("RNN", lambda: nn.RNN(4, 5), (6, 3, 4), False),
    ("RNN-relu-2l-bi", lambda: nn.RNN(4, 5, 2, nonlinearity="relu", bidirectional=True),
     (6, 3, 4), True),
    ("RNN-nobias-bf", lambda: nn.RNN(4, 5, bias=False, batch_first=True), (3, 6, 4), True),
    ("RNN-unbatched", lambda: nn.RNN(4, 5, 2), (6, 4), True),
    ("LSTM", lambda: nn.LSTM(4, 5), (6, 3, 4), False),
    ("LSTM-h0c0", lambda: nn.LSTM(4, 5), (6, 3, 4), True),
    ("LSTM-2l-bi-bf", lambda: nn.LSTM(4, 5, 2, batch_first=True, bidirectional=True),
     (3, 6, 4), True),
    ("LSTM-3l", lambda: nn.LSTM(4, 5, 3), (6, 2, 4), False),
    ("LSTM-nobias", lambda: nn.LSTM(4, 5, bias=False), (6, 3, 4), True),
    ("LSTM-proj-2l-bi", lambda: nn.LSTM(4, 5, 2, bidirectional=True, proj_size=3),
     (6, 3, 4), True),
    ("LSTM-unbatched", lambda: nn.LSTM(4, 5, bidirectional=True), (6, 4), True),
    ("LSTM-unbatched-bf", lambda: nn.LSTM(4, 5, batch_first=True), (6, 4), False),
    ("LSTM-len1", lambda: nn.LSTM(4, 5, 2, bidirectional=True), (1, 3, 4), True),
    ("GRU", lambda: nn.GRU(4, 5), (6, 3, 4), False),
    ("GRU-3l-bi", lambda: nn.GRU(4, 5, 3, bidirectional=True), (6, 3, 4), True),
    ("GRU-nobias-bf", lambda: nn.GRU(4, 5, bias=False, batch_first=True), (3, 6, 4), True),
    ("GRU-unbatched", lambda: nn.GRU(4, 5, 2, bidirectional=True), (6, 4), True),
]


def _initial(m, x, seed):
    unbatched = x.dim() == 2
    B = 1 if unbatched else (x.shape[0] if m.batch_first else x.shape[1])
    dirs = 2 if m.bidirectional else 1
    hshape = (m.num_layers * dirs, B, m.proj_size or m.hidden_size)
    cshape = (m.num_layers * dirs, B, m.hidden_size)
    if unbatched:
        hshape, cshape = (hshape[0], hshape[2]), (cshape[0], cshape[2])
    h = _rand(*hshape, seed=seed, dtype=x.dtype)
    if m.mode == "LSTM":
        return (h, _rand(*cshape, seed=seed + 1, dtype=x.dtype))
    return h


def _outputs(m, res):
    if m.mode == "LSTM":
        out, (h, c) = res
        return out, h, c
    out, h = res
    return out, h, None


@pytest.mark.parametrize("dtype", [rt.float64, rt.float32])
@pytest.mark.parametrize("grad", [True, False])
@pytest.mark.parametrize("name,make,shape,with_state", NETS, ids=[n[0] for n in NETS])
def test_net_forward_matches_numpy(name, make, shape, with_state, grad, dtype, path):
    rt.manual_seed(0)
    m = make().to(dtype)
    x = _rand(*shape, seed=1, dtype=dtype)
    hx = _initial(m, x, seed=2) if with_state else None
    with rt.set_grad_enabled(grad):
        res = m(x, hx) if with_state else m(x)
    out, h, c = _outputs(m, res)
    ref = _np_net(m, x, hx)
    tol = 1e-12 if dtype == rt.float64 else 2e-5
    assert out.dtype == dtype and h.dtype == dtype
    assert tuple(out.shape) == ref[0].shape and tuple(h.shape) == ref[1].shape
    np.testing.assert_allclose(_np(out), ref[0], rtol=tol, atol=tol)
    np.testing.assert_allclose(_np(h), ref[1], rtol=tol, atol=tol)
    if c is not None:
        assert tuple(c.shape) == ref[2].shape
        np.testing.assert_allclose(_np(c), ref[2], rtol=tol, atol=tol)
    assert out.requires_grad == grad


def test_float32_kernel_matches_composite():
    """The vectorised float32 gate loops against the composite, gradients included."""
    for make in (lambda: nn.LSTM(16, 32, 2, bidirectional=True),
                 lambda: nn.GRU(16, 32, 2, bidirectional=True),
                 lambda: nn.RNN(16, 32, 2, bidirectional=True)):
        results = []
        for use_kernel in (True, False):
            rt.manual_seed(3)
            m = make()
            x = _rand(7, 5, 16, seed=4, dtype=rt.float32, requires_grad=True)
            saved = RF._K
            if not use_kernel:
                RF._K = None
            try:
                out = m(x)[0]
                (out * out.detach().cos()).sum().backward()
            finally:
                RF._K = saved
            results.append([_np(out), _np(x.grad)] + [_np(p.grad) for p in m.parameters()])
        for a, b in zip(*results):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_packed_recurrent_product_every_isa():
    """float32 with widths that take the packed-weights kernel (G and H multiples of 32),
    batch sizes that leave remainder rows, one and two threads: every instruction set this
    machine has (AVX-512F, AVX2+FMA, BLAS) gives the composite's numbers."""
    K = RF._K
    best = K._set_isa(-1)
    threads = rt.get_num_threads()
    makers = (lambda: nn.LSTM(32, 32, 2, bidirectional=True),
              lambda: nn.GRU(32, 32, bidirectional=True), lambda: nn.RNN(32, 64, 2))
    try:
        for make in makers:
            rt.manual_seed(3)
            m = make()
            x = _rand(5, 13, 32, seed=4, dtype=rt.float32, requires_grad=True)
            RF._K = None
            try:
                out = m(x)[0]
                (out * out.detach().cos()).sum().backward()
            finally:
                RF._K = K
            ref = [_np(out), _np(x.grad)] + [_np(p.grad) for p in m.parameters()]
            for isa in range(best + 1):
                for nt in (1, 2):
                    assert K._set_isa(isa) == isa
                    rt.set_num_threads(nt)
                    x.grad = None
                    m.zero_grad()
                    out = m(x)[0]
                    (out * out.detach().cos()).sum().backward()
                    got = [_np(out), _np(x.grad)] + [_np(p.grad) for p in m.parameters()]
                    for a, b in zip(got, ref):
                        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    finally:
        K._set_isa(-1)
        rt.set_num_threads(threads)
    with pytest.raises(ValueError):
        K._set_isa(3)


# ---- gradients --------------------------------------------------------------------------------

GRAD_NETS = [
    ("RNN_TANH", dict(num_layers=2, bidirectional=True)),
    ("RNN_RELU", dict()),
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("LSTM", dict(bias=False)),
    ("LSTM", dict(proj_size=1, num_layers=2)),
    ("GRU", dict(num_layers=2, bidirectional=True)),
    ("GRU", dict(bias=False)),
]


def _module_for(mode, kw):
    if mode.startswith("RNN"):
        return nn.RNN(3, 2, nonlinearity="tanh" if mode == "RNN_TANH" else "relu", **kw)
    return getattr(nn, mode)(3, 2, **kw)


def _net_fn(m, lstm):
    names = m._flat_weights_names

    def fn(x, h0, c0, *params):
        hx = (h0, c0) if lstm else h0
        fn_ = {"RNN_TANH": RF.rnn_tanh, "RNN_RELU": RF.rnn_relu, "LSTM": RF.lstm,
               "GRU": RF.gru}[m.mode]
        args = (x, hx, list(params), m.bias, m.num_layers, 0.0, False, m.bidirectional,
                m.batch_first)
        res = fn_(*args, m.proj_size) if lstm else fn_(*args)
        return tuple(res)
    return fn, len(names)


@pytest.mark.parametrize("mode,kw", GRAD_NETS,
                         ids=[f"{m}-{'-'.join(f'{k}{v}' for k, v in kw.items())}"
                              for m, kw in GRAD_NETS])
def test_net_gradcheck(mode, kw, path):
    rt.manual_seed(5)
    m = _module_for(mode, kw).double()
    lstm = mode == "LSTM"
    dirs = 2 if m.bidirectional else 1
    x = _rand(3, 2, 3, seed=6, requires_grad=True)
    h0 = _rand(m.num_layers * dirs, 2, m.proj_size or 2, seed=7, requires_grad=True)
    c0 = _rand(m.num_layers * dirs, 2, 2, seed=8, requires_grad=True) if lstm else None
    params = [p.detach().clone().requires_grad_() for p in m._flat_weights]
    fn, _ = _net_fn(m, lstm)
    assert gradcheck(fn, (x, h0, c0, *params))


@pytest.mark.parametrize("mode", ["RNN_TANH", "LSTM", "GRU"])
def test_net_gradgradcheck(mode):
    """Second derivatives: the fused layer's backward recomputes with a graph."""
    rt.manual_seed(9)
    m = _module_for(mode, dict(bidirectional=True)).double()
    lstm = mode == "LSTM"
    x = _rand(2, 2, 3, seed=10, requires_grad=True)
    h0 = _rand(2, 2, 2, seed=11, requires_grad=True)
    c0 = _rand(2, 2, 2, seed=12, requires_grad=True) if lstm else None
    params = [p.detach().clone().requires_grad_() for p in m._flat_weights]
    fn, _ = _net_fn(m, lstm)
    assert gradgradcheck(fn, (x, h0, c0, *params))


def test_module_backward_reaches_every_parameter():
    m = nn.LSTM(4, 5, 2, bidirectional=True)
    out, (h, c) = m(_rand(6, 3, 4, dtype=rt.float32))
    (out.sum() + h.sum() + c.sum()).backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape, name
        assert np.abs(_np(p.grad)).sum() > 0, name


def test_backward_twice_with_retain_graph():
    m = nn.GRU(4, 5)
    x = _rand(5, 2, 4, dtype=rt.float32, requires_grad=True)
    out, h = m(x)
    out.sum().backward(retain_graph=True)
    g1 = _np(x.grad)
    out.sum().backward()
    np.testing.assert_allclose(_np(x.grad), 2 * g1, rtol=1e-6)


# ---- packed sequences ----------------------------------------------------------------------

PACKED = [
    ("LSTM-2l-bi", lambda: nn.LSTM(4, 5, 2, bidirectional=True)),
    ("LSTM-proj-bi", lambda: nn.LSTM(4, 5, bidirectional=True, proj_size=2)),
    ("GRU-2l-bi", lambda: nn.GRU(4, 5, 2, bidirectional=True)),
    ("RNN-relu-bi", lambda: nn.RNN(4, 5, nonlinearity="relu", bidirectional=True)),
]


@pytest.mark.parametrize("name,make", PACKED, ids=[p[0] for p in PACKED])
def test_packed_sequence_matches_each_sequence_alone(name, make):
    """A packed batch gives every sequence what it gets run alone (its own length, its own
    initial state), in PyTorch's layouts; padded positions of the output are zero."""
    rt.manual_seed(0)
    m = make().double()
    lengths = [3, 6, 1, 4]
    x = _rand(6, 4, 4, seed=1)
    hx = _initial(m, x, seed=2)
    packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
    out, hn = m(packed, hx)
    assert type(out).__name__ == "PackedSequence"
    padded, lens = pad_packed_sequence(out)
    assert lens.tolist() == lengths
    lstm = m.mode == "LSTM"
    for b, n in enumerate(lengths):
        hb = (hx[0][:, b], hx[1][:, b]) if lstm else hx[:, b]
        ob, hnb = m(x[:n, b], hb)
        np.testing.assert_allclose(_np(padded[:n, b]), _np(ob), rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(_np(padded[n:, b]), 0.0)
        if lstm:
            for got, want in zip(hn, hnb):
                np.testing.assert_allclose(_np(got[:, b]), _np(want), rtol=1e-12, atol=1e-12)
        else:
            np.testing.assert_allclose(_np(hn[:, b]), _np(hnb), rtol=1e-12, atol=1e-12)


def test_packed_sequence_gradcheck_and_default_state():
    rt.manual_seed(0)
    m = nn.GRU(3, 2, bidirectional=True).double()
    lengths = [3, 1, 2]
    params = [p.detach().clone().requires_grad_() for p in m._flat_weights]
    x = _rand(3, 3, 3, seed=1, requires_grad=True)

    def fn(x, *ps):
        packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
        h0 = rt.zeros(2, 3, 2, dtype=rt.float64)
        data, h = RF._rnn_impl_packed("GRU", packed.data, packed.batch_sizes,
                                      h0.index_select(1, packed.sorted_indices), list(ps), True,
                                      1, 0.0, False, True)
        return data, h
    assert gradcheck(fn, (x, *params))
    out, h = m(pack_padded_sequence(x.detach(), lengths, enforce_sorted=False))
    assert tuple(h.shape) == (2, 3, 2) and tuple(out.data.shape) == (6, 4)


def test_packed_sequence_errors():
    m = nn.LSTM(4, 5)
    packed = pack_padded_sequence(_rand(3, 2, 3, dtype=rt.float32), [3, 2])
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. "
                                           "Expected 4, got 3"):
        m(packed)
    packed = pack_padded_sequence(_rand(3, 2, 4, dtype=rt.float32), [3, 2])
    with pytest.raises(RuntimeError, match="Expected hidden\\[0\\] size \\(1, 2, 5\\), got "
                                           "\\[1, 3, 5\\]"):
        m(packed, (rt.zeros(1, 3, 5), rt.zeros(1, 2, 5)))


# ---- cells ----------------------------------------------------------------------------------

CELLS = [
    ("RNNCell", lambda: nn.RNNCell(4, 5), "RNN_TANH"),
    ("RNNCell-relu", lambda: nn.RNNCell(4, 5, nonlinearity="relu"), "RNN_RELU"),
    ("RNNCell-nobias", lambda: nn.RNNCell(4, 5, bias=False), "RNN_TANH"),
    ("LSTMCell", lambda: nn.LSTMCell(4, 5), "LSTM"),
    ("LSTMCell-nobias", lambda: nn.LSTMCell(4, 5, bias=False), "LSTM"),
    ("GRUCell", lambda: nn.GRUCell(4, 5), "GRU"),
    ("GRUCell-nobias", lambda: nn.GRUCell(4, 5, bias=False), "GRU"),
]


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("given_state", [True, False])
@pytest.mark.parametrize("name,make,mode", CELLS, ids=[c[0] for c in CELLS])
def test_cell_forward_matches_numpy(name, make, mode, given_state, batched):
    rt.manual_seed(0)
    m = make().double()
    x = _rand(3, 4, seed=1) if batched else _rand(4, seed=1)
    lead = (3,) if batched else ()
    h = _rand(*lead, 5, seed=2) if given_state else None
    c = _rand(*lead, 5, seed=3) if given_state else None
    if mode == "LSTM":
        res = m(x, (h, c)) if given_state else m(x)
    else:
        res = m(x, h) if given_state else m(x)
    hn = np.zeros(lead + (5,)) if h is None else _np(h)
    cn = np.zeros(lead + (5,)) if c is None else _np(c)
    b = (None, None) if m.bias_ih is None else (_np(m.bias_ih), _np(m.bias_hh))
    ref_h, ref_c = _np_cell(mode, _np(x), hn, cn, _np(m.weight_ih), _np(m.weight_hh), *b)
    if mode == "LSTM":
        np.testing.assert_allclose(_np(res[0]), ref_h, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(_np(res[1]), ref_c, rtol=1e-12, atol=1e-12)
        assert tuple(res[0].shape) == lead + (5,)
    else:
        np.testing.assert_allclose(_np(res), ref_h, rtol=1e-12, atol=1e-12)
        assert tuple(res.shape) == lead + (5,)


@pytest.mark.parametrize("fn,chunks,two_states", [
    (RF.rnn_tanh_cell, 1, False), (RF.rnn_relu_cell, 1, False), (RF.lstm_cell, 4, True),
    (RF.gru_cell, 3, False)])
def test_cell_gradcheck(fn, chunks, two_states):
    x = _rand(2, 3, seed=1, requires_grad=True)
    h = _rand(2, 2, seed=2, requires_grad=True)
    c = _rand(2, 2, seed=3, requires_grad=True)
    w_ih = _rand(chunks * 2, 3, seed=4, requires_grad=True)
    w_hh = _rand(chunks * 2, 2, seed=5, requires_grad=True)
    b_ih = _rand(chunks * 2, seed=6, requires_grad=True)
    b_hh = _rand(chunks * 2, seed=7, requires_grad=True)
    if two_states:
        f = lambda x, h, c, *w: fn(x, (h, c), *w)  # noqa: E731
        inputs = (x, h, c, w_ih, w_hh, b_ih, b_hh)
    else:
        f = fn
        inputs = (x, h, w_ih, w_hh, b_ih, b_hh)
    assert gradcheck(f, inputs)
    assert gradgradcheck(f, inputs)


# ---- train/eval: dropout between layers ----------------------------------------------------

def test_dropout_between_layers_train_only():
    rt.manual_seed(0)
    m = nn.LSTM(4, 5, 3, dropout=0.5)
    x = _rand(6, 3, 4, dtype=rt.float32)
    m.eval()
    ref = _np_net(m, x)
    out_eval = _np(m(x)[0])
    np.testing.assert_allclose(out_eval, ref[0], rtol=2e-5, atol=2e-5)
    m.train()
    rt.manual_seed(1)
    out_a = _np(m(x)[0])
    rt.manual_seed(1)
    out_b = _np(m(x)[0])
    np.testing.assert_array_equal(out_a, out_b)          # the generator drives the masks
    assert np.abs(out_a - out_eval).max() > 1e-3         # training mode drops
    # dropout 1 zeroes the input of layers 2 and 3: the last layer sees zeros
    m1 = nn.GRU(4, 5, 2, dropout=1.0)
    out1 = m1(x)[0]
    zero_in = _np_net(m1, x)  # reference with the layer-1 output replaced by zeros:
    h = np.zeros((3, 5))
    p = {k: _np(v) for k, v in m1.named_parameters() if k.endswith("l1")}
    for t in range(6):
        h, _ = _np_cell("GRU", np.zeros((3, 5)), h, None, p["weight_ih_l1"], p["weight_hh_l1"],
                        p["bias_ih_l1"], p["bias_hh_l1"])
    np.testing.assert_allclose(_np(out1)[-1], h, rtol=2e-5, atol=2e-5)
    assert zero_in[0].shape == tuple(out1.shape)


def test_dropout_single_layer_warns_and_does_nothing():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1, "
                                         "but got dropout=0.5 and num_layers=1"):
        m = nn.GRU(4, 5, dropout=0.5)
    x = _rand(3, 2, 4, dtype=rt.float32)
    np.testing.assert_allclose(_np(m(x)[0]), _np_net(m, x)[0], rtol=2e-5, atol=2e-5)


# ---- parameters: names, shapes, init, repr ---------------------------------------------------

def _keys(layers, dirs, bias=True, proj=False):
    out = []
    for k in range(layers):
        for d in range(dirs):
            s = f"l{k}" + ("_reverse" if d else "")
            names = [f"weight_ih_{s}", f"weight_hh_{s}"]
            if bias:
                names += [f"bias_ih_{s}", f"bias_hh_{s}"]
            if proj:
                names += [f"weight_hr_{s}"]
            out += names
    return out


@pytest.mark.parametrize("make,keys,shapes", [
    (lambda: nn.RNN(4, 5), _keys(1, 1), {"weight_ih_l0": (5, 4), "weight_hh_l0": (5, 5),
                                         "bias_ih_l0": (5,), "bias_hh_l0": (5,)}),
    (lambda: nn.LSTM(4, 5, 2, bidirectional=True), _keys(2, 2),
     {"weight_ih_l0": (20, 4), "weight_ih_l1_reverse": (20, 10), "weight_hh_l1": (20, 5)}),
    (lambda: nn.LSTM(4, 5, 2, bias=False, bidirectional=True, proj_size=3),
     _keys(2, 2, bias=False, proj=True),
     {"weight_ih_l1": (20, 6), "weight_hh_l0": (20, 3), "weight_hr_l0_reverse": (3, 5)}),
    (lambda: nn.GRU(4, 5, 3), _keys(3, 1), {"weight_ih_l2": (15, 5), "bias_hh_l2": (15,)}),
    (lambda: nn.GRU(4, 5, bias=False), _keys(1, 1, bias=False), {"weight_hh_l0": (15, 5)}),
    (lambda: nn.RNNCell(4, 5), ["weight_ih", "weight_hh", "bias_ih", "bias_hh"],
     {"weight_ih": (5, 4)}),
    (lambda: nn.LSTMCell(4, 5, bias=False), ["weight_ih", "weight_hh"], {"weight_hh": (20, 5)}),
    (lambda: nn.GRUCell(4, 5), ["weight_ih", "weight_hh", "bias_ih", "bias_hh"],
     {"bias_ih": (15,)}),
])
def test_state_dict_keys_and_shapes(make, keys, shapes):
    m = make()
    sd = m.state_dict()
    assert list(sd) == keys
    for k, s in shapes.items():
        assert tuple(sd[k].shape) == s
    m2 = make()
    m2.load_state_dict(sd)
    for k, v in m2.state_dict().items():
        np.testing.assert_array_equal(_np(v), _np(sd[k]))


def test_all_weights_and_flat_weights():
    m = nn.LSTM(4, 5, 2, bidirectional=True)
    assert [[tuple(p.shape) for p in ws] for ws in m.all_weights][1] == \
        [(20, 4), (20, 5), (20,), (20,)]
    assert m._flat_weights_names == _keys(2, 2)
    assert all(a is b for a, b in zip(m._flat_weights, m.parameters()))
    m.flatten_parameters()


@pytest.mark.parametrize("make,hidden", [
    (lambda: nn.LSTM(30, 40, 2), 40), (lambda: nn.GRU(8, 100), 100), (lambda: nn.RNN(30, 40), 40),
    (lambda: nn.GRUCell(8, 50), 50), (lambda: nn.LSTMCell(30, 16), 16)])
def test_default_init_uniform_bound(make, hidden):
    rt.manual_seed(0)
    bound = 1 / math.sqrt(hidden)
    vals = np.concatenate([_np(p).ravel() for p in make().parameters()])
    assert np.abs(vals).max() <= bound
    assert np.abs(vals).max() > 0.95 * bound         # spread over the whole interval
    assert abs(vals.mean()) < 0.1 * bound
    assert abs(vals.std() - bound / math.sqrt(3)) < 0.05 * bound


@pytest.mark.parametrize("make,text", [
    (lambda: nn.RNN(4, 5), "RNN(4, 5)"),
    (lambda: nn.RNN(4, 5, nonlinearity="relu"), "RNN(4, 5)"),
    (lambda: nn.LSTM(3, 4, 2, dropout=0.5, bidirectional=True, proj_size=2, batch_first=True),
     "LSTM(3, 4, proj_size=2, num_layers=2, batch_first=True, dropout=0.5, bidirectional=True)"),
    (lambda: nn.GRU(3, 4, bias=False), "GRU(3, 4, bias=False)"),
    (lambda: nn.RNNCell(3, 4, nonlinearity="relu", bias=False),
     "RNNCell(3, 4, bias=False, nonlinearity=relu)"),
    (lambda: nn.LSTMCell(3, 4), "LSTMCell(3, 4)"),
    (lambda: nn.GRUCell(3, 4, bias=False), "GRUCell(3, 4, bias=False)"),
])
def test_repr(make, text):
    assert repr(make()) == text


def test_double_and_float_conversion():
    m = nn.LSTM(4, 5, 2).double()
    out, (h, c) = m(_rand(3, 2, 4))
    assert out.dtype == rt.float64 and h.dtype == rt.float64
    m.float()
    out, (h, c) = m(_rand(3, 2, 4, dtype=rt.float32))
    assert out.dtype == rt.float32


def test_dtype_argument():
    m = nn.GRU(4, 5, dtype=rt.float64)
    assert all(p.dtype == rt.float64 for p in m.parameters())
    assert nn.LSTMCell(2, 3, dtype=rt.float64).weight_ih.dtype == rt.float64


def test_batch_first_and_unbatched_agree_with_batched():
    rt.manual_seed(0)
    m = nn.LSTM(4, 5, 2, bidirectional=True)
    mb = nn.LSTM(4, 5, 2, bidirectional=True, batch_first=True)
    mb.load_state_dict(m.state_dict())
    x = _rand(6, 3, 4, dtype=rt.float32)
    out, (h, c) = m(x)
    outb, (hb, cb) = mb(x.transpose(0, 1))
    np.testing.assert_allclose(_np(outb.transpose(0, 1)), _np(out), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(_np(hb), _np(h), rtol=1e-6, atol=1e-6)
    out1, (h1, c1) = m(x[:, 1])
    np.testing.assert_allclose(_np(out1), _np(out[:, 1]), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(_np(h1), _np(h[:, 1]), rtol=1e-6, atol=1e-6)


def test_empty_batch():
    out, (h, c) = nn.LSTM(4, 5, bidirectional=True)(rt.zeros(3, 0, 4))
    assert tuple(out.shape) == (3, 0, 10) and tuple(h.shape) == (2, 0, 5)


# ---- errors -------------------------------------------------------------------------------------

@pytest.mark.parametrize("call,exc,msg", [
    (lambda: nn.LSTM(4, 5)(rt.randn(2, 1, 3)), RuntimeError,
     "input.size(-1) must be equal to input_size. Expected 4, got 3"),
    (lambda: nn.RNN(4, 5)(rt.randn(2, 1, 3)), RuntimeError,
     "input.size(-1) must be equal to input_size. Expected 4, got 3"),
    (lambda: nn.GRU(4, 5)(rt.randn(2, 1, 4), rt.randn(1, 2, 5)), RuntimeError,
     "Expected hidden size (1, 1, 5), got [1, 2, 5]"),
    (lambda: nn.LSTM(4, 5)(rt.randn(2, 1, 4), (rt.randn(1, 1, 5), rt.randn(1, 2, 5))),
     RuntimeError, "Expected hidden[1] size (1, 1, 5), got [1, 2, 5]"),
    (lambda: nn.LSTM(4, 5, proj_size=2)(rt.randn(2, 1, 4), (rt.randn(1, 1, 5),
                                                               rt.randn(1, 1, 5))),
     RuntimeError, "Expected hidden[0] size (1, 1, 2), got [1, 1, 5]"),
    (lambda: nn.LSTM(4, 5)(rt.randn(2, 1, 4).double()), ValueError,
     "RNN input dtype (rt_tensor.float64) does not match weight dtype (rt_tensor.float32)"),
    (lambda: nn.GRU(4, 5)(rt.randn(2, 1, 4), rt.randn(1, 1, 5).double()), RuntimeError,
     "mat1 and mat2 must have the same dtype, but got Double and Float"),
    (lambda: nn.LSTM(4, 5)(rt.randn(2, 1, 4), (rt.randn(1, 1, 5), rt.randn(1, 1, 5).double())),
     RuntimeError, "mat1 and mat2 must have the same dtype, but got Double and Float"),
    (lambda: nn.GRUCell(4, 5)(rt.randn(2, 4), rt.randn(2, 5).double()), RuntimeError,
     "mat1 and mat2 must have the same dtype, but got Double and Float"),
    (lambda: nn.LSTM(4, 5)(rt.randn(1, 2, 1, 4)), ValueError,
     "LSTM: Expected input to be 2D or 3D, got 4D instead"),
    (lambda: nn.GRU(4, 5)(rt.randn(4)), ValueError,
     "GRU: Expected input to be 2D or 3D, got 1D instead"),
    (lambda: nn.RNN(4, 5)(rt.randn(1, 2, 3, 4)), ValueError,
     "RNN: Expected input to be 2D or 3D, got 4D tensor instead"),
    (lambda: nn.RNN(4, 5)(rt.randn(3, 4), rt.randn(1, 1, 5)), RuntimeError,
     "For unbatched 2-D input, hx should also be 2-D but got 3-D tensor"),
    (lambda: nn.GRU(4, 5)(rt.randn(3, 2, 4), rt.randn(2, 5)), RuntimeError,
     "For batched 3-D input, hx should also be 3-D but got 2-D tensor"),
    (lambda: nn.LSTM(4, 5)(rt.randn(3, 2, 4), (rt.randn(1, 5), rt.randn(1, 5))), RuntimeError,
     "For batched 3-D input, hx and cx should also be 3-D but got (2-D, 2-D) tensors"),
    (lambda: nn.LSTM(4, 5)(rt.randn(3, 4), (rt.randn(1, 1, 5), rt.randn(1, 1, 5))),
     RuntimeError, "For unbatched 2-D input, hx and cx should also be 2-D but got (3-D, 3-D)"),
    (lambda: nn.LSTM(4, 5)(rt.randn(0, 2, 4)), RuntimeError,
     "Expected sequence length to be larger than 0 in RNN"),
    (lambda: nn.LSTM(4, 5, proj_size=5), ValueError, "proj_size has to be smaller than hidden_size"),
    (lambda: nn.LSTM(4, 5, proj_size=-1), ValueError, "proj_size should be a positive integer"),
    (lambda: nn.LSTM(4.0, 5), TypeError, "input_size should be of type int, got: float"),
    (lambda: nn.LSTM(4, 5.0), TypeError, "hidden_size should be of type int, got: float"),
    (lambda: nn.LSTM(0, 5), ValueError, "input_size must be greater than zero"),
    (lambda: nn.GRU(4, 0), ValueError, "hidden_size must be greater than zero"),
    (lambda: nn.LSTM(4, 5, num_layers=0), ValueError, "num_layers must be greater than zero"),
    (lambda: nn.LSTM(4, 5, bias=1), TypeError, "bias should be of type bool, got: int"),
    (lambda: nn.LSTM(4, 5, batch_first=0), TypeError, "batch_first should be of type bool"),
    (lambda: nn.GRU(4, 5, proj_size=2), ValueError,
     "proj_size argument is only supported for LSTM, not RNN or GRU"),
    (lambda: nn.RNN(4, 5, proj_size=2), ValueError,
     "proj_size argument is only supported for LSTM, not RNN or GRU"),
    (lambda: nn.RNN(4, 5, nonlinearity="sigmoid"), ValueError,
     "Unknown nonlinearity 'sigmoid'. Select from 'tanh' or 'relu'."),
    (lambda: nn.RNN(4, 5, dropout=1.5), ValueError,
     "dropout should be a number in range [0, 1] representing the probability of an element "
     "being zeroed"),
    (lambda: nn.LSTM(4, 5, dropout=True), ValueError, "dropout should be a number"),
    (lambda: nn.LSTMCell(4, 5)(rt.randn(2, 3)), RuntimeError,
     "input has inconsistent input_size: got 3 expected 4"),
    (lambda: nn.LSTMCell(4, 5)(rt.randn(2, 4), (rt.randn(3, 5), rt.randn(2, 5))), RuntimeError,
     "Input batch size 2 doesn't match hidden0 batch size 3"),
    (lambda: nn.LSTMCell(4, 5)(rt.randn(2, 4), (rt.randn(2, 5), rt.randn(2, 4))), RuntimeError,
     "hidden1 has inconsistent hidden_size: got 4, expected 5"),
    (lambda: nn.GRUCell(4, 5)(rt.randn(2, 4), rt.randn(3, 5)), RuntimeError,
     "Input batch size 2 doesn't match hidden0 batch size 3"),
    (lambda: nn.RNNCell(4, 5)(rt.randn(2, 3, 4)), ValueError,
     "RNNCell: Expected input to be 1D or 2D, got 3D instead"),
    (lambda: nn.GRUCell(4, 5)(rt.randn(2, 4), rt.randn(1, 2, 5)), ValueError,
     "GRUCell: Expected hidden to be 1D or 2D, got 3D instead"),
    (lambda: nn.LSTMCell(4, 5)(rt.randn(4), (rt.randn(1, 1, 5), rt.randn(5))), ValueError,
     "LSTMCell: Expected hx[0] to be 1D or 2D, got 3D instead"),
])
def test_errors(call, exc, msg):
    with pytest.raises(exc) as info:
        call()
    assert msg in str(info.value)


def test_rnn_cell_unknown_nonlinearity_at_forward():
    cell = nn.RNNCell(4, 5)
    cell.nonlinearity = "sigmoid"
    with pytest.raises(RuntimeError, match="Unknown nonlinearity: sigmoid"):
        cell(rt.randn(2, 4))


def test_no_warnings_on_ordinary_use():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.LSTM(4, 5, 2, dropout=0.3)(rt.randn(3, 2, 4))


# ---- the kernel module's entry points validate what could crash ---------------------------------

def test_kernel_entry_points_validate():
    K = RF._K
    f32 = rtt.float32
    xg = rtt.zeros((3, 2, 8), dtype=f32)
    w = rtt.zeros((8, 2), dtype=f32)
    h0 = rtt.zeros((2, 2), dtype=f32)
    out = rtt.zeros((3, 2, 2), dtype=f32)
    cs = rtt.zeros((3, 2, 2), dtype=f32)
    hN = rtt.zeros((2, 2), dtype=f32)
    K.lstm_forward(xg, w, h0, h0, out, cs, hN, False)           # well-formed: runs
    with pytest.raises(RuntimeError, match="shape"):
        K.lstm_forward(xg, rtt.zeros((8, 3), dtype=f32), h0, h0, out, cs, hN, False)
    with pytest.raises(RuntimeError, match="dtype"):
        K.lstm_forward(xg, w.double(), h0, h0, out, cs, hN, False)
    with pytest.raises(RuntimeError, match="contiguous"):
        K.lstm_forward(xg, w, rtt.zeros((2, 2), dtype=f32).t(), h0, out, cs, hN, False)
    with pytest.raises(RuntimeError, match="float32 or float64"):
        K.rnn_forward(rtt.zeros((3, 2, 2), dtype=rtt.int64), w, h0, out, hN, False, False)
    with pytest.raises(RuntimeError, match="bad gates shape"):
        K.gru_forward(xg, w, rtt.zeros(8, dtype=f32), h0, out, cs, hN, False)
    with pytest.raises(TypeError):
        K.lstm_forward(xg, None, h0, h0, out, cs, hN, False)
