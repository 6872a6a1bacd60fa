"""``torch.utils.data`` for rt: datasets, samplers, ``DataLoader``, collation.

>>> import rt_autograd as rt
>>> from rt_nn.data import DataLoader, TensorDataset
>>> ds = TensorDataset(rt.randn(10, 3), rt.arange(10))
>>> loader = DataLoader(ds, batch_size=4, shuffle=True, generator=rt.Generator().manual_seed(0))
>>> [len(y) for _, y in loader]
[4, 4, 2]
"""
from rt_nn.data._collate import default_collate, default_convert
from rt_nn.data.dataloader import DataLoader, get_worker_info
from rt_nn.data.dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset,
                                StackDataset, Subset, TensorDataset, random_split)
from rt_nn.data.sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                                SubsetRandomSampler, WeightedRandomSampler)

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset",
           "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler", "StackDataset",
           "Subset", "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
           "default_collate", "default_convert", "get_worker_info", "random_split"]
