# ruff: noqa: E501 - the attacks are data: one readable line of source per string
"""Attack class: library functions that read or write attributes (or modules) named by data.

`obj.__globals__` is refused when the code spells it, but `functools.update_wrapper` does the
getattr and setattr itself, in stdlib code, with names the caller passes; `enum.global_enum`
writes into whatever module a class names; decorators like `dataclass`, `typing.final` or
`abc.abstractmethod` set attributes on whatever object they are given.

Why the defence covers the class: every such function in the allowed modules (the list was
made by reading them for setattr, getattr with a variable name, `__dict__` and sys.modules)
is wrapped to follow the two rules the code's own attribute access follows: names it could not
spell are refused (update_wrapper copies only its default attributes, make_dataclass binds
only names a class statement could), and only objects the code made may change
(Guards.check_writable, the same check as `obj.name = v`). Functions that write into another
module (global_enum) are removed. A new function of this kind meets the same two checks once
it is added to wrappers.WRITES_ITS_ARGUMENT.
"""

from __future__ import annotations

import fractions

import pytest
from attack_executors import MODES, executor_fixture

from minexec import SAFE_STDLIB, InterpreterError

executor = pytest.fixture(params=MODES, scope="module")(executor_fixture(SAFE_STDLIB))

ATTACKS = {
    # The reported escape: the real builtins copied into the code's globals, then `open`.
    "update_wrapper(updated=('__globals__',))": (
        "import functools\ndef g():\n    pass\n"
        "functools.update_wrapper(g, functools.total_ordering, assigned=(), updated=('__globals__',))\n"
        "def h():\n    return open\nh()('/etc/hostname').read()"
    ),
    "update_wrapper(assigned=('__globals__',))": (
        "import functools\nclass A:\n    pass\na = A()\n"
        "functools.update_wrapper(a, functools.total_ordering, assigned=('__globals__',), updated=())"
    ),
    "wraps(assigned=...) as a decorator": (
        "import functools\n@functools.wraps(functools.reduce, assigned=('__module__', '__builtins__'))\n"
        "def f():\n    pass"
    ),
    "update_wrapper onto an imported class": (
        "import functools, fractions\ndef f():\n    pass\nfunctools.update_wrapper(fractions.Fraction, f)"
    ),
    "enum.global_enum writes into another module": (
        "import enum\nE = enum.Enum('E', 'GuardsOff', module='minexec.guards')\nenum.global_enum(E)"
    ),
    "dataclass rewrites an imported class": "import dataclasses, fractions\ndataclasses.dataclass(fractions.Fraction)",
    "dataclass(...) rewrites an imported class": "import dataclasses, fractions\ndataclasses.dataclass(eq=False)(fractions.Fraction)",
    "typing.final marks an imported class": "import typing, fractions\ntyping.final(fractions.Fraction)",
    "typing.no_type_check walks an imported class": "import typing, fractions\ntyping.no_type_check(fractions.Fraction)",
    "abstractmethod marks an imported function": "import abc, fractions\nabc.abstractmethod(fractions.Fraction.limit_denominator)",
    "total_ordering adds methods to an imported class": "import functools, fractions\nfunctools.total_ordering(fractions.Fraction)",
    "make_dataclass binds a dunder from a field": "import dataclasses as d\nd.make_dataclass('X', [('__index__', int, d.field(default=len))])",
    "make_dataclass binds a dunder from namespace": "import dataclasses\ndataclasses.make_dataclass('X', [], namespace={'__del__': print})",
    "make_dataclass names another module": "import dataclasses\ndataclasses.make_dataclass('X', ['a'], module='minexec.guards')",
}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attribute_names_as_data_are_refused(executor: object, name: str) -> None:
    with pytest.raises(InterpreterError, match="not allowed|not available|may copy only"):
        executor.run(ATTACKS[name])  # type: ignore[attr-defined]
    assert executor.run("1 + 1").output == 2  # type: ignore[attr-defined]


def test_the_host_classes_are_untouched_after_the_attacks(executor: object) -> None:
    for code in ATTACKS.values():
        try:
            executor.run(code)  # type: ignore[attr-defined]
        except InterpreterError:
            pass
    assert "__final__" not in vars(fractions.Fraction)
    assert "__wrapped__" not in vars(fractions.Fraction)
    assert "__dataclass_fields__" not in vars(fractions.Fraction)


def test_the_same_functions_work_on_what_the_code_made(executor: object) -> None:
    code = (
        "import functools, dataclasses, typing, abc\n"
        "def deco(f):\n    @functools.wraps(f)\n    def inner(*a):\n        return f(*a) + 1\n    return inner\n"
        "@deco\ndef two():\n    '''Two.'''\n    return 1\n"
        "@dataclasses.dataclass(order=True)\nclass P:\n    x: int\n    y: int = 0\n"
        "@functools.total_ordering\nclass V:\n    def __init__(self, v):\n        self.v = v\n"
        "    def __eq__(self, o):\n        return self.v == o.v\n    def __lt__(self, o):\n        return self.v < o.v\n"
        "@typing.final\nclass F:\n    pass\n"
        "class Shape(abc.ABC):\n    @abc.abstractmethod\n    def area(self):\n        pass\n"
        "Q = dataclasses.make_dataclass('Q', ['a', ('b', int, dataclasses.field(default=2))])\n"
        "q = Q(1)\nq.a = 5\n"
        "(two(), two.__name__, two.__doc__, P(1) < P(2), V(3) >= V(2), q.a + q.b)"
    )
    assert executor.run(code).output == (2, "two", "Two.", True, True, 7)  # type: ignore[attr-defined]
