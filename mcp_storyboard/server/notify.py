"""Tell subscribed clients that resources changed after a write, in both protocol eras.

- 2026-era clients subscribe with ``subscriptions/listen`` (``resourceSubscriptions``); ``ctx.notify_resource_updated``
  publishes to the server's subscription bus, which fans out to those streams.
- 2025-era clients subscribe with ``resources/subscribe`` (served by ``legacy_methods``); the server's
  ``LegacySubscriptions`` sends ``notifications/resources/updated`` to every subscribed connection, not only the
  caller's.

A notification is a courtesy: a write that succeeded never fails because nobody listens, the bus hiccups or a
subscriber is gone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from mcp.server.mcpserver import Context

from mcp_storyboard.server.job_events import events_of
from mcp_storyboard.server.subscriptions import subscriptions_of

logger = logging.getLogger("mcp_storyboard.server")


async def notify_changed(ctx: Context, uris: Iterable[str], *, list_changed: bool = False) -> None:
    """Publish ``resources/updated`` for each distinct URI (and ``resources/list_changed`` when asked).

    Call after a write committed, with the URIs of every resource whose content changed (e.g. the clip, its
    scene and its project). Never raises: a failing bus is logged and the tool result stands. 2025-era
    subscribers get no list change: the server does not advertise ``resources.listChanged`` to them.
    """
    try:
        server = ctx.mcp_server
    except ValueError:  # a Context built outside a request has no server, hence no 2025-era subscribers
        server = None
    events = None if server is None else events_of(server)
    # A URI the database's change stream announces (a job's) would otherwise reach its subscribers twice.
    distinct = [uri for uri in dict.fromkeys(uris) if events is None or not events.covers(uri)]
    try:
        for uri in distinct:
            await ctx.notify_resource_updated(uri)
        if list_changed:
            await ctx.notify_resources_changed()
    except Exception:  # a custom SubscriptionBus may do network I/O; the write already happened
        logger.warning("could not publish resource-change notifications", exc_info=True)
    registry = None if server is None else subscriptions_of(server)
    if registry is not None:
        await registry.publish(distinct)
