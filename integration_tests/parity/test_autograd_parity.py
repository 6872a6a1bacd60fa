"""Gradients against PyTorch 2.13: the same computation, on the same float64 (complex128)
inputs, in torch and in rt_autograd; the forward values, the leaves' ``.grad`` after
``autograd.backward`` with the same output gradients, and second derivatives
(``autograd.grad(create_graph=True)`` then the gradient of ``sum(g * v)``) must agree.

One line of CASES per computation: elementwise math (with broadcasting and PyTorch's
subgradients at ties and kinks), reductions, the matmul family, views and indexing,
cat/stack/split, in-place ops on non-leaf tensors, hooks.
"""
import dataclasses
import zlib
from typing import Callable

import numpy as np
import pytest

import rt_autograd as rt

torch = pytest.importorskip("torch", reason="PyTorch cannot be imported; the parity suite "
                                            "runs in `tox -e parity` (torch==2.13.0)")

RTOL, ATOL = 1e-9, 1e-11


@dataclasses.dataclass
class Case:
    name: str
    fn: Callable            # fn(L, *inputs) with L = torch or rt_autograd; tensors out
    inputs: tuple           # per input: a shape (random), (shape, domain) or a numpy array
    second: bool = True     # compare second derivatives too
    complex_: bool = False  # complex128 inputs


def _rng(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


DOMAINS = {"any": (-2.0, 2.0), "pos": (0.5, 2.0), "unit": (-0.9, 0.9)}


def _make_arrays(case):
    rng = _rng(case.name)
    arrays = []
    for spec in case.inputs:
        if isinstance(spec, np.ndarray):
            arrays.append(spec.astype(np.complex128 if case.complex_ else np.float64))
            continue
        if spec and isinstance(spec[-1], str):
            shape, domain = spec[0], spec[1]
        else:
            shape, domain = spec, "any"
        if domain == "nonzero":
            a = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
        else:
            a = rng.uniform(*DOMAINS[domain], shape)
        if case.complex_:
            a = a + 1j * rng.uniform(*DOMAINS["any"], shape)
        arrays.append(np.asarray(a))
    return arrays


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [o for item in out for o in _flat(item)]
    return [out]


def _np(t):
    if t is None:
        return None
    if isinstance(t, torch.Tensor):
        if t._is_zerotensor():             # torch's lazily-zero gradients
            return np.zeros(tuple(t.shape), dtype=np.complex128 if t.is_complex() else
                            np.float64)
        return np.array(t.detach().resolve_conj().resolve_neg().numpy(), copy=True)
    return np.array(t.detach().numpy(), copy=True)


def _leaves(lib, arrays):
    if lib is torch:
        return [torch.from_numpy(a.copy()).requires_grad_() for a in arrays]
    return [rt.from_numpy(a.copy()).requires_grad_() for a in arrays]


def _cmp(what, r, t):
    if t is None or r is None:
        assert r is None and t is None, f"{what}: rt {r is None and 'None' or 'a tensor'}, " \
                                        f"torch {t is None and 'None' or 'a tensor'}"
        return
    r, t = np.asarray(r), np.asarray(t)
    assert r.shape == t.shape, f"{what}: shape {r.shape} != torch {t.shape}"
    np.testing.assert_allclose(r, t, rtol=RTOL, atol=ATOL, err_msg=what)


def _run_first_order(case, lib, arrays, out_grads):
    xs = _leaves(lib, arrays)
    outs = [o for o in _flat(case.fn(lib, *xs)) if o.requires_grad]
    lib.autograd.backward(outs, [_to(lib, g) for g in out_grads[:len(outs)]])
    return [_np(o) for o in outs], [_np(x.grad) for x in xs]


def _run_second_order(case, lib, arrays, out_grads, vs):
    xs = _leaves(lib, arrays)
    outs = [o for o in _flat(case.fn(lib, *xs)) if o.requires_grad]
    gs = lib.autograd.grad(outs, xs, [_to(lib, g) for g in out_grads[:len(outs)]],
                           create_graph=True, allow_unused=True)
    first = [_np(g) for g in gs]
    terms = [(g * _to(lib, v)).sum() for g, v in zip(gs, vs) if g is not None and
             g.requires_grad]
    if not terms:
        return first, None
    s = terms[0]
    for t in terms[1:]:
        s = s + t
    if s.dtype.is_complex:
        s = s.real
    second = lib.autograd.grad(s, xs, allow_unused=True)
    return first, [np.zeros_like(a) if g is None else _np(g) for g, a in zip(second, arrays)]


def _to(lib, a):
    return torch.from_numpy(a.copy()) if lib is torch else rt.from_numpy(a.copy())


def _check(case):
    arrays = _make_arrays(case)
    # outputs under no_grad report requires_grad False: shape the gradients from a real run
    xs = _leaves(torch, arrays)
    t_outs = [o for o in _flat(case.fn(torch, *xs)) if o.requires_grad]
    rng = _rng(case.name + "/grad")
    out_grads = []
    for o in t_outs:
        g = rng.uniform(-1, 1, tuple(o.shape))
        if o.is_complex():
            g = g + 1j * rng.uniform(-1, 1, tuple(o.shape))
        out_grads.append(np.asarray(g))

    t_vals, t_grads = _run_first_order(case, torch, arrays, out_grads)
    r_vals, r_grads = _run_first_order(case, rt, arrays, out_grads)
    assert len(r_vals) == len(t_vals), "number of differentiable outputs differs"
    for i, (r, t) in enumerate(zip(r_vals, t_vals)):
        _cmp(f"{case.name}: output {i}", r, t)
    for i, (r, t) in enumerate(zip(r_grads, t_grads)):
        _cmp(f"{case.name}: .grad of input {i}", r, t)

    if not case.second:
        return
    vs = [np.asarray(_rng(case.name + f"/v{i}").uniform(-1, 1, a.shape)
                     + (1j * _rng(case.name + f"/w{i}").uniform(-1, 1, a.shape)
                        if case.complex_ else 0)) for i, a in enumerate(arrays)]
    t_first, t_second = _run_second_order(case, torch, arrays, out_grads, vs)
    r_first, r_second = _run_second_order(case, rt, arrays, out_grads, vs)
    for i, (r, t) in enumerate(zip(r_first, t_first)):
        _cmp(f"{case.name}: autograd.grad of input {i}", r, t)
    # A library whose first-order gradients carry no graph has a zero second derivative
    # (e.g. relu's mask); where the other's is not zero, a backward formula of rt is not
    # written in differentiable ops.
    zeros = [np.zeros_like(a) for a in arrays]
    if t_second is None and r_second is None:
        return
    for i, (r, t) in enumerate(zip(r_second or zeros, t_second or zeros)):
        _cmp(f"{case.name}: second derivative of input {i}", r, t)


# ---- computations ----------------------------------------------------------------------------

def _ties():
    return np.array([[1.0, 3.0, 3.0], [2.0, -1.0, 3.0]])


def _inplace_mul(L, a):
    h = a * 1
    h.mul_(2)
    return h * a


def _inplace_add_broadcast(L, a, b):
    h = a.sin()
    h.add_(b)
    return h


def _inplace_exp_then_use(L, a):
    h = a * 1
    h.exp_()
    return h * h


def _inplace_iadd(L, a, b):
    h = a * 2
    h += b * b
    return h


def _setitem_scalar(L, a):
    h = a * 3
    h[0, 1] = 0.5
    return h * a


def _setitem_tensor(L, a, b):
    h = a * 1
    h[1] = b * 2
    return h.exp()


def _setitem_slice(L, a, b):
    h = a.sin()
    h[:, 1:3] = b
    return h * h


def _inplace_on_view(L, a):
    h = a * 1
    h[0].mul_(3)
    h[:, 1].add_(1)
    return h ** 2


def _inplace_clamp(L, a):
    h = a * 2
    h.clamp_(-1.0, 1.5)
    return h * a


def _copy_into_slice(L, a, b):
    h = a * 1
    h[1:, :2].copy_(b.exp())
    return h * h


def _hook_scale(L, a, b):
    h = a * b
    h.register_hook(lambda g: g * 3)
    return h.exp()


def _hook_two(L, a):
    h = a.exp()
    h.register_hook(lambda g: g + 1)
    h.register_hook(lambda g: g * 2)
    return h * a


def _hook_on_leaf(L, a, b):
    a.register_hook(lambda g: g * 5)
    return a * b + a


def _hook_replace_none(L, a):
    h = a ** 2
    h.register_hook(lambda g: None)
    return h.sin()


def _max_dim_values(L, a):
    return a.max(dim=1).values


def _min_dim_values(L, a):
    return a.min(dim=0, keepdim=True)[0]


def _split_recombine(L, a):
    p, q = a.split([1, 2], dim=1)
    return L.cat([q * 2, p.exp()], dim=1)


def _chunk(L, a):
    c = a.chunk(2, dim=0)
    return c[0] * c[1]


def _unbind(L, a):
    r0, r1, r2 = a.unbind(1)
    return r0 * r1 + r2


def _gather(L, a):
    idx = L.tensor([[0, 2], [1, 1], [2, 0]])
    return a.gather(1, idx)


def _index_select(L, a):
    return a.index_select(0, L.tensor([2, 0, 2]))


def _masked(L, a):
    return a[a > 0]


def _masked_fill(L, a):
    return a.masked_fill(a < 0, 0.5) * a


def _where(L, a, b):
    return L.where(a > b, a * a, b.exp())


CASES = [
    # elementwise binary, broadcasting
    Case("add", lambda L, a, b: a + b, ((3, 4), (3, 4))),
    Case("add_broadcast", lambda L, a, b: a + b, ((3, 1), (1, 4))),
    Case("add_alpha", lambda L, a, b: L.add(a, b, alpha=2.5), ((2, 3), (3,))),
    Case("sub_broadcast", lambda L, a, b: a - b, ((2, 3), (3,))),
    Case("rsub_scalar", lambda L, a: 2 - a, ((4,),)),
    Case("mul", lambda L, a, b: a * b, ((3, 4), (3, 4))),
    Case("mul_broadcast_3d", lambda L, a, b: a * b, ((2, 1, 3), (4, 3))),
    Case("mul_0d", lambda L, a, b: a * b, ((), (2, 3))),
    Case("div", lambda L, a, b: a / b, ((3, 4), ((3, 4), "pos"))),
    Case("div_broadcast", lambda L, a, b: a / b, (((2, 1), "pos"), ((3,), "pos"))),
    Case("rdiv_scalar", lambda L, a: 2 / a, (((4,), "pos"),)),
    Case("pow_scalar", lambda L, a: a ** 3, ((2, 3),)),
    Case("pow_fractional", lambda L, a: a ** 2.5, (((2, 3), "pos"),)),
    Case("pow_tensor", lambda L, a, b: a ** b, (((2, 3), "pos"), (2, 3))),
    Case("rpow", lambda L, a: 2 ** a, ((5,),)),
    Case("neg", lambda L, a: -a * a, ((4,),)),
    Case("chain_poly", lambda L, a: a ** 4 - 2 * a ** 3 + a, ((5,),)),
    Case("atan2", lambda L, a, b: L.atan2(a, b), (((3,), "nonzero"), ((3,), "nonzero"))),
    Case("hypot", lambda L, a, b: L.hypot(a, b), (((3,), "nonzero"), ((3,), "nonzero"))),
    Case("logaddexp", lambda L, a, b: L.logaddexp(a, b), ((2, 3), (3,))),
    Case("lerp", lambda L, a, b, w: L.lerp(a, b, w), ((3,), (3,), ((3,), "unit"))),
    Case("addcmul", lambda L, a, b, c: L.addcmul(a, b, c, value=0.5), ((3,), (3,), (3,))),
    Case("addcdiv", lambda L, a, b, c: L.addcdiv(a, b, c, value=2.0),
         ((3,), (3,), ((3,), "pos"))),
    Case("xlogy", lambda L, a, b: L.xlogy(a, b), ((3,), ((3,), "pos"))),
    # elementwise unary
    Case("exp", lambda L, a: a.exp(), ((2, 3),)),
    Case("log", lambda L, a: L.log(a), (((2, 3), "pos"),)),
    Case("log1p", lambda L, a: a.log1p(), (((4,), "pos"),)),
    Case("log2", lambda L, a: a.log2(), (((4,), "pos"),)),
    Case("expm1", lambda L, a: a.expm1(), ((4,),)),
    Case("sin", lambda L, a: a.sin(), ((2, 3),)),
    Case("cos", lambda L, a: L.cos(a), ((2, 3),)),
    Case("tan", lambda L, a: a.tan(), (((4,), "unit"),)),
    Case("tanh", lambda L, a: a.tanh(), ((2, 3),)),
    Case("sinh", lambda L, a: a.sinh(), ((4,),)),
    Case("sigmoid", lambda L, a: a.sigmoid(), ((2, 3),)),
    Case("sqrt", lambda L, a: a.sqrt(), (((2, 3), "pos"),)),
    Case("rsqrt", lambda L, a: a.rsqrt(), (((4,), "pos"),)),
    Case("reciprocal", lambda L, a: a.reciprocal(), (((4,), "nonzero"),)),
    Case("square", lambda L, a: a.square(), ((4,),)),
    Case("erf", lambda L, a: a.erf(), ((4,),)),
    Case("atan", lambda L, a: a.atan(), ((4,),)),
    Case("asin", lambda L, a: a.asin(), (((4,), "unit"),)),
    Case("abs", lambda L, a: a.abs(), (((2, 3), "nonzero"),)),
    Case("abs_at_zero", lambda L, a: a.abs() * 2, (np.array([-1.0, 0.0, 2.0]),)),
    Case("relu", lambda L, a: a.relu(), (np.array([-1.5, -0.2, 0.0, 0.3, 2.0]),)),
    Case("sign_round_floor", lambda L, a: a.sign() + a.round() + a.floor() + a,
         (np.array([-1.7, -0.2, 0.4, 1.6]),)),
    Case("clamp", lambda L, a: a.clamp(-0.5, 0.5), ((6,),)),
    Case("clamp_at_bounds", lambda L, a: a.clamp(min=-1.0, max=1.0),
         (np.array([-2.0, -1.0, 0.0, 1.0, 3.0]),)),
    Case("clamp_min", lambda L, a: L.clamp(a, min=0.0), (np.array([-1.0, 0.0, 1.0]),)),
    Case("maximum_ties", lambda L, a, b: L.maximum(a, b),
         (np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 4.0]))),
    Case("minimum_ties", lambda L, a, b: L.minimum(a, b),
         (np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 4.0]))),
    Case("where", _where, ((2, 3), (2, 3))),
    Case("masked_fill", _masked_fill, ((2, 3),)),
    # reductions
    Case("sum", lambda L, a: a.sum(), ((2, 3),)),
    Case("sum_dim_keepdim", lambda L, a: a.sum(1, keepdim=True), ((2, 3, 2),)),
    Case("sum_dims", lambda L, a: a.sum(dim=(0, 2)), ((2, 3, 2),)),
    Case("mean", lambda L, a: a.mean(), ((3, 4),)),
    Case("mean_dim", lambda L, a: L.mean(a, dim=-1), ((3, 4),)),
    Case("prod", lambda L, a: a.prod(), (((2, 3), "nonzero"),)),
    Case("prod_dim", lambda L, a: a.prod(dim=0), (((3, 2), "nonzero"),)),
    Case("prod_with_zero", lambda L, a: a.prod(dim=1), (np.array([[1.0, 0.0, 2.0],
                                                                  [0.0, 0.0, 3.0],
                                                                  [2.0, 3.0, 4.0]]),)),
    Case("amax_ties", lambda L, a: a.amax(dim=1), (_ties(),)),
    Case("max_all_ties", lambda L, a: a.max(), (_ties(),)),
    Case("min_all", lambda L, a: a.min(), ((3, 2),)),
    Case("max_dim", _max_dim_values, (_ties(),)),
    Case("min_dim_keepdim", _min_dim_values, ((3, 2),)),
    Case("median_ties", lambda L, a: a.median(), (np.array([3.0, 1.0, 2.0, 2.0, 5.0]),)),
    Case("var", lambda L, a: a.var(), ((3, 4),)),
    Case("var_dim_correction0", lambda L, a: a.var(dim=1, correction=0), ((3, 4),)),
    Case("std_dim", lambda L, a: a.std(dim=0), ((3, 4),)),
    Case("norm", lambda L, a: a.norm(), ((3, 4),)),
    Case("norm_p1_dim", lambda L, a: L.norm(a, p=1, dim=1), (((3, 4), "nonzero"),)),
    Case("logsumexp", lambda L, a: a.logsumexp(dim=1), ((3, 4),)),
    Case("cumsum", lambda L, a: a.cumsum(dim=1), ((3, 4),)),
    Case("cumprod", lambda L, a: a.cumprod(dim=0), (((4, 2), "nonzero"),)),
    Case("sort_values", lambda L, a: a.sort(dim=1)[0] * L.tensor([1.0, 2.0, 3.0],
                                                              dtype=a.dtype), ((2, 3),)),
    Case("topk_values", lambda L, a: a.topk(2)[0], ((3, 5),)),
    # matmul family
    Case("mm", lambda L, a, b: a @ b, ((3, 4), (4, 2))),
    Case("matmul_mv", lambda L, a, b: a @ b, ((3, 4), (4,))),
    Case("matmul_vm", lambda L, a, b: a @ b, ((4,), (4, 3))),
    Case("matmul_dot", lambda L, a, b: a @ b, ((5,), (5,))),
    Case("matmul_batched_broadcast", lambda L, a, b: a @ b, ((2, 3, 4), (4, 5))),
    Case("matmul_batch_broadcast_both", lambda L, a, b: L.matmul(a, b), ((1, 3, 4),
                                                                          (2, 4, 2))),
    Case("bmm", lambda L, a, b: L.bmm(a, b), ((2, 3, 4), (2, 4, 2))),
    Case("mm_function", lambda L, a, b: L.mm(a, b).tanh(), ((2, 3), (3, 2))),
    Case("quadratic_form", lambda L, a, w: w @ a @ w, ((3, 3), (3,))),
    Case("einsum_ij_jk", lambda L, a, b: L.einsum("ij,jk->ik", a, b), ((2, 3), (3, 4))),
    Case("einsum_batch", lambda L, a, b: L.einsum("bij,bjk->bik", a, b), ((2, 2, 3),
                                                                           (2, 3, 2))),
    Case("einsum_trace_outer", lambda L, a, b: L.einsum("ii,j->j", a, b), ((3, 3), (2,))),
    Case("outer", lambda L, a, b: L.outer(a, b), ((3,), (4,))),
    Case("addmm", lambda L, c, a, b: L.addmm(c, a, b, beta=0.5, alpha=2.0), ((2,), (2, 3),
                                                                               (3, 2))),
    # views and indexing
    Case("reshape", lambda L, a: a.reshape(3, 4) * L.arange(4.0, dtype=a.dtype), ((2, 6),)),
    Case("view_flatten", lambda L, a: a.view(-1).exp(), ((2, 3),)),
    Case("transpose", lambda L, a, b: a.transpose(0, 1) * b, ((2, 3), (3, 2))),
    Case("t_mm", lambda L, a: a.t() @ a, ((3, 2),)),
    Case("T_property", lambda L, a, b: a.T * b, ((2, 3), (3, 2))),
    Case("mT_property", lambda L, a: a.mT @ a, ((2, 3, 2),)),
    Case("permute", lambda L, a: a.permute(2, 0, 1).sin(), ((2, 3, 4),)),
    Case("expand", lambda L, a: a.expand(3, 4) * L.arange(12.0, dtype=a.dtype).reshape(3, 4),
         ((3, 1),)),
    Case("squeeze_unsqueeze", lambda L, a: a.squeeze(1).unsqueeze(0) ** 2, ((3, 1, 2),)),
    Case("flatten", lambda L, a: a.flatten(1) ** 3, ((2, 2, 3),)),
    Case("narrow", lambda L, a: a.narrow(1, 1, 2).exp(), ((3, 4),)),
    Case("slice_step", lambda L, a: a[::2, 1:] ** 2, ((5, 4),)),
    Case("int_index", lambda L, a: a[1] * a[2], ((3, 4),)),
    Case("newaxis_ellipsis", lambda L, a: a[..., None, 1] ** 2, ((2, 3, 4),)),
    Case("advanced_index_repeats", lambda L, a: a[[0, 2, 0]] ** 2, ((3, 2),)),
    Case("advanced_index_2d", lambda L, a: a[[0, 1, 1], [2, 0, 2]].exp(), ((2, 3),)),
    Case("bool_mask", _masked, ((3, 4),)),
    Case("diagonal", lambda L, a: a.diagonal() ** 2, ((3, 3),)),
    Case("diagonal_offset", lambda L, a: L.diagonal(a, 1, 0, 1).exp(), ((3, 4),)),
    Case("index_select_repeats", _index_select, ((3, 2),)),
    Case("gather", _gather, ((3, 3),)),
    Case("flip", lambda L, a: L.flip(a, [0]) * a, ((3, 2),)),
    Case("roll", lambda L, a: L.roll(a, 1, 0) * a, ((4,),)),
    Case("tril", lambda L, a: a.tril() ** 2, ((3, 3),)),
    Case("repeat", lambda L, a: a.repeat(2, 3).sin(), ((2, 2),)),
    # cat / stack / split
    Case("cat_dim0", lambda L, a, b: L.cat([a, b * b]) ** 2, ((2, 3), (1, 3))),
    Case("cat_dim1", lambda L, a, b: L.cat([a, b, a], dim=1).exp(), ((2, 1), (2, 3))),
    Case("stack", lambda L, a, b: L.stack([a, b], dim=1) ** 2, ((3,), (3,))),
    Case("split_recombine", _split_recombine, ((2, 3),)),
    Case("chunk", _chunk, ((4, 2),)),
    Case("unbind", _unbind, ((2, 3),)),
    Case("split_multi_output", lambda L, a: a.split(2), ((5,),)),
    # in-place on non-leaf tensors
    Case("inplace_mul", _inplace_mul, ((2, 3),)),
    Case("inplace_add_broadcast", _inplace_add_broadcast, ((2, 3), (3,))),
    Case("inplace_exp_then_use", _inplace_exp_then_use, ((4,),)),
    Case("inplace_iadd", _inplace_iadd, ((2, 2), (2, 2))),
    Case("setitem_scalar", _setitem_scalar, ((2, 3),)),
    Case("setitem_tensor", _setitem_tensor, ((3, 2), (2,))),
    Case("setitem_slice", _setitem_slice, ((2, 4), (2, 2))),
    Case("inplace_on_view", _inplace_on_view, ((2, 3),)),
    Case("inplace_clamp", _inplace_clamp, ((5,),)),
    Case("copy_into_slice", _copy_into_slice, ((3, 3), (2, 2))),
    # hooks
    Case("hook_scale", _hook_scale, ((3,), (3,))),
    Case("hook_two_in_order", _hook_two, ((3,),)),
    Case("hook_on_leaf", _hook_on_leaf, ((3,), (3,))),
    Case("hook_returning_none", _hook_replace_none, ((3,),)),
    # complex arithmetic
    Case("complex_mul", lambda L, a, b: a * b, ((3,), (3,)), complex_=True),
    Case("complex_div", lambda L, a, b: a / b + a * a, ((3,), (3,)), complex_=True),
    Case("complex_add_sub", lambda L, a, b: (a + b) * (a - b), ((2, 2), (2,)),
         complex_=True),
    Case("complex_abs", lambda L, a: a.abs(), ((4,),), complex_=True),
]


def test_there_are_at_least_60_cases():
    assert len(CASES) >= 60
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_gradients_match_pytorch(case):
    _check(case)


# ---- engine-level parity -----------------------------------------------------------------------

def _pair(values):
    a = np.asarray(values, dtype=np.float64)
    return (rt.from_numpy(a.copy()).requires_grad_(), torch.from_numpy(a.copy()).requires_grad_())


def test_seed_check_matches_pytorch():
    res = []
    for L in (rt, torch):
        x = L.tensor(2.0, requires_grad=True)
        y = L.tensor(3.0, requires_grad=True)
        z = x * y + x ** 2
        z.backward()
        res.append((x.grad.item(), y.grad.item()))
    assert res[0] == res[1] == (7.0, 2.0)


def test_retain_grad_on_intermediates_matches_pytorch():
    out = []
    for lib, x in zip((rt, torch), _pair([[0.5, -1.0], [2.0, 0.25]])):
        h = x * x
        h.retain_grad()
        k = h.exp()
        k.retain_grad()
        (k * x).sum().backward()
        out.append((_np(h.grad), _np(k.grad), _np(x.grad)))
    for r, t in zip(*out):
        _cmp("retain_grad", r, t)


def test_accumulation_and_retain_graph_match_pytorch():
    out = []
    for lib, x in zip((rt, torch), _pair([0.3, -0.7, 1.1])):
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        (x ** 2).sum().backward()
        out.append(_np(x.grad))
    _cmp("accumulated grad", *out)


def test_autograd_grad_non_leaf_and_several_outputs_match_pytorch():
    out = []
    for lib, (a, b) in zip((rt, torch), zip(_pair([1.0, 2.0, 3.0]), _pair([0.5, -1.0, 2.0]))):
        c = a * b
        d = c.exp()
        o1 = (d * a).sum()
        o2 = (c * c).sum()
        gs = lib.autograd.grad([o1, o2], [c, a, b])
        out.append([_np(g) for g in gs])
    for i, (r, t) in enumerate(zip(*out)):
        _cmp(f"grad {i}", r, t)


def test_hessian_matches_pytorch():
    def f(L, x):
        return (x[0] ** 2 * x[1] + x[1].exp() * x[2] + (x * x).sum() * x[2])

    hs = []
    for lib, x in zip((rt, torch), _pair([0.3, -0.5, 1.2])):
        g, = lib.autograd.grad(f(lib, x), x, create_graph=True)
        rows = [_np(lib.autograd.grad(g[i], x, retain_graph=True)[0]) for i in range(3)]
        hs.append(np.stack(rows))
    _cmp("hessian", *hs)


def test_third_derivative_matches_pytorch():
    res = []
    for lib, x in zip((rt, torch), _pair([0.4, 1.3])):
        y = (x.sin() * x ** 3).sum()
        g1, = lib.autograd.grad(y, x, create_graph=True)
        g2, = lib.autograd.grad(g1.sum(), x, create_graph=True)
        g3, = lib.autograd.grad(g2.sum(), x)
        res.append([_np(g1), _np(g2), _np(g3)])
    for i, (r, t) in enumerate(zip(*res)):
        _cmp(f"derivative {i + 1}", r, t)


def test_backward_inputs_argument_matches_pytorch():
    out = []
    for lib, (a, b) in zip((rt, torch), zip(_pair([1.0, 2.0]), _pair([3.0, -1.0]))):
        c = a * 2
        (c * b).sum().backward(inputs=[c, b])
        out.append((_np(c.grad), a.grad, _np(b.grad)))
    r, t = out
    _cmp("c.grad", r[0], t[0])
    assert r[1] is None and t[1] is None
    _cmp("b.grad", r[2], t[2])
