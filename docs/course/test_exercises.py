"""The exercises: every worked solution passes its checks; every template fails them the way
its lesson says it will (``NotImplementedError: exercise: ...``, quoted in the lesson)."""
import inspect
import re

import pytest

import _runner


def public_functions(module):
    return {name: inspect.signature(fn) for name, fn in vars(module).items()
            if inspect.isfunction(fn) and not name.startswith("_")
            and fn.__module__ == module.__name__}


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
        assert public_functions(template), f"{exercise.template.name} defines no function"
        assert public_functions(template) == public_functions(solution)


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
