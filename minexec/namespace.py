"""The curated builtins the sandboxed code sees, and the guard functions the rewriter calls.

Everything the code can name without importing lives in one dict that becomes its
`__builtins__`: safe builtins (len, sorted, dict, ...), checked stand-ins for the ones that can
build huge values (range, bytes, pow, format, iter) or reach attributes (getattr, setattr,
type), refusals with a helpful message for the dangerous ones (eval, open, globals, ...), the
tools, `print` and `final_answer`, and the `__mg_*__` guard functions. Model code cannot
spell a `__mg_` name, so the guards are callable only from the rewritten code.

Example:
    >>> from minexec import Budgets
    >>> from minexec.budgets import Meter
    >>> from minexec.imports import ImportPolicy
    >>> guards = Guards(ImportPolicy([]), Meter(Budgets()), Budgets())
    >>> names = build_builtins(guards, tools={}, output=Output(100))
    >>> names["eval"]("1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    minagent.executor.InterpreterError: eval() is not available in the sandbox...
"""

from __future__ import annotations

import builtins
import importlib
from collections.abc import Callable
from typing import Any

from .budgets import metered
from .errors import FinalAnswer, InterpreterError, Stop
from .guards import Guards
from .sizes import as_int, true_len
from .standins import checked_type, refuse_class_creation
from .validate import check_attribute_name

SAFE_BUILTINS = (
    "abs", "all", "any", "bin", "bool", "callable", "chr", "complex", "dict", "dir",
    "enumerate", "float", "frozenset", "hash", "hex", "id", "int",
    "isinstance", "issubclass", "len", "list", "max", "min", "next", "object", "oct",
    "ord", "reversed", "round", "set", "slice", "sorted", "str", "super",
    "tuple", "zip", "property", "staticmethod", "classmethod", "NotImplemented", "Ellipsis",
    "__build_class__",
)  # fmt: skip
"""Builtins handed over as they are; __build_class__ is what a `class` statement calls."""

REFUSED_BUILTINS = {
    "eval": "write the code directly instead of building it as a string",
    "exec": "write the code directly instead of building it as a string",
    "compile": "write the code directly instead of building it as a string",
    "open": "files are out of reach; use a tool that reads the data, or the variables given",
    "input": "there is no user to ask; use the variables and tools you were given",
    "breakpoint": "there is no debugger in the sandbox",
    "globals": "read your variables by name",
    "locals": "read your variables by name",
    "vars": "read attributes by name",
    "memoryview": "use bytes or bytearray",
    "exit": "call final_answer(...) to finish",
    "quit": "call final_answer(...) to finish",
    "help": "the documentation is not available here",
}
"""Builtins that would leave the sandbox, each with what to do instead."""

_EXCEPTIONS = [
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
]


class Output:
    """Printed text with a cap: what passes the cap is dropped and the logs say so."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.reset()

    def reset(self) -> None:
        """Start a new run's logs."""
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def write(self, text: str) -> None:
        room = self.max_chars - self.size
        if len(text) > room:
            self.dropped += len(text) - max(room, 0)
            text = text[: max(room, 0)]
        self.parts.append(text)
        self.size += len(text)

    def text(self) -> str:
        note = f"\n[output cut: {self.dropped:,} more characters]\n" if self.dropped else ""
        return "".join(self.parts) + note


def build_builtins(guards: Guards, tools: dict[str, Callable[..., Any]], output: Output) -> dict:
    """The `__builtins__` dict for one interpreter (see the module docstring)."""
    names: dict[str, Any] = {name: getattr(builtins, name) for name in SAFE_BUILTINS}
    names.update({name: getattr(builtins, name) for name in _EXCEPTIONS})
    for name, instead in REFUSED_BUILTINS.items():
        names[name] = _refusal(name, instead)
    names.update(_checked_builtins(guards))
    names["__import__"] = _library_import(guards)
    names["print"] = _printer(output, guards.shown)
    names.update({name: _tool_caller(name, tool) for name, tool in tools.items()})
    names["final_answer"] = _final_answer(guards, tools.get("final_answer"))
    names.update(guards.fast_paths())
    names.update(
        {
            "__mg_target__": guards.target,
            "__mg_augitem__": guards.augitem,
            "__mg_augattr__": guards.augattr,
            "__mg_pow__": guards.pow,
            "__mg_lshift__": guards.lshift,
            "__mg_format__": guards.format,
            "__mg_tick__": guards.meter.tick,
            "__mg_loop__": guards.meter.loop,
            "__mg_forever__": guards.meter.forever,
            "__mg_count__": guards.count,
            "__mg_reraise__": guards.meter.reraise,
            "__mg_class__": guards.register_class,
            "__mg_star__": guards.star,
        }
    )
    return names


def _refusal(name: str, instead: str) -> Callable[..., Any]:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise InterpreterError(f"{name}() is not available in the sandbox: {instead}.")

    refused.__name__ = name
    return refused


LIBRARY_IMPORTS = frozenset({"time", "_strptime"})
"""Modules that C code of allowed modules imports for itself, through the `__import__` of the
running code's builtins: `date.strftime` imports time, `datetime.strptime` imports
_strptime. The code itself cannot name `__import__` (dunder names are refused), so these
modules go to the C function that asked for them, not to the code."""


def _library_import(guards: Guards) -> Callable[..., Any]:
    """`__import__` as C code calls it: authorised modules and LIBRARY_IMPORTS only."""

    def import_(
        name: str, _globals: Any = None, _locals: Any = None, fromlist: Any = (), level: int = 0
    ) -> Any:
        if level == 0 and (name in LIBRARY_IMPORTS or guards.policy.allows(name)):
            return importlib.__import__(name, None, None, fromlist, 0)
        raise guards.policy.refusal(name)

    return import_


def _printer(output: Output, shown: Callable[[Any], Any]) -> Callable[..., None]:
    def print(*values: Any, sep: str | None = " ", end: str | None = "\n", **_: Any) -> None:  # noqa: A001
        """print() into the run's logs (file= and flush= are ignored)."""
        # str.join and str.__add__ give exact strs, whatever a subclass overrides.
        text = str.join(" " if sep is None else sep, map(str, map(shown, values)))
        output.write(str.__add__(text, "\n" if end is None else end))

    return print


def _tool_caller(name: str, tool: Callable[..., Any]) -> Callable[..., Any]:
    """The code gets a function that calls the tool, never the host's Tool object: writing
    `search.fn = ...` or `search.parameters.clear()` would change it for every later agent.
    A closure's cells sit behind `__closure__`, which the code cannot read."""

    def call_tool(*args: Any, **kwargs: Any) -> Any:
        return tool(*args, **kwargs)

    call_tool.__name__ = call_tool.__qualname__ = name
    call_tool.__doc__ = getattr(tool, "description", None) or getattr(tool, "__doc__", None)
    return call_tool


def _final_answer(guards: Guards, tool: Callable[..., Any] | None) -> Callable[[Any], None]:
    def final_answer(answer: Any) -> None:
        """End the run now, with `answer` as its output."""
        value = tool(answer) if tool is not None else answer
        guards.meter.stop_with(Stop(FinalAnswer(value)))

    return final_answer


def _checked_builtins(guards: Guards) -> dict[str, Any]:
    """Stand-ins for builtins that can reach attributes or build huge values."""
    return {**_attribute_builtins(guards), **_iteration_builtins(guards), **_size_builtins(guards)}


def _attribute_builtins(guards: Guards) -> dict[str, Any]:
    """getattr and friends: the same checks as `obj.name`, for names that are strings."""

    def getattr_(obj: Any, name: str, *default: Any) -> Any:
        check_attribute_name(name)
        try:
            return guards.getattr(obj, name)
        except AttributeError:
            if default:
                return default[0]
            raise

    def hasattr_(obj: Any, name: str) -> bool:
        check_attribute_name(name)
        try:
            guards.getattr(obj, name)
        except AttributeError:
            return False
        return True

    def setattr_(obj: Any, name: str, value: Any) -> None:
        guards.check_writable(obj, name, value)
        setattr(obj, name, value)

    def delattr_(obj: Any, name: str) -> None:
        guards.check_writable(obj, name)
        delattr(obj, name)

    return {"getattr": getattr_, "hasattr": hasattr_, "setattr": setattr_, "delattr": delattr_}


def _iteration_builtins(guards: Guards) -> dict[str, Any]:
    """Builtins that C code could drive through endless or aliased data: fed through the
    meter, so the operation and time budgets still see every item."""

    def iter_(obj: Any, *sentinel: Any) -> Any:
        # iter(callable, sentinel) can be endless and is consumed in C by list()/sum():
        # feed it through the meter. The one-argument form is bounded by its source.
        if sentinel:
            return metered(iter(obj, *sentinel), guards.meter.tick)
        return iter(obj)

    def sum_(iterable: Any, /, start: Any = 0) -> Any:
        if type(start) in (int, float, complex):  # exact types: ABCs can be re-registered
            return sum(iterable, start)
        # sum(lists, []) copies the running total at every step, in C: do it here, metered.
        total = start
        for item in iterable:
            guards.meter.tick()
            total = total + item
            guards.check_items(true_len(total), "sum")
        return total

    def map_(function: Any, *iterables: Any) -> Any:
        return metered(map(function, *iterables), guards.meter.tick)

    def filter_(function: Any, iterable: Any) -> Any:
        return metered(filter(function, iterable), guards.meter.tick)

    return {"iter": iter_, "sum": sum_, "map": map_, "filter": filter_}


def _size_builtins(guards: Guards) -> dict[str, Any]:
    """Builtins whose arguments say how big the result is: checked before C builds it."""
    budgets = guards.budgets

    def format_(value: Any, spec: str = "") -> str:
        return guards.format(value, -1, spec)

    def repr_(value: Any) -> str:
        return repr(guards.shown(value))

    def ascii_(value: Any) -> str:
        return ascii(guards.shown(value))

    def divmod_(left: Any, right: Any) -> Any:
        guards.check_division(left, right)  # big ints: as slow as a // b
        return divmod(left, right)

    def sized(real: type, what: str) -> type:
        def build(*args: Any, **kwargs: Any) -> Any:
            size = as_int(args[0]) if args and not isinstance(args[0], (str, bytes)) else None
            if size is None:
                return real(*args, **kwargs)
            guards.check_items(size, what)
            return real(size, *args[1:], **kwargs)  # the int that was checked

        return checked_type(real, _no_check, call=build)

    def checked_range(*args: Any) -> range:
        numbers = [as_int(arg) for arg in args]  # each __index__ asked once
        args = tuple(
            arg if number is None else number for arg, number in zip(args, numbers, strict=True)
        )
        try:
            items = len(range(*args))
        except OverflowError:
            items = budgets.max_sequence_items + 1
        if items > budgets.max_sequence_items:
            raise InterpreterError(
                f"range{args} has more than {budgets.max_sequence_items:,} items; C functions "
                "like sum() or list() would run through it with no way to stop them. "
                "Use a smaller range, or a while loop that breaks."
            )
        return range(*args)  # the ints that were checked

    def type_of(value: Any) -> Any:
        # type(x) may be a metaclass (type(SomeEnum), type(SomeABC), type(type)): hand out
        # its stand-in, never the real one, which could build a class from a dict.
        return guards.standin_for(type(value))

    standins = {
        range: checked_type(range, _no_check, call=checked_range),
        bytes: sized(bytes, "bytes()"),
        bytearray: sized(bytearray, "bytearray()"),
        type: checked_type(type, refuse_class_creation, call=type_of),
    }
    guards.standins.update(standins)  # type(range(3)) is the checked range, too
    return {
        "format": format_,
        "pow": guards.pow,
        "divmod": divmod_,
        "repr": repr_,
        "ascii": ascii_,
        **{cls.__name__: s for cls, s in standins.items()},
    }


def _no_check(*args: Any, **kwargs: Any) -> None:
    """For stand-ins whose call does its own checking on the values it uses."""
