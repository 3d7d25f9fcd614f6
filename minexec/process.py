"""Process isolation: the same GuardedInterpreter, run in a child process under OS limits.

The guards refuse the bombs they can see; this is the second wall for the ones they cannot (a
memory-hungry loop, a C extension that spins) and for what no in-process guard can stop: a
C-level crash. Deeply nested data (`zip` or `slice` nested a million deep, `hash` of a deep
tuple) overflows the C stack and kills the process that runs it with SIGSEGV; in process,
that is the host. Here it is the child: the parent survives, `run` raises ChildKilledError
with `limit="stack"`, and the next run starts a fresh child.

The child is `python -m minexec.worker` (see its docstring for the protocol); it sets
RLIMIT_AS, RLIMIT_CPU (per run), RLIMIT_FSIZE and RLIMIT_NPROC on itself (limits.py), and the
parent kills it when a run overstays its wall-clock timeout. When a limit kills the child,
`run` raises ChildKilledError naming the limit, and the next run starts a fresh child (the
state is lost, and the message says so).

What this mode is, and is not: resource isolation. As root, the child runs as an
unprivileged user (nobody, through setpriv), so RLIMIT_NPROC holds and root's files and the
parent's /proc/<pid>/environ are out of reach, and an audit hook refuses writes, processes
and sockets. But code that got past the guards still reads whatever that user may read and
reaches the network, loopback included. For a security boundary use the sandbox (sandbox.py).

Process mode needs a POSIX system (Linux, macOS): it selects on pipes and reads exit signals.

Tools run in the parent: the child sends each call over the pipe and waits for the answer, so
a tool can be any callable (a closure, a bound method, an object holding a connection); only
its arguments and return value cross the pipe, and they must be plain data (pickle).

Example:
    >>> with ProcessInterpreter(authorized_imports=["math"]) as interpreter:
    ...     _ = interpreter.run("import math\\nx = math.sqrt(16)")
    ...     interpreter.run("x + 1").output
    5.0
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import selectors
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from .budgets import Budgets
from .core import RunResult
from .errors import BudgetExceededError, InterpreterError
from .limits import can_drop_root, describe_exit, drop_root_prefix
from .protocol import receive_bytes, safe_loads, send

WALL_CLOCK_GRACE_SECONDS = 2.0
"""Extra seconds the parent waits past the run's timeout before it kills the child."""

START_TIMEOUT_SECONDS = 30.0
"""Seconds the child may take to start and import the interpreter."""


class ChildKilledError(BudgetExceededError):
    """The child process died or was killed; `limit` names why ("timeout", "cpu", ...)."""


def worker_command(*options: str) -> list[str]:
    """The default command that starts a worker: this Python, `-m minexec.worker`, as an
    unprivileged user when we are root (limits.drop_root_prefix)."""
    if not can_drop_root():
        warnings.warn(
            "running as root without setpriv (util-linux): the worker runs as root, so the "
            "process limit does not hold and it can read every file",
            RuntimeWarning,
            stacklevel=3,
        )
    return [*drop_root_prefix(), sys.executable, "-m", "minexec.worker", *options]


def worker_env() -> dict[str, str]:
    """A small environment for the child: no secrets from ours, one thread per library."""
    root = str(Path(__file__).resolve().parents[1])
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": root,
        "PYTHONDONTWRITEBYTECODE": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


class ProcessInterpreter:
    """Runs code in a child process with OS limits; same `run()` and results as GuardedInterpreter.

    Args:
        authorized_imports, tools, budgets: as for GuardedInterpreter; budgets.memory_mb and
            budgets.cpu_seconds set the child's RLIMIT_AS and per-run RLIMIT_CPU.
        command: the argv that starts a worker (default: worker_command()); a sandbox
            launcher such as bubblewrap passes its own prefix here.

    `state` is a snapshot of the child's variables (plain data as values, other objects as
    their repr); assigning into it (`state["x"] = 1`, `state.update(...)`) sends the values
    to the child.
    """

    def __init__(
        self,
        authorized_imports: Iterable[str] = (),
        tools: dict[str, Callable[..., Any]] | None = None,
        budgets: Budgets | None = None,
        command: Sequence[str] | None = None,
    ) -> None:
        self._child: subprocess.Popen | None = None  # first, so __del__ always finds it
        self.authorized_imports = tuple(authorized_imports)
        self.tools = dict(tools or {})
        self.budgets = budgets or Budgets()
        self.command = list(command or worker_command())

    # -- public API -----------------------------------------------------------------------
    def run(self, code: str) -> RunResult:
        """Run code in the child; raise InterpreterError or ChildKilledError on failure."""
        child = self._ensure_child()
        send(child.stdin, {"op": "run", "code": code})
        deadline = time.monotonic() + self.budgets.timeout + WALL_CLOCK_GRACE_SECONDS
        while True:
            message = self._receive(deadline)
            if message["op"] == "tool_call":
                started = time.monotonic()
                self._answer_tool_call(message)
                deadline += time.monotonic() - started  # tool time is not the code's time
                continue
            return self._result(message)

    @property
    def state(self) -> _RemoteState:
        child = self._ensure_child()
        send(child.stdin, {"op": "state"})
        message = self._receive(time.monotonic() + START_TIMEOUT_SECONDS)
        values = {name: _plain(blob, text) for name, (blob, text) in message["values"].items()}
        return _RemoteState(self, values)

    def update_state(self, values: dict[str, Any]) -> None:
        """Put variables into the child's state (they are pickled across)."""
        child = self._ensure_child()
        send(child.stdin, {"op": "set_state", "values": dict(values)})
        self._receive(time.monotonic() + START_TIMEOUT_SECONDS)

    def close(self) -> None:
        """Stop the child (a later run starts a new one, with empty state)."""
        child, self._child = self._child, None
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
        if child is not None:
            child.stdin.close()
            child.stdout.close()

    def __enter__(self) -> ProcessInterpreter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    # -- the child ------------------------------------------------------------------------
    def _ensure_child(self) -> subprocess.Popen:
        if self._child is not None and self._child.poll() is None:
            return self._child
        self.close()
        self._child = subprocess.Popen(
            self.command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=worker_env(),
            close_fds=True,
            bufsize=0,  # unbuffered, so select() sees every byte the child sent
        )
        init = {
            "op": "init",
            "authorized_imports": list(self.authorized_imports),
            "tool_names": list(self.tools),
            "budgets": dataclasses.asdict(self.budgets),
        }
        try:
            send(self._child.stdin, init)
            self._receive(time.monotonic() + START_TIMEOUT_SECONDS)
        except (ChildKilledError, OSError) as error:
            self.close()
            raise InterpreterError(
                f"The worker process could not start ({error}). Its command: "
                f"{' '.join(self.command)}. As root it runs as an unprivileged user, who must "
                "be able to read the Python installation and the project (its error is on "
                "stderr above)."
            ) from None
        return self._child

    def _receive(self, deadline: float) -> dict:
        """The next message from the child, or ChildKilledError if it dies or overstays."""
        child = self._child
        assert child is not None
        # selectors, not select.select: a host with over 1024 open files has descriptors that
        # select() cannot watch ("filedescriptor out of range").
        with selectors.DefaultSelector() as watch:
            watch.register(child.stdout, selectors.EVENT_READ)
            ready = watch.select(max(deadline - time.monotonic(), 0))
        if not ready:
            self.close()
            raise ChildKilledError(
                f"The code ran past the wall-clock limit of {self.budgets.timeout:g} seconds "
                "and the child process was killed; its variables are lost. Do less per step.",
                limit="timeout",
            )
        data = receive_bytes(child.stdout)
        if data is None:
            raise self._death()
        try:
            return safe_loads(data)
        except Exception:  # noqa: BLE001 - a child that sends garbage is a broken child
            self.close()
            raise ChildKilledError(
                "The child process sent a reply that is not a message, and was stopped; its "
                "variables are lost.",
                limit="crash",
            ) from None

    def _death(self) -> ChildKilledError:
        child = self._child
        code = child.wait() if child is not None else None
        self.close()
        limit, why = describe_exit(code)
        return ChildKilledError(
            f"The child process running the code stopped: {why}. Its variables are lost; "
            "use less memory or time per step.",
            limit=limit,
        )

    def _answer_tool_call(self, message: dict) -> None:
        tool = self.tools[message["name"]]
        try:
            args, kwargs = safe_loads(message["payload"])  # None (unpicklable) fails too
        except Exception:  # noqa: BLE001 - the child sent something that is not plain data
            error = "tool arguments must be plain data (numbers, strings, lists, dicts, ...)"
            send(self._child.stdin, {"op": "tool_result", "error": error})
            return
        try:
            reply = {"op": "tool_result", "value": tool(*args, **kwargs)}
            pickle.dumps(reply)
        except Exception as error:  # noqa: BLE001 - the error goes back to the code
            reply = {"op": "tool_result", "error": f"{type(error).__name__}: {error}"}
        send(self._child.stdin, reply)

    def _result(self, message: dict) -> RunResult:
        if message["ok"]:
            output = _plain(message["output"], message["output_repr"])
            return RunResult(output, message["logs"], message["is_final_answer"])
        if message["limit"]:
            error: InterpreterError = BudgetExceededError(message["error"], message["limit"])
        else:
            error = InterpreterError(message["error"])
        error.logs = message["logs"]  # type: ignore[attr-defined]
        raise error


def _plain(blob: bytes | None, text: str) -> Any:
    """A value from the child: itself if it is plain data, else its repr."""
    if blob is None:
        return text
    try:
        return safe_loads(blob)
    except Exception:  # noqa: BLE001 - not plain data: the repr is what we can show
        return text


class _RemoteState(dict):
    """A snapshot of the child's state; writes are forwarded to the child."""

    def __init__(self, owner: ProcessInterpreter, values: dict[str, Any]) -> None:
        super().__init__(values)
        self._owner = owner

    def __setitem__(self, key: str, value: Any) -> None:
        self._owner.update_state({key: value})
        super().__setitem__(key, value)

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        values = dict(*args, **kwargs)
        self._owner.update_state(values)
        super().update(values)
