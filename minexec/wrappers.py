"""Guarded stand-ins for the few module functions that can hang the host inside one C call.

A guard in a loop cannot stop `math.factorial(10**7)` or a regex that backtracks forever: once
CPython is inside C code, nothing Python-level runs until it returns. So those functions are
replaced, when code reads them off their module, by versions that check the arguments first
(`math`, `re`, `operator`), cut the wait short (`time.sleep`), or feed every item through the
operation meter (`itertools`' endless iterators).

Example:
    >>> wrappers = module_wrappers(guards)
    >>> wrappers[("math", "factorial")](10**7)
    Traceback (most recent call last):
    ...
    minexec.errors.InterpreterError: math.factorial(10000000) is over the limit ...
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import math
import re
import sys
import time
import typing
from collections.abc import Callable
from typing import Any

from .budgets import metered
from .errors import BudgetExceededError, InterpreterError, Stop
from .guards import Guards, as_int, true_len
from .validate import check_attribute_name

try:  # the regex parser moved in Python 3.11
    from re import _constants as _sre_constants  # type: ignore[attr-defined]
    from re import _parser as _sre_parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _sre_constants  # type: ignore[no-redef]
    import sre_parse as _sre_parser  # type: ignore[no-redef]

_REPEATS = {_sre_constants.MAX_REPEAT, _sre_constants.MIN_REPEAT}
_POSSESSIVE = getattr(_sre_constants, "POSSESSIVE_REPEAT", None)
_REGEX_FUNCTIONS = ("compile", "match", "search", "fullmatch", "findall", "finditer", "sub",
                    "subn", "split")  # fmt: skip
_ITERTOOLS_METERED = ("count", "cycle", "repeat", "product", "permutations", "combinations",
                      "combinations_with_replacement", "accumulate", "islice", "starmap",
                      "zip_longest", "compress", "dropwhile", "takewhile", "filterfalse",
                      "pairwise", "batched")  # fmt: skip


def module_wrappers(guards: Guards) -> dict[tuple[str, str], Any]:
    """The table `Guards.getattr` consults when code reads a function off a module."""
    table: dict[tuple[str, str], Any] = {
        ("time", "sleep"): _bind(_sleep, guards),
        ("operator", "pow"): guards.pow,
        ("operator", "ipow"): guards.pow,
        ("operator", "lshift"): guards.lshift,
        ("operator", "ilshift"): guards.lshift,
        ("operator", "mul"): guards.mul,
        ("operator", "imul"): guards.mul,
        ("operator", "mod"): guards.mod,
        ("operator", "imod"): guards.mod,
        ("operator", "attrgetter"): _refused("operator.attrgetter", "use a lambda"),
        ("operator", "methodcaller"): _refused("operator.methodcaller", "use a lambda"),
        ("string", "Formatter"): _refused("string.Formatter", "use f-strings or str.format"),
        # These eval() strings found in annotations, outside the sandbox's checks.
        ("typing", "get_type_hints"): _refused("typing.get_type_hints", "read the types directly"),
        ("typing", "ForwardRef"): _refused("typing.ForwardRef", "use the type itself"),
        ("functools", "singledispatch"): _refused("functools.singledispatch", "use isinstance"),
        ("functools", "singledispatchmethod"): _refused(
            "functools.singledispatchmethod", "use isinstance"
        ),
    }
    for name in ("factorial", "comb", "perm"):
        table[("math", name)] = _bind(_math_capped, guards, getattr(math, name))
    for name in _REGEX_FUNCTIONS:
        table[("re", name)] = _bind(_regex_checked, getattr(re, name))
    for name in ("sub", "subn"):
        table[("re", name)] = _bind(_regex_sub, guards, getattr(re, name))
    for name in _ITERTOOLS_METERED:
        real = getattr(itertools, name, None)
        if real is None:  # batched is new in 3.12
            continue
        table[("itertools", name)] = _bind(_metered_call, guards, real)
    table.update(_more_wrappers(guards))
    table.update(_writing_wrappers(guards))
    chain = _bind(_metered_call, guards, itertools.chain)
    chain.from_iterable = _bind(_metered_call, guards, itertools.chain.from_iterable)
    table[("itertools", "chain")] = chain
    table[("math", "prod")] = _bind(_prod, guards)
    return table


def _more_wrappers(guards: Guards) -> dict[tuple[str, str], Any]:
    """Library functions whose arguments set a size that their own Python code builds."""
    table: dict[tuple[str, str], Any] = {
        # re.Scanner compiles its patterns without going through re.compile.
        ("re", "Scanner"): _refused("re.Scanner", "use re.finditer"),
        ("re", "template"): _refused("re.template", "use re.compile"),
        # Pure-Python wrappers that forward to str and list methods from stdlib code, where
        # no guard runs (`UserString(t).format(x)` is the real str.format).
        ("collections", "UserString"): _refused("collections.UserString", "subclass str"),
        ("collections", "UserList"): _refused("collections.UserList", "subclass list"),
    }
    for name in ("dumps", "dump"):
        table[("json", name)] = _bind(_json_indent_checked, guards, getattr(json, name))
    return table


WRITES_ITS_ARGUMENT = (
    ("functools", "total_ordering"), ("typing", "final"), ("typing", "no_type_check"),
    ("typing", "runtime_checkable"), ("typing", "overload"), ("abc", "abstractmethod"),
    ("abc", "update_abstractmethods"),
)  # fmt: skip
"""Decorators that set attributes on the object they are given: allowed on what the code
made, refused on anything shared with the host (`typing.final(fractions.Fraction)`)."""


def _writing_wrappers(guards: Guards) -> dict[tuple[str, str], Any]:
    """Library functions that write attributes, or read and write attributes named by data.

    The rule they all follow is the one for `obj.name = value` in the code: only objects the
    code made may change (Guards.check_writable), and attribute names that the code could not
    spell are refused (validate.check_attribute_name). `update_wrapper(assigned=("__globals__",),
    updated=("__globals__",))` once copied the real builtins into the code's globals."""
    table: dict[tuple[str, str], Any] = {
        ("functools", "update_wrapper"): _bind(_update_wrapper, guards),
        ("functools", "wraps"): _bind(_wraps, guards),
        ("dataclasses", "dataclass"): _bind(_dataclass, guards),
        ("dataclasses", "make_dataclass"): _bind(_make_dataclass, guards),
        ("enum", "global_enum"): _refused("enum.global_enum", "use the members as E.NAME"),
        ("typing", "clear_overloads"): _refused("typing.clear_overloads", "leave them"),
        ("typing", "dataclass_transform"): _refused("typing.dataclass_transform", "leave it out"),
        ("decimal", "localcontext"): guards.private.localcontext,
        ("typing", "get_origin"): _bind(_standin_results, guards, typing.get_origin),
        ("typing", "get_args"): _bind(_standin_results, guards, typing.get_args),
    }
    for module, name in WRITES_ITS_ARGUMENT:
        real = getattr(sys.modules[module], name)
        table[(module, name)] = _bind(_writes_first_argument, guards, real)
    return table


def _writes_first_argument(guards: Guards, function: Callable[..., Any], target: Any) -> Any:
    guards.check_writable(target, function.__name__)
    return guards.register_class(function(target))


def _update_wrapper(
    guards: Guards,
    wrapper: Any,
    wrapped: Any,
    assigned: Any = functools.WRAPPER_ASSIGNMENTS,
    updated: Any = functools.WRAPPER_UPDATES,
) -> Any:
    """functools.update_wrapper with only its default attributes, onto what the code made."""
    assigned, updated = tuple(assigned), tuple(updated)
    if not (set(assigned) <= set(functools.WRAPPER_ASSIGNMENTS)) or not (
        set(updated) <= set(functools.WRAPPER_UPDATES)
    ):
        raise InterpreterError(
            "functools.update_wrapper/wraps may copy only the default attributes "
            f"({', '.join(functools.WRAPPER_ASSIGNMENTS)}); leave assigned= and updated= out."
        )
    guards.check_writable(wrapper, "wrapped")
    return functools.update_wrapper(wrapper, wrapped, assigned, updated)


def _wraps(guards: Guards, wrapped: Any, *args: Any, **kwargs: Any) -> Any:
    def decorator(wrapper: Any) -> Any:
        return _update_wrapper(guards, wrapper, wrapped, *args, **kwargs)

    return decorator


def _dataclass(guards: Guards, cls: Any = None, /, **options: Any) -> Any:
    """@dataclass and @dataclass(...): it writes methods onto the class, so the class must be
    the code's own; the class it returns (a new one with slots=True) is the code's too."""

    def decorate(target: Any) -> Any:
        guards.check_writable(target, "dataclass")
        return guards.register_class(dataclasses.dataclass(target, **options))

    return decorate if cls is None else decorate(cls)


def _make_dataclass(guards: Guards, name: Any, fields: Any, **options: Any) -> Any:
    """make_dataclass turns field names, defaults and `namespace` keys into class attributes:
    the same names a class statement may bind, no more (no `__del__`, no `__index__`)."""
    fields = list(fields)
    for field in fields:
        check_attribute_name(field if isinstance(field, str) else field[0])
    for key in dict(options.get("namespace") or {}):
        check_attribute_name(key)
    if "module" in options:
        raise InterpreterError("make_dataclass(module=...) is not allowed; leave it out.")
    return guards.register_class(dataclasses.make_dataclass(name, fields, **options))


def _standin_results(guards: Guards, function: Callable[..., Any], *args: Any) -> Any:
    """typing.get_origin(typing.Type[int]) is the real `type`: hand out its stand-in."""
    result = function(*args)
    if isinstance(result, tuple):
        return tuple(guards.standin_for(item) for item in result)
    return guards.standin_for(result)


def _json_indent_checked(guards: Guards, function: Callable[..., Any], *a: Any, **kw: Any) -> Any:
    """json.dumps(x, indent=10**9) builds the indent string first, in Python, unguarded."""
    indent = kw.get("indent")
    width = true_len(indent) if isinstance(indent, str) else as_int(indent)
    if width is not None and width > guards.budgets.max_format_width:
        raise InterpreterError(
            f"An indent of {width:,} is over the limit of {guards.budgets.max_format_width:,}."
        )
    return function(*a, **kw)


def _prod(guards: Guards, iterable: Any, *, start: Any = 1) -> Any:
    """math.prod, one guarded multiplication at a time (the C version cannot be stopped)."""
    total = start
    for item in iterable:
        guards.meter.tick()
        total = guards.mul(total, item)
    return total


def _bind(function: Callable[..., Any], *bound: Any) -> Callable[..., Any]:
    """Like functools.partial, but a closure: a partial's `.args` would hand the sandboxed code
    our Guards object, while a closure's cells sit behind `__closure__`, which it cannot read."""

    def bound_call(*args: Any, **kwargs: Any) -> Any:
        return function(*bound, *args, **kwargs)

    return bound_call


def _refused(name: str, instead: str) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise InterpreterError(f"{name} is not available in the sandbox; {instead}.")

    return refuse


def _sleep(guards: Guards, seconds: float) -> None:
    """time.sleep that never sleeps past the run's deadline."""
    seconds = float(seconds)  # a float subclass could lie in its comparisons
    left = guards.meter.seconds_left()
    if seconds > left:
        time.sleep(max(left, 0))
        guards.meter.tick()  # the clock has run out: this raises the timeout
        raise Stop(BudgetExceededError("time.sleep went past the time limit.", limit="timeout"))
    time.sleep(seconds)


def _math_capped(guards: Guards, function: Callable[..., Any], n: Any, *rest: Any) -> Any:
    number = as_int(n)
    if number is not None and number > guards.budgets.max_factorial_arg:
        raise InterpreterError(
            f"math.{function.__name__}({n}) is over the limit of "
            f"{guards.budgets.max_factorial_arg:,}: the result would take too long to build. "
            "Use math.lgamma for the logarithm, or a smaller n."
        )
    return function(n, *rest)


def _metered_call(guards: Guards, function: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    return metered(function(*args, **kw), guards.meter.tick)


def _regex_checked(function: Callable[..., Any], pattern: Any, *args: Any, **kw: Any) -> Any:
    if isinstance(pattern, (str, bytes)):
        _check_pattern(pattern)
    return function(pattern, *args, **kw)


def _regex_sub(
    guards: Guards,
    function: Callable[..., Any],
    pattern: Any,
    repl: Any,
    string: Any,
    *args: Any,
    **kw: Any,
) -> Any:
    """re.sub: the result can be as long as matches x replacement; count before building."""
    if isinstance(pattern, (str, bytes)):
        _check_pattern(pattern)
    if isinstance(repl, (str, bytes)) and isinstance(string, (str, bytes)):
        flags = kw.get("flags", 0)
        matches = len(re.findall(pattern, string, flags=flags)) if true_len(repl) else 0
        guards.check_items(true_len(string) + matches * true_len(repl), "re.sub")
    elif callable(repl):
        repl = _counting_replacement(guards, repl, true_len(string))
    return function(pattern, repl, string, *args, **kw)


def _counting_replacement(guards: Guards, repl: Callable[..., Any], start: int) -> Any:
    """A replacement function whose results are added up as re.sub builds its output."""
    total = start

    def replacement(match: Any) -> Any:
        nonlocal total
        text = repl(match)
        total += true_len(text) if isinstance(text, (str, bytes)) else 0
        guards.check_items(total, "re.sub")
        return text

    return replacement


@functools.lru_cache(maxsize=256)
def _check_pattern(pattern: str | bytes) -> None:
    """Refuse nested unbounded repeats like (a+)+ or (\\w*)*: they backtrack exponentially."""
    try:
        parsed = _sre_parser.parse(pattern)
    except re.error:
        return  # let re raise its own, clearer error
    if _nested_repeat(parsed, inside=False):
        raise InterpreterError(
            "This regular expression nests one unbounded repeat inside another (like (a+)+), "
            "which can take exponential time. Rewrite it without the nesting."
        )


def _nested_repeat(items: Any, inside: bool) -> bool:
    for op, arg in items:
        if op in _REPEATS or op == _POSSESSIVE:
            low, high, sub = arg
            unbounded = high == _sre_constants.MAXREPEAT or high > 1000
            if unbounded and inside:
                return True
            if _nested_repeat(sub, inside or unbounded):
                return True
        elif op == _sre_constants.SUBPATTERN:
            if _nested_repeat(arg[-1], inside):
                return True
        elif op == _sre_constants.BRANCH:
            if any(_nested_repeat(branch, inside) for branch in arg[1]):
                return True
        elif op in (_sre_constants.ASSERT, _sre_constants.ASSERT_NOT):
            if _nested_repeat(arg[1], inside):
                return True
    return False
