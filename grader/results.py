"""Grades as data: tests (nbgrader grade cells) grouped into exercises (graded functions).

Test cells are named `test_<function>` or `test_<function>_<suffix>` (see NOTEBOOKS.md), so a
test belongs to the longest solution cell name it starts with.

Example:
    >>> exercise_of("test_word_count_hidden", ["word_count", "word"])
    'word_count'
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from grader.limits import MESSAGE_CHARS

# Terminal escape sequences: CSI ("\x1b[31m"), OSC ("\x1b]0;title\x07", hyperlinks), the other
# string commands (DCS, SOS, PM, APC) and two-character escapes.
ESCAPES = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]?|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|.?)",
    re.DOTALL,
)
# Control characters other than tab and newline (C0, DEL, C1) and the bidirectional overrides
# that make a terminal show text in another order than it is.
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# IPython marks the failing line of a traceback frame with an arrow: "----> 3 assert f(1) == 2".
ARROW = re.compile(r"^-*>\s*\d+\s+(.*)$")


@dataclass
class TestResult:
    """One nbgrader grade cell: its score and, when it lost points, why."""

    grade_id: str
    points: float
    max_points: float
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.points >= self.max_points


@dataclass
class ExerciseResult:
    """One graded function and the tests that check it."""

    name: str
    tests: list[TestResult]
    hint: str = ""

    @property
    def points(self) -> float:
        return sum(t.points for t in self.tests)

    @property
    def max_points(self) -> float:
        return sum(t.max_points for t in self.tests)

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.tests)

    @property
    def message(self) -> str:
        """Why the first failing test failed ('' when all passed)."""
        return next((t.message for t in self.tests if not t.passed), "")


@dataclass
class NotebookResult:
    """The grade of one notebook, or the reason it could not be graded (`error`)."""

    unit: str
    notebook: str
    exercises: list[ExerciseResult] = field(default_factory=list)
    error: str = ""
    max_score: float = 0.0

    @property
    def score(self) -> float:
        return sum(e.points for e in self.exercises)

    @property
    def full_marks(self) -> bool:
        return not self.error and self.max_score > 0 and self.score >= self.max_score

    def to_dict(self) -> dict:
        """JSON-ready: the fields plus score, passed flags and messages per exercise."""
        return {
            "unit": self.unit,
            "notebook": self.notebook,
            "score": self.score,
            "max_score": self.max_score,
            "full_marks": self.full_marks,
            "error": self.error,
            "exercises": [
                {
                    "name": e.name,
                    "points": e.points,
                    "max_points": e.max_points,
                    "passed": e.passed,
                    "message": e.message,
                    "hint": e.hint,
                    "tests": [{**asdict(t), "passed": t.passed} for t in e.tests],
                }
                for e in self.exercises
            ],
        }

    @classmethod
    def from_dict(cls, data: dict) -> NotebookResult:
        """Inverse of `to_dict`."""
        exercises = [
            ExerciseResult(
                name=e["name"],
                hint=e.get("hint", ""),
                tests=[
                    TestResult(t["grade_id"], t["points"], t["max_points"], t.get("message", ""))
                    for t in e["tests"]
                ],
            )
            for e in data.get("exercises", [])
        ]
        return cls(
            unit=data["unit"],
            notebook=data["notebook"],
            exercises=exercises,
            error=data.get("error", ""),
            max_score=data.get("max_score", 0.0),
        )


def plain_text(text: str) -> str:
    """Learner-controlled text made safe to print: escape sequences and control characters
    removed, so that a failure message cannot retitle the terminal, plant a hyperlink or clear
    the screen. (Show it with rich's `Text`, never as markup.)

    Example: plain_text("\x1b]0;pwned\x07ok\x1b[31m!") -> "ok!"
    """
    return CONTROLS.sub("", ESCAPES.sub("", text))


def exercise_of(grade_id: str, functions: list[str]) -> str:
    """The graded function a test cell belongs to (its grade_id without `test_` if none fits)."""
    name = grade_id.removeprefix("test_")
    matches = [f for f in functions if name == f or name.startswith(f + "_")]
    return max(matches, key=len) if matches else name


def failure_message(outputs: list[dict]) -> str:
    """Why a test cell failed, in one line: the assertion message or the exception's last line
    (the failing source line when an assertion has no message), or what it wrote to stderr."""
    for output in outputs:
        if output.get("output_type") == "error":
            ename, evalue = output.get("ename", "Error"), output.get("evalue", "")
            if not evalue:
                lines = [
                    ESCAPES.sub("", line)
                    for tb in output.get("traceback", [])
                    for line in tb.splitlines()
                ]
                arrows = [m.group(1).strip() for line in lines if (m := ARROW.match(line))]
                evalue = arrows[-1] if arrows else ""
            return _one_line(f"{ename}: {evalue}" if evalue else ename)
    for output in outputs:
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            return _one_line("wrote to stderr: " + output.get("text", "").strip())
    return ""


def _one_line(text: str) -> str:
    text = " ".join(plain_text(text).split())
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 3] + "..."
