"""minagent.mcp: real stdio MCP servers (written with the SDK) as tools, and tools served.

Every server here is a real child process; the autouse fixture checks that none outlives
its test, whatever the test did to it.
"""

import csv
import json
import os
import sys
from pathlib import Path

import anyio
import mcp_servers  # tests/mcp_servers.py: pytest puts the tests folder on sys.path
import psutil
import pytest
from mcp import Client
from processes import live_children

from minagent import mcp
from minagent.agents import AgentModelError, CodeAgent, ToolCallingAgent
from minagent.data import data_path
from minagent.mcp import MCPServerError, MCPToolError, main_serve_tools, mcp_tools
from minagent.models import ScriptedModel
from minagent.servers import revenue as revenue_server
from minagent.tools import ToolArgumentError

TESTS = Path(__file__).parent
FAULTY = [str(TESTS / "mcp_servers.py")]
REVENUE = ["-m", "minagent.servers.revenue"]
# The helper module is imported by the served process; PYTHONPATH is how it finds it.
SERVED = ["-m", "minagent.mcp", "mcp_servers:TOOLS"]
SERVED_ENV = {"PYTHONPATH": str(TESTS)}


@pytest.fixture(autouse=True)
def no_orphans():
    """No server process started during a test may survive it."""
    before = live_children()
    yield
    survivors = live_children() - before
    assert not survivors, f"child processes survived the test: {survivors}"


@pytest.fixture(scope="module")
def revenue_tools():
    before = live_children()
    with mcp_tools(sys.executable, REVENUE) as tools:
        yield {t.name: t for t in tools}
    assert live_children() == before


def _revenue_table() -> dict[str, dict[str, float]]:
    with data_path("revenue_by_country.csv").open(newline="") as file:
        return {
            r["country"]: {"before": float(r["before"]), "after": float(r["after"])}
            for r in csv.DictReader(file)
        }


# ---------------------------------------------------------------------------
# Tools from a server
# ---------------------------------------------------------------------------


def test_tools_carry_the_servers_own_schemas(revenue_tools):
    # Oracle: what the SDK's MCPServer itself lists for these functions.
    listed = anyio.run(revenue_server.server.list_tools)
    assert sorted(revenue_tools) == sorted(spec.name for spec in listed)
    for spec in listed:
        ours = revenue_tools[spec.name]
        assert ours.parameters == spec.input_schema
        assert ours.description == spec.description
    assert revenue_tools["revenue"].output_type == "number"
    assert revenue_tools["list_countries"].output_type == "array"
    assert revenue_tools["revenue"].schema["function"]["parameters"]["required"] == [
        "country",
        "period",
    ]


def test_calls_return_the_servers_values(revenue_tools):
    table = _revenue_table()
    assert revenue_tools["list_countries"]() == list(table)
    # Structured content comes back as Python values, not their text.
    assert revenue_tools["revenue"](country="France", period="after") == table["France"]["after"]
    change = revenue_tools["revenue_change"].call({"country": "Spain"})
    assert change == round(table["Spain"]["after"] - table["Spain"]["before"], 2)


def test_a_server_side_error_becomes_a_tool_error(revenue_tools):
    with pytest.raises(MCPToolError, match="unknown country 'Narnia'; known countries: other"):
        revenue_tools["revenue_change"](country="Narnia")


def test_arguments_failing_the_servers_schema(revenue_tools):
    tool = revenue_tools["revenue"]
    # Tool.call checks the server's schema before anything is sent...
    with pytest.raises(ToolArgumentError, match='expected one of "before", "after"'):
        tool.call({"country": "France", "period": "during"})
    with pytest.raises(ToolArgumentError, match="missing required argument 'period'"):
        tool.call({"country": "France"})
    # ...and a direct call, which skips that check, is refused by the server itself.
    with pytest.raises(MCPToolError, match="Input should be 'before' or 'after'"):
        tool(country="France", period="during")
    # The server is still usable after refusing.
    assert tool(country="UK", period="before") == _revenue_table()["UK"]["before"]


def test_names_become_python_identifiers():
    with mcp_tools(sys.executable, FAULTY) as tools:
        by_name = {t.name: t for t in tools}
        assert "get_weather" in by_name and "get-weather" not in by_name
        # The call still reaches the server's tool under its own name.
        assert by_name["get_weather"](city="Oslo") == "sunny in Oslo"
        with pytest.raises(MCPToolError, match="refused: no reason"):
            by_name["refuse"](reason="no reason")


def test_python_name_rules():
    taken: set[str] = set()
    assert mcp._python_name("get-weather", taken) == "get_weather"
    assert mcp._python_name("2fast", taken) == "_2fast"
    assert mcp._python_name("import", taken) == "_import"
    assert mcp._python_name("a.b", {"a_b"}) == "a_b_2"


# ---------------------------------------------------------------------------
# Agents using a server's tools
# ---------------------------------------------------------------------------


def _call(name: str, **arguments) -> str:
    return json.dumps({"name": name, "arguments": arguments})


def test_tool_calling_agent_uses_the_servers_tools(revenue_tools):
    table = _revenue_table()
    model = ScriptedModel(
        [
            _call("revenue_change", country="France"),
            _call("revenue", country="Narnia", period="after"),
            _call("final_answer", answer="France"),
        ]
    )
    agent = ToolCallingAgent(list(revenue_tools.values()), model, verbosity=0)
    assert agent.run("Which country lost the most revenue?") == "France"
    first, second, _ = agent.memory.steps
    expected = round(table["France"]["after"] - table["France"]["before"], 2)
    assert first.observation == json.dumps(expected) and first.error is None
    # The server's error reached the model as an observation, not as a crash.
    assert "unknown country 'Narnia'; known countries" in second.error
    # And the model saw the servers' schemas in its system prompt.
    assert "revenue_change" in model.calls[0][0].content


def test_code_agent_calls_the_servers_tools_as_functions(revenue_tools):
    table = _revenue_table()
    oracle = min(table, key=lambda c: table[c]["after"] - table[c]["before"])
    code = (
        "worst, drop = None, 0\n"
        "for country in list_countries():\n"
        "    change = revenue_change(country=country)\n"
        "    if change < drop:\n"
        "        worst, drop = country, change\n"
        "print(worst, drop)"
    )
    model = ScriptedModel(
        [
            f"```python\n{code}\n```",
            "```python\nrevenue(country='Atlantis', period='before')\n```",
            "```python\nfinal_answer(worst)\n```",
        ]
    )
    agent = CodeAgent(list(revenue_tools.values()), model, executor="local", verbosity=0)
    assert agent.run("Which country lost the most revenue?") == oracle
    first, second, _ = agent.memory.steps
    assert first.observation.startswith(f"{oracle} -")
    assert "MCPToolError" in second.error and "unknown country 'Atlantis'" in second.error


def test_a_crash_is_an_observation_and_the_run_goes_on():
    model = ScriptedModel([_call("crash"), _call("final_answer", answer="gave up")])
    with mcp_tools(sys.executable, FAULTY) as tools:
        agent = ToolCallingAgent(tools, model, verbosity=0)
        assert agent.run("Crash the server.") == "gave up"
    assert "has stopped" in agent.memory.steps[0].error


def test_the_server_stops_when_the_agent_run_fails():
    # The script runs out after one step: the run raises inside the block.
    model = ScriptedModel([_call("echo", text="hi")])
    with pytest.raises(AgentModelError):
        with mcp_tools(sys.executable, FAULTY) as tools:
            ToolCallingAgent(tools, model, verbosity=0, retry_delay=0).run("Echo forever.")


# ---------------------------------------------------------------------------
# Bad input: every way a server can fail, and no process left behind
# ---------------------------------------------------------------------------


def test_a_command_that_does_not_exist():
    with pytest.raises(MCPServerError, match="command was not found"):
        with mcp_tools("minagent-no-such-server-command", ["--stdio"]):
            pass


def test_a_server_that_exits_during_start_up():
    with pytest.raises(MCPServerError, match="stopped during start-up") as info:
        with mcp_tools(sys.executable, [*FAULTY, "exit-on-start"]):
            pass
    # The server's own explanation is quoted, so the user can fix the cause.
    assert "boom: cannot open the database" in str(info.value)


def test_a_server_that_never_answers_trips_the_start_timeout():
    with pytest.raises(MCPServerError, match="did not start and list its tools within 3 s"):
        with mcp_tools(sys.executable, [*FAULTY, "hang-on-start"], start_timeout=3):
            pass


def test_a_hung_server_behind_a_wrapper_leaves_no_grandchild():
    # sh runs the server as its child (not exec): killing only sh would orphan the server,
    # which then escapes a check of our own children. So look for it by a unique argument.
    marker = f"minagent-test-marker-{os.getpid()}"
    script = '"$0" "$@"; echo "wrapper done"'
    command = ["-c", script, sys.executable, *FAULTY, "hang-on-start", marker]
    with pytest.raises(MCPServerError, match="within 3 s"):
        with mcp_tools("sh", command, start_timeout=3):
            pass
    assert not [
        p.pid
        for p in psutil.process_iter(["cmdline", "status"])
        if marker in (p.info["cmdline"] or []) and p.info["status"] != psutil.STATUS_ZOMBIE
    ]


def test_quoted_stderr_is_capped():
    with pytest.raises(MCPServerError) as info:
        with mcp_tools(sys.executable, [*FAULTY, "noisy-exit"]):
            pass
    message = str(info.value)
    quoted = message.split("The server's stderr ends with:\n", 1)[1]
    assert len(quoted) <= mcp.MAX_STDERR_CHARS
    assert quoted.endswith("goes on and on")


def test_a_server_that_crashes_during_a_call():
    with mcp_tools(sys.executable, FAULTY) as tools:
        by_name = {t.name: t for t in tools}
        with pytest.raises(MCPToolError, match="has stopped") as info:
            by_name["crash"]()
        assert "about to crash" in str(info.value)
        # The server is gone, and says so on every later call instead of hanging.
        with pytest.raises(MCPToolError, match="cannot be used any more"):
            by_name["echo"](text="hello?")


def test_a_call_that_hangs_trips_the_call_timeout():
    with mcp_tools(sys.executable, FAULTY, timeout=2) as tools:
        by_name = {t.name: t for t in tools}
        with pytest.raises(MCPToolError, match="did not answer within 2 s"):
            by_name["hang"]()
        # A stuck call does not block the others.
        assert by_name["echo"](text="still here") == "still here"
    # Leaving the block stopped the server although a call is still sleeping in it
    # (the autouse fixture checks no process survived).


def test_the_server_stops_when_the_agent_fails():
    with pytest.raises(KeyError, match="agent failed"):
        with mcp_tools(sys.executable, FAULTY) as tools:
            assert tools[0].name
            raise KeyError("agent failed")


def test_a_call_after_the_block_is_a_clear_error():
    with mcp_tools(sys.executable, FAULTY) as tools:
        echo = {t.name: t for t in tools}["echo"]
    with pytest.raises(MCPToolError, match=r"inside the `with mcp_tools\(...\)` block"):
        echo(text="too late")


# ---------------------------------------------------------------------------
# Serving minagent tools over MCP
# ---------------------------------------------------------------------------


def test_serve_round_trip_keeps_schemas_and_values():
    with mcp_tools(sys.executable, SERVED, env=SERVED_ENV) as tools:
        served = {t.name: t for t in tools}
        assert list(served) == [t.name for t in mcp_servers.TOOLS]
        for original in mcp_servers.TOOLS:
            back = served[original.name]
            assert (back.name, back.description) == (original.name, original.description)
            assert back.parameters == original.parameters
            assert back.output_type == original.output_type
            if original.return_schema is not None:
                assert back.schema == original.schema
        assert served["add"](a=2, b=3) == 5
        assert served["describe"].call({"items": ["x", "y"], "style": "long"}) == {
            "count": 2,
            "first": "x",
            "style": "long",
        }
        assert served["move"](point={"x": 1.0, "y": 2.0}, dx=0.5) == {"x": 1.5, "y": 2.0}


def test_the_minagent_command_serves_tools():
    command = Path(sys.executable).with_name("minagent")
    with mcp_tools(str(command), ["serve-tools", "mcp_servers:TOOLS"], env=SERVED_ENV) as tools:
        assert {t.name: t for t in tools}["add"](a=2, b=3) == 5


def test_served_tools_report_errors_to_the_client():
    with mcp_tools(sys.executable, SERVED, env=SERVED_ENV) as tools:
        served = {t.name: t for t in tools}
        with pytest.raises(MCPToolError, match="ZeroDivisionError: float division by zero"):
            served["divide"](a=1.0, b=0.0)
        # The server validates too: a direct call skips the client-side check.
        with pytest.raises(MCPToolError, match="argument 'a': expected integer"):
            served["add"](a="two")


def test_an_unknown_tool_name_is_an_error_result():
    # In process (the SDK connects a client straight to a server object): the name is not
    # one a listing would offer, so only a hand-made request can send it.
    async def call_unknown():
        async with Client(mcp._server(mcp_servers.TOOLS, "test")) as client:
            return await client.call_tool("subtract", {"a": 1})

    result = anyio.run(call_unknown)
    assert result.is_error
    assert result.content[0].text == (
        "unknown tool 'subtract'; available tools: add, describe, divide, move"
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_colon", "usage: minagent serve-tools module:attr"),
        ("minagent_no_such_module:tools", "cannot load"),
        ("minagent.tools:no_such_attr", "cannot load"),
        ("minagent.arguments:json_type_name", "is not a Tool or a list of Tools"),
    ],
)
def test_serve_tools_rejects_bad_specs(spec, message, capsys):
    assert main_serve_tools([spec]) == 2
    assert message in capsys.readouterr().err
