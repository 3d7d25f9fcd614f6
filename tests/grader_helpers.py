"""Shared helpers for the grader tests: a scratch course holding the fixture unit."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
UNIT = "99-fixture"


def make_course(root: Path) -> Path:
    """A course root with the repo's nbgrader_config.py, the fixture unit and its release."""
    from grader.release import generate

    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(FIXTURES / "solutions", root / "solutions")
    generate(root, UNIT, root / "units")
    return root


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def save(nb: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1))
    return path


def cell_index(nb: dict, grade_id: str) -> int:
    for i, cell in enumerate(nb["cells"]):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return i
    raise KeyError(grade_id)


def with_solution(nb: dict, grade_id: str, source: str) -> dict:
    """A copy of `nb` whose solution cell `grade_id` holds `source`."""
    nb = copy.deepcopy(nb)
    nb["cells"][cell_index(nb, grade_id)]["source"] = source
    return nb


def with_cell_after(nb: dict, grade_id: str, source: str) -> dict:
    """A copy of `nb` with an ordinary code cell `source` right after cell `grade_id`."""
    nb = copy.deepcopy(nb)
    cell = {
        "cell_type": "code",
        "metadata": {},
        "source": source,
        "outputs": [],
        "execution_count": None,
    }
    nb["cells"].insert(cell_index(nb, grade_id) + 1, cell)
    return nb
