"""Gradients of views and shape ops (rt_autograd/_ops/shape.py), dtype casts (_ops/cast.py) and
padding (_ops/pad.py): forward against rt_tensor (the no-grad path) and numpy, gradcheck on
contiguous / transposed / sliced / broadcast / non-contiguous leaf float64 inputs,
gradgradcheck, complex128 for a subset, PyTorch's grad_fn names, identity returns and errors."""
import numpy as np
import pytest

import rt_autograd as rt
from rt_autograd._ops.pad import constant_pad_nd, pad
from rt_autograd.testing import gradcheck, gradgradcheck


def _values(shape, seed, dtype=rt.float64):
    """Distinct values bounded away from zero."""
    gen = np.random.default_rng(seed)
    n = int(np.prod(shape)) if shape else 1
    mags = np.linspace(0.3, 2.0, n)
    gen.shuffle(mags)
    arr = (mags * gen.choice([-1.0, 1.0], n)).reshape(shape)
    if dtype == rt.complex128:
        arr = arr + 1j * (np.linspace(0.4, 1.7, n)[gen.permutation(n)]
                          * gen.choice([-1.0, 1.0], n)).reshape(shape)
    return arr


def leaf(shape, seed=0, dtype=rt.float64):
    return rt.tensor(_values(shape, seed, dtype), dtype=dtype, requires_grad=True)


def noncontiguous_leaf(shape, seed=0, dtype=rt.float64):
    """A leaf whose own storage is non-contiguous (every other element of a bigger tensor)."""
    base = rt.tensor(_values(tuple(shape) + (2,), seed, dtype), dtype=dtype)
    x = base[..., 0].detach()
    assert not x.is_contiguous()
    return x.requires_grad_(True)


# Input variants: (leaf shape, how the (3, 4) operand is made from the leaf)
VARIANTS = {
    "contiguous": ((3, 4), lambda x: x),
    "transposed": ((4, 3), lambda x: x.transpose(0, 1)),
    "sliced": ((3, 8), lambda x: x[:, ::2]),
    "broadcast": ((1, 4), lambda x: x.expand(3, 4)),
}


def _first(r):
    return r[0] if isinstance(r, (tuple, list)) else r


def _np(t):
    return t.detach().numpy()


# name: (function of a (3, 4) tensor, numpy reference of the (first) output or None)
OPS = {
    # reshaping views
    "view": (lambda x: x.contiguous().view(4, 3), lambda a: a.reshape(4, 3)),
    "view_tuple": (lambda x: x.contiguous().view((2, -1)), lambda a: a.reshape(2, 6)),
    "view_as": (lambda x: x.contiguous().view_as(rt.zeros(2, 6)), lambda a: a.reshape(2, 6)),
    "reshape_fn": (lambda x: rt.reshape(x, (6, 2)), lambda a: a.reshape(6, 2)),
    "reshape_method": (lambda x: x.reshape(2, 2, 3), lambda a: a.reshape(2, 2, 3)),
    "reshape_as": (lambda x: x.reshape_as(rt.zeros(12)), lambda a: a.reshape(12)),
    "flatten": (lambda x: x.flatten(), lambda a: a.reshape(-1)),
    "flatten_fn": (lambda x: rt.flatten(x.unsqueeze(0), 1), lambda a: a.reshape(1, 12)),
    "unflatten": (lambda x: x.unflatten(1, (2, -1)), lambda a: a.reshape(3, 2, 2)),
    "unflatten_fn": (lambda x: rt.unflatten(x, 0, (3, 1)), lambda a: a.reshape(3, 1, 4)),
    "squeeze": (lambda x: x.unsqueeze(0).unsqueeze(2).squeeze(), lambda a: a),
    "squeeze_dim": (lambda x: rt.squeeze(x.unsqueeze(1), 1), lambda a: a),
    "squeeze_dims": (lambda x: x.unsqueeze(0).unsqueeze(-1).squeeze((0, -1, 1)), lambda a: a),
    "unsqueeze": (lambda x: rt.unsqueeze(x, -1), lambda a: a[..., None]),
    # dim reordering
    "permute_fn": (lambda x: rt.permute(x, (1, 0)), lambda a: a.T),
    "permute_method": (lambda x: x.unsqueeze(0).permute(2, 0, 1), lambda a: a.T[:, None]),
    "permute_list": (lambda x: x.permute([1, 0]), lambda a: a.T),
    "transpose": (lambda x: rt.transpose(x, 0, 1), lambda a: a.T),
    "swapaxes": (lambda x: x.swapaxes(0, -1), lambda a: a.T),
    "swapdims": (lambda x: rt.swapdims(x, 1, 0), lambda a: a.T),
    "t": (lambda x: x.t(), lambda a: a.T),
    "t_fn": (lambda x: rt.t(x), lambda a: a.T),
    "T": (lambda x: x.unsqueeze(0).T, lambda a: a[None].T),
    "mT": (lambda x: x.unsqueeze(0).mT, lambda a: np.swapaxes(a[None], -1, -2)),
    "H": (lambda x: x.H, lambda a: a.conj().T),
    "mH": (lambda x: x.unsqueeze(0).mH, lambda a: np.swapaxes(a[None], -1, -2).conj()),
    "movedim": (lambda x: x.unsqueeze(0).movedim(0, -1), lambda a: a[..., None]),
    "moveaxis": (lambda x: rt.moveaxis(x.unsqueeze(0), (0, 1), (2, 0)),
                 lambda a: np.moveaxis(a[None], (0, 1), (2, 0))),
    # selecting views
    "narrow": (lambda x: x.narrow(1, 1, 2), lambda a: a[:, 1:3]),
    "narrow_fn": (lambda x: rt.narrow(x, -2, 1, 2), lambda a: a[1:3]),
    "select": (lambda x: x.select(1, -1), lambda a: a[:, -1]),
    "select_fn": (lambda x: rt.select(x, 0, 1), lambda a: a[1]),
    "diagonal": (lambda x: x.diagonal(), lambda a: np.diagonal(a)),
    "diagonal_offset": (lambda x: rt.diagonal(x, 1), lambda a: np.diagonal(a, 1)),
    "diagonal_neg": (lambda x: x.diagonal(-1, 1, 0), lambda a: np.diagonal(a, -1, 1, 0)),
    "unfold": (lambda x: x.unfold(1, 2, 1), None),
    "unfold_step": (lambda x: x.unfold(0, 2, 2), None),
    "unfold_gap": (lambda x: x.unfold(1, 1, 3), None),
    "as_strided": (lambda x: x.contiguous().as_strided((3, 3), (1, 1)), None),
    "as_strided_fn": (lambda x: rt.as_strided(x.contiguous(), (2, 2), (4, 2), 1), None),
    # broadcasting
    "expand": (lambda x: x[:, :1].expand(3, 5), lambda a: np.broadcast_to(a[:, :1], (3, 5))),
    "expand_new": (lambda x: x.expand(2, -1, 4), lambda a: np.broadcast_to(a, (2, 3, 4))),
    "expand_as": (lambda x: x[:1].expand_as(rt.zeros(2, 3, 4)),
                  lambda a: np.broadcast_to(a[:1], (2, 3, 4))),
    "broadcast_to": (lambda x: rt.broadcast_to(x[:, 1:2], (2, 3, 3)),
                     lambda a: np.broadcast_to(a[:, 1:2], (2, 3, 3))),
    "broadcast_to_method": (lambda x: x[0].broadcast_to((2, 4)),
                            lambda a: np.broadcast_to(a[0], (2, 4))),
    "broadcast_tensors": (lambda x: rt.broadcast_tensors(x[:, :1], x[0]),
                          lambda a: np.broadcast_to(a[:, :1], (3, 4))),
    # splitting
    "split": (lambda x: x.split(3, 1), lambda a: a[:, :3]),
    "split_fn_sizes": (lambda x: rt.split(x, [1, 2], 0), lambda a: a[:1]),
    "split_with_sizes": (lambda x: x.split_with_sizes([2, 2], 1), lambda a: a[:, :2]),
    "chunk": (lambda x: x.chunk(3, 1), lambda a: a[:, :2]),
    "chunk_fn": (lambda x: rt.chunk(x, 2), lambda a: a[:2]),
    "unbind": (lambda x: x.unbind(1), lambda a: a[:, 0]),
    "unbind_fn": (lambda x: rt.unbind(x), lambda a: a[0]),
    "tensor_split_n": (lambda x: x.tensor_split(3, 1), lambda a: a[:, :2]),
    "tensor_split_idx": (lambda x: rt.tensor_split(x, [1, 3], 1), lambda a: a[:, :1]),
    "tensor_split_overlap": (lambda x: x.tensor_split((3, 1), 1), lambda a: a[:, :3]),
    "tensor_split_tensor": (lambda x: x.tensor_split(rt.tensor([2]), 0), lambda a: a[:2]),
    "atleast_1d": (lambda x: rt.atleast_1d(x[0, 0]), lambda a: a[0, :1]),
    "atleast_2d": (lambda x: rt.atleast_2d(x[0]), lambda a: a[:1]),
    "atleast_3d": (lambda x: rt.atleast_3d(x[0], x), lambda a: a[0][None, :, None]),
    "atleast_3d_2d": (lambda x: rt.atleast_3d([x]), lambda a: a[..., None]),
    # copies
    "contiguous": (lambda x: x.t().contiguous(), lambda a: a.T),
    "clone": (lambda x: rt.clone(x), lambda a: a),
    "clone_method": (lambda x: x.clone(), lambda a: a),
    "flip": (lambda x: rt.flip(x, (0, 1)), lambda a: a[::-1, ::-1]),
    "flip_method": (lambda x: x.flip(1), lambda a: a[:, ::-1]),
    "flip_method_varargs": (lambda x: x.flip(0, 1), lambda a: a[::-1, ::-1]),
    "fliplr": (lambda x: x.fliplr(), lambda a: np.fliplr(a)),
    "flipud": (lambda x: rt.flipud(x), lambda a: np.flipud(a)),
    "roll": (lambda x: x.roll(1, 1), lambda a: np.roll(a, 1, 1)),
    "roll_multi": (lambda x: rt.roll(x, (1, -2), (0, 1)), lambda a: np.roll(a, (1, -2), (0, 1))),
    "roll_flat": (lambda x: x.roll(5), lambda a: np.roll(a, 5)),
    "rot90": (lambda x: x.rot90(), lambda a: np.rot90(a)),
    "rot90_k2": (lambda x: rt.rot90(x, 2), lambda a: np.rot90(a, 2)),
    "rot90_k3_dims": (lambda x: x.rot90(-1, (1, 0)), lambda a: np.rot90(a, -1, (1, 0))),
    "repeat": (lambda x: x.repeat(2, 1), lambda a: np.tile(a, (2, 1))),
    "repeat_lead": (lambda x: x.repeat(2, 1, 2), lambda a: np.tile(a, (2, 1, 2))),
    "repeat_tuple": (lambda x: x[0].repeat((3,)), lambda a: np.tile(a[0], 3)),
    "tile": (lambda x: rt.tile(x, (2,)), lambda a: np.tile(a, 2)),
    "tile_method": (lambda x: x.tile(2, 1, 1), lambda a: np.tile(a, (2, 1, 1))),
    "repeat_interleave": (lambda x: x.repeat_interleave(2, 1), lambda a: np.repeat(a, 2, 1)),
    "repeat_interleave_flat": (lambda x: rt.repeat_interleave(x, 2), lambda a: np.repeat(a, 2)),
    "repeat_interleave_tensor": (lambda x: x.repeat_interleave(rt.tensor([1, 0, 3]), 0),
                                 lambda a: np.repeat(a, [1, 0, 3], 0)),
    "repeat_interleave_tensor1": (lambda x: x.repeat_interleave(rt.tensor([2]), -1),
                                  lambda a: np.repeat(a, 2, -1)),
    "tril": (lambda x: x.tril(), lambda a: np.tril(a)),
    "tril_k": (lambda x: rt.tril(x, -1), lambda a: np.tril(a, -1)),
    "triu": (lambda x: rt.triu(x), lambda a: np.triu(a)),
    "triu_k": (lambda x: x.triu(2), lambda a: np.triu(a, 2)),
    "diag_1d": (lambda x: rt.diag(x[0]), lambda a: np.diag(a[0])),
    "diag_1d_k": (lambda x: x[1].diag(-2), lambda a: np.diag(a[1], -2)),
    "diag_2d": (lambda x: rt.diag(x, 1), lambda a: np.diag(a, 1)),
    "diag_embed": (lambda x: rt.diag_embed(x), None),
    "diag_embed_args": (lambda x: x.diag_embed(1, 0, 2), None),
    "diagflat": (lambda x: rt.diagflat(x[:2]), lambda a: np.diagflat(a[:2])),
    "diagflat_k": (lambda x: x.diagflat(-1), lambda a: np.diagflat(a, -1)),
    # casts (to a float type and back, so that gradcheck stays in float64)
    "to_complex": (lambda x: x.to(rt.complex128), lambda a: a.astype(np.complex128)),
    "to_other": (lambda x: x.to(rt.zeros(1, dtype=rt.complex128)), lambda a: a.astype(complex)),
    "to_copy": (lambda x: x.to(rt.float64, copy=True), lambda a: a),
    "type": (lambda x: x.type(rt.complex128), lambda a: a.astype(np.complex128)),
    "type_as": (lambda x: x.type_as(rt.zeros(1, dtype=rt.complex128)), lambda a: a + 0j),
    # padding
    "constant_pad_nd": (lambda x: constant_pad_nd(x, (1, 2)),
                        lambda a: np.pad(a, ((0, 0), (1, 2)))),
    "constant_pad_nd_crop": (lambda x: rt.constant_pad_nd(x, (-1, 1, 2, -1), 2.5),
                             lambda a: np.pad(a[:2, 1:], ((2, 0), (0, 1)), constant_values=2.5)),
    "pad_constant": (lambda x: pad(x, (0, 1, 1, 1), value=-1.0),
                     lambda a: np.pad(a, ((1, 1), (0, 1)), constant_values=-1.0)),
    "pad_reflect": (lambda x: pad(x, (3, 2), mode="reflect"),
                    lambda a: np.pad(a, ((0, 0), (3, 2)), mode="reflect")),
    "pad_reflect_2d": (lambda x: pad(x[None], (1, 2, 2, 1), mode="reflect"),
                       lambda a: np.pad(a, ((2, 1), (1, 2)), mode="reflect")[None]),
    "pad_reflect_neg": (lambda x: pad(x, (-1, 2), mode="reflect"),
                        lambda a: np.pad(a[:, 1:], ((0, 0), (0, 2)), mode="reflect")),
    "pad_replicate": (lambda x: pad(x, (2, 3), mode="replicate"),
                      lambda a: np.pad(a, ((0, 0), (2, 3)), mode="edge")),
    "pad_replicate_2d": (lambda x: pad(x[None], (1, 0, 2, 2), mode="replicate"),
                         lambda a: np.pad(a, ((2, 2), (1, 0)), mode="edge")[None]),
    "pad_replicate_3d": (lambda x: pad(x[None, None], (1, 1, 1, 0, 1, 0), mode="replicate"),
                         lambda a: np.pad(a[None], ((1, 0), (1, 0), (1, 1)), mode="edge")[None]),
    "pad_circular": (lambda x: pad(x, (2, 1), mode="circular"),
                     lambda a: np.pad(a, ((0, 0), (2, 1)), mode="wrap")),
    "pad_circular_2d": (lambda x: pad(x[None], (4, 4, 1, 2), mode="circular"),
                        lambda a: np.pad(a, ((1, 2), (4, 4)), mode="wrap")[None]),
    "pad_reflect_3d": (lambda x: pad(x[None, None], (1, 2, 1, 1, 0, 0), mode="reflect"),
                       lambda a: np.pad(a, ((1, 1), (1, 2)), mode="reflect")[None, None]),
}

COMPLEX_OPS = ["view", "reshape_method", "flatten", "permute_method", "t", "H", "mH", "mT",
               "select", "narrow", "diagonal", "unfold", "as_strided", "expand", "split",
               "chunk", "unbind", "tensor_split_overlap", "flip", "roll_multi", "rot90", "repeat",
               "tile", "repeat_interleave_tensor", "tril", "triu", "diag_2d", "diag_embed",
               "diagflat", "constant_pad_nd_crop", "pad_reflect", "pad_circular",
               "squeeze_dims", "movedim", "atleast_3d"]


@pytest.mark.parametrize("name", sorted(OPS))
def test_forward_matches_rt_tensor_and_numpy(name):
    fn, ref = OPS[name]
    x = leaf((3, 4), seed=1)
    with_grad = fn(x)
    without = fn(x.detach())
    outs_g = with_grad if isinstance(with_grad, tuple) else (with_grad,)
    outs_n = without if isinstance(without, tuple) else (without,)
    assert len(outs_g) == len(outs_n)
    for a, b in zip(outs_g, outs_n):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(_np(a), _np(b))
        assert not b.requires_grad
    assert outs_g[0].requires_grad and outs_g[0].grad_fn is not None
    if ref is not None:
        np.testing.assert_allclose(_np(_first(with_grad)), ref(_np(x)), rtol=0, atol=0)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck(name, variant):
    fn, _ = OPS[name]
    shape, make = VARIANTS[variant]
    x = leaf(shape, seed=2)
    assert gradcheck(lambda t: fn(make(t)), (x,))


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck_noncontiguous_leaf_and_gradgradcheck(name):
    fn, _ = OPS[name]
    x = noncontiguous_leaf((3, 4), seed=3)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))
    assert gradgradcheck(fn, (leaf((3, 4), seed=4).detach().t().contiguous().t()
                              .requires_grad_(True),))


@pytest.mark.parametrize("name", COMPLEX_OPS)
def test_complex(name):
    fn, _ = OPS[name]
    x = leaf((3, 4), seed=5, dtype=rt.complex128)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


# ---- hand-computed gradients ----------------------------------------------------------------

def test_unfold_overlapping_windows_accumulate():
    x = rt.arange(5.0, dtype=rt.float64).requires_grad_()
    x.unfold(0, 3, 1).sum().backward()          # windows [0:3], [1:4], [2:5]
    np.testing.assert_array_equal(_np(x.grad), [1, 2, 3, 2, 1])
    x.grad = None
    x.unfold(0, 2, 2).sum().backward()          # [0:2], [2:4]; element 4 in no window
    np.testing.assert_array_equal(_np(x.grad), [1, 1, 1, 1, 0])


def test_as_strided_overlap_accumulates():
    x = rt.arange(4.0, dtype=rt.float64).requires_grad_()
    x.as_strided((3, 2), (1, 1)).sum().backward()     # [[0,1],[1,2],[2,3]]
    np.testing.assert_array_equal(_np(x.grad), [1, 2, 2, 1])


def test_expand_and_repeat_sum_back():
    x = rt.tensor([[1.0], [2.0]], dtype=rt.float64, requires_grad=True)
    x.expand(2, 3).sum().backward()
    np.testing.assert_array_equal(_np(x.grad), [[3], [3]])
    x.grad = None
    (x.repeat(3, 2) * rt.arange(12.0, dtype=rt.float64).reshape(6, 2)).sum().backward()
    # rows 0, 2, 4 of the result come from x[0]
    np.testing.assert_array_equal(_np(x.grad), [[0 + 1 + 4 + 5 + 8 + 9], [2 + 3 + 6 + 7 + 10 + 11]])


def test_split_unused_outputs_get_zero_gradient():
    x = leaf((4, 3))
    a, b = x.split(2)
    (a * 2).sum().backward()
    np.testing.assert_array_equal(_np(x.grad), [[2] * 3] * 2 + [[0] * 3] * 2)


def test_tensor_split_overlapping_sections_accumulate():
    x = rt.arange(4.0, dtype=rt.float64).requires_grad_()
    parts = x.tensor_split([3, 1])          # [0:3], [3:1] (empty), [1:4]
    assert [tuple(p.shape) for p in parts] == [(3,), (0,), (3,)]
    sum(p.sum() for p in parts).backward()
    np.testing.assert_array_equal(_np(x.grad), [1, 2, 2, 1])


def test_roll_and_flip_gradients_are_permutations():
    x = rt.arange(6.0, dtype=rt.float64).reshape(2, 3).requires_grad_()
    w = rt.arange(6.0, dtype=rt.float64).reshape(2, 3)
    (x.roll((1, 1), (0, 1)) * w).sum().backward()
    np.testing.assert_array_equal(_np(x.grad), np.roll(_np(w), (-1, -1), (0, 1)))
    x.grad = None
    (x.rot90() * rt.arange(6.0, dtype=rt.float64).reshape(3, 2)).sum().backward()
    np.testing.assert_array_equal(_np(x.grad), np.rot90(np.arange(6.0).reshape(3, 2), -1))


# ---- grad_fn names, identities, views ----------------------------------------------------------

NAMES = {
    "view": "ViewBackward0", "reshape_method": "ViewBackward0", "flatten": "ViewBackward0",
    "squeeze": "SqueezeBackward0", "squeeze_dim": "SqueezeBackward1",
    "squeeze_dims": "SqueezeBackward2", "unsqueeze": "UnsqueezeBackward0",
    "permute_fn": "PermuteBackward0", "T": "PermuteBackward0", "transpose": "TransposeBackward0",
    "mT": "TransposeBackward0", "t": "TBackward0", "movedim": "PermuteBackward0",
    "narrow": "SliceBackward0", "select": "SelectBackward0", "diagonal": "DiagonalBackward0",
    "unfold": "UnfoldBackward0", "as_strided": "AsStridedBackward0", "expand": "ExpandBackward0",
    "expand_as": "ExpandBackward0", "broadcast_to": "ExpandBackward0", "split": "SplitBackward0",
    "split_with_sizes": "SplitWithSizesBackward0", "chunk": "SplitBackward0",
    "unbind": "UnbindBackward0", "tensor_split_n": "SliceBackward0",
    "contiguous": "CloneBackward0", "flip": "FlipBackward0", "roll": "RollBackward0",
    "rot90": "Rot90Backward0", "repeat": "RepeatBackward0", "tile": "RepeatBackward0",
    "tril": "TrilBackward0", "triu": "TriuBackward0", "diag_embed": "DiagEmbedBackward0",
    "to_complex": "ToCopyBackward0", "constant_pad_nd": "ConstantPadNdBackward0",
    "pad_reflect": "ReflectionPad1dBackward0", "pad_reflect_2d": "ReflectionPad2dBackward0",
    "pad_replicate": "ReplicationPad1dBackward0",
    "pad_replicate_3d": "ReplicationPad3dBackward0",
}


@pytest.mark.parametrize("name", sorted(NAMES))
def test_grad_fn_names(name):
    out = _first(OPS[name][0](leaf((3, 4))))
    assert out.grad_fn.name() == NAMES[name]


VIEW_OPS = ["view", "reshape_method", "flatten", "unflatten", "squeeze", "unsqueeze", "permute_fn",
            "transpose", "t", "T", "mT", "movedim", "narrow", "select", "diagonal", "unfold",
            "as_strided", "expand", "split", "chunk", "unbind", "tensor_split_n", "atleast_3d_2d"]


@pytest.mark.parametrize("name", VIEW_OPS)
def test_views_share_storage_and_are_tracked(name):
    x = leaf((3, 4)) * 1
    out = _first(OPS[name][0](x))
    assert out.data_ptr() >= x.data_ptr() and out._is_view()
    assert out._base is x


def test_identity_returns():
    x = leaf((3, 4))
    assert x.contiguous() is x
    assert x.to(rt.float64) is x and x.double() is x and x.type(rt.float64) is x
    assert x.type_as(x) is x
    assert x.flatten(1, 1) is x
    assert rt.atleast_1d(x) is x and rt.atleast_2d(x) is x
    assert x.type() == "rt_tensor.DoubleTensor"


def test_casts():
    x = leaf((2, 3))
    for cast, dtype in ((lambda t: t.float(), rt.float32), (lambda t: t.half(), rt.float16),
                        (lambda t: t.bfloat16(), rt.bfloat16),
                        (lambda t: t.to(rt.float32), rt.float32),
                        (lambda t: t.to("cpu", rt.float16), rt.float16),
                        (lambda t: t.to(dtype=rt.float32), rt.float32),
                        (lambda t: t.type(rt.float32), rt.float32),
                        (lambda t: t.type_as(rt.zeros(1, dtype=rt.bfloat16)), rt.bfloat16)):
        y = cast(x)
        assert y.dtype == dtype and y.grad_fn.name() == "ToCopyBackward0"
        x.grad = None
        (y * 3).sum().backward()
        assert x.grad.dtype == rt.float64
        np.testing.assert_array_equal(_np(x.grad), np.full((2, 3), 3.0))
    for cast in (lambda t: t.long(), lambda t: t.int(), lambda t: t.bool(),
                 lambda t: t.to(rt.int64), lambda t: t.type(rt.int32)):
        y = cast(x)
        assert not y.requires_grad and y.grad_fn is None


def test_cast_real_to_complex_gradient_is_real_part():
    x = leaf((3,))
    y = x.to(rt.complex128)
    c = rt.tensor([1 + 2j, 3 - 1j, -2j], dtype=rt.complex128)
    rt.real(y * c).sum().backward()
    assert x.grad.dtype == rt.float64
    np.testing.assert_array_equal(_np(x.grad), [1, 3, 0])


def test_float32_gradients():
    x = rt.ones(2, 3, requires_grad=True)
    x.t().reshape(6).narrow(0, 1, 3).sum().backward()
    assert x.grad.dtype == rt.float32
    np.testing.assert_array_equal(_np(x.grad), [[0, 1, 0], [1, 1, 0]])


def test_properties_are_differentiable():
    x = leaf((2, 3))
    for prop in ("T", "mT", "H", "mH"):
        assert getattr(x, prop).requires_grad
    c = leaf((2, 3), dtype=rt.complex128)
    np.testing.assert_array_equal(_np(c.H), _np(c).conj().T)
    np.testing.assert_array_equal(_np(c.mH), _np(c).conj().T)
    with pytest.raises(RuntimeError, match="tensor.mT is only supported on matrices"):
        leaf((3,)).mT
    with pytest.raises(RuntimeError, match="tensor.H is only supported on matrices"):
        leaf((1, 2, 3)).H


def test_view_dtype_is_not_differentiable():
    x = leaf((2, 3))
    y = x.view(rt.int64)
    assert y.dtype == rt.int64 and not y.requires_grad


def test_errors_match_rt_tensor():
    x = leaf((3, 4))
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        x.t().view(12)
    with pytest.raises(RuntimeError, match="shape"):
        x.reshape(5)
    with pytest.raises(IndexError):
        x.select(0, 3)
    with pytest.raises(RuntimeError, match="exceeds dimension size"):
        x.narrow(1, 2, 3)
    with pytest.raises(RuntimeError, match="must match the existing size"):
        x.expand(3, 5)
    with pytest.raises(RuntimeError, match="split_with_sizes expects split_sizes"):
        x.split([1, 1], 0)
    with pytest.raises(RuntimeError, match="chunk expects"):
        x.chunk(0)
    with pytest.raises(RuntimeError, match="number of sections must be larger than 0"):
        x.tensor_split(0)
    with pytest.raises(RuntimeError, match="dims has duplicates"):
        x.flip(0, 0)
    with pytest.raises(RuntimeError, match="expected total rotation dims"):
        x.rot90(1, (0,))
    with pytest.raises(RuntimeError, match="Number of dimensions of repeat dims"):
        x.repeat(2)
    with pytest.raises(RuntimeError, match="t\\(\\) expects a tensor with <= 2 dimensions"):
        x.unsqueeze(0).t()


def test_no_grad_paths_do_not_record():
    x = leaf((3, 4))
    with rt.no_grad():
        for name in ("view", "narrow", "split", "flip", "repeat", "to_complex", "pad_reflect",
                     "constant_pad_nd", "tril", "diag_embed"):
            out = _first(OPS[name][0](x))
            assert not out.requires_grad and out.grad_fn is None


# ---- padding: arguments and messages as torch.nn.functional.pad -------------------------------

def test_pad_errors():
    x = leaf((2, 3))
    with pytest.raises(RuntimeError, match="Padding length must be divisible by 2"):
        pad(x, (1, 2, 3))
    with pytest.raises(RuntimeError, match="Padding length should be less than or equal to two "
                                           "times the input dimension but got padding length 6 "
                                           "and input of dimension 2"):
        pad(x, (1,) * 6)
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode wrap"):
        pad(x, (1, 1), mode="wrap")
    with pytest.raises(RuntimeError, match='Padding mode "reflect" doesn\'t take in value'):
        pad(x, (1, 1), mode="reflect", value=1.0)
    assert pad(x, (1, 1), mode="reflect", value=0).shape == (2, 5)
    with pytest.raises(NotImplementedError, match="Only 2D, 3D, 4D, 5D padding with non-constant "
                                                  "padding are supported for now"):
        pad(x, (1, 1, 1, 1), mode="reflect")
    with pytest.raises(NotImplementedError, match="Only 2D, 3D, 4D, 5D"):
        pad(x[0], (1, 1), mode="replicate")
    with pytest.raises(RuntimeError, match=r"Argument #4: Padding size should be less than the "
                                           r"corresponding input dimension, but got: padding "
                                           r"\(3, 0\) at dimension 1 of input \[2, 3\]"):
        pad(x, (3, 0), mode="reflect")
    with pytest.raises(RuntimeError, match=r"Argument #6: .* padding \(2, 0\) at dimension 1 "
                                           r"of input \[1, 2, 3\]"):
        pad(x[None], (0, 0, 2, 0), mode="reflect")
    with pytest.raises(RuntimeError, match="Padding value causes wrapping around more than once"):
        pad(x, (4, 0), mode="circular")
    with pytest.raises(RuntimeError, match=r"input \(W: 3\) is too small. Calculated output W: 0"):
        pad(x, (-2, -1), mode="replicate")
    with pytest.raises(RuntimeError, match=r"Expected 2D or 3D \(batch mode\) tensor with possibly "
                                           r"0 batch size and other non-zero dimensions for input, "
                                           r"but got: \[2, 0\]"):
        pad(rt.zeros(2, 0), (1, 1), mode="replicate")
    with pytest.raises(RuntimeError, match="Length of pad must be even but instead it equals 3"):
        constant_pad_nd(x, (1, 1, 1))
    with pytest.raises(RuntimeError, match="Length of pad should be no more than twice"):
        constant_pad_nd(x, (1,) * 6)
    with pytest.raises(RuntimeError, match="resulted in a negative output size"):
        constant_pad_nd(x, (-2, -2))


def test_pad_values_and_integer_inputs():
    x = rt.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(_np(pad(x, (1, 1), value=7)),
                                  np.pad(np.arange(6).reshape(2, 3), ((0, 0), (1, 1)),
                                         constant_values=7))
    assert pad(x, (1, 1)).dtype == rt.int64
    np.testing.assert_array_equal(_np(pad(x, (1, 2), mode="circular")),
                                  np.pad(np.arange(6).reshape(2, 3), ((0, 0), (1, 2)), "wrap"))
    # batch of 0 allowed for the non-constant modes
    assert pad(rt.zeros(0, 2, 3), (1, 1), mode="reflect").shape == (0, 2, 5)


def test_pad_circular_mixed_negative_as_pytorch():
    # PyTorch's _pad_circular: the cropped input in the middle, the left pad copied from the
    # output's end: pads (2, -1) of [0..4] give [2, 3, 0, 1, 2, 3]
    x = rt.arange(5.0, dtype=rt.float64)[None]
    np.testing.assert_array_equal(_np(pad(x, (2, -1), mode="circular")), [[2, 3, 0, 1, 2, 3]])


def test_pad_reflect_gradient_hand_computed():
    x = rt.tensor([[1.0, 2.0, 3.0]], dtype=rt.float64, requires_grad=True)
    y = pad(x, (2, 2), mode="reflect")      # [3, 2, 1, 2, 3, 2, 1]
    np.testing.assert_array_equal(_np(y), [[3, 2, 1, 2, 3, 2, 1]])
    y.sum().backward()
    np.testing.assert_array_equal(_np(x.grad), [[2, 3, 2]])
    x.grad = None
    pad(x, (2, 1), mode="replicate").sum().backward()      # [1, 1, 1, 2, 3, 3]
    np.testing.assert_array_equal(_np(x.grad), [[3, 1, 2]])
