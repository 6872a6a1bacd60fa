"""rt_tensor._nn_pool.max_pool2d on 2x2 stride-2 windows (the SIMD path) against a numpy
reshape-and-max oracle: values and indices, float32/float64, NaN (the last NaN of the
window in row-major order wins, as in PyTorch's kernel), -inf, signed zeros and ties (the
first maximum wins), odd sizes, rows narrower and wider than a vector, threads."""
import numpy as np
import pytest

import rt_tensor as rtt
from rt_tensor import _nn_pool as K


def _oracle(a):
    """(values, indices) of 2x2 stride-2 pooling of a (..., H, W) array, floor mode: the
    scalar walk over the window in row-major order, taking v when v > best or v is NaN."""
    H, W = a.shape[-2:]
    oh, ow = H // 2, W // 2
    c = a[..., : 2 * oh, : 2 * ow].reshape(a.shape[:-2] + (oh, 2, ow, 2))
    c = np.moveaxis(c, -3, -2).reshape(a.shape[:-2] + (oh, ow, 4))   # window, row-major
    best = np.full(c.shape[:-1], -np.inf, a.dtype)
    pos = np.zeros(c.shape[:-1], np.int64)
    for t in range(4):
        v = c[..., t]
        take = (v > best) | np.isnan(v)
        best = np.where(take, v, best)
        pos = np.where(take, t, pos)
    i = np.arange(oh)[:, None]
    j = np.arange(ow)[None, :]
    idx = (2 * i + pos // 2) * W + 2 * j + pos % 2
    return best, idx


def _run(a, indices):
    H, W = a.shape[-2:]
    y, i = K.max_pool2d(rtt.tensor(a), 2, 2, 2, 2, 0, 0, 1, 1, H // 2, W // 2, indices)
    return y.numpy(), (i.numpy() if indices else None)


def _check(a):
    want, want_i = _oracle(a)
    for indices in (False, True):
        got, got_i = _run(a, indices)
        assert got.dtype == a.dtype and got.shape == want.shape
        # bit-equal: the sign of zeros and NaN payloads included
        np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))
        if indices:
            np.testing.assert_array_equal(got_i, want_i)


SHAPES = [(2, 3, 28, 28), (2, 3, 27, 27), (1, 16, 14, 14), (3, 2, 7, 7), (2, 2, 2, 2),
          (1, 1, 3, 3), (1, 2, 5, 9), (1, 1, 2, 16), (1, 1, 2, 17), (1, 1, 4, 18),
          (2, 1, 6, 30), (1, 3, 8, 33), (1, 1, 2, 64), (1, 1, 3, 70), (2, 2, 9, 100),
          (5, 4), (3, 6, 8)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_random(shape, dtype):
    a = np.random.default_rng(sum(shape)).standard_normal(shape).astype(dtype)
    _check(a)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(2, 3, 28, 28), (1, 2, 7, 9), (1, 1, 2, 34), (1, 2, 6, 21)])
def test_nan_inf_ties_zeros(shape, dtype):
    rng = np.random.default_rng(7)
    # few distinct values: ties everywhere; signed zeros; -inf, +inf; NaNs with distinct
    # payloads and signs (the last one in the window wins)
    nan1 = np.array([0x7FC00001], np.uint32).view(np.float32)[0]
    nan2 = np.array([0xFFC00002], np.uint32).view(np.float32)[0]
    pool = np.array([0.0, -0.0, 1.0, -1.0, -np.inf, np.inf, np.nan, -np.nan], dtype)
    a = pool[rng.integers(0, 8, shape)]
    if dtype == np.float32:
        flat = a.reshape(-1)
        flat[rng.integers(0, flat.size, flat.size // 8)] = nan1
        flat[rng.integers(0, flat.size, flat.size // 8)] = nan2
    _check(a)
    _check(np.full(shape, -np.inf, dtype))                      # all -inf: first index
    _check(np.where(rng.random(shape) < 0.5, -0.0, 0.0).astype(dtype))
    b = np.full(shape, -np.inf, dtype)
    b[..., 1::2, 1::2] = np.nan                                  # NaN only at the last slot
    _check(b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_window_position(dtype):
    # each window's max (or NaN) at each of the 4 positions, over vector and tail lanes
    for W in (8, 16, 18, 34):
        for t in range(4):
            for special in (5.0, np.nan):
                a = np.zeros((1, 1, 4, W), dtype)
                a[..., t // 2::2, t % 2::2] = special
                _check(a)
                a[..., :, ::3] = -1.0
                _check(a)


def test_threads_agree():
    a = np.random.default_rng(3).standard_normal((64, 16, 28, 28)).astype(np.float32)
    a[0, 0, 0, 0] = np.nan
    want, want_i = _oracle(a)
    old = rtt.get_num_threads()
    try:
        for n in (1, 2, 3):
            rtt.set_num_threads(n)
            got, got_i = _run(a, True)
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(got_i, want_i)
            got, _ = _run(a, False)
            np.testing.assert_array_equal(got, want)
    finally:
        rtt.set_num_threads(old)


# ---- any window (the generic walk, whose rows go in vectors for column strides 1 and 2) ----

def _out(n, k, p, s, d, ceil):
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    return out


def _oracle_any(a, k, s, p, d, ceil):
    """PyTorch's walk: for each output, the window's valid positions in row-major order,
    starting from -inf at the first valid position; take v when v > best or v is NaN."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = k, s, p, d
    H, W = a.shape[-2:]
    oh, ow = _out(H, kh, ph, sh, dh, ceil), _out(W, kw, pw, sw, dw, ceil)
    lead = a.shape[:-2]
    out = np.empty(lead + (oh, ow), a.dtype)
    idx = np.empty(lead + (oh, ow), np.int64)
    for i in range(oh):
        rows = [i * sh - ph + t * dh for t in range(kh)]
        rows = [r for r in rows if 0 <= r < H]
        for j in range(ow):
            cols = [j * sw - pw + t * dw for t in range(kw)]
            cols = [c for c in cols if 0 <= c < W]
            best = np.full(lead, -np.inf, a.dtype)
            pos = np.full(lead, rows[0] * W + cols[0], np.int64)
            for r in rows:
                for c in cols:
                    v = a[..., r, c]
                    take = (v > best) | np.isnan(v)
                    best = np.where(take, v, best)
                    pos = np.where(take, r * W + c, pos)
            out[..., i, j] = best
            idx[..., i, j] = pos
    return out, idx


def _check_any(a, k, s, p, d=(1, 1), ceil=False):
    want, want_i = _oracle_any(a, k, s, p, d, ceil)
    oh, ow = want.shape[-2:]
    for indices in (False, True):
        got, got_i = K.max_pool2d(rtt.tensor(a), k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1],
                                  oh, ow, indices)
        np.testing.assert_array_equal(got.numpy().view(np.uint8), want.view(np.uint8))
        if indices:
            np.testing.assert_array_equal(got_i.numpy(), want_i)


WINDOWS = [  # kernel, stride, padding, dilation, ceil_mode
    ((3, 3), (2, 2), (1, 1), (1, 1), False), ((3, 3), (1, 1), (1, 1), (1, 1), False),
    ((2, 2), (1, 1), (0, 0), (1, 1), False), ((3, 3), (2, 2), (0, 0), (1, 1), False),
    ((2, 2), (2, 2), (0, 0), (1, 1), True), ((2, 2), (2, 2), (1, 1), (1, 1), False),
    ((3, 3), (2, 2), (1, 1), (2, 2), False), ((5, 5), (2, 2), (2, 2), (1, 1), True),
    ((2, 3), (1, 2), (1, 1), (1, 1), False), ((1, 3), (1, 1), (0, 1), (1, 3), False),
    ((3, 1), (3, 3), (1, 0), (1, 1), True)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("hw", [(28, 28), (9, 37), (6, 16), (5, 7)])
def test_any_window(window, hw, dtype):
    k, s, p, d, ceil = window
    rng = np.random.default_rng(hw[1] * 31 + k[0])
    a = rng.standard_normal((2, 3) + hw).astype(dtype)
    _check_any(a, k, s, p, d, ceil)
    # ties, signed zeros, infinities and NaNs (the last NaN of a window wins)
    pool = np.array([0.0, -0.0, 1.0, -np.inf, np.inf, np.nan, -np.nan, 1.0], dtype)
    _check_any(pool[rng.integers(0, 8, (2, 2) + hw)], k, s, p, d, ceil)
    _check_any(np.full((1, 2) + hw, -np.inf, dtype), k, s, p, d, ceil)


def test_any_window_threads():
    a = np.random.default_rng(5).standard_normal((7, 5, 28, 30)).astype(np.float32)
    a[3, 2, 27, 29] = np.nan
    old = rtt.get_num_threads()
    try:
        for n in (1, 2, 3):
            rtt.set_num_threads(n)
            _check_any(a, (3, 3), (2, 2), (1, 1))
            _check_any(a, (3, 3), (1, 1), (0, 0))
    finally:
        rtt.set_num_threads(old)
