"""Optimizer steps: rt_optim against torch.optim, in one process, 1 and 2 threads.

1. Adam, AdamW and SGD with momentum on one float32 parameter of 1k, 100k, 1M and 10M
   values (the figure's sweep); PyTorch with ``fused=True`` (its fastest CPU path) and with
   its default. Target at 1M and 10M: rt at least 1.0x PyTorch fused.
2. The optimizer benchmark of RusTorch's compatibility report: one 1,000-value float32
   parameter, a sine gradient, repeated ``step()``. Target: NAdam, RAdam and Adamax at
   least 3x PyTorch's steps per second (PyTorch's default implementation) with 1 thread,
   the report's setting; 2 threads for information.
3. Every optimizer on the seed MLP's parameters (784-128-10: four tensors, 101,770 values),
   PyTorch's default implementation. Target: at least 2x PyTorch's step rate. LBFGS takes a
   closure: the loss 0.5·Σ(p - target)² with its gradient written directly (so the step
   measures the optimizer, as the set-once gradients do for the others), and, for
   information, the same loss through autograd's forward and backward; ``max_iter=5``.

Gradients are set once; every timed call is one ``optimizer.step()``.

    python benchmarks/bench_optim.py [--quick] [--json PATH] [--plot PATH]
"""
import numpy as np

import _harness as H

try:
    import rt_autograd as rt
    import rt_optim
except Exception as exc:             # the tables still print, with errors in the cells
    rt = rt_optim = None
    RT_OPTIM_ERROR = exc

MLP_SHAPES = [(128, 784), (128,), (10, 128), (10,)]
ALL_OPTIMIZERS = ["SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adagrad",
                  "Adadelta", "Rprop", "ASGD", "LBFGS", "LBFGS (autograd closure)"]
LR = {"SGD": 1e-3}


def _sine(n, phase=0.0):
    return np.sin(np.arange(n, dtype=np.float64) * 0.01 + phase).astype(np.float32)


def _maker(lib_name, opt_name, shapes, torch_kwargs=None, opt_kwargs=None):
    """A callable doing one step of ``opt_name`` over parameters of ``shapes`` in rt or
    torch (gradients set once to sine waves)."""
    def make():
        if lib_name == "rt":
            if rt_optim is None:
                raise RT_OPTIM_ERROR
            lib, optim = rt, rt_optim
            tensor = H.rt_tensor_from
        else:
            lib, optim = H.torch, H.torch.optim
            tensor = H.torch_from
        kwargs = dict(opt_kwargs or {})
        if lib_name == "torch":
            kwargs.update(torch_kwargs or {})
        params = []
        for i, shape in enumerate(shapes):
            n = int(np.prod(shape))
            p = tensor(np.cos(np.arange(n) * 0.003).astype(np.float32).reshape(shape))
            p.requires_grad_(True)
            params.append(p)
        if opt_name.startswith("LBFGS"):
            targets = [tensor(_sine(p.numel(), 1.0).reshape(tuple(p.shape))) for p in params]
            opt = optim.LBFGS(params, max_iter=5)
            if opt_name == "LBFGS":
                # the quadratic's gradient and loss written directly: the step measures
                # the optimizer, as the set-once gradients do for the others
                for p in params:
                    p.grad = lib.zeros_like(p)

                def closure():
                    loss = 0.0
                    with lib.no_grad():
                        for p, t in zip(params, targets):
                            lib.sub(p, t, out=p.grad)
                            loss += 0.5 * lib.dot(p.grad.reshape(-1), p.grad.reshape(-1))
                    return loss
            else:
                def closure():
                    opt.zero_grad()
                    loss = sum(((p - t) ** 2).sum() for p, t in zip(params, targets)) * 0.5
                    loss.backward()
                    return loss
            return lambda: opt.step(closure)
        for i, p in enumerate(params):
            p.grad = tensor(_sine(p.numel(), float(i)).reshape(tuple(p.shape)))
        opt = getattr(optim, opt_name)(params, lr=LR.get(opt_name, 1e-3), **kwargs)
        return opt.step
    return make


def main():
    print(f"_{H.header()}_\n")

    rows = []
    for size in H.sizes((1_000, 100_000, 1_000_000, 10_000_000), quick=(1_000, 100_000)):
        for name, kwargs in (("Adam", {}), ("AdamW", {}), ("SGD", {"momentum": 0.9})):
            opt = f"{name}{' momentum' if kwargs else ''}"
            res = H.bench({"rt": _maker("rt", name, [(size,)], opt_kwargs=kwargs),
                           "torch": _maker("torch", name, [(size,)], {"fused": True}, kwargs)})
            rows.append((f"{opt} {_count(size)} (torch fused=True)", res,
                         "torch/rt >= 1.0" if size >= 1_000_000 else "",
                         H.point(f"{opt} (torch fused=True)", size)))
            res_default = H.bench({"torch": _maker("torch", name, [(size,)], None, kwargs)},
                                  threads=(1, 2))
            rows.append((f"{opt} {_count(size)} (torch default)",
                         {**res_default, ("rt", 1): res[("rt", 1)], ("rt", 2): res[("rt", 2)]},
                         "", H.point(f"{opt} (torch default)", size)))
    H.timing_table("One step on one float32 parameter", rows, unit="ms",
                   size_name="values in the parameter (float32)")

    rows = []
    heading = ("RusTorch's optimizer benchmark: 1,000-value float32 parameter, sine gradient "
               "(steps per second)")
    for name in ("NAdam", "RAdam", "Adamax", "Adam", "AdamW", "SGD"):
        res = H.bench({"rt": _maker("rt", name, [(1000,)]),
                       "torch": _maker("torch", name, [(1000,)])}, threads=(1, 2))
        target = ">= 3x (1 thread)" if name in ("NAdam", "RAdam", "Adamax") else ""
        H.record(f"{name}, 1,000 values (RusTorch's benchmark)", res, table=heading,
                 target=target)
        rows.append((name, res, target))
    H.table(heading,
            ["optimizer", "rt 1T", "torch 1T", "rt/torch 1T", "rt 2T", "torch 2T",
             "rt/torch 2T", "target"],
            [[name] + [cell for n in H.THREADS
                       for cell in (_sps(res[("rt", n)]), _sps(res[("torch", n)]),
                                    H.ratio(res[("torch", n)], res[("rt", n)]))] + [target]
             for name, res, target in rows],
            notes=["RusTorch's report claims 30k (NAdam), 29k (RAdam) and 34k (Adamax) steps/s "
                   "(rt/torch > 1: rt takes more steps per second)."])

    rows = []
    for name in ALL_OPTIMIZERS:
        res = H.bench({"rt": _maker("rt", name, MLP_SHAPES), "torch": _maker("torch", name,
                                                                              MLP_SHAPES)})
        rows.append((name, res, "" if "autograd" in name else "torch/rt >= 2.0"))
    H.timing_table("Every optimizer on the seed MLP's parameters (784-128-10, 101,770 values; "
                   "PyTorch's default implementation)", rows, unit="us",
                   notes=["LBFGS: one step = up to 5 iterations of the quadratic "
                          "0.5·Σ(p - target)², its closure writing loss and gradient directly "
                          "(no autograd); \"autograd closure\": the same loss through forward "
                          "and backward, where the closure's cost dominates the step."])


def _sps(s):
    return f"{1 / s:,.0f}" if H.is_num(s) else s


def _count(n):
    """1000 -> "1k", 100000 -> "100k", 10000000 -> "10M"."""
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1_000}k"


if __name__ == "__main__":
    H.main_guard(main)
