"""Op table lines for linear algebra (see tests/opinfo.py). Only the products whose operands
fit the table's (3, 4)-shaped samples are here; matmul/mm/bmm/mv/dot/einsum/addmm and the
rest have dedicated tests in test_linalg.py."""
import numpy as np

from opinfo import OpInfo, NUMERIC

OPS = [
    # (3, 4) x (3, 4) -> (3, 3): sum over the last dims; 0-d operands multiply
    OpInfo("inner", np.inner, arity=2, dtypes=NUMERIC,
           layouts=("contiguous", "transposed", "sliced", "zero_dim", "empty"),
           tol={"float16": (2e-3, 2e-3), "bfloat16": (1.6e-2, 2e-2), "float32": (1e-5, 1e-5),
                "complex64": (1e-5, 1e-5)}),
    OpInfo("tensordot", lambda a, b, dims: np.tensordot(a, b, axes=dims), arity=2,
           dtypes=NUMERIC, method=False, kwargs=[{"dims": ([1], [1])}, {"dims": ([0, 1], [0, 1])}],
           layouts=("contiguous", "transposed", "sliced", "empty"),
           tol={"float16": (2e-3, 2e-3), "bfloat16": (1.6e-2, 3e-2), "float32": (1e-5, 1e-5),
                "complex64": (1e-5, 1e-5)}),
]
