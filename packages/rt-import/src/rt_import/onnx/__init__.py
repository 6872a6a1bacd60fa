"""ONNX in and out of rt: ``load_onnx`` (a trainable ``rt_nn.Module`` running the graph with
rt ops), the converter registry, and the ``onnx.backend`` interface used by the conformance
tests."""
from rt_import.onnx import ops  # noqa: F401  (registers every converter)
from rt_import.onnx.backend import RtBackend
from rt_import.onnx.graph import OnnxModule, load_onnx
from rt_import.onnx.registry import converter, lookup, registered

__all__ = ["OnnxModule", "load_onnx", "converter", "lookup", "registered", "RtBackend"]
