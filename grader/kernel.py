"""The kernel a submission runs in: fresh, limited, and killed as a whole process group.

`LimitedKernelManager` is jupyter_client's `AsyncKernelManager` with one change: the kernel
command is wrapped, first by `kernel_launch.py` (rlimits, stdin from /dev/null) and then by the
launch hook, the seam where `minagent.sandbox` (issue 10) adds bubblewrap. A launch hook takes
the full command and the working folder and returns the command to run:

    def wrap_kernel_command(argv: list[str], workdir: Path) -> list[str]:
        return ["bwrap", "--ro-bind", "/", "/", "--bind", str(workdir), str(workdir), ..., *argv]

The kernel still has to reach the grader: jupyter_client speaks ZeroMQ over TCP on 127.0.0.1
(the `transport` below), so a sandbox must keep loopback shared, or set transport to "ipc" and
bind the folder of the connection file into the sandbox.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Int, List, Unicode

LaunchHook = Callable[[list[str], Path], list[str]]

LAUNCHER = Path(__file__).with_name("kernel_launch.py")
NATIVE_KERNEL = "python3"
NO_HISTORY = "--HistoryManager.hist_file=:memory:"

# Set by `use_launch_hook`; a module global because nbclient builds the kernel manager itself.
_launch_hook: LaunchHook | None = None


def use_launch_hook(hook: LaunchHook | None) -> None:
    """Wrap every kernel this process starts with `hook` (None: no extra wrapping)."""
    global _launch_hook
    _launch_hook = hook


def sandbox_launch_hook() -> LaunchHook | None:
    """`minagent.sandbox.wrap_kernel_command` when that module provides it, else None.

    The contract for issue 10: `wrap_kernel_command(argv, workdir) -> argv` runs `argv` with
    `workdir` as its only writable folder and no network except the loopback to the grader.
    """
    try:
        from minagent import sandbox
    except ImportError:
        return None
    return getattr(sandbox, "wrap_kernel_command", None)


class LimitedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run under `kernel_launch.py` limits and the launch hook."""

    memory_bytes = Int(0, help="RLIMIT_AS of the kernel in bytes (0: no limit)").tag(config=True)
    file_size_bytes = Int(0, help="RLIMIT_FSIZE of the kernel in bytes (0: none)").tag(config=True)
    quiet = Bool(True, help="send the kernel's own stdout/stderr to /dev/null").tag(config=True)
    launch_prefix = List(Unicode(), help="command put before the launcher").tag(config=True)

    _workdir: str | None = None

    async def _async_pre_start_kernel(self, **kw):  # type: ignore[no-untyped-def]
        # nbclient passes the notebook's folder as `cwd`; the launch hook needs it.
        self._workdir = kw.get("cwd")
        return await super()._async_pre_start_kernel(**kw)

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        """The kernelspec's command, wrapped: [hook ...] python kernel_launch.py ... -- kernel."""
        kernel = super().format_kernel_cmd(extra_arguments)
        command = [
            sys.executable,
            "-I",
            "-S",
            str(LAUNCHER),
            f"--memory-bytes={self.memory_bytes}",
            f"--file-size-bytes={self.file_size_bytes}",
            *(["--quiet"] if self.quiet else []),
            "--",
            *kernel,
        ]
        command = [*self.launch_prefix, *command]
        if _launch_hook is not None:
            command = _launch_hook(command, Path(self._workdir or os.getcwd()))
        return command

    @property
    def process_group(self) -> int | None:
        """The kernel's process group id (the launcher leads a session of its own)."""
        provisioner = self.provisioner
        return getattr(provisioner, "pgid", None) if provisioner is not None else None

    def exit_status(self) -> int | None:
        """How the launcher ended (None while it runs): 128 + N when killed by signal N."""
        process = getattr(self.provisioner, "process", None)
        return process.poll() if process is not None else None


def start_kernel(kernel_name: str, workdir: Path, **limits: int) -> LimitedKernelManager:
    """Start a fresh limited kernel in `workdir` and return its manager without waiting for it
    to be ready: the caller does other work (importing nbgrader) while the kernel boots on
    another core. `limits`: `memory_bytes`, `file_size_bytes`.

    Example: km = start_kernel("python3", Path("work"), memory_bytes=2 * 1024**3)
    """
    from jupyter_core.utils import run_sync

    km = LimitedKernelManager(kernel_name=kernel_name, **limits)
    if kernel_name == NATIVE_KERNEL:
        # This interpreter's own ipykernel (the venv with minagent), as jupyter_client's native
        # "python3" kernel; skipping the kernelspec search saves importing IPython here.
        km._kernel_spec = KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name="Python 3 (ipykernel)",
            language="python",
        )
    # As nbgrader's Execute asks: no IPython history database (it would land in $HOME).
    run_sync(km.start_kernel)(cwd=str(workdir), extra_arguments=[NO_HISTORY])
    return km


def kill_process_group(pgid: int | None) -> None:
    """SIGKILL every process in the group: the kernel and anything it started."""
    if pgid and pgid != os.getpgid(0):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def describe_exit(status: int | None) -> str:
    """Why a kernel died, for a learner: `describe_exit(137)` -> 'killed by SIGKILL'."""
    if status is None:
        return "the kernel stopped answering"
    # The launcher exits with 128 + N when the kernel got signal N; Popen reports -N when the
    # launcher itself was killed (a submission that killed its process group or its parent).
    signum = -status if status < 0 else status - 128 if status > 128 else 0
    if signum:
        name = signal.Signals(signum).name if signum < signal.NSIG else f"signal {signum}"
        return f"the kernel was killed by {name}"
    return f"the kernel exited with status {status} (os._exit, sys.exit or a crash in a cell)"
