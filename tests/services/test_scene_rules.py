"""Scene structure rules without an event loop: depth, cycles, subtrees, positions, full sibling lists."""

from __future__ import annotations

import pytest

from mcp_storyboard.errors import InvalidStateError, ValidationError
from mcp_storyboard.models.scenes import Scene
from mcp_storyboard.services.scenes.rules import (
    MAX_DEPTH,
    SceneForest,
    check_full_list,
    check_parent,
    check_position,
    dense_orders,
    describe,
)

P = "p1"


def scene(sid: str, parent: str | None = None, order: int = 0, *, alt: int | None = None) -> Scene:
    return Scene(id=sid, project_id=P, name=sid.upper(), parent_scene_id=parent, order=order,
                 is_alternate=alt is not None, alternate_number=alt)


def chain(length: int) -> list[Scene]:
    """s1 > s2 > ... > s<length>, each the only child of the one before."""
    return [scene(f"s{i}", f"s{i - 1}" if i > 1 else None) for i in range(1, length + 1)]


def test_a_top_level_scene_has_depth_one_and_each_nesting_level_adds_one() -> None:
    forest = SceneForest(chain(3))
    assert [forest.depth(f"s{i}") for i in (1, 2, 3)] == [1, 2, 3]
    assert [forest.height(f"s{i}") for i in (1, 2, 3)] == [3, 2, 1]


def test_a_scene_may_be_created_at_the_depth_limit_but_not_below_it() -> None:
    forest = SceneForest(chain(MAX_DEPTH))
    check_parent(forest, f"s{MAX_DEPTH - 1}", project_id=P)
    with pytest.raises(InvalidStateError) as caught:
        check_parent(forest, f"s{MAX_DEPTH}", project_id=P)
    assert caught.value.code == "invalid-parent"
    assert "depth 6" in str(caught.value) and f"limit of {MAX_DEPTH}" in str(caught.value)


def test_moving_a_subtree_counts_its_height_against_the_limit() -> None:
    scenes = [*chain(3), scene("t1"), scene("t2", "t1"), scene("t3", "t2")]
    forest = SceneForest(scenes)
    check_parent(forest, "t1", project_id=P, moving="s1")  # depth 1 + height 3 = 4
    with pytest.raises(InvalidStateError, match="would reach depth 6"):
        check_parent(forest, "t3", project_id=P, moving="s1")  # depth 3 + height 3


@pytest.mark.parametrize("target", ["s1", "s2", "s3"])
def test_moving_a_scene_under_itself_or_a_descendant_is_a_cycle(target: str) -> None:
    forest = SceneForest(chain(3))
    with pytest.raises(InvalidStateError, match="cycle") as caught:
        check_parent(forest, target, project_id=P, moving="s1")
    assert caught.value.code == "invalid-parent"


def test_an_unknown_or_alternate_parent_is_refused_and_the_hint_lists_valid_parents() -> None:
    forest = SceneForest([scene("a"), scene("b"), scene("a-alt", "a", alt=1)])
    with pytest.raises(InvalidStateError) as unknown:
        check_parent(forest, "elsewhere", project_id=P)
    assert "is not a scene of project p1" in str(unknown.value)
    assert "A (a), B (b)" in str(unknown.value)
    with pytest.raises(InvalidStateError, match="is an alternate"):
        check_parent(forest, "a-alt", project_id=P)


def test_the_valid_parents_hint_leaves_out_the_moving_subtree() -> None:
    forest = SceneForest([*chain(2), scene("x")])
    with pytest.raises(InvalidStateError) as caught:
        check_parent(forest, "s2", project_id=P, moving="s1")
    assert "Valid parents in project p1: X (x); or top_level: true" in str(caught.value)


def test_the_subtree_takes_sub_scenes_and_alternates_at_every_level() -> None:
    forest = SceneForest([*chain(3), scene("s2-alt", "s2", alt=1), scene("s1-alt", "s1", alt=1), scene("other")])
    assert set(forest.subtree("s1")) == {"s1", "s2", "s3", "s2-alt", "s1-alt"}
    assert forest.subtree("s1")[0] == "s1"
    assert forest.subtree("s3") == ["s3"]


def test_main_children_exclude_alternates_and_sort_ties_by_id() -> None:
    forest = SceneForest([scene("b", order=0), scene("a", order=0), scene("c", order=1), scene("z", "c", alt=1)])
    assert [s.id for s in forest.main_children(None)] == ["a", "b", "c"]
    assert [s.id for s in forest.alternates("c")] == ["z"]


@pytest.mark.parametrize(("position", "count", "expected"), [(None, 3, 3), (0, 3, 0), (3, 3, 3), (0, 0, 0)])
def test_a_position_within_zero_to_count_is_accepted(position: int | None, count: int, expected: int) -> None:
    assert check_position(position, count) == expected


def test_a_position_past_the_end_names_the_allowed_range() -> None:
    with pytest.raises(ValidationError) as caught:
        check_position(4, 3)
    assert caught.value.field == "position"
    assert "0..3" in str(caught.value)


def test_a_full_list_must_name_every_sibling_once() -> None:
    siblings = [scene("a", order=0), scene("b", order=1), scene("c", order=2)]
    check_full_list(["c", "a", "b"], siblings, where="the top level")
    with pytest.raises(ValidationError) as caught:
        check_full_list(["c", "a", "a", "x"], siblings, where="the top level")
    message = str(caught.value)
    assert caught.value.field == "scene_ids"
    assert "missing: b" in message and "not main scenes of the top level: x" in message and "repeated: a" in message
    assert "current order is: a, b, c" in message


def test_dense_orders_rewrite_only_what_differs() -> None:
    ordered = [scene("a", order=0), scene("c", order=2), scene("b", order=2)]
    assert dense_orders(ordered) == [("c", 1)]


def test_describe_caps_the_candidates() -> None:
    assert describe([]) == "none"
    assert describe([scene(f"s{i}") for i in range(12)], limit=2) == "S0 (s0), S1 (s1) and 10 more"
