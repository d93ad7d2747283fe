"""The project tree, pure: scenes nested under their parents, alternates under their originals, clip summaries in
order, and every scene's place on the project timeline — built from three plain lists (the project, its scenes,
its clips), so a tree of any size costs three queries. Without clips, or to refuse a tree too large before reading
its clips, per-scene clip numbers (``SceneClipStats``, one aggregate) stand in for the clips.

Placement on the project timeline (docs/architecture.md, "Timeline") is ``timeline.place_scenes``, which analyze_timeline
uses too: the main timeline is the project's non-alternate scenes in depth-first order (a scene, then its
sub-scenes in order), each as long as its last main clip ends; a scene whose parent is missing is a top-level scene.
An alternate shares its original's slot, so it starts where its original starts; its own sub-scenes follow it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from pydantic import Field

from mcp_storyboard.errors import NotFoundError
from mcp_storyboard.models.clip_outline import SceneClipStats
from mcp_storyboard.models.clips import ClipType
from mcp_storyboard.models.common import StoryboardModel
from mcp_storyboard.models.projects import Project
from mcp_storyboard.models.scenes import Scene
from mcp_storyboard.services.common.timeline import SceneNode as TimelineNode
from mcp_storyboard.services.common.timeline import Slot, place_scenes, timeline_end


def _is_none(value: object) -> bool:
    return value is None


def _is_false(value: object) -> bool:
    return value is False


def _is_empty(value: object) -> bool:
    return not value


class ClipSummary(StoryboardModel):
    """One clip of a scene, in brief: identity, timing, and what it still lacks. To keep a large tree small, a
    null or false field is left out (its default applies)."""

    id: str
    """Clip id (get_clip shows the whole clip)."""
    name: str
    """Clip name."""
    type: ClipType
    """image, video or text."""
    order: int
    """Display order within the scene."""
    timeline_position: float
    """Start on the scene's timeline, seconds."""
    duration: float
    """Length, seconds."""
    character_id: str | None = Field(default=None, exclude_if=_is_none)
    """The linked character; left out when none."""
    alternate_of: str | None = Field(default=None, exclude_if=_is_none)
    """The original clip when this clip is an alternate of it; left out for a main clip."""
    has_image_prompt: bool = Field(default=False, exclude_if=_is_false)
    """True when the clip has a non-empty image prompt; left out when false."""
    has_video_prompt: bool = Field(default=False, exclude_if=_is_false)
    """True when the clip has a non-empty video prompt; left out when false."""
    has_selected_image: bool = Field(default=False, exclude_if=_is_false)
    """True when an image of its gallery is selected; left out when false."""
    has_selected_video: bool = Field(default=False, exclude_if=_is_false)
    """True when a video of its gallery is selected; left out when false."""


class SceneNode(StoryboardModel):
    """A scene with its clips, its sub-scenes and its alternates."""

    id: str
    """Scene id."""
    name: str
    """Scene name."""
    order: int
    """Order among its siblings."""
    is_alternate: bool
    """True when this scene is an alternate timeline of the scene it is listed under."""
    alternate_number: int | None = Field(default=None, exclude_if=_is_none)
    """n in "<name> A<n>" for an alternate; left out for a main scene."""
    offset: float
    """Start on the project timeline, seconds (derived: the main scenes before it; an alternate starts where
    its original starts)."""
    duration: float
    """The scene's own length, seconds: where its last main clip ends (sub-scenes not included)."""
    clip_count: int
    """Number of clips in the scene, alternates included, listed or not."""
    clips: list[ClipSummary]
    """The scene's clips in display order (all of them unless narrowed by include_clips/max_clips_per_scene)."""
    clips_omitted: int
    """How many of the scene's clips are not listed in ``clips``."""
    sub_scenes: list[SceneNode] = Field(default_factory=list, exclude_if=_is_empty)
    """Nested scenes, in order; left out when there are none."""
    alternates: list[SceneNode] = Field(default_factory=list, exclude_if=_is_empty)
    """Alternate timelines of this scene, by alternate number; left out when there are none."""


class ProjectTree(StoryboardModel):
    """A project's scenes in order, nested, with clip summaries and project-timeline offsets."""

    project_id: str
    """The project."""
    name: str
    """Project name."""
    music_duration: float | None
    """Length of the soundtrack in seconds, if known (compare with total_duration)."""
    total_duration: float
    """Length of the main timeline, seconds: the sum of the main scenes' lengths."""
    scene_count: int
    """Scenes in the project, alternates and sub-scenes included."""
    clip_count: int
    """Clips in the project, alternates included."""
    root_scene_id: str | None
    """The scene whose subtree alone is listed; null when the whole project is."""
    scenes: list[SceneNode]
    """Top-level scenes in order (or the one requested subtree)."""


class ClipFields(Protocol):
    """What the tree reads of a clip: a ``Clip`` or a ``ClipOutline``."""

    @property
    def id(self) -> str: ...
    @property
    def scene_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def type(self) -> ClipType: ...
    @property
    def order(self) -> int: ...
    @property
    def timeline_position(self) -> float: ...
    @property
    def duration(self) -> float: ...
    @property
    def image_prompt(self) -> str | None: ...
    @property
    def video_prompt(self) -> str | None: ...
    @property
    def selected_image_id(self) -> str | None: ...
    @property
    def selected_video_id(self) -> str | None: ...
    @property
    def character_id(self) -> str | None: ...
    @property
    def alternate_of(self) -> str | None: ...


@dataclass(frozen=True)
class TreeOptions:
    """How much of the tree to list."""

    scene_id: str | None = None
    include_clips: bool = True
    max_clips_per_scene: int | None = None


def summarize_clip(clip: ClipFields) -> ClipSummary:
    return ClipSummary(
        id=clip.id, name=clip.name, type=clip.type, order=clip.order, timeline_position=clip.timeline_position,
        duration=clip.duration, character_id=clip.character_id, alternate_of=clip.alternate_of,
        has_image_prompt=bool((clip.image_prompt or "").strip()),
        has_video_prompt=bool((clip.video_prompt or "").strip()),
        has_selected_image=clip.selected_image_id is not None, has_selected_video=clip.selected_video_id is not None,
    )  # fmt: skip


def scene_length(clips: Iterable[ClipFields]) -> float:
    """Where a scene's last main (non-alternate) clip ends."""
    return timeline_end(Slot(c.id, c.timeline_position, c.duration) for c in clips if c.alternate_of is None)


class _Builder:
    def __init__(
        self,
        scenes: Sequence[Scene],
        clips: Sequence[ClipFields],
        options: TreeOptions,
        stats: Mapping[str, SceneClipStats] | None,
    ) -> None:
        self.options = options
        self.stats = stats
        self.by_id = {s.id: s for s in scenes}
        self.clips: dict[str, list[ClipFields]] = defaultdict(list)
        for clip in sorted(clips, key=lambda c: (c.order, c.id)):
            self.clips[clip.scene_id].append(clip)
        self.children: dict[str, list[Scene]] = defaultdict(list)
        roots: list[Scene] = []
        for scene in scenes:
            parent = scene.parent_scene_id
            if parent is not None and parent in self.by_id and parent != scene.id:
                self.children[parent].append(scene)
            else:  # top level, or a parent that no longer exists: never hide a scene
                roots.append(scene)
        self.roots = _main_order(roots)
        self.visited: set[str] = set()

    def build(self) -> list[SceneNode]:
        nodes = [self.node(scene) for scene in self.roots]
        # Scenes caught in a parent cycle (corrupt data) are reachable from no root; list them at the top level.
        stray = _main_order(s for s in self.by_id.values() if s.id not in self.visited)
        while stray:
            nodes.append(self.node(stray[0]))
            stray = [s for s in stray if s.id not in self.visited]
        return nodes

    def node(self, scene: Scene) -> SceneNode:
        self.visited.add(scene.id)
        own = self.clips.get(scene.id, [])
        listed = self.listed(own)
        count, length = len(own), scene_length(own)
        if self.stats is not None:  # counted by the database, the clips themselves not read
            stats = self.stats.get(scene.id)
            count = stats.clips if stats else 0
            length = timeline_end([Slot(scene.id, 0.0, stats.main_end)]) if stats and stats.main_end > 0 else 0.0
        kids = [c for c in self.children.get(scene.id, []) if c.id not in self.visited]
        for kid in kids:
            self.visited.add(kid.id)
        return SceneNode(
            id=scene.id, name=scene.name, order=scene.order, is_alternate=scene.is_alternate,
            alternate_number=scene.alternate_number, offset=0.0, duration=length, clip_count=count,
            clips=[summarize_clip(c) for c in listed], clips_omitted=count - len(listed),
            sub_scenes=[self.node(k) for k in _main_order(k for k in kids if not k.is_alternate)],
            alternates=[self.node(k) for k in _alternate_order(k for k in kids if k.is_alternate)],
        )  # fmt: skip

    def listed(self, clips: list[ClipFields]) -> list[ClipFields]:
        if not self.options.include_clips:
            return []
        if self.options.max_clips_per_scene is not None:
            return clips[: self.options.max_clips_per_scene]
        return clips


def _main_order(scenes: Iterable[Scene]) -> list[Scene]:
    return sorted(scenes, key=lambda s: (s.order, s.id))


def _alternate_order(scenes: Iterable[Scene]) -> list[Scene]:
    return sorted(scenes, key=lambda s: (s.alternate_number or 0, s.order, s.id))


def _find(nodes: Iterable[SceneNode], scene_id: str) -> SceneNode | None:
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if node.id == scene_id:
            return node
        stack.extend(node.sub_scenes)
        stack.extend(node.alternates)
    return None


def build_tree(
    project: Project,
    scenes: Sequence[Scene],
    clips: Sequence[ClipFields],
    options: TreeOptions | None = None,
    stats: Sequence[SceneClipStats] | None = None,
) -> ProjectTree:
    """The tree of ``project`` from all its scenes and clips (any order), or from its scenes and ``stats`` (then
    the scenes' clip counts and lengths come from ``stats`` and only ``clips`` are listed: none, usually).

    Raises:
        NotFoundError: ``options.scene_id`` is not a scene of the project (the hint lists its top-level scenes).
    """
    options = options or TreeOptions()
    by_scene = None if stats is None else {s.scene_id: s for s in stats}
    builder = _Builder(scenes, clips, options, by_scene)
    top = builder.build()
    nodes = [TimelineNode(s.id, s.parent_scene_id, s.is_alternate, s.order) for s in scenes]
    # Each node's duration is its scene's length, from its clips or, without them, from the database's stats.
    placement = place_scenes(nodes, {node.id: node.duration for node in walk(top)})
    for node in walk(top):
        node.offset = placement.places[node.id].offset
    listed = top
    if options.scene_id is not None:
        found = _find(top, options.scene_id)
        if found is None:
            names = ", ".join(f"{n.id} ({n.name})" for n in top[:10]) or "none"
            raise NotFoundError(
                "scene", options.scene_id, hint=f"it is not in project {project.id}; top-level scenes: {names}"
            )
        listed = [found]
    return ProjectTree(
        project_id=project.id, name=project.name, music_duration=project.music_duration, total_duration=placement.total,
        scene_count=len(scenes), clip_count=len(clips) if stats is None else sum(s.clips for s in stats),
        root_scene_id=options.scene_id, scenes=listed,
    )  # fmt: skip


def tree_size(tree: ProjectTree) -> int:
    """Bytes of the tree's JSON, as a tool result carries it."""
    return len(tree.model_dump_json(by_alias=True))


def walk(nodes: Iterable[SceneNode]) -> Iterable[SceneNode]:
    """Every node of ``nodes`` and under them (sub-scenes and alternates)."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.sub_scenes)
        stack.extend(node.alternates)
