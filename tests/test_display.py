"""The rich trace of a run: what is shown at each verbosity, and replay from saved memory."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console
from sample_tools import add

from minagent.agents import ToolCallingAgent
from minagent.display import Display, replay
from minagent.memory import Memory, Step
from minagent.messages import TokenUsage, ToolCall
from minagent.models import ScriptedModel


def console() -> Console:
    return Console(file=io.StringIO(), width=100, force_terminal=True, color_system="standard")


def text_of(con: Console) -> str:
    from rich.text import Text

    return Text.from_ansi(con.file.getvalue()).plain


def code_step() -> Step:
    return Step(
        kind="action",
        step_number=1,
        model_output="I multiply first.\n```python\nx = 17 * 23\nprint(x)\n```",
        code="x = 17 * 23\nprint(x)",
        observation="391",
        usage=TokenUsage(1234, 12),
        duration=0.5,
    )


def test_code_step_shows_code_observation_and_footer():
    con = console()
    Display(1, con).step(code_step())
    shown = text_of(con)
    assert "Step 1" in shown and "x = 17 * 23" in shown
    assert "Observation:" in shown and "391" in shown
    assert "[Step 1: 0.50 s | input tokens 1,234 | output tokens 12]" in shown
    assert "I multiply first." not in shown  # thoughts only at verbosity 2


def test_verbosity_two_shows_the_model_thoughts():
    con = console()
    Display(2, con).step(code_step())
    assert "I multiply first." in text_of(con)


def test_errors_are_red():
    con = console()
    step = Step(kind="action", step_number=2, error="InterpreterError: import of os is not allowed")
    Display(1, con).step(step)
    raw = con.file.getvalue()
    assert "\x1b[1;31mInterpreterError: import of os is not allowed" in raw


def test_tool_calls_are_shown_with_their_arguments():
    con = console()
    step = Step(kind="action", step_number=1, tool_calls=[ToolCall("add", {"a": 1, "b": 2})])
    Display(1, con).step(step)
    assert 'add({"a": 1, "b": 2})' in text_of(con)


def test_quiet_prints_nothing_and_bad_levels_fail():
    con = console()
    display = Display(0, con)
    display.task("task", "agent")
    display.step(code_step())
    display.final_answer(42)
    assert con.file.getvalue() == ""
    with pytest.raises(ValueError, match="verbosity must be one of"):
        Display(3)


def test_a_live_run_prints_task_steps_and_answer():
    replies = [
        json.dumps({"name": "add", "arguments": {"a": 1, "b": 2}}),
        json.dumps({"name": "final_answer", "arguments": {"answer": 3}}),
    ]
    agent = ToolCallingAgent([add], ScriptedModel(replies), verbosity=1)
    agent.display.console = con = console()
    agent.run("What is 1 + 2?")
    shown = text_of(con)
    for part in (
        "New run",
        "What is 1 + 2?",
        "ToolCallingAgent | scripted",
        "Step 2",
        "Final answer",
    ):
        assert part in shown
    assert shown.index("Step 1") < shown.index("Step 2") < shown.index("Final answer")


def test_replay_of_saved_memory_shows_the_same_steps():
    replies = [
        json.dumps({"name": "add", "arguments": {"a": 1, "b": 2}}),
        json.dumps({"name": "final_answer", "arguments": {"answer": 3}}),
    ]
    agent = ToolCallingAgent([add], ScriptedModel(replies), verbosity=2)
    agent.display.console = live = console()
    agent.run("What is 1 + 2?")
    again = console()
    replay(Memory.from_json(agent.memory.to_json()), verbosity=2, console=again)
    live_steps = text_of(live).split("Step 1", 1)[1]
    replayed_steps = text_of(again).split("Step 1", 1)[1]
    assert replayed_steps == live_steps
    assert "Run: 2 steps" in replayed_steps
