"""Process bookkeeping shared by tests that start servers or agents: what is still alive."""

import psutil


def live_children() -> set[int]:
    """Pids of this process's descendants that are alive (zombies do not count)."""
    alive = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE:
                alive.add(child.pid)
        except psutil.NoSuchProcess:  # it ended while we looked: not a survivor
            pass
    return alive
