"""``torch.utils.data`` for rt (being written)."""
__all__ = []
