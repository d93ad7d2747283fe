"""A worker started by the CLI (``run_with_wakeups``) is woken by the change stream when a job is queued, by this
or any other process, instead of finding it on its next poll (up to 2 s later when idle)."""

from __future__ import annotations

from types import SimpleNamespace

import anyio
import pytest

from mcp_storyboard.cli_worker import run_with_wakeups, wake_on_new_jobs
from mcp_storyboard.repositories.bundle import Repositories
from mcp_storyboard.repositories.facefusion_jobs import FaceFusionJobRepository
from mcp_storyboard.repositories.generation_batches import GenerationBatchRepository
from mcp_storyboard.services.facefusion.worker import FaceFusionWorker
from tests.conftest import open_test_database
from tests.workers.generation_stubs import item, new_batch
from tests.workers.stubs import StubRunner, new_job, operation, wait_until


class Alarm:
    """Stands in for the worker of one queue: counts the wake-ups it gets."""

    def __init__(self, queue: str = "facefusion_jobs") -> None:
        self.wakes = 0
        self.queue = SimpleNamespace(name=queue)

    def wake(self) -> None:
        self.wakes += 1


async def test_each_change_that_queues_a_job_wakes_the_worker_and_nothing_else_does(request: pytest.FixtureRequest) -> None:
    db = await open_test_database("embedded-pymongo", request)
    try:
        jobs = FaceFusionJobRepository(db)
        alarm = Alarm()
        async with anyio.create_task_group() as tg:
            tg.start_soon(wake_on_new_jobs, alarm, db)  # type: ignore[arg-type]
            await anyio.sleep(0.5)  # let the stream open
            job = await jobs.insert(new_job(operation("https://in.test/a.png")))  # queued: wakes
            await wait_until(lambda: _at_least(alarm, 1))
            claimed = await jobs.claim_next("w", 60)
            assert claimed is not None and claimed.id == job.id
            await jobs.update_progress(job.id, "w", 50.0)  # progress, no new work
            await jobs.cancel(job.id)
            await jobs.retry(job.id)  # queued again: wakes
            await wait_until(lambda: _at_least(alarm, 2))
            marker = await jobs.insert(new_job(operation("https://in.test/b.png")))  # a last wake, to know all is read
            await wait_until(lambda: _at_least(alarm, 3))
            assert alarm.wakes == 3, "the claim, progress and cancel woke the worker too"
            assert marker.status == "queued"
            tg.cancel_scope.cancel()
    finally:
        await db.close()


async def test_a_queued_generation_batch_wakes_the_generation_worker(request: pytest.FixtureRequest) -> None:
    db = await open_test_database("embedded-pymongo", request)
    try:
        batches, jobs = GenerationBatchRepository(db), FaceFusionJobRepository(db)
        alarm = Alarm("generation_batches")
        async with anyio.create_task_group() as tg:
            tg.start_soon(wake_on_new_jobs, alarm, db)  # type: ignore[arg-type]
            await anyio.sleep(0.5)  # let the stream open
            await jobs.insert(new_job(operation("https://in.test/a.png")))  # another queue: no wake
            await batches.insert(new_batch("p", [item("c1")]))
            await wait_until(lambda: _at_least(alarm, 1))
            assert await batches.claim_next("w", 60) is not None  # a claim is no new work
            await batches.insert(new_batch("p", [item("c2")]))
            await wait_until(lambda: _at_least(alarm, 2))
            assert alarm.wakes == 2, "the other queue or the claim woke the generation worker"
            tg.cancel_scope.cancel()
    finally:
        await db.close()


async def test_memory_has_no_stream_and_the_worker_still_finds_jobs_by_polling(request: pytest.FixtureRequest) -> None:
    db = await open_test_database("memory", request)
    try:
        jobs = FaceFusionJobRepository(db)
        worker = FaceFusionWorker(Repositories.over(db), StubRunner(db.media), worker_name="poller")
        async with anyio.create_task_group() as tg:
            tg.start_soon(run_with_wakeups, worker, db)
            job = await jobs.insert(new_job(operation("https://in.test/a.png")))
            await wait_until(lambda: _completed(jobs, job.id))
            worker.stop()
    finally:
        await db.close()


async def _at_least(alarm: Alarm, wakes: int) -> bool:
    return alarm.wakes >= wakes


async def _completed(jobs: FaceFusionJobRepository, job_id: str) -> bool:
    return (await jobs.get(job_id)).status == "completed"
