"""Reading tool calls out of a model's free text.

Models without native tool calling write their calls as text, in many shapes: bare JSON,
a ```json block, `<tool_call>` tags, ReAct-style `{"action": ...}`. `parse_tool_calls` finds
every call in a reply; a call it cannot read is a ToolCallParseError that quotes the broken
part and the expected format, so the model can fix it.

Example:
    >>> [call.name for call in parse_tool_calls('Sure: {"name": "add", "arguments": {"a": 1}}')]
    ['add']
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from minagent.arguments import quote_typed
from minagent.messages import ToolCall


class ToolCallParseError(ValueError):
    """A model's text tried to call a tool but the call could not be read."""


# What we ask models to write, quoted in every parse error so the fix is obvious.
EXPECTED_CALL_FORMAT = '{"name": "<tool name>", "arguments": {"<argument>": <value>}}'
CALL_ID_LENGTH = 9
# Models name the two parts of a call in several ways; these are the ones we accept.
NAME_KEYS = ("name", "tool", "function", "tool_name")
ARGUMENT_KEYS = ("arguments", "parameters", "args", "input")
CALL_KEYS = {*NAME_KEYS, *ARGUMENT_KEYS, "id", "type"}
# Keys under which models nest their calls (OpenAI's own, and ReAct-style JSON).
WRAPPER_KEYS = ("tool_calls", "tool_call", "function_call", "action")
# Hermes/Qwen-style models wrap calls in tags; an unclosed tag runs to the end.
TAG_RE = re.compile(r"<tool_call>(.*?)(?:</tool_call>|\Z)", re.DOTALL)
# A fenced block: ```lang ... ``` (an unclosed fence runs to the end).
FENCE_RE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
FENCE_LANGS = ("", "json", "tool_call", "tool_code")
# In free text, a "{" is only an attempted call if a name key follows it.
CALL_START_RE = re.compile(r"""\{\s*["']?(?:name|tool|function|tool_name)["']?\s*:""")


def new_call_id() -> str:
    """A fresh id for a call the model wrote as text, so its result can name it.

    Nine letters and digits: Mistral's chat templates reject any other shape, and
    every other template and API takes it. Example: ``new_call_id()`` -> ``"3f9a0c1b2"``
    """
    return uuid.uuid4().hex[:CALL_ID_LENGTH]


def _near(text: str, pos: int) -> str:
    """The text around ``pos`` with a marker where reading stopped."""
    before, after = text[max(0, pos - 40) : pos], text[pos : pos + 40]
    return f"{before}<HERE>{after}".replace("\n", "\\n")


def _parse_error(problem: str, where: str) -> ToolCallParseError:
    return ToolCallParseError(
        f"Could not read the tool call in {where}: {problem}\n"
        f"Write each tool call as one JSON object, with double quotes, like this:\n"
        f"{EXPECTED_CALL_FORMAT}"
    )


def _json_error(err: json.JSONDecodeError, where: str) -> ToolCallParseError:
    problem = f"invalid JSON ({err.msg}, line {err.lineno} column {err.colno}) near: "
    problem += _near(err.doc, err.pos)
    # Two mistakes models make most: Python quoting and Python constants.
    if "double quotes" in err.msg or re.search(r"[{,\[:]\s*'", err.doc):
        problem += ". JSON needs double quotes around keys and strings"
    if re.search(r"[:\[,]\s*(True|False|None)\b", err.doc):
        problem += ". JSON writes true, false and null (not True, False, None)"
    return _parse_error(problem, where)


def _decode_all(body: str, where: str) -> list[Any]:
    """Every JSON value in ``body``, one after another (blank lines or commas between)."""
    decoder, values, pos = json.JSONDecoder(), [], 0
    while True:
        while pos < len(body) and body[pos] in " \t\r\n,":
            pos += 1
        if pos == len(body):
            return values
        try:
            value, pos = decoder.raw_decode(body, pos)
        except json.JSONDecodeError as err:
            raise _json_error(err, where) from None
        values.append(value)


def _arguments(raw: Any, name: str, where: str) -> dict:
    """The arguments of a call as a dict: OpenAI sends them as a JSON string."""
    if raw is None:
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError as err:
            raise _json_error(err, f"the arguments string of {name!r} ({where})") from None
    if not isinstance(raw, dict):
        raise _parse_error(
            f"the arguments of {name!r} must be a JSON object, got {quote_typed(raw)}", where
        )
    return raw


def _to_calls(value: Any, where: str, strict: bool) -> list[ToolCall] | None:
    """The tool calls a decoded JSON value stands for, or None if it is not a call
    (in ``strict`` places, like <tool_call> tags, anything else is an error)."""
    if isinstance(value, list):
        found = [_to_calls(item, where, strict) for item in value]
        if all(calls is None for calls in found):
            return [] if strict else None  # (strict items that are not calls raised already)
        return [call for calls in found for call in calls or []]
    if isinstance(value, dict):
        # A call wrapped in a bigger object: {"thought": "...", "action": {"name": ...}}
        for key in WRAPPER_KEYS:
            if isinstance(value.get(key), (dict, list)):
                return _to_calls(value[key], where, strict)
    if not isinstance(value, dict) or not any(key in value for key in NAME_KEYS):
        if strict:
            raise _parse_error(
                f"expected an object with a tool name, got {quote_typed(value)}", where
            )
        return None
    if not strict and not set(value) <= CALL_KEYS:
        return None  # some other JSON object ({"name": "Ada", "age": 36}), not a call
    # OpenAI shape: {"id": ..., "type": "function", "function": {"name": ..., "arguments": "..."}}
    inner = value["function"] if isinstance(value.get("function"), dict) else value
    name = next((inner[key] for key in NAME_KEYS if key in inner), None)
    if not isinstance(name, str) or not name.strip():
        raise _parse_error(
            f"the tool name must be a non-empty string, got {quote_typed(name)}", where
        )
    raw = next((inner[key] for key in ARGUMENT_KEYS if key in inner), None)
    call_id = value.get("id")
    if not isinstance(call_id, str) or not call_id:
        call_id = new_call_id()
    return [ToolCall(name=name.strip(), arguments=_arguments(raw, name, where), id=call_id)]


def _block_calls(text: str) -> tuple[list[tuple[int, list[ToolCall]]], list[tuple[int, int]]]:
    """Calls inside <tool_call> tags and JSON code fences, with the spans they cover."""
    found, spans = [], []
    for match in TAG_RE.finditer(text):
        values = _decode_all(match.group(1), "<tool_call> tags")
        if not values:
            raise _parse_error("the <tool_call> tags are empty", "<tool_call> tags")
        calls = [call for v in values for call in _to_calls(v, "<tool_call> tags", strict=True)]
        found.append((match.start(), calls))
        spans.append(match.span())
    for match in FENCE_RE.finditer(text):
        body = match.group(2).strip()
        inside_tag = any(start <= match.start() < end for start, end in spans)
        if inside_tag:
            continue
        spans.append(match.span())
        if match.group(1).lower() not in FENCE_LANGS or body[:1] not in ("{", "["):
            continue  # code in another language, or prose: no calls in there
        values = _decode_all(body, "the ``` code block")
        calls = [c for v in values for c in _to_calls(v, "the ``` code block", False) or []]
        found.append((match.start(), calls))
    return found, spans


def _free_text_calls(text: str) -> list[tuple[int, list[ToolCall]]]:
    """Calls written as bare JSON objects anywhere in the text."""
    decoder, found, pos = json.JSONDecoder(), [], text.find("{")
    while pos != -1:
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as err:
            if CALL_START_RE.match(text, pos):
                raise _json_error(err, "the text") from None
            pos = text.find("{", pos + 1)  # a brace in prose, like "use {x} here"
            continue
        calls = _to_calls(value, "the text", strict=False)
        if calls:
            found.append((pos, calls))
        pos = text.find("{", end)
    return found


def parse_tool_calls(text: str) -> list[ToolCall]:
    """Every tool call in a model's reply, in the order written; [] when there is none.

    A call is a JSON object ``{"name": ..., "arguments": {...}}`` (also accepted:
    "tool"/"function" for the name, "parameters"/"args" for the arguments, and
    OpenAI's ``{"function": {"name": ..., "arguments": "<JSON string>"}}``),
    written bare in the text, in a ```json code fence, or in <tool_call> tags.
    A list of them is several calls.

    Example:
        >>> [c.name for c in parse_tool_calls('Let me look. {"name": "search", "arguments": {}}')]
        ['search']

    Raises:
        ToolCallParseError: an attempted call that is not valid JSON; the message
            points at the mistake and shows the expected format.
    """
    if not isinstance(text, str):
        raise _parse_error(f"expected the model's text, got {type(text).__name__}", "the reply")
    found, spans = _block_calls(text)
    # Blank out the blocks already read (keeping positions) and read the rest.
    rest = list(text)
    for start, end in spans:
        rest[start:end] = " " * (end - start)
    found += _free_text_calls("".join(rest))
    return [call for _, calls in sorted(found, key=lambda item: item[0]) for call in calls]
