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
from mcp_storyboard.server.results import ClipFamily, ClipSummaryPage, summaries
from mcp_storyboard.server.tools._clip_args import ClipId, Id, SceneId
from mcp_storyboard.services.clips.results import TimelineAnalysis
from mcp_storyboard.services.projects.tree import summarize_clip

TOOLSET: Toolset = "storyboard"
tool = ToolRegistry(TOOLSET)
complete = CompletionRegistry()


@tool(title="Get a clip", operation="read")
async def get_clip(clip_id: ClipId, ctx: Context) -> Clip:
    """One whole clip: text, timing, prompts, character, style template, alternate link, and its gallery of
    generated images and videos with the selected ones."""
    return await get_services(ctx).clips.get(clip_id)


@tool(title="List the clips of a scene", operation="read")
async def list_clips(
    scene_id: SceneId,
    ctx: Context,
    include_alternates: Annotated[
        bool, Field(description="Also list alternate clips (each after its original).")
    ] = True,
    limit: Annotated[PageSize, Field(description="Page size.")] = 50,
    cursor: Annotated[
        str | None, Field(max_length=1024, description="next_cursor of the previous page.")
    ] = None,
) -> ClipSummaryPage:
    """A scene's clips in display order (order 0..n-1) as summaries, paginated; get_clip shows a whole clip.
    For the whole project use get_project_tree."""
    page = await get_services(ctx).clips.list_for_scene(
        scene_id, include_alternates=include_alternates, limit=limit, cursor=cursor
    )
    return ClipSummaryPage(items=summaries(page.items), next_cursor=page.next_cursor)


@tool(title="List a clip's alternates", operation="read")
async def list_clip_alternates(clip_id: ClipId, ctx: Context) -> ClipFamily:
    """A clip's family as summaries: its original (the clip itself, or the clip it is an alternate of) and the
    alternates A1, A2, ... in number order."""
    family = await get_services(ctx).clips.alternates(clip_id)
    return ClipFamily(original=summarize_clip(family.original), alternates=summaries(family.alternates))


@tool(title="Analyse the timeline", operation="read")
async def analyze_timeline(
    ctx: Context,
    project_id: Annotated[Id | None, Field(description="Analyse the whole project.")] = None,
    scene_id: Annotated[Id | None, Field(description="Analyse only this scene and its sub-scenes.")] = None,
    gap_threshold: Annotated[
        Annotated[float, Field(ge=0.0, le=600.0, allow_inf_nan=False), NOT_BOOL],
        Field(description="Report gaps longer than this, in seconds."),
    ] = 0.1,
) -> TimelineAnalysis:
    """Check a project's (or one scene's) timeline. Per scene: overlapping main clips (with a free position for
    the later one), gaps over the threshold, length, offset, clip counts and clips missing the prompt their type
    needs; then totals, the music duration and has_issues.

    Give project_id or scene_id. Alternate clips share their original's slot and never overlap. Fix overlaps with
    set_clip_timing at the suggested position.
    """
    return await get_services(ctx).clips.analyze(project_id=project_id, scene_id=scene_id, gap_threshold=gap_threshold)


@complete(argument="clip_id", prompt="*")
@complete(argument="clip_id", template="storyboard://clips/{clip_id}")
async def clip_ids(value: str, context: Mapping[str, str], services: Any) -> list[str]:
    """Clip ids: of the resolved ``scene_id``'s clips, those whose id starts with or name contains the typed text;
    without a scene, ids starting with it."""
    scene_id = context.get("scene_id") or None
    return await services.clips.complete_ids(value, scene_id=scene_id)
