"""Plausible wrong solutions for unit 08 (fine-tuning a model to act), one mistake each.

Each wrong answer is the solution cell of the unit's solution notebook with one edit, written as
(what the solution says, what the learner wrote instead), so the list stays in step with the
notebook. `tests/test_units.py` swaps each into the released notebook and checks that the
exercise loses points.
"""

from grader.mistakes import solution_editor

_edit = solution_editor("08-fine-tuning")


WRONG = {
    "run_scripted": [
        # The observation after the answer is kept: the conversation ends on a user turn.
        _edit("run_scripted", ("    messages = messages[: last + 1]\n", "")),
        # The step that was meant to fail is learned too: the model learns the mistake.
        _edit("run_scripted", ("next(turn) not in failing", "next(turn) >= 0")),
        # The answer is never checked: a wrong program becomes training data.
        _edit(
            "run_scripted",
            ("if answer != task.answer or errors != failing:", "if errors != failing:"),
        ),
    ],
    "text_pieces": [
        # The end-of-turn token is left out: the model never learns to stop.
        _edit(
            "text_pieces",
            (
                "end = through.rindex(eos_token) + len(eos_token)",
                "end = through.rindex(eos_token)",
            ),
        ),
        # Every assistant turn is learned, the failed ones too.
        _edit(
            "text_pieces",
            (
                'if message.role != "assistant" or not learn[index]:',
                'if message.role != "assistant":',
            ),
        ),
        # The prefill is not cut off: one learned piece per turn.
        _edit(
            "text_pieces",
            (
                "cut = start + len(prefill) if prefill and full.startswith(prefill, start) "
                "else start",
                "cut = start",
            ),
        ),
    ],
    "encode": [
        # The joined text is tokenized once: the prefill's lone space merges into the next word.
        _edit(
            "encode",
            (
                "        tokens = tokenize(text)  # on its own: the piece boundaries are the "
                "model's too\n        ids += tokens\n",
                "        tokens = tokenize(text)\n",
            ),
            (
                "    return Example(ids, learn)",
                '    ids = tokenize("".join(text for text, _ in pieces))\n'
                "    return Example(ids, learn)",
            ),
        ),
        # One flag per piece instead of one per token.
        _edit("encode", ("learn += [learned] * len(tokens)", "learn.append(learned)")),
    ],
    "is_correct": [
        # Plain equality: "396" is not 396, 0.1 + 0.2 is not 0.3.
        _edit(
            "is_correct",
            (
                "    if answer is None:\n        return False\n",
                "    return answer == expected\n",
            ),
        ),
        # The first number of a sentence counts, however many there are.
        _edit(
            "is_correct",
            ("return len(numbers) == 1 and abs(", "return len(numbers) >= 1 and abs("),
        ),
        # True counts as 1.
        _edit(
            "is_correct",
            (
                "if isinstance(answer, (int, float)) and not isinstance(answer, bool):",
                "if isinstance(answer, (int, float)):",
            ),
        ),
    ],
}
