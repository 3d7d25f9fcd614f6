"""Learner grading: `agents-grade NOTEBOOK` on the fixture unit (tests/fixtures/solutions)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from grader_helpers import UNIT, load, make_course, save, with_solution

from grader.autograde import SubmissionError, grade_notebook
from grader.cli import main
from grader.limits import Limits
from grader.results import failure_message

pytestmark = pytest.mark.slow
LIMITS = Limits(cell_timeout=10, notebook_timeout=60)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    patch = pytest.MonkeyPatch()
    patch.setenv("AGENTS_GRADE_CACHE", str(cache))
    root = make_course(tmp_path_factory.mktemp("course"))
    patch.setenv("AGENTS_GRADE_ROOT", str(root))
    yield root
    patch.undo()


@pytest.fixture(scope="module")
def solution(course):
    return course / "solutions" / UNIT / f"{UNIT}.ipynb"


@pytest.fixture(scope="module")
def released(course):
    return course / "units" / UNIT / f"{UNIT}.ipynb"


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("learner")


def graded(path: Path):
    """Grade `path` and check the learner's file is byte-identical afterwards."""
    before = path.read_bytes(), path.stat().st_mtime_ns
    result = grade_notebook(path, limits=LIMITS)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    return result


@pytest.fixture(scope="module")
def solution_result(solution):
    return graded(solution)


@pytest.fixture(scope="module")
def released_result(released):
    return graded(released)


def test_solution_gets_full_marks(solution_result):
    assert [e.name for e in solution_result.exercises] == ["add", "word_count"]
    assert (solution_result.score, solution_result.max_score) == (4, 4)
    assert solution_result.full_marks


def test_released_gets_zero_with_messages_and_hints(released_result):
    assert (released_result.score, released_result.max_score) == (0, 4)
    add, words = released_result.exercises
    assert add.message.startswith("NotImplementedError")
    assert add.hint == "Return the sum of the two arguments."
    assert [t.grade_id for t in words.tests] == ["test_word_count", "test_word_count_hidden"]


def test_hidden_test_catches_wrong_answer_with_its_message(released, work):
    nb = load(released)
    nb = with_solution(nb, "add", "def add(a, b):\n    return a + b")
    nb = with_solution(nb, "word_count", "def word_count(text):\n    return len(text.split(' '))")
    result = graded(save(nb, work / UNIT / f"{UNIT}.ipynb"))
    add, words = result.exercises
    assert add.passed and not words.passed
    assert (result.score, words.points) == (2, 1)
    assert words.message == "AssertionError: expected 2 words: split on any whitespace"
    assert words.hint.startswith("Use text.split()")


def test_tampered_test_cells_are_restored(released, work):
    nb = load(released)
    cells = nb["cells"]
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            cell["source"] = "pass  # the learner disabled this test"
            meta["points"] = 100
    hidden = next(
        c
        for c in cells
        if c["metadata"].get("nbgrader", {}).get("grade_id") == "test_word_count_hidden"
    )
    cells.remove(hidden)  # deleting a test cell does not remove the test either
    result = graded(save(nb, work / "tampered" / f"{UNIT}.ipynb"))
    assert (result.score, result.max_score) == (0, 4)
    tests = [t.grade_id for e in result.exercises for t in e.tests]
    assert tests == ["test_add", "test_word_count", "test_word_count_hidden"]


def test_not_json_is_refused(work):
    path = work / "broken.ipynb"
    path.write_text("{ this is not json")
    with pytest.raises(SubmissionError, match="not a notebook"):
        grade_notebook(path, limits=LIMITS)


def test_notebook_of_another_unit_is_refused(course, solution, work):
    other = course / "solutions" / "98-other" / "98-other.ipynb"
    nb = load(solution)
    nb["metadata"]["course"]["unit"] = "98-other"
    save(nb, other)
    path = save(nb, work / "units" / UNIT / f"{UNIT}.ipynb")
    try:
        with pytest.raises(SubmissionError, match="notebook of unit 98-other, not of 99-fixture"):
            grade_notebook(path, limits=LIMITS)
    finally:
        other.unlink()
        other.parent.rmdir()


def test_stripped_metadata_is_refused(solution, work):
    nb = copy.deepcopy(load(solution))
    nb["metadata"] = {}
    for cell in nb["cells"]:
        cell["metadata"] = {}
    path = save(nb, work / "units" / UNIT / "stripped.ipynb")
    with pytest.raises(SubmissionError, match="metadata is gone"):
        grade_notebook(path, limits=LIMITS)


def test_unit_folder_resolves_to_its_notebook(course, capsys):
    assert main([str(course / "units" / UNIT), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["unit"] == UNIT and report["score"] == 0 and report["max_score"] == 4


def test_exit_status_zero_only_at_full_marks(solution, work, capsys):
    assert main([str(solution)]) == 0
    assert "full marks" in capsys.readouterr().out
    broken = work / "broken2.ipynb"
    broken.write_text("[]")
    assert main([str(broken), "--json"]) == 2
    assert "not a notebook" in json.loads(capsys.readouterr().out)["error"]


def test_failure_message_uses_failing_line_when_assert_has_no_message():
    traceback = ["\x1b[0;31m---------\x1b[0m", "\x1b[0;32m----> 2\x1b[0m assert add(1, 2) == 4"]
    outputs = [
        {"output_type": "error", "ename": "AssertionError", "evalue": "", "traceback": traceback}
    ]
    assert failure_message(outputs) == "AssertionError: assert add(1, 2) == 4"


def test_failure_message_is_capped():
    from grader.limits import MESSAGE_CHARS

    outputs = [{"output_type": "error", "ename": "ValueError", "evalue": "x" * 10_000}]
    message = failure_message(outputs)
    assert len(message) == MESSAGE_CHARS and message.endswith("...")


def test_notebook_time_limit_kills_the_kernel(released, work):
    nb = with_solution(load(released), "add", "import time\ntime.sleep(60)")
    path = save(nb, work / "slow" / f"{UNIT}.ipynb")
    result = grade_notebook(path, limits=Limits(cell_timeout=30, notebook_timeout=3))
    assert result.score == 0
    assert "the notebook ran past its time limit of 3 s" in result.exercises[0].message


def test_launch_hook_wraps_the_kernel_command(released, work):
    from grader.kernel import use_launch_hook

    seen = []

    def hook(argv: list[str], workdir: Path, writable: list[str]) -> list[str]:
        seen.append(workdir)
        return ["env", f"GRADER_HOOKED={workdir}", *argv]

    source = (
        "import os\n"
        "def add(a, b):\n"
        "    hooked = os.environ.get('GRADER_HOOKED') == os.getcwd()\n"
        "    return a + b if hooked else None"
    )
    path = save(with_solution(load(released), "add", source), work / "hooked" / f"{UNIT}.ipynb")
    use_launch_hook(hook)
    try:
        result = grade_notebook(path, limits=LIMITS)
    finally:
        use_launch_hook(None)
    assert result.exercises[0].passed, "the kernel ran under the hook, in the folder it was given"
    assert len(seen) == 1 and seen[0].name == UNIT
