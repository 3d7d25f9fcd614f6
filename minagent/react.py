"""The course's two agent loops, each on one screen: ReAct with tools (unit 03), code (unit 05).

Both loops are the same idea. The memory is a list of chat messages; each step sends all of it
to the model, stops the model before it writes an observation itself, reads the action out of
the reply, runs it, and appends the reply and the observation. Every mistake (a reply that does
not parse, an unknown tool, bad arguments, failing code) becomes the next observation, so the
model can recover. There are two ways out: the final answer, or `AgentMaxStepsError`.

- `run_tool_agent` reads text steps ("Thought: / Action: / Action Input:") with
  `parse_react_step` and runs one tool per step.
- `run_code_agent` reads a Python block with `minagent.agents.extract_code` and runs it in one
  `minagent.interpreter.Interpreter` per run, so variables persist from step to step.

`minagent.agents` holds the library versions (`ToolCallingAgent`, `CodeAgent`): the same loops
with recorded steps, planning, callbacks and retries. This module is the solution of units 03
and 05, names and all, so a learner stuck on them can read it.

Example:
    >>> from minagent.models import ScriptedModel
    >>> run_tool_agent("What is 2 + 3?", [], ScriptedModel(["Final Answer: 5"]))
    '5'
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from minagent.agents import AgentParseError, extract_code
from minagent.executor import InterpreterError, RunResult
from minagent.interpreter import Interpreter
from minagent.models import Model
from minagent.prompts import render_prompt
from minagent.tools import Tool, tool

MAX_STEPS = 6
"""Model calls before an agent gives up (every call counts, also those that fail to parse)."""
OBSERVATION_STOP = "Observation:"
"""Where a ReAct model must stop: the observation is ours to write."""
CODE_STOP = ["\n```\n", "Observation:"]
"""Where a code model must stop: at the end of its first code block, or when it starts
inventing the output of its code."""
AUTHORIZED_IMPORTS = ("math", "statistics")
"""Modules the code agent's code may import."""


class ReactParseError(ValueError):
    """The model's reply is not a step we can read; the message says what to write instead."""


class AgentMaxStepsError(RuntimeError):
    """The agent used all its steps without giving a final answer."""


@dataclass
class ReactStep:
    """One step of a ReAct trace: a thought, then either an action or a final answer."""

    thought: str
    action: str | None = None  # the tool name
    action_input: dict | None = None  # the tool's arguments
    final_answer: str | None = None


@dataclass
class CodeStep:
    """One step of a code agent: the code it ran, and the observation that came back."""

    code: str | None  # the code extracted from the reply (None when the reply held none)
    observation: str  # what the model reads next: printed text, a value, or "Error: ..."


@dataclass
class CodeRun:
    """A finished code agent run: the argument of final_answer(...) and every step, in order."""

    answer: Any
    steps: list[CodeStep]


@tool
def final_answer(answer: Any) -> Any:
    """Give the final answer to the task. Calling this ends the run.

    Args:
        answer: The answer to the task.
    """
    return answer


# ---------------------------------------------------------------- unit 03: ReAct with tools
def react_system_prompt(tools: Sequence[Tool]) -> str:
    """The ReAct system prompt: the tools, one line each, then the Thought/Action format
    (`prompts/react.j2`)."""
    return render_prompt("react.j2", tools=tools)


def run_tool(chosen_tool: Tool, arguments: dict[str, Any]) -> str:
    """Run a tool with the arguments the model wrote; any failure becomes an "Error: ..." text.

    Example: run_tool(divide, {"a": 1, "b": 0}) -> "Error: ZeroDivisionError: division by zero"
    """
    try:
        return str(chosen_tool.call(arguments))
    except Exception as err:  # bad arguments or a failing tool: an observation, not a crash
        return f"Error: {type(err).__name__}: {err}"


def parse_react_step(text: str) -> ReactStep:
    """Read one ReAct step written by a model.

    Args:
        text: the model's reply: "Thought: ...", then either "Action: <tool name>" and
            "Action Input: <JSON object>" lines, or a "Final Answer: ..." line. Each keyword
            starts a line. Everything from a line starting with "Observation:" on is ignored.

    Returns:
        ReactStep(thought, action, action_input) for an action, or
        ReactStep(thought, final_answer=...) for a final answer. The thought is the text after
        "Thought:" up to the Action or Final Answer line, stripped ("" without one); the final
        answer is all the text after "Final Answer:", stripped; action_input is the decoded
        JSON object (what follows it is ignored).

    Raises:
        ReactParseError: no Action and no Final Answer; both; an empty action name; a missing
            Action Input; an Action Input that is not valid JSON or not a JSON object.

    Example:
        parse_react_step('Thought: sum\\nAction: add\\nAction Input: {"a": 1, "b": 2}')
        -> ReactStep(thought="sum", action="add", action_input={"a": 1, "b": 2})
    """
    # The model stops being trustworthy where it starts writing observations itself.
    text = re.split(r"^\s*Observation:", text, flags=re.MULTILINE)[0]
    thought = re.search(
        r"^\s*Thought:(.*?)(?=^\s*(?:Action|Final Answer):|\Z)", text, re.MULTILINE | re.DOTALL
    )
    thought = thought.group(1).strip() if thought else ""
    action = re.search(r"^\s*Action:(.*)$", text, re.MULTILINE)
    final = re.search(r"^\s*Final Answer:(.*)", text, re.MULTILINE | re.DOTALL)
    if action and final:
        raise ReactParseError(
            "write either an Action (with its Action Input) or a Final Answer, not both"
        )
    if final:
        return ReactStep(thought=thought, final_answer=final.group(1).strip())
    if not action:
        raise ReactParseError(
            "no Action and no Final Answer found. Reply with 'Thought: ...' then either "
            "'Action: <tool name>' and 'Action Input: <JSON object>', or 'Final Answer: ...'"
        )
    name = action.group(1).strip()
    if not name:
        raise ReactParseError(
            "the Action line is empty: write the name of one tool after 'Action:'"
        )
    action_input = re.search(r"^\s*Action Input:(.*)", text, re.MULTILINE | re.DOTALL)
    if not action_input:
        raise ReactParseError(
            f"Action {name!r} has no 'Action Input:' line: add one with the arguments as a "
            'JSON object, like {"city": "Paris"} ({} for none)'
        )
    raw = action_input.group(1).strip()
    try:
        # raw_decode reads one JSON value and tells us where it ends; what follows is ignored.
        arguments, _ = json.JSONDecoder().raw_decode(raw)
    except json.JSONDecodeError as err:
        raise ReactParseError(
            f"the Action Input is not valid JSON ({err.msg}): {raw[:80]!r}. "
            'Write one JSON object with double quotes, like {"city": "Paris"}'
        ) from None
    if not isinstance(arguments, dict):
        raise ReactParseError(
            f"the Action Input must be a JSON object of argument names and values, "
            f"got {arguments!r}"
        )
    return ReactStep(thought=thought, action=name, action_input=arguments)


def run_tool_agent(
    task: str, tools: Sequence[Tool], model: Model, max_steps: int = MAX_STEPS
) -> Any:
    """Solve a task with tools in a ReAct loop, and return the final answer.

    Args:
        task: what to do, in words.
        tools: minagent tools (with .name and .call(arguments)); final_answer is added.
        model: a model with generate(messages, stop=...) -> a message with .content.
        max_steps: how many model calls to allow before giving up.

    Returns:
        The "answer" argument of the final_answer call, as the model wrote it (or the text
        after "Final Answer:").

    Raises:
        AgentMaxStepsError: max_steps model calls went by without a final answer.

    Example:
        model = ScriptedModel(['Action: add\\nAction Input: {"a": 2, "b": 3}',
                               'Action: final_answer\\nAction Input: {"answer": 5}'])
        run_tool_agent("What is 2 + 3?", [add], model) -> 5
    """
    # final_answer is one more tool: calling it is how the model says it is done.
    by_name = {t.name: t for t in [*tools, final_answer]}
    memory = [
        {"role": "system", "content": react_system_prompt(list(by_name.values()))},
        {"role": "user", "content": task},
    ]
    for _ in range(max_steps):
        # Stop before "Observation:": the model must not write the tool's result itself.
        reply = model.generate(memory, stop=[OBSERVATION_STOP])
        memory.append({"role": "assistant", "content": reply.content})
        try:
            step = parse_react_step(reply.content)
        except ReactParseError as err:
            observation = f"Error: {err}"  # show the model its mistake; it tries again
        else:
            if step.final_answer is not None:
                return step.final_answer
            if step.action == "final_answer" and "answer" in step.action_input:
                return step.action_input["answer"]
            if step.action in by_name:
                observation = run_tool(by_name[step.action], step.action_input)
            else:
                available = ", ".join(by_name)
                observation = f"Error: unknown tool {step.action!r}. Available tools: {available}."
        memory.append({"role": "user", "content": f"Observation: {observation}"})
    raise AgentMaxStepsError(f"no final answer after {max_steps} steps")


# ---------------------------------------------------------------- unit 05: code actions
def code_system_prompt(tools: Sequence[Tool]) -> str:
    """The code agent's system prompt: the tools as functions, one line each, then the rules
    (`prompts/code_loop.j2`)."""
    return render_prompt("code_loop.j2", tools=tools, imports=", ".join(AUTHORIZED_IMPORTS))


def describe(result: RunResult) -> str:
    """The observation after code ran: what it printed, then the value of its last expression
    (`Out: ...`) or the final answer; a reminder to print when there is nothing to show.

    Example: describe(Interpreter().run("print('hi')\\n6 * 7")) -> "hi\\nOut: 42"
    """
    lines = [result.logs.rstrip()] if result.logs.strip() else []
    if result.is_final_answer:
        lines.append(f"Final answer: {result.output!r}")
    elif result.output is not None:
        lines.append(f"Out: {result.output!r}")
    return "\n".join(lines) or "(no output: print() the values you need)"


def run_code_agent(
    task: str, model: Model, tools: Sequence[Tool], max_steps: int = MAX_STEPS
) -> CodeRun:
    """Solve a task with code actions, and return the answer with the steps that led to it.

    Args:
        task: what to do, in words.
        model: a model with generate(messages, stop=...) -> a message with .content.
        tools: minagent tools; the model's code calls them as functions, by name.
        max_steps: how many model calls to allow before giving up.

    Returns:
        CodeRun(answer, steps): answer is the argument of final_answer(...); steps holds one
        CodeStep(code, observation) per model call, in order. code is what extract_code found
        (None when it raised); observation is describe(result) when the code ran, else
        "Error: <message>", with the text the code printed before failing (err.logs) in front.

    Raises:
        AgentMaxStepsError: max_steps model calls went by without final_answer.

    Example:
        model = ScriptedModel(["```python\\np = get_price('pear')\\nprint(p)\\n```",
                               "```python\\nfinal_answer(2 * p)\\n```"])
        run_code_agent("What do 2 pears cost?", model, [get_price]).answer -> 1.5
    """
    # One interpreter for the whole run: its state carries variables from step to step.
    interpreter = Interpreter(
        authorized_imports=AUTHORIZED_IMPORTS, tools={t.name: t for t in tools}
    )
    memory = [
        {"role": "system", "content": code_system_prompt(tools)},
        {"role": "user", "content": task},
    ]
    steps = []
    for _ in range(max_steps):
        # Stop after the first code block: the output of the code is ours to write.
        reply = model.generate(memory, stop=CODE_STOP)
        memory.append({"role": "assistant", "content": reply.content})
        code = None
        try:
            code = extract_code(reply.content)
            result = interpreter.run(code)
        except AgentParseError as err:
            observation = f"Error: {err}"
        except InterpreterError as err:
            # What the code printed before it failed shows the model how far it got.
            observation = f"{err.logs}Error: {err}"
        else:
            observation = describe(result)
            if result.is_final_answer:
                steps.append(CodeStep(code, observation))
                return CodeRun(result.output, steps)
        steps.append(CodeStep(code, observation))
        memory.append({"role": "user", "content": f"Observation:\n{observation}"})
    raise AgentMaxStepsError(f"no final answer after {max_steps} steps")
