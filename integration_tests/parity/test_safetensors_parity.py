"""safetensors with the ``safetensors`` package as the oracle: files it writes (numpy and
torch front ends, bfloat16 through torch) load in rt with the same values, files rt writes
load in it with the same values and are byte-identical to its own, and rt accepts and
refuses the same headers (except the one documented difference: duplicate names)."""
import json
import struct

import numpy as np
import pytest

import rt_autograd as rt
from rt_import import (FormatError, load_safetensors, load_safetensors_bytes,
                       load_safetensors_metadata, save_safetensors, save_safetensors_bytes)

torch = pytest.importorskip("torch", reason="PyTorch cannot be imported; the parity suite "
                                            "runs in `tox -e parity` (torch==2.13.0)")
st_torch = pytest.importorskip("safetensors.torch", reason="the safetensors package is the "
                                                           "oracle here")
st_numpy = pytest.importorskip("safetensors.numpy", reason="the safetensors package is the "
                                                           "oracle here")

TORCH_DTYPES = ["float64", "float32", "float16", "bfloat16", "int64", "int32", "int16", "int8",
                "uint8", "bool", "complex64"]
SHAPES = [(3, 4), (), (0,), (2, 0, 3), (5,), (2, 1, 3, 1)]


def _torch_sample(dtype, shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    d = getattr(torch, dtype)
    if d == torch.bool:
        return torch.rand(shape, generator=g) > 0.5
    if d.is_complex:
        return torch.randn(shape, dtype=d, generator=g)
    if d.is_floating_point:
        return (torch.randn(shape, generator=g) * 50).to(d)
    lo = 0 if d == torch.uint8 else -100
    return torch.randint(lo, 100, shape, generator=g).to(d)


def _as_torch(t):
    """An rt tensor's values as a torch tensor (bfloat16 through its bits)."""
    if t.dtype == rt.bfloat16:
        return torch.from_numpy(t.view(rt.int16).contiguous().numpy().copy()).view(
            torch.bfloat16)
    return torch.from_numpy(t.contiguous().numpy().copy())


def _as_rt(t):
    if t.dtype == torch.bfloat16:
        return rt.from_numpy(t.view(torch.int16).numpy().copy()).view(rt.bfloat16)
    return rt.tensor(t.numpy())


def _assert_equal(rt_t, torch_t):
    assert str(rt_t.dtype).split(".")[-1] == str(torch_t.dtype).split(".")[-1]
    assert tuple(rt_t.shape) == tuple(torch_t.shape)
    a, b = _as_torch(rt_t), torch_t
    if b.dtype == torch.bfloat16:
        a, b = a.view(torch.int16), b.view(torch.int16)
    assert torch.equal(a, b.contiguous())


def _tensors(seed=0):
    return {f"{dtype}.{i}": _torch_sample(dtype, shape, seed + i)
            for dtype in TORCH_DTYPES for i, shape in enumerate(SHAPES)}


def test_torch_written_files_load_in_rt(tmp_path):
    tensors = _tensors()
    path = tmp_path / "torch.safetensors"
    st_torch.save_file(tensors, str(path), metadata={"format": "pt"})
    for loaded in (load_safetensors(path), load_safetensors(path, mmap=False),
                   load_safetensors_bytes(path.read_bytes())):
        assert set(loaded) == set(tensors)
        for k, v in tensors.items():
            _assert_equal(loaded[k], v)
    assert load_safetensors_metadata(path) == {"format": "pt"}


def test_numpy_written_files_load_in_rt(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {"f64": rng.standard_normal((3, 2)), "f32": rng.standard_normal(5).astype("f4"),
              "f16": rng.standard_normal((2, 2)).astype("f2"),
              "i64": rng.integers(-9, 9, 4), "i32": rng.integers(-9, 9, 4).astype("i4"),
              "i16": rng.integers(-9, 9, 4).astype("i2"), "i8": rng.integers(-9, 9, 4)
              .astype("i1"), "u8": rng.integers(0, 255, 4).astype("u1"),
              "b": rng.random(6) > 0.5, "c64": (rng.standard_normal(3) + 1j).astype("c8"),
              "scalar": np.array(2.5, "f4"), "empty": np.zeros((0, 4), "f4")}
    path = tmp_path / "np.safetensors"
    st_numpy.save_file(arrays, str(path))
    loaded = load_safetensors(path)
    for k, v in arrays.items():
        np.testing.assert_array_equal(loaded[k].numpy(), v)
        assert loaded[k].numpy().dtype == v.dtype


def test_rt_written_files_load_in_safetensors_equal(tmp_path):
    tensors = _tensors(seed=7)
    path = tmp_path / "rt.safetensors"
    save_safetensors({k: _as_rt(v) for k, v in tensors.items()}, path,
                     metadata={"format": "pt", "by": "rt"})
    loaded = st_torch.load_file(str(path))
    assert set(loaded) == set(tensors)
    for k, v in tensors.items():
        assert loaded[k].dtype == v.dtype and torch.equal(loaded[k], v)
    with st_torch.safe_open(str(path), framework="pt") as f:
        assert f.metadata() == {"format": "pt", "by": "rt"}
    blob = save_safetensors_bytes({k: _as_rt(v) for k, v in tensors.items()})
    for k, v in st_torch.load(blob).items():
        assert torch.equal(v, tensors[k])
    # numpy front end (no bfloat16 there)
    no_bf16 = {k: v for k, v in tensors.items() if v.dtype != torch.bfloat16}
    arrays = st_numpy.load(save_safetensors_bytes({k: _as_rt(v) for k, v in no_bf16.items()}))
    for k, v in no_bf16.items():
        np.testing.assert_array_equal(arrays[k], v.numpy())


@pytest.mark.parametrize("metadata", [None, {}, {"format": "pt"}, {"k\x01\"": "ünï\u2028"}])
def test_rt_bytes_equal_the_reference_writer(metadata):
    tensors = _tensors(seed=3)
    ours = save_safetensors_bytes({k: _as_rt(v) for k, v in tensors.items()}, metadata=metadata)
    assert ours == st_torch.save(tensors, metadata=metadata)


def test_non_contiguous_rt_tensors_save_by_value(tmp_path):
    base = rt.arange(24.0).reshape(4, 6)
    out = st_torch.load(save_safetensors_bytes({"t": base.t(), "s": base[::2, 1::2]}))
    assert torch.equal(out["t"], torch.arange(24.0).reshape(4, 6).t())
    assert torch.equal(out["s"], torch.arange(24.0).reshape(4, 6)[::2, 1::2])


# ---- header acceptance: rt and the reference agree ----------------------------------------
def _blob(header, data=b""):
    h = header.encode("utf-8") if isinstance(header, str) else header
    return struct.pack("<Q", len(h)) + h + data


ONE = b"\x00\x00\x80?"
E = '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'
HEADERS = {
    "plain": _blob("{" + E + "}", ONE),
    "leading-ws": _blob(" \n{" + E + "}", ONE),
    "trailing-ws": _blob("{" + E + "}  \t\r\n", ONE),
    "extra-key": _blob('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":{}}}', ONE),
    "meta-null": _blob('{"__metadata__":null,' + E + "}", ONE),
    "meta-int": _blob('{"__metadata__":{"k":1},' + E + "}", ONE),
    "meta-list": _blob('{"__metadata__":[],' + E + "}", ONE),
    "missing-shape": _blob('{"a":{"dtype":"F32","data_offsets":[0,4]}}', ONE),
    "float-shape": _blob('{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}', ONE),
    "neg-shape": _blob('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', ONE),
    "bool-shape": _blob('{"a":{"dtype":"F32","shape":[true],"data_offsets":[0,4]}}', ONE),
    "three-offsets": _blob('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,4]}}', ONE),
    "gap": _blob('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', ONE * 2),
    "trailing-data": _blob("{" + E + "}", ONE + b"\x00"),
    "empty": _blob("{}"),
    "empty-with-data": _blob("{}", b"\x00"),
    "no-header": _blob(""),
    "array": _blob("[]"),
    "nan": _blob('{"__metadata__":{"k":NaN}}'),
    "lower-dtype": _blob('{"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}', ONE),
    "unordered": _blob('{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},' + E + "}",
                       ONE * 2),
    "empty-tensor": _blob('{"a":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]}}'),
    "reversed": _blob('{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}', ONE),
    "empty-name": _blob('{"":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', ONE),
    "bom": _blob("\ufeff{" + E + "}", ONE),
    "overflow": _blob('{"a":{"dtype":"F32","shape":[4294967296,4294967296],'
                      '"data_offsets":[0,4]}}', ONE),
    "bigint": _blob('{"a":{"dtype":"F32","shape":[18446744073709551616],'
                    '"data_offsets":[0,4]}}', ONE),
    "nul-pad": _blob("{" + E + "}\x00", ONE),
    "lone-surrogate": _blob('{"\\ud800":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
                            ONE),
    "short": b"\x02\x00\x00\x00",
    "size-mismatch": _blob('{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,4]}}', ONE),
    "overlap": _blob('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
                     '"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', ONE * 2),
    "header-past-end": struct.pack("<Q", 64) + b"{}",
    "header-over-limit": struct.pack("<Q", 100_000_001) + b"{}",
}


def _reference_accepts(blob):
    try:
        st_numpy.load(blob)
        return True
    except Exception:                  # SafetensorError and friends
        return False


@pytest.mark.parametrize("name", sorted(HEADERS))
def test_header_acceptance_matches_the_reference(name):
    blob = HEADERS[name]
    expected = _reference_accepts(blob)
    try:
        load_safetensors_bytes(blob)
        ours = True
    except FormatError:
        ours = False
    assert ours == expected


def test_duplicate_names_are_the_documented_difference():
    blob = _blob('{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},' + E + "}", ONE)
    assert _reference_accepts(blob)         # the reference keeps the last entry
    with pytest.raises(FormatError, match="twice"):
        load_safetensors_bytes(blob)       # the spec: "duplicate keys are disallowed"


def test_unsigned_dtypes_the_reference_reads_are_refused_by_name():
    blob = _blob('{"a":{"dtype":"U16","shape":[2],"data_offsets":[0,4]}}', ONE)
    assert _reference_accepts(blob)
    with pytest.raises(FormatError, match="U16"):
        load_safetensors_bytes(blob)


def test_header_json_agrees_with_the_reference(tmp_path):
    t = {"w": torch.ones(2, 3), "b": torch.zeros(3, dtype=torch.bfloat16)}
    ref = st_torch.save(t)
    ours = save_safetensors_bytes({k: _as_rt(v) for k, v in t.items()})
    n = int.from_bytes(ref[:8], "little")
    assert json.loads(ours[8:8 + n]) == json.loads(ref[8:8 + n])


# ---- detect_format on what torch and numpy write (here because torch is at hand) ----------
@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_detect_torch_files(tmp_path, protocol):
    from rt_import import detect_format
    sd = {"w": torch.ones(2, 2), "b": torch.zeros(2, dtype=torch.bfloat16)}
    torch.save(sd, tmp_path / "new.onnx", pickle_protocol=protocol)
    assert detect_format(tmp_path / "new.onnx") == "pytorch-zip"
    torch.save(sd, tmp_path / "old.safetensors", pickle_protocol=protocol,
               _use_new_zipfile_serialization=False)
    assert detect_format(tmp_path / "old.safetensors") == "pytorch-legacy"
    st_torch.save_file(sd, str(tmp_path / "st.pt"))
    assert detect_format(tmp_path / "st.pt") == "safetensors"
