"""Vision family of ``torch.nn.functional``: ``interpolate`` (modes 'nearest', 'nearest-exact',
'linear', 'bilinear', 'area'), the deprecated ``upsample``/``upsample_nearest``/
``upsample_bilinear``, ``pixel_shuffle`` and ``pixel_unshuffle``.

Nearest and (bi)linear resampling run rt_tensor._nn_pool's kernels with PyTorch's source-index
formulas (``floor(dst * scale)`` for 'nearest', pixel centres or ``align_corners`` for linear,
the user's scale factor used as is unless ``recompute_scale_factor``), so outputs are
PyTorch's. Both maps are linear: the backward is the adjoint kernel, and its backward the
forward kernel (double backward). 'area' is adaptive average pooling, as in PyTorch.
"""
import warnings

import rt_tensor as rtt
from rt_nn._functional.pooling import (_PlaneMap, _apply_linear, _float_kernel_input,
                                       _linear_pair, _sizes, adaptive_avg_pool1d,
                                       adaptive_avg_pool2d)
from rt_tensor import _nn_pool as _k

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle",
           "pixel_unshuffle"]

_MODES = ("nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact")

_Nearest1d, _Nearest1dAdjoint = _linear_pair("UpsampleNearest1DBackward0",
                                             "UpsampleNearest1DBackwardBackward0")
_Nearest2d, _Nearest2dAdjoint = _linear_pair("UpsampleNearest2DBackward0",
                                             "UpsampleNearest2DBackwardBackward0")
_NearestExact1d, _NearestExact1dAdjoint = _linear_pair(
    "UpsampleNearestExact1DBackward0", "UpsampleNearestExact1DBackwardBackward0")
_NearestExact2d, _NearestExact2dAdjoint = _linear_pair(
    "UpsampleNearestExact2DBackward0", "UpsampleNearestExact2DBackwardBackward0")
_Linear1d, _Linear1dAdjoint = _linear_pair("UpsampleLinear1DBackward0",
                                           "UpsampleLinear1DBackwardBackward0")
_Bilinear2d, _Bilinear2dAdjoint = _linear_pair("UpsampleBilinear2DBackward0",
                                               "UpsampleBilinear2DBackwardBackward0")


def _is_integer(x):
    return hasattr(x, "__index__")


def _check_sizes(one_d, in_hw, out_hw, shape):
    """upsample_{1,2}d_common_check and the non-empty check (UpSample.cpp)."""
    (h, w), (oh, ow) = in_hw, out_hw
    if one_d:
        if not (w > 0 and ow > 0):
            raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                               f"(W: {w}) and output (W: {ow})")
    elif not (h > 0 and w > 0 and oh > 0 and ow > 0):
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"(H: {h}, W: {w}) output (H: {oh}, W: {ow})")
    rest = 1
    for s in shape[1:]:
        rest *= s
    if rest == 0:
        raise RuntimeError(f"Non-empty {len(shape)}D data tensor expected but got a tensor with "
                           f"sizes {_sizes(shape)}")


def _resample(input, mode, out_size, scales, align_corners):
    """Run the nearest / linear kernels on a 3-d (linear in W) or 4-d input."""
    shape = tuple(input.shape)
    one_d = len(shape) == 3
    in_hw = (1, shape[-1]) if one_d else (shape[-2], shape[-1])
    out_hw = (1, out_size[0]) if one_d else (out_size[0], out_size[1])
    _check_sizes(one_d, in_hw, out_hw, shape)
    sc = [-1.0 if s is None else float(s) for s in (scales or [None] * len(out_size))]
    sh, sw = (-1.0, sc[0]) if one_d else (sc[0], sc[1])
    oh, ow = out_hw
    nearest = mode in ("nearest", "nearest-exact")
    x, back = _float_kernel_input(input)
    if x is None:
        if not (nearest and input.dtype == rtt.uint8):
            name = (f"upsample_{mode.replace('-', '_')}{'1' if one_d else '2'}d")
            raise NotImplementedError(f"\"{name}\" not implemented for "
                                      f"'{input.dtype.scalar_name}'")
        x = rtt.Tensor.to(input, rtt.float32)       # exact: nearest only copies values
    if nearest:
        exact = mode == "nearest-exact"

        def fwd(planes):
            return _k.upsample_nearest2d(planes, oh, ow, sh, sw, exact)

        def adj(g, h, w):
            return _k.upsample_nearest2d_backward(g, h, w, sh, sw, exact)

        if exact:
            cls = _NearestExact1d if one_d else _NearestExact2d
        else:
            cls = _Nearest1d if one_d else _Nearest2d
    else:
        ac = bool(align_corners)

        def fwd(planes):
            return _k.upsample_bilinear2d(planes, oh, ow, ac, sh, sw)

        def adj(g, h, w):
            return _k.upsample_bilinear2d_backward(g, h, w, ac, sh, sw)

        cls = _Linear1d if one_d else _Bilinear2d
    y = _apply_linear(cls, x, _PlaneMap(fwd, adj, in_hw, out_hw, one_d))
    return rtt.Tensor.to(y, back) if back is not None else y


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """``torch.nn.functional.interpolate`` for 3-d (N, C, L) and 4-d (N, C, H, W) inputs, modes
    'nearest', 'nearest-exact', 'linear' (3-d), 'bilinear' (4-d) and 'area'. ``size`` or
    ``scale_factor`` (the output size is floor(in * scale); the scale itself is used for the
    source indices unless ``recompute_scale_factor``)."""
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dim = input.dim() - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    elif size is not None:
        scale_factors = None
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {list(input.shape[2:])} and output size of "
                    f"{size}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                    "output size in (o1, o2, ...,oK) format.")
            if not all(_is_integer(x) for x in size):
                raise TypeError(
                    "expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                    f"Tuple[int, int, int], but got size with types {[type(x) for x in size]}")
            output_size = [int(s) for s in size]
        else:
            output_size = [int(size) for _ in range(dim)]
    elif scale_factor is not None:
        output_size = None
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    "Input and scale_factor must have the same number of spatial dimensions, but "
                    f"got input with spatial dimensions of {list(input.shape[2:])} and "
                    f"scale_factor of shape {scale_factor}. Please provide input tensor in (N, C, "
                    "d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format.")
            scale_factors = [float(s) for s in scale_factor]
        else:
            scale_factors = [float(scale_factor) for _ in range(dim)]
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor is not None and recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and output_size is None:
        recompute_scale_factor = True
    if scale_factors is not None:
        # int(in * scale) truncates, as PyTorch's compute_output_size and _sym_int
        output_size = [int(input.shape[i + 2] * scale_factors[i]) for i in range(dim)]
        if recompute_scale_factor:
            scale_factors = None
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.dim() == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes "
                         "and requires a 4-D tensor as input")
    nd = input.dim()
    if mode in ("nearest", "nearest-exact") and nd in (3, 4):
        return _resample(input, mode, output_size, scale_factors, None)
    if mode == "area" and nd == 3:
        return adaptive_avg_pool1d(input, output_size)
    if mode == "area" and nd == 4:
        return adaptive_avg_pool2d(input, output_size)
    if mode == "linear" and nd == 3:
        return _resample(input, mode, output_size, scale_factors, align_corners)
    if mode == "bilinear" and nd == 4:
        if antialias:
            raise NotImplementedError("interpolate: antialias=True is not implemented in rt")
        return _resample(input, mode, output_size, scale_factors, align_corners)
    if (nd == 5 and mode in ("nearest", "nearest-exact", "area", "trilinear")) or \
            (nd == 4 and mode in ("bicubic", "lanczos")):
        # PyTorch has these; rt does not (yet)
        raise NotImplementedError(f"interpolate: mode '{mode}' on a {nd}D input is not "
                                  f"implemented in rt")
    if nd == 3 and mode == "bilinear":
        raise NotImplementedError("Got 3D input, but bilinear mode needs 4D input")
    if nd == 3 and mode == "trilinear":
        raise NotImplementedError("Got 3D input, but trilinear mode needs 5D input")
    if nd == 4 and mode == "linear":
        raise NotImplementedError("Got 4D input, but linear mode needs 3D input")
    if nd == 4 and mode == "trilinear":
        raise NotImplementedError("Got 4D input, but trilinear mode needs 5D input")
    if nd == 5 and mode == "linear":
        raise NotImplementedError("Got 5D input, but linear mode needs 3D input")
    if nd == 5 and mode == "bilinear":
        raise NotImplementedError("Got 5D input, but bilinear mode needs 4D input")
    raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                              f"{nd}D) for the modes: {_MODES} (got {mode})")


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate`` (warns, as PyTorch)."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='nearest')`` (warns, as PyTorch)."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)`` (warns)."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---- pixel shuffle ------------------------------------------------------------------------------

def pixel_shuffle(input, upscale_factor):
    """``torch.nn.functional.pixel_shuffle``: (*, C*r*r, H, W) -> (*, C, H*r, W*r)."""
    r = int(upscale_factor)
    if input.dim() < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {input.dim()} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    shape = tuple(input.shape)
    c, h, w = shape[-3:]
    if c % (r * r) != 0:
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be divisible "
                           f"by the square of upscale_factor, but input.size(-3)={c} is not "
                           f"divisible by {r * r}")
    lead = shape[:-3]
    n = len(lead)
    oc = c // (r * r)
    x = input.reshape(lead + (oc, r, r, h, w))
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(lead + (oc, h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """``torch.nn.functional.pixel_unshuffle``: (*, C, H*r, W*r) -> (*, C*r*r, H, W)."""
    r = int(downscale_factor)
    if input.dim() < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got "
                           f"input with {input.dim()} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    shape = tuple(input.shape)
    c, h, w = shape[-3:]
    if h % r != 0:
        raise RuntimeError("pixel_unshuffle expects height to be divisible by downscale_factor, "
                           f"but input.size(-2)={h} is not divisible by {r}")
    if w % r != 0:
        raise RuntimeError("pixel_unshuffle expects width to be divisible by downscale_factor, "
                           f"but input.size(-1)={w} is not divisible by {r}")
    lead = shape[:-3]
    n = len(lead)
    oh, ow = h // r, w // r
    x = input.reshape(lead + (c, oh, r, ow, r))
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(lead + (c * r * r, oh, ow))
