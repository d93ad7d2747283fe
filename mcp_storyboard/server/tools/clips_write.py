"""Clip write tools: create, update, delete, alternates, timing, moves and order."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_storyboard.models.clips import ClipType
from mcp_storyboard.models.values import MediaUrl
from mcp_storyboard.server.confirmation import ConfirmArg
from mcp_storyboard.server.notify import notify_changed
from mcp_storyboard.server.registry import ToolRegistry, get_services
from mcp_storyboard.server.results import Written, clip_written, created_fields, patched
from mcp_storyboard.server.taxonomy import Toolset
from mcp_storyboard.server.tools._clip_args import (
    AllowOverlap,
    ClipId,
    Duration,
    Id,
    OptionalDuration,
    Order,
    Position,
    SceneId,
    clip_uris,
    scene_uris,
)
from mcp_storyboard.services.clips.results import (
    ClipChanges,
    ClipDeleted,
    ClipOrder,
    NewClip,
)

TOOLSET: Toolset = "storyboard"
tool = ToolRegistry(TOOLSET)

Prompt = Annotated[str | None, Field(max_length=10_000)]


@tool(title="Create a clip", operation="create")
async def create_clip(
    scene_id: SceneId,
    ctx: Context,
    name: Annotated[str, Field(max_length=200, description="Short clip name.")] = "",
    type: Annotated[
        ClipType, Field(description="image (a still), video (motion) or text (a title card showing `content`).")
    ] = "image",
    content: Annotated[
        str, Field(max_length=10_000, description="The text a text clip shows (required for type text).")
    ] = "",
    lyrics: Annotated[str, Field(max_length=5000, description="The lyrics line(s) over this clip.")] = "",
    image_prompt: Annotated[
        Prompt, Field(description="Image generation prompt (subject, action, framing, mood).")
    ] = None,
    video_prompt: Annotated[
        Prompt, Field(description="Video generation prompt (motion of subject and camera).")
    ] = None,
    media_url: Annotated[
        MediaUrl | None, Field(description="The clip's media: https://, storyboard://media/<id> or a relative path.")
    ] = None,
    thumbnail_url: Annotated[MediaUrl | None, Field(description="A thumbnail of the clip.")] = None,
    timeline_position: Position = None,
    duration: Duration = 5.0,
    order: Order = None,
    allow_overlap: AllowOverlap = False,
) -> Written:
    """Create a clip in a scene.

    Without timeline_position it starts where the scene's main timeline ends (clips created in turn play back to
    back); a position overlapping another main clip is refused with [clip-overlap], naming it and a free position.
    Returns where it went; get_clip shows the whole clip.
    """
    new = NewClip(
        name=name,
        type=type,
        content=content,
        lyrics=lyrics,
        image_prompt=image_prompt,
        video_prompt=video_prompt,
        media_url=media_url,
        thumbnail_url=thumbnail_url,
        duration=duration,
    )
    clip = await get_services(ctx).clips.create(
        scene_id, new, timeline_position=timeline_position, order=order, allow_overlap=allow_overlap
    )
    await notify_changed(ctx, clip_uris(clip))
    return clip_written(clip, created_fields(clip, "order", "timeline_position"))


@tool(title="Update a clip", operation="update", idempotent=True)
async def update_clip(
    clip_id: ClipId,
    changes: Annotated[
        ClipChanges,
        Field(description='Only the fields to change; null clears a prompt or URL.'),
    ],
    ctx: Context,
) -> Written:
    """Change a clip's text, type, prompts or media URLs; get_clip shows the result.

    Timing: set_clip_timing. Order and scene: move_clip / reorder_clips. Character: assign_character. Style:
    apply_style_template.
    """
    clip = await get_services(ctx).clips.update(clip_id, changes)
    await notify_changed(ctx, clip_uris(clip))
    return clip_written(clip, patched(changes))


@tool(title="Delete a clip", operation="delete")
async def delete_clip(
    clip_id: ClipId,
    ctx: Context,
    confirm: ConfirmArg = False,
) -> ClipDeleted:
    """Delete a clip and its alternates; the scene's remaining clips are renumbered 0..n-1. Gallery files stay in
    the media store."""
    deleted = await get_services(ctx).clips.delete(clip_id, confirm=confirm)
    ids = [deleted.id, *deleted.deleted_alternate_ids]
    await notify_changed(ctx, scene_uris(deleted.project_id, [deleted.scene_id], ids))
    return deleted


@tool(title="Create an alternate clip", operation="create")
async def create_alternate_clip(clip_id: ClipId, ctx: Context) -> Written:
    """Create an alternate take of a clip, named "<name> A<n>" (n never reused).

    It copies everything but the gallery, is listed right after its family and shares its original's slot (never
    an overlap). Given an alternate, the new one is another alternate of the same original.
    """
    clip = await get_services(ctx).clips.create_alternate(clip_id)
    await notify_changed(ctx, clip_uris(clip))
    return clip_written(clip, created_fields(clip, "order", "timeline_position"))


@tool(title="Set a clip's timing", operation="update", idempotent=True)
async def set_clip_timing(
    clip_id: ClipId,
    ctx: Context,
    timeline_position: Annotated[
        Position,
        Field(description="New start in seconds from the start of the scene; omit to keep."),
    ] = None,
    duration: OptionalDuration = None,
    allow_overlap: AllowOverlap = False,
    move_alternates: Annotated[
        bool, Field(description="Also give its alternates this timing (by default they keep theirs).")
    ] = False,
) -> Written:
    """Set where a clip starts on its scene's timeline and/or how long it lasts (it must end by 10000 s).

    An overlap with another main clip is refused with [clip-overlap], naming that clip and the first free
    position from the requested one. Alternates are never checked.
    """
    clip = await get_services(ctx).clips.set_timing(
        clip_id,
        timeline_position=timeline_position,
        duration=duration,
        allow_overlap=allow_overlap,
        move_alternates=move_alternates,
    )
    await notify_changed(ctx, clip_uris(clip))
    given = {"timeline_position": timeline_position, "duration": duration}
    return clip_written(clip, [name for name, value in given.items() if value is not None])


@tool(title="Move a clip", operation="update")
async def move_clip(
    clip_id: ClipId,
    ctx: Context,
    scene_id: Annotated[
        Id | None, Field(description="Another scene of the same project; omit to stay in the scene.")
    ] = None,
    order: Annotated[
        Order,
        Field(
            description="0-based place in the target scene's display order; omit to keep the place (same scene) "
            "or to go last (another scene)."
        ),
    ] = None,
    timeline_position: Annotated[
        Position, Field(description="New start in the target scene, seconds; omit to keep the current one.")
    ] = None,
    allow_overlap: AllowOverlap = False,
) -> Written:
    """Move a clip to another scene of its project and/or place in the display order (optionally to a new
    timeline position). Its alternates move with it; alternates themselves only change order.

    An overlap with a main clip of the target scene is refused with [clip-overlap] and a free position (pass it as
    timeline_position). Both scenes are renumbered 0..n-1.
    """
    moved = await get_services(ctx).clips.move(
        clip_id, scene_id=scene_id, order=order, timeline_position=timeline_position, allow_overlap=allow_overlap
    )
    clip = moved.clip
    await notify_changed(ctx, scene_uris(clip.project_id, [moved.from_scene_id, clip.scene_id], [clip.id]))
    given = {"scene_id": scene_id, "timeline_position": timeline_position}
    return clip_written(clip, ["order", *(name for name, value in given.items() if value is not None)])


@tool(title="Reorder the clips of a scene", operation="update", idempotent=True)
async def reorder_clips(
    scene_id: SceneId,
    clip_ids: Annotated[
        list[Id],
        Field(
            min_length=1,
            max_length=1000,
            description="Every clip of the scene (alternates too), each once, in the new order.",
        ),
    ],
    ctx: Context,
) -> ClipOrder:
    """Set the display order of all clips of a scene at once; orders become 0..n-1 (timing is not changed).

    The list must be exactly the scene's current clips; otherwise nothing changes and the error names the missing,
    repeated and foreign ids.
    """
    result = await get_services(ctx).clips.reorder(scene_id, clip_ids)
    await notify_changed(ctx, scene_uris(result.project_id, [scene_id], result.clip_ids))
    return result
