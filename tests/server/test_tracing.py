"""The SDK's per-request span runs only while OpenTelemetry is configured (``server/tracing.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp.server._otel import OpenTelemetryMiddleware
from mcp.server.mcpserver import MCPServer

from mcp_storyboard.server import tracing
from mcp_storyboard.server.build import build_server
from mcp_storyboard.server.catalog import no_services

pytestmark = pytest.mark.anyio


def test_the_sdk_still_puts_its_span_middleware_first_and_the_built_server_wraps_it() -> None:
    assert any(isinstance(m, OpenTelemetryMiddleware) for m in MCPServer("bare").middleware)  # pins the SDK
    server = build_server(no_services, prompts=[], installers=[])
    assert not any(isinstance(m, OpenTelemetryMiddleware) for m in server.middleware)
    assert getattr(server.middleware[0], "__name__", "") == "trace_if_configured"


def test_without_a_tracer_provider_tracing_is_not_configured() -> None:
    assert tracing.tracing_configured() is False  # the test process sets no provider


async def test_the_span_middleware_runs_exactly_while_tracing_is_configured() -> None:
    seen: list[str] = []
    configured = False

    async def spans(ctx: Any, call_next: Any) -> Any:  # stands in for the SDK's span middleware
        seen.append(ctx.method)
        return await call_next(ctx)

    server = build_server(no_services, prompts=[], installers=[])
    server.middleware[0] = tracing.when_configured(spans, lambda: configured)
    async with Client(server) as client:
        await client.call_tool("get_clip", {"clip_id": 42})  # refused by validation: no services needed
        assert seen == []
        configured = True
        await client.call_tool("get_clip", {"clip_id": 42})
        assert seen == ["tools/call"]
