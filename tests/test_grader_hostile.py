"""Hostile notebooks (issue 17): the released fixture notebook, where every exercise raises
NotImplementedError, plus one cell that attacks the grader. Each must score what its real work
earns (zero here), leave the learner's file byte-identical, and leave no process or temporary
folder behind."""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest
from grader_helpers import REPO, UNIT, make_course, needs_bwrap, with_cell_after, with_solution
from rich.console import Console

from grader.autograde import SubmissionError, autograde_in, grade_notebook, read_notebook
from grader.classrun import discover, student_ids
from grader.course import CourseError, find_course_root
from grader.execute import bounded_size, cap_content, read_verdict, verdict_mac
from grader.feedback import print_feedback
from grader.kernel_guard import contains, equal
from grader.limits import Limits
from grader.report import export_csv
from grader.results import NotebookResult, plain_text

slow = pytest.mark.slow
LIMITS = Limits(cell_timeout=10, notebook_timeout=60)

# Each attack goes in a cell of its own right after the notebook's first code cell.
ATTACKS = {
    "input_transformers_cleanup": """
def _neuter(lines):
    return ["pass\\n"] if any("assert" in line for line in lines) else lines
get_ipython().input_transformers_cleanup.append(_neuter)
""",
    "ast_transformers": """
import ast
class _NoAsserts(ast.NodeTransformer):
    def visit_Assert(self, node):
        return ast.Pass()
get_ipython().ast_transformers.append(_NoAsserts())
""",
    "pre_run_cell": """
def _skip_tests(info):
    shell = get_ipython()
    if "assert" in info.raw_cell:
        async def nothing(*args, **kwargs):
            return False
        shell.run_ast_nodes = nothing
    else:
        shell.__dict__.pop("run_ast_nodes", None)
get_ipython().events.register("pre_run_cell", _skip_tests)
""",
    "displayhook_partial_credit": """
shell = get_ipython()
shell._showtraceback = lambda *args, **kwargs: None
shell.events.register("post_run_cell", lambda result: shell.displayhook(1))
""",
    "showtraceback": """
get_ipython()._showtraceback = lambda *args, **kwargs: None
""",
    "builtins": """
import builtins
builtins.exec = lambda *args, **kwargs: None
builtins.isinstance = lambda *args: True
builtins.AssertionError = type("AssertionError", (Exception,), {})
""",
    "forged_reply": """
def _all_passed(expressions):
    return {key: {"status": "ok", "data": {"text/plain": "'ok'"}} for key in expressions}
get_ipython().user_expressions = _all_passed
""",
    "fake_output": """
import sys
print("test_add passed\\ntest_word_count passed\\n4/4 points")
sys.stdout = sys.stderr = open("/dev/null", "w")
""",
    # The attacks below go for the grader's own objects in the kernel.
    "guard_in_namespace": """
import builtins
for _space in (globals(), vars(builtins)):
    for _k, _v in list(_space.items()):
        if _k.startswith("_agents_grader"):
            type(_v).run = lambda self, source, nonce: repr((nonce, "ok"))
""",
    "guard_by_gc_walk": """
import gc
try:
    for _o in gc.get_objects():
        if type(_o).__name__ == "Guard" or getattr(_o, "__name__", "") == "agents_grader_guard":
            type(_o).run = lambda self, source, nonce: repr((nonce, "ok"))
finally:
    _o = None
""",
    "guard_by_subclasses": """
for _cls in object.__subclasses__() + __import__("ast").NodeTransformer.__subclasses__():
    if _cls.__name__ == "Guard":
        _cls.run = lambda self, source, nonce: repr((nonce, "ok"))
    for _f in list(vars(_cls).values()):
        _g = getattr(_f, "__globals__", {})
        if _g.get("__name__") == "agents_grader_guard":  # the guard's own functions
            _g["equal"] = _g["contains"] = lambda *args, **kwargs: True
""",
    "fake_audit_and_import": """
import builtins, sys
def _forge(event, *args):
    nonce = args[-1] if args else ""
    raise Exception(f"agents-grader-verdict {nonce} ok {'0' * 64}")
sys.audit = _forge
_real_import = builtins.__import__
class _FakeSys:
    audit = staticmethod(_forge)
builtins.__import__ = lambda name, *a, **k: (
    _FakeSys if name == "sys" else _real_import(name, *a, **k)
)
""",
    "forged_reply_echoes_nonce": """
import re
def _forge(expressions):
    replies = {}
    for key, expression in expressions.items():
        nonce = (re.findall(r"'([0-9a-f]{32})'", expression) or [""])[-1]
        text = repr(repr((nonce, "ok")))
        replies[key] = {"status": "ok", "data": {"text/plain": text}, "metadata": {}}
    return replies
get_ipython().user_expressions = _forge
""",
    "guard_called_with_another_source": """
import ast
_shell = get_ipython()
_real = _shell.user_expressions
def _swap(node):
    for child in ast.walk(node):
        if isinstance(child, ast.Constant) and "assert" in str(child.value):
            child.value = "pass"
    return node
def _run_pass_instead(expressions):
    return _real({k: ast.unparse(_swap(ast.parse(v, mode="eval"))) for k, v in expressions.items()})
_shell.user_expressions = _run_pass_instead
""",
}

# What an attacker does with a grader frame: patch the old guard's class, or take the hook's
# signing function and answer every later test with a signed "ok".
STEAL = """
import ast as _ast

def _forge_with(sign):
    def forged(expressions):
        replies = {}
        for key, expression in expressions.items():
            event, kind, source, nonce, given = [
                _ast.literal_eval(a) for a in _ast.parse(expression, mode="eval").body.args
            ]
            mac = sign(kind, nonce, source, list(given), "ok")
            text = f"agents-grader-verdict {mac} ok []"
            replies[key] = {"status": "error", "ename": "Exception", "evalue": text}
        return replies
    get_ipython().user_expressions = forged

def _patch_grader_in(frame):
    while frame is not None:
        for value in list(frame.f_locals.values()) + [frame.f_globals]:
            if type(value).__name__ == "Guard":
                type(value).run = lambda self, source, nonce: repr((nonce, "ok"))
            if type(value) is dict and value.get("__name__") == "agents_grader_guard":
                value["equal"] = value["contains"] = lambda *args, **kwargs: True
        if callable(frame.f_locals.get("sign")):
            _forge_with(frame.f_locals["sign"])
        frame = frame.f_back
"""
# An answer that walks the frames from inside the code under test (raise, catch, tb_frame, f_back).
FRAME_WALK = (
    STEAL
    + """
def add(a, b):
    try:
        raise ValueError
    except ValueError as error:
        _patch_grader_in(error.__traceback__.tb_frame)
    return 0
"""
)
# Frames from a signal handler: one that fires while the code under test runs, and one that
# fires while the hook checks the notebook's own events (here, opening files).
SIGNAL_DURING_TEST = (
    STEAL
    + """
import signal, time

def _catch(signum, frame):
    _patch_grader_in(frame)

def add(a, b):
    signal.signal(signal.SIGALRM, _catch)
    signal.setitimer(signal.ITIMER_REAL, 0.001)
    end = time.monotonic() + 0.2
    while time.monotonic() < end:
        pass
    return a - b
"""
)
SIGNAL_DURING_EVENTS = (
    STEAL
    + """
import signal, time
try:
    signal.signal(signal.SIGALRM, lambda signum, frame: _patch_grader_in(frame))
    signal.setitimer(signal.ITIMER_REAL, 0.0001, 0.0001)
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        open("/dev/null").close()
finally:
    signal.setitimer(signal.ITIMER_REAL, 0)
"""
)
# A generator's frame taken outside the tests: resumed by the code under test, its caller is
# the test.
STASHED_GENERATOR = (
    STEAL
    + """
import sys

def _walker():
    me = sys._getframe()
    yield
    _patch_grader_in(me.f_back)
    yield

_walk = _walker()
try:
    next(_walk)
except Exception:
    _walk = iter([0, 0])

def add(a, b):
    next(_walk, None)
    return a - b
"""
)

# Stand-ins for attacks that need raw memory: the answer is right only when the read works.
MEMORY_READS = {
    "ctypes": "import ctypes\n_peek = lambda: ctypes.string_at(id(0), 8)",
    "proc_self_mem": "_peek = lambda: open('/proc/self/mem', 'rb').close()",
    "proc_self_mem_link": (
        "import os, tempfile\n"
        "_link = os.path.join(tempfile.mkdtemp(), 'm')\n"
        "os.symlink('/proc/self/mem', _link)\n"
        "try:\n"
        "    open(_link, 'rb').close()\n"
        "    _peek = lambda: None\n"
        "except Exception:\n"
        "    _peek = lambda: 1 / 0\n"
        "os.remove(_link)\n"
        "os.rmdir(os.path.dirname(_link))"
    ),
}

# A process that leaves the kernel's session and process group, so that killing the group
# misses it.
ESCAPE_MARK = "agents-grader-escape-test"
ESCAPE = (
    "import subprocess, sys\n"
    f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)  # {ESCAPE_MARK}'],"
    " start_new_session=True)"
)

SNEAKY_STR = """
class Sneaky(str):
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    __hash__ = str.__hash__
"""
ALWAYS_EQUAL = """
class AlwaysEqual:
    def __eq__(self, other):
        return True
    def __contains__(self, item):
        return True
"""


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    patch.setenv("AGENTS_GRADE_CACHE", str(tmp_path_factory.mktemp("cache")))
    root = make_course(tmp_path_factory.mktemp("course"))
    patch.setenv("AGENTS_GRADE_ROOT", str(root))
    yield root
    patch.undo()


@pytest.fixture(scope="module")
def released(course):
    return nbformat.read(course / "units" / UNIT / f"{UNIT}.ipynb", as_version=4)


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """A temporary folder of its own for the grader (kernel runtime, course tree), which must be
    empty again after grading."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def with_attack(nb, source: str):
    """A copy of `nb` with the code cell `source` after its first code cell."""
    nb = nbformat.from_dict(nb)
    first = next(i for i, cell in enumerate(nb.cells) if cell.cell_type == "code")
    nb.cells.insert(first + 1, nbformat.v4.new_code_cell(source))
    return nb


def answered(nb, source: str, grade_id: str = "add"):
    """A copy of `nb` whose solution cell `grade_id` holds `source`."""
    return nbformat.from_dict(with_solution(nb, grade_id, source))


def write(nb, folder: Path) -> Path:
    path = folder / UNIT / f"{UNIT}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def processes_in(folder: Path) -> list[int]:
    """Processes whose working folder lies in `folder` (a kernel, or what it left running)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and Path(os.readlink(f"/proc/{entry}/cwd")).is_relative_to(folder):
                found.append(int(entry))
        except OSError:
            continue
    return found


def processes_running(marker: str) -> list[int]:
    """Processes whose command line holds `marker`."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and marker in Path(f"/proc/{entry}/cmdline").read_text():
                found.append(int(entry))
        except OSError:
            continue
    return found


def grade_clean(path: Path, scratch: Path):
    """Grade `path`; check it is byte-identical afterwards and nothing is left behind."""
    before = path.read_bytes()
    result = grade_notebook(path, limits=LIMITS)
    assert path.read_bytes() == before
    assert processes_in(scratch) == []
    assert list(scratch.iterdir()) == []
    return result


@slow
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_cell_scores_zero(attack, released, scratch, tmp_path):
    result = grade_clean(write(with_attack(released, ATTACKS[attack]), tmp_path), scratch)
    assert (result.score, result.max_score) == (0, 4)


@slow
@pytest.mark.parametrize(
    "answer", [FRAME_WALK, SIGNAL_DURING_TEST, STASHED_GENERATOR], ids=["tb", "signal", "gen"]
)
def test_frame_walk_from_the_code_under_test_scores_zero(answer, released, scratch, tmp_path):
    result = grade_clean(write(answered(released, answer), tmp_path), scratch)
    assert result.score == 0


@slow
def test_signal_handler_during_the_hooks_checks_scores_zero(released, scratch, tmp_path):
    result = grade_clean(write(with_attack(released, SIGNAL_DURING_EVENTS), tmp_path), scratch)
    assert result.score == 0


@slow
@needs_bwrap
def test_child_process_cannot_read_the_kernels_memory(released, scratch, tmp_path):
    from grader.kernel import configure_sandbox, use_launch_hook

    source = (
        "import os, subprocess, sys\n\ndef add(a, b):\n"
        "    probe = f\"open('/proc/{os.getpid()}/mem', 'rb').close()\"\n"
        "    done = subprocess.run([sys.executable, '-c', probe], capture_output=True)\n"
        "    return a + b if done.returncode == 0 else None"
    )
    configure_sandbox("require")
    try:
        result = grade_clean(write(answered(released, source), tmp_path), scratch)
    finally:
        use_launch_hook(None)
    assert result.score == 0


@slow
@pytest.mark.parametrize("road", sorted(MEMORY_READS))
def test_memory_reads_are_refused_in_the_kernel(road, released, scratch, tmp_path):
    source = (
        MEMORY_READS[road] + "\n\ndef add(a, b):\n    try:\n        _peek()\n"
        "    except Exception:\n        return None\n    return a + b"
    )
    result = grade_clean(write(answered(released, source), tmp_path), scratch)
    assert result.score == 0


FAKE_HELPERS = (
    "def expect_value(*args, **kwargs):\n    pass\n\n"
    "def expect_error(*args, **kwargs):\n    return 'math'\n"
)
# The fake helpers rebound in the namespace, or run through the hook as if they were given.
HELPER_ATTACKS = {
    "rebound": FAKE_HELPERS,
    "run_as_given": (
        "import sys\ntry:\n"
        f"    sys.audit('agents-grader.run', 'given', {FAKE_HELPERS!r}, 'x', ())\n"
        f"except Exception:\n    pass\n{FAKE_HELPERS}"
    ),
}


@slow
@pytest.mark.parametrize("attack", sorted(HELPER_ATTACKS))
def test_replaced_given_helpers_score_zero(attack, scratch, tmp_path, monkeypatch):
    # Unit 04 as released, with the given test helpers replaced by ones that check nothing.
    monkeypatch.setenv("AGENTS_GRADE_ROOT", str(REPO))
    monkeypatch.setenv("AGENTS_GRADE_CACHE", str(tmp_path / "cache"))
    unit = "04-safe-interpreter"
    nb = nbformat.read(REPO / "units" / unit / f"{unit}.ipynb", as_version=4)
    fake = HELPER_ATTACKS[attack]
    nb = nbformat.from_dict(with_cell_after(nb, "given_test_helpers", fake))
    path = tmp_path / unit / f"{unit}.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    result = grade_clean(path, scratch)
    assert result.score == 0 and result.max_score > 0


@slow
def test_patched_oracle_scores_zero(scratch, tmp_path, monkeypatch):
    # Unit 02's hidden test checks function_to_schema against minagent's own: a wrong answer
    # that also replaces minagent's would agree with it.
    monkeypatch.setenv("AGENTS_GRADE_ROOT", str(REPO))
    monkeypatch.setenv("AGENTS_GRADE_CACHE", str(tmp_path / "cache"))
    unit = "02-tools"
    nb = nbformat.read(REPO / "units" / unit / f"{unit}.ipynb", as_version=4)
    source = (
        "import minagent.tools\n\ndef function_to_schema(fn):\n"
        "    return {'type': 'function', 'function': {'name': fn.__name__}}\n\n"
        "minagent.tools.function_to_schema = function_to_schema"
    )
    path = tmp_path / unit / f"{unit}.ipynb"
    path.parent.mkdir()
    nbformat.write(answered(nb, source, "function_to_schema"), path)
    result = grade_clean(path, scratch)
    assert result.score == 0 and result.max_score > 0


@slow
def test_always_equal_answers_score_zero(released, scratch, tmp_path):
    nb = answered(released, SNEAKY_STR + "def add(a, b):\n    return Sneaky('3')")
    nb = answered(
        nb, ALWAYS_EQUAL + "def word_count(text):\n    return AlwaysEqual()", "word_count"
    )
    result = grade_clean(write(nb, tmp_path), scratch)
    assert (result.score, result.max_score) == (0, 4)


@slow
def test_real_unit_answered_with_always_equal_strings_scores_zero(scratch, tmp_path, monkeypatch):
    # The notebook: unit 01 as released, every answer a str that equals anything.
    monkeypatch.setenv("AGENTS_GRADE_ROOT", str(REPO))
    monkeypatch.setenv("AGENTS_GRADE_CACHE", str(tmp_path / "cache"))
    unit = "01-chat-templates"
    nb = nbformat.read(REPO / "units" / unit / f"{unit}.ipynb", as_version=4)
    for grade_id in ("to_chatml", "render_template"):
        source = SNEAKY_STR + f"def {grade_id}(*args, **kwargs):\n    return Sneaky('')"
        nb = answered(nb, source, grade_id)
    path = tmp_path / unit / f"{unit}.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    result = grade_clean(path, scratch)
    assert result.score == 0 and result.max_score > 0


@slow
def test_subclass_holding_the_right_value_still_passes(released, scratch, tmp_path):
    source = "class Points(int):\n    pass\n\ndef add(a, b):\n    return Points(a + b)"
    result = grade_clean(write(answered(released, source), tmp_path), scratch)
    assert result.score == 1 and result.exercises[0].passed


@slow
def test_solved_notebook_with_hooks_keeps_its_points(course, scratch, tmp_path):
    solution = nbformat.read(course / "solutions" / UNIT / f"{UNIT}.ipynb", as_version=4)
    nb = with_attack(solution, ATTACKS["ast_transformers"] + ATTACKS["input_transformers_cleanup"])
    result = grade_clean(write(nb, tmp_path), scratch)
    assert result.full_marks


@slow
def test_forged_gradebook_is_refused(released, scratch, tmp_path):
    # Without the sandbox the kernel runs as the grader's user: it finds the scratch gradebook
    # (its folder is autograded/<student>/<unit>/) and plants a trigger that gives full points.
    source = (
        "import os, sqlite3\n"
        "db = sqlite3.connect(os.path.join(os.getcwd(), '..', '..', '..', 'gradebook.db'))\n"
        "db.execute('CREATE TRIGGER forge AFTER UPDATE ON grade BEGIN UPDATE grade SET "
        "auto_score = (SELECT max_score FROM grade_cells WHERE id = NEW.cell_id), "
        "manual_score = 100 WHERE id = NEW.id; END')\n"
        "db.commit()"
    )
    path = write(with_attack(released, source), tmp_path)
    with pytest.raises(SubmissionError, match="gradebook does not match"):
        grade_notebook(path, limits=LIMITS)
    assert processes_in(scratch) == [] and list(scratch.iterdir()) == []


@slow
def test_grader_ipython_profile_is_not_loaded(released, scratch, tmp_path, monkeypatch):
    # An earlier submission graded without the sandbox could have planted a startup file in the
    # grader's own IPython profile: it would run before the guard.
    marker = tmp_path / "startup-ran"
    startup = tmp_path / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-plant.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    result = grade_clean(write(released, tmp_path / "work"), scratch)
    assert result.score == 0 and not marker.exists()


@slow
def test_tracer_set_by_the_code_under_test_fails_it(released, scratch, tmp_path):
    # A trace function can jump over the test's remaining lines (frame.f_lineno = ...).
    source = "import sys\n\ndef add(a, b):\n    sys.settrace(lambda *args: None)\n    return a + b"
    result = grade_clean(write(answered(released, source), tmp_path), scratch)
    assert result.score == 0
    assert "refuses sys.settrace" in result.exercises[0].message


@slow
def test_kernel_exit_in_a_test_scores_zero(released, scratch, tmp_path):
    source = "import os\n\ndef add(a, b):\n    os._exit(0)"
    result = grade_clean(write(answered(released, source), tmp_path), scratch)
    assert result.score == 0
    assert "KernelDied" in result.exercises[0].message


@slow
def test_escaped_process_is_killed(released, scratch, tmp_path):
    result = grade_clean(write(with_attack(released, ESCAPE), tmp_path), scratch)
    assert result.score == 0
    assert processes_running(ESCAPE_MARK) == []


@slow
@needs_bwrap
def test_sandboxed_kernel_leaves_nothing_behind(released, scratch, tmp_path):
    from grader.kernel import configure_sandbox, use_launch_hook

    configure_sandbox("require")
    try:
        result = grade_clean(write(with_attack(released, ESCAPE), tmp_path), scratch)
    finally:
        use_launch_hook(None)
    assert result.score == 0
    assert processes_running(ESCAPE_MARK) == []


@slow
def test_kernel_runtime_folder_is_removed(released, scratch, tmp_path):
    from grader.kernel import use_launch_hook

    # Any launch hook gives the kernel a runtime folder of its own (as the sandbox does).
    use_launch_hook(lambda argv, workdir, writable: argv)
    try:
        result = grade_clean(write(released, tmp_path), scratch)
    finally:
        use_launch_hook(None)
    assert result.score == 0


@slow
def test_huge_traceback_and_metadata_are_capped(course, released, scratch, tmp_path):
    source = (
        "class Huge(Exception):\n"
        "    def _render_traceback_(self):\n"
        "        return ['x' * 1000] * 20_000\n"
        "display({'text/plain': 'figure'}, raw=True, metadata={'huge': 'y' * 20_000_000})\n"
        "handle = display('small', display_id=True)\n"
        "handle.update({'text/plain': 'u' * 20_000_000}, raw=True)\n"
        "raise Huge('z' * 20_000_000)"
    )
    path = write(with_attack(released, source), tmp_path)
    data, _ = read_notebook(path)
    tree = tmp_path / "tree"
    result = autograde_in(course, UNIT, data, tree, limits=LIMITS)
    graded = tree / "autograded" / "learner" / UNIT / f"{UNIT}.ipynb"
    assert graded.stat().st_size < 1024**2
    assert result.score == 0
    shutil.rmtree(tree)


def test_cap_content_cuts_every_part():
    content = {
        "ename": "E" * 10_000,
        "evalue": "v" * 10_000,
        "traceback": ["line"] * 100_000,
        "metadata": {"huge": "m" * 100_000},
        "transient": {"display_id": "d" * 100_000},
    }
    cap_content("error", content, budget=4096)
    assert bounded_size(content, 10**6) < 10_000
    display = {"data": {"text/html": "h" * 100_000}, "metadata": {}}
    cap_content("update_display_data", display, budget=4096)
    stream = {"name": "stdout", "text": "s" * 100_000}
    cap_content("stream", stream, budget=4096)
    assert bounded_size(display, 10**6) + bounded_size(stream, 10**6) < 10_000


@slow
def test_learner_text_is_shown_as_plain_text(released, scratch, tmp_path):
    message = "\x1b]0;pwned\x07\x1b[2J[bold green]passed[/] \x1b]8;;http://evil\x07link\x1b]8;;\x07"
    source = f"def add(a, b):\n    raise ValueError({message!r})"
    result = grade_clean(write(answered(released, source), tmp_path), scratch)
    assert result.exercises[0].message == "ValueError: [bold green]passed[/] link"
    out = io.StringIO()
    print_feedback(result, Console(file=out, force_terminal=True, width=300))
    assert "[bold green]passed[/]" in out.getvalue()
    assert "\x1b]" not in out.getvalue() and "\x1b[2J" not in out.getvalue()


def test_only_a_verdict_signed_for_this_test_passes():
    key, source, nonce = b"k" * 32, "assert add(1, 2) == 3", "c0ffee"

    def reply(mac, status="ok", details="[]"):
        text = f"agents-grader-verdict {mac} {status} {details}"
        return {"content": {"user_expressions": {"verdict": {"status": "error", "evalue": text}}}}

    good = verdict_mac(key, "test", nonce, source, [], "ok")
    assert read_verdict(reply(good), key, "test", nonce, source, []) is None
    forged = [
        reply(verdict_mac(b"x" * 32, "test", nonce, source, [], "ok")),  # another key
        reply(verdict_mac(key, "test", "other", source, [], "ok")),  # another nonce
        reply(verdict_mac(key, "test", nonce, "pass", [], "ok")),  # another source
        reply(verdict_mac(key, "given", nonce, source, [], "ok")),  # another kind
        reply(verdict_mac(key, "test", nonce, source, ["d1"], "ok")),  # other given cells
        reply("\u00e9" * 64),
        {"content": {"user_expressions": {"verdict": {"status": "ok", "data": {}}}}},
        None,
    ]
    for answer in forged:
        assert read_verdict(answer, key, "test", nonce, source, [])[0] == "NoVerdict"
    failed = reply(verdict_mac(key, "test", nonce, source, [], "error"), "error", "['E', 'm', 'l']")
    assert read_verdict(failed, key, "test", nonce, source, []) == ("E", "m", "l")


def test_equal_compares_built_in_values_by_exact_kind():
    namespace: dict = {}
    exec(SNEAKY_STR + ALWAYS_EQUAL, namespace)
    sneaky, always = namespace["Sneaky"], namespace["AlwaysEqual"]
    assert not equal(always(), 3) and not equal(3, always()) and not equal(sneaky("x"), "y")
    assert not equal([always()], [3]) and not equal({"k": sneaky("a")}, {"k": "b"})
    assert equal(sneaky("abc"), "abc") and equal(3, 3.0) and equal(True, 1)
    assert equal({"a": [1, (2, "b")]}, {"a": [1, (2, "b")]}) and not equal([1], (1,))
    assert not contains("a", sneaky("b")) and contains("b", sneaky("abc"))
    assert not contains(3, [always()]) and contains("k", {"k": 1})


def test_equal_compares_dataclasses_field_by_field():
    from dataclasses import dataclass

    @dataclass
    class Message:
        role: str
        content: str

    class Forged(Message):
        def __eq__(self, other):
            return True

    assert equal(Message("user", "hi"), Message("user", "hi"))
    assert not equal(Forged("user", "no"), Message("user", "hi"))
    Message.__eq__ = lambda self, other: True  # a learner patches the class itself
    assert not equal(Message("user", "no"), Message("user", "hi"))


def test_csv_cells_are_never_formulas(tmp_path):
    result = NotebookResult(UNIT, "x.ipynb", error='=HYPERLINK("http://evil")\x1b[2J')
    rows = list(csv.reader(export_csv([("-student", result)], tmp_path / "g.csv").open()))
    assert rows[1][0] == "'-student" and rows[1][4] == '\'=HYPERLINK("http://evil")'


def test_plain_text_strips_escapes_and_controls():
    assert plain_text("\x1b]0;title\x1b\\a\x1b[31mb\x9bc\u202ed\x07e\tf\n") == "abcde\tf\n"


@slow
def test_course_root_never_comes_from_the_submission(released, tmp_path, monkeypatch):
    monkeypatch.delenv("AGENTS_GRADE_ROOT")
    evil = tmp_path / "evil"
    marker = tmp_path / "config-ran"
    shutil.copytree(REPO / "tests" / "fixtures" / "solutions", evil / "solutions")
    (evil / "nbgrader_config.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    path = write(released, evil / "units")
    assert find_course_root() == REPO
    with pytest.raises((SubmissionError, CourseError)):
        grade_notebook(path, limits=LIMITS)
    assert not marker.exists()


def test_colliding_student_ids_are_told_apart(released, tmp_path):
    ids = student_ids(["bob", "bob!", "Bob", "alice"])
    assert ids["bob"] == "bob" and ids["alice"] == "alice"
    assert len({i.lower() for i in ids.values()}) == 4
    folder = tmp_path / "class"
    for name in ("bob", "bob!"):
        write(released, folder).rename(folder / f"{name}.ipynb")
    subs = discover(folder, UNIT, folder / "grades")
    assert sorted(s.student for s in subs) == sorted([ids["bob"], ids["bob!"]])
    assert [s.renamed_from for s in subs if s.student != "bob"] == ["bob!"]
