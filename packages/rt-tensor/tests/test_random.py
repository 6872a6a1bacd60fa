"""The Philox generator and sampling functions: reproducibility (same seed, threads, across
processes), distribution tests over 1e6 samples (means/variances within a few standard
errors, Kolmogorov-Smirnov statistics written with numpy), bounds and errors."""
import math
import subprocess
import sys

import numpy as np
import pytest

import rt_tensor as rtt
from rt_tensor import _random

N = 1_000_000
FLOATS = [rtt.float16, rtt.bfloat16, rtt.float32, rtt.float64]


def np_of(t):
    return t.float().numpy() if t.dtype == rtt.bfloat16 else t.numpy()


def ks_statistic(samples, cdf):
    x = np.sort(np.asarray(samples, dtype=np.float64))
    n = x.size
    f = cdf(x)
    d_plus = np.max(np.arange(1, n + 1) / n - f)
    d_minus = np.max(f - np.arange(0, n) / n)
    return max(d_plus, d_minus)


def ks_limit(n):
    return 1.95 / math.sqrt(n)     # ~0.1% significance


def normal_cdf(x):
    from math import erf
    return 0.5 * (1 + np.vectorize(erf)(x / math.sqrt(2)))


# ---- the generator ----------------------------------------------------------------------

def test_philox_known_answers():
    # Random123's kat_vectors for philox4x32_10
    assert _random._philox_kat((0, 0, 0, 0), (0, 0)) == (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)
    assert _random._philox_kat((0xffffffff,) * 4, (0xffffffff,) * 2) == (
        0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)
    assert _random._philox_kat((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344),
                           (0xa4093822, 0x299f31d0)) == (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1)


def test_manual_seed_reproducible():
    g = rtt.manual_seed(123)
    assert g is rtt.default_generator
    a = rtt.rand(1000).numpy().copy()
    b = rtt.randn(7, 3).numpy().copy()
    rtt.manual_seed(123)
    np.testing.assert_array_equal(rtt.rand(1000).numpy(), a)
    np.testing.assert_array_equal(rtt.randn(7, 3).numpy(), b)
    assert rtt.initial_seed() == 123
    c = rtt.rand(1000).numpy()
    assert not np.array_equal(a, c)


def test_generator_objects_are_independent():
    g1 = rtt.Generator().manual_seed(5)
    g2 = rtt.Generator().manual_seed(5)
    rtt.manual_seed(0)
    a = rtt.rand(10, generator=g1).numpy().copy()
    rtt.rand(10)
    np.testing.assert_array_equal(rtt.rand(10, generator=g2).numpy(), a)
    assert g1.initial_seed() == 5
    with pytest.raises(TypeError):
        rtt.rand(3, generator=object())


def test_state_round_trip():
    rtt.manual_seed(42)
    rtt.rand(5)
    state = rtt.get_rng_state()
    assert state.dtype == rtt.uint8
    a = rtt.randn(100).numpy().copy()
    rtt.set_rng_state(state)
    np.testing.assert_array_equal(rtt.randn(100).numpy(), a)
    g = rtt.Generator()
    g.set_state(state)
    np.testing.assert_array_equal(rtt.randn(100, generator=g).numpy(), a)
    with pytest.raises(TypeError):
        rtt.set_rng_state(rtt.zeros(16))
    with pytest.raises(RuntimeError):
        rtt.set_rng_state(rtt.zeros(3, dtype=rtt.uint8))


def test_seed_and_negative_seeds():
    s = rtt.seed()
    assert rtt.initial_seed() == s
    rtt.manual_seed(-1)
    assert rtt.initial_seed() == 2**64 - 1
    with pytest.raises(RuntimeError):
        rtt.manual_seed(2**64)


def test_same_numbers_with_1_and_2_threads():
    old = rtt.get_num_threads()
    try:
        results = []
        for nt in (1, 2):
            rtt.set_num_threads(nt)
            g = rtt.Generator().manual_seed(7)
            results.append([rtt.rand(300_001, generator=g).numpy().copy(),
                            rtt.randn(300_001, dtype=rtt.float64, generator=g).numpy().copy(),
                            rtt.randint(0, 1000, (300_001,), generator=g).numpy().copy(),
                            rtt.poisson(rtt.full((50_000,), 20.0), generator=g).numpy().copy()])
        for a, b in zip(*results):
            np.testing.assert_array_equal(a, b)
    finally:
        rtt.set_num_threads(old)


def test_same_numbers_across_processes():
    code = ("import rt_tensor as rtt; rtt.manual_seed(99); "
            "print(','.join(repr(v) for v in rtt.randn(5, dtype=rtt.float64).tolist()))")
    out = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout for _ in range(2)]
    assert out[0] == out[1]
    rtt.manual_seed(99)
    here = ",".join(repr(v) for v in rtt.randn(5, dtype=rtt.float64).tolist())
    assert out[0].strip() == here


# ---- distributions ----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [rtt.float32, rtt.float64])
def test_rand_uniform(dtype):
    rtt.manual_seed(1)
    x = rtt.rand(N, dtype=dtype).numpy().astype(np.float64)
    assert x.min() >= 0 and x.max() < 1
    se = math.sqrt(1 / 12 / N)
    assert abs(x.mean() - 0.5) < 5 * se
    assert abs(x.var() - 1 / 12) < 0.002
    assert ks_statistic(x, lambda v: v) < ks_limit(N)


@pytest.mark.parametrize("dtype", [rtt.float32, rtt.float64])
def test_randn_normal(dtype):
    rtt.manual_seed(2)
    x = rtt.randn(N, dtype=dtype).numpy().astype(np.float64)
    assert abs(x.mean()) < 5 / math.sqrt(N)
    assert abs(x.var() - 1) < 5 * math.sqrt(2 / N)
    sub = x[:200_000]
    assert ks_statistic(sub, normal_cdf) < ks_limit(sub.size)


@pytest.mark.parametrize("dtype", FLOATS + [rtt.complex64, rtt.complex128])
def test_dtypes_supported(dtype):
    t = rtt.rand(1000, dtype=dtype)
    assert t.dtype == dtype and t.shape == (1000,)
    n = rtt.randn(2, 3, dtype=dtype)
    assert n.dtype == dtype and n.shape == (2, 3)
    if not dtype.is_complex:
        v = np_of(t)
        assert v.min() >= 0 and v.max() <= 1


def test_complex_randn_variance():
    rtt.manual_seed(3)
    z = rtt.randn(N // 2, dtype=rtt.complex128).numpy()
    assert abs(np.mean(np.abs(z) ** 2) - 1) < 0.01
    assert abs(z.real.var() - 0.5) < 0.01


def test_rand_errors_and_shapes():
    with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
        rtt.rand(3, dtype=rtt.int64)
    with pytest.raises(RuntimeError, match="not implemented"):
        rtt.randn(3, dtype=rtt.int32)
    with pytest.raises(RuntimeError, match="negative"):
        rtt.rand(-1)
    assert rtt.rand(2, 3).shape == (2, 3)
    assert rtt.rand((2, 3)).shape == (2, 3)
    assert rtt.rand([]).shape == ()
    assert rtt.randn(0, 4).shape == (0, 4)
    out = rtt.empty(4)
    assert rtt.rand(4, out=out) is out


def test_randint():
    rtt.manual_seed(4)
    x = rtt.randint(3, 10, (N,))
    assert x.dtype == rtt.int64
    a = x.numpy()
    assert a.min() == 3 and a.max() == 9
    counts = np.bincount(a - 3, minlength=7)
    expected = N / 7
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 24.3       # chi-square, 6 degrees of freedom, p = 0.0005
    assert rtt.randint(5, (2, 2)).shape == (2, 2)
    assert rtt.randint(5, size=(3,)).numpy().max() < 5
    assert rtt.randint(low=2, high=4, size=(10,)).numpy().min() >= 2
    big = rtt.randint(-2**62, 2**62, (1000,)).numpy()
    assert big.min() < -2**60 and big.max() > 2**60
    assert rtt.randint(0, 2, (10,), dtype=rtt.bool).dtype == rtt.bool
    assert rtt.randint(0, 5, (10,), dtype=rtt.float32).dtype == rtt.float32
    u = rtt.randint(0, 256, (1000,), dtype=rtt.uint8).numpy()
    assert u.max() > 200
    with pytest.raises(RuntimeError, match="from"):
        rtt.randint(5, 3, (2,))
    with pytest.raises(RuntimeError):
        rtt.randint(0, 300, (2,), dtype=rtt.uint8)
    with pytest.raises(TypeError):
        rtt.randint(5)


def test_randperm():
    rtt.manual_seed(5)
    for n in (0, 1, 2, 10, 100_000):
        p = rtt.randperm(n)
        assert p.dtype == rtt.int64
        np.testing.assert_array_equal(np.sort(p.numpy()), np.arange(n))
    assert rtt.randperm(5, dtype=rtt.int32).dtype == rtt.int32
    # every position is uniform: first element over many draws
    firsts = np.array([rtt.randperm(4)[0].item() for _ in range(4000)])
    counts = np.bincount(firsts, minlength=4)
    assert ((counts - 1000) ** 2 / 1000).sum() < 16.3     # 3 dof, p = 0.001
    with pytest.raises(RuntimeError):
        rtt.randperm(-1)


def test_normal_overloads():
    rtt.manual_seed(6)
    x = rtt.normal(2.0, 3.0, (N,)).numpy().astype(np.float64)
    assert abs(x.mean() - 2) < 5 * 3 / math.sqrt(N)
    assert abs(x.std() - 3) < 0.02
    m = rtt.arange(4.0)
    s = rtt.full((4,), 0.0)
    np.testing.assert_array_equal(rtt.normal(m, s).numpy(), m.numpy())
    assert rtt.normal(m).shape == (4,)
    assert rtt.normal(1.0, rtt.ones(2, 3)).shape == (2, 3)
    r = rtt.normal(rtt.zeros(3, 1), rtt.ones(1, 4))
    assert r.shape == (3, 4)
    assert rtt.normal(m.double(), 1.0).dtype == rtt.float64
    with pytest.raises(RuntimeError, match="std"):
        rtt.normal(0.0, -1.0, (3,))
    with pytest.raises(RuntimeError, match="std"):
        rtt.normal(m, rtt.full((4,), -1.0))
    with pytest.raises(RuntimeError):
        rtt.normal(rtt.zeros(3, dtype=rtt.int64), 1.0)


def test_bernoulli():
    rtt.manual_seed(7)
    p = rtt.full((N,), 0.3)
    x = rtt.bernoulli(p)
    assert x.dtype == rtt.float32
    a = x.numpy()
    assert set(np.unique(a)) <= {0.0, 1.0}
    assert abs(a.mean() - 0.3) < 5 * math.sqrt(0.21 / N)
    y = rtt.bernoulli(rtt.zeros(1000), 0.75).numpy()
    assert 0.65 < y.mean() < 0.85
    assert rtt.bernoulli(rtt.tensor([0.0, 1.0])).tolist() == [0.0, 1.0]
    assert p.bernoulli().shape == (N,)
    with pytest.raises(RuntimeError):
        rtt.bernoulli(rtt.tensor([1.5]))
    with pytest.raises(RuntimeError):
        rtt.bernoulli(rtt.zeros(3), 2.0)


def test_multinomial():
    rtt.manual_seed(8)
    w = rtt.tensor([1.0, 0.0, 3.0, 6.0])
    s = rtt.multinomial(w, 100_000, replacement=True)
    assert s.dtype == rtt.int64 and s.shape == (100_000,)
    counts = np.bincount(s.numpy(), minlength=4)
    assert counts[1] == 0
    np.testing.assert_allclose(counts / 100_000, [0.1, 0.0, 0.3, 0.6], atol=0.01)
    s2 = rtt.multinomial(w, 3)
    assert sorted(s2.tolist()) == [0, 2, 3]
    rows = rtt.multinomial(rtt.ones(5, 10), 10)
    for r in rows.numpy():
        assert sorted(r) == list(range(10))
    assert w.multinomial(2).shape == (2,)
    with pytest.raises(RuntimeError, match="without replacement"):
        rtt.multinomial(w, 5)
    with pytest.raises(RuntimeError):
        rtt.multinomial(rtt.tensor([-1.0, 2.0]), 1)
    with pytest.raises(RuntimeError):
        rtt.multinomial(rtt.zeros(3), 1)
    with pytest.raises(RuntimeError):
        rtt.multinomial(w, 4)      # only 3 non-zero categories


@pytest.mark.parametrize("lam", [0.5, 4.0, 30.0, 1000.0])
def test_poisson(lam):
    rtt.manual_seed(9)
    x = rtt.poisson(rtt.full((200_000,), lam)).numpy().astype(np.float64)
    assert (x >= 0).all() and (x == np.round(x)).all()
    assert abs(x.mean() - lam) < 5 * math.sqrt(lam / x.size)
    assert abs(x.var() - lam) < 0.05 * lam
    assert rtt.poisson(rtt.zeros(3)).tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(RuntimeError):
        rtt.poisson(rtt.tensor([-1.0]))


def test_like_functions():
    x = rtt.zeros(3, 4, dtype=rtt.float64)
    assert rtt.rand_like(x).dtype == rtt.float64
    assert rtt.randn_like(x).shape == (3, 4)
    r = rtt.randint_like(x, 10)
    assert r.dtype == rtt.float64 and r.numpy().max() < 10
    r = rtt.randint_like(rtt.zeros(100, dtype=rtt.int32), 5, 8)
    assert r.dtype == rtt.int32 and r.numpy().min() >= 5 and r.numpy().max() < 8
    with pytest.raises(RuntimeError):
        rtt.rand_like(rtt.zeros(2, dtype=rtt.int64))


# ---- in-place methods -------------------------------------------------------------------

def test_uniform_and_normal_inplace():
    rtt.manual_seed(10)
    t = rtt.empty(N)
    t.uniform_(-2, 3)
    a = t.numpy().astype(np.float64)
    assert a.min() >= -2 and a.max() < 3 and abs(a.mean() - 0.5) < 0.01
    t.normal_(5, 2)
    a = t.numpy().astype(np.float64)
    assert abs(a.mean() - 5) < 0.01 and abs(a.std() - 2) < 0.01
    nc = rtt.zeros(100, 100).t()
    nc.uniform_()
    assert nc.stride() == (1, 100) and nc.numpy().min() > 0 - 1e-12 and nc.numpy().max() < 1
    assert (nc.numpy() != 0).mean() > 0.99
    with pytest.raises(RuntimeError):
        t.uniform_(3, 2)
    with pytest.raises(RuntimeError):
        rtt.zeros(3, dtype=rtt.int64).uniform_()
    with pytest.raises(RuntimeError):
        t.normal_(0, -1)
    for d in FLOATS:
        assert rtt.empty(10, dtype=d).uniform_(0, 1).dtype == d


def test_random_inplace():
    rtt.manual_seed(11)
    t = rtt.empty(10_000, dtype=rtt.int64)
    t.random_(5, 9)
    assert t.numpy().min() == 5 and t.numpy().max() == 8
    t.random_(3)
    assert t.numpy().max() == 2
    u = rtt.empty(1000, dtype=rtt.uint8).random_()
    assert u.numpy().max() > 200
    f = rtt.empty(1000).random_()
    assert f.numpy().min() >= 0 and f.numpy().max() <= 2**24
    b = rtt.empty(1000, dtype=rtt.bool).random_()
    assert 0 < b.numpy().mean() < 1
    with pytest.raises(RuntimeError):
        t.random_(5, 2)


def test_other_inplace_distributions():
    rtt.manual_seed(12)
    t = rtt.empty(N, dtype=rtt.float64)
    t.exponential_(2.0)
    a = t.numpy()
    assert a.min() > 0 and abs(a.mean() - 0.5) < 5 * 0.5 / math.sqrt(N)
    assert ks_statistic(a[:100_000], lambda v: 1 - np.exp(-2 * v)) < ks_limit(100_000)
    t.geometric_(0.25)
    a = t.numpy()
    assert a.min() >= 1 and (a == np.round(a)).all() and abs(a.mean() - 4) < 0.02
    t.log_normal_(0.0, 0.5)
    a = np.log(t.numpy())
    assert abs(a.mean()) < 0.005 and abs(a.std() - 0.5) < 0.005
    t.cauchy_(1.0, 2.0)
    assert abs(np.median(t.numpy()) - 1) < 0.02
    t.bernoulli_(0.25)
    assert abs(t.numpy().mean() - 0.25) < 0.003
    t2 = rtt.zeros(4)
    t2.bernoulli_(rtt.tensor([0.0, 1.0, 0.0, 1.0]))
    assert t2.tolist() == [0.0, 1.0, 0.0, 1.0]
    assert rtt.zeros(10, dtype=rtt.int32).geometric_(0.5).numpy().min() >= 1
    with pytest.raises(RuntimeError):
        t.exponential_(0)
    with pytest.raises(RuntimeError):
        t.geometric_(1.5)
    with pytest.raises(RuntimeError):
        t.bernoulli_(1.5)
    with pytest.raises(RuntimeError):
        t.cauchy_(0, -1)
    with pytest.raises(RuntimeError):
        t.log_normal_(0, 0)


def test_inplace_bumps_version_and_returns_self():
    t = rtt.empty(5)
    v = t._version
    assert t.uniform_() is t
    assert t._version > v
