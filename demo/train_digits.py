"""Train a small convolutional network on scikit-learn's 8x8 handwritten digits with rt, then
round-trip it through a PyTorch checkpoint and an ONNX file.

This is what ``make demo`` runs. The code is written the way a PyTorch user writes it (a
``Module`` subclass with ``__init__``/``forward``, ``optimizer.zero_grad()``,
``loss.backward()``, ``optimizer.step()``, ``model.train()``/``model.eval()``,
``rt.no_grad()``); only the imports differ. Steps:

1. data: the 1797 digit images that ship inside scikit-learn (no download), scaled to [0, 1];
   a stratified train/test split (1437/360) with a fixed seed, the same for every ``--seed``
   so that runs compare on one test set;
2. training: a two-convolution CNN (``DigitsCNN``) with cross-entropy, the chosen optimizer
   and a cosine learning-rate schedule; a tqdm bar per epoch and one line per epoch with the
   train loss and accuracy and the test loss and accuracy;
3. ``rt_import.save`` of the ``state_dict`` (PyTorch's zip format: ``torch.load(path,
   weights_only=True)`` reads it), ``rt_import.load`` into a fresh ``DigitsCNN``;
4. ``rt_import.export_onnx`` with a dynamic batch dimension and ``rt_import.load_onnx``;
5. a check that the trained, the reloaded and the ONNX-imported models give the same
   predictions on the whole test set (same argmax, logits allclose); a mismatch prints what
   differs and exits with status 1;
6. a PNG of the loss and accuracy curves (matplotlib, Agg backend) and a table of timings and
   results.

Files (in ``--out``, default ``demo-out/``): ``digits_cnn.pt``, ``digits_cnn.onnx``,
``digits_curves.png``. They are written under temporary names and renamed into place only
after the check passed, all three together, so an interrupted (Ctrl-C, exit status 130) or
failed run leaves the files of the previous run, or none, never a partial one.

    $ python demo/train_digits.py --epochs 5 --optimizer SGD --lr 0.1 --out /tmp/digits

Bad options print one line (``train_digits.py: error: ...``) and exit with status 2.
"""
import argparse
import gc
import math
import os
import signal
import sys
import time

DEFAULT_EPOCHS = 15
DEFAULT_BATCH_SIZE = 32
DEFAULT_OPTIMIZER = "Adam"
DEFAULT_OUT = "demo-out"
DEFAULT_SEED = 0
SPLIT_SEED = 0            # the train/test split never depends on --seed (one test set)
TEST_FRACTION = 0.2

# Learning rates measured on this demo (15 epochs, batch 32, seed 0: 97.8-99.7% test accuracy
# with each, except Rprop, a full-batch method, which reaches ~90% on mini-batches). An
# optimizer missing here (one added to rt_optim later) starts from its own default lr.
DEMO_LR = {
    "adadelta": 1.0, "adagrad": 0.03, "adam": 3e-3, "adamax": 1e-2, "adamw": 3e-3,
    "asgd": 0.1, "lamb": 3e-3, "lbfgs": 1.0, "lion": 3e-4, "nadam": 3e-3, "radam": 3e-3,
    "rmsprop": 1e-3, "rprop": 0.01, "sgd": 0.1,
}
# LBFGS with PyTorch's defaults (20 iterations per step, no line search) diverges to NaN on
# mini-batches in the second epoch; with a strong-Wolfe line search and 5 iterations per batch
# it reaches ~98% in 15 epochs (~4 s of training).
DEMO_OPTIONS = {"lbfgs": {"line_search_fn": "strong_wolfe", "max_iter": 5, "history_size": 10}}

CHECKPOINT_NAME = "digits_cnn.pt"
ONNX_NAME = "digits_cnn.onnx"
PLOT_NAME = "digits_curves.png"

# The three models must agree this closely: the reloaded checkpoint holds the same float32
# values (so it matches exactly in practice); the ONNX graph runs the same rt kernels but may
# fuse or reorder them, so it gets float32 round-off room.
RTOL, ATOL = 1e-4, 1e-5


class UsageError(Exception):
    """An invalid option value (argparse turns it into the one-line error, exit status 2)."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (no multi-line usage block) and
    exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {value}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text!r}")
    return value


def _optimizer_names():
    import rt_optim
    return rt_optim.OptimizerFactory.available()


def _optimizer_name(text):
    """The optimizer's name as rt_optim spells it; matched case-insensitively."""
    names = _optimizer_names()
    for name in names:
        if name.lower() == text.strip().lower():
            return name
    raise argparse.ArgumentTypeError(
        f"unknown optimizer {text!r} (choose from {', '.join(names)})")


def build_parser():
    names = _optimizer_names()
    parser = OneLineParser(
        prog="train_digits.py",
        description="Train a CNN written with rt_nn on scikit-learn's 8x8 digits, save it as "
                    "a PyTorch checkpoint, load it back, export it to ONNX and import it "
                    "again, check that all three predict the same, plot the curves.",
        epilog="Files written to --out: digits_cnn.pt (torch.load(..., weights_only=True) "
               "reads it), digits_cnn.onnx, digits_curves.png; only after the three models "
               "agree, so Ctrl-C (exit status 130) never leaves a partial file. A bad option "
               "exits with status 2.")
    parser.add_argument("--epochs", type=_positive_int, default=DEFAULT_EPOCHS, metavar="N",
                        help=f"passes over the training set (default {DEFAULT_EPOCHS})")
    parser.add_argument("--batch-size", type=_positive_int, default=DEFAULT_BATCH_SIZE,
                        metavar="N",
                        help=f"images per optimizer step (default {DEFAULT_BATCH_SIZE})")
    parser.add_argument("--lr", type=_positive_float, default=None, metavar="LR",
                        help="initial learning rate, annealed to 0 over the epochs by a cosine "
                             "schedule (default: a rate measured for the optimizer on this "
                             f"demo, {DEMO_LR['adam']:g} for Adam)")
    parser.add_argument("--optimizer", type=_optimizer_name, default=DEFAULT_OPTIMIZER,
                        metavar="NAME",
                        help="an rt_optim optimizer, case-insensitive: "
                             f"{', '.join(names)} (default {DEFAULT_OPTIMIZER})")
    parser.add_argument("--threads", type=_positive_int, default=None, metavar="N",
                        help="threads for rt's kernels (rt.set_num_threads; default: rt's "
                             "default, the number of cores)")
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                        help=f"output directory, created if missing (default {DEFAULT_OUT}/)")
    parser.add_argument("--seed", type=_non_negative_int, default=DEFAULT_SEED, metavar="S",
                        help="seed of the weight initialisation, dropout and batch order "
                             f"(default {DEFAULT_SEED}; the train/test split is fixed)")
    return parser


def parse_args(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        parser.error(f"argument --out: {args.out!r} exists and is not a directory")
    if args.lr is None:
        args.lr = default_lr(args.optimizer)
    return args


def default_lr(optimizer):
    """The demo's learning rate for ``optimizer`` (a name from OptimizerFactory.available()):
    the measured one in DEMO_LR, else the optimizer's own default."""
    if optimizer.lower() in DEMO_LR:
        return DEMO_LR[optimizer.lower()]
    import inspect
    import rt_optim
    return inspect.signature(getattr(rt_optim, optimizer)).parameters["lr"].default


# --- the model -------------------------------------------------------------------------------

def make_model_class():
    """``DigitsCNN``, defined once rt_nn is imported (so --help and usage errors stay fast)."""
    import rt_nn as nn
    import rt_nn.functional as F

    class DigitsCNN(nn.Module):
        """1x8x8 image -> 10 logits: two 3x3 convolutions with BatchNorm and ReLU, a 2x2 max
        pool, then a 512-64-10 classifier with dropout (~38k parameters)."""

        def __init__(self, num_classes=10):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(16)
            self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(32)
            self.pool = nn.MaxPool2d(2)
            self.fc1 = nn.Linear(32 * 4 * 4, 64)
            self.dropout = nn.Dropout(0.25)
            self.fc2 = nn.Linear(64, num_classes)

        def forward(self, x):
            x = F.relu(self.bn1(self.conv1(x)))
            x = self.pool(F.relu(self.bn2(self.conv2(x))))
            x = x.flatten(1)
            x = self.dropout(F.relu(self.fc1(x)))
            return self.fc2(x)

    return DigitsCNN


# --- the run ---------------------------------------------------------------------------------

def load_data():
    """(x_train, y_train, x_test, y_test) as numpy: float32 images Nx1x8x8 in [0, 1], int64
    labels."""
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    labels = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=TEST_FRACTION, random_state=SPLIT_SEED, stratify=labels)
    return x_train, y_train, x_test, y_test


def evaluate(model, x, y):
    """(mean cross-entropy, accuracy) of ``model`` in eval mode on the whole of ``x``."""
    import rt_autograd as rt
    import rt_nn.functional as F

    model.eval()
    with rt.no_grad():
        logits = model(x)
        loss = F.cross_entropy(logits, y).item()
        accuracy = (logits.argmax(1) == y).float().mean().item()
    return loss, accuracy


def _progress_bar(tqdm, loader, desc):
    """A tqdm bar over ``loader``, built with Ctrl-C and SIGTERM deferred: tqdm's constructor
    interrupted half way leaves an object whose __del__ raises (AttributeError: no 'pos').
    A signal that arrives meanwhile is acted on right after, with the bar whole and closed.
    (Deferred in Python, not masked: the OS may deliver the signal to another thread.)"""
    pending = []
    previous = {signum: signal.signal(signum, lambda signum, frame: pending.append(signum))
                for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        bar = tqdm(loader, desc=desc, unit="batch", leave=False, file=sys.stderr,
                   dynamic_ncols=True)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if pending:
        bar.close()
        handler = previous[pending[0]]
        if callable(handler):
            handler(pending[0], None)        # raises KeyboardInterrupt / Terminated
    return bar


def train(model, optimizer, scheduler, loader, x_test, y_test, epochs):
    """Train for ``epochs``; returns the history: a dict of per-epoch lists."""
    import rt_nn.functional as F
    from tqdm import tqdm

    history = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": [], "lr": [],
               "seconds": []}
    # LBFGS re-evaluates the loss several times per step, through a closure (as in PyTorch).
    needs_closure = type(optimizer).__name__ == "LBFGS"
    width = len(str(epochs))
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        lr = optimizer.param_groups[0]["lr"]
        model.train()
        total_loss, correct, seen = 0.0, 0, 0
        bar = _progress_bar(tqdm, loader, desc=f"epoch {epoch:>{width}}/{epochs}")
        with bar:
            for images, labels in bar:
                if needs_closure:
                    first_pass = []

                    def closure():
                        optimizer.zero_grad()
                        out = model(images)
                        step_loss = F.cross_entropy(out, labels)
                        step_loss.backward()
                        if not first_pass:           # report the loss before the step
                            first_pass.append((out, step_loss))
                        return step_loss
                    optimizer.step(closure)
                    logits, loss = first_pass[0]
                else:
                    optimizer.zero_grad()
                    logits = model(images)
                    loss = F.cross_entropy(logits, labels)
                    loss.backward()
                    optimizer.step()
                n = len(labels)
                total_loss += loss.item() * n
                correct += int((logits.argmax(1) == labels).sum().item())
                seen += n
                bar.set_postfix(loss=f"{total_loss / seen:.4f}", refresh=False)
        scheduler.step()
        test_loss, test_acc = evaluate(model, x_test, y_test)
        seconds = time.perf_counter() - start
        for key, value in (("train_loss", total_loss / seen), ("train_acc", correct / seen),
                           ("test_loss", test_loss), ("test_acc", test_acc), ("lr", lr),
                           ("seconds", seconds)):
            history[key].append(value)
        tqdm.write(f"epoch {epoch:>{width}}/{epochs}  train loss {total_loss / seen:.4f}  "
                   f"train acc {100 * correct / seen:6.2f}%  test loss {test_loss:.4f}  "
                   f"test acc {100 * test_acc:6.2f}%  lr {lr:.2e}  {seconds:.2f} s",
                   file=sys.stdout)
        sys.stdout.flush()
        if not (math.isfinite(history["train_loss"][-1]) and math.isfinite(test_loss)):
            break               # diverged: the caller reports it
    return history


def plot_curves(history, path, title):
    """Write the loss and accuracy curves as a PNG to ``path``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = range(1, len(history["train_loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(epochs, history["train_loss"], marker="o", label="train")
    ax_loss.plot(epochs, history["test_loss"], marker="o", label="test")
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("cross-entropy loss")
    ax_loss.set_title("loss")
    ax_loss.legend()
    ax_acc.plot(epochs, [100 * a for a in history["train_acc"]], marker="o", label="train")
    ax_acc.plot(epochs, [100 * a for a in history["test_acc"]], marker="o", label="test")
    ax_acc.axhline(97, color="gray", linestyle="--", linewidth=1, label="97% target")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy (%)")
    ax_acc.set_title("accuracy")
    ax_acc.legend()
    for ax in (ax_loss, ax_acc):
        ax.grid(True, alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    # format= because the temporary name does not end in .png
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)


def compare_predictions(reference, other):
    """None when ``other``'s logits match ``reference``'s (same argmax everywhere, allclose),
    else a one-line description of the difference."""
    import numpy as np

    ref, got = reference.numpy(), other.numpy()
    if ref.shape != got.shape:
        return f"shape {got.shape} instead of {ref.shape}"
    differing = int((ref.argmax(1) != got.argmax(1)).sum())
    max_diff = float(np.abs(ref - got).max())
    if differing or not np.allclose(got, ref, rtol=RTOL, atol=ATOL):
        return (f"{differing} of {len(ref)} predicted classes differ, largest logit "
                f"difference {max_diff:.3g} (rtol={RTOL:g}, atol={ATOL:g})")
    return None


def _staging_path(out_dir, name):
    """A hidden name next to ``name`` in ``out_dir`` (same file system, so os.replace is an
    atomic rename)."""
    return os.path.join(out_dir, f".{name}.{os.getpid()}.partial")


def run(args, staged):
    """The demo; returns the exit status. Every temporary file it creates is appended to
    ``staged`` before it is written, so ``main`` can remove them on Ctrl-C."""
    t_total = time.perf_counter()
    timings = {}

    import rt_autograd as rt
    import rt_import
    import rt_optim
    import rt_optim.lr_scheduler as lr_scheduler
    from rt_nn.data import DataLoader, TensorDataset

    if args.threads is not None:
        rt.set_num_threads(args.threads)
    rt.manual_seed(args.seed)
    DigitsCNN = make_model_class()
    os.makedirs(args.out, exist_ok=True)

    t = time.perf_counter()
    x_train, y_train, x_test, y_test = load_data()
    x_train, y_train = rt.from_numpy(x_train), rt.from_numpy(y_train)
    x_test, y_test = rt.from_numpy(x_test), rt.from_numpy(y_test)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size,
                        shuffle=True, generator=rt.Generator().manual_seed(args.seed))
    timings["data"] = time.perf_counter() - t

    model = DigitsCNN()
    optimizer = rt_optim.OptimizerFactory.create(
        args.optimizer, model.parameters(), lr=args.lr,
        **DEMO_OPTIONS.get(args.optimizer.lower(), {}))
    scheduler = lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    num_params = sum(p.numel() for p in model.parameters())
    threads = rt.get_num_threads()
    print(f"rt-autograd {rt.__version__}, {threads} thread{'s' if threads != 1 else ''}; digits: "
          f"{len(x_train)} train / {len(x_test)} test images of 8x8; DigitsCNN, "
          f"{num_params} parameters")
    print(f"{args.optimizer} lr {args.lr:g} (cosine schedule), batch {args.batch_size}, "
          f"{args.epochs} epoch{'s' if args.epochs != 1 else ''}, seed {args.seed}", flush=True)

    t = time.perf_counter()
    history = train(model, optimizer, scheduler, loader, x_test, y_test, args.epochs)
    timings["training"] = time.perf_counter() - t
    if not all(math.isfinite(v) for v in history["train_loss"] + history["test_loss"]):
        print(f"train_digits.py: failed: training diverged (the loss is not finite) with "
              f"{args.optimizer} at lr {args.lr:g}; try a smaller --lr. Nothing written to "
              f"{args.out}", file=sys.stderr)
        return 1

    model.eval()
    with rt.no_grad():
        logits_trained = model(x_test)

    paths = {name: os.path.join(args.out, name)
             for name in (CHECKPOINT_NAME, ONNX_NAME, PLOT_NAME)}
    tmp = {name: _staging_path(args.out, name) for name in paths}

    t = time.perf_counter()
    staged.append(tmp[CHECKPOINT_NAME])
    rt_import.save(model.state_dict(), tmp[CHECKPOINT_NAME])
    timings["save"] = time.perf_counter() - t

    t = time.perf_counter()
    reloaded = DigitsCNN()
    reloaded.load_state_dict(rt_import.load(tmp[CHECKPOINT_NAME]))
    reloaded.eval()
    timings["load"] = time.perf_counter() - t

    t = time.perf_counter()
    staged.append(tmp[ONNX_NAME])
    rt_import.export_onnx(model, (x_test[:1],), tmp[ONNX_NAME], input_names=["images"],
                          output_names=["logits"],
                          dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}})
    timings["export"] = time.perf_counter() - t

    t = time.perf_counter()
    imported = rt_import.load_onnx(tmp[ONNX_NAME])
    imported.eval()
    timings["import"] = time.perf_counter() - t

    t = time.perf_counter()
    with rt.no_grad():
        logits_reloaded = reloaded(x_test)
        logits_imported = imported(x_test)
    problems = {label: compare_predictions(logits_trained, logits)
                for label, logits in (("checkpoint", logits_reloaded),
                                      ("ONNX", logits_imported))}
    timings["check"] = time.perf_counter() - t
    failed = {label: why for label, why in problems.items() if why is not None}
    if failed:
        for label, why in failed.items():
            print(f"MISMATCH: the model loaded from the {label} file does not predict what the "
                  f"trained model predicts: {why}", file=sys.stderr)
        print(f"train_digits.py: failed: nothing written to {args.out}", file=sys.stderr)
        return 1

    t = time.perf_counter()
    staged.append(tmp[PLOT_NAME])
    plot_curves(history, tmp[PLOT_NAME],
                f"rt DigitsCNN on sklearn digits ({args.optimizer}, lr {args.lr:g}, "
                f"batch {args.batch_size}, seed {args.seed})")
    timings["plot"] = time.perf_counter() - t

    # Publish the three files together: Ctrl-C and SIGTERM wait for the three renames, so the
    # directory never shows a new checkpoint beside the ONNX file of an earlier run.
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        for name, path in paths.items():
            os.replace(tmp[name], path)
        staged.clear()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)

    timings["total"] = time.perf_counter() - t_total
    accuracy = {label: (logits.argmax(1) == y_test).float().mean().item()
                for label, logits in (("trained", logits_trained),
                                      ("checkpoint", logits_reloaded),
                                      ("ONNX", logits_imported))}
    max_diff = {label: float((logits - logits_trained).abs().max().item())
                for label, logits in (("checkpoint", logits_reloaded),
                                      ("ONNX", logits_imported))}
    print_report(timings, accuracy, max_diff, paths, len(x_test))
    return 0


def print_report(timings, accuracy, max_diff, paths, n_test):
    print("\ntimings")
    for step in ("data", "training", "save", "load", "export", "import", "check", "plot",
                 "total"):
        print(f"  {step:<10}{timings[step]:9.3f} s")
    print(f"\nresults on the {n_test} test images")
    print(f"  {'model':<12}{'test acc':>9}  {'max |logit diff|':>16}  file")
    rows = (("trained", None, None), ("checkpoint", "checkpoint", CHECKPOINT_NAME),
            ("ONNX", "ONNX", ONNX_NAME))
    for label, diff_key, name in rows:
        diff = "-" if diff_key is None else f"{max_diff[diff_key]:.2e}"
        where = "-" if name is None else f"{paths[name]} ({os.path.getsize(paths[name])} bytes)"
        print(f"  {label:<12}{100 * accuracy[label]:8.2f}%  {diff:>16}  {where}")
    print(f"  {'plot':<12}{'':>9}  {'':>16}  {paths[PLOT_NAME]} "
          f"({os.path.getsize(paths[PLOT_NAME])} bytes)")
    print("all three models predict the same class for every test image")


def _remove(paths):
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


class Terminated(BaseException):
    """SIGTERM, raised like KeyboardInterrupt so that the same clean-up runs."""


def _raise_terminated(signum, frame):
    raise Terminated()


def main(argv=None):
    """Parse ``argv`` (default ``sys.argv[1:]``) and run the demo; returns the exit status:
    0, 1 (training diverged or the three models disagree), 2 (bad option, from argparse),
    130 (Ctrl-C) or 143 (SIGTERM)."""
    args = parse_args(argv)
    # Python leaves SIGINT ignored when the parent started it so (a background job of a
    # script); the contract here is that Ctrl-C/SIGINT stops the run cleanly, so take it.
    previous = {signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
                signal.SIGTERM: signal.signal(signal.SIGTERM, _raise_terminated)}
    staged = []
    try:
        return run(args, staged)
    except (KeyboardInterrupt, Terminated) as exc:
        # A second signal must not stop the clean-up half way.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _remove(staged)
        what = "interrupted" if isinstance(exc, KeyboardInterrupt) else "terminated"
        # Free what the interrupted frames held now, so that anything complaining as it goes
        # (a progress bar interrupted half-built reports an AttributeError from its __del__)
        # prints before the last line, not after it.
        exc.__traceback__ = None
        gc.collect()
        print(f"\n{what}: no partial checkpoint, ONNX or plot file left in {args.out}",
              file=sys.stderr)
        return 130 if isinstance(exc, KeyboardInterrupt) else 143
    finally:
        # The files of a failed check (or of an exception) are not published either.
        _remove(staged)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


if __name__ == "__main__":
    sys.exit(main())
