"""The `minagent` command: run an agent on a task, or chat with a model.

minagent run "What is 17 * 23 + 5?"            # CodeAgent on the embedded SmolLM2
minagent run --agent tool "..."                # ToolCallingAgent
minagent run --model openai/gpt-4o-mini "..."  # any litellm model id
minagent chat "Tell me a joke"                 # stream a reply
minagent serve-tools my_tools:tools            # serve minagent tools over MCP (stdio)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from minagent.agents import EXECUTORS, AgentConfig, AgentError, CodeAgent, ToolCallingAgent
from minagent.display import VERBOSITY_LEVELS
from minagent.messages import user
from minagent.models import LiteLLMModel, LocalModel, Model, ModelError


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
        "--executor", choices=EXECUTORS, default="local", help="where code runs (CodeAgent)"
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
    model = build_model(args.model, args.api_base)
    options = {"max_steps": args.max_steps, "verbosity": args.verbosity}
    if args.agent == "tool":
        agent = ToolCallingAgent([], model, **options)
    else:
        imports = [name.strip() for name in args.imports.split(",") if name.strip()]
        agent = CodeAgent(
            [], model, additional_authorized_imports=imports, executor=args.executor, **options
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `minagent` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "serve-tools":
        from minagent.mcp import main_serve_tools  # the MCP SDK loads only for this command

        return main_serve_tools([args.spec])
    try:
        return run_command(args) if args.command == "run" else chat_command(args)
    except (AgentError, ModelError) as err:
        print(f"minagent: {type(err).__name__}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
