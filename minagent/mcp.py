"""Tools from the ecosystem: MCP servers as minagent tools, and minagent tools served over MCP.

The Model Context Protocol (MCP) is how tools are shared between agent frameworks: a
*server* is a separate program that lists its tools (name, description, JSON schema) and
runs them on request; a *client* talks to it as JSON-RPC over the server's stdin/stdout.
This module is both sides, built on the official ``mcp`` SDK:

1. ``mcp_tools(command, args)``: start a server, list its tools, and hand them back as
   ordinary ``Tool`` objects, so agents use them like any other tool.
2. ``serve(tools)``: the reverse, minagent tools offered to any MCP client
   (``minagent serve-tools module:tools``).

The SDK is asynchronous and our agents are not. Rather than make every agent async, the
client session lives on its own event loop in a background thread (an anyio "blocking
portal"), and each tool call is a coroutine submitted to that loop, waited for
synchronously. Nothing async leaves this module.

Example:
    >>> import sys
    >>> with mcp_tools(sys.executable, ["-m", "minagent.servers.revenue"]) as tools:
    ...     revenue = {t.name: t for t in tools}["revenue"]
    ...     revenue(country="France", period="after")
    107857.06
"""

from __future__ import annotations

import importlib
import json
import keyword
import math
import os
import re
import shlex
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, asynccontextmanager, contextmanager
from typing import IO, Any

import anyio
import anyio.to_thread
from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp import Client, MCPError, StdioServerParameters, types
from mcp.client.stdio import stdio_client
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from minagent.schema import JSON_TYPES
from minagent.tools import Tool, ToolSpecError, load_tools

# Seconds a server may take to start and list its tools before we give up on it. Generous:
# a real server may load a model or open a database (a Python one takes ~2 s just to import).
MCP_START_TIMEOUT_S = 60.0

# Seconds one tool call may take before we give up on it and tell the model.
MCP_CALL_TIMEOUT_S = 30.0

# How much of the end of a server's stderr to quote in an error: enough for the last
# traceback lines, not so much that one error floods a model's context.
MAX_STDERR_CHARS = 2_000


class MCPServerError(RuntimeError):
    """An MCP server could not be used at all: it did not start, crashed during start-up,
    or did not answer the handshake in time. Raised by ``mcp_tools`` on entry."""


class MCPToolError(RuntimeError):
    """A call to an MCP tool failed: the server reported an error, stopped, or timed out.

    Agents turn it into an observation, so its message is written for the model.
    """


# ---------------------------------------------------------------------------
# 1. Client: an MCP server's tools as minagent Tools
# ---------------------------------------------------------------------------


@contextmanager
def mcp_tools(
    command: str,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = MCP_CALL_TIMEOUT_S,
    start_timeout: float = MCP_START_TIMEOUT_S,
) -> Iterator[list[Tool]]:
    """Start a stdio MCP server, and yield its tools as minagent ``Tool``s.

    Each tool's name, description and parameters (JSON schema) are the server's own; calling
    a tool sends ``tools/call`` to the server and waits for the answer. The server runs for
    as long as the ``with`` block does, and is always stopped on the way out, also when the
    block raises.

    Args:
        command: the program to run, e.g. ``sys.executable`` or ``"npx"``.
        args: its command-line arguments, e.g. ``["-m", "minagent.servers.revenue"]``.
        env: extra environment variables for the server (the SDK passes only a safe few of
            ours, like PATH and HOME, so secrets in our environment do not leak to it).
        timeout: seconds each tool call may take.
        start_timeout: seconds allowed to start the server and list its tools.

    Raises:
        MCPServerError: on entry, when the server cannot be started or does not answer.
        (Tool calls raise ``MCPToolError``; see ``_Connection.call``.)

    Example:
        >>> with mcp_tools(sys.executable, ["-m", "minagent.servers.revenue"]) as tools:
        ...     [t.name for t in tools]
        ['list_countries', 'revenue', 'revenue_change']
    """
    params = StdioServerParameters(command=command, args=list(args), env=dict(env or {}))
    label = shlex.join([command, *args])
    with ExitStack() as stack:
        # The server's stderr goes to a file we can quote from when something goes wrong
        # (in a notebook, sys.stderr is not a real file a child process could write to).
        # Append mode: the child's writes land at the end whatever we read meanwhile.
        errlog = stack.enter_context(tempfile.TemporaryFile("a+b"))
        portal = stack.enter_context(start_blocking_portal(name="minagent-mcp"))
        connection = _Connection(label, portal, errlog, timeout)
        session = portal.wrap_async_context_manager(_connect(params, errlog, start_timeout))
        try:
            connection.client, listed = session.__enter__()
        except Exception as err:
            raise MCPServerError(connection.explain_start_failure(err, start_timeout)) from None
        # Closed as on a normal exit even when the block raised: the SDK would wrap the
        # agent's exception in its task groups' ExceptionGroups, and the way we stop the
        # server does not depend on why we leave. The exception propagates unchanged.
        stack.callback(session.__exit__, None, None, None)
        # Leaving the block stops the server first (closing its stdin, then killing it if
        # it lingers), then the event loop thread; this flag makes late calls fail clearly.
        stack.callback(setattr, connection, "closed", True)
        yield _to_tools(listed, connection)


@asynccontextmanager
async def _connect(params: StdioServerParameters, errlog: IO[bytes], timeout: float):
    """The SDK client, connected, and the server's tools; start-up is under ``timeout``.

    The deadline wraps the client (rather than just the handshake) because anyio scopes must
    nest: a timeout then unwinds the half-open client, and the SDK's transport kills the
    process, so a server that never answers leaves nothing behind.
    """
    with anyio.fail_after(timeout) as start_up:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            listed = await _list_tools(client)
            # The SDK imports jsonschema on the first call, to check results against output
            # schemas: seconds on a busy machine. Paid now, under the start-up deadline, it
            # cannot eat into the first call's timeout.
            await anyio.to_thread.run_sync(importlib.import_module, "jsonschema")
            # Started: from here on, each call has its own deadline instead.
            start_up.deadline = math.inf
            yield client, listed


async def _list_tools(client: Client) -> list[types.Tool]:
    """All the server's tools, following pagination (bounded by the start-up deadline)."""
    tools: list[types.Tool] = []
    cursor = None
    while True:
        page = await client.list_tools(cursor=cursor)
        tools += page.tools
        cursor = page.next_cursor
        if cursor is None:
            return tools


async def _call_tool(
    client: Client, name: str, arguments: dict, timeout: float
) -> types.CallToolResult:
    with anyio.fail_after(timeout):
        return await client.call_tool(name, arguments)


class _Connection:
    """One running server as the sync side sees it: the portal into the client's event
    loop, the server's stderr, and whether the ``with`` block is over."""

    def __init__(self, label: str, portal: BlockingPortal, errlog: IO[bytes], timeout: float):
        self.label = label
        self.portal = portal
        self.errlog = errlog
        self.timeout = timeout
        self.client: Client | None = None
        self.closed = False

    def call(self, name: str, arguments: dict) -> Any:
        """Run tool ``name`` on the server and return its value; raise MCPToolError if the
        server reports an error, stops, or takes longer than the timeout."""
        if self.closed:
            raise MCPToolError(
                f"MCP tool {name!r} was called after its server {self.label!r} was stopped: "
                "call MCP tools inside the `with mcp_tools(...)` block"
            )
        try:
            result = self.portal.call(_call_tool, self.client, name, arguments, self.timeout)
        except TimeoutError:
            raise MCPToolError(
                f"MCP tool {name!r} did not answer within {self.timeout:g} s (the server may "
                "be stuck); try different arguments or another tool"
            ) from None
        except MCPError as err:
            if err.error.code == types.CONNECTION_CLOSED:
                # The server process is gone (crashed, or killed), and its tools with it.
                raise MCPToolError(
                    f"MCP server {self.label!r} has stopped (it was running tool {name!r} "
                    f"or had stopped before); its tools cannot be used any more"
                    f"{self.stderr_tail()}"
                ) from None
            raise MCPToolError(f"MCP tool {name!r} failed: {err.error.message}") from None
        if result.is_error:
            raise MCPToolError(_content_text(result.content) or f"MCP tool {name!r} failed")
        return _result_value(result)

    def stderr_tail(self) -> str:
        """The end of the server's stderr, as a suffix for an error message ('' if empty)."""
        fd = self.errlog.fileno()
        size = os.fstat(fd).st_size
        # pread leaves the shared file offset alone (the child writes through the same file).
        text = os.pread(fd, MAX_STDERR_CHARS, max(0, size - MAX_STDERR_CHARS))
        text = text.decode("utf-8", errors="replace").strip()
        return f"\nThe server's stderr ends with:\n{text}" if text else ""

    def explain_start_failure(self, err: BaseException, start_timeout: float) -> str:
        # The SDK's task groups may wrap the real cause in (nested) exception groups.
        while len(getattr(err, "exceptions", ())) == 1:
            err = err.exceptions[0]
        if isinstance(err, FileNotFoundError):
            why = "the command was not found (is it installed, and on PATH?)"
        elif isinstance(err, TimeoutError):
            why = f"it did not start and list its tools within {start_timeout:g} s"
        elif isinstance(err, MCPError):
            why = f"it stopped during start-up ({err.error.message})"
        else:
            why = f"{type(err).__name__}: {err}"
        return f"could not start MCP server {self.label!r}: {why}{self.stderr_tail()}"


def _to_tools(listed: list[types.Tool], connection: _Connection) -> list[Tool]:
    """The server's tools as minagent Tools, under names that are Python identifiers."""
    tools, taken = [], set()
    for spec in listed:
        name = _python_name(spec.name, taken)
        taken.add(name)
        return_schema = _unwrap_output_schema(spec.output_schema)
        output_type = (return_schema or {}).get("type") if spec.output_schema else "string"
        tools.append(
            Tool(
                name=name,
                description=spec.description or spec.title or "",
                parameters=spec.input_schema,
                fn=_remote_call(connection, spec.name),
                output_type=output_type if isinstance(output_type, str) else "any",
                return_schema=return_schema,
            )
        )
    return tools


def _remote_call(connection: _Connection, server_name: str):
    """A plain function that calls the server's tool ``server_name`` with keyword arguments."""

    def call(**arguments: Any) -> Any:
        return connection.call(server_name, arguments)

    call.__name__ = server_name
    return call


def _python_name(name: str, taken: set[str]) -> str:
    """A name a CodeAgent can call as a function: ``"get-weather"`` -> ``"get_weather"``."""
    name = re.sub(r"\W", "_", name)[:60] or "tool"
    if name[0].isdigit() or keyword.iskeyword(name):
        name = "_" + name
    unique, n = name, 1
    while unique in taken:
        n += 1
        unique = f"{name}_{n}"
    return unique


# Servers built with the SDK's MCPServer return a bare value (a number, a list) as structured
# content {"result": value}, and say so with an output schema of exactly that shape.
def _unwrap_output_schema(schema: dict | None) -> dict | None:
    """The schema of the value a tool returns: the "result" property of a wrapped output
    schema, the schema itself otherwise. ``None`` when the server gives no output schema."""
    if schema is None:
        return None
    properties = schema.get("properties", {})
    if set(properties) == {"result"} and schema.get("required") == ["result"]:
        return dict(properties["result"])
    return dict(schema)


def _result_value(result: types.CallToolResult) -> Any:
    """The Python value of a successful call: the structured content when the server sent
    some (a code agent gets a real number or list, not its text), else the text content."""
    structured = result.structured_content
    if structured is not None:
        if isinstance(structured, dict) and set(structured) == {"result"}:
            return structured["result"]
        return structured
    return _content_text(result.content)


def _content_text(content: Sequence[types.ContentBlock]) -> str:
    """Text blocks joined by newlines; other blocks (images, audio) named by their type."""
    parts = []
    for block in content:
        if isinstance(block, types.TextContent):
            parts.append(block.text)
        else:
            mime = getattr(block, "mime_type", None)
            parts.append(f"[{block.type} content{f' ({mime})' if mime else ''}]")
    return "\n".join(parts)


# ---------------------------------------------------------------------------
# 2. Server: minagent Tools offered to any MCP client
# ---------------------------------------------------------------------------


def serve(tools: Sequence[Tool], name: str = "minagent") -> None:
    """Serve ``tools`` over MCP on stdin/stdout until the client closes stdin.

    Each tool is listed with its own name, description and parameters, so a client sees
    exactly the schema an agent here would. Calls are validated with ``Tool.call``; any
    error goes back to the client as an error result with the message a model can act on.
    While serving, stdout carries the protocol: the SDK points ``print`` output at stderr.

    Example (a file ``my_tools.py`` holding ``tools = [add, shout]``):
        ``minagent serve-tools my_tools:tools``, or in Python ``serve(tools)``.
    """
    anyio.run(_serve_stdio, _server(tools, name))


async def _serve_stdio(server: Server) -> None:
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def _server(tools: Sequence[Tool], name: str) -> Server:
    """The SDK's low-level server with two handlers: list the tools, call one of them."""
    by_name = {tool.name: tool for tool in tools}
    listing = types.ListToolsResult(tools=[_tool_spec(tool) for tool in tools])

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return listing

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        tool = by_name.get(params.name)
        if tool is None:
            return _error_result(
                f"unknown tool {params.name!r}; available tools: {', '.join(by_name)}"
            )
        try:
            # In a worker thread: a slow tool must not stop the server answering others.
            value = await anyio.to_thread.run_sync(tool.call, params.arguments or {})
        except Exception as err:
            return _error_result(f"{type(err).__name__}: {err}")
        value = _jsonable(value)
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=text)],
            structured_content={"result": value},
        )

    return Server(
        name,
        get_tool_input_schema=lambda tool_name: by_name[tool_name].parameters,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def _tool_spec(tool: Tool) -> types.Tool:
    """How a Tool is listed: its schema as is, and its output wrapped as MCPServer does it."""
    if tool.return_schema is not None:
        returns = tool.return_schema
    elif tool.output_type in JSON_TYPES:  # "image", "any"...: left unconstrained
        returns = {"type": tool.output_type}
    else:
        returns = {}
    return types.Tool(
        name=tool.name,
        description=tool.description,
        input_schema=tool.parameters,
        output_schema={
            "type": "object",
            "properties": {"result": returns},
            "required": ["result"],
        },
    )


def _error_result(message: str) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=message)], is_error=True
    )


def _jsonable(value: Any) -> Any:
    """``value`` as JSON data: tuples become lists, unknown objects their ``str``."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def main_serve_tools(argv: Sequence[str] | None = None) -> int:
    """``minagent serve-tools module:attr``: serve the Tool (or list of Tools) at module.attr.

    Returns the exit code; errors go to stderr, since stdout carries the protocol.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 1 or ":" not in argv[0]:
        return _usage_error("usage: minagent serve-tools module:attr (a Tool or a list of Tools)")
    try:
        tools = load_tools(argv[0])
    except ToolSpecError as err:
        return _usage_error(f"minagent serve-tools: {err}")
    serve(tools, name=argv[0].partition(":")[0])
    return 0


def _usage_error(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


if __name__ == "__main__":
    # ``python -m minagent.mcp module:attr`` is ``minagent serve-tools module:attr``.
    sys.exit(main_serve_tools())
