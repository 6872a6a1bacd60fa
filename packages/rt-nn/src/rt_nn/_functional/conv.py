"""Convolutions: ``conv1d``, ``conv2d``, ``conv3d``, ``conv_transpose1d``, ``conv_transpose2d``,
``conv_transpose3d``, ``unfold``, ``fold`` (``torch.nn.functional``'s signatures, argument
checks and messages).

The numbers come from rt_tensor's ``_nn_conv`` kernels (im2col + GEMM, split over rt's
thread pool). Three linear maps make every gradient, at every order:

- ``conv(x, w)``                      the convolution,
- ``conv_input_grad(gy, w)``          its adjoint in x (= the transposed convolution),
- ``conv_weight_grad(x, gy)``         its adjoint in w,

and each one's gradient is written with the others (``_Conv``, ``_ConvInputGrad``,
``_ConvWeightGrad``), so ``create_graph=True`` and ``gradgradcheck`` work. A transposed
convolution is ``conv_input_grad`` of its input with its weight (``_ConvTranspose``);
``unfold``/``fold`` are each other's gradient.
"""
import operator
import warnings

import rt_tensor as rtt
from rt_autograd._ops.pad import constant_pad_nd
from rt_autograd.function import Function
from rt_autograd._autograd import needs_grad
from rt_tensor import _nn_conv as _K

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "unfold", "fold"]


# ---- names and formatting (PyTorch's) ------------------------------------------------------

_CXX = {rtt.float32: "float", rtt.float64: "double", rtt.float16: "c10::Half",
        rtt.bfloat16: "c10::BFloat16", rtt.int64: "long int", rtt.int32: "int",
        rtt.int16: "short int", rtt.int8: "signed char", rtt.uint8: "unsigned char",
        rtt.bool: "bool", rtt.complex64: "c10::complex<float>",
        rtt.complex128: "c10::complex<double>"}
_TYPE = {rtt.float32: "Float", rtt.float64: "Double", rtt.float16: "Half",
         rtt.bfloat16: "BFloat16", rtt.int64: "Long", rtt.int32: "Int", rtt.int16: "Short",
         rtt.int8: "Char", rtt.uint8: "Byte", rtt.bool: "Bool", rtt.complex64: "ComplexFloat",
         rtt.complex128: "ComplexDouble"}
_FLOATS = (rtt.float32, rtt.float64, rtt.float16, rtt.bfloat16)


def _sizes(shape):
    return "[" + ", ".join(str(int(s)) for s in shape) + "]"


def _tensor_arg(fname, name, pos, value, optional=False):
    if optional and value is None:
        return None
    if not isinstance(value, rtt.Tensor):
        raise TypeError(f"{fname}(): argument '{name}' (position {pos}) must be Tensor, not "
                        f"{type(value).__name__}")
    return value


def _int_arg(fname, name, pos, value):
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            if isinstance(value, bool):
                raise TypeError
            value = operator.index(value)
        except TypeError:
            raise TypeError(f"{fname}(): argument '{name}' (position {pos}) must be int, not "
                            f"{type(value).__name__}") from None
    return int(value)


def _int_list(fname, name, pos, value, n):
    """PyTorch's int[n] argument: an int (repeated n times) or a sequence of ints."""
    if isinstance(value, rtt.Tensor):
        value = value.tolist()
    if isinstance(value, int) and not isinstance(value, bool):
        return [int(value)] * n
    if isinstance(value, (list, tuple)):
        out = []
        for i, v in enumerate(value):
            if isinstance(v, bool) or not hasattr(v, "__index__"):
                raise TypeError(f"{fname}(): argument '{name}' (position {pos}) must be tuple of "
                                f"ints, but found element of type {type(v).__name__} at pos {i}")
            out.append(operator.index(v))
        return out
    if isinstance(value, (float, bool)):
        raise TypeError(f"{fname}(): argument '{name}' (position {pos}) must be tuple of ints, "
                        f"but found element of type {type(value).__name__} at pos 0")
    raise TypeError(f"{fname}(): argument '{name}' (position {pos}) must be tuple of ints, not "
                    f"{type(value).__name__}")


def _expand(values, name, dim):
    """``expand_param_if_needed``: one value for every dim, or exactly dim values."""
    if len(values) == 1:
        return values * dim
    if len(values) != dim:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {dim} "
                           f"values to match the convolution dimensions, but got "
                           f"{name}={_sizes(values)}")
    return list(values)


def _batchify(input, D, fname):
    """(input with a batch dim, whether it had one); PyTorch's message for a wrong rank."""
    dim = input.dim()
    if dim == D + 2:
        return input, True
    if dim == D + 1:
        return input.unsqueeze(0), False
    raise RuntimeError(f"Expected {D + 1}D (unbatched) or {D + 2}D (batched) input to {fname}, "
                       f"but got input of size: {_sizes(input.shape)}")


# ---- the differentiable primitives ---------------------------------------------------------
# p = (stride, padding, dilation, groups) of a convolution (tuples of ints, int)

def _conv(x, w, b, p, size=None):
    """conv(x, w) + b, recorded when needed; ``size``: compute only this leading part of the
    output (the output gradient of a transposed convolution whose output_padding reaches past
    its stride has that size)."""
    if needs_grad(x, w, b):
        return _Conv.apply(x, w, b, p, size)
    return _K.conv_forward(x, w, b, *p, output_size=size)


def _input_grad(gy, w, size, p):
    """The gradient of conv(x, w) w.r.t. x (x's spatial size ``size``) for output gradient gy."""
    if needs_grad(gy, w):
        return _ConvInputGrad.apply(gy, w, tuple(size), p)
    return _K.conv_backward_input(gy, w, tuple(size), *p)


def _weight_grad(x, gy, ksize, p):
    """The gradient of conv(x, w) w.r.t. w (kernel size ``ksize``) for output gradient gy."""
    if needs_grad(x, gy):
        return _ConvWeightGrad.apply(x, gy, tuple(ksize), p)
    return _K.conv_backward_weight(x, gy, tuple(ksize), *p)


def _bias_grad(g):
    return g.sum([0] + list(range(2, g.dim())))


class _Conv(Function):
    """y = conv(x, w) + b."""
    node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, w, b, p, size):
        ctx.p = p
        ctx.x_size = tuple(x.shape[2:])
        ctx.k_size = tuple(w.shape[2:])
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None,
                              w if ctx.needs_input_grad[0] else None)
        return _K.conv_forward(x, w, b, *p, output_size=size)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = _input_grad(g, w, ctx.x_size, ctx.p)
        if ctx.needs_input_grad[1]:
            gw = _weight_grad(x, g, ctx.k_size, ctx.p)
        if ctx.needs_input_grad[2]:
            gb = _bias_grad(g)
        return gx, gw, gb, None, None


class _ConvInputGrad(Function):
    """gx = conv_input_grad(gy, w): linear in gy (adjoint: conv) and in w (adjoint:
    conv_weight_grad of its gradient and gy)."""
    node_name = "ConvolutionBackwardBackward0"

    @staticmethod
    def forward(ctx, gy, w, size, p):
        ctx.p = p
        ctx.k_size = tuple(w.shape[2:])
        ctx.gy_size = tuple(gy.shape[2:])
        ctx.save_for_backward(gy if ctx.needs_input_grad[1] else None,
                              w if ctx.needs_input_grad[0] else None)
        return _K.conv_backward_input(gy, w, size, *p)

    @staticmethod
    def backward(ctx, gg):
        gy, w = ctx.saved_tensors
        d_gy = d_w = None
        if ctx.needs_input_grad[0]:
            d_gy = _conv(gg, w, None, ctx.p, ctx.gy_size)
        if ctx.needs_input_grad[1]:
            d_w = _weight_grad(gg, gy, ctx.k_size, ctx.p)
        return d_gy, d_w, None, None


class _ConvWeightGrad(Function):
    """gw = conv_weight_grad(x, gy): linear in x (adjoint: conv_input_grad of gy with its
    gradient) and in gy (adjoint: conv of x with its gradient)."""
    node_name = "ConvolutionBackwardBackward0"

    @staticmethod
    def forward(ctx, x, gy, ksize, p):
        ctx.p = p
        ctx.x_size = tuple(x.shape[2:])
        ctx.gy_size = tuple(gy.shape[2:])
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None,
                              gy if ctx.needs_input_grad[0] else None)
        return _K.conv_backward_weight(x, gy, ksize, *p)

    @staticmethod
    def backward(ctx, gg):
        x, gy = ctx.saved_tensors
        d_x = d_gy = None
        if ctx.needs_input_grad[0]:
            d_x = _input_grad(gy, gg, ctx.x_size, ctx.p)
        if ctx.needs_input_grad[1]:
            d_gy = _conv(x, gg, None, ctx.p, ctx.gy_size)
        return d_x, d_gy, None, None


class _ConvTranspose(Function):
    """y = conv_input_grad(x, w) + b: the transposed convolution (y has spatial size
    ``size``; p describes the convolution it transposes)."""
    node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, w, b, size, p):
        ctx.p = p
        ctx.k_size = tuple(w.shape[2:])
        ctx.x_size = tuple(x.shape[2:])
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None,
                              w if ctx.needs_input_grad[0] else None)
        return _K.conv_backward_input(x, w, size, *p, bias=b)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = _conv(g, w, None, ctx.p, ctx.x_size)
        if ctx.needs_input_grad[1]:
            gw = _weight_grad(g, x, ctx.k_size, ctx.p)
        if ctx.needs_input_grad[2]:
            gb = _bias_grad(g)
        return gx, gw, gb, None, None


# ---- checks shared by the convolutions -----------------------------------------------------

def _check_dtypes(input, weight, bias):
    if bias is not None and bias.dtype != input.dtype:
        raise RuntimeError(f"Input type ({_CXX[input.dtype]}) and bias type "
                           f"({_CXX[bias.dtype]}) should be the same")


def _check_weight_dtype(input, weight):
    if weight.dtype != input.dtype:
        if input.dtype == rtt.float32:
            raise RuntimeError(f"Input type (torch.{_TYPE[input.dtype]}Tensor) and weight type "
                               f"(torch.{_TYPE[weight.dtype]}Tensor) should be the same or input "
                               f"should be a MKLDNN tensor and weight is a dense tensor")
        raise RuntimeError(f"expected scalar type {_TYPE[input.dtype]} but found "
                           f"{_TYPE[weight.dtype]}")
    if input.dtype not in _FLOATS:
        raise NotImplementedError(f"convolution is not implemented for "
                                  f"'{_TYPE[input.dtype]}' in rt (float32, float64, float16 "
                                  f"and bfloat16 are)")


def _check_shape_forward(input, weight, bias, stride, padding, dilation, transposed,
                         output_padding, groups):
    """PyTorch's ``check_shape_forward`` (Convolution.cpp), in its order."""
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(p < 0 for p in output_padding):
        raise RuntimeError("negative output_padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    k = input.dim()
    wsz = list(weight.shape)
    if len(wsz) != k:
        raise RuntimeError(f"Expected {len(wsz)}-dimensional input for {len(wsz)}-dimensional "
                           f"weight {_sizes(wsz)}, but got {k}-dimensional input of size "
                           f"{_sizes(input.shape)} instead")
    if wsz[0] < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at "
                           f"dimension 0, but got weight of size {_sizes(wsz)} instead")
    if wsz[0] % groups != 0:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{_sizes(wsz)}] instead")
    isz = list(input.shape)
    if not transposed:
        if isz[1] != wsz[1] * groups:
            raise RuntimeError(f"Given groups={groups}, weight of size {_sizes(wsz)}, expected "
                               f"input{_sizes(isz)} to have {wsz[1] * groups} channels, but got "
                               f"{isz[1]} channels instead")
        if bias is not None and (bias.dim() != 1 or bias.shape[0] != wsz[0]):
            raise RuntimeError(f"Given weight of size {_sizes(wsz)}, expected bias to be "
                               f"1-dimensional with {wsz[0]} elements, but got bias of size "
                               f"{_sizes(bias.shape)} instead")
        padded = [isz[2 + i] + 2 * padding[i] for i in range(k - 2)]
        kern = [dilation[i] * (wsz[2 + i] - 1) + 1 for i in range(k - 2)]
        if any(p < q for p, q in zip(padded, kern)):
            raise RuntimeError(f"Calculated padded input size per channel: "
                               f"({' x '.join(map(str, padded))}). Kernel size: "
                               f"({' x '.join(map(str, kern))}). Kernel size can't be greater "
                               f"than actual input size")
    else:
        if isz[1] != wsz[0]:
            raise RuntimeError(f"Given transposed=1, weight of size {_sizes(wsz)}, expected "
                               f"input{_sizes(isz)} to have {wsz[0]} channels, but got {isz[1]} "
                               f"channels instead")
        if bias is not None and (bias.dim() != 1 or bias.shape[0] != wsz[1] * groups):
            raise RuntimeError(f"Given transposed=1, weight of size {_sizes(wsz)}, expected bias "
                               f"to be 1-dimensional with {wsz[1] * groups} elements, but got "
                               f"bias of size {_sizes(bias.shape)} instead")
    if isz[0] != 0 and isz[1] != 0 and any(s == 0 for s in isz[2:]):
        raise RuntimeError(f"Only zero batch or zero channel inputs are supported, but got "
                           f"input shape: {_sizes(isz)}")


_SPATIAL = {1: ["width"], 2: ["height", "width"], 3: ["depth", "height", "width"]}


def _convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
                 groups):
    """``at::convolution`` for a batched input."""
    dim = weight.dim() - 2
    if dim <= 0:
        raise RuntimeError("weight should have at least three dimensions")
    stride = _expand(stride, "stride", dim)
    padding = _expand(padding, "padding", dim)
    dilation = _expand(dilation, "dilation", dim)
    output_padding = _expand(output_padding, "output_padding", dim)
    _check_shape_forward(input, weight, bias, stride, padding, dilation, transposed,
                         output_padding, groups)
    _check_weight_dtype(input, weight)
    p = (tuple(stride), tuple(padding), tuple(dilation), groups)
    if any(k == 0 for k in weight.shape[2:]):
        raise RuntimeError(f"non-positive kernel size is not supported, but got weight of size "
                           f"{_sizes(weight.shape)}")
    if not transposed:
        return _conv(input, weight, bias, p)
    # the transposed convolution's output size; output_padding must stay below the stride or
    # the dilation (else it would be another convolution's input)
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        names = _SPATIAL[dim] if dim in _SPATIAL else [str(i) for i in range(dim)]
        if dim == 1:           # PyTorch runs 1-d as 2-d with a size-1 height
            names = ["height", "width"]
            op_, s_, d_ = [0] + output_padding, [1] + stride, [1] + dilation
        else:
            op_, s_, d_ = output_padding, stride, dilation
        parts = ([f"output_padding_{n}: {v}" for n, v in zip(names, op_)]
                 + [f"stride_{n}: {v}" for n, v in zip(names, s_)]
                 + [f"dilation_{n}: {v}" for n, v in zip(names, d_)])
        raise RuntimeError("output padding must be smaller than either stride or dilation, but "
                           "got " + " ".join(parts))
    isz = list(input.shape[2:])
    osz = [(isz[i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (weight.shape[2 + i] - 1)
           + output_padding[i] + 1 for i in range(dim)]
    if any(o < 1 for o in osz):
        ins, outs = isz, osz
        if dim == 1:
            ins, outs = [1] + isz, [1] + osz
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, ins))}). "
                           f"Calculated output size per channel: ({' x '.join(map(str, outs))}). "
                           f"Output size is too small")
    if needs_grad(input, weight, bias):
        return _ConvTranspose.apply(input, weight, bias, tuple(osz), p)
    return _K.conv_backward_input(input, weight, tuple(osz), *p, bias=bias)


# ---- padding='same' / 'valid' ----------------------------------------------------------------

_same_warned = False


def _conv_padding_mode(input, weight, bias, stride, padding, dilation, groups):
    """``_convolution_mode``: padding 'valid' (none) or 'same' (output size = input size,
    stride 1; an odd total padding puts the extra element on the right, by padding the input)."""
    global _same_warned
    dim = weight.dim() - 2
    if padding == "valid":
        return _convolution(input, weight, bias, stride, [0], dilation, False, [0], groups)
    if padding != "same":
        raise RuntimeError(f"Invalid padding string: '{padding}'")
    for name, v in (("stride", stride), ("dilation", dilation)):
        if len(v) not in (1, dim):
            raise RuntimeError(f"{name} cannot broadcast to {dim} dimensions")
    if any(s != 1 for s in stride):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    dil = dilation * dim if len(dilation) == 1 else dilation
    if any(d <= 0 for d in dil):
        raise RuntimeError("non-positive dilation is not supported")
    if input.dim() != weight.dim():
        raise RuntimeError(f"Expected {weight.dim()}-dimensional input for {weight.dim()}-"
                           f"dimensional weight {_sizes(weight.shape)}, but got {input.dim()}-"
                           f"dimensional input of size {_sizes(input.shape)} instead")
    left, right = [], []
    for i in range(dim):
        total = dil[i] * (weight.shape[2 + i] - 1)
        left.append(total // 2)
        right.append(total - total // 2)
    if left == right:
        return _convolution(input, weight, bias, stride, left, dilation, False, [0], groups)
    if not _same_warned:
        _same_warned = True
        warnings.warn("Using padding='same' with even kernel lengths and odd dilation may "
                      "require a zero-padded copy of the input be created", UserWarning,
                      stacklevel=4)
    pad_nd = [0] * (2 * dim)
    for i in range(dim):
        delta = right[i] - left[i]
        idx = 2 * (dim - 1 - i)
        if delta > 0:
            pad_nd[idx + 1] = delta
        else:
            pad_nd[idx] = delta
            left[i] = right[i]
    padded = constant_pad_nd(input, pad_nd, 0)
    return _convolution(padded, weight, bias, stride, left, dilation, False, [0], groups)


# ---- public functions --------------------------------------------------------------------------
# The fast path: the common call (rt Tensors, an input of D + 1 or D + 2 dims, stride/padding/
# dilation exact ints or tuples of exact ints, padding='valid', groups an exact int) skips the
# checks and goes straight to the kernel with the normalised parameters, memoised per argument
# form. The kernel checks everything else the full path does (dtypes of input/weight/bias,
# ranks, channels and groups, bias shape, kernel larger than the padded input) except sizes of
# zero, which the fast path leaves to the full path; on any error the call is repeated on the
# full path, which raises PyTorch's message. Only exact types reach the memo: True, 1.0 and
# numpy's 1 are hash-equal to 1 but raise (or are handled) on the full path.

_Tensor = rtt.Tensor
_FAST = {}          # (D, stride, padding, dilation, groups) -> p, or None for the full path
_FAST_MAX = 256     # entries kept (the memo is cleared when full)
_MISSING = object()


def _plain(stride, padding, dilation):
    """Each of stride, padding and dilation is an exact int or a tuple of exact ints (padding
    may also be a string)."""
    if type(padding) is str:
        padding = 0
    for v in (stride, padding, dilation):
        if type(v) is tuple:
            for e in v:
                if type(e) is not int:
                    return False
        elif type(v) is not int:
            return False
    return True


def _plain_d(v, D):
    """An int[D] argument in plain form as D ints (None when it needs the full path)."""
    if type(v) is int:
        return (v,) * D
    if len(v) == D:
        return v
    if len(v) == 1:
        return v * D
    return None


def _fast_params(key):
    """p for a plain argument form, or None when the full path must see it (memoised)."""
    D, stride, padding, dilation, groups = key
    p = None
    if type(padding) is str:
        padding = (0,) * D if padding == "valid" else None
    else:
        padding = _plain_d(padding, D)
    stride = _plain_d(stride, D)
    dilation = _plain_d(dilation, D)
    if (stride is not None and padding is not None and dilation is not None and groups >= 1
            and all(v > 0 for v in stride) and all(v >= 0 for v in padding)
            and all(v > 0 for v in dilation)):
        p = (stride, padding, dilation, groups)
    if len(_FAST) >= _FAST_MAX:
        _FAST.clear()
    _FAST[key] = p
    return p


def _convnd(fname, D, input, weight, bias, stride, padding, dilation, groups):
    if (isinstance(input, _Tensor) and isinstance(weight, _Tensor)
            and (bias is None or isinstance(bias, _Tensor)) and type(groups) is int
            and ((type(stride) is int and type(padding) is int and type(dilation) is int)
                 or _plain(stride, padding, dilation))):
        key = (D, stride, padding, dilation, groups)
        p = _FAST.get(key, _MISSING)
        if p is _MISSING:
            p = _fast_params(key)
        if p is not None and input.numel() and weight.numel():
            nd = input.dim()
            try:
                # _conv(input, weight, bias, p), inlined
                if nd == D + 2:
                    if needs_grad(input, weight, bias):
                        return _Conv.apply(input, weight, bias, p, None)
                    return _K.conv_forward(input, weight, bias, *p)
                if nd == D + 1:
                    return _conv(input.unsqueeze(0), weight, bias, p).squeeze(0)
            except Exception:   # not only RuntimeError: groups=2**40 is an OverflowError here
                pass            # the full path raises PyTorch's message
    return _convnd_full(fname, D, input, weight, bias, stride, padding, dilation, groups)


def _convnd_full(fname, D, input, weight, bias, stride, padding, dilation, groups):
    input = _tensor_arg(fname, "input", 1, input)
    weight = _tensor_arg(fname, "weight", 2, weight)
    bias = _tensor_arg(fname, "bias", 3, bias, optional=True)
    stride = _int_list(fname, "stride", 4, stride, D)
    dilation = _int_list(fname, "dilation", 6, dilation, D)
    groups = _int_arg(fname, "groups", 7, groups)
    _check_dtypes(input, weight, bias)
    x, batched = _batchify(input, D, fname)
    if isinstance(padding, str):
        y = _conv_padding_mode(x, weight, bias, stride, padding, dilation, groups)
    else:
        padding = _int_list(fname, "padding", 5, padding, D)
        y = _convolution(x, weight, bias, stride, padding, dilation, False, [0], groups)
    return y if batched else y.squeeze(0)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) of input (N, C_in, L) or (C_in, L) with weight
    (C_out, C_in / groups, k) (``torch.nn.functional.conv1d``). padding: int, tuple, 'valid'
    or 'same'."""
    return _convnd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution of input (N, C_in, H, W) or (C_in, H, W) with weight
    (C_out, C_in / groups, kH, kW) (``torch.nn.functional.conv2d``)."""
    return _convnd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution of input (N, C_in, D, H, W) or (C_in, D, H, W) with weight
    (C_out, C_in / groups, kD, kH, kW) (``torch.nn.functional.conv3d``)."""
    return _convnd("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transposend(fname, D, input, weight, bias, stride, padding, output_padding, groups,
                      dilation):
    input = _tensor_arg(fname, "input", 1, input)
    weight = _tensor_arg(fname, "weight", 2, weight)
    bias = _tensor_arg(fname, "bias", 3, bias, optional=True)
    stride = _int_list(fname, "stride", 4, stride, D)
    padding = _int_list(fname, "padding", 5, padding, D)
    output_padding = _int_list(fname, "output_padding", 6, output_padding, D)
    groups = _int_arg(fname, "groups", 7, groups)
    dilation = _int_list(fname, "dilation", 8, dilation, D)
    _check_dtypes(input, weight, bias)
    x, batched = _batchify(input, D, fname)
    y = _convolution(x, weight, bias, stride, padding, dilation, True, output_padding, groups)
    return y if batched else y.squeeze(0)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-D transposed convolution of input (N, C_in, L) or (C_in, L) with weight
    (C_in, C_out / groups, k) (``torch.nn.functional.conv_transpose1d``): the gradient of
    conv1d w.r.t. its input. Output length (L - 1) * stride - 2 * padding +
    dilation * (k - 1) + output_padding + 1."""
    return _conv_transposend("conv_transpose1d", 1, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution (``torch.nn.functional.conv_transpose2d``); weight
    (C_in, C_out / groups, kH, kW)."""
    return _conv_transposend("conv_transpose2d", 2, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """3-D transposed convolution (``torch.nn.functional.conv_transpose3d``); weight
    (C_in, C_out / groups, kD, kH, kW)."""
    return _conv_transposend("conv_transpose3d", 3, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


# ---- unfold / fold -------------------------------------------------------------------------------

class _Im2Col(Function):
    node_name = "Im2ColBackward0"

    @staticmethod
    def forward(ctx, x, args):
        ctx.args = args
        ctx.size = tuple(x.shape[2:])
        return _K.im2col(x, *args)

    @staticmethod
    def backward(ctx, g):
        return _col2im(g, ctx.size, ctx.args), None


class _Col2Im(Function):
    node_name = "Col2ImBackward0"

    @staticmethod
    def forward(ctx, x, size, args):
        ctx.args = args
        return _K.col2im(x, size, *args)

    @staticmethod
    def backward(ctx, g):
        return _im2col(g, ctx.args), None, None


def _im2col(x, args):
    """args = (kernel_size, dilation, padding, stride)."""
    if needs_grad(x):
        return _Im2Col.apply(x, args)
    return _K.im2col(x, *args)


def _col2im(x, size, args):
    if needs_grad(x):
        return _Col2Im.apply(x, tuple(size), args)
    return _K.col2im(x, tuple(size), *args)


def _pair_arg(fname, name, pos, value):
    v = _int_list(fname, name, pos, value, 2)
    if len(v) == 1:
        v = v * 2
    return v


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of a batched (N, C, H, W) or unbatched (C, H, W) input as columns:
    (N, C * kH * kW, L) (``torch.nn.functional.unfold``)."""
    fname = "im2col"
    input = _tensor_arg("unfold", "input", 1, input)
    ks = _pair_arg(fname, "kernel_size", 2, kernel_size)
    dl = _pair_arg(fname, "dilation", 3, dilation)
    pd = _pair_arg(fname, "padding", 4, padding)
    st = _pair_arg(fname, "stride", 5, stride)
    for name, v in (("kernel_size", ks), ("dilation", dl), ("padding", pd), ("stride", st)):
        if len(v) != 2:
            raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(v)}")
    if not all(k > 0 for k in ks):
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: "
                           f"{ks[0]} kernel_width: {ks[1]}")
    if not all(s > 0 for s in st):
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {st[0]} "
                           f"stride_width: {st[1]}")
    if not all(d > 0 for d in dl):
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: "
                           f"{dl[0]} dilation_width: {dl[1]}")
    if not all(p >= 0 for p in pd):
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {pd[0]} "
                           f"pad_width: {pd[1]}")
    shape = list(input.shape)
    ndim = len(shape)
    if ndim < 3:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(ndim, 1)}, "
                         f"{max(ndim, 1) - 1}], but got 2)")
    if not (ndim in (3, 4) and all(s != 0 for s in shape[-3:])):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and "
                           f"other non-zero dimensions for input, but got: {_sizes(shape)}")
    out = [(shape[-2 + i] + 2 * pd[i] - (dl[i] * (ks[i] - 1) + 1)) // st[i] + 1 for i in range(2)]
    if out[0] < 1 or out[1] < 1:
        raise RuntimeError(f"Given input with spatial size ({shape[-2]}, {shape[-1]}), "
                           f"kernel_size=({ks[0]}, {ks[1]}), dilation=({dl[0]}, {dl[1]}), "
                           f"padding=({pd[0]}, {pd[1]}), calculated shape of the array of sliding "
                           f"blocks as ({out[0]}, {out[1]}), but its components must be at least "
                           f"one.")
    if input.dtype not in _FLOATS:
        raise NotImplementedError(f"\"im2col_out_cpu\" not implemented for '{_TYPE[input.dtype]}'")
    batched = ndim == 4
    x = input if batched else input.unsqueeze(0)
    y = _im2col(x, (tuple(ks), tuple(dl), tuple(pd), tuple(st)))
    return y if batched else y.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sums columns (N, C * kH * kW, L) or (C * kH * kW, L) of sliding blocks back into an
    image (N, C, *output_size) (``torch.nn.functional.fold``; the adjoint of unfold)."""
    fname = "col2im"
    input = _tensor_arg("fold", "input", 1, input)
    osz = _pair_arg(fname, "output_size", 2, output_size)
    ks = _pair_arg(fname, "kernel_size", 3, kernel_size)
    dl = _pair_arg(fname, "dilation", 4, dilation)
    pd = _pair_arg(fname, "padding", 5, padding)
    st = _pair_arg(fname, "stride", 6, stride)
    for name, v in (("output_size", osz), ("kernel_size", ks), ("dilation", dl),
                    ("padding", pd), ("stride", st)):
        if len(v) != 2:
            raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(v)}")
    if not all(k > 0 for k in ks):
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: "
                           f"{ks[0]} kernel_width: {ks[1]}")
    if not all(s > 0 for s in st):
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {st[0]} "
                           f"stride_width: {st[1]}")
    if not all(d > 0 for d in dl):
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: "
                           f"{dl[0]} dilation_width: {dl[1]}")
    if not all(p >= 0 for p in pd):
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {pd[0]} "
                           f"pad_width: {pd[1]}")
    shape = list(input.shape)
    ndim = len(shape)
    if not (ndim in (2, 3) and all(s != 0 for s in shape[-2:])):
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor for input with possibly 0 "
                           f"batch size and non-zero dimensions for input, but got: "
                           f"{_sizes(shape)}")
    kk = ks[0] * ks[1]
    if shape[-2] % kk != 0:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={shape[-2]} and "
                           f"kernel_size=({ks[0]}, {ks[1]}).")
    blocks = [(osz[i] + 2 * pd[i] - (dl[i] * (ks[i] - 1) + 1)) // st[i] + 1 for i in range(2)]
    L = blocks[0] * blocks[1]
    if shape[-1] != L:
        raise RuntimeError(f"Given output_size=({osz[0]}, {osz[1]}), kernel_size=({ks[0]}, "
                           f"{ks[1]}), dilation=({dl[0]}, {dl[1]}), padding=({pd[0]}, {pd[1]}), "
                           f"stride=({st[0]}, {st[1]}), expected size of input's dimension 2 to "
                           f"match the calculated number of sliding blocks {blocks[0]} * "
                           f"{blocks[1]} = {L}, but got input.size(2)={shape[-1]}.")
    if blocks[0] < 1 or blocks[1] < 1:
        raise RuntimeError(f"Given output_size=({osz[0]}, {osz[1]}), kernel_size=({ks[0]}, "
                           f"{ks[1]}), dilation=({dl[0]}, {dl[1]}), padding=({pd[0]}, {pd[1]}), "
                           f"stride=({st[0]}, {st[1]}), calculated shape of the array of sliding "
                           f"blocks as ({blocks[0]}, {blocks[1]}), which is too small (non-"
                           f"positive)")
    if input.dtype not in _FLOATS:
        raise NotImplementedError(f"\"col2im_out_cpu\" not implemented for '{_TYPE[input.dtype]}'")
    batched = ndim == 3
    x = input if batched else input.unsqueeze(0)
    y = _col2im(x, tuple(osz), (tuple(ks), tuple(dl), tuple(pd), tuple(st)))
    return y if batched else y.squeeze(0)
