"""Clips: ordered within a scene, placed on its timeline, with an atomic gallery of generated media."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from pymongo import ReturnDocument

from mcp_storyboard.errors import NotFoundError
from mcp_storyboard.models.clip_outline import OUTLINE_FIELDS, STATS_FIELDS, ClipOutline, SceneClipStats
from mcp_storyboard.models.clips import Clip, GeneratedMedia
from mcp_storyboard.models.common import Page, utc_now
from mcp_storyboard.repositories.base import NO_ID, Repository, Session, _s

MediaKind = Literal["image", "video"]
# Served by the schema indexes {scene_id, order} and {scene_id, timeline_position}; id makes the order total.
SCENE_ORDER = (("scene_id", 1), ("order", 1), ("id", 1))
TIMELINE_ORDER = (("scene_id", 1), ("timeline_position", 1), ("id", 1))
_GALLERY = {"image": ("generated_images", "selected_image_id"), "video": ("generated_videos", "selected_video_id")}


class ClipRepository(Repository[Clip]):
    document = Clip
    kind = "clip"

    async def list_for_scene(self, scene_id: str, *, session: Session = None) -> list[Clip]:
        return await self._find_all({"scene_id": scene_id}, SCENE_ORDER, session=session)

    async def page_for_scene(
        self, scene_id: str, *, include_alternates: bool = True, limit: int | None = None, cursor: str | None = None
    ) -> Page[Clip]:
        query: dict[str, Any] = {"scene_id": scene_id}
        if not include_alternates:
            query["alternate_of"] = None
        return await self._page(query, SCENE_ORDER, limit=limit, cursor=cursor)

    async def list_for_project(self, project_id: str, *, session: Session = None) -> list[Clip]:
        """Every clip of a project in (scene, order) — one query on the {project_id, scene_id, order} index."""
        return await self._find_all({"project_id": project_id}, (("project_id", 1),) + SCENE_ORDER, session=session)

    async def outlines_for_project(self, project_id: str, *, session: Session = None) -> list[ClipOutline]:
        """Every clip of a project, only the fields the tree shows, in no particular order (the tree orders them;
        a server sort would cost the embedded server a SORT stage over the whole project)."""
        projection = {"_id": 0, **dict.fromkeys(OUTLINE_FIELDS, 1)}
        cursor = self.collection.find({"project_id": project_id}, projection, **_s(session))
        return [ClipOutline.model_validate(raw) for raw in await cursor.to_list(None)]

    async def scene_stats(self, project_id: str, *, session: Session = None) -> list[SceneClipStats]:
        """Per scene of a project: its clip count and where its last main clip ends — one aggregate on the
        {project_id, ...} index, whatever the number of clips."""
        main_end = {"$add": [{"$ifNull": ["$timeline_position", 0]},
                             {"$ifNull": ["$duration", {"$ifNull": ["$length", 5.0]}]}]}
        is_main = {"$eq": [{"$ifNull": ["$alternate_of", None]}, None]}
        pipeline: list[dict[str, Any]] = [
            {"$match": {"project_id": project_id}},
            {"$group": {"_id": "$scene_id", "clips": {"$sum": 1}, "main_end": {"$max": {"$cond": [is_main, main_end, 0]}}}},
        ]  # fmt: skip
        rows = await self.database.aggregate(self.name, pipeline, session=session)
        return [SceneClipStats(scene_id=row["_id"], clips=row["clips"], main_end=row["main_end"] or 0.0) for row in rows]

    async def stats_of_scene(self, scene_id: str, *, session: Session = None) -> SceneClipStats:
        """One scene's clip count and where its last main clip ends, from its clips (on the {scene_id, order} index;
        a scene's clips only, never the project's)."""
        projection = {"_id": 0, **dict.fromkeys(STATS_FIELDS, 1)}
        cursor = self.collection.find({"scene_id": scene_id}, projection, **_s(session))
        return SceneClipStats.of_clips(scene_id, await cursor.to_list(None))

    async def main_timeline(self, scene_id: str, *, session: Session = None) -> list[Clip]:
        """Main clips of a scene in timeline order."""
        return await self._find_all({"scene_id": scene_id, "alternate_of": None}, TIMELINE_ORDER, session=session)

    async def alternates_of(self, clip_id: str, *, session: Session = None) -> list[Clip]:
        return await self._find_all({"alternate_of": clip_id}, (("alternate_number", 1), ("id", 1)), session=session)

    async def set_orders(self, orders: Sequence[tuple[str, int]], *, scene_id: str | None = None, session: Session = None) -> None:
        """Write many ``order`` values (and optionally a new scene) in one bulk write."""
        if not orders:
            return
        now = utc_now()
        extra: dict[str, Any] = {"scene_id": scene_id} if scene_id is not None else {}
        updates = [({"id": cid}, {"$set": {"order": order, "updated_at": now, **extra}}) for cid, order in orders]
        await self._bulk_update(updates, session=session)

    # -- gallery: every change is one atomic update, never a read-modify-write of the array ------------------
    async def add_media(self, clip_id: str, kind: MediaKind, entry: GeneratedMedia, *, session: Session = None) -> Clip:
        """Append a gallery entry; the first one of its kind becomes the selected one.

        Two concurrent adds to an empty gallery cannot both select: only one matches ``selected: null``.
        """
        array, selected = _GALLERY[kind]
        pushed = {"$push": {array: entry.model_dump(mode="python")}}
        first = await self.collection.find_one_and_update(
            {"id": clip_id, selected: None}, {**pushed, "$set": {selected: entry.id, "updated_at": utc_now()}},
            projection=NO_ID, return_document=ReturnDocument.AFTER, **_s(session),
        )
        if first is not None:
            return self.from_document(first)
        return await self._update({"id": clip_id}, pushed, session=session)

    async def select_media(self, clip_id: str, kind: MediaKind, media_entry_id: str, *, session: Session = None) -> Clip:
        """Make an existing gallery entry the selected one.

        Raises:
            NotFoundError: the clip does not exist, or has no such entry (code ``not-found``, naming the gallery).
        """
        array, selected = _GALLERY[kind]
        raw = await self.collection.find_one_and_update(
            {"id": clip_id, f"{array}.id": media_entry_id},
            {"$set": {selected: media_entry_id, "updated_at": utc_now()}},
            projection=NO_ID, return_document=ReturnDocument.AFTER, **_s(session),
        )
        if raw is None:
            clip = await self.get(clip_id, session=session)
            ids = ", ".join(m.id for m in getattr(clip, array)) or "none"
            raise NotFoundError(f"gallery {kind}", media_entry_id, hint=f"{array} of clip {clip_id}: {ids}")
        return self.from_document(raw)

    async def remove_media(self, clip_id: str, kind: MediaKind, media_entry_id: str, *, session: Session = None) -> Clip:
        """Remove a gallery entry; if it was selected, the oldest remaining entry becomes selected (or none).

        Raises:
            NotFoundError: no such clip or entry.
        """
        array, selected = _GALLERY[kind]
        after_raw = await self.collection.find_one_and_update(
            {"id": clip_id, f"{array}.id": media_entry_id},
            {"$pull": {array: {"id": media_entry_id}}, "$set": {"updated_at": utc_now()}},
            projection=NO_ID, return_document=ReturnDocument.AFTER, **_s(session),
        )
        if after_raw is None:
            await self.get(clip_id, session=session)
            raise NotFoundError(f"gallery {kind}", media_entry_id, hint=f"it is not in {array} of clip {clip_id}")
        after = self.from_document(after_raw)
        if getattr(after, selected) != media_entry_id:
            return after
        remaining = [m.id for m in getattr(after, array)]
        # Conditional on the selection still pointing at the removed entry: a concurrent select wins.
        raw = await self.collection.find_one_and_update(
            {"id": clip_id, selected: media_entry_id}, {"$set": {selected: remaining[0] if remaining else None}},
            projection=NO_ID, return_document=ReturnDocument.AFTER, **_s(session),
        )
        return self.from_document(raw) if raw is not None else await self.get(clip_id, session=session)

    # -- references and cascades --------------------------------------------------------------------------------
    async def clear_reference(self, field: Literal["character_id", "style_template_id"], value: str, *, session: Session = None) -> int:
        """Unset a deleted character or template on every clip that points at it."""
        result = await self.collection.update_many({field: value}, {"$set": {field: None, "updated_at": utc_now()}}, **_s(session))
        return int(result.modified_count)

    async def delete_for_scenes(self, scene_ids: Sequence[str], *, session: Session = None) -> int:
        return await self._delete_where({"scene_id": {"$in": list(scene_ids)}}, session=session)

    async def delete_for_project(self, project_id: str, *, session: Session = None) -> int:
        return await self._delete_where({"project_id": project_id}, session=session)

    async def delete_with_alternates(self, clip_id: str, *, session: Session = None) -> int:
        return await self._delete_where({"$or": [{"id": clip_id}, {"alternate_of": clip_id}]}, session=session)

    async def count_for_project(self, project_id: str, *, session: Session = None) -> int:
        return await self.count({"project_id": project_id}, session=session)

    async def ids_for_project(self, project_id: str, *, session: Session = None) -> list[str]:
        """The ids of every clip of a project (ids only: cheap for cascades)."""
        cursor = self.collection.find({"project_id": project_id}, {"_id": 0, "id": 1}, **_s(session))
        return [raw["id"] for raw in await cursor.to_list(None)]

    async def ids_for_scenes(self, scene_ids: Sequence[str], *, session: Session = None) -> list[str]:
        """The ids of every clip of these scenes (ids only: what a scene cascade reports and cleans up)."""
        cursor = self.collection.find({"scene_id": {"$in": list(scene_ids)}}, {"_id": 0, "id": 1}, **_s(session))
        return [raw["id"] for raw in await cursor.to_list(None)]

    # -- additions for the clip service (timeline analysis, alternates' timing, completion) ----------------------
    async def list_for_scenes(self, scene_ids: Sequence[str], *, session: Session = None) -> list[Clip]:
        """Every clip of these scenes in (scene, order) — one query on the {scene_id, order} index."""
        if not scene_ids:
            return []
        return await self._find_all({"scene_id": {"$in": list(dict.fromkeys(scene_ids))}}, SCENE_ORDER, session=session)

    async def set_timing_of_alternates(self, original_id: str, fields: dict[str, float], *, session: Session = None) -> int:
        """``$set`` ``timeline_position`` and/or ``duration`` (already validated) on every alternate of a clip."""
        timing = {k: v for k, v in fields.items() if k in ("timeline_position", "duration")}
        if not timing:
            return 0
        result = await self.collection.update_many(
            {"alternate_of": original_id}, {"$set": {**timing, "updated_at": utc_now()}}, **_s(session)
        )
        return int(result.modified_count)

    async def id_name_pairs(
        self, *, scene_id: str | None = None, id_prefix: str = "", limit: int = 1000
    ) -> list[tuple[str, str]]:
        """``(id, name)`` of clips for completion: a scene's clips in order, or any clips whose id starts with
        ``id_prefix`` (matched as plain text, never as a regex)."""
        query: dict[str, Any] = {}
        if scene_id is not None:
            query["scene_id"] = scene_id
        if id_prefix:
            query["id"] = {"$regex": "^" + re.escape(id_prefix)}
        sort = SCENE_ORDER if scene_id is not None else (("id", 1),)
        cursor = self.collection.find(query, {"_id": 0, "id": 1, "name": 1}).sort(list(sort)).limit(limit)
        return [(str(raw["id"]), str(raw.get("name") or "")) for raw in await cursor.to_list(None)]

    # -- additions for characters and style templates: references to them, changed idempotently ------------------
    async def count_references(self, field: ReferenceField, value: str, *, session: Session = None) -> int:
        """How many clips point at this character or template."""
        return await self.count({field: value}, session=session)

    async def reference_counts(self, field: ReferenceField, values: Sequence[str]) -> dict[str, int]:
        """Clips pointing at each of these characters or templates, in one aggregation (absent: none)."""
        if not values:
            return {}
        pipeline: list[dict[str, Any]] = [
            {"$match": {field: {"$in": list(values)}}},
            {"$group": {"_id": f"${field}", "n": {"$sum": 1}}},
        ]
        return {str(row["_id"]): int(row["n"]) for row in await self.database.aggregate(self.name, pipeline)}

    async def ids_referencing(
        self, field: ReferenceField, value: str, *, limit: int = 100, session: Session = None
    ) -> list[str]:
        """Ids of (at most ``limit``) clips pointing at this character or template."""
        cursor = self.collection.find({field: value}, {"_id": 0, "id": 1}, **_s(session)).sort("id", 1).limit(limit)
        return [str(raw["id"]) for raw in await cursor.to_list(None)]

    async def swap_reference(
        self, clip_id: str, field: ReferenceField, value: str | None, *, session: Session = None
    ) -> Clip | None:
        """Point a clip at a character or template (None detaches it) unless it already points there.

        One conditional update, so concurrent identical calls change the clip once. Returns the clip as it was
        before the change, or None when it already pointed at ``value`` (nothing written).

        Raises:
            NotFoundError: no such clip.
        """
        # The document before the change: the caller undoes the change with the value it replaced.
        raw = await self.collection.find_one_and_update(
            {"id": clip_id, field: {"$ne": value}}, {"$set": {field: value, "updated_at": utc_now()}},
            projection={"_id": 0}, **_s(session),
        )
        if raw is not None:
            return self.from_document(raw)
        if not await self.exists(clip_id, session=session):
            raise NotFoundError("clip", clip_id, hint="list_clips or get_project_tree shows the clip ids")
        return None

    async def restore_reference(
        self, clip_id: str, field: ReferenceField, *, expected: str | None, previous: str | None, session: Session = None
    ) -> None:
        """Undo :meth:`swap_reference` (its target vanished meanwhile), unless the clip has changed again since."""
        await self.collection.update_one(
            {"id": clip_id, field: expected}, {"$set": {field: previous, "updated_at": utc_now()}}, **_s(session)
        )


ReferenceField = Literal["character_id", "style_template_id"]
"""The clip fields that point at a character or a style template."""
