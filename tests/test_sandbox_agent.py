"""The guarded interpreter under bubblewrap, CodeAgent(executor="sandbox"), and the fallback."""

from __future__ import annotations

import threading

import pytest
from grader_helpers import needs_bwrap, path_without_bwrap
from test_cli import ScriptedServer

from minagent.agents import CodeAgent
from minagent.cli import main
from minagent.models import ScriptedModel
from minagent.tools import tool
from minexec import InterpreterError
from minexec.sandbox import (
    SandboxFallbackWarning,
    SandboxInterpreter,
    SandboxUnavailable,
)


@tool
def lookup(key: str) -> str:
    """Look a key up in the host's table.

    Args:
        key: A key such as "rate".
    """
    return {"rate": "0.5"}[key]


def code(text: str) -> str:
    return f"```python\n{text}\n```"


@needs_bwrap
def test_the_guards_still_apply_inside_and_tools_run_in_the_parent() -> None:
    with SandboxInterpreter(["math"], tools={"lookup": lambda key: key.upper()}) as box:
        assert box.sandboxed
        assert box.run("import math\nx = math.floor(2.5)\nlookup('ab') * x").output == "ABAB"
        with pytest.raises(InterpreterError, match="Import of 'os' is not allowed"):
            box.run("import os")
        assert box.run("x + 1").output == 3  # still the same child, state kept


@needs_bwrap
def test_code_agent_on_the_sandbox_keeps_state_across_steps() -> None:
    replies = [
        code("rate = float(lookup('rate'))\nprint('rate', rate)"),
        code("import os\nprint(os.getcwd())"),  # refused: the error is an observation
        code("final_answer(rate * 84)"),
    ]
    agent = CodeAgent([lookup], ScriptedModel(replies), executor="sandbox", verbosity=0)
    assert agent.run("Convert 84 to euros.") == 42.0
    assert agent.interpreter.sandboxed
    first, refused, _ = agent.memory.steps
    assert first.observation == "rate 0.5"
    assert "Import of 'os' is not allowed" in refused.error
    assert agent.interpreter.state["rate"] == 0.5


@needs_bwrap
def test_minagent_run_with_the_sandbox_executor(capsys) -> None:
    server = ScriptedServer([code("x = 6 * 7\nprint(x)"), code("final_answer(x)")])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        argv = ["run", "six times seven", "--model", "openai/scripted", "--api-base", server.url]
        assert main([*argv, "--executor", "sandbox", "-v", "0"]) == 0
    finally:
        server.shutdown()
        server.server_close()
    assert capsys.readouterr().out == "42\n"


@pytest.fixture
def no_bwrap(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", path_without_bwrap(tmp_path / "bin"))


def test_without_bwrap_it_falls_back_with_a_warning_that_says_what_is_lost(no_bwrap) -> None:
    with pytest.warns(SandboxFallbackWarning) as caught:
        box = SandboxInterpreter(["math"])
    (warning,) = caught
    text = str(warning.message)
    assert "bwrap is not on the PATH" in text and "apt-get install bubblewrap" in text
    assert "reach the network" in text and "\n" not in text  # one line, saying what is lost
    with box:
        assert not box.sandboxed
        assert box.run("import math\nmath.sqrt(81)").output == 9.0
        assert box.run("_ = 1\n1 + 1").output == 2  # the process mode keeps state too


def test_without_bwrap_strict_raises(no_bwrap) -> None:
    with pytest.raises(SandboxUnavailable, match=r"not on the PATH; .*apt-get install bubblewrap"):
        SandboxInterpreter(strict=True)


def test_without_bwrap_plain_python_never_falls_back(no_bwrap) -> None:
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        SandboxInterpreter(guards=False)


def test_plain_python_takes_no_tools() -> None:
    with pytest.raises(ValueError, match="no tool callbacks"):
        SandboxInterpreter(guards=False, tools={"lookup": print})


def test_code_agent_falls_back_without_bwrap(no_bwrap) -> None:
    model = ScriptedModel([code("final_answer(2 + 2)")])
    agent = CodeAgent([], model, executor="sandbox", verbosity=0)
    with pytest.warns(SandboxFallbackWarning):
        assert agent.run("2 + 2?") == 4
    assert not agent.interpreter.sandboxed
