"""Loss functions of ``torch.nn.functional`` with PyTorch's formulas, reductions, argument
checks and messages.

- ``cross_entropy`` with class indices and ``nll_loss`` run on fused kernels
  (``rt_tensor._nn_softmax``: log-softmax + NLL in one pass with ``weight``, ``ignore_index``
  and ``label_smoothing``); with ``create_graph=True`` their backward is written in
  differentiable ops. Class probabilities are a composite of ``log_softmax``.
- ``mse_loss``, ``binary_cross_entropy`` and ``binary_cross_entropy_with_logits`` are one graph
  node each with PyTorch's backward formulas (BCE: logs clamped at -100, the gradient's
  denominator clamped at 1e-12; BCE-with-logits: ``sigmoid(x) - target``, exact at x = 0).
- The others are composites of differentiable rt ops, as they are in ATen.

``size_average``/``reduce`` (legacy) are accepted and mapped to ``reduction`` with PyTorch's
deprecation warning.
"""
import math
import warnings

import numpy as np

import rt_autograd as rt
import rt_tensor as rtt
from rt_autograd._autograd import is_grad_enabled, needs_grad
from rt_autograd.autograd import Function
from rt_tensor import _nn_softmax as _K

from rt_nn._functional.distance import pairwise_distance
from rt_nn._functional.softmax import _Softmax, _wrap_dim, log_softmax

__all__ = ["cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
           "cosine_embedding_loss", "margin_ranking_loss", "triplet_margin_loss",
           "poisson_nll_loss", "gaussian_nll_loss", "hinge_embedding_loss", "soft_margin_loss",
           "multilabel_soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
           "triplet_margin_with_distance_loss"]

_FLOATS = (rtt.float32, rtt.float64)
_HALFS = (rtt.float16, rtt.bfloat16)
_EPSILON = float(np.float32(1e-12))     # ATen's `constexpr float EPSILON = 1e-12`


# ---- reductions (torch/nn/_reduction.py) -----------------------------------------------------

def _get_enum(reduction):
    if reduction == "none":
        return 0
    if reduction == "mean":
        return 1
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. "
                      "Please use reduction='mean' instead.", stacklevel=3)
        return 1
    if reduction == "sum":
        return 2
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _legacy_get_string(size_average, reduce, emit_warning=True):
    if size_average is None:
        size_average = True
    if reduce is None:
        reduce = True
    if size_average and reduce:
        ret = "mean"
    elif reduce:
        ret = "sum"
    else:
        ret = "none"
    if emit_warning:
        warnings.warn("size_average and reduce args will be deprecated, please use "
                      f"reduction='{ret}' instead.", stacklevel=3)
    return ret


def _enum(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        reduction = _legacy_get_string(size_average, reduce)
    return _get_enum(reduction)


def _apply_reduction(loss, red):
    if red == 1:
        return loss.mean()
    if red == 2:
        return loss.sum()
    return loss


def _size_warning(input, target):
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.size()}) that is different to the input "
                      f"size ({input.size()}). This will likely lead to incorrect results due "
                      "to broadcasting. Please ensure they have the same size.", stacklevel=3)


def _shape_list(t):
    return list(t.shape)


def _dtype_name(d):
    return d.scalar_name


def _is_float(d):
    return d.is_floating_point


# ---- nll_loss / cross_entropy: checks (ATen's nll_loss_nd, nll_loss, nll_loss2d) ---------------

def _check_target_dtype(target):
    if target.dtype not in (rtt.int64, rtt.uint8):
        raise RuntimeError("expected target dtype to be Long or Byte, but got "
                           f"{_dtype_name(target.dtype)}")


def _nll_checks(input, target, weight):
    """PyTorch's checks of nll_loss_nd and the 1-2d / 2d kernels, in PyTorch's order."""
    nd = input.dim()
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    if nd != 1:
        tb = target.shape[0] if target.dim() > 0 else 0
        if input.shape[0] != tb:
            raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                             f"batch_size ({tb}).")
    if nd <= 2:
        if target.dim() > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if nd == 1 and target.dim() == 1 and target.shape[0] != 1:
            raise ValueError("For 1D input, 1D target must have size 1, but got target size: "
                             f"{target.shape[0]}")
        c = input.shape[-1]
        if weight is not None and (weight.dim() != 1 or weight.numel() != c):
            raise RuntimeError(f"weight tensor should be defined either for all {c} classes or "
                               f"no classes but got weight tensor of shape: {_shape_list(weight)}")
        _check_target_dtype(target)
        return
    if nd == 4:
        if target.dim() != 3:
            raise RuntimeError("only batches of spatial targets supported (3D tensors) but got "
                               f"targets of dimension: {target.dim()}")
    elif list(target.shape[1:]) != list(input.shape[2:]):
        raise RuntimeError(f"Expected target size {[input.shape[0]] + list(input.shape[2:])}, "
                           f"got {_shape_list(target)}")
    if weight is not None and weight.numel() != input.shape[1]:
        raise RuntimeError("weight tensor should be defined either for all or no classes")
    if nd == 4 and (input.shape[0] != target.shape[0] or input.shape[2] != target.shape[1]
                    or input.shape[3] != target.shape[2]):
        raise RuntimeError(f"size mismatch (got input: {_shape_list(input)} , target: "
                           f"{_shape_list(target)}")
    _check_target_dtype(target)


def _class_weight(weight, dtype):
    if weight is None:
        return None
    w = weight.detach() if needs_grad(weight) else weight
    if w.dtype != dtype:
        w = w.to(dtype)
    return w.reshape(-1)


# ---- fused kernels as graph nodes ---------------------------------------------------------------

def _as_batched(x, target):
    """[C] with a 0-d (or [1]) target -> [1, C] and [1]."""
    if x.dim() == 1:
        return x.reshape(1, x.shape[0]), target.reshape(1)
    return x, target


def _onehot_coefs(x2, t2, w, ignore_index, k1, k2):
    """Constants of the create_graph backward: the per-sample factor A (shape [N, 1, ...]) and
    the matrix B (x2's shape) of ``d loss_n / d x = p * A - B`` (p = softmax(x, 1); ignored
    samples have A = B = 0)."""
    valid = rtt.ne(t2, ignore_index)
    tc = rtt.where(valid, t2, 0)
    c = x2.shape[1]
    dt = x2.dtype
    fvalid = valid.to(dt)
    if w is None:
        wt = fvalid
        wsum = float(c)
        wview = None
    else:
        wt = rtt.index_select(w, 0, tc.reshape(-1)).reshape(tc.shape) * fvalid
        wsum = float(rtt.sum(w.to(rtt.float64)))
        wview = w.reshape([1, c] + [1] * (x2.dim() - 2))
    onehot = rtt.zeros(tuple(x2.shape), dtype=dt).scatter(1, tc.unsqueeze(1), 1.0)
    a = (wt * k1 + fvalid * (k2 * wsum)).unsqueeze(1)
    b = onehot * (wt * k1).unsqueeze(1)
    if k2 != 0:
        b = b + (wview if wview is not None else 1.0) * fvalid.unsqueeze(1) * k2
    return a, b


def _grad_scale(g, red, total_weight, t_shape):
    if red == 0:
        return g.reshape(t_shape).unsqueeze(1)
    if red == 1:
        # every sample ignored: their gradient is 0 (not 0 * inf), as in ATen
        return g / total_weight if total_weight != 0 else g * 0.0
    return g


class _CrossEntropy(Function):
    """log_softmax + nll (+ label smoothing) over dim 1 in one kernel; saves the input and
    each sample's row maximum and log-sum-exp (the log-softmax is recomputed in the
    backward kernel, not stored)."""
    node_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, label_smoothing, red):
        x2, t2 = _as_batched(x, target)
        out, lse, tw = _K.cross_entropy_forward(x2, t2, weight, ignore_index, label_smoothing, red)
        ctx.save_for_backward(x)
        ctx.args = (t2, weight, lse, ignore_index, label_smoothing, red, tw)
        if x.dim() == 1 and red == 0:
            out = out.reshape(())
        return out

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        t2, w, lse, ii, eps, red, tw = ctx.args
        x2 = x.reshape(1, x.shape[0]) if x.dim() == 1 else x
        if is_grad_enabled():        # create_graph: differentiable in x and g
            c = x2.shape[1]
            a, b = _onehot_coefs(x2, t2, w, ii, 1.0 - eps, eps / c if eps > 0 else 0.0)
            p = _Softmax.apply(x2, 1)
            gx = _grad_scale(g, red, tw, t2.shape) * (p * a - b)
        else:
            gr = g.reshape(t2.shape) if red == 0 else g
            if gr.dtype != x2.dtype:
                gr = gr.to(x2.dtype)
            gx = _K.cross_entropy_backward(gr, x2, t2, w, lse, ii, eps, red, tw)
        if x.dim() == 1:
            gx = gx.reshape(x.shape)
        return gx, None, None, None, None, None


class _NllLoss(Function):
    node_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, red):
        x2, t2 = _as_batched(x, target)
        out, tw = _K.nll_loss_forward(x2, t2, weight, ignore_index, red)
        ctx.x_shape = tuple(x.shape)
        ctx.x2 = (tuple(x2.shape), x2.dtype)
        ctx.args = (t2, weight, ignore_index, red, tw)
        if x.dim() == 1 and red == 0:
            out = out.reshape(())
        return out

    @staticmethod
    def backward(ctx, g):
        t2, w, ii, red, tw = ctx.args
        shape2, dt = ctx.x2
        if is_grad_enabled():
            proto = rtt.empty(shape2, dtype=dt)
            _, b = _onehot_coefs(proto, t2, w, ii, 1.0, 0.0)
            gx = -(_grad_scale(g, red, tw, t2.shape) * b)
        else:
            gr = g.reshape(t2.shape) if red == 0 else g
            if gr.dtype != dt:
                gr = gr.to(dt)
            gx = _K.nll_loss_backward(gr, rtt.empty(shape2, dtype=dt), t2, w, ii, red, tw)
        return gx.reshape(ctx.x_shape), None, None, None, None


def _float_input(input, name, dim):
    d = input.dtype
    if d in _FLOATS or d in _HALFS:
        return
    last = dim == input.dim() - 1
    raise NotImplementedError(f'"{name}{"_lastdim" if last else ""}_kernel_impl" not implemented '
                              f"for '{_dtype_name(d)}'")


def _run_indices(fn, input, target, weight, *args):
    """Calls the fused Function on float32/float64 (float16/bfloat16 compute in float32)."""
    if target.dtype == rtt.uint8:
        target = target.to(rtt.int64)
    d = input.dtype
    if d in _HALFS:
        return _run_indices(fn, input.float(), target, weight, *args).to(d)
    w = _class_weight(weight, d)
    if needs_grad(input):
        return fn.apply(input, target, w, *args)
    return fn.forward(_NoCtx, input, target, w, *args)


class _NoCtx:
    """A throwaway ctx for running a Function's forward without recording a graph."""

    @staticmethod
    def save_for_backward(*args):
        pass

    def __setattr__(self, name, value):
        pass


_NoCtx = _NoCtx()


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """The negative log-likelihood of class indices given log-probabilities ``input``
    ([C], [N, C] or [N, C, d1, ...]); ``weight`` per class, ``ignore_index`` skipped;
    'mean' divides by the total weight of the counted targets."""
    red = _enum(size_average, reduce, reduction)
    _nll_checks(input, target, weight)
    if input.dtype not in _FLOATS and input.dtype not in _HALFS:
        name = "nll_loss_out_frame" if input.dim() <= 2 else "nll_loss2d_forward_out_frame"
        raise NotImplementedError(f'"{name}" not implemented for '
                                  f"'{_dtype_name(input.dtype)}'")
    return _run_indices(_NllLoss, input, target, weight, ignore_index, red)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross-entropy of logits ``input`` ([C], [N, C] or [N, C, d1, ...]) against class
    indices (a target without the class dimension) or class probabilities (a float target
    of the input's shape); PyTorch's formulas for ``weight``, ``ignore_index``, ``reduction``
    and ``label_smoothing``."""
    red = _enum(size_average, reduce, reduction)
    if tuple(input.shape) == tuple(target.shape):
        if not _is_float(target.dtype):
            raise RuntimeError("Expected floating point type for target with class "
                               f"probabilities, got {_dtype_name(target.dtype)}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return _cross_entropy_prob(input, target, weight, red, label_smoothing)
    if label_smoothing > 0.0 and label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 0 if input.dim() == 1 else 1
    _wrap_dim(class_dim, input.dim())
    _float_input(input, "log_softmax", class_dim)
    _nll_checks(input, target, weight)
    eps = float(label_smoothing) if label_smoothing > 0.0 else 0.0
    return _run_indices(_CrossEntropy, input, target, weight, ignore_index, eps, red)


def _cross_entropy_prob(input, target, weight, red, label_smoothing):
    class_dim = 0 if input.dim() == 1 else 1
    n_classes = input.shape[class_dim]
    if weight is not None and (weight.dim() != 1 or weight.numel() != n_classes):
        raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all "
                           f"{n_classes} classes or no classes but got weight tensor of shape: "
                           f"{_shape_list(weight)}")
    lp = log_softmax(input, class_dim)
    if label_smoothing > 0.0:
        if label_smoothing > 1.0:
            raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                               f"{label_smoothing}")
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    prod = lp * target
    if weight is not None:
        w = weight
        if input.dim() > 1:
            w = weight.reshape([1, n_classes] + [1] * (input.dim() - 2))
        prod = prod * w
    if red == 1:
        if input.numel() == 0:
            return -(prod.sum() * float("nan"))
        return -prod.sum() / (input.numel() // n_classes)
    if red == 2:
        return -prod.sum()
    return -prod.sum(class_dim)


# ---- regression losses ---------------------------------------------------------------------------

class _MseLoss(Function):
    node_name = "MseLossBackward0"

    @staticmethod
    def forward(ctx, x, t, red):
        d = x - t
        ctx.save_for_backward(x, t)
        ctx.red = red
        sq = d * d
        if red == 1:
            return sq.mean()
        if red == 2:
            return sq.sum()
        return sq

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        scale = 2.0 / x.numel() if ctx.red == 1 else 2.0
        gd = (x - t) * (g * scale)
        ni = ctx.needs_input_grad
        return (gd if ni[0] else None), (-gd if ni[1] else None), None


def _broadcast(input, target):
    # the common case (same shapes) needs no expand nodes
    if input.shape == target.shape:
        return input, target
    return rt.broadcast_tensors(input, target)


def _check_weight_size(weight, input):
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")


def _weighted(loss, weight, red, mean_by_weight):
    loss = loss * weight
    if red == 0:
        return loss
    if red == 2:
        return loss.sum()
    if mean_by_weight:
        return loss.sum() / weight.sum()
    return loss.mean()


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error, ``(input - target) ** 2`` with broadcasting (and PyTorch's warning
    when the shapes differ); ``weight`` (the input's shape) with 'mean' divides by its sum."""
    _size_warning(input, target)
    red = _enum(size_average, reduce, reduction)
    x, t = _broadcast(input, target)
    if weight is not None:
        _check_weight_size(weight, input)
        return _weighted((x - t) ** 2, weight, red, True)
    d = rtt.promote_types(x.dtype, t.dtype)
    if not _is_float(d):
        raise NotImplementedError(f"\"mse_cpu\" not implemented for '{_dtype_name(d)}'")
    if needs_grad(x, t):
        return _MseLoss.apply(x, t, red)
    return _MseLoss.forward(_NoCtx, x, t, red)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error ``|input - target|``; ``weight`` with 'mean' divides by its sum."""
    _size_warning(input, target)
    red = _enum(size_average, reduce, reduction)
    x, t = _broadcast(input, target)
    if weight is not None:
        _check_weight_size(weight, input)
        return _weighted((x - t).abs(), weight, red, True)
    return _apply_reduction((x - t).abs(), red)


class _SmoothL1Loss(Function):
    """smooth_l1 (``huber=False``: 0.5 d**2 / beta below beta, |d| - 0.5 beta above) or Huber
    (0.5 d**2 below delta, delta (|d| - 0.5 delta) above) as one node; backward as ATen's
    (``d / beta`` clamped to [-1, 1]; Huber: ``d`` clamped to [-delta, delta])."""
    node_name = "SmoothL1LossBackward0"

    @staticmethod
    def forward(ctx, x, t, beta, huber, red):
        d = x - t
        z = d.abs()
        if huber:
            loss = rtt.where(z < beta, d * d * 0.5, (z - 0.5 * beta) * beta)
        else:
            loss = rtt.where(z < beta, d * d * 0.5 / beta, z - 0.5 * beta)
        ctx.save_for_backward(x, t)
        ctx.args = (beta, huber, red)
        return _apply_reduction(loss, red)

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        beta, huber, red = ctx.args
        d = x - t
        inside = rtt.lt(rtt.abs(d.detach()), beta)
        if huber:
            gd = rt.where(inside, d, d.sign() * beta) * g
        else:
            gd = rt.where(inside, d / beta, d.sign()) * g
        if red == 1:
            gd = gd / x.numel()
        ni = ctx.needs_input_grad
        return (gd if ni[0] else None), (-gd if ni[1] else None), None, None, None


class _HuberLoss(_SmoothL1Loss):
    node_name = "HuberLossBackward0"


def _smooth_l1(x, t, beta, huber, red):
    fn = _HuberLoss if huber else _SmoothL1Loss
    if needs_grad(x, t):
        return fn.apply(x, t, beta, huber, red)
    return fn.forward(_NoCtx, x, t, beta, huber, red)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """``0.5 z**2 / beta`` where ``z = |input - target| < beta``, else ``z - 0.5 beta``
    (``beta = 0``: l1_loss)."""
    _size_warning(input, target)
    red = _enum(size_average, reduce, reduction)
    x, t = _broadcast(input, target)
    if beta == 0.0:
        return _apply_reduction((x - t).abs(), red)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    return _smooth_l1(x, t, float(beta), False, red)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """``0.5 z**2`` where ``z = |input - target| < delta``, else ``delta (z - 0.5 delta)``;
    ``weight`` (the input's shape) multiplies the elementwise loss."""
    _size_warning(input, target)
    x, t = _broadcast(input, target)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    if weight is None:
        return _smooth_l1(x, t, float(delta), True, _get_enum(reduction))
    _check_weight_size(weight, input)
    loss = _smooth_l1(x, t, float(delta), True, 0) * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean()
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', "
                     "'sum'.")


# ---- binary cross-entropy ---------------------------------------------------------------------

class _BinaryCrossEntropy(Function):
    node_name = "BinaryCrossEntropyBackward0"

    @staticmethod
    def forward(ctx, x, t, w, red):
        ok = rtt.logical_and(rtt.ge(x, 0), rtt.le(x, 1)).all()
        if not bool(ok):
            raise RuntimeError("all elements of input should be between 0 and 1")
        loss = (t - 1) * _clamp_log((1 - x).log()) - t * _clamp_log(x.log())
        if w is not None:
            loss = loss * w
        ctx.save_for_backward(x, t, w)
        ctx.red = red
        return _apply_reduction(loss, red)

    @staticmethod
    def backward(ctx, g):
        x, t, w = ctx.saved_tensors
        ni = ctx.needs_input_grad
        gx = gt = None
        if ni[0]:        # ATen's order: grad * (x - t) / max((1 - x) x, eps), * w, / numel
            gx = g * (x - t) / ((1 - x) * x).clamp_min(_EPSILON)
            if w is not None:
                gx = gx * w
            if ctx.red == 1:
                gx = gx / x.numel()
        if ni[1]:        # -logit(x) * grad
            gt = -(x.log() - (1 - x).log()) * g
            if w is not None:
                gt = gt * w
            if ctx.red == 1:
                gt = gt / t.numel()
        return gx, gt, None, None


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """``-w (t log x + (1 - t) log(1 - x))`` with the logs clamped at -100; the input must lie
    in [0, 1] and the target have the input's size."""
    red = _enum(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.size()}) that is different to the input "
                         f"size ({input.size()}) is deprecated. Please ensure they have the same "
                         "size.")
    if weight is not None:
        new_size = rt.broadcast_shapes(target.size(), weight.size())
        weight = weight.expand(new_size)
    if needs_grad(input, target, weight):
        return _BinaryCrossEntropy.apply(input, target, weight, red)
    return _BinaryCrossEntropy.forward(_NoCtx, input, target, weight, red)


def _clamp_log(v):
    # max(v, -100) (forward only: the Function's backward is ATen's formula)
    return rtt.where(rtt.lt(v, -100.0), -100.0, v)


def _log_sigmoid(x):
    # log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), stable for large |x|; min(x, 0) is
    # (x - |x|) / 2 exactly. Used in forwards and in the target's gradient.
    a = x.abs()
    return (x - a) * 0.5 - (-a).exp().log1p()


class _BCEWithLogits(Function):
    node_name = "BinaryCrossEntropyWithLogitsBackward0"

    @staticmethod
    def forward(ctx, x, t, w, pw, red):
        ls = _log_sigmoid(x)
        if pw is not None:
            ls = ls * ((pw - 1) * t + 1)
        loss = (1 - t) * x - ls
        if w is not None:
            loss = loss * w
        ctx.save_for_backward(x, t, w, pw)
        ctx.red = red
        return _apply_reduction(loss, red)

    @staticmethod
    def backward(ctx, g):
        x, t, w, pw = ctx.saved_tensors
        ni = ctx.needs_input_grad
        if ctx.red == 1:
            g = g / x.numel()
        if w is not None:
            g = g * w
        gx = gt = None
        if ni[0]:
            if pw is not None:
                pt = pw * t
                gx = ((pt + 1 - t) * x.sigmoid() - pt) * g
            else:
                gx = (x.sigmoid() - t) * g
        if ni[1]:
            if pw is not None:
                gt = (_log_sigmoid(-x) - _log_sigmoid(x) * pw) * g
            else:
                gt = -x * g
        return gx, gt, None, None, None


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """``-w (pos_weight t log sigmoid(x) + (1 - t) log(1 - sigmoid(x)))``, computed stably from
    the logits; ``pos_weight`` broadcasts over the class (last) dimension."""
    red = _enum(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.size()}) must be the same as input size "
                         f"({input.size()})")
    if needs_grad(input, target, weight, pos_weight):
        return _BCEWithLogits.apply(input, target, weight, pos_weight, red)
    return _BCEWithLogits.forward(_NoCtx, input, target, weight, pos_weight, red)


# ---- divergences and likelihoods ----------------------------------------------------------------

def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Pointwise KL divergence ``target * (log(target) - input)`` (``input`` holds
    log-probabilities; ``log_target``: the target too). 'batchmean' divides the sum by the
    batch size; 'mean' (with PyTorch's warning) by the number of elements."""
    if size_average is not None or reduce is not None:
        red = _get_enum(_legacy_get_string(size_average, reduce))
    else:
        if reduction == "mean":
            warnings.warn("reduction: 'mean' divides the total loss by both the batch size and "
                          "the support size.'batchmean' divides only by the batch size, and "
                          "aligns with the KL div math definition.'mean' will be changed to "
                          "behave the same as 'batchmean' in the next major release.",
                          stacklevel=2)
        red = _get_enum("sum" if reduction == "batchmean" else reduction)
    for t in (input, target):
        if t.dtype.is_complex:
            raise RuntimeError("kl_div: Complex inputs not supported.")
        if not _is_float(t.dtype):
            raise RuntimeError("kl_div: Integral inputs not supported.")
    if log_target:
        out = target.exp() * (target - input)
    else:
        out = rt.xlogy(target, target) - target * input
    reduced = _apply_reduction(out, red)
    if reduction == "batchmean" and input.dim() != 0:
        reduced = reduced / input.shape[0]
    return reduced


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """Poisson negative log-likelihood: ``exp(input) - target * input`` (``log_input``) or
    ``input - target * log(input + eps)``; ``full`` adds the Stirling term
    ``t log t - t + 0.5 log(2 pi t)`` where target > 1."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_get_string(size_average, reduce)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not a valid value for reduction")
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _apply_reduction(loss, _get_enum(reduction))


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Gaussian negative log-likelihood ``0.5 (log(var) + (input - target)**2 / var)`` (+ the
    constant with ``full``); ``var`` is the input's size, one dimension short of it, or
    broadcastable with one mismatched dimension (PyTorch's rules); clamped at ``eps`` without
    blocking its gradient."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * rt.ones_like(input)
    elif not isinstance(var, rtt.Tensor):
        raise TypeError(f"gaussian_nll_loss(): var must be a Tensor or a float, got "
                        f"{type(var).__name__}")
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.size() != input.size():
        if input.size()[:-1] == var.size():
            var = var.unsqueeze(-1)
        elif input.dim() == var.dim() and sum(
                y for x, y in zip(input.size(), var.size()) if x != y) == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with rt.no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


# ---- margin and embedding losses ------------------------------------------------------------

def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """``1 - cos(x1, x2)`` where target == 1, ``max(0, cos(x1, x2) - margin)`` where
    target == -1 (0 elsewhere); cos over the last dimension with 1e-12 added to each
    squared norm."""
    red = _enum(size_average, reduce, reduction)
    td = target.dim()
    if td not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if td == 1 and input1.dim() != 2:
        raise RuntimeError("1D target tensor expects 2D input tensors, but found inputs with "
                           f"sizes {_shape_list(input1)} and {_shape_list(input2)}.")
    if td == 0 and input1.dim() != 1:
        raise RuntimeError("0D target tensor expects 1D input tensors, but found inputs with "
                           f"sizes {_shape_list(input1)} and {_shape_list(input2)}.")
    prod_sum = (input1 * input2).sum(td)
    mag1 = (input1 * input1).sum(td) + _EPSILON
    mag2 = (input2 * input2).sum(td) + _EPSILON
    cos = prod_sum / (mag1 * mag2).sqrt()
    zeros = rt.zeros_like(cos)
    pos = 1 - cos
    neg = (cos - margin).clamp_min(0)
    out = rt.where(target == 1, pos, zeros) + rt.where(target == -1, neg, zeros)
    return _apply_reduction(out, red)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """``max(0, -target * (input1 - input2) + margin)``."""
    red = _enum(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError("margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {input1.size()}, input2: {input2.size()}, "
                           f"target: {target.size()} ")
    for t in (input1, input2, target):
        if t.dtype.is_complex:
            raise RuntimeError("margin_ranking_loss expects inputs to be non-complex")
    out = (-target * (input1 - input2) + margin).clamp_min(0)
    return _apply_reduction(out, red)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """``max(d(a, p) - d(a, n) + margin, 0)`` with ``d`` the p-norm pairwise distance (``eps``
    added to the difference); ``swap`` uses ``min(d(a, n), d(p, n))``."""
    red = _enum(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a, pd, nd = anchor.dim(), positive.dim(), negative.dim()
    if not (a == pd == nd):
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {a}D, positive {pd}D, "
                           f"and negative {nd}D inputs")
    dist_pos = pairwise_distance(anchor, positive, p, eps)
    dist_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        dist_neg = rt.minimum(dist_neg, pairwise_distance(positive, negative, p, eps))
    out = (margin + dist_pos - dist_neg).clamp_min(0)
    return _apply_reduction(out, red)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """triplet_margin_loss with any ``distance_function`` (default: pairwise_distance)."""
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    red = _get_enum(reduction)
    a, pd, nd = anchor.dim(), positive.dim(), negative.dim()
    if not (a == pd == nd):
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {a}D, positive {pd}D, "
                           f"and negative {nd}D inputs")
    dist = distance_function if distance_function is not None else pairwise_distance
    dist_pos = dist(anchor, positive)
    dist_neg = dist(anchor, negative)
    if swap:
        dist_neg = rt.minimum(dist_neg, dist(positive, negative))
    out = (margin + dist_pos - dist_neg).clamp_min(0)
    return _apply_reduction(out, red)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """``input`` where target == 1, ``max(0, margin - input)`` where target == -1."""
    red = _enum(size_average, reduce, reduction)
    zeros = rt.zeros_like(input)
    margin_clamp = (margin - input).clamp_min(0)
    out = rt.where(target != 1, margin_clamp, zeros) + rt.where(target != -1, input, zeros)
    return _apply_reduction(out, red)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """``log(1 + exp(-target * input))``."""
    red = _enum(size_average, reduce, reduction)
    return _apply_reduction((1 + (-target * input).exp()).log(), red)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """``-(t log sigmoid(x) + (1 - t) log sigmoid(-x))`` averaged over the classes."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_get_string(size_average, reduce)
    loss = -(target * _log_sigmoid(input) + (1 - target) * _log_sigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(dim=class_dim) / input.shape[class_dim]
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(reduction + " is not valid")


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """``sum_{i != y} max(0, margin - x[y] + x[i]) ** p / C`` per sample (``weight[y]``
    multiplies it)."""
    red = _enum(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    x = input if input.dim() > 0 else input.reshape(1)
    x2 = x.reshape(1, -1) if x.dim() == 1 else x
    t = target.reshape(-1)
    c = x2.shape[1]
    if x.dim() > 2 or t.numel() != x2.shape[0]:
        raise RuntimeError(f"inconsistent target size, expected {x2.shape[0]} but got "
                           f"{_shape_list(target)}")
    bad = rtt.logical_or(rtt.lt(t, 0), rtt.ge(t, c))
    if bool(bad.any()):
        raise RuntimeError("target out of range")
    xy = x2.gather(1, t.unsqueeze(1))
    z = (margin - xy + x2).clamp_min(0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight.index_select(0, t).unsqueeze(1)
    notself = rtt.ones(tuple(x2.shape), dtype=z.dtype).scatter(1, t.unsqueeze(1), 0.0)
    out = (z * notself).sum(1) / c
    if input.dim() < 2:
        out = out.reshape(target.shape if target.dim() == 0 else ())
    return _apply_reduction(out, red)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """``sum_{j in targets, i not in targets} max(0, 1 - (x[j] - x[i])) / C`` per sample; the
    target lists class indices, ended by the first -1."""
    red = _enum(size_average, reduce, reduction)
    x = input.reshape(1, -1) if input.dim() <= 1 else input
    t = target.reshape(1, -1) if target.dim() <= 1 else target
    if tuple(t.shape) != tuple(x.shape):
        raise RuntimeError(f"inconsistent target size: {_shape_list(target)} for input of size: "
                           f"{_shape_list(input)}")
    n, c = x.shape
    tn = (t.detach() if needs_grad(t) else t).numpy().astype(np.int64)
    # the listed targets: entries before the first -1 (any negative value ends the list)
    listed = np.cumprod(tn >= 0, axis=1).astype(bool)
    if bool((listed & (tn >= c)).any()):
        raise RuntimeError("target out of range")
    is_target = np.zeros((n, c), dtype=bool)
    rows = np.broadcast_to(np.arange(n)[:, None], (n, c))
    is_target[rows[listed], tn[listed]] = True
    sel = is_target
    xt = x.unsqueeze(2)                          # x[j] for j in targets
    xi = x.unsqueeze(1)                          # x[i] for i not in targets
    pair = rtt.from_numpy((sel[:, :, None] & ~is_target[:, None, :]).astype(
        np.float64)).to(x.dtype)
    z = (1 - (xt - xi)).clamp_min(0) * pair
    out = z.sum((1, 2)) / c
    if input.dim() <= 1:
        out = out.reshape(())
    return _apply_reduction(out, red)
