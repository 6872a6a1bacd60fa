"""`make demo` (demo/train_digits.py) end to end, as a user runs it.

* A default run (15 epochs) reaches >= 97% test accuracy, prints a line per epoch and the
  table of timings and results, and writes a checkpoint, an ONNX file and a PNG. The files are
  checked against oracles independent of rt: the checkpoint's weights, put through a numpy
  forward pass written here, give the logits that ``onnx.reference.ReferenceEvaluator`` gets
  from the ONNX file and the test accuracy the demo printed; the PNG's chunks and CRCs are
  read with zlib.
* ``--help`` lists every option; each bad option exits 2 with a one-line error.
* SIGINT (Ctrl-C) or SIGTERM during training exits 130 / 143 and leaves no file in --out;
  Ctrl-C just after the checkpoint or the ONNX file was written leaves neither of them (and
  the files of an earlier run untouched); logits that disagree make the run fail loudly with
  status 1 and publish nothing.
* The same --seed gives the same run, bitwise, with --threads 1 (demo/README.md,
  "Reproducibility", says why not with 2).

The demo runs as a subprocess with ``sys.executable`` (the tox env's python, which has
requirements/demo.txt) or in-process through ``main(argv)`` where a package function is
replaced to simulate Ctrl-C at a precise moment.
"""
import importlib.util
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest

import rt_autograd as rt
import rt_import
import rt_nn as nn
import rt_optim

DEMO = Path(__file__).resolve().parents[1] / "demo" / "train_digits.py"
OPTIONS = ("--epochs", "--batch-size", "--lr", "--optimizer", "--threads", "--out", "--seed")
FILES = ("digits_cnn.pt", "digits_cnn.onnx", "digits_curves.png")
TIMING_ROWS = ("data", "training", "save", "load", "export", "import", "check", "plot", "total")
EPOCH_LINE = re.compile(r"^epoch +(\d+)/(\d+)  train loss (\S+)  train acc +(\S+)%  "
                        r"test loss (\S+)  test acc +(\S+)%  lr (\S+)  (\S+) s$", re.M)
RESULT_LINE = re.compile(r"^  (trained|checkpoint|ONNX) +(\S+)%  +(\S+)  (.*)$", re.M)


@pytest.fixture(scope="module")
def demo():
    """demo/train_digits.py imported as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("train_digits", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def test_set(demo):
    _, _, x_test, y_test = demo.load_data()
    return x_test, y_test


def run_demo(*args, timeout=120):
    return subprocess.run([sys.executable, str(DEMO), *args], capture_output=True, text=True,
                          timeout=timeout)


def out_dir_entries(path):
    return sorted(os.listdir(path)) if os.path.isdir(path) else []


# --- independent oracles -----------------------------------------------------------------------

def numpy_forward(state, x):
    """DigitsCNN in eval mode, in float64 numpy, from a state_dict of numpy arrays."""
    def conv3x3(x, weight):
        padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3))
        return np.einsum("nchwij,ocij->nohw", windows, weight)

    def batch_norm(x, prefix):
        scale = state[prefix + ".weight"] / np.sqrt(state[prefix + ".running_var"] + 1e-5)
        shift = state[prefix + ".bias"] - state[prefix + ".running_mean"] * scale
        return x * scale[:, None, None] + shift[:, None, None]

    relu = lambda v: np.maximum(v, 0.0)   # noqa: E731
    h = relu(batch_norm(conv3x3(x, state["conv1.weight"]), "bn1"))
    h = relu(batch_norm(conv3x3(h, state["conv2.weight"]), "bn2"))
    n, c, height, width = h.shape
    h = h.reshape(n, c, height // 2, 2, width // 2, 2).max(axis=(3, 5)).reshape(n, -1)
    h = relu(h @ state["fc1.weight"].T + state["fc1.bias"])
    return h @ state["fc2.weight"].T + state["fc2.bias"]


def png_chunks(data):
    """[(type, payload)] of a PNG, checking the signature and every chunk's CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, payload = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + payload) == crc, f"bad CRC in chunk {kind!r}"
        chunks.append((kind, payload))
        pos += 12 + length
    return chunks


# --- the full default run ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    result = run_demo("--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    return out, result


def test_default_run_trains_to_97_percent_and_prints_each_epoch(default_run):
    _, result = default_run
    epochs = EPOCH_LINE.findall(result.stdout)
    assert [int(e[0]) for e in epochs] == list(range(1, 16)), result.stdout
    assert all(int(e[1]) == 15 for e in epochs)
    train_loss = [float(e[2]) for e in epochs]
    test_acc = [float(e[5]) / 100 for e in epochs]
    lrs = [float(e[6]) for e in epochs]
    # ~0.92 -> ~0.01 with the default seed; a tenth is far from both a broken and a lucky run
    assert train_loss[-1] < 0.1 * train_loss[0], train_loss
    assert test_acc[-1] >= 0.97, test_acc
    # the cosine schedule: 3e-3 at the first epoch, falling every epoch
    assert lrs[0] == pytest.approx(3e-3)
    assert all(b < a for a, b in zip(lrs, lrs[1:])), lrs
    assert "Adam lr 0.003 (cosine schedule), batch 32, 15 epochs, seed 0" in result.stdout
    # tqdm draws the bar on stderr, one per epoch
    for epoch in (1, 15):
        assert f"epoch {epoch:>2}/15" in result.stderr


def test_default_run_prints_the_table_of_timings_and_results(default_run):
    out, result = default_run
    for row in TIMING_ROWS:
        assert re.search(rf"^  {row} +\d+\.\d{{3}} s$", result.stdout, re.M), row
    results = {m[0]: m for m in RESULT_LINE.findall(result.stdout)}
    assert sorted(results) == ["ONNX", "checkpoint", "trained"], result.stdout
    final_acc = EPOCH_LINE.findall(result.stdout)[-1][5]
    assert {m[1] for m in results.values()} == {final_acc}     # all three, as the last epoch
    for label, name in (("checkpoint", "digits_cnn.pt"), ("ONNX", "digits_cnn.onnx")):
        path = out / name
        assert results[label][3] == f"{path} ({path.stat().st_size} bytes)"
        assert float(results[label][2]) <= 1e-4
    plot = out / "digits_curves.png"
    assert f"{plot} ({plot.stat().st_size} bytes)" in result.stdout
    assert "all three models predict the same class for every test image" in result.stdout


def test_default_run_writes_exactly_the_three_files(default_run):
    out, _ = default_run
    assert out_dir_entries(out) == sorted(FILES)     # no temporary file left behind
    for name in FILES:
        # the mode a plain open() gives (0666 less the umask), not mkstemp's 0600
        mask = os.umask(0)
        os.umask(mask)
        assert (out / name).stat().st_mode & 0o777 == 0o666 & ~mask, name


def test_plot_is_a_valid_png_of_the_two_panels(default_run):
    out, _ = default_run
    chunks = png_chunks((out / "digits_curves.png").read_bytes())
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
    width, height = struct.unpack(">II", chunks[0][1][:8])
    assert (width, height) == (1000, 400)                 # figsize (10, 4) at 100 dpi
    pixels = zlib.decompress(b"".join(p for k, p in chunks if k == b"IDAT"))
    assert len(set(pixels)) > 16                          # curves and text, not a blank image


def test_checkpoint_and_onnx_file_match_an_independent_forward_pass(default_run, demo,
                                                                    test_set):
    out, result = default_run
    x_test, y_test = test_set
    state = rt_import.load(str(out / "digits_cnn.pt"))
    assert sorted(state) == sorted(demo.make_model_class()().state_dict())
    assert state["conv1.weight"].shape == (16, 1, 3, 3)
    assert state["fc1.weight"].shape == (64, 512)
    assert int(state["bn1.num_batches_tracked"].item()) == 15 * 45      # 45 batches an epoch
    arrays = {k: np.asarray(v.numpy(), dtype=np.float64) for k, v in state.items()}
    expected = numpy_forward(arrays, x_test.astype(np.float64))

    import onnx.reference
    onnx_logits = onnx.reference.ReferenceEvaluator(str(out / "digits_cnn.onnx")).run(
        None, {"images": x_test})[0]
    np.testing.assert_allclose(onnx_logits, expected, rtol=1e-4, atol=1e-4)

    model = demo.make_model_class()()
    model.load_state_dict(state)
    model.eval()
    with rt.no_grad():
        rt_logits = model(rt.from_numpy(x_test)).numpy()
    np.testing.assert_allclose(rt_logits, expected, rtol=1e-4, atol=1e-4)
    accuracy = float((expected.argmax(1) == y_test).mean())
    printed = float(RESULT_LINE.findall(result.stdout)[0][1]) / 100
    assert accuracy == pytest.approx(printed, abs=0.5e-4)
    assert accuracy >= 0.97


def test_checkpoint_is_torch_zip_layout(default_run):
    import zipfile
    with zipfile.ZipFile(default_run[0] / "digits_cnn.pt") as archive:
        names = archive.namelist()
    root = names[0].split("/")[0]
    for member in ("data.pkl", "byteorder", "version", "data/0"):
        assert f"{root}/{member}" in names, names


# --- options -----------------------------------------------------------------------------------

def test_help_lists_every_option_and_optimizer():
    result = run_demo("--help")
    assert result.returncode == 0, result.stderr
    for option in OPTIONS:
        assert option in result.stdout, option
    flat = " ".join(result.stdout.split())
    for name in rt_optim.OptimizerFactory.available():
        assert name in flat, name
    assert "demo-out" in flat and "(default 15)" in flat and "(default 32)" in flat


BAD_OPTIONS = [
    (["--epochs", "-1"], "--epochs"),
    (["--epochs", "0"], "--epochs"),
    (["--epochs", "two"], "--epochs"),
    (["--batch-size", "0"], "--batch-size"),
    (["--optimizer", "Adamm"], "unknown optimizer 'Adamm'"),
    (["--lr", "0"], "--lr"),
    (["--lr", "-0.1"], "--lr"),
    (["--lr", "nan"], "--lr"),
    (["--lr", "inf"], "--lr"),
    (["--threads", "0"], "--threads"),
    (["--seed", "-1"], "--seed"),
    (["--no-such-option"], "unrecognized arguments"),
]


@pytest.mark.parametrize("argv,mentions", BAD_OPTIONS, ids=[" ".join(a) for a, _ in BAD_OPTIONS])
def test_bad_option_exits_2_with_a_one_line_error(demo, tmp_path, capsys, argv, mentions):
    out = tmp_path / "never"
    with pytest.raises(SystemExit) as exc:
        demo.main([*argv, "--out", str(out)])
    assert exc.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("train_digits.py: error: "), captured.err
    assert mentions in lines[0]
    assert not out.exists()


def test_bad_option_exit_status_of_the_process(tmp_path):
    result = run_demo("--batch-size", "0", "--out", str(tmp_path / "never"))
    assert result.returncode == 2
    assert result.stdout == "" and len(result.stderr.splitlines()) == 1, result.stderr


def test_out_that_is_a_file_is_a_usage_error(demo, tmp_path, capsys):
    target = tmp_path / "a-file"
    target.write_text("not a directory")
    with pytest.raises(SystemExit) as exc:
        demo.main(["--out", str(target)])
    assert exc.value.code == 2
    assert "is not a directory" in capsys.readouterr().err


def test_optimizer_names_are_case_insensitive_with_a_measured_lr_each(demo):
    for name in rt_optim.OptimizerFactory.available():
        args = demo.parse_args(["--optimizer", name.upper()])
        assert args.optimizer == name
        assert args.lr > 0 and np.isfinite(args.lr)
    assert demo.parse_args(["--optimizer", "sgd"]).lr == 0.1
    assert demo.parse_args(["--optimizer", "sgd", "--lr", "0.5"]).lr == 0.5


# --- interruption and failure ------------------------------------------------------------------

@pytest.mark.parametrize("signum,status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
                         ids=["SIGINT", "SIGTERM"])
def test_signal_during_training_leaves_no_file(tmp_path, signum, status):
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, str(DEMO), "--epochs", "10000", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # If the demo hangs before its first epoch line, kill it rather than hang the suite.
    watchdog = threading.Timer(120, proc.kill)
    watchdog.start()
    try:
        seen = []
        for line in proc.stdout:            # wait until training is under way
            seen.append(line)
            if line.startswith("epoch"):
                break
        assert any(line.startswith("epoch") for line in seen), "".join(seen)
        proc.send_signal(signum)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == status, stderr[-2000:]
    word = "interrupted" if signum == signal.SIGINT else "terminated"
    assert stderr.rstrip().splitlines()[-1] == (
        f"{word}: no partial checkpoint, ONNX or plot file left in {out}")
    assert "Traceback" not in stderr
    assert out_dir_entries(out) == []


def _interrupt_after(module, name, monkeypatch):
    """Replace ``module.name`` by a wrapper that does the work, then raises KeyboardInterrupt
    (Ctrl-C arriving just after the file was written)."""
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        original(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(module, name, wrapper)


@pytest.mark.parametrize("step", ["save", "export_onnx"])
def test_ctrl_c_after_a_file_was_written_publishes_nothing(demo, tmp_path, capsys,
                                                           monkeypatch, restore_threads, step):
    out = tmp_path / "out"
    out.mkdir()
    earlier = {name: f"earlier run's {name}".encode() for name in FILES}
    for name, data in earlier.items():
        (out / name).write_bytes(data)
    _interrupt_after(rt_import, step, monkeypatch)
    # what the process had before (SIG_IGN when CI runs in the background, as nohup does)
    handler_before = signal.getsignal(signal.SIGINT)
    assert demo.main(["--epochs", "1", "--threads", "1", "--out", str(out)]) == 130
    assert "interrupted: no partial checkpoint" in capsys.readouterr().err
    assert out_dir_entries(out) == sorted(FILES)          # no temporary file either
    for name, data in earlier.items():
        assert (out / name).read_bytes() == data, name   # the earlier run's files untouched
    assert signal.getsignal(signal.SIGINT) is handler_before      # the demo restored it


def test_models_that_disagree_fail_loudly_and_publish_nothing(demo, tmp_path, capsys,
                                                              monkeypatch, restore_threads):
    original = rt_import.load_onnx

    def load_onnx_slightly_off(path):
        imported = original(path)

        class Off(nn.Module):                        # the imported model, scaled
            def __init__(self):
                super().__init__()
                self.inner = imported

            def forward(self, x):
                return self.inner(x) * 1.001         # argmax unchanged, not allclose

        return Off()

    monkeypatch.setattr(rt_import, "load_onnx", load_onnx_slightly_off)
    out = tmp_path / "out"
    assert demo.main(["--epochs", "1", "--threads", "1", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "MISMATCH: the model loaded from the ONNX file" in err
    assert "0 of 360 predicted classes differ" in err
    assert "checkpoint file" not in err                # the checkpoint itself matched
    assert out_dir_entries(out) == []


def test_diverging_training_fails_with_a_hint(demo, tmp_path, capsys, restore_threads):
    out = tmp_path / "out"
    argv = ["--epochs", "3", "--optimizer", "SGD", "--lr", "1e20", "--threads", "1",
            "--out", str(out)]
    assert demo.main(argv) == 1
    captured = capsys.readouterr()
    assert "training diverged" in captured.err and "smaller --lr" in captured.err
    assert len(EPOCH_LINE.findall(captured.out)) == 1      # stops at the first bad epoch
    assert out_dir_entries(out) == []


def test_same_seed_same_run_and_threads_option_applies(demo, tmp_path, capsys,
                                                      restore_threads):
    runs = []
    for i, seed in enumerate((7, 7, 8)):
        argv = ["--epochs", "2", "--seed", str(seed), "--threads", "1",
                "--out", str(tmp_path / str(i))]
        assert demo.main(argv) == 0
        assert rt.get_num_threads() == 1
        stdout = capsys.readouterr().out
        assert "1 thread;" in stdout
        runs.append([line[:7] for line in EPOCH_LINE.findall(stdout)])   # without seconds
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    same = [rt_import.load(str(tmp_path / str(i) / "digits_cnn.pt")) for i in (0, 1)]
    for key in same[0]:
        np.testing.assert_array_equal(same[0][key].numpy(), same[1][key].numpy())


def test_a_signal_while_a_progress_bar_is_built_is_acted_on_after_it(demo):
    # tqdm's constructor interrupted half way leaves a bar whose __del__ raises; the demo
    # defers Ctrl-C and SIGTERM while building one, then acts on them with the bar whole
    from tqdm import tqdm
    built = []

    class InterruptedWhileBuilt(tqdm):
        def __init__(self, *args, **kwargs):
            signal.raise_signal(signal.SIGINT)
            super().__init__(*args, **kwargs)
            built.append(self)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            demo._progress_bar(InterruptedWhileBuilt, range(3), "epoch 1/1")
        assert len(built) == 1                      # the constructor ran to its end ...
        assert built[0].disable is True             # ... and the bar was closed (tqdm's mark)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)
