"""Sparse family of ``torch.nn.functional``: ``embedding`` and ``one_hot``.

``embedding`` is a row gather (index_select) of the weight; its gradient adds the gradient
rows into a zero table at the indices (index_add), leaving out ``padding_idx`` and scaling by
the inverse index counts with ``scale_grad_by_freq`` (PyTorch's embedding_dense_backward). The
backward is written in differentiable ops, so double backward works. ``max_norm`` renormalises
the looked-up rows of the weight in place first (PyTorch's embedding_renorm_).
"""
import numpy as np

import rt_autograd as rt
import rt_tensor as rtt
from rt_autograd._autograd import needs_grad
from rt_autograd.autograd import Function

__all__ = ["embedding", "one_hot"]

_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half",
               "bfloat16": "BFloat16", "uint8": "Byte", "int8": "Char", "int16": "Short",
               "int32": "Int", "int64": "Long", "bool": "Bool", "complex64": "ComplexFloat",
               "complex128": "ComplexDouble"}


def _type_name(dtype):
    return "torch." + _TYPE_NAMES.get(str(dtype).split(".")[-1], "Float") + "Tensor"


def _lookup(weight, indices):
    """weight[indices] on rt_tensor tensors: (*indices.shape, D)."""
    if indices.dim() == 1:
        return rtt.index_select(weight, 0, indices)
    flat = rtt.Tensor.reshape(indices, (-1,))
    return rtt.Tensor.reshape(rtt.index_select(weight, 0, flat),
                              tuple(indices.shape) + (weight.shape[1],))


class _Embedding(Function):
    node_name = "EmbeddingBackward0"

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        ctx.save_for_backward(indices)
        ctx.num_weights = weight.shape[0]
        ctx.padding_idx = padding_idx
        ctx.scale_grad_by_freq = scale_grad_by_freq
        return _lookup(weight, indices)

    @staticmethod
    def backward(ctx, g):
        indices, = ctx.saved_tensors
        return _dense_backward(g, indices, ctx.num_weights, ctx.padding_idx,
                               ctx.scale_grad_by_freq), None, None, None


def _dense_backward(g, indices, num_weights, padding_idx, scale_grad_by_freq):
    """embedding_dense_backward: sum the gradient rows into a (num_weights, D) table."""
    dim = g.shape[-1]
    idx = rtt.Tensor.reshape(indices, (-1,))
    if idx.dtype != rtt.int64:
        idx = rtt.Tensor.to(idx, rtt.int64)
    g2 = g.reshape(-1, dim)
    scale = None
    if padding_idx >= 0:
        scale = rtt.Tensor.to(rtt.ne(idx, padding_idx), g.dtype)
    if scale_grad_by_freq:
        counts = rtt.zeros(num_weights, dtype=g.dtype)
        rtt.Tensor.index_add_(counts, 0, idx, rtt.ones(idx.shape[0], dtype=g.dtype))
        inv = rtt.reciprocal(rtt.index_select(counts, 0, idx))
        scale = inv if scale is None else scale * inv
    if scale is not None:
        g2 = g2 * rtt.Tensor.reshape(scale, (-1, 1))
    if rt.is_grad_enabled():           # create_graph: a differentiable index_add
        return rt.zeros(num_weights, dim, dtype=g.dtype).index_add(0, idx, g2)
    out = rtt.zeros((num_weights, dim), dtype=g.dtype)
    rtt.Tensor.index_add_(out, 0, idx, rtt.Tensor.contiguous(g2))
    return out


def _renorm_(weight, indices, max_norm, norm_type):
    """embedding_renorm_: rows of ``weight`` looked up by ``indices`` whose norm exceeds
    ``max_norm`` are scaled (in place) to max_norm / (norm + 1e-7) of themselves."""
    with rt.no_grad():
        w = weight.detach()
        if w.dim() != 2:
            raise RuntimeError("embedding_renorm_(): expected self to be 2-D")
        idx = rt.unique(rtt.Tensor.reshape(indices, (-1,)))
        if idx.numel() == 0:
            return
        if idx.dtype != rtt.int64:
            idx = idx.to(rtt.int64)
        rows = w.index_select(0, idx)
        norms = rows.norm(p=norm_type, dim=1).numpy().astype(np.float64)
        big = norms > max_norm
        if not big.any():
            return
        sel = rt.from_numpy(np.nonzero(big)[0].astype(np.int64))
        # PyTorch: row *= max_norm / (norm + 1e-7), a double scalar applied in the row's type
        scale = rt.from_numpy(max_norm / (norms[big] + 1e-7)).to(w.dtype)
        new_rows = rows.index_select(0, sel) * scale.reshape(-1, 1)
        w.index_copy_(0, idx.index_select(0, sel), new_rows)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """``torch.nn.functional.embedding``: rows of ``weight`` (V, D) at the integer ``input``
    indices, shape (*input.shape, D). ``padding_idx`` rows get no gradient; ``max_norm``
    renormalises the looked-up rows of ``weight`` in place first."""
    if padding_idx is not None:
        if padding_idx > 0:
            if padding_idx >= weight.size(0):
                raise AssertionError("Padding_idx must be within num_embeddings")
        elif padding_idx < 0:
            if padding_idx < -weight.size(0):
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = weight.size(0) + padding_idx
    else:
        padding_idx = -1
    if max_norm is not None:
        input = input.contiguous()
        _check_indices(input, weight)
        _renorm_(weight, input, max_norm, norm_type)
    _check_indices(input, weight)
    if sparse and needs_grad(weight):
        raise NotImplementedError("embedding: sparse=True (sparse gradients) is not supported "
                                  "by rt; use sparse=False")
    if needs_grad(weight):
        return _Embedding.apply(weight, input, padding_idx, bool(scale_grad_by_freq))
    return _lookup(weight, input)


def _check_indices(input, weight):
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    if input.dtype not in (rtt.int64, rtt.int32):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following "
                           f"scalar types: Long, Int; but got {_type_name(input.dtype)} instead "
                           "(while checking arguments for embedding)")


def one_hot(tensor, num_classes=-1):
    """``torch.nn.functional.one_hot``: int64 (*shape, num_classes) with a 1 at each value
    (num_classes -1: max + 1)."""
    if tensor.dtype != rtt.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    shape = tuple(tensor.shape)
    if tensor.numel() == 0:
        if num_classes <= 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        return rt.zeros(shape + (num_classes,), dtype=rtt.int64)
    if int(rtt.Tensor.min(tensor)) < 0:
        raise RuntimeError("Class values must be non-negative.")
    top = int(rtt.Tensor.max(tensor))
    if num_classes == -1:
        num_classes = top + 1
    elif not num_classes > top:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = rt.zeros(shape + (num_classes,), dtype=rtt.int64)
    rtt.Tensor.scatter_(out, -1, rtt.Tensor.unsqueeze(tensor, -1), 1)
    return out
