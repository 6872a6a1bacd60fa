"""The module classes, one file per family (as torch.nn.modules). Each family module has an
``__all__``; adding a family is one entry in the import and in ``_FAMILIES``."""
from rt_nn.modules import (activation, attention, batchnorm, container, conv, distance,
                           dropout, flatten, fold, instancenorm, linear, loss, module,
                           normalization, padding, pixelshuffle, pooling, rnn, softmax, sparse,
                           transformer, upsampling)

_FAMILIES = [module, container, linear, flatten, conv, fold, pooling, padding, upsampling,
             pixelshuffle, dropout, sparse, activation, softmax, batchnorm, instancenorm,
             normalization, distance, loss, rnn, attention, transformer]

__all__ = []
for _family in _FAMILIES:
    globals().update({_name: getattr(_family, _name) for _name in _family.__all__})
    __all__ += list(_family.__all__)
