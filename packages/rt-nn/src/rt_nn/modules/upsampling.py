"""Upsampling layers (``torch.nn.modules.upsampling``): ``Upsample``, ``UpsamplingNearest2d``,
``UpsamplingBilinear2d``; the math is ``rt_nn.functional.interpolate``."""
from rt_nn._functional.vision import interpolate
from rt_nn.modules.module import Module

__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]

_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area",
          "lanczos")


class Upsample(Module):
    """Resample (N, C, L) or (N, C, H, W) inputs to ``size`` or by ``scale_factor`` with
    ``mode`` 'nearest', 'nearest-exact', 'linear', 'bilinear' or 'area'.

    >>> import rt_autograd as rt
    >>> Upsample(scale_factor=2)(rt.tensor([[[1., 2.]]])).tolist()
    [[[1.0, 1.0, 2.0, 2.0]]]
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        if mode not in _MODES:
            raise ValueError(f"Upsample: mode must be one of {', '.join(_MODES)}, got {mode!r}")
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        if self.scale_factor is not None:
            info = "scale_factor=" + repr(self.scale_factor)
        else:
            info = "size=" + repr(self.size)
        info += ", mode=" + repr(self.mode)
        return info


class UpsamplingNearest2d(Upsample):
    """Nearest upsampling of (N, C, H, W) (deprecated in PyTorch in favour of Upsample)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear upsampling with align_corners=True (deprecated in PyTorch)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
