"""Per-key call counters in fixed one-minute windows (``rate_limits``: one document per key), shared by every
server process on the database, so a limit holds behind a load balancer.

Each step is one atomic update: count in the current window, else start a new window over an old one, else insert
the key's first window. Two processes that both find no document race on the unique ``id`` index; the loser counts
in the winner's window. No read-modify-write, and no pipeline update (mongomock has none).
"""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from mcp_storyboard.db.connection import Database
from mcp_storyboard.repositories.base import NO_ID

COLLECTION = "rate_limits"
ATTEMPTS = 3


class RateLimitRepository:
    def __init__(self, database: Database) -> None:
        self.collection = database.collection(COLLECTION)

    async def hit(self, key: str, window: int) -> int | None:
        """Count one call of ``key`` in minute ``window`` (minutes since the epoch); the calls counted in that
        window so far, this one included. None when the key's window moved on meanwhile (a clock ahead of ours
        on another process): the call is not counted against this window."""
        for _ in range(ATTEMPTS):
            counted = await self._update({"id": key, "window": window}, {"$inc": {"count": 1}})
            if counted is not None:
                return int(counted["count"])
            restarted = await self._update({"id": key, "window": {"$lt": window}}, {"$set": {"window": window, "count": 1}})
            if restarted is not None:
                return 1
            try:
                await self.collection.insert_one({"id": key, "window": window, "count": 1})
                return 1
            except DuplicateKeyError:
                continue  # another process inserted the key first: count in its document
        return None

    async def _update(self, query: dict[str, Any], update: dict[str, Any]) -> dict[str, Any] | None:
        found: dict[str, Any] | None = await self.collection.find_one_and_update(
            query, update, projection=NO_ID, return_document=ReturnDocument.AFTER)
        return found
