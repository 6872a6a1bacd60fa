"""Training runs against PyTorch 2.13: the same model code (``models.py``, written once and
given the torch or the rt namespace), the same initial weights (torch's, copied through
numpy), the same batches, optimizer and LR scheduler; each run records its loss curve, the
learning rates, the gradients of the first step, the parameters after steps 1, 5, 10 and the
last, the buffers (BatchNorm's running statistics) and the eval-mode outputs on held-out
inputs after training; every record must agree with torch's, in float64 and in float32.

Runs (25 steps each): an MLP with SGD+Nesterov+weight decay and StepLR, and with Adam and
OneCycleLR; a CNN with BatchNorm2d and MaxPool with Adam and CosineAnnealingLR, and with SGD
momentum and ReduceLROnPlateau on the training loss; a small TransformerEncoder classifier
(post-norm, padding masks, AdamW with two parameter groups, LinearLR warm-up then cosine via
SequentialLR), and a pre-norm one with NAdam and ExponentialLR.

Tolerances (measured differences in the comments at each constant): both libraries compute
the same formulas, but sums are ordered differently (BLAS blocking, convolution algorithms,
reductions), so results differ by a few ulps from the first op on; over 25 optimizer steps on
these well-conditioned runs the difference stays at rounding level. A formula difference (an
eps, a bias correction, a scheduler off by one step) shows in the 3rd-6th digit, far above
the tolerances. One direction is degenerate and handled on its own: the key bias of attention
(``in_proj_bias[d:2d]``) cannot change the output (it adds the same ``q·b_k`` to every
logit of a softmax row), so its gradient is rounding noise, which Adam-type optimizers scale
to steps of up to ~lr in directions that differ between any two implementations; it is
compared to that bound, and its gradient is checked to be noise.
"""
import functools

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch cannot be imported; the parity suite "
                                            "runs in `tox -e parity` (torch==2.13.0)")

import rt_parity_models as M  # noqa: E402  (conftest.py registers models.py)

T, R = M.torch_namespace(), M.rt_namespace()
STEPS = 25
RECORD = (1, 5, 10)

# (rtol, atol as a fraction of the tensor's largest magnitude)
# float64: measured <= 7e-15 relative on every record of every run (grads 4e-15, parameters
# 7e-15, eval outputs 2e-15); 1e-9 keeps a margin of 10^5 for other CPUs/BLAS kernels and
# still catches any formula difference.
# float32: measured <= 1.6e-6 (loss 1.6e-7, first gradients 7.6e-7, parameters 1.6e-6, eval
# outputs 6.1e-7): float32 rounding (6e-8) grows through the steps, so 1e-4 relative.
TOL = {"float64": dict(loss=1e-10, rtol=1e-9, atol=1e-9),
       "float32": dict(loss=2e-5, rtol=1e-4, atol=1e-4)}


# -- the runs ------------------------------------------------------------------------------
def _sgd_nesterov(ns, m):
    return ns.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)


def _adam(ns, m):
    return ns.optim.Adam(m.parameters(), lr=3e-3)


def _sgd_momentum(ns, m):
    return ns.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, dampening=0.1)


def _adamw_groups(ns, m):
    """The usual transformer recipe: weight decay on matrices, none on biases and norms."""
    decay = [p for p in m.parameters() if p.dim() > 1]
    no_decay = [p for p in m.parameters() if p.dim() <= 1]
    return ns.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                           {"params": no_decay, "weight_decay": 0.0}], lr=3e-3)


def _nadam(ns, m):
    return ns.optim.NAdam(m.parameters(), lr=2e-3, weight_decay=1e-4)


def _warmup_cosine(ns, opt):
    S = ns.lr_scheduler
    return S.SequentialLR(opt, [S.LinearLR(opt, start_factor=0.1, total_iters=5),
                                S.CosineAnnealingLR(opt, T_max=STEPS - 5)], milestones=[5])


@functools.lru_cache(maxsize=None)
def _image_data(dtype):
    npd = np.dtype(dtype).type
    batches = M.classification_batches(1, STEPS, 16, (1, 12, 12), 4, npd)
    held_out = (M.classification_batches(98, 1, 16, (1, 12, 12), 4, npd)[0][0],)
    return batches, held_out


@functools.lru_cache(maxsize=None)
def _vector_data(dtype):
    npd = np.dtype(dtype).type
    batches = M.classification_batches(0, STEPS, 16, 20, 5, npd)
    held_out = (M.classification_batches(99, 1, 32, 20, 5, npd)[0][0],)
    return batches, held_out


@functools.lru_cache(maxsize=None)
def _token_data(dtype):
    batches = M.token_batches(2, STEPS, 16, 7, 11, 3)
    held_out = M.token_batches(97, 1, 16, 7, 11, 3)[0][:2]
    return batches, held_out


RUNS = {
    "mlp-sgd-nesterov-steplr": (
        M.make_mlp, _vector_data, _sgd_nesterov,
        lambda ns, o: ns.lr_scheduler.StepLR(o, step_size=8, gamma=0.5), False),
    "mlp-adam-onecycle": (
        M.make_mlp, _vector_data, _adam,
        lambda ns, o: ns.lr_scheduler.OneCycleLR(o, max_lr=0.01, total_steps=STEPS), False),
    "cnn-bn-adam-cosine": (
        M.make_cnn, _image_data, _adam,
        lambda ns, o: ns.lr_scheduler.CosineAnnealingLR(o, T_max=STEPS, eta_min=1e-4), False),
    "cnn-bn-sgd-plateau": (
        M.make_cnn, _image_data, _sgd_momentum,
        lambda ns, o: ns.lr_scheduler.ReduceLROnPlateau(o, factor=0.5, patience=1,
                                                        threshold=0.05), True),
    "transformer-adamw-warmup-cosine": (
        M.make_transformer, _token_data, _adamw_groups, _warmup_cosine, False),
    "transformer-prenorm-nadam-exp": (
        functools.partial(M.make_transformer, norm_first=True), _token_data, _nadam,
        lambda ns, o: ns.lr_scheduler.ExponentialLR(o, gamma=0.95), False),
}
DTYPES = ["float64", "float32"]
CASES = [(run, dtype) for run in RUNS for dtype in DTYPES]
IDS = [f"{run}-{dtype}" for run, dtype in CASES]


def _build_pair(build, dtype):
    """The torch model (torch's default init, seeded) and the rt model with its weights."""
    torch.manual_seed(0)
    tm = build(T)
    with torch.no_grad():
        for name, p in tm.named_parameters():
            if name == "pos":                    # learned positions start at zero: make them count
                p.normal_(0.0, 0.1)
    rm = build(R)
    if dtype == "float64":
        tm, rm = tm.double(), rm.double()
    M.copy_weights(tm, rm, R)
    return tm, rm


@functools.lru_cache(maxsize=None)
def _traces(run, dtype):
    build, data, make_opt, make_sched, metric = RUNS[run]
    batches, held_out = data(dtype)
    tm, rm = _build_pair(build, dtype)
    out = []
    for ns, model in ((T, tm), (R, rm)):
        out.append(M.train(ns, model, batches, make_opt, make_sched, M.cross_entropy,
                           record_steps=RECORD, eval_inputs=held_out, scheduler_metric=metric))
    return out                                          # [torch trace, rt trace]


def _degenerate(name, shape):
    """The slice of a parameter whose gradient is rounding noise (see the module docstring),
    or None."""
    if name.endswith("self_attn.in_proj_bias"):
        d = shape[0] // 3
        return slice(d, 2 * d)
    return None


def _close(got, want, rtol, atol, what):
    scale = float(np.max(np.abs(want))) if want.size else 0.0
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol * max(scale, 1e-30),
                               err_msg=what)


# -- the comparisons -----------------------------------------------------------------------
@pytest.mark.parametrize("run,dtype", CASES, ids=IDS)
def test_loss_curve_and_learning_rates_match(run, dtype):
    t, r = _traces(run, dtype)
    assert len(r.losses) == len(t.losses) == STEPS
    np.testing.assert_allclose(r.losses, t.losses, rtol=TOL[dtype]["loss"])
    np.testing.assert_allclose(r.lrs, t.lrs, rtol=1e-12, atol=0)
    # the runs learn (so the comparison is about training, not a flat line)
    assert np.mean(t.losses[-5:]) < 0.8 * np.mean(t.losses[:5])


@pytest.mark.parametrize("run,dtype", CASES, ids=IDS)
def test_first_step_gradients_match(run, dtype):
    t, r = _traces(run, dtype)
    assert list(r.first_grads) == list(t.first_grads)
    tol = TOL[dtype]
    for name, want in t.first_grads.items():
        assert r.first_grads[name].shape == want.shape, name
        _close(r.first_grads[name], want, tol["rtol"], tol["atol"], f"grad of {name}")
        sl = _degenerate(name, want.shape)
        if sl is not None:                       # the key bias's gradient is rounding noise
            noise = 1e-12 if dtype == "float64" else 1e-5
            assert np.max(np.abs(want[sl])) <= noise * np.max(np.abs(want)), name
            assert np.max(np.abs(r.first_grads[name][sl])) <= noise * np.max(np.abs(want)), name


@pytest.mark.parametrize("run,dtype", CASES, ids=IDS)
def test_parameter_trajectories_match(run, dtype):
    t, r = _traces(run, dtype)
    tol = TOL[dtype]
    lrs = np.array(t.lrs).max(axis=1)
    for step in (*RECORD, "final"):
        n_steps = STEPS if step == "final" else step
        for name, want in t.params_at[step].items():
            got = r.params_at[step][name]
            sl = _degenerate(name, want.shape)
            if sl is not None:
                # Adam-type steps move a coordinate by at most ~lr·(1-beta1)/sqrt(1-beta2)
                # (~3 lr); noise-driven, the two runs may move it in opposite directions
                bound = 2 * 3.2 * lrs[:n_steps].sum()
                assert np.max(np.abs(got[sl] - want[sl])) <= bound, (name, step)
                keep = np.ones(want.shape[0], bool)
                keep[sl] = False
                got, want = got[keep], want[keep]
            _close(got, want, tol["rtol"], tol["atol"], f"{name} after step {step}")


@pytest.mark.parametrize("run,dtype", CASES, ids=IDS)
def test_eval_outputs_and_buffers_match(run, dtype):
    t, r = _traces(run, dtype)
    tol = TOL[dtype]
    assert r.eval_outputs.shape == t.eval_outputs.shape
    _close(r.eval_outputs, t.eval_outputs, tol["rtol"], tol["atol"], "eval outputs")
    assert np.array_equal(r.eval_outputs.argmax(1), t.eval_outputs.argmax(1))
    assert list(r.buffers) == list(t.buffers)
    for name, want in t.buffers.items():
        if name.endswith("num_batches_tracked"):
            assert int(r.buffers[name]) == int(want) == STEPS
        else:
            _close(r.buffers[name], want, tol["rtol"], tol["atol"], name)


@pytest.mark.parametrize("build", [M.make_mlp, M.make_cnn, M.make_transformer],
                         ids=["mlp", "cnn", "transformer"])
def test_the_same_code_builds_the_same_architecture(build):
    tm, rm = build(T), build(R)
    assert [(n, tuple(p.shape)) for n, p in tm.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in rm.named_parameters()]
    assert list(tm.state_dict()) == list(rm.state_dict())
    assert sum(p.numel() for p in tm.parameters()) == sum(p.numel() for p in rm.parameters())


def test_cnn_dropout_is_the_identity_in_eval_mode():
    """Training with p > 0 cannot match (each library has its own generator); eval mode
    must: Dropout(0.5) then does nothing, and BatchNorm uses the running statistics."""
    build = functools.partial(M.make_cnn, dropout=0.5)
    tm, rm = _build_pair(build, "float64")
    x = _image_data("float64")[1][0]
    with torch.no_grad():                          # non-trivial running statistics
        for m in tm.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    M.copy_weights(tm, rm, R)
    tm.eval()
    rm.eval()
    with torch.no_grad():
        want = M.to_numpy(tm(T.tensor(x)))
    got = M.to_numpy(rm(R.tensor(x)))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)
    # and in training mode each library's dropout keeps about half of the features
    rm.train()
    feats = rm[:9](R.tensor(x))                    # up to Flatten
    dropped = rm[9](feats)
    kept = M.to_numpy(dropped) != 0
    assert 0.35 < kept.mean() < 0.65
    np.testing.assert_allclose(M.to_numpy(dropped)[kept], 2 * M.to_numpy(feats)[kept])
