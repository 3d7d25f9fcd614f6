"""Evaluation: the real agent, with the base or the tuned model, on held-out tasks.

Three figures per model, the ones the fine-tuning is meant to move:

- success: the share of tasks whose final answer is right;
- parse rate: the share of action steps whose reply held an action (a code block, or a
  JSON tool call) that the agent could read;
- steps: the mean number of action steps per task (a task that never calls
  final_answer uses them all).

Example:
        report = evaluate(make_tasks("held_out", 6), LocalModel(adapter=None))
        sorted(report)  # -> ['by_family', 'parse_rate', 'steps', 'success', 'tasks']
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from minagent.agents import CodeAgent, ToolCallingAgent
from minagent.models import Model
from minagent.train.tasks import Task
from minagent.train.toolbox import TOOLS

MAX_STEPS = 4
"""Action steps an agent gets per task (as in bench/agents.py)."""

MAX_TOKENS = 384
"""Reply length cap per step (as in bench/agents.py)."""

NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?")


def is_correct(answer: Any, expected: Any) -> bool:
    """A lenient check: numbers within 1e-6 (a number written in text counts when it is
    the only one), lists and other values by their text, give or take spaces, quotes and
    a full stop.

    Example: is_correct("396", 396) -> True; is_correct([1, 2], [1, 2]) -> True
    """
    if answer is None:
        return False
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        if isinstance(answer, (int, float)) and not isinstance(answer, bool):
            return abs(answer - expected) < 1e-6
        numbers = NUMBER_RE.findall(str(answer))
        return len(numbers) == 1 and abs(float(numbers[0]) - expected) < 1e-6
    if isinstance(expected, (list, tuple)):
        return re.sub(r"\s", "", str(answer)) == re.sub(r"\s", "", str(list(expected)))
    return str(answer).strip().strip("'\".") == str(expected)


def run_task(
    task: Task, model: Model, agent: str = "code", point_out_repeats: bool = True
) -> dict[str, Any]:
    """Run one agent on one task: was it right, in how many steps, how many parsed.
    `point_out_repeats=False` turns off the note on a repeated step (to measure what it does).
    """
    tools = [TOOLS[name] for name in task.tools]
    options = dict(max_steps=MAX_STEPS, max_tokens=MAX_TOKENS, temperature=0.0, verbosity=0,
                   point_out_repeats=point_out_repeats)  # fmt: skip
    if agent == "code":
        runner = CodeAgent(tools, model, executor="local", **options)
    else:
        runner = ToolCallingAgent(tools, model, **options)
    answer = runner.run(task.question)
    steps = runner.memory.action_steps
    # An action is recorded on the step only once it parsed: code, or tool calls.
    parsed = sum(1 for step in steps if step.code is not None or step.tool_calls)
    return {
        "family": task.family,
        "question": task.question,
        "answer": repr(answer),
        "correct": is_correct(answer, task.answer),
        "steps": len(steps),
        "parsed_steps": parsed,
    }


def evaluate(
    tasks: list[Task], model: Model, agent: str = "code", point_out_repeats: bool = True
) -> dict[str, Any]:
    """Success rate, parse rate and mean steps over `tasks`, overall and per family."""
    runs = [run_task(task, model, agent, point_out_repeats) for task in tasks]
    families: dict[str, list[dict]] = defaultdict(list)
    for run in runs:
        families[run["family"]].append(run)
    return {
        **summary(runs),
        "by_family": {family: summary(group) for family, group in families.items()},
        "tasks": runs,
    }


def summary(runs: list[dict[str, Any]]) -> dict[str, float]:
    """The three figures of a list of runs. Example: one right run in 1 step ->
    {"success": 1.0, "parse_rate": 1.0, "steps": 1.0}"""
    steps = sum(run["steps"] for run in runs)
    return {
        "success": sum(run["correct"] for run in runs) / len(runs),
        "parse_rate": sum(run["parsed_steps"] for run in runs) / max(1, steps),
        "steps": steps / len(runs),
    }


def format_report(report: dict[str, Any]) -> str:
    """A small text table: overall, then one line per family."""
    lines = [f"{'':<14}{'success':>9}{'parsed':>9}{'steps':>7}"]
    rows = [("all", report), *sorted(report["by_family"].items())]
    for name, figures in rows:
        lines.append(
            f"{name:<14}{figures['success']:>9.0%}{figures['parse_rate']:>9.0%}"
            f"{figures['steps']:>7.2f}"
        )
    return "\n".join(lines)
