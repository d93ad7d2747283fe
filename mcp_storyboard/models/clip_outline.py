"""Light read views of clips for whole-project views (the project tree): only the fields such a view shows, so a
project of 100k clips is not read as 100k full clip documents."""

from __future__ import annotations

from typing import Annotated

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
