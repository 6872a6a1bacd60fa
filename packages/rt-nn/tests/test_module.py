"""Module, Parameter and the containers: registration, traversal order, state_dict keys and
errors, hooks, modes, dtype conversion, copying and repr (torch.nn.Module's behaviour)."""
import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
from rt_nn import Parameter


class Affine(nn.Module):
    def __init__(self, n=3):
        super().__init__()
        self.weight = Parameter(rt.arange(n, dtype=rt.float32) + 1)
        self.bias = Parameter(rt.zeros(n))
        self.register_buffer("scale", rt.full((n,), 2.0))
        self.register_buffer("cache", rt.zeros(n), persistent=False)

    def forward(self, x):
        return x * self.weight * self.scale + self.bias

    def extra_repr(self):
        return f"n={self.weight.shape[0]}"


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = Affine()
        self.blocks = nn.Sequential(Affine(), Affine())
        self.heads = nn.ModuleDict({"x": Affine(), "y": Affine()})

    def forward(self, x):
        return self.heads["y"](self.blocks(self.a(x)))


def test_parameter_is_a_leaf_tensor_that_requires_grad():
    p = Parameter(rt.ones(2, 3))
    assert isinstance(p, rt.Tensor) and p.requires_grad and p.is_leaf
    assert Parameter(rt.ones(2), requires_grad=False).requires_grad is False
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert type(p * 2) is rt.Tensor                 # ops return plain tensors, as torch
    data = rt.zeros(3)
    q = Parameter(data)
    q.data.add_(1)                                   # shares memory with data
    assert data.tolist() == [1.0, 1.0, 1.0]


def test_registration_order_and_names():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["a.weight", "a.bias", "blocks.0.weight", "blocks.0.bias",
                     "blocks.1.weight", "blocks.1.bias", "heads.x.weight", "heads.x.bias",
                     "heads.y.weight", "heads.y.bias"]
    assert [n for n, _ in net.named_buffers()] == [
        "a.scale", "a.cache", "blocks.0.scale", "blocks.0.cache", "blocks.1.scale",
        "blocks.1.cache", "heads.x.scale", "heads.x.cache", "heads.y.scale", "heads.y.cache"]
    assert [n for n, _ in net.named_modules()] == ["", "a", "blocks", "blocks.0", "blocks.1",
                                                   "heads", "heads.x", "heads.y"]
    assert [n for n, _ in net.named_children()] == ["a", "blocks", "heads"]
    assert len(list(net.parameters(recurse=False))) == 0
    assert net.get_submodule("blocks.1") is net.blocks[1]
    assert net.get_parameter("heads.x.bias") is net.heads["x"].bias


def test_shared_parameters_are_listed_once():
    net = nn.Sequential(Affine(), Affine())
    net[1].weight = net[0].weight
    assert len(list(net.parameters())) == 3
    assert len(list(net.named_parameters(remove_duplicate=False))) == 4


def test_state_dict_keys_values_and_persistence():
    net = Net()
    sd = net.state_dict()
    assert list(sd)[:3] == ["a.weight", "a.bias", "a.scale"]
    assert "a.cache" not in sd                       # non-persistent buffer
    assert not sd["a.weight"].requires_grad          # detached
    assert sd["a.weight"].data_ptr() == net.a.weight.data_ptr()   # shares memory
    kept = net.state_dict(keep_vars=True)
    assert kept["a.weight"] is net.a.weight
    assert sd._metadata[""] == {"version": 1} and "blocks.0" in sd._metadata


def test_load_state_dict_round_trip_and_errors():
    src, dst = Net(), Net()
    with rt.no_grad():
        for p in src.parameters():
            p.uniform_(-1, 1)
    result = dst.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    x = rt.randn(4, 3)
    assert np.allclose(dst(x).detach().numpy(), src(x).detach().numpy())

    bad = OrderedDict(src.state_dict())
    del bad["a.bias"]
    bad["a.extra"] = rt.zeros(1)
    bad["blocks.0.weight"] = rt.zeros(4)
    with pytest.raises(RuntimeError) as info:
        dst.load_state_dict(bad)
    msg = str(info.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:")
    assert 'Missing key(s) in state_dict: "a.bias".' in msg
    assert 'Unexpected key(s) in state_dict: "a.extra".' in msg
    assert ("size mismatch for blocks.0.weight: copying a param with shape torch.Size([4]) "
            "from checkpoint, the shape in current model is torch.Size([3]).") in msg
    bad.pop("blocks.0.weight")
    result = dst.load_state_dict(bad, strict=False)     # reported, not raised (PyTorch)
    assert result.missing_keys == ["a.bias", "blocks.0.weight"]
    assert result.unexpected_keys == ["a.extra"]


def test_load_state_dict_assign_replaces_parameters():
    net = Affine()
    sd = {"weight": rt.full((3,), 7.0), "bias": rt.zeros(3), "scale": rt.ones(3)}
    net.load_state_dict(sd, assign=True)
    assert isinstance(net.weight, Parameter) and net.weight.requires_grad
    assert net.weight.tolist() == [7.0, 7.0, 7.0]


def test_assignment_rules_and_errors():
    m = Affine()
    with pytest.raises(TypeError, match="cannot assign 'torch.FloatTensor' as parameter 'weight'"):
        m.weight = rt.zeros(3)
    m.weight = None
    assert m.weight is None and "weight" in m._parameters
    with pytest.raises(KeyError, match="attribute 'forward' already exists"):
        m.register_buffer("forward", rt.zeros(1))
    with pytest.raises(KeyError, match=r"buffer name can.*t contain"):
        m.register_buffer("a.b", rt.zeros(1))
    with pytest.raises(TypeError, match="cannot assign 'int' object to buffer 'z'"):
        m.register_buffer("z", 3)
    with pytest.raises(TypeError, match="cannot assign 'torch.FloatTensor' object to "
                                        "parameter 'w2'"):
        m.register_parameter("w2", rt.ones(2))
    with pytest.raises(AttributeError, match="'Affine' object has no attribute 'nothing'"):
        m.nothing
    m.scale = rt.ones(3)                               # buffers can be reassigned
    assert "scale" in m._buffers
    del m.scale
    assert "scale" not in m._buffers

    class Early(nn.Module):
        def __init__(self):
            self.w = Parameter(rt.ones(1))
    with pytest.raises(AttributeError, match="cannot assign parameters before Module.__init__"):
        Early()


def test_train_eval_requires_grad_and_zero_grad():
    net = Net()
    assert net.training and all(m.training for m in net.modules())
    net.eval()
    assert not any(m.training for m in net.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train("yes")
    net.train()
    net(rt.ones(2, 3)).sum().backward()
    used = [p for n, p in net.named_parameters() if not n.startswith("heads.x")]
    assert all(p.grad is not None for p in used)
    assert net.heads["x"].weight.grad is None          # not used by forward
    net.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0.0 for p in used)
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_dtype_conversion_keeps_parameter_objects():
    net = Net()
    w = net.a.weight
    net.double()
    assert net.a.weight is w and w.dtype == rt.float64 and isinstance(w, Parameter)
    assert net.a.scale.dtype == rt.float64
    net.to(rt.float32)
    assert w.dtype == rt.float32
    net.to("cpu")
    with pytest.raises(TypeError, match="only accepts floating point"):
        net.to(rt.int64)
    with pytest.raises(RuntimeError):
        net.to("cuda")
    net.half().float()
    assert w.dtype == rt.float32


def test_apply_visits_children_first():
    order = []
    Net().apply(lambda m: order.append(type(m).__name__))
    assert order == ["Affine", "Affine", "Affine", "Sequential", "Affine", "Affine",
                     "ModuleDict", "Net"]


def test_forward_hooks_and_pre_hooks():
    m = Affine()
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0 + 1,))
    h2 = m.register_forward_hook(lambda mod, args, out: out + 100)
    h3 = m.register_forward_hook(lambda mod, args, kwargs, out: calls.append(kwargs),
                                 with_kwargs=True, prepend=True)
    out = m(rt.full((3,), 5.0))
    assert out.tolist() == [102.0, 104.0, 106.0]     # input replaced by ones, +100 after
    assert calls == [{}]
    for h in (h1, h2, h3):
        h.remove()
    assert m(rt.ones(3)).tolist() == [2.0, 4.0, 6.0]


def test_missing_forward_raises():
    with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
        nn.Module()(rt.ones(1))


def test_repr_matches_pytorch_layout():
    net = nn.Sequential(Affine(2), nn.Sequential(Affine(1)))
    assert repr(net) == ("Sequential(\n  (0): Affine(n=2)\n  (1): Sequential(\n"
                         "    (0): Affine(n=1)\n  )\n)")


def test_deepcopy_and_pickle():
    net = Net()
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert isinstance(clone.a.weight, Parameter) and clone.a.weight.requires_grad
        assert clone.a.weight is not net.a.weight
        assert clone.a.weight.tolist() == net.a.weight.tolist()
        x = rt.randn(2, 3)
        assert np.allclose(clone(x).detach().numpy(), net(x).detach().numpy())


def test_sequential_indexing_slicing_and_editing():
    a, b, c = Affine(), Affine(), Affine()
    seq = nn.Sequential(a, b, c)
    assert seq[0] is a and seq[-1] is c and len(seq) == 3
    assert isinstance(seq[1:], nn.Sequential) and list(seq[1:]) == [b, c]
    del seq[0]
    assert list(seq._modules) == ["0", "1"] and seq[0] is b
    seq.append(a).insert(0, c)
    assert list(seq) == [c, b, c, a]
    with pytest.raises(IndexError, match="index 9 is out of range"):
        seq[9]
    named = nn.Sequential(OrderedDict([("first", a), ("second", b)]))
    assert [n for n, _ in named.named_children()] == ["first", "second"]
    assert named(rt.ones(3)).tolist() == (rt.ones(3) * 2 * 2 * (rt.arange(3) + 1) ** 2).tolist()


def test_module_list_dict_and_parameter_containers():
    ml = nn.ModuleList([Affine(), Affine()])
    ml.append(Affine())
    ml += [Affine()]
    assert len(ml) == 4 and [n for n, _ in ml.named_children()] == ["0", "1", "2", "3"]
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    md = nn.ModuleDict({"b": Affine(), "a": Affine()})
    assert list(md.keys()) == ["b", "a"] and "a" in md
    md.pop("b")
    assert list(md) == ["a"]
    pl = nn.ParameterList([rt.ones(2), Parameter(rt.zeros(3))])
    assert all(isinstance(p, Parameter) for p in pl) and len(pl) == 2
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"]
    pd = nn.ParameterDict({"w": rt.ones(2)})
    pd["b"] = rt.zeros(1)
    assert [n for n, _ in pd.named_parameters()] == ["w", "b"] and isinstance(pd["w"], Parameter)
    holder = nn.Module()
    holder.pl = pl
    assert [n for n, _ in holder.named_parameters()] == ["pl.0", "pl.1"]


def test_load_state_dict_result_prints_like_pytorch():
    result = nn.Linear(2, 2).load_state_dict({"weight": rt.zeros(2, 2)}, strict=False)
    assert repr(result) == "_IncompatibleKeys(missing_keys=['bias'], unexpected_keys=[])"
    assert result.missing_keys == ["bias"] and result.unexpected_keys == []
    assert repr(nn.Linear(2, 2).load_state_dict(nn.Linear(2, 2).state_dict())) == \
        "<All keys matched successfully>"
