"""The media store: generated images, videos, music and reference pictures, addressed as
``storyboard://media/{id}``.

GridFS (bucket ``media``) on real wire-protocol backends, so every host and worker sees the same files; a
dict-backed twin for ``memory://`` (mongomock has no GridFS).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from gridfs.errors import NoFile
from pydantic import Field, JsonValue

from mcp_storyboard.db.pagination import fetch_page
from mcp_storyboard.errors import NotFoundError, ValidationError
from mcp_storyboard.models.common import (
    Page,
    StoryboardModel,
    UtcDatetime,
    new_id,
    utc_now,
)
from mcp_storyboard.models.media import MEDIA_URI_PREFIX, media_uri  # noqa: F401 (re-exported: the store's addresses)

MEDIA_BUCKET = "media"
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}(;.*)?$", re.I)
_LIST_SORT = (("uploadDate", -1), ("_id", 1))


class MediaInfo(StoryboardModel):
    """A stored media file (its bytes are read separately)."""

    id: str
    """Media id; the file is readable as ``storyboard://media/{id}``."""
    filename: str
    """File name given at upload."""
    content_type: str
    """MIME type, e.g. image/png."""
    size: int = Field(ge=0)
    """Size in bytes."""
    project_id: str | None = None
    """Project the file belongs to (deleted with it), if any."""
    metadata: dict[str, JsonValue] = Field(default_factory=dict)
    """Free-form metadata given at upload."""
    created_at: UtcDatetime
    """Upload time (UTC)."""

    @property
    def uri(self) -> str:
        return media_uri(self.id)


def parse_media_uri(uri: str) -> str:
    """The media id in a ``storyboard://media/{id}`` URI.

    Raises:
        ValidationError: not a media URI.
    """
    if not uri.startswith(MEDIA_URI_PREFIX) or not uri[len(MEDIA_URI_PREFIX) :]:
        raise ValidationError("uri", f"'{uri}' is not a media URI", hint=f"expected {MEDIA_URI_PREFIX}<id>")
    return uri[len(MEDIA_URI_PREFIX) :]


class MediaStore(Protocol):
    max_bytes: int

    async def put(
        self,
        data: bytes,
        *,
        content_type: str,
        filename: str | None = None,
        project_id: str | None = None,
        metadata: Mapping[str, JsonValue] | None = None,
    ) -> MediaInfo: ...
    async def get(self, media_id: str) -> tuple[MediaInfo, bytes]: ...
    async def info(self, media_id: str) -> MediaInfo: ...
    async def list(
        self, *, project_id: str | None = None, project_ids: Sequence[str] | None = None, limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[MediaInfo]:
        """Newest first; ``project_id``: one project's files; ``project_ids``: only files of these projects."""
        ...
    async def count(self, *, project_id: str) -> int: ...
    async def delete(self, media_id: str) -> bool: ...
    async def delete_project(self, project_id: str) -> int: ...


def _check_upload(data: bytes, content_type: str, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise ValidationError(
            "data", f"is {len(data)} bytes, over the {max_bytes}-byte limit", hint="raise STORYBOARD_MEDIA_MAX_BYTES or send a smaller file"
        )
    if not _CONTENT_TYPE.match(content_type):
        raise ValidationError("content_type", f"'{content_type}' is not a MIME type", hint="e.g. image/png, video/mp4, audio/mpeg")


def _info_from_file(doc: Mapping[str, Any]) -> MediaInfo:
    meta = dict(doc.get("metadata") or {})
    return MediaInfo(
        id=str(doc["_id"]),
        filename=doc.get("filename") or str(doc["_id"]),
        content_type=meta.pop("content_type", "application/octet-stream"),
        project_id=meta.pop("project_id", None),
        size=int(doc.get("length", 0)),
        metadata=meta.get("extra") or {},
        created_at=doc.get("uploadDate") or utc_now(),
    )


class GridFSMediaStore:
    """Media in a GridFS bucket; file ids are UUID strings."""

    def __init__(self, database: Any, bucket: Any, max_bytes: int) -> None:
        self._files = database[f"{MEDIA_BUCKET}.files"]
        self._bucket = bucket
        self.max_bytes = max_bytes

    async def put(self, data, *, content_type, filename=None, project_id=None, metadata=None) -> MediaInfo:  # type: ignore[no-untyped-def]
        _check_upload(data, content_type, self.max_bytes)
        media_id = new_id()
        meta = {"content_type": content_type, "project_id": project_id, "extra": dict(metadata or {})}
        await self._bucket.upload_from_stream_with_id(media_id, filename or media_id, data, metadata=meta)
        return await self.info(media_id)

    async def info(self, media_id: str) -> MediaInfo:
        doc = await self._files.find_one({"_id": str(media_id)})
        if doc is None:
            raise NotFoundError("media", media_id)
        return _info_from_file(doc)

    async def get(self, media_id: str) -> tuple[MediaInfo, bytes]:
        info = await self.info(media_id)
        stream = await self._bucket.open_download_stream(info.id)
        return info, await stream.read()

    async def list(self, *, project_id=None, project_ids=None, limit=None, cursor=None) -> Page[MediaInfo]:  # type: ignore[no-untyped-def]
        query: dict[str, Any] = {"metadata.project_id": project_id} if project_id is not None else {}
        if project_ids is not None:
            query = {"$and": [query, {"metadata.project_id": {"$in": list(project_ids)}}]} if query else {
                "metadata.project_id": {"$in": list(project_ids)}}
        docs, next_cursor = await fetch_page(self._files, query, _LIST_SORT, limit=limit, cursor=cursor, projection={})
        return Page[MediaInfo](items=[_info_from_file(d) for d in docs], next_cursor=next_cursor)

    async def count(self, *, project_id: str) -> int:
        """The project's files, counted by the server (no page of them is read)."""
        return int(await self._files.count_documents({"metadata.project_id": project_id}))

    async def delete(self, media_id: str) -> bool:
        if await self._files.find_one({"_id": str(media_id)}, {"_id": 1}) is None:
            return False
        try:
            await self._bucket.delete(str(media_id))
        except NoFile:  # a concurrent delete (delete_media, gc-media, a project delete) got there first
            return False
        return True

    async def delete_project(self, project_id: str) -> int:
        ids = [d["_id"] async for d in self._files.find({"metadata.project_id": project_id}, {"_id": 1})]
        for media_id in ids:
            await self._bucket.delete(media_id)
        return len(ids)


@dataclass
class _StoredFile:
    info: MediaInfo
    data: bytes


@dataclass
class MemoryMediaStore:
    """The ``memory://`` twin of :class:`GridFSMediaStore` (same behaviour, process-local)."""

    max_bytes: int
    _files: dict[str, _StoredFile] = field(default_factory=dict)

    async def put(self, data, *, content_type, filename=None, project_id=None, metadata=None) -> MediaInfo:  # type: ignore[no-untyped-def]
        _check_upload(data, content_type, self.max_bytes)
        media_id = new_id()
        info = MediaInfo(
            id=media_id,
            filename=filename or media_id,
            content_type=content_type,
            size=len(data),
            project_id=project_id,
            metadata=dict(metadata or {}),
            created_at=utc_now(),
        )
        self._files[media_id] = _StoredFile(info, bytes(data))
        return info

    async def info(self, media_id: str) -> MediaInfo:
        stored = self._files.get(media_id)
        if stored is None:
            raise NotFoundError("media", media_id)
        return stored.info

    async def get(self, media_id: str) -> tuple[MediaInfo, bytes]:
        info = await self.info(media_id)
        return info, self._files[media_id].data

    async def list(self, *, project_id=None, project_ids=None, limit=None, cursor=None) -> Page[MediaInfo]:  # type: ignore[no-untyped-def]
        from mcp_storyboard.db.pagination import (
            clamp_limit,
            cursor_key,
            decode_cursor,
            encode_cursor,
        )

        allowed = None if project_ids is None else set(project_ids)
        infos = [f.info for f in self._files.values() if (project_id is None or f.info.project_id == project_id)
                 and (allowed is None or f.info.project_id in allowed)]
        infos.sort(key=lambda i: (-_ts(i.created_at), i.id))
        key = cursor_key("media", {"project_id": project_id, "project_ids": sorted(allowed or ())}, _LIST_SORT)
        if cursor:
            after_ts, after_id = decode_cursor(cursor, key=key, value_types=((int, float), (str,)))
            infos = [i for i in infos if (-_ts(i.created_at), i.id) > (-float(after_ts), after_id)]
        size = clamp_limit(limit)
        page, more = infos[:size], len(infos) > size
        next_cursor = encode_cursor([_ts(page[-1].created_at), page[-1].id], key=key) if more else None
        return Page[MediaInfo](items=page, next_cursor=next_cursor)

    async def count(self, *, project_id: str) -> int:
        return sum(1 for f in self._files.values() if f.info.project_id == project_id)

    async def delete(self, media_id: str) -> bool:
        return self._files.pop(media_id, None) is not None

    async def delete_project(self, project_id: str) -> int:
        doomed = [k for k, f in self._files.items() if f.info.project_id == project_id]
        for key in doomed:
            del self._files[key]
        return len(doomed)


def _ts(value: datetime) -> float:
    return value.timestamp()
