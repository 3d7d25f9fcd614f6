"""Showing a run on the console with rich: the task, each step, the answer.

The layout follows smolagents' console output, which learners will meet elsewhere: a panel
for the task, a rule per step, the code (syntax highlighted) or the tool calls, the
observation, errors in red, a footer with the step's duration and tokens, and a panel for
the final answer. The display only reads `Step` records, so a saved run replays exactly as
it was shown live.

Verbosity: 0 prints nothing (tests), 1 the trace above, 2 also the model's own words
(its thoughts around the code, its plans) and the run's totals.

Example:
    >>> from minagent.memory import Memory, Step
    >>> run = Memory("You solve tasks.", "What is 2 + 2?")
    >>> run.steps.append(Step("action", 1, code="final_answer(2 + 2)", is_final_answer=True,
    ...                       final_answer=4))
    >>> Display(verbosity=0).step(run.steps[0])   # verbosity 0 prints nothing
    >>> replay(Memory.from_json(run.to_json()), verbosity=0)
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.rule import Rule
from rich.syntax import Syntax
from rich.text import Text

if TYPE_CHECKING:
    from minagent.memory import Memory, Step

VERBOSITY_LEVELS = (0, 1, 2)
ACCENT = "#d4b702"
MAX_SHOWN_CHARS = 2000
"""Longer observations and thoughts are cut on screen (memory keeps them whole)."""


def _clip(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more chars)"


class Display:
    """Prints the parts of a run at a chosen verbosity (0 quiet, 1 trace, 2 everything)."""

    def __init__(self, verbosity: int = 1, console: Console | None = None) -> None:
        if verbosity not in VERBOSITY_LEVELS:
            raise ValueError(f"verbosity must be one of {VERBOSITY_LEVELS}, got {verbosity!r}")
        self.verbosity = verbosity
        self.console = console or Console(highlight=False)

    def _print(self, *items: Any, level: int = 1) -> None:
        if self.verbosity >= level:
            self.console.print(*items)

    def task(self, task: str, subtitle: str) -> None:
        """The panel that opens a run: the task, and which agent and model run it."""
        body = Text("\n") + Text(task, style="bold") + Text("\n")
        self._print(
            Panel(
                body,
                title="[bold]New run",
                subtitle=subtitle,
                subtitle_align="left",
                border_style=ACCENT,
            )
        )

    def step(self, step: Step) -> None:
        """One step: a rule, what the agent did, what came back, and a footer."""
        if step.kind == "planning":
            self._print(Rule("[bold]Plan", style="orange3", align="left"), Text(step.model_output))
            return
        if step.kind == "final":
            self._print(Rule("[bold]Out of steps: final answer from memory", style="red"))
            return
        self._print(Rule(f"[bold]Step {step.step_number}", characters="━", style=ACCENT))
        if step.model_output and (self.verbosity >= 2 or not (step.code or step.tool_calls)):
            self._print(Text(_clip(step.model_output), style="italic"))
        if step.code is not None:
            code = Syntax(step.code, "python", theme="monokai", word_wrap=True)
            self._print(Panel(code, title="[bold]Code", title_align="left", box=box.HORIZONTALS))
        for call in step.tool_calls:
            arguments = json.dumps(call.arguments, ensure_ascii=False, default=repr)
            self._print(
                Panel(
                    Text(f"{call.name}({arguments})"), title="[bold]Tool call", title_align="left"
                )
            )
        if step.observation:
            self._print(Group(Text("Observation:", style="bold"), Text(_clip(step.observation))))
        if step.error:
            self._print(Text(_clip(step.error), style="bold red"))
        self._print(Text(_footer(step), style="dim"))

    def final_answer(self, answer: Any) -> None:
        """The panel that closes a run."""
        self._print(
            Panel(
                Text(str(answer), style="bold"),
                title="[bold]Final answer",
                title_align="left",
                border_style="green",
            )
        )

    def totals(self, memory: Memory) -> None:
        """Tokens and time for the whole run (verbosity 2)."""
        usage = memory.total_usage
        self._print(
            Text(
                f"Run: {len(memory.action_steps)} steps | {memory.total_duration:.2f} s | "
                f"input tokens {usage.input_tokens:,} | output tokens {usage.output_tokens:,}",
                style="dim",
            ),
            level=2,
        )


def _footer(step: Step) -> str:
    return (
        f"[Step {step.step_number}: {step.duration:.2f} s | input tokens "
        f"{step.usage.input_tokens:,} | output tokens {step.usage.output_tokens:,}]"
    )


def replay(memory: Memory, verbosity: int = 2, console: Console | None = None) -> None:
    """Print a finished (or loaded) run again, step by step, as it looked live."""
    display = Display(verbosity, console)
    display.task(memory.task, subtitle="replay")
    for step in memory.steps:
        display.step(step)
    if any(step.is_final_answer for step in memory.steps):
        display.final_answer(memory.final_answer)
    display.totals(memory)
