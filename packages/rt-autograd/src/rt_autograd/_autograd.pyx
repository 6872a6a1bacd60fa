# cython: language_level=3
"""The autograd core: the Tensor type with gradients, graph nodes, saved tensors, grad mode
and the backward engine. Derivative formulas live in Python (rt_autograd/_ops/), written in
differentiable ops, so ``create_graph=True`` gives higher-order gradients.

The graph is PyTorch's: every tensor produced by a recorded op points to its ``grad_fn``
Node and its ``output_nr``; a Node points to the Nodes of its inputs through
``next_functions`` ((node, output_nr) per input; ``AccumulateGrad`` for leaves). The engine
(``run_backward``) counts dependencies over the part of the graph it needs, then runs nodes
in topological order (ties broken by creation order, newest first, as PyTorch does),
summing the gradients that reach each output, and un-broadcasts and casts every gradient to
its input's shape and dtype in one place (``_validate``).
"""
from libc.string cimport memcpy

import heapq
import warnings
import weakref

import rt_tensor as _rtt
from rt_tensor._tensor cimport Tensor as BaseTensor, shape_tuple
from rt_tensor._dtype cimport category, dtype_of
from rt_tensor._memory cimport Storage, external_storage

cdef extern from *:
    """
    /* Grad mode is per thread, like PyTorch's: a new thread starts with grad enabled. */
    static __thread int rt_grad_mode_disabled = 0;
    static __thread int rt_inference_mode_on = 0;
    """
    int rt_grad_mode_disabled
    int rt_inference_mode_on


# ---- grad mode ----------------------------------------------------------------------------

cpdef bint is_grad_enabled():
    """Whether operations record the graph in this thread (``torch.is_grad_enabled``)."""
    return not rt_grad_mode_disabled


def _set_grad_enabled(bint mode):
    """Set grad mode for this thread; returns the previous mode."""
    global rt_grad_mode_disabled
    cdef bint prev = not rt_grad_mode_disabled
    rt_grad_mode_disabled = not mode
    return prev


def is_inference_mode_enabled():
    """Whether an ``inference_mode`` block is active in this thread."""
    return bool(rt_inference_mode_on)


def _set_inference_mode(bint mode):
    global rt_inference_mode_on
    cdef bint prev = rt_inference_mode_on
    rt_inference_mode_on = mode
    return prev


cdef inline bint _rg(object x):
    return isinstance(x, Tensor) and (<Tensor>x)._requires_grad


cdef bint needs_grad1(object a):
    return not rt_grad_mode_disabled and _rg(a)


cdef bint needs_grad2(object a, object b):
    return not rt_grad_mode_disabled and (_rg(a) or _rg(b))


def needs_grad(*args):
    """True when grad mode is on and a Tensor among ``args`` (or inside a list/tuple among
    them) requires grad: the op must record the graph."""
    if rt_grad_mode_disabled:
        return False
    for a in args:
        if isinstance(a, Tensor):
            if (<Tensor>a)._requires_grad:
                return True
        elif isinstance(a, (list, tuple)):
            for b in a:
                if isinstance(b, Tensor) and (<Tensor>b)._requires_grad:
                    return True
    return False


# ---- operator table (filled by rt_autograd._ops at import) ---------------------------------
# Tensor's operators are slots and must be defined here; each records through the Python op
# registered under its name when the graph is needed, else runs rt_tensor's kernel directly.
cdef dict _OPS = {}


def _register_operator_ops(dict mapping):
    _OPS.update(mapping)


# Operators whose Function can be applied directly (no Python wrapper in between):
# name -> (Function class, its node class, extra trailing forward arguments).
cdef dict _FAST = {}


def _register_operator_functions(dict mapping):
    """``{"add": (Add, (1,))}``: ``a + b`` records ``Add.apply(a, b, 1)`` directly."""
    for name, (fn_cls, extra) in mapping.items():
        _FAST[name] = (fn_cls, fn_cls._backward_cls, tuple(extra))


cdef object _record2(str name, object a, object b):
    spec = _FAST.get(name)
    if spec is not None:
        return function_apply(spec[0], spec[1], (a, b) + <tuple>spec[2])
    return _op(name)(a, b)


cdef object _record1(str name, object a):
    spec = _FAST.get(name)
    if spec is not None:
        return function_apply(spec[0], spec[1], (a,) + <tuple>spec[2])
    return _op(name)(a)


cdef object _op(str name):
    try:
        return _OPS[name]
    except KeyError:
        raise RuntimeError(f"rt_autograd: no differentiable implementation registered for {name}") from None




cdef bint _differentiable_dtype(object dtype):
    return dtype.is_floating_point or dtype.is_complex


cdef inline bint _differentiable_code(int code) noexcept:
    return category(code) >= 2


def _dtype_error_if_not_differentiable(Tensor t):
    if not _differentiable_dtype(t.dtype):
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")


# ---- the Tensor ---------------------------------------------------------------------------

cdef class Tensor(BaseTensor):
    """``torch.Tensor`` for rt: an ``rt_tensor.Tensor`` that can require grad and record
    the operations applied to it. Every rt op returns this type once rt_autograd is
    imported."""

    def __cinit__(self, *args, **kwargs):
        # tensors made inside inference_mode are inference tensors (PyTorch)
        self._inference = rt_inference_mode_on

    # -- autograd attributes --
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if self._grad_fn is not None and value:
            raise RuntimeError("you can only change requires_grad flags of leaf variables.")
        self._set_requires_grad(bool(value))

    cdef _set_requires_grad(self, bint value):
        if self._grad_fn is not None:
            if not value:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach().")
            return
        if value:
            _dtype_error_if_not_differentiable(self)
            if self._inference and not rt_inference_mode_on:
                raise RuntimeError("Setting requires_grad=True on inference tensor outside "
                                   "InferenceMode is not allowed.")
        self._requires_grad = value

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place (leaves only when turning it off); returns self."""
        self._set_requires_grad(bool(requires_grad))
        return self

    @property
    def is_leaf(self):
        """True for tensors not produced by a recorded op (their ``grad_fn`` is None)."""
        return self._grad_fn is None

    @property
    def grad_fn(self):
        """The Node that produced this tensor, or None for a leaf."""
        return _fresh_grad_fn(self)

    @property
    def output_nr(self):
        return self._output_nr

    @property
    def _base(self):
        return self._view_base

    def _is_view(self):
        return self._view_base is not None

    @property
    def retains_grad(self):
        return self._retains_grad

    @property
    def grad(self):
        """The gradient accumulated by ``backward`` (leaves, and tensors that called
        ``retain_grad``); None until then."""
        if self._grad_fn is not None and not self._retains_grad and self._grad is None:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed "
                "want the .grad field to be populated for a non-leaf Tensor, use .retain_grad() "
                "on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure "
                "you access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 "
                "for more informations.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, BaseTensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if value.dtype != self.dtype:
                raise RuntimeError("assigned grad has data of a different type")
            if tuple(value.shape) != tuple(self.shape):
                raise RuntimeError("assigned grad has data of a different size")
            if not isinstance(value, Tensor):
                value = as_autograd_tensor(value)
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def data(self):
        """This tensor's data without its autograd history: shares memory, not the version
        counter (in-place changes through ``.data`` are invisible to autograd, as in
        PyTorch)."""
        cdef Tensor t = _alias(self)
        cdef Storage st = self._storage
        t._storage = external_storage(st.data, st.nbytes, st)
        return t

    @data.setter
    def data(self, value):
        if not isinstance(value, BaseTensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        cdef BaseTensor src = <BaseTensor>value
        if self._requires_grad and not _differentiable_dtype(src.dtype):
            raise RuntimeError("data set to a tensor that requires gradients must be floating "
                               "point or complex dtype")
        # swap in the other tensor's storage and geometry (torch's `t.data = other`)
        self._storage = src._storage
        self._dtype = src._dtype
        self._ndim = src._ndim
        self._offset = src._offset
        self._numel = src._numel
        memcpy(self._shape, src._shape, sizeof(src._shape[0]) * src._ndim)
        memcpy(self._strides, src._strides, sizeof(src._strides[0]) * src._ndim)

    def detach(self):
        """A new tensor sharing this one's data, outside the graph (``requires_grad=False``)."""
        return _alias(self)

    def detach_(self):
        """Detach this tensor from the graph in place: it becomes a leaf that does not require
        grad."""
        if self._view_base is not None and self._grad_fn is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead. If you are "
                               "using DistributedDataParallel (DDP) for training, and "
                               "gradient_as_bucket_view is set as True, gradients are views of "
                               "DDP buckets, and hence detach_() cannot be called on these "
                               "gradients. To fix this error, please refer to the "
                               "Optimizer.zero_grad() function in torch/optim/optimizer.py as "
                               "the solution.")
        self._grad_fn = None
        self._output_nr = 0
        self._requires_grad = False
        return self

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in ``.grad`` during backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if _fresh_grad_fn(self) is None or self._retains_grad:
            return
        if self._grad_fn._retain_hooks is None:
            self._grad_fn._retain_hooks = {}
        self._grad_fn._retain_hooks[self._output_nr] = weakref.ref(self)
        self._retains_grad = True

    def register_hook(self, hook):
        """Call ``hook(grad)`` when the gradient of this tensor is computed; a non-None return
        value replaces the gradient. Returns a handle with ``remove()``."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        cdef Node node
        cdef list hooks
        if _fresh_grad_fn(self) is not None:
            node = self._grad_fn
            if node._tensor_pre_hooks is None:
                node._tensor_pre_hooks = {}
            hooks = node._tensor_pre_hooks.setdefault(self._output_nr, [])
        else:
            # a leaf keeps its hooks itself: its AccumulateGrad node lives only with a graph
            if self._leaf_hooks is None:
                self._leaf_hooks = []
            hooks = self._leaf_hooks
            if self._accumulator is not None:
                (<Node>self._accumulator)._tensor_pre_hooks = {0: hooks}
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` after the gradient of this leaf has been accumulated into
        its ``.grad`` during ``backward`` (``torch.Tensor.register_post_accumulate_grad_hook``,
        PyTorch 2.1+). The hook receives the tensor, not the gradient, runs in no-grad mode
        (unless ``create_graph``) and its return value is ignored. Leaves only. Returns a
        handle with ``remove()``."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if _fresh_grad_fn(self) is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors")
        cdef AccumulateGrad node = <AccumulateGrad>_grad_accumulator(self)
        if node._post_acc_hooks is None:
            node._post_acc_hooks = []
        node._post_acc_hooks.append(hook)
        return RemovableHandle(node._post_acc_hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute the gradient of this tensor w.r.t. the graph leaves and accumulate it into
        their ``.grad`` (``torch.Tensor.backward``)."""
        from rt_autograd import autograd
        autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def _grad_or_none(self):
        return self._grad

    def is_inference(self):
        """Whether this tensor was created inside ``inference_mode``."""
        return self._inference

    def __repr__(self):
        from rt_tensor import _format
        suffixes = []
        if self._grad_fn is not None:
            suffixes.append(f"grad_fn=<{self._grad_fn.name()}>")
        elif self._requires_grad:
            suffixes.append("requires_grad=True")
        return _format.tensor_repr(self, suffixes)

    def __str__(self):
        return self.__repr__()

    # numpy refuses tensors that require grad, as PyTorch does
    def numpy(self, *, force=False):
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return BaseTensor.numpy(self)

    def __reduce_ex__(self, protocol):
        # pickles as rt_tensor does, plus requires_grad (graph history is not pickled, as torch)
        fn, args = BaseTensor.__reduce_ex__(self, protocol)[:2]
        return (_rebuild, (fn, args, self._requires_grad))

    def __deepcopy__(self, memo):
        if self._grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.  If you were "
                               "attempting to deepcopy a module, this may be because of a "
                               "torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        cdef Tensor new = as_autograd_tensor(BaseTensor.clone(self))
        new._requires_grad = self._requires_grad
        if self._grad is not None:
            new._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = new
        return new

    # -- operators: record through the registered differentiable op when needed --
    def __add__(self, other):
        if needs_grad2(self, other):
            return _arith(ARITH_ADD, self, other, 1)
        return BaseTensor.__add__(self, other)

    def __radd__(self, other):
        if needs_grad2(self, other):
            return _arith(ARITH_ADD, other, self, 1)
        return BaseTensor.__radd__(self, other)

    def __iadd__(self, other):
        return _op("add_")(self, other)

    def __sub__(self, other):
        if needs_grad2(self, other):
            return _arith(ARITH_SUB, self, other, 1)
        return BaseTensor.__sub__(self, other)

    def __rsub__(self, other):
        if needs_grad2(self, other):
            return _arith(ARITH_SUB, other, self, 1)
        return BaseTensor.__rsub__(self, other)

    def __isub__(self, other):
        return _op("sub_")(self, other)

    def __mul__(self, other):
        if needs_grad2(self, other):
            return _arith(ARITH_MUL, self, other, 1)
        return BaseTensor.__mul__(self, other)

    def __rmul__(self, other):
        if needs_grad2(self, other):
            return _arith(ARITH_MUL, other, self, 1)
        return BaseTensor.__rmul__(self, other)

    def __imul__(self, other):
        return _op("mul_")(self, other)

    def __truediv__(self, other):
        if needs_grad2(self, other):
            return _arith(ARITH_DIV, self, other, 1)
        return BaseTensor.__truediv__(self, other)

    def __rtruediv__(self, other):
        if needs_grad2(self, other):
            return _arith(ARITH_DIV, other, self, 1)
        return BaseTensor.__rtruediv__(self, other)

    def __itruediv__(self, other):
        return _op("div_")(self, other)

    def __floordiv__(self, other):
        if needs_grad2(self, other):
            return _op("floor_divide")(self, other)
        return BaseTensor.__floordiv__(self, other)

    def __rfloordiv__(self, other):
        if needs_grad2(self, other):
            return _op("floor_divide")(other, self)
        return BaseTensor.__rfloordiv__(self, other)

    def __mod__(self, other):
        if needs_grad2(self, other):
            return _record2("remainder", self, other)
        return BaseTensor.__mod__(self, other)

    def __rmod__(self, other):
        if needs_grad2(self, other):
            return _record2("remainder", other, self)
        return BaseTensor.__rmod__(self, other)

    def __pow__(self, other, mod=None):
        if needs_grad2(self, other):
            return _record2("pow", self, other)
        return BaseTensor.__pow__(self, other, mod)

    def __rpow__(self, other, mod=None):
        if needs_grad2(self, other):
            return _record2("pow", other, self)
        return BaseTensor.__rpow__(self, other, mod)

    def __ipow__(self, other):
        return _op("pow_")(self, other)

    def __matmul__(self, other):
        if needs_grad2(self, other):
            return _record2("matmul", self, other)
        return BaseTensor.__matmul__(self, other)

    def __rmatmul__(self, other):
        if needs_grad2(self, other):
            return _record2("matmul", other, self)
        return BaseTensor.__rmatmul__(self, other)

    def __neg__(self):
        if needs_grad1(self):
            return _arith(ARITH_NEG, self, None, 1)
        return BaseTensor.__neg__(self)

    def __pos__(self):
        if needs_grad1(self):
            return _op("positive")(self)
        return BaseTensor.__pos__(self)

    def __abs__(self):
        if needs_grad1(self):
            return _record1("abs", self)
        return BaseTensor.__abs__(self)

    def __getitem__(self, index):
        if needs_grad1(self):
            return _op("__getitem__")(self, index)
        out = BaseTensor.__getitem__(self, index)
        # views are tracked without a graph too: a later in-place write of a value that
        # requires grad (z[:2].copy_(w), z[1][0:2] = w) must reach the base
        if isinstance(out, Tensor) and (<BaseTensor>out)._storage is self._storage:
            (<Tensor>out)._view_base = self._view_base if self._view_base is not None else self
            (<Tensor>out)._view_version = self._storage.version
        return out

    def __setitem__(self, index, value):
        _op("__setitem__")(self, index, value)

    # comparisons and bitwise operators are not differentiable: rt_tensor's slots serve.


cdef extern from "Python.h":
    ctypedef struct PyTypeObject:
        PyObject* tp_dict
    ctypedef struct PyObject
    void PyType_Modified(PyTypeObject* t)


def _install_methods(dict mapping):
    """Install ``Tensor.<name> = fn`` for each entry (the differentiable methods of
    rt_autograd._ops), shadowing rt_tensor's methods of the same name."""
    cdef dict type_dict = <dict><object>(<PyTypeObject*>Tensor).tp_dict
    for name, fn in mapping.items():
        type_dict[name] = fn
    PyType_Modified(<PyTypeObject*>Tensor)


def _rebuild(fn, args, requires_grad):
    t = fn(*args)
    if not isinstance(t, Tensor):
        t = as_autograd_tensor(t)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _make_subclass(cls, BaseTensor data, bint requires_grad=False):
    """A new instance of ``cls`` (a Python subclass of Tensor, e.g. rt_nn.Parameter) that
    shares ``data``'s storage, dtype and geometry: PyTorch's ``Tensor._make_subclass``."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError(f"_make_subclass: expected a subclass of Tensor, got {cls!r}")
    cdef Tensor t = <Tensor>Tensor.__new__(cls)     # not cls.__new__: that may be this caller
    t._storage = data._storage
    t._dtype = data._dtype
    t._ndim = data._ndim
    t._offset = data._offset
    t._numel = data._numel
    memcpy(t._shape, data._shape, sizeof(data._shape[0]) * data._ndim)
    memcpy(t._strides, data._strides, sizeof(data._strides[0]) * data._ndim)
    if requires_grad:
        t._set_requires_grad(True)
    return t


cpdef Tensor as_autograd_tensor(object t):
    """``t`` as an rt_autograd Tensor: itself when it is one, else an alias of its data."""
    if isinstance(t, Tensor):
        return <Tensor>t
    if not isinstance(t, BaseTensor):
        raise TypeError(f"expected a Tensor, got {type(t).__name__}")
    return <Tensor>BaseTensor.alias(<BaseTensor>t)


cdef Tensor _alias(BaseTensor t):
    # BaseTensor.alias builds through the registered tensor class: an autograd Tensor with
    # requires_grad=False and no grad_fn.
    return <Tensor>BaseTensor.alias(t)


class RemovableHandle:
    """Returned by hook registration; ``remove()`` unregisters the hook."""
    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks, hook):
        self._hooks = hooks
        self._hook = hook

    def remove(self):
        try:
            self._hooks.remove(self._hook)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


# ---- nodes --------------------------------------------------------------------------------

cdef long long _next_sequence_nr = 0


cdef class Node:
    """A backward function in the graph (PyTorch's ``torch.autograd.graph.Node``)."""

    def __cinit__(self):
        global _next_sequence_nr
        self.next_functions = ()
        self._sequence_nr = _next_sequence_nr
        _next_sequence_nr += 1

    def name(self):
        return type(self).__name__

    def apply(self, *grad_outputs):
        """Gradients w.r.t. the inputs (a tuple, one per ``next_functions`` entry) given the
        gradients w.r.t. the outputs."""
        raise NotImplementedError(f"{self.name()}.apply is not implemented")

    def __call__(self, *grad_outputs):
        return self.apply(*grad_outputs)

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` after this node runs; may return new
        grad_inputs."""
        if self._post_hooks is None:
            self._post_hooks = []
        self._post_hooks.append(fn)
        return RemovableHandle(self._post_hooks, fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` before this node runs; may return new grad_outputs."""
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._pre_hooks.append(fn)
        return RemovableHandle(self._pre_hooks, fn)

    @property
    def metadata(self):
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    def _register_hook_dict(self, tensor):
        pass

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

    # -- saved tensors (ctx API of autograd.Function) --
    def save_for_backward(self, *tensors):
        """Keep tensors (or None) for ``backward``; read them back with ``saved_tensors``.
        Using one that was modified in place since raises PyTorch's error."""
        self._saved = list(tensors)

    @property
    def saved_tensors(self):
        cdef list saved
        cdef Py_ssize_t i
        if self._released:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time or "
                "if you need to access saved tensors after calling backward.")
        if self._saved is None:
            return ()
        saved = list(self._saved)
        for i in range(len(saved)):
            if isinstance(saved[i], SavedTensor):
                saved[i] = _saved_unpack(<SavedTensor>saved[i], self)
        return tuple(saved)

    def _release_saved(self):
        self._saved = None
        self._released = True


cdef class SavedTensor:
    """A tensor saved for backward with the version it had then. Outputs of the saving node
    are kept without their grad_fn (that would be a reference cycle) and get it back when
    unpacked."""
    cdef object tensor
    cdef long long version
    cdef bint is_output
    cdef int output_nr
    cdef bint requires_grad
    cdef object producer          # the node that made an input tensor (None for a leaf)


cdef SavedTensor _make_saved(Tensor t, bint is_output, int output_nr, object producer):
    cdef SavedTensor st = SavedTensor.__new__(SavedTensor)
    st.version = t._storage.version
    st.is_output = is_output
    st.output_nr = output_nr
    st.requires_grad = t._requires_grad
    st.producer = producer
    st.tensor = _alias(t) if is_output else t
    return st


cdef object _saved_unpack(SavedTensor self, Node node):
    """The saved tensor, after checking it was not modified in place since."""
    cdef Tensor t = <Tensor>self.tensor
    if t._storage.version != self.version:
        shape = "[" + ", ".join(str(s) for s in t.shape) + "]"
        producer = node if self.is_output else self.producer
        which = ("" if producer is None else
                 f", which is output {self.output_nr} of {producer.name()}")
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [{_type_name(t)} {shape}]{which}, is at version "
            f"{t._storage.version}; expected version {self.version} instead. Hint: the "
            "backtrace further above shows the operation that failed to compute its "
            "gradient. The variable in question was changed in there or anywhere later. "
            "Good luck!")
    if not self.is_output:
        return t
    cdef Tensor out = _alias(t)
    out._requires_grad = self.requires_grad
    if self.requires_grad:
        out._grad_fn = node
        out._output_nr = self.output_nr
    return out


cdef str _type_name(Tensor t):
    names = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
             "bfloat16": "BFloat16Tensor", "complex64": "ComplexFloatTensor",
             "complex128": "ComplexDoubleTensor", "int64": "LongTensor", "int32": "IntTensor",
             "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
             "bool": "BoolTensor"}
    return "torch." + names.get(str(t.dtype).split(".")[-1], "Tensor")


cdef class AccumulateGrad(Node):
    """The node of a leaf that requires grad: adds the incoming gradient into ``.grad``.

    The leaf owns its node (created once) and the node refers back to the leaf weakly, so
    the pair makes no reference cycle; a leaf that died takes no gradient."""
    cdef object _variable_ref
    cdef list _post_acc_hooks      # fn(tensor), after each accumulation (leaf post hooks)

    def name(self):
        return "torch::autograd::AccumulateGrad"

    @property
    def variable(self):
        return self._variable_ref()

    def apply(self, *grad_outputs):
        var = self._variable_ref()
        g = grad_outputs[0]
        if g is None or var is None:
            return ()
        _accumulate_into(<Tensor>var, g)
        if self._post_acc_hooks:
            _run_post_acc_hooks(self, var)
        return ()


cdef _run_post_acc_hooks(AccumulateGrad node, object var):
    """The leaf's post-accumulate-grad hooks, in registration order (their results are
    ignored, as in PyTorch)."""
    for h in list(node._post_acc_hooks):
        h(var)


cdef extern from "Python.h":
    # on a borrowed pointer: no temporary reference is counted
    Py_ssize_t _borrowed_refcnt "Py_REFCNT"(PyObject* o)

cdef bint _accumulate_node(AccumulateGrad node, object g) except -1:
    """Accumulate ``g`` into the leaf's ``.grad``; False when nothing was accumulated (no
    gradient, or the leaf died)."""
    var = node._variable_ref()
    if g is None or var is None:
        return False
    cdef Tensor t = <Tensor>var
    # PyTorch's AccumulateGrad takes over a first gradient that nothing else refers to (the
    # engine's local is the one reference, the argument is borrowed; its storage is not
    # shared), instead of copying it. (A typed local holding g, or a storage reference taken
    # to count it, would count once more: pointers only.)
    if (t._grad is None and not is_grad_enabled() and type(g) is Tensor
            and _borrowed_refcnt(<PyObject*>g) == 1
            and _borrowed_refcnt(<PyObject*>(<BaseTensor>g)._storage) == 1
            and (<BaseTensor>g).is_contig() and (<BaseTensor>g)._offset == 0):
        t._grad = g
        return True
    _accumulate_into(t, g)
    return True


cdef _accumulate_into(Tensor var, object g):
    """PyTorch's AccumulateGrad: the first gradient is stored (detached and copied unless the
    graph of the gradient is being built), later ones are added (in place unless
    create_graph)."""
    cdef Tensor grad = <Tensor>g
    if var._grad is None:
        if is_grad_enabled():
            var._grad = grad
        else:
            var._grad = _alias(BaseTensor.clone(grad))
    elif is_grad_enabled():
        var._grad = var._grad + grad
    else:
        (<Tensor>var._grad).add_(grad)


cdef long long _ACCUMULATE_GRAD_PRIORITY = 1LL << 62


cdef Node _grad_accumulator(Tensor t):
    """The leaf's AccumulateGrad node, created on first use and kept by the leaf."""
    cdef AccumulateGrad node
    if t._accumulator is not None:
        return <Node>t._accumulator
    node = AccumulateGrad()
    # PyTorch gives AccumulateGrad the highest priority (sequence_nr UINT64_MAX): a leaf's
    # gradient is accumulated (and its post-accumulate-grad hooks run, e.g. DDP's all-reduce)
    # as soon as it is ready, not after every node created later than the leaf's first use.
    # Above every function node, still unique and in creation order among accumulators.
    node._sequence_nr += _ACCUMULATE_GRAD_PRIORITY
    node._variable_ref = weakref.ref(t)
    node._input_meta = []
    if t._leaf_hooks is not None:
        node._tensor_pre_hooks = {0: t._leaf_hooks}
    t._accumulator = node
    return node


cdef inline Node _fresh_grad_fn(Tensor t):
    """``t``'s grad_fn, rebuilt first when ``t`` is a view whose storage was written since
    its history was set (through its base or another view): it is then that region of its
    base's current history (PyTorch regenerates a view's grad_fn the same way)."""
    if t._view_base is not None and t._storage.version != t._view_version:
        _regenerate_view(t)
    return t._grad_fn


cdef _regenerate_view(Tensor t):
    cdef Tensor base = <Tensor>t._view_base
    t._view_version = t._storage.version
    if not base._requires_grad or not _differentiable_code(t._dtype):
        return
    from rt_autograd._ops._util import regenerate_view
    global rt_grad_mode_disabled
    cdef int prev = rt_grad_mode_disabled
    rt_grad_mode_disabled = 0
    try:
        regenerate_view(t)
    finally:
        rt_grad_mode_disabled = prev
    t._view_version = t._storage.version


cdef tuple _gradient_edge(Tensor t):
    if t._view_base is not None and t._storage.version != t._view_version:
        _regenerate_view(t)
    if t._grad_fn is not None:
        return (t._grad_fn, t._output_nr)
    if t._requires_grad:
        return (_grad_accumulator(t), 0)
    return (None, 0)


def gradient_edge(Tensor t):
    """(node, output_nr) through which a gradient reaches ``t``; node None when ``t`` needs
    no gradient."""
    return _gradient_edge(t)


# ---- autograd.Function ---------------------------------------------------------------------

cdef class FunctionNode(Node):
    """The node (and ``ctx``) of an ``autograd.Function`` application: ``backward`` of the
    Function class runs with this node as ``ctx``."""
    cdef public object _forward_cls
    cdef tuple _tensor_positions          # which forward arguments are tensors
    cdef public object _dirty
    cdef public object _non_differentiable
    cdef public bint materialize_grads

    def __cinit__(self):
        self.materialize_grads = True

    def mark_dirty(self, *tensors):
        """Declare inputs modified in place by ``forward``."""
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        """Declare outputs that get no gradient (e.g. indices)."""
        self._non_differentiable = tensors

    def set_materialize_grads(self, bint value):
        """Whether None output gradients reach ``backward`` as zeros (default) or None."""
        self.materialize_grads = value

    def apply(self, *grad_outputs):
        return self._call_backward(list(grad_outputs))

    cdef tuple _call_backward(self, list grads):
        """Run the Function's backward on the output gradients; returns one gradient per
        tensor argument of forward (PyTorch: backward returns one per forward argument)."""
        cdef Py_ssize_t i, k
        if self.materialize_grads and self._output_meta is not None:
            for i in range(len(grads)):
                if grads[i] is None and i < len(self._output_meta):
                    shape, dtype = self._output_meta[i]
                    if shape is not None:
                        grads[i] = _rtt.zeros(shape, dtype=dtype)
        result = self._forward_cls.backward(self, *grads)
        if type(result) is not tuple:
            result = tuple(result) if isinstance(result, list) else (result,)
        cdef tuple res = <tuple>result
        cdef Py_ssize_t nargs = len(self.needs_input_grad)
        if len(res) != nargs:
            if len(res) > nargs and all(r is None for r in res[nargs:]):
                res = res[:nargs]
            else:
                raise RuntimeError(f"function {self.name()} returned an incorrect number of "
                                   f"gradients (expected {nargs}, got {len(res)})")
        cdef tuple pos = self._tensor_positions
        if pos is None or len(pos) == nargs:
            return res
        for k in range(nargs):
            if res[k] is not None and k not in pos:
                raise RuntimeError(f"function {self.name()} returned a gradient different than "
                                   f"None at position {k + 1}, but the corresponding forward "
                                   f"input was not a Variable")
        return tuple([res[k] for k in pos])

    @property
    def _nargs(self):
        return len(self.needs_input_grad) if self.needs_input_grad is not None else 0

    def name(self):
        n = getattr(self._forward_cls, "node_name", None)
        return n if n is not None else type(self).__name__


def _apply_classmethod(cls, *args, **kwargs):
    """``Function.apply``: installed as a classmethod by rt_autograd.function."""
    if kwargs:
        return cls._apply_with_kwargs(args, kwargs)
    return function_apply(cls, cls._backward_cls, args)


def function_apply(object fwd_cls, object node_cls, tuple args):
    """Run ``fwd_cls.forward(ctx, *args)`` with grad mode off and, when an input needs grad,
    connect the outputs to a new node of ``node_cls`` (a FunctionNode subclass)."""
    cdef FunctionNode ctx = node_cls()
    cdef Py_ssize_t i, n = len(args)
    cdef bint record = False
    cdef list needs = [False] * n
    cdef object a
    global rt_grad_mode_disabled
    if not rt_grad_mode_disabled:
        for i in range(n):
            a = args[i]
            if isinstance(a, Tensor) and (<Tensor>a)._requires_grad:
                needs[i] = True
                record = True
    ctx._forward_cls = fwd_cls
    ctx.needs_input_grad = tuple(needs)
    cdef int prev = rt_grad_mode_disabled
    rt_grad_mode_disabled = 1
    try:
        outputs = fwd_cls.forward(ctx, *args)
    finally:
        rt_grad_mode_disabled = prev
    if not record:
        if ctx._dirty:
            for t in ctx._dirty:
                if isinstance(t, Tensor):
                    _check_inplace(<Tensor>t)
        ctx._saved = None
        return outputs
    return _connect(ctx, args, outputs)


cdef inline void _keep_leaf(Node node, Tensor leaf):
    # the graph keeps its leaves alive (the leaf's AccumulateGrad refers to it weakly)
    if node._leaves is None:
        node._leaves = [leaf]
    else:
        node._leaves.append(leaf)


cdef inline bint _is_in(object x, tuple items):
    cdef object y
    for y in items:
        if x is y:
            return True
    return False


cdef object _connect(FunctionNode ctx, tuple args, object outputs):
    cdef bint single = not isinstance(outputs, tuple)
    cdef tuple outs = (outputs,) if single else outputs
    cdef list edges = []
    cdef list meta = []
    cdef list positions = []
    cdef Tensor t
    cdef object a
    cdef Py_ssize_t i, j
    cdef tuple needs = ctx.needs_input_grad
    for i in range(len(args)):
        a = args[i]
        if not isinstance(a, BaseTensor):
            continue
        positions.append(i)
        if needs[i]:
            t = <Tensor>a
            edges.append(_gradient_edge(t))
            meta.append((shape_tuple(t), dtype_of(t._dtype)))
            if t._grad_fn is None:
                _keep_leaf(ctx, t)
        else:
            edges.append(_NO_EDGE)
            meta.append(None)
    ctx._tensor_positions = tuple(positions)
    cdef tuple dirty = tuple(ctx._dirty) if ctx._dirty else ()
    cdef tuple nondiff = tuple(ctx._non_differentiable) if ctx._non_differentiable else ()
    # in-place: the dirty inputs' old history is captured in `edges` above; now rebase them
    for d in dirty:
        if isinstance(d, Tensor):
            _check_inplace(<Tensor>d)
    ctx.next_functions = tuple(edges)
    ctx._input_meta = meta
    cdef list out_meta = []
    cdef list new_outs = []
    cdef bint is_dirty
    for j in range(len(outs)):
        o = outs[j]
        if not isinstance(o, BaseTensor):
            new_outs.append(o)
            out_meta.append((None, None))
            continue
        if not isinstance(o, Tensor):
            o = as_autograd_tensor(o)
        t = <Tensor>o
        is_dirty = _is_in(t, dirty)
        if not is_dirty and _is_in(t, args):
            # an input returned unchanged: give the output its own identity
            t = _alias(t)
        out_meta.append((shape_tuple(t), dtype_of(t._dtype)))
        if _is_in(o, nondiff) or not _differentiable_code(t._dtype):
            t._requires_grad = False
        else:
            if not is_dirty:
                _track_view(t, args)
            t._grad_fn = ctx
            t._output_nr = j
            t._requires_grad = True
        new_outs.append(t)
    ctx._output_meta = out_meta
    for d in dirty:
        if not _is_in(d, outs):
            raise RuntimeError("Some elements marked as dirty during the forward method were "
                               "not returned as output. The inputs that are modified inplace "
                               "must all be outputs of the Function.")
    if ctx._saved is not None:
        _wrap_saved(ctx, new_outs, outs)
    for d in dirty:
        if isinstance(d, Tensor) and (<Tensor>d)._view_base is not None:
            from rt_autograd._ops._util import rebase_view
            rebase_view(d)
    return new_outs[0] if single else tuple(new_outs)


cdef tuple _NO_EDGE = (None, 0)


cdef _track_view(Tensor out, tuple args):
    """Record that ``out`` is a view of an input (it shares the input's storage), so an
    in-place op on it can update the input's history (rt_autograd._ops.inplace)."""
    cdef Tensor base
    for a in args:
        if isinstance(a, Tensor) and (<Tensor>a)._storage is (<BaseTensor>out)._storage:
            base = <Tensor>a
            out._view_base = base._view_base if base._view_base is not None else base
            out._view_version = out._storage.version
            return


cdef _wrap_saved(FunctionNode ctx, list new_outs, tuple outs):
    cdef list saved = ctx._saved
    cdef Py_ssize_t i, j
    for i in range(len(saved)):
        s = saved[i]
        if not isinstance(s, Tensor):
            continue
        for j in range(len(outs)):
            if s is outs[j] or s is new_outs[j]:
                saved[i] = _make_saved(<Tensor>new_outs[j], True, j, None)
                break
        else:
            t = <Tensor>s
            nr = t._output_nr
            saved[i] = _make_saved(t, False, nr, t._grad_fn)


cdef _check_inplace(Tensor t):
    """PyTorch's rules for an in-place op on a tensor while grad mode is on."""
    if rt_grad_mode_disabled:
        return
    if t._grad_fn is None and t._requires_grad:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    base = t._view_base
    if base is not None and (<Tensor>base)._grad_fn is None and (<Tensor>base)._requires_grad:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")


def check_inplace(Tensor t):
    _check_inplace(t)


def set_history(Tensor t, Node node, int output_nr):
    """Make ``node`` (output ``output_nr``) the producer of ``t`` (in-place ops rebase their
    target this way)."""
    t._grad_fn = node
    t._output_nr = output_nr
    t._requires_grad = node is not None or t._requires_grad
    t._view_version = t._storage.version


def view_base(Tensor t):
    return t._view_base


def set_view_base(Tensor t, base):
    t._view_base = base


# ---- arithmetic operators ----------------------------------------------------------------
# `a + b`, `a - b`, `a * b`, `a / b` and `-a` are the ops a training loop issues most, so
# their nodes are cdef classes recorded without any Python frame (the per-op cost of
# recording is a target: docs/performance.md). Their backward formulas are written in
# differentiable Tensor ops like every other op's. rt_autograd._ops.arith registers these
# (and everything else) under the public names.

cdef enum ArithKind:
    ARITH_ADD, ARITH_SUB, ARITH_MUL, ARITH_DIV, ARITH_NEG


cdef class _ArithNode(Node):
    cdef int kind
    cdef object a              # saved operand (SavedTensor or a Python scalar) when needed
    cdef object b
    cdef object alpha

    cdef object _unpack(self, object x):
        if isinstance(x, SavedTensor):
            return _saved_unpack(<SavedTensor>x, self)
        return x

    def apply(self, *grad_outputs):
        return self._arith_backward(grad_outputs[0])

    cdef tuple _arith_backward(self, object g):
        if self._released:
            raise RuntimeError(_FREED_MESSAGE)
        cdef int k = self.kind
        need_a = (<tuple>self.next_functions[0])[0] is not None
        need_b = len(self.next_functions) > 1 and (<tuple>self.next_functions[1])[0] is not None
        if g is None:
            return (None, None) if len(self.next_functions) > 1 else (None,)
        if k == ARITH_NEG:
            return (-g,)
        ga = gb = None
        if k == ARITH_ADD or k == ARITH_SUB:
            if need_a:
                ga = g
            if need_b:
                alpha = self.alpha
                if isinstance(alpha, complex):
                    alpha = alpha.conjugate()
                if k == ARITH_SUB:
                    gb = -g if alpha == 1 else g * (-alpha)
                else:
                    gb = g if alpha == 1 else g * alpha
            return (ga, gb)
        a = self._unpack(self.a)
        b = self._unpack(self.b)
        if k == ARITH_MUL:
            if need_a:
                ga = g * _conj(b)
            if need_b:
                gb = g * _conj(a)
        else:  # ARITH_DIV
            if need_a:
                ga = g / _conj(b)
            if need_b:
                gb = -g * _conj(a / (b * b))
        return (ga, gb)


cdef object _conj(object x):
    if isinstance(x, BaseTensor):
        if category((<BaseTensor>x)._dtype) == 3:
            return x.conj()
        return x
    if isinstance(x, complex):
        return x.conjugate()
    return x


cdef class AddBackward0(_ArithNode):
    pass


cdef class SubBackward0(_ArithNode):
    pass


cdef class MulBackward0(_ArithNode):
    pass


cdef class DivBackward0(_ArithNode):
    pass


cdef class NegBackward0(_ArithNode):
    pass


cdef str _FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward.")


cdef inline object _operand_meta(object x):
    if isinstance(x, BaseTensor):
        return (shape_tuple(<BaseTensor>x), dtype_of((<BaseTensor>x)._dtype))
    return None


cdef inline tuple _operand_edge(object x):
    if isinstance(x, Tensor) and (<Tensor>x)._requires_grad:
        return _gradient_edge(<Tensor>x)
    return _NO_EDGE


cdef inline object _save_operand(object x, _ArithNode node):
    if isinstance(x, Tensor):
        t = <Tensor>x
        return _make_saved(t, False, t._output_nr, t._grad_fn)
    return x


cdef object _arith_record(int kind, object a, object b, object alpha, object out):
    """Connect ``out`` (the result of the arithmetic op on a, b) to a new node."""
    cdef _ArithNode node
    if kind == ARITH_ADD:
        node = AddBackward0.__new__(AddBackward0)
    elif kind == ARITH_SUB:
        node = SubBackward0.__new__(SubBackward0)
    elif kind == ARITH_MUL:
        node = MulBackward0.__new__(MulBackward0)
    elif kind == ARITH_DIV:
        node = DivBackward0.__new__(DivBackward0)
    else:
        node = NegBackward0.__new__(NegBackward0)
    node.kind = kind
    node.alpha = alpha
    cdef tuple ea = _operand_edge(a)
    if ea[0] is not None and (<Tensor>a)._grad_fn is None:
        _keep_leaf(node, <Tensor>a)
    if kind == ARITH_NEG:
        node.next_functions = (ea,)
        node._input_meta = [_operand_meta(a) if ea[0] is not None else None]
    else:
        eb = _operand_edge(b)
        if eb[0] is not None and (<Tensor>b)._grad_fn is None:
            _keep_leaf(node, <Tensor>b)
        node.next_functions = (ea, eb)
        node._input_meta = [_operand_meta(a) if ea[0] is not None else None,
                            _operand_meta(b) if eb[0] is not None else None]
        if kind == ARITH_MUL:
            if eb[0] is not None:
                node.a = _save_operand(a, node)
            if ea[0] is not None:
                node.b = _save_operand(b, node)
        elif kind == ARITH_DIV:
            if eb[0] is not None:
                node.a = _save_operand(a, node)
            node.b = _save_operand(b, node)
    cdef Tensor t = as_autograd_tensor(out)
    node._output_meta = [None]
    t._grad_fn = node
    t._output_nr = 0
    t._requires_grad = True
    return t


def arith(int kind, a, b=None, alpha=1, rounding_mode=None):
    """``a (op) b`` for kind 0..4 = add, sub, mul, div, neg, recording the graph when an
    operand requires grad in grad mode (rt_autograd._ops.arith's wrappers call this)."""
    return _arith(kind, a, b, alpha)


cdef object _arith(int kind, object a, object b, object alpha):
    cdef bint record = not rt_grad_mode_disabled and (_rg(a) or _rg(b))
    cdef bint a_is_t = isinstance(a, BaseTensor)
    if kind == ARITH_ADD:
        if alpha != 1:
            out = _rtt.add(a, b, alpha=alpha)
        else:
            out = BaseTensor.__add__(a, b) if a_is_t else BaseTensor.__radd__(b, a)
    elif kind == ARITH_SUB:
        if alpha != 1:
            out = _rtt.sub(a, b, alpha=alpha)
        else:
            out = BaseTensor.__sub__(a, b) if a_is_t else BaseTensor.__rsub__(b, a)
    elif kind == ARITH_MUL:
        out = BaseTensor.__mul__(a, b) if a_is_t else BaseTensor.__rmul__(b, a)
    elif kind == ARITH_DIV:
        out = BaseTensor.__truediv__(a, b) if a_is_t else BaseTensor.__rtruediv__(b, a)
    else:
        out = BaseTensor.__neg__(a)
    if out is NotImplemented:
        raise TypeError(f"unsupported operand type(s): '{type(a).__name__}' and "
                        f"'{type(b).__name__}'")
    if not record:
        return out
    return _arith_record(kind, a, b, alpha, out)


# ---- the engine -----------------------------------------------------------------------------

def _sum_to(grad, tuple shape):
    """Sum ``grad`` down to ``shape`` (the inverse of broadcasting)."""
    gshape = tuple(grad.shape)
    if gshape == shape:
        return grad
    lead = len(gshape) - len(shape)
    dims = list(range(lead))
    for i in range(len(shape)):
        if shape[i] == 1 and gshape[lead + i] != 1:
            dims.append(lead + i)
    if dims:
        grad = grad.sum(dim=tuple(dims), keepdim=True)
    if lead:
        grad = grad.reshape(shape)
    elif tuple(grad.shape) != shape:
        grad = grad.reshape(shape)
    return grad


cdef bint _expandable(tuple src, tuple dst):
    # can `src` (the input's shape) broadcast to `dst` (the gradient's shape)?
    cdef Py_ssize_t i, ns = len(src), nd = len(dst)
    if ns > nd:
        return False
    for i in range(1, ns + 1):
        if src[ns - i] != 1 and src[ns - i] != dst[nd - i]:
            return False
    return True


cdef object _validate(Node node, tuple grads):
    """Check and fix the gradients a node returned: one per input, each un-broadcast to the
    input's shape and cast to its dtype (the single place where that happens)."""
    cdef tuple nexts = node.next_functions
    cdef Py_ssize_t n = len(nexts)
    if len(grads) != n:
        raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                           f"(expected {n}, got {len(grads)})")
    cdef list out = list(grads)
    cdef Py_ssize_t i
    cdef list meta = node._input_meta
    cdef BaseTensor bg
    cdef tuple m
    for i in range(n):
        g = out[i]
        if g is None:
            continue
        if (<tuple>nexts[i])[0] is None:
            out[i] = None
            continue
        if not isinstance(g, BaseTensor):
            raise RuntimeError(f"expected Variable or None (got {type(g).__name__})")
        if meta is None or meta[i] is None:
            continue
        m = <tuple>meta[i]
        shape = m[0]
        dtype = m[1]
        bg = <BaseTensor>g
        gshape = shape_tuple(bg)
        if gshape != shape:
            if not _expandable(shape, gshape):
                raise RuntimeError(f"Function {node.name()} returned an invalid gradient at "
                                   f"index {i} - got {list(gshape)} but expected shape "
                                   f"compatible with {list(shape)}")
            g = _sum_to(g, shape)
            bg = <BaseTensor>g
        if dtype_of(bg._dtype) is not dtype:
            if not dtype.is_complex and g.dtype.is_complex:
                g = g.real
            g = g.to(dtype)
        if not isinstance(g, Tensor):
            g = as_autograd_tensor(g)
        out[i] = g
    return out


cdef object _run_tensor_hook(object hook, object grad):
    """Call a tensor hook; a returned gradient must keep the shape and dtype (PyTorch)."""
    r = hook(grad)
    if r is None:
        return grad
    name = getattr(hook, "__name__", repr(hook))
    if not isinstance(r, BaseTensor):
        raise TypeError(f"expected Variable or None (got {type(r).__name__})")
    if shape_tuple(<BaseTensor>r) != shape_tuple(<BaseTensor>grad):
        raise RuntimeError(f"hook '{name}' has changed the size of value")
    if (<BaseTensor>r)._dtype != (<BaseTensor>grad)._dtype:
        raise RuntimeError(f"hook '{name}' has changed the type of value (was "
                           f"{dtype_of((<BaseTensor>grad)._dtype).scalar_name} got "
                           f"{dtype_of((<BaseTensor>r)._dtype).scalar_name})")
    return r if isinstance(r, Tensor) else as_autograd_tensor(r)


cdef inline bint _all_none(list buf):
    cdef object g
    for g in buf:
        if g is not None:
            return False
    return True


cdef object _add_grads(object a, object b):
    if a is None:
        return b
    if b is None:
        return a
    return a + b


cdef class _GraphTask:
    cdef dict deps           # node -> number of pending gradient contributions
    cdef dict buffers        # node -> list of gradients, one per output
    cdef set needed          # nodes to execute (None: all)
    cdef dict captures       # (node, output_nr) -> list of result positions
    cdef list captured


def run_backward(tuple roots, tuple root_grads, bint keep_graph, bint create_graph,
                 tuple inputs=None, bint allow_unused=False, bint accumulate_grad=True):
    """The engine behind ``backward`` and ``autograd.grad``.

    roots: output tensors; root_grads: their gradients (Tensors). With ``inputs``, only the
    part of the graph leading to them runs; ``accumulate_grad=False`` returns their gradients
    (``autograd.grad``) instead of accumulating into ``.grad``.
    """
    cdef Py_ssize_t i
    cdef Node node
    cdef Tensor t
    cdef list root_edges = []
    for i in range(len(roots)):
        t = <Tensor>roots[i]
        edge = _gradient_edge(t)
        if edge[0] is None:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not "
                               f"have a grad_fn")
        root_edges.append(edge)

    # the nodes whose gradients are asked for
    cdef list input_edges = []
    if inputs is not None:
        for i in range(len(inputs)):
            t = <Tensor>inputs[i]
            if _fresh_grad_fn(t) is not None:
                input_edges.append((t._grad_fn, t._output_nr))
            elif t._requires_grad:
                input_edges.append((_grad_accumulator(t), 0))
            else:
                raise RuntimeError("One of the differentiated Tensors does not require grad")

    # discover the graph (iteratively: graphs can be deep)
    cdef dict children = {}
    stack = []
    seen = set()
    for e in root_edges:
        if e[0] not in seen:        # several roots may share one node (outputs of a split)
            seen.add(e[0])
            stack.append(e[0])
    order = []
    while stack:
        node = stack.pop()
        order.append(node)
        nexts = []
        for nxt, _nr in node.next_functions:
            if nxt is not None:
                nexts.append(nxt)
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        children[node] = nexts

    # which nodes must run: all, or those on a path to an input
    needed = None
    captures = {}
    if inputs is not None:
        targets = set()
        for pos, (n_, nr_) in enumerate(input_edges):
            captures.setdefault((n_, nr_), []).append(pos)
            targets.add(n_)
        needed = set()
        # reverse topological sweep: a node is needed if a child is needed or it is a target
        memo = {}
        for n_ in _post_order(root_edges, children):
            flag = False
            for c in children[n_]:
                if memo.get(c, False):
                    flag = True
                    break
            if flag:
                needed.add(n_)
            memo[n_] = flag or n_ in targets
        # a target itself runs only when it leads to another target (or accumulates)
        if accumulate_grad:
            for n_ in targets:
                if isinstance(n_, AccumulateGrad):
                    needed.add(n_)

    # pending contributions per node, counted over the edges of nodes that will run
    deps = {}
    for n_ in order:
        if needed is not None and n_ not in needed:
            continue
        for c in children[n_]:
            deps[c] = deps.get(c, 0) + 1

    buffers = {}
    for i, (n_, nr_) in enumerate(root_edges):
        buf = buffers.get(n_)
        if buf is None:
            buf = buffers[n_] = [None] * _num_outputs(n_)
        buf[nr_] = _add_grads(buf[nr_], root_grads[i])

    results = [None] * (len(inputs) if inputs is not None else 0)
    heap = []
    for n_ in set(e[0] for e in root_edges):
        if deps.get(n_, 0) == 0:
            heapq.heappush(heap, (-(<Node>n_)._sequence_nr, n_))

    global rt_grad_mode_disabled
    cdef int prev_mode = rt_grad_mode_disabled
    rt_grad_mode_disabled = not create_graph
    try:
        while heap:
            node = heapq.heappop(heap)[1]
            buf = buffers.pop(node, None)
            if buf is None:
                buf = [None] * _num_outputs(node)
            # tensor hooks, then retain_grad, then captures
            runs = needed is None or node in needed
            if node._tensor_pre_hooks:
                for nr_, hooks in node._tensor_pre_hooks.items():
                    if buf[nr_] is None:
                        continue
                    # autograd.grad: hooks fire only where a gradient is used
                    if not runs and (node, nr_) not in captures:
                        continue
                    for h in list(hooks):
                        buf[nr_] = _run_tensor_hook(h, buf[nr_])
            if node._retain_hooks:
                for nr_, ref in node._retain_hooks.items():
                    tt = ref()
                    if tt is not None and buf[nr_] is not None:
                        g = buf[nr_]
                        if (<Tensor>tt)._grad is None:
                            (<Tensor>tt)._grad = g if create_graph else _alias(BaseTensor.clone(g))
                        else:
                            (<Tensor>tt)._grad = (<Tensor>tt)._grad + g
            if captures:
                for nr_ in range(len(buf)):
                    poss = captures.get((node, nr_))
                    if poss is not None:
                        for p in poss:
                            results[p] = buf[nr_]
            if needed is not None and node not in needed:
                continue
            if node._pre_hooks:
                for h in list(node._pre_hooks):
                    r = h(tuple(buf))
                    if r is not None:
                        buf = list(r)
            if isinstance(node, AccumulateGrad):
                if not accumulate_grad:
                    continue
                grads = None                # drop the engine's other references, so that
                g = buf[0]                  # an unshared gradient can be stolen
                buf[0] = None
                accumulated = _accumulate_node(<AccumulateGrad>node, g)
                g = None
                buf[0] = None
                if accumulated and (<AccumulateGrad>node)._post_acc_hooks:
                    var = (<AccumulateGrad>node)._variable_ref()
                    if var is not None:
                        _run_post_acc_hooks(<AccumulateGrad>node, var)
                    var = None
                if node._post_hooks:
                    for h in list(node._post_hooks):
                        h((), tuple(buf))
                continue
            if not isinstance(node, FunctionNode) and _all_none(buf):
                grads = [None] * len(node.next_functions)
            elif isinstance(node, _ArithNode):
                grads = _validate(node, (<_ArithNode>node)._arith_backward(buf[0]))
            elif isinstance(node, FunctionNode):
                grads = _validate(node, (<FunctionNode>node)._call_backward(buf))
            else:
                grads = node.apply(*buf)
                if not isinstance(grads, tuple):
                    grads = tuple(grads) if isinstance(grads, list) else (grads,)
                grads = _validate(node, grads)
            if node._post_hooks:
                for h in list(node._post_hooks):
                    r = h(tuple(grads), tuple(buf))
                    if r is not None:
                        grads = list(r)
            if not keep_graph:
                node._saved = None
                node._released = True
                if isinstance(node, _ArithNode):
                    (<_ArithNode>node).a = (<_ArithNode>node).b = None
            nexts = node.next_functions
            for i in range(len(nexts)):
                edge = <tuple>nexts[i]
                nxt = edge[0]
                if nxt is None or nxt not in deps:
                    continue
                nr_ = edge[1]
                g = grads[i]
                if g is not None:
                    nbuf = buffers.get(nxt)
                    if nbuf is None:
                        nbuf = buffers[nxt] = [None] * _num_outputs(nxt)
                    nbuf[nr_] = _add_grads(nbuf[nr_], g)
                deps[nxt] -= 1
                if deps[nxt] == 0:
                    heapq.heappush(heap, (-(<Node>nxt)._sequence_nr, nxt))
    finally:
        rt_grad_mode_disabled = prev_mode

    if inputs is not None and not allow_unused:
        for i in range(len(results)):
            if results[i] is None:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have "
                                   f"been used in the graph. Set allow_unused=True if this is "
                                   f"the desired behavior.")
    return results


cdef Py_ssize_t _num_outputs(Node node):
    if isinstance(node, AccumulateGrad):
        return 1
    if node._output_meta is not None:
        return max(len(node._output_meta), 1)
    return 1


cdef list _post_order(list root_edges, dict children):
    """Nodes in an order where every node comes after all nodes it points to."""
    cdef list out = []
    visited = set()
    for n0, _ in root_edges:
        if n0 in visited:
            continue
        stack = [(n0, 0)]
        visited.add(n0)
        while stack:
            n_, idx = stack[-1]
            kids = children[n_]
            if idx < len(kids):
                stack[-1] = (n_, idx + 1)
                c = kids[idx]
                if c not in visited:
                    visited.add(c)
                    stack.append((c, 0))
            else:
                stack.pop()
                out.append(n_)
    return out
