"""Animatic render jobs (``render_jobs``, an addition): what to render, how far it got, and the MP4 it made.

A job is queued by ``render_animatic`` and claimed by a render worker on the shared queue rules
(``repositories/queue.py``); the MP4 lands in the media store and ``result`` links it.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from mcp_storyboard.models.common import Document, StoryboardModel, UtcDatetime, Uuid
from mcp_storyboard.models.values import Integer, Leased, Message, Real

RenderStatus = Literal["queued", "processing", "completed", "failed", "cancelled"]
VideoCodec = Literal["h264", "vp9"]
RenderFrameRate = Literal["23.976", "24", "25", "29.97", "30", "50", "59.94", "60"]
"""The timeline export's frame rates (``services/export/timing.py`` holds their exact values)."""
WIDTHS = (160, 3840)
HEIGHTS = (90, 2160)


class AnimaticOptions(StoryboardModel):
    """How an animatic is rendered. Sizes are even: H.264 and VP9 store colour at half resolution."""

    width: Integer = Field(default=1280, ge=WIDTHS[0], le=WIDTHS[1], multiple_of=2)
    height: Integer = Field(default=720, ge=HEIGHTS[0], le=HEIGHTS[1], multiple_of=2)
    frame_rate: RenderFrameRate = "24"
    burn_in: bool = True
    """Draw each clip's name and timecode over its picture."""
    music: bool = True
    """Lay the project's music under the picture, trimmed to its length."""
    codec: VideoCodec = "h264"


class RenderResult(StoryboardModel):
    """The MP4 a finished job made."""

    media_id: str
    url: str
    """``storyboard://media/{media_id}``."""
    duration: Real
    """Seconds."""
    frames: Integer
    clips: Integer
    """Main clips shown."""
    music: bool
    """Whether music was laid under it."""
    fallbacks: list[str] = Field(default_factory=list)
    """Clips whose selected video or image could not be read (missing or undecodable): shown with their image
    instead, or black."""


class RenderJob(Document, Leased):
    """A queued animatic render; workers claim the oldest queued job first.

    Additions: the whole collection, with the queue's ``attempts``, ``max_attempts``, ``lease_owner``,
    ``lease_expires_at``.
    """

    collection: ClassVar[str] = "render_jobs"

    project_id: Uuid
    scene_id: Uuid | None = None
    """Only this scene and its sub-scenes; None renders the whole main timeline."""
    status: RenderStatus = "queued"
    options: AnimaticOptions = Field(default_factory=AnimaticOptions)
    progress: Real = Field(default=0.0, ge=0.0, le=100.0)
    """Percent of the frames rendered."""
    result: RenderResult | None = None
    error_message: Message | None = None
    started_at: UtcDatetime | None = None
    completed_at: UtcDatetime | None = None
