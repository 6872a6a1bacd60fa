"""Build script: only cythonizes. All metadata lives in pyproject.toml.

Every ``src/rt_tensor/**/*.pyx`` becomes an extension module. Files named ``*.pxi.in`` are
Tempita templates (the pandas pattern) expanded into ``build/gen/`` and pulled in with
``include``; generated files never land in ``src/``.

Environment knobs (for development only):
  RT_BUILD_ONLY=_reduce,_index   build just these modules (helpers working in parallel)
  RT_DEBUG=1                     -O0 -g, Cython boundscheck on
"""
import hashlib
import os
import sys
from pathlib import Path

from setuptools import Extension, setup

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
PKG = SRC / "rt_tensor"
BUILD = HERE / "build"
GEN = BUILD / "gen"

DEBUG = os.environ.get("RT_DEBUG") == "1"
# x86-64-v2 is numpy's own baseline; -march=native must never reach a wheel. Never
# -ffast-math: with gcc 12 it links a constructor that sets FTZ/DAZ for the whole process.
if DEBUG:
    CFLAGS = ["-O0", "-g"]
else:
    CFLAGS = ["-O3", "-g0", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off"]
    import platform
    if platform.machine() in ("x86_64", "AMD64"):
        CFLAGS.append("-march=x86-64-v2")
CFLAGS += ["-Wno-unused-function", "-Wno-unreachable-code", "-pthread"]
LDFLAGS = ["-pthread"]
# wraparound stays on: with it off, a Python-style x[-1] on a typed list or tuple reads out
# of bounds (two of our modules hit that); kernels index raw pointers, which it never affects.
DIRECTIVES = dict(language_level=3, boundscheck=DEBUG, wraparound=True, initializedcheck=False,
                  cdivision=True, embedsignature=True, binding=False)


def expand_templates():
    """Expand every ``*.pxi.in`` Tempita template into build/gen (only when it changed)."""
    from Cython import Tempita

    import importlib

    sys.path.insert(0, str(HERE / "codegen"))
    namespace = {}
    for table in sorted((HERE / "codegen").glob("*.py")):
        module = importlib.import_module(table.stem)
        namespace.update({k: v for k, v in vars(module).items() if not k.startswith("_")})
    GEN.mkdir(parents=True, exist_ok=True)
    for template in PKG.rglob("*.pxi.in"):
        target = GEN / template.name[: -len(".in")]
        text = Tempita.sub(template.read_text(), **namespace)
        if not target.exists() or target.read_text() != text:
            target.write_text(text)


def build_stamp():
    """Flags and tool versions: setuptools does not notice when these change, so a change
    of any of them touches the stamp that every module depends on (BUILD-NOTES)."""
    import Cython
    import numpy

    tables = [p.read_text() for p in sorted((HERE / "codegen").glob("*.py"))]
    key = repr((tables, sorted(DIRECTIVES.items()), CFLAGS, LDFLAGS, Cython.__version__, numpy.__version__, sys.version))
    stamp = GEN / "build_stamp.pxi"
    text = f"# {hashlib.sha256(key.encode()).hexdigest()}\n"
    if not stamp.exists() or stamp.read_text() != text:
        stamp.write_text(text)


def extensions():
    from Cython.Build import cythonize

    expand_templates()
    build_stamp()
    only = {m for m in os.environ.get("RT_BUILD_ONLY", "").split(",") if m}
    headers = [str(h) for h in PKG.glob("*.h")]
    exts = []
    for pyx in sorted(PKG.rglob("*.pyx")):
        rel = pyx.relative_to(SRC).with_suffix("")
        name = ".".join(rel.parts)
        if only and rel.parts[-1] not in only:
            continue
        exts.append(Extension(name, [str(pyx)], include_dirs=[str(PKG), str(GEN)], depends=headers,
                              extra_compile_args=CFLAGS, extra_link_args=LDFLAGS))
    return cythonize(exts, build_dir=str(BUILD), include_path=[str(SRC), str(GEN)],
                     compiler_directives=DIRECTIVES, nthreads=int(os.environ.get("RT_CYTHON_JOBS", "2")),
                     quiet=True)


setup(ext_modules=extensions())
