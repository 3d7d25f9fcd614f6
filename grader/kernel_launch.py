"""Start a Jupyter kernel under OS limits: `python kernel_launch.py [options] -- KERNEL ARGV`.

The grader's kernel manager puts this script in front of the kernel command (and of the
sandbox around it: `--sandboxed`). It stays the parent of the kernel so that a submission which
kills its parent kills this wrapper, not the grader, and it reports how the kernel ended through
its exit status (128 + signal number when the kernel was killed; bwrap passes that on). Only
the standard library is imported: it runs with `python -I -S`.
"""

import argparse
import os
import resource
import signal
import sys


def _limit(which: int, value: int) -> None:
    if value > 0:
        resource.setrlimit(which, (value, value))


def _die_with_parent() -> None:
    """Linux: the kernel gets SIGKILL when this launcher dies (a submission that kills its
    parent kills itself, the same way every time)."""
    try:
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the grader kills the process group when it sees the launcher gone


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
    pid = os.fork()
    if pid == 0:
        # bwrap would die of the interrupt (and the kernel with it), so it inherits "ignore";
        # ipykernel sets its own SIGINT handler while it runs a cell.
        signal.signal(signal.SIGINT, signal.SIG_IGN if args.sandboxed else signal.SIG_DFL)
        _die_with_parent()
        _limit(resource.RLIMIT_AS, args.memory_bytes)
        _limit(resource.RLIMIT_FSIZE, args.file_size_bytes)
        # Root ignores it (bwrap starts as root); it holds once the kernel runs as its own user.
        _limit(resource.RLIMIT_NPROC, args.max_processes)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core dumps of a crashed kernel
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
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
