"""A character's FaceFusion data and the presets, through a real MCP client: history pages, gallery removal,
preferences merged partially, preset visibility and validation, the resources, and refusals that write nothing."""

from __future__ import annotations

import json
from typing import Any

import anyio

from mcp_storyboard.models.facefusion import FaceFusionOutputGallery
from tests.tools.conftest import ToolClient
from tests.tools.facefusion_world import faces, seed_history, seed_preset


async def test_history_pages_newest_first_and_a_cursor_survives_new_entries(tools: ToolClient) -> None:
    w = await faces(tools.services)
    await seed_history(tools.services, w.character_id, 25)
    first = await tools.call("get_character_facefusion_history", character_id=w.character_id, limit=10)
    urls = [e["input_image_url"] for e in first["items"]]
    assert urls == [f"https://x.test/{n}.png" for n in range(24, 14, -1)] and first["total"] == 25
    await seed_history(tools.services, w.character_id, 3, start=100)  # new work arrives between pages
    second = await tools.call("get_character_facefusion_history", character_id=w.character_id, limit=10,
                              cursor=first["next_cursor"])
    third = await tools.call("get_character_facefusion_history", character_id=w.character_id, limit=10,
                             cursor=second["next_cursor"])
    rest = [e["input_image_url"] for e in second["items"] + third["items"]]
    assert rest == [f"https://x.test/{n}.png" for n in range(14, -1, -1)] and third["next_cursor"] is None
    assert second["total"] == 28
    assert (await tools.call("get_character_facefusion_history", character_id=w.character_id))["items"][0][
        "input_image_url"] == "https://x.test/102.png"
    empty = await faces(tools.services, "Empty")
    assert await tools.call("get_character_facefusion_history", character_id=empty.character_id) == {
        "items": [], "total": 0, "next_cursor": None}


async def test_gallery_items_are_removed_by_url_or_by_age(tools: ToolClient) -> None:
    gallery = FaceFusionOutputGallery(enhanced_faces=["storyboard://media/a", "storyboard://media/b"],
                                      age_variants={30: "storyboard://media/c", 60: "storyboard://media/d"})
    w = await faces(tools.services, facefusion_output_gallery=gallery)
    got = await tools.call("get_character_facefusion_gallery", character_id=w.character_id)
    assert got["age_variants"] == {"30": "storyboard://media/c", "60": "storyboard://media/d"}
    removed = await tools.call("remove_gallery_item", character_id=w.character_id, category="enhanced_faces", confirm=True,
                               url="storyboard://media/a")
    assert removed["changed"] == {"enhanced_faces": ["storyboard://media/b"]}
    assert removed["uri"] == f"storyboard://characters/{w.character_id}/facefusion"
    aged = await tools.call("remove_gallery_item", character_id=w.character_id, category="age_variants", age=30,
                            confirm=True)
    assert aged["changed"] == {"age_variants": {"60": "storyboard://media/d"}}
    c = {"character_id": w.character_id, "confirm": True}
    for arguments, expected in [
        ({"category": "enhanced_faces", "url": "storyboard://media/a"}, "[not-found] enhanced_faces item"),
        ({"category": "age_variants", "age": 30}, "[not-found] age_variants item 'age variant 30'"),
        ({"category": "age_variants", "age": 60, "url": "storyboard://media/x"}, "[not-found] age_variants item"),
        ({"category": "age_variants"}, "[invalid-argument] age: is required"),
        ({"category": "swapped_faces"}, "[invalid-argument] url: is required"),
        ({"category": "faces", "url": "storyboard://media/b"}, "[invalid-argument] category"),
        ({"category": "enhanced_faces", "url": "storyboard://media/b", "character_id": "ghost"},
         "[not-found] character 'ghost'"),
    ]:
        text = await tools.refused("remove_gallery_item", **{**c, **arguments})
        assert text.startswith(expected), (arguments, text)


async def test_preferences_default_when_unset_and_merge_partially(tools: ToolClient) -> None:
    w = await faces(tools.services)
    c = {"character_id": w.character_id}
    unset = await tools.call("get_facefusion_preferences", **c)
    assert unset["customised"] is False and unset["settings"]["enhancement_model"] == "gfpgan_1.4"
    first = await tools.call("set_facefusion_preferences", **c, settings={"face_enhancer_blend": 0.5})
    assert first["changed"] == {"face_enhancer_blend": 0.5}
    await tools.call("set_facefusion_preferences", **c, settings={"enhancement_model": "codeformer", "face_age": 33})
    got = await tools.call("get_facefusion_preferences", **c)
    assert got["customised"] is True
    assert {k: got["settings"][k] for k in ("face_enhancer_blend", "enhancement_model", "face_age")} == {
        "face_enhancer_blend": 0.5, "enhancement_model": "codeformer", "face_age": 33}
    await tools.call("set_facefusion_preferences", **c, settings={"face_enhancer_blend": None})
    assert (await tools.call("get_facefusion_preferences", **c))["settings"]["face_enhancer_blend"] == 1.0
    for settings, expected in [
        ({}, "[invalid-argument] settings: sets no field"),
        ({"glow": 1}, "[invalid-argument] settings.glow: is not a preferred setting"),
        ({"face_age": 101}, "[invalid-argument] settings.face_age"),
        ({"face_detector_model": "yunet", "face_detector_size": "320x320"}, "only supports face_detector_size"),
        ({"enhancement_model": "nope"}, "[invalid-argument] settings.enhancement_model"),
    ]:
        text = await tools.refused("set_facefusion_preferences", **c, settings=settings)
        assert text.startswith("[invalid-argument]") and expected in text, (settings, text)
    assert "Allowed values: face_editor_eyebrow_direction" in await tools.refused("set_facefusion_preferences", **c, settings={"glow": 1})
    for name in ("get_facefusion_preferences", "get_character_facefusion_gallery", "get_character_facefusion_history"):
        assert (await tools.refused(name, character_id="ghost")).startswith("[not-found] character 'ghost'")
    assert (await tools.refused("set_facefusion_preferences", character_id="ghost", settings={"face_age": 3})
            ).startswith("[not-found] character 'ghost'")


async def test_presets_are_validated_against_their_operation_type(tools: ToolClient) -> None:
    created = await tools.call("create_facefusion_preset", name="Old", operation_type="age_adjust",
                               parameters={"target_age": 70}, description="aged")
    assert created["changed"]["parameters"] == {"target_age": 70, "age_adjustment_blend": 1.0}
    pid = created["id"]
    updated = await tools.call("update_facefusion_preset", preset_id=pid, patch={"parameters": {"target_age": 80}})
    assert updated["changed"] == {"parameters": {"target_age": 80, "age_adjustment_blend": 1.0}}
    moved = await tools.call("update_facefusion_preset", preset_id=pid,
                             patch={"operation_type": "enhance", "parameters": {"face_enhancer_blend": 0.2}})
    assert moved["changed"]["operation_type"] == "enhance"
    got = await tools.call("get_facefusion_preset", preset_id=pid)
    assert (got["operation_type"], got["parameters"]["face_enhancer_blend"], got["use_count"]) == ("enhance", 0.2, 0)
    read = await tools.client.read_resource(f"storyboard://facefusion-presets/{pid}")
    assert json.loads(read.contents[0].text)["name"] == "Old"  # type: ignore[union-attr]
    theirs = await seed_preset(tools.services, "Shared", user_id="someone-else", is_public=True)
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("create_facefusion_preset", {"name": "X", "operation_type": "enhance", "parameters": {"target_age": 3}},
         "[invalid-argument] parameters"),
        ("create_facefusion_preset", {"name": "X", "operation_type": "mask", "parameters": {}},
         "[invalid-argument] operation_type"),
        ("create_facefusion_preset", {"name": "", "operation_type": "enhance", "parameters": {}},
         "[invalid-argument] name"),
        ("update_facefusion_preset", {"preset_id": pid, "patch": {"parameters": {"target_age": 3}}},
         "[invalid-argument] parameters: invalid enhance parameters"),
        ("update_facefusion_preset", {"preset_id": pid, "patch": {"operation_type": "age_adjust"}},
         "[invalid-argument] parameters: invalid age_adjust parameters: target_age"),
        ("update_facefusion_preset", {"preset_id": pid, "patch": {}}, "[invalid-argument] patch: sets no field"),
        ("update_facefusion_preset", {"preset_id": theirs, "patch": {"name": "Mine"}}, "[invalid-state]"),
        ("delete_facefusion_preset", {"preset_id": theirs, "confirm": True}, "[invalid-state]"),
        ("get_facefusion_preset", {"preset_id": "ghost"}, "[not-found] facefusion preset 'ghost'"),
        ("delete_facefusion_preset", {"preset_id": "ghost", "confirm": True}, "[not-found] facefusion preset 'ghost'"),
        ("list_facefusion_presets", {"visibility": "mine"}, "[invalid-argument] visibility"),
    ]
    for name, arguments, expected in cases:
        text = await tools.refused(name, **arguments)
        assert text.startswith(expected), (name, arguments, text)
    assert await tools.call("delete_facefusion_preset", preset_id=pid, confirm=True) == {"id": pid, "name": "Old"}
    assert (await tools.refused("get_facefusion_preset", preset_id=pid)).startswith("[not-found]")


async def test_preset_lists_show_public_private_or_all_the_user_may_see(tools: ToolClient) -> None:
    mine = (await tools.call("create_facefusion_preset", name="A mine", operation_type="enhance", parameters={}))["id"]
    shared = (await tools.call("create_facefusion_preset", name="B shared", operation_type="swap",
                               parameters={"source_face_url": "storyboard://media/s",
                                           "target_image_url": "storyboard://media/t"}, is_public=True))["id"]
    theirs_public = await seed_preset(tools.services, "C theirs", user_id="u2", is_public=True)
    await seed_preset(tools.services, "D hidden", user_id="u2")

    async def names(**arguments: Any) -> list[str]:
        return [p["id"] for p in (await tools.call("list_facefusion_presets", **arguments))["items"]]

    assert await names() == [mine, shared, theirs_public]
    assert await names(visibility="public") == [shared, theirs_public]
    assert await names(visibility="private") == [mine]
    assert await names(operation_type="swap") == [shared]
    assert await names(operation_type="enhance", visibility="public") == [theirs_public]
    hidden = await tools.services.facefusion.presets.repo.find_by_name("D hidden", "u2")
    assert hidden is not None
    assert (await tools.refused("get_facefusion_preset", preset_id=hidden.id)).startswith("[not-found]")


async def test_the_character_facefusion_resource_shows_preferences_gallery_and_recent_history(
    tools: ToolClient,
) -> None:
    w = await faces(tools.services)
    await seed_history(tools.services, w.character_id, 12)
    await tools.call("set_facefusion_preferences", character_id=w.character_id, settings={"face_age": 44})
    read = await tools.client.read_resource(f"storyboard://characters/{w.character_id}/facefusion")
    data = json.loads(read.contents[0].text)  # type: ignore[union-attr]
    assert data["preferences"]["settings"]["face_age"] == 44 and data["history_total"] == 12
    assert [e["input_image_url"] for e in data["recent_history"]] == [f"https://x.test/{n}.png"
                                                                      for n in range(11, 1, -1)]
    assert data["gallery"]["enhanced_faces"] == []


async def test_parallel_preference_changes_all_land_and_each_returns_what_was_stored(tools: ToolClient) -> None:
    w = await faces(tools.services)
    changes = [{"face_age": 30}, {"face_enhancer_blend": 0.25}, {"enhancement_model": "codeformer"},
               {"face_swapper_model": "simswap_256"}, {"face_selector_mode": "many"}, {"face_editor_head_yaw": 7},
               {"age_adjustment_blend": 0.75}, {"face_selector_order": "top-bottom"}]
    results: list[dict[str, Any]] = []

    async def change(settings: dict[str, Any]) -> None:
        results.append(await tools.call("set_facefusion_preferences", character_id=w.character_id, settings=settings))

    async with anyio.create_task_group() as group:
        for settings in changes:
            group.start_soon(change, settings)
    stored = (await tools.call("get_facefusion_preferences", character_id=w.character_id))["settings"]
    assert {k: stored[k] for c in changes for k in c} == {k: v for c in changes for k, v in c.items()}
    assert sorted(json.dumps(r["changed"]) for r in results) == sorted(json.dumps(c) for c in changes)


async def test_parallel_uses_of_a_preset_are_all_counted(tools: ToolClient) -> None:
    w = await faces(tools.services)
    preset = (await tools.call("create_facefusion_preset", name="P", operation_type="enhance", parameters={}))["id"]
    async with tools.watch([f"storyboard://facefusion-presets/{preset}"]) as next_update:
        async with anyio.create_task_group() as group:
            for _ in range(8):
                group.start_soon(lambda: tools.call("enhance_face", image=w.image, preset_id=preset))
        with anyio.fail_after(10):
            assert await next_update() == f"storyboard://facefusion-presets/{preset}"
    assert (await tools.call("get_facefusion_preset", preset_id=preset))["use_count"] == 8
    assert await tools.services.database.collection("facefusion_jobs").count_documents({}) == 8


async def test_preference_and_gallery_writes_notify_the_character_resources(tools: ToolClient) -> None:
    w = await faces(tools.services, facefusion_output_gallery=FaceFusionOutputGallery(enhanced_faces=["a.png"]))
    uris = [f"storyboard://characters/{w.character_id}/facefusion", f"storyboard://characters/{w.character_id}"]
    async with tools.watch(uris) as next_update:
        await tools.call("set_facefusion_preferences", character_id=w.character_id, settings={"face_age": 20})
        with anyio.fail_after(10):
            assert {await next_update(), await next_update()} == set(uris)
        await tools.call("remove_gallery_item", character_id=w.character_id, category="enhanced_faces", url="a.png",
                         confirm=True)
        with anyio.fail_after(10):
            assert {await next_update(), await next_update()} == set(uris)
