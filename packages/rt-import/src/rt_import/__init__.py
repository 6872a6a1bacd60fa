"""rt_import: PyTorch checkpoints, safetensors and ONNX in and out of rt, safely.

Nothing it reads can run code (checkpoints go through an allow-list unpickler), and nothing
it writes is half-written (temporary file, then rename).
"""
from rt_import.errors import FormatError, UnsafeCheckpointError, UnsupportedOperatorError
from rt_import.checkpoint import load, save
from rt_import.onnx import OnnxModule, load_onnx
from rt_import.onnx.export import OnnxExportError, export_onnx
from rt_import.safetensors_format import (load_safetensors, load_safetensors_bytes,
                                          load_safetensors_metadata, save_safetensors,
                                          save_safetensors_bytes)
from rt_import.formats import FORMATS, detect_format, formats_markdown, load_numpy
from rt_import.pretrained import (PRETRAINED, load_pretrained, pretrained_path,
                                  register_pretrained)

__version__ = "0.1.0"

__all__ = ["FormatError", "UnsafeCheckpointError", "UnsupportedOperatorError", "OnnxModule",
           "load_onnx", "load", "save",
           "load_safetensors", "save_safetensors", "load_safetensors_bytes",
           "save_safetensors_bytes", "load_safetensors_metadata", "detect_format",
           "load_numpy", "FORMATS", "formats_markdown", "PRETRAINED", "register_pretrained",
           "load_pretrained", "pretrained_path", "export_onnx", "OnnxExportError"]
