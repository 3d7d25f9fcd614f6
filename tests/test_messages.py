import pytest

from minagent.messages import (
    Message,
    MessageError,
    TokenUsage,
    ToolCall,
    assistant,
    from_dicts,
    system,
    to_dicts,
    tool_result,
    user,
)


def test_round_trip_through_openai_dicts():
    call = ToolCall("add", {"a": 1, "b": 2}, "call_0")
    messages = [
        system("Be brief."),
        user("What is 1 + 2?"),
        assistant("", [call]),
        tool_result("3", "call_0", "add"),
        assistant("3"),
    ]
    dicts = to_dicts(messages)
    assert dicts[2]["tool_calls"][0] == {
        "id": "call_0",
        "type": "function",
        "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'},
    }
    assert dicts[3] == {"role": "tool", "content": "3", "tool_call_id": "call_0", "name": "add"}
    assert from_dicts(dicts) == messages


def test_tool_call_arguments_may_be_a_dict_or_a_json_string():
    as_dict = ToolCall.from_dict({"function": {"name": "f", "arguments": {"x": 1}}})
    as_text = ToolCall.from_dict({"function": {"name": "f", "arguments": '{"x": 1}'}})
    assert as_dict == as_text == ToolCall("f", {"x": 1})


def test_text_parts_are_joined():
    message = Message.from_dict(
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}
    )
    assert message.content == "ab"


def test_token_usage_adds_up():
    total = TokenUsage(10, 2) + TokenUsage(5, 1)
    assert total == TokenUsage(15, 3)
    assert total.total_tokens == 18


@pytest.mark.parametrize(
    "bad, words",
    [
        ({"role": "robot", "content": "hi"}, "unknown role 'robot'"),
        ({"content": "hi"}, "no 'role'"),
        ("hello", "must be a dict"),
        ({"role": "user", "content": 42}, "must be a string"),
        (
            {"role": "user", "content": "", "tool_calls": [{"function": {"name": "f"}}]},
            "only assistant",
        ),
        ({"role": "assistant", "tool_calls": [{"function": {"arguments": "{}"}}]}, "function name"),
        (
            {"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{x"}}]},
            "not valid JSON",
        ),
        (
            {"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "[1]"}}]},
            "must be a JSON object",
        ),
    ],
)
def test_malformed_messages_get_clear_errors(bad, words):
    with pytest.raises(MessageError, match=words):
        from_dicts([{"role": "user", "content": "ok"}, bad])


def test_bad_message_error_names_its_position():
    with pytest.raises(MessageError, match="message 1"):
        from_dicts([{"role": "user", "content": "ok"}, {"role": "nobody"}])
