"""How big a value really is: the measures every guard shares.

A guard must not ask the object it guards: a str subclass can lie in `len()`, an int subclass
in `bit_length()` or `>`, an object with `__index__` can answer differently the second time.
These read the base type's own answer, once.

Example:
    >>> as_int(True), as_int("3"), true_len("abc")
    (1, None, 3)
"""

from __future__ import annotations

import collections
import operator
from typing import Any

SEQUENCES = (str, bytes, bytearray, list, tuple, collections.deque)
"""The built-in sequences whose repetition and concatenation run in C."""

EXACT_TEXT = frozenset({str, bytes, bytearray})
TEXT = (str, bytes, bytearray)


def as_int(value: Any) -> int | None:
    """The exact int behind a value, or None: an int subclass may override `>` or
    bit_length() to lie to a guard, but operator.index() hands back a plain int."""
    if type(value) is int:
        return value
    try:
        return operator.index(value)
    except TypeError:
        return None


def base_of(value: Any) -> type:
    return next(base for base in (str, bytes, bytearray) if isinstance(value, base))


def true_len(sequence: Any) -> int:
    """len() as the base type counts it, whatever a subclass's __len__ says."""
    for base in SEQUENCES:
        if isinstance(sequence, base):
            return base.__len__(sequence)
    return len(sequence)
