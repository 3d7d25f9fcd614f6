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

OS limits (RLIMIT_AS, RLIMIT_CPU per run, RLIMIT_FSIZE, RLIMIT_NPROC, no core files) are set by
the worker itself from the init message, so they hold under any launcher; an audit hook
(block_side_effects) then refuses process, socket, ctypes and file-writing events.
"""

from __future__ import annotations

import math
import os
import pickle
import resource
import sys
from collections.abc import Callable
from typing import Any, BinaryIO

from .budgets import MAX_CHILD_PROCESSES, MAX_FILE_BYTES, Budgets
from .core import GuardedInterpreter
from .errors import BudgetExceededError, InterpreterError
from .protocol import receive_bytes, send, to_blob


def apply_limits(budgets: Budgets) -> None:
    """OS limits for this process; CPU time is armed per run in `arm_cpu`."""
    address_space = budgets.memory_mb * 1024 * 1024
    limits = {
        resource.RLIMIT_AS: address_space,
        resource.RLIMIT_FSIZE: MAX_FILE_BYTES,
        resource.RLIMIT_NPROC: MAX_CHILD_PROCESSES,
        resource.RLIMIT_CORE: 0,
    }
    for limit, value in limits.items():
        try:
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):  # macOS refuses some (RLIMIT_AS): the others still hold
            print(f"minagent worker: could not set resource limit {limit}", file=sys.stderr)


BLOCKED_AUDIT_EVENTS = (
    "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "os.kill",
    "os.killpg", "os.remove", "os.unlink", "os.rmdir", "os.rename", "os.mkdir", "os.chmod",
    "os.chown", "os.truncate", "subprocess.Popen", "pty.spawn", "socket.", "ctypes.",
    "shutil.", "webbrowser.open", "urllib.Request", "ftplib.", "smtplib.", "http.client.",
)  # fmt: skip
"""Audit events (PEP 578) the worker refuses once it serves: a third wall behind the guards
and the OS limits. Reading files stays allowed (imports need it); writing does not."""

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC


def block_side_effects() -> None:
    """Install an audit hook that refuses processes, sockets, ctypes and file writes."""

    def hook(event: str, args: tuple) -> None:
        if event.startswith(BLOCKED_AUDIT_EVENTS) or (event == "open" and _writes(args)):
            raise PermissionError(f"{event} is not allowed in the interpreter's worker process")

    sys.addaudithook(hook)


def _writes(args: tuple) -> bool:
    mode, flags = (args[1], args[2]) if len(args) >= 3 else (None, 0)
    if isinstance(mode, str):
        return any(letter in mode for letter in "wax+")
    return bool((flags or 0) & _WRITE_FLAGS)


def arm_cpu(budgets: Budgets) -> None:
    """Allow `cpu_seconds` more CPU time from now (RLIMIT_CPU counts the process lifetime)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = math.ceil(usage.ru_utime + usage.ru_stime)
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    resource.setrlimit(resource.RLIMIT_CPU, (used + budgets.cpu_seconds, hard))


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


def serve(reader: BinaryIO, writer: BinaryIO) -> None:
    """Answer requests until the parent closes stdin."""
    data = receive_bytes(reader)
    if data is None:
        return
    init = pickle.loads(data)
    budgets = Budgets(**init["budgets"])
    tools = {name: tool_proxy(name, reader, writer) for name in init["tool_names"]}
    interpreter = GuardedInterpreter(init["authorized_imports"], tools=tools, budgets=budgets)
    apply_limits(budgets)
    block_side_effects()
    send(writer, {"op": "ready"})
    while (data := receive_bytes(reader)) is not None:
        request = pickle.loads(data)
        if request["op"] == "run":
            arm_cpu(budgets)
            send(writer, run_one(interpreter, request["code"]))
        elif request["op"] == "state":
            values = {name: (to_blob(v), repr(v)) for name, v in interpreter.state.items()}
            send(writer, {"op": "state", "values": values})
        elif request["op"] == "set_state":
            interpreter.state.update(request["values"])
            send(writer, {"op": "ok"})


def main() -> None:
    """Entry point: keep the real stdout for the channel, send fd 1 to stderr."""
    writer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    sys.dont_write_bytecode = True  # RLIMIT_FSIZE is 0: no .pyc files
    serve(sys.stdin.buffer, writer)


if __name__ == "__main__":
    main()
