"""Tool schemas: a typed Python function to the JSON schema a model reads.

A model never sees a tool's code, only its schema: name, description and typed parameters.
`function_to_schema` writes that schema from a function's type hints and its Google-style
docstring, in exactly the format of Hugging Face transformers' `get_json_schema`, so the same
function gives the same prompt here and there. `JSON_TYPES` is the one table of JSON types
that the rest of minagent reads.

Example:
    >>> def add(a: int, b: int = 0):
    ...     '''Add two integers.
    ...
    ...     Args:
    ...         a: The first number.
    ...         b: The second number.
    ...     '''
    >>> function_to_schema(add)["function"]["parameters"]["properties"]["a"]
    {'type': 'integer', 'description': 'The first number.'}
"""

from __future__ import annotations

import inspect
import json
import re
import types
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints


class ToolDefinitionError(ValueError):
    """A tool cannot be built: no docstring, an undocumented argument, a bad type hint."""


def python_type_name(json_type: str) -> str:
    """How a JSON schema type reads in Python: ``python_type_name("integer")`` -> ``"int"``.

    A name outside JSON_TYPES (``"image"``, ``"any"``) comes back as it is.
    """
    if json_type == "null":
        return "None"
    classes = JSON_TYPES.get(json_type)
    return classes[0].__name__ if classes else json_type


JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (float, int),
    "boolean": (bool,),
    "array": (list, tuple),
    "object": (dict, Mapping),
    "null": (type(None),),
}
"""The one table of JSON schema types: each name and the Python classes whose values it
accepts, the type's own class first. Everything else here (the scalars below, argument
checks, Python names in a code agent's prompt, MCP output types) is read off it."""

# Python types that a JSON value can hold directly, with their JSON schema names.
JSON_SCALARS = {
    classes[0]: name for name, classes in JSON_TYPES.items() if name not in ("array", "object")
}
# Bare (unparameterized) types and the schema each becomes. Any allows every value.
BARE_TYPES: dict[Any, dict] = {
    **{python: {"type": name} for python, name in JSON_SCALARS.items()},
    list: {"type": "array"},
    tuple: {"type": "array"},
    dict: {"type": "object"},
    Any: {},
}

# The docstring sections, as transformers reads them: the description is all
# text before the first section header; "Args:" lists "name: text" lines (an
# optional "(type)" after the name is skipped); "Returns:" runs to "Raises:".
DESCRIPTION_RE = re.compile(r"^(.*?)[\n\s]*(Args:|Returns:|Raises:|\Z)", re.DOTALL)
ARGS_BLOCK_RE = re.compile(r"\n\s*Args:\n(.*?)[\n\s]*(Returns:|Raises:|\Z)", re.DOTALL)
ARG_LINE_RE = re.compile(
    r"""
    (?:^|\n)
    ([ \t]*)(\w+)(?:[ \t]*\([^()\n]*\))?:\s*   # indentation, name, optional "(type)"
    (.*?)\s*                                  # the description, maybe over several lines
    (?=\n(?!\1[ \t])[ \t]*\w+(?:[ \t]*\([^()\n]*\))?:|\Z)  # up to the next name at this depth
    """,
    re.DOTALL | re.VERBOSE,
)
RETURNS_RE = re.compile(r"\n\s*Returns:\n\s*(.*?)[\n\s]*(Raises:|\Z)", re.DOTALL)
CHOICES_RE = re.compile(r"\(choices:\s*(.*?)\)\s*$", re.IGNORECASE)


def _enum_schema(values: list) -> dict:
    """``[1, "a", 2]`` -> ``{"type": ["integer", "string"], "enum": [1, "a", 2]}``."""
    names = list(dict.fromkeys(JSON_SCALARS[type(value)] for value in values))
    return {"type": names[0] if len(names) == 1 else names, "enum": values}


def _union_schema(args: tuple) -> dict:
    """``int | str | None`` -> ``{"type": ["integer", "string"], "nullable": True}``."""
    subtypes = [type_to_schema(arg) for arg in args if arg is not type(None)]
    if len(subtypes) == 1:
        schema = subtypes[0]
    elif all(s.keys() == {"type"} and isinstance(s["type"], str) for s in subtypes):
        # Plain types merge into one sorted "type" list; richer ones need "anyOf".
        names = sorted({s["type"] for s in subtypes})
        schema = {"type": names[0] if len(names) == 1 else names}
    else:
        schema = {"anyOf": subtypes}
    if type(None) in args:
        schema["nullable"] = True
    return schema


def _tuple_schema(hint: Any, args: tuple) -> dict:
    """``tuple[int, str]`` -> an array with one schema per position ("prefixItems")."""
    if not args:
        return {"type": "array"}
    if len(args) == 1 or ... in args:
        raise ToolDefinitionError(
            f"type hint {hint} is not supported: use list[...] for a variable-length sequence "
            "and tuple[A, B] only for a fixed number of items"
        )
    return {"type": "array", "prefixItems": [type_to_schema(arg) for arg in args]}


def type_to_schema(hint: Any) -> dict:
    """The JSON schema of one type hint.

    Example: ``type_to_schema(list[int])`` -> ``{"type": "array", "items": {"type": "integer"}}``
    """
    origin, args = get_origin(hint), get_args(hint)
    if origin is None and isinstance(hint, type) and issubclass(hint, Enum):
        # A model writes an Enum's *values*, so those are what the schema lists.
        values = [member.value for member in hint]
        if not values or any(type(value) not in JSON_SCALARS for value in values):
            raise ToolDefinitionError(f"Enum {hint.__name__} needs members with JSON scalar values")
        return _enum_schema(values)
    if origin is None:
        if hint in BARE_TYPES:
            return dict(BARE_TYPES[hint])
        raise ToolDefinitionError(
            f"cannot describe type hint {hint!r} in JSON: use int, float, str, bool, an Enum, "
            "Literal, or list/tuple/dict/Union of those (or write the schema by hand in a Tool)"
        )
    if origin is Union or origin is types.UnionType:
        return _union_schema(args)
    if origin is Literal and args:
        if any(type(arg) not in JSON_SCALARS for arg in args):
            raise ToolDefinitionError(f"Literal values must be JSON scalars, got {hint}")
        return _enum_schema(list(args))
    if origin is list:
        return {"type": "array", "items": type_to_schema(args[0])} if args else {"type": "array"}
    if origin is tuple:
        return _tuple_schema(hint, args)
    if origin is dict:
        # JSON object keys are always strings; only the value type can be described.
        schema: dict = {"type": "object"}
        if len(args) == 2:
            schema["additionalProperties"] = type_to_schema(args[1])
        return schema
    raise ToolDefinitionError(f"cannot describe type hint {hint!r} in JSON")


def parse_docstring(doc: str) -> tuple[str | None, dict[str, str], str | None]:
    """Split a Google-style docstring into (description, {arg: description}, returns).

    Example: ``parse_docstring("Add.\\n\\nArgs:\\n    a: first")``
    -> ``("Add.", {"a": "first"}, None)``
    """
    description = DESCRIPTION_RE.search(doc)
    args_block = ARGS_BLOCK_RE.search(doc)
    returns = RETURNS_RE.search(doc)
    arg_docs: dict[str, str] = {}
    if args_block:
        lines = [line for line in args_block.group(1).split("\n") if line.strip()]
        for _, name, text in ARG_LINE_RE.findall("\n".join(lines)):
            # A description that wraps over lines becomes one line.
            arg_docs[name] = re.sub(r"\s*\n+\s*", " ", text.strip())
    return (
        description.group(1).strip() if description else None,
        arg_docs,
        returns.group(1).strip() if returns else None,
    )


def _type_hints(fn: Callable, name: str) -> dict[str, Any]:
    """fn's type hints, resolved (string annotations become types)."""
    try:
        return get_type_hints(fn)
    except NameError as err:
        raise ToolDefinitionError(f"cannot resolve a type hint of {name}: {err}") from None


def _parameters_schema(fn: Callable, name: str) -> dict:
    """The "parameters" object of fn: one property per argument, and which are required."""
    hints = _type_hints(fn, name)
    params = list(inspect.signature(fn).parameters.values())
    # A method's self/cls (without a hint) is supplied by Python, not by the model.
    if params and params[0].name in ("self", "cls") and params[0].annotation is params[0].empty:
        params = params[1:]
    required = []
    for param in params:
        if param.annotation is param.empty:
            raise ToolDefinitionError(f"argument {param.name!r} of {name} has no type hint")
        if param.default is param.empty:
            required.append(param.name)
    names = {param.name for param in params}
    properties = {arg: type_to_schema(hint) for arg, hint in hints.items() if arg in names}
    schema: dict = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def _return_schema(fn: Callable, name: str) -> dict | None:
    """The schema of the return hint; None when absent or not describable (the model never
    writes a return value, so an odd return type should not stop the tool being used)."""
    hints = _type_hints(fn, name)
    if "return" not in hints:
        return None
    try:
        return type_to_schema(hints["return"])
    except ToolDefinitionError:
        return None


def function_to_schema(fn: Callable) -> dict:
    """The tool schema of a typed function with a Google-style docstring.

    Same output as transformers' ``get_json_schema``. Each argument needs a type hint
    and a line under "Args:"; a line may end in ``(choices: ["a", "b"])`` to list the
    allowed values.

    Example:
        >>> def add(a: int, b: int = 0):
        ...     '''Add two integers.
        ...
        ...     Args:
        ...         a: The first number.
        ...         b: The second number.
        ...     '''
        >>> function_to_schema(add)["function"]["parameters"]["required"]
        ['a']

    Raises:
        ToolDefinitionError: no docstring, an argument without a hint or description.
    """
    name = getattr(fn, "__name__", "operation")
    doc = inspect.getdoc(fn)
    if not doc or not doc.strip():
        raise ToolDefinitionError(
            f"{name} has no docstring: write one saying what the tool does, with an 'Args:' "
            "section describing each argument (the model only knows what the schema tells it)"
        )
    description, arg_docs, returns_doc = parse_docstring(doc.strip())
    parameters = _parameters_schema(fn, name)
    for arg, schema in parameters["properties"].items():
        if arg not in arg_docs:
            raise ToolDefinitionError(
                f"the docstring of {name} does not describe argument {arg!r}: add a line "
                f"'{arg}: <what it is>' under 'Args:'"
            )
        text = arg_docs[arg]
        choices = CHOICES_RE.search(text)
        if choices:
            try:
                values = json.loads(choices.group(1))
            except json.JSONDecodeError as err:
                raise ToolDefinitionError(
                    f"{name}, argument {arg!r}: the (choices: ...) list must be JSON, "
                    f'like (choices: ["a", "b"]): {err.msg}'
                ) from None
            schema["enum"] = [v.strip() if isinstance(v, str) else v for v in values]
            text = text[: choices.start()].strip()
        schema["description"] = text
    function: dict = {"name": name, "description": description, "parameters": parameters}
    returns = _return_schema(fn, name)
    if returns is not None:
        if returns_doc is not None:
            returns["description"] = returns_doc
        function["return"] = returns
    return {"type": "function", "function": function}
