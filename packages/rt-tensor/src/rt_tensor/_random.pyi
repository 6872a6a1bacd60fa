"""Random numbers: a seeded Philox4x32-10 generator and PyTorch's sampling functions.

Results depend only on (seed, offset, element index): the same for any thread count and
across processes."""
from typing import Any, Optional, Sequence, Union

from rt_tensor._dtype import dtype as _dtype
from rt_tensor._tensor import Tensor

_Size = Union[int, Sequence[int]]

DEFAULT_SEED: int


class Generator:
    """A random number generator (``torch.Generator``), CPU only."""
    def __init__(self, device: Any = "cpu") -> None: ...
    @property
    def device(self) -> Any: ...
    def manual_seed(self, seed: int) -> "Generator":
        """Seed (taken modulo 2**64) and reset the offset; returns self."""
    def initial_seed(self) -> int: ...
    def seed(self) -> int:
        """Seed from the OS's entropy; returns the seed."""
    def get_state(self) -> Tensor:
        """The state as a uint8 tensor of 16 bytes (seed, offset)."""
    def set_state(self, new_state: Tensor) -> "Generator": ...
    def get_offset(self) -> int: ...
    def set_offset(self, offset: int) -> "Generator": ...


default_generator: Generator


def manual_seed(seed: int) -> Generator:
    """Seed the default generator; returns it."""
def seed() -> int:
    """Seed the default generator from the OS's entropy."""
def initial_seed() -> int: ...
def get_rng_state() -> Tensor: ...
def set_rng_state(new_state: Tensor) -> None: ...

def rand(*size: _Size, generator: Optional[Generator] = None, out: Optional[Tensor] = None,
         dtype: Optional[_dtype] = None, layout: Any = None, device: Any = None,
         requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Uniform samples on [0, 1); floating and complex dtypes."""
def randn(*size: _Size, generator: Optional[Generator] = None, out: Optional[Tensor] = None,
          dtype: Optional[_dtype] = None, layout: Any = None, device: Any = None,
          requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Standard normal samples (Box-Muller); complex dtypes get N(0, 1/2) parts."""
def randint(*args: Any, size: Optional[_Size] = None, generator: Optional[Generator] = None,
            out: Optional[Tensor] = None, dtype: Optional[_dtype] = None, layout: Any = None,
            device: Any = None, requires_grad: bool = False, low: Optional[int] = None,
            high: Optional[int] = None) -> Tensor:
    """``randint(high, size)`` or ``randint(low, high, size)``: integers on [low, high),
    int64 unless ``dtype`` is given."""
def randperm(n: int, *, generator: Optional[Generator] = None, out: Optional[Tensor] = None,
             dtype: Optional[_dtype] = None, layout: Any = None, device: Any = None,
             requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A random permutation of 0..n-1 (Fisher-Yates), int64 unless ``dtype`` is given."""
def normal(mean: Union[Tensor, float], std: Union[Tensor, float] = 1.0,
           size: Optional[_Size] = None, *, generator: Optional[Generator] = None,
           out: Optional[Tensor] = None, dtype: Optional[_dtype] = None, layout: Any = None,
           device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Normal samples: (Tensor, Tensor) broadcast, (Tensor, float), (float, Tensor) or
    (float, float, size)."""
def bernoulli(input: Tensor, p: Optional[Union[float, Tensor]] = None, *,
              generator: Optional[Generator] = None, out: Optional[Tensor] = None) -> Tensor:
    """0/1 samples with probabilities ``input`` (or ``p``), in input's dtype."""
def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Optional[Generator] = None, out: Optional[Tensor] = None) -> Tensor:
    """Category indices (int64) drawn from the rows of a 1-d or 2-d weight tensor."""
def poisson(input: Tensor, generator: Optional[Generator] = None) -> Tensor:
    """Poisson samples with rates ``input`` (Knuth below 10, PTRS above)."""
def rand_like(input: Tensor, *, dtype: Optional[_dtype] = None, layout: Any = None,
              device: Any = None, requires_grad: bool = False, memory_format: Any = None,
              generator: Optional[Generator] = None) -> Tensor: ...
def randn_like(input: Tensor, *, dtype: Optional[_dtype] = None, layout: Any = None,
               device: Any = None, requires_grad: bool = False, memory_format: Any = None,
               generator: Optional[Generator] = None) -> Tensor: ...
def randint_like(input: Tensor, low: int = 0, high: Optional[int] = None, *,
                 dtype: Optional[_dtype] = None, layout: Any = None, device: Any = None,
                 requires_grad: bool = False, memory_format: Any = None,
                 generator: Optional[Generator] = None) -> Tensor:
    """``randint_like(input, high)`` or ``randint_like(input, low, high)``."""

# in-place Tensor methods (Tensor.uniform_ etc.)
def uniform_(self: Tensor, from_: float = 0.0, to: float = 1.0, *,
             generator: Optional[Generator] = None) -> Tensor: ...
def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *,
            generator: Optional[Generator] = None) -> Tensor: ...
def random_(self: Tensor, *args: int, generator: Optional[Generator] = None) -> Tensor:
    """``random_()``, ``random_(to)`` or ``random_(from, to)``."""
def bernoulli_(self: Tensor, p: Union[float, Tensor] = 0.5, *,
               generator: Optional[Generator] = None) -> Tensor: ...
def exponential_(self: Tensor, lambd: float = 1.0, *,
                 generator: Optional[Generator] = None) -> Tensor: ...
def geometric_(self: Tensor, p: float, *, generator: Optional[Generator] = None) -> Tensor: ...
def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *,
                generator: Optional[Generator] = None) -> Tensor: ...
def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *,
            generator: Optional[Generator] = None) -> Tensor: ...
