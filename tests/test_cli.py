"""The `minagent` command, end to end through litellm against a scripted loopback server."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from processes import live_children

from minagent.cli import main


class ScriptedServer(ThreadingHTTPServer):
    """An OpenAI-compatible chat server on loopback that replies from a script."""

    def __init__(self, replies: list[str]) -> None:
        super().__init__(("127.0.0.1", 0), ScriptedHandler)
        self.replies = list(replies)
        self.requests: list[dict] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class ScriptedHandler(BaseHTTPRequestHandler):
    server: ScriptedServer

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        text = self.server.replies.pop(0)
        if body.get("stream"):
            return self._stream(text)
        self._send(
            "application/json",
            json.dumps(
                {
                    "id": "1",
                    "object": "chat.completion",
                    "created": 0,
                    "model": "scripted",
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": text},
                        }
                    ],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                }
            ),
        )

    def _stream(self, text: str) -> None:
        deltas = [({"content": piece + " "}, None) for piece in text.split(" ")]
        events = []
        for delta, finish in [*deltas, ({}, "stop")]:
            chunk = {
                "id": "1",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": "scripted",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            events.append(f"data: {json.dumps(chunk)}\n\n")
        events.append("data: [DONE]\n\n")
        self._send("text/event-stream", "".join(events))

    def _send(self, content_type: str, payload: str) -> None:
        data = payload.encode()
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    servers = []

    def start(replies: list[str]) -> ScriptedServer:
        srv = ScriptedServer(replies)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def test_run_prints_a_trace_and_the_answer(server, capsys):
    srv = server(["```python\nx = 17 * 23\nprint(x)\n```", "```python\nfinal_answer(x + 5)\n```"])
    status = main(
        ["run", "What is 17 * 23 + 5?", "--model", "openai/scripted", "--api-base", srv.url]
    )
    shown = capsys.readouterr().out
    assert status == 0
    for part in ("New run", "Step 1", "x = 17 * 23", "391", "Step 2", "Final answer", "396"):
        assert part in shown
    assert srv.requests[0]["messages"][0]["role"] == "system"


def test_run_tool_agent_quietly_prints_only_the_answer(server, capsys):
    srv = server(['{"name": "final_answer", "arguments": {"answer": "four"}}'])
    status = main(
        [
            "run",
            "2 + 2?",
            "--agent",
            "tool",
            "--model",
            "openai/scripted",
            "--api-base",
            srv.url,
            "-v",
            "0",
        ]
    )
    assert status == 0
    assert capsys.readouterr().out == "four\n"
    assert srv.requests[0]["tools"][0]["function"]["name"] == "final_answer"


def test_max_steps_and_imports_are_passed_on(server, capsys):
    srv = server(["```python\nimport math\nprint(math.sqrt(16))\n```", "4.0"])
    status = main(
        [
            "run",
            "sqrt of 16?",
            "--model",
            "openai/scripted",
            "--api-base",
            srv.url,
            "--max-steps",
            "1",
            "--imports",
            "math",
            "-v",
            "0",
        ]
    )
    assert status == 0
    assert capsys.readouterr().out == "4.0\n"
    assert "run out of steps" in srv.requests[1]["messages"][-1]["content"]


def test_chat_streams_the_reply(server, capsys):
    srv = server(["Hello there, learner!"])
    assert main(["chat", "Hi", "--model", "openai/scripted", "--api-base", srv.url]) == 0
    assert capsys.readouterr().out.strip() == "Hello there, learner!"
    assert srv.requests[0]["stream"] is True


def test_bad_options_are_refused():
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "task", "--executor", "docker"])
    assert exit_info.value.code == 2


@pytest.mark.slow
def test_run_on_the_embedded_model(capsys):
    assert main(["run", "What is 17 * 23 + 5?", "--max-steps", "2"]) == 0
    shown = capsys.readouterr().out
    assert "Step 1" in shown and "Final answer" in shown


# --- tools: --tools module:attr and --mcp "command" -------------------------------------

REVENUE_SERVER = f"{shlex.quote(sys.executable)} -m minagent.servers.revenue"
FRANCE_AFTER = 107857.06  # revenue(country="France", period="after"), from the course's CSV


@pytest.fixture
def no_orphans():
    """No MCP server started by the command may outlive it."""
    before = live_children()
    yield
    assert live_children() == before


def run_with(srv: ScriptedServer, *options: str) -> int:
    return main(["run", "task", "--model", "openai/scripted", "--api-base", srv.url, *options])


def test_code_agent_calls_tools_from_a_module_and_an_mcp_server(server, capsys, no_orphans):
    srv = server(
        [
            "```python\nprint(add(2, 3), revenue(country='France', period='after'))\n```",
            "```python\nfinal_answer(multiply(2, 3))\n```",
        ]
    )
    status = run_with(srv, "--tools", "sample_tools:TOOLS", "--mcp", REVENUE_SERVER, "-v", "0")
    assert status == 0
    assert capsys.readouterr().out == "6\n"
    system_prompt = srv.requests[0]["messages"][0]["content"]
    for name in ("add", "multiply", "revenue", "list_countries"):
        assert f"{name}(" in system_prompt
    # The observation of step 1: both tools ran, the MCP one in its server process.
    assert f"5 {FRANCE_AFTER}" in srv.requests[1]["messages"][-1]["content"]


def test_tool_agent_calls_tools_from_a_module_and_an_mcp_server(server, capsys, no_orphans):
    srv = server(
        [
            '{"name": "multiply", "arguments": {"a": 6, "b": 7}}',
            '{"name": "revenue", "arguments": {"country": "France", "period": "after"}}',
            '{"name": "final_answer", "arguments": {"answer": "done"}}',
        ]
    )
    options = ["--agent", "tool", "--tools", "sample_tools:multiply", "--mcp", REVENUE_SERVER]
    assert run_with(srv, *options, "-v", "0") == 0
    assert capsys.readouterr().out == "done\n"
    offered = [spec["function"]["name"] for spec in srv.requests[0]["tools"]]
    assert {"multiply", "revenue", "final_answer"} <= set(offered)
    assert "add" not in offered  # only the tool the spec names
    assert srv.requests[1]["messages"][-1]["content"].endswith("\n42")
    assert srv.requests[2]["messages"][-1]["content"].endswith(f"\n{FRANCE_AFTER}")


def test_the_mcp_server_stops_when_the_run_is_interrupted(server, no_orphans):
    srv = server(['{"name": "interrupt", "arguments": {}}'])
    options = ["--agent", "tool", "--tools", "sample_tools:interrupt", "--mcp", REVENUE_SERVER]
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C during the run
        run_with(srv, *options)


MY_TOOLS = (
    "from minagent.tools import tool\n\n\n"
    "@tool\ndef shout(text: str) -> str:\n"
    '    """Upper-case a text.\n\n    Args:\n        text: What to shout.\n    """\n'
    "    return text.upper()\n"
)
CONSOLE_SCRIPT = Path(sys.executable).with_name("minagent")


def test_the_console_script_finds_tools_in_the_current_directory(server, tmp_path):
    # A console script, unlike `python -m`, does not put the current directory on sys.path.
    (tmp_path / "my_tools.py").write_text(MY_TOOLS)
    srv = server(
        [
            '{"name": "shout", "arguments": {"text": "hi"}}',
            '{"name": "final_answer", "arguments": {"answer": "shouted"}}',
        ]
    )
    command = [str(CONSOLE_SCRIPT), "run", "task", "--agent", "tool", "--tools", "my_tools:shout"]
    command += ["--model", "openai/scripted", "--api-base", srv.url, "-v", "0"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "shouted\n"
    assert srv.requests[1]["messages"][-1]["content"].endswith("\nHI")


def test_serve_tools_finds_tools_in_the_current_directory(tmp_path, monkeypatch, no_orphans):
    from minagent.mcp import mcp_tools

    (tmp_path / "my_tools.py").write_text(MY_TOOLS)
    monkeypatch.chdir(tmp_path)  # the server starts where we are
    with mcp_tools(str(CONSOLE_SCRIPT), ["serve-tools", "my_tools:shout"]) as tools:
        assert tools[0](text="hi") == "HI"


def test_serve_tools_refuses_a_bad_spec(capsys):
    assert main(["serve-tools", "sample_tools:subtract"]) == 2
    assert capsys.readouterr().err.startswith("minagent: cannot load 'sample_tools:subtract'")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--tools", "sample_tools"], "'sample_tools' is not a module:attr spec; write e.g."),
        (["--tools", "minagent_no_such_module:tools"], "cannot load"),
        (["--tools", "sample_tools:subtract"], "cannot load 'sample_tools:subtract'"),
        (["--tools", "json:dumps"], "with the @tool decorator"),
        (["--tools", "math:pi"], "not a Tool or a list of Tools"),
        (["--mcp", " "], '--mcp needs a command to run, e.g. --mcp "python -m'),
        (["--mcp", "python -c 'unclosed"], "No closing quotation"),
        (["--mcp", "minagent-no-such-command"], "the command was not found"),
    ],
)
def test_bad_tool_options_say_what_to_write(options, message, server, capsys, no_orphans):
    srv = server([])
    assert run_with(srv, *options) == 2
    error = capsys.readouterr().err
    assert error.startswith("minagent: ") and message in error
    assert srv.requests == []  # refused before the model is asked anything


@pytest.mark.parametrize(
    ("second", "message"),
    [
        ("minagent-no-such-command", "could not start MCP server"),
        (REVENUE_SERVER, "more than one tool is named 'list_countries'"),
    ],
)
def test_servers_already_started_stop_when_the_options_fail(
    second, message, server, capsys, no_orphans
):
    srv = server([])
    assert run_with(srv, "--mcp", REVENUE_SERVER, "--mcp", second) == 2
    assert message in capsys.readouterr().err
