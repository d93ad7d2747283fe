"""Bring an operation's input image into the run's temporary directory: read from the media store
(``storyboard://media/<id>``) or downloaded over http(s) with ``import_media``'s rules (size and type limits,
timeouts, public addresses only unless allowed: :class:`~mcp_storyboard.integrations.media_fetch.MediaFetcher`).

FaceFusion decides what a file is by its extension, so the file is named after its checked content type, and
only the image formats FaceFusion reads are accepted.
"""

from __future__ import annotations

from pathlib import Path

import anyio

from mcp_storyboard.db.media import MEDIA_URI_PREFIX, MediaStore
from mcp_storyboard.errors import NotFoundError, ValidationError
from mcp_storyboard.integrations.facefusion.choices import IMAGE_EXTENSIONS
from mcp_storyboard.integrations.media_fetch import MediaFetcher
from mcp_storyboard.models.media_types import check_content, normalize


async def stage_input(
    url: str, *, field: str, name: str, directory: Path, media: MediaStore, fetcher: MediaFetcher
) -> Path:
    """Write the image at ``url`` to ``directory/<name><ext>`` and return the path.

    Raises:
        NotFoundError: a media id that is not in the store.
        ValidationError: (naming ``field``) an unreadable URL, a refused address, size or type, or content that
            is not an image FaceFusion reads.
        IntegrationError: the download failed or timed out.
    """
    if url.startswith(MEDIA_URI_PREFIX):
        media_id = url[len(MEDIA_URI_PREFIX) :]
        try:
            info, data = await media.get(media_id)
        except NotFoundError:
            raise NotFoundError("media", media_id, hint=f"{field} names a file that is no longer stored") from None
        content_type = check_content(data, info.content_type, field=field)
    elif url.startswith(("http://", "https://")):
        try:
            download = await fetcher.fetch(url, max_bytes=media.max_bytes)
        except ValidationError as exc:
            raise ValidationError(field, exc.message.split(": ", 1)[-1], hint=exc.hint) from None
        content_type = check_content(download.data, download.content_type, field=field)
        data = download.data
    else:
        raise ValidationError(field, "is not a storyboard://media/<id> or http(s) URL",
                              allowed=("storyboard://media/<id>", "http(s)://..."))
    extension = IMAGE_EXTENSIONS.get(normalize(content_type))
    if extension is None:
        raise ValidationError(field, f"is {content_type}; FaceFusion reads only these images",
                              allowed=sorted(IMAGE_EXTENSIONS))
    path = directory / f"{name}{extension}"
    await anyio.to_thread.run_sync(path.write_bytes, data)
    return path
