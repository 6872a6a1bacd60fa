"""The pretrained registry: registration checks, loading from a local cache after the sha256
check, the errors for an absent file (naming the path and the address) and a wrong
checksum (naming both digests), and that nothing is ever downloaded. Every model here is a
local file registered by the test."""
import hashlib
import socket

import numpy as np
import onnx
import pytest
import rt_autograd as rt
import rt_nn
from onnx import TensorProto, helper, numpy_helper

import rt_import
from rt_import import (PRETRAINED, FormatError, load_pretrained, pretrained_path,
                       register_pretrained, save_safetensors)
from rt_import.pretrained import default_cache_dir

URL = "https://models.example.org/rt/tiny.safetensors"


@pytest.fixture(autouse=True)
def clean_registry():
    saved = dict(PRETRAINED)
    yield
    PRETRAINED.clear()
    PRETRAINED.update(saved)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("rt_import tried to open a network connection")
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.safetensors"
    save_safetensors({"fc.weight": rt.ones(2, 3), "fc.bias": rt.zeros(2)}, path)
    register_pretrained("tiny", URL, _sha(path), "safetensors", "tiny.safetensors")
    return path


def test_registry_is_a_mapping_of_the_four_fields(tiny):
    assert PRETRAINED["tiny"] == {"format": "safetensors", "url": URL, "sha256": _sha(tiny),
                                  "filename": "tiny.safetensors"}


def test_load_from_the_cache_after_the_checksum(tiny, tmp_path):
    out = load_pretrained("tiny", cache_dir=tmp_path)
    assert set(out) == {"fc.weight", "fc.bias"}
    model = rt_nn.Sequential()
    model.add_module("fc", rt_nn.Linear(3, 2))
    model.load_state_dict(out)
    assert model(rt.ones(1, 3)).tolist() == [[3.0, 3.0]]


def test_cache_dir_accepts_path_objects_and_strings(tiny, tmp_path):
    assert set(load_pretrained("tiny", cache_dir=str(tmp_path))) == {"fc.weight", "fc.bias"}
    assert pretrained_path("tiny", tmp_path) == str(tmp_path / "tiny.safetensors")


def test_default_cache_dir_from_the_environment(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("RT_IMPORT_CACHE", str(tmp_path))
    assert default_cache_dir() == str(tmp_path)
    assert set(load_pretrained("tiny")) == {"fc.weight", "fc.bias"}
    monkeypatch.delenv("RT_IMPORT_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == str(tmp_path / "xdg" / "rt_import")


def test_an_absent_file_names_the_path_and_the_address(tiny, tmp_path):
    empty = tmp_path / "empty-cache"
    with pytest.raises(FileNotFoundError) as info:
        load_pretrained("tiny", cache_dir=empty)
    message = str(info.value)
    assert str(empty / "tiny.safetensors") in message
    assert URL in message and PRETRAINED["tiny"]["sha256"] in message
    assert "never downloads" in message


def test_a_checksum_mismatch_names_both_digests(tiny, tmp_path):
    expected = PRETRAINED["tiny"]["sha256"]
    save_safetensors({"fc.weight": rt.zeros(2, 3), "fc.bias": rt.zeros(2)}, tiny)
    actual = _sha(tiny)
    with pytest.raises(FormatError) as info:
        load_pretrained("tiny", cache_dir=tmp_path)
    assert expected in str(info.value) and actual in str(info.value)


def test_a_truncated_download_is_a_checksum_mismatch(tiny, tmp_path):
    tiny.write_bytes(tiny.read_bytes()[:-4])
    with pytest.raises(FormatError, match="sha256"):
        load_pretrained("tiny", cache_dir=tmp_path)


def test_content_must_be_the_registered_format(tmp_path):
    path = tmp_path / "weights.npy"
    np.save(path, np.arange(3.0))
    register_pretrained("mislabelled", URL, _sha(path), "safetensors", "weights.npy")
    with pytest.raises(FormatError, match="registered as safetensors but its content is npy"):
        load_pretrained("mislabelled", cache_dir=tmp_path)


def test_numpy_and_onnx_models(tmp_path):
    np.savez(tmp_path / "w.npz", w=np.eye(2, dtype=np.float32))
    register_pretrained("npz-model", URL, _sha(tmp_path / "w.npz"), "npz", "w.npz")
    assert load_pretrained("npz-model", tmp_path)["w"].tolist() == [[1, 0], [0, 1]]
    np.save(tmp_path / "v.npy", np.arange(4))
    register_pretrained("npy-model", URL, _sha(tmp_path / "v.npy"), "npy", "v.npy")
    assert load_pretrained("npy-model", tmp_path).tolist() == [0, 1, 2, 3]

    w = numpy_helper.from_array(np.full((2, 3), 2.0, np.float32), "fc.weight")
    g = helper.make_graph([helper.make_node("MatMul", ["x", "fc.weight"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], [w])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]),
              tmp_path / "m.onnx")
    register_pretrained("onnx-model", URL, _sha(tmp_path / "m.onnx"), "onnx", "m.onnx")
    module = load_pretrained("onnx-model", tmp_path)
    assert isinstance(module, rt_nn.Module)
    assert sorted(module.state_dict()) == ["fc.weight"]


def test_unknown_name_lists_the_known_ones(tiny):
    with pytest.raises(KeyError, match="no pretrained model named 'nope'.*tiny"):
        load_pretrained("nope")


@pytest.mark.parametrize("kwargs,match", [
    (dict(name=""), "non-empty"),
    (dict(name=3), "non-empty"),
    (dict(url="models/tiny"), "address"),
    (dict(sha256="abc"), "64 hexadecimal"),
    (dict(sha256="g" * 64), "64 hexadecimal"),
    (dict(format="pickle"), "format must be one of"),
    (dict(filename="../evil.safetensors"), "plain file name"),
    (dict(filename="sub/dir.safetensors"), "plain file name"),
    (dict(filename="..\\evil"), "plain file name"),
    (dict(filename="/abs/path"), "plain file name"),
    (dict(filename=".."), "plain file name"),
    (dict(filename=""), "plain file name"),
])
def test_registration_is_checked(kwargs, match):
    args = dict(name="x", url=URL, sha256="0" * 64, format="onnx", filename="x.onnx")
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        register_pretrained(**args)
    assert "x" not in PRETRAINED


def test_re_registration_needs_replace():
    register_pretrained("m", URL, "A" * 64, "onnx", "m.onnx")
    assert PRETRAINED["m"]["sha256"] == "a" * 64           # digests are kept lower case
    register_pretrained("m", URL, "a" * 64, "onnx", "m.onnx")      # the same: accepted
    with pytest.raises(ValueError, match="already registered"):
        register_pretrained("m", URL, "b" * 64, "onnx", "m.onnx")
    register_pretrained("m", URL, "b" * 64, "onnx", "m.onnx", replace=True)
    assert PRETRAINED["m"]["sha256"] == "b" * 64


def test_public_names():
    for name in ("PRETRAINED", "register_pretrained", "load_pretrained", "pretrained_path"):
        assert name in rt_import.__all__
    assert "never downloads" in load_pretrained.__doc__
