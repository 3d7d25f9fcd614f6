"""The committed agent adapter: LocalModel loads it by default, and its card's figures hold.

These run the embedded model through llama.cpp (slow), without PyTorch.
"""

import pytest

from minagent.agents import CodeAgent
from minagent.models import DEFAULT_ADAPTER, LocalModel, ModelError

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


def test_a_missing_adapter_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="adapter file not found"):
        LocalModel(adapter=tmp_path / "nope.gguf")


def test_the_demo_task_is_answered_with_final_answer(tuned):
    agent = CodeAgent(model=tuned, verbosity=0, executor="local")
    assert agent.run("What is 17 * 23 + 5?") == 396
    assert len(agent.memory.action_steps) <= 2
    assert "final_answer(" in agent.memory.action_steps[-1].code
