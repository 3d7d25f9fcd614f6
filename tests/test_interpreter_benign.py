# ruff: noqa: E501 - the programs are data: one readable line of source per string
"""Benign, agent-style programs: the interpreter must give the same value as plain exec.

Plain `exec` is the oracle: each program runs under both, and the value of its last expression
(and what it printed) must match.
"""

from __future__ import annotations

import ast
import contextlib
import io
from collections.abc import Iterator

import pytest

from minexec import SAFE_STDLIB, GuardedInterpreter, InterpreterError, ProcessInterpreter

PROGRAMS = {
    "arithmetic": "(7 + 3) * 2 - 5 / 2 + 7 // 2 + 7 % 3 + 2 ** 10 + (-3) ** 3",
    "float formatting": "f'{3.14159:.2f} {1234567:,} {0.5:%} {42:08b} {7!r:>4}'",
    "nested fstring spec": "width = 8\nf'{\"hi\":>{width}}|{3.5:{width}.2f}|'",
    "percent format": "'%s has %d items (%.1f%%)' % ('cart', 3, 42.5)",
    "str.format": "'{} + {} = {total}'.format(1, 2, total=3) + '{0[1]}'.format([5, 6])",
    "format_map": "'{name} is {age}'.format_map({'name': 'Ann', 'age': 7})",
    "string methods": "s = ' Hello, World '\n[s.strip().lower(), s.split(','), s.center(20, '*')]",
    "unpacking": "a, (b, *c), d = 1, (2, 3, 4), 5\nfirst, *rest = 'xyz'\n(a, b, c, d, first, rest)",
    "augmented assignment": "x = 5\nx += 3\nx *= 4\nx -= 1\nx //= 2\nx **= 2\nx <<= 1\nx %= 1000\nx",
    "augmented subscript": "d = {'a': 2}\nd['a'] *= 21\nl = [1, 2]\nl[0] += 5\n(d, l)",
    "augmented nested targets": (
        "m = [[1, 2], [3, 4]]\nk = 3\nm[0][1] *= k\nm[1][0] **= k\nm[len(m) - 1][1] %= k\n"
        "l = [1, 2, 3]\nl[0:2] *= k\nclass C:\n    pass\nc = C()\nc.v = 'ab'\nc.v *= k\n"
        "c.n = 2\nc.n <<= k\n(m, l, c.v, c.n)"
    ),
    "chained comparison": "[1 < 2 < 3, 3 > 2 >= 2, 1 == 1.0 != 2, 'a' in 'abc', 4 not in [1]]",
    "conditional expression": "['even' if n % 2 == 0 else 'odd' for n in range(5)]",
    "if elif else": (
        "def grade(s):\n    if s >= 90:\n        return 'A'\n    elif s >= 80:\n"
        "        return 'B'\n    else:\n        return 'C'\n[grade(x) for x in (95, 85, 50)]"
    ),
    "for else break continue": (
        "found = None\nfor n in range(2, 50):\n    if n % 7:\n        continue\n"
        "    found = n\n    break\nelse:\n    found = -1\nfound"
    ),
    "while loop": "n, steps = 27, 0\nwhile n != 1:\n    n = n // 2 if n % 2 == 0 else 3 * n + 1\n"
    "    steps += 1\nsteps",
    "while break continue else": (
        "log, i = [], 0\nwhile i < 9:\n    i += 1\n    if i % 2:\n        continue\n"
        "    j = 0\n    while (j := j + 1) < i:\n        if j > 2:\n            break\n"
        "    else:\n        log.append('all')\n    log.append((i, j))\n"
        "for k in range(3):\n    while True:\n        break\n    else:\n        continue\n"
        "    log.append(k)\nlog"
    ),
    "try except finally": (
        "log = []\ntry:\n    1 / 0\nexcept ZeroDivisionError as e:\n    log.append(str(e))\n"
        "else:\n    log.append('no')\nfinally:\n    log.append('done')\nlog"
    ),
    "raise and catch custom": (
        "class Oops(ValueError):\n    pass\ntry:\n    raise Oops('bad')\n"
        "except ValueError as e:\n    msg = type(e).__name__ + ':' + str(e)\nmsg"
    ),
    "with statement": (
        "class Box:\n    def __init__(self):\n        self.log = []\n    def __enter__(self):\n"
        "        self.log.append('in')\n        return self\n"
        "    def __exit__(self, et, ev, tb):\n        self.log.append('out')\n        return False\n"
        "with Box() as b:\n    b.log.append('body')\nb.log"
    ),
    "defaults args kwargs": (
        "def f(a, b=2, *args, c, d=4, **kw):\n    return (a, b, args, c, d, sorted(kw.items()))\n"
        "[f(1, c=3), f(1, 2, 3, 4, c=5, e=6, f=7)]"
    ),
    "lambda and sorted key": "people = [('bob', 30), ('amy', 25), ('cat', 35)]\n"
    "sorted(people, key=lambda p: -p[1])",
    "closures nonlocal": (
        "def counter():\n    n = 0\n    def inc():\n        nonlocal n\n        n += 1\n"
        "        return n\n    return inc\nc = counter()\n[c(), c(), c()]"
    ),
    "global statement": "total = 0\ndef add(x):\n    global total\n    total += x\n"
    "for i in range(5):\n    add(i)\ntotal",
    "generator function": (
        "def gen(n):\n    for i in range(n):\n        yield i * i\n    return 'end'\n"
        "g = gen(4)\nlist(g) + [sum(gen(10))]"
    ),
    "generator send": (
        "def acc():\n    total = 0\n    while True:\n        x = yield total\n        total += x\n"
        "a = acc()\nnext(a)\n[a.send(1), a.send(5)]"
    ),
    "comprehensions": "{k: v for k, v in zip('abc', range(3))}, {x % 3 for x in range(10)}, "
    "[(x, y) for x in range(3) for y in range(x) if y]",
    "generator expression": "sum(x * x for x in range(100) if x % 2)",
    "class inheritance super": (
        "class Animal:\n    def __init__(self, name):\n        self.name = name\n"
        "    def speak(self):\n        return self.name + ' makes a sound'\n"
        "class Dog(Animal):\n    def __init__(self, name):\n        super().__init__(name)\n"
        "        self.tricks = []\n    def speak(self):\n        return super().speak() + ' (woof)'\n"
        "d = Dog('rex')\nd.tricks.append('sit')\n(d.speak(), d.tricks, isinstance(d, Animal))"
    ),
    "class attributes and methods": (
        "class Acc:\n    rate = 0.1\n    def __init__(self, b):\n        self.b = b\n"
        "    @property\n    def interest(self):\n        return self.b * self.rate\n"
        "    @staticmethod\n    def zero():\n        return Acc(0)\n"
        "    @classmethod\n    def of(cls, b):\n        return cls(b)\n"
        "Acc.rate = 0.5\n(Acc.of(10).interest, Acc.zero().b)"
    ),
    "dunder methods": (
        "class V:\n    def __init__(self, x, y):\n        self.x, self.y = x, y\n"
        "    def __add__(self, o):\n        return V(self.x + o.x, self.y + o.y)\n"
        "    def __eq__(self, o):\n        return (self.x, self.y) == (o.x, o.y)\n"
        "    def __repr__(self):\n        return f'V({self.x}, {self.y})'\n"
        "    def __len__(self):\n        return 2\n"
        "repr(V(1, 2) + V(3, 4)), V(1, 1) == V(1, 1), len(V(0, 0))"
    ),
    "decorators": (
        "def twice(f):\n    def wrapper(*a, **k):\n        return f(f(*a, **k))\n    return wrapper\n"
        "@twice\ndef inc(x):\n    return x + 1\ninc(5)"
    ),
    "assert and del": "x = [1, 2, 3]\nassert len(x) == 3, 'bad'\ndel x[0]\ny = 5\ndel y\nx",
    "match statement": (
        "def kind(v):\n    match v:\n        case {'type': 'point', 'x': x}:\n            return f'p{x}'\n"
        "        case [a, b, *rest]:\n            return f'list{a}{b}{len(rest)}'\n"
        "        case int() | float() as n if n > 0:\n            return 'pos'\n"
        "        case _:\n            return 'other'\n"
        "[kind({'type': 'point', 'x': 1}), kind([1, 2, 3]), kind(5), kind('s')]"
    ),
    "recursion": "def fact(n):\n    return 1 if n <= 1 else n * fact(n - 1)\nfact(20)",
    "dict work": (
        "text = 'the cat and the hat and the bat'\ncounts = {}\n"
        "for w in text.split():\n    counts[w] = counts.get(w, 0) + 1\n"
        "sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))"
    ),
    "list methods": "l = [3, 1, 2]\nl.append(5)\nl.extend([0])\nl.sort(reverse=True)\n"
    "l.insert(0, 9)\n(l, l.index(5), l.pop(), l.count(1))",
    "set operations": "a, b = {1, 2, 3}, {2, 3, 4}\n(a | b, a & b, a - b, a ^ b, a <= {1, 2, 3, 4})",
    "slicing": "s = list(range(10))\n(s[2:8:2], s[::-1][:3], 'hello'[1:-1], s[-3:])",
    "builtins mix": "(abs(-3), round(2.567, 2), min([4, 2]), max('ab'), divmod(17, 5), "
    "list(enumerate('ab', 1)), list(zip([1, 2], 'xy')), any([0, 1]), all([]), "
    "list(map(str, [1, 2])), list(filter(None, [0, 1, 2])), sorted('cba'), "
    "list(reversed([1, 2])), chr(65) + str(ord('a')), hex(255), bin(5), int('42'), "
    "float('1.5'), bool([]), tuple('ab'), hash(1) == hash(1), isinstance(1, int))",
    "getattr hasattr setattr": (
        "class P:\n    pass\np = P()\nsetattr(p, 'x', 4)\n"
        "(getattr(p, 'x'), getattr(p, 'y', 'none'), hasattr(p, 'x'), hasattr(p, 'z'), "
        "getattr('abc', 'upper')())"
    ),
    "type and isinstance": "(type(3).__name__, type(3) is int, isinstance(int, type), "
    "type('x') == str, isinstance(range(3), range), issubclass(bool, int))",
    "pow builtin": "(pow(2, 10), pow(3, 200, 7), pow(2.0, 0.5), 2 ** -1, (-8) ** 2)",
    "string building": "parts = []\nfor i in range(100):\n    parts.append(str(i))\n"
    "s = ''.join(parts)\n(len(s), s[:10], 'ab' * 3, [0] * 4, 3 * 'x')",
    "bytes": "b = bytes(4) + bytearray(b'xy') + 'é'.encode()\n(b, b.decode('latin-1'), len(b))",
    "iter with sentinel": "it = iter([1, 2, 3, 0, 5])\nlist(iter(lambda: next(it), 0))",
    "name main": "result = 'lib'\nif __name__ == '__main__':\n    result = 'main'\nresult",
    "multiple assignment targets": "a = b = [1]\nb.append(2)\nx, y = y, x = 1, 2\n(a, x, y)",
    "walrus": "data = [1, 5, 12, 3]\n[y for x in data if (y := x * 2) > 5]",
    "exception chaining": (
        "try:\n    try:\n        {}['k']\n    except KeyError as e:\n"
        "        raise ValueError('wrapped') from e\nexcept ValueError as e:\n"
        "    out = (str(e), type(e).__name__, isinstance(e, Exception))\nout"
    ),
    "text helpers": "(f'{3 + 4=}', ''.join(str(i) for i in range(5)), 'abc'.replace('b', '', 1), "
    "str.upper('x'), str.ljust('ab', 4, '.'), b'-'.join([b'x', b'y']), (258).to_bytes(2, 'big'), "
    "int.to_bytes(5, 2, 'little'), list(map(lambda a, b: a + b, [1, 2], [3, 4])), "
    "list(filter(None, [0, 'a', ''])), list(zip(*[[1, 2], [3, 4]])), str.join(',', 'ab'))",
    "tuple attribute store": "class C:\n    pass\nc = C()\nc.a, c.b = 1, 2\nfor c.i in range(3):\n"
    "    pass\nc.a += 10\n(c.a, c.b, c.i)",
}

STDLIB_PROGRAMS = {
    "math": "import math\n(math.sqrt(16), math.floor(2.7), math.pi > 3, math.factorial(10), "
    "math.gcd(12, 18), math.comb(5, 2))",
    "statistics": "import statistics as st\n(st.mean([1, 2, 3, 4]), st.median([3, 1, 2]), "
    "round(st.stdev([1, 2, 3, 4]), 3))",
    "collections": "from collections import Counter, defaultdict, deque, namedtuple\n"
    "c = Counter('abracadabra').most_common(2)\nd = defaultdict(list)\nd['x'].append(1)\n"
    "q = deque([1, 2])\nq.appendleft(0)\nPt = namedtuple('Pt', 'x y')\n"
    "(c, dict(d), list(q), Pt(1, 2).x)",
    "itertools": "import itertools\n(list(itertools.islice(itertools.count(5), 3)), "
    "list(itertools.permutations('ab')), list(itertools.chain([1], [2])), "
    "list(itertools.accumulate([1, 2, 3])), list(itertools.product('ab', repeat=2)))",
    "datetime": "from datetime import date, timedelta\n"
    "(date(2024, 1, 31) + timedelta(days=1)).isoformat()",
    "re": "import re\n(re.findall(r'\\d+', 'a1b22c333'), re.sub(r'(\\w+)@', r'<\\1>', 'x@y'), "
    "bool(re.match('^[a-z]+$', 'abc')), re.compile(r'\\s+').split('a b  c'))",
    "re.subn and translate": "import re\n(re.subn('a', 'bb', 'aXa'), re.sub('x', lambda m: 'y', 'axb'), "
    "'abc'.translate({97: 'AA', 98: None}))",
    "json": "import json\ns = json.dumps({'a': [1, 2]}, sort_keys=True)\n(s, json.loads(s)['a'])",
    "functools operator": "from functools import reduce, lru_cache\nimport operator\n"
    "@lru_cache(maxsize=None)\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"
    "(reduce(operator.mul, [1, 2, 3, 4]), fib(60), operator.add(2, 3))",
    "random seeded": "import random\nrng = random.Random(42)\n([rng.randint(1, 100) for _ in range(5)], "
    "rng.choices('abc', k=4), rng.getrandbits(8), len(rng.randbytes(3)))",
    "json indent and Counter.elements": "import json, collections\n(json.dumps({'a': 1}, indent=2), "
    "sorted(collections.Counter('abca').elements()))",
    "heapq bisect": "import heapq, bisect\nh = [5, 1, 3]\nheapq.heapify(h)\n"
    "(heapq.heappop(h), heapq.nlargest(2, [4, 9, 2]), bisect.bisect([1, 3, 5], 4))",
    "fractions decimal": "from fractions import Fraction\nfrom decimal import Decimal\n"
    "(Fraction(1, 3) + Fraction(1, 6), str(Decimal('0.1') + Decimal('0.2')))",
    "dataclasses": "from dataclasses import dataclass, field\n@dataclass\nclass Item:\n"
    "    name: str\n    qty: int = 1\n    tags: list = field(default_factory=list)\n"
    "i = Item('pen', 3)\n(i.name, i.qty, i.tags, i == Item('pen', 3))",
    "time": "import time\nt0 = time.time()\ntime.sleep(0.01)\ntime.time() - t0 >= 0.009",
    "string module": "import string\n(string.ascii_lowercase[:5], string.Template('$x!').substitute(x=1))",
    "enum namedtuple abc": "from __future__ import annotations\nfrom enum import Enum\nfrom typing import NamedTuple\n"
    "from abc import ABC, abstractmethod\nclass Color(Enum):\n    RED = 1\n    BLUE = 2\n"
    "class P(NamedTuple):\n    x: int\n    y: int = 0\n"
    "class Base(ABC):\n    @abstractmethod\n    def area(self):\n        ...\n"
    "class Sq(Base):\n    def area(self):\n        return 4\n"
    "(Color.RED.name, Color(2).value, P(1).x + P(1, 2).y, Sq().area(), [c.name for c in Color])",
    "textwrap": "import textwrap\ntextwrap.wrap('the quick brown fox jumps over the lazy dog', 12)",
    # issue 19: common agent code the interpreter used to refuse
    "date.strftime (C code imports time)": "import datetime\ndatetime.date(2024, 3, 5).strftime('%d %B %Y')",
    "datetime.strptime (C code imports _strptime)": "from datetime import datetime\ndatetime.strptime('2024-03-05', '%Y-%m-%d').year",
    "namedtuple public API": (
        "from collections import namedtuple\nP = namedtuple('P', 'x y', defaults=[0])\np = P(1, 2)\n"
        "(p._replace(x=3), p._asdict(), P._fields, P._make([4, 5]), P._field_defaults)"
    ),
    "in-place operator methods": (
        "class V:\n    def __init__(self, x):\n        self.x = x\n"
        "    def __imul__(self, k):\n        self.x *= k\n        return self\n"
        "    def __itruediv__(self, k):\n        self.x /= k\n        return self\n"
        "    def __ior__(self, o):\n        self.x = self.x | o\n        return self\n"
        "v = V(6)\nw = v\nv *= 4\nv |= 1\nv /= 5\n(w.x, v is w)"
    ),
}


def oracle(code: str) -> tuple[object, str]:
    """Plain exec: the value of the last expression and what was printed."""
    tree = ast.parse(code)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    namespace: dict = {"__name__": "__main__"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(tree, "<oracle>", "exec"), namespace)
        value = (
            eval(compile(ast.Expression(last.value), "<oracle>", "eval"), namespace)
            if last
            else None
        )
    return value, printed.getvalue()


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_matches_exec(name: str) -> None:
    code = PROGRAMS[name]
    result = GuardedInterpreter().run(code)
    assert (result.output, result.logs) == oracle(code)
    assert result.is_final_answer is False


@pytest.mark.parametrize("name", sorted(STDLIB_PROGRAMS))
def test_stdlib_program_matches_exec(name: str) -> None:
    code = STDLIB_PROGRAMS[name]
    result = GuardedInterpreter(authorized_imports=SAFE_STDLIB).run(code)
    assert result.output == oracle(code)[0]


@pytest.fixture(scope="module")
def child() -> Iterator[ProcessInterpreter]:
    with ProcessInterpreter(authorized_imports=SAFE_STDLIB) as interpreter:
        yield interpreter


@pytest.mark.parametrize("name", sorted(STDLIB_PROGRAMS))
def test_stdlib_program_runs_in_the_worker(child: ProcessInterpreter, name: str) -> None:
    """The worker adds an audit hook and OS limits: ordinary library code must not trip them
    (namedtuple sets `__new__.__defaults__`, enum looks at the caller's frame)."""
    code = STDLIB_PROGRAMS[name]
    expected = oracle(code)[0]
    assert child.run(code).output in (expected, repr(expected))  # non-plain data: its repr


def test_there_are_at_least_forty_benign_programs() -> None:
    assert len(PROGRAMS) + len(STDLIB_PROGRAMS) >= 40


def test_the_codes_own_imports_stay_checked_where_c_code_may_import() -> None:
    """`date.strftime` needs an `__import__` for its C code; the code itself still cannot
    reach an unauthorised module, and cannot name `__import__`."""
    interpreter = GuardedInterpreter(authorized_imports=["datetime"])
    with pytest.raises(InterpreterError, match="not allowed"):
        interpreter.run("import time")
    with pytest.raises(InterpreterError, match="not allowed"):
        interpreter.run("__import__('time')")


def test_print_is_captured_with_sep_and_end() -> None:
    result = GuardedInterpreter().run("print('a', 1, sep='-', end='!')\nprint()\nprint(None)")
    assert result.logs == "a-1!\nNone\n"
    assert result.output is None


def test_state_persists_between_runs() -> None:
    interpreter = GuardedInterpreter(authorized_imports=["math"])
    interpreter.run("import math\nx = 2\ndef double(v):\n    return v * 2\nclass K:\n    n = 1")
    result = interpreter.run("double(x) + math.floor(math.pi) + K.n")
    assert result.output == 8
    assert {"math", "x", "double", "K"} <= set(interpreter.state)
    assert "__builtins__" not in interpreter.state


def test_host_can_put_values_into_state() -> None:
    interpreter = GuardedInterpreter()
    interpreter.state["data"] = [3, 1, 2]
    assert interpreter.run("sorted(data)").output == [1, 2, 3]


def test_function_defined_earlier_sees_later_globals() -> None:
    interpreter = GuardedInterpreter()
    interpreter.run("def get():\n    return counter")
    interpreter.run("counter = 41")
    assert interpreter.run("get() + 1").output == 42


def test_final_answer_ends_the_run() -> None:
    result = GuardedInterpreter().run("print('before')\nfinal_answer({'a': 1})\nprint('after')")
    assert result.output == {"a": 1}
    assert result.is_final_answer is True
    assert result.logs == "before\n"


def test_final_answer_inside_try_except_still_ends_the_run() -> None:
    code = "try:\n    final_answer(42)\nexcept BaseException:\n    pass\nx = 1\nx"
    result = GuardedInterpreter().run(code)
    assert (result.output, result.is_final_answer) == (42, True)


def test_tools_are_callable_and_final_answer_tool_is_used() -> None:
    calls = []

    def search(query: str) -> str:
        calls.append(query)
        return f"results for {query}"

    tools = {"search": search, "final_answer": lambda answer: f"FINAL: {answer}"}
    result = GuardedInterpreter(tools=tools).run(
        "r = search(query='cats')\nfinal_answer(r.upper())"
    )
    assert calls == ["cats"]
    assert result.output == "FINAL: RESULTS FOR CATS"
    assert result.is_final_answer


@pytest.mark.parametrize(
    "code",
    [
        'def search(query):\n    return "made up"',
        "search = lambda query: 'made up'",
        "final_answer = 42",
        "for search in range(3):\n    pass",
        "import math as search",
        "from math import sqrt as final_answer",
        "try:\n    pass\nexcept Exception as search:\n    pass",
        "class search:\n    pass",
        "[search := 1]",
        "del search",
    ],
)
def test_code_that_rebinds_a_tool_name_is_refused_before_it_runs(code: str) -> None:
    calls = []
    interpreter = GuardedInterpreter(authorized_imports=["math"], tools={"search": calls.append})
    with pytest.raises(InterpreterError, match=r"is a tool that already exists: call it as"):
        interpreter.run("print('not reached')\n" + code)
    interpreter.run("search('cats')")  # the real tool is still there
    assert calls == ["cats"]


def test_tool_names_stay_free_as_attributes_and_keywords() -> None:
    result = GuardedInterpreter(tools={"search": lambda query: query}).run(
        "d = dict(search=1)\nd['search'] = search(query='x')\nd"
    )
    assert result.output == {"search": "x"}


def test_runtime_error_is_reported_with_its_line() -> None:
    with pytest.raises(InterpreterError, match=r"Line 2 `y = 1 / 0`: ZeroDivisionError") as info:
        GuardedInterpreter().run("print('start')\ny = 1 / 0")
    assert info.value.logs == "start\n"


def test_syntax_error_is_an_interpreter_error() -> None:
    with pytest.raises(InterpreterError, match="SyntaxError on line 1"):
        GuardedInterpreter().run("def f(:\n    pass")


def test_sandbox_objects_work_in_the_host_after_the_run() -> None:
    interpreter = GuardedInterpreter()
    value = interpreter.run(
        "class P:\n    def __init__(self, v):\n        self.v = v\n"
        "    def __repr__(self):\n        return f'P({self.v})'\n"
        "    def __eq__(self, other):\n        return self.v == other.v\nP(3)"
    ).output
    assert repr(value) == "P(3)"
    assert value == interpreter.run("P(3)").output


def test_submodule_authorised_by_wildcard() -> None:
    result = GuardedInterpreter(authorized_imports=["collections.*"]).run(
        "import collections.abc\nfrom collections.abc import Mapping\n"
        "(isinstance({}, collections.abc.Mapping), Mapping is collections.abc.Mapping)"
    )
    assert result.output == (True, True)


def test_star_authorises_every_safe_module() -> None:
    assert GuardedInterpreter(authorized_imports=["*"]).run("import math, json\nmath.e > 2").output


def test_abc_register_works_on_the_codes_own_classes() -> None:
    code = (
        "from abc import ABC\nclass Shape(ABC):\n    pass\nclass Sq:\n    pass\n"
        "Shape.register(Sq)\nisinstance(Sq(), Shape)"
    )
    assert GuardedInterpreter(authorized_imports=["abc"]).run(code).output is True


def test_a_tool_cannot_rerun_the_same_interpreter() -> None:
    """A nested run would reset the budgets of the run that called it."""
    interpreter = GuardedInterpreter(tools={"again": lambda: interpreter.run("1")})
    with pytest.raises(InterpreterError, match="already running"):
        interpreter.run("again()")
    assert interpreter.run("2").output == 2
