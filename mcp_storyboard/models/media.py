"""How a file of the media store is addressed (``storyboard://media/{id}``), what points at one, and what clearing
those pointers changed."""

from __future__ import annotations

from typing import Literal

from mcp_storyboard.models.common import StoryboardModel
from mcp_storyboard.models.values import Integer

MEDIA_URI_PREFIX = "storyboard://media/"


def media_uri(media_id: str) -> str:
    """The resource URI of media file ``media_id``."""
    return MEDIA_URI_PREFIX + media_id


def media_id_of(url: str | None) -> str | None:
    """The media-store id ``url`` names when it is a ``storyboard://media/{id}`` URI; None for any other URL."""
    if url and url.startswith(MEDIA_URI_PREFIX) and len(url) > len(MEDIA_URI_PREFIX):
        return url[len(MEDIA_URI_PREFIX):]
    return None


ReferenceKind = Literal["clip", "character", "project"]
ReferenceField = Literal[
    "generated_images", "generated_videos", "media_url", "thumbnail_url", "reference_images", "music_media_id"
]


class MediaReference(StoryboardModel):
    """One document field that refers to a media file (by id or as ``storyboard://media/{id}``)."""

    kind: ReferenceKind
    """What refers to it: a clip, a character or a project."""
    id: str
    """That document's id."""
    field: ReferenceField
    """The field holding the reference."""

    def describe(self) -> str:
        return f"{self.kind} {self.id} ({self.field})"


class ClearedReferences(StoryboardModel):
    """How many documents lost a reference to a deleted media file."""

    clips: Integer = 0
    """Clips whose gallery entries, media_url or thumbnail_url named it."""
    characters: Integer = 0
    """Characters whose reference_images named it."""
    projects: Integer = 0
    """Projects whose music_media_id or thumbnail_url named it."""
