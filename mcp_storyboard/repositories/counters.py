"""Atomic counters (collection ``counters``, an addition): alternate numbers per family."""

from __future__ import annotations

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from mcp_storyboard.db.connection import Database
from mcp_storyboard.errors import ConflictError
from mcp_storyboard.repositories.base import Session, _s

COUNTERS = "counters"
_ATTEMPTS = 5


class CounterRepository:
    def __init__(self, database: Database) -> None:
        self.collection = database.collection(COUNTERS)

    async def next_value(self, key: str, *, at_least: int = 0, session: Session = None) -> int:
        """The next number for ``key``: strictly greater than every earlier one and than ``at_least``.

        ``$max`` then ``$inc`` are each atomic, so concurrent callers always get distinct numbers; ``at_least``
        lets a counter start above numbers that existed before it (legacy data).
        """
        for _ in range(_ATTEMPTS):
            await self._at_least(key, at_least, session)
            raw = await self.collection.find_one_and_update(
                {"_id": key}, {"$inc": {"n": 1}}, return_document=ReturnDocument.AFTER, **_s(session)
            )
            if raw is not None:
                return int(raw["n"])
            # The counter was deleted in between (its scene or clip, or their project, is being deleted): start it
            # again, still above ``at_least``; the caller's create then finds its parent gone.
        raise ConflictError(f"counter {key} kept being deleted while it was read", hint="retry the call")

    async def _at_least(self, key: str, at_least: int, session: Session) -> None:
        for attempt in range(2):
            try:
                await self.collection.update_one({"_id": key}, {"$max": {"n": at_least}}, upsert=True, **_s(session))
                return
            except DuplicateKeyError:  # two first-time upserts raced; the document exists now
                if attempt:
                    raise

    async def delete(self, keys: list[str], *, session: Session = None) -> None:
        if keys:
            await self.collection.delete_many({"_id": {"$in": keys}}, **_s(session))
