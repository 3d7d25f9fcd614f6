"""LiteLLMModel, proven offline: llama-cpp-python's own OpenAI-compatible server on loopback."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from types import SimpleNamespace

import pytest

from minagent.messages import user
from minagent.models import LiteLLMModel, ModelError, embedded_model_path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server():
    pytest.importorskip("uvicorn", reason="pip install 'llama-cpp-python[server]' (dev extra)")
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(embedded_model_path()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
            "--model_alias",
            "smollm2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{base}/models", timeout=1)
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail("llama_cpp.server exited at start-up")
                time.sleep(0.25)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_generate_through_litellm_against_a_loopback_server(llama_server):
    model = LiteLLMModel("openai/smollm2", api_base=llama_server, api_key="not-needed")
    reply = model.generate([user("Say hello.")], max_tokens=12, temperature=0)
    assert reply.role == "assistant" and reply.content.strip()
    assert reply.usage.input_tokens > 0 and 0 < reply.usage.output_tokens <= 12


@pytest.mark.slow
def test_stream_through_litellm(llama_server):
    model = LiteLLMModel("openai/smollm2", api_base=llama_server, api_key="not-needed")
    pieces = list(model.stream([user("Count to three.")], max_tokens=10))
    assert len(pieces) > 1 and "".join(pieces).strip()


def test_a_server_that_is_down_is_a_clear_retryable_error():
    model = LiteLLMModel(
        "openai/smollm2", api_base=f"http://127.0.0.1:{free_port()}/v1", api_key="x"
    )
    with pytest.raises(ModelError, match="Is the server up") as caught:
        model.generate([user("hi")], max_tokens=4)
    assert caught.value.retryable


def test_a_down_server_costs_one_request_per_agent_attempt():
    # Retries live in one place, the agent loop: 1 + model_retries requests, not 3 x 4.
    from minagent.agents import AgentModelError, ToolCallingAgent

    model = LiteLLMModel(
        "openai/smollm2", api_base=f"http://127.0.0.1:{free_port()}/v1", api_key="x"
    )
    requests = []
    real_completion = model.litellm.completion
    model.litellm = SimpleNamespace(
        exceptions=model.litellm.exceptions,
        completion=lambda **kw: requests.append(kw) or real_completion(**kw),
    )
    agent = ToolCallingAgent([], model, verbosity=0, model_retries=2, retry_delay=0)
    with pytest.raises(AgentModelError, match="failed 3 times"):
        agent.run("hi")
    assert len(requests) == 3


def test_a_missing_api_key_names_the_variable(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ModelError, match="OPENAI_API_KEY"):
        LiteLLMModel("openai/gpt-4o-mini")


def test_grammar_is_refused_with_advice():
    model = LiteLLMModel("openai/smollm2", api_base="http://127.0.0.1:9/v1", api_key="x")
    with pytest.raises(ModelError, match="json_schema"):
        model.generate([user("hi")], grammar='root ::= "a"')


def test_litellm_stays_offline_when_imported_by_the_model():
    assert os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
