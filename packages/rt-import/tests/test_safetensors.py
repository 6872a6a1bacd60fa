"""safetensors read/write with numpy only: round trips of every dtype rt shares with the
format, the reference writer's byte layout, memory-mapped zero-copy loading, and every
header rule of the spec / reference implementation (each bad header raises FormatError
naming the problem). The ``safetensors`` package itself is the oracle in
integration_tests/parity/test_safetensors_parity.py."""
import json
import os
import struct

import numpy as np
import pytest
import rt_autograd as rt

import rt_import
from rt_import import (FormatError, load_safetensors, load_safetensors_bytes,
                       load_safetensors_metadata, save_safetensors, save_safetensors_bytes)
from rt_import.safetensors_format import MAX_HEADER_SIZE, SAFETENSORS_DTYPES

DTYPES = {"F64": rt.float64, "F32": rt.float32, "F16": rt.float16, "BF16": rt.bfloat16,
          "I64": rt.int64, "I32": rt.int32, "I16": rt.int16, "I8": rt.int8, "U8": rt.uint8,
          "BOOL": rt.bool, "C64": rt.complex64}


def _sample(dtype, shape=(2, 3)):
    rng = np.random.default_rng(0)
    n = int(np.prod(shape))
    if dtype == rt.bool:
        return rt.tensor((rng.random(n) > 0.5).reshape(shape))
    if dtype == rt.complex64:
        return rt.tensor((rng.standard_normal(n) + 1j * rng.standard_normal(n))
                         .astype(np.complex64).reshape(shape))
    if dtype.is_floating_point:
        return rt.tensor(rng.standard_normal(n).reshape(shape) * 100, dtype=dtype)
    return rt.tensor(rng.integers(-100 if dtype != rt.uint8 else 0, 100, n).reshape(shape),
                     dtype=dtype)


def _bits(t):
    """The exact stored values (bfloat16 as its bit pattern)."""
    if t.dtype == rt.bfloat16:
        t = t.view(rt.int16)
    return t.contiguous().numpy().copy()


def _same(a, b):
    assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape)
    np.testing.assert_array_equal(_bits(a), _bits(b))


def _file(header, data=b"", raw=False):
    """A safetensors blob from a header (dict, or str when raw) and data bytes."""
    text = header if raw else json.dumps(header, separators=(",", ":"))
    h = text.encode("utf-8") if isinstance(text, str) else text
    return struct.pack("<Q", len(h)) + h + data


# ---- round trips -------------------------------------------------------------------------
def test_dtype_table_is_what_the_spec_and_rt_share():
    assert SAFETENSORS_DTYPES == DTYPES


@pytest.mark.parametrize("name", sorted(DTYPES))
@pytest.mark.parametrize("shape", [(2, 3), (), (0,), (4, 0, 2), (1,), (3, 1, 2, 1)])
def test_round_trip_every_dtype_and_shape(tmp_path, name, shape):
    t = _sample(DTYPES[name], shape)
    path = tmp_path / "t.safetensors"
    save_safetensors({"x": t}, path)
    for loaded in (load_safetensors(path)["x"], load_safetensors(path, mmap=False)["x"],
                   load_safetensors_bytes(path.read_bytes())["x"]):
        _same(loaded, t)
        assert isinstance(loaded, rt.Tensor) and not loaded.requires_grad


def test_header_records_the_dtype_name(tmp_path):
    for name, dtype in DTYPES.items():
        blob = save_safetensors_bytes({"x": _sample(dtype)})
        n = int.from_bytes(blob[:8], "little")
        assert json.loads(blob[8:8 + n])["x"]["dtype"] == name


def test_bfloat16_bits_survive_exactly():
    bits = np.array([0, 1, 0x7F80, 0xFF80, 0x7FC1, 0x8000, 0x3F80, 0x0001, 0xFFFF],
                    dtype=np.uint16).view(np.int16)
    t = rt.from_numpy(bits.copy()).view(rt.bfloat16)
    out = load_safetensors_bytes(save_safetensors_bytes({"b": t}))["b"]
    assert out.dtype == rt.bfloat16
    np.testing.assert_array_equal(out.view(rt.int16).numpy(), bits)


def test_non_contiguous_views_and_grad_tensors_are_written_by_value():
    base = rt.arange(24.0).reshape(4, 6)
    w = rt.randn(3, 2, requires_grad=True)
    tensors = {"t": base.t(), "s": base[1:, ::2], "e": base.expand(2, 4, 6)[1], "w": w,
               "n": base.narrow(1, 2, 3)}
    out = load_safetensors_bytes(save_safetensors_bytes(tensors))
    for k, v in tensors.items():
        np.testing.assert_array_equal(out[k].numpy(), v.detach().contiguous().numpy())
        assert out[k].is_contiguous()


def test_shared_storage_is_saved_per_name():
    base = rt.arange(6.0)
    out = load_safetensors_bytes(save_safetensors_bytes({"a": base, "b": base[2:]}))
    np.testing.assert_array_equal(out["b"].numpy(), [2, 3, 4, 5])
    out["a"][3] = -1          # loaded tensors do not share memory with each other
    assert out["b"][1].item() == 3


def test_many_tensors_and_names(tmp_path):
    tensors = {f"layer.{i}.{'weight' if i % 2 else 'bias'}": _sample(list(DTYPES.values())[
        i % len(DTYPES)], (i % 4 + 1, 2)) for i in range(40)}
    tensors["ünïcode ✓\n\"quoted\""] = rt.ones(2)
    tensors[""] = rt.zeros(1)
    save_safetensors(tensors, tmp_path / "m.safetensors")
    out = load_safetensors(tmp_path / "m.safetensors")
    assert set(out) == set(tensors)
    for k in tensors:
        _same(out[k], tensors[k])


def test_empty_dict():
    blob = save_safetensors_bytes({})
    assert blob == b"\x08\x00\x00\x00\x00\x00\x00\x00{}      "   # the reference's bytes
    assert load_safetensors_bytes(blob) == {}


def test_metadata_round_trip(tmp_path):
    meta = {"format": "pt", "note": "ünï\x01\"\\", "": ""}
    save_safetensors({"a": rt.ones(1)}, tmp_path / "m", metadata=meta)
    assert load_safetensors_metadata(tmp_path / "m") == meta
    assert load_safetensors_metadata((tmp_path / "m").read_bytes()) == meta
    assert load_safetensors_metadata(save_safetensors_bytes({"a": rt.ones(1)})) is None
    assert load_safetensors_metadata(save_safetensors_bytes({}, metadata={})) == {}
    assert set(load_safetensors(tmp_path / "m")) == {"a"}


# ---- the reference writer's layout -------------------------------------------------------
def test_layout_matches_the_reference_writer_byte_for_byte():
    # bytes written by safetensors 0.8 (safetensors.numpy.save({"a": zeros(2, f32)}))
    expected = (b'8\x00\x00\x00\x00\x00\x00\x00{"a":{"dtype":"F32","shape":[2],"data_offsets":'
                b'[0,8]}}  ' + b"\x00" * 8)
    assert save_safetensors_bytes({"a": rt.zeros(2)}) == expected


def test_order_is_dtype_size_then_name_and_every_tensor_is_aligned():
    tensors = {"b": rt.ones(2, dtype=rt.bfloat16), "a": rt.zeros(3), "c": rt.tensor(True),
               "d": rt.zeros(0, 2, dtype=rt.float64), "z": rt.ones(1, dtype=rt.complex64),
               "y": rt.ones(3, dtype=rt.int8), "x": rt.ones(1, dtype=rt.int64)}
    blob = save_safetensors_bytes(tensors, metadata={"format": "pt"})
    n = int.from_bytes(blob[:8], "little")
    assert n % 8 == 0
    header = json.loads(blob[8:8 + n])
    assert list(header) == ["__metadata__", "x", "d", "z", "a", "b", "y", "c"]
    for name, info in header.items():
        if name != "__metadata__":
            begin = info["data_offsets"][0]
            assert (8 + n + begin) % tensors[name].element_size() == 0


def test_file_and_bytes_forms_agree(tmp_path):
    tensors = {"w": rt.randn(3, 3), "i": rt.arange(5)}
    save_safetensors(tensors, tmp_path / "f", metadata={"k": "v"})
    assert (tmp_path / "f").read_bytes() == save_safetensors_bytes(tensors, metadata={"k": "v"})


# ---- memory mapping ----------------------------------------------------------------------
def test_mmap_load_is_zero_copy_and_copy_on_write(tmp_path):
    path = tmp_path / "m.safetensors"
    save_safetensors({"a": rt.arange(16.0), "b": rt.arange(8.0)}, path)
    before = path.read_bytes()
    out = load_safetensors(path)
    header = json.loads(before[8:8 + int.from_bytes(before[:8], "little")])
    # the two tensors sit in one mapping at the distance their offsets say
    distance = header["b"]["data_offsets"][0] - header["a"]["data_offsets"][0]
    assert out["b"].data_ptr() - out["a"].data_ptr() == distance
    out["a"][0] = 123.0          # private mapping: the file does not change
    assert path.read_bytes() == before
    assert load_safetensors(path)["a"][0].item() == 0.0
    del out


def test_misaligned_data_is_copied_and_correct():
    # a header not padded to 8 bytes (as some writers produce): F32 data at an odd offset
    data = np.arange(5, dtype="<f4").tobytes() + np.arange(3, dtype="<f8").tobytes()
    blob = _file({"a": {"dtype": "F32", "shape": [5], "data_offsets": [0, 20]},
                  "b": {"dtype": "F64", "shape": [3], "data_offsets": [20, 44]}}, data)
    assert (8 + int.from_bytes(blob[:8], "little")) % 8 != 0
    out = load_safetensors_bytes(blob)
    np.testing.assert_array_equal(out["a"].numpy(), np.arange(5))
    np.testing.assert_array_equal(out["b"].numpy(), np.arange(3))
    assert out["b"].data_ptr() % 8 == 0


def test_misaligned_mmap_file(tmp_path):
    data = np.arange(3, dtype="<f8").tobytes()
    blob = _file({"b": {"dtype": "F64", "shape": [3], "data_offsets": [0, 24]}}, data)
    (tmp_path / "m").write_bytes(blob)
    out = load_safetensors(tmp_path / "m")["b"]
    np.testing.assert_array_equal(out.numpy(), [0, 1, 2])
    assert out.data_ptr() % 8 == 0


def test_bool_bytes_other_than_0_and_1_read_as_true():
    blob = _file({"m": {"dtype": "BOOL", "shape": [4], "data_offsets": [0, 4]}},
                 b"\x00\x01\x02\xff")
    out = load_safetensors_bytes(blob)["m"]
    assert out.tolist() == [False, True, True, True]
    assert out.to(rt.uint8).tolist() == [0, 1, 1, 1]


# ---- what the reference accepts ----------------------------------------------------------
ONE = b"\x00\x00\x80?"
ENTRY = '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'


@pytest.mark.parametrize("header", [
    "{" + ENTRY + "}",
    " {" + ENTRY + "}",                           # whitespace around the object
    "{" + ENTRY + "}   ",
    "{" + ENTRY + "}\n\t",
    '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":[1]}}',   # ignored key
    '{"__metadata__":null,' + ENTRY + "}",
    '{"__metadata__":{},' + ENTRY + "}",
    '{"\\u0061":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',       # escaped name
], ids=["plain", "leading-space", "trailing-space", "trailing-newline", "extra-key",
        "metadata-null", "metadata-empty", "escaped-name"])
def test_headers_the_reference_accepts(header):
    out = load_safetensors_bytes(_file(header, ONE, raw=True))
    assert out["a"].tolist() == [1.0]


def test_offsets_in_any_header_order():
    blob = _file('{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},' + ENTRY + "}",
                 ONE + b"\x00\x00\x00@", raw=True)
    out = load_safetensors_bytes(blob)
    assert out["a"].item() == 1.0 and out["b"].item() == 2.0
    assert list(out) == ["a", "b"]                 # in the order of their data


def test_empty_tensors_at_any_offset():
    blob = _file({"e": {"dtype": "F32", "shape": [0, 5], "data_offsets": [4, 4]},
                  "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                  "f": {"dtype": "I64", "shape": [3, 0], "data_offsets": [4, 4]}}, ONE)
    out = load_safetensors_bytes(blob)
    assert tuple(out["e"].shape) == (0, 5) and out["f"].dtype == rt.int64


def test_32_dims_load_33_do_not():
    blob = _file({"a": {"dtype": "U8", "shape": [1] * 32, "data_offsets": [0, 1]}}, b"\x07")
    assert load_safetensors_bytes(blob)["a"].dim() == 32
    blob = _file({"a": {"dtype": "U8", "shape": [1] * 33, "data_offsets": [0, 1]}}, b"\x07")
    with pytest.raises(FormatError, match="33 dimensions"):
        load_safetensors_bytes(blob)


# ---- what is refused, and why ------------------------------------------------------------
def _entry(dtype="F32", shape=(1,), offsets=(0, 4)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


BAD = [
    ("short", b"\x02\x00\x00\x00", "too short"),
    ("empty", b"", "too short"),
    ("header-past-end", struct.pack("<Q", 100) + b"{}", "runs past the end"),
    ("header-over-limit", struct.pack("<Q", MAX_HEADER_SIZE + 1) + b"{}", "above the limit"),
    ("header-2**64-1", b"\xff" * 8 + b"{}", "above the limit"),
    ("not-utf8", _file(b'{"\xff":1}', raw=True), "UTF-8"),
    ("not-json", _file("{nope}", raw=True), "not valid JSON"),
    ("empty-header", _file("", raw=True), "not valid JSON"),
    ("bom", _file("\ufeff{}", raw=True), "not valid JSON"),
    ("nul-pad", _file("{}\x00", raw=True), "not valid JSON"),
    ("nan", _file('{"__metadata__":{"k":NaN}}', raw=True), "NaN"),
    ("deep", _file("[" * 100000 + "]" * 100000, raw=True), "JSON"),
    ("huge-int", _file('{"a":{"dtype":"F32","shape":[' + "9" * 5000 + '],"data_offsets":[0,4]}}',
                       ONE, raw=True), "JSON"),
    ("array", _file([]), "not an object"),
    ("string", _file("x"), "not an object"),
    ("lone-surrogate", _file('{"\\ud800":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
                             ONE, raw=True), "lone surrogate"),
    ("duplicate", _file('{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},' + ENTRY + "}",
                        ONE, raw=True), "twice"),
    ("metadata-not-object", _file({"__metadata__": [1]}), "__metadata__ must be an object"),
    ("metadata-int", _file({"__metadata__": {"k": 1}}), "must be a string"),
    ("metadata-as-tensor", _file({"__metadata__": _entry()}, ONE), "must be a string"),
    ("entry-not-object", _file({"a": [1, 2]}), "not an object"),
    ("no-dtype", _file({"a": {"shape": [1], "data_offsets": [0, 4]}}, ONE), "no 'dtype'"),
    ("no-shape", _file({"a": {"dtype": "F32", "data_offsets": [0, 4]}}, ONE), "no 'shape'"),
    ("no-offsets", _file({"a": {"dtype": "F32", "shape": [1]}}, ONE), "no 'data_offsets'"),
    ("unknown-dtype", _file({"a": _entry("f32")}, ONE), "unknown dtype 'f32'"),
    ("dtype-int", _file({"a": _entry(3)}, ONE), "unknown dtype"),
    ("shape-not-list", _file({"a": {"dtype": "F32", "shape": 1, "data_offsets": [0, 4]}}, ONE),
     "not a list"),
    ("shape-float", _file({"a": _entry(shape=(1.0,))}, ONE), "integer"),
    ("shape-bool", _file({"a": _entry(shape=(True,))}, ONE), "integer"),
    ("shape-negative", _file({"a": _entry(shape=(-1,))}, ONE), "integer"),
    ("shape-2**64", _file({"a": _entry(shape=(2 ** 64,))}, ONE), "integer"),
    ("offsets-three", _file({"a": _entry(offsets=(0, 4, 4))}, ONE), "two integers"),
    ("offsets-one", _file({"a": _entry(offsets=(0,))}, ONE), "two integers"),
    ("offsets-negative", _file({"a": _entry(offsets=(-4, 0))}, ONE), "integer"),
    ("offsets-float", _file({"a": _entry(offsets=(0, 4.0))}, ONE), "integer"),
    ("reversed", _file({"a": _entry(shape=(0,), offsets=(4, 0))}, ONE), "data_offsets"),
    ("gap-at-start", _file({"a": _entry(offsets=(4, 8))}, ONE + ONE), "gap"),
    ("gap-between", _file({"a": _entry(), "b": _entry(offsets=(8, 12))}, ONE * 3), "gap"),
    ("overlap", _file({"a": _entry(shape=(2,), offsets=(0, 8)), "b": _entry(offsets=(4, 8))},
                      ONE * 2), "overlaps"),
    ("same-range", _file({"a": _entry(), "b": _entry()}, ONE), "overlaps"),
    ("size-mismatch", _file({"a": _entry(shape=(2,))}, ONE), "span 4 bytes"),
    ("size-mismatch-dtype", _file({"a": _entry("F64")}, ONE), "span 4 bytes"),
    ("trailing-data", _file({"a": _entry()}, ONE + b"\x00"), "covered exactly"),
    ("data-without-tensors", _file({}, b"\x00"), "covered exactly"),
    ("past-the-end", _file({"a": _entry(shape=(2,), offsets=(0, 8))}, ONE), "4 bytes"),
    ("huge-declared", _file({"a": _entry(shape=(2 ** 40,), offsets=(0, 2 ** 42))}, ONE),
     "4 bytes"),
    ("overflow", _file({"a": _entry(shape=(2 ** 32, 2 ** 32), offsets=(0, 4))}, ONE),
     "overflows 64 bits"),
    ("overflow-before-zero", _file({"a": _entry(shape=(2 ** 40, 2 ** 40, 0), offsets=(0, 0))}),
     "overflows 64 bits"),
    ("sub-byte", _file({"a": _entry("F4", shape=(3,), offsets=(0, 1))}, b"\x00"),
     "byte boundary"),
]


@pytest.mark.parametrize("blob,match", [(b, m) for _, b, m in BAD], ids=[i for i, _, _ in BAD])
def test_bad_headers_raise_format_error_with_the_reason(tmp_path, blob, match):
    with pytest.raises(FormatError, match=match):
        load_safetensors_bytes(blob)
    path = tmp_path / "bad.safetensors"
    path.write_bytes(blob)
    for mm in (True, False):
        with pytest.raises(FormatError, match=match):
            load_safetensors(path, mmap=mm)
    with pytest.raises(FormatError, match=match):
        load_safetensors_metadata(path)


@pytest.mark.parametrize("dtype,bits", [("U16", 16), ("U32", 32), ("U64", 64),
                                        ("F8_E4M3", 8), ("F8_E5M2", 8), ("F8_E8M0", 8),
                                        ("F8_E4M3FNUZ", 8), ("F8_E5M2FNUZ", 8), ("F4", 4),
                                        ("F6_E2M3", 6), ("F6_E3M2", 6)])
def test_spec_dtypes_rt_lacks_are_refused_by_name(dtype, bits):
    count = 8
    nbytes = count * bits // 8
    blob = _file({"ok": _entry("F32", (1,), (0, 4)),
                  "x": _entry(dtype, (count,), (4, 4 + nbytes))}, ONE + b"\x00" * nbytes)
    with pytest.raises(FormatError, match=f"'x' has dtype {dtype}, which rt has no dtype for"):
        load_safetensors_bytes(blob)


def test_a_declared_size_larger_than_the_file_never_allocates(tmp_path):
    import tracemalloc
    blob = _file({"a": _entry(shape=(2 ** 28,), offsets=(0, 2 ** 30))}, ONE)
    (tmp_path / "big").write_bytes(blob)
    tracemalloc.start()
    try:
        for load in (lambda: load_safetensors_bytes(blob),
                     lambda: load_safetensors(tmp_path / "big"),
                     lambda: load_safetensors(tmp_path / "big", mmap=False)):
            with pytest.raises(FormatError):
                load()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_header_size_at_the_limit_is_not_read_when_the_file_is_shorter(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(struct.pack("<Q", MAX_HEADER_SIZE) + b"{}")
    with pytest.raises(FormatError, match="runs past the end"):
        load_safetensors(path)


# ---- saving errors and atomicity ---------------------------------------------------------
def test_save_errors():
    with pytest.raises(FormatError, match="complex128"):
        save_safetensors_bytes({"c": rt.ones(1, dtype=rt.complex128)})
    with pytest.raises(TypeError, match="not an rt tensor"):
        save_safetensors_bytes({"a": np.ones(2)})
    with pytest.raises(TypeError, match="names must be str"):
        save_safetensors_bytes({1: rt.ones(1)})
    with pytest.raises(ValueError, match="reserved"):
        save_safetensors_bytes({"__metadata__": rt.ones(1)})
    with pytest.raises(TypeError, match="str to str"):
        save_safetensors_bytes({"a": rt.ones(1)}, metadata={"k": 1})
    with pytest.raises(TypeError, match="dict"):
        save_safetensors_bytes([rt.ones(1)])
    with pytest.raises(ValueError, match="surrogate"):
        save_safetensors_bytes({"\ud800": rt.ones(1)})


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "m.safetensors"
    save_safetensors({"a": rt.ones(2)}, path)
    before = path.read_bytes()
    with pytest.raises(FormatError):
        save_safetensors({"a": rt.zeros(2), "c": rt.ones(1, dtype=rt.complex128)}, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.safetensors"]


def test_a_write_interrupted_midway_leaves_nothing(tmp_path, monkeypatch):
    import rt_import.safetensors_format as sf
    calls = []

    def failing_raw(arr):
        calls.append(arr)
        if len(calls) == 2:
            raise OSError("disk full")
        return memoryview(arr.reshape(-1).view(np.uint8))
    monkeypatch.setattr(sf, "_raw", failing_raw)
    with pytest.raises(OSError, match="disk full"):
        save_safetensors({"a": rt.ones(2), "b": rt.ones(3)}, tmp_path / "m")
    assert os.listdir(tmp_path) == []


def test_device_must_be_the_cpu(tmp_path):
    save_safetensors({"a": rt.ones(1)}, tmp_path / "m")
    assert set(load_safetensors(tmp_path / "m", device="cpu")) == {"a"}
    assert set(load_safetensors(tmp_path / "m", device=rt.device("cpu"))) == {"a"}
    with pytest.raises(RuntimeError, match="CPU"):
        load_safetensors(tmp_path / "m", device="cuda:0")


def test_load_bytes_takes_any_buffer():
    blob = save_safetensors_bytes({"a": rt.arange(3)})
    for buf in (blob, bytearray(blob), memoryview(blob), np.frombuffer(blob, np.uint8)):
        assert load_safetensors_bytes(buf)["a"].tolist() == [0, 1, 2]
    with pytest.raises(TypeError):
        load_safetensors_bytes("not bytes")


def test_loaded_tensors_train():
    blob = save_safetensors_bytes({"w": rt.ones(3)})
    w = load_safetensors_bytes(blob)["w"].requires_grad_()
    (w * 2).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0, 2.0]


def test_public_names():
    for name in ("load_safetensors", "save_safetensors", "load_safetensors_bytes",
                 "save_safetensors_bytes", "load_safetensors_metadata"):
        assert name in rt_import.__all__ and callable(getattr(rt_import, name))
