"""rt-import: ONNX inference against onnxruntime, and loading a 100 MB state_dict against
torch.load and the safetensors package, in one process.

1. A small CNN (conv-bn-relu-pool x2, linear) and an MLP (784-256-128-10) exported from
   PyTorch with ``torch.onnx.export`` (opset 17), run by ``rt_import.load_onnx`` (eval, no
   grad) and by onnxruntime (``intra_op_num_threads`` = the thread count) at batch 1 and 64.
   Target: rt at least 0.7x onnxruntime's throughput.
2. A 100 MB float32 state_dict (25 tensors of 1M values) written by ``torch.save``, read by
   ``rt_import.load`` and by ``torch.load(weights_only=True)`` (with and without mmap), and
   the same tensors as safetensors read by ``rt_import.load_safetensors`` and
   ``safetensors.torch.load_file``. Target: rt no slower than ``torch.load`` (rt maps the
   file with ``mmap=True``, "memory-mapped where the format allows").
"""
import io
import os
import tempfile

import numpy as np

import _harness as H

try:
    import rt_autograd as rt
    import rt_import
except Exception as exc:             # the tables still print, with errors in the cells
    rt = rt_import = None
    RT_ERROR = exc
try:
    import onnxruntime as ort
except Exception:
    ort = None


def _models():
    nn = H.torch.nn
    H.torch.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32),
                        nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 7 * 7, 10))
    mlp = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                        nn.Linear(128, 10))
    return {"CNN 1x28x28": (cnn.eval(), (1, 28, 28)), "MLP 784-256-128-10": (mlp.eval(), (784,))}


def _export(model, shape):
    import warnings
    buf = io.BytesIO()
    x = H.torch.randn(2, *shape)
    with warnings.catch_warnings():          # the TorchScript exporter's deprecation notice
        warnings.simplefilter("ignore")
        H.torch.onnx.export(model, (x,), buf, opset_version=17, dynamo=False,
                            input_names=["x"], output_names=["y"],
                            dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    return buf.getvalue()


def onnx_inference():
    rows = []
    eager_rows = []
    for name, (model, shape) in _models().items():
        data = _export(model, shape)
        for batch in (1, 64):
            xa = np.random.default_rng(0).standard_normal((batch, *shape)).astype(np.float32)

            def make_rt():
                if rt_import is None:
                    raise RT_ERROR
                module = rt_import.load_onnx(data).eval()
                x = rt.from_numpy(xa.copy())

                def run():
                    with rt.no_grad():
                        module(x)
                return run

            sessions = {}

            def make_ort():
                if ort is None:
                    raise RuntimeError("onnxruntime is not installed")

                def run():
                    n = H.torch.get_num_threads()
                    if n not in sessions:
                        opts = ort.SessionOptions()
                        opts.intra_op_num_threads = n
                        opts.inter_op_num_threads = 1
                        sessions[n] = ort.InferenceSession(data, opts,
                                                           providers=["CPUExecutionProvider"])
                    sessions[n].run(None, {"x": xa})
                return run

            res = H.bench({"rt": make_rt, "torch": make_ort})
            rows.append((f"{name}, batch {batch}", res, "ort/rt >= 0.7", H.point(name, batch)))

            def make_eager(model=model):
                x = H.torch.from_numpy(xa.copy())

                def run():
                    with H.torch.no_grad():
                        model(x)
                return run
            eager = H.bench({"rt": make_rt, "torch": make_eager})
            eager_rows.append((f"{name}, batch {batch}", eager, "",
                               H.point(f"{name} (PyTorch eager)", batch)))
    H.timing_table("ONNX inference: rt_import.load_onnx vs onnxruntime (the 'torch' columns "
                   "are onnxruntime)", rows, unit="us",
                   notes=["onnxruntime's session is created per thread count "
                          "(intra_op_num_threads) outside the timed calls."],
                   size_name="batch size", record_as={"torch": "ort"})
    H.timing_table("The same ONNX models in rt against the PyTorch modules they were exported "
                   "from, run eagerly under torch.no_grad()", eager_rows, unit="us",
                   size_name="batch size")


def state_dict_loading():
    torch = H.torch
    tensors = {f"layer{i}.weight": torch.randn(1000, 1000) for i in range(25)}
    folder = tempfile.mkdtemp()
    pt = os.path.join(folder, "model.pt")
    st = os.path.join(folder, "model.safetensors")
    torch.save(tensors, pt)
    rows = []
    if rt_import is None:
        return
    try:
        import safetensors.torch as st_torch
        st_torch.save_file(tensors, st)
    except Exception:           # without the safetensors package rt writes the file
        st_torch = None
        rt_import.save_safetensors({k: rt.from_numpy(v.numpy()) for k, v in tensors.items()},
                                   st)

    cases = [("torch.save file: rt_import.load", lambda: rt_import.load(pt)),
             ("torch.save file: rt_import.load(mmap=True)",
              lambda: rt_import.load(pt, mmap=True)),
             ("torch.save file: torch.load(weights_only=True)",
              lambda: torch.load(pt, weights_only=True)),
             ("torch.save file: torch.load(weights_only=True, mmap=True)",
              lambda: torch.load(pt, weights_only=True, mmap=True)),
             ("safetensors file: rt_import.load_safetensors",
              lambda: rt_import.load_safetensors(st)),
             ("safetensors file: safetensors.torch.load_file",
              (lambda: st_torch.load_file(st)) if st_torch else None)]
    times = {}
    for label, fn in cases:
        if fn is None:
            rows.append([label, "n/a"])
            continue
        s = H.measure(fn, warmup=1, repeat=5, batch_s=0.05)
        times[label] = s
        rows.append([label, f"{s * 1e3:.1f}"])
    heading = ("Loading a 100 MB float32 state_dict (25 x 1M values; ms per load, 1 process, "
               "file in the page cache)")
    pairs = [("torch.save file", 0, 2), ("torch.save file, mmap=True", 1, 3),
             ("safetensors file (torch side: safetensors.torch.load_file)", 4, 5)]
    for case, i_rt, i_torch in pairs:        # --json: rt's load and torch's side by side
        H.record(f"load 100 MB state_dict: {case}",
                 {("rt", None): times.get(cases[i_rt][0], H.NA),
                  ("torch", None): times.get(cases[i_torch][0], H.NA)}, table=heading)
    H.table(heading, ["case", "ms"], rows,
            notes=["rt_import.load reads each storage once into rt memory; "
                   "load_safetensors maps the file (copy-on-write views)."])
    for p in (pt, st):
        if os.path.exists(p):
            os.unlink(p)
    os.rmdir(folder)


def main():
    print(f"_{H.header()}_\n")
    onnx_inference()
    state_dict_loading()


if __name__ == "__main__":
    H.main_guard(main)
