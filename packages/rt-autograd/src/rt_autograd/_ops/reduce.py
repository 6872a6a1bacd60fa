"""Differentiable reductions and scans.

sum, nansum, mean, nanmean, prod, max, min, amax, amin, aminmax, median, nanmedian, var, std,
var_mean, std_mean, norm, logsumexp, trace; cumsum, cumprod, logcumsumexp, cummax, cummin
(sort, msort, topk and kthvalue: _ops/sort.py).

The backward formulas are PyTorch's (tools/autograd/derivatives.yaml and
torch/csrc/autograd/FunctionsManual.cpp), written in differentiable operations so that
``create_graph=True`` gives second derivatives. Subgradients as PyTorch:

- ``max()``/``min()``/``median()``/``nanmedian()`` (full reductions): the gradient is shared
  evenly between the elements equal to the result (the NaNs when the result is NaN);
- ``amax``/``amin``/``aminmax``: shared evenly per reduced slice (a slice whose result is NaN
  gets NaN, as PyTorch's scale_grad_by_count);
- ``max(dim)``/``min(dim)``/``median(dim)``/``kthvalue``/``sort``/``topk``: to the returned
  index; ``cummax``/``cummin``: accumulated at the running index;
- ``prod``/``cumprod`` are exact with zeros in the input (one or several);
- ``norm``: 0 at a zero vector (p >= 1), sign-subgradient for p = 1, inf norms share evenly.

Constant masks (comparisons of saved values) are computed with rt_tensor; everything that
touches a gradient goes through differentiable ops: the registered ones (Tensor operators and
methods, ``exp``, ``log``, ...) or the private Functions below (where, flip, cat, gather,
scatter-add, abs, conj), which keep this module independent of the other op modules.
"""
import builtins
import math

from rt_tensor import return_types as _rt

from rt_autograd._ops._registry import FUNCTIONS, register
from rt_autograd._ops._util import Function, check_out, inplace, needs_grad, rtt
from rt_autograd.grad_mode import is_grad_enabled

_T = rtt.Tensor
_INF = math.inf
_NAN = math.nan
_LOWEST = {"float16": -65504.0, "bfloat16": -3.3895313892515355e38,
           "float32": -3.4028234663852886e38, "float64": -1.7976931348623157e308}


# ---- small helpers ---------------------------------------------------------------------------

def _norm_dims(dim, ndim):
    """The reduced dims, non-negative and sorted (all of them when dim is None or empty)."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        dim = (dim,)
    if len(dim) == 0:
        return tuple(range(ndim))
    if ndim == 0:
        return ()
    return tuple(sorted(int(d) % ndim for d in dim))


def _wrap_dim(dim, ndim):
    return int(dim) % ndim if ndim else 0


def _restore(g, shape, dims):
    """Unsqueeze a reduced tensor (keepdim=False) at the reduced dims so that it broadcasts
    against the input's shape; unchanged when the dims were kept."""
    if g.dim() == len(shape):
        return g
    for d in dims:
        g = g.unsqueeze(d)
    return g


def _plain(t):
    """The values of a (saved) tensor, for computing constant masks: no graph."""
    return t.detach() if isinstance(t, _T) else t


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def _slice(t, dim, start, stop):
    """t[..., start:stop, ...] along ``dim`` (differentiable: __getitem__)."""
    return t[(slice(None),) * dim + (slice(start, stop),)]


def _real_dtype(dtype):
    if dtype == rtt.complex128:
        return rtt.float64
    if dtype == rtt.complex64:
        return rtt.float32
    return dtype


def _const(value, dtype):
    return rtt.full((), value, dtype=dtype)


# ---- differentiable primitives used by the formulas (registered by their own modules) -------

def _where(cond, a, b):
    """where(cond, a, b); a and b are tensors or Python numbers."""
    return FUNCTIONS["where"](cond, a, b)


def _flip(x, dims):
    return FUNCTIONS["flip"](x, dims)


def _cat(tensors, dim):
    return FUNCTIONS["cat"](list(tensors), dim)


def _gather(x, dim, index):
    return FUNCTIONS["gather"](x, dim, index)


def _scatter_add(src, dim, index, shape):
    """zeros(shape).scatter_add(dim, index, src)."""
    return FUNCTIONS["scatter_add"](rtt.zeros(shape, dtype=src.dtype), dim, index, src)


def _conj(t):
    return FUNCTIONS["conj"](t) if t.dtype.is_complex else t


def _abs(x):
    return FUNCTIONS["abs"](x)


def _sgn(x):
    """PyTorch's sgn: sign(x) for real x (a constant: zero derivative), x / |x| for complex
    x (0 at 0)."""
    if not x.dtype.is_complex:
        return rtt.sign(_plain(x))
    a = _abs(x)
    zero = rtt.eq(_plain(a), 0)
    return _where(zero, 0.0, x / (a + zero))


# ---- backward helpers shared with _ops/sort.py ----------------------------------------------

def value_selecting_backward(g, dim, indices, shape, keepdim):
    """PyTorch's value_selecting_reduction_backward: zeros of the input's shape with ``g``
    at ``indices`` along ``dim``."""
    if len(shape) == 0:
        return g
    if not keepdim:
        g = g.unsqueeze(dim)
        indices = _T.unsqueeze(_plain(indices), dim)
    return _scatter_add(g, dim, _plain(indices), shape)


def _evenly_distribute(g, a, y):
    """PyTorch's evenly_distribute_backward: ``g`` shared between the elements equal to the
    (0-d) result ``y``; the NaNs when ``y`` is NaN."""
    a, y = _plain(a), _plain(y)
    if bool(rtt.isnan(y)):
        mask = rtt.isnan(a)
    else:
        mask = rtt.eq(a, y)
    count = int(rtt.sum(mask))
    if count == 0:
        return rtt.zeros(a.shape, dtype=g.dtype)
    return g * (mask.to(g.dtype) / count)


def _scale_grad_by_count(g, a, y, dims):
    """PyTorch's scale_grad_by_count for amax/amin: ``g`` shared between the elements equal
    to the result in each reduced slice."""
    shape = tuple(a.shape)
    g = _restore(g, shape, dims)
    y = _plain(y)
    for d in (dims if y.dim() != len(shape) else ()):
        y = _T.unsqueeze(y, d)
    mask = rtt.eq(_plain(a), y)
    count = rtt.sum(mask, dims if dims else None, keepdim=True)
    return (g / count) * mask


# ---- sum, nansum, mean, nanmean --------------------------------------------------------------

class _Sum(Function):
    node_name = "SumBackward1"

    @staticmethod
    def forward(ctx, a, dim, keepdim, dtype):
        ctx.shape = tuple(a.shape)
        ctx.dims = _norm_dims(dim, a.dim())
        return rtt.sum(a, dim, keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, g):
        return _restore(g, ctx.shape, ctx.dims).expand(ctx.shape), None, None, None


class _SumAll(_Sum):
    node_name = "SumBackward0"


class _Nansum(Function):
    node_name = "NansumBackward0"

    @staticmethod
    def forward(ctx, a, dim, keepdim, dtype):
        ctx.shape = tuple(a.shape)
        ctx.dims = _norm_dims(dim, a.dim())
        ctx.save_for_backward(a)
        return rtt.nansum(a, dim, keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        g = _restore(g, ctx.shape, ctx.dims).expand(ctx.shape)
        # PyTorch's nansum_backward multiplies by the mask (so an infinite g gives NaN there)
        return g * rtt.logical_not(rtt.isnan(_plain(a))), None, None, None


class _Mean(Function):
    node_name = "MeanBackward1"

    @staticmethod
    def forward(ctx, a, dim, keepdim, dtype):
        ctx.shape = tuple(a.shape)
        ctx.dims = _norm_dims(dim, a.dim())
        y = rtt.mean(a, dim, keepdim, dtype=dtype)
        ctx.count = builtins.max(a.numel(), 1) // builtins.max(y.numel(), 1) \
            if a.numel() else 0
        return y

    @staticmethod
    def backward(ctx, g):
        g = _restore(g, ctx.shape, ctx.dims).expand(ctx.shape)
        return g / ctx.count if ctx.count else g * _NAN, None, None, None


class _MeanAll(_Mean):
    node_name = "MeanBackward0"


@register("sum")
def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    if out is None:
        if not needs_grad(input):
            return rtt.sum(input, dim, keepdim, dtype=dtype)
        return (_SumAll if dim is None else _Sum).apply(input, dim, keepdim, dtype)
    check_out("sum", out, input)
    return rtt.sum(input, dim, keepdim, dtype=dtype, out=out)


@register("nansum")
def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    if out is None and needs_grad(input):
        return _Nansum.apply(input, dim, keepdim, dtype)
    check_out("nansum", out, input)
    return rtt.nansum(input, dim, keepdim, dtype=dtype, out=out)


@register("mean")
def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    if out is None:
        if not needs_grad(input):
            return rtt.mean(input, dim, keepdim, dtype=dtype)
        return (_MeanAll if dim is None else _Mean).apply(input, dim, keepdim, dtype)
    check_out("mean", out, input)
    return rtt.mean(input, dim, keepdim, dtype=dtype, out=out)


@register("nanmean")
def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    if out is None and needs_grad(input):
        # PyTorch's composite: nansum / number of non-NaN elements (grad_fn DivBackward0)
        if input.dtype.is_complex or not input.dtype.is_floating_point:
            return rtt.nanmean(input, dim, keepdim, dtype=dtype)     # raises as PyTorch
        count = rtt.sum(rtt.logical_not(rtt.isnan(_plain(input))), dim, keepdim)
        return nansum(input, dim, keepdim, dtype=dtype) / count
    check_out("nanmean", out, input)
    return rtt.nanmean(input, dim, keepdim, dtype=dtype, out=out)


# ---- prod --------------------------------------------------------------------------------------

def _prod_safe_zeros_backward(g, inp, dim):
    """PyTorch's prod_safe_zeros_backward: g * prod of the other elements of each slice, from
    an exclusive cumprod forwards and one backwards (exact with zeros; differentiable)."""
    if inp.numel() == 0:
        return g.expand(inp.shape)
    n = inp.shape[dim]
    if n == 1:
        return g
    ones_shape = list(inp.shape)
    ones_shape[dim] = 1
    ones = rtt.ones(ones_shape, dtype=inp.dtype)
    exclusive_normal = cumprod(_cat([ones, _slice(inp, dim, 0, n - 1)], dim), dim)
    narrow_reverse = _flip(_slice(inp, dim, 1, n), (dim,))
    exclusive_reverse = _flip(cumprod(_cat([ones, narrow_reverse], dim), dim), (dim,))
    return g * _conj(exclusive_normal * exclusive_reverse)


def _prod_backward(g, a, y, dim, keepdim):
    if a.dim() == 0:
        return g
    zero = rtt.eq(_plain(a), 0)
    if dim is None:
        zeros = int(rtt.sum(zero))
        if zeros == 0:
            return g * _conj(y / a)
        if zeros > 1 and not is_grad_enabled():
            return rtt.zeros(a.shape, dtype=g.dtype)
        g = g.reshape(())
        return _prod_safe_zeros_backward(g, a.reshape(-1), 0).reshape(a.shape)
    d = _wrap_dim(dim, a.dim())
    if not keepdim:
        g = g.unsqueeze(d)
        y = y.unsqueeze(d)
    if not bool(rtt.any(zero)):
        return g * _conj(y / a)
    return _prod_safe_zeros_backward(g, a, d)


class _Prod(Function):
    node_name = "ProdBackward1"

    @staticmethod
    def forward(ctx, a, dim, keepdim, dtype):
        y = rtt.prod(a, dim, keepdim, dtype=dtype)
        ctx.dim = dim
        ctx.keepdim = keepdim
        ctx.save_for_backward(a, y)
        return y

    @staticmethod
    def backward(ctx, g):
        a, y = ctx.saved_tensors
        return _prod_backward(g, a, y, ctx.dim, ctx.keepdim), None, None, None


class _ProdAll(_Prod):
    node_name = "ProdBackward0"


@register("prod")
def prod(input, dim=None, keepdim=False, *, dtype=None, out=None):
    if out is None and needs_grad(input):
        return (_ProdAll if dim is None else _Prod).apply(input, dim, keepdim, dtype)
    check_out("prod", out, input)
    return rtt.prod(input, dim, keepdim, dtype=dtype, out=out)


# ---- max, min, median, nanmedian (full and dim forms), amax, amin, aminmax --------------------

class _EvenlyDistributed(Function):
    """A full reduction selecting one value (max(), min(), median(), nanmedian())."""

    @staticmethod
    def forward(ctx, a, fn):
        y = fn(a)
        ctx.save_for_backward(a, y)
        return y

    @staticmethod
    def backward(ctx, g):
        a, y = ctx.saved_tensors
        return _evenly_distribute(g, a, y), None


class _MaxAll(_EvenlyDistributed):
    node_name = "MaxBackward1"


class _MinAll(_EvenlyDistributed):
    node_name = "MinBackward1"


class _MedianAll(_EvenlyDistributed):
    node_name = "MedianBackward0"


class _NanmedianAll(_EvenlyDistributed):
    node_name = "NanmedianBackward0"


class ValueSelecting(Function):
    """(values, indices) = fn(a) along ``dim``; the gradient goes to the indices. Subclasses
    name the node (also used by _ops/sort.py)."""

    @staticmethod
    def forward(ctx, a, fn, dim, keepdim):
        values, indices = fn(a)
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        ctx.shape = tuple(a.shape)
        ctx.dim = _wrap_dim(dim, a.dim())
        ctx.keepdim = keepdim
        return values, indices

    @staticmethod
    def backward(ctx, g, _gi):
        indices, = ctx.saved_tensors
        return value_selecting_backward(g, ctx.dim, indices, ctx.shape, ctx.keepdim), None, \
            None, None


class _MaxDim(ValueSelecting):
    node_name = "MaxBackward0"


class _MinDim(ValueSelecting):
    node_name = "MinBackward0"


class _MedianDim(ValueSelecting):
    node_name = "MedianBackward1"


class _NanmedianDim(ValueSelecting):
    node_name = "NanmedianBackward1"


def _elementwise_extreme(name, input, other, out):
    """max(input, other) / min(input, other): maximum / minimum (registered by their module
    when differentiable)."""
    fn = FUNCTIONS.get("maximum" if name == "max" else "minimum")
    if fn is None:
        fn = getattr(rtt, "maximum" if name == "max" else "minimum")
    return fn(input, other) if out is None else fn(input, other, out=out)


@register("max")
def max(input, dim=None, keepdim=False, *, out=None):
    if out is None:
        if not needs_grad(input, dim):
            return rtt.max(input, dim, keepdim)
        if isinstance(dim, _T):
            return _elementwise_extreme("max", input, dim, out)
        if dim is None:
            return _MaxAll.apply(input, rtt.max)
        return _rt.max(_MaxDim.apply(input, lambda t: rtt.max(t, dim, keepdim), dim, keepdim))
    if isinstance(dim, _T):
        return _elementwise_extreme("max", input, dim, out)
    check_out("max", out, input)
    return rtt.max(input, dim, keepdim, out=out)


@register("min")
def min(input, dim=None, keepdim=False, *, out=None):
    if out is None:
        if not needs_grad(input, dim):
            return rtt.min(input, dim, keepdim)
        if isinstance(dim, _T):
            return _elementwise_extreme("min", input, dim, out)
        if dim is None:
            return _MinAll.apply(input, rtt.min)
        return _rt.min(_MinDim.apply(input, lambda t: rtt.min(t, dim, keepdim), dim, keepdim))
    if isinstance(dim, _T):
        return _elementwise_extreme("min", input, dim, out)
    check_out("min", out, input)
    return rtt.min(input, dim, keepdim, out=out)


@register("median")
def median(input, dim=None, keepdim=False, *, out=None):
    if out is None and needs_grad(input):
        if dim is None:
            return _MedianAll.apply(input, rtt.median)
        return _rt.median(_MedianDim.apply(input, lambda t: rtt.median(t, dim, keepdim), dim,
                                           keepdim))
    check_out("median", out, input)
    return rtt.median(input, dim, keepdim, out=out)


@register("nanmedian")
def nanmedian(input, dim=None, keepdim=False, *, out=None):
    if out is None and needs_grad(input):
        if dim is None:
            return _NanmedianAll.apply(input, rtt.nanmedian)
        return _rt.nanmedian(_NanmedianDim.apply(
            input, lambda t: rtt.nanmedian(t, dim, keepdim), dim, keepdim))
    check_out("nanmedian", out, input)
    return rtt.nanmedian(input, dim, keepdim, out=out)


class _Amax(Function):
    node_name = "AmaxBackward0"

    @staticmethod
    def forward(ctx, a, dim, keepdim, fn):
        y = fn(a, dim, keepdim)
        ctx.dims = _norm_dims(dim, a.dim())
        ctx.save_for_backward(a, y)
        return y

    @staticmethod
    def backward(ctx, g):
        a, y = ctx.saved_tensors
        return _scale_grad_by_count(g, a, y, ctx.dims), None, None, None


class _Amin(_Amax):
    node_name = "AminBackward0"


@register("amax")
def amax(input, dim=(), keepdim=False, *, out=None):
    if out is None and needs_grad(input):
        return _Amax.apply(input, dim, keepdim, rtt.amax)
    check_out("amax", out, input)
    return rtt.amax(input, dim, keepdim, out=out)


@register("amin")
def amin(input, dim=(), keepdim=False, *, out=None):
    if out is None and needs_grad(input):
        return _Amin.apply(input, dim, keepdim, rtt.amin)
    check_out("amin", out, input)
    return rtt.amin(input, dim, keepdim, out=out)


class _Aminmax(Function):
    node_name = "AminmaxBackward0"

    @staticmethod
    def forward(ctx, a, dim, keepdim):
        lo, hi = rtt.aminmax(a, dim=dim, keepdim=keepdim)
        ctx.dims = _norm_dims(dim, a.dim())
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(a, lo, hi)
        return lo, hi

    @staticmethod
    def backward(ctx, g_lo, g_hi):
        a, lo, hi = ctx.saved_tensors
        gi = None
        if g_lo is not None:
            gi = _scale_grad_by_count(g_lo, a, lo, ctx.dims)
        if g_hi is not None:
            gh = _scale_grad_by_count(g_hi, a, hi, ctx.dims)
            gi = gh if gi is None else gi + gh
        return gi, None, None


@register("aminmax")
def aminmax(input, *, dim=None, keepdim=False, out=None):
    if out is None and needs_grad(input):
        return _rt.aminmax(_Aminmax.apply(input, dim, keepdim))
    check_out("aminmax", out, input)
    return rtt.aminmax(input, dim=dim, keepdim=keepdim, out=out)


# ---- var, std, var_mean, std_mean ------------------------------------------------------------

def _var_args(dim, unbiased, correction):
    """(dim, correction) with the legacy var(input, unbiased) spelling resolved."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if correction is None:
        return dim, 0.0 if unbiased is False else 1.0
    return dim, float(correction)


def _var_backward(g, a, dim, correction):
    """PyTorch's var_backward (g: the gradient of the variance)."""
    if a.dim() == 0 or dim is None:
        dof = a.numel() - correction
        if dof <= 0:
            # 2 / dof is infinite: NaN where x == mean (inf * 0), inf elsewhere
            ap = _plain(a)
            dt = _real_dtype(a.dtype)
            c = rtt.where(rtt.eq(ap, rtt.mean(ap)), _const(_NAN, dt), _const(_INF, dt))
            return g * c
        return (2.0 / dof) * g * (a - a.mean())
    shape = tuple(a.shape)
    dims = _norm_dims(dim, a.dim())
    g = _restore(g, shape, dims)
    dof = _numel(shape[d] for d in dims) - correction
    coef = 2.0 / dof if dof != 0 else _INF
    return coef * g * (a - a.mean(dims, keepdim=True))


def _std_backward(g, a, y, dim, correction):
    """PyTorch's std_backward: var_backward(g / (2 std)) with 0 where std == 0."""
    zero = rtt.eq(_plain(y), 0)
    return _var_backward(_where(zero, 0.0, g / (2 * (y + zero))), a, dim, correction)


def _mean_backward(g, a, dim):
    shape = tuple(a.shape)
    dims = _norm_dims(dim, a.dim())
    n = _numel(shape[d] for d in dims)
    g = _restore(g, shape, dims).expand(shape)
    return g / n if n else g * _NAN


class _Var(Function):
    node_name = "VarBackward0"

    @staticmethod
    def forward(ctx, a, dim, unbiased, keepdim, correction):
        y = rtt.var(a, dim, unbiased, keepdim, correction=correction)
        ctx.dim, ctx.correction = _var_args(dim, unbiased, correction)
        ctx.save_for_backward(a)
        return y

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return _var_backward(g, a, ctx.dim, ctx.correction), None, None, None, None


class _Std(Function):
    node_name = "StdBackward0"

    @staticmethod
    def forward(ctx, a, dim, unbiased, keepdim, correction):
        y = rtt.std(a, dim, unbiased, keepdim, correction=correction)
        ctx.dim, ctx.correction = _var_args(dim, unbiased, correction)
        ctx.save_for_backward(a, y)
        return y

    @staticmethod
    def backward(ctx, g):
        a, y = ctx.saved_tensors
        return _std_backward(g, a, y, ctx.dim, ctx.correction), None, None, None, None


class _VarMean(Function):
    node_name = "VarMeanBackward0"

    @staticmethod
    def forward(ctx, a, dim, unbiased, keepdim, correction):
        v, m = rtt.var_mean(a, dim, unbiased, keepdim, correction=correction)
        ctx.dim, ctx.correction = _var_args(dim, unbiased, correction)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(a)
        return v, m

    @staticmethod
    def backward(ctx, gv, gm):
        a, = ctx.saved_tensors
        gi = None
        if gv is not None:
            gi = _var_backward(gv, a, ctx.dim, ctx.correction)
        if gm is not None:
            gmi = _mean_backward(gm, a, ctx.dim)
            gi = gmi if gi is None else gi + gmi
        return gi, None, None, None, None


class _StdMean(Function):
    node_name = "StdMeanBackward0"

    @staticmethod
    def forward(ctx, a, dim, unbiased, keepdim, correction):
        s, m = rtt.std_mean(a, dim, unbiased, keepdim, correction=correction)
        ctx.dim, ctx.correction = _var_args(dim, unbiased, correction)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(a, s)
        return s, m

    @staticmethod
    def backward(ctx, gs, gm):
        a, s = ctx.saved_tensors
        gi = None
        if gs is not None:
            gi = _std_backward(gs, a, s, ctx.dim, ctx.correction)
        if gm is not None:
            gmi = _mean_backward(gm, a, ctx.dim)
            gi = gmi if gi is None else gi + gmi
        return gi, None, None, None, None


@register("var")
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    if out is None and needs_grad(input):
        return _Var.apply(input, dim, unbiased, keepdim, correction)
    check_out("var", out, input)
    return rtt.var(input, dim, unbiased, keepdim, correction=correction, out=out)


@register("std")
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    if out is None and needs_grad(input):
        return _Std.apply(input, dim, unbiased, keepdim, correction)
    check_out("std", out, input)
    return rtt.std(input, dim, unbiased, keepdim, correction=correction, out=out)


@register("var_mean", method=False)
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if needs_grad(input):
        return _VarMean.apply(input, dim, unbiased, keepdim, correction)
    return rtt.var_mean(input, dim, unbiased, keepdim, correction=correction)


@register("std_mean", method=False)
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if needs_grad(input):
        return _StdMean.apply(input, dim, unbiased, keepdim, correction)
    return rtt.std_mean(input, dim, unbiased, keepdim, correction=correction)


# ---- norm, logsumexp, trace --------------------------------------------------------------------

def _norm_backward(g, a, p, y, dims):
    """PyTorch's norm_backward (linalg_vector_norm_backward)."""
    shape = tuple(a.shape)
    g = _restore(g, shape, dims)
    y = _restore(y, shape, dims)
    if p == 0:
        return None          # PyTorch: an undefined gradient (a leaf's .grad stays None)
    if p == 1:
        return _sgn(a) * g
    if p == 2:
        # 0 at a zero norm; as in PyTorch, the second derivative there is NaN (0/0)
        return g * _where(rtt.eq(_plain(y), 0), 0.0, a / y)
    if math.isinf(p):
        # the derivative of amax(abs(a)) respecting NaNs: shared between the maximal entries
        aa = rtt.abs(_plain(a))
        mask = rtt.logical_or(rtt.eq(aa, _plain(y)), rtt.isnan(aa))
        count = rtt.sum(mask, dims if dims else None, keepdim=True)
        return _sgn(a) * ((g / count) * mask)
    if p < 1:
        scaled = _sgn(a) * _where(rtt.ne(_plain(a), 0), _abs(a) ** (p - 1), 0.0)
        return scaled * g * y ** (1 - p)
    zero = rtt.eq(_plain(y), 0)
    if p < 2:
        scaled = _sgn(a) * _abs(a) ** (p - 1)
    else:
        scaled = a * _abs(a) ** (p - 2)
    return scaled * _where(zero, 0.0, g / (y + zero) ** (p - 1))


class _Norm(Function):
    node_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, a, p, dim, keepdim, dtype):
        y = rtt.norm(a, p, dim, keepdim, dtype=dtype)
        ctx.p = 2.0 if p is None or isinstance(p, str) else float(p)
        ctx.dims = _norm_dims(dim, a.dim())
        ctx.save_for_backward(a, y)
        return y

    @staticmethod
    def backward(ctx, g):
        a, y = ctx.saved_tensors
        return _norm_backward(g, a, ctx.p, y, ctx.dims), None, None, None, None


@register("norm")
def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    if out is None and needs_grad(input):
        return _Norm.apply(input, p, dim, keepdim, dtype)
    check_out("norm", out, input)
    return rtt.norm(input, p, dim, keepdim, out=out, dtype=dtype)


class _Logsumexp(Function):
    node_name = "LogsumexpBackward0"

    @staticmethod
    def forward(ctx, a, dim, keepdim):
        y = rtt.logsumexp(a, dim, keepdim)
        ctx.dims = _norm_dims(dim, a.dim())
        ctx.save_for_backward(a, y)
        return y

    @staticmethod
    def backward(ctx, g):
        a, y = ctx.saved_tensors
        shape = tuple(a.shape)
        g = _restore(g, shape, ctx.dims)
        y = _restore(y, shape, ctx.dims)
        return g * (a - y).exp(), None, None


@register("logsumexp")
def logsumexp(input, dim, keepdim=False, *, out=None):
    if out is None and needs_grad(input):
        return _Logsumexp.apply(input, dim, keepdim)
    check_out("logsumexp", out, input)
    return rtt.logsumexp(input, dim, keepdim, out=out)


class _Trace(Function):
    node_name = "TraceBackward0"

    @staticmethod
    def forward(ctx, a):
        y = rtt.trace(a)
        ctx.shape = tuple(a.shape)
        ctx.dtype = a.dtype
        return y

    @staticmethod
    def backward(ctx, g):
        n, m = ctx.shape
        return g * rtt.eye(n, m, dtype=ctx.dtype)


@register("trace")
def trace(input):
    if needs_grad(input):
        return _Trace.apply(input)
    return rtt.trace(input)


# ---- scans: cumsum, cumprod, logcumsumexp, cummax, cummin ------------------------------------

def _reversed_cumsum(w, dim):
    return _flip(cumsum(_flip(w, (dim,)), dim), (dim,))


class _Cumsum(Function):
    node_name = "CumsumBackward0"

    @staticmethod
    def forward(ctx, a, dim, dtype):
        y = rtt.cumsum(a, dim, dtype=dtype)
        ctx.dim = _wrap_dim(dim, a.dim())
        return y

    @staticmethod
    def backward(ctx, g):
        if g.numel() <= 1 or g.dim() == 0 or g.shape[ctx.dim] == 1:
            return g, None, None
        return _reversed_cumsum(g, ctx.dim), None, None


@register("cumsum")
def cumsum(input, dim, *, dtype=None, out=None):
    if out is None and needs_grad(input):
        return _Cumsum.apply(input, dim, dtype)
    check_out("cumsum", out, input)
    return rtt.cumsum(input, dim, dtype=dtype, out=out)


@register("cumsum_", function=False)
def cumsum_(self, dim, *, dtype=None):
    return inplace(self, cumsum, (dim,), {"dtype": dtype})


def _cumprod_backward_first_order(g, a, y, dim):
    """PyTorch's O(n) cumprod backward for inputs with zeros (not differentiable: used when no
    graph of the backward is recorded). Only the first zero of each slice, z1, gets a gradient
    besides the elements before it."""
    g, a, y = _plain(g), _plain(a), _plain(y)
    xc, yc = rtt.conj(a) if a.dtype.is_complex else a, rtt.conj(y) if y.dtype.is_complex else y
    w = yc * g
    is_zero = rtt.eq(a, 0)
    csum = rtt.cumsum(is_zero, dim)
    # k < z1: sum_{k <= j < z1} g_j y_j / x_k
    before = rtt.eq(csum, 0)
    rc = rtt.flip(rtt.cumsum(rtt.flip(rtt.where(before, w, 0.0), (dim,)), dim), (dim,))
    grad_input = rtt.where(before, rc / rtt.where(before, xc, 1.0), 0.0)
    # k = z1: sum_{z1 <= j < z2} g_j prod_{i < z1} x_i prod_{z1 < i <= j} x_i
    first_run = rtt.eq(csum, 1)
    first_zero_index = rtt.max(first_run.to(rtt.int64), dim, True).indices
    first_zero = rtt.scatter(rtt.zeros(a.shape, dtype=rtt.bool), dim, first_zero_index,
                             value=True)
    first_zero = rtt.logical_and(first_zero, first_run)
    between = rtt.logical_and(first_run, rtt.logical_not(first_zero))
    val = rtt.sum(rtt.cumprod(rtt.where(between, xc, 1.0), dim) * rtt.where(first_run, g, 0.0),
                  dim, True)
    prev = rtt.gather(yc, dim, rtt.clamp(first_zero_index - 1, min=0))
    prev = rtt.where(rtt.eq(first_zero_index, 0), 1.0, prev)
    return rtt.where(first_zero, val * prev, grad_input)


def _cumprod_backward_differentiable(g, a, dim):
    """PyTorch's O(n^2) cumprod backward for inputs with zeros, in differentiable ops (used
    when the backward itself is recorded): grad_k = sum_{j >= k} g_j prod_{i <= j, i != k} x_i."""
    n = a.shape[dim]
    ones_shape = list(a.shape)
    ones_shape[dim] = 1
    ones = rtt.ones(ones_shape, dtype=a.dtype)
    pieces = []
    for k in range(n):
        if k == 0:
            omitted = _cat([ones, cumprod(_slice(a, dim, 1, n), dim)], dim)
        elif k == n - 1:
            omitted = prod(_slice(a, dim, 0, k), dim, True)
        else:
            until_k = prod(_slice(a, dim, 0, k), dim, True)
            from_k1 = cumprod(_slice(a, dim, k + 1, n), dim)
            omitted = _cat([until_k, until_k * from_k1], dim)
        pieces.append(sum(_slice(g, dim, k, n) * _conj(omitted), dim, True))
    return _cat(pieces, dim)


class _Cumprod(Function):
    node_name = "CumprodBackward0"

    @staticmethod
    def forward(ctx, a, dim, dtype):
        y = rtt.cumprod(a, dim, dtype=dtype)
        ctx.dim = _wrap_dim(dim, a.dim())
        ctx.save_for_backward(a, y)
        return y

    @staticmethod
    def backward(ctx, g):
        a, y = ctx.saved_tensors
        d = ctx.dim
        if a.numel() <= 1 or a.shape[d] == 1:
            return g, None, None
        if not bool(rtt.any(rtt.eq(_plain(a), 0))):
            return _reversed_cumsum(_conj(y) * g, d) / _conj(a), None, None
        if not is_grad_enabled():
            return _cumprod_backward_first_order(g, a, y, d), None, None
        return _cumprod_backward_differentiable(g, a, d), None, None


@register("cumprod")
def cumprod(input, dim, *, dtype=None, out=None):
    if out is None and needs_grad(input):
        return _Cumprod.apply(input, dim, dtype)
    check_out("cumprod", out, input)
    return rtt.cumprod(input, dim, dtype=dtype, out=out)


@register("cumprod_", function=False)
def cumprod_(self, dim, *, dtype=None):
    return inplace(self, cumprod, (dim,), {"dtype": dtype})


class _Logcumsumexp(Function):
    node_name = "LogcumsumexpBackward0"

    @staticmethod
    def forward(ctx, a, dim):
        y = rtt.logcumsumexp(a, dim)
        ctx.dim = _wrap_dim(dim, a.dim())
        ctx.save_for_backward(a, y)
        return y

    @staticmethod
    def backward(ctx, g):
        # PyTorch's logcumsumexp_backward: the positive and negative parts of g in log space
        # (grad_k = sum_{j >= k} g_j exp(x_k - y_j), computed stably)
        a, y = ctx.saved_tensors
        if g.dim() == 0 or g.numel() == 0:
            return g, None
        d = ctx.dim
        lowest = _LOWEST[str(g.dtype).split(".")[-1]]
        gp = _plain(g)
        pos = rtt.gt(gp, 0)
        neg = rtt.lt(gp, 0)
        log_pos = _where(pos, _where(pos, g, 1.0).log(), lowest)
        log_neg = _where(neg, _where(neg, -g, 1.0).log(), lowest)

        def reverse_logcumsumexp(x):
            return _flip(logcumsumexp(_flip(x, (d,)), d), (d,))

        out_pos = (reverse_logcumsumexp(log_pos - y) + a).exp()
        out_neg = (reverse_logcumsumexp(log_neg - y) + a).exp()
        return out_pos - out_neg, None


@register("logcumsumexp")
def logcumsumexp(input, dim, *, out=None):
    if out is None and needs_grad(input):
        return _Logcumsumexp.apply(input, dim)
    check_out("logcumsumexp", out, input)
    return rtt.logcumsumexp(input, dim, out=out)


class _Cumext(Function):
    """cummax / cummin: the gradient accumulates at the running index."""

    @staticmethod
    def forward(ctx, a, dim, fn):
        values, indices = fn(a, dim)
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        ctx.dim = _wrap_dim(dim, a.dim())
        ctx.shape = tuple(a.shape)
        return values, indices

    @staticmethod
    def backward(ctx, g, _gi):
        indices, = ctx.saved_tensors
        if len(ctx.shape) == 0:
            return g, None, None
        if _numel(ctx.shape) == 0:
            return rtt.zeros(ctx.shape, dtype=g.dtype), None, None
        return _scatter_add(g, ctx.dim, _plain(indices), ctx.shape), None, None


class _Cummax(_Cumext):
    node_name = "CummaxBackward0"


class _Cummin(_Cumext):
    node_name = "CumminBackward0"


@register("cummax")
def cummax(input, dim, *, out=None):
    if out is None and needs_grad(input):
        return _rt.cummax(_Cummax.apply(input, dim, rtt.cummax))
    check_out("cummax", out, input)
    return rtt.cummax(input, dim, out=out)


@register("cummin")
def cummin(input, dim, *, out=None):
    if out is None and needs_grad(input):
        return _rt.cummin(_Cummin.apply(input, dim, rtt.cummin))
    check_out("cummin", out, input)
    return rtt.cummin(input, dim, out=out)
