"""rt_distributed: ``torch.distributed`` for rt, over MPI.

Process groups and collectives (``init_process_group``, ``all_reduce``, ...) mirror
``torch.distributed``; ``DistributedDataParallel`` mirrors ``torch.nn.parallel``;
``DistributedSampler`` mirrors ``torch.utils.data.distributed``. Launch with ``rt-run`` or
``python -m rt_distributed.run -n N script.py``. Importing the package does not start MPI:
``init_process_group`` does.
"""
from ._collectives import (ReduceOp, Work, all_gather, all_gather_into_tensor, all_reduce,
                           broadcast, gather, irecv, isend, recv, reduce, reduce_scatter,
                           reduce_scatter_tensor, scatter, send)
from ._process_group import (Backend, barrier, destroy_process_group, get_backend, get_rank,
                             get_world_size, init_process_group, is_available,
                             is_initialized, is_mpi_available)
from .data import DistributedSampler
from .parallel import DistributedDataParallel

__version__ = "0.1.0"

__all__ = ["Backend", "DistributedDataParallel", "DistributedSampler", "ReduceOp", "Work",
           "all_gather", "all_gather_into_tensor", "all_reduce", "barrier", "broadcast",
           "destroy_process_group", "gather", "get_backend", "get_rank", "get_world_size",
           "init_process_group", "irecv", "is_available", "is_initialized",
           "is_mpi_available", "isend", "recv", "reduce", "reduce_scatter",
           "reduce_scatter_tensor", "scatter", "send"]

