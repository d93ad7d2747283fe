"""What write tools return: compact results (the document's id, its resource URI, what the call changed), and the
lean read shapes that list clips as summaries.

Every session reads ``tools/list`` into the model's context, and a write returning its whole document repeated
the document's schema in each write tool. A write now says what it did; ``get_*`` shows the whole document. The
values a caller cannot know in advance (a clip's assigned place, an alternate's generated name, a new gallery
entry's id) stay in the result, read from what was stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import Field, WithJsonSchema

from mcp_storyboard.models.clips import Clip
from mcp_storyboard.models.common import Document, Page, StoryboardModel
from mcp_storyboard.models.facefusion import FaceFusionOutputGallery, FaceFusionPreferredSettings
from mcp_storyboard.models.projects import Project
from mcp_storyboard.models.scenes import Scene
from mcp_storyboard.models.style_templates import StyleTemplate
from mcp_storyboard.server.resources import (
    character_uri,
    clip_uri,
    project_uri,
    scene_uri,
    style_template_uri,
)
from mcp_storyboard.services.characters import CharacterDetails
from mcp_storyboard.services.scene_views import SceneWithClips
from mcp_storyboard.services.tree import ClipSummary, summarize_clip

BOOKKEEPING = frozenset({"id", "created_at", "updated_at", "project_id"})
"""Fields a create always sets; they are not news in ``changed``."""


class Written(StoryboardModel):
    """A write's result: what it wrote and where to read the whole document."""

    id: str
    uri: str
    name: str
    changed: list[str]
    """The fields this call set (for a create: every field not at its default)."""


class ClipWritten(Written):
    """A clip write's result, with where the clip now is (stored values)."""

    scene_id: str
    order: int
    timeline_position: float
    duration: float


class SceneWritten(Written):
    """A scene write's result, with where the scene now is (stored values)."""

    parent_scene_id: str | None
    order: int
    clip_ids: list[str] = Field(default_factory=list)
    """For an alternate created with copy_clips: the copies, in order."""


class PromotedWritten(SceneWritten):
    """A promotion's result: the promoted scene's place, its alternates now and the sub-scenes it took over."""

    alternate_ids: list[str]
    moved_sub_scene_ids: list[str]


class GalleryWritten(StoryboardModel):
    """A clip gallery write's result: the entry it touched and the selection after it."""

    id: str
    uri: str
    changed: list[str]
    media_entry_id: str
    selected_image_id: str | None
    selected_video_id: str | None


class SceneOutline(Scene):
    """A scene with its clips as summaries (get_clip shows a whole clip), its sub-scenes and alternates."""

    clips: list[ClipSummary]
    sub_scene_ids: list[str]
    alternate_ids: list[str]

    @classmethod
    def of(cls, scene: SceneWithClips) -> SceneOutline:
        fields = scene.model_dump(exclude={"clips"})
        return cls.model_validate({**fields, "clips": summaries(scene.clips)})


class ClipSummaryPage(Page[ClipSummary]):
    """One page of clip summaries; pass ``next_cursor`` back for the next page."""


class ClipFamily(StoryboardModel):
    """A clip's original and its alternates, as summaries."""

    original: ClipSummary
    alternates: list[ClipSummary]


class CharacterView(CharacterDetails):
    """A character with its FaceFusion blocks published as plain objects: their full schemas (every FaceFusion
    parameter and its allowed values) were most of get_character's catalog entry, and a reader needs the values."""

    facefusion_preferred_settings: Annotated[
        FaceFusionPreferredSettings,
        WithJsonSchema({"type": "object", "description": "FaceFusion parameters its operations default to."}),
    ]
    facefusion_output_gallery: Annotated[
        FaceFusionOutputGallery,
        WithJsonSchema({"type": "object", "description": "Result image URLs by category (enhanced_faces, ...)."}),
    ]

    @classmethod
    def of(cls, details: CharacterDetails) -> CharacterView:
        return cls.model_validate(details.model_dump())


def summaries(clips: Iterable[Clip]) -> list[ClipSummary]:
    return [summarize_clip(c) for c in clips]


def created_fields(document: Document) -> list[str]:
    """The fields of a new ``document`` that are not at their model default, bookkeeping left out."""
    changed: list[str] = []
    for name, info in type(document).model_fields.items():
        if name in BOOKKEEPING:
            continue
        default: Any = info.get_default(call_default_factory=True)
        if getattr(document, name) != default:
            changed.append(name)
    return changed


def clip_written(clip: Clip, changed: Iterable[str]) -> ClipWritten:
    return ClipWritten(
        id=clip.id, uri=clip_uri(clip.id), name=clip.name, changed=list(changed), scene_id=clip.scene_id,
        order=clip.order, timeline_position=clip.timeline_position, duration=clip.duration,
    )  # fmt: skip


def scene_written(scene: Scene, changed: Iterable[str], clip_ids: Iterable[str] = ()) -> SceneWritten:
    return SceneWritten(
        id=scene.id, uri=scene_uri(scene.id), name=scene.name, changed=list(changed),
        parent_scene_id=scene.parent_scene_id, order=scene.order, clip_ids=list(clip_ids),
    )  # fmt: skip


def project_written(project: Project, changed: Iterable[str]) -> Written:
    return Written(id=project.id, uri=project_uri(project.id), name=project.name, changed=list(changed))


def template_written(template: StyleTemplate, changed: Iterable[str]) -> Written:
    return Written(id=template.id, uri=style_template_uri(template.id), name=template.name, changed=list(changed))


def character_written(character_id: str, name: str, changed: Iterable[str]) -> Written:
    return Written(id=character_id, uri=character_uri(character_id), name=name, changed=list(changed))
