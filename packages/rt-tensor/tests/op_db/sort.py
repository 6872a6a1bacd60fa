"""Op table lines for _sort.pyx (see tests/opinfo.py); NaN order, ties, topk, unique and
searchsorted are tested in test_sort.py."""
import numpy as np

from opinfo import OpInfo, BOOL, REAL

NOT_0D = ("contiguous", "transposed", "sliced", "broadcast", "empty")

OPS = [
    OpInfo("sort", lambda a, dim=-1: (np.sort(a, dim, kind="stable"),
                                      np.argsort(a, dim, kind="stable")),
           dtypes=BOOL + REAL, layouts=NOT_0D, kwargs=[{}, {"dim": 0}]),
    OpInfo("argsort", lambda a, dim=-1: np.argsort(a, dim, kind="stable"), dtypes=BOOL + REAL,
           layouts=NOT_0D, result="int64", kwargs=[{}, {"dim": 0}]),
    OpInfo("msort", lambda a: np.sort(a, 0), dtypes=BOOL + REAL, layouts=NOT_0D),
]
