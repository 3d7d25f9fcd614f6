r"""Which regular expressions may run: the shapes that backtrack for hours are refused.

Once `re` is matching, in C, nothing stops it: a regex like `(a+)+$` on forty a's and a b
tries 2**40 ways before it fails. So every pattern is parsed first, by Python's own parser
(with its flags: re.X changes what a pattern means), and its shape is judged. What is refused
is listed in check_pattern's docstring; what is let through can still be slow on a long text
(three overlapping `.*` are n**3), which the process mode's wall clock stops.

Example:
    >>> check_pattern(r"(\d{1,3}\.){3}\d{1,3}")   # an IP address: fine
    >>> check_pattern("(a+)+$")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    minagent.executor.InterpreterError: This regular expression can take exponential time...
"""

from __future__ import annotations

import collections
import functools
import re
import string
from typing import Any

from .errors import InterpreterError

try:  # the regex parser moved in Python 3.11
    from re import _compiler as _sre_compiler  # type: ignore[attr-defined]
    from re import _constants as _sre_constants  # type: ignore[attr-defined]
    from re import _parser as _sre_parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_compile as _sre_compiler  # type: ignore[no-redef]
    import sre_constants as _sre_constants  # type: ignore[no-redef]
    import sre_parse as _sre_parser  # type: ignore[no-redef]

_REPEATS = {_sre_constants.MAX_REPEAT, _sre_constants.MIN_REPEAT}
_POSSESSIVE = getattr(_sre_constants, "POSSESSIVE_REPEAT", None)


@functools.lru_cache(maxsize=256)
def check_pattern(pattern: str | bytes, flags: int = 0) -> None:
    """Refuse the shapes that backtrack exponentially (or as a high power of the length):

    - a variable repeat inside another (`(a+)+`, `(\\w*)*`, `(a{1,30}){1,30}`);
    - a repeat of a part that holds an unbounded `.` (`(.*a){12}$`: n**12 ways to split);
    - alternatives inside an unbounded repeat that can start the same way (`(a|a)+$`,
      `(a|ab)+`: the parser turns both into an empty alternative after a common prefix);
    - more than two overlapping unbounded repeats side by side (`.*a.*b.*c$`, `a*a*a*c`).

    The parse is Python's own (with the flags, so re.X counts), and every construct that holds
    a subpattern is walked: groups, atomic groups, lookarounds, conditionals.
    """
    try:
        parsed = _sre_parser.parse(pattern, flags)
    except re.error:
        return  # let re raise its own, clearer error
    if _backtracks(list(parsed), outer=None):
        raise InterpreterError(
            "This regular expression can take exponential time: it nests one variable repeat "
            "in another (like (a+)+ or (.*a){12}), repeats alternatives that can match the "
            "same text (like (a|ab)+), or chains unbounded repeats that overlap (like "
            ".*a.*b.*c). Rewrite it without the nesting, or split the work into steps."
        )


MAX_SIBLING_REPEATS = 3
"""Unbounded repeats side by side that can match the same character (`.*a.*b.*c.*d`, twelve
`a*`): each more multiplies the ways to split a text by its length."""


def _backtracks(items: list, outer: tuple | None) -> bool:
    """Walk a parsed pattern; `outer` is the (low, high) of the nearest enclosing repeat."""
    if _too_many_siblings(items):
        return True
    for op, arg in items:
        if op in _REPEATS or op == _POSSESSIVE:
            low, high, sub = arg
            if outer is not None and low != high and _splits(outer, low, high):
                return True  # a variable repeat inside a repeat that runs it many times
            if high > 1 and _holds_unbounded_any(sub):
                return True
            if _backtracks(list(sub), (low, high) if high > 1 else outer):
                return True
        elif op == _sre_constants.BRANCH:
            if outer is not None and outer[1] == _sre_constants.MAXREPEAT:
                if _alternatives_overlap(arg[1]):
                    return True
            if any(_backtracks(list(branch), outer) for branch in arg[1]):
                return True
        elif _backtracks(_subpatterns(op, arg), outer):
            return True
    return False


MAX_REGEX_SPLITS = 10**6
"""How many ways a fixed count of variable repeats may split a string before it is refused:
`(\\d{1,3}\\.){3}` has 27, `(a{1,30}){30}` has 30**30."""


def _splits(outer: tuple, low: int, high: int) -> bool:
    """Can `outer` repeats of an inner {low,high} repeat split a text in too many ways?"""
    outer_low, outer_high = outer
    if outer_low != outer_high:
        return True  # (a+)+, (a{1,5})*: variable inside variable
    if high == _sre_constants.MAXREPEAT:
        return outer_high > 4  # (\\d+\\.){3} is an IP address; (\\w+\\s){12} is not
    return (high - low + 1) ** outer_high > MAX_REGEX_SPLITS


def _too_many_siblings(items: list) -> bool:
    """Can one character be matched by more than MAX_SIBLING_REPEATS unbounded repeats in a
    row, with no required character between them that they could not also match? (`=` ends a
    run of `\\s*`; `a` does not end a run of `.*`.) Character sets are compared on a sample
    alphabet, by Python's own matcher."""
    run: list[frozenset[str]] = []
    for op, arg in items:
        if op == _sre_constants.SUBPATTERN and len(arg[-1]) == 1:
            op, arg = arg[-1][0]  # (.*) counts as .*
        if op in _REPEATS and arg[1] == _sre_constants.MAXREPEAT and len(arg[2]) == 1:
            chars = _matched([arg[2][0]])
            if arg[0] >= 1 and not any(chars & earlier for earlier in run):
                run = []  # `\\s+` after `\\w+`: a required character the others cannot take
            run.append(chars)
            hits = collections.Counter(char for chars in run for char in chars)
            if max(hits.values(), default=0) > MAX_SIBLING_REPEATS:
                return True
        elif op in (_sre_constants.LITERAL, _sre_constants.IN, _sre_constants.CATEGORY):
            required = _matched([(op, arg)])
            if not any(required & chars for chars in run):
                run = []  # a character none of them matches: backtracking stops here
        else:
            run = []
    return False


_SAMPLE = string.printable + "\u00e9\u4e00"


_ONE_CHARACTER = frozenset(
    {_sre_constants.LITERAL, _sre_constants.NOT_LITERAL, _sre_constants.IN, _sre_constants.ANY,
     _sre_constants.CATEGORY}
)  # fmt: skip


def _matched(items: list) -> frozenset[str]:
    """The sample characters one parsed item matches (compiled by re itself); anything that
    is not a one-character item (a group, a reference) is taken to match every character."""
    if len(items) != 1 or items[0][0] not in _ONE_CHARACTER:
        return frozenset(_SAMPLE)
    pattern = _sre_parser.SubPattern(_sre_parser.State(), items)
    compiled = _sre_compiler.compile(pattern, 0)
    return frozenset(char for char in _SAMPLE if compiled.fullmatch(char))


def _subpatterns(op: Any, arg: Any) -> list:
    """The items of the subpatterns a construct holds (groups, lookarounds, conditionals)."""
    if op == _sre_constants.SUBPATTERN:
        return list(arg[-1])
    if op in (_sre_constants.ASSERT, _sre_constants.ASSERT_NOT):
        return list(arg[1])
    if op == getattr(_sre_constants, "ATOMIC_GROUP", None):
        return list(arg)
    if op == _sre_constants.GROUPREF_EXISTS:
        return [item for branch in arg[1:] if branch is not None for item in branch]
    return []


def _holds_unbounded_any(items: Any) -> bool:
    """Does this part hold `.*`-like repeat of ANY, which can swallow what follows it?"""
    for op, arg in items:
        if op in _REPEATS and arg[1] == _sre_constants.MAXREPEAT:
            if any(inner == _sre_constants.ANY for inner, _ in arg[2]):
                return True
        if _holds_unbounded_any(_subpatterns(op, arg)):
            return True
    return False


def _alternatives_overlap(branches: list) -> bool:
    """Can two alternatives start on the same character? (An empty one starts anywhere.)"""
    firsts = []
    for branch in branches:
        items = list(branch)
        if not items:
            return True
        firsts.append(items[0] if items[0][0] == _sre_constants.LITERAL else None)
    unknown = firsts.count(None)
    literals = [first for first in firsts if first is not None]
    return unknown > 1 or len(set(literals)) < len(literals)
