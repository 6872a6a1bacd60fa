"""rt_distributed: ``torch.distributed`` for rt, over MPI.

Process groups and collectives (``init_process_group``, ``all_reduce``, ...) mirror
``torch.distributed``; ``DistributedDataParallel`` mirrors ``torch.nn.parallel``;
``DistributedSampler`` mirrors ``torch.utils.data.distributed``. Launch with ``rt-run`` or
``python -m rt_distributed.run -n N script.py``.
"""
import importlib

__version__ = "0.1.0"

_PROCESS_GROUP = ["init_process_group", "is_initialized", "is_available", "is_mpi_available",
                  "get_rank", "get_world_size", "get_backend", "barrier",
                  "destroy_process_group", "Backend"]
_COLLECTIVES = ["ReduceOp", "Work", "all_reduce", "broadcast", "all_gather",
                "all_gather_into_tensor", "reduce_scatter", "reduce_scatter_tensor", "gather",
                "scatter", "reduce", "send", "recv", "isend", "irecv"]

# transitional: names are resolved lazily until every module has landed
_WHERE = {**{n: "._process_group" for n in _PROCESS_GROUP},
          **{n: "._collectives" for n in _COLLECTIVES},
          "DistributedDataParallel": ".parallel",
          "DistributedSampler": ".data"}

__all__ = sorted(_WHERE)


def __getattr__(name):
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
