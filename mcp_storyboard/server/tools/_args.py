"""Id arguments shared by every tool module: one id type (the models' ``Uuid``), described once per kind."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from mcp_storyboard.models.common import Uuid

Id = Uuid
"""Any document id (1–64 characters of ``A-Za-z0-9_.:-``); give it a description where it is an argument."""
ProjectId = Annotated[Uuid, Field(description="The project's id (from create_project or list_projects).")]
SceneId = Annotated[Uuid, Field(description="The scene's id (from create_scene, list_scenes or get_project_tree).")]
ClipId = Annotated[Uuid, Field(description="The clip's id (from create_clip, list_clips or get_project_tree).")]
CharacterId = Annotated[Uuid, Field(description="The character's id (from create_character or list_characters).")]
TemplateId = Annotated[
    Uuid, Field(description="The style template's id (from create_style_template or list_style_templates).")
]
MediaId = Annotated[Uuid, Field(description="The file's media id (from list_media or upload_media).")]
