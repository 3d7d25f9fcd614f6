"""Chat messages: the unit of conversation between an agent and a model.

Every chat model API (OpenAI, llama.cpp's server, litellm) takes a list of
role-tagged messages. We keep them as small dataclasses so that code reads
``msg.role`` instead of ``msg["role"]``, and convert to the OpenAI-style
dicts at the edge, where a model or a chat template needs them.

Example:
    >>> user("Hi").to_dict()
    {'role': 'user', 'content': 'Hi'}
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ROLES = ("system", "user", "assistant", "tool")


class MessageError(ValueError):
    """A message (or a dict meant to be one) is malformed."""


@dataclass(frozen=True)
class TokenUsage:
    """How many tokens went into a model call and came out of it.

    Example: ``TokenUsage(10, 2) + TokenUsage(5, 1)`` -> ``TokenUsage(15, 3)``
    """

    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens
        )

    def to_dict(self) -> dict[str, int]:
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens}


@dataclass(frozen=True)
class ToolCall:
    """A request from the model to run one tool with some arguments.

    Example: ``ToolCall("add", {"a": 1, "b": 2}, "call_0").to_dict()["function"]``
    -> ``{'name': 'add', 'arguments': '{"a": 1, "b": 2}'}``
    """

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    id: str = ""

    def to_dict(self) -> dict[str, Any]:
        # OpenAI sends the arguments as a JSON *string*; so do we, for compatibility.
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": json.dumps(self.arguments)},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ToolCall:
        """Read an OpenAI-style tool call (arguments as a JSON string or a dict)."""
        function = data.get("function", data)
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
            raise MessageError(
                f"a tool call needs a function name, as {{'function': {{'name': ..., "
                f"'arguments': ...}}}}; got {dict(data)!r}"
            )
        arguments = function.get("arguments") or {}
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments)
            except json.JSONDecodeError as err:
                raise MessageError(
                    f"tool call {function['name']!r} has arguments that are not valid JSON "
                    f"({err.msg}): {arguments!r}"
                ) from None
        if not isinstance(arguments, dict):
            raise MessageError(
                f"tool call {function['name']!r}: arguments must be a JSON object, "
                f"got {arguments!r}"
            )
        return cls(name=function["name"], arguments=arguments, id=str(data.get("id") or ""))


@dataclass
class Message:
    """One chat message.

    Args:
        role: "system", "user", "assistant" or "tool".
        content: the text (an assistant message that only calls tools may have "").
        tool_calls: tool calls requested by an assistant message.
        tool_call_id: for a "tool" message, the id of the call it answers.
        name: for a "tool" message, the tool's name.
        usage: for an assistant message produced by a model, the tokens it cost.
    """

    role: str
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None
    usage: TokenUsage | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise MessageError(f"unknown role {self.role!r}: use one of {', '.join(ROLES)}")
        if self.content is None:
            self.content = ""
        if not isinstance(self.content, str):
            raise MessageError(
                f"{self.role} message content must be a string, got {type(self.content).__name__}"
            )
        if self.tool_calls and self.role != "assistant":
            raise MessageError(f"only assistant messages carry tool calls, not {self.role!r}")

    def to_dict(self) -> dict[str, Any]:
        """The OpenAI-style dict that litellm, llama.cpp and chat templates take."""
        data: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            data["tool_calls"] = [call.to_dict() for call in self.tool_calls]
        if self.tool_call_id is not None:
            data["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            data["name"] = self.name
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Message:
        """Build a message from an OpenAI-style dict, with a clear error for bad input.

        Example: ``Message.from_dict({"role": "user", "content": "Hi"}).content`` -> ``"Hi"``
        """
        if isinstance(data, Message):
            return data
        if not isinstance(data, Mapping):
            raise MessageError(
                f"a message must be a dict like {{'role': 'user', 'content': 'Hi'}}, "
                f"got {type(data).__name__}: {data!r}"
            )
        if "role" not in data:
            raise MessageError(f"message has no 'role' key: {dict(data)!r}")
        content = data.get("content")
        if isinstance(content, list):
            # Multimodal-style content parts: keep the text parts, in order.
            content = "".join(part.get("text", "") for part in content if isinstance(part, Mapping))
        usage = data.get("usage")
        return cls(
            role=data["role"],
            content=content or "",
            tool_calls=[ToolCall.from_dict(call) for call in data.get("tool_calls") or []],
            tool_call_id=data.get("tool_call_id"),
            name=data.get("name"),
            usage=TokenUsage(**usage) if isinstance(usage, Mapping) else None,
        )


def system(text: str) -> Message:
    """A system message: instructions the model should follow throughout."""
    return Message("system", text)


def user(text: str) -> Message:
    """A user message: what the person (or the agent's task) says."""
    return Message("user", text)


def assistant(text: str = "", tool_calls: Iterable[ToolCall] = ()) -> Message:
    """An assistant message: what the model said, and the tools it asked to call."""
    return Message("assistant", text, tool_calls=list(tool_calls))


def tool_result(content: str, tool_call_id: str = "", name: str | None = None) -> Message:
    """A tool message: the result of one tool call, sent back to the model."""
    return Message("tool", content, tool_call_id=tool_call_id, name=name)


def to_dicts(messages: Sequence[Message | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Messages (or dicts) to OpenAI-style dicts, validating dicts on the way."""
    return [Message.from_dict(message).to_dict() for message in messages]


def from_dicts(dicts: Sequence[Mapping[str, Any] | Message]) -> list[Message]:
    """OpenAI-style dicts to messages; a bad entry names its position."""
    messages = []
    for index, data in enumerate(dicts):
        try:
            messages.append(Message.from_dict(data))
        except MessageError as err:
            raise MessageError(f"message {index}: {err}") from None
    return messages
