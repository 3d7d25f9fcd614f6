"""minagent.train's LoRA loop: batching, the schedule, and a tiny run that learns.

Needs the `train` extra (PyTorch, transformers, peft); skipped without it. The tiny runs
use the embedded model cut to its first two layers: the loop is the same, the cost small.
"""

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from minagent.train.loop import (  # noqa: E402
    IGNORE_INDEX,
    TrainConfig,
    add_lora,
    collate,
    cosine_schedule,
    load_base_model,
    train,
)
from minagent.train.render import (  # noqa: E402
    Example,
    embedded_template,
    llama_tokenizer,
    trajectory_example,
)
from minagent.train.tasks import make_tasks  # noqa: E402
from minagent.train.trajectories import code_trajectory  # noqa: E402

TINY = TrainConfig(
    epochs=8, batch_size=4, micro_batch=2, learning_rate=3e-3, warmup_steps=1, threads=1
)


@pytest.fixture(scope="module")
def examples():
    tokenize = llama_tokenizer()
    template, eos = embedded_template()

    tasks = make_tasks("train", 4, seed=0)
    made = [trajectory_example(code_trajectory(t), template, tokenize, eos) for t in tasks]
    return made


def tiny_model(seed=0):
    return add_lora(load_base_model(num_layers=2), TrainConfig(seed=seed))


def test_collate_pads_and_masks_the_labels():
    batch = collate([Example([5, 6, 7], [False, True, True]), Example([8, 9], [False, True])])
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 9, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert batch["labels"].tolist() == [[IGNORE_INDEX, 6, 7], [IGNORE_INDEX, 9, IGNORE_INDEX]]


def test_the_schedule_warms_up_then_decays_to_a_tenth():
    assert cosine_schedule(0, 100, 10) == pytest.approx(0.1)
    assert cosine_schedule(9, 100, 10) == pytest.approx(1.0)
    assert cosine_schedule(10, 100, 10) == pytest.approx(1.0)
    assert cosine_schedule(100, 100, 10) == pytest.approx(0.1)


def test_only_the_lora_weights_train():
    model = tiny_model()
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in name for name in trainable)
    assert {name.split(".")[-4] for name in trainable} == {
        "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"
    }  # fmt: skip


def test_a_tiny_training_run_lowers_the_loss(examples):
    losses = train(tiny_model(), examples, TINY)
    assert len(losses) == 8
    assert losses[-1] < 0.7 * losses[0]


def test_the_same_seed_trains_the_same_adapter(examples):
    config = TrainConfig(epochs=2, batch_size=4, micro_batch=2, warmup_steps=1, threads=1)
    first, second = tiny_model(), tiny_model()
    train(first, examples, config)
    train(second, examples, config)
    for (name, a), (_, b) in zip(first.named_parameters(), second.named_parameters(), strict=True):
        if a.requires_grad:
            assert torch.equal(a, b), name
