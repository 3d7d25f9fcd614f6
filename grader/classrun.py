"""`agents-grade --class DIR`: grade a class of submissions with nbgrader, several at a time.

DIR holds either nbgrader's layout, `[submitted/]<student>/<unit>/<unit>.ipynb`, or a flat folder
of notebooks named after their students (`alice.ipynb`; the unit comes from `--unit` or each
notebook's metadata). Each submission is graded by `grader.worker` in a process of its own, with
its own gradebook, on as many cores as there are; the parent merges every worker's gradebook
into the class gradebook and writes, under `--out` (default DIR/grades):

    gradebook.db                          nbgrader's gradebook (`nbgrader export`, formgrader)
    grades.csv                            one row per submission: score, reason, exercises
    autograded/<student>/<unit>.ipynb     the executed notebooks
    results/<student>/<unit>.json         per-submission results, keyed by content hash

Re-running resumes: a submission whose bytes, unit source, limits and sandboxing are unchanged
is not graded again. A submission that cannot be graded gets a zero and the reason.

Each kernel runs under bubblewrap where it works (`--sandbox auto`, the default; `require`
refuses to grade without it): it cannot reach the network or read the class folder, the output
or any other worker's scratch tree, and writes only its own working folder. As root, each worker
slot's kernels run as a user of their own under a process limit (`kernel_uid`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from grader.autograde import SubmissionError, identify_unit, read_notebook
from grader.course import CourseError
from grader.limits import Limits
from grader.results import NotebookResult

# A worker gets the notebook's time limit plus this for start-up, nbgrader and merging.
WORKER_SLACK_S = 120
POLL_S = 0.05
# As root, worker slot k's kernels run as user KERNEL_UID_BASE + k (see kernel_uid).
KERNEL_UID_BASE = 3_000_000
SUBMITTED = "submitted"
STUDENT_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass
class Submission:
    """One student's notebook for one unit (`unit` None: to be read from its metadata)."""

    student: str
    unit: str | None
    path: Path
    renamed_from: str = ""
    """The file or folder name when its plain id was taken by another student's (see
    `student_ids`); the class run warns about each one."""


def student_id(name: str) -> str:
    """A safe nbgrader student id from a file or folder name: 'Jane Doe' -> 'Jane_Doe'."""
    return STUDENT_CHARS.sub("_", name).strip("_") or "student"


def student_ids(names: list[str]) -> dict[str, str]:
    """A distinct student id for each distinct name. Names that `student_id` maps to one id
    (`bob` and `bob!`, or `Bob` and `bob` on a case-insensitive disk) would share a gradebook
    row and one score would be lost: all of them but one (the first that is already its own
    plain id) get a suffix from a hash of the name.

    Example: student_ids(["bob", "bob!"]) -> {"bob": "bob", "bob!": "bob-be1b4959"}
    """
    groups: dict[str, list[str]] = {}
    for name in dict.fromkeys(names):
        groups.setdefault(student_id(name).lower(), []).append(name)
    ids = {}
    for group in groups.values():
        keeper = next((name for name in group if name == student_id(name)), group[0])
        for name in group:
            suffix = hashlib.sha256(name.encode()).hexdigest()[:8]
            ids[name] = student_id(name) + ("" if name == keeper else f"-{suffix}")
    if len({i.lower() for i in ids.values()}) != len(ids):
        raise CourseError(f"student names that cannot be told apart: {sorted(ids)}")
    return ids


def discover(class_dir: Path, unit: str | None, out: Path) -> list[Submission]:
    """The submissions in `class_dir` (nbgrader layout or a flat folder), sorted, each student
    with a distinct id (`student_ids`)."""
    class_dir = class_dir.resolve()
    base = class_dir / SUBMITTED if (class_dir / SUBMITTED).is_dir() else class_dir
    found: list[tuple[str, str | None, Path]] = []
    for entry in sorted(base.iterdir()):
        if entry.resolve() == out.resolve() or entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix == ".ipynb":
            found.append((entry.stem, unit, entry))
        elif entry.is_dir():
            for unit_dir in sorted(p for p in entry.iterdir() if p.is_dir()):
                if unit and unit_dir.name != unit:
                    continue
                named = unit_dir / f"{unit_dir.name}.ipynb"
                notebooks = [named] if named.is_file() else sorted(unit_dir.glob("*.ipynb"))
                path = notebooks[0] if notebooks else named
                found.append((entry.name, unit_dir.name, path))
    ids = student_ids([name for name, _, _ in found])
    return [
        Submission(ids[name], unit, path, "" if ids[name] == student_id(name) else name)
        for name, unit, path in found
    ]


def job_key(sub: Submission, root: Path, limits: Limits, *, sandboxed: bool) -> str:
    """What a grade depends on: the submission's bytes, its unit's source, the limits, and
    whether its kernel runs in the sandbox (where reading other files or the network fails)."""
    from grader.autograde import source_hash

    digest = hashlib.sha256(sub.path.read_bytes() if sub.path.is_file() else b"<missing>")
    digest.update(json.dumps(limits.to_dict(), sort_keys=True).encode())
    digest.update(b"sandboxed" if sandboxed else b"plain")
    if sub.unit:
        digest.update(source_hash(root, sub.unit).encode())
    return digest.hexdigest()


@dataclass
class ClassRun:
    """The output folder of a class run and the course it grades against."""

    root: Path
    out: Path
    limits: Limits
    jobs: int
    sandbox: str = "auto"
    """`--sandbox` mode of the workers' kernels (grader.kernel.configure_sandbox)."""
    hidden: tuple[str, ...] = ()
    """Folders the kernels must not see, wherever they lie: the class folder and the output."""

    @property
    def sandboxed(self) -> bool:
        """Whether the workers' kernels will run under bubblewrap ("auto" where it works)."""
        from minexec.sandbox import sandbox_problem

        return self.sandbox != "off" and sandbox_problem() is None

    @property
    def db(self) -> Path:
        return self.out / "gradebook.db"

    def result_file(self, sub: Submission) -> Path:
        return self.out / "results" / sub.student / f"{sub.unit or '_unknown'}.json"

    def cached(self, sub: Submission, key: str) -> NotebookResult | None:
        """The stored result of an unchanged submission, else None."""
        path = self.result_file(sub)
        if not path.is_file():
            return None
        stored = json.loads(path.read_text())
        return NotebookResult.from_dict(stored["result"]) if stored.get("key") == key else None

    def store(self, sub: Submission, key: str, result: NotebookResult) -> None:
        path = self.result_file(sub)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"key": key, "student": sub.student, "result": result.to_dict()}
        path.write_text(json.dumps(payload, indent=1))

    def prepare_unit(self, unit: str) -> None:
        """Make sure the class gradebook knows `unit` (and the worker template is built)."""
        from grader.autograde import gradebook_template
        from grader.course import generate_in
        from grader.gradebook import has_unit

        template = gradebook_template(self.root, unit)
        self.out.mkdir(parents=True, exist_ok=True)
        if not self.db.exists():
            shutil.copyfile(template, self.db)
        elif not has_unit(self.db, unit):
            with tempfile.TemporaryDirectory(prefix="agents-class-") as scratch:
                generate_in(self.root, unit, Path(scratch), self.db)


def resolve_units(subs: list[Submission], root: Path) -> dict[int, str]:
    """Read each submission's unit up front (cheap, no kernel): index -> error for the ones
    that cannot be graded at all (not JSON, stripped, another unit, nothing submitted)."""
    from grader.course import list_units

    errors, known = {}, set(list_units(root))
    for i, sub in enumerate(subs):
        try:
            if not sub.path.is_file():
                raise SubmissionError(f"no notebook submitted in {sub.path.parent}")
            _, nb = read_notebook(sub.path)
            sub.unit = identify_unit(nb, sub.path, root, expected=sub.unit)
        except SubmissionError as error:
            errors[i] = str(error)
            if sub.unit not in known:
                sub.unit = None  # a folder name that is no unit: nothing to record it under
    return errors


def kernel_uid(slot: int) -> int:
    """The user the kernels of worker slot `slot` run as when the grader is root: one per slot,
    so that each kernel's process limit (RLIMIT_NPROC counts per user) is its own, and a fork
    bomb in one submission cannot take the threads that the kernel next to it needs. No account
    needs to exist for these ids; they lie far above login users and common container ranges.

    Example: kernel_uid(0) -> 3000000
    """
    return KERNEL_UID_BASE + slot


@dataclass
class Running:
    """A worker process grading one submission, in worker slot `slot`."""

    index: int
    process: subprocess.Popen
    scratch: Path
    started: float
    slot: int


def start_worker(run: ClassRun, index: int, sub: Submission, slot: int = 0) -> Running:
    """Launch `python -m grader.worker` on `sub` in a session of its own, as worker `slot`."""
    scratch = Path(tempfile.mkdtemp(prefix="agents-class-job-"))
    job = {
        "root": str(run.root),
        "unit": sub.unit,
        "student": sub.student,
        "path": str(sub.path),
        "limits": run.limits.to_dict(),
        "sandbox": run.sandbox,
        "hidden": list(run.hidden),
        "uid": kernel_uid(slot),
        "scratch": str(scratch / "course"),
    }
    (scratch / "job.json").write_text(json.dumps(job))
    process = subprocess.Popen(
        [sys.executable, "-m", "grader.worker", str(scratch / "job.json")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=(scratch / "worker.log").open("wb"),
        start_new_session=True,  # so that killing it takes its kernel along
    )
    return Running(index, process, scratch, time.monotonic(), slot)


def finish_worker(run: ClassRun, job: Running, sub: Submission, killed: str = "") -> NotebookResult:
    """Collect a finished (or `killed`, saying why) worker's result and merge its gradebook."""
    from grader.gradebook import merge_submission, record_zero

    result_file = job.scratch / "result.json"
    if result_file.is_file():
        result = NotebookResult.from_dict(json.loads(result_file.read_text()))
    else:
        status = job.process.returncode
        why = f"signal {-status}" if status and status < 0 else f"status {status}"
        error = killed or f"the grader died ({why})"
        result = NotebookResult(sub.unit or "", str(sub.path), error=error)
    worker_db = job.scratch / "course" / "gradebook.db"
    if sub.unit and not result.error and worker_db.is_file():
        merge_submission(run.db, worker_db, sub.unit, sub.student)
        graded = job.scratch / "course" / "autograded" / sub.student / sub.unit
        target = run.out / "autograded" / sub.student / f"{sub.unit}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(graded / f"{sub.unit}.ipynb", target)
    elif sub.unit and run.db.exists():
        record_zero(run.db, sub.unit, sub.student)
    shutil.rmtree(job.scratch, ignore_errors=True)
    return result


def run_workers(run: ClassRun, todo: list[tuple[int, Submission]], on_done) -> None:  # type: ignore[no-untyped-def]
    """Grade `todo` with at most `run.jobs` workers at once; `on_done(index, result)` each."""
    pending, running = list(todo), []
    budget = run.limits.notebook_timeout + WORKER_SLACK_S
    subs = dict(todo)
    free_slots = list(range(run.jobs))
    while pending or running:
        while pending and free_slots:
            index, sub = pending.pop(0)
            running.append(start_worker(run, index, sub, free_slots.pop(0)))
        time.sleep(POLL_S)
        for job in list(running):
            killed = ""
            if job.process.poll() is None:
                if time.monotonic() - job.started <= budget:
                    continue
                os.killpg(job.process.pid, signal.SIGKILL)
                job.process.wait()
                killed = f"grading ran past {budget} s"
            running.remove(job)
            free_slots.append(job.slot)
            on_done(job.index, finish_worker(run, job, subs[job.index], killed))


def grade_class(run: ClassRun, subs: list[Submission], progress=None) -> list[NotebookResult]:  # type: ignore[no-untyped-def]
    """Grade every submission (resuming unchanged ones); results in the order of `subs`.
    `progress(result)` is called as each one is done."""
    results: list[NotebookResult | None] = [None] * len(subs)
    errors = resolve_units(subs, run.root)
    sandboxed = run.sandboxed
    keys = {i: job_key(s, run.root, run.limits, sandboxed=sandboxed) for i, s in enumerate(subs)}

    def done(index: int, result: NotebookResult) -> None:
        results[index] = result
        run.store(subs[index], keys[index], result)
        if progress:
            progress(result)

    for unit in sorted({s.unit for s in subs if s.unit}):
        run.prepare_unit(unit)
    todo = []
    for i, sub in enumerate(subs):
        if (cached := run.cached(sub, keys[i])) is not None:
            results[i] = cached
            if progress:
                progress(cached)
        elif i in errors:
            if sub.unit and run.db.exists():
                from grader.gradebook import record_zero

                record_zero(run.db, sub.unit, sub.student)
            done(i, NotebookResult(sub.unit or "", str(sub.path), error=errors[i]))
        else:
            todo.append((i, sub))
    run_workers(run, todo, done)
    assert all(r is not None for r in results), "every submission gets a result"
    return results  # type: ignore[return-value]


def main_class(args, limits: Limits) -> int:  # type: ignore[no-untyped-def]
    """`agents-grade --class DIR`: grade, export CSV, print the summary; 0 when done."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from grader.course import find_course_root
    from grader.report import export_csv, summary_table

    console = Console(stderr=args.json)
    class_dir = args.class_dir.resolve()
    if not class_dir.is_dir():
        console.print(f"error: {class_dir} is not a folder", markup=False)
        return 2
    out = (args.out or class_dir / "grades").resolve()
    try:
        root = args.root.resolve() if args.root else find_course_root()
        jobs = max(1, args.jobs or os.cpu_count() or 1)
        hidden = (str(class_dir), str(out))
        run = ClassRun(root, out, limits, jobs, sandbox=args.sandbox, hidden=hidden)
        subs = discover(class_dir, args.unit, out)
        for sub in subs:
            if sub.renamed_from:
                print(
                    f"warning: {sub.renamed_from!r} and another submission map to one student "
                    f"id; {sub.renamed_from!r} is graded as {sub.student!r}",
                    file=sys.stderr,
                )
        columns = [*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn()]
        with Progress(*columns, TimeElapsedColumn(), console=Console(stderr=True)) as bar:
            task = bar.add_task("grading", total=len(subs))
            results = grade_class(run, subs, lambda result: bar.advance(task))
    except CourseError as error:
        console.print(f"error: {error}", markup=False)
        return 2
    csv_path = export_csv(
        [(s.student, r) for s, r in zip(subs, results, strict=True)], out / "grades.csv"
    )
    if args.json:
        rows = [{"student": s.student, **r.to_dict()} for s, r in zip(subs, results, strict=True)]
        print(json.dumps(rows, indent=1))
    console.print(summary_table(results))
    summary = f"{len(results)} submissions: grades in {csv_path}, gradebook {run.db}"
    console.print(summary, markup=False)
    return 0
