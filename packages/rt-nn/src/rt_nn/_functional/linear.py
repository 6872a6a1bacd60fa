"""Linear family of ``torch.nn.functional``: ``linear`` and ``bilinear``."""
import rt_autograd as rt
import rt_tensor as rtt
from rt_autograd._autograd import needs_grad
from rt_autograd.autograd import Function

__all__ = ["linear", "bilinear"]

_matmul = rt.matmul
_rtt_addmm = rtt.addmm
_rtt_mm = rtt.mm


_CXX_NAMES = {"Bool": "bool", "Byte": "unsigned char", "Char": "signed char",
              "Short": "short int", "Int": "int", "Long": "long int", "Half": "c10::Half",
              "BFloat16": "c10::BFloat16", "Float": "float", "Double": "double",
              "ComplexFloat": "c10::complex<float>", "ComplexDouble": "c10::complex<double>"}


def _dtype_error(input, weight, bias):
    """PyTorch's message for mismatched dtypes in linear (addmm's or mm's wording)."""
    xd, wd = input.dtype.scalar_name, weight.dtype.scalar_name
    if bias is None:
        return RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                            f"{_CXX_NAMES.get(xd, xd)} != {_CXX_NAMES.get(wd, wd)}")
    if xd != wd:
        return RuntimeError(f"mat1 and mat2 must have the same dtype, but got {xd} and {wd}")
    return RuntimeError(f"self and mat2 must have the same dtype, but got "
                        f"{bias.dtype.scalar_name} and {wd}")


def _mat_str(shape):
    if len(shape) == 1:
        return f"1x{shape[0]}"
    rows = 1
    for s in shape[:-1]:
        rows *= s
    return f"{rows}x{shape[-1]}"


def _forward(x, w, b):
    """x (N, in) @ w.T + b on rt_tensor tensors. For a small batch (5 to 128 rows, fewer than
    the out features) the product is formed as (w @ x.T).T, which OpenBLAS computes faster
    than x @ w.T (it packs the large weight in its native layout; ~10% on 32x784 @ 784x128),
    and the bias add writes the contiguous result; otherwise one addmm (up to 4 rows it is
    the faster of the two in every layer size measured, 5-25% at 1 row: one call, one
    result)."""
    n = x.size(0)
    if 4 < n <= 128 and n < w.size(0):
        out_t = _rtt_mm(w, x.t()).t()
        return out_t + b if b is not None else out_t.contiguous()
    if b is None:
        return _rtt_mm(x, w.t())
    return _rtt_addmm(b, x, w.t())


class _Linear(Function):
    """x (N, in) @ W.T + b as one node: forward is one GEMM (addmm); backward gives the
    weight gradient in W's own (out, in) contiguous layout (g.T @ x), the bias gradient as
    g.sum(0) and the input gradient as g @ W, in differentiable ops (double backward)."""

    node_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, x, w, b):
        ni = ctx.needs_input_grad
        ctx.save_for_backward(x if ni[1] else None, w if ni[0] else None)
        return _forward(x, w, b)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        ni = ctx.needs_input_grad
        gx = g.mm(w) if ni[0] else None
        gw = g.t().mm(x) if ni[1] else None
        gb = g.sum(0) if ni[2] else None
        return gx, gw, gb


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias. ``input`` (*, in_features), ``weight`` (out_features,
    in_features), ``bias`` (out_features) or None. One GEMM (addmm) forward, and backward
    writes the weight gradient directly in the weight's layout.

    >>> linear(rt.ones(2, 3), rt.ones(4, 3), rt.zeros(4)).shape
    rt_tensor.Size([2, 4])
    """
    # dim() and size(i) rather than .shape: no Size object per check (this is the per-call
    # cost of every Linear layer, about 2 us of 4.5 at batch 1 before)
    dtype = weight.dtype
    if input.dtype != dtype or (bias is not None and bias.dtype != dtype):
        raise _dtype_error(input, weight, bias)
    nd = input.dim()
    wd = weight.dim()
    if wd != 2 or nd == 0 or (bias is not None and bias.dim() != 1):
        # unusual operands (1-D or N-D weight, 0-D input, 0-D or 2-D bias): matmul's semantics
        if nd == 0 or wd == 0:
            raise RuntimeError(f"both arguments to linear need to be at least 1D, but they "
                               f"are {nd}D and {wd}D")
        out = _matmul(input, weight.t() if wd == 2 else weight)
        return out if bias is None else out + bias
    out_features = weight.size(0)
    if input.size(-1) != weight.size(1):
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                           f"({_mat_str(input.shape)} and {weight.size(1)}x{out_features})")
    if bias is not None and bias.size(0) != out_features and bias.size(0) != 1:
        raise RuntimeError(f"The expanded size of the tensor ({out_features}) must match the "
                           f"existing size ({bias.size(0)}) at non-singleton dimension 1.  "
                           f"Target sizes: [{_mat_str(input.shape).split('x')[0]}, "
                           f"{out_features}].  Tensor sizes: [{bias.size(0)}]")
    if nd == 2:
        if needs_grad(input, weight, bias):
            return _Linear.apply(input, weight, bias)
        return _forward(input, weight, bias)
    # (*, in): fold the leading dims into rows, one GEMM, unfold
    ishape = input.shape
    x2 = input.reshape(-1, ishape[-1]) if nd > 1 else input.unsqueeze(0)
    if needs_grad(input, weight, bias):
        out = _Linear.apply(x2, weight, bias)
    else:
        out = _forward(x2, weight, bias)
    return out.reshape(tuple(ishape[:-1]) + (out_features,))


def bilinear(input1, input2, weight, bias=None):
    """y[..., k] = input1[..., :] @ weight[k] @ input2[..., :] + bias[k]. ``input1`` (*, in1),
    ``input2`` (*, in2) with the same leading dims, ``weight`` (out, in1, in2), ``bias`` (out).
    """
    if input1.dim() != input2.dim():
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.dim()} "
                           f"and {input2.dim()}")
    if weight.dim() != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-D (out_features, in1_features, "
                           f"in2_features), got {weight.dim()}-D")
    for i in range(input1.dim() - 1):
        if input1.shape[i] != input2.shape[i]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {i}: "
                               f"got {input1.shape[i]} and {input2.shape[i]}")
    if input1.dim() == 0:
        raise IndexError("Dimension specified as -1 but tensor has no dimensions")
    out_f, in1, in2 = weight.shape
    if input1.shape[-1] != in1:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got "
                           f"{input1.shape[-1]} but expected {in1}")
    if input2.shape[-1] != in2:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got "
                           f"{input2.shape[-1]} but expected {in2}")
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != out_f):
        got = bias.shape[0] if bias.dim() == 1 else tuple(bias.shape)
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got {got} but "
                           f"expected {out_f}")
    lead = input1.shape[:-1]
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    # (N, in1) @ (in1, out*in2) -> (N, out, in2), then contract in2 with x2: (N, out)
    t = _matmul(x1, weight.permute(1, 0, 2).reshape(in1, out_f * in2)).reshape(-1, out_f, in2)
    out = _matmul(t, x2.unsqueeze(-1)).squeeze(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(tuple(lead) + (out_f,))
