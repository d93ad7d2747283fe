"""The one module that reaches into the mcp SDK's private attributes (SDK 2.3 has no public way to these).

``tests/server/test_legacy.py`` pins both, so an SDK upgrade that moves them fails loudly instead of silently
dropping what ``legacy_methods`` serves to 2025-11-25 clients:

- ``MCPServer._lowlevel_server``: the low-level ``Server``; its public ``add_request_handler`` serves a method, and
  its ``initialize`` answer then advertises ``resources.subscribe`` and ``logging`` (derived from the handlers).
- ``ServerSession._connection``: ``ctx.session`` is a new object per request, while the ``Connection`` lives as
  long as the client's connection (one per stdio pipe, in-process client or stateful HTTP session). Subscriptions
  and the log level are keyed by it, and its ``exit_stack`` drops them when the connection closes.
"""

from __future__ import annotations

from typing import Any

from mcp.server.connection import Connection
from mcp.server.lowlevel import Server
from mcp.server.mcpserver import MCPServer
from mcp.server.session import ServerSession


class SDKChangedError(RuntimeError):
    """The installed mcp SDK no longer has an attribute this adapter relies on."""


def lowlevel_server(server: MCPServer[Any]) -> Server[Any]:
    """The low-level ``Server`` under ``server`` (private in SDK 2.3).

    Raises:
        SDKChangedError: the SDK renamed or retyped the attribute.
    """
    found = getattr(server, "_lowlevel_server", None)
    if not isinstance(found, Server):
        raise SDKChangedError("MCPServer._lowlevel_server is gone: update mcp_storyboard/server/legacy.py")
    return found


def connection_of(session: ServerSession) -> Connection:
    """The connection a request's session belongs to (private in SDK 2.3), stable for the connection's life.

    Raises:
        SDKChangedError: the SDK renamed or retyped the attribute.
    """
    found = getattr(session, "_connection", None)
    if not isinstance(found, Connection):
        raise SDKChangedError("ServerSession._connection is gone: update mcp_storyboard/server/legacy.py")
    return found
