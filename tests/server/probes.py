"""Probe tools for the protocol-era tests: which connection a request came on, a log line, progress steps.

Declared like any toolset module and served next to the example toolset of ``conftest.example_server``.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Literal

from mcp.server.connection import Connection
from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel

from mcp_storyboard.server.client_log import report_progress
from mcp_storyboard.server.legacy import connection_of
from mcp_storyboard.server.registry import ToolRegistry, collect

from .conftest import EXAMPLE, example_server

probes = ToolRegistry("storyboard")
CONNECTIONS: dict[int, Connection] = {}
"""Every connection a ``which_connection`` call came on, by ``id``."""


class Probe(BaseModel):
    value: int


@probes(title="Which connection", operation="read")
async def which_connection(ctx: Context) -> Probe:
    """The id of the connection this request came on."""
    connection = connection_of(ctx.request_context.session)
    CONNECTIONS[id(connection)] = connection
    return Probe(value=id(connection))


@probes(title="Log a line", operation="read")
async def log_line(level: Literal["info", "warning", "error"], message: str, ctx: Context) -> Probe:
    """Log ``message`` on a server logger at ``level``."""
    logging.getLogger("mcp_storyboard.probe").log(logging.getLevelNamesMapping()[level.upper()], message)
    return Probe(value=len(message))


@probes(title="Step through", operation="read")
async def step_through(steps: int, ctx: Context) -> Probe:
    """Report progress once per step."""
    for done in range(1, steps + 1):
        await report_progress(ctx, done, steps, f"step {done} of {steps}")
    return Probe(value=steps)


PROBES = collect([sys.modules[__name__]])


def probe_server() -> MCPServer[Any]:
    """The example server plus the probe tools."""
    return example_server(specs=[*EXAMPLE.tools, *PROBES.tools])
