"""Read-only mode below the tools: a server whose services run over ``read_only_view`` refuses every write tool,
even with the tool hiding of ``--read-only`` switched off (the tools "called directly"), and nothing changes.

Every write tool of the catalog is called here with arguments that would succeed on a writable server (the
world below is built for it); a write tool added later fails ``test_every_write_tool_is_covered`` until it gets a
call in ``CALLS``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from mcp import Client

from mcp_storyboard.db.read_only import read_only_view
from mcp_storyboard.errors import ReadOnlyError
from mcp_storyboard.models.render_jobs import RenderJob
from mcp_storyboard.server.build import build_server
from mcp_storyboard.server.registry import discover
from mcp_storyboard.server.taxonomy import TOOLSETS
from mcp_storyboard.services.container import Services
from tests.fakes.civitai import FakeCivitAI
from tests.media_samples import png
from tests.seed import snapshot
from tests.tools.conftest import ToolClient
from tests.tools.facefusion_world import faces, seed_preset
from tests.tools.test_civitai_tools import fake_catalog
from tests.workers.generation_stubs import item, new_batch
from tests.workers.stubs import new_job, operation


@dataclass
class World:
    """Ids of a small storyboard every write tool can act on."""

    project: str
    scene: str
    other_scene: str
    alternate: str
    clip: str
    second_clip: str
    entry: str
    character: str
    image: str
    media: str
    template: str
    model: str
    server: str
    preset: str
    queued_job: str
    failed_job: str
    user: str
    timeline: str
    queued_batch: str
    failed_batch: str
    render_job: str


async def build_world(tools: ToolClient) -> World:
    ana = await faces(tools.services)
    pid = ana.project_id
    scene = (await tools.call("create_scene", project_id=pid, name="Verse"))["id"]
    other = (await tools.call("create_scene", project_id=pid, name="Chorus"))["id"]
    clip = (await tools.call("create_clip", scene_id=scene, name="Street", image_prompt="a street", duration=2))["id"]
    second = (await tools.call("create_clip", scene_id=scene, name="Car", image_prompt="a car", timeline_position=2,
                               duration=2))["id"]
    media_id = ana.image.rsplit("/", 1)[1]
    entry = (await tools.call("add_clip_media", clip_id=clip, kind="image", media_id=media_id))["media_entry_id"]
    alternate = (await tools.call("create_alternate_scene", scene_id=other))["id"]
    template = (await tools.call("create_style_template", project_id=pid, name="Noir"))["id"]
    model = (await tools.call("create_model", model_id="sdxl.safetensors", name="SDXL", type="checkpoint"))["id"]
    server = (await tools.call("register_comfyui_server", name="Box", url="http://127.0.0.1:9"))["id"]
    preset = await seed_preset(tools.services, "Soft")
    jobs = tools.services.facefusion.jobs
    queued = await jobs.insert(new_job(operation(ana.image), project_id=pid, character_id=ana.character_id))
    failed = await jobs.insert(new_job(operation(ana.image), project_id=pid, character_id=ana.character_id,
                                       status="failed", attempts=3))
    user = (await tools.call("create_user", username="cleo", email="cleo@example.com"))["id"]
    timeline = (await tools.call("export_timeline", project_id=pid, format="otio"))["id"]
    batches = tools.services.generation.batches
    queued_batch = await batches.insert(new_batch(pid, [item(clip)]))
    failed_batch = await batches.insert(new_batch(pid, [item(second)], status="failed", failed_jobs=1))
    render_job = await tools.services.renders.jobs.insert(RenderJob(project_id=pid))
    return World(pid, scene, other, alternate, clip, second, entry, ana.character_id, ana.image, media_id, template,
                 model, server, preset, queued.id, failed.id, user, timeline, queued_batch.id, failed_batch.id,
                 render_job.id)


PNG = base64.b64encode(png(3)).decode()
CALLS: dict[str, Callable[[World], dict[str, Any]]] = {
    # storyboard
    "create_project": lambda w: {"name": "Another"},
    "update_project": lambda w: {"project_id": w.project, "patch": {"name": "Renamed"}},
    "delete_project": lambda w: {"project_id": w.project, "confirm": True},
    "create_scene": lambda w: {"project_id": w.project, "name": "Bridge"},
    "update_scene": lambda w: {"scene_id": w.scene, "name": "Verse 2"},
    "move_scene": lambda w: {"scene_id": w.other_scene, "position": 0},
    "reorder_scenes": lambda w: {"project_id": w.project, "scene_ids": [w.other_scene, w.scene]},
    "delete_scene": lambda w: {"scene_id": w.other_scene, "confirm": True},
    "create_alternate_scene": lambda w: {"scene_id": w.scene},
    "promote_alternate": lambda w: {"scene_id": w.alternate},
    "create_clip": lambda w: {"scene_id": w.other_scene, "name": "Sky"},
    "update_clip": lambda w: {"clip_id": w.clip, "changes": {"name": "Wet street"}},
    "move_clip": lambda w: {"clip_id": w.clip, "scene_id": w.other_scene},
    "set_clip_timing": lambda w: {"clip_id": w.second_clip, "duration": 3},
    "reorder_clips": lambda w: {"scene_id": w.scene, "clip_ids": [w.second_clip, w.clip]},
    "delete_clip": lambda w: {"clip_id": w.clip, "confirm": True},
    "create_alternate_clip": lambda w: {"clip_id": w.clip},
    "add_clip_media": lambda w: {"clip_id": w.second_clip, "kind": "image", "media_id": w.media},
    "select_clip_media": lambda w: {"clip_id": w.clip, "kind": "image", "media_entry_id": w.entry},
    "remove_clip_media": lambda w: {"clip_id": w.clip, "kind": "image", "media_entry_id": w.entry, "confirm": True},
    "upload_media": lambda w: {"project_id": w.project, "filename": "x.png", "mime_type": "image/png",
                               "content_base64": PNG},
    "import_media": lambda w: {"project_id": w.project, "url": "https://example.com/x.png"},
    "delete_media": lambda w: {"media_id": w.media, "confirm": True},
    "export_timeline": lambda w: {"project_id": w.project, "format": "edl"},
    "import_timeline": lambda w: {"media_id": w.timeline, "name": "Imported"},
    "render_contact_sheet": lambda w: {"project_id": w.project},
    "render_animatic": lambda w: {"project_id": w.project},
    "cancel_render_job": lambda w: {"job_id": w.render_job},
    # characters and styles
    "create_character": lambda w: {"project_id": w.project, "name": "Bo"},
    "update_character": lambda w: {"character_id": w.character, "patch": {"description": "tall"}},
    "assign_character": lambda w: {"clip_id": w.clip, "character_id": w.character},
    "delete_character": lambda w: {"character_id": w.character, "confirm": True},
    "create_style_template": lambda w: {"name": "Pastel"},
    "update_style_template": lambda w: {"template_id": w.template, "patch": {"name": "Noir 2"}},
    "apply_style_template": lambda w: {"clip_id": w.clip, "template_id": w.template},
    "delete_style_template": lambda w: {"template_id": w.template, "confirm": True},
    # facefusion
    "enhance_face": lambda w: {"character_id": w.character, "image": w.image},
    "adjust_face_age": lambda w: {"character_id": w.character, "image": w.image, "target_age": 60, "current_age": 30},
    "swap_face": lambda w: {"character_id": w.character, "image": w.image, "source_face": w.image},
    "edit_face_expression": lambda w: {"character_id": w.character, "image": w.image,
                                       "values": {"face_editor_mouth_smile": 20}},
    "mask_face": lambda w: {"character_id": w.character, "image": w.image},
    "detect_faces": lambda w: {"character_id": w.character, "image": w.image},
    "run_facefusion_batch": lambda w: {"character_id": w.character,
                                       "operations": [{"operation_type": "enhance", "image": w.image}]},
    "cancel_facefusion_job": lambda w: {"job_id": w.queued_job},
    "retry_facefusion_job": lambda w: {"job_id": w.failed_job},
    "create_facefusion_preset": lambda w: {"name": "Sharp", "operation_type": "enhance", "parameters": {}},
    "update_facefusion_preset": lambda w: {"preset_id": w.preset, "patch": {"name": "Softer"}},
    "delete_facefusion_preset": lambda w: {"preset_id": w.preset, "confirm": True},
    "set_facefusion_preferences": lambda w: {"character_id": w.character, "settings": {"face_enhancer_blend": 0.5}},
    "remove_gallery_item": lambda w: {"character_id": w.character, "category": "enhanced_faces",
                                      "url": "https://x.test/a.png", "confirm": True},
    # models and generation
    "create_model": lambda w: {"model_id": "flux.safetensors", "name": "Flux", "type": "checkpoint"},
    "update_model": lambda w: {"model_id": w.model, "patch": {"name": "SDXL base"}},
    "set_model_active": lambda w: {"model_id": w.model, "active": False},
    "delete_model": lambda w: {"model_id": w.model, "confirm": True},
    "set_inference_preset": lambda w: {"model_id": w.model, "preset_type": "quality", "parameters": {
        "steps": 20, "cfg_scale": 6.0, "sampler_name": "euler", "scheduler": "normal"}},
    "sync_civitai_models": lambda w: {},
    "import_civitai_model": lambda w: {"civitai_id": 101},
    "register_comfyui_server": lambda w: {"name": "Other", "url": "http://127.0.0.1:10"},
    "update_comfyui_server": lambda w: {"server_id": w.server, "patch": {"name": "Box 2"}},
    "delete_comfyui_server": lambda w: {"server_id": w.server, "confirm": True},
    "check_comfyui_server": lambda w: {"server_id": w.server},
    "generate_clip_media": lambda w: {"clip_id": w.clip, "checkpoint": "sdxl.safetensors"},
    "generate_batch": lambda w: {"project_id": w.project, "clips": [{"clip_id": w.second_clip}],
                                 "checkpoint": "sdxl.safetensors"},
    "cancel_generation_batch": lambda w: {"batch_id": w.queued_batch},
    "retry_generation_batch": lambda w: {"batch_id": w.failed_batch},
    # users
    "create_user": lambda w: {"username": "dora", "email": "dora@example.com"},
    "update_user": lambda w: {"user_id": w.user, "patch": {"email": "cleo@example.org"}},
    "deactivate_user": lambda w: {"user_id": w.user},
}
REFUSED_BEFORE_WRITING = {"import_media": "[invalid-argument]"}
"""Tools whose own checks refuse these arguments before any write is tried (no URL can be fetched here): they
still change nothing."""


def write_tools() -> set[str]:
    return {spec.name for spec in discover().tools if spec.operation != "read"}


def test_every_write_tool_is_covered() -> None:
    assert set(CALLS) == write_tools()


@asynccontextmanager
async def read_only_client(services: Services, fake: FakeCivitAI) -> AsyncIterator[Client]:
    """A client of a server that shows every tool (no ``--read-only`` hiding) over read-only services."""
    view = Services.over(read_only_view(services.database), civitai=fake.client())

    @asynccontextmanager
    async def factory() -> AsyncIterator[Services]:
        yield view

    async with Client(build_server(factory, toolsets=TOOLSETS)) as client:
        yield client


async def test_read_only_services_refuse_every_write_tool_and_change_nothing(tools: ToolClient) -> None:
    fake = fake_catalog()
    tools.services.civitai.client = fake.client()
    await tools.call("sync_civitai_models")
    world = await build_world(tools)
    before = await tools.snapshot()
    outcomes: dict[str, str] = {}
    async with read_only_client(tools.services, fake) as client:
        for name, arguments in CALLS.items():
            result = await client.call_tool(name, arguments(world))
            text = "\n".join(getattr(block, "text", "") for block in result.content)
            outcomes[name] = text if result.is_error else "succeeded: " + json.dumps(result.structured_content)
    wrong = {name: text[:200] for name, text in outcomes.items()
             if not text.startswith(REFUSED_BEFORE_WRITING.get(name, "[read-only]"))}
    assert wrong == {}, json.dumps(wrong, indent=1)
    assert await tools.snapshot() == before


async def test_the_view_refuses_writes_at_the_collection_and_the_media_store(tools: ToolClient) -> None:
    view = read_only_view(tools.services.database)
    projects = view.collection("projects")
    before = await tools.snapshot()
    for attempt in (
        lambda: projects.insert_one({"id": "x"}), lambda: projects.update_many({}, {"$set": {"name": "y"}}),
        lambda: projects.delete_many({}), lambda: projects.find_one_and_update({}, {"$set": {"name": "y"}}),
        lambda: projects.bulk_write([]), lambda: projects.drop(), lambda: projects.create_index("name"),
        lambda: projects.aggregate([{"$match": {}}, {"$out": "stolen"}]),
        lambda: view.media.put(b"x", content_type="text/plain"), lambda: view.media.delete("m"),
    ):
        with pytest.raises(ReadOnlyError, match="read-only"):
            await attempt()
    assert await projects.count_documents({}) == len(before.get("projects", []))
    assert read_only_view(view) is view
    assert await tools.snapshot() == before


async def test_a_read_only_server_still_keeps_its_bookkeeping(tools: ToolClient) -> None:
    """Token use and call counts are the server's own records, not user data: a read-only server writes them."""
    user = await tools.services.users.create("erin", "erin@example.com")
    issued = await tools.services.users.tokens.create(user.id, "laptop")
    view = Services.over(read_only_view(tools.services.database))
    assert (await view.users.tokens.verify(issued.token)) is not None
    await view.users.rate_limits.check(issued.record.id, 5)
    counted = await tools.services.database.collection("rate_limits").find_one({"id": issued.record.id})
    assert counted is not None and counted["count"] == 1
    with pytest.raises(ReadOnlyError):
        await view.users.create("fred", "fred@example.com")
