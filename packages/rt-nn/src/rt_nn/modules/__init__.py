"""The module classes, one file per family (as torch.nn.modules). Each family module has an
``__all__``; adding a family is one line in ``_FAMILIES``."""
from rt_nn.modules import container, module

_FAMILIES = [module, container]

__all__ = []
for _family in _FAMILIES:
    globals().update({_name: getattr(_family, _name) for _name in _family.__all__})
    __all__ += list(_family.__all__)
