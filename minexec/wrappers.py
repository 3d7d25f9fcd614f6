"""Guarded stand-ins for the library functions and methods that a check must come before.

A guard in a loop cannot stop `math.factorial(10**7)` or a regex that backtracks forever: once
CPython is inside C code, nothing Python-level runs until it returns. So those functions are
replaced, when code reads them off their module (`module_wrappers`) or off an object
(`method_wrappers`: `pattern.sub`, `xs.extend`), by versions that check the arguments first
(`math`, `re` with regex_shapes.py, `operator`, `json`, `textwrap`), cut the wait short
(`time.sleep`), or feed every item through the operation meter (`itertools`' endless
iterators). Functions that write attributes, or take attribute names as data
(`functools.update_wrapper`, `dataclasses.dataclass`, `typing.final`), are held to the
code's own rules for writes (`_writing_wrappers`).

Example:
    >>> from minexec import Budgets
    >>> from minexec.budgets import Meter
    >>> from minexec.imports import ImportPolicy
    >>> guards = Guards(ImportPolicy(["math"]), Meter(Budgets()), Budgets())
    >>> wrappers = module_wrappers(guards)
    >>> wrappers[("math", "factorial")](10**7)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    minagent.executor.InterpreterError: math.factorial(10000000) is over the limit ...
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import itertools
import json
import math
import operator
import re
import statistics
import sys
import textwrap
import time
import typing
import unicodedata
from collections.abc import Callable
from typing import Any

from .budgets import metered
from .errors import InterpreterError
from .guards import Guards
from .regex_shapes import check_pattern
from .sizes import as_int, true_len
from .validate import check_attribute_name

_REGEX_FUNCTIONS = ("compile", "match", "search", "fullmatch", "findall", "finditer", "split")
_ITERTOOLS_METERED = ("count", "cycle", "repeat", "product", "permutations", "combinations",
                      "combinations_with_replacement", "accumulate", "islice", "starmap",
                      "zip_longest", "compress", "dropwhile", "takewhile", "filterfalse",
                      "pairwise", "batched")  # fmt: skip


def method_wrappers(guards: Guards) -> dict[tuple[type, str], Any]:
    """The table `Guards` consults for a method, by the class it is bound to: each entry
    makes a checked version of the method from (receiver, method)."""
    return {
        (re.Pattern, "sub"): lambda pattern, _: _bind(_pattern_sub, guards, "sub", pattern),
        (re.Pattern, "subn"): lambda pattern, _: _bind(_pattern_sub, guards, "subn", pattern),
        (re.Match, "expand"): lambda match, method: _bind(_expand, guards, match, method),
        (int, "from_bytes"): lambda cls, method: _bind(_from_bytes, guards, method),
        (list, "extend"): lambda target, method: _bind(_extend, guards, target, method),
        (bytearray, "extend"): lambda target, method: _bind(_extend, guards, target, method),
        (collections.deque, "extend"): lambda target, method: _bind(
            _extend, guards, target, method
        ),
    }


def _extend(guards: Guards, target: Any, method: Callable[..., Any], items: Any) -> Any:
    """`xs.extend(xs)` doubles xs in one C call: 30 of them are a billion items."""
    if isinstance(items, (str, bytes, bytearray, list, tuple, collections.deque)):
        guards.check_items(true_len(target) + true_len(items), "extend")
    return method(items)


def _from_bytes(
    guards: Guards, method: Callable[..., Any], data: Any, *args: Any, **kw: Any
) -> Any:
    """int.from_bytes(b"\xff" * 10**7) is an 80-million-bit int, past every later check."""
    if isinstance(data, (bytes, bytearray)):
        guards.check_bits(8 * true_len(data), "int.from_bytes")
    return method(data, *args, **kw)


def _expand(guards: Guards, match: re.Match, method: Callable[..., Any], template: Any) -> Any:
    """match.expand("\\g<0>" * n): each group reference copies the match."""
    if isinstance(template, (str, bytes)):
        references = template.count("\\" if isinstance(template, str) else b"\\")
        size = true_len(template) + references * true_len(match.string)
        guards.check_items(size, "match.expand")
    return method(template)


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
        ("operator", "floordiv"): guards.floordiv,
        ("operator", "ifloordiv"): guards.floordiv,
        ("operator", "add"): guards.add,
        ("operator", "iadd"): _in_place(guards.add, operator.iadd),
        ("operator", "concat"): guards.add,
        ("operator", "iconcat"): _in_place(guards.add, operator.iconcat),
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
        table[("re", name)] = _bind(_regex_sub, guards, name)
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
    table[("textwrap", "indent")] = _bind(_indent, guards)
    table[("unicodedata", "normalize")] = _bind(_normalize, guards)
    table[("statistics", "quantiles")] = _bind(_quantiles, guards)
    table[("math", "lcm")] = _bind(_lcm, guards)
    for name in ("gcd", "isqrt"):
        table[("math", name)] = _bind(_big_int_checked, guards, getattr(math, name))
    return table


MAX_NORMALIZE_GROWTH = 18
"""The most characters one character becomes under NFKD/NFKC (U+FDFA becomes 18)."""


def _indent(guards: Guards, text: Any, prefix: Any, predicate: Any = None) -> Any:
    """textwrap.indent puts the prefix on every line: lines x prefix, built in Python."""
    if isinstance(text, str) and isinstance(prefix, str):
        lines = str.count(text, "\n") + 1
        guards.check_items(true_len(text) + lines * true_len(prefix), "textwrap.indent")
    return textwrap.indent(text, prefix, predicate)


def _normalize(guards: Guards, form: Any, text: Any) -> Any:
    """unicodedata.normalize("NFKD", "\ufdfa" * n) is 18 n characters, built in C."""
    if isinstance(text, str) and str(form) in ("NFKD", "NFKC"):
        guards.check_items(true_len(text) * MAX_NORMALIZE_GROWTH, "unicodedata.normalize")
    return unicodedata.normalize(form, text)


def _quantiles(guards: Guards, data: Any, *, n: Any = 4, method: str = "exclusive") -> Any:
    """statistics.quantiles(data, n=10**8) builds a list of n - 1 cut points."""
    guards.check_items(as_int(n) or 0, "statistics.quantiles")
    return statistics.quantiles(data, n=as_int(n) if as_int(n) is not None else n, method=method)


def _lcm(guards: Guards, *numbers: Any) -> Any:
    """math.lcm(*range(1, 10**6)): one C call building a million-bit result by ever slower
    steps. The result has at most as many bits as its arguments together: check that sum."""
    bits = sum(abs(as_int(number) or 0).bit_length() for number in numbers)
    guards.check_bits(bits, "math.lcm of these numbers")
    return math.lcm(*numbers)


def _big_int_checked(guards: Guards, function: Callable[..., Any], *numbers: Any) -> Any:
    """math.gcd and math.isqrt of huge ints (int(s, 16) of ten million digits) are quadratic."""
    for number in numbers:
        guards.check_division(number, number)
    return function(*numbers)


def _json_separators_checked(guards: Guards, separators: Any) -> None:
    if isinstance(separators, (tuple, list)):
        width = sum(true_len(part) for part in separators if isinstance(part, str))
        if width > guards.budgets.max_format_width:
            raise InterpreterError(
                f"json separators {width:,} characters long are over the limit of "
                f"{guards.budgets.max_format_width:,}."
            )


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
    _json_separators_checked(guards, kw.get("separators"))
    guards.shown(a[0] if a else kw.get("obj"))  # json.dumps([s] * 1000): s a thousand times
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

    bound_call.__name__ = getattr(function, "__name__", "function")

    return bound_call


def _in_place(guard: Callable[..., Any], op: Callable[..., Any]) -> Callable[..., Any]:
    """operator.iadd(a, b): the guard's check, then the in-place operation."""

    def in_place(left: Any, right: Any) -> Any:
        return guard(left, right, op)

    return in_place


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
        guards.meter.exceeded()  # the clock has run out: the timeout, in a run or between runs
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


_FLAGS_POSITION = {"compile": 0, "search": 1, "match": 1, "fullmatch": 1, "findall": 1,
                   "finditer": 1, "split": 2}  # fmt: skip
"""Where the flags come among the arguments after the pattern: `re.split(p, s, 0, re.X)`."""


def _regex_checked(function: Callable[..., Any], pattern: Any, *args: Any, **kw: Any) -> Any:
    position = _FLAGS_POSITION[function.__name__]
    flags = kw.get("flags", args[position] if len(args) > position else 0)
    if isinstance(pattern, (str, bytes)):
        check_pattern(pattern, int(flags))  # re.X changes what the pattern means
    return function(pattern, *args, **kw)


def _regex_sub(
    guards: Guards, name: str, pattern: Any, repl: Any, string: Any, count: Any = 0, flags: Any = 0
) -> Any:
    """re.sub and re.subn: compile (checked, with the flags), then as Pattern.sub."""
    if isinstance(pattern, (str, bytes)):
        check_pattern(pattern, int(flags))
    compiled = re.compile(pattern, flags)
    return _pattern_sub(guards, name, compiled, repl, string, count)


def _pattern_sub(
    guards: Guards, name: str, compiled: re.Pattern, repl: Any, string: Any, count: Any = 0
) -> Any:
    """Pattern.sub: the result is the string plus every replacement, and a template's group
    references (`\\g<0>`) copy whole matches: a template's result is counted match by match
    first; a function's replacements are counted as they are made, before C joins them."""
    if isinstance(repl, (str, bytes)) and isinstance(string, (str, bytes, bytearray)):
        _check_template_sub(guards, compiled, repl, string, as_int(count) or 0)
    elif callable(repl) and isinstance(string, (str, bytes, bytearray)):
        repl = _counting_replacement(guards, repl, true_len(string))
    return getattr(compiled, name)(repl, string, count)


def _check_template_sub(
    guards: Guards, compiled: re.Pattern, template: Any, string: Any, count: int
) -> None:
    """The size of a template substitution, counted match by match before C builds it."""
    references = template.count("\\" if isinstance(template, str) else b"\\")
    size = true_len(string)
    for number, match in enumerate(compiled.finditer(string), start=1):
        guards.meter.tick()
        size += true_len(template) + references * (match.end() - match.start())
        guards.check_items(size, "re.sub")
        if number == count:
            break


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
