"""All 35 schema indexes exist with the right keys and unique flags after init-db, read back from the server."""

from __future__ import annotations

import re
from pathlib import Path

from mcp_storyboard.db.connection import Database
from mcp_storyboard.db.indexes import ALL_INDEXES, EXTRA_INDEXES, ensure_indexes, missing_indexes

SCHEMA = Path(__file__).resolve().parents[3] / "shared" / "DATABASE_SCHEMA.md"
_LINE = re.compile(r"^db\.(\w+)\.createIndex\(\{ (.+?) \}(?:, \{ unique: true \})?\)$")


def schema_listing() -> list[tuple[str, tuple[tuple[str, int], ...], bool]]:
    """The "Complete Index Listing" of DATABASE_SCHEMA.md, parsed."""
    text = SCHEMA.read_text()
    listing = text.split("### Complete Index Listing", 1)[1].split("## Migration Notes", 1)[0]
    specs = []
    for line in listing.splitlines():
        match = _LINE.match(line.strip())
        if match:
            keys = tuple((k.strip(), int(v)) for k, v in (part.split(":") for part in match.group(2).split(",")))
            specs.append((match.group(1), keys, "unique: true" in line))
    return specs


def test_the_schema_lists_35_indexes_and_we_declare_each_of_them() -> None:
    listing = schema_listing()
    assert len(listing) == 35
    declared = {(s.collection, s.keys, s.unique) for s in ALL_INDEXES}
    assert set(listing) <= declared


def test_every_added_index_says_why() -> None:
    assert all(spec.why for spec in EXTRA_INDEXES)


async def test_init_db_creates_every_schema_index_with_keys_and_unique_flags(database: Database) -> None:
    created = await ensure_indexes(database)
    assert len(created) == len(ALL_INDEXES)
    for collection, keys, unique in schema_listing():
        found = [ix for ix in await database.list_indexes(collection) if tuple(dict(ix["key"]).items()) == keys]
        assert found, f"{collection} has no index on {keys}"
        assert bool(found[0].get("unique", False)) is unique, f"{collection} {keys} unique flag"


async def test_init_db_is_idempotent(database: Database) -> None:
    await ensure_indexes(database)
    assert await ensure_indexes(database) == []
    assert await missing_indexes(database) == []
