"""Media store tools: put files in (upload as base64, import from a URL), list them, delete them."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_storyboard.models.common import Page
from mcp_storyboard.models.values import PageSize
from mcp_storyboard.server.confirmation import ConfirmArg
from mcp_storyboard.server.notify import notify_changed
from mcp_storyboard.server.registry import ToolRegistry, get_services
from mcp_storyboard.server.resources import character_uri, clip_uri, project_uris
from mcp_storyboard.server.taxonomy import Toolset
from mcp_storyboard.server.tools._args import Id, MediaId
from mcp_storyboard.services.media.service import MediaDeletion, MediaItem

TOOLSET: Toolset = "storyboard"
tool = ToolRegistry(TOOLSET)

ProjectId = Annotated[Id, Field(description="The project the file belongs to (deleted with it).")]
FileName = Annotated[
    str, Field(min_length=1, max_length=255, pattern=r"^[^/\\\x00-\x1f]+$", description="File name, e.g. shot1.png.")
]


class MediaPage(Page[MediaItem]):
    """One page of media files, newest first; pass ``next_cursor`` back for the next page."""


@tool(title="Upload a media file", operation="create")
async def upload_media(
    project_id: ProjectId,
    filename: FileName,
    mime_type: Annotated[
        str, Field(min_length=3, max_length=255, description="image/*, video/* or audio/*; must match the content.")
    ],
    content_base64: Annotated[str, Field(min_length=1, description="The file's bytes, base64. At most 3 MB of file.")],
    ctx: Context,
) -> MediaItem:
    """Store an image, video or audio file (at most 3 MB: HTTP caps a request at 4 MiB) in a project's media store.
    Larger files: import_media. Use the returned uri in add_clip_media, reference_images or music_media_id."""
    return await get_services(ctx).media.upload(project_id, filename, content_base64, mime_type)


@tool(title="Import a media file from a URL", operation="create")
async def import_media(
    project_id: ProjectId,
    url: Annotated[str, Field(min_length=8, max_length=2048, description="http(s) URL of the file itself.")],
    ctx: Context,
    filename: Annotated[FileName | None, Field(description="File name; default: the URL's last segment.")] = None,
) -> MediaItem:
    """Download an image, video or audio file from a public http(s) URL into a project's media store (size and
    time limited, at most 5 redirects)."""
    return await get_services(ctx).media.import_url(project_id, url, filename)


@tool(title="List media files", operation="read")
async def list_media(
    ctx: Context,
    project_id: Annotated[
        Id | None, Field(description="Only this project's files; omit for all.")
    ] = None,
    limit: Annotated[PageSize, Field(description="Page size.")] = 50,
    cursor: Annotated[str | None, Field(max_length=2000, description="next_cursor of the previous page.")] = None,
) -> MediaPage:
    """Files in the media store, newest first: id, uri, name, MIME type, size."""
    page = await get_services(ctx).media.list_page(project_id=project_id, limit=limit, cursor=cursor)
    return MediaPage(items=page.items, next_cursor=page.next_cursor)


@tool(title="Delete a media file", operation="delete")
async def delete_media(
    media_id: MediaId,
    ctx: Context,
    confirm: ConfirmArg = False,
) -> MediaDeletion:
    """Delete a media file and the clips', characters' and projects' references to it (the result counts them)."""
    deletion = await get_services(ctx).media.delete(media_id, confirm=confirm)
    uris = [f"storyboard://media/{deletion.id}"]
    for ref in deletion.references:
        uris += {"clip": [clip_uri(ref.id)], "character": [character_uri(ref.id)], "project": project_uris(ref.id)}[ref.kind]
    if deletion.project_id is not None and any(ref.kind == "clip" for ref in deletion.references):
        uris += project_uris(deletion.project_id)  # its clips lost a picture: the timeline and contact sheet changed
    await notify_changed(ctx, list(dict.fromkeys(uris)))
    return deletion
