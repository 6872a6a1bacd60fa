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
RMSPROP_KEYS = ("step", "square_avg")
ADADELTA_KEYS = ("step", "square_avg", "acc_delta")
RPROP_KEYS = ("step", "prev", "step_size")
ASGD_KEYS = ("step", "eta", "mu", "ax")
ADAMAX_KEYS = ("step", "exp_avg", "exp_inf")
NADAM_KEYS = ("step", "mu_product", "exp_avg", "exp_avg_sq")

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
    Case("RMSprop", dict(lr=0.01), RMSPROP_KEYS),
    Case("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1, centered=True),
         RMSPROP_KEYS + ("grad_avg",)),
    Case("RMSprop", dict(lr=0.005, momentum=0.9, maximize=True),
         RMSPROP_KEYS + ("momentum_buffer",)),
    Case("RMSprop", dict(lr=0.005, alpha=0.8, momentum=0.5, centered=True, weight_decay=0.01),
         RMSPROP_KEYS + ("momentum_buffer", "grad_avg")),
    Case("Adagrad", dict(lr=0.1), ("step", "sum")),
    Case("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.05, initial_accumulator_value=0.1),
         ("step", "sum")),
    Case("Adagrad", dict(lr=0.05, eps=1e-6, maximize=True), ("step", "sum")),
    Case("Adadelta", dict(), ADADELTA_KEYS),
    Case("Adadelta", dict(lr=0.5, rho=0.95, eps=1e-5, weight_decay=0.1), ADADELTA_KEYS),
    Case("Adadelta", dict(lr=2.0, rho=0.5, maximize=True), ADADELTA_KEYS),
    Case("Rprop", dict(), RPROP_KEYS),
    Case("Rprop", dict(lr=0.02, etas=(0.3, 1.5), step_sizes=(1e-3, 0.05)), RPROP_KEYS),
    Case("Rprop", dict(lr=0.01, step_sizes=(0.005, 1.0), maximize=True), RPROP_KEYS),
    Case("ASGD", dict(), ASGD_KEYS),
    Case("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=3, weight_decay=0.01), ASGD_KEYS),
    Case("ASGD", dict(lr=0.02, lambd=1e-3, t0=0.5, maximize=True), ASGD_KEYS),
    Case("Adamax", dict(lr=0.01), ADAMAX_KEYS),
    Case("Adamax", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1), ADAMAX_KEYS),
    Case("Adamax", dict(lr=0.01, weight_decay=0.05, maximize=True), ADAMAX_KEYS),
    Case("NAdam", dict(lr=0.01), NADAM_KEYS),
    Case("NAdam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1,
                       momentum_decay=0.01), NADAM_KEYS),
    Case("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True),
         NADAM_KEYS),
    Case("NAdam", dict(lr=0.02, momentum_decay=0.0), NADAM_KEYS),
    Case("RAdam", dict(lr=0.01), ADAM_KEYS),
    Case("RAdam", dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1), ADAM_KEYS),
    Case("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True),
         ADAM_KEYS),
    Case("Lion", dict(), ("exp_avg",)),
    Case("Lion", dict(lr=0.01, betas=(0.8, 0.95), weight_decay=0.1), ("exp_avg",)),
    Case("Lion", dict(lr=0.005, weight_decay=0.5, maximize=True), ("exp_avg",)),
    Case("LAMB", dict(), ADAM_KEYS),
    Case("LAMB", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-8, weight_decay=0.1), ADAM_KEYS),
    Case("LAMB", dict(lr=0.005, weight_decay=0.01, maximize=True), ADAM_KEYS),
]
