"""0005: store ``keywords`` on catalog models written before search existed (``search_models`` reads only them).

Each model without keywords gets them, and each text field's words, from its text fields (``models/catalog_search.py``). The write is
conditional on the model still having none, so a concurrent write that already set them is never overwritten.
"""

from __future__ import annotations

from collections.abc import Callable

from pymongo import UpdateOne

from mcp_storyboard.db.connection import Database
from mcp_storyboard.models.catalog_search import keyword_fields, keywords

VERSION = 5
NAME = "database_model_keywords"
COLLECTION = "database_models"
BATCH = 500
Report = Callable[[str], None]


async def apply(database: Database, *, dry_run: bool, report: Report) -> int:
    """Return how many models get (dry run) or got keywords."""
    target = database.collection(COLLECTION)
    missing = {"keywords": {"$exists": False}}
    if dry_run:
        return int(await target.count_documents(missing))
    projection = {"_id": 0, "id": 1, "name": 1, "tags": 1, "trigger_words": 1, "description": 1}
    changed = 0
    batch: list[UpdateOne] = []
    async for raw in target.find(missing, projection):
        if "id" not in raw:
            continue
        batch.append(UpdateOne({"id": raw["id"], **missing},
                               {"$set": {**keyword_fields(raw), "keywords": keywords(raw)}}))
        if len(batch) >= BATCH:
            changed += await _write(database, batch)
            batch = []
    return changed + await _write(database, batch)


async def _write(database: Database, batch: list[UpdateOne]) -> int:
    if not batch:
        return 0
    result = await database.collection(COLLECTION).bulk_write(batch, ordered=False)
    return int(result.modified_count)
