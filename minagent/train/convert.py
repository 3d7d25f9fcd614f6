"""A trained peft LoRA adapter, written as a GGUF LoRA file that llama.cpp loads.

llama.cpp applies an adapter at run time on top of the unchanged (here Q4_1) base model:
`Llama(model_path=base, lora_path=adapter)`. The file is a GGUF file of its own, in the
format llama.cpp's `convert_lora_to_gguf.py` writes, and we write it with the same library
that script uses, the `gguf` package:

- metadata: `general.architecture` (llama), `general.type` = "adapter",
  `adapter.type` = "lora", `adapter.lora.alpha` (llama.cpp scales by alpha / rank);
- for each adapted weight, two tensors named after llama.cpp's own tensor name (from
  gguf's name map: `model.layers.3.self_attn.q_proj` -> `blk.3.attn_q`):
  `blk.3.attn_q.weight.lora_a` (rank x in) and `blk.3.attn_q.weight.lora_b` (out x rank).

One trap: when a Hugging Face Llama is converted to GGUF, the rows of the query and key
projections are permuted (llama.cpp's rotary embedding pairs dimensions differently), and
transformers undoes that when it loads a GGUF file. A correction B @ A to those weights
must be permuted the same way; only B's rows (the outputs) move.

Example (needs `pip install -e '.[train]'`):
        write_gguf_lora(model, "agent.gguf")   # model: a trained peft model
        Llama(model_path=str(embedded_model_path()), lora_path="agent.gguf")
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

LORA_WEIGHT_RE = re.compile(r"(.*)\.lora_([AB])(?:\.default)?\.weight$")
"""peft's parameter names: `...q_proj.lora_A.default.weight` or, saved, `...lora_A.weight`."""


def permute_rows(weights: Any, n_head: int, n_head_kv: int | None = None) -> Any:
    """Reorder the output rows of a query/key projection as llama.cpp's converter does.

    Within each head, rows (0, 1, 2, ... d-1) become (0, d/2, 1, d/2 + 1, ...): the two
    halves that rotary embedding pairs are interleaved. Copied from llama.cpp's
    `LlamaModel.permute` (convert_hf_to_gguf). Works on numpy arrays and torch tensors.
    """
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    head_dim_half = weights.shape[0] // n_head // 2
    return (
        weights.reshape(n_head, 2, head_dim_half, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def lora_pairs(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Group a peft state dict into {hf module name: {"A": tensor, "B": tensor}}.

    Example: {"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": a, ...}
    -> {"model.layers.0.self_attn.q_proj": {"A": a, "B": b}}
    """
    pairs: dict[str, dict[str, Any]] = {}
    for name, tensor in state.items():
        match = LORA_WEIGHT_RE.match(name)
        if match:
            module = match.group(1).removeprefix("base_model.model.")
            pairs.setdefault(module, {})[match.group(2)] = tensor
    return pairs


def gguf_tensors(
    state: dict[str, Any], n_layers: int, n_head: int, n_head_kv: int
) -> dict[str, Any]:
    """llama.cpp's tensors for a peft state dict: {"blk.0.attn_q.weight.lora_a": array, ...}."""
    import gguf
    import numpy as np

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, n_layers)
    tensors = {}
    for module, pair in sorted(lora_pairs(state).items()):
        target = names.get_name(module + ".weight", try_suffixes=(".weight",))
        if target is None:
            raise ValueError(f"llama.cpp has no tensor for {module}")
        a = pair["A"].detach().float().cpu().numpy()
        b = pair["B"].detach().float().cpu().numpy()
        if module.endswith("q_proj"):
            b = permute_rows(b, n_head, n_head)
        elif module.endswith("k_proj"):
            b = permute_rows(b, n_head, n_head_kv)
        tensors[f"{target}.lora_a"] = np.ascontiguousarray(a, dtype=np.float16)
        tensors[f"{target}.lora_b"] = np.ascontiguousarray(b, dtype=np.float16)
    return tensors


def write_gguf_lora(model: Any, path: str | Path, name: str = "minagent agent LoRA") -> Path:
    """Write the LoRA weights of a peft `model` to `path` as a GGUF adapter (float16)."""
    import gguf
    from peft import get_peft_model_state_dict

    config = model.get_base_model().config
    lora = model.peft_config["default"]
    tensors = gguf_tensors(
        get_peft_model_state_dict(model),
        config.num_hidden_layers,
        config.num_attention_heads,
        config.num_key_value_heads,
    )
    path = Path(path)
    writer = gguf.GGUFWriter(str(path), arch="llama")
    writer.add_name(name)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(lora.lora_alpha))
    for tensor_name, array in tensors.items():
        writer.add_tensor(tensor_name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
