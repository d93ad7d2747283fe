"""Contract suite for the FaceFusion job queue, run unchanged on every backend."""

from __future__ import annotations

from datetime import timedelta

import anyio
import pytest

from mcp_storyboard.db.connection import Database
from mcp_storyboard.errors import DuplicateKeyConflict, InvalidStateError, NotFoundError, QueueError, ValidationError
from mcp_storyboard.models.common import utc_now
from mcp_storyboard.models.facefusion import FaceFusionJob, FaceFusionJobPatch
from mcp_storyboard.repositories.facefusion_jobs import FaceFusionJobRepository
from mcp_storyboard.repositories.queue import ExpiredLeases


def job(**fields: object) -> FaceFusionJob:
    return FaceFusionJob.model_validate({"project_id": "p", "job_type": "enhance", **fields})


async def test_job_crud_round_trips_and_patches_priority(db: Database) -> None:
    repo = FaceFusionJobRepository(db)
    stored = await repo.insert(job(character_id="ch", input_data={"image": "https://x/a.png", "n": [1, 2]}))
    assert await repo.get(stored.id) == stored
    assert (await repo.apply_patch(stored.id, FaceFusionJobPatch(priority=7))).priority == 7
    with pytest.raises(DuplicateKeyConflict) as caught:
        await repo.insert(job(id=stored.id))
    assert caught.value.field == "id"
    assert await repo.delete(stored.id) is True
    with pytest.raises(NotFoundError, match="facefusion job"):
        await repo.get(stored.id)


async def test_project_jobs_page_newest_first_and_filter_by_status_and_character(db: Database) -> None:
    repo = FaceFusionJobRepository(db)
    base = utc_now()
    for i in range(7):
        await repo.insert(job(created_at=base + timedelta(seconds=i), priority=i, character_id="ch" if i % 2 else None))
    await repo.insert(job(project_id="other"))
    first = await repo.page_for_project("p", limit=3)
    second = await repo.page_for_project("p", limit=3, cursor=first.next_cursor)
    third = await repo.page_for_project("p", limit=3, cursor=second.next_cursor)
    assert [j.priority for j in first.items + second.items + third.items] == [6, 5, 4, 3, 2, 1, 0]
    assert third.next_cursor is None
    assert [j.priority for j in (await repo.page_for_character("ch")).items] == [5, 3, 1]
    assert (await repo.page_for_project("p", status="completed")).items == []
    queued = await repo.page_by_status("queued", limit=4)
    rest = await repo.page_by_status("queued", limit=4, cursor=queued.next_cursor)
    assert [j.priority for j in queued.items + rest.items] == [6, 5, 4, 3, 2, 1, 0, 0]
    assert await repo.delete_for_project("p") == 7


async def test_claims_follow_priority_then_age_and_set_the_lease(db: Database) -> None:
    repo = FaceFusionJobRepository(db)
    base = utc_now()
    old_low = await repo.insert(job(priority=0, created_at=base))
    new_high = await repo.insert(job(priority=5, created_at=base + timedelta(seconds=2)))
    old_high = await repo.insert(job(priority=5, created_at=base + timedelta(seconds=1)))
    claimed = [await repo.claim_next("w1", 60) for _ in range(3)]
    assert [c.id for c in claimed if c] == [old_high.id, new_high.id, old_low.id]
    first = claimed[0]
    assert first is not None and first.status == "processing" and first.lease_owner == "w1" and first.attempts == 1
    assert first.started_at is not None and first.lease_expires_at is not None
    assert timedelta(seconds=59) < first.lease_expires_at - first.started_at <= timedelta(seconds=60)
    assert await repo.claim_next("w1", 60) is None


async def test_five_workers_claiming_three_jobs_get_exactly_three_distinct_jobs(db: Database) -> None:
    repo = FaceFusionJobRepository(db)
    for _ in range(3):
        await repo.insert(job())
    claims: dict[str, FaceFusionJob | None] = {}

    async def work(worker: str) -> None:
        claims[worker] = await repo.claim_next(worker, 30)

    async with anyio.create_task_group() as tg:
        for i in range(5):
            tg.start_soon(work, f"w{i}")
    won = {w: c for w, c in claims.items() if c is not None}
    assert len(won) == 3 and len({c.id for c in won.values()}) == 3
    for worker, claimed in won.items():
        assert (await repo.get(claimed.id)).lease_owner == worker


async def test_only_the_lease_holder_can_heartbeat_report_progress_and_complete(db: Database) -> None:
    repo = FaceFusionJobRepository(db)
    stored = await repo.insert(job())
    claimed = await repo.claim_next("w1", 10)
    assert claimed is not None
    renewed = await repo.heartbeat(stored.id, "w1", 600)
    assert renewed.lease_expires_at is not None and claimed.lease_expires_at is not None
    assert renewed.lease_expires_at > claimed.lease_expires_at
    assert (await repo.update_progress(stored.id, "w1", 42.5)).progress == 42.5
    with pytest.raises(ValidationError, match="progress"):
        await repo.update_progress(stored.id, "w1", 101)
    with pytest.raises(QueueError, match="worker 'w2' does not hold it .*leased to worker 'w1'"):
        await repo.heartbeat(stored.id, "w2", 60)
    with pytest.raises(QueueError):
        await repo.complete(stored.id, "w2", {"url": "x"})
    done = await repo.complete(stored.id, "w1", {"url": "https://x/out.png"})
    assert (done.status, done.progress, done.output_data, done.lease_owner) == ("completed", 100.0, {"url": "https://x/out.png"}, None)
    assert done.completed_at is not None
    with pytest.raises(QueueError, match="it is completed"):
        await repo.complete(stored.id, "w1", {})
    with pytest.raises(NotFoundError):
        await repo.heartbeat("missing", "w1", 60)
    with pytest.raises(ValidationError, match="lease_seconds"):
        await repo.claim_next("w1", 0)


async def test_a_failed_attempt_requeues_until_the_attempts_run_out(db: Database) -> None:
    repo = FaceFusionJobRepository(db)
    stored = await repo.insert(job(max_attempts=2))
    await repo.claim_next("w1", 60)
    retried = await repo.fail(stored.id, "w1", "$GPU out of memory")
    assert (retried.status, retried.attempts, retried.lease_owner, retried.completed_at) == ("queued", 1, None, None)
    assert retried.error_message == "$GPU out of memory"
    again = await repo.claim_next("w2", 60)
    assert again is not None and again.attempts == 2
    final = await repo.fail(stored.id, "w2", "still no memory")
    assert (final.status, final.lease_expires_at, final.error_message) == ("failed", None, "still no memory")
    assert final.completed_at is not None
    assert await repo.claim_next("w3", 60) is None
    with pytest.raises(QueueError, match="it is failed"):
        await repo.fail(stored.id, "w2", "again")


async def test_expired_leases_are_requeued_or_failed_and_the_old_holder_loses(db: Database) -> None:
    repo = FaceFusionJobRepository(db)
    retry = await repo.insert(job(priority=3, max_attempts=2))
    last = await repo.insert(job(priority=2, max_attempts=1))
    fresh = await repo.insert(job(priority=1))
    await repo.claim_next("w1", 10)
    await repo.claim_next("w1", 10)
    await repo.claim_next("w2", 3600)
    assert await repo.requeue_expired(utc_now() + timedelta(seconds=60)) == ExpiredLeases(requeued=1, failed=1)
    assert (await repo.get(retry.id)).status == "queued"
    assert (await repo.get(last.id)).status == "failed"
    assert (await repo.get(fresh.id)).lease_owner == "w2"
    with pytest.raises(QueueError, match="it is queued"):
        await repo.complete(retry.id, "w1", {})
    reclaimed = await repo.claim_next("w3", 10)
    assert reclaimed is not None and (reclaimed.id, reclaimed.attempts, reclaimed.progress) == (retry.id, 2, 0.0)
    assert await repo.requeue_expired() == ExpiredLeases(0, 0)


async def test_a_reclaim_starts_from_a_clean_slate(db: Database) -> None:
    """What a lost or failed attempt wrote (progress, output, error) does not survive into the next attempt."""
    repo = FaceFusionJobRepository(db)
    stored = await repo.insert(job(max_attempts=3))
    await repo.claim_next("w1", 5)
    await repo.update_progress(stored.id, "w1", 60.0)
    await repo.fail(stored.id, "w1", "GPU lost", extra={"output_data": {"results": [{"success": False}]}})
    second = await repo.claim_next("w2", 5)
    assert second is not None and (second.progress, second.output_data, second.error_message) == (0.0, None, None)
    await repo.update_progress(stored.id, "w2", 80.0)
    await repo.requeue_expired(utc_now() + timedelta(seconds=30))
    third = await repo.claim_next("w3", 60)
    assert third is not None and (third.attempts, third.progress, third.error_message) == (3, 0.0, None)


async def test_a_final_failure_ignores_the_attempts_left_and_stores_extra_fields_as_given(db: Database) -> None:
    repo = FaceFusionJobRepository(db)
    stored = await repo.insert(job(max_attempts=3))
    await repo.claim_next("w1", 60)
    output = {"results": [], "note": "$not_an_expression"}
    failed = await repo.fail(stored.id, "w1", "unreadable input", final=True, extra={"output_data": output})
    assert (failed.status, failed.attempts, failed.output_data) == ("failed", 1, output)
    assert failed.completed_at is not None


async def test_release_puts_the_job_back_without_counting_the_attempt(db: Database) -> None:
    repo = FaceFusionJobRepository(db)
    stored = await repo.insert(job())
    await repo.claim_next("w1", 60)
    await repo.update_progress(stored.id, "w1", 30.0)
    with pytest.raises(QueueError, match="worker 'w2' does not hold it"):
        await repo.release(stored.id, "w2")
    released = await repo.release(stored.id, "w1")
    assert (released.status, released.attempts, released.lease_owner, released.lease_expires_at, released.progress) == (
        "queued", 0, None, None, 0.0)
    again = await repo.claim_next("w2", 60)
    assert again is not None and again.attempts == 1


async def test_cancel_is_allowed_only_from_queued_or_processing(db: Database) -> None:
    repo = FaceFusionJobRepository(db)
    queued = await repo.insert(job())
    cancelled = await repo.cancel(queued.id)
    assert cancelled.status == "cancelled" and cancelled.completed_at is not None
    with pytest.raises(InvalidStateError, match="is cancelled and cannot be cancelled"):
        await repo.cancel(queued.id)
    running = await repo.insert(job())
    await repo.claim_next("w1", 60)
    assert (await repo.cancel(running.id)).lease_owner is None
    with pytest.raises(QueueError, match="it is cancelled"):
        await repo.heartbeat(running.id, "w1", 60)
    with pytest.raises(NotFoundError):
        await repo.cancel("missing")


async def test_a_cancel_racing_a_completion_has_exactly_one_winner(db: Database) -> None:
    repo = FaceFusionJobRepository(db)
    for _ in range(5):
        stored = await repo.insert(job())
        await repo.claim_next("w1", 60)
        outcomes: list[str] = []

        async def attempt(action: str, job_id: str = stored.id) -> None:
            try:
                if action == "cancel":
                    await repo.cancel(job_id)
                else:
                    await repo.complete(job_id, "w1", {"ok": True})
                outcomes.append(action)
            except (QueueError, InvalidStateError):
                outcomes.append("lost")

        async with anyio.create_task_group() as tg:
            tg.start_soon(attempt, "cancel")
            tg.start_soon(attempt, "complete")
        assert sorted(outcomes) in (["cancel", "lost"], ["complete", "lost"])
        assert (await repo.get(stored.id)).status == ("cancelled" if "cancel" in outcomes else "completed")
