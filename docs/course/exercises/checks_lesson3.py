"""Checks of lesson 3's exercises: ``check_<topic>(module)`` runs on the template
(``exercises/lesson3_<topic>.py``) or on the worked solution (``solutions/...``).

The oracles are independent of the code under test: numpy for LayerNorm, what
``rt_nn.Conv2d`` really returns for the shapes, a count in plain Python for the matrix.
"""
import itertools

import numpy as np

import rt_autograd as rt
import rt_nn as nn
import rt_nn.functional as F


def check_layernorm(module):
    rt.manual_seed(3)
    # the function alone, against F.layer_norm
    x, weight, bias = rt.randn(3, 7), rt.randn(7), rt.randn(7)
    assert rt.allclose(module.layer_norm(x, weight, bias),
                       F.layer_norm(x, (7,), weight, bias), rtol=1e-5, atol=1e-6)
    assert rt.allclose(module.layer_norm(x, weight, bias, eps=0.5),
                       F.layer_norm(x, (7,), weight, bias, eps=0.5), rtol=1e-5, atol=1e-6)

    mine = module.MyLayerNorm(6)
    assert list(mine.state_dict()) == ["weight", "bias"], list(mine.state_dict())
    assert all(isinstance(p, nn.Parameter) for p in mine.parameters())
    assert rt.equal(mine.weight, rt.ones(6)) and rt.equal(mine.bias, rt.zeros(6))

    reference = nn.LayerNorm(6)
    with rt.no_grad():
        reference.weight.copy_(rt.randn(6))
        reference.bias.copy_(rt.randn(6))
    result = mine.load_state_dict(reference.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []

    x_mine = (rt.randn(4, 5, 6) * 3 + 1).requires_grad_()
    x_ref = x_mine.detach().clone().requires_grad_()
    y_mine, y_ref = mine(x_mine), reference(x_ref)
    assert y_mine.shape == (4, 5, 6)

    # numpy, from the formula, in float64
    x64 = x_mine.detach().numpy().astype(np.float64)
    mean = x64.mean(axis=-1, keepdims=True)
    var = ((x64 - mean) ** 2).mean(axis=-1, keepdims=True)
    expected = ((x64 - mean) / np.sqrt(var + 1e-5) * reference.weight.detach().numpy()
                + reference.bias.detach().numpy())
    np.testing.assert_allclose(y_mine.detach().numpy(), expected, rtol=1e-5, atol=1e-5)
    assert rt.allclose(y_mine, y_ref, rtol=1e-5, atol=1e-6)

    upstream = rt.randn(4, 5, 6)
    (y_mine * upstream).sum().backward()
    (y_ref * upstream).sum().backward()
    assert rt.allclose(x_mine.grad, x_ref.grad, rtol=1e-4, atol=1e-5)
    assert rt.allclose(mine.weight.grad, reference.weight.grad, rtol=1e-4, atol=1e-5)
    assert rt.allclose(mine.bias.grad, reference.bias.grad, rtol=1e-4, atol=1e-5)

    # eps is used: a constant row has variance 0, so its output is exactly the bias
    flat = mine(rt.full((1, 6), 2.5))
    assert rt.allclose(flat, reference.bias.detach().view(1, 6), atol=1e-6)
    loose = module.MyLayerNorm(6, eps=1.0)(rt.tensor([[1.0, -1.0, 1.0, -1.0, 1.0, -1.0]]))
    assert rt.allclose(loose, rt.tensor([[1.0, -1.0] * 3]) / 2 ** 0.5, atol=1e-6)


def check_conv_shape(module):
    shape = module.conv2d_output_shape
    assert tuple(shape(8, 8, 3, padding=1)) == (8, 8)
    assert tuple(shape(28, 28, 5, stride=2)) == (12, 12)
    assert tuple(shape(7, 10, (3, 1), stride=(2, 3), padding=(0, 2), dilation=(2, 1))) == (2, 5)

    checked = 0
    for (h, w), k, s, p, d in itertools.product(
            [(8, 8), (7, 10), (13, 5)], [1, 2, 3, (3, 2)], [1, 2, (3, 1)], [0, 1, (2, 0)],
            [1, 2]):
        kh, kw = k if isinstance(k, tuple) else (k, k)
        dh, dw = (d, d)
        ph, pw = p if isinstance(p, tuple) else (p, p)
        if h + 2 * ph < dh * (kh - 1) + 1 or w + 2 * pw < dw * (kw - 1) + 1:
            continue                               # the kernel does not fit: Conv2d refuses
        conv = nn.Conv2d(1, 1, kernel_size=k, stride=s, padding=p, dilation=d, bias=False)
        with rt.no_grad():
            real = tuple(conv(rt.zeros(1, 1, h, w)).shape[2:])
        got = tuple(shape(h, w, k, stride=s, padding=p, dilation=d))
        assert got == real, f"{(h, w)} kernel {k} stride {s} padding {p} dilation {d}: " \
                            f"{got}, Conv2d gives {real}"
        checked += 1
    assert checked > 100


def check_confusion(module):
    matrix = module.confusion_matrix(rt.tensor([0, 1, 1, 2]), rt.tensor([0, 1, 2, 2]), 3)
    assert isinstance(matrix, rt.Tensor) and matrix.dtype == rt.int64, type(matrix)
    assert matrix.tolist() == [[1, 0, 0], [0, 1, 0], [0, 1, 1]], matrix.tolist()

    rt.manual_seed(30)
    labels = rt.randint(0, 10, (500,))
    predictions = rt.where(rt.rand(500) < 0.7, labels, rt.randint(0, 10, (500,)))
    matrix = module.confusion_matrix(predictions, labels, 10)
    assert tuple(matrix.shape) == (10, 10)
    counts = [[0] * 10 for _ in range(10)]
    for t, p in zip(labels.tolist(), predictions.tolist()):
        counts[t][p] += 1
    assert matrix.tolist() == counts
    assert matrix.sum().item() == 500
    # the accuracy of lesson 3 is the trace over the total
    correct = (predictions == labels).sum().item()
    assert matrix.diagonal().sum().item() == correct
    # classes that never occur still get their row and column
    assert module.confusion_matrix(rt.tensor([1]), rt.tensor([1]), 4).tolist() == \
        [[0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
