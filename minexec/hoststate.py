"""State the code would otherwise share with the host, made private to one interpreter.

In-process code runs in the host's thread, with the host's modules. Some of their state is
global: `random.seed` reseeds the one generator every `random.random()` in the process uses,
`decimal.getcontext()` is the thread's context (`prec = 10**9` would slow every later Decimal
of the host), `copy.dispatch_table` is the table pickle and copy consult for the whole
program. Changing any of it from inside would change the host.

The rule: what the code reaches of such state is its own. Module functions bound to a hidden
shared instance (`random.random` is `random._inst.random`) are rebound to the interpreter's
own instance; each run gets a private decimal context, with precision and exponents capped,
that disappears when the run ends; module-level containers are handed out read-only.

Example:
    >>> state = PrivateState(max_digits=1000)
    >>> state.module_value("random", "seed", random.seed) == state.rng.seed
    True
"""

from __future__ import annotations

import decimal
import random
from collections.abc import Iterator
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

from .budgets import MAX_DECIMAL_DIGITS
from .errors import InterpreterError
from .standins import checked_type

_CONTEXT_LIMITS = frozenset({"prec", "Emax", "Emin"})
_READ_ONLY = {dict: MappingProxyType, list: tuple, set: frozenset, bytearray: bytes}


class PrivateState:
    """The interpreter's own copies of process-wide state (see the module docstring)."""

    def __init__(self, max_digits: int = MAX_DECIMAL_DIGITS) -> None:
        self.max_digits = max_digits
        self.rng = random.Random()

    def module_value(self, module: str, name: str, value: Any) -> Any:
        """What the code gets for `module.name`, when that is shared state."""
        if getattr(value, "__self__", None) is getattr(random, "_inst", None) is not None:
            return getattr(self.rng, name)  # random.seed, random.random, ... of our own Random
        if isinstance(value, decimal.Context):
            return value.copy()  # decimal.DefaultContext: new threads' contexts start from it
        read_only = _READ_ONLY.get(type(value))
        return value if read_only is None else read_only(value)

    @contextmanager
    def run_context(self) -> Iterator[None]:
        """A private decimal context for one run, capped, dropped when the run ends."""
        with decimal.localcontext() as context:
            context.prec = min(context.prec, self.max_digits)
            context.Emax = min(context.Emax, self.max_digits)
            context.Emin = max(context.Emin, -self.max_digits)
            yield

    def check_context_write(self, name: str, value: Any) -> None:
        """`context.prec = n`: allowed up to max_digits (the code only holds its own contexts)."""
        if name in _CONTEXT_LIMITS and isinstance(value, int) and abs(value) > self.max_digits:
            raise InterpreterError(
                f"A decimal {name} of {value:,} is over the limit of {self.max_digits:,}."
            )

    def check_context_options(self, *args: Any, **options: Any) -> None:
        """decimal.Context(prec, rounding, Emin, Emax, ...) and localcontext(ctx, prec=...)."""
        names = ("prec", "rounding", "Emin", "Emax")
        for name, value in [*zip(names, args, strict=False), *options.items()]:
            self.check_context_write(name, value)

    def standins(self) -> dict[type, type]:
        """decimal.Decimal and decimal.Context as the code sees them (see standins.py)."""

        def new_decimal(*args: Any, **kwargs: Any) -> decimal.Decimal:
            return self.check_decimal(decimal.Decimal(*args, **kwargs))

        return {
            decimal.Decimal: checked_type(decimal.Decimal, _no_check, call=new_decimal),
            decimal.Context: checked_type(decimal.Context, self.check_context_options),
        }

    def localcontext(self, ctx: Any = None, **options: Any) -> Any:
        """decimal.localcontext with its options checked like Context's."""
        self.check_context_options(**options)
        return decimal.localcontext(ctx, **options)

    def check_decimal(self, value: decimal.Decimal) -> decimal.Decimal:
        """A Decimal built from text or a tuple is exact: its exponent is not bounded by any
        context, so `Decimal("1e999999999")` is refused here, before int() or 'f' expand it."""
        if value.is_finite() and abs(value.adjusted()) > self.max_digits:
            raise InterpreterError(
                f"A Decimal with exponent {value.adjusted():,} is over the limit of "
                f"{self.max_digits:,}."
            )
        return value


def _no_check(*args: Any, **kwargs: Any) -> None:
    """Decimal's check runs on the value it built (see PrivateState.check_decimal)."""
