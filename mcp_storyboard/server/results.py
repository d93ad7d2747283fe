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

from pydantic import BaseModel, JsonValue, WithJsonSchema

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
from mcp_storyboard.services.characters.service import CharacterDetails, CharacterSummary
from mcp_storyboard.services.scenes.views import SceneWithClips
from mcp_storyboard.services.projects.tree import ClipSummary, summarize_clip

BOOKKEEPING = frozenset({"id", "created_at", "updated_at", "project_id"})
"""Fields a create always sets; they are not news in ``changed``."""

Changed = Annotated[
    dict[str, JsonValue],
    WithJsonSchema({"type": "object", "description": "Fields set, as stored."}),
]


class Written(StoryboardModel):
    """A write's result: the document's id, where to read all of it, and what the call set (as stored)."""

    id: str
    uri: str
    changed: Changed


class SceneCopy(Written):
    """An alternate scene's result: also the ids of the clips copied into it, in order."""

    clip_ids: list[str]


class PromotedWritten(Written):
    """A promotion's result: also the promoted scene's alternates now and the sub-scenes it took over."""

    alternate_ids: list[str]
    moved_sub_scene_ids: list[str]


class GalleryWritten(Written):
    """A clip gallery write's result: also the entry it touched (``changed`` holds the selection after it)."""

    media_entry_id: str


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


def written(document: Document, uri: str, fields: Iterable[str]) -> Written:
    """The compact result of a write to ``document`` (as stored) that set ``fields``."""
    return Written(id=document.id, uri=uri, changed=stored_values(document, fields))


def stored_values(document: BaseModel, fields: Iterable[str]) -> dict[str, JsonValue]:
    """``fields`` of ``document`` as JSON, in the order given."""
    dumped = document.model_dump(mode="json", include=set(fields))
    return {name: dumped[name] for name in fields if name in dumped}


def created_fields(document: Document, *always: str) -> list[str]:
    """What a create set: the fields of the new ``document`` not at their model default (bookkeeping left out),
    plus ``always`` (the values the server chose, such as a place in an order, even when they equal a default)."""
    changed: list[str] = []
    for name, info in type(document).model_fields.items():
        if name in BOOKKEEPING:
            continue
        default: Any = info.get_default(call_default_factory=True)
        if name in always or getattr(document, name) != default:
            changed.append(name)
    return changed


def clip_written(clip: Clip, fields: Iterable[str]) -> Written:
    return written(clip, clip_uri(clip.id), fields)


def character_written(character: CharacterSummary, fields: Iterable[str]) -> Written:
    return Written(id=character.id, uri=character_uri(character.id), changed=stored_values(character, fields))


def patched(patch: BaseModel) -> list[str]:
    """The fields a patch sets, in the patch model's order."""
    return [name for name in type(patch).model_fields if name in patch.model_fields_set]


def scene_written(scene: Scene, fields: Iterable[str]) -> Written:
    return written(scene, scene_uri(scene.id), fields)


def project_written(project: Project, fields: Iterable[str]) -> Written:
    return written(project, project_uri(project.id), fields)


def template_written(template: StyleTemplate, fields: Iterable[str]) -> Written:
    return written(template, style_template_uri(template.id), fields)
