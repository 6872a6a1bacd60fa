"""ONNX shape and indexing operators as rt ops: Reshape, Flatten, Transpose, Squeeze,
Unsqueeze, Concat, Split, Slice, Gather, GatherElements, ScatterND, Shape, Size, Expand, Tile,
Pad, DepthToSpace and SpaceToDepth.

Every converter is differentiable in its data input (views, ``index_select``, ``gather``,
``constant_pad_nd``), so gradients flow through an imported graph's shape plumbing. Shape-like
inputs (``shape``, ``axes``, ``pads``, ``repeats``, ``starts``...) are read as Python ints;
values the ONNX specification forbids raise ``FormatError`` naming the node.

>>> import numpy as np, rt_autograd as rt
>>> from rt_import.onnx.registry import lookup
>>> class Node:                        # a stand-in for the NodeContext the graph passes
...     opset, num_outputs = 17, 1
...     def attr(self, name, default=None): return default
>>> lookup("", "Reshape", 17)(Node(), rt.arange(6.), rt.tensor([3, -1])).shape
rt_tensor.Size([3, 2])
"""
import math

import numpy as np

import rt_autograd as rt

from rt_import.onnx.registry import converter, preparer

__all__ = []

# An output larger than this (elements) is refused before it is allocated: a corrupted or
# hostile shape input must not take the machine's memory (2**31 float32 elements = 8 GiB).
MAX_ELEMENTS = 1 << 31


# ---- helpers shared with ops/nn.py ---------------------------------------------------------------

def to_numpy(tensor):
    """An rt tensor's values as a numpy array (bfloat16, which numpy lacks, as float32)."""
    t = tensor.detach()
    if t.dtype == rt.bfloat16:
        t = t.float()
    return np.asarray(t.numpy())


def ints(node, tensor, what, ndim=1):
    """A shape-like input (an integer tensor) as a list of Python ints (``ndim`` 1) or one int
    (``ndim`` 0, which also accepts a one-element 1-D tensor)."""
    if tensor is None:
        return None
    a = to_numpy(tensor) if isinstance(tensor, rt.Tensor) else np.asarray(tensor)
    if a.dtype.kind not in "iu":
        raise node.error(f"input {what} must be an integer tensor, got {a.dtype}")
    if ndim == 0:
        if a.size != 1:
            raise node.error(f"input {what} must hold one value, got shape {list(a.shape)}")
        return int(a.reshape(-1)[0])
    if a.ndim != 1:
        raise node.error(f"input {what} must be 1-D, got shape {list(a.shape)}")
    return [int(v) for v in a]


def norm_axis(node, axis, rank, what="axis"):
    """``axis`` in [-rank, rank) as a non-negative int, or FormatError."""
    axis = int(axis)
    if not -rank <= axis < rank:
        raise node.error(f"{what} {axis} is out of range for a rank-{rank} input "
                         f"(expected [{-rank}, {rank - 1}])")
    return axis + rank if axis < 0 else axis


def norm_axes(node, axes, rank, what="axes"):
    out = [norm_axis(node, a, rank, what) for a in axes]
    if len(set(out)) != len(out):
        raise node.error(f"{what} {list(axes)} repeats an axis")
    return out


def check_size(node, shape):
    """Refuse an output of more than MAX_ELEMENTS elements (before allocating it)."""
    n = math.prod(int(s) for s in shape)
    if n > MAX_ELEMENTS:
        raise node.error(f"the output would have {n} elements (shape {list(shape)}), more "
                         f"than the {MAX_ELEMENTS} rt-import allows one node to allocate")


def index_tensor(values):
    """A 1-D int64 rt tensor (for ``index_select``)."""
    return rt.tensor(np.ascontiguousarray(np.asarray(values, dtype=np.int64).reshape(-1)))


def _scalar_value(node, tensor, dtype, what):
    """A 0-d or one-element tensor as a Python number suitable for ``dtype``."""
    a = to_numpy(tensor)
    if a.size == 0:
        return None
    if a.size != 1:
        raise node.error(f"input {what} must be a scalar, got shape {list(a.shape)}")
    v = a.reshape(-1)[0]
    if dtype == rt.bool:
        return bool(v)
    if dtype.is_floating_point:
        return float(v)
    if dtype.is_complex:
        return complex(v)
    return int(v)


# ---- Reshape, Flatten, Transpose, Squeeze, Unsqueeze ---------------------------------------------

@converter("Reshape", 5, 13, 14, 19, 21, 23, 24, 25)
def reshape(node, data, shape):
    """Reshape-5/13/14/19/21+: a 0 copies the input's dimension (unless ``allowzero``, 14+,
    where it is a real 0), one -1 is inferred."""
    target = ints(node, shape, "shape")
    allowzero = bool(node.attr("allowzero", 0)) if node.opset >= 14 else False
    if target.count(-1) > 1:
        raise node.error(f"shape {target} has more than one -1")
    if allowzero and 0 in target and -1 in target:
        raise node.error(f"shape {target} has both 0 and -1 with allowzero=1 (the -1 cannot be "
                         "inferred)")
    in_shape = tuple(data.shape)
    out = []
    for i, s in enumerate(target):
        if s == 0 and not allowzero:
            if i >= len(in_shape):
                raise node.error(f"shape {target} copies dimension {i} (0) of a rank-"
                                 f"{len(in_shape)} input")
            s = in_shape[i]
        elif s < -1:
            raise node.error(f"shape {target} has a negative dimension {s}")
        out.append(s)
    numel = math.prod(in_shape)
    known = math.prod(s for s in out if s != -1)
    if -1 in out:
        if known == 0 or numel % known:
            raise node.error(f"cannot reshape a tensor of shape {list(in_shape)} to {target}")
        out[out.index(-1)] = numel // known
    elif known != numel:
        raise node.error(f"cannot reshape a tensor of shape {list(in_shape)} ({numel} elements) "
                         f"to {out} ({known} elements)")
    return data.reshape(tuple(out))


@converter("Flatten", 9, 11, 13, 21, 23, 24, 25)
def flatten(node, x):
    """Flatten-9/11+: a 2-D (prod(shape[:axis]), prod(shape[axis:])) view; negative axes
    from opset 11."""
    shape = tuple(x.shape)
    r = len(shape)
    axis = int(node.attr("axis", 1))
    if not -r <= axis <= r:
        raise node.error(f"axis {axis} is out of range for a rank-{r} input")
    if axis < 0:
        axis += r
    return x.reshape((math.prod(shape[:axis]), math.prod(shape[axis:])))


@preparer(flatten)
def _prepare_flatten(node):
    """The exporters' Flatten (axis 1) of a non-empty batch as one reshape; anything else
    runs flatten."""
    if int(node.attr("axis", 1)) != 1:
        return None

    def run(x):
        n = x.size(0) if x.dim() >= 1 else 0
        if n > 0:
            return x.reshape((n, -1))       # (shape[0], prod(shape[1:])), as flatten's
        return flatten(node, x)
    return run


@converter("Transpose", 1, 13, 21, 23, 24, 25)
def transpose(node, x):
    """Transpose: ``perm`` (default: reversed axes)."""
    r = x.dim()
    perm = node.attr("perm")
    if perm is None:
        perm = list(range(r))[::-1]
    if sorted(perm) != list(range(r)):
        raise node.error(f"perm {list(perm)} is not a permutation of the {r} axes")
    return x.permute(*perm) if r else x


def _axes_input_or_attr(node, axes, version):
    """Squeeze/Unsqueeze: ``axes`` is an attribute before ``version`` and an input from it."""
    if node.opset >= version:
        return ints(node, axes, "axes")
    return node.attr("axes")


@converter("Squeeze", 11, 13, 21, 23, 24, 25)
def squeeze(node, x, axes=None):
    """Squeeze-11 (``axes`` attribute) / 13+ (``axes`` input): removes the listed size-1
    axes, or every size-1 axis when none are listed."""
    shape = list(x.shape)
    axes = _axes_input_or_attr(node, axes, 13)
    if axes is None:
        keep = [s for s in shape if s != 1]
    else:
        axes = norm_axes(node, axes, len(shape))
        for a in axes:
            if shape[a] != 1:
                raise node.error(f"cannot squeeze axis {a} of size {shape[a]} (shape {shape})")
        keep = [s for i, s in enumerate(shape) if i not in axes]
    return x.reshape(tuple(keep))


@converter("Unsqueeze", 11, 13, 21, 23, 24, 25)
def unsqueeze(node, x, axes=None):
    """Unsqueeze-11 (``axes`` attribute) / 13+ (``axes`` input): inserts size-1 axes at the
    listed positions of the output."""
    axes = _axes_input_or_attr(node, axes, 13)
    if axes is None:
        raise node.error("axes is required")
    shape = list(x.shape)
    out_rank = len(shape) + len(axes)
    axes = norm_axes(node, axes, out_rank)
    it = iter(shape)
    out = [1 if i in axes else next(it) for i in range(out_rank)]
    return x.reshape(tuple(out))


# ---- Concat, Split, Slice ------------------------------------------------------------------------

@converter("Concat", 4, 11, 13)
def concat(node, *inputs):
    """Concat: joins the inputs along ``axis`` (negative from opset 11)."""
    inputs = [t for t in inputs if t is not None]
    if not inputs:
        raise node.error("needs at least one input")
    r = inputs[0].dim()
    if r == 0:
        raise node.error("cannot concatenate 0-d tensors")
    if not node.has("axis"):
        raise node.error("attribute axis is required")
    axis = norm_axis(node, node.attr("axis"), r)
    for t in inputs[1:]:
        if t.dim() != r:
            raise node.error(f"inputs have different ranks ({r} and {t.dim()})")
        if t.dtype != inputs[0].dtype:
            raise node.error(f"inputs have different types ({inputs[0].dtype} and {t.dtype})")
        if any(a != b for d, (a, b) in enumerate(zip(t.shape, inputs[0].shape)) if d != axis):
            raise node.error(f"input shapes {list(inputs[0].shape)} and {list(t.shape)} differ "
                             f"outside the concatenation axis {axis}")
    if len(inputs) == 1:
        return inputs[0]
    return rt.cat(inputs, axis)


@converter("Split", 11, 13, 18)
def split(node, x, split_sizes=None):
    """Split-11 (``split`` attribute), 13 (``split`` input), 18 (``num_outputs``: equal
    parts of ceil(dim / n), the last one smaller)."""
    r = x.dim()
    axis = norm_axis(node, node.attr("axis", 0), r)
    dim = x.shape[axis]
    sizes = node.attr("split") if node.opset < 13 else ints(node, split_sizes, "split")
    n = node.num_outputs
    if sizes is not None and len(sizes) > 0:
        if len(sizes) != n:
            raise node.error(f"split {list(sizes)} has {len(sizes)} parts for {n} outputs")
        if any(s < 0 for s in sizes) or sum(sizes) != dim:
            raise node.error(f"split {list(sizes)} does not add up to the axis size {dim}")
        if node.opset >= 18 and node.has("num_outputs"):
            raise node.error("split and num_outputs cannot both be given")
    elif node.opset >= 18:
        k = node.attr("num_outputs")
        if k is None:
            raise node.error("needs the split input or the num_outputs attribute")
        if k < 1 or k != n:
            raise node.error(f"num_outputs {k} does not match the node's {n} outputs")
        if k > dim and dim > 0:
            raise node.error(f"cannot split an axis of size {dim} into {k} parts")
        chunk = -(-dim // k)
        sizes = [chunk] * (k - 1) + [dim - chunk * (k - 1)]
        if sizes[-1] < 0:
            raise node.error(f"cannot split an axis of size {dim} into {k} parts of {chunk}")
    else:
        if dim % n:
            raise node.error(f"axis size {dim} does not split into {n} equal parts")
        sizes = [dim // n] * n
    return tuple(rt.split(x, [int(s) for s in sizes], axis))


def _slice_range(start, end, step, dim):
    """Slice-10+'s clamping: negative values count from the end; positive steps clamp
    starts and ends to [0, dim], negative steps starts to [0, dim-1] and ends to [-1, dim-1]."""
    if start < 0:
        start += dim
    if end < 0:
        end += dim
    if step > 0:
        start = min(max(start, 0), dim)
        end = min(max(end, 0), dim)
    else:
        start = min(max(start, 0), dim - 1)
        end = min(max(end, -1), dim - 1)
    return range(start, end, step)


@converter("Slice", 10, 11, 13)
def slice_(node, data, starts, ends, axes=None, steps=None):
    """Slice-10/11/13: ``starts``, ``ends``, optional ``axes`` (negative allowed) and
    ``steps`` (negative steps walk backwards)."""
    starts = ints(node, starts, "starts")
    ends = ints(node, ends, "ends")
    r = data.dim()
    if len(starts) != len(ends):
        raise node.error(f"starts {starts} and ends {ends} differ in length")
    axes = list(range(len(starts))) if axes is None else ints(node, axes, "axes")
    steps = [1] * len(starts) if steps is None else ints(node, steps, "steps")
    if not len(axes) == len(steps) == len(starts):
        raise node.error("starts, ends, axes and steps must have the same length")
    axes = norm_axes(node, axes, r)
    index = [slice(None)] * r
    backwards = []
    for a, s, e, st in zip(axes, starts, ends, steps):
        if st == 0:
            raise node.error("a step of 0 is not allowed")
        rng = _slice_range(s, e, st, data.shape[a])
        if st > 0:
            # stop just past the last element taken and step 1 when one is taken: a huge
            # step (up to 2**63 - 1) must not overflow rt's 64-bit index arithmetic
            step = st if len(rng) > 1 else 1
            stop = rng.start + (len(rng) - 1) * step + 1 if len(rng) else rng.start
            index[a] = slice(rng.start, stop, step)
        else:
            backwards.append((a, rng))
    out = data[tuple(index)] if any(s != slice(None) for s in index) else data
    for a, rng in backwards:
        out = out.index_select(a, index_tensor(list(rng)))
    return out


# ---- Gather, GatherElements, ScatterND -----------------------------------------------------------

def _indices(node, indices, dim, what="indices"):
    """Integer indices as an int64 numpy array with negative values wrapped, range-checked."""
    a = to_numpy(indices)
    if a.dtype.kind not in "iu":
        raise node.error(f"{what} must be an integer tensor, got {a.dtype}")
    a = a.astype(np.int64)
    if a.size and (a.min() < -dim or a.max() >= dim):
        bad = a[(a < -dim) | (a >= dim)].reshape(-1)[0]
        raise node.error(f"{what} holds {int(bad)}, out of range for an axis of size {dim}")
    return np.where(a < 0, a + dim, a)


@converter("Gather", 1, 11, 13)
def gather(node, data, indices):
    """Gather: ``data`` indexed along ``axis`` by ``indices`` of any shape (negative indices
    count from the end); output shape data[:axis] + indices + data[axis+1:]."""
    r = data.dim()
    axis = norm_axis(node, node.attr("axis", 0), r)
    shape = tuple(data.shape)
    idx = _indices(node, indices, shape[axis])
    out_shape = shape[:axis] + idx.shape + shape[axis + 1:]
    out = data.index_select(axis, index_tensor(idx))
    return out.reshape(out_shape)


@converter("GatherElements", 11, 13)
def gather_elements(node, data, indices):
    """GatherElements: ``out[i][j] = data[indices[i][j]][j]`` along ``axis`` (torch.gather)."""
    r = data.dim()
    axis = norm_axis(node, node.attr("axis", 0), r)
    if indices.dim() != r:
        raise node.error(f"indices have rank {indices.dim()}, data rank {r}")
    idx = _indices(node, indices, data.shape[axis])
    for d in range(r):
        if d != axis and idx.shape[d] > data.shape[d]:
            raise node.error(f"indices shape {list(idx.shape)} exceeds data shape "
                             f"{list(data.shape)} on axis {d}")
    return rt.gather(data, axis, rt.tensor(np.ascontiguousarray(idx)))


_SCATTER_REDUCE = {"add": "sum", "mul": "prod", "max": "amax", "min": "amin"}


@converter("ScatterND", 11, 13, 16, 18)
def scatter_nd(node, data, indices, updates):
    """ScatterND-11/13 (replace), 16 (``reduction`` none/add/mul), 18 (also max/min): a copy
    of ``data`` with slices at ``indices[..., :k]`` replaced by (or reduced with) ``updates``."""
    reduction = node.attr("reduction", "none") if node.opset >= 16 else "none"
    if reduction != "none" and reduction not in _SCATTER_REDUCE:
        raise node.error(f"reduction {reduction!r} is not one of none, add, mul, max, min")
    if reduction in ("max", "min") and node.opset < 18:
        raise node.error(f"reduction {reduction!r} needs opset 18")
    shape = tuple(data.shape)
    idx = to_numpy(indices)
    if idx.dtype.kind not in "iu" or idx.ndim < 1:
        raise node.error("indices must be an integer tensor of rank >= 1")
    k = idx.shape[-1]
    if k > len(shape):
        raise node.error(f"indices' last dimension {k} exceeds the data rank {len(shape)}")
    expected = idx.shape[:-1] + shape[k:]
    if tuple(updates.shape) != expected:
        raise node.error(f"updates have shape {list(updates.shape)}, expected "
                         f"{list(expected)}")
    idx = idx.astype(np.int64).reshape(-1, k)
    for d in range(k):
        col = idx[:, d]
        if col.size and (col.min() < -shape[d] or col.max() >= shape[d]):
            raise node.error(f"indices hold a value out of range for axis {d} of size {shape[d]}")
        idx[:, d] = np.where(col < 0, col + shape[d], col)
    lead = math.prod(shape[:k])
    flat = np.ravel_multi_index(tuple(idx.T), shape[:k]) if k else np.zeros(len(idx), np.int64)
    rest = shape[k:]
    src = updates.reshape((len(flat),) + rest)
    base = data.reshape((lead,) + rest)
    index = index_tensor(flat)
    if reduction == "none":
        out = base.index_copy(0, index, src)
    elif reduction == "add":
        out = base.index_add(0, index, src)
    else:
        full = index.reshape((len(flat),) + (1,) * len(rest)).expand((len(flat),) + rest)
        out = base.scatter_reduce(0, full.contiguous(), src, _SCATTER_REDUCE[reduction],
                                  include_self=True)
    return out.reshape(shape)


# ---- Shape, Size ---------------------------------------------------------------------------------

@converter("Shape", 1, 13, 15, 19, 21, 23, 24, 25)
def shape_(node, data):
    """Shape: the input's shape as int64; ``start``/``end`` (15+) select a clamped range."""
    shape = list(data.shape)
    r = len(shape)
    start, end = 0, r
    if node.opset >= 15:
        start = int(node.attr("start", 0))
        end = node.attr("end")
        end = r if end is None else int(end)
        start = min(max(start + r if start < 0 else start, 0), r)
        end = min(max(end + r if end < 0 else end, 0), r)
    return rt.tensor(np.array(shape[start:end], dtype=np.int64).reshape(-1))


@preparer(shape_)
def _prepare_shape(node):
    """Shape without ``start``/``end`` (every shape PyTorch exports): no attribute reads."""
    if node.opset >= 15 and (node.has("start") or node.has("end")):
        return None

    def run(data):
        return rt.tensor(np.array(data.shape, dtype=np.int64).reshape(-1))
    return run


@converter("Size", 1, 13, 19, 21, 23, 24, 25)
def size(node, data):
    """Size: the number of elements as an int64 scalar."""
    return rt.tensor(np.array(math.prod(data.shape), dtype=np.int64))


# ---- Expand, Tile --------------------------------------------------------------------------------

@converter("Expand", 8, 13)
def expand(node, x, shape):
    """Expand: broadcasts ``x`` with ``shape`` in both directions (numpy rules: a 1 in
    ``shape`` keeps the input's dimension)."""
    target = ints(node, shape, "shape")
    if any(s < 0 for s in target):
        raise node.error(f"shape {target} has a negative dimension")
    try:
        out = np.broadcast_shapes(tuple(x.shape), tuple(target))
    except ValueError:
        raise node.error(f"cannot broadcast shape {list(x.shape)} with {target}") from None
    check_size(node, out)
    if tuple(out) == tuple(x.shape):
        return x
    return x.expand(*out) if len(out) else x


@converter("Tile", 6, 13)
def tile(node, x, repeats):
    """Tile: repeats the input ``repeats[i]`` times along axis i."""
    reps = ints(node, repeats, "repeats")
    if len(reps) != x.dim():
        raise node.error(f"repeats {reps} must have one value per input axis ({x.dim()})")
    if any(v < 0 for v in reps):
        raise node.error(f"repeats {reps} must be non-negative")
    check_size(node, [s * v for s, v in zip(x.shape, reps)])
    if x.dim() == 0:
        return x
    return x.repeat(*reps)


# ---- Pad -----------------------------------------------------------------------------------------

_NP_PAD_MODE = {"reflect": "reflect", "edge": "edge", "wrap": "wrap"}


@converter("Pad", 11, 13, 18, 19, 21, 23, 24, 25)
def pad(node, data, pads, constant_value=None, axes=None):
    """Pad-11/13 (``pads`` input: [x1_begin, x2_begin, ..., x1_end, x2_end, ...], negative
    values crop), 18 (``axes`` input), 19 (``wrap`` mode). Modes: constant (``constant_value``,
    default 0), reflect, edge, wrap, with numpy.pad's semantics (the ONNX reference)."""
    mode = node.attr("mode", "constant")
    if mode != "constant" and mode not in _NP_PAD_MODE:
        raise node.error(f"mode {mode!r} is not one of constant, reflect, edge, wrap")
    if mode == "wrap" and node.opset < 19:
        raise node.error("mode 'wrap' needs opset 19")
    r = data.dim()
    p = ints(node, pads, "pads")
    axes = list(range(r)) if axes is None or node.opset < 18 else \
        norm_axes(node, ints(node, axes, "axes"), r)
    if len(p) != 2 * len(axes):
        raise node.error(f"pads {p} must have 2 values per padded axis ({len(axes)} axes)")
    begin = [0] * r
    end = [0] * r
    for i, a in enumerate(axes):
        begin[a], end[a] = p[i], p[i + len(axes)]
    shape = tuple(data.shape)
    out_shape = [s + b + e for s, b, e in zip(shape, begin, end)]
    if any(s < 0 for s in out_shape):
        raise node.error(f"pads {p} crop more than the input shape {list(shape)} holds")
    check_size(node, out_shape)
    if mode == "constant":
        value = 0
        if constant_value is not None:
            v = _scalar_value(node, constant_value, data.dtype, "constant_value")
            value = 0 if v is None else v
        if data.dtype == rt.bool:
            value = bool(value)
        flat = []
        for a in reversed(range(r)):        # constant_pad_nd lists (left, right) from the last
            flat += [begin[a], end[a]]
        if not any(flat):
            return data
        return rt.constant_pad_nd(data, flat, value)
    out = data
    for a in range(r):                      # crop first, then pad the rest by index
        if begin[a] < 0 or end[a] < 0:
            lo, hi = max(-begin[a], 0), max(-end[a], 0)
            out = out.narrow(a, lo, out.shape[a] - lo - hi)
    for a in range(r):
        lo, hi = max(begin[a], 0), max(end[a], 0)
        if not lo and not hi:
            continue
        n = out.shape[a]
        if n == 0:
            raise node.error(f"cannot {mode}-pad axis {a}, which is empty")
        idx = np.pad(np.arange(n), (lo, hi), mode=_NP_PAD_MODE[mode])
        out = out.index_select(a, index_tensor(idx))
    return out


# ---- DepthToSpace, SpaceToDepth ------------------------------------------------------------------

def _blocksize(node, x):
    if x.dim() != 4:
        raise node.error(f"needs a 4-D (N, C, H, W) input, got rank {x.dim()}")
    b = node.attr("blocksize")
    if b is None or b < 1:
        raise node.error(f"blocksize must be a positive int, got {b}")
    mode = node.attr("mode", "DCR")
    if mode not in ("DCR", "CRD"):
        raise node.error(f"mode {mode!r} is not DCR or CRD")
    return b, mode


@converter("DepthToSpace", 1, 11, 13, 28)
def depth_to_space(node, x):
    """DepthToSpace-11+: (N, C, H, W) -> (N, C/b^2, H*b, W*b), ``mode`` DCR (default) or
    CRD, following the reshape/transpose formulas of the ONNX specification."""
    b, mode = _blocksize(node, x)
    n, c, h, w = x.shape
    if c % (b * b):
        raise node.error(f"channels {c} are not divisible by blocksize^2 = {b * b}")
    c2 = c // (b * b)
    if mode == "DCR":
        t = x.reshape((n, b, b, c2, h, w)).permute(0, 3, 4, 1, 5, 2)
    else:
        t = x.reshape((n, c2, b, b, h, w)).permute(0, 1, 4, 2, 5, 3)
    return t.reshape((n, c2, h * b, w * b))


@converter("SpaceToDepth", 1, 13, 28)
def space_to_depth(node, x):
    """SpaceToDepth: (N, C, H, W) -> (N, C*b^2, H/b, W/b); ``mode`` (28) DCR (default) or
    CRD, the inverses of DepthToSpace's."""
    b, mode = _blocksize(node, x)
    if mode == "CRD" and node.opset < 28:
        raise node.error("mode CRD needs opset 28")
    n, c, h, w = x.shape
    if h % b or w % b:
        raise node.error(f"spatial size {h}x{w} is not divisible by blocksize {b}")
    t = x.reshape((n, c, h // b, b, w // b, b))
    t = t.permute(0, 3, 5, 1, 2, 4) if mode == "DCR" else t.permute(0, 1, 3, 5, 2, 4)
    return t.reshape((n, c * b * b, h // b, w // b))
