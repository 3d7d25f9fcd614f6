"""Small MCP servers shipped with the course, each run as ``python -m minagent.servers.<name>``.

They are ordinary servers written with the official ``mcp`` SDK, so any MCP client can
use them; the course reaches them through ``minagent.mcp.mcp_tools``.
"""
