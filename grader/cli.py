"""`agents-grade`: grade a learner's notebook, or a class of submissions.

    agents-grade units/03-react-loop                 # one notebook: table of exercises
    agents-grade units/03-react-loop --json          # the same as JSON
    agents-grade --class submitted/                  # instructor: a folder of submissions

Kernels run under bubblewrap (`minexec.sandbox`: no network, no files outside the notebook's
folder) wherever it works, for one notebook and a class alike: `--sandbox auto`, the default.
Where bwrap is missing (macOS, a container without user namespaces) a learner's notebook is
graded in a plain kernel as before, and a class run says so on stderr before it starts;
`--sandbox require` makes that an error instead, `--sandbox off` never sandboxes.

Exit status: 0 at full marks (class run: when it finished), 1 when points were lost, 2 when the
notebook could not be graded (not a notebook, another unit, metadata stripped, bad arguments).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.limits import SANDBOX_MODES, Limits

EXIT_FULL_MARKS = 0
EXIT_POINTS_LOST = 1
EXIT_ERROR = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agents-grade", description=__doc__.split("\n")[0])
    parser.add_argument("path", nargs="?", type=Path, help="a notebook or a unit folder")
    parser.add_argument("--class", dest="class_dir", type=Path, help="grade a class folder")
    parser.add_argument("--unit", help="class run: the unit of a flat folder of notebooks")
    parser.add_argument("--out", type=Path, help="class run: output folder (DIR/grades)")
    parser.add_argument("--jobs", type=int, help="class run: parallel graders (cores)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--sandbox",
        choices=SANDBOX_MODES,
        default="auto",
        help="run kernels under bubblewrap: where it works (auto), never, or else fail",
    )
    parser.add_argument("--root", type=Path, help="course root (with solutions/)")
    defaults = Limits()
    parser.add_argument("--cell-timeout", type=int, default=defaults.cell_timeout)
    parser.add_argument("--timeout", type=int, default=defaults.notebook_timeout)
    parser.add_argument("--memory-mb", type=int, default=defaults.memory_bytes // 2**20)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `agents-grade` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    from grader.kernel import configure_sandbox, use_launch_hook

    try:
        unsandboxed = configure_sandbox(args.sandbox)
    except RuntimeError as error:  # SandboxUnavailable under --sandbox require
        print(f"error: --sandbox require: {error}", file=sys.stderr)
        return EXIT_ERROR
    try:
        return _run(args, unsandboxed)
    finally:
        use_launch_hook(None)  # the setting was this run's (main may be called again in-process)


def _run(args: argparse.Namespace, unsandboxed: str | None) -> int:
    limits = Limits(
        cell_timeout=args.cell_timeout,
        notebook_timeout=args.timeout,
        memory_bytes=args.memory_mb * 2**20,
    )
    if args.class_dir is not None:
        from grader.classrun import main_class

        if unsandboxed and args.sandbox == "auto":
            print(f"warning: kernels run without a sandbox ({unsandboxed})", file=sys.stderr)
        return main_class(args, limits)
    if args.path is None:
        _parser().error("give a notebook or unit folder, or --class DIR")
    return grade_one(args.path, limits, root=args.root, as_json=args.json)


def grade_one(path: Path, limits: Limits, *, root: Path | None, as_json: bool) -> int:
    """Grade one notebook and report it; returns the exit status."""
    from grader.autograde import SubmissionError, grade_notebook
    from grader.course import CourseError
    from grader.feedback import print_feedback, to_json
    from grader.results import NotebookResult

    try:
        result = grade_notebook(path, root=root.resolve() if root else None, limits=limits)
    except (SubmissionError, CourseError, OSError) as error:
        result = NotebookResult(unit="", notebook=str(path), error=str(error))
    if as_json:
        print(to_json(result))
    else:
        print_feedback(result)
    if result.error:
        return EXIT_ERROR
    return EXIT_FULL_MARKS if result.full_marks else EXIT_POINTS_LOST


def run() -> None:
    """The `agents-grade` console script: `main` with the start-up shortcuts of
    `grader.startup` (no cyclic garbage collection in this short process, no teardown)."""
    from grader.startup import exit_now, pause_garbage_collection

    pause_garbage_collection()
    exit_now(main())


if __name__ == "__main__":
    run()
