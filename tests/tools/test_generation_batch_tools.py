"""Generation batches after queueing: per-clip status and results as a worker records them, list pages, cancel
(interrupting the batch's running ComfyUI prompts, best effort), retry (a new batch of what did not succeed, same
seeds), wait with progress, the batch resource with change notifications, and id completion."""

from __future__ import annotations

import json
from typing import Any

import anyio
from mcp.types import ResourceLink, ResourceTemplateReference

from mcp_storyboard.models.generation import BatchResult, RunningPrompt
from mcp_storyboard.server.job_events import events_of
from tests.fakes.comfyui import serve_fake_comfyui
from tests.tools.conftest import ToolClient
from tests.tools.generation_world import generation_world
from tests.tools.test_resources import not_found

WORKER = "worker-1"


async def queue_three(tools: ToolClient) -> tuple[dict[str, Any], list[str]]:
    w = await generation_world(tools.services)
    queued = await tools.call("generate_batch", project_id=w.project_id, model_id=w.model_id,
                              clips=[{"clip_id": c} for c in w.clip_ids])
    return queued, w.clip_ids


async def claim(tools: ToolClient, batch_id: str) -> None:
    claimed = await tools.services.generation.batches.claim_next(WORKER, 60)
    assert claimed is not None and claimed.id == batch_id


async def report(tools: ToolClient, batch_id: str, clip_id: str, success: bool) -> None:
    result = BatchResult(clip_id=clip_id, success=success, url="storyboard://media/m-" + clip_id if success else None,
                         media_id="m-" + clip_id if success else None, error=None if success else "KSampler: OOM")
    await tools.services.generation.batches.record_result(batch_id, WORKER, result)


async def run(tools: ToolClient, batch_id: str, clip_ids: list[str], outcomes: list[bool]) -> None:
    """What a worker does: claim, report each item, finish."""
    await claim(tools, batch_id)
    for clip_id, success in zip(clip_ids, outcomes, strict=True):
        await report(tools, batch_id, clip_id, success)
    await tools.services.generation.batches.finish(batch_id, WORKER)


async def test_each_clip_shows_its_own_status_and_result(tools: ToolClient) -> None:
    queued, clips = await queue_three(tools)
    await claim(tools, queued["id"])
    await report(tools, queued["id"], clips[0], True)
    await report(tools, queued["id"], clips[1], False)
    server_id = (await tools.call("register_comfyui_server", name="Box", url="http://127.0.0.1:9"))["id"]
    running = RunningPrompt(clip_id=clips[2], server_id=server_id, prompt_id="p-3")
    await tools.services.generation.batches.update_fields(queued["id"], {"running": [running.model_dump()]})
    view = await tools.call("get_generation_batch", batch_id=queued["id"])
    assert (view["status"], view["completed_jobs"], view["failed_jobs"], view["attempts"]) == ("processing", 1, 1, 1)
    shown = [(c["clip_id"], c["status"], c["url"], c["error"], c["server_id"]) for c in view["clips"]]
    assert shown == [(clips[0], "succeeded", f"storyboard://media/m-{clips[0]}", None, None),
                     (clips[1], "failed", None, "KSampler: OOM", None), (clips[2], "running", None, None, server_id)]
    raw = await tools.client.call_tool("get_generation_batch", {"batch_id": queued["id"]})
    links = [str(block.uri) for block in raw.content if isinstance(block, ResourceLink)]
    assert links == [f"storyboard://media/m-{clips[0]}"]
    read = await tools.client.read_resource(queued["uri"])
    assert json.loads(read.contents[0].text)["clips"] == view["clips"]  # type: ignore[union-attr]
    assert (await not_found(tools, "storyboard://generation-batches/ghost")).startswith(
        "[not-found] generation batch 'ghost' does not exist")


async def test_lists_are_newest_first_by_project_and_status(tools: ToolClient) -> None:
    first, clips = await queue_three(tools)
    second = await tools.call("generate_clip_media", clip_id=clips[0], checkpoint="a.safetensors")
    project_id = (await tools.services.generation.get(first["id"])).project_id
    await run(tools, first["id"], clips, [True, True, False])
    page = await tools.call("list_generation_batches", project_id=project_id, limit=1)
    rest = await tools.call("list_generation_batches", project_id=project_id, cursor=page["next_cursor"])
    assert [b["id"] for b in page["items"] + rest["items"]] == [second["id"], first["id"]]
    assert (rest["items"][0]["status"], rest["items"][0]["completed_jobs"], rest["items"][0]["failed_jobs"]) == (
        "partial", 2, 1)
    partial = await tools.call("list_generation_batches", project_id=project_id, status="partial")
    assert [b["id"] for b in partial["items"]] == [first["id"]]
    assert "[not-found] project 'ghost'" in await tools.refused("list_generation_batches", project_id="ghost")
    assert "status" in await tools.refused("list_generation_batches", project_id=project_id, status="done")


async def test_cancel_interrupts_the_running_prompts_and_stands_when_a_server_is_gone(tools: ToolClient) -> None:
    queued, clips = await queue_three(tools)
    with serve_fake_comfyui() as comfy, serve_fake_comfyui() as gone:
        live = (await tools.call("register_comfyui_server", name="Live", url=comfy.url))["id"]
        dead = (await tools.call("register_comfyui_server", name="Gone", url=gone.url))["id"]
        gone.stop()
        comfy.state.pending.append([0, "p-2", {}, {}, []])  # queued on the server, not started
        await claim(tools, queued["id"])
        running = [RunningPrompt(clip_id=clips[0], server_id=live, prompt_id="p-1").model_dump(),
                   RunningPrompt(clip_id=clips[1], server_id=live, prompt_id="p-2").model_dump(),
                   RunningPrompt(clip_id=clips[2], server_id=dead, prompt_id="p-3").model_dump()]
        await tools.services.generation.batches.update_fields(queued["id"], {"running": running})
        cancelled = await tools.call("cancel_generation_batch", batch_id=queued["id"])
        assert (cancelled["status"], cancelled["interrupted"]) == ("cancelled", 2)
        assert sorted(p for p in comfy.state.interrupted if p) == ["p-1", "p-2"] and comfy.state.pending == []
    text = await tools.refused("cancel_generation_batch", batch_id=queued["id"])
    assert text.startswith("[invalid-state] generation batch") and "is cancelled" in text
    # A queued batch cancels without touching any server.
    other = await tools.call("generate_clip_media", clip_id=clips[0], checkpoint="a.safetensors")
    cancelled = await tools.call("cancel_generation_batch", batch_id=other["id"])
    assert (cancelled["interrupted"], [c["status"] for c in cancelled["clips"]]) == (0, ["cancelled"])


async def test_retry_queues_what_did_not_succeed_with_the_same_seeds(tools: ToolClient) -> None:
    queued, clips = await queue_three(tools)
    assert "[invalid-state]" in await tools.refused("retry_generation_batch", batch_id=queued["id"])  # queued
    await run(tools, queued["id"], clips, [True, False, False])
    retried = await tools.call("retry_generation_batch", batch_id=queued["id"])
    old, new = (await tools.services.generation.get(queued["id"])), await tools.services.generation.get(retried["id"])
    assert (retried["retry_of"], retried["status"], retried["total_jobs"]) == (queued["id"], "queued", 2)
    assert new.items == old.items[1:]  # same prompts, parameters and seeds
    assert old.status == "partial" and len(old.results) == 3  # the old batch stays as history
    assert (await tools.call("get_generation_batch", batch_id=queued["id"]))["retried_by"] == retried["id"]
    text = await tools.refused("retry_generation_batch", batch_id=queued["id"])
    assert f"was already retried by batch '{retried['id']}'" in text
    await run(tools, retried["id"], clips[1:], [True, True])
    text = await tools.refused("retry_generation_batch", batch_id=retried["id"])
    assert "nothing to retry: every item succeeded" in text
    for name in ("get_generation_batch", "cancel_generation_batch", "retry_generation_batch",
                 "wait_for_generation_batch"):
        text = await tools.refused(name, batch_id="ghost")
        assert text.startswith("[not-found] generation batch 'ghost' does not exist"), (name, text)


async def test_parallel_retries_of_one_batch_queue_one_new_batch(tools: ToolClient) -> None:
    queued, clips = await queue_three(tools)
    await run(tools, queued["id"], clips, [False, False, False])
    results: list[Any] = []

    async def retry() -> None:
        results.append(await tools.client.call_tool("retry_generation_batch", {"batch_id": queued["id"]}))

    async with anyio.create_task_group() as group:
        for _ in range(4):
            group.start_soon(retry)
    won = [r.structured_content for r in results if not r.is_error]
    assert len(won) == 1 and won[0] is not None
    assert all("was already retried by batch" in r.content[0].text for r in results if r.is_error)
    project_id = (await tools.services.generation.get(queued["id"])).project_id
    listed = await tools.call("list_generation_batches", project_id=project_id)
    assert [b["id"] for b in listed["items"]] == [won[0]["id"], queued["id"]]


async def test_wait_reports_progress_until_the_batch_finishes(tools: ToolClient) -> None:
    queued, clips = await queue_three(tools)
    waited = await tools.call("wait_for_generation_batch", batch_id=queued["id"], timeout=0.2)
    assert (waited["finished"], waited["batch"]["status"]) == (False, "queued")
    reported: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reported.append(progress)

    async def worker() -> None:
        await anyio.sleep(0.3)
        await claim(tools, queued["id"])
        await report(tools, queued["id"], clips[0], True)
        await anyio.sleep(0.5)
        await report(tools, queued["id"], clips[1], True)
        await report(tools, queued["id"], clips[2], False)
        await tools.services.generation.batches.finish(queued["id"], WORKER)

    async with anyio.create_task_group() as group:
        group.start_soon(worker)
        result = await tools.client.call_tool("wait_for_generation_batch", {"batch_id": queued["id"], "timeout": 60},
                                              progress_callback=on_progress)
    assert result.structured_content is not None and result.structured_content["finished"] is True
    assert result.structured_content["batch"]["status"] == "partial"
    assert reported[0] == 0.0 and reported[-1] == 3.0 and 1.0 in reported
    assert "[invalid-argument] timeout" in await tools.refused("wait_for_generation_batch", batch_id=queued["id"],
                                                               timeout=301)


async def test_subscribers_hear_of_tool_and_worker_changes(tools: ToolClient) -> None:
    queued, _ = await queue_three(tools)
    events = events_of(tools.client.server)  # type: ignore[attr-defined]
    assert events is not None
    async with tools.watch([queued["uri"]]) as next_update:
        # A worker's write: the change stream announces it (embedded), else the in-process hook does (memory).
        claimed = await tools.services.generation.batches.claim_next(WORKER, 60)
        assert claimed is not None
        await events.on_batch_change(claimed)
        with anyio.fail_after(10):
            assert await next_update() == queued["uri"]
        await tools.call("cancel_generation_batch", batch_id=queued["id"])
        with anyio.fail_after(10):
            assert await next_update() == queued["uri"]


async def test_batch_ids_complete(tools: ToolClient) -> None:
    queued, _ = await queue_three(tools)
    ref = ResourceTemplateReference(type="ref/resource", uri="storyboard://generation-batches/{batch_id}")
    done = await tools.client.complete(ref, {"name": "batch_id", "value": queued["id"][:6]})
    assert done.completion.values == [queued["id"]]
