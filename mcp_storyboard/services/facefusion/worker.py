"""The FaceFusion worker: claims queued jobs, runs their operations through an ``OperationRunner``, records the
outcome (``completion``).

Slots, leases, heartbeats, idle backoff, sweeps and the graceful stop are ``services/common/queue_worker.py``'s.
A job's operations run one after another; the lease is renewed between them and by a heartbeat, and progress
is written at most four times a second. When a heartbeat or a progress write finds the lease lost or the job
cancelled, the running operation is cancelled (the runner stops its process) and nothing more is written.
``stop()`` hands a running job back to the queue with the interrupted attempt not counted.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import anyio
import anyio.lowlevel
import pydantic

from mcp_storyboard.models.facefusion import FaceFusionJob
from mcp_storyboard.models.facefusion_jobs import FaceFusionJobInput, FaceFusionOperation, OperationResult
from mcp_storyboard.repositories.bundle import Repositories
from mcp_storyboard.repositories.facefusion_jobs import FaceFusionJobRepository
from mcp_storyboard.services.common.queue_worker import LOST, QueueWorker, Run
from mcp_storyboard.services.facefusion.completion import record_outcome
from mcp_storyboard.services.facefusion.ports import OperationRunner, ProgressReport

log = logging.getLogger(__name__)

OnChange = Callable[[FaceFusionJob], Awaitable[None] | None]
"""Called with the job as stored after each status or progress write of this worker."""

PROGRESS_INTERVAL_SECONDS = 0.25
"""At most four progress writes a second per job."""


@dataclass(eq=False)
class _Run(Run[FaceFusionJob]):
    """One job being run by one slot."""

    progress: float = 0.0
    last_write: float = float("-inf")


class FaceFusionWorker(QueueWorker[FaceFusionJob]):
    """Runs queued FaceFusion jobs until :meth:`stop`."""

    def __init__(
        self,
        repos: Repositories,
        runner: OperationRunner,
        *,
        concurrency: int = 1,
        lease_seconds: float = 300.0,
        worker_name: str,
        on_change: OnChange | None = None,
        sweep_seconds: float | None = None,
    ) -> None:
        """``worker_name`` names the worker in leases (e.g. host:pid); a random suffix keeps two workers given
        the same name apart.

        Raises:
            ValidationError: concurrency outside 1–64, a lease or sweep period that is not positive, or a name
                that is empty or longer than 150 characters.
        """
        super().__init__(concurrency=concurrency, lease_seconds=lease_seconds, worker_name=worker_name,
                         on_change=on_change, sweep_seconds=sweep_seconds)
        self.repos = repos
        self.jobs = self.queue = FaceFusionJobRepository(repos.database)
        self.runner = runner

    async def _claim(self, owner: str) -> FaceFusionJob | None:
        return await self.jobs.claim_next(owner, self.lease_seconds)

    # -- one job ------------------------------------------------------------------------------------------------
    async def _process(self, job: FaceFusionJob, owner: str) -> None:
        try:
            operations = FaceFusionJobInput.model_validate(job.input_data).operations
        except pydantic.ValidationError as exc:
            error = f"the job's input_data is not a valid FaceFusion job input: {exc.error_count()} error(s), " \
                    f"first: {exc.errors()[0]['msg']}"
            await self._write(self.jobs.fail(job.id, owner, error, final=True))
            return
        run = _Run(job, owner)
        results: list[OperationResult] = []
        self._runs.add(run)
        try:
            with run.scope:
                if self._stopping:
                    run.scope.cancel()
                async with anyio.create_task_group() as beats:
                    beats.start_soon(self._heartbeat, run, self.lease_seconds / 3)
                    await self._run_operations(run, operations, results)
                    beats.cancel_scope.cancel()
        finally:
            self._runs.discard(run)
            interrupted = not run.lost and len(results) < len(operations)
            if interrupted:  # stop() (or the worker's own cancellation) came mid-job
                await self._release(job, owner)
        if run.lost:
            log.info("worker %s dropped job %s: its lease was lost or it was cancelled", owner, job.id)
        elif not interrupted:
            await self._write(record_outcome(self.repos, job, owner, operations, results))

    async def _run_operations(
        self, run: _Run, operations: Sequence[FaceFusionOperation], results: list[OperationResult]
    ) -> None:
        for index, operation in enumerate(operations):
            if index and not await self._renew(run):  # between operations: still ours, not cancelled?
                return
            try:
                result = await self.runner.run_operation(
                    operation, index=index, project_id=run.job.project_id,
                    report=self._reporter(run, index, len(operations)),
                )  # fmt: skip
            except Exception as exc:  # a fault of ours in the runner: this operation failed, the job goes on
                log.exception("the runner failed on operation %d of job %s", index, run.job.id)
                result = OperationResult(
                    operation_index=index, operation_type=operation.operation_type, success=False,
                    error=f"the runner failed: {type(exc).__name__}: {exc}"[:5000],
                )  # fmt: skip
            results.append(result.model_copy(update={"operation_index": index}))

    def _reporter(self, run: _Run, index: int, count: int) -> ProgressReport:
        async def report(percent: float) -> None:
            overall = round((index + min(max(percent, 0.0), 100.0) / 100.0) / count * 100.0, 1)
            now = anyio.current_time()
            if run.lost or overall <= run.progress or now - run.last_write < PROGRESS_INTERVAL_SECONDS:
                return
            run.progress, run.last_write = overall, now
            try:
                stored = await self.jobs.update_progress(run.job.id, run.owner, overall)
            except LOST:
                self._lose(run)
                await anyio.lowlevel.checkpoint()  # raises the cancellation into the runner right here
                return
            except Exception:
                log.exception("worker %s could not record progress of job %s", run.owner, run.job.id)
                return
            await self._notify(stored)

        return report
