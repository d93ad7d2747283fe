"""The whole FaceFusion path: a tool queues a job → a worker claims it → the FaceFusion CLI runner drives the strict
fake ``tests/fakes/facefusion.py`` → the job completes with its output in the media store, the character's history
and gallery. Through a real MCP client, with the runner built from settings as ``mcp-storyboard worker`` builds it.
"""

from __future__ import annotations

import base64
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from mcp_storyboard.config import Settings
from mcp_storyboard.integrations.facefusion.build import build_runner
from mcp_storyboard.services.facefusion.worker import FaceFusionWorker
from tests.tools.conftest import ToolClient
from tests.tools.facefusion_world import faces

FAKE_FACEFUSION = Path(__file__).resolve().parents[1] / "fakes"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@asynccontextmanager
async def worker_running(tools: ToolClient) -> AsyncIterator[FaceFusionWorker]:
    settings = Settings(facefusion_path=FAKE_FACEFUSION, facefusion_python=sys.executable)
    worker = FaceFusionWorker(tools.services.repositories, build_runner(settings, tools.services),
                              concurrency=2, lease_seconds=60, worker_name="e2e")
    async with anyio.create_task_group() as tg:
        tg.start_soon(worker.run)
        try:
            yield worker
        finally:
            worker.stop()


async def finished(tools: ToolClient, job_id: str) -> dict[str, Any]:
    waited = await tools.call("wait_for_facefusion_job", job_id=job_id, timeout=120)
    assert waited["finished"], waited
    return dict(waited["job"])


async def test_every_operation_runs_from_its_tool_to_the_characters_history_and_gallery(tools: ToolClient) -> None:
    w = await faces(tools.services)
    c = {"character_id": w.character_id}
    queued = {
        "enhance": await tools.call("enhance_face", image=w.image, face_enhancer_blend=0.8, **c),
        "age_adjust": await tools.call("adjust_face_age", image=w.image, target_age=60, current_age=30, **c),
        "swap": await tools.call("swap_face", image=w.image, source_face=w.other, **c),
        "edit": await tools.call("edit_face_expression", image=w.image, values={"face_editor_mouth_smile": 40}, **c),
        "mask": await tools.call("mask_face", reference_image=0, **c),
        "detect": await tools.call("detect_faces", image=w.image, **c),
    }
    async with worker_running(tools):
        jobs = {op: await finished(tools, q["id"]) for op, q in queued.items()}

    for op, job in jobs.items():
        assert (job["status"], job["progress"], job["attempts"]) == ("completed", 100.0, 1), (op, job)
        (result,) = job["results"]
        assert result["success"] and result["output_url"].startswith("storyboard://media/"), (op, result)
        # The output is a stored image of the character's project, readable as a blob resource.
        info, data = await tools.services.database.media.get(result["output_media_id"])
        assert (info.project_id, data[:8]) == (w.project_id, PNG_MAGIC)
        blob = await tools.client.read_resource(result["output_url"])
        assert base64.b64decode(blob.contents[0].blob)[:8] == PNG_MAGIC

    history = await tools.call("get_character_facefusion_history", character_id=w.character_id, limit=20)
    entries = history["items"]
    assert sorted(e["operation_type"] for e in entries) == sorted(jobs)
    assert all(e["success"] and e["error_message"] is None for e in entries)
    gallery = await tools.call("get_character_facefusion_gallery", character_id=w.character_id)
    output = {op: job["results"][0]["output_url"] for op, job in jobs.items()}
    assert gallery["enhanced_faces"] == [output["enhance"]]
    assert gallery["age_variants"] == {"60": output["age_adjust"]}
    assert gallery["swapped_faces"] == [output["swap"]]
    assert gallery["edited_expressions"] == [output["edit"]]
    assert gallery["custom_outputs"] == [output["mask"]]  # detect adds nothing to the gallery


async def test_a_failing_run_is_retried_then_recorded_as_a_failure_in_the_history(
    tools: ToolClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_FACEFUSION_FAIL", "1")
    w = await faces(tools.services)
    queued = await tools.call("enhance_face", image=w.image, character_id=w.character_id)
    async with worker_running(tools):
        job = await finished(tools, queued["id"])
    assert (job["status"], job["attempts"]) == ("failed", job["max_attempts"])
    assert job["error_message"]
    history = await tools.call("get_character_facefusion_history", character_id=w.character_id)
    assert [(e["operation_type"], e["success"]) for e in history["items"]] == [("enhance", False)]
    assert history["items"][0]["error_message"]
    gallery = await tools.call("get_character_facefusion_gallery", character_id=w.character_id)
    assert gallery["enhanced_faces"] == []


async def test_a_batch_runs_its_operations_in_order_as_one_job(tools: ToolClient) -> None:
    w = await faces(tools.services)
    queued = await tools.call("run_facefusion_batch", character_id=w.character_id, operations=[
        {"operation_type": "enhance", "image": w.image},
        {"operation_type": "detect", "image": w.other},
    ])  # fmt: skip
    async with worker_running(tools):
        job = await finished(tools, queued["id"])
    assert job["status"] == "completed"
    assert [(r["operation_index"], r["operation_type"], r["success"]) for r in job["results"]] == [
        (0, "enhance", True), (1, "detect", True)]
