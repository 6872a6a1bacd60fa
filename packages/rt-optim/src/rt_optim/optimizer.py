"""The optimizer base class: parameter groups, per-parameter state, ``state_dict`` with
PyTorch's structure, hooks. A concrete optimizer writes only its per-parameter update
(``docs/adding-an-optimizer.md``).

The contract follows ``torch.optim.Optimizer`` (PyTorch 2.x): ``param_groups`` is a list of
dicts holding ``'params'`` and every hyper-parameter; ``state`` maps a parameter to a dict;
``state_dict()`` keys the state by the parameter's position over all groups and stores
``params`` as lists of those positions, so a state saved by PyTorch (and read by rt-import)
continues identically here.

>>> import rt_autograd as rt, rt_optim
>>> w = rt.zeros(3, requires_grad=True)
>>> opt = rt_optim.SGD([w], lr=0.5)
>>> w.grad = rt.ones(3)
>>> opt.step()
>>> w.tolist()
[-0.5, -0.5, -0.5]
"""
import copy
import functools
import itertools
import warnings
from collections import OrderedDict, defaultdict

import rt_autograd as rt
from rt_autograd._autograd import _set_grad_enabled, is_grad_enabled as _is_grad_enabled

__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook",
           "register_optimizer_step_post_hook"]


class _RequiredParameter:
    """Marks a hyper-parameter that has no default and must be given (PyTorch's ``required``)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()

_global_step_pre_hooks = OrderedDict()
_global_step_post_hooks = OrderedDict()
_hook_ids = itertools.count()


class RemovableHandle:
    """Returned by the ``register_*_hook`` methods; ``remove()`` unregisters the hook."""

    def __init__(self, hooks_dict):
        self._hooks = hooks_dict
        self.id = next(_hook_ids)

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _register(hooks, hook, prepend=False):
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def register_optimizer_step_pre_hook(hook):
    """Run ``hook(optimizer, args, kwargs)`` before every optimizer's ``step``; it may return
    ``(new_args, new_kwargs)``. Returns a handle with ``remove()``."""
    return _register(_global_step_pre_hooks, hook)


def register_optimizer_step_post_hook(hook):
    """Run ``hook(optimizer, args, kwargs)`` after every optimizer's ``step``."""
    return _register(_global_step_post_hooks, hook)


def _with_step_hooks(step):
    """Wrap a subclass's ``step`` so that step hooks run around it (one ``if`` when none is
    registered) and schedulers can tell that it was called."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        self._step_count += 1
        if not (self._step_pre_hooks or self._step_post_hooks or _global_step_pre_hooks
                or _global_step_post_hooks):
            return step(self, *args, **kwargs)
        # as PyTorch, whose hooks wrap the unbound step: args starts with the optimizer, and
        # a pre-hook's new args replace all of them
        args = (self,) + args
        for hook in itertools.chain(_global_step_pre_hooks.values(), self._step_pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        f"{hook} must return None or a tuple of (new_args, new_kwargs), but got "
                        f"{result}.")
                args, kwargs = result
        out = step(*args, **kwargs)
        for hook in itertools.chain(self._step_post_hooks.values(), _global_step_post_hooks.values()):
            hook(self, args, kwargs)
        return out

    wrapper._rt_hooked = True
    return wrapper


def _typename(obj):
    if isinstance(obj, rt.Tensor):
        return obj.type()
    return type(obj).__module__ + "." + type(obj).__qualname__ \
        if type(obj).__module__ not in ("builtins",) else type(obj).__qualname__


class Optimizer:
    """Base class of every optimizer.

    Args:
        params: an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts each holding
            ``'params'`` and per-group hyper-parameter overrides.
        defaults: the hyper-parameters' default values (used where a group does not set one).

    A subclass sets its defaults, then implements either ``step`` itself (LBFGS) or the two
    hooks of the generic ``step``: ``_init_state(group, param, state)`` fills a fresh state
    dict on the parameter's first step, and ``_update_group(group, params, grads, states)``
    applies the update to the parameters of one group that have a gradient.
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._step_pre_hooks = OrderedDict()
        self._step_post_hooks = OrderedDict()
        self._state_dict_pre_hooks = OrderedDict()
        self._state_dict_post_hooks = OrderedDict()
        self._load_state_dict_pre_hooks = OrderedDict()
        self._load_state_dict_post_hooks = OrderedDict()
        self._step_count = 0
        if isinstance(params, rt.Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {_typename(params)}")
        if isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(dict(group))

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_rt_hooked", False):
            cls.step = _with_step_hooks(step)

    # --- groups ------------------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a group of parameters (a dict with ``'params'``) with its own hyper-parameters;
        the ones it does not set come from ``defaults``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {_typename(param_group)}")
        params = param_group["params"]
        if isinstance(params, rt.Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        names = None
        if params and isinstance(params[0], tuple):
            if not all(isinstance(item, tuple) and len(item) == 2 for item in params):
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
            names = [name for name, _ in params]
            params = [p for _, p in params]
        for p in params:
            if not isinstance(p, rt.Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(p))
            if not self.defaults.get("differentiable", False) and not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        param_group["params"] = params
        if names is not None:
            param_group["param_names"] = names
        elif any("param_names" in g for g in self.param_groups):
            raise ValueError("all optimizer param groups should be with/without names. cannot "
                             "add param group without names to optimizer with names")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)

        if len({id(p) for p in params}) != len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see github.com/pytorch/pytorch/"
                          "issues/40967 for more information", UserWarning, stacklevel=3)
        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # --- gradients ---------------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Reset the gradients of this optimizer's parameters (only those): to None by
        default, else to zero in place."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g.zero_()

    # --- the update ----------------------------------------------------------------------------
    def step(self, closure=None):
        """One optimization step over every parameter that has a gradient. ``closure``, if
        given, re-evaluates the model (with gradients enabled) and returns the loss, which
        ``step`` returns."""
        loss = None
        if closure is not None:
            with rt.enable_grad():
                loss = closure()
        # as PyTorch: the update is not recorded unless the optimizer is differentiable
        grad_was_enabled = _is_grad_enabled()
        _set_grad_enabled(self.defaults.get("differentiable", False))
        try:
            self._update_all()
        finally:
            _set_grad_enabled(grad_was_enabled)
        return loss

    def _update_all(self):
        state = self.state
        for group in self.param_groups:
            params = []
            grads = []
            states = []
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                s = state.get(p)
                if not s:
                    s = self._state_for(group, p)
                params.append(p)
                grads.append(g)
                states.append(s)
            if params:
                self._update_group(group, params, grads, states)

    def _state_for(self, group, param):
        """The state dict of a parameter that has none yet: registered in ``self.state`` and
        filled by ``_init_state``. An optimizer that keeps no state for some settings (SGD
        without momentum, as PyTorch) returns a throw-away dict instead."""
        state = self.state[param]
        self._init_state(group, param, state)
        return state

    def _init_state(self, group, param, state):
        """Fill ``state`` (an empty dict) for ``param``'s first step."""

    def _update_group(self, group, params, grads, states):
        raise NotImplementedError(f"{type(self).__name__} must implement _update_group or step")

    # --- hooks -------------------------------------------------------------------------------
    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs before this optimizer's ``step``; it may
        return ``(new_args, new_kwargs)``."""
        return _register(self._step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs after this optimizer's ``step``."""
        return _register(self._step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer)`` runs before ``state_dict`` builds its result."""
        return _register(self._state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` runs on the result; it may return a new one."""
        return _register(self._state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` runs before loading; it may return a new one."""
        return _register(self._load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer)`` runs after loading."""
        return _register(self._load_state_dict_post_hooks, hook, prepend)

    # --- state dict ----------------------------------------------------------------------------
    def state_dict(self):
        """``{'state': {index: per-parameter state}, 'param_groups': [group, ...]}`` as PyTorch
        writes it: parameters are numbered over all groups in order; each group stores its
        hyper-parameters and ``params`` as a list of those numbers. State tensors are
        references (as in PyTorch): copy them if the optimizer goes on stepping."""
        for hook in self._state_dict_pre_hooks.values():
            hook(self)
        index_of = {}
        next_index = 0
        packed_groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                if id(p) not in index_of:
                    index_of[id(p)] = next_index
                    next_index += 1
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            packed_groups.append(packed)
        packed_state = {(index_of[id(k)] if isinstance(k, rt.Tensor) else k): v
                        for k, v in self.state.items()}
        result = {"state": packed_state, "param_groups": packed_groups}
        for hook in self._state_dict_post_hooks.values():
            out = hook(self, result)
            if out is not None:
                result = out
        return result

    def load_state_dict(self, state_dict):
        """Load what ``state_dict()`` (rt's or PyTorch's) returned. The groups must match this
        optimizer's in number and sizes (ValueError otherwise). State tensors are copied and
        cast to their parameter's dtype, except ``step``, which keeps its own."""
        state_dict = dict(state_dict)
        for hook in self._load_state_dict_pre_hooks.values():
            out = hook(self, state_dict)
            if out is not None:
                state_dict = out
        if "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError("optimizer state_dict must hold 'state' and 'param_groups', got "
                             f"keys {sorted(state_dict)}")
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups "
                             f"({len(saved_groups)}, this optimizer has {len(groups)})")
        own_lens = [len(g["params"]) for g in groups]
        saved_lens = [len(g["params"]) for g in saved_groups]
        if own_lens != saved_lens:
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             f"the size of optimizer's group (sizes {saved_lens}, this "
                             f"optimizer has {own_lens})")
        id_map = {}
        for group, saved in zip(groups, saved_groups):
            id_map.update(zip(saved["params"], group["params"]))

        def cast(param, value, key=None):
            if isinstance(value, rt.Tensor):
                value = value.detach()
                if key != "step" and param.is_floating_point() and value.dtype != param.dtype:
                    return value.to(param.dtype)
                return value.clone()
            if isinstance(value, dict):
                return {k: cast(param, v, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v) for v in value)
            return value

        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in id_map:
                param = id_map[key]
                state[param] = cast(param, value)
            else:
                state[key] = value

        new_groups = []
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            new_groups.append(saved)
        self.__setstate__({"state": state, "param_groups": new_groups})
        for hook in self._load_state_dict_post_hooks.values():
            hook(self)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in ("_step_pre_hooks", "_step_post_hooks", "_state_dict_pre_hooks",
                     "_state_dict_post_hooks", "_load_state_dict_pre_hooks",
                     "_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self.__dict__.setdefault("_step_count", 0)
        # state saved by PyTorch < 1.12 holds `step` as a number; PyTorch's optimizers turn
        # it into the 0-d float32 tensor they keep now, and so do these
        for param_state in self.state.values():
            if isinstance(param_state, dict):
                step = param_state.get("step")
                if isinstance(step, (int, float)) and not isinstance(step, bool):
                    param_state["step"] = rt.tensor(float(step), dtype=rt.float32)
        for group in self.param_groups:
            for name, default in self.defaults.items():
                if default is not required:
                    group.setdefault(name, default)

    def __repr__(self):
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


# The generic step, with its hooks; subclasses that write their own step get the same
# wrapper from __init_subclass__.
Optimizer.step = _with_step_hooks(Optimizer.step)


def _check_hyper(name, value, low=0.0, strict=False, high=None):
    """PyTorch's argument check: ``ValueError('Invalid <name>: <value>')``."""
    if isinstance(value, rt.Tensor):
        if value.numel() != 1:
            short = "lr" if name == "learning rate" else name
            raise ValueError(f"Tensor {short} must be 1-element")
        value = value.item()
    ok = value > low if strict else value >= low        # written so that NaN fails
    if not ok or (high is not None and not value < high):
        raise ValueError(f"Invalid {name}: {value}")


def _check_betas(betas, high=1.0):
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"Invalid betas: {betas} (a pair of floats)")
    for i, b in enumerate(betas):
        if isinstance(b, rt.Tensor):
            b = b.item()
        if not 0.0 <= b < high:
            raise ValueError(f"Invalid beta parameter at index {i}: {b}")
