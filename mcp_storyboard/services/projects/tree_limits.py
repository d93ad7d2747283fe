"""How large a project tree may be, and its refusal when it is over the result limit.

A listed clip adds at least ``CLIP_FLOOR`` characters to the tree, so a whole-project tree can hold at most
:func:`most_clips_that_fit` clips: a count over that refuses it before any clip is read, however large the
project. Otherwise the tree is built and measured exactly.
The refusal says how to narrow the call: a clip cap that fits, no clips, or one scene's subtree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from mcp_storyboard.errors import InvalidStateError
from mcp_storyboard.models.projects import Project
from mcp_storyboard.models.scenes import Scene
from mcp_storyboard.services.projects.tree import (
    ClipFields,
    ClipSummary,
    SceneNode,
    TreeOptions,
    build_tree,
    tree_size,
    walk,
)


def _summary_chars(**fields: object) -> int:
    return len(ClipSummary.model_validate({"id": "", "name": "", "type": "text", "order": 0, "timeline_position": 0.0,
                                           "duration": 5.0, **fields}).model_dump_json(by_alias=True))


CLIP_FLOOR = _summary_chars(id="x") + 1
"""The fewest characters a listed clip adds to a tree: its shortest summary (an id has at least one character) and
the comma before the next one."""
_CLIP_CEILING = _summary_chars(
    id="x" * 36, name="x" * 60, type="video", order=9_999, timeline_position=9_999.99, duration=9_999.99,
    character_id="x" * 36, alternate_of="x" * 36, has_image_prompt=True, has_video_prompt=True,
    has_selected_image=True, has_selected_video=True,
) + 1  # fmt: skip
"""What a listed clip adds at most with UUID ids and a name of up to 60 characters (a clip cap suggested without
reading the clips assumes that much per clip)."""
_SCENE_NUMBERS = 24
"""Characters a scene's numbers (clip count, clips omitted, duration, offset) may add over their zero values."""


def most_clips_that_fit(project: Project, scenes: Sequence[Scene], options: TreeOptions, max_bytes: int) -> int | None:
    """The most clips a tree asked with ``options`` can list within ``max_bytes``; None when that cannot be told
    from the clip count alone (a subtree or a clip cap: the clips counted are not the clips listed).

    Every number of the clipless tree built here is zero, and zero takes the fewest characters, so that tree is no
    longer than the real one without clips; each clip then adds at least ``CLIP_FLOOR``.
    """
    if options.scene_id is not None or options.max_clips_per_scene is not None or not options.include_clips:
        return None
    bare = tree_size(build_tree(project, scenes, [], TreeOptions(include_clips=False)))
    return max(0, (max_bytes - bare + 1) // CLIP_FLOOR)


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
    bare = tree_bytes  # a tree asked without clips is already as bare as it gets
    if options.include_clips:
        bare = tree_size(build_tree(project, scenes, clips, replace(options, include_clips=False)))
    listed = _count_listed(build_tree(project, scenes, clips, options).scenes) if options.include_clips else 0
    per_clip = max(1.0, (tree_bytes - bare) / max(1, listed))
    top = build_tree(project, scenes, clips, TreeOptions(include_clips=False)).scenes
    with_clips = len({c.scene_id for c in clips})
    return _refusal(f"is {tree_bytes // 1024} KB", max_bytes, project, options, bare, per_clip, with_clips, top)


def too_many_clips(
    count: int, max_bytes: int, project: Project, scenes: Sequence[Scene], options: TreeOptions
) -> InvalidStateError:
    """The refusal of a tree of ``count`` clips, more than :func:`most_clips_that_fit`, judged before reading them:
    its clip cap assumes long names and every optional field on every clip, in every scene."""
    bare = build_tree(project, scenes, [], TreeOptions(include_clips=False))
    floor = tree_size(bare) + count * CLIP_FLOOR
    return _refusal(f"is over {floor // 1024} KB ({count} clips)", max_bytes, project, options,
                    tree_size(bare) + _SCENE_NUMBERS * len(scenes), _CLIP_CEILING, len(scenes), bare.scenes)  # fmt: skip


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
