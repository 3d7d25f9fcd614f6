"""The child side of process isolation: `python -m minexec.worker`.

The worker reads requests on stdin and writes replies on stdout, so any launcher can start it
(process.py starts it directly; minexec/sandbox.py starts it under bubblewrap). Its own
stdout is moved out of the way first: fd 1 then points at stderr, so nothing a library prints
can corrupt the channel.

Protocol (protocol.py). Every message is an 8-byte big-endian length followed by that many
bytes of a pickled dict. The parent trusts nothing the child sends: it unpickles with
`SafeUnpickler`, which accepts plain data only (numbers, strings, bytes, lists, tuples, dicts,
sets, dates, decimals), and values that are not plain data travel as their repr().

    parent -> child                                   child -> parent
    {"op": "init", "authorized_imports": [...],       {"op": "ready"}
     "tool_names": [...], "budgets": {...}}
    {"op": "run", "code": "..."}                      {"op": "tool_call", "name", "args",
                                                       "kwargs"} (zero or more), then
                                                      {"op": "result", "ok": True,
                                                       "output": <pickle bytes or None>,
                                                       "output_repr": str, "logs": str,
                                                       "is_final_answer": bool}
                                                      or {"op": "result", "ok": False,
                                                       "error": str, "limit": str | None,
                                                       "logs": str}
    {"op": "tool_result", "value": ...}               (answers a tool_call; or "error": str)
    {"op": "state"}                                   {"op": "state", "values": {name: blob}}
    {"op": "set_state", "values": {name: value}}      {"op": "ok"}

OS limits (limits.apply_limits: RLIMIT_AS, RLIMIT_CPU per run, RLIMIT_FSIZE, RLIMIT_NPROC, no
core files) are set by the worker itself from the init message, so they hold under any
launcher; an audit hook (block_side_effects) then refuses process, socket, ctypes,
file-writing and introspection events.

What runs the code is a `Session`: the GuardedInterpreter (the default), or, with `--plain`,
plain Python with no guards, which stands for code that got past every guard. The plain
session exists so that tests can show what the OS layer alone holds (process.py's limits and
hook; sandbox.py's bubblewrap); never give it model code. One loop (`serve`) serves both.

This is resource isolation plus a tripwire, not a security boundary: the child runs as an
unprivileged user when we are root (limits.drop_root_prefix), but it still sees every file
that user may read, and the network. The boundary is the sandbox (sandbox.py).
"""

from __future__ import annotations

import ast
import errno
import io
import os
import pickle
import sys
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import dataclass
from typing import Any, BinaryIO

from .budgets import MAX_CHILD_PROCESSES, MAX_FILE_BYTES, Budgets
from .core import GuardedInterpreter
from .errors import BudgetExceededError, InterpreterError
from .limits import apply_limits, arm_cpu
from .protocol import receive_bytes, send, to_blob

BLOCKED_AUDIT_EVENTS = (
    "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "os.kill",
    "os.killpg", "os.remove", "os.unlink", "os.rmdir", "os.rename", "os.mkdir", "os.chmod",
    "os.chown", "os.truncate", "os.symlink", "os.link", "os.mkfifo", "os.mknod", "os.utime",
    "subprocess.Popen", "pty.spawn", "socket.", "ctypes.", "shutil.", "webbrowser.open",
    "urllib.Request", "ftplib.", "smtplib.", "http.client.", "gc.get_objects",
    "gc.get_referrers", "gc.get_referents", "sys._current_frames",
    "sys.settrace", "sys.setprofile",
)  # fmt: skip
"""Audit events (PEP 578) the worker refuses once it serves: a tripwire behind the guards
and the OS limits. Reading files stays allowed (imports need it); writing does not. The
introspection events are the roads to the hook function itself (gc finds every object,
frames hold every local). `_posixsubprocess.fork_exec` raises no event: RLIMIT_NPROC, which
holds once the worker does not run as root, stops it."""

_HOOK_ATTRIBUTES = frozenset({"__code__", "__defaults__", "__kwdefaults__"})


def block_side_effects() -> None:
    """Install an audit hook that refuses processes, sockets, ctypes, writes and introspection.

    Everything the hook consults is bound once, here, into immutable locals of its closure,
    builtins included (`type`, `len`): it reads no global at call time, so rewriting this
    module's globals or the builtins module does not switch it off; and the one event that
    would change the hook itself (setting its `__code__` or defaults) is refused.
    """
    blocked = tuple(BLOCKED_AUDIT_EVENTS)
    hook_attributes = _HOOK_ATTRIBUTES
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
    refusal, text, number, kind, size = PermissionError, str, int, type, len

    def hook(event: str, args: tuple) -> None:
        refuse = event.startswith(blocked)
        if event == "open" and size(args) >= 3:
            mode, flags = args[1], args[2]
            if kind(mode) is text:
                refuse = "w" in mode or "a" in mode or "x" in mode or "+" in mode
            else:
                refuse = kind(flags) is number and flags & write_flags != 0
        elif event == "object.__setattr__" and size(args) >= 2 and args[0] is hook:
            refuse = args[1] in hook_attributes  # hook.__code__ = ... would empty it
        if refuse:
            raise refusal(f"{event} is not allowed in the interpreter's worker process")

    sys.addaudithook(hook)


def tool_proxy(name: str, reader: BinaryIO, writer: BinaryIO) -> Callable[..., Any]:
    """A tool as seen in the child: each call is sent to the parent and answered there.

    A closure, not an object with attributes: the code can call it, but cannot reach the
    pipe it talks through (the closure's cells sit behind `__closure__`)."""

    def call_in_parent(*args: Any, **kwargs: Any) -> Any:
        payload = to_blob((args, kwargs))  # the parent unpickles it as plain data, or refuses
        send(writer, {"op": "tool_call", "name": name, "payload": payload})
        data = receive_bytes(reader)
        if data is None:
            raise SystemExit(0)  # the parent went away
        reply = pickle.loads(data)  # the parent is trusted
        if reply.get("error") is not None:
            raise InterpreterError(reply["error"])
        return reply["value"]

    call_in_parent.__name__ = name
    return call_in_parent


@dataclass
class Session:
    """What serves the requests: runs code, and holds the variables between runs."""

    run: Callable[[str], dict]
    """Run one snippet; return the result message."""
    variables: dict[str, Any]
    """The code's variables: reported on "state", updated on "set_state"."""
    budgets: Budgets


def guarded_session(init: dict, reader: BinaryIO, writer: BinaryIO) -> Session:
    """The GuardedInterpreter, with the OS limits and the audit hook set once it is built."""
    budgets = Budgets(**init["budgets"])
    tools = {name: tool_proxy(name, reader, writer) for name in init["tool_names"]}
    interpreter = GuardedInterpreter(init["authorized_imports"], tools=tools, budgets=budgets)
    apply_limits(
        memory_bytes=budgets.memory_mb * 2**20,
        file_bytes=MAX_FILE_BYTES,
        processes=MAX_CHILD_PROCESSES,
    )
    block_side_effects()
    return Session(lambda code: run_one(interpreter, code), interpreter.state, budgets)


def plain_session(init: dict, file_bytes: int = MAX_FILE_BYTES, hook: bool = True) -> Session:
    """Plain Python under the same OS limits (and, by default, the same audit hook): what
    code that escaped the guards could do. For tests and demos of the OS layer only."""
    budgets = Budgets(**init["budgets"])
    apply_limits(
        memory_bytes=budgets.memory_mb * 2**20,
        file_bytes=file_bytes,
        processes=MAX_CHILD_PROCESSES,
    )
    if hook:
        block_side_effects()
    namespace: dict[str, Any] = {"__name__": "__main__"}
    return Session(lambda code: run_plain(namespace, code, budgets, file_bytes), namespace, budgets)


def run_one(interpreter: GuardedInterpreter, code: str) -> dict:
    """Run code and turn the outcome into a result message."""
    try:
        result = interpreter.run(code)
    except InterpreterError as error:
        limit = error.limit if isinstance(error, BudgetExceededError) else None
        logs = getattr(error, "logs", "")
        return {"op": "result", "ok": False, "error": str(error), "limit": limit, "logs": logs}
    try:
        text = repr(result.output)  # may run the code's own __repr__
    except Exception as error:  # noqa: BLE001 - report it, do not die
        text = f"<repr failed: {type(error).__name__}>"
    return {
        "op": "result",
        "ok": True,
        "output": to_blob(result.output),
        "output_repr": text,
        "logs": result.logs,
        "is_final_answer": result.is_final_answer,
    }


def run_plain(namespace: dict[str, Any], code: str, budgets: Budgets, file_bytes: int) -> dict:
    """Run code as ordinary Python in `namespace`; the result message a worker sends back.

    The value of a last bare expression is the output, as in the interpreter. An error that
    an OS limit caused (MemoryError from RLIMIT_AS, BlockingIOError from RLIMIT_NPROC) names
    that limit: `limit` in the message, BudgetExceededError on the host.
    """
    printed = io.StringIO()
    try:
        with redirect_stdout(printed):
            output = _exec_with_value(namespace, code)
    except BaseException as error:  # noqa: BLE001 - every failure is a result
        hit = _limit_hit(error, budgets, file_bytes)
        text = f"{type(error).__name__}: {hit[1] if hit else error}"
        limit = hit[0] if hit else None
        logs = printed.getvalue()
        return {"op": "result", "ok": False, "error": text, "limit": limit, "logs": logs}
    return {
        "op": "result", "ok": True, "output": to_blob(output), "output_repr": repr(output),
        "logs": printed.getvalue(), "is_final_answer": False,
    }  # fmt: skip


def _limit_hit(error: BaseException, budgets: Budgets, file_bytes: int) -> tuple[str, str] | None:
    """(limit, explanation) when an OS limit caused `error`, else None."""
    if isinstance(error, MemoryError):
        return "memory", f"out of memory: the limit is {budgets.memory_mb} MiB (RLIMIT_AS)"
    if isinstance(error, BlockingIOError):
        return "processes", "cannot start a process: none are allowed (RLIMIT_NPROC)"
    if isinstance(error, OSError) and error.errno == errno.EFBIG:
        return "file size", f"file too large: the limit is {file_bytes} bytes (RLIMIT_FSIZE)"
    return None


def _exec_with_value(namespace: dict[str, Any], code: str) -> Any:
    """exec the code; evaluate a last bare expression separately and return its value."""
    tree = ast.parse(code)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<sandbox>", "exec"), namespace)
    if last is None:
        return None
    return eval(compile(ast.Expression(last.value), "<sandbox>", "eval"), namespace)


def serve(
    reader: BinaryIO,
    writer: BinaryIO,
    start: Callable[[dict, BinaryIO, BinaryIO], Session] = guarded_session,
) -> None:
    """Answer requests until the parent closes stdin; `start` builds the session from init."""
    data = receive_bytes(reader)
    if data is None:
        return
    session = start(pickle.loads(data), reader, writer)
    send(writer, {"op": "ready"})
    while (data := receive_bytes(reader)) is not None:
        request = pickle.loads(data)
        if request["op"] == "run":
            arm_cpu(session.budgets.cpu_seconds)
            send(writer, session.run(request["code"]))
        elif request["op"] == "state":
            names = (name for name in session.variables if not name.startswith("__"))
            values = {name: _reported(session.variables[name]) for name in list(names)}
            send(writer, {"op": "state", "values": values})
        elif request["op"] == "set_state":
            session.variables.update(request["values"])
            send(writer, {"op": "ok"})


def _reported(value: Any) -> tuple[bytes | None, str]:
    try:
        text = repr(value)
    except Exception as error:  # noqa: BLE001 - a broken __repr__ must not kill the worker
        text = f"<repr failed: {type(error).__name__}>"
    return to_blob(value), text


def channel() -> tuple[BinaryIO, BinaryIO]:
    """(reader, writer) for the protocol: stdin, and the real stdout, while fd 1 goes to
    stderr so that nothing a library prints can corrupt the channel."""
    writer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    sys.dont_write_bytecode = True  # RLIMIT_FSIZE is 0: no .pyc files
    return sys.stdin.buffer, writer


def main(argv: list[str]) -> None:
    """Entry point: `python -m minexec.worker [--plain]`."""
    reader, writer = channel()
    if "--plain" in argv:
        serve(reader, writer, lambda init, *_: plain_session(init))
    else:
        serve(reader, writer)


if __name__ == "__main__":
    main(sys.argv[1:])
