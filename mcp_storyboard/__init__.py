"""mcp-storyboard: an MCP server for AI storyboarding over MongoDB."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from mcp_storyboard.config import Settings

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

try:
    __version__ = version("mcp-storyboard")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["Settings", "__version__", "create_server"]


def create_server(settings: Settings | None = None, **options: Any) -> MCPServer:
    """The configured MCP server (not yet running); see ``mcp_storyboard.server.app``."""
    from mcp_storyboard.server.app import create_server as _create

    return _create(settings or Settings.from_env(), **options)
