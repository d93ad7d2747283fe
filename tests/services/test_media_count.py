"""A project's media files are counted by the store, not by paging through them."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_storyboard.models.projects import Project
from mcp_storyboard.services.container import Services

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


async def test_a_projects_media_are_counted_without_listing_them(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = await services.repositories.projects.insert(Project(name="Counted"))
    other = await services.repositories.projects.insert(Project(name="Other"))
    media = services.repositories.database.media
    for i in range(3):
        await media.put(PNG, content_type="image/png", filename=f"{i}.png", project_id=project.id)
    await media.put(PNG, content_type="image/png", filename="x.png", project_id=other.id)

    async def no_listing(**_: Any) -> Any:
        raise AssertionError("media were paged through to be counted")

    monkeypatch.setattr(media, "list", no_listing)
    assert await media.count(project_id=project.id) == 3
    assert (await services.projects.contents(project.id)).media == 3
