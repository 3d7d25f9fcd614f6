"""An eval harness (unit 06): run an agent on a task set and measure every run.

Four numbers per run are worth keeping: success (is the final answer right, checked by code),
steps, tokens (summed over every model call) and cost (tokens priced with litellm's price map,
input and output apart); plus the trajectory, the tools the agent called, in order. `run_eval`
keeps going when a run crashes (a crash is a failed task, and its tokens still count) and
averages over every task.

This module is unit 06's solution, names and all, so a learner stuck on the unit can read it.
The judge of the same unit is in `minagent/judge.py`.

Example:
    >>> answers_match("2.80", 2.8), answers_match(" Paris. ", "paris")
    (True, True)
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

PRICE_MODEL = "gpt-4o-mini"
"""The hosted model whose prices turn token counts into dollars: a yardstick, also for models
that cost nothing (token counts differ a little between tokenizers: an estimate)."""


@dataclass
class EvalTask:
    """One task of an eval set: what to ask, the right answer, and optionally the right path."""

    name: str
    question: str
    expected: Any  # the right answer, compared with answers_match
    expected_tools: list[str] | None = None  # tools the agent should call, in this order


@dataclass
class TaskResult:
    """What happened on one task. run_eval returns one per task."""

    task: str  # the task's name
    answer: Any  # what agent.run returned; None when the run crashed
    success: bool  # answers_match(answer, expected); False when the run crashed
    error: str | None  # "ExceptionName: message" when agent.run raised, else None
    steps: int  # action steps in the agent's memory
    input_tokens: int  # tokens the model read, summed over every model call of the run
    output_tokens: int  # tokens the model wrote, summed likewise
    cost: float  # dollars, at the price model's prices for input and output tokens
    trajectory: list[str]  # names of the tools called, in order (final_answer included)
    trajectory_ok: bool | None  # expected_tools called in that order; None if none expected

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def _normal(text: Any) -> str:
    """Text as answers_match compares it: lower case, single spaces, no final full stop."""
    return " ".join(str(text).lower().split()).rstrip(".")


def answers_match(answer: Any, expected: Any) -> bool:
    """Is `answer` the `expected` one, up to format?

    Numbers compare as numbers; text ignores case, extra spaces and a final full stop.
    Example: answers_match("2.80", 2.8) -> True; answers_match(" Paris. ", "paris") -> True
    """
    if answer is None:
        return False
    try:
        return math.isclose(float(answer), float(expected), rel_tol=1e-6)
    except (TypeError, ValueError):
        return _normal(answer) == _normal(expected)


def called_in_order(trajectory: Sequence[str], expected: Sequence[str]) -> bool:
    """True when `expected` is a subsequence of `trajectory` (other calls may come between).

    Example: called_in_order(["a", "x", "b"], ["a", "b"]) -> True; (["b", "a"], ["a", "b"]) -> False
    """
    remaining = iter(trajectory)
    # `name in remaining` advances the iterator past the match, so each expected tool must come
    # after the one before it.
    return all(name in remaining for name in expected)


def token_cost(input_tokens: int, output_tokens: int, price_model: str = PRICE_MODEL) -> float:
    """Dollars for these tokens at `price_model`'s prices (litellm's local price map).

    Example: token_cost(10_000, 1_000) -> 0.0021 (gpt-4o-mini: $0.15 and $0.60 per million)
    """
    # Without this, litellm downloads its price map from the internet when it is imported.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm  # imported here: it takes seconds, and only the price needs it

    input_cost, output_cost = litellm.cost_per_token(
        model=price_model, prompt_tokens=input_tokens, completion_tokens=output_tokens
    )
    return input_cost + output_cost


def run_eval(
    agent_factory: Callable[[EvalTask], Any],
    tasks: Sequence[EvalTask],
    price_model: str = PRICE_MODEL,
) -> tuple[list[TaskResult], dict[str, float]]:
    """Run an agent on every task of an eval set and measure each run.

    Args:
        agent_factory: called with each EvalTask, returns a fresh agent for it (anything with
            .run(question) and .memory, like ToolCallingAgent).
        tasks: the EvalTasks to run, in order.
        price_model: the litellm model id whose prices give each run's cost.

    Returns:
        (results, summary): one TaskResult per task, in order (a run that raised is a failed
        task with its error, and the eval goes on); and {"tasks", "success_rate", "crashes",
        "mean_steps", "mean_tokens", "total_cost"}, the means over all tasks.

    Raises:
        ValueError: tasks is empty (a success rate over no tasks means nothing).

    Example:
        results, summary = run_eval(lambda task: ToolCallingAgent(tools=[...], model=...), tasks)
        summary -> {"tasks": 4, "success_rate": 0.75, "crashes": 0, "mean_steps": 2.5, ...}
    """
    if not tasks:
        raise ValueError("run_eval needs at least one task")
    results = []
    for task in tasks:
        agent = agent_factory(task)
        answer, error = None, None
        try:
            answer = agent.run(task.question)
        except Exception as err:  # a crashed run is a failed task, not a failed eval
            error = f"{type(err).__name__}: {err}"
        # The memory keeps every step recorded before a crash: those tokens were paid for too.
        steps = agent.memory.action_steps
        usage = agent.memory.total_usage
        trajectory = [call.name for step in steps for call in step.tool_calls]
        expected = task.expected_tools
        results.append(
            TaskResult(
                task=task.name,
                answer=answer,
                success=error is None and answers_match(answer, task.expected),
                error=error,
                steps=len(steps),
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cost=token_cost(usage.input_tokens, usage.output_tokens, price_model),
                trajectory=trajectory,
                trajectory_ok=None if expected is None else called_in_order(trajectory, expected),
            )
        )
    count = len(results)
    summary = {
        "tasks": count,
        "success_rate": sum(r.success for r in results) / count,
        "crashes": sum(r.error is not None for r in results),
        "mean_steps": sum(r.steps for r in results) / count,
        "mean_tokens": sum(r.tokens for r in results) / count,
        "total_cost": sum(r.cost for r in results),
    }
    return results, summary
