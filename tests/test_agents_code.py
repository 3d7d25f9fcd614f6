"""CodeAgent: code actions run by the real interpreter, driven by scripted models."""

from __future__ import annotations

import pytest
from sample_tools import add

from minagent.agents import (
    DEFAULT_CODE_PREFILL,
    EXECUTORS,
    AgentError,
    AgentParseError,
    CodeAgent,
    ToolCallingAgent,
    code_signature,
    extract_code,
)
from minagent.executor import Executor, InterpreterError, RunResult
from minagent.interpreter import Interpreter, evaluate
from minagent.memory import Memory
from minagent.models import ScriptedModel
from minagent.tools import tool


@tool
def get_rate(currency: str) -> float:
    """Exchange rate of a currency to euros.

    Args:
        currency: A currency code such as "USD".
    """
    rates = {"USD": 0.5}
    if currency not in rates:
        raise ValueError(f"unknown currency {currency!r}; known: {', '.join(rates)}")
    return rates[currency]


def code(text: str) -> str:
    return f"```python\n{text}\n```"


def agent_with(replies: list, tools=(add, get_rate), **options) -> CodeAgent:
    options.setdefault("verbosity", 0)
    options.setdefault("retry_delay", 0)
    # In process: these tests are about the loop; test_sandbox_agent.py runs the sandbox.
    options.setdefault("executor", "local")
    return CodeAgent(list(tools), ScriptedModel(replies), **options)


def test_one_step_answer():
    agent = agent_with([code("final_answer(17 * 23 + 5)")])
    assert agent.run("What is 17 * 23 + 5?") == 396
    (step,) = agent.memory.steps
    assert step.code == "final_answer(17 * 23 + 5)" and step.is_final_answer


def test_tools_are_functions_and_variables_persist_between_steps():
    replies = [code("x = add(17, 5)\nprint('x is', x)"), code("final_answer(x * get_rate('USD'))")]
    agent = agent_with(replies)
    assert agent.run("Convert 17 + 5 dollars to euros.") == 11.0
    assert agent.memory.steps[0].observation == "x is 22"
    assert agent.model.calls[1][-1].content == "Observation:\nx is 22"


def test_last_expression_value_is_shown_when_nothing_is_printed():
    agent = agent_with([code("y = 6\ny * 7"), code("final_answer(y)")])
    agent.run("compute")
    assert "42" in agent.memory.steps[0].observation


def test_system_prompt_lists_tools_as_python_signatures_to_call():
    prompt = agent_with([], additional_authorized_imports=["math"]).system_prompt()
    assert "call them, never define them:\n- add(a: int, b: int) -> int: " in prompt
    assert "def add" not in prompt  # shown as a def, a small model rewrites the tool
    assert "currency: A currency code" in prompt
    assert "Only these imports are allowed: math." in prompt
    assert code_signature(add)["signature"] == "add(a: int, b: int) -> int"


def test_the_task_message_asks_a_code_agent_for_a_code_block():
    agent = agent_with([code("final_answer(1)")])
    agent.run("compute")
    assert agent.memory.task.endswith("```python code block that ends with final_answer(...).")
    assert "code block" not in ToolCallingAgent([add], ScriptedModel([])).task_prompt("x", {})


@pytest.mark.parametrize(
    ("bad_reply", "expected"),
    [
        ("The answer is 396.", "no code block found"),
        (code("import os\nprint(os.getcwd())"), "os"),
        (code("print(get_rate('GBP'))"), "unknown currency 'GBP'"),
        (code("x = 1 +"), "SyntaxError"),
        (code("print(undefined_name)"), "undefined_name"),
    ],
)
def test_errors_become_observations_and_the_run_recovers(bad_reply, expected):
    agent = agent_with([bad_reply, code("final_answer(396)")])
    assert agent.run("What is 17 * 23 + 5?") == 396
    failed = agent.memory.steps[0]
    assert expected in failed.error and not failed.is_final_answer
    feedback = agent.model.calls[1][-1].content
    assert feedback.startswith("Error: ") or "Error: " in feedback
    assert expected in feedback


def test_printed_output_before_an_error_is_kept():
    agent = agent_with([code("print('halfway')\nimport os"), code("final_answer(1)")])
    agent.run("task")
    step = agent.memory.steps[0]
    assert step.error and "halfway" in agent.model.calls[1][-1].content


def test_authorized_imports_work():
    agent = agent_with(
        [code("import math\nfinal_answer(math.sqrt(16))")], additional_authorized_imports=["math"]
    )
    assert agent.run("sqrt of 16") == 4.0


def test_additional_args_are_variables_in_the_code():
    rows = [{"country": "UK", "revenue": 3}, {"country": "France", "revenue": 4}]
    agent = agent_with([code("final_answer(sum(r['revenue'] for r in rows))")])
    assert agent.run("Total revenue?", additional_args={"rows": rows}) == 7
    assert "already defined in your code" in agent.memory.task
    assert "- rows: list" in agent.memory.task


def test_max_steps_asks_for_a_final_answer_from_memory():
    agent = agent_with([code("x = 1"), "It is 1."], max_steps=1)
    assert agent.run("task") == "It is 1."
    assert [s.kind for s in agent.memory.steps] == ["action", "final"]


def test_prefill_starts_the_reply_and_the_stop_ends_it():
    model = ScriptedModel([DEFAULT_CODE_PREFILL + "2 + 2\nfinal_answer(result)\n```\nmore text"])
    agent = CodeAgent([], model, prefill=DEFAULT_CODE_PREFILL, verbosity=0, executor="local")
    assert agent.run("2 + 2?") == 4
    assert model.calls[0][-1].role == "assistant"
    assert model.calls[0][-1].content == DEFAULT_CODE_PREFILL
    assert agent.memory.steps[0].code == "result = 2 + 2\nfinal_answer(result)"


def test_memory_round_trip_and_replay_input():
    agent = agent_with([code("x = add(1, 2)\nprint(x)"), code("final_answer(x)")])
    agent.run("1 + 2?")
    loaded = Memory.from_json(agent.memory.to_json())
    assert loaded == agent.memory
    assert loaded.steps[0].code == "x = add(1, 2)\nprint(x)"


def test_process_executor_runs_the_same_code_and_each_run_starts_fresh():
    replies = [code("x = add(2, 3)\nprint(x)"), code("final_answer(x * y)")]
    replies += [code("print(x)"), code("final_answer('fresh')")]
    agent = agent_with(replies, executor="process")
    assert agent.run("task", additional_args={"y": 2}) == 10
    assert agent.interpreter.state["x"] == 5
    assert agent.run("again") == "fresh"
    assert "'x'" in agent.memory.steps[0].error


def test_unknown_executor_is_refused():
    with pytest.raises(AgentError, match="unknown executor 'docker'"):
        agent_with([], executor="docker")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Let me add.\n```py\nx = 1 + 1\n```", "x = 1 + 1"),
        ("```\nprint(1)\n```", "print(1)"),
        ("```python\na = 1\n```\nthen\n```python\nb = 2\n```", "a = 1\n\nb = 2"),
        ("```python\nfinal_answer(3)", "final_answer(3)"),
    ],
)
def test_extract_code(text, expected):
    assert extract_code(text) == expected


def test_extract_code_without_a_block_is_a_parse_error():
    with pytest.raises(AgentParseError, match="```python"):
        extract_code("just words")


def test_a_fallback_answer_written_as_code_is_run():
    agent = agent_with([code("x = 6 * 7"), code("print(x)")], max_steps=1)
    assert agent.run("task") == "42"
    agent = agent_with([code("x = 6 * 7"), code("x + 1")], max_steps=1)
    assert agent.run("task") == 43
    agent = agent_with([code("x = 6 * 7"), code("import os")], max_steps=1)
    assert agent.run("task") == "```python\nimport os\n```"


def test_the_default_executor_is_the_sandbox():
    # The only executor that is a security boundary; it falls back to a child process, with
    # a warning, where bubblewrap cannot run (test_sandbox_agent.py).
    assert CodeAgent([], ScriptedModel([])).executor == "sandbox" == EXECUTORS[0]


@pytest.mark.parametrize("executor", ["tree", "local", "process"])
def test_every_executor_kind_runs_the_same_task(executor):
    replies = [code("x = add(2, 3)\nprint(x)"), code("final_answer(x * y)")]
    agent = agent_with(replies, executor=executor)
    assert agent.run("task", additional_args={"y": 2}) == 10
    assert isinstance(agent.interpreter, Executor)
    assert agent.memory.steps[0].observation == "5"


def test_the_tree_executor_is_unit_04s_interpreter():
    agent = agent_with([code("import os"), code("final_answer(1)")], executor="tree")
    agent.run("task")
    assert isinstance(agent.interpreter, Interpreter)
    assert "import of 'os' is not allowed" in agent.memory.steps[0].error


def test_an_executor_factory_plugs_in_your_own_evaluator():
    seen = []

    def my_evaluate(code, state, authorized_imports, max_operations):
        seen.append(code)
        return evaluate(code, state, authorized_imports, max_operations)

    def factory(imports, tools):
        return Interpreter(imports, tools, evaluate=my_evaluate)

    agent = agent_with([code("final_answer(add(1, 2))")], executor=factory)
    assert agent.run("1 + 2?") == 3
    assert seen == ["final_answer(add(1, 2))"]


class BrokenExecutor:
    """An executor with a bug of its own (not a failure of the code it runs)."""

    state: dict = {}

    def run(self, code: str) -> RunResult:
        raise RuntimeError("bug in the executor")

    def close(self) -> None:
        pass


def test_only_the_executors_error_becomes_an_observation():
    # A failure of the code is InterpreterError and is fed back; a bug elsewhere is not hidden.
    agent = agent_with([code("x = 1")], executor=lambda imports, tools: BrokenExecutor())
    with pytest.raises(RuntimeError, match="bug in the executor"):
        agent.run("task")
    assert issubclass(InterpreterError, Exception)


def test_a_repeated_step_is_pointed_out_and_the_model_asked_for_final_answer():
    same = code("result = 17 * 23 + 5\nprint(result)")
    agent = agent_with([same, same, code("final_answer(result)")])
    assert agent.run("What is 17 * 23 + 5?") == 396
    first, second, _ = agent.memory.steps
    assert first.repeats is None and second.repeats == 1
    feedback = agent.model.calls[2][-1].content
    assert feedback.startswith("Observation:\n396\n")
    assert "You already did exactly this in step 1" in feedback and "final_answer" in feedback


def test_the_same_code_with_a_new_result_is_not_a_repetition():
    replies = [code("n = 1\nprint(n)"), code("n = n + 1\nprint(n)"), code("n = n + 1\nprint(n)")]
    agent = agent_with([*replies, code("final_answer(n)")])
    assert agent.run("count") == 3
    # The last two steps run the same code, but n changed in between: not a loop.
    assert [s.repeats for s in agent.memory.steps] == [None, None, None, None]


def test_pointing_out_repeats_can_be_switched_off_to_measure_it():
    same = code("print(17 * 23 + 5)")
    agent = agent_with([same, same, code("final_answer(396)")], point_out_repeats=False)
    agent.run("What is 17 * 23 + 5?")
    assert [s.repeats for s in agent.memory.steps] == [None, None, None]
    assert "You already did" not in agent.model.calls[2][-1].content
