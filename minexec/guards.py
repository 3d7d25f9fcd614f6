"""The runtime guards that rewritten code calls: attributes, operators, writes (and, mixed
in from textguards.py, formats and text).

`rewrite.py` turns `obj.name` into `__mg_getattr__(obj, "name")`, `a ** b` into
`__mg_pow__(a, b)` and so on; this module holds those functions. Each one lets ordinary values
through at near-native speed and refuses, with a message a model can act on, the few cases that
break out of the sandbox (a module that is not authorised, a frame, an attribute walk hidden in
a format string) or that would hang the host inside one C call (`10**10**10`, `"a" * 10**12`).

Example:
    >>> guards = Guards(ImportPolicy(["math"]), Meter(Budgets()), Budgets())
    >>> guards.pow(2, 10)
    1024
    >>> guards.pow(10, 10**10)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    minagent.executor.InterpreterError: 10 ** 10000000000 would have about ...
"""

from __future__ import annotations

import collections
import decimal
import math
import numbers
import operator
import random
import re
from abc import ABCMeta
from types import (
    BuiltinMethodType,
    CodeType,
    FrameType,
    FunctionType,
    MethodDescriptorType,
    MethodType,
    MethodWrapperType,
    ModuleType,
    TracebackType,
    WrapperDescriptorType,
)
from typing import Any
from weakref import WeakSet

from .budgets import Budgets, Meter, metered
from .enums import GUARDED_ENUMS
from .errors import InterpreterError
from .hoststate import PrivateState
from .imports import ImportPolicy
from .rewrite import FILENAME, WATCHED_NAMES
from .sizes import SEQUENCES, TEXT, as_int, true_len
from .standins import CheckedMeta, checked_type, refuse_class_creation
from .textguards import SafeFormatter, TextGuards
from .validate import check_attribute_name

OWNER = "__mg_owner__"
"""Class attribute that marks a class the code defined (its value is the interpreter's token).
The code cannot read or write it: the name starts with '_'."""

_WATCHED_VALUE_TYPES = frozenset({ModuleType, FrameType, CodeType, TracebackType})
_BOUND_METHODS = frozenset({BuiltinMethodType, MethodType, MethodWrapperType})
_UNBOUND_METHODS = frozenset({MethodDescriptorType, WrapperDescriptorType})
_PYTHON_METHODS = frozenset({FunctionType, MethodType})
_RANDOM_SIZES = {  # method -> (keyword, position, unit) of its size argument
    "choices": ("k", None, "items"),
    "randbytes": (None, 0, "items"),
    "getrandbits": (None, 0, "bits"),
}
_SPEC_NUMBER = re.compile(r"\d+")


SMALL_INT_BITS = 4096
"""Ints below this many bits divide at full speed: no division of theirs can be slow."""

MAX_DIVISION_WORK = 2**42
"""Largest bits(a) * bits(b) for a // b, a % b, divmod, gcd: about a second in C."""

MAX_POW_MOD_WORK = 2**40
"""Largest bits(exponent) * bits(modulus)**2 for pow(a, b, m): a 4096-bit RSA step is 2**36."""


class Guards(TextGuards):
    """The guard functions for one interpreter, sharing its import policy, meter and budgets."""

    def __init__(self, policy: ImportPolicy, meter: Meter, budgets: Budgets) -> None:
        self.policy = policy
        self.meter = meter
        self.budgets = budgets
        self.classes: WeakSet[type] = WeakSet()  # classes the sandboxed code defined itself
        self.token = object()  # the OWNER mark of those classes, for the hot setattr path
        self.private = PrivateState(budgets.max_decimal_digits)
        # class -> the stand-in the code gets instead (range, bytes, type, Decimal, metaclasses)
        self.standins: dict[type, type] = {**self.private.standins(), **GUARDED_ENUMS}
        self.formatter = SafeFormatter(self)
        self.module_wrappers: dict[tuple[str, str], Any] = {}  # filled by wrappers.py
        # (class, method name) -> factory(receiver, method) of a checked method; wrappers.py
        self.method_wrappers: dict[tuple[type, str], Any] = {}

    def fast_paths(self) -> dict[str, Any]:
        """The hottest guards as closures (cheaper to call than bound methods, and what they
        use is a local, not an attribute of self), each starting with the one check that lets
        ordinary values straight through to CPython; the rest goes to the method of the same
        name, which checks everything."""
        return {**self._attribute_fast_paths(), **self._arithmetic_fast_paths()}

    def _attribute_fast_paths(self) -> dict[str, Any]:
        watched, slow_setattr, token = self._watched, self.setattr, self.token
        module_type, watched_types = ModuleType, _WATCHED_VALUE_TYPES

        def getattr_(obj: Any, name: str) -> Any:
            # The rewriter sends the names in WATCHED_NAMES to `watched_getattr` instead,
            # so this hot path needs only the two type checks.
            value = getattr(obj, name)
            if type(obj) is module_type or type(value) in watched_types:
                return watched(obj, name, value)
            return value

        def watched_getattr(obj: Any, name: str) -> Any:
            return watched(obj, name, getattr(obj, name))

        def setattr_(obj: Any, name: str, value: Any) -> None:
            if getattr(type(obj), OWNER, None) is token:  # an instance of the code's own class
                setattr(obj, name, value)
            else:
                slow_setattr(obj, name, value)

        return {
            "__mg_getattr__": getattr_,
            "__mg_getattr_watched__": watched_getattr,
            "__mg_setattr__": setattr_,
        }

    def _arithmetic_fast_paths(self) -> dict[str, Any]:
        slow_mul, slow_mod, slow_add = self.mul, self.mod, self.add
        slow_floordiv = self.floordiv
        max_bits = self.budgets.max_int_bits

        def mul(left: Any, right: Any) -> Any:
            if type(left) is int and type(right) is int:
                if left.bit_length() + right.bit_length() <= max_bits:
                    return left * right
            elif type(left) is float or type(right) is float:
                return left * right  # a float never repeats a sequence
            return slow_mul(left, right)

        def mod(left: Any, right: Any) -> Any:
            if type(left) is float or (
                type(left) is int and type(right) is int and left.bit_length() < SMALL_INT_BITS
            ):
                return left % right  # arithmetic, not a format string, and a small dividend
            return slow_mod(left, right)

        def floordiv(left: Any, right: Any) -> Any:
            if type(left) is not int or left.bit_length() < SMALL_INT_BITS:
                return left // right
            return slow_floordiv(left, right)

        def small_mul(left: Any, right: Any) -> Any:
            # `x * 3`: a number times a small literal grows by a few bits at most.
            if (type(left) is int or type(left) is float) and (
                type(right) is int or type(right) is float
            ):
                return left * right
            return slow_mul(left, right)

        def small_mod(left: Any, right: Any) -> Any:
            # `i % 7`: dividing by a small literal is linear in the size of i.
            if type(left) is int or type(left) is float:
                return left % right
            return slow_mod(left, right)

        def add(left: Any, right: Any) -> Any:
            if type(left) is int or type(left) is float:
                return left + right  # a number never concatenates
            return slow_add(left, right)

        def iadd(left: Any, right: Any) -> Any:
            if type(left) is int or type(left) is float:
                return left + right
            return slow_add(left, right, operator.iadd)

        def imul(left: Any, right: Any) -> Any:
            if type(left) is int and type(right) is int:
                return mul(left, right)
            return slow_mul(left, right, operator.imul)

        return {
            "__mg_mul__": mul,
            "__mg_mod__": mod,
            "__mg_small_mul__": small_mul,
            "__mg_small_mod__": small_mod,
            "__mg_add__": add,
            "__mg_floordiv__": floordiv,
            "__mg_iadd__": iadd,
            "__mg_imul__": imul,
            **self.text_fast_paths(),
        }

    # -- attributes -----------------------------------------------------------------------
    def getattr(self, obj: Any, name: str) -> Any:
        """`obj.name` for rewritten code; the fast path is one getattr and three checks."""
        value = getattr(obj, name)
        if type(obj) is ModuleType or type(value) in _WATCHED_VALUE_TYPES or name in WATCHED_NAMES:
            return self._watched(obj, name, value)
        return value

    def _watched(self, obj: Any, name: str, value: Any) -> Any:
        if isinstance(value, type) and issubclass(value, type):
            return self.standin_for(value)  # abc.ABCMeta(name, bases, namespace)
        if isinstance(value, ModuleType):
            return self.policy.check_module_value(getattr(obj, "__name__", "?"), name, value)
        if isinstance(value, (FrameType, CodeType, TracebackType)):
            raise InterpreterError(f"Access to '{name}' is not allowed: it is interpreter state.")
        if type(obj) is ModuleType:
            wrapper = self.module_wrappers.get((obj.__name__, name))
            if wrapper is not None:
                return wrapper
            if isinstance(value, type) and value in self.standins:
                return self.standins[value]  # decimal.Decimal: checked, like range and bytes
            value = self.private.module_value(obj.__name__, name, value)  # random.seed
            if name not in _RANDOM_SIZES:
                return value
        return self._method(obj, name, value)

    def _method(self, obj: Any, name: str, value: Any) -> Any:
        """A watched method, judged by what it really is and whom it is bound to, never by
        the object it was read from: `super(S, s).format`, where S subclasses str, is the
        real str.format bound to s, whatever `super(...)` looks like."""
        if type(value) in _PYTHON_METHODS and value.__code__.co_filename == FILENAME:
            return value  # the code's own method: its body is guarded already
        receiver = value.__self__ if type(value) in _BOUND_METHODS else obj
        owner = value.__objclass__ if type(value) in _UNBOUND_METHODS else receiver
        kind = receiver if isinstance(receiver, type) else type(receiver)
        for base in kind.__mro__:  # re.Pattern.sub, int.from_bytes, ...: see wrappers.py
            factory = self.method_wrappers.get((base, name))
            if factory is not None:
                if type(value) in _UNBOUND_METHODS:
                    return self._unbound(name, value)
                return factory(receiver, value)
        if name in _RANDOM_SIZES and isinstance(receiver, random.Random):
            return self._random_capped(name, value)  # random.choices(k=10**10) and friends
        if name == "elements" and isinstance(receiver, collections.Counter):
            return lambda: metered(value(), self.meter.tick)  # Counter(a=10**12).elements()
        if name == "to_bytes" and isinstance(receiver, int):
            return self._padding(value)  # (1).to_bytes(10**10, "big")
        if name == "to_bytes" and isinstance(owner, type) and issubclass(owner, int):
            return self._unbound(name, value)  # int.to_bytes(1, 10**10, "big")
        if name == "register" and getattr(value, "__func__", None) is ABCMeta.register:
            if not self.owns(receiver):  # abc.Sized.register, or typing.Sized.register
                raise InterpreterError(
                    f"{getattr(receiver, '__name__', '?')}.register() is not allowed: it would "
                    "change an imported class for the whole program. Subclass it instead."
                )
        is_text = isinstance(receiver, TEXT)
        is_text_type = isinstance(owner, type) and issubclass(owner, TEXT)
        if not (is_text or is_text_type):
            return value
        if name == "format":
            return self.formatter.bound_format(receiver) if is_text else self.formatter.format
        if name == "format_map":
            if is_text:
                return self.formatter.bound_format_map(receiver)
            return self.formatter.format_map
        if not is_text:
            return self._unbound(name, value)
        if name == "join":
            return self._join(receiver, value)
        if name == "replace":
            return self._replace(receiver, value)
        if name == "translate":
            return self._translate(receiver, value)
        if name == "expandtabs":
            return self._expandtabs(receiver, value)
        return self._padding(value)

    def _random_capped(self, name: str, method: Any) -> Any:
        keyword, position, unit = _RANDOM_SIZES[name]

        def capped(*args: Any, **kwargs: Any) -> Any:
            size = kwargs.get(keyword) if keyword else (args[position] if args else None)
            number = as_int(size)
            if number is not None and unit == "bits":
                self.check_bits(number, f"random.{name}({number})")
            elif number is not None:
                self.check_items(number, f"random.{name}")
            return method(*args, **kwargs)

        return capped

    def _unbound(self, name: str, method: Any) -> Any:
        """`str.ljust(s, n)`, `int.to_bytes(i, n)`: bind to the first argument, then check
        exactly as `s.ljust(n)` would be checked."""

        def call(target: Any, *args: Any, **kwargs: Any) -> Any:
            bound = method.__get__(target, type(target))  # the base method, not an override
            return self._watched(target, name, bound)(*args, **kwargs)

        return call

    def target(self, obj: Any) -> _Target:
        """`obj.name = v` and `del obj.name` go through this proxy (see check_writable)."""
        return _Target(obj, self)

    def setattr(self, obj: Any, name: str, value: Any) -> None:
        """`obj.name = value` (a plain assignment; the name was checked statically)."""
        if getattr(type(obj), OWNER, None) is not self.token:  # not an instance of our class
            self.check_writable(obj, name, value)
        setattr(obj, name, value)

    def augitem(self, container: Any, key: Any, guard: Any, value: Any) -> None:
        """`container[key] op= value` with a guarded op (`*=`, `**=`, `<<=`, `%=`)."""
        container[key] = guard(container[key], value)

    def augattr(self, obj: Any, name: str, guard: Any, value: Any) -> None:
        """`obj.name op= value` with a guarded op; the write is checked like any other."""
        self.setattr(obj, name, guard(self.getattr(obj, name), value))

    def check_writable(self, obj: Any, name: str, value: Any = None) -> None:
        """Only objects the code made may change: its own classes, their instances and its own
        functions. Everything else is shared with the host: a module, an imported class, a
        tool (`search.fn = ...` would change it for every later agent), a typing alias (which
        writes through to collections.abc)."""
        check_attribute_name(name)
        if isinstance(obj, decimal.Context):  # the run's own context, or one the code built
            self.private.check_context_write(name, value)
            return
        if not self.owns(obj):
            what = f"module '{obj.__name__}'" if isinstance(obj, ModuleType) else _kind(obj)
            raise InterpreterError(
                f"Setting or deleting '{name}' on {what} is not allowed: only objects your code "
                "made (its classes, their instances, its functions) can be modified. Use a "
                "variable, or subclass it."
            )

    def owns(self, obj: Any) -> bool:
        """Was `obj` made by the sandboxed code (so that changing it changes nothing else)?"""
        if isinstance(obj, type):
            return vars(obj).get(OWNER) is self.token
        if isinstance(obj, FunctionType):
            return obj.__code__.co_filename == FILENAME
        if isinstance(obj, BaseException):
            return True  # exceptions the code raised and caught (`error.note = ...`)
        return getattr(type(obj), OWNER, None) is self.token

    def register_class(self, cls: Any) -> Any:
        """Decorator the rewriter adds to every class statement (innermost, so that the code's
        own decorators, like @dataclass, see a class the code owns)."""
        if isinstance(cls, type):
            if issubclass(cls, type):  # `class M(typing.Type)`: a metaclass, which builds classes
                raise InterpreterError(
                    "Defining a metaclass (a subclass of type) is not allowed; write classes "
                    "with class statements."
                )
            type.__setattr__(cls, OWNER, self.token)
            self.classes.add(cls)
        return cls

    def standin_for(self, cls: Any) -> Any:
        """What the code gets for a class it reached by type(x) or from a library function:
        the stand-in of a checked class (`type(range(1))` is the checked range), or of a
        metaclass (type, abc.ABCMeta, enum.EnumType), which answers isinstance like the real
        one but refuses to build a class from (name, bases, namespace): a namespace dict
        could hold any dunder (`__del__`, `__index__`) that a class statement may not define.
        Other classes pass through."""
        if not isinstance(cls, type):
            return cls
        if cls is CheckedMeta:  # type(range), type(type): the stand-ins are classes too
            cls = type
        standin = self.standins.get(cls)
        if standin is None and issubclass(cls, type):
            standin = self.standins[cls] = checked_type(cls, refuse_class_creation)
        return cls if standin is None else standin

    # -- operators that can build huge values ---------------------------------------------
    def pow(self, base: Any, exponent: Any, modulus: Any = None) -> Any:
        if modulus is not None:
            return self._pow_mod(base, exponent, modulus)
        power = as_int(exponent)
        if power is None:
            return base**exponent
        number = as_int(base)
        if number is not None and abs(number) > 1 and power > 1:
            bits = math.log2(abs(number)) * power
            self.check_bits(bits, f"{_short(number)} ** {_short(power)}")
            return number**power  # the ints that were checked, not their __index__
        if _is_fraction(base) and abs(power) > 1:
            # Fraction(3, 2) ** n (or ** -n): numerator and denominator both grow n times.
            bits = max(_rational_bits(base), 1) * abs(power)
            self.check_bits(bits, f"{type(base).__name__} ** {_short(power)}")
        elif number is None and power > 1 and not isinstance(base, (float, complex)):
            self.check_bits(power, f"{type(base).__name__} ** {_short(power)}")
        return (number if number is not None else base) ** power

    def _pow_mod(self, base: Any, exponent: Any, modulus: Any) -> Any:
        """pow(a, b, m): the time grows with bits(b) * bits(m)**2 (schoolbook, in C)."""
        values = [as_int(v) for v in (base, exponent, modulus)]
        if None in values:
            return pow(base, exponent, modulus)
        a, b, m = values
        work = max(b.bit_length(), 1) * max(m.bit_length(), 1) ** 2
        if work > MAX_POW_MOD_WORK or a.bit_length() > self.budgets.max_int_bits:
            raise InterpreterError(
                f"pow() with a {b.bit_length():,}-bit exponent and a {m.bit_length():,}-bit "
                "modulus would take too long. Use smaller numbers."
            )
        return pow(a, b, m)

    def lshift(self, value: Any, shift: Any) -> Any:
        number, places = as_int(value), as_int(shift)
        if number is not None and places is not None:
            if number:
                bits = number.bit_length() + places
                self.check_bits(bits, f"{_short(number)} << {_short(places)}")
            return number << places
        return value << shift

    def mul(self, left: Any, right: Any, op: Any = operator.mul) -> Any:
        """`a * b`. What is checked is what is used: `operator.index` gives a plain int once,
        and that int, not the object (whose `__index__` could answer 1, then 10**10), goes
        to the multiplication."""
        if type(left) is int and type(right) is int:  # the fast path: exact ints cannot lie
            if left.bit_length() + right.bit_length() > self.budgets.max_int_bits:
                self.check_bits(left.bit_length() + right.bit_length(), "this product")
            return op(left, right)
        a, b = as_int(left), as_int(right)
        if a is not None and b is not None:
            self.check_bits(a.bit_length() + b.bit_length(), "this product")
            return op(a, b)
        if _is_fraction(left) or _is_fraction(right):  # Fraction * Fraction: stdlib code
            self.check_bits(_rational_bits(left) + _rational_bits(right), "this product")
        if b is not None and isinstance(left, SEQUENCES):
            self.check_items(true_len(left) * b, "repetition")
            return op(left, b)
        if a is not None and isinstance(right, SEQUENCES):
            self.check_items(true_len(right) * a, "repetition")
            return op(a, right)
        return op(left, right)

    def count(self, iterable: Any) -> Any:
        """`for i in range(n)`, where the rewriter leaves arithmetic on i unguarded (see
        rewrite.py, Counters): i must be an exact int of at most half max_int_bits, so that
        `i * j` stays within max_int_bits. A real range is checked once, by its ends; if the
        code named something else `range`, each of its items is checked."""
        if type(iterable) is range:
            self._check_counter(max(abs(iterable.start), abs(iterable.stop)))
            return self.meter.loop(iterable)
        return map(self._check_counter, self.meter.loop(iterable))

    def _check_counter(self, item: Any) -> int:
        if type(item) is not int:
            raise InterpreterError(
                f"`for ... in range(...)` gave a {type(item).__name__}, not an int: `range` is "
                "not the builtin here. Give your own function another name."
            )
        if item.bit_length() > self.budgets.max_int_bits // 2:
            raise InterpreterError(
                f"`for ... in range(...)` over ints of more than {self.budgets.max_int_bits // 2:,}"
                " bits is not supported: count with a while loop."
            )
        return item

    def star(self, items: Any) -> Any:
        """`*xs` in a display or a call: `l = [*l, *l]` doubles l in one C call, so each
        unpacked sequence is held to the sequence limit (and a display to that times the
        number of its stars, fixed in the source)."""
        if isinstance(items, SEQUENCES):
            self.check_items(true_len(items), "unpacking")
        return items

    def add(self, left: Any, right: Any, op: Any = operator.add) -> Any:
        """`a + b` of two sequences: `s = s + s` doubles, and 30 doublings are a billion."""
        if isinstance(left, SEQUENCES) and isinstance(right, SEQUENCES):
            self.check_items(true_len(left) + true_len(right), "concatenation")
        return op(left, right)

    def mod(self, left: Any, right: Any) -> Any:
        if isinstance(left, (str, bytes, bytearray)):
            self._check_percent_format(left, right)
            return self.text(left % self.shown(right))
        self.check_division(left, right)
        return left % right

    def floordiv(self, left: Any, right: Any) -> Any:
        self.check_division(left, right)
        return left // right

    def check_division(self, left: Any, right: Any) -> None:
        """Big-int division in C takes about bits(a) * bits(b) steps: a 40-million-bit
        int(s, 16) divided by half of itself would run for hours in one call."""
        a, b = as_int(left), as_int(right)
        if a is not None and b is not None:
            work = a.bit_length() * b.bit_length()
            if work > MAX_DIVISION_WORK:
                raise InterpreterError(
                    f"Dividing a {a.bit_length():,}-bit number by a {b.bit_length():,}-bit "
                    "number would take too long. Use smaller numbers."
                )

    def check_bits(self, bits: float, what: str) -> None:
        if bits > self.budgets.max_int_bits:
            raise InterpreterError(
                f"{what} would have about {int(bits):,} bits, over the limit of "
                f"{self.budgets.max_int_bits:,}. Use smaller numbers, modular arithmetic "
                "(pow(a, b, m)) or floats."
            )

    def check_items(self, items: int, what: str) -> None:
        """Refuse building more than max_sequence_items; and, since every big allocation
        the code makes passes here, stop at once when the watchdog has seen memory grow past
        its budget (a `for` loop draws its budget only every TICKET_BATCH iterations)."""
        if self.meter.memory_exceeded:
            self.meter.exceeded()
        if items > self.budgets.max_sequence_items:
            raise InterpreterError(
                f"This {what} would build {items:,} items, over the limit of "
                f"{self.budgets.max_sequence_items:,}. Work on smaller pieces."
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
        self._guards.check_writable(self._obj, name, value)
        setattr(self._obj, name, value)

    def __delattr__(self, name: str) -> None:
        self._guards.check_writable(self._obj, name)
        delattr(self._obj, name)


def _is_fraction(value: Any) -> bool:
    return isinstance(value, numbers.Rational) and not isinstance(value, int)


def _rational_bits(value: Any) -> int:
    """The size of a rational number: the bits of the larger of its two parts."""
    if isinstance(value, int):
        return value.bit_length()
    if not isinstance(value, numbers.Rational):
        return 0
    parts = (as_int(value.numerator) or 0, as_int(value.denominator) or 0)
    return max(part.bit_length() for part in parts)


def _kind(obj: Any) -> str:
    if isinstance(obj, type):
        return f"class '{obj.__name__}'"
    if callable(obj):
        return f"'{getattr(obj, '__name__', type(obj).__name__)}' (not defined by your code)"
    return f"a '{type(obj).__name__}' object that your code did not create"


def _short(number: int) -> str:
    """A readable stand-in for a number that may be too big to print."""
    if abs(number) < 10**12:
        return str(number)
    return f"<{number.bit_length()}-bit number>"
