# ruff: noqa: E501 - the attacks are data: one readable line of source per string
"""Attack class: changing state the in-process host shares with the code.

The GuardedInterpreter runs in the host's thread with the host's modules, so any process-wide
state the code can change is changed for the host and every later interpreter: an ABC
registration (`typing.Sequence.register(int)`), the copy/pickle dispatch table, the thread's
decimal context, the seed of the shared random generator, a Tool object.

Why the defence covers the class: writes follow one rule, whatever the door (an attribute,
setattr(), a decorator, a typing alias that writes through to collections.abc): only objects
the code made may change (Guards.check_writable). State that the code must be able to use is
made its own instead of shared (hoststate.py): module functions bound to a shared hidden
instance are rebound to the interpreter's own, each run gets a private decimal context,
module-level containers are read-only views, and tools are handed out as closures. These
apply to the in-process executor; a child process has no host state to share.
"""

from __future__ import annotations

import collections.abc
import copyreg
import decimal
import random

import pytest

from minagent.tools import tool
from minexec import SAFE_STDLIB, GuardedInterpreter, InterpreterError


@tool
def search(query: str) -> str:
    """Search the web.

    Args:
        query: what to look for.
    """
    return f"results for {query}"


@pytest.fixture
def interpreter() -> GuardedInterpreter:
    return GuardedInterpreter(SAFE_STDLIB, tools={"search": search})


REFUSED = {
    "typing.Sequence.register(int)": "import typing\ntyping.Sequence.register(int)",
    "typing.Sequence.count = ... writes through to collections.abc": "import typing\ntyping.Sequence.count = 5",
    "setattr on a typing alias": "import typing\nsetattr(typing.Sized, 'extra', 1)",
    "copy.dispatch_table[int] = ...": "import copy\ncopy.dispatch_table[int] = print",
    "a tool's function replaced": "search.fn = print",
    "a tool's attribute deleted": "del search.name",
    "decimal precision past the limit": "import decimal\ndecimal.getcontext().prec = 10 ** 9",
    "decimal.Context(prec=...) past the limit": "import decimal\ndecimal.Context(prec=10 ** 9)",
    "type(context)(Emax=...) past the limit": "import decimal\ntype(decimal.getcontext())(Emax=10 ** 12)",
    "decimal.localcontext(prec=...) past the limit": "import decimal\nwith decimal.localcontext(prec=10 ** 9):\n    pass",
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_shared_state_cannot_be_changed(interpreter: GuardedInterpreter, name: str) -> None:
    with pytest.raises(InterpreterError, match="not allowed|does not support|over the limit"):
        interpreter.run(REFUSED[name])
    assert not isinstance(1, collections.abc.Sequence)
    assert int not in copyreg.dispatch_table
    assert search.fn is not print and search.name == "search"
    assert decimal.getcontext().prec == 28


def test_the_decimal_context_is_the_runs_own(interpreter: GuardedInterpreter) -> None:
    before = decimal.getcontext()
    code = (
        "import decimal\ndecimal.getcontext().prec = 50\nx = decimal.Decimal(1) / 3\n"
        "decimal.setcontext(decimal.Context(prec=3))\ndecimal.DefaultContext.prec = 2\n"
        "(len(str(x)), decimal.getcontext().prec)"
    )
    assert interpreter.run(code).output == (52, 3)
    assert decimal.getcontext() is before and before.prec == 28
    assert decimal.DefaultContext.prec == 28


def test_random_seed_seeds_the_interpreters_own_generator(interpreter: GuardedInterpreter) -> None:
    state = random.getstate()
    first = interpreter.run(
        "import random\nrandom.seed(7)\n[random.random(), random.randint(1, 9)]"
    ).output
    assert random.getstate() == state
    again = GuardedInterpreter(["random"]).run(
        "import random\nrandom.seed(7)\n[random.random(), random.randint(1, 9)]"
    )
    assert first == again.output  # seeding is still reproducible inside


def test_tools_still_work_as_functions(interpreter: GuardedInterpreter) -> None:
    assert (
        interpreter.run("search('cats') + ' / ' + search.__name__").output
        == "results for cats / search"
    )
