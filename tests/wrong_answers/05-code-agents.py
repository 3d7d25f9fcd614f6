"""Plausible wrong solutions for unit 05 (code agents), one learner mistake each.

Each wrong answer is the solution cell of `solutions/05-code-agents/05-code-agents.ipynb` with
one edit, written as (what the solution says, what the learner wrote instead), so the list stays
in step with the notebook. `tests/test_units.py` swaps each into the released notebook and
checks that the exercise loses points.
"""

import textwrap

from grader.mistakes import solution_editor

_edit = solution_editor("05-code-agents")


FINDALL = 'blocks = re.findall(r"```(?:python|py)?[ \\t]*\\n(.*?)(?:\\n```|\\Z)", text, re.DOTALL)'
ONE_INTERPRETER = (
    "    interpreter = Interpreter(\n"
    "        authorized_imports=AUTHORIZED_IMPORTS, tools={t.name: t for t in tools}\n"
    "    )\n"
)

WRONG = {
    "extract_code": [
        # A closing fence is required: the block a stop sequence cut short is lost.
        _edit(
            "extract_code",
            (FINDALL, FINDALL.replace("(?:\\n```|\\Z)", "\\n```")),
        ),
        # Only the first block is read (re.search instead of re.findall).
        _edit(
            "extract_code",
            (
                FINDALL,
                'found = re.search(r"```(?:python|py)?[ \\t]*\\n(.*?)(?:\\n```|\\Z)", text, '
                "re.DOTALL)\n    blocks = [found.group(1)] if found else []",
            ),
        ),
        # Only ```python opens a block: ```py and bare fences are ignored.
        _edit(
            "extract_code",
            (FINDALL, FINDALL.replace("```(?:python|py)?", "```python")),
        ),
    ],
    "run_code_agent": [
        # A new interpreter for every step: variables are forgotten between steps.
        _edit(
            "run_code_agent",
            (ONE_INTERPRETER, ""),
            (
                "            result = interpreter.run(code)",
                textwrap.indent(ONE_INTERPRETER, " " * 8)
                + "            result = interpreter.run(code)",
            ),
        ),
        # No stop sequences: the model's invented observation and next block run too.
        _edit(
            "run_code_agent",
            ("reply = model.generate(memory, stop=CODE_STOP)", "reply = model.generate(memory)"),
        ),
        # Only parse errors are caught: failing code crashes the run.
        _edit(
            "run_code_agent",
            ("        except InterpreterError as err:\n", "        except KeyError as err:\n"),
        ),
        # What the code printed before failing is dropped from the observation.
        _edit(
            "run_code_agent",
            ("f\"{getattr(err, 'logs', '')}Error: {err}\"", 'f"Error: {err}"'),
        ),
    ],
}
