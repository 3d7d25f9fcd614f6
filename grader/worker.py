"""One class-run job in its own process: `python -m grader.worker JOB.json`.

The job file names the submission, its student and unit, the course root, the limits, the
sandbox mode, the folders to hide from the kernel and the user it runs as (when root), and a
scratch folder. The worker grades
the submission there (its own course tree and gradebook, so parallel workers never share a
database: nbgrader issue 174) and writes `result.json` next to the job file. A submission that
cannot be graded gets a zero and the reason; a worker that dies leaves no result, and the class
run reports that instead.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

from grader.autograde import SubmissionError, autograde_in, identify_unit, read_notebook
from grader.course import CourseError
from grader.kernel import configure_sandbox
from grader.limits import Limits
from grader.results import NotebookResult
from grader.startup import exit_now, pause_garbage_collection


def run_job(job: dict) -> NotebookResult:
    """Grade the job's submission; errors become a zero with the reason, never an exception."""
    root, path = Path(job["root"]), Path(job["path"])
    result = NotebookResult(unit=job["unit"] or "", notebook=str(path))
    try:
        data, nb = read_notebook(path)
        unit = identify_unit(nb, path, root, expected=job["unit"])
        result = autograde_in(
            root,
            unit,
            data,
            Path(job["scratch"]),
            student=job["student"],
            limits=Limits(**job["limits"]),
        )
        result.notebook = str(path)
    except (SubmissionError, CourseError, OSError) as error:
        result.error = str(error)
    except Exception as error:  # a grader bug must still not stop the class run
        result.error = f"grader error: {error!r}"
        traceback.print_exc()
    return result


def main(argv: list[str]) -> int:
    job_file = Path(argv[0])
    job = json.loads(job_file.read_text())
    configure_sandbox(job["sandbox"], hidden=job["hidden"], uid=job["uid"])
    result = run_job(job)
    partial = job_file.with_name("result.json.tmp")
    partial.write_text(json.dumps(result.to_dict()))
    partial.replace(job_file.with_name("result.json"))
    return 0


if __name__ == "__main__":
    # A short process like `agents-grade` itself: the same start-up and exit shortcuts.
    pause_garbage_collection()
    exit_now(main(sys.argv[1:]))
