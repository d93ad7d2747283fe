"""Animatics: queue a render of a project's (or a scene's) main timeline, read, list, cancel and wait for it.

Queuing checks everything a render needs that can be known now (the project, the scene, at least one main clip)
and writes one job; the worker (``services/render/worker.py``) renders it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from mcp_storyboard.errors import NotFoundError, ValidationError
from mcp_storyboard.models.render_jobs import AnimaticOptions, RenderJob, RenderStatus
from mcp_storyboard.repositories.bundle import Repositories
from mcp_storyboard.repositories.render_jobs import RenderJobRepository
from mcp_storyboard.services.common.waiting import poll_until_finished
from mcp_storyboard.services.export.timing import FrameRate
from mcp_storyboard.services.render.plan import plan_picture
from mcp_storyboard.services.render.views import FINISHED, RenderJobPage, RenderJobView, RenderWaitResult
from mcp_storyboard.services.sheets import ContactSheetService

JOB_HINT = "list_render_jobs shows the render jobs"
ProgressCallback = Callable[[RenderJob], Awaitable[None]]


class RenderService:
    """Queue and follow animatic renders."""

    def __init__(self, repos: Repositories) -> None:
        self.repos = repos
        self.jobs = RenderJobRepository(repos.database)
        self.sheets = ContactSheetService(repos)

    async def queue_animatic(self, project_id: str, options: AnimaticOptions, scene_id: str | None = None) -> RenderJobView:
        """Queue a render of the project's main timeline (or of one scene and its sub-scenes).

        Raises:
            NotFoundError: no such project, or the scene is not one of its scenes.
            ValidationError: (``project_id`` or ``scene_id``) there is no main clip to render.
        """
        contents = await self.sheets.contents(project_id, scene_id)
        picture = plan_picture(contents, FrameRate.named(options.frame_rate), from_zero=scene_id is None)
        if picture.frames == 0:
            field = "scene_id" if scene_id is not None else "project_id"
            raise ValidationError(field, "has no main clip to render", hint="add clips (create_clip) and queue it again")
        job = await self.jobs.insert(RenderJob(project_id=project_id, scene_id=scene_id, options=options))
        return RenderJobView.of(job, await self.jobs.queue_position(job))

    async def get_job(self, job_id: str) -> RenderJobView:
        """Raises: NotFoundError: no such job."""
        job = await self._job(job_id)
        return RenderJobView.of(job, await self.jobs.queue_position(job) if job.status == "queued" else None)

    async def list_jobs(
        self, *, project_id: str | None = None, status: RenderStatus | None = None, limit: int | None = None,
        cursor: str | None = None,
    ) -> RenderJobPage:
        """Jobs newest first, of a project and/or a status."""
        page = await self.jobs.page_where(project_id=project_id, status=status, limit=limit, cursor=cursor)
        return RenderJobPage(items=[RenderJobView.of(j) for j in page.items], next_cursor=page.next_cursor)

    async def cancel_job(self, job_id: str) -> RenderJobView:
        """Cancel a queued or processing job (a worker rendering it stops within its next picture).

        Raises:
            NotFoundError: no such job.
            InvalidStateError: it already finished.
        """
        await self._job(job_id)
        return RenderJobView.of(await self.jobs.cancel(job_id))

    async def wait_job(self, job_id: str, timeout: float, on_progress: ProgressCallback | None = None) -> RenderWaitResult:
        """Poll a job until it finishes or ``timeout`` seconds pass, ``on_progress`` told each change.

        Raises:
            NotFoundError: no such job.
            ValidationError: ``timeout`` outside 0–300.
        """
        job, done = await poll_until_finished(
            lambda: self._job(job_id), finished=lambda j: j.status in FINISHED,
            state=lambda j: (j.status, j.progress), timeout=timeout, on_progress=on_progress)
        position = await self.jobs.queue_position(job) if job.status == "queued" else None
        return RenderWaitResult(finished=done, job=RenderJobView.of(job, position))

    async def _job(self, job_id: str) -> RenderJob:
        job = await self.jobs.find(job_id)
        if job is None:
            raise NotFoundError("render job", job_id, hint=JOB_HINT)
        return job
