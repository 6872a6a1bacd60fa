"""rt_nn's softmax family, losses and distances against PyTorch 2.13: the same computation on
the same inputs in torch and in rt; forward values (float64 and float32), the gradients of
every differentiable input for the same output gradient, and second derivatives
(``autograd.grad(create_graph=True)`` then the gradient of ``sum(g * v)``) must agree; then
errors (type and message), warnings, and the modules (repr, state_dict keys, outputs).

One line of CASES per computation; the option grids (weights, reductions, ignore_index,
label smoothing, p, swap, var shapes, ...) are generated below.
"""
import dataclasses
import itertools
import re
import warnings
import zlib
from typing import Callable

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn
import rt_nn.functional as RF

torch = pytest.importorskip("torch", reason="PyTorch cannot be imported; the parity suite "
                                            "runs in `tox -e parity` (torch==2.13.0)")
import torch.nn.functional as TF  # noqa: E402

RTOL, ATOL = 1e-9, 1e-11
DOMAINS = {"any": (-2.0, 2.0), "prob": (0.05, 0.95), "pos": (0.5, 2.0), "wide": (-6.0, 6.0),
           "big": (0.2, 4.0)}


@dataclasses.dataclass
class Case:
    name: str
    fn: Callable             # fn(L, F, *diff, *const) -> tensor; L = torch or rt_autograd
    diff: tuple              # differentiable float inputs: shape or (shape, domain) or ndarray
    const: tuple = ()        # constant inputs (numpy arrays: targets, weights, ...)
    second: bool = True      # compare second derivatives too
    rtol: float = RTOL       # of the float64 comparisons (float32 work inside: looser)


def _rng(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def _arrays(case):
    rng = _rng(case.name)
    out = []
    for spec in case.diff:
        if isinstance(spec, np.ndarray):
            out.append(spec.astype(np.float64))
            continue
        if spec and isinstance(spec[-1], str):
            shape, dom = spec
        else:
            shape, dom = spec, "any"
        out.append(np.asarray(rng.uniform(*DOMAINS[dom], shape)))
    return out


def _lib(L):
    return TF if L is torch else RF


def _to(L, a, grad=False, dtype=None):
    a = np.array(a, copy=True)
    if dtype is not None and a.dtype.kind == "f":
        a = a.astype(dtype)
    t = torch.from_numpy(a) if L is torch else rt.from_numpy(a)
    return t.requires_grad_() if grad else t


def _np(t):
    if t is None:
        return None
    if isinstance(t, torch.Tensor) and t._is_zerotensor():
        return np.zeros(tuple(t.shape))
    return np.array(t.detach().numpy(), copy=True)


def _cmp(what, r, t, rtol=RTOL, atol=ATOL):
    if r is None or t is None:
        assert r is None and t is None, f"{what}: rt {r is None}, torch {t is None} (None?)"
        return
    assert r.shape == t.shape, f"{what}: shape {r.shape} != torch {t.shape}"
    np.testing.assert_allclose(r, t, rtol=rtol, atol=atol, err_msg=what, equal_nan=True)


def _call(case, L, xs, consts):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return case.fn(L, _lib(L), *xs, *consts)


def _check(case):
    arrays = _arrays(case)
    rng = _rng(case.name + "/g")
    outs, grads = {}, {}
    for L in (torch, rt):
        xs = [_to(L, a, grad=True) for a in arrays]
        consts = [_to(L, c) for c in case.const]
        out = _call(case, L, xs, consts)
        if L is torch:
            g = np.asarray(rng.uniform(-1, 1, tuple(out.shape)))
        outs[L] = _np(out)
        if out.requires_grad:
            L.autograd.backward([out], [_to(L, g)])
        grads[L] = [_np(x.grad) for x in xs]
    _cmp(f"{case.name}: output", outs[rt], outs[torch], rtol=case.rtol)
    for i, (r, t) in enumerate(zip(grads[rt], grads[torch])):
        _cmp(f"{case.name}: grad of input {i}", r, t, rtol=case.rtol, atol=case.rtol * 1e-2)

    # float32 forward
    o32 = {}
    for L in (torch, rt):
        xs = [_to(L, a, dtype=np.float32) for a in arrays]
        consts = [_to(L, c, dtype=np.float32) for c in case.const]
        o32[L] = _np(_call(case, L, xs, consts))
    _cmp(f"{case.name}: float32 output", o32[rt], o32[torch], rtol=2e-5, atol=2e-6)

    if not case.second:
        return
    vs = [np.asarray(_rng(case.name + f"/v{i}").uniform(-1, 1, a.shape))
          for i, a in enumerate(arrays)]
    sec = {}
    for L in (torch, rt):
        xs = [_to(L, a, grad=True) for a in arrays]
        consts = [_to(L, c) for c in case.const]
        out = _call(case, L, xs, consts)
        gs = L.autograd.grad([out], xs, [_to(L, g)], create_graph=True, allow_unused=True)
        terms = [(gi * _to(L, v)).sum() for gi, v in zip(gs, vs)
                 if gi is not None and gi.requires_grad]
        if not terms:
            sec[L] = None
            continue
        s = terms[0]
        for t in terms[1:]:
            s = s + t
        second = L.autograd.grad(s, xs, allow_unused=True)
        sec[L] = [np.zeros(a.shape) if gi is None else _np(gi) for gi, a in zip(second, arrays)]
    if sec[torch] is None and sec[rt] is None:
        return
    zeros = [np.zeros(a.shape) for a in arrays]
    for i, (r, t) in enumerate(zip(sec[rt] or zeros, sec[torch] or zeros)):
        _cmp(f"{case.name}: second derivative of input {i}", r, t, rtol=1e-8, atol=1e-10)


# ---- the cases --------------------------------------------------------------------------------

CASES = []
REDS = ("none", "mean", "sum")


def _targets(name, shape, n_classes, ignore=None):
    rng = _rng(name + "/t")
    t = rng.integers(0, n_classes, shape).astype(np.int64)
    if ignore is not None and t.size:
        flat = t.reshape(-1)
        flat[::3] = ignore
    return t


# softmax family
for shape, dim in [((4, 5), 1), ((4, 5), 0), ((3, 4, 5), -1), ((2, 3, 4, 5), 1), ((6,), 0),
                   ((), 0), ((2, 70, 3), 1), ((3, 130), 1), ((2, 3, 80), 1)]:
    for fname in ("softmax", "log_softmax", "softmin"):
        CASES.append(Case(f"{fname}{shape}d{dim}",
                          lambda L, F, x, f=fname, d=dim: getattr(F, f)(x, d), ((shape, "wide"),)))
CASES.append(Case("softmax_dtype", lambda L, F, x: F.softmax(x.float(), 1, dtype=L.float64),
                  ((3, 4),), second=False, rtol=1e-6))
CASES.append(Case("log_softmax_dtype", lambda L, F, x: F.log_softmax(x, 0, dtype=L.float32),
                  ((3, 4),), second=False, rtol=1e-6))
CASES.append(Case("softmax_implicit_2d", lambda L, F, x: F.softmax(x), ((3, 4),)))
CASES.append(Case("softmax_implicit_3d", lambda L, F, x: F.log_softmax(x), ((3, 4, 2),)))
CASES.append(Case("softmax_neg_inf", lambda L, F, x: F.softmax(
    x.masked_fill(L.from_numpy(np.array([[True, False, False], [False, False, True]])),
                  float("-inf")), 1), ((2, 3),)))

# cross_entropy with class indices
for shape, w, red, ls, ii in itertools.product(
        [(4, 5), (5,), (2, 3, 4), (2, 3, 2, 2), (2, 3, 2, 1, 2), (3, 70, 2)], (False, True), REDS,
        (0.0, 0.2), (-100, 1)):
    c = shape[0] if len(shape) == 1 else shape[1]
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    name = f"ce{shape}w{w}{red}ls{ls}ii{ii}"
    t = _targets(name, tshape, c, ignore=ii if ii >= 0 and len(shape) > 1 else None)
    consts = (t,) + ((np.linspace(0.5, 2.0, c),) if w else ())
    CASES.append(Case(name, lambda L, F, x, t, *w, r=red, l=ls, i=ii: F.cross_entropy(
        x, t, weight=w[0] if w else None, reduction=r, label_smoothing=l, ignore_index=i),
        (shape,), consts))
CASES.append(Case("ce_all_ignored_sum", lambda L, F, x, t: F.cross_entropy(
    x, t, ignore_index=2, reduction="sum"), ((3, 4),), (np.array([2, 2, 2]),)))
CASES.append(Case("ce_uint8_target", lambda L, F, x, t: F.cross_entropy(x, t.to(L.uint8)),
                  ((3, 4),), (np.array([1, 0, 3]),)))
CASES.append(Case("ce_legacy_size_average", lambda L, F, x, t: F.cross_entropy(
    x, t, size_average=False), ((3, 4),), (np.array([1, 0, 3]),)))
# cross_entropy with class probabilities
for shape, w, red, ls in itertools.product([(4, 5), (5,), (2, 3, 4), (2, 3, 2, 2)], (False, True),
                                           REDS, (0.0, 0.3)):
    c = shape[0] if len(shape) == 1 else shape[1]
    consts = (np.linspace(0.5, 2.0, c),) if w else ()
    CASES.append(Case(f"ce_prob{shape}w{w}{red}ls{ls}", lambda L, F, x, p, *w, r=red, l=ls:
                      F.cross_entropy(x, p, weight=w[0] if w else None, reduction=r,
                                      label_smoothing=l), (shape, (shape, "prob")), consts))

# nll_loss
for shape, w, red, ii in itertools.product([(4, 5), (5,), (2, 3, 4), (2, 3, 2, 2), (2, 3, 2, 1, 2)],
                                           (False, True), REDS, (-100, 0)):
    c = shape[0] if len(shape) == 1 else shape[1]
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    name = f"nll{shape}w{w}{red}ii{ii}"
    t = _targets(name, tshape, c, ignore=ii if ii >= 0 and len(shape) > 1 else None)
    consts = (t,) + ((np.linspace(0.5, 2.0, c),) if w else ())
    CASES.append(Case(name, lambda L, F, x, t, *w, r=red, i=ii: F.nll_loss(
        x, t, weight=w[0] if w else None, reduction=r, ignore_index=i), (shape,), consts))
CASES.append(Case("nll_after_log_softmax", lambda L, F, x, t: F.nll_loss(
    F.log_softmax(x, 1), t), ((4, 6),), (np.array([0, 5, 2, 3]),)))

# regression losses (input and target differentiable)
for red in REDS:
    CASES.append(Case(f"mse_{red}", lambda L, F, x, y, r=red: F.mse_loss(x, y, reduction=r),
                      ((3, 4), (3, 4))))
    CASES.append(Case(f"mse_bcast_{red}", lambda L, F, x, y, r=red: F.mse_loss(x, y, reduction=r),
                      ((3, 1), (4,))))
    CASES.append(Case(f"mse_w_{red}", lambda L, F, x, y, w, r=red: F.mse_loss(
        x, y, reduction=r, weight=w), ((3, 4), (3, 4)), (np.linspace(0.1, 2, 12).reshape(3, 4),)))
    CASES.append(Case(f"l1_{red}", lambda L, F, x, y, r=red: F.l1_loss(x, y, reduction=r),
                      ((3, 4), (3, 4))))
    CASES.append(Case(f"l1_w_{red}", lambda L, F, x, y, w, r=red: F.l1_loss(
        x, y, reduction=r, weight=w), ((3, 4), (3, 4)), (np.linspace(0.1, 2, 12).reshape(3, 4),)))
    for beta in (0.0, 0.5, 1.0, 3.0):
        CASES.append(Case(f"smooth_l1_{red}_b{beta}", lambda L, F, x, y, r=red, b=beta:
                          F.smooth_l1_loss(x, y, reduction=r, beta=b), ((3, 4), (3, 4))))
    for delta in (0.5, 1.0, 3.0):
        CASES.append(Case(f"huber_{red}_d{delta}", lambda L, F, x, y, r=red, d=delta:
                          F.huber_loss(x, y, reduction=r, delta=d), ((3, 4), (3, 4))))
    CASES.append(Case(f"huber_w_{red}", lambda L, F, x, y, w, r=red: F.huber_loss(
        x, y, reduction=r, delta=0.7, weight=w), ((3, 4), (3, 4)),
        (np.linspace(0.1, 2, 12).reshape(3, 4),)))
CASES.append(Case("mse_legacy_reduce", lambda L, F, x, y: F.mse_loss(x, y, reduce=False),
                  ((3, 4), (3, 4))))
CASES.append(Case("l1_exact_ties", lambda L, F, x, y: F.smooth_l1_loss(x, y, beta=1.0),
                  (np.array([0.0, 1.0, -1.0, 2.0]), np.array([0.0, 0.0, 0.0, 0.0]))))

# binary cross-entropy
for red in REDS:
    CASES.append(Case(f"bce_{red}", lambda L, F, x, y, r=red: F.binary_cross_entropy(
        x, y, reduction=r), (((3, 4), "prob"), ((3, 4), "prob"))))
    CASES.append(Case(f"bce_w_{red}", lambda L, F, x, y, w, r=red: F.binary_cross_entropy(
        x, y, weight=w, reduction=r), (((3, 4), "prob"), ((3, 4), "prob")),
        (np.linspace(0.5, 2, 4),)))
    CASES.append(Case(f"bcel_{red}", lambda L, F, x, y, r=red:
                      F.binary_cross_entropy_with_logits(x, y, reduction=r),
                      (((3, 4), "wide"), ((3, 4), "prob"))))
    CASES.append(Case(f"bcel_w_pw_{red}", lambda L, F, x, y, w, pw, r=red:
                      F.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw,
                                                         reduction=r),
                      (((3, 4), "wide"), ((3, 4), "prob")),
                      (np.linspace(0.5, 2, 12).reshape(3, 4), np.linspace(0.5, 3, 4))))
    CASES.append(Case(f"bcel_pw_{red}", lambda L, F, x, y, pw, r=red:
                      F.binary_cross_entropy_with_logits(x, y, pos_weight=pw, reduction=r),
                      (((2, 3, 4), "wide"), ((2, 3, 4), "prob")), (np.linspace(0.5, 3, 4),)))
CASES.append(Case("bce_clamped_logs", lambda L, F, x, y: F.binary_cross_entropy(x, y),
                  (np.array([0.0, 1.0, 0.5, 1e-50]),), (np.array([1.0, 0.0, 0.3, 0.7]),),
                  second=False))
CASES.append(Case("bcel_zero_logits", lambda L, F, x, y: F.binary_cross_entropy_with_logits(
    x, y, reduction="sum"), (np.array([0.0, 0.0, 40.0, -40.0]), np.array([0.2, 1.0, 0.0, 1.0]))))

# divergences, likelihoods
for red, lt in itertools.product(REDS + ("batchmean",), (False, True)):
    CASES.append(Case(f"kl_{red}_lt{lt}", lambda L, F, x, y, r=red, l=lt: F.kl_div(
        x, y, reduction=r, log_target=l), ((3, 4), ((3, 4), "any" if lt else "prob"))))
CASES.append(Case("kl_mean_warn", lambda L, F, x, y: F.kl_div(x, y), ((3, 4), ((3, 4), "prob"))))
CASES.append(Case("kl_zero_target", lambda L, F, x, y: F.kl_div(x, y, reduction="sum"),
                  ((3,),), (np.array([0.0, 0.5, 0.5]),)))
for red, li, full in itertools.product(REDS, (True, False), (False, True)):
    CASES.append(Case(f"poisson_{red}_li{li}_f{full}", lambda L, F, x, y, r=red, a=li, f=full:
                      F.poisson_nll_loss(x, y, log_input=a, full=f, reduction=r),
                      (((3, 4), "any" if li else "pos"), ((3, 4), "big"))))
CASES.append(Case("poisson_eps", lambda L, F, x, y: F.poisson_nll_loss(
    x, y, log_input=False, eps=0.5), (((3, 4), "pos"), ((3, 4), "big"))))
for red, full in itertools.product(REDS, (False, True)):
    CASES.append(Case(f"gauss_same_{red}_f{full}", lambda L, F, x, y, v, r=red, f=full:
                      F.gaussian_nll_loss(x, y, v, full=f, reduction=r),
                      ((3, 4), (3, 4), ((3, 4), "pos"))))
CASES.append(Case("gauss_short_var", lambda L, F, x, y, v: F.gaussian_nll_loss(x, y, v),
                  ((3, 4), (3, 4), ((3,), "pos"))))
CASES.append(Case("gauss_bcast_var", lambda L, F, x, y, v: F.gaussian_nll_loss(x, y, v),
                  ((2, 3, 4), (2, 3, 4), ((2, 1, 4), "pos"))))
CASES.append(Case("gauss_float_var", lambda L, F, x, y: F.gaussian_nll_loss(x, y, 0.7),
                  ((3, 4), (3, 4))))
CASES.append(Case("gauss_eps_clamp", lambda L, F, x, y, v: F.gaussian_nll_loss(x, y, v, eps=0.8),
                  ((3, 4), (3, 4), ((3, 4), "pos"))))

# margin and embedding losses
for red in REDS:
    for margin in (0.0, 0.4, -0.3):
        CASES.append(Case(f"cosemb_{red}_m{margin}", lambda L, F, a, b, t, r=red, m=margin:
                          F.cosine_embedding_loss(a, b, t, margin=m, reduction=r),
                          ((5, 4), (5, 4)), (np.array([1.0, -1.0, 1.0, -1.0, -1.0]),)))
        CASES.append(Case(f"mrank_{red}_m{margin}", lambda L, F, a, b, t, r=red, m=margin:
                          F.margin_ranking_loss(a, b, t, margin=m, reduction=r),
                          ((5,), (5,)), (np.array([1.0, -1.0, 1.0, -1.0, 1.0]),)))
    for p, swap in itertools.product((1, 2, 3), (False, True)):
        CASES.append(Case(f"triplet_{red}_p{p}_s{swap}", lambda L, F, a, b, c, r=red, p=p, s=swap:
                          F.triplet_margin_loss(a, b, c, margin=0.7, p=p, swap=s, reduction=r),
                          ((5, 4), (5, 4), (5, 4))))
    CASES.append(Case(f"hinge_{red}", lambda L, F, x, t, r=red: F.hinge_embedding_loss(
        x, t, margin=0.8, reduction=r), ((5,),), (np.array([1.0, -1.0, 1.0, -1.0, -1.0]),)))
    CASES.append(Case(f"softmargin_{red}", lambda L, F, x, t, r=red: F.soft_margin_loss(
        x, t, reduction=r), ((5,),), (np.array([1.0, -1.0, 1.0, -1.0, -1.0]),)))
    CASES.append(Case(f"mlsoftmargin_{red}", lambda L, F, x, t, w, r=red:
                      F.multilabel_soft_margin_loss(x, t, weight=w, reduction=r),
                      (((3, 4), "wide"),), ((np.arange(12).reshape(3, 4) % 2).astype(float),
                                            np.linspace(0.5, 2, 4))))
    for p in (1, 2):
        CASES.append(Case(f"multimargin_{red}_p{p}", lambda L, F, x, t, w, r=red, p=p:
                          F.multi_margin_loss(x, t, p=p, margin=0.9, weight=w, reduction=r),
                          ((4, 5),), (np.array([0, 4, 2, 2]), np.linspace(0.5, 2, 5)),
                          second=False))     # torch: no double backward
    CASES.append(Case(f"mlmargin_{red}", lambda L, F, x, t, r=red: F.multilabel_margin_loss(
        x, t, reduction=r), ((3, 4),), (np.array([[3, 0, -1, 1], [0, 1, 2, 3], [-1, 0, 0, 0]]),),
        second=False))
CASES.append(Case("cosemb_0d", lambda L, F, a, b, t: F.cosine_embedding_loss(a, b, t),
                  ((4,), (4,)), (np.array(-1.0),)))
CASES.append(Case("triplet_1d", lambda L, F, a, b, c: F.triplet_margin_loss(a, b, c),
                  ((4,), (4,), (4,))))
CASES.append(Case("triplet_3d_eps", lambda L, F, a, b, c: F.triplet_margin_loss(
    a, b, c, eps=0.1, reduction="none"), ((2, 3, 4), (2, 3, 4), (2, 3, 4))))
CASES.append(Case("triplet_dist_fn", lambda L, F, a, b, c: F.triplet_margin_with_distance_loss(
    a, b, c, distance_function=lambda u, v: 1 - F.cosine_similarity(u, v), swap=True),
    ((5, 4), (5, 4), (5, 4))))

# distances
for p, keep in itertools.product((1, 2, 3, float("inf")), (False, True)):
    CASES.append(Case(f"pdist_p{p}_k{keep}", lambda L, F, a, b, p=p, k=keep:
                      F.pairwise_distance(a, b, p=p, keepdim=k), ((5, 4), (5, 4)), second=p != 1))
CASES.append(Case("pdist_bcast", lambda L, F, a, b: F.pairwise_distance(a, b), ((3, 4), (4,))))
CASES.append(Case("pdist_1d", lambda L, F, a, b: F.pairwise_distance(a, b, eps=0.0),
                  ((4,), (4,))))
for dim in (0, 1, -1):
    CASES.append(Case(f"cossim_d{dim}", lambda L, F, a, b, d=dim: F.cosine_similarity(a, b, dim=d),
                      ((3, 4), (3, 4))))
CASES.append(Case("cossim_bcast", lambda L, F, a, b: F.cosine_similarity(a, b, dim=-1),
                  ((3, 4), (4,))))
CASES.append(Case("cossim_small", lambda L, F, a, b: F.cosine_similarity(a * 1e-9, b, dim=1),
                  ((3, 4), (3, 4))))
for p, dim in [(2, 1), (1, 0), (3, -1), (2, 0)]:
    CASES.append(Case(f"normalize_p{p}_d{dim}", lambda L, F, x, p=p, d=dim: F.normalize(
        x, p=p, dim=d), ((3, 4),), second=p != 1))
CASES.append(Case("normalize_zero_rows", lambda L, F, x: F.normalize(x * 0, dim=1), ((3, 4),)))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_parity(case):
    _check(case)


# ---- errors -----------------------------------------------------------------------------------

def _R(L, *shape):
    return L.from_numpy(np.asarray(_rng(str(shape)).normal(size=shape)))


def _L(L, v, dtype=None):
    a = np.asarray(v)
    t = L.from_numpy(a.copy())
    return t.to(getattr(L, dtype)) if dtype else t


ERRORS = {
    "nll_w_bad": lambda L, F: F.nll_loss(_R(L, 3, 4), _L(L, [1, 0, 2]), weight=L.ones(3)),
    "ce_w_bad": lambda L, F: F.cross_entropy(_R(L, 3, 4), _L(L, [1, 0, 2]), weight=L.ones(3)),
    "ce_w_bad4d": lambda L, F: F.cross_entropy(_R(L, 2, 4, 3, 3), L.zeros(2, 3, 3).long(),
                                               weight=L.ones(3)),
    "ce_w_bad3d": lambda L, F: F.cross_entropy(_R(L, 2, 4, 3), L.zeros(2, 3).long(),
                                               weight=L.ones(3)),
    "ce_prob_w_bad": lambda L, F: F.cross_entropy(_R(L, 3, 4), _R(L, 3, 4), weight=L.ones(3)),
    "ce_prob_long": lambda L, F: F.cross_entropy(_R(L, 3, 4), L.zeros(3, 4).long()),
    "ce_prob_ign": lambda L, F: F.cross_entropy(_R(L, 3, 4), _R(L, 3, 4), ignore_index=1),
    "ce_ls_bad": lambda L, F: F.cross_entropy(_R(L, 3, 4), _L(L, [1, 0, 2]), label_smoothing=1.5),
    "ce_ls_bad_prob": lambda L, F: F.cross_entropy(_R(L, 3, 4), _R(L, 3, 4), label_smoothing=1.5),
    "ce_4d_t2d": lambda L, F: F.cross_entropy(_R(L, 2, 4, 3, 3), L.zeros(2, 3).long()),
    "ce_4d_t4d": lambda L, F: F.cross_entropy(_R(L, 2, 4, 3, 3), L.zeros(2, 3, 3, 1).long()),
    "ce_4d_size": lambda L, F: F.cross_entropy(_R(L, 2, 3, 4, 5), L.zeros(2, 4, 6).long()),
    "ce_3d_size": lambda L, F: F.cross_entropy(_R(L, 2, 3, 4), L.zeros(2, 5).long()),
    "ce_5d_size": lambda L, F: F.cross_entropy(_R(L, 2, 4, 3, 3, 2), L.zeros(2, 3, 3, 3).long()),
    "ce_batch": lambda L, F: F.cross_entropy(_R(L, 3, 4), _L(L, [1, 0])),
    "ce_2d_t0d": lambda L, F: F.cross_entropy(_R(L, 3, 4), _L(L, 1)),
    "ce_multi": lambda L, F: F.cross_entropy(_R(L, 3, 4), L.zeros(3, 2).long()),
    "ce_oob": lambda L, F: F.cross_entropy(_R(L, 3, 4), _L(L, [1, 5, 0])),
    "ce_oob_neg": lambda L, F: F.cross_entropy(_R(L, 3, 4), _L(L, [1, -1, 0])),
    "ce_oob_4d": lambda L, F: F.cross_entropy(_R(L, 2, 3, 1, 2), _L(L, [[[0, 9]], [[0, 0]]])),
    "ce_float_t": lambda L, F: F.cross_entropy(_R(L, 3, 4), _L(L, [1.0, 2.0, 0.0])),
    "ce_int32_t": lambda L, F: F.cross_entropy(_R(L, 3, 4), _L(L, [1, 2, 0], "int32")),
    "ce_int_input": lambda L, F: F.cross_entropy(_L(L, [[1, 2]]), _L(L, [1])),
    "ce_1d_t1d": lambda L, F: F.cross_entropy(_R(L, 4), _L(L, [1, 2])),
    "ce_0d": lambda L, F: F.cross_entropy(_R(L), _L(L, 1)),
    "ce_bad_reduction": lambda L, F: F.cross_entropy(_R(L, 3, 4), _L(L, [1, 0, 2]),
                                                     reduction="foo"),
    "nll_0d": lambda L, F: F.nll_loss(_R(L), _L(L, 1)),
    "nll_oob": lambda L, F: F.nll_loss(_R(L, 3, 4), _L(L, [1, 4, 0])),
    "nll_int32": lambda L, F: F.nll_loss(_R(L, 3, 4), _L(L, [1, 2, 0], "int32")),
    "nll_int_input": lambda L, F: F.nll_loss(_L(L, [[1, 2]]), _L(L, [1])),
    "nll_int_input_3d": lambda L, F: F.nll_loss(_L(L, [[[1, 2]]]), _L(L, [[1, 0]])),
    "ce_complex": lambda L, F: F.cross_entropy(_R(L, 2, 3).to(L.complex64), _L(L, [1, 0])),
    "softmax_int": lambda L, F: F.softmax(_L(L, [1, 2]), 0),
    "log_softmax_int_notlast": lambda L, F: F.log_softmax(_L(L, [[1, 2]]), 0),
    "softmax_dim": lambda L, F: F.softmax(_R(L, 2, 3), 2),
    "softmax_dim_0d": lambda L, F: F.softmax(_R(L), 1),
    "bce_size": lambda L, F: F.binary_cross_entropy(_R(L, 3).sigmoid(), _R(L, 3, 1).sigmoid()),
    "bce_range": lambda L, F: F.binary_cross_entropy(_R(L, 3) + 5, _R(L, 3).sigmoid()),
    "bcel_size": lambda L, F: F.binary_cross_entropy_with_logits(_R(L, 3), _R(L, 3, 1)),
    "mse_w_bad": lambda L, F: F.mse_loss(_R(L, 3), _R(L, 3), weight=L.ones(2)),
    "l1_w_bad": lambda L, F: F.l1_loss(_R(L, 3), _R(L, 3), weight=L.ones(2)),
    "huber_w_bad": lambda L, F: F.huber_loss(_R(L, 3), _R(L, 3), weight=L.ones(2)),
    "mse_int_int": lambda L, F: F.mse_loss(_L(L, [1, 2]), _L(L, [1, 2])),
    "l1_int_int": lambda L, F: F.l1_loss(_L(L, [1, 2]), _L(L, [1, 2])),
    "sl1_beta_neg": lambda L, F: F.smooth_l1_loss(_R(L, 3), _R(L, 3), beta=-1.0),
    "huber_delta_0": lambda L, F: F.huber_loss(_R(L, 3), _R(L, 3), delta=0.0),
    "kl_int": lambda L, F: F.kl_div(_R(L, 3), _L(L, [1, 0, 1]), reduction="sum"),
    "kl_bad_reduction": lambda L, F: F.kl_div(_R(L, 3), _R(L, 3), reduction="avg"),
    "mrl_dim": lambda L, F: F.margin_ranking_loss(_R(L, 3), _R(L, 3), _R(L, 3, 1)),
    "cel_t2d": lambda L, F: F.cosine_embedding_loss(_R(L, 3, 4), _R(L, 3, 4), L.ones(3, 1)),
    "cel_t1d_in1d": lambda L, F: F.cosine_embedding_loss(_R(L, 4), _R(L, 4), L.ones(3)),
    "cel_t0d_in2d": lambda L, F: F.cosine_embedding_loss(_R(L, 3, 4), _R(L, 3, 4), _L(L, 1.0)),
    "tml_dims": lambda L, F: F.triplet_margin_loss(_R(L, 3, 4), _R(L, 3, 4), _R(L, 4)),
    "tml_margin": lambda L, F: F.triplet_margin_loss(_R(L, 3, 4), _R(L, 3, 4), _R(L, 3, 4),
                                                     margin=0),
    "pnll_bad_reduction": lambda L, F: F.poisson_nll_loss(_R(L, 3), _R(L, 3), reduction="x"),
    "gnll_var_neg": lambda L, F: F.gaussian_nll_loss(_R(L, 3), _R(L, 3), -L.ones(3)),
    "gnll_var_size": lambda L, F: F.gaussian_nll_loss(_R(L, 3, 4), _R(L, 3, 4), L.ones(2)),
    "gnll_var_float_neg": lambda L, F: F.gaussian_nll_loss(_R(L, 3, 4), _R(L, 3, 4), -1.0),
    "gnll_bad_red": lambda L, F: F.gaussian_nll_loss(_R(L, 3, 4), _R(L, 3, 4), L.ones(3, 4),
                                                     reduction="x"),
    "cs_int": lambda L, F: F.cosine_similarity(_L(L, [1, 2]), _L(L, [1, 2]), dim=0),
    "multimargin_p3": lambda L, F: F.multi_margin_loss(_R(L, 3, 4), _L(L, [0, 1, 2]), p=3),
}


def _norm_msg(msg):
    # rt prints sizes as rt_tensor.Size, dtypes as rt_tensor.float32
    msg = msg.replace("torch.Size", "rt_tensor.Size").replace("torch.", "rt_tensor.")
    return re.sub(r" \(shapes \[.*\] and \[.*\]\)$", "", msg)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_error_parity(name):
    fn = ERRORS[name]
    res = {}
    for L, F in ((torch, TF), (rt, RF)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fn(L, F)
                res[L] = None
            except Exception as e:    # noqa: BLE001 - the point is the type and message
                res[L] = (type(e), _norm_msg(str(e)))
    assert res[torch] is not None, "torch accepted it"
    assert res[rt] is not None, f"rt accepted it; torch raised {res[torch]}"
    assert res[rt][0] is res[torch][0], f"{res[rt]} vs torch {res[torch]}"
    assert res[rt][1] == res[torch][1]


# ---- warnings ---------------------------------------------------------------------------------

WARNS = {
    "softmax_implicit": lambda L, F: F.softmax(_R(L, 2, 3)),
    "log_softmax_implicit": lambda L, F: F.log_softmax(_R(L, 2, 3)),
    "softmin_implicit": lambda L, F: F.softmin(_R(L, 2, 3)),
    "kl_mean": lambda L, F: F.kl_div(_R(L, 3), _R(L, 3).exp()),
    "elementwise_mean": lambda L, F: F.mse_loss(_R(L, 3), _R(L, 3), reduction="elementwise_mean"),
    "legacy": lambda L, F: F.mse_loss(_R(L, 3), _R(L, 3), size_average=False),
    "legacy_none": lambda L, F: F.nll_loss(_R(L, 3, 4), _L(L, [1, 0, 2]), reduce=False),
    "mse_bcast": lambda L, F: F.mse_loss(_R(L, 3, 1), _R(L, 3)),
    "l1_bcast": lambda L, F: F.l1_loss(_R(L, 3, 1), _R(L, 3)),
    "huber_bcast": lambda L, F: F.huber_loss(_R(L, 3, 1), _R(L, 3)),
    "sl1_bcast": lambda L, F: F.smooth_l1_loss(_R(L, 3, 1), _R(L, 3)),
    "module_legacy": lambda L, F: (L.nn if L is torch else rt_nn).CrossEntropyLoss(
        size_average=False),
    "module_softmax_none": lambda L, F: (L.nn if L is torch else rt_nn).Softmax()(_R(L, 2, 3)),
}


@pytest.mark.parametrize("name", sorted(WARNS))
def test_warning_parity(name):
    msgs = {}
    for L, F in ((torch, TF), (rt, RF)):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            WARNS[name](L, F)
        msgs[L] = [(x.category, _norm_msg(str(x.message))) for x in w]
    assert msgs[rt] == msgs[torch]


# ---- modules ---------------------------------------------------------------------------------

def _w(L, n):
    return L.from_numpy(np.linspace(0.5, 2.0, n))


MODULES = [
    # (constructor(nn, L), inputs(L) -> tuple)
    ("Softmax(dim=1)", lambda nn, L: nn.Softmax(dim=1), lambda L: (_R(L, 3, 4),)),
    ("LogSoftmax(dim=-1)", lambda nn, L: nn.LogSoftmax(dim=-1), lambda L: (_R(L, 3, 4),)),
    ("Softmin(dim=0)", lambda nn, L: nn.Softmin(dim=0), lambda L: (_R(L, 3, 4),)),
    ("Softmax2d()", lambda nn, L: nn.Softmax2d(), lambda L: (_R(L, 2, 3, 2, 2),)),
    ("L1Loss", lambda nn, L: nn.L1Loss(reduction="sum"), lambda L: (_R(L, 3), _R(L, 3))),
    ("MSELoss", lambda nn, L: nn.MSELoss(), lambda L: (_R(L, 3), _R(L, 3))),
    ("NLLLoss", lambda nn, L: nn.NLLLoss(weight=_w(L, 4), ignore_index=1),
     lambda L: (_R(L, 3, 4), _L(L, [1, 0, 3]))),
    ("CrossEntropyLoss", lambda nn, L: nn.CrossEntropyLoss(weight=_w(L, 4), label_smoothing=0.1),
     lambda L: (_R(L, 3, 4), _L(L, [1, 0, 3]))),
    ("CrossEntropyLoss_plain", lambda nn, L: nn.CrossEntropyLoss(),
     lambda L: (_R(L, 3, 4), _L(L, [1, 0, 3]))),
    ("BCELoss", lambda nn, L: nn.BCELoss(weight=_w(L, 3)),
     lambda L: (_R(L, 2, 3).sigmoid(), _R(L, 3, 2).sigmoid().reshape(2, 3))),
    ("BCEWithLogitsLoss", lambda nn, L: nn.BCEWithLogitsLoss(pos_weight=_w(L, 3)),
     lambda L: (_R(L, 2, 3), _R(L, 3, 2).sigmoid().reshape(2, 3))),
    ("KLDivLoss", lambda nn, L: nn.KLDivLoss(reduction="batchmean", log_target=True),
     lambda L: (_R(L, 2, 3), _R(L, 3, 2).reshape(2, 3))),
    ("SmoothL1Loss", lambda nn, L: nn.SmoothL1Loss(beta=0.5), lambda L: (_R(L, 3), _R(L, 1, 3))),
    ("HuberLoss", lambda nn, L: nn.HuberLoss(delta=0.5), lambda L: (_R(L, 3), _R(L, 1, 3))),
    ("PoissonNLLLoss", lambda nn, L: nn.PoissonNLLLoss(log_input=False, full=True),
     lambda L: (_R(L, 3).abs(), _R(L, 1, 3).abs().reshape(3) * 3)),
    ("GaussianNLLLoss", lambda nn, L: nn.GaussianNLLLoss(full=True),
     lambda L: (_R(L, 3, 2), _R(L, 2, 3).reshape(3, 2), _R(L, 3).abs())),
    ("CosineEmbeddingLoss", lambda nn, L: nn.CosineEmbeddingLoss(margin=0.2),
     lambda L: (_R(L, 3, 2), _R(L, 2, 3).reshape(3, 2), _L(L, [1.0, -1.0, -1.0]))),
    ("MarginRankingLoss", lambda nn, L: nn.MarginRankingLoss(margin=0.2),
     lambda L: (_R(L, 3), _R(L, 1, 3).reshape(3), _L(L, [1.0, -1.0, -1.0]))),
    ("TripletMarginLoss", lambda nn, L: nn.TripletMarginLoss(margin=0.5, p=1.0, swap=True),
     lambda L: (_R(L, 3, 2), _R(L, 2, 3).reshape(3, 2), _R(L, 6).reshape(3, 2))),
    ("HingeEmbeddingLoss", lambda nn, L: nn.HingeEmbeddingLoss(),
     lambda L: (_R(L, 3), _L(L, [1.0, -1.0, -1.0]))),
    ("SoftMarginLoss", lambda nn, L: nn.SoftMarginLoss(),
     lambda L: (_R(L, 3), _L(L, [1.0, -1.0, -1.0]))),
    ("MultiMarginLoss", lambda nn, L: nn.MultiMarginLoss(p=2, weight=_w(L, 4)),
     lambda L: (_R(L, 3, 4), _L(L, [1, 0, 3]))),
    ("MultiLabelSoftMarginLoss", lambda nn, L: nn.MultiLabelSoftMarginLoss(),
     lambda L: (_R(L, 3, 4), _L(L, [[1.0, 0, 0, 1]] * 3))),
    ("MultiLabelMarginLoss", lambda nn, L: nn.MultiLabelMarginLoss(),
     lambda L: (_R(L, 3, 4), _L(L, [[1, 0, -1, 1]] * 3))),
    ("TripletMarginWithDistanceLoss", lambda nn, L: nn.TripletMarginWithDistanceLoss(swap=True),
     lambda L: (_R(L, 3, 2), _R(L, 2, 3).reshape(3, 2), _R(L, 6).reshape(3, 2))),
    ("NLLLoss2d", lambda nn, L: nn.NLLLoss2d(),
     lambda L: (_R(L, 2, 3, 2, 2), L.zeros(2, 2, 2).long())),
    ("PairwiseDistance", lambda nn, L: nn.PairwiseDistance(p=3.0, keepdim=True),
     lambda L: (_R(L, 3, 2), _R(L, 2, 3).reshape(3, 2))),
    ("CosineSimilarity", lambda nn, L: nn.CosineSimilarity(dim=0, eps=1e-6),
     lambda L: (_R(L, 3, 2), _R(L, 2, 3).reshape(3, 2))),
]


@pytest.mark.parametrize("entry", MODULES, ids=[m[0] for m in MODULES])
def test_module_parity(entry):
    _, make, inputs = entry
    res = {}
    for L, nn in ((torch, torch.nn), (rt, rt_nn)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = make(nn, L)
            out = m(*inputs(L))
        res[L] = (repr(m), sorted(m.state_dict()), _np(out))
    assert res[rt][0] == res[torch][0]
    assert res[rt][1] == res[torch][1]
    _cmp("module output", res[rt][2], res[torch][2])


def test_module_double_roundtrip():
    for L, nn in ((torch, torch.nn), (rt, rt_nn)):
        m = nn.CrossEntropyLoss(weight=L.ones(4, dtype=L.float32)).double()
        assert m.weight.dtype == L.float64
