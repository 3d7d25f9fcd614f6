"""Grading with each kernel under bubblewrap, for real (`agents-grade --sandbox require`).

A submission of the fixture unit probes the walls from inside its kernel: it reads another
student's file and one in the host's home, writes to the home, the project and the class folder,
connects to a server that the test starts on the host's loopback, and checks that it is not
root. Its `word_count` carries
the verdict: right only when nothing got through and its own folder was writable, so the points
say whether the sandbox held. Graded without the sandbox, the same probe does get out, which
shows that it can fail.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from grader_helpers import (
    UNIT,
    load,
    loopback_server,
    make_course,
    needs_bwrap,
    path_without_bwrap,
    save,
    with_solution,
)

from grader.autograde import grade_notebook
from grader.cli import main
from grader.kernel import configure_sandbox, use_launch_hook
from grader.limits import Limits
from minexec.sandbox import project_root

pytestmark = pytest.mark.slow
LIMITS = Limits(cell_timeout=10, notebook_timeout=60)
LIMIT_ARGS = ["--cell-timeout", "10", "--timeout", "60"]

# The word_count solution of a submission that tries to get out first (format: reads, writes,
# port). Every attempt that fails prints why; word_count is right only if all of them failed.
PROBE = """\
import os
import socket


def gets_through(action):
    try:
        action()
    except OSError as error:
        print("blocked:", type(error).__name__)
        return False
    return True


got_out = [f"read {{p}}" for p in {reads!r} if gets_through(lambda: open(p).read())]
got_out += [f"wrote {{p}}" for p in {writes!r} if gets_through(lambda: open(p, "w").write("x"))]
if gets_through(lambda: socket.create_connection(("127.0.0.1", {port}), timeout=5)):
    got_out.append("connected")
if os.geteuid() == 0:  # root could read what only root may read (a grader run as root)
    got_out.append("root")
with open("mine.txt", "w") as mine:  # its own folder stays writable
    mine.write("kept")


def word_count(text):
    return len(text.split()) if not got_out else f"got out: {{got_out}}"
"""


def probe(solution: dict, reads: list[Path], writes: list[Path], port: int) -> dict:
    source = PROBE.format(reads=list(map(str, reads)), writes=list(map(str, writes)), port=port)
    return with_solution(solution, "word_count", source)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Iterator[Path]:
    patch = pytest.MonkeyPatch()
    patch.setenv("AGENTS_GRADE_CACHE", str(tmp_path_factory.mktemp("cache")))
    root = make_course(tmp_path_factory.mktemp("course"))
    patch.setenv("AGENTS_GRADE_ROOT", str(root))
    yield root
    patch.undo()


@pytest.fixture(scope="module")
def solution(course) -> dict:
    return load(course / "solutions" / UNIT / f"{UNIT}.ipynb")


@pytest.fixture
def server() -> Iterator[tuple[int, list]]:
    with loopback_server() as running:
        yield running


@pytest.fixture
def home_secret() -> Iterator[Path]:
    """A file in the host's home folder (a real one: the sandbox hides $HOME as it is)."""
    path = Path.home() / f".agents-grade-secret-{uuid.uuid4().hex}"
    path.write_text("the instructor's notes")
    yield path
    path.unlink()


@pytest.fixture
def outside() -> Iterator[list[Path]]:
    """Paths outside the kernel's folder that a probe tries to create; removed if it did."""
    name = f"agents-grade-escape-{uuid.uuid4().hex}"
    paths = [Path.home() / name, project_root() / name]
    yield paths
    for path in paths:
        path.unlink(missing_ok=True)


@pytest.fixture
def sandboxed() -> Iterator[None]:
    assert configure_sandbox("require") is None
    yield
    use_launch_hook(None)


@needs_bwrap
def test_a_sandboxed_kernel_reaches_nothing_outside_and_is_graded_right(
    solution, sandboxed, server, home_secret, outside, tmp_path
) -> None:
    port, accepted = server
    other = save({"answers": [42]}, tmp_path / "bob" / "answers.json")
    writes = [*outside, tmp_path / "alice" / "escape.txt"]
    nb = probe(solution, [other, home_secret], writes, port)
    result = grade_notebook(save(nb, tmp_path / "alice" / f"{UNIT}.ipynb"), limits=LIMITS)
    assert (result.score, result.max_score) == (4, 4), result.exercises[1].message
    assert not accepted
    assert not [path for path in writes if path.exists()]


def test_without_the_sandbox_the_same_probe_gets_out(solution, server, home_secret, tmp_path):
    port, accepted = server
    assert configure_sandbox("off") == "--sandbox off"
    other = save({"answers": [42]}, tmp_path / "bob" / "answers.json")
    writes = [tmp_path / "escape.txt"]  # the home and project stay untouched here
    nb = probe(solution, [other, home_secret], writes, port)
    result = grade_notebook(save(nb, tmp_path / "alice" / f"{UNIT}.ipynb"), limits=LIMITS)
    assert (result.score, result.max_score) == (1, 4)
    message = result.exercises[1].message
    assert f"read {other}" in message and f"read {home_secret}" in message
    assert f"wrote {writes[0]}" in message and "connected" in message
    assert len(accepted) == 1 and writes[0].read_text() == "x"


@needs_bwrap
def test_a_sandboxed_cell_past_its_time_is_interrupted_and_the_rest_runs(
    solution, sandboxed, tmp_path
) -> None:
    # jupyter_client interrupts with a SIGINT to the kernel's process group, where bwrap sits.
    add = "def add(a, b):\n    return a + b\n\nwhile True:\n    pass"
    nb = with_solution(solution, "add", add)
    path = save(nb, tmp_path / f"{UNIT}.ipynb")
    result = grade_notebook(path, limits=Limits(cell_timeout=3, notebook_timeout=60))
    assert (result.score, result.max_score) == (4, 4)


@needs_bwrap
def test_a_sandboxed_class_run_keeps_students_apart(
    course, solution, server, home_secret, outside, tmp_path, capsys
) -> None:
    port, accepted = server
    submitted = tmp_path / "class" / "submitted"
    bob = submitted / "bob" / UNIT
    save(load(course / "units" / UNIT / f"{UNIT}.ipynb"), bob / f"{UNIT}.ipynb")
    notes = save({"draft": "bob's answers"}, bob / "notes.json")
    alice = submitted / "alice" / UNIT
    writes = [*outside, alice / "escape.txt", tmp_path / "class" / "escape.txt"]
    save(probe(solution, [notes, home_secret], writes, port), alice / f"{UNIT}.ipynb")
    argv = ["--class", str(tmp_path / "class"), "--sandbox", "require", "--json", "--jobs", "2"]
    assert main([*argv, *LIMIT_ARGS]) == 0
    rows = {row["student"]: row for row in json.loads(capsys.readouterr().out)}
    assert (rows["alice"]["score"], rows["bob"]["score"]) == (4, 0)
    assert not accepted
    assert not [path for path in writes if path.exists()]


@pytest.fixture
def no_bwrap(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", path_without_bwrap(tmp_path / "bin"))


def test_require_without_bwrap_is_an_error_that_says_how_to_install_it(
    course, no_bwrap, tmp_path, capsys
) -> None:
    notebook = course / "solutions" / UNIT
    for argv in ([str(notebook)], ["--class", str(tmp_path)]):
        assert main([*argv, "--sandbox", "require"]) == 2
        error = capsys.readouterr().err
        assert "--sandbox require: bwrap is not on the PATH" in error
        assert "apt-get install bubblewrap" in error


def test_auto_without_bwrap_grades_in_a_plain_kernel(course, no_bwrap, tmp_path, capsys) -> None:
    assert main([str(course / "solutions" / UNIT), "--sandbox", "auto", *LIMIT_ARGS]) == 0
    assert capsys.readouterr().err == ""  # a learner's own notebook: no sandbox, no fuss
    shutil.copy(course / "solutions" / UNIT / f"{UNIT}.ipynb", tmp_path / "carol.ipynb")
    argv = ["--class", str(tmp_path), "--unit", UNIT, "--json", *LIMIT_ARGS]
    assert main(argv) == 0  # auto is the default
    captured = capsys.readouterr()
    assert "warning: kernels run without a sandbox (bwrap is not on the PATH)" in captured.err
    assert [row["score"] for row in json.loads(captured.out)] == [4]
