"""Each unit's reference module is what the unit builds (issue 19).

Every unit's intro names where its graded functions live, in a paragraph that starts with
"**Reference:**" and names modules as `minagent/<module>.py`. A learner stuck on an exercise reads
those modules, so:

- every graded function of the unit (the grade_id of each solution cell, which is the name of the
  function the cell defines) is there under the same name, and takes the solution's parameters,
  in the same order (fast);
- it does the same thing: the solution notebook, with each graded cell replaced by an import of
  the reference, gets full marks from the course's grader, visible and hidden tests (slow).
"""

from __future__ import annotations

import ast
import copy
import importlib
import inspect
import json
import re
from pathlib import Path

import pytest

from grader.autograde import grade_notebook

REPO = Path(__file__).resolve().parents[1]
UNITS = sorted(p.name for p in (REPO / "solutions").iterdir() if p.is_dir())
REFERENCE = re.compile(r"\*\*Reference:\*\*(.*?)(?:\n\n|\Z)", re.DOTALL)
MODULE_PATH = re.compile(r"`(minagent/[\w/]+)\.py`")


def solution(unit: str) -> dict:
    return json.loads((REPO / "solutions" / unit / f"{unit}.ipynb").read_text())


def source(cell: dict) -> str:
    text = cell["source"]
    return "".join(text) if isinstance(text, list) else text


def reference_modules(nb: dict) -> list[str]:
    """The dotted names of the modules the intro's Reference paragraph names, in order."""
    intro = source(nb["cells"][0])
    found = REFERENCE.search(intro)
    assert found, "the unit's first cell needs a '**Reference:** `minagent/....py` ...' paragraph"
    paths = MODULE_PATH.findall(found.group(1))
    assert paths, f"the Reference paragraph names no minagent/....py module: {found.group(0)!r}"
    return [path.replace("/", ".") for path in paths]


def graded_cells(nb: dict) -> dict[str, dict]:
    """The solution cells (nbgrader solution, not grade), by grade_id."""
    cells = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and not meta.get("grade"):
            cells[meta["grade_id"]] = cell
    return cells


def defined_names(code: str) -> list[str]:
    """Top-level names a cell defines: functions, classes and assigned names, in order."""
    names = []
    for node in ast.parse(code).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names


def parameters(code: str, function: str) -> list[str]:
    """The parameter names of the top-level function `function` defined in `code`, in order."""
    node = next(n for n in ast.parse(code).body if getattr(n, "name", None) == function)
    args = node.args
    names = [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]
    return names + ([f"**{args.kwarg.arg}"] if args.kwarg else [])


def used_names(code: str) -> set[str]:
    """The names a cell reads (IPython magics, lines starting with % or !, are skipped)."""
    lines = [line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))]
    tree = ast.parse("\n".join(lines))
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def find(name: str, modules: list[str]) -> str | None:
    """The first of `modules` that holds `name`, or None."""
    return next((m for m in modules if hasattr(importlib.import_module(m), name)), None)


def with_reference(nb: dict, modules: list[str]) -> dict:
    """A copy of the solution notebook whose graded cells import from the reference instead.

    Each graded cell keeps its own import statements and imports, from the first reference
    module that has it, every name it defines that the notebook uses elsewhere (its graded
    function always).
    """
    nb = copy.deepcopy(nb)
    graded = graded_cells(nb)
    for grade_id, cell in graded.items():
        others = set().union(
            *(
                used_names(source(c))
                for c in nb["cells"]
                if c["cell_type"] == "code" and c is not cell
            )
        )
        tree = ast.parse(source(cell))
        imports = [ast.unparse(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        wanted = [n for n in defined_names(source(cell)) if n == grade_id or n in others]
        lines = list(imports)
        for name in wanted:
            module = find(name, modules)
            assert module, f"{grade_id}: no reference module ({', '.join(modules)}) has {name!r}"
            lines.append(f"from {module} import {name}")
        cell["source"] = "\n".join(lines) + "\n"
    return nb


@pytest.mark.parametrize("unit", UNITS)
def test_graded_functions_are_in_the_reference(unit):
    nb = solution(unit)
    modules = reference_modules(nb)
    for module in modules:
        assert (REPO / f"{module.replace('.', '/')}.py").is_file(), f"{module} is not a file"
    graded = graded_cells(nb)
    assert graded, f"{unit} has no graded solution cells"
    for grade_id, cell in graded.items():
        assert grade_id in defined_names(source(cell)), (
            f"the solution cell {grade_id!r} should define a function named {grade_id!r}"
        )
        module = find(grade_id, modules)
        assert module, f"{unit}: {grade_id} is in none of {modules}"
        reference = getattr(importlib.import_module(module), grade_id)
        assert callable(reference), (module, grade_id)
        # A call that works on the learner's function works on the reference (which may take
        # more, optional, parameters after them).
        theirs = parameters(source(cell), grade_id)
        ours = [
            f"**{p.name}" if p.kind is p.VAR_KEYWORD else p.name
            for p in inspect.signature(reference).parameters.values()
        ]
        assert ours[: len(theirs)] == theirs, f"{module}.{grade_id}{ours} != the unit's {theirs}"


@pytest.mark.slow
@pytest.mark.parametrize("unit", UNITS)
def test_reference_gets_full_marks(unit, tmp_path):
    nb = solution(unit)
    path = tmp_path / unit / f"{unit}.ipynb"
    path.parent.mkdir()
    path.write_text(json.dumps(with_reference(nb, reference_modules(nb))))
    result = grade_notebook(path, root=REPO)
    lost = [(e.name, e.message) for e in result.exercises if not e.passed]
    assert result.full_marks, f"{unit} on its reference: {result.score}/{result.max_score}, {lost}"
