"""Op table lines for the factories that take a tensor (see tests/opinfo.py); the other
factories and the random functions have dedicated tests in test_creation.py/test_random.py."""
import numpy as np

from opinfo import OpInfo, ALL

OPS = [
    OpInfo("zeros_like", np.zeros_like, dtypes=ALL, method=False),
    OpInfo("ones_like", np.ones_like, dtypes=ALL, method=False),
    OpInfo("full_like", lambda a, fill_value: np.full_like(a, fill_value), dtypes=ALL,
           method=False, kwargs=[{"fill_value": 1}, {"fill_value": True}]),
]
