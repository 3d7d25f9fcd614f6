"""The guards on text: format strings, padding, joins, and how big a value's text would be.

`"{0.__globals__}".format(f)` walks attributes in C, `"a".ljust(10**10)` allocates what it is
told, `f"{[s] * 1000}"` repeats s a thousand times: each is checked before C builds it (or,
for formatting that can at most double its inputs, once built). `TextGuards` is a part of
Guards (guards.py), which it mixes into; `SafeFormatter` is the only str.format the code gets.

Example:
    >>> text_size(["x" * 10] * 3, limit=1000)  # three quoted strings and the brackets
    38
"""

from __future__ import annotations

import collections
import re
import string
from typing import Any

from .budgets import Budgets
from .errors import InterpreterError
from .sizes import EXACT_TEXT, as_int, base_of, true_len

_SPEC_NUMBER = re.compile(r"\d+")


class TextGuards:
    """The text checks of Guards; they need its `budgets` and `check_items`."""

    budgets: Budgets

    def check_items(self, items: int, what: str) -> None:  # pragma: no cover
        """Defined by Guards: refuse building more than budgets.max_sequence_items."""
        raise NotImplementedError

    def _translate(self, text: Any, method: Any) -> Any:
        """`s.translate(table)`: one character may map to a long string."""

        def translate(table: Any, *args: Any) -> Any:
            if isinstance(text, str) and not isinstance(table, dict):
                raise InterpreterError("str.translate needs a dict table (use str.maketrans).")
            if isinstance(table, dict):
                values = (true_len(v) for v in table.values() if isinstance(v, str))
                self.check_items(true_len(text) * max(max(values, default=1), 1), "translate")
            return method(table, *args)

        return translate

    def _join(self, separator: Any, method: Any) -> Any:
        """`sep.join(parts)`: the result's size is known before C builds it."""

        def join(parts: Any) -> Any:
            parts = list(parts)
            if set(map(type, parts)) <= EXACT_TEXT:  # the common case, counted in C
                size = sum(map(len, parts))
            else:
                size = sum(true_len(p) for p in parts if isinstance(p, (str, bytes, bytearray)))
            self.check_items(size + true_len(separator) * max(len(parts) - 1, 0), "join")
            return method(parts)

        return join

    def _replace(self, text: Any, method: Any) -> Any:
        """`s.replace(old, new)`: an empty `old` inserts `new` between every character."""

        def replace(old: Any, new: Any, count: Any = -1) -> Any:
            base = type(text) if type(text) in (str, bytes, bytearray) else base_of(text)
            hits = base.count(text, old) if true_len(old) else true_len(text) + 1
            limit = as_int(count)
            if limit is not None and limit >= 0:
                hits = min(hits, limit)
            growth = hits * (true_len(new) - true_len(old))
            self.check_items(true_len(text) + growth, "replace")
            return method(old, new, count)

        return replace

    def _padding(self, method: Any) -> Any:
        """`"a".ljust(10**10)`: check the width before the C method allocates it."""

        def padded(*args: Any, **kwargs: Any) -> Any:
            # The ints that were checked go to the method, not objects whose __index__ could
            # answer differently the second time.
            args = tuple(self._width(arg) for arg in args)
            kwargs = {key: self._width(value) for key, value in kwargs.items()}
            return method(*args, **kwargs)

        return padded

    def _width(self, value: Any) -> Any:
        number = None if isinstance(value, (str, bytes)) else as_int(value)
        if number is not None and number > self.budgets.max_sequence_items:
            raise InterpreterError(
                f"A width of {number:,} is over the limit of "
                f"{self.budgets.max_sequence_items:,} characters."
            )
        return value if number is None else number

    def _expandtabs(self, text: Any, method: Any) -> Any:
        """`s.expandtabs(n)`: every tab may become n spaces."""

        def expandtabs(tabsize: Any = 8) -> Any:
            size = self._width(tabsize)
            tab = "\t" if isinstance(text, str) else b"\t"
            tabs = base_of(text).count(text, tab)
            self.check_items(true_len(text) + tabs * max(as_int(size) or 0, 0), "expandtabs")
            return method(size)

        return expandtabs

    def text_fast_paths(self) -> dict[str, Any]:
        """`__mg_shown__` and `__mg_text__` as closures: `f"{i}:{j}"` calls shown once per
        field and text once, so each first lets through, in one step, what its method would
        pass unchecked (a plain scalar; an exact str within the limit, whose len cannot lie).
        An f-string is always an exact str."""
        slow_shown, slow_text = self.shown, self.text
        plain, limit = _PLAIN_SCALARS, self.budgets.max_sequence_items

        def shown(value: Any) -> Any:
            if type(value) in plain:
                return value
            return slow_shown(value)

        def text(text: Any) -> Any:
            if type(text) is str and len(text) <= limit:
                return text
            return slow_text(text)

        return {"__mg_shown__": shown, "__mg_text__": text}

    def shown(self, value: Any) -> Any:
        """A value about to be turned into text (print, repr, str(x), an f-string field, a
        `%` argument, json.dumps, the run's output): `[s] * 1000` is a thousand items, but
        its text repeats s a thousand times, built in one C call. The text's size is
        estimated first (see text_size)."""
        if type(value) in _PLAIN_SCALARS:
            return value
        size = text_size(value, self.budgets.max_sequence_items)
        if size > self.budgets.max_sequence_items:
            self.check_items(size, "value's text")
        return value

    def text(self, text: Any) -> Any:
        """A formatted string, sized once built: `s = f"{s}{s}"` or `"%s%s" % (s, s)` in a
        loop doubles s each time; each step may at most double a string the limit allows."""
        if isinstance(text, (str, bytes)) and true_len(text) > self.budgets.max_sequence_items:
            self.check_items(true_len(text), "formatted text")
        return text

    def check_spec(self, spec: str) -> None:
        """Refuse widths and precisions over the limit in a format spec like '>10.3f'."""
        for number in _SPEC_NUMBER.findall(spec):
            if len(number) > 9 or int(number) > self.budgets.max_format_width:
                raise InterpreterError(
                    f"A format width or precision of {number} is over the limit of "
                    f"{self.budgets.max_format_width:,}."
                )

    def format(self, value: Any, conversion: int = -1, spec: str = "") -> str:
        """The f-string `{value!conversion:spec}` and the builtin format(value, spec)."""
        if conversion == ord("r"):
            value = repr(value)
        elif conversion == ord("s"):
            value = str(value)
        elif conversion == ord("a"):
            value = ascii(value)
        self.check_spec(spec)
        return format(self.shown(value), spec)

    def _check_percent_format(self, template: Any, args: Any) -> None:
        # Work on an exact copy: a str subclass could lie in `in` or in its length.
        if isinstance(template, str):
            text = str.__str__(template)
        else:
            text = bytes(template).decode("latin-1")
        self.check_spec(text)
        star = "*" in text
        values = args if isinstance(args, tuple) else (args,)
        widths = [as_int(v) for v in values]
        if star and any(w is not None and w > self.budgets.max_format_width for w in widths):
            raise InterpreterError(
                f"A '*' width over the limit of {self.budgets.max_format_width:,} is not allowed."
            )


class SafeFormatter(string.Formatter):
    """str.format and str.format_map without attribute walks and with bounded widths.

    `"{0.__class__}".format(x)` is resolved in C, beyond the reach of the AST check, so the
    sandbox never hands out the real str.format: it formats with this class, which refuses any
    field with an attribute (`{0.name}`) and checks every spec.
    """

    def __init__(self, guards: TextGuards) -> None:
        self.guards = guards

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        if "." in field_name:
            raise InterpreterError(
                f"The format field '{{{field_name}}}' reads an attribute, which is not allowed "
                "in format strings. Compute the value first and pass it in."
            )
        return super().get_field(field_name, args, kwargs)

    def vformat(self, format_string: str, args: Any, kwargs: Any) -> str:
        return self.guards.text(super().vformat(format_string, args, kwargs))

    def format_field(self, value: Any, format_spec: str) -> Any:
        self.guards.shown(value)
        self.guards.check_spec(format_spec)
        return format(value, format_spec)

    def format(self, template: str, /, *args: Any, **kwargs: Any) -> str:  # noqa: A003
        return self.vformat(template, args, kwargs)

    def format_map(self, template: str, mapping: Any) -> str:
        return self.vformat(template, (), mapping)

    def bound_format(self, template: Any) -> Any:
        if isinstance(template, (bytes, bytearray)):
            raise InterpreterError("bytes have no format(); decode to str first.")
        return lambda *args, **kwargs: self.vformat(template, args, kwargs)

    def bound_format_map(self, template: Any) -> Any:
        return lambda mapping: self.vformat(template, (), mapping)


_PLAIN_SCALARS = frozenset({str, int, float, bool, type(None), complex})

MAX_TEXT_WALK = 100_000
"""Containers and items text_size looks at before it stops: a structure with more parts than
this has a text about as big as the structure itself, which already exists."""


def text_size(value: Any, limit: int) -> int:
    """An estimate of len(repr(value)) that counts each text as often as it appears, stopping
    once it passes `limit` or has looked at MAX_TEXT_WALK parts. Containers are walked through
    their base type's own iteration, so a subclass cannot run code here."""
    total, seen, stack = 0, 0, [value]
    while stack and total <= limit and seen < MAX_TEXT_WALK:
        item = stack.pop()
        seen += 1
        if isinstance(item, (str, bytes, bytearray)):
            total += true_len(item) + 2
        elif isinstance(item, dict):
            stack.extend(dict.keys(item))
            stack.extend(dict.values(item))
            total += 2
        elif isinstance(item, (list, tuple, set, frozenset, collections.deque)):
            base = next(
                b for b in (list, tuple, set, frozenset, collections.deque) if isinstance(item, b)
            )
            stack.extend(base.__iter__(item))
            total += 2
        else:
            total += 8
    return total
