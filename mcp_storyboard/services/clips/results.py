"""The typed inputs and results of the clip service (what the clip tools take and return)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from mcp_storyboard.models.clips import Clip, ClipDuration, ClipType, GeneratedMedia
from mcp_storyboard.models.common import Page, StoryboardModel, keep
from mcp_storyboard.models.values import CollectionPatch, Lyrics, MediaUrl, Prompt

ClipName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
"""A clip name: surrounding whitespace removed, at most 200 characters (may be empty)."""
ClipContent = Annotated[str, Field(max_length=10_000)]
"""Text shown by a text clip, at most 10,000 characters."""
MediaKind = Literal["image", "video"]
"""Which gallery of a clip: generated images or generated videos."""

# Fields update_clip refuses, and the tool that changes each instead.
_ELSEWHERE = {
    "timeline_position": "set_clip_timing",
    "duration": "set_clip_timing",
    "order": "move_clip or reorder_clips",
    "scene_id": "move_clip",
    "character_id": "assign_character",
    "style_template_id": "apply_style_template",
    "generated_images": "add_clip_media",
    "generated_videos": "add_clip_media",
    "selected_image_id": "select_clip_media",
    "selected_video_id": "select_clip_media",
}


class NewClip(StoryboardModel):
    """The content of a clip to create (placement is given separately)."""

    name: ClipName = ""
    type: ClipType = "image"
    content: ClipContent = ""
    lyrics: Lyrics = ""
    image_prompt: Prompt | None = None
    video_prompt: Prompt | None = None
    media_url: MediaUrl | None = None
    thumbnail_url: MediaUrl | None = None
    duration: ClipDuration = 5.0


class ClipChanges(CollectionPatch):
    """The fields of a clip to change. Leave a field out to keep it; null clears the optional ones (prompts and
    URLs). Timing, order, scene, character and style template change through their own tools."""

    name: ClipName = keep()
    """New name (empty allowed)."""
    type: ClipType = keep()
    """New type: image, video or text (a text clip needs non-empty content)."""
    content: ClipContent = keep()
    """New text content (shown by text clips)."""
    lyrics: Lyrics = keep()
    """New lyrics."""
    image_prompt: Prompt | None = None
    """New image prompt; null clears it."""
    video_prompt: Prompt | None = None
    """New video prompt; null clears it."""
    media_url: MediaUrl | None = None
    """New media URL (http(s)://, storyboard://media/<id> or a relative path); null removes it."""
    thumbnail_url: MediaUrl | None = None
    """New thumbnail URL; null removes it."""

    @model_validator(mode="before")
    @classmethod
    def _point_elsewhere(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if key in _ELSEWHERE:
                    raise PydanticCustomError(
                        "changed_elsewhere",
                        "{key} is not changed by update_clip; use {tool}",
                        {"key": key, "tool": _ELSEWHERE[key]},
                    )
        return data


class ClipPage(Page[Clip]):
    """One page of a scene's clips in display order; pass ``next_cursor`` back for the next page."""


class ClipDeleted(StoryboardModel):
    """What delete_clip removed."""

    id: str
    """The deleted clip."""
    scene_id: str
    """Its scene (whose remaining clips were renumbered 0..n-1)."""
    project_id: str
    """Its project."""
    deleted_alternate_ids: list[str]
    """Alternates deleted with it."""


class ClipAlternates(StoryboardModel):
    """A clip family: the original and its alternates (one level deep)."""

    original: Clip
    """The original clip."""
    alternates: list[Clip]
    """Its alternates by number (A1, A2, ...)."""


class ClipGallery(StoryboardModel):
    """A clip's generated media and the selected entry of each kind."""

    clip_id: str
    """The clip."""
    scene_id: str
    """Its scene."""
    project_id: str
    """Its project."""
    images: list[GeneratedMedia]
    """Generated images, oldest first."""
    videos: list[GeneratedMedia]
    """Generated videos, oldest first."""
    selected_image_id: str | None
    """The selected image entry (null: no images)."""
    selected_video_id: str | None
    """The selected video entry (exports use it; null: no videos)."""
    entry_id: str | None = None
    """The entry the call added (``add`` only)."""

    @classmethod
    def of(cls, clip: Clip) -> ClipGallery:
        return cls(
            clip_id=clip.id,
            scene_id=clip.scene_id,
            project_id=clip.project_id,
            images=clip.generated_images,
            videos=clip.generated_videos,
            selected_image_id=clip.selected_image_id,
            selected_video_id=clip.selected_video_id,
        )


class OverlapReport(StoryboardModel):
    """Two main clips of a scene that overlap."""

    first_id: str
    """The clip that starts first."""
    first_name: str
    """Its name."""
    second_id: str
    """The clip that starts later (or at the same time)."""
    second_name: str
    """Its name."""
    start: float
    """Where the overlap starts (seconds from the scene start)."""
    end: float
    """Where it ends."""
    seconds: float
    """How long the two clips overlap."""
    suggested_position: float | None
    """The first free position for the second clip at or after its start (null: none before 10,000 s)."""


class GapReport(StoryboardModel):
    """A stretch of a scene's timeline no main clip covers, longer than the threshold."""

    after_id: str | None
    """The clip before the gap (null: the gap opens the scene)."""
    before_id: str
    """The clip after the gap."""
    start: float
    """Gap start (seconds from the scene start)."""
    end: float
    """Gap end."""
    seconds: float
    """Gap length."""


class MissingPrompt(StoryboardModel):
    """A clip without the prompt its type needs."""

    clip_id: str
    """The clip."""
    name: str
    """Its name."""
    type: ClipType
    """Its type."""
    missing: Literal["image_prompt", "video_prompt"]
    """The empty prompt: image_prompt for image clips, video_prompt for video clips."""
    alternate_of: str | None
    """The original, when the clip is an alternate."""


class SceneTimeline(StoryboardModel):
    """The timeline of one scene."""

    scene_id: str
    """The scene."""
    name: str
    """Its name."""
    parent_scene_id: str | None
    """Its parent (containing scene, or original of an alternate)."""
    is_alternate: bool
    """True for an alternate timeline of its parent."""
    depth: int | None
    """Nesting depth (0: top level of the analysed timeline)."""
    offset: float | None
    """Start in seconds on the analysed timeline: the scenes before it, each as long as it lasts. An alternate
    scene starts where its original starts."""
    on_main_timeline: bool = False
    """True for a scene that plays on the main timeline; false for alternate scenes and scenes inside them."""
    length: float
    """Where its last main clip ends: its length on the project timeline."""
    clip_length_total: float
    """Sum of its main clips' durations (less than ``length`` when there are gaps, more when clips overlap)."""
    clip_count: int
    """Main clips."""
    alternate_clip_count: int
    """Alternate clips (they share their originals' slots and never collide)."""
    overlaps: list[OverlapReport]
    """Overlapping pairs of main clips."""
    gaps: list[GapReport]
    """Uncovered stretches longer than the threshold, from 0 to the last clip's end."""
    missing_prompts: list[MissingPrompt]
    """Clips (alternates included) without the prompt their type needs."""
    has_issues: bool
    """True when there is any overlap, gap or missing prompt."""


class TimelineAnalysis(StoryboardModel):
    """analyze_timeline's report: per scene overlaps, gaps, lengths and missing prompts, plus totals."""

    project_id: str
    """The project."""
    scene_id: str | None
    """The analysed scene (with its sub-scenes); null for the whole project."""
    gap_threshold: float
    """Gaps up to this many seconds are not reported."""
    scenes: list[SceneTimeline]
    """The scenes of the analysed main timeline in play order (a scene, then its sub-scenes); for a project, then
    its alternate scenes (each with its sub-scenes)."""
    total_duration: float
    """Length of the analysed main timeline: the sum of the lengths of the scenes on it."""
    clip_count: int
    """Main clips in all listed scenes."""
    overlap_count: int
    """Overlapping pairs in all listed scenes."""
    gap_count: int
    """Reported gaps in all listed scenes."""
    missing_prompt_count: int
    """Clips missing a prompt in all listed scenes."""
    music_duration: float | None
    """The project's music length, to compare with ``total_duration`` (null when unknown)."""
    has_issues: bool
    """True when any listed scene has an issue."""


class ClipOrder(StoryboardModel):
    """A scene's clips in their new display order (order 0..n-1)."""

    scene_id: str
    """The scene."""
    project_id: str
    """Its project."""
    clip_ids: list[str]
    """Its clips, first to last."""


class ClipMoved(StoryboardModel):
    """A moved clip and the scene it left."""

    clip: Clip
    """The clip where it is now."""
    from_scene_id: str
    """The scene it was in before."""
