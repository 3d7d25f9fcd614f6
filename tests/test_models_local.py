"""LocalModel: the embedded SmolLM2-135M-Instruct, run for real by llama.cpp."""

import json

import pytest

from minagent.messages import assistant, system, user
from minagent.models import (
    JSON_STRING_CHAR,
    LocalModel,
    ModelError,
    embedded_model_path,
    schema_grammar,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model():
    return LocalModel()


def test_the_gguf_file_ships_in_the_wheel():
    path = embedded_model_path()
    assert path.suffix == ".gguf" and path.stat().st_size > 50_000_000


def test_generate_returns_an_assistant_message_with_usage(model):
    reply = model.generate(
        [system("Be brief."), user("What is the capital of France?")], max_tokens=16
    )
    assert reply.role == "assistant" and reply.content.strip()
    assert reply.usage.input_tokens == model.count_tokens(
        model.render([system("Be brief."), user("What is the capital of France?")])
    )
    assert 0 < reply.usage.output_tokens <= 16


def test_greedy_decoding_is_repeatable(model):
    messages = [user("Name a color.")]
    assert (
        model.generate(messages, max_tokens=8).content
        == model.generate(messages, max_tokens=8).content
    )


def test_the_prompt_uses_the_gguf_chat_template(model):
    prompt = model.render([user("Hi")])
    assert prompt.endswith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")


def test_a_final_assistant_message_is_continued(model):
    reply = model.generate(
        [user("Compute 2 + 3 in Python."), assistant("```python\nresult = ")],
        stop=["```"],
        max_tokens=16,
    )
    assert reply.content.startswith("```python\nresult = ")
    assert model.render([user("x"), assistant("abc")]).endswith("<|im_start|>assistant\nabc")


def test_stop_sequences_stop_raw_completion(model):
    prompt = "Question: what is 1 + 1?\nThought: I should add.\nAction:"
    text = model.complete(prompt, stop=["\n"], max_tokens=32)
    assert "\n" not in text


def test_json_schema_constrains_even_a_tiny_model(model):
    schema = {
        "type": "object",
        "properties": {"tool": {"enum": ["add", "search"]}, "query": {"type": "string"}},
        "required": ["tool", "query"],
    }
    reply = model.generate(
        [user("Search the web for llamas. Reply in JSON.")], json_schema=schema, max_tokens=48
    )
    data = json.loads(reply.content)
    assert data["tool"] in {"add", "search"} and isinstance(data["query"], str)


def test_constrained_strings_are_json_strings(model):
    # Left to llama-cpp-python's converter, this poem comes back with raw line breaks
    # inside the string, which no JSON parser accepts.
    assert JSON_STRING_CHAR in schema_grammar({"type": "string"})
    schema = {
        "type": "object",
        "properties": {"poem": {"type": "string", "maxLength": 60}},
        "required": ["poem"],
    }
    prompt = [user("Write a poem of four short lines about rain. Reply in JSON.")]
    reply = model.generate(prompt, json_schema=schema, max_tokens=80, temperature=0.0)
    assert json.loads(reply.content)["poem"]


def test_grammar_constrains_a_choice(model):
    reply = model.generate(
        [user("Is the sky green? Answer yes or no.")], grammar='root ::= "yes" | "no"', max_tokens=4
    )
    assert reply.content in {"yes", "no"}


def test_stream_yields_pieces_that_add_up(model):
    messages = [user("Say hello.")]
    assert (
        "".join(model.stream(messages, max_tokens=8))
        == model.generate(messages, max_tokens=8).content
    )


def test_a_prompt_longer_than_the_context_is_refused_clearly(model):
    with pytest.raises(ModelError, match="context"):
        model.generate([user("word " * 9000)], max_tokens=8)


def test_weights_load_once_per_process(model):
    assert LocalModel().llm is model.llm


def test_a_missing_model_file_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        LocalModel(tmp_path / "nope.gguf")
