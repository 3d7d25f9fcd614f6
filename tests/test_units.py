"""The course notebooks, graded for real by the course's own grader (nbgrader's autograde).

For every unit in `solutions/`:
- `units/` is exactly what nbgrader's generate_assignment makes of `solutions/` (no drift);
- no notebook is committed with outputs;
- the solution notebook gets full marks, run top to bottom in a fresh kernel;
- the released notebook runs to the end and gets zero (NotImplementedError cells are failures,
  not crashes);
- every plausible wrong answer in `tests/wrong_answers/<unit>.py` loses points.

Wrong answers are graded in rounds: round k puts the k-th wrong answer of every exercise into
the released notebook at once, so a unit costs two gradings however many exercises it has.
Each exercise must lose points in every round.
"""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import pytest
from grader_helpers import needs_bwrap

from grader.autograde import grade_notebook
from grader.kernel import configure_sandbox, use_launch_hook
from grader.release import drift

REPO = Path(__file__).resolve().parents[1]
UNITS = sorted(p.name for p in (REPO / "solutions").iterdir() if p.is_dir())
WRONG_DIR = Path(__file__).resolve().parent / "wrong_answers"

pytestmark = pytest.mark.slow


def notebook(folder: str, unit: str) -> Path:
    return REPO / folder / unit / f"{unit}.ipynb"


def wrong_answers(unit: str) -> dict[str, list[str]]:
    spec = importlib.util.spec_from_file_location(f"wrong_{unit}", WRONG_DIR / f"{unit}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.WRONG


def with_answers(nb: dict, answers: dict[str, str]) -> dict:
    """A copy of `nb` whose solution cells (by grade_id) hold the given sources."""
    nb = copy.deepcopy(nb)
    found = set()
    for cell in nb["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
            found.add(grade_id)
    missing = set(answers) - found
    assert not missing, f"no solution cell with grade_id {sorted(missing)}"
    return nb


def test_every_unit_has_wrong_answers():
    assert UNITS, "no units in solutions/"
    for unit in UNITS:
        assert (WRONG_DIR / f"{unit}.py").is_file(), f"tests/wrong_answers/{unit}.py is missing"


@pytest.mark.parametrize("unit", UNITS)
def test_released_unit_matches_its_source(unit):
    assert drift(REPO, unit) == [], "run `python -m grader.release` to regenerate units/"


@pytest.mark.parametrize("folder", ["solutions", "units"])
def test_notebooks_are_stored_without_outputs(folder):
    for path in sorted((REPO / folder).glob("*/*.ipynb")):
        for index, cell in enumerate(json.loads(path.read_text())["cells"]):
            if cell["cell_type"] == "code":
                assert not cell["outputs"] and cell["execution_count"] is None, (
                    f"{path.relative_to(REPO)} cell {index} holds outputs"
                )


@pytest.mark.parametrize("unit", UNITS)
def test_solution_gets_full_marks(unit):
    result = grade_notebook(notebook("solutions", unit), root=REPO)
    lost = [(e.name, e.message) for e in result.exercises if not e.passed]
    assert result.full_marks, f"{unit}: {result.score}/{result.max_score}, lost: {lost}"
    assert result.max_score > 0


@needs_bwrap
def test_the_process_units_solution_gets_full_marks_in_the_sandbox():
    """Unit 07 starts processes under limits of its own. A sandboxed kernel has limits too (as
    root, its own user and the grader's process limit), and no test may ask for more."""
    configure_sandbox("require")
    try:
        result = grade_notebook(notebook("solutions", "07-multi-agent-sandboxing"), root=REPO)
    finally:
        use_launch_hook(None)
    lost = [(e.name, e.message) for e in result.exercises if not e.passed]
    assert result.full_marks, f"{result.score}/{result.max_score}, lost: {lost}"


@pytest.mark.parametrize("unit", UNITS)
def test_released_notebook_runs_to_the_end_and_gets_zero(unit):
    result = grade_notebook(notebook("units", unit), root=REPO)
    assert not result.error, result.error
    assert result.max_score > 0 and result.score == 0
    for exercise in result.exercises:
        assert "NotImplementedError" in exercise.message, (exercise.name, exercise.message)


@pytest.mark.parametrize("unit", UNITS)
def test_wrong_answers_lose_points(unit, tmp_path):
    wrong = wrong_answers(unit)
    released = json.loads(notebook("units", unit).read_text())
    assert all(len(sources) >= 2 for sources in wrong.values()), "two wrong answers each"
    for round_ in range(max(len(sources) for sources in wrong.values())):
        answers = {name: sources[round_ % len(sources)] for name, sources in wrong.items()}
        path = tmp_path / f"round{round_}" / f"{unit}.ipynb"
        path.parent.mkdir()
        path.write_text(json.dumps(with_answers(released, answers)))
        result = grade_notebook(path, root=REPO)
        assert not result.error, result.error
        by_name = {e.name: e for e in result.exercises}
        for name in answers:
            assert name in by_name, f"{unit}: no exercise named {name!r} in the grade"
            exercise = by_name[name]
            assert exercise.points < exercise.max_points, (
                f"{unit}: wrong answer {round_} of {name} kept all its points"
            )
            assert "NotImplementedError" not in exercise.message
