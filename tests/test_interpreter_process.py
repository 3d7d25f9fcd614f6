"""Process isolation: the same interpreter in a child process, killed by OS limits."""

from __future__ import annotations

import os
import sys

import pytest

from minexec import (
    Budgets,
    ChildKilledError,
    GuardedInterpreter,
    InterpreterError,
    ProcessInterpreter,
)
from minexec.process import worker_env


@pytest.fixture(scope="module")
def child() -> ProcessInterpreter:
    calls: list[str] = []

    def lookup(key: str) -> str:
        calls.append(key)
        return key.upper()

    interpreter = ProcessInterpreter(authorized_imports=["math", "re"], tools={"lookup": lookup})
    interpreter.calls = calls  # type: ignore[attr-defined]
    yield interpreter
    interpreter.close()


def test_runs_code_and_keeps_state_across_runs(child: ProcessInterpreter) -> None:
    first = child.run("import math\nprint('pid', 1)\nx = math.factorial(5)\nx")
    assert (first.output, first.logs, first.is_final_answer) == (120, "pid 1\n", False)
    assert child.run("x + 1").output == 121
    assert child.state["x"] == 120


def test_code_runs_in_another_process(child: ProcessInterpreter) -> None:
    host = GuardedInterpreter(authorized_imports=["*"])
    assert child.run("def f():\n    return 1\n'f'").output == "f"
    assert "f" not in host.state  # nothing leaked into this process
    assert child.run("final_answer([1, 2])").is_final_answer


def test_tools_run_in_the_parent(child: ProcessInterpreter) -> None:
    assert child.run("lookup('abc') + lookup(key='d')").output == "ABCD"
    assert child.calls[-2:] == ["abc", "d"]  # type: ignore[attr-defined]


def test_state_writes_reach_the_child(child: ProcessInterpreter) -> None:
    child.state["given"] = {"rows": [1, 2, 3]}
    child.state.update(extra=4)
    assert child.run("sum(given['rows']) + extra").output == 10


def test_non_plain_output_comes_back_as_repr(child: ProcessInterpreter) -> None:
    output = child.run("class Thing:\n    def __repr__(self):\n        return 'Thing!'\nThing()")
    assert output.output == "Thing!"


def test_guards_still_apply_in_the_child(child: ProcessInterpreter) -> None:
    with pytest.raises(InterpreterError, match="Authorised imports: math, re") as info:
        child.run("print('before')\nimport os")
    assert info.value.logs == "before\n"
    assert child.run("1 + 1").output == 2


def test_child_environment_carries_no_secrets() -> None:
    os.environ["MINAGENT_TEST_SECRET"] = "hunter2"
    try:
        assert "MINAGENT_TEST_SECRET" not in worker_env()
    finally:
        del os.environ["MINAGENT_TEST_SECRET"]


def test_memory_limit_stops_a_bomb_the_guards_let_through() -> None:
    with ProcessInterpreter(budgets=Budgets(memory_mb=400)) as interpreter:
        with pytest.raises(InterpreterError) as info:
            interpreter.run(
                "blocks = []\nfor i in range(1000):\n    blocks.append(bytearray(10**7))"
            )
        assert getattr(info.value, "limit", None) == "memory"
        assert interpreter.run("2 + 2").output == 4


def test_cpu_limit_kills_the_child() -> None:
    budgets = Budgets(cpu_seconds=1, timeout=30, max_operations=10**12)
    with ProcessInterpreter(budgets=budgets) as interpreter:
        interpreter.run("kept = 1")
        with pytest.raises(ChildKilledError, match="CPU time") as info:
            interpreter.run("n = 0\nwhile True:\n    n += 1")
        assert info.value.limit == "cpu"
        # A fresh child takes over; the old state is gone, as the message said.
        with pytest.raises(InterpreterError, match="NameError"):
            interpreter.run("kept")


def test_wall_clock_kills_a_child_stuck_in_c() -> None:
    """A backtracking regex the shape check lets through (three overlapping `.*` side by
    side, within its limit, but n**3 ways to split a long text): only the kill stops it."""
    with ProcessInterpreter(authorized_imports=["re"], budgets=Budgets(timeout=0.5)) as child:
        with pytest.raises(ChildKilledError, match="wall-clock") as info:
            child.run("import re\nre.search('.*a.*a.*ab', 'a' * 3000)")
        assert info.value.limit == "timeout"
        assert child.run("'alive'").output == "alive"


LINUX_ONLY = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc/<pid>/limits (Linux)"
)


@LINUX_ONLY
def test_file_size_limit_is_set_in_the_child() -> None:
    with ProcessInterpreter() as interpreter:
        interpreter.run("1")
        pid_limits = open(f"/proc/{interpreter._child.pid}/limits").read()
    assert "Max file size             0" in pid_limits
    assert "Max core file size        0" in pid_limits


@LINUX_ONLY
def test_process_limit_is_set_in_the_child() -> None:
    with ProcessInterpreter() as interpreter:
        interpreter.run("1")
        pid_limits = open(f"/proc/{interpreter._child.pid}/limits").read()
    assert "Max processes             0" in pid_limits


@pytest.mark.parametrize(
    "action",
    [
        "import os; os.system('true')",
        "import subprocess; subprocess.run(['true'])",
        "import socket; socket.socket()",
        "open('/tmp/minagent_worker_hook_test', 'w')",
        "import os; os.open('/tmp/minagent_worker_hook_test', os.O_WRONLY | os.O_CREAT)",
    ],
)
def test_worker_audit_hook_refuses_side_effects(action: str) -> None:
    """Even plain Python (no guards at all) cannot spawn, connect or write once it is set."""
    import subprocess

    script = (
        "from minexec.worker import block_side_effects\n"
        "block_side_effects()\n"
        "open(__file__ if False else '/proc/self/status').read()  # reading still works\n"
        f"try:\n    {action}\nexcept PermissionError as e:\n    print('refused', e)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=worker_env()
    )
    assert done.stdout.startswith("refused"), done.stdout + done.stderr
    assert not os.path.exists("/tmp/minagent_worker_hook_test")


def test_broken_repr_of_the_output_does_not_kill_the_worker() -> None:
    with ProcessInterpreter() as interpreter:
        output = interpreter.run(
            "class Odd:\n    def __repr__(self):\n        return 1 / 0\nOdd()"
        ).output
        assert output.startswith("<repr failed")
        assert interpreter.run("'still here'").output == "still here"


def test_tool_arguments_must_be_plain_data(child: ProcessInterpreter) -> None:
    with pytest.raises(InterpreterError, match="plain data"):
        child.run("class Box:\n    pass\nlookup(Box())")
    assert child.run("lookup('ok')").output == "OK"


def test_tool_errors_come_back_to_the_code(child: ProcessInterpreter) -> None:
    with pytest.raises(InterpreterError, match="AttributeError"):
        child.run("lookup(5)")  # int has no .upper(): the parent's error reaches the code


def test_a_launcher_prefix_can_start_the_worker() -> None:
    """minexec.sandbox starts the same worker under bubblewrap: any argv prefix works."""
    import shutil

    from minexec.process import worker_command

    command = [shutil.which("env") or "/usr/bin/env", *worker_command()]
    assert worker_command()[-3:] == [sys.executable, "-m", "minexec.worker"]
    with ProcessInterpreter(command=command) as interpreter:
        assert interpreter.run("6 * 7").output == 42
    assert sys.executable in command


def test_the_tool_pipe_is_out_of_reach(child: ProcessInterpreter) -> None:
    """A tool in the child is a bare function: no attribute leads to the protocol pipe."""
    for attribute in ("writer", "reader", "name", "_writer"):
        with pytest.raises(InterpreterError):
            child.run(f"lookup.{attribute}")
    assert child.run("lookup.__name__").output == "lookup"


def test_a_worker_that_cannot_start_is_reported_as_such() -> None:
    """As root the worker runs as nobody; a Python or project it cannot read ends it at once."""
    with ProcessInterpreter(command=[sys.executable, "-c", "raise SystemExit(3)"]) as child:
        with pytest.raises(InterpreterError, match="could not start"):
            child.run("1")


def test_runs_when_the_host_holds_over_1024_open_files() -> None:
    # select() cannot watch a descriptor past 1023, and a long-lived host (a test run, a
    # notebook server) can hold that many files open: the child's pipe lands up there.
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        with ProcessInterpreter() as interpreter:
            assert interpreter.run("6 * 7").output == 42
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
