"""A safe, fast Python interpreter for code actions.

Model-written code is parsed, checked (validate.py), rewritten so that risky steps call guards
(rewrite.py, guards.py, wrappers.py), compiled, and run as ordinary CPython bytecode with a
curated set of builtins (namespace.py) under operation, time and size budgets (budgets.py).
`isolation="process"` runs the same interpreter in a child process with OS limits
(process.py, worker.py).

Example:
    >>> from minagent.interpreter import Interpreter
    >>> Interpreter().run("sum(i * i for i in range(4))").output
    14
"""

from .budgets import Budgets
from .core import Interpreter, RunResult
from .errors import BudgetExceededError, InterpreterError
from .imports import SAFE_STDLIB
from .process import ChildKilledError, ProcessInterpreter

__all__ = [
    "Budgets",
    "BudgetExceededError",
    "ChildKilledError",
    "Interpreter",
    "InterpreterError",
    "ProcessInterpreter",
    "RunResult",
    "SAFE_STDLIB",
]
