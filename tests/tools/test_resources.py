"""The storyboard resources through a real MCP client: listed, read as JSON, Markdown and blobs, errors coded."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS

from mcp_storyboard.models import (
    DOCUMENT_CLASSES,
    Character,
    Clip,
    Project,
    Scene,
    StyleTemplate,
)
from tests.tools.conftest import ToolClient

TEMPLATES = {
    "storyboard://projects/{project_id}",
    "storyboard://projects/{project_id}/storyboard.md",
    "storyboard://scenes/{scene_id}",
    "storyboard://clips/{clip_id}",
    "storyboard://characters/{character_id}",
    "storyboard://style-templates/{template_id}",
    "storyboard://media/{media_id}",
    "storyboard://schema/{collection}",
    "storyboard://facefusion-jobs/{job_id}",
    "storyboard://characters/{character_id}/facefusion",
    "storyboard://facefusion-presets/{preset_id}",
    "storyboard://comfyui-servers/{server_id}",
    "storyboard://civitai-models/{civitai_id}",
    "storyboard://models/{model_id}",
    "storyboard://projects/{project_id}/timeline.otio",
    "storyboard://projects/{project_id}/contact-sheet.png",
    "storyboard://generation-batches/{batch_id}",
    "storyboard://render-jobs/{job_id}",
}


async def read_text(tools: ToolClient, uri: str) -> tuple[str, str | None]:
    result = await tools.client.read_resource(uri)
    content = result.contents[0]
    return content.text, content.mime_type  # type: ignore[union-attr]


async def read_json(tools: ToolClient, uri: str) -> dict:  # type: ignore[type-arg]
    text, mime = await read_text(tools, uri)
    assert mime == "application/json"
    return json.loads(text)  # type: ignore[no-any-return]


async def not_found(tools: ToolClient, uri: str) -> str:
    with pytest.raises(MCPError) as caught:
        await tools.client.read_resource(uri)
    assert caught.value.error.code == INVALID_PARAMS, caught.value.error
    return caught.value.error.message


async def small_storyboard(tools: ToolClient) -> tuple[Project, Scene, list[Clip], Character, StyleTemplate]:
    repos = tools.services.repositories
    project = await repos.projects.insert(Project(name="Night | Drive", description="neon *city*"))
    scene = await repos.scenes.insert(Scene(project_id=project.id, name="Intro", lyrics="la la"))
    character = await repos.characters.insert(Character(project_id=project.id, name="Ana"))
    template = await repos.style_templates.insert(StyleTemplate(project_id=project.id, name="Noir"))
    clips = [
        Clip(project_id=project.id, scene_id=scene.id, name="Second", order=1, timeline_position=4, duration=2),
        Clip(
            project_id=project.id,
            scene_id=scene.id,
            name="First",
            order=0,
            timeline_position=0,
            duration=4,
            image_prompt="a road",
            character_id=character.id,
            style_template_id=template.id,
        ),
    ]
    await repos.clips.insert_many(clips)
    return project, scene, clips, character, template


async def test_every_template_and_the_recent_projects_are_listed(tools: ToolClient) -> None:
    templates = (await tools.client.list_resource_templates()).resource_templates
    assert {t.uri_template for t in templates} == TEMPLATES
    assert all(t.title and t.description for t in templates)
    markdown = next(t for t in templates if t.uri_template.endswith("storyboard.md"))
    assert markdown.mime_type == "text/markdown"
    statics = (await tools.client.list_resources()).resources
    assert [(str(r.uri), r.mime_type) for r in statics] == [("storyboard://projects", "application/json")]


async def test_documents_read_as_json(tools: ToolClient) -> None:
    project, scene, clips, character, template = await small_storyboard(tools)
    assert (await read_json(tools, f"storyboard://projects/{project.id}"))["name"] == "Night | Drive"
    scene_doc = await read_json(tools, f"storyboard://scenes/{scene.id}")
    assert scene_doc["name"] == "Intro" and [c["name"] for c in scene_doc["clips"]] == ["First", "Second"]
    assert (await read_json(tools, f"storyboard://clips/{clips[1].id}"))["image_prompt"] == "a road"
    assert (await read_json(tools, f"storyboard://characters/{character.id}"))["name"] == "Ana"
    assert (await read_json(tools, f"storyboard://style-templates/{template.id}"))["name"] == "Noir"


async def test_recent_projects_are_the_newest_fifty(tools: ToolClient) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    await tools.services.repositories.projects.insert_many(
        [Project(name=f"P{i:02d}", created_at=start + timedelta(minutes=i)) for i in range(52)]
    )
    listing = await read_json(tools, "storyboard://projects")
    names = [p["name"] for p in listing["items"]]
    assert len(names) == 50 and names[0] == "P51" and "P00" not in names and listing["next_cursor"]
    # The resource's cursor belongs to list_projects' list (same query), as its description says.
    rest = await tools.call("list_projects", cursor=listing["next_cursor"])
    assert [p["name"] for p in rest["items"]] == ["P01", "P00"]


async def test_the_storyboard_reads_as_an_escaped_markdown_shot_list(tools: ToolClient) -> None:
    project, *_ = await small_storyboard(tools)
    text, mime = await read_text(tools, f"storyboard://projects/{project.id}/storyboard.md")
    assert mime == "text/markdown"
    lines = text.splitlines()
    assert lines[0] == r"# Night \| Drive" and r"neon \*city\*" in lines and "## 1. Intro" in lines
    assert "| 1 | 00:00.00 | 00:04.00 | 00:04.00 | image | First | Ana | Noir | — |" in lines
    assert "> la la" in lines


async def test_a_media_file_reads_as_a_blob_with_its_own_mime_type(tools: ToolClient) -> None:
    data = bytes(range(256)) * 4
    info = await tools.services.database.media.put(data, content_type="image/png", filename="frame.png")
    result = await tools.client.read_resource(f"storyboard://media/{info.id}")
    content = result.contents[0]
    assert content.mime_type == "image/png"
    assert base64.b64decode(content.blob) == data  # type: ignore[union-attr]


@pytest.mark.parametrize("collection", [cls.collection for cls in DOCUMENT_CLASSES])  # type: ignore[attr-defined]
async def test_every_collection_has_a_json_schema(tools: ToolClient, collection: str) -> None:
    schema = await read_json(tools, f"storyboard://schema/{collection}")
    assert schema["type"] == "object" and "properties" in schema


async def test_an_unknown_collection_lists_the_valid_ones(tools: ToolClient) -> None:
    message = await not_found(tools, "storyboard://schema/nope")
    assert message.startswith("[not-found] collection 'nope' does not exist") and "clips, comfyui_servers" in message


@pytest.mark.parametrize("uri", [
    "storyboard://projects/ghost", "storyboard://projects/ghost/storyboard.md", "storyboard://scenes/ghost",
    "storyboard://clips/ghost", "storyboard://characters/ghost", "storyboard://style-templates/ghost",
    "storyboard://media/ghost", "storyboard://projects/%24ne", "storyboard://clips/..", "storyboard://nothing/here",
])  # fmt: skip
async def test_unknown_ids_answer_resource_not_found(tools: ToolClient, uri: str) -> None:
    message = await not_found(tools, uri)
    assert "internal" not in message.lower()
