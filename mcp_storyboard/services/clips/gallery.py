"""Generated media on a clip: add, select and remove gallery entries, each one atomic update."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcp_storyboard.db.media import MEDIA_URI_PREFIX, media_uri
from mcp_storyboard.errors import NotFoundError, ValidationError
from mcp_storyboard.models.clips import Clip, GeneratedMedia
from mcp_storyboard.models.values import JsonScalar
from mcp_storyboard.services.clips.results import ClipGallery, MediaKind

if TYPE_CHECKING:
    from mcp_storyboard.repositories.bundle import Repositories

_COMPATIBLE_TYPES = {"image": ("image/",), "video": ("video/", "image/gif")}


class ClipGalleryService:
    """The galleries of clips (``generated_images`` / ``generated_videos``) and their selection."""

    def __init__(self, repos: Repositories) -> None:
        self.repos = repos

    async def _clip(self, clip_id: str) -> Clip:
        clip = await self.repos.clips.find(clip_id)
        if clip is None:
            raise NotFoundError("clip", clip_id, hint="see list_clips for a scene's clips")
        return clip

    async def get(self, clip_id: str) -> ClipGallery:
        """A clip's gallery and selection.

        Raises:
            NotFoundError: no such clip.
        """
        return ClipGallery.of(await self._clip(clip_id))

    async def _stored_media_id(self, clip: Clip, kind: MediaKind, media_id: str) -> str:
        try:
            info = await self.repos.database.media.info(media_id)
        except NotFoundError:
            raise NotFoundError(
                "media", media_id, hint="upload the file to the media store first, or pass url"
            ) from None
        if info.project_id is not None and info.project_id != clip.project_id:
            raise ValidationError(
                "media_id",
                f"media '{media_id}' belongs to project {info.project_id}, not to the clip's project {clip.project_id}",
                hint="use a file of the clip's project, or pass its url",
            )
        content_type = info.content_type.lower()
        if content_type != "application/octet-stream" and not content_type.startswith(_COMPATIBLE_TYPES[kind]):
            a_kind = "an image" if kind == "image" else "a video"
            other = next((k for k, prefixes in _COMPATIBLE_TYPES.items() if content_type.startswith(prefixes)), None)
            raise ValidationError(
                "media_id",
                f"media '{media_id}' is {info.content_type}, which is not {a_kind}",
                hint=f"add it with kind {other}" if other else f"use {a_kind} file",
            )
        return info.id

    async def add(
        self,
        clip_id: str,
        kind: MediaKind,
        *,
        url: str | None = None,
        media_id: str | None = None,
        prompt: str = "",
        negative_prompt: str = "",
        params: dict[str, JsonScalar] | None = None,
        server_id: str | None = None,
        model: str | None = None,
    ) -> ClipGallery:
        """Append a generated image or video to a clip's gallery; the first of its kind becomes the selected one.

        Give ``url`` (an external or relative URL, or ``storyboard://media/{id}``) or ``media_id`` (a file in the
        media store, stored as ``storyboard://media/{id}``).

        Raises:
            NotFoundError: no such clip, or no such media file.
            ValidationError: neither or both of url and media_id; the file belongs to another project or is not
                of this kind.
        """
        clip = await self._clip(clip_id)
        if url is not None and url.startswith(MEDIA_URI_PREFIX):
            from_url = url[len(MEDIA_URI_PREFIX) :]
            if media_id is not None and media_id != from_url:
                raise ValidationError(
                    "media_id", f"'{media_id}' differs from the id in url '{url}'", hint="give one of them"
                )
            media_id, url = from_url, None
        if (url is None) == (media_id is None):
            raise ValidationError(
                "url",
                "give exactly one of url and media_id",
                hint="use url for a file elsewhere (https://...), media_id for a file in the media store",
            )
        stored_id = await self._stored_media_id(clip, kind, media_id) if media_id is not None else None
        entry = GeneratedMedia(
            url=media_uri(stored_id) if stored_id is not None else url,  # type: ignore[arg-type]
            media_id=stored_id,
            prompt=prompt,
            negative_prompt=negative_prompt,
            params=dict(params or {}),
            server_id=server_id,
            model=model,
        )
        gallery = ClipGallery.of(await self.repos.clips.add_media(clip_id, kind, entry))
        return gallery.model_copy(update={"entry_id": entry.id})

    async def select(self, clip_id: str, kind: MediaKind, entry_id: str) -> ClipGallery:
        """Make an entry of the clip's gallery of ``kind`` the selected one (one atomic update).

        Raises:
            NotFoundError: no such clip, or the entry is not in that gallery (the hint lists its ids).
        """
        return ClipGallery.of(await self.repos.clips.select_media(clip_id, kind, entry_id))

    async def remove(self, clip_id: str, kind: MediaKind, entry_id: str) -> ClipGallery:
        """Remove an entry from the clip's gallery; if it was selected, the oldest remaining one is selected.

        The file itself stays in the media store (other clips or the project may use it).

        Raises:
            NotFoundError: no such clip, or the entry is not in that gallery.
        """
        return ClipGallery.of(await self.repos.clips.remove_media(clip_id, kind, entry_id))
