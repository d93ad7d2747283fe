"""The ComfyUI client against the fake server over real HTTP: capabilities from both combo shapes, offline versus
error, and nothing from the server's command line kept."""

from __future__ import annotations

import httpx2
import pytest

from mcp_storyboard.errors import ComfyUIError, ComfyUINodeErrors
from mcp_storyboard.integrations.comfyui import (
    ComfyUIClient,
    ComfyUIUnreachable,
    capabilities_from,
)
from mcp_storyboard.integrations.comfyui.capabilities import combo_choices
from mcp_storyboard.integrations.comfyui.graph import build_graph
from tests.fakes.comfyui import FakeComfyUI, serve_fake_comfyui
from tests.fakes.comfyui_nodes import SAMPLERS, SCHEDULERS
from tests.integrations.comfyui.items import image_item


async def test_capabilities_list_models_samplers_schedulers_and_devices_but_never_argv() -> None:
    with serve_fake_comfyui(FakeComfyUI(checkpoints=["a.safetensors", "sub/b.ckpt"])) as fake:
        async with ComfyUIClient(fake.url + "/") as comfy:
            stats, nodes = await comfy.system_stats(), await comfy.object_info()
            one = await comfy.object_info("KSampler")
            assert await comfy.object_info("NoSuchNode") == {}
    assert one == {"KSampler": nodes["KSampler"]}
    caps = capabilities_from(stats, nodes)
    assert caps.checkpoints == ["a.safetensors", "sub/b.ckpt"]
    assert caps.loras == ["detail_tweaker.safetensors"]
    assert caps.samplers == SAMPLERS and "euler_ancestral" in caps.samplers and "euler_a" not in caps.samplers
    assert caps.schedulers == SCHEDULERS
    assert caps.comfyui_version == "0.3.64"
    assert [(d.name, d.type, d.vram_total) for d in caps.devices] == [
        ("cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync", "cuda", 25_393_692_672)]
    assert "do-not-leak" not in caps.model_dump_json() and "argv" not in caps.model_dump_json()
    assert fake.state.requests == ["GET /system_stats", "GET /object_info", "GET /object_info/KSampler",
                                   "GET /object_info/NoSuchNode"]


def test_combo_choices_read_the_legacy_and_the_v3_shape_and_tolerate_odd_input() -> None:
    info = {
        "Legacy": {"input": {"required": {"pick": [["a", "b"], {"tooltip": "x"}]}}},
        "V3": {"input": {"required": {}, "optional": {"format": ["COMBO", {"options": ["auto", "mp4"]}]}}},
        "Odd": {"input": {"required": {"pick": ["INT", {"min": 0}]}}},
    }
    assert combo_choices(info, "Legacy", "pick") == ["a", "b"]
    assert combo_choices(info, "V3", "format") == ["auto", "mp4"]
    assert combo_choices(info, "Odd", "pick") == []
    assert combo_choices(info, "Missing", "pick") == []
    assert capabilities_from({"system": "?", "devices": [{"name": 1}]}, {}).model_dump()["devices"] == []


async def test_a_stopped_server_is_unreachable() -> None:
    with serve_fake_comfyui() as fake:
        fake.stop()
        async with ComfyUIClient(fake.url) as comfy:
            with pytest.raises(ComfyUIUnreachable, match="unreachable"):
                await comfy.system_stats()


async def test_an_http_error_is_a_comfyui_error_but_not_unreachable() -> None:
    with serve_fake_comfyui(FakeComfyUI(broken=500)) as fake:
        async with ComfyUIClient(fake.url) as comfy:
            with pytest.raises(ComfyUIError, match="HTTP 500") as raised:
                await comfy.object_info()
    assert not isinstance(raised.value, ComfyUIUnreachable)


@pytest.mark.parametrize(("content", "problem"), [(b"<html>hello</html>", "other than JSON"), (b"[1, 2]", "a list")])
async def test_a_server_that_is_not_comfyui_is_an_error(content: bytes, problem: str) -> None:
    transport = httpx2.MockTransport(lambda request: httpx2.Response(200, content=content))
    async with ComfyUIClient("http://box:8188", transport=transport) as comfy:
        with pytest.raises(ComfyUIError, match=problem):
            await comfy.system_stats()


async def test_a_timeout_is_unreachable() -> None:
    def slow(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("timed out", request=request)

    async with ComfyUIClient("http://box:8188", transport=httpx2.MockTransport(slow)) as comfy:
        with pytest.raises(ComfyUIUnreachable, match="did not answer /api/system_stats in time"):
            await comfy.system_stats()


async def test_submit_queues_under_the_callers_prompt_and_client_ids_and_history_is_none_until_done() -> None:
    with serve_fake_comfyui(FakeComfyUI(runs_after_polls=None)) as fake:
        async with ComfyUIClient(fake.url) as comfy:
            graph = build_graph(image_item(), filename_prefix="shots/a")
            assert await comfy.submit(graph, client_id="worker-7", prompt_id="p-1") == "p-1"
            assert await comfy.history("p-1") is None
            queue = await comfy.queue()
            assert [item[1] for item in queue["queue_pending"]] == ["p-1"]
            assert queue["queue_pending"][0][3]["client_id"] == "worker-7"
            fake.state.run_next()
            entry = await comfy.history("p-1")
            assert entry is not None and entry["status"]["status_str"] == "success"
            [file] = entry["outputs"]["9"]["images"]
            data, content_type = await comfy.view(file["filename"], subfolder=file["subfolder"])
            assert data.startswith(b"\x89PNG") and content_type == "image/png"
            with pytest.raises(ComfyUIError, match="HTTP 404"):
                await comfy.view("gone.png")
    assert fake.state.requests[:3] == ["POST /prompt", "GET /history/p-1", "GET /queue"]


async def test_delete_queued_and_interrupt_name_the_prompt() -> None:
    with serve_fake_comfyui(FakeComfyUI(runs_after_polls=None)) as fake:
        async with ComfyUIClient(fake.url) as comfy:
            graph = build_graph(image_item(), filename_prefix="x")
            assert await comfy.submit(graph, client_id="c", prompt_id="r") == "r"
            assert fake.state.start_next() == "r"
            assert await comfy.submit(graph, client_id="c", prompt_id="w") == "w"
            await comfy.delete_queued(["w"])
            await comfy.interrupt("r")
            assert await comfy.queue() == {"queue_running": [], "queue_pending": []}
            entry = await comfy.history("r")
            assert entry is not None and entry["status"]["messages"][-1][0] == "execution_interrupted"
    assert fake.state.interrupted == ["r"]


async def test_a_graph_level_refusal_is_a_node_errors_error_with_the_servers_reason() -> None:
    with serve_fake_comfyui() as fake:
        async with ComfyUIClient(fake.url) as comfy:
            with pytest.raises(ComfyUINodeErrors, match="does not exist. \\(Node ID '#1'\\)") as refused:
                await comfy.submit({"1": {"class_type": "NoSuchNode", "inputs": {}}}, client_id="c")
    assert refused.value.node_errors == []
