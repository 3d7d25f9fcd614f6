"""The agent loop and ToolCallingAgent, driven by scripted models and real tools."""

from __future__ import annotations

import pytest
from sample_tools import add, multiply

from minagent.agents import (
    FINAL_ANSWER_TOOL,
    AgentConfig,
    AgentError,
    AgentModelError,
    ToolCallingAgent,
    tool_call_schema,
    truncate,
)
from minagent.memory import Memory
from minagent.messages import Message, ToolCall
from minagent.models import ModelError, ScriptedModel
from minagent.tools import tool


@tool
def lookup(key: str) -> str:
    """Look a key up in a table that has no entries.

    Args:
        key: The key.
    """
    raise KeyError(key)


def call(name: str, **arguments: object) -> str:
    import json

    return json.dumps({"name": name, "arguments": arguments})


def agent_with(replies: list, tools=(add, multiply), **options) -> ToolCallingAgent:
    options.setdefault("verbosity", 0)
    options.setdefault("retry_delay", 0)
    return ToolCallingAgent(list(tools), ScriptedModel(replies), **options)


class FlakyModel:
    """A real Model that fails its first `failures` calls, then replies from a script."""

    def __init__(self, failures: int, replies: list) -> None:
        self.failures, self.script, self.model_id = failures, ScriptedModel(replies), "flaky"

    def generate(self, messages, **options):
        if self.failures:
            self.failures -= 1
            raise ModelError("503 service unavailable", retryable=True)
        return self.script.generate(messages, **options)


class RecordingModel(ScriptedModel):
    """A ScriptedModel that also keeps the options of each generate call."""

    def __init__(self, replies: list) -> None:
        super().__init__(replies)
        self.options: list[dict] = []

    def generate(self, messages, **options):
        self.options.append(options)
        return super().generate(messages, **options)


def test_one_step_answer():
    agent = agent_with([call("final_answer", answer=396)])
    assert agent.run("What is 17 * 23 + 5?") == 396
    (step,) = agent.memory.steps
    assert step.is_final_answer and step.tool_calls[0].name == "final_answer"
    assert step.usage.output_tokens > 0
    assert agent.memory.total_usage == step.usage


def test_multi_step_with_tools_feeds_observations_back():
    replies = [
        call("multiply", a=17, b=23),
        call("add", a=391, b=5),
        call("final_answer", answer=396),
    ]
    agent = agent_with(replies)
    assert agent.run("What is 17 * 23 + 5?") == 396
    assert [s.observation for s in agent.memory.steps] == ["391", "396", ""]
    last_input = agent.model.calls[-1]
    assert [m.role for m in last_input] == ["system", "user"] + ["assistant", "user"] * 2
    assert last_input[3].content == "Observation:\n391"
    assert agent.memory.total_usage.input_tokens == sum(
        s.usage.input_tokens for s in agent.memory.steps
    )


def test_native_tool_calls_are_answered_with_tool_messages():
    replies = [
        Message("assistant", "", tool_calls=[ToolCall("add", {"a": 1, "b": 2}, "call_7")]),
        Message("assistant", "", tool_calls=[ToolCall("final_answer", {"answer": 3}, "call_8")]),
    ]
    agent = agent_with(replies)
    assert agent.run("1 + 2?") == 3
    tool_message = agent.model.calls[1][-1]
    assert (tool_message.role, tool_message.content) == ("tool", "3")
    assert (tool_message.tool_call_id, tool_message.name) == ("call_7", "add")
    assert agent.model.calls[1][-2].tool_calls[0].id == "call_7"


def test_system_prompt_lists_tools_and_the_call_format():
    prompt = agent_with([]).system_prompt()
    assert "add(a: integer, b: integer) -> integer: Add two integers." in prompt
    assert '{"name": "final_answer", "arguments": {"answer": <the answer>}}' in prompt


@pytest.mark.parametrize(
    ("bad_reply", "expected"),
    [
        ('{"name": "add", "arguments": {"a": 1, "b": }}', "JSON"),
        ("I think the answer is 3.", "no tool call found"),
        (call("subtract", a=1, b=2), "there is no tool 'subtract'. Available tools: add"),
        (call("add", a=1), "missing required argument 'b'"),
        (call("add", a="one", b=2), "argument 'a'"),
        (call("lookup", key="x"), "tool 'lookup' raised KeyError"),
    ],
)
def test_errors_become_observations_and_the_run_recovers(bad_reply, expected):
    agent = agent_with([bad_reply, call("final_answer", answer=3)], tools=(add, lookup))
    assert agent.run("1 + 2?") == 3
    failed = agent.memory.steps[0]
    assert expected in failed.error and not failed.is_final_answer
    feedback = agent.model.calls[1][-1]
    assert feedback.role == "user" and feedback.content.startswith("Error: ")
    assert expected in feedback.content


def test_model_error_is_retried_then_recovers():
    model = FlakyModel(2, [call("final_answer", answer="ok")])
    agent = ToolCallingAgent([], model, verbosity=0, retry_delay=0, model_retries=2)
    assert agent.run("say ok") == "ok"


def test_model_error_after_retries_is_a_named_exception():
    model = FlakyModel(3, [call("final_answer", answer="ok")])
    agent = ToolCallingAgent([], model, verbosity=0, retry_delay=0, model_retries=2)
    with pytest.raises(AgentModelError, match="failed 3 times.*503"):
        agent.run("say ok")


def test_script_running_out_is_a_model_error_and_is_not_retried():
    # An error that can never succeed is not retried: one attempt, whatever model_retries says.
    agent = agent_with([], model_retries=5, retry_delay=60)
    with pytest.raises(AgentModelError, match="failed 1 time; .*script ran out"):
        agent.run("anything")


def test_max_steps_asks_for_a_final_answer_from_memory():
    replies = [call("add", a=1, b=2), call("add", a=3, b=4), "The answer is 3."]
    agent = agent_with(replies, max_steps=2)
    assert agent.run("1 + 2?") == "The answer is 3."
    kinds = [s.kind for s in agent.memory.steps]
    assert kinds == ["action", "action", "final"]
    request = agent.model.calls[-1][-1]
    assert "run out of steps" in request.content and "1 + 2?" in request.content
    assert len(agent.memory.action_steps) == 2


def test_planning_every_n_steps():
    replies = [
        "1. add the numbers",
        call("add", a=1, b=2),
        call("add", a=3, b=4),
        "2. answer",
        call("final_answer", answer=3),
    ]
    agent = agent_with(replies, planning_interval=2)
    assert agent.run("1 + 2?") == 3
    assert [s.kind for s in agent.memory.steps] == [
        "planning",
        "action",
        "action",
        "planning",
        "action",
    ]
    first_request = agent.model.calls[0][-1].content
    assert "Write a short plan" in first_request and "so far" not in first_request
    assert "You have taken 2 steps so far" in agent.model.calls[3][-1].content
    # The plan stays in the history the model sees afterwards.
    assert agent.model.calls[1][2].content == "1. add the numbers"


def test_managed_agent_is_called_like_a_tool():
    helper = agent_with(
        [call("add", a=2, b=2), call("final_answer", answer=4)],
        name="adder",
        description="Adds numbers. Give it the numbers.",
    )
    manager = ToolCallingAgent(
        [],
        ScriptedModel([call("adder", task="Add 2 and 2."), call("final_answer", answer=4)]),
        managed_agents=[helper],
        verbosity=0,
    )
    assert "adder(task: string)" in manager.system_prompt()
    assert manager.run("What is 2 + 2?") == 4
    assert manager.memory.steps[0].observation == "4"
    assert helper.memory.task == "Add 2 and 2."


def test_managed_agent_needs_a_description():
    helper = agent_with([], name="helper")
    with pytest.raises(AgentError, match="needs a description"):
        ToolCallingAgent([], ScriptedModel([]), managed_agents=[helper], verbosity=0)


def test_step_callbacks_see_every_step():
    seen = []
    agent = agent_with(
        [call("add", a=1, b=2), call("final_answer", answer=3)],
        step_callbacks=[lambda step: seen.append((step.step_number, step.observation))],
    )
    agent.run("1 + 2?")
    assert seen == [(1, "3"), (2, "")]


def test_memory_json_round_trip():
    replies = [
        "plan",
        '{"name": "add", "arguments": {"a": 1',
        Message("assistant", "", tool_calls=[ToolCall("add", {"a": 1, "b": 2}, "c1")]),
        call("final_answer", answer={"sum": 3}),
    ]
    agent = agent_with(replies, planning_interval=10)
    agent.run("1 + 2?")
    loaded = Memory.from_json(agent.memory.to_json())
    assert loaded == agent.memory
    assert loaded.to_messages() == agent.memory.to_messages()
    assert loaded.final_answer == {"sum": 3}
    assert loaded.total_usage == agent.memory.total_usage


def test_additional_args_are_described_in_the_task():
    agent = agent_with([call("final_answer", answer=2)])
    agent.run("How many rows?", additional_args={"rows": [{"a": 1}, {"a": 2}]})
    assert agent.memory.task.startswith("How many rows?")
    assert "- rows: list, [{'a': 1}, {'a': 2}]" in agent.memory.task


def test_long_observations_are_cut():
    @tool
    def dump() -> str:
        """Return a lot of text."""
        return "x" * 300

    agent = agent_with(
        [call("dump"), call("final_answer", answer=1)], tools=[dump], max_observation_chars=100
    )
    agent.run("dump")
    observation = agent.memory.steps[0].observation
    assert "(200 characters cut)" in observation and observation.count("x") == 100
    assert truncate("abcdefghij", 6) == "abc\n... (4 characters cut) ...\nhij"


def test_constrained_decoding_passes_a_schema_of_valid_calls():
    model = RecordingModel([call("final_answer", answer=1)])
    ToolCallingAgent([add], model, constrained=True, verbosity=0).run("1?")
    schema = model.options[0]["json_schema"]
    names = [option["properties"]["name"]["const"] for option in schema["anyOf"]]
    assert names == ["add", "final_answer"]
    assert schema["anyOf"][0]["properties"]["arguments"] == add.parameters
    assert "tools" not in model.options[0]


def test_unconstrained_models_get_native_tool_schemas():
    model = RecordingModel([call("final_answer", answer=1)])
    ToolCallingAgent([add], model, verbosity=0).run("1?")
    assert model.options[0]["tools"] == [add.schema, FINAL_ANSWER_TOOL.schema]
    assert "json_schema" not in model.options[0]


class ConstrainedRecordingModel(RecordingModel):
    """Any model that declares constrained decoding gets the schema, not only LocalModel."""

    supports_constrained_decoding = True


def test_the_agent_asks_the_model_for_its_capabilities():
    model = ConstrainedRecordingModel([call("final_answer", answer=1)])
    ToolCallingAgent([add], model, verbosity=0).run("1?")
    assert "json_schema" in model.options[0] and "tools" not in model.options[0]


def test_a_repeated_tool_call_with_the_same_result_is_pointed_out():
    replies = [call("add", a=1, b=2), call("add", a=1, b=2), call("final_answer", answer=3)]
    agent = agent_with(replies)
    assert agent.run("1 + 2?") == 3
    assert [s.repeats for s in agent.memory.steps] == [None, 1, None]
    assert "You already did exactly this in step 1" in agent.model.calls[2][-1].content
    assert "You already did" not in agent.model.calls[1][-1].content


def test_tool_call_schema_is_accepted_by_llama_cpp():
    llama_cpp = pytest.importorskip("llama_cpp")
    import json

    grammar = llama_cpp.LlamaGrammar.from_json_schema(
        json.dumps(tool_call_schema([add, FINAL_ANSWER_TOOL])), verbose=False
    )
    assert grammar is not None


def test_config_is_typed_and_unknown_options_fail():
    assert AgentConfig().max_steps == 8
    with pytest.raises(TypeError):
        agent_with([], max_stepz=3)
    with pytest.raises(ValueError, match="verbosity"):
        agent_with([], verbosity=5)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"max_steps": 0}, "max_steps must be at least 1"),
        ({"planning_interval": 0}, "planning_interval"),
        ({"model_retries": -1}, "model_retries"),
        ({"max_observation_chars": 10}, "max_observation_chars"),
    ],
)
def test_config_limits_are_checked_when_the_agent_is_built(option, message):
    with pytest.raises(ValueError, match=message):
        agent_with([], **option)


def test_two_tools_of_one_name_are_refused():
    twin = tool(name="add")(multiply.fn)
    with pytest.raises(AgentError, match="more than one tool is named 'add'"):
        agent_with([], tools=(add, twin))
