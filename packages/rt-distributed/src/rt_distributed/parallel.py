"""``torch.nn.parallel.DistributedDataParallel`` for rt: data-parallel training over the
processes of the default process group.

How it works (as PyTorch's reducer, in Python over rt's autograd):

* At construction, every rank checks that all ranks hold the same parameters (count, shapes,
  dtypes; a ``RuntimeError`` on every rank otherwise, instead of mismatched collectives),
  then parameters and buffers are broadcast from rank 0, coalesced into one flat buffer per
  dtype.
* Parameters that require grad are grouped into buckets of about ``bucket_cap_mb`` MiB in
  reverse parameter order (the order in which backward produces their gradients), per dtype;
  the first bucket is capped at 1 MiB when ``bucket_cap_mb`` is left at its default, so that
  the first all-reduce starts early. After the first iteration the buckets are rebuilt in the
  order in which the gradients actually arrived (rank 0's order, broadcast), as PyTorch does.
* Every parameter has a post-accumulate-grad hook
  (``Tensor.register_post_accumulate_grad_hook``). During backward, when a parameter's
  gradient has been accumulated, the hook copies it, multiplied by ``1 / world_size``, into
  its slot of the bucket's flat buffer; when a bucket is complete its non-blocking
  ``all_reduce`` (``Iallreduce``) starts at once, while backward goes on computing the
  gradients of earlier layers (Open MPI progresses a non-blocking collective inside MPI
  calls: the later hooks test the oldest one in flight). Buckets start in order, so every
  rank issues the same collectives in the same order. The hook of the last gradient reduces
  the last bucket (a blocking all-reduce, as it is waited for at once), waits for the others
  and copies the averaged gradients back into ``.grad``: ``loss.backward()`` returns with
  the gradients averaged over all ranks.
"""
import contextlib
import warnings
import weakref
import zlib

import rt_autograd as rt
from rt_autograd.autograd.graph import AccumulateGrad
from rt_nn import Module

from ._collectives import ReduceOp, all_gather_into_tensor, all_reduce, broadcast
from ._process_group import _check_group

__all__ = ["DistributedDataParallel"]

_MB_TO_BYTES = 1024 * 1024
_DEFAULT_BUCKET_CAP_MB = 25
_DEFAULT_FIRST_BUCKET_BYTES = 1024 * 1024
_BROADCAST_BUCKET_BYTES = 250 * 1024 * 1024


# ------------------------------------------------------------------------------- helpers

def _find_tensors(obj):
    """The rt tensors in a forward output (a tensor, or lists/tuples/dicts of them)."""
    if isinstance(obj, rt.Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for o in obj for t in _find_tensors(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in _find_tensors(o)]
    return []


def _assign_buckets(params, limits):
    """PyTorch's ``_compute_bucket_assignment_by_size`` over ``params`` in the given order:
    one open bucket per dtype; a bucket closes once its size reaches its limit (the limits
    are used in turn, the last one repeats). Returns lists of indices into ``params``, in the
    order of their first index."""
    result = []
    open_ = {}
    limit_pos = {}
    for i, p in enumerate(params):
        key = p.dtype
        indices, size = open_.get(key, ([], 0))
        indices.append(i)
        size += p.numel() * p.element_size()
        pos = limit_pos.setdefault(key, 0)
        if size >= limits[pos]:
            result.append(indices)
            open_[key] = ([], 0)
            limit_pos[key] = min(pos + 1, len(limits) - 1)
        else:
            open_[key] = (indices, size)
    for indices, _ in open_.values():
        if indices:
            result.append(indices)
    result.sort(key=lambda b: b[0])
    return result


class _Bucket:
    """Parameters whose gradients are all-reduced together through one flat buffer."""
    __slots__ = ("indices", "flat", "views", "pending", "work")

    def __init__(self, indices, params):
        self.indices = indices
        numel = sum(params[i].numel() for i in indices)
        self.flat = rt.zeros(numel, dtype=params[indices[0]].dtype)
        self.views = []
        offset = 0
        for i in indices:
            n = params[i].numel()
            self.views.append(self.flat[offset:offset + n].view(tuple(params[i].shape)))
            offset += n
        self.pending = len(indices)
        self.work = None


def _hook_for(reducer_ref, index):
    def _ddp_grad_ready(param):
        reducer = reducer_ref()
        if reducer is not None:
            reducer.autograd_hook(index)
    return _ddp_grad_ready


def _remove_handles(handles):
    for h in handles:
        h.remove()


# ------------------------------------------------------------------------------- the module

class DistributedDataParallel(Module):
    """Data parallelism at the module level (``torch.nn.parallel.DistributedDataParallel``).

    Wrap the model once per process after ``init_process_group``; each process feeds its
    own part of every batch (``DistributedSampler``) and calls ``backward`` on its own loss:
    the gradients are averaged over all processes during backward, so every process applies
    the same optimizer step and the replicas stay identical.

    >>> model = DistributedDataParallel(net)          # doctest: +SKIP
    >>> loss_fn(model(x), y).backward()               # doctest: +SKIP
    >>> opt.step()                                    # doctest: +SKIP

    Args:
        module: the module to replicate (its parameters and buffers are broadcast from
            rank 0 at construction). ``self.module`` is it; the ``state_dict`` keys get the
            ``module.`` prefix, as in PyTorch.
        device_ids, output_device: for GPU modules in PyTorch; rt runs on the CPU, where
            both must be None (``ValueError`` otherwise, as PyTorch with a CPU module).
        dim: kept for compatibility (the batch dimension; inputs are not scattered on CPU).
        broadcast_buffers: re-broadcast the buffers (e.g. BatchNorm running statistics)
            from rank 0 before each forward (default True); False keeps them per rank after
            the initial broadcast.
        init_sync: check that every rank holds the same parameters and broadcast
            parameters and buffers from rank 0 at construction (default True).
        process_group: None (the default group; the only one rt_distributed has).
        bucket_cap_mb: bucket size in MiB (default 25, with a 1 MiB first bucket).
        find_unused_parameters: find, after each forward, the parameters its output does not
            depend on, and count them as reduced (their gradient is left as it is when no
            rank used them; a rank that did not use one contributes zeros). Without it, a
            parameter that gets no gradient makes the next forward raise PyTorch's
            "Expected to have finished reduction in the prior iteration" error.
        check_reduction: deprecated, ignored (a FutureWarning, as PyTorch).
        gradient_as_bucket_view: ``.grad`` becomes a view into the bucket's flat buffer
            (no copy back after the all-reduce; saves the memory of one copy of the
            gradients). Do not call ``detach_()`` on such gradients; ``zero_grad`` works.
        static_graph: the set of used parameters is the same in every iteration: it is found
            in the first iteration and reused (no graph search afterwards). Training whose
            graph changes then raises.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, init_sync=True, process_group=None,
                 bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel expects an rt_nn.Module, got "
                            f"{type(module).__name__}")
        pg = _check_group(process_group)

        if hasattr(module, "_ddp_params_and_buffers_to_ignore"):
            ignore = set(module._ddp_params_and_buffers_to_ignore)
        else:
            ignore = set()
        named = [(n, p) for n, p in module.named_parameters() if n not in ignore]
        if not any(p.requires_grad for _, p in named):
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        if device_ids is not None and len(device_ids) > 1:
            raise ValueError("device_ids can only be None or contain a single element.")
        if device_ids or output_device:
            devices = {str(p.device) for _, p in named}
            raise ValueError(f"DistributedDataParallel device_ids and output_device arguments "
                             f"only work with single-device/multiple-device GPU modules or CPU "
                             f"modules, but got device_ids {device_ids}, output_device "
                             f"{output_device}, and module parameters {devices}.")
        if check_reduction:
            warnings.warn("The `check_reduction` argument in `DistributedDataParallel` module "
                          "is deprecated. Please avoid using it.", FutureWarning, stacklevel=2)
        if bucket_cap_mb is not None and (isinstance(bucket_cap_mb, bool)
                                          or not isinstance(bucket_cap_mb, (int, float))
                                          or bucket_cap_mb <= 0):
            raise ValueError(f"bucket_cap_mb must be a positive number, got {bucket_cap_mb!r}")

        # plain attributes (Module.__setattr__ only files Parameters, buffers and modules)
        self.module = module
        self.process_group = process_group
        self.parameters_to_ignore = ignore
        self.device_ids = None
        self.output_device = None
        self.dim = dim
        self.broadcast_buffers = bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.gradient_as_bucket_view = bool(gradient_as_bucket_view)
        self.static_graph = bool(static_graph)
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.broadcast_bucket_size = _BROADCAST_BUCKET_BYTES
        cap = _DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb
        self.bucket_bytes_cap = int(cap * _MB_TO_BYTES)
        self._rank = pg.rank
        self._world_size = pg.size
        self.modules_buffers = self._module_buffers()

        if init_sync:
            self._verify_params_across_processes([p for _, p in named])
            with rt.no_grad():
                self._broadcast_coalesced([p for _, p in named] + (
                    self.modules_buffers if self.broadcast_buffers else []))

        limits = ([_DEFAULT_FIRST_BUCKET_BYTES, self.bucket_bytes_cap]
                  if bucket_cap_mb is None else [self.bucket_bytes_cap])
        self.reducer = _Reducer([(n, p) for n, p in named if p.requires_grad], limits, self)

    # ---- construction helpers --------------------------------------------------------------

    def _module_buffers(self):
        return [b for n, b in self.module.named_buffers()
                if n not in self.parameters_to_ignore and b is not None]

    def _verify_params_across_processes(self, params):
        """Every rank must hold the same parameters (count, shapes, dtypes): compare each
        rank's (count, checksum) after one all-gather; raise on every rank otherwise."""
        desc = repr([(tuple(p.shape), str(p.dtype)) for p in params]).encode()
        mine = rt.tensor([len(params), zlib.crc32(desc)], dtype=rt.int64)
        every = rt.zeros(2 * self._world_size, dtype=rt.int64)
        all_gather_into_tensor(every, mine, group=self.process_group)
        rows = every.view(self._world_size, 2).tolist()
        for r, (count, crc) in enumerate(rows):
            if count != len(params):
                raise RuntimeError(f"DDP expects same model across all ranks, but Rank "
                                   f"{self._rank} has {len(params)} params, while rank {r} has "
                                   f"inconsistent {count} params.")
        for r, (count, crc) in enumerate(rows):
            if crc != rows[self._rank][1]:
                raise RuntimeError(f"DDP expects same model across all ranks, but the shapes or "
                                   f"dtypes of the {len(params)} parameters of rank "
                                   f"{self._rank} differ from those of rank {r}.")

    def _broadcast_coalesced(self, tensors, src=0):
        """Broadcast tensors from ``src``: per dtype, packed into flat buffers of at most
        ``broadcast_bucket_size`` bytes, one broadcast each, copied back."""
        by_dtype = {}
        for t in tensors:
            by_dtype.setdefault(t.dtype, []).append(t)
        for group in by_dtype.values():
            chunks, size = [[]], 0
            for t in group:
                nbytes = t.numel() * t.element_size()
                if chunks[-1] and size + nbytes > self.broadcast_bucket_size:
                    chunks.append([])
                    size = 0
                chunks[-1].append(t)
                size += nbytes
            for chunk in chunks:
                flat = rt.cat([c.detach().reshape(-1) for c in chunk])
                broadcast(flat, src, group=self.process_group)
                if self._rank != src:
                    offset = 0
                    for c in chunk:
                        c.copy_(flat[offset:offset + c.numel()].view(tuple(c.shape)))
                        offset += c.numel()

    # ---- forward ---------------------------------------------------------------------------

    def forward(self, *inputs, **kwargs):
        inputs, kwargs = self._pre_forward(*inputs, **kwargs)
        output = self.module(*inputs, **kwargs)
        return self._post_forward(output)

    def _pre_forward(self, *inputs, **kwargs):
        if rt.is_grad_enabled():
            self.reducer.ensure_prior_reduction_finished()
            self.reducer.rebuild_buckets()
        if self.will_sync_module_buffers():
            self._sync_buffers()
        return inputs, kwargs

    def _post_forward(self, output):
        if rt.is_grad_enabled() and self.require_backward_grad_sync:
            self.require_forward_param_sync = True
            self.reducer.prepare_for_backward(output)
        else:
            self.require_forward_param_sync = False
        return output

    def will_sync_module_buffers(self):
        """Whether the buffers are broadcast from rank 0 before the next forward."""
        return (self.require_forward_param_sync and self.broadcast_buffers
                and len(self.modules_buffers) > 0)

    def _sync_buffers(self):
        with rt.no_grad():
            self.modules_buffers = self._module_buffers()    # in case any was reassigned
            self._broadcast_coalesced(self.modules_buffers, 0)

    @contextlib.contextmanager
    def no_sync(self):
        """Context manager that turns gradient synchronisation off: the backward of a
        forward run inside it only accumulates gradients locally; the first
        forward-backward after it all-reduces the accumulated gradients. The forward must
        run inside the context."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def train(self, mode=True):
        super().train(mode)
        return self

    def _set_static_graph(self):
        """PyTorch's private switch to static-graph mode (before the first iteration)."""
        self.static_graph = True

    def extra_repr(self):
        return ""


class _Reducer:
    """The gradient reducer of one DistributedDataParallel (PyTorch's ``Reducer``): buckets,
    the post-accumulate-grad hooks and the per-iteration state. A plain object: its state
    changes several times per step, out of Module.__setattr__'s way."""

    def __init__(self, named_params, limits, ddp):
        self.params = [p for _, p in named_params]
        self.names = [n for n, _ in named_params]
        self.limits = limits
        self.ddp = weakref.ref(ddp)
        self.group = ddp.process_group
        self.rank = ddp._rank
        self.world_size = ddp._world_size
        n = len(self.params)
        self.buckets = []
        self.locators = [None] * n
        self.initialize_buckets(_assign_buckets_reversed(self.params, limits))
        self.has_rebuilt_buckets = False
        self.grad_ready_order = []
        self.order_recorded = False
        self.expect_autograd_hooks = False
        self.require_finalize = False
        self.ready = set()
        self.next_bucket = 0
        self.unused = []
        self.has_marked_unused = False
        self.local_used = [0] * n
        self.static_first_iteration_done = False
        self.static_used = None
        self.tracking = False                # this iteration records the used parameters
        self.buckets_launched = 0            # in the last backward (tests, benchmarks)
        self.all_reduce_mode = "overlap"     # benchmarks: "after" reduces once all are ready
        handles = [p.register_post_accumulate_grad_hook(_hook_for(weakref.ref(self), i))
                   for i, p in enumerate(self.params)]
        weakref.finalize(self, _remove_handles, handles)

    def initialize_buckets(self, bucket_indices):
        self.buckets = [_Bucket(indices, self.params) for indices in bucket_indices]
        for b, bucket in enumerate(self.buckets):
            for k, i in enumerate(bucket.indices):
                self.locators[i] = (b, k)

    def _settings(self):
        ddp = self.ddp()
        return ddp.find_unused_parameters, ddp.static_graph, ddp.gradient_as_bucket_view

    def dynamic_find_unused(self):
        find_unused, static, _ = self._settings()
        return find_unused and not static

    def tracks_used(self):
        """Whether this iteration records which parameters got a gradient."""
        find_unused, static, _ = self._settings()
        return (find_unused and not static) or (static and not self.static_first_iteration_done)

    # ---- one iteration ---------------------------------------------------------------------

    def prepare_for_backward(self, output):
        """After a forward whose backward is to be synchronised."""
        self.expect_autograd_hooks = True
        self.ready = set()
        self.next_bucket = 0
        self.buckets_launched = 0
        for bucket in self.buckets:
            bucket.pending = len(bucket.indices)
            bucket.work = None
        self.has_marked_unused = False
        self.tracking = self.tracks_used()
        if self.tracking:
            self.unused = self.search_unused_parameters(_find_tensors(output))

    def search_unused_parameters(self, outputs):
        """Indices of the parameters the outputs do not depend on (their AccumulateGrad node
        is not reachable from the outputs' graph)."""
        index = {id(p): i for i, p in enumerate(self.params)}
        used = set()
        seen = set()
        stack = []
        for t in outputs:
            fn = t.grad_fn
            if fn is not None:
                stack.append(fn)
            elif t.requires_grad and id(t) in index:
                used.add(index[id(t)])
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            if isinstance(node, AccumulateGrad):
                var = node.variable
                if var is not None and id(var) in index:
                    used.add(index[id(var)])
                continue
            for nxt, _ in node.next_functions:
                if nxt is not None and nxt not in seen:
                    stack.append(nxt)
        return [i for i in range(len(self.params)) if i not in used]

    def autograd_hook(self, index):
        """Called after ``params[index].grad`` has been accumulated during backward."""
        if rt.is_grad_enabled():            # backward(create_graph=True)
            with rt.no_grad():
                return self._autograd_hook(index)
        return self._autograd_hook(index)

    def _autograd_hook(self, index):
        if self.tracks_used() and self.params[index].grad is not None:
            self.local_used[index] = 1        # (also under no_sync: used in the window)
        if not self.expect_autograd_hooks:
            return
        if self.static_first_iteration_done and index in self.unused:
            raise RuntimeError("Your training graph has changed in this iteration, e.g., one "
                               "parameter is unused in first iteration, but then got used in "
                               "the second iteration. this is not compatible with "
                               "static_graph set to True.")
        if not self.has_marked_unused:
            self.has_marked_unused = True
            for i in self.unused:
                self.mark_variable_ready(i)
        self.mark_variable_ready(index)

    def marked_twice_error(self, index):
        return RuntimeError(
            "Expected to mark a variable ready only once. This error is caused by one of the "
            "following reasons: 1) Use of a module parameter outside the `forward` function. "
            "Please make sure model parameters are not shared across multiple concurrent "
            "forward-backward passes. or try to use _set_static_graph() as a workaround if "
            "this module graph does not change during training loop.2) Reused parameters in "
            "multiple reentrant backward passes. For example, if you use multiple "
            "`checkpoint` functions to wrap the same part of your model, it would result in "
            "the same set of parameters been used by different reentrant backward passes "
            "multiple times, and hence marking a variable ready multiple times. DDP does not "
            "support such use cases in default. You can try to use _set_static_graph() as a "
            "workaround if your module graph does not change over iterations.\n"
            f"Parameter at index {index} with name {self.names[index]} has been marked as "
            "ready twice. This means that multiple autograd engine  hooks have fired for this "
            "particular parameter during this iteration.")

    def mark_variable_ready(self, index):
        if index in self.ready:
            raise self.marked_twice_error(index)
        self.ready.add(index)
        self.require_finalize = True
        if not self.order_recorded:
            self.grad_ready_order.append(index)
        b, k = self.locators[index]
        bucket = self.buckets[b]
        self.copy_grad_to_bucket(index, bucket.views[k])
        bucket.pending -= 1
        if bucket.pending == 0:
            self.mark_bucket_ready(b)
        if self.next_bucket == len(self.buckets):
            self.finalize_backward()
        else:
            self.progress()

    def copy_grad_to_bucket(self, index, view):
        """The gradient, divided by the world size, into its slot of the bucket (zeros for a
        parameter without gradient), as PyTorch's reducer."""
        p = self.params[index]
        grad = p.grad
        if grad is None:
            view.zero_()
        elif grad.data_ptr() == view.data_ptr() and grad.shape == view.shape:
            view.div_(self.world_size)                    # gradient_as_bucket_view
        else:
            rt.mul(grad, 1.0 / self.world_size, out=view)
            if self._settings()[2]:
                p.grad = view

    def mark_bucket_ready(self, b):
        """Start the all-reduce of every bucket that is ready, in bucket order (so that
        every rank issues the same collectives in the same order)."""
        if b > self.next_bucket:
            return
        n = len(self.buckets)
        while self.next_bucket < n and self.buckets[self.next_bucket].pending == 0:
            bucket = self.buckets[self.next_bucket]
            self.next_bucket += 1
            last = self.next_bucket == n
            if self.all_reduce_mode == "after":
                # (benchmarks) no overlap: every bucket once all gradients are ready
                if last:
                    for bk in self.buckets:
                        all_reduce(bk.flat, ReduceOp.SUM, group=self.group)
                    self.buckets_launched = n
                continue
            if last:
                # waited for at once: the blocking all-reduce (MPI's tuned algorithm); the
                # earlier buckets' non-blocking ones may still be in flight
                all_reduce(bucket.flat, ReduceOp.SUM, group=self.group)
            else:
                bucket.work = all_reduce(bucket.flat, ReduceOp.SUM, group=self.group,
                                         async_op=True)
            self.buckets_launched += 1

    def progress(self):
        """Let MPI progress the non-blocking all-reduces in flight (Open MPI progresses them
        only inside MPI calls): test the oldest one."""
        for bucket in self.buckets[:self.next_bucket]:
            if bucket.work is not None:
                if not bucket.work.is_completed():
                    return
                bucket.work = None

    def finalize_backward(self):
        """Every bucket started: wait for them, and write the averaged gradients back
        (with find_unused_parameters, after an all-reduce of which parameters were used)."""
        self.expect_autograd_hooks = False
        self.require_finalize = False
        self.order_recorded = True
        _, static, as_view = self._settings()
        used = None
        if self.tracking:
            used_map = rt.tensor(self.local_used, dtype=rt.int32)
            all_reduce(used_map, ReduceOp.SUM, group=self.group)
            used = used_map.tolist()
        elif static:
            used = self.static_used
        for bucket in self.buckets:
            if bucket.work is not None:
                bucket.work.wait()
                bucket.work = None
        for bucket in self.buckets:
            for k, i in enumerate(bucket.indices):
                if used is not None and used[i] == 0:
                    continue                  # unused on every rank: .grad untouched
                p = self.params[i]
                view = bucket.views[k]
                grad = p.grad
                if as_view:
                    if grad is None or grad.data_ptr() != view.data_ptr():
                        p.grad = view
                elif grad is None:
                    p.grad = view.clone()
                else:
                    grad.copy_(view)
        if self.tracking:
            if static:
                # the first iteration's use is the graph's from now on: the parameters
                # unused here are marked ready without a hook, the globally unused ones keep
                # their .grad
                self.unused = [i for i, u in enumerate(self.local_used) if u == 0]
                self.static_used = used
                self.static_first_iteration_done = True
            else:
                self.local_used = [0] * len(self.params)

    def ensure_prior_reduction_finished(self):
        """At a forward: the previous synchronised backward must have reduced every
        bucket; PyTorch's error otherwise."""
        if not self.require_finalize:
            return
        # finish what was started (every rank started the same buckets), then complain
        for bucket in self.buckets[:self.next_bucket]:
            if bucket.work is not None:
                bucket.work.wait()
                bucket.work = None
        find_unused, static, _ = self._settings()
        unmarked = [i for i in range(len(self.params)) if i not in self.ready]
        if static:
            msg = ("Expected to have finished reduction in the prior iteration before "
                   "starting a new one. This error indicates that your training graph has "
                   "changed in this iteration, e.g., one parameter is used in first "
                   "iteration, but then got unused in the second iteration. this is not "
                   "compatible with static_graph set to True.")
        elif not find_unused:
            msg = ("Expected to have finished reduction in the prior iteration before "
                   "starting a new one. This error indicates that your module has parameters "
                   "that were not used in producing loss. You can enable unused parameter "
                   "detection by passing the keyword argument `find_unused_parameters=True` "
                   "to `torch.nn.parallel.DistributedDataParallel`, and by \nmaking sure all "
                   "`forward` function outputs participate in calculating loss. ")
        else:
            msg = ("Expected to have finished reduction in the prior iteration before "
                   "starting a new one. This error indicates that your module has parameters "
                   "that were not used in producing loss. Since `find_unused_parameters=True` "
                   "is enabled, this likely  means that not all `forward` outputs participate "
                   "in computing loss. You can fix this by making sure all `forward` function "
                   "outputs participate in calculating loss. ")
        msg += ("\nIf you already have done the above, then the distributed data parallel "
                "module wasn't able to locate the output tensors in the return value of your "
                "module's `forward` function. Please include the loss function and the "
                "structure of the return value of `forward` of your module when reporting "
                "this issue (e.g. list, dict, iterable).\n"
                f"Parameter indices which did not receive grad for rank {self.rank}: "
                f"{' '.join(str(i) for i in unmarked)}\n"
                f"Parameters which did not receive grad for rank {self.rank}: "
                f"{', '.join(self.names[i] for i in unmarked)}")
        raise RuntimeError(msg)

    def rebuild_buckets(self):
        """Once, after the first synchronised backward: rebuild the buckets in the order in
        which the gradients arrived (rank 0's order, broadcast so that every rank builds the
        same buckets), as PyTorch does; not with find_unused_parameters (the order may
        change between iterations)."""
        if self.has_rebuilt_buckets or not self.order_recorded:
            return False
        self.has_rebuilt_buckets = True
        n = len(self.params)
        order = self.grad_ready_order
        self.grad_ready_order = []
        # every rank decides alike: each marked every parameter once
        if self.dynamic_find_unused() or sorted(order) != list(range(n)):
            return False
        t = rt.tensor(order, dtype=rt.int64)
        broadcast(t, 0, group=self.group)
        order = t.tolist()
        bucket_indices = _assign_buckets([self.params[i] for i in order], self.limits)
        self.initialize_buckets([[order[j] for j in b] for b in bucket_indices])
        return True


def _assign_buckets_reversed(params, limits):
    """The initial buckets: parameters in reverse order (the order backward produces their
    gradients in a feed-forward model)."""
    n = len(params)
    order = list(range(n - 1, -1, -1))
    buckets = _assign_buckets([params[i] for i in order], limits)
    return [[order[j] for j in b] for b in buckets]


DistributedDataParallel.__module__ = "rt_distributed"
