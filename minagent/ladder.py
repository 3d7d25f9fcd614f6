"""The agency ladder (unit 00): a router that always returns a valid route, and the rungs.

A program is more or less "agentic" depending on how much the model's output decides what runs
next. Rung 1 is the router: the model picks a branch, the program does the rest. `route` is that
router written to survive a small model: a grammar where the model can enforce one, a check of
the reply everywhere, one retry that says what went wrong, and an error rather than a guess.

This module is unit 00's solution, names and all, so a learner stuck on the unit can read it.

Example:
    >>> from minagent.models import ScriptedModel
    >>> route("I was charged twice", ["billing", "technical"], ScriptedModel([" Billing."]))
    'billing'
    >>> rung_of("f")
    3
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from minagent.messages import assistant, user
from minagent.models import LocalModel, Model

ROUTE_MAX_TOKENS = 32
"""Longest reply we read: a route is a short label, this only stops a rambling model."""

RUNGS = {"a": 0, "b": 0, "c": 1, "d": 2, "e": 0, "f": 3, "g": 3}
"""The rung of each snippet of unit 00's exercise 2, by what the model's output decides:
nothing about the flow (0), a branch (1), which function runs with which arguments (2), whether
to go on or to start another agent (3). A loop or an `if` that your code controls is not a
decision of the model: snippet "e" loops once per sentence, a number known in advance."""


def _clean(reply: str) -> str:
    """The reply as a route candidate: no surrounding spaces, quotes or final full stop, lower
    case. Example: ' "Billing."\\n' -> "billing"."""
    return reply.strip().strip("\"'`").strip().rstrip(".").strip().lower()


def route(query: str, routes: Sequence[str], model: Model) -> str:
    """Ask `model` which of `routes` fits `query`, and return that route.

    With a LocalModel a GBNF grammar allows only the routes (llama.cpp enforces it). Every
    other model accepts `grammar=` but cannot honour it, so its reply is checked, and a reply
    that is not a route is retried once with a reminder of the allowed answers.

    Args:
        query: the request to route, e.g. "I was charged twice".
        routes: the possible answers, e.g. ["billing", "technical"].
        model: any minagent model (LocalModel, ScriptedModel, LiteLLMModel, ...).

    Returns:
        One of `routes`, spelled exactly as in `routes`. A reply counts as a route when, stripped
        of surrounding spaces, quotes and a final ".", it equals the route ignoring case. A reply
        that merely contains a route ("not billing") does not count.

    Raises:
        ValueError: `routes` is empty; or two replies in a row were not routes (the message
            names the routes and the last reply).

    Example:
        route("I was charged twice", ["billing", "technical"], ScriptedModel(["billing"]))
        -> "billing"
    """
    if not routes:
        raise ValueError("route() needs at least one route to choose from")
    names = ", ".join(routes)
    messages = [
        user(
            f"Choose the route for this request.\nRoutes: {names}\n"
            f"Request: {query}\nAnswer with the route name only."
        )
    ]
    # json.dumps writes a double-quoted, escaped string: also a valid GBNF string literal.
    grammar = None
    if isinstance(model, LocalModel):
        grammar = "root ::= " + " | ".join(json.dumps(r, ensure_ascii=False) for r in routes)
    for _attempt in range(2):
        reply = model.generate(messages, grammar=grammar, max_tokens=ROUTE_MAX_TOKENS).content
        # Whole strings, not substrings: "no refund" contains "refund".
        for candidate in routes:
            if candidate.lower() == _clean(reply):
                return candidate
        # Tell the model what went wrong: a greedy model asked the same thing answers the same.
        messages = [
            *messages,
            assistant(reply),
            user(f"That is not one of the routes. Answer with exactly one of: {names}"),
        ]
    raise ValueError(f"the model did not choose one of the routes ({names}): got {reply!r}")


def rung_of(snippet: str) -> int:
    """The rung (0-3) of the agency ladder of one snippet of unit 00 ("a" to "g").

    Example:
        >>> rung_of("c")
        1
    """
    return RUNGS[snippet]
