"""The kernel a submission runs in: fresh, limited, sandboxed where it can be, and killed as a
whole process group.

`LimitedKernelManager` is jupyter_client's `AsyncKernelManager` with one change: the kernel
command is wrapped, first by the launch hook, the sandbox (`wrap_kernel_command`: minexec's
bubblewrap prefix, no network, no other students' files), then by `kernel_launch.py` (rlimits,
stdin from /dev/null):

    python kernel_launch.py --memory-bytes=N --sandboxed -- bwrap ... -- python -m ipykernel ...

The launcher stays outside the sandbox and keeps SIGINT ignored for bwrap: jupyter_client
interrupts a cell with a SIGINT to the kernel's process group, and bwrap would die of it.

Transport: a sandboxed kernel has no network, not even the host's loopback (sharing it would
let a submission reach every local server), so it speaks ZeroMQ over the "ipc" transport: unix
sockets in a private runtime folder that the hook makes writable. Without a sandbox the kernel
uses TCP on 127.0.0.1.

`configure_sandbox(mode)` sets the hook for `agents-grade --sandbox auto|off|require`; the
command line (default auto) and every class-run worker call it. From Python, `grade_notebook`
and `autograde_in` start plain kernels until it is called.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, DottedObjectName, Int, List, Type, Unicode

from grader.limits import SANDBOX_MODES
from minexec import sandbox
from minexec.limits import killed_by

# Called as hook(argv, workdir, writable=[runtime folder]); returns the command to run.
LaunchHook = Callable[..., list[str]]

LAUNCHER = Path(__file__).with_name("kernel_launch.py")
NATIVE_KERNEL = "python3"
NO_HISTORY = "--HistoryManager.hist_file=:memory:"
# How long the launcher may take to kill what left the kernel's process group (see
# kill_process_group); it needs milliseconds.
LAUNCHER_GRACE_S = 2.0

# Set by `use_launch_hook`; a module global because nbclient builds the kernel manager itself.
_launch_hook: LaunchHook | None = None


def use_launch_hook(hook: LaunchHook | None) -> None:
    """Wrap every kernel this process starts with `hook` (None: no extra wrapping)."""
    global _launch_hook
    _launch_hook = hook


def wrap_kernel_command(
    argv: list[str],
    workdir: Path,
    writable: Sequence[Path | str] = (),
    hidden: Sequence[Path | str] = (),
    uid: int = sandbox.UNPRIVILEGED_UID,
) -> list[str]:
    """Run a notebook kernel's command under bwrap: `workdir` writable, no network, no other
    students' files. Raises SandboxUnavailable where bwrap cannot run (see sandbox_problem).

    The kernel keeps its own paths: `workdir` is bound where it is (not at SANDBOX_HOME);
    `writable` folders are bound where they are, `hidden` folders (a class of submissions) are
    hidden as well. The kernel has no network, so the grader must speak to it
    over ZeroMQ's ipc transport (unix sockets), in a folder passed in `writable`. As root, the
    kernel runs as `uid` (nobody unless a class run gives each of its parallel kernels a user of
    its own, so that their process limits do not add up), as the interpreter does (files only
    root may read stay unreadable): `workdir` and the `writable` folders, with what they hold
    (the connection file), are handed over to that user.

    Example:
        wrap_kernel_command(["python", "-m", "ipykernel_launcher", "-f", "k.json"], Path("w"))
    """
    sandbox.require_sandbox()
    prefix = sandbox.bwrap_command(
        workdir,
        mount_at=os.path.realpath(workdir),
        writable=[str(path) for path in writable],
        hidden=[str(path) for path in hidden],
        new_session=False,
        setuid=sandbox.is_root(),
    )
    for folder in [workdir, *writable] if sandbox.is_root() else []:
        sandbox.hand_over(folder, uid)
    # ipykernel watches for its parent (the grader's pid) to change; in its own PID namespace
    # its parent is bwrap's init, pid 1, which it takes for "the grader has exited". Without
    # the variable it does not watch: --die-with-parent ends it with the grader instead.
    return [
        *prefix[:-1],
        "--unsetenv",
        "JPY_PARENT_PID",
        "--",
        *sandbox.drop_root_prefix(uid),
        *argv,
    ]


def configure_sandbox(
    mode: str, hidden: Sequence[Path | str] = (), uid: int = sandbox.UNPRIVILEGED_UID
) -> str | None:
    """Sandbox every kernel this process starts, as `--sandbox MODE` asks; returns None when
    kernels will run under bubblewrap, else why not.

    "auto" sandboxes where bubblewrap works and falls back to plain kernels elsewhere, "off"
    never sandboxes, "require" raises `minexec.sandbox.SandboxUnavailable` (a RuntimeError
    saying what is missing and how to install it) instead of falling back. `hidden`: folders
    the kernels must not see besides those the sandbox always hides (a class of submissions).
    `uid`: the user the kernels run as when the grader is root (a class run gives each of its
    parallel workers its own, see `kernel_uid`).

    Example: configure_sandbox("auto") -> None on Linux with bwrap, "bwrap is not on the PATH"
    """
    if mode not in SANDBOX_MODES:
        raise ValueError(f"sandbox mode {mode!r}: expected one of {', '.join(SANDBOX_MODES)}")
    problem = "--sandbox off" if mode == "off" else sandbox.sandbox_problem()
    if problem is not None and mode == "require":
        sandbox.require_sandbox()
    hook = functools.partial(wrap_kernel_command, hidden=hidden, uid=uid)
    use_launch_hook(hook if problem is None else None)
    return problem


class ReadyKernelClient(AsyncKernelClient):
    """jupyter_client's async kernel client, minus a 0.2 s pause before the first cell.

    Its `wait_for_ready` waits for a kernel_info reply on the shell channel and a message on
    IOPub (so both channels work), then waits until IOPub has been silent for 0.2 s. That
    last wait only drops stale status messages, which nbclient ignores anyway (it keeps only
    IOPub messages whose parent is the cell it runs); here it is skipped.
    """

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:
                    await self.iopub_channel.get_msg(timeout=0.2)
                except Empty:
                    pass  # IOPub not connected yet: ask again
                else:
                    self._handle_kernel_info_reply(reply)
                    return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")


class LimitedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run under `kernel_launch.py` limits and the launch hook."""

    client_class = DottedObjectName("grader.kernel.ReadyKernelClient")
    client_factory = Type(ReadyKernelClient, klass=AsyncKernelClient)

    memory_bytes = Int(0, help="RLIMIT_AS of the kernel in bytes (0: no limit)").tag(config=True)
    file_size_bytes = Int(0, help="RLIMIT_FSIZE of the kernel in bytes (0: none)").tag(config=True)
    max_processes = Int(0, help="RLIMIT_NPROC where the kernel has a user of its own").tag(
        config=True
    )
    quiet = Bool(True, help="send the kernel's own stdout/stderr to /dev/null").tag(config=True)
    launch_prefix = List(Unicode(), help="command put before the launcher").tag(config=True)

    _workdir: str | None = None
    _runtime: tempfile.TemporaryDirectory | None = None
    _hooked = False

    async def _async_pre_start_kernel(self, **kw):  # type: ignore[no-untyped-def]
        # nbclient passes the notebook's folder as `cwd`; the launch hook needs it.
        self._workdir = kw.get("cwd") or os.getcwd()
        # A folder of the kernel's own, removed at shutdown. It holds an empty IPython profile
        # folder: the kernel must not run the startup files or config of the grader's
        # ~/.ipython (code that would run before the grader's guard, planted there by an
        # earlier submission graded without the sandbox).
        self._runtime = tempfile.TemporaryDirectory(prefix="agents-kernel-")
        kw["env"] = {**(kw.get("env") or os.environ), "IPYTHONDIR": self._runtime.name}
        self._hooked = _launch_hook is not None
        if self._hooked:
            # Unix sockets and the connection file there too, with a short path (a socket path
            # has at most 107 bytes).
            self.transport = "ipc"
            self.ip = os.path.join(self._runtime.name, "ipc")
            self.connection_file = os.path.join(self._runtime.name, "kernel.json")
        return await super()._async_pre_start_kernel(**kw)

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        """The kernelspec's command, wrapped: python kernel_launch.py ... -- [hook ...] kernel."""
        kernel = super().format_kernel_cmd(extra_arguments)
        if _launch_hook is not None and self._hooked and self._runtime is not None:
            workdir = Path(self._workdir or os.getcwd())
            kernel = _launch_hook(kernel, workdir, writable=[self._runtime.name])
        return [
            *self.launch_prefix,
            sys.executable,
            "-I",
            "-S",
            str(LAUNCHER),
            f"--memory-bytes={self.memory_bytes}",
            f"--file-size-bytes={self.file_size_bytes}",
            f"--max-processes={self.max_processes if self.own_user else 0}",
            *(["--quiet"] if self.quiet else []),
            *(["--sandboxed"] if self._hooked else []),
            "--",
            *kernel,
        ]

    @property
    def own_user(self) -> bool:
        """Whether the kernel runs as a user of its own: sandboxed while the grader is root."""
        return self._hooked and os.geteuid() == 0

    @property
    def process_group(self) -> int | None:
        """The kernel's process group id (the launcher leads a session of its own)."""
        provisioner = self.provisioner
        return getattr(provisioner, "pgid", None) if provisioner is not None else None

    def reap(self, timeout: float = 5.0) -> None:
        """Wait (at most `timeout` s) for the launcher once its process group was killed, so
        that `shutdown_kernel` finds the kernel gone instead of polling for it every 0.1 s."""
        process = getattr(self.provisioner, "process", None)
        if process is not None:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass  # shutdown_kernel kills and waits on its own

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if self._runtime is not None and not restart:
            # Now, not when the manager is garbage collected: `agents-grade` ends without
            # collecting (grader.startup), which left an empty folder behind per notebook.
            self._runtime.cleanup()
            self._runtime = None

    def exit_status(self) -> int | None:
        """How the launcher ended (None while it runs): 128 + N when killed by signal N."""
        process = getattr(self.provisioner, "process", None)
        return process.poll() if process is not None else None


def start_kernel(kernel_name: str, workdir: Path, **limits: int) -> LimitedKernelManager:
    """Start a fresh limited kernel in `workdir` and return its manager without waiting for it
    to be ready: the caller does other work (importing nbgrader) while the kernel boots on
    another core. `limits`: `memory_bytes`, `file_size_bytes`, `max_processes`.

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
    """SIGKILL every process in the group: the kernel and anything it started.

    The launcher leads the group (its pid is the group id). On Linux everything else in the
    group dies first, and the launcher gets up to `LAUNCHER_GRACE_S` to kill what left the
    group (see `kernel_launch.py`: it is the kernel's subreaper) before it is killed too.
    """
    if not pgid or pgid == os.getpgid(0):
        return
    others = [pid for pid in _group_members(pgid) if pid != pgid]
    for pid in others:
        _kill(pid)
    deadline = time.monotonic() + LAUNCHER_GRACE_S
    while _group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group `pgid`, from /proc; [] where there is none."""
    members = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return members
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == pgid and fields[0] != "Z":
            members.append(int(entry))
    return members


def describe_exit(status: int | None) -> str:
    """Why a kernel died, for a learner: `describe_exit(137)` -> 'killed by SIGKILL'."""
    if status is None:
        return "the kernel stopped answering"
    # The launcher exits with 128 + N when the kernel got signal N; Popen reports -N when the
    # launcher itself was killed (a submission that killed its process group or its parent).
    signum = killed_by(status)
    if signum:
        name = signal.Signals(signum).name if signum < signal.NSIG else f"signal {signum}"
        return f"the kernel was killed by {name}"
    return f"the kernel exited with status {status} (os._exit, sys.exit or a crash in a cell)"
