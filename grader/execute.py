"""nbgrader's `Execute` preprocessor, hardened for hostile notebooks.

What it adds to nbgrader's own (which autograde runs in its place, same settings otherwise):

- kernels start through `LimitedKernelManager` (memory and file-size rlimits, stdin from
  /dev/null so `input()` and `sys.stdin.read()` fail at once instead of hanging);
- a notebook deadline: past `notebook_timeout` the kernel's whole process group is killed;
- a cell that ignores the interrupt sent at its timeout, or a kernel that dies (`os._exit`,
  a signal, an out-of-memory kill), ends the run instead of raising out of nbgrader: that cell
  gets an error output saying why, and every later code cell a "not run" error, so nbgrader
  scores their tests zero (a test cell without outputs would otherwise count as passed);
- at most `cell_output_bytes` of output per cell are kept; error outputs are always kept.
"""

from __future__ import annotations

import threading

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
TRUNCATED = "\n... output truncated: the cell printed more than {limit} bytes ...\n"


# A kernel started ahead of time for the next notebook (see `hand_over`).
_prestarted: list[LimitedKernelManager] = []


def hand_over(km: LimitedKernelManager) -> None:
    """Give the next `SafeExecute` run this already started kernel instead of starting one."""
    _prestarted.append(km)


def error_output(ename: str, evalue: str) -> NotebookNode:
    """An error output as a kernel would send it: `ename: evalue` with a one-line traceback."""
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def _output_size(msg: dict) -> int:
    content = msg.get("content", {})
    if msg["msg_type"] == "stream":
        return len(content.get("text", ""))
    if msg["msg_type"] in ("display_data", "execute_result", "update_display_data"):
        return sum(len(str(value)) for value in content.get("data", {}).values())
    return 0


class SafeExecute(Execute):
    """nbgrader's Execute with a notebook deadline, output caps and survivable kernel deaths."""

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

    def output(self, outs, msg, display_id, cell_index):  # type: ignore[no-untyped-def]
        # Keep the first `cell_output_bytes` of a cell's output; errors always get through.
        if msg["msg_type"] == "error":
            content = msg["content"]
            content["evalue"] = content.get("evalue", "")[:MESSAGE_CHARS]
            return super().output(outs, msg, display_id, cell_index)
        used = self._output_used.get(cell_index, 0)
        size = _output_size(msg)
        self._output_used[cell_index] = used + size
        if used + size <= self.cell_output_bytes:
            return super().output(outs, msg, display_id, cell_index)
        if used <= self.cell_output_bytes:
            note = TRUNCATED.format(limit=self.cell_output_bytes)
            outs.append(new_output("stream", name="stdout", text=note))
        stderr = msg["msg_type"] == "stream" and msg["content"].get("name") == "stderr"
        if stderr and not any(o.get("name") == "stderr" for o in outs):
            # nbgrader fails a test cell that wrote to stderr: keep a sample so it still does.
            text = msg["content"]["text"][:MESSAGE_CHARS]
            outs.append(new_output("stream", name="stderr", text=text))
        return None
