"""What the generic table cannot show for Adamax, NAdam and RAdam: RAdam's switch from the
un-rectified to the rectified update (steps 1-5, then 6 on, with rho_t computed by hand),
NAdam's float32 ``mu_product``, Adamax's infinity norm by hand, PyTorch's argument checks and
defaults, and the ``differentiable=True`` path and complex parameters of all five adaptive
optimizers (with Lion and LAMB)."""
import numpy as np
import pytest
import rt_autograd as rt

import rt_optim
from rt_optim.radam import radam_rectification

PATHS = ["fused", "reference"]


def _make(cls, params, path, **kwargs):
    opt = cls(params, **kwargs)
    if path == "reference":
        for group in opt.param_groups:
            group["fused"] = False          # the switch _common.use_reference reads
    return opt


# ---- RAdam: rectification from step 6 -----------------------------------------------------
# beta2 = 0.999: rho_inf = 2 / 0.001 - 1 = 1999 and rho_t = 1999 - 2·t·0.999^t / (1 - 0.999^t):
# t = 1: 1999 - 1.998 / 0.001 = 1; t = 5: 1999 - 9.95009990 / 0.00499001 = 4.995998;
# t = 6: 1999 - 11.92817976 / 0.00598502 = 5.994164; t = 7: 6.991996.
# r_6 = sqrt(1.994164 · 3.994164 · 1999 / (1995 · 1997 · 5.994164)) = 0.0258211,
# r_7 = sqrt(2.991996 · 4.991996 · 1999 / (1995 · 1997 · 6.991996)) = 0.0327388.
HAND_RHO = {1: 1.0, 5: 4.995998, 6: 5.994164, 7: 6.991996}
HAND_RECT = {6: 0.0258211, 7: 0.0327388}


def test_radam_rho_t_and_rectification_by_hand():
    for t, rho in HAND_RHO.items():
        rho_t, rect = radam_rectification(0.999, float(t))
        assert rho_t == pytest.approx(rho, abs=1e-6)
        if t <= 5:
            assert rect is None
        else:
            assert rect == pytest.approx(HAND_RECT[t], rel=1e-5)
    assert [radam_rectification(0.999, float(t))[1] is None for t in range(1, 9)] == \
        [True] * 5 + [False] * 3


@pytest.mark.parametrize("dtype", [rt.float64, rt.float32])
@pytest.mark.parametrize("path", PATHS)
def test_radam_first_five_steps_are_unrectified_then_rectified(path, dtype):
    # a constant gradient 1 keeps m / (1 - beta1^t) = 1 and v = 1 - beta2^t, so with eps 0
    # the un-rectified step is exactly lr and the rectified one lr · r_t
    lr = 0.1
    p = rt.zeros((), dtype=dtype, requires_grad=True)
    opt = _make(rt_optim.RAdam, [p], path, lr=lr, eps=0.0)
    # the rectified steps are checked against the 6-digit hand values of r_t
    rel = 1e-9 if dtype == rt.float64 else 2e-5
    before = 0.0
    for t in range(1, 8):
        p.grad = rt.ones((), dtype=dtype)
        opt.step()
        moved = before - p.item()
        before = p.item()
        expected = lr if t <= 5 else lr * HAND_RECT[t]
        assert moved == pytest.approx(expected, rel=rel if t <= 5 else 2e-5), t


# ---- NAdam: mu_product is a float32 0-d tensor --------------------------------------------
@pytest.mark.parametrize("path", PATHS)
def test_nadam_mu_product_is_rounded_to_float32_every_step(path):
    beta1, psi = 0.9, 4e-3
    p = rt.zeros(3, dtype=rt.float64, requires_grad=True)
    opt = _make(rt_optim.NAdam, [p], path, lr=0.01)
    expected32 = np.float32(1.0)
    exact = 1.0
    for t in range(1, 4):
        p.grad = rt.ones(3, dtype=rt.float64)
        opt.step()
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi))
        # PyTorch's mu_product *= mu: the number is rounded to float32, then the product
        expected32 = np.float32(expected32 * np.float32(mu))
        exact *= mu
    state = opt.state[p]["mu_product"]
    assert state.dtype == rt.float32 and state.shape == ()
    assert state.item() == float(expected32)
    assert float(expected32) != exact               # the rounding is really there


def test_nadam_mu_product_loaded_into_float64_parameters_continues_in_float64():
    # PyTorch's load_state_dict casts every state tensor but 'step' to the parameter's dtype
    a = rt.zeros(2, dtype=rt.float64, requires_grad=True)
    opt = rt_optim.NAdam([a])
    a.grad = rt.ones(2, dtype=rt.float64)
    opt.step()
    b = rt.zeros(2, dtype=rt.float64, requires_grad=True)
    opt_b = rt_optim.NAdam([b])
    opt_b.load_state_dict(opt.state_dict())
    mu_product = opt_b.state[b]["mu_product"]
    assert mu_product.dtype == rt.float64
    before = mu_product.item()
    b.grad = rt.ones(2, dtype=rt.float64)
    opt_b.step()
    mu2 = 0.9 * (1 - 0.5 * 0.96 ** (2 * 4e-3))
    assert opt_b.state[b]["mu_product"].item() == before * mu2
    assert opt_b.state[b]["step"].dtype == rt.float32


# ---- Adamax by hand -----------------------------------------------------------------------
@pytest.mark.parametrize("path", PATHS)
def test_adamax_two_steps_by_hand(path):
    # lr 0.1, betas (0.5, 0.5), eps 0.01, maximize: d = -g
    p = rt.tensor([1.0, -1.0], dtype=rt.float64, requires_grad=True)
    opt = _make(rt_optim.Adamax, [p], path, lr=0.1, betas=(0.5, 0.5), eps=0.01,
                maximize=True)
    p.grad = rt.tensor([-2.0, 0.5], dtype=rt.float64)
    opt.step()
    # d = (2, -0.5); m = (1, -0.25); u = max(0, |d| + 0.01) = (2.01, 0.51)
    # p += -0.1 / (1 - 0.5) · m / u
    p1 = [1.0 - 0.2 * 1 / 2.01, -1.0 + 0.2 * 0.25 / 0.51]
    assert p.tolist() == pytest.approx(p1, rel=1e-12)
    p.grad = rt.tensor([-0.1, 0.5], dtype=rt.float64)
    opt.step()
    # d = (0.1, -0.5); m = (0.55, -0.375); u = max(0.5·u, |d| + 0.01) = (1.005, 0.51)
    p2 = [p1[0] - 0.1 / 0.75 * 0.55 / 1.005, p1[1] + 0.1 / 0.75 * 0.375 / 0.51]
    assert p.tolist() == pytest.approx(p2, rel=1e-12)
    assert opt.state[p]["exp_inf"].tolist() == pytest.approx([1.005, 0.51], rel=1e-12)


# ---- PyTorch's checks and defaults ----------------------------------------------------------
@pytest.mark.parametrize("kwargs,message", [
    (dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
    (dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
])
@pytest.mark.parametrize("name", ["Adamax", "NAdam", "RAdam"])
def test_invalid_hyper_parameters_raise_pytorchs_value_error(name, kwargs, message):
    with pytest.raises(ValueError) as info:
        getattr(rt_optim, name)([rt.zeros(2, requires_grad=True)], **kwargs)
    assert str(info.value) == message


def test_nadam_checks_momentum_decay():
    with pytest.raises(ValueError) as info:
        rt_optim.NAdam([rt.zeros(2, requires_grad=True)], momentum_decay=-0.5)
    assert str(info.value) == "Invalid momentum_decay value: -0.5"


def test_defaults_have_pytorchs_keys_order_and_values():
    # torch.optim.X([p]).defaults in PyTorch 2.13
    p = [rt.zeros(1, requires_grad=True)]
    assert list(rt_optim.Adamax(p).defaults.items()) == [
        ("lr", 0.002), ("betas", (0.9, 0.999)), ("eps", 1e-08), ("weight_decay", 0),
        ("foreach", None), ("maximize", False), ("differentiable", False),
        ("capturable", False)]
    assert list(rt_optim.NAdam(p).defaults.items()) == [
        ("lr", 0.002), ("betas", (0.9, 0.999)), ("eps", 1e-08), ("weight_decay", 0),
        ("momentum_decay", 0.004), ("decoupled_weight_decay", False), ("maximize", False),
        ("foreach", None), ("capturable", False), ("differentiable", False)]
    assert list(rt_optim.RAdam(p).defaults.items()) == [
        ("lr", 0.001), ("betas", (0.9, 0.999)), ("eps", 1e-08), ("weight_decay", 0),
        ("maximize", False), ("foreach", None), ("capturable", False),
        ("decoupled_weight_decay", False), ("differentiable", False)]


def test_a_tensor_learning_rate_is_taken():
    p = rt.zeros(2, dtype=rt.float64, requires_grad=True)
    opt = rt_optim.RAdam([p], lr=rt.tensor(0.1))
    p.grad = rt.ones(2, dtype=rt.float64)
    opt.step()
    assert p.tolist() == pytest.approx([-0.1, -0.1], rel=1e-7)


# ---- differentiable=True ----------------------------------------------------------------------
CONFIGS = [
    ("Adamax", dict(lr=0.1, weight_decay=0.1)),
    ("NAdam", dict(lr=0.1, weight_decay=0.1)),
    ("NAdam", dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.1, weight_decay=0.1)),
    ("Lion", dict(lr=0.1, weight_decay=0.1)),
    ("LAMB", dict(lr=0.1, weight_decay=0.1)),
]


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in
                                                      enumerate(CONFIGS)])
@pytest.mark.parametrize("warmup", [0, 6])
def test_differentiable_step_is_recorded_and_matches_the_kernel(name, kwargs, warmup):
    """A step with ``differentiable=True`` on a non-leaf parameter gives the kernel's values
    and lets the gradient flow back to what the parameter and its gradient came from. The
    ``warmup`` steps run on the kernel and their state is handed over (a differentiable
    optimizer records every step, as PyTorch's, and in-place state updates of a later step
    would invalidate the earlier graph), so that RAdam's recorded step is a rectified one."""
    plain = rt.tensor([0.5, -1.5, 2.0], dtype=rt.float64, requires_grad=True)
    opt_plain = getattr(rt_optim, name)([plain], **kwargs)
    grads = [rt.tensor([0.3, -1.0 + t, 2.0], dtype=rt.float64) for t in range(warmup + 1)]
    for g in grads[:warmup]:
        plain.grad = g.clone()
        opt_plain.step()
    base = plain.detach().clone().requires_grad_()
    w = base * 1.0
    opt = getattr(rt_optim, name)([w], differentiable=True, **kwargs)
    if warmup:
        opt.state[w] = {k: v.clone() for k, v in opt_plain.state[plain].items()}
    w.grad = grads[-1] * base / base.detach()       # the same values, in the graph
    opt.step()
    plain.grad = grads[-1].clone()
    opt_plain.step()
    assert w.grad_fn is not None
    # NAdam's differentiable path computes its two coefficients as float32 0-d tensors, as
    # PyTorch's does, so it agrees with the kernel to float32 rounding only
    np.testing.assert_allclose(w.detach().numpy(), plain.detach().numpy(),
                               rtol=1e-6 if name == "NAdam" else 1e-12)
    w.sum().backward()
    assert base.grad is not None and np.isfinite(base.grad.numpy()).all()


# ---- complex parameters -------------------------------------------------------------------
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("name", ["Adamax", "NAdam", "RAdam", "Lion", "LAMB"])
def test_a_complex_parameter_is_updated_as_its_pairs_of_reals(name, path):
    """As PyTorch (``torch.view_as_real`` of parameter, gradient and state): a complex
    parameter of shape (3,) moves exactly as the real parameter of shape (3, 2) holding its
    (real, imaginary) pairs."""
    rng = np.random.default_rng(7)
    pairs = rng.standard_normal((3, 2))
    grads = [rng.standard_normal((3, 2)) for _ in range(8)]
    as_complex = lambda a: a[:, 0] + 1j * a[:, 1]                     # noqa: E731
    z = rt.tensor(as_complex(pairs), requires_grad=True)
    r = rt.tensor(pairs, requires_grad=True)
    kwargs = dict(lr=0.05, weight_decay=0.1)
    opt_z = _make(getattr(rt_optim, name), [z], path, **kwargs)
    opt_r = _make(getattr(rt_optim, name), [r], path, **kwargs)
    for g in grads:
        z.grad = rt.tensor(as_complex(g))
        r.grad = rt.tensor(g)
        opt_z.step()
        opt_r.step()
    assert z.dtype == rt.complex128
    result = z.detach().numpy()
    np.testing.assert_array_equal(np.stack([result.real, result.imag], -1),
                                  r.detach().numpy())
