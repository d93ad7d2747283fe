"""FaceFusion job tools: get, list, cancel, retry and wait (with progress notifications), state errors refused,
and the job resource."""

from __future__ import annotations

import json

import anyio
from mcp.types import ImageContent, ResourceLink

from mcp_storyboard.models.facefusion_jobs import FaceFusionJobOutput, OperationResult
from tests.tools.conftest import ToolClient
from tests.tools.facefusion_world import faces
from tests.tools.test_resources import not_found


async def finish(tools: ToolClient, job_id: str, *, success: bool = True) -> None:
    """Complete the next queued job (``job_id``) the way a worker does: claim, then complete with results."""
    jobs = tools.services.facefusion.jobs
    claimed = await jobs.claim_next("worker-1", 60)
    assert claimed is not None and claimed.id == job_id
    result = OperationResult(operation_index=0, operation_type="enhance", success=success,
                             output_media_id="out1" if success else None,
                             output_url="storyboard://media/out1" if success else None,
                             error=None if success else "no face")
    output = FaceFusionJobOutput(results=[result], completed_operations=int(success), failed_operations=int(not success))
    await jobs.complete(job_id, "worker-1", output.model_dump(mode="json"))


async def test_get_list_and_the_resource_show_a_job_and_its_results(tools: ToolClient) -> None:
    w = await faces(tools.services)
    other = await faces(tools.services, "Other")
    a = await tools.call("enhance_face", image=w.image, character_id=w.character_id)
    b = await tools.call("detect_faces", image=w.image)
    c = await tools.call("detect_faces", image=other.image)
    await finish(tools, a["id"])
    done = await tools.call("get_facefusion_job", job_id=a["id"])
    assert (done["status"], done["progress"], done["position"]) == ("completed", 100.0, None)
    assert done["results"][0]["output_url"] == "storyboard://media/out1" and done["results"][0]["success"]
    # The produced image also goes as a resource link (never as inline bytes).
    raw = await tools.client.call_tool("get_facefusion_job", {"job_id": a["id"]})
    links = [block for block in raw.content if isinstance(block, ResourceLink)]
    assert [(str(link.uri), link.name) for link in links] == [("storyboard://media/out1", "enhance output 0")]
    assert not any(isinstance(block, ImageContent) for block in raw.content)
    listed = await tools.call("list_facefusion_jobs", project_id=w.project_id)
    assert [j["id"] for j in listed["items"]] == [b["id"], a["id"]]  # newest first
    assert [j["id"] for j in (await tools.call("list_facefusion_jobs"))["items"]] == [c["id"], b["id"], a["id"]]
    by_character = await tools.call("list_facefusion_jobs", character_id=w.character_id)
    assert [j["id"] for j in by_character["items"]] == [a["id"]]
    queued = await tools.call("list_facefusion_jobs", status="queued", limit=1)
    rest = await tools.call("list_facefusion_jobs", status="queued", cursor=queued["next_cursor"])
    assert [j["id"] for j in queued["items"] + rest["items"]] == [c["id"], b["id"]] and rest["next_cursor"] is None
    read = await tools.client.read_resource(a["uri"])
    assert json.loads(read.contents[0].text)["results"][0]["output_url"] == "storyboard://media/out1"  # type: ignore[union-attr]


async def test_cancel_and_retry_move_between_states_and_refuse_the_others(tools: ToolClient) -> None:
    w = await faces(tools.services)
    job = await tools.call("enhance_face", image=w.image)
    cancelled = await tools.call("cancel_facefusion_job", job_id=job["id"])
    assert cancelled["status"] == "cancelled" and cancelled["completed_at"]
    text = await tools.refused("cancel_facefusion_job", job_id=job["id"])
    assert text.startswith("[invalid-state] facefusion job") and "is cancelled" in text
    retried = await tools.call("retry_facefusion_job", job_id=job["id"])
    assert (retried["status"], retried["attempts"], retried["position"], retried["completed_at"]) == (
        "queued", 0, 0, None)
    text = await tools.refused("retry_facefusion_job", job_id=job["id"])
    assert text.startswith("[invalid-state]") and "Only failed or cancelled" in text
    # A failed job (out of attempts) is retried with its error and attempts cleared.
    jobs = tools.services.facefusion.jobs
    await jobs.update_fields(job["id"], {"max_attempts": 1})
    await jobs.claim_next("w", 60)
    await jobs.fail(job["id"], "w", "boom")
    assert (await tools.call("get_facefusion_job", job_id=job["id"]))["error_message"] == "boom"
    again = await tools.call("retry_facefusion_job", job_id=job["id"])
    assert (again["status"], again["attempts"], again["error_message"]) == ("queued", 0, None)
    await finish(tools, job["id"])
    assert "is completed" in await tools.refused("retry_facefusion_job", job_id=job["id"])
    assert "is completed" in await tools.refused("cancel_facefusion_job", job_id=job["id"])
    for name in ("get_facefusion_job", "cancel_facefusion_job", "retry_facefusion_job", "wait_for_facefusion_job"):
        text = await tools.refused(name, job_id="ghost")
        assert text.startswith("[not-found] facefusion job 'ghost' does not exist"), (name, text)


async def test_wait_returns_a_finished_job_at_once_and_an_unfinished_one_at_the_timeout(tools: ToolClient) -> None:
    w = await faces(tools.services)
    job = await tools.call("enhance_face", image=w.image)
    waited = await tools.call("wait_for_facefusion_job", job_id=job["id"], timeout=0.3)
    assert (waited["finished"], waited["job"]["status"], waited["job"]["position"]) == (False, "queued", 0)
    await finish(tools, job["id"])
    waited = await tools.call("wait_for_facefusion_job", job_id=job["id"], timeout=30)
    assert (waited["finished"], waited["job"]["status"]) == (True, "completed")
    assert "[invalid-argument] timeout" in await tools.refused("wait_for_facefusion_job", job_id=job["id"],
                                                               timeout=301)


async def test_wait_reports_progress_until_the_job_completes(tools: ToolClient) -> None:
    w = await faces(tools.services)
    job = await tools.call("enhance_face", image=w.image)
    reported: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reported.append(progress)

    async def worker() -> None:
        jobs = tools.services.facefusion.jobs
        await anyio.sleep(0.3)
        await jobs.claim_next("worker-1", 60)
        await jobs.update_progress(job["id"], "worker-1", 50.0)
        await anyio.sleep(0.5)
        await jobs.complete(job["id"], "worker-1", {"results": [], "completed_operations": 0, "failed_operations": 0})

    async with anyio.create_task_group() as group:
        group.start_soon(worker)
        result = await tools.client.call_tool("wait_for_facefusion_job", {"job_id": job["id"], "timeout": 60},
                                              progress_callback=on_progress)
    assert result.structured_content is not None and result.structured_content["finished"] is True
    assert reported[0] == 0.0 and reported[-1] == 100.0 and 50.0 in reported


async def test_cancelling_notifies_subscribers_of_the_job(tools: ToolClient) -> None:
    w = await faces(tools.services)
    job = await tools.call("enhance_face", image=w.image)
    async with tools.watch([job["uri"]]) as next_update:
        await tools.call("cancel_facefusion_job", job_id=job["id"])
        with anyio.fail_after(10):
            assert await next_update() == job["uri"]


async def test_facefusion_resources_of_missing_documents_are_not_found(tools: ToolClient) -> None:
    for uri, expected in [
        ("storyboard://facefusion-jobs/ghost", "[not-found] facefusion job 'ghost' does not exist"),
        ("storyboard://characters/ghost/facefusion", "[not-found] character 'ghost' does not exist"),
        ("storyboard://facefusion-presets/ghost", "[not-found] facefusion preset 'ghost' does not exist"),
        ("storyboard://facefusion-jobs/$where", "[not-found] facefusion job '$where' does not exist"),
    ]:
        assert (await not_found(tools, uri)).startswith(expected), uri
