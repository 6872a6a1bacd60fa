"""Build-time helpers for the Tempita kernel templates (src/rt_tensor/*.pxi.in).

setup.py passes every public name here into each template, so the dtype table and the
load/store/convert rules are written once. Not shipped: only the generated code is.
"""

# (name, C storage type, C compute type, kind): kind b=bool u=unsigned i=signed int
# h=16-bit float (stored as bits, computed in float32) f=float c=complex
DTYPES = [
    ("bool",       "bool_t",       "bool_t",       "b"),
    ("uint8",      "uint8_t",      "uint8_t",      "u"),
    ("int8",       "int8_t",       "int8_t",       "i"),
    ("int16",      "int16_t",      "int16_t",      "i"),
    ("int32",      "int32_t",      "int32_t",      "i"),
    ("int64",      "int64_t",      "int64_t",      "i"),
    ("float16",    "uint16_t",     "float",        "h"),
    ("bfloat16",   "uint16_t",     "float",        "h"),
    ("float32",    "float",        "float",        "f"),
    ("float64",    "double",       "double",       "f"),
    ("complex64",  "complex64_t",  "complex64_t",  "c"),
    ("complex128", "complex128_t", "complex128_t", "c"),
]
DTYPE_INDEX = {d[0]: i for i, d in enumerate(DTYPES)}
# dtypes that kernels compute in directly (16-bit floats are converted to float32 first)
COMPUTE_DTYPES = [d for d in DTYPES if d[3] != "h"]


def load(name, expr):
    """C expression reading a stored element as its compute type."""
    if name == "float16":
        return f"rt_f16_to_f32({expr})"
    if name == "bfloat16":
        return f"rt_bf16_to_f32({expr})"
    return expr


def store(name, expr):
    """C expression turning a compute-type value into the stored representation."""
    if name == "float16":
        return f"rt_f32_to_f16(<float>({expr}))"
    if name == "bfloat16":
        return f"rt_f32_to_bf16(<float>({expr}))"
    return expr


def convert(src_kind, dst_kind, dst_ctype, expr):
    """C expression converting a compute value of kind src_kind to dst's compute type, with
    PyTorch's rules: x != 0 for bool, the real part for complex -> real."""
    if dst_kind == "b":
        if src_kind == "c":
            return f"<bool_t>(({expr}).real != 0 or ({expr}).imag != 0)"
        return f"<bool_t>(({expr}) != 0)"
    if src_kind == "c" and dst_kind != "c":
        return f"<{'float' if dst_kind == 'h' else dst_ctype}>(({expr}).real)"
    if dst_kind == "h":
        return f"<float>({expr})"
    return f"<{dst_ctype}>({expr})"
