"""``torch.utils.data.distributed`` for rt: ``DistributedSampler``, the sampler that gives each
process its own share of a map-style dataset.

>>> from rt_nn.data import DataLoader, TensorDataset
>>> import rt_autograd as rt
>>> ds = TensorDataset(rt.arange(10))
>>> list(DistributedSampler(ds, num_replicas=3, rank=1, shuffle=False))
[1, 4, 7, 0]
"""
import math

import rt_autograd as rt
from rt_nn.data import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """Sampler that restricts data loading to a subset of the dataset
    (``torch.utils.data.distributed.DistributedSampler``).

    Each of the ``num_replicas`` processes (default: the world size of the default process
    group) reads every ``num_replicas``-th index starting at its ``rank`` (default: this
    process's rank) of one list of indices: ``0..len(dataset)-1``, permuted when ``shuffle``
    (seeded with ``seed + epoch``, so every process draws the same permutation: call
    ``set_epoch(epoch)`` at the start of each epoch, before iterating, for a new order), then
    made evenly divisible: padded by repeating indices from its start (``drop_last=False``)
    or cut at the largest multiple of ``num_replicas`` (``drop_last=True``). Every process
    gets ``len(sampler)`` indices.

    The permutation is ``rt.randperm`` with an ``rt.Generator`` seeded ``seed + epoch``.
    rt's generator is Philox, not PyTorch's Mersenne twister, so the shuffled order differs
    from PyTorch's for the same seed; everything else (which rank gets which positions of
    the list, padding, dropping, lengths, epoch seeding) is PyTorch's.

    Pass it as ``DataLoader(dataset, sampler=sampler)`` (not together with ``shuffle``).
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            from rt_distributed import _process_group as dist
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            if num_replicas is None:
                num_replicas = dist.get_world_size()
            if rank is None:
                rank = dist.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        # an evenly divisible dataset splits equally: nothing to drop
        if self.drop_last and len(self.dataset) % self.num_replicas != 0:
            # the largest length that divides evenly
            self.num_samples = math.ceil(
                (len(self.dataset) - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(len(self.dataset) / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            # the same permutation on every process: seeded by seed and epoch
            g = rt.Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = rt.randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))

        if not self.drop_last:
            # pad with indices from the start to make it evenly divisible
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            # drop the tail to make it evenly divisible
            indices = indices[:self.total_size]
        if len(indices) != self.total_size:
            raise AssertionError(f"Number of indices ({len(indices)}) does not match "
                                 f"total_size ({self.total_size})")

        # this process's share
        indices = indices[self.rank:self.total_size:self.num_replicas]
        if len(indices) != self.num_samples:
            raise AssertionError(f"Number of subsampled indices ({len(indices)}) does not "
                                 f"match num_samples ({self.num_samples})")
        return iter(indices)

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Set the epoch: with ``shuffle=True`` each epoch gets its own order (the same on
        every process); without a new epoch, the next pass repeats the same order."""
        self.epoch = epoch
