"""The character service on every backend: unique names, partial updates, deletes that clear references, and
idempotent assignment that never touches prompts."""

from __future__ import annotations


import anyio
import pytest

from mcp_storyboard.errors import ConflictError, InvalidStateError, NotFoundError, ValidationError
from mcp_storyboard.models.characters import Character
from mcp_storyboard.models.facefusion import FaceFusionHistoryEntry, FaceFusionPreferredSettings
from mcp_storyboard.models.characters import CharacterChanges
from mcp_storyboard.services.container import Services
from tests.seed import seed_clip, seed_project, snapshot


async def test_create_returns_the_character_and_get_adds_default_facefusion_fields(services: Services) -> None:
    pid = await seed_project(services)
    created = await services.characters.create(
        pid, "  Alice ", description="a knight", reference_images=["https://x.test/a.png"], lora="alice:0.8",
        trigger_words="alc1", style_notes="painterly",
    )  # fmt: skip
    assert (created.name, created.lora, created.trigger_words, created.clip_count) == ("Alice", "alice:0.8", "alc1", 0)
    details = await services.characters.get(created.id)
    assert details.facefusion_history_count == 0 and not details.facefusion_settings_customised
    assert details.facefusion_preferred_settings == FaceFusionPreferredSettings()
    assert details.model_dump(include=set(type(created).model_fields)) == created.model_dump()


async def test_create_refuses_a_name_taken_in_the_project_ignoring_case(services: Services) -> None:
    pid, other = await seed_project(services), await seed_project(services, "Other")
    first = await services.characters.create(pid, "Alice")
    before = await snapshot(services)
    with pytest.raises(ConflictError) as caught:
        await services.characters.create(pid, "ALICE")
    assert caught.value.code == "duplicate" and caught.value.field == "name"
    assert first.id in str(caught.value) and "choose another name" in str(caught.value).lower()
    assert await snapshot(services) == before
    assert (await services.characters.create(other, "alice")).name == "alice"  # another project is another scope


async def test_names_with_pattern_characters_are_compared_as_plain_text(services: Services) -> None:
    pid = await seed_project(services)
    await services.characters.create(pid, "A.B (x)+")
    assert (await services.characters.create(pid, "AxB (x)+")).name == "AxB (x)+"
    assert (await services.characters.create(pid, "A.B (x)")).name == "A.B (x)"
    with pytest.raises(ConflictError):
        await services.characters.create(pid, "a.b (X)+")


async def test_create_in_an_unknown_project_is_refused(services: Services) -> None:
    with pytest.raises(NotFoundError, match="project 'ghost'"):
        await services.characters.create("ghost", "Alice")


async def test_concurrent_creates_of_one_name_leave_at_most_one_character(services: Services) -> None:
    pid = await seed_project(services)
    outcomes: list[str] = []

    async def create(name: str) -> None:
        try:
            await services.characters.create(pid, name)
            outcomes.append("created")
        except ConflictError:
            outcomes.append("refused")

    async with anyio.create_task_group() as group:
        for name in ("Alice", "alice", "ALICE", "Alice", "aLiCe"):
            group.start_soon(create, name)
    names = [c.name for c in await services.repositories.characters.list_for_project(pid)]
    assert len(names) <= 1 and outcomes.count("created") == len(names) and len(outcomes) == 5


async def test_get_reports_history_count_and_chosen_settings(services: Services) -> None:
    pid = await seed_project(services)
    settings = FaceFusionPreferredSettings(face_selector_mode="many")
    history = [FaceFusionHistoryEntry(operation_type="enhance", input_image_url="/uploads/a.png", success=True)] * 3
    stored = await services.repositories.characters.insert(
        Character(project_id=pid, name="Bob", facefusion_preferred_settings=settings,
                  facefusion_processing_history=history)
    )
    details = await services.characters.get(stored.id)
    assert details.facefusion_history_count == 3 and details.facefusion_settings_customised
    assert details.facefusion_preferred_settings.face_selector_mode == "many"


async def test_list_pages_by_name_filters_and_counts_clips(services: Services) -> None:
    pid = await seed_project(services)
    ids = {n: (await services.characters.create(pid, n)).id for n in ("Cleo", "alice", "Bob", "Dora")}
    await seed_clip(services, pid, character_id=ids["Bob"])
    await seed_clip(services, pid, "Two", character_id=ids["Bob"])
    first = await services.characters.list_page(pid, limit=2)
    rest = await services.characters.list_page(pid, limit=2, cursor=first.next_cursor)
    assert [c.name for c in first.items + rest.items] == ["Bob", "Cleo", "Dora", "alice"]  # binary name order
    assert rest.next_cursor is None and first.items[0].clip_count == 2
    assert [c.name for c in (await services.characters.list_page(pid, name_contains="O")).items] == ["Bob", "Cleo",
                                                                                                      "Dora"]
    assert (await services.characters.list_page(pid, name_contains=".*")).items == []
    with pytest.raises(NotFoundError):
        await services.characters.list_page("ghost")


async def test_update_is_partial_and_null_clears_an_optional_field(services: Services) -> None:
    pid = await seed_project(services)
    created = await services.characters.create(pid, "Alice", description="d", lora="alice", trigger_words="alc1")
    updated = await services.characters.update(created.id, CharacterChanges(lora=None, description="new"))
    assert (updated.name, updated.description, updated.lora, updated.trigger_words) == ("Alice", "new", None, "alc1")


async def test_update_refuses_an_empty_patch_and_a_taken_name_but_allows_a_case_change(services: Services) -> None:
    pid = await seed_project(services)
    alice = await services.characters.create(pid, "Alice")
    bob = await services.characters.create(pid, "Bob")
    with pytest.raises(ValidationError, match="patch"):
        await services.characters.update(alice.id, CharacterChanges())
    with pytest.raises(ConflictError) as caught:
        await services.characters.update(alice.id, CharacterChanges(name="bob"))
    assert caught.value.field == "name" and bob.id in str(caught.value)  # the holder, on every backend
    assert (await services.characters.update(alice.id, CharacterChanges(name="ALICE"))).name == "ALICE"


async def test_delete_without_references_needs_no_confirmation(services: Services) -> None:
    pid = await seed_project(services)
    created = await services.characters.create(pid, "Alice")
    deletion = await services.characters.delete(created.id, confirm=False)
    assert (deletion.clips_cleared, deletion.name) == (0, "Alice")
    with pytest.raises(NotFoundError):
        await services.characters.get(created.id)


async def test_delete_of_a_used_character_needs_confirm_and_writes_nothing_without_it(services: Services) -> None:
    pid = await seed_project(services)
    created = await services.characters.create(pid, "Alice")
    await seed_clip(services, pid, character_id=created.id)
    await seed_clip(services, pid, "Two", character_id=created.id)
    before = await snapshot(services)
    with pytest.raises(InvalidStateError) as caught:
        await services.characters.delete(created.id, confirm=False)
    assert caught.value.code == "confirmation-required" and "2 clip(s)" in str(caught.value)
    assert "confirm=true" in str(caught.value)
    assert await snapshot(services) == before


async def test_delete_with_confirm_clears_the_references_and_nothing_else(services: Services) -> None:
    pid = await seed_project(services)
    alice = await services.characters.create(pid, "Alice")
    bob = await services.characters.create(pid, "Bob")
    used = [await seed_clip(services, pid, f"S{i}", character_id=alice.id, image_prompt=f"p{i}") for i in range(3)]
    other = await seed_clip(services, pid, "Other", character_id=bob.id, image_prompt="keep")
    before = await snapshot(services)
    deletion = await services.characters.delete(alice.id, confirm=True)
    assert deletion.clips_cleared == 3 and sorted(deletion.cleared_clip_ids) == sorted(c.id for c in used)
    after = await snapshot(services)
    assert [c["id"] for c in after["characters"]] == [bob.id]
    changed = {c.id for c in used}
    for old, new in zip(before["clips"], after["clips"], strict=True):
        if new["id"] in changed:
            assert new["character_id"] is None
            assert {k: v for k, v in new.items() if k not in ("character_id", "updated_at")} == {
                k: v for k, v in old.items() if k not in ("character_id", "updated_at")
            }
        else:
            assert new == old
    assert (await services.repositories.clips.get(other.id)).character_id == bob.id
    assert {k: v for k, v in after.items() if k not in ("characters", "clips")} == {
        k: v for k, v in before.items() if k not in ("characters", "clips")
    }


async def test_assign_links_a_clip_without_touching_its_prompts_and_is_idempotent(services: Services) -> None:
    pid = await seed_project(services)
    alice = await services.characters.create(pid, "Alice", trigger_words="alc1")
    shot = await seed_clip(services, pid, image_prompt="castle", video_prompt="pan")
    first = await services.characters.assign(shot.id, alice.id)
    assert (first.character_id, first.character_name, first.previous_character_id, first.changed) == (
        alice.id, "Alice", None, True
    )
    after_first = await services.repositories.clips.get(shot.id)
    again = await services.characters.assign(shot.id, alice.id)
    assert (again.changed, again.previous_character_id) == (False, alice.id)
    stored = await services.repositories.clips.get(shot.id)
    assert (stored.image_prompt, stored.video_prompt, stored.character_id) == ("castle", "pan", alice.id)
    assert stored.updated_at == after_first.updated_at  # the repeat wrote nothing


async def test_assign_none_unassigns_and_repeating_it_changes_nothing(services: Services) -> None:
    pid = await seed_project(services)
    alice = await services.characters.create(pid, "Alice")
    shot = await seed_clip(services, pid, character_id=alice.id)
    removed = await services.characters.assign(shot.id, None)
    assert (removed.character_id, removed.previous_character_id, removed.changed) == (None, alice.id, True)
    assert (await services.characters.assign(shot.id, None)).changed is False
    assert (await services.repositories.clips.get(shot.id)).character_id is None


async def test_assign_refuses_a_character_of_another_project_naming_the_candidates(services: Services) -> None:
    pid, other = await seed_project(services), await seed_project(services, "Other")
    mine = await services.characters.create(pid, "Alice")
    theirs = await services.characters.create(other, "Zed")
    shot = await seed_clip(services, pid)
    before = await snapshot(services)
    with pytest.raises(ValidationError) as caught:
        await services.characters.assign(shot.id, theirs.id)
    assert caught.value.field == "character_id" and f"Alice ({mine.id})" in str(caught.value)
    with pytest.raises(NotFoundError, match=f"Alice \\({mine.id}\\)"):
        await services.characters.assign(shot.id, "ghost")
    with pytest.raises(NotFoundError, match="clip 'ghost'"):
        await services.characters.assign("ghost", mine.id)
    assert await snapshot(services) == before


async def test_concurrent_assignments_of_one_character_write_the_clip_once(services: Services) -> None:
    pid = await seed_project(services)
    alice = await services.characters.create(pid, "Alice")
    shot = await seed_clip(services, pid)
    changed: list[bool] = []

    async def assign() -> None:
        changed.append((await services.characters.assign(shot.id, alice.id)).changed)

    async with anyio.create_task_group() as group:
        for _ in range(8):
            group.start_soon(assign)
    assert changed.count(True) == 1


async def test_completion_matches_names_and_ids_by_prefix_within_a_project(services: Services) -> None:
    pid, other = await seed_project(services), await seed_project(services, "Other")
    alice = await services.characters.create(pid, "Alice")
    await services.characters.create(pid, "Bob")
    await services.characters.create(other, "Alfred")
    assert await services.characters.complete(pid, "al", limit=10) == [(alice.id, "Alice")]
    assert sorted(n for _, n in await services.characters.complete(None, "AL", limit=10)) == ["Alfred", "Alice"]
    assert await services.characters.complete(pid, alice.id[:6], limit=10) == [(alice.id, "Alice")]
    assert await services.characters.complete(pid, "(", limit=10) == []
