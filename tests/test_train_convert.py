"""minagent.train.convert: a peft LoRA adapter as a GGUF file that llama.cpp loads.

The oracle is PyTorch: llama.cpp running the Q4_1 base with the converted adapter must
predict what transformers predicts with the peft adapter on the same (dequantized) weights.
"""

import numpy as np
import pytest

from minagent.train.convert import lora_pairs, permute_rows

PROMPT = (
    "<|im_start|>user\nWhat is the capital of France? Tell me about it.<|im_end|>\n"
    "<|im_start|>assistant\nThe capital of France is Paris. It is a city"
)


def test_permute_rows_interleaves_the_two_halves_of_each_head():
    rows = np.arange(8).reshape(8, 1)
    assert permute_rows(rows, n_head=2)[:, 0].tolist() == [0, 2, 1, 3, 4, 6, 5, 7]
    # Keys use their own (fewer) heads.
    assert permute_rows(rows, n_head=4, n_head_kv=1)[:, 0].tolist() == [0, 4, 1, 5, 2, 6, 3, 7]


def test_lora_pairs_groups_a_and_b_by_module():
    state = {
        "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": "a",
        "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight": "b",
        "base_model.model.model.norm.weight": "not lora",
    }
    assert lora_pairs(state) == {"model.layers.0.self_attn.q_proj": {"A": "a", "B": "b"}}


@pytest.mark.slow
def test_the_converted_adapter_loads_in_llama_cpp_and_matches_pytorch(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("peft")
    from llama_cpp import Llama

    from minagent.gguf import embedded_model_path
    from minagent.train.convert import write_gguf_lora
    from minagent.train.loop import TrainConfig, add_lora, load_base_model

    model = add_lora(load_base_model(), TrainConfig(seed=0))
    generator = torch.Generator().manual_seed(0)
    for name, weights in model.named_parameters():
        if "lora_B" in name:  # B starts at zero (no change): give the adapter an effect
            weights.data = torch.randn(weights.shape, generator=generator) * 0.05
    path = write_gguf_lora(model, tmp_path / "adapter.gguf")

    def llama_logits(lora_path):
        llm = Llama(
            str(embedded_model_path()),
            lora_path=lora_path,
            logits_all=True,
            n_ctx=256,
            n_threads=2,
            verbose=False,
        )
        ids = llm.tokenize(PROMPT.encode(), add_bos=False, special=True)
        llm.eval(ids)
        logits = np.array(llm.scores[: len(ids)])
        llm.close()
        return ids, logits

    ids, base = llama_logits(None)
    _, tuned = llama_logits(str(path))
    with torch.no_grad():
        expected = model(input_ids=torch.tensor([ids])).logits[0].numpy()
    changed = (tuned.argmax(-1) != base.argmax(-1)).mean()
    agree = (tuned.argmax(-1) == expected.argmax(-1)).mean()
    assert changed > 0.05  # the adapter changes what llama.cpp predicts...
    assert agree > 0.9  # ...into what PyTorch predicts with it (Q4 arithmetic aside)
    assert np.abs(tuned - expected).mean() < 0.5
