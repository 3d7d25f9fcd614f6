"""Small agent tasks, each with the program that solves it, step by step.

A task is a question, its answer, and the code a good agent would write for it: one
program per step. Most tasks take one step (compute, then `final_answer`). Some must take
two: look something up and print it, read the observation, then answer; or try something
that fails, read the error, and fix it. The generator knows every answer (it made the
numbers and the tool tables), so it can write each program and check it.

Every program starts with `result = `: that is how CodeAgent prefills LocalModel's replies
(`minagent.agents.DEFAULT_CODE_PREFILL`), and the trained replies must agree with what the
model is given at inference.

Families are split: `TRAIN_FAMILIES` make the training data; `HELD_OUT_FAMILIES`, and every
tool family played with `HELD_OUT_TOOLS`, are never trained on and measure transfer.

Example:
    >>> task = make_tasks("train", 1, seed=0)[0]
    >>> task.programs[-1].startswith("result = ") and "final_answer" in task.programs[-1]
    True
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from minagent.train.toolbox import HELD_OUT_TOOLS, SPECS, TRAIN_TOOLS


@dataclass(frozen=True)
class Task:
    """A question, its answer, and the program for each step that solves it."""

    question: str
    "The task as the user writes it."
    answer: Any
    "The right final answer."
    family: str
    "Which generator made it (for the train/held-out split and per-family figures)."
    programs: tuple[str, ...]
    "The code of each CodeAgent step; the last one calls final_answer."
    tools: tuple[str, ...] = ()
    "Names of the toolbox tools the agent gets (see minagent.train.toolbox)."
    calls: tuple[tuple[str, dict], ...] | None = None
    "ToolCallingAgent: the tool calls before final_answer; None: not a JSON-call task."
    failing_steps: tuple[int, ...] = field(default=())
    "0-based steps whose program is meant to fail (kept in the data, but not learned)."


def answer_program(expression: str) -> str:
    """The one-step program: compute, then answer. Example: "2 + 2" -> "result = 2 + 2\\n..."."""
    return f"result = {expression}\nfinal_answer(result)"


def print_program(expression: str) -> str:
    """A first step that looks before it answers: compute and print."""
    return f"result = {expression}\nprint(result)"


def one_step_task(rng: random.Random, forms: list[tuple[str, str]], family: str) -> Task:
    """One of `forms` (question, expression) as a one-step task, its answer computed by Python.

    Example: one_step_task(rng, [("What is 2 + 2?", "2 + 2")], "arithmetic").answer -> 4
    """
    question, expression = rng.choice(forms)
    return Task(question, eval(expression), family, (answer_program(expression),))


def value(tool: str, key: str) -> Any:
    """What toolbox tool `tool` returns for `key`."""
    return SPECS[tool].table[key]


# --- families without tools ---------------------------------------------------------------


def arithmetic(rng: random.Random) -> Task:
    a, b, c = rng.randint(2, 99), rng.randint(2, 40), rng.randint(1, 50)
    forms = [
        (f"What is {a} * {b} + {c}?", f"{a} * {b} + {c}"),
        (f"What is {a} plus {b} minus {c}?", f"{a} + {b} - {c}"),
        (f"Compute {a} times {b}.", f"{a} * {b}"),
        (f"What is {a * b} divided by {b}?", f"{a * b} // {b}"),
        (f"What is {b}% of {a * 100}?", f"{b} * {a * 100} // 100"),
        (f"What is {b % 12 + 2} to the power of {c % 4 + 2}?", f"{b % 12 + 2} ** {c % 4 + 2}"),
        (f"What is the sum of the integers from 1 to {a}?", f"sum(range(1, {a} + 1))"),
        (f"What is {b % 8 + 3} factorial?", " * ".join(str(k) for k in range(1, b % 8 + 4))),
        (f"What is ({a} + {b}) * {c}?", f"({a} + {b}) * {c}"),
        (f"What is the remainder of {a * c + b} divided by {c + 1}?", f"{a * c + b} % {c + 1}"),
        (f"What is {a} minus {b} times {c}?", f"{a} - {b} * {c}"),
        (f"What is the square root of {a * a}?", f"int({a * a} ** 0.5)"),
        (
            f"What is {a * b + c} divided by {b}, rounded to 2 decimals?",
            f"round({a * b + c} / {b}, 2)",
        ),
        (f"Is {a * b + c % 2} an even number? Answer True or False.", f"{a * b + c % 2} % 2 == 0"),
    ]
    return one_step_task(rng, forms, "arithmetic")


WORDS = ["agent", "python", "kitten", "banana", "planet", "window", "rocket", "garden", "silver"]


def strings(rng: random.Random) -> Task:
    word, other = rng.sample(WORDS, 2)
    letter = rng.choice(word)
    forms = [
        (f"Reverse the string '{word}'.", f"'{word}'[::-1]"),
        (f"Convert '{word} {other}' to upper case.", f"'{word} {other}'.upper()"),
        (f"How many letters are in the word '{word}'?", f"len('{word}')"),
        (
            f"How many times does the letter '{letter}' appear in '{word}'?",
            f"'{word}'.count('{letter}')",
        ),  # noqa: E501
        (f"Join '{word}' and '{other}' with a dash.", f"'{word}' + '-' + '{other}'"),
        (f"What is the first letter of '{word}' in upper case?", f"'{word}'[0].upper()"),
        (f"Replace '{letter}' with '*' in '{word}'.", f"'{word}'.replace('{letter}', '*')"),
        (f"What are the last three letters of '{word}'?", f"'{word}'[-3:]"),
        (f"How many vowels are in '{word}'?", f"sum(1 for c in '{word}' if c in 'aeiou')"),
        (f"Sort the letters of '{word}' alphabetically.", f"''.join(sorted('{word}'))"),
        (
            f"Is '{word}' longer than '{other}'? Answer True or False.",
            f"len('{word}') > len('{other}')",
        ),
        (
            f"Does '{word}' start with '{word[:2]}'? Answer True or False.",
            f"'{word}'.startswith('{word[:2]}')",
        ),
    ]
    return one_step_task(rng, forms, "strings")


def lists(rng: random.Random) -> Task:
    numbers = rng.sample(range(1, 60), rng.randint(4, 6))
    forms = [
        (f"What is the largest number in the list {numbers}?", f"max({numbers})"),
        (f"What is the smallest number in {numbers}?", f"min({numbers})"),
        (f"Sort the list {numbers} in ascending order.", f"sorted({numbers})"),
        (f"Sort {numbers} from largest to smallest.", f"sorted({numbers}, reverse=True)"),
        (f"What is the sum of {numbers}?", f"sum({numbers})"),
        (f"What is the average of {numbers}?", f"sum({numbers}) / len({numbers})"),
        (f"How many numbers in {numbers} are even?", f"len([n for n in {numbers} if n % 2 == 0])"),
        (f"What is the second largest number in {numbers}?", f"sorted({numbers})[-2]"),
        (f"How many numbers are in the list {numbers}?", f"len({numbers})"),
        (f"Which numbers in {numbers} are greater than 30?", f"[n for n in {numbers} if n > 30]"),
        (f"What is the product of {numbers[:3]}?", f"{numbers[0]} * {numbers[1]} * {numbers[2]}"),
        (f"Reverse the list {numbers}.", f"{numbers}[::-1]"),
        (
            f"What is the difference between the largest and smallest of {numbers}?",
            f"max({numbers}) - min({numbers})",
        ),
    ]
    return one_step_task(rng, forms, "lists")


def dicts(rng: random.Random) -> Task:
    names = rng.sample(["ann", "ben", "cat", "dan", "eve", "fay"], 3)
    table = {name: rng.randint(1, 90) for name in names}
    key = rng.choice(names)
    forms = [
        (f"In {table}, which key has the largest value?", f"max({table}, key={table}.get)"),
        (f"What is the sum of the values in {table}?", f"sum({table}.values())"),
        (f"What is the value of '{key}' in {table}?", f"{table}['{key}']"),
        (f"List the keys of {table} in alphabetical order.", f"sorted({table})"),
        (f"How many keys does {table} have?", f"len({table})"),
        (f"Which key of {table} has the smallest value?", f"min({table}, key={table}.get)"),
    ]
    return one_step_task(rng, forms, "dicts")


DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def dates(rng: random.Random) -> Task:
    start, n = rng.randrange(7), rng.randint(2, 40)
    day, later = rng.randint(1, 10), rng.randint(12, 28)
    year = rng.choice([1900, 2000, 2023, 2024, 2025, 2100])
    forms = [
        (
            f"What day of the week is {n} days after a {DAYS[start]}?",
            f"{DAYS}[({start} + {n}) % 7]",
        ),  # noqa: E501
        (f"How many days are there from March {day} to March {later}?", f"{later} - {day}"),
        (f"How many days are in {n} weeks?", f"{n} * 7"),
        (f"How many hours are in {n} days?", f"{n} * 24"),
        (f"How many weeks are in {7 * n} days?", f"{7 * n} // 7"),
        (f"How old is someone born in {year - n} in the year {year}?", f"{year} - {year - n}"),
        (
            f"How many days does February have in {year}?",
            f"29 if ({year} % 4 == 0 and {year} % 100 != 0) or {year} % 400 == 0 else 28",
        ),
    ]
    return one_step_task(rng, forms, "dates")


# --- held-out families without tools ------------------------------------------------------


def conversions(rng: random.Random) -> Task:
    n = rng.randint(2, 60)
    forms = [
        (f"How many minutes are in {n} hours?", f"{n} * 60"),
        (f"Convert {n * 10} degrees Celsius to Fahrenheit.", f"{n * 10} * 9 / 5 + 32"),
        (f"How many grams are in {n} kilograms?", f"{n} * 1000"),
        (f"How many centimeters are in {n} meters?", f"{n} * 100"),
        (f"How many seconds are in {n} minutes?", f"{n} * 60"),
    ]
    return one_step_task(rng, forms, "conversions")


SENTENCES = ["the cat sat on the mat", "agents write code", "small models learn fast"]


def words(rng: random.Random) -> Task:
    sentence, word = rng.choice(SENTENCES), rng.choice(WORDS)
    forms = [
        (f"How many words are in '{sentence}'?", f"len('{sentence}'.split())"),
        (f"Is '{word}' a palindrome? Answer True or False.", f"'{word}' == '{word}'[::-1]"),
        (f"What is the longest word in '{sentence}'?", f"max('{sentence}'.split(), key=len)"),
        (f"Capitalize every word of '{sentence}'.", f"'{sentence}'.title()"),
    ]
    return one_step_task(rng, forms, "words")


def sets(rng: random.Random) -> Task:
    a, b = rng.sample(range(1, 15), 5), rng.sample(range(1, 15), 5)
    forms = [
        (
            f"Which numbers are in both {a} and {b}? Give them sorted.",
            f"sorted(set({a}) & set({b}))",
        ),  # noqa: E501
        (f"How many different numbers are in {a + b}?", f"len(set({a + b}))"),
        (f"Which numbers of {a} are not in {b}? Give them sorted.", f"sorted(set({a}) - set({b}))"),  # noqa: E501
    ]
    return one_step_task(rng, forms, "sets")


# --- families with tools ------------------------------------------------------------------


def one_tool(rng: random.Random, tools: list[str]) -> Task:
    name = rng.choice(tools)
    key = rng.choice(list(SPECS[name].table))
    noun = SPECS[name].noun.format(key=key)
    question = rng.choice([f"What is {noun}?", f"Look up {noun}.", f"Tell me {noun}."])
    call = f'{name}("{key}")'
    answer = value(name, key)
    return Task(
        question,
        answer,
        "one_tool",
        (answer_program(call),),
        (name,),
        calls=((name, {SPECS[name].arg: key}),),
    )


def two_tools(rng: random.Random, tools: list[str]) -> Task:
    numeric = [t for t in tools if isinstance(next(iter(SPECS[t].table.values())), (int, float))]
    name = rng.choice(numeric)
    first, second = rng.sample(list(SPECS[name].table), 2)
    x, y = value(name, first), value(name, second)
    noun1, noun2 = SPECS[name].noun.format(key=first), SPECS[name].noun.format(key=second)
    calls = ((name, {SPECS[name].arg: first}), (name, {SPECS[name].arg: second}))
    call1, call2 = f'{name}("{first}")', f'{name}("{second}")'
    if rng.random() < 0.5:
        question = f"What is {noun1} plus {noun2}?"
        return Task(question, x + y, "two_tools", (answer_program(f"{call1} + {call2}"),), (name,))
    question = f"Which is larger: {noun1} or {noun2}? Answer with the name."
    program = answer_program(f'"{first}" if {call1} > {call2} else "{second}"')
    return Task(question, first if x > y else second, "two_tools", (program,), (name,), calls)


def chains(tools: list[str]) -> list[tuple[str, str]]:
    """Pairs of tools where what the first returns is a key of the second (get_capital then
    get_hotel_price, get_manager then get_age): the second call needs the first's answer.

    Example: ("get_team", "get_score") in chains(TRAIN_TOOLS) -> True
    """
    return [
        (first, second)
        for first in tools
        for second in tools
        if first != second and set(SPECS[first].table.values()) & set(SPECS[second].table)
    ]


def observe(rng: random.Random, tools: list[str]) -> Task:
    """Two steps: the second call needs what the first returned (a country, its capital, the
    capital's hotel price; a player, their team, the team's score), and the first step
    prints it to read it."""
    first, second = rng.choice(chains(tools))
    key = rng.choice([k for k, v in SPECS[first].table.items() if v in SPECS[second].table])
    middle = value(first, key)
    inner = SPECS[first].noun.format(key=key)
    noun = SPECS[second].noun.format(key=inner).replace("the the ", "the ")  # "score of the {key}"
    programs = (print_program(f'{first}("{key}")'), answer_program(f'{second}("{middle}")'))
    calls = ((first, {SPECS[first].arg: key}), (second, {SPECS[second].arg: middle}))
    return Task(
        f"What is {noun}?", value(second, middle), "observe", programs, (first, second), calls
    )


def fix(rng: random.Random, tools: list[str]) -> Task:
    """Two steps: the first program fails, the error says why, the second one works."""
    kind = rng.choice(["case", "type", "name"])
    if kind == "name":
        numbers = rng.sample(range(1, 40), 4)
        question = f"What is the mean of {numbers}?"
        programs = (
            answer_program(f"statistics.mean({numbers})"),
            answer_program(f"sum({numbers}) / len({numbers})"),
        )  # noqa: E501
        return Task(question, sum(numbers) / len(numbers), "fix", programs, (), failing_steps=(0,))
    lower = [t for t in tools if all(k.islower() for k in SPECS[t].table)]
    numeric = [t for t in lower if isinstance(next(iter(SPECS[t].table.values())), (int, float))]
    name = rng.choice(numeric if kind == "type" else lower)
    key = rng.choice(list(SPECS[name].table))
    if kind == "case":
        question = f"What is {SPECS[name].noun.format(key=key.title())}?"
        wrong, right = f'{name}("{key.title()}")', f'{name}("{key}")'
        answer = value(name, key)
    else:
        question = f"Write 'Total: ' followed by {SPECS[name].noun.format(key=key)}."
        wrong, right = f'"Total: " + {name}("{key}")', f'"Total: " + str({name}("{key}"))'
        answer = f"Total: {value(name, key)}"
    programs = (answer_program(wrong), answer_program(right))
    return Task(question, answer, "fix", programs, (name,), failing_steps=(0,))


PLAIN_FAMILIES: dict[str, Callable[[random.Random], Task]] = {
    "arithmetic": arithmetic,
    "strings": strings,
    "lists": lists,
    "dicts": dicts,
    "dates": dates,
    "conversions": conversions,
    "words": words,
    "sets": sets,
}
TOOL_FAMILIES: dict[str, Callable[[random.Random, list[str]], Task]] = {
    "one_tool": one_tool,
    "two_tools": two_tools,
    "observe": observe,
    "fix": fix,
}
TRAIN_FAMILIES = ["arithmetic", "strings", "lists", "dicts", "dates", *TOOL_FAMILIES]
HELD_OUT_FAMILIES = ["conversions", "words", "sets"]
HELD_OUT_TOOL_FAMILIES = ["one_tool", "two_tools", "observe"]


MAX_EXTRA_TOOLS = 2
"""Up to this many tools the task does not need come with it: an agent usually has several
tools, and must pick the right one (or none)."""


def make_task(family: str, rng: random.Random, split: str) -> Task:
    """One task of `family`; tools, needed or not, come from the split's toolbox."""
    pool = TRAIN_TOOLS if split == "train" else HELD_OUT_TOOLS
    if family in PLAIN_FAMILIES:
        task = PLAIN_FAMILIES[family](rng)
    else:
        task = TOOL_FAMILIES[family](rng, [*pool, "get_capital"] if family == "observe" else pool)
    unused = [name for name in pool if name not in task.tools]
    extra = rng.sample(unused, min(len(unused), rng.randint(0, MAX_EXTRA_TOOLS)))
    tools = [*task.tools, *extra]
    rng.shuffle(tools)
    return replace(task, tools=tuple(tools))


def make_tasks(split: str, n: int, seed: int = 0) -> list[Task]:
    """`n` distinct tasks of the "train" or "held_out" split, the same for the same seed.

    Families take turns, so every family is represented. Example:
    [t.family for t in make_tasks("held_out", 3)] -> ["conversions", "words", "sets"]
    """
    if split not in ("train", "held_out"):
        raise ValueError(f"split must be 'train' or 'held_out', not {split!r}")
    families = TRAIN_FAMILIES if split == "train" else HELD_OUT_FAMILIES + HELD_OUT_TOOL_FAMILIES
    rng, tasks, seen = random.Random(seed), [], set()
    while len(tasks) < n:
        family = families[len(tasks) % len(families)]
        for _ in range(100):  # small families run out of new questions: allow repeats then
            task = make_task(family, rng, split)
            if task.question not in seen:
                break
        seen.add(task.question)
        tasks.append(task)
    return tasks
