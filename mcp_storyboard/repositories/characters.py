"""Characters of a project, by name (unique in the project ignoring case: ``named``)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from mcp_storyboard.db.pagination import fetch_page, sort_value_types
from mcp_storyboard.models.characters import Character
from mcp_storyboard.models.common import Page, utc_now
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


# -- FaceFusion results, written by the queue's completion (services/facefusion/completion.py) ------------------
GalleryList = Literal["enhanced_faces", "swapped_faces", "edited_expressions", "custom_outputs"]
"""The gallery's lists (``age_variants`` is a map, written with ``$set``)."""
_HISTORY = "facefusion_processing_history"
_GALLERY = "facefusion_output_gallery"


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
        {"id": character_id, "$or": [{_HISTORY: None}, {_GALLERY: None}]},
        [{"$set": {_HISTORY: {"$ifNull": [f"${_HISTORY}", []]},
                   _GALLERY: {"$ifNull": [f"${_GALLERY}", {"$literal": empty_gallery}]}}}],
        **options,
    )  # fmt: skip
    pushes: dict[str, Any] = {f"{_GALLERY}.{name}": {"$each": list(urls)} for name, urls in gallery.items() if urls}
    if entries:
        pushes[_HISTORY] = {"$each": [entry.model_dump(mode="python") for entry in entries]}
    fields: dict[str, Any] = {f"{_GALLERY}.age_variants.{age}": url for age, url in age_variants.items()}
    update: dict[str, Any] = {"$set": {**fields, "updated_at": utc_now()}}
    if pushes:
        update["$push"] = pushes
    result = await characters.collection.update_one({"id": character_id}, update, **options)
    return bool(result.matched_count)
