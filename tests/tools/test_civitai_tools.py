"""CivitAI tools through a real MCP client on memory:// and embedded: sync pulls cursor pages into the local
catalog (upsert by id, progress reported, resumable), search reads it back by text, type and NSFW flag, import
creates or refreshes a database model from a version, and bad input is refused with nothing written."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from mcp.shared.exceptions import MCPError

from mcp_storyboard.models.catalog import DatabaseModel
from tests.fakes.civitai import FakeCivitAI, model, version
from tests.tools.conftest import ToolClient, allowed_in

KEY = "sk-civitai-secret-1234"


def fake_catalog() -> FakeCivitAI:
    return FakeCivitAI(models=[
        model(101, "Juggernaut XL", tags=("photorealistic", "base model"),
              versions=[version(9002, "SDXL 1.0", file="juggernautXL_v9.safetensors"),
                        version(9001, "SDXL 1.0", file="juggernautXL_v8.safetensors")]),
        model(102, "Detail Tweaker", "LORA", tags=("detail",),
              versions=[version(8001, "SD 1.5", words=("detailed", "intricate", "detailed"),
                                file="add_detail.safetensors")]),
        model(103, "Pony Diffusion V6 XL", tags=("anime",), versions=[version(7001, "Pony")]),
        model(104, "Spicy Mix", nsfw=True, tags=("anime",)),
        model(105, "OpenPose pack", "Poses"),
    ])  # fmt: skip


def use(tools: ToolClient, fake: FakeCivitAI, **options: Any) -> FakeCivitAI:
    tools.services.civitai.client = fake.client(**options)
    return fake


async def test_sync_follows_cursors_upserts_by_id_and_reports_progress(tools: ToolClient) -> None:
    fake = use(tools, fake_catalog())
    reported: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reported.append((progress, total))

    result = await tools.client.call_tool("sync_civitai_models", {"per_page": 2, "max_pages": 5},
                                          progress_callback=on_progress)  # fmt: skip
    assert result.structured_content == {"pages": 2, "fetched": 4, "stored": 4, "skipped": 0,
                                         "next_civitai_cursor": None}  # fmt: skip
    assert reported == [(1, 5), (2, 5)]
    assert [r.url.params.get("cursor") is None for r in fake.requests] == [True, False]
    stored = await tools.services.civitai.catalog.page(nsfw=None, limit=100)
    assert sorted(e.id for e in stored.items) == [101, 102, 103, 105]  # nsfw=false asked CivitAI for SFW only

    fake.models[0] = model(101, "Juggernaut XL Ragnarok", tags=("photorealistic",))
    again = await tools.call("sync_civitai_models", per_page=100)
    assert again["stored"] == 4 and await tools.services.civitai.catalog.count() == 4
    assert (await tools.services.civitai.get(101)).name == "Juggernaut XL Ragnarok"


async def test_sync_stops_at_max_pages_and_resumes_from_the_returned_cursor(tools: ToolClient) -> None:
    use(tools, fake_catalog())
    first = await tools.call("sync_civitai_models", per_page=1, max_pages=2, types=["Checkpoint", "LORA"])
    assert (first["pages"], first["stored"]) == (2, 2) and first["next_civitai_cursor"]
    rest = await tools.call("sync_civitai_models", per_page=1, max_pages=10, types=["Checkpoint", "LORA"],
                            civitai_cursor=first["next_civitai_cursor"])  # fmt: skip
    assert (rest["stored"], rest["next_civitai_cursor"]) == (1, None)
    assert sorted(e.id for e in (await tools.services.civitai.catalog.page(nsfw=None)).items) == [101, 102, 103]


async def test_sync_backs_off_on_429_and_5xx_and_sends_the_key_only_as_a_header(tools: ToolClient) -> None:
    fake = use(tools, fake_catalog(), api_key=KEY)
    fake.failures = [429, 503]
    result = await tools.client.call_tool("sync_civitai_models", {"query": "juggernaut"})
    assert not result.is_error and result.structured_content and result.structured_content["stored"] == 1
    assert fake.sleeps == [1.0, 2.0]
    assert all(r.headers["authorization"] == f"Bearer {KEY}" and KEY not in str(r.url) for r in fake.requests)
    assert KEY not in json.dumps(result.model_dump(mode="json"))


async def test_a_sync_civitai_keeps_refusing_fails_clearly_and_writes_nothing(tools: ToolClient) -> None:
    fake = use(tools, fake_catalog(), api_key=KEY)
    fake.failures = [500] * 6
    text = await tools.refused("sync_civitai_models")
    assert text.startswith("[integration] CivitAI answered HTTP 500") and KEY not in text
    fake.failures = [401]
    assert "CIVITAI_API_KEY" in await tools.refused("sync_civitai_models")


async def test_search_reads_the_local_catalog_by_text_type_and_nsfw(tools: ToolClient) -> None:
    use(tools, fake_catalog())
    await tools.call("sync_civitai_models", nsfw=True)
    assert [m["id"] for m in (await tools.call("search_civitai_catalog"))["items"]] == [101, 103, 102, 105]
    anime = await tools.call("search_civitai_catalog", text="ANIME", nsfw=None)
    assert [m["id"] for m in anime["items"]] == [103, 104]
    assert [m["id"] for m in (await tools.call("search_civitai_catalog", nsfw=True))["items"]] == [104]
    lora = (await tools.call("search_civitai_catalog", type="LORA"))["items"]
    assert lora == [{"id": 102, "name": "Detail Tweaker", "type": "LORA", "nsfw": False, "tags": ["detail"],
                     "base_models": ["SD 1.5"], "latest_version_id": 8001, "downloads": 10200,
                     "uri": "storyboard://civitai-models/102"}]  # fmt: skip
    assert (await tools.call("search_civitai_catalog", text="(x|y)*"))["items"] == []  # plain text, not a regex
    jugg = (await tools.call("search_civitai_catalog", text="juggernaut"))["items"]
    assert [m["base_models"] for m in jugg] == [["SDXL 1.0"]]


async def test_the_resource_shows_the_whole_entry_and_unknown_ids_are_not_found(tools: ToolClient) -> None:
    use(tools, fake_catalog())
    await tools.call("sync_civitai_models")
    read = await tools.client.read_resource("storyboard://civitai-models/102")
    entry = json.loads(read.contents[0].text)
    assert (entry["id"], entry["creator"]["username"]) == (102, "maker")
    assert entry["model_versions"][0]["files"][0]["name"] == "add_detail.safetensors"
    for missing in ("999", "abc"):
        with pytest.raises(MCPError, match=r"\[not-found\] CivitAI model"):
            await tools.client.read_resource(f"storyboard://civitai-models/{missing}")


async def test_import_creates_a_database_model_from_the_newest_version(tools: ToolClient) -> None:
    use(tools, fake_catalog())
    await tools.call("sync_civitai_models")
    imported = await tools.call("import_civitai_model", civitai_id=102)
    assert imported == {"id": "add_detail.safetensors", "uri": "storyboard://models/add_detail.safetensors",
                        "civitai_id": 102, "version_id": 8001, "type": "lora", "base_model": "SD 1.5",
                        "trigger_words": "detailed, intricate"}  # fmt: skip
    stored = await tools.services.civitai.models.get("add_detail.safetensors")
    assert (stored.name, stored.path, stored.tags, stored.is_nsfw, stored.civitai_id, stored.is_active) == (
        "Detail Tweaker v8001", "add_detail.safetensors", ["detail"], False, 102, True)  # fmt: skip


async def test_import_of_an_older_version_and_a_refresh_update_the_same_entry(tools: ToolClient) -> None:
    fake = use(tools, fake_catalog())
    await tools.call("sync_civitai_models")
    old = await tools.call("import_civitai_model", civitai_id=101, version_id=9001, is_active=False)
    assert (old["id"], old["base_model"], old["version_id"]) == ("juggernautXL_v8.safetensors", "SDXL", 9001)
    first = await tools.services.civitai.models.get(old["id"])
    assert first.is_active is False
    fake.models[0]["modelVersions"][1]["trainedWords"] = ["cinematic"]
    fake.models[0]["tags"] = ["photorealistic", "cinematic"]
    await tools.call("sync_civitai_models")
    again = await tools.call("import_civitai_model", civitai_id=101, version_id=9001)
    refreshed = await tools.services.civitai.models.get(again["id"])
    assert (refreshed.trigger_words, refreshed.tags, refreshed.is_active) == (
        "cinematic", ["photorealistic", "cinematic"], True)  # fmt: skip
    assert refreshed.created_at == first.created_at
    assert await tools.services.civitai.models.count() == 1


async def test_import_fetches_a_model_not_yet_synced_and_maps_the_pony_family(tools: ToolClient) -> None:
    fake = use(tools, fake_catalog())
    async with tools.watch(["storyboard://civitai-models/103"]) as next_update:
        imported = await tools.call("import_civitai_model", civitai_id=103)
        assert await next_update() == "storyboard://civitai-models/103"
    assert (imported["base_model"], imported["type"]) == ("Pony", "checkpoint")
    assert [r.url.path for r in fake.requests] == ["/api/v1/models/103"]
    assert (await tools.services.civitai.get(103)).name == "Pony Diffusion V6 XL"
    assert isinstance(await tools.services.civitai.models.get(imported["id"]), DatabaseModel)


async def test_bad_input_is_refused_with_the_field_and_allowed_values(tools: ToolClient) -> None:
    use(tools, fake_catalog())
    await tools.call("sync_civitai_models")
    text = await tools.refused("sync_civitai_models", types=["Lora"])
    assert "types" in text and {"LORA", "Checkpoint"} <= {v.strip("'\" ") for v in text.replace(",", " ").split()}
    assert "per_page" in await tools.refused("sync_civitai_models", per_page=0)
    assert "max_pages" in await tools.refused("sync_civitai_models", max_pages=21)
    assert "sort" in await tools.refused("sync_civitai_models", sort="Most Liked")
    assert "type" in await tools.refused("search_civitai_catalog", type="lora")
    assert "civitai_id" in await tools.refused("import_civitai_model", civitai_id=0)

    wrong_version = await tools.refused("import_civitai_model", civitai_id=101, version_id=8001)
    assert wrong_version.startswith("[invalid-argument] version_id") and {"9002", "9001"} <= allowed_in(wrong_version)
    poses = await tools.refused("import_civitai_model", civitai_id=105)
    assert "civitai_id" in poses and {"checkpoint", "lora"} <= allowed_in(poses)
    assert (await tools.refused("import_civitai_model", civitai_id=999)).startswith("[not-found] CivitAI model '999'")


async def test_a_version_without_files_cannot_be_imported(tools: ToolClient) -> None:
    use(tools, FakeCivitAI(models=[model(7, "Archived", versions=[version(70, file="")])]))
    await tools.call("sync_civitai_models")
    text = await tools.refused("import_civitai_model", civitai_id=7)
    assert text.startswith("[invalid-argument] version_id") and "lists no file" in text


async def test_parallel_syncs_and_imports_converge_on_one_document_each(tools: ToolClient) -> None:
    use(tools, fake_catalog())
    results: list[dict[str, Any]] = []

    async def call(name: str, **arguments: Any) -> None:
        results.append(await tools.call(name, **arguments))

    async with anyio.create_task_group() as group:
        for _ in range(3):
            group.start_soon(call, "sync_civitai_models")
            group.start_soon(lambda: call("import_civitai_model", civitai_id=102))
    assert await tools.services.civitai.catalog.count() == 4
    assert await tools.services.civitai.models.count() == 1
    imported = [r for r in results if "civitai_id" in r]
    stored = await tools.services.civitai.models.get("add_detail.safetensors")
    assert len(imported) == 3 and all(r["trigger_words"] == stored.trigger_words for r in imported)
