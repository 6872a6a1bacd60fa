"""Checks of lesson 5's exercises: ``check_<topic>(module)`` runs on the template
(``exercises/lesson5_<topic>.py``) or on the worked solution (``solutions/...``).

The oracles: pickles whose globals are known by construction (and a real checkpoint's,
read off ``pickletools.dis``), ONNX's reference evaluator and finite differences.
"""
import io
import os
import pathlib
import pickle
import shutil
import tempfile
import zipfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

import rt_autograd as rt
import rt_nn as nn
import rt_import
from rt_autograd.testing import gradcheck
from rt_import.onnx import registry


class _Payload:
    """Unpickling this calls os.makedirs(path): the scan must never do it."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.makedirs, (self.path,))


def check_scan_pickle(module):
    scan = module.scan_pickle
    with tempfile.TemporaryDirectory() as tmp:
        marker = pathlib.Path(tmp) / "the-pickle-ran"
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            data = pickle.dumps(_Payload(str(marker)), protocol=protocol)
            assert scan(data) == ["os.makedirs"], (protocol, scan(data))
        assert not marker.exists(), "scan_pickle ran the pickle"

    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        # the second "shutil" comes from the memo in protocols 4 and 5
        assert scan(pickle.dumps([shutil.copyfile, shutil.rmtree], protocol=protocol)) == \
            ["shutil.copyfile", "shutil.rmtree"], protocol
        # a global reused from the memo is looked up once
        assert scan(pickle.dumps([shutil.rmtree, shutil.rmtree], protocol=protocol)) == \
            ["shutil.rmtree"], protocol
        assert scan(pickle.dumps({"a": [1, 2.5, "text", None]}, protocol=protocol)) == []

    # a real checkpoint: a state dict with a float32 and an int64 tensor
    state = nn.Linear(3, 2).state_dict()
    state["steps"] = rt.tensor([1, 2, 3])
    buffer = io.BytesIO()
    rt_import.save(state, buffer)
    with zipfile.ZipFile(buffer) as archive:
        data_pkl = archive.read("archive/data.pkl")
    assert scan(data_pkl) == ["collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
                              "torch.FloatStorage", "torch.LongStorage"], scan(data_pkl)


def _rms_model(shape, scale_shape, attrs, scale_as_input=False, elem=TensorProto.FLOAT):
    dtype = np.float32 if elem == TensorProto.FLOAT else np.float64
    rng = np.random.default_rng(len(shape) * 10 + len(scale_shape))
    scale = rng.standard_normal(scale_shape).astype(dtype)
    inputs = [helper.make_tensor_value_info("x", elem, list(shape))]
    initializers = []
    if scale_as_input:
        inputs.append(helper.make_tensor_value_info("scale", elem, list(scale_shape)))
    else:
        initializers.append(numpy_helper.from_array(scale, "scale"))
    graph = helper.make_graph(
        [helper.make_node("RMSNormalization", ["x", "scale"], ["y"], **attrs)], "rms",
        inputs, [helper.make_tensor_value_info("y", elem, list(shape))], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 23)])
    onnx.checker.check_model(model)
    return model, scale


def check_rms_norm(module):
    key = ("", "RMSNormalization")
    saved = registry._CONVERTERS.get(key)
    registry._CONVERTERS[key] = [(23, module.rms_normalization)]     # for this check only
    try:
        rng = np.random.default_rng(23)
        for shape, scale_shape, attrs, magnitude in [
                ((2, 3, 4), (4,), {}, 3.0),
                ((2, 3, 4), (4,), {}, 1e-3),          # x * x near epsilon: its default counts
                ((2, 3, 4), (4,), {"axis": -1, "epsilon": 0.5}, 1.0),
                ((2, 3, 4), (3, 4), {"axis": 1}, 3.0),
                ((2, 3, 4), (3, 4), {"axis": -2, "epsilon": 0.1}, 1.0),
                ((2, 3, 4), (2, 3, 4), {"axis": 0}, 3.0),
                ((5, 8), (8,), {"epsilon": 1e-3}, 0.1)]:
            model, _ = _rms_model(shape, scale_shape, attrs)
            x = (rng.standard_normal(shape) * magnitude).astype(np.float32)
            expected = ReferenceEvaluator(model).run(None, {"x": x})[0]
            imported = rt_import.load_onnx(model)
            got = imported(rt.tensor(x))
            np.testing.assert_allclose(got.detach().numpy(), expected, rtol=1e-5, atol=1e-6,
                                       err_msg=f"shape {shape} attributes {attrs}")
            got.sum().backward()                       # the scale is a trainable parameter
            assert imported.scale.grad is not None
            assert tuple(imported.scale.grad.shape) == scale_shape

        # gradients against finite differences, in float64, for x and scale
        model, scale = _rms_model((3, 4), (4,), {"epsilon": 0.01}, scale_as_input=True,
                                  elem=TensorProto.DOUBLE)
        imported = rt_import.load_onnx(model)
        x = rt.tensor(rng.standard_normal((3, 4)), requires_grad=True)
        s = rt.tensor(scale, requires_grad=True)
        assert gradcheck(lambda a, b: imported(a, b), (x, s))
    finally:
        if saved is None:
            registry._CONVERTERS.pop(key, None)
        else:
            registry._CONVERTERS[key] = saved
    assert registry.lookup("", "RMSNormalization", 23) is (saved[-1][1] if saved else None)
