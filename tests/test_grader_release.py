"""`python -m grader.release`: units/ generated from solutions/ by nbgrader, and drift found."""

from __future__ import annotations

import json
import shutil

import pytest
from grader_helpers import FIXTURES, UNIT, load, make_course, save

from grader.release import drift, main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return make_course(tmp_path_factory.mktemp("course"))


def test_release_strips_solutions_and_hidden_tests(course):
    released = load(course / "units" / UNIT / f"{UNIT}.ipynb")
    text = json.dumps(released)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert "return a + b" not in text and 'word_count(\\"\\") == 0' not in text
    assert text.count('raise NotImplementedError(\\"Your code here: see the hint above\\")') == 2
    assert "# Hint: one operator is enough." in text, "the hint above the solution stays"
    assert released["metadata"]["course"]["unit"] == UNIT
    tests = [c for c in released["cells"] if c["metadata"].get("nbgrader", {}).get("grade")]
    assert [c["metadata"]["nbgrader"]["grade_id"] for c in tests] == [
        "test_add",
        "test_word_count",
        "test_word_count_hidden",
    ]
    assert all(c["metadata"]["nbgrader"]["checksum"] for c in tests)
    assert not list(course.glob("gradebook.db")), "no gradebook left in the course"


def test_check_passes_then_reports_drift(course, capsys):
    assert main(["--check", "--root", str(course)]) == 0
    assert "units/ matches solutions/" in capsys.readouterr().out
    source = course / "solutions" / UNIT / f"{UNIT}.ipynb"
    nb = load(source)
    nb["cells"][0]["source"] = "# Fixture unit, edited after its release"
    save(nb, source)
    try:
        assert drift(course, UNIT) == [f"units/{UNIT}/{UNIT}.ipynb: differs from solutions/{UNIT}"]
        assert main(["--check", "--root", str(course), UNIT]) == 1
        assert main(["--root", str(course), UNIT]) == 0  # regenerate
        assert drift(course, UNIT) == []
    finally:
        shutil.copy(FIXTURES / "solutions" / UNIT / f"{UNIT}.ipynb", source)
        main(["--root", str(course), UNIT])


def test_missing_release_is_drift(course, tmp_path):
    root = tmp_path / "course"
    shutil.copytree(course / "solutions", root / "solutions")
    shutil.copy(course / "nbgrader_config.py", root)
    assert drift(root, UNIT) == [f"units/{UNIT}/{UNIT}.ipynb: missing (python -m grader.release)"]


def test_unknown_unit_is_an_error(course, capsys):
    assert main(["--check", "--root", str(course), "77-nope"]) == 2
    assert "unknown unit '77-nope'" in capsys.readouterr().err
