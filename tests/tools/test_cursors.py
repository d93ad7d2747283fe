"""Every paginated tool (every tool with a ``cursor`` argument) refuses forged, truncated and cross-query cursors
with ``[invalid-argument] cursor`` and the first-page hint, and writes nothing."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx2

from mcp_storyboard.integrations.media_fetch import MediaFetcher
from mcp_storyboard.models.catalog import CivitAIModel
from mcp_storyboard.models.characters import Character
from mcp_storyboard.models.users import User
from tests.media_samples import png
from tests.seed import seed_clip, seed_project, seed_scene, seed_template
from tests.tools.conftest import ToolClient
from tests.tools.facefusion_world import seed_history


async def seed_facefusion(services: Any, project_id: str) -> str:
    """A character whose http(s) images import from a stub CDN (each import stores a file)."""
    services.media.fetcher = MediaFetcher(
        transport=httpx2.MockTransport(lambda _: httpx2.Response(200, headers={"content-type": "image/png"},
                                                                 content=png())),
        resolve=_public,
    )
    return str((await services.repositories.characters.insert(Character(project_id=project_id, name="Face"))).id)


async def _public(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]

Args = Callable[[dict[str, str]], dict[str, Any]]
PAGINATED: dict[str, tuple[Args, Args]] = {
    # tool: (the arguments of project A's list, of project B's list — or of another filter)
    "list_projects": (lambda w: {}, lambda w: {"name_contains": "Project"}),
    "list_scenes": (lambda w: {"project_id": w["A"]}, lambda w: {"project_id": w["B"]}),
    "list_clips": (lambda w: {"scene_id": w["A.scene"]}, lambda w: {"scene_id": w["B.scene"]}),
    "list_characters": (lambda w: {"project_id": w["A"]}, lambda w: {"project_id": w["B"]}),
    "list_style_templates": (lambda w: {"project_id": w["A"], "scope": "project"},
                             lambda w: {"project_id": w["B"], "scope": "project"}),
    "list_media": (lambda w: {"project_id": w["A"]}, lambda w: {"project_id": w["B"]}),
    "list_facefusion_jobs": (lambda w: {"project_id": w["A"]}, lambda w: {"project_id": w["B"]}),
    "get_character_facefusion_history": (lambda w: {"character_id": w["A.character"]},
                                         lambda w: {"character_id": w["B.character"]}),
    "list_facefusion_presets": (lambda w: {}, lambda w: {"visibility": "private"}),
    "list_comfyui_servers": (lambda w: {}, lambda w: {"active": True}),
    "search_civitai_catalog": (lambda w: {}, lambda w: {"type": "LORA"}),
    "search_models": (lambda w: {"text": "model"}, lambda w: {"type": "lora"}),
    "list_users": (lambda w: {}, lambda w: {"active": True}),
    "list_generation_batches": (lambda w: {"project_id": w["A"]}, lambda w: {"project_id": w["B"]}),
    "list_render_jobs": (lambda w: {"project_id": w["A"]}, lambda w: {"project_id": w["B"]}),
}


def payload(cursor: str) -> dict[str, Any]:
    return dict(json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))))


def forge(cursor: str, **changes: Any) -> str:
    """A real cursor with its payload changed (the hash is kept: a forger can read and copy it)."""
    data = {**payload(cursor), **changes}
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def world(tools: ToolClient) -> dict[str, str]:
    """Two projects, each with three scenes (the first with three clips), characters, style templates and media."""
    ids: dict[str, str] = {}
    services = tools.services
    for project in ("A", "B"):
        ids[project] = project_id = await seed_project(services, f"Project {project}")
        scenes = [await seed_scene(services, project_id, f"Scene {i}", order=i) for i in range(3)]
        ids[f"{project}.scene"] = scenes[0].id
        for i in range(3):
            await tools.call("create_clip", scene_id=scenes[0].id, name=f"Clip {i}")
            await services.repositories.characters.insert(Character(project_id=project_id, name=f"Char {i}"))
            await seed_template(services, project_id, f"Style {i}")
            await services.media.upload(project_id, f"frame {i}.png", base64.b64encode(png()).decode(), "image/png")
        ids[f"{project}.character"] = character = await seed_facefusion(services, project_id)
        await seed_history(services, character, 3)
        for i in range(3):
            await tools.call("enhance_face", image=f"https://cdn.test/{i}.png", character_id=character)
            await tools.call("create_facefusion_preset", name=f"Preset {project}{i}", operation_type="enhance",
                             parameters={})
            await tools.call("create_model", model_id=f"{project}{i}.safetensors", name=f"Model {project}{i}",
                             type="lora")
            clip = await seed_clip(services, project_id, f"Generated {i}")
            await tools.call("generate_clip_media", clip_id=clip.id, prompt="a shot", checkpoint="a.safetensors")
            await tools.call("render_animatic", project_id=project_id, width=160, height=90)
    for i in range(3):
        await tools.call("register_comfyui_server", name=f"Server {i}", url=f"http://127.0.0.1:{9000 + i}")
    for i in range(3):
        await services.users.repo.insert(User(username=f"user{i}", email=f"user{i}@example.com", hashed_password="x"))
    for civitai_id, kind in enumerate(["Checkpoint", "LORA", "Checkpoint", "LORA"], start=1):
        await services.civitai.catalog.insert(CivitAIModel(id=civitai_id, name=f"Model {civitai_id}", type=kind))
    return ids


async def test_every_paginated_tool_is_covered(tools: ToolClient) -> None:
    listed = await tools.client.list_tools()
    paginated = {t.name for t in listed.tools if "cursor" in t.input_schema.get("properties", {})}
    assert paginated == set(PAGINATED), "add the new paginated tool to PAGINATED"


async def test_paginated_tools_refuse_forged_truncated_and_cross_query_cursors(tools: ToolClient) -> None:
    w = await world(tools)
    first: dict[str, tuple[str, str]] = {}
    for tool, (args_a, args_b) in PAGINATED.items():
        page_a = await tools.call(tool, **args_a(w), limit=1)
        page_b = await tools.call(tool, **args_b(w), limit=1)
        assert page_a["next_cursor"] and page_b["next_cursor"], tool
        # A genuine cursor continues its own list where the first page stopped.
        rest = await tools.call(tool, **args_a(w), limit=100, cursor=page_a["next_cursor"])
        whole = await tools.call(tool, **args_a(w), limit=100)
        assert page_a["items"] + rest["items"] == whole["items"], tool
        first[tool] = (page_a["next_cursor"], page_b["next_cursor"])

    for tool, (args_a, _) in PAGINATED.items():
        own, other_query = first[tool]
        values = payload(own)["v"]
        other_tool = next(t for t in PAGINATED if t != tool)
        forged = {
            "operators": forge(own, v=[{"$ne": None} for _ in values]),
            "a regex": forge(own, v=[*values[:-1], {"$regex": "^(a+)+$"}]),
            "one value too few": forge(own, v=values[:-1]),
            "one value too many": forge(own, v=[*values, "x"]),
            "a boolean for a string": forge(own, v=[*values[:-1], True]),
            "an object for a string": forge(own, v=[*values[:-1], {"a": 1}]),
            "truncated": own[: len(own) // 2],
            "not base64": "%%%not-a-cursor%%%",
            "another project's list": other_query,
            "another tool's list": first[other_tool][0],
        }
        for case, cursor in forged.items():
            text = await tools.refused(tool, **args_a(w), cursor=cursor)
            assert text.startswith("[invalid-argument] cursor"), (tool, case, text)
            assert "first page" in text, (tool, case, text)
