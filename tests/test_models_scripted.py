import pytest

from minagent.messages import Message, ToolCall, user
from minagent.models import Model, ModelError, ScriptedModel, cut_at_stop


def test_replies_come_in_order_and_calls_are_recorded():
    model = ScriptedModel(["one", "two words"])
    first = model.generate([user("count")])
    second = model.generate([{"role": "user", "content": "again please"}])
    assert (first.content, second.content) == ("one", "two words")
    assert model.calls[1] == [user("again please")]
    assert second.usage.input_tokens == 2 and second.usage.output_tokens == 2


def test_script_running_out_is_a_clear_error():
    model = ScriptedModel(["only"])
    model.generate([user("a")])
    with pytest.raises(ModelError, match="ran out after 1 replies"):
        model.generate([user("b")])


def test_stop_sequences_cut_replies_like_a_server():
    model = ScriptedModel(["Action: look\nObservation: invented", "x STOP y"])
    assert model.complete("prompt", stop=["Observation:"]) == "Action: look\n"
    assert model.generate([user("q")], stop=["STOP"]).content == "x "
    assert model.prompts == ["prompt"]


def test_scripted_tool_calls_pass_through():
    call = ToolCall("add", {"a": 1}, "c1")
    model = ScriptedModel([Message("assistant", "", tool_calls=[call])])
    assert model.generate([user("add")]).tool_calls == [call]


def test_stream_yields_the_reply_in_pieces():
    model = ScriptedModel(["a b c"])
    assert list(model.stream([user("q")])) == ["a ", "b ", "c"]


def test_scripted_model_satisfies_the_protocol():
    assert isinstance(ScriptedModel([]), Model)


def test_cut_at_stop_takes_the_earliest():
    assert cut_at_stop("abcabc", ["c", "b"]) == "a"
    assert cut_at_stop("abc", []) == "abc"
