"""The agents' prompts: Jinja2 template files next to this module, rendered strictly.

Keeping prompts out of the Python code lets a learner read (and edit) every word the model
sees in one place. Rendering uses `StrictUndefined`, so a template that names a variable the
caller did not pass fails loudly instead of silently printing an empty string.

Example:
    >>> render_prompt("observation.j2", observation="4", error=None, repeats=None)
    'Observation:\\n4'
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

PROMPTS_DIR = Path(__file__).parent


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROMPTS_DIR),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render_prompt(name: str, **variables: object) -> str:
    """Render the template file `name` with `variables`; a missing variable raises.

    Raises:
        jinja2.UndefinedError: the template uses a variable that was not given.
    """
    return _environment().get_template(name).render(**variables).strip()
