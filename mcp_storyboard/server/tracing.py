"""OpenTelemetry spans only when OpenTelemetry is configured.

The SDK wraps every request in a span (``OpenTelemetryMiddleware``, first in ``MCPServer.middleware``). Without a
configured tracer provider the span records nothing, yet creating it, attaching its context and extracting a trace
context cost about 0.14 ms of a ~1.1 ms ``tools/call`` (in-process, measured in ``tests/benchmarks/bench_speed.py``):
a tenth of what MCP adds to a read. So the middleware is asked per request whether a provider is configured (the
global one set by ``trace.set_tracer_provider``, the OpenTelemetry distro or ``OTEL_PYTHON_TRACER_PROVIDER``); if so,
every request is traced exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp.server._otel import OpenTelemetryMiddleware
from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from opentelemetry import trace


def tracing_configured() -> bool:
    """Whether spans would be recorded: a tracer provider is set (the API's default proxy records nothing)."""
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def when_configured(inner: ServerMiddleware[Any], configured: Callable[[], bool] = tracing_configured) -> ServerMiddleware[Any]:
    """``inner`` for requests served while ``configured()``; the others go straight on."""

    async def trace_if_configured(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if configured():
            return await inner(ctx, call_next)
        return await call_next(ctx)

    return trace_if_configured


def trace_only_when_configured(server: MCPServer[Any]) -> None:
    """Put the SDK's span middleware on ``server`` behind :func:`when_configured`."""
    server.middleware[:] = [when_configured(m) if isinstance(m, OpenTelemetryMiddleware) else m
                            for m in server.middleware]
