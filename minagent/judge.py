"""LLM-as-judge (unit 06): ask a model to grade an answer with a rubric, and read its score.

A judge writes free text, so its score has to be parsed, strictly: the last "score" in the reply
(a judge may first restate the rubric), or a reply that is only a number; a whole number on the
scale, never clamped or rounded. A reply without a valid score gets exactly one retry, then a
`JudgeError`: an eval that averages judge scores must know which ones it does not have.

The prompts are short `str.format` templates (`JUDGE_SYSTEM.format(rubric=..., scale=...)`), as
the unit uses them. This module is unit 06's solution, names and all, so a learner stuck on the
unit can read it.

Example:
    >>> read_score("The answer cites 3 sources. Score: 4/5"), read_score("Score: 7")
    (4, None)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from minagent.models import Model

SCALE = 5
"""Scores are whole numbers from 1 to SCALE."""
JUDGE_MAX_TOKENS = 48
"""A verdict is a sentence or two and a score."""

JUDGE_SYSTEM = (
    "You grade answers. Grade the answer to the question with this rubric:\n\n{rubric}\n\n"
    'Explain your grade in one sentence, then end with a line "Score: N", N from 1 to {scale}.'
)
JUDGE_USER = "Question: {question}\n\nAnswer: {answer}"
JUDGE_RETRY = (
    "Your reply has no valid score. Reply with one line: Score: N, "
    f"N a whole number from 1 to {SCALE}."
)
RUBRIC = (
    "5: correct and complete.\n"
    "4: correct, with a small omission or imprecision.\n"
    "3: partly correct.\n"
    "2: mostly wrong, with something right.\n"
    "1: wrong, or no answer."
)

# "Score: 4", "**Score:** 4", "score = 4", "final score is 4", each maybe with "/5" or "out of 5".
SCORE_RE = re.compile(
    r"score\W*(?:(?:is|of)\s+)?(\d+(?:\.\d+)?)(?:\s*(?:/|out of)\s*(\d+))?", re.IGNORECASE
)
# A reply that is only a number: "4", "4/5", "4."
BARE_SCORE_RE = re.compile(r"\s*(\d+(?:\.\d+)?)(?:\s*(?:/|out of)\s*(\d+))?\s*\.?\s*")


@dataclass
class Verdict:
    """A judge's grade: the score, and the reply it came from (the judge's reasons)."""

    score: int  # from 1 to SCALE
    reply: str  # the judge's reply that held the score


class JudgeError(ValueError):
    """The judge gave no valid score, even when asked a second time."""


def read_score(reply: str) -> int | None:
    """The valid score in a judge's reply, or None.

    Example: read_score("Cites 3 sources. Score: 4/5") -> 4; read_score("Score: 7") -> None
    """
    found = SCORE_RE.findall(reply)
    if not found:
        bare = BARE_SCORE_RE.fullmatch(reply)
        found = [bare.groups(default="")] if bare else []
    if not found:
        return None
    number, scale = found[-1]  # the last "score" is the verdict; earlier ones may quote the rubric
    if "." in number or (scale and int(scale) != SCALE):
        return None
    score = int(number)
    return score if 1 <= score <= SCALE else None


def judge(
    question: str,
    answer: Any,
    model: Model,
    rubric: str = RUBRIC,
    max_tokens: int = JUDGE_MAX_TOKENS,
) -> Verdict:
    """Ask a judge model to grade an answer with a rubric, and read its score.

    Args:
        question: the task the answer is for.
        answer: the answer to grade (any value; it is formatted into the prompt).
        model: the judge: model.generate(messages, max_tokens=...) -> a message with .content.
        rubric: what each score means, for the judge to apply.
        max_tokens: the longest reply the judge may write.

    Returns:
        Verdict(score, reply): the valid score and the reply it was read from.

    Raises:
        JudgeError: the second reply has no valid score either (the message quotes it).

    Example:
        judge("Capital of France?", "Paris", ScriptedModel(["Right. Score: 5/5"]))
        -> Verdict(score=5, reply="Right. Score: 5/5")
    """
    messages = [
        {"role": "system", "content": JUDGE_SYSTEM.format(rubric=rubric, scale=SCALE)},
        {"role": "user", "content": JUDGE_USER.format(question=question, answer=answer)},
    ]
    for _attempt in range(2):
        reply = model.generate(messages, max_tokens=max_tokens).content
        score = read_score(reply)
        if score is not None:
            return Verdict(score, reply)
        # Show the judge its own reply and say what is missing: one more chance, not a loop.
        messages.append({"role": "assistant", "content": reply})
        messages.append({"role": "user", "content": JUDGE_RETRY})
    raise JudgeError(f"the judge gave no score from 1 to {SCALE}, twice; last reply: {reply!r}")
