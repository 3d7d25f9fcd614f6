"""Agents: the ReAct loop (think, act, observe, repeat) in two flavours.

`MultiStepAgent.run` is the whole loop: ask the model for an action, do it, record what
came back, and go again until an action gives the final answer or the steps run out. The
two agents differ only in what an action is:

- `ToolCallingAgent`: a JSON tool call, `{"name": "add", "arguments": {"a": 1, "b": 2}}`.
- `CodeAgent`: a block of Python run by the safe interpreter, where tools are functions.

Every way out of a step is a named exception (below). Parse and execution errors do not end
the run: they become the observation, so the model sees its mistake and can fix it. Only a
model that keeps failing (`AgentModelError`) stops a run.

Example:
    >>> from minagent.models import ScriptedModel
    >>> model = ScriptedModel(["```python\\nfinal_answer(17 * 23 + 5)\\n```"])
    >>> CodeAgent(model=model, executor="local", verbosity=0).run("What is 17 * 23 + 5?")
    396
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from minagent.display import Display
from minagent.executor import Executor, InterpreterError
from minagent.memory import Memory, Step
from minagent.messages import Message, TokenUsage, assistant, user
from minagent.models import LocalModel, Model, ModelError
from minagent.prompts import render_prompt
from minagent.tools import (
    EXPECTED_CALL_FORMAT,
    Tool,
    ToolArgumentError,
    ToolCallParseError,
    parse_tool_calls,
)

# --- every way out of a step, named --------------------------------------------------------


class AgentError(Exception):
    """Base of everything an agent raises."""


class AgentParseError(AgentError):
    """The reply held no action we could read. Fed back to the model as an error."""


class AgentExecutionError(AgentError):
    """The action failed: unknown tool, bad arguments, a tool or the code raised. Fed back."""


class AgentModelError(AgentError):
    """The model failed on every retry. This one ends the run."""


# --- configuration --------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentConfig:
    """Every knob of the loop, with its default and what it means."""

    max_steps: int = 8
    "Action steps before the agent stops and asks the model for an answer from what it has."
    planning_interval: int | None = None
    "Plan before step 1 and then every N steps; None: never plan."
    model_retries: int = 2
    "Extra attempts after a retryable ModelError (rate limit, server down) before giving up."
    retry_delay: float = 1.0
    "Seconds before the first retry; each later retry waits twice as long."
    max_tokens: int | None = 512
    "Cap on the tokens the model may write in one reply."
    temperature: float | None = None
    "Sampling temperature passed to the model; None keeps the model's own (0 for LocalModel)."
    max_observation_chars: int = 4000
    "Longer observations are cut in the middle: small models have small contexts."
    verbosity: int = 1
    "0 prints nothing (tests), 1 prints the trace, 2 also the model's thoughts and plans."
    point_out_repeats: bool = True
    "Tell the model when a step repeats an earlier step's action and result exactly."

    def __post_init__(self) -> None:
        # Catch a bad setting when the agent is built, not halfway through a run.
        checks = {
            "max_steps must be at least 1": self.max_steps >= 1,
            "planning_interval must be None or at least 1": self.planning_interval is None
            or self.planning_interval >= 1,
            "model_retries must be 0 or more": self.model_retries >= 0,
            "max_observation_chars must be at least 100": self.max_observation_chars >= 100,
        }
        problems = [message for message, ok in checks.items() if not ok]
        if problems:
            raise ValueError("; ".join(problems))


FINAL_ANSWER_TOOL = Tool(
    name="final_answer",
    description="Give the final answer to the task.",
    parameters={
        "type": "object",
        "properties": {"answer": {"description": "The answer."}},
        "required": ["answer"],
    },
    fn=lambda answer: answer,
)


def truncate(text: str, limit: int) -> str:
    """Keep the head and tail of a long text, saying how much was cut.

    Example: truncate("abcdefghij", 6) -> "abc\\n... (4 characters cut) ...\\nhij"
    """
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... ({len(text) - 2 * half} characters cut) ...\n{text[-half:]}"


def describe_value(value: Any, limit: int = 200) -> str:
    """A short description of an additional argument for the task prompt.

    Example: describe_value([1, 2]) -> "list, [1, 2]"
    """
    text = repr(value)
    if len(text) > limit:
        text = text[:limit] + "..."
    return f"{type(value).__name__}, {text}"


class MultiStepAgent:
    """The loop shared by both agents; subclasses say what an action is (`query`, `act`).

    Args:
        tools: the tools the model may use.
        model: anything with `generate(messages, ...) -> Message` (see `minagent.models`).
        config: an `AgentConfig`; keyword arguments override its fields (`max_steps=3`).
        managed_agents: other agents this one may call like tools (by their `name`).
        step_callbacks: functions called with each `Step` once it is recorded.
        name, description: how this agent appears when another agent manages it.
    """

    writes_code = False
    """Whether actions are Python (CodeAgent): additional_args then become variables in the
    code, and the task message ends by asking for a code block."""

    def __init__(
        self,
        tools: Sequence[Tool] = (),
        model: Model | None = None,
        *,
        config: AgentConfig | None = None,
        managed_agents: Sequence[MultiStepAgent] = (),
        step_callbacks: Sequence[Callable[[Step], None]] = (),
        name: str = "agent",
        description: str = "",
        **overrides: Any,
    ) -> None:
        self.model = model if model is not None else LocalModel()
        self.config = replace(config or AgentConfig(), **overrides)
        every_tool = [*tools, *(agent.as_tool() for agent in managed_agents)]
        names = [t.name for t in every_tool]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            # One tool per name: the model would silently lose all but the last.
            raise AgentError(f"more than one tool is named {twice[0]!r}: rename one")
        self.tools = {t.name: t for t in every_tool}
        self.step_callbacks = list(step_callbacks)
        self.name, self.description = name, description
        self.display = Display(self.config.verbosity)
        self.memory = Memory(system_prompt=self.system_prompt(), task="")

    # The loop. Everything else in this class is one of its parts.
    def run(self, task: str, additional_args: dict[str, Any] | None = None) -> Any:
        """Solve `task` step by step and return the final answer.

        Args:
            task: what to do, in words.
            additional_args: named values the agent can use (CodeAgent: as variables).

        Raises:
            AgentModelError: the model failed on every retry.
        """
        self.memory = Memory(self.system_prompt(), self.task_prompt(task, additional_args or {}))
        self.start(additional_args or {})
        self.display.task(self.memory.task, f"{type(self).__name__} | {self.model.model_id}")
        for step_number in range(1, self.config.max_steps + 1):
            if self.planning_due(step_number):
                self.record(self.plan(step_number))
            step = self.step(step_number)
            self.record(step)
            if step.is_final_answer:
                break
        else:
            # Out of steps: rather than give up empty-handed, ask for an answer from memory.
            self.record(self.answer_from_memory(task, self.config.max_steps + 1))
        self.display.final_answer(self.memory.final_answer)
        self.display.totals(self.memory)
        return self.memory.final_answer

    def step(self, step_number: int) -> Step:
        """One action: query the model, parse and run its action, keep what came back."""
        started = time.monotonic()
        messages = self.memory.to_messages()
        step = Step(kind="action", step_number=step_number, model_input=messages)
        reply = self.query(messages)
        step.model_output, step.usage = reply.content, reply.usage or step.usage
        try:
            self.act(reply, step)
        except AgentError as err:
            # The model wrote something we could not parse or run: tell it what went wrong.
            step.error = truncate(str(err), self.config.max_observation_chars)
        step.observation = truncate(step.observation, self.config.max_observation_chars)
        step.repeats = self.repeated_step(step) if self.config.point_out_repeats else None
        step.duration = time.monotonic() - started
        return step

    def repeated_step(self, step: Step) -> int | None:
        """The earlier action step with the same action and the same result, if any.

        Small models loop: they run the same code again and again, never calling
        final_answer. Saying so in the observation breaks the loop more often than not.
        """
        if step.is_final_answer:
            return None
        action = (step.code, [(c.name, c.arguments) for c in step.tool_calls])
        for earlier in self.memory.action_steps:
            same_action = (earlier.code, [(c.name, c.arguments) for c in earlier.tool_calls])
            if same_action == action and (earlier.observation, earlier.error) == (
                step.observation,
                step.error,
            ):
                return earlier.step_number
        return None

    def record(self, step: Step) -> None:
        """Add a step to memory, show it, and tell the callbacks."""
        self.memory.steps.append(step)
        self.display.step(step)
        for callback in self.step_callbacks:
            callback(step)

    def planning_due(self, step_number: int) -> bool:
        """Plan before step 1, 1 + N, 1 + 2N... when a planning_interval N is set."""
        interval = self.config.planning_interval
        return bool(interval) and (step_number - 1) % interval == 0

    def plan(self, step_number: int) -> Step:
        """A planning step: the model writes a plan (no action) that stays in memory."""
        done = len(self.memory.action_steps)
        request = user(render_prompt("planning.j2", steps_done=done))
        return self.ask(self.memory.to_messages() + [request], "planning", step_number)

    def answer_from_memory(self, task: str, step_number: int) -> Step:
        """The max-steps fallback: one more model call that must answer in plain text."""
        request = user(render_prompt("final_answer.j2", task=task))
        step = self.ask(self.memory.to_messages() + [request], "final", step_number)
        step.is_final_answer, step.final_answer = True, step.model_output.strip()
        return step

    def ask(self, messages: list[Message], kind: str, step_number: int) -> Step:
        """A model call that is not an action (plan, fallback answer), recorded as a step."""
        started = time.monotonic()
        reply = self.call_model(messages)
        return Step(
            kind=kind,
            step_number=step_number,
            model_input=messages,
            model_output=reply.content,
            usage=reply.usage or TokenUsage(),
            duration=time.monotonic() - started,
        )

    def call_model(self, messages: list[Message], **options: Any) -> Message:
        """`model.generate`, retrying retryable ModelErrors; a failure becomes AgentModelError."""
        delay, attempt = self.config.retry_delay, 1
        while True:
            try:
                return self.model.generate(
                    messages,
                    temperature=self.config.temperature,
                    max_tokens=self.config.max_tokens,
                    **options,
                )
            except ModelError as err:
                # The one place retries happen. An error that fails the same way every time
                # (a refused key, an overlong prompt, a script that ran out) is not retried.
                if not err.retryable or attempt > self.config.model_retries:
                    times = "1 time" if attempt == 1 else f"{attempt} times"
                    raise AgentModelError(
                        f"model {self.model.model_id} failed {times}; last error: {err}"
                    ) from err
            time.sleep(delay)
            delay, attempt = delay * 2, attempt + 1

    def as_tool(self) -> Tool:
        """This agent as a tool of another: called with a task, it returns its final answer."""
        if not self.description:
            raise AgentError(f"managed agent {self.name!r} needs a description for its manager")
        parameters = {
            "type": "object",
            "required": ["task"],
            "properties": {
                "task": {"type": "string", "description": "The task, with every detail it needs."}
            },
        }
        return Tool(self.name, self.description, parameters, fn=lambda task: self.run(task))

    def replay(self, verbosity: int = 2) -> None:
        """Print the last run again, as it looked live."""
        from minagent.display import replay

        replay(self.memory, verbosity)

    # --- what a subclass provides --------------------------------------------------------
    def system_prompt(self) -> str:
        raise NotImplementedError

    def task_prompt(self, task: str, additional_args: dict[str, Any]) -> str:
        described = {name: describe_value(value) for name, value in additional_args.items()}
        return render_prompt("task.j2", task=task, additional_args=described, code=self.writes_code)

    def start(self, additional_args: dict[str, Any]) -> None:
        """Prepare for a new run (CodeAgent: a fresh interpreter holding additional_args)."""

    def query(self, messages: list[Message]) -> Message:
        raise NotImplementedError

    def act(self, reply: Message, step: Step) -> None:
        raise NotImplementedError


# --- JSON tool calls ------------------------------------------------------------------------


ANY_JSON = {"type": ["string", "number", "boolean", "array", "object", "null"]}
"""What an argument schema without a type (like final_answer's `answer`) allows."""
TYPE_KEYS = ("type", "anyOf", "oneOf", "allOf", "enum", "const", "$ref")


def _typed(parameters: dict) -> dict:
    # llama.cpp's schema-to-grammar converter rejects a property with no type at all.
    properties = {
        name: schema if any(key in schema for key in TYPE_KEYS) else {**schema, **ANY_JSON}
        for name, schema in parameters.get("properties", {}).items()
    }
    return {**parameters, "properties": properties}


def tool_call_schema(tools: Sequence[Tool]) -> dict:
    """The JSON schema of one valid call to any of `tools`, for constrained decoding.

    With it, llama.cpp can only sample text that parses as such a call, so even a 135M
    model cannot get the format wrong (it can still pick the wrong tool or values).
    Example: for `add(a, b)` -> {"anyOf": [{"properties": {"name": {"const": "add"}, ...}}]}
    """
    options = [
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "arguments"],
            "properties": {"name": {"const": t.name}, "arguments": _typed(t.parameters)},
        }
        for t in tools
    ]
    return {"anyOf": options}


class ToolCallingAgent(MultiStepAgent):
    """An agent whose actions are JSON tool calls; `final_answer` is one more tool.

    Native tool calls are used when the model returns them; otherwise calls are parsed
    from the reply text. A model that supports constrained decoding (LocalModel) is held to
    `tool_call_schema` (set `constrained=False` to see how a small model does without it).
    """

    def __init__(
        self,
        tools: Sequence[Tool] = (),
        model: Model | None = None,
        *,
        constrained: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(tools, model, **kwargs)
        self.tools[FINAL_ANSWER_TOOL.name] = FINAL_ANSWER_TOOL
        supported = getattr(self.model, "supports_constrained_decoding", False)
        self.constrained = supported if constrained is None else constrained

    def system_prompt(self) -> str:
        return render_prompt(
            "tool_agent.j2",
            tools=[t for t in self.tools.values() if t.name != FINAL_ANSWER_TOOL.name],
        )

    def query(self, messages: list[Message]) -> Message:
        tools = list(self.tools.values())
        if self.constrained:
            return self.call_model(messages, json_schema=tool_call_schema(tools))
        return self.call_model(messages, tools=[t.schema for t in tools])

    def act(self, reply: Message, step: Step) -> None:
        step.tool_calls, step.native_tool_calls = read_tool_calls(reply), bool(reply.tool_calls)
        errors = []
        for call in step.tool_calls:
            try:
                result = self.execute(call)
            except AgentExecutionError as err:
                # Keep going: the other calls of this step may still succeed.
                errors.append(str(err))
                step.tool_results.append(f"Error: {err}")
                continue
            step.tool_results.append(result)
            if call.name == FINAL_ANSWER_TOOL.name:
                step.is_final_answer, step.final_answer = True, call.arguments["answer"]
            else:
                step.observation += result if not step.observation else "\n" + result
        if errors:
            raise AgentExecutionError("\n".join(errors))

    def execute(self, call: Any) -> str:
        """Run one tool call and return its result as text; failures raise, with advice."""
        tool = self.tools.get(call.name)
        if tool is None:
            raise AgentExecutionError(
                f"there is no tool {call.name!r}. Available tools: {', '.join(self.tools)}."
            )
        try:
            result = tool.call(call.arguments)
        except ToolArgumentError as err:
            raise AgentExecutionError(str(err)) from err
        except Exception as err:  # a tool's own bug or failure: the model may try otherwise
            raise AgentExecutionError(
                f"tool {call.name!r} raised {type(err).__name__}: {err}"
            ) from err
        return result if isinstance(result, str) else json.dumps(result, default=str)


def read_tool_calls(reply: Message) -> list:
    """The tool calls of a reply: native ones, else those written in its text.

    Raises:
        AgentParseError: malformed JSON, or no call at all.
    """
    if reply.tool_calls:
        return list(reply.tool_calls)
    try:
        calls = parse_tool_calls(reply.content)
    except ToolCallParseError as err:
        raise AgentParseError(str(err)) from err
    if not calls:
        raise AgentParseError(
            f"no tool call found. Reply with one JSON object: {EXPECTED_CALL_FORMAT}"
        )
    return calls


# --- Python code actions --------------------------------------------------------------------

EXECUTORS = ("sandbox", "process", "local", "tree")
"""Where a CodeAgent's code runs, safest first (see `make_executor`)."""
DEFAULT_CODE_PREFILL = "```python\nresult = "
"""How replies start for a model that supports prefill (LocalModel): a small model that is
already inside a code block, and already assigning a result, answers in code far more often
than one left to choose."""
CODE_STOP = ("\n```\n", "Observation:")
"""Stop after the closing fence (the opening one has no newline before it, or is prefilled),
or when the model starts inventing the observation itself."""
CODE_BLOCK_RE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)(?:\n```|\Z)", re.DOTALL)


def extract_code(text: str) -> str:
    """The Python code in a reply: every ```python (or ```py, or bare ```) block, joined.

    An unclosed last block counts (a stop sequence may have cut its fence).
    Example: extract_code("Let me add.\\n```py\\nx = 1 + 1\\n```") -> "x = 1 + 1"

    Raises:
        AgentParseError: there is no code block.
    """
    blocks = [block.strip() for block in CODE_BLOCK_RE.findall(text) if block.strip()]
    if not blocks:
        raise AgentParseError(
            "no code block found. Write your code between ```python and ```, and call "
            "final_answer(...) in it when you know the answer."
        )
    return "\n\n".join(blocks)


def code_signature(tool: Tool) -> dict:
    """How a tool looks to a CodeAgent: a Python signature and its argument docs.

    Example: add(a, b) -> {"signature": "add(a: int, b: int) -> int", "description": "...",
    "args": [("a", "First number."), ("b", "Second number.")]}
    """
    docs = [(name, s["description"]) for name, s in tool.properties.items() if s.get("description")]
    return {"signature": tool.python_signature, "description": tool.description, "args": docs}


ExecutorFactory = Callable[[Sequence[str], dict[str, Any]], Executor]
"""Builds an executor from (authorized_imports, tools): how to plug in your own."""


def make_executor(kind: str, authorized_imports: Sequence[str], tools: dict[str, Any]) -> Executor:
    """The executor a CodeAgent runs its code in (see `minagent.executor.Executor`).

    - "sandbox": minexec's guarded interpreter in a child process under bubblewrap (no
      network, no files of yours); where bubblewrap cannot run, a plain child process with
      a warning. The default: the only kind that is a security boundary.
    - "process": the guarded interpreter in a child process with OS limits (memory, CPU,
      files): a crash or a bomb kills the child, not you; no protection of files or network.
    - "local": the guarded interpreter in this process: fastest, but a missed guard or a
      C-level crash (deep recursion inside C code) reaches your process.
    - "tree": unit 04's tree-walking interpreter (`minagent.interpreter`), for teaching.
    """
    if kind == "tree":
        from minagent.interpreter import Interpreter

        return Interpreter(authorized_imports, tools)
    if kind not in EXECUTORS:
        raise AgentError(f"unknown executor {kind!r}: use one of {', '.join(EXECUTORS)}")
    try:
        import minexec
        from minexec.sandbox import SandboxInterpreter
    except ImportError as err:
        raise AgentError(f"the {kind!r} executor is unavailable: {err}") from err
    kinds = {
        "sandbox": SandboxInterpreter,
        "process": minexec.ProcessInterpreter,
        "local": minexec.GuardedInterpreter,
    }
    return kinds[kind](authorized_imports=authorized_imports, tools=tools)


class CodeAgent(MultiStepAgent):
    """An agent whose actions are Python code; tools and `final_answer` are functions in it.

    Args (besides MultiStepAgent's):
        additional_authorized_imports: modules the code may import (`"math"`, `"pandas.*"`).
        executor: one of EXECUTORS (see `make_executor`; default "sandbox"), or a function
            `(authorized_imports, tools) -> Executor` that builds your own.
        prefill: text that starts every reply (default: `DEFAULT_CODE_PREFILL` for a model
            that supports prefill, nothing for the others).
    """

    writes_code = True

    def __init__(
        self,
        tools: Sequence[Tool] = (),
        model: Model | None = None,
        *,
        additional_authorized_imports: Sequence[str] = (),
        executor: str | ExecutorFactory = "sandbox",
        prefill: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.authorized_imports = tuple(additional_authorized_imports)
        if isinstance(executor, str) and executor not in EXECUTORS:
            raise AgentError(f"unknown executor {executor!r}: use one of {', '.join(EXECUTORS)}")
        self.executor = executor
        super().__init__(tools, model, **kwargs)
        if prefill is None:
            supported = getattr(self.model, "supports_prefill", False)
            prefill = DEFAULT_CODE_PREFILL if supported else ""
        self.prefill = prefill
        self.interpreter: Executor | None = None

    def system_prompt(self) -> str:
        imports = ", ".join(self.authorized_imports) or "none"
        tools = [code_signature(t) for t in self.tools.values()]
        return render_prompt("code_agent.j2", tools=tools, imports=imports)

    def answer_from_memory(self, task: str, step_number: int) -> Step:
        step = super().answer_from_memory(task, step_number)
        # Small models often answer in code even when asked for words: run it for its answer.
        try:
            code = extract_code(step.model_output)
            result = self.interpreter.run(code)
        except (AgentParseError, InterpreterError):  # no code, or failing code: words it is
            return step
        step.code = code
        if result.is_final_answer or result.output is not None:
            step.final_answer = result.output
        elif result.logs.strip():
            step.final_answer = result.logs.strip()
        return step

    def start(self, additional_args: dict[str, Any]) -> None:
        # A fresh interpreter per run: variables persist across the steps of one run only.
        # The last run's interpreter stays open until then, so its state can be inspected.
        if self.interpreter is not None:
            self.interpreter.close()
        if callable(self.executor):
            self.interpreter = self.executor(self.authorized_imports, self.tools)
        else:
            self.interpreter = make_executor(self.executor, self.authorized_imports, self.tools)
        self.interpreter.state.update(additional_args)

    def query(self, messages: list[Message]) -> Message:
        if self.prefill:
            # The reply continues our opening: the model returns prefill + its own text.
            return self.call_model([*messages, assistant(self.prefill)], stop=CODE_STOP)
        return self.call_model(messages, stop=CODE_STOP)

    def act(self, reply: Message, step: Step) -> None:
        step.code = extract_code(reply.content)
        try:
            result = self.interpreter.run(step.code)
        except InterpreterError as err:  # every failure of the code, a raising tool included
            step.observation = err.logs
            raise AgentExecutionError(f"{type(err).__name__}: {err}") from err
        lines = [result.logs.rstrip()] if result.logs.strip() else []
        if result.is_final_answer:
            step.is_final_answer, step.final_answer = True, result.output
        elif result.output is not None:
            lines.append(f"Out: {result.output!r}")  # the value of the last expression
        elif not lines:
            lines.append("(no output: print() the values you need)")
        step.observation = "\n".join(lines)
