"""The exercises: every worked solution passes its checks; every template fails them the way
its lesson says it will (``NotImplementedError: exercise: ...``, quoted in the lesson)."""
import inspect
import re

import pytest

import _runner


def public_api(module):
    """The module's own public functions and classes: name -> signature (for a class, the
    signatures of its own public methods)."""
    api = {}
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(obj):
            api[name] = inspect.signature(obj)
        elif inspect.isclass(obj):
            api[name] = {method: inspect.signature(getattr(obj, method))
                         for method in vars(obj)
                         if not method.startswith("_") and callable(getattr(obj, method))}
    return api


def test_the_lesson_has_two_or_three_exercises(lesson_number):
    found = _runner.exercises(lesson_number)
    assert 2 <= len(found) <= 3, f"lesson {lesson_number}: {[e.name for e in found]}"
    checks = _runner.load_module(
        found[0].checks, f"course_checks_lesson{lesson_number}",
        _runner._lesson_header(lesson_number), also={"pytest", "_pytest"})
    assert sorted(n for n in vars(checks) if n.startswith("check_")) == \
        sorted(f"check_{e.topic}" for e in found)
    for exercise in found:
        assert exercise.solution.exists(), f"no worked solution {exercise.solution}"
        header = _runner._lesson_header(lesson_number)
        template = _runner.load_module(exercise.template, f"course_sig_{exercise.name}", header)
        solution = _runner.load_module(exercise.solution, f"course_sig_sol_{exercise.name}",
                                       header)
        assert public_api(template), f"{exercise.template.name} defines nothing public"
        assert public_api(template) == public_api(solution), \
            f"{exercise.solution.name} must define what {exercise.template.name} defines"


def test_the_worked_solution_passes_its_checks(exercise):
    _runner.check_exercise(exercise, solution=True)


def test_the_template_fails_as_the_lesson_announces(exercise):
    with pytest.raises(NotImplementedError) as unsolved:
        _runner.check_exercise(exercise)
    message = str(unsolved.value)
    assert message.startswith("exercise: "), message
    page = _runner.lesson_paths()[exercise.lesson]
    said = " ".join(page.read_text().split())            # the page may wrap the line
    announced = f"NotImplementedError: {' '.join(message.split())}"
    assert announced in said, f"{page.name} should say what the template raises: {announced}"
