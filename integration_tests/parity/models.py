"""Model code written once for PyTorch and for rt: every builder and the training loop take a
``Namespace`` (``torch_namespace()`` or ``rt_namespace()``) and use only its members, the way
a user ports a script by changing its imports.

    >>> ns = rt_namespace()                       # or torch_namespace()
    >>> model = make_mlp(ns)
    >>> copy_weights(torch_model, model)          # start from torch's weights
    >>> trace = train(ns, model, batches, make_optimizer, make_scheduler, cross_entropy)
    >>> trace.losses[:3]

Nothing here imports torch at module level: ``torch_namespace()`` imports it when called, so
the parity tests decide how a missing torch is reported (conftest.py skips them).

The test modules load this file by path (the suites run in pytest's importlib mode, where
sibling modules are not importable by name): conftest.py registers it as ``rt_parity_models``.
"""
import dataclasses
from types import ModuleType
from typing import Callable

import numpy as np


@dataclasses.dataclass(frozen=True)
class Namespace:
    """The torch-like modules a script imports: ``lib`` (``torch`` / ``rt_autograd``),
    ``nn``, ``F`` (``nn.functional``), ``optim`` and ``lr_scheduler``."""
    name: str
    lib: ModuleType
    nn: ModuleType
    F: ModuleType
    optim: ModuleType
    lr_scheduler: ModuleType

    def tensor(self, array, requires_grad=False):
        """A tensor of this library holding a copy of the numpy ``array`` (its dtype kept)."""
        t = self.lib.from_numpy(np.array(array, copy=True))
        return t.requires_grad_() if requires_grad else t

    def no_grad(self):
        return self.lib.no_grad()


def torch_namespace():
    import torch
    return Namespace("torch", torch, torch.nn, torch.nn.functional, torch.optim,
                     torch.optim.lr_scheduler)


def rt_namespace():
    import rt_autograd
    import rt_nn
    import rt_nn.functional
    import rt_optim
    import rt_optim.lr_scheduler
    return Namespace("rt", rt_autograd, rt_nn, rt_nn.functional, rt_optim,
                     rt_optim.lr_scheduler)


def to_numpy(t):
    """A float64/int numpy copy of a torch or rt tensor (detached)."""
    return np.array(t.detach().numpy(), copy=True)


def copy_weights(src, dst, dst_ns):
    """Load ``src``'s state_dict (parameters and buffers, any library) into ``dst`` through
    numpy, so both models start bit-identical. Key names must match (they are PyTorch's on
    both sides)."""
    state = {k: dst_ns.tensor(to_numpy(v)) for k, v in src.state_dict().items()}
    dst.load_state_dict(state)


# -- the three models ----------------------------------------------------------------------
def make_mlp(ns, sizes=(20, 32, 32, 5)):
    """Linear-ReLU-Linear-Tanh-Linear: the classic first model."""
    nn = ns.nn
    return nn.Sequential(nn.Linear(sizes[0], sizes[1]), nn.ReLU(),
                         nn.Linear(sizes[1], sizes[2]), nn.Tanh(),
                         nn.Linear(sizes[2], sizes[3]))


def make_cnn(ns, channels=(1, 6, 8), image=12, classes=4, dropout=0.0):
    """Two Conv-BatchNorm-ReLU-MaxPool blocks, Dropout, a Linear head. The convolutions have
    no bias, as usual before BatchNorm: BatchNorm subtracts the batch mean, so such a bias gets
    a gradient that is only rounding noise, which Adam would scale up to steps of size lr in
    directions that differ between any two implementations. Dropout draws from
    each library's own generator (rt's is counter based, PyTorch's is mt19937), so a
    training-mode comparison uses ``dropout=0``; eval mode makes any ``p`` the identity."""
    nn = ns.nn
    c0, c1, c2 = channels
    side = ((image // 2) - 2) // 2            # conv pad 1, pool 2, conv valid, pool 2
    return nn.Sequential(
        nn.Conv2d(c0, c1, 3, padding=1, bias=False), nn.BatchNorm2d(c1), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, bias=False), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(dropout), nn.Linear(c2 * side * side, classes))


def make_transformer(ns, vocab=11, seq_len=7, d_model=16, nhead=2, num_layers=2,
                     dim_feedforward=32, classes=3, norm_first=False):
    """A small sequence classifier: Embedding + learned positions, a TransformerEncoder
    (batch_first, dropout 0, GELU), mean pooling over the non-padded tokens, LayerNorm,
    Linear. ``forward(tokens, padding_mask)`` with ``padding_mask`` True at padded tokens."""
    nn = ns.nn
    lib = ns.lib

    class TinyTransformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, d_model, padding_idx=0)
            self.pos = nn.Parameter(lib.zeros(seq_len, d_model))
            layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0.0,
                                               activation="gelu", batch_first=True,
                                               norm_first=norm_first)
            # enable_nested_tensor=False: PyTorch's nested-tensor fast path is an inference
            # optimisation (it also warns for norm_first); the math is the same
            self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(d_model)
            self.head = nn.Linear(d_model, classes)

        def forward(self, tokens, padding_mask):
            h = self.embed(tokens) + self.pos[:tokens.shape[1]]
            h = self.encoder(h, src_key_padding_mask=padding_mask)
            keep = (~padding_mask).unsqueeze(-1).to(h.dtype)
            pooled = (h * keep).sum(1) / keep.sum(1)
            return self.head(self.norm(pooled))

    return TinyTransformer()


# -- training ------------------------------------------------------------------------------
@dataclasses.dataclass
class Trace:
    """What a training run records, as numpy: the loss and the learning rates of every
    step, the gradients of the first step, the parameters after selected steps, and the
    eval-mode outputs on held-out inputs at the end."""
    losses: list = dataclasses.field(default_factory=list)
    lrs: list = dataclasses.field(default_factory=list)
    first_grads: dict = dataclasses.field(default_factory=dict)
    params_at: dict = dataclasses.field(default_factory=dict)
    eval_outputs: np.ndarray = None
    buffers: dict = dataclasses.field(default_factory=dict)


def train(ns, model, batches, make_optimizer: Callable, make_scheduler: Callable,
          loss_fn: Callable, record_steps=(), eval_inputs=None, scheduler_metric=None):
    """Run one optimizer step per batch. ``batches`` are tuples of numpy arrays
    ``(*inputs, target)``; ``make_optimizer(ns, model)`` and ``make_scheduler(ns, opt)``
    build the optimizer and scheduler (the scheduler may be None); ``loss_fn(ns, output,
    target)``. The scheduler steps after every optimizer step (with the step's loss when
    ``scheduler_metric`` is true, for ReduceLROnPlateau). Returns a ``Trace``."""
    opt = make_optimizer(ns, model)
    sched = make_scheduler(ns, opt) if make_scheduler is not None else None
    trace = Trace()
    model.train()
    for step, batch in enumerate(batches, start=1):
        *inputs, target = (ns.tensor(a) for a in batch)
        trace.lrs.append([g["lr"] for g in opt.param_groups])
        opt.zero_grad()
        loss = loss_fn(ns, model(*inputs), target)
        loss.backward()
        if step == 1:
            trace.first_grads = {n: to_numpy(p.grad) for n, p in model.named_parameters()}
        opt.step()
        if sched is not None:
            sched.step(loss.item()) if scheduler_metric else sched.step()
        trace.losses.append(loss.item())
        if step in record_steps:
            trace.params_at[step] = {n: to_numpy(p) for n, p in model.named_parameters()}
    trace.params_at["final"] = {n: to_numpy(p) for n, p in model.named_parameters()}
    trace.buffers = {n: to_numpy(b) for n, b in model.named_buffers()}
    if eval_inputs is not None:
        model.eval()
        with ns.no_grad():
            trace.eval_outputs = to_numpy(model(*(ns.tensor(a) for a in eval_inputs)))
    return trace


def cross_entropy(ns, output, target):
    return ns.F.cross_entropy(output, target)


def mse(ns, output, target):
    return ns.F.mse_loss(output, target)


# -- data ----------------------------------------------------------------------------------
def classification_batches(seed, steps, batch, features, classes, dtype=np.float32):
    """Gaussian blobs: class k has its mean at a random point; ``features`` is the shape of
    one sample (an int or a tuple, e.g. (1, 12, 12) for images)."""
    rng = np.random.default_rng(seed)
    shape = (features,) if isinstance(features, int) else tuple(features)
    centres = rng.standard_normal((classes,) + shape) * 1.5
    out = []
    for _ in range(steps):
        y = rng.integers(0, classes, batch)
        x = centres[y] + rng.standard_normal((batch,) + shape)
        out.append((x.astype(dtype), y.astype(np.int64)))
    return out


def token_batches(seed, steps, batch, seq_len, vocab, classes):
    """Token sequences (0 is padding, at the end of shorter sequences) whose class is the
    most frequent of three token groups; returns (tokens, padding_mask, label) per batch."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(steps):
        lengths = rng.integers(3, seq_len + 1, batch)
        tokens = rng.integers(1, vocab, (batch, seq_len))
        mask = np.arange(seq_len)[None, :] >= lengths[:, None]
        tokens[mask] = 0
        group = (tokens - 1) * classes // (vocab - 1)
        counts = np.stack([((group == k) & ~mask).sum(1) for k in range(classes)], 1)
        out.append((tokens.astype(np.int64), mask, counts.argmax(1).astype(np.int64)))
    return out
