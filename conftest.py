"""pytest at the repository root: the docstring examples of minagent and minexec run as tests.

The fine-tuning modules that need the optional `train` extra (torch) are skipped where it is
not installed (`make test-fast`); `make test` installs it.
"""

import importlib.util
import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

collect_ignore = []
if importlib.util.find_spec("torch") is None:
    collect_ignore += ["minagent/train/loop.py", "minagent/train/convert.py"]
