"""render_contact_sheet and the contact-sheet resource through a real MCP client (memory:// with a 2026-era client,
the embedded database and GridFS with a 2025-era client)."""

from __future__ import annotations

import base64
import io

import pytest
from mcp.shared.exceptions import MCPError
from mcp.types import ImageContent, ResourceLink
from PIL import Image

from mcp_storyboard.models.clips import Clip, GeneratedMedia
from mcp_storyboard.services.sheets.layout import ROWS_PER_PAGE
from mcp_storyboard.services.sheets.service import PREVIEW_MAX_BASE64
from tests.seed import seed_project, seed_scene
from tests.tools.conftest import ToolClient


def solid(colour: tuple[int, int, int], size: tuple[int, int] = (640, 360)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


async def storyboard(tools: ToolClient, clips: int = 3) -> str:
    services = tools.services
    pid = await seed_project(services, "Café Noir")
    scene = await seed_scene(services, pid, "Straße")
    for i in range(clips):
        info = await services.database.media.put(solid((40 * i, 120, 200)), content_type="image/png", project_id=pid)
        entry = GeneratedMedia(url=info.uri, media_id=info.id)
        await services.repositories.clips.insert(Clip(project_id=pid, scene_id=scene.id, name=f"Niño {i}",
                                                      timeline_position=i * 5.0, generated_images=[entry],
                                                      selected_image_id=entry.id))
    return pid


async def test_a_sheet_is_stored_and_returned_as_a_resource_link_with_a_preview(tools: ToolClient) -> None:
    pid = await storyboard(tools)
    result = await tools.client.call_tool("render_contact_sheet", {"project_id": pid, "columns": 2})
    assert not result.is_error, result.content
    sheet = result.structured_content
    assert sheet is not None
    media_id = sheet["id"]
    assert sheet == {"id": media_id, "uri": f"storyboard://media/{media_id}", "page": 1, "pages": 1, "clips": 3,
                     "clips_total": 3, "width": 2 * 24 + 2 * 320 + 16, "height": sheet["height"], "preview": True}
    links = [b for b in result.content if isinstance(b, ResourceLink)]
    assert [str(link.uri) for link in links] == [sheet["uri"]]
    images = [b for b in result.content if isinstance(b, ImageContent)]
    assert len(images) == 1 and images[0].mime_type == "image/jpeg"
    assert len(images[0].data) <= PREVIEW_MAX_BASE64
    with Image.open(io.BytesIO(base64.b64decode(images[0].data))) as preview:
        assert preview.format == "JPEG" and preview.width <= 1024

    read = await tools.client.read_resource(sheet["uri"])
    assert read.contents[0].mime_type == "image/png"
    with Image.open(io.BytesIO(base64.b64decode(read.contents[0].blob))) as stored:  # type: ignore[union-attr]
        assert (stored.format, stored.size) == ("PNG", (sheet["width"], sheet["height"]))
    listed = await tools.call("list_media", project_id=pid)
    assert media_id in [m["id"] for m in listed["items"]]


async def test_bad_options_are_refused_naming_the_field_and_write_nothing(tools: ToolClient) -> None:
    pid = await storyboard(tools, clips=1)
    cases = [
        ({"columns": 0}, "columns"),
        ({"columns": 11}, "columns"),
        ({"thumbnail_width": 50}, "thumbnail_width"),
        ({"columns": 8, "thumbnail_width": 1024}, "thumbnail_width"),
        ({"page": 2}, "page: is 2 but the sheet has 1 page"),
        ({"page": 0}, "page"),
        ({"captions": "yes"}, "captions"),
        ({"scene_id": pid}, f"[not-found] scene '{pid}'"),
        ({"project_id": "8b0e0a2c-8c1e-4a4e-9d7e-6f1a2b3c4d5e"}, "[not-found] project"),
    ]
    for change, expected in cases:
        text = await tools.refused("render_contact_sheet", **{"project_id": pid, **change})
        assert expected in text, (change, text)


async def test_the_resource_renders_page_one_on_read_and_writes_nothing(tools: ToolClient) -> None:
    pid = await storyboard(tools, clips=ROWS_PER_PAGE * 4 + 1)  # two pages at the default four columns
    before = await tools.snapshot()
    read = await tools.client.read_resource(f"storyboard://projects/{pid}/contact-sheet.png")
    assert read.contents[0].mime_type == "image/png"
    with Image.open(io.BytesIO(base64.b64decode(read.contents[0].blob))) as sheet:  # type: ignore[union-attr]
        assert sheet.format == "PNG" and sheet.width == 2 * 24 + 4 * 320 + 3 * 16
    assert await tools.snapshot() == before
    second = await tools.call("render_contact_sheet", project_id=pid, page=2)
    assert (second["page"], second["pages"], second["clips"], second["clips_total"]) == (2, 2, 1, 25)
    with pytest.raises(MCPError, match="not-found"):
        await tools.client.read_resource("storyboard://projects/8b0e0a2c-8c1e-4a4e-9d7e-6f1a2b3c4d5e/contact-sheet.png")


async def test_the_description_states_the_page_size(tools: ToolClient) -> None:
    listed = {t.name: t for t in (await tools.client.list_tools()).tools}
    assert f"{ROWS_PER_PAGE} rows a page" in (listed["render_contact_sheet"].description or "")
