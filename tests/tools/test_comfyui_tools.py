"""ComfyUI server tools through a real MCP client, against the fake ComfyUI over real HTTP: registration with a
normalised unique URL, reads, changes, deletes, health checks (online, error, offline), the resource, completions,
and bad input refused with nothing written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from mcp.shared.exceptions import MCPError
from mcp.types import ResourceTemplateReference

from mcp_storyboard.integrations.comfyui import ComfyUIClient
from mcp_storyboard.models.generation import ComfyUIServerPatch
from tests.fakes.comfyui import RunningFake, serve_fake_comfyui
from tests.tools.conftest import ToolClient

SECRET = "do-not-leak"
"""Part of the fake's command line (``argv`` in /system_stats): it must never be stored or shown."""


@pytest.fixture
def comfy() -> Iterator[RunningFake]:
    with serve_fake_comfyui() as running:
        yield running


async def register(tools: ToolClient, url: str, name: str = "Local") -> str:
    return str((await tools.call("register_comfyui_server", name=name, url=url))["id"])


async def read_resource(tools: ToolClient, server_id: str) -> dict[str, Any]:
    read = await tools.client.read_resource(f"storyboard://comfyui-servers/{server_id}")
    return dict(json.loads(read.contents[0].text))  # type: ignore[union-attr]


async def test_parallel_registrations_of_one_url_store_one_server(tools: ToolClient) -> None:
    spellings = ["http://127.0.0.1:8188", "HTTP://127.0.0.1:8188/", "http://127.0.0.1:8188//", "http://127.0.0.1:8188"]
    results: list[Any] = []

    async def one(n: int, url: str) -> None:
        results.append(await tools.client.call_tool("register_comfyui_server", {"name": f"S{n}", "url": url}))

    async with anyio.create_task_group() as group:
        for n, url in enumerate(spellings):
            group.start_soon(one, n, url)
    won = [r for r in results if not r.is_error]
    assert len(won) == 1
    assert all(r.content[0].text.startswith("[duplicate]") for r in results if r.is_error)
    stored = (await tools.call("list_comfyui_servers"))["items"]
    assert [(s["id"], s["url"]) for s in stored] == [(won[0].structured_content["id"], "http://127.0.0.1:8188")]


async def test_register_normalises_the_url_and_every_read_shows_the_stored_server(tools: ToolClient) -> None:
    written = await tools.call("register_comfyui_server", name="Box", url=" HTTP://Box.LAN:80/comfy/ ")
    sid = written["id"]
    assert written == {"id": sid, "uri": f"storyboard://comfyui-servers/{sid}",
                       "changed": {"name": "Box", "url": "http://box.lan/comfy", "is_active": True}}
    got = await tools.call("get_comfyui_server", server_id=sid)
    assert (got["url"], got["status"], got["last_check"], got["capabilities"], got["last_error"]) == (
        "http://box.lan/comfy", "offline", None, {}, None)
    assert await read_resource(tools, sid) == got
    assert (await tools.call("list_comfyui_servers"))["items"] == [{
        "id": sid, "uri": f"storyboard://comfyui-servers/{sid}", "name": "Box", "url": "http://box.lan/comfy",
        "is_active": True, "status": "offline", "last_check": None, "last_error": None, "comfyui_version": None,
        "checkpoints": 0, "loras": 0, "samplers": 0, "devices": []}]


async def test_a_url_taken_in_another_spelling_is_refused_naming_the_holder(tools: ToolClient) -> None:
    sid = await register(tools, "http://127.0.0.1:8188")
    text = await tools.refused("register_comfyui_server", name="Again", url="HTTP://127.0.0.1:8188/")
    assert text.startswith("[duplicate]") and "url" in text and sid in text and "update_comfyui_server" in text
    other = await register(tools, "http://127.0.0.1:8189", name="Other")
    moved = await tools.refused("update_comfyui_server", server_id=other, patch={"url": "http://127.0.0.1:8188/"})
    assert moved.startswith("[duplicate]") and sid in moved


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        ("register_comfyui_server", {"name": "X", "url": "ftp://box"}, "[invalid-argument] url"),
        ("register_comfyui_server", {"name": "X", "url": "http://user:pw@box"}, "[invalid-argument] url"),
        ("register_comfyui_server", {"name": "X", "url": "http://box/?token=1"}, "[invalid-argument] url"),
        ("register_comfyui_server", {"name": "X", "url": "http://"}, "[invalid-argument] url"),
        ("register_comfyui_server", {"name": "", "url": "http://box"}, "[invalid-argument] name"),
        ("register_comfyui_server", {"name": "X", "url": "http://box", "is_active": "maybe"},
         "[invalid-argument] is_active"),
        ("get_comfyui_server", {"server_id": "no/such id"}, "[invalid-argument] server_id"),
        ("get_comfyui_server", {"server_id": "00000000-0000-4000-8000-000000000000"}, "[not-found]"),
        ("update_comfyui_server", {"server_id": "K", "patch": {}}, "[invalid-argument] patch"),
        ("update_comfyui_server", {"server_id": "K", "patch": {"url": "gopher://box"}}, "[invalid-argument] patch.url"),
        ("update_comfyui_server", {"server_id": "K", "patch": {"status": "online"}}, "[invalid-argument] patch"),
        ("update_comfyui_server", {"server_id": "00000000-0000-4000-8000-000000000000", "patch": {"name": "Y"}},
         "[not-found]"),
        ("delete_comfyui_server", {"server_id": "00000000-0000-4000-8000-000000000000", "confirm": True}, "[not-found]"),
        ("check_comfyui_server", {"server_id": "00000000-0000-4000-8000-000000000000"}, "[not-found]"),
        ("list_comfyui_servers", {"limit": 0}, "[invalid-argument] limit"),
    ],
)
async def test_bad_input_is_refused_with_the_field_named_and_nothing_written(
    tools: ToolClient, tool: str, arguments: dict[str, Any], expected: str
) -> None:
    sid = await register(tools, "http://127.0.0.1:8188")
    arguments = {k: (sid if v == "K" else v) for k, v in arguments.items()}
    text = await tools.refused(tool, **arguments)
    assert text.startswith(expected), text


async def test_a_check_stores_status_and_capabilities_and_never_the_servers_command_line(
    tools: ToolClient, comfy: RunningFake
) -> None:
    sid = await register(tools, comfy.url)
    async with tools.watch([f"storyboard://comfyui-servers/{sid}"]) as next_update:
        checked = await tools.call("check_comfyui_server", server_id=sid)
        assert await next_update() == f"storyboard://comfyui-servers/{sid}"
    assert checked["status"] == "online" and checked["last_error"] is None and checked["last_check"]
    assert (checked["comfyui_version"], checked["checkpoints"], checked["loras"]) == ("0.3.64", 2, 1)
    assert checked["devices"] == ["cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync (22.4/23.6 GiB free)"]
    got = await tools.call("get_comfyui_server", server_id=sid)
    assert got["last_check"] == checked["last_check"]
    assert (await tools.call("list_comfyui_servers"))["items"] == [checked]
    caps = got["capabilities"]
    assert caps["checkpoints"] == comfy.state.checkpoints and caps["loras"] == comfy.state.loras
    assert "euler_ancestral" in caps["samplers"] and "karras" in caps["schedulers"]
    assert caps["devices"][0]["vram_total"] == 25_393_692_672
    shown = [checked, got, await read_resource(tools, sid), await tools.call("list_comfyui_servers"),
             await tools.snapshot()]
    assert all(SECRET not in json.dumps(item, default=str) for item in shown)
    # Only the nodes that list models and samplers are asked for, not the whole (0.5 MB) /object_info.
    assert comfy.state.requests == ["GET /system_stats", "GET /object_info/CheckpointLoaderSimple",
                                    "GET /object_info/LoraLoader", "GET /object_info/KSampler"]


async def test_a_failing_server_is_error_and_a_silent_one_offline_keeping_what_was_known(
    tools: ToolClient, comfy: RunningFake
) -> None:
    sid = await register(tools, comfy.url)
    await tools.call("check_comfyui_server", server_id=sid)
    comfy.state.broken = 500
    failing = await tools.call("check_comfyui_server", server_id=sid)
    assert failing["status"] == "error" and "HTTP 500" in failing["last_error"]
    comfy.stop()
    silent = await tools.call("check_comfyui_server", server_id=sid)
    assert silent["status"] == "offline" and "unreachable" in silent["last_error"]
    assert silent["last_check"] > failing["last_check"]
    # The last known models stay for whoever must choose a server; the status says they may be stale.
    got = await tools.call("get_comfyui_server", server_id=sid)
    assert (got["status"], got["capabilities"]["checkpoints"]) == ("offline", comfy.state.checkpoints)
    comfy.state.broken = None
    with serve_fake_comfyui(comfy.state) as back:
        await tools.call("update_comfyui_server", server_id=sid, patch={"url": back.url})
        assert (await tools.call("check_comfyui_server", server_id=sid))["last_error"] is None


async def test_update_renames_disables_and_a_new_url_forgets_the_old_check(tools: ToolClient, comfy: RunningFake) -> None:
    sid = await register(tools, comfy.url)
    await tools.call("check_comfyui_server", server_id=sid)
    renamed = await tools.call("update_comfyui_server", server_id=sid, patch={"name": "GPU box", "is_active": False})
    assert renamed["changed"] == {"name": "GPU box", "is_active": False}
    assert (await tools.call("get_comfyui_server", server_id=sid))["status"] == "online"
    assert (await tools.call("list_comfyui_servers", active=True))["items"] == []
    assert [s["id"] for s in (await tools.call("list_comfyui_servers", active=False))["items"]] == [sid]
    moved = await tools.call("update_comfyui_server", server_id=sid, patch={"url": "HTTPS://gpu.example:443/"})
    assert moved["changed"] == {"url": "https://gpu.example"}
    got = await tools.call("get_comfyui_server", server_id=sid)
    assert (got["status"], got["last_check"], got["capabilities"], got["name"]) == ("offline", None, {}, "GPU box")


async def test_delete_removes_the_server(tools: ToolClient) -> None:
    sid = await register(tools, "http://127.0.0.1:8188", name="Gone")
    assert await tools.call("delete_comfyui_server", server_id=sid, confirm=True) == {"id": sid, "name": "Gone",
                                                                       "url": "http://127.0.0.1:8188"}
    assert (await tools.refused("get_comfyui_server", server_id=sid)).startswith("[not-found]")
    assert (await tools.refused("delete_comfyui_server", server_id=sid, confirm=True)).startswith("[not-found]")
    with pytest.raises(MCPError, match=r"\[not-found\] ComfyUI server"):
        await tools.client.read_resource(f"storyboard://comfyui-servers/{sid}")


async def test_a_check_that_races_a_url_change_records_nothing_about_the_new_address(
    tools: ToolClient, comfy: RunningFake
) -> None:
    sid = await register(tools, comfy.url)
    services = tools.services

    class MovedMidCheck(ComfyUIClient):
        async def system_stats(self) -> dict[str, Any]:
            stats = await super().system_stats()
            await services.comfyui.update(sid, ComfyUIServerPatch(url="http://elsewhere.example:8188"))
            return stats

    services.comfyui.client_factory = MovedMidCheck
    checked = await tools.call("check_comfyui_server", server_id=sid)
    assert (checked["status"], checked["last_check"], checked["checkpoints"]) == ("offline", None, 0)
    got = await tools.call("get_comfyui_server", server_id=sid)
    assert (got["url"], got["status"], got["capabilities"]) == ("http://elsewhere.example:8188", "offline", {})


async def test_check_active_checks_every_enabled_server(tools: ToolClient, comfy: RunningFake) -> None:
    with serve_fake_comfyui() as down:
        down.stop()
        up = await register(tools, comfy.url, name="A up")
        gone = await register(tools, down.url, name="B down")
        await register(tools, "http://127.0.0.1:1", name="C disabled")
        disabled = (await tools.call("list_comfyui_servers", active=True))["items"][-1]["id"]
        await tools.call("update_comfyui_server", server_id=disabled, patch={"is_active": False})
        checked = await tools.services.comfyui.check_active()
    assert [(s.id, s.status) for s in checked] == [(up, "online"), (gone, "offline")]
    assert (await tools.call("get_comfyui_server", server_id=disabled))["last_check"] is None


async def test_server_ids_complete_by_id_or_name(tools: ToolClient) -> None:
    alpha = await register(tools, "http://127.0.0.1:8188", name="Alpha")
    await register(tools, "http://127.0.0.1:8189", name="Beta")
    ref = ResourceTemplateReference(uri="storyboard://comfyui-servers/{server_id}")
    assert (await tools.client.complete(ref, {"name": "server_id", "value": "al"})).completion.values == [alpha]
    assert (await tools.client.complete(ref, {"name": "server_id", "value": alpha[:8]})).completion.values == [alpha]
    assert (await tools.client.complete(ref, {"name": "server_id", "value": ".*"})).completion.values == []


async def test_a_servers_credential_is_stored_and_never_shown(tools: ToolClient, comfy: RunningFake) -> None:
    key = "rp-" + "k" * 30
    sid = await register(tools, comfy.url)
    changed = await tools.call("update_comfyui_server", server_id=sid, patch={"api_key": key, "max_concurrent": 4})
    assert changed["changed"] == {"max_concurrent": 4, "has_api_key": True}
    got = await tools.call("get_comfyui_server", server_id=sid)
    assert got["has_api_key"] is True and got["max_concurrent"] == 4
    shown = [changed, got, await read_resource(tools, sid), await tools.call("list_comfyui_servers"),
             await tools.call("check_comfyui_server", server_id=sid)]
    assert key not in json.dumps(shown)
    stored = await tools.services.comfyui.get(sid)
    assert stored.api_key == key and key not in repr(stored)
    await tools.call("update_comfyui_server", server_id=sid, patch={"api_key": None})
    assert (await tools.call("get_comfyui_server", server_id=sid))["has_api_key"] is False


async def test_register_takes_a_credential_and_a_capacity_shows_neither_key_and_checks_with_it(
    tools: ToolClient, comfy: RunningFake
) -> None:
    key = "rp-" + "r" * 30
    written = await tools.call("register_comfyui_server", name="Pod", url=comfy.url, api_key=key, max_concurrent=3)
    sid = written["id"]
    assert written["changed"] == {"name": "Pod", "url": comfy.url, "is_active": True, "max_concurrent": 3,
                                  "has_api_key": True}
    sent: list[str | None] = []

    class Recording(ComfyUIClient):
        def __init__(self, url: str, *, api_key: str | None = None) -> None:
            sent.append(api_key)
            super().__init__(url, api_key=api_key)

    tools.services.comfyui.client_factory = Recording
    checked = await tools.call("check_comfyui_server", server_id=sid)
    assert checked["status"] == "online" and sent == [key]
    got = await tools.call("get_comfyui_server", server_id=sid)
    assert (got["has_api_key"], got["max_concurrent"]) == (True, 3)
    shown = [written, checked, got, await read_resource(tools, sid), await tools.call("list_comfyui_servers")]
    assert key not in json.dumps(shown, default=str)
    for bad, field in (({"max_concurrent": 0}, "max_concurrent"), ({"max_concurrent": 65}, "max_concurrent"),
                       ({"api_key": ""}, "api_key"), ({"max_concurrent": True}, "max_concurrent")):
        text = await tools.refused("register_comfyui_server", name="Bad", url="http://127.0.0.1:9", **bad)
        assert text.startswith(f"[invalid-argument] {field}"), text
    assert [s["id"] for s in (await tools.call("list_comfyui_servers"))["items"]] == [sid]
