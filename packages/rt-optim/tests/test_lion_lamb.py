"""Lion and LAMB are not in PyTorch, so instead of parity lines they get updates computed by
hand from their papers (Chen et al. 2023, Algorithm 2; You et al. 2020, Algorithm 2), on the
fused kernel and on the reference formula, in float64 and float32; plus the LAMB kernel's
two-pass norms on tensors large enough to be split over blocks and threads."""
import math

import numpy as np
import pytest
import rt_autograd as rt
import rt_tensor

import rt_optim

PATHS = ["fused", "reference"]
DTYPES = [rt.float64, rt.float32]


def _make(cls, params, path, **kwargs):
    opt = cls(params, **kwargs)
    if path == "reference":
        for group in opt.param_groups:
            group["fused"] = False          # the switch _common.use_reference reads
    return opt


def _tol(dtype):
    return dict(rel=1e-12, abs=1e-14) if dtype == rt.float64 else dict(rel=1e-6, abs=1e-7)


# ---- Lion ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("path", PATHS)
def test_lion_two_steps_by_hand(path, dtype):
    # lr 0.1, betas (0.9, 0.99), weight decay 0.1: p <- p·(1 - 0.01) - 0.1·sign(c)
    p = rt.tensor([1.0, -2.0, 0.5], dtype=dtype, requires_grad=True)
    opt = _make(rt_optim.Lion, [p], path, lr=0.1, betas=(0.9, 0.99), weight_decay=0.1)

    p.grad = rt.tensor([0.5, -1.0, 0.0], dtype=dtype)
    opt.step()
    # m = 0: c = 0.1·g = (0.05, -0.1, 0), sign (1, -1, 0)
    # p = (0.99 - 0.1, -1.98 + 0.1, 0.495 - 0) ; m = 0.01·g = (0.005, -0.01, 0)
    assert p.tolist() == pytest.approx([0.89, -1.88, 0.495], **_tol(dtype))
    assert opt.state[p]["exp_avg"].tolist() == pytest.approx([0.005, -0.01, 0.0], **_tol(dtype))

    p.grad = rt.tensor([-0.2, 0.05, 3.0], dtype=dtype)
    opt.step()
    # c = 0.9·m + 0.1·g = (0.0045 - 0.02, -0.009 + 0.005, 0.3) = (-0.0155, -0.004, 0.3):
    # the second coordinate follows the momentum, not the (positive) gradient
    # p = 0.99·(0.89, -1.88, 0.495) - 0.1·(-1, -1, 1) = (0.9811, -1.7612, 0.39005)
    # m = 0.99·m + 0.01·g = (0.00495 - 0.002, -0.0099 + 0.0005, 0.03)
    assert p.tolist() == pytest.approx([0.9811, -1.7612, 0.39005], **_tol(dtype))
    assert opt.state[p]["exp_avg"].tolist() == pytest.approx([0.00295, -0.0094, 0.03],
                                                             **_tol(dtype))
    assert sorted(opt.state[p]) == ["exp_avg"]


@pytest.mark.parametrize("path", PATHS)
def test_lion_maximize_climbs_and_defaults_are_the_papers(path):
    p = rt.zeros(2, dtype=rt.float64, requires_grad=True)
    opt = _make(rt_optim.Lion, [p], path, maximize=True)
    assert opt.defaults == dict(lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, maximize=True,
                                foreach=None, differentiable=False)
    p.grad = rt.tensor([2.0, -3.0], dtype=rt.float64)
    opt.step()
    assert p.tolist() == pytest.approx([1e-4, -1e-4], rel=1e-12)


# ---- LAMB ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("path", PATHS)
def test_lamb_two_steps_by_hand(path, dtype):
    lr, b1, b2, wd = 0.1, 0.9, 0.999, 0.1
    w = rt.tensor([3.0, 4.0], dtype=dtype, requires_grad=True)      # ||w|| = 5
    bias = rt.zeros(2, dtype=dtype, requires_grad=True)             # ||bias|| = 0: trust 1
    opt = _make(rt_optim.LAMB, [w, bias], path, lr=lr, betas=(b1, b2), eps=0.0,
                weight_decay=wd)

    w.grad = rt.tensor([1.0, -2.0], dtype=dtype)
    bias.grad = rt.tensor([0.5, -0.25], dtype=dtype)
    opt.step()
    # step 1: m_hat = g, v_hat = g², so (eps 0) m_hat / sqrt(v_hat) = sign(g) = (1, -1);
    # r = (1, -1) + 0.1·(3, 4) = (1.3, -0.6), ||r|| = sqrt(2.05), trust = 5 / sqrt(2.05)
    trust = 5.0 / math.sqrt(2.05)
    w1 = [3.0 - lr * trust * 1.3, 4.0 + lr * trust * 0.6]
    assert w.tolist() == pytest.approx(w1, **_tol(dtype))
    # the bias: r = sign(g) + 0.1·0, trust 1 -> bias = -lr·(1, -1)
    assert bias.tolist() == pytest.approx([-0.1, 0.1], **_tol(dtype))

    w.grad = rt.tensor([0.5, 0.5], dtype=dtype)
    bias.grad = None                                                # skipped this step
    opt.step()
    # step 2: m = 0.9·(0.1, -0.2) + 0.1·0.5 = (0.14, -0.13);
    # v = 0.999·(0.001, 0.004) + 0.001·0.25 = (0.001249, 0.004246)
    m_hat = [0.14 / (1 - b1 ** 2), -0.13 / (1 - b1 ** 2)]
    v_hat = [0.001249 / (1 - b2 ** 2), 0.004246 / (1 - b2 ** 2)]
    r = [mh / math.sqrt(vh) + wd * x for mh, vh, x in zip(m_hat, v_hat, w1)]
    trust = math.hypot(*w1) / math.hypot(*r)
    w2 = [x - lr * trust * ri for x, ri in zip(w1, r)]
    assert w.tolist() == pytest.approx(w2, **_tol(dtype))
    assert bias.tolist() == pytest.approx([-0.1, 0.1], **_tol(dtype))
    assert opt.state[w]["step"].item() == 2.0 and opt.state[bias]["step"].item() == 1.0
    assert opt.state[w]["exp_avg_sq"].tolist() == pytest.approx([0.001249, 0.004246],
                                                                **_tol(dtype))


def test_lamb_first_step_moves_by_lr_times_the_weight_norm_over_the_update_norm():
    # the class docstring's example: r ≈ (1, 1) and the step is lr·||w||/sqrt(2) per weight
    w = rt.tensor([3.0, 4.0], dtype=rt.float64, requires_grad=True)
    opt = rt_optim.LAMB([w], lr=0.1)
    w.grad = rt.tensor([1.0, 1.0], dtype=rt.float64)
    opt.step()
    step = 0.1 * 5.0 / math.sqrt(2.0)                               # eps cancels in the ratio
    assert w.tolist() == pytest.approx([3.0 - step, 4.0 - step], rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lamb_kernel_norms_over_many_blocks_match_the_reference(dtype):
    # 300k values: more blocks than the kernel keeps on its stack, split over threads
    rng = np.random.default_rng(5)
    init = rng.standard_normal(300_001).astype(dtype)
    fused = rt.tensor(init, requires_grad=True)
    plain = rt.tensor(init, requires_grad=True)
    opt_f = rt_optim.LAMB([fused], lr=0.01, weight_decay=0.01)
    opt_p = _make(rt_optim.LAMB, [plain], "reference", lr=0.01, weight_decay=0.01)
    for _ in range(3):
        g = rng.standard_normal(init.shape).astype(dtype)
        fused.grad = rt.tensor(g)
        plain.grad = rt.tensor(g)
        opt_f.step()
        opt_p.step()
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fused.detach().numpy(), plain.detach().numpy(), **tol)


def test_lamb_kernel_result_does_not_depend_on_the_thread_count():
    rng = np.random.default_rng(6)
    init = rng.standard_normal(200_000).astype(np.float32)
    grads = [rng.standard_normal(init.shape).astype(np.float32) for _ in range(2)]
    results = []
    threads = rt_tensor.get_num_threads()
    try:
        for n in (1, max(2, threads)):
            rt_tensor.set_num_threads(n)
            p = rt.tensor(init, requires_grad=True)
            opt = rt_optim.LAMB([p], lr=0.01)
            for g in grads:
                p.grad = rt.tensor(g)
                opt.step()
            results.append(p.detach().numpy().copy())
    finally:
        rt_tensor.set_num_threads(threads)
    np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.parametrize("path", PATHS)
def test_lamb_with_a_zero_update_keeps_the_weights(path):
    # a zero gradient on the first step: r = 0, so ||r|| = 0, trust 1, nothing moves
    w = rt.tensor([1.0, 2.0], dtype=rt.float64, requires_grad=True)
    opt = _make(rt_optim.LAMB, [w], path)
    w.grad = rt.zeros(2, dtype=rt.float64)
    opt.step()
    assert w.tolist() == [1.0, 2.0]


# ---- both ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,message", [
    (dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (dict(betas=(1.0, 0.99)), "Invalid beta parameter at index 0: 1.0"),
    (dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (dict(weight_decay=-0.5), "Invalid weight_decay value: -0.5"),
])
@pytest.mark.parametrize("cls", [rt_optim.Lion, rt_optim.LAMB])
def test_invalid_hyper_parameters_raise_pytorchs_value_error(cls, kwargs, message):
    with pytest.raises(ValueError, match=f"^{message}$".replace("(", r"\(")):
        cls([rt.zeros(2, requires_grad=True)], **kwargs)


def test_lamb_checks_eps():
    with pytest.raises(ValueError, match="^Invalid epsilon value: -1e-06$"):
        rt_optim.LAMB([rt.zeros(2, requires_grad=True)], eps=-1e-6)


def test_lamb_defaults_are_the_papers():
    opt = rt_optim.LAMB([rt.zeros(2, requires_grad=True)])
    assert opt.defaults == dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0,
                                maximize=False, foreach=None, differentiable=False)
