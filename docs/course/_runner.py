"""Run the course's lessons like scripts, and check the exercises.

A lesson is a MyST Markdown page ``docs/course/lessonN-<topic>.md``:

- Its first line is a header naming what the lesson may import::

      <!-- course: packages=rt-tensor rt-autograd extra=matplotlib -->

  ``packages`` are rt distributions (with every rt package they depend on); ``extra`` are
  other distributions the lesson uses (optional).
- Every ```` ```python ```` fenced block runs, top to bottom, in one namespace per lesson
  (a module named ``course_lessonN``), like a script. Before the first block the namespace
  holds ``FIGURES``, a :class:`pathlib.Path` to the directory where pictures go. Blocks run
  with the current directory set to a scratch directory of the lesson's own.
- A block whose first line is ``# course: raises SomeError`` must raise exactly that
  exception type (by name, or dotted ``module.Name``); ``# course: skip`` is refused, and so
  is any other ``# course:`` line.
- A block may import only the standard library, the packages of the header, what those
  packages declare as dependencies (numpy, onnx, ...) and the header's extras: anything else
  raises ModuleNotFoundError, as it would in the lesson's own test environment (tox's
  ``courseN``, which installs only those packages).

Exercises: ``exercises/lessonN_<topic>.py`` (the student's template),
``solutions/lessonN_<topic>.py`` (the worked solution, same functions) and
``exercises/checks_lessonN.py`` with one ``check_<topic>(module)`` per exercise. A template's
unsolved function raises ``NotImplementedError("exercise: ...")`` and the lesson's text
announces that message verbatim, as ``NotImplementedError: exercise: ...``.

Used by ``conftest.py`` (one test item per block), by the documentation build
(``run_lesson(path, figures_dir)`` makes the pictures) and by students::

    python docs/course/_runner.py run docs/course/lesson1-tensor.md   # a lesson, as a script
    python docs/course/_runner.py check 1                             # my exercises of lesson 1
    python docs/course/_runner.py check 1 --solutions                 # the worked solutions
"""
from __future__ import annotations

import builtins
import contextlib
import dataclasses
import importlib.util
import os
import re
import sys
import tempfile
import tomllib
import traceback
import types
import warnings
from importlib import metadata
from pathlib import Path

COURSE_DIR = Path(__file__).resolve().parent
EXERCISES_DIR = COURSE_DIR / "exercises"
SOLUTIONS_DIR = COURSE_DIR / "solutions"
PACKAGES_DIR = COURSE_DIR.parent.parent / "packages"

LESSON_NAME = re.compile(r"lesson(\d+)-[A-Za-z0-9_-]+\.md")
EXERCISE_NAME = re.compile(r"lesson(\d+)_([A-Za-z0-9_]+)\.py")
HEADER = re.compile(r"<!--\s*course:(.*?)-->")
FENCE_OPEN = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
DIRECTIVE = re.compile(r"^#\s*course:\s*(?P<what>.*?)\s*$")
RAISES = re.compile(r"^raises\s+(?P<name>[A-Za-z_][A-Za-z0-9_.]*)$")
# Info strings that look like Python but would not run: refused rather than silently skipped.
NOT_RUN_PYTHON = {"py", "python3", "ipython", "ipython3", "{code-cell}"}

# The rt layers, used when the repository's packages/ is not there to read.
_RT_FALLBACK = {
    "rt-tensor": (),
    "rt-autograd": ("rt-tensor",),
    "rt-nn": ("rt-autograd", "rt-tensor"),
    "rt-optim": ("rt-autograd", "rt-tensor"),
    "rt-import": ("rt-nn", "rt-autograd", "rt-tensor"),
    "rt-distributed": ("rt-nn", "rt-optim", "rt-autograd", "rt-tensor"),
}


class CourseError(Exception):
    """A lesson or exercise file that breaks the course's rules (header, fences, directives)."""


class BlockFailed(Exception):
    """A block raised (or did not raise what its ``# course: raises`` line says)."""

    def __init__(self, block: "Block", message: str):
        super().__init__(message)
        self.block = block
        self.message = message


# --- the rt packages -------------------------------------------------------------------------

def _dist_key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    return _dist_key(re.match(r"[A-Za-z0-9_.-]+", requirement).group(0))


def _pyprojects() -> dict[str, list[str]]:
    """Every rt distribution of the repository -> its dependencies (requirement strings)."""
    found = {}
    for pyproject in sorted(PACKAGES_DIR.glob("rt-*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text())["project"]
        found[_dist_key(project["name"])] = list(project.get("dependencies", []))
    return found


def rt_packages() -> dict[str, tuple[str, ...]]:
    """Every rt distribution -> the rt distributions it depends on (read from pyproject.toml)."""
    found = {dist: tuple(d for d in map(_requirement_name, deps) if d.startswith("rt-"))
             for dist, deps in _pyprojects().items()}
    return found or dict(_RT_FALLBACK)


def _requirements(dist: str) -> list[str]:
    """The names of what ``dist`` depends on (not its extras): from its installed metadata,
    else from the repository's pyproject.toml."""
    try:
        requires = metadata.requires(dist)
    except metadata.PackageNotFoundError:
        requires = _pyprojects().get(_dist_key(dist))
    return [_requirement_name(r) for r in requires or []
            if not re.search(r"\bextra\s*==", r)]


def module_name(dist: str) -> str:
    """``rt-tensor`` -> ``rt_tensor`` (the import name of an rt distribution)."""
    return _dist_key(dist).replace("-", "_")


# --- parsing ----------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Header:
    packages: tuple[str, ...]
    extras: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Block:
    lesson: Path
    index: int          # 1-based, in order of the page
    line: int           # line of the page where the code starts (after the fence)
    code: str
    raises: str | None  # the exception name of a `# course: raises X` block

    @property
    def name(self) -> str:
        return f"block{self.index:02d}-line{self.line}"

    def where(self) -> str:
        return f"{self.lesson.name} block {self.index} (line {self.line})"


@dataclasses.dataclass(frozen=True)
class Lesson:
    path: Path
    number: int
    header: Header
    blocks: tuple[Block, ...]

    @property
    def text(self) -> str:
        return self.path.read_text()


def lesson_number(path: Path) -> int | None:
    m = LESSON_NAME.fullmatch(Path(path).name)
    return int(m.group(1)) if m else None


def lesson_paths(course_dir: Path = COURSE_DIR) -> dict[int, Path]:
    """Lesson number -> its page, for every ``lessonN-*.md`` of the course."""
    found: dict[int, Path] = {}
    for path in sorted(Path(course_dir).glob("lesson*-*.md")):
        n = lesson_number(path)
        if n is None:
            continue
        if n in found:
            raise CourseError(f"two pages for lesson {n}: {found[n].name} and {path.name}")
        found[n] = path
    return found


def parse_header(text: str, where: str) -> Header:
    first = next((line for line in text.splitlines() if line.strip()), "")
    m = HEADER.fullmatch(first.strip())
    if not m:
        raise CourseError(f"{where}: the first line must be a header like "
                          "'<!-- course: packages=rt-tensor -->', not {first!r}")
    fields: dict[str, list[str]] = {}
    key = None
    for token in m.group(1).split():
        if "=" in token:
            key, _, token = token.partition("=")
            fields.setdefault(key, [])
        if key is None:
            raise CourseError(f"{where}: header token {token!r} before any 'key='")
        if token:
            fields[key].append(token)
    unknown = set(fields) - {"packages", "extra"}
    if unknown:
        raise CourseError(f"{where}: unknown header keys {sorted(unknown)} "
                          "(only packages= and extra=)")
    packages = tuple(_dist_key(p) for p in fields.get("packages", []))
    if not packages:
        raise CourseError(f"{where}: the header names no packages")
    known = rt_packages()
    for p in packages:
        if p not in known:
            raise CourseError(f"{where}: {p!r} is not an rt package ({', '.join(known)})")
        missing = [d for d in known[p] if d not in packages]
        if missing:
            raise CourseError(f"{where}: {p} needs {', '.join(missing)}: name it too, "
                              "the lesson's environment installs it")
    return Header(packages, tuple(_dist_key(e) for e in fields.get("extra", [])))


def parse_blocks(text: str, path: Path) -> tuple[Block, ...]:
    blocks = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE_OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        fence, indent = m.group("fence"), len(m.group("indent"))
        info = m.group("info").strip()
        lang = info.split()[0] if info else ""
        start = i + 1
        close = re.compile(r"^\s*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$")
        j = start
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        if j == len(lines):
            raise CourseError(f"{path.name} line {i + 1}: a fence that never closes")
        if lang in NOT_RUN_PYTHON:
            raise CourseError(f"{path.name} line {i + 1}: write ```python (a {lang!r} block "
                              "would not run)")
        if lang == "python":
            body = [ln[indent:] if ln[:indent].strip() == "" else ln for ln in lines[start:j]]
            blocks.append(_make_block(path, len(blocks) + 1, start + 1, body))
        i = j + 1
    if not blocks:
        raise CourseError(f"{path.name}: no ```python blocks")
    return tuple(blocks)


def _make_block(path: Path, index: int, line: int, body: list[str]) -> Block:
    raises = None
    code_lines = [k for k, ln in enumerate(body) if ln.strip()]
    first = body[code_lines[0]] if code_lines else ""
    for k in code_lines[1:]:
        if DIRECTIVE.match(body[k].strip()):
            raise CourseError(f"{path.name} block {index} (line {line}): a '# course:' "
                              "line must be the block's first line")
    d = DIRECTIVE.match(first.strip())
    if d:
        what = d.group("what")
        r = RAISES.match(what)
        if what.split()[:1] == ["skip"]:
            raise CourseError(f"{path.name} block {index} (line {line}): '# course: skip' is "
                              "not allowed: every block of a lesson runs")
        if not r:
            raise CourseError(f"{path.name} block {index} (line {line}): unknown directive "
                              f"'# course: {what}' (only '# course: raises SomeError')")
        raises = r.group("name")
    return Block(path, index, line, "\n".join(body) + "\n", raises)


def load_lesson(path: Path) -> Lesson:
    path = Path(path).resolve()
    number = lesson_number(path)
    if number is None:
        raise CourseError(f"{path.name}: a lesson's file is named lessonN-<topic>.md")
    text = path.read_text()
    return Lesson(path, number, parse_header(text, path.name), parse_blocks(text, path))


# --- what a lesson may import ------------------------------------------------------------------

def _modules_of_dist(dist: str) -> set[str]:
    by_dist: dict[str, set[str]] = {}
    for module, dists in metadata.packages_distributions().items():
        for d in dists:
            by_dist.setdefault(_dist_key(d), set()).add(module)
    return by_dist.get(_dist_key(dist), set()) | {_dist_key(dist).replace("-", "_")}


def allowed_imports(header: Header) -> set[str]:
    """Top-level module names a lesson with this header may import (beyond the stdlib)."""
    allowed: set[str] = set()
    for dist in header.packages + header.extras:
        allowed |= _modules_of_dist(dist)
    for dist in header.packages:
        for requirement in _requirements(dist):
            allowed |= _modules_of_dist(requirement)
    return allowed


def guarded_builtins(header: Header, where: str, also: set[str] = frozenset()) -> dict:
    """A builtins dict whose ``__import__`` refuses modules the header does not provide."""
    allowed = allowed_imports(header) | set(also)
    real_import = builtins.__import__

    def __import__(name, globals=None, locals=None, fromlist=(), level=0):
        top = name.partition(".")[0]
        # course_*: the lessons' own modules (pickle imports a lesson's classes by name).
        if (level == 0 and top not in allowed and top not in sys.stdlib_module_names
                and not top.startswith("course_")):
            raise ModuleNotFoundError(
                f"No module named {top!r} for {where}: its header names "
                f"packages={' '.join(header.packages)}"
                + (f" extra={' '.join(header.extras)}" if header.extras else "")
                + "; a lesson imports only those, their dependencies and the standard library",
                name=top)
        return real_import(name, globals, locals, fromlist, level)

    guarded = dict(vars(builtins))
    guarded["__import__"] = __import__
    return guarded


def environment_problems(header: Header, isolated: bool,
                         find_spec=importlib.util.find_spec) -> list[str]:
    """What is wrong with this Python environment for a lesson with this header.

    The header's packages and extras must be importable. ``isolated`` (the lesson's own
    environment, tox's ``courseN``): no other rt package may be importable either, so a
    lesson that quietly uses a higher layer fails there.
    """
    problems = []
    for dist in rt_packages():
        module = module_name(dist)
        present = find_spec(module) is not None
        if dist in header.packages and not present:
            problems.append(f"the header names {dist}, but {module} is not importable")
        elif isolated and dist not in header.packages and present:
            problems.append(f"{module} is importable, but this environment should hold only "
                            f"{' '.join(header.packages)}")
    for extra in header.extras:
        if not any(find_spec(m) is not None for m in sorted(_modules_of_dist(extra))):
            problems.append(f"the header names extra={extra}, but it is not importable")
    return problems


# --- running ------------------------------------------------------------------------------------

def _exception_matches(exc: BaseException, name: str) -> bool:
    cls = type(exc)
    return name in (cls.__name__, f"{cls.__module__}.{cls.__qualname__}")


def _format_exception(exc: BaseException, lesson: Path) -> str:
    """The traceback from the lesson's own line on (the runner's frames left out)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != str(lesson):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb if tb is not None
                                              else exc.__traceback__))


class LessonRun:
    """One lesson's namespace, run block by block, in order.

    ``run_through(k)`` runs every block up to and including block k that has not run yet (so
    a test of block 5 alone still has blocks 1-4 behind it). After a failure nothing more
    runs: later calls raise :class:`NotRun`.
    """

    def __init__(self, lesson: Lesson, figures: Path, workdir: Path):
        self.lesson = lesson
        self.figures = Path(figures)
        self.figures.mkdir(parents=True, exist_ok=True)
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.module = types.ModuleType(f"course_lesson{lesson.number}",
                                       f"lesson {lesson.number} of the course, run as a script")
        self.module.__file__ = str(lesson.path)
        self.module.__builtins__ = guarded_builtins(lesson.header, lesson.path.name)
        self.module.FIGURES = self.figures
        self.namespace = self.module.__dict__
        self.done = 0                       # blocks run so far
        self.failed: Block | None = None

    def run_through(self, index: int) -> None:
        if self.failed is not None:
            raise NotRun(f"not run: {self.failed.where()} failed before it")
        for block in self.lesson.blocks[self.done:index]:
            try:
                self._run_block(block)
            except BaseException:
                self.failed = block
                raise
            self.done = block.index

    def run_all(self) -> None:
        self.run_through(len(self.lesson.blocks))

    def _run_block(self, block: Block) -> None:
        # Padding with newlines makes the code's line numbers those of the page, so a
        # traceback points into the .md file (and shows its lines: linecache reads it).
        code = compile("\n" * (block.line - 1) + block.code, str(block.lesson), "exec")
        sys.modules[self.module.__name__] = self.module
        with contextlib.chdir(self.workdir):
            try:
                exec(code, self.namespace)
            except Exception as exc:
                if block.raises is not None and _exception_matches(exc, block.raises):
                    return
                expected = (f"expected it to raise {block.raises}, but it raised:\n"
                            if block.raises else "")
                raise BlockFailed(block, f"{block.where()} failed: {expected}"
                                  + _format_exception(exc, block.lesson)) from exc
        if block.raises is not None:
            raise BlockFailed(block, f"{block.where()} should raise {block.raises} (its "
                              "'# course: raises' line says so), but ran to the end")


class NotRun(Exception):
    """A block after the lesson's failing block."""


def run_lesson(path: Path, figures_dir: Path, workdir: Path | None = None) -> dict:
    """Run every block of the lesson at ``path``; pictures go to ``figures_dir``.

    Warnings are errors, as in the tests. Returns the lesson's namespace; raises
    :class:`BlockFailed` (or :class:`CourseError` for a malformed page) on failure.
    """
    lesson = load_lesson(path)
    os.environ.setdefault("MPLBACKEND", "Agg")      # pictures are files, never windows
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(
                prefix=f"course-lesson{lesson.number}-")))
        stack.enter_context(warnings.catch_warnings())
        warnings.simplefilter("error")
        run = LessonRun(lesson, figures_dir, workdir)
        run.run_all()
        return run.namespace


# --- exercises ------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Exercise:
    lesson: int
    topic: str

    @property
    def name(self) -> str:
        return f"lesson{self.lesson}_{self.topic}"

    @property
    def template(self) -> Path:
        return EXERCISES_DIR / f"{self.name}.py"

    @property
    def solution(self) -> Path:
        return SOLUTIONS_DIR / f"{self.name}.py"

    @property
    def checks(self) -> Path:
        return EXERCISES_DIR / f"checks_lesson{self.lesson}.py"


def exercises(lesson: int | None = None) -> list[Exercise]:
    """The exercises (templates in exercises/) of one lesson, or of all."""
    found = []
    for path in sorted(EXERCISES_DIR.glob("lesson*_*.py")):
        m = EXERCISE_NAME.fullmatch(path.name)
        if m and (lesson is None or int(m.group(1)) == lesson):
            found.append(Exercise(int(m.group(1)), m.group(2)))
    return found


def _lesson_header(number: int) -> Header:
    path = lesson_paths().get(number)
    if path is None:
        raise CourseError(f"exercises of lesson {number}, but no lesson{number}-*.md")
    return parse_header(path.read_text(), path.name)


def load_module(path: Path, name: str, header: Header, also: set[str] = frozenset()):
    """Import the file at ``path`` as module ``name``, with the lesson's import rules."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    module.__builtins__ = guarded_builtins(header, Path(path).name, also)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def check_function(exercise: Exercise):
    header = _lesson_header(exercise.lesson)
    checks = load_module(exercise.checks, f"course_checks_lesson{exercise.lesson}", header,
                         also={"pytest", "_pytest"})
    fn = getattr(checks, f"check_{exercise.topic}", None)
    if fn is None:
        raise CourseError(f"{exercise.checks.name} has no check_{exercise.topic}(module)")
    return fn


def check_exercise(exercise: Exercise, solution: bool = False) -> None:
    """Run the exercise's checks on the template (or on the worked solution)."""
    header = _lesson_header(exercise.lesson)
    path = exercise.solution if solution else exercise.template
    kind = "solution" if solution else "exercise"
    module = load_module(path, f"course_{kind}_{exercise.name}", header)
    check_function(exercise)(module)


def _main(argv: list[str]) -> int:
    import argparse
    parser = argparse.ArgumentParser(prog="python docs/course/_runner.py",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a lesson's code blocks, top to bottom")
    run.add_argument("lesson", type=Path)
    run.add_argument("--figures", type=Path, default=COURSE_DIR / "_generated")
    check = sub.add_parser("check", help="check a lesson's exercises")
    check.add_argument("lesson", type=int)
    check.add_argument("--solutions", action="store_true",
                       help="check the worked solutions instead of exercises/")
    args = parser.parse_args(argv)
    if args.command == "run":
        try:
            run_lesson(args.lesson, args.figures)
        except (BlockFailed, CourseError) as failure:
            print(failure, file=sys.stderr)
            return 1
        print(f"{args.lesson}: every block ran; pictures in {args.figures}")
        return 0
    failures = 0
    for exercise in exercises(args.lesson):
        try:
            check_exercise(exercise, solution=args.solutions)
        except Exception as exc:
            failures += 1
            print(f"{exercise.name}: {type(exc).__name__}: {exc}")
        else:
            print(f"{exercise.name}: ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
