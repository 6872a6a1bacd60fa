"""Lesson 5, exercise 2: a converter for ONNX's RMSNormalization.

rt-import has no converter for ``RMSNormalization`` (ONNX opset 23; the normalisation of
LLaMA-style transformers). Write one, ``rms_normalization(node, x, scale)``, following
lesson 5 and docs/adding-an-onnx-op.md. The specification
(``onnx.defs.get_schema("RMSNormalization", 23).doc``,
https://onnx.ai/onnx/operators/onnx__RMSNormalization.html) says:

- the normalised axes run from the attribute ``axis`` (default -1; negative counts from the
  end) to the last axis of ``x``;
- ``y = x / sqrt(mean(x * x over those axes) + epsilon) * scale``, with the attribute
  ``epsilon`` (default 1e-5) and ``scale`` broadcast against ``x``;
- (``stash_type``, the precision of the computation, can be ignored for float32 inputs).

Read attributes with ``node.attr(name, default)``, compute with differentiable rt ops, and
return the output tensor. Do not register the function: the check registers it while it
runs and takes it out afterwards.

Check it:  python docs/course/_runner.py check 5
"""
import rt_autograd as rt


def rms_normalization(node, x, scale):
    raise NotImplementedError("exercise: write rms_normalization")
