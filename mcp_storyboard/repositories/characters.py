"""Characters of a project, by name (unique in the project ignoring case: ``named``)."""

from __future__ import annotations

import re
from typing import Any

from mcp_storyboard.db.pagination import fetch_page, sort_value_types
from mcp_storyboard.models.characters import Character
from mcp_storyboard.models.common import Page
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
