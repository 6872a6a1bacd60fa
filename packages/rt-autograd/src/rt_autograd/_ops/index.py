"""Differentiable indexing: ``t[index]``, ``t[index] = value``, gather/scatter (add, reduce),
index_select/add/copy/fill/put, masked_fill/select/scatter, where, take, take_along_dim,
put, and their in-place forms.

Forwards are rt_tensor's (argument checks and PyTorch's messages). Backward formulas are
PyTorch's (tools/autograd/derivatives.yaml, FunctionsManual.cpp), written in the registered
ops of this module, so double backward works: the adjoint of a gather is a scatter_add and
the other way round, index_select <-> index_add, take <-> put(accumulate), masked_select <->
masked_scatter, basic indexing <-> writing into zeros, advanced indexing <-> index_put with
accumulation. Index tensors never get gradients.
"""
from rt_autograd._ops._registry import FUNCTIONS, register
from rt_autograd._ops._util import Function, check_inplace, check_out, inplace, needs_grad, rtt
from rt_autograd._ops.shape import apply_view, view_scatter

_T = rtt.Tensor


def _zeros(shape, dtype):
    return rtt.zeros(tuple(shape), dtype=dtype)


def _wrap(d, n):
    return d + n if d < 0 else d


def _leading_slices(shape):
    return tuple(slice(0, n) for n in shape)


def _pad_to(g, shape):
    """``g`` placed at the start of zeros of ``shape`` (a src larger than its index)."""
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    idx = _leading_slices(g.shape)
    return view_scatter(g, shape, lambda x: x[idx], "SliceBackwardBackward0")


def _head(t, shape):
    """The leading ``shape`` block of ``t`` (a view), or ``t`` when it already has it."""
    if tuple(t.shape) == tuple(shape):
        return t
    return t[_leading_slices(shape)]


# ---- t[index] ------------------------------------------------------------------------------------

_BASIC_TYPES = frozenset((int, slice, type(None), type(Ellipsis)))
_FULL = slice(None)


def _basic_kind(index):
    """For a basic index (ints, slices, None, Ellipsis): the view op PyTorch applies last
    ('select', 'slice', 'unsqueeze', or 'alias' when it only aliases); None for an advanced
    index."""
    items = index if type(index) is tuple else (index,)
    kind = "alias"
    for i in items:
        t = type(i)
        if t not in _BASIC_TYPES:
            return None
        if t is int:
            kind = "select"
        elif t is slice:
            if i != _FULL:
                kind = "slice"
        elif i is None:
            kind = "unsqueeze"
    return kind


class GetItem(Function):
    """Advanced indexing (a copy); backward accumulates into zeros (repeated positions add)."""
    node_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, a, index):
        ctx.shape = tuple(a.shape)
        ctx.index = index
        return _T.__getitem__(a, index)

    @staticmethod
    def backward(ctx, g):
        z = _zeros(ctx.shape, g.dtype)
        return _index_put_accumulate(z, ctx.index, g), None


class _IndexPutAccumulate(Function):
    """``base`` with ``values`` added at ``base[index]`` (repeated positions accumulate)."""
    node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, base, index, values):
        ctx.index = index
        out = _T.clone(base)
        _accumulate_at(out, index, values)
        return out

    @staticmethod
    def backward(ctx, g):
        gv = g[ctx.index] if ctx.needs_input_grad[2] else None
        return (g if ctx.needs_input_grad[0] else None), None, gv


def _accumulate_at(out, index, values):
    """out[index] += values, accumulating repeated positions (index_put_ accumulate=True);
    ``out`` is contiguous."""
    positions = rtt.arange(out.numel(), dtype=rtt.int64).reshape(out.shape)
    pos = _T.__getitem__(positions, index)
    if isinstance(values, rtt.Tensor):
        vals = rtt.broadcast_to(values, pos.shape)
    else:
        vals = rtt.full(pos.shape, values, dtype=out.dtype)
    if vals.dtype != out.dtype:
        vals = _T.to(vals, out.dtype)
    _T.index_add_(_T.view(out, -1), 0, _T.reshape(pos, -1), _T.reshape(vals, -1))


@register("_index_put_accumulate", method=False)
def _index_put_accumulate(base, index, values):
    if needs_grad(base, values):
        return _IndexPutAccumulate.apply(base, index, values)
    out = _T.clone(base)
    _accumulate_at(out, index, values)
    return out


@register("__getitem__", function=False)
def getitem(self, index):
    if needs_grad(self):
        kind = _basic_kind(index)
        if kind is not None:
            return apply_view(self, lambda x: x[index], kind)
        return GetItem.apply(self, index)
    return _T.__getitem__(self, index)


class _ZeroAt(Function):
    """``g`` with ``g[index]`` set to zero (self-adjoint)."""
    node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, g, index):
        ctx.index = index
        out = _T.clone(g)
        _T.__setitem__(out, index, 0)
        return out

    @staticmethod
    def backward(ctx, gg):
        return _ZeroAt.apply(gg, ctx.index), None


class SetItem(Function):
    """``x[index] = value`` out of place: a copy of x with the region replaced (the in-place
    form goes through _util.inplace, which handles versions, views and history)."""
    node_name = "CopySlices"

    @staticmethod
    def forward(ctx, x, value, index):
        ctx.index = index
        out = _T.clone(x)
        _T.__setitem__(out, index, value)
        return out

    @staticmethod
    def backward(ctx, g):
        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = _ZeroAt.apply(g, ctx.index)
        if ctx.needs_input_grad[1]:
            gv = g[ctx.index]
        return gx, gv, None


@register("__setitem__", function=False)
def setitem(self, index, value):
    if needs_grad(self, value):
        inplace(self, lambda x, v: SetItem.apply(x, v, index), (value,))
        return
    check_inplace(self)
    _T.__setitem__(self, index, value)


# ---- gather / scatter ---------------------------------------------------------------------------

class Gather(Function):
    node_name = "GatherBackward0"

    @staticmethod
    def forward(ctx, a, dim, index, sparse_grad):
        ctx.shape = tuple(a.shape)
        ctx.dim = dim
        ctx.index = index
        return rtt.gather(a, dim, index, sparse_grad=sparse_grad)

    @staticmethod
    def backward(ctx, g):
        return scatter_add(_zeros(ctx.shape, g.dtype), ctx.dim, ctx.index, g), None, None, None


@register("gather")
def gather(input, dim, index, *, sparse_grad=False, out=None):
    if out is None and needs_grad(input):
        return Gather.apply(input, dim, index, sparse_grad)
    check_out("gather", out, input)
    return rtt.gather(input, dim, index, sparse_grad=sparse_grad, out=out)


def _gather_to(g, dim, index, src_shape):
    return _pad_to(gather(g, dim, index), src_shape)


class ScatterAdd(Function):
    node_name = "ScatterAddBackward0"

    @staticmethod
    def forward(ctx, a, dim, index, src):
        ctx.dim = dim
        ctx.index = index
        ctx.src_shape = tuple(src.shape)
        return rtt.scatter_add(a, dim, index, src)

    @staticmethod
    def backward(ctx, g):
        gsrc = _gather_to(g, ctx.dim, ctx.index, ctx.src_shape) if ctx.needs_input_grad[3] else None
        return g, None, None, gsrc


@register("scatter_add")
def scatter_add(input, dim, index, src):
    if needs_grad(input, src):
        return ScatterAdd.apply(input, dim, index, src)
    return rtt.scatter_add(input, dim, index, src)


@register("scatter_add_", function=False)
def scatter_add_(self, dim, index, src):
    return inplace(self, scatter_add, (dim, index, src), None, _T.scatter_add_)


class Scatter(Function):
    """scatter with a tensor src (reduce None, 'add' or 'multiply')."""
    node_name = "ScatterBackward0"

    @staticmethod
    def forward(ctx, a, dim, index, src, reduce):
        ctx.dim = dim
        ctx.index = index
        ctx.reduce = reduce
        ctx.src_shape = tuple(src.shape)
        out = rtt.scatter(a, dim, index, src, reduce=reduce)
        if reduce == "multiply":
            ctx.save_for_backward(a, src, out)
        return out

    @staticmethod
    def backward(ctx, g):
        dim, index, reduce = ctx.dim, ctx.index, ctx.reduce
        ga = gsrc = None
        if reduce is None:
            if ctx.needs_input_grad[0]:
                ga = scatter(g, dim, index, 0)
            if ctx.needs_input_grad[3]:
                gsrc = _gather_to(g, dim, index, ctx.src_shape)
        elif reduce == "add":
            ga = g
            if ctx.needs_input_grad[3]:
                gsrc = _gather_to(g, dim, index, ctx.src_shape)
        else:
            a, src, out = ctx.saved_tensors
            ga, gsrc = scatter_reduce_backward(g, a, dim, index, _head(src, index.shape),
                                               "prod", True, out)
            gsrc = _pad_to(gsrc, ctx.src_shape) if ctx.needs_input_grad[3] else None
        return ga, None, None, gsrc, None


class _ScatterValue(Function):
    """scatter with a number (reduce None, 'add' or 'multiply')."""
    node_name = "ScatterBackward1"

    @staticmethod
    def forward(ctx, a, dim, index, value, reduce):
        ctx.dim = dim
        ctx.index = index
        ctx.value = value
        ctx.reduce = reduce
        return rtt.scatter(a, dim, index, value, reduce=reduce)

    @staticmethod
    def backward(ctx, g):
        if ctx.reduce is None:
            return scatter(g, ctx.dim, ctx.index, 0), None, None, None, None
        if ctx.reduce == "add":
            return g, None, None, None, None
        # multiply: each scattered position was multiplied by value once per hit
        ones = rtt.ones(tuple(ctx.index.shape), dtype=g.dtype)
        count = _T.scatter_add(_zeros(g.shape, g.dtype), ctx.dim, ctx.index, ones)
        v = ctx.value
        factor = rtt.pow(rtt.full((), v.conjugate() if isinstance(v, complex) else v,
                                  dtype=g.dtype), count)
        return g * factor, None, None, None, None


@register("scatter")
def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    if needs_grad(input, src):
        if src is None:
            src = value
        if isinstance(src, rtt.Tensor):
            return Scatter.apply(input, dim, index, src, reduce)
        if src is None:
            return rtt.scatter(input, dim, index, value=value, reduce=reduce)  # raises
        return _ScatterValue.apply(input, dim, index, src, reduce)
    return rtt.scatter(input, dim, index, src, value=value, reduce=reduce)


@register("scatter_", function=False)
def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
    return inplace(self, scatter, (dim, index, src), {"value": value, "reduce": reduce},
                   _T.scatter_)


def scatter_reduce_backward(grad, self, dim, index, src, reduce, include_self, result):
    """PyTorch's scatter_reduce_backward (FunctionsManual.cpp), in registered ops."""
    if reduce == "sum":
        grad_self = grad
        grad_src = gather(grad, dim, index)
    elif reduce == "prod":
        masked_self = masked_fill(self, self == 0, 1)
        masked_self_result = scatter_reduce(masked_self, dim, index, src, reduce,
                                            include_self=include_self)
        grad_self = grad * masked_self_result / masked_self
        src_zero = src == 0
        src_num_zeros = gather(_T.scatter_add(_zeros(self.shape, self.dtype), dim, index,
                                              _T.to(src_zero, self.dtype)), dim, index)
        src_single_zero = src_zero & (src_num_zeros == 1)
        masked_src = masked_fill(src, src_single_zero, 1)
        masked_src_result = scatter_reduce(self, dim, index, masked_src, reduce,
                                           include_self=include_self)
        grad_src = where(src_single_zero, gather(grad * masked_src_result, dim, index),
                         gather(grad * result, dim, index) / masked_fill(src, src_zero, 1))
    elif reduce == "mean":
        n = (rtt.ones if include_self else rtt.zeros)(tuple(grad.shape), dtype=grad.dtype)
        n = _T.scatter_add(n, dim, index, rtt.ones(tuple(src.shape), dtype=grad.dtype))
        _T.masked_fill_(n, n == 0, 1)
        grad_self = grad / n
        grad_src = gather(grad, dim, index) / _T.gather(n, dim, index)
    else:   # amax / amin: the gradient is shared evenly between the values equal to the result
        value = gather(result, dim, index)
        self_is_result = _T.to(self == result, self.dtype)
        src_is_result = _T.to(src == value, self.dtype)
        n_to_distribute = _T.scatter_add(self_is_result, dim, index, src_is_result)
        grad_distributed = grad / n_to_distribute
        grad_self = (self == result) * grad_distributed
        grad_src = (src == value) * gather(grad_distributed, dim, index)
    if not include_self:
        grad_self = scatter(grad_self, dim, index, 0)
    return grad_self, grad_src


class ScatterReduce(Function):
    node_name = "ScatterReduceBackward0"

    @staticmethod
    def forward(ctx, a, dim, index, src, reduce, include_self):
        if a.dtype.is_complex:
            raise RuntimeError("scatter_reduce does not support automatic differentiation for "
                               "outputs with complex dtype.")
        out = rtt.scatter_reduce(a, dim, index, src, reduce, include_self=include_self)
        ctx.args = (dim, index, reduce, include_self)
        ctx.src_shape = tuple(src.shape)
        ctx.save_for_backward(a, src, out)
        return out

    @staticmethod
    def backward(ctx, g):
        dim, index, reduce, include_self = ctx.args
        a, src, out = ctx.saved_tensors
        ga, gsrc = scatter_reduce_backward(g, a, dim, index, _head(src, index.shape), reduce,
                                           include_self, out)
        if ctx.needs_input_grad[3]:
            gsrc = _pad_to(gsrc, ctx.src_shape)
        return ga, None, None, gsrc, None, None


@register("scatter_reduce")
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    if needs_grad(input, src):
        return ScatterReduce.apply(input, dim, index, src, reduce, include_self)
    return rtt.scatter_reduce(input, dim, index, src, reduce, include_self=include_self)


@register("scatter_reduce_", function=False)
def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    return inplace(self, scatter_reduce, (dim, index, src, reduce),
                   {"include_self": include_self}, _T.scatter_reduce_)


# ---- index_select / index_add / index_copy / index_fill ----------------------------------------

class IndexSelect(Function):
    node_name = "IndexSelectBackward0"

    @staticmethod
    def forward(ctx, a, dim, index):
        ctx.shape = tuple(a.shape)
        ctx.dim = dim
        ctx.index = index
        return rtt.index_select(a, dim, index)

    @staticmethod
    def backward(ctx, g):
        return index_add(_zeros(ctx.shape, g.dtype), ctx.dim, ctx.index, g), None, None


@register("index_select")
def index_select(input, dim, index, *, out=None):
    if out is None and needs_grad(input):
        return IndexSelect.apply(input, dim, index)
    check_out("index_select", out, input)
    return rtt.index_select(input, dim, index, out=out)


def _select_to(g, dim, index, source_shape):
    r = index_select(g, dim, index)
    return r if tuple(r.shape) == tuple(source_shape) else r.reshape(source_shape)


class IndexAdd(Function):
    node_name = "IndexAddBackward0"

    @staticmethod
    def forward(ctx, a, dim, index, source, alpha):
        ctx.dim = dim
        ctx.index = index
        ctx.alpha = alpha
        ctx.source_shape = tuple(source.shape)
        return rtt.index_add(a, dim, index, source, alpha=alpha)

    @staticmethod
    def backward(ctx, g):
        gs = None
        if ctx.needs_input_grad[3]:
            gs = _select_to(g, ctx.dim, ctx.index, ctx.source_shape)
            alpha = ctx.alpha
            if isinstance(alpha, rtt.Tensor):
                alpha = alpha.item()
            if alpha != 1:
                gs = gs * (alpha.conjugate() if isinstance(alpha, complex) else alpha)
        return g, None, None, gs, None


@register("index_add")
def index_add(input, dim, index, source, *, alpha=1):
    if needs_grad(input, source):
        return IndexAdd.apply(input, dim, index, source, alpha)
    return rtt.index_add(input, dim, index, source, alpha=alpha)


@register("index_add_", function=False)
def index_add_(self, dim, index, source, *, alpha=1):
    return inplace(self, index_add, (dim, index, source), {"alpha": alpha}, _T.index_add_)


def _long(index):
    return index if index.dtype == rtt.int64 else _T.to(index, rtt.int64)


class IndexCopy(Function):
    node_name = "IndexCopyBackward0"

    @staticmethod
    def forward(ctx, a, dim, index, source):
        ctx.dim = dim
        ctx.index = index
        ctx.source_shape = tuple(source.shape)
        return rtt.index_copy(a, dim, index, source)

    @staticmethod
    def backward(ctx, g):
        ga = index_fill(g, ctx.dim, _long(ctx.index), 0) if ctx.needs_input_grad[0] else None
        gs = None
        if ctx.needs_input_grad[3]:
            gs = _select_to(g, ctx.dim, ctx.index, ctx.source_shape)
        return ga, None, None, gs


@register("index_copy")
def index_copy(input, dim, index, source):
    if needs_grad(input, source):
        return IndexCopy.apply(input, dim, index, source)
    return rtt.index_copy(input, dim, index, source)


@register("index_copy_", function=False)
def index_copy_(self, dim, index, source):
    return inplace(self, index_copy, (dim, index, source), None, _T.index_copy_)


class IndexFill(Function):
    node_name = "IndexFillBackward0"

    @staticmethod
    def forward(ctx, a, dim, index, value):
        ctx.dim = dim
        ctx.index = index
        ctx.ndim = a.dim()
        ctx.size = a.shape[_wrap(dim, a.dim())] if a.dim() else 1
        return rtt.index_fill(a, dim, index, value)

    @staticmethod
    def backward(ctx, g):
        ga = gv = None
        if ctx.needs_input_grad[0]:
            ga = index_fill(g, ctx.dim, ctx.index, 0)
        if ctx.needs_input_grad[3]:
            # each filled position once, whatever the repeats in index
            idx = rtt.unique(rtt.remainder(ctx.index, ctx.size)) if ctx.index.numel() else ctx.index
            gv = index_select(g, ctx.dim, idx).sum()
        return ga, None, None, gv


@register("index_fill")
def index_fill(input, dim, index, value):
    if needs_grad(input, value):
        return IndexFill.apply(input, dim, index, value)
    return rtt.index_fill(input, dim, index, value)


@register("index_fill_", function=False)
def index_fill_(self, dim, index, value):
    return inplace(self, index_fill, (dim, index, value), None, _T.index_fill_)


# ---- index_put ----------------------------------------------------------------------------------

def _as_getitem(indices):
    return tuple(_FULL if i is None else i for i in indices)


class IndexPut(Function):
    node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, a, indices, values, accumulate):
        ctx.indices = tuple(indices)
        ctx.accumulate = accumulate
        return rtt.index_put(a, indices, values, accumulate)

    @staticmethod
    def backward(ctx, g):
        ga = gv = None
        if ctx.needs_input_grad[0]:
            ga = g if ctx.accumulate else index_put(g, ctx.indices, _zeros((), g.dtype), False)
        if ctx.needs_input_grad[2]:
            gv = g[_as_getitem(ctx.indices)]
        return ga, None, gv, None


@register("index_put")
def index_put(input, indices, values, accumulate=False):
    if needs_grad(input, values):
        return IndexPut.apply(input, indices, values, accumulate)
    return rtt.index_put(input, indices, values, accumulate)


@register("index_put_")
def index_put_(input, indices, values, accumulate=False):
    return inplace(input, index_put, (indices, values, accumulate), None, rtt.index_put_)


# ---- masked ops ---------------------------------------------------------------------------------

class MaskedFill(Function):
    node_name = "MaskedFillBackward0"

    @staticmethod
    def forward(ctx, a, mask, value):
        ctx.mask = mask
        return rtt.masked_fill(a, mask, value)

    @staticmethod
    def backward(ctx, g):
        ga = masked_fill(g, ctx.mask, 0) if ctx.needs_input_grad[0] else None
        gv = where(ctx.mask, g, 0) if ctx.needs_input_grad[2] else None
        return ga, None, gv


@register("masked_fill")
def masked_fill(input, mask, value):
    if needs_grad(input, value):
        return MaskedFill.apply(input, mask, value)
    return rtt.masked_fill(input, mask, value)


@register("masked_fill_", function=False)
def masked_fill_(self, mask, value):
    return inplace(self, masked_fill, (mask, value), None, _T.masked_fill_)


class MaskedSelect(Function):
    node_name = "MaskedSelectBackward0"

    @staticmethod
    def forward(ctx, a, mask):
        ctx.mask = mask
        ctx.shape = tuple(rtt.broadcast_shapes(a.shape, mask.shape))
        return rtt.masked_select(a, mask)

    @staticmethod
    def backward(ctx, g):
        return masked_scatter(_zeros(ctx.shape, g.dtype), ctx.mask, g), None


@register("masked_select")
def masked_select(input, mask, *, out=None):
    if out is None and needs_grad(input):
        return MaskedSelect.apply(input, mask)
    check_out("masked_select", out, input)
    return rtt.masked_select(input, mask, out=out)


class MaskedScatter(Function):
    node_name = "MaskedScatterBackward0"

    @staticmethod
    def forward(ctx, a, mask, source):
        ctx.mask = mask
        ctx.source_shape = tuple(source.shape)
        ctx.source_numel = source.numel()
        return rtt.masked_scatter(a, mask, source)

    @staticmethod
    def backward(ctx, g):
        ga = gs = None
        if ctx.needs_input_grad[0]:
            ga = masked_fill(g, ctx.mask, 0)
        if ctx.needs_input_grad[2]:
            sel = masked_select(g, ctx.mask)
            diff = ctx.source_numel - sel.numel()
            if diff > 0:
                sel = FUNCTIONS["cat"]([sel, _zeros((diff,), g.dtype)], 0)
            gs = sel.reshape(ctx.source_shape)
        return ga, None, gs


@register("masked_scatter")
def masked_scatter(input, mask, source):
    if needs_grad(input, source):
        return MaskedScatter.apply(input, mask, source)
    return rtt.masked_scatter(input, mask, source)


@register("masked_scatter_", function=False)
def masked_scatter_(self, mask, source):
    return inplace(self, masked_scatter, (mask, source), None, _T.masked_scatter_)


# ---- where -------------------------------------------------------------------------------------

class Where(Function):
    node_name = "WhereBackward0"

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.condition = condition
        return rtt.where(condition, a, b)

    @staticmethod
    def backward(ctx, g):
        c = ctx.condition
        ga = where(c, g, 0) if ctx.needs_input_grad[1] else None
        gb = where(c, 0, g) if ctx.needs_input_grad[2] else None
        return None, ga, gb


@register("where", method=False)
def where(condition, input=None, other=None, *, out=None):
    if out is None and needs_grad(input, other):
        return Where.apply(condition, input, other)
    check_out("where", out, input, other)
    return rtt.where(condition, input, other, out=out)


@register("where", function=False)
def where_method(self, condition, other):
    if needs_grad(self, other):
        return Where.apply(condition, self, other)
    return rtt.where(condition, self, other)


# ---- take / put / take_along_dim ---------------------------------------------------------------

class Take(Function):
    node_name = "TakeBackward0"

    @staticmethod
    def forward(ctx, a, index):
        ctx.shape = tuple(a.shape)
        ctx.index = index
        return rtt.take(a, index)

    @staticmethod
    def backward(ctx, g):
        return put(_zeros(ctx.shape, g.dtype), ctx.index, g, True), None


@register("take")
def take(input, index):
    if needs_grad(input):
        return Take.apply(input, index)
    return rtt.take(input, index)


class Put(Function):
    node_name = "PutBackward0"

    @staticmethod
    def forward(ctx, a, index, source, accumulate):
        ctx.index = index
        ctx.accumulate = accumulate
        ctx.source_shape = tuple(source.shape)
        ctx.source_dtype = source.dtype
        return rtt.put(a, index, source, accumulate)

    @staticmethod
    def backward(ctx, g):
        ga = gs = None
        if ctx.needs_input_grad[0]:
            ga = g if ctx.accumulate else put(g, ctx.index, _zeros(ctx.source_shape, g.dtype),
                                              False)
        if ctx.needs_input_grad[2]:
            gs = take(g, ctx.index).reshape(ctx.source_shape)
        return ga, None, gs, None


@register("put")
def put(input, index, source, accumulate=False):
    if needs_grad(input, source):
        return Put.apply(input, index, source, accumulate)
    return rtt.put(input, index, source, accumulate)


@register("put_", function=False)
def put_(self, index, source, accumulate=False):
    return inplace(self, put, (index, source, accumulate), None, _T.put_)


@register("take_along_dim")
def take_along_dim(input, indices, dim=None):
    if needs_grad(input) and isinstance(indices, rtt.Tensor) and indices.dtype == rtt.int64 \
            and (dim is None or input.dim() == indices.dim()):
        if dim is None:
            return gather(input.reshape(-1), 0, indices.reshape(-1))
        n = input.dim()
        if n == 0:
            return gather(input, 0, indices)
        d = _wrap(dim, n)
        if not 0 <= d < n:
            return rtt.take_along_dim(input, indices, dim)      # raises
        s1 = list(input.shape)
        s1[d] = indices.shape[d]
        b = list(rtt.broadcast_shapes(tuple(s1), tuple(indices.shape)))
        ib = _T.expand(indices, tuple(b))
        b[d] = input.shape[d]
        return gather(input.expand(tuple(b)), d, ib)
    return rtt.take_along_dim(input, indices, dim)
