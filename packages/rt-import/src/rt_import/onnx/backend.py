"""rt as an ``onnx.backend``: what the ONNX project's backend tests drive."""
import numpy as np
import onnx
from onnx.backend.base import Backend, BackendRep

import rt_autograd as rt

from rt_import.onnx.graph import OnnxModule, to_numpy, to_rt, unsupported_operators

__all__ = ["RtBackend", "RtBackendRep"]


class RtBackendRep(BackendRep):
    def __init__(self, module):
        self.module = module

    def run(self, inputs, **kwargs):
        if isinstance(inputs, np.ndarray):
            inputs = [inputs]
        with rt.no_grad():
            out = self.module(*[to_rt(x) for x in inputs])
        if not isinstance(out, tuple):
            out = (out,)
        return tuple(to_numpy(o.detach()) if isinstance(o, rt.Tensor) else np.asarray(o)
                     for o in out)


class RtBackend(Backend):
    @classmethod
    def is_compatible(cls, model, device="CPU", **kwargs):
        return device == "CPU" and not unsupported_operators(model)

    @classmethod
    def prepare(cls, model, device="CPU", **kwargs):
        if not isinstance(model, onnx.ModelProto):
            model = onnx.load_model_from_string(bytes(model))
        module = OnnxModule(model)
        module.eval()
        return RtBackendRep(module)

    @classmethod
    def run_model(cls, model, inputs, device="CPU", **kwargs):
        return cls.prepare(model, device).run(inputs)

    @classmethod
    def supports_device(cls, device):
        return device == "CPU"
