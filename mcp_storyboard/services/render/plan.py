"""An animatic's picture as a list of stretches, in frames: each main clip's selected image (or video) from its
start to its end on the project timeline, black for the gaps. Times become frames only through ``FrameRate.frame_at`` (the
timeline export's one rounding), so the animatic cuts exactly where the exported timeline does.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcp_storyboard.services.export.timing import FrameRate
from mcp_storyboard.services.sheets.entries import SheetContents


@dataclass(frozen=True)
class Still:
    """One stretch of the picture from ``start`` for ``frames`` frames: a clip's video played, or a picture held."""

    start: int
    frames: int
    media_id: str | None
    """The stored image to show (and the fallback of a video that cannot be played); None: black (a gap, or a
    clip without a stored image)."""
    caption: str | None
    """The clip's name for the burn-in; None for a gap."""
    video_id: str | None = None
    """The stored video to play, trimmed to the clip, before ``media_id``."""
    clip_id: str | None = None
    """The clip shown; None for a gap."""

    @property
    def sources(self) -> tuple[str, ...]:
        """The stored files to try in turn: the video, then the image."""
        return tuple(m for m in (self.video_id, self.media_id) if m is not None)

    @property
    def end(self) -> int:
        return self.start + self.frames


@dataclass(frozen=True)
class Picture:
    stills: tuple[Still, ...]
    frames: int
    """The animatic's length: where the last clip ends."""
    clips: int


def plan_picture(contents: SheetContents, rate: FrameRate, *, from_zero: bool = True) -> Picture:
    """The stills of ``contents``' main clips in play order, gaps filled with black. ``from_zero``: the picture
    starts at the project's zero (a gap before the first clip is black), else at the first clip (a scene's
    animatic). A clip that starts before the previous one ends (overlaps are refused on write, but data may be
    old) starts where that one ends; a clip rounded to no frames is left out."""
    stills: list[Still] = []
    cursor = clips = 0
    origin: int | None = 0 if from_zero else None
    for scene in contents.scenes:
        for clip in scene.clips:
            start, end = rate.frame_at(clip.start), rate.frame_at(clip.start + clip.duration)
            if origin is None:
                origin = start  # a scene's animatic starts with its first clip, not at the project's zero
            start, end = max(start - origin, cursor), end - origin
            if end <= start:
                continue
            if start > cursor:
                stills.append(Still(cursor, start - cursor, None, None))
            image = clip.media_id if clip.image == "stored" else None
            stills.append(Still(start, end - start, image, clip.name, clip.video_id, clip.clip_id))
            cursor, clips = end, clips + 1
    return Picture(tuple(stills), cursor, clips)
