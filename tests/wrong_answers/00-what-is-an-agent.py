"""Plausible wrong solutions for unit 00 (what an agent is), one learner mistake each.

Each wrong answer is the solution cell of `solutions/00-what-is-an-agent/00-what-is-an-agent.ipynb`
with one edit, written as (what the solution says, what the learner wrote instead), so the list
stays in step with the notebook. `tests/test_units.py` swaps each into the released notebook
and checks that the exercise loses points.
"""

from grader.mistakes import solution_editor

_edit = solution_editor("00-what-is-an-agent")

RUNGS = '    rungs = {"a": 0, "b": 0, "c": 1, "d": 2, "e": 0, "f": 3, "g": 3}'

WRONG = {
    "route": [
        # Substring matching: "no refund" goes to the "refund" branch, and a sentence that
        # mentions a route is taken as that route.
        _edit(
            "route",
            ("if candidate.lower() == cleaned:", "if candidate.lower() in reply.lower():"),
        ),
        # No retry: the first reply that is not a route raises.
        _edit("route", ("for _attempt in range(2):", "for _attempt in range(1):")),
        # Retries with the very same messages: a greedy model answers the same again.
        _edit(
            "route",
            (
                "        messages = [\n"
                "            *messages,\n"
                "            assistant(reply),\n"
                '            user(f"That is not one of the routes. Answer with exactly one of: '
                '{names}"),\n'
                "        ]\n",
                "",
            ),
        ),
        # Never uses the grammar: the embedded model answers in its own words.
        _edit(
            "route",
            (
                "model.generate(messages, grammar=grammar, max_tokens=ROUTE_MAX_TOKENS)",
                "model.generate(messages, max_tokens=ROUTE_MAX_TOKENS)",
            ),
        ),
    ],
    "rung_of": [
        # "There is a loop, so it is an agent"; "there is an if, so it is a router".
        _edit(
            "rung_of",
            (RUNGS, '    rungs = {"a": 0, "b": 1, "c": 1, "d": 2, "e": 3, "f": 3, "g": 3}'),
        ),
        # Confuses choosing a branch with choosing a function, and delegation with routing.
        _edit(
            "rung_of",
            (RUNGS, '    rungs = {"a": 0, "b": 0, "c": 1, "d": 1, "e": 0, "f": 3, "g": 1}'),
        ),
    ],
}
