"""Benchmark: plain exec vs smolagents' LocalPythonExecutor vs minagent's GuardedInterpreter.

Runs CPU-bound snippets of the kind agents write (loops, recursion, comprehensions, string
building, dict work, classes) under all three in this one process, checks that all three agree
on the result, and prints the times and the ratios. Targets: minagent at least 10x faster than
smolagents on every snippet, and within 5x of plain exec on the median.

    python bench/interpreter.py            # needs `pip install smolagents` (the bench extra)
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from minexec import Budgets, GuardedInterpreter

SNIPPETS = {
    "loop": """
total = 0
for i in range(30000):
    total += i * i % 7
total
""",
    "while": """
n, steps = 27, 0
for start in range(1, 300):
    n = start
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
steps
""",
    "recursion": """
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
fib(17)
""",
    "comprehension": """
squares = [x * x for x in range(20000) if x % 3]
pairs = {x: x % 10 for x in squares[:5000]}
sum(squares) + len(pairs)
""",
    "string building": """
parts = []
for i in range(10000):
    parts.append(f"{i}:{i % 7}")
text = ",".join(parts)
len(text.upper().split(","))
""",
    "dict work": """
words = ("the quick brown fox jumps over the lazy dog and the cat " * 400).split()
counts = {}
for word in words:
    counts[word] = counts.get(word, 0) + 1
sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
""",
    "classes": """
class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y
    def norm2(self):
        return self.x * self.x + self.y * self.y
points = [Point(i, i + 1) for i in range(5000)]
sum(p.norm2() for p in points)
""",
    "sieve": """
limit = 30000
sieve = [True] * limit
sieve[0] = sieve[1] = False
for i in range(2, int(limit ** 0.5) + 1):
    if sieve[i]:
        for j in range(i * i, limit, i):
            sieve[j] = False
sum(1 for flag in sieve if flag)
""",
}


def run_exec(code: str) -> Any:
    """Plain exec, the speed of light: the last expression's value via eval."""
    lines = code.strip().splitlines()
    namespace: dict[str, Any] = {}
    exec("\n".join(lines[:-1]), namespace)
    return eval(lines[-1], namespace)


def best_time(function: Callable[[str], Any], code: str, repeats: int) -> tuple[float, Any]:
    best, value = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function(code)
        best = min(best, time.perf_counter() - start)
    return best, value


def main() -> None:
    from smolagents.local_python_executor import LocalPythonExecutor

    smol = LocalPythonExecutor(additional_authorized_imports=[])
    smol.send_tools({})
    mini = GuardedInterpreter(budgets=Budgets(timeout=120))
    runners = {
        "exec": lambda code: run_exec(code),
        "smolagents": lambda code: smol(code).output,
        "minagent": lambda code: mini.run(code).output,
    }
    repeats = {"exec": 7, "smolagents": 1, "minagent": 7}
    print(f"{'snippet':<16}{'exec ms':>10}{'smol ms':>10}{'mini ms':>10}"
          f"{'mini/exec':>11}{'smol/mini':>11}")  # fmt: skip
    over_exec, speedups = [], []
    for name, code in SNIPPETS.items():
        times, values = {}, {}
        for runner, function in runners.items():
            times[runner], values[runner] = best_time(function, code, repeats[runner])
        if not values["exec"] == values["smolagents"] == values["minagent"]:
            raise SystemExit(f"{name}: results differ: {values}")
        over_exec.append(times["minagent"] / times["exec"])
        speedups.append(times["smolagents"] / times["minagent"])
        row = [times["exec"] * 1e3, times["smolagents"] * 1e3, times["minagent"] * 1e3]
        print(f"{name:<16}{row[0]:>10.2f}{row[1]:>10.1f}{row[2]:>10.2f}", end="")
        print(f"{over_exec[-1]:>10.2f}x{speedups[-1]:>10.1f}x")
    print(f"median minagent/exec: {statistics.median(over_exec):.2f}x (target <= 5x)")
    print(f"minimum smolagents/minagent: {min(speedups):.1f}x (target >= 10x)")


if __name__ == "__main__":
    main()
