"""Plausible wrong solutions for unit 03 (the ReAct loop), one learner mistake each.

Each wrong answer is the solution cell of `solutions/03-react-loop/03-react-loop.ipynb` with
one edit, written as (what the solution says, what the learner wrote instead), so the list stays
in step with the notebook. `tests/test_units.py` swaps each into the released notebook and
checks that the exercise loses points.
"""

from grader.mistakes import solution_editor

_edit = solution_editor("03-react-loop")


WRONG = {
    "parse_react_step": [
        # No cut at "Observation:": an invented observation and answer are acted on.
        _edit(
            "parse_react_step",
            ('    text = re.split(r"^\\s*Observation:", text, flags=re.MULTILINE)[0]\n', ""),
        ),
        # json.loads on everything after "Action Input:": trailing text breaks it.
        _edit(
            "parse_react_step",
            ("arguments, _ = json.JSONDecoder().raw_decode(raw)", "arguments = json.loads(raw)"),
        ),
        # The JSON error escapes as json.JSONDecodeError, not a ReactParseError.
        _edit(
            "parse_react_step",
            (
                "    except json.JSONDecodeError as err:\n        raise ReactParseError(",
                "    except KeyError as err:\n        raise ReactParseError(",
            ),
        ),
    ],
    "run_tool_agent": [
        # No stop sequence: the model's invented observation goes into memory.
        _edit(
            "run_tool_agent",
            (
                "reply = model.generate(memory, stop=[OBSERVATION_STOP])",
                "reply = model.generate(memory)",
            ),
        ),
        # Parse errors are not caught: one bad reply crashes the run.
        _edit(
            "run_tool_agent",
            ("        except ReactParseError as err:\n", "        except KeyError as err:\n"),
        ),
        # An unknown tool is looked up blindly (KeyError).
        _edit(
            "run_tool_agent",
            ("            if step.action in by_name:\n", "            if True:\n"),
        ),
        # Out of steps, the run quietly returns None.
        _edit(
            "run_tool_agent",
            (
                '    raise AgentMaxStepsError(f"no final answer after {max_steps} steps")',
                "    return None",
            ),
        ),
        # Off by one: max_steps + 1 model calls.
        _edit(
            "run_tool_agent",
            ("    for _ in range(max_steps):", "    for _ in range(max_steps + 1):"),
        ),
    ],
}
