"""DistributedDataParallel on 2 processes against single-process training.

This file is both the pytest module and the MPI program: pytest launches it once with
``rt-run -n 2`` (``python test_ddp.py``); each rank runs every check below and prints
``RESULT <rank> <check> OK`` or ``RESULT <rank> <check> FAIL <why>``; each test asserts one
check on both ranks. The oracles are computed in-process on every rank: the same model and
optimizer trained by one process on the full batch (the union of the ranks' halves),
numpy for BatchNorm's running statistics, hand-derived averages for unused parameters.
"""
import datetime
import sys
import traceback

import numpy as np
import pytest
import rt_autograd as rt
import rt_nn as nn
import rt_nn.functional as F
import rt_optim as optim
from rt_nn.data import DataLoader, TensorDataset

import rt_distributed as dist
from rt_distributed import DistributedDataParallel as DDP
from rt_distributed import parallel

CHECKS = {}
RANK = WORLD = None


def check(fn):
    CHECKS[fn.__name__] = fn
    return fn


# ====================================================================== the MPI program

def _setup():
    global RANK, WORLD
    dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=30))
    RANK, WORLD = dist.get_rank(), dist.get_world_size()


def mlp(seed, hidden=128):
    """The seed MLP 784-128-ReLU-10, initialised from ``seed``."""
    rt.manual_seed(seed)
    return nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def data(n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 784)).astype(np.float32)
    y = rng.standard_normal((n, 10)).astype(np.float32)
    return rt.from_numpy(x), rt.from_numpy(y)


def arrays(module):
    return {k: np.array(v.numpy(), copy=True) for k, v in module.state_dict().items()}


def grads(module):
    return {n: (None if p.grad is None else np.array(p.grad.numpy(), copy=True))
            for n, p in module.named_parameters()}


def close(got, want, rtol=1e-5, atol=1e-6, what=""):
    assert got.keys() == want.keys(), (what, got.keys(), want.keys())
    for k in want:
        if want[k] is None or got[k] is None:
            assert got[k] is None and want[k] is None, (what, k, got[k], want[k])
            continue
        np.testing.assert_allclose(got[k], want[k], rtol=rtol, atol=atol, err_msg=f"{what} {k}")


def train_pair(make_opt, steps=20, ddp_kwargs=None, batch=64):
    """Train DDP (each rank: half of every batch, through DistributedSampler) and, in this
    process, the reference (the full batch); both start from rank 0's initialisation."""
    model = mlp(100 + RANK)                   # differs per rank: DDP broadcasts rank 0's
    ddp = DDP(model, **(ddp_kwargs or {}))
    reference = mlp(100)
    close(arrays(model), arrays(reference), rtol=0, atol=0, what="broadcast at construction")
    x, y = data(steps * batch)
    ds = TensorDataset(x, y)
    sampler = dist.DistributedSampler(ds, shuffle=False)
    loader = DataLoader(ds, batch_size=batch // WORLD, sampler=sampler)
    opt, ref_opt = make_opt(ddp.parameters()), make_opt(reference.parameters())
    for i, (xb, yb) in enumerate(loader):
        opt.zero_grad()
        F.mse_loss(ddp(xb), yb).backward()
        opt.step()
        ref_opt.zero_grad()
        F.mse_loss(reference(x[i * batch:(i + 1) * batch]),
                   y[i * batch:(i + 1) * batch]).backward()
        ref_opt.step()
    assert i == steps - 1
    return model, reference, ddp


@check
def equivalence_sgd():
    model, reference, ddp = train_pair(lambda p: optim.SGD(p, lr=0.05))
    assert len(ddp.reducer.buckets) == 1              # 0.4 MB of gradients: one bucket
    close(arrays(model), arrays(reference), what="SGD 20 steps")
    # the model moved: the comparison is not between two initial states
    assert not np.allclose(arrays(model)["0.weight"], arrays(mlp(100))["0.weight"])


@check
def equivalence_momentum_several_buckets():
    # ~5 KB buckets: several all-reduces in flight during backward, rebuilt after step 1
    model, reference, ddp = train_pair(
        lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
        ddp_kwargs=dict(bucket_cap_mb=0.005))
    assert len(ddp.reducer.buckets) >= 2 and ddp.reducer.has_rebuilt_buckets
    close(arrays(model), arrays(reference), what="momentum SGD")


@check
def equivalence_adam_gradient_as_bucket_view():
    model, reference, ddp = train_pair(lambda p: optim.Adam(p, lr=1e-3),
                                       ddp_kwargs=dict(bucket_cap_mb=0.005,
                                                       gradient_as_bucket_view=True))
    close(arrays(model), arrays(reference), rtol=1e-4, atol=1e-5, what="Adam")
    # the gradients are views of the buckets' flat buffers
    flats = [b.flat for b in ddp.reducer.buckets]
    for p in model.parameters():
        assert any(f.data_ptr() <= p.grad.data_ptr() < f.data_ptr() + f.numel() * 4
                   for f in flats)


@check
def gradient_as_bucket_view_with_zero_grad_in_place():
    # zero_grad(set_to_none=False) zeroes the bucket views in place; later backwards
    # accumulate into them
    model = mlp(4, hidden=16)
    ddp = DDP(model, gradient_as_bucket_view=True, bucket_cap_mb=0.01)
    reference = mlp(4, hidden=16)
    opt = optim.SGD(ddp.parameters(), lr=0.1, momentum=0.5)
    ref_opt = optim.SGD(reference.parameters(), lr=0.1, momentum=0.5)
    x, y = data(5 * 16, seed=8)
    for i in range(5):
        s = slice(16 * i, 16 * (i + 1))
        half = slice(16 * i + 8 * RANK, 16 * i + 8 * (RANK + 1))
        opt.zero_grad(set_to_none=False)
        F.mse_loss(ddp(x[half]), y[half]).backward()
        opt.step()
        ref_opt.zero_grad(set_to_none=False)
        F.mse_loss(reference(x[s]), y[s]).backward()
        ref_opt.step()
    close(arrays(model), arrays(reference), what="bucket views zeroed in place")


@check
def init_sync_false_keeps_each_ranks_parameters():
    model = mlp(20 + RANK, hidden=8)
    before = arrays(model)
    DDP(model, init_sync=False)
    close(arrays(model), before, rtol=0, atol=0)


@check
def gradients_are_averaged_during_backward():
    # after loss.backward() (no optimizer), the gradient is the full-batch gradient
    model = mlp(7)
    ddp = DDP(model)
    reference = mlp(7)
    x, y = data(64, seed=3)
    half = slice(RANK * 32, (RANK + 1) * 32)
    F.mse_loss(ddp(x[half]), y[half]).backward()
    F.mse_loss(reference(x), y).backward()
    close(grads(model), grads(reference), what="averaged gradient")


@check
def buffers_broadcast_from_rank_0():
    def net():
        rt.manual_seed(5)
        return nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4))
    rng = np.random.default_rng(11)
    batches = [rng.standard_normal((8, 6)).astype(np.float32) for _ in range(4)]
    mine = [rt.from_numpy(b + RANK) for b in batches]           # different data per rank

    for broadcast_buffers in (True, False):
        model = net()
        bn = model[1]
        with rt.no_grad():                                       # rank-dependent buffers
            bn.running_mean.fill_(float(RANK + 1))
        ddp = DDP(model, broadcast_buffers=broadcast_buffers)
        seen = []
        model.register_forward_pre_hook(
            lambda m, a: seen.append(np.array(m[1].running_mean.numpy(), copy=True)))
        if broadcast_buffers:
            # rank 0's buffers at construction
            np.testing.assert_array_equal(bn.running_mean.numpy(), np.ones(4, np.float32))
        else:
            np.testing.assert_array_equal(bn.running_mean.numpy(),
                                          np.full(4, RANK + 1, np.float32))
        # the oracle: rank 0's running mean after each of its forwards (momentum 0.1)
        r0 = np.ones(4, np.float64)
        oracle0 = []
        mine_rm = np.full(4, RANK + 1.0) if not broadcast_buffers else np.ones(4)
        own = []
        w = model[0].weight.detach().numpy().astype(np.float64)
        b = model[0].bias.detach().numpy().astype(np.float64)
        for k in range(len(batches)):
            h0 = batches[k].astype(np.float64) @ w.T + b
            r0 = 0.9 * r0 + 0.1 * h0.mean(0)
            oracle0.append(r0.copy())
            hr = (batches[k] + RANK).astype(np.float64) @ w.T + b
            own.append(mine_rm.copy())
            mine_rm = 0.9 * mine_rm + 0.1 * hr.mean(0)
        for xb in mine:
            ddp(xb)          # (under no_grad only the first forward would sync, as PyTorch)
        for k in range(1, len(batches)):
            if broadcast_buffers:
                # before forward k every rank holds rank 0's buffers after forward k-1
                np.testing.assert_allclose(seen[k], oracle0[k - 1], rtol=1e-5, atol=1e-6)
            else:
                np.testing.assert_allclose(seen[k], own[k], rtol=1e-5, atol=1e-6)


@check
def no_sync_accumulates_locally_then_averages():
    model = mlp(9, hidden=16)
    ddp = DDP(model)
    reference = mlp(9, hidden=16)
    x, y = data(6 * 8, seed=5)
    micro = [slice(8 * (3 * RANK + k), 8 * (3 * RANK + k + 1)) for k in range(3)]
    with ddp.no_sync():
        for s in micro[:2]:
            F.mse_loss(ddp(x[s]), y[s]).backward()
    # inside no_sync: only this rank's gradients
    local = mlp(9, hidden=16)
    for s in micro[:2]:
        F.mse_loss(local(x[s]), y[s]).backward()
    close(grads(model), grads(local), what="no_sync local accumulation")
    # the first backward after it all-reduces what was accumulated
    F.mse_loss(ddp(x[micro[2]]), y[micro[2]]).backward()
    # oracle: the sum of the 6 micro-batch gradients (3 per rank), averaged over 2 ranks
    for k in range(6):
        s = slice(8 * k, 8 * (k + 1))
        (F.mse_loss(reference(x[s]), y[s]) / WORLD).backward()
    close(grads(model), grads(reference), what="no_sync then sync")


class Branchy(nn.Module):
    """``a`` always, ``b`` only when asked: a layer that some iterations skip."""

    def __init__(self):
        super().__init__()
        rt.manual_seed(3)
        self.a = nn.Linear(5, 3)
        self.b = nn.Linear(3, 3)
        self.c = nn.Linear(3, 2)

    def forward(self, x, use_b):
        h = self.a(x).relu()
        if use_b:
            h = self.b(h)
        return self.c(h)


def branchy_grads(x, y, use_b):
    ref = Branchy()
    F.mse_loss(ref(x, use_b), y).backward()
    return grads(ref)


@check
def find_unused_parameters():
    model = Branchy()
    ddp = DDP(model, find_unused_parameters=True)
    x, y = data(8, seed=1)
    x, y = x[:, :5].contiguous(), y[:, :2].contiguous()
    half = slice(4 * RANK, 4 * (RANK + 1))
    g0 = branchy_grads(x[0:4], y[0:4], True)
    g1 = branchy_grads(x[4:8], y[4:8], False)

    # 1) b skipped on every rank: its .grad stays None, the others are averaged
    F.mse_loss(ddp(x[half], False), y[half]).backward()
    want = branchy_grads(x, y, False)
    assert model.b.weight.grad is None and model.b.bias.grad is None
    close({k: v for k, v in grads(model).items() if not k.startswith("b.")},
          {k: v for k, v in want.items() if not k.startswith("b.")}, what="all skip b")

    # 2) b used by rank 0 only: rank 1 contributes zeros for b
    model.zero_grad()
    F.mse_loss(ddp(x[half], RANK == 0), y[half]).backward()
    got = grads(model)
    for k in ("b.weight", "b.bias"):
        np.testing.assert_allclose(got[k], g0[k] / 2, rtol=1e-5, atol=1e-7, err_msg=k)
    for k in ("a.weight", "a.bias", "c.weight", "c.bias"):
        np.testing.assert_allclose(got[k], (g0[k] + g1[k]) / 2, rtol=1e-5, atol=1e-7,
                                   err_msg=k)
    # 3) and again with b everywhere: no leftover state
    model.zero_grad()
    F.mse_loss(ddp(x[half], True), y[half]).backward()
    close(grads(model), branchy_grads(x, y, True), what="all use b")


@check
def unused_parameter_without_find_unused_raises_at_next_forward():
    model = Branchy()
    ddp = DDP(model)
    x, y = data(8, seed=2)
    x, y = x[:, :5].contiguous(), y[:, :2].contiguous()
    F.mse_loss(ddp(x, False), y).backward()        # returns: b got no gradient
    try:
        ddp(x, False)
    except RuntimeError as e:
        msg = str(e)
    else:
        raise AssertionError("no error at the next forward")
    assert msg.startswith("Expected to have finished reduction in the prior iteration before "
                          "starting a new one."), msg
    assert "find_unused_parameters=True" in msg
    assert f"Parameter indices which did not receive grad for rank {RANK}: 2 3" in msg, msg
    assert "b.weight, b.bias" in msg
    # under no_grad (evaluation) the forward runs
    with rt.no_grad():
        ddp(x, True)


@check
def static_graph_with_an_always_unused_layer():
    model = Branchy()
    ddp = DDP(model, static_graph=True)
    x, y = data(8, seed=4)
    x, y = x[:, :5].contiguous(), y[:, :2].contiguous()
    half = slice(4 * RANK, 4 * (RANK + 1))
    for _ in range(3):
        model.zero_grad()
        F.mse_loss(ddp(x[half], False), y[half]).backward()
        want = branchy_grads(x, y, False)
        close(grads(model), want, what="static graph")


class Three(nn.Module):
    """Three layers; ``events`` records when the gradient of the first hidden layer (the
    input of layer 2) is computed, i.e. when backward has reached layer 2."""

    def __init__(self, events):
        super().__init__()
        rt.manual_seed(1)
        self.l1, self.l2, self.l3 = nn.Linear(20, 32), nn.Linear(32, 32), nn.Linear(32, 4)
        self.events = events

    def forward(self, x):
        h1 = self.l1(x).relu()
        h1.register_hook(lambda g: self.events.append("grad of the first hidden layer"))
        return self.l3(self.l2(h1).relu())


@check
def allreduce_starts_during_backward():
    # buckets of ~400 bytes: the last layer's bucket is all-reduced while backward still has the
    # first layers to go
    events = []
    model = Three(events)
    ddp = DDP(model, bucket_cap_mb=0.0004)
    real = parallel.all_reduce

    def recording(tensor, *args, **kwargs):
        events.append("all_reduce(async)" if kwargs.get("async_op") else "all_reduce")
        return real(tensor, *args, **kwargs)
    parallel.all_reduce = recording
    try:
        for step in range(2):                    # before and after the bucket rebuild
            events.clear()
            x, y = data(8, seed=10 + step)
            F.mse_loss(ddp(x[:, :20].contiguous()), y[:, :4].contiguous()).backward()
            assert events.index("all_reduce(async)") < events.index(
                "grad of the first hidden layer"), events
            assert ddp.reducer.buckets_launched == len(ddp.reducer.buckets) >= 3
            assert events.count("all_reduce(async)") == len(ddp.reducer.buckets) - 1
            assert events[-1] == "all_reduce" and not ddp.reducer.require_finalize
    finally:
        parallel.all_reduce = real


@check
def state_dict_and_module():
    model = mlp(1, hidden=8)
    ddp = DDP(model)
    assert ddp.module is model
    sd = ddp.state_dict()
    assert list(sd) == ["module." + k for k in model.state_dict()]
    plain = mlp(2, hidden=8)
    plain.load_state_dict({k[len("module."):]: v for k, v in sd.items()})
    close(arrays(plain), arrays(model), rtol=0, atol=0)
    assert list(ddp.parameters()) == list(model.parameters())
    x, _ = data(3)
    np.testing.assert_array_equal(ddp(x).detach().numpy(), model(x).detach().numpy())


@check
def construction_errors():
    model = mlp(1, hidden=8)
    for kwargs, err, text in [
            (dict(device_ids=[0, 1]), ValueError,
             "device_ids can only be None or contain a single element."),
            (dict(device_ids=[0]), ValueError,
             "DistributedDataParallel device_ids and output_device arguments only work"),
            (dict(bucket_cap_mb=0), ValueError, "bucket_cap_mb must be a positive number")]:
        try:
            DDP(model, **kwargs)
        except err as e:
            assert str(e).startswith(text), str(e)
        else:
            raise AssertionError(kwargs)
    frozen = mlp(1, hidden=8).requires_grad_(False)
    try:
        DDP(frozen)
    except RuntimeError as e:
        assert "DistributedDataParallel is not needed when a module doesn't have any " \
               "parameter that requires a gradient." == str(e)
    else:
        raise AssertionError("frozen")
    import warnings
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        DDP(model, check_reduction=True)
    assert any(issubclass(x.category, FutureWarning) for x in w)


@check
def different_models_on_the_ranks_raise_on_every_rank():
    try:
        DDP(mlp(1, hidden=8 + RANK))            # shapes differ
    except RuntimeError as e:
        assert "DDP expects same model across all ranks" in str(e), str(e)
    else:
        raise AssertionError("shapes")
    extra = nn.Sequential(*([nn.Linear(3, 3)] * 1 + [nn.Linear(3, 3)] * RANK))
    try:
        DDP(extra)                              # counts differ
    except RuntimeError as e:
        assert f"Rank {RANK} has {2 + 2 * RANK} params, while rank {1 - RANK} has " \
               f"inconsistent {4 - 2 * RANK} params." in str(e), str(e)
    else:
        raise AssertionError("counts")


def main():
    _setup()
    names = sys.argv[1:] or list(CHECKS)
    for name in names:
        try:
            CHECKS[name]()
            print(f"RESULT {RANK} {name} OK", flush=True)
        except Exception:
            why = traceback.format_exc().replace("\n", " | ")
            print(f"RESULT {RANK} {name} FAIL {why}", flush=True)
    dist.barrier()
    dist.destroy_process_group()


# ====================================================================== the pytest side

@pytest.fixture(scope="module")
def outcome():
    from conftest import results, run_mpi
    proc = run_mpi(__file__, n=2, timeout=180)
    return proc, results(proc)


CHECK_NAMES = ["equivalence_sgd", "equivalence_momentum_several_buckets",
               "equivalence_adam_gradient_as_bucket_view",
               "gradient_as_bucket_view_with_zero_grad_in_place",
               "init_sync_false_keeps_each_ranks_parameters",
               "gradients_are_averaged_during_backward", "buffers_broadcast_from_rank_0",
               "no_sync_accumulates_locally_then_averages", "find_unused_parameters",
               "unused_parameter_without_find_unused_raises_at_next_forward",
               "static_graph_with_an_always_unused_layer", "allreduce_starts_during_backward",
               "state_dict_and_module", "construction_errors",
               "different_models_on_the_ranks_raise_on_every_rank"]


def test_every_check_is_listed():
    assert sorted(CHECK_NAMES) == sorted(CHECKS)


@pytest.mark.parametrize("name", CHECK_NAMES)
def test_ddp(outcome, name):
    proc, res = outcome
    for rank in range(2):
        status, detail = res.get((rank, name), (None, ""))
        assert status == "OK", (f"rank {rank}: {status} {detail.replace(' | ', chr(10))}\n"
                                f"stderr: {proc.stderr[-3000:]}")
    assert proc.returncode == 0, proc.stderr[-3000:]


if __name__ == "__main__":
    main()
