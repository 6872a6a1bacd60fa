"""Op table lines for the shape ops of _shape_ops.pyx (see tests/opinfo.py). Joins (cat,
stack, ...) and ops with special inputs are tested in test_shape_ops.py."""
import numpy as np

from opinfo import OpInfo, ALL

NOT_0D = ("contiguous", "transposed", "sliced", "broadcast", "empty")

OPS = [
    OpInfo("flip", lambda a, dims: np.flip(a, dims), dtypes=ALL, layouts=NOT_0D,
           kwargs=[{"dims": (0,)}, {"dims": (0, 1)}, {"dims": (-1,)}]),
    OpInfo("fliplr", np.fliplr, dtypes=ALL, layouts=NOT_0D),
    OpInfo("flipud", np.flipud, dtypes=ALL, layouts=NOT_0D),
    OpInfo("roll", lambda a, shifts, dims=None: np.roll(a, shifts, dims), dtypes=ALL,
           layouts=NOT_0D, kwargs=[{"shifts": 1, "dims": 0}, {"shifts": (2, -1), "dims": (0, 1)},
                                   {"shifts": 5}]),
    OpInfo("tril", lambda a, diagonal=0: np.tril(a, diagonal), dtypes=ALL, layouts=NOT_0D,
           kwargs=[{}, {"diagonal": 1}, {"diagonal": -2}], inplace=True, out=True),
    OpInfo("triu", lambda a, diagonal=0: np.triu(a, diagonal), dtypes=ALL, layouts=NOT_0D,
           kwargs=[{}, {"diagonal": 2}, {"diagonal": -1}], inplace=True, out=True),
    OpInfo("rot90", lambda a, k=1, dims=(0, 1): np.rot90(a, k, dims), dtypes=ALL, layouts=NOT_0D,
           kwargs=[{}, {"k": 2}, {"k": -1, "dims": (1, 0)}]),
    OpInfo("tile", lambda a, dims: np.tile(a, dims), dtypes=ALL,
           kwargs=[{"dims": (2,)}, {"dims": (2, 1, 2)}]),
    OpInfo("repeat_interleave", lambda a, repeats, dim=None: np.repeat(a, repeats, dim),
           dtypes=ALL, layouts=NOT_0D, kwargs=[{"repeats": 2}, {"repeats": 3, "dim": 1}]),
    OpInfo("diag", lambda a, diagonal=0: np.diag(a, diagonal), dtypes=ALL, layouts=NOT_0D,
           kwargs=[{}, {"diagonal": 1}, {"diagonal": -1}]),
    OpInfo("diagflat", lambda a, offset=0: np.diagflat(a, offset), dtypes=ALL,
           kwargs=[{}, {"offset": 1}]),
    OpInfo("atleast_3d", np.atleast_3d, dtypes=ALL, method=False),
]
