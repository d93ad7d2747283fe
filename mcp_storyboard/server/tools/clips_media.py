"""Generated media on a clip: add to its gallery, select, remove — each one atomic update."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field, JsonValue

from mcp_storyboard.models.values import SAFE_KEYS, JsonScalar, MediaUrl
from mcp_storyboard.server.confirmation import ConfirmArg
from mcp_storyboard.server.notify import notify_changed
from mcp_storyboard.server.registry import ToolRegistry, get_services
from mcp_storyboard.server.taxonomy import Toolset
from mcp_storyboard.server.results import GalleryWritten
from mcp_storyboard.server.resources import clip_uri
from mcp_storyboard.server.tools._clip_args import ClipId, Id, scene_uris
from mcp_storyboard.services.clips.results import ClipGallery, MediaKind

TOOLSET: Toolset = "storyboard"
tool = ToolRegistry(TOOLSET)

Kind = Annotated[MediaKind, Field(description="Which gallery: image (generated_images) or video (generated_videos).")]
EntryId = Annotated[Id, Field(description="The gallery entry's id (from get_clip or add_clip_media).")]
PromptText = Annotated[str, Field(max_length=10_000)]


@tool(title="Add generated media to a clip", operation="create")
async def add_clip_media(
    clip_id: ClipId,
    kind: Kind,
    ctx: Context,
    url: Annotated[
        MediaUrl | None,
        Field(
            description="Where the file is: https://..., storyboard://media/<id> or a relative path. Give url or "
            "media_id."
        ),
    ] = None,
    media_id: Annotated[
        Id | None,
        Field(description="A file in the media store (it must exist); stored as storyboard://media/<id>."),
    ] = None,
    prompt: Annotated[PromptText, Field(description="The prompt it was generated from.")] = "",
    negative_prompt: Annotated[PromptText, Field(description="The negative prompt it was generated with.")] = "",
    params: Annotated[
        dict[Annotated[str, Field(max_length=100)], JsonScalar],
        SAFE_KEYS,
        Field(
            max_length=100, description="Generation parameters (seed, steps, cfg, sampler, width, ...), JSON scalars."
        ),
    ]
    | None = None,
    server_id: Annotated[Id | None, Field(description="The server or provider that generated it.")] = None,
    model: Annotated[str | None, Field(max_length=512, description="The model (checkpoint) used.")] = None,
) -> GalleryWritten:
    """Add a generated image or video to a clip's gallery. The first one of its kind becomes the selected one;
    later ones are added unselected (choose with select_clip_media). Returns the new entry's id and the selection;
    get_clip shows the gallery."""
    gallery = await get_services(ctx).clips.gallery.add(
        clip_id,
        kind,
        url=url,
        media_id=media_id,
        prompt=prompt,
        negative_prompt=negative_prompt,
        params=params,
        server_id=server_id,
        model=model,
    )
    assert gallery.entry_id is not None  # add always names the entry it appended
    return await _written(ctx, gallery, gallery.entry_id)


@tool(title="Select a clip's image or video", operation="update", idempotent=True)
async def select_clip_media(clip_id: ClipId, kind: Kind, media_entry_id: EntryId, ctx: Context) -> GalleryWritten:
    """Make one entry of a clip's image or video gallery the selected one (exports use the selected video).
    The entry must be in that gallery; the error lists the ids that are."""
    gallery = await get_services(ctx).clips.gallery.select(clip_id, kind, media_entry_id)
    return await _written(ctx, gallery, media_entry_id)


@tool(title="Remove media from a clip", operation="delete")
async def remove_clip_media(
    clip_id: ClipId, kind: Kind, media_entry_id: EntryId, ctx: Context, confirm: ConfirmArg = False
) -> GalleryWritten:
    """Remove an entry from a clip's image or video gallery. If it was the selected one, the oldest remaining entry
    becomes selected (or none). The file itself stays in the media store."""
    gallery = await get_services(ctx).clips.gallery.remove(clip_id, kind, media_entry_id)
    return await _written(ctx, gallery, media_entry_id)


async def _written(ctx: Context, gallery: ClipGallery, entry_id: str) -> GalleryWritten:
    """The entry the call touched and the gallery's selection after it (what the caller acts on next)."""
    await notify_changed(ctx, scene_uris(gallery.project_id, [gallery.scene_id], [gallery.clip_id]))
    selection: dict[str, JsonValue] = {"selected_image_id": gallery.selected_image_id,
                                       "selected_video_id": gallery.selected_video_id}
    return GalleryWritten(id=gallery.clip_id, uri=clip_uri(gallery.clip_id), changed=selection,
                          media_entry_id=entry_id)
