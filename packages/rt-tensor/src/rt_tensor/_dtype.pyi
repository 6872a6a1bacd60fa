"""Dtypes and type promotion (``torch.dtype``, ``torch.promote_types``)."""
from typing import Any

class dtype:
    code: int
    itemsize: int
    name: str
    scalar_name: str
    is_floating_point: bool
    is_complex: bool
    is_signed: bool
    @property
    def is_integer(self) -> bool: ...
    def to_real(self) -> dtype: ...
    def to_complex(self) -> dtype: ...

bool_: dtype
uint8: dtype
int8: dtype
int16: dtype
int32: dtype
int64: dtype
float16: dtype
bfloat16: dtype
float32: dtype
float64: dtype
complex64: dtype
complex128: dtype
all_dtypes: tuple[dtype, ...]

def get_default_dtype() -> dtype: ...
def set_default_dtype(d: dtype) -> None: ...
def promote_types(type1: dtype, type2: dtype) -> dtype: ...
def can_cast(from_: dtype, to: dtype) -> bool: ...
def from_numpy_dtype(npdtype: Any) -> dtype: ...
def to_numpy_dtype(d: dtype) -> Any: ...
