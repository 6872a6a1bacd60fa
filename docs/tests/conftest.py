"""Fixtures of the documentation tests: the repository's paths, the Markdown code blocks of
a page, and the site built once per session (importlib mode: helpers are fixtures)."""
import pathlib
import re
import subprocess
import sys

import pytest

DOCS = pathlib.Path(__file__).resolve().parent.parent
ROOT = DOCS.parent

# ```lang ... ``` at the start of a line; the info string's first word is the language
_FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)


def _code_blocks(path, language):
    """The fenced code blocks of a Markdown file whose info string is ``language``, in order,
    each as (line number of its first line, text)."""
    text = pathlib.Path(path).read_text(encoding="utf-8")
    blocks = []
    for match in _FENCE.finditer(text):
        if match.group(1) == language:
            line = text.count("\n", 0, match.start(2)) + 1
            blocks.append((line, match.group(2)))
    return blocks


@pytest.fixture(scope="session")
def docs_dir():
    return DOCS


@pytest.fixture(scope="session")
def root_dir():
    return ROOT


@pytest.fixture(scope="session")
def code_blocks():
    return _code_blocks


@pytest.fixture(scope="session")
def built_site(tmp_path_factory):
    """The HTML site, built once by the command `make docs` runs (warnings are errors), into
    a temporary directory: (returncode, stdout + stderr, output directory)."""
    pytest.importorskip("sphinx", reason="Sphinx is not installed: the site build is checked "
                                          "in tox env `docs` (requirements/docs.txt)")
    out = tmp_path_factory.mktemp("html")
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(out / ".doctrees"), str(DOCS), str(out)],
        capture_output=True, text=True, cwd=ROOT)
    return proc.returncode, proc.stdout + proc.stderr, out
