"""rt_import.load / rt_import.save without PyTorch: round trips (zip and legacy formats)
for every dtype, shape, view and container; the file layout torch.save uses; hostile and
malformed files refused with UnsafeCheckpointError / FormatError before anything runs or is
allocated. Reading files written by torch itself is in integration_tests/parity."""
import io
import os
import pickle
import struct
import sys
import zipfile
from collections import Counter, OrderedDict, defaultdict

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
import rt_tensor as rtt
import rt_import
from rt_import import FormatError, UnsafeCheckpointError
from rt_import import checkpoint
from rt_import._unpickler import Source, Unpickler

DTYPES = [rt.bool, rt.uint8, rt.int8, rt.int16, rt.int32, rt.int64, rt.float16, rt.bfloat16,
          rt.float32, rt.float64, rt.complex64, rt.complex128]


# -- helpers ------------------------------------------------------------------------------
class _LegacyPickler(checkpoint._Pickler):
    """The legacy format's persistent id carries a sixth field (view metadata)."""

    def _write_pid(self, key, dtype, numel):
        self.out.write(b"(")
        self._str("storage")
        self._global("torch", f"{dtype.scalar_name}Storage")
        self._str(key)
        self._str("cpu")
        self._int(numel)
        self.out.write(b"NtQ")


def legacy_bytes(obj):
    """What torch.save(obj, f, _use_new_zipfile_serialization=False) writes."""
    p = _LegacyPickler()
    main = p.dump(obj)
    out = io.BytesIO()
    for v in (checkpoint.MAGIC_NUMBER, checkpoint.PROTOCOL_VERSION,
              {"protocol_version": 1001, "little_endian": True,
               "type_sizes": {"short": 2, "int": 4, "long": 8}}):
        out.write(pickle.dumps(v, protocol=2))
    out.write(main)
    entries = {e[0]: e for e in p.storages.values()}
    keys = sorted(entries)                    # torch writes the keys sorted as strings
    out.write(pickle.dumps(keys, protocol=2))
    for key in keys:
        data = checkpoint._storage_bytes(entries[key])
        out.write(struct.pack("<q", data.nbytes // entries[key][2].itemsize))
        out.write(data.tobytes())
    return out.getvalue()


def zip_bytes(obj):
    buf = io.BytesIO()
    rt_import.save(obj, buf)
    return buf.getvalue()


def round_trip(obj, fmt):
    data = zip_bytes(obj) if fmt == "zip" else legacy_bytes(obj)
    return rt_import.load(io.BytesIO(data))


def raw(t):
    """The exact bits of a tensor's elements, in logical order."""
    t = t.detach()
    if t.dtype == rt.bfloat16:
        t = t.view(rt.int16)
    return np.ascontiguousarray(t.numpy()).tobytes()


def sample(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    if dtype == rt.bool:
        a = rng.integers(0, 2, n).astype(bool)
    elif dtype.is_complex:
        a = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(
            rtt._dtype.to_numpy_dtype(dtype))
    elif dtype.is_floating_point:
        a = (rng.standard_normal(n) * 100).astype(np.float32)
        special = np.array([np.nan, np.inf, -np.inf, -0.0, 1e-40], dtype=np.float32)
        a[:min(n, 5)] = special[:min(n, 5)]
        t = rt.tensor(a.reshape(shape)).to(dtype)
        return t
    else:
        info = np.iinfo(rtt._dtype.to_numpy_dtype(dtype))
        a = rng.integers(info.min, info.max, n, endpoint=True).astype(info.dtype)
    return rt.tensor(a.reshape(shape), dtype=dtype)


def G(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def P(value):
    """Opcodes pushing a plain value."""
    return pickle.dumps(value, protocol=2)[2:-1]


def pid(key="0", storage="FloatStorage", numel=4, legacy=False):
    return (b"(" + P("storage") + G("torch", storage) + P(key) + P("cpu") + P(numel)
            + (b"N" if legacy else b"") + b"tQ")


def v2_args(pid_ops, offset, size, stride, requires_grad=False, metadata=None):
    """Opcodes pushing the argument tuple of torch._utils._rebuild_tensor_v2."""
    return (b"(" + pid_ops + P(offset) + P(tuple(size)) + P(tuple(stride)) + P(requires_grad)
            + G("collections", "OrderedDict") + b")R"
            + (P(metadata) if metadata is not None else b"") + b"t")


def rebuild_v2(pid_ops, offset, size, stride, requires_grad=False, metadata=None):
    return (G("torch._utils", "_rebuild_tensor_v2")
            + v2_args(pid_ops, offset, size, stride, requires_grad, metadata) + b"R")


def pickle_ops(body):
    return b"\x80\x02" + body + b"."


def make_zip(data_pkl, storages=(), prefix="archive", byteorder=b"little", extra=(),
             version=b"3\n"):
    records = [("data.pkl", data_pkl), ("byteorder", byteorder)]
    records += [(f"data/{k}", v) for k, v in dict(storages).items()]
    records += [("version", version), *extra]
    buf = io.BytesIO()
    checkpoint._write_zip(buf, prefix, records)
    return buf.getvalue()


def load_bytes(data, **kw):
    return rt_import.load(io.BytesIO(data), **kw)


FLOATS4 = np.arange(4, dtype=np.float32).tobytes()


# -- round trips --------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["zip", "legacy"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
def test_round_trip_every_dtype(dtype, fmt):
    t = sample(dtype, (3, 5), seed=DTYPES.index(dtype))
    out = round_trip({"t": t, "tt": t.t()}, fmt)
    for key, ref in (("t", t), ("tt", t.t())):
        got = out[key]
        assert type(got) is rt.Tensor
        assert got.dtype == dtype and got.shape == ref.shape
        assert got.stride() == ref.stride() and got.storage_offset() == ref.storage_offset()
        assert raw(got) == raw(ref)
    assert out["t"].untyped_storage() is out["tt"].untyped_storage()


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
@pytest.mark.parametrize("shape", [(), (0,), (0, 3), (3, 0, 2), (1,), (7,), (2, 3, 4),
                                   (1, 1, 1, 1, 1), (2,) * 8], ids=str)
def test_round_trip_shapes(shape, fmt):
    t = sample(rt.float32, shape, seed=len(shape))
    got = round_trip([t], fmt)[0]
    assert got.shape == t.shape and got.stride() == t.stride() and got.dim() == len(shape)
    assert raw(got) == raw(t)


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
def test_views_share_one_storage(fmt):
    base = sample(rt.float64, (4, 6), seed=3)
    views = {
        "base": base, "t": base.t(), "row": base[2], "col": base[:, 1],
        "step": base[::2, 1::3], "narrow": base.narrow(1, 2, 3),
        "expand": base[0:1, 0:1].expand(5, 4), "diag": base.diagonal(),
        "overlap": base.as_strided((3, 3), (1, 1), 2), "flat": base.view(-1),
        "perm": base.view(2, 2, 6).permute(2, 0, 1),
    }
    out = round_trip(views, fmt)
    storage = out["base"].untyped_storage()
    for key, ref in views.items():
        got = out[key]
        assert got.untyped_storage() is storage, key
        assert got.shape == ref.shape and got.stride() == ref.stride(), key
        assert got.storage_offset() == ref.storage_offset(), key
        assert raw(got) == raw(ref), key
    out["base"][1, 1] = 123.0          # really one storage: a write shows through every view
    assert out["t"][1, 1].item() == 123.0 and out["flat"][7].item() == 123.0


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
def test_identity_kept(fmt):
    t = rt.arange(3.0)
    shared_list = [1, 2]
    out = round_trip({"a": t, "b": t, "l1": shared_list, "l2": shared_list,
                      "pair": (t, t)}, fmt)
    assert out["a"] is out["b"] and out["pair"][0] is out["a"]
    assert out["l1"] is out["l2"]


def test_recursive_list_round_trips():
    lst = [1]
    lst.append(lst)
    out = round_trip(lst, "zip")
    assert out[1] is out and out[0] == 1


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
def test_parameters_and_requires_grad(fmt):
    w = nn.Parameter(rt.randn(3, 2))
    frozen = nn.Parameter(rt.randn(2), requires_grad=False)
    leaf = rt.randn(4, requires_grad=True)
    nonleaf = leaf * 2
    ints = rt.arange(3)
    out = round_trip({"w": w, "frozen": frozen, "leaf": leaf, "nonleaf": nonleaf,
                      "ints": ints, "w_row": w.detach()[1]}, fmt)
    assert out["w_row"].untyped_storage() is out["w"].untyped_storage()
    assert out["w_row"].storage_offset() == 2
    assert type(out["w"]) is nn.Parameter and out["w"].requires_grad and out["w"].is_leaf
    assert type(out["frozen"]) is nn.Parameter and not out["frozen"].requires_grad
    assert type(out["leaf"]) is rt.Tensor and out["leaf"].requires_grad
    assert out["nonleaf"].requires_grad and out["nonleaf"].is_leaf
    assert out["nonleaf"].grad_fn is None
    assert not out["ints"].requires_grad
    assert raw(out["w"]) == raw(w) and raw(out["nonleaf"]) == raw(nonleaf)
    # loaded parameters train
    (out["w"] * 2).sum().backward()
    assert out["w"].grad is not None


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
def test_containers_and_scalars(fmt):
    obj = OrderedDict([
        ("z", 1), ("a", [1, -1, 255, 256, 65535, 65536, -2 ** 31, 2 ** 31, 2 ** 63, -2 ** 100]),
        ("floats", (0.5, -0.0, float("inf"), 1e308)), ("none", None), ("flags", (True, False)),
        ("text", "héllo \U0001f600 \ud800"), ("bytes", b"\x00\xff"), ("empty_bytes", b""),
        ("bytearray", bytearray(b"ab")), ("complex", 1.5 - 2j), ("set", {1, "x", (2, 3)}),
        ("counter", Counter("aab")), ("nested", {"k": [(), (1,), (1, 2), (1, 2, 3),
                                                       (1, 2, 3, 4), [[]]]}),
        ("dtypes", [rt.float32, rt.bfloat16, rt.bool, rt.complex128]),
        ("size", rt.Size([2, 3])), ("device", rt.device("cpu")), ("many", list(range(2500))),
        ("bigdict", {i: str(i) for i in range(1500)}),
    ])
    out = round_trip(obj, fmt)
    assert type(out) is OrderedDict and list(out) == list(obj)
    for k in obj:
        assert out[k] == obj[k], k
        assert type(out[k]) is type(obj[k]), k
    assert type(out["size"]) is rtt.Size and type(out["device"]) is rtt.device


def test_nan_float_round_trips():
    out = round_trip([float("nan")], "zip")
    assert out[0] != out[0]


def test_module_state_dict_round_trip(tmp_path):
    rt.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    x = rt.randn(16, 3)
    model(x)                                  # BatchNorm running statistics move
    model.eval()
    path = tmp_path / "model.pt"
    rt_import.save(model.state_dict(), path)
    sd = rt_import.load(path)
    assert type(sd) is OrderedDict and list(sd) == list(model.state_dict())
    assert sd["1.num_batches_tracked"].dtype == rt.int64
    assert sd["1.num_batches_tracked"].dim() == 0
    clone = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    clone.load_state_dict(sd)
    clone.eval()
    assert raw(clone(x)) == raw(model(x))


# -- the file layout ----------------------------------------------------------------------
def test_save_layout_matches_torch(tmp_path):
    a = rt.arange(5.0)
    path = tmp_path / "x.pt"
    rt_import.save({"a": a, "b": a[1:], "c": rt.ones(2, dtype=rt.int64)}, path)
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert names == ["archive/data.pkl", "archive/.format_version",
                         "archive/.storage_alignment", "archive/byteorder", "archive/data/0",
                         "archive/data/1", "archive/version",
                         "archive/.data/serialization_id"]
        assert zf.read("archive/.format_version") == b"1"
        assert zf.read("archive/.storage_alignment") == b"64"
        assert zf.read("archive/byteorder") == sys.byteorder.encode()
        assert zf.read("archive/version") == b"3\n"
        sid = zf.read("archive/.data/serialization_id")
        assert len(sid) == 40 and sid.isdigit()
        assert zf.read("archive/data/0") == np.arange(5, dtype=np.float32).tobytes()
        infos = zf.infolist()
        assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
        # every record's data starts on a 64-byte boundary (torch's storage_alignment)
        raw_file = path.read_bytes()
        for info in infos:
            n, e = struct.unpack("<HH", raw_file[info.header_offset + 26:
                                                 info.header_offset + 30])
            assert (info.header_offset + 30 + n + e) % 64 == 0, info.filename
        data = zf.read("archive/data.pkl")
    import pickletools
    ops = {op.name for op, _, _ in pickletools.genops(data)}
    # only opcodes PyTorch's weights_only unpickler implements
    assert ops <= {"PROTO", "EMPTY_DICT", "BINPUT", "LONG_BINPUT", "BINGET", "LONG_BINGET",
                   "MARK", "BINUNICODE", "GLOBAL", "BININT1", "BININT2", "BININT", "LONG1",
                   "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3", "EMPTY_TUPLE", "BINPERSID",
                   "NEWFALSE", "NEWTRUE", "REDUCE", "SETITEM", "SETITEMS", "STOP",
                   "EMPTY_LIST", "APPEND", "APPENDS", "BINFLOAT", "NONE"}
    globals_ = {arg for op, arg, _ in pickletools.genops(data) if op.name == "GLOBAL"}
    assert globals_ == {"torch._utils _rebuild_tensor_v2", "torch FloatStorage",
                        "torch LongStorage", "collections OrderedDict"}


def test_save_is_atomic(tmp_path):
    path = tmp_path / "ckpt.pt"
    rt_import.save({"a": rt.ones(2)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="cannot save an object of type"):
        rt_import.save({"a": rt.ones(3), "bad": object()}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]
    with pytest.raises(TypeError):
        rt_import.save({"bad": object()}, tmp_path / "new.pt")
    assert not (tmp_path / "new.pt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]


@pytest.mark.parametrize("bad", [nn.Linear(2, 2), np.zeros(2), frozenset([1]),
                                 defaultdict(int), np.float64(1.0), object()],
                         ids=["module", "ndarray", "frozenset", "defaultdict", "npfloat",
                              "object"])
def test_save_refuses_what_torch_weights_only_cannot_read(bad):
    with pytest.raises(TypeError, match="cannot save"):
        rt_import.save({"x": bad}, io.BytesIO())


def test_save_errors():
    x = rt.arange(4.0)
    with pytest.raises(RuntimeError, match="as different types"):
        rt_import.save([x, x.view(rt.int32)], io.BytesIO())
    lst = []
    tup = (lst,)
    lst.append(tup)
    with pytest.raises(ValueError, match="contains itself"):
        rt_import.save(tup, io.BytesIO())
    with pytest.raises(ValueError, match="2\\*\\*2039"):
        rt_import.save(1 << 3000, io.BytesIO())
    with pytest.raises(TypeError, match="path or a binary file"):
        rt_import.save({}, 3)


# -- reading ------------------------------------------------------------------------------
def test_load_paths_and_file_objects(tmp_path):
    obj = {"w": rt.arange(6.0).reshape(2, 3)}
    data = zip_bytes(obj)
    path = tmp_path / "f.pth"
    path.write_bytes(data)
    for src in (path, str(path)):
        assert raw(rt_import.load(src)["w"]) == raw(obj["w"])
    with open(path, "rb") as f:
        assert raw(rt_import.load(f)["w"]) == raw(obj["w"])
    # from the current position of a file that holds other bytes first
    buf = io.BytesIO(b"junk" * 10 + data)
    buf.seek(40)
    assert raw(rt_import.load(buf)["w"]) == raw(obj["w"])
    leg = io.BytesIO(b"x" * 7 + legacy_bytes(obj))
    leg.seek(7)
    assert raw(rt_import.load(leg)["w"]) == raw(obj["w"])

    class Stream(io.RawIOBase):              # not seekable: read into memory first
        def __init__(self, data):
            self._b = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, b):
            return self._b.readinto(b)

    assert raw(rt_import.load(Stream(data))["w"]) == raw(obj["w"])
    with pytest.raises(TypeError):
        rt_import.load(12)
    with pytest.raises(TypeError, match="binary mode"):
        rt_import.load(io.StringIO("abc"))
    with pytest.raises(ValueError, match="weights_only"):
        rt_import.load(path, weights_only=False)


def test_save_to_file_objects():
    buf = io.BytesIO(b"head")
    buf.seek(4)
    rt_import.save({"a": rt.ones(2)}, buf)
    buf.seek(4)
    assert rt_import.load(buf)["a"].tolist() == [1.0, 1.0]

    class Sink:                                # write-only, not seekable
        def __init__(self):
            self.chunks = []

        def write(self, b):
            self.chunks.append(bytes(b))

    sink = Sink()
    rt_import.save({"a": rt.ones(2)}, sink)
    assert rt_import.load(io.BytesIO(b"".join(sink.chunks)))["a"].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
def test_map_location(fmt):
    obj = {"a": rt.arange(4.0)}
    data = zip_bytes(obj) if fmt == "zip" else legacy_bytes(obj)
    for loc in (None, "cpu", "cuda:0", "cuda", b"mps", rt.device("cpu"),
                {"cuda:0": "cpu"}, {"cpu": "cuda:1"}):
        assert load_bytes(data, map_location=loc)["a"].tolist() == [0.0, 1.0, 2.0, 3.0]
    seen = []

    def keep(storage, location):
        seen.append((storage.dtype, storage.numel(), location))
        return None

    assert load_bytes(data, map_location=keep)["a"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert seen == [(rt.float32, 4, "cpu")]

    def replace(storage, location):
        return rt.zeros(storage.numel(), dtype=storage.dtype)

    # as in torch: the legacy format fills the returned storage afterwards, the zip format
    # hands over a storage that already holds its data
    got = load_bytes(data, map_location=replace)["a"]
    assert got.tolist() == ([0.0, 1.0, 2.0, 3.0] if fmt == "legacy" else [0.0] * 4)
    with pytest.raises(ValueError, match="invalid device"):
        load_bytes(data, map_location="not a device!")
    with pytest.raises(TypeError):
        load_bytes(data, map_location=3.5)
    with pytest.raises(TypeError, match="same dtype and size"):
        load_bytes(data, map_location=lambda s, loc: rt.zeros(1))


def test_location_strings_from_the_file_load_to_cpu():
    body = rebuild_v2(b"(" + P("storage") + G("torch", "FloatStorage") + P("0")
                      + P("cuda:0") + P(4) + b"tQ", 0, (4,), (1,))
    t = load_bytes(make_zip(pickle_ops(body), {"0": FLOATS4}))
    assert t.device == rt.device("cpu") and t.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_any_prefix_folder_and_deflated_members():
    data = zip_bytes({"a": rt.arange(3.0), "b": rt.tensor([True, False])})
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename.replace("archive/", "my model v2/"),
                         src.read(info.filename))
    got = load_bytes(out.getvalue())
    assert got["a"].tolist() == [0.0, 1.0, 2.0] and got["b"].tolist() == [True, False]


def test_big_endian_records_are_swapped():
    values = np.array([1.5, -2.0, 3.25], dtype=">f8").tobytes()
    cvals = np.array([1 + 2j, -3j], dtype=">c8").tobytes()
    bvals = np.array([1.5, -2.0], dtype=np.float32).view(np.uint32)
    bf16 = (bvals >> 16).astype(">u2").tobytes()
    body = (b"(" + rebuild_v2(pid("0", "DoubleStorage", 3), 0, (3,), (1,))
            + rebuild_v2(pid("1", "ComplexFloatStorage", 2), 0, (2,), (1,))
            + rebuild_v2(pid("2", "BFloat16Storage", 2), 0, (2,), (1,)) + b"t")
    got = load_bytes(make_zip(pickle_ops(body), {"0": values, "1": cvals, "2": bf16},
                              byteorder=b"big"))
    assert got[0].tolist() == [1.5, -2.0, 3.25]
    assert got[1].tolist() == [1 + 2j, -3j]
    assert got[2].float().tolist() == [1.5, -2.0]


def test_rebuild_v3_reinterprets_an_untyped_storage():
    data = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32).tobytes()
    untyped = b"(" + P("storage") + G("torch.storage", "UntypedStorage") + P("0") + P("cpu") \
        + P(16) + b"tQ"

    def v3(pid_ops, size, dtype):
        return (G("torch._utils", "_rebuild_tensor_v3") + b"(" + pid_ops + P(0)
                + P(size) + P((1,)) + P(False) + G("collections", "OrderedDict") + b")R"
                + G("torch", dtype) + b"tR")

    # the same key again gives the same storage, as in torch
    body = b"(" + v3(untyped, (4,), "float32") + v3(untyped, (4,), "int32") \
        + v3(untyped, (16,), "uint8") + b"t"
    a, b, c = load_bytes(make_zip(pickle_ops(body), {"0": data}))
    assert a.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert b.tolist() == np.frombuffer(data, np.int32).tolist()
    assert a.untyped_storage() is b.untyped_storage()      # same element size: a view
    assert c.tolist() == list(data)
    with pytest.raises(FormatError, match="uint16"):
        load_bytes(make_zip(pickle_ops(v3(untyped, (8,), "uint16")), {"0": data}))


def test_conj_and_neg_metadata_are_materialised():
    data = np.array([1 + 2j, 3 - 4j], dtype=np.complex64).tobytes()
    body = b"(" + rebuild_v2(pid("0", "ComplexFloatStorage", 2), 0, (2,), (1,),
                             metadata={"conj": True}) \
        + rebuild_v2(pid("0", "ComplexFloatStorage", 2), 0, (2,), (1,),
                     metadata={"neg": True}) + b"t"
    conj, neg = load_bytes(make_zip(pickle_ops(body), {"0": data}))
    assert conj.tolist() == [1 - 2j, 3 + 4j]
    assert neg.tolist() == [-1 - 2j, -3 + 4j]


@pytest.mark.parametrize("protocol", [0, 1, 2, 4])
def test_legacy_headers_in_any_pickle_protocol(protocol):
    # protocols 0 and 1 have no PROTO opcode: the file starts with the text LONG opcode
    data = legacy_bytes({"a": rt.arange(3.0)})
    m = sum(len(pickle.dumps(v, protocol=2)) for v in (
        checkpoint.MAGIC_NUMBER, 1001, {"protocol_version": 1001, "little_endian": True,
                                        "type_sizes": {"short": 2, "int": 4, "long": 8}}))
    head = b"".join(pickle.dumps(v, protocol=protocol) for v in (
        checkpoint.MAGIC_NUMBER, 1001, {"little_endian": True}))
    assert load_bytes(head + data[m:])["a"].tolist() == [0.0, 1.0, 2.0]


def test_legacy_storage_views():
    # PyTorch < 0.4 pickled views of storages: (view_key, offset, size) in the persistent id
    def vpid(view):
        return (b"(" + P("storage") + G("torch", "FloatStorage") + P("root") + P("cpu")
                + P(4) + P(view) + b"tQ")

    body = b"(" + rebuild_v2(vpid(("v1", 1, 3)), 0, (3,), (1,)) \
        + rebuild_v2(vpid(("v1", 1, 3)), 1, (2,), (1,)) \
        + rebuild_v2(vpid(None), 0, (4,), (1,)) + b"t"
    out = io.BytesIO()
    for v in (checkpoint.MAGIC_NUMBER, 1001, {"little_endian": True}):
        out.write(pickle.dumps(v, protocol=2))
    out.write(pickle_ops(body))
    out.write(pickle.dumps(["root"], protocol=2))
    out.write(struct.pack("<q", 4) + FLOATS4)
    a, b, whole = load_bytes(out.getvalue())
    assert a.tolist() == [1.0, 2.0, 3.0] and b.tolist() == [2.0, 3.0]
    assert a.untyped_storage() is whole.untyped_storage()
    assert a.storage_offset() == 1 and b.storage_offset() == 2


def test_rebuild_from_type_v2_and_parameter_state():
    inner = rebuild_v2(pid(), 0, (4,), (1,))
    args = v2_args(pid(), 0, (4,), (1,))

    def from_type(new_type, state):
        return (G("torch._tensor", "_rebuild_from_type_v2") + b"("
                + G("torch._utils", "_rebuild_tensor_v2") + new_type + args + P(state)
                + b"tR")

    body = b"(" + from_type(G("torch", "Tensor"), {"note": 1})
    body += G("torch._utils", "_rebuild_parameter_with_state") + b"(" + inner + P(True) \
        + G("collections", "OrderedDict") + b")R" + P({"tag": "x"}) + b"tR"
    body += from_type(G("torch.nn.parameter", "Parameter"), None) + b"t"
    plain, param, as_param = load_bytes(make_zip(pickle_ops(body), {"0": FLOATS4}))
    assert type(plain) is rt.Tensor and plain.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert type(param) is nn.Parameter and param.tag == "x" and param.requires_grad
    assert type(as_param) is nn.Parameter
    bad = G("torch._utils", "_rebuild_parameter_with_state") + b"(" + inner + P(True) \
        + G("collections", "OrderedDict") + b")R" + P({"data": 1}) + b"tR"
    with pytest.raises(FormatError, match="cannot be restored"):
        load_bytes(make_zip(pickle_ops(bad), {"0": FLOATS4}))


@pytest.mark.parametrize("protocol", range(6))
def test_pickle_protocols_of_plain_data(protocol):
    obj = {"a": [1, 2.5, "x", None, True, -7, 2 ** 70], "t": (1, (2, 3)), "s": {1, 2},
           "f": frozenset({3}), "b": b"\x00\x01", "ba": bytearray(b"z"), "c": 2 + 3j,
           "o": OrderedDict([("k", 1)]), "u": "\u20ac\n\\"}
    data = pickle.dumps(obj, protocol=protocol)
    loader = checkpoint._Loader(None)
    got = Unpickler(Source(io.BytesIO(data), 0, len(data)), loader.find_global,
                    build=loader.build).load()
    assert got == pickle.loads(data)
    assert type(got["o"]) is OrderedDict and type(got["ba"]) is bytearray


# -- hostile files ------------------------------------------------------------------------
def _system_pickles(marker):
    cmd = f"touch {marker}"

    class Evil:
        def __reduce__(self):
            return (os.system, (cmd,))

    return {
        "GLOBAL os.system": pickle_ops(G("os", "system") + P((cmd,)) + b"R"),
        "pickle.dumps": pickle.dumps({"w": Evil()}, protocol=2),
        "protocol 4 STACK_GLOBAL": pickle.dumps(Evil(), protocol=4),
        "INST": b"(" + P(cmd) + b"ios\nsystem\n.",
        "OBJ": b"\x80\x02(" + G("os", "system") + P(cmd) + b"o.",
        "NEWOBJ": pickle_ops(G("os", "system") + P((cmd,)) + b"\x81"),
    }


@pytest.mark.parametrize("case", ["GLOBAL os.system", "pickle.dumps",
                                  "protocol 4 STACK_GLOBAL", "INST", "OBJ", "NEWOBJ"])
@pytest.mark.parametrize("fmt", ["zip", "legacy", "raw"])
def test_os_system_is_refused_and_nothing_runs(tmp_path, case, fmt):
    marker = tmp_path / "pwned"
    evil = _system_pickles(marker)[case]
    if fmt == "zip":
        data = make_zip(evil, {"0": FLOATS4})
    elif fmt == "legacy":
        data = b"".join(pickle.dumps(v, protocol=2) for v in (
            checkpoint.MAGIC_NUMBER, 1001, {})) + evil + pickle.dumps([], protocol=2)
    else:
        data = evil if evil.startswith(b"\x80") else b"\x80\x02" + evil
    path = tmp_path / "evil.pt"
    path.write_bytes(data)
    with pytest.raises(UnsafeCheckpointError) as info:
        rt_import.load(path)
    assert "os.system" in str(info.value) or "posix.system" in str(info.value)
    assert isinstance(info.value, pickle.UnpicklingError)
    assert not marker.exists()


@pytest.mark.parametrize("module,name", [
    ("builtins", "eval"), ("builtins", "exec"), ("builtins", "getattr"),
    ("builtins", "__import__"), ("subprocess", "Popen"), ("posix", "system"),
    ("numpy.core.multiarray", "_reconstruct"), ("torch.nn.modules.linear", "Linear"),
    ("copyreg", "_reconstructor"), ("__builtin__", "open"), ("torch", "load"),
    ("torch._utils", "_rebuild_xla_tensor"), ("collections", "defaultdict")])
def test_globals_outside_the_allow_list_are_named(module, name):
    data = make_zip(pickle_ops(G(module, name) + P(("x",)) + b"R"))
    with pytest.raises(UnsafeCheckpointError) as info:
        load_bytes(data)
    expected = "builtins.open" if module == "__builtin__" else f"{module}.{name}"
    assert expected in str(info.value)


@pytest.mark.parametrize("ops,match", [
    (b"\x82\x01", "extension code"),
    (G("torch", "float32") + P(()) + b"R", "only allow-listed"),
    (P(3) + P(()) + b"R", "only allow-listed"),
    (P([1]) + P({}) + b"b", "BUILD"),
    (P({}) + P(1) + b"a", "APPEND"),
    (P([]) + b"(" + P(1) + P(2) + b"u", "SETITEMS"),
    (P(("module", 1, 2, 3)) + b"Q", "module"),
    (P(("other", 1)) + b"Q", "persistent id"),
    (b"P0\n", "persistent id"),
])
def test_disallowed_operations(ops, match):
    with pytest.raises((UnsafeCheckpointError, FormatError), match=match):
        load_bytes(make_zip(pickle_ops(ops)))


@pytest.mark.parametrize("name,reason", [
    (("torch._utils", "_rebuild_sparse_tensor"), "sparse"),
    (("torch._utils", "_rebuild_qtensor"), "quantized"),
    (("torch", "QInt8Storage"), "quantized"),
    (("torch", "uint16"), "uint16"), (("torch", "float8_e4m3fn"), "float8"),
    (("torch._utils", "_rebuild_meta_tensor_no_storage"), "meta"),
    (("torch", "FloatTensor"), "legacy tensor classes"),
])
def test_torch_features_rt_lacks_are_format_errors(name, reason):
    with pytest.raises(FormatError, match=reason):
        load_bytes(make_zip(pickle_ops(G(*name) + b"N")))


def test_declared_sizes_are_checked_before_allocating():
    rtt.memory.reset_peak_stats()
    peak0 = rtt.memory.stats()["peak_bytes"]
    huge = 1 << 40
    cases = {
        "zip storage": make_zip(pickle_ops(rebuild_v2(pid(numel=huge), 0, (4,), (1,))),
                                {"0": FLOATS4}),
        "legacy storage": b"".join(pickle.dumps(v, protocol=2) for v in (
            checkpoint.MAGIC_NUMBER, 1001, {})) + pickle_ops(
                rebuild_v2(pid(numel=huge, legacy=True), 0, (4,), (1,))),
        "BINUNICODE": make_zip(b"\x80\x02X\xff\xff\xff\xff"),
        "BINBYTES8": make_zip(b"\x80\x04\x8e" + struct.pack("<Q", 1 << 60)),
        "LONG4": make_zip(b"\x80\x02\x8b\xff\xff\xff\x7f"),
        "FRAME": make_zip(b"\x80\x04\x95" + struct.pack("<Q", 1 << 62)),
        "bytearray(n)": make_zip(pickle_ops(G("builtins", "bytearray") + P((1 << 40,))
                                            + b"R")),
        "size": make_zip(pickle_ops(rebuild_v2(pid(), 0, (1 << 40, 1 << 40), (1, 1))),
                         {"0": FLOATS4}),
        "memo index": make_zip(b"\x80\x02Nr\xff\xff\xff\xffj\x00\x00\x00\x01."),
    }
    for name, data in cases.items():
        with pytest.raises(FormatError):
            load_bytes(data)
    assert rtt.memory.stats()["peak_bytes"] - peak0 < 1 << 20


def test_memo_with_a_huge_index_allocates_nothing():
    got = load_bytes(make_zip(b"\x80\x02Nr\xff\xff\xff\xffj\xff\xff\xff\xff."))
    assert got is None


def test_deeply_nested_keys_are_refused():
    ops = P(1) + b"\x85" * 5000                     # ((((1,),),),...)
    data = make_zip(b"\x80\x02}" + ops + P(1) + b"s.")
    with pytest.raises(FormatError, match="nested"):
        load_bytes(data)
    deep_values = b"\x80\x02" + b"]" * 3000 + b"a" * 2999 + b"."   # lists nest fine
    assert isinstance(load_bytes(make_zip(deep_values)), list)


@pytest.mark.parametrize("key", [2 ** 61 - 1, -(2 ** 62), float(2 ** 62), 1 + 2j,
                                 frozenset([1]), (1, (2, 2 ** 70))], ids=repr)
def test_keys_a_file_could_make_collide_are_refused(key):
    # ints equal modulo 2**61 - 1 hash alike, as do complex(1000003 * k, -k) for every k: a
    # file could make every dict insertion linear; such keys never occur in checkpoints
    for ops in (b"}" + P(key) + P(1) + b"s", b"\x8f(" + P(key) + b"\x90"):
        with pytest.raises(FormatError, match="dict key or set item"):
            load_bytes(make_zip(b"\x80\x04" + ops + b"."))


def test_hashing_work_is_bounded():
    # one 1000-element tuple key inserted 20000 times: tuples do not cache their hash
    ops = b"\x80\x02}" + P(tuple(range(1000))) + P(1) + b"s" + b"h\x00K\x01s" * 20000
    with pytest.raises(FormatError, match="tuple elements hashed"):
        load_bytes(make_zip(ops + b"."))
    ok = b"\x80\x02}" + P(tuple(range(1000))) + P(1) + b"s" + b"h\x00K\x01s" * 100
    assert list(load_bytes(make_zip(ok + b"."))) == [tuple(range(1000))]


@pytest.mark.parametrize("size,stride,offset", [
    ((5,), (1,), 0), ((4,), (1,), 1), ((2, 2), (2, 2), 0), ((2,), (-1,), 3), ((2,), (1,), -1),
    ((-1,), (1,), 0), ((2,), (1, 1), 0), ((1,) * 40, (1,) * 40, 0)])
def test_tensor_geometry_outside_its_storage(size, stride, offset):
    data = make_zip(pickle_ops(rebuild_v2(pid(), offset, size, stride)), {"0": FLOATS4})
    with pytest.raises(FormatError):
        load_bytes(data)


def test_empty_tensors_and_zero_strides_are_fine():
    body = b"(" + rebuild_v2(pid(), 100, (0, 3), (3, 1)) \
        + rebuild_v2(pid(), 3, (1000, 1000), (0, 0)) + b"t"
    empty, expanded = load_bytes(make_zip(pickle_ops(body), {"0": FLOATS4}))
    assert empty.shape == (0, 3)
    assert expanded.shape == (1000, 1000) and expanded.stride() == (0, 0)
    assert expanded[999, 999].item() == 3.0


@pytest.mark.parametrize("name", ["empty", "random", "text", "tar", "torchscript", "npz",
                                  "no data.pkl", "missing storage", "wrong storage size",
                                  "crc", "bad byteorder", "bad version", "duplicate",
                                  "legacy magic", "legacy protocol", "legacy keys",
                                  "legacy count", "legacy truncated", "odd encryption"])
def test_not_checkpoints_and_corrupt_files(name, tmp_path):
    good = zip_bytes({"a": rt.arange(4.0)})
    legacy = legacy_bytes({"a": rt.arange(4.0)})
    if name == "empty":
        data = b""
    elif name == "random":
        data = np.random.default_rng(0).integers(0, 256, 1000, dtype=np.uint8).tobytes()
    elif name == "text":
        data = b"hello, world\n"
    elif name == "tar":
        data = b"x" * 257 + b"ustar" + b"\0" * 250
    elif name == "torchscript":
        data = make_zip(b"\x80\x02N.", extra=[("constants.pkl", b"\x80\x02).")])
        data = data.replace(b"archive/data.pkl", b"archive/data.pkX")
    elif name == "npz":
        buf = io.BytesIO()
        np.savez(buf, a=np.zeros(3))
        data = buf.getvalue()
    elif name == "no data.pkl":
        data = good.replace(b"archive/data.pkl", b"archive/data.pkX")
    elif name == "missing storage":
        data = good.replace(b"archive/data/0", b"archive/data/7")
    elif name == "wrong storage size":
        data = make_zip(pickle_ops(rebuild_v2(pid(numel=3), 0, (3,), (1,))), {"0": FLOATS4})
    elif name == "crc":
        i = good.index(np.arange(4, dtype=np.float32).tobytes())
        data = good[:i + 5] + bytes([good[i + 5] ^ 1]) + good[i + 6:]
    elif name == "bad byteorder":
        data = make_zip(pickle_ops(P(1)), byteorder=b"middle")
    elif name == "bad version":
        data = make_zip(pickle_ops(P(1)), version=b"x\n")
    elif name == "duplicate":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("archive/data.pkl", b"\x80\x02N.")
            with pytest.warns(UserWarning, match="Duplicate"):
                zf.writestr("archive/data.pkl", b"\x80\x02N.")
        data = buf.getvalue()
    elif name == "legacy magic":
        data = pickle.dumps(12345, protocol=2) + legacy[len(pickle.dumps(
            checkpoint.MAGIC_NUMBER, protocol=2)):]
    elif name == "legacy protocol":
        m = len(pickle.dumps(checkpoint.MAGIC_NUMBER, protocol=2))
        data = legacy[:m] + pickle.dumps(1000, protocol=2) + legacy[m + len(
            pickle.dumps(1001, protocol=2)):]
    elif name == "legacy keys":
        data = legacy.replace(pickle.dumps(["0"], protocol=2), pickle.dumps(["9"], protocol=2))
    elif name == "legacy count":
        i = legacy.rindex(struct.pack("<q", 4))
        data = legacy[:i] + struct.pack("<q", 5) + legacy[i + 8:]
    elif name == "legacy truncated":
        data = legacy[:-3]
    else:
        data = bytearray(good)
        i = data.index(b"PK\x01\x02")                   # central directory: set "encrypted"
        data[i + 8] |= 1
        data = bytes(data)
    path = tmp_path / "f.pt"
    path.write_bytes(data)
    with pytest.raises(FormatError):
        rt_import.load(path)


def test_errors_are_the_documented_types():
    assert issubclass(FormatError, ValueError)
    assert issubclass(UnsafeCheckpointError, pickle.UnpicklingError)
    assert rt_import.load is checkpoint.load and rt_import.save is checkpoint.save


def test_mmap_load_maps_the_storages_copy_on_write(tmp_path):
    """load(mmap=True): the same values, dtypes, views and sharing as a plain load, and
    writing to a loaded tensor leaves the file as it was."""
    import rt_import
    w = rt.arange(12.0).reshape(3, 4)
    obj = {"w": w, "wt": w.t(), "b": rt.tensor([1.5, -2.0]).to(rt.bfloat16),
           "i": rt.arange(5), "flag": rt.tensor([True, False]), "empty": rt.zeros(0, 3)}
    path = tmp_path / "m.pt"
    rt_import.save(obj, path)
    plain = rt_import.load(path)
    mapped = rt_import.load(path, mmap=True)
    for key in obj:
        assert mapped[key].dtype == plain[key].dtype and mapped[key].shape == plain[key].shape
        assert mapped[key].stride() == plain[key].stride(), key
        assert mapped[key].float().tolist() == plain[key].float().tolist(), key
    assert mapped["wt"].untyped_storage() is mapped["w"].untyped_storage()
    before = path.read_bytes()
    mapped["w"].add_(100.0)
    assert path.read_bytes() == before
    assert rt_import.load(path)["w"].tolist() == w.tolist()


@pytest.mark.parametrize("which", [0, 1, 2])
def test_a_corrupt_large_storage_is_caught_by_the_crc_checked_on_a_worker(tmp_path, which):
    # storages of 1 MiB and more have their CRC-32 checked on worker threads while the next
    # one is read; a flipped byte in any of them must still fail the whole load
    import threading
    path = tmp_path / "big.pt"
    tensors = {f"t{i}": rt.arange(300_000 * (i + 1), dtype=rt.float32) for i in range(3)}
    rt_import.save(tensors, path)
    assert rt_import.load(path)["t2"].numpy()[-1] == 899_999          # intact: loads
    blob = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(f"archive/data/{which}")
    name_len, extra_len = struct.unpack("<HH", blob[info.header_offset + 26:
                                                   info.header_offset + 30])
    data_at = info.header_offset + 30 + name_len + extra_len
    blob[data_at + info.file_size // 2] ^= 0x10
    bad = tmp_path / "bad.pt"
    bad.write_bytes(bytes(blob))
    threads_before = threading.active_count()
    with pytest.raises(FormatError, match=f"archive/data/{which}: CRC-32 mismatch"):
        rt_import.load(bad)
    assert threading.active_count() == threads_before        # the workers are shut down


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_saved_files_get_the_mode_open_would_give(tmp_path, umask):
    # the temporary file behind the atomic write is created 0600; the published file must
    # have 0666 less the umask, as torch.save's (and export_onnx's, save_safetensors')
    previous = os.umask(umask)
    try:
        rt_import.save({"a": rt.ones(2)}, tmp_path / "c.pt")
        rt_import.save_safetensors({"a": rt.ones(2)}, tmp_path / "c.safetensors")
    finally:
        os.umask(previous)
    for name in ("c.pt", "c.safetensors"):
        assert oct(os.stat(tmp_path / name).st_mode & 0o777) == oct(0o666 & ~umask)


def test_loaded_tensors_go_back_to_the_pool_without_the_garbage_collector(tmp_path):
    # the loader's allow-list holds its own bound methods (a cycle); through its storage
    # tables that cycle kept every loaded tensor alive until gc ran, so loading in a loop
    # took fresh memory each time
    import gc
    path = tmp_path / "w.pt"
    rt_import.save({f"w{i}": rt.ones(1000, 100) for i in range(3)}, path)
    gc.collect()
    gc.disable()
    try:
        before = rtt.memory.stats()["in_use_bytes"]
        loaded = rt_import.load(path)
        assert loaded["w2"].sum().item() == 100_000
        del loaded
        assert rtt.memory.stats()["in_use_bytes"] == before
    finally:
        gc.enable()
