"""The interpreter in a child process under bubblewrap: its own file system view, network and PIDs.

The AST guards stop what they can see in the code; the process mode adds OS limits (memory,
CPU time, processes, file size, wall clock). A sandbox stops what neither can: it starts the
same worker (`minexec.worker`, so the guards still apply inside) under `bwrap`,
the sandbox behind Flatpak, which gives the child

- a read-only view of the system and of the virtual environment (`--ro-bind / /`), with the
  places that hold people's files hidden under empty in-memory folders (home folders, the
  project folder, the host's /tmp). The guarded worker writes nothing, so it gets no
  writable folder at all: a guard escape finds no disk or tmpfs to fill (RLIMIT_FSIZE bounds
  one file, not 150,000 symlinks). guards=False and the grader's kernels get one private
  writable folder, `SANDBOX_HOME`, and a /tmp of PRIVATE_TMP_BYTES;
- its own network namespace: no interfaces but an unconfigured loopback, so even a server
  on the host's 127.0.0.1 is out of reach;
- its own PID namespace (host processes are invisible, and the whole tree dies with it),
  its own IPC and hostname, a new session (no typing into our terminal via TIOCSTI).

The OS limits are the worker's own (limits.apply_limits), so they hold here too; as root the
code runs as nobody (limits.drop_root_prefix). A C-level crash (a stack overflow from data
nested a million deep) kills only the child: the parent reports ChildKilledError with
`limit="stack"`. Where bwrap
is missing or cannot start (macOS, a container without user namespaces), SandboxInterpreter
falls back to the process mode with a SandboxFallbackWarning, never silently; `strict=True`
raises SandboxUnavailable instead.

`guards=False` runs plain Python in the sandbox (`python -m minexec.sandbox`, no AST guards,
no audit hook): only the OS layer stands between the code and the machine. It exists to test
and demonstrate that layer (a fork bomb, a memory bomb, a write to $HOME, a network call);
never give it model code. It has no fallback: without bwrap it raises SandboxUnavailable.

The grader puts the same sandbox around a notebook's kernel (`grader.kernel.wrap_kernel_command`).

Example:
    >>> with SandboxInterpreter(authorized_imports=["math"]) as sandbox:
    ...     _ = sandbox.run("import math\\nx = math.sqrt(16)")
    ...     sandbox.run("x + 1").output
    5.0
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from minexec import worker
from minexec.budgets import Budgets
from minexec.limits import UNPRIVILEGED_UID, drop_root_prefix, is_root
from minexec.process import ProcessInterpreter, worker_command
from minexec.worker import Session

__all__ = [
    "SANDBOX_FILE_BYTES", "SANDBOX_HOME", "UNPRIVILEGED_UID", "SandboxFallbackWarning",
    "SandboxInterpreter", "SandboxUnavailable", "bwrap_command", "drop_root_prefix", "hand_over",
    "project_root", "require_sandbox", "sandbox_problem",
]  # fmt: skip

SANDBOX_HOME = "/home/sandbox"
"""Where the private writable folder appears inside the sandbox (also its cwd and $HOME)."""

HIDDEN_PATHS = ("/home", "/root", "/tmp", "/var/tmp", "/run/user", "/mnt", "/media", "/srv")
"""Folders replaced by empty in-memory ones inside the sandbox: where people keep files.
The project folder and $HOME are hidden too (see `hidden_paths`)."""

PRIVATE_TMP = ("/tmp", "/var/tmp")
"""Hidden folders that stay writable: the sandbox's own scratch space, gone when it ends."""

SANDBOX_FILE_BYTES = 64 * 1024 * 1024
"""guards=False: largest file the code may write (RLIMIT_FSIZE); its folder is private, so
unlike the guarded worker (which may write nothing) it can keep results there."""

PRIVATE_TMP_BYTES = 64 * 1024 * 1024
"""Size of each writable in-memory folder (/tmp, /var/tmp): tmpfs lives in the host's memory,
and RLIMIT_FSIZE bounds one file, not how many (symlinks are not counted at all)."""

HIDDEN_TMPFS_BYTES = 1024 * 1024
"""Size of the read-only in-memory folders that hide people's files (they hold only the
folders made to show the Python installation through them)."""

PROBE_TIMEOUT_SECONDS = 10.0
"""Seconds the start-up probe of bwrap may take before we call it broken."""

INSTALL_HINT = "install it with `apt-get install bubblewrap` (Debian/Ubuntu)"


class SandboxUnavailable(RuntimeError):
    """bwrap is missing or cannot start here, and the caller required the sandbox."""


class SandboxFallbackWarning(RuntimeWarning):
    """The sandbox is unavailable: code runs in a plain child process (OS limits only)."""


# -- is bubblewrap usable? -------------------------------------------------------------------


def sandbox_problem() -> str | None:
    """Why bwrap cannot sandbox code here, or None when it can.

    Looks bwrap up on the PATH each time (so a changed PATH counts), then runs a tiny probe
    sandbox once per bwrap binary: user namespaces may be disabled even where bwrap exists.
    """
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bwrap is not on the PATH"
    if is_root() and shutil.which("setpriv") is None:
        return "running as root needs setpriv (util-linux) to drop to an unprivileged user"
    return _probe(bwrap)


@functools.cache
def _probe(bwrap: str) -> str | None:
    command = [bwrap, *_namespace_args(), "--ro-bind", "/", "/", "--proc", "/proc", "true"]
    try:
        done = subprocess.run(command, capture_output=True, timeout=PROBE_TIMEOUT_SECONDS)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bwrap could not be run: {error}"
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines() or ["no message"]
        return f"bwrap cannot create a sandbox here ({reason[-1]})"
    return None


def require_sandbox() -> None:
    """Raise SandboxUnavailable (saying why and how to fix it) unless bwrap works here."""
    problem = sandbox_problem()
    if problem is not None:
        raise SandboxUnavailable(f"{problem}; {INSTALL_HINT}")


# -- the bwrap command line ------------------------------------------------------------------


def _namespace_args(setuid: bool = False) -> list[str]:
    """Own network, PID, IPC and hostname namespaces; die when we die.

    As root, bwrap would keep every capability (the code could remount anything): drop them
    all, except (with `setuid`) the two that setpriv needs to become UNPRIVILEGED_UID; those
    vanish too once it has switched.
    """
    args = ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
    args += ["--hostname", "sandbox", "--die-with-parent"]
    if is_root():
        args += ["--cap-drop", "ALL"]
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"] if setuid else []
    return args


def project_root() -> Path:
    """The folder holding the minexec and minagent packages (the course repository when installed
    editable)."""
    return Path(__file__).resolve().parents[1]


def hidden_paths(extra: Iterable[str] = ()) -> list[str]:
    """Existing folders to hide: HIDDEN_PATHS, $HOME, the project folder and `extra`, parents
    first."""
    candidates = [*HIDDEN_PATHS, os.path.expanduser("~"), str(project_root()), *extra]
    found = {os.path.realpath(path) for path in candidates if os.path.isdir(path)}
    return sorted(found - {"/"}, key=lambda path: (path.count("/"), path))


def readable_paths() -> list[str]:
    """What sandboxed Python must read: the virtualenv, the base Python, minexec and minagent
    (the worker imports the Executor protocol's types from minagent.executor)."""
    packages = [Path(__file__).resolve().parent, project_root() / "minagent"]
    paths = [sys.prefix, sys.base_prefix, *map(str, packages)]
    return [os.path.realpath(path) for path in paths]


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _expose(source: str, target: str, hidden: list[str], flag: str) -> list[str]:
    """Bind `source` at `target`, first making its parents (0755) inside a hidden folder."""
    args: list[str] = []
    cover = [folder for folder in hidden if _under(target, folder) and folder != target]
    if cover:
        # bwrap would create the missing parents itself, but mode 0700: unreadable to others.
        parent = Path(target).parent
        parents = [p for p in [parent, *parent.parents] if _under(str(p), cover[-1])]
        for folder in reversed(parents):
            if str(folder) != cover[-1]:
                args += ["--perms", "0755", "--dir", str(folder)]
    return args + [flag, source, target]


def bwrap_command(
    workdir: Path | str,
    *,
    mount_at: str = SANDBOX_HOME,
    writable: Iterable[str] = (),
    hidden: Iterable[str] = (),
    new_session: bool = True,
    setuid: bool = False,
    read_only: bool = False,
) -> list[str]:
    """The `bwrap ...` prefix that runs a command with `workdir` as its only writable folder.

    Args:
        workdir: host folder, bound read-write at `mount_at` (also the cwd and $HOME).
        writable: more host paths to bind read-write where they are.
        hidden: more host folders to hide (the grader's class folder, wherever it lies).
        new_session: start a new session (setsid); the grader passes False so that the
            interrupt it sends the kernel's process group still reaches the kernel.
        setuid: as root, keep what setpriv needs to switch to UNPRIVILEGED_UID.
        read_only: nothing writable at all, not even `workdir` or /tmp (the guarded worker
            writes nothing, so a guard escape finds no file system to fill with symlinks).

    Example:
        bwrap_command("/tmp/w") + ["python", "-c", "print(1)"]
    """
    covered = hidden_paths(hidden)
    args = [shutil.which("bwrap") or "bwrap", "--ro-bind", "/", "/"]
    for folder in covered:
        private = folder in PRIVATE_TMP and not read_only
        mode, size = ("1777", PRIVATE_TMP_BYTES) if private else ("0755", HIDDEN_TMPFS_BYTES)
        args += ["--perms", mode, "--size", str(size), "--tmpfs", folder]
    args += ["--dev", "/dev", "--proc", "/proc"]
    shown: list[str] = []
    for path in readable_paths():
        # Only what is hidden needs showing, and a path inside a shown folder is shown already.
        if not os.path.exists(path) or any(_under(path, done) for done in shown):
            continue
        if any(_under(path, folder) for folder in covered):
            args += _expose(path, path, covered, "--ro-bind")
            shown.append(path)
    for path in dict.fromkeys(os.path.realpath(p) for p in writable):
        args += _expose(path, path, covered, "--bind")
    bind = "--ro-bind" if read_only else "--bind"
    args += _expose(os.path.realpath(workdir), mount_at, covered, bind)
    for folder in covered:
        # Hidden folders are empty and read-only (a write there fails, rather than vanishing
        # into memory); /tmp stays a private scratch space. Mounts inside keep their own mode.
        args += [] if folder in PRIVATE_TMP and not read_only else ["--remount-ro", folder]
    args += _namespace_args(setuid) + (["--new-session"] if new_session else [])
    return args + ["--chdir", mount_at, "--setenv", "HOME", mount_at, "--"]


def hand_over(folder: Path | str, uid: int = UNPRIVILEGED_UID) -> None:
    """As root: give `folder` and what it holds to `uid` (by default nobody), who runs the code.

    The folder becomes 0711: bwrap enters it as root without capabilities (--chdir), which
    a 0700 folder of another user (tempfile makes them) would refuse.

    Example: hand_over(workdir); command = [*bwrap_command(workdir, setuid=True),
    *drop_root_prefix(), sys.executable, "main.py"]
    """
    for path in [Path(folder), *Path(folder).rglob("*")]:
        os.chown(path, uid, uid)
    Path(folder).chmod(0o711)


# -- the interpreter -------------------------------------------------------------------------


class SandboxInterpreter(ProcessInterpreter):
    """The process-mode interpreter, with its child under bubblewrap; same `run()` and `state`.

    Args:
        authorized_imports, tools, budgets: as for GuardedInterpreter (budgets.memory_mb and
            cpu_seconds become the child's RLIMIT_AS and per-run RLIMIT_CPU).
        strict: raise SandboxUnavailable instead of falling back when bwrap cannot run.
        guards: False runs plain Python with no AST guards (tests and demos of the OS layer
            only; never model code); it never falls back.

    `sandboxed` says whether the child really runs under bwrap; `workdir` is the host folder
    that the code sees as SANDBOX_HOME (removed with this object).
    """

    def __init__(
        self,
        authorized_imports: Iterable[str] = (),
        tools: dict[str, Callable[..., Any]] | None = None,
        budgets: Budgets | None = None,
        *,
        strict: bool = False,
        guards: bool = True,
    ) -> None:
        self._child = None  # so that __del__ of a refused instance has nothing to stop
        if not guards and tools:
            raise ValueError("guards=False runs plain Python, which has no tool callbacks")
        problem = sandbox_problem()
        if problem is not None and (strict or not guards):
            raise SandboxUnavailable(f"{problem}; {INSTALL_HINT}")
        self._folder = tempfile.TemporaryDirectory(prefix="minagent-sandbox-")
        self.workdir = Path(self._folder.name)
        self.sandboxed = problem is None
        if not self.sandboxed:
            warnings.warn(
                f"{problem}: running code in a plain child process (OS limits only; it can "
                f"read and write your files and reach the network); {INSTALL_HINT}",
                SandboxFallbackWarning,
                stacklevel=2,
            )
            command = worker_command()
        else:
            module = "minexec.worker" if guards else "minexec.sandbox"
            command = [*self._prefix(read_only=guards), sys.executable, "-m", module]
        super().__init__(authorized_imports, tools, budgets, command)

    def _prefix(self, read_only: bool) -> list[str]:
        if is_root():
            # The code runs as nobody: it must be able to write (and enter) its folder.
            hand_over(self.workdir)
            command = bwrap_command(self.workdir, setuid=True, read_only=read_only)
            return [*command, *drop_root_prefix()]
        return bwrap_command(self.workdir, read_only=read_only)


# -- plain Python in the sandbox (guards=False) ----------------------------------------------


def plain_session(init: dict, *_: object) -> Session:
    """The worker's plain-Python session with the sandbox's file size and no audit hook:
    only bubblewrap and the OS limits stand between the code and the machine."""
    return worker.plain_session(init, file_bytes=SANDBOX_FILE_BYTES, hook=False)


if __name__ == "__main__":
    worker.serve(*worker.channel(), plain_session)
