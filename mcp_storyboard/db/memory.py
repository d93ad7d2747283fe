"""The memory:// backend's shim: mongomock-motor made to answer the repositories' calls as MongoDB does.

The repositories have one path, written for MongoDB and the embedded server; memory:// reaches them through
:class:`MemoryDatabase`, whose collections correct the three places where mongomock answers differently:

- ``find_one_and_update(..., return_document=AFTER)`` finds the changed document by running the filter again, so an
  update that makes its own filter unmatchable (``$pull`` of the matched entry, a status change) returns None.
  Here the update returns the document's ``_id`` and the document is read back by it.
- A unique-index violation by an update is reported on the first unique index that matches the updated document,
  which is always ``id`` (the document matches itself). Here it names the index another document really holds.
- ``bulk_write`` rejects the driver's ``UpdateOne`` (mongomock's bulk builder takes no ``sort``). Here the updates
  run one by one, which is what a bulk is on a backend without transactions or concurrent calls.

Everything else passes through unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import ReturnDocument, UpdateOne
from pymongo.errors import DuplicateKeyError
from pymongo.results import BulkWriteResult


class MemoryCollection:
    """A mongomock-motor collection with MongoDB's answers for the calls listed in the module docstring."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def find_one_and_update(
        self,
        filter: Mapping[str, Any],
        update: Any,
        projection: Any = None,
        sort: Any = None,
        upsert: bool = False,
        return_document: bool = ReturnDocument.BEFORE,
        **kwargs: Any,
    ) -> Any:
        try:
            if return_document is ReturnDocument.BEFORE or upsert:  # an upsert's filter is its key: it still matches
                return await self._inner.find_one_and_update(
                    filter, update, projection=projection, sort=sort, upsert=upsert,
                    return_document=return_document, **kwargs,
                )  # fmt: skip
            changed = await self._inner.find_one_and_update(filter, update, projection={"_id": 1}, sort=sort, **kwargs)
        except DuplicateKeyError as exc:
            raise await self._held_index(filter, update, exc) from None
        return None if changed is None else await self._inner.find_one({"_id": changed["_id"]}, projection)

    async def update_one(self, filter: Mapping[str, Any], update: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await self._inner.update_one(filter, update, *args, **kwargs)
        except DuplicateKeyError as exc:
            raise await self._held_index(filter, update, exc) from None

    async def bulk_write(self, requests: Sequence[Any], ordered: bool = True, **kwargs: Any) -> BulkWriteResult:
        matched = modified = 0
        for request in requests:
            if not isinstance(request, UpdateOne):
                raise TypeError(f"memory:// bulk_write runs UpdateOne requests only, not {type(request).__name__}")
            # The driver keeps an UpdateOne's parts private; they are what it sends as q, u and upsert.
            result = await self.update_one(request._filter, request._doc, upsert=bool(request._upsert))
            matched, modified = matched + result.matched_count, modified + result.modified_count
        summary = {"nInserted": 0, "nUpserted": 0, "nMatched": matched, "nModified": modified, "nRemoved": 0,
                   "upserted": []}  # fmt: skip
        return BulkWriteResult(summary, acknowledged=True)

    async def _held_index(self, filter: Mapping[str, Any], update: Any, reported: DuplicateKeyError) -> DuplicateKeyError:
        """The violation as MongoDB reports it: the unique index whose key another document already holds with
        the values the update ``$set``. mongomock rolled the update back, so ``filter`` still finds the document.
        Falls back to ``reported`` when the update is not a ``$set`` of top-level fields."""
        current = await self._inner.find_one(filter)
        fields = update.get("$set") if isinstance(update, Mapping) else None
        if current is None or not isinstance(fields, Mapping):
            return reported
        changed = {**current, **{k: v for k, v in fields.items() if "." not in k}}
        for index in (await self._inner.index_information()).values():
            keys = [key for key, _ in index["key"]]
            if not index.get("unique") or keys == ["_id"] or not set(keys) & set(fields):
                continue
            value = {key: changed.get(key) for key in keys}
            if await self._inner.find_one({**value, "_id": {"$ne": current["_id"]}}, {"_id": 1}) is not None:
                details = {"keyPattern": dict(index["key"]), "keyValue": value}
                return DuplicateKeyError("E11000 duplicate key error", 11000, details)
        return reported


class MemoryDatabase:
    """A mongomock-motor database whose collections are :class:`MemoryCollection`."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __getitem__(self, name: str) -> MemoryCollection:
        return MemoryCollection(self._inner[name])

    def get_collection(self, name: str, **options: Any) -> MemoryCollection:
        return MemoryCollection(self._inner.get_collection(name, **options))
