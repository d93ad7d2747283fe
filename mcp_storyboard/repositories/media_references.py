"""References to a media file across the collections that hold them: clips (gallery entries, media_url,
thumbnail_url), characters (reference_images) and projects (music_media_id, thumbnail_url).

One repository for one concern that spans three collections, so deleting a file finds and clears every pointer
to it in one place (inside the caller's transaction). FaceFusion history and job records keep their URLs: they
record what happened.
"""

from __future__ import annotations

from typing import Any

from mcp_storyboard.db.connection import Database
from mcp_storyboard.db.media import media_uri
from mcp_storyboard.models.clips import legacy_media_id
from mcp_storyboard.models.common import utc_now
from mcp_storyboard.models.media import ClearedReferences, MediaReference, ReferenceField
from mcp_storyboard.repositories.base import Session, _s

_GALLERIES: tuple[tuple[ReferenceField, str], ...] = (
    ("generated_images", "selected_image_id"),
    ("generated_videos", "selected_video_id"),
)
_CLIP_URL_FIELDS: tuple[ReferenceField, ...] = ("media_url", "thumbnail_url")


def _is_entry_of(entry: Any, media_id: str, uri: str) -> bool:
    if isinstance(entry, str):  # a legacy plain-URL entry
        return entry == uri
    return isinstance(entry, dict) and (entry.get("media_id") == media_id or entry.get("url") == uri)


def _entry_id(entry: Any) -> str:
    return legacy_media_id(entry) if isinstance(entry, str) else str(entry.get("id"))


class MediaReferenceRepository:
    """Find and clear the references to one media file."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.clips = database.collection("clips")
        self.characters = database.collection("characters")
        self.projects = database.collection("projects")

    @staticmethod
    def _clip_query(media_id: str, uri: str) -> dict[str, Any]:
        ors: list[dict[str, Any]] = [{field: uri} for field in _CLIP_URL_FIELDS]
        for array, _ in _GALLERIES:
            ors += [{f"{array}.media_id": media_id}, {f"{array}.url": uri}, {array: uri}]
        return {"$or": ors}

    async def find(self, media_id: str, *, limit: int = 100, session: Session = None) -> list[MediaReference]:
        """At most ``limit`` references to the file, clips first, each document's fields in schema order."""
        uri = media_uri(media_id)
        found: list[MediaReference] = []
        projection: dict[str, int] = {"_id": 0, "id": 1, **{f: 1 for f in (*_CLIP_URL_FIELDS, *(a for a, _ in _GALLERIES))}}
        cursor = self.clips.find(self._clip_query(media_id, uri), projection, **_s(session)).sort("id", 1).limit(limit)
        for raw in await cursor.to_list(None):
            for array, _ in _GALLERIES:
                if any(_is_entry_of(e, media_id, uri) for e in raw.get(array) or []):
                    found.append(MediaReference(kind="clip", id=raw["id"], field=array))
            found += [MediaReference(kind="clip", id=raw["id"], field=f) for f in _CLIP_URL_FIELDS if raw.get(f) == uri]
        cursor = self.characters.find({"reference_images": uri}, {"_id": 0, "id": 1}, **_s(session))
        for raw in await cursor.sort("id", 1).limit(limit).to_list(None):
            found.append(MediaReference(kind="character", id=raw["id"], field="reference_images"))
        query = {"$or": [{"music_media_id": media_id}, {"thumbnail_url": uri}]}
        cursor = self.projects.find(query, {"_id": 0, "id": 1, "music_media_id": 1, "thumbnail_url": 1}, **_s(session))
        for raw in await cursor.sort("id", 1).limit(limit).to_list(None):
            if raw.get("music_media_id") == media_id:
                found.append(MediaReference(kind="project", id=raw["id"], field="music_media_id"))
            if raw.get("thumbnail_url") == uri:
                found.append(MediaReference(kind="project", id=raw["id"], field="thumbnail_url"))
        return found[:limit]

    async def clear(self, media_id: str, *, session: Session = None) -> ClearedReferences:
        """Remove every reference to the file: its gallery entries (a removed selection passes to the oldest
        remaining entry, or none), clip and project URLs equal to its URI, its character reference images and a
        soundtrack pointing at it. Idempotent: a second call finds nothing."""
        uri = media_uri(media_id)
        now = utc_now()
        clip_ids: set[str] = set()
        projection: dict[str, int] = {"_id": 0, "id": 1, **{f: 1 for pair in _GALLERIES for f in pair}}
        gallery_query = {"$or": [q for q in self._clip_query(media_id, uri)["$or"] if not _is_url_field(q)]}
        for raw in await self.clips.find(gallery_query, projection, **_s(session)).to_list(None):
            clip_ids.add(raw["id"])
            for array, selected in _GALLERIES:
                entries = raw.get(array) or []
                removed = {_entry_id(e) for e in entries if _is_entry_of(e, media_id, uri)}
                if not removed:
                    continue
                objects = [e["id"] for e in entries if isinstance(e, dict) and _is_entry_of(e, media_id, uri)]
                pull = {array: {"id": {"$in": objects}}}  # by entry id: mongomock has no $or inside $pull
                await self.clips.update_one({"id": raw["id"]}, {"$pull": pull, "$set": {"updated_at": now}}, **_s(session))
                if uri in entries:
                    await self.clips.update_one({"id": raw["id"]}, {"$pull": {array: uri}}, **_s(session))
                if raw.get(selected) in removed:
                    remaining = [_entry_id(e) for e in entries if _entry_id(e) not in removed]
                    # Conditional on the selection still being the removed entry: a concurrent select wins.
                    await self.clips.update_one(
                        {"id": raw["id"], selected: raw[selected]},
                        {"$set": {selected: remaining[0] if remaining else None}},
                        **_s(session),
                    )
        for field in _CLIP_URL_FIELDS:
            cursor = self.clips.find({field: uri}, {"_id": 0, "id": 1}, **_s(session))
            clip_ids.update(raw["id"] for raw in await cursor.to_list(None))
            await self.clips.update_many({field: uri}, {"$set": {field: None, "updated_at": now}}, **_s(session))
        characters = await self.characters.update_many(
            {"reference_images": uri}, {"$pull": {"reference_images": uri}, "$set": {"updated_at": now}}, **_s(session)
        )
        project_ids: set[str] = set()
        for field, value in (("music_media_id", media_id), ("thumbnail_url", uri)):
            cursor = self.projects.find({field: value}, {"_id": 0, "id": 1}, **_s(session))
            project_ids.update(raw["id"] for raw in await cursor.to_list(None))
            await self.projects.update_many({field: value}, {"$set": {field: None, "updated_at": now}}, **_s(session))
        return ClearedReferences(
            clips=len(clip_ids), characters=int(characters.modified_count), projects=len(project_ids)
        )


def _is_url_field(query: dict[str, Any]) -> bool:
    return any(key in _CLIP_URL_FIELDS for key in query)
