"""Checking the arguments a model wrote against a tool's JSON schema, before the call.

A model that calls a tool with wrong arguments can fix them on its next try, if the error
says exactly what is wrong. `check_value` lists every problem, naming where it is
(`argument 'n'[2]`), what was expected and what came.

Example:
    >>> check_value([1, "2"], {"type": "array", "items": {"type": "integer"}}, "xs")
    ['xs[1]: expected integer, got string "2"']
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from minagent.schema import JSON_TYPES

# How much of a bad value or bad text to quote back in an error message: enough
# for a model to see its mistake, not so much that one error floods the context.
MAX_QUOTED_CHARS = 200


class ToolArgumentError(ValueError):
    """A model called a tool with arguments that do not match its schema."""


def quote(value: Any) -> str:
    """A short JSON-ish rendering of a value for error messages.

    Example: ``quote({"a": 1})`` -> ``'{"a": 1}'``
    """
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= MAX_QUOTED_CHARS else text[:MAX_QUOTED_CHARS] + "..."


def is_json_type(value: Any, name: str) -> bool:
    """Whether JSON type ``name`` accepts ``value``. Types JSON cannot check ("image") do.

    bool is a subclass of int in Python, but true is not a number in JSON: only "boolean"
    accepts it. Example: ``is_json_type(True, "integer")`` -> ``False``
    """
    if name not in JSON_TYPES:
        return True
    if isinstance(value, bool):
        return name == "boolean"
    return isinstance(value, JSON_TYPES[name])


def json_type_name(value: Any) -> str:
    """The JSON name of a Python value's type: ``json_type_name(True)`` -> ``"boolean"``."""
    # "integer" before "number": 3 is both, and the narrower name says more.
    for name in ("boolean", "integer", "number", "string", "null", "array", "object"):
        if is_json_type(value, name):
            return name
    return type(value).__name__


def describe_schema(schema: Mapping) -> str:
    """A short human (and model) readable type: ``{"type": "array", "items": {"type":
    "integer"}}`` -> ``"array of integer"``."""
    if "enum" in schema:
        text = "one of " + ", ".join(quote(value) for value in schema["enum"])
    elif "anyOf" in schema:
        text = " or ".join(describe_schema(sub) for sub in schema["anyOf"])
    else:
        names = schema.get("type", "any")
        text = " or ".join(names) if isinstance(names, list) else names
        if "items" in schema:
            text += f" of {describe_schema(schema['items'])}"
        elif "prefixItems" in schema:
            text += " [" + ", ".join(describe_schema(s) for s in schema["prefixItems"]) + "]"
    return text + (" or null" if schema.get("nullable") else "")


def _type_matches(value: Any, schema: Mapping) -> bool:
    names = schema.get("type")
    if names is None:
        return True
    names = names if isinstance(names, list) else [names]
    return any(is_json_type(value, name) for name in names)


def _in_enum(value: Any, allowed: list) -> bool:
    # 1 == True in Python, but the model wrote two different JSON values.
    return any(value == a and isinstance(value, bool) == isinstance(a, bool) for a in allowed)


def check_value(value: Any, schema: Mapping, where: str) -> list[str]:
    """Every way ``value`` breaks ``schema``, as sentences naming ``where`` it is.

    Example: ``check_value("3", {"type": "integer"}, "'n'")``
    -> ``["'n': expected integer, got string \"3\""]``
    """
    if value is None and schema.get("nullable"):
        return []
    if "anyOf" in schema:
        if any(not check_value(value, sub, where) for sub in schema["anyOf"]):
            return []
        return [f"{where}: expected {describe_schema(schema)}, got {quote_typed(value)}"]
    if not _type_matches(value, schema):
        return [f"{where}: expected {describe_schema(schema)}, got {quote_typed(value)}"]
    if "enum" in schema and not _in_enum(value, schema["enum"]):
        return [f"{where}: expected {describe_schema(schema)}, got {quote_typed(value)}"]
    if isinstance(value, (list, tuple)):
        return _check_array(value, schema, where)
    if isinstance(value, Mapping):
        return _check_object(value, schema, where)
    return []


def quote_typed(value: Any) -> str:
    """A value with its JSON type, for "got ..." in errors.

    Example: ``quote_typed("3")`` -> ``'string "3"'``
    """
    return f"{json_type_name(value)} {quote(value)}"


def _check_array(value: list | tuple, schema: Mapping, where: str) -> list[str]:
    errors = []
    if "prefixItems" in schema:
        expected = len(schema["prefixItems"])
        if len(value) != expected:
            return [f"{where}: expected {expected} items, got {len(value)}"]
        for index, (item, sub) in enumerate(zip(value, schema["prefixItems"], strict=True)):
            errors += check_value(item, sub, f"{where}[{index}]")
    elif "items" in schema:
        for index, item in enumerate(value):
            errors += check_value(item, schema["items"], f"{where}[{index}]")
    return errors


def _check_object(value: Mapping, schema: Mapping, where: str) -> list[str]:
    errors = []
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    for key in schema.get("required", []):
        if key not in value:
            errors.append(f"{where}: missing required key {key!r}")
    for key, item in value.items():
        if key in properties:
            errors += check_value(item, properties[key], f"{where}[{key!r}]")
        elif isinstance(extra, Mapping):
            errors += check_value(item, extra, f"{where}[{key!r}]")
        elif extra is False:
            errors.append(f"{where}: unknown key {key!r}")
    return errors
