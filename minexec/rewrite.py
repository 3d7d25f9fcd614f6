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
    while/def/lambda    ->  __mg_tick__() first                   (operation and time budget)
    for x in xs         ->  for x in __mg_loop__(xs)              (the same, with no call per item)
    [... for x in xs]   ->  [... for x in __mg_loop__(xs)]
    except ...:         ->  __mg_reraise__() first                (a stopped run stays stopped)
    import a.b as c     ->  c = __mg_import__("a.b", True)        (allowlist)
    class C: ...        ->  @__mg_class__ class C: ...            (so C may be modified later)
    last expression e   ->  __mg_output__(e)                      (the value of the run)

Example:
    >>> ast.unparse(Rewriter().visit(ast.parse("x.y ** 2")))
    "__mg_output__(__mg_pow__(__mg_getattr__(x, 'y'), 2))"
"""

from __future__ import annotations

import ast
from types import CodeType
from typing import Any, TypeVar

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


_LEAVES = frozenset(
    {ast.Name, ast.Constant, ast.Load, ast.Store, ast.Del}
    | {operator for kind in _OPERATORS for operator in kind.__subclasses__()}
)
"""Nodes with nothing inside to rewrite (the Rewriter has no visit_ method for them): a name,
a literal, an operator. Most nodes of a snippet are these, so the Rewriter does not visit them."""


class Rewriter(ast.NodeTransformer):
    """Plant the guard calls listed in the module docstring; run only on validated trees."""

    def generic_visit(self, node: ast.AST) -> ast.AST:
        """NodeTransformer's, less its field generator and the visits of _LEAVES: every
        snippet is rewritten before it runs, so this loop is a part of every run's time."""
        for field in node._fields:
            old = getattr(node, field, None)
            if type(old) is list:
                new: list[ast.AST] = []
                for value in old:
                    if isinstance(value, ast.AST) and type(value) not in _LEAVES:
                        value = self.visit(value)
                    if isinstance(value, list):  # an import: one statement per name
                        new.extend(value)
                    else:
                        new.append(value)
                old[:] = new
            elif isinstance(old, ast.AST) and type(old) not in _LEAVES:
                setattr(node, field, self.visit(old))
        return node

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
        guard = self._guard_for(node.op, node.right, node.left)
        return _at(_call(guard, node.left, node.right), node) if guard else node

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
            if not isinstance(node.value, ast.Constant):  # f"{[s] * 1000}": sized first
                node.value = _at(_call("__mg_shown__", node.value), node.value)
            return node
        value = _call("__mg_format__", node.value, ast.Constant(node.conversion), node.format_spec)
        return _at(ast.FormattedValue(value=value, conversion=-1, format_spec=None), node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.expr:
        self.generic_visit(node)
        if sum(isinstance(part, ast.FormattedValue) for part in node.values) < 2:
            return node  # f"{s}!" adds a constant: it cannot double s
        return _at(_call("__mg_text__", node), node)  # s = f"{s}{s}" doubles: sized once built

    def visit_Call(self, node: ast.Call) -> ast.Call:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "str" and len(node.args) == 1:
            node.args[0] = _at(_call("__mg_shown__", node.args[0]), node.args[0])  # str([s] * 1000)
        return node

    # -- budgets: loops, functions, comprehensions ----------------------------------------
    def visit_For(self, node: ast.For) -> ast.For:
        self.generic_visit(node)
        node.iter = _at(_call("__mg_loop__", node.iter), node.iter)
        return node

    def visit_While(self, node: ast.While) -> ast.While:
        self.generic_visit(node)
        node.body.insert(0, _tick(node))
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        self.generic_visit(node)
        has_docstring = (
            node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
            and isinstance(node.body[0].value.value, str)
        )
        node.body.insert(1 if has_docstring else 0, _tick(node))
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.Lambda:
        self.generic_visit(node)
        # tick() returns None, so `None or body` evaluates to body.
        body = ast.BoolOp(op=ast.Or(), values=[_call("__mg_tick__"), node.body])
        node.body = _at(body, node.body)
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.comprehension:
        self.generic_visit(node)
        node.iter = _at(_call("__mg_loop__", node.iter), node.iter)
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.ExceptHandler:
        self.generic_visit(node)
        node.body.insert(0, _at(ast.Expr(value=_call("__mg_reraise__")), node))
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.ClassDef:
        self.generic_visit(node)
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


def _assign(name: str, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())], value=value)


def _slice_as_value(node: ast.expr) -> ast.expr:
    """`a[1:2]`'s slice as an ordinary value, `slice(1, 2, None)`, to pass to a guard."""
    if not isinstance(node, ast.Slice):
        return node
    parts = [part or ast.Constant(None) for part in (node.lower, node.upper, node.step)]
    return _call("slice", *parts)


def compile_guarded(tree: ast.Module) -> CodeType:
    """Rewrite a validated tree and compile it to a code object ready for exec()."""
    return compile(Rewriter().visit(tree), FILENAME, "exec", dont_inherit=True)
