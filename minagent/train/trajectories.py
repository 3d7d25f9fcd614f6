"""Trajectories: the real agents, run on generated tasks with scripted replies.

To teach a model to be a minagent agent, show it minagent conversations: the same system
prompt, task message and observation format it will meet at inference. The surest way to
get them exactly is not to rebuild them but to run the agents themselves: a `CodeAgent` (or
`ToolCallingAgent`) whose model is a `ScriptedModel` replying with the task's programs. The
agent's memory then holds the conversation, observations and errors included, as the real
loop produced it; running it also checks that every program does what the task says.

Example:
    >>> from minagent.train.tasks import make_tasks
    >>> trajectory = code_trajectory(make_tasks("train", 1)[0])
    >>> [m.role for m in trajectory.messages]
    ['system', 'user', 'assistant']
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from minagent.agents import CodeAgent, MultiStepAgent, ToolCallingAgent
from minagent.messages import Message
from minagent.models import ScriptedModel
from minagent.train.tasks import Task
from minagent.train.toolbox import TOOLS


class TrajectoryError(RuntimeError):
    """A scripted run did not go as its task says (wrong answer, unexpected error)."""


@dataclass
class Trajectory:
    """One conversation to learn from, and which of its assistant turns to learn."""

    messages: list[Message]
    "system, task, then assistant and observation turns, ending with the final assistant turn."
    learn: list[bool]
    "One flag per message: True for the assistant turns the loss covers."
    agent: str
    "'code' (CodeAgent), 'tool' (ToolCallingAgent) or 'chat' (a plain turn, see train.chat)."
    task: Task | None
    "The task it solves; None for a chat turn."


def code_reply(program: str) -> str:
    """A CodeAgent reply: the program in a python block. Example: "x = 1" -> "```python\\nx = 1\\n```"."""  # noqa: E501
    return f"```python\n{program}\n```"


def tool_reply(name: str, arguments: dict) -> str:
    """A ToolCallingAgent reply: one JSON call, as the system prompt asks for."""
    return json.dumps({"name": name, "arguments": arguments})


def run_scripted(agent: MultiStepAgent, task: Task, failing: tuple[int, ...]) -> Trajectory:
    """Run `agent` on `task` and keep its conversation; refuse a run that went off script."""
    answer = agent.run(task.question)
    steps = agent.memory.action_steps
    errors = tuple(i for i, step in enumerate(steps) if step.error)
    if answer != task.answer or errors != failing:
        raise TrajectoryError(
            f"{task.family} task {task.question!r}: answer {answer!r} (expected "
            f"{task.answer!r}), failing steps {errors} (expected {failing}): "
            f"{[s.error for s in steps if s.error]}"
        )
    messages = agent.memory.to_messages()
    # The last step's observation comes after the answer: nothing to learn from it.
    last = max(i for i, m in enumerate(messages) if m.role == "assistant")
    messages = messages[: last + 1]
    turn = iter(range(len(steps)))
    learn = [m.role == "assistant" and next(turn) not in failing for m in messages]
    kind = "code" if isinstance(agent, CodeAgent) else "tool"
    return Trajectory(messages, learn, kind, task)


def code_trajectory(task: Task) -> Trajectory:
    """The CodeAgent conversation that solves `task` with its programs."""
    replies = [code_reply(program) for program in task.programs]
    model = ScriptedModel(replies)
    tools = [TOOLS[name] for name in task.tools]
    # "local": the same guarded interpreter as the default sandbox, without a process per run.
    agent = CodeAgent(tools, model, max_steps=len(replies), verbosity=0, executor="local")
    return run_scripted(agent, task, task.failing_steps)


def tool_trajectory(task: Task) -> Trajectory:
    """The ToolCallingAgent conversation that solves `task` with its JSON calls."""
    if task.calls is None:
        raise TrajectoryError(f"{task.family} task {task.question!r} has no JSON calls")
    calls = [*task.calls, ("final_answer", {"answer": task.answer})]
    model = ScriptedModel([tool_reply(name, arguments) for name, arguments in calls])
    tools = [TOOLS[name] for name in task.tools]
    agent = ToolCallingAgent(tools, model, max_steps=len(calls), verbosity=0)
    return run_scripted(agent, task, ())


def make_trajectories(tasks: list[Task], tool_share: float = 1.0) -> list[Trajectory]:
    """A CodeAgent trajectory per task, plus a ToolCallingAgent one for the first
    `tool_share` of the tasks that have JSON calls."""
    with_calls = [task for task in tasks if task.calls is not None]
    json_tasks = with_calls[: round(tool_share * len(with_calls))]
    return [code_trajectory(t) for t in tasks] + [tool_trajectory(t) for t in json_tasks]
