"""Grade one notebook with nbgrader's autograde, in a throwaway course tree.

nbgrader can only autograde inside a course: a source folder, a gradebook that knows the unit's
cells, and `submitted/<student>/<unit>/`. `autograde_in` builds that tree around one submission
and runs nbgrader's own `Autograde` converter through its Python API (`NbGraderAPI.autograde`),
so scores are nbgrader's: its `OverwriteCells` restores every locked and hidden test cell from
the gradebook by checksum (and adds back deleted ones), then `SafeExecute` runs the notebook,
each test cell through the guard it installs in the kernel first (see `grader.execute`). The
course is the installed one (`find_course_root`), never one found next to the submission, and
`collect` checks the gradebook's scores against the graded notebook before reporting them.

The gradebook of a unit is built once by `generate_assignment` and cached by the source's
content hash (`gradebook_template`); each grading works on a copy of it.

Example:
    >>> result = grade_notebook(Path("units/99-fixture/99-fixture.ipynb"))
    >>> result.score, result.max_score
    (0.0, 4.0)
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
import warnings
from pathlib import Path

from grader.course import (
    SOURCE_DIR,
    CourseError,
    course_config,
    find_course_root,
    generate_in,
    source_notebook,
)
from grader.limits import Limits
from grader.results import ExerciseResult, NotebookResult, TestResult, exercise_of, failure_message

CACHE_ENV = "AGENTS_GRADE_CACHE"
STUDENT = "learner"
STUDENT_ID = re.compile(r"[^A-Za-z0-9_.-]+")


class SubmissionError(Exception):
    """A submission that cannot be graded: not a notebook, another unit, metadata stripped."""


def read_notebook(path: Path) -> tuple[bytes, dict]:
    """The file's bytes and its parsed JSON; SubmissionError when it is not a notebook."""
    data = path.read_bytes()
    try:
        nb = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SubmissionError(f"{path.name} is not a notebook (not valid JSON: {error})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise SubmissionError(f"{path.name} is not a notebook (no list of cells)")
    return data, nb


def _grade_ids(nb: dict) -> set[str]:
    ids = set()
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
        grade_id = meta.get("nbgrader", {}).get("grade_id") if isinstance(meta, dict) else None
        if isinstance(grade_id, str):
            ids.add(grade_id)
    return ids


def identify_unit(nb: dict, path: Path, root: Path, expected: str | None = None) -> str:
    """The unit a notebook belongs to: `metadata.course.unit`, else `expected` (a class run's
    folder), else the notebook's folder or file name. Raises SubmissionError, saying what to do,
    for a notebook of another unit or one whose nbgrader metadata was stripped.

    Example: identify_unit(nb, Path("units/02-tools/02-tools.ipynb"), root) -> "02-tools"
    """
    course = nb.get("metadata", {}).get("course", {})
    declared = course.get("unit") if isinstance(course, dict) else None
    known = set(_known_units(root))
    # A notebook inside units/<unit>/ (or submitted/<student>/<unit>/) belongs to that unit.
    expected = expected or (path.parent.name if path.parent.name in known else None)
    guesses = [expected, path.parent.name, path.stem]
    unit = declared or next((g for g in guesses if g in known), None)
    if unit is None:
        raise SubmissionError(
            f"{path.name}: cannot tell which unit this is (no metadata.course.unit, and neither "
            f"its folder nor its name is a unit); grade a notebook from units/<unit>/"
        )
    if expected and unit != expected:
        raise SubmissionError(
            f"{path.name} is a notebook of unit {unit}, not of {expected}: submit the {expected} "
            "notebook"
        )
    if unit not in known:
        raise SubmissionError(f"{path.name} says it is unit {unit!r}, which this course lacks")
    ours = _grade_ids(nb)
    _, source = read_notebook(source_notebook(root, unit))
    if not ours:
        raise SubmissionError(
            f"{path.name}: its nbgrader cell metadata is gone (stripped by a tool that rewrote "
            f"the notebook?), so its tests cannot be found; copy your code into a fresh copy of "
            f"units/{unit}/{unit}.ipynb and grade that"
        )
    if not ours & _grade_ids(source):
        raise SubmissionError(f"{path.name}: none of its graded cells belong to unit {unit}")
    return unit


def _known_units(root: Path) -> list[str]:
    folder = root / SOURCE_DIR
    return [p.name for p in folder.iterdir() if (p / f"{p.name}.ipynb").is_file()]


def cache_dir() -> Path:
    """Where unit gradebooks are cached: `$AGENTS_GRADE_CACHE` or ~/.cache/agents-grade."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "agents-grade"


def source_hash(root: Path, unit: str) -> str:
    """Content hash of what a unit's gradebook depends on (its source folder and the config)."""
    import nbgrader

    digest = hashlib.sha256(nbgrader.__version__.encode())
    config = root / "nbgrader_config.py"
    if config.is_file():
        digest.update(config.read_bytes())
    for path in sorted((root / SOURCE_DIR / unit).rglob("*")):
        if path.is_file() and ".ipynb_checkpoints" not in path.parts:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:20]


def gradebook_template(root: Path, unit: str) -> Path:
    """A gradebook holding `unit` as nbgrader's generate_assignment records it (cells, checksums,
    points), built once per source content and then reused from the cache."""
    path = cache_dir() / f"{unit}-{source_hash(root, unit)}.db"
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="agents-gradebook-") as scratch:
        db = Path(scratch) / "gradebook.db"
        generate_in(root, unit, Path(scratch), db)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(db, partial)
        os.replace(partial, path)  # atomic: parallel graders never see half a file
    return path


def autograde_config(root: Path, tree: Path, db: Path, limits: Limits):  # type: ignore[no-untyped-def]
    """The course's nbgrader config with `SafeExecute` in place of nbgrader's Execute."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )

    from grader.execute import SafeExecute

    config = course_config(root, tree, db)
    config.Autograde.autograde_preprocessors = [
        SafeExecute,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
    config.OverwriteCells.add_missing_cells = True
    config.SafeExecute.timeout = limits.cell_timeout
    config.SafeExecute.notebook_timeout = limits.notebook_timeout
    config.SafeExecute.cell_output_bytes = limits.cell_output_bytes
    config.LimitedKernelManager.memory_bytes = limits.memory_bytes
    config.LimitedKernelManager.file_size_bytes = limits.file_size_bytes
    config.LimitedKernelManager.max_processes = limits.max_processes
    return config


def autograde_in(
    root: Path, unit: str, data: bytes, tree: Path, *, student: str = STUDENT, limits: Limits
) -> NotebookResult:
    """Autograde the notebook `data` as `student`'s submission of `unit` in the course tree
    `tree` (created; its gradebook is `tree/gradebook.db`). Grades come from that gradebook,
    failure messages from the autograded notebook in `tree/autograded/`."""
    from grader.kernel import kill_process_group, start_kernel

    # Start the (fresh) kernel first: it boots on one core while nbgrader imports on the other.
    # nbgrader runs the notebook in autograded/<student>/<unit>/, so the kernel starts there.
    workdir = tree / "autograded" / student / unit
    workdir.mkdir(parents=True, exist_ok=True)
    km = start_kernel(
        _kernel_name(root, unit),
        workdir,
        memory_bytes=limits.memory_bytes,
        file_size_bytes=limits.file_size_bytes,
        max_processes=limits.max_processes,
    )
    try:
        return _autograde_with(km, root, unit, data, tree, student=student, limits=limits)
    finally:
        kill_process_group(km.process_group)


def _kernel_name(root: Path, unit: str) -> str:
    _, source = read_notebook(source_notebook(root, unit))
    return source.get("metadata", {}).get("kernelspec", {}).get("name") or "python3"


def _autograde_with(km, root, unit, data, tree, *, student, limits):  # type: ignore[no-untyped-def]
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log
    from sqlalchemy.exc import SAWarning

    from grader.execute import hand_over

    # nbgrader's own session use trips SQLAlchemy 2 warnings that say nothing to a learner.
    warnings.filterwarnings("ignore", category=SAWarning)
    # A test cell that nbgrader adds back (the learner deleted it) has no cell id yet.
    warnings.filterwarnings("ignore", message="Cell is missing an id field")

    hand_over(km)
    _share_engines()
    db = tree / "gradebook.db"
    if not db.exists():
        shutil.copyfile(gradebook_template(root, unit), db)
    submitted = tree / "submitted" / student / unit
    submitted.mkdir(parents=True, exist_ok=True)
    (submitted / f"{unit}.ipynb").write_bytes(data)
    (tree / SOURCE_DIR / unit).mkdir(parents=True, exist_ok=True)
    config = autograde_config(root, tree, db, limits)
    # notebook_id set (not "*") so that nbgrader keeps the folder the kernel already runs in.
    config.CourseDirectory.notebook_id = unit
    config.CourseDirectory.assignment_id = unit
    config.CourseDirectory.student_id = student
    # What `NbGraderAPI.autograde` runs, without importing every nbgrader app for it.
    app = Autograde(coursedir=CourseDirectory(config=config), config=config)
    app.force = app.create_student = True
    outcome = capture_log(app)
    if not outcome["success"]:
        raise SubmissionError(f"nbgrader could not grade it: {_last_error(outcome.get('log', ''))}")
    graded = json.loads((tree / "autograded" / student / unit / f"{unit}.ipynb").read_text())
    return collect(root, unit, str(db), student, graded)


def _share_engines() -> None:
    """One SQLAlchemy engine per gradebook URL in this process. nbgrader opens the gradebook
    about a dozen times per notebook, each time with a new engine that compiles every query
    afresh; a shared engine keeps its compiled statements (`Gradebook.close` only empties the
    engine's connection pool, which refills on the next use)."""
    import nbgrader.api

    if not hasattr(nbgrader.api.create_engine, "cache_info"):
        nbgrader.api.create_engine = functools.lru_cache(maxsize=None)(nbgrader.api.create_engine)


def _last_error(log: str) -> str:
    errors = [line for line in log.splitlines() if line.startswith("[ERROR]")]
    return errors[0].removeprefix("[ERROR] ") if errors else log.strip()[-300:]


def collect(root: Path, unit: str, db: str, student: str, graded: dict) -> NotebookResult:
    """Scores from the gradebook at `db` grouped into exercises with messages and hints.

    Raises SubmissionError when the gradebook disagrees with the source's points or with what
    the graded notebook's test cells earned: a kernel without the sandbox runs as the grader's
    user and could have written to the gradebook (a trigger that rewrites every score).
    """
    from nbgrader.api import Gradebook

    _, source = read_notebook(source_notebook(root, unit))
    hints = source.get("metadata", {}).get("course", {}).get("hints", {})
    order = {
        c.get("metadata", {}).get("nbgrader", {}).get("grade_id"): i
        for i, c in enumerate(source["cells"])
    }
    functions = [
        c["metadata"]["nbgrader"]["grade_id"]
        for c in source["cells"]
        if c.get("metadata", {}).get("nbgrader", {}).get("solution")
    ]
    points = {
        c["metadata"]["nbgrader"]["grade_id"]: float(c["metadata"]["nbgrader"]["points"])
        for c in source["cells"]
        if c.get("metadata", {}).get("nbgrader", {}).get("grade")
    }
    outputs = {
        c["metadata"]["nbgrader"]["grade_id"]: c.get("outputs", [])
        for c in graded["cells"]
        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    }
    earned = test_scores(graded)
    exercises: dict[str, ExerciseResult] = {}
    with Gradebook(f"sqlite:///{db}") as gb:
        submission = gb.find_submission_notebook(unit, unit, student)
        grades = [(g.name, g.auto_score, float(g.max_score)) for g in submission.grades]
    for name, score, max_points in sorted(grades, key=lambda g: order.get(g[0], len(order))):
        if max_points != points.get(name) or (name in earned and score != earned[name]):
            raise SubmissionError(
                f"the gradebook does not match the graded notebook at {name} (did the notebook "
                "write to it? grade with the sandbox on)"
            )
        test = TestResult(name, float(score or 0), max_points)
        if not test.passed:
            test.message = failure_message(outputs.get(name, [])) or "no points"
        function = exercise_of(name, functions)
        exercise = exercises.setdefault(
            function, ExerciseResult(function, [], hints.get(function, ""))
        )
        exercise.tests.append(test)
    return NotebookResult(unit, "", list(exercises.values()), max_score=sum(points.values()))


def test_scores(graded: dict) -> dict[str, float]:
    """What each test cell of an autograded notebook earned, by nbgrader's rule (an error or
    stderr output: zero, else full points), from the notebook the grader itself wrote."""
    import nbformat
    from nbgrader.utils import determine_grade

    from grader.execute import is_test_cell

    scores = {}
    for cell in nbformat.from_dict(graded).cells:
        if is_test_cell(cell):
            scores[cell.metadata.nbgrader.grade_id] = determine_grade(cell)[0]
    return scores


def resolve_notebook(path: Path) -> Path:
    """A notebook path, or the notebook inside a unit folder (`units/02-tools` ->
    `units/02-tools/02-tools.ipynb`, else its only .ipynb file)."""
    if path.is_dir():
        named = path / f"{path.name}.ipynb"
        found = [named] if named.is_file() else sorted(path.glob("*.ipynb"))
        if len(found) != 1:
            raise SubmissionError(f"{path}: expected one notebook in it, found {len(found)}")
        return found[0]
    if not path.is_file():
        raise SubmissionError(f"{path}: no such notebook")
    return path


def grade_notebook(
    path: Path, *, root: Path | None = None, limits: Limits | None = None
) -> NotebookResult:
    """Grade a learner's notebook (or unit folder) without touching it: it is read once, and
    everything else happens on a copy in a temporary course tree.

    Raises SubmissionError (not a notebook, another unit, metadata stripped) and CourseError.
    """
    path = resolve_notebook(Path(path))
    root = root or find_course_root()
    data, nb = read_notebook(path)
    unit = identify_unit(nb, path, root)
    with tempfile.TemporaryDirectory(prefix="agents-grade-") as scratch:
        result = autograde_in(root, unit, data, Path(scratch), limits=limits or Limits())
    result.notebook = str(path)
    return result


__all__ = ["CourseError", "SubmissionError", "grade_notebook", "autograde_in", "read_notebook"]
