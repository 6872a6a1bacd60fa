"""Differentiable views and shape ops.

A view op's output shares its input's storage; the autograd core records it as a view of
the input (so an in-place op on the view updates the input's history, see _util.inplace).

Every op here is linear, so its backward is its adjoint, written in registered (hence
differentiable) ops: the double backward of a view is the view again. The gradient of a
non-overlapping view (select, narrow, diagonal, basic indexing) is "zeros of the input's
shape with the gradient written at the view" (``_ViewScatter``), whose own backward applies
the view to its gradient. Forwards call rt_tensor, which does the argument checks and gives
PyTorch's messages; the no-grad path calls rt_tensor directly.
"""
from rt_autograd._ops._registry import FUNCTIONS, register
from rt_autograd._ops._util import Function, check_out, inplace, needs_grad, rtt

_T = rtt.Tensor

__all__ = ["view_scatter", "as_strided_grad", "storage_positions"]


def _geometry(t):
    return (tuple(t.shape), tuple(t.stride()), t.storage_offset())


def _wrap(d, n):
    """A dim wrapped into [0, n) (n >= 1); rt_tensor has already checked its range."""
    return d + n if d < 0 else d


# ---- the gradient of a non-overlapping view ---------------------------------------------------

class _ViewScatterBase(Function):
    """``zeros(shape)`` with ``g`` written at ``view_fn(zeros)``: the adjoint of the view
    ``view_fn``. Its backward is the view applied to the incoming gradient."""
    node_name = "ViewScatterBackward0"

    @staticmethod
    def forward(ctx, g, shape, view_fn):
        ctx.view_fn = view_fn
        out = rtt.zeros(shape, dtype=g.dtype)
        _T.copy_(view_fn(out), g)
        return out

    @staticmethod
    def backward(ctx, gg):
        return ctx.view_fn(gg), None, None


def _scatter_cls(name):
    return type(name, (_ViewScatterBase,), {"node_name": name})


_SCATTER = {n: _scatter_cls(n) for n in (
    "SelectBackwardBackward0", "SliceBackwardBackward0", "DiagonalBackwardBackward0",
    "IndexBackwardBackward0", "AliasBackwardBackward0", "UnsqueezeBackwardBackward0",
    "ViewScatterBackward0")}


def view_scatter(g, shape, view_fn, name="ViewScatterBackward0"):
    """Zeros of ``shape`` with ``g`` written at ``view_fn(zeros)`` (differentiable in ``g``);
    ``view_fn`` must select distinct elements (no overlap)."""
    return _SCATTER[name].apply(g, tuple(shape), view_fn)


class _View(Function):
    """A non-overlapping view ``view_fn(a)``; backward = ``view_scatter``."""
    node_name = None
    scatter = "ViewScatterBackward0"

    @staticmethod
    def forward(ctx, a, view_fn, scatter):
        ctx.shape = tuple(a.shape)
        ctx.view_fn = view_fn
        ctx.scatter = scatter
        return view_fn(a)

    @staticmethod
    def backward(ctx, g):
        return _SCATTER[ctx.scatter].apply(g, ctx.shape, ctx.view_fn), None, None


def _view_cls(name):
    return type(name.replace("Backward0", ""), (_View,), {"node_name": name})


_Select = _view_cls("SelectBackward0")
_Slice = _view_cls("SliceBackward0")
_Diagonal = _view_cls("DiagonalBackward0")
_Alias = _view_cls("AliasBackward0")
_UnsqueezeIdx = _view_cls("UnsqueezeBackward0")


def apply_view(a, view_fn, kind):
    """Run the non-overlapping view ``view_fn`` on ``a`` with graph recording; ``kind`` is
    one of 'select', 'slice', 'diagonal', 'alias', 'unsqueeze' (the node's name)."""
    cls, scatter = _VIEW_KINDS[kind]
    return cls.apply(a, view_fn, scatter)


_VIEW_KINDS = {
    "select": (_Select, "SelectBackwardBackward0"),
    "slice": (_Slice, "SliceBackwardBackward0"),
    "diagonal": (_Diagonal, "DiagonalBackwardBackward0"),
    "alias": (_Alias, "AliasBackwardBackward0"),
    "unsqueeze": (_UnsqueezeIdx, "UnsqueezeBackwardBackward0"),
}


# ---- as_strided ----------------------------------------------------------------------------

def _extent(shape, strides):
    if any(s == 0 for s in shape):
        return 0
    return 1 + sum((n - 1) * st for n, st in zip(shape, strides))


def _overlaps(shape, strides):
    dims = sorted((st, n) for n, st in zip(shape, strides) if n > 1)
    span = 1
    for st, n in dims:
        if st < span:
            return True
        span = st * n
    return False


def storage_positions(shape, strides, base):
    """int64 tensor of the storage positions (``base`` + sum of index * stride) of the
    elements of a strided geometry, in row-major order (flat)."""
    idx = rtt.full((), base, dtype=rtt.int64)
    for n, st in zip(shape, strides):
        idx = idx.unsqueeze(-1) + rtt.arange(n, dtype=rtt.int64) * st
    return idx.reshape(-1)


_offsets = storage_positions        # older name


def as_strided_grad(g, in_geometry, out_geometry):
    """The gradient of a strided view: ``g`` (shaped like the view, geometry
    ``out_geometry``) summed into the storage slots it covers, read back with the input's
    geometry ``in_geometry`` (elements of an input that alias one slot share it). Written
    with index_add / index_select, so it is differentiable in ``g``."""
    ishape, istrides, ioff = in_geometry
    oshape, ostrides, ooff = out_geometry
    ein, eout = _extent(ishape, istrides), _extent(oshape, ostrides)
    starts = [o for o, e in ((ioff, ein), (ooff, eout)) if e]
    lo = min(starts) if starts else 0
    hi = max([o + e for o, e in ((ioff, ein), (ooff, eout)) if e] or [0])
    size = max(hi - lo, 1)
    pos_out = storage_positions(oshape, ostrides, ooff - lo)
    pos_in = storage_positions(ishape, istrides, ioff - lo)
    flat = rtt.zeros(size, dtype=g.dtype)
    flat = FUNCTIONS["index_add"](flat, 0, pos_out, g.reshape(-1))
    gin = FUNCTIONS["index_select"](flat, 0, pos_in).reshape(ishape)
    if _overlaps(ishape, istrides):
        count = rtt.zeros(size, dtype=g.dtype)
        _T.index_add_(count, 0, pos_in, rtt.ones(pos_in.shape[0], dtype=g.dtype))
        gin = gin / _T.index_select(count, 0, pos_in).reshape(ishape)
    return gin


def scatter_to_geometry(g, in_geometry, out_geometry):
    """Kept for older callers: ``as_strided_grad``."""
    return as_strided_grad(g, in_geometry, out_geometry)


class AsStrided(Function):
    """Any strided view of a tensor; backward sums the gradient into the storage slots and
    reads them with the input's layout (overlapping elements of the view accumulate)."""
    node_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx, a, size, stride, storage_offset):
        ctx.in_geometry = _geometry(a)
        out = _T.as_strided(a, size, stride, storage_offset)
        ctx.out_geometry = _geometry(out)
        return out

    @staticmethod
    def backward(ctx, g):
        return as_strided_grad(g, ctx.in_geometry, ctx.out_geometry), None, None, None


@register("as_strided")
def as_strided(input, size, stride, storage_offset=None):
    if needs_grad(input):
        off = input.storage_offset() if storage_offset is None else storage_offset
        return AsStrided.apply(input, tuple(size), tuple(stride), off)
    return _T.as_strided(input, size, stride, storage_offset)


# ---- reshaping views -------------------------------------------------------------------------

class Reshape(Function):
    node_name = "ViewBackward0"

    @staticmethod
    def forward(ctx, a, shape, fn):
        ctx.shape = tuple(a.shape)
        return fn(a, *shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape), None, None


class _UnsafeReshape(Reshape):
    """reshape that had to copy (PyTorch's ``_unsafe_view`` of a clone)."""
    node_name = "UnsafeViewBackward0"


def _is_dtype_arg(shape):
    return len(shape) == 1 and (isinstance(shape[0], rtt.dtype) or
                                (isinstance(shape[0], type) and shape[0] in (float, int, bool)))


@register("view", function=False)
def view(self, *shape):
    if needs_grad(self) and not _is_dtype_arg(shape):
        return Reshape.apply(self, shape, _T.view)
    return _T.view(self, *shape)


@register("view_as", function=False)
def view_as(self, other):
    if needs_grad(self):
        return Reshape.apply(self, (tuple(other.shape),), _T.view)
    return _T.view_as(self, other)


@register("reshape", method=False)
def reshape(input, shape):
    if needs_grad(input):
        return Reshape.apply(input, (shape,), _T.reshape)
    return _T.reshape(input, shape)


@register("reshape", function=False)
def reshape_method(self, *shape):
    if needs_grad(self):
        return Reshape.apply(self, shape, _T.reshape)
    return _T.reshape(self, *shape)


@register("reshape_as", function=False)
def reshape_as(self, other):
    if needs_grad(self):
        return Reshape.apply(self, (tuple(other.shape),), _T.reshape)
    return _T.reshape_as(self, other)


@register("flatten")
def flatten(input, start_dim=0, end_dim=-1):
    if needs_grad(input):
        n = input.dim()
        if n == 0:
            return Reshape.apply(input, (1,), _T.reshape)
        out = _T.flatten(input, start_dim, end_dim)      # checks; a view or a copy
        if out is input:
            return input
        return Reshape.apply(input, (tuple(out.shape),), _T.reshape)
    return _T.flatten(input, start_dim, end_dim)


@register("unflatten")
def unflatten(input, dim, sizes):
    if needs_grad(input):
        out = _T.unflatten(input, dim, sizes)            # checks and infers -1
        return Reshape.apply(input, (tuple(out.shape),), _T.view)
    return _T.unflatten(input, dim, sizes)


class Squeeze(Function):
    node_name = "SqueezeBackward0"

    @staticmethod
    def forward(ctx, a, dim):
        shape = tuple(a.shape)
        out = _T.squeeze(a, dim)
        # the dims dropped, ascending: the backward unsqueezes them back
        if len(out.shape) == len(shape):
            ctx.dropped = ()
        elif dim is None:
            ctx.dropped = tuple(i for i, s in enumerate(shape) if s == 1)
        else:
            dims = dim if isinstance(dim, (tuple, list)) else (dim,)
            n = len(shape)
            ctx.dropped = tuple(sorted({_wrap(d, n) for d in dims if shape[_wrap(d, n)] == 1}))
        return out

    @staticmethod
    def backward(ctx, g):
        for d in ctx.dropped:
            g = g.unsqueeze(d)
        return g, None


class _Squeeze1(Squeeze):
    node_name = "SqueezeBackward1"


class _Squeeze2(Squeeze):
    node_name = "SqueezeBackward2"


@register("squeeze")
def squeeze(input, dim=None):
    if needs_grad(input):
        if dim is None:
            return Squeeze.apply(input, None)
        if isinstance(dim, (tuple, list)):
            return _Squeeze2.apply(input, tuple(dim))
        return _Squeeze1.apply(input, dim)
    return _T.squeeze(input, dim)


class Unsqueeze(Function):
    node_name = "UnsqueezeBackward0"

    @staticmethod
    def forward(ctx, a, dim):
        out = _T.unsqueeze(a, dim)
        ctx.dim = dim % out.dim()
        return out

    @staticmethod
    def backward(ctx, g):
        return g.squeeze(ctx.dim), None


@register("unsqueeze")
def unsqueeze(input, dim):
    if needs_grad(input):
        return Unsqueeze.apply(input, dim)
    return _T.unsqueeze(input, dim)


# ---- dim-reordering views ----------------------------------------------------------------------

class Transpose(Function):
    node_name = "TransposeBackward0"

    @staticmethod
    def forward(ctx, a, d0, d1):
        ctx.dims = (d0, d1)
        return _T.transpose(a, d0, d1)

    @staticmethod
    def backward(ctx, g):
        return g.transpose(*ctx.dims), None, None


@register("transpose", aliases=("swapaxes", "swapdims"))
def transpose(input, dim0, dim1):
    if needs_grad(input):
        return Transpose.apply(input, dim0, dim1)
    return _T.transpose(input, dim0, dim1)


class _TOp(Function):
    node_name = "TBackward0"

    @staticmethod
    def forward(ctx, a):
        return _T.t(a)

    @staticmethod
    def backward(ctx, g):
        return g.t()


@register("t")
def t(input):
    if needs_grad(input):
        return _TOp.apply(input)
    return _T.t(input)


class Permute(Function):
    node_name = "PermuteBackward0"

    @staticmethod
    def forward(ctx, a, dims):
        out = _T.permute(a, dims)
        n = len(dims)
        inv = [0] * n
        for i, d in enumerate(dims):
            inv[_wrap(d, n)] = i
        ctx.inv = tuple(inv)
        return out

    @staticmethod
    def backward(ctx, g):
        return g.permute(ctx.inv), None


def _dims_arg(dims):
    if len(dims) == 1 and not isinstance(dims[0], int):
        return tuple(dims[0])
    return tuple(dims)


@register("permute", method=False)
def permute(input, dims):
    if needs_grad(input):
        return Permute.apply(input, tuple(dims))
    return _T.permute(input, dims)


@register("permute", function=False)
def permute_method(self, *dims):
    if needs_grad(self):
        return Permute.apply(self, _dims_arg(dims))
    return _T.permute(self, *dims)


@register("movedim", aliases=("moveaxis",))
def movedim(input, source, destination):
    if needs_grad(input):
        # rt_tensor checks the arguments; the order it picks is the permutation's
        n = input.dim()
        src = [source] if isinstance(source, int) else list(source)
        dst = [destination] if isinstance(destination, int) else list(destination)
        _T.movedim(input, source, destination)
        src = [_wrap(s, n) for s in src]
        dst = [_wrap(d, n) for d in dst]
        order = [-1] * n
        for s, d in zip(src, dst):
            order[d] = s
        rest = iter([i for i in range(n) if i not in src])
        for i in range(n):
            if order[i] == -1:
                order[i] = next(rest)
        return Permute.apply(input, tuple(order))
    return _T.movedim(input, source, destination)


def _conj(x):
    return FUNCTIONS["conj"](x)


def _prop_T(self):
    dims = tuple(range(self.dim() - 1, -1, -1))
    if needs_grad(self):
        return Permute.apply(self, dims)
    return _T.permute(self, dims)


def _prop_mT(self):
    if needs_grad(self):
        if self.dim() < 2:
            return _T.mT.__get__(self)      # raises rt_tensor's (PyTorch's) error
        return Transpose.apply(self, -2, -1)
    return _T.mT.__get__(self)


def _prop_H(self):
    if needs_grad(self):
        if self.dim() > 2:
            return _T.H.__get__(self)       # raises
        out = _TOp.apply(self)
        return _conj(out) if self.dtype.is_complex else out
    return _T.H.__get__(self)


def _prop_mH(self):
    if needs_grad(self):
        out = _prop_mT(self)
        return _conj(out) if self.dtype.is_complex else out
    return _T.mH.__get__(self)


register("T", function=False)(property(_prop_T))
register("mT", function=False)(property(_prop_mT))
register("H", function=False)(property(_prop_H))
register("mH", function=False)(property(_prop_mH))


# ---- selecting views -----------------------------------------------------------------------------

@register("select")
def select(input, dim, index):
    if needs_grad(input):
        return _Select.apply(input, lambda x: x.select(dim, index), "SelectBackwardBackward0")
    return _T.select(input, dim, index)


@register("narrow")
def narrow(input, dim, start, length):
    if needs_grad(input):
        return _Slice.apply(input, lambda x: x.narrow(dim, start, length),
                            "SliceBackwardBackward0")
    return _T.narrow(input, dim, start, length)


@register("diagonal")
def diagonal(input, offset=0, dim1=0, dim2=1):
    if needs_grad(input):
        return _Diagonal.apply(input, lambda x: x.diagonal(offset, dim1, dim2),
                               "DiagonalBackwardBackward0")
    return _T.diagonal(input, offset, dim1, dim2)


class Unfold(Function):
    """Overlapping windows: the gradient of an input element sums over its windows."""
    node_name = "UnfoldBackward0"

    @staticmethod
    def forward(ctx, a, dimension, size, step):
        ctx.shape = tuple(a.shape)
        out = _T.unfold(a, dimension, size, step)
        ctx.args = (_wrap(dimension, a.dim()) if a.dim() else 0, size, step)
        return out

    @staticmethod
    def backward(ctx, g):
        return unfold_backward(g, ctx.shape, *ctx.args), None, None, None


def unfold_backward(g, shape, d, size, step):
    """The adjoint of ``x.unfold(d, size, step)`` for x of ``shape`` (differentiable)."""
    if len(shape) == 0:
        return g.reshape(())
    nwin = g.shape[d]
    gm = g.movedim(-1, d + 1)
    gm = gm.reshape(shape[:d] + (nwin * size,) + shape[d + 1:])
    starts = (rtt.arange(nwin, dtype=rtt.int64) * step).unsqueeze(1)
    idx = starts + rtt.arange(size, dtype=rtt.int64)
    return FUNCTIONS["index_add"](rtt.zeros(shape, dtype=g.dtype), d, idx.reshape(-1), gm)


@register("unfold", function=False)
def unfold(self, dimension, size, step):
    if needs_grad(self):
        return Unfold.apply(self, dimension, size, step)
    return _T.unfold(self, dimension, size, step)


# ---- broadcasting views ------------------------------------------------------------------------

class Expand(Function):
    node_name = "ExpandBackward0"

    @staticmethod
    def forward(ctx, a, size):
        return _T.expand(a, *size)

    @staticmethod
    def backward(ctx, g):
        return g, None          # the engine sums g back to the input's shape


@register("expand", function=False)
def expand(self, *size):
    if needs_grad(self):
        if len(size) == 1 and isinstance(size[0], (tuple, list)):
            size = tuple(size[0])
        return Expand.apply(self, tuple(size))
    return _T.expand(self, *size)


@register("expand_as", function=False)
def expand_as(self, other):
    if needs_grad(self):
        return Expand.apply(self, tuple(other.shape))
    return _T.expand_as(self, other)


@register("broadcast_to", method=False)
def broadcast_to(input, size):
    if needs_grad(input):
        return Expand.apply(input, tuple(size))
    return rtt.broadcast_to(input, size)


@register("broadcast_to", function=False)
def broadcast_to_method(self, *shape):
    if needs_grad(self):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return Expand.apply(self, tuple(shape))
    return _T.broadcast_to(self, *shape)


@register("broadcast_tensors", method=False)
def broadcast_tensors(*tensors):
    if needs_grad(*tensors):
        ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
        outs = rtt.broadcast_tensors(*ts)           # checks
        shape = tuple(outs[0].shape) if outs else ()
        return tuple(Expand.apply(x, shape) if needs_grad(x) else o for x, o in zip(ts, outs))
    return rtt.broadcast_tensors(*tensors)


# ---- splitting views ----------------------------------------------------------------------------

class Split(Function):
    node_name = "SplitBackward0"

    @staticmethod
    def forward(ctx, a, split, dim):
        outs = _T.split(a, split, dim)
        ctx.dim = _wrap(dim, a.dim()) if a.dim() else 0
        return tuple(outs)

    @staticmethod
    def backward(ctx, *grads):
        if len(grads) == 1:
            return grads[0], None, None
        return FUNCTIONS["cat"](list(grads), ctx.dim), None, None


class _SplitWithSizes(Split):
    node_name = "SplitWithSizesBackward0"


class Unbind(Function):
    node_name = "UnbindBackward0"

    @staticmethod
    def forward(ctx, a, dim):
        ctx.dim = dim
        return tuple(_T.unbind(a, dim))

    @staticmethod
    def backward(ctx, *grads):
        return FUNCTIONS["stack"](list(grads), ctx.dim), None


def _split_size_is_int(s):
    return isinstance(s, int) or (isinstance(s, rtt.Tensor) and s.dim() == 0)


@register("split")
def split(tensor, split_size_or_sections, dim=0):
    if needs_grad(tensor):
        if _split_size_is_int(split_size_or_sections):
            outs = Split.apply(tensor, int(split_size_or_sections), dim)
        else:
            outs = _SplitWithSizes.apply(tensor, [int(s) for s in split_size_or_sections], dim)
        return outs if isinstance(outs, tuple) else (outs,)
    return _T.split(tensor, split_size_or_sections, dim)


@register("split_with_sizes", function=False)
def split_with_sizes(self, split_sizes, dim=0):
    if needs_grad(self):
        outs = _SplitWithSizes.apply(self, [int(s) for s in split_sizes], dim)
        return outs if isinstance(outs, tuple) else (outs,)
    return _T.split_with_sizes(self, split_sizes, dim)


@register("chunk")
def chunk(input, chunks, dim=0):
    if needs_grad(input):
        outs = _T.chunk(input, chunks, dim)        # checks
        d = _wrap(dim, input.dim()) if input.dim() else dim
        size = input.shape[d]
        step = -(-size // chunks) if size else 0
        del outs
        return split(input, step, dim)
    return _T.chunk(input, chunks, dim)


@register("unbind")
def unbind(input, dim=0):
    if needs_grad(input):
        outs = Unbind.apply(input, dim)
        return outs if isinstance(outs, tuple) else (outs,)
    return _T.unbind(input, dim)


@register("tensor_split")
def tensor_split(input, indices_or_sections, dim=0):
    if needs_grad(input):
        if isinstance(indices_or_sections, rtt.Tensor):
            ios = indices_or_sections.tolist()
        else:
            ios = indices_or_sections
        _T.tensor_split(input, ios, dim)           # checks
        d = _wrap(dim, input.dim())
        size = input.shape[d]
        if isinstance(ios, int):
            q, r = divmod(size, ios)
            sizes = [q + 1] * r + [q] * (ios - r)
            bounds, start = [], 0
            for s in sizes:
                bounds.append((start, s))
                start += s
        else:
            edges = [0] + [min(max(int(i) if i >= 0 else int(i) + size, 0), size)
                           for i in ios] + [size]
            bounds = [(a, max(b - a, 0)) for a, b in zip(edges[:-1], edges[1:])]
        return tuple(narrow(input, d, a, n) for a, n in bounds)
    return _T.tensor_split(input, indices_or_sections, dim)


# ---- atleast_nd (views) -----------------------------------------------------------------------

def _atleast(fn, name, tensors):
    if len(tensors) == 1 and not isinstance(tensors[0], rtt.Tensor):
        return tuple(fn(x) for x in tensors[0])
    if len(tensors) != 1:
        return tuple(fn(x) for x in tensors)
    return fn(tensors[0])


def _atleast_1d_one(x):
    if not isinstance(x, rtt.Tensor) or not needs_grad(x):
        return rtt.atleast_1d(x)
    return reshape_method(x, 1) if x.dim() == 0 else x


def _atleast_2d_one(x):
    if not isinstance(x, rtt.Tensor) or not needs_grad(x):
        return rtt.atleast_2d(x)
    if x.dim() == 0:
        return reshape_method(x, 1, 1)
    return unsqueeze(x, 0) if x.dim() == 1 else x


def _atleast_3d_one(x):
    if not isinstance(x, rtt.Tensor) or not needs_grad(x):
        return rtt.atleast_3d(x)
    n = x.dim()
    if n == 0:
        return reshape_method(x, 1, 1, 1)
    if n == 1:
        return unsqueeze(unsqueeze(x, 0), -1)
    if n == 2:
        return unsqueeze(x, -1)
    return x


@register("atleast_1d", method=False)
def atleast_1d(*tensors):
    if needs_grad(*tensors):
        return _atleast(_atleast_1d_one, "atleast_1d", tensors)
    return rtt.atleast_1d(*tensors)


@register("atleast_2d", method=False)
def atleast_2d(*tensors):
    if needs_grad(*tensors):
        return _atleast(_atleast_2d_one, "atleast_2d", tensors)
    return rtt.atleast_2d(*tensors)


@register("atleast_3d", method=False)
def atleast_3d(*tensors):
    if needs_grad(*tensors):
        return _atleast(_atleast_3d_one, "atleast_3d", tensors)
    return rtt.atleast_3d(*tensors)


# ---- contiguous, clone, copy_ -------------------------------------------------------------------

class Clone(Function):
    node_name = "CloneBackward0"

    @staticmethod
    def forward(ctx, a, memory_format):
        return _T.clone(a) if memory_format is None else _T.clone(a, memory_format=memory_format)

    @staticmethod
    def backward(ctx, g):
        return g, None


@register("clone")
def clone(input, *, memory_format=None):
    if needs_grad(input):
        return Clone.apply(input, memory_format)
    if memory_format is None:
        return _T.clone(input)
    return _T.clone(input, memory_format=memory_format)


@register("contiguous", function=False)
def contiguous(self, memory_format=None):
    if needs_grad(self):
        if _T.is_contiguous(self):
            return self
        return Clone.apply(self, None)
    return _T.contiguous(self, memory_format)


class CopyFrom(Function):
    """``self.copy_(src)`` as a function of (self, src): src broadcast and cast to self."""
    node_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, dst, src):
        ctx.src_dtype = src.dtype
        out = rtt.empty_like(dst)
        _T.copy_(out, src)
        return out

    @staticmethod
    def backward(ctx, g):
        gsrc = None
        if ctx.needs_input_grad[1]:
            gsrc = g if g.dtype == ctx.src_dtype else g.to(ctx.src_dtype)
        return (g.mul(0) if ctx.needs_input_grad[0] else None), gsrc


@register("copy_", function=False)
def copy_(self, src, non_blocking=False):
    if not isinstance(src, rtt.Tensor):
        src = rtt.tensor(src)
    return inplace(self, CopyFrom.apply, (src,), None, _T.copy_)


# ---- reordering copies: flip, roll, rot90 ---------------------------------------------------

class _Linear(Function):
    """A linear op computed by rt_tensor (``fn(a, *args)``); its adjoint ``adj(g, ctx_data)``
    is written in registered ops. Subclasses set node_name."""
    node_name = None

    @staticmethod
    def forward(ctx, a, fn, args, adj, data):
        ctx.adj = adj
        ctx.data = data
        ctx.shape = tuple(a.shape)
        return fn(a, *args)

    @staticmethod
    def backward(ctx, g):
        return ctx.adj(g, ctx.shape, ctx.data), None, None, None, None


def _linear_cls(name):
    return type(name.replace("Backward0", ""), (_Linear,), {"node_name": name})


_Flip = _linear_cls("FlipBackward0")
_Roll = _linear_cls("RollBackward0")
_Rot90 = _linear_cls("Rot90Backward0")
_Repeat = _linear_cls("RepeatBackward0")
_RepeatInterleave = _linear_cls("RepeatInterleaveBackward0")
_IndexSelectLike = _linear_cls("IndexSelectBackward0")
_Tril = _linear_cls("TrilBackward0")
_Triu = _linear_cls("TriuBackward0")
_DiagEmbed = _linear_cls("DiagEmbedBackward0")
_Diag = _linear_cls("DiagBackward0")


def _flip_list(dims):
    return [dims] if isinstance(dims, int) else list(dims)


@register("flip", method=False)
def flip(input, dims):
    if needs_grad(input):
        return _Flip.apply(input, rtt.flip, (dims,), lambda g, s, d: flip(g, d), dims)
    return rtt.flip(input, dims)


@register("flip", function=False)
def flip_method(self, *dims):
    if len(dims) == 1:
        dims = dims[0]
    return flip(self, dims)


@register("fliplr")
def fliplr(input):
    if needs_grad(input):
        return _Flip.apply(input, rtt.fliplr, (), lambda g, s, d: fliplr(g), None)
    return rtt.fliplr(input)


@register("flipud")
def flipud(input):
    if needs_grad(input):
        return _Flip.apply(input, rtt.flipud, (), lambda g, s, d: flipud(g), None)
    return rtt.flipud(input)


def _roll_adj(g, shape, data):
    shifts, dims = data
    sh = [shifts] if isinstance(shifts, int) or hasattr(shifts, "__index__") else list(shifts)
    neg = [-int(s) for s in sh]
    if dims is None:
        return roll(g, neg, None)
    dl = [dims] if isinstance(dims, int) or hasattr(dims, "__index__") else list(dims)
    return roll(g, neg[::-1], dl[::-1])


@register("roll")
def roll(input, shifts, dims=None):
    if needs_grad(input):
        return _Roll.apply(input, rtt.roll, (shifts, dims), _roll_adj, (shifts, dims))
    return rtt.roll(input, shifts, dims)


@register("rot90")
def rot90(input, k=1, dims=(0, 1)):
    if needs_grad(input):
        return _Rot90.apply(input, rtt.rot90, (k, dims), lambda g, s, d: rot90(g, -k, dims), None)
    return rtt.rot90(input, k, dims)


def repeat_backward(g, shape, reps):
    """The adjoint of ``x.repeat(*reps)`` for x of ``shape``."""
    reps = list(reps)
    lead = len(reps) - len(shape)
    padded = [1] * lead + list(shape)
    if any(s == 0 for s in padded) or any(r == 0 for r in reps):
        return rtt.zeros(shape, dtype=g.dtype)
    split_shape = []
    sum_dims = []
    for i, (r, s) in enumerate(zip(reps, padded)):
        split_shape += [r, s]
        if r != 1:
            sum_dims.append(2 * i)
    gs = g.reshape(split_shape)
    if sum_dims:
        gs = gs.sum(tuple(sum_dims), keepdim=True)
    return gs.reshape(shape)


def _repeat_sizes(sizes):
    if len(sizes) == 1 and not isinstance(sizes[0], int) and not hasattr(sizes[0], "__index__"):
        return [int(s) for s in sizes[0]]
    return [int(s) for s in sizes]


@register("repeat", function=False)
def repeat(self, *sizes):
    if needs_grad(self):
        reps = _repeat_sizes(sizes)
        return _Repeat.apply(self, _T.repeat, tuple(sizes),
                             lambda g, s, d: repeat_backward(g, s, d), reps)
    return _T.repeat(self, *sizes)


def _tile_reps(ndim, dims):
    dl = [dims] if isinstance(dims, int) else [int(d) for d in dims]
    if len(dl) < ndim:
        dl = [1] * (ndim - len(dl)) + dl
    return dl


@register("tile", method=False)
def tile(input, dims):
    if needs_grad(input):
        return _Repeat.apply(input, rtt.tile, (dims,), lambda g, s, d: repeat_backward(g, s, d),
                             _tile_reps(input.dim(), dims))
    return rtt.tile(input, dims)


@register("tile", function=False)
def tile_method(self, *dims):
    if len(dims) == 1:
        dims = dims[0]
    return tile(self, dims)


def _repeat_interleave_adj(g, shape, data):
    repeats, dim = data
    if dim is None:
        n = 1
        for s in shape:
            n *= s
        base = (n,)
        d = 0
    else:
        base = shape if len(shape) else (1,)
        d = _wrap(dim, len(base))
    if isinstance(repeats, rtt.Tensor) and repeats.numel() != 1:
        idx = rtt.repeat_interleave(repeats.to(rtt.int64))
        out = FUNCTIONS["index_add"](rtt.zeros(base, dtype=g.dtype), d, idx, g)
    else:
        r = int(repeats.item()) if isinstance(repeats, rtt.Tensor) else int(repeats)
        gs = g.reshape(base[:d] + (base[d], r) + base[d + 1:])
        out = gs.sum(d + 1)
    return out.reshape(shape)


@register("repeat_interleave")
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    if repeats is not None and needs_grad(input):
        cls = _IndexSelectLike if isinstance(repeats, rtt.Tensor) and repeats.numel() != 1 \
            else _RepeatInterleave
        def fwd(a, r, d):
            return rtt.repeat_interleave(a, r, d, output_size=output_size)
        return cls.apply(input, fwd, (repeats, dim), _repeat_interleave_adj, (repeats, dim))
    return rtt.repeat_interleave(input, repeats, dim, output_size=output_size)


# ---- triangles and diagonals ---------------------------------------------------------------------

@register("tril")
def tril(input, diagonal=0, *, out=None):
    if out is None and needs_grad(input):
        return _Tril.apply(input, rtt.tril, (diagonal,), lambda g, s, d: tril(g, d), diagonal)
    check_out("tril", out, input)
    return rtt.tril(input, diagonal, out=out)


@register("triu")
def triu(input, diagonal=0, *, out=None):
    if out is None and needs_grad(input):
        return _Triu.apply(input, rtt.triu, (diagonal,), lambda g, s, d: triu(g, d), diagonal)
    check_out("triu", out, input)
    return rtt.triu(input, diagonal, out=out)


@register("tril_", function=False)
def tril_(self, diagonal=0):
    return inplace(self, tril, (diagonal,), None, _T.tril_)


@register("triu_", function=False)
def triu_(self, diagonal=0):
    return inplace(self, triu, (diagonal,), None, _T.triu_)


def _diag_adj(g, shape, k):
    if len(shape) == 1:
        return diagonal(g, k)
    return view_scatter(g, shape, lambda x: x.diagonal(k), "DiagonalBackwardBackward0")


@register("diag")
def diag(input, diagonal=0, *, out=None):
    if out is None and needs_grad(input):
        return _Diag.apply(input, rtt.diag, (diagonal,), _diag_adj, diagonal)
    check_out("diag", out, input)
    return rtt.diag(input, diagonal, out=out)


@register("diag_embed")
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    if needs_grad(input):
        return _DiagEmbed.apply(input, rtt.diag_embed, (offset, dim1, dim2),
                                lambda g, s, d: diagonal(g, *d), (offset, dim1, dim2))
    return rtt.diag_embed(input, offset, dim1, dim2)


@register("diagflat")
def diagflat(input, offset=0):
    if needs_grad(input):
        return _Diag.apply(input, rtt.diagflat, (offset,),
                           lambda g, s, k: diagonal(g, k).reshape(s), offset)
    return rtt.diagflat(input, offset)
