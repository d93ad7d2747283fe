from hypothesis import given
from hypothesis import strategies as st

from mcp_storyboard.services.common.alternates import alternate_name
from mcp_storyboard.services.common.timeline import (
    Slot,
    collisions,
    find_gaps,
    find_overlaps,
    scene_offsets,
    suggest_position,
    timeline_end,
)


def test_touching_clips_do_not_collide() -> None:
    assert collisions(Slot("b", 5.0, 5.0), [Slot("a", 0.0, 5.0)]) == []


def test_float_noise_does_not_invent_an_overlap() -> None:
    assert collisions(Slot("b", 0.3, 1.0), [Slot("a", 0.1, 0.2)]) == []


def test_an_overlap_is_reported_with_the_colliding_clip() -> None:
    assert [s.clip_id for s in collisions(Slot("b", 4.0, 2.0), [Slot("a", 0.0, 5.0), Slot("c", 9.0, 1.0)])] == ["a"]


def test_suggestion_jumps_past_every_clip_in_the_way() -> None:
    others = [Slot("a", 0.0, 5.0), Slot("b", 5.0, 3.0), Slot("c", 10.0, 2.0)]
    assert suggest_position(2.0, 1.0, others) == 8.0
    assert suggest_position(3.0, 1.0, others) == 12.0


def test_no_suggestion_when_nothing_fits_before_the_end_of_the_timeline() -> None:
    assert suggest_position(5.0, 9_990.0, [Slot("a", 9_990.0, 10.0)]) is None


def test_overlaps_are_found_pairwise_by_one_sweep() -> None:
    overlaps = find_overlaps([Slot("a", 0, 5, "A"), Slot("b", 4, 5, "B"), Slot("c", 4.5, 0.2, "C"), Slot("d", 20, 1)])
    assert [(o.first_id, o.second_id, o.seconds) for o in overlaps] == [("a", "b", 1.0), ("a", "c", 0.2), ("b", "c", 0.2)]


def test_gaps_over_the_threshold_are_reported_including_at_the_start() -> None:
    gaps = find_gaps([Slot("a", 1.0, 2.0), Slot("b", 3.05, 1.0), Slot("c", 6.0, 1.0)])
    assert [(g.after_id, g.before_id, g.start, g.end, g.seconds) for g in gaps] == [(None, "a", 0.0, 1.0, 1.0), ("b", "c", 4.05, 6.0, 1.95)]


def test_scene_offsets_accumulate_scene_lengths() -> None:
    assert scene_offsets([("s1", 12.5), ("s2", 0.0), ("s3", 3.0)]) == {"s1": 0.0, "s2": 12.5, "s3": 12.5}
    assert timeline_end([Slot("a", 1, 2), Slot("b", 0, 10)]) == 10.0


def test_alternate_names_come_from_the_original_and_fit_the_limit() -> None:
    assert alternate_name("Chorus", 2) == "Chorus A2"
    assert len(alternate_name("x" * 200, 12)) == 200


@given(
    st.lists(st.tuples(st.integers(0, 5000), st.integers(1, 500)), max_size=12),
    st.integers(0, 5000),
    st.integers(1, 500),
)
def test_a_suggested_position_never_collides(existing: list[tuple[int, int]], requested: int, duration: int) -> None:
    others = [Slot(f"c{i}", s / 10, d / 10) for i, (s, d) in enumerate(existing)]
    suggestion = suggest_position(duration / 10, requested / 10, others)
    assert suggestion is not None
    assert suggestion >= requested / 10
    assert collisions(Slot("new", suggestion, duration / 10), others) == []
