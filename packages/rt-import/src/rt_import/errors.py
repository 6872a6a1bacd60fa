"""The errors rt-import raises for files it will not or cannot read."""
import pickle

__all__ = ["FormatError", "UnsafeCheckpointError", "UnsupportedOperatorError"]


class FormatError(ValueError):
    """A file that is truncated, corrupted or not of the format it claims to be; the message
    says what is wrong and where. Raised before anything is built from the file."""


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint whose pickle asks for a global outside the allow-list (PyTorch's
    ``weights_only=True`` idea). The message names the global; nothing of the file ran."""


class UnsupportedOperatorError(RuntimeError):
    """An ONNX model uses operators (or operator versions) rt has no converter for.

    ``operators`` lists every ``(domain, op_type, opset)`` missing, all at once, so one error
    says everything the model needs."""

    def __init__(self, operators):
        self.operators = sorted(set(operators))
        names = ", ".join(f"{(d + '.') if d else ''}{op} (opset {v})"
                          for d, op, v in self.operators)
        super().__init__(f"the ONNX model uses {len(self.operators)} unsupported operator"
                         f"{'s' if len(self.operators) != 1 else ''}: {names}")
