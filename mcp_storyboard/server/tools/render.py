"""Animatics: queue an MP4 render of the storyboard, then read, list, cancel and wait for render jobs."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_storyboard.models.common import StoryboardModel, Uuid
from mcp_storyboard.models.render_jobs import (
    HEIGHTS,
    WIDTHS,
    AnimaticOptions,
    RenderFrameRate,
    RenderJob,
    RenderStatus,
    VideoCodec,
)
from mcp_storyboard.models.values import NOT_BOOL, PageSize
from mcp_storyboard.server.client_log import report_progress
from mcp_storyboard.server.notify import notify_changed
from mcp_storyboard.server.registry import ToolRegistry, get_services
from mcp_storyboard.server.taxonomy import Toolset
from mcp_storyboard.server.tools._args import Id, ProjectId, WaitTimeout
from mcp_storyboard.server.tools._facefusion_args import Cursor
from mcp_storyboard.services.render.views import RenderJobPage, RenderJobView, RenderWaitResult

TOOLSET: Toolset = "storyboard"
tool = ToolRegistry(TOOLSET)
RenderJobId = Annotated[Uuid, Field(description="A render job id.")]


class QueuedRender(StoryboardModel):
    """A render job just queued."""

    id: str
    uri: str
    status: RenderStatus
    position: int
    """Queued jobs a worker takes before this one."""
    settings: str


@tool(title="Render an animatic", operation="create")
async def render_animatic(
    project_id: ProjectId,
    ctx: Context,
    scene_id: Annotated[Id | None, Field(description="Only this scene and its sub-scenes.")] = None,
    width: Annotated[int, Field(ge=WIDTHS[0], le=WIDTHS[1], multiple_of=2), NOT_BOOL] = 1280,
    height: Annotated[int, Field(ge=HEIGHTS[0], le=HEIGHTS[1], multiple_of=2), NOT_BOOL] = 720,
    frame_rate: RenderFrameRate = "24",
    burn_in: Annotated[bool, Field(strict=True, description="Clip name and timecode.")] = True,
    music: Annotated[bool, Field(strict=True, description="The project's music, trimmed.")] = True,
    codec: VideoCodec = "h264",
) -> QueuedRender:
    """Queue an MP4 of the main clips' selected images (held) or videos (trimmed) for each clip's length, black
    for gaps and clips without stored media. A render worker runs it; follow with wait_for_render_job, whose
    result links the MP4."""
    options = AnimaticOptions(width=width, height=height, frame_rate=frame_rate, burn_in=burn_in, music=music,
                              codec=codec)
    job = await get_services(ctx).renders.queue_animatic(project_id, options, scene_id)
    await notify_changed(ctx, [job.uri])
    return QueuedRender(id=job.id, uri=job.uri, status=job.status, position=job.position or 0, settings=job.settings)


@tool(title="Get a render job", operation="read")
async def get_render_job(job_id: RenderJobId, ctx: Context) -> RenderJobView:
    """A render job's status, progress, queue position and, once completed, the MP4's link."""
    return await get_services(ctx).renders.get_job(job_id)


@tool(title="List render jobs", operation="read")
async def list_render_jobs(
    ctx: Context,
    project_id: Annotated[Uuid | None, Field(description="Only this project's jobs.")] = None,
    status: RenderStatus | None = None,
    limit: Annotated[PageSize, Field(description="Page size.")] = 50,
    cursor: Cursor = None,
) -> RenderJobPage:
    """Render jobs, newest first, paginated."""
    return await get_services(ctx).renders.list_jobs(project_id=project_id, status=status, limit=limit, cursor=cursor)


@tool(title="Cancel a render job", operation="update", idempotent=False)
async def cancel_render_job(job_id: RenderJobId, ctx: Context) -> RenderJobView:
    """Cancel a queued or rendering job (a running render stops before its next picture)."""
    job = await get_services(ctx).renders.cancel_job(job_id)
    await notify_changed(ctx, [job.uri])
    return job


@tool(title="Wait for a render job", operation="read")
async def wait_for_render_job(
    job_id: RenderJobId,
    ctx: Context,
    timeout: WaitTimeout = 60,
) -> RenderWaitResult:
    """Wait until a render job finishes or the timeout passes, reporting progress."""

    async def progress(job: RenderJob) -> None:
        await report_progress(ctx, job.progress, 100.0, f"render job {job.id}: {job.status}, {job.progress:.0f}%")

    return await get_services(ctx).renders.wait_job(job_id, float(timeout), progress)
