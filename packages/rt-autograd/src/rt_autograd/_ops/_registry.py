"""Where differentiable ops register: one table for ``rt_autograd.<name>`` functions and
one for ``Tensor.<name>`` methods (the pattern: docs/adding-an-op.md).

    @register("exp")                       # rt_autograd.exp and Tensor.exp
    def exp(input, *, out=None): ...

    @register("exp_", function=False)      # only Tensor.exp_
    def exp_(self): ...
"""
FUNCTIONS = {}
METHODS = {}


def register(name, *, function=True, method=True, aliases=()):
    def deco(fn):
        for n in (name,) + tuple(aliases):
            if function:
                if n in FUNCTIONS:
                    raise RuntimeError(f"rt_autograd: op {n!r} registered twice")
                FUNCTIONS[n] = fn
            if method:
                if n in METHODS:
                    raise RuntimeError(f"rt_autograd: method {n!r} registered twice")
                METHODS[n] = fn
        return fn
    return deco
