"""One tool call, from a model's reply to an observation (unit 02).

`parse_tool_call` reads one call written as JSON out of free text: alone, in prose, or in a
code fence. `execute_tool_call` checks the model's arguments against the tool's schema, runs the
tool, and turns every failure (an unknown tool, a missing or mistyped argument, a tool that
raised) into an "Error: ..." observation that tells the model how to fix its next call.

The agents use the fuller versions: `minagent.tool_calls.parse_tool_calls` (every call of a
reply, in every shape models write) and `Tool.call` (arguments checked against the whole schema).

This module is unit 02's solution, names and all, so a learner stuck on the unit can read it.

Example:
    >>> call = parse_tool_call('Sure! {"name": "add", "arguments": {"a": 2, "b": 3}}')
    >>> call.name, call.arguments
    ('add', {'a': 2, 'b': 3})
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from minagent.arguments import is_json_type
from minagent.messages import ToolCall
from minagent.tools import Tool, ToolCallParseError

FENCE_RE = re.compile(r"```(?:json)?[ \t]*\n(.*?)```", re.DOTALL)
"""A ```json (or bare ```) code fence; when a reply has one, only its content is read."""
CALL_START_RE = re.compile(r"\{\s*[\"']name[\"']")
"""A brace that opens a "name" key: the start of a call, even a broken one."""


def parse_tool_call(text: str) -> ToolCall:
    """Read one tool call, written as JSON, out of a model's reply.

    The call is a JSON object {"name": "<tool>", "arguments": {...}}, alone, surrounded by
    prose, or inside a ``` code fence (```json or plain ```). "arguments" may be left out.

    Args:
        text: the model's reply.

    Returns:
        ToolCall(name=..., arguments={...}) for the first JSON object with a "name" key.

    Raises:
        ToolCallParseError: no tool call in the text; an attempted call (a "{" followed by a
            "name" key) that is not valid JSON (the message says "JSON" and why); a name that
            is not a non-empty string; arguments that are not an object.

    Example:
        parse_tool_call('```json\\n{"name": "now"}\\n```') -> ToolCall(name="now", arguments={})
    """
    fence = FENCE_RE.search(text)
    if fence:
        text = fence.group(1)
    decoder = json.JSONDecoder()
    position = text.find("{")
    while position != -1:
        try:
            # raw_decode reads one JSON value starting at `position` and says where it ends.
            value, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as err:
            # A broken call: say so, rather than look inside it for something call-shaped.
            if CALL_START_RE.match(text, position):
                raise ToolCallParseError(
                    f"the tool call is not valid JSON ({err.msg} at character {err.pos}). "
                    'Write it as {"name": "<tool>", "arguments": {...}} with double quotes.'
                ) from None
            position = text.find("{", position + 1)  # a brace in prose: keep looking
            continue
        if isinstance(value, dict) and "name" in value:
            break
        position = text.find("{", end)  # valid JSON but not a call: look after it
    else:
        raise ToolCallParseError(
            'no tool call found: expected a JSON object like {"name": "<tool>", "arguments": {...}}'
        )
    name, arguments = value["name"], value.get("arguments", {})
    if not isinstance(name, str) or not name:
        raise ToolCallParseError(f"the tool name must be a non-empty string, got {name!r}")
    if not isinstance(arguments, dict):
        raise ToolCallParseError(f"the arguments must be a JSON object, got {arguments!r}")
    return ToolCall(name=name, arguments=arguments)


def argument_problems(arguments: dict[str, Any], parameters: dict[str, Any]) -> list[str]:
    """What is wrong with `arguments` for a tool whose parameters schema is `parameters`.

    Checks: every required argument is there, none is unknown, and each value has its
    property's JSON type (a list of types allows any of them; None passes when the property is
    "nullable"; a property without a "type" takes anything).

    Example:
        argument_problems({"a": "two"}, {"properties": {"a": {"type": "integer"}}})
        -> ["argument 'a' must be integer, got 'two'"]
    """
    properties = parameters.get("properties", {})
    problems = [
        f"missing required argument {name!r}"
        for name in parameters.get("required", [])
        if name not in arguments
    ]
    for name, value in arguments.items():
        if name not in properties:
            valid = ", ".join(properties) or "none"
            problems.append(f"unknown argument {name!r} (valid: {valid})")
            continue
        expected = properties[name].get("type")
        if expected is None or (value is None and properties[name].get("nullable")):
            continue
        types = expected if isinstance(expected, list) else [expected]
        if not any(is_json_type(value, t) for t in types):
            problems.append(f"argument {name!r} must be {' or '.join(types)}, got {value!r}")
    return problems


def execute_tool_call(call: ToolCall, tools: Sequence[Tool]) -> str:
    """Run one tool call and return the observation to show the model, never raising.

    Args:
        call: a ToolCall (call.name, call.arguments).
        tools: tools with .name, .schema, and callable as tool(**arguments).

    Returns:
        str(result) when the tool ran. Otherwise a message starting with "Error:" that names
        the problem: the unknown tool and the names of the available tools; the missing,
        unexpected or mistyped arguments (see `argument_problems`); or the exception the tool
        raised (its type and message).

    Example:
        execute_tool_call(ToolCall("add", {"a": 2, "b": 3}), [add]) -> "5"
        execute_tool_call(ToolCall("sub", {}), [add])
        -> "Error: unknown tool 'sub'. Available tools: add."
    """
    by_name = {t.name: t for t in tools}
    if call.name not in by_name:
        available = ", ".join(by_name) or "none"
        return f"Error: unknown tool {call.name!r}. Available tools: {available}."
    chosen = by_name[call.name]
    problems = argument_problems(call.arguments, chosen.schema["function"]["parameters"])
    if problems:
        return f"Error: bad call to {call.name!r}: " + "; ".join(problems) + "."
    try:
        return str(chosen(**call.arguments))
    except Exception as err:  # the tool's own failure is an observation too
        return f"Error: tool {call.name!r} raised {type(err).__name__}: {err}"
