"""Kernels for rt_nn's softmax family and cross-entropy (private; rt_nn.functional is the API).

Inputs are float32 or float64; the loss kernels take ``x`` as [N, C, *rest] and int64 class
indices ``target`` as [N, *rest]; ``reduction`` is 0 none, 1 mean, 2 sum. Every result is a
new contiguous tensor."""
from rt_tensor import Tensor

def softmax_forward(x: Tensor, dim: int, log: bool = ...) -> Tensor:
    """Softmax (or log-softmax with ``log=True``) over ``dim`` (0 <= dim < max(ndim, 1)),
    numerically stable (the maximum is subtracted), threaded over rows or column blocks."""

def softmax_backward(grad: Tensor, y: Tensor, dim: int, log: bool = ...) -> Tensor:
    """Gradient from the forward result ``y``: ``y * (grad - sum(grad * y))`` for softmax,
    ``grad - exp(y) * sum(grad)`` for log-softmax."""

def cross_entropy_forward(x: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int,
                          label_smoothing: float, reduction: int) -> tuple[Tensor, Tensor, float]:
    """Log-softmax over dim 1 and the negative log-likelihood of ``target`` in one pass, with
    class ``weight``, ``ignore_index`` and ``label_smoothing`` (PyTorch's formulas).
    Returns ``(loss, stats, total_weight)``: the loss (target's shape for reduction 0, else
    0-d), ``stats`` [2, *target.shape] (each sample's row maximum and the log of the sum of
    the shifted exponentials, kept for the backward) and the weight a 'mean' divides by.
    Raises IndexError("Target k is out of bounds.") for a class outside [0, C)."""

def cross_entropy_backward(grad: Tensor, x: Tensor, target: Tensor, weight: Tensor | None,
                           stats: Tensor, ignore_index: int, label_smoothing: float,
                           reduction: int, total_weight: float) -> Tensor:
    """The gradient of ``cross_entropy_forward`` with respect to ``x`` (``grad``: the target's
    shape for reduction 0, one element otherwise)."""

def nll_loss_forward(x: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int,
                     reduction: int) -> tuple[Tensor, float]:
    """PyTorch's nll_loss over dim 1 of log-probabilities: ``(loss, total_weight)``."""

def nll_loss_backward(grad: Tensor, x: Tensor, target: Tensor, weight: Tensor | None,
                      ignore_index: int, reduction: int, total_weight: float) -> Tensor:
    """The gradient of ``nll_loss_forward`` with respect to ``x`` (x gives shape and dtype)."""
