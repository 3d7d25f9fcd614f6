"""Plausible wrong solutions for unit 06 (evaluating agents), one learner mistake each.

Each wrong answer is the solution cell of
`solutions/06-evaluating-agents/06-evaluating-agents.ipynb` with one edit, written as (what the
solution says, what the learner wrote instead), so the list stays in step with the notebook.
`tests/test_units.py` swaps each into the released notebook and checks that the exercise loses
points.
"""

from grader.mistakes import solution_editor

_edit = solution_editor("06-evaluating-agents")


WRONG = {
    "run_eval": [
        # No try/except: the first run that raises takes the whole eval down with it.
        _edit(
            "run_eval",
            (
                "        try:\n"
                "            answer = agent.run(task.question)\n"
                "        except Exception as err:"
                "  # a crashed run is a failed task, not a failed eval\n"
                '            error = f"{type(err).__name__}: {err}"\n',
                "        answer = agent.run(task.question)\n",
            ),
        ),
        # Mean tokens over the successful tasks only: failures (the costly runs) vanish.
        _edit(
            "run_eval",
            (
                '"mean_tokens": sum(r.tokens for r in results) / count,',
                '"mean_tokens": sum(r.tokens for r in results if r.success)\n'
                "        / max(1, sum(r.success for r in results)),",
            ),
        ),
        # Every token priced as an input token: output tokens cost four times more.
        _edit(
            "run_eval",
            (
                "            prompt_tokens=usage.input_tokens,\n"
                "            completion_tokens=usage.output_tokens,\n",
                "            prompt_tokens=usage.total_tokens,\n            completion_tokens=0,\n",
            ),
        ),
        # The trajectory check ignores order: population before capital passes.
        _edit(
            "run_eval",
            (
                "else called_in_order(trajectory, expected)",
                "else set(expected) <= set(trajectory)",
            ),
        ),
    ],
    "judge": [
        # The first "score" wins: a judge that restates the rubric first is misread.
        _edit("judge", ("number, scale = found[-1]", "number, scale = found[0]")),
        # The last number in the reply: "Score: 4/5" reads as 5.
        _edit(
            "judge",
            (
                "    found = SCORE_RE.findall(reply)\n",
                '    found = [(number, "") for number in re.findall(r"\\d+", reply)]\n',
            ),
        ),
        # No retry: a judge that forgot the score once is a JudgeError straight away.
        _edit("judge", ("for attempt in range(2):", "for attempt in range(1):")),
        # Out-of-scale scores clamped into 1..SCALE instead of asked again.
        _edit(
            "judge",
            (
                "return score if 1 <= score <= SCALE else None",
                "return min(max(score, 1), SCALE)",
            ),
        ),
    ],
}
