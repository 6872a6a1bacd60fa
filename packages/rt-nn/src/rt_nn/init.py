"""``torch.nn.init``: parameter initialisation (being written)."""
__all__ = []
