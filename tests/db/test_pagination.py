from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mcp_storyboard.db.connection import Database
from mcp_storyboard.db.pagination import (
    ANY_SCALAR,
    MAX_PAGE_SIZE,
    clamp_limit,
    cursor_key,
    decode_cursor,
    encode_cursor,
    fetch_page,
    sort_value_types,
)
from mcp_storyboard.errors import ValidationError
from mcp_storyboard.models.catalog import CivitAIModel
from mcp_storyboard.models.clips import Clip
from mcp_storyboard.models.projects import Project

BASE = datetime(2026, 1, 1, tzinfo=UTC)
SORT = (("created_at", -1), ("id", 1))
KEY = cursor_key("things", {}, SORT)
TYPES = sort_value_types(Project, SORT)


def raw_cursor(payload: Any) -> str:
    """A cursor with any payload at all, as a forger would build it (the hash is public: no secret)."""
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def test_cursor_round_trips_datetimes_and_strings() -> None:
    decoded = decode_cursor(encode_cursor([BASE, "abc"], key=KEY), key=KEY, value_types=TYPES)
    assert decoded[1] == "abc"
    assert decoded[0].replace(tzinfo=UTC) == BASE


def test_sort_value_types_follow_the_model_fields() -> None:
    assert sort_value_types(Project, SORT) == ((datetime,), (str,))
    assert sort_value_types(Clip, (("scene_id", 1), ("order", 1), ("timeline_position", 1))) == (
        (str,), (int, float), (int, float))
    assert sort_value_types(CivitAIModel, (("type", 1), ("nsfw", 1), ("id", 1))) == ((str,), (bool,), (int, float))
    assert sort_value_types(Project, (("uploadDate", -1),)) == (ANY_SCALAR,)


FORGED = {
    "operators in the values": raw_cursor({"k": KEY, "v": [{"$ne": None}, {"$ne": None}]}),
    "a regex in the values": raw_cursor({"k": KEY, "v": [{"$date": 0}, {"$regex": "(a+)+$"}]}),
    "a regex object": encode_cursor([BASE, {"$regex": "^a"}], key=KEY),
    "a list value": raw_cursor({"k": KEY, "v": [{"$date": 0}, ["a"]]}),
    "a boolean in a string field": raw_cursor({"k": KEY, "v": [{"$date": 0}, True]}),
    "a number in a date field": raw_cursor({"k": KEY, "v": [5, "abc"]}),
    "a string in a date field": raw_cursor({"k": KEY, "v": ["2026-01-01", "abc"]}),
    "too few values": encode_cursor([BASE], key=KEY),
    "too many values": encode_cursor([BASE, "a", "b"], key=KEY),
    "another query's key": encode_cursor([BASE, "abc"], key=cursor_key("things", {"project_id": "P2"}, SORT)),
    "another collection's key": encode_cursor([BASE, "abc"], key=cursor_key("others", {}, SORT)),
    "no key (the old format)": raw_cursor([{"$date": 0}, "abc"]),
    "an extra entry": raw_cursor({"k": KEY, "v": [{"$date": 0}, "abc"], "$where": "1"}),
    "truncated": encode_cursor([BASE, "abc"], key=KEY)[:-7],
    "not base64": "not-base64!",
    "base64 of not JSON": base64.urlsafe_b64encode(b"\xff\xfe{").decode(),
    "a JSON string": raw_cursor("abc"),
}


@pytest.mark.parametrize("forged", FORGED.values(), ids=FORGED.keys())
def test_a_forged_cursor_is_refused_naming_the_field_and_the_first_page(forged: str) -> None:
    with pytest.raises(ValidationError) as refused:
        decode_cursor(forged, key=KEY, value_types=TYPES)
    assert refused.value.field == "cursor"
    assert str(refused.value).endswith("Omit it to start from the first page")


def test_a_boolean_is_a_cursor_value_only_of_a_boolean_field() -> None:
    sort = (("type", 1), ("nsfw", 1), ("id", 1))
    types = sort_value_types(CivitAIModel, sort)
    assert decode_cursor(encode_cursor(["LORA", True, 7], key=KEY), key=KEY, value_types=types) == ["LORA", True, 7]
    with pytest.raises(ValidationError):
        decode_cursor(encode_cursor(["LORA", True, True], key=KEY), key=KEY, value_types=types)


def test_missing_sort_values_are_null_and_allowed() -> None:
    assert decode_cursor(encode_cursor([None, "abc"], key=KEY), key=KEY, value_types=TYPES) == [None, "abc"]


def test_page_size_is_capped() -> None:
    assert clamp_limit(None) == 50
    assert clamp_limit(10_000) == MAX_PAGE_SIZE
    assert clamp_limit(0) == 1


async def test_pages_walk_every_document_once_in_order_with_ties(database: Database) -> None:
    docs = [{"id": f"{i:03d}", "created_at": BASE + timedelta(minutes=i // 3)} for i in range(23)]
    await database.collection("things").insert_many([dict(d) for d in docs])
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        items, cursor = await fetch_page(database.collection("things"), {}, SORT, limit=5, cursor=cursor,
                                         value_types=TYPES)
        seen += [d["id"] for d in items]
        pages += 1
        if cursor is None:
            break
    expected = [d["id"] for d in sorted(docs, key=lambda d: (-d["created_at"].timestamp(), d["id"]))]
    assert seen == expected
    assert pages == 5


async def test_a_cursor_is_bound_to_its_filter_and_collection(database: Database) -> None:
    things = database.collection("things")
    await things.insert_many([{"id": f"{i:02d}", "group": i % 2, "created_at": BASE} for i in range(6)])
    _, cursor = await fetch_page(things, {"group": 0}, SORT, limit=1, cursor=None, value_types=TYPES)
    assert cursor is not None
    items, _ = await fetch_page(things, {"group": 0}, SORT, limit=5, cursor=cursor, value_types=TYPES)
    assert [d["id"] for d in items] == ["02", "04"]
    for query, collection in (({"group": 1}, things), ({}, things), ({"group": 0}, database.collection("others"))):
        with pytest.raises(ValidationError, match="another list or query"):
            await fetch_page(collection, query, SORT, limit=5, cursor=cursor, value_types=TYPES)


async def test_operators_in_a_cursor_never_reach_the_query(database: Database) -> None:
    # Before the check, {"$ne": null} in both slots made the keyset filter match every document again.
    things = database.collection("things")
    await things.insert_many([{"id": f"{i:02d}", "created_at": BASE} for i in range(3)])
    forged = raw_cursor({"k": cursor_key(things.name, {}, SORT), "v": [{"$ne": None}, {"$ne": None}]})
    with pytest.raises(ValidationError, match="cursor"):
        await fetch_page(things, {}, SORT, limit=5, cursor=forged, value_types=TYPES)
    with pytest.raises(ValidationError, match="cursor"):
        await fetch_page(things, {}, SORT, limit=5, cursor=forged)
