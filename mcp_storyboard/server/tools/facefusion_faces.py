"""A character's FaceFusion data: history, gallery and preferred settings."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_storyboard.models.facefusion import FaceFusionOutputGallery
from mcp_storyboard.models.values import NOT_BOOL, MediaUrl, PageSize
from mcp_storyboard.server.confirmation import ConfirmArg
from mcp_storyboard.server.notify import notify_changed
from mcp_storyboard.server.registry import ToolRegistry, get_services
from mcp_storyboard.server.resources import character_uri
from mcp_storyboard.server.results import Written
from mcp_storyboard.server.taxonomy import Toolset
from mcp_storyboard.server.tools._args import CharacterId
from mcp_storyboard.server.tools._facefusion_args import Cursor
from mcp_storyboard.services.facefusion.faces import GalleryCategory
from mcp_storyboard.services.facefusion.views import (
    FacePreferences,
    HistoryPage,
    character_facefusion_uri,
)

TOOLSET: Toolset = "facefusion"
tool = ToolRegistry(TOOLSET)


@tool(title="Get a character's FaceFusion history", operation="read")
async def get_character_facefusion_history(
    character_id: CharacterId,
    ctx: Context,
    limit: Annotated[PageSize, Field(description="Page size.")] = 20,
    cursor: Cursor = None,
) -> HistoryPage:
    """The FaceFusion operations run for a character, newest first, failures included; paginated."""
    return await get_services(ctx).facefusion.faces.history(character_id, limit=limit, cursor=cursor)


@tool(title="Get a character's FaceFusion gallery", operation="read")
async def get_character_facefusion_gallery(character_id: CharacterId, ctx: Context) -> FaceFusionOutputGallery:
    """A character's FaceFusion result images by category; age_variants maps an age to its image."""
    return await get_services(ctx).facefusion.faces.gallery(character_id)


@tool(title="Remove a gallery image", operation="delete")
async def remove_gallery_item(
    character_id: CharacterId,
    category: GalleryCategory,
    ctx: Context,
    url: Annotated[MediaUrl | None, Field(max_length=2048, description="The image URL (not for age_variants).")] = None,
    age: Annotated[
        Annotated[int, Field(ge=0, le=100), NOT_BOOL] | None, Field(description="age_variants: the age to remove.")
    ] = None,
    confirm: ConfirmArg = False,
) -> Written:
    """Remove an image from a character's FaceFusion gallery (the media file stays)."""
    gallery = await get_services(ctx).facefusion.faces.remove_gallery_item(character_id, category, url=url, age=age)
    await notify_changed(ctx, [character_facefusion_uri(character_id), character_uri(character_id)])
    changed = gallery.model_dump(mode="json", include={str(category)})
    return Written(id=character_id, uri=character_facefusion_uri(character_id), changed=changed)


@tool(title="Get FaceFusion preferences", operation="read")
async def get_facefusion_preferences(character_id: CharacterId, ctx: Context) -> FacePreferences:
    """A character's preferred FaceFusion settings, its operations' defaults (the global defaults when unset)."""
    return await get_services(ctx).facefusion.faces.preferences(character_id)


@tool(title="Set FaceFusion preferences", operation="update", idempotent=True)
async def set_facefusion_preferences(
    character_id: CharacterId,
    settings: Annotated[
        dict[str, Any],
        Field(description="Only the settings to change (get_facefusion_preferences lists them; null resets one), "
                          "e.g. {\"face_enhancer_blend\": 0.8, \"face_age\": 30}."),
    ],
    ctx: Context,
) -> Written:
    """Change some of a character's preferred FaceFusion settings; the others stay."""
    stored = await get_services(ctx).facefusion.faces.set_preferences(character_id, settings)
    await notify_changed(ctx, [character_facefusion_uri(character_id), character_uri(character_id)])
    values = stored.settings.model_dump(mode="json")
    return Written(id=character_id, uri=character_facefusion_uri(character_id),
                   changed={k: values.get(k) for k in settings})
