"""rt_import: PyTorch checkpoints, safetensors and ONNX in and out of rt, safely.

Nothing it reads can run code (checkpoints go through an allow-list unpickler), and nothing
it writes is half-written (temporary file, then rename).
"""
from rt_import.errors import FormatError, UnsafeCheckpointError, UnsupportedOperatorError
from rt_import.onnx import OnnxModule, load_onnx

__version__ = "0.1.0"

__all__ = ["FormatError", "UnsafeCheckpointError", "UnsupportedOperatorError", "OnnxModule",
           "load_onnx"]
