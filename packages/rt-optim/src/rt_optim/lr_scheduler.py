"""Learning-rate schedulers, as ``torch.optim.lr_scheduler`` (PyTorch 2.x)."""

__all__ = []
