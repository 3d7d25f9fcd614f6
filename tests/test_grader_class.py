"""Instructor grading: `agents-grade --class DIR` on a small class of friendly and hostile
submissions of the fixture unit, graded once (module fixture) and then inspected."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from grader_helpers import UNIT, load, make_course, save, with_cell_after, with_solution

from grader.classrun import ClassRun, discover, grade_class
from grader.limits import Limits, MiB
from grader.report import export_csv
from minexec.sandbox import sandbox_problem

pytestmark = pytest.mark.slow
LIMITS = Limits(
    cell_timeout=3, notebook_timeout=60, memory_bytes=1536 * MiB, file_size_bytes=1 * MiB
)
ADD = "def add(a, b):\n    return a + b"

# extra cells put after test_add: each is one thing a submission should not be able to do
HOSTILE_AFTER_TEST_ADD = {
    "exits": "import os\nos._exit(3)",
    "kills_its_group": "import os, signal\nos.killpg(os.getpgid(0), signal.SIGKILL)",
    "kills_its_parent": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
    "deaf_loop": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile 1:\n    pass",
    "floods": "print('x' * 100_000_000)",
    # bytes(n) maps zeroed pages without touching them: the address space runs out within the
    # 3 s cell limit even on a busy machine (RLIMIT_AS counts mapped memory, touched or not).
    "hogs_memory": "chunks = []\nwhile True:\n    chunks.append(bytes(64 * 1024 * 1024))",
    "misbehaves": (
        "for path in ('escape.txt', '../../escape.txt'):  # the second: refused in the sandbox\n"
        "    try:\n        open(path, 'w').write('x')\n"
        "    except OSError as error:\n        print(type(error).__name__)\n"
        "import sys\n"
        "print('stdin gave', repr(sys.stdin.read()))\n"
        "try:\n    input('name? ')\nexcept Exception as error:\n    print(type(error).__name__)\n"
        "try:\n    open('big.bin', 'wb').write(b'0' * (2 * 1024 * 1024))\n"
        "except OSError as error:\n    print('big file:', error)"
    ),
}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    patch.setenv("AGENTS_GRADE_CACHE", str(tmp_path_factory.mktemp("cache")))
    root = make_course(tmp_path_factory.mktemp("course"))
    other = load(root / "solutions" / UNIT / f"{UNIT}.ipynb")
    other["metadata"]["course"]["unit"] = "98-other"
    save(other, root / "solutions" / "98-other" / "98-other.ipynb")
    yield root
    patch.undo()


def build_class(course: Path, folder: Path) -> Path:
    """A flat folder of submissions, one per case, named after the case."""
    solution = load(course / "solutions" / UNIT / f"{UNIT}.ipynb")
    released = load(course / "units" / UNIT / f"{UNIT}.ipynb")
    save(solution, folder / "alice.ipynb")
    save(released, folder / "bob.ipynb")
    (folder / "not_json.ipynb").write_text("print('hello')\n")
    other = dict(solution, metadata={**solution["metadata"], "course": {"unit": "98-other"}})
    save(other, folder / "other_unit.ipynb")
    stripped = dict(solution, metadata={}, cells=[{**c, "metadata": {}} for c in solution["cells"]])
    save(stripped, folder / "stripped.ipynb")
    save(with_solution(solution, "add", ADD + "\nwhile True:\n    pass"), folder / "loops.ipynb")
    for name, source in HOSTILE_AFTER_TEST_ADD.items():
        save(with_cell_after(solution, "test_add", source), folder / f"{name}.ipynb")
    return folder


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    folder = build_class(course, tmp_path_factory.mktemp("class"))
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    run = ClassRun(course, folder / "grades", LIMITS, jobs=2)
    subs = discover(folder, UNIT, run.out)
    results = grade_class(run, subs)
    after = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    assert after == before, "a class run never changes a submission"
    by_student = {s.student: r for s, r in zip(subs, results, strict=True)}
    return folder, run, subs, by_student


def outputs_of(run: ClassRun, student: str) -> str:
    return (run.out / "autograded" / student / f"{UNIT}.ipynb").read_text()


def test_solution_and_released(graded):
    _, _, _, results = graded
    assert results["alice"].score == 4 and results["alice"].full_marks
    assert results["bob"].score == 0 and results["bob"].max_score == 4


@pytest.mark.parametrize(
    ("student", "reason"),
    [
        ("not_json", "not a notebook"),
        ("other_unit", "notebook of unit 98-other, not of 99-fixture"),
        ("stripped", "metadata is gone"),
    ],
)
def test_ungradable_submissions_get_zero_and_reason(graded, student, reason):
    _, _, _, results = graded
    assert results[student].score == 0 and reason in results[student].error


@pytest.mark.parametrize(
    ("student", "reason"),
    [
        ("exits", "the kernel exited with status 3"),
        ("kills_its_group", "killed by SIGKILL"),
        ("deaf_loop", "ignored the interrupt"),
    ],
)
def test_dead_kernel_loses_the_tests_after_it(graded, student, reason):
    _, _, _, results = graded
    add, words = results[student].exercises
    assert add.passed and words.points == 0
    assert words.message.startswith("NotRun: ") and reason in words.message


def test_a_kernel_that_kills_its_parent_harms_only_itself(graded):
    _, _, _, results = graded
    add, words = results["kills_its_parent"].exercises
    assert add.passed
    if sandbox_problem() is None:
        # Its parent is the sandbox's init (PID 1 of its namespace), which ignores the signal.
        assert words.passed
    else:
        assert words.points == 0 and "killed by SIGKILL" in words.message


def test_infinite_loop_is_interrupted_and_the_rest_runs(graded):
    _, run, _, results = graded
    assert results["loops"].full_marks
    assert "KeyboardInterrupt" in outputs_of(run, "loops")


def test_output_flood_is_capped(graded):
    _, run, _, results = graded
    assert results["floods"].full_marks
    assert "output truncated" in outputs_of(run, "floods")
    assert len(outputs_of(run, "floods")) < 2 * LIMITS.cell_output_bytes


def test_memory_limit_raises_memory_error_in_the_cell(graded):
    _, run, _, results = graded
    assert results["hogs_memory"].full_marks
    assert "MemoryError" in outputs_of(run, "hogs_memory")


def test_stdin_files_and_file_size_are_contained(graded):
    folder, run, _, results = graded
    assert results["misbehaves"].full_marks
    text = outputs_of(run, "misbehaves")
    assert "stdin gave ''" in text and "StdinNotImplementedError" in text
    assert "File too large" in text
    assert not list(folder.rglob("escape.txt")) and not list(folder.rglob("big.bin"))


FORK_BOMB = (
    "import os, time\n"
    "children = 0\n"
    "try:\n"
    "    while children < 1000:  # bounded, in case the limit did not hold\n"
    "        if os.fork() == 0:\n"
    "            time.sleep(20)\n"
    "            os._exit(0)\n"
    "        children += 1\n"
    "except OSError as error:\n"
    "    print('fork refused after', children, 'children:', type(error).__name__)"
)


@pytest.mark.skipif(
    os.geteuid() != 0 or sandbox_problem() is not None,
    reason="kernels get a process limit only where they run as a user of their own: when the "
    "grader is root and bubblewrap works (elsewhere the limit would count the user's processes)",
)
def test_a_fork_bomb_hits_its_own_process_limit_only(course, tmp_path):
    solution = load(course / "solutions" / UNIT / f"{UNIT}.ipynb")
    save(with_cell_after(solution, "test_add", FORK_BOMB), tmp_path / "bomber.ipynb")
    save(solution, tmp_path / "neighbour.ipynb")
    run = ClassRun(course, tmp_path / "grades", LIMITS, jobs=2)
    subs = discover(tmp_path, UNIT, run.out)
    results = {s.student: r for s, r in zip(subs, grade_class(run, subs), strict=True)}
    # The neighbour ran beside the bomb (jobs=2) as another user: its limit was untouched.
    assert results["neighbour"].full_marks
    assert results["bomber"].exercises[0].passed  # the cell before the bomb
    refused = outputs_of(run, "bomber").split("fork refused after ")[1]
    assert int(refused.split()[0]) < LIMITS.max_processes
    assert "BlockingIOError" in refused


def test_gradebook_holds_every_gradable_submission(graded):
    _, run, _, results = graded
    with sqlite3.connect(run.db) as db:
        students = {row[0] for row in db.execute("select id from student")}
    assert {"alice", "bob", "exits", "floods", "other_unit", "stripped"} <= students
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{run.db}") as gb:
        scores = {s.student_id: s.score for s in gb.assignment_submissions(UNIT)}
    assert scores["alice"] == 4 and scores["bob"] == 0 and scores["stripped"] == 0
    assert scores["exits"] == results["exits"].score == 1


def test_csv_export(graded, tmp_path):
    _, _, subs, results = graded
    rows = [(s.student, results[s.student]) for s in subs]
    text = export_csv(rows, tmp_path / "grades.csv").read_text().splitlines()
    assert text[0] == "student,unit,score,max_score,error,add,word_count"
    assert "alice,99-fixture,4,4,,1,3" in text


def test_rerun_resumes_and_regrades_only_changed(graded, course):
    folder, run, _, results = graded
    stamps = {p: p.stat().st_mtime_ns for p in (run.out / "results").rglob("*.json")}
    (folder / "bob.ipynb").write_text((folder / "alice.ipynb").read_text())
    subs = discover(folder, UNIT, run.out)
    again = dict(zip([s.student for s in subs], grade_class(run, subs), strict=True))
    changed = {p.parent.name for p, t in stamps.items() if p.stat().st_mtime_ns != t}
    assert changed == {"bob"}
    assert again["bob"].full_marks and again["exits"].score == results["exits"].score


def test_rerun_in_another_sandbox_mode_regrades(graded, course):
    folder, run, _, _ = graded
    alice = [s for s in discover(folder, UNIT, run.out) if s.student == "alice"]
    stored = run.result_file(alice[0])
    stamp = stored.stat().st_mtime_ns
    plain = ClassRun(course, run.out, LIMITS, jobs=1, sandbox="off")
    (result,) = grade_class(plain, alice)
    assert result.full_marks
    # The class was graded with --sandbox auto: sandboxed where bwrap works, else plain.
    assert (stored.stat().st_mtime_ns != stamp) == (sandbox_problem() is None)


def test_discover_nbgrader_layout(tmp_path):
    for student in ("ann", "ben"):
        save({"cells": []}, tmp_path / "submitted" / student / UNIT / f"{UNIT}.ipynb")
    (tmp_path / "submitted" / "cy" / UNIT).mkdir(parents=True)  # nothing submitted
    subs = discover(tmp_path, None, tmp_path / "grades")
    assert [(s.student, s.unit, s.path.name) for s in subs] == [
        ("ann", UNIT, f"{UNIT}.ipynb"),
        ("ben", UNIT, f"{UNIT}.ipynb"),
        ("cy", UNIT, f"{UNIT}.ipynb"),
    ]


def test_cli_class_run_json(graded, course, capsys):
    from grader.cli import main

    folder, run, _, _ = graded
    code = main(
        [
            "--class",
            str(folder),
            "--unit",
            UNIT,
            "--root",
            str(course),
            "--json",
            "--cell-timeout",
            "3",
            "--timeout",
            "60",
            "--memory-mb",
            "1536",
        ]
    )
    assert code == 0
    rows = {row["student"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["alice"]["score"] == 4 and "not a notebook" in rows["not_json"]["error"]
    assert os.path.exists(run.out / "grades.csv")
