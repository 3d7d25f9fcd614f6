"""The OS limits a child process runs under, who it runs as, and how to read its death.

One copy of each, shared by the interpreter's worker (worker.py), the plain-Python sandbox
(sandbox.py) and the grader's kernel launcher: resource limits (`apply_limits`, `arm_cpu`),
the drop from root to an unprivileged user (`drop_root_prefix`: the kernel never applies
RLIMIT_NPROC to root, and root reads every file and every process's environment), and the
meaning of an exit status (`describe_exit`: which limit killed the child).

Example:
    >>> describe_exit(-signal.SIGXCPU)
    ('cpu', 'it used up its CPU time (RLIMIT_CPU)')
    >>> describe_exit(128 + signal.SIGSEGV)[0]   # bwrap reports "killed by N" as 128 + N
    'stack'
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import sys

UNPRIVILEGED_UID = 65534
"""The user (nobody) that sandboxed code runs as when we are root: the kernel does not apply
RLIMIT_NPROC to uid 0, so as root a fork bomb would not be stopped by the process limit."""

_SIGNAL_LIMITS = {
    getattr(signal, name): reason
    for name, reason in {
        "SIGXCPU": ("cpu", "it used up its CPU time (RLIMIT_CPU)"),
        "SIGXFSZ": ("file size", "it tried to write a file past its size limit (RLIMIT_FSIZE)"),
        "SIGKILL": ("memory", "it was killed, most likely for using too much memory"),
        "SIGSEGV": (
            "stack",
            "it crashed (segmentation fault), most likely a C stack overflow from deeply "
            "nested data or recursion inside C code",
        ),
        "SIGBUS": ("memory", "it crashed (bus error), most likely out of memory"),
        "SIGABRT": ("crash", "it aborted (a fatal error inside the interpreter)"),
    }.items()
    if hasattr(signal, name)  # POSIX signals: this module still imports on Windows
}


def killed_by(returncode: int | None) -> int | None:
    """The signal that ended a child, from its exit status: Popen reports -N, a launcher in
    between (bwrap, a shell) exits with 128 + N. None when it exited on its own.

    Example: killed_by(-9) -> 9, killed_by(152) -> 24 (SIGXCPU), killed_by(1) -> None
    """
    if returncode is None:
        return None
    if returncode < 0:
        return -returncode
    return returncode - 128 if returncode > 128 else None


def describe_exit(returncode: int | None) -> tuple[str, str]:
    """(limit, why) for a child that died: the limit a signal stands for, in words.

    Example: describe_exit(-9) -> ("memory", "it was killed, most likely for using too much memory")
    """
    signum = killed_by(returncode)
    if signum in _SIGNAL_LIMITS:
        return _SIGNAL_LIMITS[signum]
    if signum is not None:
        return "crash", f"it was killed by signal {signum}"
    return "crash", f"it exited with status {returncode}"


def apply_limits(
    *,
    memory_bytes: int | None = None,
    file_bytes: int | None = None,
    processes: int | None = None,
    cpu_seconds: int | None = None,
) -> None:
    """Set this process's resource limits (soft and hard): each one given, and no core files.

    Args:
        memory_bytes: RLIMIT_AS, the address space.
        file_bytes: RLIMIT_FSIZE, the largest file it may write (0: none at all).
        processes: RLIMIT_NPROC, processes (and threads) its user may have (0: no new ones).
        cpu_seconds: RLIMIT_CPU, CPU seconds from now (see arm_cpu).

    A limit the system refuses (macOS has no RLIMIT_AS) is reported on stderr; the others
    still hold.

    Example: apply_limits(memory_bytes=2 * 2**30, file_bytes=0, processes=0)
    """
    import resource

    limits = {
        resource.RLIMIT_AS: memory_bytes,
        resource.RLIMIT_FSIZE: file_bytes,
        resource.RLIMIT_NPROC: processes,
        resource.RLIMIT_CORE: 0,
    }
    for limit, value in limits.items():
        if value is None:
            continue
        try:
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):
            print(f"minexec: could not set resource limit {limit}", file=sys.stderr)
    if cpu_seconds is not None:
        arm_cpu(cpu_seconds)


def arm_cpu(cpu_seconds: int) -> None:
    """Allow `cpu_seconds` more CPU time from now (RLIMIT_CPU counts the process lifetime)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = math.ceil(usage.ru_utime + usage.ru_stime)
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    resource.setrlimit(resource.RLIMIT_CPU, (used + cpu_seconds, hard))


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def drop_root_prefix(uid: int = UNPRIVILEGED_UID) -> list[str]:
    """As root: the prefix that runs a command as `uid` (by default nobody) with setpriv, so
    that RLIMIT_NPROC applies and root's files and processes are out of reach; as anyone
    else, or where setpriv is missing: [] (can_drop_root says which).

    Example: drop_root_prefix() -> ["/usr/bin/setpriv", "--reuid=65534", ..., "--"] as root
    """
    setpriv = shutil.which("setpriv")
    if not is_root() or setpriv is None:
        return []
    return [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"]


def can_drop_root() -> bool:
    """False only as root without setpriv (util-linux): the child would run as root."""
    return not is_root() or shutil.which("setpriv") is not None
