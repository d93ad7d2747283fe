"""Inputs that used to reach the database raw: a NUL byte in a key of add_clip_media's params (BSON refuses it:
[internal]), and completion of a 1,000+ character value (the embedded database caps regexes at 1,000 characters:
-32603)."""

from __future__ import annotations

import pytest
from mcp.types import PromptReference, ResourceTemplateReference

from mcp_storyboard.server.completions import MAX_TYPED_LENGTH
from tests.seed import seed_project, seed_scene
from tests.tools.conftest import ToolClient


@pytest.mark.parametrize(("key", "problem"), [("se\x00ed", "contains a NUL character"), ("$set", "starts with '$'"),
                                              ("a.b", "contains '.'")])
async def test_add_clip_media_refuses_an_unsafe_params_key_naming_it(tools: ToolClient, key: str, problem: str) -> None:
    project_id = await seed_project(tools.services)
    scene = await seed_scene(tools.services, project_id)
    clip = await tools.call("create_clip", scene_id=scene.id)
    text = await tools.refused("add_clip_media", clip_id=clip["id"], kind="image", url="https://x.test/a.png",
                               params={"steps": 20, key: 1})
    assert text.startswith(f"[invalid-argument] params: key {key!r} {problem}"), text
    await tools.call("add_clip_media", clip_id=clip["id"], kind="image", url="https://x.test/a.png",
                     params={"steps": 20, "sampler name": "euler"})
    added = await tools.call("get_clip", clip_id=clip["id"])
    assert added["generated_images"][0]["params"] == {"steps": 20, "sampler name": "euler"}


REFS = [
    (PromptReference(name="write_clip_prompts"), "clip_id"),
    (PromptReference(name="write_clip_prompts"), "scene_id"),
    (PromptReference(name="write_clip_prompts"), "project_id"),
    (ResourceTemplateReference(uri="storyboard://characters/{character_id}"), "character_id"),
    (ResourceTemplateReference(uri="storyboard://style-templates/{template_id}"), "template_id"),
]


@pytest.mark.parametrize(("ref", "argument"), REFS, ids=[a for _, a in REFS])
async def test_completing_a_value_too_long_for_any_id_answers_no_values(
    tools: ToolClient, ref: PromptReference | ResourceTemplateReference, argument: str
) -> None:
    project_id = await seed_project(tools.services, "a" * 150)
    for value in ("a" * 1_500, "(a+)+" * 300, "a" * (MAX_TYPED_LENGTH + 1)):
        result = await tools.client.complete(ref, {"name": argument, "value": value}, {"project_id": project_id})
        assert result.completion.values == [] and not result.completion.has_more
    at_the_cap = await tools.client.complete(ref, {"name": argument, "value": "a" * MAX_TYPED_LENGTH})
    assert at_the_cap.completion.values == []


async def test_completion_still_answers_up_to_the_cap(tools: ToolClient) -> None:
    project_id = await seed_project(tools.services, "Night Drive")
    ref = PromptReference(name="write_clip_prompts")
    result = await tools.client.complete(ref, {"name": "project_id", "value": project_id[:8]})
    assert project_id in result.completion.values
