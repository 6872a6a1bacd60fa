"""The caching memory pool: reuse, statistics, bounded cache, thread safety."""
import threading

import numpy as np
import pytest

import rt_tensor as rtt
from rt_tensor import memory


def rss_pages():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1])


def test_training_like_loop_hits_cache_and_memory_stays_flat():
    shapes = [(64, 128), (128,), (32, 64), (64, 10), (10,), (32, 10)]
    # warm up: the first steps go to the OS
    for _ in range(10):
        for s in shapes:
            rtt.tensor(np.ones(s, np.float32)) + 1
    memory.reset_peak_stats()
    rss_before = rss_pages()
    for step in range(100_000 // len(shapes)):
        held = [rtt.empty(s) for s in shapes]      # allocate ...
        del held                                    # ... and free
    stats = memory.stats()
    total = stats["hits"] + stats["misses"]
    assert total >= 99_000
    assert stats["hits"] / total > 0.99
    assert rss_pages() - rss_before < 256          # under 1 MiB of growth


def test_stats_track_bytes_and_peak():
    memory.empty_cache()
    memory.reset_peak_stats()
    base = memory.stats()["in_use_bytes"]
    t = rtt.empty(1000, dtype=rtt.float64)          # 8000 bytes -> a 8192-byte class
    assert memory.stats()["in_use_bytes"] - base == memory._size_class_bytes(8000) == 8192
    del t
    s = memory.stats()
    assert s["in_use_bytes"] == base and s["cached_bytes"] >= 8192 and s["peak_bytes"] >= base + 8192
    memory.empty_cache()
    assert memory.stats()["cached_bytes"] == 0


def test_size_classes_bound_slack():
    for n in [1, 63, 64, 65, 100, 1000, 4097, 10**6, 123456789]:
        size = memory._size_class_bytes(n)
        assert size >= n and size <= max(64, n * 1.25 + 1)


def test_cache_limit_returns_blocks_to_the_os():
    old = memory.get_cache_limit()
    try:
        memory.empty_cache()
        memory.set_cache_limit(1 << 20)
        big = [rtt.empty(300_000) for _ in range(5)]   # 5 x 1.2 MB
        before = memory.stats()["os_frees"]
        del big
        s = memory.stats()
        assert s["cached_bytes"] <= 1 << 20 and s["os_frees"] > before
    finally:
        memory.set_cache_limit(old)
    with pytest.raises(ValueError):
        memory.set_cache_limit(-1)


def test_pool_is_thread_safe():
    errors = []

    def work():
        try:
            for _ in range(3000):
                a = rtt.empty(100)
                a.fill_(1.0)
                assert a.numpy().sum() == 100
        except Exception as exc:   # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors


def test_views_keep_storage_alive():
    t = rtt.tensor(np.arange(10, dtype=np.float32))
    v = t[2:5]
    del t
    assert v.tolist() == [2.0, 3.0, 4.0]


def test_large_blocks_are_staggered_across_cache_sets():
    # blocks of 16 MiB and more lie in 2 MiB-aligned regions advised as huge pages; each block
    # starts a varying multiple of 64 bytes into its region, so that kernels streaming several
    # of them (an optimizer's parameter, gradient and moments) do not map them to the same
    # cache sets
    blocks = [rtt.empty(1 << 22, dtype=rtt.float32) for _ in range(6)]     # 16 MiB each
    offsets = [b.data_ptr() % 4096 for b in blocks]
    assert all(b.data_ptr() % 64 == 0 for b in blocks)
    assert len(set(offsets)) == len(offsets)
    bigger = rtt.empty(5_000_000, dtype=rtt.float64)          # 40 MB
    assert bigger.data_ptr() % 64 == 0
    bigger.fill_(2.0)
    assert bigger.sum().item() == 10_000_000.0
    del blocks, bigger
    rtt.memory.empty_cache()                                  # frees them through the region
