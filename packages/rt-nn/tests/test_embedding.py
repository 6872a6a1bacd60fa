"""Embedding and one_hot: lookup against numpy, padding_idx (zero row at init, no gradient),
scale_grad_by_freq, max_norm renormalisation, from_pretrained, init distribution, gradcheck
and double backward, state_dict, repr, errors."""
import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
import rt_nn.functional as F
from rt_autograd.testing import gradcheck, gradgradcheck


def _rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("idx_shape", [(5,), (2, 3), (2, 2, 2), ()])
@pytest.mark.parametrize("idx_dtype", [rt.int64, rt.int32])
def test_lookup(idx_shape, idx_dtype):
    w = _rng().standard_normal((7, 3))
    idx = _rng(1).integers(0, 7, idx_shape)
    y = F.embedding(rt.tensor(idx, dtype=idx_dtype), rt.tensor(w))
    assert tuple(y.shape) == idx_shape + (3,)
    np.testing.assert_array_equal(y.numpy(), w[idx])


def ref_grad(idx, g, num, padding_idx=None, scale_grad_by_freq=False):
    out = np.zeros((num, g.shape[-1]))
    flat, g2 = idx.reshape(-1), g.reshape(-1, g.shape[-1])
    counts = np.bincount(flat, minlength=num)
    for i, k in enumerate(flat):
        if k == padding_idx:
            continue
        out[k] += g2[i] / (counts[k] if scale_grad_by_freq else 1)
    return out


@pytest.mark.parametrize("padding_idx,sgbf", [(None, False), (2, False), (None, True), (-1, True)])
def test_weight_gradient(padding_idx, sgbf):
    w = rt.tensor(_rng().standard_normal((6, 4)), requires_grad=True)
    idx = np.array([[1, 2, 2, 5], [0, 5, 2, 3]])
    y = F.embedding(rt.tensor(idx), w, padding_idx=padding_idx, scale_grad_by_freq=sgbf)
    g = _rng(2).standard_normal(tuple(y.shape))
    y.backward(rt.tensor(g))
    pidx = None if padding_idx is None else padding_idx % 6
    np.testing.assert_allclose(w.grad.numpy(), ref_grad(idx, g, 6, pidx, sgbf), rtol=1e-12)
    assert y.grad_fn.name() == "EmbeddingBackward0"


@pytest.mark.parametrize("padding_idx,sgbf", [(None, False), (1, True)])
def test_gradcheck(padding_idx, sgbf):
    w = rt.tensor(_rng().standard_normal((5, 3)), requires_grad=True)
    idx = rt.tensor([[0, 1, 1], [4, 3, 1]])
    fn = lambda t: F.embedding(idx, t, padding_idx, scale_grad_by_freq=sgbf)  # noqa: E731
    if padding_idx is None:
        assert gradcheck(fn, (w,))
    assert gradgradcheck(fn, (w,))


def test_padding_row_gets_no_gradient_even_when_nonzero():
    w = rt.tensor(_rng().standard_normal((4, 2)), requires_grad=True)
    F.embedding(rt.tensor([0, 0, 3]), w, padding_idx=0).sum().backward()
    assert w.grad.numpy()[0].tolist() == [0.0, 0.0]
    assert w.grad.numpy()[3].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0])
def test_max_norm_renormalises_looked_up_rows(norm_type):
    w0 = (_rng(3).standard_normal((6, 4)) * 3)
    w = rt.tensor(w0)
    idx = np.array([4, 1, 4, 0])
    y = F.embedding(rt.tensor(idx), w, max_norm=1.0, norm_type=norm_type)
    expected = w0.copy()
    for k in set(idx.tolist()):
        n = np.linalg.norm(w0[k], ord=norm_type)
        if n > 1.0:
            expected[k] = w0[k] * (1.0 / (n + 1e-7))
    np.testing.assert_allclose(w.numpy(), expected, rtol=1e-12)      # in place, rows 0, 1, 4
    np.testing.assert_allclose(y.numpy(), expected[idx], rtol=1e-12)
    np.testing.assert_array_equal(w.numpy()[[2, 3, 5]], w0[[2, 3, 5]])


def test_module_init_and_state_dict():
    rt.manual_seed(0)
    e = nn.Embedding(1000, 64, padding_idx=-2)
    assert e.padding_idx == 998
    w = e.weight.detach().numpy()
    assert (w[998] == 0).all() and w.dtype == np.float32
    rest = np.delete(w, 998, axis=0)
    assert abs(rest.mean()) < 0.01 and abs(rest.std() - 1) < 0.01     # normal(0, 1)
    assert list(e.state_dict()) == ["weight"]
    e2 = nn.Embedding(1000, 64)
    e2.load_state_dict(e.state_dict())
    np.testing.assert_array_equal(e2.weight.detach().numpy(), w)
    assert nn.Embedding(3, 2, dtype=rt.float64).weight.dtype == rt.float64
    assert e.double().weight.dtype == rt.float64


def test_module_forward_backward():
    e = nn.Embedding(10, 3, padding_idx=0)
    idx = rt.tensor([[0, 2, 9], [2, 2, 1]])
    y = e(idx)
    np.testing.assert_array_equal(y.detach().numpy(), e.weight.detach().numpy()[idx.numpy()])
    y.sum().backward()
    grad = e.weight.grad.numpy()
    assert grad[0].tolist() == [0.0] * 3 and grad[2].tolist() == [3.0] * 3


def test_from_pretrained():
    w = rt.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    e = nn.Embedding.from_pretrained(w)
    assert not e.weight.requires_grad
    assert e(rt.tensor([2, 0])).tolist() == [[4.0, 5.0], [0.0, 1.0]]
    e = nn.Embedding.from_pretrained(w, freeze=False, padding_idx=1)
    assert e.weight.requires_grad and e.weight.detach().numpy()[1].tolist() == [2.0, 3.0]
    with pytest.raises(AssertionError, match="Embeddings parameter is expected to be "
                                             "2-dimensional"):
        nn.Embedding.from_pretrained(rt.zeros(3))


@pytest.mark.parametrize("kwargs,text", [
    ({}, "Embedding(10, 3)"),
    ({"padding_idx": -1}, "Embedding(10, 3, padding_idx=9)"),
    ({"max_norm": 2.0, "norm_type": 1.0}, "Embedding(10, 3, max_norm=2.0, norm_type=1.0)"),
    ({"scale_grad_by_freq": True, "sparse": True},
     "Embedding(10, 3, scale_grad_by_freq=True, sparse=True)"),
])
def test_repr(kwargs, text):
    assert repr(nn.Embedding(10, 3, **kwargs)) == text


@pytest.mark.parametrize("call,exc,match", [
    (lambda: nn.Embedding(3, 2, padding_idx=3), AssertionError,
     "Padding_idx must be within num_embeddings"),
    (lambda: nn.Embedding(3, 2, padding_idx=-4), AssertionError,
     "Padding_idx must be within num_embeddings"),
    (lambda: nn.Embedding(-1, 2), ValueError, "num_embeddings"),
    (lambda: nn.Embedding(3, -2), ValueError, "embedding_dim"),
    (lambda: nn.Embedding(3, 2, _weight=rt.zeros(2, 2)), AssertionError,
     "Shape of weight does not match num_embeddings and embedding_dim"),
    (lambda: F.embedding(rt.tensor([1.0]), rt.zeros(3, 2)), RuntimeError,
     "Expected tensor for argument #1 'indices' to have one of the following scalar types: "
     "Long, Int; but got torch.FloatTensor instead"),
    (lambda: F.embedding(rt.tensor([3]), rt.zeros(3, 2)), IndexError,
     "index out of range in self"),
    (lambda: F.embedding(rt.tensor([1]), rt.zeros(3)), RuntimeError, "'weight' must be 2-D"),
    (lambda: F.embedding(rt.tensor([1]), rt.zeros(3, 2, requires_grad=True), sparse=True),
     NotImplementedError, "sparse"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ---- one_hot -------------------------------------------------------------------------------------

@pytest.mark.parametrize("num_classes", [-1, 4, 6])
def test_one_hot(num_classes):
    x = np.array([[0, 3], [1, 1]])
    y = F.one_hot(rt.tensor(x), num_classes)
    n = 4 if num_classes == -1 else num_classes
    assert y.dtype == rt.int64
    np.testing.assert_array_equal(y.numpy(), np.eye(n, dtype=np.int64)[x])
    assert F.one_hot(rt.tensor([], dtype=rt.int64), 3).shape == (0, 3)


@pytest.mark.parametrize("call,match", [
    (lambda: F.one_hot(rt.tensor([1.0]), 3), "one_hot is only applicable to index tensor of "
                                             "type LongTensor."),
    (lambda: F.one_hot(rt.tensor([-1]), 3), "Class values must be non-negative."),
    (lambda: F.one_hot(rt.tensor([3]), 3), "Class values must be smaller than num_classes."),
    (lambda: F.one_hot(rt.tensor([], dtype=rt.int64)), "Can not infer total number of classes "
                                                        "from empty tensor."),
])
def test_one_hot_errors(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()
