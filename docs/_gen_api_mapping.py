"""The PyTorch -> rt name mapping of "Migrating from PyTorch", generated from ``__all__``.

Every public module of the rt packages (each package, and every module reachable through
a package's ``__all__``: ``rt_nn.functional``, ``rt_nn.data``, ``rt_optim.lr_scheduler``,
...) gets a section; every name of its ``__all__`` gets a row: the PyTorch name it stands
for, the rt name, and a note where the two differ. A name without an entry in ``SPECIAL``
maps to the same name in the section's PyTorch namespace (``rt_nn.Linear`` ->
``torch.nn.Linear``). ``docs/conf.py`` calls ``mapping_markdown()`` while Sphinx reads
``migrating-from-pytorch.md``, so the tables always match the installed packages; a public
module that appears without a section here stops the build with an error naming it.

    python docs/_gen_api_mapping.py          # print the Markdown (needs the rt packages)

``docs/tests/test_docs.py`` checks that every ``__all__`` name is in the tables and, where
PyTorch is importable, that every PyTorch name given here exists in PyTorch.
"""
import importlib
import importlib.metadata
import types
from dataclasses import dataclass

PACKAGES = ("rt_tensor", "rt_autograd", "rt_nn", "rt_optim", "rt_import", "rt_distributed")


@dataclass(frozen=True)
class Section:
    module: str          # the rt module whose __all__ this section lists
    torch: str | None    # the PyTorch namespace its names come from (None: every name special)
    title: str
    intro: str = ""


# In the order a PyTorch user meets them (DESIGN.md's public contract).
SECTIONS = [
    Section("rt_autograd", "torch", "`torch` -> `rt_autograd`",
            "`import rt_autograd as rt` replaces `import torch`: tensors with autograd, their "
            "factories and ops, dtypes, grad mode, seeding."),
    Section("rt_autograd.autograd", "torch.autograd", "`torch.autograd` -> `rt_autograd.autograd`"),
    Section("rt_autograd.autograd.function", "torch.autograd.function",
            "`torch.autograd.function` -> `rt_autograd.autograd.function`"),
    Section("rt_autograd.autograd.graph", "torch.autograd.graph",
            "`torch.autograd.graph` -> `rt_autograd.autograd.graph`"),
    Section("rt_autograd.testing", "torch.autograd",
            "`torch.autograd.gradcheck` -> `rt_autograd.testing`",
            "Not `torch.testing`: rt's testing module holds the gradient checkers."),
    Section("rt_nn", "torch.nn", "`torch.nn` -> `rt_nn`"),
    Section("rt_nn.modules", "torch.nn.modules", "`torch.nn.modules` -> `rt_nn.modules`",
            "The same classes as `rt_nn` (where they are defined)."),
    Section("rt_nn.functional", "torch.nn.functional",
            "`torch.nn.functional` -> `rt_nn.functional`"),
    Section("rt_nn.init", "torch.nn.init", "`torch.nn.init` -> `rt_nn.init`"),
    Section("rt_nn.utils", "torch.nn.utils", "`torch.nn.utils` -> `rt_nn.utils`"),
    Section("rt_nn.utils.rnn", "torch.nn.utils.rnn", "`torch.nn.utils.rnn` -> `rt_nn.utils.rnn`"),
    Section("rt_nn.data", "torch.utils.data", "`torch.utils.data` -> `rt_nn.data`"),
    Section("rt_optim", "torch.optim", "`torch.optim` -> `rt_optim`",
            "Every optimizer runs a fused multi-tensor kernel; `fused=False` selects the "
            "readable reference formula and `foreach` is accepted and changes nothing."),
    Section("rt_optim.lr_scheduler", "torch.optim.lr_scheduler",
            "`torch.optim.lr_scheduler` -> `rt_optim.lr_scheduler`"),
    Section("rt_import", None, "`torch.load`/`torch.save`, safetensors, ONNX -> `rt_import`",
            "rt-import never imports torch: it reads and writes PyTorch's formats itself."),
    Section("rt_import.onnx", None, "ONNX import -> `rt_import.onnx`"),
    Section("rt_distributed", "torch.distributed",
            "`torch.distributed`, `DistributedDataParallel`, `DistributedSampler` -> "
            "`rt_distributed`",
            "The MPI backend only (`backend=\"mpi\"`; `\"gloo\"` is taken as an alias), the "
            "world group only; launch with `rt-run -n N script.py` (mpiexec). See "
            "[Training on several machines](training-on-several-machines.md)."),
    Section("rt_tensor", "torch", "`torch` without autograd -> `rt_tensor`",
            "`import rt_tensor as rtt`: the same names as `rt_autograd` for tensors that never "
            "record gradients (the bottom layer; it depends on numpy only). "
            "`requires_grad=True` in a factory raises RuntimeError here."),
    Section("rt_tensor.memory", None, "Memory pool -> `rt_tensor.memory`",
            "rt's caching allocator for CPU memory; PyTorch has the like for CUDA only."),
    Section("rt_tensor.return_types", "torch.return_types",
            "`torch.return_types` -> `rt_tensor.return_types`"),
]

# "module.name" -> (PyTorch name or None, note). A PyTorch name is a dotted name that can be
# imported and looked up (the tests check it against PyTorch where it is installed), or
# None where PyTorch has no counterpart; the note says what differs.
RT_EXTRA = None
SPECIAL = {
    # torch
    "rt_autograd.Variable": (
        "torch.autograd.Variable",
        "returns a Tensor (a leaf sharing the data's memory)"),
    "rt_autograd.autograd": ("torch.autograd", ""),
    "rt_autograd.testing": (
        "torch.autograd.gradcheck",
        "a module holding `gradcheck`, `gradgradcheck` (not `torch.testing`)"),
    "rt_autograd.memory": (RT_EXTRA, "`rt_tensor.memory`: the memory pool's statistics and limits"),
    "rt_autograd.printoptions": (RT_EXTRA, "context manager around `set_printoptions`"),
    "rt_autograd.get_printoptions": (RT_EXTRA, "what `set_printoptions` set"),
    "rt_autograd.device": ("torch.device", "CPU only: any other device type raises RuntimeError"),
    "rt_autograd.Generator": (
        "torch.Generator",
        "Philox4x32-10: same seeding API, other numbers than PyTorch's mt19937"),
    "rt_autograd.manual_seed": (
        "torch.manual_seed",
        "seeds rt's Philox generator: the numbers differ from PyTorch's"),
    "rt_autograd.get_rng_state": (
        "torch.get_rng_state",
        "16 bytes (key and counter), not PyTorch's 5056"),
    "rt_autograd.sort": ("torch.sort", "always stable"),
    "rt_autograd.from_dlpack": ("torch.from_dlpack", "CPU tensors; shares memory both ways"),
    # torch.autograd
    "rt_autograd.autograd.FunctionCtx": ("torch.autograd.function.FunctionCtx", ""),
    "rt_autograd.autograd.once_differentiable": ("torch.autograd.function.once_differentiable", ""),
    "rt_autograd.autograd.is_grad_enabled": ("torch.is_grad_enabled", ""),
    "rt_autograd.autograd.is_inference_mode_enabled": ("torch.is_inference_mode_enabled", ""),
    "rt_autograd.autograd.gradcheck": (
        "torch.autograd.gradcheck",
        "slow mode only (`fast_mode` accepted)"),
    "rt_autograd.autograd.gradgradcheck": (
        "torch.autograd.gradgradcheck",
        "slow mode only (`fast_mode` accepted)"),
    "rt_autograd.autograd.graph.AccumulateGrad": (
        RT_EXTRA,
        "the `grad_fn` type of a leaf's gradient accumulation (`AccumulateGrad` in PyTorch too, "
        "without a public name)"),
    "rt_autograd.autograd.graph.FunctionNode": (
        "torch.autograd.function.BackwardCFunction",
        "the node and `ctx` of an `autograd.Function` application"),
    "rt_autograd.testing.GradcheckError": ("torch.autograd.gradcheck.GradcheckError", ""),
    "rt_autograd.testing.gradcheck": (
        "torch.autograd.gradcheck",
        "slow mode only (`fast_mode` accepted)"),
    "rt_autograd.testing.gradgradcheck": (
        "torch.autograd.gradgradcheck",
        "slow mode only (`fast_mode` accepted)"),
    # torch.nn
    "rt_nn.data": ("torch.utils.data", "datasets, samplers, DataLoader"),
    "rt_nn.Embedding": (
        "torch.nn.Embedding",
        "`sparse=True` with a weight that needs grad: NotImplementedError"),
    "rt_nn.MultiheadAttention": (
        "torch.nn.MultiheadAttention",
        "no separate fused inference path (same numbers)"),
    "rt_nn.functional.interpolate": (
        "torch.nn.functional.interpolate",
        "modes nearest, nearest-exact, linear, bilinear, area"),
    "rt_nn.data.DataLoader": (
        "torch.utils.data.DataLoader",
        "`num_workers > 0` is accepted and loads in the main process"),
    # torch.optim
    "rt_optim.Lion": (RT_EXTRA, "Lion (Chen et al. 2023), not in torch.optim"),
    "rt_optim.LAMB": (RT_EXTRA, "LAMB (You et al. 2020), not in torch.optim"),
    "rt_optim.OptimizerFactory": (
        RT_EXTRA,
        "optimizers by name, suggested hyper-parameters (see OptimizerFactory's suggestions)"),
    "rt_optim.LBFGS": ("torch.optim.LBFGS", "`add_param_group` raises ValueError at once"),
    # checkpoints, safetensors, ONNX
    "rt_import.load": (
        "torch.load",
        "`torch.load(f, weights_only=True)`: an allow-list unpickler always; everything loads to "
        "CPU"),
    "rt_import.save": ("torch.save", "the zip format, read by `torch.load(weights_only=True)`"),
    "rt_import.load_safetensors": ("safetensors.torch.load_file", "memory-mapped"),
    "rt_import.save_safetensors": ("safetensors.torch.save_file", ""),
    "rt_import.load_safetensors_bytes": ("safetensors.torch.load", ""),
    "rt_import.save_safetensors_bytes": ("safetensors.torch.save", ""),
    "rt_import.load_safetensors_metadata": (
        "safetensors.safe_open",
        "`safe_open(path, 'pt').metadata()`"),
    "rt_import.load_numpy": (
        "torch.from_numpy",
        "`torch.from_numpy(numpy.load(path))`, without pickles; `.npz` gives a dict"),
    "rt_import.export_onnx": (
        "torch.onnx.export",
        "traces rt ops; `verify=True` checks the graph against the module"),
    "rt_import.OnnxExportError": ("torch.onnx.errors.OnnxExporterError", "a RuntimeError"),
    "rt_import.load_onnx": (
        RT_EXTRA,
        "what `onnx2torch.convert` does (a separate project): an `rt_nn.Module` that trains"),
    "rt_import.OnnxModule": (
        "torch.fx.GraphModule",
        "the module `load_onnx` returns (onnx2torch returns a GraphModule)"),
    "rt_import.FormatError": (RT_EXTRA, "a ValueError: truncated, corrupt or unsupported files"),
    "rt_distributed.DistributedDataParallel": (
        "torch.nn.parallel.DistributedDataParallel",
        "gradients averaged in buckets by non-blocking MPI all_reduce during backward"),
    "rt_distributed.DistributedSampler": (
        "torch.utils.data.distributed.DistributedSampler", ""),
    "rt_import.UnsafeCheckpointError": (
        "pickle.UnpicklingError",
        "a subclass: what `torch.load(weights_only=True)` raises for a global outside its allow-"
        "list"),
    "rt_import.UnsupportedOperatorError": (
        RT_EXTRA,
        "a RuntimeError listing every ONNX operator without a converter"),
    "rt_import.detect_format": (RT_EXTRA, "a file's format from its content"),
    "rt_import.FORMATS": (RT_EXTRA, "the format table behind the Formats page"),
    "rt_import.formats_markdown": (RT_EXTRA, "renders the Formats page"),
    "rt_import.PRETRAINED": (RT_EXTRA, "registered pretrained models"),
    "rt_import.register_pretrained": (RT_EXTRA, "add a model to PRETRAINED"),
    "rt_import.load_pretrained": (
        "torch.hub.load_state_dict_from_url",
        "never downloads: loads from the cache after checking the sha256"),
    "rt_import.pretrained_path": (RT_EXTRA, "where `load_pretrained` looks"),
    "rt_import.onnx.OnnxModule": ("torch.fx.GraphModule", "the module `load_onnx` returns"),
    "rt_import.onnx.load_onnx": (RT_EXTRA, "what `onnx2torch.convert` does"),
    "rt_import.onnx.converter": (
        RT_EXTRA,
        "register an ONNX converter (see Adding an ONNX operator)"),
    "rt_import.onnx.lookup": (RT_EXTRA, "the converter for an op type at an opset"),
    "rt_import.onnx.registered": (RT_EXTRA, "every registered converter"),
    "rt_import.onnx.RtBackend": (RT_EXTRA, "an `onnx.backend` backend (for ONNX's backend tests)"),
    # memory pool
    "rt_tensor.memory.stats": (
        "torch.cuda.memory_stats",
        "for the CPU pool: in use, cached, peak, hits, misses"),
    "rt_tensor.memory.empty_cache": ("torch.cuda.empty_cache", "for the CPU pool"),
    "rt_tensor.memory.reset_peak_stats": ("torch.cuda.reset_peak_memory_stats", "for the CPU pool"),
    "rt_tensor.memory.set_cache_limit": (RT_EXTRA, "bytes the pool may keep cached"),
    "rt_tensor.memory.get_cache_limit": (RT_EXTRA, ""),
}
# rt_tensor re-exports the same names as rt_autograd: the same special cases.
for _key, _value in list(SPECIAL.items()):
    _module, _, _name = _key.rpartition(".")
    if _module == "rt_autograd" and _name not in ("Variable", "autograd", "testing"):
        SPECIAL.setdefault(f"rt_tensor.{_name}", _value)


@dataclass(frozen=True)
class Row:
    rt: str              # the rt name, dotted
    torch: str | None    # the PyTorch name, dotted (None: no counterpart)
    note: str


def version(package):
    """The installed version of an rt package (`rt_tensor` -> rt-tensor's version)."""
    return importlib.metadata.version(package.replace("_", "-"))


def public_modules():
    """The five packages and every module reachable through their ``__all__``, recursively,
    by module name, in discovery order."""
    found, todo = {}, list(PACKAGES)
    while todo:
        name = todo.pop(0)
        if name in found:
            continue
        module = importlib.import_module(name)
        found[name] = module
        for member in getattr(module, "__all__", ()):
            value = getattr(module, member)
            if isinstance(value, types.ModuleType) and value.__name__.startswith("rt_"):
                todo.append(value.__name__)
    return found


def rows(section):
    """One Row per name of the section module's ``__all__``, in ``__all__``'s order."""
    module = importlib.import_module(section.module)
    out = []
    for name in module.__all__:
        key = f"{section.module}.{name}"
        if key in SPECIAL:
            torch_name, note = SPECIAL[key]
        elif section.torch is None:
            raise LookupError(f"{key} has no PyTorch counterpart in docs/_gen_api_mapping.py: "
                              "add it to SPECIAL (None where PyTorch has none)")
        else:
            torch_name, note = f"{section.torch}.{name}", ""
        out.append(Row(key, torch_name, note))
    return out


def check_sections():
    """Every public module has a section (and no section names a module that is gone)."""
    modules = public_modules()
    covered = {s.module for s in SECTIONS}
    missing = [name for name in modules if name not in covered]
    if missing:
        raise LookupError("public rt modules without a section in docs/_gen_api_mapping.py "
                          f"SECTIONS: {', '.join(missing)}")
    for section in SECTIONS:
        importlib.import_module(section.module)   # ImportError names a section that is gone


def tensor_methods():
    """The public methods and attributes of ``rt_autograd.Tensor`` (those of torch.Tensor)."""
    import rt_autograd
    return sorted(n for n in dir(rt_autograd.Tensor) if not n.startswith("_"))


def _code(text):
    return f"`{text}`"


def mapping_markdown():
    """The mapping as Markdown: one table per section, then the Tensor methods."""
    check_sections()
    lines = []
    for section in SECTIONS:
        table = rows(section)
        lines += [f"### {section.title}", ""]
        if section.intro:
            lines += [section.intro, ""]
        lines += [f"{len(table)} names ({_code(section.module + '.__all__')}).", "",
                  "| PyTorch | rt | note |", "|---|---|---|"]
        for row in table:
            torch_cell = _code(row.torch) if row.torch else "(rt only)"
            note = row.note.replace("|", "\\|")
            lines.append(f"| {torch_cell} | {_code(row.rt)} | {note} |")
        lines.append("")
    methods = tensor_methods()
    lines += ["### `torch.Tensor` -> `rt_autograd.Tensor`", "",
              f"`rt_autograd.Tensor` (a subclass of `rt_tensor.Tensor`) has these {len(methods)} "
              "public methods and attributes, named as on `torch.Tensor` (in-place forms end "
              "in `_`), besides the Python operators:", "",
              ", ".join(_code(n) for n in methods), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(mapping_markdown())
