"""Characters of a project, by name."""

from __future__ import annotations

from mcp_storyboard.models.characters import Character
from mcp_storyboard.models.common import Page
from mcp_storyboard.repositories.base import Repository, Session

# Served by the schema index {project_id: 1, name: 1}.
BY_NAME = (("project_id", 1), ("name", 1), ("id", 1))


class CharacterRepository(Repository[Character]):
    document = Character
    kind = "character"

    async def page_for_project(self, project_id: str, *, limit: int | None = None, cursor: str | None = None) -> Page[Character]:
        return await self._page({"project_id": project_id}, BY_NAME, limit=limit, cursor=cursor)

    async def list_for_project(self, project_id: str, *, session: Session = None) -> list[Character]:
        return await self._find_all({"project_id": project_id}, BY_NAME, session=session)

    async def find_by_name(self, project_id: str, name: str) -> Character | None:
        raw = await self.collection.find_one({"project_id": project_id, "name": name}, {"_id": 0})
        return None if raw is None else self.from_document(raw)

    async def delete_for_project(self, project_id: str, *, session: Session = None) -> int:
        return await self._delete_where({"project_id": project_id}, session=session)

    async def count_for_project(self, project_id: str, *, session: Session = None) -> int:
        return await self.count({"project_id": project_id}, session=session)
