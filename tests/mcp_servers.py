"""Helpers for tests/test_mcp.py: a misbehaving MCP server and minagent tools to serve.

Run as a script, this is an MCP server (written with the SDK) whose tools fail on purpose:
``python tests/mcp_servers.py [mode]``, where mode ``exit-on-start`` exits before the
handshake, ``hang-on-start`` never answers it, and ``noisy-exit`` writes a lot of stderr
before exiting. Imported, it offers ``TOOLS``: minagent tools for ``serve`` round trips.
"""

import os
import sys
import time
from typing import Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from minagent.tools import Tool, tool

STDERR_LINE = "a line of server logging that goes on and on\n"

server = MCPServer("faulty", log_level="WARNING")


@server.tool()
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


@server.tool()
def crash(code: int = 7) -> str:
    """Kill the server process in the middle of the call."""
    print("about to crash", file=sys.stderr, flush=True)
    os._exit(code)


@server.tool()
def hang(seconds: float = 3600.0) -> str:
    """Sleep for a long time before answering."""
    time.sleep(seconds)
    return "woke up"


@server.tool()
def refuse(reason: str) -> str:
    """Fail with an error the client should see."""
    raise ToolError(f"refused: {reason}")


@server.tool(name="get-weather")
def get_weather(city: str) -> str:
    """A tool whose name is not a Python identifier."""
    return f"sunny in {city}"


@tool
def add(a: int, b: int = 0) -> int:
    """Add two integers.

    Args:
        a: The first number.
        b: The second number.

    Returns:
        The sum.
    """
    return a + b


@tool
def describe(items: list[str], style: Literal["short", "long"] = "short") -> dict:
    """Describe a list of items.

    Args:
        items: The items.
        style: How much to say.
    """
    print("this print goes to stderr, not into the protocol")
    return {"count": len(items), "first": items[0] if items else None, "style": style}


@tool
def divide(a: float, b: float) -> float:
    """Divide a by b.

    Args:
        a: The dividend.
        b: The divisor.
    """
    return a / b


# A hand-written schema, kept as is: nested objects and a description per property.
move = Tool(
    "move",
    "Move a point.",
    {
        "type": "object",
        "properties": {
            "point": {
                "type": "object",
                "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                "required": ["x", "y"],
                "description": "Where from.",
            },
            "dx": {"type": "number", "description": "How far right."},
        },
        "required": ["point", "dx"],
    },
    lambda point, dx: {"x": point["x"] + dx, "y": point["y"]},
    output_type="object",
)

TOOLS = [add, describe, divide, move]


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "serve"
    if mode == "exit-on-start":
        print("boom: cannot open the database", file=sys.stderr)
        sys.exit(3)
    if mode == "noisy-exit":
        sys.stderr.write(STDERR_LINE * 1000)
        sys.exit(4)
    if mode == "hang-on-start":
        time.sleep(3600)
    server.run("stdio")
