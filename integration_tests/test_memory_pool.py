"""The caching memory pool under a training-like loop: 100,000 allocate/free cycles hit
the cache (> 99%) and the process's resident memory stays flat."""
import gc
import os

import numpy as np

import rt_tensor as rtt

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def _step(params, x):
    """One 'training step': the temporaries a forward/backward pass makes and drops."""
    h = x.clone()                                 # activations
    g = [p.clone() for p in params]               # gradients, one per parameter
    for p, gi in zip(params, g):
        p.copy_(gi)                               # update in place
    t = h.t().contiguous()                        # a layout change
    return float(t.numel() + len(g))


def test_training_like_loop_hits_the_cache_and_keeps_rss_flat():
    params = [rtt.from_numpy(np.ones(shape, dtype=np.float32))
              for shape in [(128, 64), (64,), (64, 10), (10,)]]
    x = rtt.from_numpy(np.ones((32, 128), dtype=np.float32))
    # each step allocates 6 blocks; warm up, then run 100,000 allocate/free cycles in all
    cycles_per_step = 6
    steps = 100_000 // cycles_per_step + 1
    for _ in range(200):
        _step(params, x)
    gc.collect()
    before = rtt.memory.stats()
    rss0 = rss_bytes()
    for i in range(steps):
        _step(params, x)
        if i == steps // 2:
            rss_mid = rss_bytes()
    gc.collect()
    after = rtt.memory.stats()
    rss1 = rss_bytes()
    hits = after["hits"] - before["hits"]
    misses = after["misses"] - before["misses"]
    assert hits + misses >= 100_000, (hits, misses)
    assert hits / (hits + misses) > 0.99, f"hit rate {hits / (hits + misses):.4f}"
    # flat: growth of at most 2 MiB over the whole loop and none in its second half
    assert rss1 - rss0 < 2 << 20, f"RSS grew by {(rss1 - rss0) / 2**20:.2f} MiB"
    assert rss1 - rss_mid < 1 << 20, f"RSS grew by {(rss1 - rss_mid) / 2**20:.2f} MiB in the 2nd half"
    assert after["in_use_bytes"] <= before["in_use_bytes"]
    assert after["peak_bytes"] >= after["in_use_bytes"]


def test_stats_track_in_use_and_cached_bytes():
    rtt.memory.empty_cache()
    base = rtt.memory.stats()
    t = rtt.from_numpy(np.zeros(1 << 20, dtype=np.uint8)).clone()    # 1 MiB from the pool
    s1 = rtt.memory.stats()
    assert s1["in_use_bytes"] - base["in_use_bytes"] >= 1 << 20
    assert s1["peak_bytes"] >= s1["in_use_bytes"]
    del t
    gc.collect()
    s2 = rtt.memory.stats()
    assert s2["in_use_bytes"] == base["in_use_bytes"]
    assert s2["cached_bytes"] - base["cached_bytes"] >= 1 << 20       # kept for reuse
    u = rtt.from_numpy(np.zeros(1 << 20, dtype=np.uint8)).clone()
    s3 = rtt.memory.stats()
    assert s3["hits"] == s2["hits"] + 1                                # ... and reused
    del u
    rtt.memory.empty_cache()
    s4 = rtt.memory.stats()
    assert s4["cached_bytes"] == 0


def test_cache_limit_bounds_cached_bytes():
    old = rtt.memory.get_cache_limit()
    try:
        rtt.memory.empty_cache()
        rtt.memory.set_cache_limit(4 << 20)
        blocks = [rtt.from_numpy(np.zeros(1 << 20, dtype=np.uint8)).clone() for _ in range(16)]
        del blocks
        gc.collect()
        assert rtt.memory.stats()["cached_bytes"] <= 4 << 20
    finally:
        rtt.memory.set_cache_limit(old)
        rtt.memory.empty_cache()
