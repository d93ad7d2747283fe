"""The serving lifetime's services for handlers the SDK calls without a ``Context``.

Static resources and completion handlers get no ``ctx`` from SDK 2.3, so a middleware binds each request's
lifespan state (our services container) to a context variable for the duration of the request. Tools use
``get_services(ctx)`` instead; both read the same object.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, cast

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

if TYPE_CHECKING:
    from mcp_storyboard.services.container import Services

_lifespan_state: ContextVar[Any] = ContextVar("mcp_storyboard_services")


async def bind_services(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Middleware: make this request's services available to :func:`current_services`."""
    token = _lifespan_state.set(ctx.lifespan_context)
    try:
        return await call_next(ctx)
    finally:
        _lifespan_state.reset(token)


def current_services() -> Services:
    """The services container serving the current request.

    Raises:
        LookupError: called outside a request (no middleware bound it).
    """
    return cast("Services", _lifespan_state.get())
