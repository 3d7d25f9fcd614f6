"""Where the course lives, and nbgrader course trees built on the fly.

nbgrader wants a course directory (source, release, submitted, autograded folders and a
gradebook database). The grader never touches the real repository's folders while grading:
it builds a throwaway tree in a temporary directory and points nbgrader's `CourseDirectory`
at it, with the repository's `nbgrader_config.py` loaded on top.

Example:
    >>> root = find_course_root()
    >>> (root / "nbgrader_config.py").is_file()
    True
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from traitlets.config import Config, PyFileConfigLoader

CONFIG_FILE = "nbgrader_config.py"
SOURCE_DIR = "solutions"
RELEASE_DIR = "units"
# Set to a folder holding `nbgrader_config.py` and `solutions/` to grade against another course.
ROOT_ENV = "AGENTS_GRADE_ROOT"


class CourseError(Exception):
    """A notebook or folder that the grader cannot match to a unit (message says why)."""


def find_course_root() -> Path:
    """The course root: `$AGENTS_GRADE_ROOT`, else the checkout this package was installed from.

    Never a folder found near the notebook being graded: a submission that brings its own
    `nbgrader_config.py` (Python, run by the grader) and `solutions/` (the tests) must not be
    graded against them.

    Example: find_course_root() -> Path("/home/me/agents-course")
    """
    if os.environ.get(ROOT_ENV):
        return Path(os.environ[ROOT_ENV]).resolve()
    installed = Path(__file__).resolve().parents[1]
    if (installed / CONFIG_FILE).is_file() and (installed / SOURCE_DIR).is_dir():
        return installed
    raise CourseError(
        f"no course found: the grader is installed from {installed}, which has no {CONFIG_FILE} "
        f"and {SOURCE_DIR}/; install it from the course checkout (pip install -e .) or set "
        f"{ROOT_ENV} or --root"
    )


def ensure_venv_on_path() -> None:
    """Put this interpreter's `bin/` on PATH: nbgrader runs the `alembic` command when it
    creates a gradebook, and a venv that is not activated would not find it."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def course_config(root: Path, course_tree: Path, db_path: Path) -> Config:
    """nbgrader configuration: the course's `nbgrader_config.py`, re-rooted at `course_tree`
    (a scratch folder) with its gradebook at `db_path`."""
    ensure_venv_on_path()
    config = Config()
    if (root / CONFIG_FILE).is_file():
        config.merge(PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config())
    config.CourseDirectory.root = str(course_tree)
    config.CourseDirectory.db_url = f"sqlite:///{db_path}"
    config.CourseDirectory.source_directory = SOURCE_DIR
    config.CourseDirectory.release_directory = RELEASE_DIR
    config.CourseDirectory.submitted_directory = "submitted"
    config.CourseDirectory.autograded_directory = "autograded"
    config.CourseDirectory.feedback_directory = "feedback"
    config.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]
    return config


def generate_in(root: Path, unit: str, tree: Path, db_path: Path) -> None:
    """Run nbgrader's generate_assignment for `unit` in the scratch course `tree`, recording the
    unit (its cells, checksums, points) in the gradebook at `db_path`; the released notebook
    lands in `tree/units/<unit>/`.

    Example: generate_in(root, "99-fixture", Path(tmp), Path(tmp) / "gradebook.db")
    """
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    source_notebook(root, unit)  # an unknown unit is a CourseError, not a missing file
    source = tree / SOURCE_DIR / unit
    if not source.exists():
        shutil.copytree(root / SOURCE_DIR / unit, source)
    config = course_config(root, tree, db_path)
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    result = api.generate_assignment(unit, force=True, create=True)
    if not result["success"]:
        raise CourseError(f"nbgrader generate_assignment failed for {unit}:\n{result.get('log')}")


def source_notebook(root: Path, unit: str) -> Path:
    """The nbgrader source notebook of `unit`: `solutions/<unit>/<unit>.ipynb`."""
    path = root / SOURCE_DIR / unit / f"{unit}.ipynb"
    if not path.is_file():
        known = sorted(p.name for p in (root / SOURCE_DIR).iterdir() if p.is_dir())
        raise CourseError(f"unknown unit {unit!r}: no {path} (units: {', '.join(known) or 'none'})")
    return path


def list_units(root: Path) -> list[str]:
    """Every unit slug that has a source notebook, sorted."""
    folder = root / SOURCE_DIR
    return sorted(p.name for p in folder.iterdir() if (p / f"{p.name}.ipynb").is_file())
