"""Style template tools through a real MCP client: scopes, listing by use, applying (counted once per clip),
deletes that clear references, composed prompts, bad inputs that write nothing, completions."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp.types import PromptReference, ResourceTemplateReference

from mcp_storyboard.models import Character
from tests.seed import seed_clip, seed_project, seed_template
from tests.tools.conftest import ToolClient, allowed_in, patch_fields

INJECTION = {"$ne": None}


async def test_create_project_and_library_templates_then_get_them(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    own = await tools.call("create_style_template", project_id=pid, name="Noir", prompt_additions="film noir",
                     negative_prompt="blurry", style_strength=0.7)
    library = await tools.call("create_style_template", name="Noir")
    assert own["changed"] == {"name": "Noir", "prompt_additions": "film noir", "negative_prompt": "blurry",
                              "style_strength": 0.7}
    own, library = [await tools.call("get_style_template", template_id=t["id"]) for t in (own, library)]
    assert (own["project_id"], own["style_strength"], own["use_count"], library["project_id"]) == (pid, 0.7, 0, None)
    assert (own["name"], own["prompt_additions"], own["negative_prompt"]) == ("Noir", "film noir", "blurry")
    text = await tools.refused("create_style_template", name="NOIR")
    assert text.startswith("[duplicate] name 'Noir' is taken: the template library") and library["id"] in text


async def test_an_empty_update_lists_as_allowed_exactly_the_fields_the_tool_accepts(tools: ToolClient) -> None:
    tid = await seed_template(tools.services, None, "Noir")
    text = await tools.refused("update_style_template", template_id=tid, patch={})
    listed = {t.name: t for t in (await tools.client.list_tools()).tools}
    assert allowed_in(text) == patch_fields(listed["update_style_template"].input_schema)


async def test_list_style_templates_is_most_used_first_with_scope_filters(tools: ToolClient) -> None:
    pid, other = await seed_project(tools.services), await seed_project(tools.services, "Other")
    await seed_template(tools.services, pid, "p-low", 1)
    await seed_template(tools.services, None, "lib-high", 9)
    await seed_template(tools.services, pid, "p-high", 5)
    await seed_template(tools.services, None, "lib-low", 0)
    await seed_template(tools.services, other, "foreign", 50)

    async def names(**arguments: Any) -> list[str]:
        return [t["name"] for t in (await tools.call("list_style_templates", **arguments))["items"]]

    assert await names(project_id=pid) == ["lib-high", "p-high", "p-low", "lib-low"]
    assert await names(project_id=pid, scope="project") == ["p-high", "p-low"]
    assert await names(project_id=pid, scope="library") == await names() == ["lib-high", "lib-low"]
    first = await tools.call("list_style_templates", project_id=pid, limit=3)
    rest = await tools.call("list_style_templates", project_id=pid, limit=3, cursor=first["next_cursor"])
    assert [t["name"] for t in rest["items"]] == ["lib-low"] and rest["next_cursor"] is None
    assert (await tools.refused("list_style_templates", scope="project")).startswith(
        "[invalid-argument] project_id: is required when scope is project"
    )


async def test_update_style_template_patches_and_refuses_an_empty_patch(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    tid = await seed_template(tools.services, pid, "Noir", negative_prompt="blurry")
    written = await tools.call("update_style_template", template_id=tid, patch={"style_strength": 0.3})
    assert (written["id"], written["changed"]) == (tid, {"style_strength": 0.3})
    updated = await tools.call("get_style_template", template_id=tid)
    assert (updated["style_strength"], updated["negative_prompt"]) == (0.3, "blurry")
    assert (await tools.refused("update_style_template", template_id=tid, patch={})).startswith(
        "[invalid-argument] patch:"
    )


async def test_apply_style_template_counts_once_per_clip_and_is_idempotent(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    tid = await seed_template(tools.services, None, "Library")
    shot = await seed_clip(tools.services, pid, image_prompt="castle")
    first = await tools.call("apply_style_template", clip_id=shot.id, template_id=tid)
    again = await tools.call("apply_style_template", clip_id=shot.id, template_id=tid)
    assert (first["applied"], first["use_count"], again["applied"], again["use_count"]) == (True, 1, False, 1)
    stored = await tools.services.repositories.clips.get(shot.id)
    assert (stored.style_template_id, stored.image_prompt) == (tid, "castle")


async def test_concurrent_apply_calls_increment_use_count_exactly(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    tid = await seed_template(tools.services, pid, "Shared")
    shots = [await seed_clip(tools.services, pid, f"S{i}") for i in range(6)]
    applied: list[bool] = []

    async def apply(clip_id: str) -> None:
        applied.append((await tools.call("apply_style_template", clip_id=clip_id, template_id=tid))["applied"])

    async with anyio.create_task_group() as group:
        for shot in shots + shots[:2]:
            group.start_soon(apply, shot.id)
    assert (await tools.call("get_style_template", template_id=tid))["use_count"] == 6
    assert sorted(applied) == [False, False] + [True] * 6


async def test_apply_style_template_refuses_another_projects_template(tools: ToolClient) -> None:
    pid, other = await seed_project(tools.services), await seed_project(tools.services, "Other")
    mine = await seed_template(tools.services, pid, "Mine")
    foreign = await seed_template(tools.services, other, "Foreign")
    shot = await seed_clip(tools.services, pid)
    text = await tools.refused("apply_style_template", clip_id=shot.id, template_id=foreign)
    assert text.startswith("[invalid-argument] template_id: style template 'Foreign' belongs to project")
    assert f"Mine ({mine})" in text


async def test_delete_style_template_needs_confirm_when_used_then_clears_references(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    tid = await seed_template(tools.services, pid, "Gone")
    shot = await seed_clip(tools.services, pid, style_template_id=tid)
    text = await tools.refused("delete_style_template", template_id=tid)
    assert text.startswith("[confirmation-required] delete_style_template") and "confirm: true" in text
    deletion = await tools.call("delete_style_template", template_id=tid, confirm=True)
    assert (deletion["clips_cleared"], deletion["cleared_clip_ids"]) == (1, [shot.id])
    assert (await tools.services.repositories.clips.get(shot.id)).style_template_id is None


async def test_compose_clip_prompt_returns_exact_prompts_parts_and_loras(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    hero = await tools.services.repositories.characters.insert(Character(
        project_id=pid, name="Alice", description="a knight", trigger_words="alc1", style_notes="painterly",
        lora="alice_v2:0.8",
    ))  # fmt: skip
    tid = await seed_template(tools.services, pid, "Noir", prompt_additions="film noir", negative_prompt="blurry, text",
                         style_strength=0.5)
    shot = await seed_clip(tools.services, pid, image_prompt="castle at dawn", video_prompt="slow push in")
    await tools.call("assign_character", clip_id=shot.id, character_id=hero.id)
    await tools.call("apply_style_template", clip_id=shot.id, template_id=tid)
    before = await tools.snapshot()
    composed = await tools.call("compose_clip_prompt", clip_id=shot.id, base_negative_prompt="Text, watermark")
    prefix = "alc1 Alice, a knight. Style: painterly."
    assert composed["image"]["positive"] == f"{prefix} castle at dawn, (film noir:0.5) <lora:alice_v2:0.8>"
    assert composed["video"]["positive"] == f"{prefix} slow push in, (film noir:0.5) <lora:alice_v2:0.8>"
    assert composed["image"]["negative"] == "Text, watermark, blurry"
    assert composed["image"]["loras"] == [{"name": "alice_v2", "weight": 0.8, "tag": "<lora:alice_v2:0.8>",
                                           "in_positive": True, "character_id": hero.id}]
    assert [(p["source"], p["text"]) for p in composed["image"]["parts"] if p["target"] == "positive"] == [
        ("character", prefix), ("clip", "castle at dawn"), ("style_template", "(film noir:0.5)"),
        ("character", "<lora:alice_v2:0.8>"),
    ]  # fmt: skip
    assert await tools.snapshot() == before
    stored = await tools.services.repositories.clips.get(shot.id)
    assert (stored.image_prompt, stored.video_prompt) == ("castle at dawn", "slow push in")


BAD_INPUTS: list[tuple[str, dict[str, Any], str]] = [
    ("create_style_template", {"name": INJECTION}, "name"),
    ("create_style_template", {"name": "T", "project_id": INJECTION}, "project_id"),
    ("create_style_template", {"name": "T", "style_strength": 1.5}, "style_strength"),
    ("create_style_template", {"name": "T", "style_strength": -0.1}, "style_strength"),
    ("create_style_template", {"name": "T", "style_strength": "strong"}, "style_strength"),
    ("create_style_template", {"name": "T", "prompt_additions": "x" * 5001}, "prompt_additions"),
    ("create_style_template", {"name": "T", "negative_prompt": INJECTION}, "negative_prompt"),
    ("create_style_template", {"name": ""}, "name"),
    ("get_style_template", {"template_id": INJECTION}, "template_id"),
    ("get_style_template", {"template_id": "a/b"}, "template_id"),
    ("list_style_templates", {"project_id": INJECTION}, "project_id"),
    ("list_style_templates", {"scope": "everything"}, "scope"),
    ("list_style_templates", {"limit": 1000}, "limit"),
    ("list_style_templates", {"cursor": "not-a-cursor"}, "cursor"),
    ("update_style_template", {"template_id": "T", "patch": {"style_strength": 1.5}}, "patch.style_strength"),
    ("update_style_template", {"template_id": "T", "patch": {"use_count": 99}}, "patch.use_count"),
    ("update_style_template", {"template_id": "T", "patch": {"project_id": "P"}}, "patch.project_id"),
    ("update_style_template", {"template_id": INJECTION, "patch": {"name": "X"}}, "template_id"),
    ("delete_style_template", {"template_id": INJECTION}, "template_id"),
    ("delete_style_template", {"template_id": "T", "confirm": 1}, "confirm"),
    ("apply_style_template", {"clip_id": INJECTION, "template_id": "T"}, "clip_id"),
    ("apply_style_template", {"clip_id": "K", "template_id": INJECTION}, "template_id"),
    ("apply_style_template", {"clip_id": "K"}, "template_id"),
    ("compose_clip_prompt", {"clip_id": INJECTION}, "clip_id"),
    ("compose_clip_prompt", {"clip_id": "K", "base_negative_prompt": ["a"]}, "base_negative_prompt"),
]


@pytest.mark.parametrize(("tool", "arguments", "field"), BAD_INPUTS, ids=[f"{t}-{f}" for t, _, f in BAD_INPUTS])
async def test_bad_inputs_are_refused_naming_the_field_and_write_nothing(
    tools: ToolClient, tool: str, arguments: dict[str, Any], field: str
) -> None:
    pid = await seed_project(tools.services)
    tid = await seed_template(tools.services, pid, "Existing")
    shot = await seed_clip(tools.services, pid)
    known = {"P": pid, "T": tid, "K": shot.id}
    arguments = {k: known.get(v, v) if isinstance(v, str) else v for k, v in arguments.items()}
    text = await tools.refused(tool, **arguments)
    assert text.startswith("[invalid-argument]") and field in text, text


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        ("create_style_template", {"name": "T", "project_id": "ghost"}, "[not-found] project 'ghost'"),
        ("get_style_template", {"template_id": "ghost"}, "[not-found] style template 'ghost'"),
        ("list_style_templates", {"project_id": "ghost"}, "[not-found] project 'ghost'"),
        ("update_style_template", {"template_id": "ghost", "patch": {"name": "X"}}, "[not-found] style template"),
        ("delete_style_template", {"template_id": "ghost", "confirm": True}, "[not-found] style template 'ghost'"),
        ("apply_style_template", {"clip_id": "ghost", "template_id": "ghost"}, "[not-found] clip 'ghost'"),
        ("apply_style_template", {"clip_id": "K", "template_id": "ghost"}, "[not-found] style template 'ghost'"),
        ("compose_clip_prompt", {"clip_id": "ghost"}, "[not-found] clip 'ghost'"),
    ],
)
async def test_unknown_ids_are_refused_as_not_found(
    tools: ToolClient, tool: str, arguments: dict[str, Any], expected: str
) -> None:
    shot = await seed_clip(tools.services, await seed_project(tools.services))
    arguments = {k: (shot.id if v == "K" else v) for k, v in arguments.items()}
    assert (await tools.refused(tool, **arguments)).startswith(expected)


async def test_template_names_and_ids_complete_for_a_project_and_the_library(tools: ToolClient) -> None:
    pid, other = await seed_project(tools.services), await seed_project(tools.services, "Other")
    own = await seed_template(tools.services, pid, "Noir", 1)
    lib = await seed_template(tools.services, None, "Neon", 3)
    await seed_template(tools.services, other, "Nope")
    names = await tools.client.complete(PromptReference(name="write_clip_prompts"),
                                        {"name": "template_name", "value": "n"}, {"project_id": pid})
    assert names.completion.values == ["Neon", "Noir"]
    ids = await tools.client.complete(PromptReference(name="write_clip_prompts"),
                                      {"name": "template_id", "value": "NO"}, {"project_id": pid})
    assert ids.completion.values == [own]
    by_template = await tools.client.complete(
        ResourceTemplateReference(uri="storyboard://style-templates/{template_id}"),
        {"name": "template_id", "value": lib[:8]},
    )
    assert by_template.completion.values == [lib]


async def test_style_tools_declare_their_annotations(tools: ToolClient) -> None:
    listed = {t.name: t for t in (await tools.client.list_tools()).tools}
    assert listed["apply_style_template"].annotations.idempotent_hint is True
    assert listed["compose_clip_prompt"].annotations.read_only_hint is True
    assert listed["delete_style_template"].annotations.destructive_hint is True
    strength = listed["create_style_template"].input_schema["properties"]["style_strength"]
    assert (strength["minimum"], strength["maximum"]) == (0.0, 1.0)
