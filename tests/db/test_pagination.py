from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mcp_storyboard.db.connection import Database
from mcp_storyboard.db.pagination import MAX_PAGE_SIZE, clamp_limit, decode_cursor, encode_cursor, fetch_page
from mcp_storyboard.errors import ValidationError

BASE = datetime(2026, 1, 1, tzinfo=UTC)


def test_cursor_round_trips_datetimes_and_strings() -> None:
    values = [BASE, "abc", 3]
    decoded = decode_cursor(encode_cursor(values), 3)
    assert decoded[1:] == ["abc", 3]
    assert decoded[0].replace(tzinfo=UTC) == BASE


@pytest.mark.parametrize("bad", ["", "not-base64!", encode_cursor([1, 2])])
def test_a_foreign_cursor_is_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(ValidationError, match="cursor"):
        decode_cursor(bad or "x", 3)


def test_page_size_is_capped() -> None:
    assert clamp_limit(None) == 50
    assert clamp_limit(10_000) == MAX_PAGE_SIZE
    assert clamp_limit(0) == 1


async def test_pages_walk_every_document_once_in_order_with_ties(database: Database) -> None:
    docs = [{"id": f"{i:03d}", "created_at": BASE + timedelta(minutes=i // 3)} for i in range(23)]
    await database.collection("things").insert_many([dict(d) for d in docs])
    sort = (("created_at", -1), ("id", 1))
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        items, cursor = await fetch_page(database.collection("things"), {}, sort, limit=5, cursor=cursor)
        seen += [d["id"] for d in items]
        pages += 1
        if cursor is None:
            break
    expected = [d["id"] for d in sorted(docs, key=lambda d: (-d["created_at"].timestamp(), d["id"]))]
    assert seen == expected
    assert pages == 5
