"""The grader's half inside the kernel: it runs each test cell where the learner's cells cannot
rewrite, skip or fake it. The grader never imports this module; `grader.execute` sends its source
to the fresh kernel before the notebook's first cell, so it captures the interpreter as it is
before any learner code runs: the builtins (and keeps a private copy for its own code, so that a
learner who rebinds `exec`, `isinstance` or `len` changes nothing here), the `sys` hooks
(trace, profile, stdout, stderr, display, except), the import system and `sys.modules`, the
attributes of the modules tests use (`json`, `re`, ...) and the method tables of the built-in
types.

The grader then runs each test cell as a `user_expressions` entry of an otherwise empty, silent
execute request: `<guard>.run(source, nonce)`. IPython evaluates user expressions with a bare
`eval`, so the hooks a learner can install in IPython never see the test: input and AST
transformers, `pre_run_cell` events, the display hook (there is nothing to reset; they stay as
the learner left them for the learner's own cells). `run` puts back everything it captured,
compiles the test itself (IPython's magics expanded by a transformer of its own; `==`, `!=`,
`in` and `not in` compare with exact types, see `equal`) and executes it in the learner's
namespace. It returns `repr((nonce, "ok"))` only after the whole test ran without an exception
and without a trace function left behind, else `repr((nonce, "error", name, message, failing
line))`. The grader passes a test on nothing but that verdict: printed "passed" lines, output
that looks like partial credit, a test rewritten to `pass`, a swallowed traceback or a kernel
that died all score zero.

Example (what the grader sends, and what comes back):
    user_expressions = {"verdict": "_agents_grader_1f2e.run('assert add(1, 2) == 3', 'c0ffee')"}
    -> "\"('c0ffee', 'ok')\""
"""

import ast
import builtins
import dataclasses
import sys

FILENAME = "<test cell>"
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


class _StrictCompare(ast.NodeTransformer):
    """`a == b` -> `guard.equal(a, b)`, likewise `!=`, `in`, `not in` (single comparisons)."""

    def __init__(self, guard_name):
        self.guard_name = guard_name

    def visit_Compare(self, node):
        self.generic_visit(node)
        if len(node.ops) != 1:
            return node
        op = node.ops[0]
        if isinstance(op, (ast.Eq, ast.NotEq)):
            call = self._call("equal", node.left, node.comparators[0])
        elif isinstance(op, (ast.In, ast.NotIn)):
            call = self._call("contains", node.left, node.comparators[0])
        else:
            return node
        if isinstance(op, (ast.NotEq, ast.NotIn)):
            call = ast.UnaryOp(op=ast.Not(), operand=call)
        return ast.copy_location(call, node)

    def _call(self, name, left, right):
        guard = ast.Name(id=self.guard_name, ctx=ast.Load())
        function = ast.Attribute(value=guard, attr=name, ctx=ast.Load())
        return ast.Call(func=function, args=[left, right], keywords=[])


class Guard:
    """What the grader calls in the kernel; one per kernel, installed before any learner code."""

    equal = staticmethod(equal)
    contains = staticmethod(contains)

    def __init__(self, name, shell):
        from IPython.core.inputtransformer2 import TransformerManager

        self.name = name
        self.namespace = shell.user_ns
        self.builtins = dict(builtins.__dict__)
        self.builtins[name] = self
        self.sys_hooks = {hook: getattr(sys, hook) for hook in SYS_HOOKS}
        self.meta_path = list(sys.meta_path)
        self.path_hooks = list(sys.path_hooks)
        self.modules = dict(sys.modules)
        self.type_tables = [(t, dict(t.__dict__)) for t in WATCHED_TYPES]
        self.module_tables = [
            (sys.modules[m], dict(sys.modules[m].__dict__))
            for m in RESTORED_MODULES
            if m in sys.modules
        ]
        self.class_tables = [(c, dict(c.__dict__)) for c in (ast.NodeVisitor, ast.NodeTransformer)]
        # IPython's input transformations (magics, `!cmd`) without the shell's lists, which a
        # learner can append to.
        self.magics = TransformerManager()
        self.strict = _StrictCompare(name)

    def run(self, source, nonce):
        """Restore the interpreter, run the test `source`, and return the verdict as a string:
        `repr((nonce, "ok"))`, or `repr((nonce, "error", ename, evalue, failing line))`."""
        try:
            self.restore()
            tampered = self.tampered_type()
            if tampered:
                message = f"the notebook patched the built-in type {tampered}"
                return repr((nonce, "error", "TamperedBuiltins", message, ""))
            tree = ast.parse(self.magics.transform_cell(source), FILENAME)
            tree = ast.fix_missing_locations(self.strict.visit(tree))
            code = compile(tree, FILENAME, "exec", dont_inherit=True)
        except BaseException as error:  # noqa: B036 - anything, even SystemExit, is a failure
            return repr((nonce, "error", *self.describe(error, source)))
        try:
            exec(code, self.namespace)
        except BaseException as error:  # noqa: B036
            return repr((nonce, "error", *self.describe(error, source)))
        finally:
            hooked = sys.gettrace() is not None or sys.getprofile() is not None
            sys.settrace(None)
            sys.setprofile(None)
        if hooked:  # a tracer can jump over the test's lines (frame.f_lineno = ...)
            message = "the code under test installed a trace or profile function"
            return repr((nonce, "error", "TracedTest", message, ""))
        return repr((nonce, "ok"))

    def restore(self):
        """Put back what learner cells may have replaced since the guard was installed and what
        the test relies on: the builtins, the `sys` hooks, the import system, the modules."""
        sys.settrace(None)
        sys.setprofile(None)
        live = builtins.__dict__
        for key in [k for k in live if k not in self.builtins]:
            del live[key]
        live.update(self.builtins)
        self.namespace["__builtins__"] = builtins
        for hook, value in self.sys_hooks.items():
            setattr(sys, hook, value)
        # The finders there were first, in their order; any added since (a library's) after them.
        sys.meta_path[:] = _first(self.meta_path, sys.meta_path)
        sys.path_hooks[:] = _first(self.path_hooks, sys.path_hooks)
        for key, module in self.modules.items():
            if sys.modules.get(key) is not module:
                sys.modules[key] = module
        for module, table in self.module_tables:
            _restore_attributes(module, table, remove_new=False)
        for cls, table in self.class_tables:
            _restore_attributes(cls, table, remove_new=True)

    def tampered_type(self):
        """The name of a built-in type whose method table changed since install, else ''."""
        for kind, table in self.type_tables:
            live = kind.__dict__
            if len(live) != len(table) or any(live.get(k) is not v for k, v in table.items()):
                return kind.__name__
        return ""

    def describe(self, error, source):
        """(ename, evalue, failing line of the test) of an exception, without trusting it."""
        ename = type.__dict__["__name__"].__get__(type(error))
        try:
            evalue = str(error)
        except BaseException:  # noqa: B036 - a learner's __str__ may raise anything
            evalue = "<the exception could not be printed>"
        if type(evalue) is not str:
            evalue = "<the exception could not be printed>"
        line, tb = "", error.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == FILENAME:
                lines = source.splitlines()
                line = lines[tb.tb_lineno - 1].strip() if 0 < tb.tb_lineno <= len(lines) else ""
            tb = tb.tb_next
        return ename[:200], evalue[:MESSAGE_CHARS], line[:MESSAGE_CHARS]


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


def install(name):
    """Create the guard and publish it as the builtin `name` (random per kernel)."""
    from IPython import get_ipython

    guard = Guard(name, get_ipython())
    builtins.__dict__[name] = guard
