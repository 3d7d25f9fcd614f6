"""The GuardedInterpreter: parse, validate, rewrite, compile, then run real bytecode under guards.

Example:
    >>> interpreter = GuardedInterpreter(authorized_imports=["math"])
    >>> result = interpreter.run("import math\\nprint('hi')\\nmath.sqrt(16)")
    >>> result.output, result.logs, result.is_final_answer
    (4.0, 'hi\\n', False)
    >>> interpreter.run("final_answer(math.pi > 3)").is_final_answer
    True
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from minagent.executor import RunResult

from .budgets import Budgets, Meter
from .errors import BudgetExceededError, FinalAnswer, InterpreterError, Stop
from .guards import Guards
from .imports import ImportPolicy
from .namespace import Output, build_builtins
from .rewrite import FILENAME, compile_guarded
from .validate import validate
from .wrappers import method_wrappers, module_wrappers

_HIDDEN_KEYS = ("__builtins__", "__name__")


class GuardedInterpreter:
    """Runs model-written Python with an import allowlist, guards and budgets, in this process.

    In this process means: a C-level crash of the code (a stack overflow from deeply nested
    data) is a crash of the host, and a guard that is missing is a way into the host. For code
    you do not trust, use ProcessInterpreter or, better, sandbox.SandboxInterpreter.

    Args:
        authorized_imports: module names the code may import; "pkg.*" allows pkg and its
            submodules, "*" allows the modules in imports.SAFE_STDLIB (an allowlist).
        tools: names the code can call like functions (they run as ordinary host code).
        budgets: the limits (operations, time, output, sizes); see budgets.Budgets.

    `state` holds the code's variables, functions and imports between runs; the host may read
    it and put values in it. Blocked or failing code raises InterpreterError, whose `logs`
    attribute carries what was printed before the failure.
    """

    def __init__(
        self,
        authorized_imports: Iterable[str] = (),
        tools: dict[str, Callable[..., Any]] | None = None,
        budgets: Budgets | None = None,
    ) -> None:
        self.budgets = budgets or Budgets()
        self.authorized_imports = tuple(authorized_imports)
        self.state: dict[str, Any] = {}
        self._meter = Meter(self.budgets)
        self._guards = Guards(ImportPolicy(self.authorized_imports), self._meter, self.budgets)
        self._guards.module_wrappers = module_wrappers(self._guards)
        self._guards.method_wrappers = method_wrappers(self._guards)
        self._output = Output(self.budgets.max_output_chars)
        self._last: Any = None
        self._builtins = build_builtins(self._guards, dict(tools or {}), self._output)
        self._tool_names = frozenset({*(tools or {}), "final_answer"})
        # Names any code run here put in `global`, `nonlocal` or `:=`: a function or generator
        # from an earlier run may rebind them, so the rewriter never treats them as counters.
        self._shared_names: frozenset[str] = frozenset()
        self._builtins["__mg_import__"] = self._guards.policy.import_statement
        self._builtins["__mg_from__"] = self._import_from
        self._builtins["__mg_output__"] = self._set_last

    def run(self, code: str) -> RunResult:
        """Run one snippet; return its output, logs and whether it gave a final answer."""
        if self._meter.in_run:  # a tool calling back into the same interpreter
            raise InterpreterError("This interpreter is already running code; use another one.")
        # 1. Check and rewrite the code before any of it runs (validate.py, rewrite.py).
        compiled = self._compile(code)
        self._output.reset()
        self._last = None
        # 2. The state dict is the code's globals; its builtins are the curated ones, so
        #    `open`, `eval` and the real `__import__` are simply not there.
        self.state.update({"__builtins__": self._builtins, "__name__": "__main__"})
        # 3. Arm the budgets and run real bytecode: the guards do the checking from inside.
        self._meter.start()
        failure: BaseException | None = None
        try:
            with self._guards.private.run_context():  # decimal.getcontext() is the run's own
                exec(compiled, self.state)
        except BaseException as error:  # noqa: BLE001 - everything comes out as a result
            failure = error
        finally:
            stopped = self._meter.stopped
            self._meter.idle()
            for key in _HIDDEN_KEYS:
                self.state.pop(key, None)
        # A Stop swallowed by a `with` block still ends the run the way it was meant to.
        if isinstance(stopped, Stop) and not isinstance(failure, Stop):
            failure = stopped
        if failure is not None:
            return self._finish_failed(failure, code)
        return RunResult(self._last, self._output.text(), False)

    def close(self) -> None:
        """Nothing to free in process: here for the Executor protocol."""

    def _compile(self, code: str) -> Any:
        try:
            tree = ast.parse(code, filename=FILENAME)
            self._shared_names |= validate(tree, self._tool_names)
            return compile_guarded(tree, self._shared_names)
        except SyntaxError as error:
            raise InterpreterError(
                f"SyntaxError on line {error.lineno}: {error.msg}. Fix the code and try again."
            ) from None
        except (RecursionError, MemoryError, ValueError) as error:
            # Absurdly nested code overflows the parser; null bytes are a ValueError.
            raise InterpreterError(
                f"The code could not be parsed ({type(error).__name__}): simplify it."
            ) from None

    def _finish_failed(self, failure: BaseException, code: str) -> RunResult:
        if isinstance(failure, Stop) and isinstance(failure.reason, FinalAnswer):
            return RunResult(failure.reason.value, self._output.text(), True)
        if isinstance(failure, Stop):
            error: InterpreterError = failure.reason
        elif isinstance(failure, BudgetExceededError):
            error = failure
        elif isinstance(failure, MemoryError):
            error = BudgetExceededError(
                "Ran out of memory. Work on smaller pieces of data.", limit="memory"
            )
        elif isinstance(failure, InterpreterError):
            error = InterpreterError(_with_line(str(failure), failure.__traceback__, code))
        else:
            text = f"{type(failure).__name__}: {_describe(failure)}"
            error = InterpreterError(_with_line(text, failure.__traceback__, code))
        error.logs = self._output.text()  # type: ignore[attr-defined]
        raise error from None

    def _set_last(self, value: Any) -> None:
        # The host will show this value: its text must be one the host can afford to build.
        self._last = self._guards.shown(value)

    def _import_from(self, module: str, names: tuple[str, ...]) -> tuple[Any, ...]:
        """`from module import a, b`: each name is an attribute or an authorised submodule."""
        policy = self._guards.policy
        parent = policy.import_module(module)
        values = []
        for name in names:
            try:
                values.append(self._guards.getattr(parent, name))
            except AttributeError:
                values.append(policy.import_module(f"{module}.{name}"))
        return tuple(values)


def _describe(error: BaseException) -> str:
    """str(error), which may run the code's own __str__: it must not break the host."""
    try:
        return str(error)
    except Exception:  # noqa: BLE001 - a broken __str__ still gives an error message
        return "(the error could not be turned into text)"


def _with_line(text: str, trace: TracebackType | None, code: str) -> str:
    """Prefix an error with the line of the model's code it came from."""
    line = None
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == FILENAME:
            line = trace.tb_lineno
        trace = trace.tb_next
    if line is None or text.startswith("Line "):
        return text
    lines = code.splitlines()
    source = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    return f"Line {line} `{source}`: {text}" if source else f"Line {line}: {text}"
