"""Per-project authorization over real HTTP (issue 10): a non-admin user lists, reads and changes only the projects
it owns and what is under them.

Ana owns a whole storyboard (the read-only test's world: scenes, an alternate, clips with media, a character, a
template, FaceFusion jobs, generation batches, a render job, an exported timeline, a private preset). Bob, another
non-admin user, calls **every tool of the catalog** with Ana's ids, over Streamable HTTP with his API token, on
memory:// and on the embedded (wire-protocol) database. Each call is refused (``[not-found]``, as for an id that
never existed, or ``[forbidden]`` for admin-only tools), or, for the tools that name nothing of Ana's (lists
without a project, shared catalogs, creating his own project), succeeds without showing any of Ana's ids. Nothing
of Ana's changes. A test fails when a tool is added without an entry here.
"""

from __future__ import annotations

import dataclasses
import json
import re
import warnings
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp.types import PromptReference, ResourceTemplateReference

from mcp_storyboard.models.common import new_id
from mcp_storyboard.models.facefusion import FaceFusionPreset
from mcp_storyboard.server.registry import discover
from mcp_storyboard.server.taxonomy import TOOLSETS
from mcp_storyboard.services.container import Services
from tests.server.test_http_auth import account, client, serving
from tests.tools.conftest import ToolClient
from tests.tools.test_civitai_tools import fake_catalog
from tests.tools.test_read_only_services import CALLS, World, build_world

READS: dict[str, Callable[[World], dict[str, Any]]] = {
    "get_project": lambda w: {"project_id": w.project},
    "get_project_tree": lambda w: {"project_id": w.project},
    "analyze_timeline": lambda w: {"project_id": w.project},
    "get_scene": lambda w: {"scene_id": w.scene},
    "list_scenes": lambda w: {"project_id": w.project},
    "list_alternates": lambda w: {"scene_id": w.other_scene},
    "get_clip": lambda w: {"clip_id": w.clip},
    "list_clips": lambda w: {"scene_id": w.scene},
    "list_clip_alternates": lambda w: {"clip_id": w.clip},
    "list_media": lambda w: {"project_id": w.project},
    "get_render_job": lambda w: {"job_id": w.render_job},
    "list_render_jobs": lambda w: {"project_id": w.project},
    "wait_for_render_job": lambda w: {"job_id": w.render_job, "timeout": 1},
    "get_character": lambda w: {"character_id": w.character},
    "list_characters": lambda w: {"project_id": w.project},
    "get_style_template": lambda w: {"template_id": w.template},
    "list_style_templates": lambda w: {"project_id": w.project},
    "compose_clip_prompt": lambda w: {"clip_id": w.clip},
    "get_character_facefusion_history": lambda w: {"character_id": w.character},
    "get_character_facefusion_gallery": lambda w: {"character_id": w.character},
    "get_facefusion_preferences": lambda w: {"character_id": w.character},
    "get_facefusion_job": lambda w: {"job_id": w.queued_job},
    "list_facefusion_jobs": lambda w: {"character_id": w.character},
    "wait_for_facefusion_job": lambda w: {"job_id": w.queued_job, "timeout": 1},
    "get_facefusion_preset": lambda w: {"preset_id": w.preset},
    "get_generation_batch": lambda w: {"batch_id": w.queued_batch},
    "list_generation_batches": lambda w: {"project_id": w.project},
    "wait_for_generation_batch": lambda w: {"batch_id": w.queued_batch, "timeout": 1},
    # shared: the model catalog and the ComfyUI servers are everyone's to read
    "get_model": lambda w: {"model_id": w.model},
    "search_models": lambda w: {},
    "get_inference_preset": lambda w: {"model_id": w.model, "preset_type": "quality"},
    "search_civitai_catalog": lambda w: {},
    "list_comfyui_servers": lambda w: {},
    "get_comfyui_server": lambda w: {"server_id": w.server},
    # admins only
    "list_users": lambda w: {},
    "get_user": lambda w: {"user_id": w.user},
}
SECOND_LOOKS: dict[str, dict[str, Any]] = {
    "list_projects": {}, "list_media": {}, "list_render_jobs": {}, "list_facefusion_jobs": {},
    "list_style_templates": {}, "list_facefusion_presets": {},
}  # fmt: skip
"""Lists called without naming anything of Ana's: they succeed, and show nothing of hers."""
SUCCEED_ON_HIS_OWN = {
    "create_project", "create_facefusion_preset", "search_models", "search_civitai_catalog", "get_model",
    "get_inference_preset", "list_comfyui_servers", "get_comfyui_server",
}  # fmt: skip
"""Tools whose arguments here name nothing of Ana's: Bob's call succeeds, on his own or shared data."""
ADMIN_ONLY = {
    "create_user", "update_user", "deactivate_user", "list_users", "get_user", "create_model", "update_model",
    "set_model_active", "delete_model", "set_inference_preset", "sync_civitai_models", "import_civitai_model",
    "register_comfyui_server", "update_comfyui_server", "delete_comfyui_server", "check_comfyui_server",
}  # fmt: skip
OTHER_REFUSALS = {
    "create_style_template": "[forbidden]",  # no project: a library template, shared, so admins only
}
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
BOOKKEEPING = {"api_tokens", "rate_limits", "users"}
"""Collections Bob's calls may change: his token's last use and call counts."""


def test_every_tool_has_a_call() -> None:
    assert set(CALLS) | set(READS) | set(SECOND_LOOKS) == {spec.name for spec in discover().tools}


def ghost_of(world: World) -> tuple[World, dict[str, str]]:
    """``world`` with each of Ana's ids (inside URIs too) replaced by a fresh one that names nothing, and the
    replacement of each (shared ids are kept)."""
    secret = set().union(*(_words(value) for value in ids_of_ana(world)))
    made_up = {real: new_id() for real in secret}
    ghost = World(*(re.sub(UUID, lambda m: made_up.get(m.group(0), m.group(0)), value)
                    for value in dataclasses.astuple(world)))
    return ghost, made_up


def ids_of_ana(world: World) -> set[str]:
    shared = {world.model, world.server, world.user}
    return {value for value in dataclasses.asdict(world).values() if value not in shared}


async def outcome(http: Client, name: str, arguments: dict[str, Any]) -> tuple[bool, str]:
    result = await http.call_tool(name, arguments)
    text = "\n".join(getattr(block, "text", "") for block in result.content)
    return result.is_error, text if result.is_error else json.dumps(result.structured_content)


async def ana_owns_the_world(services: Services, world: World, ana: str) -> World:
    """Give every project to Ana, and her a private preset (the world's is the local user's)."""
    await services.database.collection("projects").update_many({}, {"$set": {"owner_id": ana}})
    preset = await services.facefusion.presets.repo.insert(FaceFusionPreset(name="Ana's", operation_type="enhance",
                                                                            user_id=ana))
    return dataclasses.replace(world, preset=preset.id)


def unchanged(before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Documents present before whose stored form differs (or vanished) after, outside :data:`BOOKKEEPING`."""
    changed: dict[str, Any] = {}
    for name, documents in before.items():
        if name in BOOKKEEPING:
            continue
        now = {json.dumps(d, sort_keys=True, default=str) for d in after.get(name, [])}
        gone = [d.get("id") for d in documents if json.dumps(d, sort_keys=True, default=str) not in now]
        if gone:
            changed[name] = gone
    return changed


async def test_a_user_can_reach_nothing_of_another_users_project_with_any_tool(tools: ToolClient) -> None:
    fake = fake_catalog()
    tools.services.civitai.client = fake.client()
    await tools.call("sync_civitai_models")
    services = tools.services
    ana, bob = await account(services, "ana"), await account(services, "bob")
    world = await ana_owns_the_world(services, await build_world(tools), ana.id)
    bob_token = (await services.users.tokens.create(bob.id, "laptop")).token
    before = await tools.snapshot()
    secret = ids_of_ana(world)

    ghost, made_up = ghost_of(world)
    wrong: dict[str, str] = {}
    async with serving(services, toolsets=TOOLSETS) as base, client(base, bob_token) as http:
        for name, arguments in {**CALLS, **READS}.items():
            failed, text = await outcome(http, name, arguments(world))
            if name in ADMIN_ONLY or name in OTHER_REFUSALS:
                expected = "[forbidden]" if name in ADMIN_ONLY else OTHER_REFUSALS[name]
                if not (failed and text.startswith(expected)):
                    wrong[name] = text[:300]
                continue
            if name in SUCCEED_ON_HIS_OWN:
                if failed or secret & set(_words(text)):
                    wrong[name] = text[:300]
                continue
            # Anything else answers exactly as it does for ids that never existed: nothing tells Bob what Ana has.
            _, ghost_text = await outcome(http, name, arguments(ghost))
            for real, fresh in made_up.items():
                ghost_text = ghost_text.replace(fresh, real)
            if text != ghost_text:
                wrong[name] = f"{text[:200]} <> for ids that never existed: {ghost_text[:200]}"
            elif not failed and secret & set(_words(text)):
                wrong[name] = "shows Ana's data: " + text[:300]
        for name, arguments in SECOND_LOOKS.items():
            failed, text = await outcome(http, name, arguments)
            if failed or secret & set(_words(text)):
                wrong[f"{name}({arguments})"] = text[:300]
    assert wrong == {}, json.dumps(wrong, indent=1)
    assert unchanged(before, await tools.snapshot()) == {}
    mine = await services.database.collection("projects").find({"owner_id": bob.id}, {"_id": 0}).to_list(None)
    assert [p["name"] for p in mine] == ["Another"]  # create_project: Bob owns what he creates


async def test_the_owner_reaches_her_project_and_what_she_creates_is_hers(tools: ToolClient) -> None:
    services = tools.services
    ana = await account(services, "ana")
    world = await ana_owns_the_world(services, await build_world(tools), ana.id)
    token = (await services.users.tokens.create(ana.id, "laptop")).token
    async with serving(services, toolsets=TOOLSETS) as base, client(base, token) as http:
        for name, arguments in READS.items():
            if name in ADMIN_ONLY:
                continue
            failed, text = await outcome(http, name, arguments(world))
            assert not failed, f"{name}: {text[:300]}"
        failed, text = await outcome(http, "list_projects", {})
        assert not failed and world.project in text
        failed, text = await outcome(http, "update_clip", {"clip_id": world.clip, "changes": {"name": "Mine"}})
        assert not failed, text
        failed, text = await outcome(http, "create_project", {"name": "Second"})
        assert not failed, text
        created = json.loads(text)["id"]
        failed, text = await outcome(http, "create_scene", {"project_id": created, "name": "Intro"})
        assert not failed, text
    stored = await services.database.collection("projects").find_one({"id": created})
    assert stored is not None and stored["owner_id"] == ana.id
    assert (await services.clips.get(world.clip)).name == "Mine"


async def test_an_admin_reaches_every_project(tools: ToolClient) -> None:
    services = tools.services
    ana, root = await account(services, "ana"), await account(services, "root", admin=True)
    world = await ana_owns_the_world(services, await build_world(tools), ana.id)
    token = (await services.users.tokens.create(root.id, "laptop")).token
    async with serving(services, toolsets=TOOLSETS) as base, client(base, token) as http:
        for name in ("get_project", "get_clip", "list_media", "get_render_job"):
            failed, text = await outcome(http, name, READS[name](world))
            assert not failed, f"{name}: {text[:300]}"


def _words(text: str) -> list[str]:
    """Every id-shaped token of ``text`` (ids are UUID strings, media entry ids included)."""
    return re.findall(UUID, text)



async def test_resources_subscriptions_and_completions_show_another_users_project_to_no_one(tools: ToolClient) -> None:
    services = tools.services
    ana, bob = await account(services, "ana"), await account(services, "bob")
    world = await ana_owns_the_world(services, await build_world(tools), ana.id)
    bob_token = (await services.users.tokens.create(bob.id, "laptop")).token
    hers = [f"storyboard://projects/{world.project}", f"storyboard://projects/{world.project}/storyboard.md",
            f"storyboard://projects/{world.project}/timeline.otio", f"storyboard://scenes/{world.scene}",
            f"storyboard://clips/{world.clip}", f"storyboard://characters/{world.character}",
            f"storyboard://characters/{world.character}/facefusion", f"storyboard://style-templates/{world.template}",
            f"storyboard://facefusion-jobs/{world.queued_job}", f"storyboard://facefusion-presets/{world.preset}",
            f"storyboard://generation-batches/{world.queued_batch}", f"storyboard://render-jobs/{world.render_job}",
            f"storyboard://media/{world.media}"]
    secret = ids_of_ana(world)
    async with serving(services, toolsets=TOOLSETS) as base:
        async with client(base, bob_token) as http:
            for uri in hers:
                with pytest.raises(MCPError, match=r"\[not-found\]"):
                    await http.read_resource(uri)
            recent = await http.read_resource("storyboard://projects")
            assert not secret & set(_words(json.dumps(recent.model_dump(mode="json"))))
            for ref in (ResourceTemplateReference(uri="storyboard://projects/{project_id}"),
                        PromptReference(name="review_continuity")):
                completed = await http.complete(ref, {"name": "project_id", "value": ""})
                assert world.project not in completed.completion.values
            for template, name, value in (("clips", "clip_id", world.clip[:4]), ("characters", "character_id", ""),
                                          ("style-templates", "template_id", "")):
                completed = await http.complete(ResourceTemplateReference(uri=f"storyboard://{template}/{{{name}}}"),
                                                {"name": name, "value": value})
                assert not secret & set(completed.completion.values), name
            with pytest.raises(MCPError, match=r"\[not-found\]"):
                async with http.listen(resource_subscriptions=[hers[0]]):
                    pass
        async with client(base, bob_token, mode="legacy") as legacy:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MCPDeprecationWarning)
                for uri in (hers[0], hers[4], hers[-1]):
                    with pytest.raises(MCPError, match=r"\[not-found\]"):
                        await legacy.subscribe_resource(uri)


async def test_the_shared_library_is_everyones_to_use_and_only_admins_to_change(tools: ToolClient) -> None:
    services = tools.services
    bob = await account(services, "bob")
    library = (await tools.call("create_style_template", name="Film grain"))["id"]
    token = (await services.users.tokens.create(bob.id, "laptop")).token
    async with serving(services, toolsets=TOOLSETS) as base, client(base, token) as http:
        project = json.loads((await outcome(http, "create_project", {"name": "Mine"}))[1])["id"]
        scene = json.loads((await outcome(http, "create_scene", {"project_id": project, "name": "One"}))[1])["id"]
        clip = json.loads((await outcome(http, "create_clip", {"scene_id": scene, "name": "Shot"}))[1])["id"]
        assert (await outcome(http, "get_style_template", {"template_id": library}))[0] is False
        failed, text = await outcome(http, "apply_style_template", {"clip_id": clip, "template_id": library})
        assert not failed, text
        for name, arguments in (("update_style_template", {"template_id": library, "patch": {"name": "Mine"}}),
                                ("delete_style_template", {"template_id": library, "confirm": True}),
                                ("create_style_template", {"name": "Another"})):
            failed, text = await outcome(http, name, arguments)
            assert failed and text.startswith("[forbidden] library templates"), (name, text)
    assert (await services.style_templates.get(library)).name == "Film grain"


async def test_parallel_calls_of_two_users_each_see_only_their_own(tools: ToolClient) -> None:
    """The scope is per request: calls of two users interleaved on one server never see each other's projects
    (5 rounds of 24 parallel calls; on embedded the calls really interleave)."""
    services = tools.services
    ana, bob = await account(services, "ana"), await account(services, "bob")
    own = {user.id: {(await services.projects.create(f"{user.username} {n}", owner_id=user.id)).id for n in range(3)}
           for user in (ana, bob)}
    tokens = {user.id: (await services.users.tokens.create(user.id, "laptop")).token for user in (ana, bob)}
    seen: list[tuple[str, set[str], bool]] = []
    async with serving(services, toolsets=TOOLSETS) as base:

        async def look(user_id: str, http: Client, other: str) -> None:
            listed = json.loads((await outcome(http, "list_projects", {}))[1])
            failed, _ = await outcome(http, "get_project", {"project_id": other})
            seen.append((user_id, {p["id"] for p in listed["items"]}, failed))

        async with client(base, tokens[ana.id]) as hers, client(base, tokens[bob.id]) as his:
            for _ in range(5):
                async with anyio.create_task_group() as group:
                    for n in range(12):
                        group.start_soon(look, ana.id, hers, sorted(own[bob.id])[n % 3])
                        group.start_soon(look, bob.id, his, sorted(own[ana.id])[n % 3])
    assert len(seen) == 120
    assert all(ids == own[user] and refused for user, ids, refused in seen)
