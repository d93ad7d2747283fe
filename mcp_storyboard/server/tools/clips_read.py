"""Clip read tools: get, list, alternates and the timeline analysis; plus the completer of ``clip_id`` arguments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_storyboard.models.clips import Clip
from mcp_storyboard.models.values import NOT_BOOL, PageSize
from mcp_storyboard.server.completions import CompletionRegistry
from mcp_storyboard.server.registry import ToolRegistry, get_services
from mcp_storyboard.server.taxonomy import Toolset
from mcp_storyboard.server.tools._clip_args import _ID, ClipId, SceneId
from mcp_storyboard.services.clips.results import (
    ClipAlternates,
    ClipPage,
    TimelineAnalysis,
)

TOOLSET: Toolset = "storyboard"
tool = ToolRegistry(TOOLSET)
complete = CompletionRegistry()


@tool(title="Get a clip", operation="read")
async def get_clip(clip_id: ClipId, ctx: Context) -> Clip:
    """One clip with everything on it: type, name, content, lyrics, timing, order, prompts, character, style
    template, alternate link, and its gallery of generated images and videos with the selected ones."""
    return await get_services(ctx).clips.get(clip_id)


@tool(title="List the clips of a scene", operation="read")
async def list_clips(
    scene_id: SceneId,
    ctx: Context,
    include_alternates: Annotated[
        bool, Field(description="Also list alternate clips (each right after its original); false: main clips only.")
    ] = True,
    limit: Annotated[PageSize, Field(description="Page size, 1–100.")] = 50,
    cursor: Annotated[
        str | None, Field(max_length=1024, description="next_cursor of the previous page; omit for the first page.")
    ] = None,
) -> ClipPage:
    """A scene's clips in display order (order 0..n-1), paginated. For the whole project use get_project_tree."""
    return await get_services(ctx).clips.list_for_scene(
        scene_id, include_alternates=include_alternates, limit=limit, cursor=cursor
    )


@tool(title="List a clip's alternates", operation="read")
async def list_clip_alternates(clip_id: ClipId, ctx: Context) -> ClipAlternates:
    """A clip's family: its original (the clip itself, or the clip it is an alternate of) and the alternates
    A1, A2, ... in number order."""
    return await get_services(ctx).clips.alternates(clip_id)


@tool(title="Analyse the timeline", operation="read")
async def analyze_timeline(
    ctx: Context,
    project_id: Annotated[str | None, Field(description="Analyse the whole project.", **_ID)] = None,
    scene_id: Annotated[str | None, Field(description="Analyse only this scene and its sub-scenes.", **_ID)] = None,
    gap_threshold: Annotated[
        Annotated[float, Field(ge=0.0, le=600.0, allow_inf_nan=False), NOT_BOOL],
        Field(description="Report gaps longer than this, in seconds."),
    ] = 0.1,
) -> TimelineAnalysis:
    """Check a project's (or one scene's) timeline: per scene the overlapping main clips (with a suggested free
    position for the later one), gaps longer than the threshold, its length and offset on the project timeline,
    the summed clip length, clip counts, and clips missing prompts (image clips without image_prompt, video clips
    without video_prompt); then totals, the project's music duration and has_issues.

    Give project_id or scene_id. Alternate clips share their original's slot and never count as overlaps.
    Fix overlaps with set_clip_timing at the suggested position.
    """
    return await get_services(ctx).clips.analyze(project_id=project_id, scene_id=scene_id, gap_threshold=gap_threshold)


@complete(argument="clip_id", prompt="*")
@complete(argument="clip_id", template="storyboard://clips/{clip_id}")
async def clip_ids(value: str, context: Mapping[str, str], services: Any) -> list[str]:
    """Clip ids: of the resolved ``scene_id``'s clips, those whose id starts with or name contains the typed text;
    without a scene, ids starting with it."""
    scene_id = context.get("scene_id") or None
    return await services.clips.complete_ids(value, scene_id=scene_id)
