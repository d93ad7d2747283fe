"""Characters of a project, by name (unique in the project ignoring case: ``named``)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pymongo import ReturnDocument

from mcp_storyboard.db.pagination import (
    clamp_limit,
    cursor_key,
    decode_cursor,
    encode_cursor,
    fetch_page,
    sort_value_types,
)
from mcp_storyboard.errors import NotFoundError, ValidationError
from mcp_storyboard.models.characters import Character
from mcp_storyboard.models.common import Page, StoryboardModel, utc_now
from mcp_storyboard.models.facefusion import FaceFusionHistoryEntry, FaceFusionOutputGallery
from mcp_storyboard.repositories.base import NO_ID, Session
from mcp_storyboard.repositories.named import NamedRepository

# Served by the schema index {project_id: 1, name: 1}.
BY_NAME = (("project_id", 1), ("name", 1), ("id", 1))


class CharacterRepository(NamedRepository[Character]):
    document = Character
    kind = "character"

    async def page_for_project(self, project_id: str, *, limit: int | None = None, cursor: str | None = None) -> Page[Character]:
        return await self._page({"project_id": project_id}, BY_NAME, limit=limit, cursor=cursor)

    async def list_for_project(self, project_id: str, *, session: Session = None) -> list[Character]:
        return await self._find_all({"project_id": project_id}, BY_NAME, session=session)

    async def delete_for_project(self, project_id: str, *, session: Session = None) -> int:
        return await self._delete_where({"project_id": project_id}, session=session)

    async def count_for_project(self, project_id: str, *, session: Session = None) -> int:
        return await self.count({"project_id": project_id}, session=session)

    # -- additions for the character service: summaries, completion ---------------------------------------------
    async def page_summaries(
        self, project_id: str, *, name_contains: str | None = None, limit: int | None = None, cursor: str | None = None
    ) -> Page[Character]:
        """A project's characters by name, read without their FaceFusion history (which grows without bound)."""
        query: dict[str, Any] = {"project_id": project_id}
        if name_contains:
            query["name"] = {"$regex": re.escape(name_contains), "$options": "i"}
        docs, next_cursor = await fetch_page(
            self.collection, query, BY_NAME, limit=limit, cursor=cursor, projection=SUMMARY_PROJECTION,
            value_types=sort_value_types(Character, BY_NAME),
        )
        return Page[Character](items=[self.from_document(d) for d in docs], next_cursor=next_cursor)

    async def id_name_pairs(self, project_id: str | None, *, prefix: str = "", limit: int = 100) -> list[tuple[str, str]]:
        """``(id, name)`` of the characters of a project (or of every project) whose name or id starts with
        ``prefix`` ignoring case, by name."""
        query: dict[str, Any] = {} if project_id is None else {"project_id": project_id}
        if prefix:
            pattern = {"$regex": "^" + re.escape(prefix), "$options": "i"}
            query["$or"] = [{"name": pattern}, {"id": pattern}]
        cursor = self.collection.find(query, {"_id": 0, "id": 1, "name": 1}).sort(list(BY_NAME)).limit(limit)
        return [(str(raw["id"]), str(raw.get("name") or "")) for raw in await cursor.to_list(None)]


SUMMARY_PROJECTION: dict[str, int] = {**NO_ID, "facefusion_processing_history": 0}
"""Everything but the FaceFusion history: what lists show."""


# -- additions for the FaceFusion service: history pages, preferences, gallery -----------------------------------
HISTORY = "facefusion_processing_history"
PREFERENCES = "facefusion_preferred_settings"
GALLERY = "facefusion_output_gallery"
HISTORY_SORT = (("index", -1),)
HISTORY_TYPES = ((int,),)


class FaceFusionHistorySlice(StoryboardModel):
    """Some entries of a character's history (raw, newest first) and how many it holds in all."""

    entries: list[dict[str, Any]]
    total: int
    next_cursor: str | None = None


async def _history_total(repo: CharacterRepository, character_id: str) -> int:
    # The array grows without bound: its length is computed by the server, the entries stay there.
    pipeline: list[dict[str, Any]] = [{"$match": {"id": character_id}},
                {"$project": {"_id": 0, "n": {"$size": {"$ifNull": [f"${HISTORY}", []]}}}}]
    found = await repo.database.aggregate(repo.name, pipeline)
    if not found:
        raise NotFoundError(repo.kind, character_id)
    return int(found[0]["n"])


async def _history_slice(repo: CharacterRepository, character_id: str, start: int, count: int) -> list[dict[str, Any]]:
    if count <= 0:
        return []
    raw = await repo.collection.find_one(
        {"id": character_id}, {"_id": 0, "id": 1, HISTORY: {"$slice": [start, count]}}
    )
    if raw is None:
        raise NotFoundError(repo.kind, character_id)
    return list(raw.get(HISTORY) or [])


class FaceFusionCharacterRepository(CharacterRepository):
    """The character repository with the FaceFusion reads and writes (its own class keeps them together)."""

    async def history_page(self, character_id: str, *, limit: int | None = None, cursor: str | None = None) -> FaceFusionHistorySlice:
        """A page of a character's FaceFusion history, newest first, read with ``$slice``.

        Entries are only ever appended, so the cursor holds the array position where the next page ends: a page
        stays stable while new entries arrive.

        Raises:
            NotFoundError: no such character.
            ValidationError: the cursor is not one of this list's.
        """
        size = clamp_limit(limit)
        key = cursor_key(self.name, {"id": character_id, "list": HISTORY}, HISTORY_SORT)
        total = await _history_total(self, character_id)
        end = total
        if cursor:
            end = min(int(decode_cursor(cursor, key=key, value_types=HISTORY_TYPES)[0]), total)
            if end < 0:
                raise ValidationError("cursor", "is not a cursor returned by this list", hint="omit it to start from the first page")
        start = max(0, end - size)
        entries = await _history_slice(self, character_id, start, end - start)
        next_cursor = encode_cursor([start], key=key) if start > 0 else None
        return FaceFusionHistorySlice(entries=entries[::-1], total=total, next_cursor=next_cursor)

    async def facefusion_parts(self, character_id: str, *, recent: int) -> tuple[Character, int]:
        """The character with only its ``recent`` newest history entries, and the history's full length.

        Raises:
            NotFoundError: no such character.
        """
        total = await _history_total(self, character_id)
        raw = await self.collection.find_one({"id": character_id}, {"_id": 0, HISTORY: {"$slice": -recent}} if recent
                                             else {**SUMMARY_PROJECTION})
        if raw is None:
            raise NotFoundError(self.kind, character_id)
        return self.from_document(raw), total

    async def raw_preferences(self, character_id: str) -> tuple[bool, Any]:
        """Whether the character exists, and its stored preferred settings as stored (None when unset)."""
        raw = await self.collection.find_one({"id": character_id}, {"_id": 0, PREFERENCES: 1})
        return (raw is not None, None if raw is None else raw.get(PREFERENCES))

    async def swap_preferences(self, character_id: str, expected: Any, settings: dict[str, Any]) -> Character | None:
        """Replace the preferred settings if they are still ``expected`` (as read); None when they changed since."""
        query = {"id": character_id, PREFERENCES: expected}
        if expected is None:  # unset, null or missing
            query[PREFERENCES] = None
        raw = await self.collection.find_one_and_update(
            query, {"$set": {PREFERENCES: settings, "updated_at": utc_now()}},
            projection=SUMMARY_PROJECTION, return_document=ReturnDocument.AFTER,
        )
        return None if raw is None else self.from_document(raw)

    async def pull_gallery_url(self, character_id: str, category: str, url: str) -> bool | None:
        """Remove every copy of ``url`` from a list category of the gallery: True if one was there, False if not,
        None if there is no such character."""
        result = await self.collection.update_one(
            {"id": character_id, f"{GALLERY}.{category}": url},
            {"$pull": {f"{GALLERY}.{category}": url}, "$set": {"updated_at": utc_now()}},
        )
        if result.modified_count:
            return True
        return False if await self.exists(character_id) else None

    async def unset_age_variant(self, character_id: str, age: int, url: str | None = None) -> bool | None:
        """Remove the age variant of ``age`` (only if it is ``url``, when given): True/False as above, None if
        there is no such character."""
        path = f"{GALLERY}.age_variants.{age}"
        query: dict[str, Any] = {"id": character_id, path: {"$exists": True} if url is None else url}
        result = await self.collection.update_one(query, {"$unset": {path: ""}, "$set": {"updated_at": utc_now()}})
        if result.modified_count:
            return True
        return False if await self.exists(character_id) else None


# -- FaceFusion results, written by the queue's completion (services/facefusion/completion.py) ------------------
GalleryList = Literal["enhanced_faces", "swapped_faces", "edited_expressions", "custom_outputs"]
"""The gallery's lists (``age_variants`` is a map, written with ``$set``)."""


async def record_facefusion_results(
    characters: CharacterRepository,
    character_id: str,
    entries: Sequence[FaceFusionHistoryEntry],
    *,
    gallery: Mapping[GalleryList, Sequence[str]],
    age_variants: Mapping[int, str],
    session: Session = None,
) -> bool:
    """Push history entries and gallery items onto a character in one update; False when there is no such
    character (deleted since the job was queued).

    A character stored with a null history or gallery (written by the original app) first gets empty ones:
    ``$push`` cannot append to null.
    """
    if not entries and not any(gallery.values()) and not age_variants:
        return await characters.exists(character_id, session=session)
    options = {"session": session} if session is not None else {}
    empty_gallery = FaceFusionOutputGallery().model_dump(mode="python")
    await characters.collection.update_one(
        {"id": character_id, "$or": [{HISTORY: None}, {GALLERY: None}]},
        [{"$set": {HISTORY: {"$ifNull": [f"${HISTORY}", []]},
                   GALLERY: {"$ifNull": [f"${GALLERY}", {"$literal": empty_gallery}]}}}],
        **options,
    )  # fmt: skip
    pushes: dict[str, Any] = {f"{GALLERY}.{name}": {"$each": list(urls)} for name, urls in gallery.items() if urls}
    if entries:
        pushes[HISTORY] = {"$each": [entry.model_dump(mode="python") for entry in entries]}
    fields: dict[str, Any] = {f"{GALLERY}.age_variants.{age}": url for age, url in age_variants.items()}
    update: dict[str, Any] = {"$set": {**fields, "updated_at": utc_now()}}
    if pushes:
        update["$push"] = pushes
    result = await characters.collection.update_one({"id": character_id}, update, **options)
    return bool(result.matched_count)
