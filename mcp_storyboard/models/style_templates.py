"""Style templates: reusable prompt additions, negative prompt and strength for consistent generation."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from mcp_storyboard.models.common import Document, Uuid, keep
from mcp_storyboard.models.values import NOT_BOOL, CollectionPatch, Description, Integer, Name, name_key

StyleStrength = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False), NOT_BOOL]
"""How strongly a style applies, 0.0–1.0 (create and update alike)."""


class StyleTemplate(Document):
    """A style template. ``project_id`` set: a project's own template (the schema); null: a library template
    offered in every project (our addition)."""

    collection: ClassVar[str] = "style_templates"

    project_id: Uuid | None = None
    """Project the template belongs to; null for a library template available to every project."""
    name: Name
    """Template name, unique within its project (or within the library) ignoring case."""
    description: Description = ""
    """What the style looks like."""
    prompt_additions: str = Field(default="", max_length=5000)
    """Text appended to a clip's positive prompt."""
    negative_prompt: str = Field(default="", max_length=5000)
    """Text added to a clip's negative prompt."""
    style_strength: StyleStrength = 1.0
    """How strongly the style applies (0.0-1.0); below 1.0 the additions are weighted in the composed prompt."""
    use_count: Integer = Field(default=0, ge=0)
    """Times the template was applied to a clip (lists sort by it, most used first)."""

    @property
    def name_key(self) -> str:
        """Addition to the schema, stored next to ``name`` by every write (never set by a caller): the name as
        compared for uniqueness (``values.name_key``), unique per project and across the library (no project).
        Documents written before it read fine."""
        return name_key(self.name)


class StyleTemplatePatch(CollectionPatch):
    """Fields of a style template a caller may change."""

    name: Name = keep()
    """New name."""
    description: Description = keep()
    """New description."""
    prompt_additions: str = keep(max_length=5000)
    """New prompt additions."""
    negative_prompt: str = keep(max_length=5000)
    """New negative prompt."""
    style_strength: StyleStrength = keep()
    """New strength."""
