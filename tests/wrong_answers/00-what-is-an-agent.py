"""Plausible wrong solutions for unit 00 (what an agent is): each must lose points.

tests/test_units.py swaps each source below into the solution cell of the released notebook
and checks that the exercise's tests fail.
"""

WRONG = {
    "route": [
        # Substring matching: "no refund" goes to the "refund" branch, and a sentence that
        # mentions a route is taken as that route.
        """
import json

from minagent.messages import assistant, user
from minagent.models import LocalModel


def route(query, routes, model):
    if not routes:
        raise ValueError("no routes")
    names = ", ".join(routes)
    messages = [user(f"Routes: {names}\\nRequest: {query}\\nAnswer with the route name only.")]
    grammar = None
    if isinstance(model, LocalModel):
        grammar = "root ::= " + " | ".join(json.dumps(r) for r in routes)
    for _ in range(2):
        reply = model.generate(messages, grammar=grammar, max_tokens=32).content
        for candidate in routes:
            if candidate.lower() in reply.lower():
                return candidate
        messages = [*messages, assistant(reply), user(f"Answer with one of: {names}")]
    raise ValueError(f"not a route ({names}): {reply!r}")
""",
        # No retry: the first reply that is not a route raises.
        """
import json

from minagent.messages import user
from minagent.models import LocalModel


def route(query, routes, model):
    if not routes:
        raise ValueError("no routes")
    names = ", ".join(routes)
    grammar = None
    if isinstance(model, LocalModel):
        grammar = "root ::= " + " | ".join(json.dumps(r) for r in routes)
    reply = model.generate(
        [user(f"Routes: {names}\\nRequest: {query}\\nAnswer with the route name only.")],
        grammar=grammar,
        max_tokens=32,
    ).content
    cleaned = reply.strip().strip("\\"'").rstrip(".").lower()
    for candidate in routes:
        if candidate.lower() == cleaned:
            return candidate
    raise ValueError(f"not a route ({names}): {reply!r}")
""",
        # Retries with the very same messages: a greedy model answers the same again.
        """
import json

from minagent.messages import user
from minagent.models import LocalModel


def route(query, routes, model):
    if not routes:
        raise ValueError("no routes")
    names = ", ".join(routes)
    messages = [user(f"Routes: {names}\\nRequest: {query}\\nAnswer with the route name only.")]
    grammar = None
    if isinstance(model, LocalModel):
        grammar = "root ::= " + " | ".join(json.dumps(r) for r in routes)
    for _ in range(2):
        reply = model.generate(messages, grammar=grammar, max_tokens=32).content
        cleaned = reply.strip().strip("\\"'").rstrip(".").lower()
        for candidate in routes:
            if candidate.lower() == cleaned:
                return candidate
    raise ValueError(f"not a route ({names}): {reply!r}")
""",
        # Never uses the grammar: the embedded model answers in its own words.
        """
from minagent.messages import assistant, user


def route(query, routes, model):
    if not routes:
        raise ValueError("no routes")
    names = ", ".join(routes)
    messages = [user(f"Routes: {names}\\nRequest: {query}\\nAnswer with the route name only.")]
    for _ in range(2):
        reply = model.generate(messages, max_tokens=32).content
        cleaned = reply.strip().strip("\\"'").rstrip(".").lower()
        for candidate in routes:
            if candidate.lower() == cleaned:
                return candidate
        messages = [*messages, assistant(reply), user(f"Answer with one of: {names}")]
    raise ValueError(f"not a route ({names}): {reply!r}")
""",
    ],
    "rung_of": [
        # "There is a loop, so it is an agent"; "there is an if, so it is a router".
        """
def rung_of(snippet):
    rungs = {"a": 0, "b": 1, "c": 1, "d": 2, "e": 3, "f": 3, "g": 3}
    return rungs[snippet]
""",
        # Confuses choosing a branch with choosing a function, and delegation with routing.
        """
def rung_of(snippet):
    rungs = {"a": 0, "b": 0, "c": 1, "d": 1, "e": 0, "f": 3, "g": 1}
    return rungs[snippet]
""",
    ],
}
