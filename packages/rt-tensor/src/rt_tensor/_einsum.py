"""``einsum`` (``torch.einsum``), reached through ``rt_tensor._linalg.einsum``.

Each operand first takes its diagonals (repeated labels, as views) and sums the labels that
no other operand and not the output use. Operands are then contracted left to right: the
shared labels that stay are batch dims, the shared labels that go are the contraction, and
each pair becomes one batched matrix product (``_linalg``'s broadcast bmm), so a label that
is 1 in one operand and n in the other broadcasts through a stride, never materialised.
Sums are products with a ones vector (BLAS), so they need no reduction kernel.
"""
import numpy as np

from rt_tensor._tensor import Tensor
from rt_tensor import _linalg

_ELL = "..."


def _label_index(ch, pos):
    if not (("a" <= ch <= "z") or ("A" <= ch <= "Z")):
        raise RuntimeError(f"einsum(): invalid subscript given at index {pos} in the equation "
                           f"string, subscripts must be in [a-zA-Z]")
    return ord(ch)


def _parse_term(term, offset):
    """A term's labels: ord(letter) for letters, None for the ellipsis (at most one)."""
    out = []
    i = 0
    seen_ell = False
    while i < len(term):
        if term.startswith(_ELL, i):
            if seen_ell:
                raise RuntimeError("einsum(): found more than one '...' in an operand")
            seen_ell = True
            out.append(None)
            i += 3
            continue
        if term[i] == ".":
            raise RuntimeError(f"einsum(): found '.' for operand that is not part of any ellipsis "
                               f"at index {offset + i}")
        out.append(_label_index(term[i], offset + i))
        i += 1
    return out


def _sublist_equation(args):
    """einsum(op0, sublist0, op1, sublist1, ..., [sublist_out]) -> (equation, operands)."""
    def letters(sub):
        s = ""
        for v in sub:
            if v is Ellipsis:
                s += _ELL
            else:
                v = int(v)
                if not 0 <= v < 52:
                    raise RuntimeError(f"einsum(): subscript in subscript list is not within the "
                                       f"valid range [0, 52), got {v}")
                s += chr(ord("A") + v) if v < 26 else chr(ord("a") + v - 26)
        return s
    ops = list(args[0::2])
    subs = list(args[1::2])
    out = None
    if len(ops) > len(subs):
        out = ops.pop()
    eq = ",".join(letters(s) for s in subs)
    if out is not None:
        eq += "->" + letters(out)
    return eq, ops


def _ones(n, dtype):
    from rt_tensor import _creation
    t = _creation.tensor(np.ones(n, dtype=np.float32))
    return t.to(dtype)


def _sum_labels(t, labels, drop):
    """Sum t over the dims whose label is in drop (a product with a ones vector)."""
    red = [i for i, l in enumerate(labels) if l in drop]
    if not red:
        return t, labels
    keep = [i for i, l in enumerate(labels) if l not in drop]
    keep_shape = [t.shape[i] for i in keep]
    q = 1
    for i in red:
        q *= t.shape[i]
    p = 1
    for s in keep_shape:
        p *= s
    m = t.permute(*(keep + red)).reshape(p, q)
    r = _linalg.mv(m, _ones(q, t.dtype)).reshape(keep_shape)
    return r, [labels[i] for i in keep]


def _diagonals(t, labels, k):
    """Take the diagonal of every repeated label (views)."""
    while True:
        dup = None
        for i, l in enumerate(labels):
            j = labels.index(l)
            if j != i:
                dup = (j, i)
                break
        if dup is None:
            return t, labels
        i, j = dup
        if t.shape[i] != t.shape[j]:
            raise RuntimeError(f"einsum(): subscript {chr(labels[i]) if labels[i] >= 64 else '...'} "
                               f"is repeated for operand {k} but the sizes don't match, "
                               f"{t.shape[i]} != {t.shape[j]}")
        lab = labels[i]
        t = t.diagonal(0, i, j)
        labels = [l for n, l in enumerate(labels) if n not in (i, j)] + [lab]


def _squeeze_label(t, labels, lab):
    i = labels.index(lab)
    return t.select(i, 0), labels[:i] + labels[i + 1:]


def _contract(a, la, b, lb, keep):
    """Contract two operands; returns (result, labels)."""
    # a label shared with size 1 on one side and n on the other that is contracted away:
    # sum it on the n side and drop it on the 1 side (broadcasting, no materialising)
    for lab in [l for l in la if l in lb and l not in keep]:
        sa, sb = a.shape[la.index(lab)], b.shape[lb.index(lab)]
        if sa != sb:
            if sa == 1:
                a, la = _squeeze_label(a, la, lab)
                b, lb = _sum_labels(b, lb, {lab})
            else:
                b, lb = _squeeze_label(b, lb, lab)
                a, la = _sum_labels(a, la, {lab})
    batch = [l for l in la if l in lb and l in keep]
    contract = [l for l in la if l in lb and l not in keep]
    left = [l for l in la if l not in lb]
    right = [l for l in lb if l not in la]

    def size(t, labs, l):
        return t.shape[labs.index(l)]

    def prod(vals):
        p = 1
        for v in vals:
            p *= v
        return p

    left_sizes = [size(a, la, l) for l in left]
    right_sizes = [size(b, lb, l) for l in right]
    c = prod(size(a, la, l) for l in contract)
    ab = [size(a, la, l) for l in batch]
    bb = [size(b, lb, l) for l in batch]
    am = a.permute(*[la.index(l) for l in batch + left + contract]).reshape(
        ab + [prod(left_sizes), c])
    bm = b.permute(*[lb.index(l) for l in batch + contract + right]).reshape(
        bb + [c, prod(right_sizes)])
    r = _linalg._bmm_broadcast(am, bm)
    bshape = [max(x, y) if min(x, y) != 0 else 0 for x, y in zip(ab, bb)]
    return r.reshape(bshape + left_sizes + right_sizes), batch + left + right


def einsum(equation, *operands):
    if not isinstance(equation, str):
        equation, operands = _sublist_equation((equation,) + operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    for op in operands:
        if not isinstance(op, Tensor):
            raise TypeError(f"einsum(): expected Tensor operands, got {type(op).__name__}")
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->", 1)
        if "->" in rhs:
            raise RuntimeError("einsum(): found more than one '->' in the equation")
    else:
        lhs, rhs = eq, None
    terms = lhs.split(",")
    if len(terms) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")

    # labels per operand; ellipsis dims get labels 0..E-1 aligned to the right
    parsed = []
    offset = 0
    for term in terms:
        parsed.append(_parse_term(term, offset))
        offset += len(term) + 1
    ell_dims = []
    for k, (labs, op) in enumerate(zip(parsed, operands)):
        n_letters = sum(1 for l in labs if l is not None)
        has_ell = None in labs
        if has_ell:
            if n_letters > op.ndim:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                                   f"({n_letters}) is more than the number of dimensions "
                                   f"({op.ndim}) for operand {k}")
            ell_dims.append(op.ndim - n_letters)
        else:
            if n_letters != op.ndim:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                                   f"({n_letters}) does not match the number of dimensions "
                                   f"({op.ndim}) for operand {k} and no ellipsis was given")
            ell_dims.append(0)
    E = max(ell_dims) if ell_dims else 0
    any_ell = any(None in labs for labs in parsed)
    labels = []
    for labs, e in zip(parsed, ell_dims):
        full = []
        for l in labs:
            if l is None:
                full.extend(range(E - e, E))
            else:
                full.append(l)
        labels.append(full)

    # output labels
    if rhs is None:
        counts = {}
        for labs in parsed:
            for l in labs:
                if l is not None:
                    counts[l] = counts.get(l, 0) + 1
        out = (list(range(E)) if any_ell else []) + sorted(l for l, c in counts.items() if c == 1)
    else:
        out = []
        seen = set()
        i = 0
        base = len(lhs) + 2
        all_letters = {l for labs in parsed for l in labs if l is not None}
        while i < len(rhs):
            if rhs.startswith(_ELL, i):
                if "ell" in seen:
                    raise RuntimeError("einsum(): found more than one '...' in the output")
                seen.add("ell")
                out.extend(range(E))
                i += 3
                continue
            if rhs[i] == ".":
                raise RuntimeError(f"einsum(): found '.' for output that is not part of any "
                                   f"ellipsis at index {base + i}")
            l = _label_index(rhs[i], base + i)
            if l in seen:
                raise RuntimeError(f"einsum(): output subscript {rhs[i]} appears more than once "
                                   f"in the output")
            if l not in all_letters:
                raise RuntimeError(f"einsum(): output subscript {rhs[i]} does not appear in the "
                                   f"equation for any input operand")
            seen.add(l)
            out.append(l)
            i += 1

    # per operand: diagonals (repeated labels) first
    ops = []
    for k, (op, labs) in enumerate(zip(operands, labels)):
        t, labs = _diagonals(op, labs, k)
        ops.append((t, labs))

    # sizes must agree (1 broadcasts)
    sizes = {}
    for k, (op, labs) in enumerate(ops):
        for d, l in enumerate(labs):
            s = op.shape[d]
            if l in sizes and sizes[l] != s and sizes[l] != 1 and s != 1:
                raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes "
                                   f"(original->remapped): "
                                   + " ".join(f"{list(o.shape)}->{list(o.shape)}" for o in operands))
            if l not in sizes or sizes[l] == 1:
                sizes[l] = s

    out_set = set(out)

    def needed_later(idx):
        s = set(out_set)
        for t, labs in ops[idx:]:
            s.update(labs)
        return s

    t, la = ops[0]
    others = set(l for _, labs in ops[1:] for l in labs)
    t, la = _sum_labels(t, la, {l for l in la if l not in out_set and l not in others})
    for idx in range(1, len(ops)):
        b, lb = ops[idx]
        keep = needed_later(idx + 1)
        rest = set(la) | keep
        b, lb = _sum_labels(b, lb, {l for l in lb if l not in rest})
        t, la = _contract(t, la, b, lb, keep)
        t, la = _sum_labels(t, la, {l for l in la if l not in keep})

    # broadcast output labels that stayed size 1 only where an operand had them larger is
    # already done by the products; arrange the output order
    perm = [la.index(l) for l in out]
    return t.permute(*perm) if perm != list(range(len(perm))) else t
