"""The committed agent adapter: LocalModel loads it by default, and its card's figures hold.

These run the embedded model through llama.cpp (slow), without PyTorch.
"""

import json

import pytest

from minagent.agents import CodeAgent
from minagent.models import DEFAULT_ADAPTER, LocalModel, ModelError
from minagent.train.evaluate import evaluate, summary
from minagent.train.tasks import make_tasks

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tuned():
    return LocalModel()


@pytest.fixture(scope="module")
def plain():
    return LocalModel(adapter=None)


def test_the_adapter_ships_in_the_package_and_is_small():
    assert DEFAULT_ADAPTER.is_file()
    assert DEFAULT_ADAPTER.stat().st_size < 10_000_000


def test_local_model_uses_the_adapter_unless_told_not_to(tuned, plain):
    assert tuned.adapter == DEFAULT_ADAPTER and DEFAULT_ADAPTER.stem in tuned.model_id
    assert plain.adapter is None and tuned.llm is not plain.llm
    messages = [{"role": "user", "content": "What is 12 * 12? Answer with code."}]
    assert tuned.generate(messages, max_tokens=24).content != (
        plain.generate(messages, max_tokens=24).content
    )


@pytest.mark.parametrize("greeting", ["Say hi", "Hi"])
def test_plain_chat_is_unchanged_by_the_adapter(tuned, plain, greeting):
    """The first adapter, trained on agent turns only, answered "Say hi" with emoji; the
    plain model's own chat replies are now in the training data (minagent.train.chat)."""
    messages = [{"role": "user", "content": greeting}]
    reply = tuned.generate(messages, max_tokens=48).content
    assert reply == plain.generate(messages, max_tokens=48).content
    assert "```" not in reply and "final_answer" not in reply


def test_a_missing_adapter_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="adapter file not found"):
        LocalModel(adapter=tmp_path / "nope.gguf")


def test_the_demo_task_is_answered_with_final_answer(tuned):
    agent = CodeAgent(model=tuned, verbosity=0, executor="local")
    assert agent.run("What is 17 * 23 + 5?") == 396
    assert len(agent.memory.action_steps) <= 2
    assert "final_answer(" in agent.memory.action_steps[-1].code


EVALUATION = DEFAULT_ADAPTER.parent / "eval"
"""The card's held-out figures: `python -m minagent.train eval --json ...`, one file per
model and agent (tuned-code.json, plain-code.json, tuned-tool.json)."""

RECHECKED = 18
"""Held-out tasks the test runs again (three per family): enough to catch figures that do
not come from this adapter, in about a minute."""


def committed_report(name: str) -> dict:
    return json.loads((EVALUATION / f"{name}.json").read_text())


def test_the_committed_evaluation_reproduces(tuned):
    """Greedy decoding repeats itself, so the same tasks give the same answers, up to
    floating-point differences between llama.cpp builds and thread counts: allow one task
    in RECHECKED to flip."""
    committed = committed_report("tuned-code")["tasks"][:RECHECKED]
    tasks = make_tasks("held_out", RECHECKED, seed=0)
    assert [t.question for t in tasks] == [run["question"] for run in committed]
    report = evaluate(tasks, tuned)
    flipped = [
        run["question"]
        for run, then in zip(report["tasks"], committed, strict=True)
        if run["correct"] != then["correct"]
    ]
    assert len(flipped) <= 1, flipped
    assert report["parse_rate"] >= summary(committed)["parse_rate"] - 0.05


@pytest.mark.parametrize("name", ["tuned-code", "plain-code", "tuned-tool"])
def test_the_card_states_the_committed_figures(name):
    """The card's table is the evaluation files, not numbers typed in by hand."""
    report = committed_report(name)
    assert len(report["tasks"]) == 36 and summary(report["tasks"]) == {
        key: report[key] for key in ("success", "parse_rate", "steps")
    }
    model, agent = name.split("-")
    row = (
        f"| {model} | {agent} | {report['success']:.0%} | {report['parse_rate']:.0%} "
        f"| {report['steps']:.2f} |"
    )
    assert row in (DEFAULT_ADAPTER.parent / "README.md").read_text()
