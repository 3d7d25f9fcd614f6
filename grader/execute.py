"""nbgrader's `Execute` preprocessor, hardened for hostile notebooks.

What it adds to nbgrader's own (which autograde runs in its place, same settings otherwise):

- test cells run through the guard (`grader.kernel_guard`): before the notebook's first cell the
  grader installs it in the fresh kernel, and each test cell then runs as `guard.run(source,
  nonce)` in the `user_expressions` of an empty execute request, out of reach of the IPython
  hooks a learner's cells may have installed (input and AST transformers, events, display hook)
  and after the guard has put back the builtins, `sys` hooks and modules they replaced.
  A test passes only on the guard's verdict for this cell's fresh random nonce: the cell's
  outputs are rebuilt from that verdict (its printed text kept, an error output added when it
  failed), so output that looks like partial credit or a "passed" line counts for nothing, and
  a test that was rewritten, skipped or never answered scores zero;
- kernels start through `LimitedKernelManager` (memory and file-size rlimits, stdin from
  /dev/null so `input()` and `sys.stdin.read()` fail at once instead of hanging);
- a notebook deadline: past `notebook_timeout` the kernel's whole process group is killed;
- a cell that ignores the interrupt sent at its timeout, or a kernel that dies (`os._exit`,
  a signal, an out-of-memory kill), ends the run instead of raising out of nbgrader: that cell
  gets an error output saying why, and every later code cell a "not run" error, so nbgrader
  scores their tests zero (a test cell without outputs would otherwise count as passed);
- every part of every output is capped: at most `cell_output_bytes` of output per cell, error
  tracebacks and messages cut to size, oversized metadata dropped, comm (widget) messages
  ignored; error outputs are always kept.

Why this design: the learner's code runs first, in the same kernel, and can replace anything
that a later cell goes through; judging a test by its outputs or by IPython's reply lets any
hook that swallows the test pass it. So the test's source comes from the gradebook (nbgrader's
OverwriteCells), it runs through code installed before the learner's, on a path IPython's hooks
do not touch, and it passes only on a positive verdict that names this cell's nonce.

What the guard cannot promise: learner code runs in the same process as the test, so code that
sets out to attack the guard itself (find it among the builtins, patch the kernel's reply path
to answer with the nonce it reads from the request, walk the test's frame, rewrite memory with
ctypes) can still fake a verdict. Such a notebook has to contain that attack in plain sight;
the sandbox, the limits and instructor review are the defence there, not this module.
"""

from __future__ import annotations

import ast
import functools
import secrets
import threading
from pathlib import Path

from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Int

from grader.kernel import LimitedKernelManager, describe_exit, kill_process_group
from grader.limits import MESSAGE_CHARS

KERNEL_DIED = "KernelDied"
NOT_RUN = "NotRun"
NO_VERDICT = "NoVerdict"
TRUNCATED = "\n... output truncated: the cell printed more than {limit} bytes ...\n"
DROPPED = "... output dropped: one display of more than {limit} bytes ..."
GUARD_SOURCE = Path(__file__).with_name("kernel_guard.py").read_text()
# Sizes of the parts of an output that are not its data: an exception's name, the lines of a
# traceback, an output's metadata (a figure's size, a mime type's options).
NAME_CHARS = 200
TRACEBACK_LINES = 60
METADATA_BYTES = 16 * 1024
# The verdict, quoted twice (by the guard, then by IPython): a long message with many quotes grows.
VERDICT_CHARS = 64 * 1024


# A kernel started ahead of time for the next notebook (see `hand_over`).
_prestarted: list[LimitedKernelManager] = []


def hand_over(km: LimitedKernelManager) -> None:
    """Give the next `SafeExecute` run this already started kernel instead of starting one."""
    _prestarted.append(km)


def error_output(ename: str, evalue: str) -> NotebookNode:
    """An error output as a kernel would send it: `ename: evalue` with a one-line traceback."""
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def bounded_size(value: object, limit: int) -> int:
    """Characters in the strings (and keys) of a JSON-like `value`, counted up to just past
    `limit`: a 95 MiB metadata dict is found too big after reading about `limit` of it.

    Example: bounded_size({"text/plain": "abc"}, 100) -> 13
    """
    total, todo = 0, [value]
    while todo and total <= limit:
        item = todo.pop()
        if isinstance(item, str | bytes):
            total += len(item)
        elif isinstance(item, dict):
            total += sum(len(k) for k in item if isinstance(k, str))
            todo.extend(item.values())
        elif isinstance(item, list | tuple):
            total += 1
            todo.extend(item)
        else:
            total += 8
    return total


def cap_text(text: object, limit: int) -> str:
    """`text` as a str of at most `limit` characters, marked where it was cut."""
    text = text if isinstance(text, str) else str(text)
    return text if len(text) <= limit else text[: limit - 20] + " ... (truncated)"


def cap_traceback(lines: object, budget: int) -> list[str]:
    """The last `TRACEBACK_LINES` lines of a traceback, each line and all of them together cut to
    size (a `_render_traceback_` can return hundreds of megabytes)."""
    lines = lines if isinstance(lines, list) else []
    kept = [cap_text(line, MESSAGE_CHARS) for line in lines[-TRACEBACK_LINES:]]
    while kept and sum(len(line) for line in kept) > budget:
        kept.pop(0)
    return kept


def cap_content(msg_type: str, content: dict, budget: int) -> None:
    """Cut an IOPub message's parts that nbclient copies into the notebook to size, in place."""
    if msg_type == "error":
        content["ename"] = cap_text(content.get("ename", ""), NAME_CHARS)
        content["evalue"] = cap_text(content.get("evalue", ""), MESSAGE_CHARS)
        content["traceback"] = cap_traceback(content.get("traceback"), budget)
    for key in ("metadata", "transient"):
        if bounded_size(content.get(key), METADATA_BYTES) > METADATA_BYTES:
            content[key] = {}
    # One display larger than a cell's whole budget (an update of an earlier display included,
    # which nbclient copies into that display's output without asking `output`).
    if bounded_size(content.get("data"), budget) > budget:
        content["data"] = {"text/plain": DROPPED.format(limit=budget)}
    if isinstance(content.get("text"), str):
        content["text"] = cap_text(content["text"], budget)


def is_test_cell(cell: NotebookNode) -> bool:
    """An nbgrader "autograder tests" cell: graded, not a solution, code."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def read_verdict(reply: dict | None, nonce: str) -> tuple[str, str, str] | None:
    """None when the guard's verdict in an execute reply says the test passed, else (ename,
    evalue, failing line) saying why not."""
    content = (reply or {}).get("content", {})
    value = content.get("user_expressions", {}).get("verdict", {})
    text = value.get("data", {}).get("text/plain", "") if value.get("status") == "ok" else ""
    try:
        verdict = ast.literal_eval(ast.literal_eval(text)) if len(text) < VERDICT_CHARS else None
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        verdict = None
    if type(verdict) is not tuple or not verdict or verdict[0] != nonce:
        why = "the test did not report a result (the notebook changed how cells run?)"
        return NO_VERDICT, why, ""
    if verdict[1:] == ("ok",):
        return None
    ename, evalue, line = (list(verdict[2:5]) + ["", "", ""])[:3]
    return str(ename), str(evalue), str(line)


class SafeExecute(Execute):
    """nbgrader's Execute with guarded test cells, a notebook deadline, output caps and
    survivable kernel deaths."""

    notebook_timeout = Int(600, help="seconds for the whole notebook").tag(config=True)
    cell_output_bytes = Int(256 * 1024, help="output kept per cell").tag(config=True)

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("kernel_manager_class", LimitedKernelManager)
        super().__init__(*args, **kwargs)

    def preprocess(self, nb, resources=None, km=None):  # type: ignore[no-untyped-def]
        self._stop_reason: str | None = None
        self._deadline_hit = threading.Event()
        self._output_used: dict[int, int] = {}
        self._pgid: int | None = None
        self._guard: str | None = None
        self._last_reply: dict | None = None
        if km is None and _prestarted:
            km = _prestarted.pop()
        own = km
        self._pgid = km.process_group if km is not None else None
        timer = threading.Timer(self.notebook_timeout, self._on_deadline)
        timer.daemon = True
        timer.start()
        try:
            return super().preprocess(nb, resources, km)
        except DeadKernelError as error:
            # Death while starting up or between cells: every code cell is left unrun.
            self._stop_reason = self._stop_reason or f"the kernel died: {error}"
            for cell in nb.cells:
                if cell.cell_type == "code" and not cell.get("outputs"):
                    cell.outputs = [error_output(NOT_RUN, self._stop_reason)]
            return nb, resources
        finally:
            timer.cancel()
            kill_process_group(self._pgid)
            if own is not None:  # nbclient shuts down only the kernels it started itself
                if isinstance(own, LimitedKernelManager):
                    own.reap()
                run_sync(own.shutdown_kernel)(now=True)

    def _on_deadline(self) -> None:
        self._deadline_hit.set()
        kill_process_group(self._pgid)

    def preprocess_cell(self, cell, resources, index):  # type: ignore[no-untyped-def]
        if self._pgid is None and self.km is not None:
            self._pgid = self.km.process_group
        if self._stop_reason is not None:
            if cell.cell_type == "code":
                cell.outputs = [error_output(NOT_RUN, self._stop_reason)]
            return cell, resources
        try:
            if self._guard is None:
                self._guard = self._install_guard()
            if is_test_cell(cell):
                return self._run_test(cell, resources, index)
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            if self._deadline_hit.is_set():
                reason = f"the notebook ran past its time limit of {self.notebook_timeout} s"
            else:
                reason = describe_exit(self.km.exit_status() if self.km else None)
            ename = KERNEL_DIED
        except CellTimeoutError:
            reason = f"the cell ran past its {self.timeout} s time limit and ignored the interrupt"
            ename = "CellTimeoutError"
            kill_process_group(self._pgid)
        self._stop_reason = f"{reason} (in cell {index + 1})"
        cell.outputs.append(error_output(ename, reason))
        return cell, resources

    def _install_guard(self) -> str:
        """Install `grader.kernel_guard` in the kernel before any learner code runs; returns the
        (random) name it answers to."""
        name = f"_agents_grader_{secrets.token_hex(8)}"
        source = f"{GUARD_SOURCE}\ninstall({name!r})\n"
        # Its own copy of the builtins, so that a learner who rebinds one changes nothing in it.
        code = (
            f"exec(compile({source!r}, '<agents-grader>', 'exec'), {{'__name__': "
            "'agents_grader_guard', '__builtins__': dict(__import__('builtins').__dict__)})"
        )
        execute = run_sync(self.kc.execute_interactive)
        reply = execute(
            code,
            silent=True,
            store_history=False,
            timeout=self.startup_timeout,
            output_hook=lambda msg: None,
        )
        if reply["content"]["status"] != "ok":
            content = reply["content"]
            raise RuntimeError(f"the grader's guard failed in the kernel: {content.get('evalue')}")
        return name

    def _run_test(self, cell, resources, index):  # type: ignore[no-untyped-def]
        """Run a test cell through the guard and rebuild its outputs from the verdict."""
        nonce = secrets.token_hex(16)
        expression = f"{self._guard}.run({cell.source!r}, {nonce!r})"
        original = self.kc.execute
        # nbclient sends `kc.execute(cell.source, ...)` and does everything else (timeouts, the
        # interrupt, dead kernels, collecting outputs); only the request it sends changes here.
        self.kc.execute = functools.partial(_guarded_request, original, expression)
        self._last_reply = None
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        finally:
            del self.kc.execute
        printed = [o for o in cell.outputs if o.get("output_type") == "stream"]
        failure = read_verdict(self._last_reply, nonce)
        if failure is not None:
            ename, evalue, line = failure
            traceback = [f"{ename}: {evalue}", *([f"----> 1 {line}"] if line else [])]
            printed.insert(0, new_output("error", ename=ename, evalue=evalue, traceback=traceback))
        cell.outputs = printed
        return cell, resources

    def on_cell_executed(self, **kwargs):  # type: ignore[no-untyped-def]
        reply = kwargs["execute_reply"]
        self._last_reply = reply
        content = reply.get("content", {})
        if content.get("status") == "error":  # nbgrader may copy the reply's traceback
            cap_content("error", content, self.cell_output_bytes)
        return super().on_cell_executed(**kwargs)

    def process_message(self, msg, cell, cell_index):  # type: ignore[no-untyped-def]
        if msg["msg_type"].startswith("comm"):
            return None  # widget state would land, uncapped, in the notebook's metadata
        cap_content(msg["msg_type"], msg["content"], self.cell_output_bytes)
        return super().process_message(msg, cell, cell_index)

    def output(self, outs, msg, display_id, cell_index):  # type: ignore[no-untyped-def]
        # Keep the first `cell_output_bytes` of a cell's output; errors always get through.
        if msg["msg_type"] == "error":
            return super().output(outs, msg, display_id, cell_index)
        used = self._output_used.get(cell_index, 0)
        size = bounded_size(msg["content"], self.cell_output_bytes)
        self._output_used[cell_index] = used + size
        if used + size <= self.cell_output_bytes:
            return super().output(outs, msg, display_id, cell_index)
        if used <= self.cell_output_bytes:
            note = TRUNCATED.format(limit=self.cell_output_bytes)
            outs.append(new_output("stream", name="stdout", text=note))
        stderr = msg["msg_type"] == "stream" and msg["content"].get("name") == "stderr"
        if stderr and not any(o.get("name") == "stderr" for o in outs):
            # nbgrader fails a test cell that wrote to stderr: keep a sample so it still does.
            text = cap_text(msg["content"].get("text", ""), MESSAGE_CHARS)
            outs.append(new_output("stream", name="stderr", text=text))
        return None


def _guarded_request(execute, expression, code, **kwargs):  # type: ignore[no-untyped-def]
    """`kc.execute` for a test cell: an empty, silent cell whose one user expression runs the
    test in the guard (IPython evaluates user expressions with a bare `eval`)."""
    return execute(
        "",
        silent=True,
        store_history=False,
        user_expressions={"verdict": expression},
        allow_stdin=False,
        stop_on_error=kwargs.get("stop_on_error", False),
    )
