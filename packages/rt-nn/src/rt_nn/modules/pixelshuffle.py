"""``PixelShuffle`` and ``PixelUnshuffle`` (``torch.nn.modules.pixelshuffle``)."""
from rt_nn._functional.vision import pixel_shuffle, pixel_unshuffle
from rt_nn.modules.module import Module

__all__ = ["PixelShuffle", "PixelUnshuffle"]


def _check_factor(cls, name, value):
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{cls}: {name} must be an int, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{cls}: {name} must be positive, got {name}={value}")


class PixelShuffle(Module):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r), r = ``upscale_factor``."""

    def __init__(self, upscale_factor):
        super().__init__()
        _check_factor("PixelShuffle", "upscale_factor", upscale_factor)
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W), r = ``downscale_factor``."""

    def __init__(self, downscale_factor):
        super().__init__()
        _check_factor("PixelUnshuffle", "downscale_factor", downscale_factor)
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"
