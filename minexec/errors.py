"""Every way out of a run, named.

`InterpreterError` (the Executor protocol's, from `minagent.executor`) is the one exception
the host sees: code that was refused, that failed, or that ran out of a budget. Its message is
written for the model that wrote the code, so it says what to do instead. `Stop` is internal:
a BaseException that unwinds the sandboxed code when a budget runs out or `final_answer` is
called; the run turns it back into a result or an error.
"""

from __future__ import annotations

from typing import Any

from minagent.executor import InterpreterError

__all__ = ["BudgetExceededError", "FinalAnswer", "InterpreterError", "Stop"]


class BudgetExceededError(InterpreterError):
    """A named budget ran out; `limit` says which ("operations", "timeout", "memory", ...)."""

    def __init__(self, message: str, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


class FinalAnswer:
    """The value given to `final_answer(...)`, carried out of the run by `Stop`."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class Stop(BaseException):
    """Unwinds sandboxed code; `reason` is a BudgetExceededError or a FinalAnswer.

    It derives from BaseException so `except Exception:` in model code does not catch it, and
    the rewriter makes every other handler re-raise it (see Meter.reraise).
    """

    def __init__(self, reason: BudgetExceededError | FinalAnswer) -> None:
        super().__init__(reason)
        self.reason = reason
