"""Contract suite for generation batches (queue, counters, results), run unchanged on every backend."""

from __future__ import annotations

from datetime import timedelta

import anyio
import pytest

from mcp_storyboard.db.connection import Database
from mcp_storyboard.errors import InvalidStateError, NotFoundError, QueueError
from mcp_storyboard.models.common import utc_now
from mcp_storyboard.models.generation import BatchResult, GenerationBatch, GenerationBatchPatch, RunningPrompt
from mcp_storyboard.repositories.queue import ExpiredLeases
from mcp_storyboard.repositories.generation_batches import GenerationBatchRepository


SERVER = "00000000-0000-4000-8000-0000000000aa"


def batch(**fields: object) -> GenerationBatch:
    return GenerationBatch.model_validate({"project_id": "p", "total_jobs": 4, **fields})


async def test_batch_crud_round_trips_reads_legacy_results_and_patches_the_pin(db: Database) -> None:
    repo = GenerationBatchRepository(db)
    stored = await repo.insert(batch(prompt_data={"prompt": "a cat", "seed": 7}))
    assert await repo.get(stored.id) == stored
    assert (await repo.apply_patch(stored.id, GenerationBatchPatch(comfyui_server_id="s1"))).comfyui_server_id == "s1"
    legacy = {"id": "legacy", "project_id": "p", "status": "completed", "results": ["https://x/a.png"]}
    await db.collection("generation_batches").insert_one(legacy)
    (result,) = (await repo.get("legacy")).results
    assert (result.url, result.success, result.created_at) == ("https://x/a.png", True, None)
    assert await repo.delete(stored.id) is True
    with pytest.raises(NotFoundError, match="generation batch"):
        await repo.get(stored.id)


async def test_project_batches_page_newest_first_and_status_lists_oldest_first(db: Database) -> None:
    repo = GenerationBatchRepository(db)
    base = utc_now()
    for i in range(5):
        await repo.insert(batch(total_jobs=i, created_at=base + timedelta(seconds=i), status="queued" if i % 2 else "completed"))
    await repo.insert(batch(project_id="other"))
    first = await repo.page_for_project("p", limit=2)
    second = await repo.page_for_project("p", limit=2, cursor=first.next_cursor)
    third = await repo.page_for_project("p", limit=2, cursor=second.next_cursor)
    assert [b.total_jobs for b in first.items + second.items + third.items] == [4, 3, 2, 1, 0]
    assert third.next_cursor is None
    assert [b.total_jobs for b in (await repo.page_for_project("p", status="queued")).items] == [3, 1]
    page = await repo.page_by_status("completed", limit=2)
    rest = await repo.page_by_status("completed", limit=2, cursor=page.next_cursor)
    assert [b.total_jobs for b in page.items + rest.items] == [0, 2, 4]
    assert await repo.delete_for_project("p") == 5


async def test_claims_take_the_oldest_batch_the_server_may_run_and_pin_it(db: Database) -> None:
    repo = GenerationBatchRepository(db)
    base = utc_now()
    pinned_elsewhere = await repo.insert(batch(comfyui_server_id="s2", created_at=base))
    unpinned = await repo.insert(batch(created_at=base + timedelta(seconds=1)))
    mine = await repo.insert(batch(comfyui_server_id="s1", created_at=base + timedelta(seconds=2)))
    first = await repo.claim_next("w1", 60, server_id="s1")
    assert first is not None and (first.id, first.comfyui_server_id, first.status) == (unpinned.id, "s1", "processing")
    second = await repo.claim_next("w1", 60, server_id="s1")
    assert second is not None and second.id == mine.id
    assert await repo.claim_next("w1", 60, server_id="s1") is None
    anyone = await repo.claim_next("w9", 60)
    assert anyone is not None and (anyone.id, anyone.comfyui_server_id, anyone.attempts) == (pinned_elsewhere.id, "s2", 1)


async def test_five_workers_claiming_three_batches_get_exactly_three_distinct_batches(db: Database) -> None:
    repo = GenerationBatchRepository(db)
    for _ in range(3):
        await repo.insert(batch())
    claimed: list[str] = []

    async def work(worker: str) -> None:
        got = await repo.claim_next(worker, 30)
        if got is not None:
            claimed.append(got.id)

    async with anyio.create_task_group() as tg:
        for i in range(5):
            tg.start_soon(work, f"w{i}")
    assert len(claimed) == 3 and len(set(claimed)) == 3


async def test_concurrent_results_are_all_counted_and_kept(db: Database) -> None:
    repo = GenerationBatchRepository(db)
    stored = await repo.insert(batch(total_jobs=10))
    with pytest.raises(QueueError, match="it is queued"):
        await repo.record_result(stored.id, "w1", BatchResult(clip_id="c0", url="https://x/0.png"))
    await repo.claim_next("w1", 60)
    outcomes = [BatchResult(clip_id=f"c{i}", url=f"https://x/{i}.png") for i in range(6)]
    outcomes += [BatchResult(clip_id=f"c{i}", success=False, error="node error") for i in range(6, 10)]
    async with anyio.create_task_group() as tg:
        for outcome in outcomes:
            tg.start_soon(repo.record_result, stored.id, "w1", outcome)
    current = await repo.get(stored.id)
    assert (current.completed_jobs, current.failed_jobs) == (6, 4)
    assert sorted(r.clip_id or "" for r in current.results) == sorted(f"c{i}" for i in range(10))
    finished = await repo.finish(stored.id, "w1")
    assert (finished.status, finished.lease_owner) == ("partial", None)
    with pytest.raises(QueueError, match="it is partial"):
        await repo.record_result(stored.id, "w1", BatchResult(clip_id="late"))


@pytest.mark.parametrize(("ok", "failed", "status"), [(2, 0, "completed"), (0, 2, "failed"), (1, 1, "partial")])
async def test_finishing_derives_the_status_from_the_counters(db: Database, ok: int, failed: int, status: str) -> None:
    repo = GenerationBatchRepository(db)
    stored = await repo.insert(batch(total_jobs=2))
    await repo.claim_next("w1", 60)
    for i in range(ok):
        await repo.record_result(stored.id, "w1", BatchResult(clip_id=f"ok{i}"))
    for i in range(failed):
        await repo.record_result(stored.id, "w1", BatchResult(clip_id=f"ko{i}", success=False, error="boom"))
    with pytest.raises(QueueError, match="worker 'w2' does not hold it"):
        await repo.finish(stored.id, "w2")
    finished = await repo.finish(stored.id, "w1")
    assert (finished.status, finished.error_message) == (status, None)


async def test_a_batch_finishing_with_no_results_fails_saying_so(db: Database) -> None:
    repo = GenerationBatchRepository(db)
    stored = await repo.insert(batch(total_jobs=2))
    await repo.claim_next("w1", 60)
    finished = await repo.finish(stored.id, "w1")
    assert (finished.status, finished.lease_owner, finished.results) == ("failed", None, [])
    assert finished.error_message is not None and "no results" in finished.error_message


async def test_a_late_report_from_a_worker_that_lost_its_lease_is_refused(db: Database) -> None:
    """The defect: w1 reported one item, lost its lease, and its late report was still counted after w2 re-claimed
    the batch, so a 2-item batch ended completed=3, failed=1 with 4 results."""
    repo = GenerationBatchRepository(db)
    stored = await repo.insert(batch(total_jobs=2))
    await repo.claim_next("w1", 5)
    await repo.record_result(stored.id, "w1", BatchResult(clip_id="c1", url="https://x/w1-1.png"))
    assert await repo.requeue_expired(utc_now() + timedelta(seconds=30)) == ExpiredLeases(requeued=1, failed=0)
    with pytest.raises(QueueError, match="worker 'w1' does not hold it .*it is queued"):
        await repo.record_result(stored.id, "w1", BatchResult(clip_id="c2", success=False, error="late"))
    # The re-claim keeps w1's success (its file is in the clip's gallery already); only c2 runs again.
    reclaimed = await repo.claim_next("w2", 60)
    assert reclaimed is not None and (reclaimed.completed_jobs, reclaimed.failed_jobs) == (1, 0)
    assert [r.url for r in reclaimed.results] == ["https://x/w1-1.png"]
    with pytest.raises(QueueError, match="worker 'w1' does not hold it .*leased to worker 'w2'"):
        await repo.record_result(stored.id, "w1", BatchResult(clip_id="c2", success=False, error="late"))
    await repo.record_result(stored.id, "w2", BatchResult(clip_id="c2", url="https://x/w2-2.png"))
    finished = await repo.finish(stored.id, "w2")
    assert (finished.status, finished.completed_jobs, finished.failed_jobs) == ("completed", 2, 0)
    assert [r.url for r in finished.results] == ["https://x/w1-1.png", "https://x/w2-2.png"]


async def test_a_claim_keeps_earlier_successes_drops_earlier_failures_and_running_prompts(db: Database) -> None:
    repo = GenerationBatchRepository(db)
    stored = await repo.insert(batch(total_jobs=3))
    await repo.claim_next("w1", 60)
    await repo.add_running(stored.id, "w1", RunningPrompt(clip_id="c3", server_id=SERVER, prompt_id="p3"))
    await repo.record_result(stored.id, "w1", BatchResult(clip_id="c1", url="https://x/1.png"))
    await repo.record_result(stored.id, "w1", BatchResult(clip_id="c2", success=False, error="node 3 failed"))
    assert await repo.running_per_server() == {SERVER: 1}
    requeued = await repo.fail(stored.id, "w1", "no server")
    assert (requeued.status, requeued.completed_jobs, requeued.failed_jobs, len(requeued.results)) == ("queued", 1, 1, 2)
    again = await repo.claim_next("w2", 60)
    assert again is not None and (again.completed_jobs, again.failed_jobs, again.running) == (1, 0, [])
    assert [(r.clip_id, r.success) for r in again.results] == [("c1", True)]
    await repo.add_running(stored.id, "w2", RunningPrompt(clip_id="c2", server_id=SERVER, prompt_id="p2"))
    done = await repo.record_result(stored.id, "w2", BatchResult(clip_id="c2", url="https://x/2.png"))
    assert done.running == [] and await repo.running_per_server() == {}
    with pytest.raises(QueueError):
        await repo.add_running(stored.id, "w1", RunningPrompt(clip_id="c3", server_id=SERVER, prompt_id="late"))


async def test_failures_leases_and_cancels_follow_the_queue_rules(db: Database) -> None:
    repo = GenerationBatchRepository(db)
    flaky = await repo.insert(batch(max_attempts=2))
    await repo.claim_next("w1", 60)
    assert (await repo.fail(flaky.id, "w1", "server offline")).status == "queued"
    await repo.claim_next("w1", 5)
    assert await repo.requeue_expired(utc_now() + timedelta(seconds=30)) == ExpiredLeases(requeued=0, failed=1)
    gone = await repo.get(flaky.id)
    assert (gone.status, gone.error_message) == ("failed", "the worker's lease expired and no attempts are left")
    with pytest.raises(InvalidStateError, match="generation batch .* is failed"):
        await repo.cancel(flaky.id)
    waiting = await repo.insert(batch())
    assert (await repo.cancel(waiting.id)).status == "cancelled"
    assert await repo.claim_next("w1", 60) is None
