"""The 2025-era resource subscriptions of one server: per URI, the connections subscribed to it.

A 2025-11-25 client calls ``resources/subscribe`` with a URI and expects ``notifications/resources/updated`` for
it after every change, from whichever client made the change, until it unsubscribes or disconnects. Entries are
keyed by the ``Connection`` (``ctx.session`` is a new object per request) and hold the session of the subscribe
request, whose ``send_resource_updated`` writes on the connection's own channel, not the finished request's. An
entry goes on unsubscribe, when its connection closes, and when a send to it fails or stalls (a client that does
not read its notifications must not hold up the writer that triggered them).

Matching is exact: a write already names every resource it changed, the enclosing project's URIs included
(``resources.project_uris``), so a subscription to ``storyboard://projects/{id}`` hears about its scenes and clips.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from weakref import WeakKeyDictionary

import anyio
from mcp.server.connection import Connection
from mcp.server.mcpserver import MCPServer
from mcp.server.session import ServerSession

logger = logging.getLogger("mcp_storyboard.server")

SEND_TIMEOUT_S = 5.0
"""How long one subscriber may take to accept its notifications before it is dropped."""
MAX_PER_CONNECTION = 1000
"""Subscriptions one connection may hold (each costs server memory until it unsubscribes or disconnects)."""

_REGISTRIES: WeakKeyDictionary[MCPServer[Any], LegacySubscriptions] = WeakKeyDictionary()


class TooManySubscriptionsError(Exception):
    """A connection asked for more than ``MAX_PER_CONNECTION`` subscriptions."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} subscriptions per connection")
        self.limit = limit


class LegacySubscriptions:
    """Who is subscribed to what, across every connection of one server."""

    def __init__(self) -> None:
        self._by_uri: dict[str, dict[Connection, ServerSession]] = {}
        self._by_connection: dict[Connection, set[str]] = {}
        self._watched: set[Connection] = set()
        """Connections whose close already drops their entries (see ``add``)."""

    def add(self, connection: Connection, session: ServerSession, uri: str) -> bool:
        """Subscribe ``connection`` to ``uri``; True the first time this connection is seen (watch its close).

        Raises:
            TooManySubscriptionsError: the connection already holds ``MAX_PER_CONNECTION`` other subscriptions.
        """
        mine = self._by_connection.setdefault(connection, set())
        if uri not in mine and len(mine) >= MAX_PER_CONNECTION:
            raise TooManySubscriptionsError(MAX_PER_CONNECTION)
        mine.add(uri)
        # Any session of a connection will do: send_resource_updated writes on the connection's channel.
        self._by_uri.setdefault(uri, {})[connection] = session
        first = connection not in self._watched
        self._watched.add(connection)
        return first

    def remove(self, connection: Connection, uri: str) -> None:
        """Unsubscribe ``connection`` from ``uri`` (nothing happens when it was not subscribed)."""
        subscribers = self._by_uri.get(uri)
        if subscribers is not None:
            subscribers.pop(connection, None)
            if not subscribers:
                del self._by_uri[uri]
        mine = self._by_connection.get(connection)
        if mine is not None:
            mine.discard(uri)
            if not mine:
                del self._by_connection[connection]

    def forget(self, connection: Connection) -> None:
        """Drop every subscription of ``connection``."""
        for uri in list(self._by_connection.get(connection, ())):
            self.remove(connection, uri)

    def closed(self, connection: Connection) -> None:
        """``connection`` closed: drop its subscriptions and stop watching it."""
        self.forget(connection)
        self._watched.discard(connection)

    def uris_of(self, connection: Connection) -> set[str]:
        """The URIs ``connection`` is subscribed to."""
        return set(self._by_connection.get(connection, ()))

    async def publish(self, uris: Iterable[str]) -> None:
        """Send ``notifications/resources/updated`` for each of ``uris`` to its subscribers. Never raises."""
        targets: dict[Connection, tuple[ServerSession, list[str]]] = {}
        for uri in dict.fromkeys(uris):
            for connection, session in self._by_uri.get(uri, {}).items():
                targets.setdefault(connection, (session, []))[1].append(uri)
        if not targets:
            return
        async with anyio.create_task_group() as group:
            for connection, (session, found) in targets.items():
                group.start_soon(self._send, connection, session, found)

    async def _send(self, connection: Connection, session: ServerSession, uris: list[str]) -> None:
        delivered = False
        with anyio.move_on_after(SEND_TIMEOUT_S):
            try:
                for uri in uris:
                    await session.send_resource_updated(uri)
                delivered = True
            except Exception:
                logger.debug("resource notification failed", exc_info=True)
        if not delivered:
            self.forget(connection)
            logger.warning("dropped the resource subscriptions of a client that did not take a notification")


def attach_subscriptions(server: MCPServer[Any]) -> LegacySubscriptions:
    """The subscription registry of ``server``, created on first use."""
    registry = _REGISTRIES.get(server)
    if registry is None:
        registry = _REGISTRIES[server] = LegacySubscriptions()
    return registry


def subscriptions_of(server: MCPServer[Any]) -> LegacySubscriptions | None:
    """The subscription registry of ``server``, if it serves 2025-era subscriptions."""
    return _REGISTRIES.get(server)
