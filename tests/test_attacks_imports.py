"""Attack class: reaching files, processes or the environment through an "authorised" import.

Why the defence covers the class: `"*"` now means an allowlist (`SAFE_STDLIB`), not "every
module but a deny list". A module whose functions were never read for such doors is simply
not importable under "*", so the next `expandvars` nobody thought of is refused the same way
as these four. A module reached as an attribute of an allowed one (`statistics.sys`) goes
through the same policy.
"""

from __future__ import annotations

import pytest

from minexec import SAFE_STDLIB, GuardedInterpreter, InterpreterError

DOORS = {
    "posixpath.expandvars reads the environment": "import posixpath\nposixpath.expandvars('$HOME')",
    "argparse.FileType opens files": "import argparse\nargparse.FileType('w')('/tmp/x')",
    "tokenize.open opens files": "import tokenize\ntokenize.open('/etc/passwd')",
    "pipes runs shell commands": "import pipes\npipes.Template()",
    "a module reached through a safe one": "import typing\ntyping.sys",
    "a submodule of a safe package": "import json.tool",
}


@pytest.mark.parametrize("name", list(DOORS))
def test_star_does_not_reach_modules_outside_the_allowlist(name: str) -> None:
    with pytest.raises(InterpreterError, match="not allowed"):
        GuardedInterpreter(authorized_imports=["*"]).run(DOORS[name])


def test_star_means_exactly_the_safe_list() -> None:
    interpreter = GuardedInterpreter(authorized_imports=["*"])
    code = "\n".join(f"import {name}" for name in SAFE_STDLIB) + "\nlen(dir(math))"
    assert interpreter.run(code).output > 10
    with pytest.raises(InterpreterError, match='"\\*" means only the modules in SAFE_STDLIB'):
        interpreter.run("import csv")


def test_a_module_named_on_purpose_is_still_importable() -> None:
    interpreter = GuardedInterpreter(authorized_imports=["csv"])
    assert interpreter.run("import csv\ncsv.QUOTE_ALL").output == 1


def test_a_module_that_reaches_the_environment_stays_out_even_when_named() -> None:
    with pytest.raises(InterpreterError, match="never available"):
        GuardedInterpreter(authorized_imports=["posixpath"]).run("import posixpath")
