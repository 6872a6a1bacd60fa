"""Differentiable views and shape ops. A view op's output shares its input's storage; the
autograd core records it as a view of the input (so an in-place op on the view updates the
input's history, see _util.inplace)."""
from rt_autograd._ops._registry import register
from rt_autograd._ops._util import Function, inplace, needs_grad, rtt

_T = rtt.Tensor


def _geometry(t):
    return (tuple(t.shape), tuple(t.stride()), t.storage_offset())


class AsStrided(Function):
    """Any strided view of a tensor; backward scatters the gradient into the input's layout
    (overlapping elements of the view accumulate)."""
    node_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx, a, size, stride, storage_offset):
        ctx.in_geometry = _geometry(a)
        out = _T.as_strided(a, size, stride, storage_offset)
        ctx.out_geometry = _geometry(out)
        return out

    @staticmethod
    def backward(ctx, g):
        return scatter_to_geometry(g, ctx.in_geometry, ctx.out_geometry), None, None, None


def scatter_to_geometry(g, in_geometry, out_geometry):
    """The gradient of a strided view: ``g`` (shaped like the view) added into zeros laid out
    like the input, at the view's elements. Differentiable."""
    ishape, istrides, ioffset = in_geometry
    oshape, ostrides, ooffset = out_geometry
    size = _extent(ishape, istrides)
    flat = rtt.zeros(max(size, 1), dtype=g.dtype)
    if _overlaps(oshape, ostrides):
        # accumulate overlapping positions: index_add over the flat storage offsets
        idx = _offsets(oshape, ostrides, ooffset - ioffset)
        flat = flat.index_add(0, idx, g.reshape(-1))
    else:
        region = flat.as_strided(oshape, ostrides, ooffset - ioffset)
        region.copy_(g)
    return flat.as_strided(ishape, istrides, 0)


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


def _offsets(shape, strides, base):
    idx = rtt.full((), base, dtype=rtt.int64)
    for n, st in zip(shape, strides):
        idx = idx.unsqueeze(-1) + rtt.arange(n, dtype=rtt.int64) * st
    return idx.reshape(-1)


class Expand(Function):
    node_name = "ExpandBackward0"

    @staticmethod
    def forward(ctx, a, size):
        return _T.expand(a, *size)

    @staticmethod
    def backward(ctx, g):
        return g, None          # the engine sums g back to the input's shape


class Reshape(Function):
    node_name = "ViewBackward0"

    @staticmethod
    def forward(ctx, a, shape, fn):
        ctx.shape = tuple(a.shape)
        return fn(a, *shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape), None, None


class Transpose(Function):
    node_name = "TransposeBackward0"

    @staticmethod
    def forward(ctx, a, d0, d1):
        ctx.dims = (d0, d1)
        return _T.transpose(a, d0, d1)

    @staticmethod
    def backward(ctx, g):
        return g.transpose(*ctx.dims), None, None


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


class Clone(Function):
    node_name = "CloneBackward0"

    @staticmethod
    def forward(ctx, a, memory_format):
        return _T.clone(a) if memory_format is None else _T.clone(a, memory_format=memory_format)

    @staticmethod
    def backward(ctx, g):
        return g, None


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


# ---- wrappers ---------------------------------------------------------------------------------

@register("as_strided")
def as_strided(input, size, stride, storage_offset=None):
    if needs_grad(input):
        off = input.storage_offset() if storage_offset is None else storage_offset
        return AsStrided.apply(input, tuple(size), tuple(stride), off)
    return _T.as_strided(input, size, stride, storage_offset)


@register("expand", function=False)
def expand(self, *size):
    if needs_grad(self):
        if len(size) == 1 and isinstance(size[0], (tuple, list)):
            size = tuple(size[0])
        return Expand.apply(self, tuple(size))
    return _T.expand(self, *size)


@register("reshape")
def reshape(input, *shape):
    if needs_grad(input):
        return Reshape.apply(input, shape, _T.reshape)
    return _T.reshape(input, *shape)


@register("view", function=False)
def view(self, *shape):
    if needs_grad(self):
        return Reshape.apply(self, shape, _T.view)
    return _T.view(self, *shape)


@register("transpose", aliases=("swapaxes", "swapdims"))
def transpose(input, dim0, dim1):
    if needs_grad(input):
        return Transpose.apply(input, dim0, dim1)
    return _T.transpose(input, dim0, dim1)


@register("unsqueeze")
def unsqueeze(input, dim):
    if needs_grad(input):
        return Unsqueeze.apply(input, dim)
    return _T.unsqueeze(input, dim)


@register("clone")
def clone(input, *, memory_format=None):
    if needs_grad(input):
        return Clone.apply(input, memory_format)
    return _T.clone(input) if memory_format is None else _T.clone(input, memory_format=memory_format)


@register("copy_", function=False)
def copy_(self, src, non_blocking=False):
    if not isinstance(src, rtt.Tensor):
        src = rtt.tensor(src)
    return inplace(self, CopyFrom.apply, (src,), None, _T.copy_)
