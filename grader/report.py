"""A class run's outputs: the CSV of grades and the summary table.

Example summary row: `word_count | 12/40 passed (30%) | AssertionError: expected 2 words (21)`.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from rich.table import Table
from rich.text import Text

from grader.results import NotebookResult, plain_text

TOP_FAILURES = 3
# A spreadsheet reads a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    """Learner-controlled text for a CSV cell: plain, and never read as a spreadsheet formula.

    Example: csv_text("=HYPERLINK(...).ipynb is not a notebook") -> "'=HYPERLINK(...)..."
    """
    text = plain_text(text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def export_csv(rows: list[tuple[str, NotebookResult]], path: Path) -> Path:
    """One row per submission: student, unit, score, max score, the reason it was not graded,
    then the points of each exercise (columns in the order the exercises first appear)."""
    exercises = list(dict.fromkeys(e.name for _, r in rows for e in r.exercises))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "unit", "score", "max_score", "error", *exercises])
        for student, result in rows:
            points = {e.name: f"{e.points:g}" for e in result.exercises}
            writer.writerow(
                [
                    csv_text(student),
                    result.unit,
                    f"{result.score:g}",
                    f"{result.max_score:g}",
                    csv_text(result.error),
                    *(points.get(name, "") for name in exercises),
                ]
            )
    return path


def summary_table(results: list[NotebookResult]) -> Table:
    """Per unit and exercise: how many passed, and the most common failure messages."""
    table = Table(title="class summary", title_justify="left", show_lines=True)
    table.add_column("unit")
    table.add_column("exercise", style="bold")
    table.add_column("passed", justify="right")
    table.add_column("most common failures", overflow="fold")
    seen: dict[tuple[str, str], list] = {}
    for result in results:
        for exercise in result.exercises:
            seen.setdefault((result.unit, exercise.name), []).append(exercise)
    for (unit, name), attempts in seen.items():
        passed = sum(e.passed for e in attempts)
        failures = Counter(e.message for e in attempts if not e.passed)
        common = "\n".join(f"{n}x {m}" for m, n in failures.most_common(TOP_FAILURES))
        rate = f"{passed}/{len(attempts)} ({100 * passed / len(attempts):.0f}%)"
        table.add_row(
            Text(plain_text(unit)), Text(plain_text(name)), rate, Text(plain_text(common))
        )
    errors = Counter(r.error for r in results if r.error)
    if errors:
        lines = "\n".join(f"{n}x {m}" for m, n in errors.most_common(TOP_FAILURES))
        table.add_row(
            "", "not graded", f"{sum(errors.values())}/{len(results)}", Text(plain_text(lines))
        )
    return table
