"""The OS layer of the sandbox, run for real under bubblewrap.

These tests use `SandboxInterpreter(guards=False)`: plain Python in the sandbox, with no AST
guards and no audit hook, so that a fork bomb, a memory bomb, a write or a connection really
reaches the operating system and only bubblewrap and the OS limits stop it. (The guarded
interpreter refuses all of these before the OS sees them; tests/test_sandbox_agent.py runs it.)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from grader_helpers import loopback_server, needs_bwrap

from grader.kernel import wrap_kernel_command
from minexec import BudgetExceededError, Budgets, ChildKilledError, InterpreterError
from minexec.sandbox import (
    SANDBOX_FILE_BYTES,
    SANDBOX_HOME,
    UNPRIVILEGED_UID,
    SandboxInterpreter,
    bwrap_command,
    drop_root_prefix,
    hand_over,
    project_root,
)

pytestmark = needs_bwrap

BUDGETS = Budgets(memory_mb=256, timeout=20)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxInterpreter]:
    with SandboxInterpreter(guards=False, budgets=BUDGETS) as interpreter:
        yield interpreter


def write_fails(sandbox: SandboxInterpreter, path: Path) -> str:
    """Try to write `path` from inside; return the error text (the write must fail)."""
    with pytest.raises(InterpreterError) as caught:
        sandbox.run(f"open({str(path)!r}, 'w').write('escaped')")
    return str(caught.value)


def test_the_working_folder_is_private_and_writable(sandbox: SandboxInterpreter) -> None:
    result = sandbox.run("import os\nopen('notes.txt', 'w').write('kept')\nos.getcwd()")
    assert result.output == SANDBOX_HOME
    assert (sandbox.workdir / "notes.txt").read_text() == "kept"


def test_no_write_to_the_home_folder_or_the_project(sandbox: SandboxInterpreter) -> None:
    name = f"sandbox-escape-{uuid.uuid4().hex}"
    for folder in (Path.home(), project_root()):
        assert "Read-only file system" in write_fails(sandbox, folder / name)
        assert not (folder / name).exists()


def test_the_hosts_tmp_is_neither_written_nor_read(sandbox: SandboxInterpreter, tmp_path) -> None:
    secret = tmp_path / "other-student.txt"  # tmp_path lies under the host's /tmp
    secret.write_text("answers")
    with pytest.raises(InterpreterError, match="FileNotFoundError"):
        sandbox.run(f"open({str(secret)!r}).read()")
    name = f"/tmp/sandbox-escape-{uuid.uuid4().hex}"
    assert sandbox.run(f"open({name!r}, 'w').write('x')").output == 1  # its own /tmp
    assert not Path(name).exists()


def test_the_system_stays_read_only(sandbox: SandboxInterpreter) -> None:
    assert "Read-only file system" in write_fails(sandbox, Path(sys.prefix) / "escaped.txt")


@pytest.fixture
def host_server() -> Iterator[tuple[int, list]]:
    with loopback_server() as server:
        yield server


def test_no_network_to_a_server_on_the_hosts_loopback(sandbox, host_server) -> None:
    port, accepted = host_server
    socket.create_connection(("127.0.0.1", port), timeout=5).close()  # it is reachable here
    code = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=5)"
    with pytest.raises(InterpreterError, match="ConnectionRefusedError"):
        sandbox.run(code)
    assert len(accepted) == 1  # only ours


def test_no_name_resolution_or_outside_network(sandbox: SandboxInterpreter) -> None:
    with pytest.raises(InterpreterError, match="gaierror|URLError"):
        sandbox.run("import socket\nsocket.getaddrinfo('pypi.org', 443)")
    interfaces = sandbox.run("import socket\n[name for _, name in socket.if_nameindex()]")
    assert interfaces.output == ["lo"]


def test_host_processes_are_invisible(sandbox: SandboxInterpreter) -> None:
    marker = f"{uuid.uuid4().int % 10_000}.25"
    with subprocess.Popen(["sleep", marker]) as sleeper:
        try:
            code = (
                "import os\npids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
                "[open(f'/proc/{p}/cmdline', 'rb').read() for p in pids]"
            )
            command_lines = sandbox.run(code).output
        finally:
            sleeper.kill()
    assert not any(marker.encode() in line for line in command_lines)
    assert len(command_lines) <= 3  # bwrap's init, the worker, maybe a reaper; nothing else


def test_a_fork_bomb_is_contained_and_the_sandbox_lives_on(sandbox) -> None:
    sandbox.run("before = 'still here'")
    with pytest.raises(BudgetExceededError, match="RLIMIT_NPROC") as caught:
        sandbox.run("import os\nwhile True:\n    os.fork()")
    assert caught.value.limit == "processes"
    assert sandbox.run("before").output == "still here"  # no child, and the state is kept


def test_a_memory_bomb_is_contained_and_the_sandbox_lives_on(sandbox) -> None:
    code = "hog = []\nwhile True:\n    hog.append(bytearray(10 * 2**20))"
    with pytest.raises(BudgetExceededError, match="256 MiB") as caught:
        sandbox.run(code)
    assert caught.value.limit == "memory"
    assert sandbox.run("del hog\nlen(bytearray(2**20))").output == 2**20


def test_a_file_over_the_size_limit_is_cut_off(sandbox: SandboxInterpreter) -> None:
    code = f"with open('big.bin', 'wb') as f:\n    f.write(bytes({SANDBOX_FILE_BYTES + 1}))"
    with pytest.raises(BudgetExceededError, match="RLIMIT_FSIZE") as caught:
        sandbox.run(code)
    assert caught.value.limit == "file size"
    assert (sandbox.workdir / "big.bin").stat().st_size <= SANDBOX_FILE_BYTES
    (sandbox.workdir / "big.bin").unlink()


def test_state_persists_across_runs(sandbox: SandboxInterpreter) -> None:
    sandbox.run("import math\ndef area(r):\n    return math.pi * r * r")
    sandbox.run("total = area(1) + area(2)")
    assert sandbox.run("round(total, 6)").output == round(5 * 3.141592653589793, 6)
    assert round(sandbox.state["total"], 6) == round(5 * 3.141592653589793, 6)


def test_a_child_killed_for_cpu_time_says_which_limit() -> None:
    with SandboxInterpreter(guards=False, budgets=Budgets(cpu_seconds=1, timeout=60)) as box:
        box.run("x = 1")
        with pytest.raises(ChildKilledError, match=r"CPU time \(RLIMIT_CPU\)") as caught:
            box.run("while True:\n    pass")
        assert caught.value.limit == "cpu"
        assert "variables are lost" in str(caught.value)
        assert box.run("'x' in globals()").output is False  # a fresh child


def test_a_child_past_the_wall_clock_is_killed_and_says_so() -> None:
    with SandboxInterpreter(guards=False, budgets=Budgets(timeout=1)) as box:
        with pytest.raises(ChildKilledError, match="wall-clock limit of 1 seconds") as caught:
            box.run("import time\ntime.sleep(30)")
        assert caught.value.limit == "timeout"


def test_a_child_killed_by_a_signal_says_so() -> None:
    with SandboxInterpreter(guards=False, budgets=BUDGETS) as box:
        with pytest.raises(ChildKilledError, match="killed") as caught:
            box.run("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
        assert caught.value.limit == "memory"  # how the kernel's OOM killer ends a process


def test_a_wrapped_kernel_command_writes_only_its_folder(tmp_path, host_server) -> None:
    port, accepted = host_server
    workdir, elsewhere = tmp_path / "student-a", tmp_path / "student-b"
    workdir.mkdir(mode=0o700)  # private, as tempfile makes them
    elsewhere.mkdir()
    (elsewhere / "answers.txt").write_text("secret")
    script = (
        "import pathlib, socket, sys\n"
        "pathlib.Path('out.txt').write_text('mine')\n"
        "for probe in (lambda: open(sys.argv[1]).read(),\n"
        "              lambda: socket.create_connection(('127.0.0.1', int(sys.argv[2])), 5)):\n"
        "    try:\n        probe()\n        print('escaped')\n"
        "    except OSError as error:\n        print(type(error).__name__)\n"
    )
    argv = [sys.executable, "-c", script, str(elsewhere / "answers.txt"), str(port)]
    done = subprocess.run(wrap_kernel_command(argv, workdir), capture_output=True, text=True)
    assert done.stdout.split() == ["FileNotFoundError", "ConnectionRefusedError"], done.stderr
    assert (workdir / "out.txt").read_text() == "mine"
    assert not accepted
    assert os.listdir(elsewhere) == ["answers.txt"]


def test_the_unprivileged_prefix_runs_as_nobody_when_root(tmp_path) -> None:
    """The prefix unit 07's `launcher` builds: as root, code runs as nobody in its folder."""
    root = os.geteuid() == 0
    if root:
        hand_over(tmp_path)
    code = "import os; open('mine.txt', 'w').write('x'); print(os.getuid())"
    command = [*bwrap_command(tmp_path, setuid=root), *drop_root_prefix(), sys.executable, "-c"]
    done = subprocess.run([*command, code], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == (UNPRIVILEGED_UID if root else os.geteuid())
    assert (tmp_path / "mine.txt").read_text() == "x"
    assert drop_root_prefix() == [] or root
