"""The module classes, one file per family (as torch.nn.modules). Each family module has an
``__all__``; adding a family is one line in ``_FAMILIES``."""
from rt_nn.modules import container, module
from rt_nn.modules import flatten, linear  # noqa: E402

from rt_nn.modules import attention, rnn, transformer  # noqa: E402
from rt_nn.modules import distance, loss, softmax  # noqa: E402
from rt_nn.modules import conv, fold  # noqa: E402
_FAMILIES = [module, container, rnn, attention, transformer, linear, flatten, softmax, distance, loss]
_FAMILIES += [conv, fold]
from rt_nn.modules import activation, batchnorm, instancenorm, normalization  # noqa: E402,E501
_FAMILIES += [activation, batchnorm, instancenorm, normalization]
from rt_nn.modules import dropout, pixelshuffle, pooling, sparse, upsampling  # noqa: E402,E501
_FAMILIES += [pooling, dropout, sparse, upsampling, pixelshuffle]

__all__ = []
for _family in _FAMILIES:
    globals().update({_name: getattr(_family, _name) for _name in _family.__all__})
    __all__ += list(_family.__all__)
