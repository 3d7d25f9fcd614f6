"""Tools: Python functions a model can call, described by a JSON schema.

A model never runs code itself. It sees each tool's *schema* (name,
description, typed parameters), writes a call as JSON, and we run it. So this
module has four jobs, one section each:

1. ``function_to_schema``: a typed function with a Google-style docstring to
   the JSON schema that chat templates and provider APIs expect. The format is
   exactly that of Hugging Face transformers' ``get_json_schema``, so the same
   function gives the same prompt here and there.
2. ``Tool`` and ``@tool``: a callable with its schema attached.
3. ``Tool.validate``: check the arguments a model wrote *before* calling, with
   errors a model can read and fix on its next try.
4. ``parse_tool_calls``: find the JSON calls in a model's free text.

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
import inspect
import json
import re
import types
import uuid
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from minagent.messages import ToolCall

# How much of a bad value or bad text to quote back in an error message: enough
# for a model to see its mistake, not so much that one error floods the context.
MAX_QUOTED_CHARS = 200

# Tool names go into provider APIs, which accept only these (OpenAI's rule).
TOOL_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class ToolDefinitionError(ValueError):
    """A tool cannot be built: no docstring, an undocumented argument, a bad type hint."""


class ToolArgumentError(ValueError):
    """A model called a tool with arguments that do not match its schema."""


class ToolCallParseError(ValueError):
    """A model's text tried to call a tool but the call could not be read."""


def _quote(value: Any) -> str:
    """A short JSON-ish rendering of a value for error messages."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= MAX_QUOTED_CHARS else text[:MAX_QUOTED_CHARS] + "..."


# ---------------------------------------------------------------------------
# 1. Schemas from type hints and docstrings (the get_json_schema format)
# ---------------------------------------------------------------------------

# Python types that a JSON value can hold directly, with their JSON schema names.
JSON_SCALARS = {int: "integer", float: "number", str: "string", bool: "boolean", type(None): "null"}
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


# ---------------------------------------------------------------------------
# 2. Argument validation: errors written for the model that made them
# ---------------------------------------------------------------------------

# Which Python values each JSON schema type accepts. bool is a subclass of int in
# Python, but true is not a number in JSON, so it is excluded by hand.
JSON_TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "array": lambda v: isinstance(v, (list, tuple)),
    "object": lambda v: isinstance(v, Mapping),
}


def json_type_name(value: Any) -> str:
    """The JSON name of a Python value's type: ``json_type_name(True)`` -> ``"boolean"``."""
    for name in ("boolean", "integer", "number", "string", "null", "array", "object"):
        if JSON_TYPE_CHECKS[name](value):
            return name
    return type(value).__name__


def describe_schema(schema: Mapping) -> str:
    """A short human (and model) readable type: ``{"type": "array", "items": {"type":
    "integer"}}`` -> ``"array of integer"``."""
    if "enum" in schema:
        text = "one of " + ", ".join(_quote(value) for value in schema["enum"])
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
    # Types we cannot check in JSON ("image", "audio") are let through.
    return any(JSON_TYPE_CHECKS.get(name, lambda v: True)(value) for name in names)


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
        return [f"{where}: expected {describe_schema(schema)}, got {_got(value)}"]
    if not _type_matches(value, schema):
        return [f"{where}: expected {describe_schema(schema)}, got {_got(value)}"]
    if "enum" in schema and not _in_enum(value, schema["enum"]):
        return [f"{where}: expected {describe_schema(schema)}, got {_got(value)}"]
    if isinstance(value, (list, tuple)):
        return _check_array(value, schema, where)
    if isinstance(value, Mapping):
        return _check_object(value, schema, where)
    return []


def _got(value: Any) -> str:
    return f"{json_type_name(value)} {_quote(value)}"


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


# ---------------------------------------------------------------------------
# 3. Tool: a callable with its schema
# ---------------------------------------------------------------------------


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
                '({"type": "object", "properties": {...}}), got ' + _quote(params)
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
        return cls(
            name=name or function["name"],
            description=function["description"] or "",
            parameters=function["parameters"],
            fn=fn,
            output_type=output if isinstance(output, str) else "any",
            return_schema=returns,
        )

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
        """One line for prompts and errors: ``add(a: integer, b?: integer) -> integer``."""
        required = set(self.parameters.get("required", []))
        args = ", ".join(
            f"{arg}{'' if arg in required else '?'}: {describe_schema(schema)}"
            for arg, schema in self.properties.items()
        )
        return f"{self.name}({args}) -> {self.output_type}"

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
            problems = [f"arguments must be a JSON object of name: value, got {_got(arguments)}"]
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


# ---------------------------------------------------------------------------
# 4. Reading tool calls out of model text
# ---------------------------------------------------------------------------

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
            f"the arguments of {name!r} must be a JSON object, got {_got(raw)}", where
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
            raise _parse_error(f"expected an object with a tool name, got {_got(value)}", where)
        return None
    if not strict and not set(value) <= CALL_KEYS:
        return None  # some other JSON object ({"name": "Ada", "age": 36}), not a call
    # OpenAI shape: {"id": ..., "type": "function", "function": {"name": ..., "arguments": "..."}}
    inner = value["function"] if isinstance(value.get("function"), dict) else value
    name = next((inner[key] for key in NAME_KEYS if key in inner), None)
    if not isinstance(name, str) or not name.strip():
        raise _parse_error(f"the tool name must be a non-empty string, got {_got(name)}", where)
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
