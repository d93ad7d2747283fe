"""The serving lifetime's services: opened in the background, bound to each request that needs them.

The server answers ``initialize`` and ``tools/list`` while its database still opens (the embedded daemon boots,
migrations and indexes are checked): the lifespan yields :class:`OpeningServices` at once, and the middleware
:func:`bind_services` makes every other request wait until the services are open, then hands it the services
themselves (``ctx.lifespan_context``, read by ``get_services(ctx)`` in tools). Static resources and completion
handlers get no ``ctx`` from SDK 2.3, so the middleware also binds the services to a context variable for the
duration of the request (:func:`current_services`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

import anyio

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

if TYPE_CHECKING:
    from mcp_storyboard.services.container import Services

_lifespan_state: ContextVar[Any] = ContextVar("mcp_storyboard_services")


NEEDS_NO_SERVICES = frozenset({
    "initialize", "server/discover", "ping", "tools/list", "prompts/list", "resources/templates/list",
    "logging/setLevel",
})
"""Requests answered without the database, so without waiting for it to open."""


class OpeningServices:
    """The lifespan state while the services open in the background (see the module docstring)."""

    def __init__(self) -> None:
        self._opened = anyio.Event()
        self._closing = anyio.Event()
        self._services: Any = None
        self._error: BaseException | None = None

    async def hold(self, open_services: Callable[[], AbstractAsyncContextManager[Any]]) -> None:
        """Open the services, publish them, and keep them open until :meth:`close`. A failure to open is kept for
        the waiting requests and raised, which ends the serving task group (``serve`` then exits with its message)."""
        try:
            async with open_services() as services:
                self._services = services
                self._opened.set()
                await self._closing.wait()
        except BaseException as exc:
            if not self._opened.is_set():
                self._error = exc
                self._opened.set()
            raise

    def close(self) -> None:
        self._closing.set()

    def open_now(self) -> Any | None:
        """The open services if they are open already (None while opening or after a failure to open): what
        :meth:`ready` returns, without its checkpoint, a pass through the event loop on every request."""
        if self._opened.is_set() and self._error is None:
            return self._services
        return None

    async def ready(self) -> Any:
        """The open services, once they are.

        Raises:
            RuntimeError: they could not be opened (the cause is chained; the server is stopping).
        """
        await self._opened.wait()
        if self._error is not None:
            raise RuntimeError("the database could not be opened; the server is stopping") from self._error
        return self._services


async def bind_services(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Middleware: wait until the services are open (except for :data:`NEEDS_NO_SERVICES`), then make them this
    request's lifespan state and :func:`current_services`."""
    state = ctx.lifespan_context
    if isinstance(state, OpeningServices):
        if ctx.method in NEEDS_NO_SERVICES or ctx.method.startswith("notifications/"):
            return await call_next(ctx)
        services = state.open_now()
        ctx = replace(ctx, lifespan_context=await state.ready() if services is None else services)
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
