"""Differentiable matrix products: matmul, mm, bmm, mv, dot, vdot, outer/ger, inner, addmm,
addmv, addbmm, baddbmm (and their in-place forms), einsum, tensordot, kron.

Formulas follow PyTorch's ``tools/autograd/derivatives.yaml``: the gradient of each operand
of a product is the product of the output gradient with the conjugate (transpose) of the
other operands (PyTorch's convention for complex gradients). Gradients come back in the
broadcast shape; the engine sums them down to each input's shape. Backward formulas are
written in differentiable ops only (these functions themselves, ``reshape``, ``transpose``,
``expand``, ``*`` by scalars, and ``conj``/``permute``/``mul`` from the registry), so
``create_graph=True`` works, complex included.

Composite ops (outer, inner, tensordot, kron) are written, as in PyTorch, in terms of the
primitives and need no backward of their own. einsum has one: the gradient of each operand
is itself an einsum (see ``Einsum``).
"""
from rt_autograd._ops._registry import FUNCTIONS, register
from rt_autograd._ops._util import Function, check_out, inplace, needs_grad, rtt

_T = rtt.Tensor


# ---- differentiable primitives used by the formulas (registered by their own modules) -------

def _conj(t):
    """conj(t) (recorded); real tensors are returned as they are."""
    return FUNCTIONS["conj"](t) if t.dtype.is_complex else t


def _permute(t, dims):
    dims = [d % t.dim() if t.dim() else d for d in dims]
    if dims == list(range(t.dim())):
        return t
    return FUNCTIONS["permute"](t, tuple(dims))


def _mul(a, b):
    return FUNCTIONS["mul"](a, b)


def _mH(t):
    """Conjugate transpose of the last two dims."""
    return _conj(t.transpose(-2, -1))


def _scale(t, s):
    """PyTorch's ``maybe_multiply(t, s.conj())``: t itself when s is 1."""
    if isinstance(s, complex):
        s = s.conjugate()
    if not isinstance(s, bool) and s == 1:
        return t
    return t * s


# ---- matmul --------------------------------------------------------------------------------

class Matmul(Function):
    """``matmul`` (and ``@``) for every rank: PyTorch's 1-D promotion and batch broadcasting.
    The gradient of each operand is the product with the other's conjugate transpose in the
    broadcast batch shape; the engine sums it down to the operand's shape. The node is named
    after the primitive PyTorch's composite matmul ends in for the ranks (``MmBackward0`` for
    2-D @ 2-D, ``DotBackward0``, ``MvBackward0``, ...): forward switches ``ctx._forward_cls``
    to a subclass that differs only in ``node_name``."""
    node_name = "UnsafeViewBackward0"

    @staticmethod
    def forward(ctx, a, b):
        out = rtt.matmul(a, b)
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        ctx.a_dim, ctx.b_dim = a.dim(), b.dim()
        # the node's name is that of the primitive PyTorch's matmul uses for these ranks
        named = _MATMUL_NODES.get((ctx.a_dim, ctx.b_dim))
        if named is not None:
            ctx._forward_cls = named
        return out

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ad, bd = ctx.a_dim, ctx.b_dim
        ga = gb = None
        # promote 1-D operands to matrices as matmul does: a (K,) -> (1, K), b (K,) -> (K, 1)
        gs = list(g.shape)
        if ad == 1:
            gs.insert(len(gs) - (0 if bd == 1 else 1), 1)
        if bd == 1:
            gs.append(1)
        g2 = g.reshape(gs)
        if ctx.needs_input_grad[0]:
            b2 = b.reshape(b.shape[0], 1) if bd == 1 else b
            ga = matmul(g2, _mH(b2))           # (..., M, K); (..., 1, K) for a 1-D a:
            # the engine sums the leading dims away either way
        if ctx.needs_input_grad[1]:
            a2 = a.reshape(1, a.shape[0]) if ad == 1 else a
            gb = matmul(_mH(a2), g2)           # (..., K, N)
            if bd == 1:
                gb = gb.reshape(list(gb.shape)[:-1])
        return ga, gb


def _named_matmul(name):
    return type(f"_Matmul{name}", (Matmul,), {"node_name": name, "__module__": __name__})


# ranks -> Function class (a Matmul) whose node_name PyTorch's grad_fn has for them:
# dot, mv, mm, and a.unsqueeze(0).mm(b).squeeze_(0); other ranks end in _unsafe_view
_MATMUL_NODES = {(1, 1): _named_matmul("DotBackward0"), (2, 1): _named_matmul("MvBackward0"),
                 (2, 2): _named_matmul("MmBackward0"), (1, 2): _named_matmul("SqueezeBackward4")}


@register("matmul")
def matmul(input, other, *, out=None):
    # `a @ b` applies Matmul directly (rt_autograd/__init__.py): keep both paths the same
    if out is None and needs_grad(input, other):
        return Matmul.apply(input, other)
    check_out("matmul", out, input, other)
    return rtt.matmul(input, other, out=out)


# ---- mm, bmm, mv, dot, vdot ----------------------------------------------------------------

class Mm(Function):
    node_name = "MmBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        return rtt.mm(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = mm(g, _mH(b)) if ctx.needs_input_grad[0] else None
        gb = mm(_mH(a), g) if ctx.needs_input_grad[1] else None
        return ga, gb


@register("mm")
def mm(input, mat2, *, out=None):
    if out is None and needs_grad(input, mat2):
        return Mm.apply(input, mat2)
    check_out("mm", out, input, mat2)
    return rtt.mm(input, mat2, out=out)


class Bmm(Function):
    node_name = "BmmBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        return rtt.bmm(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = bmm(g, _mH(b)) if ctx.needs_input_grad[0] else None
        gb = bmm(_mH(a), g) if ctx.needs_input_grad[1] else None
        return ga, gb


@register("bmm")
def bmm(input, mat2, *, out=None):
    if out is None and needs_grad(input, mat2):
        return Bmm.apply(input, mat2)
    check_out("bmm", out, input, mat2)
    return rtt.bmm(input, mat2, out=out)


class Mv(Function):
    node_name = "MvBackward0"

    @staticmethod
    def forward(ctx, m, v):
        ctx.save_for_backward(m if ctx.needs_input_grad[1] else None,
                              v if ctx.needs_input_grad[0] else None)
        return rtt.mv(m, v)

    @staticmethod
    def backward(ctx, g):
        m, v = ctx.saved_tensors
        gm = outer(g, _conj(v)) if ctx.needs_input_grad[0] else None
        gv = mv(_mH(m), g) if ctx.needs_input_grad[1] else None
        return gm, gv


@register("mv")
def mv(input, vec, *, out=None):
    if out is None and needs_grad(input, vec):
        return Mv.apply(input, vec)
    check_out("mv", out, input, vec)
    return rtt.mv(input, vec, out=out)


class Dot(Function):
    node_name = "DotBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        return rtt.dot(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g * _conj(b) if ctx.needs_input_grad[0] else None
        gb = g * _conj(a) if ctx.needs_input_grad[1] else None
        return ga, gb


@register("dot")
def dot(input, tensor, *, out=None):
    if out is None and needs_grad(input, tensor):
        return Dot.apply(input, tensor)
    check_out("dot", out, input, tensor)
    return rtt.dot(input, tensor, out=out)


class Vdot(Function):
    node_name = "VdotBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        return rtt.vdot(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = _conj(g) * b if ctx.needs_input_grad[0] else None
        gb = g * a if ctx.needs_input_grad[1] else None
        return ga, gb


@register("vdot")
def vdot(input, other, *, out=None):
    if out is None and needs_grad(input, other):
        return Vdot.apply(input, other)
    check_out("vdot", out, input, other)
    return rtt.vdot(input, other, out=out)


# ---- outer, ger, inner (composites, as in PyTorch) -----------------------------------------

def _tensors(*args):
    return all(isinstance(a, rtt.Tensor) for a in args)


@register("outer")
def outer(input, vec2, *, out=None):
    if out is None and needs_grad(input, vec2):
        if _tensors(input, vec2) and input.dim() == 1 and vec2.dim() == 1:
            return _mul(input.reshape(input.shape[0], 1), vec2)
        return rtt.outer(input, vec2)              # raises PyTorch's error
    check_out("outer", out, input, vec2)
    return rtt.outer(input, vec2, out=out)


@register("ger")
def ger(input, vec2, *, out=None):
    if out is None and needs_grad(input, vec2):
        return outer(input, vec2)
    check_out("ger", out, input, vec2)
    return rtt.ger(input, vec2, out=out)


@register("inner")
def inner(input, other, *, out=None):
    if out is None and needs_grad(input, other):
        if not _tensors(input, other):
            return rtt.inner(input, other)              # raises PyTorch's error
        if input.dim() == 0 or other.dim() == 0:
            return _mul(input, other)
        if input.shape[-1] == other.shape[-1]:
            return tensordot(input, other, dims=([-1], [-1]))
        return rtt.inner(input, other)              # raises PyTorch's error
    check_out("inner", out, input, other)
    return rtt.inner(input, other, out=out)


# ---- addmm, addmv, addbmm, baddbmm ---------------------------------------------------------

class Addmm(Function):
    node_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, c, a, b, beta, alpha):
        ctx.beta, ctx.alpha = beta, alpha
        ctx.save_for_backward(a if ctx.needs_input_grad[2] else None,
                              b if ctx.needs_input_grad[1] else None)
        return rtt.addmm(c, a, b, beta=beta, alpha=alpha)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        gc = _scale(g, ctx.beta) if ctx.needs_input_grad[0] else None
        ga = _scale(mm(g, _mH(b)), ctx.alpha) if ctx.needs_input_grad[1] else None
        gb = _scale(mm(_mH(a), g), ctx.alpha) if ctx.needs_input_grad[2] else None
        return gc, ga, gb, None, None


@register("addmm")
def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    if out is None and needs_grad(input, mat1, mat2):
        return Addmm.apply(input, mat1, mat2, beta, alpha)
    check_out("addmm", out, input, mat1, mat2)
    return rtt.addmm(input, mat1, mat2, beta=beta, alpha=alpha, out=out)


class Addmv(Function):
    node_name = "AddmvBackward0"

    @staticmethod
    def forward(ctx, c, m, v, beta, alpha):
        ctx.beta, ctx.alpha = beta, alpha
        ctx.save_for_backward(m if ctx.needs_input_grad[2] else None,
                              v if ctx.needs_input_grad[1] else None)
        return rtt.addmv(c, m, v, beta=beta, alpha=alpha)

    @staticmethod
    def backward(ctx, g):
        m, v = ctx.saved_tensors
        gc = _scale(g, ctx.beta) if ctx.needs_input_grad[0] else None
        gm = _scale(outer(g, _conj(v)), ctx.alpha) if ctx.needs_input_grad[1] else None
        gv = _scale(mv(_mH(m), g), ctx.alpha) if ctx.needs_input_grad[2] else None
        return gc, gm, gv, None, None


@register("addmv")
def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    if out is None and needs_grad(input, mat, vec):
        return Addmv.apply(input, mat, vec, beta, alpha)
    check_out("addmv", out, input, mat, vec)
    return rtt.addmv(input, mat, vec, beta=beta, alpha=alpha, out=out)


class Baddbmm(Function):
    node_name = "BaddbmmBackward0"

    @staticmethod
    def forward(ctx, c, a, b, beta, alpha):
        ctx.beta, ctx.alpha = beta, alpha
        ctx.save_for_backward(a if ctx.needs_input_grad[2] else None,
                              b if ctx.needs_input_grad[1] else None)
        return rtt.baddbmm(c, a, b, beta=beta, alpha=alpha)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        gc = _scale(g, ctx.beta) if ctx.needs_input_grad[0] else None
        ga = _scale(bmm(g, _mH(b)), ctx.alpha) if ctx.needs_input_grad[1] else None
        gb = _scale(bmm(_mH(a), g), ctx.alpha) if ctx.needs_input_grad[2] else None
        return gc, ga, gb, None, None


@register("baddbmm")
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    if out is None and needs_grad(input, batch1, batch2):
        return Baddbmm.apply(input, batch1, batch2, beta, alpha)
    check_out("baddbmm", out, input, batch1, batch2)
    return rtt.baddbmm(input, batch1, batch2, beta=beta, alpha=alpha, out=out)


class Addbmm(Function):
    node_name = "AddbmmBackward0"

    @staticmethod
    def forward(ctx, c, a, b, beta, alpha):
        ctx.beta, ctx.alpha = beta, alpha
        ctx.save_for_backward(a if ctx.needs_input_grad[2] else None,
                              b if ctx.needs_input_grad[1] else None)
        ctx.batches = a.shape[0]
        return rtt.addbmm(c, a, b, beta=beta, alpha=alpha)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        gc = _scale(g, ctx.beta) if ctx.needs_input_grad[0] else None
        ga = gb = None
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            gx = g.reshape(1, g.shape[0], g.shape[1]).expand(ctx.batches, g.shape[0], g.shape[1])
            if ctx.needs_input_grad[1]:
                ga = _scale(bmm(gx, _mH(b)), ctx.alpha)
            if ctx.needs_input_grad[2]:
                gb = _scale(bmm(_mH(a), gx), ctx.alpha)
        return gc, ga, gb, None, None


@register("addbmm")
def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    if out is None and needs_grad(input, batch1, batch2):
        return Addbmm.apply(input, batch1, batch2, beta, alpha)
    check_out("addbmm", out, input, batch1, batch2)
    return rtt.addbmm(input, batch1, batch2, beta=beta, alpha=alpha, out=out)


def _same_shape(self, shape):
    return isinstance(self, rtt.Tensor) and tuple(self.shape) == tuple(shape)


@register("addmm_", function=False)
def addmm_(self, mat1, mat2, *, beta=1, alpha=1):
    if needs_grad(self, mat1, mat2) and not (
            mat1.dim() == 2 and mat2.dim() == 2
            and _same_shape(self, (mat1.shape[0], mat2.shape[1]))):
        return _T.addmm_(self, mat1, mat2, beta=beta, alpha=alpha)     # raises
    return inplace(self, addmm, (mat1, mat2), {"beta": beta, "alpha": alpha}, _T.addmm_)


@register("addmv_", function=False)
def addmv_(self, mat, vec, *, beta=1, alpha=1):
    # rt_tensor has no addmv_ kernel: PyTorch's Tensor.addmv_ as addmv written into self
    if isinstance(mat, rtt.Tensor) and mat.dim() == 2 and not _same_shape(self, (mat.shape[0],)):
        raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast "
                           f"shape {[mat.shape[0]]}")
    return inplace(self, addmv, (mat, vec), {"beta": beta, "alpha": alpha})


@register("baddbmm_", function=False)
def baddbmm_(self, batch1, batch2, *, beta=1, alpha=1):
    if needs_grad(self, batch1, batch2) and not (
            batch1.dim() == 3 and batch2.dim() == 3
            and _same_shape(self, (batch1.shape[0], batch1.shape[1], batch2.shape[2]))):
        return _T.baddbmm_(self, batch1, batch2, beta=beta, alpha=alpha)   # raises
    return inplace(self, baddbmm, (batch1, batch2), {"beta": beta, "alpha": alpha},
                   _T.baddbmm_)


@register("addbmm_", function=False)
def addbmm_(self, batch1, batch2, *, beta=1, alpha=1):
    if needs_grad(self, batch1, batch2) and not (
            batch1.dim() == 3 and batch2.dim() == 3
            and _same_shape(self, (batch1.shape[1], batch2.shape[2]))):
        return _T.addbmm_(self, batch1, batch2, beta=beta, alpha=alpha)    # raises
    return inplace(self, addbmm, (batch1, batch2), {"beta": beta, "alpha": alpha},
                   _T.addbmm_)


# ---- tensordot, kron (composites) ----------------------------------------------------------

def _tensordot_dims(a, b, dims):
    """(dims of a, dims of b) contracted by ``tensordot``, or None when invalid (rt_tensor
    then raises PyTorch's error)."""
    if isinstance(dims, rtt.Tensor):
        dims = dims.tolist()
    if isinstance(dims, int) and not isinstance(dims, bool):
        if dims < 0 or dims > a.dim() or dims > b.dim():
            return None
        da, db = list(range(a.dim() - dims, a.dim())), list(range(dims))
    else:
        try:
            d0, d1 = dims
        except (TypeError, ValueError):
            return None
        da = [d0] if isinstance(d0, int) else list(d0)
        db = [d1] if isinstance(d1, int) else list(d1)
        if len(da) != len(db):
            return None
        try:
            da = [d if 0 <= d < a.dim() else d + a.dim() for d in da]
            db = [d if 0 <= d < b.dim() else d + b.dim() for d in db]
        except TypeError:
            return None
        if any(not 0 <= d < a.dim() for d in da) or any(not 0 <= d < b.dim() for d in db):
            return None
    if a.dtype != b.dtype or any(a.shape[x] != b.shape[y] for x, y in zip(da, db)):
        return None
    return da, db


@register("tensordot", method=False)
def tensordot(a, b, dims=2, out=None):
    if out is None and needs_grad(a, b):
        spec = _tensordot_dims(a, b, dims) if _tensors(a, b) else None
        if spec is not None:
            da, db = spec
            fa = [d for d in range(a.dim()) if d not in da]
            fb = [d for d in range(b.dim()) if d not in db]
            k = 1
            for d in da:
                k *= a.shape[d]
            p = 1
            for d in fa:
                p *= a.shape[d]
            q = 1
            for d in fb:
                q *= b.shape[d]
            am = _permute(a, fa + da).reshape(p, k)
            bm = _permute(b, db + fb).reshape(k, q)
            return mm(am, bm).reshape([a.shape[d] for d in fa] + [b.shape[d] for d in fb])
        return rtt.tensordot(a, b, dims)                # raises PyTorch's error
    check_out("tensordot", out, a, b)
    return rtt.tensordot(a, b, dims, out=out)


@register("kron")
def kron(input, other, *, out=None):
    if out is None and needs_grad(input, other):
        if _tensors(input, other):
            nd = max(input.dim(), other.dim())
            sa = [1] * (nd - input.dim()) + list(input.shape)
            sb = [1] * (nd - other.dim()) + list(other.shape)
            # a as (a0, 1, a1, 1, ...) times b as (1, b0, 1, b1, ...), then merge the pairs
            ia, ib = [], []
            for x, y in zip(sa, sb):
                ia += [x, 1]
                ib += [1, y]
            prod = _mul(input.reshape(ia), other.reshape(ib))
            return prod.reshape([x * y for x, y in zip(sa, sb)])
        return rtt.kron(input, other)
    check_out("kron", out, input, other)
    return rtt.kron(input, other, out=out)


# ---- einsum --------------------------------------------------------------------------------

_LETTERS = [chr(c) for c in range(ord("A"), ord("Z") + 1)] + \
           [chr(c) for c in range(ord("a"), ord("z") + 1)]


def _einsum_canonical(equation, shapes):
    """The equation with the ellipsis replaced by unused letters and the output made
    explicit: (list of label lists per operand, output label list, fresh-letter iterator).
    Only called once rt_tensor's einsum has accepted the equation."""
    eq = equation.replace(" ", "")
    lhs, rhs = eq.split("->", 1) if "->" in eq else (eq, None)
    terms = lhs.split(",")
    used = set(c for c in eq if c.isalpha())
    fresh = iter([c for c in _LETTERS if c not in used])

    def take():
        try:
            return next(fresh)
        except StopIteration:
            raise RuntimeError("einsum(): too many distinct labels to differentiate "
                               "(at most 52 including ellipsis dims)") from None

    ells = []
    for term, shape in zip(terms, shapes):
        n_letters = len(term.replace("...", ""))
        ells.append(len(shape) - n_letters if "..." in term else 0)
    n_ell = max(ells) if ells else 0
    ell_labels = [take() for _ in range(n_ell)]
    labels = []
    for term, e in zip(terms, ells):
        pre, _, post = term.partition("...")
        labels.append(list(pre) + (ell_labels[n_ell - e:] if "..." in term else []) + list(post))
    if rhs is None:
        counts = {}
        for term in terms:
            for c in term.replace("...", ""):
                counts[c] = counts.get(c, 0) + 1
        any_ell = any("..." in term for term in terms)
        out = (ell_labels if any_ell else []) + sorted(c for c, n in counts.items() if n == 1)
    else:
        pre, sep, post = rhs.partition("...")
        out = list(pre) + (ell_labels if sep else []) + list(post)
    return labels, out, take


class Einsum(Function):
    """``einsum``: the gradient of operand k is the einsum of the output gradient with the
    conjugates of the other operands, producing operand k's labels. Labels summed only in
    operand k (or broadcast from size 1 elsewhere) get a ones vector; a repeated label
    (diagonal) gets identity matrices so the gradient lands on the diagonal."""
    node_name = "EinsumBackward0"

    @staticmethod
    def forward(ctx, equation, *operands):
        out = rtt.einsum(equation, *operands)
        ctx.equation = equation
        ctx.shapes = [tuple(op.shape) for op in operands]
        ctx.save_for_backward(*operands)
        return out

    @staticmethod
    def backward(ctx, g):
        ops = ctx.saved_tensors
        labels, out, take = _einsum_canonical(ctx.equation, ctx.shapes)
        grads = [None]
        for k, op in enumerate(ops):
            if not ctx.needs_input_grad[k + 1]:
                grads.append(None)
                continue
            grads.append(_einsum_operand_grad(g, out, ops, labels, k, take))
        return tuple(grads)


def _einsum_operand_grad(g, out, ops, labels, k, take):
    mine = labels[k]
    shape = ops[k].shape
    # sizes of each label among the other factors (the gradient and the other operands)
    other_size = {}
    for lab, n in zip(out, g.shape):
        other_size[lab] = max(other_size.get(lab, 1), n)
    for j, (labs, op) in enumerate(zip(labels, ops)):
        if j != k:
            for lab, n in zip(labs, op.shape):
                other_size[lab] = max(other_size.get(lab, 1), n)
    terms = ["".join(out)]
    factors = [g]
    for j, (labs, op) in enumerate(zip(labels, ops)):
        if j != k:
            terms.append("".join(labs))
            factors.append(_conj(op))
    result = []
    seen = {}
    for lab, n in zip(mine, shape):
        if lab in seen:
            # a repeated label: the gradient sits on the diagonal (identity factor)
            f = take()
            terms.append(lab + f)
            factors.append(rtt.eye(n, dtype=g.dtype))
            result.append(f)
            continue
        seen[lab] = n
        result.append(lab)
        if lab not in other_size or (other_size[lab] == 1 and n != 1):
            # summed only here, or broadcast from size 1: the gradient is constant along it
            terms.append(lab)
            factors.append(rtt.ones(n, dtype=g.dtype))
    equation = ",".join(terms) + "->" + "".join(result)
    return einsum(equation, *factors)


def _einsum_args(equation, operands):
    if not isinstance(equation, str):
        from rt_tensor._einsum import _sublist_equation
        equation, operands = _sublist_equation((equation,) + tuple(operands))
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return equation, tuple(operands)


@register("einsum", method=False)
def einsum(equation, *operands):
    if needs_grad(equation, *operands):
        equation, operands = _einsum_args(equation, operands)
        if all(isinstance(op, rtt.Tensor) for op in operands):
            return Einsum.apply(equation, *operands)
    return rtt.einsum(equation, *operands)
