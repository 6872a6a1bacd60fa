"""rt_nn.utils: clip_grad_norm_ (every norm type, the returned total, non-finite handling),
clip_grad_value_, parameters_to_vector / vector_to_parameters, and rnn's pad_sequence,
pack_padded_sequence, pad_packed_sequence and friends (values, gradients, errors)."""
import math
import warnings

import numpy as np
import pytest

import rt_autograd as rt
import rt_nn as nn
from rt_autograd.testing import gradcheck
from rt_nn.utils import (clip_grad_norm, clip_grad_norm_, clip_grad_value_,
                         clip_grads_with_norm_, get_total_norm, parameters_to_vector,
                         vector_to_parameters)
from rt_nn.utils.rnn import (PackedSequence, invert_permutation, pack_padded_sequence,
                             pack_sequence, pad_packed_sequence, pad_sequence, unpack_sequence,
                             unpad_sequence)


def _np(t):
    return np.array(t.detach().numpy(), copy=True)


def _params_with_grads(seed=0, dtype=rt.float64):
    rng = np.random.default_rng(seed)
    ps = []
    for shape in [(3, 4), (4,), (2, 2, 2)]:
        p = nn.Parameter(rt.tensor(rng.standard_normal(shape), dtype=dtype))
        p.grad = rt.tensor(rng.standard_normal(shape) * 3, dtype=dtype)
        ps.append(p)
    return ps


def _ref_norm(grads, p):
    flat = np.concatenate([g.ravel() for g in grads])
    if p == math.inf:
        return np.abs(flat).max()
    if p == -math.inf:
        return np.abs(flat).min()
    if p == 0:
        return float((flat != 0).sum())
    return (np.abs(flat) ** p).sum() ** (1 / p)


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.0, math.inf, "inf", 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm(norm_type, max_norm):
    ps = _params_with_grads()
    before = [_np(p.grad) for p in ps]
    p_float = float(norm_type)
    total = clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    ref = _ref_norm(before, p_float)
    assert total.dim() == 0 and total.dtype == rt.float64
    assert total.item() == pytest.approx(ref, rel=1e-12)
    coef = min(1.0, max_norm / (ref + 1e-6))
    for p, g in zip(ps, before):
        np.testing.assert_allclose(_np(p.grad), g * coef, rtol=1e-12)
    if max_norm < ref:
        assert _ref_norm([_np(p.grad) for p in ps], p_float) == pytest.approx(max_norm,
                                                                           rel=1e-5)


def test_clip_grad_norm_single_tensor_generator_and_none_grads():
    p = nn.Parameter(rt.zeros(2))
    p.grad = rt.tensor([3.0, 4.0])
    assert clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(_np(p.grad), [0.6, 0.8], rtol=1e-5)
    q = nn.Parameter(rt.zeros(2))                        # no grad: skipped
    assert clip_grad_norm_([p, q], 10.0).item() == pytest.approx(1.0, rel=1e-5)
    assert q.grad is None
    assert clip_grad_norm_([q], 1.0).item() == 0.0
    lin = nn.Linear(3, 2)
    lin(rt.randn(4, 3)).sum().backward()
    total = clip_grad_norm_(lin.parameters(), 0.1)
    assert total.item() > 0
    with pytest.warns(UserWarning, match="empty generator"):
        clip_grad_norm_((x for x in []), 1.0)


def test_clip_grad_norm_nonfinite():
    p = nn.Parameter(rt.zeros(3))
    p.grad = rt.tensor([1.0, float("nan"), 2.0])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from "
                                           "`parameters` is non-finite"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    p.grad = rt.tensor([1.0, float("inf"), 2.0])
    total = clip_grad_norm_([p], 1.0, foreach=True)
    assert math.isinf(total.item())


def test_clip_grad_norm_mixed_dtypes_and_parts():
    a = nn.Parameter(rt.zeros(2))
    a.grad = rt.tensor([3.0, 0.0])
    b = nn.Parameter(rt.zeros(1, dtype=rt.float64))
    b.grad = rt.tensor([4.0], dtype=rt.float64)
    total = get_total_norm([a.grad, b.grad])
    assert total.item() == pytest.approx(5.0)
    clip_grads_with_norm_([a, b], 1.0, total)
    assert a.grad.dtype == rt.float32 and b.grad.dtype == rt.float64
    np.testing.assert_allclose(_np(b.grad), [0.8], rtol=1e-5)


def test_clip_grad_norm_deprecated_alias():
    p = nn.Parameter(rt.zeros(2))
    p.grad = rt.tensor([3.0, 4.0])
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        clip_grad_norm([p], 1.0)


def test_clip_grad_value():
    ps = _params_with_grads()
    before = [_np(p.grad) for p in ps]
    assert clip_grad_value_(ps, 1.5) is None
    for p, g in zip(ps, before):
        np.testing.assert_array_equal(_np(p.grad), np.clip(g, -1.5, 1.5))
    p = nn.Parameter(rt.zeros(2))
    p.grad = rt.tensor([-3.0, 0.5])
    clip_grad_value_(p, 1)
    assert p.grad.tolist() == [-1.0, 0.5]


def test_clipping_does_not_record():
    p = nn.Parameter(rt.zeros(2))
    p.grad = rt.tensor([3.0, 4.0])
    clip_grad_norm_([p], 1.0)
    clip_grad_value_([p], 0.1)
    assert p.grad.grad_fn is None and p.is_leaf


def test_parameters_to_vector_and_back():
    lin = nn.Linear(3, 2)
    vec = parameters_to_vector(lin.parameters())
    assert vec.shape == (8,)
    np.testing.assert_array_equal(_np(vec), np.concatenate([_np(lin.weight).ravel(),
                                                            _np(lin.bias)]))
    new = rt.arange(8.0)
    vector_to_parameters(new, lin.parameters())
    assert lin.weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert lin.bias.tolist() == [6.0, 7.0]
    assert isinstance(lin.weight, nn.Parameter) and lin.weight.requires_grad
    new.add_(1)                                    # shares memory, as PyTorch
    assert lin.bias.tolist() == [7.0, 8.0]
    # differentiable
    vec = parameters_to_vector(lin.parameters())
    (vec * rt.arange(8.0)).sum().backward()
    assert lin.bias.grad.tolist() == [6.0, 7.0]
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        vector_to_parameters([1.0], lin.parameters())


# ---- rnn -------------------------------------------------------------------------------------

def _seqs(lengths, feat=(2,), seed=0, dtype=rt.float64, requires_grad=False):
    rng = np.random.default_rng(seed)
    return [rt.tensor(rng.standard_normal((n,) + feat), dtype=dtype)
            .requires_grad_(requires_grad) for n in lengths]


def _pad_ref(seqs, batch_first, value, side):
    arrs = [_np(s) for s in seqs]
    L = max(a.shape[0] for a in arrs)
    out = np.full((len(arrs), L) + arrs[0].shape[1:], value, dtype=arrs[0].dtype)
    for i, a in enumerate(arrs):
        if side == "right":
            out[i, :a.shape[0]] = a
        else:
            out[i, L - a.shape[0]:] = a
    return out if batch_first else np.swapaxes(out, 0, 1)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("feat", [(), (2,), (2, 3)])
def test_pad_sequence(batch_first, side, feat):
    seqs = _seqs([3, 1, 4, 4], feat)
    out = pad_sequence(seqs, batch_first=batch_first, padding_value=-1.5, padding_side=side)
    np.testing.assert_array_equal(_np(out), _pad_ref(seqs, batch_first, -1.5, side))


def test_pad_sequence_gradient_and_dtypes():
    seqs = _seqs([3, 1, 2], requires_grad=True)
    assert gradcheck(lambda *s: pad_sequence(s, batch_first=True, padding_side="left"),
                     tuple(seqs))
    ints = [rt.tensor([1, 2, 3]), rt.tensor([4])]
    out = pad_sequence(ints, batch_first=True)
    assert out.dtype == rt.int64 and out.tolist() == [[1, 2, 3], [4, 0, 0]]


def test_pad_sequence_errors():
    with pytest.raises(RuntimeError, match="received an empty list of sequences"):
        pad_sequence([])
    with pytest.raises(RuntimeError, match="Expected padding_side to be one of left or right, "
                                           "but got mid."):
        pad_sequence([rt.ones(2)], padding_side="mid")
    with pytest.raises(RuntimeError, match="Expected iterable for input sequences"):
        pad_sequence(5)
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(2\) must match the size of "
                                           r"tensor b \(3\) at non-singleton dimension 1"):
        pad_sequence([rt.ones(3, 2), rt.ones(2, 3)])


@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_padded_sequence_sorted(batch_first):
    lengths = [4, 3, 3, 1]
    seqs = _seqs(lengths)
    padded = pad_sequence(seqs, batch_first=batch_first)
    packed = pack_padded_sequence(padded, lengths, batch_first=batch_first)
    assert isinstance(packed, PackedSequence)
    assert packed.batch_sizes.tolist() == [4, 3, 3, 1]
    assert packed.batch_sizes.dtype == rt.int64
    assert packed.sorted_indices is None and packed.unsorted_indices is None
    ref = np.concatenate([np.stack([_np(s)[t] for s in seqs if s.shape[0] > t])
                          for t in range(4)])
    np.testing.assert_array_equal(_np(packed.data), ref)
    out, lens = pad_packed_sequence(packed, batch_first=batch_first, padding_value=9.0)
    np.testing.assert_array_equal(_np(out), _pad_ref(seqs, batch_first, 9.0, "right"))
    assert lens.tolist() == lengths and lens.dtype == rt.int64


def test_pack_unsorted_round_trip_and_total_length():
    lengths = [2, 5, 3]
    seqs = _seqs(lengths, feat=(3,))
    padded = pad_sequence(seqs)                                 # (5, 3, 3)
    packed = pack_padded_sequence(padded, rt.tensor(lengths), enforce_sorted=False)
    assert packed.sorted_indices.tolist() == [1, 2, 0]
    assert packed.unsorted_indices.tolist() == [2, 0, 1]
    assert packed.batch_sizes.tolist() == [3, 3, 2, 1, 1]
    out, lens = pad_packed_sequence(packed, total_length=7)
    assert out.shape == (7, 3, 3) and lens.tolist() == lengths
    np.testing.assert_array_equal(_np(out)[:5], _np(padded))
    assert (_np(out)[5:] == 0).all()
    with pytest.raises(ValueError, match="Expected total_length to be at least the length of "
                                         "the longest sequence in input, but got "
                                         "total_length=4 and max sequence length being 5"):
        pad_packed_sequence(packed, total_length=4)
    unpacked = unpack_sequence(pack_sequence(seqs, enforce_sorted=False))
    for a, b in zip(unpacked, seqs):
        np.testing.assert_array_equal(_np(a), _np(b))


def test_pack_gradients():
    x = rt.tensor(np.random.default_rng(1).standard_normal((4, 3, 2)), requires_grad=True)
    assert gradcheck(lambda t: pack_padded_sequence(t, [4, 2, 1]).data, (x,))
    assert gradcheck(lambda t: pad_packed_sequence(
        pack_padded_sequence(t, [3, 4, 1], batch_first=False, enforce_sorted=False))[0], (x,))


def test_pack_errors():
    x = rt.randn(4, 3, 2)
    with pytest.raises(RuntimeError, match="`lengths` array must be sorted in decreasing "
                                           "order when `enforce_sorted` is True"):
        pack_padded_sequence(x, [4, 2, 3])
    with pytest.raises(RuntimeError, match="Length of all samples has to be greater than 0"):
        pack_padded_sequence(x, [4, 3, 0])
    with pytest.raises(RuntimeError, match=r"Expected `len\(lengths\)` to be equal to "
                                           r"batch_size, but got 2 \(batch_size=3\)"):
        pack_padded_sequence(x, [4, 3])
    with pytest.raises(RuntimeError, match="exceeds the padded sequence length"):
        pack_padded_sequence(x, [5, 3, 2])


def test_unpad_and_invert_permutation():
    seqs = _seqs([3, 1, 2])
    padded = pad_sequence(seqs)
    for a, b in zip(unpad_sequence(padded, rt.tensor([3, 1, 2])), seqs):
        np.testing.assert_array_equal(_np(a), _np(b))
    assert invert_permutation(rt.tensor([2, 0, 1])).tolist() == [1, 2, 0]
    assert invert_permutation(None) is None


def test_packed_sequence_conversions():
    packed = pack_sequence([rt.ones(3, 2), rt.ones(1, 2)])
    assert packed.double().data.dtype == rt.float64
    assert packed.to(rt.float32) is packed
    data, bs = packed.data, packed.batch_sizes
    again = PackedSequence(data, bs)
    assert again.batch_sizes.tolist() == [2, 1, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert PackedSequence((data, bs)).data is data
