"""The base of every repository: the only code that talks to the driver.

A repository takes typed arguments (ids, patches, enums), never a caller's filter dict; builds its filters
and updates itself; writes atomically (``$set`` on paths, ``$push``, ``$inc``, ``find_one_and_update``); and
turns a driver ``DuplicateKeyError`` into :class:`DuplicateKeyConflict` naming the field.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, ClassVar, Generic

from pydantic import BaseModel
from pymongo import ReturnDocument, UpdateOne
from pymongo.errors import DuplicateKeyError
from typing_extensions import TypeVar

from mcp_storyboard.db.connection import Database
from mcp_storyboard.db.pagination import SortSpec, fetch_page, sort_value_types
from mcp_storyboard.errors import ConflictError, DuplicateKeyConflict, NotFoundError
from mcp_storyboard.models.common import Page, Patch, utc_now

D = TypeVar("D", bound=BaseModel)
K = TypeVar("K", default=str)
"""The key type: ``str`` ids almost everywhere (CivitAI models use CivitAI's int ids)."""
Session = Any
NO_ID: dict[str, int] = {"_id": 0}


@asynccontextmanager
async def translate_duplicates(collection: str) -> AsyncIterator[None]:
    """Turn a unique-index violation into a :class:`DuplicateKeyConflict` that names the field."""
    try:
        yield
    except DuplicateKeyError as exc:
        details = exc.details or {}
        key_value = details.get("keyValue") or {}
        key_pattern = details.get("keyPattern") or {}
        field = ",".join(key_pattern) or ",".join(key_value) or "key"
        value = ",".join(str(v) for v in key_value.values()) if key_value else "?"
        raise DuplicateKeyConflict(collection, field, value) from None


class Repository(Generic[D, K]):
    """CRUD over one collection of ``document`` models keyed by ``key``."""

    document: ClassVar[type[BaseModel]]
    kind: ClassVar[str]
    """Human name used in errors ("scene", "clip", ...)."""
    key: ClassVar[str] = "id"

    def __init__(self, database: Database) -> None:
        self.database = database
        self.collection = database.collection(self.document.collection)  # type: ignore[attr-defined]

    @property
    def name(self) -> str:
        return str(self.document.collection)  # type: ignore[attr-defined]

    # -- mapping -----------------------------------------------------------------------------------------
    def to_document(self, model: BaseModel) -> dict[str, Any]:
        return model.model_dump(mode="python")

    def from_document(self, raw: Mapping[str, Any]) -> D:
        return self.document.model_validate({k: v for k, v in raw.items() if k != "_id"})  # type: ignore[return-value]

    # -- reads -------------------------------------------------------------------------------------------
    async def find(self, key: K, *, session: Session = None) -> D | None:
        raw = await self.collection.find_one({self.key: key}, NO_ID, **_s(session))
        return None if raw is None else self.from_document(raw)

    async def get(self, key: K, *, session: Session = None) -> D:
        """The document with this key.

        Raises:
            NotFoundError: no such document.
        """
        found = await self.find(key, session=session)
        if found is None:
            raise NotFoundError(self.kind, key)
        return found

    async def get_many(self, keys: Iterable[K], *, session: Session = None) -> list[D]:
        """The documents with these keys, in no particular order (missing keys are left out)."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return []
        cursor = self.collection.find({self.key: {"$in": wanted}}, NO_ID, **_s(session))
        return [self.from_document(raw) for raw in await cursor.to_list(None)]

    async def exists(self, key: K, *, session: Session = None) -> bool:
        return await self.collection.find_one({self.key: key}, {"_id": 1}, **_s(session)) is not None

    async def touch(self, key: K, *, session: Session = None) -> bool:
        """Move ``updated_at`` forward on one document; False when there is none.

        Inside a transaction this is the write that makes a create under this document conflict with its delete
        and with other creates under it, see ``services/common/parents.py``. It must change the document every time: a
        write that leaves it as it was is skipped by the server and conflicts with nothing, and two touches within
        one millisecond (BSON's precision) would set the same time — measured on the embedded server, 1 of 3
        rounds of 64 parallel creates under one project then committed two creates that had read the same list.
        So the new time is now, or one millisecond past the stored one when that is not earlier.
        """
        now = utc_now()
        if self.database.backend == "memory":  # mongomock has no date arithmetic, and never runs two calls at once
            update: Any = {"$set": {"updated_at": now}}
        else:
            update = [{"$set": {"updated_at": {"$max": [now, {"$add": ["$updated_at", 1]}]}}}]
        result = await self.collection.update_one({self.key: key}, update, **_s(session))
        return bool(result.matched_count)

    async def _find_all(self, query: Mapping[str, Any], sort: SortSpec, *, session: Session = None) -> list[D]:
        cursor = self.collection.find(dict(query), NO_ID, **_s(session)).sort(list(sort))
        return [self.from_document(raw) for raw in await cursor.to_list(None)]

    async def _page(
        self, query: Mapping[str, Any], sort: SortSpec, *, limit: int | None, cursor: str | None, session: Session = None
    ) -> Page[D]:
        docs, next_cursor = await fetch_page(
            self.collection, query, sort, limit=limit, cursor=cursor, session=session,
            value_types=sort_value_types(self.document, tuple(sort)),
        )  # fmt: skip
        return Page[self.document](items=[self.from_document(d) for d in docs], next_cursor=next_cursor)  # type: ignore[name-defined,return-value]

    async def count(self, query: Mapping[str, Any] | None = None, *, session: Session = None) -> int:
        return int(await self.collection.count_documents(dict(query or {}), **_s(session)))

    # -- writes ------------------------------------------------------------------------------------------
    async def insert(self, model: D, *, session: Session = None) -> D:
        """Insert a new document.

        Raises:
            DuplicateKeyConflict: a unique key (id, name, url, ...) is taken.
        """
        async with translate_duplicates(self.name):
            await self.collection.insert_one(self.to_document(model), **_s(session))
        return model

    async def insert_many(self, models: Sequence[D], *, session: Session = None) -> None:
        if not models:
            return
        async with translate_duplicates(self.name):
            await self.collection.insert_many([self.to_document(m) for m in models], ordered=True, **_s(session))

    async def _update(
        self,
        query: Mapping[str, Any],
        update: Mapping[str, Any],
        *,
        session: Session = None,
        touch: bool = True,
        missing: Any = None,
    ) -> D:
        """One atomic ``find_one_and_update`` returning the document after the change.

        Raises:
            NotFoundError: nothing matched ``query`` (reported with ``missing`` as the key).
            DuplicateKeyConflict: the change would break a unique index.
        """
        full: dict[str, Any] = {op: dict(value) for op, value in update.items()}
        if touch:
            full.setdefault("$set", {})["updated_at"] = utc_now()
        async with translate_duplicates(self.name):
            raw = await self.collection.find_one_and_update(
                dict(query), full, projection=NO_ID, return_document=ReturnDocument.AFTER, **_s(session)
            )
        if raw is None:
            raise NotFoundError(self.kind, missing if missing is not None else query.get(self.key))
        return self.from_document(raw)

    async def update_fields(self, key: K, fields: Mapping[str, Any], *, session: Session = None) -> D:
        """``$set`` the given top-level fields (already validated by a model) on one document.

        Raises:
            NotFoundError: no such document.
            DuplicateKeyConflict: a changed unique field belongs to another document (naming that field).
        """
        return await self._update({self.key: key}, {"$set": dict(fields)} if fields else {}, session=session)

    async def apply_patch(self, key: K, patch: Patch, *, session: Session = None) -> D:
        """Write the fields a caller set on ``patch`` (explicit None clears)."""
        return await self.update_fields(key, patch.changes(), session=session)

    async def _bulk_update(self, updates: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]], *, session: Session = None) -> None:
        """Many ``update_one``s in one round trip (ordered; inside a transaction they are all-or-nothing)."""
        if not updates:
            return
        ops = [UpdateOne(dict(query), dict(update)) for query, update in updates]
        await self.collection.bulk_write(ops, ordered=True, **_s(session))

    async def _upsert_keeping_created_at(self, query: Mapping[str, Any], model: D, *, session: Session = None) -> D:
        """Insert ``model``, or overwrite every field of the document matching ``query`` except ``created_at``.

        ``updated_at`` becomes now. ``query`` must be the document's unique key (equality on every key field).

        Raises:
            DuplicateKeyConflict: another unique index refuses the document.
            ConflictError: concurrent writes of the same key kept colliding (after retries).
        """
        fields = self.to_document(model)
        created_at = fields.pop("created_at")
        update = {"$set": {**fields, "updated_at": utc_now()}, "$setOnInsert": {"created_at": created_at}}

        async def attempt() -> Any:
            return await self.collection.find_one_and_update(
                dict(query), update, projection=NO_ID, upsert=True, return_document=ReturnDocument.AFTER, **_s(session)
            )

        for last in (False, False, True):
            try:
                async with translate_duplicates(self.name):
                    raw = await attempt()
            except DuplicateKeyConflict:
                # Two first upserts of one key raced and the server did not retry the loser: the document exists now.
                if last:
                    raise
                continue
            if raw is not None:
                return self.from_document(raw)
            # SecantusDB 0.7.0b3 sometimes answers the loser of racing upserts with no document although it applied
            # the update; the update is idempotent, so running it again returns the document.
        raise ConflictError(f"{self.kind} could not be written: concurrent writes of the same key kept colliding", hint="retry")

    async def delete(self, key: K, *, session: Session = None) -> bool:
        result = await self.collection.delete_one({self.key: key}, **_s(session))
        return bool(result.deleted_count)

    async def _delete_where(self, query: Mapping[str, Any], *, session: Session = None) -> int:
        result = await self.collection.delete_many(dict(query), **_s(session))
        return int(result.deleted_count)


def _s(session: Session) -> dict[str, Any]:
    return {"session": session} if session is not None else {}
