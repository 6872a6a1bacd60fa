"""Normalization functions of ``torch.nn.functional``: ``batch_norm``, ``instance_norm``,
``layer_norm``, ``group_norm``, ``rms_norm``, ``local_response_norm``.

Forward and backward are rt_tensor kernels (``rt_tensor._nn_norm``: per channel / row
statistics in one read each for the mean and the variance, accumulated in double; fused
normalize + affine; PyTorch's native backward formulas). With ``create_graph=True`` the
backward is the same formula written in differentiable ops, so higher derivatives work.

Running statistics (batch norm, training): updated in place as PyTorch does,
``running = (1 - momentum) * running + momentum * batch_stat`` with the UNBIASED batch
variance; normalisation uses the biased one. float16/bfloat16 inputs compute in float32 and
round the result (parameters may be float32 or the input's dtype).
"""
import rt_autograd as rt
import rt_tensor as rtt
from rt_autograd._autograd import is_grad_enabled, needs_grad
from rt_autograd.autograd import Function
from rt_tensor import _nn_norm as _K

__all__ = ["batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm",
           "local_response_norm"]

_FLOATS = (rtt.float32, rtt.float64)
_HALFS = (rtt.float16, rtt.bfloat16)
_SHORT = {rtt.int64: "Long", rtt.int32: "Int", rtt.int16: "Short", rtt.int8: "Char",
          rtt.uint8: "Byte", rtt.bool: "Bool", rtt.complex64: "ComplexFloat",
          rtt.complex128: "ComplexDouble", rtt.float16: "Half", rtt.bfloat16: "BFloat16",
          rtt.float32: "Float", rtt.float64: "Double"}
_EPS = {rtt.float32: 1.1920928955078125e-07, rtt.float64: 2.220446049250313e-16,
        rtt.float16: 0.0009765625, rtt.bfloat16: 0.0078125}


# ---- dtype handling --------------------------------------------------------------------------

def _compute_dtype(input, kernel_name):
    dt = input.dtype
    if dt in _FLOATS:
        return dt
    if dt in _HALFS:
        return rtt.float32
    raise NotImplementedError(f'"{kernel_name}" not implemented for '
                              f"'{_SHORT.get(dt, str(dt))}'")


def _param(p, input, cdt):
    """A parameter in the compute dtype (a differentiable cast for half inputs)."""
    if p is None:
        return None
    if p.dtype != cdt:
        if input.dtype in _FLOATS or p.dtype not in _HALFS + _FLOATS:
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of "
                               f"{_SHORT.get(input.dtype)}")
        p = p.to(cdt)
    return p


def _short_shape(t):
    return list(t.shape)


# ---- batch norm ------------------------------------------------------------------------------

def _bn_shape(x):
    return (1, x.shape[1]) + (1,) * (x.dim() - 2)


def _bn_dims(x):
    return (0,) + tuple(range(2, x.dim()))


def _bn_backward_composite(x, w, g, mean, invstd, training, eps, needs):
    """batch_norm_backward in differentiable ops (create_graph=True)."""
    dims = _bn_dims(x)
    shape = _bn_shape(x)
    if training:
        mu = x.mean(dims, keepdim=True)
        xmu = x - mu
        rstd = ((xmu * xmu).mean(dims, keepdim=True) + eps).rsqrt()
    else:
        xmu = x - mean.reshape(shape)
        rstd = invstd.reshape(shape)
    xhat = xmu * rstd
    gx = gw = gb = None
    if needs[0]:
        gxh = g * w.reshape(shape) if w is not None else g
        if training:
            gx = rstd * (gxh - gxh.mean(dims, keepdim=True)
                         - xhat * (gxh * xhat).mean(dims, keepdim=True))
        else:
            gx = gxh * rstd
    if needs[1]:
        gw = (g * xhat).sum(dims)
    if needs[2]:
        gb = g.sum(dims)
    return gx, gw, gb


class _BatchNorm(Function):
    node_name = "NativeBatchNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        y, mean, invstd = _K.batch_norm_forward(
            x.contiguous(), _contig(weight), _contig(bias), running_mean, running_var,
            training, momentum, eps)
        ctx.save_for_backward(x, weight)
        ctx.stats = (mean, invstd)
        ctx.training = training
        ctx.eps = eps
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        mean, invstd = ctx.stats
        needs = ctx.needs_input_grad[:3]
        if is_grad_enabled():
            gx, gw, gb = _bn_backward_composite(x, w, g, mean, invstd, ctx.training, ctx.eps,
                                                needs)
        else:
            gx, gw, gb = _K.batch_norm_backward(g.contiguous(), x.contiguous(), mean, invstd,
                                                _contig(w), ctx.training, needs[0], needs[1],
                                                needs[2])
        return gx, gw, gb, None, None, None, None, None


def _contig(t):
    return None if t is None else t.contiguous()


def _verify_batch_size(size):
    size_prods = size[0]
    for i in range(len(size) - 2):
        size_prods *= size[i + 2]
    if size_prods == 1:
        raise ValueError("Expected more than 1 value per channel when training, got input size "
                         f"{size!r}")


def _check_channels(t, name, C):
    if t is not None and t.numel() != C:
        raise RuntimeError(f"{name} should contain {C} elements not {t.numel()}")


def _stat_buffer(t, cdt):
    """A running-statistics tensor the kernel can update in place, and the tensor to copy
    the result back into afterwards (None when the kernel writes ``t`` itself)."""
    if t is None:
        return None, None
    if t.dtype == cdt and t.is_contiguous():
        return t.detach() if isinstance(t, rt.Tensor) and t.requires_grad else t, None
    return rtt.Tensor.contiguous(rtt.Tensor.to(t.detach(), cdt)), t


def _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps):
    """torch.batch_norm (no _verify_batch_size)."""
    if input.dim() < 2:
        n = input.dim() if input.dim() > 0 else 1
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got 1)")
    cdt = _compute_dtype(input, "batch_norm")
    C = input.shape[1]
    _check_channels(weight, "weight", C)
    _check_channels(bias, "bias", C)
    _check_channels(running_mean, "running_mean", C)
    _check_channels(running_var, "running_var", C)
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError(f"running_{'mean' if running_mean is None else 'var'} must be "
                           "defined in evaluation mode")
    weight = _param(weight, input, cdt)
    bias = _param(bias, input, cdt)
    for t in (running_mean, running_var):
        if t is not None and t.dtype != cdt and input.dtype in _FLOATS:
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of "
                               f"{_SHORT.get(input.dtype)}")
    x = input if input.dtype == cdt else input.to(cdt)
    rm, rm_back = _stat_buffer(running_mean, cdt)
    rv, rv_back = _stat_buffer(running_var, cdt)
    momentum = float(momentum)
    eps = float(eps)
    if needs_grad(x, weight, bias):
        y = _BatchNorm.apply(x, weight, bias, rm, rv, bool(training), momentum, eps)
    else:
        y = _K.batch_norm_forward(x.contiguous(), _contig(weight), _contig(bias), rm, rv,
                                  bool(training), momentum, eps)[0]
    with rt.no_grad():
        if rm_back is not None:
            rm_back.copy_(rm)
        if rv_back is not None:
            rv_back.copy_(rv)
    return y if y.dtype == input.dtype else y.to(input.dtype)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalization over dim 1 of an (N, C, *) input (``torch.nn.functional.batch_norm``).

    training: normalise with the batch statistics (biased variance) and, when given, update
    ``running_mean``/``running_var`` in place with ``momentum`` (unbiased variance).
    Otherwise normalise with the running statistics.
    """
    if not isinstance(input, rtt.Tensor):
        raise TypeError(f"batch_norm(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if momentum is None:
        raise TypeError("batch_norm(): argument 'momentum' (position 7) must be float, not "
                        "NoneType")
    if training:
        if input.dim() < 2:
            n = input.dim() if input.dim() > 0 else 1
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, "
                             f"{n - 1}], but got 1)")
        _verify_batch_size(input.size())
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    elif eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


# ---- instance norm ---------------------------------------------------------------------------

def _verify_spatial_size(size):
    size_prods = 1
    for i in range(2, len(size)):
        size_prods *= size[i]
    if size_prods == 1:
        raise ValueError("Expected more than 1 spatial element when training, got input size "
                         f"{size!r}")


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Instance normalization: each (sample, channel) normalised over its spatial elements
    (``torch.nn.functional.instance_norm``). Running statistics, when given, are updated
    with the average over the batch of the per-instance statistics."""
    if not isinstance(input, rtt.Tensor):
        raise TypeError(f"instance_norm(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if use_input_stats:
        _verify_spatial_size(input.size())
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither "
                         "be None")
    if input.dim() < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-max(input.dim(), 1)}, {max(input.dim(), 1) - 1}], but got 1)")
    N, C = input.shape[0], input.shape[1]
    x = input.reshape((1, N * C) + tuple(input.shape[2:]))
    w = weight.repeat(N) if weight is not None else None
    b = bias.repeat(N) if bias is not None else None
    with rt.no_grad():
        rm = running_mean.repeat(N) if running_mean is not None else None
        rv = running_var.repeat(N) if running_var is not None else None
    out = _batch_norm(x, rm, rv, w, b, use_input_stats, momentum, eps)
    with rt.no_grad():
        if running_mean is not None:
            running_mean.copy_(rm.reshape(N, C).mean(0))
        if running_var is not None:
            running_var.copy_(rv.reshape(N, C).mean(0))
    return out.reshape(input.shape)


# ---- layer norm / rms norm -------------------------------------------------------------------

def _normalized_shape(normalized_shape):
    if isinstance(normalized_shape, int):
        return (normalized_shape,)
    return tuple(int(s) for s in normalized_shape)


def _check_normalized(input, ns, rms):
    k = len(ns)
    if k == 0:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = []")
    if input.dim() < k or tuple(input.shape[input.dim() - k:]) != ns:
        sep = "" if rms else ", "
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*{sep}{', '.join(str(s) for s in ns)}], but got input of size"
                           f"{list(input.shape)}")


def _check_affine(t, name, ns):
    if t is not None and tuple(t.shape) != ns:
        raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got "
                           f"{name} of shape {list(t.shape)} and normalized_shape = {list(ns)}")


def _ln_backward_composite(x, w, g, k, eps, needs, rms):
    dims = tuple(range(x.dim() - k, x.dim()))
    lead = tuple(range(x.dim() - k))
    if rms:
        xmu = x
        rstd = ((x * x).mean(dims, keepdim=True) + eps).rsqrt()
    else:
        xmu = x - x.mean(dims, keepdim=True)
        rstd = ((xmu * xmu).mean(dims, keepdim=True) + eps).rsqrt()
    xhat = xmu * rstd
    gx = gw = gb = None
    if needs[0]:
        gxh = g * w if w is not None else g
        if rms:
            gx = rstd * (gxh - xhat * (gxh * xhat).mean(dims, keepdim=True))
        else:
            gx = rstd * (gxh - gxh.mean(dims, keepdim=True)
                         - xhat * (gxh * xhat).mean(dims, keepdim=True))
    if needs[1]:
        gw = (g * xhat).sum(lead) if lead else g * xhat
    if len(needs) > 2 and needs[2]:
        gb = g.sum(lead) if lead else g
    return gx, gw, gb


class _LayerNorm(Function):
    node_name = "NativeLayerNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, k, D, eps):
        y, mean, rstd = _K.layer_norm_forward(x.contiguous(), D, _contig(weight), _contig(bias),
                                              eps)
        ctx.save_for_backward(x, weight)
        ctx.stats = (mean, rstd)
        ctx.k, ctx.D, ctx.eps = k, D, eps
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        mean, rstd = ctx.stats
        needs = ctx.needs_input_grad[:3]
        if is_grad_enabled():
            gx, gw, gb = _ln_backward_composite(x, w, g, ctx.k, ctx.eps, needs, False)
        else:
            gx, gw, gb = _K.layer_norm_backward(g.contiguous(), x.contiguous(), mean, rstd,
                                                _contig(w), ctx.D, needs[0], needs[1], needs[2])
            if gw is not None:
                gw = gw.reshape(w.shape)
            if gb is not None:
                gb = gb.reshape(w.shape if w is not None else x.shape[x.dim() - ctx.k:])
        return gx, gw, gb, None, None, None


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalization over the trailing ``normalized_shape`` dims
    (``torch.nn.functional.layer_norm``)."""
    if not isinstance(input, rtt.Tensor):
        raise TypeError(f"layer_norm(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    ns = _normalized_shape(normalized_shape)
    _check_normalized(input, ns, False)
    _check_affine(weight, "weight", ns)
    _check_affine(bias, "bias", ns)
    cdt = _compute_dtype(input, "LayerNormKernelImpl")
    weight = _param(weight, input, cdt)
    bias = _param(bias, input, cdt)
    x = input if input.dtype == cdt else input.to(cdt)
    D = 1
    for s in ns:
        D *= s
    if needs_grad(x, weight, bias):
        y = _LayerNorm.apply(x, weight, bias, len(ns), D, float(eps))
    else:
        y = _K.layer_norm_forward(x.contiguous(), D, _contig(weight), _contig(bias),
                                  float(eps))[0]
    return y if y.dtype == input.dtype else y.to(input.dtype)


class _RMSNorm(Function):
    node_name = "RmsNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, k, D, eps):
        y, rstd = _K.rms_norm_forward(x.contiguous(), D, _contig(weight), eps)
        ctx.save_for_backward(x, weight)
        ctx.rstd = rstd
        ctx.k, ctx.D, ctx.eps = k, D, eps
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        needs = ctx.needs_input_grad[:2]
        if is_grad_enabled():
            gx, gw, _ = _ln_backward_composite(x, w, g, ctx.k, ctx.eps, needs, True)
        else:
            gx, gw = _K.rms_norm_backward(g.contiguous(), x.contiguous(), ctx.rstd, _contig(w),
                                          ctx.D, needs[0], needs[1])
            if gw is not None:
                gw = gw.reshape(w.shape)
        return gx, gw, None, None, None


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Root-mean-square normalization over the trailing ``normalized_shape`` dims:
    ``x / sqrt(mean(x^2) + eps) * weight``; ``eps=None`` is the input dtype's machine
    epsilon (``torch.nn.functional.rms_norm``)."""
    if not isinstance(input, rtt.Tensor):
        raise TypeError(f"rms_norm(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    ns = _normalized_shape(normalized_shape)
    _check_normalized(input, ns, True)
    _check_affine(weight, "weight", ns)
    cdt = _compute_dtype(input, "rms_norm")
    if eps is None:
        eps = _EPS[input.dtype]
    weight = _param(weight, input, cdt)
    x = input if input.dtype == cdt else input.to(cdt)
    D = 1
    for s in ns:
        D *= s
    if needs_grad(x, weight):
        y = _RMSNorm.apply(x, weight, len(ns), D, float(eps))
    else:
        y = _K.rms_norm_forward(x.contiguous(), D, _contig(weight), float(eps))[0]
    return y if y.dtype == input.dtype else y.to(input.dtype)


# ---- group norm ------------------------------------------------------------------------------

def _gn_backward_composite(x, w, g, G, eps, needs):
    N = x.shape[0]
    shape = _bn_shape(x)
    xg = x.reshape(N, G, -1)
    xmu = xg - xg.mean(2, keepdim=True)
    rstd = ((xmu * xmu).mean(2, keepdim=True) + eps).rsqrt()
    xhat_g = xmu * rstd
    xhat = xhat_g.reshape(x.shape)
    dims = _bn_dims(x)
    gx = gw = gb = None
    if needs[0]:
        gxh = (g * w.reshape(shape) if w is not None else g).reshape(N, G, -1)
        gx = (rstd * (gxh - gxh.mean(2, keepdim=True)
                      - xhat_g * (gxh * xhat_g).mean(2, keepdim=True))).reshape(x.shape)
    if needs[1]:
        gw = (g * xhat).sum(dims)
    if needs[2]:
        gb = g.sum(dims)
    return gx, gw, gb


class _GroupNorm(Function):
    node_name = "NativeGroupNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, G, eps):
        y, mean, rstd = _K.group_norm_forward(x.contiguous(), G, _contig(weight), _contig(bias),
                                              eps)
        ctx.save_for_backward(x, weight)
        ctx.stats = (mean, rstd)
        ctx.G, ctx.eps = G, eps
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        mean, rstd = ctx.stats
        needs = ctx.needs_input_grad[:3]
        if is_grad_enabled():
            gx, gw, gb = _gn_backward_composite(x, w, g, ctx.G, ctx.eps, needs)
        else:
            gx, gw, gb = _K.group_norm_backward(g.contiguous(), x.contiguous(), mean, rstd,
                                                _contig(w), ctx.G, needs[0], needs[1], needs[2])
        return gx, gw, gb, None, None


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalization: the channels (dim 1) split into ``num_groups`` groups, each
    (sample, group) normalised over its channels and spatial elements, then a per-channel
    affine (``torch.nn.functional.group_norm``)."""
    if not isinstance(input, rtt.Tensor):
        raise TypeError(f"group_norm(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.dim()}")
    shape = list(input.shape)
    _verify_batch_size([shape[0] * shape[1] // num_groups, num_groups] + shape[2:])
    C = shape[1]
    if C % num_groups != 0:
        raise RuntimeError("Expected number of channels in input to be divisible by num_groups, "
                           f"but got input of shape {shape} and num_groups={num_groups}")
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None and (t.dim() != 1 or t.numel() != C):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape {list(t.shape)} "
                               f"and input of shape {shape}")
    cdt = _compute_dtype(input, "group_norm")
    weight = _param(weight, input, cdt)
    bias = _param(bias, input, cdt)
    x = input if input.dtype == cdt else input.to(cdt)
    if needs_grad(x, weight, bias):
        y = _GroupNorm.apply(x, weight, bias, int(num_groups), float(eps))
    else:
        y = _K.group_norm_forward(x.contiguous(), int(num_groups), _contig(weight),
                                  _contig(bias), float(eps))[0]
    return y if y.dtype == input.dtype else y.to(input.dtype)


# ---- local response norm ---------------------------------------------------------------------

def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalization across channels (dim 1):
    ``x / (k + alpha / size * sum of x^2 over a window of size channels) ** beta``, the window
    padded with zeros (``size // 2`` before, ``(size - 1) // 2`` after), as PyTorch."""
    if not isinstance(input, rtt.Tensor):
        raise TypeError(f"local_response_norm(): argument 'input' (position 1) must be Tensor, "
                        f"not {type(input).__name__}")
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    from rt_autograd._ops.pad import pad
    C = input.shape[1]
    sq = (input * input).reshape(input.shape[0], C, -1)
    padded = pad(sq, (0, 0, size // 2, (size - 1) // 2), "constant", 0.0)
    win = padded.narrow(1, 0, C)
    for j in range(1, size):
        win = win + padded.narrow(1, j, C)
    div = (win * (alpha / size) + k).pow(beta).reshape(input.shape)
    return input / div
