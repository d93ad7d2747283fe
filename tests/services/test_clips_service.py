"""The clip service on every backend: CRUD, timeline rules, alternates, order, moves, analysis and the gallery."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from mcp_storyboard.errors import ConflictError, InvalidStateError, NotFoundError, ValidationError
from mcp_storyboard.models.clips import Clip
from mcp_storyboard.models.scenes import Scene
from mcp_storyboard.services.common.alternates import counter_key
from mcp_storyboard.services.clips.order import check_exact_set, insert_block
from mcp_storyboard.services.clips.results import ClipChanges, NewClip
from mcp_storyboard.services.container import Services
from mcp_storyboard.services.common.timeline import SceneNode, timeline_sequence
from tests.seed import seed_project, seed_scene, snapshot


async def clip(
    services: Services, sc: Scene, name: str, position: float | None = None, duration: float = 5.0, **fields: Any
) -> Clip:
    new = NewClip(name=name, duration=duration, **fields)
    return await services.clips.create(sc.id, new, timeline_position=position)


async def layout(services: Services, scene_id: str) -> list[tuple[str, int, float, float]]:
    return [
        (c.name, c.order, c.timeline_position, c.duration)
        for c in await services.repositories.clips.list_for_scene(scene_id)
    ]


# -- pure order rules ----------------------------------------------------------------------------------------
def test_insert_block_refuses_an_order_past_the_end_with_the_range() -> None:
    assert insert_block(["a", "b"], ["x", "y"], 1) == ["a", "x", "y", "b"]
    with pytest.raises(ValidationError, match=r"order: 3 is outside 0\.\.2"):
        insert_block(["a", "b"], ["x"], 3)


def test_exact_set_check_names_duplicates_missing_and_foreign_ids() -> None:
    with pytest.raises(ValidationError) as err:
        check_exact_set(["a", "b", "c"], ["a", "a", "z"], scene="S")
    assert "listed twice: a" in str(err.value) and "missing: b, c" in str(err.value)
    assert "not clips of scene S: z" in str(err.value)


def test_timeline_sequence_plays_a_scene_then_its_sub_scenes_and_skips_alternates() -> None:
    nodes = [
        SceneNode("b", None, False, 1),
        SceneNode("a", None, False, 0),
        SceneNode("a1", "a", False, 0),
        SceneNode("alt", "a", True, 1),
        SceneNode("x", "alt", False, 0),
    ]
    assert timeline_sequence(nodes) == [("a", 0), ("a1", 1), ("b", 0)]
    assert timeline_sequence(nodes, root="alt") == [("alt", 0), ("x", 1)]


# -- create ----------------------------------------------------------------------------------------------------
async def test_create_clip_appends_at_the_end_of_the_main_timeline_with_the_scenes_project(services: Services) -> None:
    pid = await seed_project(services)
    sc = await seed_scene(services, pid)
    first = await clip(services, sc, "one")
    second = await clip(services, sc, "two", duration=2.5)
    assert (first.project_id, first.timeline_position, first.duration, first.order) == (pid, 0.0, 5.0, 0)
    assert (second.timeline_position, second.order) == (5.0, 1)
    third = await clip(services, sc, "three")
    assert third.timeline_position == 7.5


async def test_create_clip_refuses_an_overlap_with_the_colliding_clip_and_a_free_position(services: Services) -> None:
    pid = await seed_project(services)
    sc = await seed_scene(services, pid)
    intro = await clip(services, sc, "Intro", 0.0, 5.0)
    await clip(services, sc, "Verse", 5.0, 3.0)
    before = await snapshot(services)
    with pytest.raises(ConflictError) as err:
        await clip(services, sc, "Bridge", 2.0, 2.0)
    assert err.value.code == "clip-overlap"
    assert f"'Intro' ({intro.id})" in str(err.value)
    assert "timeline_position 8" in str(err.value)
    assert await snapshot(services) == before


async def test_allow_overlap_keeps_the_requested_position(services: Services) -> None:
    pid = await seed_project(services)
    sc = await seed_scene(services, pid)
    await clip(services, sc, "Intro", 0.0, 5.0)
    forced = await services.clips.create(sc.id, NewClip(name="B"), timeline_position=2.0, allow_overlap=True)
    assert forced.timeline_position == 2.0


async def test_touching_clips_do_not_overlap(services: Services) -> None:
    pid = await seed_project(services)
    sc = await seed_scene(services, pid)
    await clip(services, sc, "a", 0.0, 5.0)
    await clip(services, sc, "c", 10.0, 5.0)
    squeezed = await clip(services, sc, "b", 5.0, 5.0)
    assert squeezed.timeline_position == 5.0


async def test_create_clip_with_an_order_shifts_the_later_clips(services: Services) -> None:
    pid = await seed_project(services)
    sc = await seed_scene(services, pid)
    for name in ("a", "b", "c"):
        await clip(services, sc, name)
    await services.clips.create(sc.id, NewClip(name="x"), order=1)
    assert [(n, o) for n, o, _, _ in await layout(services, sc.id)] == [("a", 0), ("x", 1), ("b", 2), ("c", 3)]
    with pytest.raises(ValidationError, match="order"):
        await services.clips.create(sc.id, NewClip(name="y"), order=9)


async def test_create_clip_refuses_bad_input_and_writes_nothing(services: Services) -> None:
    pid = await seed_project(services)
    sc = await seed_scene(services, pid)
    before = await snapshot(services)
    with pytest.raises(ValidationError, match="content"):
        await services.clips.create(sc.id, NewClip(type="text", content="  "))
    with pytest.raises(ValidationError, match="10000 s"):
        await services.clips.create(sc.id, NewClip(duration=5.0), timeline_position=9_999.0)
    with pytest.raises(NotFoundError, match="scene 'nope'"):
        await services.clips.create("nope", NewClip())
    assert await snapshot(services) == before


# -- timing ----------------------------------------------------------------------------------------------------
async def test_set_clip_timing_refuses_an_overlap_with_a_suggestion_and_writes_nothing(services: Services) -> None:
    pid = await seed_project(services)
    sc = await seed_scene(services, pid)
    a = await clip(services, sc, "a", 0.0, 5.0)
    b = await clip(services, sc, "b", 5.0, 5.0)
    await clip(services, sc, "c", 12.0, 3.0)
    before = await snapshot(services)
    with pytest.raises(ConflictError) as err:
        await services.clips.set_timing(a.id, timeline_position=8.0, duration=3.0)
    assert err.value.code == "clip-overlap" and b.id in str(err.value)
    assert "timeline_position 15" in str(err.value)
    assert await snapshot(services) == before
    moved = await services.clips.set_timing(a.id, timeline_position=15.0, duration=3.0)
    assert (moved.timeline_position, moved.duration) == (15.0, 3.0)
    grown = await services.clips.set_timing(b.id, duration=7.0)
    assert grown.duration == 7.0


async def test_alternates_never_collide_and_keep_their_own_timing(services: Services) -> None:
    pid = await seed_project(services)
    sc = await seed_scene(services, pid)
    a = await clip(services, sc, "a", 0.0, 5.0)
    b = await clip(services, sc, "b", 5.0, 5.0)
    alt = await services.clips.create_alternate(a.id)
    assert (alt.timeline_position, alt.duration) == (0.0, 5.0)
    await services.clips.set_timing(alt.id, timeline_position=6.0)  # over b: alternates are never checked
    moved = await services.clips.set_timing(a.id, timeline_position=20.0)
    assert moved.timeline_position == 20.0
    assert (await services.clips.get(alt.id)).timeline_position == 6.0
    await services.clips.set_timing(b.id, timeline_position=0.0)  # the alternate's old slot does not block
    await services.clips.set_timing(a.id, timeline_position=30.0, move_alternates=True)
    assert (await services.clips.get(alt.id)).timeline_position == 30.0


async def test_set_clip_timing_needs_a_value_and_an_existing_clip(services: Services) -> None:
    pid = await seed_project(services)
    sc = await seed_scene(services, pid)
    a = await clip(services, sc, "a")
    with pytest.raises(ValidationError, match="timeline_position"):
        await services.clips.set_timing(a.id)
    with pytest.raises(NotFoundError, match="clip 'ghost'"):
        await services.clips.set_timing("ghost", duration=1.0)


@pytest.mark.requires_transactions
async def test_concurrent_timing_changes_into_one_free_slot_let_at_most_one_win(services: Services) -> None:
    pid = await seed_project(services)
    sc = await seed_scene(services, pid)
    movers = [await clip(services, sc, f"m{i}", i * 10.0, 5.0) for i in range(5)]
    outcomes: list[str] = []

    async def move(c: Clip) -> None:
        try:
            await services.clips.set_timing(c.id, timeline_position=100.0)
            outcomes.append("won")
        except ConflictError as exc:
            outcomes.append(exc.code)

    async with anyio.create_task_group() as tg:
        for c in movers:
            tg.start_soon(move, c)
    assert outcomes.count("won") == 1
    assert sorted(outcomes) == ["clip-overlap"] * 4 + ["won"]
    at_slot = [c for c in await services.repositories.clips.main_timeline(sc.id) if c.timeline_position == 100.0]
    assert len(at_slot) == 1


# -- alternates ------------------------------------------------------------------------------------------------
async def test_alternates_are_numbered_named_copied_and_listed_after_their_family(services: Services) -> None:
    pid = await seed_project(services)
    sc = await seed_scene(services, pid)
    a = await clip(services, sc, "Intro", 0.0, 4.0, image_prompt="dawn", video_prompt="pan", lyrics="la")
    unnamed = await clip(services, sc, "")
    await services.repositories.clips.update_fields(a.id, {"character_id": "ch1", "style_template_id": "st1"})
    await services.clips.gallery.add(a.id, "image", url="https://x.test/1.png")
    alt1 = await services.clips.create_alternate(a.id)
    alt2 = await services.clips.create_alternate(alt1.id)  # an alternate of an alternate joins the same family
    assert (alt1.name, alt1.alternate_number, alt1.alternate_of) == ("Intro A1", 1, a.id)
    assert (alt2.name, alt2.alternate_of) == ("Intro A2", a.id)
    assert (alt1.image_prompt, alt1.video_prompt, alt1.lyrics, alt1.duration) == ("dawn", "pan", "la", 4.0)
    assert (alt1.character_id, alt1.style_template_id) == ("ch1", "st1")
    assert (alt1.generated_images, alt1.selected_image_id) == ([], None)
    assert [(n, o) for n, o, _, _ in await layout(services, sc.id)] == [
        ("Intro", 0),
        ("Intro A1", 1),
        ("Intro A2", 2),
        ("", 3),
    ]
    assert (await services.clips.create_alternate(unnamed.id)).name == "Clip A1"
    family = await services.clips.alternates(alt2.id)
    assert family.original.id == a.id and [c.name for c in family.alternates] == ["Intro A1", "Intro A2"]


async def test_alternate_numbers_start_above_legacy_ones_and_never_repeat_under_concurrency(services: Services) -> None:
    pid = await seed_project(services)
    sc = await seed_scene(services, pid)
    a = await clip(services, sc, "a")
    await services.repositories.clips.insert(
        Clip(scene_id=sc.id, project_id=pid, name="a A4", order=1, alternate_of=a.id, alternate_number=4)
    )
    async with anyio.create_task_group() as tg:
        for _ in range(4):
            tg.start_soon(services.clips.create_alternate, a.id)
    numbers = sorted(c.alternate_number or 0 for c in await services.repositories.clips.alternates_of(a.id))
    assert numbers == [4, 5, 6, 7, 8]
    assert sorted(o for _, o, _, _ in await layout(services, sc.id)) == list(range(6))


# -- delete ----------------------------------------------------------------------------------------------------
async def test_delete_clip_with_alternates_needs_confirm_and_then_takes_them_along(services: Services) -> None:
    pid = await seed_project(services)
    sc = await seed_scene(services, pid)
    a = await clip(services, sc, "a")
    alt = await services.clips.create_alternate(a.id)
    await clip(services, sc, "b")
    before = await snapshot(services)
    with pytest.raises(InvalidStateError) as err:
        await services.clips.delete(a.id)
    assert err.value.code == "confirmation-required" and alt.id in str(err.value)
    assert await snapshot(services) == before
    deleted = await services.clips.delete(a.id, confirm=True)
    assert deleted.deleted_alternate_ids == [alt.id]
    assert await layout(services, sc.id) == [("b", 0, 5.0, 5.0)]
    counters = services.database.collection("counters")
    assert await counters.find_one({"_id": counter_key("clip", a.id)}) is None


async def test_deleting_an_alternate_or_a_lone_clip_needs_no_confirm(services: Services) -> None:
    pid = await seed_project(services)
    sc = await seed_scene(services, pid)
    a = await clip(services, sc, "a")
    alt = await services.clips.create_alternate(a.id)
    await services.clips.delete(alt.id)
    await services.clips.delete(a.id)
    assert await layout(services, sc.id) == []
    with pytest.raises(NotFoundError):
        await services.clips.delete(a.id)


# -- move and reorder ------------------------------------------------------------------------------------------
async def test_move_clip_to_another_scene_takes_its_alternates_and_densifies_both(services: Services) -> None:
    pid = await seed_project(services)
    s1, s2 = await seed_scene(services, pid, "S1"), await seed_scene(services, pid, "S2", order=1)
    a = await clip(services, s1, "a", 0.0, 5.0)
    await services.clips.create_alternate(a.id)
    await clip(services, s1, "b", 5.0, 5.0)
    await clip(services, s2, "x", 0.0, 5.0)
    moved = (await services.clips.move(a.id, scene_id=s2.id, order=0, timeline_position=5.0)).clip
    assert (moved.scene_id, moved.order, moved.timeline_position) == (s2.id, 0, 5.0)
    assert await layout(services, s1.id) == [("b", 0, 5.0, 5.0)]
    assert [(n, o) for n, o, _, _ in await layout(services, s2.id)] == [("a", 0), ("a A1", 1), ("x", 2)]


async def test_move_clip_refuses_an_overlap_in_the_target_scene_unless_allowed(services: Services) -> None:
    pid = await seed_project(services)
    s1, s2 = await seed_scene(services, pid, "S1"), await seed_scene(services, pid, "S2", order=1)
    a = await clip(services, s1, "a", 0.0, 5.0)
    x = await clip(services, s2, "x", 0.0, 5.0)
    before = await snapshot(services)
    with pytest.raises(ConflictError) as err:
        await services.clips.move(a.id, scene_id=s2.id)
    assert err.value.code == "clip-overlap" and x.id in str(err.value) and "timeline_position 5" in str(err.value)
    assert await snapshot(services) == before
    forced = (await services.clips.move(a.id, scene_id=s2.id, allow_overlap=True)).clip
    assert (forced.scene_id, forced.order) == (s2.id, 1)


async def test_move_clip_refuses_a_scene_of_another_project_and_lists_the_right_scenes(services: Services) -> None:
    pid, other = await seed_project(services), await seed_project(services, "Other")
    s1 = await seed_scene(services, pid, "Home scene")
    foreign = await seed_scene(services, other, "Foreign")
    a = await clip(services, s1, "a")
    before = await snapshot(services)
    with pytest.raises(InvalidStateError) as err:
        await services.clips.move(a.id, scene_id=foreign.id)
    assert err.value.code == "invalid-parent"
    assert f"'Home scene' ({s1.id})" in str(err.value)
    assert await snapshot(services) == before


async def test_an_alternate_cannot_leave_its_originals_scene_but_can_change_place(services: Services) -> None:
    pid = await seed_project(services)
    s1, s2 = await seed_scene(services, pid, "S1"), await seed_scene(services, pid, "S2", order=1)
    a = await clip(services, s1, "a")
    alt = await services.clips.create_alternate(a.id)
    with pytest.raises(InvalidStateError, match="alternate"):
        await services.clips.move(alt.id, scene_id=s2.id)
    moved = await services.clips.move(alt.id, order=0)
    assert (moved.clip.order, moved.from_scene_id) == (0, s1.id)


async def test_reorder_clips_needs_exactly_the_scenes_clips_and_applies_dense_orders(services: Services) -> None:
    pid = await seed_project(services)
    sc = await seed_scene(services, pid)
    other = await seed_scene(services, pid, "Other", order=1)
    a, b, c = [await clip(services, sc, n) for n in ("a", "b", "c")]
    stranger = await clip(services, other, "z")
    before = await snapshot(services)
    for wrong in ([a.id, b.id], [a.id, b.id, c.id, c.id], [a.id, b.id, stranger.id]):
        with pytest.raises(ValidationError, match="clip_ids"):
            await services.clips.reorder(sc.id, wrong)
    assert await snapshot(services) == before
    result = await services.clips.reorder(sc.id, [c.id, a.id, b.id])
    assert result.clip_ids == [c.id, a.id, b.id]
    assert [(n, o) for n, o, _, _ in await layout(services, sc.id)] == [("c", 0), ("a", 1), ("b", 2)]


# -- update and list -------------------------------------------------------------------------------------------
async def test_update_clip_changes_only_the_given_fields_and_null_clears(services: Services) -> None:
    pid = await seed_project(services)
    sc = await seed_scene(services, pid)
    a = await clip(services, sc, "a", image_prompt="dawn", video_prompt="pan", media_url="https://x.test/a.mp4")
    updated = await services.clips.update(a.id, ClipChanges.model_validate({"image_prompt": None, "name": " b "}))
    assert (updated.name, updated.image_prompt, updated.video_prompt) == ("b", None, "pan")
    assert updated.media_url == "https://x.test/a.mp4"
    with pytest.raises(ValidationError, match="content"):
        await services.clips.update(a.id, ClipChanges(type="text"))
    text = await services.clips.update(a.id, ClipChanges(type="text", content="THE END"))
    assert (text.type, text.content) == ("text", "THE END")
    with pytest.raises(ValidationError, match="no field"):
        await services.clips.update(a.id, ClipChanges())


def test_clip_changes_point_timing_and_order_to_their_own_tools() -> None:
    import pydantic

    with pytest.raises(pydantic.ValidationError, match="set_clip_timing"):
        ClipChanges.model_validate({"timeline_position": 3.0})
    with pytest.raises(pydantic.ValidationError, match="assign_character"):
        ClipChanges.model_validate({"character_id": "c"})


async def test_list_clips_pages_in_order_and_filters_alternates(services: Services) -> None:
    pid = await seed_project(services)
    sc = await seed_scene(services, pid)
    a = await clip(services, sc, "a")
    await services.clips.create_alternate(a.id)
    await clip(services, sc, "b")
    first = await services.clips.list_for_scene(sc.id, limit=2)
    rest = await services.clips.list_for_scene(sc.id, limit=2, cursor=first.next_cursor)
    assert [c.name for c in first.items + rest.items] == ["a", "a A1", "b"] and rest.next_cursor is None
    main = await services.clips.list_for_scene(sc.id, include_alternates=False)
    assert [c.name for c in main.items] == ["a", "b"]
    with pytest.raises(NotFoundError):
        await services.clips.list_for_scene("nope")


async def test_clip_id_completion_filters_a_scenes_clips_by_id_prefix_or_name(services: Services) -> None:
    pid = await seed_project(services)
    sc = await seed_scene(services, pid)
    a = await clip(services, sc, "Sunrise")
    b = await clip(services, sc, "Night")
    assert await services.clips.complete_ids("sun", scene_id=sc.id) == [a.id]
    assert await services.clips.complete_ids("", scene_id=sc.id) == [a.id, b.id]
    assert await services.clips.complete_ids(b.id[:8]) == [b.id]


# -- analysis --------------------------------------------------------------------------------------------------
async def test_analyze_timeline_reports_exact_figures_for_a_crafted_scene(services: Services) -> None:
    pid = await seed_project(services, music_duration=60.0)
    sc = await seed_scene(services, pid, "Chorus")
    c1 = await clip(services, sc, "c1", 1.0, 4.0, image_prompt="sky")  # 1–5, gap 0–1 before it
    c2 = await clip(services, sc, "c2", 5.05, 2.0, type="video")  # gap 0.05: not reported
    c3 = await services.clips.create(
        sc.id, NewClip(name="c3", duration=3.0, image_prompt="x"), timeline_position=6.0, allow_overlap=True
    )  # overlaps c2 by 1.05
    await clip(services, sc, "c4", 12.0, 2.5, type="text", content="fin")  # gap 9–12
    alt = await services.clips.create_alternate(c1.id)  # shares c1's slot: no overlap
    report = await services.clips.analyze(scene_id=sc.id)
    (timeline,) = report.scenes
    assert [(o.first_id, o.second_id, o.start, o.end, o.seconds, o.suggested_position) for o in timeline.overlaps] == [
        (c2.id, c3.id, 6.0, 7.05, 1.05, 7.05)
    ]
    assert [(g.after_id, g.before_id, g.start, g.end, g.seconds) for g in timeline.gaps] == [
        (None, c1.id, 0.0, 1.0, 1.0),
        (c3.id, timeline.gaps[1].before_id, 9.0, 12.0, 3.0),
    ]
    assert (timeline.length, timeline.clip_length_total, timeline.clip_count, timeline.alternate_clip_count) == (
        14.5,
        11.5,
        4,
        1,
    )
    assert [(m.clip_id, m.missing) for m in timeline.missing_prompts] == [(c2.id, "video_prompt")]
    assert (timeline.offset, timeline.depth, timeline.on_main_timeline) == (0.0, 0, True)
    assert (report.total_duration, report.clip_count, report.overlap_count, report.gap_count) == (14.5, 4, 1, 2)
    assert (report.missing_prompt_count, report.music_duration, report.has_issues) == (1, 60.0, True)
    assert alt.id not in {o.first_id for o in timeline.overlaps} | {o.second_id for o in timeline.overlaps}


async def test_analyze_timeline_places_scenes_on_the_project_timeline(services: Services) -> None:
    pid = await seed_project(services)
    s1 = await seed_scene(services, pid, "S1", order=0)
    sub = await seed_scene(services, pid, "S1.1", parent_scene_id=s1.id)
    s2 = await seed_scene(services, pid, "S2", order=1)
    alt = await seed_scene(services, pid, "S1 A1", parent_scene_id=s1.id, is_alternate=True, alternate_number=1)
    await clip(services, s1, "a", 0.0, 10.0, image_prompt="p")
    await clip(services, sub, "b", 0.0, 4.0, image_prompt="p")
    await clip(services, s2, "c", 2.0, 3.0, image_prompt="p", allow_overlap=False)
    await clip(services, alt, "d", 0.0, 7.0, image_prompt="p")
    report = await services.clips.analyze(project_id=pid)
    placed = [(s.name, s.depth, s.offset, s.length, s.on_main_timeline) for s in report.scenes]
    assert placed == [
        ("S1", 0, 0.0, 10.0, True),
        ("S1.1", 1, 10.0, 4.0, True),
        ("S2", 0, 14.0, 5.0, True),
        ("S1 A1", 0, 0.0, 7.0, False),
    ]
    assert report.total_duration == 19.0
    assert report.gap_count == 1 and report.has_issues  # S2 starts its clip at 2.0
    sub_report = await services.clips.analyze(scene_id=s1.id, project_id=pid)
    assert [(s.name, s.offset) for s in sub_report.scenes] == [("S1", 0.0), ("S1.1", 10.0)]
    assert sub_report.total_duration == 14.0 and not sub_report.has_issues


async def test_analyze_timeline_needs_a_known_project_or_scene(services: Services) -> None:
    pid, other = await seed_project(services), await seed_project(services, "Other")
    sc = await seed_scene(services, pid)
    with pytest.raises(ValidationError, match="project_id"):
        await services.clips.analyze()
    with pytest.raises(NotFoundError, match="project 'nope'"):
        await services.clips.analyze(project_id="nope")
    with pytest.raises(InvalidStateError, match="not in"):
        await services.clips.analyze(project_id=other, scene_id=sc.id)


# -- gallery ---------------------------------------------------------------------------------------------------
async def test_gallery_selects_the_first_entry_refuses_unknown_ids_and_reselects_on_remove(services: Services) -> None:
    pid = await seed_project(services)
    sc = await seed_scene(services, pid)
    a = await clip(services, sc, "a")
    first = await services.clips.gallery.add(a.id, "image", url="https://x.test/1.png", prompt="p", params={"seed": 1})
    second = await services.clips.gallery.add(a.id, "image", url="https://x.test/2.png")
    one, two = (m.id for m in second.images)
    assert first.selected_image_id == one and second.selected_image_id == one
    assert second.selected_video_id is None and first.images[0].params == {"seed": 1}
    before = await snapshot(services)
    with pytest.raises(NotFoundError) as err:
        await services.clips.gallery.select(a.id, "image", "not-there")
    assert one in str(err.value) and two in str(err.value)
    with pytest.raises(NotFoundError):
        await services.clips.gallery.select(a.id, "video", one)  # an image id is not in the video gallery
    assert await snapshot(services) == before
    assert (await services.clips.gallery.select(a.id, "image", two)).selected_image_id == two
    after = await services.clips.gallery.remove(a.id, "image", two)
    assert (after.selected_image_id, [m.id for m in after.images]) == (one, [one])
    assert (await services.clips.gallery.remove(a.id, "image", one)).selected_image_id is None


async def test_gallery_media_id_must_exist_and_becomes_a_storyboard_url(services: Services) -> None:
    pid = await seed_project(services)
    sc = await seed_scene(services, pid)
    a = await clip(services, sc, "a")
    stored = await services.database.media.put(b"\x89PNG", content_type="image/png", project_id=pid)
    clip_video = await services.database.media.put(b"....", content_type="video/mp4", project_id=pid)
    before = await snapshot(services)
    with pytest.raises(NotFoundError, match="media 'nope'"):
        await services.clips.gallery.add(a.id, "image", media_id="nope")
    with pytest.raises(ValidationError, match="kind video"):
        await services.clips.gallery.add(a.id, "image", media_id=clip_video.id)
    with pytest.raises(ValidationError, match="exactly one"):
        await services.clips.gallery.add(a.id, "image")
    with pytest.raises(ValidationError, match="exactly one"):
        await services.clips.gallery.add(a.id, "image", url="https://x.test/a.png", media_id=stored.id)
    assert await snapshot(services) == before
    gallery = await services.clips.gallery.add(a.id, "image", media_id=stored.id)
    assert (gallery.images[0].url, gallery.images[0].media_id) == (f"storyboard://media/{stored.id}", stored.id)
    via_url = await services.clips.gallery.add(a.id, "video", url=f"storyboard://media/{clip_video.id}")
    assert via_url.videos[0].media_id == clip_video.id and via_url.selected_video_id == via_url.videos[0].id
