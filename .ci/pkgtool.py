#!/usr/bin/env python3
"""Install rt packages without ever asking a package index for an ``rt-*`` name.

None of the ``rt-*`` names is ours on PyPI (BUILD-NOTES.md), so siblings come only from the
tree or from the local wheelhouse, with ``--no-index``; their *external* dependencies (numpy,
scipy-openblas32, ...) come from the index as usual.

  pkgtool.py build-wheels [--wheelhouse DIR]
      build every package under packages/ once, in layer order, into DIR (default
      wheelhouse/): pip wheel --no-deps --no-build-isolation, reusing each package's build/
  pkgtool.py external-deps rt-tensor rt-autograd
      print the non-rt dependencies declared in packages/<name>/pyproject.toml (one per line)
  pkgtool.py install-wheels --wheelhouse DIR rt-autograd
      install rt-autograd and the rt packages it depends on (transitively) from DIR's wheels
      with --no-index --no-deps --force-reinstall, then their external dependencies from
      the index. Nothing else is installed: a per-package test env proves the layering.
      --all: every package that exists.
"""
import argparse
import email.parser
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIBLING = re.compile(r"^rt[-_]", re.I)
# Layer order (DESIGN.md); only packages whose directory exists take part.
LAYERS = ["rt-tensor", "rt-autograd", "rt-nn", "rt-optim", "rt-import", "rt-distributed"]
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _is_extra(req):
    return ";" in req and "extra" in req.split(";", 1)[1]


def _split(reqs):
    """(sibling names, external requirement strings), extras-only requirements dropped."""
    siblings, external = [], []
    for req in reqs:
        if _is_extra(req):
            continue
        m = NAME.match(req)
        if not m:
            continue
        if SIBLING.match(m.group(1)):
            siblings.append(_norm(m.group(1)))
        else:
            external.append(req.strip())
    return siblings, external


def existing_packages():
    return [p for p in LAYERS if (ROOT / "packages" / p / "pyproject.toml").exists()]


def _build_lock():
    """The lock dev/build takes: builds share each package's build/ directory."""
    import fcntl
    f = open(os.environ.get("RT_BUILD_LOCK", "/tmp/rt-build.lock"), "a")
    fcntl.flock(f, fcntl.LOCK_EX)
    return f


def build_wheels(wheelhouse):
    lock = _build_lock()
    wheelhouse = Path(wheelhouse)
    wheelhouse.mkdir(parents=True, exist_ok=True)
    for old in wheelhouse.glob("*.whl"):   # rebuilt together: siblings are pinned exactly
        old.unlink()
    for name in existing_packages():       # one at a time, in layer order
        print(f"pkgtool: building the {name} wheel", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--disable-pip-version-check", "-q",
                        "--no-deps", "--no-build-isolation", "-w", str(wheelhouse),
                        str(ROOT / "packages" / name)], check=True)
    lock.close()


def pyproject_deps(name):
    data = tomllib.loads((ROOT / "packages" / name / "pyproject.toml").read_text())
    return data.get("project", {}).get("dependencies", [])


def external_deps(names):
    out = []
    for name in names:
        for req in _split(pyproject_deps(name))[1]:
            if req not in out:
                out.append(req)
    return out


def _wheel_for(wheelhouse, name):
    prefix = _norm(name).replace("-", "_") + "-"
    found = [p for p in Path(wheelhouse).glob("*.whl") if p.name.lower().startswith(prefix)]
    if not found:
        sys.exit(f"pkgtool: no wheel for {name} in {wheelhouse} (run the tox `wheels` env "
                 f"or `make wheels` first)")
    return max(found, key=lambda p: p.stat().st_mtime)


def _wheel_requires(wheel):
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        msg = email.parser.Parser().parsestr(zf.read(meta).decode())
    return msg.get_all("Requires-Dist") or []


def install_wheels(wheelhouse, names):
    todo, seen, wheels, external = [_norm(n) for n in names], set(), [], []
    while todo:
        name = todo.pop(0)
        if name in seen:
            continue
        seen.add(name)
        wheel = _wheel_for(wheelhouse, name)
        wheels.append(wheel)
        siblings, ext = _split(_wheel_requires(wheel))
        todo.extend(siblings)
        external.extend(r for r in ext if r not in external)
    # skip when exactly these wheel files are already installed here (a warm tox env)
    stamp = Path(sys.prefix) / ".rt-installed-wheels"
    key = "\n".join(sorted(f"{w.name} {w.stat().st_size} {w.stat().st_mtime_ns}" for w in wheels))
    if stamp.exists() and stamp.read_text() == key and _all_installed(wheels):
        print("pkgtool: up to date:", ", ".join(w.name for w in wheels), flush=True)
        return
    pip = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check"]
    print("pkgtool: installing", ", ".join(w.name for w in wheels), flush=True)
    subprocess.run(pip + ["--no-index", "--no-deps", "--force-reinstall"] + [str(w) for w in wheels],
                   check=True)
    if external:
        print("pkgtool: external dependencies:", ", ".join(external), flush=True)
        subprocess.run(pip + ["-q"] + external, check=True)
    stamp.write_text(key)


def _all_installed(wheels):
    import importlib.metadata as md
    for w in wheels:
        name, version = w.name.split("-")[:2]
        try:
            if md.version(name.replace("_", "-")) != version:
                return False
        except md.PackageNotFoundError:
            return False
    return True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("external-deps")
    e.add_argument("packages", nargs="+")
    i = sub.add_parser("install-wheels")
    i.add_argument("--wheelhouse", default=os.environ.get("RT_WHEELHOUSE", str(ROOT / "wheelhouse")))
    i.add_argument("--all", action="store_true")
    i.add_argument("packages", nargs="*")
    b = sub.add_parser("build-wheels")
    b.add_argument("--wheelhouse", default=os.environ.get("RT_WHEELHOUSE", str(ROOT / "wheelhouse")))
    args = ap.parse_args(argv)
    if args.cmd == "external-deps":
        print("\n".join(external_deps(args.packages)))
    elif args.cmd == "build-wheels":
        build_wheels(args.wheelhouse)
    else:
        names = existing_packages() if args.all else args.packages
        if not names:
            ap.error("install-wheels: name packages or pass --all")
        install_wheels(args.wheelhouse, names)


if __name__ == "__main__":
    main()
