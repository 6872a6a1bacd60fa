"""DLPack interop: zero-copy export (``Tensor.__dlpack__``) and import (``from_dlpack``)."""
from typing import Any, Optional, Tuple

from rt_tensor._tensor import Tensor


def to_dlpack(t: Tensor, *, stream: Any = None, max_version: Optional[Tuple[int, int]] = None,
              dl_device: Optional[Tuple[int, int]] = None, copy: Optional[bool] = None) -> Any:
    """A PyCapsule sharing t's memory: "dltensor_versioned" (DLManagedTensorVersioned) when
    ``max_version >= (1, 0)``, else "dltensor" (DLManagedTensor). The tensor stays alive
    until the consumer calls the deleter (or the unconsumed capsule dies)."""
def to_dlpack_capsule(t: Tensor) -> Any:
    """The legacy ``torch.utils.dlpack.to_dlpack``: a "dltensor" capsule."""
def from_dlpack(ext_tensor: Any) -> Tensor:
    """A tensor sharing memory with an object that has ``__dlpack__`` (numpy, PyTorch, ...)
    or with a DLPack capsule; CPU only. Read-only producers give a UserWarning."""
