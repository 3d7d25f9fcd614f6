"""Shared helpers for the grader and sandbox tests: a scratch course holding the fixture unit,
and a server on the host's loopback."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from minexec.sandbox import INSTALL_HINT, sandbox_problem

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


@contextlib.contextmanager
def loopback_server() -> Iterator[tuple[int, list[socket.socket]]]:
    """A TCP server on the host's 127.0.0.1: (its port, the connections it accepted so far).

    A sandboxed submission must not reach it; the test itself can, which shows it is up.
    """
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)  # so that the thread sees `done` soon after the test
    accepted: list[socket.socket] = []
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], accepted
    finally:
        done.set()
        thread.join()
        server.close()
        for connection in accepted:
            connection.close()


SANDBOX_PROBLEM = sandbox_problem()
needs_bwrap = pytest.mark.skipif(
    SANDBOX_PROBLEM is not None,
    reason=f"the sandbox needs bubblewrap: {SANDBOX_PROBLEM}; {INSTALL_HINT}",
)
"""Tests that run under bubblewrap for real; elsewhere they skip, saying how to install it."""


def path_without_bwrap(folder: Path) -> str:
    """A PATH on which bwrap is absent and a few tools stay (setpriv, sleep, true): links to
    them in `folder`. Set it to test what happens on a machine without bubblewrap."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("setpriv", "sleep", "true"):
        real = next((Path(p) / name for p in os.get_exec_path() if (Path(p) / name).exists()), None)
        if real is not None:
            (folder / name).symlink_to(real)
    return str(folder)
