"""How large a project tree is, and its refusal when it is over the result limit: judged from per-scene clip
numbers (one aggregate) before any clip is read, so a tree far too large costs one cheap query; measured exactly on
the built tree otherwise. The refusal says how to narrow the call: a clip cap that fits, no clips, or one scene.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from mcp_storyboard.errors import InvalidStateError
from mcp_storyboard.models.clip_outline import SceneClipStats
from mcp_storyboard.models.projects import Project
from mcp_storyboard.models.scenes import Scene
from mcp_storyboard.services.tree import (
    ClipFields,
    ClipSummary,
    ProjectTree,
    SceneNode,
    TreeOptions,
    build_tree,
    summarize_clip,
    tree_size,
    walk,
)


def _summary_chars(**fields: object) -> int:
    return len(ClipSummary.model_validate({"id": "", "name": "", "type": "text", "order": 0, "timeline_position": 0.0,
                                           "duration": 5.0, **fields}).model_dump_json(by_alias=True))


_CLIP_FLOOR = _summary_chars(id="x")
"""The fewest characters a listed clip adds (an id is at least one character; the separating comma not counted)."""
_CLIP_CEILING = _summary_chars(
    id="x" * 64, name="x" * 200, type="video", order=99_999, timeline_position=9_999.99, duration=9_999.99,
    character_id="x" * 64, alternate_of="x" * 64, has_image_prompt=True, has_video_prompt=True,
    has_selected_image=True, has_selected_video=True,
)  # fmt: skip
"""The most characters a listed clip adds without escapes: what to assume when no clip was sampled."""
SAMPLE_SIZE = 100
"""Clips read to judge what one adds to the tree, when a tree is refused before its clips are read."""


@dataclass(frozen=True)
class SizeEstimate:
    """A tree's size judged from per-scene clip numbers, before any clip is read."""

    floor: int
    """The tree is at least this long (its JSON, characters): over the limit means refused for sure."""
    bare: ProjectTree
    """The tree as asked, without clips."""


def estimate_size(
    project: Project, scenes: Sequence[Scene], stats: Sequence[SceneClipStats], options: TreeOptions
) -> SizeEstimate:
    """How large the tree asked for with ``options`` is at least, from ``stats`` alone.

    Raises:
        NotFoundError: ``options.scene_id`` is not a scene of the project.
    """
    bare = build_tree(project, scenes, [], replace(options, include_clips=False), stats)
    floor = tree_size(bare)
    if options.include_clips:
        for node in walk(bare.scenes):
            cap = options.max_clips_per_scene
            listed = node.clip_count if cap is None else min(node.clip_count, cap)
            if listed:
                # Each listed clip, the commas between them, and clips_omitted's shorter number.
                floor += listed * (_CLIP_FLOOR + 1) - 1
                floor -= len(str(node.clip_count)) - len(str(node.clip_count - listed))
    return SizeEstimate(floor, bare)


def too_large(
    tree_bytes: int,
    max_bytes: int,
    project: Project,
    scenes: Sequence[Scene],
    clips: Sequence[ClipFields],
    options: TreeOptions,
) -> InvalidStateError:
    """The refusal of a tree over ``max_bytes``, saying how to narrow it: a clip cap that fits, no clips, or one
    scene's subtree."""
    bare = tree_size(build_tree(project, scenes, clips, TreeOptions(scene_id=options.scene_id, include_clips=False)))
    listed = _count_listed(build_tree(project, scenes, clips, options).scenes) if options.include_clips else 0
    per_clip = max(1.0, (tree_bytes - bare) / max(1, listed))
    top = build_tree(project, scenes, clips, TreeOptions(include_clips=False)).scenes
    with_clips = len({c.scene_id for c in clips})
    return _refusal(f"is {tree_bytes // 1024} KB", max_bytes, project, options, bare, per_clip, with_clips, top)


def too_large_estimated(
    estimate: SizeEstimate, max_bytes: int, project: Project, scenes: Sequence[Scene],
    stats: Sequence[SceneClipStats], sample: Sequence[ClipFields], options: TreeOptions,
) -> InvalidStateError:  # fmt: skip
    """The refusal of a tree whose ``estimate`` is over ``max_bytes``, judged before reading its clips; the clip
    cap it suggests assumes every clip as large as the largest of ``sample`` (a few of the project's clips)."""
    top = build_tree(project, scenes, [], TreeOptions(include_clips=False), stats).scenes
    with_clips = sum(1 for node in walk(estimate.bare.scenes) if node.clip_count)
    largest = max((len(summarize_clip(c).model_dump_json(by_alias=True)) for c in sample), default=_CLIP_CEILING)
    return _refusal(f"is at least {estimate.floor // 1024} KB", max_bytes, project, options,
                    tree_size(estimate.bare), largest + 1, with_clips, top)  # fmt: skip


def _refusal(
    size: str, max_bytes: int, project: Project, options: TreeOptions, bare: int, per_clip: float,
    scenes_with_clips: int, top: Sequence[SceneNode],
) -> InvalidStateError:  # fmt: skip
    steps: list[str] = []
    if bare < max_bytes:
        if options.include_clips:
            fit = int((max_bytes * 0.9 - bare) / per_clip / max(1, scenes_with_clips))
            if fit >= 1:
                steps.append(f"max_clips_per_scene={fit}")
        steps.append("include_clips=false")
    if options.scene_id is None and top:
        names = ", ".join(f"{n.id} ({n.name})" for n in top[:5])
        steps.append(f"scene_id=<one top-level scene>, e.g. {names}")
    return InvalidStateError(
        f"the tree of project {project.id} {size}, over the {max_bytes // 1024} KB result limit",
        hint="call get_project_tree again with " + ", or ".join(steps)
        if steps
        else "read the scenes one at a time with get_scene",
        code="too-large",
    )


def _count_listed(nodes: Iterable[SceneNode]) -> int:
    return sum(len(node.clips) for node in walk(nodes))
