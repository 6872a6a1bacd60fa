"""PyTorch-like ``repr``/``str`` of tensors (a port of torch/_tensor_str.py's rules).

- floats: 4 decimals by default; integer-valued floats print as ``1.``; scientific notation
  (``1.0000e+10``) when max/min of the non-zero finite magnitudes exceeds 1000, the largest
  exceeds 1e8, or (non-integer values) the smallest is below 1e-4;
- more than ``threshold`` (1000) elements are summarised with ``...`` (``edgeitems`` each side);
- ``dtype=`` is appended unless the dtype is the default float, the default complex, int64
  or bool; empty tensors of more than one dim get ``size=(...)``.

The values are read through numpy; float16/bfloat16 print from their float32 values.
"""
import contextlib
import math

import numpy as np

__all__ = ["set_printoptions", "get_printoptions", "printoptions"]
TENSOR_METHODS = {}


class _PrintOptions:
    precision = 4
    threshold = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode = None


PRINT_OPTS = _PrintOptions()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Set options for printing (``torch.set_printoptions``).

    precision: digits after the point (default 4); threshold: summarise above this many
    elements (default 1000); edgeitems: items shown at each end when summarising (default 3);
    linewidth: characters per line (default 80); profile: "default", "short" or "full";
    sci_mode: True/False forces scientific notation on/off, None chooses automatically.
    """
    if profile is not None:
        if profile == "default":
            PRINT_OPTS.precision, PRINT_OPTS.threshold = 4, 1000
            PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 3, 80
        elif profile == "short":
            PRINT_OPTS.precision, PRINT_OPTS.threshold = 2, 1000
            PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 2, 80
        elif profile == "full":
            PRINT_OPTS.precision, PRINT_OPTS.threshold = 4, math.inf
            PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 3, 80
        else:
            raise ValueError(f"set_printoptions: unknown profile {profile!r} "
                             "(expected 'default', 'short' or 'full')")
    if precision is not None:
        PRINT_OPTS.precision = int(precision)
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = int(edgeitems)
    if linewidth is not None:
        PRINT_OPTS.linewidth = int(linewidth)
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions():
    """The current print options as a dict (``torch._tensor_str.get_printoptions``)."""
    return dict(precision=PRINT_OPTS.precision, threshold=PRINT_OPTS.threshold,
                edgeitems=PRINT_OPTS.edgeitems, linewidth=PRINT_OPTS.linewidth,
                sci_mode=PRINT_OPTS.sci_mode)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Context manager that sets print options and restores the previous ones on exit."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    def __init__(self, values, floating):
        """values: a numpy array of the (summarised) values to be printed."""
        self.floating_dtype = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        prec = PRINT_OPTS.precision
        if not self.floating_dtype:
            for value in flat.tolist():
                self.max_width = max(self.max_width, len(f"{value}"))
        else:
            nz = flat[np.isfinite(flat) & (flat != 0)]
            if nz.size == 0:
                return self._override()
            nz_abs = np.abs(nz.astype(np.float64))
            nz_min = float(nz_abs.min())
            nz_max = float(nz_abs.max())
            if np.any(nz != np.ceil(nz)):
                self.int_mode = False
            vals = nz.tolist()
            if self.int_mode:
                if nz_max / nz_min > 1000.0 or nz_max > 1.0e8:
                    self.sci_mode = True
                    for value in vals:
                        self.max_width = max(self.max_width, len(f"{value:.{prec}e}"))
                else:
                    for value in vals:
                        self.max_width = max(self.max_width, len(f"{value:.0f}") + 1)
            else:
                if nz_max / nz_min > 1000.0 or nz_max > 1.0e8 or nz_min < 1.0e-4:
                    self.sci_mode = True
                    for value in vals:
                        self.max_width = max(self.max_width, len(f"{value:.{prec}e}"))
                else:
                    for value in vals:
                        self.max_width = max(self.max_width, len(f"{value:.{prec}f}"))
        self._override()

    def _override(self):
        if PRINT_OPTS.sci_mode is not None:
            self.sci_mode = PRINT_OPTS.sci_mode

    def width(self):
        return self.max_width

    def format(self, value):
        if self.floating_dtype:
            prec = PRINT_OPTS.precision
            if self.sci_mode:
                ret = f"{value:{self.max_width}.{prec}e}"
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{value:.{prec}f}"
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


def _summarized(a):
    e = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        if a.shape[0] > 2 * e:
            return np.concatenate((a[:e], a[-e:] if e else a[:0]))
        return a
    if not e:
        return np.empty([0] * a.ndim, dtype=a.dtype)
    rows = list(a[:e]) + list(a[-e:]) if a.shape[0] > 2 * e else list(a)
    return np.stack([_summarized(x) for x in rows])


def _complex_str(val, f1, f2):
    real_str = f1.format(val.real)
    imag_str = (f2.format(val.imag) + "j").lstrip()
    if imag_str[0] == "+" or imag_str[0] == "-":
        return real_str + imag_str
    return real_str + "+" + imag_str


def _vector_str(a, indent, summarize, f1, f2):
    element_length = f1.width() + 2
    if f2 is not None:
        element_length += f2.width() + 1
    elements_per_line = max(1, int(math.floor((PRINT_OPTS.linewidth - indent) / element_length)))
    e = PRINT_OPTS.edgeitems

    if f2 is not None:
        def fmt(v):
            return _complex_str(v, f1, f2)
    else:
        fmt = f1.format

    if summarize and not e:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        data = ([fmt(v) for v in a[:e].tolist()] + [" ..."] +
                [fmt(v) for v in a[-e:].tolist()])
    else:
        data = [fmt(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + elements_per_line])
             for i in range(0, len(data), elements_per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str_with_formatter(a, indent, summarize, f1, f2):
    dim = a.ndim
    if dim == 0:
        v = a.item()
        return _complex_str(v, f1, f2) if f2 is not None else f1.format(v)
    if dim == 1:
        return _vector_str(a, indent, summarize, f1, f2)
    e = PRINT_OPTS.edgeitems
    if summarize and a.shape[0] > 2 * e:
        slices = ([_tensor_str_with_formatter(a[i], indent + 1, summarize, f1, f2)
                   for i in range(0, e)] + ["..."] +
                  [_tensor_str_with_formatter(a[i], indent + 1, summarize, f1, f2)
                   for i in range(a.shape[0] - e, a.shape[0])])
    else:
        slices = [_tensor_str_with_formatter(a[i], indent + 1, summarize, f1, f2)
                  for i in range(a.shape[0])]
    return "[" + ("," + "\n" * (dim - 1) + " " * (indent + 1)).join(slices) + "]"


def _numpy_values(t):
    name = t.dtype.name
    if name in ("bfloat16", "float16"):
        return t.float().numpy(force=True)
    return t.numpy(force=True)


def _tensor_str(t, indent):
    if t.numel() == 0:
        return "[]"
    summarize = t.numel() > PRINT_OPTS.threshold
    a = _numpy_values(t)
    if a.dtype.kind == "c":
        s = _summarized(a) if summarize else a
        f1 = _Formatter(np.ascontiguousarray(s.real), True)
        f2 = _Formatter(np.ascontiguousarray(s.imag), True)
        return _tensor_str_with_formatter(a, indent, summarize, f1, f2)
    f = _Formatter(_summarized(a) if summarize else a, a.dtype.kind == "f")
    return _tensor_str_with_formatter(a, indent, summarize, f, None)


def _add_suffixes(tensor_str, suffixes, indent, force_newline=False):
    tensor_strs = [tensor_str]
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        suffix_len = len(suffix)
        if force_newline or last_line_len + suffix_len + 2 > PRINT_OPTS.linewidth:
            tensor_strs.append(",\n" + " " * indent + suffix)
            last_line_len = indent + suffix_len
            force_newline = False
        else:
            tensor_strs.append(", " + suffix)
            last_line_len += suffix_len + 2
    tensor_strs.append(")")
    return "".join(tensor_strs)


def tensor_repr(t, extra_suffixes=(), prefix="tensor("):
    """``repr(t)`` as PyTorch prints it. ``extra_suffixes`` (such as ``"grad_fn=<...>"``) are
    appended after the dtype, for layers above rt_tensor."""
    from rt_tensor._dtype import get_default_dtype, float64, complex64, complex128, int64, bool_
    indent = len(prefix)
    suffixes = []
    dt = t.dtype
    default = get_default_dtype()
    if t.numel() == 0:
        if t.ndim != 1:
            suffixes.append("size=" + str(tuple(t.shape)))
        if dt != default:
            suffixes.append("dtype=" + str(dt))
        tensor_str = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append("size=" + str(tuple(t.shape)))
        default_complex = complex128 if default == float64 else complex64
        if dt not in (default, default_complex, int64, bool_):
            suffixes.append("dtype=" + str(dt))
        tensor_str = _tensor_str(t, indent)
    suffixes.extend(extra_suffixes)
    return _add_suffixes(prefix + tensor_str, suffixes, indent)
