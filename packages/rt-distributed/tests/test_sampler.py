"""DistributedSampler as torch.utils.data.distributed.DistributedSampler: each rank's indices
against hand-computed lists (padding from the start, drop_last, strides by rank), shuffling
seeded by seed + epoch, the invalid-rank ValueError, and use as a DataLoader sampler."""
import pytest

import rt_autograd as rt
from rt_nn.data import DataLoader, TensorDataset

from rt_distributed import DistributedSampler


class Range:
    """A map-style dataset of n items: item i is i."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return i


def shares(n, replicas, **kw):
    return [list(DistributedSampler(Range(n), num_replicas=replicas, rank=r, **kw))
            for r in range(replicas)]


# ---- without shuffling: hand-computed lists -----------------------------------------------

def test_padding_repeats_indices_from_the_start():
    # 10 items on 3 ranks: 4 each; the list 0..9 is padded with 0, 1 to 12
    assert shares(10, 3, shuffle=False) == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]
    s = DistributedSampler(Range(10), num_replicas=3, rank=0, shuffle=False)
    assert (len(s), s.num_samples, s.total_size) == (4, 4, 12)


def test_padding_longer_than_the_dataset_repeats_it_several_times():
    # 2 items on 5 ranks: [0, 1] + [0, 1, 0]
    assert shares(2, 5, shuffle=False) == [[0], [1], [0], [1], [0]]
    # 3 items on 8 ranks: [0, 1, 2] + [0, 1, 2, 0, 1]
    assert shares(3, 8, shuffle=False) == [[0], [1], [2], [0], [1], [2], [0], [1]]


def test_drop_last_cuts_the_tail():
    # 10 items on 3 ranks: 3 each, item 9 is dropped
    assert shares(10, 3, shuffle=False, drop_last=True) == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]
    s = DistributedSampler(Range(10), num_replicas=3, rank=2, shuffle=False, drop_last=True)
    assert (len(s), s.total_size) == (3, 9)
    # 11 items on 4 ranks: 2 each (ceil((11 - 4) / 4))
    assert shares(11, 4, shuffle=False, drop_last=True) == [[0, 4], [1, 5], [2, 6], [3, 7]]


def test_an_evenly_divisible_dataset_is_split_whole_either_way():
    expected = [[0, 4], [1, 5], [2, 6], [3, 7]]
    assert shares(8, 4, shuffle=False) == expected
    assert shares(8, 4, shuffle=False, drop_last=True) == expected


def test_one_replica_reads_everything_in_order():
    assert shares(5, 1, shuffle=False) == [[0, 1, 2, 3, 4]]


def test_an_empty_dataset_gives_nothing():
    assert shares(0, 2, shuffle=False) == [[], []]
    assert len(DistributedSampler(Range(0), num_replicas=2, rank=1)) == 0


# ---- shuffling --------------------------------------------------------------------------

def permutation(n, seed):
    g = rt.Generator()
    g.manual_seed(seed)
    return rt.randperm(n, generator=g).tolist()


def test_shuffle_splits_the_seed_plus_epoch_permutation():
    n, replicas = 12, 3
    for seed, epoch in [(0, 0), (0, 5), (42, 1)]:
        got = []
        for r in range(replicas):
            s = DistributedSampler(Range(n), num_replicas=replicas, rank=r, seed=seed)
            s.set_epoch(epoch)
            got.append(list(s))
        perm = permutation(n, seed + epoch)
        assert sorted(perm) == list(range(n))
        assert got == [perm[r::replicas] for r in range(replicas)]


def test_shuffle_pads_with_the_start_of_the_permutation():
    perm = permutation(7, 3)
    got = shares(7, 3, seed=3)
    padded = perm + perm[:2]
    assert got == [padded[0::3], padded[1::3], padded[2::3]]
    got = shares(7, 3, seed=3, drop_last=True)
    assert got == [perm[0:6:3], perm[1:6:3], perm[2:6:3]]


def test_every_rank_draws_the_same_permutation_and_epochs_change_it():
    n = 64
    s0 = DistributedSampler(Range(n), num_replicas=2, rank=0)
    s1 = DistributedSampler(Range(n), num_replicas=2, rank=1)
    first = list(s0) + list(s1)
    assert sorted(first) == list(range(n))          # disjoint shares that cover the data
    assert list(s0) == first[:32]                   # same epoch, same order
    s0.set_epoch(1)
    s1.set_epoch(1)
    second = list(s0) + list(s1)
    assert sorted(second) == list(range(n))
    assert second != first
    assert s0.epoch == 1
    # the seed must be the same on all processes; a different one gives another order
    other = list(DistributedSampler(Range(n), num_replicas=2, rank=0, seed=1))
    assert other != first[:32]


# ---- errors and defaults ----------------------------------------------------------------

@pytest.mark.parametrize("rank", [3, 4, -1])
def test_an_invalid_rank_is_a_value_error(rank):
    with pytest.raises(ValueError, match=r"Invalid rank %d, rank should be in the interval "
                                         r"\[0, 2\]" % rank):
        DistributedSampler(Range(10), num_replicas=3, rank=rank)


def test_defaults_and_attributes():
    s = DistributedSampler(Range(10), num_replicas=2, rank=1)
    assert (s.shuffle, s.seed, s.drop_last, s.epoch) == (True, 0, False, 0)
    assert (s.num_replicas, s.rank) == (2, 1)


# ---- with the DataLoader ----------------------------------------------------------------

def test_dataloader_reads_this_ranks_share_in_batches():
    ds = TensorDataset(rt.arange(10) * 10)
    sampler = DistributedSampler(ds, num_replicas=3, rank=1, shuffle=False)
    loader = DataLoader(ds, batch_size=3, sampler=sampler)
    assert [b[0].tolist() for b in loader] == [[10, 40, 70], [0]]
    assert len(loader) == 2


def test_dataloader_reshuffles_after_set_epoch():
    ds = TensorDataset(rt.arange(16))
    sampler = DistributedSampler(ds, num_replicas=2, rank=0, seed=7)
    loader = DataLoader(ds, batch_size=4, sampler=sampler)
    for epoch in range(2):
        sampler.set_epoch(epoch)
        got = [i for (b,) in loader for i in b.tolist()]
        assert got == permutation(16, 7 + epoch)[0::2]


def test_dataloader_refuses_shuffle_with_a_sampler():
    ds = TensorDataset(rt.arange(4))
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(ds, sampler=DistributedSampler(ds, num_replicas=2, rank=0), shuffle=True)


# ---- the defaults come from the process group --------------------------------------------

def test_without_a_process_group_the_defaults_raise_torchs_error():
    from rt_distributed import is_initialized
    assert not is_initialized()
    with pytest.raises(ValueError, match="Default process group has not been initialized, "
                                         "please make sure to call init_process_group."):
        DistributedSampler(Range(4))
    # given explicitly, no process group is needed
    assert len(DistributedSampler(Range(4), num_replicas=2, rank=0)) == 2


def test_num_replicas_and_rank_default_to_the_world_on_2_processes():
    from conftest import run_mpi
    code = """
import datetime
import rt_distributed as dist
from rt_distributed import DistributedSampler
dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=30))
s = DistributedSampler(list(range(7)), shuffle=False)
print("RANK", dist.get_rank(), s.num_replicas, s.rank, list(s), flush=True)
dist.destroy_process_group()
"""
    proc = run_mpi(code, n=2, timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = sorted(line for line in proc.stdout.splitlines() if line.startswith("RANK"))
    assert lines == ["RANK 0 2 0 [0, 2, 4, 6]", "RANK 1 2 1 [1, 3, 5, 0]"]
