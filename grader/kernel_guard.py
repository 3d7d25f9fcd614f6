"""The grader's half inside the kernel: an audit hook that runs each test cell and signs its
verdict with a key the notebook's code never sees. The grader never imports this module for
grading; `grader.execute` sends its source to the fresh kernel before the notebook's first cell
and calls `install()` there, which:

- draws a random key (`os.urandom`) and hands it to the grader once, in the reply to that
  request; from then on it is held only in the closure of the hook;
- registers the hook with `sys.addaudithook`: the interpreter keeps it where Python code can
  neither list nor remove it, and calls it for every audit event, the grader's own included;
- captures the interpreter as it is before any learner code runs: the builtins, the `sys`
  hooks, the import system and `sys.modules`, the attributes of the modules tests use (the
  unit's own imports too, such as `minagent.templates`, which a test may use as the oracle, and
  their packages' classes), the method tables of the built-in types, the signal handlers;
- makes the kernel non-dumpable (`prctl(PR_SET_DUMPABLE, 0)`), so that a child process of
  another user id cannot ptrace it or read its memory.

The grader runs each test cell as a `user_expressions` entry of an otherwise empty, silent
execute request: `__import__('sys').audit('agents-grader.run', 'test', source, nonce)`. IPython
evaluates user expressions with a bare `eval`, so no hook a learner can install in IPython
(input and AST transformers, events, the display hook) sees the test. The audit hook puts back
what it captured, compiles the source itself (plain Python: IPython's magics are not expanded;
`==`, `!=`, `in` and `not in` compare with exact types, see `equal`), runs it in the learner's
namespace and raises
`Exception("agents-grader-verdict <mac> <status> <details>")`, which `sys.audit` passes on to
the grader. The MAC is HMAC-SHA256(key, kind | nonce | sha256(source) | status): the grader
passes a test only on status "ok" with a MAC that checks. A fake `sys.audit` or `__import__`,
a patched `user_expressions`, a hook called with another source or nonce, printed "passed"
lines: none of them can produce that MAC, so each can only make a test fail.

Locked given cells (a unit's test helpers, such as unit 04's `expect_value`) run the same way,
as kind "given": the names they bind are put back before every later cell the hook runs, so a
learner who rebinds `expect_value` changes nothing. Each request names the given cells the
grader ran so far (the sha256 of their sources, covered by the MAC), so a "given" cell that the
learner runs through the hook with another source is never put back.

The hook also refuses, from install on, the roads to itself and to the test's frames:
`gc.get_objects`/`get_referrers`/`get_referents`, `sys._current_frames`, `sys.settrace` and
`sys.setprofile`, new audit hooks, frames whose chain of callers reaches the grader's code or a
generator of the notebook's (`sys._getframe`, `tb_frame`, `gi_frame`, `cr_frame`, `ag_frame`;
libraries that only read a caller's names are not checked, those that hand frames on are, see
`FRAME_GIVERS`), the notebook's reads
of code objects that hold a test's comparison helpers, rebinding the code or defaults of the
grader's and the cells' functions, signal handlers installed by the notebook's code (a handler
receives the running frame), a second copy of `_signal` or `_imp`, `open` of `/proc/<pid>/mem`,
ctypes' raw memory reads and symbol look-ups from the notebook's code, and code that the
notebook compiles under a library's file name (which the checks above trust). Nothing here is a
class: `object.__subclasses__()` would hand it out. The comparison helpers a test calls are
fresh copies for each test, reachable only from the test's code objects.

What it cannot stop is listed in the README ("What the grader protects against"): the kernel is
one Python process, so native code that reads its memory (numpy's array interface, ctypes
through a library) can still reach the key, and so can `/proc/self/mem` opened by a name that
the path check cannot follow (the "open" event carries the path, not `dir_fd`, and comes
before the open: a link swapped by another thread in between is not seen), and a sourceless
.pyc (or, without the sandbox, a file written into site-packages) can carry code that passes
for a library's; the sandbox, the MAC's fail-safe direction and instructor review are the
defence there.

Example (what the grader sends, and what comes back as the expression's error value):
    user_expressions = {"verdict": "__import__('sys').audit('agents-grader.run', 'test',
                                    'assert add(1, 2) == 3', 'c0ffee', ())"}
    -> "agents-grader-verdict 5f1d...e9 ok []"
"""

import ast
import builtins
import dataclasses
import sys

EVENT = "agents-grader.run"
VERDICT = "agents-grader-verdict"
GRADER_FILE = "<agents-grader>"
FILENAMES = {"test": "<test cell>", "given": "<given cell>"}
MESSAGE_CHARS = 2000
MAX_DEPTH = 50
# Values a test compares with `==`: a learner's result must be one of these, exactly, when the
# expected value is; a subclass is compared by the value its built-in base holds.
SCALARS = (str, bytes, int, float, complex, bool, type(None))
SEQUENCES = (list, tuple)
SETS = (set, frozenset)
# Built-in types whose method tables a learner could patch through `gc.get_referents`.
WATCHED_TYPES = (object, type, str, bytes, int, float, bool, list, tuple, dict, set, BaseException)
SYS_HOOKS = ("displayhook", "excepthook", "stdout", "stderr", "breakpointhook")
# Modules whose functions a test or the guard itself calls: their attributes are put back too.
RESTORED_MODULES = (
    "ast",
    "json",
    "re",
    "math",
    "inspect",
    "types",
    "typing",
    "dataclasses",
    "copy",
)
# Audit events refused whoever asks: the roads to every object and to every thread's frames.
REFUSED = (
    "gc.get_objects",
    "gc.get_referrers",
    "gc.get_referents",
    "sys._current_frames",
    "sys.settrace",
    "sys.setprofile",
    "sys.addaudithook",
)
FRAME_ATTRIBUTES = ("tb_frame", "gi_frame", "cr_frame", "ag_frame")
CODE_ATTRIBUTES = ("__code__", "gi_code", "cr_code", "ag_code")
REBOUND_ATTRIBUTES = ("__code__", "__defaults__", "__kwdefaults__")
# ctypes' raw memory reads and symbol look-ups (the notebook's own; a library's, such as
# llama_cpp's, go through).
CTYPES_READS = (
    "ctypes.string_at",
    "ctypes.wstring_at",
    "ctypes.cdata",
    "ctypes.PyObj_FromPtr",
    "ctypes.dlsym",
    "ctypes.dlsym/handle",
)
# A Python signal handler receives the frame that was running: the notebook may not install
# one (nor load a fresh copy of the module that installs them, which no audit event reports).
SIGNAL_EVENT = "agents-grader.signal"
BUILTIN_EVENT = "agents-grader.create_builtin"
GUARDED_MODULES = ("_signal", "signal", "_imp")
ROUTED = """
def signal(signalnum, handler, /, *, _audit=audit, _list=list):
    box = _list()
    _audit(SIGNAL_EVENT, signalnum, handler, box)
    return box[0]


def create_builtin(spec, /, *, _audit=audit, _list=list):
    box = _list()
    _audit(BUILTIN_EVENT, spec, box)
    return box[0]
"""
# Generators, coroutines, async generators: a suspended one gets a new caller when resumed.
RESUMABLE = 0x20 | 0x80 | 0x200
# Library modules that hand frames on to their callers (`inspect.currentframe`,
# `traceback.walk_stack`, a debugger, a task's stack): a frame they ask for is checked even
# though they are library code. Other libraries (pydantic, dataclasses, typing...) ask for a
# caller's frame only to read its names, and are not checked, which keeps imports fast.
FRAME_GIVERS = (
    "/inspect.py",
    "/traceback.py",
    "/logging/__init__.py",
    "/bdb.py",
    "/pdb.py",
    "/trace.py",
    "/threading.py",
    "/asyncio/",
    "/IPython/core/",
    "/stack_data/",
    "/executing/",
    "/pure_eval/",
    "/debugpy/",
)
# Standard-library functions that read a caller's frame only for its module name.
FRAME_READERS = (
    ("collections", "namedtuple"),
    ("typing", "_caller"),
    ("enum", "_create_"),
    ("enum", "_convert_"),
    ("logging", "findCaller"),
)


def _is_one_of(kind, kinds):
    """`kind in kinds` by identity: a metaclass cannot make a learner's class equal to `str`."""
    for other in kinds:
        if kind is other:
            return True
    return False


def _exact(value):
    """`value`, or the exact built-in value its built-in base type holds when its type is a
    subclass of one: `str.__getitem__(s, slice(None))` copies a str subclass's characters into a
    plain str without calling any method the subclass overrides."""
    kind = type(value)
    if _is_one_of(kind, SCALARS + SEQUENCES + SETS) or kind is dict:
        return value
    whole = slice(None)
    if issubclass(kind, str):
        return str.__getitem__(value, whole)
    if issubclass(kind, bytes):
        return bytes.__getitem__(value, whole)
    if issubclass(kind, int):
        return int.__index__(value)
    if issubclass(kind, float):
        return float.__float__(value)
    if issubclass(kind, list):
        return list.__getitem__(value, whole)
    if issubclass(kind, tuple):
        return tuple.__getitem__(value, whole)
    if issubclass(kind, dict):
        return {key: dict.__getitem__(value, key) for key in dict.__iter__(value)}
    if issubclass(kind, (set, frozenset)):
        return set(set.__iter__(value))
    return value


def _plain_key(value):
    return _is_one_of(type(value), SCALARS)


def equal(a, b, depth=0):
    """`a == b` where a built-in value is only ever equal to a built-in value of the same kind:
    an object whose `__eq__` always says True, or a str subclass that does, equals nothing the
    test wrote down. Containers are compared item by item the same way; dataclass instances
    (a Message) only to instances of the very same class, field by field, whatever `__eq__`
    the class has now; two objects of other classes by their own `__eq__`.

    Example: equal(AlwaysEqual(), 3) -> False; equal(3, 3.0) -> True; equal([1, "a"], [1, "a"])
    """
    if depth > MAX_DEPTH:
        return False
    a, b = _exact(a), _exact(b)
    kind_a, kind_b = type(a), type(b)
    if _is_one_of(kind_a, SCALARS) or _is_one_of(kind_b, SCALARS):
        return _is_one_of(kind_a, SCALARS) and _is_one_of(kind_b, SCALARS) and a == b
    if _is_one_of(kind_a, SEQUENCES) or _is_one_of(kind_b, SEQUENCES):
        if kind_a is not kind_b or len(a) != len(b):
            return False
        return all(equal(x, y, depth + 1) for x, y in zip(a, b, strict=True))
    if kind_a is dict or kind_b is dict:
        return kind_a is kind_b and _equal_items(list(a.items()), list(b.items()), depth)
    if _is_one_of(kind_a, SETS) or _is_one_of(kind_b, SETS):
        both = _is_one_of(kind_a, SETS) and _is_one_of(kind_b, SETS)
        return both and _equal_items([(x, None) for x in a], [(y, None) for y in b], depth)
    if _is_dataclass(kind_a) or _is_dataclass(kind_b):
        # A subclass of a dataclass could bring an __eq__ that always says True.
        return kind_a is kind_b and all(
            equal(object.__getattribute__(a, f.name), object.__getattribute__(b, f.name), depth + 1)
            for f in _fields(kind_a)
            if f.compare
        )
    return a == b


_is_dataclass = dataclasses.is_dataclass
_fields = dataclasses.fields


def _equal_items(a, b, depth):
    """Two lists of (key, value) pairs hold the same pairs, keys compared with `equal`."""
    if len(a) != len(b):
        return False
    if all(_plain_key(k) for k, _ in a) and all(_plain_key(k) for k, _ in b):
        lookup = dict(b)
        return all(k in lookup and equal(v, lookup[k], depth + 1) for k, v in a)
    return all(
        any(equal(k, k2, depth + 1) and equal(v, v2, depth + 1) for k2, v2 in b) for k, v in a
    )


def contains(item, container):
    """`item in container` with `equal`: a str subclass or an object that claims to contain
    everything does not contain what the test looks for."""
    container = _exact(container)
    kind = type(container)
    if kind is str or kind is bytes:
        item = _exact(item)
        return type(item) is kind and item in container
    if _is_one_of(kind, SEQUENCES) or _is_one_of(kind, SETS):
        return any(equal(item, x) for x in container)
    if kind is dict:
        return any(equal(item, key) for key in container)
    return item in container


HELPERS = (_is_one_of, _exact, _plain_key, equal, _equal_items, contains)


def fresh_helpers(builtins_table):
    """New `equal` and `contains` functions (with their own helpers and a private copy of the
    builtins) for one test: a test that hands a function to the code under test cannot hand
    over anything that a later test uses."""
    space = {"__builtins__": dict(builtins_table), "__name__": "agents_grader_helpers"}
    for name in ("SCALARS", "SEQUENCES", "SETS", "MAX_DEPTH", "_is_dataclass", "_fields"):
        space[name] = globals()[name]
    for function in HELPERS:
        rebuilt = type(function)(function.__code__, space, function.__name__, function.__defaults__)
        space[function.__name__] = rebuilt
    return space["equal"], space["contains"]


def strict_compares(tree, equal_token, contains_token):
    """`a == b` -> `<equal_token>.__call__(a, b)`, likewise `!=`, `in`, `not in` (single
    comparisons), in place. The tokens are random strings that `with_helpers` swaps for the
    functions in the compiled code, so no name in any namespace leads to them."""
    for node in ast.walk(tree):
        for field, value in ast.iter_fields(node):
            if isinstance(value, list):
                value[:] = [_strict(item, equal_token, contains_token) for item in value]
            else:
                setattr(node, field, _strict(value, equal_token, contains_token))
    return tree


def _strict(node, equal_token, contains_token):
    if not isinstance(node, ast.Compare) or len(node.ops) != 1:
        return node
    op = node.ops[0]
    if isinstance(op, (ast.Eq, ast.NotEq)):
        token = equal_token
    elif isinstance(op, (ast.In, ast.NotIn)):
        token = contains_token
    else:
        return node
    function = ast.Attribute(value=ast.Constant(token), attr="__call__", ctx=ast.Load())
    call = ast.Call(func=function, args=[node.left, node.comparators[0]], keywords=[])
    if isinstance(op, (ast.NotEq, ast.NotIn)):
        call = ast.UnaryOp(op=ast.Not(), operand=call)
    return ast.copy_location(call, node)


def with_helpers(code, swaps, holders):
    """`code` (and the code objects nested in it) with the constants in `swaps` replaced; the
    code objects that now hold a helper, nested ones included, are added to `holders`."""
    consts, holds = [], False
    for const in code.co_consts:
        if type(const) is type(code):
            const = with_helpers(const, swaps, holders)
            holds = holds or const in holders
        elif type(const) is str and const in swaps:
            const, holds = swaps[const], True
        consts.append(const)
    code = code.replace(co_consts=tuple(consts))
    if holds:
        holders.add(code)
    return code


def describe(error, source, filename, frames):
    """(ename, evalue, failing line of the cell) of an exception, without trusting it;
    `frames(tb)` lists a traceback's (filename, line number) pairs."""
    ename = type.__dict__["__name__"].__get__(type(error))
    try:
        evalue = str(error)
    except BaseException:  # noqa: B036 - a learner's __str__ may raise anything
        evalue = "<the exception could not be printed>"
    if type(evalue) is not str:
        evalue = "<the exception could not be printed>"
    line, lines = "", source.splitlines()
    for name, number in frames(BaseException.__traceback__.__get__(error)):
        if name == filename and 0 < number <= len(lines):
            line = lines[number - 1].strip()
    return [ename[:200], evalue[:MESSAGE_CHARS], line[:MESSAGE_CHARS]]


def traceback_lines(tb):
    """The (filename, line number) of each entry of a traceback (reads frames: run trusted)."""
    found = []
    while tb is not None:
        found.append((tb.tb_frame.f_code.co_filename, tb.tb_lineno))
        tb = tb.tb_next
    return found


def bound_names(tree):
    """The names a cell binds at its top level (functions, classes, imports, assignments)."""
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names += [(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"]
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    return names


def _first(original, live):
    """The items of `original`, then those of `live` that are not among them (by identity)."""
    ids = {id(item) for item in original}
    return [*original, *(item for item in live if id(item) not in ids)]


def _restore_attributes(owner, table, remove_new):
    """Give a module or class the attributes `table` (its `__dict__` as captured) back; with
    `remove_new`, drop the ones added since (on a class: a method added to shadow another)."""
    live = owner.__dict__
    if remove_new:
        for key in [k for k in live if k not in table]:
            delattr(owner, key)
    for key, value in table.items():
        if live.get(key, table) is not value:
            setattr(owner, key, value)


def oracle_modules(names):
    """The modules the unit's tests and given cells import (`names`), imported now, with every
    loaded module of their packages: a test that checks an answer against `minagent` (or
    jinja2) must get them as they were before the notebook's code ran."""
    import importlib

    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a test that needs it will fail on its own
            continue
    packages = {name.split(".")[0] for name in names}
    return [m for key, m in list(sys.modules.items()) if key.split(".")[0] in packages and m]


def _own_classes(module):
    name = module.__name__
    return [v for v in vars(module).values() if type(v) is type and v.__module__ == name]


def capture(shell, oracles):
    """What `restore` puts back before each cell the hook runs, as it is at install."""
    import _signal

    modules = [sys.modules[m] for m in RESTORED_MODULES] + oracle_modules(oracles)
    tables = [(module, dict(module.__dict__)) for module in modules]
    # The AST classes too: the hook rewrites and compiles each cell's tree with them.
    classes = [ast.NodeVisitor, ast.NodeTransformer, *_subclasses(ast.AST)]
    library = [c for module in modules[len(RESTORED_MODULES) :] for c in _own_classes(module)]
    return {
        "namespace": shell.user_ns,
        "builtins": dict(builtins.__dict__),
        "sys_hooks": {hook: getattr(sys, hook) for hook in SYS_HOOKS},
        "meta_path": list(sys.meta_path),
        "path_hooks": list(sys.path_hooks),
        "modules": dict(sys.modules),
        "type_tables": [(t, dict(t.__dict__)) for t in WATCHED_TYPES],
        "module_tables": tables,
        "class_tables": [(c, dict(c.__dict__)) for c in classes],
        "library_classes": [(c, dict(c.__dict__)) for c in library],
        "signals": {s: _signal.getsignal(s) for s in _signal.valid_signals() if _catchable(s)},
        "signal": (_signal.getsignal, _signal.signal),
        "given": {},
    }


def _subclasses(cls):
    found, todo = [], [cls]
    while todo:
        found.append(todo.pop())
        todo.extend(type.__subclasses__(found[-1]))
    return found


def _catchable(signum):
    import _signal

    return (
        signum not in (_signal.SIGKILL, _signal.SIGSTOP) and _signal.getsignal(signum) is not None
    )


def restore(state):
    """Put back what learner cells may have replaced since install and what the cell relies
    on: the builtins, the `sys` hooks, the import system, the modules, the signal handlers."""
    live = builtins.__dict__
    for key in [k for k in live if k not in state["builtins"]]:
        del live[key]
    live.update(state["builtins"])
    state["namespace"]["__builtins__"] = builtins
    for hook, value in state["sys_hooks"].items():
        setattr(sys, hook, value)
    # The finders there were first, in their order; any added since (a library's) after them.
    sys.meta_path[:] = _first(state["meta_path"], sys.meta_path)
    sys.path_hooks[:] = _first(state["path_hooks"], sys.path_hooks)
    for key, module in state["modules"].items():
        if sys.modules.get(key) is not module:
            sys.modules[key] = module
    for module, table in state["module_tables"]:
        _restore_attributes(module, table, remove_new=False)
    for cls, table in state["class_tables"]:
        _restore_attributes(cls, table, remove_new=True)
    for cls, table in state["library_classes"]:  # a library's caches may add attributes
        _restore_attributes(cls, table, remove_new=False)
    getsignal, setsignal = state["signal"]
    for signum, handler in state["signals"].items():
        if getsignal(signum) is not handler:
            setsignal(signum, handler)


def tampered_type(state):
    """The name of a built-in type whose method table changed since install, else ''."""
    for kind, table in state["type_tables"]:
        live = kind.__dict__
        if len(live) != len(table) or any(live.get(k) is not v for k, v in table.items()):
            return kind.__name__
    return ""


def library_prefixes():
    """Folders whose code is the interpreter's and the installed packages', not the notebook's."""
    import sysconfig

    paths = sysconfig.get_paths()
    found = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    return (*sorted(found), "<frozen ")


def frame_readers():
    """The code objects of `FRAME_READERS`, where their modules are loaded."""
    import importlib

    codes = set()
    for module_name, qualname in FRAME_READERS:
        try:
            owner = importlib.import_module(module_name)
        except ImportError:
            continue
        for value in [owner, *vars(owner).values()]:
            function = getattr(value, qualname, None)
            code = getattr(getattr(function, "__func__", function), "__code__", None)
            if code is not None:
                codes.add(code)
    return codes


def routed_functions():
    """`_signal.signal` and `_imp.create_builtin` as functions that hold nothing but
    `sys.audit`: the hook, which alone keeps the originals, decides and calls them."""
    space = {"__builtins__": {}, "audit": sys.audit, "list": list}
    space.update(SIGNAL_EVENT=SIGNAL_EVENT, BUILTIN_EVENT=BUILTIN_EVENT)
    exec(compile(ROUTED, GRADER_FILE, "exec"), space)
    return space["signal"], space["create_builtin"]


def make_non_dumpable():
    """prctl(PR_SET_DUMPABLE, 0): no core dumps, and a process of another user id (or one
    without CAP_SYS_PTRACE) can neither ptrace this one nor read its /proc/<pid>/mem."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: nothing to do


def install(shell, publish, oracles=()):
    """Draw the key, register the audit hook, and hand the key to `publish` (once);
    `oracles` names the modules the unit's tests import."""
    import hashlib
    import os
    import pathlib
    import threading
    import types
    import weakref
    from _hashlib import hmac_digest

    key = os.urandom(32)
    state = capture(shell, oracles)
    sha256, get_ident, getframe = hashlib.sha256, threading.get_ident, sys._getframe
    compile_, exec_, fsdecode, realpath = compile, exec, os.fsdecode, os.path.realpath
    urandom = os.urandom
    prefixes, readers = library_prefixes(), frame_readers()
    own = set()  # threads where the hook itself is reading frames or code objects
    holders = weakref.WeakSet()  # code objects of cells that hold a test's comparison helpers
    cells = frozenset(FILENAMES.values())
    protected = cells | {GRADER_FILE}
    paths = (str, bytes, pathlib.PurePosixPath, pathlib.PosixPath, os.DirEntry)
    frame_getters = {
        "tb_frame": (types.TracebackType, types.TracebackType.tb_frame),
        "gi_frame": (types.GeneratorType, types.GeneratorType.gi_frame),
        "cr_frame": (types.CoroutineType, types.CoroutineType.cr_frame),
        "ag_frame": (types.AsyncGeneratorType, types.AsyncGeneratorType.ag_frame),
    }
    code_getters = {
        "__code__": (types.FunctionType, types.FunctionType.__code__),
        "gi_code": (types.GeneratorType, types.GeneratorType.gi_code),
        "cr_code": (types.CoroutineType, types.CoroutineType.cr_code),
        "ag_code": (types.AsyncGeneratorType, types.AsyncGeneratorType.ag_code),
    }

    def sign(kind, nonce, source, given, status):
        digest = sha256(source.encode("utf-8", "surrogatepass")).hexdigest()
        message = f"{kind}|{nonce}|{digest}|{','.join(given)}|{status}".encode()
        return hmac_digest(key, message, "sha256").hex()

    def run(kind, source, given):
        """Run one cell after the given cells `given` (hashes of their sources, in order);
        (status, details) where status is 'ok' only if all of it ran."""
        restore(state)
        for digest in given:
            state["namespace"].update(state["given"].get(digest, {}))
        tampered = tampered_type(state)
        if tampered:
            return "error", ["TamperedBuiltins", f"the notebook patched the type {tampered}", ""]
        equal_fn, contains_fn = fresh_helpers(state["builtins"])
        tokens = {urandom(16).hex(): equal_fn, urandom(16).hex(): contains_fn}
        filename = FILENAMES[kind]
        try:
            tree = compile_(source, filename, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
            tree = ast.fix_missing_locations(strict_compares(tree, *tokens))
            code = compile_(tree, filename, "exec", dont_inherit=True)
            code = with_helpers(code, tokens, holders)
            exec_(code, state["namespace"])
        except BaseException as error:  # noqa: B036 - anything, even SystemExit, is a failure
            return "error", describe(error, source, filename, read_traceback)
        if kind == "given":
            space, digest = state["namespace"], sha256(source.encode("utf-8", "surrogatepass"))
            bound = {n: space[n] for n in bound_names(tree) if n in space}
            state["given"][digest.hexdigest()] = bound
        return "ok", []

    def read_traceback(tb):
        return trusted(traceback_lines, tb)

    def trusted(function, *args):
        """Call `function` with the hook's own frame and code reads allowed in this thread.
        Only for reading C objects (frames, code, tracebacks): no learner code may run here."""
        me = get_ident()
        own.add(me)
        try:
            return function(*args)
        finally:
            own.discard(me)

    def reaches_grader(frame):
        while frame is not None:
            code = frame.f_code
            if code.co_filename in protected:
                return True
            if code.co_flags & RESUMABLE and not code.co_filename.startswith(prefixes):
                return True
            frame = frame.f_back
        return False

    def asker():
        """The frame of the code whose action raised the event being checked."""
        return getframe(5)  # 0 here, 1 its caller, 2 `check`, 3 `trusted`, 4 the hook

    def frame_refused(frame):
        if frame is None:
            return False
        caller = asker()  # who asks first: libraries that only read names are most of the calls
        callers = (caller.f_code, caller.f_back.f_code if caller.f_back else None)
        if any(code in readers for code in callers):
            return False
        name = caller.f_code.co_filename
        if name.startswith(prefixes) and not any(part in name for part in FRAME_GIVERS):
            return False
        return reaches_grader(frame)

    def library_asks(skipped=("/ctypes/",)):
        """The nearest asker outside the `skipped` modules is the interpreter's or a
        package's code, not the notebook's."""
        frame = asker()
        while frame is not None and any(part in frame.f_code.co_filename for part in skipped):
            frame = frame.f_back
        return frame is None or frame.f_code.co_filename.startswith(prefixes)

    def check(event, args):
        """Why `event` is refused, or '' when it may go on (runs trusted; C objects only)."""
        if event in REFUSED:
            return "it would reach the grader's objects or frames"
        if event == "sys._getframe":
            frame = args[0] if type(args[0]) is types.FrameType else None
            return "frames lead to the grader" if frame_refused(frame) else ""
        if event == "object.__getattr__":
            obj, name = args
            if name in frame_getters:
                kind, getter = frame_getters[name]
                frame = getter.__get__(obj) if type(obj) is kind else None
                return "frames lead to the grader" if frame_refused(frame) else ""
            if name in code_getters:
                kind, getter = code_getters[name]
                code = getter.__get__(obj) if type(obj) is kind else None
                cell = code is not None and code.co_filename in cells  # cheap test first
                holds = cell and code in holders and not library_asks(())
                return "a test's code holds the grader's helpers" if holds else ""
            return ""
        if event == "object.__setattr__":
            obj, name = args[0], args[1]
            function = type(obj) is types.FunctionType and name in REBOUND_ATTRIBUTES
            code = types.FunctionType.__code__.__get__(obj) if function else None
            return "a test's functions are the grader's" if _is_protected(code) else ""
        if event in CTYPES_READS:
            return "" if library_asks() else "raw memory reads would reach the grader"
        return ""

    def _is_protected(code):
        return code is not None and code.co_filename in protected

    def memory_path(path):
        """Whether `open(path)` would open a process's memory (runs untrusted: may call a
        learner's `__fspath__`)."""
        if type(path) is int:
            return False
        if type(path) not in paths:  # its __fspath__ could answer differently the next time
            return True
        name = fsdecode(path)
        real = realpath(name)
        relative_mem = not name.startswith("/") and name.rstrip("/").rsplit("/", 1)[-1] == "mem"
        return relative_mem or (real.startswith("/proc/") and real.endswith("/mem"))

    def routed(event, args):
        """Install a signal handler or create a built-in module, for whom the hook allows."""
        if event == SIGNAL_EVENT:
            signum, handler, box = args
            python = callable(handler) and type(handler) is not types.BuiltinFunctionType
            if python and not trusted(library_asks, ("/signal.py",)):
                raise RuntimeError("the grader refuses signal handlers in the notebook's code")
            box.append(setsignal(signum, handler))
        else:
            spec, box = args
            if getattr(spec, "name", None) in GUARDED_MODULES:
                raise RuntimeError(f"the grader refuses a second copy of {spec.name}")
            box.append(create_builtin(spec))

    def hook(event, args):
        if event in (SIGNAL_EVENT, BUILTIN_EVENT):
            return routed(event, args)
        if event == EVENT:
            kind, source, nonce, given = args
            # Exact types: a str subclass could hash, compare or encode as another string.
            texts = (kind, source, nonce, *given) if type(given) is tuple else (None,)
            if any(type(text) is not str for text in texts) or kind not in FILENAMES:
                raise TypeError("agents-grader.run takes (kind, source, nonce, given digests)")
            status, details = run(kind, source, list(given))
            mac = sign(kind, nonce, source, given, status)
            raise Exception(f"{VERDICT} {mac} {status} {details!r}")
        if event not in watched or get_ident() in own:
            return
        if event == "open":
            why = "a process's memory is not a file to read" if memory_path(args[0]) else ""
        elif event == "import":
            why = "a second copy of this module" if args[0] in GUARDED_MODULES else ""
        elif event in ("compile", "code.__new__"):
            # Code named after a library file would be trusted like the library's own.
            named = type(args[1]) is str and args[1].startswith(prefixes)
            why = "a library's file name" if named and not trusted(library_asks, ()) else ""
        else:
            why = trusted(check, event, args)
        if why:
            raise RuntimeError(f"the grader refuses {event} in the notebook's kernel: {why}")

    watched = frozenset(
        [*REFUSED, *CTYPES_READS, "sys._getframe", "object.__getattr__", "object.__setattr__"]
        + ["open", "import", "compile", "code.__new__"]
    )
    import _imp
    import _signal

    setsignal, create_builtin = _signal.signal, _imp.create_builtin
    _signal.signal, _imp.create_builtin = routed_functions()
    make_non_dumpable()
    sys.addaudithook(hook)
    publish(key.hex())
