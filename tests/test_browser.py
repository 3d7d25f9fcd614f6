"""JupyterLab in a real browser, used the way a learner uses it.

The other notebook tests run cells through nbclient; this one goes through the front end a
learner sees: JupyterLab started with the repo's `jupyter-config/` (what `make lab` uses:
nbgrader's Validate button on, its instructor and exchange extensions off), driven by
Playwright in Debian's Chromium. On unit 01 it runs all cells: each unsolved exercise stops
the run at its test cell with the `NotImplementedError` hint, the run carries on below it, and
the demos print what they should. On the solution notebook every cell runs clean and the
Validate button reports that the tests pass.

JupyterLab autosaves, so it serves copies of the notebooks from a temporary folder, with
temporary Jupyter config, data and runtime folders: nothing of the repo's or the user's is
written. Screenshots and the server log go to `test-artifacts/browser/`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
UNIT = "01-chat-templates"
ARTIFACTS = REPO / "test-artifacts" / "browser"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(1200),
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="the browser test needs Chromium: run `sudo apt-get install chromium` "
        "(`make test` installs it when run as root)",
    ),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]'")

# Without the network-related flags Chromium keeps trying to reach Google on a closed network.
CHROMIUM_FLAGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_S = 90
RUN_TIMEOUT_MS = 300_000  # one Run command: the demos load and run the local model
HINT = "NotImplementedError: Your code here: see the hint above"
TRACEBACK = "Traceback (most recent call last)"

# What the learner must see: (a piece of a cell's source, a pattern its output matches).
UNIT_OUTPUTS = [
    ("to_chatml(CONVERSATION, add_generation_prompt=True)", r"to_chatml is not written yet"),
    ("print(render(GEMMA2", r"<start_of_turn>model"),
    ("template_from_gguf() == model.chat_template", r"from the file header: True"),
    ("Jinja2ChatFormatter(template=", r"minagent == llama\.cpp: True"),
]
SOLUTION_OUTPUTS = [
    ("to_chatml(CONVERSATION, add_generation_prompt=True)", r"\d+ characters, \d+ tokens"),
    ("Jinja2ChatFormatter(template=", r"yours == llama\.cpp:\s+True"),
]
VALIDATE_SUCCESS = "Success! Your notebook passes all the tests."
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook in the tab on show
CELLS = f"{PANEL} .jp-Notebook .jp-Cell"


@dataclass
class Lab:
    """A running JupyterLab server and the folder it serves."""

    url: str
    token: str
    root: Path

    def open_url(self, path: str, workspace: str) -> str:
        """The page that opens `path` in a workspace of its own (no tabs left by other tests)."""
        return f"{self.url}/lab/workspaces/{workspace}/tree/{path}?token={self.token}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def jupyter_env(home: Path) -> dict[str, str]:
    """Environment for a JupyterLab that reads the repo's config and nothing of the user's.

    The `python3` kernel is this interpreter (the project's venv), whatever kernels the user
    has installed; the news toast that would cover the notebook is switched off.
    """
    kernel = home / "path" / "kernels" / "python3"
    kernel.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec = {"argv": argv, "display_name": "Python 3 (ipykernel)", "language": "python"}
    (kernel / "kernel.json").write_text(json.dumps(spec))
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    news = {"fetchNews": "false", "checkForUpdates": False}
    (settings / "notification.jupyterlab-settings").write_text(json.dumps(news))
    return {
        **os.environ,
        "JUPYTER_CONFIG_PATH": str(REPO / "jupyter-config"),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_PATH": str(home / "path"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "IPYTHONDIR": str(home / "ipython"),
    }


def wait_until_serving(server: subprocess.Popen, lab: Lab, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"JupyterLab exited with status {server.returncode}; see {log}")
        try:
            urllib.request.urlopen(f"{lab.url}/api/status?token={lab.token}", timeout=5)
            return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer within {SERVER_START_S} s; see {log}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    base = tmp_path_factory.mktemp("lab")
    root = base / "course"
    for folder in ("units", "solutions"):
        shutil.copytree(REPO / folder / UNIT, root / folder / UNIT)
    shutil.copy(REPO / "nbgrader_config.py", root)  # Validate reads it from the server's folder
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    log = ARTIFACTS / "jupyter-server.log"
    lab = Lab(url=f"http://127.0.0.1:{free_port()}", token=secrets.token_hex(16), root=root)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={lab.url.rsplit(':', 1)[1]}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={lab.token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.allow_root=True",
    ]
    with log.open("w") as out:
        env = jupyter_env(base / "jupyter")
        server = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_until_serving(server, lab, log)
            with urllib.request.urlopen(f"{lab.url}/api/kernelspecs?token={lab.token}") as reply:
                kernel = json.load(reply)["kernelspecs"]["python3"]["spec"]
            assert kernel["argv"][0] == sys.executable, f"not the project's kernel: {kernel}"
            yield lab
        finally:
            server.terminate()  # the server shuts its kernels down on SIGTERM
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    flags = CHROMIUM_FLAGS + (["--no-sandbox"] if os.geteuid() == 0 else [])
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=flags)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: sync_api.Browser, request: pytest.FixtureRequest) -> Iterator[sync_api.Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    page.screenshot(path=ARTIFACTS / f"{request.node.name}-last.png")  # what a failure saw
    context.close()


class Notebook:
    """One notebook open in JupyterLab, driven through its menus and toolbar.

    Cells are found by their index in the notebook file, which is also their place on the page.
    """

    def __init__(self, page: sync_api.Page, lab: Lab, path: str, workspace: str) -> None:
        self.page = page
        self.source = json.loads((lab.root / path).read_text())["cells"]
        page.goto(lab.open_url(path, workspace))
        self.cells = page.locator(CELLS)
        self.toolbar = page.locator(
            ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-NotebookPanel-toolbar"
        )
        sync_api.expect(self.cells).to_have_count(len(self.source), timeout=60_000)
        sync_api.expect(self.toolbar).to_contain_text("Python 3 (ipykernel)", timeout=60_000)
        status = self.toolbar.locator(".jp-Notebook-ExecutionIndicator")
        sync_api.expect(status).to_have_attribute("data-status", "idle", timeout=60_000)

    def index(self, snippet: str) -> int:
        """The cell whose source contains `snippet`."""
        found = [i for i, cell in enumerate(self.source) if snippet in "".join(cell["source"])]
        assert len(found) == 1, f"{len(found)} cells contain {snippet!r}"
        return found[0]

    def graded(self, grade_id: str) -> int:
        for i, cell in enumerate(self.source):
            if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id:
                return i
        raise AssertionError(f"no cell with grade_id {grade_id!r}")

    @property
    def code_cells(self) -> list[int]:
        """Code cells with code: JupyterLab does not send an empty cell to the kernel."""
        return [
            i
            for i, cell in enumerate(self.source)
            if cell["cell_type"] == "code" and "".join(cell["source"]).strip()
        ]

    def menu(self, top: str, item: str) -> None:
        self.page.get_by_role("menuitem", name=top, exact=True).click()
        self.page.get_by_role("menuitem", name=item, exact=True).click()

    def run(self, start: int) -> None:
        """Run from cell `start` to the end (Run All Cells when 0) and wait until it stops."""
        if start == 0:
            self.menu("Run", "Run All Cells")
        else:
            self.cells.nth(start).locator(".jp-InputPrompt").click()
            self.menu("Run", "Run Selected Cell and All Below")
        first = next(i for i in self.code_cells if i >= start)
        # Queued cells show [*] from the click on; a failure clears the queue to [ ].
        self.page.wait_for_function(
            """([selector, first]) => {
                const prompts = [...document.querySelectorAll(selector)].map(
                    (cell) => cell.querySelector('.jp-InputPrompt')?.textContent ?? '');
                return /\\[\\d+\\]/.test(prompts[first]) && !prompts.some((p) => p.includes('*'));
            }""",
            arg=[CELLS, first],
            timeout=RUN_TIMEOUT_MS,
        )

    def prompt(self, i: int) -> str:
        return self.cells.nth(i).locator(".jp-InputPrompt").text_content() or ""

    def output(self, i: int) -> str:
        return self.cells.nth(i).locator(".jp-OutputArea").text_content() or ""

    def failed(self, start: int = 0) -> list[int]:
        """Cells from `start` on whose output is a traceback."""
        return [i for i in self.code_cells if i >= start and TRACEBACK in self.output(i)]

    def never_ran(self) -> list[int]:
        return [i for i in self.code_cells if not re.search(r"\[\d+\]", self.prompt(i))]

    def missing(self, outputs: list[tuple[str, str]]) -> list[str]:
        """What `outputs` expects and the page does not show, one line per cell."""
        missing = []
        for snippet, pattern in outputs:
            i = self.index(snippet)
            if not re.search(pattern, self.output(i)):
                missing.append(f"cell {i}: no {pattern!r} in {self.output(i)!r}")
        return missing

    def screenshot(self, name: str, i: int) -> None:
        """The page, scrolled to the end of cell `i` (its output, where the learner looks)."""
        # Cells off screen have estimated heights until drawn: scroll again once they are.
        for _ in range(3):
            self.cells.nth(i).evaluate("cell => cell.scrollIntoView({block: 'end'})")
            self.page.wait_for_timeout(300)
        self.page.screenshot(path=ARTIFACTS / name)


def test_unit_stops_at_each_unsolved_exercise_with_its_hint(lab: Lab, page: sync_api.Page) -> None:
    nb = Notebook(page, lab, f"units/{UNIT}/{UNIT}.ipynb", workspace="unit")
    failures: list[int] = []
    start = 0
    while start < len(nb.source):
        nb.run(start)
        failed = nb.failed(start)
        if not failed:
            break
        failures.append(failed[0])
        nb.screenshot(f"unit-{UNIT}-hint-{len(failures)}.png", failed[0])
        start = failed[0] + 1

    assert failures == [nb.graded("test_to_chatml"), nb.graded("test_render_template")]
    for i in failures:
        assert HINT in nb.output(i), f"cell {i} fails without the hint: {nb.output(i)[-500:]}"
    assert nb.never_ran() == []
    assert nb.missing(UNIT_OUTPUTS) == []
    nb.screenshot(f"unit-{UNIT}-demo.png", nb.index(UNIT_OUTPUTS[-1][0]))


def test_solution_runs_clean_and_validates(lab: Lab, page: sync_api.Page) -> None:
    nb = Notebook(page, lab, f"solutions/{UNIT}/{UNIT}.ipynb", workspace="solution")
    nb.run(0)

    assert nb.failed() == [], f"cells {nb.failed()} raised in the solution notebook"
    assert nb.never_ran() == []
    assert nb.missing(SOLUTION_OUTPUTS) == []
    nb.screenshot(f"solution-{UNIT}-run.png", nb.index(SOLUTION_OUTPUTS[-1][0]))

    nb.toolbar.locator(".jp-ToolbarButtonComponent", has_text="Validate").click()
    dialog = page.locator(".jp-Dialog")
    sync_api.expect(dialog).to_contain_text(VALIDATE_SUCCESS, timeout=RUN_TIMEOUT_MS)
    page.screenshot(path=ARTIFACTS / f"solution-{UNIT}-validate.png")
