"""What the render service returns: jobs as callers read them, pages of jobs, a job after waiting."""

from __future__ import annotations

from mcp_storyboard.models.common import StoryboardModel, UtcDatetime
from mcp_storyboard.models.render_jobs import AnimaticOptions, RenderJob, RenderResult, RenderStatus

RENDER_JOBS_URI = "storyboard://render-jobs"
FINISHED: frozenset[str] = frozenset({"completed", "failed", "cancelled"})


def render_job_uri(job_id: str) -> str:
    return f"{RENDER_JOBS_URI}/{job_id}"


def describe(options: AnimaticOptions) -> str:
    extras = [name for name, on in (("burn-in", options.burn_in), ("music", options.music)) if on]
    return f"{options.width}x{options.height} {options.frame_rate} fps {options.codec}" + "".join(f", {e}" for e in extras)


class RenderJobView(StoryboardModel):
    """A render job: its status, progress and, once completed, the MP4's resource link."""

    id: str
    uri: str
    project_id: str
    scene_id: str | None
    status: RenderStatus
    progress: float
    position: int | None = None
    """Queued jobs a worker takes before this one (queued jobs only)."""
    settings: str
    """What it renders, e.g. "1280x720 24 fps h264, burn-in, music"."""
    result: RenderResult | None = None
    error_message: str | None = None
    attempts: int
    created_at: UtcDatetime
    completed_at: UtcDatetime | None = None

    @classmethod
    def of(cls, job: RenderJob, position: int | None = None) -> RenderJobView:
        return cls(
            id=job.id, uri=render_job_uri(job.id), project_id=job.project_id, scene_id=job.scene_id,
            status=job.status, progress=job.progress, position=position, settings=describe(job.options), result=job.result,
            error_message=job.error_message, attempts=job.attempts, created_at=job.created_at,
            completed_at=job.completed_at,
        )  # fmt: skip

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def resource_links(self) -> list[tuple[str, str]]:
        return [(self.result.url, "animatic.mp4")] if self.result is not None else []


class RenderJobPage(StoryboardModel):
    """One page of render jobs, newest first; pass ``next_cursor`` back for the next page."""

    items: list[RenderJobView]
    next_cursor: str | None = None


class RenderWaitResult(StoryboardModel):
    """A render job after waiting for it."""

    finished: bool
    """Whether it completed, failed or was cancelled before the timeout."""
    job: RenderJobView

    def resource_links(self) -> list[tuple[str, str]]:
        return self.job.resource_links()
