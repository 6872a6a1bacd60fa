"""Mutated checkpoints: rt_import.load either loads them (a mutation can be harmless) or
raises FormatError / UnsafeCheckpointError; never another exception, a crash, a hang or a
huge allocation. Deterministic seeds; 640 cases over the zip and legacy formats:

* raw bit flips and byte overwrites anywhere in the file (zip: mostly caught by the
  CRC-32s; legacy: reach the unpickler and the storage reader);
* truncation at random points;
* data.pkl mutated and re-zipped with valid CRCs (bit flips, byte overwrites, extreme values
  in the pickle's integer arguments: sizes, strides, offsets, storage sizes, memo indices),
  so the mutated pickle itself is interpreted;
* zip members renamed, dropped or duplicated;
* declared sizes in the zip headers (central directory and local headers) set to wrong or
  huge values.

Whatever loads is then touched (first and last element of every tensor) so a view outside
its storage would show.
"""
import functools
import io
import pickle
import pickletools
import struct
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
import rt_tensor as rtt
import rt_import
from rt_import import FormatError, UnsafeCheckpointError
from rt_import import checkpoint


class _LegacyPickler(checkpoint._Pickler):
    def _write_pid(self, key, dtype, numel):
        self.out.write(b"(")
        self._str("storage")
        self._global("torch", f"{dtype.scalar_name}Storage")
        self._str(key)
        self._str("cpu")
        self._int(numel)
        self.out.write(b"NtQ")


def _obj():
    rt.manual_seed(0)
    base = rt.randn(4, 6)
    return OrderedDict([
        ("weight", nn.Parameter(rt.randn(3, 4))), ("base", base), ("t", base.t()),
        ("slice", base[1:3, ::2]), ("bf16", rt.randn(5).to(rt.bfloat16)),
        ("half", rt.randn(2, 2).to(rt.float16)), ("mask", rt.tensor([True, False, True])),
        ("ints", rt.arange(7)), ("c", rt.tensor([1 + 2j, 3j])), ("scalar", rt.tensor(2.5)),
        ("empty", rt.zeros(0, 3)), ("steps", [1, 2.5, "x", None, (True, b"b")]),
        ("groups", [{"lr": 0.1, "params": [0, 1]}]),
    ])


@functools.cache
def zip_file():
    buf = io.BytesIO()
    rt_import.save(_obj(), buf)
    return buf.getvalue()


@functools.cache
def zip_records():
    with zipfile.ZipFile(io.BytesIO(zip_file())) as zf:
        return [(i.filename, zf.read(i.filename)) for i in zf.infolist()]


def legacy_file():
    return _legacy()[0]


@functools.cache
def _legacy():
    """The legacy file and the length of its five pickles (the storages follow)."""
    p = _LegacyPickler()
    main = p.dump(_obj())
    out = io.BytesIO()
    for v in (checkpoint.MAGIC_NUMBER, checkpoint.PROTOCOL_VERSION,
              {"protocol_version": 1001, "little_endian": True,
               "type_sizes": {"short": 2, "int": 4, "long": 8}}):
        out.write(pickle.dumps(v, protocol=2))
    out.write(main)
    entries = {e[0]: e for e in p.storages.values()}
    keys = sorted(entries)
    out.write(pickle.dumps(keys, protocol=2))
    head = out.tell()
    for key in keys:
        data = checkpoint._storage_bytes(entries[key])
        out.write(struct.pack("<q", data.nbytes // entries[key][2].itemsize))
        out.write(data.tobytes())
    return out.getvalue(), head


def rezip(records):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in records:
            zf.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def _touch(obj):
    """Walk what loaded; read the first and last element of every tensor."""
    stack, seen = [obj], set()
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        if isinstance(o, rtt.Tensor):
            if o.numel():
                for idx in ((0,) * o.dim(), tuple(s - 1 for s in o.shape)):
                    o.detach()[idx].item()
        elif isinstance(o, dict):
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, (list, tuple, set, frozenset)):
            stack.extend(o)


def check(data):
    try:
        out = rt_import.load(io.BytesIO(data))
    except (FormatError, UnsafeCheckpointError):
        return "refused"
    _touch(out)
    return "loaded"


def flip_bits(data, rng, nflips):
    b = bytearray(data)
    for _ in range(nflips):
        i = int(rng.integers(len(b)))
        b[i] ^= 1 << int(rng.integers(8))
    return bytes(b)


def overwrite(data, rng):
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        i = int(rng.integers(len(b)))
        b[i] = int(rng.choice([0x00, 0xFF, 0x7F, 0x80, 0x28, 0x2E, 0x71, 0x68]))
    return bytes(b)


def int_extremes(pkl, rng):
    """Set some integer arguments of the pickle's opcodes to extreme values (sizes,
    strides, offsets, storage sizes, memo indices)."""
    spots = [(op.name, pos) for op, arg, pos in pickletools.genops(pkl)
             if op.name in ("BININT1", "BININT2", "BININT", "BINPUT", "BINGET", "LONG_BINPUT",
                            "LONG_BINGET")]
    b = bytearray(pkl)
    for _ in range(int(rng.integers(1, 4))):
        name, pos = spots[int(rng.integers(len(spots)))]
        if name in ("BININT1", "BINPUT", "BINGET"):
            b[pos + 1] = int(rng.choice([0, 1, 2, 0x7F, 0xFF]))
        elif name == "BININT2":
            b[pos + 1:pos + 3] = struct.pack("<H", int(rng.choice([0, 1, 0xFFFF])))
        else:
            b[pos + 1:pos + 5] = struct.pack("<I", int(rng.choice(
                [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF])))
    return bytes(b)


def pkl_index():
    return next(i for i, (n, _) in enumerate(zip_records()) if n.endswith("data.pkl"))


def with_pkl(pkl):
    records = list(zip_records())
    i = pkl_index()
    records[i] = (records[i][0], pkl)
    return rezip(records)


# -- the base files load ------------------------------------------------------------------
def test_base_files_load():
    for data in (zip_file(), legacy_file(), rezip(zip_records())):
        assert check(data) == "loaded"


# -- raw mutations of the whole file ------------------------------------------------------
@pytest.mark.parametrize("seed", range(100))
def test_zip_bit_flips(seed):
    rng = np.random.default_rng(1000 + seed)
    check(flip_bits(zip_file(), rng, int(rng.integers(1, 5))))


@pytest.mark.parametrize("seed", range(40))
def test_zip_byte_overwrites(seed):
    check(overwrite(zip_file(), np.random.default_rng(2000 + seed)))


@pytest.mark.parametrize("seed", range(50))
def test_zip_truncation(seed):
    rng = np.random.default_rng(3000 + seed)
    data = zip_file()
    assert check(data[:int(rng.integers(len(data)))]) == "refused"


@pytest.mark.parametrize("seed", range(100))
def test_legacy_bit_flips(seed):
    rng = np.random.default_rng(4000 + seed)
    check(flip_bits(legacy_file(), rng, int(rng.integers(1, 5))))


@pytest.mark.parametrize("seed", range(40))
def test_legacy_byte_overwrites(seed):
    check(overwrite(legacy_file(), np.random.default_rng(5000 + seed)))


@pytest.mark.parametrize("seed", range(50))
def test_legacy_truncation(seed):
    rng = np.random.default_rng(6000 + seed)
    data = legacy_file()
    assert check(data[:int(rng.integers(len(data)))]) == "refused"


# -- the pickle inside a valid archive ----------------------------------------------------
@pytest.mark.parametrize("seed", range(80))
def test_data_pkl_mutations(seed):
    rng = np.random.default_rng(7000 + seed)
    pkl = dict(zip_records())["archive/data.pkl"]
    kind = seed % 4
    if kind == 0:
        pkl = flip_bits(pkl, rng, int(rng.integers(1, 4)))
    elif kind == 1:
        pkl = overwrite(pkl, rng)
    elif kind == 2:
        pkl = pkl[:int(rng.integers(len(pkl)))]
    else:
        i = int(rng.integers(len(pkl)))        # splice a random opcode byte in
        pkl = pkl[:i] + bytes([int(rng.integers(256))]) + pkl[i:]
    check(with_pkl(pkl))


@pytest.mark.parametrize("seed", range(60))
def test_data_pkl_extreme_integers(seed):
    rng = np.random.default_rng(8000 + seed)
    check(with_pkl(int_extremes(dict(zip_records())["archive/data.pkl"], rng)))


@pytest.mark.parametrize("seed", range(40))
def test_legacy_pickle_extreme_integers(seed):
    rng = np.random.default_rng(9000 + seed)
    data, end = _legacy()
    # the five pickles (up to the first storage's size field), one opcode stream each
    pickles, pos = [], 0
    while pos < end:
        stop = max(p for op, _, p in pickletools.genops(data[pos:end]) if op.name == "STOP")
        pickles.append(data[pos:pos + stop + 1])
        pos += stop + 1
    # mostly the object itself; else any pickle with integer arguments (not the magic)
    i = 3 if seed % 4 else int(rng.integers(1, len(pickles)))
    pickles[i] = int_extremes(pickles[i], rng)
    check(b"".join(pickles) + data[end:])


# -- members and declared sizes -----------------------------------------------------------
@pytest.mark.parametrize("seed", range(40))
def test_member_renames_drops_and_duplicates(seed):
    rng = np.random.default_rng(10000 + seed)
    records = list(zip_records())
    i = int(rng.integers(len(records)))
    name, data = records[i]
    kind = seed % 4
    if kind == 0:          # rename within the archive
        records[i] = (name + "x", data)
    elif kind == 1:        # another folder
        records[i] = ("other/" + name.split("/", 1)[1], data)
    elif kind == 2:        # dropped
        del records[i]
    else:                  # two storages swapped
        j = int(rng.integers(len(records)))
        records[i], records[j] = (name, records[j][1]), (records[j][0], data)
    check(rezip(records))


@pytest.mark.parametrize("seed", range(40))
def test_bad_declared_sizes(seed):
    rng = np.random.default_rng(11000 + seed)
    b = bytearray(zip_file())
    value = int(rng.choice([0, 1, 3, 0x7FFFFFFF, 0xFFFFFFFF, len(b) * 2]))
    if seed % 2:           # central directory: compressed (+20) or uncompressed (+24) size
        spots = [i for i in range(len(b) - 4) if b[i:i + 4] == b"PK\x01\x02"]
        off = int(rng.choice([20, 24]))
    else:                  # local headers: +18 / +22
        spots = [i for i in range(len(b) - 4) if b[i:i + 4] == b"PK\x03\x04"]
        off = int(rng.choice([18, 22]))
    at = spots[int(rng.integers(len(spots)))] + off
    b[at:at + 4] = struct.pack("<I", value)
    check(bytes(b))
