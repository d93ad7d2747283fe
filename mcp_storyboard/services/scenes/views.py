"""Read models of the scene service: what the scene tools return besides a plain ``Scene``."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from mcp_storyboard.models.clips import Clip
from mcp_storyboard.models.common import Page, StoryboardModel
from mcp_storyboard.models.scenes import Scene


class SceneWithClips(Scene):
    """A scene as read: its clips in order (from the clips collection), its sub-scenes and its alternates."""

    clips: list[Clip] = Field(default_factory=list)
    """The scene's clips (main clips and clip alternates) in ``order``."""
    sub_scene_ids: list[str] = Field(default_factory=list)
    """Ids of the scene's direct sub-scenes, in order."""
    alternate_ids: list[str] = Field(default_factory=list)
    """Ids of the scene's alternates, by alternate number (empty for an alternate)."""

    @classmethod
    def of(cls, scene: Scene, clips: Sequence[Clip], children: Sequence[Scene]) -> SceneWithClips:
        """``scene`` read with its clips (already in order) and its direct children."""
        subs = sorted((c for c in children if not c.is_alternate), key=lambda c: (c.order, c.id))
        alternates = sorted((c for c in children if c.is_alternate), key=lambda c: (c.alternate_number or 0, c.id))
        return cls.model_validate({**scene.model_dump(), "clips": list(clips), "sub_scene_ids": [c.id for c in subs],
                                   "alternate_ids": [c.id for c in alternates]})


class ScenePage(Page[Scene]):
    """One page of scenes; pass ``next_cursor`` back to get the next page."""


class SceneRef(StoryboardModel):
    """A scene's id, name and place among its siblings."""

    id: str
    """Scene id."""
    name: str
    """Scene name."""
    order: int
    """Position among its siblings (0 is first)."""


class SiblingOrder(StoryboardModel):
    """The main scenes of one (project, parent) in their order."""

    project_id: str
    """The project."""
    parent_scene_id: str | None
    """The parent scene; null for the project's top level."""
    scenes: list[SceneRef]
    """The sibling scenes, first to last."""


class SceneFamily(StoryboardModel):
    """A scene on the main timeline and its alternate timelines."""

    original: Scene
    """The main scene of the family."""
    alternates: list[Scene]
    """Its alternates, by alternate number."""


class SceneDeletion(StoryboardModel):
    """What a scene delete removed."""

    scene_id: str
    """The scene that was asked for."""
    project_id: str
    """Its project."""
    deleted_scene_ids: list[str]
    """Every scene removed: the scene, its sub-scenes (recursively) and the alternates of all of them."""
    deleted_clip_count: int
    """How many clips of those scenes were removed."""


class PromotedScene(StoryboardModel):
    """The result of promoting an alternate onto the main timeline."""

    scene: Scene
    """The promoted scene, now a main scene in the former original's place."""
    alternates: list[Scene]
    """Its alternates now: the former original (with a fresh number) and the family's other alternates."""
    moved_sub_scene_ids: list[str]
    """Sub-scenes of the former original, now under the promoted scene."""
