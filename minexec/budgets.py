"""Named limits for the interpreter, and the meter that enforces the operation and time budgets.

Every limit lives here as a constant with a sentence saying what it bounds, and `Budgets`
bundles them into one typed object an `GuardedInterpreter` takes. The `Meter` is the counter behind
the `__mg_tick__()` call that the rewriter plants at the top of every loop body, function body
and comprehension: one tick is one "operation".

Example:
    >>> meter = Meter(Budgets(max_operations=3))
    >>> meter.start()
    >>> for _ in range(3): meter.tick()
    >>> meter.tick()  # the fourth operation
    Traceback (most recent call last):
    ...
    minexec.errors.Stop: ...
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

from .errors import BudgetExceededError, Stop

MAX_OPERATIONS = 10_000_000
"""Loop iterations, comprehension items and function calls one run may perform."""

TIMEOUT_SECONDS = 30.0
"""Wall-clock seconds one run may take (checked at every operation, and by time.sleep)."""

MAX_OUTPUT_CHARS = 20_000
"""Characters of printed text kept per run; the rest is cut with a note saying so."""

MAX_SEQUENCE_ITEMS = 10_000_000
"""Largest sequence one operation may build: `[0] * n`, `"a" * n`, `range(n)`, `bytes(n)`."""

MAX_INT_BITS = 1_000_000
"""Largest integer (in bits) that `**`, `<<` and `*` may produce (about 300,000 digits)."""

MAX_FACTORIAL_ARG = 100_000
"""Largest n for math.factorial(n), math.comb(n, k) and math.perm(n, k)."""

MAX_FORMAT_WIDTH = 100_000
"""Largest width or precision in a format spec, so `f"{x:>{10**10}}"` cannot fill memory."""

MAX_DECIMAL_DIGITS = 100_000
"""Largest decimal precision and exponent: `int(Decimal("1e999999999"))` would build a
3-gigabit integer in one C call (see hoststate.py)."""

MAX_IDLE_OPERATIONS = 100_000
"""Operations allowed to sandbox code that the host calls between runs (a `__repr__`, say)."""

IDLE_TIMEOUT_SECONDS = 2.0
"""Wall-clock seconds sandbox code may run, in all, when the host calls it between runs (a
`__repr__` of slow steps, each under the operation budget, when the host shows the output)."""

MEMORY_GROWTH_MB = 1024
"""How far this process's resident memory may grow during one run (read by the watchdog)."""

WATCH_INTERVAL_SECONDS = 0.02
"""How often the watchdog thread looks at the clock and the memory during a run."""

MEMORY_MB = 2048
"""Process mode: address-space limit of the child process (RLIMIT_AS), in MiB."""

CPU_SECONDS = 60
"""Process mode: CPU seconds one run may use in the child (RLIMIT_CPU)."""

MAX_FILE_BYTES = 0
"""Process mode: largest file the child may write (RLIMIT_FSIZE); the child needs none."""

MAX_CHILD_PROCESSES = 0
"""Process mode: processes the child may start (RLIMIT_NPROC); fork bombs die at once."""


@dataclass(frozen=True)
class Budgets:
    """The limits one interpreter enforces; every field defaults to the constant above."""

    max_operations: int = MAX_OPERATIONS
    """Loop iterations, comprehension items and function calls per run."""
    timeout: float = TIMEOUT_SECONDS
    """Wall-clock seconds per run."""
    max_output_chars: int = MAX_OUTPUT_CHARS
    """Characters of printed text kept per run."""
    max_sequence_items: int = MAX_SEQUENCE_ITEMS
    """Largest sequence a single repetition, range or bytes() may build."""
    max_int_bits: int = MAX_INT_BITS
    """Largest integer a single `**`, `<<` or `*` may build."""
    max_factorial_arg: int = MAX_FACTORIAL_ARG
    """Largest n for math.factorial, math.comb and math.perm."""
    max_format_width: int = MAX_FORMAT_WIDTH
    """Largest width or precision in a format spec."""
    max_decimal_digits: int = MAX_DECIMAL_DIGITS
    """Largest decimal precision and exponent (the run's context, Decimal("1e...") literals)."""
    max_idle_operations: int = MAX_IDLE_OPERATIONS
    """Operations sandbox code may perform when the host calls it between runs."""
    idle_timeout: float = IDLE_TIMEOUT_SECONDS
    """Wall-clock seconds sandbox code may run when the host calls it between runs."""
    memory_growth_mb: int = MEMORY_GROWTH_MB
    """Growth of resident memory allowed during one run, in MiB."""
    memory_mb: int = MEMORY_MB
    """Process mode only: RLIMIT_AS of the child, in MiB."""
    cpu_seconds: int = CPU_SECONDS
    """Process mode only: CPU seconds per run (RLIMIT_CPU)."""


CHECK_EVERY = 100
"""Operations between two looks at the clock: reading it costs more than a tick itself."""

TICKET_BATCH = 32
"""Loop iterations paid for at once by the ticket stream (see Meter.loop)."""


_FIRST = itemgetter(0)
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int:
    """This process's resident memory (Linux /proc; elsewhere the peak, from getrusage)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except OSError:
        pass
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024
    except ImportError:  # Windows: no memory budget in-process
        return 0


def metered(iterable: Iterable[Any], tick: Callable[[], None]) -> Iterator[Any]:
    """Yield the items of an iterable, counting each one as an operation."""
    for item in iterable:
        tick()
        yield item


class Watchdog:
    """One thread for the whole process that looks, every WATCH_INTERVAL_SECONDS, at the clock
    and the memory on behalf of every meter in a run, and zeroes the countdown of a meter past
    its deadline or its memory budget (see Meter).

    Between runs it sleeps on a condition, so it costs nothing; a run only adds itself to a
    dict. Starting a thread for each run would cost more than a short run itself: about
    100 us on a busy 2-core machine.
    """

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._runs: dict[Meter, tuple[float, int | None]] = {}  # deadline, memory limit
        self._thread: threading.Thread | None = None

    def watch(self, meter: Meter, deadline: float) -> None:
        """Watch `meter` until `forget(meter)`. Where no thread may be started, nothing
        watches: the ticks still read the clock, and check_items still sees big allocations."""
        with self._wake:
            if self._thread is None or not self._thread.is_alive():  # first use, or a fork
                thread = threading.Thread(target=self._loop, name="minexec-watchdog", daemon=True)
                try:
                    thread.start()
                except RuntimeError:  # no threads allowed (RLIMIT_NPROC)
                    return
                self._thread = thread
            self._runs[meter] = (deadline, None)  # the memory at the start: measured at once
            self._wake.notify()

    def forget(self, meter: Meter) -> None:
        """The run of `meter` ended: once this returns, the watchdog no longer touches it."""
        with self._wake:
            self._runs.pop(meter, None)

    def _loop(self) -> None:
        with self._wake:
            while True:
                if not self._runs:
                    self._wake.wait()
                self._look()
                self._wake.wait(WATCH_INTERVAL_SECONDS)  # or sooner, when a run starts

    def _look(self) -> None:
        now, resident = time.monotonic(), resident_bytes()
        for meter, (deadline, limit) in list(self._runs.items()):
            if limit is None:  # a run that just started: its memory budget starts from here
                growth = meter.budgets.memory_growth_mb * 2**20
                self._runs[meter] = (deadline, resident + growth)
            elif resident > limit or now > deadline:
                meter.alarm(over_memory=resident > limit)
                del self._runs[meter]


WATCHDOG = Watchdog()
"""The process's one watchdog. A forked child gets a fresh one: the parent's thread (and maybe
its held lock) did not come along."""

if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=WATCHDOG.__init__)


class Meter:
    """Counts operations and watches the clock for one interpreter.

    `tick` is the hot path (called once per loop iteration, comprehension item and function
    call), so it is a closure that decrements one counter; every CHECK_EVERY operations it
    takes the slow path, which settles the count and reads the clock. A watchdog thread also
    zeroes the counter at the deadline or when memory grows past the budget, so the very
    next tick notices even when each operation is slow C work.

    Loops do not call tick at all: `loop(iterable)` zips the iterable
    with a stream of "tickets" built from C iterators (chain, repeat), so an iteration costs no
    Python call (a while loop takes its tickets from `forever()`); every TICKET_BATCH tickets
    the stream runs `_draw`, which pays for the batch
    from the same budget and reads the clock. Both paths share `ops_left` (a short ticket draw
    takes back what tick() holds), so the budget is exact for loops alone and for calls alone,
    and at most TICKET_BATCH early when they mix.

    Once a budget is exceeded the meter stays "stopped": every later tick raises again, so
    `try/except` or an `__exit__` that swallows the error cannot keep the code running.
    """

    def __init__(self, budgets: Budgets) -> None:
        self.budgets = budgets
        self.stopped: BaseException | None = None
        self.in_run = False
        self.ops_left = 0  # settled count; the closure's countdown holds the rest
        self.deadline = math.inf
        self._last_idle_check = 0.0
        self.memory_exceeded = False
        self.tick, self._set_countdown, self._read_countdown = self._make_ticks()
        self._tickets: Iterator[tuple[()]] = iter(())
        self.idle()

    def _make_ticks(self) -> tuple:
        countdown = 0
        checkpoint = self._checkpoint

        def tick() -> None:
            nonlocal countdown
            countdown -= 1
            if countdown < 0:
                checkpoint()

        def set_countdown(value: int) -> None:
            nonlocal countdown
            countdown = value

        def read_countdown() -> int:
            return countdown

        return tick, set_countdown, read_countdown

    def loop(self, iterable: Iterable) -> Iterator:
        """The iterable's items, each paid for with a ticket: `for x in loop(xs)`."""
        return map(_FIRST, zip(iterable, self._tickets, strict=False))

    def forever(self) -> Iterator[tuple[()]]:
        """The tickets themselves, without end: `while test: body` runs as
        `for [] in forever(): if not test: break` (a ticket is an empty tuple, which the
        target `[]` unpacks into no name), so a pass of a while loop costs no call either."""
        return self._tickets

    def _new_tickets(self) -> None:
        self._tickets = chain.from_iterable(self._batches())

    def _batches(self) -> Iterator[Iterator[tuple[()]]]:
        while True:
            try:
                size = self._draw()
            except BaseException:
                # This generator dies with the exception; loops started later need a live one
                # (whose first draw raises again while the meter is stopped).
                self._new_tickets()
                raise
            yield repeat((), size)

    def _draw(self) -> int:
        """Pay for the next batch of loop iterations; raise if a budget has run out."""
        if self.stopped is not None:
            raise self.stopped
        if not self.in_run:  # between runs: the host's call has its own clock
            self._start_idle_clock()
        if self.ops_left < TICKET_BATCH:  # take back what tick() holds but has not used
            self.ops_left += max(self._read_countdown(), 0)
            self._set_countdown(0)
        if self.ops_left <= 0 or self.memory_exceeded or time.monotonic() > self.deadline:
            self.exceeded()
        size = min(TICKET_BATCH if self.in_run else 1, self.ops_left)
        self.ops_left -= size
        return size

    def start(self) -> None:
        """Arm the budgets for one run."""
        self.stopped = None
        self.in_run = True
        self._arm(self.budgets.max_operations, time.monotonic() + self.budgets.timeout)
        self.memory_exceeded = False
        WATCHDOG.watch(self, self.deadline)

    def alarm(self, over_memory: bool) -> None:
        """From the watchdog: the deadline has passed, or memory grew past the budget. Zero
        the countdown, so that the next tick takes the slow path and raises."""
        self.memory_exceeded = over_memory
        self._set_countdown(-1)

    def idle(self) -> None:
        """Between runs: a small operation allowance and no clock (the host is waiting)."""
        WATCHDOG.forget(self)
        self.in_run = False
        self.stopped = None
        self.memory_exceeded = False
        self._arm(self.budgets.max_idle_operations, math.inf)

    def _arm(self, ops: int, deadline: float) -> None:
        self._new_tickets()
        self.deadline = deadline
        self.ops_left = ops
        self._set_countdown(0)  # the first tick goes to _checkpoint, which pays for a batch

    def _checkpoint(self) -> None:
        """The slow path of tick: settle the count, read the clock, raise if over budget."""
        if self.stopped is not None:
            self._set_countdown(-1)
            raise self.stopped
        if not self.in_run:  # between runs: the host's call has its own clock
            self._start_idle_clock()
        if self.ops_left <= 0 or self.memory_exceeded or time.monotonic() > self.deadline:
            self.exceeded()
        step = min(CHECK_EVERY if self.in_run else 1, self.ops_left)
        self.ops_left -= step
        self._set_countdown(step - 1)  # this call is the first of the new batch

    def _start_idle_clock(self) -> None:
        """Between runs, each call the host makes into sandbox code gets `idle_timeout`
        seconds. A call is told from the next by a quiet gap: between runs every operation
        reads the clock (the host is waiting anyway), so within one call the clock is read
        at least once per operation, and a gap longer than idle_timeout means a new call."""
        now = time.monotonic()
        if self.deadline == math.inf or now - self._last_idle_check > self.budgets.idle_timeout:
            self.deadline = now + self.budgets.idle_timeout
        self._last_idle_check = now

    def seconds_left(self) -> float:
        return self.deadline - time.monotonic()

    def exceeded(self) -> None:
        """Raise the error for whichever budget ran out, and stay stopped."""
        if self.stopped is None:
            if self.memory_exceeded:
                limit = "memory"
                text = (
                    f"Memory grew by more than {self.budgets.memory_growth_mb:,} MiB in this "
                    "run. Keep less data in memory at once."
                )
            elif self.ops_left <= 0:
                limit = "operations"
                allowed = (
                    self.budgets.max_operations if self.in_run else self.budgets.max_idle_operations
                )
                text = (
                    f"Reached the operation budget of {allowed:,} loop "
                    "iterations and function calls. Use a smaller input, fewer iterations, "
                    "or a direct formula instead of a loop."
                )
            else:
                limit = "timeout"
                seconds = self.budgets.timeout if self.in_run else self.budgets.idle_timeout
                text = (
                    f"Reached the time limit of {seconds:g} seconds. "
                    "Make the code do less work in one step."
                )
            error = BudgetExceededError(text, limit=limit)
            # Outside a run the host called sandbox code: give it an ordinary exception.
            self.stopped = Stop(error) if self.in_run else error
        self._set_countdown(-1)  # sticky: every later tick lands in _checkpoint again
        raise self.stopped

    def stop_with(self, reason: BaseException) -> None:
        """Stop the run for a reason other than a budget (final_answer)."""
        self.stopped = reason
        self._set_countdown(-1)
        raise reason

    def reraise(self) -> None:
        """Called first in every `except` block: a stopped run cannot be caught."""
        if self.stopped is not None and self.in_run:
            raise self.stopped
