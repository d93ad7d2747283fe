"""Atomic counters (collection ``counters``, an addition): alternate numbers per family."""

from __future__ import annotations

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from mcp_storyboard.db.connection import Database
from mcp_storyboard.repositories.base import Session, _s

COUNTERS = "counters"


class CounterRepository:
    def __init__(self, database: Database) -> None:
        self.collection = database.collection(COUNTERS)

    async def next_value(self, key: str, *, at_least: int = 0, session: Session = None) -> int:
        """The next number for ``key``: strictly greater than every earlier one and than ``at_least``.

        ``$max`` then ``$inc`` are each atomic, so concurrent callers always get distinct numbers; ``at_least``
        lets a counter start above numbers that existed before it (legacy data).
        """
        for attempt in range(2):
            try:
                await self.collection.update_one({"_id": key}, {"$max": {"n": at_least}}, upsert=True, **_s(session))
                break
            except DuplicateKeyError:  # two first-time upserts raced; the document exists now
                if attempt:
                    raise
        raw = await self.collection.find_one_and_update(
            {"_id": key}, {"$inc": {"n": 1}}, return_document=ReturnDocument.AFTER, **_s(session)
        )
        return int(raw["n"])

    async def delete(self, keys: list[str], *, session: Session = None) -> None:
        if keys:
            await self.collection.delete_many({"_id": {"$in": keys}}, **_s(session))
