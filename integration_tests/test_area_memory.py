"""Compatibility area "memory management", with a real model (test_memory_pool.py covers
the pool's hit rate and RSS under synthetic allocate/free cycles): the bytes in use stay
flat across training steps of a CNN with BatchNorm and Adam and return to the baseline when
the model, its optimizer and its gradients are dropped; parameters are updated in place
(their storages never move); views share their base's storage (writes and the version
counter are seen through every alias, ``clone`` and ``contiguous`` of a non-contiguous view
do not share); a tensor made ``from_numpy`` keeps the array alive; ``empty_cache`` hands
cached blocks back and ``reset_peak_stats`` restarts the peak.

Example of the contract under test::

    >>> before = rt_tensor.memory.stats()["in_use_bytes"]
    >>> t = rt.zeros(1024); del t
    >>> rt_tensor.memory.stats()["in_use_bytes"] == before
    True
"""
import gc
import weakref

import numpy as np

import rt_autograd as rt
import rt_nn as nn
import rt_nn.functional as F
import rt_optim
import rt_tensor as rtt


def _in_use():
    gc.collect()
    return rtt.memory.stats()["in_use_bytes"]


def _cnn():
    return nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(6, 8, 3), nn.ReLU(), nn.Flatten(),
                         nn.Dropout(0.2), nn.Linear(8 * 2 * 2, 10))


def _step(model, opt, x, y):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()


def test_bytes_in_use_are_flat_across_training_steps_and_released_after():
    baseline = _in_use()
    rt.manual_seed(0)
    model = _cnn()
    opt = rt_optim.Adam(model.parameters(), lr=1e-2)
    x, y = rt.randn(32, 1, 8, 8), rt.randint(0, 10, (32,))
    losses = [_step(model, opt, x, y) for _ in range(3)]     # grads and Adam state appear
    in_use = [_in_use()]
    for _ in range(30):
        losses.append(_step(model, opt, x, y))
        in_use.append(_in_use())
    assert len(set(in_use)) == 1, f"bytes in use moved across steps: {sorted(set(in_use))}"
    # what stays in use between steps: parameters, buffers, gradients, Adam's two moments
    n_params = sum(p.numel() for p in model.parameters())
    assert in_use[0] - baseline >= 4 * 4 * n_params
    assert losses[-1] < losses[0]                          # it did train
    model_ref = weakref.ref(model)
    del model, opt, x, y
    assert model_ref() is None                             # no reference cycle keeps it
    assert _in_use() == baseline


def test_parameters_are_updated_in_place():
    rt.manual_seed(1)
    model = _cnn()
    opt = rt_optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = rt.randn(8, 1, 8, 8), rt.randint(0, 10, (8,))
    ptrs = [p.data_ptr() for p in model.parameters()]
    stat_ptr = model[1].running_mean.data_ptr()
    versions = [p._version for p in model.parameters()]
    before = [p.detach().clone() for p in model.parameters()]
    for _ in range(3):
        _step(model, opt, x, y)
    assert [p.data_ptr() for p in model.parameters()] == ptrs
    assert all(p._version > v for p, v in zip(model.parameters(), versions))
    assert any(not rt.equal(p, b) for p, b in zip(model.parameters(), before))
    # BatchNorm's running statistics are updated in place too
    assert model[1].running_mean.data_ptr() == stat_ptr
    assert model[1].num_batches_tracked.item() == 3


def test_views_share_storage_and_the_version_counter():
    base = rt.arange(24, dtype=rt.float32).reshape(4, 6)
    views = {"t": base.t(), "slice": base[1:3, ::2], "view": base.view(2, 12),
             "narrow": base.narrow(1, 2, 3), "diagonal": base.diagonal(),
             "expand": base[0:1].expand(5, 6), "select": base[2], "unsqueeze": base.unsqueeze(0),
             "as_strided": base.as_strided((3, 3), (6, 1), 1)}
    for name, v in views.items():
        assert v.untyped_storage().data_ptr() == base.untyped_storage().data_ptr(), name
    v = views["slice"]
    v0 = base._version
    v.mul_(-1)                                            # a write through the view ...
    assert base._version == v._version == v0 + 1          # ... bumps the shared counter
    assert base[1, 0].item() == -6.0 and base[2, 4].item() == -16.0    # and is seen in base
    base[0, 5] = 100.0
    assert views["t"][5, 0].item() == 100.0 and views["view"][0, 5].item() == 100.0
    flat = base.numpy().ravel()                           # as_strided: element 1 + 6 i + j
    np.testing.assert_array_equal(views["as_strided"].numpy(),
                                  [[flat[1 + 6 * i + j] for j in range(3)] for i in range(3)])
    # copies do not alias
    c = views["t"].contiguous()
    cl = base.clone()
    assert c.data_ptr() != base.data_ptr() and cl.data_ptr() != base.data_ptr()
    base.zero_()
    assert c.abs().sum().item() > 0 and cl.abs().sum().item() > 0


def test_from_numpy_keeps_the_array_alive_and_a_view_keeps_its_base_alive():
    arr = np.arange(10.0)
    arr_ref = weakref.ref(arr)
    t = rt.from_numpy(arr)
    del arr
    gc.collect()
    assert arr_ref() is not None                          # the tensor's storage owns it
    assert t.tolist() == [float(i) for i in range(10)]
    del t
    gc.collect()
    assert arr_ref() is None                              # ... and nothing else does
    base_before = _in_use()
    big = rt.zeros(1 << 18)                               # 1 MiB from the pool
    tail = big[-4:]
    del big
    assert _in_use() - base_before >= 1 << 20             # the view holds the whole block
    tail.fill_(3.0)
    assert tail.tolist() == [3.0] * 4
    del tail
    assert _in_use() == base_before


def test_empty_cache_and_peak_stats():
    rtt.memory.empty_cache()
    rtt.memory.reset_peak_stats()
    start = rtt.memory.stats()
    assert start["hits"] == start["misses"] == 0 and start["cached_bytes"] == 0
    blocks = [rt.empty(1 << 16) for _ in range(4)]        # 4 x 256 KiB
    s = rtt.memory.stats()
    assert s["misses"] == 4 and s["peak_bytes"] - start["in_use_bytes"] >= 4 << 18
    del blocks
    gc.collect()
    assert rtt.memory.stats()["cached_bytes"] >= 4 << 18
    again = rt.empty(1 << 16)                             # served from the cache
    assert rtt.memory.stats()["hits"] == 1
    del again
    rtt.memory.empty_cache()
    s = rtt.memory.stats()
    assert s["cached_bytes"] == 0
    rtt.memory.reset_peak_stats()
    assert rtt.memory.stats()["peak_bytes"] == s["in_use_bytes"]
