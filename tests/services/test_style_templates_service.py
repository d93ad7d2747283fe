"""The style template service on every backend: scopes and names, listing by use, applying with an exact
use_count under concurrency, deletes that clear references, and composed prompts that leave clips unchanged."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from mcp_storyboard.errors import ConflictError, InvalidStateError, NotFoundError, ValidationError
from mcp_storyboard.models.characters import Character
from mcp_storyboard.models.style_templates import StyleTemplatePatch
from mcp_storyboard.services.container import Services
from tests.seed import seed_clip, seed_project, seed_template, snapshot


async def test_create_makes_project_and_library_templates_with_names_unique_per_scope(services: Services) -> None:
    pid = await seed_project(services)
    own = await services.style_templates.create(pid, "Noir", prompt_additions="film noir", style_strength=0.5)
    library = await services.style_templates.create(None, "noir")
    assert (own.project_id, own.style_strength, own.use_count, library.project_id) == (pid, 0.5, 0, None)
    before = await snapshot(services)
    for scope in (pid, None):
        with pytest.raises(ConflictError) as caught:
            await services.style_templates.create(scope, "NOIR")
        assert caught.value.code == "duplicate" and caught.value.field == "name"
    assert await snapshot(services) == before
    with pytest.raises(NotFoundError, match="project 'ghost'"):
        await services.style_templates.create("ghost", "Noir")


async def test_list_orders_by_use_count_and_filters_by_scope(services: Services) -> None:
    pid, other = await seed_project(services), await seed_project(services, "Other")
    ids = {
        "p-low": await seed_template(services, pid, "p-low", 1),
        "lib-high": await seed_template(services, None, "lib-high", 9),
        "p-high": await seed_template(services, pid, "p-high", 5),
        "lib-low": await seed_template(services, None, "lib-low", 0),
        "foreign": await seed_template(services, other, "foreign", 100),
    }

    async def names(project_id: str | None, scope: Any = "all", **kw: Any) -> list[str]:
        page = await services.style_templates.list_page(project_id, scope=scope, **kw)
        return [t.name for t in page.items]

    assert await names(pid) == ["lib-high", "p-high", "p-low", "lib-low"]
    assert await names(pid, "project") == ["p-high", "p-low"]
    assert await names(pid, "library") == await names(None) == ["lib-high", "lib-low"]
    first = await services.style_templates.list_page(pid, limit=3)
    rest = await services.style_templates.list_page(pid, limit=3, cursor=first.next_cursor)
    assert [t.id for t in first.items + rest.items] == [ids[n] for n in ("lib-high", "p-high", "p-low", "lib-low")]
    with pytest.raises(ValidationError, match="project_id"):
        await services.style_templates.list_page(None, scope="project")
    with pytest.raises(NotFoundError):
        await services.style_templates.list_page("ghost")


async def test_update_is_partial_and_refuses_an_empty_patch_or_a_taken_name(services: Services) -> None:
    pid = await seed_project(services)
    tid = await seed_template(services, pid, "Noir", negative_prompt="blurry")
    await seed_template(services, pid, "Pastel")
    updated = await services.style_templates.update(tid, StyleTemplatePatch(style_strength=0.25))
    assert (updated.name, updated.negative_prompt, updated.style_strength) == ("Noir", "blurry", 0.25)
    with pytest.raises(ValidationError, match="patch"):
        await services.style_templates.update(tid, StyleTemplatePatch())
    with pytest.raises(ConflictError):
        await services.style_templates.update(tid, StyleTemplatePatch(name="pastel"))
    assert (await services.style_templates.update(tid, StyleTemplatePatch(name="NOIR"))).name == "NOIR"


async def test_apply_sets_the_clip_template_counts_once_and_keeps_prompts(services: Services) -> None:
    pid = await seed_project(services)
    tid = await seed_template(services, None, "Library")
    shot = await seed_clip(services, pid, image_prompt="castle")
    first = await services.style_templates.apply(shot.id, tid)
    assert (first.applied, first.use_count, first.previous_style_template_id) == (True, 1, None)
    again = await services.style_templates.apply(shot.id, tid)
    assert (again.applied, again.use_count) == (False, 1)
    stored = await services.repositories.clips.get(shot.id)
    assert (stored.style_template_id, stored.image_prompt) == (tid, "castle")


async def test_switching_templates_and_back_counts_each_application(services: Services) -> None:
    pid = await seed_project(services)
    a, b = await seed_template(services, pid, "A"), await seed_template(services, pid, "B")
    shot = await seed_clip(services, pid)
    await services.style_templates.apply(shot.id, a)
    switched = await services.style_templates.apply(shot.id, b)
    assert switched.previous_style_template_id == a
    assert (await services.style_templates.apply(shot.id, a)).use_count == 2


async def test_apply_refuses_a_template_of_another_project_and_unknown_ids(services: Services) -> None:
    pid, other = await seed_project(services), await seed_project(services, "Other")
    mine = await seed_template(services, pid, "Mine")
    foreign = await seed_template(services, other, "Foreign")
    shot = await seed_clip(services, pid)
    before = await snapshot(services)
    with pytest.raises(ValidationError) as caught:
        await services.style_templates.apply(shot.id, foreign)
    assert caught.value.field == "template_id" and f"Mine ({mine})" in str(caught.value)
    with pytest.raises(NotFoundError, match="style template 'ghost'"):
        await services.style_templates.apply(shot.id, "ghost")
    with pytest.raises(NotFoundError, match="clip 'ghost'"):
        await services.style_templates.apply("ghost", mine)
    assert await snapshot(services) == before


async def test_concurrent_applies_increment_use_count_exactly(services: Services) -> None:
    pid = await seed_project(services)
    tid = await seed_template(services, None, "Shared")
    shots = [await seed_clip(services, pid, f"S{i}") for i in range(8)]
    repeated = shots[0]

    async with anyio.create_task_group() as group:
        for shot in shots:
            group.start_soon(services.style_templates.apply, shot.id, tid)
        for _ in range(4):  # the same clip again: counted once in all
            group.start_soon(services.style_templates.apply, repeated.id, tid)
    assert (await services.style_templates.get(tid)).use_count == 8
    assert all(c.style_template_id == tid for c in await services.repositories.clips.list_for_project(pid))


async def test_delete_needs_confirm_when_used_and_then_clears_only_the_references(services: Services) -> None:
    pid = await seed_project(services)
    tid, keep = await seed_template(services, pid, "Gone"), await seed_template(services, pid, "Kept")
    used = await seed_clip(services, pid, style_template_id=tid, image_prompt="x")
    other = await seed_clip(services, pid, "Other", style_template_id=keep)
    before = await snapshot(services)
    with pytest.raises(InvalidStateError) as caught:
        await services.style_templates.delete(tid, confirm=False)
    assert caught.value.code == "confirmation-required" and "1 clip(s)" in str(caught.value)
    assert await snapshot(services) == before
    deletion = await services.style_templates.delete(tid, confirm=True)
    assert (deletion.clips_cleared, deletion.cleared_clip_ids) == (1, [used.id])
    cleared = await services.repositories.clips.get(used.id)
    assert (cleared.style_template_id, cleared.image_prompt) == (None, "x")
    assert (await services.repositories.clips.get(other.id)).style_template_id == keep
    assert [t["id"] for t in (await snapshot(services))["style_templates"]] == [keep]
    unused = await seed_template(services, None, "Unused")
    assert (await services.style_templates.delete(unused, confirm=False)).clips_cleared == 0


async def test_compose_reads_the_clip_character_and_template_and_writes_nothing(services: Services) -> None:
    pid = await seed_project(services)
    hero = await services.repositories.characters.insert(
        Character(project_id=pid, name="Alice", description="a knight", trigger_words="alc1", lora="alice")
    )
    tid = await seed_template(services, None, "Noir", prompt_additions="film noir", negative_prompt="blurry, text",
                         style_strength=0.8)
    shot = await seed_clip(services, pid, image_prompt="castle", character_id=hero.id, style_template_id=tid)
    before = await snapshot(services)
    composed = await services.style_templates.compose(shot.id, base_negative="text, watermark")
    assert composed.image.positive == "alc1 Alice, a knight. castle, (film noir:0.8) <lora:alice:1.0>"
    assert composed.video.positive == "alc1 Alice, a knight. (film noir:0.8) <lora:alice:1.0>"
    assert composed.image.negative == "text, watermark, blurry"
    assert await snapshot(services) == before
    assert await services.style_templates.compose(shot.id) == await services.style_templates.compose(shot.id)


async def test_compose_leaves_out_a_reference_that_no_longer_exists(services: Services) -> None:
    pid = await seed_project(services)
    shot = await seed_clip(services, pid, image_prompt="castle", character_id="gone-c", style_template_id="gone-t")
    composed = await services.style_templates.compose(shot.id)
    assert composed.image.positive == "castle" and composed.character_id is None
    assert len(composed.notes) == 2
    with pytest.raises(NotFoundError, match="clip 'ghost'"):
        await services.style_templates.compose("ghost")


async def test_completion_offers_the_projects_and_library_templates(services: Services) -> None:
    pid, other = await seed_project(services), await seed_project(services, "Other")
    own = await seed_template(services, pid, "Noir", 1)
    lib = await seed_template(services, None, "Neon", 5)
    await seed_template(services, other, "Nope")
    assert await services.style_templates.complete(pid, "n", limit=10) == [(lib, "Neon"), (own, "Noir")]
    assert len(await services.style_templates.complete(None, "N", limit=10)) == 3
