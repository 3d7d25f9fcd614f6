# ruff: noqa: E501 - the attacks are data: one readable line of source per string
"""Attack snippets: every one must raise InterpreterError and leave the host untouched.

The categories follow issue 3. Techniques reported against smolagents' LocalPythonExecutor
each have a test here (the report is named next to the snippet):

- CVE-2025-9959: walking the class hierarchy (`().__class__.__bases__[0].__subclasses__()`)
  to `subprocess.Popen`.
- CVE-2025-5120 and smolagents PRs #929/#935/#1103: reaching a forbidden module through an
  authorised one (`random._os`, `statistics.sys`, `queue.threading`, `doctest.inspect`) or
  through getattr.
- smolagents issue #2094: `ctypes` was missing from the deny list.
- smolagents PR #2271: `"{0.__class__.__bases__[0].__subclasses__}".format(...)`, a dunder walk
  done in C by str.format / format_map.
- smolagents PR #1551: calling dunder methods (`__getattribute__`, `__subclasses__`).
- smolagents issue #2395: dunder methods defined on classes (`__del__`, `__getattribute__`)
  that the host runs later, outside the sandbox's budgets.
- smolagents issue #2203: `__import__('o' + 's')` and reading `os.environ`.
- generator and traceback frames (`gi_frame.f_globals`, `tb_frame.f_back`) to the globals.
"""

from __future__ import annotations

import builtins
import collections
import math
import os
import random
from pathlib import Path

import pytest

from minexec import Budgets, GuardedInterpreter, InterpreterError

PWNED = Path("/tmp/minagent_interpreter_pwned")
AUTHORISED = ["math", "random", "statistics", "collections", "re", "time", "itertools",
              "functools", "operator", "string", "json", "queue", "doctest", "numbers", "typing"]  # fmt: skip

GEN = "def g():\n    yield 1\ngen = g()\n"
EXC = "try:\n    1 / 0\nexcept Exception as e:\n    err = e\n"
TB = (
    "class Catch:\n    def __enter__(self):\n        return self\n"
    "    def __exit__(self, et, ev, tb):\n        self.tb = tb\n        return True\n"
    "c = Catch()\nwith c:\n    1 / 0\n"
)

ATTACKS = {
    # -- imports ------------------------------------------------------------------------
    "import os": ("import os\nos.system('touch /tmp/minagent_interpreter_pwned')", "not allowed"),
    "import subprocess": ("import subprocess", "not allowed"),
    "from os import system": ("from os import system", "not allowed"),
    "import sys": ("import sys\nsys.modules['os']", "not allowed"),
    "import builtins": ("import builtins", "not allowed"),
    "import ctypes (#2094)": (
        "import ctypes\nctypes.CDLL('libc.so.6').system(b'id')",
        "not allowed",
    ),
    "import importlib": ("import importlib\nimportlib.import_module('os')", "not allowed"),
    "dunder import (#2203)": ("__import__('o' + 's')", "not allowed"),
    "import socket": ("import socket", "not allowed"),
    "import pickle": ("import pickle", "not allowed"),
    "import types": ("import types", "not allowed"),
    "import inspect": ("import inspect", "not allowed"),
    "import gc": ("import gc\ngc.get_objects()", "not allowed"),
    "import minagent": ("import minexec", "not allowed"),
    "import os.path": ("import os.path", "not allowed"),
    "doctest runs docstrings as code": ("import doctest", "never available"),
    "sre_compile skips the regex check": ("import sre_compile", "never available"),
    "codecs.open": ("import codecs", "never available"),
    "relative import": ("from . import core", "Relative imports"),
    "star import": ("from math import *", "import \\*"),
    "unauthorised submodule": ("import collections.abc", "not allowed"),
    "submodule as attribute": ("import collections\ncollections.abc", "not allowed"),
    "from-import submodule": ("from json import decoder", "not allowed"),
    "random._os (#1103)": ("import random\nrandom._os.system('id')", "not allowed"),
    "statistics.sys (CVE-2025-5120)": ("import statistics\nstatistics.sys.modules", "not allowed"),
    "from statistics import sys": ("from statistics import sys", "not allowed"),
    "queue.threading (#935)": ("import queue\nqueue.threading", "not allowed"),
    "doctest.inspect (#935)": ("import doctest\ndoctest.inspect", "not allowed"),
    "re.enum module attribute": ("import re\nre.enum", "not allowed"),
    "getattr to module (CVE-2025-5120)": (
        "import statistics\ngetattr(statistics, 'sys')",
        "not allowed",
    ),
    "getattr private module": ("import random\ngetattr(random, '_os')", "not allowed"),
    # -- attribute and dunder walks --------------------------------------------------------
    "class hierarchy to Popen (CVE-2025-9959)": (
        "[c for c in ().__class__.__bases__[0].__subclasses__() if c.__name__ == 'Popen'][0]('id')",
        "not allowed",
    ),
    "mro walk": ("[].__class__.__mro__[-1].__subclasses__()", "not allowed"),
    "getattr dunder (#1551)": ("getattr(getattr((), '__class__'), '__base__')", "not allowed"),
    "getattribute call (#1551)": ("object.__getattribute__(1, '__class__')", "not allowed"),
    "subclasses via type": ("type.__subclasses__(object)", "not allowed"),
    "function globals": ("f = lambda: 0\nf.__globals__['__builtins__']", "not allowed"),
    "function code": ("def f():\n    pass\nf.__code__.co_consts", "not allowed"),
    "print self is builtins": ("print.__self__", "not allowed"),
    "builtin self via getattr": ("getattr(len, '__self__').open('/etc/passwd')", "not allowed"),
    "builtins name": ("__builtins__['eval']('1')", "not allowed"),
    "builtins dict": ("__builtins__", "not allowed"),
    "class named __builtins__": ("class __builtins__:\n    pass", "not allowed"),
    "import as __builtins__": ("import math as __builtins__", "not allowed"),
    "walrus to a dunder name": ("(__builtins__ := {})", "not allowed"),
    "globals()": ("globals()['__builtins__']", "not available"),
    "locals()": ("locals()", "not available"),
    "vars()": ("vars(len)", "not available"),
    "eval": ("eval('1 + 1')", "not available"),
    "exec": ("exec('import os')", "not available"),
    "compile": ("compile('1', 'x', 'eval')", "not available"),
    "breakpoint": ("breakpoint()", "not available"),
    "input": ("input('?')", "not available"),
    "hasattr dunder": ("hasattr(1, '__class__')", "not allowed"),
    "setattr dunder": ("def f():\n    pass\nsetattr(f, '__code__', None)", "not allowed"),
    "class dict": ("str.__dict__", "not allowed"),
    "super dunder walk": ("super(type, int).__subclasses__()", "not allowed"),
    "bound method self": ("import random\nrandom.seed.__self__", "not allowed"),
    "dict of module": ("import math\nmath.__dict__", "not allowed"),
    "module loader": ("import json\njson.__loader__", "not allowed"),
    "mro method": ("int.mro()", "not allowed"),
    "private name": ("import json\njson._default_encoder", "not allowed"),
    "tool globals": ("search.__globals__", "not allowed"),
    "interpreter guard name": ("__mg_getattr__(1, '__class__')", "not allowed"),
    "interpreter tick name": ("__mg_tick__", "not allowed"),
    "closure of final_answer": ("final_answer.__closure__[0].cell_contents", "not allowed"),
    "closure via getattr": ("getattr(final_answer, '__closure__')", "not allowed"),
    "wrapped function internals": ("import time\ntime.sleep.func", "AttributeError"),
    "dunder keyword name": ("def f(**kw):\n    return kw\nf(__globals__=1)", "not allowed"),
    "str subclass attribute name": (
        "class S(str):\n    def startswith(self, *a):\n        return False\ngetattr((), S('__class__'))",
        "plain strings",
    ),
    # -- code that libraries would eval() unguarded ---------------------------------------
    "string annotation": ("def f(x: '().__class__'):\n    pass", "String annotations"),
    "string annotation nested": (
        "def f() -> list['().__class__']:\n    pass",
        "String annotations",
    ),
    "string variable annotation": ("x: '().__class__' = 1", "String annotations"),
    "typing.get_type_hints": ("import typing\ntyping.get_type_hints(len)", "not available"),
    "typing.ForwardRef": ("import typing\ntyping.ForwardRef('().__class__')", "not available"),
    "functools.singledispatch": (
        "from functools import singledispatch\n@singledispatch\ndef f(x):\n    pass",
        "not available",
    ),
    # -- frames, generators, tracebacks ----------------------------------------------------
    "generator frame": (GEN + "gen.gi_frame.f_globals", "not allowed"),
    "generator frame back": (GEN + "next(gen)\ngen.gi_frame.f_back.f_builtins", "not allowed"),
    "generator frame via getattr": (GEN + "getattr(gen, 'gi_frame')", "not allowed"),
    "generator code": (GEN + "gen.gi_code", "not allowed"),
    "genexp frame": ("(x for x in [1]).gi_frame.f_builtins", "not allowed"),
    "exception traceback": (EXC + "err.__traceback__.tb_frame.f_globals", "not allowed"),
    "exception traceback via getattr": (EXC + "getattr(err, '__traceback__')", "not allowed"),
    "context manager exit traceback": (TB + "c.tb.tb_frame.f_back.f_globals", "not allowed"),
    "exit traceback via getattr": (TB + "getattr(c.tb, 'tb_frame')", "not allowed"),
    "exit traceback next": (TB + "c.tb.tb_next", "not allowed"),
    "code object via getattr": ("def f():\n    pass\ngetattr(f, 'co_code')", "not allowed"),
    # -- format strings (PR #2271) ---------------------------------------------------------
    "format dunder walk": ("'{0.__class__.__bases__[0].__subclasses__}'.format('a')", "attribute"),
    "format any attribute": ("'{0.real}'.format(1)", "attribute"),
    "format keyword walk": ("f = lambda: 0\n'{x.__globals__}'.format(x=f)", "attribute"),
    "format_map walk": ("'{a.__class__}'.format_map({'a': 1})", "attribute"),
    "unbound str.format": ("str.format('{0.__class__}', 1)", "attribute"),
    "format via getattr": ("getattr('{0.__class__}', 'format')(1)", "attribute"),
    "format held in a variable": (GEN + "f = '{0.gi_frame}'.format\nf(gen)", "attribute"),
    "str subclass format": ("class S(str):\n    pass\nS('{0.__class__}').format(1)", "attribute"),
    "string.Formatter": (
        "import string\nstring.Formatter().format('{0.__class__}', 1)",
        "not available",
    ),
    "operator.attrgetter": (
        "import operator\noperator.attrgetter('__class__')(1)",
        "not available",
    ),
    "operator.methodcaller": (
        "import operator\noperator.methodcaller('format', 1)('{0.__class__}')",
        "not available",
    ),
    # -- type and metaclass tricks ---------------------------------------------------------
    "three-argument type": ("type('X', (), {'__del__': lambda self: None})", "not allowed"),
    "type of type": ("type(type)('X', (), {})", "not allowed"),
    "type of a class": ("class A:\n    pass\ntype(A)('X', (), {})", "not allowed"),
    "metaclass of stand-in": ("type(range)('X', (), {})", "not allowed"),
    "metaclass keyword": (
        "class M(type):\n    pass\nclass A(metaclass=M):\n    pass",
        "not allowed",
    ),
    "subclass type": ("class M(type):\n    pass", "not allowed"),
    "__del__ time bomb (#2395)": ("class A:\n    def __del__(self):\n        pass", "not allowed"),
    "__getattribute__ (#2395)": (
        "class A:\n    def __getattribute__(self, n):\n        return 1",
        "not allowed",
    ),
    "__init_subclass__": ("class A:\n    def __init_subclass__(cls):\n        pass", "not allowed"),
    "__reduce__": (
        "class A:\n    def __reduce__(self):\n        return (print, ())",
        "not allowed",
    ),
    "__slots__ assignment": ("class A:\n    __slots__ = ()", "not allowed"),
    "set attribute on builtin class": ("int.real = 1", "not allowed"),
    "set attribute on imported class": ("import random\nrandom.Random.seed = None", "not allowed"),
    "patch imported module": ("import random\nrandom.random = lambda: 4", "not allowed"),
    "setattr on module": ("import math\nsetattr(math, 'pi', 3)", "not allowed"),
    "delete module attribute": ("import math\ndel math.pi", "not allowed"),
    "patch collections class": (
        "import collections\ncollections.Counter.most_common = None",
        "not allowed",
    ),
    "attribute on imported function": ("import json\njson.dumps.flag = 1", "not allowed"),
    "patch via tuple target": ("import math\nmath.pi, x = 3, 1", "not allowed"),
    "async code": ("async def f():\n    pass", "not supported"),
    "register into an imported ABC": ("import numbers\nnumbers.Number.register(list)", "register"),
    "register via getattr": (
        "import numbers\ngetattr(numbers.Number, 'register')(str)",
        "register",
    ),
    "parser overflow": ("x = " + "(" * 100_000 + ")" * 100_000, "could not be parsed|SyntaxError"),
    "null byte in source": ("x = 1\0", "could not be parsed|SyntaxError"),
    # -- exits -----------------------------------------------------------------------------
    "SystemExit": ("raise SystemExit(0)", "SystemExit"),
    "KeyboardInterrupt": ("raise KeyboardInterrupt", "KeyboardInterrupt"),
    "GeneratorExit": ("raise GeneratorExit", "GeneratorExit"),
    "exit()": ("exit()", "not available"),
    "quit()": ("quit()", "not available"),
    # -- resource bombs --------------------------------------------------------------------
    "power tower": ("10 ** 10 ** 10", "bits"),
    "big exponent": ("x = 2\nx ** (2 ** 40)", "bits"),
    "pow builtin": ("pow(10, 10 ** 10)", "bits"),
    "shift": ("1 << 10 ** 10", "bits"),
    "augmented power": ("x = 10\nx **= 10 ** 9", "bits"),
    "string repetition": ("'a' * 10 ** 10", "items"),
    "list repetition": ("n = 10 ** 10\n[0] * n", "items"),
    "augmented repetition": ("s = 'ab'\ns *= 10 ** 10", "items"),
    "augmented nested repetition": ("m = [['ab']]\nn = 10 ** 10\nm[0][0] *= n", "items"),
    "augmented attribute power": (
        "class C:\n    pass\nc = C()\nc.v = 10\nc.v **= 10 ** 10",
        "bits",
    ),
    "augmented attribute on a module": ("import math\nmath.pi *= 2", "not allowed"),
    "sum of huge range": ("sum(range(10 ** 12))", "range"),
    "list of huge range": ("list(range(10 ** 9))", "range"),
    "bytes bomb": ("bytes(10 ** 10)", "items"),
    "bytearray bomb": ("bytearray(10 ** 10)", "items"),
    "factorial": ("import math\nmath.factorial(10 ** 7)", "over the limit"),
    "comb": ("import math\nmath.comb(10 ** 8, 10 ** 7)", "over the limit"),
    "catastrophic regex": ("import re\nre.match(r'(a+)+$', 'a' * 40 + 'b')", "exponential"),
    "catastrophic compiled regex": ("import re\nre.compile(r'(\\w*)*x')", "exponential"),
    "padding bomb ljust": ("'x'.ljust(10 ** 10)", "over the limit"),
    "padding bomb center": ("'x'.center(10 ** 10)", "over the limit"),
    "padding bomb zfill": ("'1'.zfill(10 ** 10)", "over the limit"),
    "format width bomb": ("format(1, '>10000000000')", "over the limit"),
    "f-string width bomb": ("n = 10 ** 10\nf'{1:>{n}}'", "over the limit"),
    "str.format width bomb": ("'{:>10000000000}'.format(1)", "over the limit"),
    "percent width bomb": ("'%10000000000d' % 1", "over the limit"),
    "augmented percent bomb": ("s = '%10000000000d'\ns %= 1", "over the limit"),
    "percent star bomb": ("'%*d' % (10 ** 10, 1)", "over the limit"),
    "operator.mul bomb": ("import operator\noperator.mul('a', 10 ** 10)", "items"),
    "operator.pow bomb": ("import operator\noperator.pow(10, 10 ** 10)", "bits"),
    "int subclass lies to pow": (
        "class I(int):\n    def __gt__(self, o):\n        return False\n"
        "    def bit_length(self):\n        return 1\nI(2) ** I(10 ** 8)",
        "bits",
    ),
    "list subclass lies about its length": (
        "class L(list):\n    def __len__(self):\n        return 0\nL([0] * 1000) * 10 ** 8",
        "items",
    ),
    "str subclass lies in percent format": (
        "class S(str):\n    def __contains__(self, x):\n        return False\nS('%*d') % (10 ** 10, 1)",
        "over the limit",
    ),
    "join bomb": ("''.join(['a' * 10 ** 4] * 10 ** 6)", "items"),
    "replace bomb": ("('a' * 10 ** 6).replace('', 'b' * 1000)", "items"),
    "re.Scanner skips the regex check": (
        "import re\nre.Scanner([('(a+)+$', None)])",
        "not available",
    ),
    "json indent bomb": ("import json\njson.dumps([1], indent=10 ** 10)", "over the limit"),
    "random.choices bomb": ("import random\nrandom.choices('ab', k=10 ** 10)", "items"),
    "Random instance choices bomb": (
        "import random\nrandom.Random(1).choices('ab', k=10 ** 10)",
        "items",
    ),
    "random.randbytes bomb": ("import random\nrandom.randbytes(10 ** 10)", "items"),
    "random.getrandbits bomb": ("import random\nrandom.getrandbits(10 ** 10)", "bits"),
    "Counter.elements bomb": (
        "import collections\nlen(list(collections.Counter(a=10 ** 12).elements()))",
        "operation budget",
    ),
    "translate bomb": ("('a' * 10 ** 6).translate({97: 'b' * 10 ** 4})", "items"),
    "re.sub callable bomb": (
        "import re\nre.sub('', lambda m: 'b' * 10 ** 4, 'a' * 10 ** 6)",
        "items",
    ),
    "translate with a non-dict table": (
        "class T:\n    def __getitem__(self, k):\n        return 'x' * 10 ** 6\n'abc'.translate(T())",
        "dict table",
    ),
    "re.sub bomb": ("import re\nre.sub('', 'b' * 10 ** 4, 'a' * 10 ** 6)", "items"),
    "zlib decompression bomb": ("import zlib", "never available"),
    "to_bytes bomb": ("(1).to_bytes(10 ** 10, 'big')", "over the limit"),
    "unbound to_bytes bomb": ("int.to_bytes(1, 10 ** 10, 'big')", "over the limit"),
    "unbound ljust bomb": ("str.ljust('x', 10 ** 10)", "over the limit"),
    "unbound join bomb": ("str.join('', ['a' * 10 ** 4] * 10 ** 6)", "items"),
    "unbound replace bomb": ("str.replace('a' * 10 ** 6, '', 'b' * 1000)", "items"),
    "math.prod bomb": ("import math\nmath.prod([10 ** 200000] * 10)", "bits"),
    "quadratic sum of lists": ("sum([[0] * 10 ** 4] * 10 ** 4, [])", "time limit|items"),
    "map over aliased data": (
        "sum(map(sum, [[1] * 10 ** 6] * 10 ** 6))",
        "time limit|operation budget",
    ),
    "chain over aliased data": (
        "import itertools\nsum(itertools.chain.from_iterable([[1] * 10 ** 6] * 10 ** 6))",
        "operation budget",
    ),
    "infinite loop": ("while True:\n    pass", "operation budget"),
    "infinite recursion": ("def f():\n    return f()\nf()", "RecursionError"),
    "endless itertools.count": ("import itertools\nlist(itertools.count())", "operation budget"),
    "huge itertools.repeat": (
        "import itertools\nsum(itertools.repeat(1, 10 ** 12))",
        "operation budget",
    ),
    "huge itertools.product": (
        "import itertools\nlist(itertools.product(range(100), repeat=10))",
        "operation budget",
    ),
    "endless iter callable": ("list(iter(int, 1))", "operation budget"),
    "huge comprehension": ("[x for x in range(10 ** 7)]", "operation budget"),
    "swallowed budget": (
        "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass",
        "operation budget",
    ),
    "budget swallowed by with": (
        "class Eat:\n    def __enter__(self):\n        return self\n"
        "    def __exit__(self, *a):\n        return True\nwith Eat():\n    while True:\n        pass\nx = 1",
        "operation budget",
    ),
    "sleep past the deadline": ("import time\ntime.sleep(100)", "time"),
    # -- files, network, environment -------------------------------------------------------
    "open file": ("open('/etc/passwd').read()", "not available"),
    "write file": ("open('/tmp/minagent_interpreter_pwned', 'w').write('x')", "not available"),
    "pathlib": ("import pathlib\npathlib.Path('/etc/passwd').read_text()", "not allowed"),
    "io.open": ("import io\nio.open('/etc/passwd')", "not allowed"),
    "shutil": ("import shutil\nshutil.rmtree('/tmp')", "not allowed"),
    "tempfile": ("import tempfile", "not allowed"),
    "urllib": (
        "import urllib.request\nurllib.request.urlopen('http://example.com')",
        "not allowed",
    ),
    "http.client": ("import http.client", "not allowed"),
    "os.environ exfiltration (#2203)": ("from os import environ\nenviron['HOME']", "not allowed"),
    "json.load of a file": ("import json\njson.load(open('/etc/passwd'))", "not available"),
    "multiprocessing": ("import multiprocessing", "not allowed"),
    "threading": ("import threading", "not allowed"),
    "signal": ("import signal", "not allowed"),
}


def search(query: str) -> str:
    """A stand-in tool: the attack on its __globals__ must fail."""
    return query


def host_snapshot() -> dict:
    return {
        "environ": dict(os.environ),
        "builtins": {k: id(v) for k, v in vars(builtins).items() if k != "_"},
        "math.pi": math.pi,
        "random.random": random.random,
        "random.Random.seed": random.Random.seed,
        "Counter.most_common": collections.Counter.most_common,
        "pwned": PWNED.exists(),
    }


@pytest.fixture(scope="module")
def interpreter() -> GuardedInterpreter:
    budgets = Budgets(max_operations=200_000, timeout=1.0)
    return GuardedInterpreter(
        authorized_imports=AUTHORISED, tools={"search": search}, budgets=budgets
    )


def test_there_are_at_least_eighty_attacks() -> None:
    assert len(ATTACKS) >= 80


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_is_refused_and_host_untouched(interpreter: GuardedInterpreter, name: str) -> None:
    code, message = ATTACKS[name]
    before = host_snapshot()
    with pytest.raises(InterpreterError, match=message):
        interpreter.run(code)
    assert host_snapshot() == before
    assert not PWNED.exists()
    # The interpreter is still usable after the attack.
    assert interpreter.run("1 + 1").output == 2


def test_refused_import_lists_the_authorised_ones() -> None:
    with pytest.raises(InterpreterError, match="Authorised imports: math, json"):
        GuardedInterpreter(authorized_imports=["math", "json"]).run("import os")


def test_star_does_not_open_the_deny_list() -> None:
    with pytest.raises(InterpreterError, match="never available"):
        GuardedInterpreter(authorized_imports=["*"]).run("import subprocess")


def test_stopped_run_ignores_swallowing_exit_and_reports_budget() -> None:
    interpreter = GuardedInterpreter(budgets=Budgets(max_operations=1000))
    with pytest.raises(InterpreterError, match="operation budget of 1,000"):
        interpreter.run("for i in range(5000):\n    pass")
    assert interpreter.run("sum(range(10))").output == 45


def test_a_broken_str_on_an_exception_still_gives_an_interpreter_error() -> None:
    code = "class E(Exception):\n    def __str__(self):\n        return 1 / 0\nraise E()"
    with pytest.raises(InterpreterError, match="E: \\(the error could not be turned into text"):
        GuardedInterpreter().run(code)


def test_sandbox_code_called_by_the_host_later_is_bounded() -> None:
    """A __repr__ with an endless loop, run by the host between runs, stops (issue #2395)."""
    interpreter = GuardedInterpreter(budgets=Budgets(max_idle_operations=1000))
    bomb = interpreter.run(
        "class Bomb:\n    def __repr__(self):\n        while True:\n            pass\nBomb()"
    ).output
    with pytest.raises(InterpreterError, match="operation budget"):
        repr(bomb)
    assert interpreter.run("2 * 21").output == 42
