"""Shared helpers for writing differentiable ops (rt_autograd/_ops/*.py)."""
import rt_tensor as rtt

from rt_autograd._autograd import (Tensor, as_autograd_tensor, check_inplace, needs_grad,
                                   set_history, view_base)
from rt_autograd.function import Function
from rt_autograd.grad_mode import no_grad

__all__ = ["Function", "Tensor", "needs_grad", "check_out", "inplace", "rtt", "no_grad",
           "is_tensor", "conj_if_complex"]


def is_tensor(x):
    return isinstance(x, rtt.Tensor)


def check_out(name, out, *args):
    """PyTorch refuses ``out=`` when the graph would be needed."""
    if out is not None and needs_grad(*args):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           f"differentiation, but one of the arguments requires grad.")
    if out is not None and isinstance(out, Tensor) and out.requires_grad and needs_grad(out):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           f"differentiation, but one of the arguments requires grad.")


def conj_if_complex(t):
    return t.conj() if isinstance(t, rtt.Tensor) and t.dtype.is_complex else t


class _CloneForInplace(Function):
    node_name = "CloneBackward0"

    @staticmethod
    def forward(ctx, x):
        return rtt.Tensor.clone(x)

    @staticmethod
    def backward(ctx, g):
        return g


class _WriteIntoView(Function):
    """The base of a view after an in-place op on the view: ``base`` with the view's region
    replaced by ``value`` (PyTorch's CopySlices). The data is already written; this only
    records the dependency. ``geometry`` = (shape, strides, offset) of the view relative to
    the base's storage start."""
    node_name = "CopySlices"

    @staticmethod
    def forward(ctx, base, value, geometry, base_geometry):
        ctx.geometry = geometry
        ctx.base_geometry = base_geometry
        return base

    @staticmethod
    def backward(ctx, g):
        shape, strides, offset = ctx.geometry
        bshape, bstrides, boffset = ctx.base_geometry
        g_base = g_value = None
        gb = _strided_copy(g, bshape, bstrides)
        if ctx.needs_input_grad[1]:
            g_value = gb.as_strided(shape, strides, offset - boffset)
        if ctx.needs_input_grad[0]:
            # the base's old values outside the region pass through: g times a 0/1 mask
            with no_grad():
                mask = rtt.empty_strided(bshape, bstrides, dtype=g.dtype)
                rtt.Tensor.fill_(mask, 1)
                rtt.Tensor.zero_(rtt.Tensor.as_strided(mask, shape, strides, offset - boffset))
            g_base = gb * mask
        return g_base, g_value, None, None


def _strided_copy(g, shape, strides):
    """A copy of ``g`` laid out with ``strides`` (storage offset 0), so that a view's geometry
    relative to its base addresses the same elements in it. Differentiable."""
    out = rtt.empty_strided(shape, strides, dtype=g.dtype)
    out.copy_(g)
    return out


class _ViewOfBase(Function):
    """A view's new history after an in-place op on it: the same region of its base."""
    node_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx, base, geometry, base_geometry):
        ctx.geometry = geometry
        ctx.base_geometry = base_geometry
        shape, strides, offset = geometry
        return rtt.Tensor.as_strided(base, shape, strides, offset)

    @staticmethod
    def backward(ctx, g):
        from rt_autograd._ops.shape import as_strided_grad
        return as_strided_grad(g, ctx.base_geometry, ctx.geometry), None, None


def _geometry(t):
    return (tuple(t.shape), tuple(t.stride()), t.storage_offset())


def inplace(self, op, args=(), kwargs=None, rtt_inplace=None):
    """Run the in-place version of an op: ``self <- op(self, *args, **kwargs)``.

    Without graph recording this is rt_tensor's in-place kernel (``rtt_inplace``). With it,
    PyTorch's semantics: the result is computed out of place from a clone of self (so the
    op's saved tensors are not the overwritten ones), written into self (bumping its version
    counter), and self's history becomes the op's; when self is a view of another tensor,
    that tensor's history gets the write too (CopySlices).
    """
    kwargs = kwargs or {}
    if not needs_grad(self, *args):
        check_inplace(self)
        if rtt_inplace is not None:
            return rtt_inplace(self, *args, **kwargs)
        with no_grad():
            result = op(self, *args, **kwargs)
        _check_cast(result, self)
        rtt.Tensor.copy_(self, result)
        return self
    check_inplace(self)
    src = _CloneForInplace.apply(self)
    result = op(src, *args, **kwargs)
    _check_cast(result, self)
    with no_grad():
        rtt.Tensor.copy_(self, result)
    if result.grad_fn is not None:
        set_history(self, result.grad_fn, result.output_nr)
    if isinstance(view_base(self), Tensor):
        rebase_view(self)
    return self


def rebase_view(view):
    """``view`` (a recorded view of another tensor) was just written in place and carries
    the write's history: give its base the write too (PyTorch's CopySlices), then make the
    view that region of the new base. Used by ``inplace`` and by the core for a custom
    Function's ``mark_dirty`` on a view."""
    base = view_base(view)
    if view.dtype != base.dtype:
        _rebase_complex_part(view, base, view)
        return
    geometry = _geometry(view)
    base_geometry = _geometry(base)
    new_base = _WriteIntoView.apply(base, view, geometry, base_geometry)
    set_history(base, new_base.grad_fn, 0)
    new_view = _ViewOfBase.apply(base, geometry, base_geometry)
    set_history(view, new_view.grad_fn, 0)


def regenerate_view(view):
    """Give ``view`` the history of its region of its base's current history (called by the
    core when the storage was written since the view's history was set)."""
    base = view_base(view)
    if view.dtype != base.dtype:
        from rt_autograd._ops._registry import FUNCTIONS
        is_imag = (view.storage_offset() - 2 * base.storage_offset()) % 2 == 1
        if tuple(view.shape) == tuple(base.shape):
            new_view = FUNCTIONS["imag" if is_imag else "real"](base)
            set_history(view, new_view.grad_fn, new_view.output_nr)
        return
    new_view = _ViewOfBase.apply(base, _geometry(view), _geometry(base))
    set_history(view, new_view.grad_fn, 0)


def _rebase_complex_part(view, base, result):
    """After an in-place op on ``base.real`` or ``base.imag`` (a view with another dtype, so
    strides are in other units): base = complex(result, base.imag) or
    complex(base.real, result), and the view becomes that part of the new base."""
    from rt_autograd._ops._registry import FUNCTIONS
    if not base.dtype.is_complex or tuple(view.shape) != tuple(base.shape):
        raise RuntimeError("rt_autograd: an in-place operation on part of the real or imaginary "
                           "view of a complex tensor that requires grad is not supported; "
                           "apply it to the whole .real / .imag, or out of place")
    is_imag = (view.storage_offset() - 2 * base.storage_offset()) % 2 == 1
    part = "imag" if is_imag else "real"
    other = FUNCTIONS["real" if is_imag else "imag"](base)
    new_base = (FUNCTIONS["complex"](other, result) if is_imag else
                FUNCTIONS["complex"](result, other))
    set_history(base, new_base.grad_fn, new_base.output_nr)
    new_view = FUNCTIONS[part](base)
    set_history(view, new_view.grad_fn, new_view.output_nr)


def _check_cast(result, self):
    if not rtt.can_cast(result.dtype, self.dtype):
        raise RuntimeError(f"result type {_short(result.dtype)} can't be cast to the desired "
                           f"output type {_short(self.dtype)}")


def _short(dtype):
    names = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
             "complex64": "ComplexFloat", "complex128": "ComplexDouble", "int64": "Long",
             "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
    return names.get(str(dtype).split(".")[-1], str(dtype))
