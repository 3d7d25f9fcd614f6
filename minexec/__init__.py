"""minexec: the hardened executors a CodeAgent runs model-written code in.

`minagent.interpreter` is the small tree-walking interpreter that unit 04 builds: easy to
read, slow. This sibling package is what agents use by default, behind the same `Executor`
protocol (`minagent.executor`: `run(code) -> RunResult`, `state`, `close()`, one error type):

- `GuardedInterpreter` (core.py): model-written code is parsed, checked (validate.py),
  rewritten so that risky steps call guards (rewrite.py, guards.py, wrappers.py), compiled,
  and run as ordinary CPython bytecode with a curated set of builtins (namespace.py) under
  operation, time and size budgets (budgets.py). Fast, in this process: a missed guard or a
  C-level crash reaches the host.
- `ProcessInterpreter` (process.py, worker.py): the same in a child process with OS limits:
  resource isolation, so a bomb or a crash kills the child, not the host.
- `SandboxInterpreter` (sandbox.py): the same child under bubblewrap, with its own network,
  PID and mount namespaces: the security boundary.

Example:
    >>> from minexec import GuardedInterpreter
    >>> GuardedInterpreter().run("sum(i * i for i in range(4))").output
    14
"""

from minagent.executor import RunResult

from .budgets import Budgets
from .core import GuardedInterpreter
from .errors import BudgetExceededError, InterpreterError
from .imports import SAFE_STDLIB
from .process import ChildKilledError, ProcessInterpreter

__all__ = [
    "Budgets",
    "BudgetExceededError",
    "ChildKilledError",
    "GuardedInterpreter",
    "InterpreterError",
    "ProcessInterpreter",
    "RunResult",
    "SAFE_STDLIB",
]
