"""ONNX converters, one module per family; importing this package registers them all.
A new family is one module here and one name in _FAMILIES."""
import importlib

_FAMILIES = ["elementwise", "activation", "reduce", "misc", "nn", "shape"]

for _name in _FAMILIES:
    importlib.import_module(f"rt_import.onnx.ops.{_name}")
