"""minagent's agents against smolagents' on the same model, on small checkable tasks.

Starts llama-cpp-python's OpenAI-compatible server on loopback with the embedded
SmolLM2-135M-Instruct GGUF, and points both libraries at it (temperature 0, the same
reply-length cap, the same step limit). minagent also runs in-process on `LocalModel`,
where it can use what a chat API cannot give it: a prefilled reply for code and
JSON-schema-constrained decoding for tool calls.

Prints, per agent: success rate, mean action steps, input and output tokens (summed over
the tasks), wall time; then minagent's figures as ratios of smolagents'.

    python bench/agents.py                 # all tasks, all agents
    python bench/agents.py --tasks 5 --agents minagent-code smolagents-code
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

MAX_STEPS = 4
MAX_TOKENS = 384
SERVER_START_TIMEOUT_S = 120
MODEL_NAME = "smollm2"

TEMPERATURES = {"Paris": 18, "London": 15, "Tokyo": 22, "Cairo": 31}
POPULATIONS = {"Paris": 2, "London": 9, "Tokyo": 14, "Cairo": 10}


def get_temperature(city: str) -> int:
    """Get the current temperature of a city, in degrees Celsius.

    Args:
        city: The city name, like "Paris".
    """
    return TEMPERATURES[city.strip().title()]


def get_population(city: str) -> int:
    """Get the population of a city, in millions.

    Args:
        city: The city name, like "Paris".
    """
    return POPULATIONS[city.strip().title()]


@dataclass
class Task:
    question: str
    expected: Any
    kind: str  # "arithmetic", "text", "list", "tool", "two tools"


TASKS = [
    Task("What is 17 * 23 + 5?", 396, "arithmetic"),
    Task("What is 144 divided by 12?", 12, "arithmetic"),
    Task("What is 2 to the power of 10?", 1024, "arithmetic"),
    Task("What is 15% of 80?", 12, "arithmetic"),
    Task("What is the sum of the integers from 1 to 100?", 5050, "arithmetic"),
    Task("What is 7 factorial?", 5040, "arithmetic"),
    Task("What is 1000 minus 1?", 999, "arithmetic"),
    Task("Reverse the string 'agent'.", "tnega", "text"),
    Task("How many letters are in the word 'tokenizer'?", 9, "text"),
    Task("Convert 'hello world' to upper case.", "HELLO WORLD", "text"),
    Task("How many times does the letter 's' appear in 'mississippi'?", 4, "text"),
    Task("What is the largest number in the list [3, 41, 7, 19]?", 41, "list"),
    Task("Sort the list [5, 2, 9, 1] in ascending order.", [1, 2, 5, 9], "list"),
    Task("What is the average of 4, 8 and 12?", 8, "list"),
    Task("What is the temperature in Paris?", 18, "tool"),
    Task("What is the population of Tokyo, in millions?", 14, "tool"),
    Task("What is the temperature in Cairo?", 31, "tool"),
    Task("What is the temperature in Tokyo minus 2?", 20, "tool"),
    Task("Which city is warmer, London or Tokyo?", "Tokyo", "two tools"),
    Task("What is the temperature in Paris plus the temperature in London?", 33, "two tools"),
    Task("What is the population of London times the temperature in London?", 135, "two tools"),
    Task("What is the sum of the populations of Paris and Cairo, in millions?", 12, "two tools"),
]

NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?")


def is_correct(answer: Any, task: Task) -> bool:
    """The same lenient check for every agent: numbers within 1e-6, lists by their items,
    text as written (give or take quotes and a full stop). A text answer with numbers in
    it counts by the last number it adds to the question ("17 * 23 + 5 = 396" counts;
    "144 divided by 12 is not possible" does not, though it ends in 12), unless it states
    one number only ("41")."""
    expected = task.expected
    if answer is None:
        return False
    if isinstance(expected, list):
        return re.sub(r"\s", "", str(answer)) == re.sub(r"\s", "", str(expected))
    if isinstance(expected, (int, float)):
        if isinstance(answer, (int, float)) and not isinstance(answer, bool):
            return abs(answer - expected) < 1e-6
        numbers = [float(n) for n in NUMBER_RE.findall(str(answer))]
        given = {float(n) for n in NUMBER_RE.findall(task.question)}
        new = numbers if len(numbers) == 1 else [n for n in numbers if n not in given]
        return bool(new) and abs(new[-1] - expected) < 1e-6
    return str(answer).strip().strip("'\".") == str(expected)


@dataclass
class Outcome:
    correct: bool
    steps: int
    input_tokens: int
    output_tokens: int
    seconds: float
    error: str = ""


# --- the two libraries ---------------------------------------------------------------------


def minagent_runner(kind: str, where: str, url: str) -> Callable[[Task], Outcome]:
    from minagent.agents import CodeAgent, ToolCallingAgent
    from minagent.models import LiteLLMModel, LocalModel
    from minagent.tools import tool

    tools = [tool(get_temperature), tool(get_population)]
    if where == "local":
        model = LocalModel()
    else:
        model = LiteLLMModel(f"openai/{MODEL_NAME}", api_base=url, api_key="none")
    options = dict(max_steps=MAX_STEPS, max_tokens=MAX_TOKENS, temperature=0.0, verbosity=0)

    def run(task: Task) -> Outcome:
        if kind == "code":
            agent = CodeAgent(tools, model, **options)
        else:
            agent = ToolCallingAgent(tools, model, **options)
        started = time.perf_counter()
        answer = agent.run(task.question)
        usage = agent.memory.total_usage
        return Outcome(
            is_correct(answer, task),
            len(agent.memory.action_steps),
            usage.input_tokens,
            usage.output_tokens,
            time.perf_counter() - started,
        )

    return run


def smolagents_runner(kind: str, url: str) -> Callable[[Task], Outcome]:
    import smolagents

    tools = [smolagents.tool(get_temperature), smolagents.tool(get_population)]
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
        cls = smolagents.CodeAgent if kind == "code" else smolagents.ToolCallingAgent
        agent = cls(tools=tools, model=model, max_steps=MAX_STEPS, verbosity_level=0)
        started = time.perf_counter()
        result = agent.run(task.question, return_full_result=True)
        usage = result.token_usage
        steps = sum(isinstance(s, smolagents.memory.ActionStep) for s in agent.memory.steps)
        return Outcome(
            is_correct(result.output, task),
            steps,
            usage.input_tokens if usage else 0,
            usage.output_tokens if usage else 0,
            time.perf_counter() - started,
        )

    return run


AGENTS = {
    "minagent-code": lambda url: minagent_runner("code", "server", url),
    "minagent-tool": lambda url: minagent_runner("tool", "server", url),
    "smolagents-code": lambda url: smolagents_runner("code", url),
    "smolagents-tool": lambda url: smolagents_runner("tool", url),
    "minagent-code-local": lambda url: minagent_runner("code", "local", url),
    "minagent-tool-local": lambda url: minagent_runner("tool", "local", url),
}


# --- the server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server() -> tuple[subprocess.Popen, str]:
    """llama-cpp-python's OpenAI-compatible server on loopback, serving the embedded GGUF."""
    from minagent.models import embedded_model_path

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
    return {
        "success": sum(o.correct for o in outcomes) / n,
        "steps": sum(o.steps for o in outcomes) / n,
        "input_tokens": sum(o.input_tokens for o in outcomes),
        "output_tokens": sum(o.output_tokens for o in outcomes),
        "seconds": sum(o.seconds for o in outcomes),
    }


def print_table(results: dict[str, dict[str, float]], n_tasks: int) -> None:
    print(f"\n{n_tasks} tasks, max {MAX_STEPS} steps, temperature 0, SmolLM2-135M-Instruct")
    print(f"{'agent':<22}{'success':>9}{'steps':>7}{'in tok':>10}{'out tok':>9}{'wall s':>9}")
    for name, s in results.items():
        print(
            f"{name:<22}{s['success']:>9.0%}{s['steps']:>7.2f}{s['input_tokens']:>10,.0f}"
            f"{s['output_tokens']:>9,.0f}{s['seconds']:>9.1f}"
        )
    for kind in ("code", "tool"):
        ours, theirs = results.get(f"minagent-{kind}"), results.get(f"smolagents-{kind}")
        if ours and theirs and theirs["input_tokens"]:
            print(
                f"{kind}: minagent/smolagents  success {ours['success']:.0%} vs "
                f"{theirs['success']:.0%}, input tokens x{ours['input_tokens'] / theirs['input_tokens']:.2f}, "  # noqa: E501
                f"wall time x{ours['seconds'] / theirs['seconds']:.2f}"
            )


def prompt_sizes(url: str) -> None:
    """System prompt sizes with the two bench tools, in SmolLM2 tokens."""
    import smolagents
    from llama_cpp import Llama

    from minagent.agents import CodeAgent, ToolCallingAgent
    from minagent.models import ScriptedModel, embedded_model_path
    from minagent.tools import tool

    vocab = Llama(model_path=str(embedded_model_path()), vocab_only=True, verbose=False)

    def count(text: str) -> int:
        return len(vocab.tokenize(text.encode(), add_bos=False, special=True))

    ours = [tool(get_temperature), tool(get_population)]
    theirs = [smolagents.tool(get_temperature), smolagents.tool(get_population)]
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
    parser.add_argument("--tasks", type=int, default=len(TASKS), help="run the first N tasks")
    parser.add_argument("--agents", nargs="+", default=list(AGENTS), choices=list(AGENTS))
    args = parser.parse_args()
    tasks = TASKS[: args.tasks]
    server, url = start_server()
    prompt_sizes(url)
    results = {}
    try:
        for name in args.agents:
            results[name] = summary(run_agent(name, AGENTS[name](url), tasks))
    finally:
        server.terminate()
        server.wait(timeout=30)
    print_table(results, len(tasks))


if __name__ == "__main__":
    main()
