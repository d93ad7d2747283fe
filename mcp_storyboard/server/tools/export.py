"""Timeline export and import (OpenTimelineIO): files for Resolve, Premiere and Final Cut, and back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_storyboard.server.auth import caller_id
from mcp_storyboard.server.completions import CompletionRegistry
from mcp_storyboard.server.notify import notify_changed
from mcp_storyboard.server.registry import ToolRegistry, get_services
from mcp_storyboard.server.resources import PROJECTS_URI, project_uris
from mcp_storyboard.server.taxonomy import Toolset
from mcp_storyboard.server.tools._args import Id, MediaId, ProjectId
from mcp_storyboard.services.export import ExportedTimeline
from mcp_storyboard.services.export.formats import TimelineFormat, capability_summary
from mcp_storyboard.services.export.importer import ImportedProject
from mcp_storyboard.services.export.timing import FRAME_RATES, FrameRateName

TOOLSET: Toolset = "storyboard"
tool = ToolRegistry(TOOLSET)
complete = CompletionRegistry()
EDITORS = ("resolve", "premiere", "final_cut", "avid", "otio")
"""The editors the prepare_for_edit prompt knows a format for."""

Rate = Annotated[FrameRateName, Field(description="Frames per second; 29.97 and 23.976 are NTSC (x/1001).")]


@tool(
    title="Export the timeline",
    operation="create",
    description="Write the main timeline (project or one scene with its sub-scenes) as an editor's file in the media "
    "store: otio (OpenTimelineIO), edl (CMX 3600), fcp_xml (FCP 7/Premiere), fcpx_xml (Final Cut Pro X/Resolve). "
    "Clips in order with gaps, selected media as references, scenes as markers, music on an audio track; "
    "alternates on disabled tracks. Times snap to frames once; `rounded` lists clips that moved. "
    f"What each format loses: {capability_summary()}.",
)
async def export_timeline(
    project_id: ProjectId,
    format: Annotated[TimelineFormat, Field(description="File format.")],
    ctx: Context,
    scene_id: Annotated[Id | None, Field(description="Only this scene and its sub-scenes.")] = None,
    frame_rate: Rate = "24",
    include_alternates: Annotated[bool, Field(strict=True, description="Alternates as disabled tracks (otio).")] = True,
) -> ExportedTimeline:
    return await get_services(ctx).timelines.export(
        project_id, format, frame_rate, scene_id=scene_id, include_alternates=include_alternates
    )


@tool(title="Import a timeline", operation="create")
async def import_timeline(
    ctx: Context,
    media_id: Annotated[MediaId | None, Field(description="A stored .otio/.edl/.xml/.fcpxml file.")] = None,
    content_base64: Annotated[str | None, Field(min_length=1, description="Or the file's bytes, base64.")] = None,
    filename: Annotated[
        str | None, Field(max_length=255, pattern=r"^[^/\\\x00-\x1f]+$", description="With content_base64: its name.")
    ] = None,
    name: Annotated[str | None, Field(min_length=1, max_length=200, description="Project name; default: the timeline's.")] = None,
    frame_rate: Annotated[FrameRateName | None, Field(description="An EDL's rate (default 24); others carry theirs.")] = None,
) -> ImportedProject:
    """Create a new project from a timeline file: scenes from markers, clips with names and timing, media references as
    gallery entries. All or nothing."""
    imported = await get_services(ctx).timelines.import_file(
        media_id=media_id, filename=filename, content_base64=content_base64, name=name, rate_name=frame_rate,
        owner_id=caller_id(),
    )
    await notify_changed(ctx, [PROJECTS_URI, *project_uris(imported.id)[:1]])
    return imported


@complete(argument="editor", prompt="prepare_for_edit")
async def complete_editor(value: str, context: Mapping[str, str], services: Any) -> list[str]:
    return [e for e in EDITORS if e.startswith(value.lower())]


@complete(argument="frame_rate", prompt="prepare_for_edit")
async def complete_frame_rate(value: str, context: Mapping[str, str], services: Any) -> list[str]:
    return [r for r in FRAME_RATES if r.startswith(value)]
