"""Serve 2025-11-25 clients the methods SDK 2.3 leaves out: ``resources/subscribe``, ``resources/unsubscribe`` and
``logging/setLevel`` (the SDK answers them -32601 unless a handler is registered on the low-level server, which
``legacy`` reaches). Once registered, the ``initialize`` answer advertises ``resources.subscribe`` and ``logging``.

The handlers answer only on handshake-era connections: the SDK refuses these methods at 2026-07-28 before any
handler runs (2026-era clients use ``subscriptions/listen`` and a per-request log level).
"""

from __future__ import annotations

from typing import Any

import pydantic
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.shared.uri_template import UriTemplate
from mcp.types import (
    INVALID_PARAMS,
    EmptyResult,
    RequestParams,
    SetLevelRequestParams,
    SubscribeRequestParams,
    UnsubscribeRequestParams,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from mcp_storyboard.server.client_log import forward_logs, install_log_forwarding, set_connection_level
from mcp_storyboard.server.errors import format_validation_error
from mcp_storyboard.server.legacy import connection_of, lowlevel_server
from mcp_storyboard.server.subscriptions import LegacySubscriptions, TooManySubscriptionsError, attach_subscriptions


def install_legacy(server: MCPServer[Any]) -> LegacySubscriptions:
    """Serve the 2025-era subscription and log-level methods on ``server`` and forward its logs to clients.

    Call before any client connects: the ``initialize`` answer advertises the capabilities of the handlers
    registered at that moment.
    """
    lowlevel = lowlevel_server(server)
    registry = attach_subscriptions(server)

    async def subscribe(ctx: ServerRequestContext[Any, Any], params: SubscribeRequestParams) -> EmptyResult:
        await _check_resource_uri(server, params.uri)
        connection = connection_of(ctx.session)
        try:
            first = registry.add(connection, ctx.session, params.uri)
        except TooManySubscriptionsError as exc:
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"[invalid-state] this connection already holds {exc.limit} subscriptions; "
                "unsubscribe from some (resources/unsubscribe) or subscribe to a project's URI, which hears about "
                "everything in the project",
            ) from None
        if first:
            # Once per connection: its subscriptions go when it closes, however it closes.
            connection.exit_stack.callback(registry.closed, connection)
        return EmptyResult()

    async def unsubscribe(ctx: ServerRequestContext[Any, Any], params: UnsubscribeRequestParams) -> EmptyResult:
        registry.remove(connection_of(ctx.session), params.uri)  # unsubscribing twice is not an error
        return EmptyResult()

    async def set_level(ctx: ServerRequestContext[Any, Any], params: SetLevelRequestParams) -> EmptyResult:
        set_connection_level(connection_of(ctx.session), params.level)
        return EmptyResult()

    lowlevel.add_request_handler("resources/subscribe", SubscribeRequestParams, subscribe)
    lowlevel.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, unsubscribe)
    lowlevel.add_request_handler("logging/setLevel", SetLevelRequestParams, set_level)
    install_log_forwarding()
    server.middleware.extend([forward_logs, _explain_bad_params])
    return registry


PARAMS: dict[str, type[RequestParams]] = {
    "resources/subscribe": SubscribeRequestParams,
    "resources/unsubscribe": UnsubscribeRequestParams,
    "logging/setLevel": SetLevelRequestParams,
}


async def _explain_bad_params(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Name the field and the allowed values where SDK 2.3 answers a bare "Invalid request parameters"."""
    model = PARAMS.get(ctx.method)
    if model is not None and ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
        try:
            model.model_validate({} if ctx.params is None else ctx.params, by_name=False)
        except pydantic.ValidationError as exc:
            raise MCPError(code=INVALID_PARAMS, message=format_validation_error(exc)) from None
    return await call_next(ctx)


async def _check_resource_uri(server: MCPServer[Any], uri: str) -> None:
    """Refuse a subscription to a URI no resource or template of ``server`` serves, naming the ones it does."""
    statics = [str(r.uri) for r in await server.list_resources()]
    templates = [t.uri_template for t in await server.list_resource_templates()]
    if uri in statics or any(UriTemplate.parse(t).match(uri) is not None for t in templates):
        return
    served = ", ".join(sorted(statics + templates))
    raise MCPError(
        code=INVALID_PARAMS,
        message=f"[invalid-argument] uri: '{uri[:200]}' is not a resource of this server; "
        f"subscribe to one of: {served}",
        data={"uri": uri[:200]},
    )
