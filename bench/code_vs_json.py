"""Code actions versus JSON actions on one analysis task: revenue by country.

The smolagents literature (after the CodeAct paper) argues that writing actions as code
takes fewer steps and fewer tokens than JSON tool calls, because code can loop, keep
variables and compute, while a JSON agent needs one call per operation. This script
reproduces the mechanics on `minagent/data/revenue_by_country.csv`:

    total and per-country change, in absolute and percentage terms, and each country's
    contribution to the total change.

1. Scripted models (exact, instant): a CodeAgent that does it in one code step, and a
   ToolCallingAgent that reads the table and then calls a calculator, first one call per
   step (what small models do), then batching a country's calls in one step. The replies
   are built from the data, every answer is checked against a reference computed here.
2. The embedded SmolLM2-135M model, both agents, same task: steps, tokens, correctness.

    python bench/code_vs_json.py [--skip-model]
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Callable
from typing import Any

from minagent.agents import CodeAgent, ToolCallingAgent
from minagent.data import data_path
from minagent.models import LocalModel, ScriptedModel
from minagent.tools import tool
from minexec import GuardedInterpreter

TASK = (
    "From the revenue table (before and after, per country), compute the total change and "
    "each country's change, in absolute terms and in percent, and each country's "
    "contribution to the total change in percent. Round to 2 decimals."
)
MODEL_MAX_STEPS = 6


def load_rows() -> list[dict]:
    with data_path("revenue_by_country.csv").open() as f:
        return [
            {"country": r["country"], "before": float(r["before"]), "after": float(r["after"])}
            for r in csv.DictReader(f)
        ]


ROWS = load_rows()


def reference(rows: list[dict]) -> dict:
    """The answer, computed directly: what every agent must reproduce."""
    total_before = sum(r["before"] for r in rows)
    total_change = sum(r["after"] for r in rows) - total_before
    answer = {
        "total": {
            "change": round(total_change, 2),
            "percent": round(100 * total_change / total_before, 2),
        }
    }
    for r in rows:
        change = r["after"] - r["before"]
        answer[r["country"]] = {
            "change": round(change, 2),
            "percent": round(100 * change / r["before"], 2),
            "contribution": round(100 * change / total_change, 2),
        }
    return answer


@tool
def get_table() -> str:
    """Get the revenue table: one row per country with revenue before and after."""
    return json.dumps(ROWS)


@tool
def calculate(expression: str) -> float:
    """Evaluate an arithmetic expression, like "(2 - 1) / 4 * 100".

    Args:
        expression: The arithmetic expression.
    """
    return round(GuardedInterpreter().run(expression).output, 2)


# --- scripted trajectories -------------------------------------------------------------------

CODE_STEP = """```python
total_before = sum(r["before"] for r in rows)
total_change = sum(r["after"] for r in rows) - total_before
answer = {"total": {"change": round(total_change, 2),
                    "percent": round(100 * total_change / total_before, 2)}}
for r in rows:
    change = r["after"] - r["before"]
    answer[r["country"]] = {"change": round(change, 2),
                            "percent": round(100 * change / r["before"], 2),
                            "contribution": round(100 * change / total_change, 2)}
final_answer(answer)
```"""


def json_calls(rows: list[dict]) -> list[list[dict]]:
    """The calls a JSON agent makes, grouped as one country (or the total) per group."""
    before = " + ".join(str(r["before"]) for r in rows)
    after = " + ".join(str(r["after"]) for r in rows)
    total = f"(({after}) - ({before}))"
    groups = [
        [{"name": "get_table", "arguments": {}}],
        [
            {"name": "calculate", "arguments": {"expression": total}},
            {"name": "calculate", "arguments": {"expression": f"{total} / ({before}) * 100"}},
        ],
    ]
    for r in rows:
        change = f"({r['after']} - {r['before']})"
        groups.append(
            [
                {"name": "calculate", "arguments": {"expression": e}}
                for e in (change, f"{change} / {r['before']} * 100", f"{change} / {total} * 100")
            ]
        )
    return groups


def final_call(answer: dict) -> dict:
    return {"name": "final_answer", "arguments": {"answer": answer}}


def scripted_runs() -> dict[str, CodeAgent | ToolCallingAgent]:
    answer = reference(ROWS)
    groups = json_calls(ROWS)
    one_per_step = [json.dumps(c) for group in groups for c in group]
    batched = [json.dumps(group) for group in groups]
    code = CodeAgent([], ScriptedModel([CODE_STEP]), verbosity=0)
    code.run(TASK, additional_args={"rows": ROWS})
    agents = {"CodeAgent (code)": code}
    for label, replies in (("one call per step", one_per_step), ("batched calls", batched)):
        model = ScriptedModel([*replies, json.dumps(final_call(answer))])
        agent = ToolCallingAgent([get_table, calculate], model, verbosity=0, max_steps=40)
        agent.run(TASK)
        agents[f"ToolCallingAgent (JSON, {label})"] = agent
    return agents


def smollm2_token_counter() -> Callable[[Any], tuple[int, int]]:
    """Re-count a scripted run's tokens with SmolLM2's tokenizer (message texts only)."""
    from minagent.train.render import llama_tokenizer

    tokenize = llama_tokenizer()

    def count(text: str) -> int:
        return len(tokenize(text))

    def run_tokens(agent: Any) -> tuple[int, int]:
        steps = agent.memory.steps
        read = sum(count(m.content) for step in steps for m in step.model_input)
        return read, sum(count(step.model_output) for step in steps)

    return run_tokens


def model_usage(agent: Any) -> tuple[int, int]:
    usage = agent.memory.total_usage
    return usage.input_tokens, usage.output_tokens


def print_runs(title: str, agents: dict, answer: dict, tokens: Callable) -> None:
    print(f"\n{title}")
    print(f"{'agent':<44}{'steps':>6}{'in tok':>9}{'out tok':>9}{'correct':>9}")
    totals = {}
    for name, agent in agents.items():
        read, written = totals[name] = tokens(agent)
        correct = agent.memory.final_answer == answer
        print(
            f"{name:<44}{len(agent.memory.action_steps):>6}{read:>9,}{written:>9,}"
            f"{'yes' if correct else 'no':>9}"
        )
    code_name, *others = agents
    code_steps = max(1, len(agents[code_name].memory.action_steps))
    for name in others:
        ratio = sum(totals[name]) / max(1, sum(totals[code_name]))
        steps = len(agents[name].memory.action_steps) / code_steps
        print(f"  {name}: x{steps:.1f} the steps and x{ratio:.1f} the tokens of code")


def model_runs() -> dict:
    model = LocalModel()
    options = dict(verbosity=0, max_steps=MODEL_MAX_STEPS, temperature=0.0)
    code = CodeAgent([], model, **options)
    tool_agent = ToolCallingAgent([get_table, calculate], model, **options)
    started = time.perf_counter()
    code.run(TASK, additional_args={"rows": ROWS})
    middle = time.perf_counter()
    tool_agent.run(TASK)
    print(
        f"(embedded model wall time: code {middle - started:.1f}s, "
        f"JSON {time.perf_counter() - middle:.1f}s; token counts are the model's own)"
    )
    return {"CodeAgent (code)": code, "ToolCallingAgent (JSON)": tool_agent}


def main() -> None:
    parser = argparse.ArgumentParser(description="code vs JSON actions")
    parser.add_argument("--skip-model", action="store_true", help="scripted models only")
    args = parser.parse_args()
    answer = reference(ROWS)
    title = "Scripted models (message texts counted with the SmolLM2 tokenizer)"
    print_runs(title, scripted_runs(), answer, smollm2_token_counter())
    if not args.skip_model:
        print_runs("Embedded SmolLM2-135M-Instruct", model_runs(), answer, model_usage)


if __name__ == "__main__":
    main()
