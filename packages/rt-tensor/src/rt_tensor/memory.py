"""The caching memory pool's public face (``rt_tensor.memory``).

>>> import rt_tensor
>>> stats = rt_tensor.memory.stats(); sorted(stats)[:3]
['cache_limit', 'cached_bytes', 'hits']
"""
from rt_tensor._memory import (stats, empty_cache, reset_peak_stats, set_cache_limit,
                               get_cache_limit, _size_class_bytes)

__all__ = ["stats", "empty_cache", "reset_peak_stats", "set_cache_limit", "get_cache_limit"]
