"""rt_nn.data (torch.utils.data): datasets, random_split, samplers (order, seeds,
replacement, weights), BatchSampler, DataLoader (batching, drop_last, shuffle reproducible
under a seeded generator, samplers, collate_fn, IterableDataset, num_workers accepted,
argument errors) and default_collate / default_convert on every structure."""
import collections
import warnings

import numpy as np
import pytest

import rt_autograd as rt
from rt_nn.data import (BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset,
                        IterableDataset, RandomSampler, Sampler, SequentialSampler, StackDataset,
                        Subset, SubsetRandomSampler, TensorDataset, WeightedRandomSampler,
                        default_collate, default_convert, get_worker_info, random_split)


def _gen(seed=0):
    return rt.Generator().manual_seed(seed)


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i

    def __len__(self):
        return self.n


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


# ---- datasets --------------------------------------------------------------------------------

def test_tensor_dataset():
    x, y = rt.randn(5, 3), rt.arange(5)
    ds = TensorDataset(x, y)
    assert len(ds) == 5
    xi, yi = ds[2]
    assert rt.equal(xi, x[2]) and yi.item() == 2
    assert rt.equal(ds[1:3][0], x[1:3])
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(rt.zeros(3), rt.zeros(4))


def test_concat_subset_stack_chain():
    a, b = Squares(3), Squares(2)
    c = a + b
    assert isinstance(c, ConcatDataset) and len(c) == 5
    assert [c[i] for i in range(5)] == [0, 1, 4, 0, 1]
    assert c[-1] == 1 and c.cumulative_sizes == [3, 5]
    with pytest.raises(ValueError, match="absolute value of index should not exceed"):
        c[-6]
    with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
        ConcatDataset([])
    with pytest.raises(AssertionError, match="does not support IterableDataset"):
        ConcatDataset([Stream(2)])
    s = Subset(Squares(10), [7, 2, 5])
    assert len(s) == 3 and s[0] == 49 and s.__getitems__([1, 2]) == [4, 25]
    st = StackDataset(Squares(3), Squares(3))
    assert st[2] == (4, 4)
    sd = StackDataset(a=Squares(2), b=Squares(2))
    assert sd[1] == {"a": 1, "b": 1}
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(Squares(2), Squares(3))
    with pytest.raises(ValueError, match="At least one dataset should be passed"):
        StackDataset()
    ch = Stream(2) + Stream(3)
    assert isinstance(ch, ChainDataset) and list(ch) == [0, 1, 0, 1, 2] and len(ch) == 5
    with pytest.raises(NotImplementedError, match="Subclasses of Dataset should implement "
                                                  "__getitem__"):
        Dataset()[0]


def test_random_split_lengths_and_fractions():
    splits = random_split(range(10), [3, 7], generator=_gen(0))
    assert [len(s) for s in splits] == [3, 7]
    assert sorted(splits[0].indices + splits[1].indices) == list(range(10))
    again = random_split(range(10), [3, 7], generator=_gen(0))
    assert splits[0].indices == again[0].indices
    assert [len(s) for s in random_split(range(10), [0.33, 0.33, 0.34], _gen())] == [4, 3, 3]
    assert [len(s) for s in random_split(range(7), [0.5, 0.5], _gen())] == [4, 3]
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(range(2), [1.0, 0.0], _gen())
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of "
                                         "the input dataset!"):
        random_split(range(10), [3, 4])
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        random_split(range(10), [1.5, -0.5])
    rt.manual_seed(4)
    a = random_split(range(10), [5, 5])[0].indices
    rt.manual_seed(4)
    assert random_split(range(10), [5, 5])[0].indices == a


# ---- samplers --------------------------------------------------------------------------------

def test_sequential_and_random_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    rs = RandomSampler(range(10), generator=_gen(1))
    perm = list(rs)
    assert sorted(perm) == list(range(10)) and len(rs) == 10
    assert list(RandomSampler(range(10), generator=_gen(1))) == perm
    assert perm != list(rs)                     # the generator moved on
    rs = RandomSampler(range(4), num_samples=10, generator=_gen())
    draws = list(rs)
    assert len(draws) == 10 and sorted(draws[:4]) == [0, 1, 2, 3] == sorted(draws[4:8])
    rs = RandomSampler(range(3), replacement=True, num_samples=100, generator=_gen())
    draws = list(rs)
    assert len(draws) == 100 and set(draws) == {0, 1, 2}
    rt.manual_seed(0)
    a = list(RandomSampler(range(20)))
    rt.manual_seed(0)
    assert list(RandomSampler(range(20))) == a
    with pytest.raises(TypeError, match="replacement should be a boolean value"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but "
                                         "got num_samples=0"):
        RandomSampler(range(0))


def test_subset_random_and_weighted_samplers():
    s = SubsetRandomSampler([10, 20, 30], generator=_gen())
    assert sorted(s) == [10, 20, 30] and len(s) == 3
    w = WeightedRandomSampler([0.0, 1.0, 3.0], 4000, generator=_gen())
    draws = np.array(list(w))
    assert len(w) == 4000 and (draws != 0).all()
    assert abs((draws == 2).mean() - 0.75) < 0.03
    w = WeightedRandomSampler([1.0, 1.0, 1.0], 3, replacement=False, generator=_gen())
    assert sorted(w) == [0, 1, 2]
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        WeightedRandomSampler([1.0], 0)
    with pytest.raises(ValueError, match="replacement should be a boolean value"):
        WeightedRandomSampler([1.0], 1, replacement=None)
    with pytest.raises(ValueError, match=r"weights should be a 1d sequence but given weights "
                                         r"have shape \(1, 2\)"):
        WeightedRandomSampler([[1.0, 2.0]], 1)


def test_batch_sampler():
    assert list(BatchSampler(range(7), 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, False)) == 3 and len(BatchSampler(range(7), 3, True)) == 2
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but "
                                         "got batch_size=0"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value"):
        BatchSampler(range(3), 2, 1)
    with pytest.raises(NotImplementedError):
        iter(Sampler()).__next__()


# ---- DataLoader ------------------------------------------------------------------------------

def test_loader_order_batches_and_drop_last():
    x = rt.arange(10.0).reshape(10, 1)
    y = rt.arange(10)
    ds = TensorDataset(x, y)
    batches = list(DataLoader(ds, batch_size=4))
    assert len(batches) == 3 and len(DataLoader(ds, batch_size=4)) == 3
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert isinstance(batches[0], list)                  # tuples collate to lists, as torch
    assert batches[0][0].shape == (4, 1) and batches[0][0].dtype == rt.float32
    assert batches[0][1].dtype == rt.int64
    dl = DataLoader(ds, batch_size=4, drop_last=True)
    assert len(dl) == 2 and [b[1].tolist() for b in dl] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert [b[1].tolist() for b in DataLoader(ds)] == [[i] for i in range(10)]


def test_loader_tensor_fast_path_equals_stacking():
    ds = TensorDataset(rt.randn(9, 2, 3), rt.arange(9), rt.randn(9, dtype=rt.float64))
    idx = [4, 0, 8]
    fast = list(DataLoader(ds, batch_sampler=[idx]))[0]
    slow = list(DataLoader(ds, batch_sampler=[idx], collate_fn=lambda b: default_collate(b)))[0]
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype and a.shape == b.shape and rt.equal(a, b)


def test_loader_shuffle_is_reproducible_under_a_seed():
    ds = TensorDataset(rt.arange(20))

    def epoch_orders(seed, epochs=2):
        dl = DataLoader(ds, batch_size=6, shuffle=True, generator=_gen(seed))
        return [[v for b in dl for v in b[0].tolist()] for _ in range(epochs)]

    e = epoch_orders(7)
    assert e == epoch_orders(7)
    assert sorted(e[0]) == list(range(20)) and e[0] != list(range(20)) and e[0] != e[1]
    assert epoch_orders(8) != e
    rt.manual_seed(1)
    a = [b[0].tolist() for b in DataLoader(ds, batch_size=5, shuffle=True)]
    rt.manual_seed(1)
    assert [b[0].tolist() for b in DataLoader(ds, batch_size=5, shuffle=True)] == a


def test_loader_with_samplers_and_collate_fn():
    ds = Squares(6)
    dl = DataLoader(ds, batch_size=2, sampler=[5, 4, 3, 2, 1, 0])
    assert [b.tolist() for b in dl] == [[25, 16], [9, 4], [1, 0]]
    dl = DataLoader(ds, batch_sampler=[[0, 2], [4]])
    assert [b.tolist() for b in dl] == [[0, 4], [16]] and len(dl) == 2
    dl = DataLoader(ds, batch_size=3, collate_fn=lambda batch: sum(batch))
    assert list(dl) == [5, 50]
    dl = DataLoader(ds, batch_size=None)
    assert list(dl) == [0, 1, 4, 9, 16, 25] and len(dl) == 6
    dl = DataLoader(ds, batch_size=2, sampler=SubsetRandomSampler([1, 2, 3], generator=_gen()))
    assert sorted(v for b in dl for v in b.tolist()) == [1, 4, 9]


def test_loader_iterable_dataset():
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3)] == \
        [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3, drop_last=True)] == \
        [[0, 1, 2], [3, 4, 5]]
    assert len(DataLoader(Stream(7), batch_size=3)) == 3
    assert len(DataLoader(Stream(7), batch_size=3, drop_last=True)) == 2
    assert list(DataLoader(Stream(3), batch_size=None)) == [0, 1, 2]
    for kw, msg in [({"shuffle": True}, "expected unspecified shuffle option"),
                    ({"sampler": [0]}, "expected unspecified sampler option"),
                    ({"batch_sampler": [[0]]}, "expected unspecified batch_sampler option")]:
        with pytest.raises(ValueError, match=msg):
            DataLoader(Stream(3), **kw)


def test_loader_num_workers_runs_in_process():
    ds = TensorDataset(rt.arange(8))
    calls = []
    dl = DataLoader(ds, batch_size=3, num_workers=1, worker_init_fn=calls.append,
                    prefetch_factor=4, persistent_workers=True)
    assert [b[0].tolist() for b in dl] == [[0, 1, 2], [3, 4, 5], [6, 7]]
    assert [b[0].tolist() for b in dl] == [[0, 1, 2], [3, 4, 5], [6, 7]]
    assert get_worker_info() is None and calls == []
    assert dl.prefetch_factor == 4 and DataLoader(ds, num_workers=1).prefetch_factor == 2


LOADER_ERRORS = [
    ({"num_workers": -1}, "num_workers option should be non-negative"),
    ({"timeout": -1}, "timeout option should be non-negative"),
    ({"prefetch_factor": 2}, "prefetch_factor option could only be specified in "
                             "multiprocessing"),
    ({"num_workers": 1, "prefetch_factor": -1}, "prefetch_factor option should be non-negative"),
    ({"persistent_workers": True}, "persistent_workers option needs num_workers > 0"),
    ({"sampler": [0], "shuffle": True}, "sampler option is mutually exclusive with shuffle"),
    ({"batch_sampler": [[0]], "batch_size": 2}, "batch_sampler option is mutually exclusive "
                                                "with batch_size, shuffle, sampler, and "
                                                "drop_last"),
    ({"batch_sampler": [[0]], "drop_last": True}, "mutually exclusive"),
    ({"batch_size": None, "drop_last": True}, "batch_size=None option disables auto-batching"),
    ({"batch_size": 0}, "batch_size should be a positive integer value"),
    ({"multiprocessing_context": "fork"}, "multiprocessing_context can only be used with "
                                          "multi-process loading"),
]


@pytest.mark.parametrize("kw,msg", LOADER_ERRORS)
def test_loader_errors(kw, msg):
    with pytest.raises(ValueError, match=msg):
        DataLoader(Squares(3), **kw)


def test_loader_attributes_are_frozen():
    dl = DataLoader(Squares(3), batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set after "
                                         "DataLoader is initialized"):
        dl.batch_size = 3
    dl.num_workers = 0                                   # other attributes may change


def test_loader_len_warning_for_iterable_dataset():
    class Liar(IterableDataset):
        def __iter__(self):
            return iter(range(5))

        def __len__(self):
            return 2

    dl = DataLoader(Liar(), batch_size=None)
    assert len(dl) == 2
    with pytest.warns(UserWarning, match="was reported to be 2"):
        list(dl)


# ---- collation -------------------------------------------------------------------------------

Point = collections.namedtuple("Point", "x y")


def test_default_collate_structures():
    out = default_collate([rt.ones(2, 3), rt.zeros(2, 3)])
    assert out.shape == (2, 2, 3)
    out = default_collate([np.ones((2,), np.float32), np.zeros((2,), np.float32)])
    assert isinstance(out, rt.Tensor) and out.dtype == rt.float32 and out.shape == (2, 2)
    out = default_collate([np.float64(1.5), np.float64(2.0)])
    assert out.dtype == rt.float64 and out.tolist() == [1.5, 2.0]
    assert default_collate([np.int32(1), np.int32(2)]).dtype == rt.int32
    out = default_collate([1.5, 2.5])
    assert out.dtype == rt.float64 and out.tolist() == [1.5, 2.5]
    out = default_collate([1, 2])
    assert out.dtype == rt.int64 and out.tolist() == [1, 2]
    out = default_collate([True, False])
    assert out.dtype == rt.bool and out.tolist() == [True, False]
    assert default_collate(["a", "b"]) == ["a", "b"]
    assert default_collate([b"a", b"b"]) == [b"a", b"b"]
    out = default_collate([{"x": rt.ones(2), "y": 1}, {"x": rt.zeros(2), "y": 2}])
    assert set(out) == {"x", "y"} and out["x"].shape == (2, 2) and out["y"].tolist() == [1, 2]
    od = default_collate([collections.OrderedDict(a=1), collections.OrderedDict(a=2)])
    assert isinstance(od, collections.OrderedDict) and od["a"].tolist() == [1, 2]
    p = default_collate([Point(1, rt.ones(1)), Point(2, rt.zeros(1))])
    assert isinstance(p, Point) and p.x.tolist() == [1, 2] and p.y.shape == (2, 1)
    t = default_collate([(1, 2.0), (3, 4.0)])
    assert isinstance(t, list) and t[0].tolist() == [1, 3] and t[1].dtype == rt.float64
    lst = default_collate([[1, 2], [3, 4]])
    assert isinstance(lst, list) and [v.tolist() for v in lst] == [[1, 3], [2, 4]]
    nested = default_collate([{"a": (rt.ones(1), [1, 2])}, {"a": (rt.zeros(1), [3, 4])}])
    assert nested["a"][0].shape == (2, 1) and nested["a"][1][1].tolist() == [2, 4]


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal "
                                           "size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors, numpy "
                                        "arrays, numbers, dicts or lists; found <class "
                                        "'object'>"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="found <U1"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([rt.ones(2), rt.ones(3)])


def test_default_convert():
    out = default_convert({"a": np.arange(3), "b": (np.float32(1.0), "s")})
    assert isinstance(out["a"], rt.Tensor) and out["a"].tolist() == [0, 1, 2]
    assert isinstance(out["b"], list) and out["b"][0].dtype == rt.float32 and out["b"][1] == "s"
    p = default_convert(Point(np.zeros(1), 3))
    assert isinstance(p, Point) and isinstance(p.x, rt.Tensor) and p.y == 3
    s = np.array(["a"])
    assert default_convert(s) is s
    t = rt.ones(2)
    assert default_convert(t) is t


def test_no_warnings_on_plain_use():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        list(DataLoader(TensorDataset(rt.randn(10, 2)), batch_size=3, shuffle=True))
