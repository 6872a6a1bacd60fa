"""Tests of the course's runner and collector, on throwaway lessons written here.

The throwaway lessons use the standard library only, so these tests run in every lesson's
environment. The last test checks the real environment against the real lessons' headers.
"""
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap

import pytest

import _runner

HEADER = "<!-- course: packages=rt-tensor -->\n"


def lesson_file(tmp_path, body, header=HEADER, name="lesson7-throwaway.md"):
    path = tmp_path / name
    path.write_text(header + textwrap.dedent(body))
    return path


def block(code, directive=None):
    lines = ([f"# course: {directive}"] if directive else []) + textwrap.dedent(code).splitlines()
    return "\n```python\n" + "\n".join(lines) + "\n```\n"


def run(tmp_path, body, header=HEADER):
    return _runner.run_lesson(lesson_file(tmp_path, body, header), tmp_path / "figures",
                              tmp_path / "work")


# --- `# course: raises X` ----------------------------------------------------------------

def test_a_block_that_raises_what_its_raises_line_says_passes(tmp_path):
    namespace = run(tmp_path, "Text.\n" + block("before = 1\nint('x')\nafter = 2",
                                                 "raises ValueError")
                    + block("assert before == 1 and 'after' not in globals()"))
    assert namespace["before"] == 1


def test_a_block_that_raises_something_else_fails(tmp_path):
    with pytest.raises(_runner.BlockFailed) as failed:
        run(tmp_path, block("{}['missing']", "raises ValueError"))
    assert "expected it to raise ValueError, but it raised" in failed.value.message
    assert "KeyError: 'missing'" in failed.value.message


def test_raises_means_exactly_that_type_not_a_subclass(tmp_path):
    # json.JSONDecodeError is a ValueError; "raises ValueError" still does not accept it.
    with pytest.raises(_runner.BlockFailed, match="JSONDecodeError"):
        run(tmp_path, block("import json\njson.loads('{')", "raises ValueError"))
    run(tmp_path, block("import json\njson.loads('{')", "raises JSONDecodeError"))
    run(tmp_path, block("import json\njson.loads('{')", "raises json.decoder.JSONDecodeError"))


def test_a_block_that_does_not_raise_fails(tmp_path):
    with pytest.raises(_runner.BlockFailed, match="should raise ValueError .* ran to the end"):
        run(tmp_path, block("x = int('3')", "raises ValueError"))


def test_an_unannounced_exception_fails_with_the_pages_line(tmp_path):
    body = "Some text.\n\n" + block("a = 1\nb = a / 0")
    path = lesson_file(tmp_path, body)
    with pytest.raises(_runner.BlockFailed) as failed:
        _runner.run_lesson(path, tmp_path / "figures")
    line = path.read_text().splitlines().index("b = a / 0") + 1
    assert f'File "{path}", line {line}' in failed.value.message
    assert "b = a / 0" in failed.value.message            # linecache reads the page
    assert "ZeroDivisionError" in failed.value.message


# --- one namespace, FIGURES, scratch directory ------------------------------------------

def test_the_blocks_share_one_namespace_in_order(tmp_path):
    namespace = run(tmp_path,
                    block("x = 2\ndef f():\n    return x * y")
                    + "Between the blocks.\n"
                    + block("y = 3")
                    + block("assert f() == 6\nimport pickle\nclass Point:\n    pass\n"
                            "assert type(pickle.loads(pickle.dumps(Point()))) is Point"))
    assert namespace["f"]() == 6
    assert namespace["__name__"] == "course_lesson7"


def test_figures_is_the_directory_given_before_the_first_block(tmp_path):
    run(tmp_path, block("import pathlib\nassert isinstance(FIGURES, pathlib.Path)\n"
                        "assert FIGURES.is_dir()\n(FIGURES / 'dot.png').write_bytes(b'png')"))
    assert (tmp_path / "figures" / "dot.png").read_bytes() == b"png"


def test_blocks_run_in_the_lessons_scratch_directory(tmp_path):
    here = pathlib.Path.cwd()
    run(tmp_path, block("import pathlib\npathlib.Path('scratch.txt').write_text('hi')"))
    assert (tmp_path / "work" / "scratch.txt").read_text() == "hi"
    assert pathlib.Path.cwd() == here


def test_after_a_failure_nothing_more_runs(tmp_path):
    lesson = _runner.load_lesson(lesson_file(
        tmp_path, block("ran = ['one']") + block("ran.append('two')\n1 / 0")
        + block("ran.append('three')")))
    lesson_run = _runner.LessonRun(lesson, tmp_path / "figures", tmp_path / "work")
    lesson_run.run_through(1)
    with pytest.raises(_runner.BlockFailed):
        lesson_run.run_through(2)
    with pytest.raises(_runner.NotRun, match="block 2 .* failed before it"):
        lesson_run.run_through(3)
    assert lesson_run.namespace["ran"] == ["one", "two"]


def test_a_later_block_alone_runs_the_blocks_before_it_first(tmp_path):
    lesson = _runner.load_lesson(lesson_file(
        tmp_path, block("x = 1") + block("x += 10") + block("x *= 2")))
    lesson_run = _runner.LessonRun(lesson, tmp_path / "figures", tmp_path / "work")
    lesson_run.run_through(3)
    assert lesson_run.namespace["x"] == 22


def test_warnings_are_errors(tmp_path):
    with pytest.raises(_runner.BlockFailed, match="UserWarning: careful"):
        run(tmp_path, block("import warnings\nwarnings.warn('careful')"))


# --- what a page may say -----------------------------------------------------------------

@pytest.mark.parametrize("body, complaint", [
    (block("x = 1", "skip"), "'# course: skip' is not allowed"),
    (block("x = 1", "flaky"), "unknown directive '# course: flaky'"),
    (block("x = 1\n# course: raises ValueError\nint('x')"), "must be the block's first line"),
    ("\n```py\nx = 1\n```\n", "write ```python"),
    ("\n```python\nx = 1\n", "a fence that never closes"),
    ("No code at all.\n", "no ```python blocks"),
])
def test_malformed_pages_are_refused(tmp_path, body, complaint):
    with pytest.raises(_runner.CourseError, match=complaint.replace("(", r"\(")
                       .replace(")", r"\)").replace("*", r"\*")):
        _runner.load_lesson(lesson_file(tmp_path, body))


@pytest.mark.parametrize("header, complaint", [
    ("# Lesson seven\n", "the first line must be a header"),
    ("<!-- course: packages=rt-autograd -->\n", "rt-autograd needs rt-tensor"),
    ("<!-- course: packages=rt-tensor rt-magic -->\n", "'rt-magic' is not an rt package"),
    ("<!-- course: packages=rt-tensor colour=blue -->\n", "unknown header keys"),
])
def test_malformed_headers_are_refused(tmp_path, header, complaint):
    with pytest.raises(_runner.CourseError, match=complaint):
        _runner.load_lesson(lesson_file(tmp_path, block("x = 1"), header=header))


def test_the_header_is_parsed():
    header = _runner.parse_header(
        "<!-- course: packages=rt-tensor rt-autograd extra=matplotlib -->\n# Title\n", "t.md")
    assert header == _runner.Header(("rt-tensor", "rt-autograd"), ("matplotlib",))


def test_fences_of_other_languages_and_longer_fences_are_text(tmp_path):
    lesson = _runner.load_lesson(lesson_file(tmp_path, (
        "\n````markdown\n```python\nnot_run = True\n```\n````\n"
        "\n```text\nalso not run\n```\n"
        + block("ran = True"))))
    assert [b.code for b in lesson.blocks] == ["ran = True\n"]


# --- imports: only the header's packages ------------------------------------------------

def test_a_lesson_imports_only_what_its_header_provides(tmp_path):
    namespace = run(tmp_path,
                    block("import json, numpy, rt_tensor")       # stdlib, a dependency, itself
                    + block("import rt_nn", "raises ModuleNotFoundError")
                    + block("from rt_autograd import Tensor", "raises ModuleNotFoundError")
                    + block("import matplotlib", "raises ModuleNotFoundError"))
    assert namespace["numpy"].__name__ == "numpy"
    with pytest.raises(_runner.BlockFailed, match="header names packages=rt-tensor; a lesson"):
        run(tmp_path, block("import rt_optim"))


def test_extras_and_higher_layers_are_importable_when_named(tmp_path):
    header = _runner.Header(("rt-tensor", "rt-autograd"), ("matplotlib",))
    allowed = _runner.allowed_imports(header)
    assert {"rt_tensor", "rt_autograd", "numpy", "matplotlib"} <= allowed
    assert "rt_nn" not in allowed


# --- the environment check -----------------------------------------------------------------

def fake_find_spec(present):
    return lambda name: object() if name in present else None


def test_environment_check_on_a_made_up_environment():
    header = _runner.Header(("rt-tensor",), ())
    assert _runner.environment_problems(header, True, fake_find_spec({"rt_tensor"})) == []
    crowded = fake_find_spec({"rt_tensor", "rt_nn"})
    assert _runner.environment_problems(header, False, crowded) == []
    assert _runner.environment_problems(header, True, crowded) == [
        "rt_nn is importable, but this environment should hold only rt-tensor"]
    assert _runner.environment_problems(header, False, fake_find_spec(set())) == [
        "the header names rt-tensor, but rt_tensor is not importable"]
    with_extra = _runner.Header(("rt-tensor",), ("matplotlib",))
    assert _runner.environment_problems(with_extra, True, fake_find_spec({"rt_tensor"})) == [
        "the header names extra=matplotlib, but it is not importable"]


def test_the_environment_holds_the_lessons_packages(lesson_number):
    """With RT_COURSE_LESSON=N (tox's courseN): exactly lesson N's rt packages are importable.

    Without it (a developer's .venv holding everything), the lesson's packages and extras
    must at least be importable.
    """
    path = _runner.lesson_paths()[lesson_number]
    header = _runner.parse_header(path.read_text(), path.name)
    isolated = os.environ.get("RT_COURSE_LESSON") == str(lesson_number)
    assert _runner.environment_problems(header, isolated) == []


# --- the collector, run on throwaway lessons -------------------------------------------------

def run_pytest(directory, *args):
    """pytest in a fresh process, in `directory`, as a student would run it."""
    environment = {k: v for k, v in os.environ.items() if k != "RT_COURSE_LESSON"}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=directory, env=environment, capture_output=True, text=True,
                          timeout=300)


def test_the_collector_runs_a_lesson_block_by_block(tmp_path):
    for name in ("conftest.py", "_runner.py", "pytest.ini"):
        shutil.copy(_runner.COURSE_DIR / name, tmp_path / name)
    lesson_file(tmp_path, block("x = 1") + block("assert x == 2, 'x is not 2'")
                + block("y = 3"), name="lesson1-first.md")
    lesson_file(tmp_path, block("z = 0"), name="lesson2-second.md")

    result = run_pytest(tmp_path, "--lesson", "1", "-rs")
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout + result.stderr
    assert "1 failed, 1 passed, 1 skipped" in result.stdout
    assert "lesson1-first.md block 2 (line 8) failed" in result.stdout
    assert "AssertionError: x is not 2" in result.stdout
    assert "not run: lesson1-first.md block 2 (line 8) failed before it" in result.stdout
    assert "lesson2-second" not in result.stdout

    result = run_pytest(tmp_path, "-k", "lesson2", "--collect-only", "-q")
    assert "lesson2-second.md::block01-line4" in result.stdout.splitlines()
    assert "lesson1-first.md" not in result.stdout

    result = run_pytest(tmp_path, "--lesson", "9")
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert "there is no lesson 9" in result.stderr
