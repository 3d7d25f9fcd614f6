# ruff: noqa: E501 - the attacks are data: one readable line of source per string
"""Attack class: make a counter hold something other than an int.

Inside `for i in range(n)` the rewriter leaves `i * 3`, `i + j`, `i % 7` and `f"{i}"` without
guards (minexec/rewrite.py, Counters). Every attack here puts a big list or string where the
rewriter expects the int, then multiplies or formats it: 10**5 items times 200 is twice the
item limit, so a guard refuses it, and an attack that gets through fails the test instead of
the machine.

Why the defence covers the class: a name can only change by a binding of it. Bindings in the
loop body itself (of any kind, in any nested scope) make the rewriter keep the guards; every
binding from elsewhere needs `global`, `nonlocal` or `:=`, and any name so marked, by this run
or by any run before it in the same interpreter, is never a counter. Code that runs later
than the loop body (defs, lambdas, classes, generator expressions inside it) sees no counters.
And the int itself comes from `range` only through `__mg_count__`, which checks every item of
anything the code has named `range`.
"""

from __future__ import annotations

import ast

import pytest
from attack_executors import MODES, make_executor

from minexec import Budgets, GuardedInterpreter, InterpreterError
from minexec.rewrite import Rewriter

REFUSED = "over the limit|not the builtin"

ONE_RUN = {
    "a function that declares it global": "big = [0] * 10 ** 5\ndef swap():\n    global i\n    i = big\nfor i in range(2):\n    swap()\n    x = i * 200",
    "a closure that declares it nonlocal": "def outer():\n    big = [0] * 10 ** 5\n    def swap():\n        nonlocal i\n        i = big\n    for i in range(2):\n        swap()\n        x = i * 200\n    return x\nouter()",
    "a generator that assigns it with :=": "big = [0] * 10 ** 5\ng = ((i := big) for _ in range(5))\nfor i in range(2):\n    next(g)\n    x = i * 200",
    "range rebound": "range = lambda n: [[0] * 10 ** 5] * n\nfor i in range(2):\n    x = i * 200",
    "range rebound, in a comprehension": "range = lambda n: [[0] * 10 ** 5] * n\n[i * 200 for i in range(2)]",
    "range rebound to a generator of lists": "def range(n):\n    yield [[0] * 10 ** 5] * 200\nfor i in range(2):\n    x = f'{i}'",
    "assigned in the body": "big = [0] * 10 ** 5\nfor i in range(2):\n    i = big\n    x = i * 200",
    "assigned in the body with :=": "big = [0] * 10 ** 5\nfor i in range(2):\n    if (i := big):\n        x = i * 200",
    "a nested loop over a list": "big = [0] * 10 ** 5\nfor i in range(2):\n    for i in [big]:\n        pass\n    x = i * 200",
    "a match capture": "big = [0] * 10 ** 5\nfor i in range(2):\n    match big:\n        case i:\n            x = i * 200",
    "a with target": "big = [0] * 10 ** 5\nimport contextlib\nfor i in range(2):\n    with contextlib.nullcontext(big) as i:\n        x = i * 200",
    "a comprehension in the body that rebinds with :=": "big = [0] * 10 ** 5\nfor i in range(2):\n    [(i := big) for _ in 'a']\n    x = i * 200",
    "a genexp in the body, run after the loop": "big = [0] * 10 ** 5\nfor i in range(1):\n    g = (i * 200 for _ in 'a')\ni = big\nnext(g)",
    "a lambda in the body, run after the loop": "big = [0] * 10 ** 5\nfor i in range(1):\n    f = lambda: i * 200\ni = big\nf()",
    "a def in the body, run after the loop": "big = [0] * 10 ** 5\nfor i in range(1):\n    def f():\n        return i * 200\ni = big\nf()",
    "a text field after the loop": "s = 'x' * 10 ** 5\nl = [s] * 200\nfor i in range(1):\n    pass\ni = l\nf'{i}'",
    "a comprehension that binds it twice": "big = [0] * 10 ** 5\n[x * 200 for x in range(2) for x in [big]]",
    "a nested comprehension of its own": "big = [0] * 10 ** 5\n[[x * 200 for x in [big]] for x in range(2)]",
    "a comprehension in a counted loop": "big = [0] * 10 ** 5\nfor x in range(2):\n    y = [x * 200 for x in [big]]",
}

TWO_RUNS = {
    "a function from an earlier run that declares it global": (
        "big = [0] * 10 ** 5\ndef swap():\n    global i\n    i = big",
        "for i in range(2):\n    swap()\n    x = i * 200",
    ),
    "a generator from an earlier run that assigns it with :=": (
        "big = [0] * 10 ** 5\ng = ((i := big) for _ in range(5))",
        "for i in range(2):\n    next(g)\n    x = i * 200",
    ),
    "range rebound after a function with a counted loop": (
        "def f():\n    for i in range(2):\n        x = i * 200\n    return x",
        "range = lambda n: [[0] * 10 ** 5] * n\nf()",
    ),
}


@pytest.mark.parametrize("name", list(ONE_RUN))
def test_a_counter_cannot_be_made_a_sequence(name: str) -> None:
    with pytest.raises(InterpreterError, match=REFUSED):
        GuardedInterpreter(["contextlib"], budgets=Budgets(timeout=20)).run(ONE_RUN[name])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list(TWO_RUNS))
def test_a_counter_cannot_be_made_a_sequence_by_an_earlier_run(mode: str, name: str) -> None:
    executor = make_executor(mode, ["contextlib"])
    try:
        first, second = TWO_RUNS[name]
        executor.run(first)  # type: ignore[attr-defined]
        with pytest.raises(InterpreterError, match=REFUSED):
            executor.run(second)  # type: ignore[attr-defined]
    finally:
        executor.close()  # type: ignore[attr-defined]


def rewritten(code: str, shared: tuple[str, ...] = ()) -> str:
    return ast.unparse(Rewriter(shared).visit(ast.parse(code)))


@pytest.mark.parametrize(
    "code",
    [
        "for i in range(9):\n    x = i * i * i",  # a product of a product: doubling bits each time
        "for i in range(9):\n    x = i ** 2",
        "for i in range(9):\n    x = i << i",
        "for i in range(9):\n    x = i % i",  # not a small literal divisor: division by size
        "for i in range(9):\n    x = i * y",
        "for i in range(9):\n    x = f'{y}{y}{i}'",
        "for i in range(9):\n    pass\nelse:\n    x = i * 3",  # the loop may not have run
        "for i in range(9):\n    class C:\n        x = i * 3",
        "for i in range(9):\n    def f(i=i * 3):\n        pass",
    ],
)
def test_guards_stay_where_a_counter_does_not_make_them_safe(code: str) -> None:
    assert "__mg_" in rewritten(code).split("\n", 1)[1]


def test_a_shared_name_is_never_a_counter() -> None:
    assert "__mg_mul__" in rewritten("for i in range(9):\n    x = i * j", shared=("i",))
    assert "__mg_mul__" not in rewritten("for i in range(9):\n    x = i * i", shared=("j",))


def test_counters_need_no_guards() -> None:
    code = (
        "for i in range(9):\n"
        "    for j in range(i * i, 99, i + 1):\n"
        "        x = (i * j + j % 7 - i // 2) & 3\n"
        "        s = f'{i}:{-j}{i * j}' + 'x'\n        n = str(i * j)\n"
        "t = [[x * y for y in range(x)] for x in range(5) if x % 2]\n"
        "u = {k: k * k for k in range(3)}"
    )
    lines = rewritten(code).splitlines()
    assert [line for line in lines if "__mg_" in line and "__mg_count__" not in line] == []


def test_counted_loops_compute_what_python_computes() -> None:
    code = (
        "total, parts = 0, []\n"
        "for i in range(-50, 50, 3):\n"
        "    total += i * i % 7 - i // 4 + (i ^ 5) + (-i >> 1)\n"
        "    parts.append(f'{i}:{i % 7}')\n"
        "rows = [[x * y for y in range(x)] for x in range(6) if x % 2]\n"
        "big = [k * k for k in range(2 ** 70, 2 ** 70 + 2)]\n"
        "(total, ','.join(parts), rows, big, {k: str(k * 3) for k in range(3)})"
    )
    namespace: dict = {}
    *body, last = code.splitlines()
    exec("\n".join(body), namespace)
    assert GuardedInterpreter().run(code).output == eval(last, namespace)


def test_a_rebound_range_that_gives_ints_still_works() -> None:
    code = "def range(n):\n    return [2, 3]\nx = [i * i for i in range(5)]\nfor i in range(5):\n    x.append(f'{i}')\nx"
    assert GuardedInterpreter().run(code).output == [4, 9, "2", "3"]


def test_a_counter_is_at_most_half_the_int_limit() -> None:
    """`i * i` of a counter is unguarded, so a counter has at most half max_int_bits."""
    interpreter = GuardedInterpreter(budgets=Budgets(max_int_bits=1000))
    assert interpreter.run("[i * i for i in range(2 ** 499, 2 ** 499 + 2)][0] == 4 ** 499").output
    with pytest.raises(InterpreterError, match="more than 500 bits"):
        interpreter.run("for i in range(2 ** 501, 2 ** 501 + 2):\n    x = i * i")
    with pytest.raises(InterpreterError, match="more than 500 bits"):
        interpreter.run("def range(n):\n    return [2 ** 600]\n[i * i for i in range(1)]")


def test_a_loop_over_a_rebound_range_that_makes_no_counter_is_not_checked() -> None:
    code = "def range(n):\n    return [(1, 2)]\nfor a, b in range(1):\n    pass\n[a + b for a, b in range(1)]"
    assert GuardedInterpreter().run(code).output == [3]
