"""The `minagent` command: run an agent on a task, or chat with a model.

minagent run "What is 17 * 23 + 5?"            # CodeAgent on the embedded SmolLM2
minagent run --agent tool "..."                # ToolCallingAgent
minagent run --model openai/gpt-4o-mini "..."  # any litellm model id
minagent run --tools my_tools:tools "..."      # with the Tool(s) at my_tools.tools
minagent run --mcp "python -m minagent.servers.revenue" "..."  # with an MCP server's tools
minagent chat "Tell me a joke"                 # stream a reply
minagent serve-tools my_tools:tools            # serve minagent tools over MCP (stdio)

``--tools`` and ``--mcp`` may be repeated and mixed. A ``module:attr`` spec names a Tool
or a list of Tools; the module is looked for in the current directory first, as
``python -m`` would. An ``--mcp`` server runs for the length of the run and is stopped
when it ends, however it ends.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack

from minagent.agents import EXECUTORS, AgentConfig, AgentError, CodeAgent, ToolCallingAgent
from minagent.display import VERBOSITY_LEVELS
from minagent.messages import user
from minagent.models import LiteLLMModel, LocalModel, Model, ModelError
from minagent.tools import Tool, ToolSpecError, load_tools

MCP_EXAMPLE = '--mcp "python -m minagent.servers.revenue"'


class CommandLineError(Exception):
    """Options we cannot act on (an --mcp server that does not start, two tools of one
    name); the message says what to do."""


def start_mcp_server(command_line: str, stack: ExitStack) -> list[Tool]:
    """Start the MCP server that ``command_line`` runs, stopped when ``stack`` closes.

    Example: ``start_mcp_server("python -m minagent.servers.revenue", stack)`` -> its tools
    """
    try:
        words = shlex.split(command_line)
    except ValueError as err:  # an unclosed quote
        raise CommandLineError(f"--mcp {command_line!r}: {err}") from None
    if not words:
        raise CommandLineError(f"--mcp needs a command to run, e.g. {MCP_EXAMPLE}")
    from minagent.mcp import MCPServerError, mcp_tools  # the MCP SDK loads only when used

    try:
        return stack.enter_context(mcp_tools(words[0], words[1:]))
    except MCPServerError as err:
        raise CommandLineError(f"--mcp {command_line!r}: {err}") from None


def gather_tools(args: argparse.Namespace, stack: ExitStack) -> list[Tool]:
    """The tools of ``--tools`` and ``--mcp``, under distinct names."""
    tools = [t for spec in args.tools for t in load_tools(spec)]
    tools += [t for command in args.mcp for t in start_mcp_server(command, stack)]
    clashes = [name for name, count in Counter(t.name for t in tools).items() if count > 1]
    if clashes:
        # An agent keeps one tool per name: the model would silently lose the others.
        raise CommandLineError(
            f"more than one tool is named {clashes[0]!r}: load each set of tools once, "
            "or rename one (@tool(name=...))"
        )
    return tools


def build_model(model_id: str | None, api_base: str | None = None) -> Model:
    """The embedded model when no id is given, else a litellm model."""
    if model_id is None:
        return LocalModel()
    return LiteLLMModel(model_id, api_base=api_base, api_key="none" if api_base else None)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minagent", description="A small code agent.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run an agent on a task and print its trace")
    run.add_argument("task", help="what the agent should do")
    run.add_argument(
        "--agent",
        choices=("code", "tool"),
        default="code",
        help="code: Python actions (default); tool: JSON tool calls",
    )
    run.add_argument("--model", help="a litellm model id (default: embedded SmolLM2-135M)")
    run.add_argument("--api-base", help="server URL for --model (a llama.cpp server, say)")
    run.add_argument("--max-steps", type=int, default=AgentConfig.max_steps)
    run.add_argument("--imports", default="", help="extra authorised imports: math,re,...")
    run.add_argument(
        "--executor",
        choices=EXECUTORS,
        default=EXECUTORS[0],
        help="where code runs (CodeAgent): sandbox (default; bubblewrap, else a child process "
        "with a warning), process, local (this process), tree (unit 04's interpreter)",
    )
    run.add_argument(
        "--tools",
        action="append",
        default=[],
        metavar="MODULE:ATTR",
        help="tools for the agent: a Tool or a list of Tools, e.g. my_tools:tools (repeatable)",
    )
    run.add_argument(
        "--mcp",
        action="append",
        default=[],
        metavar="COMMAND",
        help=f"tools from an MCP server over stdio, e.g. {MCP_EXAMPLE} (repeatable)",
    )
    run.add_argument("-v", "--verbosity", type=int, choices=VERBOSITY_LEVELS, default=1)

    chat = commands.add_parser("chat", help="stream a model's reply to a prompt")
    chat.add_argument("prompt")
    chat.add_argument("--model", help="a litellm model id (default: embedded SmolLM2-135M)")
    chat.add_argument("--api-base", help="server URL for --model")
    chat.add_argument("--max-tokens", type=int, default=256)

    serve = commands.add_parser("serve-tools", help="serve minagent tools over MCP (stdio)")
    serve.add_argument("spec", help="module:attr holding a Tool or a list of Tools")
    return parser


def run_command(args: argparse.Namespace) -> int:
    with ExitStack() as stack:  # stops the MCP servers, however the run ends
        tools = gather_tools(args, stack)
        model = build_model(args.model, args.api_base)
        options = {"max_steps": args.max_steps, "verbosity": args.verbosity}
        if args.agent == "tool":
            agent = ToolCallingAgent(tools, model, **options)
        else:
            imports = [name.strip() for name in args.imports.split(",") if name.strip()]
            agent = CodeAgent(
                tools,
                model,
                additional_authorized_imports=imports,
                executor=args.executor,
                **options,
            )
        answer = agent.run(args.task)
    if args.verbosity == 0:
        print(answer)
    return 0


def chat_command(args: argparse.Namespace) -> int:
    model = build_model(args.model, args.api_base)
    for piece in model.stream([user(args.prompt)], max_tokens=args.max_tokens):
        print(piece, end="", flush=True)
    print()
    return 0


def serve_command(args: argparse.Namespace) -> int:
    tools = load_tools(args.spec)
    from minagent.mcp import serve  # the MCP SDK loads only for this command

    serve(tools, name=args.spec.partition(":")[0])
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `minagent` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    # A console script, unlike `python -m`, does not put the current directory on sys.path,
    # where the module of a `module:attr` spec usually is.
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    commands = {"run": run_command, "chat": chat_command, "serve-tools": serve_command}
    try:
        return commands[args.command](args)
    except (ToolSpecError, CommandLineError) as err:
        print(f"minagent: {err}", file=sys.stderr)
        return 2
    except (AgentError, ModelError) as err:
        print(f"minagent: {type(err).__name__}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
