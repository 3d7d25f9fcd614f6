"""The executors an attack test runs against: in process, in a child process, under bwrap.

The guards are the same code in all three (the worker runs a GuardedInterpreter), so an attack
on a guard is run in each mode to show that the child's copy holds too; the sandbox mode is
skipped where bubblewrap cannot run (see minexec.sandbox.sandbox_problem).

Example:
    executor = pytest.fixture(params=MODES, scope="module")(executor_fixture(["functools"]))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import pytest

from minexec import Budgets, GuardedInterpreter, ProcessInterpreter
from minexec.sandbox import SandboxInterpreter, sandbox_problem

MODES = ("local", "process", "sandbox")

BUDGETS = Budgets(timeout=20)


def make_executor(mode: str, imports: Sequence[str], budgets: Budgets = BUDGETS) -> object:
    """A fresh executor of `mode` with `imports` authorised (skips the test without bwrap)."""
    if mode == "local":
        return GuardedInterpreter(imports, budgets=budgets)
    if mode == "process":
        return ProcessInterpreter(imports, budgets=budgets)
    problem = sandbox_problem()
    if problem is not None:
        pytest.skip(f"the sandbox cannot run here: {problem}")
    return SandboxInterpreter(imports, budgets=budgets, strict=True)


def executor_fixture(imports: Sequence[str]) -> Callable[[pytest.FixtureRequest], Iterator]:
    """A module-scoped fixture function, parametrised by MODES, that yields one executor."""

    def fixture(request: pytest.FixtureRequest) -> Iterator[object]:
        executor = make_executor(request.param, imports)
        yield executor
        executor.close()  # type: ignore[attr-defined]

    return fixture
