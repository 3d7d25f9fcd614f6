"""Every named limit in budgets.py, tripped: just under passes, just over is refused."""

from __future__ import annotations

import time

import pytest

from minexec import BudgetExceededError, Budgets, GuardedInterpreter, InterpreterError
from minexec import budgets as limits
from minexec.rewrite import SMALL_FACTOR


def run(code: str, **budgets: object) -> object:
    return (
        GuardedInterpreter(authorized_imports=["math"], budgets=Budgets(**budgets)).run(code).output
    )


def test_defaults_are_the_named_constants() -> None:
    budgets = Budgets()
    assert budgets.max_operations == limits.MAX_OPERATIONS
    assert budgets.timeout == limits.TIMEOUT_SECONDS
    assert budgets.max_output_chars == limits.MAX_OUTPUT_CHARS
    assert budgets.max_sequence_items == limits.MAX_SEQUENCE_ITEMS
    assert budgets.max_int_bits == limits.MAX_INT_BITS
    assert budgets.max_factorial_arg == limits.MAX_FACTORIAL_ARG
    assert budgets.max_format_width == limits.MAX_FORMAT_WIDTH
    assert budgets.max_idle_operations == limits.MAX_IDLE_OPERATIONS
    assert budgets.memory_growth_mb == limits.MEMORY_GROWTH_MB
    assert budgets.memory_mb == limits.MEMORY_MB
    assert budgets.cpu_seconds == limits.CPU_SECONDS


@pytest.mark.parametrize(
    "code",
    [
        "for i in range(1000):\n    pass",
        "i = 0\nwhile i < 1000:\n    i += 1",
        "[x for x in range(1000)]",
        "def f():\n    pass\nfor i in range(500):\n    f()",
        "g = lambda: 0\n[g() for i in range(500)]",
    ],
)
def test_operation_budget_counts_loops_calls_and_comprehensions(code: str) -> None:
    run(code, max_operations=1000 + limits.TICKET_BATCH)
    with pytest.raises(BudgetExceededError, match="operation budget of 999") as info:
        run(code, max_operations=999)
    assert info.value.limit == "operations"


def test_operation_budget_is_exact_across_checkpoints() -> None:
    code = f"for i in range({5 * limits.CHECK_EVERY + 7}):\n    pass"
    run(code, max_operations=5 * limits.CHECK_EVERY + 7)
    with pytest.raises(BudgetExceededError):
        run(code, max_operations=5 * limits.CHECK_EVERY + 6)


def test_budget_resets_between_runs() -> None:
    interpreter = GuardedInterpreter(budgets=Budgets(max_operations=600))
    for _ in range(3):
        interpreter.run("for i in range(500):\n    pass")


def test_timeout_interrupts_a_loop() -> None:
    with pytest.raises(BudgetExceededError, match="time limit of 0.2 seconds") as info:
        run("while True:\n    pass", timeout=0.2, max_operations=10**12)
    assert info.value.limit == "timeout"


def test_timer_thread_reaches_a_loop_between_clock_checks() -> None:
    """Each iteration is slow C work (a tool that blocks), so the operation count alone would
    read the clock only after CHECK_EVERY of them; the watchdog stops the loop long before.
    The count of calls, not a duration, is what is asserted: it holds on any machine."""
    calls: list[int] = []

    def wait() -> None:
        calls.append(1)
        time.sleep(0.05)

    interpreter = GuardedInterpreter(tools={"wait": wait}, budgets=Budgets(timeout=0.2))
    with pytest.raises(BudgetExceededError, match="time limit"):
        interpreter.run("while True:\n    wait()")
    assert 0 < len(calls) < limits.CHECK_EVERY


def test_memory_growth_budget_stops_a_growing_run() -> None:
    """Each step is small and allowed; together they grow memory past the budget."""
    code = "blocks = []\nfor i in range(2000):\n    blocks.append(('x' * 10 ** 6) + str(i))"
    with pytest.raises(BudgetExceededError, match="Memory grew by more than 50 MiB") as info:
        run(code, memory_growth_mb=50)
    assert info.value.limit == "memory"


def test_memory_is_measured_from_the_start_of_the_run() -> None:
    interpreter = GuardedInterpreter(budgets=Budgets(memory_growth_mb=60))
    interpreter.run("kept = ['x' * 10 ** 6 + str(i) for i in range(40)]")
    interpreter.run("more = ['y' * 10 ** 6 + str(i) for i in range(40)]")  # 40 MiB each run


def test_output_cap_cuts_printed_text() -> None:
    result = GuardedInterpreter(budgets=Budgets(max_output_chars=10)).run("print('x' * 25)")
    assert result.logs.startswith("x" * 10 + "\n[output cut: 16 more characters]")


def test_sequence_items_limit() -> None:
    assert run("len('ab' * 50)", max_sequence_items=100) == 100
    with pytest.raises(InterpreterError, match="101 items, over the limit of 100"):
        run("n = 101\n[0] * n", max_sequence_items=100)
    assert run("len(range(100))", max_sequence_items=100) == 100
    with pytest.raises(InterpreterError, match="more than 100 items"):
        run("range(101)", max_sequence_items=100)
    with pytest.raises(InterpreterError, match="over the limit"):
        run("bytes(101)", max_sequence_items=100)


def test_int_bits_limit() -> None:
    assert run("(2 ** 99).bit_length()", max_int_bits=100) == 100
    with pytest.raises(InterpreterError, match="bits, over the limit of 100"):
        run("2 ** 101", max_int_bits=100)
    with pytest.raises(InterpreterError, match="bits"):
        run("1 << 101", max_int_bits=100)
    with pytest.raises(InterpreterError, match="bits"):
        run("a = 2 ** 60\na * a", max_int_bits=100)


def test_factorial_limit() -> None:
    assert run("import math\nmath.factorial(20)", max_factorial_arg=20) == 2432902008176640000
    with pytest.raises(InterpreterError, match="over the limit of 20"):
        run("import math\nmath.factorial(21)", max_factorial_arg=20)


def test_format_width_limit() -> None:
    assert run("len(f'{1:>50}')", max_format_width=50) == 50
    with pytest.raises(InterpreterError, match="over the limit of 50"):
        run("w = 51\nf'{1:>{w}}'", max_format_width=50)


def test_idle_operations_limit() -> None:
    interpreter = GuardedInterpreter(budgets=Budgets(max_idle_operations=200))
    spin = interpreter.run("def spin(n):\n    for i in range(n):\n        pass\nspin").output
    spin(150)  # the host may call sandbox functions a little between runs
    with pytest.raises(BudgetExceededError, match="operation budget"):
        spin(100)  # the idle allowance is shared until the next run
    interpreter.run("1")
    spin(150)


def test_small_literal_factors_stay_unguarded_and_correct() -> None:
    assert run(f"x = 7\n(x * {SMALL_FACTOR}, {SMALL_FACTOR} * x, x % 3)") == (
        7 * SMALL_FACTOR,
        SMALL_FACTOR * 7,
        1,
    )
