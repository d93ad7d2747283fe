"""Light read views of clips for whole-project views (the project tree): only the fields such a view shows, so a
project of 100k clips is not read as 100k full clip documents."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from pydantic import AliasChoices, Field

from mcp_storyboard.models.clips import ClipDuration, ClipType, TimelinePosition
from mcp_storyboard.models.common import StoryboardModel, Uuid
from mcp_storyboard.models.values import NOT_BOOL, DisplayOrder, Prompt


class ClipOutline(StoryboardModel):
    """A clip's identity, timing and what it still lacks; field names and defaults are those of ``Clip``."""

    id: Uuid
    scene_id: Uuid
    type: ClipType = "image"
    name: str = ""
    order: DisplayOrder = 0
    timeline_position: TimelinePosition = 0.0
    duration: ClipDuration = Field(default=5.0, validation_alias=AliasChoices("duration", "length"))
    image_prompt: Prompt | None = None
    video_prompt: Prompt | None = None
    selected_image_id: Uuid | None = None
    selected_video_id: Uuid | None = None
    character_id: Uuid | None = None
    alternate_of: Uuid | None = None


OUTLINE_FIELDS: tuple[str, ...] = (*ClipOutline.model_fields, "length")
"""The stored fields a ``ClipOutline`` is read from (``length`` is the legacy name of ``duration``)."""


class SceneClipStats(StoryboardModel):
    """One scene's clips in numbers, computed by the database (one aggregate for a whole project)."""

    scene_id: str
    clips: Annotated[int, NOT_BOOL]
    """Clips in the scene, alternates included."""
    main_end: Annotated[float, NOT_BOOL]
    """Where its last main (non-alternate) clip ends, seconds, before rounding (0 without main clips)."""

    @classmethod
    def of_clips(cls, scene_id: str, clips: Iterable[Mapping[str, Any]]) -> SceneClipStats:
        """The numbers of a scene from its stored clips (the fields of :data:`STATS_FIELDS`), read as the clip
        model reads them: no position is 0, no duration is the legacy ``length`` or else 5.0."""
        count, main_end = 0, 0.0
        for clip in clips:
            count += 1
            if clip.get("alternate_of") is None:
                duration = next((clip[k] for k in ("duration", "length") if clip.get(k) is not None), 5.0)
                main_end = max(main_end, (clip.get("timeline_position") or 0) + duration)
        return cls(scene_id=scene_id, clips=count, main_end=main_end)


STATS_FIELDS: tuple[str, ...] = ("timeline_position", "duration", "length", "alternate_of")
"""The stored clip fields a scene's numbers are computed from."""
