"""FaceFusion job tools: read, list, cancel, retry and wait for queued jobs."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_storyboard.models.common import Uuid
from mcp_storyboard.models.facefusion import FaceFusionJob, JobStatus
from mcp_storyboard.models.values import PageSize
from mcp_storyboard.server.client_log import report_progress
from mcp_storyboard.server.notify import notify_changed
from mcp_storyboard.server.registry import ToolRegistry, get_services
from mcp_storyboard.server.tools._args import WaitTimeout
from mcp_storyboard.server.taxonomy import Toolset
from mcp_storyboard.server.tools._facefusion_args import Cursor, JobId
from mcp_storyboard.services.facefusion.views import (
    FaceFusionJobView,
    JobPage,
    WaitResult,
)

TOOLSET: Toolset = "facefusion"
tool = ToolRegistry(TOOLSET)


@tool(title="Get a FaceFusion job", operation="read")
async def get_facefusion_job(job_id: JobId, ctx: Context) -> FaceFusionJobView:
    """A job's status, progress, queue position and, once finished, a result per operation (images as
    storyboard://media URIs)."""
    return await get_services(ctx).facefusion.get_job(job_id)


@tool(title="List FaceFusion jobs", operation="read")
async def list_facefusion_jobs(
    ctx: Context,
    character_id: Annotated[Uuid | None, Field(description="Only this character's jobs.")] = None,
    project_id: Annotated[Uuid | None, Field(description="Only this project's jobs.")] = None,
    status: JobStatus | None = None,
    limit: Annotated[PageSize, Field(description="Page size.")] = 50,
    cursor: Cursor = None,
) -> JobPage:
    """FaceFusion jobs, newest first, paginated."""
    return await get_services(ctx).facefusion.list_jobs(
        character_id=character_id, project_id=project_id, status=status, limit=limit, cursor=cursor
    )


@tool(title="Cancel a FaceFusion job", operation="update", idempotent=False)
async def cancel_facefusion_job(job_id: JobId, ctx: Context) -> FaceFusionJobView:
    """Cancel a queued or processing job (a running one stops at its next step)."""
    job = await get_services(ctx).facefusion.cancel_job(job_id)
    await notify_changed(ctx, [job.uri])
    return job


@tool(title="Retry a FaceFusion job", operation="update")
async def retry_facefusion_job(job_id: JobId, ctx: Context) -> FaceFusionJobView:
    """Queue a failed or cancelled job again, with fresh attempts."""
    job = await get_services(ctx).facefusion.retry_job(job_id)
    await notify_changed(ctx, [job.uri])
    return job


@tool(title="Wait for a FaceFusion job", operation="read")
async def wait_for_facefusion_job(
    job_id: JobId,
    ctx: Context,
    timeout: WaitTimeout = 60,
) -> WaitResult:
    """Wait until a job finishes or the timeout passes, reporting progress; returns the job and whether it
    finished."""

    async def progress(job: FaceFusionJob) -> None:
        await report_progress(ctx, job.progress, 100.0, f"facefusion job {job.id}: {job.status}, {job.progress:.0f}%")

    return await get_services(ctx).facefusion.wait_job(job_id, float(timeout), progress)
