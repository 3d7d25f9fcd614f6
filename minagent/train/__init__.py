"""Fine-tuning the embedded model to be an agent: data, training, conversion, evaluation.

SmolLM2-135M-Instruct, prompted as a CodeAgent, often writes the right code and then never
calls final_answer. This package teaches it, with LoRA on a CPU, from conversations of the
real agents on generated tasks. One file per step of the pipeline:

- `toolbox`: generated lookup tools with docstrings, split into training and held-out ones;
- `tasks`: task families, each task with the program of every step that solves it;
- `trajectories`: the real CodeAgent / ToolCallingAgent run on a task with scripted replies;
- `render`: a conversation -> chat-template text -> tokens, and the assistant-only mask;
- `loop`: the LoRA training loop (PyTorch, transformers, peft);
- `convert`: the trained adapter -> a GGUF LoRA file that llama.cpp loads;
- `evaluate`: the agent with the base or tuned model on held-out tasks.

`python -m minagent.train --help` runs the whole pipeline. `loop` and `convert` need the
optional extra: `pip install -e '.[train]'`.
"""
