"""RMSprop, Adagrad, Adadelta, Rprop and ASGD: what the generic table tests
(test_optimizers.py) do not cover: PyTorch's defaults dicts and argument errors, Adagrad's
state created in __init__, ASGD's float32 ``eta``/``mu``, Rprop's sign rule, and the dtypes
that take the reference formula."""
import numpy as np
import pytest
import rt_autograd as rt

import rt_optim
from numpy_reference import REFERENCES

# torch.optim.X([p]).defaults in PyTorch 2.13, keys in order
TORCH_DEFAULTS = {
    "RMSprop": {"lr": 0.01, "momentum": 0, "alpha": 0.99, "eps": 1e-08, "centered": False,
                "weight_decay": 0, "capturable": False, "foreach": None, "maximize": False,
                "differentiable": False},
    "Adagrad": {"lr": 0.01, "lr_decay": 0, "eps": 1e-10, "weight_decay": 0,
                "initial_accumulator_value": 0, "foreach": None, "maximize": False,
                "differentiable": False, "fused": None},
    "Adadelta": {"lr": 1.0, "rho": 0.9, "eps": 1e-06, "weight_decay": 0, "maximize": False,
                 "capturable": False, "foreach": None, "differentiable": False},
    "Rprop": {"lr": 0.01, "etas": (0.5, 1.2), "step_sizes": (1e-06, 50), "foreach": None,
              "maximize": False, "differentiable": False, "capturable": False},
    "ASGD": {"lr": 0.01, "lambd": 0.0001, "alpha": 0.75, "t0": 1000000.0, "weight_decay": 0,
             "foreach": None, "maximize": False, "differentiable": False, "capturable": False},
}


@pytest.mark.parametrize("name", sorted(TORCH_DEFAULTS))
def test_defaults_dict_is_pytorchs(name):
    opt = getattr(rt_optim, name)([rt.zeros(2, requires_grad=True)])
    assert list(opt.defaults.items()) == list(TORCH_DEFAULTS[name].items())
    group = opt.param_groups[0]
    assert list(group)[0] == "params" and list(group)[1:] == list(TORCH_DEFAULTS[name])


BAD_ARGUMENTS = [
    ("RMSprop", dict(lr=-1), "Invalid learning rate: -1"),
    ("RMSprop", dict(eps=-1e-3), "Invalid epsilon value: -0.001"),
    ("RMSprop", dict(momentum=-0.5), "Invalid momentum value: -0.5"),
    ("RMSprop", dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    ("RMSprop", dict(alpha=-0.1), "Invalid alpha value: -0.1"),
    ("Adagrad", dict(lr=-1), "Invalid learning rate: -1"),
    ("Adagrad", dict(lr_decay=-1), "Invalid lr_decay value: -1"),
    ("Adagrad", dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    ("Adagrad", dict(initial_accumulator_value=-1),
     "Invalid initial_accumulator_value value: -1"),
    ("Adagrad", dict(eps=-1), "Invalid epsilon value: -1"),
    ("Adadelta", dict(lr=-1), "Invalid learning rate: -1"),
    ("Adadelta", dict(rho=1.5), "Invalid rho value: 1.5"),
    ("Adadelta", dict(rho=-0.1), "Invalid rho value: -0.1"),
    ("Adadelta", dict(eps=-1), "Invalid epsilon value: -1"),
    ("Adadelta", dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    ("Rprop", dict(lr=-1), "Invalid learning rate: -1"),
    ("Rprop", dict(etas=(1.5, 2.0)), "Invalid eta values: 1.5, 2.0"),
    ("Rprop", dict(etas=(0.5, 0.9)), "Invalid eta values: 0.5, 0.9"),
    ("Rprop", dict(etas=(0.0, 1.2)), "Invalid eta values: 0.0, 1.2"),
    ("ASGD", dict(lr=-1), "Invalid learning rate: -1"),
    ("ASGD", dict(weight_decay=-1), "Invalid weight_decay value: -1"),
]


@pytest.mark.parametrize("name,kwargs,message", BAD_ARGUMENTS)
def test_bad_arguments_raise_pytorchs_value_error(name, kwargs, message):
    with pytest.raises(ValueError) as info:
        getattr(rt_optim, name)([rt.zeros(2, requires_grad=True)], **kwargs)
    assert str(info.value) == message


def test_boundary_values_are_accepted_as_in_pytorch():
    p = [rt.zeros(2, requires_grad=True)]
    rt_optim.Adadelta(p, rho=1.0)
    rt_optim.Adadelta(p, rho=0.0)
    rt_optim.RMSprop(p, alpha=0.0, eps=0.0, momentum=0.0)
    rt_optim.ASGD(p, lambd=-1.0)          # PyTorch does not check lambd, alpha or t0


def test_adagrad_fused_refuses_differentiable_and_foreach():
    p = [rt.zeros(2, requires_grad=True)]
    with pytest.raises(RuntimeError, match="`fused` does not support `differentiable`"):
        rt_optim.Adagrad(p, fused=True, differentiable=True)
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
        rt_optim.Adagrad(p, fused=True, foreach=True)
    rt_optim.Adagrad(p, fused=True)


def test_adagrad_creates_every_state_in_init_as_pytorch():
    a = rt.zeros(3, requires_grad=True)
    b = rt.zeros(2, 2, dtype=rt.float64, requires_grad=True)
    opt = rt_optim.Adagrad([{"params": [a]}, {"params": [b], "initial_accumulator_value": 5.0}],
                           initial_accumulator_value=0.5)
    sd = opt.state_dict()
    assert sorted(sd["state"]) == [0, 1]
    for p in (a, b):
        state = opt.state[p]
        assert state["step"].dtype == rt.float32 and state["step"].item() == 0.0
        assert state["sum"].dtype == p.dtype and state["sum"].shape == p.shape
        # the constructor's value for every group, as PyTorch (the group's own is not used)
        assert np.all(state["sum"].numpy() == 0.5)


def test_adagrad_state_of_a_later_group_comes_from_the_defaults_on_its_first_step():
    a = rt.zeros(2, requires_grad=True)
    c = rt.zeros(2, requires_grad=True)
    opt = rt_optim.Adagrad([a], lr=1.0, initial_accumulator_value=3.0)
    opt.add_param_group({"params": [c], "initial_accumulator_value": 100.0})
    assert c not in opt.state
    c.grad = rt.tensor([1.0, -1.0])
    opt.step()
    assert opt.state[c]["sum"].tolist() == [4.0, 4.0]          # 3 + 1², not 100 + 1²
    assert opt.state[c]["step"].item() == 1.0
    assert opt.state[a]["step"].item() == 0.0                  # no grad: untouched


def test_asgd_eta_and_mu_are_float32_scalars_also_for_float64_parameters():
    p = rt.zeros(3, dtype=rt.float64, requires_grad=True)
    opt = rt_optim.ASGD([p], lr=0.1, lambd=0.3, alpha=0.75, t0=1)
    for _ in range(4):
        p.grad = rt.ones(3, dtype=rt.float64)
        opt.step()
    state = opt.state[p]
    for key in ("eta", "mu"):
        assert state[key].dtype == rt.float32 and state[key].shape == ()
    assert state["eta"].item() == float(np.float32(0.1 / (1 + 0.3 * 0.1 * 4) ** 0.75))
    assert state["mu"].item() == float(np.float32(1 / 3))


@pytest.mark.parametrize("use_reference", [False, True])
def test_asgd_rounds_eta_to_float32_after_load_state_dict_made_it_float64(use_reference):
    # PyTorch's load_state_dict casts eta/mu to a float64 parameter's dtype; the values it
    # writes afterwards are still rounded to float32 (a default-dtype tensor copied in)
    p = rt.zeros(3, dtype=rt.float64, requires_grad=True)
    opt = rt_optim.ASGD([p], lr=0.1, lambd=0.3, t0=1)
    p.grad = rt.ones(3, dtype=rt.float64)
    opt.step()
    other = rt_optim.ASGD([p], lr=0.1, lambd=0.3, t0=1)
    other.load_state_dict(opt.state_dict())
    if use_reference:
        other.param_groups[0]["fused"] = False
    assert other.state[p]["eta"].dtype == rt.float64
    for _ in range(3):
        p.grad = rt.ones(3, dtype=rt.float64)
        other.step()
    assert other.state[p]["eta"].item() == float(np.float32(0.1 / (1 + 0.3 * 0.1 * 4) ** 0.75))
    assert other.state[p]["mu"].item() == float(np.float32(1 / 3))


def test_asgd_averages_the_iterates_after_t0():
    p = rt.zeros(1, dtype=rt.float64, requires_grad=True)
    opt = rt_optim.ASGD([p], lr=0.5, lambd=0.0, t0=2)
    seen = []
    for _ in range(8):
        p.grad = rt.ones(1, dtype=rt.float64)
        opt.step()
        seen.append(p.item())
    # ax copies p for the first t0 + 2 steps, then is the running mean from there on (to
    # the float32 rounding of mu = 1/2, 1/3, ...)
    assert opt.state[p]["ax"].item() == pytest.approx(np.mean(seen[3:]), rel=1e-7)
    assert opt.state[p]["ax"].item() != pytest.approx(np.mean(seen[2:]), rel=1e-3)


def test_rprop_zeroes_the_gradient_on_a_sign_change_and_clamps_the_step():
    p = rt.zeros(3, requires_grad=True)
    opt = rt_optim.Rprop([p], lr=0.1, etas=(0.5, 2.0), step_sizes=(0.04, 0.3))
    for g in ([1.0, 1.0, 0.0], [1.0, -1.0, 0.0], [1.0, 1.0, 2.0], [1.0, -1.0, 0.0]):
        p.grad = rt.tensor(g)
        opt.step()
    state = opt.state[p]
    # element 0: 0.1 -> 0.2 -> 0.4 clamped to 0.3 -> 0.3; element 1: halved on each sign
    # change (0.05, then 0.025 clamped to 0.04) with no move and prev = 0 there, so the step
    # after a change keeps its size; element 2: a zero product keeps the size, sign 0 no move
    assert np.allclose(state["step_size"].numpy(), [0.3, 0.04, 0.1])
    assert np.allclose(state["prev"].numpy(), [1.0, 0.0, 0.0])
    assert np.allclose(p.detach().numpy(), [-0.9, -0.15, -0.1], atol=1e-7)


@pytest.mark.parametrize("dtype", [rt.float16, rt.bfloat16])
@pytest.mark.parametrize("name,kwargs", [
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    ("Adadelta", dict(weight_decay=0.1, maximize=True)),
    ("Rprop", dict(lr=0.02, step_sizes=(1e-3, 0.05))),
    ("ASGD", dict(lr=0.05, lambd=0.01, t0=2, weight_decay=0.01)),
])
def test_half_precision_parameters_take_the_reference_formula(name, kwargs, dtype):
    rng = np.random.default_rng(0)
    init = rng.standard_normal(16)
    grads = [[rng.standard_normal(16)] for _ in range(10)]
    p = rt.tensor(init).to(dtype).requires_grad_()
    opt = getattr(rt_optim, name)([p], **kwargs)
    for (g,) in grads:
        p.grad = rt.tensor(g).to(dtype)
        opt.step()
    assert p.dtype == dtype
    for key, value in opt.state[p].items():
        if value.ndim:
            assert value.dtype == dtype, key
    expected = REFERENCES[name]([init], grads, **kwargs)[0]
    got = p.detach().to(rt.float64).numpy()
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, expected, atol=0.1)


def test_a_tensor_learning_rate_is_used_as_its_value():
    a = rt.ones(2, requires_grad=True)
    b = rt.ones(2, requires_grad=True)
    opt_a = rt_optim.ASGD([a], lr=rt.tensor(0.25))
    opt_b = rt_optim.ASGD([b], lr=0.25)
    for _ in range(3):
        a.grad = rt.ones(2)
        b.grad = rt.ones(2)
        opt_a.step()
        opt_b.step()
    assert a.tolist() == b.tolist()
    assert opt_a.state[a]["eta"].item() == opt_b.state[b]["eta"].item()
