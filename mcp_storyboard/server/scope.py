"""The serving lifetime's services: opened in the background once something asks for them, bound to each request
that needs them.

The server answers ``initialize`` and ``tools/list`` without its database: the lifespan yields
:class:`OpeningServices` at once, and the middleware :func:`bind_services` makes every other request wait until the
services are open, then hands it the services themselves (``ctx.lifespan_context``, read by ``get_services(ctx)`` in
tools). Static resources and completion handlers get no ``ctx`` from SDK 2.3, so the middleware also binds the
services to a context variable for the duration of the request (:func:`current_services`).

Opening starts with importing the services, the repositories and the driver (~0.3 s of CPU, on the event loop) and
then connects, checks migrations and indexes. Started with the server, that work delayed the answers to the
handshake; so the open waits (:meth:`OpeningServices.hold`) until the first request that needs the services (it
then starts at once), or until ``tools/list`` has been answered and its answer is out, or :data:`OPEN_AFTER_S` (an
HTTP server with no requests yet, a client that never lists tools). The embedded database server boots in its own
process meanwhile (``cli.py`` spawns it first). ``serve --worker`` opens at once (``OpeningServices(at_start=True)``,
from ``build_server(open_at_start=True)``): its worker has jobs to run whether or not a client asks for anything.
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

OPEN_AFTER_S = 1.0
"""The longest the open waits for a request to ask for it."""
ANSWER_OUT_S = 0.05
"""After ``tools/list`` is answered, how long the open leaves the event loop to the transport: the answer is
written and flushed by the stdio writer task (or the HTTP response), which the open's imports would hold up."""


NEEDS_NO_SERVICES = frozenset({
    "initialize", "server/discover", "ping", "tools/list", "prompts/list", "resources/templates/list",
    "logging/setLevel",
})
"""Requests answered without the database, so without waiting for it to open."""


class OpeningServices:
    """The lifespan state while the services open in the background (see the module docstring)."""

    def __init__(self, *, at_start: bool = False) -> None:
        self._at_start = at_start
        """Open as the server starts, without waiting to be asked."""
        self._opened = anyio.Event()
        self._needed = anyio.Event()
        """A request waits for the services (or the server stops): open now."""
        self._wanted = anyio.Event()
        """Needed, or ``tools/list`` answered."""
        self._closing = anyio.Event()
        self._services: Any = None
        self._error: BaseException | None = None

    async def hold(self, open_services: Callable[[], AbstractAsyncContextManager[Any]]) -> None:
        """Once asked (see the module docstring), open the services, publish them, and keep them open until
        :meth:`close`. A failure to open is kept for the waiting requests and raised, which ends the serving task
        group (``serve`` then exits with its message). Closed before being asked: nothing is opened."""
        if not self._at_start:
            await self._until_asked()
            if self._closing.is_set():
                self._error = RuntimeError("the server stopped before its services were needed")
                self._opened.set()
                return
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

    async def _until_asked(self) -> None:
        with anyio.move_on_after(OPEN_AFTER_S):
            await self._wanted.wait()
        if self._wanted.is_set() and not self._needed.is_set():  # tools/list answered: let its answer out first
            with anyio.move_on_after(ANSWER_OUT_S):
                await self._needed.wait()

    def listed(self) -> None:
        """``tools/list`` was answered: open once its answer is out (unless a request needs the services first)."""
        self._wanted.set()

    def close(self) -> None:
        self._closing.set()
        self._needed.set()
        self._wanted.set()

    def open_now(self) -> Any | None:
        """The open services if they are open already (None while opening or after a failure to open): what
        :meth:`ready` returns, without its checkpoint, a pass through the event loop on every request."""
        if self._opened.is_set() and self._error is None:
            return self._services
        return None

    async def ready(self) -> Any:
        """The open services, once they are; asks for them (the open starts now if it has not yet).

        Raises:
            RuntimeError: they could not be opened (the cause is chained; the server is stopping).
        """
        self._needed.set()
        self._wanted.set()
        await self._opened.wait()
        if self._error is not None:
            raise RuntimeError("the database could not be opened; the server is stopping") from self._error
        return self._services


async def bind_services(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Middleware: wait until the services are open (except for :data:`NEEDS_NO_SERVICES`), then make them this
    request's lifespan state and :func:`current_services`. Waiting asks for them; so does answering ``tools/list``
    (:meth:`OpeningServices.listed`)."""
    state = ctx.lifespan_context
    if isinstance(state, OpeningServices):
        if ctx.method in NEEDS_NO_SERVICES or ctx.method.startswith("notifications/"):
            answer = await call_next(ctx)
            if ctx.method == "tools/list":
                state.listed()
            return answer
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
