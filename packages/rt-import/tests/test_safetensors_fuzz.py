"""Deterministic fuzzing of the safetensors and numpy readers and of detect_format: valid
files mutated by bit flips, truncation, bad header sizes, huge declared sizes, overlapping
and out-of-range offsets, and zip directory lies. Every case either loads or raises
FormatError (nothing else), and the memory traced while reading stays within a small
multiple of the file's size: a size the file declares but does not hold is never
allocated."""
import io
import json
import random
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest
import rt_autograd as rt

from rt_import import (FormatError, detect_format, load_numpy, load_safetensors,
                       load_safetensors_bytes, save_safetensors_bytes)


# ---- valid starting points ---------------------------------------------------------------
def _st_bases():
    g = np.random.default_rng(0)
    mixed = {"f64": rt.tensor(g.standard_normal((3, 2))),
             "f32": rt.tensor(g.standard_normal(7).astype(np.float32)),
             "f16": rt.tensor(g.standard_normal(4).astype(np.float16)),
             "bf16": rt.tensor(g.standard_normal(5).astype(np.float32)).to(rt.bfloat16),
             "i64": rt.arange(3), "i32": rt.arange(4, dtype=rt.int32),
             "i16": rt.arange(2, dtype=rt.int16), "i8": rt.arange(3, dtype=rt.int8),
             "u8": rt.arange(5, dtype=rt.uint8), "b": rt.tensor([True, False, True]),
             "c64": rt.ones(2, dtype=rt.complex64), "scalar": rt.tensor(1.5),
             "empty": rt.zeros(0, 3)}
    return [save_safetensors_bytes(mixed, metadata={"format": "pt", "note": "fuzz"}),
            save_safetensors_bytes({"layer.0.weight": rt.ones(4, 4), "layer.0.bias":
                                    rt.zeros(4)}),
            save_safetensors_bytes({"x": rt.arange(6, dtype=rt.int8).reshape(2, 3)})]


def _npy(arr):
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def _npz(compressed, **arrays):
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


def _npy_bases():
    return [_npy(np.arange(12, dtype=np.float32).reshape(3, 4)),
            _npy(np.array([True, False, True])),
            _npy(np.asfortranarray(np.ones((2, 3), np.complex128))),
            _npy(np.arange(5, dtype=">i4"))]


def _npz_bases():
    arrays = dict(w=np.arange(20, dtype=np.float64).reshape(4, 5), m=np.array([1, 0], bool),
                  s=np.float16(3))
    return [_npz(False, **arrays), _npz(True, **arrays)]


# ---- mutations ---------------------------------------------------------------------------
def _flip(blob, rng, nbits, head=None):
    b = bytearray(blob)
    end = len(b) if head is None else min(len(b), head)
    for _ in range(nbits):
        i = rng.randrange(end)
        b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def _st_parts(blob):
    n = int.from_bytes(blob[:8], "little")
    return json.loads(blob[8:8 + n]), blob[8 + n:]


def _st_join(header, data):
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


def _tensor_names(header):
    return [k for k in header if k != "__metadata__"]


def _st_header_edits(blob, rng):
    """Header-level lies: huge shapes and offsets, overlaps, shifted and swapped offsets."""
    out = []
    for _ in range(12):
        header, data = _st_parts(blob)
        name = rng.choice(_tensor_names(header))
        entry = header[name]
        kind = rng.randrange(10)
        if kind == 0:
            entry["shape"] = [2 ** rng.randrange(20, 64)]
        elif kind == 1:
            entry["shape"] = [2 ** 31, 2 ** 31, rng.randrange(1, 5)]
        elif kind == 2:
            entry["data_offsets"][1] = 2 ** rng.randrange(30, 64)
        elif kind == 3:
            entry["data_offsets"] = [0, entry["data_offsets"][1] - entry["data_offsets"][0]]
        elif kind == 4:     # overlap the tensor with its neighbour
            entry["data_offsets"] = [max(0, entry["data_offsets"][0] - 2),
                                     entry["data_offsets"][1] - 2]
        elif kind == 5:
            other = header[rng.choice(_tensor_names(header))]
            entry["data_offsets"] = list(other["data_offsets"])
        elif kind == 6:
            entry["dtype"] = rng.choice(["F64", "U8", "BF16", "U16", "F8_E4M3", "F4", "C64",
                                         "X", "BOOL"])
        elif kind == 7:
            entry["shape"] = entry["shape"] + [rng.randrange(0, 3)]
        elif kind == 8:
            entry["data_offsets"] = [2 ** 63, 2 ** 63 + 8]
        else:
            header["__metadata__"] = rng.choice([{"k": 1}, [], "x", {"k": None}])
        out.append(_st_join(header, data))
    return out


def _st_cases():
    rng = random.Random(1234)
    cases = []
    for bi, base in enumerate(_st_bases()):
        n = int.from_bytes(base[:8], "little")
        for i in range(60):          # bit flips, mostly in the size and header
            head = 8 + n if i % 3 else None
            cases.append((f"st{bi}-flip{i}", _flip(base, rng, 1 + i % 4, head)))
        for cut in sorted(set(rng.sample(range(len(base)), 18) + [0, 1, 7, 8, 9, 8 + n - 1,
                                                                   8 + n, len(base) - 1])):
            cases.append((f"st{bi}-cut{cut}", base[:cut]))
        for size in (0, 1, 2, n - 1, n + 1, n + 8, len(base), 100_000_000, 100_000_001,
                     2 ** 32, 2 ** 63, 2 ** 64 - 1):
            if 0 <= size < 2 ** 64:
                cases.append((f"st{bi}-size{size}", struct.pack("<Q", size) + base[8:]))
        for j, blob in enumerate(_st_header_edits(base, rng)):
            cases.append((f"st{bi}-edit{j}", blob))
    return cases


def _npy_cases():
    rng = random.Random(99)
    cases = []
    for bi, base in enumerate(_npy_bases()):
        header_end = base.index(b"\n") + 1
        for i in range(24):
            head = header_end if i % 2 else None
            cases.append((f"npy{bi}-flip{i}", _flip(base, rng, 1 + i % 3, head)))
        for cut in sorted(set(rng.sample(range(len(base)), 8) + [0, 6, 8, 9, 10,
                                                                  header_end - 1])):
            cases.append((f"npy{bi}-cut{cut}", base[:cut]))
        header = base[10:header_end].decode("latin1")
        for j, shape in enumerate(["(1099511627776,)", "(4294967296, 4294967296)", "(-1,)",
                                   "(3, 4, 5, 6)", "()", "(2**62,)", "(0,)"]):
            text = header.replace(header[header.index("(")
                                         :header.index(")") + 1], shape, 1)
            text = text.rstrip("\n").ljust(len(header) - 1) + "\n"
            cases.append((f"npy{bi}-shape{j}", base[:8] + struct.pack("<H", len(text))
                          + text.encode("latin1") + base[header_end:]))
        for j, size in enumerate((0, 1, 65535, len(header) + 1, len(header) - 1)):
            cases.append((f"npy{bi}-hsize{j}", base[:8] + struct.pack("<H", size) + base[10:]))
    return cases


def _zip_size_lies(base, rng):
    """Central directory and local headers that declare huge sizes."""
    out = []
    b = bytes(base)
    cd = [i for i in range(len(b) - 4) if b[i:i + 4] == b"PK\x01\x02"]
    lh = [i for i in range(len(b) - 4) if b[i:i + 4] == b"PK\x03\x04"]
    for k in range(10):
        m = bytearray(b)
        value = rng.choice([0xFFFFFFFF, 0x7FFFFFFF, 0x10000000, 0, 1])
        if k % 2 and cd:
            i = rng.choice(cd)
            m[i + rng.choice((20, 24)):i + rng.choice((20, 24)) + 4] = struct.pack("<I", value)
        elif lh:
            i = rng.choice(lh)
            m[i + rng.choice((18, 22)):i + rng.choice((18, 22)) + 4] = struct.pack("<I", value)
        out.append(bytes(m))
    return out


def _npz_cases():
    rng = random.Random(7)
    cases = []
    for bi, base in enumerate(_npz_bases()):
        for i in range(50):
            cases.append((f"npz{bi}-flip{i}", _flip(base, rng, 1 + i % 4)))
        for cut in sorted(set(rng.sample(range(len(base)), 20) + [0, 4, 30, len(base) - 1,
                                                                   len(base) - 22])):
            cases.append((f"npz{bi}-cut{cut}", base[:cut]))
        for j, blob in enumerate(_zip_size_lies(base, rng)):
            cases.append((f"npz{bi}-zipsize{j}", blob))
    # members whose .npy headers declare sizes the archive cannot hold
    for j, (shape, compression) in enumerate([("(1099511627776,)", zipfile.ZIP_STORED),
                                              ("(1099511627776,)", zipfile.ZIP_DEFLATED),
                                              ("(100000000,)", zipfile.ZIP_DEFLATED),
                                              ("(100000000,)", zipfile.ZIP_BZIP2),
                                              ("(100000000,)", zipfile.ZIP_LZMA)]):
        header = ("{'descr': '<f8', 'fortran_order': False, 'shape': %s, }" % shape)
        h = header.encode("latin1")
        h += b" " * (-(len(h) + 11) % 64) + b"\n"
        member = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + b"\x00" * 64
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=compression) as zf:
            zf.writestr("big.npy", member)
        cases.append((f"npz-declared{j}", buf.getvalue()))
    return cases


ST_CASES = _st_cases()
NP_CASES = _npy_cases() + _npz_cases()


def test_there_are_enough_cases():
    assert len(ST_CASES) + len(NP_CASES) >= 500
    assert len({name for name, _ in ST_CASES + NP_CASES}) == len(ST_CASES) + len(NP_CASES)


def _run(calls, size):
    """Each call returns or raises FormatError; traced allocations stay small."""
    tracemalloc.start()
    try:
        for call in calls:
            try:
                call()
            except FormatError:
                pass
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # the JSON of a header and the copies of the data are a few times the file at most; a
    # decompressor's own state is fixed (LZMA: the 8 MiB dictionary of zipfile's preset)
    assert peak < 16 * size + (10 << 20), f"{peak} bytes traced for a {size}-byte file"


@pytest.mark.parametrize("blob", [b for _, b in ST_CASES], ids=[n for n, _ in ST_CASES])
def test_mutated_safetensors(tmp_path, blob):
    path = tmp_path / "m.safetensors"
    path.write_bytes(blob)
    _run([lambda: load_safetensors_bytes(blob), lambda: load_safetensors(path),
          lambda: load_safetensors(path, mmap=False), lambda: detect_format(path)], len(blob))


@pytest.mark.parametrize("blob", [b for _, b in NP_CASES], ids=[n for n, _ in NP_CASES])
def test_mutated_numpy(tmp_path, blob):
    path = tmp_path / "m.npy"
    path.write_bytes(blob)
    _run([lambda: load_numpy(path), lambda: detect_format(path)], len(blob))


def test_what_loads_after_mutation_is_consistent():
    # a flip in the data of a valid file loads, with the same names, dtypes and shapes
    base = _st_bases()[1]
    n = int.from_bytes(base[:8], "little")
    b = bytearray(base)
    b[8 + n + 3] ^= 0x40
    out, ref = load_safetensors_bytes(bytes(b)), load_safetensors_bytes(base)
    assert {k: (v.dtype, tuple(v.shape)) for k, v in out.items()} == {
        k: (v.dtype, tuple(v.shape)) for k, v in ref.items()}
