"""The fake ComfyUI answers with the shapes of the reference (reference/comfyui-api.md), so the dispatcher of the
next round can be tested against it: 400 node errors, history that stays ``{}`` until done, ``/view``, ``/queue``,
``/interrupt``, and every route also under ``/api``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2
import pytest

from tests.fakes.comfyui import Failure, FakeComfyUI, RunningFake, serve_fake_comfyui


def txt2img(checkpoint: str = "sdxl_base.safetensors", prefix: str = "shots/clip") -> dict[str, Any]:
    """The canonical API-format graph of the reference (§1.10)."""
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": checkpoint}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a castle", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
        "3": {"class_type": "KSampler", "inputs": {
            "seed": 1, "steps": 20, "cfg": 7.0, "sampler_name": "euler_ancestral", "scheduler": "karras",
            "denoise": 1.0, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0], "filename_prefix": prefix}},
    }


@pytest.fixture
def fake() -> Iterator[RunningFake]:
    with serve_fake_comfyui(FakeComfyUI(runs_after_polls=None)) as running:
        yield running


@pytest.fixture
async def http(fake: RunningFake) -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(base_url=fake.url, trust_env=False, timeout=10) as client:
        yield client


async def test_a_prompt_is_pending_with_empty_history_until_it_runs_then_its_outputs_are_viewable(
    fake: RunningFake, http: httpx2.AsyncClient
) -> None:
    submitted = await http.post("/api/prompt", json={"prompt": txt2img(), "client_id": "c1", "prompt_id": "p-1"})
    assert submitted.status_code == 200
    assert submitted.json() == {"prompt_id": "p-1", "number": 1, "node_errors": {}}
    assert (await http.get("/history/p-1")).json() == {}
    queue = (await http.get("/queue")).json()
    assert queue["queue_running"] == [] and [item[1] for item in queue["queue_pending"]] == ["p-1"]
    assert len(queue["queue_pending"][0]) == 5 and queue["queue_pending"][0][3]["client_id"] == "c1"
    assert (await http.get("/prompt")).json() == {"exec_info": {"queue_remaining": 1}}

    assert fake.state.run_next() == "p-1"
    entry = (await http.get("/api/history/p-1")).json()["p-1"]
    assert entry["status"]["status_str"] == "success" and entry["status"]["completed"] is True
    assert entry["status"]["messages"][-1][0] == "execution_success"
    image = entry["outputs"]["9"]["images"][0]
    assert image == {"filename": "clip_00001_.png", "subfolder": "shots", "type": "output"}
    view = await http.get("/view", params=image)
    assert view.status_code == 200 and view.headers["content-type"] == "image/png"
    assert view.content.startswith(b"\x89PNG")


async def test_history_can_finish_after_a_number_of_polls_without_the_test_stepping_it() -> None:
    with serve_fake_comfyui(FakeComfyUI(runs_after_polls=2)) as fake:
        async with httpx2.AsyncClient(base_url=fake.url, trust_env=False, timeout=10) as http:
            prompt_id = (await http.post("/prompt", json={"prompt": txt2img()})).json()["prompt_id"]
            assert [(await http.get(f"/history/{prompt_id}")).json() for _ in range(2)] == [{}, {}]
            assert prompt_id in (await http.get(f"/history/{prompt_id}")).json()


@pytest.mark.parametrize(
    ("body", "error_type"),
    [
        ({"client_id": "c"}, "no_prompt"),
        ({"prompt": {"1": {"class_type": "NoSuchNode", "inputs": {}}}}, "invalid_prompt"),
        ({"prompt": {"1": {"inputs": {}}}}, "invalid_prompt"),
        ({"prompt": {"1": {"class_type": "EmptyImage", "inputs": {}}}}, "prompt_no_outputs"),
    ],
)
async def test_graph_level_errors_are_400_with_empty_node_errors(
    http: httpx2.AsyncClient, body: dict[str, Any], error_type: str
) -> None:
    answer = await http.post("/prompt", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == error_type and answer.json()["node_errors"] == {}


async def test_input_errors_are_reported_per_node_and_input(http: httpx2.AsyncClient) -> None:
    graph = txt2img(checkpoint="missing.safetensors")
    del graph["6"]["inputs"]["text"]
    answer = await http.post("/prompt", json={"prompt": graph})
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"]["type"] == "prompt_outputs_failed_validation"
    assert set(body["node_errors"]) == {"4", "6"}
    missing = body["node_errors"]["4"]
    assert missing["class_type"] == "CheckpointLoaderSimple" and missing["dependent_outputs"] == ["9"]
    assert missing["errors"][0]["type"] == "value_not_in_list"
    assert missing["errors"][0]["details"].startswith("ckpt_name: 'missing.safetensors' not in")
    assert missing["errors"][0]["extra_info"]["received_value"] == "missing.safetensors"
    assert body["node_errors"]["6"]["errors"][0] == {
        "type": "required_input_missing", "message": "Required input is missing", "details": "text",
        "extra_info": {"received_value": None, "input_config": None}}


async def test_queue_delete_removes_a_pending_prompt_for_good(fake: RunningFake, http: httpx2.AsyncClient) -> None:
    prompt_id = (await http.post("/prompt", json={"prompt": txt2img()})).json()["prompt_id"]
    deleted = await http.post("/queue", json={"delete": [prompt_id]})
    assert deleted.status_code == 200 and deleted.content == b""
    assert (await http.get("/queue")).json()["queue_pending"] == []
    assert fake.state.run_next() is None
    assert (await http.get(f"/history/{prompt_id}")).json() == {}


async def test_an_interrupted_prompt_ends_in_history_as_an_error_without_outputs(
    fake: RunningFake, http: httpx2.AsyncClient
) -> None:
    prompt_id = (await http.post("/prompt", json={"prompt": txt2img()})).json()["prompt_id"]
    assert fake.state.start_next() == prompt_id
    assert [item[1] for item in (await http.get("/queue")).json()["queue_running"]] == [prompt_id]
    interrupted = await http.post("/interrupt", json={"prompt_id": prompt_id})
    assert interrupted.status_code == 200 and interrupted.content == b""
    entry = (await http.get(f"/history/{prompt_id}")).json()[prompt_id]
    assert entry["outputs"] == {} and entry["status"]["status_str"] == "error"
    assert entry["status"]["messages"][-1][0] == "execution_interrupted"
    assert (await http.get("/queue")).json() == {"queue_running": [], "queue_pending": []}


async def test_interrupting_a_prompt_that_is_not_running_leaves_it_alone_like_comfyui(
    fake: RunningFake, http: httpx2.AsyncClient
) -> None:
    waiting = (await http.post("/prompt", json={"prompt": txt2img()})).json()["prompt_id"]
    await http.post("/interrupt", json={"prompt_id": waiting})
    await http.post("/interrupt", json={})
    assert fake.state.run_next() == waiting
    entry = (await http.get(f"/history/{waiting}")).json()[waiting]
    assert entry["status"]["status_str"] == "success" and fake.state.interrupted == [waiting, None]


async def test_the_next_prompt_can_fail_at_a_node_with_the_real_execution_error_shape(
    fake: RunningFake, http: httpx2.AsyncClient
) -> None:
    fake.state.fail_next = Failure(node_class="KSampler", exception_type="RuntimeError", exception_message="boom")
    failing = (await http.post("/prompt", json={"prompt": txt2img()})).json()["prompt_id"]
    fine = (await http.post("/prompt", json={"prompt": txt2img(prefix="again")})).json()["prompt_id"]
    fake.state.run_next(), fake.state.run_next()
    entry = (await http.get(f"/history/{failing}")).json()[failing]
    event, data = entry["status"]["messages"][-1]
    assert (event, entry["status"]["status_str"], entry["outputs"]) == ("execution_error", "error", {})
    assert (data["node_id"], data["node_type"], data["exception_type"], data["exception_message"]) == (
        "3", "KSampler", "RuntimeError", "boom")
    assert (await http.get(f"/history/{fine}")).json()[fine]["status"]["status_str"] == "success"


async def test_a_hanging_server_starts_prompts_and_never_finishes_them() -> None:
    with serve_fake_comfyui(FakeComfyUI(runs_after_polls=0, hang=True)) as fake:
        async with httpx2.AsyncClient(base_url=fake.url, trust_env=False, timeout=10) as http:
            prompt_id = (await http.post("/prompt", json={"prompt": txt2img()})).json()["prompt_id"]
            assert [(await http.get(f"/history/{prompt_id}")).json() for _ in range(3)] == [{}, {}, {}]
            queue = (await http.get("/queue")).json()
            assert [item[1] for item in queue["queue_running"]] == [prompt_id] and queue["queue_pending"] == []


async def test_view_refuses_escapes_and_misses_like_comfyui(http: httpx2.AsyncClient) -> None:
    assert (await http.get("/view", params={"filename": "../etc/passwd"})).status_code == 400
    assert (await http.get("/view", params={"filename": "/abs.png"})).status_code == 400
    assert (await http.get("/view", params={"filename": "a.png", "subfolder": "../x"})).status_code == 403
    assert (await http.get("/view", params={"filename": "nothing.png"})).status_code == 404


async def test_a_video_output_uses_the_images_key_with_animated(fake: RunningFake, http: httpx2.AsyncClient) -> None:
    graph = {
        "1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 8, "color": 0}},
        "2": {"class_type": "CreateVideo", "inputs": {"images": ["1", 0], "fps": 8.0}},
        "3": {"class_type": "SaveVideo", "inputs": {"video": ["2", 0], "filename_prefix": "video/shot", "format": "mp4"}},
    }
    prompt_id = (await http.post("/prompt", json={"prompt": graph})).json()["prompt_id"]
    fake.state.run_next()
    output = (await http.get(f"/history/{prompt_id}")).json()[prompt_id]["outputs"]["3"]
    assert output["animated"] == [True]
    assert output["images"][0] == {"filename": "shot_00001_.mp4", "subfolder": "video", "type": "output"}
    view = await http.get("/view", params=output["images"][0])
    assert view.headers["content-type"] == "video/mp4"
