"""Build script: only cythonizes the fused optimizer kernels (``_fused.pyx``). All metadata
lives in pyproject.toml.

The kernels cimport rt_tensor's ``.pxd`` files (shipped as package data): from the installed
rt_tensor when there is one, else from the sibling source tree of this monorepo.
"""
import os
from pathlib import Path

from setuptools import Extension, setup

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
PKG = SRC / "rt_optim"
BUILD = HERE / "build"

DEBUG = os.environ.get("RT_DEBUG") == "1"
# As rt-tensor's kernels: -O3 so the update loops vectorize (-fno-math-errno lets sqrt do),
# x86-64-v2 (numpy's baseline, never -march=native), no contraction into FMA so float32
# results do not depend on the machine, never -ffast-math (BUILD-NOTES.md).
if DEBUG:
    CFLAGS = ["-O0", "-g"]
else:
    CFLAGS = ["-O3", "-g0", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off"]
    import platform
    if platform.machine() in ("x86_64", "AMD64"):
        CFLAGS.append("-march=x86-64-v2")
CFLAGS += ["-Wno-unused-function", "-Wno-unreachable-code", "-pthread"]
DIRECTIVES = dict(language_level=3, boundscheck=DEBUG, wraparound=True, initializedcheck=False,
                  cdivision=True, embedsignature=True, binding=False)


def rt_tensor_include():
    """The directory holding the rt_tensor package whose .pxd files we cimport."""
    sibling = HERE.parent / "rt-tensor" / "src"
    if (sibling / "rt_tensor" / "_tensor.pxd").exists():
        return sibling
    import importlib.util
    spec = importlib.util.find_spec("rt_tensor")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("rt-optim: building needs rt_tensor's .pxd files: install rt-tensor first")
    return Path(list(spec.submodule_search_locations)[0]).parent


def extensions():
    from Cython.Build import cythonize

    inc = rt_tensor_include()
    only = {m for m in os.environ.get("RT_BUILD_ONLY", "").split(",") if m}   # as rt-tensor's
    exts = []
    for pyx in sorted(PKG.rglob("*.pyx")):
        name = ".".join(pyx.relative_to(SRC).with_suffix("").parts)
        if only and name.split(".")[-1] not in only:
            continue
        exts.append(Extension(name, [str(pyx)], include_dirs=[str(PKG), str(inc / "rt_tensor")],
                              extra_compile_args=CFLAGS, extra_link_args=["-pthread"]))
    return cythonize(exts, build_dir=str(BUILD), include_path=[str(SRC), str(inc)],
                     compiler_directives=DIRECTIVES, quiet=True)


setup(ext_modules=extensions())
