"""minagent's agents against smolagents' on the same model, on held-out agent tasks.

The tasks are the held-out split of `minagent.train.tasks`: task families and tools that
the agent adapter never saw in training (unit conversions, word and set puzzles, and
lookups with the held-out tools get_temperature, get_population and get_rating).

Each model runs twice, plain (SmolLM2-135M-Instruct) and tuned (with the agent LoRA
adapter that LocalModel loads by default). Per model, llama-cpp-python's OpenAI-compatible
server starts on loopback with the embedded GGUF (and the adapter, for the tuned model),
and both libraries talk to it (temperature 0, the same reply-length cap, the same step
limit). minagent also runs in-process on `LocalModel`, where it can use what a chat API
cannot give it: a prefilled reply for code and JSON-schema-constrained decoding for tool
calls.

Prints, per agent and model: success rate, the share of steps whose reply parsed as an
action (minagent only), mean action steps, input and output tokens (summed over the
tasks), wall time; then minagent's figures as ratios of smolagents'.

    python bench/agents.py                 # all tasks, all agents, plain and tuned
    python bench/agents.py --tasks 12 --models tuned --agents minagent-code-local
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from minagent.train.evaluate import is_correct  # noqa: E402
from minagent.train.tasks import Task, make_tasks  # noqa: E402
from minagent.train.toolbox import TOOLS  # noqa: E402

MAX_STEPS = 4
MAX_TOKENS = 384
SERVER_START_TIMEOUT_S = 120
MODEL_NAME = "smollm2"

DEFAULT_TASKS = 36
"""Held-out tasks run by default: six per held-out family."""

MODELS = ("plain", "tuned")
"""The embedded model without and with the agent adapter (minagent.models.DEFAULT_ADAPTER)."""


@dataclass
class Outcome:
    correct: bool
    steps: int
    parsed: int
    input_tokens: int
    output_tokens: int
    seconds: float
    error: str = ""


# --- the two libraries ---------------------------------------------------------------------


def smolagents_tool(tool: Any) -> Any:
    """A minagent toolbox tool as a smolagents Tool: same name, description and argument.

    The toolbox tools take their one argument by name (`city`, `title`...), so the
    forward method takes what it is given and lets the minagent tool map it.
    """
    import smolagents

    arg, schema = next(iter(tool.properties.items()))
    output = {"integer": "integer", "number": "number"}.get(tool.output_type, "string")
    attributes = {
        "name": tool.name,
        "description": tool.description,
        "inputs": {arg: {"type": "string", "description": schema["description"]}},
        "output_type": output,
        "skip_forward_signature_validation": True,
        "forward": lambda self, *args, **kwargs: tool(*args, **kwargs),
    }
    return type(f"{tool.name}_tool", (smolagents.Tool,), attributes)()


def minagent_runner(kind: str, where: str, url: str, model_kind: str) -> Runner:
    from minagent.agents import CodeAgent, ToolCallingAgent
    from minagent.models import LiteLLMModel, LocalModel

    if where == "local":
        model = LocalModel() if model_kind == "tuned" else LocalModel(adapter=None)
    else:
        model = LiteLLMModel(f"openai/{MODEL_NAME}", api_base=url, api_key="none")
    options = dict(max_steps=MAX_STEPS, max_tokens=MAX_TOKENS, temperature=0.0, verbosity=0)

    def run(task: Task) -> Outcome:
        tools = [TOOLS[name] for name in task.tools]
        if kind == "code":
            agent = CodeAgent(tools, model, **options)
        else:
            agent = ToolCallingAgent(tools, model, **options)
        started = time.perf_counter()
        answer = agent.run(task.question)
        steps = agent.memory.action_steps
        usage = agent.memory.total_usage
        return Outcome(
            is_correct(answer, task.answer),
            len(steps),
            sum(1 for step in steps if step.code is not None or step.tool_calls),
            usage.input_tokens,
            usage.output_tokens,
            time.perf_counter() - started,
        )

    return run


def smolagents_runner(kind: str, url: str) -> Runner:
    import smolagents

    # llama.cpp's server takes only string contents, not lists of content parts.
    model = smolagents.OpenAIServerModel(
        model_id=MODEL_NAME,
        api_base=url,
        api_key="none",
        flatten_messages_as_text=True,
        temperature=0.0,
        max_tokens=MAX_TOKENS,
    )

    def run(task: Task) -> Outcome:
        tools = [smolagents_tool(TOOLS[name]) for name in task.tools]
        cls = smolagents.CodeAgent if kind == "code" else smolagents.ToolCallingAgent
        agent = cls(tools=tools, model=model, max_steps=MAX_STEPS, verbosity_level=0)
        started = time.perf_counter()
        result = agent.run(task.question, return_full_result=True)
        usage = result.token_usage
        steps = sum(isinstance(s, smolagents.memory.ActionStep) for s in agent.memory.steps)
        return Outcome(
            is_correct(result.output, task.answer),
            steps,
            -1,  # smolagents does not say which steps parsed
            usage.input_tokens if usage else 0,
            usage.output_tokens if usage else 0,
            time.perf_counter() - started,
        )

    return run


Runner = Callable[[Task], Outcome]
AGENTS: dict[str, Callable[[str, str], Runner]] = {
    "minagent-code": lambda url, model: minagent_runner("code", "server", url, model),
    "minagent-tool": lambda url, model: minagent_runner("tool", "server", url, model),
    "smolagents-code": lambda url, model: smolagents_runner("code", url),
    "smolagents-tool": lambda url, model: smolagents_runner("tool", url),
    "minagent-code-local": lambda url, model: minagent_runner("code", "local", url, model),
    "minagent-tool-local": lambda url, model: minagent_runner("tool", "local", url, model),
}


# --- the server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(model_kind: str) -> tuple[subprocess.Popen, str]:
    """llama-cpp-python's OpenAI-compatible server on loopback, serving the embedded GGUF
    (with the agent adapter on top for the tuned model)."""
    from minagent.models import DEFAULT_ADAPTER, embedded_model_path

    port = free_port()
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(embedded_model_path()),
        "--model_alias",
        MODEL_NAME,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "8192",
        "--seed",
        "0",
    ]
    if model_kind == "tuned":
        command += ["--lora_path", str(DEFAULT_ADAPTER)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(
                f"llama_cpp.server exited with {server.returncode}: "
                "pip install 'llama-cpp-python[server]'"
            )
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
                json.load(response)
                return server, url
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise RuntimeError("llama_cpp.server did not start in time")


# --- the run ---------------------------------------------------------------------------------


def run_agent(name: str, runner: Callable[[Task], Outcome], tasks: list[Task]) -> list[Outcome]:
    outcomes = []
    for task in tasks:
        started = time.perf_counter()
        try:
            outcome = runner(task)
        except Exception as err:  # a crash counts as a failure, with its reason kept
            outcome = Outcome(
                False,
                MAX_STEPS,
                0,
                0,
                0,
                time.perf_counter() - started,
                f"{type(err).__name__}: {err}"[:120],
            )
        outcomes.append(outcome)
        mark = "ok " if outcome.correct else "no "
        print(
            f"  {name:<20} {mark} {outcome.steps} steps {outcome.seconds:5.1f}s  "
            f"{task.question[:50]} {outcome.error}",
            flush=True,
        )
    return outcomes


def summary(outcomes: list[Outcome]) -> dict[str, float]:
    n = len(outcomes)
    steps = sum(o.steps for o in outcomes)
    return {
        "success": sum(o.correct for o in outcomes) / n,
        "parsed": sum(o.parsed for o in outcomes) / steps
        if steps and outcomes[0].parsed >= 0
        else -1,
        "steps": steps / n,
        "input_tokens": sum(o.input_tokens for o in outcomes),
        "output_tokens": sum(o.output_tokens for o in outcomes),
        "seconds": sum(o.seconds for o in outcomes),
    }


def print_table(results: dict[str, dict[str, float]], n_tasks: int) -> None:
    print(
        f"\n{n_tasks} held-out tasks, max {MAX_STEPS} steps, temperature 0, SmolLM2-135M-Instruct"
    )
    print(
        f"{'agent':<30}{'success':>9}{'parsed':>8}{'steps':>7}{'in tok':>10}{'out tok':>9}"
        f"{'wall s':>9}"
    )
    for name, s in results.items():
        parsed = f"{s['parsed']:>8.0%}" if s["parsed"] >= 0 else f"{'-':>8}"
        print(
            f"{name:<30}{s['success']:>9.0%}{parsed}{s['steps']:>7.2f}{s['input_tokens']:>10,.0f}"
            f"{s['output_tokens']:>9,.0f}{s['seconds']:>9.1f}"
        )
    for model in MODELS:
        for kind in ("code", "tool"):
            ours = results.get(f"minagent-{kind} ({model})")
            theirs = results.get(f"smolagents-{kind} ({model})")
            if ours and theirs and theirs["input_tokens"]:
                print(
                    f"{kind} ({model}): minagent/smolagents  success {ours['success']:.0%} vs "
                    f"{theirs['success']:.0%}, input tokens "
                    f"x{ours['input_tokens'] / theirs['input_tokens']:.2f}, "
                    f"wall time x{ours['seconds'] / theirs['seconds']:.2f}"
                )


def prompt_sizes(url: str) -> None:
    """System prompt sizes with the two temperature and population tools, in SmolLM2 tokens."""
    import smolagents

    from minagent.agents import CodeAgent, ToolCallingAgent
    from minagent.models import ScriptedModel
    from minagent.train.render import llama_tokenizer

    tokenize = llama_tokenizer()

    def count(text: str) -> int:
        return len(tokenize(text))

    ours = [TOOLS["get_temperature"], TOOLS["get_population"]]
    theirs = [smolagents_tool(t) for t in ours]
    model = smolagents.OpenAIServerModel(model_id=MODEL_NAME, api_base=url, api_key="none")
    sizes = {
        "code": (
            count(CodeAgent(ours, ScriptedModel([]), verbosity=0).system_prompt()),
            count(smolagents.CodeAgent(tools=theirs, model=model).system_prompt),
        ),
        "tool": (
            count(ToolCallingAgent(ours, ScriptedModel([]), verbosity=0).system_prompt()),
            count(smolagents.ToolCallingAgent(tools=theirs, model=model).system_prompt),
        ),
    }
    for kind, (mine, smol) in sizes.items():
        print(
            f"{kind} agent system prompt (2 tools): minagent {mine} tokens, "
            f"smolagents {smol} tokens (x{mine / smol:.2f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=DEFAULT_TASKS, help="held-out tasks to run")
    parser.add_argument("--agents", nargs="+", default=list(AGENTS), choices=list(AGENTS))
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    args = parser.parse_args()
    tasks = make_tasks("held_out", args.tasks, seed=0)
    results = {}
    for model in args.models:
        server, url = start_server(model)
        try:
            if model == args.models[0]:
                prompt_sizes(url)
            for name in args.agents:
                runner = AGENTS[name](url, model)
                results[f"{name} ({model})"] = summary(run_agent(name, runner, tasks))
                # Each agent's figures as soon as it is done: a long run stopped half-way
                # still has them.
                print_table({f"{name} ({model})": results[f"{name} ({model})"]}, len(tasks))
        finally:
            server.terminate()
            server.wait(timeout=30)
    print_table(results, len(tasks))


if __name__ == "__main__":
    main()
