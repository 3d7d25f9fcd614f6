"""Benchmark: what one sandboxed step costs, against the in-process and the process modes.

Runs the same steps on minagent's three ways to execute a code action, in this one process:
`GuardedInterpreter` (in-process), `ProcessInterpreter` (a child process with OS limits) and
`SandboxInterpreter` (that child under bubblewrap). Prints the start-up time (construction to
the first result) and the per-step time of a trivial step, a step that calls a host tool and a
CPU-bound step, each as the median of several runs, checks that all three agree on the results
and keep state across steps, and prints the sandbox's times as ratios of the other two. Last,
what the grader pays: a notebook kernel's start-up, plain and under bubblewrap.

    python bench/sandbox.py                # needs bwrap (apt-get install bubblewrap)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from minexec import Budgets, GuardedInterpreter, ProcessInterpreter
from minexec.sandbox import SandboxInterpreter, sandbox_problem

STARTS = 5
STEPS = 50
KERNEL_STARTS = 3
STEP_CODE = {
    "trivial": "counter = counter + 1",
    "tool call": "counter = counter + len(lookup('key'))",
    "cpu (30k-loop)": "total = 0\nfor i in range(30000):\n    total += i * i % 7\ntotal",
}
TOOLS = {"lookup": lambda key: key.upper()}
BUDGETS = Budgets(timeout=60)

Runner = GuardedInterpreter | ProcessInterpreter  # SandboxInterpreter is a ProcessInterpreter
MODES: dict[str, Callable[[], Runner]] = {
    "in-process": lambda: GuardedInterpreter(tools=TOOLS, budgets=BUDGETS),
    "process": lambda: ProcessInterpreter(tools=TOOLS, budgets=BUDGETS),
    "sandbox": lambda: SandboxInterpreter(tools=TOOLS, budgets=BUDGETS, strict=True),
}


def close(runner: Runner) -> None:
    if isinstance(runner, ProcessInterpreter):
        runner.close()  # stop the child; the in-process interpreter has nothing to stop


def timed(function: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    """Seconds that function(*args) took, and its value."""
    start = time.perf_counter()
    value = function(*args)
    return time.perf_counter() - start, value


def first_step(make: Callable[[], Runner]) -> None:
    """Construct an interpreter and run its first step (what start-up costs); then stop it."""
    runner = make()
    runner.run("counter = 0")
    close(runner)


def kernel_start_up(mode: str) -> float:
    """Seconds from starting a grader kernel (`--sandbox mode`) to its answer to kernel_info."""
    from jupyter_core.utils import run_sync

    from grader.kernel import configure_sandbox, start_kernel

    configure_sandbox(mode)
    with tempfile.TemporaryDirectory(prefix="bench-kernel-") as folder:
        start = time.perf_counter()
        manager = start_kernel("python3", Path(folder))
        client = manager.client()
        client.start_channels()
        run_sync(client.wait_for_ready)(timeout=60)
        seconds = time.perf_counter() - start
        client.stop_channels()
        run_sync(manager.shutdown_kernel)(now=True)
    return seconds


def main() -> None:
    problem = sandbox_problem()
    if problem is not None:
        raise SystemExit(f"the sandbox cannot run here: {problem}; apt-get install bubblewrap")
    # Rounds take the modes in turn, so that a busy machine slows all three alike.
    samples: dict[str, dict[str, list[float]]] = {mode: {} for mode in MODES}
    for _ in range(STARTS):
        for mode, make in MODES.items():
            samples[mode].setdefault("start-up", []).append(timed(first_step, make)[0])
    runners = {mode: make() for mode, make in MODES.items()}
    for runner in runners.values():
        runner.run("counter = 0")
    for name, code in STEP_CODE.items():
        outputs = {}
        for _ in range(STEPS):
            for mode, runner in runners.items():
                seconds, result = timed(runner.run, code)
                samples[mode].setdefault(name, []).append(seconds)
                outputs[mode] = result.output
        if len(set(map(repr, outputs.values()))) != 1:
            raise SystemExit(f"{name}: results differ: {outputs}")
    counters = {mode: runner.run("counter").output for mode, runner in runners.items()}
    if len(set(counters.values())) != 1:
        raise SystemExit(f"state differs: {counters}")
    for runner in runners.values():
        close(runner)
    print(f"{'':<16}{'in-process ms':>14}{'process ms':>12}{'sandbox ms':>12}", end="")
    print(f"{'sandbox/in-proc':>17}{'sandbox/process':>17}")
    for name in ["start-up", *STEP_CODE]:
        row = [statistics.median(samples[mode][name]) for mode in MODES]
        print(f"{name:<16}{row[0] * 1e3:>14.3f}{row[1] * 1e3:>12.3f}{row[2] * 1e3:>12.3f}", end="")
        print(f"{row[2] / row[0]:>16.1f}x{row[2] / row[1]:>16.2f}x")
    kernels: dict[str, list[float]] = {"off": [], "require": []}
    for _ in range(KERNEL_STARTS):
        for mode, seconds in kernels.items():
            seconds.append(kernel_start_up(mode))
    plain, boxed = (statistics.median(kernels[mode]) for mode in ("off", "require"))
    print(f"grader kernel start-up: plain {plain * 1e3:.0f} ms, ", end="")
    print(f"sandboxed {boxed * 1e3:.0f} ms ({boxed / plain:.2f}x)")
    print(f"python {sys.version.split()[0]}; medians of {STARTS} start-ups and {STEPS} steps")


if __name__ == "__main__":
    main()
