"""Padding: ``constant_pad_nd`` (``torch.constant_pad_nd``) and ``pad``, the implementation of
``torch.nn.functional.pad`` (modes 'constant', 'reflect', 'replicate', 'circular', with
PyTorch's argument checks and messages). rt_nn imports ``pad`` from here.

``pad`` lists (left, right) pairs starting from the LAST dim. Negative pads crop. Constant
padding's backward is constant padding by the negated pads (PyTorch's formula); the other modes
gather every output element from one input element (an index per padded dim, computed as
PyTorch's kernels do), so their backward sums the gradient back with index_add.
"""
import numpy as np

from rt_autograd._ops._registry import FUNCTIONS, register
from rt_autograd._ops._util import Function, needs_grad, rtt

_T = rtt.Tensor

__all__ = ["constant_pad_nd", "pad"]


def _sizes(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


# ---- constant ---------------------------------------------------------------------------------

def _constant_pad_forward(input, pad, value):
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError(f"Length of pad must be even but instead it equals {len(pad)}")
    shape = tuple(input.shape)
    l_inp = len(shape)
    l_pad = len(pad) // 2
    l_diff = l_inp - l_pad
    if l_inp < l_pad:
        raise RuntimeError(f"Length of pad should be no more than twice the number of dimensions "
                           f"of the input. Pad length is {len(pad)}while the input has {l_inp}"
                           f"dimensions.")
    new_shape = list(shape[:l_diff])
    for i in range(l_pad):
        pad_idx = len(pad) - (i + 1) * 2
        new_dim = shape[l_diff + i] + pad[pad_idx] + pad[pad_idx + 1]
        if new_dim < 0:
            raise RuntimeError(f"The input size {shape[l_diff + i]}, plus negative padding "
                               f"{pad[pad_idx]} and {pad[pad_idx + 1]} resulted in a negative "
                               f"output size, which is invalid. Check dimension {l_diff + i} of "
                               f"your input.")
        new_shape.append(new_dim)
    # the part of the input that survives (negative pads crop) and where it goes
    src = input
    dst_slices = []
    for i in range(l_diff, l_inp):
        pad_idx = 2 * (l_inp - i - 1)
        lo, hi = pad[pad_idx], pad[pad_idx + 1]
        if lo < 0:
            src = _T.narrow(src, i, -lo, src.shape[i] + lo)
        if hi < 0:
            src = _T.narrow(src, i, 0, src.shape[i] + hi)
        dst_slices.append((i, max(lo, 0), src.shape[i]))
    out = rtt.full(tuple(new_shape), value, dtype=input.dtype)
    if out.numel() and src.numel():
        region = out
        for i, start, length in dst_slices:
            region = _T.narrow(region, i, start, length)
        _T.copy_(region, src)
    return out


class ConstantPadNd(Function):
    node_name = "ConstantPadNdBackward0"

    @staticmethod
    def forward(ctx, a, pad, value):
        ctx.pad = pad
        return _constant_pad_forward(a, pad, value)

    @staticmethod
    def backward(ctx, g):
        return constant_pad_nd(g, [-p for p in ctx.pad]), None, None


@register("constant_pad_nd", method=False)
def constant_pad_nd(input, pad, value=0):
    """Pad ``input`` with ``value`` (``pad``: (left, right) pairs from the last dim; negative
    values crop)."""
    pad = tuple(int(p) for p in pad)
    if needs_grad(input):
        return ConstantPadNd.apply(input, pad, value)
    return _constant_pad_forward(input, pad, value)


# ---- reflect / replicate / circular ------------------------------------------------------------

def _reflect_index(n, lo, hi):
    j = np.arange(n + lo + hi) - lo
    j = np.abs(j)
    return np.where(j >= n, 2 * (n - 1) - j, j)


def _replicate_index(n, lo, hi):
    return np.clip(np.arange(n + lo + hi) - lo, 0, n - 1)


def _circular_index(n, lo, hi):
    # PyTorch's _pad_circular: the (cropped) input in the middle, then the left pad copied
    # from the end of the output and the right pad from its start
    size = n + lo + hi
    out = np.zeros(size, dtype=np.int64)
    mid = np.arange(max(-lo, 0), n - max(-hi, 0))
    out[max(lo, 0):size - max(hi, 0)] = mid
    if lo > 0:
        out[0:lo] = out[size - lo - max(hi, 0):size - max(hi, 0)]
    if hi > 0:
        out[size - hi:size] = out[max(lo, 0):max(lo, 0) + hi]
    return out


_INDEX = {"reflect": _reflect_index, "replicate": _replicate_index, "circular": _circular_index}


class _PadIndex(Function):
    """Every output element is input[idx_1[j_1], ..., idx_k[j_k]] over the padded dims:
    index_select per dim; backward index_add per dim in reverse."""
    node_name = None

    @staticmethod
    def forward(ctx, a, steps):
        ctx.steps = steps           # [(dim, index tensor, input size along dim)]
        out = a
        for d, idx, _ in steps:
            out = rtt.index_select(out, d, idx)
        return out

    @staticmethod
    def backward(ctx, g):
        index_add = FUNCTIONS["index_add"]
        for d, idx, n in reversed(ctx.steps):
            shape = list(g.shape)
            shape[d] = n
            g = index_add(rtt.zeros(tuple(shape), dtype=g.dtype), d, idx, g)
        return g, None


_PAD_CLS = {}


def _pad_cls(mode, k):
    name = {"reflect": f"ReflectionPad{k}dBackward0", "replicate": f"ReplicationPad{k}dBackward0",
            "circular": "CopySlices"}[mode]
    cls = _PAD_CLS.get(name)
    if cls is None:
        cls = _PAD_CLS[name] = type(name.replace("Backward0", ""), (_PadIndex,),
                                    {"node_name": name})
    return cls


def _check_valid_input(input, k, pad):
    shape = tuple(input.shape)
    dim = len(shape)
    batch = dim == k + 2
    if batch:
        ok = all(s != 0 for s in shape[1:])
    else:
        ok = dim == k + 1 and all(s != 0 for s in shape)
    if not ok:
        raise RuntimeError(f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 "
                           f"batch size and other non-zero dimensions for input, but got: "
                           f"{_sizes(shape)}")


def _check_reflect(input, k, pad):
    _check_valid_input(input, k, pad)
    shape = tuple(input.shape)
    nd = len(shape)
    for i in range(k):
        lo, hi = pad[2 * i], pad[2 * i + 1]
        d = nd - 1 - i
        if not (lo < shape[d] and hi < shape[d]):
            raise RuntimeError(f"Argument #{4 + 2 * i}: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({lo}, {hi}) at "
                               f"dimension {d} of input {_sizes(shape)}")
    _check_output(shape, k, pad)


def _check_output(shape, k, pad):
    nd = len(shape)
    outs = [shape[nd - 1 - i] + pad[2 * i] + pad[2 * i + 1] for i in range(k)]
    ins = [shape[nd - 1 - i] for i in range(k)]
    if all(o >= 1 for o in outs):
        return
    if k == 1:
        raise RuntimeError(f"input (W: {ins[0]}) is too small. Calculated output W: {outs[0]}")
    if k == 2:
        raise RuntimeError(f"input (H: {ins[1]}, W: {ins[0]}) is too small. Calculated output H: "
                           f"{outs[1]} W: {outs[0]}")
    raise RuntimeError(f"input (D: {ins[2]} H: {ins[1]}, W: {ins[0]}) is too small. Calculated "
                       f"output D: {outs[2]} H: {outs[1]} W: {outs[0]}")


def _check_replicate(input, k, pad):
    _check_valid_input(input, k, pad)
    _check_output(tuple(input.shape), k, pad)


def _check_circular(input, k, pad):
    shape = tuple(input.shape)
    nd = len(shape)
    nonpadded = nd - k
    if nonpadded not in (1, 2):
        raise RuntimeError(f"Invalid padding size, expected 1 or 2 non-padded dimensions, which "
                           f"would be equivalent to padding of length {(nd - 1) * 2} or "
                           f"{(nd - 2) * 2} respectively but got {len(pad)}")
    for i in range(k):
        lo, hi = pad[2 * i], pad[2 * i + 1]
        size = shape[nd - 1 - i]
        if not (lo <= size and hi <= size):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if size + lo + hi < 0:
            raise RuntimeError("Negative padding value is resulting in an empty dimension")


_CHECK = {"reflect": _check_reflect, "replicate": _check_replicate, "circular": _check_circular}


def _index_pad(input, pad, mode):
    k = len(pad) // 2
    _CHECK[mode](input, k, pad)
    shape = tuple(input.shape)
    nd = len(shape)
    steps = []
    for i in range(k):
        d = nd - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        if lo == 0 and hi == 0:
            continue
        idx = _INDEX[mode](shape[d], lo, hi).astype(np.int64)
        steps.append((d, rtt.tensor(idx.tolist(), dtype=rtt.int64), shape[d]))
    if not steps:
        return input.clone()
    if needs_grad(input):
        return _pad_cls(mode, k).apply(input, steps)
    out = input
    for d, idx, _ in steps:
        out = rtt.index_select(out, d, idx)
    return out


_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input, pad, mode="constant", value=None):
    """``torch.nn.functional.pad``: pad ``input`` by ``pad`` ((left, right) pairs from the
    last dim backwards) in ``mode`` 'constant' (with ``value``, default 0), 'reflect',
    'replicate' or 'circular'. Differentiable in ``input``."""
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    pad = tuple(int(p) for p in pad)
    input_dim = input.dim()
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) > input_dim * 2:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{input_dim}")
    if mode == "constant":
        return constant_pad_nd(input, pad, 0.0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
    k = len(pad) // 2
    if (k == 1 and input_dim in (2, 3)) or (k == 2 and input_dim in (3, 4)) or \
            (k == 3 and input_dim in (4, 5)):
        return _index_pad(input, pad, mode)
    raise NotImplementedError("Only 2D, 3D, 4D, 5D padding with non-constant padding are "
                              "supported for now")
