"""The tree-walking interpreter that unit 04 builds: the taught core of a code agent's executor.

Model-written code is parsed with `ast.parse` and evaluated node by node: `run_node` counts each
node against a budget and hands it to its handler in the `HANDLERS` table; whatever has no
handler is refused. The guards sit where the handlers touch the outside world: names (an
allowlist of builtins), attributes (`guarded_attribute`: no `_` names, no modules through
modules, no attribute walks in format strings), imports (an exact allowlist). `MAX_OPERATIONS`
stops endless loops and `MAX_DEPTH` runaway recursion.

This file is unit 04's solution, names and all, so a learner stuck on the unit can read it.
`Interpreter` at the bottom puts `evaluate` (yours or this one) behind the `Executor` protocol
that CodeAgent uses. It is slow and in-process, and some work hides inside a single node where
no counter runs (`sum(range(10**12))`): the hardened executors in `minexec` close those holes.

Example:
    >>> state = {}
    >>> evaluate("x = 2\\nprint('x is', x)\\nx * 21", state)
    42
    >>> state["x"], state[PRINT_KEY]
    (2, 'x is 2\\n')
"""

import ast
import builtins
import importlib
import inspect
import itertools
import operator
import string
import types
from collections.abc import Callable, Iterable
from typing import Any

from minagent.executor import InterpreterError, RunResult

MAX_OPERATIONS = 1_000_000  # nodes one evaluate() call may visit: stops `while True: pass`
MAX_DEPTH = 50  # nested calls of functions the code defined: stops runaway recursion
PRINT_KEY = "_print_outputs"  # the state key where evaluate() leaves what the code printed
RUN_KEY = "<run>"  # the state key of the current Run: not an identifier, so no code can name it


# The allowlist: the only builtins the code can see. Anything else (eval, exec, open, getattr,
# globals, __import__, type, ...) is simply not there. `print` is added per run (see Run).
SAFE_BUILTINS = {
    name: getattr(builtins, name)
    for name in [
        "abs", "all", "any", "bool", "chr", "dict", "divmod", "enumerate", "filter", "float",
        "int", "isinstance", "iter", "len", "list", "map", "max", "min", "next", "ord", "pow",
        "range", "repr", "reversed", "round", "set", "sorted", "str", "sum", "tuple", "zip",
    ]
}  # fmt: skip

# What each operator node means, as a plain Python function.
BINARY_OPERATORS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow, ast.MatMult: operator.matmul, ast.LShift: operator.lshift,
    ast.RShift: operator.rshift, ast.BitAnd: operator.and_, ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
}  # fmt: skip
# `x += y` is not `x = x + y`: on a list it extends the same list in place (operator.iadd).
AUGMENTED_OPERATORS = {
    ast.Add: operator.iadd, ast.Sub: operator.isub, ast.Mult: operator.imul,
    ast.Div: operator.itruediv, ast.FloorDiv: operator.ifloordiv, ast.Mod: operator.imod,
    ast.Pow: operator.ipow, ast.MatMult: operator.imatmul, ast.LShift: operator.ilshift,
    ast.RShift: operator.irshift, ast.BitAnd: operator.iand, ast.BitOr: operator.ior,
    ast.BitXor: operator.ixor,
}  # fmt: skip
UNARY_OPERATORS = {
    ast.UAdd: operator.pos, ast.USub: operator.neg, ast.Not: operator.not_,
    ast.Invert: operator.invert,
}  # fmt: skip
COMPARE_OPERATORS = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}  # fmt: skip


# `break`, `continue` and `return` jump out of several nested handlers at once: exceptions do
# exactly that. The loop or function that owns the jump catches it.
class BreakLoop(Exception):
    """Raised by `break`; the nearest loop catches it and stops."""


class ContinueLoop(Exception):
    """Raised by `continue`; the nearest loop catches it and starts its next iteration."""


class ReturnValue(Exception):
    """Raised by `return`; the function being called catches it and returns `.value`."""

    def __init__(self, value):
        super().__init__()
        self.value = value


class Run:
    """The bookkeeping of one evaluate() call: budget, call depth, allowlists, printed text.

    evaluate() stores it in the state under RUN_KEY, so a function defined in an earlier call
    still counts against (and prints into) the current call when it runs.
    """

    def __init__(self, authorized_imports=(), max_operations=MAX_OPERATIONS):
        self.authorized_imports = tuple(authorized_imports)
        self.max_operations = max_operations
        self.operations = 0  # nodes visited so far
        self.depth = 0  # functions (defined by the code) being called right now
        self.printed = []  # pieces of text passed to print()
        self.builtins = {**SAFE_BUILTINS, "print": self.print}

    def print(self, *values, sep=" ", end="\n"):
        """The code's `print`: collects the text instead of writing to the notebook."""
        self.printed.append(sep.join(str(value) for value in values) + end)


def current_run(scopes):
    """The Run of the evaluate() call in progress (scopes[0] is always the state)."""
    return scopes[0][RUN_KEY]


# ---------------------------------------------------------------- the dispatcher
def run_node(node, scopes):
    """Evaluate one node: count it against the budget, then hand it to its handler.

    Args:
        node: an ast node, expression or statement.
        scopes: the variable dicts visible here: scopes[0] is the state (the globals),
            scopes[-1] the innermost function's locals.
    Returns:
        the node's value (None for most statements).
    Raises:
        InterpreterError: over the operation budget, or a node type with no handler.
    Example: run_node(ast.parse("1 + 2", mode="eval").body, [state]) -> 3
    """
    run = current_run(scopes)
    # Every node costs one operation: a loop that never ends runs out of budget.
    run.operations += 1
    if run.operations > run.max_operations:
        raise InterpreterError(
            f"the code used up its budget of {run.max_operations} operations: is there an "
            "infinite loop? Use fewer iterations or a smaller input."
        )
    # Unknown syntax is refused, not guessed: only what we handled below can run.
    handler = HANDLERS.get(type(node))
    if handler is None:
        raise InterpreterError(f"{type(node).__name__} is not supported by this interpreter")
    return handler(node, scopes)


def run_block(statements, scopes):
    """Run statements one after the other (a body of an if, a loop or a function)."""
    for statement in statements:
        run_node(statement, scopes)


# ---------------------------------------------------------------- 1. expressions
def _constant(node, scopes):
    """`42`, `"text"`, `None`: the value is stored in the node."""
    return node.value


def _name(node, scopes):
    """A variable: innermost scope first, then the state, then the allowed builtins.

    Guards: dunder names (`__import__`, `__builtins__`) and builtins outside the allowlist
    (`eval`, `open`, ...) raise InterpreterError; an unknown name raises NameError like Python.
    """
    name = node.id
    if name.startswith("__"):
        raise InterpreterError(f"{name!r} is not allowed: names starting with '__' are off limits")
    for scope in reversed(scopes):
        if name in scope:
            return scope[name]
    run = current_run(scopes)
    if name in run.builtins:
        return run.builtins[name]
    if hasattr(builtins, name):  # a real builtin that is not on our allowlist
        allowed = ", ".join(sorted(run.builtins))
        raise InterpreterError(f"{name!r} is not allowed here. Allowed builtins: {allowed}")
    raise NameError(f"name {name!r} is not defined")


def _binop(node, scopes):
    """`left + right` (and -, *, /, //, %, **, ...): both sides, then BINARY_OPERATORS."""
    operation = BINARY_OPERATORS[type(node.op)]
    return operation(run_node(node.left, scopes), run_node(node.right, scopes))


def _unaryop(node, scopes):
    """`-x`, `+x`, `not x`, `~x`: the operand, then UNARY_OPERATORS."""
    return UNARY_OPERATORS[type(node.op)](run_node(node.operand, scopes))


def _boolop(node, scopes):
    """`a and b and c`, `a or b`: returns the value that decided, and stops evaluating there.

    Example: `0 and 1/0` is 0 (1/0 never runs); `None or "x"` is "x" (a value, not True).
    """
    for value_node in node.values:
        value = run_node(value_node, scopes)
        # `and` stops at the first falsy value, `or` at the first truthy one.
        if isinstance(node.op, ast.And) and not value:
            return value
        if isinstance(node.op, ast.Or) and value:
            return value
    return value


def _compare(node, scopes):
    """`a < b <= c` means `a < b and b <= c`: each operand evaluated once, stop at the first
    comparison that fails. Operators come from COMPARE_OPERATORS (==, <, in, is, ...)."""
    left = run_node(node.left, scopes)
    for op, right_node in zip(node.ops, node.comparators, strict=True):
        right = run_node(right_node, scopes)
        result = COMPARE_OPERATORS[type(op)](left, right)
        if not result:
            return result
        left = right
    return result


def _ifexp(node, scopes):
    """`a if test else b`: only the chosen side is evaluated."""
    return run_node(node.body if run_node(node.test, scopes) else node.orelse, scopes)


def _call(node, scopes):
    """`f(a, *rest, key=value, **options)`: the function, its arguments, then the call.

    Safe because the function can only have come from _name (allowlist) or _attribute (guarded).
    """
    function = run_node(node.func, scopes)
    args = []
    for arg in node.args:
        if isinstance(arg, ast.Starred):  # f(*xs) spreads xs into positional arguments
            args.extend(run_node(arg.value, scopes))
        else:
            args.append(run_node(arg, scopes))
    kwargs = {}
    for keyword in node.keywords:
        if keyword.arg is None:  # f(**options)
            kwargs.update(run_node(keyword.value, scopes))
        else:
            kwargs[keyword.arg] = run_node(keyword.value, scopes)
    return function(*args, **kwargs)


def _sequence(node, scopes):
    """`[a, b]`, `(a, b)`, `{a, b}`: each element, then the same kind of container."""
    values = [run_node(element, scopes) for element in node.elts]
    return {ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)](values)


def _dict(node, scopes):
    """`{"a": 1, **more}`: keys and values in order (a None key means `**more`)."""
    result = {}
    for key, value in zip(node.keys, node.values, strict=True):
        if key is None:
            result.update(run_node(value, scopes))
        else:
            result[run_node(key, scopes)] = run_node(value, scopes)
    return result


def _subscript(node, scopes):
    """`xs[i]`, `d["key"]`, `text[1:4]`: the container, then the index (maybe a slice)."""
    return run_node(node.value, scopes)[run_node(node.slice, scopes)]


def _slice(node, scopes):
    """`1:4:2` inside brackets: a slice object; missing parts are None."""
    parts = (node.lower, node.upper, node.step)
    return slice(*(None if part is None else run_node(part, scopes) for part in parts))


def _joined_str(node, scopes):
    """An f-string `f"total: {x:.2f}"`: its pieces (text and FormattedValue) glued together."""
    return "".join(str(run_node(part, scopes)) for part in node.values)


def _formatted_value(node, scopes):
    """One `{x!r:>8}` of an f-string: the value, its conversion (!r, !s, !a), its format spec.

    The expression inside the braces goes through run_node, so every guard applies to it.
    """
    value = run_node(node.value, scopes)
    if node.conversion != -1:  # -1 means no conversion; else the character code of r, s or a
        value = {ord("r"): repr, ord("s"): str, ord("a"): ascii}[node.conversion](value)
    spec = "" if node.format_spec is None else run_node(node.format_spec, scopes)
    return format(value, spec)


def _attribute(node, scopes):
    """`obj.name`: the object, then the attribute through the guard (see guarded_attribute)."""
    return guarded_attribute(run_node(node.value, scopes), node.attr, current_run(scopes))


# ---------------------------------------------------------------- 2. statements
def _expr(node, scopes):
    """An expression on its own line (`print(x)`, or `x` at the end): its value."""
    return run_node(node.value, scopes)


def assign_to(target, value, scopes):
    """Bind `value` to an assignment target, in the innermost scope.

    Targets: a name (`x = ...`), a tuple or list to unpack, nested as deep as you like
    (`(a, b), c = ...`), or an item (`xs[0] = ...`, `d["k"] = ...`). A wrong number of values
    to unpack raises ValueError like Python; any other target raises InterpreterError (notably
    attributes: the code must not change modules or objects it was given).
    """
    if isinstance(target, ast.Name):
        scopes[-1][target.id] = value
    elif isinstance(target, (ast.Tuple, ast.List)):
        # Take at most one value too many: enough to detect the error, and no more (unpacking
        # `a, b = range(10**12)` must not build a list of a trillion numbers).
        values = list(itertools.islice(value, len(target.elts) + 1))
        if len(values) != len(target.elts):
            raise ValueError(f"expected {len(target.elts)} values to unpack, got {len(values)}")
        for element, item in zip(target.elts, values, strict=True):
            assign_to(element, item, scopes)
    elif isinstance(target, ast.Subscript):
        run_node(target.value, scopes)[run_node(target.slice, scopes)] = value
    else:
        raise InterpreterError(
            f"cannot assign to {type(target).__name__}: assign to names, tuples of names "
            "or items (x[i] = ...)"
        )


def _assign(node, scopes):
    """`x = value`, `a, b = b, a`, `a = b = 0`: the value once, then each target in turn."""
    value = run_node(node.value, scopes)
    for target in node.targets:
        assign_to(target, value, scopes)


def _aug_assign(node, scopes):
    """`x += 1`, `d["k"] -= 2`: read the target, apply AUGMENTED_OPERATORS, store it back.

    The container and key of `d[k] += v` are evaluated once, as in Python.
    """
    operation = AUGMENTED_OPERATORS[type(node.op)]
    target = node.target
    if isinstance(target, ast.Name):
        current = _name(target, scopes)
        scopes[-1][target.id] = operation(current, run_node(node.value, scopes))
    elif isinstance(target, ast.Subscript):
        container, key = run_node(target.value, scopes), run_node(target.slice, scopes)
        container[key] = operation(container[key], run_node(node.value, scopes))
    else:
        raise InterpreterError(f"cannot assign to {type(target).__name__}")


def _if(node, scopes):
    """`if test: ... elif ...: ... else: ...` (an elif is an If inside orelse)."""
    run_block(node.body if run_node(node.test, scopes) else node.orelse, scopes)


def _for(node, scopes):
    """`for target in iterable: body else: orelse`.

    Each item is assigned with assign_to (so `for k, v in d.items()` unpacks). BreakLoop stops
    the loop, ContinueLoop skips to the next item; `else` runs only if no break happened.
    """
    for item in run_node(node.iter, scopes):
        assign_to(node.target, item, scopes)
        try:
            run_block(node.body, scopes)
        except BreakLoop:
            break
        except ContinueLoop:
            continue
    else:  # Python's own for-else has exactly the meaning we need
        run_block(node.orelse, scopes)


def _while(node, scopes):
    """`while test: body else: orelse`, with break and continue as in _for."""
    while run_node(node.test, scopes):
        try:
            run_block(node.body, scopes)
        except BreakLoop:
            break
        except ContinueLoop:
            continue
    else:
        run_block(node.orelse, scopes)


def _break(node, scopes):
    """`break`: raise BreakLoop for the loop around it."""
    raise BreakLoop()


def _continue(node, scopes):
    """`continue`: raise ContinueLoop for the loop around it."""
    raise ContinueLoop()


def _pass(node, scopes):
    """`pass`: nothing to do."""
    return None


# ---------------------------------------------------------------- 3. functions
def make_signature(arguments, scopes):
    """An inspect.Signature for a def's or lambda's `arguments` node (given: plumbing).

    Default values are evaluated now, once, at definition time, as Python does.
    `signature.bind(*args, **kwargs)` then matches a call's arguments to parameters, with
    Python's own TypeError for a missing or unexpected argument.
    """
    P = inspect.Parameter
    positional = arguments.posonlyargs + arguments.args
    defaults = [P.empty] * (len(positional) - len(arguments.defaults))
    defaults += [run_node(default, scopes) for default in arguments.defaults]
    parameters = [
        P(arg.arg, P.POSITIONAL_ONLY if arg in arguments.posonlyargs else P.POSITIONAL_OR_KEYWORD,
          default=default)
        for arg, default in zip(positional, defaults, strict=True)
    ]  # fmt: skip
    if arguments.vararg:
        parameters.append(P(arguments.vararg.arg, P.VAR_POSITIONAL))
    for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
        value = P.empty if default is None else run_node(default, scopes)
        parameters.append(P(arg.arg, P.KEYWORD_ONLY, default=value))
    if arguments.kwarg:
        parameters.append(P(arguments.kwarg.arg, P.VAR_KEYWORD))
    return inspect.Signature(parameters)


def make_function(name, arguments, body, scopes):
    """A real Python function that runs `body` (statements) when called.

    Args:
        name: the function's name ("<lambda>" for a lambda).
        arguments: the ast.arguments node (parameters and defaults).
        body: the statements to run.
        scopes: the scopes where the function is defined: its body sees them (a closure).
    Returns:
        a callable: each call binds the arguments (make_signature), runs the body in a new
        local scope on top of `scopes`, and returns what `return` raised (None without one).
        More than MAX_DEPTH nested calls raise InterpreterError. A real function, so builtins
        can call it too: `sorted(xs, key=lambda x: -x)`.
    """
    signature = make_signature(arguments, scopes)

    def function(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        # The Run of the call in progress, looked up now and not at definition: a function
        # defined by an earlier evaluate() call counts against this call's limits.
        run = current_run(scopes)
        if run.depth >= MAX_DEPTH:
            raise InterpreterError(
                f"more than {MAX_DEPTH} nested function calls: is a recursion missing its base "
                "case? Use a loop instead."
            )
        run.depth += 1
        try:
            run_block(body, [*scopes, dict(bound.arguments)])  # a fresh local scope per call
        except ReturnValue as returned:
            return returned.value
        finally:
            run.depth -= 1
        return None

    function.__name__ = function.__qualname__ = name
    return function


def _function_def(node, scopes):
    """`def name(params): body`: bind the name to make_function(...). Decorators: refused."""
    if node.decorator_list:
        raise InterpreterError("decorators are not supported: call the function explicitly")
    scopes[-1][node.name] = make_function(node.name, node.args, node.body, scopes)


def _lambda(node, scopes):
    """`lambda x: expr`: a function whose body is `return expr`."""
    return make_function("<lambda>", node.args, [ast.Return(node.body)], scopes)


def _return(node, scopes):
    """`return value` (or a bare `return`): raise ReturnValue for the function being called."""
    raise ReturnValue(None if node.value is None else run_node(node.value, scopes))


# ---------------------------------------------------------------- 4. guards
def ensure_authorized(module_name, run):
    """Raise InterpreterError unless `module_name` (dotted, e.g. "os.path") is in
    run.authorized_imports. Exact names only: authorizing "os" does not authorize "os.path".
    The message lists what is authorized, so a model can pick another way."""
    if module_name not in run.authorized_imports:
        allowed = ", ".join(run.authorized_imports) or "none"
        raise InterpreterError(
            f"import of {module_name!r} is not allowed. Authorized imports: {allowed}"
        )


def _import(node, scopes):
    """`import a`, `import a.b as c`, `import a.b`.

    Each dotted name must be authorized. Careful: `import os.path` binds the name `os` (the
    whole os module, os.system included), so without `as` the first part must be authorized too.
    """
    run = current_run(scopes)
    for alias in node.names:
        ensure_authorized(alias.name, run)
        module = importlib.import_module(alias.name)
        if alias.asname:
            scopes[-1][alias.asname] = module
        else:
            top = alias.name.split(".")[0]
            ensure_authorized(top, run)
            scopes[-1][top] = importlib.import_module(top)


def _import_from(node, scopes):
    """`from a.b import c, d as e`: the module must be authorized, and each name is read with
    guarded_attribute (so `from random import _os` is refused like `random._os`).
    `from a import *` and relative imports are refused."""
    run = current_run(scopes)
    if node.level or node.module is None:
        raise InterpreterError("relative imports are not supported")
    ensure_authorized(node.module, run)
    module = importlib.import_module(node.module)
    for alias in node.names:
        if alias.name == "*":
            raise InterpreterError("`import *` is not allowed: import the names you need")
        scopes[-1][alias.asname or alias.name] = guarded_attribute(module, alias.name, run)


def check_format_string(template):
    """Refuse a str.format template whose fields read attributes.

    `"{0.__class__}".format(1)` makes Python itself read `.__class__`, behind our back: no
    Attribute node, no guard. Fields may index (`{0[key]}`) and format (`{:.2f}`), but not
    read attributes. Nested fields in a format spec (`{0:{1.x}}`) are checked too.
    """
    for _text, field, spec, _conversion in string.Formatter().parse(template):
        if field is not None and "." in field:
            raise InterpreterError(
                f"format field {{{field}}} reads an attribute, which is not allowed: "
                "use an f-string instead"
            )
        if spec:
            check_format_string(spec)


def guarded_attribute(obj, name, run):
    """`obj.name`, or InterpreterError when it could lead out of the sandbox.

    Refused: any name starting with "_" (dunders like `__class__` lead to every class in the
    process; private ones like `random._os` to modules nobody authorized), a module reached as
    an attribute unless its dotted name is authorized (`os.path`, `statistics.sys`), and
    `format`/`format_map` of a string whose template reads attributes (check_format_string),
    or of the str class itself (`str.format(template, ...)`).
    """
    if name.startswith("_"):
        raise InterpreterError(
            f"attribute {name!r} is not allowed: names starting with '_' are off limits"
        )
    if name in ("format", "format_map"):
        if obj is str:
            raise InterpreterError("call format on the string itself: 'x = {}'.format(x)")
        if isinstance(obj, str):
            check_format_string(obj)
    value = getattr(obj, name)
    if isinstance(value, types.ModuleType):
        parent = obj.__name__ if isinstance(obj, types.ModuleType) else type(obj).__name__
        ensure_authorized(f"{parent}.{name}", run)
    return value


# ---------------------------------------------------------------- the table and the entry
HANDLERS = {
    # 1. expressions
    ast.Constant: _constant, ast.Name: _name, ast.BinOp: _binop, ast.UnaryOp: _unaryop,
    ast.BoolOp: _boolop, ast.Compare: _compare, ast.IfExp: _ifexp, ast.Call: _call,
    ast.List: _sequence, ast.Tuple: _sequence, ast.Set: _sequence, ast.Dict: _dict,
    ast.Subscript: _subscript, ast.Slice: _slice, ast.JoinedStr: _joined_str,
    ast.FormattedValue: _formatted_value, ast.Attribute: _attribute,
    # 2. statements
    ast.Expr: _expr, ast.Assign: _assign, ast.AugAssign: _aug_assign, ast.If: _if,
    ast.For: _for, ast.While: _while, ast.Break: _break, ast.Continue: _continue,
    ast.Pass: _pass,
    # 3. functions
    ast.FunctionDef: _function_def, ast.Lambda: _lambda, ast.Return: _return,
    # 4. imports, guarded
    ast.Import: _import, ast.ImportFrom: _import_from,
}  # fmt: skip


def evaluate(code, state=None, authorized_imports=(), max_operations=MAX_OPERATIONS):
    """Run Python source with a tree-walking evaluator and return the last expression's value.

    Args:
        code: Python source (several statements).
        state: a dict of variables kept between calls (functions and imports too); updated in
            place. None starts from an empty one.
        authorized_imports: the module names the code may import, e.g. ("math", "os.path").
        max_operations: how many nodes this call may evaluate before it is stopped.
    Returns:
        the value of the last statement if it is an expression, else None. What the code
        printed is left in state[PRINT_KEY] (the text of this call only).
    Raises:
        InterpreterError: refused code (forbidden names, imports, attributes, unsupported
            syntax) or a budget exceeded (operations, call depth).
        Errors of the code itself (ZeroDivisionError, NameError, TypeError, ...) propagate
        as they are.

    Example:
        >>> state = {}
        >>> evaluate("x = 2\\nprint('x is', x)\\nx * 21", state)
        42
        >>> state["x"], state[PRINT_KEY]
        (2, 'x is 2\\n')
    """
    state = {} if state is None else state
    run = Run(authorized_imports, max_operations)
    state[RUN_KEY] = run  # replaces the previous call's Run: a fresh budget and print buffer
    result = None
    try:
        for statement in ast.parse(code).body:
            value = run_node(statement, [state])
            # Like a notebook cell: the value of a final expression statement is the result.
            result = value if isinstance(statement, ast.Expr) else None
    except (BreakLoop, ContinueLoop, ReturnValue):
        raise InterpreterError(
            "'break', 'continue' or 'return' outside a loop or function"
        ) from None
    except RecursionError:
        # A fallback for code nested so deeply that Python's own stack ran out first.
        raise InterpreterError("the code nests too deeply: flatten it") from None
    finally:
        state[PRINT_KEY] = "".join(run.printed)
    return result


# ---------------------------------------------------------------- behind the Executor protocol
class FinalAnswerSignal(BaseException):
    """Raised by the code's `final_answer(x)`: ends the run with x as the answer.

    A BaseException, so no handler between the call and `Interpreter.run` mistakes it for an
    error of the code.
    """

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


def _final_answer(answer: Any) -> None:
    """The `final_answer` the code calls: hands the answer to the executor."""
    raise FinalAnswerSignal(answer)


def _as_function(tool: Callable[..., Any]) -> Callable[..., Any]:
    """A tool as a plain closure: the code can call it but not reach the object behind it
    (`search.fn = ...` would change the host's tool for every later agent)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return tool(*args, **kwargs)

    call.__name__ = call.__qualname__ = getattr(tool, "name", getattr(tool, "__name__", "tool"))
    return call


class Interpreter:
    """`evaluate` as an Executor: state kept between runs, tools and `final_answer` callable.

    Args:
        authorized_imports: module names the code may import, exactly ("math", "os.path").
        tools: functions the code may call, by name (a CodeAgent passes its tools).
        max_operations: the node budget of each run.
        evaluate: the evaluator to use; pass your own from unit 04 to run an agent on it.

    Every failure of the code (refused, raised, over budget) comes out as
    `minagent.executor.InterpreterError`, with what was printed before it in `.logs`.

    Example:
        >>> interpreter = Interpreter(tools={"double": lambda x: 2 * x})
        >>> interpreter.run("y = double(21)\\nprint(y)").logs
        '42\\n'
        >>> result = interpreter.run("final_answer(y + 1)")
        >>> result.output, result.is_final_answer
        (43, True)
    """

    def __init__(
        self,
        authorized_imports: Iterable[str] = (),
        tools: dict[str, Callable[..., Any]] | None = None,
        max_operations: int = MAX_OPERATIONS,
        evaluate: Callable[..., Any] = evaluate,
    ) -> None:
        self.authorized_imports = tuple(authorized_imports)
        self.max_operations = max_operations
        self.state: dict[str, Any] = {}
        self._evaluate = evaluate
        self._functions = {name: _as_function(tool) for name, tool in (tools or {}).items()}
        self._functions["final_answer"] = _final_answer

    def run(self, code: str) -> RunResult:
        """Run one snippet; return its value (or final answer) and what it printed."""
        # Tools are put back before every run: code that rebound one affects this run only.
        self.state.update(self._functions)
        try:
            value = self._evaluate(code, self.state, self.authorized_imports, self.max_operations)
        except FinalAnswerSignal as answer:
            return RunResult(answer.value, self._printed(), True)
        except InterpreterError as refusal:  # already the protocol's error: keep its message
            refusal.logs = self._printed()
            raise
        except Exception as error:  # noqa: BLE001 - the protocol's one error type, for all
            failure = InterpreterError(f"{type(error).__name__}: {error}")
            failure.logs = self._printed()
            raise failure from error
        return RunResult(value, self._printed(), False)

    def close(self) -> None:
        """Nothing to free: the interpreter lives in this process."""

    def _printed(self) -> str:
        return self.state.pop(PRINT_KEY, "")
