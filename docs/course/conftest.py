"""The course's collector: every lesson page is a test file, every ```python block a test.

``pytest docs/course`` collects each ``lessonN-<topic>.md`` as one test item per code block,
in page order, sharing the lesson's namespace (see ``_runner.py`` for the rules of a page).
A failing block fails; the blocks after it are reported as not run (skipped, with the
failing block named). Selecting a block alone (``-k block05``) still runs the blocks before
it first.

``--lesson N`` (or the environment variable ``RT_COURSE_LESSON=N``, which the tox envs
``courseN`` set) keeps lesson N only: its blocks, its exercises and its environment check.
``-k lesson1`` selects by name as usual. ``--course-figures DIR`` keeps the pictures the
lessons draw in DIR (by default they go to a temporary directory).
"""
import os
import shutil
import tempfile
from pathlib import Path

import pytest

import _runner

_SCRATCH = pytest.StashKey[Path]()


def pytest_addoption(parser):
    group = parser.getgroup("course", "the rt course (docs/course)")
    group.addoption("--lesson", type=int, default=None, metavar="N",
                    help="only lesson N: its code blocks, exercises and environment check")
    group.addoption("--course-figures", type=Path, default=None, metavar="DIR",
                    help="where the lessons' pictures go (default: a temporary directory)")


def selected_lessons(config) -> list[int]:
    """The lessons this run is about: --lesson / RT_COURSE_LESSON, or all of them."""
    option = config.getoption("lesson")
    env = os.environ.get("RT_COURSE_LESSON")
    if env is not None and option is not None and int(env) != option:
        raise pytest.UsageError(f"--lesson {option} but RT_COURSE_LESSON={env}")
    chosen = option if option is not None else (int(env) if env else None)
    every = sorted(set(_runner.lesson_paths()) | {e.lesson for e in _runner.exercises()})
    if chosen is None:
        return every
    if chosen not in _runner.lesson_paths():
        raise pytest.UsageError(f"there is no lesson {chosen} in {_runner.COURSE_DIR}")
    return [chosen]


def pytest_configure(config):
    selected_lessons(config)                         # a wrong --lesson is a usage error
    os.environ.setdefault("MPLBACKEND", "Agg")      # pictures are files, never windows
    config.stash[_SCRATCH] = Path(tempfile.mkdtemp(prefix="rt-course-"))


def pytest_unconfigure(config):
    scratch = config.stash.get(_SCRATCH, None)
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)


def pytest_collect_file(file_path, parent):
    number = _runner.lesson_number(file_path)
    if number is None or file_path.suffix != ".md":
        return None
    option = parent.config.getoption("lesson")
    env = os.environ.get("RT_COURSE_LESSON")
    chosen = option if option is not None else (int(env) if env else None)
    if chosen is not None and number != chosen:
        return None
    return LessonFile.from_parent(parent, path=file_path)


def pytest_generate_tests(metafunc):
    lessons = selected_lessons(metafunc.config)
    if "lesson_number" in metafunc.fixturenames:
        metafunc.parametrize("lesson_number", lessons, ids=[f"lesson{n}" for n in lessons])
    if "exercise" in metafunc.fixturenames:
        found = [e for n in lessons for e in _runner.exercises(n)]
        metafunc.parametrize("exercise", found, ids=[e.name for e in found])


class LessonFile(pytest.File):
    """A lesson page: its blocks, in order, and the one namespace they run in."""

    def collect(self):
        self.lesson = _runner.load_lesson(self.path)
        self._run = None
        for block in self.lesson.blocks:
            yield BlockItem.from_parent(self, name=block.name, block=block)

    def lesson_run(self) -> _runner.LessonRun:
        if self._run is None:
            figures = self.config.getoption("course_figures")
            scratch = self.config.stash[_SCRATCH] / f"lesson{self.lesson.number}"
            self._run = _runner.LessonRun(self.lesson, figures or scratch / "figures",
                                          scratch / "work")
        return self._run


class BlockItem(pytest.Item):
    def __init__(self, *, block, **kwargs):
        super().__init__(**kwargs)
        self.block = block

    def runtest(self):
        try:
            self.parent.lesson_run().run_through(self.block.index)
        except _runner.NotRun as not_run:
            pytest.skip(str(not_run))

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, (_runner.BlockFailed, _runner.CourseError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, self.block.line - 1, self.block.where()
