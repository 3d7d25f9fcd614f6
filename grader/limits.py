"""The limits a graded notebook runs under, in one typed object.

Example:
    >>> Limits(cell_timeout=5).cell_timeout
    5
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

GiB = 1024**3
MiB = 1024**2

# Units run top to bottom in under a minute on 2 cores; a cell gets twice that on a slow laptop.
CELL_TIMEOUT_S = 120
NOTEBOOK_TIMEOUT_S = 600
MEMORY_BYTES = 4 * GiB
FILE_SIZE_BYTES = 256 * MiB
# ipykernel runs about 10 threads, and each thread counts; a fork bomb stops here.
MAX_PROCESSES = 256
CELL_OUTPUT_BYTES = 256 * 1024
MESSAGE_CHARS = 2000
# `agents-grade --sandbox`: bubblewrap where it works, never, or fail without it (grader.kernel).
SANDBOX_MODES = ("auto", "off", "require")


@dataclass(frozen=True)
class Limits:
    """What a submission may use while it is graded."""

    cell_timeout: int = CELL_TIMEOUT_S
    """Seconds one cell may run; then the kernel is interrupted (and killed if it ignores that)."""
    notebook_timeout: int = NOTEBOOK_TIMEOUT_S
    """Seconds the whole notebook may run; then the kernel's process group is killed."""
    memory_bytes: int = MEMORY_BYTES
    """Address space of the kernel (RLIMIT_AS): allocating past it raises MemoryError."""
    file_size_bytes: int = FILE_SIZE_BYTES
    """Largest file the kernel may write (RLIMIT_FSIZE)."""
    max_processes: int = MAX_PROCESSES
    """Processes and threads of the kernel's user (RLIMIT_NPROC). Applied only where the kernel
    runs as a user of its own (graded as root, in the sandbox): for anyone else the count would
    include every process of the grader's user."""
    cell_output_bytes: int = CELL_OUTPUT_BYTES
    """Output kept per cell; the rest is dropped with a note (a cell may print 100 MB)."""

    def to_dict(self) -> dict[str, int]:
        """The limits as a plain dict (to pass them to a worker process)."""
        return asdict(self)
