"""Plausible wrong solutions for unit 01 (chat templates), one learner mistake each.

Each wrong answer is the solution cell of `solutions/01-chat-templates/01-chat-templates.ipynb`
with one edit, written as (what the solution says, what the learner wrote instead), so the list
stays in step with the notebook. `tests/test_units.py` swaps each into the released notebook
and checks that the exercise loses points.
"""

from grader.mistakes import solution_editor

_edit = solution_editor("01-chat-templates")

ENVIRONMENT = """    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols]
    )"""

WRONG = {
    "to_chatml": [
        # Joins the blocks with newlines: the last block loses its newline.
        _edit(
            "to_chatml",
            ("{m['content']}<|im_end|>\\n\"", "{m['content']}<|im_end|>\""),
            ('return "".join(parts)', 'return "\\n".join(parts)'),
        ),
        # Generation prompt without the newline after the role.
        _edit(
            "to_chatml",
            ('parts.append("<|im_start|>assistant\\n")', 'parts.append("<|im_start|>assistant")'),
        ),
        # Tidies the content: the model no longer sees what it was given.
        _edit("to_chatml", ("{m['content']}", "{m['content'].strip()}")),
        # Copies SmolLM2's default system message into plain ChatML.
        _edit(
            "to_chatml",
            (
                "    if add_generation_prompt:",
                "    if not messages or messages[0]['role'] != 'system':\n"
                "        parts.insert(0, '<|im_start|>system\\nYou are a helpful AI assistant "
                "named SmolLM, trained by Hugging Face<|im_end|>\\n')\n"
                "    if add_generation_prompt:",
            ),
        ),
    ],
    "render_template": [
        # Plain Jinja: no sandbox, no whitespace control.
        _edit("render_template", (ENVIRONMENT, "    env = jinja2.Environment()")),
        # Sandboxed with helpers, but forgets trim_blocks/lstrip_blocks.
        _edit(
            "render_template",
            (ENVIRONMENT, "    env = ImmutableSandboxedEnvironment(extensions=[loopcontrols])"),
        ),
        # Keeps Jinja's own tojson (HTML-escaped, keys sorted).
        _edit("render_template", ('    env.filters["tojson"] = tojson\n', "")),
        # A sandbox, but a mutable one: templates can change the messages.
        _edit(
            "render_template",
            (
                "from jinja2.sandbox import ImmutableSandboxedEnvironment",
                "from jinja2.sandbox import SandboxedEnvironment",
            ),
            ("env = ImmutableSandboxedEnvironment(", "env = SandboxedEnvironment("),
        ),
        # Everything but the sandbox: a template can walk to Python internals.
        _edit(
            "render_template", ("env = ImmutableSandboxedEnvironment(", "env = jinja2.Environment(")
        ),
    ],
}
