"""The project tree, pure: nesting, alternates, clip order and summaries, offsets, narrowing, broken data."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_storyboard.errors import NotFoundError
from mcp_storyboard.models import Clip, Project, Scene
from mcp_storyboard.services.clips.timeline import analyse
from mcp_storyboard.services.projects.tree import (
    TreeOptions,
    build_tree,
    summarize_clip,
    tree_size,
)

PROJECT = Project(name="P")


def scene(name: str, order: int = 0, parent: Scene | None = None, *, alternate: int | None = None) -> Scene:
    return Scene(
        id=name.replace(" ", "_"),
        project_id=PROJECT.id,
        name=name,
        order=order,
        parent_scene_id=parent.id if parent else None,
        is_alternate=alternate is not None,
        alternate_number=alternate,
    )


def clip(where: Scene, name: str, order: int, start: float, duration: float, **fields: object) -> Clip:
    return Clip(
        id=name.replace(" ", "_"),
        project_id=PROJECT.id,
        scene_id=where.id,
        name=name,
        order=order,
        timeline_position=start,
        duration=duration,
        **fields,
    )  # type: ignore[arg-type]


def test_scenes_and_clips_come_out_in_order_whatever_order_they_come_in() -> None:
    a, b, c = scene("a", 0), scene("b", 1), scene("c", 2)
    clips = [clip(b, "b2", 1, 5, 5), clip(b, "b1", 0, 0, 5), clip(a, "a1", 0, 0, 2)]
    tree = build_tree(PROJECT, [c, a, b], clips)
    assert [n.id for n in tree.scenes] == ["a", "b", "c"]
    assert [x.id for x in tree.scenes[1].clips] == ["b1", "b2"]
    assert [n.offset for n in tree.scenes] == [0.0, 2.0, 12.0]
    assert tree.total_duration == 12.0


def test_sub_scenes_follow_their_parent_on_the_main_timeline_depth_first() -> None:
    act = scene("act", 0)
    s1, s2 = scene("s1", 0, act), scene("s2", 1, act)
    deep = scene("deep", 0, s1)
    after = scene("after", 1)
    clips = [
        clip(act, "x", 0, 0, 1),
        clip(s1, "y", 0, 0, 2),
        clip(deep, "z", 0, 0, 3),
        clip(s2, "w", 0, 0, 4),
        clip(after, "v", 0, 0, 5),
    ]
    tree = build_tree(PROJECT, [act, s1, s2, deep, after], clips)
    act_node = tree.scenes[0]
    assert [n.id for n in act_node.sub_scenes] == ["s1", "s2"]
    assert act_node.sub_scenes[0].sub_scenes[0].id == "deep"
    offsets = {
        "act": act_node.offset,
        "s1": act_node.sub_scenes[0].offset,
        "deep": act_node.sub_scenes[0].sub_scenes[0].offset,
        "s2": act_node.sub_scenes[1].offset,
        "after": tree.scenes[1].offset,
    }
    assert offsets == {"act": 0.0, "s1": 1.0, "deep": 3.0, "s2": 6.0, "after": 10.0}
    assert tree.total_duration == 15.0


def test_alternates_are_listed_under_their_original_by_number_and_share_its_start() -> None:
    intro, verse = scene("intro", 0), scene("verse", 1)
    alt2, alt1 = scene("verse A2", 5, verse, alternate=2), scene("verse A1", 9, verse, alternate=1)
    alt_sub = scene("alt sub", 0, alt1)
    clips = [
        clip(intro, "i", 0, 0, 4),
        clip(verse, "v", 0, 0, 6),
        clip(alt1, "a", 0, 0, 20),
        clip(alt_sub, "s", 0, 0, 1),
    ]
    tree = build_tree(PROJECT, [intro, verse, alt2, alt1, alt_sub], clips)
    verse_node = tree.scenes[1]
    assert [(n.id, n.is_alternate, n.alternate_number) for n in verse_node.alternates] == [
        ("verse_A1", True, 1),
        ("verse_A2", True, 2),
    ]
    assert verse_node.sub_scenes == []
    assert verse_node.alternates[0].offset == verse_node.offset == 4.0
    assert verse_node.alternates[0].sub_scenes[0].offset == 24.0  # follows its alternate
    assert tree.total_duration == 10.0  # alternates are not on the main timeline


def test_a_scene_lasts_until_its_last_main_clip_ends_alternate_clips_excluded() -> None:
    s = scene("s")
    original = clip(s, "o", 0, 2, 3)
    alternate = clip(s, "o A1", 1, 2, 30, alternate_of="o", alternate_number=1)
    node = build_tree(PROJECT, [s], [original, alternate]).scenes[0]
    assert node.duration == 5.0 and node.clip_count == 2
    assert node.clips[1].alternate_of == "o"


def test_clip_summaries_report_prompts_and_selections_and_leave_out_nulls_and_falses() -> None:
    s = scene("s")
    full = clip(
        s,
        "full",
        0,
        0,
        1,
        image_prompt="cat",
        video_prompt="dog",
        selected_image_id="i",
        selected_video_id="v",
        character_id="ana",
    )
    blank = clip(s, "blank", 1, 1, 1, image_prompt="   ", video_prompt="")
    summary = summarize_clip(full)
    assert (
        summary.has_image_prompt,
        summary.has_video_prompt,
        summary.has_selected_image,
        summary.has_selected_video,
        summary.character_id,
    ) == (True, True, True, True, "ana")
    dumped = json.loads(summarize_clip(blank).model_dump_json())
    assert dumped == {
        "id": "blank",
        "name": "blank",
        "type": "image",
        "order": 1,
        "timeline_position": 1.0,
        "duration": 1.0,
    }


def test_narrowing_caps_or_drops_the_clip_lists_and_counts_what_was_left_out() -> None:
    s = scene("s")
    clips = [clip(s, f"c{i}", i, i, 1) for i in range(5)]
    capped = build_tree(PROJECT, [s], clips, TreeOptions(max_clips_per_scene=2)).scenes[0]
    assert ([c.id for c in capped.clips], capped.clips_omitted, capped.clip_count) == (["c0", "c1"], 3, 5)
    bare = build_tree(PROJECT, [s], clips, TreeOptions(include_clips=False)).scenes[0]
    assert (bare.clips, bare.clips_omitted, bare.duration) == ([], 5, 5.0)
    without = build_tree(PROJECT, [s], clips, TreeOptions(include_clips=False))
    assert tree_size(build_tree(PROJECT, [s], clips)) > tree_size(without)


def test_a_subtree_is_the_requested_scene_with_project_offsets() -> None:
    a, b = scene("a", 0), scene("b", 1)
    sub = scene("sub", 0, b)
    tree = build_tree(PROJECT, [a, b, sub], [clip(a, "x", 0, 0, 7)], TreeOptions(scene_id="sub"))
    assert [n.id for n in tree.scenes] == ["sub"] and tree.scenes[0].offset == 7.0
    assert tree.scene_count == 3 and tree.root_scene_id == "sub"


def test_an_unknown_subtree_scene_is_not_found_and_the_hint_lists_top_level_scenes() -> None:
    a = scene("a")
    with pytest.raises(NotFoundError) as caught:
        build_tree(PROJECT, [a], [], TreeOptions(scene_id="zzz"))
    assert "scene 'zzz'" in str(caught.value) and "a (a)" in str(caught.value)


def test_scenes_with_a_missing_parent_or_in_a_cycle_are_still_listed() -> None:
    orphan = Scene(id="orphan", project_id=PROJECT.id, name="orphan", parent_scene_id="gone")
    x = Scene(id="x", project_id=PROJECT.id, name="x", parent_scene_id="y")
    y = Scene(id="y", project_id=PROJECT.id, name="y", parent_scene_id="x")
    selfish = Scene(id="self", project_id=PROJECT.id, name="self", parent_scene_id="self")
    tree = build_tree(PROJECT, [orphan, x, y, selfish], [])

    def ids(nodes: list) -> list[str]:  # type: ignore[type-arg]
        return [i for n in nodes for i in [n.id, *ids(n.sub_scenes), *ids(n.alternates)]]

    assert sorted(ids(tree.scenes)) == ["orphan", "self", "x", "y"]


def test_clips_of_no_listed_scene_are_counted_but_not_placed() -> None:
    a = scene("a")
    stray = Clip(id="stray", project_id=PROJECT.id, scene_id="deleted-scene", duration=3)
    tree = build_tree(PROJECT, [a], [stray])
    assert tree.clip_count == 1 and tree.scenes[0].clips == [] and tree.total_duration == 0.0


def offsets_both_ways(scenes: list[Scene], clips: list[Clip]) -> tuple[dict[str, float], dict[str, float | None]]:
    tree = build_tree(PROJECT, scenes, clips)
    report = analyse(PROJECT.id, scenes, clips, root=None, threshold=0.1, music_duration=None)
    stack, in_tree = list(tree.scenes), {}
    while stack:
        node = stack.pop()
        in_tree[node.id] = node.offset
        stack.extend([*node.sub_scenes, *node.alternates])
    assert tree.total_duration == report.total_duration
    return in_tree, {s.scene_id: s.offset for s in report.scenes}


def test_a_scene_whose_parent_is_gone_is_placed_alike_in_the_tree_and_the_analysis() -> None:
    # Regression: the tree put it on the main timeline, the analysis listed it last with no offset, so their total
    # durations disagreed.
    first, later = scene("first", 0), scene("later", 1)
    orphan = Scene(id="orphan", project_id=PROJECT.id, name="orphan", order=0, parent_scene_id="gone")
    scenes = [first, orphan, later]
    clips = [clip(first, "a", 0, 0, 4), clip(orphan, "b", 0, 0, 3), clip(later, "c", 0, 0, 2)]
    in_tree, in_report = offsets_both_ways(scenes, clips)
    assert in_tree == in_report == {"first": 0.0, "orphan": 4.0, "later": 7.0}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(-2, 7), st.booleans(), st.integers(0, 500)),
                min_size=1, max_size=8))
def test_the_tree_and_the_analysis_place_every_scene_alike(rows: list[tuple[int, int, bool, int]]) -> None:
    # Any forest, broken ones included: parents missing (-1), itself, cycles, alternates at every level.
    scenes = [
        Scene(id=f"s{n}", project_id=PROJECT.id, name=f"s{n}", order=order, is_alternate=alternate,
              parent_scene_id=None if parent == -2 else f"s{parent}")
        for n, (order, parent, alternate, _) in enumerate(rows)
    ]  # fmt: skip
    clips = [clip(s, f"c{n}", 0, 0, length / 10) for n, (s, (_, _, _, length)) in enumerate(zip(scenes, rows, strict=True))
             if length]
    in_tree, in_report = offsets_both_ways(scenes, clips)
    assert in_tree == in_report and set(in_report) == {s.id for s in scenes}
