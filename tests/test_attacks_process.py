# ruff: noqa: E501 - the attacks are data: one readable line of source per string
"""Attack classes for the child-process executors: host crashes, and what follows a guard escape.

Crashes. Data nested a million deep (`zip`, `enumerate`, `hash` of a tuple) makes
C code recurse until the C stack overflows: SIGSEGV, which no in-process guard can catch.
Why the defence covers the class: whatever C function recurses, the signal kills only the
child, the parent reads the signal from the exit status (limits.describe_exit) and reports
the limit; the next run starts a fresh child. These tests never run such code in pytest's
own process.

After a guard escape (process mode). The worker's plain session (`--plain`) runs code with no
guards, under the worker's OS limits and audit hook: it stands for code that got past every
guard. Why the defence covers the class: as root the child runs as nobody (the same drop as
the sandbox), so the kernel, not a list, refuses root's files and the parent's environment,
and RLIMIT_NPROC (which the kernel never applies to root) stops every way to start a process,
audited or not (`_posixsubprocess.fork_exec`). The audit hook reads nothing at call time that
the code could rewrite. What remains is documented: process mode is resource isolation; it
still reads world-readable files and reaches the network.

File system (sandbox). RLIMIT_FSIZE bounds one file, not how many: symlinks filled the host's
disk and a private tmpfs grew host memory. Why the defence covers the class: the guarded
sandbox has no writable folder at all, and where one is needed (guards=False, the grader's
kernels) each in-memory folder has a size.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from attack_executors import make_executor
from grader_helpers import needs_bwrap

from minexec import ChildKilledError, InterpreterError, ProcessInterpreter
from minexec.limits import can_drop_root, drop_root_prefix, is_root
from minexec.process import worker_command
from minexec.sandbox import PRIVATE_TMP_BYTES, SandboxInterpreter, bwrap_command

DEEP = 10**6

CRASHES = {
    "nested zip": f"z = [0]\nfor i in range({DEEP}):\n    z = zip(z)\nlist(z)",
    "nested enumerate": f"z = [0]\nfor i in range({DEEP}):\n    z = enumerate(z)\nlist(z)",
    "hash of a deep tuple": f"t = ()\nfor i in range({DEEP}):\n    t = (t,)\nhash(t)",
}


@pytest.mark.parametrize("mode", ["process", "sandbox"])
@pytest.mark.parametrize("name", list(CRASHES))
def test_a_c_stack_overflow_kills_only_the_child(mode: str, name: str) -> None:
    executor = make_executor(mode, [])
    try:
        executor.run("before = 1")  # type: ignore[attr-defined]
        with pytest.raises(ChildKilledError) as caught:
            executor.run(CRASHES[name])  # type: ignore[attr-defined]
        assert caught.value.limit == "stack"
        assert "stack overflow" in str(caught.value) and "variables are lost" in str(caught.value)
        assert executor.run("after = 2\nafter").output == 2  # type: ignore[attr-defined]
    finally:
        executor.close()  # type: ignore[attr-defined]


# -- after a guard escape, in process mode -----------------------------------------------------

needs_root = pytest.mark.skipif(
    not (is_root() and can_drop_root()), reason="the privilege drop happens only as root"
)


@pytest.fixture(scope="module")
def escaped() -> Iterator[ProcessInterpreter]:
    """A process-mode child running plain Python: what a guard escape would get."""
    with ProcessInterpreter(command=worker_command("--plain")) as child:
        yield child


@pytest.fixture(scope="module")
def secret_file() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        Path(folder).chmod(0o755)
        secret = Path(folder, "secret.txt")
        secret.write_text("root only")
        secret.chmod(0o600)
        yield secret


@needs_root
def test_the_child_does_not_run_as_root(escaped: ProcessInterpreter) -> None:
    assert escaped.run("import os\nos.getuid(), os.geteuid()").output == (65534, 65534)


@needs_root
def test_root_files_are_out_of_reach(escaped: ProcessInterpreter, secret_file: Path) -> None:
    with pytest.raises(InterpreterError, match="PermissionError"):
        escaped.run(f"open({str(secret_file)!r}).read()")


@needs_root
def test_the_parents_environment_is_out_of_reach(escaped: ProcessInterpreter) -> None:
    # The worker's parent is setpriv's exec target's parent: this pytest process.
    code = f"open('/proc/{os.getpid()}/environ', 'rb').read()"
    with pytest.raises(InterpreterError, match="PermissionError"):
        escaped.run(code)


@needs_root
@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="fork_exec's arguments vary by version")
def test_unaudited_fork_exec_is_stopped_by_the_process_limit(escaped: ProcessInterpreter) -> None:
    code = (
        "import _posixsubprocess, os\nr, w = os.pipe()\n"
        "_posixsubprocess.fork_exec(['/bin/true'], [b'/bin/true'], True, (), None, None,"
        " -1, -1, -1, -1, -1, -1, r, w, True, False, -1, None, None, None, -1, None, False)"
    )
    with pytest.raises(InterpreterError, match="RLIMIT_NPROC"):
        escaped.run(code)


REWRITES = {
    "the worker's globals": "import minexec.worker as w\nw.BLOCKED_AUDIT_EVENTS = ()\nw._HOOK_ATTRIBUTES = frozenset()",
    "builtins the hook could read": "import builtins\nbuiltins.PermissionError = ValueError\nbuiltins.str = bytes\nbuiltins.type = lambda x: None\nbuiltins.len = lambda x: 0",
}


@pytest.mark.parametrize("name", list(REWRITES))
@pytest.mark.parametrize(
    "action", ["import os\nos.system('true')", "open('/tmp/minexec-hook-test', 'w')"]
)
def test_rewriting_globals_does_not_switch_the_hook_off(name: str, action: str) -> None:
    """The rewrite and the action in one run, the builtins put back after (the worker's own
    code needs them to report the result)."""
    code = (
        "import builtins\nsaved = dict(vars(builtins))\n"
        f"{REWRITES[name]}\ntry:\n    " + action.replace("\n", "\n    ") + "\n"
        "finally:\n    vars(builtins).update(saved)"
    )
    with ProcessInterpreter(command=worker_command("--plain")) as child:
        with pytest.raises(InterpreterError, match="is not allowed in the interpreter's worker"):
            child.run(code)
    assert not os.path.exists("/tmp/minexec-hook-test")


def test_the_hook_refuses_only_its_own_code_change() -> None:
    """namedtuple sets `__new__.__defaults__`: an ordinary write that the hook lets through."""
    with ProcessInterpreter(["collections"]) as child:
        code = (
            "from collections import namedtuple\nP = namedtuple('P', 'x y', defaults=[0])\nP(1).y"
        )
        assert child.run(code).output == 0


@pytest.mark.parametrize(
    "code",
    [
        "import gc\ngc.get_objects()",
    ],
)
def test_the_roads_to_the_hook_function_are_closed(escaped: ProcessInterpreter, code: str) -> None:
    with pytest.raises(InterpreterError, match="not allowed in the interpreter's worker"):
        escaped.run(code)


# -- the sandbox's file system -----------------------------------------------------------------


@needs_bwrap
def test_the_guarded_sandbox_has_no_writable_folder() -> None:
    """No hook here (plain Python, `python -m minexec.sandbox`): the mounts alone refuse."""
    with tempfile.TemporaryDirectory() as folder:
        prefix = bwrap_command(folder, read_only=True, setuid=is_root())
        if is_root():
            from minexec.sandbox import hand_over

            hand_over(folder)
        command = [*prefix, *drop_root_prefix(), sys.executable, "-m", "minexec.sandbox"]
        with ProcessInterpreter(command=command) as child:
            for target in ("link", "/tmp/link", "/var/tmp/link", "/home/link"):
                with pytest.raises(InterpreterError, match="Read-only file system"):
                    child.run(f"import os\nos.symlink('x', {target!r})")
        assert os.listdir(folder) == []


@needs_bwrap
def test_symlinks_cannot_grow_the_private_tmp_past_its_size() -> None:
    code = (
        "import os, errno\ntarget = 'x' * 4000\nmade = 0\n"
        "try:\n    while made < 100000:\n        os.symlink(target, f'/tmp/l{made}')\n        made += 1\n"
        "except OSError as e:\n    error = e.errno\n(made, error == errno.ENOSPC)"
    )
    with SandboxInterpreter(guards=False) as sandbox:
        made, full = sandbox.run(code).output
    assert full and made * 4096 <= PRIVATE_TMP_BYTES
