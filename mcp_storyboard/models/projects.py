"""The ``projects`` collection: the top-level container of a storyboard."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from mcp_storyboard.models.common import Document, Uuid, keep
from mcp_storyboard.models.values import NOT_BOOL, CollectionPatch, Description, MediaUrl, Name

MusicDuration = Annotated[float, Field(ge=0.0, le=100_000.0, allow_inf_nan=False), NOT_BOOL]
"""Length of a project's soundtrack in seconds, 0–100,000 (create and update alike)."""


class Project(Document):
    """A storyboard project: scenes, clips, characters and jobs hang off it.

    Additions to the schema: ``owner_id``, ``music_media_id``, ``music_duration``.
    """

    collection: ClassVar[str] = "projects"

    name: Name
    """Project name, 1–200 characters."""
    description: Description = ""
    """Project description, at most 2000 characters."""
    thumbnail_url: MediaUrl | None = None
    """Project thumbnail."""
    owner_id: Uuid | None = None
    """Addition: the owning user's id; null for the local (stdio) user."""
    music_media_id: Uuid | None = None
    """Addition: the soundtrack, an id in the ``media`` store (``storyboard://media/{id}``)."""
    music_duration: MusicDuration | None = None
    """Addition: length of the soundtrack in seconds, 0–100,000; null when there is none or it is unknown."""


class ProjectPatch(CollectionPatch):
    """Fields of a project a caller may change (``owner_id`` is ownership and is not among them)."""

    name: Name = keep()
    """New project name."""
    description: Description = keep()
    """New description."""
    thumbnail_url: MediaUrl | None = None
    """New thumbnail; null removes it."""
    music_media_id: Uuid | None = None
    """New soundtrack media id; null removes the soundtrack."""
    music_duration: MusicDuration | None = None
    """Soundtrack length in seconds; null clears it."""
