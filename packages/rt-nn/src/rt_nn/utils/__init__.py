"""``torch.nn.utils``: gradient clipping, parameters <-> vector, and ``rnn`` (padding and
packing of variable-length sequences)."""
from rt_nn.utils import rnn  # noqa: F401
from rt_nn.utils.clip_grad import (clip_grad_norm, clip_grad_norm_, clip_grad_value_,
                                   clip_grads_with_norm_, get_total_norm)
from rt_nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grads_with_norm_", "clip_grad_value_",
           "get_total_norm", "parameters_to_vector", "vector_to_parameters", "rnn"]
