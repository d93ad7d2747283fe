"""The job change feed on the embedded backend (memory:// has no change streams): every kind of change, typed;
deletes tied to the job they remove; a failed stream resumed after the last delivered change, nothing lost or
repeated."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from pymongo.errors import AutoReconnect

from mcp_storyboard.db.connection import Database
from mcp_storyboard.models.facefusion import FaceFusionJob
from mcp_storyboard.repositories import job_changes
from mcp_storyboard.repositories.facefusion_jobs import FaceFusionJobRepository
from mcp_storyboard.repositories.job_changes import Backoff, JobChange, JobChangeFeed

pytestmark = pytest.mark.requires_change_streams


def job(**fields: object) -> FaceFusionJob:
    return FaceFusionJob.model_validate({"project_id": "p", "job_type": "enhance", **fields})


@asynccontextmanager
async def following(feed: JobChangeFeed) -> AsyncIterator[anyio.abc.ObjectReceiveStream[JobChange]]:
    """The feed's changes on a stream, read by a task from before the block (the stream is open) to its end."""
    send, receive = anyio.create_memory_object_stream[JobChange](100)

    async def pump() -> None:
        async for change in feed.follow():
            await send.send(change)

    async with anyio.create_task_group() as group:
        group.start_soon(pump)
        with anyio.fail_after(10):
            await feed.opened.wait()
        yield receive
        group.cancel_scope.cancel()


async def next_change(changes: anyio.abc.ObjectReceiveStream[JobChange]) -> JobChange:
    with anyio.fail_after(10):
        return await changes.receive()


async def test_inserts_updates_and_deletes_arrive_typed_and_a_delete_names_its_job(database: Database) -> None:
    repo = FaceFusionJobRepository(database)
    feed = JobChangeFeed(database)
    assert feed.available
    async with following(feed) as changes:
        queued = await repo.insert(job(character_id="ch"))
        await repo.claim_next("w1", 60)
        await repo.update_progress(queued.id, "w1", 40.0)
        await repo.complete(queued.id, "w1", {"results": []})
        await repo.delete(queued.id)
        seen = [await next_change(changes) for _ in range(5)]
    # A change that wrote the status carries the status it wrote, even when the job changed again (or went)
    # before the change was read; other changes carry the job as it was then.
    assert [(c.operation, c.status if c.status_changed else "-") for c in seen] == [
        ("insert", "queued"), ("update", "processing"), ("update", "-"), ("update", "completed"), ("delete", "-"),
    ]
    assert seen[-1].status is None
    assert {(c.job_id, c.character_id, c.project_id) for c in seen} == {(queued.id, "ch", "p")}
    assert len({c.event_id for c in seen}) == 5


async def test_a_failed_stream_reopens_after_the_last_delivered_change_and_loses_none(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = FaceFusionJobRepository(database)
    real_watch = job_changes.shim.watch
    faults = [1]

    class DropsAfterItsFirstChange:
        """A stream that, once it has delivered a change, loses its connection right after a job is inserted."""

        def __init__(self, stream: Any) -> None:
            self.stream = stream
            self.delivered = False

        @property
        def resume_token(self) -> Any:
            return self.stream.resume_token

        @property
        def alive(self) -> bool:
            return bool(self.stream.alive)

        async def try_next(self) -> Any:
            if self.delivered and faults:
                faults.pop()
                await repo.insert(job(id="00000000-0000-4000-8000-00000000000b"))  # written while the stream is down
                raise AutoReconnect("connection closed (test)")
            found = await self.stream.try_next()
            self.delivered = self.delivered or found is not None
            return found

    @asynccontextmanager
    async def flaky_watch(collection: Any, pipeline: Any, **options: Any) -> AsyncIterator[Any]:
        async with real_watch(collection, pipeline, **options) as stream:
            yield DropsAfterItsFirstChange(stream)

    monkeypatch.setattr(job_changes.shim, "watch", flaky_watch)
    feed = JobChangeFeed(database, backoff=Backoff(first=0.01))
    async with following(feed) as changes:
        first = await repo.insert(job())
        assert (await next_change(changes)).job_id == first.id
        assert (await next_change(changes)).job_id == "00000000-0000-4000-8000-00000000000b"
        last = await repo.insert(job())
        assert (await next_change(changes)).job_id == last.id  # not the one before it again: nothing repeated
    assert feed.reopened == 1 and not faults


async def test_an_event_it_cannot_tie_to_a_job_is_skipped(database: Database) -> None:
    """A delete of a document the feed never saw (inserted before it started) names no job."""
    repo = FaceFusionJobRepository(database)
    before = await repo.insert(job())
    feed = JobChangeFeed(database)
    async with following(feed) as changes:
        await repo.delete(before.id)
        after = await repo.insert(job())
        change = await next_change(changes)
    assert (change.operation, change.job_id) == ("insert", after.id)


async def test_after_the_collection_is_dropped_it_follows_the_new_one(database: Database) -> None:
    """A drop ends a change stream for good (its token cannot be resumed from): the feed starts anew."""
    repo = FaceFusionJobRepository(database)
    feed = JobChangeFeed(database, backoff=Backoff(first=0.01))
    async with following(feed) as changes:
        await repo.insert(job())
        await next_change(changes)
        await database.collection(FaceFusionJob.collection).drop()
        with anyio.fail_after(10):
            while feed.reopened == 0:
                await anyio.sleep(0.01)
        again = await repo.insert(job())
        assert (await next_change(changes)).job_id == again.id


async def test_a_batch_change_names_the_clips_its_successful_results_went_to(database: Database) -> None:
    """Once, in order; not a failed item's clip, nor a legacy plain-URL result (which names no clip)."""
    batches = database.collection("generation_batches")
    feed = JobChangeFeed(database, collection="generation_batches")
    async with following(feed) as changes:
        await batches.insert_one({"id": "b1", "project_id": "p", "status": "processing", "results": []})
        await batches.update_one({"id": "b1"}, {"$set": {"status": "partial", "results": [
            {"clip_id": "c2", "success": True}, "https://legacy.example/a.png", {"clip_id": "c1", "success": False},
            {"clip_id": "c3"}, {"clip_id": "c2", "success": True},
        ]}})  # fmt: skip
        inserted, finished = await next_change(changes), await next_change(changes)
    assert inserted.clip_ids == ()
    assert (finished.status, finished.clip_ids) == ("partial", ("c2", "c3"))
