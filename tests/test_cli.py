"""The `minagent` command, end to end through litellm against a scripted loopback server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

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
