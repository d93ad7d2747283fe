"""The indexes listed in docs/indexes.md (the schema's 35 and our additions) are exactly the ones the code declares
and exactly the ones a database reports back after init-db, with their keys and unique flags."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from mcp_storyboard.db.connection import Database
from mcp_storyboard.db.indexes import (
    ALL_INDEXES,
    COLLECTIONS,
    EXTRA_INDEXES,
    SCHEMA_INDEXES,
    IndexSpec,
    ensure_indexes,
    missing_indexes,
)

ROOT = Path(__file__).resolve().parents[2]
LISTING = ROOT / "docs" / "indexes.md"
# The schema document itself is not part of the project; where it is found, the listing is checked against it.
SCHEMA_DOC_VARIABLE = "STORYBOARD_DATABASE_SCHEMA"
SCHEMA_DOC_BESIDE = ROOT.parent / "shared" / "DATABASE_SCHEMA.md"

Key = tuple[tuple[str, int], ...]
Row = tuple[str, Key, bool]
_CREATE_INDEX = re.compile(r"^db\.(\w+)\.createIndex\(\{ (.+?) \}(?:, \{ unique: true \})?\)$")


def _keys(text: str) -> Key:
    """``project_id: 1, order: 1`` -> (("project_id", 1), ("order", 1))."""
    return tuple((field.strip(), int(direction)) for field, direction in (part.split(":") for part in text.split(",")))


def documented(section: str) -> list[tuple[Row, str]]:
    """The rows of one table of docs/indexes.md (``section`` is its heading): (collection, keys, unique), why."""
    text = LISTING.read_text()
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in body.splitlines():
        cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("collection", "---"):
            continue
        collection, keys, options, why = cells
        assert options in ("", "unique"), f"unknown option {options!r} in: {line}"
        rows.append(((collection, _keys(keys), options == "unique"), why))
    return rows


def schema_rows() -> list[Row]:
    return [row for row, _ in documented("The schema's indexes")]


def addition_rows() -> list[Row]:
    return [row for row, _ in documented("Additions")]


def _declared(specs: tuple[IndexSpec, ...]) -> list[Row]:
    return [(spec.collection, spec.keys, spec.unique) for spec in specs]


def test_the_listing_holds_the_schemas_35_indexes_and_the_code_declares_exactly_them() -> None:
    rows = schema_rows()
    assert len(rows) == 35 and len(set(rows)) == 35
    assert sorted(_declared(SCHEMA_INDEXES)) == sorted(rows)


def test_the_listing_holds_every_addition_the_code_declares_and_no_other() -> None:
    assert sorted(_declared(EXTRA_INDEXES)) == sorted(addition_rows())


def test_every_added_index_says_why_in_the_code_and_in_the_listing() -> None:
    assert all(spec.why for spec in EXTRA_INDEXES)
    assert all(why for _, why in documented("Additions"))


def _schema_document() -> Path:
    candidates = [Path(os.environ[SCHEMA_DOC_VARIABLE])] if os.environ.get(SCHEMA_DOC_VARIABLE) else []
    for candidate in [*candidates, SCHEMA_DOC_BESIDE]:
        if candidate.is_file():
            return candidate
    pytest.skip(f"DATABASE_SCHEMA.md is not beside the project ({SCHEMA_DOC_BESIDE}) and ${SCHEMA_DOC_VARIABLE} is unset")


def test_the_listing_matches_the_schema_documents_own_listing_where_it_is_found() -> None:
    text = _schema_document().read_text()
    listing = text.split("### Complete Index Listing", 1)[1].split("## Migration Notes", 1)[0]
    found = [
        (match.group(1), _keys(match.group(2)), "unique: true" in line)
        for line in listing.splitlines()
        if (match := _CREATE_INDEX.match(line.strip()))
    ]
    assert sorted(found) == sorted(schema_rows())


async def test_init_db_leaves_exactly_the_listed_indexes_with_their_keys_and_unique_flags(database: Database) -> None:
    created = await ensure_indexes(database)
    assert len(created) == len(ALL_INDEXES)
    expected = sorted(schema_rows() + addition_rows())
    reported = []
    for collection in COLLECTIONS:
        for index in await database.list_indexes(collection):
            if index["name"] != "_id_":
                keys = tuple((str(k), int(v)) for k, v in dict(index["key"]).items())
                reported.append((collection, keys, bool(index.get("unique", False))))
    assert sorted(reported) == expected


async def test_init_db_is_idempotent(database: Database) -> None:
    await ensure_indexes(database)
    assert await ensure_indexes(database) == []
    assert await missing_indexes(database) == []
