"""FaceFusion presets: saved parameters of one operation type."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_storyboard.models.common import Page, StoryboardModel
from mcp_storyboard.models.facefusion import (
    FaceFusionPreset,
    FaceFusionPresetPatch,
    PresetOperationType,
    PresetVisibility,
)
from mcp_storyboard.models.values import Description, Name, PageSize
from mcp_storyboard.server.confirmation import ConfirmArg
from mcp_storyboard.server.notify import notify_changed
from mcp_storyboard.server.registry import ToolRegistry, get_services
from mcp_storyboard.server.results import Written, created_fields, written
from mcp_storyboard.server.taxonomy import Toolset
from mcp_storyboard.server.tools._facefusion_args import Cursor, PresetId
from mcp_storyboard.services.facefusion.views import preset_uri

TOOLSET: Toolset = "facefusion"
tool = ToolRegistry(TOOLSET)

Parameters = Annotated[
    dict[str, Any], Field(description="The operation's parameters, as its tool takes them (edit: face_editor_*).")
]


class PresetPage(Page[FaceFusionPreset]):
    """One page of presets by name; pass ``next_cursor`` back for the next page."""


class PresetDeletion(StoryboardModel):
    id: str
    name: str


@tool(title="Create a FaceFusion preset", operation="create")
async def create_facefusion_preset(
    name: Name,
    operation_type: PresetOperationType,
    parameters: Parameters,
    ctx: Context,
    description: Description | None = None,
    is_public: bool = False,
) -> Written:
    """Save FaceFusion parameters for one operation type, to pass as preset_id."""
    preset = await get_services(ctx).facefusion.presets.create(
        name, operation_type, parameters, description=description, is_public=is_public
    )
    await notify_changed(ctx, [preset_uri(preset.id)])
    return written(preset, preset_uri(preset.id), created_fields(preset, "name", "parameters"))


@tool(title="Get a FaceFusion preset", operation="read")
async def get_facefusion_preset(preset_id: PresetId, ctx: Context) -> FaceFusionPreset:
    """One preset with its parameters and use count."""
    return await get_services(ctx).facefusion.presets.get(preset_id)


@tool(title="List FaceFusion presets", operation="read")
async def list_facefusion_presets(
    ctx: Context,
    operation_type: PresetOperationType | None = None,
    visibility: PresetVisibility = "all",
    limit: Annotated[PageSize, Field(description="Page size.")] = 50,
    cursor: Cursor = None,
) -> PresetPage:
    """Presets you can use (public ones and your private ones) by name, paginated."""
    page = await get_services(ctx).facefusion.presets.list_page(
        operation_type=operation_type, visibility=visibility, limit=limit, cursor=cursor
    )
    return PresetPage(items=page.items, next_cursor=page.next_cursor)


@tool(title="Update a FaceFusion preset", operation="update")
async def update_facefusion_preset(
    preset_id: PresetId,
    patch: Annotated[FaceFusionPresetPatch, Field(description="Only the fields to change.")],
    ctx: Context,
) -> Written:
    """Change one of your presets; parameters are checked against its operation type."""
    preset, fields = await get_services(ctx).facefusion.presets.update(preset_id, patch)
    await notify_changed(ctx, [preset_uri(preset_id)])
    return written(preset, preset_uri(preset_id), fields)


@tool(title="Delete a FaceFusion preset", operation="delete")
async def delete_facefusion_preset(preset_id: PresetId, ctx: Context, confirm: ConfirmArg = False) -> PresetDeletion:
    """Delete one of your presets (queued jobs keep their parameters)."""
    preset = await get_services(ctx).facefusion.presets.delete(preset_id)
    await notify_changed(ctx, [preset_uri(preset_id)])
    return PresetDeletion(id=preset.id, name=preset.name)
