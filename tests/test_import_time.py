"""`import minagent` must stay fast: no provider SDK or native library at import."""

import subprocess
import sys

HEAVY = ("litellm", "llama_cpp")


def test_importing_minagent_loads_no_heavy_dependency():
    code = (
        "import sys, minagent, minagent.messages, minagent.models, minagent.tools, "
        "minagent.templates, minagent.agents\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"imported at start-up: {out.stdout.strip()}"


def test_importtime_report_shows_no_heavy_dependency():
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import minagent.models, minagent.agents"],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {line.split("|")[-1].strip().split(".")[0] for line in out.stderr.splitlines()}
    assert not imported & set(HEAVY)
