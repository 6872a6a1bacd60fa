"""Mutated ONNX models: ``rt_import.load_onnx(bytes)`` either loads them (a mutation can be
harmless) or raises FormatError / UnsupportedOperatorError; a model that loads, run on a
valid input, either runs or raises FormatError. Never another exception type, a crash, a
hang or a huge allocation. Deterministic seeds; 700 mutants of four valid models built with
``onnx.helper`` (each mutant that loads is run in inference and in training mode):

* ``mlp``: Gemm / Relu / Gemm;
* ``cnn``: Conv / BatchNormalization / Relu / MaxPool / Flatten / Gemm;
* ``shapes``: Reshape / Expand / Tile / ConstantOfShape / Slice / Gather / Range / Concat, every
  shape, index and range coming from constant inputs (initializers and a Constant node);
* ``mixed``: float16 and int64 initializers (MatMul, Gather, Add, Cast, Mul).

The mutations: bit flips and byte overwrites of the serialized model, truncation at many
points, and structured protobuf edits: negative or huge dims, raw_data whose length does not
match the shape, wrong data types, a node input nothing produces, duplicated outputs,
cycles, dropped and reordered nodes, attributes of the wrong type, missing or with extreme
values, huge values in shape-giving constant inputs (so that Expand / Tile / ConstantOfShape /
Reshape / Range would allocate gigabytes), opset 0 / 10000 and unknown domains, and operator
swaps (a node's op_type replaced by another supported operator).

Every case runs under a time budget (``signal.setitimer``, and ``faulthandler`` as the last
resort for a hang in C code), with the memory traced (``tracemalloc`` for numpy,
``rt_tensor.memory.stats()`` for rt's pool) and asserted small: a declared size the model
cannot back must be refused before it is allocated. On Linux the address space is also
capped a few GiB above what the process holds, so a regression fails with MemoryError
instead of taking the machine's memory.
"""
import contextlib
import faulthandler
import functools
import signal
import sys
import tracemalloc
import warnings

import numpy as np
import onnx
import pytest
from onnx import TensorProto as TP
from onnx import helper, numpy_helper

import rt_tensor as rtt
import rt_import
from rt_import import FormatError, UnsupportedOperatorError

try:
    import resource
except ImportError:          # not on Windows
    resource = None

#: Seconds a case may take (load and run); a shared CI machine is slow, the cases are ms.
CASE_SECONDS = 30
#: Bytes a case may allocate (numpy traced by tracemalloc, rt's pool by its stats); the
#: models hold a few KiB, so anything near this is a declared size acted upon.
MAX_CASE_BYTES = 64 << 20

# Above rt-import's cap of 2**31 elements per node output (ops/shape.py, ops/misc.py
# MAX_ELEMENTS) whatever they multiply with, so every one of them must be refused
HUGE = [2 ** 32 + 1, 2 ** 40, 10 ** 12, 2 ** 62, 2 ** 63 - 1]
EXTREME = HUGE + [-1, -2, -(2 ** 63), 0]


# ---- the valid models -------------------------------------------------------------------------

def _init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def _model(nodes, name, inputs, outputs, inits, opset):
    graph = helper.make_graph(nodes, name, inputs, outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _mlp():
    g = np.random.default_rng(1)
    nodes = [helper.make_node("Gemm", ["x", "fc1.weight", "fc1.bias"], ["h"], transB=1,
                              name="fc1"),
             helper.make_node("Relu", ["h"], ["a"], name="relu"),
             helper.make_node("Gemm", ["a", "fc2.weight", "fc2.bias"], ["y"], transB=1,
                              alpha=1.0, beta=1.0, name="fc2")]
    inits = [_init("fc1.weight", g.standard_normal((8, 4)).astype(np.float32)),
             _init("fc1.bias", g.standard_normal(8).astype(np.float32)),
             _init("fc2.weight", g.standard_normal((3, 8)).astype(np.float32)),
             _init("fc2.bias", g.standard_normal(3).astype(np.float32))]
    model = _model(nodes, "mlp", [helper.make_tensor_value_info("x", TP.FLOAT, ["N", 4])],
                   [helper.make_tensor_value_info("y", TP.FLOAT, ["N", 3])], inits, 17)
    return model, {"x": g.standard_normal((2, 4)).astype(np.float32)}


def _cnn():
    g = np.random.default_rng(2)
    nodes = [helper.make_node("Conv", ["x", "conv.weight", "conv.bias"], ["c"],
                              kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1],
                              dilations=[1, 1], group=1, name="conv"),
             helper.make_node("BatchNormalization", ["c", "bn.weight", "bn.bias",
                                                     "bn.running_mean", "bn.running_var"],
                              ["b"], epsilon=1e-5, name="bn"),
             helper.make_node("Relu", ["b"], ["r"], name="relu"),
             helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2],
                              name="pool"),
             helper.make_node("Flatten", ["p"], ["f"], axis=1, name="flatten"),
             helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["y"], transB=1,
                              name="fc")]
    inits = [_init("conv.weight", g.standard_normal((4, 2, 3, 3)).astype(np.float32)),
             _init("conv.bias", g.standard_normal(4).astype(np.float32)),
             _init("bn.weight", g.random(4).astype(np.float32) + 0.5),
             _init("bn.bias", g.standard_normal(4).astype(np.float32)),
             _init("bn.running_mean", g.standard_normal(4).astype(np.float32)),
             _init("bn.running_var", g.random(4).astype(np.float32) + 0.5),
             _init("fc.weight", g.standard_normal((5, 36)).astype(np.float32)),
             _init("fc.bias", g.standard_normal(5).astype(np.float32))]
    model = _model(nodes, "cnn", [helper.make_tensor_value_info("x", TP.FLOAT, [1, 2, 6, 6])],
                   [helper.make_tensor_value_info("y", TP.FLOAT, [1, 5])], inits, 15)
    return model, {"x": g.standard_normal((1, 2, 6, 6)).astype(np.float32)}


#: The shapes model's shape-giving constants (initializers; "eshape" is a Constant node).
SHAPE_INPUTS = ["rshape", "repeats", "cshape", "starts", "ends", "axes", "steps", "gidx",
                "rstart", "rlimit", "rdelta", "rshape2", "eshape"]


def _shapes():
    g = np.random.default_rng(3)

    def i64(v):
        return np.array(v, np.int64)
    nodes = [
        helper.make_node("Constant", [], ["eshape"], name="eshape_const",
                         value=helper.make_tensor("v", TP.INT64, [3], [2, 3, 2])),
        helper.make_node("Reshape", ["x", "rshape"], ["r"], name="reshape"),       # [3, 2]
        helper.make_node("Expand", ["r", "eshape"], ["e"], name="expand"),         # [2, 3, 2]
        helper.make_node("Tile", ["e", "repeats"], ["t"], name="tile"),            # [2, 6, 2]
        helper.make_node("ConstantOfShape", ["cshape"], ["c"], name="cos",
                         value=helper.make_tensor("v", TP.FLOAT, [1], [0.5])),     # [2, 6, 2]
        helper.make_node("Add", ["t", "c"], ["a"], name="add"),
        helper.make_node("Slice", ["a", "starts", "ends", "axes", "steps"], ["s"],
                         name="slice"),                                            # [2, 2, 2]
        helper.make_node("Gather", ["s", "gidx"], ["gt"], axis=2, name="gather"),  # [2, 2, 2]
        helper.make_node("Range", ["rstart", "rlimit", "rdelta"], ["rg"], name="range"),
        helper.make_node("Reshape", ["rg", "rshape2"], ["rg2"], name="reshape2"),  # [2, 2, 2]
        helper.make_node("Concat", ["gt", "rg2"], ["y"], axis=0, name="concat"),   # [4, 2, 2]
    ]
    inits = [_init("rshape", i64([3, -1])), _init("repeats", i64([1, 2, 1])),
             _init("cshape", i64([2, 6, 2])), _init("starts", i64([1])),
             _init("ends", i64([5])), _init("axes", i64([1])), _init("steps", i64([2])),
             _init("gidx", i64([1, 0])), _init("rstart", np.array(0, np.float32)),
             _init("rlimit", np.array(8, np.float32)), _init("rdelta", np.array(1, np.float32)),
             _init("rshape2", i64([2, 2, 2]))]
    model = _model(nodes, "shapes", [helper.make_tensor_value_info("x", TP.FLOAT, [2, 3])],
                   [helper.make_tensor_value_info("y", TP.FLOAT, [4, 2, 2])], inits, 13)
    return model, {"x": g.standard_normal((2, 3)).astype(np.float32)}


def _mixed():
    g = np.random.default_rng(4)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["mm"], name="matmul"),
             helper.make_node("Gather", ["emb", "ids"], ["ge"], axis=0, name="embed"),
             helper.make_node("Add", ["mm", "ge"], ["s"], name="add1"),
             helper.make_node("Add", ["s", "b"], ["s2"], name="add2"),
             helper.make_node("Cast", ["s2"], ["y"], to=TP.FLOAT, name="cast"),
             helper.make_node("Mul", ["ids", "scale"], ["ids2"], name="mul"),
             helper.make_node("Add", ["ids2", "offset"], ["z"], name="add3")]
    inits = [_init("w", g.standard_normal((4, 3)).astype(np.float16)),
             _init("emb", g.standard_normal((10, 3)).astype(np.float16)),
             _init("b", g.standard_normal(3).astype(np.float16)),
             _init("ids", np.array([3, 7], np.int64)),
             _init("scale", np.array(2, np.int64)),
             _init("offset", np.array([-1, 1 << 40], np.int64))]
    model = _model(nodes, "mixed", [helper.make_tensor_value_info("x", TP.FLOAT16, [2, 4])],
                   [helper.make_tensor_value_info("y", TP.FLOAT, [2, 3]),
                    helper.make_tensor_value_info("z", TP.INT64, [2])], inits, 17)
    return model, {"x": g.standard_normal((2, 4)).astype(np.float16)}


_BUILDERS = {"mlp": _mlp, "cnn": _cnn, "shapes": _shapes, "mixed": _mixed}
MODELS = list(_BUILDERS)


@functools.cache
def _base(name):
    model, feed = _BUILDERS[name]()
    return model.SerializeToString(), feed


def base_bytes(name):
    return _base(name)[0]


def base_model(name):
    """A fresh ModelProto of the named valid model (to be mutated)."""
    return onnx.load_model_from_string(base_bytes(name))


def base_feed(name):
    return _base(name)[1]


# ---- the check --------------------------------------------------------------------------------

class CaseTimeout(BaseException):
    """A case ran past CASE_SECONDS (a BaseException so no ``except Exception`` swallows it)."""


@contextlib.contextmanager
def deadline(seconds):
    """Interrupt the case after ``seconds``; a hang inside C code (which a signal handler
    cannot interrupt) ends the process with every thread's traceback after 3x that."""
    def on_alarm(signum, frame):
        raise CaseTimeout(f"the case ran longer than {seconds} s")
    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    faulthandler.dump_traceback_later(3 * seconds, exit=True)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        faulthandler.cancel_dump_traceback_later()


def _address_space():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


@contextlib.contextmanager
def capped_address_space(margin=4 << 30):
    """A safety net on Linux: the process may map at most ``margin`` more bytes while the
    case runs, so an allocation the checks below would flag fails instead of succeeding."""
    current = _address_space() if resource is not None and sys.platform == "linux" else None
    if current is None:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = current + margin
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    if soft != resource.RLIM_INFINITY:
        cap = min(cap, soft)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


_NP_TYPES = {TP.FLOAT: np.float32, TP.DOUBLE: np.float64, TP.FLOAT16: np.float16,
             TP.INT64: np.int64, TP.INT32: np.int32, TP.INT8: np.int8, TP.UINT8: np.uint8,
             TP.INT16: np.int16, TP.BOOL: np.bool_}


def feeds_for(module, data, name):
    """Inputs for the loaded module: the valid model's input by name, else zeros of the
    declared type and shape (None when the mutant declares nothing runnable)."""
    declared = {v.name: v for v in onnx.load_model_from_string(data).graph.input}
    feed = base_feed(name)
    out = []
    for n in module.input_names:
        if n in feed:
            out.append(feed[n])
            continue
        v = declared.get(n)
        if v is None or not v.type.HasField("tensor_type"):
            return None
        t = v.type.tensor_type
        if t.elem_type not in _NP_TYPES or not t.HasField("shape"):
            return None
        dims = [d.dim_value if d.HasField("dim_value") else 1 for d in t.shape.dim]
        if any(d < 0 or d > 64 for d in dims) or len(dims) > 6:
            return None
        out.append(np.zeros(dims, _NP_TYPES[t.elem_type]))
    return out


def _touch(out):
    """Read the first and last element of every output (a view outside its storage would
    show)."""
    for o in out if isinstance(out, tuple) else (out,):
        assert isinstance(o, rtt.Tensor), type(o)
        if o.numel():
            for idx in ((0,) * o.dim(), tuple(s - 1 for s in o.shape)):
                o.detach()[idx].item()


def _load_and_run(data, name):
    try:
        module = rt_import.load_onnx(data)
    except (FormatError, UnsupportedOperatorError):
        return "refused"
    inputs = feeds_for(module, data, name)
    if inputs is None:
        return "loaded"
    outcomes = []
    for training in (False, True):        # inference, then BatchNormalization's batch path
        module.train(training)
        try:
            out = module(*inputs)
        except FormatError:
            outcomes.append("refused at run")
            continue
        _touch(out)
        outcomes.append("ran")
    return "/".join(outcomes)


def check(data, name):
    """Load and run one mutant of the model ``name``; the outcome, or an AssertionError /
    the unexpected exception itself."""
    rtt.memory.reset_peak_stats()
    rt_before = rtt.memory.stats()["in_use_bytes"]
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        with capped_address_space(), deadline(CASE_SECONDS):
            outcome = _load_and_run(data, name)
        numpy_peak = tracemalloc.get_traced_memory()[1]
    finally:
        if not tracing:
            tracemalloc.stop()
    rt_peak = rtt.memory.stats()["peak_bytes"] - rt_before
    assert rt_peak < MAX_CASE_BYTES, f"rt allocated {rt_peak} bytes ({outcome})"
    assert numpy_peak < MAX_CASE_BYTES, f"{numpy_peak} bytes traced ({outcome})"
    return outcome


def check_model(model, name):
    return check(model.SerializeToString(), name)


# ---- mutations --------------------------------------------------------------------------------

def flip_bits(data, rng, nflips):
    b = bytearray(data)
    for _ in range(nflips):
        i = int(rng.integers(len(b)))
        b[i] ^= 1 << int(rng.integers(8))
    return bytes(b)


def overwrite(data, rng):
    """1-3 bytes set to values that mean something to protobuf (tags, varint continuation,
    wire types, lengths)."""
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        i = int(rng.integers(len(b)))
        b[i] = int(rng.choice([0x00, 0xFF, 0x7F, 0x80, 0x08, 0x0A, 0x12, 0x1A, 0x3A, 0x42]))
    return bytes(b)


def _pick(rng, seq):
    return seq[int(rng.integers(len(seq)))]


def _tensors(model):
    """Every TensorProto of the model: initializers and tensor attributes."""
    out = list(model.graph.initializer)
    for node in model.graph.node:
        for a in node.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                out.append(a.t)
    return out


def mutate_dims(model, rng):
    t = _pick(rng, _tensors(model))
    kind = int(rng.integers(4))
    if kind == 0 and len(t.dims):                 # one dim negative, zero or huge
        t.dims[int(rng.integers(len(t.dims)))] = int(_pick(rng, EXTREME))
    elif kind == 1:                               # an extra huge (or 0) dim
        t.dims.insert(int(rng.integers(len(t.dims) + 1)), int(_pick(rng, [0] + HUGE)))
    elif kind == 2 and len(t.dims):               # a dim dropped
        del t.dims[int(rng.integers(len(t.dims)))]
    else:                                         # the dims permuted / scaled
        dims = list(t.dims)
        rng.shuffle(dims)
        if dims:                                  # (kept within int64)
            dims[0] = max(min(dims[0] * int(_pick(rng, [2, 3, 1 << 20])), 2 ** 63 - 1),
                          -(2 ** 63))
        del t.dims[:]
        t.dims.extend(dims)


def mutate_raw_data(model, rng):
    t = _pick(rng, _tensors(model))
    if not t.HasField("raw_data"):
        try:
            t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t), t.name))
        except Exception:                         # an earlier edit broke it already
            t.raw_data = b"\x00" * 8
    raw = t.raw_data
    kind = int(rng.integers(5))
    if kind == 0:                                 # shorter
        t.raw_data = raw[:int(rng.integers(len(raw)))] if raw else b""
    elif kind == 1:                               # longer
        t.raw_data = raw + bytes(int(rng.integers(1, 9)))
    elif kind == 2:                               # odd length
        t.raw_data = raw + b"\x01"
    elif kind == 3:                               # raw_data and a typed field both set
        t.int64_data.extend([1, 2])
    else:                                         # typed field with the wrong count
        t.ClearField("raw_data")
        field = helper.tensor_dtype_to_field(helper.tensor_dtype_to_storage_tensor_dtype(
            t.data_type))
        getattr(t, field).extend([1] * int(rng.integers(0, 3)))


ALL_TYPES = [v for _, v in TP.DataType.items()] + [99, 1000]


def mutate_data_type(model, rng):
    kind = int(rng.integers(4))
    if kind < 2:
        t = _pick(rng, _tensors(model))
        t.data_type = int(_pick(rng, ALL_TYPES))
    elif kind == 2:
        v = _pick(rng, list(model.graph.input) + list(model.graph.output))
        v.type.tensor_type.elem_type = int(_pick(rng, ALL_TYPES))
    else:                                         # a Cast's "to", or any int attribute
        attrs = [a for n in model.graph.node for a in n.attribute
                 if a.type == onnx.AttributeProto.INT]
        if attrs:
            _pick(rng, attrs).i = int(_pick(rng, ALL_TYPES))
        else:
            _pick(rng, _tensors(model)).data_type = int(_pick(rng, ALL_TYPES))


def _all_values(model):
    names = [v.name for v in model.graph.input] + [t.name for t in model.graph.initializer]
    for n in model.graph.node:
        names += list(n.output)
    return names


def mutate_graph(model, rng):
    g = model.graph
    nodes = g.node
    i = int(rng.integers(len(nodes)))
    node = nodes[i]
    kind = int(rng.integers(10))
    if kind == 0 and len(node.input):             # an input no node produces
        node.input[int(rng.integers(len(node.input)))] = "nowhere"
    elif kind == 1:                               # two nodes write one value
        j = int(rng.integers(len(nodes)))
        nodes[j].output[0] = nodes[i].output[0]
    elif kind == 2:                               # a node writes a graph input/initializer
        node.output[0] = _pick(rng, [v.name for v in g.input] +
                               [t.name for t in g.initializer])
    elif kind == 3 and len(node.input):           # a cycle: reads itself or a later node
        j = int(rng.integers(i, len(nodes)))
        node.input[int(rng.integers(len(node.input)))] = nodes[j].output[0]
    elif kind == 4:                               # a node dropped
        del nodes[i]
    elif kind == 5:                               # two nodes swapped (order broken)
        j = int(rng.integers(len(nodes)))
        a, b = onnx.NodeProto(), onnx.NodeProto()
        a.CopyFrom(nodes[i])
        b.CopyFrom(nodes[j])
        nodes[i].CopyFrom(b)
        nodes[j].CopyFrom(a)
    elif kind == 6:                               # the graph output listed twice / renamed
        if rng.integers(2):
            g.output.append(g.output[0])
        else:
            g.output[0].name = "nowhere"
    elif kind == 7:                               # an input omitted ("") or removed
        if len(node.input):
            k = int(rng.integers(len(node.input)))
            if rng.integers(2):
                node.input[k] = ""
            else:
                del node.input[k]
    elif kind == 8:                               # an extra input / output
        if rng.integers(2):
            node.input.append(_pick(rng, _all_values(model)))
        else:
            node.output.append(f"extra{i}")
    else:                                         # the graph input dropped or duplicated
        if not len(g.input):
            g.input.append(helper.make_tensor_value_info("x", TP.FLOAT, None))
        elif rng.integers(2):
            del g.input[0]
        else:
            g.input.append(g.input[0])


def _attribute_like(name, rng):
    """An attribute named ``name`` of a random type."""
    choice = int(rng.integers(8))
    if choice == 0:
        return helper.make_attribute(name, float(_pick(rng, [0.5, -1.0, 1e30, float("nan")])))
    if choice == 1:
        return helper.make_attribute(name, int(_pick(rng, EXTREME)))
    if choice == 2:
        return helper.make_attribute(name, "bogus")
    if choice == 3:
        return helper.make_attribute(name, [int(_pick(rng, EXTREME))
                                            for _ in range(int(rng.integers(0, 5)))],
                                     attr_type=onnx.AttributeProto.INTS)
    if choice == 4:
        return helper.make_attribute(name, [0.5, 2.0])
    if choice == 5:
        return helper.make_attribute(name, helper.make_tensor("t", TP.FLOAT, [2], [1, 2]))
    if choice == 6:
        return helper.make_attribute(name, ["a", "b"])
    return helper.make_attribute(name, helper.make_graph([], "empty", [], []))


_ATTR_NAMES = ["axis", "transB", "transA", "alpha", "beta", "kernel_shape", "pads", "strides",
               "dilations", "group", "epsilon", "momentum", "to", "value", "ceil_mode",
               "storage_order", "auto_pad", "allowzero", "training_mode", "spatial"]


def mutate_attribute(model, rng):
    node = _pick(rng, model.graph.node)
    attrs = node.attribute
    kind = int(rng.integers(6))
    if kind == 0 and len(attrs):                  # a required (or any) attribute dropped
        del attrs[int(rng.integers(len(attrs)))]
    elif kind == 1 and len(attrs):                # same name, another type
        k = int(rng.integers(len(attrs)))
        attrs[k].CopyFrom(_attribute_like(attrs[k].name, rng))
    elif kind == 2 and len(attrs):                # extreme int / ints values
        a = _pick(rng, attrs)
        if a.type == onnx.AttributeProto.INT:
            a.i = int(_pick(rng, EXTREME))
        elif a.type == onnx.AttributeProto.INTS and len(a.ints):
            a.ints[int(rng.integers(len(a.ints)))] = int(_pick(rng, EXTREME))
        elif a.type == onnx.AttributeProto.FLOAT:
            a.f = float(_pick(rng, [float("nan"), float("inf"), -1.0, 0.0, 1e38]))
        else:
            a.CopyFrom(_attribute_like(a.name, rng))
    elif kind == 3 and len(attrs):                # ints of the wrong length
        a = _pick(rng, attrs)
        if a.type == onnx.AttributeProto.INTS:
            if rng.integers(2) and len(a.ints):
                del a.ints[-1]
            else:
                a.ints.extend([1, 1, 1])
        else:
            a.CopyFrom(_attribute_like(a.name, rng))
    elif kind == 4:                               # an attribute the node does not have
        attrs.append(_attribute_like(_pick(rng, _ATTR_NAMES), rng))
    else:                                         # the same attribute twice
        if len(attrs):
            attrs.append(attrs[int(rng.integers(len(attrs)))])
        else:
            attrs.append(_attribute_like("axis", rng))


def mutate_opset(model, rng):
    kind = int(rng.integers(6))
    if kind == 0 and len(model.opset_import):
        model.opset_import[0].version = int(_pick(rng, [0, -1, 1, 5, 10000, 2 ** 62]))
    elif kind == 1:                               # the default domain imported twice
        model.opset_import.append(helper.make_opsetid("", int(_pick(rng, [1, 10, 10000]))))
    elif kind == 2:                               # no opset import at all
        del model.opset_import[:]
    elif kind == 3:                               # a node in a domain rt does not know
        node = _pick(rng, model.graph.node)
        node.domain = _pick(rng, ["com.example", "ai.onnx.ml", "com.microsoft", "\xff"])
        if rng.integers(2):
            model.opset_import.append(helper.make_opsetid(node.domain, 1))
    elif kind == 4:                               # an unknown domain imported (unused)
        model.opset_import.append(helper.make_opsetid("com.example",
                                                      int(_pick(rng, [0, 1, 10000]))))
    else:                                         # an unknown IR version
        model.ir_version = int(_pick(rng, [0, 1, 2, 3, 100, 2 ** 62]))


SWAP_OPS = ["Conv", "Gemm", "MatMul", "Relu", "Add", "Reshape", "Expand", "Tile", "Concat",
            "Slice", "Gather", "MaxPool", "AveragePool", "BatchNormalization", "Flatten",
            "Range", "ConstantOfShape", "Cast", "Softmax", "Transpose", "Split", "Pad",
            "Squeeze", "Unsqueeze", "ReduceSum", "Where", "Einsum", "Resize", "CumSum",
            "Trilu", "GlobalAveragePool", "LayerNormalization", "Clip", "Pow", "Identity",
            "Shape", "Size", "ArgMax", "Dropout", "Sum"]


def mutate_op_type(model, rng):
    node = _pick(rng, model.graph.node)
    node.op_type = _pick(rng, SWAP_OPS)
    if rng.integers(2):                           # and a neighbour's attributes
        other = _pick(rng, model.graph.node)
        del node.attribute[:]
        node.attribute.extend(other.attribute)


def _shape_tensor(model, name):
    for t in model.graph.initializer:
        if t.name == name:
            return t
    for n in model.graph.node:
        if name in n.output and n.op_type == "Constant":
            return n.attribute[0].t
    raise KeyError(name)


def mutate_shape_values(model, rng):
    """Huge (or negative, or NaN) values in the shapes model's shape-giving constants."""
    name = _pick(rng, SHAPE_INPUTS)
    t = _shape_tensor(model, name)
    a = numpy_helper.to_array(t).copy()
    if a.dtype.kind == "f":                       # Range: a huge count or non-finite values
        v = _pick(rng, [1e12, 3e9, -1e12, 1e-12, 1e30, float("inf"), float("nan")])
        new = np.array(v, a.dtype)
    else:
        new = a.reshape(-1).copy()
        kind = int(rng.integers(3))
        if kind == 0 and new.size:                # one value extreme
            new[int(rng.integers(new.size))] = int(_pick(rng, EXTREME))
        elif kind == 1 and new.size:              # every value huge
            new[:] = int(_pick(rng, HUGE))
        else:                                     # another length, huge values
            new = np.array([int(_pick(rng, HUGE + [1, 2]))
                            for _ in range(int(rng.integers(1, 8)))], np.int64)
        new = new.reshape(a.shape) if new.size == a.size else new
    t.CopyFrom(numpy_helper.from_array(new, t.name))


# ---- the valid models load and agree with the ONNX reference --------------------------------

@pytest.mark.parametrize("name", MODELS)
def test_base_model_loads_runs_and_matches_the_reference(name):
    from onnx.reference import ReferenceEvaluator
    model = base_model(name)
    onnx.checker.check_model(model, full_check=True)
    assert check(base_bytes(name), name) == "ran/ran"
    module = rt_import.load_onnx(base_bytes(name))
    module.eval()
    got = module(*base_feed(name).values())
    got = got if isinstance(got, tuple) else (got,)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = ReferenceEvaluator(model).run(None, base_feed(name))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.detach().numpy(), w, rtol=1e-3, atol=1e-3)


# ---- raw mutations of the serialized bytes ----------------------------------------------------

def _cases(per_model):
    return [(name, seed) for name in MODELS for seed in range(per_model)]


@pytest.mark.parametrize("name,seed", _cases(40))
def test_bit_flips(name, seed):
    rng = np.random.default_rng(100_000 + 1000 * MODELS.index(name) + seed)
    check(flip_bits(base_bytes(name), rng, int(rng.integers(1, 5))), name)


@pytest.mark.parametrize("name,seed", _cases(20))
def test_byte_overwrites(name, seed):
    rng = np.random.default_rng(200_000 + 1000 * MODELS.index(name) + seed)
    check(overwrite(base_bytes(name), rng), name)


@pytest.mark.parametrize("name,seed", _cases(20))
def test_truncation(name, seed):
    data = base_bytes(name)
    # one cut in each twentieth of the file (0 bytes .. one short of the whole)
    rng = np.random.default_rng(250_000 + 1000 * MODELS.index(name) + seed)
    lo, hi = seed * len(data) // 20, (seed + 1) * len(data) // 20
    check(data[:int(rng.integers(lo, hi))], name)


# ---- structured protobuf edits ----------------------------------------------------------------

_STRUCTURED = {"dims": (mutate_dims, 12), "raw_data": (mutate_raw_data, 10),
               "data_type": (mutate_data_type, 10), "graph": (mutate_graph, 14),
               "attribute": (mutate_attribute, 14), "opset": (mutate_opset, 8),
               "op_type": (mutate_op_type, 12)}


def _structured_cases():
    return [(kind, name, seed) for kind, (_, n) in _STRUCTURED.items()
            for name in MODELS for seed in range(n)]


@pytest.mark.parametrize("kind,name,seed", _structured_cases())
def test_structured_mutations(kind, name, seed):
    mutate, _ = _STRUCTURED[kind]
    rng = np.random.default_rng([300_000, list(_STRUCTURED).index(kind),
                                 MODELS.index(name), seed])
    model = base_model(name)
    for _ in range(int(rng.integers(1, 3))):      # one or two edits of the kind
        mutate(model, rng)
    check_model(model, name)


@pytest.mark.parametrize("seed", range(60))
def test_huge_shape_values(seed):
    rng = np.random.default_rng([400_000, seed])
    model = base_model("shapes")
    for _ in range(int(rng.integers(1, 3))):
        mutate_shape_values(model, rng)
    check_model(model, "shapes")


def test_case_count():
    """The issue asks for at least 600 ONNX cases (besides the base models)."""
    n = (len(_cases(40)) + len(_cases(20)) * 2 + len(_structured_cases()) + 60)
    assert n >= 600, n


# ---- the harness notices what it is there to notice ------------------------------------------

def _one_node(op, inputs, feed=("x",), opset=17, n_outputs=1, **attrs):
    """A one-node model as bytes: ``inputs`` maps the node's inputs, in order, to arrays;
    the names in ``feed`` are graph inputs, the others initializers."""
    node = helper.make_node(op, list(inputs), [f"y{i}" for i in range(n_outputs)],
                            name=op.lower(), **attrs)
    types = {np.dtype(v): k for k, v in _NP_TYPES.items()}
    graph_inputs = [helper.make_tensor_value_info(n, types[np.asarray(a).dtype],
                                                  np.shape(a))
                    for n, a in inputs.items() if n in feed]
    # the checker wants a typed output with a shape; nothing infers it from the node, so
    # symbolic dimensions of the first input's rank do
    rank = max(np.ndim(next(iter(inputs.values()))), 1)
    outputs = [helper.make_tensor_value_info(f"y{i}", TP.FLOAT, [f"d{k}" for k in range(rank)])
               for i in range(n_outputs)]
    inits = [_init(n, a) for n, a in inputs.items() if n not in feed]
    return _model([node], op, graph_inputs, outputs, inits, opset).SerializeToString()


def _run(data, *feed):
    module = rt_import.load_onnx(data)
    module.eval()
    return module(*feed).detach()


def test_the_harness_flags_a_large_allocation():
    # 2**25 float32 zeros (128 MiB) from the rt pool; 2**24 int64 values (128 MiB) in numpy
    big = _one_node("ConstantOfShape", {"s": np.array([2 ** 25], np.int64)}, feed=())
    with pytest.raises(AssertionError, match="rt allocated"):
        check(big, "mlp")
    big = _one_node("Range", {"a": np.array(0, np.int64), "b": np.array(2 ** 24, np.int64),
                              "d": np.array(1, np.int64)}, feed=())
    with pytest.raises(AssertionError, match="bytes"):
        check(big, "mlp")


def test_the_harness_interrupts_a_long_case():
    with pytest.raises(CaseTimeout):
        with deadline(0.2):
            while True:
                pass


# ---- regressions: what the fuzz found ---------------------------------------------------------

def test_regression_unknown_data_type_code():
    # graph.py named the type with DataType.Name(), which raises ValueError for a code the
    # enum does not have (a byte overwrite makes one)
    model = base_model("mlp")
    model.graph.initializer[0].data_type = 1000
    with pytest.raises(FormatError, match="#1000"):
        rt_import.load_onnx(model.SerializeToString())
    assert check_model(model, "mlp") == "refused"


def test_regression_shapes_that_do_not_broadcast():
    # Tile's repeats [1, 3, 1] make Add's operands [2, 9, 2] and [2, 6, 2]: rt's kernel
    # raised RuntimeError
    model = base_model("shapes")
    _shape_tensor(model, "repeats").CopyFrom(_init("repeats", np.array([1, 3, 1], np.int64)))
    x = base_feed("shapes")["x"]
    with pytest.raises(FormatError, match=r"\(Add\).*do not broadcast"):
        _run(model.SerializeToString(), x)
    a = np.ones((2, 3), np.float32)
    b = np.ones(4, np.float32)
    for op, inputs in (("Add", {"x": a, "b": b}), ("Sum", {"x": a, "b": b, "c": a}),
                       ("Where", {"x": a > 0, "a": a, "b": b})):
        with pytest.raises(FormatError, match="do not broadcast"):
            _run(_one_node(op, inputs), inputs["x"])
    assert _run(_one_node("Add", {"x": a, "b": b[:3]}), a).shape == (2, 3)


def test_regression_concat_sizes_outside_the_axis():
    # rt.cat raised RuntimeError for inputs whose other dimensions differ
    a, b = np.ones((2, 3), np.float32), np.zeros((2, 4), np.float32)
    with pytest.raises(FormatError, match="differ outside the concatenation axis 0"):
        _run(_one_node("Concat", {"x": a, "b": b}, axis=0), a)
    out = _run(_one_node("Concat", {"x": a, "b": b}, axis=-1), a)
    np.testing.assert_array_equal(out.numpy(), np.concatenate([a, b], axis=1))


@pytest.mark.parametrize("step", [2 ** 62, 2 ** 63 - 1])
def test_regression_slice_with_a_huge_step(step):
    # the slice's stop start + len * step overflowed rt's int64 (OverflowError)
    x = np.arange(10, dtype=np.float32).reshape(2, 5)
    inputs = {"x": x, "starts": np.array([1], np.int64), "ends": np.array([5], np.int64),
              "axes": np.array([1], np.int64), "steps": np.array([step], np.int64)}
    out = _run(_one_node("Slice", inputs), x)
    np.testing.assert_array_equal(out.numpy(), x[:, 1:5:step])


def test_regression_matmul_operands_that_do_not_fit():
    # rt.matmul raised RuntimeError for mismatched sizes and element types
    x = np.ones((2, 4), np.float32)
    for w, match in ((np.ones((3, 4), np.float32), "cannot be multiplied"),
                     (np.ones((4, 3), np.float16), "one element type")):
        with pytest.raises(FormatError, match=match):
            _run(_one_node("MatMul", {"x": x, "w": w}), x)
    x = np.ones((2, 2, 4), np.float32)
    with pytest.raises(FormatError, match="cannot be multiplied"):
        _run(_one_node("MatMul", {"x": x, "w": np.ones((3, 4, 5), np.float32)}), x)
    x = np.ones((2, 1, 1, 4), np.float32)
    w = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    np.testing.assert_array_equal(_run(_one_node("MatMul", {"x": x, "w": w}), x).numpy(),
                                  np.matmul(x, w))


@pytest.mark.parametrize("dtype", [np.float16, np.int64])
def test_regression_gemm_element_types(dtype):
    # torch.nn.Linear's layout with a weight (or bias) of another type: RuntimeError from
    # the matrix product
    x = np.ones((2, 4), np.float32)
    w, b = np.ones((3, 4), np.float32), np.ones(3, np.float32)
    for inputs in ({"x": x, "w": w.astype(dtype), "b": b}, {"x": x, "w": w, "b": b.astype(dtype)}):
        with pytest.raises(FormatError, match="one element type"):
            _run(_one_node("Gemm", inputs, transB=1), x)


def test_regression_conv_dilated_kernel_larger_than_the_input():
    # a huge dilation (or kernel) reached rt's conv, which raised RuntimeError
    x = np.ones((1, 2, 6, 6), np.float32)
    w = np.ones((4, 2, 3, 3), np.float32)
    for attrs in ({"dilations": [1, 2 ** 33]}, {"dilations": [4, 1], "pads": [1, 1, 1, 1]}):
        with pytest.raises(FormatError, match="dilated kernel"):
            _run(_one_node("Conv", {"x": x, "w": w}, **attrs), x)
    with pytest.raises(FormatError, match="dilated kernel"):
        _run(_one_node("Conv", {"x": x, "w": np.ones((4, 2, 7, 7), np.float32)}), x)
    # the largest dilation that fits gives a 1x1 output
    out = _run(_one_node("Conv", {"x": x, "w": w}, dilations=[2, 2], pads=[0, 0, 0, 0]), x)
    assert out.shape == (1, 4, 2, 2)


@pytest.mark.parametrize("epsilon", [-1.0, float("nan")])
def test_regression_batch_normalization_epsilon(epsilon):
    # rt_nn's batch_norm raised ValueError for a negative epsilon
    x = np.ones((1, 2, 3, 3), np.float32)
    c = np.ones(2, np.float32)
    inputs = {"x": x, "s": c, "b": c, "m": c, "v": c}
    with pytest.raises(FormatError, match="epsilon"):
        _run(_one_node("BatchNormalization", inputs, epsilon=epsilon), x)
