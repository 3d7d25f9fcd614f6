"""grader.mistakes: wrong answers as edits of a solution cell, failing loudly when stale."""

import pytest
from grader_helpers import FIXTURES, UNIT

from grader.course import CourseError
from grader.mistakes import edited_solution, solution_editor, solution_source

NOTEBOOK = FIXTURES / "solutions" / UNIT / f"{UNIT}.ipynb"


def test_the_solution_source_drops_the_marker_lines():
    source = solution_source(NOTEBOOK, "add")
    assert "return a + b" in source and "# Hint: one operator is enough." in source
    assert "BEGIN SOLUTION" not in source and "END SOLUTION" not in source


def test_an_edit_replaces_exactly_one_occurrence():
    wrong = edited_solution(NOTEBOOK, "add", ("return a + b", "return a - b"))
    assert "return a - b" in wrong and "return a + b" not in wrong


@pytest.mark.parametrize("old", ["return a * b", "a"])
def test_an_edit_that_does_not_apply_once_is_an_error(old):
    with pytest.raises(ValueError, match="not in the solution exactly once"):
        edited_solution(NOTEBOOK, "add", (old, "x"))


def test_an_unknown_cell_is_an_error():
    with pytest.raises(KeyError, match="no cell 'subtract'"):
        solution_source(NOTEBOOK, "subtract")


def test_a_solution_editor_is_bound_to_a_unit_and_a_cell(monkeypatch):
    monkeypatch.setenv("AGENTS_GRADE_ROOT", str(FIXTURES))
    edit = solution_editor(UNIT, "add")
    assert edit(("return a + b", "return b")) == edited_solution(
        NOTEBOOK, "add", ("return a + b", "return b")
    )
    with pytest.raises(CourseError, match="unknown unit 'no-such-unit'"):
        solution_editor("no-such-unit")
