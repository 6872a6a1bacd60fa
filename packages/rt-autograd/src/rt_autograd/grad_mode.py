"""Grad-mode switches: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``.

Each is a context manager and a decorator, like PyTorch's; the mode is per thread (a new
thread starts with grad enabled), kept in C by the autograd core.
"""
import functools
import inspect

from rt_autograd._autograd import (_set_grad_enabled, _set_inference_mode, is_grad_enabled,
                                   is_inference_mode_enabled)

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]


class _DecoratorContextManager:
    """A context manager that also decorates functions (and generator functions)."""

    def __call__(self, func):
        if inspect.isclass(func):
            raise RuntimeError(f"{type(self).__name__} cannot decorate a class")
        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def generator(*args, **kwargs):
                gen = func(*args, **kwargs)
                try:
                    with self.clone():
                        response = gen.send(None)
                    while True:
                        request = yield response
                        with self.clone():
                            response = gen.send(request)
                except StopIteration as stop:
                    return stop.value
            return generator

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)
        return wrapper

    def clone(self):
        return type(self)()


class _NoParenDecorator(_DecoratorContextManager):
    """Also usable as a bare decorator (``@rt.no_grad`` without parentheses), as PyTorch 2."""

    def __new__(cls, orig_func=None):
        if orig_func is None or not callable(orig_func):
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParenDecorator):
    """Disable graph recording in this thread inside the block (``torch.no_grad``).

    >>> x = rt.ones(2, requires_grad=True)
    >>> with rt.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    def __init__(self, orig_func=None):
        self.prev = None

    def __enter__(self):
        self.prev = _set_grad_enabled(False)

    def __exit__(self, *exc):
        _set_grad_enabled(self.prev)


class enable_grad(_NoParenDecorator):
    """Enable graph recording inside the block, also within ``no_grad`` (``torch.enable_grad``)."""

    def __init__(self, orig_func=None):
        self.prev = None

    def __enter__(self):
        self.prev = _set_grad_enabled(True)

    def __exit__(self, *exc):
        _set_grad_enabled(self.prev)


class set_grad_enabled(_DecoratorContextManager):
    """Set grad mode to ``mode``: at once (as a function call), and restored on exit when used
    as a context manager; as a decorator it changes nothing until the function runs
    (``torch.set_grad_enabled``)."""

    def __init__(self, mode):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(): argument 'mode' must be bool, not "
                            f"{type(mode).__name__}")
        self.prev = _set_grad_enabled(mode)
        self.mode = mode

    def __call__(self, func):
        _set_grad_enabled(self.prev)       # decorating is not a mode change
        return super().__call__(func)

    def __enter__(self):
        _set_grad_enabled(self.mode)

    def __exit__(self, *exc):
        _set_grad_enabled(self.prev)

    def clone(self):
        return type(self)(self.mode)


class inference_mode(_DecoratorContextManager):
    """``no_grad`` for inference (``torch.inference_mode``): nothing is recorded inside the
    block and tensors made there are inference tensors (``is_inference()``; they cannot
    require grad later). ``inference_mode(False)`` turns grad mode on inside its block."""

    def __new__(cls, mode=True):
        if isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)                 # bare decorator: @inference_mode

    def __init__(self, mode=True):
        if not isinstance(mode, bool):
            if callable(mode):
                mode = True
            else:
                raise TypeError(f"inference_mode(): argument 'mode' must be bool, not "
                                f"{type(mode).__name__}")
        self.mode = mode
        self.prev_grad = None
        self.prev_inf = None

    def __enter__(self):
        self.prev_grad = _set_grad_enabled(not self.mode)
        self.prev_inf = _set_inference_mode(self.mode)

    def __exit__(self, *exc):
        _set_inference_mode(self.prev_inf)
        _set_grad_enabled(self.prev_grad)

    def clone(self):
        return type(self)(self.mode)
