"""Regenerate the learner notebooks in `units/` from the sources in `solutions/`.

    python -m grader.release                 # every unit
    python -m grader.release 03-react-loop   # one unit
    python -m grader.release --check         # report drift, change nothing (exit 1 on drift)

It runs nbgrader's own `generate_assignment` (solutions replaced by the code stub, hidden tests
removed, checksums added) in a scratch course tree, so no gradebook or stray folder is left in
the repository; only `units/<unit>/` is replaced.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from grader.course import RELEASE_DIR, SOURCE_DIR, CourseError, find_course_root, generate_in
from grader.course import list_units as course_units


def generate(root: Path, unit: str, out_dir: Path) -> Path:
    """Run nbgrader's generate_assignment on `solutions/<unit>` and copy the released folder
    to `out_dir/<unit>`; returns that folder.

    Example: generate(root, "99-fixture", tmp) -> tmp / "99-fixture" (holding 99-fixture.ipynb)
    """
    with tempfile.TemporaryDirectory(prefix="agents-release-") as scratch:
        tree = Path(scratch)
        generate_in(root, unit, tree, tree / "gradebook.db")
        target = out_dir / unit
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(tree / RELEASE_DIR / unit, target)
    return target


def _comparable(path: Path) -> object:
    """A notebook's JSON, or the raw bytes of any other file."""
    if path.suffix == ".ipynb":
        return json.loads(path.read_text(encoding="utf-8"))
    return path.read_bytes()


def drift(root: Path, unit: str) -> list[str]:
    """Files of `units/<unit>` that differ from a fresh release of `solutions/<unit>`."""
    released = root / RELEASE_DIR / unit
    with tempfile.TemporaryDirectory(prefix="agents-check-") as scratch:
        fresh = generate(root, unit, Path(scratch))
        names = {p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file()}
        if released.is_dir():
            names |= {p.relative_to(released) for p in released.rglob("*") if p.is_file()}
        problems = []
        for name in sorted(names):
            ours, theirs = released / name, fresh / name
            if not ours.is_file():
                problems.append(f"{RELEASE_DIR}/{unit}/{name}: missing (python -m grader.release)")
            elif not theirs.is_file():
                problems.append(f"{RELEASE_DIR}/{unit}/{name}: not in {SOURCE_DIR}/{unit}")
            elif _comparable(ours) != _comparable(theirs):
                problems.append(f"{RELEASE_DIR}/{unit}/{name}: differs from {SOURCE_DIR}/{unit}")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    summary = __doc__.split("\n")[0]
    parser = argparse.ArgumentParser(prog="python -m grader.release", description=summary)
    parser.add_argument("units", nargs="*", help="unit slugs (default: all units in solutions/)")
    parser.add_argument("--check", action="store_true", help="report drift and change nothing")
    parser.add_argument("--root", type=Path, help="course root (default: this checkout)")
    args = parser.parse_args(argv)
    try:
        root = args.root.resolve() if args.root else find_course_root()
        units = args.units or course_units(root)
        if args.check:
            problems = [line for unit in units for line in drift(root, unit)]
            print("\n".join(problems) or f"units/ matches solutions/ ({len(units)} units)")
            return 1 if problems else 0
        for unit in units:
            print(f"released {generate(root, unit, root / RELEASE_DIR).relative_to(root)}")
    except CourseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
