"""The ``characters`` collection: recurring characters of a project, with their FaceFusion work."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field

from mcp_storyboard.models.common import Document, Uuid, keep
from mcp_storyboard.models.facefusion import (
    FaceFusionHistoryEntry,
    FaceFusionOutputGallery,
    FaceFusionPreferredSettings,
)
from mcp_storyboard.models.values import CollectionPatch, Description, MediaUrl, Name, name_key

ReferenceImages = Annotated[list[MediaUrl], Field(max_length=100)]
"""At most 100 reference image URLs."""
Lora = Annotated[str, Field(max_length=200)]
"""A LoRA identifier, at most 200 characters."""
TriggerWords = Annotated[str, Field(max_length=500)]
"""LoRA trigger words, at most 500 characters."""


def _none_as_empty_list(value: Any) -> Any:
    return [] if value is None else value


def _none_as_empty_gallery(value: Any) -> Any:
    return {} if value is None else value


class Character(Document):
    """A character of a project.

    Documents written before FaceFusion support lack the three ``facefusion_*`` fields (or hold null); they read
    as an empty history, no preferred settings and an empty gallery, as the schema's migration would set them.
    """

    collection: ClassVar[str] = "characters"

    project_id: Uuid
    """The project the character belongs to."""
    name: Name
    """Character name, 1–200 characters."""
    description: Description = ""
    """Who the character is, at most 2000 characters."""
    reference_images: ReferenceImages = Field(default_factory=list)
    """Reference image URLs (at most 100)."""
    lora: Lora | None = None
    """LoRA model identifier."""
    trigger_words: TriggerWords | None = None
    """LoRA trigger words."""
    style_notes: Description | None = None
    """Style and appearance notes, at most 2000 characters."""
    facefusion_processing_history: Annotated[
        list[FaceFusionHistoryEntry], BeforeValidator(_none_as_empty_list)
    ] = Field(default_factory=list)
    """Every FaceFusion operation on the character's images, oldest first, failures included."""
    facefusion_preferred_settings: FaceFusionPreferredSettings | None = None
    """Defaults for the character's FaceFusion operations; null means the FaceFusion defaults."""
    facefusion_output_gallery: Annotated[FaceFusionOutputGallery, BeforeValidator(_none_as_empty_gallery)] = Field(
        default_factory=FaceFusionOutputGallery
    )
    """Successful FaceFusion results by category."""

    @property
    def name_key(self) -> str:
        """Addition to the schema, stored next to ``name`` by every write (never set by a caller): the name as
        compared for uniqueness (``values.name_key``), unique per project. Documents written before it read fine."""
        return name_key(self.name)


class CharacterChanges(CollectionPatch):
    """The fields of a character a caller may change (``update_character``); fields left out keep their values.
    FaceFusion settings, history and gallery change only through the FaceFusion tools."""

    name: Name = keep()
    """New name, unique in the project ignoring case."""
    description: Description = keep()
    """New description."""
    reference_images: ReferenceImages = keep()
    """New reference image URLs (replace the whole list)."""
    lora: Lora | None = None
    """New LoRA (``name`` or ``name:weight``); null removes it."""
    trigger_words: TriggerWords | None = None
    """New trigger words; null removes them."""
    style_notes: Description | None = None
    """New style notes; null removes them."""


class CharacterPatch(CharacterChanges):
    """Every field of a character a write may change: :class:`CharacterChanges` plus the preferred FaceFusion
    settings (set by the FaceFusion tools, not by ``update_character``, which keeps its schema small)."""

    facefusion_preferred_settings: FaceFusionPreferredSettings | None = None
    """New preferred FaceFusion settings (replace the stored ones); null clears them."""
