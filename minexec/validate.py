"""Static checks on the parsed code, before anything runs.

The validator refuses what can be refused by reading alone: names and attributes that start
with an underscore (the road to `__class__`, `__globals__`, `__subclasses__` and every other
escape), the attribute names of frames, code objects, tracebacks and generators, async code,
class keywords (metaclasses), and dunder methods other than a safe list. What can only be known
at run time (is this value a module? is this string a format with an attribute walk?) is left
to the guards that `rewrite.py` plants.

Example:
    >>> validate(ast.parse("x = (1).__class__"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    minagent.executor.InterpreterError: Line 1: Access to '__class__' is not allowed...
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection
from typing import Any

from .errors import InterpreterError

INTERNAL_PREFIX = "__mg_"
"""Names the rewriter adds; model code can never spell them (they start with '__')."""

ALLOWED_DUNDER_NAMES = frozenset({"__name__"})
"""Dunder names model code may read, because scripts test `if __name__ == "__main__":`."""

READABLE_DUNDER_ATTRIBUTES = frozenset({"__name__", "__qualname__", "__doc__"})
"""Dunder attributes that are plain strings: `type(e).__name__` is everywhere in model code."""

PUBLIC_UNDERSCORE_ATTRIBUTES = frozenset(
    {"_replace", "_asdict", "_fields", "_field_defaults", "_make"}
)
"""namedtuple's public API: the underscore only keeps it apart from field names."""

SAFE_DUNDER_METHODS = frozenset(
    {
        "__init__", "__repr__", "__str__", "__len__", "__iter__", "__next__", "__contains__",
        "__getitem__", "__setitem__", "__delitem__", "__enter__", "__exit__", "__call__",
        "__bool__", "__hash__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__",
        "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
        "__floordiv__", "__mod__", "__neg__", "__pos__", "__abs__", "__post_init__",
        "__rtruediv__", "__rfloordiv__", "__rmod__", "__pow__", "__rpow__", "__matmul__",
        "__rmatmul__", "__and__", "__rand__", "__or__", "__ror__", "__xor__", "__rxor__",
        "__lshift__", "__rlshift__", "__rshift__", "__rrshift__", "__invert__", "__divmod__",
        "__iadd__", "__isub__", "__imul__", "__itruediv__", "__ifloordiv__", "__imod__",
        "__ipow__", "__imatmul__", "__iand__", "__ior__", "__ixor__", "__ilshift__",
        "__irshift__",
    }
)  # fmt: skip
"""Dunder methods a class may define (and reach through `super()`): behaviour, not plumbing.
`__del__`, `__getattribute__`, `__setattr__`, `__init_subclass__`, `__reduce__` and friends run
at moments the host does not choose, so they stay out."""

FORBIDDEN_ATTRIBUTES = frozenset(
    {
        "gi_frame", "gi_code", "gi_yieldfrom", "gi_running", "gi_suspended",
        "cr_frame", "cr_code", "cr_await", "cr_origin", "cr_running", "cr_suspended",
        "ag_frame", "ag_code", "ag_await", "ag_running",
        "f_back", "f_builtins", "f_code", "f_globals", "f_locals", "f_lasti", "f_lineno",
        "f_trace", "f_trace_lines", "f_trace_opcodes",
        "tb_frame", "tb_next", "tb_lasti", "tb_lineno",
        "func_globals", "func_code", "func_closure", "im_func", "im_self", "mro",
    }
)  # fmt: skip
"""Attributes of frames, tracebacks, generators and code that lead back to the interpreter."""

REFUSED_NODES = {
    ast.AsyncFunctionDef: "async functions are not supported; write a plain function",
    ast.AsyncFor: "async for is not supported; use a plain for loop",
    ast.AsyncWith: "async with is not supported; use a plain with block",
    ast.Await: "await is not supported; call the function directly",
}


def check_attribute_name(name: str) -> None:
    """Refuse private, dunder and frame-like attribute names (used statically and by getattr).

    Example: check_attribute_name("upper") passes; check_attribute_name("_os") raises.
    """
    if type(name) is not str:  # a str subclass could lie in startswith()
        raise InterpreterError("Attribute names must be plain strings.")
    if (
        name.startswith("_")
        and name not in READABLE_DUNDER_ATTRIBUTES | PUBLIC_UNDERSCORE_ATTRIBUTES
    ):
        raise InterpreterError(
            f"Access to '{name}' is not allowed: attributes that start with '_' are private. "
            "Use the object's public methods and attributes instead."
        )
    if name in FORBIDDEN_ATTRIBUTES or name.startswith("co_"):
        raise InterpreterError(
            f"Access to '{name}' is not allowed: frames, code objects, tracebacks and "
            "generator internals are out of reach."
        )


def validate(tree: ast.Module, tools: Collection[str] = ()) -> frozenset[str]:
    """Raise InterpreterError for the first construct the sandbox refuses, or for code that
    binds the name of one of `tools`; otherwise return the names the code shares between
    scopes (in `global`, `nonlocal`, or assigned with `:=`), which rewrite.py must know.

    Binding a tool's name is refused because small models often rewrite a tool they were shown
    as a function, with a made-up body; running that would replace the real tool with a guess.
    The error tells them to call it.

    Example:
        >>> sorted(validate(ast.parse("def f():\\n    global n\\n    n = 1")))
        ['n']
        >>> validate(ast.parse("search = 1"), {"search"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        minagent.executor.InterpreterError: Line 1: 'search' is a tool that already exists: ...
    """
    shared: set[str] = set()
    for node in ast.walk(tree):
        try:
            _check_node(node)
        except InterpreterError as error:
            line = getattr(node, "lineno", None)
            raise InterpreterError(f"Line {line}: {error}" if line else str(error)) from None
        kind = type(node)
        if kind is ast.Global or kind is ast.Nonlocal:
            shared.update(node.names)  # type: ignore[attr-defined]
        elif kind is ast.NamedExpr:
            shared.add(node.target.id)  # type: ignore[attr-defined]
        for name in bound_names(node) if tools else ():
            if name in tools:
                raise InterpreterError(
                    f"Line {getattr(node, 'lineno', '?')}: '{name}' is a tool that already "
                    f"exists: call it as {name}(...) instead of defining, assigning or "
                    "importing that name."
                )
    return frozenset(shared)


def bound_names(node: ast.AST) -> list[str]:
    """The names a node binds in its scope (assignment targets, defs, imports, handlers).

    Example: bound_names(ast.parse("import os.path").body[0]) is ['os'].
    """
    if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
        return [node.id]
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, ast.Import):
        return [alias.asname or alias.name.split(".")[0] for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        return [alias.asname or alias.name for alias in node.names]
    if isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
        return [node.name]
    if isinstance(node, ast.MatchMapping) and node.rest:
        return [node.rest]
    return []


def _check_node(node: ast.AST) -> None:
    if type(node) in REFUSED_NODES:
        raise InterpreterError(REFUSED_NODES[type(node)])
    check = _CHECKS.get(type(node))
    if check is not None:
        check(node)


def _check_function(node: ast.FunctionDef) -> None:
    _check_annotation(node.returns)
    if node.name.startswith("__") and node.name not in SAFE_DUNDER_METHODS:
        raise InterpreterError(
            f"Defining '{node.name}' is not allowed; dunder methods are limited to: "
            + ", ".join(sorted(SAFE_DUNDER_METHODS))
        )


def _check_arg(node: ast.arg) -> None:
    _check_name(node.arg, loading=False)
    _check_annotation(node.annotation)


def _check_bound_names(*names: str | None) -> None:
    for name in names:
        if name:
            _check_name(name, loading=False)


_CHECKS: dict[type, Callable[[Any], None]] = {
    # Every construct that names something: no '__' names, no private or frame attributes.
    ast.Name: lambda n: _check_name(n.id, loading=isinstance(n.ctx, ast.Load)),
    ast.Attribute: lambda n: _is_super_dunder(n) or check_attribute_name(n.attr),
    ast.Import: lambda n: _check_import(n),
    ast.ImportFrom: lambda n: _check_import(n),
    ast.ClassDef: lambda n: _check_class(n),
    ast.FunctionDef: _check_function,
    ast.arg: _check_arg,
    ast.AnnAssign: lambda n: _check_annotation(n.annotation),
    ast.Global: lambda n: _check_bound_names(*n.names),
    ast.Nonlocal: lambda n: _check_bound_names(*n.names),
    ast.ExceptHandler: lambda n: _check_bound_names(n.name),
    ast.MatchAs: lambda n: _check_bound_names(n.name),
    ast.MatchStar: lambda n: _check_bound_names(n.name),
    ast.MatchMapping: lambda n: _check_bound_names(n.rest),
    ast.MatchClass: lambda n: [check_attribute_name(name) for name in n.kwd_attrs],
    ast.keyword: lambda n: _check_bound_names(n.arg),
}
"""Node type -> the check for it (node types not listed need none)."""


def _check_annotation(annotation: ast.expr | None) -> None:
    """String annotations are code that typing.get_type_hints() would eval() unguarded."""
    if annotation is None:
        return
    for node in ast.walk(annotation):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            raise InterpreterError(
                "String annotations are not allowed (they are evaluated as code outside the "
                "sandbox's checks). Write the type itself, or leave the annotation out."
            )


def _check_name(name: str, loading: bool) -> None:
    if name.startswith("__") and not (loading and name in ALLOWED_DUNDER_NAMES):
        raise InterpreterError(
            f"The name '{name}' is not allowed: names that start with '__' belong to the "
            "interpreter. Pick another name."
        )


def _is_super_dunder(node: ast.Attribute) -> bool:
    """`super().__init__(...)`: the one dunder attribute access classes need."""
    call = node.value
    return (
        node.attr in SAFE_DUNDER_METHODS
        and isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id == "super"
    )


def _check_import(node: ast.Import | ast.ImportFrom) -> None:
    if isinstance(node, ast.ImportFrom):
        if node.level:
            raise InterpreterError("Relative imports are not allowed; import by full name.")
        for alias in node.names:
            if alias.name == "*":
                raise InterpreterError(
                    f"'from {node.module} import *' is not allowed; import the names you need."
                )
            check_attribute_name(alias.name)
    for alias in node.names:
        if alias.asname:
            _check_name(alias.asname, loading=False)


def _check_class(node: ast.ClassDef) -> None:
    _check_name(node.name, loading=False)
    if node.keywords:
        raise InterpreterError(
            "Class keywords (metaclass=..., and the like) are not allowed; "
            "write a plain class with base classes only."
        )
