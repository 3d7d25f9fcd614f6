"""Data files the course uses, shipped in the package so a clone needs nothing else."""

from importlib.resources import files
from pathlib import Path


def data_path(name: str) -> Path:
    """Return the path of a data file shipped with minagent.

    Example:
        >>> data_path("revenue_by_country.csv").read_text().splitlines()[0]
        'country,before,after'
    """
    path = Path(str(files(__package__) / name))
    if not path.is_file():
        available = sorted(p.name for p in path.parent.iterdir() if not p.name.startswith("_"))
        raise FileNotFoundError(f"no data file {name!r}; available: {', '.join(available)}")
    return path
