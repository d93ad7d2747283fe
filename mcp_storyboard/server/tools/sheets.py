"""Contact sheets: a page of a storyboard's frames as a PNG in the media store."""

from __future__ import annotations

import base64
from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.types import ImageContent
from pydantic import Field, PrivateAttr

from mcp_storyboard.models.common import StoryboardModel
from mcp_storyboard.models.values import NOT_BOOL
from mcp_storyboard.server.registry import ToolRegistry, get_services
from mcp_storyboard.server.taxonomy import Toolset
from mcp_storyboard.server.tools._args import Id, ProjectId
from mcp_storyboard.services.sheets import SheetOptions, StoredSheet
from mcp_storyboard.services.sheets.layout import COLUMNS, MAX_SHEET_WIDTH, THUMBNAIL_WIDTHS

TOOLSET: Toolset = "storyboard"
tool = ToolRegistry(TOOLSET)


class ContactSheet(StoryboardModel):
    """A stored contact-sheet page."""

    id: str
    """The PNG's media id."""
    uri: str
    """``storyboard://media/{id}``."""
    page: int
    pages: int
    clips: int
    """Clips on this page."""
    clips_total: int
    width: int
    height: int
    preview: bool
    """Whether a small JPEG preview of the page came with the result."""
    _preview: bytes | None = PrivateAttr(default=None)

    @classmethod
    def of(cls, stored: StoredSheet) -> ContactSheet:
        page = stored.page
        sheet = cls(
            id=stored.media.id, uri=stored.media.uri, page=page.page, pages=page.pages, clips=len(page.cells),
            clips_total=page.clips_total, width=page.width, height=page.height, preview=page.preview_jpeg is not None,
        )  # fmt: skip
        sheet._preview = page.preview_jpeg
        return sheet

    def resource_links(self) -> list[tuple[str, str]]:
        return [(self.uri, f"contact-sheet-p{self.page}.png")]

    def image_blocks(self) -> list[ImageContent]:
        if self._preview is None:
            return []
        return [ImageContent(type="image", data=base64.b64encode(self._preview).decode(), mime_type="image/jpeg")]


@tool(title="Render a contact sheet", operation="create")
async def render_contact_sheet(
    project_id: ProjectId,
    ctx: Context,
    scene_id: Annotated[Id | None, Field(description="Only this scene and its sub-scenes.")] = None,
    columns: Annotated[int, Field(ge=COLUMNS[0], le=COLUMNS[1]), NOT_BOOL] = 4,
    thumbnail_width: Annotated[
        int, Field(ge=THUMBNAIL_WIDTHS[0], le=THUMBNAIL_WIDTHS[1],
                   description=f"Pixels; columns × width at most {MAX_SHEET_WIDTH}."), NOT_BOOL
    ] = 320,
    captions: Annotated[bool, Field(strict=True, description="Name, timecode, length, character.")] = True,
    page: Annotated[int, Field(ge=1, le=10_000), NOT_BOOL] = 1,
) -> ContactSheet:
    """A PNG page of the main clips' selected images (a card with the prompt where there is none; external URLs
    are not fetched) under scene headings, 6 rows a page, stored in the media store. Returns its
    resource link, page count and a small preview image."""
    options = SheetOptions(columns=columns, thumbnail_width=thumbnail_width, captions=captions, page=page)
    return ContactSheet.of(await get_services(ctx).sheets.store(project_id, options, scene_id))
