"""Train, convert and evaluate the agent adapter from the command line.

    python -m minagent.train train --out runs/agent     # data, LoRA training, GGUF adapter
    python -m minagent.train eval --adapter runs/agent/agent-lora.gguf
    python -m minagent.train eval --adapter none        # the plain model, for comparison

`train` writes into --out: the GGUF adapter, `train.json` (settings, data sizes and the loss
of every step) and `loss.png`. Everything is seeded: the same command gives the same
adapter (up to floating-point summation order across thread counts).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

from minagent.train.loop import TrainConfig

DEFAULT_TRAIN_TASKS = 720
"""Tasks in the default training set; with their JSON-call twins and the replayed chat turns,
906 conversations (the committed adapter's data)."""

DEFAULT_TOOL_SHARE = 0.5
"""Share of the tool tasks that also give a ToolCallingAgent (JSON) conversation."""

CHAT_REPEATS = 3
"""Each replayed chat turn (see minagent.train.chat) is in the data this many times: there are
few of them, and they are short next to the agent conversations."""

DEFAULT_EVAL_TASKS = 36
"""Held-out tasks evaluated by default: six per held-out family."""


def build_examples(
    n_tasks: int, seed: int, tool_share: float, chat: bool = True
) -> tuple[list, dict]:
    """Training examples from `n_tasks` generated tasks (and, with `chat`, the plain model's
    own chat replies, CHAT_REPEATS times each), and counts for the card."""
    from collections import Counter

    from minagent.train.render import embedded_template, llama_tokenizer, trajectory_example
    from minagent.train.tasks import make_tasks
    from minagent.train.trajectories import make_trajectories

    template, eos = embedded_template()
    tokenize = llama_tokenizer()
    trajectories = make_trajectories(make_tasks("train", n_tasks, seed), tool_share)
    if chat:
        from minagent.models import LocalModel
        from minagent.train.chat import chat_trajectories

        trajectories += chat_trajectories(LocalModel(adapter=None)) * CHAT_REPEATS
    examples = [trajectory_example(t, template, tokenize, eos) for t in trajectories]
    counts = {
        "conversations": len(examples),
        "by_agent": dict(Counter(t.agent for t in trajectories)),
        "by_family": dict(Counter(t.task.family if t.task else "chat" for t in trajectories)),
        "tokens": sum(len(e.ids) for e in examples),
        "learned_tokens": sum(sum(e.learn) for e in examples),
    }
    return examples, counts


def plot_losses(losses: list[float], path: Path) -> None:
    """The loss curve as a PNG (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 3.5))
    axes.plot(range(1, len(losses) + 1), losses, marker=".")
    axes.set_xlabel("optimizer step")
    axes.set_ylabel("loss per learned token")
    axes.set_title("SmolLM2-135M-Instruct, LoRA on agent conversations")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def train_command(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from minagent.train.convert import write_gguf_lora
    from minagent.train.loop import add_lora, load_base_model, train

    config = TrainConfig(
        seed=args.seed,
        epochs=args.epochs,
        batch_size=args.batch_size,
        micro_batch=args.micro_batch,
        learning_rate=args.learning_rate,
        lora_rank=args.rank,
        lora_alpha=2.0 * args.rank,
        threads=args.threads,
        max_steps=args.max_steps,
        max_seconds=args.max_minutes * 60 if args.max_minutes else None,
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    examples, counts = build_examples(args.tasks, args.seed, args.tool_share, not args.no_chat)
    print(f"{counts['conversations']} conversations, {counts['tokens']:,} tokens", flush=True)
    model = add_lora(load_base_model(), config)
    started = time.monotonic()
    with tqdm(desc="training", unit="step") as bar:

        def show(step: int, loss: float) -> None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.3f}")

        losses = train(model, examples, config, on_step=show)
    seconds = time.monotonic() - started
    adapter = write_gguf_lora(model, out / "agent-lora.gguf")
    plot_losses(losses, out / "loss.png")
    record = {"config": asdict(config), "tasks": args.tasks, "tool_share": args.tool_share,
              "chat": not args.no_chat, "data": counts, "losses": losses,
              "train_seconds": round(seconds)}  # fmt: skip
    (out / "train.json").write_text(json.dumps(record, indent=2))
    print(f"adapter: {adapter} ({adapter.stat().st_size / 1e6:.1f} MB), {seconds / 60:.0f} min")


def eval_command(args: argparse.Namespace) -> None:
    from minagent.models import LocalModel
    from minagent.train.evaluate import evaluate, format_report
    from minagent.train.tasks import make_tasks

    adapter = None if args.adapter == "none" else args.adapter
    model = LocalModel(adapter=adapter) if adapter != "default" else LocalModel()
    tasks = make_tasks("held_out", args.tasks, seed=args.seed)
    report = evaluate(tasks, model, agent=args.agent, point_out_repeats=not args.no_repeat_note)
    print(format_report(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m minagent.train", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    defaults = TrainConfig()
    tr = commands.add_parser("train", help="generate data, train LoRA, write the GGUF adapter")
    tr.add_argument("--out", default="runs/agent", help="output folder")
    tr.add_argument("--tasks", type=int, default=DEFAULT_TRAIN_TASKS)
    tr.add_argument("--tool-share", type=float, default=DEFAULT_TOOL_SHARE)
    tr.add_argument("--no-chat", action="store_true", help="leave out the replayed chat turns")
    tr.add_argument("--seed", type=int, default=defaults.seed)
    tr.add_argument("--epochs", type=float, default=defaults.epochs)
    tr.add_argument("--batch-size", type=int, default=defaults.batch_size)
    tr.add_argument("--micro-batch", type=int, default=defaults.micro_batch)
    tr.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    tr.add_argument("--rank", type=int, default=defaults.lora_rank)
    tr.add_argument("--threads", type=int, default=defaults.threads)
    tr.add_argument("--max-steps", type=int, help="stop after this many steps")
    tr.add_argument("--max-minutes", type=float, help="stop training after this long")
    tr.set_defaults(run=train_command)
    ev = commands.add_parser("eval", help="run the agent on held-out tasks")
    ev.add_argument("--adapter", default="default", help="a .gguf adapter, 'default' or 'none'")
    ev.add_argument("--agent", choices=["code", "tool"], default="code")
    ev.add_argument("--tasks", type=int, default=DEFAULT_EVAL_TASKS)
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument(
        "--no-repeat-note", action="store_true", help="no note when a step repeats an earlier one"
    )
    ev.add_argument("--json", help="also write the report to this file")
    ev.set_defaults(run=eval_command)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
