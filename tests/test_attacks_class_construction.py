# ruff: noqa: E501 - the attacks are data: one readable line of source per string
"""Attack class: building a class from a dict, outside the checked class statement.

A class statement is validated (no `__del__`, `__getattribute__`, `__index__`, no metaclass);
a namespace dict passed to a metaclass is not. `type(name, bases, dict)` was refused, but the
same call was reachable through `typing.get_origin(typing.Type[int])` (the real `type`),
`abc.ABCMeta(...)`, `type(SomeEnum)(...)`, a class statement whose base resolves to `type`
(`class M(typing.Type)`), `dataclasses.make_dataclass(namespace=...)`, and enum's functional
API (`Enum("E", [("__index__", f)])`).

Why the defence covers the class: every class is built by a metaclass, so the code never
holds a real metaclass. Wherever one reaches it (a module attribute, `type(x)`,
typing.get_origin/get_args), it gets a stand-in that answers isinstance the same way but
refuses the three-argument call; a class statement that would define a metaclass is refused;
make_dataclass binds only names a class statement could (see test_attacks_names_as_data);
the enum base classes the code gets check the functional API's names the same way
(enums.py).
"""

from __future__ import annotations

import pytest
from attack_executors import MODES, executor_fixture

from minexec import SAFE_STDLIB, InterpreterError

executor = pytest.fixture(params=MODES, scope="module")(executor_fixture(SAFE_STDLIB))

ATTACKS = {
    "typing.get_origin(typing.Type[int]) is type": "import typing\nT = typing.get_origin(typing.Type[int])\nT('X', (), {'__del__': print})",
    "typing.get_args hands back type": "import typing\nT = typing.get_args(typing.Union[int, typing.Type])[1]\nT = typing.get_origin(T)\nT('X', (), {})",
    "abc.ABCMeta(name, bases, namespace)": "import abc\nabc.ABCMeta('X', (), {'__getattribute__': print})",
    "type(an ABC) is ABCMeta": "import abc\nclass A(abc.ABC):\n    pass\ntype(A)('X', (), {'__del__': print})",
    "type(an Enum) is EnumType": "import enum\nclass E(enum.Enum):\n    A = 1\ntype(E)('X', (), {})",
    "enum.EnumMeta from the module": "import enum\nenum.EnumMeta('X', (), {})",
    "type(type) is type": "type(type)('X', (), {'__index__': len})",
    "a class statement that subclasses type": "import typing\nclass M(typing.Type):\n    pass\nM('X', (), {'__del__': print})",
    "a subclass of a stand-in": "import abc\nclass M(abc.ABCMeta):\n    pass",
    "enum's functional API with a dunder member": "import enum\nenum.Enum('E', [('__index__', len), ('A', 1)])",
    "the functional API through a subclass": "import enum\nclass Base(enum.IntEnum):\n    pass\nBase('E', {'__del__': print})",
}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_classes_cannot_be_built_from_a_dict(executor: object, name: str) -> None:
    with pytest.raises(InterpreterError, match="not allowed"):
        executor.run(ATTACKS[name])  # type: ignore[attr-defined]


def test_enums_work_as_before(executor: object) -> None:
    code = (
        "import enum, re\nclass Color(enum.Enum):\n    RED = 1\n    GREEN = enum.auto()\n"
        "class Perm(enum.IntFlag):\n    R = 4\n    W = 2\n"
        "Shape = enum.Enum('Shape', 'SQUARE CIRCLE')\n"
        "(Color(2).name, int(Perm.R | Perm.W), Shape.CIRCLE.value, isinstance(re.I, enum.Flag),"
        " isinstance(Color.RED, enum.Enum), [c.name for c in Color])"
    )
    assert executor.run(code).output == ("GREEN", 6, 2, True, True, ["RED", "GREEN"])  # type: ignore[attr-defined]


def test_metaclass_stand_ins_still_answer_isinstance(executor: object) -> None:
    code = (
        "import abc, enum, typing\nclass A(abc.ABC):\n    pass\nclass E(enum.Enum):\n    X = 1\n"
        "(isinstance(A, abc.ABCMeta), isinstance(E, enum.EnumMeta), type(A) is abc.ABCMeta,"
        " type(3) is int, type(type) is type, typing.get_origin(list[int]) is list)"
    )
    assert executor.run(code).output == (True, True, True, True, True, True)  # type: ignore[attr-defined]
