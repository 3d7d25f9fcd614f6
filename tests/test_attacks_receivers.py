# ruff: noqa: E501 - the attacks are data: one readable line of source per string
"""Attack class: reaching a guarded str/bytes/int method through a receiver the guard misses.

`s.format`, `s.ljust`, `s.replace`, `n.to_bytes` are guarded because they walk attributes in
C (`"{0.__globals__}".format(f)`) or allocate what their arguments ask for. The guards used to
decide by `isinstance(obj, str)` on the object the attribute was read from, so a `super(S, s)`
proxy of a str subclass, or `collections.UserString` (whose Python methods call the real ones
from stdlib code), handed out the real method.

Why the defence covers the class: the guard now looks at the method it is about to hand out,
and at the object that method is bound to (`value.__self__`, or `__objclass__` when unbound),
whatever the object the code read it from. Any proxy, alias or subclass that ends at the real
str.format ends at the guarded one. Stdlib classes that forward to those methods from their
own Python code (UserString, UserList) are not handed out at all.
"""

from __future__ import annotations

import pytest
from attack_executors import MODES, executor_fixture

from minexec import SAFE_STDLIB, InterpreterError

executor = pytest.fixture(params=MODES, scope="module")(executor_fixture(SAFE_STDLIB))

S = "class S(str):\n    pass\ns = S('{0.__globals__[importlib].sys.modules[os].environ}')\n"
B = "class B(bytes):\n    pass\nb = B(b'x')\n"
N = "class I(int):\n    pass\ni = I(1)\n"

ATTACKS = {
    "super(S, s).format walks attributes": S + "super(S, s).format(print)",
    "super(S, s).format_map walks attributes": S + "super(S, s).format_map({'0': print})",
    "getattr(super(...), 'format')": S + "getattr(super(S, s), 'format')(print)",
    "super(S, S).format unbound": S + "super(S, S).format(s, print)",
    "super(S, s).ljust allocates": "class S(str):\n    pass\ns = S('x')\nsuper(S, s).ljust(10 ** 10)",
    "super(S, s).replace multiplies": "class S(str):\n    pass\ns = S('x' * 1000)\nsuper(S, s).replace('', 'y' * 10 ** 5)",
    "super(B, b).center allocates": B + "super(B, b).center(10 ** 10)",
    "super(I, i).to_bytes allocates": N + "super(I, i).to_bytes(10 ** 10, 'big')",
    "UserString.format walks attributes": "import collections\ncollections.UserString('{0.__globals__}').format(print)",
    "UserList repetition": "import collections\ncollections.UserList([0] * 1000) * 10 ** 6",
    "deque repetition": "import collections\ncollections.deque([0] * 1000) * 10 ** 6",
    "deque in-place repetition": "import collections\nd = collections.deque([0] * 1000)\nn = 10 ** 6\nd *= n",
}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_the_real_method_is_guarded_whatever_the_receiver(executor: object, name: str) -> None:
    with pytest.raises(InterpreterError, match="not allowed|over the limit|not available"):
        executor.run(ATTACKS[name])  # type: ignore[attr-defined]


def test_ordinary_subclass_methods_still_work(executor: object) -> None:
    code = (
        "class S(str):\n    def shout(self):\n        return self.upper() + '!'\n"
        "class T(str):\n    def format(self, *a):\n        return 'own'\n"
        "s = S('{}-{}')\n"
        "(super(S, s).format(1, 2), s.shout(), S('ab').ljust(4, '.'), T('x').format(), str.format('{}', 3))"
    )
    assert executor.run(code).output == ("1-2", "{}-{}!", "ab..", "own", "3")  # type: ignore[attr-defined]
