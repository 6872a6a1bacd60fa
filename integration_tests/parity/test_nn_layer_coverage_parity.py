"""The rt_nn modules and functionals that test_coverage.py found without a parity case,
against PyTorch 2.13: the same construction in torch.nn and rt_nn, torch's parameters copied
into rt, the same inputs (float64 and float32) and output gradients; outputs, input
gradients and parameter gradients must agree, with reprs, state_dict keys, warnings and
error types where the modules have them.

* padding modules: ConstantPad1d/2d (negative padding crops), ZeroPad1d/2d,
  ReflectionPad1d/2d, ReplicationPad1d/2d, CircularPad1d/2d, batched and unbatched;
* RReLU (eval mode: the fixed slope (lower+upper)/2; training mode: each negative element
  gets its own slope from U(lower, upper), drawn by each library's own generator, so the
  slopes are compared as a distribution and the gradient as the slope each element used);
* containers and bases: ModuleList, ModuleDict, ParameterList, ParameterDict, Buffer,
  RNNBase and RNNCellBase (parameter layout; no forward);
* functionals: the in-place activations (relu_, leaky_relu_, elu_, selu_, celu_,
  hardtanh_, threshold_, rrelu_), max_pool1d/2d_with_indices and
  adaptive_max_pool1d/2d_with_indices, lp_pool1d/2d, local_response_norm, the deprecated
  upsample/upsample_nearest/upsample_bilinear (same values, same UserWarning),
  multi_head_attention_forward, and the deprecated init aliases (same FutureWarning).
"""
import re
import warnings
import zlib
from collections import OrderedDict

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn
import rt_nn.functional as RF
from rt_nn import init as rinit

torch = pytest.importorskip("torch", reason="PyTorch cannot be imported; the parity suite "
                                            "runs in `tox -e parity` (torch==2.13.0)")
TF = torch.nn.functional

TOL = {"float64": dict(rtol=1e-10, atol=1e-12), "float32": dict(rtol=2e-5, atol=2e-6)}
NP = {"float64": np.float64, "float32": np.float32}


def _rng(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def _np(t):
    return np.array(t.detach().numpy(), copy=True)


def _leaf(L, a):
    t = torch.from_numpy(a.copy()) if L is torch else rt.from_numpy(a.copy())
    return t.requires_grad_() if a.dtype.kind == "f" else t


def _copy_params(tmod, rmod):
    rmod.load_state_dict({k: rt.from_numpy(_np(v)) for k, v in tmod.state_dict().items()})


def _module_parity(name, make, shape, dtype, tol=None, train=True):
    """make(nn) -> module; the same random input and output gradient in both libraries."""
    tol = tol or TOL[dtype]
    rng = _rng(f"{name}-{dtype}")
    tm = make(torch.nn)
    rm = make(rt_nn)
    if dtype == "float64":
        tm, rm = tm.double(), rm.double()
    _copy_params(tm, rm)
    tm.train(train)
    rm.train(train)
    x = rng.standard_normal(shape).astype(NP[dtype])
    xt, xr = _leaf(torch, x), _leaf(rt, x)
    yt, yr = tm(xt), rm(xr)
    assert tuple(yr.shape) == tuple(yt.shape), name
    assert str(yr.dtype).rsplit(".", 1)[-1] == str(yt.dtype).rsplit(".", 1)[-1]
    np.testing.assert_allclose(_np(yr), _np(yt), err_msg=f"{name} output", **tol)
    g = rng.standard_normal(tuple(yt.shape)).astype(NP[dtype])
    yt.backward(torch.from_numpy(g))
    yr.backward(rt.from_numpy(g))
    np.testing.assert_allclose(_np(xr.grad), _np(xt.grad), err_msg=f"{name} input grad", **tol)
    for (n, tp), (_, rp) in zip(tm.named_parameters(), rm.named_parameters()):
        np.testing.assert_allclose(_np(rp.grad), _np(tp.grad), err_msg=f"{name} {n}", **tol)
    assert repr(rm) == repr(tm)
    return tm, rm


# -- padding modules -----------------------------------------------------------------------
PADS = [
    ("ConstantPad1d", (2, 1.5), (2, 3, 5)), ("ConstantPad1d", ((3, -1), -2.0), (3, 6)),
    ("ConstantPad2d", ((1, 0, 2, 1), 0.5), (2, 3, 4, 5)),
    ("ConstantPad2d", ((-1, 2, 0, -2), 3.0), (3, 5, 6)),
    ("ZeroPad1d", (3,), (2, 2, 4)), ("ZeroPad1d", ((0, 2),), (3, 4)),
    ("ZeroPad2d", ((1, 2, 0, 3),), (2, 2, 3, 4)), ("ZeroPad2d", (1,), (2, 3, 3)),
    ("ReflectionPad1d", (2,), (2, 3, 5)), ("ReflectionPad1d", ((3, 1),), (3, 6)),
    ("ReflectionPad2d", ((1, 2, 2, 0),), (2, 2, 4, 5)), ("ReflectionPad2d", (2,), (3, 4, 4)),
    ("ReplicationPad1d", ((4, 2),), (2, 3, 3)), ("ReplicationPad1d", (1,), (3, 5)),
    ("ReplicationPad2d", ((0, 3, 1, 2),), (2, 2, 3, 4)), ("ReplicationPad2d", (2,), (3, 2, 2)),
    ("CircularPad1d", (2,), (2, 3, 5)), ("CircularPad1d", ((1, 3),), (3, 4)),
    ("CircularPad2d", ((1, 2, 2, 1),), (2, 2, 4, 5)), ("CircularPad2d", (1,), (3, 3, 3)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,args,shape", PADS, ids=[f"{p[0]}-{i}" for i, p in enumerate(PADS)])
def test_padding_modules(name, args, shape, dtype):
    tm, rm = _module_parity(name, lambda nn: getattr(nn, name)(*args), shape, dtype)
    assert list(rm.state_dict()) == [] and tm.padding == rm.padding


@pytest.mark.parametrize("name,args,shape", [
    ("ReflectionPad1d", (5,), (1, 2, 4)),             # padding must be < the input size
    ("ReflectionPad2d", (3,), (1, 1, 3, 6)),
    ("CircularPad1d", (6,), (1, 2, 4)),               # at most the input size
    ("ReplicationPad2d", (1,), (3, 4)),               # 2-d input to a 2-d pad
])
def test_padding_errors_have_pytorchs_type(name, args, shape):
    x = np.zeros(shape)
    with pytest.raises(Exception) as t_exc:
        getattr(torch.nn, name)(*args)(torch.from_numpy(x))
    with pytest.raises(type(t_exc.value)):
        getattr(rt_nn, name)(*args)(rt.from_numpy(x))


# -- RReLU ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("args", [(), (0.05, 0.4)])
def test_rrelu_eval_mode_uses_the_mean_slope(args, dtype):
    _module_parity("RReLU", lambda nn: nn.RReLU(*args), (3, 4, 5), dtype, train=False)


@pytest.mark.parametrize("L,nn", [(torch, torch.nn), (rt, rt_nn)], ids=["torch", "rt"])
def test_rrelu_training_mode_draws_slopes_from_uniform_lower_upper(L, nn):
    lower, upper = 0.1, 0.3
    x = -np.abs(np.random.default_rng(3).standard_normal(20_000)) - 0.1
    xt = _leaf(L, x)
    y = nn.RReLU(lower, upper).train()(xt)
    slopes = _np(y) / x
    assert slopes.min() >= lower and slopes.max() <= upper
    # U(0.1, 0.3): mean 0.2, sd 0.0577; 20,000 draws -> the mean within 0.002 (5 sigma)
    assert abs(slopes.mean() - 0.2) < 0.002 and abs(slopes.std() - 0.2 / np.sqrt(12)) < 0.002
    y.sum().backward()
    np.testing.assert_allclose(_np(xt.grad), slopes, rtol=1e-12)   # the slope each one used
    pos = _leaf(L, np.array([0.5, 2.0]))
    assert _np(nn.RReLU(lower, upper).train()(pos)).tolist() == [0.5, 2.0]


@pytest.mark.parametrize("inplace_fn,kwargs", [
    ("relu_", {}), ("leaky_relu_", {"negative_slope": 0.3}), ("elu_", {"alpha": 0.7}),
    ("selu_", {}), ("celu_", {"alpha": 1.5}), ("hardtanh_", {"min_val": -0.4, "max_val": 0.6}),
    ("threshold_", {"threshold": 0.2, "value": -1.0}), ("rrelu_", {"training": False}),
])
def test_in_place_functional_activations(inplace_fn, kwargs):
    x = _rng(inplace_fn).standard_normal((4, 5))
    g = _rng(inplace_fn + "g").standard_normal((4, 5))
    grads = []
    for L, F in ((torch, TF), (rt, RF)):
        leaf = _leaf(L, x)
        h = leaf * 1.0                                  # in place on a non-leaf
        out = getattr(F, inplace_fn)(h, **kwargs)
        assert out is h and h._version >= 1
        out.backward(torch.from_numpy(g) if L is torch else rt.from_numpy(g))
        grads.append((_np(out), _np(leaf.grad)))
    np.testing.assert_allclose(grads[1][0], grads[0][0], **TOL["float64"])
    np.testing.assert_allclose(grads[1][1], grads[0][1], **TOL["float64"])
    with pytest.raises(RuntimeError):                   # in place on a leaf that needs grad
        getattr(TF, inplace_fn)(_leaf(torch, x), **kwargs)
    with pytest.raises(RuntimeError):
        getattr(RF, inplace_fn)(_leaf(rt, x), **kwargs)


# -- containers and bases ------------------------------------------------------------------
def _containers(nn, L):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(4, 4) for _ in range(2)])
            self.blocks.append(nn.Tanh())
            self.blocks.insert(1, nn.ReLU())
            self.heads = nn.ModuleDict({"b": nn.Linear(4, 2), "a": nn.Linear(4, 3)})
            self.scales = nn.ParameterList([nn.Parameter(L.ones(4)), nn.Parameter(L.ones(4))])
            # an OrderedDict keeps its order in both (a plain dict: see the xfail below)
            self.offsets = nn.ParameterDict(OrderedDict([("y", nn.Parameter(L.zeros(3))),
                                                         ("x", nn.Parameter(L.zeros(2)))]))
            self.stat = nn.Buffer(L.zeros(4))
            self.scratch = nn.Buffer(L.ones(4), persistent=False)

        def forward(self, x):
            for i, block in enumerate(self.blocks):
                x = block(x) * self.scales[i % 2] + self.stat
            return (self.heads["a"](x) + self.offsets["y"],
                    self.heads["b"](x) * self.scratch[:2] + self.offsets["x"])

    return Net()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_containers_and_buffers(dtype):
    rng = _rng(f"containers-{dtype}")
    tm, rm = _containers(torch.nn, torch), _containers(rt_nn, rt)
    if dtype == "float64":
        tm, rm = tm.double(), rm.double()
    with torch.no_grad():
        for p in tm.parameters():
            p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)).astype(NP[dtype])))
        tm.stat.copy_(torch.from_numpy(rng.standard_normal(4).astype(NP[dtype])))
    assert list(rm.state_dict()) == list(tm.state_dict())          # no 'scratch'
    assert "scratch" not in tm.state_dict()
    assert [n for n, _ in rm.named_buffers()] == [n for n, _ in tm.named_buffers()]
    assert [n for n, _ in rm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert [n for n, _ in rm.named_modules()] == [n for n, _ in tm.named_modules()]
    _copy_params(tm, rm)
    x = rng.standard_normal((3, 4)).astype(NP[dtype])
    xt, xr = _leaf(torch, x), _leaf(rt, x)
    outs_t, outs_r = tm(xt), rm(xr)
    (outs_t[0].sum() + (outs_t[1] ** 2).sum()).backward()
    (outs_r[0].sum() + (outs_r[1] ** 2).sum()).backward()
    for a, b in zip(outs_r, outs_t):
        np.testing.assert_allclose(_np(a), _np(b), **TOL[dtype])
    np.testing.assert_allclose(_np(xr.grad), _np(xt.grad), **TOL[dtype])
    for (n, tp), (_, rp) in zip(tm.named_parameters(), rm.named_parameters()):
        np.testing.assert_allclose(_np(rp.grad), _np(tp.grad), err_msg=n, **TOL[dtype])
    assert repr(rm.blocks) == repr(tm.blocks) and repr(rm.heads) == repr(tm.heads)
    assert list(rm.heads.keys()) == list(tm.heads.keys()) == ["b", "a"]
    assert len(rm.blocks[1:]) == len(tm.blocks[1:]) == 3
    assert type(rm.blocks[1:]).__name__ == "ModuleList"
    popped_t, popped_r = tm.heads.pop("b"), rm.heads.pop("b")
    assert repr(popped_r) == repr(popped_t) and list(rm.heads) == list(tm.heads) == ["a"]


def test_parameter_dict_sorts_the_keys_of_a_plain_dict():
    def build(nn, L):
        d = nn.ParameterDict({"y": nn.Parameter(L.zeros(3)), "x": nn.Parameter(L.zeros(2))})
        d.update({"b": nn.Parameter(L.zeros(1)), "a": nn.Parameter(L.zeros(1))})
        return d

    tm, rm = build(torch.nn, torch), build(rt_nn, rt)
    assert list(tm.keys()) == ["x", "y", "a", "b"]
    assert list(rm.keys()) == list(tm.keys())
    assert [n for n, _ in rm.named_parameters()] == [n for n, _ in tm.named_parameters()]


@pytest.mark.parametrize("mode,kwargs", [("RNN_TANH", {}), ("RNN_RELU", {"num_layers": 2}),
                                         ("LSTM", {"bidirectional": True, "proj_size": 2}),
                                         ("GRU", {"num_layers": 2, "bias": False,
                                                  "batch_first": True})])
def test_rnn_base_parameter_layout(mode, kwargs):
    tm = torch.nn.RNNBase(mode, 3, 4, **kwargs)
    rm = rt_nn.RNNBase(mode, 3, 4, **kwargs)
    assert [(n, tuple(p.shape)) for n, p in rm.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
    assert repr(rm) == repr(tm)
    # default init: U(-1/sqrt(hidden), 1/sqrt(hidden)) in both
    bound = 1 / np.sqrt(4)
    assert all(np.abs(_np(p)).max() <= bound for p in rm.parameters())
    x = np.zeros((2, 1, 3))
    with pytest.raises(NotImplementedError):
        tm(torch.from_numpy(x))
    with pytest.raises(NotImplementedError):
        rm(rt.from_numpy(x))


@pytest.mark.parametrize("bias,num_chunks", [(True, 1), (False, 3), (True, 4)])
def test_rnn_cell_base_parameter_layout(bias, num_chunks):
    tm = torch.nn.RNNCellBase(3, 5, bias, num_chunks)
    rm = rt_nn.RNNCellBase(3, 5, bias, num_chunks)
    assert [(n, tuple(p.shape)) for n, p in rm.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
    assert repr(rm) == repr(tm)
    assert all(np.abs(_np(p)).max() <= 1 / np.sqrt(5) for p in rm.parameters())


# -- functionals ---------------------------------------------------------------------------
def _functional_parity(name, fn, shape, dtype="float64", n_out=1, exact_out=()):
    """fn(F, L, x) -> tensor or tuple; float outputs compared with tolerance, outputs whose
    positions are in exact_out (indices) compared exactly; gradient of the first output."""
    rng = _rng(name)
    x = rng.standard_normal(shape).astype(NP[dtype])
    xt, xr = _leaf(torch, x), _leaf(rt, x)
    ot, orr = fn(TF, torch, xt), fn(RF, rt, xr)
    ot = ot if isinstance(ot, tuple) else (ot,)
    orr = orr if isinstance(orr, tuple) else (orr,)
    assert len(ot) == len(orr) == n_out
    for i, (a, b) in enumerate(zip(orr, ot)):
        assert tuple(a.shape) == tuple(b.shape), (name, i)
        if i in exact_out:
            assert str(a.dtype).rsplit(".", 1)[-1] == str(b.dtype).rsplit(".", 1)[-1]
            np.testing.assert_array_equal(_np(a), _np(b))
        else:
            np.testing.assert_allclose(_np(a), _np(b), **TOL[dtype])
    g = rng.standard_normal(tuple(ot[0].shape)).astype(NP[dtype])
    ot[0].backward(torch.from_numpy(g))
    orr[0].backward(rt.from_numpy(g))
    np.testing.assert_allclose(_np(xr.grad), _np(xt.grad), **TOL[dtype])


FUNCTIONALS = [
    ("hardshrink", lambda F, L, x: F.hardshrink(x, 0.4), (3, 5), 1, ()),
    ("hardsigmoid", lambda F, L, x: F.hardsigmoid(x * 4), (3, 5), 1, ()),
    ("relu6", lambda F, L, x: F.relu6(x * 5), (3, 5), 1, ()),
    ("rrelu-eval", lambda F, L, x: F.rrelu(x, 0.1, 0.3, training=False), (3, 5), 1, ()),
    ("tanhshrink", lambda F, L, x: F.tanhshrink(x), (3, 5), 1, ()),
    ("pad-constant", lambda F, L, x: F.pad(x, (1, 2, 0, 1), value=-0.5), (2, 3, 4), 1, ()),
    ("pad-constant-crop", lambda F, L, x: F.pad(x, (-1, 2)), (2, 5), 1, ()),
    ("pad-reflect", lambda F, L, x: F.pad(x, (2, 1, 1, 2), mode="reflect"), (2, 2, 4, 5),
     1, ()),
    ("pad-replicate", lambda F, L, x: F.pad(x, (3, 0), mode="replicate"), (2, 3, 4), 1, ()),
    ("pad-circular", lambda F, L, x: F.pad(x, (1, 1, 2, 0), mode="circular"), (1, 2, 3, 4),
     1, ()),
    ("pad-reflect-3d", lambda F, L, x: F.pad(x, (1, 1, 1, 0, 0, 1), mode="reflect"),
     (1, 2, 3, 3, 3), 1, ()),
    ("max_pool1d_with_indices", lambda F, L, x: F.max_pool1d_with_indices(x, 3, 2, 1),
     (2, 3, 9), 2, (1,)),
    ("max_pool1d_with_indices-dil-ceil",
     lambda F, L, x: F.max_pool1d_with_indices(x, 2, 3, 0, 2, True, True), (2, 2, 11), 2, (1,)),
    ("max_pool2d_with_indices", lambda F, L, x: F.max_pool2d_with_indices(x, (2, 3), 2, (1, 1),
                                                                          return_indices=True),
     (2, 3, 6, 7), 2, (1,)),
    ("max_pool2d_with_indices-unbatched",
     lambda F, L, x: F.max_pool2d_with_indices(x, 2, return_indices=True), (3, 5, 4), 2, (1,)),
    ("adaptive_max_pool1d_with_indices",
     lambda F, L, x: F.adaptive_max_pool1d_with_indices(x, 4, return_indices=True),
     (2, 3, 10), 2, (1,)),
    ("adaptive_max_pool2d_with_indices",
     lambda F, L, x: F.adaptive_max_pool2d_with_indices(x, (3, 2), return_indices=True),
     (2, 2, 7, 5), 2, (1,)),
    ("lp_pool1d", lambda F, L, x: F.lp_pool1d(x.abs() + 0.1, 2.0, 3, 2), (2, 3, 9), 1, ()),
    ("lp_pool1d-p3-ceil", lambda F, L, x: F.lp_pool1d(x.abs() + 0.1, 3, 2, ceil_mode=True),
     (2, 2, 7), 1, ()),
    ("lp_pool2d", lambda F, L, x: F.lp_pool2d(x.abs() + 0.1, 2, (2, 3), 1), (2, 2, 5, 6), 1, ()),
    ("lp_pool2d-p1.5", lambda F, L, x: F.lp_pool2d(x.abs() + 0.1, 1.5, 2), (1, 3, 4, 4), 1, ()),
    ("local_response_norm", lambda F, L, x: F.local_response_norm(x, 3), (2, 5, 4), 1, ()),
    ("local_response_norm-4d", lambda F, L, x: F.local_response_norm(x, 2, 1e-2, 0.5, 2.0),
     (2, 4, 3, 3), 1, ()),
    ("local_response_norm-5d", lambda F, L, x: F.local_response_norm(x, 4, 0.1), (1, 6, 2, 2, 3),
     1, ()),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,fn,shape,n_out,exact", FUNCTIONALS,
                         ids=[f[0] for f in FUNCTIONALS])
def test_functionals(name, fn, shape, n_out, exact, dtype):
    _functional_parity(name, fn, shape, dtype, n_out, exact)


@pytest.mark.parametrize("name,kwargs", [
    ("upsample", dict(scale_factor=2)), ("upsample", dict(size=(5, 7), mode="bilinear",
                                                          align_corners=False)),
    ("upsample_nearest", dict(size=(6, 5))), ("upsample_nearest", dict(scale_factor=3)),
    ("upsample_bilinear", dict(size=(4, 9))), ("upsample_bilinear", dict(scale_factor=2)),
])
def test_deprecated_upsample_functions_warn_and_match(name, kwargs):
    def fn(F, L, x):
        with pytest.warns(UserWarning) as record:
            out = getattr(F, name)(x, **kwargs)
        messages.append(str(record[0].message))
        return out

    messages = []
    _functional_parity(name, fn, (2, 3, 3, 4))
    assert messages[0] == messages[1], messages


def _mha_inputs(rng, E, dtype=np.float64):
    return {"q": rng.standard_normal((4, 2, E)).astype(dtype),
            "kv": rng.standard_normal((5, 2, E)).astype(dtype),
            "w_in": rng.standard_normal((3 * E, E)).astype(dtype) * 0.3,
            "b_in": rng.standard_normal(3 * E).astype(dtype) * 0.1,
            "w_out": rng.standard_normal((E, E)).astype(dtype) * 0.3,
            "b_out": rng.standard_normal(E).astype(dtype) * 0.1,
            "bias_k": rng.standard_normal((1, 1, E)).astype(dtype),
            "bias_v": rng.standard_normal((1, 1, E)).astype(dtype)}


@pytest.mark.parametrize("variant", ["plain", "key_padding_mask", "attn_mask-bias_kv",
                                     "zero_attn-per_head", "causal"])
def test_multi_head_attention_forward(variant):
    E, H = 6, 3
    arrays = _mha_inputs(_rng("mha-" + variant), E)
    results = []
    for L, F in ((torch, TF), (rt, RF)):
        t = {k: _leaf(L, v) for k, v in arrays.items()}
        kwargs = {}
        bias_k = bias_v = None
        add_zero_attn, average = False, True
        if variant == "key_padding_mask":
            mask = np.zeros((2, 5), bool)
            mask[0, 3:] = True
            kwargs["key_padding_mask"] = L.from_numpy(mask)
        if variant == "attn_mask-bias_kv":
            # (L, S) of the inputs: bias_k/bias_v add a key, and the mask a column, inside
            kwargs["attn_mask"] = L.from_numpy(np.triu(np.full((4, 5), -1e9), 3))
            bias_k, bias_v = t["bias_k"], t["bias_v"]
        if variant == "zero_attn-per_head":
            add_zero_attn, average = True, False
        if variant == "causal":
            kwargs["attn_mask"] = L.from_numpy(np.triu(np.ones((4, 5), bool), 1))
            kwargs["is_causal"] = True
        out, weights = F.multi_head_attention_forward(
            t["q"], t["kv"], t["kv"], E, H, t["w_in"], t["b_in"], bias_k, bias_v,
            add_zero_attn, 0.0, t["w_out"], t["b_out"], training=False,
            need_weights=True, average_attn_weights=average, **kwargs)
        (out.sum() + (weights ** 2).sum()).backward()
        grads = {k: _np(v.grad) for k, v in t.items() if v.grad is not None}
        results.append((_np(out), _np(weights), grads))
    (to, tw, tg), (ro, rw, rg) = results
    np.testing.assert_allclose(ro, to, **TOL["float64"])
    np.testing.assert_allclose(rw, tw, **TOL["float64"])
    assert sorted(rg) == sorted(tg)
    for k in tg:
        np.testing.assert_allclose(rg[k], tg[k], err_msg=k, **TOL["float64"])


DEPRECATED_INIT = [("uniform", (), (3, 4)), ("normal", (), (3, 4)), ("constant", (0.25,), (3, 4)),
                   ("eye", (), (3, 4)), ("dirac", (), (2, 2, 3)), ("xavier_uniform", (), (3, 4)),
                   ("xavier_normal", (), (3, 4)), ("kaiming_uniform", (), (3, 4)),
                   ("kaiming_normal", (), (3, 4)), ("orthogonal", (), (3, 4)),
                   ("sparse", (0.5,), (4, 3))]


@pytest.mark.parametrize("name,args,shape", DEPRECATED_INIT, ids=[d[0] for d in DEPRECATED_INIT])
def test_deprecated_init_aliases(name, args, shape):
    """torch.nn.init's aliases without the underscore: the same warning (or, where torch has
    no alias, the same AttributeError), and the result of the underscored function."""
    t_fn = getattr(torch.nn.init, name, None)
    r_fn = getattr(rinit, name)
    rt_t = rt.empty(*shape)
    if t_fn is None:
        pytest.fail(f"rt_nn.init.{name} exists but torch.nn.init.{name} does not")
    with warnings.catch_warnings(record=True) as t_rec:
        warnings.simplefilter("always")
        t_out = t_fn(torch.empty(*shape), *args)
    with warnings.catch_warnings(record=True) as r_rec:
        warnings.simplefilter("always")
        r_out = r_fn(rt_t, *args)
    assert [(w.category, str(w.message)) for w in r_rec] == \
        [(w.category, str(w.message)) for w in t_rec]
    assert r_out is rt_t and tuple(r_out.shape) == tuple(t_out.shape)
    if name in ("constant", "eye", "dirac"):         # deterministic: equal values
        np.testing.assert_array_equal(_np(r_out), _np(t_out))
    if name == "orthogonal":
        q = _np(r_out)
        np.testing.assert_allclose(q @ q.T, np.eye(3), atol=1e-6)
    if name == "sparse":                             # half of each column is zero
        assert ((_np(r_out) == 0).sum(0) == 2).all()
    if name in ("uniform",):
        assert 0.0 <= _np(r_out).min() and _np(r_out).max() < 1.0
    assert re.search(rf"`nn\.init\.{name}` is now deprecated in favor of `nn\.init\.{name}_`",
                     str(t_rec[0].message))
