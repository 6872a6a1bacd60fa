"""The math of the recurrent layers (PyTorch's ``_VF.rnn_tanh / rnn_relu / lstm / gru`` and
their ``*_cell`` versions). ``torch.nn.functional`` exports none of these, so neither does
``rt_nn.functional``: the modules in ``rt_nn/modules/rnn.py`` call them.

Layout and numbers follow PyTorch (aten/src/ATen/native/RNN.cpp):

- gates: LSTM ``i, f, g, o`` (``c' = f*c + i*g``, ``h' = o*tanh(c')``, then ``h' @ W_hr^T``
  with ``proj_size``); GRU ``r, z, n`` with ``n = tanh(W_in x + b_in + r*(W_hn h + b_hn))``,
  ``h' = (1 - z)*n + z*h``; RNN ``h' = act(W_ih x + b_ih + W_hh h + b_hh)``.
- ``params``: per layer and direction ``w_ih, w_hh[, b_ih, b_hh][, w_hr]`` (the module's
  ``_flat_weights`` order); ``hx``: ``(num_layers * num_directions, batch, hidden)``,
  index ``layer * num_directions + direction``; the output of a bidirectional layer is the
  forward and the reverse outputs concatenated on the feature dim.

Speed: the input projection of every time step is ONE matmul per layer and direction; only
the recurrent product runs per step. For float32/float64 the time loop of a layer runs in
Cython (``rt_tensor._nn_rnn``: per step one recurrent product, with the weights packed once
per sequence, and one fused gate loop; no Python), with a hand-written backward through time
wrapped in an autograd Function; ``create_graph=True`` recomputes the layer with
differentiable ops, so higher-order gradients are exact. Other dtypes, LSTM with
``proj_size`` and packed sequences (``PackedSequence``: the batch shrinks as sequences end)
use the differentiable composite below.
"""
import rt_autograd as rt
import rt_tensor as rtt
from rt_autograd.function import Function

try:  # the fused time loops (rt-tensor kernel); the composite path works without them
    from rt_tensor import _nn_rnn as _K
except ImportError:  # pragma: no cover - only when the kernel module is not built
    _K = None

__all__ = []

_MODES = ("RNN_TANH", "RNN_RELU", "LSTM", "GRU")
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ---- helpers shared with other families (resolved at call time) ----------------------------

def _dropout(x, p, training):
    from rt_nn import functional as F
    fn = getattr(F, "dropout", None)
    if fn is not None:
        return fn(x, p, training)
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0
    keep = rt.empty_like(x).bernoulli_(1 - p)
    return x * keep / (1 - p)


# ---- cells ---------------------------------------------------------------------------------

def _check_cell(input, hxs, w_ih, w_hh):
    """PyTorch's check_rnn_cell_forward_input / _hidden messages."""
    input_size = w_ih.shape[1]
    hidden_size = w_hh.shape[1]
    if input.shape[1] != input_size:
        raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} "
                           f"expected {input_size}")
    for i, h in enumerate(hxs):
        if h.shape[0] != input.shape[0]:
            raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden{i} "
                               f"batch size {h.shape[0]}")
        if h.shape[1] != hidden_size:
            raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {h.shape[1]}, "
                               f"expected {hidden_size}")


def _linear(x, w, b):
    """x (N, in) @ w.T (+ b): one BLAS call."""
    if b is None:
        return rt.mm(x, w.t())
    return rt.addmm(b, x, w.t())


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    _check_cell(input, (hx,), w_ih, w_hh)
    return (_linear(input, w_ih, b_ih) + _linear(hx, w_hh, b_hh)).tanh()


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    _check_cell(input, (hx,), w_ih, w_hh)
    return (_linear(input, w_ih, b_ih) + _linear(hx, w_hh, b_hh)).relu()


def _lstm_gates(gates, c, hidden):
    s = gates.sigmoid()
    i = s[:, :hidden]
    f = s[:, hidden:2 * hidden]
    o = s[:, 3 * hidden:]
    g = gates[:, 2 * hidden:3 * hidden].tanh()
    c = f * c + i * g
    return o * c.tanh(), c


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    h, c = hx
    _check_cell(input, (h, c), w_ih, w_hh)
    gates = _linear(input, w_ih, b_ih) + _linear(h, w_hh, b_hh)
    return _lstm_gates(gates, c, w_hh.shape[1])


def _gru_gates(xg, hg, h, hidden):
    rz = (xg[:, :2 * hidden] + hg[:, :2 * hidden]).sigmoid()
    r = rz[:, :hidden]
    z = rz[:, hidden:]
    n = (xg[:, 2 * hidden:] + r * hg[:, 2 * hidden:]).tanh()
    return n + z * (h - n)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    _check_cell(input, (hx,), w_ih, w_hh)
    return _gru_gates(_linear(input, w_ih, b_ih), _linear(hx, w_hh, b_hh), hx, w_hh.shape[1])


# ---- one layer, one direction: differentiable composite ----------------------------------

def _layer_composite(mode, x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr, reverse):
    """x: (T, B, I) -> (out (T, B, H'), h_T, c_T or None), with differentiable rt ops."""
    T, B = x.shape[0], x.shape[1]
    hidden = w_hh.shape[1] if w_hr is None else w_hr.shape[1]
    G = w_ih.shape[0]
    x2 = x.reshape(T * B, x.shape[2])
    if mode == "GRU":
        xg = _linear(x2, w_ih, b_ih).view(T, B, G)
    else:
        bias = None if b_ih is None else b_ih + b_hh
        xg = _linear(x2, w_ih, bias).view(T, B, G)
    w_hh_t = w_hh.t()
    outs = [None] * T
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        h, c = _cell_step(mode, xg[t], h, c, w_hh_t, b_hh, w_hr, hidden)
        outs[t] = h
    return rt.stack(outs), h, c


def _cell_step(mode, xg_t, h, c, w_hh_t, b_hh, w_hr, hidden):
    """One step of the composite path: xg_t holds the input part of the gates."""
    if mode == "LSTM":
        h, c = _lstm_gates(rt.addmm(xg_t, h, w_hh_t), c, hidden)
        if w_hr is not None:
            h = rt.mm(h, w_hr.t())
        return h, c
    if mode == "GRU":
        hg = rt.mm(h, w_hh_t) if b_hh is None else rt.addmm(b_hh, h, w_hh_t)
        return _gru_gates(xg_t, hg, h, hidden), None
    pre = rt.addmm(xg_t, h, w_hh_t)
    return (pre.tanh() if mode == "RNN_TANH" else pre.relu()), None


def _layer_packed(mode, x, batch_sizes, h, c, w_ih, w_hh, b_ih, b_hh, w_hr, reverse):
    """One layer and direction over a packed sequence (PyTorch's PackedLayer): x (N, I)
    holds step 0 of every sequence, then step 1 of those still running, ...;
    batch_sizes[t] sequences run at step t (sorted by length, so the running ones are a
    prefix of the batch). Returns (out (N, H'), h_n, c_n) with each sequence's own last
    state. A reverse layer starts every sequence at its own last step from h0."""
    T = len(batch_sizes)
    hidden = w_hh.shape[1] if w_hr is None else w_hr.shape[1]
    offsets = [0]
    for b in batch_sizes:
        offsets.append(offsets[-1] + b)
    if mode == "GRU":
        xg = _linear(x, w_ih, b_ih)
    else:
        xg = _linear(x, w_ih, None if b_ih is None else b_ih + b_hh)
    w_hh_t = w_hh.t()
    lstm = mode == "LSTM"
    outs = [None] * T
    if not reverse:
        done_h, done_c = [], []
        for t in range(T):
            b = batch_sizes[t]
            if b < h.shape[0]:              # the shortest sequences ended at step t - 1
                done_h.append(h[b:])
                h = h[:b]
                if lstm:
                    done_c.append(c[b:])
                    c = c[:b]
            h, c = _cell_step(mode, xg[offsets[t]:offsets[t + 1]], h, c, w_hh_t, b_hh, w_hr,
                              hidden)
            outs[t] = h
        h_n = rt.cat([h] + done_h[::-1], 0) if done_h else h
        c_n = (rt.cat([c] + done_c[::-1], 0) if done_c else c) if lstm else None
    else:
        h0, c0 = h, c
        h = h0[:batch_sizes[T - 1]]
        c = c0[:batch_sizes[T - 1]] if lstm else None
        for t in range(T - 1, -1, -1):
            b = batch_sizes[t]
            if b > h.shape[0]:              # sequences whose last step is t start here
                h = rt.cat([h, h0[h.shape[0]:b]], 0)
                if lstm:
                    c = rt.cat([c, c0[c.shape[0]:b]], 0)
            h, c = _cell_step(mode, xg[offsets[t]:offsets[t + 1]], h, c, w_hh_t, b_hh, w_hr,
                              hidden)
            outs[t] = h
        h_n, c_n = h, c
    return rt.cat(outs, 0), h_n, c_n


# ---- one layer, one direction: fused Cython time loop -------------------------------------

def _kernel_forward(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, out, save):
    """Runs without a graph. x: (T, B, I); out: (T, B, H) contiguous, filled with the outputs.
    Returns (h_T, c_T or None, saved), saved holding what the backward needs (the activated
    gates, the cell states or W_hn h + b_hn) when ``save``."""
    T, B = x.shape[0], x.shape[1]
    G, H = w_hh.shape[0], w_hh.shape[1]
    x2 = x.reshape(T * B, x.shape[2])
    w_hh = w_hh.contiguous()
    h0 = h0.contiguous()
    hN = rtt.empty((B, H), dtype=x.dtype)
    if mode == "GRU":
        # the input part of every gate, b_ih included; b_hh enters the recurrent product
        xg = rtt.mm(x2, w_ih.t()) if b_ih is None else rtt.addmm(b_ih, x2, w_ih.t())
        xg = xg.view(T, B, G)
        bhh = b_hh.contiguous() if b_hh is not None else rtt.zeros(G, dtype=x.dtype)
        hn = rtt.empty((T, B, H), dtype=x.dtype)
        _K.gru_forward(xg, w_hh, bhh, h0, out, hn, hN, reverse)
        return hN, None, ((xg, hn) if save else None)
    if b_ih is None:
        xg = rtt.mm(x2, w_ih.t())
    else:
        xg = rtt.addmm(rtt.add(b_ih, b_hh), x2, w_ih.t())
    xg = xg.view(T, B, G)
    if mode == "LSTM":
        cs = rtt.empty((T, B, H), dtype=x.dtype)
        _K.lstm_forward(xg, w_hh, h0, c0.contiguous(), out, cs, hN, reverse)
        cN = (cs[0] if reverse else cs[T - 1]).clone()
        return hN, cN, ((xg, cs) if save else None)
    _K.rnn_forward(xg, w_hh, h0, out, hN, mode == "RNN_RELU", reverse)
    return hN, None, (() if save else None)


def _as_plain(t):
    """An rt_tensor view of an autograd tensor (no graph)."""
    return None if t is None else t.detach()


class _FusedLayer(Function):
    """One layer and direction of RNN/LSTM/GRU through the Cython time loop.

    forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh) -> (out, h_T, c_T); c0/c_T only for LSTM
    (None otherwise). The backward is backpropagation through time in Cython (one GEMM per
    step) plus three large GEMMs for the weight and input gradients; with
    ``create_graph=True`` it recomputes the layer with differentiable ops instead.
    """

    node_name = "FusedRNNLayerBackward"

    @staticmethod
    def forward(ctx, mode, reverse, x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        T, B = x.shape[0], x.shape[1]
        H = w_hh.shape[1]
        out = rtt.empty((T, B, H), dtype=x.dtype)
        hN, cN, saved = _kernel_forward(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse,
                                        out, True)
        ctx.mode = mode
        ctx.reverse = reverse
        ctx.has_bias = b_ih is not None
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, out)
        ctx.kernel_saved = saved
        if mode == "LSTM":
            return out, hN, cN
        return out, hN

    @staticmethod
    def backward(ctx, g_out, g_h, g_c=None):
        mode, reverse = ctx.mode, ctx.reverse
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, out = ctx.saved_tensors
        if rt.is_grad_enabled():
            return (None, None) + _recompute_grads(ctx, mode, reverse, x, h0, c0, w_ih, w_hh,
                                                   b_ih, b_hh, g_out, g_h, g_c)
        T, B = x.shape[0], x.shape[1]
        H = w_hh.shape[1]
        dt = x.dtype
        g_out = _plain_or_zeros(g_out, (T, B, H), dt)
        dh0 = _plain_or_zeros(g_h, (B, H), dt).clone()
        xp, h0p, w_ihp, w_hhp = _as_plain(x), _as_plain(h0), _as_plain(w_ih), _as_plain(w_hh)
        outp = _as_plain(out)
        saved = ctx.kernel_saved
        w_hh_c = w_hhp.contiguous()
        dc0 = None
        if mode == "LSTM":
            xg, cs = saved
            dc0 = _plain_or_zeros(g_c, (B, H), dt).clone()
            dgates = rtt.empty((T, B, 4 * H), dtype=dt)
            _K.lstm_backward(xg, cs, _as_plain(c0).contiguous(), w_hh_c, g_out, dh0, dc0,
                             dgates, reverse)
            dgh = dgates
        elif mode == "GRU":
            xg, hn = saved
            dgates = rtt.empty((T, B, 3 * H), dtype=dt)   # of the input parts, r z n
            dgh = rtt.empty((T, B, 3 * H), dtype=dt)      # of the recurrent parts (b_hh too)
            _K.gru_backward(xg, hn, h0p.contiguous(), outp, w_hh_c, g_out, dh0, dgates, dgh,
                            reverse)
        else:
            dgates = rtt.empty((T, B, H), dtype=dt)
            _K.rnn_backward(outp, w_hh_c, g_out, dh0, dgates, mode == "RNN_RELU", reverse)
            dgh = dgates
        # weight and input gradients: large GEMMs over all steps at once
        G = dgates.shape[2]
        dg2 = dgates.view(T * B, G)
        dgh2 = dgh.view(T * B, G)
        need = ctx.needs_input_grad
        dx = dw_ih = dw_hh = db_ih = db_hh = None
        if need[2]:
            dx = rtt.mm(dg2, w_ihp).view(T, B, x.shape[2])
        if need[5]:
            dw_ih = rtt.mm(dg2.t(), xp.reshape(T * B, x.shape[2]))
        if need[6]:
            # the hidden state that entered each step: h0 then the outputs, in time order
            hprev = rtt.empty((T, B, H), dtype=dt)
            if reverse:
                if T > 1:
                    hprev[:T - 1] = outp[1:]
                hprev[T - 1] = h0p
            else:
                hprev[0] = h0p
                if T > 1:
                    hprev[1:] = outp[:T - 1]
            dw_hh = rtt.mm(dgh2.t(), hprev.view(T * B, H))
        if ctx.has_bias:
            if need[7]:
                db_ih = rtt.sum(dg2, 0)
            if need[8]:
                db_hh = rtt.sum(dgh2, 0)
        return (None, None, dx, dh0 if need[3] else None,
                dc0 if (mode == "LSTM" and need[4]) else None, dw_ih, dw_hh, db_ih, db_hh)


def _plain_or_zeros(g, shape, dtype):
    if g is None:
        return rtt.zeros(shape, dtype=dtype)
    g = _as_plain(g)
    return g.contiguous()


def _recompute_grads(ctx, mode, reverse, x, h0, c0, w_ih, w_hh, b_ih, b_hh, g_out, g_h, g_c):
    """create_graph=True: the layer again with differentiable ops on the saved inputs (which
    keep their history), and its vector-Jacobian product with a graph, so that second
    derivatives are exact."""
    need = ctx.needs_input_grad[2:]
    inputs = (x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    wanted = [t for t, n in zip(inputs, need) if n and t is not None]
    with rt.enable_grad():
        out, hN, cN = _layer_composite(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, None, reverse)
        outs, grads = [out, hN], [g_out, g_h]
        if mode == "LSTM":
            outs.append(cN)
            grads.append(g_c)
        pairs = [(o, g) for o, g in zip(outs, grads) if g is not None]
        res = rt.autograd.grad([o for o, _ in pairs], wanted, [g for _, g in pairs],
                               create_graph=True, allow_unused=True)
    it = iter(res)
    return tuple(next(it) if (n and t is not None) else None for t, n in zip(inputs, need))


def _use_kernel(mode, x, w_hr):
    return (_K is not None and w_hr is None and x.dtype in (rtt.float32, rtt.float64)
            and x.shape[0] > 0 and x.shape[1] > 0)


# ---- the whole network ----------------------------------------------------------------------

_SCALAR_NAME = {rtt.float64: "Double", rtt.float32: "Float", rtt.float16: "Half",
                rtt.bfloat16: "BFloat16"}


def _check_hidden_dtype(input, hx):
    """An initial state of another dtype than the input (PyTorch fails in the recurrent
    product with this message)."""
    for h in hx:
        if h is not None and h.dtype != input.dtype:
            raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got "
                               f"{_SCALAR_NAME.get(h.dtype, str(h.dtype))} and "
                               f"{_SCALAR_NAME.get(input.dtype, str(input.dtype))}")


def _rnn_impl(mode, input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
              batch_first, proj_size=0):
    """PyTorch's _VF.<mode>(input, hx, params, ...). input: (T, B, I) or (B, T, I) with
    batch_first; hx: tensor, or (h0, c0) for LSTM. Returns (output, h_n) or
    (output, h_n, c_n)."""
    lstm = mode == "LSTM"
    h0_all, c0_all = (hx if lstm else (hx, None))
    _check_hidden_dtype(input, (h0_all, c0_all))
    if batch_first:
        input = input.transpose(0, 1)
    num_dirs = 2 if bidirectional else 1
    per = (4 if has_biases else 2) + (1 if proj_size > 0 else 0)
    T, B = input.shape[0], input.shape[1]
    if T == 0:
        raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
    grad_mode = rt.is_grad_enabled()
    hs, cs = [], []
    layer_input = input
    for layer in range(num_layers):
        dir_outs = []
        for d in range(num_dirs):
            k = layer * num_dirs + d
            p = params[k * per:(k + 1) * per]
            w_ih, w_hh = p[0], p[1]
            b_ih, b_hh = (p[2], p[3]) if has_biases else (None, None)
            w_hr = p[-1] if proj_size > 0 else None
            h0 = h0_all[k]
            c0 = c0_all[k] if lstm else None
            reverse = d == 1
            if _use_kernel(mode, layer_input, w_hr):
                tensors = (layer_input, h0, c0, w_ih, w_hh, b_ih, b_hh)
                if grad_mode and any(t is not None and t.requires_grad for t in tensors):
                    res = _FusedLayer.apply(mode, reverse, *tensors)
                    out, hN = res[0], res[1]
                    cN = res[2] if lstm else None
                else:
                    out = rtt.empty((T, B, w_hh.shape[1]), dtype=layer_input.dtype)
                    hN, cN, _ = _kernel_forward(
                        mode, _as_plain(layer_input), _as_plain(h0), _as_plain(c0),
                        _as_plain(w_ih), _as_plain(w_hh), _as_plain(b_ih), _as_plain(b_hh),
                        reverse, out, False)
            else:
                out, hN, cN = _layer_composite(mode, layer_input, h0, c0, w_ih, w_hh, b_ih,
                                               b_hh, w_hr, reverse)
            dir_outs.append(out)
            hs.append(hN)
            if lstm:
                cs.append(cN)
        layer_output = dir_outs[0] if num_dirs == 1 else rt.cat(dir_outs, 2)
        if dropout > 0 and train and layer < num_layers - 1:
            layer_output = _dropout(layer_output, dropout, True)
        layer_input = layer_output
    output = layer_input
    if batch_first:
        output = output.transpose(0, 1)
    h_n = rt.stack(hs, 0)
    if lstm:
        return output, h_n, rt.stack(cs, 0)
    return output, h_n


def _rnn_impl_packed(mode, data, batch_sizes, hx, params, has_biases, num_layers, dropout,
                     train, bidirectional, proj_size=0):
    """PyTorch's _VF.<mode>(data, batch_sizes, hx, params, ...) for a PackedSequence: data
    (N, I) and batch_sizes (T,). Returns (data_out, h_n) or (data_out, h_n, c_n)."""
    lstm = mode == "LSTM"
    h0_all, c0_all = (hx if lstm else (hx, None))
    _check_hidden_dtype(data, (h0_all, c0_all))
    bs = [int(b) for b in (batch_sizes.tolist() if hasattr(batch_sizes, "tolist")
                           else batch_sizes)]
    num_dirs = 2 if bidirectional else 1
    per = (4 if has_biases else 2) + (1 if proj_size > 0 else 0)
    hs, cs = [], []
    layer_input = data
    for layer in range(num_layers):
        dir_outs = []
        for d in range(num_dirs):
            k = layer * num_dirs + d
            p = params[k * per:(k + 1) * per]
            b_ih, b_hh = (p[2], p[3]) if has_biases else (None, None)
            w_hr = p[-1] if proj_size > 0 else None
            out, hN, cN = _layer_packed(mode, layer_input, bs, h0_all[k],
                                        c0_all[k] if lstm else None, p[0], p[1], b_ih, b_hh,
                                        w_hr, d == 1)
            dir_outs.append(out)
            hs.append(hN)
            cs.append(cN)
        layer_output = dir_outs[0] if num_dirs == 1 else rt.cat(dir_outs, 1)
        if dropout > 0 and train and layer < num_layers - 1:
            layer_output = _dropout(layer_output, dropout, True)
        layer_input = layer_output
    if lstm:
        return layer_input, rt.stack(hs, 0), rt.stack(cs, 0)
    return layer_input, rt.stack(hs, 0)


def rnn_tanh(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
             batch_first):
    return _rnn_impl("RNN_TANH", input, hx, params, has_biases, num_layers, dropout, train,
                     bidirectional, batch_first)


def rnn_relu(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
             batch_first):
    return _rnn_impl("RNN_RELU", input, hx, params, has_biases, num_layers, dropout, train,
                     bidirectional, batch_first)


def lstm(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
         batch_first, proj_size=0):
    return _rnn_impl("LSTM", input, tuple(hx), params, has_biases, num_layers, dropout, train,
                     bidirectional, batch_first, proj_size)


def gru(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
        batch_first):
    return _rnn_impl("GRU", input, hx, params, has_biases, num_layers, dropout, train,
                     bidirectional, batch_first)
