"""Style templates: a project's own plus library templates (no project), most used first."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from mcp_storyboard.models.common import Page, utc_now
from mcp_storyboard.models.style_templates import StyleTemplate
from mcp_storyboard.repositories.base import Repository, Session, _s
from mcp_storyboard.repositories.characters import exact_ignoring_case

MOST_USED = (("use_count", -1), ("id", 1))


class StyleTemplateRepository(Repository[StyleTemplate]):
    document = StyleTemplate
    kind = "style template"

    async def page_for_project(
        self, project_id: str | None, *, include_library: bool = True, limit: int | None = None, cursor: str | None = None
    ) -> Page[StyleTemplate]:
        """A project's templates (and, by default, the library's), by ``use_count`` descending.

        ``project_id`` None lists the library alone.
        """
        scopes: list[str | None] = [project_id] if project_id is not None else []
        if include_library or project_id is None:
            scopes.append(None)
        query: dict[str, Any] = {"project_id": {"$in": scopes}}
        return await self._page(query, MOST_USED, limit=limit, cursor=cursor)

    async def find_by_name(self, project_id: str | None, name: str) -> StyleTemplate | None:
        raw = await self.collection.find_one({"project_id": project_id, "name": name}, {"_id": 0})
        return None if raw is None else self.from_document(raw)

    async def increment_use(self, template_id: str, *, session: Session = None) -> StyleTemplate:
        """Atomically add one to ``use_count``."""
        return await self._update({"id": template_id}, {"$inc": {"use_count": 1}}, session=session)

    async def delete_for_project(self, project_id: str, *, session: Session = None) -> int:
        return await self._delete_where({"project_id": project_id}, session=session)

    async def count_for_project(self, project_id: str, *, session: Session = None) -> int:
        """The project's own templates (library templates have no project and are not counted)."""
        return await self.count({"project_id": project_id}, session=session)

    # -- additions for the style template service: case-insensitive names, completion ---------------------------
    async def same_name(
        self, project_id: str | None, name: str, *, exclude_id: str | None = None, session: Session = None
    ) -> list[StyleTemplate]:
        """Templates of one scope (a project, or the library when ``project_id`` is None) called ``name`` ignoring
        case (matched as plain text, never as a pattern)."""
        query: dict[str, Any] = {"project_id": project_id, "name": exact_ignoring_case(name)}
        if exclude_id is not None:
            query["id"] = {"$ne": exclude_id}
        return await self._find_all(query, MOST_USED, session=session)

    async def id_name_pairs(
        self, scopes: Sequence[str | None] | None, *, prefix: str = "", limit: int = 100
    ) -> list[tuple[str, str]]:
        """``(id, name)`` of the templates in ``scopes`` (project ids; None is the library; ``scopes`` None is
        every template) whose name or id starts with ``prefix`` ignoring case, most used first."""
        query: dict[str, Any] = {} if scopes is None else {"project_id": {"$in": list(scopes)}}
        if prefix:
            pattern = {"$regex": "^" + re.escape(prefix), "$options": "i"}
            query["$or"] = [{"name": pattern}, {"id": pattern}]
        cursor = self.collection.find(query, {"_id": 0, "id": 1, "name": 1}).sort(list(MOST_USED)).limit(limit)
        return [(str(raw["id"]), str(raw.get("name") or "")) for raw in await cursor.to_list(None)]

    async def rename_back(self, template_id: str, *, from_name: str, to_name: str, session: Session = None) -> None:
        """Undo a rename that lost a race for a name, unless the name has changed again since."""
        await self.collection.update_one(
            {"id": template_id, "name": from_name}, {"$set": {"name": to_name, "updated_at": utc_now()}}, **_s(session)
        )
