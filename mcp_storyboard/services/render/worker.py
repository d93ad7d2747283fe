"""The render worker: claims queued animatic jobs and renders each to an MP4 in the media store.

Claims, leases, heartbeats, sweeps and a graceful stop follow ``services/common/queue_worker.py``. The encoding
runs on a worker thread (``encode.render_mp4``) that reads images and videos from the media store one at a time
and checks for cancellation before each picture (a video's frames included): a cancelled job, or a lost lease, cancels the run's scope, and the thread
stops at its next check; nothing more is written. Progress (frames written) is stored about once a second.
Failures that a retry cannot mend (the project or scene deleted, unreadable music) fail the job for good; others
use up an attempt.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
import anyio.from_thread
import anyio.to_thread

from mcp_storyboard.errors import NotFoundError
from mcp_storyboard.models.render_jobs import RenderJob, RenderResult
from mcp_storyboard.repositories.bundle import Repositories
from mcp_storyboard.repositories.render_jobs import RenderJobRepository
from mcp_storyboard.services.common.queue_worker import LOST, QueueWorker, Run
from mcp_storyboard.services.export.timing import FrameRate
from mcp_storyboard.services.render.encode import MusicError, Progress, render_mp4
from mcp_storyboard.services.render.plan import plan_picture
from mcp_storyboard.services.sheets import ContactSheetService

log = logging.getLogger(__name__)

OnChange = Callable[[RenderJob], Awaitable[None] | None]
PROGRESS_SECONDS = 1.0


class RenderFailed(Exception):
    """A render that a retry cannot mend."""


@dataclass(eq=False)
class _Run(Run[RenderJob]):
    result: RenderResult | None = None
    error: str | None = None
    final: bool = False


class RenderWorker(QueueWorker[RenderJob]):
    """Renders queued animatics until :meth:`stop`."""

    kind = "render job"

    def __init__(
        self,
        repos: Repositories,
        *,
        concurrency: int = 1,
        lease_seconds: float = 300.0,
        worker_name: str,
        on_change: OnChange | None = None,
        sweep_seconds: float | None = None,
    ) -> None:
        """Raises: ValidationError: see :class:`QueueWorker`."""
        super().__init__(concurrency=concurrency, lease_seconds=lease_seconds, worker_name=worker_name,
                         on_change=on_change, sweep_seconds=sweep_seconds)
        self.repos = repos
        self.jobs = self.queue = RenderJobRepository(repos.database)
        self.sheets = ContactSheetService(repos)

    async def _claim(self, owner: str) -> RenderJob | None:
        return await self.jobs.claim_next(owner, self.lease_seconds)

    async def _process(self, job: RenderJob, owner: str) -> None:
        run = _Run(job, owner)
        self._runs.add(run)
        try:
            with run.scope:
                if self._stopping:
                    run.scope.cancel()
                progress = Progress()
                async with anyio.create_task_group() as beats:
                    beats.start_soon(self._beat, run, progress)
                    await self._render(run, progress)
                    beats.cancel_scope.cancel()
        finally:
            self._runs.discard(run)
            interrupted = not run.lost and run.result is None and run.error is None
            if interrupted:  # stop() (or the worker's own cancellation) came mid-render
                await self._release(job, owner)
        if run.lost:
            log.info("worker %s dropped render job %s: its lease was lost or it was cancelled", owner, job.id)
            if run.result is not None:
                await self.repos.database.media.delete(run.result.media_id)
        elif run.error is not None:
            await self._write(self.jobs.fail(job.id, owner, run.error, final=run.final))
        elif run.result is not None and await self._write(self.jobs.complete(job.id, owner, run.result)) is None:
            await self.repos.database.media.delete(run.result.media_id)  # cancelled at the last moment

    async def _beat(self, run: _Run, progress: Progress) -> None:
        """Store progress about once a second and renew the lease every third of its length."""
        renewed = anyio.current_time()
        stored = 0.0
        while True:
            await anyio.sleep(min(PROGRESS_SECONDS, self.lease_seconds / 3))
            if progress.percent > stored:
                stored = progress.percent
                try:
                    await self._notify(await self.jobs.update_progress(run.job.id, run.owner, stored))
                except LOST:
                    self._lose(run)
                    return
                except Exception:
                    log.exception("worker %s could not record progress of render job %s", run.owner, run.job.id)
            if anyio.current_time() - renewed >= self.lease_seconds / 3:
                renewed = anyio.current_time()
                if not await self._renew(run):
                    return

    async def _render(self, run: _Run, progress: Progress) -> None:
        job, options = run.job, run.job.options
        try:
            run.result = await self._encode(job, progress)
        except RenderFailed as exc:
            run.error, run.final = str(exc), True
        except MusicError as exc:
            run.error, run.final = f"{exc}; queue it again with music off, or set another music file", True
        except Exception as exc:  # a fault of the encoder or the store: the attempt fails, another may succeed
            log.exception("render job %s failed (%s, %dx%d)", job.id, options.codec, options.width, options.height)
            run.error = f"the render failed: {type(exc).__name__}: {exc}"

    async def _encode(self, job: RenderJob, progress: Progress) -> RenderResult:
        options, store = job.options, self.repos.database.media
        try:
            contents = await self.sheets.contents(job.project_id, job.scene_id)
        except NotFoundError as exc:
            raise RenderFailed(f"{exc}; it was deleted after the render was queued") from None
        rate = FrameRate.named(options.frame_rate)
        picture = plan_picture(contents, rate, from_zero=job.scene_id is None)
        if picture.frames == 0:
            raise RenderFailed("the timeline has no main clip to render any more")
        project = await self.repos.projects.find(job.project_id)
        music = None
        if options.music and project is not None and project.music_media_id is not None:
            music = await self._read(project.music_media_id, job.project_id)

        def fetch(media_id: str) -> tuple[str, bytes] | None:
            return anyio.from_thread.run(self._media, media_id, job.project_id)

        with tempfile.TemporaryDirectory(prefix="animatic-") as folder:
            path = os.path.join(folder, "animatic.mp4")
            rendered = await anyio.to_thread.run_sync(render_mp4, path, picture, options, rate.value, music, fetch,
                                                      anyio.from_thread.check_cancelled, progress)
            data = await anyio.to_thread.run_sync(_read_file, path)
        info = await store.put(data, content_type="video/mp4", filename="animatic.mp4", project_id=job.project_id,
                               metadata={"kind": "animatic", "render_job_id": job.id})
        return RenderResult(media_id=info.id, url=info.uri, duration=round(float(picture.frames / rate.value), 3),
                            frames=picture.frames, clips=picture.clips, music=music is not None,
                            fallbacks=rendered.fallbacks)

    async def _read(self, media_id: str, project_id: str) -> bytes | None:
        """A file of the job's project; None when it is gone or belongs to another project."""
        try:
            info, data = await self.repos.database.media.get(media_id)
        except NotFoundError:
            return None
        return data if info.project_id == project_id else None

    async def _media(self, media_id: str, project_id: str) -> tuple[str, bytes] | None:
        """A stored image's or video's (content type, data) of the job's project; None for anything else.

        The worker runs for no user, so it reads only the job's own project's files: a clip pointing at another
        project's file (an imported timeline can name any ``storyboard://media/{id}``) renders as missing media,
        and another user's picture never reaches this user's animatic."""
        try:
            info, data = await self.repos.database.media.get(media_id)
        except NotFoundError:
            return None
        if info.project_id != project_id:
            return None
        return (info.content_type, data) if info.content_type.startswith(("image/", "video/")) else None


def _read_file(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()
