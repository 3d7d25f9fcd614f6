"""Plausible wrong solutions for unit 01 (chat templates): each must lose points.

tests/test_units.py swaps each source below into the solution cell of the released notebook
and checks that the exercise's tests fail.
"""

WRONG = {
    "to_chatml": [
        # Joins the blocks with newlines: the last block loses its newline.
        """
def to_chatml(messages, add_generation_prompt=False):
    parts = [f"<|im_start|>{m['role']}\\n{m['content']}<|im_end|>" for m in messages]
    if add_generation_prompt:
        parts.append("<|im_start|>assistant\\n")
    return "\\n".join(parts)
""",
        # Generation prompt without the newline after the role.
        """
def to_chatml(messages, add_generation_prompt=False):
    text = "".join(f"<|im_start|>{m['role']}\\n{m['content']}<|im_end|>\\n" for m in messages)
    if add_generation_prompt:
        text += "<|im_start|>assistant"
    return text
""",
        # Tidies the content: the model no longer sees what it was given.
        """
def to_chatml(messages, add_generation_prompt=False):
    text = ""
    for m in messages:
        text += "<|im_start|>" + m["role"] + "\\n" + m["content"].strip() + "<|im_end|>\\n"
    if add_generation_prompt:
        text += "<|im_start|>assistant\\n"
    return text
""",
        # Copies SmolLM2's default system message into plain ChatML.
        """
def to_chatml(messages, add_generation_prompt=False):
    text = ""
    if not messages or messages[0]["role"] != "system":
        text += "<|im_start|>system\\nYou are a helpful AI assistant named SmolLM, "
        text += "trained by Hugging Face<|im_end|>\\n"
    for m in messages:
        text += f"<|im_start|>{m['role']}\\n{m['content']}<|im_end|>\\n"
    if add_generation_prompt:
        text += "<|im_start|>assistant\\n"
    return text
""",
    ],
    "render_template": [
        # Plain Jinja: no sandbox, no whitespace control, no helpers.
        """
import jinja2


def render_template(template, messages, add_generation_prompt=False, **extra):
    return jinja2.Template(template).render(
        messages=messages, add_generation_prompt=add_generation_prompt, **extra
    )
""",
        # Sandboxed with helpers, but forgets trim_blocks/lstrip_blocks.
        """
import json

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


def render_template(template, messages, add_generation_prompt=False, **extra):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    env = ImmutableSandboxedEnvironment(extensions=[loopcontrols])
    env.globals["raise_exception"] = raise_exception
    env.filters["tojson"] = lambda value, indent=None: json.dumps(
        value, ensure_ascii=False, indent=indent
    )
    return env.from_string(template).render(
        messages=messages, add_generation_prompt=add_generation_prompt, **extra
    )
""",
        # Keeps Jinja's own tojson (HTML-escaped, keys sorted).
        """
from datetime import datetime

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


def render_template(template, messages, add_generation_prompt=False, **extra):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols]
    )
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env.from_string(template).render(
        messages=messages, add_generation_prompt=add_generation_prompt, **extra
    )
""",
        # A sandbox, but a mutable one: templates can change the messages.
        """
import json
from datetime import datetime

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import SandboxedEnvironment


def render_template(template, messages, add_generation_prompt=False, **extra):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(value, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(
            value,
            ensure_ascii=ensure_ascii,
            indent=indent,
            separators=separators,
            sort_keys=sort_keys,
        )

    env = SandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    env.filters["tojson"] = tojson
    return env.from_string(template).render(
        messages=messages, add_generation_prompt=add_generation_prompt, **extra
    )
""",
        # Everything but the sandbox: a template can walk to Python internals.
        """
import json
from datetime import datetime

import jinja2
from jinja2.ext import loopcontrols


def render_template(template, messages, add_generation_prompt=False, **extra):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(value, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(
            value,
            ensure_ascii=ensure_ascii,
            indent=indent,
            separators=separators,
            sort_keys=sort_keys,
        )

    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    env.filters["tojson"] = tojson
    return env.from_string(template).render(
        messages=messages, add_generation_prompt=add_generation_prompt, **extra
    )
""",
    ],
}
