"""Plausible wrong solutions for unit 02 (tools), one learner mistake each.

Each wrong answer is the solution cell of `solutions/02-tools/02-tools.ipynb` with one edit,
written as (what the solution says, what the learner wrote instead), so the list stays in step
with the notebook. `tests/test_units.py` swaps each into the released notebook and checks that
the exercise loses points.
"""

from grader.mistakes import solution_editor

_edit = solution_editor("02-tools")


WRONG = {
    "function_to_schema": [
        # Every argument marked required, defaults ignored.
        _edit(
            "function_to_schema",
            (
                "        if param.default is inspect.Parameter.empty:\n            required.append",
                "        if True:\n            required.append",
            ),
        ),
        # Only the first line of the docstring kept as the description.
        _edit(
            "function_to_schema",
            (
                'description = re.split(r"\\n\\s*(?:Args|Returns|Raises):", doc)[0].strip()',
                "description = doc.splitlines()[0].strip()",
            ),
        ),
        # "required": [] written even when every argument has a default.
        _edit(
            "function_to_schema",
            ('    if required:\n        parameters["required"] = required\n', ""),
            (
                'parameters = {"type": "object", "properties": properties}',
                'parameters = {"type": "object", "properties": properties, "required": required}',
            ),
        ),
        # Optional[X] described as X, without "nullable".
        _edit(
            "function_to_schema",
            ('return {**schema_of(inner[0]), "nullable": True}', "return schema_of(inner[0])"),
        ),
    ],
    "tool": [
        # __call__ takes keyword arguments only.
        _edit(
            "tool",
            ("def __call__(self, *args, **kwargs):", "def __call__(self, **kwargs):"),
            ("return self.fn(*args, **kwargs)", "return self.fn(**kwargs)"),
        ),
        # The schema is built lazily, so a bad tool only fails when first used, and
        # __name__/__doc__ are not copied.
        _edit(
            "tool",
            (
                "        self.schema = function_to_schema(fn)\n"
                '        self.name = self.schema["function"]["name"]\n'
                '        self.description = self.schema["function"]["description"]\n',
                "        self.name = fn.__name__\n"
                "        self.description = (fn.__doc__ or '').strip().split('\\n')[0]\n",
            ),
            ("        functools.update_wrapper(self, fn)\n", ""),
            (
                "    def __repr__(self):",
                "    @property\n    def schema(self):\n"
                "        return function_to_schema(self.fn)\n\n"
                "    def __repr__(self):",
            ),
        ),
    ],
    "parse_tool_call": [
        # The first {...} by a non-greedy regex: breaks on nested arguments.
        _edit(
            "parse_tool_call",
            (
                "    decoder = json.JSONDecoder()\n",
                '    match = re.search(r"\\{.*?\\}", text, re.DOTALL)\n'
                "    if match is None:\n"
                "        raise ToolCallParseError('no tool call found')\n"
                "    try:\n"
                "        value = json.loads(match.group(0))\n"
                "    except json.JSONDecodeError as err:\n"
                "        raise ToolCallParseError(f'invalid JSON: {err}') from None\n"
                "    name, arguments = value['name'], value.get('arguments', {})\n"
                "    return ToolCall(name=name, arguments=arguments)\n"
                "    decoder = json.JSONDecoder()\n",
            ),
        ),
        # json.loads on the whole text: prose around the call breaks it.
        _edit(
            "parse_tool_call",
            (
                "    decoder = json.JSONDecoder()\n",
                "    try:\n"
                "        value = json.loads(text)\n"
                "    except json.JSONDecodeError as err:\n"
                "        raise ToolCallParseError(f'invalid JSON: {err}') from None\n"
                "    if not isinstance(value, dict) or 'name' not in value:\n"
                "        raise ToolCallParseError('no tool call found')\n"
                "    return ToolCall(name=value['name'], arguments=value.get('arguments', {}))\n"
                "    decoder = json.JSONDecoder()\n",
            ),
        ),
        # Every brace that does not decode is skipped, so a truncated call is read from
        # the inside ({"name": "Ada"}).
        _edit(
            "parse_tool_call",
            (
                '            if re.match(r"\\{\\s*[\\"\']name[\\"\']", text[position:]):',
                "            if False:",
            ),
        ),
    ],
    "execute_tool_call": [
        # Python isinstance checks: True passes as an integer, 3 fails as a number.
        _edit(
            "execute_tool_call",
            (
                '"integer": lambda v: isinstance(v, int) and not isinstance(v, bool),',
                '"integer": lambda v: isinstance(v, int),',
            ),
            (
                '"number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),',
                '"number": lambda v: isinstance(v, float),',
            ),
        ),
        # No try/except: a failing tool crashes the caller.
        _edit(
            "execute_tool_call",
            (
                "    try:\n        return str(chosen(**call.arguments))\n"
                "    except Exception as err:  # the tool's own failure is an observation too\n"
                '        return f"Error: tool {call.name!r} raised {type(err).__name__}: {err}"',
                "    return str(chosen(**call.arguments))",
            ),
        ),
        # The raw result instead of the observation string.
        _edit(
            "execute_tool_call",
            (
                "        return str(chosen(**call.arguments))",
                "        return chosen(**call.arguments)",
            ),
        ),
    ],
}
