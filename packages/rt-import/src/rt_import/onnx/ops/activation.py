"""ONNX activation converters: Relu and its relatives, sigmoid-like functions, Gelu,
Softmax/LogSoftmax/Hardmax.

Attribute defaults are the specification's (``onnx.defs.get_schema(op, v).doc``), e.g.
LeakyRelu alpha=0.01, HardSigmoid alpha=0.2 beta=0.5, Selu alpha=1.67326319217681884765625
gamma=1.05070102214813232421875. Softmax, LogSoftmax and Hardmax before opset 13 coerce the
input to 2-D at ``axis`` (default 1: ``[prod(shape[:axis]), prod(shape[axis:])]``) and
normalise each row; from opset 13 they work along ``axis`` (default -1) alone.

    >>> from rt_import.onnx.registry import lookup
    >>> lookup("", "Softmax", 11) is not lookup("", "Softmax", 13)
    True
"""
import rt_autograd as rt
import rt_nn.functional as F

from rt_import.onnx.ops.elementwise import check_same_type, is_float
from rt_import.onnx.registry import converter, preparer

__all__ = []


def _need_float(node, x):
    if not is_float(x):
        raise node.error(f"takes floating point tensors, got {str(x.dtype)[10:]}")


@converter("Relu", 1, 6, 13, 14)
def relu(node, x):
    """ONNX Relu: max(0, X) (Relu-14 adds signed integer types)."""
    if x.dtype == rt.bool or x.dtype == rt.uint8:
        raise node.error(f"Relu is not defined for {str(x.dtype)[10:]} tensors")
    return rt.relu(x)


@preparer(relu)
def _prepare_relu(node):
    refused = (rt.bool, rt.uint8)

    def run(x):
        # rt.relu looked up per call: the exporter's tracer replaces it in rt's namespace
        return relu(node, x) if x.dtype in refused else rt.relu(x)
    return run


@converter("LeakyRelu", 1, 6, 16)
def leaky_relu(node, x):
    """ONNX LeakyRelu: X if X >= 0 else alpha * X (alpha default 0.01)."""
    _need_float(node, x)
    return F.leaky_relu(x, node.attr("alpha", 0.01))


@converter("PRelu", 1, 6, 7, 9, 16)
def prelu(node, x, slope):
    """ONNX PRelu: X if X >= 0 else slope * X; ``slope`` broadcasts to X's shape (PRelu-7:
    unidirectional broadcasting; earlier versions: same shape or one element)."""
    check_same_type(node, x, slope)
    if slope.dim() > x.dim() or rt.broadcast_shapes(tuple(x.shape), tuple(slope.shape)) \
            != tuple(x.shape):
        raise node.error(f"slope of shape {tuple(slope.shape)} does not broadcast to X's "
                         f"shape {tuple(x.shape)}")
    return rt.where(x < 0, x * slope, x)


@converter("Elu", 1, 6, 22)
def elu(node, x):
    """ONNX Elu: X if X > 0 else alpha * (exp(X) - 1) (alpha default 1)."""
    _need_float(node, x)
    return F.elu(x, node.attr("alpha", 1.0))


@converter("Selu", 1, 6, 22)
def selu(node, x):
    """ONNX Selu: gamma * (X if X > 0 else alpha * (exp(X) - 1)), with the spec's float32
    defaults for alpha and gamma (not PyTorch's float64 constants)."""
    _need_float(node, x)
    alpha = node.attr("alpha", 1.67326319217681884765625)
    gamma = node.attr("gamma", 1.05070102214813232421875)
    return F.elu(x, alpha) * gamma


@converter("Celu", 12, 28)
def celu(node, x):
    """ONNX Celu: max(0, X) + min(0, alpha * (exp(X / alpha) - 1)) (alpha default 1)."""
    _need_float(node, x)
    alpha = node.attr("alpha", 1.0)
    if alpha == 0:
        raise node.error("alpha must not be 0")
    return F.celu(x, alpha)


@converter("ThresholdedRelu", 10, 22)
def thresholded_relu(node, x):
    """ONNX ThresholdedRelu: X if X > alpha else 0 (alpha default 1)."""
    _need_float(node, x)
    return rt.where(x > node.attr("alpha", 1.0), x, 0.0)


@converter("Sigmoid", 1, 6, 13)
def sigmoid(node, x):
    """ONNX Sigmoid: 1 / (1 + exp(-X))."""
    _need_float(node, x)
    return rt.sigmoid(x)


@converter("Tanh", 1, 6, 13)
def tanh(node, x):
    """ONNX Tanh."""
    _need_float(node, x)
    return rt.tanh(x)


@converter("HardSigmoid", 1, 6, 22)
def hard_sigmoid(node, x):
    """ONNX HardSigmoid: max(0, min(1, alpha * X + beta)) (alpha 0.2, beta 0.5 by default;
    PyTorch's hardsigmoid is the case alpha=1/6)."""
    _need_float(node, x)
    return rt.clamp(x * node.attr("alpha", 0.2) + node.attr("beta", 0.5), 0.0, 1.0)


@converter("HardSwish", 14, 22)
def hard_swish(node, x):
    """ONNX HardSwish: X * max(0, min(1, X / 6 + 0.5)), as torch.nn.functional.hardswish."""
    _need_float(node, x)
    return F.hardswish(x)


@converter("Gelu", 20)
def gelu(node, x):
    """ONNX Gelu-20: X * Phi(X) exactly (``approximate="none"``, default) or with the tanh
    approximation (``approximate="tanh"``), as torch.nn.functional.gelu."""
    _need_float(node, x)
    approximate = node.attr("approximate", "none")
    if approximate not in ("none", "tanh"):
        raise node.error(f"approximate must be 'none' or 'tanh', got {approximate!r}")
    return F.gelu(x, approximate=approximate)


@converter("Softplus", 1, 22)
def softplus(node, x):
    """ONNX Softplus: ln(exp(X) + 1)."""
    _need_float(node, x)
    return F.softplus(x)


@converter("Softsign", 1, 22)
def softsign(node, x):
    """ONNX Softsign: X / (1 + |X|)."""
    _need_float(node, x)
    return F.softsign(x)


@converter("Mish", 18, 22)
def mish(node, x):
    """ONNX Mish: X * tanh(softplus(X))."""
    _need_float(node, x)
    return F.mish(x)


@converter("Swish", 24)
def swish(node, x):
    """ONNX Swish-24: X * sigmoid(alpha * X) (alpha default 1)."""
    _need_float(node, x)
    alpha = node.attr("alpha", 1.0)
    return x * rt.sigmoid(x * alpha if alpha != 1.0 else x)


@converter("Shrink", 9)
def shrink(node, x):
    """ONNX Shrink: X + bias below -lambd, X - bias above lambd, else 0 (lambd 0.5, bias
    0); integer inputs give integer results (the reference casts back)."""
    if x.dtype == rt.bool:
        raise node.error("Shrink is not defined for bool tensors")
    lambd, bias = node.attr("lambd", 0.5), node.attr("bias", 0.0)
    out = rt.where(x < -lambd, x + bias, rt.where(x > lambd, x - bias, 0.0))
    return out if out.dtype == x.dtype else out.to(x.dtype)


# --- Softmax family -------------------------------------------------------------------------

def _axis(node, x, default):
    axis = node.attr("axis", default)
    rank = x.dim()
    if not -max(rank, 1) <= axis < max(rank, 1):
        raise node.error(f"axis {axis} is out of range for a rank-{rank} input")
    return axis + rank if axis < 0 else axis


def _along_axis(node, x, fn):
    """``fn(t, dim)`` along ``axis`` (default -1): Softmax-13 and later."""
    if x.dim() == 0:
        return fn(x.reshape(1), 0).reshape(())
    return fn(x, _axis(node, x, -1))


def _along_2d(node, x, fn):
    """``fn(t, 1)`` on X coerced to 2-D at ``axis`` (default 1): Softmax-1/11, "The input
    does not need to explicitly be a 2D vector; rather, it will be coerced into one":
    [a_0 * ... * a_{k-1}, a_k * ... * a_{n-1}] for axis k."""
    shape = tuple(x.shape)
    rank = len(shape)
    axis = node.attr("axis", 1)
    if not -rank <= axis <= rank:
        raise node.error(f"axis {axis} is out of range for a rank-{rank} input")
    axis = axis + rank if axis < 0 else axis
    rows = 1
    for d in shape[:axis]:
        rows *= d
    cols = 1
    for d in shape[axis:]:
        cols *= d
    return fn(x.reshape(rows, cols), 1).reshape(shape)


def _softmax(t, dim):
    return F.softmax(t, dim=dim)


def _log_softmax(t, dim):
    return F.log_softmax(t, dim=dim)


def _hardmax(t, dim):
    if t.shape[dim] == 0:
        return t
    index = rt.argmax(t, dim=dim, keepdim=True)
    return rt.zeros_like(t).scatter(dim, index, 1.0)


@converter("Softmax", 1, 11)
def softmax_2d(node, x):
    """ONNX Softmax-1/11: exp(X) / sum(exp(X)) over each row of X coerced to 2-D at
    ``axis`` (default 1)."""
    _need_float(node, x)
    return _along_2d(node, x, _softmax)


@converter("Softmax", 13)
def softmax(node, x):
    """ONNX Softmax-13: exp(X) / sum(exp(X)) along ``axis`` (default -1)."""
    _need_float(node, x)
    return _along_axis(node, x, _softmax)


@converter("LogSoftmax", 1, 11)
def log_softmax_2d(node, x):
    """ONNX LogSoftmax-1/11: X - log(sum(exp(X))) over each row of X coerced to 2-D at
    ``axis`` (default 1)."""
    _need_float(node, x)
    return _along_2d(node, x, _log_softmax)


@converter("LogSoftmax", 13)
def log_softmax(node, x):
    """ONNX LogSoftmax-13: X - log(sum(exp(X))) along ``axis`` (default -1)."""
    _need_float(node, x)
    return _along_axis(node, x, _log_softmax)


@converter("Hardmax", 1, 11)
def hardmax_2d(node, x):
    """ONNX Hardmax-1/11: 1 at the first maximum of each row of X coerced to 2-D at
    ``axis`` (default 1), 0 elsewhere (no gradient)."""
    _need_float(node, x)
    return _along_2d(node, x.detach(), _hardmax)


@converter("Hardmax", 13)
def hardmax(node, x):
    """ONNX Hardmax-13: 1 at the first maximum along ``axis`` (default -1), 0 elsewhere (no
    gradient)."""
    _need_float(node, x)
    return _along_axis(node, x.detach(), _hardmax)
