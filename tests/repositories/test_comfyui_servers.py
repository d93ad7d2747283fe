"""Contract suite for ComfyUI servers, run unchanged on every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mcp_storyboard.db.connection import Database
from mcp_storyboard.errors import DuplicateKeyConflict, NotFoundError, ValidationError
from mcp_storyboard.models.common import utc_now
from mcp_storyboard.models.generation import ComfyUIServer, ComfyUIServerPatch
from mcp_storyboard.repositories.comfyui_servers import ComfyUIServerRepository


def server(name: str, url: str, **fields: object) -> ComfyUIServer:
    return ComfyUIServer.model_validate({"name": name, "url": url, **fields})


async def test_servers_round_trip_and_are_found_by_any_spelling_of_their_url(db: Database) -> None:
    repo = ComfyUIServerRepository(db)
    box = await repo.insert(server("Box", "HTTP://Box.LAN:80/comfy/"))
    assert box.url == "http://box.lan/comfy"
    assert await repo.get(box.id) == box
    assert await repo.find_by_url(" http://BOX.lan/comfy/ ") == box
    assert await repo.find_by_url("https://box.lan/comfy") is None
    with pytest.raises(ValidationError, match="url: a server URL must start with http"):
        await repo.find_by_url("ftp://box.lan")
    renamed = await repo.apply_patch(box.id, ComfyUIServerPatch(name="Big box", is_active=False))
    assert (renamed.name, renamed.is_active) == ("Big box", False)
    assert await repo.delete(box.id) is True
    with pytest.raises(NotFoundError, match="ComfyUI server"):
        await repo.set_status(box.id, "online")


async def test_a_taken_url_is_a_conflict_naming_url_on_insert_and_on_patch(db: Database) -> None:
    repo = ComfyUIServerRepository(db)
    await repo.insert(server("A", "http://a:8188"))
    b = await repo.insert(server("B", "http://b:8188"))
    with pytest.raises(DuplicateKeyConflict) as caught:
        await repo.insert(server("A again", "http://A:8188/"))
    assert (caught.value.field, caught.value.value) == ("url", "http://a:8188")
    with pytest.raises(DuplicateKeyConflict) as caught:
        await repo.apply_patch(b.id, ComfyUIServerPatch(url="HTTP://a:8188"))
    assert caught.value.field == "url" and "comfyui_servers.url 'http://a:8188'" in str(caught.value)
    assert await repo.get(b.id) == b


async def test_active_servers_list_by_name_and_all_servers_page(db: Database) -> None:
    repo = ComfyUIServerRepository(db)
    for name, active in [("gpu-2", True), ("cpu", False), ("gpu-1", True), ("laptop", True)]:
        await repo.insert(server(name, f"http://{name}:8188", is_active=active))
    assert [s.name for s in await repo.list_active()] == ["gpu-1", "gpu-2", "laptop"]
    first = await repo.page(limit=3)
    second = await repo.page(limit=3, cursor=first.next_cursor)
    assert [s.name for s in first.items + second.items] == ["cpu", "gpu-1", "gpu-2", "laptop"]
    assert second.next_cursor is None
    assert [s.name for s in (await repo.page(active=False)).items] == ["cpu"]


async def test_status_checks_record_when_and_what_and_keep_capabilities_unless_given(db: Database) -> None:
    repo = ComfyUIServerRepository(db)
    box = await repo.insert(server("Box", "http://box:8188"))
    checked_at = utc_now() - timedelta(minutes=1)
    online = await repo.set_status(box.id, "online", last_check=checked_at, capabilities={"gpus": ["RTX 4090"], "vram_gb": 24})
    assert (online.status, online.last_check, online.capabilities) == ("online", checked_at, {"gpus": ["RTX 4090"], "vram_gb": 24})
    down = await repo.set_status(box.id, "error")
    assert down.status == "error" and down.capabilities == online.capabilities
    assert down.last_check is not None and down.last_check > checked_at
    with pytest.raises(ValidationError, match="Allowed values: online, offline, error"):
        await repo.set_status(box.id, "busy")  # type: ignore[arg-type]
