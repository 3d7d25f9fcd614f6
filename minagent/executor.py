"""The small interface between a CodeAgent and whatever runs its code.

A CodeAgent does not care how code runs, only that something takes a snippet, keeps the
variables between snippets, and tells it what came back. That something is an `Executor`:

- `minagent.interpreter.Interpreter`: the tree-walking interpreter that unit 04 builds;
  small enough to read, slow, in this process.
- `minexec.GuardedInterpreter`: guarded bytecode, fast, hardened, in this process.
- `minexec.ProcessInterpreter`: the same in a child process with OS limits.
- `minexec.sandbox.SandboxInterpreter`: the same under bubblewrap (no network, no files).

Every failure of the code (refused, raised, out of budget, a tool that raised) comes out as one
exception type, `InterpreterError`, whose message is written for the model that wrote the code.

Example:
    >>> from minagent.interpreter import Interpreter
    >>> executor: Executor = Interpreter()
    >>> executor.run("x = 6\\nx * 7").output
    42
    >>> executor.state["x"]
    6
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


class InterpreterError(Exception):
    """The code could not run: refused by a guard, raised an error, or exceeded a budget.

    `logs` carries what the code printed before it failed (empty when nothing was).

    Example:
        >>> InterpreterError("Import of 'os' is not allowed.")
        InterpreterError("Import of 'os' is not allowed.")
    """

    logs: str = ""


@dataclass
class RunResult:
    """What one run gave back."""

    output: Any
    """The value of the last expression, or the argument of final_answer(...)."""
    logs: str
    """Everything the code printed."""
    is_final_answer: bool
    """True when the code called final_answer(...)."""


@runtime_checkable
class Executor(Protocol):
    """Runs code snippets one after another, keeping their variables in `state`."""

    state: dict[str, Any]
    """The code's variables between runs; the host may read it and put values in it."""

    def run(self, code: str) -> RunResult:
        """Run one snippet. Raises InterpreterError for any failure of the code."""
        ...

    def close(self) -> None:
        """Free what the executor holds (a child process, a folder); idempotent."""
        ...
