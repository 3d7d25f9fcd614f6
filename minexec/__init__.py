"""minexec: the hardened executors a CodeAgent runs model-written code in.

`minagent.interpreter` is the small tree-walking interpreter that unit 04 builds: easy to
read, slow. This sibling package is what agents use by default, behind the same `Executor`
protocol (`minagent.executor`: `run(code) -> RunResult`, `state`, `close()`, one error type):

- `GuardedInterpreter` (core.py): model-written code is parsed, checked (validate.py),
  rewritten so that risky steps call guards (rewrite.py, guards.py, wrappers.py), compiled,
  and run as ordinary CPython bytecode with a curated set of builtins (namespace.py) under
  operation, time and size budgets (budgets.py), with state it would share with the host
  made its own (hoststate.py). Fast, in this process. What it cannot do: stop a C-level
  crash. Data nested a million deep (zip, enumerate, a tuple's hash) overflows the C stack
  with SIGSEGV, which kills the process that runs it: here, the host. Nor can it cap total
  memory, only each amplifier it knows of, and a guard it lacks is a way out. Use it for
  teaching and speed, with code you would run anyway.
- `ProcessInterpreter` (process.py, worker.py, limits.py): the same in a child process
  with OS limits, run as an unprivileged user when we are root: resource isolation, so a
  bomb or a crash kills the child, not the host, and the parent reports which limit was hit.
  Not a security boundary: code that got past the guards reads what that user may read and
  reaches the network.
- `SandboxInterpreter` (sandbox.py): the same child under bubblewrap, with its own network,
  PID and mount namespaces and no writable folder: the security boundary, and a CodeAgent's
  default executor (it falls back to the process mode, with a warning, where bwrap cannot
  run).

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
