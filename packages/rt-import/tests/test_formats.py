"""Format detection by content (never by extension), numpy .npy/.npz loading, and the
compatibility matrix in docs/formats.md agreeing with the code's table."""
import io
import pathlib
import pickle
import struct
import zipfile

import numpy as np
import onnx
import pytest
import rt_autograd as rt
from onnx import TensorProto, helper, numpy_helper

import rt_import
from rt_import import FormatError, detect_format, formats_markdown, load_numpy
from rt_import.formats import FORMAT_NAMES, FORMATS

DOC = pathlib.Path(__file__).resolve().parents[3] / "docs" / "formats.md"
MAGIC = 0x1950a86a20f9469cfc6c


# ---- files of every format, under misleading names ---------------------------------------
def _onnx_model(with_graph=True):
    w = numpy_helper.from_array(np.ones((2, 3), np.float32), "fc.weight")
    g = helper.make_graph([helper.make_node("MatMul", ["x", "fc.weight"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], [w])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)],
                          producer_name="test")
    if not with_graph:
        m.ClearField("graph")
    return m


def _torch_zip(prefix="archive"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{prefix}/data.pkl", pickle.dumps({}, protocol=2))
        zf.writestr(f"{prefix}/byteorder", "little")
        zf.writestr(f"{prefix}/data/0", b"\x00" * 8)
        zf.writestr(f"{prefix}/version", "3\n")
    return buf.getvalue()


def _torch_legacy(protocol=2):
    # torch.save(..., _use_new_zipfile_serialization=False): the magic number, the protocol
    # version, sys info, then the object (torch/serialization.py _legacy_save)
    return (pickle.dumps(MAGIC, protocol=protocol) + pickle.dumps(1001, protocol=protocol)
            + pickle.dumps({"protocol_version": 1001, "little_endian": True},
                           protocol=protocol) + pickle.dumps({}, protocol=protocol))


def _npy(arr):
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def _npz(compressed=False, **arrays):
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


def _safetensors():
    return rt_import.save_safetensors_bytes({"w": rt.ones(2, 2)}, metadata={"format": "pt"})


SAMPLES = {
    "pytorch-zip": [_torch_zip(), _torch_zip("my_model"), _torch_zip("")],
    "pytorch-legacy": [_torch_legacy(p) for p in range(6)],
    "safetensors": [_safetensors(), rt_import.save_safetensors_bytes({})],
    "onnx": [_onnx_model().SerializeToString()],
    "npy": [_npy(np.arange(3)), _npy(np.zeros((0, 2))), _npy(np.float32(1))],
    "npz": [_npz(a=np.arange(3)), _npz(True, a=np.arange(3), b=np.eye(2)), _npz()],
}


def _write(tmp_path, data, name="model.pt"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("fmt,index", [(f, i) for f, datas in SAMPLES.items()
                                       for i in range(len(datas))])
def test_detect_by_content_whatever_the_name(tmp_path, fmt, index):
    data = SAMPLES[fmt][index]
    for name in ("model.pt", "model.onnx", "weights.safetensors", "x.npy", "noext"):
        assert detect_format(_write(tmp_path, data, name)) == fmt
    assert detect_format(str(_write(tmp_path, data))) == fmt


def test_detect_a_file_object_restores_its_position():
    f = io.BytesIO(_safetensors())
    f.seek(5)
    assert detect_format(f) == "safetensors"
    assert f.tell() == 5


def test_detect_files_written_by_the_real_writers(tmp_path):
    onnx.save(_onnx_model(), tmp_path / "m.bin")
    assert detect_format(tmp_path / "m.bin") == "onnx"
    np.save(tmp_path / "a.npy", np.ones((2, 2), ">f4"))
    assert detect_format(tmp_path / "a.npy") == "npy"
    np.savez_compressed(tmp_path / "b.npz", x=np.ones(3))
    assert detect_format(tmp_path / "b.npz") == "npz"
    rt_import.save_safetensors({"x": rt.ones(1)}, tmp_path / "c")
    assert detect_format(tmp_path / "c") == "safetensors"


def test_onnx_with_external_data_and_big_graphs(tmp_path):
    nodes = [helper.make_node("Relu", [f"t{i}"], [f"t{i + 1}"]) for i in range(2000)]
    g = helper.make_graph(nodes, "chain",
                          [helper.make_tensor_value_info("t0", TensorProto.FLOAT, [4])],
                          [helper.make_tensor_value_info("t2000", TensorProto.FLOAT, [4])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    assert detect_format(_write(tmp_path, m.SerializeToString())) == "onnx"


NOT_A_FORMAT = {
    "empty": b"",
    "text": b"hello, world\n" * 10,
    "json": b'{"a": 1}',
    "random": bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)),
    "zeros": b"\x00" * 100,
    "other-pickle": pickle.dumps({"a": 1}, protocol=2),
    "other-int-pickle": pickle.dumps(MAGIC + 1, protocol=2),
    "magic-not-first": pickle.dumps(1001, protocol=2) + pickle.dumps(MAGIC, protocol=2),
    "magic-in-a-list": pickle.dumps([MAGIC], protocol=2),
    "truncated-magic": pickle.dumps(MAGIC, protocol=2)[:-3],
    "onnx-without-graph": _onnx_model(with_graph=False).SerializeToString(),
    "onnx-truncated": _onnx_model().SerializeToString()[:-7],
    "onnx-plus-garbage": _onnx_model().SerializeToString() + b"\xff\xff",
    "other-zip": (lambda: (lambda b: (zipfile.ZipFile(b, "w").writestr("x.txt", "hi") or b)
                           .getvalue())(io.BytesIO()))(),
    "zip-corrupt": b"PK\x03\x04" + b"\x00" * 60,
    "safetensors-header-only-size": struct.pack("<Q", 1000),
    "npy-like-text": b"NUMPY",
}


@pytest.mark.parametrize("name", sorted(NOT_A_FORMAT))
def test_unknown_content_raises_format_error(tmp_path, name):
    with pytest.raises(FormatError):
        detect_format(_write(tmp_path, NOT_A_FORMAT[name], "model.onnx"))


def test_zip_detection_messages(tmp_path):
    with pytest.raises(FormatError, match="neither a data.pkl"):
        detect_format(_write(tmp_path, NOT_A_FORMAT["other-zip"]))
    with pytest.raises(FormatError, match="directory cannot be read"):
        detect_format(_write(tmp_path, NOT_A_FORMAT["zip-corrupt"]))
    with pytest.raises(FormatError, match="is empty"):
        detect_format(_write(tmp_path, b""))


def test_detect_errors_for_missing_files_and_folders(tmp_path):
    with pytest.raises(FileNotFoundError):
        detect_format(tmp_path / "absent")
    with pytest.raises((IsADirectoryError, PermissionError, FormatError)):
        detect_format(tmp_path)


def test_a_safetensors_file_with_a_bad_body_is_still_named_safetensors(tmp_path):
    # detection looks at the header; load_safetensors reports what is wrong with the rest
    blob = _safetensors()[:-3]
    assert detect_format(_write(tmp_path, blob)) == "safetensors"
    with pytest.raises(FormatError, match="ends at byte 16 of the data buffer, which has 13"):
        rt_import.load_safetensors(tmp_path / "model.pt")


# ---- numpy -------------------------------------------------------------------------------
NP_DTYPES = ["?", "u1", "i1", "<i2", "<i4", "<i8", "<f2", "<f4", "<f8", "<c8", "<c16",
             ">i2", ">i4", ">i8", ">f2", ">f4", ">f8", ">c8", ">c16"]
RT_OF = {"b1": rt.bool, "u1": rt.uint8, "i1": rt.int8, "i2": rt.int16, "i4": rt.int32,
         "i8": rt.int64, "f2": rt.float16, "f4": rt.float32, "f8": rt.float64,
         "c8": rt.complex64, "c16": rt.complex128}


def _values(dtype, shape):
    rng = np.random.default_rng(1)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.random(shape) > 0.5
    if dt.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dt)
    if dt.kind == "f":
        return rng.standard_normal(shape).astype(dt)
    return rng.integers(0 if dt.kind == "u" else -100, 100, shape).astype(dt)


@pytest.mark.parametrize("dtype", NP_DTYPES)
@pytest.mark.parametrize("shape", [(2, 3), (), (0, 3), (4,), (2, 3, 4)])
@pytest.mark.parametrize("order", ["C", "F"])
def test_npy_every_dtype_byte_order_and_layout(tmp_path, dtype, shape, order):
    arr = np.asarray(_values(dtype, shape), order=order)
    np.save(tmp_path / "a.npy", arr)
    t = load_numpy(tmp_path / "a.npy")
    assert isinstance(t, rt.Tensor)
    key = np.dtype(dtype).str.lstrip("<>|")
    assert t.dtype == RT_OF[key] and tuple(t.shape) == shape
    np.testing.assert_array_equal(t.numpy(), arr)
    assert t.numpy().dtype.isnative


def test_npy_is_memory_mapped_copy_on_write(tmp_path):
    arr = np.arange(1000, dtype=np.float32)
    np.save(tmp_path / "a.npy", arr)
    before = (tmp_path / "a.npy").read_bytes()
    t = load_numpy(tmp_path / "a.npy")
    t2 = load_numpy(tmp_path / "a.npy")
    assert t.data_ptr() != t2.data_ptr()
    t[0] = -1.0
    assert (tmp_path / "a.npy").read_bytes() == before
    assert load_numpy(tmp_path / "a.npy")[0].item() == 0.0


def test_npy_fortran_order_keeps_strides(tmp_path):
    arr = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    np.save(tmp_path / "f.npy", arr)
    t = load_numpy(tmp_path / "f.npy")
    assert t.stride() == (1, 2)
    np.testing.assert_array_equal(t.numpy(), arr)


def test_npy_trailing_bytes_are_ignored_as_numpy_does(tmp_path):
    (tmp_path / "a.npy").write_bytes(_npy(np.arange(3)) + _npy(np.arange(5)))
    assert load_numpy(tmp_path / "a.npy").tolist() == [0, 1, 2]


@pytest.mark.parametrize("compressed", [False, True])
def test_npz_every_dtype(tmp_path, compressed):
    arrays = {f"a{i}": _values(d, (3, 2)) for i, d in enumerate(NP_DTYPES)}
    arrays["fortran"] = np.asfortranarray(np.arange(6).reshape(2, 3))
    arrays["scalar"] = np.float64(2.5)
    arrays["empty"] = np.zeros((0, 7), np.int8)
    (np.savez_compressed if compressed else np.savez)(tmp_path / "z.npz", **arrays)
    out = load_numpy(tmp_path / "z.npz")
    assert set(out) == set(arrays)
    for k, v in arrays.items():
        np.testing.assert_array_equal(out[k].numpy(), v)


def test_npz_positional_names_and_empty_archive(tmp_path):
    np.savez(tmp_path / "p.npz", np.arange(2), np.ones(3))
    assert sorted(load_numpy(tmp_path / "p.npz")) == ["arr_0", "arr_1"]
    np.savez(tmp_path / "e.npz")
    assert load_numpy(tmp_path / "e.npz") == {}


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_npz_other_compressions(tmp_path, method):
    with zipfile.ZipFile(tmp_path / "o.npz", "w", compression=method) as zf:
        zf.writestr("x.npy", _npy(np.arange(1000)))
        zf.writestr("z.npy", _npy(np.zeros(100000)))
    out = load_numpy(tmp_path / "o.npz")
    assert out["x"].tolist() == list(range(1000)) and out["z"].sum().item() == 0


def _npy_with_header(header, data=b"", version=(1, 0)):
    h = header.encode("latin1")
    h += b" " * (-(len(h) + 11) % 64) + b"\n"
    size = struct.pack("<H", len(h)) if version == (1, 0) else struct.pack("<I", len(h))
    return b"\x93NUMPY" + bytes(version) + size + h + data


BAD_NPY = [
    ("object", _npy(np.array([{"a": 1}], dtype=object)), "need pickle"),
    ("uint16", _npy(np.arange(3, dtype=np.uint16)), "'<u2' has no rt dtype"),
    ("uint64", _npy(np.arange(3, dtype=np.uint64)), "'<u8' has no rt dtype"),
    ("longdouble", _npy(np.ones(2, np.longdouble)), "has no rt dtype"),
    ("strings", _npy(np.array(["ab", "c"])), "has no rt dtype"),
    ("bytes", _npy(np.array([b"ab"])), "has no rt dtype"),
    ("datetime", _npy(np.array(["2020-01-01"], "datetime64[D]")), "has no rt dtype"),
    ("structured", _npy(np.zeros(2, [("a", "<f4"), ("b", "<i4")])), "has no rt dtype"),
    ("subarray", _npy_with_header("{'descr': [('a', '<f4', (2,))], 'fortran_order': False, "
                                  "'shape': (1,), }", b"\x00" * 8), "has no rt dtype"),
    ("truncated-data", _npy(np.arange(10))[:-5], "holds 75 bytes|holds \\(203 bytes"),
    ("truncated-header", _npy(np.arange(10))[:30], "truncated"),
    ("huge-shape", _npy_with_header("{'descr': '<f8', 'fortran_order': False, "
                                    "'shape': (1099511627776,), }"), "holds 0 bytes|holds \\(128"),
    ("huge-2d", _npy_with_header("{'descr': '<f8', 'fortran_order': False, "
                                 "'shape': (4294967296, 4294967296), }", b"\x00" * 8),
     "holds"),
    ("bad-version", b"\x93NUMPY\x09\x00" + b"\x00" * 20, "version 9.0"),
    ("header-too-large", b"\x93NUMPY\x02\x00" + struct.pack("<I", 50000) + b" " * 50000,
     "limit"),
    ("header-not-dict", _npy_with_header("[1, 2]"), "must be a dict"),
    ("header-extra-key", _npy_with_header("{'descr': '<f8', 'fortran_order': False, "
                                          "'shape': (), 'x': 1}", b"\x00" * 8),
     "must be a dict"),
    ("header-code", _npy_with_header("__import__('os').system('true')"), "cannot be parsed"),
    ("header-syntax", _npy_with_header("{'descr': "), "cannot be parsed"),
    ("negative-shape", _npy_with_header("{'descr': '<f8', 'fortran_order': False, "
                                        "'shape': (-1,), }"), "non-negative"),
    ("float-shape", _npy_with_header("{'descr': '<f8', 'fortran_order': False, "
                                     "'shape': (1.0,), }"), "non-negative"),
    ("list-shape", _npy_with_header("{'descr': '<f8', 'fortran_order': False, "
                                    "'shape': [1], }"), "non-negative"),
    ("bad-descr", _npy_with_header("{'descr': 'zz9', 'fortran_order': False, "
                                   "'shape': (1,), }"), "dtype 'zz9' is invalid"),
    ("fortran-not-bool", _npy_with_header("{'descr': '<f8', 'fortran_order': 0, "
                                          "'shape': (1,), }", b"\x00" * 8), "not a bool"),
    ("33-dims", _npy_with_header("{'descr': '|u1', 'fortran_order': False, 'shape': (" +
                                 "1, " * 33 + "), }", b"\x00"), "33 dimensions"),
]


@pytest.mark.parametrize("data,match", [(d, m) for _, d, m in BAD_NPY],
                         ids=[i for i, _, _ in BAD_NPY])
def test_bad_npy_raises_format_error(tmp_path, data, match):
    path = _write(tmp_path, data, "a.npy")
    with pytest.raises(FormatError, match=match):
        load_numpy(path)
    with zipfile.ZipFile(tmp_path / "z.npz", "w") as zf:       # the same inside an .npz
        zf.writestr("a.npy", data)
    with pytest.raises(FormatError, match=match):
        load_numpy(tmp_path / "z.npz")


def test_npy_version_2_and_3_headers(tmp_path):
    data = np.arange(4, dtype="<i4").tobytes()
    for version in ((2, 0), (3, 0)):
        blob = _npy_with_header("{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }",
                                data, version)
        assert load_numpy(_write(tmp_path, blob, "v.npy")).tolist() == [0, 1, 2, 3]


def test_npz_member_errors(tmp_path):
    def npz(members, compression=zipfile.ZIP_STORED):
        path = tmp_path / "m.npz"
        with zipfile.ZipFile(path, "w", compression=compression) as zf:
            for name, data in members:
                zf.writestr(name, data)
        return path
    with pytest.raises(FormatError, match="only .npy members"):
        load_numpy(npz([("a.npy", _npy(np.ones(1))), ("readme.txt", b"hi")]))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)       # zipfile: "Duplicate name"
        path = npz([("a.npy", _npy(np.ones(1))), ("a.npy", _npy(np.ones(2)))])
    with pytest.raises(FormatError, match="two members"):
        load_numpy(path)
    # a CRC mismatch (a flipped data byte in a stored member)
    blob = bytearray(npz([("a.npy", _npy(np.arange(100)))]).read_bytes())
    blob[200] ^= 0x01
    with pytest.raises(FormatError, match="corrupt|CRC"):
        load_numpy(_write(tmp_path, bytes(blob), "c.npz"))


def test_npz_declared_member_size_beyond_what_deflate_can_hold(tmp_path):
    header = ("{'descr': '<f8', 'fortran_order': False, 'shape': (100000000,), }")
    with zipfile.ZipFile(tmp_path / "d.npz", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.npy", _npy_with_header(header))
    with pytest.raises(FormatError, match="more than the member holds"):
        load_numpy(tmp_path / "d.npz")


def test_load_numpy_refuses_other_files(tmp_path):
    with pytest.raises(FormatError, match="neither a .npy"):
        load_numpy(_write(tmp_path, _safetensors(), "x.npy"))
    with pytest.raises(FormatError):
        load_numpy(_write(tmp_path, b"PK\x03\x04garbage", "x.npz"))
    with pytest.raises(FileNotFoundError):
        load_numpy(tmp_path / "absent.npy")


def test_numpy_loaded_tensors_train_and_load_into_modules(tmp_path):
    import rt_nn
    lin = rt_nn.Linear(3, 2)
    np.savez(tmp_path / "sd.npz", **{k: v.detach().numpy() for k, v in
                                     lin.state_dict().items()})
    other = rt_nn.Linear(3, 2)
    other.load_state_dict(load_numpy(tmp_path / "sd.npz"))
    x = rt.randn(4, 3)
    np.testing.assert_array_equal(other(x).detach().numpy(), lin(x).detach().numpy())
    other(x).sum().backward()
    assert other.weight.grad is not None


# ---- the matrix --------------------------------------------------------------------------
def test_docs_formats_md_is_generated_from_the_table():
    assert DOC.read_text() == formats_markdown(), (
        "docs/formats.md is stale: regenerate it with python -c \"import rt_import.formats "
        "as f; print(f.formats_markdown(), end='')\" > docs/formats.md")


def test_matrix_covers_every_detected_format_once():
    assert sorted(FORMAT_NAMES) == sorted(SAMPLES)
    assert len(set(FORMAT_NAMES)) == len(FORMATS)
    text = formats_markdown()
    for f in FORMATS:
        assert f"| `{f.name}` |" in text
    assert "`rt_import.export_onnx`" in text


def test_matrix_loaders_of_this_part_exist():
    for f in FORMATS:
        if f.name in ("safetensors", "npy", "npz", "onnx"):
            assert callable(getattr(rt_import, f.load))
    assert callable(rt_import.save_safetensors)


def test_public_names():
    for name in ("detect_format", "load_numpy", "FORMATS", "formats_markdown"):
        assert name in rt_import.__all__


def test_npz_lzma_member_asking_for_a_huge_dictionary_is_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "l.npz", "w", compression=zipfile.ZIP_LZMA) as zf:
        zf.writestr("x.npy", _npy(np.arange(10)))
    blob = bytearray((tmp_path / "l.npz").read_bytes())
    name_len, extra_len = struct.unpack("<HH", blob[26:30])
    props = 30 + name_len + extra_len
    assert blob[props + 2] == 5                           # the 5 LZMA property bytes
    blob[props + 5:props + 9] = struct.pack("<I", 0xFFFFFFFF)
    with pytest.raises(FormatError, match="dictionary"):
        load_numpy(_write(tmp_path, bytes(blob), "big-dict.npz"))
