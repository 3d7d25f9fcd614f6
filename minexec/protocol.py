"""The wire format between a ProcessInterpreter and its worker: framed pickles, read safely.

Every message is an 8-byte big-endian length followed by that many bytes of a pickled dict.
The parent unpickles what the child sends with `SafeUnpickler`, which accepts plain data only,
so a child (which runs untrusted code) can never make the parent call anything.

Example:
    >>> buffer = io.BytesIO()
    >>> send(buffer, {"op": "ready"})
    >>> _ = buffer.seek(0)
    >>> safe_loads(receive_bytes(buffer))
    {'op': 'ready'}
"""

from __future__ import annotations

import io
import pickle
import struct
from typing import Any, BinaryIO

_HEADER = struct.Struct(">Q")

SAFE_GLOBALS = (
    {("builtins", name) for name in ("set", "frozenset", "complex", "bytearray", "slice", "range")}
    | {("datetime", name) for name in ("date", "datetime", "time", "timedelta", "timezone")}
    | {("decimal", "Decimal"), ("fractions", "Fraction"), ("collections", "OrderedDict")}
)
"""The only classes the parent lets a child's pickle name: plain data, no callables."""


class SafeUnpickler(pickle.Unpickler):
    """Unpickles plain data only: a child cannot make the parent call anything."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in SAFE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not plain data")


def safe_loads(data: bytes) -> Any:
    return SafeUnpickler(io.BytesIO(data)).load()


def send(stream: BinaryIO, message: dict) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def receive_bytes(stream: BinaryIO) -> bytes | None:
    """One framed message, or None at end of stream."""
    header = _read_exact(stream, _HEADER.size)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    return _read_exact(stream, size)


def _read_exact(stream: BinaryIO, size: int) -> bytes | None:
    """Read exactly `size` bytes (an unbuffered pipe may return fewer per read)."""
    chunks, missing = [], size
    while missing:
        chunk = stream.read(missing)
        if not chunk:
            return None
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def to_blob(value: Any) -> bytes | None:
    """Pickle a value for the parent, or None if it cannot be pickled at all."""
    try:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - anything unpicklable travels as its repr
        return None
