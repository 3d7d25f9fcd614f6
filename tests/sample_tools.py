"""Tools that several agent tests share: small, typed, documented, and easy to check."""

from minagent.tools import tool


@tool
def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: First number.
        b: Second number.
    """
    return a + b


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers.

    Args:
        a: First number.
        b: Second number.
    """
    return a * b


@tool
def interrupt() -> str:
    """Stop the program as Ctrl-C would (tests check what is cleaned up after it)."""
    raise KeyboardInterrupt


TOOLS = [add, multiply]
"""Both tools, as a list: what ``minagent run --tools sample_tools:TOOLS`` loads."""
