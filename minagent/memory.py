"""What an agent remembers: one record per step, and the chat history rebuilt from them.

The agent never keeps a separate list of messages. Each step records what the model was
shown, what it replied, what the agent did and what came back; the next prompt is rebuilt
from those records (`Memory.to_messages`). That single source of truth is what makes a run
easy to replay on screen, to save as JSON and to load back.

Example:
    >>> memory = Memory(system_prompt="You solve tasks.", task="What is 2 + 2?")
    >>> memory.steps.append(Step(kind="action", step_number=1, model_output="...",
    ...                          observation="4", is_final_answer=True, final_answer=4))
    >>> Memory.from_json(memory.to_json()).final_answer
    4
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from minagent.messages import Message, TokenUsage, ToolCall, assistant, system, tool_result, user
from minagent.prompts import render_prompt

# The kinds of step a run is made of: an action (code or tool calls), a planning step, and
# the one extra model call that turns a run that hit max_steps into an answer anyway.
STEP_KINDS = ("action", "planning", "final")


@dataclass
class Step:
    """One step of a run: everything needed to understand it later, or to replay it."""

    kind: str
    "One of STEP_KINDS: 'action', 'planning' or 'final' (the max-steps fallback)."
    step_number: int
    "1-based number of the action step this belongs to (a plan gets the number of the next)."
    model_input: list[Message] = field(default_factory=list)
    "The messages the model was given for this step."
    model_output: str = ""
    "The model's raw reply text (for a plan: the plan)."
    code: str | None = None
    "CodeAgent: the Python code parsed from the reply."
    tool_calls: list[ToolCall] = field(default_factory=list)
    "ToolCallingAgent: the tool calls parsed from the reply (or returned natively)."
    native_tool_calls: bool = False
    "True when the model returned structured tool calls: replies then go back as tool messages."
    tool_results: list[str] = field(default_factory=list)
    "With native tool calls: one observation per call, in order."
    observation: str = ""
    "What the action produced, as the model will see it (printed output, tool results)."
    error: str | None = None
    "What went wrong (parse error, interpreter error, tool failure), as the model will see it."
    usage: TokenUsage = field(default_factory=lambda: TokenUsage(0, 0))
    "Tokens the model read and wrote for this step."
    duration: float = 0.0
    "Seconds from the model call to the end of the action."
    is_final_answer: bool = False
    "True when this step produced the run's answer."
    final_answer: Any = None
    "The answer, when is_final_answer."
    repeats: int | None = None
    "The earlier action step whose action and observation this one repeated exactly, if any."

    def to_messages(self) -> list[Message]:
        """The chat messages this step adds to the history the model sees next."""
        if self.kind == "planning":
            return [assistant(self.model_output), user(render_prompt("after_plan.j2"))]
        if self.kind == "final":
            return [assistant(self.model_output)]
        if self.native_tool_calls:
            # Structured calls must be answered by tool messages carrying their call ids.
            replies = [assistant(self.model_output, tool_calls=self.tool_calls)]
            for call, result in zip(self.tool_calls, self.tool_results, strict=True):
                replies.append(tool_result(result, call.id, call.name))
            return replies
        feedback = render_prompt(
            "observation.j2", observation=self.observation, error=self.error, repeats=self.repeats
        )
        return [assistant(self.model_output), user(feedback)]

    def to_dict(self) -> dict:
        """A JSON-ready dict; `Step.from_dict` inverts it."""
        return {
            "kind": self.kind,
            "step_number": self.step_number,
            "model_input": [m.to_dict() for m in self.model_input],
            "model_output": self.model_output,
            "code": self.code,
            "tool_calls": [c.to_dict() for c in self.tool_calls],
            "native_tool_calls": self.native_tool_calls,
            "tool_results": list(self.tool_results),
            "observation": self.observation,
            "error": self.error,
            "usage": self.usage.to_dict(),
            "duration": self.duration,
            "is_final_answer": self.is_final_answer,
            "final_answer": _jsonable(self.final_answer),
            "repeats": self.repeats,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Step:
        """Rebuild a step saved by `to_dict`."""
        fields = dict(data)
        fields["model_input"] = [Message.from_dict(m) for m in data["model_input"]]
        fields["tool_calls"] = [ToolCall.from_dict(c) for c in data["tool_calls"]]
        fields["usage"] = TokenUsage(**data["usage"])
        return cls(**fields)


@dataclass
class Memory:
    """A run: its system prompt, its task (as shown to the model) and its steps, in order."""

    system_prompt: str
    "The rendered system prompt."
    task: str
    "The task message as the model saw it (additional arguments included)."
    steps: list[Step] = field(default_factory=list)
    "Every step, planning and fallback steps included, in the order they happened."

    def to_messages(self) -> list[Message]:
        """The full chat history: system prompt, task, then each step's messages.

        Example: after one action step -> [system, user(task), assistant(code), user(obs)].
        """
        messages = [system(self.system_prompt), user(self.task)]
        for step in self.steps:
            messages.extend(step.to_messages())
        return messages

    @property
    def action_steps(self) -> list[Step]:
        """Only the action steps (what max_steps counts)."""
        return [s for s in self.steps if s.kind == "action"]

    @property
    def total_usage(self) -> TokenUsage:
        """Tokens summed over every model call of the run."""
        total = TokenUsage(0, 0)
        for step in self.steps:
            total = total + step.usage
        return total

    @property
    def total_duration(self) -> float:
        """Seconds summed over every step of the run."""
        return sum(step.duration for step in self.steps)

    @property
    def final_answer(self) -> Any:
        """The run's answer, or None if no step produced one."""
        for step in reversed(self.steps):
            if step.is_final_answer:
                return step.final_answer
        return None

    def to_json(self, indent: int | None = 2) -> str:
        """Serialise the whole run; `Memory.from_json` loads it back equal."""
        data = {
            "system_prompt": self.system_prompt,
            "task": self.task,
            "steps": [s.to_dict() for s in self.steps],
        }
        return json.dumps(data, indent=indent, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Memory:
        """Load a run saved by `to_json`."""
        data = json.loads(text)
        steps = [Step.from_dict(s) for s in data["steps"]]
        return cls(system_prompt=data["system_prompt"], task=data["task"], steps=steps)


def _jsonable(value: Any) -> Any:
    """The value itself if JSON can hold it, else its repr (answers can be any object)."""
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)
