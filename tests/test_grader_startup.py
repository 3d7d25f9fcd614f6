"""What keeps `agents-grade` fast (grader.startup, ReadyKernelClient, reaping), checked for
behaviour: each shortcut must still leave a correct run behind it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from jupyter_core.utils import run_sync

from grader.kernel import ReadyKernelClient, kill_process_group, start_kernel


def python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_grader_imports_nbgrader_without_its_server_extensions():
    done = python(
        "import sys, grader\n"
        "from nbgrader.converters import Autograde\n"
        "from nbgrader.api import Gradebook\n"
        "import nbgrader\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('nbgrader.server_extensions',"
        " 'nbgrader.exchange', 'jupyter_server')))\n"
        "print(nbgrader.__version__, sys.modules['rfc3987_syntax'], loaded)"
    )
    assert done.returncode == 0, done.stderr
    version, blocked, loaded = done.stdout.split(" ", 2)
    assert version[0].isdigit()
    assert blocked == "None"
    assert loaded.strip() == "[]"


def test_nbgrader_imported_first_is_left_whole():
    done = python(
        "import nbgrader, grader, sys\n"
        "print(hasattr(nbgrader, '_jupyter_server_extension_points'),"
        " 'nbgrader.server_extensions.formgrader' in sys.modules)"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]


def test_exit_now_flushes_output_and_keeps_the_status():
    done = python(
        "import sys\n"
        "from grader.startup import exit_now\n"
        "print('buffered', end='')\n"
        "sys.stderr.write('also')\n"
        "exit_now(3)"
    )
    assert (done.returncode, done.stdout, done.stderr) == (3, "buffered", "also")


def test_console_script_exits_with_the_grading_status(tmp_path):
    script = Path(sys.executable).with_name("agents-grade")
    done = subprocess.run(
        [str(script), str(tmp_path / "missing.ipynb")], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "no such notebook" in " ".join(done.stdout.split())  # rich wraps long lines


@pytest.mark.slow
def test_ready_client_runs_code_right_after_it_is_ready(tmp_path):
    km = start_kernel("python3", tmp_path)
    try:
        client = km.client()
        assert isinstance(client, ReadyKernelClient)
        client.start_channels()
        run_sync(client.wait_for_ready)(timeout=60)
        reply = run_sync(client.execute_interactive)("print(6 * 7)", timeout=30)
        assert reply["content"]["status"] == "ok"
        client.stop_channels()
    finally:
        kill_process_group(km.process_group)
        km.reap()
    assert km.exit_status() is not None  # reaped: shutdown_kernel has nothing to poll for
    run_sync(km.shutdown_kernel)(now=True)


@pytest.mark.slow
def test_ready_client_reports_a_kernel_that_died(tmp_path):
    km = start_kernel("python3", tmp_path)
    kill_process_group(km.process_group)
    km.reap()
    client = km.client()
    client.start_channels()
    with pytest.raises(RuntimeError, match="died"):
        run_sync(client.wait_for_ready)(timeout=10)
    client.stop_channels()
    run_sync(km.shutdown_kernel)(now=True)
