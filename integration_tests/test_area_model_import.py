"""Compatibility area "model import" (no PyTorch here; the parity suite reads and writes the
same files with torch 2.13): a model trained in rt goes through every format rt_import
speaks and comes back predicting the same.

* ``rt_import.save``/``load``: a trained CNN's state_dict and its optimizer's state, bit for
  bit, dtypes, shared storages and views kept; training continues identically; the file is
  PyTorch's zip layout (``<name>/data.pkl``, ``<name>/data/<key>``, ``byteorder``), its pickle
  references only the allow-listed globals, and hostile pickles are refused before they run.
* safetensors: save/load round trip (the header's offsets checked by hand), metadata.
* ONNX: ``export_onnx`` of the trained model; the file is evaluated by ONNX's own reference
  evaluator (an independent oracle) and by ``load_onnx``; both give the rt model's outputs,
  also at another batch size, and the imported module trains.
* ``detect_format`` tells the files apart by content only; numpy ``.npy``/``.npz`` load.

Example of the contract under test::

    >>> rt_import.save(model.state_dict(), "m.pt")
    >>> model.load_state_dict(rt_import.load("m.pt"))
"""
import io
import json
import pickle
import pickletools
import struct
import zipfile

import numpy as np
import pytest

import rt_autograd as rt
import rt_import
import rt_nn as nn
import rt_nn.functional as F
import rt_optim

onnx = pytest.importorskip("onnx", reason="rt-import depends on onnx")
from onnx.reference import ReferenceEvaluator  # noqa: E402


def _cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 16), nn.Tanh(),
                         nn.Linear(16, 3))


def _data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 1, 8, 8)).astype(np.float32)
    y = (x[:, 0, :4].mean((1, 2)) > 0).astype(np.int64) + (x[:, 0, 4:].mean((1, 2)) > 0)
    return rt.from_numpy(x), rt.from_numpy(y)


@pytest.fixture(scope="module")
def trained():
    """A CNN with BatchNorm trained 15 Adam steps, its optimizer, and the data."""
    rt.manual_seed(0)
    model = _cnn()
    opt = rt_optim.Adam(model.parameters(), lr=1e-2)
    x, y = _data()
    for _ in range(15):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return model.eval(), opt, x, y


def _same_state(a, b):
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and tuple(a[k].shape) == tuple(b[k].shape), k
        assert rt.equal(a[k], b[k]), k


def test_checkpoint_round_trip_predicts_the_same_and_training_continues(trained, tmp_path):
    model, opt, x, y = trained
    path = tmp_path / "ckpt.pt"
    rt_import.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 15}, path)
    ck = rt_import.load(path)
    assert ck["epoch"] == 15
    _same_state(ck["model"], model.state_dict())
    twin = _cnn()
    twin.load_state_dict(ck["model"])
    twin.eval()
    assert rt.equal(twin(x), model(x))
    # both continue training from the same point and stay identical
    twin_opt = rt_optim.Adam(twin.parameters(), lr=1e-2)
    twin_opt.load_state_dict(ck["optim"])
    orig = _cnn()
    orig.load_state_dict(model.state_dict())
    orig_opt = rt_optim.Adam(orig.parameters(), lr=1e-2)
    orig_opt.load_state_dict(opt.state_dict())
    for m, o in ((orig, orig_opt), (twin, twin_opt)):
        m.train()
        for _ in range(3):
            o.zero_grad()
            F.cross_entropy(m(x), y).backward()
            o.step()
    _same_state(orig.state_dict(), twin.state_dict())


def test_checkpoint_file_is_pytorchs_zip_layout_with_an_allow_listed_pickle(trained, tmp_path):
    model = trained[0]
    path = tmp_path / "weights.pt"
    rt_import.save(model.state_dict(), path)
    assert rt_import.detect_format(path) == "pytorch-zip"
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        prefix = names[0].split("/")[0]
        assert f"{prefix}/data.pkl" in names and f"{prefix}/byteorder" in names
        assert z.read(f"{prefix}/byteorder") == b"little"
        data_keys = sorted(n for n in names if n.startswith(f"{prefix}/data/"))
        pkl = z.read(f"{prefix}/data.pkl")
        # one storage per tensor here (no two state_dict entries share one)
        assert len(data_keys) == len(model.state_dict())
        w = model.state_dict()["5.weight"]
        blobs = [z.read(k) for k in data_keys]
    assert any(b == w.numpy().tobytes() for b in blobs)     # raw little-endian float32
    globals_used = {arg for op, arg, _ in pickletools.genops(pkl) if op.name == "GLOBAL"}
    assert globals_used                                      # protocol 2: GLOBAL opcodes
    allowed = {"collections OrderedDict", "torch._utils _rebuild_tensor_v2",
               "torch FloatStorage", "torch LongStorage"}
    assert globals_used <= allowed, globals_used


def test_shared_storages_and_views_survive_the_round_trip(tmp_path):
    base = rt.arange(12, dtype=rt.float64)
    obj = {"base": base, "view": base[2:8].view(2, 3).t(), "other": rt.ones(2, dtype=rt.int16)}
    buf = io.BytesIO()
    rt_import.save(obj, buf)
    buf.seek(0)
    back = rt_import.load(buf)
    assert back["view"].stride() == (1, 3) and back["view"].storage_offset() == 2
    np.testing.assert_array_equal(back["view"].numpy(), base[2:8].view(2, 3).t().numpy())
    back["base"][3] = -1.0                                   # one storage, as in the file
    assert back["view"][1, 0].item() == -1.0
    assert back["other"].dtype == rt.int16


class _Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_hostile_pickles_are_refused(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("evil/data.pkl", pickle.dumps({"w": _Evil()}, protocol=2))
        z.writestr("evil/byteorder", "little")
    with pytest.raises(rt_import.UnsafeCheckpointError, match="print"):
        rt_import.load(path)
    assert "must never run" not in capsys.readouterr().out


def test_safetensors_round_trip_and_header(trained, tmp_path):
    model = trained[0]
    sd = {k: v for k, v in model.state_dict().items()}
    path = tmp_path / "m.safetensors"
    rt_import.save_safetensors(sd, path, metadata={"epochs": "15"})
    assert rt_import.detect_format(path) == "safetensors"
    raw = path.read_bytes()
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hlen])
    assert header["__metadata__"] == {"epochs": "15"}
    w = header["5.weight"]
    assert w["dtype"] == "F32" and w["shape"] == [16, 64]
    start, end = w["data_offsets"]
    np.testing.assert_array_equal(np.frombuffer(raw[8 + hlen + start:8 + hlen + end], "<f4")
                                  .reshape(16, 64), sd["5.weight"].numpy())
    assert header["1.num_batches_tracked"]["dtype"] == "I64"
    back = rt_import.load_safetensors(path)
    _same_state(dict(sorted(back.items())), dict(sorted(sd.items())))
    twin = _cnn().eval()
    twin.load_state_dict(back)
    assert rt.equal(twin(trained[2]), model(trained[2]))


def test_onnx_export_matches_the_reference_evaluator_and_load_onnx(trained, tmp_path):
    model, _, x, _ = trained
    path = tmp_path / "m.onnx"
    proto = rt_import.export_onnx(model, (x[:4],), path, input_names=["image"],
                                  output_names=["logits"], dynamic_axes={"image": [0],
                                                                         "logits": [0]})
    assert rt_import.detect_format(path) == "onnx"
    onnx.checker.check_model(proto, full_check=True)
    init_names = {i.name for i in proto.graph.initializer}
    assert {"0.weight", "5.weight", "7.bias"} <= init_names      # state_dict names
    want = model(x).detach().numpy()                             # batch 24, traced at 4
    (ref,) = ReferenceEvaluator(proto).run(None, {"image": x.numpy()})
    np.testing.assert_allclose(ref, want, rtol=1e-5, atol=1e-5)
    imported = rt_import.load_onnx(path)
    got = imported(x)
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-5, atol=1e-6)
    assert np.array_equal(got.argmax(1).numpy(), model(x).argmax(1).numpy())


def test_an_imported_onnx_model_trains(trained, tmp_path):
    model, _, x, y = trained
    path = tmp_path / "m.onnx"
    rt_import.export_onnx(model, (x[:4],), path)
    imported = rt_import.load_onnx(path)
    params = list(imported.parameters())
    assert params and all(p.requires_grad for p in params)
    xb, yb = x[:4], y[:4]
    opt = rt_optim.SGD(params, lr=0.5)
    first = F.cross_entropy(imported(xb), yb).item()
    for _ in range(20):
        opt.zero_grad()
        F.cross_entropy(imported(xb), yb).backward()
        opt.step()
    assert F.cross_entropy(imported(xb), yb).item() < 0.5 * first


def test_detect_format_ignores_the_extension_and_numpy_files_load(tmp_path):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.save(tmp_path / "a.bin", a)                     # numpy appends .npy
    np.savez(tmp_path / "b.onnx.npz", w=a, b=np.ones(2, dtype=np.int64))
    (tmp_path / "c.npy").write_bytes(b"\x00" * 16)
    assert rt_import.detect_format(tmp_path / "a.bin.npy") == "npy"
    assert rt_import.detect_format(tmp_path / "b.onnx.npz") == "npz"
    with pytest.raises(rt_import.FormatError):
        rt_import.detect_format(tmp_path / "c.npy")
    t = rt_import.load_numpy(tmp_path / "a.bin.npy")
    np.testing.assert_array_equal(t.numpy(), a)
    d = rt_import.load_numpy(tmp_path / "b.onnx.npz")
    assert sorted(d) == ["b", "w"] and d["b"].dtype == rt.int64
