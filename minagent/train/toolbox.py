"""Generated tools: small lookup functions with real docstrings, for training and evaluation.

An agent course's tool tasks look alike: "what is the temperature in Paris?", answered by
calling `get_temperature("Paris")`. A model learns to *use tools*, not to remember one tool,
only if it sees many of them. Each tool here is a lookup table behind a documented function
(a real `minagent.tools.Tool`, with a JSON schema and argument checks), and a wrong key
raises an error that says which keys exist, so a task can show a model fixing a mistake.

Tools are split in two: `TRAIN_TOOLS` appear in training trajectories, `HELD_OUT_TOOLS`
never do; evaluation uses the held-out ones to see whether the skill transfers.

Example:
    >>> price = TOOLS["get_price"]
    >>> price.call({"item": "apple"})
    1.25
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from minagent.tools import Tool


@dataclass(frozen=True)
class LookupSpec:
    """A tool to generate: `name(arg)` returns `table[arg]`."""

    name: str
    "The function name, like 'get_price'."
    description: str
    "One sentence: what it returns (with the unit)."
    arg: str
    "The argument's name, like 'item'."
    arg_doc: str
    "The argument's description, with an example key."
    table: Mapping[str, Any]
    "Every key the tool knows, and its value."
    noun: str
    "How a question names the value: 'the price of {key}'."


def lookup_tool(spec: LookupSpec) -> Tool:
    """A Tool that looks `spec.arg` up in `spec.table`; an unknown key lists the known ones.

    Example: lookup_tool(SPECS["get_price"]).call({"item": "pear"}) -> 0.8
    """

    def look_up(**kwargs: Any) -> Any:
        key = kwargs[spec.arg]
        if key not in spec.table:
            known = ", ".join(repr(k) for k in spec.table)
            raise KeyError(f"unknown {spec.arg} {key!r}; known: {known}")
        return spec.table[key]

    value = next(iter(spec.table.values()))
    output_type = {int: "integer", float: "number"}.get(type(value), "string")
    parameters = {
        "type": "object",
        "properties": {spec.arg: {"type": "string", "description": spec.arg_doc}},
        "required": [spec.arg],
    }
    return Tool(spec.name, spec.description, parameters, look_up, output_type=output_type)


TRAIN_SPECS = [
    LookupSpec(
        "get_price",
        "Get the price of a grocery item, in dollars.",
        "item",
        'The item, in lower case, like "apple".',
        {"apple": 1.25, "pear": 0.8, "bread": 2.5, "milk": 1.1, "cheese": 4.75, "rice": 3.2},
        "the price of {key}",
    ),
    LookupSpec(
        "get_capital",
        "Get the capital city of a country.",
        "country",
        'The country, like "France".',
        {"France": "Paris", "Japan": "Tokyo", "Kenya": "Nairobi", "Peru": "Lima", "Egypt": "Cairo"},
        "the capital of {key}",
    ),
    LookupSpec(
        "get_height",
        "Get the height of a mountain, in meters.",
        "mountain",
        'The mountain, like "Everest".',
        {"Everest": 8849, "Kilimanjaro": 5895, "Fuji": 3776, "Denali": 6190, "Olympus": 2918},
        "the height of {key}",
    ),
    LookupSpec(
        "get_stock",
        "Get how many units of a product are in the warehouse.",
        "product",
        'The product, in lower case, like "pens".',
        {"pens": 120, "chairs": 14, "lamps": 35, "desks": 8, "books": 260, "mugs": 42},
        "the stock of {key}",
    ),
    LookupSpec(
        "get_speed",
        "Get the top speed of an animal, in km/h.",
        "animal",
        'The animal, in lower case, like "horse".',
        {"horse": 88, "cheetah": 120, "rabbit": 56, "elephant": 40, "ostrich": 70},
        "the top speed of the {key}",
    ),
    LookupSpec(
        "get_age",
        "Get the age of a person in the team, in years.",
        "name",
        'The first name, like "Alice".',
        {"Alice": 34, "Bob": 27, "Carla": 45, "Dmitri": 31, "Emma": 29},
        "the age of {key}",
    ),
    LookupSpec(
        "get_score",
        "Get the points a team scored this season.",
        "team",
        'The team, like "Lions".',
        {"Lions": 62, "Tigers": 55, "Bears": 71, "Eagles": 48, "Sharks": 66},
        "the score of the {key}",
    ),
    LookupSpec(
        "get_hotel_price",
        "Get the price of one night in a hotel in a city, in dollars.",
        "city",
        'The city name, like "Paris".',
        {"Paris": 180, "Tokyo": 150, "Nairobi": 90, "Lima": 70, "Cairo": 60},
        "the hotel price in {key}",
    ),
    LookupSpec(
        "get_manager",
        "Get the first name of a colleague's manager.",
        "name",
        'The first name, like "Alice".',
        {"Alice": "Carla", "Bob": "Alice", "Carla": "Dmitri", "Dmitri": "Emma", "Emma": "Bob"},
        "the manager of {key}",
    ),
    LookupSpec(
        "get_team",
        "Get the team a player plays for.",
        "player",
        'The first name, like "Alice".',
        {"Alice": "Lions", "Bob": "Tigers", "Carla": "Bears", "Dmitri": "Eagles", "Emma": "Sharks"},
        "the team of {key}",
    ),
    LookupSpec(
        "get_email",
        "Get the email address of a colleague.",
        "name",
        'The first name, like "Alice".',
        {"Alice": "alice@example.com", "Bob": "bob@example.com", "Carla": "carla@example.com"},
        "the email address of {key}",
    ),
]

HELD_OUT_SPECS = [
    LookupSpec(
        "get_temperature",
        "Get the current temperature of a city, in degrees Celsius.",
        "city",
        'The city name, like "Paris".',
        {"Paris": 18, "London": 15, "Tokyo": 22, "Cairo": 31, "Oslo": 7, "Lima": 19},
        "the temperature in {key}",
    ),
    LookupSpec(
        "get_population",
        "Get the population of a city, in millions.",
        "city",
        'The city name, like "Paris".',
        {"Paris": 2, "London": 9, "Tokyo": 14, "Cairo": 10, "Oslo": 1, "Lima": 11},
        "the population of {key}, in millions",
    ),
    LookupSpec(
        "get_rating",
        "Get the average review score of a film, out of 10.",
        "title",
        'The film title, like "Alien".',
        {"Alien": 8, "Heat": 7, "Up": 9, "Cars": 6, "Jaws": 8},
        "the rating of {key}",
    ),
]

SPECS = {spec.name: spec for spec in TRAIN_SPECS + HELD_OUT_SPECS}
TOOLS = {name: lookup_tool(spec) for name, spec in SPECS.items()}
TRAIN_TOOLS = [spec.name for spec in TRAIN_SPECS]
HELD_OUT_TOOLS = [spec.name for spec in HELD_OUT_SPECS]
