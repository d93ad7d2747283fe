"""The FaceFusion worker: claims queued jobs, runs their operations through an ``OperationRunner``, records the
outcome (``completion``).

One worker runs ``concurrency`` slots; each slot claims one job at a time (one ``find_one_and_update`` in queue
order) under its own lease owner id, so a slot's writes are told apart from every other slot's and process's.
While a job runs, a heartbeat extends its lease; when a heartbeat or a progress write finds the lease lost or
the job cancelled, the running operation is cancelled (the runner stops its process) and nothing more is written.
Idle slots poll with exponential backoff (at the slowest rate only one slot of a worker polls and wakes the
others when it finds work) and sweep expired leases back into the queue (``requeue_expired``), as does a periodic
sweep. ``stop()`` stops claiming, cancels the running operations and hands their jobs back to the
queue with the interrupted attempt not counted.
"""

from __future__ import annotations

import inspect
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import anyio
import pydantic

from mcp_storyboard.errors import NotFoundError, QueueError, ValidationError
from mcp_storyboard.models.facefusion import FaceFusionJob
from mcp_storyboard.models.facefusion_jobs import FaceFusionJobInput, FaceFusionOperation, OperationResult
from mcp_storyboard.repositories.bundle import Repositories
from mcp_storyboard.repositories.facefusion_jobs import FaceFusionJobRepository
from mcp_storyboard.services.facefusion.completion import record_outcome
from mcp_storyboard.services.facefusion.ports import OperationRunner, ProgressReport

log = logging.getLogger(__name__)

OnChange = Callable[[FaceFusionJob], Awaitable[None] | None]
"""Called with the job as stored after each status or progress write of this worker."""

IDLE_FIRST_SECONDS = 0.05
IDLE_MAX_SECONDS = 2.0
"""An idle slot polls after 50 ms, then twice as long each time the queue is still empty, up to 2 s."""
SWEEP_SECONDS = 5.0
"""How often expired leases are swept back into the queue (more often when the lease is shorter than two sweeps)."""
PROGRESS_INTERVAL_SECONDS = 0.25
"""At most four progress writes a second per job."""
RELEASE_BUDGET_SECONDS = 10.0
"""How long a stopping worker tries to hand a job back before it leaves it to the lease's expiry."""
MAX_CONCURRENCY = 64
LOST = (QueueError, NotFoundError)
"""What a lease-conditioned write raises when the worker no longer holds the job (or it was deleted)."""


@dataclass(eq=False)
class _Run:
    """One job being run by one slot."""

    job: FaceFusionJob
    owner: str
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    lost: bool = False
    """The lease was lost or the job cancelled: stop and write nothing."""
    progress: float = 0.0
    last_write: float = float("-inf")


class FaceFusionWorker:
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
        if not 1 <= concurrency <= MAX_CONCURRENCY:
            raise ValidationError("concurrency", f"must be between 1 and {MAX_CONCURRENCY}, not {concurrency}")
        if not lease_seconds > 0:
            raise ValidationError("lease_seconds", f"must be more than 0, not {lease_seconds}")
        sweep_seconds = min(SWEEP_SECONDS, lease_seconds / 2) if sweep_seconds is None else sweep_seconds
        if not sweep_seconds > 0:
            raise ValidationError("sweep_seconds", f"must be more than 0, not {sweep_seconds}")
        if not 1 <= len(worker_name) <= 150:
            raise ValidationError("worker_name", "must be 1–150 characters")
        self.repos = repos
        self.jobs = FaceFusionJobRepository(repos.database)
        self.runner = runner
        self.concurrency = concurrency
        self.lease_seconds = float(lease_seconds)
        self.sweep_seconds = float(sweep_seconds)
        self.id = f"{worker_name}.{secrets.token_hex(2)}"
        self.slot_ids = [f"{self.id}/{slot}" for slot in range(concurrency)]
        self.on_change = on_change
        self._stopping = False
        self._running = False
        self._runs: set[_Run] = set()
        self._wake: anyio.Event | None = None
        self._last_sweep = float("-inf")
        self._pollers = 0
        """Idle slots polling now; once one polls at the slowest rate, the other idle slots wait to be woken."""

    # -- life cycle -----------------------------------------------------------------------------------------
    async def run(self) -> None:
        """Work until :meth:`stop` (or until cancelled: running jobs are then handed back too)."""
        if self._running:
            raise RuntimeError("this worker is already running")
        self._running = True
        self._wake = anyio.Event()
        try:
            async with anyio.create_task_group() as sweeper:
                sweeper.start_soon(self._sweep_periodically)
                async with anyio.create_task_group() as slots:
                    for owner in self.slot_ids:
                        slots.start_soon(self._slot, owner)
                sweeper.cancel_scope.cancel()
        finally:
            self._running = False

    def stop(self) -> None:
        """Stop claiming, cancel the running operations and hand their jobs back to the queue; :meth:`run`
        returns once that is done. Safe to call from a signal handler running in the event loop."""
        self._stopping = True
        for run in list(self._runs):
            run.scope.cancel()
        self.wake()

    def wake(self) -> None:
        """Make idle slots poll now (e.g. a job was just queued in this process)."""
        if self._wake is not None:
            woken, self._wake = self._wake, anyio.Event()
            woken.set()

    @property
    def stopping(self) -> bool:
        return self._stopping

    # -- slots ------------------------------------------------------------------------------------------------
    async def _slot(self, owner: str) -> None:
        delay = IDLE_FIRST_SECONDS
        while not self._stopping:
            try:
                job = await self.jobs.claim_next(owner, self.lease_seconds)
            except Exception:  # the database is unreachable for a moment: back off and try again
                log.exception("worker %s could not claim a job", owner)
                job = None
            if job is None:
                # Becoming idle, and then every sweep period: expired leases go back to the queue first.
                if await self._sweep(force=delay == IDLE_FIRST_SECONDS):
                    continue
                if self._pollers and delay >= IDLE_MAX_SECONDS:
                    await self._idle(None)  # another slot polls for all: it wakes this one when it finds work
                    continue
                self._pollers += 1
                try:
                    await self._idle(delay)
                finally:
                    self._pollers -= 1
                delay = min(delay * 2, IDLE_MAX_SECONDS)
                continue
            delay = IDLE_FIRST_SECONDS
            self.wake()  # there was work: sleeping slots look for more
            if self._stopping:
                await self._release(job, owner)
                return
            await self._notify(job)
            await self._process(job, owner)

    async def _idle(self, delay: float | None) -> None:
        """Wait ``delay`` seconds (None: until woken) or until :meth:`wake`."""
        assert self._wake is not None
        with anyio.move_on_after(float("inf") if delay is None else delay):
            await self._wake.wait()

    async def _sweep(self, *, force: bool = False) -> int:
        """Requeue expired leases when forced or when a sweep period has passed; how many jobs it requeued."""
        now = anyio.current_time()
        if not force and now - self._last_sweep < self.sweep_seconds:
            return 0
        self._last_sweep = now
        try:
            swept = await self.jobs.requeue_expired()
        except Exception:
            log.exception("worker %s could not sweep expired leases", self.id)
            return 0
        if swept.requeued or swept.failed:
            log.info("worker %s: %d job(s) with expired leases requeued, %d failed", self.id, *swept)
        return swept.requeued

    async def _sweep_periodically(self) -> None:
        while True:
            await anyio.sleep(self.sweep_seconds)
            await self._sweep()

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
                    beats.start_soon(self._heartbeat, run)
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

    async def _heartbeat(self, run: _Run) -> None:
        while await self._renew(run, sleep=self.lease_seconds / 3):
            pass

    async def _renew(self, run: _Run, *, sleep: float = 0.0) -> bool:
        """Extend the lease (after ``sleep``); False, with the run cancelled, when the job is no longer ours."""
        if sleep:
            await anyio.sleep(sleep)
        try:
            await self.jobs.heartbeat(run.job.id, run.owner, self.lease_seconds)
        except LOST:
            self._lose(run)
            return False
        except Exception:  # a database hiccup: the lease has time left; the next beat tries again
            log.exception("worker %s could not renew the lease of job %s", run.owner, run.job.id)
        return True

    def _lose(self, run: _Run) -> None:
        run.lost = True
        run.scope.cancel()

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

    async def _release(self, job: FaceFusionJob, owner: str) -> None:
        with anyio.move_on_after(RELEASE_BUDGET_SECONDS, shield=True):
            await self._write(self.jobs.release(job.id, owner))

    async def _write(self, write: Awaitable[FaceFusionJob]) -> None:
        """Await a lease-conditioned write of a job's status and notify; a refusal means another worker or a
        cancel took the job over, which is normal and only logged."""
        try:
            stored = await write
        except LOST as exc:
            log.info("a job write was refused: %s", exc)
            return
        except Exception:
            log.exception("a job write failed")
            return
        await self._notify(stored)

    async def _notify(self, job: FaceFusionJob) -> None:
        if self.on_change is None:
            return
        try:
            outcome = self.on_change(job)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception:  # a listener's fault never stops the worker
            log.exception("on_change failed for job %s", job.id)
