"""The seed's MLP training step: Linear(784, 128) -> ReLU -> Linear(128, 10), batch 32,
float32, MSE loss, backward, and a hand-written SGD update (``p.add_(p.grad, alpha=-lr)``
under no_grad, gradients set to None by ``zero_grad``), the same script in rt (rt_nn) and in
PyTorch (torch.nn). Reported as µs per step and steps per second (target: rt at least 1.5x
PyTorch's steps/s). The same step at batch 8, 128 and 512 draws the figure (no target).
Also: fetching one shuffled batch of 32 from a DataLoader over an in-memory TensorDataset
(6,400 samples of 784 + 10 floats).

    python benchmarks/bench_nn_mlp.py [--quick] [--json PATH] [--plot PATH]
"""
import numpy as np

import _harness as H

try:
    import rt_autograd as rt
    import rt_nn
except Exception as exc:            # the script still prints its tables, with errors in cells
    rt = None
    RT_NN_ERROR = exc

BATCH, IN, HIDDEN, OUT = 32, 784, 128, 10
LR = 0.01


def _step_fn(torch_like, nn, x, y):
    """One training step over (x, y) for the library ``torch_like`` (torch or rt_autograd)
    with its nn package ``nn``; the model's weights come from a fixed numpy draw."""
    torch_like.manual_seed(0)
    model = nn.Sequential(nn.Linear(IN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, OUT)) \
        if hasattr(nn, "ReLU") else _Mlp(nn)
    params = list(model.parameters())
    F = nn.functional
    mse = getattr(F, "mse_loss", None) or (lambda a, b: ((a - b) ** 2).mean())
    no_grad = torch_like.no_grad

    def step():
        loss = mse(model(x), y)
        model.zero_grad()
        loss.backward()
        with no_grad():
            for p in params:
                p.add_(p.grad, alpha=-LR)
        return loss
    return step


def _Mlp(nn):
    """The same MLP while rt_nn has no ReLU module (relu through the tensor method)."""
    class Mlp(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(IN, HIDDEN)
            self.fc2 = nn.Linear(HIDDEN, OUT)

        def forward(self, x):
            return self.fc2(self.fc1(x).relu())
    return Mlp()


def _step_makers(batch):
    rng = np.random.default_rng(batch)
    xa = rng.standard_normal((batch, IN)).astype(np.float32)
    ya = rng.standard_normal((batch, OUT)).astype(np.float32)

    def make_rt():
        if rt is None:
            raise RT_NN_ERROR
        return _step_fn(rt, rt_nn, rt.from_numpy(xa.copy()), rt.from_numpy(ya.copy()))

    def make_torch():
        return _step_fn(H.torch, H.torch.nn, H.torch_from(xa), H.torch_from(ya))
    return {"rt": make_rt, "torch": make_torch}


def main():
    print(f"_{H.header()}_\n")
    rng = np.random.default_rng(0)
    step_rows = []
    for batch in H.sizes((8, BATCH, 128, 512), quick=(8, BATCH)):
        res_b = H.bench(_step_makers(batch))
        if batch == BATCH:
            res = res_b
        step_rows.append((f"forward + MSE + backward + SGD, batch {batch}", res_b,
                          "torch/rt >= 1.5" if batch == BATCH else "",
                          H.point("MLP step 784-128-ReLU-10", batch)))

    xd = rng.standard_normal((6400, IN)).astype(np.float32)
    yd = rng.standard_normal((6400, OUT)).astype(np.float32)

    def _next_batch(loader):
        it = [iter(loader)]

        def fetch():
            try:
                return next(it[0])
            except StopIteration:
                it[0] = iter(loader)
                return next(it[0])
        return fetch

    def make_rt_loader():
        if rt is None:
            raise RT_NN_ERROR
        from rt_nn.data import DataLoader, TensorDataset
        ds = TensorDataset(rt.from_numpy(xd.copy()), rt.from_numpy(yd.copy()))
        return _next_batch(DataLoader(ds, batch_size=BATCH, shuffle=True,
                                      generator=rt.Generator().manual_seed(0)))

    def make_torch_loader():
        from torch.utils.data import DataLoader, TensorDataset
        ds = TensorDataset(H.torch_from(xd), H.torch_from(yd))
        return _next_batch(DataLoader(ds, batch_size=BATCH, shuffle=True,
                                      generator=H.torch.Generator().manual_seed(0)))

    res_dl = H.bench({"rt": make_rt_loader, "torch": make_torch_loader})
    H.timing_table("MLP training step 784-128-ReLU-10, f32", step_rows + [
        (f"DataLoader batch of {BATCH} (TensorDataset, shuffle)", res_dl, "")], unit="us",
        size_name="batch size")

    def sps(s):
        return f"{1 / s:,.0f}" if H.is_num(s) else s
    H.table(f"MLP training steps per second, batch {BATCH}",
            ["threads", "rt", "torch", "rt/torch"],
            [[n, sps(res[("rt", n)]), sps(res[("torch", n)]),
              H.ratio(res[("torch", n)], res[("rt", n)])] for n in H.THREADS],
            notes=["rt/torch > 1: rt takes more steps per second (target >= 1.5)."])


if __name__ == "__main__":
    H.main_guard(main)
