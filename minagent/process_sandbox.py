"""Model code in a child process under OS limits (unit 07's `run_in_sandbox`).

A wall made of Python (unit 04's guards) can have a hole in it. This is the second wall, which
does not depend on understanding the code: run it as a script in another process, and let the
kernel limit that process with resource limits (memory, CPU seconds, processes, file size),
inherited by everything it starts. Two things no rlimit covers are added here: a wall-clock
timeout (a sleeping child uses no CPU), and killing the child's whole process group when it
ends (what it started must not outlive it). A bomb is then a result, not a dead notebook.

As root the kernel ignores the process limit, so `launcher` runs the child as the user nobody,
under bubblewrap (`minexec.sandbox`). For code agents, `minexec.sandbox.SandboxInterpreter` is
the full version: the guarded interpreter in such a child, with its own network, PIDs and files.

This module is unit 07's solution, names and all, so a learner stuck on the unit can read it.

Example:
    >>> run_in_sandbox("print(6 * 7)").stdout
    '42\\n'
"""

from __future__ import annotations

import functools
import os
import resource
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# killed_by(returncode): the signal that killed a child (-N from Popen, 128 + N through bwrap).
from minexec.limits import killed_by
from minexec.sandbox import bwrap_command, drop_root_prefix, hand_over, sandbox_problem


@dataclass(frozen=True)
class SandboxLimits:
    """What the child process may use. Small on purpose: a bomb hits them in a blink."""

    memory_mb: int = 256  # RLIMIT_AS, in MiB
    cpu_seconds: int = 2  # RLIMIT_CPU (soft limit: SIGXCPU; the hard limit is one more second)
    max_processes: int = 16  # RLIMIT_NPROC: processes of the child's user
    file_bytes: int = 1_000_000  # RLIMIT_FSIZE: any file it writes, its output included
    timeout: float = 5.0  # wall-clock seconds, then SIGKILL to its whole process group


@dataclass
class SandboxResult:
    """How a sandboxed run ended."""

    stdout: str  # what the code printed (at most SandboxLimits.file_bytes of it)
    stderr: str  # its errors: a traceback names the limit it hit
    returncode: int | None  # 0: success; see killed_by for a signal
    limit: str | None = None  # "timeout", "cpu", "memory", "processes", "file size" or None

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.limit is None


@functools.cache
def bubblewrap_problem() -> str | None:
    """Why bubblewrap cannot sandbox code here, or None where it can (asked once)."""
    return sandbox_problem()


def process_limit_holds() -> bool:
    """Does RLIMIT_NPROC bind our children? Not for root without bubblewrap to drop to nobody:
    the kernel does not apply the process limit to root."""
    return bubblewrap_problem() is None or os.geteuid() != 0


def launcher(folder: Path) -> list[str]:
    """The command prefix that makes sure the process limit holds for a child of ours.

    As any user but root: [] (a plain child process; the limits apply as they are).
    As root, where bubblewrap works: bwrap, then setpriv to switch to the user nobody, since
    the kernel does not apply RLIMIT_NPROC to root. (Bubblewrap is what lets nobody run our
    Python, which may sit in root's home folder; and it isolates the child more.)
    As root without bubblewrap: [] (and the process limit does not hold).

    Example: launcher(Path("/tmp/box")) + [sys.executable, "main.py"]
    """
    if os.geteuid() != 0 or bubblewrap_problem() is not None:
        return []
    hand_over(folder)  # nobody must be able to enter and write its own folder
    return [*bwrap_command(folder, setuid=True), *drop_root_prefix()]


def _limit_hit(timed_out: bool, returncode: int | None, stderr: str) -> str | None:
    """The limit that stopped a run, by how it ended: "timeout", "cpu", then by stderr."""
    if timed_out:
        return "timeout"
    if killed_by(returncode) == signal.SIGXCPU:
        return "cpu"
    for limit, sign in [
        ("memory", "MemoryError"),
        ("processes", "BlockingIOError"),
        ("file size", "File too large"),
    ]:
        if sign in stderr:
            return limit
    return None


def run_in_sandbox(code: str, limits: SandboxLimits = SandboxLimits()) -> SandboxResult:
    """Run Python code in a separate process under OS limits, and report how it ended.

    Args:
        code: Python source, run as a script (main.py) in a fresh temporary folder, which is
            also its cwd and HOME; none of our environment variables (no API key leaks).
        limits: the SandboxLimits to apply.

    Returns:
        SandboxResult(stdout, stderr, returncode, limit): what the code printed (at most
        limits.file_bytes of each), the child's exit status, and the limit that stopped it:
        "timeout", "cpu", "memory", "processes", "file size", or None.

    Never raises because of what the code did.

    Example:
        run_in_sandbox("x = bytearray(2**30)").limit -> "memory"
    """

    def set_limits() -> None:
        # Runs in the child before Python starts: the limits bind the code and all it starts.
        # (Only setrlimit calls here: preexec_fn must take no lock in a program with threads.)
        memory = limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_processes, limits.max_processes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    # Files, not pipes: the file size limit then caps the output too.
    with (
        tempfile.TemporaryDirectory(prefix="sandbox-") as name,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        folder = Path(name)
        (folder / "main.py").write_text(code)
        child = subprocess.Popen(
            # -I: isolated from our environment and folders; -u: unbuffered, so a killed child
            # still shows what it printed.
            [*launcher(folder), sys.executable, "-I", "-u", "main.py"],
            cwd=folder,
            env={"PATH": "/usr/bin:/bin", "HOME": str(folder)},  # none of our secrets
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            preexec_fn=set_limits,
            start_new_session=True,  # its own process group: one killpg reaches all it started
        )
        timed_out = False
        try:
            child.wait(timeout=limits.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True  # sleeping, or waiting on something: no CPU limit would fire
        finally:
            # Always, even after a normal exit: the code may have left processes behind.
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # nothing was left
            child.wait()
        out.seek(0)
        err.seek(0)
        stdout = out.read(limits.file_bytes).decode(errors="replace")
        stderr = err.read(limits.file_bytes).decode(errors="replace")
    return SandboxResult(
        stdout, stderr, child.returncode, _limit_hit(timed_out, child.returncode, stderr)
    )
