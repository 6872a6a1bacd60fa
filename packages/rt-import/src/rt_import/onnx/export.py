"""``export_onnx``: an rt module as an ONNX model, traced from one run of its forward.

>>> import io, onnx, rt_autograd as rt, rt_nn as nn
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
>>> buf = io.BytesIO()
>>> proto = export_onnx(model, rt.randn(3, 4), buf, input_names=["x"],
...                     dynamic_axes={"x": {0: "batch"}})
>>> [n.op_type for n in proto.graph.node]
['Gemm', 'Relu', 'Gemm']
>>> [i.name for i in proto.graph.initializer]
['0.weight', '0.bias', '2.weight', '2.bias']

How the trace works, and what it refuses, is in ``_trace.py``; the op mappings are in
``_export_ops.py``; adding one is docs/adding-an-onnx-op.md.
"""
import inspect
import os
import threading
import warnings

import numpy as np
import onnx
from onnx import helper

import rt_autograd as rt
import rt_nn
import rt_tensor as rtt
from rt_autograd._autograd import as_autograd_tensor

from rt_import._atomic import atomic_write
from rt_import.onnx import _export_ops  # noqa: F401  (registers the exporters)
from rt_import.onnx.graph import load_onnx, to_numpy, to_rt, unsupported_operators
from rt_import.onnx._trace import (OnnxExportError, TraceParameter, TraceTensor, Tracer,
                                   _flatten, _plain, module_scopes, onnx_dtype,
                                   patched_functions, patched_instances, tracing)

__all__ = ["export_onnx", "OnnxExportError", "MIN_OPSET", "MAX_OPSET"]

MIN_OPSET = 11
MAX_OPSET = onnx.defs.onnx_opset_version()

# one export at a time: the op functions are replaced process-wide while a trace runs
_EXPORT_LOCK = threading.RLock()


def export_onnx(module, example_inputs, path, opset=17, input_names=None, output_names=None,
                dynamic_axes=None, verify=True):
    """Trace ``module(*example_inputs)`` once and write the ONNX model to ``path``.

    ``torch.onnx.export``'s contract for rt modules:

    * ``module``: an ``rt_nn.Module``, run in eval mode during the trace (Dropout is the
      identity, BatchNorm uses its running statistics); each submodule's ``training`` flag is
      restored afterwards.
    * ``example_inputs``: a tensor or a tuple of positional arguments (tensors, nested
      lists/tuples of tensors, or Python values that stay constant); a dict as the last
      element holds keyword arguments. Every tensor becomes a graph input.
    * ``path``: a file path (written through a temporary file and renamed, never half
      written) or a binary file object.
    * ``opset``: the default-domain ONNX opset, ``MIN_OPSET`` (11) to ``MAX_OPSET``.
    * ``input_names`` / ``output_names``: names of the graph inputs (tensor leaves of the
      inputs, in order) and outputs; defaults are the forward's argument names and
      ``output`` (``output_0``, ... for several).
    * ``dynamic_axes``: ``{name: [axis, ...]}`` or ``{name: {axis: "dim_name"}}`` for inputs
      and outputs: those dims are symbolic in the model (``[axis]`` names them
      ``<name>_dynamic_axes_<k>``). Reshapes keep dims in place as ONNX's copy-dim 0, so
      ``x.view(x.size(0), -1)`` follows a symbolic batch; other Python ints read from shapes
      are constants of the example (as in ``torch.onnx``'s tracer).
    * ``verify`` (default ``True``): before anything is written, evaluate the graph and
      check that it reproduces the module (see "Verification" below); ``False`` skips it.

    Parameters and buffers become initializers named like the module's ``state_dict`` keys
    (only those the graph uses); constants computed in forward become Constant nodes. The
    model passes ``onnx.checker.check_model(model, full_check=True)``, and the exporter checks
    that ONNX shape inference gives every traced value the shape and type rt computed.

    Verification: the graph is evaluated (with ``load_onnx`` when every operator in it has
    an import converter, else with ``onnx.reference.ReferenceEvaluator``) on the example
    inputs, where it must give the outputs rt computed during the trace, and on a second set
    of inputs with the example's shapes and dtypes but other values, where it must give what
    the module (eval mode, ``no_grad``) computes from them. This catches computation the
    tracer cannot see (``rt_tensor.Tensor.add(x, 1)``, a numpy round trip through an unbound
    base-class method), which would otherwise be frozen into the graph as a constant of the
    example. The second inputs come from a fixed seed (the global rt and numpy generators are
    not touched):

    * floating and complex inputs: uniform values between the smallest and largest finite
      value of the example tensor (so the sign and range, and a domain such as ``x > 0``, are
      kept); non-finite elements (a ``-inf`` mask) stay where they are; a tensor of one value
      ``c`` gets values between ``c/2`` and ``3c/2`` (``0`` to ``1`` for zeros);
    * integer and bool inputs: the example's own values shuffled (indices stay in range,
      masks keep their density, no value the example lacks, such as a zero divisor, appears);
      a tensor of one value keeps it. If the module fails on shuffled values, those inputs
      keep the example's values;
    * Python values in ``example_inputs`` are passed as given.

    Outputs must have rt's shapes and dtypes; integer and bool values must be equal, floating
    values within a tolerance for the dtype (relative, plus absolute in proportion to the
    output's largest magnitude: 1e-6 for float64/complex128, 1e-3 for float32/complex64,
    1e-2 for float16, 5e-2 for bfloat16); NaN must meet NaN and infinities their equals. The
    module's forward runs once more (twice when it fails on shuffled integer or bool values),
    as ``torch.onnx.export`` also runs a model more than once; warnings from these runs and
    from evaluating the graph are not shown.

    Returns the ``onnx.ModelProto``. Raises ``OnnxExportError`` naming the op (or Python
    construct) that cannot be exported: an op without an ONNX mapping whose implementation the
    tracer cannot follow, data-dependent Python values (``x.item()`` in a branch), in-place
    writes seen through aliases, random ops; and, with ``verify``, when the graph does not
    reproduce the module (naming the first output that differs and the largest difference).
    Nothing is written when it raises.
    """
    if not isinstance(module, rt_nn.Module):
        raise TypeError(f"export_onnx() takes an rt_nn.Module, got {type(module).__name__}")
    if isinstance(opset, bool) or not isinstance(opset, int):
        raise TypeError(f"opset must be an int, got {type(opset).__name__}")
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ValueError(f"opset {opset} is not supported: export_onnx writes opsets "
                         f"{MIN_OPSET} to {MAX_OPSET}")
    if not isinstance(verify, bool):
        raise TypeError(f"verify must be a bool, got {type(verify).__name__}")
    args, kwargs = _split_inputs(example_inputs)
    # the example's values before the trace: a forward may write its inputs in place
    example = _snapshot(args, kwargs) if verify else None
    with _EXPORT_LOCK:
        model, traced = _export(module, args, kwargs, opset, input_names, output_names,
                                dynamic_axes or {}, verify)
    try:
        data = model.SerializeToString()
    except ValueError as exc:          # protobuf refuses messages over 2 GiB
        raise OnnxExportError(f"the model is too large for one ONNX protobuf file ({exc}); "
                              "models over 2 GiB need external data, which export_onnx does "
                              "not write") from None
    if verify:
        _verify(module, model, args, kwargs, example, traced)
    if hasattr(path, "write"):
        path.write(data)
    else:
        with atomic_write(os.fspath(path)) as f:
            f.write(data)
    return model


def _split_inputs(example_inputs):
    if isinstance(example_inputs, rtt.Tensor):
        return (example_inputs,), {}
    if isinstance(example_inputs, list):
        example_inputs = tuple(example_inputs)
    if not isinstance(example_inputs, tuple):
        raise TypeError("example_inputs must be a tensor or a tuple of forward's arguments, "
                        f"got {type(example_inputs).__name__}")
    if example_inputs and isinstance(example_inputs[-1], dict):
        return example_inputs[:-1], dict(example_inputs[-1])
    return example_inputs, {}


def _default_input_names(module, args, kwargs):
    """Names for the tensor leaves of (args, kwargs): forward's parameter names."""
    try:
        params = list(inspect.signature(module.forward).parameters.values())
    except (TypeError, ValueError):
        params = []
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    varargs = next((p.name for p in params if p.kind == p.VAR_POSITIONAL), None)
    names = []
    for i, a in enumerate(args):
        base = positional[i].name if i < len(positional) else \
            (f"{varargs}_{i - len(positional)}" if varargs else f"input_{i}")
        leaves = [x for x in _flatten(a, []) if isinstance(x, rtt.Tensor)]
        if isinstance(a, rtt.Tensor):
            names.append(base)
        else:
            names.extend(f"{base}_{j}" for j in range(len(leaves)))
    for key, a in kwargs.items():
        leaves = [x for x in _flatten(a, []) if isinstance(x, rtt.Tensor)]
        if isinstance(a, rtt.Tensor):
            names.append(key)
        else:
            names.extend(f"{key}_{j}" for j in range(len(leaves)))
    return names


def _names(given, defaults, what):
    if given is None:
        return list(defaults)
    if isinstance(given, str) or not all(isinstance(n, str) for n in given):
        raise TypeError(f"{what} must be a list of strings")
    given = list(given)
    if len(given) > len(defaults):
        raise ValueError(f"{len(given)} {what} given for {len(defaults)} graph "
                         f"{what.split('_')[0]}s")
    return given + list(defaults[len(given):])


def _dynamic_dims(dynamic_axes, known, ranks):
    """{value name: {axis: dim name}} from torch's dynamic_axes forms."""
    if not isinstance(dynamic_axes, dict):
        raise TypeError("dynamic_axes must be a dict {name: [axes] or {axis: name}}")
    out = {}
    for name, spec in dynamic_axes.items():
        if name not in known:
            raise ValueError(f"dynamic_axes names {name!r}, which is not a graph input or "
                             f"output (they are {sorted(known)})")
        rank = ranks[name]
        if isinstance(spec, dict):
            items = list(spec.items())
        elif isinstance(spec, (list, tuple)):
            items = [(a, f"{name}_dynamic_axes_{k + 1}") for k, a in enumerate(spec)]
        else:
            raise TypeError(f"dynamic_axes[{name!r}] must be a list of axes or a dict "
                            "{axis: name}")
        dims = {}
        for axis, dim_name in items:
            if isinstance(axis, bool) or not isinstance(axis, int):
                raise TypeError(f"dynamic_axes[{name!r}]: axis {axis!r} is not an int")
            if not -rank <= axis < rank:
                raise ValueError(f"dynamic_axes[{name!r}]: axis {axis} is out of range for "
                                 f"a {rank}-d value")
            if not isinstance(dim_name, str) or not dim_name:
                raise TypeError(f"dynamic_axes[{name!r}]: the name of axis {axis} must be a "
                                "non-empty string")
            dims[axis % rank] = dim_name
        out[name] = dims
    return out


def _value_info(name, dtype, shape, dims=None, unknown=()):
    dims = dims or {}
    shape = [dims.get(i, None if i in unknown else int(s)) for i, s in enumerate(shape)]
    return helper.make_tensor_value_info(name, onnx_dtype(dtype), shape)


def _export(module, args, kwargs, opset, input_names, output_names, dynamic_axes,
            keep_outputs=False):
    dynamic = any(bool(v) for v in dynamic_axes.values()) if isinstance(dynamic_axes, dict) \
        else True
    tracer = Tracer(opset, dynamic)

    in_leaves = [x for x in _flatten((args, kwargs), []) if isinstance(x, rtt.Tensor)]
    in_names = _names(input_names, _default_input_names(module, args, kwargs), "input_names")
    if len(set(in_names)) != len(in_names):
        raise ValueError(f"input names must be unique, got {in_names}")

    # parameters and buffers: traced under their state_dict names
    state_names = {}
    for name, p in module.named_parameters():
        state_names.setdefault(id(p), name)
    for name, b in module.named_buffers():
        state_names.setdefault(id(b), name)
    clash = set(in_names) & set(state_names.values())
    if clash:
        raise ValueError(f"input names {sorted(clash)} are also parameter or buffer names")
    tracer.state_order = list(module.state_dict(keep_vars=True))
    tracer.taken.update(in_names)
    tracer.taken.update(state_names.values())
    if output_names is not None:
        tracer.taken.update(n for n in output_names if isinstance(n, str))

    # symbolic input dims, known before the trace (sizes read from them become SymInts)
    in_ranks = {n: x.dim() for n, x in zip(in_names, in_leaves)}
    in_dims = _dynamic_dims({k: v for k, v in dynamic_axes.items() if k in in_ranks}
                            if isinstance(dynamic_axes, dict) else dynamic_axes,
                            set(in_ranks), in_ranks)
    traced_inputs = []
    for name, x in zip(in_names, in_leaves):
        traced_inputs.append(tracer.new_value(_plain(as_autograd_tensor(x)), name))
        tracer.input_infos.append(_value_info(name, x.dtype, x.shape, in_dims.get(name)))
        tracer.sym_cache[name] = tuple(in_dims.get(name, {}).get(i) for i in range(x.dim()))
    it = iter(traced_inputs)
    targs, tkwargs = _rebuild_inputs((args, kwargs), it)

    swaps = []
    flags = [(m, m.training) for m in module.modules()]
    made = {}
    try:
        for m in module.modules():
            for store, cls in ((m._parameters, TraceParameter), (m._buffers, TraceTensor)):
                for key, t in list(store.items()):
                    if t is None or id(t) not in state_names:
                        continue
                    tt = made.get(id(t))
                    if tt is None:
                        name = state_names[id(t)]
                        tt = tracer.new_value(_plain(t), name, cls=cls)
                        tracer.pending_init[name] = t
                        made[id(t)] = tt
                    store[key] = tt
                    swaps.append((store, key, t))
        module.eval()
        classes = {c for m in module.modules() for c in type(m).__mro__
                   if c not in (object, rt_nn.Module)}
        with patched_functions(classes), patched_instances(list(module.modules())), \
                tracing(tracer), module_scopes(module, tracer), rt.enable_grad():
            out = module(*targs, **tkwargs)
            out_leaves = [x for x in _flatten(out, []) if x is not None]
            for x in out_leaves:
                if not isinstance(x, rtt.Tensor):
                    raise OnnxExportError(f"the module's output holds a {type(x).__name__}; "
                                          "ONNX graph outputs are tensors")
            out_values = [tracer.name_of(x, "the module's output") for x in out_leaves]
            out_meta = [(x.dtype, tuple(x.shape)) for x in out_leaves]
    finally:
        for store, key, t in reversed(swaps):
            store[key] = t
        for m, flag in flags:
            m.training = flag
    if not out_leaves:
        raise OnnxExportError("the module returned no tensor: an ONNX graph needs an output")

    defaults = ["output"] if len(out_leaves) == 1 else \
        [f"output_{i}" for i in range(len(out_leaves))]
    out_names = _names(output_names, defaults, "output_names")
    if len(set(out_names)) != len(out_names):
        raise ValueError(f"output names must be unique, got {out_names}")
    clash = set(out_names) & (set(in_names) | set(state_names.values()))
    if clash:
        raise ValueError(f"output names {sorted(clash)} are also input, parameter or buffer "
                         "names")

    ranks = {n: x.dim() for n, x in zip(in_names, in_leaves)}
    ranks.update({n: len(s) for n, (_, s) in zip(out_names, out_meta)})
    dims = _dynamic_dims(dynamic_axes, set(in_names) | set(out_names), ranks)
    model = _assemble(tracer, in_names, in_leaves, out_names, out_values, out_meta, dims,
                      opset)
    # the outputs as rt computed them in the trace (the graph must give them back)
    traced = [_comparable(_plain(as_autograd_tensor(x))) for x in out_leaves] \
        if keep_outputs else None
    return model, traced


def _rebuild_inputs(obj, it):
    if isinstance(obj, rtt.Tensor):
        return next(it)
    if isinstance(obj, tuple):
        items = [_rebuild_inputs(o, it) for o in obj]
        return type(obj)(*items) if hasattr(obj, "_fields") else tuple(items)
    if isinstance(obj, list):
        return [_rebuild_inputs(o, it) for o in obj]
    if isinstance(obj, dict):
        return {k: _rebuild_inputs(v, it) for k, v in obj.items()}
    return obj


def _assemble(tracer, in_names, in_leaves, out_names, out_values, out_meta, dims, opset):
    nodes = list(tracer.nodes)
    produced = {o for n in nodes for o in n.output}
    # graph outputs: rename the producing node's output where possible, else an Identity
    rename = {}
    extra = []
    node_names = {n.name for n in nodes}
    for value, name in zip(out_values, out_names):
        if value in produced and value not in rename:
            rename[value] = name
        else:
            # an input, an initializer or a value already given to another output
            node_name = f"/Identity_{name}"
            while node_name in node_names:
                node_name += "_"
            node_names.add(node_name)
            extra.append(helper.make_node("Identity", [rename.get(value, value)], [name],
                                          name=node_name))
    if rename:
        for n in nodes:
            for i, v in enumerate(n.input):
                if v in rename:
                    n.input[i] = rename[v]
            for i, v in enumerate(n.output):
                if v in rename:
                    n.output[i] = rename[v]
        tracer.values = {rename.get(k, k): v for k, v in tracer.values.items()}
    nodes += extra

    # drop what no output needs (constants snapshotted for an op that did not use them)
    needed = set(out_names)
    kept = []
    for n in reversed(nodes):
        if any(o in needed for o in n.output if o):
            kept.append(n)
            needed.update(i for i in n.input if i)
            for a in n.attribute:
                if a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
                    raise OnnxExportError("internal error: sub-graphs are not exported")
    kept.reverse()
    # initializers in state_dict order
    order = {name: i for i, name in enumerate(tracer.state_order)}
    initializers = sorted((p for p in tracer.initializers if p.name in needed),
                          key=lambda p: order.get(p.name, len(order)))

    inputs = [_value_info(n, x.dtype, x.shape, dims.get(n)) for n, x in zip(in_names, in_leaves)]
    graph = helper.make_graph(kept, "rt_module", inputs,
                              [_value_info(n, dt, s, dims.get(n))
                               for n, (dt, s) in zip(out_names, out_meta)],
                              initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="rt_import",
                              producer_version=_version())
    model.ir_version = helper.find_min_ir_version_for(list(model.opset_import))
    _check_shapes(model, tracer, in_names, in_leaves, dims)
    if any(dims.get(n) for n in in_names):
        _symbolic_outputs(model, out_names, out_meta, dims, tracer.hints)
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as exc:
        raise OnnxExportError(f"internal error: the exported model fails onnx.checker: "
                              f"{exc}") from exc
    return model


def _version():
    from rt_import import __version__
    return __version__


# ---- verification: the graph must reproduce the module ------------------------------------

_VERIFY_SEED = 0x5EED0      # fixed: the check is reproducible and leaves rt's generator alone

# relative tolerance by dtype, also applied absolutely to the output's largest magnitude
# (the graph may compute in another order or through other kernels; a value frozen from
# the example differs by the size of the values themselves)
_TOLERANCE = {"float64": 1e-6, "complex128": 1e-6, "float32": 1e-3, "complex64": 1e-3,
              "float16": 1e-2, "bfloat16": 5e-2}


def _dtype_name(dtype):
    return str(dtype).rsplit(".", 1)[-1]


def _comparable(t):
    """(dtype name, numpy copy) of a plain rt tensor; bfloat16 values as float32."""
    name = _dtype_name(t.dtype)
    if t.dtype == rt.bfloat16:
        t = t.float()
    return name, np.array(t.numpy(), copy=True)


def _snapshot(args, kwargs):
    """Copies of the tensor leaves of (args, kwargs), as plain rt tensors."""
    with rt.no_grad():
        return [_plain(as_autograd_tensor(x)).clone()
                for x in _flatten((args, kwargs), []) if isinstance(x, rtt.Tensor)]


def _floats_like(a, rng):
    """Uniform values in the range of ``a``'s finite values (a tensor of one value ``c``:
    between c/2 and 3c/2, or 0 and 1 for zeros); non-finite elements stay."""
    finite = np.isfinite(a)
    values = a[finite].astype(np.float64)
    if values.size == 0:
        return a.copy()
    lo, hi = float(values.min()), float(values.max())
    if lo == hi:
        lo, hi = (0.0, 1.0) if lo == 0 else sorted((lo / 2, lo * 1.5))
    return np.where(finite, rng.uniform(lo, hi, a.shape), a)


def _other_inputs(example, shuffle_discrete):
    """Inputs with the example's shapes and dtypes but other values (export_onnx's
    "Verification"); also whether any integer or bool input was changed."""
    rng = np.random.default_rng(_VERIFY_SEED)
    out, shuffled = [], False
    for t in example:
        if t.numel() == 0:
            out.append(t.clone())
            continue
        if t.dtype.is_floating_point or t.dtype.is_complex:
            name, a = _comparable(t)
            new = _floats_like(a.real, rng)
            if t.dtype.is_complex:
                new = new + 1j * _floats_like(a.imag, rng)
            out.append(to_rt(new.astype(a.dtype)).to(t.dtype))
            continue
        a = t.numpy()
        flat = a.reshape(-1)
        if not shuffle_discrete or bool(np.all(flat == flat[0])):
            out.append(t.clone())
            continue
        new = rng.permutation(flat)
        if np.array_equal(new, flat):
            new = np.roll(flat, 1)        # differs whenever the values are not all equal
        out.append(to_rt(new.reshape(a.shape)))
        shuffled = True
    return out, shuffled


def _run_module(module, args, kwargs, values):
    """The module's outputs (comparable) on ``values`` in place of the example's tensors."""
    # the module gets copies: a forward that writes its inputs must not change the graph's
    targs, tkwargs = _rebuild_inputs((args, kwargs), iter([v.clone() for v in values]))
    flags = [(m, m.training) for m in module.modules()]
    try:
        module.eval()
        with rt.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")         # shown once already, by the trace
            out = module(*targs, **tkwargs)
    finally:
        for m, flag in flags:
            m.training = flag
    return [_comparable(_plain(as_autograd_tensor(x))) if isinstance(x, rtt.Tensor) else
            (type(x).__name__, x) for x in _flatten(out, []) if x is not None]


class _Graph:
    """Evaluates the exported graph: with ``load_onnx`` when every operator has an import
    converter (rt's own kernels), else, or if that fails, with ONNX's reference
    implementation."""

    def __init__(self, model):
        self.model = model
        self.imported = None
        self.reference = None
        if not unsupported_operators(model):
            try:
                self.imported = load_onnx(model)
                self.imported.eval()
            except Exception:
                self.imported = None

    def __call__(self, values):
        if self.imported is not None:
            try:
                with rt.no_grad(), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    out = self.imported(*[v.clone() for v in values])
                out = out if isinstance(out, tuple) else (out,)
                return [_comparable(_plain(as_autograd_tensor(o))) for o in out]
            except Exception:
                self.imported = None          # an importer limitation: the reference decides
        if self.reference is None:
            from onnx.reference import ReferenceEvaluator
            self.reference = ReferenceEvaluator(self.model)
        feeds = {vi.name: to_numpy(v) for vi, v in zip(self.model.graph.input, values)}
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = self.reference.run(None, feeds)
        result = []
        for o in out:
            o = np.asarray(o)
            name = o.dtype.name
            result.append((name, o.astype(np.float32) if name == "bfloat16" else o))
        return result


def _fmt(v):
    v = v.item() if hasattr(v, "item") else v
    return f"{v:.6g}" if isinstance(v, float) else repr(v)


def _difference(got, want):
    """Why output ``got`` (dtype name, array) is not ``want``, or None."""
    (gd, g), (wd, w) = got, want
    if not isinstance(w, np.ndarray):
        return f"is a tensor where the module returns a {wd}"
    if gd != wd:
        return f"has dtype {gd} where rt gives {wd}"
    if g.shape != w.shape:
        return f"has shape {list(g.shape)} where rt gives {list(w.shape)}"
    if g.size == 0:
        return None
    tol = _TOLERANCE.get(wd)
    if tol is None:                                       # integers and bool: equal
        bad = g != w
        if not bad.any():
            return None
        diff = np.abs(g.astype(np.float64) - w.astype(np.float64))
        idx = np.unravel_index(int(np.argmax(np.where(bad, diff, -1))), g.shape)
        return (f"differs in {int(bad.sum())} of {g.size} elements, by up to "
                f"{_fmt(diff.max())} (at index {tuple(int(i) for i in idx)}: graph "
                f"{_fmt(g[idx])}, rt {_fmt(w[idx])})")
    kind = np.complex128 if wd.startswith("complex") else np.float64
    g64, w64 = g.astype(kind), w.astype(kind)
    gnan, wnan = np.isnan(g64), np.isnan(w64)
    finite = np.isfinite(g64) & np.isfinite(w64)
    # NaN meets NaN, an infinity its equal
    special = (gnan != wnan) | (~finite & ~gnan & ~wnan & (g64 != w64))
    with np.errstate(all="ignore"):                       # inf - inf where not finite
        diff = np.where(finite, np.abs(g64 - w64), 0.0)
    mags = np.abs(np.concatenate([g64[finite], w64[finite]]))
    scale = float(mags.max()) if mags.size else 0.0
    over = finite & (diff > tol * np.abs(w64) + tol * scale)
    if not over.any() and not special.any():
        return None
    if over.any():
        idx = np.unravel_index(int(np.argmax(np.where(over, diff, -1.0))), g.shape)
        what = f"by up to {_fmt(float(diff[idx]))}"
    else:
        idx = np.unravel_index(int(np.argmax(special)), g.shape)
        what = "in its non-finite values"
    count = int((over | special).sum())
    return (f"differs {what} ({count} of {g.size} elements outside the {wd} tolerance; at "
            f"index {tuple(int(i) for i in idx)}: graph {_fmt(g[idx])}, rt {_fmt(w[idx])})")


def _first_difference(names, got, want):
    if len(got) != len(want):
        return None, (f"gives {len(got)} outputs where the module gives {len(want)}")
    for name, g, w in zip(names, got, want):
        why = _difference(g, w)
        if why is not None:
            return name, why
    return None


_SKIP = "export_onnx(..., verify=False) skips this check."


def _verify(module, model, args, kwargs, example, traced):
    """Raise OnnxExportError unless the graph reproduces the module (export_onnx's
    "Verification")."""
    names = [o.name for o in model.graph.output]
    graph = _Graph(model)
    try:
        got = graph(example)
    except Exception as exc:
        raise OnnxExportError(
            f"internal error: evaluating the exported graph on the example inputs failed "
            f"({type(exc).__name__}: {exc}), so it cannot be verified; nothing was "
            f"written. {_SKIP}") from exc
    bad = _first_difference(names, got, traced)
    if bad is not None:
        name, why = bad
        raise OnnxExportError(
            f"the exported graph does not reproduce what rt computed while tracing the "
            f"example inputs: {'output ' + repr(name) if name else 'the graph'} {why}. An "
            "op is exported with other semantics than rt's (an exporter bug), or the "
            f"module's outputs depend on more than its inputs; nothing was written. {_SKIP}")

    values, shuffled = _other_inputs(example, True)
    attempts = [values]
    if shuffled:
        # integer/bool values the model may not take (offsets that must be sorted, ...)
        attempts.append(_other_inputs(example, False)[0])
    for k, values in enumerate(attempts):
        who = "the module"
        try:
            want = _run_module(module, args, kwargs, values)
            who = "the exported graph"
            got = graph(values)
        except Exception as exc:
            if k + 1 < len(attempts):
                continue
            raise OnnxExportError(
                "export_onnx verifies the graph on inputs with the example inputs' shapes and "
                f"dtypes but other values (see export_onnx's Verification), and {who} failed "
                f"on them ({type(exc).__name__}: {exc}); nothing was written. "
                f"{_SKIP}") from exc
        bad = _first_difference(names, got, want)
        if bad is not None:
            name, why = bad
            raise OnnxExportError(
                "the exported graph does not reproduce the module on other inputs: on inputs "
                "with the example inputs' shapes and dtypes but other values, "
                f"{'output ' + repr(name) if name else 'the graph'} {why}. Some computation "
                "was not traced: forward computed a value from its inputs out of the "
                "tracer's view (an rt_tensor kernel called directly, such as "
                "rt_tensor.Tensor.add(x, 1) or another unbound base-class method, or a round "
                "trip through numpy), and the graph holds its result for the example inputs "
                "as a constant. Write that computation with rt ops (x + 1, rt.exp(x)); "
                f"nothing was written. {_SKIP}")
        return


def _dims_of(type_proto):
    t = type_proto.tensor_type
    if not t.HasField("shape"):
        return None
    return [d.dim_value if d.HasField("dim_value") else
            (d.dim_param if d.HasField("dim_param") else None) for d in t.shape.dim]


def _check_shapes(model, tracer, in_names, in_leaves, dims):
    """ONNX shape inference on the model with the example's static input shapes must give
    every traced value rt's dtype and shape: a mismatch is an exporter bug, caught here
    instead of shipped as a wrong graph."""
    static = onnx.ModelProto()
    static.CopyFrom(model)
    for vi, x in zip(static.graph.input, in_leaves):
        vi.CopyFrom(_value_info(vi.name, x.dtype, x.shape))
    try:
        # (data_prop=True is not used: onnx 1.23 mistakes small 1-d tensors for shapes)
        inferred = onnx.shape_inference.infer_shapes(static, check_type=True, strict_mode=True)
    except Exception as exc:
        raise OnnxExportError(f"internal error: ONNX shape inference rejects the exported "
                              f"graph: {exc}") from exc
    infos = {vi.name: vi for vi in list(inferred.graph.value_info) + list(inferred.graph.output)}
    producers = {o: n for n in model.graph.node for o in n.output}
    bad = []
    for name, (dtype, shape) in tracer.values.items():
        vi = infos.get(name)
        if vi is None or name not in producers:
            continue
        elem = vi.type.tensor_type.elem_type
        got = _dims_of(vi.type)
        if elem and elem != onnx_dtype(dtype):
            bad.append((name, f"type {onnx.TensorProto.DataType.Name(elem)} where rt has "
                              f"{onnx.TensorProto.DataType.Name(onnx_dtype(dtype))}"))
        elif got is not None and (len(got) != len(shape) or any(
                isinstance(g, int) and g != s for g, s in zip(got, shape))):
            bad.append((name, f"shape {got} where rt has {list(shape)}"))
    if bad:
        lines = []
        for name, what in bad[:5]:
            node = producers[name]
            lines.append(f"{node.op_type} node {node.name} ({node.doc_string}): {what}")
        raise OnnxExportError("internal error: the exported graph disagrees with rt: "
                              + "; ".join(lines))


def _symbolic_outputs(model, out_names, out_meta, dims, hints):
    """Output dims that follow a symbolic input dim become symbolic (from ONNX shape
    inference); dims inference cannot work out are left unnamed."""
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    for o in probe.graph.output:
        o.type.tensor_type.ClearField("shape")
    produced = {o for n in probe.graph.node for o in n.output}
    probe.graph.value_info.extend(
        helper.make_tensor_value_info(n, onnx_dtype(dt), d) for n, (dt, d) in hints.items()
        if n in produced and n not in out_names)
    inferred = probe
    for data_prop in (True, False):        # (see Tracer._infer_partial)
        try:
            inferred = onnx.shape_inference.infer_shapes(probe, data_prop=data_prop)
            break
        except Exception:
            continue
    got = {o.name: _dims_of(o.type) for o in inferred.graph.output}
    for o, name, (dtype, shape) in zip(model.graph.output, out_names, out_meta):
        named = dims.get(name, {})
        inf = got.get(name)
        new = []
        for i, s in enumerate(shape):
            if i in named:
                new.append(named[i])
            elif inf is not None and i < len(inf) and len(inf) == len(shape):
                d = inf[i]
                new.append(None if isinstance(d, str) and d.startswith("unk__") else d)
            else:
                new.append(None)
        o.CopyFrom(helper.make_tensor_value_info(name, onnx_dtype(dtype), new))
