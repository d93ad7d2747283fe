"""The animatic tools through a real MCP client (memory:// with a 2026-era client, the embedded database and
GridFS with a 2025-era client): a render queued, run by a worker, waited for and read back as a resource; bad
arguments refused naming the field with nothing written; a queued job cancelled."""

from __future__ import annotations

import base64
import json

import anyio
import pytest
from mcp.types import ResourceLink

from mcp_storyboard.services.render.worker import RenderWorker
from tests.render.media import add_clip, decode, near, solid
from tests.seed import seed_project, seed_scene
from tests.tools.conftest import ToolClient


async def storyboard(tools: ToolClient) -> str:
    services = tools.services
    pid = await seed_project(services, "Café Noir")
    scene = await seed_scene(services, pid, "Straße")
    await add_clip(services, pid, scene.id, "Niño", 0.0, 2.0, solid((200, 30, 30)))
    await add_clip(services, pid, scene.id, "Dos", 2.0, 1.0, solid((30, 30, 200)))
    return pid


async def test_a_queued_render_is_run_waited_for_and_read_back_as_an_mp4(tools: ToolClient) -> None:
    pid = await storyboard(tools)
    queued = await tools.call("render_animatic", project_id=pid, width=320, height=180, frame_rate="29.97")
    assert (queued["status"], queued["position"]) == ("queued", 0)
    assert queued["settings"] == "320x180 29.97 fps h264, burn-in, music"
    assert queued["uri"] == f"storyboard://render-jobs/{queued['id']}"
    listed = await tools.call("list_render_jobs", project_id=pid)
    assert [job["id"] for job in listed["items"]] == [queued["id"]]

    worker = RenderWorker(tools.services.repositories, worker_name="tools")
    async with anyio.create_task_group() as tg:
        tg.start_soon(worker.run)
        result = await tools.client.call_tool("wait_for_render_job", {"job_id": queued["id"], "timeout": 120})
        worker.stop()
    assert not result.is_error, result.content
    waited = result.structured_content
    assert waited is not None and waited["finished"] is True
    job = waited["job"]
    assert job["status"] == "completed" and job["progress"] == 100.0
    # 3 s at 30000/1001 fps: 89.91 frames, rounded once to 90.
    assert (job["result"]["frames"], job["result"]["clips"], job["result"]["music"]) == (90, 2, False)
    links = [str(b.uri) for b in result.content if isinstance(b, ResourceLink)]
    assert links == [job["result"]["url"]]
    assert (await tools.call("get_render_job", job_id=queued["id"]))["result"] == job["result"]

    read = await tools.client.read_resource(job["result"]["url"])
    assert read.contents[0].mime_type == "video/mp4"
    movie = decode(base64.b64decode(read.contents[0].blob))  # type: ignore[union-attr]
    assert movie.size == (320, 180) and abs(movie.video_seconds - 90 * 1001 / 30000) <= 1001 / 30000
    assert near(movie.colour_at(1.0), (200, 30, 30)) and near(movie.colour_at(2.5), (30, 30, 200))


@pytest.mark.parametrize(
    ("arguments", "field", "allowed"),
    [
        ({"width": 1281}, "width", "multiple of 2"),
        ({"width": True}, "width", "not true or false"),
        ({"height": 4000}, "height", "2160"),
        ({"frame_rate": "12"}, "frame_rate", "23.976"),
        ({"codec": "h265"}, "codec", "vp9"),
        ({"burn_in": "yes"}, "burn_in", "bool"),
        ({"scene_id": "9b1b6f0e-0000-4000-8000-000000000000"}, "scene", "not-found"),
    ],
)
async def test_bad_arguments_are_refused_naming_the_field_and_nothing_is_written(
    tools: ToolClient, arguments: dict[str, object], field: str, allowed: str
) -> None:
    pid = await storyboard(tools)
    text = await tools.refused("render_animatic", project_id=pid, **arguments)
    assert field in text and allowed in text, text


async def test_a_project_without_clips_is_refused_naming_it(tools: ToolClient) -> None:
    pid = await seed_project(tools.services, "Empty")
    text = await tools.refused("render_animatic", project_id=pid)
    assert "project_id" in text and "no main clip" in text, text


async def test_a_queued_render_is_cancelled_and_cannot_be_cancelled_twice(tools: ToolClient) -> None:
    pid = await storyboard(tools)
    queued = await tools.call("render_animatic", project_id=pid, codec="vp9", burn_in=False, music=False)
    read = await tools.client.read_resource(queued["uri"])
    as_resource = json.loads(read.contents[0].text)  # type: ignore[union-attr]
    assert (as_resource["id"], as_resource["status"], as_resource["position"]) == (queued["id"], "queued", 0)
    cancelled = await tools.call("cancel_render_job", job_id=queued["id"])
    assert (cancelled["status"], cancelled["result"]) == ("cancelled", None)
    waited = await tools.call("wait_for_render_job", job_id=queued["id"], timeout=0)
    assert waited["finished"] is True and waited["job"]["status"] == "cancelled"
    text = await tools.refused("cancel_render_job", job_id=queued["id"])
    assert "cancelled" in text, text
    assert (await tools.call("list_render_jobs", project_id=pid, status="queued"))["items"] == []
