"""The public API is explicit and locked: rt_import.__all__ equals the list next to this
file, every name the issue asks for exists, and the imports only go down (DESIGN.md)."""
import pathlib
import re

import rt_import

HERE = pathlib.Path(__file__).parent

ISSUE_NAMES = """load save load_safetensors save_safetensors load_safetensors_bytes
save_safetensors_bytes load_onnx export_onnx detect_format load_pretrained FormatError
UnsafeCheckpointError UnsupportedOperatorError""".split()


def test_all_matches_the_locked_file():
    assert len(rt_import.__all__) == len(set(rt_import.__all__))
    assert sorted(rt_import.__all__) == sorted((HERE / "public_api.txt").read_text().split())
    assert not [n for n in rt_import.__all__ if not hasattr(rt_import, n)]
    assert not [n for n in ISSUE_NAMES if n not in rt_import.__all__]


def test_errors_have_the_promised_types():
    import pickle
    assert issubclass(rt_import.UnsafeCheckpointError, pickle.UnpicklingError)
    assert issubclass(rt_import.FormatError, ValueError)


def test_rt_import_never_imports_torch():
    src = pathlib.Path(rt_import.__file__).parent
    imports = re.compile(r"^\s*(import|from)\s+torch\b", re.M)
    assert not [p.name for p in src.rglob("*.py") if imports.search(p.read_text())]
