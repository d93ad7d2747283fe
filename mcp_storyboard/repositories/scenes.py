"""Scenes: ordered within a project and parent; nesting and alternates share ``parent_scene_id``."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from mcp_storyboard.models.clip_outline import SceneClipStats
from mcp_storyboard.models.common import Page, utc_now
from mcp_storyboard.models.scenes import Scene
from mcp_storyboard.repositories.base import NO_ID, Repository, Session, _s

# Served by the schema index {project_id: 1, order: 1}; id makes the order total.
PROJECT_ORDER = (("project_id", 1), ("order", 1), ("id", 1))
CLIP_STATS = "clip_stats"
"""A stored scene's clip numbers, ``{clips, main_end}`` (see ``SceneClipStats``): kept by the clip services in the
transaction of every change to the scene's clips (``services/common/clip_stats.py``) and filled for older scenes by
migration 0004, so a whole-project view reads them with the scenes instead of counting every clip. Not part of the
``Scene`` model: nothing a client reads. A scene written without the services (a test's fixture) has none, and a
view then counts its clips."""


class SceneRepository(Repository[Scene]):
    document = Scene
    kind = "scene"

    async def set_clip_stats(self, stats: SceneClipStats, *, session: Session = None) -> None:
        numbers = {"clips": stats.clips, "main_end": stats.main_end}
        await self.collection.update_one({"id": stats.scene_id}, {"$set": {CLIP_STATS: numbers}}, **_s(session))

    async def list_with_clip_stats(
        self, project_id: str, *, session: Session = None
    ) -> tuple[list[Scene], list[SceneClipStats] | None]:
        """Every scene of a project (as :meth:`list_for_project`, one query) and their stored clip numbers; None when
        a scene has none stored (written by a version before them and not yet migrated)."""
        cursor = self.collection.find({"project_id": project_id}, NO_ID, **_s(session)).sort(list(PROJECT_ORDER))
        scenes: list[Scene] = []
        stats: list[SceneClipStats] | None = []
        for raw in await cursor.to_list(None):
            scene = self.from_document(raw)
            scenes.append(scene)
            stored = raw.get(CLIP_STATS)
            if stats is not None and isinstance(stored, Mapping):
                stats.append(SceneClipStats(scene_id=scene.id, clips=stored["clips"], main_end=stored["main_end"]))
            else:
                stats = None
        return scenes, stats

    async def list_for_project(self, project_id: str, *, session: Session = None) -> list[Scene]:
        """Every scene of a project (main, nested and alternates), in ``order`` — one query."""
        return await self._find_all({"project_id": project_id}, PROJECT_ORDER, session=session)

    async def page_for_project(
        self,
        project_id: str,
        *,
        parent_scene_id: str | None = None,
        top_level_only: bool = False,
        include_alternates: bool = True,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[Scene]:
        query: dict[str, Any] = {"project_id": project_id}
        if parent_scene_id is not None:
            query["parent_scene_id"] = parent_scene_id
        elif top_level_only:
            query["parent_scene_id"] = None
        if not include_alternates:
            query["is_alternate"] = {"$ne": True}
        return await self._page(query, PROJECT_ORDER, limit=limit, cursor=cursor)

    async def siblings(self, project_id: str, parent_scene_id: str | None, *, session: Session = None) -> list[Scene]:
        """Main (non-alternate) scenes with this parent (None: top level), in order."""
        query = {"project_id": project_id, "parent_scene_id": parent_scene_id, "is_alternate": {"$ne": True}}
        return await self._find_all(query, PROJECT_ORDER, session=session)

    async def children(self, parent_scene_id: str, *, session: Session = None) -> list[Scene]:
        """Direct children of a scene: sub-scenes and alternates (served by the parent_scene_id index)."""
        return await self._find_all({"parent_scene_id": parent_scene_id}, (("order", 1), ("id", 1)), session=session)

    async def alternates_of(self, scene_id: str, *, session: Session = None) -> list[Scene]:
        query = {"parent_scene_id": scene_id, "is_alternate": True}
        return await self._find_all(query, (("alternate_number", 1), ("id", 1)), session=session)

    async def set_orders(self, orders: Sequence[tuple[str, int]], *, session: Session = None) -> None:
        """Write many ``order`` values in one bulk write (use inside a transaction for all-or-nothing)."""
        if not orders:
            return
        now = utc_now()
        await self._bulk_update([({"id": sid}, {"$set": {"order": order, "updated_at": now}}) for sid, order in orders], session=session)

    async def ids_under(self, parent_ids: Sequence[str], *, session: Session = None) -> list[str]:
        """The ids of the direct children (sub-scenes and alternates) of these scenes."""
        query = {"parent_scene_id": {"$in": list(parent_ids)}}
        cursor = self.collection.find(query, {"_id": 0, "id": 1}, **_s(session))
        return [raw["id"] for raw in await cursor.to_list(None)]

    async def delete_many(self, scene_ids: Sequence[str], *, session: Session = None) -> int:
        return await self._delete_where({"id": {"$in": list(scene_ids)}}, session=session)

    async def delete_for_project(self, project_id: str, *, session: Session = None) -> int:
        return await self._delete_where({"project_id": project_id}, session=session)

    async def count_for_project(self, project_id: str, *, session: Session = None) -> int:
        return await self.count({"project_id": project_id}, session=session)

    async def ids_for_project(self, project_id: str, *, session: Session = None) -> list[str]:
        """The ids of every scene of a project (ids only: cheap for cascades)."""
        cursor = self.collection.find({"project_id": project_id}, {"_id": 0, "id": 1}, **_s(session))
        return [raw["id"] for raw in await cursor.to_list(None)]

    # -- added for the scene service (issue 3) -------------------------------------------------------------
    async def set_parent(self, scene_ids: Sequence[str], parent_scene_id: str | None, *, session: Session = None) -> None:
        """Re-parent many scenes in one ``update_many`` (their alternate status and numbers are unchanged)."""
        if scene_ids:
            await self.collection.update_many(
                {"id": {"$in": list(scene_ids)}},
                {"$set": {"parent_scene_id": parent_scene_id, "updated_at": utc_now()}},
                **_s(session),
            )

    async def ids_starting_with(self, prefix: str, *, project_id: str | None = None, limit: int = 101) -> list[str]:
        """Scene ids that start with ``prefix`` (plain text, escaped), optionally within one project, in id order."""
        query: dict[str, Any] = {"id": {"$regex": "^" + re.escape(prefix)}}
        if project_id is not None:
            query["project_id"] = project_id
        cursor = self.collection.find(query, {"_id": 0, "id": 1}).sort([("id", 1)]).limit(limit)
        return [raw["id"] for raw in await cursor.to_list(None)]
