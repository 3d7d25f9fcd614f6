"""Stand-ins for classes whose calls need a check: `range`, `bytes`, `type` and metaclasses.

The code must be able to call `range(n)` and ask `isinstance(r, range)`; it must not be able
to call `range(10**12)` or `type("X", (), {"__del__": f})`. A stand-in is a class whose
metaclass runs a check before the real call and answers isinstance/issubclass for the real
type. It cannot be subclassed or re-created from inside (`type(range)(...)` needs a token).

Example:
    >>> Range = checked_type(range, lambda *args: None)
    >>> Range(3), isinstance(range(2), Range)
    (range(0, 3), True)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import InterpreterError

_TOKEN = object()


class CheckedMeta(type):
    """Metaclass of the stand-ins: `range(n)` runs a check, then returns a real range, and
    `isinstance(r, range)` still works because the checks delegate to the real type."""

    def __new__(mcs, name: str, bases: tuple, namespace: dict, token: object = None) -> Any:
        if token is not _TOKEN:  # `type(range)(...)` or a subclass must not make classes
            raise InterpreterError("Creating classes this way is not allowed; use `class`.")
        return super().__new__(mcs, name, bases, namespace)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        cls._check(*args, **kwargs)
        return cls._call(*args, **kwargs)

    def __getattr__(cls, name: str) -> Any:
        """Class attributes of the real type: `bytes.fromhex`, `Decimal.from_float`."""
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(cls._real, name)

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, cls._real)

    def __subclasscheck__(cls, sub: Any) -> bool:
        return issubclass(sub, cls._real)


def checked_type(
    real: type, check: Callable[..., None], call: Callable[..., Any] | None = None
) -> type:
    """A stand-in for `real` that runs `check(*args)` and then `call(*args)` (default: real)."""
    namespace = {"_real": real, "_check": staticmethod(check), "_call": staticmethod(call or real)}
    return CheckedMeta(real.__name__, (), namespace, token=_TOKEN)


def refuse_class_creation(*args: Any, **kwargs: Any) -> None:
    """The check of a metaclass stand-in: only the one-argument form `M(x)` may run."""
    if len(args) != 1 or kwargs:
        raise InterpreterError(
            "Creating a class by calling a metaclass is not allowed; write a class statement."
        )
