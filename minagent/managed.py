"""An agent as a tool of another (unit 07): a manager calls a worker agent with a task.

To a manager, a managed agent is a tool like any other: a name, a description that says when to
use it, and one argument, `task`, written in words. Calling it runs the whole inner agent, with
its own memory, and returns only its final answer, as a report that names who wrote it.

`MultiStepAgent.as_tool` in `minagent/agents.py` is the library's shorter version (the worker's
own name and description, its answer as it is). This module is unit 07's solution, names and
all, so a learner stuck on the unit can read it.

Example:
    analyst = managed_agent_tool(agent, "data_analyst", "Answers questions about data.")
    analyst.call({"task": "Which country sold most?"}) -> "Report from data_analyst:\\nFrance"
"""

from __future__ import annotations

from typing import Any, Protocol

from minagent.tools import Tool

MANAGED_TASK = (
    "You are {name}, an agent working for a manager agent, which gave you this task:\n\n"
    "{task}\n\n"
    "Your manager sees only your final answer, not your steps: put everything it needs in it."
)
"""The message a managed agent receives: its name and the manager's task (str.format)."""
REPORT = "Report from {name}:\n{answer}"
"""The shape of the answer it hands back, so the manager's memory says who said what."""


class Runnable(Protocol):
    """Anything with run(task) -> final answer: a CodeAgent, a ToolCallingAgent."""

    def run(self, task: str) -> Any: ...


def managed_agent_tool(agent: Runnable, name: str, description: str) -> Tool:
    """Turn an agent into a tool that a manager agent can call with a task.

    Args:
        agent: any agent with run(task) -> final answer (a minagent CodeAgent or
            ToolCallingAgent).
        name: the tool's name, as the manager will call it, like "data_analyst".
        description: what the agent is good at; the manager reads it to decide when to call it.

    Returns:
        A Tool named `name`, described by `description`, whose parameters schema has one
        required string property "task". Calling it runs
        agent.run(MANAGED_TASK.format(name=name, task=task)) and returns
        REPORT.format(name=name, answer=<the agent's final answer>).

    Raises:
        ValueError: the description is empty or only whitespace (a manager picks tools by their
            description: one described by nothing is never picked, or picked at random).

    Example:
        managed_agent_tool(worker, "geographer", "Answers questions about places").name
        -> "geographer"
    """
    if not description.strip():
        raise ValueError(f"managed agent {name!r} needs a description: its manager picks by it")
    parameters = {
        "type": "object",
        "properties": {
            "task": {"type": "string", "description": "The task, with every detail it needs."}
        },
        "required": ["task"],
    }

    def delegate(task: str) -> str:
        # A whole run of the inner agent, with a memory of its own; only its answer comes back.
        answer = agent.run(MANAGED_TASK.format(name=name, task=task))
        return REPORT.format(name=name, answer=answer)

    return Tool(name, description, parameters, fn=delegate, output_type="string")
