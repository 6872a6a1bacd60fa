"""The ONNX converter registry: one function per (domain, op_type, since_version).

A converter turns one ONNX node into rt ops (differentiable ones, so an imported model can be
trained). It is registered with the first opset whose definition of the operator it
implements; for a model importing opset V, the converter with the largest ``since_version``
at or below V is used (``docs/adding-an-onnx-op.md``)::

    @converter("Relu", 6, 13, 14)            # the opsets whose Relu it implements
    def relu(node, x):
        return x.relu()

``node`` is a ``NodeContext``: the node's attributes (``node.attr("axis", 0)``), the opset,
the number of outputs, whether the module is training. Inputs arrive as rt tensors (None for
an omitted optional input); a converter returns a tensor or a tuple of them.

A converter whose attributes cost something to read on every call (Conv's geometry, Gemm's
layout) may add a preparation step, run once per node when a graph is loaded::

    @preparer(gemm)
    def prepare_gemm(node):              # -> a callable taking the node's inputs, or None
        ...                              # None: the graph calls gemm(node, *inputs)

The prepared callable must return exactly what ``fn(node, *inputs)`` returns (the same
numbers, the same autograd graph, the same errors): it is an optimization only.

A converter whose kernel can apply the nodes that follow it for free (Conv's epilogue applies
Relu and a 2x2 MaxPool while the output block is in cache) declares which ones::

    absorbs(conv, lambda absorbed, follower: ...)   # accept follower after `absorbed`?

When an accepted node is the only reader of the chain's output, the graph appends it (its
converter and context) to ``node.absorbed`` and skips it; the converter, plain and prepared,
then returns what the absorbed converters would have made of its output (``apply_absorbed``:
the same numbers and autograd graph), typically in one kernel call.
"""
import bisect
import functools

__all__ = ["converter", "lookup", "registered", "NodeContext", "preparer", "compile_node",
           "absorbs", "apply_absorbed"]

# (domain, op_type) -> sorted [(since_version, fn)]
_CONVERTERS = {}


def _domain(domain):
    return "" if domain in ("", "ai.onnx") else domain


def converter(op_type, *since_versions, domain=""):
    """Register the decorated function for ``op_type`` at each of ``since_versions`` (the
    opsets where ONNX introduced the definitions it implements)."""
    if not since_versions:
        raise TypeError(f"converter({op_type!r}) needs at least one since_version")

    def register(fn):
        entries = _CONVERTERS.setdefault((_domain(domain), op_type), [])
        for version in since_versions:
            if any(v == version for v, _ in entries):
                raise ValueError(f"a converter for {op_type} since opset {version} exists")
            bisect.insort(entries, (version, fn), key=lambda e: e[0])
        return fn
    return register


def lookup(domain, op_type, opset):
    """The converter for ``op_type`` in a model importing ``opset`` of ``domain``, or None."""
    entries = _CONVERTERS.get((_domain(domain), op_type))
    if not entries or opset is None:
        return None
    i = bisect.bisect_right([v for v, _ in entries], opset)
    return entries[i - 1][1] if i else None


def preparer(fn):
    """Register the decorated ``prepare(node)`` as converter ``fn``'s preparation step: it
    runs once per node when a graph is loaded and returns a callable taking the node's
    inputs, equivalent to ``functools.partial(fn, node)`` with the attribute-derived values
    computed once, or None to use ``fn`` itself."""
    def register(prepare):
        fn.prepare = prepare
        return prepare
    return register


def absorbs(fn, accept):
    """Declare that converter ``fn`` can apply following nodes itself: ``accept(absorbed,
    follower)`` says whether it takes ``follower`` (a NodeContext of one input and one output,
    the only reader of the chain's last output) after the op types ``absorbed`` (a tuple) it
    has taken so far. The graph records each taken node in ``node.absorbed`` and skips it."""
    fn.absorbs = accept
    return fn


def apply_absorbed(node, y):
    """``y`` through the converters of the nodes ``node`` absorbed, in order (the unfused
    path: the numbers and autograd graph of running those nodes)."""
    for fn, ctx in node.absorbed:
        y = fn(ctx, y)
    return y


def compile_node(fn, node):
    """The callable a graph runs for ``node`` (its inputs as arguments): ``fn``'s prepared
    form when it has one that accepts the node, else ``fn`` bound to the node."""
    prepare = getattr(fn, "prepare", None)
    if prepare is not None:
        try:
            run = prepare(node)
        except Exception:
            # attributes the preparation does not understand: the converter itself runs and
            # reports them (as a FormatError naming the node) when the node is evaluated
            run = None
        if run is not None:
            return run
    return functools.partial(fn, node)


def registered():
    """{(domain, op_type): [since_version, ...]} of every converter (for docs and tests)."""
    return {key: [v for v, _ in entries] for key, entries in sorted(_CONVERTERS.items())}


class NodeContext:
    """What a converter may know about its node besides the input tensors."""

    __slots__ = ("name", "op_type", "domain", "opset", "attrs", "num_outputs", "module",
                 "input_names", "output_names", "absorbed", "absorbed_into")

    def __init__(self, node, opset, module, attrs):
        self.name = node.name
        self.op_type = node.op_type
        self.domain = _domain(node.domain)
        self.opset = opset
        self.attrs = attrs
        self.num_outputs = len(node.output)
        self.module = module           # a weakref to the OnnxModule (no reference cycle)
        self.input_names = list(node.input)
        self.output_names = list(node.output)
        self.absorbed = ()             # (converter, context) of the following nodes it applies
        self.absorbed_into = False     # True: an earlier node applies this one (it is skipped)

    @property
    def absorbed_ops(self):
        """The op types of the nodes this node applies after its own op, in order."""
        return tuple(ctx.op_type for _, ctx in self.absorbed)

    def attr(self, name, default=None):
        """The attribute's value (ints, floats, str, lists, rt tensors for TENSOR
        attributes), or ``default`` when the node does not set it."""
        return self.attrs.get(name, default)

    def has(self, name):
        return name in self.attrs

    @property
    def training(self):
        module = self.module() if self.module is not None else None
        return module is not None and module.training

    def error(self, message):
        """A FormatError naming this node (for attribute or input combinations that the
        ONNX specification forbids)."""
        from rt_import.errors import FormatError
        return FormatError(f"ONNX node {self.name or '<unnamed>'} ({self.op_type}): {message}")
