"""The media store's domain rules: upload (base64) and import (http(s) URL) into a project, list, delete with its
references, and find the files a half-failed project delete left behind.

Every stored file is an image, video or audio file whose declared type matches its bytes
(:mod:`mcp_storyboard.models.media_types`), belongs to an existing project (deleted with it), and is at most
``STORYBOARD_MEDIA_MAX_BYTES``; an upload is further capped at :data:`UPLOAD_MAX_BYTES` (the HTTP transport's
4 MiB request cap, less base64's third and the JSON around it).
"""

from __future__ import annotations

import base64
import binascii
import posixpath
from typing import TYPE_CHECKING

from pydantic import PrivateAttr

from mcp_storyboard.db.media import MediaInfo, MediaStore, media_uri
from mcp_storyboard.errors import InvalidStateError, NotFoundError, ValidationError
from mcp_storyboard.integrations.media_fetch import MediaFetcher
from mcp_storyboard.models.common import Page, StoryboardModel, UtcDatetime
from mcp_storyboard.models.media import ClearedReferences, MediaReference
from mcp_storyboard.models.media_types import check_content
from mcp_storyboard.models.values import Integer
from mcp_storyboard.repositories.media_references import MediaReferenceRepository

if TYPE_CHECKING:
    from mcp_storyboard.repositories.bundle import Repositories

UPLOAD_MAX_BYTES = 3_000_000
"""Largest file ``upload_media`` takes: its base64 (4/3 larger) plus the request fits the SDK's 4 MiB HTTP cap."""
SHOWN_REFERENCES = 10
_ORPHAN_BATCH = 1000


class MediaItem(StoryboardModel):
    """A file in the media store."""

    id: str
    """Media id."""
    uri: str
    """``storyboard://media/{id}``: read it as a resource, or give it to add_clip_media, reference_images..."""
    filename: str
    """File name."""
    mime_type: str
    """MIME type, checked against the content."""
    size: Integer
    """Size in bytes."""
    project_id: str | None
    """The project it belongs to (deleted with it)."""
    created_at: UtcDatetime
    """When it was stored (UTC)."""

    @classmethod
    def of(cls, info: MediaInfo) -> MediaItem:
        return cls(
            id=info.id,
            uri=media_uri(info.id),
            filename=info.filename,
            mime_type=info.content_type,
            size=info.size,
            project_id=info.project_id,
            created_at=info.created_at,
        )


class MediaDeletion(StoryboardModel):
    """A deleted media file and the references that were cleared with it."""

    id: str
    """The deleted file's id."""
    uri: str
    """Its former ``storyboard://media/{id}``."""
    cleared: ClearedReferences
    """How many clips, characters and projects lost a reference to it."""
    _references: list[MediaReference] = PrivateAttr(default_factory=list)
    """The first references that were cleared (whose resources changed); not part of the tool result."""
    _project_id: str | None = PrivateAttr(default=None)
    """The project the file belonged to (whose views changed when its clips lost it); not part of the result."""

    @property
    def project_id(self) -> str | None:
        return self._project_id

    @property
    def references(self) -> list[MediaReference]:
        return self._references


class MediaService:
    """Upload, import, list and delete media files of projects."""

    def __init__(self, repos: Repositories, fetcher: MediaFetcher | None = None) -> None:
        self.repos = repos
        self.fetcher = fetcher or MediaFetcher()
        self.references = MediaReferenceRepository(repos.database)

    @property
    def _store(self) -> MediaStore:
        return self.repos.database.media

    # -- create ------------------------------------------------------------------------------------------------
    async def upload(self, project_id: str, filename: str, content_base64: str, mime_type: str) -> MediaItem:
        """Store a base64-encoded file in a project.

        Raises:
            NotFoundError: no such project.
            ValidationError: not base64, empty, over :data:`UPLOAD_MAX_BYTES` (or the store's limit), not an
                image, video or audio file, or ``mime_type`` disagrees with the content (naming both).
        """
        limit = min(UPLOAD_MAX_BYTES, self._store.max_bytes)
        data = decode_base64(content_base64, limit)
        content_type = check_content(data, mime_type)
        await self._project(project_id)
        return await self._put(project_id, data, content_type, _file_name(filename))

    async def import_url(self, project_id: str, url: str, filename: str | None = None) -> MediaItem:
        """Download an http(s) URL into a project (see :class:`MediaFetcher` for the limits).

        Raises:
            NotFoundError: no such project.
            ValidationError: (field ``url``) a refused URL, address, type or size; the content is not the type
                the server declared (naming both).
            IntegrationError: the download failed or timed out.
        """
        await self._project(project_id)
        download = await self.fetcher.fetch(url, max_bytes=self._store.max_bytes)
        content_type = check_content(download.data, download.content_type, field="url")
        name = _file_name(filename or download.filename)
        return await self._put(project_id, download.data, content_type, name, source=download.url)

    async def _put(self, project_id: str, data: bytes, content_type: str, filename: str, source: str | None = None) -> MediaItem:
        metadata = {"source_url": source} if source else None
        info = await self._store.put(
            data, content_type=content_type, filename=filename, project_id=project_id, metadata=metadata
        )
        # The media store is outside transactions: a project deleted meanwhile would leave this file orphaned.
        if await self.repos.projects.find(project_id) is None:
            await self._store.delete(info.id)
            raise NotFoundError("project", project_id, hint="it was deleted while the file was stored")
        return MediaItem.of(info)

    async def _project(self, project_id: str) -> None:
        if await self.repos.projects.find(project_id) is None:
            raise NotFoundError("project", project_id, hint="list_projects shows the projects")

    # -- read --------------------------------------------------------------------------------------------------
    async def list_page(
        self, *, project_id: str | None = None, limit: int | None = None, cursor: str | None = None
    ) -> Page[MediaItem]:
        """Files newest first, of one project or of all.

        Raises:
            ValidationError: ``cursor`` was not returned by this list.
        """
        page = await self._store.list(project_id=project_id, limit=limit, cursor=cursor)
        return Page[MediaItem](items=[MediaItem.of(i) for i in page.items], next_cursor=page.next_cursor)

    # -- delete ------------------------------------------------------------------------------------------------
    async def delete(self, media_id: str, *, confirm: bool) -> MediaDeletion:
        """Delete a file. While clips, characters or projects refer to it, ``confirm`` must be true; then those
        references are cleared in one transaction (where the backend has them) before the file goes.

        Raises:
            NotFoundError: no such file.
            InvalidStateError: (code ``confirmation-required``) it is referred to and ``confirm`` is not true;
                nothing is changed and the message lists the references.
        """
        try:
            info = await self._store.info(media_id)
        except NotFoundError:
            raise NotFoundError("media", media_id, hint="list_media shows a project's files") from None
        found = await self.references.find(media_id, limit=SHOWN_REFERENCES + 1)
        if found and not confirm:
            listed = ", ".join(r.describe() for r in found[:SHOWN_REFERENCES])
            more = " and more" if len(found) > SHOWN_REFERENCES else ""
            raise InvalidStateError(
                f"media {media_id} is used by {listed}{more}",
                hint="call delete_media again with confirm=true to remove these references and the file",
                code="confirmation-required",
            )
        cleared = ClearedReferences()
        if found:
            cleared = await self.repos.database.run_transaction(lambda s: self.references.clear(media_id, session=s))
        await self._store.delete(media_id)
        # A reference added between the transaction and the delete would now dangle: clearing is idempotent.
        late = await self.references.clear(media_id)
        total = ClearedReferences(**{k: v + getattr(late, k) for k, v in cleared.model_dump().items()})
        deletion = MediaDeletion(id=media_id, uri=media_uri(media_id), cleared=total)
        deletion._references = found
        deletion._project_id = info.project_id
        return deletion

    # -- garbage -----------------------------------------------------------------------------------------------
    async def orphans(self) -> list[MediaItem]:
        """Files whose project no longer exists (a project delete that failed after its transaction, or an
        upload racing a project delete). Files without a project are never orphans."""
        files: list[MediaInfo] = []
        cursor: str | None = None
        while True:
            page = await self._store.list(limit=100, cursor=cursor)
            files += [f for f in page.items if f.project_id is not None]
            cursor = page.next_cursor
            if cursor is None:
                break
        wanted = sorted({f.project_id for f in files if f.project_id is not None})
        existing: set[str] = set()
        for start in range(0, len(wanted), _ORPHAN_BATCH):
            existing.update(p.id for p in await self.repos.projects.get_many(wanted[start : start + _ORPHAN_BATCH]))
        return [MediaItem.of(f) for f in files if f.project_id not in existing]

    async def delete_orphans(self, orphans: list[MediaItem]) -> int:
        """Delete these orphans, each only if its project is still missing; how many were deleted."""
        deleted = 0
        for item in orphans:
            if item.project_id is not None and await self.repos.projects.find(item.project_id) is None:
                deleted += await self._store.delete(item.id)
        return deleted


def decode_base64(text: str, limit: int) -> bytes:
    """The bytes of standard or URL-safe base64 (whitespace, missing padding and a ``data:...;base64,`` prefix
    are tolerated), refused before decoding when they would be over ``limit`` bytes.

    Raises:
        ValidationError: (field ``content_base64``) not base64, empty, or over ``limit`` bytes.
    """
    body = text.strip()
    if body.startswith("data:") and ";base64," in body[:200]:
        body = body.split(",", 1)[1]
    body = "".join(body.split())
    if len(body) * 3 // 4 > limit + 2:
        raise ValidationError(
            "content_base64",
            f"holds about {len(body) * 3 // 4} bytes, over the {limit}-byte upload limit",
            hint="files up to about 3 MB fit in upload_media (an HTTP request is capped at 4 MiB); put a larger file "
            "on an http(s) URL and call import_media",
        )
    altchars = b"-_" if "-" in body or "_" in body else None
    try:
        data = base64.b64decode(body + "=" * (-len(body) % 4), altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(
            "content_base64", "is not valid base64", hint="send the file's bytes base64-encoded (A-Z a-z 0-9 + / =)"
        ) from None
    if not data:
        raise ValidationError("content_base64", "is empty", hint="send the file's bytes base64-encoded")
    if len(data) > limit:
        raise ValidationError("content_base64", f"holds {len(data)} bytes, over the {limit}-byte upload limit",
                              hint="put larger files on an http(s) URL and call import_media")
    return data


def _file_name(name: str) -> str:
    """The last path segment of ``name`` (a name is never a path), at most 255 characters."""
    base = posixpath.basename(name.replace("\\", "/")).strip()
    return (base or "file")[:255]
