"""``OptimizerFactory``: build an optimizer by name, list the names, and suggest an optimizer
with hyper-parameters for a task and a model size, each value with its reason and source.

The suggestions are one table, ``SUGGESTIONS`` below, which ``docs/optimizer-factory.md``
prints row for row (a test holds the two equal). Names are looked up in ``rt_optim`` when
called, so every optimizer class that ``rt_optim`` exports is available without being
registered here.

>>> import rt_autograd as rt
>>> from rt_optim import OptimizerFactory
>>> w = rt.zeros(3, requires_grad=True)
>>> type(OptimizerFactory.create("adamw", [w], lr=0.01)).__name__
'AdamW'
>>> s = OptimizerFactory.suggest("language_model", 125_000_000)
>>> s["optimizer"], s["hyperparameters"]["lr"]
('AdamW', 0.0006)
>>> opt = OptimizerFactory.create(s["optimizer"], [w], **s["hyperparameters"])
"""
import copy
import operator
from dataclasses import dataclass

__all__ = ["OptimizerFactory", "Suggestion", "SUGGESTIONS", "TASKS", "TASK_ALIASES"]


@dataclass(frozen=True)
class Suggestion:
    """One row of the table: for ``task`` and ``min_parameters <= num_parameters <
    max_parameters`` (None: no upper bound), use ``optimizer`` (why: ``optimizer_reason``)
    with ``hyperparameters``, a dict mapping each name to ``(value, reason)``."""
    task: str
    min_parameters: int
    max_parameters: int | None
    optimizer: str
    optimizer_reason: str
    hyperparameters: dict


# The reasons name their sources briefly; docs/optimizer-factory.md lists them in full.
_KINGMA_BA_LR = ("Kingma & Ba (2015), Algorithm 1: default step size alpha = 0.001; "
                 "PyTorch's default for Adam and AdamW")
_KINGMA_BA_BETAS = ("Kingma & Ba (2015), Algorithm 1: defaults beta1 = 0.9, beta2 = 0.999 "
                    "(PyTorch's default)")
_KINGMA_BA_EPS = "Kingma & Ba (2015), Algorithm 1: default epsilon = 1e-8 (PyTorch's default)"
_GPT3_BETAS = ("Brown et al. (2020), GPT-3, Appendix B: Adam with beta1 = 0.9, beta2 = 0.95 "
               "(a shorter second-moment memory than the default 0.999)")
_GPT3_EPS = "Brown et al. (2020), GPT-3, Appendix B: epsilon = 1e-8"
_GPT3_WD = ("Brown et al. (2020), GPT-3, Appendix B: weight decay 0.1 for every model size, "
            "decoupled as in AdamW (Loshchilov & Hutter 2019)")
_BERT_WD = ("Devlin et al. (2019), BERT: weight decay 0.01 in pre-training (Appendix A.2), "
            "kept for fine-tuning, where only batch size, learning rate and epochs change "
            "(Appendix A.3)")
_BERT_WHY = ("BERT is fine-tuned with its pre-training optimizer, Adam with weight decay "
             "(Devlin et al. 2019, Appendix A); AdamW (Loshchilov & Hutter 2019) is its usual "
             "form")
_LBFGS_WHY = ("A small or convex problem fits a deterministic full-batch closure, where a "
              "quasi-Newton method converges superlinearly and first-order methods only "
              "linearly (Nocedal & Wright 2006, ch. 6-7); evaluate the whole data set in the "
              "closure")
_LBFGS_LR = ("Quasi-Newton steps are scaled by the curvature model, so the unit step is the "
             "natural first trial (Nocedal & Wright 2006, sections 3.5 and 6.1); PyTorch's "
             "default")
_LBFGS_LINE_SEARCH = ("The strong Wolfe conditions keep s'y > 0, so every update keeps the "
                      "inverse-Hessian approximation positive definite (Nocedal & Wright "
                      "2006, section 6.1); without a line search (PyTorch's default) a unit "
                      "step can overshoot")
_ADAM_WHY_SMALL = ("Adam's step is invariant to rescaling the gradient (Kingma & Ba 2015, "
                   "section 2.1), so its defaults work without tuning the step to the "
                   "loss's scale; the usual first choice for a small network")


def _gpt3_lr(lr, size):
    return (f"Brown et al. (2020), GPT-3, Table 2.1: learning rate {lr:.1e} for the {size} "
            f"model, the one in this size range (larger models take smaller steps)")


def _adamw_language_model(low, high, lr, size):
    return Suggestion(
        "language_model", low, high, "AdamW",
        "Transformer language models are trained with Adam and decoupled weight decay "
        "(Loshchilov & Hutter 2019) in GPT-2/GPT-3 practice (Brown et al. 2020)",
        {"lr": (lr, _gpt3_lr(lr, size)),
         "betas": ((0.9, 0.95), _GPT3_BETAS),
         "eps": (1e-8, _GPT3_EPS),
         "weight_decay": (0.1, _GPT3_WD)})


SUGGESTIONS = (
    # --- classification ---------------------------------------------------------------------
    Suggestion(
        "classification", 0, 1_000_000, "Adam", _ADAM_WHY_SMALL,
        {"lr": (1e-3, _KINGMA_BA_LR),
         "betas": ((0.9, 0.999), _KINGMA_BA_BETAS),
         "eps": (1e-8, _KINGMA_BA_EPS)}),
    Suggestion(
        "classification", 1_000_000, None, "SGD",
        "For large image classifiers SGD with momentum generalises better than adaptive "
        "methods (Wilson et al. 2017) and is the ResNet recipe (He et al. 2016)",
        {"lr": (0.1, "He et al. (2016), ResNet on ImageNet: learning rate 0.1 at batch size "
                     "256; scale it linearly with the batch size (Goyal et al. 2017) and "
                     "decay it with a scheduler"),
         "momentum": (0.9, "He et al. (2016), ResNet on ImageNet: momentum 0.9"),
         "weight_decay": (1e-4, "He et al. (2016), ResNet on ImageNet: weight decay 0.0001")}),
    # --- regression -------------------------------------------------------------------------
    Suggestion(
        "regression", 0, 1_000_000, "Adam",
        "A regression loss's gradient scales with the targets' units; Adam's step does not "
        "(it is invariant to rescaling the gradient, Kingma & Ba 2015, section 2.1)",
        {"lr": (1e-3, _KINGMA_BA_LR),
         "betas": ((0.9, 0.999), _KINGMA_BA_BETAS),
         "eps": (1e-8, _KINGMA_BA_EPS)}),
    Suggestion(
        "regression", 1_000_000, None, "AdamW",
        "A large network needs regularising; decoupled weight decay is not scaled down by "
        "Adam's second-moment estimate as L2 regularisation is (Loshchilov & Hutter 2019)",
        {"lr": (1e-3, _KINGMA_BA_LR),
         "weight_decay": (1e-2, "Loshchilov & Hutter (2019): decoupled weight decay; 0.01 "
                                "is PyTorch's AdamW default")}),
    # --- language models / transformers -----------------------------------------------------
    Suggestion(
        "language_model", 0, 20_000_000, "AdamW",
        "Transformer language models are trained with Adam and decoupled weight decay "
        "(Loshchilov & Hutter 2019); a model this small follows nanoGPT's small config",
        {"lr": (1e-3, "nanoGPT (Karpathy 2022), config/train_shakespeare_char.py: learning "
                      "rate 1e-3 for a 10.7M-parameter model; small networks afford larger "
                      "steps"),
         "betas": ((0.9, 0.99), "nanoGPT (Karpathy 2022), config/train_shakespeare_char.py: "
                                "beta2 = 0.99, since few tokens per iteration make the "
                                "gradient noisy"),
         "weight_decay": (0.1, _GPT3_WD)}),
    _adamw_language_model(20_000_000, 200_000_000, 6e-4, "125M"),
    _adamw_language_model(200_000_000, 1_000_000_000, 3e-4, "350M"),
    _adamw_language_model(1_000_000_000, 10_000_000_000, 1.6e-4, "2.7B"),
    _adamw_language_model(10_000_000_000, None, 1e-4, "13B"),
    # --- fine-tuning a pre-trained model ------------------------------------------------------
    Suggestion(
        "fine_tuning", 0, 200_000_000, "AdamW",
        _BERT_WHY,
        {"lr": (3e-5, "Devlin et al. (2019), BERT, Appendix A.3: learning rates 5e-5, 3e-5 "
                      "and 2e-5 work well across tasks; the middle one"),
         "weight_decay": (0.01, _BERT_WD)}),
    Suggestion(
        "fine_tuning", 200_000_000, 1_000_000_000, "AdamW",
        _BERT_WHY,
        {"lr": (2e-5, "Devlin et al. (2019), BERT, Appendix A.3 range 5e-5 to 2e-5: its "
                      "lowest value, as fine-tuning BERT-large (340M) was sometimes unstable "
                      "on small data sets (section 4.1)"),
         "weight_decay": (0.01, _BERT_WD)}),
    Suggestion(
        "fine_tuning", 1_000_000_000, None, "AdamW",
        "Llama 2 is pre-trained with AdamW (Touvron et al. 2023, section 2.2) and "
        "fine-tuned with the settings below (section 3.1)",
        {"lr": (2e-5, "Touvron et al. (2023), Llama 2, section 3.1: supervised fine-tuning "
                      "with initial learning rate 2e-5 (cosine schedule)"),
         "weight_decay": (0.1, "Touvron et al. (2023), Llama 2, section 3.1: weight decay "
                               "0.1 in supervised fine-tuning")}),
    # --- small models and convex problems ---------------------------------------------------
    Suggestion(
        "small_model", 0, 10_000, "LBFGS", _LBFGS_WHY,
        {"lr": (1, _LBFGS_LR),
         "history_size": (100, "PyTorch's default; with fewer than 10,000 parameters the "
                               "history holds at most 2 x 100 x 10,000 values (16 MB in "
                               "float64)"),
         "line_search_fn": ("strong_wolfe", _LBFGS_LINE_SEARCH)}),
    Suggestion(
        "small_model", 10_000, 1_000_000, "LBFGS", _LBFGS_WHY,
        {"lr": (1, _LBFGS_LR),
         "history_size": (10, "SciPy's L-BFGS-B default (maxcor=10); Nocedal & Wright "
                              "(2006), section 7.2: 3 to 20 pairs usually suffice; bounds "
                              "the memory to 20 vectors of the parameters' size"),
         "line_search_fn": ("strong_wolfe", _LBFGS_LINE_SEARCH)}),
    Suggestion(
        "small_model", 1_000_000, None, "Adam",
        "Above a million parameters a full-batch closure for every L-BFGS iteration and "
        "line-search trial is costly; Adam on mini-batches with its default settings "
        "(Kingma & Ba 2015)",
        {"lr": (1e-3, _KINGMA_BA_LR),
         "betas": ((0.9, 0.999), _KINGMA_BA_BETAS),
         "eps": (1e-8, _KINGMA_BA_EPS)}),
)

# The names a task may also be given by.
TASK_ALIASES = {"transformer": "language_model", "convex": "small_model"}
TASKS = tuple(dict.fromkeys(s.task for s in SUGGESTIONS))


def _normalise_task(task):
    if not isinstance(task, str):
        raise TypeError(f"task must be a string, got {type(task).__name__}")
    key = task.strip().lower().replace("-", "_").replace(" ", "_")
    key = TASK_ALIASES.get(key, key)
    if key not in TASKS:
        valid = ", ".join(sorted(TASKS + tuple(TASK_ALIASES)))
        raise ValueError(f"Unknown task {task!r}; valid tasks: {valid}")
    return key


def _check_num_parameters(num_parameters):
    if isinstance(num_parameters, bool):
        raise TypeError("num_parameters must be an integer, got bool")
    try:
        count = operator.index(num_parameters)
    except TypeError:
        raise TypeError("num_parameters must be an integer, got "
                        f"{type(num_parameters).__name__}") from None
    if count < 1:
        raise ValueError(f"num_parameters must be a positive integer, got {count}")
    return count


def _optimizer_classes():
    """{lower-case name: class} of every optimizer class rt_optim exports now."""
    import rt_optim
    from rt_optim.optimizer import Optimizer

    names = getattr(rt_optim, "__all__", None) or dir(rt_optim)
    classes = {}
    for name in names:
        obj = getattr(rt_optim, name, None)
        if isinstance(obj, type) and issubclass(obj, Optimizer) and obj is not Optimizer:
            classes[obj.__name__.lower()] = obj
    return classes


class OptimizerFactory:
    """Optimizers by name (``create``, ``available``) and suggested settings for a task
    (``suggest``). All methods are class-level; there is nothing to instantiate."""

    @staticmethod
    def available():
        """The names ``create`` accepts, as the classes spell them, sorted case-insensitively:
        every optimizer class ``rt_optim`` exports."""
        return sorted((cls.__name__ for cls in _optimizer_classes().values()), key=str.lower)

    @staticmethod
    def create(name, params, **overrides):
        """``rt_optim.<name>(params, **overrides)``; ``name`` is matched case-insensitively
        ('adamw', 'AdamW', 'ADAMW'). An unknown name raises ValueError listing the valid
        ones; invalid overrides raise what the optimizer's constructor raises."""
        if not isinstance(name, str):
            raise TypeError(f"optimizer name must be a string, got {type(name).__name__}")
        classes = _optimizer_classes()
        cls = classes.get(name.strip().lower())
        if cls is None:
            raise ValueError(f"Unknown optimizer {name!r}; valid names: "
                             + ", ".join(OptimizerFactory.available()))
        return cls(params, **overrides)

    @staticmethod
    def suggest(task, num_parameters):
        """A starting point for ``task`` with a model of ``num_parameters`` parameters:
        ``{'optimizer': name, 'hyperparameters': {name: value}, 'reasons': {name: why},
        'optimizer_reason': why}``, from the row of ``SUGGESTIONS`` (printed in
        ``docs/optimizer-factory.md``) whose size range holds ``num_parameters``.

        Tasks: classification, regression, language_model (or transformer), fine_tuning,
        small_model (or convex); case-insensitive, '-' or ' ' for '_'. An unknown task
        raises ValueError listing the valid ones; ``num_parameters`` must be a positive
        integer (TypeError, ValueError). ``create(s['optimizer'], params,
        **s['hyperparameters'])`` builds the suggestion."""
        key = _normalise_task(task)
        count = _check_num_parameters(num_parameters)
        for row in SUGGESTIONS:
            if row.task == key and row.min_parameters <= count and (
                    row.max_parameters is None or count < row.max_parameters):
                return {
                    "optimizer": row.optimizer,
                    "hyperparameters": {k: copy.deepcopy(v) for k, (v, _) in
                                        row.hyperparameters.items()},
                    "reasons": {k: why for k, (_, why) in row.hyperparameters.items()},
                    "optimizer_reason": row.optimizer_reason,
                }
        raise AssertionError(f"SUGGESTIONS leaves {count} parameters uncovered for {key!r}")
