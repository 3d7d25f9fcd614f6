"""A short LoRA fine-tuning loop on CPU: PyTorch, transformers and peft, nothing hidden.

The base model is the same GGUF file LocalModel runs: transformers reads it and
dequantizes its Q4_1 weights to float32, so we train on exactly the weights llama.cpp
will add the adapter to. LoRA freezes those weights and learns, for each projection
matrix W of every layer, a low-rank correction B @ A (rank r, a few MB in all), scaled
by alpha / r.

The loop is the textbook one: shuffle, cut into batches, forward, cross-entropy on the
learned tokens only, backward, AdamW step, with a short warm-up and a cosine decay of the
learning rate. A batch is split into micro-batches of similar length (less padding, less
memory), whose gradients add up before the step.

Example (needs `pip install -e '.[train]'`):
        model = add_lora(load_base_model(), TrainConfig())
        losses = train(model, examples, TrainConfig(epochs=1))
        losses[-1] < losses[0]  # -> True
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from minagent.train.render import Example

LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
"""Every projection of every layer: attention (q, k, v, o) and MLP (gate, up, down)."""

IGNORE_INDEX = -100
"""The label PyTorch's cross-entropy skips: every token the loss does not cover."""


@dataclass(frozen=True)
class TrainConfig:
    """Every knob of a training run, with its default and what it means."""

    seed: int = 0
    "Seeds the shuffling, LoRA's initial weights and dropout: same seed, same adapter."
    epochs: float = 1.0
    "Passes over the examples (a fraction stops early)."
    batch_size: int = 8
    "Sequences per optimizer step."
    micro_batch: int = 4
    "Sequences per forward pass; gradients of a batch's micro-batches add up."
    learning_rate: float = 1e-3
    "Peak learning rate (LoRA takes larger ones than full fine-tuning)."
    warmup_steps: int = 5
    "Steps of linear warm-up before the cosine decay."
    lora_rank: int = 8
    "Rank r of each low-rank correction B @ A."
    lora_alpha: float = 16.0
    "The correction is scaled by lora_alpha / lora_rank."
    max_length: int = 1024
    "Longer examples are dropped (not cut: a cut conversation teaches a cut answer)."
    threads: int = 2
    "CPU threads PyTorch may use (on a machine busy with other work, 1 can be faster)."
    max_steps: int | None = None
    "Stop after this many steps (the learning-rate schedule still spans every epoch)."
    max_seconds: float | None = None
    "Stop after this much training time even if steps remain; None: run every step."


def load_base_model(gguf_path: str | Path | None = None, num_layers: int | None = None) -> Any:
    """The GGUF model as a float32 transformers model (default: the embedded SmolLM2).

    `num_layers` keeps only the first layers: a small, fast model for tests.
    Example: load_base_model().config.num_hidden_layers -> 30
    """
    import torch
    from transformers import AutoModelForCausalLM

    from minagent.gguf import embedded_model_path

    path = Path(gguf_path) if gguf_path else embedded_model_path()
    model = AutoModelForCausalLM.from_pretrained(
        str(path.parent), gguf_file=path.name, dtype=torch.float32
    )
    if num_layers is not None:
        model.model.layers = model.model.layers[:num_layers]
        model.config.num_hidden_layers = num_layers
    return model


def add_lora(model: Any, config: TrainConfig) -> Any:
    """Freeze `model` and wrap it with fresh LoRA corrections on LORA_TARGETS (peft)."""
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(config.seed)  # LoRA's A matrices start random: seed them
    lora = LoraConfig(
        r=config.lora_rank,
        lora_alpha=config.lora_alpha,
        lora_dropout=0.0,
        target_modules=list(LORA_TARGETS),
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


def collate(examples: Sequence[Example], pad_id: int = 0) -> dict[str, Any]:
    """Right-pad examples into tensors; labels are the ids, IGNORE_INDEX where not learned.

    Example: two examples of 3 and 2 tokens -> input_ids of shape (2, 3), the second
    row padded, its padding masked out of attention and loss.
    """
    import torch

    width = max(len(e.ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
    attention = torch.zeros((len(examples), width), dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example.ids)
        ids[row, :n] = torch.tensor(example.ids)
        attention[row, :n] = 1
        learned = [
            t if flag else IGNORE_INDEX for t, flag in zip(example.ids, example.learn, strict=True)
        ]
        labels[row, :n] = torch.tensor(learned)
    return {"input_ids": ids, "attention_mask": attention, "labels": labels}


def batches(examples: Sequence[Example], config: TrainConfig, rng: random.Random) -> Iterator:
    """Shuffled batches, each a list of micro-batches of similar length."""
    order = list(examples)
    rng.shuffle(order)
    for start in range(0, len(order) - config.batch_size + 1, config.batch_size):
        batch = sorted(order[start : start + config.batch_size], key=lambda e: len(e.ids))
        yield [batch[i : i + config.micro_batch] for i in range(0, len(batch), config.micro_batch)]


def learned_token_loss(model: Any, micro: dict[str, Any]) -> tuple[Any, int]:
    """Summed cross-entropy over the learned tokens of a micro-batch, and their count.

    Position t predicts token t + 1, so hidden states and labels are shifted by one. The
    output layer (576 x 49,152 for SmolLM2) runs only where the loss looks: a fifth of
    the compute saved on conversations that are mostly prompt.
    """
    import torch.nn.functional as F

    causal_lm = model.get_base_model()  # the transformers model, LoRA layers inside
    hidden = causal_lm.model(
        input_ids=micro["input_ids"], attention_mask=micro["attention_mask"]
    ).last_hidden_state
    targets = micro["labels"][:, 1:]
    learned = targets != IGNORE_INDEX
    logits = causal_lm.lm_head(hidden[:, :-1][learned])
    return F.cross_entropy(logits, targets[learned], reduction="sum"), int(learned.sum())


def cosine_schedule(step: int, total: int, warmup: int) -> float:
    """Learning-rate factor: linear warm-up to 1, then cosine down to 0.1.

    Example: cosine_schedule(0, 100, 10) -> 0.1; cosine_schedule(10, 100, 10) -> 1.0
    """
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.1 + 0.45 * (1 + math.cos(math.pi * min(1.0, progress)))


def train(
    model: Any,
    examples: Sequence[Example],
    config: TrainConfig,
    on_step: Callable[[int, float], None] | None = None,
) -> list[float]:
    """Train the LoRA weights of `model` on `examples`; return the loss of every step.

    Each loss is the mean cross-entropy per learned token of that step's batch.
    `on_step(step, loss)` is called after each step (progress bars, logs).
    """
    import torch

    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    kept = [e for e in examples if len(e.ids) <= config.max_length]
    steps_per_epoch = len(kept) // config.batch_size
    total = max(1, int(config.epochs * steps_per_epoch))
    last = min(total, config.max_steps or total)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: cosine_schedule(step, total, config.warmup_steps)
    )
    rng, losses = random.Random(config.seed), []
    deadline = time.monotonic() + (config.max_seconds or math.inf)
    model.train()
    while len(losses) < last and time.monotonic() < deadline:
        for batch in batches(kept, config, rng):
            micros = [collate(micro) for micro in batch]
            n_learned = sum(int((m["labels"][:, 1:] != IGNORE_INDEX).sum()) for m in micros)
            step_loss = 0.0
            for micro in micros:
                loss, _ = learned_token_loss(model, micro)
                (loss / n_learned).backward()  # the batch's mean, built micro-batch by micro-batch
                step_loss += loss.item() / n_learned
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            losses.append(step_loss)
            if on_step:
                on_step(len(losses), step_loss)
            if len(losses) == last or time.monotonic() > deadline:
                break
    model.eval()
    return losses
