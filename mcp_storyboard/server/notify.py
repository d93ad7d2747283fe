"""Tell subscribed clients that resources changed after a write.

2026-era clients subscribe with ``subscriptions/listen`` (``resourceSubscriptions``); ``ctx.notify_resource_updated``
publishes to the server's subscription bus, which fans out to those streams. SDK 2.3 serves no
``resources/subscribe`` to 2025-era clients, so nothing is sent to them (ARCHITECTURE: we do not patch the SDK).
A notification is a courtesy: a write that succeeded never fails because nobody listens or the bus hiccups.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from mcp.server.mcpserver import Context

logger = logging.getLogger("mcp_storyboard.server")


async def notify_changed(ctx: Context, uris: Iterable[str], *, list_changed: bool = False) -> None:
    """Publish ``resources/updated`` for each distinct URI (and ``resources/list_changed`` when asked).

    Call after a write committed, with the URIs of every resource whose content changed (e.g. the clip, its
    scene and its project). Never raises: a failing bus is logged and the tool result stands.
    """
    try:
        for uri in dict.fromkeys(uris):
            await ctx.notify_resource_updated(uri)
        if list_changed:
            await ctx.notify_resources_changed()
    except Exception:  # a custom SubscriptionBus may do network I/O; the write already happened
        logger.warning("could not publish resource-change notifications", exc_info=True)
