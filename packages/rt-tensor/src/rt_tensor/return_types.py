"""Named result tuples of ops that return several tensors (``torch.return_types``).

Each is a namedtuple that, like PyTorch's structseq, can also be built from one sequence:
``return_types.max((values, indices))``. Picklable (they live in this importable module).

>>> import rt_tensor
>>> r = rt_tensor.tensor([[1, 5], [7, 2]]).max(dim=1)
>>> r.values.tolist(), r.indices.tolist()
([5, 7], [1, 0])
"""
import collections

__all__ = ["sort", "topk", "kthvalue", "max", "min", "median", "nanmedian", "mode", "cummax",
           "cummin", "aminmax"]


def _structseq(name, fields):
    base = collections.namedtuple(name, fields)

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs:
            args = tuple(args[0])
            if len(args) != len(fields):
                raise TypeError(f"{name}() takes a {len(fields)}-sequence ({len(args)}-sequence given)")
        return base.__new__(cls, *args, **kwargs)

    def __repr__(self):
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"rt_tensor.return_types.{name}(\n{body})"

    def __reduce__(self):
        return (type(self), (tuple(self),))

    return type(name, (base,), {"__new__": __new__, "__repr__": __repr__, "__reduce__": __reduce__,
                                "__slots__": (), "__module__": __name__, "__qualname__": name})


sort = _structseq("sort", ["values", "indices"])
topk = _structseq("topk", ["values", "indices"])
kthvalue = _structseq("kthvalue", ["values", "indices"])
max = _structseq("max", ["values", "indices"])
min = _structseq("min", ["values", "indices"])
median = _structseq("median", ["values", "indices"])
nanmedian = _structseq("nanmedian", ["values", "indices"])
mode = _structseq("mode", ["values", "indices"])
cummax = _structseq("cummax", ["values", "indices"])
cummin = _structseq("cummin", ["values", "indices"])
aminmax = _structseq("aminmax", ["min", "max"])
