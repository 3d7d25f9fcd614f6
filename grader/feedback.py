"""The learner's feedback: a rich table of exercises, or JSON for machines.

Example output:

    99-fixture: 1/4 points
    ┃ exercise   ┃ points ┃ result ┃ why                            ┃ hint            ┃
    │ add        │    1/1 │ passed │                                │                 │
    │ word_count │    0/3 │ failed │ AssertionError: expected 2 ... │ Use text.split… │
"""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.results import NotebookResult, plain_text


def _points(value: float) -> str:
    return f"{value:g}"


def learner_text(text: str, style: str = "") -> Text:
    """Text that a notebook may have written, shown as it is: never read as rich markup
    ("[bold green]passed[/]" stays those characters), with escape sequences removed."""
    return Text(plain_text(text), style)


def feedback_table(result: NotebookResult) -> Table:
    """One row per exercise: points, passed/failed, why it failed, and the unit's hint."""
    title = f"{result.unit}: {_points(result.score)}/{_points(result.max_score)} points"
    table = Table(title=learner_text(title), title_justify="left", show_lines=True)
    table.add_column("exercise", style="bold")
    table.add_column("points", justify="right")
    table.add_column("result")
    table.add_column("why", overflow="fold")
    table.add_column("hint", style="italic", overflow="fold")
    for exercise in result.exercises:
        status = Text("passed", "green") if exercise.passed else Text("failed", "red")
        points = f"{_points(exercise.points)}/{_points(exercise.max_points)}"
        hint = "" if exercise.passed else exercise.hint
        table.add_row(
            learner_text(exercise.name),
            points,
            status,
            learner_text(exercise.message),
            learner_text(hint),
        )
    return table


def print_feedback(result: NotebookResult, console: Console | None = None) -> None:
    """Print the table, or the reason the notebook could not be graded."""
    console = console or Console()
    if result.error:
        console.print(Text("error: ", "red") + learner_text(result.error), highlight=False)
        return
    console.print(feedback_table(result))
    if result.full_marks:
        console.print("[green]All tests pass: full marks.[/green]")


def to_json(result: NotebookResult) -> str:
    """The result as JSON (`agents-grade --json`)."""
    return json.dumps(result.to_dict(), indent=2)
