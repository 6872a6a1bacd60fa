"""The Optimizer base class: construction rules and errors, groups, zero_grad, step with a
closure, hooks, and state_dict / load_state_dict in PyTorch's structure."""
import copy

import pytest
import rt_autograd as rt

import rt_optim
from rt_optim.optimizer import register_optimizer_step_post_hook


def _p(*shape):
    return rt.zeros(*shape, requires_grad=True)


def test_a_single_tensor_is_a_type_error():
    with pytest.raises(TypeError, match="params argument given to the optimizer should be an "
                                        "iterable of Tensors or dicts, but got"):
        rt_optim.SGD(_p(2), lr=0.1)


def test_an_empty_parameter_list_is_a_value_error():
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        rt_optim.Adam([])


def test_a_set_of_parameters_is_refused():
    with pytest.raises(TypeError, match="ordered collections"):
        rt_optim.SGD({_p(2)}, lr=0.1)


def test_a_parameter_in_two_groups_is_a_value_error():
    w = _p(2)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter "
                                         "group"):
        rt_optim.SGD([{"params": [w]}, {"params": [w, _p(1)]}], lr=0.1)


def test_non_leaf_and_non_tensor_parameters_are_refused():
    w = _p(2)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        rt_optim.SGD([w * 2], lr=0.1)
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors, but one of the "
                                        "params is"):
        rt_optim.SGD([w, 3.0], lr=0.1)


@pytest.mark.parametrize("kwargs,message", [
    (dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    (dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    (dict(lr=float("nan")), "Invalid learning rate: nan"),
])
def test_invalid_hyper_parameters_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.").replace("(", r"\(")):
        rt_optim.Adam([_p(2)], **kwargs)


def test_sgd_argument_errors():
    with pytest.raises(ValueError, match="Invalid momentum value: -0.5"):
        rt_optim.SGD([_p(2)], lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero "
                                         "dampening"):
        rt_optim.SGD([_p(2)], lr=0.1, nesterov=True)


def test_groups_take_defaults_and_overrides():
    a, b = _p(2), _p(3)
    opt = rt_optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert all(g["momentum"] == 0.9 for g in opt.param_groups)
    assert opt.param_groups[1]["params"] == [b]
    c = _p(1)
    opt.add_param_group({"params": [c], "momentum": 0.0})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["momentum"] == 0.0


def test_named_parameters_are_accepted_and_kept_in_state_dict():
    a, b = _p(2), _p(3)
    opt = rt_optim.Adam([("layer.weight", a), ("layer.bias", b)], lr=0.1)
    assert opt.param_groups[0]["params"] == [a, b]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["layer.weight", "layer.bias"]


def test_zero_grad_touches_only_its_own_parameters():
    mine, other = _p(2), _p(2)
    opt = rt_optim.SGD([mine], lr=0.1)
    mine.grad, other.grad = rt.ones(2), rt.ones(2)
    opt.zero_grad(set_to_none=False)
    assert mine.grad.tolist() == [0.0, 0.0] and other.grad.tolist() == [1.0, 1.0]
    opt.zero_grad()
    assert mine.grad is None and other.grad is not None


def test_step_runs_the_closure_with_grad_enabled_and_returns_its_loss():
    w = rt.tensor([3.0], requires_grad=True)
    opt = rt_optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        assert rt.is_grad_enabled()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with rt.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 9.0
    assert w.tolist() == [1.5]                     # 3 - 0.25 * 6


def test_step_hooks_run_in_order_and_can_be_removed():
    w = _p(1)
    opt = rt_optim.SGD([w], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append("pre"))
    h2 = opt.register_step_post_hook(lambda o, args, kwargs: calls.append("post"))
    h3 = register_optimizer_step_post_hook(lambda o, args, kwargs: calls.append("global"))
    w.grad = rt.ones(1)
    opt.step()
    assert calls == ["pre", "post", "global"]
    for h in (h1, h2, h3):
        h.remove()
    opt.step()
    assert calls == ["pre", "post", "global"]


def test_state_dict_structure_is_pytorchs():
    a, b, c = _p(2), _p(3), _p(1)
    opt = rt_optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1)
    for p in (a, c):
        p.grad = rt.ones(*p.shape)
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sorted(sd["state"]) == [0, 2]          # b had no grad: no state entry
    assert sorted(sd["state"][2]) == ["exp_avg", "exp_avg_sq", "step"]
    assert sd["param_groups"][1]["lr"] == 0.5
    assert sd["state"][0]["exp_avg"] is opt.state[a]["exp_avg"]   # references, as PyTorch


def test_load_state_dict_mismatches_are_value_errors():
    opt = rt_optim.SGD([_p(2), _p(2)], lr=0.1)
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        rt_optim.SGD([{"params": [_p(2)]}, {"params": [_p(2)]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        rt_optim.SGD([_p(2)], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="must hold 'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})


def test_load_state_dict_copies_casts_and_converts_old_numeric_steps():
    w = rt.zeros(2, dtype=rt.float64, requires_grad=True)
    opt = rt_optim.Adam([w], lr=0.1)
    saved = {"state": {0: {"step": 3.0, "exp_avg": rt.ones(2),
                           "exp_avg_sq": rt.ones(2)}},
             "param_groups": [dict(copy.deepcopy(opt.param_groups[0]), params=[0], lr=0.01)]}
    opt.load_state_dict(saved)
    state = opt.state[w]
    assert state["exp_avg"].dtype == rt.float64           # cast to the parameter's dtype
    assert state["step"].dtype == rt.float32 and state["step"].item() == 3.0
    assert opt.param_groups[0]["lr"] == 0.01 and opt.param_groups[0]["params"] == [w]
    state["exp_avg"].add_(1.0)
    assert saved["state"][0]["exp_avg"].tolist() == [1.0, 1.0]     # a copy, not an alias


def test_repr_lists_the_groups():
    opt = rt_optim.SGD([_p(1)], lr=0.1, momentum=0.9)
    text = repr(opt)
    assert text.startswith("SGD (\nParameter Group 0\n")
    assert "    lr: 0.1\n" in text and "    momentum: 0.9\n" in text and text.endswith(")")
