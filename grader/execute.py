"""nbgrader's `Execute` preprocessor, hardened for hostile notebooks.

What it adds to nbgrader's own (which autograde runs in its place, same settings otherwise):

- test cells run in the kernel's audit hook (`grader.kernel_guard`): before the notebook's first
  cell the grader installs it in the fresh kernel, which draws a random key and hands it to the
  grader in that request's reply. Each test cell then runs as `sys.audit('agents-grader.run',
  'test', source, nonce)` in the `user_expressions` of an empty execute request, out of reach of
  the IPython hooks a learner's cells may have installed (input and AST transformers, events,
  display hook) and after the hook has put back the builtins, `sys` hooks and modules they
  replaced. The hook answers with an exception that carries the verdict and its MAC,
  HMAC-SHA256(key, kind | nonce | sha256(source) | status). A test passes only when that MAC
  checks for this cell's source and fresh random nonce and the status is "ok": the cell's
  outputs are rebuilt from that verdict (its printed text kept, an error output added when it
  failed), so output that looks like partial credit or a "passed" line counts for nothing, and a
  test that was rewritten, skipped, never answered or answered by anything but the hook scores
  zero. Locked given cells (a unit's test helpers) run through the hook the same way, as kind
  "given", so that rebinding a helper changes nothing;
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

What the hook cannot promise: learner code runs in the same process as the test. The MAC moves
the secret out of reach of Python code (the key lives only in the hook's closure, and the hook
refuses the roads to it: object walks, frames, tracers, /proc/<pid>/mem); native code that
reads the process's memory, or a signal handler that receives a frame during a test, can still
reach it. The README lists what is and is not covered; the sandbox, the limits and instructor
review are the defence there.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import hmac
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
# The verdict: "agents-grader-verdict <mac> <status> <details>", the details a repr'd list.
VERDICT = "agents-grader-verdict"
VERDICT_CHARS = 64 * 1024
AUDIT_EVENT = "agents-grader.run"


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


def is_given_cell(cell: NotebookNode) -> bool:
    """A locked code cell that is neither a test nor a solution: nbgrader's OverwriteCells
    restores its source, and the tests may call what it defines (unit 04's `expect_value`)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    plain = not meta.get("grade") and not meta.get("solution")
    return cell.cell_type == "code" and bool(meta.get("locked")) and plain


def imported_modules(nb: NotebookNode) -> set[str]:
    """The modules that the notebook's test and given cells import (absolute imports)."""
    names: set[str] = set()
    for cell in nb.cells:
        if not (is_test_cell(cell) or is_given_cell(cell)):
            continue
        try:
            tree = ast.parse(cell.source)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
    return names


def source_digest(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()


def verdict_mac(
    key: bytes, kind: str, nonce: str, source: str, given: list[str], status: str
) -> str:
    """HMAC-SHA256 of a verdict, as the kernel's hook computes it (`given`: the digests of the
    given cells run before, in order)."""
    message = f"{kind}|{nonce}|{source_digest(source)}|{','.join(given)}|{status}"
    return hmac.new(key, message.encode(), "sha256").hexdigest()


def read_verdict(
    reply: dict | None, key: bytes, kind: str, nonce: str, source: str, given: list[str]
) -> tuple[str, str, str] | None:
    """None when the hook's signed verdict in an execute reply says the cell ran to its end,
    else (ename, evalue, failing line) saying why not. Anything but a verdict whose MAC checks
    for this kind, nonce, source and list of given cells is a failure."""
    content = (reply or {}).get("content", {})
    value = content.get("user_expressions", {}).get("verdict", {})
    text = value.get("evalue", "") if value.get("status") == "error" else ""
    parts = text.split(" ", 3) if isinstance(text, str) and len(text) < VERDICT_CHARS else []
    if len(parts) != 4 or parts[0] != VERDICT:
        why = "the test did not report a result (the notebook changed how cells run?)"
        return NO_VERDICT, why, ""
    _, mac, status, details = parts
    expected = verdict_mac(key, kind, nonce, source, given, status)
    if not (mac.isascii() and hmac.compare_digest(mac, expected)):
        return NO_VERDICT, "the test's result was not signed by the grader (a forged result)", ""
    if status == "ok":
        return None
    try:
        found = ast.literal_eval(details)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        found = []
    named = [str(part) for part in found[:3]] if type(found) is list else []
    ename, evalue, line = named + ["Error", "", ""][len(named) :]
    return ename, evalue, line


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
        self._key: bytes | None = None
        self._given: list[str] = []
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
            if self._key is None:
                self._key = self._install_guard()
            if is_test_cell(cell):
                return self._run_guarded("test", cell, resources, index)
            if is_given_cell(cell):
                return self._run_guarded("given", cell, resources, index)
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

    def _install_guard(self) -> bytes:
        """Install `grader.kernel_guard`'s audit hook in the kernel before any learner code
        runs; returns the key it drew there, which it hands over once, in this reply."""
        slot = f"_agents_grader_key_{secrets.token_hex(8)}"
        publish = f"lambda key: __import__('builtins').__dict__.__setitem__({slot!r}, key)"
        oracles = tuple(sorted(imported_modules(self.nb)))
        shell = "__import__('IPython').get_ipython()"
        source = f"{GUARD_SOURCE}\ninstall({shell}, {publish}, {oracles!r})\n"
        # Its own copy of the builtins, so that nothing a later cell rebinds changes it.
        code = (
            f"exec(compile({source!r}, '<agents-grader>', 'exec'), {{'__name__': "
            "'agents_grader_guard', '__builtins__': dict(__import__('builtins').__dict__)})"
        )
        execute = run_sync(self.kc.execute_interactive)
        reply = execute(
            code,
            silent=True,
            store_history=False,
            user_expressions={"key": f"__import__('builtins').__dict__.pop({slot!r})"},
            timeout=self.startup_timeout,
            output_hook=lambda msg: None,
        )
        content = reply["content"]
        value = content.get("user_expressions", {}).get("key", {})
        text = value.get("data", {}).get("text/plain", "") if value.get("status") == "ok" else ""
        if content["status"] != "ok" or not text:
            raise RuntimeError(f"the grader's guard failed in the kernel: {content.get('evalue')}")
        return bytes.fromhex(ast.literal_eval(text))

    def _run_guarded(self, kind, cell, resources, index):  # type: ignore[no-untyped-def]
        """Run a test (or given) cell in the kernel's hook and rebuild its outputs from the
        signed verdict."""
        nonce, given = secrets.token_hex(16), list(self._given)
        arguments = f"{AUDIT_EVENT!r}, {kind!r}, {cell.source!r}, {nonce!r}, {tuple(given)!r}"
        expression = f"__import__('sys').audit({arguments})"
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
        failure = read_verdict(self._last_reply, self._key or b"", kind, nonce, cell.source, given)
        if kind == "given" and failure is None:
            self._given.append(source_digest(cell.source))
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
    """`kc.execute` for a test or given cell: an empty, silent cell whose one user expression
    runs the cell in the kernel's audit hook (IPython evaluates user expressions with a bare
    `eval`)."""
    return execute(
        "",
        silent=True,
        store_history=False,
        user_expressions={"verdict": expression},
        allow_stdin=False,
        stop_on_error=kwargs.get("stop_on_error", False),
    )
