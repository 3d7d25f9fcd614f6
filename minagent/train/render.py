"""From a conversation to training tokens: the chat-template text, and which tokens to learn.

Fine-tuning a chat model on agent runs means: render each conversation with the model's
own chat template (the text it will read at inference), tokenize it, and compute the loss
only on the tokens the model should *write*: the assistant turns, each with its
end-of-turn token so it learns to stop. The system prompt, the task and the observations
are context: predicting them would teach the model to imitate users and tools.

Where an assistant turn sits in the text is found by rendering the conversation twice
around it: the prompt up to the turn (with the generation prompt, as at inference) and the
conversation through the turn. The turn is what lies between.

One detail matters for a small model: at inference CodeAgent prefills each reply with
"```python\\nresult = ", and llama.cpp tokenizes that prefill on its own, ending in a lone
space token. Tokenizing the training text in one piece would instead merge that space into
the next word (" get"), a sequence the model never meets at inference. So each turn is
tokenized in pieces split where the prefill ends, exactly as the model will see it.

Example:
        pieces = text_pieces(template, [user("Hi"), assistant("Hello")], [False, True])
        pieces[-2:]  # -> [('Hello<|im_end|>', True), ('\\n', False)]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, redirect_stderr
from dataclasses import dataclass
from typing import Any

from minagent.agents import DEFAULT_CODE_PREFILL
from minagent.messages import Message
from minagent.templates import render, special_tokens_from_gguf, template_from_gguf
from minagent.train.trajectories import Trajectory

Tokenize = Callable[[str], list[int]]
"""Text -> token ids, special tokens like <|im_end|> parsed, no BOS added."""


class RenderError(ValueError):
    """The chat template does not render a conversation as a prefix of its continuation."""


@dataclass
class Example:
    """One training sequence: token ids, and for each whether the loss covers it."""

    ids: list[int]
    "Token ids of the whole rendered conversation."
    learn: list[bool]
    "True for the tokens of the assistant turns to learn (content and end-of-turn token)."


def text_pieces(
    template: str,
    messages: Sequence[Message],
    learn: Sequence[bool],
    prefill: str = "",
    eos_token: str = "<|im_end|>",
) -> list[tuple[str, bool]]:
    """The rendered conversation cut into pieces, each flagged True if the loss covers it.

    The pieces join to exactly `render(template, messages)`. Each learned assistant turn is
    one piece (its content and `eos_token`), or two when it starts with `prefill`.
    Example: [user("Hi"), assistant("Hello")] -> [("<|im_start|>...assistant\\n", False),
    ("Hello<|im_end|>", True), ("\\n", False)]
    """
    full = render(template, messages)
    pieces, done = [], 0
    for index, message in enumerate(messages):
        if message.role != "assistant" or not learn[index]:
            continue
        before = render(template, messages[:index], add_generation_prompt=True)
        through = render(template, messages[: index + 1])
        if not (full.startswith(before) and full.startswith(through)):
            raise RenderError(f"turn {index} does not render as a prefix of the conversation")
        start, end = len(before), through.rindex(eos_token) + len(eos_token)
        pieces.append((full[done:start], False))
        cut = start + len(prefill) if prefill and full.startswith(prefill, start) else start
        if cut > start:
            pieces.append((full[start:cut], True))
        pieces.append((full[cut:end], True))
        done = end
    pieces.append((full[done:], False))
    return [(text, flag) for text, flag in pieces if text]


def encode(pieces: Sequence[tuple[str, bool]], tokenize: Tokenize) -> Example:
    """Tokenize each piece on its own and flag its tokens with the piece's flag.

    Example: encode([("a", False), ("b", True)], tok) -> Example(ids=[...a..., ...b...],
    learn=[False, True])
    """
    ids, learn = [], []
    for text, flag in pieces:
        tokens = tokenize(text)
        ids += tokens
        learn += [flag] * len(tokens)
    return Example(ids, learn)


def trajectory_example(
    trajectory: Trajectory, template: str, tokenize: Tokenize, eos_token: str = "<|im_end|>"
) -> Example:
    """The training example of one trajectory; code turns are split at CodeAgent's prefill."""
    prefill = DEFAULT_CODE_PREFILL if trajectory.agent == "code" else ""
    pieces = text_pieces(template, trajectory.messages, trajectory.learn, prefill, eos_token)
    return encode(pieces, tokenize)


def embedded_template() -> tuple[str, str]:
    """The embedded model's chat template and end-of-turn token, read from its GGUF file."""
    return template_from_gguf(), special_tokens_from_gguf()["eos_token"]


def vocabulary(model_path: str | None = None) -> Any:
    """The GGUF model's vocabulary in llama.cpp (a `Llama` with no weights loaded), for
    `tokenize` and `detokenize`.

    A vocabulary-only model knows no training context length, so llama.cpp warns
    "possible training context overflow" on stderr for any context size; nothing overflows
    here (no context is ever evaluated), so that warning is kept off the learner's screen.
    """
    from llama_cpp import Llama

    from minagent.gguf import embedded_model_path

    with _stderr_silenced():
        return Llama(
            model_path=str(model_path or embedded_model_path()), vocab_only=True, verbose=False
        )


def llama_tokenizer(model_path: str | None = None) -> Tokenize:
    """The GGUF model's own tokenizer (llama.cpp, vocabulary only: no weights loaded).

    Training uses the very tokenizer inference uses, so the two cannot disagree.
    Example: llama_tokenizer()("<|im_end|>") -> [2]
    """
    vocab = vocabulary(model_path)
    return lambda text: vocab.tokenize(text.encode("utf-8"), add_bos=False, special=True)


@contextmanager
def _stderr_silenced() -> Iterator[None]:
    """Nothing written to stderr inside the block reaches the screen: neither through
    sys.stderr (llama-cpp-python's log callback prints there; in Jupyter it is the cell's
    output) nor to file descriptor 2 (C code writes there directly). Exceptions propagate."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null, redirect_stderr(null):
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
