"""Style templates: a project's own plus library templates (no project), most used first; names are unique in a
project or in the library ignoring case (``named``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from mcp_storyboard.models.common import Page
from mcp_storyboard.models.style_templates import StyleTemplate
from mcp_storyboard.repositories.base import Session
from mcp_storyboard.repositories.named import NamedRepository

MOST_USED = (("use_count", -1), ("id", 1))


class StyleTemplateRepository(NamedRepository[StyleTemplate]):
    document = StyleTemplate
    kind = "style template"
    library_scope = "the template library"

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

    async def increment_use(self, template_id: str, *, session: Session = None) -> StyleTemplate:
        """Atomically add one to ``use_count``."""
        return await self._update({"id": template_id}, {"$inc": {"use_count": 1}}, session=session)

    async def delete_for_project(self, project_id: str, *, session: Session = None) -> int:
        return await self._delete_where({"project_id": project_id}, session=session)

    async def count_for_project(self, project_id: str, *, session: Session = None) -> int:
        """The project's own templates (library templates have no project and are not counted)."""
        return await self.count({"project_id": project_id}, session=session)

    # -- additions for the style template service: completion ---------------------------------------------------
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
