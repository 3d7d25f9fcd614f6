"""The runtime guards that rewritten code calls: attributes, operators, formats, writes.

`rewrite.py` turns `obj.name` into `__mg_getattr__(obj, "name")`, `a ** b` into
`__mg_pow__(a, b)` and so on; this module holds those functions. Each one lets ordinary values
through at near-native speed and refuses, with a message a model can act on, the few cases that
break out of the sandbox (a module that is not authorised, a frame, an attribute walk hidden in
a format string) or that would hang the host inside one C call (`10**10**10`, `"a" * 10**12`).

Example:
    >>> guards = Guards(ImportPolicy(["math"]), Meter(Budgets()), Budgets())
    >>> guards.pow(2, 10)
    1024
    >>> guards.pow(10, 10**10)
    Traceback (most recent call last):
    ...
    minagent.interpreter.errors.InterpreterError: 10 ** 10000000000 would have about ...
"""

from __future__ import annotations

import math
import re
import string
from types import CodeType, FrameType, FunctionType, ModuleType, TracebackType
from typing import Any
from weakref import WeakSet

from .budgets import Budgets, Meter
from .errors import InterpreterError
from .imports import ImportPolicy
from .rewrite import FILENAME
from .validate import check_attribute_name

_WATCHED_VALUE_TYPES = frozenset({ModuleType, FrameType, CodeType, TracebackType})
_PADDING_METHODS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs"})
_WATCHED_NAMES = frozenset({"format", "format_map"}) | _PADDING_METHODS
_PROTECTED = (ModuleType, type, FunctionType)
_SEQUENCES = (str, bytes, bytearray, list, tuple)
_SPEC_NUMBER = re.compile(r"\d+")


class Guards:
    """The guard functions for one interpreter, sharing its import policy, meter and budgets."""

    def __init__(self, policy: ImportPolicy, meter: Meter, budgets: Budgets) -> None:
        self.policy = policy
        self.meter = meter
        self.budgets = budgets
        self.classes: WeakSet[type] = WeakSet()  # classes the sandboxed code defined itself
        self.formatter = _SafeFormatter(self)
        self.module_wrappers: dict[tuple[str, str], Any] = {}  # filled by wrappers.py

    # -- attributes -----------------------------------------------------------------------
    def getattr(self, obj: Any, name: str) -> Any:
        """`obj.name` for rewritten code; the fast path is one getattr and three checks."""
        value = getattr(obj, name)
        if type(obj) is ModuleType or type(value) in _WATCHED_VALUE_TYPES or name in _WATCHED_NAMES:
            return self._watched(obj, name, value)
        return value

    def _watched(self, obj: Any, name: str, value: Any) -> Any:
        if isinstance(value, ModuleType):
            return self.policy.check_module_value(getattr(obj, "__name__", "?"), name, value)
        if isinstance(value, (FrameType, CodeType, TracebackType)):
            raise InterpreterError(f"Access to '{name}' is not allowed: it is interpreter state.")
        if type(obj) is ModuleType:
            wrapper = self.module_wrappers.get((obj.__name__, name))
            return value if wrapper is None else wrapper
        is_text = isinstance(obj, (str, bytes, bytearray))
        is_text_type = isinstance(obj, type) and issubclass(obj, (str, bytes, bytearray))
        if not (is_text or is_text_type):
            return value
        if name == "format":
            return self.formatter.bound_format(obj) if is_text else self.formatter.format
        if name == "format_map":
            return self.formatter.bound_format_map(obj) if is_text else self.formatter.format_map
        return self._padding(value)

    def _padding(self, method: Any) -> Any:
        """`"a".ljust(10**10)`: check the width before the C method allocates it."""

        def padded(*args: Any) -> Any:
            for arg in args:
                if isinstance(arg, int) and arg > self.budgets.max_sequence_items:
                    raise InterpreterError(
                        f"A width of {arg:,} is over the limit of "
                        f"{self.budgets.max_sequence_items:,} characters."
                    )
            return method(*args)

        return padded

    def target(self, obj: Any) -> _Target:
        """`obj.name = v` and `del obj.name` go through this proxy (see check_writable)."""
        return _Target(obj, self)

    def setattr(self, obj: Any, name: str, value: Any) -> None:
        """`obj.name = value` (a plain assignment; the name was checked statically)."""
        if isinstance(obj, _PROTECTED):
            self.check_writable(obj, name)
        setattr(obj, name, value)

    def check_writable(self, obj: Any, name: str) -> None:
        """Only objects the code made may change: never modules, imported classes or functions."""
        check_attribute_name(name)
        if isinstance(obj, ModuleType):
            raise InterpreterError(
                f"Setting or deleting '{name}' on module '{obj.__name__}' is not allowed: "
                "it would change the module for the whole program. Use a variable instead."
            )
        if isinstance(obj, type) and obj not in self.classes:
            raise InterpreterError(
                f"Setting or deleting '{name}' on class '{obj.__name__}' is not allowed: only "
                "classes defined in your code can be modified. Subclass it instead."
            )
        if isinstance(obj, FunctionType) and obj.__code__.co_filename != FILENAME:
            raise InterpreterError(f"Setting '{name}' on an imported function is not allowed.")

    def register_class(self, cls: Any) -> Any:
        """Decorator the rewriter adds to every class statement."""
        if isinstance(cls, type):
            self.classes.add(cls)
        return cls

    # -- operators that can build huge values ---------------------------------------------
    def pow(self, base: Any, exponent: Any, modulus: Any = None) -> Any:
        if modulus is not None:
            return pow(base, exponent, modulus)
        if isinstance(exponent, int) and exponent > 1:
            if isinstance(base, int) and abs(base) > 1:
                bits = math.log2(abs(base)) * exponent
                self._check_bits(bits, f"{_short(base)} ** {_short(exponent)}")
            elif (
                not isinstance(base, (int, float, complex)) and exponent > self.budgets.max_int_bits
            ):
                self._check_bits(exponent, f"{type(base).__name__} ** {_short(exponent)}")
        return base**exponent

    def lshift(self, value: Any, shift: Any) -> Any:
        if isinstance(value, int) and isinstance(shift, int) and value:
            self._check_bits(value.bit_length() + shift, f"{_short(value)} << {_short(shift)}")
        return value << shift

    def mul(self, left: Any, right: Any) -> Any:
        if type(left) is int and type(right) is int:
            bits = left.bit_length() + right.bit_length()
            if bits > self.budgets.max_int_bits:
                self._check_bits(bits, f"{_short(left)} * {_short(right)}")
        elif isinstance(left, _SEQUENCES) and isinstance(right, int):
            self._check_items(len(left) * right, "repetition")
        elif isinstance(right, _SEQUENCES) and isinstance(left, int):
            self._check_items(len(right) * left, "repetition")
        return left * right

    def mod(self, left: Any, right: Any) -> Any:
        if isinstance(left, (str, bytes)):
            self._check_percent_format(left, right)
        return left % right

    def _check_bits(self, bits: float, what: str) -> None:
        if bits > self.budgets.max_int_bits:
            raise InterpreterError(
                f"{what} would have about {int(bits):,} bits, over the limit of "
                f"{self.budgets.max_int_bits:,}. Use smaller numbers, modular arithmetic "
                "(pow(a, b, m)) or floats."
            )

    def _check_items(self, items: int, what: str) -> None:
        if items > self.budgets.max_sequence_items:
            raise InterpreterError(
                f"This {what} would build {items:,} items, over the limit of "
                f"{self.budgets.max_sequence_items:,}. Work on smaller pieces."
            )

    # -- formats --------------------------------------------------------------------------
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
        return format(value, spec)

    def _check_percent_format(self, template: str | bytes, args: Any) -> None:
        text = template if isinstance(template, str) else template.decode("latin-1")
        self.check_spec(text)
        star = "*" in text
        values = args if isinstance(args, tuple) else (args,)
        if star and any(isinstance(v, int) and v > self.budgets.max_format_width for v in values):
            raise InterpreterError(
                f"A '*' width over the limit of {self.budgets.max_format_width:,} is not allowed."
            )


class _Target:
    """Stands in for `obj` in `obj.name = value`, `del obj.name` and `obj.name += value`."""

    __slots__ = ("_obj", "_guards")

    def __init__(self, obj: Any, guards: Guards) -> None:
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_guards", guards)

    def __getattr__(self, name: str) -> Any:
        return self._guards.getattr(self._obj, name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._guards.check_writable(self._obj, name)
        setattr(self._obj, name, value)

    def __delattr__(self, name: str) -> None:
        self._guards.check_writable(self._obj, name)
        delattr(self._obj, name)


class _SafeFormatter(string.Formatter):
    """str.format and str.format_map without attribute walks and with bounded widths.

    `"{0.__class__}".format(x)` is resolved in C, beyond the reach of the AST check, so the
    sandbox never hands out the real str.format: it formats with this class, which refuses any
    field with an attribute (`{0.name}`) and checks every spec.
    """

    def __init__(self, guards: Guards) -> None:
        self.guards = guards

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        if "." in field_name:
            raise InterpreterError(
                f"The format field '{{{field_name}}}' reads an attribute, which is not allowed "
                "in format strings. Compute the value first and pass it in."
            )
        return super().get_field(field_name, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> Any:
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


def _short(number: int) -> str:
    """A readable stand-in for a number that may be too big to print."""
    if abs(number) < 10**12:
        return str(number)
    return f"<{number.bit_length()}-bit number>"
