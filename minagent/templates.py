"""Chat templates: turn a list of messages (and tools) into the prompt text a model reads.

A chat model is still a text model: it was trained on conversations written in
one exact format, with special markers around each turn. The format lives next
to the weights as a Jinja2 template (``tokenizer.chat_template`` in Hugging
Face's tokenizer_config.json, or in a GGUF file's metadata). Rendering it with
the wrong whitespace gives the model text it never saw in training, so
``render`` copies Hugging Face transformers' ``apply_chat_template`` exactly:
the same sandboxed Jinja2 environment, the same options and helpers, the same
variables. The tests check the output byte for byte against transformers.

Example:
    >>> chatml = ("{% for m in messages %}<|im_start|>{{ m.role }}\\n{{ m.content }}<|im_end|>\\n"
    ...           "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\\n{% endif %}")
    >>> render(chatml, [{"role": "user", "content": "Hi"}], add_generation_prompt=True)
    '<|im_start|>user\\nHi<|im_end|>\\n<|im_start|>assistant\\n'

The second half of the module reads the template stored inside a GGUF model
file, with a small reader for GGUF's metadata header.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

import jinja2
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

from minagent.messages import Message
from minagent.tools import Tool, function_to_schema


class TemplateError(jinja2.TemplateError):
    """A chat template refused the conversation (``raise_exception``) or is broken.

    It is a jinja2.TemplateError, as in transformers, so code that catches that still works.
    """


# ---------------------------------------------------------------------------
# The Jinja2 environment, as transformers builds it
# ---------------------------------------------------------------------------


def _raise_exception(message: str) -> None:
    """Templates call ``raise_exception("...")`` to reject a conversation they cannot format
    (say, roles that do not alternate)."""
    raise TemplateError(f"the chat template rejected the conversation: {message}")


def _tojson(
    value: Any,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    """JSON for the prompt. Jinja's own ``tojson`` escapes <, >, & and ' for HTML, which
    would change the text the model sees, so transformers replaces it with plain json.dumps."""
    return json.dumps(
        value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
    )


def _strftime_now(format: str) -> str:
    """Today's date in the template's format: Llama 3.x puts it in the system prompt."""
    return datetime.now().strftime(format)


class _GenerationTag(Extension):
    """``{% generation %}...{% endgeneration %}`` marks the assistant's part of a template
    (transformers uses it to build training masks). For a prompt it renders its body as
    is, in its own scope like transformers' version; we only need such templates to work."""

    tags = {"generation"}

    def parse(self, parser: Any) -> jinja2.nodes.Node:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        call = self.call_method("_render_body")
        return jinja2.nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    def _render_body(self, caller: Callable[[], str]) -> str:
        return caller()


TEMPLATE_CACHE_SIZE = 32
"""How many compiled templates we keep: one per model in use is plenty."""


@lru_cache(maxsize=TEMPLATE_CACHE_SIZE)
def compile_template(template: str) -> jinja2.Template:
    """Compile a chat template once (templates are long and rendered at every step).

    The environment is the one transformers uses: sandboxed, because templates come
    from model repositories and are untrusted code; immutable, so a template cannot
    modify the messages it is given; ``trim_blocks`` and ``lstrip_blocks``, so a
    ``{% tag %}`` on its own line leaves no blank line or indentation behind;
    ``loopcontrols`` for ``{% break %}`` and ``{% continue %}``.

    (transformers also swaps in a stricter ``namespace`` and ``dict`` for defence in
    depth; they render the same text, so we keep Jinja's own for readability.)
    """
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[_GenerationTag, loopcontrols]
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    try:
        return env.from_string(template)
    except jinja2.TemplateSyntaxError as err:
        raise TemplateError(
            f"the chat template has a syntax error at line {err.lineno}: {err}"
        ) from err


# ---------------------------------------------------------------------------
# What the template sees
# ---------------------------------------------------------------------------


def _message_dict(message: Message | Mapping[str, Any], index: int) -> dict[str, Any]:
    """One message as the dict a template reads; keys whose value is None are dropped,
    as transformers does (many templates print "None" or crash on them)."""
    if isinstance(message, Message):
        data = message.to_dict()
        # The OpenAI API carries tool arguments as a JSON string; chat templates expect
        # the dict (they write it with tojson themselves).
        for call in data.get("tool_calls", []):
            call["function"]["arguments"] = json.loads(call["function"]["arguments"])
    elif isinstance(message, Mapping):
        data = dict(message)
    else:
        raise TemplateError(
            f"message {index} must be a Message or a dict like {{'role': 'user', 'content': "
            f"'Hi'}}, got {type(message).__name__}"
        )
    return {key: value for key, value in data.items() if value is not None}


def tool_schemas(tools: Sequence[Tool | Mapping | Callable] | None) -> list[dict] | None:
    """Tools as the JSON schemas templates list: a Tool's ``.schema``, a function's
    ``function_to_schema``, a dict as given.

    Example: ``tool_schemas([{"type": "function", ...}])`` -> the same list
    """
    if tools is None:
        return None
    schemas = []
    for item in tools:
        if isinstance(item, Tool):
            schemas.append(item.schema)
        elif isinstance(item, Mapping):
            schemas.append(dict(item))
        elif callable(item):
            schemas.append(function_to_schema(item))
        else:
            raise TemplateError(
                f"a tool must be a Tool, a JSON schema dict or a documented function, got "
                f"{type(item).__name__}"
            )
    return schemas


# Options of transformers' apply_chat_template that are about tokens, not text. It consumes
# them itself; passed on to the template they would be variables it ignores, so the caller
# would never learn that render did not do what they asked.
TOKENIZER_OPTIONS = (
    "tokenize", "return_dict", "return_tensors", "padding", "truncation", "max_length",
    "tokenizer_kwargs", "sanitize_control_tokens",
)  # fmt: skip


def _refuse_tokenizer_options(extra: Mapping[str, Any]) -> None:
    """Raise TypeError for the apply_chat_template options that render does not take."""
    if "chat_template" in extra:
        raise TypeError("the template is render's first argument: drop chat_template=")
    if extra.get("return_assistant_tokens_mask"):
        raise TypeError(
            "render returns text, which has no assistant tokens mask: use "
            "tokenizer.apply_chat_template(..., return_assistant_tokens_mask=True)"
        )
    for name in TOKENIZER_OPTIONS:
        # tokenize=False is the one value that asks for what render does anyway.
        if name in extra and not (name == "tokenize" and extra[name] is False):
            raise TypeError(
                f"render returns text, so it takes no {name}=: tokenize the text with the "
                "model's tokenizer (or use tokenizer.apply_chat_template)"
            )


# transformers finds where the final message ends by appending this tag to it, rendering,
# and cutting the text at the tag: whatever the template writes after the message (the
# end-of-turn marker) goes. The same tag gives the same cut.
CONTINUE_TAG = "CONTINUE_FINAL_MESSAGE_TAG "


def _tag_final_message(messages: list[dict[str, Any]], field: str, template: str) -> str:
    """Append CONTINUE_TAG to the final message's ``field`` (its last text block, when it is
    a list of blocks), in place, and return that text as it was."""
    final = messages[-1]
    value = final.get(field)
    if value is None:
        raise TemplateError(
            f'continue_final_message: the final message has no "{field}" to continue'
        )
    if field not in template:
        raise TemplateError(
            f'continue_final_message: "{field}" is not a field the chat template reads'
        )
    if not isinstance(value, (list, tuple)):
        messages[-1] = {**final, field: value + CONTINUE_TAG}
        return value
    blocks = [dict(block) for block in value]  # copies: the caller's blocks stay as they are
    for block in reversed(blocks):
        if "text" in block:
            text, block["text"] = block["text"], block["text"] + CONTINUE_TAG
            messages[-1] = {**final, field: blocks}
            return text
    raise TemplateError("continue_final_message: the final message has no text to continue")


def _cut_after_final_message(prompt: str, text: str) -> str:
    """``prompt`` up to the end of the tagged final message (see CONTINUE_TAG)."""
    tag = CONTINUE_TAG.strip()
    if text.strip() not in prompt or tag not in prompt:
        raise TemplateError(
            "continue_final_message: the final message does not appear in the rendered chat "
            "(the template changes or drops it), so there is no place to leave it open"
        )
    end = prompt.rindex(tag)
    if prompt.startswith(CONTINUE_TAG, end):
        return prompt[:end]
    # The template trimmed the message (and the tag's space): trim what precedes the tag too.
    return prompt[:end].rstrip()


def render(
    template: str,
    messages: Sequence[Message | Mapping[str, Any]],
    tools: Sequence[Tool | Mapping | Callable] | None = None,
    add_generation_prompt: bool = False,
    documents: Sequence[Mapping[str, Any]] | None = None,
    continue_final_message: bool | str = False,
    **extra: Any,
) -> str:
    """Render a conversation with a chat template, exactly as transformers'
    ``tokenizer.apply_chat_template(messages, tokenize=False, ...)`` does.

    Args:
        template: the Jinja2 chat template text.
        messages: Message objects or OpenAI-style dicts.
        tools: Tool objects, documented functions, or JSON schema dicts.
        add_generation_prompt: end with the header of an assistant turn, so the
            model's next tokens are its reply.
        documents: for retrieval templates, dicts with "title" and "text".
        continue_final_message: leave the final message open (no end-of-turn
            marker after it), so the model continues it: a "prefill". A string names
            the field to continue instead of "content", e.g. "reasoning_content".
        **extra: any other variable the template reads, e.g. ``bos_token="<s>"``,
            ``date_string="26 Jul 2024"``.

    Returns:
        The prompt text.

    Example: ``render("{{ messages[0].content }}", [{"role": "user", "content": "Hi"}])``
    -> ``"Hi"``; on ChatML, ``render(chatml, [user("2+2?"), assistant("It is")],
    continue_final_message=True)`` ends with ``"<|im_start|>assistant\\nIt is"``.

    Raises:
        TemplateError: an empty conversation, a bad message, a broken template, a
            template that rejects the conversation with raise_exception, or a final
            message that cannot be left open.
        ValueError: both continue_final_message and add_generation_prompt.
        TypeError: an apply_chat_template option about tokens (tokenize=True, padding...).
    """
    _refuse_tokenizer_options(extra)
    extra.pop("tokenize", None)
    if continue_final_message and add_generation_prompt:
        raise ValueError(
            "either continue_final_message or add_generation_prompt: one continues the final "
            "message, the other starts a new assistant message (they are not compatible)"
        )
    if not messages:
        raise TemplateError("cannot render an empty conversation: give at least one message")
    if documents is not None and not all(isinstance(doc, Mapping) for doc in documents):
        raise TemplateError("documents must be dicts with 'title' and 'text' keys")
    compiled = compile_template(template)
    chat = [_message_dict(message, i) for i, message in enumerate(messages)]
    if continue_final_message:
        field = continue_final_message if isinstance(continue_final_message, str) else "content"
        final_text = _tag_final_message(chat, field, template)
    variables = {
        "messages": chat,
        "tools": tool_schemas(tools),
        "documents": documents,
        "add_generation_prompt": add_generation_prompt,
        **extra,
    }
    try:
        prompt = compiled.render(**variables)
    except jinja2.TemplateError:
        raise  # raise_exception, sandbox violations: already clear
    except Exception as err:
        # A template that assumes what it was not given (tools=None, a missing key)
        # fails deep inside Jinja; say where the problem is.
        raise TemplateError(
            f"the chat template failed on this conversation ({type(err).__name__}: {err}); "
            "check that it gets what it expects (tools? a system message? roles in order?)"
        ) from err
    return _cut_after_final_message(prompt, final_text) if continue_final_message else prompt


# ---------------------------------------------------------------------------
# The template inside a GGUF model file
# ---------------------------------------------------------------------------
# A GGUF file starts with a header: the magic bytes "GGUF", a version, the number of
# tensors, the number of metadata entries, then the entries themselves, each a key
# (a length-prefixed string), a type code and a value. The chat template is the
# string entry "tokenizer.chat_template". All numbers are little-endian.
# Spec: the GGUF document in the ggml repository (docs/gguf.md).

GGUF_MAGIC = b"GGUF"
GGUF_VERSIONS = (2, 3)  # version 1 used 32-bit lengths and is long gone
CHAT_TEMPLATE_KEY = "tokenizer.chat_template"

# A corrupt or hostile file can claim any length; these caps stop us reading (or
# allocating) gigabytes because of one bad number. Real files are far below them.
MAX_GGUF_STRING_BYTES = 16 * 1024 * 1024
"""Longest metadata string we accept (chat templates are a few KB)."""
MAX_GGUF_ENTRIES = 100_000
"""Most metadata entries we accept (real files have a few dozen)."""
MAX_GGUF_ARRAY_ITEMS = 10_000_000
"""Most items in one metadata array (a 256k vocabulary has 256k tokens)."""

# Type code -> struct format of the scalar types. 8 is a string, 9 an array.
GGUF_SCALARS = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i",
    6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d",
}  # fmt: skip
GGUF_STRING, GGUF_ARRAY = 8, 9


class GGUFError(ValueError):
    """A file is not a GGUF file we can read, or lacks the metadata asked for."""


def _read(f: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) < size:
        raise GGUFError(f"{f.name}: the file ends in the middle of its metadata (truncated?)")
    return struct.unpack(fmt, data)[0]


def _read_string(f: BinaryIO) -> str:
    length = _read(f, "<Q")
    if length > MAX_GGUF_STRING_BYTES:
        raise GGUFError(f"{f.name}: a metadata string claims {length} bytes; the file is corrupt")
    data = f.read(length)
    if len(data) < length:
        raise GGUFError(f"{f.name}: the file ends in the middle of a string (truncated?)")
    return data.decode("utf-8", errors="replace")


def _read_value(f: BinaryIO, type_code: int, keep: bool) -> Any:
    """Read (or, when not ``keep``, skip cheaply) one metadata value."""
    if type_code in GGUF_SCALARS:
        return _read(f, GGUF_SCALARS[type_code])
    if type_code == GGUF_STRING:
        return _read_string(f)
    if type_code != GGUF_ARRAY:
        raise GGUFError(f"{f.name}: unknown metadata type code {type_code}; the file is corrupt")
    item_type, count = _read(f, "<I"), _read(f, "<Q")
    if count > MAX_GGUF_ARRAY_ITEMS:
        raise GGUFError(f"{f.name}: a metadata array claims {count} items; the file is corrupt")
    if not keep and item_type in GGUF_SCALARS:
        # Fixed-size items we don't want: jump over them instead of decoding each one.
        f.seek(count * struct.calcsize(GGUF_SCALARS[item_type]), 1)
        return None
    return [_read_value(f, item_type, keep) for _ in range(count)]


def read_gguf_metadata(path: str | Path, keys: set[str] | None = None) -> dict[str, Any]:
    """The metadata of a GGUF file, or only the entries named in ``keys`` (reading
    stops as soon as they are all found).

    Example: ``read_gguf_metadata(path, {"general.name"})`` -> ``{"general.name": "SmolLM2"}``
    """
    found: dict[str, Any] = {}
    with open(path, "rb") as f:
        if f.read(4) != GGUF_MAGIC:
            raise GGUFError(f"{path} is not a GGUF file (it does not start with b'GGUF')")
        version = _read(f, "<I")
        if version not in GGUF_VERSIONS:
            raise GGUFError(f"{path}: GGUF version {version} is not supported (only 2 and 3)")
        _tensor_count, entry_count = _read(f, "<Q"), _read(f, "<Q")
        if entry_count > MAX_GGUF_ENTRIES:
            raise GGUFError(f"{path} claims {entry_count} metadata entries; the file is corrupt")
        for _ in range(entry_count):
            key, type_code = _read_string(f), _read(f, "<I")
            wanted = keys is None or key in keys
            value = _read_value(f, type_code, keep=wanted)
            if wanted:
                found[key] = value
                if keys is not None and keys <= found.keys():
                    break
    return found


def _model_path(path: str | Path | None) -> Path:
    if path is not None:
        return Path(path)
    from minagent.gguf import embedded_model_path

    return embedded_model_path()


def template_from_gguf(path: str | Path | None = None) -> str:
    """The chat template stored in a GGUF model file (default: the embedded SmolLM2).

    Example: ``render(template_from_gguf(), [user("Hi")], add_generation_prompt=True)``
    -> ``"<|im_start|>system\\nYou are a helpful AI assistant named SmolLM, ..."``
    """
    path = _model_path(path)
    metadata = read_gguf_metadata(path, {CHAT_TEMPLATE_KEY})
    if CHAT_TEMPLATE_KEY not in metadata:
        raise GGUFError(f"{path} has no chat template ({CHAT_TEMPLATE_KEY!r} is not in it)")
    return metadata[CHAT_TEMPLATE_KEY]


def special_tokens_from_gguf(path: str | Path | None = None) -> dict[str, str]:
    """The text of the model's begin- and end-of-sequence tokens, as the ``bos_token`` and
    ``eos_token`` variables that some templates print (Llama's starts with ``{{ bos_token }}``).

    Example: ``special_tokens_from_gguf()`` -> ``{"bos_token": "<|im_start|>", "eos_token":
    "<|im_end|>"}``
    """
    wanted = {"tokenizer.ggml.tokens", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"}
    metadata = read_gguf_metadata(_model_path(path), wanted)
    tokens = metadata.get("tokenizer.ggml.tokens", [])
    special = {}
    for name in ("bos", "eos"):
        token_id = metadata.get(f"tokenizer.ggml.{name}_token_id")
        if token_id is not None and 0 <= token_id < len(tokens):
            special[f"{name}_token"] = tokens[token_id]
    return special
