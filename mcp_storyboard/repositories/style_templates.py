"""Style templates: a project's own plus library templates (no project), most used first."""

from __future__ import annotations

from typing import Any

from mcp_storyboard.models.common import Page
from mcp_storyboard.models.style_templates import StyleTemplate
from mcp_storyboard.repositories.base import Repository, Session

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
