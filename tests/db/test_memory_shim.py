"""The driver calls whose answers differ on mongomock, run unchanged on every backend: memory:// answers through
its shim (db/memory.py) exactly as MongoDB and the embedded server do, so the repositories need no memory branch."""

from __future__ import annotations

import pytest
from pymongo import ReturnDocument, UpdateOne
from pymongo.errors import DuplicateKeyError

from mcp_storyboard.db.connection import Database
from mcp_storyboard.db.memory import MemoryCollection, MemoryDatabase


async def test_only_memory_goes_through_the_shim(database: Database) -> None:
    shimmed = database.backend == "memory"
    assert isinstance(database.db, MemoryDatabase) is shimmed
    assert isinstance(database.collection("things"), MemoryCollection) is shimmed


async def test_an_update_that_unmatches_its_own_filter_returns_the_changed_document(database: Database) -> None:
    things = database.collection("things")
    await things.insert_one({"id": "a", "status": "queued", "tags": [{"id": "t1"}, {"id": "t2"}]})

    claimed = await things.find_one_and_update(
        {"id": "a", "status": "queued"}, {"$set": {"status": "processing"}},
        projection={"_id": 0}, return_document=ReturnDocument.AFTER,
    )  # fmt: skip
    pulled = await things.find_one_and_update(
        {"id": "a", "tags.id": "t1"}, {"$pull": {"tags": {"id": "t1"}}},
        projection={"_id": 0}, return_document=ReturnDocument.AFTER,
    )  # fmt: skip
    before = await things.find_one_and_update(
        {"id": "a", "status": "processing"}, {"$set": {"status": "done"}}, projection={"_id": 0}
    )

    assert claimed == {"id": "a", "status": "processing", "tags": [{"id": "t1"}, {"id": "t2"}]}
    assert pulled == {"id": "a", "status": "processing", "tags": [{"id": "t2"}]}
    assert before == pulled  # BEFORE still answers with the document as it was
    missing = await things.find_one_and_update(
        {"id": "a", "status": "queued"}, {"$set": {"status": "x"}}, return_document=ReturnDocument.AFTER
    )
    assert missing is None
    assert await things.find_one({"id": "a"}, {"_id": 0, "status": 1}) == {"status": "done"}


@pytest.mark.parametrize("call", ["find_one_and_update", "update_one"])
async def test_a_unique_violation_by_an_update_names_the_index_another_document_holds(
    database: Database, call: str
) -> None:
    things = database.collection("things")
    await things.create_index([("id", 1)], unique=True, name="id_unique")
    await things.create_index([("scope", 1), ("name", 1)], unique=True, name="scope_name_unique")
    await things.insert_many([{"id": "a", "scope": "p", "name": "Intro"}, {"id": "b", "scope": "p", "name": "Outro"}])

    with pytest.raises(DuplicateKeyError) as caught:
        await getattr(things, call)({"id": "b"}, {"$set": {"name": "Intro"}})

    details = caught.value.details or {}
    assert details["keyPattern"] == {"scope": 1, "name": 1}
    assert details["keyValue"] == {"scope": "p", "name": "Intro"}
    assert await things.find_one({"id": "b"}, {"_id": 0, "name": 1}) == {"name": "Outro"}  # nothing written


async def test_bulk_write_runs_the_drivers_update_requests(database: Database) -> None:
    things = database.collection("things")
    await things.insert_many([{"id": "a", "order": 5}, {"id": "b", "order": 7}])

    result = await things.bulk_write(
        [UpdateOne({"id": "a"}, {"$set": {"order": 0}}), UpdateOne({"id": "b"}, {"$set": {"order": 7}}),
         UpdateOne({"id": "c"}, {"$set": {"order": 2}})],
        ordered=True,
    )  # fmt: skip

    assert (result.matched_count, result.modified_count) == (2, 1)
    orders = await things.find({}, {"_id": 0}).sort("id", 1).to_list(None)
    assert orders == [{"id": "a", "order": 0}, {"id": "b", "order": 7}]
