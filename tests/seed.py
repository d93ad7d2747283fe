"""Seeding and reading back, shared by the service tests and the tool tests: documents written straight through
the repositories (no service rule runs), and a snapshot of everything stored (to prove a refusal wrote nothing)."""

from __future__ import annotations

from typing import Any

from mcp_storyboard.models import Clip, Project, Scene, StyleTemplate
from mcp_storyboard.services.container import Services


async def seed_project(services: Services, name: str = "Night Drive", **fields: Any) -> str:
    """A project's id."""
    return (await services.repositories.projects.insert(Project(name=name, **fields))).id


async def seed_scene(services: Services, project_id: str, name: str = "Verse", **fields: Any) -> Scene:
    return await services.repositories.scenes.insert(Scene(project_id=project_id, name=name, **fields))


async def seed_clip(services: Services, project_id: str, name: str = "Shot", **fields: Any) -> Clip:
    """A clip in a scene of its own ("Scene of <name>")."""
    scene = await seed_scene(services, project_id, f"Scene of {name}")
    return await services.repositories.clips.insert(Clip(project_id=project_id, scene_id=scene.id, name=name, **fields))


async def seed_template(
    services: Services, project_id: str | None, name: str, use_count: int = 0, **fields: Any
) -> str:
    """A style template's id (``project_id`` None: a library template)."""
    stored = StyleTemplate(project_id=project_id, name=name, use_count=use_count, **fields)
    return (await services.repositories.style_templates.insert(stored)).id


async def snapshot(services: Services) -> dict[str, list[dict[str, Any]]]:
    """Every document of every collection, by id, and the media store's file ids (on memory:// it is no
    collection)."""
    db = services.database
    names = sorted(await db.db.list_collection_names())
    stored = {n: await db.collection(n).find({}, {"_id": 0}).sort("id", 1).to_list(None) for n in names}
    stored["(media store)"] = [{"id": i.id} for i in (await db.media.list(limit=100)).items]
    return stored
