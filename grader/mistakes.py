"""Plausible wrong answers written as edits of a solution cell, to prove the tests catch them.

A course author checks hidden tests by grading wrong answers: each must lose points. Written
out in full, a wrong answer drifts from the solution as the notebook changes; written as an
edit of the solution cell (what the solution says, what the learner wrote instead), it stays in
step, and an edit that no longer applies fails loudly. `tests/wrong_answers/<unit>.py` uses it.

Example:
    >>> edited_solution(path, "add", ("return a + b", "return a - b"))
    'def add(a, b):\\n    return a - b'
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path

from grader.course import find_course_root, source_notebook

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def solution_source(notebook: Path, grade_id: str) -> str:
    """The source of the cell `grade_id` in `notebook`, without the solution marker lines."""
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            lines = "".join(cell["source"]).splitlines()
            return "\n".join(
                line for line in lines if not any(mark in line for mark in SOLUTION_MARKERS)
            )
    raise KeyError(f"no cell {grade_id!r} in {notebook}")


def edited_solution(notebook: Path, grade_id: str, *edits: tuple[str, str]) -> str:
    """The solution cell `grade_id` with each (old, new) edit applied; each `old` must occur
    exactly once, so an edit that the notebook outgrew is an error, not a silent no-op."""
    source = solution_source(notebook, grade_id)
    for old, new in edits:
        if source.count(old) != 1:
            raise ValueError(f"{grade_id}: {old!r} is not in the solution exactly once")
        source = source.replace(old, new)
    return source


def solution_editor(unit: str, *grade_id: str) -> Callable[..., str]:
    """`edited_solution` bound to the source notebook of `unit` in this course (and, given a
    grade id, to that cell). Example: `_edit = solution_editor("02-tools")`, then
    `_edit("add", ("a + b", "a - b"))`."""
    return partial(edited_solution, source_notebook(find_course_root(), unit), *grade_id)
