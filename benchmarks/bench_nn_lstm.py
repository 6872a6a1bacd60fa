"""LSTM forward (2 layers, input 128, hidden 128, sequence 50, batch 32, float32), rt_nn vs
torch.nn with the same weights, 1 and 2 threads (target: rt at least 0.8x PyTorch's speed).

    python benchmarks/bench_nn_lstm.py [--quick] [--json PATH]

Three cases: the plain call ``model(x)`` (grad mode on, as in a training script: the graph is
recorded), the same under ``no_grad`` (inference), and forward + backward of ``out.sum()``
for reference (no target). Also a GRU and a bidirectional LSTM forward, for reference."""
import numpy as np

import _harness as H

try:
    import rt_autograd as rt
    import rt_nn
except Exception as exc:            # the script still prints its tables, with errors in cells
    rt = None
    RT_NN_ERROR = exc

SEQ, BATCH, IN, HIDDEN, LAYERS = 50, 32, 128, 128, 2


def _model(lib, nn, cls, weights, **kw):
    m = getattr(nn, cls)(IN, HIDDEN, LAYERS, **kw)
    with lib.no_grad():
        for (name, p) in m.named_parameters():
            p.copy_(lib.from_numpy(weights[name].copy()))
    return m


def _weights(cls, **kw):
    """One numpy draw of every parameter (PyTorch's init distribution), keyed by name."""
    rng = np.random.default_rng(0)
    gates = {"LSTM": 4, "GRU": 3}[cls]
    dirs = 2 if kw.get("bidirectional") else 1
    bound = 1 / np.sqrt(HIDDEN)
    w = {}
    for layer in range(LAYERS):
        for d in range(dirs):
            sfx = f"l{layer}" + ("_reverse" if d else "")
            lin = IN if layer == 0 else HIDDEN * dirs
            for name, shape in ((f"weight_ih_{sfx}", (gates * HIDDEN, lin)),
                                (f"weight_hh_{sfx}", (gates * HIDDEN, HIDDEN)),
                                (f"bias_ih_{sfx}", (gates * HIDDEN,)),
                                (f"bias_hh_{sfx}", (gates * HIDDEN,))):
                w[name] = rng.uniform(-bound, bound, shape).astype(np.float32)
    return w


def _makers(cls, mode, **kw):
    weights = _weights(cls, **kw)
    x = np.random.default_rng(1).standard_normal((SEQ, BATCH, IN)).astype(np.float32)

    def build(lib, nn):
        m = _model(lib, nn, cls, weights, **kw)
        xt = lib.from_numpy(x.copy())
        if mode == "grad":
            return lambda: m(xt)
        if mode == "no_grad":
            def fwd():
                with lib.no_grad():
                    return m(xt)
            return fwd

        def fwd_bwd():
            out = m(xt)[0]
            m.zero_grad()
            out.sum().backward()
        return fwd_bwd

    def make_rt():
        if rt is None:
            raise RT_NN_ERROR
        return build(rt, rt_nn)

    def make_torch():
        return build(H.torch, H.torch.nn)
    return {"rt": make_rt, "torch": make_torch}


def main():
    print(f"_{H.header()}_\n")
    kw = {"measure_kw": {"batch_s": 0.05, "repeat": 7}}
    rows = [
        ("LSTM forward, model(x)", H.bench(_makers("LSTM", "grad"), **kw), "torch/rt >= 0.8"),
        ("LSTM forward, no_grad", H.bench(_makers("LSTM", "no_grad"), **kw), "torch/rt >= 0.8"),
        ("LSTM forward + backward", H.bench(_makers("LSTM", "train"), **kw), ""),
        ("GRU forward, model(x)", H.bench(_makers("GRU", "grad"), **kw), ""),
        ("LSTM bidirectional forward, model(x)",
         H.bench(_makers("LSTM", "grad", bidirectional=True), **kw), ""),
    ]
    H.timing_table(f"LSTM {LAYERS} layers, input {IN}, hidden {HIDDEN}, sequence {SEQ}, "
                   f"batch {BATCH}, f32", rows, unit="ms",
                   notes=["model(x) records the graph (grad mode on), as a training script's "
                          "forward does."])


if __name__ == "__main__":
    H.main_guard(main)
