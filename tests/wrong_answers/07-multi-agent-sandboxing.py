"""Plausible wrong solutions for unit 07 (multi-agent, planning, sandboxing), one mistake each.

Each wrong answer is the solution cell of the unit's solution notebook with one edit, written as
(what the solution says, what the learner wrote instead), so the list stays in step with the
notebook. `tests/test_units.py` swaps each into the released notebook and checks that the
exercise loses points.
"""

from grader.mistakes import solution_editor

_edit = solution_editor("07-multi-agent-sandboxing")


WRONG = {
    "managed_agent_tool": [
        # The worker gets the bare task: it does not know it reports to a manager.
        _edit(
            "managed_agent_tool",
            (
                "answer = agent.run(MANAGED_TASK.format(name=name, task=task))",
                "answer = agent.run(task)",
            ),
        ),
        # The answer comes back bare: the manager cannot tell who said it.
        _edit(
            "managed_agent_tool",
            ("return REPORT.format(name=name, answer=answer)", "return answer"),
        ),
        # No description check: a tool the manager knows nothing about.
        _edit(
            "managed_agent_tool",
            (
                "    if not description.strip():\n"
                '        raise ValueError(f"managed agent {name!r} needs a description: its '
                'manager picks by it")\n',
                "",
            ),
        ),
    ],
    "run_in_sandbox": [
        # No process limit: a fork bomb runs until the timeout.
        _edit(
            "run_in_sandbox",
            (
                "        resource.setrlimit(resource.RLIMIT_NPROC, "
                "(limits.max_processes, limits.max_processes))\n",
                "",
            ),
        ),
        # KiB instead of bytes: the limit is too small for Python to start at all.
        _edit(
            "run_in_sandbox",
            ("memory = limits.memory_mb * 1024 * 1024", "memory = limits.memory_mb * 1024"),
        ),
        # The notebook's environment is passed on, API keys included.
        _edit(
            "run_in_sandbox",
            (
                '            env={"PATH": "/usr/bin:/bin", "HOME": str(folder)},  '
                "# none of our secrets\n",
                "",
            ),
        ),
    ],
}
