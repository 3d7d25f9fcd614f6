"""Start-up work that `agents-grade` skips, so a learner's feedback comes in about a second.

A plain `nbgrader autograde` of a tiny notebook takes about 4.5 s on the course machine, and
most of that is not grading: it is importing packages the run never uses and tearing the
interpreter down afterwards. Measured with `python -X importtime` and `bench/grading.py`:

- jsonschema imports the optional `rfc3987_syntax` package when it is installed (its "iri"
  format checker), and that import compiles a grammar: about a second. nbformat never checks
  "iri" strings, so the grader marks the package as absent and jsonschema goes without it.
- nbgrader's package `__init__` imports its four Jupyter server extensions (tornado handlers,
  the exchange, the formgrader): about 0.3 s. The grader needs only nbgrader's converters,
  preprocessors and gradebook, so it registers the package without running that `__init__`;
  every submodule still imports as usual.
- Python's cyclic garbage collector, which runs again and again while those thousands of
  module objects are created, none of them garbage: about 0.1 s. The grading process is short
  and relays what the kernel does (the kernel, where submitted code runs, keeps its
  collector), so `pause_garbage_collection` turns it off there.
- Freeing every module of a big process at exit: about 0.3 s. `exit_now` ends the command line
  once its output is flushed and its files are closed.

`skip_unused_imports` runs when the `grader` package is imported; where nbgrader or jsonschema
is already imported (a process that imported them first) it changes nothing.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import sys


def skip_unused_imports() -> None:
    """Keep `rfc3987_syntax` and nbgrader's server extensions out of this process."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # None: "import" raises ImportError
    if "nbgrader" not in sys.modules:
        spec = importlib.util.find_spec("nbgrader")
        if spec is None:
            return  # not installed: the first real use says so
        package = importlib.util.module_from_spec(spec)  # has __path__; __init__ not run
        sys.modules["nbgrader"] = package
        package.__version__ = importlib.import_module("nbgrader._version").__version__


def pause_garbage_collection() -> None:
    """No cyclic garbage collection in this process (reference counting still frees memory)."""
    gc.disable()


def exit_now(status: int) -> None:
    """Flush stdout and stderr and end the process with `status`, skipping interpreter
    teardown. Only for the end of a command line whose files and kernels are already closed."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
