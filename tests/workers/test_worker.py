"""The FaceFusion worker with a stub runner: draining, priority, retries, cancels, lost leases, sweeps, stops.

The races run on the embedded server (a real wire-protocol database that interleaves calls); memory:// runs the
single-worker behaviours. No timing is asserted: waits have generous safety limits only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import anyio
import pytest

from mcp_storyboard.db.connection import Database
from mcp_storyboard.models.common import utc_now
from mcp_storyboard.models.facefusion import FaceFusionJob
from mcp_storyboard.models.facefusion_jobs import FaceFusionOperation
from mcp_storyboard.repositories.bundle import Repositories
from mcp_storyboard.repositories.facefusion_jobs import FaceFusionJobRepository
from mcp_storyboard.services.facefusion.worker import FaceFusionWorker
from tests.conftest import open_test_database
from tests.workers.stubs import StubRunner, new_character, new_job, operation, wait_until


def embedded_only(db: Database) -> None:
    if db.backend == "memory":
        pytest.skip("memory:// never interleaves calls (mongomock does not yield), so nothing races there")


@asynccontextmanager
async def running(*workers: FaceFusionWorker) -> AsyncIterator[None]:
    """Run the workers for the block, then stop them and wait for them to finish."""
    async with anyio.create_task_group() as tg:
        for worker in workers:
            tg.start_soon(worker.run)
        try:
            yield
        finally:
            for worker in workers:
                worker.stop()


async def status_of(jobs: FaceFusionJobRepository, job_id: str) -> str:
    return (await jobs.get(job_id)).status


async def count(db: Database, status: str) -> int:
    return int(await db.collection("facefusion_jobs").count_documents({"status": status}))


async def test_eight_workers_drain_500_jobs_running_each_exactly_once(request: pytest.FixtureRequest) -> None:
    db = await open_test_database("embedded-pymongo", request)
    try:
        repos = Repositories.over(db)
        jobs = FaceFusionJobRepository(db)
        await jobs.insert_many([new_job(operation(f"https://in.test/{n}.png")) for n in range(500)])
        runner = StubRunner(db.media)
        workers = [FaceFusionWorker(repos, runner, worker_name=f"w{n}", lease_seconds=60) for n in range(8)]
        async with running(*workers):
            await wait_until(lambda: count_is(db, "completed", 500), seconds=900, poll=0.5)
        runs = Counter(runner.started)
        assert len(runs) == 500 and set(runs.values()) == {1}
        finished = [FaceFusionJob.model_validate(raw) for raw in await db.collection("facefusion_jobs").find({}, {"_id": 0}).to_list(None)]
        assert {(j.status, j.attempts, j.lease_owner, j.progress) for j in finished} == {("completed", 1, None, 100.0)}
        media_ids = {(j.output_data or {})["results"][0]["output_media_id"] for j in finished}
        assert len(media_ids) == 500
        owners = {raw["lease_owner"] for raw in await db.collection("facefusion_jobs").find({}, {"lease_owner": 1}).to_list(None)}
        assert owners == {None}
    finally:
        await db.client.drop_database(db.db.name)
        await db.close()


async def count_is(db: Database, status: str, expected: int) -> bool:
    return await count(db, status) == expected


async def settled(db: Database) -> bool:
    """No job waits or runs any more."""
    unfinished = {"status": {"$in": ["queued", "processing"]}}  # one query: a job moves between the two
    return await db.collection("facefusion_jobs").count_documents(unfinished) == 0


async def test_jobs_run_in_priority_order_then_oldest_first(db: Database) -> None:
    repos = Repositories.over(db)
    jobs = FaceFusionJobRepository(db)
    base = utc_now()
    for n, priority in enumerate([0, 5, -3, 5, 100, 0]):
        await jobs.insert(new_job(operation(f"https://in.test/{n}.png"), priority=priority,
                                  created_at=base + timedelta(seconds=n)))
    runner = StubRunner(db.media)
    async with running(FaceFusionWorker(repos, runner, worker_name="solo")):
        await wait_until(lambda: count_is(db, "completed", 6))
    assert runner.started == [f"https://in.test/{n}.png" for n in (4, 1, 3, 0, 5, 2)]


async def test_a_failed_attempt_is_retried_and_history_is_written_once_on_the_final_outcome(db: Database) -> None:
    repos = Repositories.over(db)
    jobs = FaceFusionJobRepository(db)
    character = await repos.characters.insert(new_character())

    def failures(op: FaceFusionOperation, run: int) -> str | None:
        if "always" in op.input_image_url or run == 1:
            return f"FaceFusion exited with 1 (run {run})"
        return None

    flaky = await jobs.insert(new_job(operation("https://in.test/flaky.png"), character_id=character.id))
    doomed = await jobs.insert(new_job(operation("https://in.test/always.png"), character_id=character.id,
                                       max_attempts=2, priority=-1))
    runner = StubRunner(db.media, failures=failures)
    async with running(FaceFusionWorker(repos, runner, worker_name="solo")):
        await wait_until(lambda: settled(db))
    recovered, failed = await jobs.get(flaky.id), await jobs.get(doomed.id)
    assert (recovered.status, recovered.attempts, recovered.error_message) == ("completed", 2, None)
    assert (failed.status, failed.attempts, failed.error_message) == ("failed", 2, "FaceFusion exited with 1 (run 2)")
    after = await repos.characters.get(character.id)
    assert [(h.input_image_url, h.success) for h in after.facefusion_processing_history] == [
        ("https://in.test/flaky.png", True), ("https://in.test/always.png", False)]
    assert len(after.facefusion_output_gallery.enhanced_faces) == 1


async def test_cancelling_a_queued_job_means_it_never_runs_and_a_running_one_is_stopped(db: Database) -> None:
    repos = Repositories.over(db)
    jobs = FaceFusionJobRepository(db)
    character = await repos.characters.insert(new_character())
    running_job = await jobs.insert(new_job(operation("https://in.test/long.png"), character_id=character.id, priority=1))
    waiting_job = await jobs.insert(new_job(operation("https://in.test/never.png")))
    await jobs.cancel(waiting_job.id)
    runner = StubRunner(db.media, gate=anyio.Event())  # never opened: the run lasts until cancelled
    async with running(FaceFusionWorker(repos, runner, worker_name="solo", lease_seconds=0.9)):
        await wait_until(lambda: status_is(jobs, running_job.id, "processing"))
        await wait_until(lambda: has_started(runner))
        await jobs.cancel(running_job.id)
        await wait_until(lambda: has_cancelled(runner))
    assert runner.started == runner.cancelled == ["https://in.test/long.png"]
    stopped = await jobs.get(running_job.id)
    assert (stopped.status, stopped.output_data, stopped.lease_owner) == ("cancelled", None, None)
    assert (await jobs.get(waiting_job.id)).status == "cancelled"
    assert (await repos.characters.get(character.id)).facefusion_processing_history == []


async def status_is(jobs: FaceFusionJobRepository, job_id: str, status: str) -> bool:
    return await status_of(jobs, job_id) == status


async def has_started(runner: StubRunner) -> bool:
    return bool(runner.started)


async def has_cancelled(runner: StubRunner) -> bool:
    return bool(runner.cancelled)


async def test_a_worker_that_loses_its_lease_mid_run_stops_and_writes_nothing(db: Database) -> None:
    embedded_only(db)
    repos = Repositories.over(db)
    jobs = FaceFusionJobRepository(db)
    character = await repos.characters.insert(new_character())
    stored = await jobs.insert(new_job(operation("https://in.test/a.png"), character_id=character.id))
    runner = StubRunner(db.media, gate=anyio.Event())
    worker = FaceFusionWorker(repos, runner, worker_name="slow", lease_seconds=0.9)
    async with running(worker):
        await wait_until(lambda: has_started(runner))
        # The lease lapses (as if the worker had stalled) and another worker takes the job over.
        await jobs.requeue_expired(utc_now() + timedelta(seconds=60))
        taken = await jobs.claim_next("other", 600)
        assert taken is not None and taken.id == stored.id
        await jobs.update_progress(stored.id, "other", 5.0)
        await wait_until(lambda: has_cancelled(runner))
        before = await jobs.get(stored.id)
        runner.gate.set() if runner.gate else None
    assert await jobs.get(stored.id) == before
    assert (before.status, before.lease_owner, before.progress, before.attempts) == ("processing", "other", 5.0, 2)
    assert (await repos.characters.get(character.id)).facefusion_processing_history == []


async def test_the_worker_sweeps_a_dead_workers_expired_lease_and_reruns_the_job(db: Database) -> None:
    repos = Repositories.over(db)
    jobs = FaceFusionJobRepository(db)
    stored = await jobs.insert(new_job(operation("https://in.test/orphan.png")))
    await jobs.claim_next("dead-worker", 0.2)  # claimed by a worker that then died: nobody renews the lease
    runner = StubRunner(db.media)
    async with running(FaceFusionWorker(repos, runner, worker_name="sweeper", sweep_seconds=0.1)):
        await wait_until(lambda: status_is(jobs, stored.id, "completed"))
    done = await jobs.get(stored.id)
    assert (done.attempts, runner.started) == (2, ["https://in.test/orphan.png"])


async def test_a_graceful_stop_hands_the_running_job_back_without_counting_the_attempt(db: Database) -> None:
    repos = Repositories.over(db)
    jobs = FaceFusionJobRepository(db)
    stored = await jobs.insert(new_job(operation("https://in.test/a.png"), operation("https://in.test/b.png")))
    runner = StubRunner(db.media, gate=anyio.Event())
    worker = FaceFusionWorker(repos, runner, worker_name="stopping", concurrency=2)
    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            tg.start_soon(worker.run)
            await wait_until(lambda: has_started(runner))
            worker.stop()
    assert runner.cancelled == ["https://in.test/a.png"]
    back = await jobs.get(stored.id)
    assert (back.status, back.attempts, back.lease_owner, back.lease_expires_at, back.progress) == ("queued", 0, None, None, 0.0)


async def test_progress_and_every_status_change_reach_on_change(db: Database) -> None:
    repos = Repositories.over(db)
    jobs = FaceFusionJobRepository(db)
    stored = await jobs.insert(new_job(operation("https://in.test/a.png"), operation("https://in.test/b.png")))
    seen: list[tuple[str, float]] = []

    async def on_change(job: FaceFusionJob) -> None:
        seen.append((job.status, job.progress))

    runner = StubRunner(db.media, seconds=0.3)
    async with running(FaceFusionWorker(repos, runner, worker_name="w", on_change=on_change)):
        await wait_until(lambda: status_is(jobs, stored.id, "completed"))
    assert seen[0] == ("processing", 0.0) and seen[-1] == ("completed", 100.0)
    progress = [p for status, p in seen if status == "processing"]
    assert progress == sorted(progress) and {5.0, 50.0, 100.0} <= set(progress)  # 55 came too soon after 50


@pytest.mark.parametrize("bad", [{"concurrency": 0}, {"concurrency": 65}, {"lease_seconds": 0}, {"worker_name": ""}])
def test_bad_worker_settings_are_refused_naming_the_setting(bad: dict[str, object]) -> None:
    from mcp_storyboard.errors import ValidationError

    settings: dict[str, object] = {"worker_name": "w", **bad}
    with pytest.raises(ValidationError, match=next(iter(bad))):
        FaceFusionWorker(None, StubRunner(None), **settings)  # type: ignore[arg-type]



async def test_a_job_whose_input_cannot_be_read_fails_at_once_without_retries(db: Database) -> None:
    repos = Repositories.over(db)
    jobs = FaceFusionJobRepository(db)
    unreadable = await jobs.insert(FaceFusionJob(project_id="p1", job_type="enhance", input_data={"image": "x.png"}))
    runner = StubRunner(db.media)
    async with running(FaceFusionWorker(repos, runner, worker_name="w")):
        await wait_until(lambda: settled(db))
    failed = await jobs.get(unreadable.id)
    assert (failed.status, failed.attempts, runner.started) == ("failed", 1, [])
    assert failed.error_message is not None and "input_data is not a valid FaceFusion job input" in failed.error_message
