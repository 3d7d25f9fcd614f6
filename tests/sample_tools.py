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
