"""Which modules code may import, and which module functions are replaced by guarded versions.

An import is allowed when the module's full name is authorised: exactly ("math"), by a
wildcard ("numpy.*" allows numpy and every numpy submodule) or by "*". A submodule needs its
own authorisation: "numpy" alone does not allow `numpy.linalg`.

"*" is an allowlist, not "everything minus a deny list": it means SAFE_STDLIB, the modules
whose every public function was read for files, processes, environment variables and
attribute names taken as data (wrappers.py guards the ones that needed it). A deny list
fails open: `posixpath.expandvars` read the environment, `argparse.FileType` and
`tokenize.open` opened files, `pipes` ran shell commands, and each was one more name to
forget. A module that is not on the list has to be named on purpose. Modules in
`NEVER_IMPORTABLE` stay out even when named: they reach the file system, the network, other
processes, or the interpreter itself.

Example:
    >>> policy = ImportPolicy(["math", "numpy.*"])
    >>> policy.allows("math"), policy.allows("numpy.linalg"), policy.allows("os")
    (True, True, False)
    >>> ImportPolicy(["*"]).allows("argparse")
    False
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from types import ModuleType

from .errors import InterpreterError

NEVER_IMPORTABLE = frozenset(
    {
        "builtins", "os", "posix", "nt", "sys", "subprocess", "ctypes", "cffi", "importlib",
        "imp", "inspect", "gc", "io", "pathlib", "shutil", "socket", "ssl", "select",
        "selectors", "multiprocessing", "concurrent", "threading", "signal", "pty", "tty",
        "code", "codeop", "marshal", "pickle", "shelve", "dill", "types", "traceback",
        "tempfile", "resource", "asyncio", "http", "urllib", "ftplib", "smtplib", "poplib",
        "imaplib", "telnetlib", "xmlrpc", "socketserver", "webbrowser", "requests", "httpx",
        "runpy", "pkgutil", "site", "sysconfig", "mmap", "fcntl", "glob", "fileinput",
        "zipimport", "linecache", "tracemalloc", "faulthandler", "atexit", "weakref",
        "copyreg", "dis", "sqlite3", "dbm", "zipfile", "tarfile", "gzip", "bz2",
        "lzma", "logging", "warnings", "platform", "getpass", "pdb", "bdb", "trace",
        "cProfile", "profile", "timeit", "doctest", "pydoc", "unittest", "idlelib", "tkinter",
        "turtle", "ensurepip", "venv", "distutils", "setuptools", "pip", "sre_compile",
        "sre_parse", "sre_constants", "codecs", "encodings", "mimetypes", "netrc", "mailbox",
        "uuid", "zlib", "posixpath", "ntpath", "genericpath", "argparse", "tokenize", "pipes",
        "minagent", "minexec", "grader",
    }
)  # fmt: skip
"""Top-level packages refused even when authorised: files, network, processes, introspection,
modules that run strings as code (doctest, timeit, pdb), the regex internals (which would
skip the backtracking check), and the course's own packages (minagent, minexec, grader: the
interpreter must stay out of reach)."""

SAFE_STDLIB = (
    "math", "cmath", "random", "statistics", "collections", "itertools", "functools",
    "operator", "datetime", "time", "re", "json", "string", "unicodedata", "fractions",
    "decimal", "heapq", "bisect", "textwrap", "copy", "dataclasses", "enum", "typing", "abc",
)  # fmt: skip
"""What "*" authorises: standard modules with no door to files, processes, the environment
or the interpreter, whose functions that build big values or take attribute names as data
are guarded (wrappers.py). Adding a module here means reading all of its public functions."""


class ImportPolicy:
    """The authorised module names; answers `allows(name)` and performs guarded imports."""

    def __init__(self, authorized: Iterable[str]) -> None:
        self.authorized = tuple(authorized)
        self.exact = {name for name in self.authorized if not name.endswith("*")}
        self.prefixes = tuple(name[:-1] for name in self.authorized if name.endswith(".*"))
        if "*" in self.authorized:
            self.exact |= set(SAFE_STDLIB)

    def allows(self, name: str) -> bool:
        top = name.split(".")[0]
        if top in NEVER_IMPORTABLE or any(part.startswith("_") for part in name.split(".")):
            return False
        if name in self.exact:
            return True
        return any(name == p[:-1] or name.startswith(p) for p in self.prefixes)

    def refusal(self, name: str, how: str = "Import of") -> InterpreterError:
        top = name.split(".")[0]
        if top in NEVER_IMPORTABLE:
            reason = f"'{top}' is never available in the sandbox (files, processes or internals)"
        elif "*" in self.authorized:
            reason = 'it is not authorised, and "*" means only the modules in SAFE_STDLIB'
        else:
            reason = "it is not authorised"
        allowed = ", ".join(self.authorized) if self.authorized else "none"
        return InterpreterError(
            f"{how} '{name}' is not allowed: {reason}. Authorised imports: {allowed}. "
            "Use one of those or plain Python."
        )

    def import_module(self, name: str) -> ModuleType:
        if not self.allows(name):
            raise self.refusal(name)
        try:
            return importlib.import_module(name)
        except ImportError as error:
            raise InterpreterError(f"Module '{name}' could not be imported: {error}") from None

    def import_statement(self, name: str, bind_submodule: bool) -> ModuleType:
        """`import a.b` returns a (top package) and `import a.b as c` returns a.b."""
        module = self.import_module(name)
        return module if bind_submodule else importlib.import_module(name.split(".")[0])

    def check_module_value(self, owner: str, attr: str, module: ModuleType) -> ModuleType:
        """A module reached as an attribute (`statistics.sys`) must be authorised itself."""
        name = getattr(module, "__name__", "?")
        if not self.allows(name):
            raise self.refusal(f"{owner}.{attr}", how="Access to module")
        return module
