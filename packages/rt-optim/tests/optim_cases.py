"""The optimizer table: one line per optimizer configuration the tests run (PyTorch's
OpInfo idea). Adding an optimizer adds its lines here and its numpy oracle to
numpy_reference.py; every test in test_optimizers.py then covers it."""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Case:
    name: str                       # class name in rt_optim
    kwargs: dict = field(default_factory=dict)
    # state keys after one step (PyTorch's names), checked for every parameter
    state_keys: tuple = ()

    @property
    def id(self):
        args = ",".join(f"{k}={v}" for k, v in self.kwargs.items())
        return f"{self.name}({args})"


ADAM_KEYS = ("step", "exp_avg", "exp_avg_sq")

CASES = [
    Case("SGD", dict(lr=0.1)),
    Case("SGD", dict(lr=0.05, momentum=0.9), ("momentum_buffer",)),
    Case("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01),
         ("momentum_buffer",)),
    Case("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, maximize=True), ("momentum_buffer",)),
    Case("Adam", dict(lr=0.01), ADAM_KEYS),
    Case("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True),
         ADAM_KEYS + ("max_exp_avg_sq",)),
    Case("Adam", dict(lr=0.01, maximize=True, decoupled_weight_decay=True, weight_decay=0.1),
         ADAM_KEYS),
    Case("AdamW", dict(lr=0.01), ADAM_KEYS),
    Case("AdamW", dict(lr=0.01, amsgrad=True, eps=1e-6), ADAM_KEYS + ("max_exp_avg_sq",)),
]
