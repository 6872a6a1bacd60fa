"""Batch normalization layers (``torch.nn.modules.batchnorm``): ``BatchNorm1d``,
``BatchNorm2d``, ``BatchNorm3d``.

State: ``weight`` (ones) and ``bias`` (zeros) when ``affine``; buffers ``running_mean``
(zeros), ``running_var`` (ones) and ``num_batches_tracked`` (int64 0) when
``track_running_stats``, else those three are None. Training normalises with the batch
statistics and updates the running ones (``momentum=None``: cumulative average with
``1 / num_batches_tracked``); eval uses the running statistics when they are tracked.
"""
import rt_autograd as rt

from rt_nn import init
from rt_nn._functional.normalization import batch_norm
from rt_nn.modules.module import Module
from rt_nn.parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]


def _check_features(cls, num_features):
    if isinstance(num_features, bool) or not isinstance(num_features, int):
        raise TypeError(f"{cls}: num_features must be an int, got {type(num_features).__name__}")
    if num_features < 0:
        raise ValueError(f"{cls}: num_features must be non-negative, got "
                         f"num_features={num_features}")


class _NormBase(Module):
    """Common base of batch and instance norm: parameters, buffers, reset, repr, and the
    state-dict upgrade (checkpoints older than version 2 lack ``num_batches_tracked``)."""

    _version = 2
    __constants__ = ["track_running_stats", "momentum", "eps", "num_features", "affine"]

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        _check_features(type(self).__name__, num_features)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if self.affine:
            self.weight = Parameter(rt.empty(num_features, dtype=dtype))
            if bias:
                self.bias = Parameter(rt.empty(num_features, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", rt.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", rt.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", rt.tensor(0, dtype=rt.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input):
        raise NotImplementedError

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs, *args, **kwargs):
        version = local_metadata.get("version", None)
        if (version is None or version < 2) and self.track_running_stats:
            # version 2 added num_batches_tracked; older checkpoints start it at 0
            key = prefix + "num_batches_tracked"
            if key not in state_dict:
                state_dict[key] = (self.num_batches_tracked
                                   if self.num_batches_tracked is not None
                                   else rt.tensor(0, dtype=rt.int64))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs, *args, **kwargs)


class _BatchNorm(_NormBase):
    def forward(self, input):
        self._check_input_dim(input)
        if self.momentum is None:
            exponential_average_factor = 0.0
        else:
            exponential_average_factor = self.momentum
        if self.training and self.track_running_stats:
            if self.num_batches_tracked is not None:
                self.num_batches_tracked.add_(1)
                if self.momentum is None:   # cumulative moving average
                    exponential_average_factor = 1.0 / float(self.num_batches_tracked)
                else:
                    exponential_average_factor = self.momentum
        # batch statistics in training, and in eval when no running statistics exist
        if self.training:
            bn_training = True
        else:
            bn_training = self.running_mean is None and self.running_var is None
        # the buffers are passed only when they are updated (training and tracked) or used
        # (eval with running statistics)
        use_buffers = not self.training or self.track_running_stats
        return batch_norm(input,
                          self.running_mean if use_buffers else None,
                          self.running_var if use_buffers else None,
                          self.weight, self.bias, bn_training, exponential_average_factor,
                          self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalization over a 2D (N, C) or 3D (N, C, L) input.

    >>> m = BatchNorm1d(3)
    >>> m(rt.randn(8, 3)).shape
    rt_tensor.Size([8, 3])
    """

    def _check_input_dim(self, input):
        if input.dim() != 2 and input.dim() != 3:
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch normalization over a 4D (N, C, H, W) input.

    >>> BatchNorm2d(3)(rt.randn(2, 3, 4, 4)).shape
    rt_tensor.Size([2, 3, 4, 4])
    """

    def _check_input_dim(self, input):
        if input.dim() != 4:
            raise ValueError(f"expected 4D input (got {input.dim()}D input)")


class BatchNorm3d(_BatchNorm):
    """Batch normalization over a 5D (N, C, D, H, W) input."""

    def _check_input_dim(self, input):
        if input.dim() != 5:
            raise ValueError(f"expected 5D input (got {input.dim()}D input)")
