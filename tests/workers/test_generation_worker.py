"""The generation worker with a stub PromptRunner: outputs landing in galleries, dispatch across servers within
their capacity, an unreachable server's work moving on, per-node failures, truthful final statuses, no server,
cancels, graceful stops that keep finished items, and a race of workers on the embedded server.

No timing is asserted: waits have generous safety limits only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest

from mcp_storyboard.db.connection import Database
from mcp_storyboard.errors import ComfyUIExecutionError, ComfyUINodeErrors
from mcp_storyboard.integrations.comfyui import ComfyUIUnreachable
from mcp_storyboard.models.generation import GenerationBatch
from mcp_storyboard.repositories.comfyui_servers import ComfyUIServerRepository
from mcp_storyboard.repositories.generation_batches import GenerationBatchRepository
from mcp_storyboard.services.container import Services
from mcp_storyboard.services.generation.worker import NO_SERVER, GenerationWorker
from tests.conftest import open_test_database
from tests.fakes.comfyui import serve_fake_comfyui
from tests.media_samples import png
from tests.seed import seed_clip, seed_project
from tests.workers.generation_stubs import (
    StubPromptRunner,
    item,
    new_batch,
    online_server,
)
from tests.workers.stubs import wait_until

FINAL = ("completed", "partial", "failed", "cancelled")


def worker(services: Services, runner: StubPromptRunner, name: str = "g", **options: object) -> GenerationWorker:
    options = {"lease_seconds": 60, "check_seconds": None, "no_server_pause_seconds": 0.05, **options}
    return GenerationWorker(services.repositories, runner, worker_name=name, **options)  # type: ignore[arg-type]


@asynccontextmanager
async def running(*workers: GenerationWorker) -> AsyncIterator[None]:
    async with anyio.create_task_group() as tg:
        for one in workers:
            tg.start_soon(one.run)
        try:
            yield
        finally:
            for one in workers:
                one.stop()


async def finished(batches: GenerationBatchRepository, batch_id: str) -> GenerationBatch:
    async def done() -> bool:
        return (await batches.get(batch_id)).status in FINAL

    await wait_until(done)
    return await batches.get(batch_id)


async def setup(db: Database, clips: int = 3) -> tuple[Services, str, list[str]]:
    services = Services.over(db)
    project = await seed_project(services)
    ids = [(await seed_clip(services, project, f"Shot {n}")).id for n in range(clips)]
    return services, project, ids


async def test_a_batch_lands_every_output_in_its_clip_gallery_and_completes(db: Database) -> None:
    services, project, clips = await setup(db)
    server = await online_server(ComfyUIServerRepository(db), "A")
    batches = GenerationBatchRepository(db)
    items = [item(clips[0]), item(clips[1], kind="video", params={**item(clips[1]).params.model_dump(), "frames": 16,
                                                                   "fps": 8.0}),
             item(clips[2], loras=[{"name": "ink.safetensors", "strength": 0.7}], model_id="sdxl-base")]
    batch = await batches.insert(new_batch(project, items))
    runner = StubPromptRunner()
    changes: list[str] = []
    async with running(worker(services, runner, on_change=lambda b: changes.append(b.status))):
        done = await finished(batches, batch.id)
    assert (done.status, done.completed_jobs, done.failed_jobs, done.running, done.lease_owner) == (
        "completed", 3, 0, [], None)
    assert sorted(r.clip_id or "" for r in done.results) == sorted(clips)
    assert changes[0] == "processing" and changes[-1] == "completed"
    for result, generated in zip(sorted(done.results, key=lambda r: clips.index(r.clip_id or "")), items, strict=True):
        clip = await services.repositories.clips.get(generated.clip_id)
        gallery = clip.generated_videos if generated.kind == "video" else clip.generated_images
        selected = clip.selected_video_id if generated.kind == "video" else clip.selected_image_id
        (entry,) = gallery
        assert (entry.id, entry.url, entry.media_id) == (result.gallery_entry_id, result.url, result.media_id)
        assert selected == entry.id and result.success
        assert (entry.prompt, entry.negative_prompt, entry.server_id) == (generated.prompt, "blurry", server.id)
        assert entry.params["seed"] == 42 and entry.params["sampler_name"] == "euler"
        info, data = await db.media.get(entry.media_id or "")
        assert info.project_id == project and info.content_type == ("video/mp4" if generated.kind == "video" else "image/png")
        if generated.kind == "image":
            assert data == png(2, 2)
    third = (await services.repositories.clips.get(clips[2])).generated_images[0]
    assert (third.model, third.params["loras"]) == ("sdxl-base", "ink.safetensors:0.7")
    assert (await services.repositories.clips.get(clips[1])).generated_videos[0].params["frames"] == 16


async def test_items_go_to_the_least_loaded_servers_never_beyond_max_concurrent_and_are_recorded_running(
    db: Database,
) -> None:
    services, project, clips = await setup(db, clips=7)
    servers = ComfyUIServerRepository(db)
    big = await online_server(servers, "Big", max_concurrent=2, port=8188)
    small = await online_server(servers, "Small", max_concurrent=1, port=8189)
    await online_server(servers, "Disabled", max_concurrent=8, port=8190, is_active=False)
    batches = GenerationBatchRepository(db)
    batch = await batches.insert(new_batch(project, [item(c) for c in clips]))
    gate = anyio.Event()
    runner = StubPromptRunner(gate=gate)
    async with running(worker(services, runner)):

        async def three_recorded() -> bool:
            return len((await batches.get(batch.id)).running) == 3

        await wait_until(three_recorded)
        busy = await batches.get(batch.id)
        assert sorted(p.server_id for p in busy.running) == sorted([big.id, big.id, small.id])
        assert len({p.prompt_id for p in busy.running}) == 3
        assert await batches.running_per_server() == {big.id: 2, small.id: 1}
        gate.set()
        done = await finished(batches, batch.id)
    assert (done.status, done.completed_jobs) == ("completed", 7)
    assert dict(runner.peak) == {big.id: 2, small.id: 1}
    assert {clip for _, clip in runner.started} == set(clips) and len(runner.started) == 7


async def test_an_unreachable_server_is_marked_offline_and_its_item_moves_to_another(db: Database) -> None:
    services, project, clips = await setup(db, clips=4)
    servers = ComfyUIServerRepository(db)
    down = await online_server(servers, "A down", max_concurrent=4, port=8188)
    up = await online_server(servers, "B up", max_concurrent=1, port=8189)
    batches = GenerationBatchRepository(db)
    batch = await batches.insert(new_batch(project, [item(c) for c in clips]))

    def outcome(server, _item, _n):  # type: ignore[no-untyped-def]
        return ComfyUIUnreachable(f"ComfyUI at {server.url} is unreachable") if server.id == down.id else None

    runner = StubPromptRunner(outcome=outcome)
    async with running(worker(services, runner)):
        done = await finished(batches, batch.id)
    assert (done.status, done.completed_jobs) == ("completed", 4)
    assert sorted(clip for server, clip in runner.started if server == up.id) == sorted(clips)
    assert any(server == down.id for server, _ in runner.started)  # it was tried, then left
    for clip in clips:
        (entry,) = (await services.repositories.clips.get(clip)).generated_images
        assert entry.server_id == up.id
    marked = await servers.get(down.id)
    assert marked.status == "offline" and "unreachable" in (marked.last_error or "")


async def test_comfyui_failures_fail_their_item_per_node_and_the_status_is_derived_truthfully(db: Database) -> None:
    services, project, clips = await setup(db)
    await online_server(ComfyUIServerRepository(db), "A")
    batches = GenerationBatchRepository(db)
    refused = ComfyUINodeErrors("ComfyUI at http://127.0.0.1:8188 refused the graph: Prompt outputs failed validation"
                                " — node 3 (KSampler) steps: Value 0 smaller than min of 1",
                                [{"node_id": "3", "class_type": "KSampler", "input": "steps", "type": "value_smaller_than_min",
                                  "message": "Value 0 smaller than min of 1", "details": "steps"}])

    def outcome(_server, generated, _n):  # type: ignore[no-untyped-def]
        return refused if generated.clip_id == clips[1] else None

    partial = await batches.insert(new_batch(project, [item(c) for c in clips]))
    async with running(worker(services, StubPromptRunner(outcome=outcome))):
        done = await finished(batches, partial.id)
    assert (done.status, done.completed_jobs, done.failed_jobs) == ("partial", 2, 1)
    (failure,) = [r for r in done.results if not r.success]
    assert failure.clip_id == clips[1] and "node 3 (KSampler) steps" in (failure.error or "")
    assert (await services.repositories.clips.get(clips[1])).generated_images == []

    crashed = ComfyUIExecutionError("prompt failed in node 8 (VAEDecode): CUDA out of memory", node_id="8", node_type="VAEDecode")
    all_failed = await batches.insert(new_batch(project, [item(c) for c in clips[:2]]))
    async with running(worker(services, StubPromptRunner(outcome=lambda *_: crashed))):
        done = await finished(batches, all_failed.id)
    assert (done.status, done.completed_jobs, done.failed_jobs) == ("failed", 0, 2)
    assert all("node 8 (VAEDecode)" in (r.error or "") for r in done.results)


async def test_without_a_server_the_batch_is_queued_again_then_its_items_fail_on_the_last_attempt(db: Database) -> None:
    services, project, clips = await setup(db, clips=2)
    servers = ComfyUIServerRepository(db)
    offline = await online_server(servers, "Offline")
    await servers.set_status(offline.id, "offline", error="unreachable")
    batches = GenerationBatchRepository(db)
    batch = await batches.insert(new_batch(project, [item(c) for c in clips], max_attempts=2))
    runner = StubPromptRunner()
    async with running(worker(services, runner)):
        done = await finished(batches, batch.id)
    assert (done.status, done.attempts, done.completed_jobs, done.failed_jobs) == ("failed", 2, 0, 2)
    assert all(NO_SERVER in (r.error or "") and "last attempt" in (r.error or "") for r in done.results)
    assert runner.started == []


async def test_a_pinned_batch_runs_only_on_its_server(db: Database) -> None:
    services, project, clips = await setup(db)
    servers = ComfyUIServerRepository(db)
    await online_server(servers, "Other", max_concurrent=8, port=8188)
    pinned = await online_server(servers, "Pinned", max_concurrent=1, port=8189)
    batches = GenerationBatchRepository(db)
    batch = await batches.insert(new_batch(project, [item(c) for c in clips], comfyui_server_id=pinned.id))
    runner = StubPromptRunner()
    async with running(worker(services, runner)):
        done = await finished(batches, batch.id)
    assert done.status == "completed" and {server for server, _ in runner.started} == {pinned.id}


async def test_a_cancelled_batch_stops_its_running_items_and_writes_nothing_more(db: Database) -> None:
    services, project, clips = await setup(db, clips=2)
    await online_server(ComfyUIServerRepository(db), "A")
    batches = GenerationBatchRepository(db)
    batch = await batches.insert(new_batch(project, [item(c) for c in clips]))
    runner = StubPromptRunner(gate=anyio.Event())  # never opens: only the cancel ends the prompts
    async with running(worker(services, runner, lease_seconds=3)):

        async def both_running() -> bool:
            return len((await batches.get(batch.id)).running) == 2

        await wait_until(both_running)
        cancelled = await batches.cancel(batch.id)
        assert [p.clip_id for p in cancelled.running] != []  # what cancel_generation_batch interrupts

        async def both_cancelled() -> bool:
            return sorted(runner.cancelled) == sorted(clips)

        await wait_until(both_cancelled)
    stored = await batches.get(batch.id)
    assert (stored.status, stored.results, stored.completed_jobs) == ("cancelled", [], 0)
    for clip in clips:
        assert (await services.repositories.clips.get(clip)).generated_images == []


async def test_a_stopped_worker_hands_the_batch_back_and_the_next_runs_only_the_unfinished_items(db: Database) -> None:
    services, project, clips = await setup(db, clips=2)
    await online_server(ComfyUIServerRepository(db), "A")
    batches = GenerationBatchRepository(db)
    batch = await batches.insert(new_batch(project, [item(c) for c in clips]))
    gate = anyio.Event()

    # The second item waits on its first run only.
    runner = StubPromptRunner(gates=lambda generated, n: gate if generated.clip_id == clips[1] and n == 1 else None)
    first = worker(services, runner, name="first")
    async with running(first):

        async def first_done() -> bool:
            now = await batches.get(batch.id)
            return now.completed_jobs == 1 and [p.clip_id for p in now.running] == [clips[1]]

        await wait_until(first_done)
    handed_back = await batches.get(batch.id)
    assert (handed_back.status, handed_back.attempts, handed_back.completed_jobs, handed_back.lease_owner) == (
        "queued", 0, 1, None)
    assert [r.clip_id for r in handed_back.results] == [clips[0]] and handed_back.running == []
    assert runner.cancelled == [clips[1]]
    async with running(worker(services, runner, name="second")):
        done = await finished(batches, batch.id)
    assert (done.status, done.completed_jobs, len(done.results)) == ("completed", 2, 2)
    assert (runner.runs_of(clips[0]), runner.runs_of(clips[1])) == (1, 2)
    for clip in clips:
        assert len((await services.repositories.clips.get(clip)).generated_images) == 1


async def test_workers_racing_on_many_batches_run_each_item_once_and_count_exactly_what_they_stored(
    request: pytest.FixtureRequest,
) -> None:
    db = await open_test_database("embedded-pymongo", request)
    try:
        services, project, clips = await setup(db, clips=60)
        servers = ComfyUIServerRepository(db)
        for n in range(3):
            await online_server(servers, f"S{n}", max_concurrent=2, port=8188 + n)
        batches = GenerationBatchRepository(db)
        doomed = set(clips[::7])
        crashed = ComfyUIExecutionError("prompt failed in node 3 (KSampler)", node_id="3", node_type="KSampler")
        runner = StubPromptRunner(outcome=lambda _s, generated, _n: crashed if generated.clip_id in doomed else None)
        ids = [(await batches.insert(new_batch(project, [item(c) for c in clips[n:n + 3]]))).id
               for n in range(0, 60, 3)]
        workers = [worker(services, runner, name=f"w{n}", concurrency=2) for n in range(4)]
        async with running(*workers):

            async def all_final() -> bool:
                return await db.collection("generation_batches").count_documents({"status": {"$in": list(FINAL)}}) == 20

            await wait_until(all_final, seconds=600, poll=0.2)
        assert sorted({clip for _, clip in runner.started}) == sorted(clips)
        assert all(runner.runs_of(clip) == 1 for clip in clips)
        for batch_id in ids:
            done = await batches.get(batch_id)
            succeeded = [r for r in done.results if r.success]
            assert (done.completed_jobs, done.failed_jobs) == (len(succeeded), len(done.results) - len(succeeded))
            assert len(done.results) == done.total_jobs == 3 and done.running == [] and done.attempts == 1
            expected = "completed" if not done.failed_jobs else "failed" if not done.completed_jobs else "partial"
            assert done.status == expected
        for clip in clips:
            gallery = (await services.repositories.clips.get(clip)).generated_images
            assert len(gallery) == (0 if clip in doomed else 1)
    finally:
        await db.client.drop_database(db.db.name)
        await db.close()


async def test_the_worker_checks_the_servers_so_a_registered_one_comes_online_and_runs_the_batch(db: Database) -> None:
    services, project, clips = await setup(db, clips=1)
    batches = GenerationBatchRepository(db)
    with serve_fake_comfyui() as comfy:
        registered = await services.comfyui.register("Fresh", comfy.url)  # never checked: offline until the worker checks
        batch = await batches.insert(new_batch(project, [item(clips[0])]))
        runner = StubPromptRunner()
        async with running(worker(services, runner, check_seconds=30.0)):
            done = await finished(batches, batch.id)
    assert done.status == "completed" and runner.started == [(registered.id, clips[0])]
    checked = await services.comfyui.get(registered.id)
    assert checked.status == "online" and checked.last_check is not None


@pytest.mark.parametrize("bad", [{"concurrency": 0}, {"lease_seconds": 0}, {"check_seconds": 0}, {"worker_name": ""}])
def test_bad_worker_settings_are_refused_naming_the_setting(bad: dict[str, object]) -> None:
    from mcp_storyboard.errors import ValidationError

    settings: dict[str, object] = {"worker_name": "w", **bad}
    with pytest.raises(ValidationError, match=next(iter(bad))):
        GenerationWorker(None, StubPromptRunner(), **settings)  # type: ignore[arg-type]


async def test_a_clip_deleted_while_it_generates_fails_its_item_and_keeps_no_file(db: Database) -> None:
    services, project, clips = await setup(db, clips=2)
    await online_server(ComfyUIServerRepository(db), "A")
    batches = GenerationBatchRepository(db)
    batch = await batches.insert(new_batch(project, [item(c) for c in clips]))
    gate = anyio.Event()
    runner = StubPromptRunner(gates=lambda generated, _n: gate if generated.clip_id == clips[1] else None)
    async with running(worker(services, runner)):

        async def second_running() -> bool:
            return [p.clip_id for p in (await batches.get(batch.id)).running] == [clips[1]]

        await wait_until(second_running)
        await db.collection("clips").delete_one({"id": clips[1]})
        gate.set()
        done = await finished(batches, batch.id)
    assert (done.status, done.completed_jobs, done.failed_jobs) == ("partial", 1, 1)
    (failure,) = [r for r in done.results if not r.success]
    assert failure.clip_id == clips[1] and "was deleted" in (failure.error or "")
    assert [i.id for i in (await db.media.list(project_id=project)).items] == [
        r.media_id for r in done.results if r.success]


async def test_a_worker_that_lost_its_batch_adds_nothing_to_the_gallery_and_keeps_no_file(db: Database) -> None:
    services, project, clips = await setup(db, clips=1)
    await online_server(ComfyUIServerRepository(db), "A")
    batches = GenerationBatchRepository(db)
    batch = await batches.insert(new_batch(project, [item(clips[0])]))
    gate = anyio.Event()
    runner = StubPromptRunner(gate=gate)
    loser = worker(services, runner)
    async with running(loser):

        async def submitted() -> bool:
            return bool((await batches.get(batch.id)).running)

        await wait_until(submitted)
        # Another worker took the batch over (as after an expired lease and a re-claim).
        await db.collection("generation_batches").update_one({"id": batch.id}, {"$set": {"lease_owner": "thief"}})
        gate.set()

        async def dropped() -> bool:  # the refused write and its clean-up are behind it once the run is gone
            return not loser._runs

        await wait_until(dropped)
    stored = await batches.get(batch.id)
    assert (stored.status, stored.lease_owner, stored.results, stored.completed_jobs) == ("processing", "thief", [], 0)
    assert (await services.repositories.clips.get(clips[0])).generated_images == []
    assert (await db.media.list(project_id=project)).items == []
