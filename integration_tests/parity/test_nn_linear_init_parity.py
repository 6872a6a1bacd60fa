"""rt_nn against PyTorch 2.13 for the linear family, init, utils and data.

- Linear / Bilinear / Identity / Flatten / Unflatten with the same weights and inputs: same
  outputs and the same gradients for inputs and parameters (float64 and float32), same
  state_dict keys and shapes, same repr, same error messages.
- init: calculate_gain and the fans are the same numbers; every random init draws from the
  same distribution as PyTorch's (same bounds, and a two-sample Kolmogorov-Smirnov test
  between rt's and torch's draws); default layer init the same; deterministic inits equal.
- utils: clip_grad_norm_ (returned norm, clipped grads) and clip_grad_value_,
  parameters_to_vector, pad_sequence / pack_padded_sequence / pad_packed_sequence outputs.
- data: default_collate gives the same structure, dtypes and values; DataLoader batch sizes
  and lengths; random_split lengths (rt's generator is not torch's, so orders differ).
"""
import collections
import math

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn
import rt_nn.data as rdata
import rt_nn.functional as RF
from rt_nn import init as rinit
from rt_nn.utils import rnn as rrnn

torch = pytest.importorskip("torch", reason="PyTorch cannot be imported; the parity suite "
                                            "runs in `tox -e parity` (torch==2.13.0)")
import torch.nn.functional as TF  # noqa: E402
import torch.utils.data as tdata  # noqa: E402
from torch.nn.utils import rnn as trnn  # noqa: E402


def _np(t):
    return np.array(t.detach().numpy(), copy=True)


def _copy_params(src_torch, dst_rt):
    sd = {k: rt.from_numpy(v.detach().numpy().copy()) for k, v in src_torch.state_dict().items()}
    dst_rt.load_state_dict(sd)


MODULES = [
    ("Linear", lambda L: L.nn.Linear(6, 4), [(5, 6)]),
    ("Linear-nobias", lambda L: L.nn.Linear(6, 4, bias=False), [(5, 6)]),
    ("Linear-1d", lambda L: L.nn.Linear(6, 4), [(6,)]),
    ("Linear-3d", lambda L: L.nn.Linear(6, 4), [(2, 3, 6)]),
    ("Linear-wide", lambda L: L.nn.Linear(3, 50), [(4, 3)]),
    ("Linear-tall", lambda L: L.nn.Linear(3, 2), [(300, 3)]),
    ("Linear-seed-mlp", lambda L: L.nn.Linear(784, 128), [(32, 784)]),
    ("Bilinear", lambda L: L.nn.Bilinear(3, 4, 5), [(6, 3), (6, 4)]),
    ("Bilinear-nobias-3d", lambda L: L.nn.Bilinear(3, 2, 2, bias=False), [(2, 3, 3),
                                                                          (2, 3, 2)]),
    ("Bilinear-1d", lambda L: L.nn.Bilinear(3, 2, 2), [(3,), (2,)]),
    ("Identity", lambda L: L.nn.Identity(3, x=1), [(2, 3)]),
    ("Flatten", lambda L: L.nn.Flatten(), [(2, 3, 4)]),
    ("Flatten-1-2", lambda L: L.nn.Flatten(1, 2), [(2, 3, 4, 5)]),
    ("Unflatten", lambda L: L.nn.Unflatten(1, (2, 2)), [(3, 4, 2)]),
    ("Sequential-mlp", lambda L: L.nn.Sequential(L.nn.Flatten(), L.nn.Linear(12, 8),
                                                 L.nn.Linear(8, 3)), [(4, 3, 4)]),
]


class _Torch:
    nn = torch.nn


class _Rt:
    nn = rt_nn


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,make,shapes", MODULES, ids=[m[0] for m in MODULES])
def test_module_forward_backward(name, make, shapes, dtype):
    tm, rm = make(_Torch), make(_Rt)
    if dtype == "float64":
        tm, rm = tm.double(), rm.double()
    assert list(rm.state_dict()) == list(tm.state_dict())
    for (k, v), (k2, v2) in zip(rm.state_dict().items(), tm.state_dict().items()):
        assert tuple(v.shape) == tuple(v2.shape), k
    assert repr(rm) == repr(tm)
    _copy_params(tm, rm)
    rng = np.random.default_rng(len(name))
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    tx = [torch.from_numpy(a.copy()).requires_grad_() for a in arrays]
    rx = [rt.from_numpy(a.copy()).requires_grad_() for a in arrays]
    to, ro = tm(*tx), rm(*rx)
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == "float64" else dict(rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(_np(ro), _np(to), **tol)
    assert str(ro.dtype).split(".")[-1] == str(to.dtype).split(".")[-1]
    g = rng.standard_normal(tuple(to.shape)).astype(dtype)
    to.backward(torch.from_numpy(g.copy()))
    ro.backward(rt.from_numpy(g.copy()))
    for a, b in zip(rx, tx):
        np.testing.assert_allclose(_np(a.grad), _np(b.grad), **tol)
    for (n, p), (n2, q) in zip(rm.named_parameters(), tm.named_parameters()):
        assert n == n2
        np.testing.assert_allclose(_np(p.grad), _np(q.grad), err_msg=n, **tol)


@pytest.mark.parametrize("case", [
    ((2, 3), (4, 3), ()), ((2, 3), (4, 3), (1,)), ((2, 3), (4, 3), (2, 4)), ((5, 3), (3,), None),
    ((2, 5, 3), (3,), ()), ((3,), (4, 3), None), ((0, 3), (4, 3), (4,))])
def test_functional_linear_unusual_operands(case):
    xs, ws, bs = case
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in ([xs, ws] + ([] if bs is None else [bs]))]
    outs = {}
    for L, F in ((torch, TF), (rt, RF)):
        args = [L.from_numpy(a.copy()).requires_grad_() for a in arrays]
        out = F.linear(*args)
        out.sum().backward()
        outs[L] = [_np(out)] + [_np(a.grad) for a in args]
    for a, b in zip(outs[rt], outs[torch]):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_functional_linear_double_backward():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in [(4, 3), (2, 3), (2,)]]
    res = {}
    for L in (torch, rt):
        xs = [L.from_numpy(a.copy()).requires_grad_() for a in arrays]
        F = TF if L is torch else RF
        out = (F.linear(*xs) ** 2).sum()
        gs = L.autograd.grad(out, xs, create_graph=True)
        s = sum((g * g).sum() for g in gs)
        res[L] = [_np(g) for g in gs] + [_np(g) for g in L.autograd.grad(s, xs)]
    for a, b in zip(res[rt], res[torch]):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12)


ERRORS = [
    (lambda F, L: F.linear(L.ones(2, 3), L.ones(5, 4)), RuntimeError),
    (lambda F, L: F.linear(L.ones(2, 2, 3), L.ones(5, 4)), RuntimeError),
    (lambda F, L: F.linear(L.ones(3), L.ones(5, 4)), RuntimeError),
    (lambda F, L: F.linear(L.ones(2, 3, dtype=L.float64), L.ones(4, 3)), RuntimeError),
    (lambda F, L: F.linear(L.ones(2, 3, dtype=L.float64), L.ones(4, 3), L.ones(4)),
     RuntimeError),
    (lambda F, L: F.linear(L.ones(2, 3), L.ones(4, 3), L.ones(4, dtype=L.float64)),
     RuntimeError),
    (lambda F, L: F.linear(L.ones(2, 2, 3, dtype=L.float64), L.ones(4, 3)), RuntimeError),
    (lambda F, L: F.bilinear(L.ones(2, 3), L.ones(3, 4), L.ones(5, 3, 4)), RuntimeError),
    (lambda F, L: F.bilinear(L.ones(2, 3), L.ones(2, 5), L.ones(5, 3, 4)), RuntimeError),
    (lambda F, L: F.bilinear(L.ones(2, 2), L.ones(2, 4), L.ones(5, 3, 4)), RuntimeError),
    (lambda F, L: F.bilinear(L.ones(2, 3), L.ones(2, 1, 4), L.ones(5, 3, 4)), RuntimeError),
    (lambda F, L: F.bilinear(L.ones(2, 3), L.ones(2, 4), L.ones(5, 3, 4), L.ones(4)),
     RuntimeError),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_error_messages(i):
    fn, exc = ERRORS[i]
    with pytest.raises(exc) as te:
        fn(TF, torch)
    with pytest.raises(exc) as re_:
        fn(RF, rt)
    assert str(re_.value) == str(te.value)


def test_unflatten_errors_match():
    for arg in (6, (2, 3.0)):
        with pytest.raises(TypeError) as te:
            torch.nn.Unflatten(1, arg)
        with pytest.raises(TypeError) as re_:
            rt_nn.Unflatten(1, arg)
        assert str(re_.value) == str(te.value)
    with pytest.raises(ValueError) as te:
        torch.nn.Bilinear(0, 2, 3)
    with pytest.raises(ValueError) as re_:
        rt_nn.Bilinear(0, 2, 3)
    assert str(re_.value) == str(te.value)


# ---- init ------------------------------------------------------------------------------------

GAINS = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
         "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


@pytest.mark.parametrize("nl", GAINS)
@pytest.mark.parametrize("param", [None, 0.2, 3])
def test_calculate_gain(nl, param):
    assert rinit.calculate_gain(nl, param) == torch.nn.init.calculate_gain(nl, param)


@pytest.mark.parametrize("shape", [(3, 5), (4, 2, 3), (8, 4, 3, 3), (2, 3, 1, 2, 2)])
def test_fans(shape):
    assert rinit._calculate_fan_in_and_fan_out(rt.empty(shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def _ks(a, b):
    """Two-sample Kolmogorov-Smirnov statistic."""
    a, b = np.sort(a.ravel()), np.sort(b.ravel())
    grid = np.concatenate([a, b])
    return np.abs(np.searchsorted(a, grid, side="right") / a.size -
                  np.searchsorted(b, grid, side="right") / b.size).max()


def _ks_threshold(n, m, alpha=1e-4):
    c = math.sqrt(-0.5 * math.log(alpha / 2))
    return c * math.sqrt((n + m) / (n * m))


RANDOM_INITS = [
    ("uniform_", (200, 100), lambda I, t, g: I.uniform_(t, -0.3, 0.7, generator=g)),
    ("normal_", (200, 100), lambda I, t, g: I.normal_(t, 0.5, 2.0, generator=g)),
    ("xavier_uniform_", (200, 100), lambda I, t, g: I.xavier_uniform_(t, gain=1.5,
                                                                      generator=g)),
    ("xavier_normal_", (20, 10, 3, 3), lambda I, t, g: I.xavier_normal_(t, generator=g)),
    ("kaiming_uniform_", (200, 100), lambda I, t, g: I.kaiming_uniform_(t, a=math.sqrt(5),
                                                                        generator=g)),
    ("kaiming_uniform_-fan_out-relu", (64, 16, 3, 3),
     lambda I, t, g: I.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu", generator=g)),
    ("kaiming_normal_", (200, 100), lambda I, t, g: I.kaiming_normal_(t, a=0.1, generator=g)),
    ("kaiming_normal_-selu", (200, 100),
     lambda I, t, g: I.kaiming_normal_(t, nonlinearity="selu", mode="fan_out", generator=g)),
    ("trunc_normal_", (200, 100), lambda I, t, g: I.trunc_normal_(t, generator=g)),
    ("trunc_normal_-vit", (200, 100), lambda I, t, g: I.trunc_normal_(t, std=0.02, a=-0.04,
                                                                      b=0.04, generator=g)),
    ("trunc_normal_-narrow", (200, 100), lambda I, t, g: I.trunc_normal_(t, 0.0, 1.0, 1.0,
                                                                         2.5, generator=g)),
    ("orthogonal_", (40, 30), lambda I, t, g: I.orthogonal_(t, gain=2.0, generator=g)),
    ("orthogonal_-wide", (10, 60), lambda I, t, g: I.orthogonal_(t, generator=g)),
]


@pytest.mark.parametrize("name,shape,fn", RANDOM_INITS, ids=[c[0] for c in RANDOM_INITS])
def test_random_init_same_distribution(name, shape, fn):
    a = np.concatenate([_np(fn(rinit, rt.empty(shape, dtype=rt.float64),
                               rt.Generator().manual_seed(s))).ravel() for s in range(3)])
    b = np.concatenate([_np(fn(torch.nn.init, torch.empty(shape, dtype=torch.float64),
                               torch.Generator().manual_seed(s))).ravel() for s in range(3)])
    assert a.shape == b.shape
    if "uniform" in name:      # same bounds: both reach close to the same extremes
        assert abs(a.max() - b.max()) < 0.01 * (b.max() - b.min())
        assert abs(a.min() - b.min()) < 0.01 * (b.max() - b.min())
    assert _ks(a, b) < _ks_threshold(a.size, b.size), name
    np.testing.assert_allclose(a.std(), b.std(), rtol=0.03)


@pytest.mark.parametrize("shape", [(40, 30), (10, 60), (6, 2, 3, 3)])
def test_orthogonal_structure_matches(shape):
    for lib, I in ((rt, rinit), (torch, torch.nn.init)):
        q = _np(I.orthogonal_(lib.empty(shape, dtype=lib.float64), gain=1.5)).reshape(
            shape[0], -1) / 1.5
        gram = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
        np.testing.assert_allclose(gram, np.eye(gram.shape[0]), atol=1e-12)


DETERMINISTIC = [
    ("constant_", (3, 4), lambda I, t: I.constant_(t, 0.3)),
    ("ones_", (3, 4), lambda I, t: I.ones_(t)),
    ("zeros_", (3, 4), lambda I, t: I.zeros_(t)),
    ("eye_", (3, 5), lambda I, t: I.eye_(t)),
    ("dirac_", (4, 2, 3, 3), lambda I, t: I.dirac_(t)),
    ("dirac_-groups", (6, 2, 5), lambda I, t: I.dirac_(t, groups=3)),
    ("dirac_-3d", (2, 3, 3, 2, 3), lambda I, t: I.dirac_(t)),
]


@pytest.mark.parametrize("name,shape,fn", DETERMINISTIC, ids=[c[0] for c in DETERMINISTIC])
def test_deterministic_inits_equal(name, shape, fn):
    np.testing.assert_array_equal(_np(fn(rinit, rt.empty(shape))),
                                  _np(fn(torch.nn.init, torch.empty(shape))))


INIT_ERRORS = [
    lambda I, L: I.eye_(L.empty(2, 2, 2)),
    lambda I, L: I.dirac_(L.empty(2, 2)),
    lambda I, L: I.dirac_(L.empty(5, 2, 3), groups=2),
    lambda I, L: I.orthogonal_(L.empty(3)),
    lambda I, L: I.kaiming_uniform_(L.empty(3, 4), mode="fan_avg"),
    lambda I, L: I.xavier_uniform_(L.empty(3)),
    lambda I, L: I.calculate_gain("gelu"),
    lambda I, L: I.calculate_gain("leaky_relu", True),
    lambda I, L: I.sparse_(L.empty(3), 0.1),
]


@pytest.mark.parametrize("i", range(len(INIT_ERRORS)))
def test_init_errors_match(i):
    with pytest.raises(ValueError) as te:
        INIT_ERRORS[i](torch.nn.init, torch)
    with pytest.raises(ValueError) as re_:
        INIT_ERRORS[i](rinit, rt)
    assert str(re_.value) == str(te.value)


@pytest.mark.parametrize("make", [lambda L: L.nn.Linear(300, 200),
                                  lambda L: L.nn.Bilinear(30, 20, 100)])
def test_default_layer_init_same_distribution(make):
    torch.manual_seed(0)
    rt.manual_seed(0)
    tm, rm = make(torch), make(rt_nn_module_ns)
    for (n, p), (_, q) in zip(rm.named_parameters(), tm.named_parameters()):
        a, b = _np(p).astype(np.float64).ravel(), _np(q).astype(np.float64).ravel()
        assert abs(np.abs(a).max() - np.abs(b).max()) < 0.02 * np.abs(b).max(), n
        assert _ks(a, b) < _ks_threshold(a.size, b.size), n


class rt_nn_module_ns:        # noqa: N801  (L.nn for rt)
    nn = rt_nn


# ---- utils -----------------------------------------------------------------------------------

@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, 0.5])
@pytest.mark.parametrize("max_norm", [0.7, 1e3])
def test_clip_grad_norm(norm_type, max_norm):
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal(s) * 2 for s in [(3, 4), (4,), (2, 2, 2)]]
    res = {}
    for L in (torch, rt):
        ps = [L.zeros(g.shape, dtype=L.float64, requires_grad=True) for g in grads]
        for p, g in zip(ps, grads):
            p.grad = L.from_numpy(g.copy())
        clip = torch.nn.utils.clip_grad_norm_ if L is torch else rt_nn.utils.clip_grad_norm_
        total = clip(ps, max_norm, norm_type=norm_type)
        res[L] = [total.item()] + [_np(p.grad) for p in ps]
    np.testing.assert_allclose(res[rt][0], res[torch][0], rtol=1e-12)
    for a, b in zip(res[rt][1:], res[torch][1:]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_clip_grad_value_and_vector():
    rng = np.random.default_rng(5)
    g = rng.standard_normal((4, 3)) * 3
    out = []
    for L, U in ((torch, torch.nn.utils), (rt, rt_nn.utils)):
        p = L.zeros(4, 3, dtype=L.float64, requires_grad=True)
        p.grad = L.from_numpy(g.copy())
        U.clip_grad_value_([p], 1.2)
        q = L.ones(2, dtype=L.float64, requires_grad=True)
        vec = U.parameters_to_vector([p, q])
        out.append((_np(p.grad), _np(vec)))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence(batch_first, side):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((n, 3)) for n in (4, 1, 3, 4)]
    t = trnn.pad_sequence([torch.from_numpy(a) for a in arrays], batch_first=batch_first,
                          padding_value=-2.0, padding_side=side)
    r = rrnn.pad_sequence([rt.from_numpy(a) for a in arrays], batch_first=batch_first,
                          padding_value=-2.0, padding_side=side)
    np.testing.assert_array_equal(_np(r), _np(t))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted,lengths", [(True, [5, 3, 3, 1]),
                                                    (False, [2, 5, 1, 3])])
def test_pack_and_pad_packed(batch_first, enforce_sorted, lengths):
    rng = np.random.default_rng(2)
    shape = (4, 5, 2) if batch_first else (5, 4, 2)
    a = rng.standard_normal(shape)
    results = []
    for L, R in ((torch, trnn), (rt, rrnn)):
        x = L.from_numpy(a.copy()).requires_grad_()
        packed = R.pack_padded_sequence(x, lengths, batch_first=batch_first,
                                        enforce_sorted=enforce_sorted)
        out, lens = R.pad_packed_sequence(packed, batch_first=batch_first, padding_value=0.5,
                                          total_length=6)
        (out * L.arange(out.numel(), dtype=L.float64).reshape(out.shape)).sum().backward()
        results.append([_np(packed.data), packed.batch_sizes.tolist(),
                        None if packed.sorted_indices is None else
                        packed.sorted_indices.tolist(),
                        None if packed.unsorted_indices is None else
                        packed.unsorted_indices.tolist(), _np(out), lens.tolist(),
                        _np(x.grad)])
    t, r = results
    for i, (x, y) in enumerate(zip(r, t)):
        if isinstance(y, np.ndarray):
            np.testing.assert_array_equal(x, y, err_msg=str(i))
        else:
            assert x == y, i


# ---- data ------------------------------------------------------------------------------------

Pt = collections.namedtuple("Pt", "a b")

COLLATE = [
    lambda L: [L.ones(2, 3), L.zeros(2, 3)],
    lambda L: [np.ones(2, np.float32), np.zeros(2, np.float32)],
    lambda L: [np.float64(1.5), np.float64(2.5)],
    lambda L: [np.int16(1), np.int16(2)],
    lambda L: [1.5, 2.5],
    lambda L: [1, 2],
    lambda L: [True, False],
    lambda L: ["a", "b"],
    lambda L: [{"x": L.ones(2), "y": 1}, {"x": L.zeros(2), "y": 2}],
    lambda L: [collections.OrderedDict(a=1.0), collections.OrderedDict(a=2.0)],
    lambda L: [Pt(1, L.ones(1)), Pt(2, L.zeros(1))],
    lambda L: [(1, 2.0, "s"), (3, 4.0, "t")],
    lambda L: [[1, 2], [3, 4]],
    lambda L: [{"a": (L.ones(1), [1, 2])}, {"a": (L.zeros(1), [3, 4])}],
]


def _structure(x):
    if isinstance(x, (torch.Tensor, rt.Tensor)):
        return ("tensor", str(x.dtype).split(".")[-1], tuple(x.shape), _np(x).tolist())
    if isinstance(x, dict):
        return (type(x).__name__, {k: _structure(v) for k, v in x.items()})
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, [_structure(v) for v in x])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_structure(v) for v in x])
    return x


@pytest.mark.parametrize("i", range(len(COLLATE)))
def test_default_collate_structure(i):
    assert _structure(rdata.default_collate(COLLATE[i](rt))) == \
        _structure(tdata.default_collate(COLLATE[i](torch)))


@pytest.mark.parametrize("kw", [{"batch_size": 4}, {"batch_size": 4, "drop_last": True},
                                {"batch_size": 3, "shuffle": True}, {"batch_size": None},
                                {"batch_size": 20}])
def test_dataloader_batches(kw):
    a = np.arange(30, dtype=np.float32).reshape(10, 3)
    tl = tdata.DataLoader(tdata.TensorDataset(torch.from_numpy(a), torch.arange(10)), **kw)
    rl = rdata.DataLoader(rdata.TensorDataset(rt.from_numpy(a), rt.arange(10)), **kw)
    assert len(rl) == len(tl)
    tb, rb = list(tl), list(rl)
    assert len(tb) == len(rb)
    for x, y in zip(rb, tb):
        assert type(x) is type(y)
        assert [tuple(v.shape) for v in x] == [tuple(v.shape) for v in y]
        if not kw.get("shuffle"):
            assert [_np(v).tolist() for v in x] == [_np(v).tolist() for v in y]


@pytest.mark.parametrize("lengths", [[3, 8], [0.3, 0.7], [0.33, 0.33, 0.34], [0.5, 0.5],
                                     [3, 7]])
def test_random_split_lengths(lengths):
    n = 11
    if sum(lengths) == 10:          # counts that do not add up: the same error
        with pytest.raises(ValueError) as te:
            tdata.random_split(range(n), lengths)
        with pytest.raises(ValueError) as re_:
            rdata.random_split(range(n), lengths)
        assert str(re_.value) == str(te.value)
        return
    t = tdata.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    r = rdata.random_split(range(n), lengths, generator=rt.Generator().manual_seed(0))
    assert [len(s) for s in r] == [len(s) for s in t]
