"""Character tools through a real MCP client: results, coded errors naming the field, nothing written on failure,
idempotent assignment, deletes that clear references, completions and notifications."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp.types import PromptReference, ResourceTemplateReference

from tests.seed import seed_clip, seed_project
from tests.tools.conftest import ToolClient, allowed_in, patch_fields

INJECTION = {"$ne": None}


async def test_create_then_get_returns_the_character_with_its_facefusion_fields(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    created = await tools.call(
        "create_character", project_id=pid, name=" Alice ", description="a knight",
        reference_images=["https://x.test/a.png", "storyboard://media/m1"], lora="alice:0.8", trigger_words="alc1",
        style_notes="painterly",
    )  # fmt: skip
    assert created["uri"] == f"storyboard://characters/{created['id']}"
    assert created["changed"] == {"name": "Alice", "description": "a knight", "lora": "alice:0.8",
                                  "reference_images": ["https://x.test/a.png", "storyboard://media/m1"],
                                  "trigger_words": "alc1", "style_notes": "painterly"}
    assert "facefusion_history_count" not in created
    got = await tools.call("get_character", character_id=created["id"])
    assert (got["name"], got["lora"], got["clip_count"]) == ("Alice", "alice:0.8", 0)
    assert (got["description"], got["trigger_words"], got["style_notes"]) == ("a knight", "alc1", "painterly")
    assert got["reference_images"] == ["https://x.test/a.png", "storyboard://media/m1"]
    assert got["facefusion_history_count"] == 0 and got["facefusion_settings_customised"] is False
    assert got["facefusion_preferred_settings"]["enhancement_model"] == "gfpgan_1.4"
    assert got["facefusion_output_gallery"]["age_variants"] == {}
    listed = (await tools.call("list_characters", project_id=pid))["items"][0]
    assert {k: got[k] for k in listed} == listed


async def test_create_character_refuses_a_duplicate_name_naming_the_field(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    first = await tools.call("create_character", project_id=pid, name="Alice")
    text = await tools.refused("create_character", project_id=pid, name="aLiCe")
    assert text.startswith("[duplicate] name 'Alice' is taken") and first["id"] in text


async def test_list_characters_is_by_name_filtered_and_paged(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    for name in ("Cleo", "Bob", "Ada"):
        await tools.call("create_character", project_id=pid, name=name)
    first = await tools.call("list_characters", project_id=pid, limit=2)
    rest = await tools.call("list_characters", project_id=pid, limit=2, cursor=first["next_cursor"])
    assert [c["name"] for c in first["items"] + rest["items"]] == ["Ada", "Bob", "Cleo"]
    assert rest["next_cursor"] is None and "facefusion_history_count" not in first["items"][0]
    found = await tools.call("list_characters", project_id=pid, name_contains="LE")
    assert [c["name"] for c in found["items"]] == ["Cleo"]


async def test_update_character_patches_and_null_clears(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    created = await tools.call("create_character", project_id=pid, name="Alice", lora="alice", style_notes="ink")
    written = await tools.call("update_character", character_id=created["id"],
                               patch={"lora": None, "description": "taller"})
    assert (written["id"], written["changed"]) == (created["id"], {"description": "taller", "lora": None})
    updated = await tools.call("get_character", character_id=created["id"])
    assert (updated["lora"], updated["description"], updated["style_notes"]) == (None, "taller", "ink")


async def test_update_character_refuses_empty_null_name_facefusion_fields_and_a_taken_name(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    cid = (await tools.call("create_character", project_id=pid, name="Alice"))["id"]
    await tools.call("create_character", project_id=pid, name="Bob")
    assert (await tools.refused("update_character", character_id=cid, patch={})).startswith(
        "[invalid-argument] patch:"
    )
    assert "patch.name" in await tools.refused("update_character", character_id=cid, patch={"name": None})
    assert "patch.facefusion_preferred_settings" in await tools.refused(
        "update_character", character_id=cid, patch={"facefusion_preferred_settings": None}
    )
    assert (await tools.refused("update_character", character_id=cid, patch={"name": "BOB"})).startswith(
        "[duplicate] name 'Bob'"
    )


async def test_an_empty_update_lists_as_allowed_exactly_the_fields_the_tool_accepts(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    cid = (await tools.call("create_character", project_id=pid, name="Alice"))["id"]
    text = await tools.refused("update_character", character_id=cid, patch={})
    listed = {t.name: t for t in (await tools.client.list_tools()).tools}
    assert allowed_in(text) == patch_fields(listed["update_character"].input_schema)
    assert "facefusion_preferred_settings" not in text


async def test_a_rename_to_a_name_taken_ignoring_case_writes_none_of_the_patch(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    await tools.call("create_character", project_id=pid, name="Straße")
    cid = (await tools.call("create_character", project_id=pid, name="Bob", lora="bob"))["id"]
    text = await tools.refused("update_character", character_id=cid, patch={"name": "STRASSE", "lora": None})
    assert text.startswith("[duplicate] name 'Straße' is taken: project") and "ignoring case" in text


async def test_assign_character_is_idempotent_and_never_edits_prompts(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    cid = (await tools.call("create_character", project_id=pid, name="Alice", trigger_words="alc1"))["id"]
    shot = await seed_clip(tools.services, pid, image_prompt="castle", video_prompt="pan")
    first = await tools.call("assign_character", clip_id=shot.id, character_id=cid)
    second = await tools.call("assign_character", clip_id=shot.id, character_id=cid)
    assert (first["changed"], second["changed"], second["character_name"]) == (True, False, "Alice")
    stored = await tools.services.repositories.clips.get(shot.id)
    assert (stored.character_id, stored.image_prompt, stored.video_prompt) == (cid, "castle", "pan")
    assert (await tools.call("get_character", character_id=cid))["clip_count"] == 1
    removed = await tools.call("assign_character", clip_id=shot.id, character_id=None)
    assert (removed["character_id"], removed["previous_character_id"]) == (None, cid)
    assert (await tools.services.repositories.clips.get(shot.id)).character_id is None


async def test_assign_character_refuses_a_character_of_another_project(tools: ToolClient) -> None:
    pid, other = await seed_project(tools.services), await seed_project(tools.services, "Other")
    mine = (await tools.call("create_character", project_id=pid, name="Alice"))["id"]
    theirs = (await tools.call("create_character", project_id=other, name="Zed"))["id"]
    shot = await seed_clip(tools.services, pid)
    text = await tools.refused("assign_character", clip_id=shot.id, character_id=theirs)
    assert text.startswith("[invalid-argument] character_id: character 'Zed' belongs to project")
    assert f"Alice ({mine})" in text


async def test_delete_character_needs_confirm_when_used_then_clears_only_references(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    cid = (await tools.call("create_character", project_id=pid, name="Alice"))["id"]
    shots = [await seed_clip(tools.services, pid, f"S{i}", character_id=cid, image_prompt="keep") for i in range(2)]
    text = await tools.refused("delete_character", character_id=cid)
    assert text.startswith("[confirmation-required] delete_character") and "confirm: true" in text
    assert "confirm" in await tools.refused("delete_character", character_id=cid, confirm="yes")
    deletion = await tools.call("delete_character", character_id=cid, confirm=True)
    assert deletion["clips_cleared"] == 2 and sorted(deletion["cleared_clip_ids"]) == sorted(s.id for s in shots)
    for shot in shots:
        stored = await tools.services.repositories.clips.get(shot.id)
        assert (stored.character_id, stored.image_prompt) == (None, "keep")
    assert (await tools.refused("get_character", character_id=cid)).startswith(f"[not-found] character '{cid}'")


BAD_INPUTS: list[tuple[str, dict[str, Any], str]] = [
    ("create_character", {"project_id": INJECTION, "name": "A"}, "project_id"),
    ("create_character", {"project_id": "P", "name": INJECTION}, "name"),
    ("create_character", {"project_id": "P", "name": ""}, "name"),
    ("create_character", {"project_id": "P", "name": "A" * 201}, "name"),
    ("create_character", {"project_id": "P", "name": "A", "reference_images": ["file:///etc/passwd"]},
     "reference_images"),
    ("create_character", {"project_id": "P", "name": "A", "reference_images": "https://x.test/a.png"},
     "reference_images"),
    ("create_character", {"project_id": "P", "name": "A", "lora": "x" * 201}, "lora"),
    ("create_character", {"project_id": "P", "name": "A", "trigger_words": 12}, "trigger_words"),
    ("create_character", {"project_id": "P", "name": "A", "style_notes": INJECTION}, "style_notes"),
    ("create_character", {"project_id": "$where", "name": "A"}, "project_id"),
    ("get_character", {"character_id": INJECTION}, "character_id"),
    ("get_character", {"character_id": 42}, "character_id"),
    ("list_characters", {"project_id": INJECTION}, "project_id"),
    ("list_characters", {"project_id": "P", "limit": 0}, "limit"),
    ("list_characters", {"project_id": "P", "limit": 101}, "limit"),
    ("list_characters", {"project_id": "P", "name_contains": INJECTION}, "name_contains"),
    ("update_character", {"character_id": INJECTION, "patch": {"name": "B"}}, "character_id"),
    ("update_character", {"character_id": "C", "patch": {"name": INJECTION}}, "patch.name"),
    ("update_character", {"character_id": "C", "patch": "name=B"}, "patch"),
    ("update_character", {"character_id": "C", "patch": {"reference_images": [INJECTION]}}, "reference_images"),
    ("delete_character", {"character_id": INJECTION}, "character_id"),
    ("delete_character", {"character_id": "C", "confirm": "true"}, "confirm"),
    ("assign_character", {"clip_id": INJECTION, "character_id": "C"}, "clip_id"),
    ("assign_character", {"clip_id": "K", "character_id": INJECTION}, "character_id"),
    ("assign_character", {"clip_id": "K"}, "character_id"),
]


@pytest.mark.parametrize(("tool", "arguments", "field"), BAD_INPUTS, ids=[f"{t}-{f}" for t, _, f in BAD_INPUTS])
async def test_bad_inputs_are_refused_naming_the_field_and_write_nothing(
    tools: ToolClient, tool: str, arguments: dict[str, Any], field: str
) -> None:
    pid = await seed_project(tools.services)
    arguments = {k: (pid if v == "P" else v) for k, v in arguments.items()}
    text = await tools.refused(tool, **arguments)
    assert text.startswith("[invalid-argument]") and field in text, text


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        ("create_character", {"project_id": "ghost", "name": "A"}, "[not-found] project 'ghost'"),
        ("get_character", {"character_id": "ghost"}, "[not-found] character 'ghost'"),
        ("list_characters", {"project_id": "ghost"}, "[not-found] project 'ghost'"),
        ("update_character", {"character_id": "ghost", "patch": {"name": "B"}}, "[not-found] character 'ghost'"),
        ("delete_character", {"character_id": "ghost", "confirm": True}, "[not-found] character 'ghost'"),
        ("assign_character", {"clip_id": "ghost", "character_id": None}, "[not-found] clip 'ghost'"),
        ("assign_character", {"clip_id": "K", "character_id": "ghost"}, "[not-found] character 'ghost'"),
    ],
)
async def test_unknown_ids_are_refused_as_not_found(
    tools: ToolClient, tool: str, arguments: dict[str, Any], expected: str
) -> None:
    shot = await seed_clip(tools.services, await seed_project(tools.services))
    arguments = {k: (shot.id if v == "K" else v) for k, v in arguments.items()}
    assert (await tools.refused(tool, **arguments)).startswith(expected)


async def test_character_names_and_ids_complete_within_the_project(tools: ToolClient) -> None:
    pid, other = await seed_project(tools.services), await seed_project(tools.services, "Other")
    alice = (await tools.call("create_character", project_id=pid, name="Alice"))["id"]
    await tools.call("create_character", project_id=pid, name="Bob")
    await tools.call("create_character", project_id=other, name="Alfred")
    names = await tools.client.complete(PromptReference(name="review_continuity"),
                                        {"name": "character_name", "value": "al"}, {"project_id": pid})
    assert names.completion.values == ["Alice"]
    ids = await tools.client.complete(PromptReference(name="review_continuity"),
                                      {"name": "character_id", "value": "AL"}, {"project_id": pid})
    assert ids.completion.values == [alice]
    by_template = await tools.client.complete(ResourceTemplateReference(uri="storyboard://characters/{character_id}"),
                                              {"name": "character_id", "value": alice[:8]})
    assert by_template.completion.values == [alice]


async def test_assigning_notifies_the_clip_and_project_resources(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    cid = (await tools.call("create_character", project_id=pid, name="Alice"))["id"]
    shot = await seed_clip(tools.services, pid)
    uris = [f"storyboard://clips/{shot.id}", f"storyboard://projects/{pid}"]
    async with tools.watch(uris) as next_update:
        await tools.call("assign_character", clip_id=shot.id, character_id=cid)
        with anyio.fail_after(5):
            events = [await next_update() for _ in uris]
    assert sorted(events) == sorted(uris)


async def test_assign_character_is_declared_idempotent_and_delete_destructive(tools: ToolClient) -> None:
    listed = {t.name: t for t in (await tools.client.list_tools()).tools}
    assert listed["assign_character"].annotations.idempotent_hint is True
    assert listed["delete_character"].annotations.destructive_hint is True
    assert listed["get_character"].annotations.read_only_hint is True
    assert listed["assign_character"].input_schema["required"] == ["clip_id", "character_id"]
