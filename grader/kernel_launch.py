"""Start a Jupyter kernel under OS limits: `python kernel_launch.py [options] -- KERNEL ARGV`.

The grader's kernel manager puts this script in front of the kernel command (and of the
sandbox around it: `--sandboxed`). It stays the parent of the kernel so that a submission which
kills its parent kills this wrapper, not the grader, and it reports how the kernel ended through
its exit status (128 + signal number when the kernel was killed; bwrap passes that on). Only
the standard library (and minexec/limits.py, by its path) is imported: it runs with
`python -I -S`.

On Linux it is also the kernel's child subreaper: a process that a submission moved out of the
kernel's process group (`setsid`, a double fork) is handed to this launcher when its parent
dies, and once the kernel has ended the launcher kills and reaps every such process, so that
none outlives the grading. (`grader.kernel.kill_process_group` kills the rest of the group
first and gives the launcher a moment to do that.)
"""

import argparse
import importlib.util
import os
import signal
import sys
import time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
# How long the launcher keeps killing what the kernel left behind before it gives up.
REAP_SECONDS = 5.0


def _limits_module():  # type: ignore[no-untyped-def]
    """minexec/limits.py, the project's one copy of the OS limits, loaded by its path: this
    script runs without the installed packages (-I -S), and importing the minexec package would
    load the whole interpreter for three setrlimit calls."""
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "minexec")
    spec = importlib.util.spec_from_file_location("minexec_limits", os.path.join(path, "limits.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _prctl(option: int, value: int) -> bool:
    """Linux prctl(2); False where there is none."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(option, value) == 0
    except (OSError, AttributeError):
        return False


def _die_with_parent() -> None:
    """Linux: the kernel gets SIGKILL when this launcher dies (a submission that kills its
    parent kills itself, the same way every time). Elsewhere the grader kills the process
    group when it sees the launcher gone."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _children() -> list:
    """This process's live children, from /proc (empty where there is no /proc)."""
    me, found = os.getpid(), []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[1]) == me and fields[0] != "Z":
            found.append(int(entry))
    return found


def _reap_orphans() -> None:
    """Kill and reap every process handed to this subreaper until none is left (a process
    may still be handed over while its parent dies), for at most REAP_SECONDS."""
    deadline = time.monotonic() + REAP_SECONDS
    while time.monotonic() < deadline:
        children = _children()
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            if not children:
                return
        time.sleep(0.01)


def main(argv: list) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--memory-bytes", type=int, default=0)
    parser.add_argument("--file-size-bytes", type=int, default=0)
    parser.add_argument("--max-processes", type=int, default=0, help="RLIMIT_NPROC (0: none)")
    parser.add_argument("--quiet", action="store_true", help="kernel stdout/stderr to /dev/null")
    parser.add_argument("--sandboxed", action="store_true", help="the command is bwrap ... kernel")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command

    # stdin from /dev/null: code that reads sys.stdin gets end-of-file instead of hanging.
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    # An interrupt is meant for the kernel, which shares this process group.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    subreaper = _prctl(PR_SET_CHILD_SUBREAPER, 1)
    pid = os.fork()
    if pid == 0:
        # bwrap would die of the interrupt (and the kernel with it), so it inherits "ignore";
        # ipykernel sets its own SIGINT handler while it runs a cell.
        signal.signal(signal.SIGINT, signal.SIG_IGN if args.sandboxed else signal.SIG_DFL)
        _die_with_parent()
        # 0 means "no limit" on this command line. Root ignores the process limit (bwrap
        # starts as root); it holds once the kernel runs as its own user. No core dumps.
        _limits_module().apply_limits(
            memory_bytes=args.memory_bytes or None,
            file_bytes=args.file_size_bytes or None,
            processes=args.max_processes or None,
        )
        # The kernel's own stdout/stderr (start-up warnings, C-level prints) would land in the
        # grader's terminal; what a cell prints reaches the grader over ZeroMQ anyway.
        os.dup2(devnull, 1) if args.quiet else None
        os.dup2(devnull, 2) if args.quiet else None
        os.execvp(command[0], command)
    # Pass a polite shutdown on to the kernel; SIGKILL reaches the whole group anyway.
    signal.signal(signal.SIGTERM, lambda signum, frame: os.kill(pid, signal.SIGTERM))
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    if subreaper:
        _reap_orphans()
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
