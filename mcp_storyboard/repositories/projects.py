"""Projects: newest first, searchable by name, optionally scoped to an owner."""

from __future__ import annotations

import re
from typing import Any

from mcp_storyboard.models.common import Page, utc_now
from mcp_storyboard.models.projects import Project
from mcp_storyboard.repositories.base import Repository, Session, _s

NEWEST_FIRST = (("created_at", -1), ("id", 1))


class ProjectRepository(Repository[Project]):
    document = Project
    kind = "project"

    async def list_page(
        self,
        *,
        name_contains: str | None = None,
        owner_id: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        session: Session = None,
    ) -> Page[Project]:
        """Projects newest first; ``name_contains`` matches case-insensitively as plain text (never a regex)."""
        query: dict[str, Any] = {}
        if name_contains:
            query["name"] = {"$regex": re.escape(name_contains), "$options": "i"}
        if owner_id is not None:
            query["owner_id"] = owner_id
        return await self._page(query, NEWEST_FIRST, limit=limit, cursor=cursor, session=session)

    async def ids_owned_by(self, owner_id: str) -> list[str]:
        """The ids of every project ``owner_id`` owns (served by the ``owner_id`` index)."""
        cursor = self.collection.find({"owner_id": owner_id}, {"_id": 0, "id": 1})
        return [raw["id"] for raw in await cursor.to_list(None)]

    async def set_owner(self, owner_id: str, project_ids: list[str] | None) -> int:
        """Make ``owner_id`` the owner of ``project_ids`` (None: of every project without an owner); how many
        changed."""
        # Projects the user already owns are left as they are (their updated_at too).
        query: dict[str, Any] = (
            {"owner_id": None} if project_ids is None else {"id": {"$in": project_ids}, "owner_id": {"$ne": owner_id}}
        )
        result = await self.collection.update_many(query, {"$set": {"owner_id": owner_id, "updated_at": utc_now()}})
        return int(result.modified_count)

    async def ids_starting_with(self, prefix: str, *, limit: int, session: Session = None) -> list[str]:
        """Ids that start with ``prefix`` (plain text, never a regex), in id order; for completion."""
        query: dict[str, Any] = {"id": {"$regex": "^" + re.escape(prefix)}} if prefix else {}
        cursor = self.collection.find(query, {"_id": 0, "id": 1}, **_s(session)).sort("id", 1).limit(limit)
        return [raw["id"] for raw in await cursor.to_list(None)]
