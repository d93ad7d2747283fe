"""An animatic's picture as a list of held stills, in frames: each main clip's selected image from its start to
its end on the project timeline, black for the gaps. Times become frames only through ``FrameRate.frame_at`` (the
timeline export's one rounding), so the animatic cuts exactly where the exported timeline does.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcp_storyboard.services.export.timing import FrameRate
from mcp_storyboard.services.sheets.entries import SheetContents


@dataclass(frozen=True)
class Still:
    """One picture held from ``start`` for ``frames`` frames."""

    start: int
    frames: int
    media_id: str | None
    """The stored image to show; None: black (a gap, or a clip without a stored image)."""
    caption: str | None
    """The clip's name for the burn-in; None for a gap."""

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
            stills.append(Still(start, end - start, clip.media_id if clip.image == "stored" else None, clip.name))
            cursor, clips = end, clips + 1
    return Picture(tuple(stills), cursor, clips)
