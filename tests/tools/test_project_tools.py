"""Project tools through a real MCP client: results, coded errors, nothing written on failure, completions."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp.types import PromptReference, ResourceTemplateReference

from mcp_storyboard.models import Clip, Scene, StyleTemplate
from tests.tools.conftest import ToolClient

INJECTION = {"$ne": None}
TOOLS = ("create_project", "get_project", "list_projects", "update_project", "delete_project", "get_project_tree")


async def project_with_contents(tools: ToolClient, name: str = "Night Drive") -> tuple[str, Scene]:
    project = await tools.call("create_project", name=name)
    repos = tools.services.repositories
    scene = await repos.scenes.insert(Scene(project_id=project["id"], name="Intro"))
    await repos.clips.insert(
        Clip(project_id=project["id"], scene_id=scene.id, name="Road", duration=4, image_prompt="road")
    )
    return project["id"], scene


async def test_create_then_get_returns_the_project(tools: ToolClient) -> None:
    created = await tools.call("create_project", name="  Night Drive ", description="neon", music_duration=180.5)
    assert created == {"id": created["id"], "uri": f"storyboard://projects/{created['id']}",
                       "changed": {"name": "Night Drive", "description": "neon", "music_duration": 180.5}}
    got = await tools.call("get_project", project_id=created["id"])
    assert (got["id"], got["name"], got["description"], got["music_duration"]) == (
        created["id"], "Night Drive", "neon", 180.5)


async def test_list_projects_is_newest_first_searchable_and_paged(tools: ToolClient) -> None:
    for name in ("Alpha", "Beta night", "Gamma Night", "Delta"):
        await tools.call("create_project", name=name)
    first = await tools.call("list_projects", limit=3)
    rest = await tools.call("list_projects", limit=3, cursor=first["next_cursor"])
    assert len(first["items"]) == 3 and len(rest["items"]) == 1 and rest["next_cursor"] is None
    names = {p["name"] for p in first["items"] + rest["items"]}
    assert names == {"Alpha", "Beta night", "Gamma Night", "Delta"}
    found = await tools.call("list_projects", name_contains="NIGHT")
    assert sorted(p["name"] for p in found["items"]) == ["Beta night", "Gamma Night"]
    assert (await tools.call("list_projects", name_contains="^.*$"))["items"] == []


async def test_update_project_patches_and_null_clears_an_optional_field(tools: ToolClient) -> None:
    created = await tools.call("create_project", name="P", thumbnail_url="https://x.test/t.png", music_duration=10)
    written = await tools.call(
        "update_project", project_id=created["id"], patch={"description": "new", "thumbnail_url": None}
    )
    assert written["changed"] == {"description": "new", "thumbnail_url": None}
    updated = await tools.call("get_project", project_id=created["id"])
    assert (updated["name"], updated["description"], updated["thumbnail_url"], updated["music_duration"]) == (
        "P",
        "new",
        None,
        10,
    )


async def test_update_project_refuses_an_empty_patch_a_null_name_and_unknown_fields(tools: ToolClient) -> None:
    pid = (await tools.call("create_project", name="P"))["id"]
    assert (await tools.refused("update_project", project_id=pid, patch={})).startswith("[invalid-argument] patch:")
    assert "patch.name" in await tools.refused("update_project", project_id=pid, patch={"name": None})
    assert "patch.owner_id" in await tools.refused("update_project", project_id=pid, patch={"owner_id": "me"})
    assert "[not-found] project 'ghost'" in await tools.refused(
        "update_project", project_id="ghost", patch={"name": "X"}
    )


async def test_delete_project_needs_confirm(tools: ToolClient) -> None:
    """(What it would delete is in the service's refusal: tests/services/test_projects_service.py.)"""
    pid, _ = await project_with_contents(tools)
    text = await tools.refused("delete_project", project_id=pid)
    assert text.startswith("[confirmation-required] delete_project") and "confirm: true" in text
    assert "confirm" in await tools.refused("delete_project", project_id=pid, confirm="yes")


async def test_delete_project_with_confirm_removes_it_and_everything_under_it(tools: ToolClient) -> None:
    pid, _ = await project_with_contents(tools)
    other, _ = await project_with_contents(tools, "Other")
    library = await tools.services.repositories.style_templates.insert(StyleTemplate(name="Library"))
    await tools.services.database.media.put(b"x", content_type="image/png", project_id=pid)
    result = await tools.call("delete_project", project_id=pid, confirm=True)
    assert result["deleted"]["scenes"] == 1 and result["deleted"]["clips"] == 1 and result["deleted"]["media"] == 1
    assert "[not-found]" in await tools.error("get_project", project_id=pid)
    left = await tools.snapshot()
    assert all(d.get("project_id") != pid for docs in left.values() for d in docs)
    assert [d["id"] for d in left["style_templates"]] == [library.id]
    assert (await tools.call("get_project_tree", project_id=other))["clip_count"] == 1


async def test_get_project_tree_nests_scenes_and_summarises_clips(tools: ToolClient) -> None:
    pid, intro = await project_with_contents(tools)
    await tools.services.repositories.scenes.insert(Scene(project_id=pid, name="Close", parent_scene_id=intro.id))
    tree = await tools.call("get_project_tree", project_id=pid)
    node = tree["scenes"][0]
    assert (node["name"], node["offset"], node["duration"], node["sub_scenes"][0]["name"]) == (
        "Intro",
        0.0,
        4.0,
        "Close",
    )
    assert node["clips"][0]["has_image_prompt"] is True and "has_video_prompt" not in node["clips"][0]
    only = await tools.call("get_project_tree", project_id=pid, scene_id=intro.id, include_clips=False)
    assert only["root_scene_id"] == intro.id and only["scenes"][0]["clips"] == []
    assert only["scenes"][0]["clips_omitted"] == 1


async def test_a_huge_tree_is_refused_with_the_ways_to_narrow_it(tools: ToolClient) -> None:
    pid = (await tools.call("create_project", name="Epic"))["id"]
    repos = tools.services.repositories
    scenes = [Scene(project_id=pid, name=f"S{i}", order=i) for i in range(20)]
    await repos.scenes.insert_many(scenes)
    await repos.clips.insert_many([
        Clip(project_id=pid, scene_id=s.id, name=f"clip {j} " + "x" * 150, order=j, timeline_position=j * 5,
             image_prompt="x", video_prompt="y", character_id=f"character-{j:032d}")
        for s in scenes for j in range(60)
    ])  # fmt: skip
    text = await tools.error("get_project_tree", project_id=pid)
    assert text.startswith("[too-large]")
    assert "max_clips_per_scene=" in text and "include_clips=false" in text and "scene_id=" in text
    fit = int(text.split("max_clips_per_scene=")[1].split(",")[0])
    tree = await tools.call("get_project_tree", project_id=pid, max_clips_per_scene=fit)
    assert tree["clip_count"] == 1200 and tree["scenes"][0]["clips_omitted"] == 60 - fit


@pytest.mark.parametrize("tool", ["get_project", "get_project_tree", "delete_project"])
async def test_unknown_and_malformed_project_ids_are_refused(tools: ToolClient, tool: str) -> None:
    await tools.call("create_project", name="Existing")
    extra = {"confirm": True} if tool == "delete_project" else {}
    text = await tools.refused(tool, project_id="ghost", **extra)
    assert text.startswith("[not-found] project 'ghost' does not exist") and "Existing" in text
    for bad in (INJECTION, 42, "", "a/b", "$where", "x" * 65):
        text = await tools.refused(tool, project_id=bad)
        assert text.startswith("[invalid-argument] project_id:"), text


async def test_bad_create_and_list_arguments_name_the_field(tools: ToolClient) -> None:
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("create_project", {"name": ""}, "name"),
        ("create_project", {"name": "x" * 201}, "name"),
        ("create_project", {"name": INJECTION}, "name"),
        ("create_project", {"name": "P", "description": "d" * 2001}, "description"),
        ("create_project", {"name": "P", "music_duration": -1}, "music_duration"),
        ("create_project", {"name": "P", "thumbnail_url": "file:///etc/passwd"}, "thumbnail_url"),
        ("create_project", {"name": "P", "music_media_id": INJECTION}, "music_media_id"),
        ("list_projects", {"limit": 0}, "limit"),
        ("list_projects", {"limit": 101}, "limit"),
        ("list_projects", {"limit": "many"}, "limit"),
        ("list_projects", {"name_contains": INJECTION}, "name_contains"),
        ("list_projects", {"cursor": "not-a-cursor"}, "cursor"),
        ("get_project_tree", {"project_id": "p", "max_clips_per_scene": -1}, "max_clips_per_scene"),
        ("get_project_tree", {"project_id": "p", "scene_id": INJECTION}, "scene_id"),
        ("update_project", {"project_id": "p", "patch": "name=x"}, "patch"),
    ]
    for tool, arguments, field in cases:
        text = await tools.refused(tool, **arguments)
        assert field in text and text.startswith("[invalid-argument]"), (tool, arguments, text)


async def test_create_project_refuses_a_soundtrack_that_is_not_in_the_media_store(tools: ToolClient) -> None:
    text = await tools.refused("create_project", name="P", music_media_id="nope")
    assert text.startswith("[not-found] media 'nope'")
    media = await tools.services.database.media.put(b"ID3", content_type="audio/mpeg")
    created = await tools.call("create_project", name="P", music_media_id=media.id)
    assert (await tools.call("get_project", project_id=created["id"]))["music_media_id"] == media.id


async def test_project_ids_complete_for_prompts_and_resource_templates(tools: ToolClient) -> None:
    project = await tools.call("create_project", name="Night Drive")
    await tools.call("create_project", name="Sunrise")
    by_name = await tools.client.complete(
        PromptReference(name="review_continuity"), {"name": "project_id", "value": "night"}
    )
    assert by_name.completion.values == [project["id"]]
    by_id = await tools.client.complete(
        ResourceTemplateReference(uri="storyboard://projects/{project_id}/storyboard.md"),
        {"name": "project_id", "value": project["id"][:8]},
    )
    assert project["id"] in by_id.completion.values


async def test_writes_notify_the_project_resources(tools: ToolClient) -> None:
    pid = (await tools.call("create_project", name="P"))["id"]
    uris = [f"storyboard://projects/{pid}", f"storyboard://projects/{pid}/storyboard.md", "storyboard://projects"]
    async with tools.watch(uris) as next_update:
        await tools.call("update_project", project_id=pid, patch={"name": "Q"})
        with anyio.fail_after(5):
            events = [await next_update() for _ in uris]
    assert sorted(events) == sorted(uris)


def test_every_project_tool_is_tested_here() -> None:
    from mcp_storyboard.server.tools import projects

    assert {s.name for s in projects.tool} == set(TOOLS)
