"""Tests for minagent.tools: schemas (against transformers), Tool, validation, parsing."""

from __future__ import annotations

import json
import re
from enum import Enum
from typing import Any, Literal, Optional, Union

import pytest
from transformers.utils import get_json_schema  # the oracle (dev extra)

from minagent.messages import ToolCall
from minagent.tools import (
    MAX_QUOTED_CHARS,
    Tool,
    ToolArgumentError,
    ToolCallParseError,
    ToolDefinitionError,
    function_to_schema,
    parse_tool_calls,
    tool,
)

# --- the functions whose schemas must match transformers' get_json_schema -------------


def simple_add(a: int, b: int):
    """Add two integers.

    Args:
        a: The first number.
        b: The second number.
    """
    return a + b


def all_scalars(count: int, ratio: float, label: str, flag: bool = False) -> str:
    """Use every scalar type.

    Args:
        count: How many.
        ratio (float): A ratio, with a type in parentheses that is skipped.
        label: A name.
        flag: Whether to shout.

    Returns:
        A summary line.
    """
    return label


def containers(names: list[str], scores: dict[str, float], raw: list, meta: dict) -> list[int]:
    """Lists and dicts, bare and parameterized.

    Args:
        names: The names.
        scores: Score per name.
        raw: Anything in a list.
        meta: Any object.
    """
    return []


def optionals(query: str, limit: Optional[int] = None, page: int | None = 1):  # noqa: UP045
    """Optional arguments written both ways.

    Args:
        query: What to search for.
        limit: At most this many results.
        page: Which page.
    """


def unions(value: Union[int, str], other: float | str | None, nested: list[int] | dict):  # noqa: UP007
    """Unions of simple and of richer types.

    Args:
        value: A number or a word.
        other: Maybe a float or a word.
        nested: A list of ints or an object.
    """


def literals(unit: Literal["celsius", "fahrenheit"], mode: Literal[1, "auto", None] = "auto"):
    """Literal values become an enum.

    Args:
        unit: The unit.
        mode: Mixed literal types.
    """


def choices_in_doc(beverage: str, size: int = 1) -> None:
    """Order a drink.

    Args:
        beverage: The beverage to drink (choices: ["tea", "coffee"])
        size: Cup size (choices: [1, 2, 3])
    """


def multiline_docs(path: str, recursive: bool = True) -> dict[str, int]:
    """List files under a folder.

    This longer description spans
    two lines and a blank line follows.

    Args:
        path: The folder to list. The description
            goes on over a second line.
        recursive: Whether to go into sub-folders.

    Returns:
        A mapping from file name to
        size in bytes.

    Raises:
        FileNotFoundError: when path does not exist.
    """
    return {}


class Color(Enum):
    RED = "red"
    GREEN = "green"


def enums_and_tuples(color: Color, point: tuple[int, int], pair: tuple[str, float] = ("a", 1.0)):
    """Enums and fixed-size tuples.

    Args:
        color: The colour.
        point: An (x, y) point.
        pair: A labelled value.
    """


def any_typed(payload: Any, items: list[Any]) -> Any:
    """Anything goes.

    Args:
        payload: Any JSON value.
        items: A list of anything.

    Returns:
        Whatever came in.
    """


def nested_lists(matrix: list[list[float]], tags: dict[str, list[str]] | None = None):
    """Nested containers.

    Args:
        matrix: Rows of numbers.
        tags: Optional tags per key.
    """


def no_arguments() -> str:
    """Say hello.

    Returns:
        The greeting.
    """
    return "hello"


def keyword_only(a: int, *, sep: str = ", ", strict: bool | None = None) -> list[str]:
    """Keyword-only arguments with defaults.

    Args:
        a: A number.
        sep: The separator.
        strict: Whether to be strict.

    Returns:
        Some strings.
    """
    return []


def args_first(x: int):
    """Args:
    x: The "Args:" header must follow a description line, so this is undocumented.
    """


def variadic(x: int, *rest: str, flag: bool = False, **options: float) -> tuple[int, str]:
    """Variadic arguments.

    Args:
        x: A number.
        rest: More words.
        flag: A flag.
        options: Named numbers.

    Returns:
        A pair.
    """


def optional_containers(
    tags: Optional[list[str]] = None,  # noqa: UP045
    mix: Union[list[int], dict[str, str], None] = None,  # noqa: UP007
    switch: Literal[True, False] = True,
) -> list:
    """Optional containers.

    Args:
        tags (list[str], optional): Tags
            spanning lines.
        mix: A list or a map.
        switch: A literal boolean.

    Raises:
        ValueError: never.
    """


def choices_with_spaces(mode: str, level: int):
    """Choices with spaces and another case.

    Args:
        mode: Which mode to use (Choices: ["fast ", " slow"])
        level: Level (choices: [1, 2.5, "x"])
    """


class Calculator:
    def multiply(self, x: float, y: float = 2.0) -> float:
        """Multiply two numbers.

        Args:
            x: The first factor.
            y: The second factor.
        """
        return x * y


SCHEMA_FUNCTIONS = [
    simple_add,
    all_scalars,
    containers,
    optionals,
    unions,
    literals,
    choices_in_doc,
    multiline_docs,
    enums_and_tuples,
    any_typed,
    nested_lists,
    no_arguments,
    keyword_only,
    variadic,
    optional_containers,
    choices_with_spaces,
    Calculator().multiply,
]


@pytest.mark.parametrize("fn", SCHEMA_FUNCTIONS, ids=lambda fn: fn.__name__)
def test_function_to_schema_matches_transformers(fn):
    ours = function_to_schema(fn)
    theirs = get_json_schema(fn)
    assert ours == theirs
    # Same keys in the same order too, since templates render them with tojson.
    assert json.dumps(ours) == json.dumps(theirs)


def test_schema_shape_of_a_known_function():
    schema = function_to_schema(choices_in_doc)
    assert schema == {
        "type": "function",
        "function": {
            "name": "choices_in_doc",
            "description": "Order a drink.",
            "parameters": {
                "type": "object",
                "properties": {
                    "beverage": {
                        "type": "string",
                        "enum": ["tea", "coffee"],
                        "description": "The beverage to drink",
                    },
                    "size": {"type": "integer", "enum": [1, 2, 3], "description": "Cup size"},
                },
                "required": ["beverage"],
            },
            "return": {"type": "null"},
        },
    }


# --- definition errors ----------------------------------------------------------------


def test_no_docstring_is_a_definition_error():
    def bare(x: int):
        return x

    with pytest.raises(ToolDefinitionError, match="bare has no docstring"):
        function_to_schema(bare)
    with pytest.raises(ToolDefinitionError, match="no docstring"):
        tool(bare)


def test_undocumented_argument_is_named():
    def half(x: int, y: int):
        """Half documented.

        Args:
            x: Documented.
        """

    with pytest.raises(ToolDefinitionError, match="does not describe argument 'y'"):
        function_to_schema(half)


def test_same_definition_errors_as_transformers():
    # Both read "Args:" only after a description line, so this argument is undocumented.
    with pytest.raises(ToolDefinitionError, match="argument 'x'"):
        function_to_schema(args_first)
    with pytest.raises(Exception, match="argument 'x'"):
        get_json_schema(args_first)


def test_missing_type_hint_is_a_definition_error():
    def untyped(x):
        """No hint.

        Args:
            x: A thing.
        """

    with pytest.raises(ToolDefinitionError, match="'x' of untyped has no type hint"):
        function_to_schema(untyped)


class Custom:
    """A class no JSON schema can describe."""


def test_unsupported_type_hints_are_definition_errors():
    def custom(x: Custom):
        """Custom class.

        Args:
            x: A thing.
        """

    def one_tuple(x: tuple[int]):
        """Single tuple.

        Args:
            x: A thing.
        """

    def empty_enum(x: Enum):
        """Enum without members.

        Args:
            x: A thing.
        """

    for fn in (custom, one_tuple, empty_enum):
        with pytest.raises(ToolDefinitionError):
            function_to_schema(fn)


def test_unresolvable_type_hint_is_a_definition_error():
    def later(x: NotDefinedAnywhere):  # noqa: F821
        """Forward reference to nothing.

        Args:
            x: A thing.
        """

    with pytest.raises(ToolDefinitionError, match="NotDefinedAnywhere"):
        function_to_schema(later)


def test_bad_choices_list_is_a_definition_error():
    def pick(x: str):
        """Pick.

        Args:
            x: One of them (choices: [tea, coffee])
        """

    with pytest.raises(ToolDefinitionError, match="choices"):
        function_to_schema(pick)


def test_unconvertible_return_type_is_left_out():
    def returns_custom(x: int) -> Custom:
        """Return an object.

        Args:
            x: A number.
        """

    assert "return" not in function_to_schema(returns_custom)["function"]
    assert function_to_schema(returns_custom) == get_json_schema(returns_custom)


# --- Tool and @tool ---------------------------------------------------------------------


@tool
def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """Get the current weather in a city.

    Args:
        city: The city name.
        unit: The temperature unit.
    """
    return f"22 {unit} in {city}"


def test_tool_decorator_bare():
    assert isinstance(get_weather, Tool)
    assert get_weather.name == "get_weather"
    assert get_weather.output_type == "string"
    assert get_weather(city="Paris") == "22 celsius in Paris"
    assert get_weather("Oslo", "fahrenheit") == "22 fahrenheit in Oslo"
    assert get_weather.call({"city": "Rome"}) == "22 celsius in Rome"


def test_tool_schema_equals_function_schema():
    assert get_weather.schema == function_to_schema(get_weather.fn)
    assert get_weather.schema["function"]["parameters"]["required"] == ["city"]


def test_tool_decorator_with_name():
    @tool(name="adder")
    def add(a: int, b: int) -> int:
        """Add.

        Args:
            a: First.
            b: Second.
        """
        return a + b

    assert add.name == "adder"
    assert add.schema["function"]["name"] == "adder"
    assert add.call({"a": 2, "b": 3}) == 5


def test_tool_by_hand_wraps_any_callable():
    calls = []

    def remote(**kwargs):
        calls.append(kwargs)
        return "ok"

    params = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
    search = Tool("search", "Search the web.", params, remote)
    assert search.call({"q": "agents"}) == "ok"
    assert calls == [{"q": "agents"}]
    assert search.schema == {
        "type": "function",
        "function": {"name": "search", "description": "Search the web.", "parameters": params},
    }
    assert search.output_type == "any"


def test_tool_by_subclassing():
    class Reverse(Tool):
        name = "reverse"
        description = "Reverse a string."
        parameters = {
            "type": "object",
            "properties": {"text": {"type": "string", "description": "Text."}},
            "required": ["text"],
        }
        output_type = "string"

        def forward(self, text: str) -> str:
            return text[::-1]

    reverse = Reverse()
    assert reverse("abc") == "cba"
    assert reverse.call({"text": "xy"}) == "yx"
    assert reverse.signature == "reverse(text: string) -> string"
    with pytest.raises(ToolArgumentError, match="missing required argument 'text'"):
        reverse.call({})


def test_bad_tool_definitions():
    params = {"type": "object", "properties": {}}
    with pytest.raises(ToolDefinitionError, match="needs a function"):
        Tool("t", "d", params)
    with pytest.raises(ToolDefinitionError, match="tool name"):
        Tool("bad name!", "d", params, print)
    with pytest.raises(ToolDefinitionError, match="JSON schema object"):
        Tool("t", "d", {"type": "string"}, print)
    with pytest.raises(ToolDefinitionError, match=r"\['x'\] are not in 'properties'"):
        Tool("t", "d", {"type": "object", "properties": {}, "required": ["x"]}, print)
    with pytest.raises(ToolDefinitionError, match="'properties' must be a dict"):
        Tool("t", "d", {"type": "object", "properties": []}, print)


def test_positional_call_errors():
    with pytest.raises(ToolArgumentError, match="takes 2 arguments but got 3"):
        get_weather("a", "celsius", "extra")
    with pytest.raises(ToolArgumentError, match="'city' twice"):
        get_weather("a", city="b")


# --- validation -------------------------------------------------------------------------


def errors_of(t: Tool, arguments: Any) -> str:
    with pytest.raises(ToolArgumentError) as info:
        t.validate(arguments)
    return str(info.value)


def test_validation_message_names_tool_argument_and_signature():
    message = errors_of(get_weather, {"unit": "kelvin"})
    assert "Tool 'get_weather'" in message
    assert "missing required argument 'city' (string: The city name.)" in message
    assert """argument 'unit': expected one of "celsius", "fahrenheit", got string "kelvin\"""" in (
        message
    )
    assert 'get_weather(city: string, unit?: one of "celsius", "fahrenheit") -> string' in message


def test_unknown_argument_suggests_the_close_one():
    message = errors_of(get_weather, {"city": "Paris", "units": "celsius"})
    assert "unknown argument 'units' (did you mean 'unit'?)" in message
    assert "valid arguments: 'city', 'unit'" in message
    message = errors_of(get_weather, {"city": "Paris", "zzz": 1})
    assert "unknown argument 'zzz'; valid" in message


def test_arguments_must_be_an_object():
    assert "must be a JSON object of name: value, got array [1]" in errors_of(get_weather, [1])
    assert "got string" in errors_of(get_weather, "Paris")


@tool
def typed(
    n: int,
    x: float,
    flag: bool,
    names: list[str],
    scores: dict[str, int],
    maybe: int | None,
    point: tuple[int, int],
    either: list[int] | str,
) -> None:
    """Many types.

    Args:
        n: An integer.
        x: A number.
        flag: A boolean.
        names: Some names.
        scores: Scores by name.
        maybe: An integer or null.
        point: Two integers.
        either: Integers or a word.
    """


GOOD = {
    "n": 1,
    "x": 2,
    "flag": True,
    "names": ["a"],
    "scores": {"a": 1},
    "maybe": None,
    "point": [1, 2],
    "either": "w",
}


def test_valid_arguments_pass():
    typed.validate(GOOD)
    typed.validate({**GOOD, "x": 2.5, "maybe": 3, "either": [1, 2]})


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("n", "1", "argument 'n': expected integer, got string \"1\""),
        ("n", 1.5, "argument 'n': expected integer, got number 1.5"),
        ("n", True, "argument 'n': expected integer, got boolean true"),
        ("x", False, "argument 'x': expected number, got boolean false"),
        ("flag", 1, "argument 'flag': expected boolean, got integer 1"),
        ("names", "a", "argument 'names': expected array of string, got string"),
        ("names", ["a", 2], "argument 'names'[1]: expected string, got integer 2"),
        ("scores", {"a": "x"}, "argument 'scores'['a']: expected integer, got string \"x\""),
        ("scores", [1], "argument 'scores': expected object, got array [1]"),
        ("maybe", "no", "argument 'maybe': expected integer or null, got string"),
        ("point", [1], "argument 'point': expected 2 items, got 1"),
        ("point", [1, "b"], "argument 'point'[1]: expected integer, got string"),
        ("either", [1, "b"], "argument 'either': expected array of integer or string"),
    ],
)
def test_each_type_error_is_reported(key, value, expected):
    assert expected in errors_of(typed, {**GOOD, key: value})


def test_all_problems_are_listed_at_once():
    message = errors_of(typed, {"n": "x", "flag": 3})
    assert message.count("\n- ") == 2 + 6  # two bad values, six missing arguments
    assert "argument 'n'" in message and "argument 'flag'" in message


def test_nested_object_schemas_from_a_hand_written_tool():
    params = {
        "type": "object",
        "properties": {
            "filter": {
                "type": "object",
                "properties": {"tag": {"type": "string"}, "limit": {"type": "integer"}},
                "required": ["tag"],
                "additionalProperties": False,
            },
            "mode": {"type": "string", "enum": ["a", "b"], "nullable": True},
            "shape": {
                "anyOf": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}}]
            },
            "any": {},
        },
    }
    t = Tool("find", "Find things.", params, lambda **kw: kw)
    assert t.call({"filter": {"tag": "x", "limit": 2}, "mode": None, "shape": [1], "any": {}})
    message = errors_of(t, {"filter": {"limit": "2", "other": 1}, "mode": "c", "shape": "s"})
    assert "argument 'filter': missing required key 'tag'" in message
    assert "argument 'filter'['limit']: expected integer, got string" in message
    assert "argument 'filter': unknown key 'other'" in message
    assert 'argument \'mode\': expected one of "a", "b" or null, got string "c"' in message
    assert "argument 'shape': expected integer or array of integer, got string" in message


def test_enum_does_not_confuse_true_and_one():
    params = {"type": "object", "properties": {"v": {"enum": [1, "x"]}}}
    t = Tool("t", "d", params, lambda v: v)
    assert t.call({"v": 1}) == 1
    assert 'expected one of 1, "x", got boolean true' in errors_of(t, {"v": True})


def test_long_values_are_cut_in_messages():
    message = errors_of(get_weather, {"city": "Paris", "unit": "x" * 1000})
    assert "..." in message
    # The whole message stays short: the value is quoted up to the limit.
    assert "x" * (MAX_QUOTED_CHARS + 1) not in message


def test_call_does_not_run_the_function_on_bad_arguments():
    ran = []
    t = Tool(
        "t",
        "d",
        {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
        lambda a: ran.append(a),
    )
    with pytest.raises(ToolArgumentError):
        t.call({"a": "1"})
    assert ran == []
    t.call({"a": 1})
    assert ran == [1]


# --- parsing tool calls out of text --------------------------------------------------


def names_and_args(calls: list[ToolCall]) -> list[tuple[str, dict]]:
    return [(call.name, call.arguments) for call in calls]


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "search", "arguments": {"q": "cats"}}',
        'Thought: I should search.\nAction: {"name": "search", "arguments": {"q": "cats"}} done',
        '```json\n{"name": "search", "arguments": {"q": "cats"}}\n```',
        '```\n{"name": "search", "arguments": {"q": "cats"}}\n```',
        '<tool_call>\n{"name": "search", "arguments": {"q": "cats"}}\n</tool_call>',
        '<tool_call>{"name": "search", "arguments": {"q": "cats"}}',  # unclosed tag
        '{"tool": "search", "parameters": {"q": "cats"}}',
        '{"function": "search", "args": {"q": "cats"}}',
        '{"name": "search", "arguments": "{\\"q\\": \\"cats\\"}"}',
        '{"id": "c1", "type": "function", "function": {"name": "search", '
        '"arguments": "{\\"q\\": \\"cats\\"}"}}',
        '{"tool_calls": [{"function": {"name": "search", "arguments": {"q": "cats"}}}]}',
        '[{"name": "search", "arguments": {"q": "cats"}}]',
        '{"thought": "look it up", "action": {"name": "search", "arguments": {"q": "cats"}}}',
        '{"function_call": {"name": "search", "arguments": "{\\"q\\": \\"cats\\"}"}}',
        '<tool_call>{"tool_call": {"tool": "search", "args": {"q": "cats"}}}</tool_call>',
    ],
)
def test_one_call_in_every_accepted_shape_and_place(text):
    assert names_and_args(parse_tool_calls(text)) == [("search", {"q": "cats"})]


def test_several_calls_in_order():
    text = (
        'First {"name": "a", "arguments": {}} then\n'
        '<tool_call>{"name": "b", "arguments": {"x": 1}}</tool_call>\n'
        '```json\n{"name": "c", "arguments": {}}\n{"name": "d", "arguments": {}}\n```\n'
        'and [{"name": "e"}, {"name": "f", "arguments": {"y": [1, {"z": null}]}}]'
    )
    assert names_and_args(parse_tool_calls(text)) == [
        ("a", {}),
        ("b", {"x": 1}),
        ("c", {}),
        ("d", {}),
        ("e", {}),
        ("f", {"y": [1, {"z": None}]}),
    ]


def test_ids_are_kept_or_made_unique():
    calls = parse_tool_calls('{"id": "abc", "name": "a"} {"name": "a"} {"name": "a"}')
    assert calls[0].id == "abc"
    assert re.fullmatch(r"[0-9a-z]{9}", calls[1].id) and calls[1].id != calls[2].id
    # An empty id is replaced too.
    assert parse_tool_calls('{"id": "", "name": "a"}')[0].id != ""


@pytest.mark.parametrize(
    "text",
    [
        "",
        "The answer is 42.",
        "Use {x} as a placeholder, and {} too.",
        'The record is {"name": "Ada", "age": 36}.',  # JSON, but not a call
        '```python\nprint({"name": "x"})\n```',  # code in another language
        "```json\n[1, 2, 3]\n```",
        '{"action": {"type": "click", "x": 3}}',  # wrapped, but not a call
    ],
)
def test_text_without_calls_gives_an_empty_list(text):
    assert parse_tool_calls(text) == []


def parse_error(text: str) -> str:
    with pytest.raises(ToolCallParseError) as info:
        parse_tool_calls(text)
    message = str(info.value)
    # Every parse error shows the format to use instead.
    assert '{"name": "<tool name>", "arguments": {"<argument>": <value>}}' in message
    return message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{'name': 'search', 'arguments': {}}", "double quotes"),
        ('{"name": "search", "arguments": {"q": True}}', "true, false and null"),
        ('{"name": "search", "arguments": {"q": "cats"}', "invalid JSON"),
        ('{"name": "search", "arguments": {"q": "cats",}}', "invalid JSON"),
        ('{"name": "search" "arguments": {}}', "Expecting ',' delimiter"),
        ("<tool_call>\n{name: search}\n</tool_call>", "<tool_call> tags"),
        ("<tool_call></tool_call>", "the <tool_call> tags are empty"),
        ('<tool_call>{"query": "cats"}</tool_call>', "expected an object with a tool name"),
        ("<tool_call>[1, 2]</tool_call>", "expected an object with a tool name, got integer 1"),
        ('```json\n{"name": "search", "arguments": {q: 1}}\n```', "the ``` code block"),
        ('{"name": 3, "arguments": {}}', "tool name must be a non-empty string, got integer 3"),
        ('{"name": " ", "arguments": {}}', "non-empty string"),
        ('{"name": "search", "arguments": [1]}', "must be a JSON object, got array [1]"),
        ('{"name": "search", "arguments": "{q: 1}"}', "the arguments string of 'search'"),
        ('{"name": "search", "arguments": "[1]"}', "must be a JSON object, got array"),
    ],
)
def test_malformed_calls_raise_a_readable_error(text, expected):
    assert expected in parse_error(text)


def test_parse_error_points_at_the_mistake():
    message = parse_error('{"name": "search", "arguments": {"q": cats}}')
    assert "line 1 column 39" in message
    assert '"q": <HERE>cats}}' in message


def test_parse_rejects_non_text():
    with pytest.raises(ToolCallParseError, match="expected the model's text, got NoneType"):
        parse_tool_calls(None)  # type: ignore[arg-type]
