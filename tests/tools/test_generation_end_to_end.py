"""Generation end to end, the way an assistant drives it: register ComfyUI servers and check them, queue a batch for
three clips, and a real worker with the real HTTP runner (``ComfyUIPromptRunner``) against fake ComfyUI servers
over real HTTP lands each output in its clip's gallery and in the media store. Also: a server that went down after
its check loses its work to another, a graph the server refuses fails per node, cancel interrupts the prompt on
the server, and retry runs the clips that did not succeed. On memory:// and on the embedded server."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import anyio

from mcp_storyboard.integrations.comfyui.runner import ComfyUIPromptRunner, PollSchedule
from mcp_storyboard.services.generation.worker import GenerationWorker
from tests.fakes.comfyui import FakeComfyUI, RunningFake, serve_fake_comfyui
from tests.tools.conftest import ToolClient
from tests.workers.stubs import wait_until

CHECKPOINT = "sdxl_base.safetensors"
"""A checkpoint every fake server lists."""


@asynccontextmanager
async def worker_running(tools: ToolClient) -> AsyncIterator[GenerationWorker]:
    """One generation worker with the real runner, polling every 20 ms, servers' stored status trusted."""
    runner = ComfyUIPromptRunner(timeout_s=60, poll=PollSchedule(first=0.005, most=0.02))
    worker = GenerationWorker(tools.services.repositories, runner, worker_name="e2e", lease_seconds=60,
                              check_seconds=None, no_server_pause_seconds=0.05, servers=tools.services.comfyui)
    async with anyio.create_task_group() as tg:
        tg.start_soon(worker.run)
        try:
            yield worker
        finally:
            worker.stop()


async def storyboard(tools: ToolClient, clips: int = 3) -> tuple[str, list[str]]:
    project = (await tools.call("create_project", name="Neon Rain"))["id"]
    scene = (await tools.call("create_scene", project_id=project, name="Verse"))["id"]
    ids = [(await tools.call("create_clip", scene_id=scene, name=f"Shot {n}", image_prompt=f"a neon street, shot {n}",
                             timeline_position=2 * n, duration=2))["id"] for n in range(clips)]
    return project, ids


async def servers(tools: ToolClient, *fakes: RunningFake) -> list[str]:
    ids = []
    for n, fake in enumerate(fakes):
        server = (await tools.call("register_comfyui_server", name=f"GPU {n}", url=fake.url))["id"]
        assert (await tools.call("check_comfyui_server", server_id=server))["status"] == "online"
        ids.append(server)
    return ids


async def finish(tools: ToolClient, batch_id: str) -> dict[str, Any]:
    waited = await tools.call("wait_for_generation_batch", batch_id=batch_id, timeout=90)
    assert waited["finished"], waited
    return dict(waited["batch"])


async def test_a_batch_of_three_clips_lands_in_their_galleries_and_moves_off_a_server_that_went_down(
    tools: ToolClient,
) -> None:
    async with AsyncExitStack() as stack:
        alive = stack.enter_context(serve_fake_comfyui())
        gone = stack.enter_context(serve_fake_comfyui())
        live_id, gone_id = await servers(tools, alive, gone)
        gone.stop()  # down after its check: the dispatcher still believes it online
        project, clips = await storyboard(tools)
        await tools.call("create_model", model_id=CHECKPOINT, name="SDXL base", type="checkpoint")
        queued = await tools.call("generate_batch", project_id=project, model_id=CHECKPOINT,
                                  clips=[{"clip_id": c} for c in clips])
        assert (queued["status"], queued["total_jobs"]) == ("queued", 3)
        async with worker_running(tools):
            batch = await finish(tools, queued["id"])

    assert (batch["status"], batch["completed_jobs"], batch["failed_jobs"]) == ("completed", 3, 0)
    assert {c["clip_id"]: (c["status"], c["server_id"]) for c in batch["clips"]} == {
        c: ("succeeded", live_id) for c in clips}
    for clip_id, shown in zip(clips, sorted(batch["clips"], key=lambda c: clips.index(c["clip_id"])), strict=True):
        clip = await tools.call("get_clip", clip_id=clip_id)
        (entry,) = clip["generated_images"]
        assert clip["selected_image_id"] == entry["id"] == shown["gallery_entry_id"]
        assert entry["url"] == shown["url"] and entry["url"].startswith("storyboard://media/")
        assert "a neon street" in entry["prompt"] and entry["server_id"] == live_id
        read = await tools.client.read_resource(entry["url"])
        data = base64.b64decode(read.contents[0].blob)  # type: ignore[union-attr]
        assert data.startswith(b"\x89PNG")
    submitted = [r for r in alive.state.requests if r == "POST /prompt"]
    assert len(submitted) == 3
    assert (await tools.call("get_comfyui_server", server_id=gone_id))["status"] == "offline"


async def test_a_refused_graph_fails_per_node_and_retry_runs_it_again_once_the_server_has_the_model(
    tools: ToolClient,
) -> None:
    with serve_fake_comfyui() as fake:
        await servers(tools, fake)
        project, clips = await storyboard(tools, clips=2)
        queued = await tools.call("generate_batch", project_id=project, checkpoint="missing.safetensors",
                                  clips=[{"clip_id": c} for c in clips])
        async with worker_running(tools):
            failed = await finish(tools, queued["id"])
            assert (failed["status"], failed["failed_jobs"]) == ("failed", 2)
            errors = [c["error"] for c in failed["clips"]]
            assert all("CheckpointLoaderSimple" in e and "ckpt_name" in e and "missing.safetensors" in e for e in errors), [e[:400] for e in errors]
            for clip in clips:
                assert (await tools.call("get_clip", clip_id=clip))["generated_images"] == []

            fake.state.checkpoints.append("missing.safetensors")
            retried = await tools.call("retry_generation_batch", batch_id=queued["id"])
            assert retried["retry_of"] == queued["id"] and retried["total_jobs"] == 2
            done = await finish(tools, retried["id"])
    assert (done["status"], done["completed_jobs"]) == ("completed", 2)
    seeds = {c["clip_id"]: c["seed"] for c in failed["clips"]}
    assert {c["clip_id"]: c["seed"] for c in done["clips"]} == seeds  # a retry repeats the same generation


async def test_cancel_interrupts_the_prompt_on_the_server_and_the_gallery_stays_empty(tools: ToolClient) -> None:
    with serve_fake_comfyui(FakeComfyUI(runs_after_polls=None)) as fake:  # prompts never finish on their own
        await servers(tools, fake)
        project, (clip,) = await storyboard(tools, clips=1)
        queued = await tools.call("generate_clip_media", clip_id=clip, checkpoint=CHECKPOINT)
        async with worker_running(tools):

            async def running() -> bool:
                batch = await tools.call("get_generation_batch", batch_id=queued["id"])
                return [c["status"] for c in batch["clips"]] == ["running"]

            await wait_until(running)
            cancelled = await tools.call("cancel_generation_batch", batch_id=queued["id"])
            assert cancelled["status"] == "cancelled"

            async def taken_back() -> bool:
                return not fake.state.pending and fake.state.running is None

            await wait_until(taken_back)
    assert (await tools.call("get_clip", clip_id=clip))["generated_images"] == []
    stored = await tools.call("get_generation_batch", batch_id=queued["id"])
    assert (stored["status"], stored["completed_jobs"]) == ("cancelled", 0)
