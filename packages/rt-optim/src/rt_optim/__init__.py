"""rt_optim: ``torch.optim`` for rt. ``import rt_optim as optim``; ``rt_optim.lr_scheduler``.

Every optimizer updates its parameters with a fused Cython kernel (one pass over parameter,
gradient and state, every tensor of a group in one call); the readable tensor-op formula it
implements sits next to it (``<name>_reference``) and serves the tensors the kernel does not
take. Depends on rt-autograd only.
"""
from rt_optim import lr_scheduler  # noqa: F401
from rt_optim.adadelta import Adadelta
from rt_optim.adagrad import Adagrad
from rt_optim.adam import Adam, AdamW
from rt_optim.adamax import Adamax
from rt_optim.asgd import ASGD
from rt_optim.lamb import LAMB
from rt_optim.factory import OptimizerFactory
from rt_optim.lbfgs import LBFGS
from rt_optim.lion import Lion
from rt_optim.nadam import NAdam
from rt_optim.optimizer import Optimizer
from rt_optim.radam import RAdam
from rt_optim.rmsprop import RMSprop
from rt_optim.rprop import Rprop
from rt_optim.sgd import SGD

__version__ = "0.1.0"

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "LBFGS", "OptimizerFactory",
           "RMSprop", "Adagrad", "Adadelta", "Rprop", "ASGD",
           "Adamax", "NAdam", "RAdam", "Lion", "LAMB", "lr_scheduler"]
