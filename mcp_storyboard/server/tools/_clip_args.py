"""Argument types and resource URIs shared by the clip tool modules (``clips_read``, ``clips_write``,
``clips_media``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from mcp_storyboard.models.clips import Clip, ClipDuration, TimelinePosition
from mcp_storyboard.models.values import DisplayOrder
from mcp_storyboard.server.resources import scene_uris
from mcp_storyboard.server.tools._args import ClipId, Id, ProjectId, SceneId

__all__ = ["AllowOverlap", "ClipId", "Duration", "Id", "OptionalDuration", "Order", "Position", "ProjectId", "SceneId",
           "clip_uris", "scene_uris"]

Position = Annotated[
    TimelinePosition | None,
    Field(description="Start in seconds from the start of the scene, rounded to 2 decimals."),
]
Duration = Annotated[ClipDuration, Field(description="Length in seconds.")]
OptionalDuration = Annotated[
    ClipDuration | None, Field(description="New length in seconds; omit to keep.")
]
Order = Annotated[
    DisplayOrder | None,
    Field(
        description="0-based place in the scene's display order; omit to put it last. Later clips shift down.",
    ),
]
AllowOverlap = Annotated[
    bool,
    Field(
        description="true keeps a position that overlaps another main clip (analyze_timeline reports it); by "
        "default an overlap is refused with a free position."
    ),
]


def clip_uris(clip: Clip) -> list[str]:
    """The resources whose content a change to ``clip`` changes."""
    return scene_uris(clip.project_id, [clip.scene_id], [clip.id])


