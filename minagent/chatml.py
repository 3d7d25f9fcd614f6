"""Messages to prompt text (unit 01): ChatML by hand, then any model's Jinja chat template.

A model does not read a list of messages: it reads one string, written in the format it was
trained on. `to_chatml` writes one such format (ChatML, SmolLM2's and Qwen's) by hand.
`render_template` renders any model's template the way Hugging Face transformers does; it is
`minagent.templates.render` (read that module for the Jinja setup: the sandbox, trim_blocks and
lstrip_blocks, loopcontrols, raise_exception, tojson and strftime_now), with unit 01's signature.

This module is unit 01's solution, names and all, so a learner stuck on the unit can read it.

Example:
    >>> to_chatml([{"role": "user", "content": "Hi"}], add_generation_prompt=True)
    '<|im_start|>user\\nHi<|im_end|>\\n<|im_start|>assistant\\n'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from minagent.templates import render


def to_chatml(messages: Sequence[Mapping[str, str]], add_generation_prompt: bool = False) -> str:
    """Format chat messages as a ChatML prompt.

    Args:
        messages: dicts with "role" and "content" (strings).
        add_generation_prompt: end with the header of an assistant turn,
            "<|im_start|>assistant\\n", so the model's next tokens are its reply.

    Returns:
        One "<|im_start|>ROLE\\nCONTENT<|im_end|>\\n" block per message, in order, with the
        content exactly as given (no stripping: the model sees every space), then the
        generation prompt if asked.

    Example:
        >>> to_chatml([{"role": "tool", "content": "42"}])
        '<|im_start|>tool\\n42<|im_end|>\\n'
    """
    parts = [f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages]
    if add_generation_prompt:
        parts.append("<|im_start|>assistant\n")
    return "".join(parts)


def render_template(
    template: str,
    messages: Sequence[Mapping[str, Any]],
    add_generation_prompt: bool = False,
    **extra: Any,
) -> str:
    """Render a Jinja2 chat template the way transformers' apply_chat_template does.

    Args:
        template: the chat template text (Jinja2).
        messages: dicts with "role" and "content" (and whatever else the template reads,
            such as "tool_calls").
        add_generation_prompt: passed to the template, which then ends the prompt with the
            header of an assistant turn.
        **extra: more variables for the template: bos_token, eos_token, tools, ...

    Returns:
        The prompt text.

    Raises:
        jinja2.exceptions.TemplateError: the template called raise_exception(message) (the
            error's message contains that message), or tried something the sandbox forbids.

    Example:
        >>> render_template("{{ messages[0].content }}!", [{"role": "user", "content": "Hi"}])
        'Hi!'
    """
    return render(template, messages, add_generation_prompt=add_generation_prompt, **extra)
