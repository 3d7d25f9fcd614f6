"""An MCP server over the course's revenue table (``data/revenue_by_country.csv``).

Run it as ``python -m minagent.servers.revenue``: it speaks MCP over stdin/stdout and
offers three tools, written with the official SDK's ``MCPServer`` so that the schemas a
client sees come from the type hints below.

Example (from Python, through minagent):
    >>> import sys
    >>> from minagent.mcp import mcp_tools
    >>> with mcp_tools(sys.executable, ["-m", "minagent.servers.revenue"]) as tools:
    ...     by_name = {t.name: t for t in tools}
    ...     by_name["revenue"](country="France", period="after")
    107857.06
"""

from __future__ import annotations

import csv
from functools import cache
from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from minagent.data import data_path

TABLE = "revenue_by_country.csv"

# The argument types and descriptions below become the tools' JSON schemas.
Country = Annotated[str, Field(description="A country name as listed by list_countries.")]
Period = Annotated[
    Literal["before", "after"], Field(description="Before or after the price change.")
]

server = MCPServer(
    "revenue",
    instructions="Revenue per country, before and after the price change, from one CSV table.",
    # Quiet: a client shows our stderr only when something goes wrong.
    log_level="WARNING",
)


@cache
def _table() -> dict[str, dict[str, float]]:
    """``{"France": {"before": 240704.63, "after": 107857.06}, ...}``, read once."""
    with data_path(TABLE).open(newline="") as file:
        return {
            row["country"]: {"before": float(row["before"]), "after": float(row["after"])}
            for row in csv.DictReader(file)
        }


def _row(country: str) -> dict[str, float]:
    # An unknown name is the model's mistake: say which names exist so it can retry.
    table = _table()
    if country not in table:
        raise ToolError(f"unknown country {country!r}; known countries: {', '.join(table)}")
    return table[country]


@server.tool()
def list_countries() -> list[str]:
    """List the countries in the revenue table, largest revenue first."""
    return list(_table())


@server.tool()
def revenue(country: Country, period: Period) -> float:
    """Revenue of one country in one period ("before" or "after" the price change)."""
    return _row(country)[period]


@server.tool()
def revenue_change(country: Country) -> float:
    """Change in revenue of one country, after minus before (negative means it fell)."""
    row = _row(country)
    return round(row["after"] - row["before"], 2)


def main() -> None:
    """Serve the tools over stdio until the client closes stdin."""
    server.run("stdio")


if __name__ == "__main__":
    main()
