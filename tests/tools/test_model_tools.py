"""The models toolset through a real MCP client, on memory:// and on the embedded server: catalog writes and reads,
search, inference presets, the model resource and completions; bad input is refused and writes nothing."""

from __future__ import annotations

import json

from mcp.types import PromptReference, ResourceTemplateReference

from tests.tools.conftest import ToolClient

SDXL = {"model_id": "checkpoints/juggernautXL_v9.safetensors", "name": "Juggernaut XL", "type": "checkpoint"}
PONY = {"model_id": "ponyDiffusionV6XL.safetensors", "name": "Pony Diffusion V6 XL", "type": "checkpoint",
        "tags": ["anime"], "trigger_words": "score_9"}
GOOD = {"steps": 24, "cfg_scale": 6.5, "sampler_name": "euler_ancestral", "scheduler": "karras"}


async def read_json(tools: ToolClient, uri: str) -> dict:  # type: ignore[type-arg]
    result = await tools.client.read_resource(uri)
    return json.loads(result.contents[0].text)  # type: ignore[union-attr,no-any-return]


async def test_create_detects_the_family_from_the_file_name_and_returns_what_was_stored(tools: ToolClient) -> None:
    created = await tools.call("create_model", **PONY)
    assert created["id"] == PONY["model_id"]
    assert created["uri"] == "storyboard://models/ponyDiffusionV6XL.safetensors"
    assert created["changed"]["base_model"] == "Pony"  # not SDXL, as the original had it
    assert created["changed"]["path"] == PONY["model_id"]
    model = await tools.call("get_model", model_id=PONY["model_id"])
    assert (model["base_model"], model["tags"], model["trigger_words"]) == ("Pony", ["anime"], "score_9")
    assert [(p["preset_type"], p["source"]) for p in model["presets"]] == [("quality", "built-in"), ("speed", "built-in")]
    given = await tools.call("create_model", model_id="x.safetensors", name="X", type="lora", base_model="sdxl 1.0")
    assert given["changed"]["base_model"] == "SDXL"


async def test_update_delete_and_set_active_change_only_what_they_say(tools: ToolClient) -> None:
    await tools.call("create_model", **SDXL)
    updated = await tools.call("update_model", model_id=SDXL["model_id"], patch={"name": "Colossus", "tags": ["photo"]})
    assert updated["changed"] == {"name": "Colossus", "tags": ["photo"]}
    assert (await tools.call("search_models", text="colossus photo"))["items"][0]["id"] == SDXL["model_id"]
    withdrawn = await tools.call("set_model_active", model_id=SDXL["model_id"], active=False)
    assert withdrawn["changed"] == {"is_active": False}
    assert (await tools.call("search_models", active=True))["items"] == []
    await tools.call("set_inference_preset", model_id=SDXL["model_id"], preset_type="quality", parameters=GOOD)
    deleted = await tools.call("delete_model", model_id=SDXL["model_id"], confirm=True)
    assert deleted == {"id": SDXL["model_id"], "name": "Colossus"}
    stored = await tools.snapshot()
    assert stored.get("database_models", []) == [] and stored.get("inference_configurations", []) == []


async def test_search_ranks_filters_and_pages(tools: ToolClient) -> None:
    await tools.call("create_model", **SDXL)
    await tools.call("create_model", **PONY)
    await tools.call("create_model", model_id="anime_lines.safetensors", name="Anime Lines", type="lora",
                     tags=["anime"], is_nsfw=True)
    anime = await tools.call("search_models", text="anime")
    assert [m["id"] for m in anime["items"]] == ["anime_lines.safetensors", PONY["model_id"]]  # name before tag
    assert "description" not in anime["items"][0]  # rows are lean; get_model has the rest
    lora = await tools.call("search_models", text="anime", type="lora", nsfw=True)
    assert [m["id"] for m in lora["items"]] == ["anime_lines.safetensors"]
    pony = await tools.call("search_models", base_model="pony diffusion xl")
    assert [m["id"] for m in pony["items"]] == [PONY["model_id"]]
    first = await tools.call("search_models", text="xl", limit=1)
    rest = await tools.call("search_models", text="xl", limit=1, cursor=first["next_cursor"])
    assert {first["items"][0]["id"], rest["items"][0]["id"]} == {SDXL["model_id"], PONY["model_id"]}
    assert rest["next_cursor"] is None


async def test_presets_fall_back_to_the_family_and_store_comfyui_names(tools: ToolClient) -> None:
    await tools.call("create_model", **PONY)
    built_in = await tools.call("get_inference_preset", model_id=PONY["model_id"], preset_type="speed")
    assert built_in["source"] == "built-in" and built_in["family"] == "Pony"
    assert built_in["parameters"]["sampler_name"] == "euler_ancestral"  # the original's "euler_a", corrected
    written = await tools.call("set_inference_preset", model_id=PONY["model_id"], preset_type="speed", parameters=GOOD,
                               description="fast drafts")
    assert written == {"id": f"{PONY['model_id']}:speed", "uri": "storyboard://models/ponyDiffusionV6XL.safetensors",
                       "changed": {"parameters": {**GOOD, "denoise": 1.0}}}
    stored = await tools.call("get_inference_preset", model_id=PONY["model_id"], preset_type="speed")
    assert (stored["source"], stored["description"], stored["parameters"]["steps"]) == ("stored", "fast drafts", 24)
    again = {**GOOD, "steps": 30}
    await tools.call("set_inference_preset", model_id=PONY["model_id"], preset_type="speed", parameters=again)
    configs = (await tools.snapshot())["inference_configurations"]
    assert len(configs) == 1 and configs[0]["parameters"]["steps"] == 30 and configs[0]["description"] == "fast drafts"


async def test_bad_input_is_refused_with_the_field_and_allowed_values_and_writes_nothing(tools: ToolClient) -> None:
    await tools.call("create_model", **PONY)
    sampler = await tools.refused("set_inference_preset", model_id=PONY["model_id"], preset_type="quality",
                                  parameters={**GOOD, "sampler_name": "euler_a"})
    assert "sampler_name" in sampler and "euler_ancestral" in sampler
    scheduler = await tools.refused("set_inference_preset", model_id=PONY["model_id"], preset_type="quality",
                                    parameters={**GOOD, "scheduler": "Karras"})
    assert "scheduler" in scheduler and "karras" in scheduler
    preset = await tools.refused("get_inference_preset", model_id=PONY["model_id"], preset_type="fast")
    assert "preset_type" in preset and "quality" in preset and "speed" in preset
    assert (await tools.refused("set_inference_preset", model_id="ghost", preset_type="speed", parameters=GOOD)
            ).startswith("[not-found] model 'ghost'")
    kind = await tools.refused("create_model", model_id="y", name="Y", type="motion_module")
    assert "type" in kind and "checkpoint" in kind and "upscaler" in kind
    duplicate = await tools.refused("create_model", **{**PONY, "name": "Another"})
    assert duplicate.startswith("[conflict]") and "update_model" in duplicate
    assert (await tools.refused("update_model", model_id=PONY["model_id"], patch={})).startswith("[invalid-argument]")
    assert "id" in await tools.refused("update_model", model_id=PONY["model_id"], patch={"id": "renamed"})
    for name, extra in (("get_model", {}), ("delete_model", {"confirm": True})):
        assert (await tools.refused(name, model_id="ghost", **extra)).startswith("[not-found] model 'ghost'")
    assert "type" in await tools.refused("search_models", type="motion_module")


async def test_the_model_resource_shows_the_presets_and_completions_offer_ids_and_names(tools: ToolClient) -> None:
    await tools.call("create_model", **SDXL)
    await tools.call("create_model", **PONY)
    await tools.call("set_inference_preset", model_id=SDXL["model_id"], preset_type="quality", parameters=GOOD)
    resource = await read_json(tools, "storyboard://models/checkpoints%2FjuggernautXL_v9.safetensors")
    assert resource["id"] == SDXL["model_id"] and resource["base_model"] == "SDXL"
    assert [(p["preset_type"], p["source"]) for p in resource["presets"]] == [("quality", "stored"), ("speed", "built-in")]
    ids = await tools.client.complete(ResourceTemplateReference(uri="storyboard://models/{model_id}"),
                                      {"name": "model_id", "value": "pony"})
    assert ids.completion.values == [PONY["model_id"]]
    names = await tools.client.complete(PromptReference(name="review_continuity"),
                                        {"name": "model_name", "value": "jugg"})
    assert names.completion.values == ["Juggernaut XL"]


async def test_a_new_path_redetects_a_detected_family_and_keeps_one_set_by_hand(tools: ToolClient) -> None:
    await tools.call("create_model", model_id="m1", name="M1", type="checkpoint", path="sd15/v1-5-pruned.safetensors")
    moved = await tools.call("update_model", model_id="m1", patch={"path": "flux/flux1-dev.safetensors"})
    assert moved["changed"] == {"path": "flux/flux1-dev.safetensors", "base_model": "Flux.1 D"}
    assert (await tools.call("get_model", model_id="m1"))["base_model"] == "Flux.1 D"
    await tools.call("create_model", model_id="m2", name="M2", type="checkpoint", path="x.safetensors",
                     base_model="Illustrious")
    kept = await tools.call("update_model", model_id="m2", patch={"path": "sd15/v1-5-pruned.safetensors"})
    assert kept["changed"] == {"path": "sd15/v1-5-pruned.safetensors"}
    assert (await tools.call("get_model", model_id="m2"))["base_model"] == "Illustrious"
