"""Rewrite validated code so that every risky step goes through a guard, then compile it.

This is why the interpreter is fast: instead of walking the tree node by node in Python (as
smolagents' LocalPythonExecutor does), we change the tree once and let CPython run the bytecode.
The changes:

    obj.name            ->  __mg_getattr__(obj, "name")           (modules, frames, str.format)
    obj.name = v        ->  __mg_setattr__(obj, "name", v)        (no writes to modules/classes)
    (a.b, c) = v        ->  (__mg_target__(a).b, c) = v           (the same check, via a proxy)
    a ** b, a << b      ->  __mg_pow__(a, b), __mg_lshift__(a, b) (size checked first)
    a * b, a % b        ->  __mg_mul__(a, b), __mg_mod__(a, b)    (unless a literal makes it safe)
    a + b, a // b       ->  __mg_add__(a, b), __mg_floordiv__     (unless a literal makes it safe)
    [*xs, *ys]          ->  [*__mg_star__(xs), *__mg_star__(ys)]  (each unpacked sequence sized)
    x += v, x *= v      ->  x = __mg_iadd__(x, v), __mg_imul__    (in place, as Python does)
    f"{x:{spec}}"       ->  f"{__mg_format__(x, conv, spec)}"     (width checked)
    f"{a}{b}"           ->  __mg_text__(f"{a}{b}")                (size checked once built)
    f"{x}", str(x)      ->  f"{__mg_shown__(x)}", str(__mg_shown__(x)) (size of the text first)
    while t: ...        ->  for [] in __mg_forever__():           (a ticket a pass, as for loops)
                                if not t: break ...
    def/lambda          ->  __mg_tick__() first                   (operation and time budget)
    for x in xs         ->  for x in __mg_loop__(xs)              (the same, with no call per item)
    [... for x in xs]   ->  [... for x in __mg_loop__(xs)]
    for i in range(n)   ->  for i in __mg_count__(range(n))       (i is an exact int: see Counters)
    except ...:         ->  __mg_reraise__() first                (a stopped run stays stopped)
    import a.b as c     ->  c = __mg_import__("a.b", True)        (allowlist)
    class C: ...        ->  @__mg_class__ class C: ...            (so C may be modified later)
    last expression e   ->  __mg_output__(e)                      (the value of the run)

Example:
    >>> ast.unparse(Rewriter().visit(ast.parse("x.y ** 2")))
    "__mg_output__(__mg_pow__(__mg_getattr__(x, 'y'), 2))"

Counters. Most loops count: `for i in range(n)`. Inside such a loop `i` is an int, unless
something rebinds it, so `i * i`, `i % 7` and `f"{i}"` need no guard: an int times an int it
does not come from cannot double a sequence, and an int's text is short. The rewriter calls `i`
a counter of the loop body, and plants no guard on arithmetic of counters and int literals,
when no code can rebind `i` while the body runs:

- nothing in the body binds `i` (an assignment, `del`, `except ... as i`, an import, a def,
  a nested scope's own `i`: anything that binds the name anywhere inside the body);
- no code of the run, and no code the interpreter ran before, names `i` in `global` or
  `nonlocal` or assigns it with `:=` (a generator from an earlier run may bind a global that
  way, long after it was written): the interpreter passes those names as `shared`;
- the body's own nested functions, lambdas, classes and generator expressions run later,
  when `i` may be anything: they get no counters. List, set and dict comprehensions run on
  the spot and keep them; their own `for x in range(...)` makes `x` a counter inside them.

`range` may have been rebound by the code: `__mg_count__` checks a real range by its ends and
every item of anything else, so a counter is always an exact int of at most half
`Budgets.max_int_bits`, and the product of two counters within it.

    >>> print(ast.unparse(Rewriter().visit(ast.parse("for i in range(9):\\n    s = f'{i * i}'"))))
    for i in __mg_count__(range(9)):
        s = f'{i * i}'
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection
from types import CodeType
from typing import Any, TypeVar

from .validate import bound_names

WATCHED_NAMES = frozenset(
    {"format", "format_map", "join", "replace", "translate", "to_bytes", "register"}
    | {"choices", "randbytes", "getrandbits", "elements"}
    | {"ljust", "rjust", "center", "zfill", "expandtabs"}
    | {"from_bytes", "sub", "subn", "expand", "extend"}
)
"""Attribute names whose values the guards may replace (str.format, ljust, random.choices...):
they go to `__mg_getattr_watched__`, every other name to the leaner `__mg_getattr__`."""

FILENAME = "<code>"
"""File name the compiled code carries, so error messages can point at the model's line."""

SMALL_FACTOR = 1000
"""`k % x` with a literal number |k| <= this stays unguarded: it can only be arithmetic."""

_GUARDED_OPS = {
    ast.Pow: "__mg_pow__", ast.LShift: "__mg_lshift__", ast.Mult: "__mg_mul__",
    ast.Add: "__mg_add__", ast.FloorDiv: "__mg_floordiv__",
}  # fmt: skip
_OPERATORS = (ast.operator, ast.unaryop, ast.cmpop, ast.boolop)
_IN_PLACE = {
    "__mg_mul__": "__mg_imul__", "__mg_small_mul__": "__mg_imul__", "__mg_add__": "__mg_iadd__",
}  # fmt: skip


def _call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[])


def _tick(at: ast.AST) -> ast.Expr:
    return _at(ast.Expr(value=_call("__mg_tick__")), at)


_POSITION = ("lineno", "col_offset", "end_lineno", "end_col_offset")
_PLACED = (ast.expr, ast.stmt)  # the nodes that have a position
_Node = TypeVar("_Node", bound=ast.AST)


def _at(new: _Node, old: ast.AST) -> _Node:
    """Give the nodes the rewriter built the position of the code they guard, so that errors
    point at the model's line. Only the new nodes are walked: `ast.fix_missing_locations`
    walks the whole tree again, which took as long as the rewrite itself.

    Example:
        >>> old = ast.parse("x").body[0].value
        >>> _at(_call("__mg_shown__", old), old).func.lineno
        1
    """
    position = [getattr(old, key) for key in _POSITION]
    stack: list[Any] = [new]
    while stack:
        node = stack.pop()
        if isinstance(node, _PLACED) and getattr(node, "lineno", None) is None:
            node.lineno, node.col_offset, node.end_lineno, node.end_col_offset = position
            for field in node._fields:  # the parts it holds may be new too
                part = getattr(node, field, None)
                stack.extend(part) if isinstance(part, list) else stack.append(part)
    return new


def _small_number(node: ast.expr) -> bool:
    value = node.value if isinstance(node, ast.Constant) else None
    return type(value) in (int, float) and abs(value) <= SMALL_FACTOR


def _small_int(node: ast.expr) -> bool:
    """`x * 3`, `i % 7`: the guard for a small int literal needs one type check for numbers."""
    return _small_number(node) and type(node.value) is int  # type: ignore[attr-defined]


def _float_literal(node: ast.expr) -> bool:
    """`x * 0.5`: a float never repeats a sequence. An int literal may: `s * 1000` of a
    million-item s is a billion items, so `x * 3` is guarded (its guard is one type check)."""
    return isinstance(node, ast.Constant) and type(node.value) is float


COUNTER, INT = "counter", "int"
"""Kinds of int expressions. COUNTER: a counter, an int literal, or what stays as small (`-i`,
`i % 7`, `i // 2`). INT: sums and products of those (`i * j + k`), at most twice the bits.
Only COUNTER * COUNTER is multiplied unguarded (counters have at most half max_int_bits), so
an unguarded product never feeds another: a long expression grows linearly, and `x = x * x` in
a loop is always guarded."""

_SAME_SIZE_OPS = (ast.USub, ast.UAdd, ast.Invert)
_LINEAR_OPS = (ast.Add, ast.Sub, ast.BitAnd, ast.BitOr, ast.BitXor, ast.RShift)
"""Operators whose int result has at most one bit more than its larger operand."""


def _is_range_call(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (node.func.id == "range")
    )


_LEAVES = frozenset(
    {ast.Name, ast.Constant, ast.Load, ast.Store, ast.Del}
    | {operator for kind in _OPERATORS for operator in kind.__subclasses__()}
)
"""Nodes with nothing inside to rewrite (the Rewriter has no visit_ method for them): a name,
a literal, an operator. Most nodes of a snippet are these, so the Rewriter does not visit them."""


class Rewriter(ast.NodeTransformer):
    """Plant the guard calls listed in the module docstring; run only on validated trees."""

    def __init__(self, shared: Collection[str] = ()) -> None:
        self.shared = frozenset(shared)
        self.counters: frozenset[str] = frozenset()  # names that hold an exact int right here
        self.int_nodes: dict[ast.AST, str] = {}  # unguarded arithmetic of ints -> its Kind

    def generic_visit(self, node: ast.AST) -> ast.AST:
        """NodeTransformer's, less its field generator and the visits of _LEAVES: every
        snippet is rewritten before it runs, so this loop is a part of every run's time."""
        for field in node._fields:
            old = getattr(node, field, None)
            if type(old) is list:
                self._visit_list(old)
            elif isinstance(old, ast.AST) and type(old) not in _LEAVES:
                setattr(node, field, self.visit(old))
        return node

    def _visit_list(self, nodes: list[Any]) -> None:
        new: list[Any] = []
        for value in nodes:
            if isinstance(value, ast.AST) and type(value) not in _LEAVES:
                value = self.visit(value)
            if isinstance(value, list):  # an import: one statement per name
                new.extend(value)
            else:
                new.append(value)
        nodes[:] = new

    def _visit(self, node: _Node) -> _Node:
        return node if type(node) in _LEAVES else self.visit(node)

    def _visit_with(self, counters: frozenset[str], node: _Node) -> _Node:
        """Visit `node` with these counters in force (a nested scope gets none)."""
        outer, self.counters = self.counters, counters
        try:
            return self._visit(node)
        finally:
            self.counters = outer

    def visit_Module(self, node: ast.Module) -> ast.Module:
        self.generic_visit(node)
        if node.body and isinstance(node.body[-1], ast.Expr):
            last = node.body[-1]
            last.value = _at(_call("__mg_output__", last.value), last.value)
        return node

    # -- attributes -----------------------------------------------------------------------
    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load):
            guard = "__mg_getattr_watched__" if node.attr in WATCHED_NAMES else "__mg_getattr__"
            return _at(_call(guard, node.value, ast.Constant(node.attr)), node)
        # Store and Del: the proxy checks the object before setting or deleting.
        node.value = _at(_call("__mg_target__", node.value), node.value)
        return node

    def visit_Assign(self, node: ast.Assign) -> ast.stmt:
        self.generic_visit(node)
        target = node.targets[0]
        if len(node.targets) == 1 and isinstance(target, ast.Attribute):
            # The common `self.x = v`: one direct call is cheaper than the proxy.
            obj = target.value.args[0]  # visit_Attribute wrapped it in __mg_target__
            call = _call("__mg_setattr__", obj, ast.Constant(target.attr), node.value)
            return _at(ast.Expr(value=call), node)
        return node

    # -- operators that can build huge values ---------------------------------------------
    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        kind = self._int_result(node.op, node.left, node.right)
        if kind is not None:
            self.int_nodes[node] = kind
            return node
        guard = self._guard_for(node.op, node.right, node.left)
        return _at(_call(guard, node.left, node.right), node) if guard else node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        self.generic_visit(node)
        kind = self._kind(node.operand)
        if kind is not None and isinstance(node.op, _SAME_SIZE_OPS):
            self.int_nodes[node] = kind
        return node

    def _kind(self, node: ast.expr) -> str | None:
        """COUNTER or INT where `node` (already rewritten) is sure to give an exact int."""
        if isinstance(node, ast.Name):
            return COUNTER if node.id in self.counters else None
        if isinstance(node, ast.Constant):
            return COUNTER if type(node.value) is int else None
        return self.int_nodes.get(node)

    def _int_result(self, op: ast.operator, left: ast.expr, right: ast.expr) -> str | None:
        """The Kind of `left op right` where both are ints and it needs no guard, else None."""
        left_kind, right_kind = self._kind(left), self._kind(right)
        if left_kind is None or right_kind is None:
            return None
        if isinstance(op, _LINEAR_OPS):
            return INT
        if isinstance(op, ast.Mult) and left_kind == right_kind == COUNTER:
            return INT  # the bits of both, and INT is never multiplied unguarded
        if isinstance(op, (ast.Mod, ast.FloorDiv)) and _small_int(right):
            return COUNTER if isinstance(op, ast.Mod) else left_kind  # linear division
        return None

    def _guard_for(self, op: ast.operator, right: ast.expr, left: ast.expr) -> str | None:
        if isinstance(op, ast.Mod):
            # `fmt % args` can pad a string to any width, and fmt may be any variable,
            # so only a literal number on the left is certain to be arithmetic.
            if _small_number(left):
                return None
            return "__mg_small_mod__" if _small_int(right) else "__mg_mod__"
        if isinstance(op, ast.FloorDiv) and isinstance(right, ast.Constant):
            return None  # `n // 2`: linear, however big n is
        if isinstance(op, ast.Mult) and (_float_literal(right) or _float_literal(left)):
            return None
        if isinstance(op, ast.Mult) and (_small_int(right) or _small_int(left)):
            return "__mg_small_mul__"
        if isinstance(op, ast.Add) and (
            isinstance(right, ast.Constant) or isinstance(left, ast.Constant)
        ):
            return None  # `s + "x"`, `i + 1`: a literal cannot double anything
        return _GUARDED_OPS.get(type(op))

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.stmt:
        self.generic_visit(node)
        guard = self._guard_for(node.op, node.value, node.target)
        if guard is None:
            return node
        guard = _IN_PLACE.get(guard, guard)  # `xs += ys` extends the list xs, as in Python
        target, op = node.target, ast.Name(id=guard, ctx=ast.Load())
        if isinstance(target, ast.Name):  # `x op= v` -> `x = guard(x, v)`
            load = ast.Name(id=target.id, ctx=ast.Load())
            return _at(ast.Assign(targets=[target], value=_call(guard, load, node.value)), node)
        if isinstance(target, ast.Subscript):  # `a[k] op= v` -> one call, a and k read once
            key = _slice_as_value(target.slice)
            call = _call("__mg_augitem__", target.value, key, op, node.value)
            return _at(ast.Expr(value=call), node)
        obj = target.value.args[0]  # an Attribute, already wrapped in __mg_target__(obj)
        call = _call("__mg_augattr__", obj, ast.Constant(target.attr), op, node.value)
        return _at(ast.Expr(value=call), node)

    def visit_Starred(self, node: ast.Starred) -> ast.Starred:
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load):  # `[*xs, *xs]`, `f(*xs)`: each star is sized
            node.value = _at(_call("__mg_star__", node.value), node.value)
        return node

    # -- f-string format specs ------------------------------------------------------------
    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.FormattedValue:
        self.generic_visit(node)
        if node.format_spec is None:
            if not self._short_text(node.value):  # f"{[s] * 1000}": sized first
                node.value = _at(_call("__mg_shown__", node.value), node.value)
            return node
        value = _call("__mg_format__", node.value, ast.Constant(node.conversion), node.format_spec)
        return _at(ast.FormattedValue(value=value, conversion=-1, format_spec=None), node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.expr:
        self.generic_visit(node)
        fields = [part for part in node.values if isinstance(part, ast.FormattedValue)]
        if sum(not self._short_text(field.value) for field in fields) < 2:
            return node  # f"{s}!", f"{s}{i}" add a few characters: they cannot double s
        return _at(_call("__mg_text__", node), node)  # s = f"{s}{s}" doubles: sized once built

    def visit_Call(self, node: ast.Call) -> ast.Call:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "str" and len(node.args) == 1:
            if not self._short_text(node.args[0]):  # str([s] * 1000)
                node.args[0] = _at(_call("__mg_shown__", node.args[0]), node.args[0])
        return node

    def _short_text(self, node: ast.expr) -> bool:
        """A literal or an int: its text is short (Python refuses ints over 4300 digits)."""
        return isinstance(node, ast.Constant) or self._kind(node) is not None

    # -- budgets: loops, functions, comprehensions ----------------------------------------
    def visit_For(self, node: ast.For) -> ast.For:
        node.target = self._visit(node.target)
        node.iter = self._visit(node.iter)
        counter = self._counter(node.target, node.iter, lambda name: _binds(node.body, name))
        outer = self.counters
        self.counters = outer | {counter} if counter else outer
        self._visit_list(node.body)
        self.counters = outer  # after the loop, or in `else`, it may not have run at all
        self._visit_list(node.orelse)
        loop = "__mg_count__" if counter else "__mg_loop__"
        node.iter = _at(_call(loop, node.iter), node.iter)
        return node

    def _counter(
        self, target: ast.expr, iterable: ast.expr, rebound: Callable[[str], bool]
    ) -> str | None:
        """The name `for name in range(...)` binds, if it is not shared and not `rebound`."""
        if not (isinstance(target, ast.Name) and _is_range_call(iterable)):
            return None
        name = target.id
        return None if name in self.shared or rebound(name) else name

    def visit_While(self, node: ast.While) -> ast.stmt:
        self.generic_visit(node)
        if node.orelse:  # a `break` or `continue` in `else` belongs to an outer loop
            node.body.insert(0, _tick(node))
            return node
        stop = ast.If(
            test=ast.UnaryOp(op=ast.Not(), operand=node.test), body=[ast.Break()], orelse=[]
        )
        tickets = _call("__mg_forever__")
        loop = ast.For(target=ast.List(elts=[], ctx=ast.Store()), iter=tickets, orelse=[])
        loop.body = [stop, *node.body]
        return _at(loop, node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        self._new_scope(node)
        has_docstring = (
            node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
            and isinstance(node.body[0].value.value, str)
        )
        node.body.insert(1 if has_docstring else 0, _tick(node))
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.Lambda:
        self._new_scope(node)
        # tick() returns None, so `None or body` evaluates to body.
        body = ast.BoolOp(op=ast.Or(), values=[_call("__mg_tick__"), node.body])
        node.body = _at(body, node.body)
        return node

    def visit_ListComp(self, node: ast.ListComp) -> ast.ListComp:
        return self._comprehension(node, ("elt",), eager=True)

    def visit_SetComp(self, node: ast.SetComp) -> ast.SetComp:
        return self._comprehension(node, ("elt",), eager=True)

    def visit_DictComp(self, node: ast.DictComp) -> ast.DictComp:
        return self._comprehension(node, ("key", "value"), eager=True)

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> ast.GeneratorExp:
        return self._comprehension(node, ("elt",), eager=False)

    def _comprehension(self, node: _Node, results: tuple[str, ...], eager: bool) -> _Node:
        """A comprehension is a scope of its own. The first `in` runs outside it; the rest
        runs on the spot (list, set, dict: the counters around it still hold) or later (a
        generator: none do). `for x in range(...)` makes x a counter for what follows it,
        unless another `for` of the same comprehension binds x too."""
        generators: list[ast.comprehension] = node.generators  # type: ignore[attr-defined]
        bound = [name for part in generators for name in _target_names(part.target)]
        counters = (self.counters if eager else frozenset()) - set(bound)
        for index, part in enumerate(generators):
            if index == 0:  # evaluated outside the comprehension, at once
                part.iter = self._visit(part.iter)
            else:
                part.iter = self._visit_with(counters, part.iter)
            part.target = self._visit_with(counters, part.target)
            counter = self._counter(part.target, part.iter, lambda name: bound.count(name) > 1)
            counters = counters | {counter} if counter else counters
            part.ifs = [self._visit_with(counters, test) for test in part.ifs]
            loop = "__mg_count__" if counter else "__mg_loop__"
            part.iter = _at(_call(loop, part.iter), part.iter)
        for field in results:
            setattr(node, field, self._visit_with(counters, getattr(node, field)))
        return node

    def _new_scope(self, node: ast.AST) -> None:
        """A def, lambda or class: its code runs later (or, for a class body, in a namespace
        of its own), when a counter around it may hold anything."""
        outer, self.counters = self.counters, frozenset()
        try:
            self.generic_visit(node)
        finally:
            self.counters = outer

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.ExceptHandler:
        self.generic_visit(node)
        node.body.insert(0, _at(ast.Expr(value=_call("__mg_reraise__")), node))
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.ClassDef:
        self._new_scope(node)
        # Innermost: the class is registered before the code's own decorators see it.
        node.decorator_list.append(_at(ast.Name(id="__mg_class__", ctx=ast.Load()), node))
        return node

    # -- imports --------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> list[ast.stmt]:
        statements: list[ast.stmt] = []
        for alias in node.names:
            # `import a.b` binds `a`; `import a.b as c` binds the submodule itself.
            bound = alias.asname or alias.name.split(".")[0]
            value = _call(
                "__mg_import__", ast.Constant(alias.name), ast.Constant(bool(alias.asname))
            )
            statements.append(_at(_assign(bound, value), node))
        return statements

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.stmt:
        if node.module == "__future__":
            return _at(ast.Pass(), node)  # compiler directives: harmless, nothing to bind
        names = [alias.name for alias in node.names]
        value = _call("__mg_from__", ast.Constant(node.module), ast.Constant(tuple(names)))
        targets = [ast.Name(id=a.asname or a.name, ctx=ast.Store()) for a in node.names]
        assign = ast.Assign(targets=[ast.Tuple(elts=targets, ctx=ast.Store())], value=value)
        return _at(assign, node)


def _binds(body: list[ast.stmt], name: str) -> bool:
    """Whether anything in `body`, nested scopes included, binds `name`."""
    return any(name in bound_names(node) for statement in body for node in ast.walk(statement))


def _target_names(target: ast.expr) -> list[str]:
    return [node.id for node in ast.walk(target) if isinstance(node, ast.Name)]


def _assign(name: str, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())], value=value)


def _slice_as_value(node: ast.expr) -> ast.expr:
    """`a[1:2]`'s slice as an ordinary value, `slice(1, 2, None)`, to pass to a guard."""
    if not isinstance(node, ast.Slice):
        return node
    parts = [part or ast.Constant(None) for part in (node.lower, node.upper, node.step)]
    return _call("slice", *parts)


def compile_guarded(tree: ast.Module, shared: Collection[str] = ()) -> CodeType:
    """Rewrite a validated tree and compile it to a code object ready for exec().

    `shared`: names that code other than the statement binding them may rebind (see
    Counters): from `global`, `nonlocal` and `:=` in this code and in all code run before
    in the same namespace."""
    return compile(Rewriter(shared).visit(tree), FILENAME, "exec", dont_inherit=True)
