"""The enum base classes as the code sees them: the functional API may not define dunders.

`Enum("E", [("__del__", f), ("A", 1)])` builds a class from a list of names, in stdlib code
that a class statement's checks never see: a dunder name becomes a method (`__index__`,
`__del__`, `__init_subclass__`) that the host would run. The code gets, for `enum.Enum` and its
siblings, a subclass whose metaclass checks those names like attribute names
(validate.check_attribute_name) and otherwise behaves as enum's own: class statements,
members, `isinstance(re.I, enum.Flag)` all work as before.

Example:
    >>> Color = GUARDED_ENUMS[enum.Enum]("Color", "RED GREEN")
    >>> Color.RED.value
    1
    >>> GUARDED_ENUMS[enum.Enum]("E", [("__index__", len)])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    minagent.executor.InterpreterError: Access to '__index__' is not allowed...
"""

from __future__ import annotations

import enum
from typing import Any

from .validate import check_attribute_name


class GuardedEnumType(enum.EnumType):
    """enum's metaclass, with the functional API's member names checked."""

    def __call__(cls, value: Any, names: Any = None, *args: Any, **kwargs: Any) -> Any:
        if names is not None:
            for name in _member_names(names):
                check_attribute_name(name)
        if names is None and not args and not kwargs:
            return super().__call__(value)  # Color(1): a member lookup
        return super().__call__(value, names, *args, **kwargs)

    def __instancecheck__(cls, obj: Any) -> bool:
        # isinstance(re.I, enum.Flag) with the stand-in Flag: ask the real class.
        real = GUARDED_BASES.get(cls)
        return isinstance(obj, real) if real is not None else super().__instancecheck__(obj)

    def __subclasscheck__(cls, sub: Any) -> bool:
        real = GUARDED_BASES.get(cls)
        return issubclass(sub, real) if real is not None else super().__subclasscheck__(sub)


def _member_names(names: Any) -> list[Any]:
    """The names in any of the functional API's forms: "A B", "A,B", ["A"], [("A", 1)], {}."""
    if isinstance(names, str):
        return names.replace(",", " ").split()
    if isinstance(names, dict):
        return list(names)
    return [item if isinstance(item, str) else item[0] for item in names]


def _guarded(real: type) -> type:
    namespace = GuardedEnumType.__prepare__(real.__name__, (real,))
    namespace["__module__"] = "enum"
    return GuardedEnumType(real.__name__, (real,), namespace)


GUARDED_ENUMS: dict[type, type] = {
    real: _guarded(real)
    for real in (enum.Enum, enum.IntEnum, enum.Flag, enum.IntFlag, enum.StrEnum)
}
"""Real enum base class -> the class the code gets for it."""

GUARDED_BASES = {guarded: real for real, guarded in GUARDED_ENUMS.items()}
