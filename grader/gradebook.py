"""Merging per-worker nbgrader gradebooks into the class gradebook.

Each class-run worker grades into a gradebook of its own (SQLite does not like parallel
writers; nbgrader issue 174). The parent process copies each submission's scores into the
class gradebook with nbgrader's `Gradebook` API, one at a time.
"""

from __future__ import annotations

import warnings
from pathlib import Path

# nbgrader's session use trips SQLAlchemy 2 "not in session" warnings that change nothing.
warnings.filterwarnings("ignore", message=".*not in session.*")


def merge_submission(class_db: Path, worker_db: Path, unit: str, student: str) -> None:
    """Copy `student`'s autograde scores and comments for `unit` from `worker_db` into
    `class_db` (created rows as needed; manual scores already in `class_db` are kept)."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{worker_db}") as src, Gradebook(f"sqlite:///{class_db}") as dst:
        theirs = src.find_submission_notebook(unit, unit, student)
        dst.update_or_create_student(student)
        dst.update_or_create_submission(unit, student)
        for grade in theirs.grades:
            ours = dst.find_grade(grade.name, unit, unit, student)
            ours.auto_score = grade.auto_score
            ours.needs_manual_grade = grade.needs_manual_grade
        for comment in theirs.comments:
            ours = dst.find_comment(comment.name, unit, unit, student)
            ours.auto_comment = comment.auto_comment
        dst.db.commit()


def record_zero(class_db: Path, unit: str, student: str) -> None:
    """A submission that could not be graded: every test of `unit` scores zero."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{class_db}") as gb:
        gb.update_or_create_student(student)
        gb.update_or_create_submission(unit, student)
        for grade in gb.find_submission_notebook(unit, unit, student).grades:
            grade.auto_score = 0
            grade.needs_manual_grade = False
        gb.db.commit()


def has_unit(class_db: Path, unit: str) -> bool:
    """Whether the class gradebook knows `unit` (its cells were recorded)."""
    from nbgrader.api import Gradebook, MissingEntry

    if not class_db.exists():
        return False
    with Gradebook(f"sqlite:///{class_db}") as gb:
        try:
            gb.find_notebook(unit, unit)
        except MissingEntry:
            return False
    return True
