"""Tools: Python functions a model can call, described by a JSON schema.

A model never runs code itself. It sees each tool's *schema* (name, description, typed
parameters), writes a call as JSON, and we run it. This module holds the `Tool` (a callable
with its schema) and the `@tool` decorator; each other job has a module of its own:

1. `minagent.schema`: `function_to_schema`, a typed function with a Google-style docstring
   to the JSON schema that chat templates and provider APIs expect (transformers' format).
2. `minagent.arguments`: `check_value`, checking the arguments a model wrote *before* the
   call, with errors a model can read and fix on its next try (`Tool.validate` uses it).
3. `minagent.tool_calls`: `parse_tool_calls`, finding the JSON calls in a model's free text.

The names a course notebook imports from here (function_to_schema, parse_tool_calls and the
errors) are re-exported, so `from minagent.tools import tool, Tool, function_to_schema` works.

Example:
    >>> @tool
    ... def add(a: int, b: int) -> int:
    ...     '''Add two integers.
    ...
    ...     Args:
    ...         a: The first number.
    ...         b: The second number.
    ...     '''
    ...     return a + b
    >>> add.call({"a": 1, "b": 2})
    3
"""

from __future__ import annotations

import difflib
import functools
import importlib
import re
from collections.abc import Callable, Mapping
from typing import Any

from minagent.arguments import (
    MAX_QUOTED_CHARS,
    ToolArgumentError,
    check_value,
    describe_schema,
    quote,
    quote_typed,
)
from minagent.schema import JSON_TYPES, ToolDefinitionError, function_to_schema, python_type_name
from minagent.tool_calls import EXPECTED_CALL_FORMAT, ToolCallParseError, parse_tool_calls

__all__ = [
    "EXPECTED_CALL_FORMAT",
    "MAX_QUOTED_CHARS",
    "Tool",
    "ToolArgumentError",
    "ToolSpecError",
    "ToolCallParseError",
    "ToolDefinitionError",
    "check_value",
    "function_to_schema",
    "load_tools",
    "parse_tool_calls",
    "tool",
]

# Tool names go into provider APIs, which accept only these (OpenAI's rule).
TOOL_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class Tool:
    """A function a model can call: a name, a description, a JSON schema of the
    parameters, and the Python callable that does the work.

    Build one from a typed, documented function with ``@tool``; by hand, for a
    callable whose schema you already have (an MCP server's tool, say); or by
    subclassing, with ``name``/``description``/``parameters`` as class attributes
    and a ``forward`` method.

    Example:
        >>> echo = Tool("echo", "Repeat the text.", {"type": "object",
        ...     "properties": {"text": {"type": "string"}}, "required": ["text"]},
        ...     lambda text: text)
        >>> echo.call({"text": "hi"})
        'hi'
    """

    name: str = ""
    description: str = ""
    parameters: dict = {"type": "object", "properties": {}}
    output_type: str = "any"

    def __init__(
        self,
        name: str | None = None,
        description: str | None = None,
        parameters: dict | None = None,
        fn: Callable[..., Any] | None = None,
        output_type: str | None = None,
        return_schema: dict | None = None,
    ) -> None:
        # Arguments win over class attributes, so a subclass can set these once.
        self.name = name if name is not None else type(self).name
        self.description = description if description is not None else type(self).description
        self.parameters = parameters if parameters is not None else type(self).parameters
        self.output_type = output_type or type(self).output_type
        self.return_schema = return_schema
        if fn is None and type(self).forward is Tool.forward:
            raise ToolDefinitionError(
                f"tool {self.name!r} needs a function (fn) or a forward method"
            )
        self.fn = fn if fn is not None else self.forward
        self._check_definition()

    def _check_definition(self) -> None:
        if not isinstance(self.name, str) or not TOOL_NAME_RE.match(self.name):
            raise ToolDefinitionError(
                f"tool name {self.name!r} must be 1-64 letters, digits, '_' or '-'"
            )
        params = self.parameters
        if not isinstance(params, Mapping) or params.get("type") != "object":
            raise ToolDefinitionError(
                f"tool {self.name!r}: parameters must be a JSON schema object "
                '({"type": "object", "properties": {...}}), got ' + quote(params)
            )
        if not isinstance(params.get("properties", {}), Mapping):
            raise ToolDefinitionError(f"tool {self.name!r}: 'properties' must be a dict")
        missing = [key for key in params.get("required", []) if key not in self.properties]
        if missing:
            raise ToolDefinitionError(
                f"tool {self.name!r}: required arguments {missing} are not in 'properties'"
            )

    @classmethod
    def from_function(cls, fn: Callable[..., Any], name: str | None = None) -> Tool:
        """A Tool from a typed function with a Google-style docstring (``function_to_schema``)."""
        function = function_to_schema(fn)["function"]
        returns = function.get("return")
        output = returns.get("type") if returns else None
        made = cls(
            name=name or function["name"],
            description=function["description"] or "",
            parameters=function["parameters"],
            fn=fn,
            output_type=output if isinstance(output, str) else "any",
            return_schema=returns,
        )
        # The tool still reads as the function it wraps (help(), __name__, __doc__).
        return functools.update_wrapper(made, fn, updated=())

    @property
    def properties(self) -> dict:
        return dict(self.parameters.get("properties", {}))

    @property
    def schema(self) -> dict:
        """The OpenAI / chat-template tool schema: ``{"type": "function", "function": {...}}``."""
        function = {
            "name": self.name,
            "description": self.description,
            "parameters": self.parameters,
        }
        if self.return_schema is not None:
            function["return"] = self.return_schema
        return {"type": "function", "function": function}

    @property
    def signature(self) -> str:
        """One line for JSON tool calls and errors: ``add(a: integer, b?: integer) -> integer``."""
        return self._signature(python=False)

    @property
    def python_signature(self) -> str:
        """The same line as Python, for code agents: ``add(a: int, b: int = ...) -> int``.

        An optional argument whose schema has no default shows the stub marker ``...``.
        """
        return self._signature(python=True)

    def _signature(self, python: bool) -> str:
        required = set(self.parameters.get("required", []))
        args = []
        for arg, schema in self.properties.items():
            if not python:
                args.append(f"{arg}{'' if arg in required else '?'}: {describe_schema(schema)}")
                continue
            kind = schema.get("type")
            hint = python_type_name(kind) if isinstance(kind, str) and kind in JSON_TYPES else "Any"
            default = ""
            if arg not in required:
                default = f" = {schema['default']!r}" if "default" in schema else " = ..."
            args.append(f"{arg}: {hint}{default}")
        returns = python_type_name(self.output_type) if python else self.output_type
        return f"{self.name}({', '.join(args)}) -> {returns}"

    def forward(self, **kwargs: Any) -> Any:
        """Do the work; a subclass overrides this instead of passing ``fn``."""
        raise NotImplementedError

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the tool directly, as Python code calls it: positional arguments fill
        the parameters in schema order. No validation (see ``call``)."""
        names = list(self.properties)
        if len(args) > len(names):
            raise ToolArgumentError(
                f"tool {self.name!r} takes {len(names)} arguments but got {len(args)} "
                f"positional ones. Signature: {self.signature}"
            )
        for arg_name, value in zip(names, args, strict=False):
            if arg_name in kwargs:
                raise ToolArgumentError(f"tool {self.name!r} got argument {arg_name!r} twice")
            kwargs[arg_name] = value
        return self.fn(**kwargs)

    def validate(self, arguments: Any) -> None:
        """Raise ToolArgumentError, listing every problem, unless ``arguments`` fit the schema.

        Example: ``add.validate({"a": 1})`` -> ToolArgumentError: "... missing required
        argument 'b' ..."
        """
        if not isinstance(arguments, Mapping):
            problems = [
                f"arguments must be a JSON object of name: value, got {quote_typed(arguments)}"
            ]
        else:
            problems = self._argument_problems(arguments)
        if problems:
            listed = "\n".join(f"- {problem}" for problem in problems)
            raise ToolArgumentError(
                f"Tool {self.name!r} was called with invalid arguments:\n{listed}\n"
                f"Its signature is {self.signature}. Call it again with arguments that match."
            )

    def _argument_problems(self, arguments: Mapping) -> list[str]:
        properties = self.properties
        problems = []
        for arg in self.parameters.get("required", []):
            if arg not in arguments:
                about = properties[arg].get("description")
                problems.append(
                    f"missing required argument {arg!r} ({describe_schema(properties[arg])}"
                    + (f": {about})" if about else ")")
                )
        for arg, value in arguments.items():
            if arg in properties:
                problems += check_value(value, properties[arg], f"argument {arg!r}")
            else:
                close = difflib.get_close_matches(str(arg), list(properties), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                valid = ", ".join(repr(name) for name in properties) or "none"
                problems.append(f"unknown argument {arg!r}{hint}; valid arguments: {valid}")
        return problems

    def call(self, arguments: Mapping[str, Any] | None = None) -> Any:
        """Validate the arguments a model wrote, then run the tool with them.

        Example: ``add.call({"a": 1, "b": 2})`` -> ``3``
        """
        arguments = {} if arguments is None else arguments
        self.validate(arguments)
        return self.fn(**arguments)

    def __repr__(self) -> str:
        return f"Tool({self.signature})"


def tool(fn: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
    """Decorator: turn a typed function with a Google-style docstring into a Tool.

    Works bare (``@tool``) or with a name (``@tool(name="search")``).

    Example:
        >>> @tool
        ... def shout(text: str) -> str:
        ...     '''Upper-case the text.
        ...
        ...     Args:
        ...         text: What to shout.
        ...     '''
        ...     return text.upper()
        >>> shout("hi"), shout.schema["function"]["name"]
        ('HI', 'shout')
    """
    if fn is None:
        return lambda function: Tool.from_function(function, name=name)
    return Tool.from_function(fn, name=name)


class ToolSpecError(ValueError):
    """A ``module:attr`` spec that does not name tools; the message says what to write."""


def load_tools(spec: str) -> list[Tool]:
    """The Tool, or list of Tools, that a ``module:attr`` spec names.

    Example: ``load_tools("my_tools:tools")`` -> ``[add, shout]`` (``tools`` in my_tools.py)

    Raises:
        ToolSpecError: the spec is not ``module:attr``, cannot be imported, or does not
            name a Tool or a list of Tools.
    """
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ToolSpecError(
            f"{spec!r} is not a module:attr spec; write e.g. my_tools:tools for the Tool "
            "or list of Tools named tools in my_tools.py"
        )
    try:
        target = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise ToolSpecError(f"cannot load {spec!r}: {err}") from None
    tools = [target] if isinstance(target, Tool) else target
    if not isinstance(tools, (list, tuple)) or not all(isinstance(t, Tool) for t in tools):
        raise ToolSpecError(
            f"{spec!r} is not a Tool or a list of Tools (it is {type(target).__name__}); "
            "make a function a Tool with the @tool decorator"
        )
    return list(tools)
