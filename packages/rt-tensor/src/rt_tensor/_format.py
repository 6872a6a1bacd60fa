"""PyTorch-like repr of tensors (placeholder: filled in by its owner)."""
import numpy as np

__all__ = []
TENSOR_METHODS = {}


def tensor_repr(t):
    data = t.float().numpy() if t.dtype.name == "bfloat16" else t.numpy()
    return f"tensor({np.array2string(data, separator=', ')}, dtype={t.dtype!r})"
