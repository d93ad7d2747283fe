"""A result that shows images (a contact sheet's preview): the images follow the structured content and its resource
links as image blocks, and their base64 counts towards the 256 KB result limit."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, ImageContent, ResourceLink, TextContent
from pydantic import PrivateAttr

from mcp_storyboard.models.common import StoryboardModel
from mcp_storyboard.server.errors import RESULT_LIMIT_BYTES, guard
from mcp_storyboard.server.registry import ToolRegistry

tool = ToolRegistry("storyboard")


class Picture(StoryboardModel):
    uri: str
    _data: str = PrivateAttr(default="")

    def resource_links(self) -> list[tuple[str, str]]:
        return [(self.uri, "picture.png")]

    def image_blocks(self) -> list[ImageContent]:
        return [ImageContent(type="image", data=self._data, mime_type="image/jpeg")]


@tool(title="Show a picture", operation="read")
async def show_picture(size: int, ctx: Context) -> Picture:
    """A picture of ``size`` base64 bytes."""
    picture = Picture(uri="storyboard://media/p1")
    picture._data = "A" * size
    return picture


async def call(size: int) -> Any:
    spec = next(iter(tool))
    return await guard(spec)(size=size, ctx=None)


async def test_images_follow_the_text_and_the_links() -> None:
    result = await call(1000)
    assert isinstance(result, CallToolResult) and not result.is_error
    assert [type(b) for b in result.content] == [TextContent, ResourceLink, ImageContent]
    assert result.content[2].data == "A" * 1000  # type: ignore[union-attr]
    assert result.structured_content == {"uri": "storyboard://media/p1"}


async def test_an_image_that_takes_the_result_over_the_limit_is_refused() -> None:
    result = await call(RESULT_LIMIT_BYTES)
    assert result.is_error
    assert result.content[0].text.startswith("[too-large] the result of show_picture is ")  # type: ignore[union-attr]
