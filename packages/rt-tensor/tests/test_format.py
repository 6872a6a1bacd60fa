"""repr/str of tensors: the strings PyTorch 2.x prints for the same data (with
``torch.`` -> ``rt_tensor.`` in dtype suffixes)."""
import numpy as np
import pytest

import rt_tensor as rtt


@pytest.fixture(autouse=True)
def _restore_printoptions():
    yield
    rtt.set_printoptions(profile="default")


@pytest.mark.parametrize("make,expected", [
    (lambda: rtt.tensor([1.0, 2.0, 3.0]), "tensor([1., 2., 3.])"),
    (lambda: rtt.tensor([1, 2, 3]), "tensor([1, 2, 3])"),
    (lambda: rtt.tensor([True, False]), "tensor([ True, False])"),
    (lambda: rtt.tensor(3.5), "tensor(3.5000)"),
    (lambda: rtt.tensor(3), "tensor(3)"),
    (lambda: rtt.tensor(2.0), "tensor(2.)"),
    (lambda: rtt.tensor(True), "tensor(True)"),
    (lambda: rtt.tensor([1.5, -2.25]), "tensor([ 1.5000, -2.2500])"),
    (lambda: rtt.tensor([1e10]), "tensor([1.0000e+10])"),
    (lambda: rtt.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
    (lambda: rtt.tensor([1.0, 1000.0]), "tensor([   1., 1000.])"),
    (lambda: rtt.tensor([1.0, 10000.0]), "tensor([1.0000e+00, 1.0000e+04])"),
    (lambda: rtt.tensor([0.0, 0.0]), "tensor([0., 0.])"),
    (lambda: rtt.tensor([float("nan"), 1.0, float("inf")]), "tensor([nan, 1., inf])"),
    (lambda: rtt.tensor([float("nan"), 1.5, -float("inf")]), "tensor([   nan, 1.5000,   -inf])"),
    (lambda: rtt.tensor([1, 2], dtype=rtt.int32), "tensor([1, 2], dtype=rt_tensor.int32)"),
    (lambda: rtt.tensor([1, 2], dtype=rtt.uint8), "tensor([1, 2], dtype=rt_tensor.uint8)"),
    (lambda: rtt.tensor([1.0, 2.5], dtype=rtt.float64),
     "tensor([1.0000, 2.5000], dtype=rt_tensor.float64)"),
    (lambda: rtt.tensor([1.0, 2.5], dtype=rtt.float16),
     "tensor([1.0000, 2.5000], dtype=rt_tensor.float16)"),
    (lambda: rtt.tensor([1.0, 2.0], dtype=rtt.bfloat16),
     "tensor([1., 2.], dtype=rt_tensor.bfloat16)"),
    (lambda: rtt.tensor([1 + 2j]), "tensor([1.+2.j])"),
    (lambda: rtt.tensor([1 + 2j, -1.5 - 0.5j]), "tensor([ 1.0000+2.0000j, -1.5000-0.5000j])"),
    (lambda: rtt.tensor([1 + 2j], dtype=rtt.complex128),
     "tensor([1.+2.j], dtype=rt_tensor.complex128)"),
    (lambda: rtt.zeros(0, 3), "tensor([], size=(0, 3))"),
    (lambda: rtt.zeros(0), "tensor([])"),
    (lambda: rtt.zeros(0, dtype=rtt.int64), "tensor([], dtype=rt_tensor.int64)"),
    (lambda: rtt.zeros(2, 0, dtype=rtt.int32), "tensor([], size=(2, 0), dtype=rt_tensor.int32)"),
    (lambda: rtt.tensor([[1, 2], [3, 4]]), "tensor([[1, 2],\n        [3, 4]])"),
    (lambda: rtt.tensor([[0.5963, -0.3012, 0.7186], [-1.1421, 0.8052, 0.0341]]),
     "tensor([[ 0.5963, -0.3012,  0.7186],\n        [-1.1421,  0.8052,  0.0341]])"),
    (lambda: rtt.arange(8).reshape(2, 2, 2),
     "tensor([[[0, 1],\n         [2, 3]],\n\n        [[4, 5],\n         [6, 7]]])"),
])
def test_repr_matches_pytorch(make, expected):
    t = make()
    assert repr(t) == expected
    assert str(t) == expected


def test_long_vector_wraps_lines():
    expected = ("tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17,\n"
                "        18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29])")
    assert repr(rtt.arange(30)) == expected


def test_summarized():
    expected = ("tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n"
                "        1.9990e+03])")
    assert repr(rtt.arange(2000.0)) == expected
    assert repr(rtt.arange(1001)) == "tensor([   0,    1,    2,  ...,  998,  999, 1000])"
    r = repr(rtt.arange(3000).reshape(30, 100))
    lines = r.split("\n")
    assert lines[0] == "tensor([[   0,    1,    2,  ...,   97,   98,   99],"
    assert lines[3] == "        ...,"
    assert lines[-1] == "        [2900, 2901, 2902,  ..., 2997, 2998, 2999]])"
    assert len(lines) == 7


def test_non_contiguous_and_views():
    t = rtt.arange(6).reshape(2, 3).t()
    assert repr(t) == "tensor([[0, 3],\n        [1, 4],\n        [2, 5]])"
    assert repr(rtt.arange(10)[::3]) == "tensor([0, 3, 6, 9])"


def test_dtype_suffix_wraps_when_long():
    t = rtt.arange(20, dtype=rtt.int32)
    assert repr(t) == ("tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17,\n"
                       "        18, 19], dtype=rt_tensor.int32)")


def test_default_dtype_float64():
    rtt.set_default_dtype(rtt.float64)
    try:
        assert repr(rtt.tensor([1.5])) == "tensor([1.5000])"
        assert repr(rtt.tensor([1.5], dtype=rtt.float32)) == "tensor([1.5000], dtype=rt_tensor.float32)"
        assert repr(rtt.tensor([1j])) == "tensor([0.+1.j])"
    finally:
        rtt.set_default_dtype(rtt.float32)


def test_set_printoptions():
    rtt.set_printoptions(precision=2)
    assert repr(rtt.tensor([1.12345])) == "tensor([1.12])"
    rtt.set_printoptions(threshold=5)
    assert repr(rtt.arange(10)) == "tensor([0, 1, 2,  ..., 7, 8, 9])"
    rtt.set_printoptions(profile="default")
    rtt.set_printoptions(sci_mode=True)
    assert repr(rtt.tensor([1.5])) == "tensor([1.5000e+00])"
    rtt.set_printoptions(sci_mode=False)
    assert repr(rtt.tensor([1e10])) == "tensor([10000000000.])"
    rtt.set_printoptions(profile="short")
    assert rtt.get_printoptions()["precision"] == 2
    rtt.set_printoptions(profile="full")
    assert "..." not in repr(rtt.arange(2000))
    with pytest.raises(ValueError):
        rtt.set_printoptions(profile="nope")


def test_printoptions_context():
    with rtt.printoptions(precision=1):
        assert repr(rtt.tensor([1.25])) == "tensor([1.2])"
    assert repr(rtt.tensor([1.25])) == "tensor([1.2500])"


def test_extra_suffixes_hook():
    from rt_tensor._format import tensor_repr
    assert tensor_repr(rtt.tensor([1.0]), ["requires_grad=True"]) == \
        "tensor([1.], requires_grad=True)"


def test_format_spec():
    assert f"{rtt.tensor(1.5):.2f}" == "1.50"
    assert format(rtt.tensor([1, 2])) == "tensor([1, 2])"


def test_numpy_agrees_on_values():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 5)).astype(np.float32)
    text = repr(rtt.from_numpy(a))
    numbers = [float(x) for x in text.replace("tensor(", "").replace("[", " ").replace("]", " ")
               .replace(")", " ").replace(",", " ").split()]
    np.testing.assert_allclose(numbers, a.reshape(-1), atol=5e-5)
