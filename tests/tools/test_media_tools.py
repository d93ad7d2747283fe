"""The media tools through a real MCP client (memory:// with a 2026-era client, the embedded database and GridFS
with a 2025-era client): files in, listed, read back as blobs, used in a gallery, deleted with their references."""

from __future__ import annotations

import base64

import anyio
import httpx2

from mcp_storyboard.integrations.media_fetch import MediaFetcher
from mcp_storyboard.server.resources import MEDIA_BLOB_MAX_BYTES
from tests.media_samples import JPEG, MP3, SVG, b64, png
from tests.seed import seed_clip, seed_project
from tests.tools.conftest import ToolClient

IMAGE = png()


async def test_an_uploaded_file_is_listed_read_back_used_in_a_gallery_and_deleted_with_its_references(
    tools: ToolClient,
) -> None:
    pid = await seed_project(tools.services)
    stored = await tools.call("upload_media", project_id=pid, filename="hero.png", mime_type="image/png",
                              content_base64=b64(IMAGE))
    media_id = stored["id"]
    assert stored == {"id": media_id, "uri": f"storyboard://media/{media_id}", "filename": "hero.png",
                      "mime_type": "image/png", "size": len(IMAGE), "project_id": pid,
                      "created_at": stored["created_at"]}
    assert [m["id"] for m in (await tools.call("list_media", project_id=pid))["items"]] == [media_id]

    read = await tools.client.read_resource(stored["uri"])
    assert read.contents[0].mime_type == "image/png"
    assert base64.b64decode(read.contents[0].blob) == IMAGE  # type: ignore[union-attr]

    shot = await seed_clip(tools.services, pid, "Shot")
    await tools.call("add_clip_media", clip_id=shot.id, kind="image", media_id=media_id)
    gallery = await tools.call("get_clip", clip_id=shot.id)
    images = gallery["generated_images"]
    assert images[0]["url"] == stored["uri"] and gallery["selected_image_id"] == images[0]["id"]

    refused = await tools.refused("delete_media", media_id=media_id)
    assert refused.startswith("[confirmation-required] delete_media") and "confirm: true" in refused
    deletion = await tools.call("delete_media", media_id=media_id, confirm=True)
    assert deletion["cleared"] == {"clips": 1, "characters": 0, "projects": 0}
    assert (await tools.call("get_clip", clip_id=shot.id))["generated_images"] == []
    assert (await tools.call("list_media", project_id=pid))["items"] == []


async def test_bad_uploads_are_refused_naming_the_field_and_write_nothing(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    good = {"project_id": pid, "filename": "a.png", "mime_type": "image/png", "content_base64": b64(IMAGE)}
    cases = [
        ({"content_base64": "%%% not base64"}, "[invalid-argument] content_base64: is not valid base64"),
        ({"mime_type": "image/jpeg"},
         "[invalid-argument] mime_type: 'image/jpeg' does not match the content, which is image/png"),
        ({"mime_type": "image/svg+xml", "content_base64": b64(SVG)}, "SVG can carry scripts"),
        ({"mime_type": "application/pdf"}, "Allowed: image/*, video/* or audio/*"),
        ({"project_id": "ghost"}, "[not-found] project 'ghost' does not exist"),
        ({"project_id": {"$ne": None}}, "[invalid-argument] project_id"),
        ({"filename": "../../etc/passwd"}, "[invalid-argument] filename"),
        ({"content_base64": b64(JPEG + b"\x00" * 200)}, "over the 100-byte upload limit"),
    ]
    tools.services.database.media.max_bytes = 100  # the store's own limit caps uploads too
    for change, fragment in cases:
        text = await tools.refused("upload_media", **{**good, **change})
        assert fragment in text, f"{change}: {text}"


async def test_import_fetches_a_public_url_and_refuses_private_addresses(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)

    def cdn(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "audio/mpeg"}, content=MP3)

    async def dns(host: str, port: int) -> list[str]:
        return {"cdn.example": ["93.184.216.34"], "intranet.example": ["10.0.0.5"]}.get(host, [])

    tools.services.media.fetcher = MediaFetcher(transport=httpx2.MockTransport(cdn), resolve=dns)
    song = await tools.call("import_media", project_id=pid, url="https://cdn.example/music/theme.mp3")
    assert (song["filename"], song["mime_type"], song["size"]) == ("theme.mp3", "audio/mpeg", len(MP3))
    renamed = await tools.call("import_media", project_id=pid, url="https://cdn.example/x", filename="Theme.mp3")
    assert renamed["filename"] == "Theme.mp3"
    for url, fragment in [
        ("http://127.0.0.1:8080/a.png", "url: 127.0.0.1 is a loopback address"),
        ("https://intranet.example/a.png", "url: intranet.example (10.0.0.5) is a private address"),
        ("ftp://cdn.example/a.mp3", "url: the URL is not an http(s) URL"),
    ]:
        text = await tools.refused("import_media", project_id=pid, url=url)
        assert text.startswith("[invalid-argument] ") and fragment in text, text
        assert "STORYBOARD_MEDIA_ALLOW_PRIVATE" in text or "http(s)" in text


async def test_list_media_pages_newest_first_and_filters_by_project(tools: ToolClient) -> None:
    one, two = await seed_project(tools.services, "One"), await seed_project(tools.services, "Two")
    ids = [(await tools.call("upload_media", project_id=one, filename=f"{i}.png", mime_type="image/png",
                             content_base64=b64(png(i + 1))))["id"] for i in range(3)]  # fmt: skip
    await tools.call("upload_media", project_id=two, filename="x.png", mime_type="image/png", content_base64=b64(IMAGE))
    first = await tools.call("list_media", project_id=one, limit=2)
    second = await tools.call("list_media", project_id=one, limit=2, cursor=first["next_cursor"])
    assert [m["id"] for m in first["items"] + second["items"]] == ids[::-1] and second["next_cursor"] is None
    assert len((await tools.call("list_media"))["items"]) == 4


async def test_a_file_over_the_blob_cap_reads_as_its_size_and_a_hint(tools: ToolClient) -> None:
    big = await tools.services.database.media.put(b"\x00" * (MEDIA_BLOB_MAX_BYTES + 1), content_type="video/mp4")
    read = await tools.client.read_resource(f"storyboard://media/{big.id}")
    content = read.contents[0]
    assert content.mime_type == "text/plain"
    assert content.text.startswith(  # type: ignore[union-attr]
        f"storyboard://media/{big.id} is video/mp4, {MEDIA_BLOB_MAX_BYTES + 1} bytes: over the "
        f"{MEDIA_BLOB_MAX_BYTES}-byte limit"
    )
    assert "add_clip_media" in content.text  # type: ignore[union-attr]


async def test_parallel_uploads_each_return_what_was_stored(tools: ToolClient) -> None:
    pid = await seed_project(tools.services)
    files = {f"{i}.png": png(i + 1) for i in range(4)}
    results: dict[str, dict[str, object]] = {}

    async def upload(name: str) -> None:
        results[name] = await tools.call("upload_media", project_id=pid, filename=name, mime_type="image/png",
                                         content_base64=b64(files[name]))

    async with anyio.create_task_group() as tg:
        for name in files:
            tg.start_soon(upload, name)
    for name, result in results.items():
        info, data = await tools.services.database.media.get(str(result["id"]))
        assert (data, info.filename, result["size"]) == (files[name], name, len(files[name]))
    assert len((await tools.call("list_media", project_id=pid))["items"]) == 4
