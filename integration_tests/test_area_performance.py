"""Compatibility area "performance characteristics", checked as properties, never as times:

* thread-count invariance where rt promises it (docs/architecture.md, the kernels'
  docstrings): elementwise kernels, accumulating reductions (fixed chunking), the random
  generator (counter based), dropout masks, and the forward kernels of conv/pool/softmax/
  normalisation give the same bits with 1 and 2 threads (test_threads.py covers plain
  elementwise ops on flat arrays; this covers what a model runs). A whole training run is
  bit-identical when repeated with the same thread count, and within float32 rounding
  between 1 and 2 threads (the conv weight gradient's partial sums depend on the thread count
  by design, as its module docstring says, and split GEMMs may round differently);
* in-place arithmetic and out= allocate nothing from the pool (fills: one 0-d scalar);
  views are O(1): no allocation and no copy, whatever the size; broadcasting operands are
  not materialised (the peak grows by the result only); ``contiguous()`` of a contiguous
  tensor is the tensor itself;
* a training step (forward, backward, Adam) requests nothing new from the OS after its
  warm-up, and the fused optimizer step requests no block at all after its first step.

Example of the contract under test::

    >>> a = rt.randn(1000); before = rt_tensor.memory.stats()
    >>> a.mul_(2); rt_tensor.memory.stats()["hits"] == before["hits"]
    True
"""
import gc

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
import rt_nn.functional as F
import rt_optim
import rt_tensor as rtt


def _requests():
    """Blocks asked of the pool so far (served from the cache or from the OS)."""
    s = rtt.memory.stats()
    return s["hits"] + s["misses"]


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return {"img": rt.from_numpy(rng.standard_normal((16, 8, 24, 24)).astype(np.float32)),
            "w": rt.from_numpy(rng.standard_normal((12, 8, 3, 3)).astype(np.float32)),
            "mat": rt.from_numpy(rng.standard_normal((300, 700)).astype(np.float32))}


# Forward kernels a model runs; each above the parallel grain so 2 threads really split.
PROMISED = {
    "conv2d": lambda d: F.conv2d(d["img"], d["w"], padding=1),
    "max_pool2d": lambda d: F.max_pool2d(d["img"], 2),
    "avg_pool2d": lambda d: F.avg_pool2d(d["img"], 3, 1, 1),
    "batch_norm_train": lambda d: F.batch_norm(d["img"], None, None, training=True),
    "softmax": lambda d: F.softmax(d["mat"], dim=1),
    "log_softmax_dim0": lambda d: F.log_softmax(d["mat"], dim=0),
    "layer_norm": lambda d: F.layer_norm(d["mat"], (700,)),
    "gelu": lambda d: F.gelu(d["mat"]),
    "sum_all": lambda d: d["mat"].sum(),
    "mean_dim0": lambda d: d["mat"].mean(0),
    "var_dim1": lambda d: d["mat"].var(1),
    "norm": lambda d: d["mat"].norm(),
    "randn": lambda d: (rt.manual_seed(5), rt.randn(500_000))[1],
    "dropout": lambda d: (rt.manual_seed(5), F.dropout(d["mat"], 0.3))[1],
}


@pytest.mark.parametrize("name", list(PROMISED))
def test_forward_kernels_give_the_same_bits_for_1_and_2_threads(name, restore_threads):
    d = _data()
    out = []
    for threads in (1, 2):
        rtt.set_num_threads(threads)
        out.append(PROMISED[name](d).numpy().copy())
    np.testing.assert_array_equal(out[0], out[1])


def _train(threads, steps=5):
    """A few Adam steps of a small CNN. Its matrix products (16 x 2304 x 10) stay below the
    size at which GEMM is split over threads: a split GEMM is planned for the threads the
    pool has at that moment (one while it backs off under contention), so its last bits
    could depend on the machine's load; the convolution's chunking depends only on the
    configured thread count."""
    rtt.set_num_threads(threads)
    rt.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Dropout(0.1), nn.Flatten(),
                          nn.Linear(16 * 12 * 12, 10))
    opt = rt_optim.Adam(model.parameters(), lr=1e-3)
    d = _data(1)
    y = rt.from_numpy(np.random.default_rng(2).integers(0, 10, 16))
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(d["img"]), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [p.detach().numpy().copy() for p in model.parameters()]


def test_training_is_reproducible_for_a_given_thread_count(restore_threads):
    for threads in (1, 2):
        a, b = _train(threads), _train(threads)
        assert a[0] == b[0]
        for p, q in zip(a[1], b[1]):
            np.testing.assert_array_equal(p, q)


def test_training_with_1_and_2_threads_agrees_to_float32_rounding(restore_threads):
    (l1, p1), (l2, p2) = _train(1), _train(2)
    np.testing.assert_allclose(l1, l2, rtol=1e-6)
    for p, q in zip(p1, p2):
        # Adam moves each weight by ~lr per step whatever the gradient's last bits; a
        # gradient near zero may flip the sign of one update, hence atol = a few lr
        np.testing.assert_allclose(p, q, rtol=1e-4, atol=5e-3)


def test_in_place_ops_and_out_allocate_nothing():
    a, b = rt.randn(100_000), rt.randn(100_000)
    out = rt.empty(100_000)
    gc.collect()
    before = _requests()
    ptr = a.data_ptr()
    a.add_(b)
    a.mul_(0.5)
    a.clamp_(-1, 1)
    a.exp_()
    a += 1
    a *= b
    a.copy_(b)
    rt.add(a, b, out=out)
    rt.mul(a, b, out=out)
    assert _requests() == before
    assert a.data_ptr() == ptr


def test_fills_allocate_nothing_the_size_of_the_tensor():
    # fill_/zero_/scalar setitem hold the scalar in a 0-d tensor (one 64-byte block)
    a = rt.randn(100_000)
    fills = [lambda: a.zero_(), lambda: a.fill_(2.0),
             lambda: a.__setitem__(slice(None, None, 2), 3.0)]
    for fill in fills:
        gc.collect()
        rtt.memory.reset_peak_stats()
        base = rtt.memory.stats()["in_use_bytes"]
        fill()
        assert rtt.memory.stats()["peak_bytes"] - base <= 64
    assert a[:4].tolist() == [3.0, 2.0, 3.0, 2.0]


@pytest.mark.parametrize("n", [1_000, 4_000_000])
def test_views_are_constant_time_no_allocation_no_copy(n):
    a = rt.zeros(n)
    gc.collect()
    before = _requests()
    m = a.view(n // 1000, 1000)
    views = [m.t(), m[1:, ::3], m.permute(1, 0), m.unsqueeze(0), m.reshape(-1, 500),
             m.narrow(1, 10, 20), m.diagonal(), m[:1].expand(7, 1000), a.as_strided((10,), (3,)),
             m.T, a.squeeze(), m.unflatten(1, (10, 100)), m.flatten(), m.contiguous()]
    assert _requests() == before                          # no block, whatever n is
    assert all(v.untyped_storage().data_ptr() == a.data_ptr() for v in views)
    assert m.contiguous() is m


def test_broadcast_operands_are_not_materialised():
    x = rt.randn(1000, 1000)
    row = rt.randn(1, 1000)
    gc.collect()
    rtt.memory.reset_peak_stats()
    base = rtt.memory.stats()["in_use_bytes"]
    y = x + row                                           # row is read with stride 0
    z = x * row.expand(1000, 1000)
    peak = rtt.memory.stats()["peak_bytes"] - base
    result_bytes = 4 * 1000 * 1000
    assert peak < 2 * result_bytes + (1 << 20)            # the two results, nothing more
    np.testing.assert_allclose(y.numpy(), x.numpy() + row.numpy(), rtol=1e-6)
    np.testing.assert_allclose(z.numpy(), x.numpy() * row.numpy(), rtol=1e-6)


def test_training_step_requests_nothing_from_the_os_after_warm_up():
    rt.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 3 * 3, 32), nn.GELU(), nn.LayerNorm(32),
                          nn.Linear(32, 10))
    opt = rt_optim.Adam(model.parameters(), lr=1e-3)
    x, y = rt.randn(16, 1, 8, 8), rt.randint(0, 10, (16,))

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    gc.collect()
    s0 = rtt.memory.stats()
    for _ in range(20):
        step()
    gc.collect()
    s1 = rtt.memory.stats()
    assert s1["misses"] == s0["misses"], "a warmed-up step went to the OS"
    assert s1["hits"] > s0["hits"]                        # its temporaries come from the cache
    assert s1["in_use_bytes"] == s0["in_use_bytes"]
    assert s1["cached_bytes"] == s0["cached_bytes"]


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Lion", "LAMB"])
def test_fused_optimizer_step_requests_no_block_after_its_first(name):
    params = [rt.randn(300, 200, requires_grad=True), rt.randn(200, requires_grad=True)]
    for p in params:
        p.grad = rt.randn(*p.shape)
    kwargs = {"SGD": dict(lr=0.1, momentum=0.9)}.get(name, {})
    opt = getattr(rt_optim, name)(params, **kwargs)
    opt.step()                                            # creates the state
    gc.collect()
    before = _requests()
    for _ in range(5):
        opt.step()
    assert _requests() == before
