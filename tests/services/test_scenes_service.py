"""The scene service on every backend: nesting, ordering, cascades and alternate timelines."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from mcp_storyboard.errors import InvalidStateError, NotFoundError, ValidationError
from mcp_storyboard.models.clips import Clip, GeneratedMedia
from mcp_storyboard.models.scenes import Scene, ScenePatch
from mcp_storyboard.services.common.alternates import counter_key
from mcp_storyboard.services.container import Services
from mcp_storyboard.services.scenes.rules import MAX_DEPTH
from tests.seed import seed_project, snapshot


async def orders(services: Services, project_id: str, parent: str | None = None) -> list[tuple[str, int]]:
    return [(s.name, s.order) for s in await services.repositories.scenes.siblings(project_id, parent)]


async def add_clip(services: Services, scene: Scene, order: int, position: float, **fields: Any) -> Clip:
    clip = Clip(scene_id=scene.id, project_id=scene.project_id, name=f"c{order}", order=order,
                timeline_position=position, duration=2.0, **fields)
    return await services.repositories.clips.insert(clip)


# -- create, nesting ---------------------------------------------------------------------------------------
async def test_scenes_are_appended_in_dense_order_and_a_position_shifts_the_later_siblings(services: Services) -> None:
    pid = await seed_project(services)
    for name in ("A", "B", "C"):
        await services.scenes.create(pid, name=name)
    inserted = await services.scenes.create(pid, name="X", position=1)
    assert inserted.order == 1
    assert await orders(services, pid) == [("A", 0), ("X", 1), ("B", 2), ("C", 3)]


async def test_concurrent_appends_end_with_dense_orders(services: Services) -> None:
    pid = await seed_project(services)

    async def append(i: int) -> None:
        await services.scenes.create(pid, name=f"S{i}")

    async with anyio.create_task_group() as tg:
        for i in range(5):
            tg.start_soon(append, i)
    assert sorted(order for _, order in await orders(services, pid)) == [0, 1, 2, 3, 4]


async def test_concurrent_inserts_at_the_front_shift_everyone_and_end_dense(services: Services) -> None:
    pid = await seed_project(services)
    for name in ("Old1", "Old2"):
        await services.scenes.create(pid, name=name)

    async def insert_first(i: int) -> None:
        await services.scenes.create(pid, name=f"New{i}", position=0)

    async with anyio.create_task_group() as tg:
        for i in range(5):
            tg.start_soon(insert_first, i)
    final = await orders(services, pid)
    assert [order for _, order in final] == list(range(7))
    assert [name for name, _ in final][-2:] == ["Old1", "Old2"]


async def test_a_position_past_the_end_is_refused_and_nothing_is_written(services: Services) -> None:
    pid = await seed_project(services)
    await services.scenes.create(pid, name="A")
    before = await snapshot(services)
    with pytest.raises(ValidationError, match=r"position.*0\.\.1"):
        await services.scenes.create(pid, name="B", position=2)
    assert await snapshot(services) == before


async def test_scenes_nest_down_to_depth_five_and_no_deeper(services: Services) -> None:
    pid = await seed_project(services)
    parent = None
    for level in range(1, MAX_DEPTH + 1):
        parent = (await services.scenes.create(pid, name=f"L{level}", parent_scene_id=parent)).id
    before = await snapshot(services)
    with pytest.raises(InvalidStateError) as caught:
        await services.scenes.create(pid, name="too deep", parent_scene_id=parent)
    assert caught.value.code == "invalid-parent"
    assert "over the limit of 5" in str(caught.value)
    assert await snapshot(services) == before


async def test_a_parent_from_another_project_is_refused_with_this_projects_candidates(services: Services) -> None:
    pid, other = await seed_project(services), await seed_project(services, "Other")
    here = await services.scenes.create(pid, name="Intro")
    foreign = await services.scenes.create(other, name="Elsewhere")
    with pytest.raises(InvalidStateError) as caught:
        await services.scenes.create(pid, name="Sub", parent_scene_id=foreign.id)
    assert caught.value.code == "invalid-parent"
    assert f"is not a scene of project {pid}" in str(caught.value)
    assert f"Intro ({here.id})" in str(caught.value)


async def test_an_alternate_cannot_hold_sub_scenes(services: Services) -> None:
    pid = await seed_project(services)
    alternate = await services.scenes.create_alternate((await services.scenes.create(pid, name="A")).id)
    with pytest.raises(InvalidStateError, match="only main scenes hold sub-scenes"):
        await services.scenes.create(pid, name="Sub", parent_scene_id=alternate.id)


async def test_creating_in_a_missing_project_is_not_found(services: Services) -> None:
    with pytest.raises(NotFoundError, match="project 'nope' does not exist"):
        await services.scenes.create("nope", name="A")


# -- reads ---------------------------------------------------------------------------------------------------
async def test_a_scene_is_read_with_its_clips_in_order_its_sub_scenes_and_alternates(services: Services) -> None:
    pid = await seed_project(services)
    scene = await services.scenes.create(pid, name="Verse")
    second = await add_clip(services, scene, 1, 2.0)
    first = await add_clip(services, scene, 0, 0.0)
    sub = await services.scenes.create(pid, name="Detail", parent_scene_id=scene.id)
    alternate = await services.scenes.create_alternate(scene.id)
    read = await services.scenes.get_with_clips(scene.id)
    assert [c.id for c in read.clips] == [first.id, second.id]
    assert (read.sub_scene_ids, read.alternate_ids) == ([sub.id], [alternate.id])


async def test_lists_filter_by_parent_top_level_and_alternates_across_pages(services: Services) -> None:
    pid = await seed_project(services)
    top = [await services.scenes.create(pid, name=f"T{i}") for i in range(3)]
    sub = await services.scenes.create(pid, name="Sub", parent_scene_id=top[0].id)
    alternate = await services.scenes.create_alternate(top[1].id)
    first = await services.scenes.list_for_project(pid, top_level_only=True, limit=2)
    rest = await services.scenes.list_for_project(pid, top_level_only=True, limit=2, cursor=first.next_cursor)
    assert [s.name for s in first.items + rest.items] == ["T0", "T1", "T2"]
    assert rest.next_cursor is None
    children = await services.scenes.list_for_project(pid, parent_scene_id=top[0].id)
    assert [s.id for s in children.items] == [sub.id]
    everything = await services.scenes.list_for_project(pid, include_alternates=True)
    assert alternate.id in {s.id for s in everything.items}
    assert alternate.id not in {s.id for s in (await services.scenes.list_for_project(pid)).items}
    with pytest.raises(ValidationError, match="top_level"):
        await services.scenes.list_for_project(pid, parent_scene_id=top[0].id, top_level_only=True)


# -- update ----------------------------------------------------------------------------------------------------
async def test_an_update_changes_only_the_given_fields_and_refuses_order(services: Services) -> None:
    pid = await seed_project(services)
    scene = await services.scenes.create(pid, name="A", description="keep", lyrics="la")
    updated = await services.scenes.update(scene.id, ScenePatch(name="B", lyrics=""))
    assert (updated.name, updated.description, updated.lyrics) == ("B", "keep", "")
    with pytest.raises(ValidationError, match="reorder_scenes"):
        await services.scenes.update(scene.id, ScenePatch(order=3))
    with pytest.raises(ValidationError, match="nothing to change"):
        await services.scenes.update(scene.id, ScenePatch())
    with pytest.raises(NotFoundError):
        await services.scenes.update("nope", ScenePatch(name="C"))


# -- delete ----------------------------------------------------------------------------------------------------
async def test_deleting_a_leaf_scene_needs_no_confirmation_and_re_densifies_its_siblings(services: Services) -> None:
    pid = await seed_project(services)
    scenes = [await services.scenes.create(pid, name=n) for n in "ABC"]
    deletion = await services.scenes.delete(scenes[0].id)
    assert (deletion.deleted_scene_ids, deletion.deleted_clip_count) == ([scenes[0].id], 0)
    assert await orders(services, pid) == [("B", 0), ("C", 1)]


async def test_a_cascading_delete_without_confirm_says_what_would_go_and_changes_nothing(services: Services) -> None:
    pid = await seed_project(services)
    scene = await services.scenes.create(pid, name="A")
    await services.scenes.create(pid, name="Sub", parent_scene_id=scene.id)
    await services.scenes.create_alternate(scene.id)
    await add_clip(services, scene, 0, 0.0)
    before = await snapshot(services)
    with pytest.raises(InvalidStateError) as caught:
        await services.scenes.delete(scene.id)
    assert caught.value.code == "confirmation-required"
    assert "1 sub-scene(s), 1 alternate(s) and 1 clip(s)" in str(caught.value)
    assert await snapshot(services) == before


async def test_a_confirmed_delete_takes_sub_scenes_alternates_clips_and_counters(services: Services) -> None:
    pid = await seed_project(services)
    keep = await services.scenes.create(pid, name="Keep")
    scene = await services.scenes.create(pid, name="A", position=0)
    sub = await services.scenes.create(pid, name="Sub", parent_scene_id=scene.id)
    deep = await services.scenes.create(pid, name="Deep", parent_scene_id=sub.id)
    sub_alternate = await services.scenes.create_alternate(sub.id)
    await add_clip(services, deep, 0, 0.0)
    await add_clip(services, sub_alternate, 0, 0.0)
    kept_clip = await add_clip(services, keep, 0, 0.0)
    deletion = await services.scenes.delete(scene.id, confirm=True)
    assert set(deletion.deleted_scene_ids) == {scene.id, sub.id, deep.id, sub_alternate.id}
    assert deletion.deleted_clip_count == 2
    remaining = await services.repositories.scenes.list_for_project(pid)
    assert [(s.id, s.order) for s in remaining] == [(keep.id, 0)]
    assert [c.id for c in await services.repositories.clips.list_for_project(pid)] == [kept_clip.id]
    counters = await services.database.collection("counters").find({}).to_list(None)
    assert counter_key("scene", sub.id) not in {c["_id"] for c in counters}


# -- reorder ---------------------------------------------------------------------------------------------------
async def test_reorder_applies_a_full_sibling_list_as_dense_orders(services: Services) -> None:
    pid = await seed_project(services)
    a, b, c = [await services.scenes.create(pid, name=n) for n in "ABC"]
    result = await services.scenes.reorder(pid, [c.id, a.id, b.id])
    assert [(s.name, s.order) for s in result.scenes] == [("C", 0), ("A", 1), ("B", 2)]
    assert await orders(services, pid) == [("C", 0), ("A", 1), ("B", 2)]


async def test_reorder_of_sub_scenes_needs_their_parent(services: Services) -> None:
    pid = await seed_project(services)
    parent = await services.scenes.create(pid, name="P")
    x, y = [await services.scenes.create(pid, name=n, parent_scene_id=parent.id) for n in "XY"]
    await services.scenes.reorder(pid, [y.id, x.id], parent_scene_id=parent.id)
    assert await orders(services, pid, parent.id) == [("Y", 0), ("X", 1)]
    with pytest.raises(ValidationError, match="missing"):
        await services.scenes.reorder(pid, [y.id, x.id])


@pytest.mark.parametrize("case", ["missing", "extra", "foreign", "repeated", "alternate"])
async def test_reorder_with_a_wrong_list_is_refused_and_nothing_is_written(services: Services, case: str) -> None:
    pid = await seed_project(services)
    a, b = [await services.scenes.create(pid, name=n) for n in "AB"]
    foreign = await services.scenes.create(await seed_project(services, "Other"), name="F")
    alternate = await services.scenes.create_alternate(a.id)
    ids = {"missing": [b.id], "extra": [b.id, a.id, "ghost"], "foreign": [b.id, a.id, foreign.id],
           "repeated": [b.id, a.id, a.id], "alternate": [b.id, a.id, alternate.id]}[case]
    before = await snapshot(services)
    with pytest.raises(ValidationError) as caught:
        await services.scenes.reorder(pid, ids)
    assert caught.value.field == "scene_ids"
    assert f"current order is: {a.id}, {b.id}" in str(caught.value)
    assert await snapshot(services) == before


# -- move ------------------------------------------------------------------------------------------------------
async def test_moving_under_a_new_parent_re_densifies_both_sibling_lists(services: Services) -> None:
    pid = await seed_project(services)
    a, _, c = [await services.scenes.create(pid, name=n) for n in "ABC"]
    await services.scenes.create(pid, name="X", parent_scene_id=c.id)
    moved = await services.scenes.move(a.id, parent_scene_id=c.id, position=0)
    assert (moved.parent_scene_id, moved.order) == (c.id, 0)
    assert await orders(services, pid) == [("B", 0), ("C", 1)]
    assert await orders(services, pid, c.id) == [("A", 0), ("X", 1)]
    back = await services.scenes.move(a.id, to_top_level=True, position=1)
    assert (back.parent_scene_id, back.order) == (None, 1)
    assert await orders(services, pid) == [("B", 0), ("A", 1), ("C", 2)]
    assert await orders(services, pid, c.id) == [("X", 0)]


async def test_a_move_within_the_same_parent_only_changes_positions(services: Services) -> None:
    pid = await seed_project(services)
    a = (await services.scenes.create(pid, name="A"))
    for n in "BC":
        await services.scenes.create(pid, name=n)
    await services.scenes.move(a.id, position=2)
    assert await orders(services, pid) == [("B", 0), ("C", 1), ("A", 2)]


async def test_moving_a_scene_under_its_own_descendant_is_refused(services: Services) -> None:
    pid = await seed_project(services)
    a = await services.scenes.create(pid, name="A")
    child = await services.scenes.create(pid, name="Child", parent_scene_id=a.id)
    before = await snapshot(services)
    for target in (a.id, child.id):
        with pytest.raises(InvalidStateError, match="cycle") as caught:
            await services.scenes.move(a.id, parent_scene_id=target)
        assert caught.value.code == "invalid-parent"
    assert await snapshot(services) == before


async def test_moving_a_subtree_deeper_than_five_levels_is_refused(services: Services) -> None:
    pid = await seed_project(services)
    deep = None
    for level in range(1, 4):
        deep = (await services.scenes.create(pid, name=f"L{level}", parent_scene_id=deep)).id
    a = await services.scenes.create(pid, name="A")
    b = await services.scenes.create(pid, name="B", parent_scene_id=a.id)
    await services.scenes.create(pid, name="C", parent_scene_id=b.id)
    with pytest.raises(InvalidStateError, match="would reach depth 6"):
        await services.scenes.move(a.id, parent_scene_id=deep)


async def test_an_alternate_cannot_be_moved_on_its_own(services: Services) -> None:
    pid = await seed_project(services)
    original = await services.scenes.create(pid, name="A")
    alternate = await services.scenes.create_alternate(original.id)
    with pytest.raises(InvalidStateError, match=f"(?i)move scene {original.id} instead") as caught:
        await services.scenes.move(alternate.id, position=0)
    assert caught.value.code == "invalid-parent"


async def test_a_move_with_nothing_to_do_or_contradicting_targets_is_refused(services: Services) -> None:
    pid = await seed_project(services)
    a, b = [await services.scenes.create(pid, name=n) for n in "AB"]
    with pytest.raises(ValidationError, match="nothing to move"):
        await services.scenes.move(a.id)
    with pytest.raises(ValidationError, match="top_level"):
        await services.scenes.move(a.id, parent_scene_id=b.id, to_top_level=True)


# -- alternates ------------------------------------------------------------------------------------------------
async def test_alternates_are_numbered_and_an_alternate_of_an_alternate_joins_the_original(services: Services) -> None:
    pid = await seed_project(services)
    original = await services.scenes.create(pid, name="Chorus", description="d", lyrics="l")
    first = await services.scenes.create_alternate(original.id)
    second = await services.scenes.create_alternate(first.id)
    assert [(s.name, s.alternate_number, s.parent_scene_id, s.is_alternate) for s in (first, second)] == [
        ("Chorus A1", 1, original.id, True), ("Chorus A2", 2, original.id, True)]
    assert (first.description, first.lyrics) == ("d", "l")
    family = await services.scenes.family(second.id)
    assert family.original.id == original.id
    assert [a.id for a in family.alternates] == [first.id, second.id]
    assert await orders(services, pid) == [("Chorus", 0)]


async def test_concurrent_alternates_never_share_a_number(services: Services) -> None:
    pid = await seed_project(services)
    original = await services.scenes.create(pid, name="Chorus")
    made: list[Scene] = []

    async def make() -> None:
        made.append(await services.scenes.create_alternate(original.id))

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(make)
    assert sorted(s.alternate_number or 0 for s in made) == [1, 2, 3, 4, 5]
    assert len({s.name for s in made}) == 5


async def test_numbering_continues_above_alternates_that_predate_the_counter(services: Services) -> None:
    pid = await seed_project(services)
    original = await services.scenes.create(pid, name="Chorus")
    legacy = Scene(project_id=pid, name="Chorus A7", parent_scene_id=original.id, is_alternate=True, alternate_number=7)
    await services.repositories.scenes.insert(legacy)
    assert (await services.scenes.create_alternate(original.id)).name == "Chorus A8"


async def test_copy_clips_copies_main_clips_with_new_ids_same_timing_and_an_empty_gallery(services: Services) -> None:
    pid = await seed_project(services)
    scene = await services.scenes.create(pid, name="Verse")
    media = GeneratedMedia(url="https://example.com/a.png")
    main = await add_clip(services, scene, 0, 1.5, image_prompt="p", generated_images=[media],
                          selected_image_id=media.id)
    await add_clip(services, scene, 1, 1.5, alternate_of=main.id, alternate_number=1)
    alternate = await services.scenes.create_alternate(scene.id, copy_clips=True)
    assert len(alternate.clips) == 1
    copy = alternate.clips[0]
    assert copy.id != main.id and copy.scene_id == alternate.id
    assert (copy.timeline_position, copy.duration, copy.order, copy.image_prompt) == (1.5, 2.0, 0, "p")
    assert (copy.generated_images, copy.selected_image_id, copy.alternate_of) == ([], None, None)
    stored = await services.repositories.clips.list_for_scene(alternate.id)
    assert stored == alternate.clips
    assert len(await services.repositories.clips.list_for_scene(scene.id)) == 2


async def test_without_copy_clips_the_alternate_starts_empty(services: Services) -> None:
    pid = await seed_project(services)
    scene = await services.scenes.create(pid, name="Verse")
    await add_clip(services, scene, 0, 0.0)
    assert (await services.scenes.create_alternate(scene.id)).clips == []


async def test_promoting_swaps_roles_and_takes_the_sub_scenes_and_promoting_back_restores(services: Services) -> None:
    pid = await seed_project(services)
    await services.scenes.create(pid, name="Before")
    original = await services.scenes.create(pid, name="Chorus")
    await services.scenes.create(pid, name="After")
    sub = await services.scenes.create(pid, name="Sub", parent_scene_id=original.id)
    first = await services.scenes.create_alternate(original.id)
    second = await services.scenes.create_alternate(original.id)

    result = await services.scenes.promote_alternate(second.id)
    promoted = result.scene
    assert (promoted.parent_scene_id, promoted.order, promoted.is_alternate, promoted.alternate_number) == (
        None, 1, False, None)
    by_id = {a.id: a for a in result.alternates}
    assert set(by_id) == {original.id, first.id}
    assert all(a.parent_scene_id == second.id and a.is_alternate for a in by_id.values())
    assert by_id[original.id].alternate_number == 2  # fresh: the next above the family it joins (A1)
    assert result.moved_sub_scene_ids == [sub.id]
    assert (await services.scenes.get(sub.id)).parent_scene_id == second.id
    assert await orders(services, pid) == [("Before", 0), ("Chorus A2", 1), ("After", 2)]

    back = await services.scenes.promote_alternate(original.id)
    assert (back.scene.id, back.scene.order, back.scene.parent_scene_id, back.scene.is_alternate) == (
        original.id, 1, None, False)
    assert {a.id for a in back.alternates} == {first.id, second.id}
    assert (await services.scenes.get(sub.id)).parent_scene_id == original.id
    assert await orders(services, pid) == [("Before", 0), ("Chorus", 1), ("After", 2)]


async def test_promoting_a_nested_alternate_keeps_it_under_the_same_parent(services: Services) -> None:
    pid = await seed_project(services)
    parent = await services.scenes.create(pid, name="P")
    child = await services.scenes.create(pid, name="Child", parent_scene_id=parent.id)
    alternate = await services.scenes.create_alternate(child.id)
    promoted = (await services.scenes.promote_alternate(alternate.id)).scene
    assert (promoted.parent_scene_id, promoted.order) == (parent.id, 0)
    assert await orders(services, pid, parent.id) == [("Child A1", 0)]


async def test_promoting_a_main_scene_is_refused_naming_its_alternates(services: Services) -> None:
    pid = await seed_project(services)
    original = await services.scenes.create(pid, name="A")
    alternate = await services.scenes.create_alternate(original.id)
    with pytest.raises(InvalidStateError) as caught:
        await services.scenes.promote_alternate(original.id)
    assert caught.value.code == "alternate-not-found"
    assert alternate.id in str(caught.value)


async def test_scene_ids_complete_within_a_project(services: Services) -> None:
    pid, other = await seed_project(services), await seed_project(services, "Other")
    mine = await services.scenes.create(pid, name="A")
    theirs = await services.scenes.create(other, name="B")
    assert await services.scenes.complete_ids("", project_id=pid) == [mine.id]
    assert await services.scenes.complete_ids(theirs.id[:8]) == [theirs.id]
    assert await services.scenes.complete_ids(".*") == []
