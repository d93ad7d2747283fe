"""Catalog models (``database_models``), keyed by a string id, browsed by type or base model, searched by keyword,
synced by upsert.

Every stored model carries ``keywords`` and its per-field ``kw_<field>`` words (``models/catalog_search.py``),
written with the model by every write here — insert, upsert, patch — so search never sees stale words. They are not
part of ``DatabaseModel``: they are an index, not data, and reading drops them. Upserts keep ``created_at`` (``Repository._upsert_keeping_created_at``),
as do the other catalog repositories (CivitAI models, inference configurations), whose documents are also
refreshed from outside.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pymongo import ReturnDocument

from mcp_storyboard.errors import NotFoundError
from mcp_storyboard.models.catalog import DatabaseModel, ModelType
from mcp_storyboard.models.catalog_search import (
    TEXT_FIELDS,
    ModelFilter,
    has_words,
    keyword_fields,
    keyword_range,
    keywords,
)
from mcp_storyboard.models.common import Page, utc_now
from mcp_storyboard.repositories.base import (
    NO_ID,
    Repository,
    Session,
    _s,
    translate_duplicates,
)

# Led by `type`, the second key of the schema index {is_active: 1, type: 1}; id makes the order total.
BY_TYPE = (("type", 1), ("name", 1), ("id", 1))
BY_NAME = (("name", 1), ("id", 1))
LIGHT = {"_id": 0, "id": 1, "name": 1, "tags": 1, "trigger_words": 1}
CANDIDATE = {**LIGHT, "keywords": 1, "type": 1, "base_model": 1, "is_active": 1, "is_nsfw": 1}
"""What search reads of each candidate: what ranking and the filters need, never the description (up to 20,000
characters)."""
LAST_CHARACTER = "\U0010ffff"


@dataclass(frozen=True)
class Candidate:
    """A search match as ranking reads it."""

    id: str
    name: str
    tags: list[str]
    trigger_words: str | None


class DatabaseModelRepository(Repository[DatabaseModel]):
    document = DatabaseModel
    kind = "model"

    def to_document(self, model: BaseModel) -> dict[str, Any]:
        fields = model.model_dump(mode="python")
        return {**fields, **keyword_fields(fields), "keywords": keywords(fields)}

    async def page_by_type(
        self,
        model_type: ModelType | None = None,
        *,
        active: bool | None = True,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[DatabaseModel]:
        """Models by type then name: active ones by default, ``active=False`` the inactive, None all."""
        return await self._page(ModelFilter(type=model_type, is_active=active).query(), BY_TYPE, limit=limit,
                                cursor=cursor)

    async def page_by_base_model(
        self, base_model: str, *, active: bool | None = True, limit: int | None = None, cursor: str | None = None
    ) -> Page[DatabaseModel]:
        """Models of one base model family (any spelling: "sdxl 1.0" finds "SDXL"), by type then name.

        Filtered on the schema index {base_model: 1, is_active: 1}.
        """
        query = ModelFilter(base_model=base_model, is_active=active).query()
        return await self._page(query, BY_TYPE, limit=limit, cursor=cursor)

    async def page_filtered(self, where: ModelFilter, *, limit: int | None, cursor: str | None) -> Page[DatabaseModel]:
        """Models matching ``where`` by name (by type and name when a type is given: that index leads with it)."""
        sort = BY_TYPE if where.type is not None else BY_NAME
        return await self._page(where.query(), sort, limit=limit, cursor=cursor)

    async def candidates(self, words: Sequence[str], where: ModelFilter, *, scan_cap: int) -> list[Candidate]:
        """Models matching ``where`` with every word the prefix of one of their keywords.

        The database reads one index range, the keywords starting with the longest word; the other words and the
        filters are checked here. SecantusDB 0.7.0b3 scans the collection for a regex, for a range combined with
        any other condition, and answered a ``$and`` of two ranges over one array with every document (measured:
        ``tests/benchmarks/bench_search_models.py`` prints the plans), so a lone range is the query that uses the
        index on both servers (see ``keyword_range``). At most ``scan_cap`` index hits are read.
        """
        lead = max(words, key=len)
        query = keyword_range(lead, elem_match=self.database.backend != "embedded")
        raws = await self.collection.find(query, CANDIDATE).limit(scan_cap).to_list(None)
        return [Candidate(str(raw["id"]), str(raw.get("name", "")), list(raw.get("tags") or []),
                          raw.get("trigger_words"))
                for raw in raws if where.matches(raw) and has_words(raw.get("keywords") or [], words)]

    async def ids_starting_with(self, value: str, *, limit: int) -> list[str]:
        """Ids starting with ``value``, by id (a range on the unique id index, never a regex)."""
        query = {"id": {"$gte": value, "$lt": value + LAST_CHARACTER}}
        raws = await self.collection.find(query, {"_id": 0, "id": 1}).sort("id", 1).limit(limit).to_list(None)
        return [str(r["id"]) for r in raws]

    async def names_starting_with(self, words: Sequence[str], *, limit: int, scan_cap: int) -> list[str]:
        """Names of models whose keywords start with each of ``words`` (all names without words), by name."""
        if not words:
            raws = await self.collection.find({}, LIGHT).sort(list(BY_NAME)).limit(limit).to_list(None)
            return [str(r.get("name", "")) for r in raws]
        found = await self.candidates(words, ModelFilter(), scan_cap=scan_cap)
        return sorted((c.name for c in found), key=str.casefold)[:limit]

    async def update_fields(
        self, key: str, fields: Mapping[str, Any], *, session: Session = None
    ) -> DatabaseModel:
        """``$set`` the given fields; when a text field changes, its words and ``keywords`` change in the same write.

        One pipeline update: the changed fields' ``kw_<field>`` are set, then ``keywords`` becomes the union of every
        ``kw_<field>`` as stored, so parallel changes of different fields never lose each other's words.

        Raises:
            NotFoundError: no such model.
        """
        if not any(field in fields for field in TEXT_FIELDS):
            return await super().update_fields(key, fields, session=session)
        changed = {**fields, **keyword_fields(fields), "updated_at": utc_now()}
        if self.database.backend == "memory":  # mongomock has no pipeline updates, and never runs two calls at once
            stored = await self.collection.find_one({"id": key}, {"_id": 0}, **_s(session))
            if stored is None:
                raise NotFoundError(self.kind, key)
            merged = {**stored, **changed}
            union = list(dict.fromkeys(w for f in TEXT_FIELDS for w in merged.get(f"kw_{f}") or []))
            return await self._update({"id": key}, {"$set": {**changed, "keywords": union}}, session=session,
                                      touch=False)
        union_of = {"$setUnion": [{"$ifNull": [f"$kw_{f}", []]} for f in TEXT_FIELDS]}
        pipeline = [{"$set": {name: {"$literal": value} for name, value in changed.items()}},
                    {"$set": {"keywords": union_of}}]
        async with translate_duplicates(self.name):
            raw = await self.collection.find_one_and_update(
                {"id": key}, pipeline, projection=NO_ID, return_document=ReturnDocument.AFTER, **_s(session))
        if raw is None:
            raise NotFoundError(self.kind, key)
        return self.from_document(raw)

    async def set_active(self, model_id: str, active: bool, *, session: Session = None) -> DatabaseModel:
        """Offer a model for generation, or withdraw it.

        Raises:
            NotFoundError: no such model.
        """
        return await self._update({"id": model_id}, {"$set": {"is_active": active}}, session=session)

    async def upsert(self, model: DatabaseModel, *, session: Session = None) -> DatabaseModel:
        """Insert a model or refresh it from a catalog sync, keeping its ``created_at``."""
        return await self._upsert_keeping_created_at({"id": model.id}, model, session=session)
