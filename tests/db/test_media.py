from __future__ import annotations

import anyio
import pytest

from mcp_storyboard.db.connection import Database
from mcp_storyboard.db.media import media_uri, parse_media_uri
from mcp_storyboard.errors import NotFoundError, ValidationError


async def test_put_then_get_returns_the_bytes_type_and_metadata(database: Database) -> None:
    info = await database.media.put(b"\x89PNG data", content_type="image/png", filename="a.png", project_id="p1",
                                    metadata={"clip_id": "c1"})
    assert info.uri == f"storyboard://media/{info.id}"
    got, data = await database.media.get(info.id)
    assert data == b"\x89PNG data"
    assert (got.content_type, got.filename, got.size, got.project_id, got.metadata) == ("image/png", "a.png", 9, "p1", {"clip_id": "c1"})


async def test_list_pages_newest_first_and_filters_by_project(database: Database) -> None:
    ids = [(await database.media.put(bytes([i]), content_type="image/png", project_id="p1")).id for i in range(3)]
    await database.media.put(b"x", content_type="audio/mpeg", project_id="p2")
    first = await database.media.list(project_id="p1", limit=2)
    assert len(first.items) == 2 and first.next_cursor
    second = await database.media.list(project_id="p1", limit=2, cursor=first.next_cursor)
    assert {i.id for i in first.items + second.items} == set(ids)
    assert second.next_cursor is None


async def test_delete_removes_the_file_and_reports_unknown_ids(database: Database) -> None:
    info = await database.media.put(b"abc", content_type="text/plain")
    assert await database.media.delete(info.id) is True
    assert await database.media.delete(info.id) is False
    with pytest.raises(NotFoundError):
        await database.media.get(info.id)


async def test_delete_project_removes_only_that_projects_media(database: Database) -> None:
    await database.media.put(b"a", content_type="image/png", project_id="p1")
    keep = await database.media.put(b"b", content_type="image/png", project_id="p2")
    assert await database.media.delete_project("p1") == 1
    assert [i.id for i in (await database.media.list()).items] == [keep.id]


async def test_oversized_or_untyped_uploads_are_refused_and_store_nothing(database: Database) -> None:
    database.media.max_bytes = 4
    with pytest.raises(ValidationError, match="data: is 5 bytes, over the 4-byte limit"):
        await database.media.put(b"12345", content_type="image/png")
    with pytest.raises(ValidationError, match="content_type"):
        await database.media.put(b"1", content_type="not a type")
    assert (await database.media.list()).items == []


def test_media_uris_round_trip_and_foreign_uris_are_refused() -> None:
    assert parse_media_uri(media_uri("abc")) == "abc"
    with pytest.raises(ValidationError, match="uri"):
        parse_media_uri("https://example.com/a.png")


async def test_parallel_deletes_of_one_file_report_one_deletion_and_never_fail(database: Database) -> None:
    info = await database.media.put(b"abc", content_type="image/png")
    results: list[bool] = []

    async def delete() -> None:
        results.append(await database.media.delete(info.id))

    async with anyio.create_task_group() as tg:
        for _ in range(4):
            tg.start_soon(delete)
    assert sorted(results) == [False, False, False, True]
