# ruff: noqa: E501 - the attacks are data: one readable line of source per string
"""Attack class: one C call (or a few) that builds a huge value or runs for hours.

No Python-level guard runs while CPython is inside C code, and no in-process check can cap
total memory; so every C-level amplifier the code can reach carries its own budget, checked
before the call (or, for repeated steps like re.sub's replacements, as it goes).

Why the defence covers the class: the budgets are on the amplifying operation, not on a
spelling of it. Repetition is checked for every `*` (an int literal no longer exempts it; only
two loop counters, ints by proof, multiply unchecked: see test_attacks_counters.py) and
every sequence type with C repetition (str, bytes, list, tuple, deque); concatenation for
every `+` of two sequences (and `extend`, operator.add, `[*xs, *xs]`, and formatting:
f-strings, `%`, str.format, sized once built, so no step more than doubles); division by the product of the operands' bit lengths, wherever
it happens (`%`, `//`, divmod, gcd), so a big int from any door (int(s, 16), from_bytes)
cannot stall it; powers by the result's size for ints and fractions and by the work for
pow(a, b, m); regexes by their parsed shape, with their flags; templates and padding by the
size of what they expand to. Text is estimated before it is built wherever the code or the host turns a value into text
(print, repr, str(x), f-strings, `%`, str.format, json.dumps, the run's output), counting
each repeated reference. The value that was checked is the value that is used, so an
`__index__` that answers differently the second time changes nothing. And sandbox code the
host calls between runs (a `__repr__`) has a time budget as well as an operation budget.
What no single amplifier shows, total memory, the watchdog measures, and every sequence
allocation stops at once when it has seen the budget pass.
"""

from __future__ import annotations

import time
from fractions import Fraction

import pytest
from attack_executors import MODES, executor_fixture

from minexec import SAFE_STDLIB, Budgets, GuardedInterpreter, InterpreterError

executor = pytest.fixture(params=MODES, scope="module")(executor_fixture(SAFE_STDLIB))

REFUSED = "over the limit|too long|exponential time|operation budget"

ATTACKS = {
    # sequences
    "a literal small factor on a huge sequence": "s = 'x' * 10 ** 6\ns * 1000",
    "a literal small factor on the left": "s = [0] * 10 ** 6\n1000 * s",
    "doubling in a short loop": "s = 'ab'\nfor i in range(40):\n    s = s + s",
    "in-place doubling of a list": "l = [0]\nfor i in range(40):\n    l += l",
    "doubling by extend": "l = [0]\nfor i in range(40):\n    l.extend(l)",
    "doubling a bytearray by extend": "b = bytearray(b'x')\nfor i in range(40):\n    b.extend(b)",
    "doubling a deque by extend": "import collections\nd = collections.deque([0])\nfor i in range(40):\n    d.extend(d)",
    "doubling by operator.add": "import operator\ns = 'ab'\nfor i in range(40):\n    s = operator.add(s, s)",
    "doubling by operator.iadd": "import operator\nl = [0]\nfor i in range(40):\n    l = operator.iadd(l, l)",
    "doubling by unpacking": "l = [0]\nfor i in range(40):\n    l = [*l, *l]",
    "doubling a tuple by unpacking": "t = (0,)\nfor i in range(40):\n    t = (*t, *t)",
    "doubling by an f-string": "s = 'ab'\nfor i in range(40):\n    s = f'{s}{s}'",
    "doubling by %-formatting": "s = 'ab'\nfor i in range(40):\n    s = '%s%s' % (s, s)",
    "doubling by str.format": "s = 'ab'\nfor i in range(40):\n    s = '{}{}'.format(s, s)",
    "expandtabs": "('\\t' * 10 ** 6).expandtabs(10 ** 4)",
    "json.dumps separators": "import json\njson.dumps(list(range(10 ** 5)), separators=(',' * 10 ** 5, ':'))",
    "textwrap.indent": "import textwrap\ntextwrap.indent('\\n' * 10 ** 6, 'x' * 100)",
    "NFKD normalisation": "import unicodedata\nunicodedata.normalize('NFKD', '\\ufdfa' * 10 ** 6)",
    "statistics.quantiles(n=10**8)": "import statistics\nstatistics.quantiles([1, 2, 3], n=10 ** 8)",
    "Counter.elements": "import collections\nlen(list(collections.Counter(a=10 ** 12).elements()))",
    # text of aliased data: a thousand references to one long string
    "print of aliased text": "s = 'x' * 10 ** 5\nprint([s] * 1000)",
    "repr of aliased text": "s = 'x' * 10 ** 5\nt = repr([s] * 1000)",
    "str of aliased text": "s = 'x' * 10 ** 5\nt = str({'k': [s] * 1000})",
    "an f-string field of aliased text": "s = 'x' * 10 ** 5\nt = f'{[s] * 1000}'",
    "a %-argument of aliased text": "s = 'x' * 10 ** 5\nt = '%s' % ([s] * 1000,)",
    "a str.format argument of aliased text": "s = 'x' * 10 ** 5\nt = '{}'.format([s] * 1000)",
    "json.dumps of aliased text": "import json\ns = 'x' * 10 ** 5\nt = json.dumps([s] * 1000)",
    "the run's output, shown by the host": "s = 'x' * 10 ** 5\n[[s] * 100] * 10",
    # regular expressions
    "compiled-regex sub": "import re\np = re.compile('x')\np.sub('y' * 10 ** 4, 'x' * 10 ** 5)",
    "a group-reference template": "import re\nre.sub('a+', '\\\\g<0>' * 10 ** 4, 'a' * 10 ** 4)",
    "Match.expand": "import re\nm = re.match('a+', 'a' * 10 ** 4)\nm.expand('\\\\g<0>' * 10 ** 4)",
    "alternation (a|a)+$": "import re\nre.match('(a|a)+$', 'a' * 40 + 'b')",
    "alternation (a|ab)+$": "import re\nre.match('(a|ab)+$', 'a' * 40 + 'c')",
    "counted repeats": "import re\nre.match('(a{1,30}){1,30}$', 'a' * 60 + 'b')",
    "(.*a){12}$": "import re\nre.match('(.*a){12}$', 'a' * 40)",
    "re.X positional flag": "import re\nre.search(' ( a + ) + $', 'a' * 40 + 'b', re.X)",
    "re.X in compile": "import re\nre.compile(' ( a + ) + $', re.X)",
    "inline (?x)": "import re\nre.match('(?x) ( a + ) + $', 'a' * 40 + 'b')",
    "atomic group around a nest": "import re\nre.match('(?>(a+)+)b', 'a' * 40)",
    "overlapping repeats side by side": "import re\nre.search('a*' * 12 + 'c', 'a' * 60)",
    "four overlapping .* in a row": "import re\nre.search('(.*)a(.*)b(.*)c(.*)d', 'abc' * 1000)",
    "a nest in a conditional": "import re\nre.match('(x)?(?(1)y|(a+)+)$', 'a' * 40 + 'b')",
    # numbers
    "int.from_bytes": "int.from_bytes(b'\\xff' * 10 ** 7, 'big')",
    "big-int % from int(s, 16)": "a = int('f' * 10 ** 6, 16)\nb = a >> 1\na % b",
    "big-int // from int(s, 16)": "a = int('f' * 10 ** 6, 16)\nb = a >> 1\na // b",
    "big-int divmod": "a = int('f' * 10 ** 6, 16)\ndivmod(a, a >> 1)",
    "big-int gcd": "import math\na = int('f' * 10 ** 6, 16)\nmath.gcd(a, a >> 1)",
    "Fraction power": "from fractions import Fraction\nFraction(10 ** 5, 3) ** 10 ** 6",
    "Fraction to a negative power": "from fractions import Fraction\nFraction(10 ** 5, 3) ** -(10 ** 6)",
    "Fraction squaring": "from fractions import Fraction\nf = Fraction(3, 7)\nfor i in range(40):\n    f = f * f",
    "three-argument pow": "pow(3, 2 ** 10 ** 6 - 1, 2 ** 10 ** 6 + 1)",
    "math.lcm(*range(...))": "import math\nmath.lcm(*range(1, 10 ** 6))",
    "a Decimal with a huge exponent": "import decimal\nint(decimal.Decimal('1e999999999'))",
    "a Decimal from a tuple": "import decimal\ndecimal.Decimal((0, (1,), 10 ** 9))",
    "a Decimal context with a huge precision": "import decimal\ndecimal.getcontext().prec = 10 ** 9",
}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_amplifiers_are_budgeted(executor: object, name: str) -> None:
    with pytest.raises(InterpreterError, match=REFUSED):
        executor.run(ATTACKS[name])  # type: ignore[attr-defined]


class Liar:
    """An `__index__` that answers 1 to the check and 10**10 afterwards. The code cannot
    define one (class statements, make_dataclass and enum's functional API refuse the
    name), so the host hands it in, as a tool's return value could."""

    def __init__(self) -> None:
        self.calls = 0

    def __index__(self) -> int:
        self.calls += 1
        return 1 if self.calls == 1 else 10**10


@pytest.mark.parametrize(
    "code",
    ["len([0] * n)", "len('ab'.ljust(n))", "len(bytes(n))", "len(range(n))", "len(n * 'ab')"],
)
def test_what_was_checked_is_what_is_used(code: str) -> None:
    interpreter = GuardedInterpreter()
    interpreter.state["n"] = Liar()
    assert interpreter.run(code).output <= 2


def test_ordinary_arithmetic_and_text_still_work(executor: object) -> None:
    code = (
        "import re, math, json, textwrap\nfrom fractions import Fraction\n"
        "x = 7\nx *= 3\nl = [1]\nm = l\nl += [2]\nl *= 2\n"
        "(x, m, 'ab' * 3, 2 * [0], 10 ** 20 // 7 % 1000, divmod(17, 5), pow(3, 200, 1000),"
        " Fraction(1, 3) ** 5, math.lcm(4, 6), re.sub('(a)', '<\\\\1>', 'banana'),"
        " re.compile('(\\\\d{1,3}\\\\.){3}\\\\d{1,3}').match('10.0.0.1').group(), json.dumps([1, 2], separators=(',', ':')),"
        " textwrap.indent('a\\nb', '> '), 'a\\tb'.expandtabs(4))"
    )
    assert executor.run(code).output == (  # type: ignore[attr-defined]
        21,
        [1, 2, 1, 2],
        "ababab",
        [0, 0],
        10**20 // 7 % 1000,
        (3, 2),
        pow(3, 200, 1000),
        Fraction(1, 243),
        12,
        "b<a>n<a>n<a>",
        "10.0.0.1",
        "[1,2]",
        "> a\n> b",
        "a   b",
    )


def test_a_repr_the_host_calls_later_has_a_time_budget() -> None:
    """The host shows the output after the run: the code's __repr__ runs then, outside the
    run's clock; each step is cheap in operations but slow (a sleep stands for slow C work)."""
    interpreter = GuardedInterpreter(["time"], budgets=Budgets(idle_timeout=0.3))
    slow = interpreter.run(
        "import time\nclass Slow:\n    def __repr__(self):\n        while True:\n"
        "            time.sleep(0.05)\nSlow()"
    ).output
    with pytest.raises(InterpreterError, match="time limit of 0.3 seconds"):
        repr(slow)
    assert interpreter.run("1 + 1").output == 2


def test_each_later_call_from_the_host_gets_its_own_time() -> None:
    """The idle clock is per call: a __repr__ shown again long after the first is not late."""
    interpreter = GuardedInterpreter(budgets=Budgets(idle_timeout=0.2))
    shown = interpreter.run(
        "class Shown:\n    def __repr__(self):\n        return 'shown'\nShown()"
    ).output
    assert repr(shown) == "shown"
    time.sleep(0.5)  # the host does other work
    assert repr(shown) == "shown"


def test_big_allocations_stop_as_soon_as_memory_is_over_budget() -> None:
    """A `for` loop pays for its iterations in batches of 32, so the memory budget would be
    seen only every 32 allocations; each sequence allocation checks it too. The sleep makes
    each step last long enough for the watchdog to look, on any machine."""
    interpreter = GuardedInterpreter(["time"], budgets=Budgets(memory_growth_mb=50))
    code = "import time\nkeep = []\nfor i in range(31):\n    keep.append([i] * 10 ** 6)\n    time.sleep(0.02)"
    with pytest.raises(InterpreterError, match="Memory grew by more than 50 MiB"):
        interpreter.run(code)
