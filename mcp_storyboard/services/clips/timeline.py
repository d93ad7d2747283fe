"""Timeline checks the clip service runs before writing, and the timeline analysis report.

The rules themselves are pure (``services/common/timeline.py``); this module turns clips into slots, a collision into
a ``[clip-overlap]`` error with a suggested free position, and scenes with their clips into a
:class:`TimelineAnalysis`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from mcp_storyboard.errors import ConflictError, ValidationError
from mcp_storyboard.models.clips import TIMELINE_MAX_SECONDS, Clip
from mcp_storyboard.models.scenes import Scene
from mcp_storyboard.services.clips.results import (
    GapReport,
    MissingPrompt,
    OverlapReport,
    SceneTimeline,
    TimelineAnalysis,
)
from mcp_storyboard.services.common.timeline import (
    Overlap,
    SceneNode,
    Slot,
    collisions,
    find_gaps,
    find_overlaps,
    place_scenes,
    scene_offsets,
    suggest_position,
    timeline_end,
    timeline_sequence,
)


def label(clip: Clip | Slot) -> str:
    """How messages name a clip: ``'Intro' (id)``, or ``clip id`` when it has no name."""
    if isinstance(clip, Slot):
        name, ident = clip.name, clip.clip_id
    else:
        name, ident = clip.name, clip.id
    return f"'{name}' ({ident})" if name else f"clip {ident}"


def slot_of(clip: Clip) -> Slot:
    return Slot(clip.id, clip.timeline_position, clip.duration, clip.name)


def seconds(value: float) -> str:
    """``4`` for 4.0, ``4.5`` for 4.50: how positions appear in messages."""
    return f"{value:g}"


def check_timeline_end(position: float, duration: float) -> None:
    """Refuse a clip that would end after the end of the scene timeline.

    Raises:
        ValidationError: on ``duration``, with the latest start that fits.
    """
    end = round(position + duration, 2)
    if round(end * 100) > round(TIMELINE_MAX_SECONDS * 100):
        latest = round(TIMELINE_MAX_SECONDS - duration, 2)
        raise ValidationError(
            "duration",
            f"a {seconds(duration)} s clip at {seconds(position)} s would end at {seconds(end)} s, after the "
            f"{seconds(TIMELINE_MAX_SECONDS)} s end of the scene timeline",
            hint=f"start it at {seconds(latest)} s or earlier, or shorten it" if latest >= 0 else "shorten it",
        )


def check_free_slot(candidate: Slot, main_clips: Sequence[Clip], *, scene: Scene) -> None:
    """Refuse ``candidate`` if it overlaps a main clip of ``scene`` (its own id excluded).

    Raises:
        ConflictError: code ``clip-overlap``, naming the colliding clip and the first free position at or after
            the requested one (or saying none fits before 10,000 s).
    """
    others = [slot_of(c) for c in main_clips if c.id != candidate.clip_id]
    hits = collisions(candidate, others)
    if not hits:
        return
    hit = hits[0]
    more = f" and {len(hits) - 1} more" if len(hits) > 1 else ""
    suggestion = suggest_position(candidate.duration, candidate.start, others)
    if suggestion is None:
        hint = (
            f"no free {seconds(candidate.duration)} s slot starts at or after {seconds(candidate.start)} s before the "
            f"{seconds(TIMELINE_MAX_SECONDS)} s end; choose an earlier position or a shorter duration, or pass "
            "allow_overlap: true"
        )
    else:
        hint = (
            f"suggested free position: timeline_position {seconds(suggestion)} (the first free slot at or after "
            f"{seconds(candidate.start)} s); or pass allow_overlap: true to keep the overlap"
        )
    raise ConflictError(
        f"timeline_position: {seconds(candidate.start)}–{seconds(candidate.end)} s overlaps {label(hit)} at "
        f"{seconds(hit.start)}–{seconds(hit.end)} s{more} in scene '{scene.name}' ({scene.id})",
        field="timeline_position",
        hint=hint,
        code="clip-overlap",
    )


_PROMPT_OF: dict[str, Literal["image_prompt", "video_prompt"]] = {"image": "image_prompt", "video": "video_prompt"}


def _missing_prompt(clip: Clip) -> MissingPrompt | None:
    wanted: Literal["image_prompt", "video_prompt"] | None = _PROMPT_OF.get(clip.type)
    if wanted is None or (getattr(clip, wanted) or "").strip():
        return None
    return MissingPrompt(clip_id=clip.id, name=clip.name, type=clip.type, missing=wanted, alternate_of=clip.alternate_of)


def _overlap_report(overlap: Overlap, main: Sequence[Slot], by_id: Mapping[str, Slot]) -> OverlapReport:
    second = by_id[overlap.second_id]
    return OverlapReport(
        first_id=overlap.first_id,
        first_name=overlap.first_name,
        second_id=overlap.second_id,
        second_name=overlap.second_name,
        start=second.start,
        end=round(second.start + overlap.seconds, 2),
        seconds=overlap.seconds,
        suggested_position=suggest_position(second.duration, second.start, main, exclude_id=second.clip_id),
    )


def scene_timeline(
    scene: Scene, clips: Sequence[Clip], *, threshold: float, depth: int | None, offset: float | None
) -> SceneTimeline:
    """The timeline report of one scene from its clips (main and alternates)."""
    main = [slot_of(c) for c in clips if c.alternate_of is None]
    by_id = {s.clip_id: s for s in main}
    overlaps = [_overlap_report(o, main, by_id) for o in find_overlaps(main)]
    gaps = [
        GapReport(after_id=g.after_id, before_id=g.before_id, start=g.start, end=g.end, seconds=g.seconds)
        for g in find_gaps(main, threshold=threshold)
    ]
    missing = [m for m in (_missing_prompt(c) for c in clips) if m is not None]
    return SceneTimeline(
        scene_id=scene.id,
        name=scene.name,
        parent_scene_id=scene.parent_scene_id,
        is_alternate=scene.is_alternate,
        depth=depth,
        offset=offset,
        length=timeline_end(main),
        clip_length_total=sum(round(s.duration * 100) for s in main) / 100,
        clip_count=len(main),
        alternate_clip_count=len(clips) - len(main),
        overlaps=overlaps,
        gaps=gaps,
        missing_prompts=missing,
        has_issues=bool(overlaps or gaps or missing),
    )


def analyse(
    project_id: str,
    scenes: Sequence[Scene],
    clips: Iterable[Clip],
    *,
    root: Scene | None,
    threshold: float,
    music_duration: float | None,
) -> TimelineAnalysis:
    """The analysis of a project's timeline (``root`` None) or of one scene and its sub-scenes.

    ``scenes`` are all the scenes of the project; ``clips`` at least those of the analysed scenes. A project's
    scenes are placed as its tree places them (``place_scenes``): the main timeline, then the alternate scenes,
    each starting where its original starts (with its own sub-scenes after it).
    """
    by_scene: dict[str, list[Clip]] = {}
    for clip in clips:
        by_scene.setdefault(clip.scene_id, []).append(clip)
    nodes = [SceneNode(s.id, s.parent_scene_id, s.is_alternate, s.order) for s in scenes]
    drafts = {
        s.id: scene_timeline(s, by_scene.get(s.id, []), threshold=threshold, depth=None, offset=None) for s in scenes
    }
    reports: dict[str, SceneTimeline] = {}
    if root is None:
        placement = place_scenes(nodes, {sid: draft.length for sid, draft in drafts.items()})
        for sid, place in placement.places.items():
            reports[sid] = drafts[sid].model_copy(
                update={"depth": place.depth, "offset": place.offset, "on_main_timeline": place.on_main}
            )
        total = placement.total
    else:
        main_sequence = timeline_sequence(nodes, root=root.id)
        offsets = scene_offsets([(sid, drafts[sid].length) for sid, _ in main_sequence])
        for sid, depth in main_sequence:
            reports[sid] = drafts[sid].model_copy(
                update={"depth": depth, "offset": offsets[sid], "on_main_timeline": True}
            )
        total = sum(round(reports[sid].length * 100) for sid, _ in main_sequence) / 100
    listed = list(reports.values())
    return TimelineAnalysis(
        project_id=project_id,
        scene_id=root.id if root is not None else None,
        gap_threshold=threshold,
        scenes=listed,
        total_duration=total,
        clip_count=sum(s.clip_count for s in listed),
        overlap_count=sum(len(s.overlaps) for s in listed),
        gap_count=sum(len(s.gaps) for s in listed),
        missing_prompt_count=sum(len(s.missing_prompts) for s in listed),
        music_duration=music_duration,
        has_issues=any(s.has_issues for s in listed),
    )
